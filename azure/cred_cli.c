/*
 * cred_cli.c — a token from the Azure CLI the engineer is logged in with.
 *
 * Runs `az account get-access-token --output json --resource R [--tenant T]`
 * (the command the Azure SDKs' AzureCliCredential runs; Azure SDK for Go,
 * azure_cli_credential.go) without a shell: az is looked up on PATH (only
 * absolute PATH entries, so a relative "." cannot plant one), spawned in a
 * process group of its own, and the whole group is killed if it overruns
 * the timeout, then reaped, so neither az nor the python it starts outlives
 * the call.  Its stdout carries the token and is never logged; stderr gives
 * the reason when it fails ("Please run 'az login'").
 *
 * The answer's expiry comes in two shapes (Azure/azure-cli issue #19700 and
 * PR #20219): "expires_on", integer epoch seconds (CLI 2.54.0 and later), and
 * the older "expiresOn", a local time "2023-10-31 21:59:10.000000" in the
 * machine's time zone.  Cloud Shell has printed RFC 3339 there.
 *
 * posix_spawn() rather than fork(): it is safe in a threaded program and
 * gives the same no-shell exec.
 */
#include "azure/cred_internal.h"

#include "src/log.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUT_MAX		(1 << 20)
#define ERR_MAX		(16 << 10)

extern char **environ;

int
az_src_cli_init(struct az_cred *c, struct az_src *s, const struct az_cred_config *cfg, char *err,
    size_t errlen)
{
	(void)c;
	(void)cfg;
	(void)err;
	(void)errlen;
	s->method = AZ_M_CLI;
	return 0;	/* whether az exists is found out when it is needed */
}

/* Finds an executable "az" in the absolute entries of PATH. */
static int
find_az(const char *path, char *out, size_t outlen)
{
	const char *p = path;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ':');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		struct stat st;

		if (n > 0 && p[0] == '/' && n + 4 < outlen) {
			snprintf(out, outlen, "%.*s/az", (int)n, p);
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return 0;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return -1;
}

/* Only characters a resource URI or tenant needs: they become argv words
 * (the Go SDK applies the same rule). */
static int
safe_arg(const char *s)
{
	if (*s == '\0' || *s == '-')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(".:/-_", *s) == NULL)
			return 0;
	return 1;
}

/* The child's environment: ours, with PATH replaced by the one az was
 * found on (tests inject it; normally it is the same). */
static char **
child_env(const char *path, char **pathvar)
{
	size_t n = 0, o = 0;
	char **env;

	while (environ != NULL && environ[n] != NULL)
		n++;
	env = calloc(n + 2, sizeof *env);
	if (env == NULL)
		return NULL;
	*pathvar = NULL;
	if (path != NULL) {
		size_t len = strlen(path) + 6;

		*pathvar = malloc(len);
		if (*pathvar == NULL) {
			free(env);
			return NULL;
		}
		snprintf(*pathvar, len, "PATH=%s", path);
		env[o++] = *pathvar;
	}
	for (size_t i = 0; i < n; i++)
		if (path == NULL || strncmp(environ[i], "PATH=", 5) != 0)
			env[o++] = environ[i];
	env[o] = NULL;
	return env;
}

struct sink {
	char *buf;
	size_t len, cap;
	int fd;
	int overflow;
};

/* Reads what is available on S->fd; 1 at EOF, 0 otherwise. */
static int
drain(struct sink *s)
{
	char tmp[4096];
	ssize_t k = read(s->fd, tmp, sizeof tmp);

	if (k < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : 1;
	if (k == 0)
		return 1;
	if (s->len + (size_t)k + 1 > s->cap) {
		s->overflow = 1;	/* keep reading so az never blocks on a full pipe */
		OPENSSL_cleanse(tmp, sizeof tmp);
		return 0;
	}
	memcpy(s->buf + s->len, tmp, (size_t)k);
	s->len += (size_t)k;
	s->buf[s->len] = '\0';
	OPENSSL_cleanse(tmp, sizeof tmp);
	return 0;
}

/* Parses "2023-10-31 21:59:10.000000" (local time) or RFC 3339. */
static long long
parse_expires_on(const char *s)
{
	struct tm tm;
	const char *rest;
	long long t;

	memset(&tm, 0, sizeof tm);
	rest = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (rest != NULL) {
		tm.tm_isdst = -1;
		t = (long long)mktime(&tm);
		return t > 0 ? t : -1;
	}
	memset(&tm, 0, sizeof tm);
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL)
		return -1;
	t = (long long)timegm(&tm);
	if (*rest == '.')
		for (rest++; isdigit((unsigned char)*rest); rest++)
			;
	if (*rest == 'Z' || *rest == '\0')
		return t;
	if ((*rest == '+' || *rest == '-') && isdigit((unsigned char)rest[1])) {
		int hh = 0, mm = 0;

		if (sscanf(rest + 1, "%2d:%2d", &hh, &mm) < 1)
			return -1;
		return *rest == '+' ? t - (hh * 3600 + mm * 60) : t + (hh * 3600 + mm * 60);
	}
	return -1;
}

