/*
 * exec_cred.c — running client-go exec credential plugins and caching what
 * they print.
 *
 * The flow follows the Kubernetes documentation of credential plugins
 * (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins)
 * and the ExecCredential types of client.authentication.k8s.io/v1 and
 * v1beta1: the request goes into KUBERNETES_EXEC_INFO as
 * {apiVersion, kind: ExecCredential, spec: {interactive, cluster?}}, the
 * answer comes back on stdout with the same apiVersion and a status holding
 * a token or clientCertificateData + clientKeyData (PEM text) and an
 * optional expirationTimestamp.
 *
 * The child runs in its own process group (unless it may use the terminal,
 * where a background group would be stopped by SIGTTIN), so a timeout kills
 * the plugin and whatever it started.  The parent watches the pipes and the
 * child with poll() and a short tick rather than SIGCHLD: a library must not
 * own a process-wide signal handler, and a plugin runs about once an hour.
 */
#include "kube/exec_cred.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "src/log.h"

#define EXEC_STDERR_KEEP	2048	/* bytes of the plugin's stderr kept for messages */
#define EXEC_TICK_MS		20	/* how often a running child is checked for exit */
#define EXEC_TERM_GRACE_MS	200	/* SIGTERM to SIGKILL on a timeout */

/* ---- small helpers ---------------------------------------------------- */

static enum kube_exec_status __attribute__((format(printf, 4, 5)))
fail(char *err, size_t errlen, enum kube_exec_status st, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return st;
}

static void
wipe_str(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static void
wipe_mem(void *p, size_t n)
{
	if (p != NULL) {
		OPENSSL_cleanse(p, n);
		free(p);
	}
}

static char *
dup_mem(const char *p, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

/* strdup that maps NULL to NULL and reports failure through *OK. */
static char *
dup_opt(const char *s, int *ok)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*ok = 0;
	return d;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wipes every string in a cJSON tree before it is freed: plugin answers
 * hold tokens and keys, and free() does not clear memory. */
static void
wipe_json(cJSON *node)
{
	for (; node != NULL; node = node->next) {
		if (node->valuestring != NULL)
			OPENSSL_cleanse(node->valuestring, strlen(node->valuestring));
		wipe_json(node->child);
	}
}

/* A growable byte buffer that never leaves a copy of its content behind in
 * freed memory (so no realloc). */
struct xbuf {
	char *p;
	size_t len, cap;
};

static int
xbuf_add(struct xbuf *b, const char *data, size_t n)
{
	size_t ncap;
	char *np;

	if (n > SIZE_MAX / 2 - b->len - 1)
		return -1;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = malloc(ncap)) == NULL)
			return -1;
		if (b->len > 0)
			memcpy(np, b->p, b->len);
		wipe_mem(b->p, b->cap);
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void
xbuf_wipe(struct xbuf *b)
{
	wipe_mem(b->p, b->cap);
	memset(b, 0, sizeof *b);
}

/* Appends "LEN:BYTES" so that concatenated fields can never be confused
 * with one another in a cache key. */
static int
xbuf_field(struct xbuf *b, const char *s, size_t n)
{
	char num[32];
	int k;

	if (s == NULL)		/* "-:" keeps NULL apart from "" */
		return xbuf_add(b, "-:", 2);
	k = snprintf(num, sizeof num, "%zu:", n);
	if (xbuf_add(b, num, (size_t)k) < 0)
		return -1;
	return xbuf_add(b, s, n);
}

static int
xbuf_str(struct xbuf *b, const char *s)
{
	return xbuf_field(b, s, s != NULL ? strlen(s) : 0);
}

/* ---- config and credential lifetimes --------------------------------- */

void
kube_exec_config_free(struct kube_exec_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->api_version);
	wipe_str(cfg->command);
	for (i = 0; i < cfg->nargs; i++)
		wipe_str(cfg->args[i]);
	free(cfg->args);
	for (i = 0; i < cfg->nenv; i++) {
		wipe_str(cfg->env[i].name);
		wipe_str(cfg->env[i].value);
	}
	free(cfg->env);
	free(cfg->install_hint);
	free(cfg->cluster.server);
	free(cfg->cluster.tls_server_name);
	free(cfg->cluster.ca_pem);
	wipe_str(cfg->cluster.proxy_url);	/* may carry user:password */
	wipe_str(cfg->cluster.config_json);
	free(cfg);
}

struct kube_exec_config *
kube_exec_config_dup(const struct kube_exec_config *src)
{
	struct kube_exec_config *d;
	int ok = 1;
	size_t i;

	if (src == NULL || (d = calloc(1, sizeof *d)) == NULL)
		return NULL;
	d->api_version = dup_opt(src->api_version, &ok);
	d->command = dup_opt(src->command, &ok);
	d->install_hint = dup_opt(src->install_hint, &ok);
	d->provide_cluster_info = src->provide_cluster_info;
	d->interactive_mode = src->interactive_mode;
	if (src->nargs > 0) {
		d->args = calloc(src->nargs, sizeof *d->args);
		if (d->args == NULL)
			ok = 0;
		else
			for (d->nargs = src->nargs, i = 0; i < src->nargs; i++)
				d->args[i] = dup_opt(src->args[i], &ok);
	}
	if (src->nenv > 0) {
		d->env = calloc(src->nenv, sizeof *d->env);
		if (d->env == NULL)
			ok = 0;
		else
			for (d->nenv = src->nenv, i = 0; i < src->nenv; i++) {
				d->env[i].name = dup_opt(src->env[i].name, &ok);
				d->env[i].value = dup_opt(src->env[i].value, &ok);
			}
	}
	d->cluster.server = dup_opt(src->cluster.server, &ok);
	d->cluster.tls_server_name = dup_opt(src->cluster.tls_server_name, &ok);
	d->cluster.insecure_skip_tls_verify = src->cluster.insecure_skip_tls_verify;
	if (src->cluster.ca_pem != NULL) {
		d->cluster.ca_pem = dup_mem(src->cluster.ca_pem, src->cluster.ca_len);
		d->cluster.ca_len = src->cluster.ca_len;
		if (d->cluster.ca_pem == NULL)
			ok = 0;
	}
	d->cluster.proxy_url = dup_opt(src->cluster.proxy_url, &ok);
	d->cluster.config_json = dup_opt(src->cluster.config_json, &ok);
	if (!ok) {
		kube_exec_config_free(d);
		return NULL;
	}
	return d;
}

