/*
 * kube_client.c — the Kubernetes API client: credentials, requests, Status
 * errors, paged lists and watches (see kube_client.h).
 *
 * Every call goes through do_request(), which builds the URL (the kubeconfig's
 * server, path prefix included, then the API path), picks the credential
 * for this request, and handles the two answers that are worth a second
 * try: 401 (the exec plugin's or tokenFile's credential may have rotated;
 * client-go drops its cached credential and retries once) and 429/5xx with
 * Retry-After (the server asks for it).  Everything else is the caller's to
 * judge; a failed read is never turned into a success.
 *
 * Lists and watches hand the body to the streaming decoder piece by piece
 * from the HTTP layer's callback, so memory stays flat whatever the size of
 * the collection (PRODUCT.md §7).  Small documents (a Lease, an access
 * review, an apply answer) are parsed with cJSON.
 *
 * Sources: "Kubernetes API Concepts" (paths, verbs, efficient detection of
 * changes, resource versions, watch bookmarks, retrieving large results
 * sets in chunks, 410 Gone), the meta/v1 Status and DeleteOptions
 * reference, "Server-Side Apply" (fieldManager, force, content type), and
 * client-go for behaviour the documents leave open: tools/pager/pager.go
 * (an expired continue token falls back to one full list),
 * transport/token_source.go (tokenFile re-read every minute, re-read after
 * a 401), plugin/pkg/client/auth/exec (credential dropped on 401).
 */
#include "kube/kube_client.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/http.h"
#include "src/log.h"

#ifndef BGSWITCH_VERSION
#define BGSWITCH_VERSION "0.0.0"
#endif

#define MOD			"kube"
#define DEFAULT_TIMEOUT_MS	30000L
#define DEFAULT_RETRIES		3
#define DEFAULT_REREAD_MS	60000L
#define MAX_RETRY_DELAY_MS	10000LL
#define SMALL_BODY_MAX		((size_t)16 << 20)	/* a GET of one object */
#define ERROR_BODY_MAX		((size_t)1 << 20)	/* a Status, not a page */
#define FULL_LIST_TIMEOUT_MS	300000L			/* one unpaged list */
#define WATCH_DEFAULT_S		300L
#define WATCH_GRACE_MS		30000L	/* past timeoutSeconds before we give up */

struct kube_client {
	struct http_client *http;
	char *name;
	char *server;			/* no trailing '/' */
	char *ns;
	/* TLS for requests that carry an exec plugin's client certificate */
	char *ca_pem;
	size_t ca_len;
	int insecure;
	long timeout_ms;
	int max_retries;
	long long token_reread_ms;
	int bearer_auth;		/* a static token or a tokenFile (fixed at creation) */

	pthread_mutex_t lock;		/* guards token, token_read_ms, calls */
	pthread_cond_t cond;		/* retry sleeps wake on cancel */
	char *token;			/* static, or tokenFile's content */
	char *token_file;
	long long token_read_ms;
	struct http_cancel **calls;	/* per-call tokens in flight */
	size_t ncalls, capcalls;

	struct kube_exec_config *exec;
	struct kube_exec_cache *cache;
	int own_cache;
	struct kube_exec_opts exec_opts;

	struct http_cancel *cancel;
	atomic_int cancelled;
};

/* ---- small helpers ---------------------------------------------------- */

