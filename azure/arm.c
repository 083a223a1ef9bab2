/*
 * arm.c — the Azure Resource Manager client: URL building with the
 * api-version table, retries, readable errors, ETags and long-running
 * operations.
 *
 * Protocol sources:
 *  - Long-running operations: Azure/azure-resource-manager-rpc,
 *    v1.0/async-api-reference.md (summarized in
 *    shared/fixtures/real/MANIFEST.md), and learn.microsoft.com "Track
 *    asynchronous Azure operations": after 201/202 poll Azure-AsyncOperation
 *    when given (its body {status, percentComplete, error{code,message}}),
 *    else Location (202 while running, then the result or 200/204); honour
 *    Retry-After; exactly Succeeded, Failed and Canceled are terminal; a
 *    missing provisioningState means Succeeded; a 4xx/5xx from the status
 *    URL means reading the status failed, not the operation.  A failed
 *    operation behind a Location URL answers with an ARM error body
 *    (learn.microsoft.com, HDInsight "Asynchronous operations (202 Accepted
 *    and location header)": "If the operation failed, the response will be
 *    formatted as per the Error Response Content").
 *  - The final GET of the resource after a PUT/PATCH succeeded, and of the
 *    Location URL after a POST: Azure SDK for Go,
 *    sdk/azcore/arm/internal/pollers/async/async.go (Result).
 *  - Error bodies {"error":{"code","message","target","details"}} and the
 *    older {"code","message"}: ARM RPC common error response.
 *  - Statuses worth retrying (408, 429, 500, 502, 503, 504) and exponential
 *    backoff with jitter: Azure SDK for Go, azcore policy.RetryOptions.
 *
 * api-versions are the newest stable ones in Azure/azure-rest-api-specs that
 * have examples (MANIFEST.md; monitor stable/2023-10-01 has metrics_API.json
 * and GetMetric.json; the Authorization permissions list is 2022-04-01, the
 * default of the .NET Azure.ResourceManager.Authorization library).
 */
#include "azure/arm.h"

#include "src/log.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MOD "arm"
#define TOKEN_MAX 16384

static const struct {
	const char *ns, *type, *version;
} api_versions[] = {
	{ "Microsoft.ContainerService", "managedClusters", "2026-08-01" },
	{ "Microsoft.Network", "applicationGateways", "2026-03-01" },
	{ "Microsoft.Network", "privateDnsZones", "2024-06-01" },	/* and its record sets */
	{ "Microsoft.Insights", "metrics", "2023-10-01" },
	{ "Microsoft.Insights", "metricDefinitions", "2023-10-01" },
	{ "Microsoft.Authorization", "permissions", "2022-04-01" },
};

struct arm_client {
	char *endpoint;		/* ends with '/' */
	char scheme[8];
	char host[256];
	int port;
	char *scope;
	struct az_cred *cred;
	struct http_client *http;
	long request_timeout_ms, call_timeout_ms, lro_timeout_ms;
	int max_attempts;
	long backoff_base_ms, backoff_cap_ms, retry_after_cap_ms;
	long poll_min_ms, poll_max_ms, poll_default_ms;
};

/* One call in progress. */
struct call {
	struct arm_client *c;
	const struct arm_opts *o;
	const char *method;
	char label[200];
	long long t0, deadline;	/* http_now_ms() clock */
	struct arm_response *resp;
};

static void
msg(struct arm_response *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
msg(struct arm_response *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
}

static void
clean_copy(char *dst, size_t dstlen, const char *s, size_t max)
{
	size_t o = 0;

	if (dstlen == 0)
		return;
	for (size_t i = 0; s != NULL && s[i] != '\0' && i < max && o + 1 < dstlen; i++) {
		unsigned char ch = (unsigned char)s[i];

		dst[o++] = ch < 0x20 || ch >= 0x7f ? ' ' : (char)ch;
	}
	dst[o] = '\0';
}

const char *
arm_rc_name(int rc)
{
	switch (rc) {
	case ARM_OK: return "ok";
	case ARM_E_STATUS: return "error status";
	case ARM_E_PRECONDITION: return "precondition failed";
	case ARM_E_TRANSPORT: return "transport error";
	case ARM_E_AUTH: return "no token";
	case ARM_E_OPERATION: return "operation failed";
	case ARM_E_POLL: return "polling failed";
	case ARM_E_TIMEOUT: return "deadline passed";
	case ARM_E_CANCELLED: return "cancelled";
	case ARM_E_INVALID: return "invalid request";
	default: return "unknown";
	}
}

/* ---- paths, api-versions, labels ------------------------------------------- */

/* Length of the path part of P (up to '?' or '#'). */
static size_t
path_len(const char *p)
{
	return strcspn(p, "?#");
}

/* The path of PATH_OR_URL: skips "scheme://host" of an absolute URL. */
static const char *
path_of(const char *p)
{
	const char *s = strstr(p, "://");

	if (s != NULL && s < p + path_len(p)) {
		s = strchr(s + 3, '/');
		return s != NULL ? s : "";
	}
	return p;
}

/* Finds the last "/providers/" in the path part (case-insensitive). */
static const char *
last_providers(const char *p, size_t n)
{
	const char *found = NULL;

	for (size_t i = 0; i + 11 <= n; i++)
		if (strncasecmp(p + i, "/providers/", 11) == 0)
			found = p + i;
	return found;
}

const char *
arm_api_version(const char *path)
{
	const char *p = path_of(path), *prov, *ns, *type;
	size_t n = path_len(p), nslen, typelen;

	prov = last_providers(p, n);
	if (prov == NULL)
		return NULL;
	ns = prov + 11;
	nslen = strcspn(ns, "/?#");
	type = ns + nslen;
	if (*type != '/')
		return NULL;
	type++;
	typelen = strcspn(type, "/?#");
	for (size_t i = 0; i < sizeof api_versions / sizeof api_versions[0]; i++)
		if (strlen(api_versions[i].ns) == nslen && strncasecmp(ns, api_versions[i].ns, nslen) == 0
		    && strlen(api_versions[i].type) == typelen
		    && strncasecmp(type, api_versions[i].type, typelen) == 0)
			return api_versions[i].version;
	return NULL;
}

void
arm_resource_label(const char *path, char *out, size_t outlen)
{
	const char *p = path_of(path), *prov, *start;
	size_t n = path_len(p);

	if (outlen == 0)
		return;
	prov = last_providers(p, n);
	if (prov != NULL) {
		start = prov + 11;
		start += strcspn(start, "/?#");	/* skip the namespace */
		if (*start == '/')
			start++;
	} else {
		/* No provider: the last two segments. */
		int slashes = 0;

		start = p + n;
		while (start > p && slashes < 2) {
			start--;
			if (*start == '/' && start + 1 < p + n)
				slashes++;
		}
		if (*start == '/')
			start++;
	}
	if (start >= p + n)
		start = p;
	while (n > 0 && p[n - 1] == '/')
		n--;
	clean_copy(out, outlen, start, (size_t)(p + n - start));
}

/* Splits URL into scheme, lowercase host and port; -1 when not http(s). */
static int
split_origin(const char *url, char *scheme, size_t slen, char *host, size_t hlen, int *port)
{
	const char *h, *end, *colon;
	size_t n;

	if (strncasecmp(url, "https://", 8) == 0) {
		snprintf(scheme, slen, "https");
		h = url + 8;
		*port = 443;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		snprintf(scheme, slen, "http");
		h = url + 7;
		*port = 80;
	} else {
		return -1;
	}
	end = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(end - h)) != NULL)
		return -1;
	colon = h[0] == '[' ? NULL : memchr(h, ':', (size_t)(end - h));
	n = (size_t)((colon != NULL ? colon : end) - h);
	if (n == 0 || n >= hlen)
		return -1;
	for (size_t i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)h[i]);
	host[n] = '\0';
	if (colon != NULL) {
		*port = atoi(colon + 1);
		if (*port <= 0 || *port > 65535)
			return -1;
	}
	return 0;
}