void
kube_exec_cred_free(struct kube_exec_cred *c)
{
	if (c == NULL)
		return;
	wipe_str(c->token);
	wipe_mem(c->cert_pem, c->cert_len);
	wipe_mem(c->key_pem, c->key_len);
	memset(c, 0, sizeof *c);
}

static int
cred_copy(struct kube_exec_cred *dst, const struct kube_exec_cred *src)
{
	memset(dst, 0, sizeof *dst);
	dst->expires = src->expires;
	if (src->token != NULL && (dst->token = strdup(src->token)) == NULL)
		goto oom;
	if (src->cert_pem != NULL) {
		if ((dst->cert_pem = dup_mem(src->cert_pem, src->cert_len)) == NULL)
			goto oom;
		dst->cert_len = src->cert_len;
	}
	if (src->key_pem != NULL) {
		if ((dst->key_pem = dup_mem(src->key_pem, src->key_len)) == NULL)
			goto oom;
		dst->key_len = src->key_len;
	}
	return 0;
oom:
	kube_exec_cred_free(dst);
	return -1;
}

/* ---- RFC 3339 --------------------------------------------------------- */

static int
digits(const char **sp, int n, int *out)
{
	const char *s = *sp;
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*sp = s + n;
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so no timegm() and no time zone state are involved. */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

int
kube_exec_parse_time(const char *s, time_t *out)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, leap, dim;
	long long t;

	if (s == NULL)
		return -1;
	if (digits(&s, 4, &y) < 0 || *s++ != '-' || digits(&s, 2, &mo) < 0 ||
	    *s++ != '-' || digits(&s, 2, &d) < 0)
		return -1;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -1;
	s++;
	if (digits(&s, 2, &h) < 0 || *s++ != ':' || digits(&s, 2, &mi) < 0 ||
	    *s++ != ':' || digits(&s, 2, &sec) < 0)
		return -1;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;		/* sub-second precision does not matter here */
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (digits(&s, 2, &oh) < 0 || *s++ != ':' || digits(&s, 2, &om) < 0)
			return -1;
		if (oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*s != '\0')
		return -1;
	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 60)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	dim = mdays[mo - 1] + (mo == 2 && leap);
	if (d < 1 || d > dim)
		return -1;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL +
	    h * 3600LL + mi * 60LL + sec - sign * (oh * 3600LL + om * 60LL);
	if (sizeof(time_t) < 8 && (t > INT32_MAX || t < INT32_MIN))
		return -1;
	*out = (time_t)t;
	return 0;
}

/* ---- the ExecCredential answer --------------------------------------- */

static const char *
json_kind(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "a list";
	return "an object";
}

/* Copies S into BUF for a message: printable ASCII only, bounded. */
static const char *
printable(const char *s, char *buf, size_t n)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < n; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	if (s[i] != '\0' && n > 4)
		memcpy(buf + n - 4, "...", 4);
	return buf;
}

/* Optional string member; -1 (message in ERR) when present but not a string.
 * An empty string counts as absent, as Go's zero value does. */
static int
opt_string(const cJSON *obj, const char *key, const char **out, char *err,
    size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		fail(err, errlen, KUBE_EXEC_E_OUTPUT,
		    "status.%s is %s, expected a string", key, json_kind(v));
		return -1;
	}
	if (v->valuestring[0] != '\0')
		*out = v->valuestring;
	return 0;
}

enum kube_exec_status
kube_exec_parse_output(const char *api_version, const char *text, size_t len,
    struct kube_exec_cred *out, char *err, size_t errlen)
{
	cJSON *root;
	const cJSON *v, *status;
	const char *end = NULL, *tok, *cert, *key, *exp;
	char shown[80];
	enum kube_exec_status st = KUBE_EXEC_E_OUTPUT;
	size_t off;

