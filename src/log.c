/*
 * log.c — leveled, redacted logging to a file.
 *
 * One mutex serializes writers so lines from the engine's threads never
 * interleave.  Redaction happens on the formatted line, not on arguments,
 * because the risky case is a body or header quoted whole into a message.
 */
#include "src/log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_fp;
static int log_owned;
static enum log_level log_min = LOG_INFO;

static const char *const level_names[] = { "DEBUG", "INFO", "WARN", "ERROR", "OFF" };

int
log_open(const char *path, enum log_level min)
{
	FILE *f;
	int fd;

	if (path == NULL || strcmp(path, "-") == 0) {
		log_set_stream(stderr, min);
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "a");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	pthread_mutex_lock(&log_lock);
	if (log_fp != NULL && log_owned)
		fclose(log_fp);
	log_fp = f;
	log_owned = 1;
	log_min = min;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void
log_set_stream(FILE *f, enum log_level min)
{
	pthread_mutex_lock(&log_lock);
	if (log_fp != NULL && log_owned)
		fclose(log_fp);
	log_fp = f;
	log_owned = 0;
	log_min = min;
	pthread_mutex_unlock(&log_lock);
}

void
log_set_level(enum log_level min)
{
	pthread_mutex_lock(&log_lock);
	log_min = min;
	pthread_mutex_unlock(&log_lock);
}

enum log_level
log_get_level(void)
{
	return log_min;
}

int
log_level_parse(const char *s)
{
	static const char *const names[] = { "debug", "info", "warn", "error", "off" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (s != NULL && strcasecmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

void
log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_fp != NULL && log_owned)
		fclose(log_fp);
	log_fp = NULL;
	log_owned = 0;
	pthread_mutex_unlock(&log_lock);
}

/* Names whose values are secrets wherever they appear: OAuth form fields,
 * Entra and `az account get-access-token` JSON (camelCase), kubeconfig and
 * ExecCredential members, and SAS query parameters. */
static const char *const secret_keys[] = {
	"client_secret", "client_assertion", "access_token", "refresh_token",
	"id_token", "password", "secret", "token", "sig", "assertion",
	"subject_token", "x-ms-client-secret", "accessToken", "refreshToken",
	"idToken", "clientSecret", "clientAssertion", "client-key-data",
	"clientKeyData", "subjectToken",
};

static int
is_key_char(int c)
{
	return isalnum(c) || c == '_' || c == '-';
}

/* Replaces the value that starts at V with "***" (shorter values with as
 * many stars as they had characters, so the buffer never grows).  QUOTE is
 * the closing quote character of a quoted value, or 0 for a bare one, which
 * ends at a delimiter.  Returns where scanning should go on. */
static char *
mask_value(char *v, int quote)
{
	char *end = v;
	size_t vlen, mlen;

	if (quote != 0) {
		while (*end != '\0' && *end != quote) {
			if (*end == '\\' && end[1] != '\0')
				end++;
			end++;
		}
	} else {
		while (*end != '\0' && *end != '&' && *end != ' ' && *end != ','
		    && *end != '"' && *end != '\'' && *end != '\n' && *end != ';'
		    && *end != '\t' && *end != '}')
			end++;
	}
	vlen = (size_t)(end - v);
	if (vlen == 0 || (vlen <= 3 && strspn(v, "*") >= vlen))
		return end;
	mlen = vlen < 3 ? vlen : 3;
	memset(v, '*', mlen);
	memmove(v + mlen, end, strlen(end) + 1);
	return v + mlen;
}

/* Masks a value that may be quoted with " or '. */
static char *
mask_any(char *p)
{
	if (*p == '"' || *p == '\'')
		return mask_value(p + 1, *p);
	return mask_value(p, 0);
}

static void
mask_pem_keys(char *buf)
{
	char *p = buf;

	/* "-----BEGIN [RSA |EC |ENCRYPTED ]PRIVATE KEY-----" ... "-----END" */
	while ((p = strstr(p, "PRIVATE KEY-----")) != NULL) {
		char *body = p + 16, *end = strstr(body, "-----END");

		if (end == NULL)
			end = body + strlen(body);
		if (end - body > 3) {
			memcpy(body, "***", 3);
			memmove(body + 3, end, strlen(end) + 1);
		}
		p = body + 3;
	}
}

char *
log_redact(char *buf)
{
	char *p;

	if (buf == NULL)
		return NULL;
	mask_pem_keys(buf);
	/* "Bearer xyz" anywhere, whatever the whitespace after the scheme. */
	for (p = buf; (p = strcasestr(p, "bearer")) != NULL;) {
		p += 6;
		if (*p != ' ' && *p != '\t')
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		p = mask_value(p, 0);
	}
	/* "Authorization: SCHEME credentials" for any scheme (Basic,
	 * Negotiate, SharedKey, ...): the credentials go, the scheme stays. */
	for (p = buf; (p = strcasestr(p, "authorization")) != NULL;) {
		p += 13;
		if (*p == '"' || *p == '\'')
			p++;
		while (*p == ':' || *p == ' ' || *p == '=')
			p++;
		if (*p == '"' || *p == '\'') {
			p = mask_any(p);
			continue;
		}
		char *word = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		if (*p == ' ' || *p == '\t') {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != '\0' && *p != '\n')
				p = mask_value(p, 0);
		} else {
			p = mask_value(word, 0);	/* a bare credential */
		}
	}
	for (p = buf; *p != '\0'; p++) {
		if (!is_key_char((unsigned char)*p) || (p > buf && is_key_char((unsigned char)p[-1])))
			continue;
		for (size_t i = 0; i < sizeof(secret_keys) / sizeof(secret_keys[0]); i++) {
			size_t n = strlen(secret_keys[i]);
			char *q;

			if (strncasecmp(p, secret_keys[i], n) != 0 || is_key_char((unsigned char)p[n]))
				continue;
			q = p + n;
			if (*q == '"' || *q == '\'')
				q++;		/* a quoted member name closes */
			while (*q == ' ')
				q++;
			if (*q != ':' && *q != '=')
				break;
			q++;
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q != '\0' && *q != '{' && *q != '[' && *q != '\n')
				p = mask_any(q) - 1;
			break;
		}
	}
	return buf;
}

void
log_vmsg(enum log_level lvl, const char *module, const char *fmt, va_list ap)
{
	char line[8192];
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	if (lvl < log_min || lvl >= LOG_OFF)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	log_redact(line);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

	pthread_mutex_lock(&log_lock);
	if (log_fp != NULL) {
		fprintf(log_fp, "%s.%03ldZ %-5s [%s] %s\n", stamp, ts.tv_nsec / 1000000L,
		    level_names[lvl], module != NULL ? module : "-", line);
		fflush(log_fp);
	}
	pthread_mutex_unlock(&log_lock);
}

void
log_msg(enum log_level lvl, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, module, fmt, ap);
	va_end(ap);
}