/* An absolute URL may carry our token only to the ARM endpoint itself (or
 * a regional host under it, over https): an operation URL pointing
 * elsewhere must not collect the bearer token. */
static int
origin_ok(const struct arm_client *c, const char *url)
{
	char scheme[8], host[256];
	int port;
	size_t hl, cl;

	if (split_origin(url, scheme, sizeof scheme, host, sizeof host, &port) != 0)
		return 0;
	if (strcmp(scheme, c->scheme) == 0 && strcmp(host, c->host) == 0 && port == c->port)
		return 1;
	hl = strlen(host);
	cl = strlen(c->host);
	return strcmp(scheme, "https") == 0 && strcmp(c->scheme, "https") == 0 && port == 443
	    && hl > cl + 1 && host[hl - cl - 1] == '.' && strcmp(host + hl - cl, c->host) == 0;
}

static int
has_api_version(const char *url)
{
	const char *q = strchr(url, '?');

	for (; q != NULL; q = strchr(q + 1, '&'))
		if (strncasecmp(q + 1, "api-version=", 12) == 0)
			return 1;
	return 0;
}

/* The full URL of a call; NULL with the message set on bad input. */
static char *
build_url(struct arm_client *c, const char *path, const struct arm_opts *o,
    struct arm_response *r)
{
	const char *version = o != NULL && o->api_version != NULL ? o->api_version : NULL;
	int absolute = strncasecmp(path, "https://", 8) == 0 || strncasecmp(path, "http://", 7) == 0;
	size_t need;
	char *url;

	for (const char *p = path; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			msg(r, "resource path contains spaces or control characters");
			return NULL;
		}
	if (absolute && !origin_ok(c, path)) {
		char host[256] = "?", scheme[8];
		int port;

		(void)split_origin(path, scheme, sizeof scheme, host, sizeof host, &port);
		msg(r, "refusing to send the ARM token to %s: not the resource manager endpoint %s",
		    host, c->host);
		return NULL;
	}
	if (!absolute && path[0] != '/') {
		msg(r, "resource path \"%.80s\" must start with '/'", path);
		return NULL;
	}
	if (!has_api_version(path) && version == NULL) {
		version = arm_api_version(path);
		if (version == NULL) {
			msg(r, "no api-version known for \"%.120s\" (pass one in the options)", path);
			return NULL;
		}
	}
	need = strlen(c->endpoint) + strlen(path) + 40 + (version != NULL ? strlen(version) : 0);
	url = malloc(need);
	if (url == NULL) {
		msg(r, "out of memory");
		return NULL;
	}
	if (absolute)
		snprintf(url, need, "%s", path);
	else
		snprintf(url, need, "%.*s%s", (int)strlen(c->endpoint) - 1, c->endpoint, path);
	if (version != NULL && !has_api_version(url))
		snprintf(url + strlen(url), need - strlen(url), "%capi-version=%s",
		    strchr(url, '?') != NULL ? '&' : '?', version);
	return url;
}

/* ---- client ---------------------------------------------------------------- */