	memset(out, 0, sizeof *out);
	if (text == NULL || len == 0)
		return fail(err, errlen, st, "printed nothing on stdout");
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		off = end != NULL && end >= text ? (size_t)(end - text) : 0;
		return fail(err, errlen, st,
		    "printed output that is not JSON (error near byte %zu)", off);
	}
	for (off = (size_t)(end - text); off < len; off++)
		if (!isspace((unsigned char)text[off]))
			break;
	if (off < len) {
		fail(err, errlen, st, "printed more than one JSON value "
		    "(trailing data at byte %zu)", off);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		fail(err, errlen, st, "printed %s, expected an ExecCredential object",
		    json_kind(root));
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "apiVersion");
	if (!cJSON_IsString(v)) {
		fail(err, errlen, st, "answer has no apiVersion string "
		    "(expected \"%s\")", api_version);
		goto out;
	}
	if (strcmp(v->valuestring, api_version) != 0) {
		fail(err, errlen, st, "answered with apiVersion \"%s\", but the "
		    "request was \"%s\"; the plugin must answer in the version "
		    "asked for", printable(v->valuestring, shown, sizeof shown),
		    api_version);
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "kind");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "ExecCredential") != 0) {
		fail(err, errlen, st, "answer's kind is %s%s%s, expected "
		    "\"ExecCredential\"", cJSON_IsString(v) ? "\"" : "",
		    cJSON_IsString(v) ? printable(v->valuestring, shown,
		    sizeof shown) : v == NULL ? "missing" : json_kind(v),
		    cJSON_IsString(v) ? "\"" : "");
		goto out;
	}
	status = cJSON_GetObjectItemCaseSensitive(root, "status");
	if (!cJSON_IsObject(status)) {
		fail(err, errlen, st, "answer has %s status, expected an object "
		    "with a token or a client certificate",
		    status == NULL ? "no" : json_kind(status));
		goto out;
	}
	if (opt_string(status, "token", &tok, err, errlen) < 0 ||
	    opt_string(status, "clientCertificateData", &cert, err, errlen) < 0 ||
	    opt_string(status, "clientKeyData", &key, err, errlen) < 0 ||
	    opt_string(status, "expirationTimestamp", &exp, err, errlen) < 0)
		goto out;
	if ((cert == NULL) != (key == NULL)) {
		fail(err, errlen, st, "status has %s but not %s; both are needed "
		    "for a client certificate",
		    cert ? "clientCertificateData" : "clientKeyData",
		    cert ? "clientKeyData" : "clientCertificateData");
		goto out;
	}
	if (tok == NULL && cert == NULL) {
		fail(err, errlen, st, "status holds neither a token nor "
		    "clientCertificateData and clientKeyData");
		goto out;
	}
	if (exp != NULL && kube_exec_parse_time(exp, &out->expires) < 0) {
		fail(err, errlen, st, "status.expirationTimestamp \"%s\" is not an "
		    "RFC 3339 time", printable(exp, shown, sizeof shown));
		goto out;
	}
	if (tok != NULL && (out->token = strdup(tok)) == NULL)
		goto oom;
	if (cert != NULL) {
		out->cert_len = strlen(cert);
		out->key_len = strlen(key);
		out->cert_pem = dup_mem(cert, out->cert_len);
		out->key_pem = dup_mem(key, out->key_len);
		if (out->cert_pem == NULL || out->key_pem == NULL)
			goto oom;
	}
	st = KUBE_EXEC_OK;
	goto out;
oom:
	st = fail(err, errlen, KUBE_EXEC_E_SYSTEM, "out of memory");
out:
	if (st != KUBE_EXEC_OK)
		kube_exec_cred_free(out);
	wipe_json(root);
	cJSON_Delete(root);
	return st;
}

/* ---- the request ------------------------------------------------------ */