static enum az_src_rc
parse_cli(const char *out, size_t len, struct az_token *tok, char *err, size_t errlen)
{
	cJSON *j = cJSON_ParseWithLength(out, len);
	const cJSON *at, *eo, *eon;
	long long exp = -1;
	enum az_src_rc rc = AZ_SRC_FAILED;

	memset(tok, 0, sizeof *tok);
	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "az printed something that is not a JSON object");
		goto done;
	}
	at = cJSON_GetObjectItemCaseSensitive(j, "accessToken");
	eo = cJSON_GetObjectItemCaseSensitive(j, "expires_on");
	eon = cJSON_GetObjectItemCaseSensitive(j, "expiresOn");
	if (!cJSON_IsString(at) || at->valuestring[0] == '\0') {
		snprintf(err, errlen, "az output has no accessToken");
		goto done;
	}
	for (const char *p = at->valuestring; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			snprintf(err, errlen, "az output's accessToken holds characters a header "
			    "cannot carry");
			goto done;
		}
	if (cJSON_IsNumber(eo) && eo->valuedouble > 0)
		exp = (long long)eo->valuedouble;
	else if (cJSON_IsString(eo) && isdigit((unsigned char)eo->valuestring[0]))
		exp = strtoll(eo->valuestring, NULL, 10);
	else if (cJSON_IsString(eon))
		exp = parse_expires_on(eon->valuestring);
	if (exp <= 0) {
		snprintf(err, errlen, "az output has no usable expires_on/expiresOn");
		goto done;
	}
	if (exp * 1000 <= az_epoch_ms()) {
		snprintf(err, errlen, "az returned a token that has already expired");
		goto done;
	}
	tok->token = strdup(at->valuestring);
	if (tok->token == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	tok->expires_ms = exp * 1000;
	rc = AZ_SRC_OK;
done:
	if (j != NULL) {
		if (cJSON_IsObject(j) && cJSON_IsString(at = cJSON_GetObjectItemCaseSensitive(j,
		    "accessToken")))
			OPENSSL_cleanse(at->valuestring, strlen(at->valuestring));
		cJSON_Delete(j);
	}
	return rc;
}

/* The most telling line of az's stderr, cleaned for a message. */
static void
stderr_reason(const char *e, char *out, size_t outlen)
{
	const char *line = e, *best = NULL;

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t n = end != NULL ? (size_t)(end - line) : strlen(line);

		if (n > 0 && (best == NULL || strncmp(line, "ERROR", 5) == 0
		    || strstr(line, "az login") != NULL))
			best = line;
		line = end != NULL ? end + 1 : NULL;
	}
	out[0] = '\0';
	if (best == NULL)
		return;
	size_t o = 0;

	for (size_t i = 0; best[i] != '\0' && best[i] != '\n' && o + 1 < outlen && i < 300; i++)
		out[o++] = (unsigned char)best[i] < 0x20 || (unsigned char)best[i] >= 0x7f
		    ? ' ' : best[i];
	out[o] = '\0';
}

