/*
 * credential.c — the credential object: configuration, the default chain,
 * and the per-scope token cache; plus the helpers every source shares
 * (form encoding, token-answer parsing, Entra error text, the token
 * endpoint call).  The sources themselves live in cred_entra.c (secret,
 * certificate, federated token), cred_mi.c (managed identity) and
 * cred_cli.c (Azure CLI).
 *
 * The cache holds one entry per scope.  A caller that finds the token
 * stale marks the entry "fetching" and fetches without holding the lock;
 * callers arriving meanwhile wait on a condition variable and take the
 * result (token or error) of that one fetch, so a burst of ARM calls at
 * expiry costs one token request, not one per thread.
 */
#include "azure/credential.h"

#include "azure/cred_internal.h"
#include "src/log.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_TIMEOUT_MS	30000L
#define DEFAULT_CLI_TIMEOUT_MS	10000L	/* Azure SDK for Go: timeoutCLIRequest = 10 s */
#define DEFAULT_PROBE_MS	1000L	/* Go DefaultAzureCredential: IMDS first try, 1 s */
#define REFRESH_EARLY_MS	(5LL * 60 * 1000)
#define FALLBACK_MARGIN_MS	30000LL	/* an old token still this valid may bridge a failed refresh */
#define ENTRA_ATTEMPTS		3
#define ERRMAX			1536

struct az_cache {
	struct az_cache *next;
	char *scope;
	char *token;		/* wiped when replaced */
	long long exp_ms, refresh_ms;
	int fetching;
	unsigned gen;		/* bumped after every fetch */
	char last_err[ERRMAX];
};

/* ---- small shared helpers --------------------------------------------- */