static char *
base64_encode(const char *p, size_t n)
{
	char *out;

	if (n > (size_t)INT_MAX / 4 * 3 - 3)
		return NULL;
	if ((out = malloc(4 * ((n + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)p, (int)n);
	return out;
}

/* The ExecCredential request for KUBERNETES_EXEC_INFO.  spec.cluster only
 * with provideClusterInfo, with the CA as base64 (it is []byte in Go, which
 * JSON-encodes that way), empty fields left out as client-go does. */
static char *
exec_info_json(const struct kube_exec_config *cfg, int interactive)
{
	const struct kube_exec_cluster *c = &cfg->cluster;
	cJSON *root, *spec, *cl, *conf;
	char *b64, *text = NULL;
	int ok = 1;

	if ((root = cJSON_CreateObject()) == NULL)
		return NULL;
	ok &= cJSON_AddStringToObject(root, "apiVersion", cfg->api_version) != NULL;
	ok &= cJSON_AddStringToObject(root, "kind", "ExecCredential") != NULL;
	spec = cJSON_AddObjectToObject(root, "spec");
	ok &= spec != NULL && cJSON_AddBoolToObject(spec, "interactive",
	    interactive) != NULL;
	if (ok && cfg->provide_cluster_info) {
		cl = cJSON_AddObjectToObject(spec, "cluster");
		ok &= cl != NULL && cJSON_AddStringToObject(cl, "server",
		    c->server != NULL ? c->server : "") != NULL;
		if (ok && c->tls_server_name != NULL)
			ok &= cJSON_AddStringToObject(cl, "tls-server-name",
			    c->tls_server_name) != NULL;
		if (ok && c->insecure_skip_tls_verify)
			ok &= cJSON_AddTrueToObject(cl, "insecure-skip-tls-verify") != NULL;
		if (ok && c->ca_pem != NULL && c->ca_len > 0) {
			b64 = base64_encode(c->ca_pem, c->ca_len);
			ok &= b64 != NULL && cJSON_AddStringToObject(cl,
			    "certificate-authority-data", b64) != NULL;
			free(b64);
		}
		if (ok && c->proxy_url != NULL)
			ok &= cJSON_AddStringToObject(cl, "proxy-url", c->proxy_url) != NULL;
		if (ok && c->config_json != NULL) {
			conf = cJSON_Parse(c->config_json);
			ok &= conf != NULL;
			if (conf != NULL && !cJSON_AddItemToObject(cl, "config", conf)) {
				cJSON_Delete(conf);
				ok = 0;
			}
		}
	}
	if (ok)
		text = cJSON_PrintUnformatted(root);
	wipe_json(root);	/* proxy-url and config may hold secrets */
	cJSON_Delete(root);
	return text;
}

/* ---- process plumbing ------------------------------------------------- */

/* Looks COMMAND up as execvp would, but before fork, so the child only has
 * to call execve.  Commands with a slash are used as they are (the
 * kubeconfig loader has already made them relative to their file).  Empty
 * PATH entries (meaning ".") are skipped on purpose. */
static char *
find_command(const char *command)
{
	const char *path, *p, *e;
	struct stat sb;
	size_t dl, cl = strlen(command);
	char *cand;

	if (strchr(command, '/') != NULL)
		return strdup(command);
	path = getenv("PATH");
	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchrnul(p, ':');
		dl = (size_t)(e - p);
		if (dl == 0)
			continue;
		if ((cand = malloc(dl + cl + 2)) == NULL)
			return NULL;
		memcpy(cand, p, dl);
		cand[dl] = '/';
		memcpy(cand + dl + 1, command, cl + 1);
		if (stat(cand, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
	errno = ENOENT;
	return NULL;
}

/* The child's environment: ours, minus what the exec entries and
 * KUBERNETES_EXEC_INFO replace, plus those.  Entries from index *OWNED on
 * are allocated here (and wiped by free_env); the rest point into environ. */
static char **
build_env(const struct kube_exec_config *cfg, const char *info, size_t *owned)
{
	size_t n = 0, k = 0, i, j, nl;
	char **envp, *s;
	int skip;

	for (i = 0; environ != NULL && environ[i] != NULL; i++)
		n++;
	if ((envp = calloc(n + cfg->nenv + 2, sizeof *envp)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');

		nl = eq != NULL ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		skip = nl == strlen("KUBERNETES_EXEC_INFO") &&
		    strncmp(environ[i], "KUBERNETES_EXEC_INFO", nl) == 0;
		for (j = 0; !skip && j < cfg->nenv; j++)
			skip = strlen(cfg->env[j].name) == nl &&
			    strncmp(environ[i], cfg->env[j].name, nl) == 0;
		if (!skip)
			envp[k++] = environ[i];
	}
	*owned = k;
	for (i = 0; i < cfg->nenv; i++) {
		/* A later entry with the same name wins, as with Go's os/exec. */
		for (skip = 0, j = i + 1; !skip && j < cfg->nenv; j++)
			skip = strcmp(cfg->env[i].name, cfg->env[j].name) == 0;
		if (skip)
			continue;
		if (asprintf(&s, "%s=%s", cfg->env[i].name,
		    cfg->env[i].value != NULL ? cfg->env[i].value : "") < 0)
			goto oom;
		envp[k++] = s;
	}
	if (asprintf(&s, "KUBERNETES_EXEC_INFO=%s", info) < 0)
		goto oom;
	envp[k++] = s;
	envp[k] = NULL;
	return envp;
oom:
	envp[k] = NULL;
	for (i = *owned; i < k; i++)
		wipe_str(envp[i]);
	free(envp);
	return NULL;
}

static void
free_env(char **envp, size_t owned)
{
	size_t i;

	if (envp == NULL)
		return;
	for (i = owned; envp[i] != NULL; i++)
		wipe_str(envp[i]);
	free(envp);
}

/* Moves FD above 2 so that dup2 onto 0, 1 and 2 in the child cannot clobber
 * another of our pipes (possible when the program runs with stdio closed). */
static int
lift_fd(int fd)
{
	int nfd;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static int
make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	p[0] = lift_fd(p[0]);
	p[1] = lift_fd(p[1]);
	if (p[0] < 0 || p[1] < 0) {
		if (p[0] >= 0)
			close(p[0]);
		if (p[1] >= 0)
			close(p[1]);
		return -1;
	}
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Between fork and execve: async-signal-safe calls only.  Any failure is
 * reported as an errno on REPORT_FD (close-on-exec, so a successful exec
 * shows up as EOF there). */
static void __attribute__((noreturn))
child_exec(const char *path, char *const argv[], char *const envp[],
    int in_fd, int out_fd, int err_fd, int report_fd, int own_group,
    long maxfd)
{
	static const int sigs[] = { SIGPIPE, SIGINT, SIGQUIT, SIGHUP, SIGTERM,
	    SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU, SIGALRM, SIGUSR1, SIGUSR2,
	    SIGWINCH };
	struct sigaction sa;
	sigset_t none;
	size_t i;
	long fd;
	int e;

	/* Ignored signals stay ignored across exec: give the plugin the
	 * defaults a shell would, and no blocked signals. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (own_group && setpgid(0, 0) < 0)
		goto fail;
	if (in_fd >= 0 && dup2(in_fd, 0) < 0)
		goto fail;
	if (dup2(out_fd, 1) < 0)
		goto fail;
	if (err_fd >= 0 && dup2(err_fd, 2) < 0)
		goto fail;
	/* Our sockets and files are not the plugin's business. */
#ifdef CLOSE_RANGE_CLOEXEC
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
#endif
		for (fd = 3; fd < maxfd; fd++)
			if (fd != report_fd)
				close((int)fd);
	execve(path, argv, envp);
fail:
	e = errno;
	if (write(report_fd, &e, sizeof e) < 0)
		_exit(126);
	_exit(127);
}

/* What a run produced. */
struct run_result {
	struct xbuf out;		/* stdout, wiped afterwards */
	char errtext[EXEC_STDERR_KEEP];	/* first bytes of stderr */
	size_t errlen;
	int status;			/* from waitpid */
	int exec_errno;			/* execve (or setup) failed in the child */
	int io_errno;			/* poll or read failed here (ENOMEM too) */
	int timed_out, too_big;
};

/* Reads what FD has now.  Returns 1 at EOF, 0 when it would block, -1 on
 * error.  IS_OUT selects stdout (kept up to MAX, too_big beyond) or stderr
 * (the first bytes kept, the rest drained). */
static int
drain(int fd, int is_out, size_t max, struct run_result *r)
{
	char buf[8192];
	ssize_t n;
	size_t room;

	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n == 0)
			return 1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		if (is_out) {
			if (r->out.len + (size_t)n > max) {
				r->too_big = 1;
				OPENSSL_cleanse(buf, sizeof buf);
				return 1;
			}
			if (xbuf_add(&r->out, buf, (size_t)n) < 0) {
				OPENSSL_cleanse(buf, sizeof buf);
				errno = ENOMEM;
				return -1;
			}
			OPENSSL_cleanse(buf, (size_t)n);
		} else {
			room = sizeof r->errtext - 1 - r->errlen;
			if ((size_t)n < room)
				room = (size_t)n;
			memcpy(r->errtext + r->errlen, buf, room);
			r->errlen += room;
			r->errtext[r->errlen] = '\0';
		}
	}
}

/* Stops a plugin that overran: SIGTERM to its group (a chance to clean up,
 * e.g. kubelogin's token cache lock), SIGKILL after a short grace, then the
 * reap.  waitid(WNOWAIT) keeps the zombie, and with it the group id, until
 * the SIGKILL has been sent, so the id cannot have been reused. */
static void
terminate(pid_t pid, int group, int *status)
{
	pid_t target = group ? -pid : pid;
	struct timespec tick = { 0, 10 * 1000000L };
	siginfo_t si;
	int i;

	kill(target, SIGTERM);
	for (i = 0; i < EXEC_TERM_GRACE_MS / 10; i++) {
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si.si_pid == pid)
			break;
		nanosleep(&tick, NULL);
	}
	kill(target, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

/* Forks and runs PATH, feeding nothing and collecting stdout (and stderr,
 * unless INTERACTIVE), until it exits or TIMEOUT_MS pass.  Returns 0 with
 * *R filled (the child reaped in every case), or -1 with errno when the
 * plumbing itself failed before a child existed. */
static int
spawn_collect(const char *path, char *const argv[], char *const envp[],
    int interactive, long timeout_ms, size_t max_out, struct run_result *r)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, rep[2] = { -1, -1 };
	int devnull = -1, exited = 0, e, got, saved;
	struct pollfd pf[3];
	long long deadline, left;
	long maxfd = sysconf(_SC_OPEN_MAX);
	ssize_t n;
	pid_t pid, w;
	size_t np, i;
	int *fds[3];

	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	if (make_pipe(outp) < 0 || make_pipe(rep) < 0 ||
	    (!interactive && make_pipe(errp) < 0))
		goto fail;
	if (!interactive) {
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull < 0 || (devnull = lift_fd(devnull)) < 0)
			goto fail;
	}
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0)
		child_exec(path, argv, envp, devnull, outp[1], errp[1], rep[1],
		    !interactive, maxfd);
	/* Both sides set the group, so it exists whichever runs first;
	 * EACCES here means the child already exec'd with it set. */
	if (!interactive)
		setpgid(pid, pid);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	close_fd(&rep[1]);
	close_fd(&devnull);
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	if (errp[0] >= 0)
		fcntl(errp[0], F_SETFL, O_NONBLOCK);
	fcntl(rep[0], F_SETFL, O_NONBLOCK);

	fds[0] = &outp[0];
	fds[1] = &errp[0];
	fds[2] = &rep[0];
	deadline = now_ms() + timeout_ms;
	for (;;) {
		np = 0;
		for (i = 0; i < 3; i++)
			if (*fds[i] >= 0) {
				pf[np].fd = *fds[i];
				pf[np].events = POLLIN;
				pf[np].revents = 0;
				np++;
			}
		left = deadline - now_ms();
		if (left <= 0) {
			r->timed_out = 1;
			break;
		}
		if (poll(pf, (nfds_t)np, left < EXEC_TICK_MS ? (int)left :
		    EXEC_TICK_MS) < 0 && errno != EINTR) {
			r->io_errno = errno;
			break;
		}
		/* The report pipe: an errno means exec failed, EOF that it
		 * succeeded (the descriptor was close-on-exec). */
		if (rep[0] >= 0) {
			n = read(rep[0], &e, sizeof e);
			if (n == (ssize_t)sizeof e) {
				r->exec_errno = e;
				close_fd(&rep[0]);
			} else if (n == 0 || (n < 0 && errno != EAGAIN &&
			    errno != EINTR)) {
				close_fd(&rep[0]);
			}
		}
		for (i = 0; i < 2; i++) {
			if (*fds[i] < 0)
				continue;
			got = drain(*fds[i], i == 0, max_out, r);
			if (got < 0 && r->io_errno == 0)
				r->io_errno = errno;
			if (got != 0)
				close_fd(fds[i]);
		}
		if (r->too_big || r->io_errno != 0)
			break;
		if (!exited) {
			w = waitpid(pid, &r->status, WNOHANG);
			if (w == pid)
				exited = 1;
		}
		if (exited) {
			/* What it wrote before exiting is in the pipes now; a
			 * grandchild holding them open is not waited for. */
			for (i = 0; i < 2; i++)
				if (*fds[i] >= 0) {
					drain(*fds[i], i == 0, max_out, r);
					close_fd(fds[i]);
				}
			if (rep[0] >= 0 && read(rep[0], &e, sizeof e) ==
			    (ssize_t)sizeof e)
				r->exec_errno = e;
			break;
		}
	}
	if (!exited)
		terminate(pid, !interactive, &r->status);
	close_fd(&outp[0]);
	close_fd(&errp[0]);
	close_fd(&rep[0]);
	return 0;
fail:
	saved = errno;
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&rep[0]);
	close_fd(&rep[1]);
	close_fd(&devnull);
	errno = saved;
	return -1;
}

/* Text from a plugin (its stderr, or the installHint) made fit for a
 * one-line message: control characters and runs of blanks become one space,
 * anything that looks like a secret is masked by the log redactor. */
static void
fold_line(const char *s, size_t len, char *buf, size_t n)
{
	size_t i, k = 0;
	int space = 1;
	unsigned char c;

	if (n == 0)
		return;
	for (i = 0; s != NULL && i < len && s[i] != '\0' && k + 1 < n; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == ' ') {
			if (!space)
				buf[k++] = ' ';
			space = 1;
		} else {
			buf[k++] = (char)c;
			space = 0;
		}
	}
	while (k > 0 && buf[k - 1] == ' ')
		k--;
	buf[k] = '\0';
	log_redact(buf);
}

static enum kube_exec_status
check_config(const struct kube_exec_config *cfg, char *err, size_t errlen)
{
	size_t i;

	if (cfg == NULL || cfg->command == NULL || cfg->command[0] == '\0')
		return fail(err, errlen, KUBE_EXEC_E_CONFIG,
		    "exec plugin: no command given");
	if (cfg->api_version == NULL ||
	    (strcmp(cfg->api_version, KUBE_EXEC_API_V1) != 0 &&
	    strcmp(cfg->api_version, KUBE_EXEC_API_V1BETA1) != 0))
		return fail(err, errlen, KUBE_EXEC_E_CONFIG,
		    "exec plugin \"%s\": apiVersion must be %s or %s",
		    cfg->command, KUBE_EXEC_API_V1, KUBE_EXEC_API_V1BETA1);
	for (i = 0; i < cfg->nargs; i++)
		if (cfg->args == NULL || cfg->args[i] == NULL)
			return fail(err, errlen, KUBE_EXEC_E_CONFIG,
			    "exec plugin \"%s\": argument %zu is missing",
			    cfg->command, i + 1);
	for (i = 0; i < cfg->nenv; i++)
		if (cfg->env == NULL || cfg->env[i].name == NULL ||
		    cfg->env[i].name[0] == '\0' ||
		    strchr(cfg->env[i].name, '=') != NULL)
			return fail(err, errlen, KUBE_EXEC_E_CONFIG,
			    "exec plugin \"%s\": env entry %zu has no valid name",
			    cfg->command, i + 1);
	return KUBE_EXEC_OK;
}

static const char *
interactive_mode_name(enum kube_exec_interactive m)
{
	return m == KUBE_EXEC_NEVER ? "Never" :
	    m == KUBE_EXEC_ALWAYS ? "Always" : "IfAvailable";
}

/* One run of a checked config with options defaulted; see kube_exec_run. */
static enum kube_exec_status
exec_run(const struct kube_exec_config *cfg, const struct kube_exec_opts *opts,
    struct kube_exec_cred *out, char *err, size_t errlen)
{
	struct kube_exec_opts o = *opts;
	struct run_result *r = NULL;
	enum kube_exec_status st;
	char **argv = NULL, **envp = NULL, *path = NULL, *info = NULL;
	char excerpt[600], hint[600], perr[400];
	size_t owned = 0, i;
	int interactive, sig;

	/* client-go's rule: Never runs without stdin, IfAvailable gets it when
	 * there is one, Always refuses to run without it. */
	interactive = cfg->interactive_mode != KUBE_EXEC_NEVER && o.terminal;
	if (cfg->interactive_mode == KUBE_EXEC_ALWAYS && !o.terminal)
		return fail(err, errlen, KUBE_EXEC_E_NEEDS_TERMINAL,
		    "exec plugin \"%s\" needs the terminal (interactiveMode: "
		    "Always), which bgswitch's screen holds now; sign in with "
		    "the plugin yourself first, or run bgswitch headless",
		    cfg->command);

	if ((path = find_command(cfg->command)) == NULL) {
		if (errno == ENOMEM)
			return fail(err, errlen, KUBE_EXEC_E_SYSTEM, "out of memory");
		fold_line(cfg->install_hint, SIZE_MAX, hint, sizeof hint);
		return fail(err, errlen, KUBE_EXEC_E_NOT_FOUND,
		    "exec plugin \"%s\" not found in PATH%s%s", cfg->command,
		    hint[0] ? ": " : "", hint);
	}
	st = KUBE_EXEC_E_SYSTEM;
	if ((info = exec_info_json(cfg, interactive)) == NULL ||
	    (envp = build_env(cfg, info, &owned)) == NULL ||
	    (argv = calloc(cfg->nargs + 2, sizeof *argv)) == NULL ||
	    (r = calloc(1, sizeof *r)) == NULL) {
		fail(err, errlen, st, "exec plugin \"%s\": out of memory",
		    cfg->command);
		goto out;
	}
	argv[0] = cfg->command;
	for (i = 0; i < cfg->nargs; i++)
		argv[i + 1] = cfg->args[i];

	log_info("kube", "running exec credential plugin %s (%s, interactive "
	    "%s)", cfg->command, cfg->api_version, interactive ? "yes" : "no");
	if (spawn_collect(path, argv, envp, interactive, o.timeout_ms,
	    o.max_output, r) < 0) {
		fail(err, errlen, st, "exec plugin \"%s\": cannot start it: %s",
		    cfg->command, strerror(errno));
		goto out;
	}
	fold_line(r->errtext, r->errlen, excerpt, sizeof excerpt);
	if (r->exec_errno != 0) {
		if (r->exec_errno == ENOENT || r->exec_errno == ENOTDIR) {
			fold_line(cfg->install_hint, SIZE_MAX, hint, sizeof hint);
			st = fail(err, errlen, KUBE_EXEC_E_NOT_FOUND,
			    "exec plugin \"%s\" not found%s%s", cfg->command,
			    hint[0] ? ": " : "", hint);
		} else {
			st = fail(err, errlen, KUBE_EXEC_E_SYSTEM,
			    "exec plugin \"%s\": cannot run it: %s", cfg->command,
			    strerror(r->exec_errno));
		}
	} else if (r->io_errno != 0) {
		st = fail(err, errlen, KUBE_EXEC_E_SYSTEM,
		    "exec plugin \"%s\": reading its output failed (%s); stopped "
		    "it", cfg->command, strerror(r->io_errno));
	} else if (r->timed_out) {
		st = fail(err, errlen, KUBE_EXEC_E_TIMEOUT,
		    "exec plugin \"%s\" did not finish within %.1f s and was "
		    "killed%s%s%s", cfg->command, o.timeout_ms / 1000.0,
		    excerpt[0] ? " (its last words: " : "", excerpt,
		    excerpt[0] ? ")" : "");
	} else if (r->too_big) {
		st = fail(err, errlen, KUBE_EXEC_E_OUTPUT,
		    "exec plugin \"%s\" printed more than %zu bytes and was "
		    "stopped", cfg->command, o.max_output);
	} else if (WIFSIGNALED(r->status)) {
		sig = WTERMSIG(r->status);
		st = fail(err, errlen, KUBE_EXEC_E_FAILED,
		    "exec plugin \"%s\" was killed by signal %d (%s)%s%s",
		    cfg->command, sig, sigdescr_np(sig) ? sigdescr_np(sig) : "?",
		    excerpt[0] ? ": " : "", excerpt);
	} else if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0) {
		st = fail(err, errlen, KUBE_EXEC_E_FAILED,
		    "exec plugin \"%s\" failed with exit status %d%s%s",
		    cfg->command, WEXITSTATUS(r->status),
		    excerpt[0] ? ": " : interactive ?
		    " (its messages went to the terminal)" : "", excerpt);
	} else {
		st = kube_exec_parse_output(cfg->api_version, r->out.p,
		    r->out.len, out, perr, sizeof perr);
		if (st != KUBE_EXEC_OK)
			fail(err, errlen, st, "exec plugin \"%s\" %s",
			    cfg->command, perr);
	}
out:
	if (r != NULL) {
		xbuf_wipe(&r->out);
		OPENSSL_cleanse(r, sizeof *r);
		free(r);
	}
	free(argv);
	free_env(envp, owned);
	wipe_str(info);
	free(path);
	return st;
}