struct arm_client *
arm_client_new(const struct arm_client_config *cfg, char *err, size_t errlen)
{
	struct http_client_config hc = { 0 };
	struct http_tls tls = { 0 };
	struct arm_client *c;
	size_t n;

	if (cfg == NULL || cfg->endpoint == NULL || cfg->scope == NULL || cfg->cred == NULL) {
		snprintf(err, errlen, "ARM client needs an endpoint, a token scope and a credential");
		return NULL;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL)
		goto oom;
	n = strlen(cfg->endpoint);
	while (n > 0 && cfg->endpoint[n - 1] == '/')
		n--;
	c->endpoint = malloc(n + 2);
	c->scope = strdup(cfg->scope);
	if (c->endpoint == NULL || c->scope == NULL)
		goto oom;
	memcpy(c->endpoint, cfg->endpoint, n);
	c->endpoint[n] = '/';
	c->endpoint[n + 1] = '\0';
	if (split_origin(c->endpoint, c->scheme, sizeof c->scheme, c->host, sizeof c->host,
	    &c->port) != 0 || strchr(c->endpoint, '?') != NULL) {
		snprintf(err, errlen, "ARM endpoint \"%.200s\" is not an http(s) URL", cfg->endpoint);
		goto fail;
	}
	c->cred = cfg->cred;
	c->request_timeout_ms = cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms : 60000;
	c->call_timeout_ms = cfg->call_timeout_ms > 0 ? cfg->call_timeout_ms : 5 * 60000;
	c->lro_timeout_ms = cfg->lro_timeout_ms > 0 ? cfg->lro_timeout_ms : 60 * 60000;
	c->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 6;
	c->backoff_base_ms = cfg->backoff_base_ms > 0 ? cfg->backoff_base_ms : 1000;
	c->backoff_cap_ms = cfg->backoff_cap_ms > 0 ? cfg->backoff_cap_ms : 30000;
	c->retry_after_cap_ms = cfg->retry_after_cap_ms > 0 ? cfg->retry_after_cap_ms : 60000;
	c->poll_min_ms = cfg->poll_min_ms > 0 ? cfg->poll_min_ms : 1000;
	c->poll_max_ms = cfg->poll_max_ms > 0 ? cfg->poll_max_ms : 60000;
	c->poll_default_ms = cfg->poll_default_ms > 0 ? cfg->poll_default_ms : 5000;
	if (c->poll_max_ms < c->poll_min_ms)
		c->poll_max_ms = c->poll_min_ms;
	tls.ca_file = cfg->ca_file;
	hc.name = "arm";
	hc.tls = cfg->ca_file != NULL ? &tls : NULL;
	hc.timeout_ms = c->request_timeout_ms;
	c->http = http_client_new(&hc, err, errlen);
	if (c->http == NULL)
		goto fail;
	return c;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (c != NULL) {
		free(c->endpoint);
		free(c->scope);
		free(c);
	}
	return NULL;
}

void
arm_client_free(struct arm_client *c)
{
	if (c == NULL)
		return;
	http_client_free(c->http);
	free(c->endpoint);
	free(c->scope);
	free(c);
}

void
arm_response_free(struct arm_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}

/* ---- waiting ------------------------------------------------------------------ */

static double
elapsed(const struct call *k)
{
	return (double)(http_now_ms() - k->t0) / 1000.0;
}

/* Sleeps MS unless the deadline would pass first (ARM_E_TIMEOUT at once)
 * or the cancel token fires (ARM_E_CANCELLED). */
static int
nap(struct call *k, long long ms)
{
	struct http_cancel *cx = k->o != NULL ? k->o->cancel : NULL;
	long long until = http_now_ms() + ms;

	if (http_cancel_fired(cx))
		return ARM_E_CANCELLED;
	if (until >= k->deadline)
		return ARM_E_TIMEOUT;
	while (http_now_ms() < until) {
		long long left = until - http_now_ms();
		struct timespec ts = { 0, (long)((left < 20 ? left : 20) * 1000000L) };

		if (http_cancel_fired(cx))
			return ARM_E_CANCELLED;
		nanosleep(&ts, NULL);
	}
	return http_cancel_fired(cx) ? ARM_E_CANCELLED : ARM_OK;
}

/* Capped exponential backoff with "equal jitter": half fixed, half random. */
static long long
backoff(const struct arm_client *c, int attempt)
{
	long long d = c->backoff_base_ms;
	unsigned int r = 0;

	for (int i = 1; i < attempt && d < c->backoff_cap_ms; i++)
		d *= 2;
	if (d > c->backoff_cap_ms)
		d = c->backoff_cap_ms;
	if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
		r = (unsigned int)rand();
	return d / 2 + (d > 1 ? (long long)(r % (unsigned int)(d / 2 + 1)) : 0);
}

/* ---- one HTTP exchange --------------------------------------------------------- */

static void
capture_ids(struct arm_response *r, const struct http_response *rs)
{
	const char *v;

	if ((v = http_header_get(rs, "x-ms-request-id")) != NULL)
		clean_copy(r->request_id, sizeof r->request_id, v, 90);
	if ((v = http_header_get(rs, "x-ms-correlation-request-id")) != NULL)
		clean_copy(r->correlation_id, sizeof r->correlation_id, v, 90);
}

