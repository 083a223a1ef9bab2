/*
 * http.h — the one HTTP layer every bgswitch client goes through.
 *
 * Azure Resource Manager, Entra ID and each cluster's Kubernetes API are all
 * reached through http_do(), so the safety rules live here once: TLS is
 * always verified (unless a caller explicitly opts out, which is logged),
 * plain http:// is refused before any connection unless the host is a
 * loopback address, redirects are not followed unless asked for, and the one
 * log line written per request never shows a token, a SAS signature or a
 * body.  Responses are either accumulated (with a size cap) or streamed to a
 * callback for Kubernetes watches and big lists.
 *
 * Threading contract: a struct http_client may be used by any number of
 * threads at once.  Each http_do() borrows a private libcurl handle from the
 * client's pool (preferring one that last talked to the same scheme, host
 * and port, so its open connection is reused) and gives it back afterwards;
 * DNS answers and TLS sessions are shared between the pool's handles.
 * Requests, responses and cancel tokens belong to the calling thread, except
 * that http_cancel_fire() may be called from any thread.  http_client_free()
 * must not race with a request on the same client.
 */
#ifndef BGSWITCH_HTTP_H
#define BGSWITCH_HTTP_H

#include <stddef.h>

/* TLS settings.  Every PEM may hold several blocks; lengths of 0 mean
 * strlen().  With neither ca_pem nor ca_file the system trust store is used;
 * with either, only those CAs are trusted (as kubectl does with
 * certificate-authority-data). */
struct http_tls {
	const char *ca_pem;		/* trusted CAs, PEM in memory */
	size_t ca_len;
	const char *ca_file;		/* trusted CAs, PEM file */
	const char *cert_pem;		/* client certificate (chain), PEM */
	size_t cert_len;
	const char *key_pem;		/* its private key, PEM, unencrypted */
	size_t key_len;
	int insecure_skip_verify;	/* 1 = no peer/host check; warned in the log when a
					 * client is created with it, or per request */
};

struct http_client_config {
	const char *name;		/* in log lines, e.g. "arm", "kube:blue"; NULL = "http" */
	const struct http_tls *tls;	/* default for every request; copied */
	long connect_timeout_ms;	/* 0 = 10 s */
	long timeout_ms;		/* default whole-request timeout; 0 = 60 s */
	size_t max_body;		/* accumulated body cap; 0 = 32 MiB */
	const char *user_agent;		/* NULL = "bgswitch/<version>" */
	int max_idle;			/* pooled idle handles kept; 0 = 8 */
};

/* Why a request failed without a (complete) HTTP answer. */
enum http_error {
	HTTP_OK = 0,
	HTTP_ERR_INVALID,	/* bad request: NULL/unparsable URL, bad method or header */
	HTTP_ERR_POLICY,	/* refused: plain http to a non-loopback host, other scheme */
	HTTP_ERR_TIMEOUT,	/* per-request timeout or deadline reached */
	HTTP_ERR_RESOLVE,	/* host name not resolved */
	HTTP_ERR_CONNECT,	/* connection refused or unreachable */
	HTTP_ERR_TLS,		/* handshake, verification or client certificate problem */
	HTTP_ERR_IO,		/* connection broke while sending or receiving */
	HTTP_ERR_TOO_BIG,	/* body exceeded the cap */
	HTTP_ERR_CANCELLED,	/* cancel token fired, or the stream callback said stop */
	HTTP_ERR_OTHER,
};

/* Called with body bytes as they arrive (only for 2xx answers: other answers
 * are accumulated into the response body, capped, so the caller can read the
 * error document).  Return 0 to continue; non-zero stops the transfer and
 * http_do() returns -1 with HTTP_ERR_CANCELLED. */
typedef int (*http_stream_fn)(void *ctx, const char *data, size_t len);

/* A cancel token: fire it from any thread to stop every request that carries
 * it, promptly (the waiting request is woken, not polled). */
struct http_cancel;