enum kube_exec_status
kube_exec_run(const struct kube_exec_config *cfg,
    const struct kube_exec_opts *opts, struct kube_exec_cred *out, char *err,
    size_t errlen)
{
	struct kube_exec_opts o = { 0 };
	enum kube_exec_status st;
	char local[1024];
	long long t0 = now_ms();

	memset(out, 0, sizeof *out);
	if (err == NULL || errlen == 0) {
		err = local;
		errlen = sizeof local;
	}
	err[0] = '\0';
	if ((st = check_config(cfg, err, errlen)) != KUBE_EXEC_OK)
		return st;
	if (opts != NULL)
		o = *opts;
	if (o.timeout_ms <= 0)
		o.timeout_ms = KUBE_EXEC_DEFAULT_TIMEOUT_MS;
	if (o.max_output == 0)
		o.max_output = KUBE_EXEC_DEFAULT_MAX_OUTPUT;
	st = exec_run(cfg, &o, out, err, errlen);
	if (st == KUBE_EXEC_OK)
		log_info("kube", "exec credential plugin %s gave a %s in %.1f s%s",
		    cfg->command, out->token != NULL ? "token" :
		    "client certificate", (now_ms() - t0) / 1000.0,
		    out->expires ? "" : " with no expiry");
	else
		log_warn("kube", "exec credential plugin %s (interactiveMode %s): %s",
		    cfg->command, interactive_mode_name(cfg->interactive_mode),
		    err);
	return st;
}