static int
retryable_status(long s)
{
	return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

/* Sends once with a token.  0: an HTTP answer is in RS; -1: transport
 * error (RS->err); ARM_E_AUTH: no token (message set). */
static int
send_once(struct call *k, const char *method, const char *url, const char *body, int first,
    struct http_response *rs)
{
	char tok[TOKEN_MAX], auth[TOKEN_MAX + 32], why[1600], reqid[37], hreq[64];
	char ifm[300], ifnm[300];
	const char *hdrs[8];
	struct http_request rq = { 0 };
	int n = 0, rc;

	memset(rs, 0, sizeof *rs);
	if (az_cred_token(k->c->cred, k->c->scope, tok, sizeof tok, NULL, why, sizeof why) != 0) {
		msg(k->resp, "%s %s: cannot get an Azure token: %s", k->method, k->label, why);
		return ARM_E_AUTH;
	}
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
	OPENSSL_cleanse(tok, sizeof tok);
	{
		/* x-ms-client-request-id: a random (v4) UUID per request. */
		unsigned char b[16];

		if (RAND_bytes(b, sizeof b) != 1)
			for (size_t i = 0; i < sizeof b; i++)
				b[i] = (unsigned char)rand();
		b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
		b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
		snprintf(reqid, sizeof reqid, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
		    b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	}
	snprintf(hreq, sizeof hreq, "x-ms-client-request-id: %s", reqid);
	hdrs[n++] = auth;
	hdrs[n++] = "Accept: application/json";
	hdrs[n++] = hreq;
	if (body != NULL)
		hdrs[n++] = "Content-Type: application/json";
	if (first && k->o != NULL && k->o->if_match != NULL && *k->o->if_match != '\0') {
		snprintf(ifm, sizeof ifm, "If-Match: %s", k->o->if_match);
		hdrs[n++] = ifm;
	}
	if (first && k->o != NULL && k->o->if_none_match != NULL && *k->o->if_none_match != '\0') {
		snprintf(ifnm, sizeof ifnm, "If-None-Match: %s", k->o->if_none_match);
		hdrs[n++] = ifnm;
	}
	hdrs[n] = NULL;
	rq.method = method;
	rq.url = url;
	rq.headers = hdrs;
	rq.body = body;
	rq.body_len = body != NULL ? strlen(body) : 0;
	rq.deadline_ms = k->deadline;
	rq.cancel = k->o != NULL ? k->o->cancel : NULL;
	rc = http_do(k->c->http, &rq, rs);
	OPENSSL_cleanse(auth, sizeof auth);
	return rc == 0 ? 0 : -1;
}

/* Sends with the retry rules.  MAY_REPEAT: the request is safe to repeat
 * after a connection failure or a 5xx.  Returns 0 with an answer in RS
 * (possibly an error status), or an ARM_E_* code with the message set. */
static int
exchange(struct call *k, const char *method, const char *url, const char *body, int may_repeat,
    int first, struct http_response *rs, int *attempts)
{
	struct arm_client *c = k->c;
	int reauth = 0, rc;

	for (int attempt = 1;; attempt++) {
		long long delay;

		if (attempts != NULL)
			*attempts = attempt + reauth;
		rc = send_once(k, method, url, body, first, rs);
		if (rc == ARM_E_AUTH)
			return ARM_E_AUTH;
		if (rc != 0) {
			if (rs->err == HTTP_ERR_CANCELLED) {
				msg(k->resp, "%s %s: cancelled", k->method, k->label);
				http_response_free(rs);
				return ARM_E_CANCELLED;
			}
			if (may_repeat && http_error_transient(rs->err) && attempt < c->max_attempts
			    && http_now_ms() < k->deadline) {
				delay = backoff(c, attempt);
				log_debug(MOD, "%s %s: %s; retrying in %lld ms", method, k->label,
				    rs->error, delay);
				http_response_free(rs);
				rc = nap(k, delay);
				if (rc == ARM_OK)
					continue;
				msg(k->resp, "%s %s: %s", k->method, k->label, rc == ARM_E_CANCELLED
				    ? "cancelled" : "deadline passed while retrying a failed connection");
				return rc;
			}
			msg(k->resp, "%s %s: %s%s", k->method, k->label, rs->error,
			    attempt > 1 ? " (after retries)" : "");
			rc = rs->err == HTTP_ERR_TIMEOUT && http_now_ms() >= k->deadline
			    ? ARM_E_TIMEOUT : ARM_E_TRANSPORT;
			http_response_free(rs);
			return rc;
		}
		if (rs->status == 401 && !reauth) {
			/* The token may have been revoked or rotated early: one
			 * retry with a fresh one. */
			reauth = 1;
			attempt--;
			az_cred_invalidate(c->cred, c->scope);
			log_info(MOD, "%s %s: 401, retrying once with a fresh token", method, k->label);
			http_response_free(rs);
			continue;
		}
		if (attempt < c->max_attempts
		    && (rs->status == 429 || (may_repeat && retryable_status(rs->status)))) {
			long long ra = http_retry_after_ms(rs);

			delay = ra >= 0 ? (ra < c->retry_after_cap_ms ? ra : c->retry_after_cap_ms)
			    : backoff(c, attempt);
			if (http_now_ms() + delay < k->deadline) {
				capture_ids(k->resp, rs);
				log_info(MOD, "%s %s: %ld, retrying in %lld ms (attempt %d of %d)%s%s",
				    method, k->label, rs->status, delay, attempt + 1, c->max_attempts,
				    k->resp->request_id[0] ? " req=" : "", k->resp->request_id);
				http_response_free(rs);
				rc = nap(k, delay);
				if (rc == ARM_OK)
					continue;
				msg(k->resp, "%s %s: %s", k->method, k->label, rc == ARM_E_CANCELLED
				    ? "cancelled" : "deadline passed while waiting to retry");
				return rc;
			}
		}
		return 0;
	}
}

/* ---- bodies --------------------------------------------------------------------- */

/* Formats an ARM error answer into R->message and R->error_code. */
static void
error_message(struct call *k, const char *prefix, const struct http_response *rs)
{
	struct arm_response *r = k->resp;
	cJSON *j = rs->body != NULL ? cJSON_ParseWithLength(rs->body, rs->body_len) : NULL;
	const cJSON *e = NULL, *code = NULL, *m = NULL, *target = NULL, *details = NULL;
	char text[640] = "", extra[400] = "", ids[240] = "";

	r->error_code[0] = '\0';
	if (cJSON_IsObject(j)) {
		e = cJSON_GetObjectItem(j, "error");
		if (!cJSON_IsObject(e))
			e = j;	/* the older {code, message} shape */
		code = cJSON_GetObjectItem(e, "code");
		m = cJSON_GetObjectItem(e, "message");
		target = cJSON_GetObjectItem(e, "target");
		details = cJSON_GetObjectItem(e, "details");
		if (!cJSON_IsString(m) && cJSON_IsString(cJSON_GetObjectItem(j, "message")))
			m = cJSON_GetObjectItem(j, "message");
	}
	if (cJSON_IsString(code))
		clean_copy(r->error_code, sizeof r->error_code, code->valuestring, 90);
	if (cJSON_IsString(m))
		clean_copy(text, sizeof text, m->valuestring, 600);
	if (cJSON_IsString(target) && target->valuestring[0] != '\0') {
		char t[120];

		clean_copy(t, sizeof t, target->valuestring, 100);
		snprintf(extra, sizeof extra, " (target %s)", t);
	}
	if (cJSON_IsArray(details)) {
		int shown = 0;
		const cJSON *d;

		cJSON_ArrayForEach(d, details) {
			const cJSON *dc = cJSON_GetObjectItem(d, "code");
			const cJSON *dm = cJSON_GetObjectItem(d, "message");
			char a[80] = "", b[200] = "";
			size_t el = strlen(extra);

			if (shown == 2 || !cJSON_IsObject(d))
				break;
			if (cJSON_IsString(dc))
				clean_copy(a, sizeof a, dc->valuestring, 70);
			if (cJSON_IsString(dm))
				clean_copy(b, sizeof b, dm->valuestring, 180);
			if (a[0] == '\0' && b[0] == '\0')
				continue;
			snprintf(extra + el, sizeof extra - el, "%s%s%s%s", shown ? "; " : "; details: ",
			    a, a[0] && b[0] ? ": " : "", b);
			shown++;
		}
	}
	if (r->error_code[0] == '\0' && text[0] == '\0') {
		char quoted[140] = "";

		if (rs->body != NULL && rs->body_len > 0) {
			clean_copy(quoted, sizeof quoted, rs->body, 120);
			snprintf(text, sizeof text, "(not an ARM error body: \"%s\")", quoted);
		} else {
			snprintf(text, sizeof text, "(empty answer)");
		}
	}
	if (r->request_id[0] != '\0' || r->correlation_id[0] != '\0')
		snprintf(ids, sizeof ids, " (request id %s%s%s)", r->request_id[0] ? r->request_id : "-",
		    r->correlation_id[0] ? ", correlation id " : "", r->correlation_id);
	msg(r, "%s: %ld %s%s%s%s%s", prefix, rs->status, r->error_code,
	    r->error_code[0] ? ": " : "", text, extra, ids);
	cJSON_Delete(j);
}

/* provisioningState of a resource body (properties first), or "" when
 * absent or the body is no JSON object. */
static void
provisioning_state(const char *body, size_t len, char *out, size_t outlen)
{
	cJSON *j = body != NULL && len > 0 ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *p, *s = NULL;

	out[0] = '\0';
	if (cJSON_IsObject(j)) {
		p = cJSON_GetObjectItemCaseSensitive(j, "properties");
		if (cJSON_IsObject(p))
			s = cJSON_GetObjectItemCaseSensitive(p, "provisioningState");
		if (!cJSON_IsString(s))
			s = cJSON_GetObjectItemCaseSensitive(j, "provisioningState");
		if (cJSON_IsString(s))
			clean_copy(out, outlen, s->valuestring, 40);
	}
	cJSON_Delete(j);
}

enum term { T_RUNNING, T_SUCCEEDED, T_FAILED, T_CANCELED };

/* ARM: exactly Succeeded, Failed and Canceled are terminal (compared
 * case-insensitively); "" (no provisioningState) means Succeeded. */
static enum term
terminal(const char *state)
{
	if (state[0] == '\0' || strcasecmp(state, "Succeeded") == 0)
		return T_SUCCEEDED;
	if (strcasecmp(state, "Failed") == 0)
		return T_FAILED;
	if (strcasecmp(state, "Canceled") == 0)
		return T_CANCELED;
	return T_RUNNING;
}

static void
take_body(struct arm_response *r, struct http_response *rs)
{
	const char *et = http_header_get(rs, "ETag");

	free(r->body);
	r->body = rs->body != NULL ? rs->body : calloc(1, 1);
	r->body_len = rs->body != NULL ? rs->body_len : 0;
	rs->body = NULL;
	rs->body_len = 0;
	r->status = rs->status;
	r->etag[0] = '\0';
	if (et != NULL) {
		clean_copy(r->etag, sizeof r->etag, et, 250);
	} else if (r->body != NULL && r->body_len > 0) {
		cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "etag");

		if (cJSON_IsString(e))
			clean_copy(r->etag, sizeof r->etag, e->valuestring, 250);
		cJSON_Delete(j);
	}
}

static void
report(struct call *k, const char *status, double percent)
{
	struct arm_progress p;

	if (k->o == NULL || k->o->progress == NULL)
		return;
	p.method = k->method;
	p.resource = k->label;
	p.status = status;
	p.percent = percent;
	p.elapsed_s = elapsed(k);
	p.polls = k->resp->polls;
	k->o->progress(k->o->progress_ctx, &p);
}

/* ---- long-running operations -------------------------------------------------- */

static long long
poll_wait(const struct arm_client *c, const struct http_response *rs)
{
	long long ra = rs != NULL ? http_retry_after_ms(rs) : -1;

	if (ra < 0)
		ra = c->poll_default_ms;
	if (ra < c->poll_min_ms)
		ra = c->poll_min_ms;
	if (ra > c->poll_max_ms)
		ra = c->poll_max_ms;
	return ra;
}

/* The operation-status body's status, percentComplete and error. */
static void
op_status(const char *body, size_t len, char *status, size_t slen, double *percent,
    char *code, size_t clen, char *text, size_t tlen)
{
	cJSON *j = body != NULL && len > 0 ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *s, *pc, *e, *ec, *em;

	status[0] = code[0] = text[0] = '\0';
	*percent = -1;
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return;
	}
	s = cJSON_GetObjectItemCaseSensitive(j, "status");
	pc = cJSON_GetObjectItemCaseSensitive(j, "percentComplete");
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	if (cJSON_IsString(s))
		clean_copy(status, slen, s->valuestring, 40);
	if (cJSON_IsNumber(pc))
		*percent = pc->valuedouble;
	if (cJSON_IsObject(e)) {
		ec = cJSON_GetObjectItem(e, "code");
		em = cJSON_GetObjectItem(e, "message");
		if (cJSON_IsString(ec))
			clean_copy(code, clen, ec->valuestring, 90);
		if (cJSON_IsString(em))
			clean_copy(text, tlen, em->valuestring, 600);
	}
	cJSON_Delete(j);
}