const char *
az_env(const struct az_cred *c, const char *name)
{
	const char *v = c->getenv_fn != NULL ? c->getenv_fn(c->getenv_ctx, name) : getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

const char *
az_pick(const struct az_cred *c, const char *cfgval, const char *envname)
{
	if (cfgval != NULL && *cfgval != '\0')
		return cfgval;
	return az_env(c, envname);
}

int
az_tenant_valid(const char *t)
{
	size_t n = t != NULL ? strlen(t) : 0;

	if (n == 0 || n > 256)
		return 0;
	for (; *t != '\0'; t++)
		if (!isalnum((unsigned char)*t) && *t != '.' && *t != '-')
			return 0;
	return 1;
}

void
az_errf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (dst == NULL || n == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

long long
az_epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
az_sleep_ms(long long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
az_buf_add(struct az_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		char *np;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		/* Not realloc: the old block may hold a secret and must be
		 * wiped, which realloc would not do. */
		np = malloc(ncap);
		if (np == NULL) {
			b->oom = 1;
			return;
		}
		if (b->p != NULL) {
			memcpy(np, b->p, b->len);
			OPENSSL_cleanse(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
az_buf_str(struct az_buf *b, const char *s)
{
	az_buf_add(b, s, strlen(s));
}

void
az_buf_enc(struct az_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		char e[3];

		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			az_buf_add(b, s, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[ch >> 4];
		e[2] = hex[ch & 15];
		az_buf_add(b, e, 3);
	}
}

void
az_buf_form(struct az_buf *b, const char *name, const char *value)
{
	if (b->len > 0)
		az_buf_add(b, "&", 1);
	az_buf_str(b, name);
	az_buf_add(b, "=", 1);
	az_buf_enc(b, value);
}

void
az_buf_wipe(struct az_buf *b)
{
	if (b->p != NULL) {
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof *b);
}

int
az_b64url(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	size_t need = 4 * ((n + 2) / 3) + 1;
	int len;

	if (outlen < need || n > INT_MAX / 2)
		return -1;
	len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	if (len < 0)
		return -1;
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (int i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return len;
}

void
az_uuid4(char out[37])
{
	unsigned char r[16];

	if (RAND_bytes(r, sizeof r) != 1) {
		/* Only a correlation id: a weak value is not a security hole. */
		for (size_t i = 0; i < sizeof r; i++)
			r[i] = (unsigned char)(rand() & 0xff);
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
	    r[13], r[14], r[15]);
}

void
az_wipe_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void
az_response_wipe(struct http_response *r)
{
	if (r->body != NULL && r->body_len > 0)
		OPENSSL_cleanse(r->body, r->body_len);
	http_response_free(r);
}

void
az_token_clear(struct az_token *t)
{
	az_wipe_free(t->token);
	memset(t, 0, sizeof *t);
}

char *
az_read_file(const char *path, size_t max, size_t *lenp, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rbe");
	struct stat st;
	char *buf;
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		snprintf(err, errlen, "%s is not a regular file of at most %zu bytes", path, max);
		fclose(f);
		return NULL;
	}
	buf = malloc(max + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		snprintf(err, errlen, "cannot read %s%s", path, n > max ? ": file too large" : "");
		OPENSSL_cleanse(buf, max + 1);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (lenp != NULL)
		*lenp = n;
	return buf;
}

/* Wipes every string in a cJSON tree (a token answer) before it is freed:
 * cJSON_Delete() would hand the token back to malloc as it is. */
static void
json_wipe(cJSON *j)
{
	for (; j != NULL; j = j->next) {
		if (j->valuestring != NULL)
			OPENSSL_cleanse(j->valuestring, strlen(j->valuestring));
		json_wipe(j->child);
	}
}

static void
json_wipe_delete(cJSON *j)
{
	if (j != NULL) {
		json_wipe(j);
		cJSON_Delete(j);
	}
}

/* A JSON member that is a non-negative number or a string of digits. */
static int
json_seconds(const cJSON *o, const char *name, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	char *end;

	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e13) {
		*out = (long long)v->valuedouble;
		return 1;
	}
	if (cJSON_IsString(v) && v->valuestring != NULL && isdigit((unsigned char)v->valuestring[0])) {
		errno = 0;
		long long n = strtoll(v->valuestring, &end, 10);

		if (errno == 0 && *end == '\0' && n >= 0 && n < 10000000000000LL) {
			*out = n;
			return 1;
		}
	}
	return 0;
}

int
az_parse_token(const char *body, size_t len, const char *what, struct az_token *out,
    char *err, size_t errlen)
{
	cJSON *j = cJSON_ParseWithLength(body, len);
	const cJSON *at;
	long long now = az_epoch_ms(), secs;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "%s answered 200 without a JSON token object", what);
		goto done;
	}
	at = cJSON_GetObjectItemCaseSensitive(j, "access_token");
	if (!cJSON_IsString(at) || at->valuestring == NULL || at->valuestring[0] == '\0') {
		snprintf(err, errlen, "%s answer has no access_token", what);
		goto done;
	}
	for (const char *p = at->valuestring; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			snprintf(err, errlen, "%s answer's access_token holds characters a "
			    "header cannot carry", what);
			goto done;
		}
	/* expires_in is relative, so a skewed local clock does not matter;
	 * IMDS and App Service also (or only) give expires_on, in epoch
	 * seconds, as a string (learn.microsoft.com, "How to use managed
	 * identities for Azure resources on an Azure VM to acquire an access
	 * token"; Azure/azure-cli PR #20219 lists the forms seen). */
	if (json_seconds(j, "expires_in", &secs))
		out->expires_ms = now + secs * 1000;
	else if (json_seconds(j, "expires_on", &secs))
		out->expires_ms = secs * 1000;
	else {
		snprintf(err, errlen, "%s answer has neither expires_in nor expires_on", what);
		goto done;
	}
	if (out->expires_ms <= now) {
		snprintf(err, errlen, "%s returned a token that has already expired "
		    "(check this machine's clock)", what);
		goto done;
	}
	/* MSAL honours refresh_in when the service sends it. */
	if (json_seconds(j, "refresh_in", &secs) && secs > 0)
		out->refresh_ms = now + secs * 1000;
	out->token = strdup(at->valuestring);
	if (out->token == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	rc = 0;
done:
	json_wipe_delete(j);
	return rc;
}

/* Copies at most MAX printable characters of S, stopping at a line end. */
static void
clean_copy(char *dst, size_t dstlen, const char *s, size_t max)
{
	size_t o = 0;

	for (size_t i = 0; s[i] != '\0' && i < max && o + 1 < dstlen; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\r' || ch == '\n')
			break;
		dst[o++] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
	}
	dst[o] = '\0';
}

void
az_oauth_error(long status, const char *body, char *out, size_t outlen)
{
	cJSON *j = body != NULL ? cJSON_Parse(body) : NULL;
	const cJSON *e, *d, *codes, *tr, *co;
	char desc[400] = "", ids[200] = "", code[64] = "";

	if (!cJSON_IsObject(j)) {
		char quoted[160];

		cJSON_Delete(j);
		if (body == NULL || *body == '\0') {
			snprintf(out, outlen, "%ld (empty answer)", status);
			return;
		}
		clean_copy(quoted, sizeof quoted, body, 120);
		snprintf(out, outlen, "%ld (not a JSON error: \"%s\")", status, quoted);
		return;
	}
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	d = cJSON_GetObjectItemCaseSensitive(j, "error_description");
	codes = cJSON_GetObjectItemCaseSensitive(j, "error_codes");
	tr = cJSON_GetObjectItemCaseSensitive(j, "trace_id");
	co = cJSON_GetObjectItemCaseSensitive(j, "correlation_id");
	if (cJSON_IsString(e))
		clean_copy(code, sizeof code, e->valuestring, 60);
	else if (cJSON_IsObject(e)) {
		/* Some endpoints answer in the ARM shape {error:{code,message}}. */
		const cJSON *ec = cJSON_GetObjectItemCaseSensitive(e, "code");
		const cJSON *em = cJSON_GetObjectItemCaseSensitive(e, "message");

		if (cJSON_IsString(ec))
			clean_copy(code, sizeof code, ec->valuestring, 60);
		if (cJSON_IsString(em))
			clean_copy(desc, sizeof desc, em->valuestring, 380);
	}
	if (cJSON_IsString(d))
		/* Entra puts "Trace ID: ... Timestamp: ..." on the following
		 * lines (\r\n); the first line is the message. */
		clean_copy(desc, sizeof desc, d->valuestring, 380);
	if (strstr(desc, "AADSTS") == NULL && cJSON_IsArray(codes)
	    && cJSON_IsNumber(cJSON_GetArrayItem(codes, 0))) {
		char tmp[sizeof desc];

		az_errf(tmp, sizeof tmp, "AADSTS%d%s%s", cJSON_GetArrayItem(codes, 0)->valueint,
		    desc[0] != '\0' ? ": " : "", desc);
		memcpy(desc, tmp, sizeof desc);
	}
	if (cJSON_IsString(tr) || cJSON_IsString(co)) {
		char t[64] = "", c2[64] = "";

		if (cJSON_IsString(tr))
			clean_copy(t, sizeof t, tr->valuestring, 60);
		if (cJSON_IsString(co))
			clean_copy(c2, sizeof c2, co->valuestring, 60);
		snprintf(ids, sizeof ids, " (trace id %s, correlation id %s)", t[0] ? t : "-",
		    c2[0] ? c2 : "-");
	}
	snprintf(out, outlen, "%ld%s%s%s%s%s", status, code[0] ? " " : "", code,
	    desc[0] ? ": " : "", desc, ids);
	cJSON_Delete(j);
}

void
az_token_url(const struct az_cred *c, const char *tenant, char *out, size_t outlen)
{
	/* Microsoft identity platform, OAuth 2.0 client credentials flow:
	 * POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token */
	snprintf(out, outlen, "%s%s/oauth2/v2.0/token", c->ep.authority_host, tenant);
}

void
az_scope_resource(const char *scope, char *out, size_t outlen)
{
	size_t n = strlen(scope);

	if (n >= 9 && strcmp(scope + n - 9, "/.default") == 0)
		n -= 9;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, scope, n);
	out[n] = '\0';
}

static int
transient_status(long s)
{
	return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

enum az_src_rc
az_entra_post(struct az_cred *c, const char *tenant, const char *form, size_t formlen,
    struct az_token *out, char *err, size_t errlen)
{
	char url[800], reqid[37], hreq[80], why[600];
	const char *hdrs[5];
	struct http_request rq;
	struct http_response rs;

	az_token_url(c, tenant, url, sizeof url);
	for (int attempt = 1;; attempt++) {
		long long delay = 500LL << (attempt - 1);
		long long ra;
		int rc;

		/* client-request-id is echoed by Entra and helps support find
		 * the sign-in; MSAL sends the same pair. */
		az_uuid4(reqid);
		snprintf(hreq, sizeof hreq, "client-request-id: %s", reqid);
		hdrs[0] = "Content-Type: application/x-www-form-urlencoded";
		hdrs[1] = "Accept: application/json";
		hdrs[2] = hreq;
		hdrs[3] = "return-client-request-id: true";
		hdrs[4] = NULL;
		memset(&rq, 0, sizeof rq);
		rq.method = "POST";
		rq.url = url;
		rq.headers = hdrs;
		rq.body = form;
		rq.body_len = formlen;
		rq.timeout_ms = c->timeout_ms;
		rc = http_do(c->http, &rq, &rs);
		if (rc != 0) {
			if (http_error_transient(rs.err) && attempt < ENTRA_ATTEMPTS) {
				http_response_free(&rs);
				az_sleep_ms(delay);
				continue;
			}
			snprintf(err, errlen, "token request to %s failed: %s", url, rs.error);
			http_response_free(&rs);
			return AZ_SRC_FAILED;
		}
		if (rs.status == 200) {
			rc = az_parse_token(rs.body, rs.body_len, "Entra ID", out, err, errlen);
			az_response_wipe(&rs);
			return rc == 0 ? AZ_SRC_OK : AZ_SRC_FAILED;
		}
		if (transient_status(rs.status) && attempt < ENTRA_ATTEMPTS) {
			ra = http_retry_after_ms(&rs);
			if (ra >= 0)
				delay = ra < 5000 ? ra : 5000;
			az_response_wipe(&rs);
			az_sleep_ms(delay);
			continue;
		}
		az_oauth_error(rs.status, rs.body, why, sizeof why);
		snprintf(err, errlen, "Entra ID rejected the token request: %s", why);
		az_response_wipe(&rs);
		return AZ_SRC_FAILED;
	}
}

/* ---- kinds ---------------------------------------------------------------- */

static const char *const kind_names[] = {
	[AZ_CRED_DEFAULT] = "default",
	[AZ_CRED_ENVIRONMENT] = "environment",
	[AZ_CRED_WORKLOAD_IDENTITY] = "workload-identity",
	[AZ_CRED_MANAGED_IDENTITY] = "managed-identity",
	[AZ_CRED_AZURE_CLI] = "azure-cli",
};

static const char *const method_names[] = {
	[AZ_M_NONE] = "none",
	[AZ_M_SECRET] = "client secret",
	[AZ_M_CERT] = "client certificate",
	[AZ_M_FEDERATED] = "federated token file",
	[AZ_M_IMDS] = "IMDS",
	[AZ_M_APPSERVICE] = "App Service",
	[AZ_M_CLI] = "az CLI",
};

const char *
az_cred_kind_name(enum az_cred_kind k)
{
	if ((unsigned)k < sizeof kind_names / sizeof kind_names[0])
		return kind_names[k];
	return "unknown";
}

int
az_cred_kind_parse(const char *s)
{
	for (size_t i = 0; s != NULL && i < sizeof kind_names / sizeof kind_names[0]; i++)
		if (strcmp(s, kind_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- construction ---------------------------------------------------------- */

void
az_src_free(struct az_src *s)
{
	free(s->tenant);
	free(s->client_id);
	az_wipe_free(s->secret);
	EVP_PKEY_free(s->key);
	free(s->token_file);
	free(s->mi_url);
	az_wipe_free(s->mi_header);
	memset(s, 0, sizeof *s);
}

static void
cache_free(struct az_cache *e)
{
	while (e != NULL) {
		struct az_cache *next = e->next;

		free(e->scope);
		az_wipe_free(e->token);
		OPENSSL_cleanse(e, sizeof *e);
		free(e);
		e = next;
	}
}

struct az_cred *
az_cred_new(const struct az_cred_config *cfg, char *err, size_t errlen)
{
	static const struct az_cred_config defaults;
	struct http_client_config hc = { 0 };
	struct http_tls tls = { 0 };
	struct az_cred *c;
	int (*init[4])(struct az_cred *, struct az_src *, const struct az_cred_config *, char *,
	    size_t) = { az_src_env_init, az_src_wi_init, az_src_mi_init, az_src_cli_init };
	int first, last, locks = 0;

	if (cfg == NULL)
		cfg = &defaults;
	if ((unsigned)cfg->kind > AZ_CRED_AZURE_CLI) {
		snprintf(err, errlen, "unknown credential kind %d", (int)cfg->kind);
		return NULL;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->kind = cfg->kind;
	c->getenv_fn = cfg->getenv_fn;
	c->getenv_ctx = cfg->getenv_ctx;
	c->chosen = -1;
	atomic_init(&c->last, -1);
	c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->cli_timeout_ms = cfg->cli_timeout_ms > 0 ? cfg->cli_timeout_ms : DEFAULT_CLI_TIMEOUT_MS;
	c->probe_ms = cfg->mi_probe_timeout_ms > 0 ? cfg->mi_probe_timeout_ms : DEFAULT_PROBE_MS;
	if (pthread_mutex_init(&c->lock, NULL) != 0)
		goto oom;
	locks = 1;
	if (pthread_cond_init(&c->cond, NULL) != 0)
		goto oom;
	locks = 2;
	if (az_endpoints_resolve(cfg->cloud, cfg->authority_host, cfg->resource_manager,
	    cfg->getenv_fn, cfg->getenv_ctx, &c->ep, err, errlen) != 0)
		goto fail;
	if (cfg->tenant != NULL && *cfg->tenant != '\0') {
		if (!az_tenant_valid(cfg->tenant)) {
			snprintf(err, errlen, "tenant \"%.80s\" is not a tenant id or domain", cfg->tenant);
			goto fail;
		}
		if ((c->cli_tenant = strdup(cfg->tenant)) == NULL)
			goto oom;
	}
	tls.ca_file = cfg->ca_file;
	hc.name = "entra";
	hc.tls = cfg->ca_file != NULL ? &tls : NULL;
	hc.timeout_ms = c->timeout_ms;
	hc.max_body = 1 << 20;
	c->http = http_client_new(&hc, err, errlen);
	if (c->http == NULL)
		goto fail;

	first = cfg->kind == AZ_CRED_DEFAULT ? 0 : (int)cfg->kind - 1;
	last = cfg->kind == AZ_CRED_DEFAULT ? 3 : first;
	for (int i = first; i <= last; i++) {
		struct az_src *s = &c->src[c->nsrc++];

		s->kind = (enum az_cred_kind)(i + 1);
		if (init[i](c, s, cfg, err, errlen) != 0)
			goto fail;
		if (cfg->kind != AZ_CRED_DEFAULT && s->unavailable[0] != '\0') {
			az_errf(err, errlen, "credential %s: %s", kind_names[s->kind], s->unavailable);
			goto fail;
		}
	}
	return c;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	for (int i = 0; i < c->nsrc; i++)
		az_src_free(&c->src[i]);
	http_client_free(c->http);
	free(c->cli_tenant);
	if (locks > 1)
		pthread_cond_destroy(&c->cond);
	if (locks > 0)
		pthread_mutex_destroy(&c->lock);
	free(c);
	return NULL;
}

void
az_cred_free(struct az_cred *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < c->nsrc; i++)
		az_src_free(&c->src[i]);
	cache_free(c->cache);
	http_client_free(c->http);
	free(c->cli_tenant);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- fetching through the chain ------------------------------------------------ */

static enum az_src_rc
src_fetch(struct az_cred *c, struct az_src *s, const char *scope, int in_chain,
    struct az_token *out, char *err, size_t errlen)
{
	if (s->unavailable[0] != '\0') {
		snprintf(err, errlen, "%s", s->unavailable);
		return s->setup_failed ? AZ_SRC_FAILED : AZ_SRC_UNAVAILABLE;
	}
	switch (s->kind) {
	case AZ_CRED_ENVIRONMENT:
	case AZ_CRED_WORKLOAD_IDENTITY:
		return az_entra_fetch(c, s, scope, out, err, errlen);
	case AZ_CRED_MANAGED_IDENTITY:
		return az_mi_fetch(c, s, scope, in_chain && !atomic_load(&s->mi_probe_done), out,
		    err, errlen);
	case AZ_CRED_AZURE_CLI:
		return az_cli_fetch(c, s, scope, out, err, errlen);
	default:
		snprintf(err, errlen, "no such credential");
		return AZ_SRC_FAILED;
	}
}

/* Appends "; " + TEXT to the chain's error list in OUT. */
static void
err_append(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
err_append(char *out, size_t outlen, const char *fmt, ...)
{
	size_t n = strlen(out);
	va_list ap;

	if (n + 3 >= outlen)
		return;
	if (n > 0 && out[n - 1] != ' ') {
		memcpy(out + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(out + n, outlen - n, fmt, ap);
	va_end(ap);
}

static int
fetch(struct az_cred *c, const char *scope, struct az_token *tok, char *err, size_t errlen)
{
	char why[ERRMAX];
	enum az_src_rc rc;
	int chosen, stop = -1;

	if (c->kind != AZ_CRED_DEFAULT) {
		why[0] = '\0';
		rc = src_fetch(c, &c->src[0], scope, 0, tok, why, sizeof why);
		if (rc == AZ_SRC_OK) {
			atomic_store(&c->last, 0);
			return 0;
		}
		az_errf(err, errlen, "credential %s: %s", kind_names[c->kind], why);
		return -1;
	}
	pthread_mutex_lock(&c->lock);
	chosen = c->chosen;
	pthread_mutex_unlock(&c->lock);
	if (chosen >= 0) {
		/* As DefaultAzureCredential: once a member worked it is the
		 * credential from then on (Azure SDK for Go,
		 * default_azure_credential.go). */
		why[0] = '\0';
		rc = src_fetch(c, &c->src[chosen], scope, 1, tok, why, sizeof why);
		if (rc == AZ_SRC_OK) {
			atomic_store(&c->last, chosen);
			return 0;
		}
		az_errf(err, errlen, "credential default (using %s): %s",
		    kind_names[c->src[chosen].kind], why);
		return -1;
	}
	snprintf(err, errlen, "no credential in the default chain worked: ");
	for (int i = 0; i < c->nsrc; i++) {
		struct az_src *s = &c->src[i];

		why[0] = '\0';
		rc = src_fetch(c, s, scope, 1, tok, why, sizeof why);
		if (s->kind == AZ_CRED_MANAGED_IDENTITY && rc != AZ_SRC_UNAVAILABLE)
			atomic_store(&s->mi_probe_done, 1);	/* it answered: no short timeout again */
		if (rc == AZ_SRC_OK) {
			pthread_mutex_lock(&c->lock);
			c->chosen = i;
			pthread_mutex_unlock(&c->lock);
			atomic_store(&c->last, i);
			log_info(AZ_MOD, "credential: default chain uses %s (%s)", kind_names[s->kind],
			    method_names[s->method]);
			return 0;
		}
		err_append(err, errlen, "%s: %s%s", kind_names[s->kind],
		    rc == AZ_SRC_UNAVAILABLE ? "unavailable: " : "", why);
		if (rc == AZ_SRC_FAILED) {
			stop = i;
			break;
		}
	}
	if (stop >= 0 && stop + 1 < c->nsrc) {
		char rest[128] = "";

		for (int i = stop + 1; i < c->nsrc; i++)
			snprintf(rest + strlen(rest), sizeof rest - strlen(rest), "%s%s",
			    i > stop + 1 ? ", " : "", kind_names[c->src[i].kind]);
		err_append(err, errlen, "not tried: %s (the chain stops at a credential that is "
		    "set up but failed, rather than fall through to another identity)", rest);
	}
	return -1;
}

/* ---- the cache ---------------------------------------------------------------- */

static struct az_cache *
cache_entry(struct az_cred *c, const char *scope)
{
	struct az_cache *e;

	for (e = c->cache; e != NULL; e = e->next)
		if (strcmp(e->scope, scope) == 0)
			return e;
	e = calloc(1, sizeof *e);
	if (e == NULL)
		return NULL;
	e->scope = strdup(scope);
	if (e->scope == NULL) {
		free(e);
		return NULL;
	}
	e->next = c->cache;
	c->cache = e;
	return e;
}

static int
copy_token(const char *t, long long exp_ms, char *tok, size_t n, long long *expires_at_ms,
    char *err, size_t errlen)
{
	size_t len = strlen(t);

	if (len + 1 > n) {
		snprintf(err, errlen, "access token (%zu bytes) does not fit the caller's "
		    "%zu-byte buffer", len, n);
		return -1;
	}
	memcpy(tok, t, len + 1);
	if (expires_at_ms != NULL)
		*expires_at_ms = exp_ms;
	return 0;
}

/* When to refresh a token fetched at NOW: five minutes before expiry, or at
 * half its lifetime when it lives less than ten minutes. */
static long long
refresh_at(long long now, const struct az_token *t)
{
	long long life = t->expires_ms - now;
	long long at = life >= 2 * REFRESH_EARLY_MS ? t->expires_ms - REFRESH_EARLY_MS : now + life / 2;

	if (t->refresh_ms > now && t->refresh_ms < at)
		at = t->refresh_ms;
	return at;
}

int
az_cred_token(struct az_cred *c, const char *scope, char *tok, size_t n,
    long long *expires_at_ms, char *err, size_t errlen)
{
	struct az_cache *e;
	struct az_token fresh = { 0 };
	char why[ERRMAX];
	long long now;
	int rc;

	if (c == NULL || scope == NULL || *scope == '\0' || tok == NULL || n == 0) {
		snprintf(err, errlen, "az_cred_token: missing argument");
		return -1;
	}
	pthread_mutex_lock(&c->lock);
	e = cache_entry(c, scope);
	if (e == NULL) {
		pthread_mutex_unlock(&c->lock);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		now = az_epoch_ms();
		if (e->token != NULL && now < e->refresh_ms) {
			rc = copy_token(e->token, e->exp_ms, tok, n, expires_at_ms, err, errlen);
			pthread_mutex_unlock(&c->lock);
			return rc;
		}
		if (!e->fetching)
			break;
		/* Someone is fetching this scope: take their result. */
		unsigned gen = e->gen;

		while (e->fetching)
			pthread_cond_wait(&c->cond, &c->lock);
		if (e->gen == gen)
			continue;
		now = az_epoch_ms();
		if (e->token != NULL && now < e->exp_ms) {
			rc = copy_token(e->token, e->exp_ms, tok, n, expires_at_ms, err, errlen);
			pthread_mutex_unlock(&c->lock);
			return rc;
		}
		snprintf(err, errlen, "%s", e->last_err);
		pthread_mutex_unlock(&c->lock);
		return -1;
	}
	e->fetching = 1;
	pthread_mutex_unlock(&c->lock);

	why[0] = '\0';
	rc = fetch(c, scope, &fresh, why, sizeof why);

	pthread_mutex_lock(&c->lock);
	now = az_epoch_ms();
	e->fetching = 0;
	e->gen++;
	if (rc == 0) {
		az_wipe_free(e->token);
		e->token = fresh.token;
		fresh.token = NULL;
		e->exp_ms = fresh.expires_ms;
		e->refresh_ms = refresh_at(now, &fresh);
		e->last_err[0] = '\0';
		rc = copy_token(e->token, e->exp_ms, tok, n, expires_at_ms, err, errlen);
	} else if (e->token != NULL && now + FALLBACK_MARGIN_MS < e->exp_ms) {
		/* The refresh failed but the token we hold is still good:
		 * keep working and try again at the next call. */
		log_warn(AZ_MOD, "token refresh failed, using the cached token for %lld s more: %s",
		    (e->exp_ms - now) / 1000, why);
		snprintf(e->last_err, sizeof e->last_err, "%s", why);
		rc = copy_token(e->token, e->exp_ms, tok, n, expires_at_ms, err, errlen);
	} else {
		snprintf(e->last_err, sizeof e->last_err, "%s", why);
		snprintf(err, errlen, "%s", why);
		log_warn(AZ_MOD, "%s", why);
	}
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	az_token_clear(&fresh);
	OPENSSL_cleanse(why, sizeof why);
	return rc;
}

void
az_cred_invalidate(struct az_cred *c, const char *scope)
{
	if (c == NULL || scope == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	for (struct az_cache *e = c->cache; e != NULL; e = e->next) {
		if (strcmp(e->scope, scope) == 0 && e->token != NULL) {
			az_wipe_free(e->token);
			e->token = NULL;
			e->exp_ms = e->refresh_ms = 0;
		}
	}
	pthread_mutex_unlock(&c->lock);
}

const char *
az_cred_name(const struct az_cred *c)
{
	int i = c != NULL ? atomic_load(&((struct az_cred *)c)->last) : -1;

	return i >= 0 ? kind_names[c->src[i].kind] : "none";
}

const char *
az_cred_method(const struct az_cred *c)
{
	int i = c != NULL ? atomic_load(&((struct az_cred *)c)->last) : -1;

	return i >= 0 ? method_names[c->src[i].method] : "none";
}

const struct az_endpoints *
az_cred_endpoints(const struct az_cred *c)
{
	return c != NULL ? &c->ep : NULL;
}