/* ---- the cache -------------------------------------------------------- */

struct cache_entry {
	struct cache_entry *next;
	char *key;			/* holds args and env: wiped on free */
	size_t keylen;
	pthread_mutex_t run;		/* held while this config's plugin runs */
	struct kube_exec_cred cred;	/* guarded by the cache's mutex */
	int have;
};

struct kube_exec_cache {
	pthread_mutex_t mu;		/* the entry list and every entry's cred */
	struct cache_entry *head;
};

/* Everything that can change a plugin's answer, length-prefixed. */
static char *
cache_key(const struct kube_exec_config *cfg, size_t *len)
{
	const struct kube_exec_cluster *c = &cfg->cluster;
	struct xbuf b = { 0 };
	char num[64];
	size_t i;
	int ok = 1;

	ok &= xbuf_str(&b, cfg->api_version) == 0;
	ok &= xbuf_str(&b, cfg->command) == 0;
	snprintf(num, sizeof num, "%zu/%zu/%d/%d/%d", cfg->nargs, cfg->nenv,
	    cfg->provide_cluster_info, (int)cfg->interactive_mode,
	    c->insecure_skip_tls_verify);
	ok &= xbuf_str(&b, num) == 0;
	for (i = 0; ok && i < cfg->nargs; i++)
		ok &= xbuf_str(&b, cfg->args[i]) == 0;
	for (i = 0; ok && i < cfg->nenv; i++) {
		ok &= xbuf_str(&b, cfg->env[i].name) == 0;
		ok &= xbuf_str(&b, cfg->env[i].value) == 0;
	}
	ok &= xbuf_str(&b, c->server) == 0;
	ok &= xbuf_str(&b, c->tls_server_name) == 0;
	ok &= xbuf_field(&b, c->ca_pem, c->ca_len) == 0;
	ok &= xbuf_str(&b, c->proxy_url) == 0;
	ok &= xbuf_str(&b, c->config_json) == 0;
	if (!ok) {
		xbuf_wipe(&b);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

struct kube_exec_cache *
kube_exec_cache_new(void)
{
	struct kube_exec_cache *c = calloc(1, sizeof *c);

	if (c != NULL && pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void
kube_exec_cache_free(struct kube_exec_cache *cache)
{
	struct cache_entry *e, *next;

	if (cache == NULL)
		return;
	for (e = cache->head; e != NULL; e = next) {
		next = e->next;
		kube_exec_cred_free(&e->cred);
		wipe_mem(e->key, e->keylen);
		pthread_mutex_destroy(&e->run);
		free(e);
	}
	pthread_mutex_destroy(&cache->mu);
	free(cache);
}

/* With the cache locked: the entry for KEY, made if missing (KEY is then
 * owned by it; otherwise the caller keeps it). */
static struct cache_entry *
cache_find(struct kube_exec_cache *cache, char *key, size_t keylen,
    int create, int *took_key)
{
	struct cache_entry *e;

	*took_key = 0;
	for (e = cache->head; e != NULL; e = e->next)
		if (e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
			return e;
	if (!create || (e = calloc(1, sizeof *e)) == NULL)
		return NULL;
	if (pthread_mutex_init(&e->run, NULL) != 0) {
		free(e);
		return NULL;
	}
	e->key = key;
	e->keylen = keylen;
	e->next = cache->head;
	cache->head = e;
	*took_key = 1;
	return e;
}

static int
cred_fresh(const struct cache_entry *e)
{
	struct timespec ts;

	if (!e->have)
		return 0;
	if (e->cred.expires == 0)
		return 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec + KUBE_EXEC_REFRESH_MARGIN_S <
	    (long long)e->cred.expires;
}

enum kube_exec_status
kube_exec_cache_get(struct kube_exec_cache *cache,
    const struct kube_exec_config *cfg, const struct kube_exec_opts *opts,
    struct kube_exec_cred *out, char *err, size_t errlen)
{
	struct kube_exec_cred fresh;
	struct cache_entry *e;
	enum kube_exec_status st;
	char *key;
	size_t keylen;
	int took, copied;

	memset(out, 0, sizeof *out);
	if (cache == NULL)
		return kube_exec_run(cfg, opts, out, err, errlen);
	if ((st = check_config(cfg, err, errlen)) != KUBE_EXEC_OK)
		return st;
	if ((key = cache_key(cfg, &keylen)) == NULL)
		return fail(err, errlen, KUBE_EXEC_E_SYSTEM, "out of memory");
	pthread_mutex_lock(&cache->mu);
	e = cache_find(cache, key, keylen, 1, &took);
	if (!took)
		wipe_mem(key, keylen);
	if (e == NULL) {
		pthread_mutex_unlock(&cache->mu);
		return fail(err, errlen, KUBE_EXEC_E_SYSTEM, "out of memory");
	}
	if (cred_fresh(e)) {
		copied = cred_copy(out, &e->cred);
		pthread_mutex_unlock(&cache->mu);
		return copied == 0 ? KUBE_EXEC_OK :
		    fail(err, errlen, KUBE_EXEC_E_SYSTEM, "out of memory");
	}
	pthread_mutex_unlock(&cache->mu);

	/* One run per config at a time: whoever waited here finds the answer
	 * the first caller stored.  Entries are never removed before
	 * kube_exec_cache_free, so E stays valid unlocked. */
	pthread_mutex_lock(&e->run);
	pthread_mutex_lock(&cache->mu);
	if (cred_fresh(e)) {
		copied = cred_copy(out, &e->cred);
		pthread_mutex_unlock(&cache->mu);
		pthread_mutex_unlock(&e->run);
		return copied == 0 ? KUBE_EXEC_OK :
		    fail(err, errlen, KUBE_EXEC_E_SYSTEM, "out of memory");
	}
	pthread_mutex_unlock(&cache->mu);
	st = kube_exec_run(cfg, opts, &fresh, err, errlen);
	if (st == KUBE_EXEC_OK) {
		pthread_mutex_lock(&cache->mu);
		kube_exec_cred_free(&e->cred);
		e->cred = fresh;
		e->have = 1;
		copied = cred_copy(out, &e->cred);
		pthread_mutex_unlock(&cache->mu);
		if (copied < 0)
			st = fail(err, errlen, KUBE_EXEC_E_SYSTEM, "out of memory");
	}
	pthread_mutex_unlock(&e->run);
	return st;
}

int
kube_exec_cache_invalidate(struct kube_exec_cache *cache,
    const struct kube_exec_config *cfg, const char *rejected_token)
{
	struct cache_entry *e;
	char *key;
	size_t keylen;
	int took, dropped = 0;

	if (cache == NULL || cfg == NULL || (key = cache_key(cfg, &keylen)) == NULL)
		return 0;
	pthread_mutex_lock(&cache->mu);
	e = cache_find(cache, key, keylen, 0, &took);
	if (e != NULL && e->have && (rejected_token == NULL ||
	    (e->cred.token != NULL && strcmp(e->cred.token, rejected_token) == 0))) {
		kube_exec_cred_free(&e->cred);
		e->have = 0;
		dropped = 1;
	}
	pthread_mutex_unlock(&cache->mu);
	wipe_mem(key, keylen);
	return dropped;
}