static int
op_failed(struct call *k, const char *state, const char *code, const char *text)
{
	struct arm_response *r = k->resp;

	snprintf(r->op_status, sizeof r->op_status, "%s", state);
	snprintf(r->error_code, sizeof r->error_code, "%s", code);
	msg(r, "%s %s: operation %s after %.1f s: %s%s%s%s%s%s", k->method, k->label, state,
	    elapsed(k), code[0] ? code : "no error code", text[0] ? ": " : "", text,
	    r->request_id[0] ? " (request id " : "", r->request_id,
	    r->request_id[0] ? ")" : "");
	log_warn(MOD, "%s", r->message);
	return ARM_E_OPERATION;
}

static int
wait_failed(struct call *k, int rc, const char *state)
{
	msg(k->resp, "%s %s: %s after %.1f s while the operation was %s; it may still be "
	    "running in Azure", k->method, k->label, rc == ARM_E_CANCELLED ? "cancelled"
	    : "deadline passed", elapsed(k), state[0] ? state : "in progress");
	log_warn(MOD, "%s", k->resp->message);
	return rc;
}

/* Follows the operation started by the first answer FIRST (headers read
 * here; its body already moved to the response).  URL is the resource's. */
static int
follow(struct call *k, const char *url, const struct http_response *first, const char *state0)
{
	struct arm_client *c = k->c;
	struct arm_response *r = k->resp;
	const char *h;
	char async[1024] = "", loc[1024] = "", state[48], code[96], text[640];
	long long wait = poll_wait(c, first);
	int rc;

	if ((h = http_header_get(first, "Azure-AsyncOperation")) != NULL)
		snprintf(async, sizeof async, "%s", h);
	if ((h = http_header_get(first, "Location")) != NULL)
		snprintf(loc, sizeof loc, "%s", h);
	snprintf(state, sizeof state, "%s", state0[0] ? state0 : "Accepted");
	report(k, state, -1);
	for (;;) {
		struct http_response rs;
		double percent = -1;
		enum term t;

		rc = nap(k, wait);
		if (rc != ARM_OK)
			return wait_failed(k, rc, state);
		if (async[0] != '\0') {
			if (!origin_ok(c, async)) {
				msg(r, "%s %s: Azure-AsyncOperation URL is not on the ARM endpoint; "
				    "refusing to poll it with the token", k->method, k->label);
				return ARM_E_POLL;
			}
			rc = exchange(k, "GET", async, NULL, 1, 0, &rs, NULL);
			r->polls++;
			if (rc != 0)
				return rc == ARM_E_CANCELLED || rc == ARM_E_TIMEOUT
				    ? wait_failed(k, rc, state) : (rc == ARM_E_AUTH ? rc : ARM_E_POLL);
			capture_ids(r, &rs);
			if (rs.status != 200) {
				char prefix[300];

				snprintf(prefix, sizeof prefix, "%s %s: reading the operation status "
				    "failed (the operation itself may go on)", k->method, k->label);
				error_message(k, prefix, &rs);
				http_response_free(&rs);
				return ARM_E_POLL;
			}
			op_status(rs.body, rs.body_len, state, sizeof state, &percent, code, sizeof code,
			    text, sizeof text);
			if (state[0] == '\0') {
				msg(r, "%s %s: the operation status answer has no status", k->method,
				    k->label);
				http_response_free(&rs);
				return ARM_E_POLL;
			}
			t = terminal(state);
			wait = poll_wait(c, &rs);
			if (t == T_FAILED || t == T_CANCELED) {
				http_response_free(&rs);
				return op_failed(k, state, code, text);
			}
			if (t == T_SUCCEEDED) {
				snprintf(r->op_status, sizeof r->op_status, "%s", state);
				take_body(r, &rs);	/* POST without Location: the result, if any */
				http_response_free(&rs);
				break;
			}
			http_response_free(&rs);
			report(k, state, percent);
			continue;
		}
		if (loc[0] != '\0') {
			if (!origin_ok(c, loc)) {
				msg(r, "%s %s: Location URL is not on the ARM endpoint; refusing to "
				    "poll it with the token", k->method, k->label);
				return ARM_E_POLL;
			}
			rc = exchange(k, "GET", loc, NULL, 1, 0, &rs, NULL);
			r->polls++;
			if (rc != 0)
				return rc == ARM_E_CANCELLED || rc == ARM_E_TIMEOUT
				    ? wait_failed(k, rc, state) : (rc == ARM_E_AUTH ? rc : ARM_E_POLL);
			capture_ids(r, &rs);
			wait = poll_wait(c, &rs);
			if (rs.status == 202) {
				if ((h = http_header_get(&rs, "Location")) != NULL)
					snprintf(loc, sizeof loc, "%s", h);
				http_response_free(&rs);
				snprintf(state, sizeof state, "InProgress");
				report(k, state, -1);
				continue;
			}
			if (rs.status == 200 || rs.status == 201 || rs.status == 204) {
				provisioning_state(rs.body, rs.body_len, state, sizeof state);
				t = terminal(state);
				if (t == T_RUNNING) {
					http_response_free(&rs);
					report(k, state, -1);
					continue;
				}
				if (t != T_SUCCEEDED) {
					http_response_free(&rs);
					return op_failed(k, state, "", "");
				}
				snprintf(r->op_status, sizeof r->op_status, "Succeeded");
				take_body(r, &rs);
				http_response_free(&rs);
				break;
			}
			if (rs.status >= 400 && rs.status < 500 && rs.body != NULL) {
				char prefix[300];
				cJSON *j = cJSON_ParseWithLength(rs.body, rs.body_len);
				int armerr = cJSON_IsObject(j) && (cJSON_GetObjectItem(j, "error") != NULL
				    || cJSON_GetObjectItem(j, "code") != NULL);

				cJSON_Delete(j);
				if (armerr) {
					snprintf(prefix, sizeof prefix, "%s %s: operation Failed after %.1f s",
					    k->method, k->label, elapsed(k));
					error_message(k, prefix, &rs);
					snprintf(r->op_status, sizeof r->op_status, "Failed");
					log_warn(MOD, "%s", r->message);
					http_response_free(&rs);
					return ARM_E_OPERATION;
				}
			}
			{
				char prefix[300];

				snprintf(prefix, sizeof prefix, "%s %s: polling the operation's Location "
				    "failed (the operation itself may go on)", k->method, k->label);
				error_message(k, prefix, &rs);
			}
			http_response_free(&rs);
			return ARM_E_POLL;
		}
		/* Neither header: watch the resource's provisioningState. */
		rc = exchange(k, "GET", url, NULL, 1, 0, &rs, NULL);
		r->polls++;
		if (rc != 0)
			return rc == ARM_E_CANCELLED || rc == ARM_E_TIMEOUT
			    ? wait_failed(k, rc, state) : (rc == ARM_E_AUTH ? rc : ARM_E_POLL);
		capture_ids(r, &rs);
		wait = poll_wait(c, &rs);
		if (rs.status == 404 && strcmp(k->method, "DELETE") == 0) {
			snprintf(r->op_status, sizeof r->op_status, "Succeeded");
			r->status = 404;	/* gone: the delete is done */
			http_response_free(&rs);
			report(k, r->op_status, 100);
			return ARM_OK;
		}
		if (rs.status != 200) {
			char prefix[300];

			snprintf(prefix, sizeof prefix, "%s %s: reading the resource's "
			    "provisioningState failed", k->method, k->label);
			error_message(k, prefix, &rs);
			http_response_free(&rs);
			return ARM_E_POLL;
		}
		provisioning_state(rs.body, rs.body_len, state, sizeof state);
		t = terminal(state);
		if (t == T_FAILED || t == T_CANCELED) {
			take_body(r, &rs);
			http_response_free(&rs);
			return op_failed(k, state, "", "provisioningState says so");
		}
		if (t == T_SUCCEEDED) {
			snprintf(r->op_status, sizeof r->op_status, "Succeeded");
			take_body(r, &rs);
			http_response_free(&rs);
			report(k, r->op_status, 100);
			return ARM_OK;	/* this GET is the final read */
		}
		http_response_free(&rs);
		report(k, state, -1);
	}
	report(k, r->op_status, 100);
	/* The final result. */
	if (strcmp(k->method, "PUT") == 0 || strcmp(k->method, "PATCH") == 0
	    || (strcmp(k->method, "POST") == 0 && async[0] != '\0' && loc[0] != '\0')) {
		struct http_response rs;
		const char *final = strcmp(k->method, "POST") == 0 ? loc : url;

		if (strcmp(k->method, "POST") == 0 && !origin_ok(c, loc))
			return ARM_OK;
		rc = exchange(k, "GET", final, NULL, 1, 0, &rs, NULL);
		if (rc != 0) {
			char keep[sizeof r->message];

			snprintf(keep, sizeof keep, "%s", r->message);
			msg(r, "%s (the operation Succeeded; only the final read failed)", keep);
			return rc == ARM_E_AUTH || rc == ARM_E_CANCELLED || rc == ARM_E_TIMEOUT
			    ? rc : ARM_E_TRANSPORT;
		}
		capture_ids(r, &rs);
		if (rs.status < 200 || rs.status > 299) {
			char prefix[300];

			snprintf(prefix, sizeof prefix, "%s %s: the operation Succeeded but reading the "
			    "result failed", k->method, k->label);
			error_message(k, prefix, &rs);
			http_response_free(&rs);
			return ARM_E_STATUS;
		}
		take_body(r, &rs);
		http_response_free(&rs);
	}
	return ARM_OK;
}