enum az_src_rc
az_cli_fetch(struct az_cred *c, struct az_src *s, const char *scope, struct az_token *tok,
    char *err, size_t errlen)
{
	const char *path = az_env(c, "PATH");
	char az[1024], resource[512], reason[320];
	char *argv[10], **env = NULL, *pathvar = NULL;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, argc = 0, status = 0, spawned = 0;
	struct sink so = { 0 }, se = { 0 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	long long deadline;
	enum az_src_rc rc = AZ_SRC_UNAVAILABLE;
	pid_t pid = -1;
	int timed_out = 0;

	(void)s;
	az_scope_resource(scope, resource, sizeof resource);
	if (!safe_arg(resource) || (c->cli_tenant != NULL && !safe_arg(c->cli_tenant))) {
		snprintf(err, errlen, "resource or tenant has characters that are not passed to az");
		return AZ_SRC_FAILED;
	}
	if (find_az(path != NULL ? path : "/usr/local/bin:/usr/bin:/bin", az, sizeof az) != 0) {
		snprintf(err, errlen, "az (Azure CLI) not found on PATH");
		return AZ_SRC_UNAVAILABLE;
	}
	argv[argc++] = "az";
	argv[argc++] = "account";
	argv[argc++] = "get-access-token";
	argv[argc++] = "--output";
	argv[argc++] = "json";
	argv[argc++] = "--resource";
	argv[argc++] = resource;
	if (c->cli_tenant != NULL) {
		argv[argc++] = "--tenant";
		argv[argc++] = c->cli_tenant;
	}
	argv[argc] = NULL;

	so.cap = OUT_MAX;
	se.cap = ERR_MAX;
	so.buf = malloc(so.cap + 1);
	se.buf = malloc(se.cap + 1);
	env = child_env(path, &pathvar);
	if (so.buf == NULL || se.buf == NULL || env == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = AZ_SRC_FAILED;
		goto out;
	}
	so.buf[0] = se.buf[0] = '\0';
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "cannot create pipes for az: %s", strerror(errno));
		rc = AZ_SRC_FAILED;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGHUP);
	sigaddset(&defaults, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setpgroup(&attr, 0);	/* its own group: killed as one */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
	    | POSIX_SPAWN_SETSIGDEF);
	errno = posix_spawn(&pid, az, &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	if (errno != 0) {
		snprintf(err, errlen, "cannot run %s: %s", az, strerror(errno));
		goto out;
	}
	spawned = 1;
	so.fd = outp[0];
	se.fd = errp[0];
	deadline = http_now_ms() + c->cli_timeout_ms;
	for (int open_o = 1, open_e = 1; open_o || open_e;) {
		struct pollfd pf[2];
		int nf = 0, k;
		long long left = deadline - http_now_ms();

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (open_o)
			pf[nf++] = (struct pollfd){ .fd = so.fd, .events = POLLIN };
		if (open_e)
			pf[nf++] = (struct pollfd){ .fd = se.fd, .events = POLLIN };
		k = poll(pf, (nfds_t)nf, left > 1000 ? 1000 : (int)left);
		if (k < 0 && errno != EINTR) {
			timed_out = 1;	/* cannot watch it any more: stop it */
			break;
		}
		for (int i = 0; k > 0 && i < nf; i++) {
			if (pf[i].revents == 0)
				continue;
			if (pf[i].fd == so.fd && drain(&so))
				open_o = 0;
			else if (pf[i].fd == se.fd && drain(&se))
				open_e = 0;
		}
	}
	/* Both pipes closed: az is exiting; give it until the deadline. */
	while (!timed_out) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR)) {
			spawned = 0;
			break;
		}
		if (http_now_ms() >= deadline)
			timed_out = 1;
		else
			az_sleep_ms(10);
	}
	if (timed_out) {
		snprintf(err, errlen, "az account get-access-token did not finish within %ld ms "
		    "(killed)", c->cli_timeout_ms);
		goto out;	/* kills and reaps it */
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		stderr_reason(se.buf, reason, sizeof reason);
		if (strstr(se.buf, "az login") != NULL)
			snprintf(err, errlen, "not logged in to the Azure CLI (run `az login`): %s",
			    reason);
		else if (WIFEXITED(status))
			snprintf(err, errlen, "az exited with status %d: %s", WEXITSTATUS(status),
			    reason[0] ? reason : "(no message)");
		else
			snprintf(err, errlen, "az was killed by signal %d", WTERMSIG(status));
		goto out;
	}
	if (so.overflow) {
		snprintf(err, errlen, "az printed more than %d bytes", OUT_MAX);
		rc = AZ_SRC_FAILED;
		goto out;
	}
	/* az works but its answer is unusable: still "unavailable" for the
	 * chain, as the SDKs treat every CLI problem. */
	rc = parse_cli(so.buf, so.len, tok, err, errlen);
	if (rc != AZ_SRC_OK)
		rc = AZ_SRC_UNAVAILABLE;
	else
		log_debug(AZ_MOD, "credential azure-cli: token for %s from %s", resource, az);
out:
	if (spawned) {
		/* The whole group: az is a script that starts python. */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (so.buf != NULL) {
		OPENSSL_cleanse(so.buf, so.cap + 1);
		free(so.buf);
	}
	free(se.buf);
	free(env);
	free(pathvar);
	return rc;
}