struct http_request {
	const char *method;		/* "GET", "PUT", ...; NULL = GET (POST when body set) */
	const char *url;
	const char *const *headers;	/* "Name: value" strings, NULL-terminated; may be NULL */
	const char *body;		/* sent as is; may be NULL */
	size_t body_len;
	long timeout_ms;		/* 0 = client default, < 0 = none (watches) */
	long long deadline_ms;		/* absolute, http_now_ms() clock; 0 = none; the sooner wins */
	const struct http_tls *tls;	/* overrides the client's TLS for this request */
	size_t max_body;		/* 0 = client default */
	int follow_redirects;		/* follow up to 5 redirects, https targets only */
	http_stream_fn on_data;		/* streaming mode when set */
	void *stream_ctx;
	struct http_cancel *cancel;	/* may be NULL */
	const char *const *connect_to;	/* "HOST:PORT:ADDRESS:PORT" entries, NULL-terminated:
					 * connect to ADDRESS:PORT instead, keeping the URL's
					 * host for TLS verification, SNI and Host (curl's
					 * CONNECT_TO; checks' `resolve` pinning).  No proxy;
					 * with plain http ADDRESS must be loopback too */
	int allow_imds;			/* also allow plain http to exactly 169.254.169.254:80
					 * (Azure IMDS: link-local, answered by the host);
					 * no proxy and no redirects for it */
};
#define HTTP_HAVE_IMDS_ALLOWANCE 1

struct http_header {
	char *name;			/* as sent by the server */
	char *value;			/* trimmed; same allocation as name */
};

struct http_response {
	long status;			/* final HTTP status; 0 when none was received */
	char *body;			/* NUL-terminated; "" when empty; NULL when streamed */
	size_t body_len;
	struct http_header *headers;	/* of the final response only */
	size_t nheaders;
	enum http_error err;		/* HTTP_OK when http_do() returned 0 */
	char error[256];		/* human-readable cause, names the host; never secrets */
	double elapsed_s;
};

struct http_client;

/* Creates a client; CFG may be NULL for defaults.  The TLS material is
 * checked (PEMs parse, key matches certificate) and copied.  Returns NULL
 * with ERR filled on failure. */
struct http_client *http_client_new(const struct http_client_config *cfg,
    char *err, size_t errlen);
/* Closes pooled connections and wipes the copied key; NULL is a no-op. */
void http_client_free(struct http_client *c);

/* Performs REQ.  Always initializes *RESP, which must be released with
 * http_response_free() whatever the outcome.  Returns 0 when an HTTP answer
 * was received completely (any status), -1 on a transport error with
 * resp->err and resp->error set (resp->status is kept if a status line had
 * already arrived, e.g. for a cancelled stream). */
int http_do(struct http_client *c, const struct http_request *req,
    struct http_response *resp);
void http_response_free(struct http_response *resp);

/* Value of header NAME (case-insensitive) in the final response, or NULL. */
const char *http_header_get(const struct http_response *resp, const char *name);

/* Delay the server asked for, in ms: retry-after-ms, x-ms-retry-after-ms,
 * then Retry-After as delta-seconds or an HTTP-date (0 if in the past).
 * -1 when absent or unparsable. */
long long http_retry_after_ms(const struct http_response *resp);

/* Transport errors worth retrying (timeout, resolve, connect, I/O). */
int http_error_transient(enum http_error e);
const char *http_error_name(enum http_error e);

/* Checks URL against the transport policy without connecting: https
 * anywhere, http only to 127.0.0.0/8, ::1 or localhost.  Returns 0, or -1
 * with ERR filled. */
int http_url_check(const char *url, char *err, size_t errlen);

/* Copy of URL fit for a log: userinfo masked, values of secret-bearing query
 * parameters (sig, code, token, *token*, *secret*, *password*, ...) replaced
 * by "***", fragment dropped.  Returns malloc'd memory (NULL if out of it). */
char *http_redact_url(const char *url);

/* Validates TLS material as http_client_new() does.  0, or -1 with ERR. */
int http_tls_check(const struct http_tls *tls, char *err, size_t errlen);

struct http_cancel *http_cancel_new(void);
/* Marks the token fired and wakes every request carrying it.  Thread-safe. */
void http_cancel_fire(struct http_cancel *cx);
int http_cancel_fired(const struct http_cancel *cx);
/* Frees CX; no request may still carry it. */
void http_cancel_free(struct http_cancel *cx);

/* Monotonic milliseconds, the clock of http_request.deadline_ms. */
long long http_now_ms(void);

#endif