/* ---- calls ------------------------------------------------------------------- */

static int
valid_call_method(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0
	    || strcmp(m, "POST") == 0 || strcmp(m, "DELETE") == 0 || strcmp(m, "HEAD") == 0;
}

int
arm_request(struct arm_client *c, const char *method, const char *path, const char *body,
    const struct arm_opts *o, struct arm_response *resp)
{
	struct call k;
	struct http_response rs;
	char *url = NULL, state[48] = "";
	int rc, may_repeat, lro;
	const char *h;

	if (resp == NULL)
		return ARM_E_INVALID;
	memset(resp, 0, sizeof *resp);
	if (c == NULL || method == NULL || path == NULL || !valid_call_method(method)) {
		msg(resp, "arm_request: bad arguments");
		return ARM_E_INVALID;
	}
	memset(&k, 0, sizeof k);
	k.c = c;
	k.o = o;
	k.method = method;
	k.resp = resp;
	k.t0 = http_now_ms();
	arm_resource_label(path, k.label, sizeof k.label);
	if (o != NULL && o->deadline_ms > 0)
		k.deadline = o->deadline_ms;
	else if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0
	    || (o != NULL && o->no_wait))
		k.deadline = k.t0 + c->call_timeout_ms;
	else
		k.deadline = k.t0 + c->lro_timeout_ms;
	url = build_url(c, path, o, resp);
	if (url == NULL) {
		char keep[sizeof resp->message];

		snprintf(keep, sizeof keep, "%s", resp->message);
		msg(resp, "%s %s: %s", method, k.label, keep);
		return ARM_E_INVALID;
	}
	/* Repeating GET, PUT, DELETE is harmless (RFC 9110 §9.2.2); a POST only
	 * when the caller says so. */
	may_repeat = strcmp(method, "POST") != 0 || (o != NULL && o->idempotent);
	if (strcmp(method, "PATCH") == 0)
		may_repeat = o != NULL && o->idempotent;
	rc = exchange(&k, method, url, body, may_repeat, 1, &rs, &resp->attempts);
	if (rc != 0) {
		log_warn(MOD, "%s", resp->message);
		goto out;
	}
	capture_ids(resp, &rs);
	resp->status = rs.status;
	{
		enum log_level lvl = rs.status >= 400 ? LOG_WARN
		    : strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ? LOG_DEBUG : LOG_INFO;

		log_msg(lvl, MOD, "%s %s -> %ld in %.2f s (attempt %d)%s%s%s%s", method, k.label,
		    rs.status, elapsed(&k), resp->attempts, resp->request_id[0] ? " req=" : "",
		    resp->request_id, resp->correlation_id[0] ? " corr=" : "", resp->correlation_id);
	}
	if (rs.status == 412) {
		char prefix[300];

		snprintf(prefix, sizeof prefix, "%s %s", method, k.label);
		error_message(&k, prefix, &rs);
		http_response_free(&rs);
		rc = ARM_E_PRECONDITION;
		goto out;
	}
	if (rs.status < 200 || rs.status > 299) {
		char prefix[300];

		snprintf(prefix, sizeof prefix, "%s %s", method, k.label);
		error_message(&k, prefix, &rs);
		take_body(resp, &rs);
		resp->status = rs.status;
		http_response_free(&rs);
		rc = ARM_E_STATUS;
		goto out;
	}
	if ((h = http_header_get(&rs, "Azure-AsyncOperation")) != NULL)
		clean_copy(resp->async_url, sizeof resp->async_url, h, sizeof resp->async_url - 1);
	if ((h = http_header_get(&rs, "Location")) != NULL)
		clean_copy(resp->location, sizeof resp->location, h, sizeof resp->location - 1);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		provisioning_state(rs.body, rs.body_len, state, sizeof state);
	take_body(resp, &rs);
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
		http_response_free(&rs);
		rc = ARM_OK;
		goto out;
	}
	snprintf(resp->op_status, sizeof resp->op_status, "%s", state);
	if (rs.status == 201 || rs.status == 202)
		lro = resp->async_url[0] != '\0' || resp->location[0] != '\0'
		    || ((strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0)
		    && terminal(state) == T_RUNNING);
	else
		lro = (strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0)
		    && terminal(state) == T_RUNNING;
	if (!lro || (o != NULL && o->no_wait)) {
		enum term t = terminal(state);

		http_response_free(&rs);
		rc = ARM_OK;
		if (!lro && (t == T_FAILED || t == T_CANCELED))
			rc = op_failed(&k, state, "", "provisioningState says so");
		goto out;
	}
	rc = follow(&k, url, &rs, state);
	http_response_free(&rs);
	if (rc == ARM_OK)
		log_info(MOD, "%s %s: operation %s after %.1f s (%d polls)", method, k.label,
		    resp->op_status[0] ? resp->op_status : "Succeeded", elapsed(&k), resp->polls);