static void
wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static char *
dup_mem(const char *p, size_t n)
{
	char *d;

	if (p == NULL)
		return NULL;
	d = malloc(n + 1);
	if (d != NULL) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

static void
set_call(struct kube_call *call, enum kube_err e, long status, const char *reason,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
set_call(struct kube_call *call, enum kube_err e, long status, const char *reason,
    const char *fmt, ...)
{
	va_list ap;

	if (call == NULL)
		return;
	call->err = e;
	call->status = status;
	snprintf(call->reason, sizeof call->reason, "%s", reason != NULL ? reason : "");
	va_start(ap, fmt);
	vsnprintf(call->error, sizeof call->error, fmt, ap);
	va_end(ap);
}

static void
call_ok(struct kube_call *call, long status)
{
	if (call == NULL)
		return;
	call->err = KUBE_OK;
	call->status = status;
	call->reason[0] = '\0';
	call->error[0] = '\0';
}

const char *
kube_err_str(enum kube_err e)
{
	switch (e) {
	case KUBE_OK:		return "ok";
	case KUBE_E_TRANSPORT:	return "transport";
	case KUBE_E_AUTH:	return "auth";
	case KUBE_E_FORBIDDEN:	return "forbidden";
	case KUBE_E_NOT_FOUND:	return "not found";
	case KUBE_E_CONFLICT:	return "conflict";
	case KUBE_E_EXPIRED:	return "expired";
	case KUBE_E_DECODE:	return "bad answer";
	case KUBE_E_CANCELLED:	return "cancelled";
	case KUBE_E_OTHER:	return "error";
	}
	return "?";
}

/* A growable string for URLs: continue tokens have no fixed bound. */
struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		char *np;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		np = realloc(b->p, ncap);
		if (np == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static int
unreserved(unsigned char ch)
{
	return isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

/* Appends "?name=value" or "&name=value" with VALUE percent-encoded
 * (RFC 3986 unreserved characters kept). */
static void
sb_query(struct sbuf *b, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";

	sb_str(b, b->p != NULL && strchr(b->p, '?') != NULL ? "&" : "?");
	sb_str(b, name);
	sb_add(b, "=", 1);
	for (const unsigned char *v = (const unsigned char *)value; *v != '\0'; v++) {
		if (unreserved(*v)) {
			sb_add(b, (const char *)v, 1);
		} else {
			char e[3] = { '%', hex[*v >> 4], hex[*v & 15] };

			sb_add(b, e, 3);
		}
	}
}

int
kube_path_add_query(char *buf, size_t buflen, const char *name, const char *value)
{
	struct sbuf b = { 0 };
	int rc = -1;

	if (buf == NULL || name == NULL || value == NULL)
		return -1;
	sb_str(&b, buf);
	sb_query(&b, name, value);
	if (!b.oom && b.len < buflen) {
		memcpy(buf, b.p, b.len + 1);
		rc = 0;
	}
	free(b.p);
	return rc;
}

/* The path as messages show it: without the query, which may hold a long
 * continue token or selectors that add nothing to "what failed". */
static void
path_for_msg(const char *path, char *out, size_t outlen)
{
	size_t n = strcspn(path, "?");

	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, path, n);
	out[n] = '\0';
}

static const char *
status_text(long code)
{
	switch (code) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Request Entity Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default:  return "";
	}
}

static enum kube_err
err_of_status(long status)
{
	switch (status) {
	case 401: return KUBE_E_AUTH;
	case 403: return KUBE_E_FORBIDDEN;
	case 404: return KUBE_E_NOT_FOUND;
	case 409: return KUBE_E_CONFLICT;
	case 410: return KUBE_E_EXPIRED;
	default:  return KUBE_E_OTHER;
	}
}

/* Keeps printable ASCII only, so a hostile answer cannot put control
 * characters into a log line or onto the screen. */
static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = ' ';
}

/* Fills CALL for a non-2xx answer: the meta/v1 Status in BODY when it is
 * one ("GET /x: 404 NotFound: namespaces \"x\" not found"), else the
 * status line and a short, redacted piece of whatever came back. */
static void
status_error(struct kube_call *call, const char *method, const char *path,
    long status, const char *body, size_t len)
{
	char p[256], reason[KUBE_REASON_MAX] = "", msg[KUBE_MESSAGE_MAX] = "";
	cJSON *j = body != NULL && len > 0 ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *r, *m, *k;
	int is_status = 0;

	path_for_msg(path, p, sizeof p);
	if (cJSON_IsObject(j)) {
		k = cJSON_GetObjectItemCaseSensitive(j, "kind");
		r = cJSON_GetObjectItemCaseSensitive(j, "reason");
		m = cJSON_GetObjectItemCaseSensitive(j, "message");
		is_status = (cJSON_IsString(k) && strcmp(k->valuestring, "Status") == 0)
		    || cJSON_IsString(r) || cJSON_IsString(m);
		if (cJSON_IsString(r))
			snprintf(reason, sizeof reason, "%s", r->valuestring);
		if (cJSON_IsString(m))
			snprintf(msg, sizeof msg, "%s", m->valuestring);
	}
	cJSON_Delete(j);
	printable(reason);
	printable(msg);
	log_redact(msg);
	if (is_status) {
		if (reason[0] == '\0')
			snprintf(reason, sizeof reason, "%s", status_text(status));
		set_call(call, err_of_status(status), status, reason, "%s %s: %ld %s%s%s",
		    method, p, status, reason, msg[0] != '\0' ? ": " : "", msg);
		return;
	}
	{
		char snip[81] = "";
		size_t n = len < sizeof snip - 1 ? len : sizeof snip - 1;

		if (body != NULL)
			memcpy(snip, body, n);
		snip[n] = '\0';
		printable(snip);
		log_redact(snip);
		set_call(call, err_of_status(status), status, "", "%s %s: %ld %s%s%s%s",
		    method, p, status, status_text(status),
		    n > 0 ? " (not a Kubernetes Status: \"" : " (empty answer)",
		    snip, n > 0 ? (len > n ? "...\")" : "\")") : "");
	}
}

/* ---- the client --------------------------------------------------------- */

struct kube_client *
kube_client_new(const struct kubeconfig_target *t, const struct kube_client_opts *o,
    char *err, size_t errlen)
{
	struct kube_client_opts none = { 0 };
	struct kube_client *c;
	struct http_tls tls = { 0 };
	struct http_client_config hc = { 0 };
	char name[160], herr[256] = "";
	size_t n;

	if (o == NULL)
		o = &none;
	if (t == NULL || t->server == NULL) {
		snprintf(err, errlen, "kube client: no server");
		return NULL;
	}
	if (http_url_check(t->server, herr, sizeof herr) != 0) {
		snprintf(err, errlen, "context %s: server %s: %s",
		    t->context != NULL ? t->context : "?", t->server, herr);
		return NULL;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL)
		goto oom;
	pthread_mutex_init(&c->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&c->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	atomic_init(&c->cancelled, 0);
	snprintf(name, sizeof name, "%s%s", o->name != NULL ? "" : "kube:",
	    o->name != NULL ? o->name : t->context != NULL ? t->context : "?");
	c->name = strdup(name);
	n = strlen(t->server);
	while (n > 0 && t->server[n - 1] == '/')
		n--;
	c->server = dup_mem(t->server, n);
	c->ns = strdup(t->namespace != NULL && t->namespace[0] != '\0' ? t->namespace : "default");
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->max_retries = o->max_retries == 0 ? DEFAULT_RETRIES : o->max_retries < 0 ? 0 : o->max_retries;
	c->token_reread_ms = o->token_reread_ms > 0 ? o->token_reread_ms : DEFAULT_REREAD_MS;
	c->insecure = t->insecure;
	c->cancel = http_cancel_new();
	if (c->name == NULL || c->server == NULL || c->ns == NULL || c->cancel == NULL)
		goto oom;
	if (t->ca_pem != NULL && (c->ca_pem = dup_mem(t->ca_pem, t->ca_len)) == NULL)
		goto oom;
	c->ca_len = t->ca_len;
	if (t->token != NULL && (c->token = strdup(t->token)) == NULL)
		goto oom;
	if (t->token_file != NULL) {
		if ((c->token_file = strdup(t->token_file)) == NULL)
			goto oom;
		c->token_read_ms = http_now_ms();
	}
	c->bearer_auth = c->token != NULL || c->token_file != NULL;
	if (t->exec != NULL) {
		if ((c->exec = kube_exec_config_dup(t->exec)) == NULL)
			goto oom;
		if (o->exec_cache != NULL) {
			c->cache = o->exec_cache;
		} else {
			if ((c->cache = kube_exec_cache_new()) == NULL)
				goto oom;
			c->own_cache = 1;
		}
		if (o->exec_opts != NULL)
			c->exec_opts = *o->exec_opts;
	}

	tls.ca_pem = t->ca_pem;
	tls.ca_len = t->ca_len;
	tls.cert_pem = t->cert_pem;
	tls.cert_len = t->cert_len;
	tls.key_pem = t->key_pem;
	tls.key_len = t->key_len;
	tls.insecure_skip_verify = t->insecure;
	hc.name = c->name;
	hc.tls = &tls;
	hc.connect_timeout_ms = o->connect_timeout_ms;
	hc.timeout_ms = c->timeout_ms;
	hc.user_agent = "bgswitch/" BGSWITCH_VERSION;
	c->http = http_client_new(&hc, herr, sizeof herr);
	if (c->http == NULL) {
		snprintf(err, errlen, "context %s: %s", t->context != NULL ? t->context : "?", herr);
		kube_client_free(c);
		return NULL;
	}
	if (t->tls_server_name != NULL)
		/* No http_tls field for it yet: connecting to the server's own
		 * name is what curl does, and the certificate is still checked
		 * against that name, so this can only fail closed. */
		log_warn(MOD, "%s: tls-server-name %s is not supported yet; verifying "
		    "the server's host name instead", c->name, t->tls_server_name);
	return c;
oom:
	snprintf(err, errlen, "kube client: out of memory");
	kube_client_free(c);
	return NULL;
}

void
kube_client_cancel(struct kube_client *c)
{
	if (c == NULL)
		return;
	atomic_store(&c->cancelled, 1);
	http_cancel_fire(c->cancel);
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->ncalls; i++)
		http_cancel_fire(c->calls[i]);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void
kube_client_free(struct kube_client *c)
{
	if (c == NULL)
		return;
	http_client_free(c->http);
	free(c->name);
	free(c->server);
	free(c->ns);
	if (c->ca_pem != NULL)
		free(c->ca_pem);
	wipe_free(c->token);
	free(c->token_file);
	free(c->calls);
	kube_exec_config_free(c->exec);
	if (c->own_cache)
		kube_exec_cache_free(c->cache);
	http_cancel_free(c->cancel);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const char *
kube_client_server(const struct kube_client *c)
{
	return c->server;
}

const char *
kube_client_namespace(const struct kube_client *c)
{
	return c->ns;
}

/* Registers a call's own cancel token so kube_client_cancel() reaches it. */
static int
calls_add(struct kube_client *c, struct http_cancel *cx)
{
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if (c->ncalls == c->capcalls) {
		size_t ncap = c->capcalls ? c->capcalls * 2 : 8;
		struct http_cancel **nc = realloc(c->calls, ncap * sizeof *nc);

		if (nc == NULL)
			rc = -1;
		else {
			c->calls = nc;
			c->capcalls = ncap;
		}
	}
	if (rc == 0)
		c->calls[c->ncalls++] = cx;
	pthread_mutex_unlock(&c->lock);
	/* Cancelled while registering: make sure this call sees it. */
	if (atomic_load(&c->cancelled))
		http_cancel_fire(cx);
	return rc;
}

static void
calls_remove(struct kube_client *c, struct http_cancel *cx)
{
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->ncalls; i++)
		if (c->calls[i] == cx) {
			c->calls[i] = c->calls[--c->ncalls];
			break;
		}
	pthread_mutex_unlock(&c->lock);
}

static int
call_cancelled(struct kube_client *c, const struct kube_call *call)
{
	return atomic_load(&c->cancelled)
	    || (call != NULL && http_cancel_fired(call->cancel));
}

/* Sleeps MS unless the client or the call is cancelled first (then -1).
 * Only retries sleep, so waking every 200 ms to look at a per-call token
 * costs nothing when idle; the client's own cancel wakes it at once. */
static int
sleep_ms(struct kube_client *c, const struct kube_call *call, long long ms)
{
	long long until = http_now_ms() + ms;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		long long now = http_now_ms(), slice;
		struct timespec ts;

		if (call_cancelled(c, call)) {
			rc = -1;
			break;
		}
		if (now >= until)
			break;
		slice = until - now < 200 ? until - now : 200;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += slice / 1000;
		ts.tv_nsec += (slice % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* ---- credentials ------------------------------------------------------------ */

struct auth {
	char *header;			/* "Authorization: Bearer ...", wiped */
	char *token;			/* the token sent (a copy), wiped */
	struct kube_exec_cred cred;
	struct http_tls tls;		/* when the exec plugin gave a certificate */
	int tls_set;
};

static void
auth_free(struct auth *a)
{
	wipe_free(a->header);
	wipe_free(a->token);
	kube_exec_cred_free(&a->cred);
	memset(a, 0, sizeof *a);
}

/* The static or file token, re-reading the file when it is older than the
 * re-read period (or FORCE).  A failed re-read keeps the token we have, as
 * client-go's cachingTokenSource does: a rotation in progress must not
 * take the client down. */
static char *
current_token(struct kube_client *c, int force)
{
	char *tok = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->token_file != NULL &&
	    (force || http_now_ms() - c->token_read_ms >= c->token_reread_ms)) {
		char *fresh = NULL, err[512];

		if (kubeconfig_read_token_file(c->token_file, &fresh, err, sizeof err) == 0) {
			wipe_free(c->token);
			c->token = fresh;
		} else {
			log_warn(MOD, "%s: keeping the current token: %s", c->name, err);
		}
		c->token_read_ms = http_now_ms();
	}
	if (c->token != NULL)
		tok = strdup(c->token);
	pthread_mutex_unlock(&c->lock);
	return tok;
}

static int
bearer(struct auth *a, const char *token)
{
	size_t n = strlen(token) + sizeof "Authorization: Bearer ";

	a->header = malloc(n);
	if (a->header == NULL)
		return -1;
	snprintf(a->header, n, "Authorization: Bearer %s", token);
	return 0;
}

/* Picks the credential for one request.  Returns 0, or -1 with CALL
 * filled (the exec plugin failed: an auth failure, with its message). */
static int
auth_get(struct kube_client *c, struct auth *a, int force_file, const char *method,
    const char *path, struct kube_call *call)
{
	char p[256];

	memset(a, 0, sizeof *a);
	path_for_msg(path, p, sizeof p);
	if (c->exec != NULL) {
		char err[1024];
		enum kube_exec_status st = kube_exec_cache_get(c->cache, c->exec,
		    &c->exec_opts, &a->cred, err, sizeof err);

		if (st != KUBE_EXEC_OK) {
			set_call(call, KUBE_E_AUTH, 0, "", "%s %s: no credential: %s", method, p, err);
			return -1;
		}
		if (a->cred.token != NULL) {
			if ((a->token = strdup(a->cred.token)) == NULL || bearer(a, a->token) != 0)
				goto oom;
		} else if (a->cred.cert_pem != NULL) {
			a->tls.ca_pem = c->ca_pem;
			a->tls.ca_len = c->ca_len;
			a->tls.cert_pem = a->cred.cert_pem;
			a->tls.cert_len = a->cred.cert_len;
			a->tls.key_pem = a->cred.key_pem;
			a->tls.key_len = a->cred.key_len;
			a->tls.insecure_skip_verify = c->insecure;
			a->tls_set = 1;
		}
		return 0;
	}
	if (c->bearer_auth) {
		a->token = current_token(c, force_file);
		if (a->token != NULL && bearer(a, a->token) != 0)
			goto oom;
	}
	return 0;
oom:
	auth_free(a);
	set_call(call, KUBE_E_OTHER, 0, "", "%s %s: out of memory", method, p);
	return -1;
}

/* After a 401: drops the credential that was refused.  Returns 1 when a
 * retry may succeed (a new credential can be had), else 0. */
static int
auth_rejected(struct kube_client *c, const struct auth *a)
{
	if (c->exec != NULL) {
		/* Only the refused token: another thread may already have
		 * fetched a fresh one (exec_cred.h). */
		kube_exec_cache_invalidate(c->cache, c->exec, a->cred.token);
		return 1;
	}
	if (c->token_file != NULL) {
		char *now = current_token(c, 1);
		int changed = now != NULL && (a->token == NULL || strcmp(now, a->token) != 0);

		wipe_free(now);
		return changed;
	}
	return 0;
}

/* ---- sending ------------------------------------------------------------ */

struct rq {
	const char *method;
	const char *path;		/* API path with query */
	const char *ctype;		/* of BODY */
	const char *body;
	size_t body_len;
	long timeout_ms;		/* 0 = call's or client's; < 0 = none */
	size_t max_body;
	http_stream_fn on_data;
	void *stream_ctx;
};

/* Performs R with credentials and the retries described at the top.
 * Returns 0 with *RESP holding an HTTP answer (any status; the caller
 * frees it), or -1 with CALL filled (and *RESP freed). */
static int
do_request(struct kube_client *c, const struct rq *r, struct kube_call *call,
    struct http_response *resp)
{
	struct sbuf url = { 0 };
	struct http_cancel *cx = call != NULL && call->cancel != NULL ? call->cancel : c->cancel;
	const char *hdrs[4];
	char ctype[96], p[256];
	int registered = 0, tries = 0, auth_retried = 0, rc = -1;

	memset(resp, 0, sizeof *resp);
	path_for_msg(r->path, p, sizeof p);
	if (r->path[0] != '/') {
		set_call(call, KUBE_E_OTHER, 0, "", "%s %s: API path must start with '/'",
		    r->method, p);
		return -1;
	}
	if (cx != c->cancel) {
		if (calls_add(c, cx) != 0) {
			set_call(call, KUBE_E_OTHER, 0, "", "%s %s: out of memory", r->method, p);
			return -1;
		}
		registered = 1;
	}
	sb_str(&url, c->server);
	sb_str(&url, r->path);
	if (url.oom) {
		set_call(call, KUBE_E_OTHER, 0, "", "%s %s: out of memory", r->method, p);
		goto out;
	}
	for (;;) {
		struct http_request hr = { 0 };
		struct auth a;
		int n = 0;
		long long delay;

		if (call_cancelled(c, call)) {
			set_call(call, KUBE_E_CANCELLED, 0, "", "%s %s: cancelled", r->method, p);
			goto out;
		}
		if (auth_get(c, &a, 0, r->method, r->path, call) != 0)
			goto out;
		hdrs[n++] = "Accept: application/json";
		if (r->ctype != NULL) {
			snprintf(ctype, sizeof ctype, "Content-Type: %s", r->ctype);
			hdrs[n++] = ctype;
		}
		if (a.header != NULL)
			hdrs[n++] = a.header;
		hdrs[n] = NULL;
		hr.method = r->method;
		hr.url = url.p;
		hr.headers = hdrs;
		hr.body = r->body;
		hr.body_len = r->body_len;
		hr.timeout_ms = r->timeout_ms != 0 ? r->timeout_ms
		    : call != NULL && call->timeout_ms > 0 ? call->timeout_ms : 0;
		hr.deadline_ms = call != NULL ? call->deadline_ms : 0;
		hr.tls = a.tls_set ? &a.tls : NULL;
		hr.max_body = r->max_body;
		hr.on_data = r->on_data;
		hr.stream_ctx = r->stream_ctx;
		hr.cancel = cx;
		if (http_do(c->http, &hr, resp) != 0) {
			enum kube_err e = resp->err == HTTP_ERR_CANCELLED ? KUBE_E_CANCELLED
			    : resp->err == HTTP_ERR_POLICY || resp->err == HTTP_ERR_INVALID
			    || resp->err == HTTP_ERR_TOO_BIG || resp->err == HTTP_ERR_OTHER
			    ? KUBE_E_OTHER : KUBE_E_TRANSPORT;

			set_call(call, e, resp->status, "", "%s %s: %s", r->method, p, resp->error);
			auth_free(&a);
			http_response_free(resp);
			goto out;
		}
		if (resp->status == 401 && !auth_retried && auth_rejected(c, &a)) {
			log_info(MOD, "%s: %s %s: 401, retrying once with a fresh credential",
			    c->name, r->method, p);
			auth_retried = 1;
			auth_free(&a);
			http_response_free(resp);
			continue;
		}
		auth_free(&a);
		/* The server asked to come back later (client-go retries such
		 * answers, bounded; "API Priority and Fairness" sends 429 with
		 * Retry-After). */
		delay = http_retry_after_ms(resp);
		if ((resp->status == 429 || (resp->status >= 500 && delay >= 0))
		    && tries < c->max_retries) {
			if (delay < 0)
				delay = 1000;
			if (delay > MAX_RETRY_DELAY_MS)
				delay = MAX_RETRY_DELAY_MS;
			if (call == NULL || call->deadline_ms == 0
			    || http_now_ms() + delay < call->deadline_ms) {
				tries++;
				log_info(MOD, "%s: %s %s: %ld, retry %d in %lld ms", c->name,
				    r->method, p, resp->status, tries, delay);
				http_response_free(resp);
				if (sleep_ms(c, call, delay) != 0) {
					set_call(call, KUBE_E_CANCELLED, 0, "", "%s %s: cancelled",
					    r->method, p);
					goto out;
				}
				continue;
			}
		}
		rc = 0;
		break;
	}
out:
	if (registered)
		calls_remove(c, cx);
	free(url.p);
	return rc;
}

static int
is_2xx(long s)
{
	return s >= 200 && s < 300;
}

/* A request answered with one small JSON object. */
static int
json_call(struct kube_client *c, const char *method, const char *path, const char *ctype,
    const char *body, size_t len, cJSON **out, struct kube_call *call)
{
	struct rq r = { method, path, ctype, body, len, 0, SMALL_BODY_MAX, NULL, NULL };
	struct http_response resp;
	char p[256];
	cJSON *j;

	if (out != NULL)
		*out = NULL;
	if (c == NULL || path == NULL) {
		set_call(call, KUBE_E_OTHER, 0, "", "%s: no client or path", method);
		return -1;
	}
	if (do_request(c, &r, call, &resp) != 0)
		return -1;
	if (!is_2xx(resp.status)) {
		status_error(call, method, path, resp.status, resp.body, resp.body_len);
		http_response_free(&resp);
		return -1;
	}
	path_for_msg(path, p, sizeof p);
	j = cJSON_ParseWithLength(resp.body, resp.body_len);
	if (!cJSON_IsObject(j)) {
		set_call(call, KUBE_E_DECODE, resp.status, "", "%s %s: %ld, but the answer is %s",
		    method, p, resp.status, j == NULL ? (resp.body_len == 0 ? "empty" : "not JSON")
		    : "not a JSON object");
		cJSON_Delete(j);
		http_response_free(&resp);
		return -1;
	}
	call_ok(call, resp.status);
	http_response_free(&resp);
	if (out != NULL)
		*out = j;
	else
		cJSON_Delete(j);
	return 0;
}

int
kube_get(struct kube_client *c, const char *path, cJSON **out, struct kube_call *call)
{
	return json_call(c, "GET", path, NULL, NULL, 0, out, call);
}

int
kube_create(struct kube_client *c, const char *path, const char *json, cJSON **out,
    struct kube_call *call)
{
	return json_call(c, "POST", path, "application/json", json,
	    json != NULL ? strlen(json) : 0, out, call);
}

int
kube_replace(struct kube_client *c, const char *path, const char *json, cJSON **out,
    struct kube_call *call)
{
	return json_call(c, "PUT", path, "application/json", json,
	    json != NULL ? strlen(json) : 0, out, call);
}

int
kube_merge_patch(struct kube_client *c, const char *path, const char *json, cJSON **out,
    struct kube_call *call)
{
	return json_call(c, "PATCH", path, "application/merge-patch+json", json,
	    json != NULL ? strlen(json) : 0, out, call);
}

int
kube_apply(struct kube_client *c, const char *path, const char *body, size_t len,
    const char *field_manager, bool force, cJSON **out, struct kube_call *call)
{
	struct sbuf b = { 0 };
	int rc;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || body == NULL || field_manager == NULL || field_manager[0] == '\0') {
		set_call(call, KUBE_E_OTHER, 0, "", "PATCH %s: server-side apply needs a body "
		    "and a field manager", path != NULL ? path : "?");
		return -1;
	}
	/* "Server-Side Apply": the field manager is required for apply
	 * patches; force=true resolves conflicts by taking ownership. */
	sb_str(&b, path);
	sb_query(&b, "fieldManager", field_manager);
	if (force)
		sb_query(&b, "force", "true");
	if (b.oom) {
		free(b.p);
		set_call(call, KUBE_E_OTHER, 0, "", "PATCH %s: out of memory", path);
		return -1;
	}
	rc = json_call(c, "PATCH", b.p, "application/apply-patch+yaml", body, len, out, call);
	free(b.p);
	return rc;
}

int
kube_delete(struct kube_client *c, const char *path, enum kube_propagation prop,
    cJSON **out, struct kube_call *call)
{
	static const char *const pol[] = { NULL, "Background", "Foreground", "Orphan" };
	char body[128];

	if ((unsigned)prop >= sizeof pol / sizeof pol[0] || pol[prop] == NULL)
		return json_call(c, "DELETE", path, NULL, NULL, 0, out, call);
	/* DeleteOptions in the body, as kubectl sends it. */
	snprintf(body, sizeof body, "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
	    "\"propagationPolicy\":\"%s\"}", pol[prop]);
	return json_call(c, "DELETE", path, "application/json", body, strlen(body), out, call);
}

/* ---- lists ------------------------------------------------------------------ */

struct page {
	struct kube_decoder *d;
	kube_decode_object_fn fn;
	void *ctx;
	uint64_t items;
	int user_stopped, decode_failed, not_list, got_list, got_status;
	struct kube_status st;
};

static int
page_object(void *ctx, enum kube_event ev, const struct kube_object *o)
{
	struct page *pg = ctx;

	switch (ev) {
	case KUBE_EVENT_ITEM:
		pg->items++;
		if (pg->fn != NULL && pg->fn(pg->ctx, ev, o) != 0) {
			pg->user_stopped = 1;
			return 1;
		}
		return 0;
	case KUBE_EVENT_STATUS:
		pg->got_status = 1;
		pg->st = o->status;
		return 0;
	default:
		pg->not_list = 1;
		return 0;
	}
}

static int
page_list(void *ctx, const struct kube_list *l)
{
	struct page *pg = ctx;

	(void)l;
	pg->got_list = 1;
	return 0;
}

static int
page_feed(void *ctx, const char *data, size_t len)
{
	struct page *pg = ctx;

	if (kube_decode_feed(pg->d, data, len) != 0) {
		pg->decode_failed = 1;
		return 1;
	}
	return 0;
}

/* A Status inside a 200 answer (or a watch ERROR event) as a call error. */
static void
status_obj_error(struct kube_call *call, const char *what, const char *path,
    const struct kube_status *st)
{
	char p[256], msg[KUBE_MESSAGE_MAX], reason[KUBE_REASON_MAX];
	long code = st->code > 0 ? st->code : 500;

	path_for_msg(path, p, sizeof p);
	snprintf(msg, sizeof msg, "%s", st->message);
	snprintf(reason, sizeof reason, "%s", st->reason[0] != '\0' ? st->reason
	    : status_text(code));
	printable(msg);
	printable(reason);
	log_redact(msg);
	set_call(call, kube_status_expired(st) ? KUBE_E_EXPIRED : err_of_status(code), code,
	    reason, "%s %s: %ld %s%s%s", what, p, code, reason, msg[0] ? ": " : "", msg);
}

int
kube_list(struct kube_client *c, const char *path, const struct kube_list_opts *o,
    kube_decode_object_fn on_item, void *ctx, struct kube_list_meta *meta,
    struct kube_call *call)
{
	struct kube_list_opts none = { 0 };
	struct kube_list_meta m = { 0 };
	struct kube_call local = { 0 };
	struct page pg = { 0 };
	char *cont = NULL, p[256], lim[32];
	int full, rc = -1;

	if (o == NULL)
		o = &none;
	if (call == NULL)
		call = &local;	/* the outcome of each page steers the next */
	/* META is written only at the end: O's strings may point into it
	 * (a caller listing again from the last list's version). */
	if (c == NULL || path == NULL) {
		if (meta != NULL)
			memset(meta, 0, sizeof *meta);
		set_call(call, KUBE_E_OTHER, 0, "", "LIST: no client or path");
		return -1;
	}
	path_for_msg(path, p, sizeof p);
	pg.d = kube_decode_new(KUBE_DECODE_BODY, page_object, page_list, &pg);
	if (pg.d == NULL) {
		set_call(call, KUBE_E_OTHER, 0, "", "GET %s: out of memory", p);
		return -1;
	}
	if (o->item_kind != NULL)
		kube_decode_set_item_kind(pg.d, o->item_kind);
	pg.fn = on_item;
	pg.ctx = ctx;
	full = o->limit < 0;
	snprintf(lim, sizeof lim, "%ld", o->limit > 0 ? o->limit : (long)KUBE_DEFAULT_PAGE);
	for (;;) {
		struct sbuf u = { 0 };
		struct http_response resp;
		struct rq r = { "GET", NULL, NULL, NULL, 0, 0, ERROR_BODY_MAX, page_feed, &pg };
		const struct kube_list *l;

		sb_str(&u, path);
		if (!full)
			sb_query(&u, "limit", lim);
		if (cont != NULL) {
			sb_query(&u, "continue", cont);
		} else {
			/* With a continue token the server takes the version
			 * from the token; sending one as well is an error
			 * (client-go clears it for the same reason). */
			if (o->resource_version != NULL && o->resource_version[0] != '\0')
				sb_query(&u, "resourceVersion", o->resource_version);
			if (o->resource_version_match != NULL && o->resource_version_match[0] != '\0')
				sb_query(&u, "resourceVersionMatch", o->resource_version_match);
		}
		if (o->label_selector != NULL && o->label_selector[0] != '\0')
			sb_query(&u, "labelSelector", o->label_selector);
		if (o->field_selector != NULL && o->field_selector[0] != '\0')
			sb_query(&u, "fieldSelector", o->field_selector);
		if (u.oom) {
			free(u.p);
			set_call(call, KUBE_E_OTHER, 0, "", "GET %s: out of memory", p);
			goto out;
		}
		if (kube_decode_reset(pg.d) != 0) {
			free(u.p);
			set_call(call, KUBE_E_OTHER, 0, "", "GET %s: out of memory", p);
			goto out;
		}
		pg.items = 0;
		pg.got_list = pg.got_status = pg.not_list = 0;
		pg.decode_failed = pg.user_stopped = 0;
		r.path = u.p;
		/* One unpaged list of a big collection takes longer than a
		 * page; it is still bounded, and cancellable. */
		if (full && call->timeout_ms <= 0)
			r.timeout_ms = FULL_LIST_TIMEOUT_MS > c->timeout_ms ? FULL_LIST_TIMEOUT_MS
			    : c->timeout_ms;
		if (do_request(c, &r, call, &resp) != 0) {
			m.items += pg.items;
			free(u.p);
			if (pg.user_stopped) {
				set_call(call, KUBE_E_CANCELLED, 0, "", "GET %s: stopped by the caller", p);
			} else if (pg.decode_failed) {
				set_call(call, KUBE_E_DECODE, 200, "", "GET %s: bad list (page %u): %s",
				    p, m.pages + 1, kube_decode_error(pg.d));
			} else if (call->err == KUBE_E_TRANSPORT && m.pages > 0) {
				char e[KUBE_ERROR_MAX];

				snprintf(e, sizeof e, "%s", call->error);
				set_call(call, KUBE_E_TRANSPORT, call->status, "", "%s (page %u)", e,
				    m.pages + 1);
			}
			goto out;
		}
		m.items += pg.items;
		if (!is_2xx(resp.status)) {
			status_error(call, "GET", u.p, resp.status, resp.body, resp.body_len);
			http_response_free(&resp);
			free(u.p);
			if (call->err == KUBE_E_EXPIRED && cont != NULL && !full) {
				/* The continue token expired between pages
				 * (its window is about five minutes): start
				 * over as one full list at the version first
				 * asked for, as client-go's pager does. */
				log_info(MOD, "%s: GET %s: continue token expired after %u pages; "
				    "listing again without pages", c->name, p, m.pages);
				free(cont);
				cont = NULL;
				full = 1;
				m.restarts++;
				if (o->on_restart != NULL)
					o->on_restart(ctx);
				continue;
			}
			goto out;
		}
		http_response_free(&resp);
		free(u.p);
		if (kube_decode_finish(pg.d) != 0) {
			set_call(call, KUBE_E_DECODE, 200, "", "GET %s: bad list (page %u): %s", p,
			    m.pages + 1, kube_decode_error(pg.d));
			goto out;
		}
		if (pg.got_status) {
			status_obj_error(call, "GET", path, &pg.st);
			goto out;
		}
		if (!pg.got_list || pg.not_list) {
			set_call(call, KUBE_E_DECODE, 200, "", "GET %s: the answer is not a list", p);
			goto out;
		}
		l = kube_decode_list(pg.d);
		m.pages++;
		snprintf(m.resource_version, sizeof m.resource_version, "%s", l->resource_version);
		free(cont);
		cont = NULL;
		if (full || l->continue_len == 0)
			break;
		if ((cont = dup_mem(l->continue_token, l->continue_len)) == NULL) {
			set_call(call, KUBE_E_OTHER, 0, "", "GET %s: out of memory", p);
			goto out;
		}
	}
	if (m.resource_version[0] == '\0') {
		/* Without it no watch can follow the list. */
		set_call(call, KUBE_E_DECODE, 200, "", "GET %s: the list has no resourceVersion", p);
		goto out;
	}
	call_ok(call, 200);
	rc = 0;
out:
	if (meta != NULL)
		*meta = m;
	free(cont);
	kube_decode_free(pg.d);
	return rc;
}

/* ---- watches ------------------------------------------------------------------ */

struct wctx {
	struct kube_decoder *d;
	kube_decode_object_fn fn;
	void *ctx;
	struct kube_watch_meta *m;
	int user_stopped, decode_failed, got_error;
	struct kube_status st;
};

static int
watch_event(void *ctx, enum kube_event ev, const struct kube_object *o)
{
	struct wctx *w = ctx;

	switch (ev) {
	case KUBE_EVENT_ADDED:
	case KUBE_EVENT_MODIFIED:
	case KUBE_EVENT_DELETED:
	case KUBE_EVENT_BOOKMARK:
		if (o->meta.resource_version[0] != '\0')
			memcpy(w->m->resource_version, o->meta.resource_version,
			    sizeof w->m->resource_version);
		w->m->events++;
		if (w->fn != NULL && w->fn(w->ctx, ev, o) != 0) {
			w->user_stopped = 1;
			return 1;
		}
		return 0;
	case KUBE_EVENT_ERROR:
	case KUBE_EVENT_STATUS:
		/* The server ends the stream after an ERROR; stop reading. */
		w->got_error = 1;
		if (o->kind == KUBE_KIND_STATUS)
			w->st = o->status;
		return 1;
	default:
		return 0;
	}
}

static int
watch_feed(void *ctx, const char *data, size_t len)
{
	struct wctx *w = ctx;

	w->m->streamed = true;
	if (kube_decode_feed(w->d, data, len) != 0) {
		if (!w->got_error && !w->user_stopped)
			w->decode_failed = 1;
		return 1;
	}
	return 0;
}

int
kube_watch(struct kube_client *c, const char *path, const struct kube_watch_opts *o,
    kube_decode_object_fn on_event, void *ctx, struct kube_watch_meta *meta,
    struct kube_call *call)
{
	struct kube_watch_opts none = { 0 };
	struct kube_watch_meta m = { 0 };
	struct wctx w = { 0 };
	struct sbuf u = { 0 };
	struct http_response resp;
	struct rq r = { "GET", NULL, NULL, NULL, 0, 0, ERROR_BODY_MAX, watch_feed, &w };
	char p[256], to[32];
	long timeout_s;
	int rc = -1;

	if (o == NULL)
		o = &none;
	/* META is written only at the end: O's resourceVersion is usually
	 * the previous watch's META. */
	if (c == NULL || path == NULL) {
		if (meta != NULL)
			memset(meta, 0, sizeof *meta);
		set_call(call, KUBE_E_OTHER, 0, "", "WATCH: no client or path");
		return -1;
	}
	path_for_msg(path, p, sizeof p);
	if (o->resource_version != NULL)
		snprintf(m.resource_version, sizeof m.resource_version, "%s", o->resource_version);
	w.m = &m;
	w.fn = on_event;
	w.ctx = ctx;
	w.d = kube_decode_new(KUBE_DECODE_WATCH, watch_event, NULL, &w);
	if (w.d == NULL) {
		set_call(call, KUBE_E_OTHER, 0, "", "WATCH %s: out of memory", p);
		goto out;
	}
	if (o->item_kind != NULL)
		kube_decode_set_item_kind(w.d, o->item_kind);
	timeout_s = o->timeout_s > 0 ? o->timeout_s : WATCH_DEFAULT_S;
	snprintf(to, sizeof to, "%ld", timeout_s);
	sb_str(&u, path);
	sb_query(&u, "watch", "1");
	if (o->resource_version != NULL && o->resource_version[0] != '\0')
		sb_query(&u, "resourceVersion", o->resource_version);
	if (!o->no_bookmarks)
		sb_query(&u, "allowWatchBookmarks", "true");
	sb_query(&u, "timeoutSeconds", to);
	if (o->label_selector != NULL && o->label_selector[0] != '\0')
		sb_query(&u, "labelSelector", o->label_selector);
	if (o->field_selector != NULL && o->field_selector[0] != '\0')
		sb_query(&u, "fieldSelector", o->field_selector);
	if (u.oom) {
		set_call(call, KUBE_E_OTHER, 0, "", "WATCH %s: out of memory", p);
		goto out;
	}
	r.path = u.p;
	/* The server ends the watch after timeoutSeconds; a stream that runs
	 * well past that is a server that went away without closing. */
	r.timeout_ms = (call != NULL && call->timeout_ms > 0) ? call->timeout_ms
	    : timeout_s * 1000 + WATCH_GRACE_MS;
	if (do_request(c, &r, call, &resp) != 0) {
		if (w.got_error) {
			status_obj_error(call, "WATCH", path, &w.st);
			if (w.st.code == 0 && w.st.reason[0] == '\0')
				set_call(call, KUBE_E_OTHER, 200, "", "WATCH %s: ERROR event "
				    "without a Status", p);
		} else if (w.user_stopped) {
			set_call(call, KUBE_E_CANCELLED, 200, "", "WATCH %s: stopped by the caller", p);
		} else if (w.decode_failed) {
			set_call(call, KUBE_E_DECODE, 200, "", "WATCH %s: bad event stream: %s", p,
			    kube_decode_error(w.d));
		}
		goto out;
	}
	if (!is_2xx(resp.status)) {
		status_error(call, "WATCH", u.p, resp.status, resp.body, resp.body_len);
		http_response_free(&resp);
		goto out;
	}
	http_response_free(&resp);
	if (kube_decode_finish(w.d) != 0) {
		/* The events before the cut were whole and delivered. */
		set_call(call, KUBE_E_DECODE, 200, "", "WATCH %s: stream ended inside an event: %s",
		    p, kube_decode_error(w.d));
		goto out;
	}
	call_ok(call, 200);
	rc = 0;
out:
	if (meta != NULL)
		*meta = m;
	free(u.p);
	kube_decode_free(w.d);
	return rc;
}

/* ---- SelfSubjectAccessReview --------------------------------------------------- */

int
kube_can_i(struct kube_client *c, const char *verb, const char *group, const char *resource,
    const char *ns, bool *allowed, char *reason, size_t reasonlen, struct kube_call *call)
{
	cJSON *req = NULL, *spec, *ra, *ans = NULL;
	const cJSON *st, *al, *rs, *ee;
	char *body = NULL;
	int rc = -1;

	if (allowed != NULL)
		*allowed = false;
	if (reason != NULL && reasonlen > 0)
		reason[0] = '\0';
	if (verb == NULL || resource == NULL) {
		set_call(call, KUBE_E_OTHER, 0, "", "access review: verb and resource are required");
		return -1;
	}
	/* authorization.k8s.io/v1 SelfSubjectAccessReview: spec.resourceAttributes
	 * names the request; status.allowed (and denied, reason,
	 * evaluationError) is the answer. */
	req = cJSON_CreateObject();
	if (req == NULL)
		goto oom;
	cJSON_AddStringToObject(req, "apiVersion", "authorization.k8s.io/v1");
	cJSON_AddStringToObject(req, "kind", "SelfSubjectAccessReview");
	spec = cJSON_AddObjectToObject(req, "spec");
	ra = spec != NULL ? cJSON_AddObjectToObject(spec, "resourceAttributes") : NULL;
	if (ra == NULL)
		goto oom;
	if (ns != NULL && ns[0] != '\0')
		cJSON_AddStringToObject(ra, "namespace", ns);
	cJSON_AddStringToObject(ra, "verb", verb);
	cJSON_AddStringToObject(ra, "group", group != NULL ? group : "");
	cJSON_AddStringToObject(ra, "resource", resource);
	if ((body = cJSON_PrintUnformatted(req)) == NULL)
		goto oom;
	if (kube_create(c, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body, &ans,
	    call) != 0)
		goto out;
	st = cJSON_GetObjectItemCaseSensitive(ans, "status");
	al = cJSON_IsObject(st) ? cJSON_GetObjectItemCaseSensitive(st, "allowed") : NULL;
	if (!cJSON_IsBool(al)) {
		set_call(call, KUBE_E_DECODE, 201, "", "POST /apis/authorization.k8s.io/v1/"
		    "selfsubjectaccessreviews: the answer has no boolean status.allowed");
		goto out;
	}
	if (allowed != NULL)
		*allowed = cJSON_IsTrue(al);
	rs = cJSON_GetObjectItemCaseSensitive(st, "reason");
	ee = cJSON_GetObjectItemCaseSensitive(st, "evaluationError");
	if (reason != NULL && reasonlen > 0) {
		snprintf(reason, reasonlen, "%s%s%s",
		    cJSON_IsString(rs) ? rs->valuestring : "",
		    cJSON_IsString(rs) && cJSON_IsString(ee) && ee->valuestring[0] ? "; " : "",
		    cJSON_IsString(ee) ? ee->valuestring : "");
		printable(reason);
	}
	rc = 0;
	goto out;
oom:
	set_call(call, KUBE_E_OTHER, 0, "", "access review: out of memory");
out:
	cJSON_Delete(req);
	cJSON_Delete(ans);
	free(body);
	return rc;
}