out:
	resp->elapsed_s = elapsed(&k);
	if (resp->body == NULL) {
		resp->body = calloc(1, 1);
		resp->body_len = 0;
	}
	free(url);
	return rc;
}

int
arm_get(struct arm_client *c, const char *path, const struct arm_opts *o,
    struct arm_response *resp)
{
	return arm_request(c, "GET", path, NULL, o, resp);
}

int
arm_put(struct arm_client *c, const char *path, const char *body, const struct arm_opts *o,
    struct arm_response *resp)
{
	return arm_request(c, "PUT", path, body, o, resp);
}

int
arm_post(struct arm_client *c, const char *path, const char *body, const struct arm_opts *o,
    struct arm_response *resp)
{
	return arm_request(c, "POST", path, body, o, resp);
}

int
arm_delete(struct arm_client *c, const char *path, const struct arm_opts *o,
    struct arm_response *resp)
{
	return arm_request(c, "DELETE", path, NULL, o, resp);
}

int
arm_put_if_match(struct arm_client *c, const char *path, const char *body, const char *etag,
    const struct arm_opts *o, struct arm_response *resp)
{
	struct arm_opts copy = { 0 };

	if (etag == NULL || *etag == '\0' || strpbrk(etag, "\r\n") != NULL) {
		if (resp != NULL) {
			memset(resp, 0, sizeof *resp);
			msg(resp, "PUT: If-Match needs the ETag read with the resource");
			resp->body = calloc(1, 1);
		}
		return ARM_E_INVALID;
	}
	if (o != NULL)
		copy = *o;
	copy.if_match = etag;
	return arm_request(c, "PUT", path, body, &copy, resp);
}
