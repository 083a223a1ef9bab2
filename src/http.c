/*
 * http.c — the shared HTTP layer over libcurl.
 *
 * Each request runs on a pooled pair of one easy handle and one multi
 * handle.  The multi handle is there for two reasons: it keeps the pair's
 * connection cache across requests (so a worker polling one ARM endpoint
 * keeps its TLS connection), and curl_multi_poll() can be woken from another
 * thread, which is how a cancel token stops a Kubernetes watch at once
 * instead of at the next progress tick.  Handles are never used by two
 * threads at a time; what they share (DNS cache, TLS sessions) goes through a
 * CURLSH with one mutex per data kind.  libcurl's shared connection cache is
 * avoided on purpose: curl does not support it between concurrent threads.
 *
 * The transport policy is enforced on the parsed URL, and that same parsed
 * URL (CURLOPT_CURLU) is what curl connects to, so the host that was checked
 * is the host that is used.
 */
#include "src/http.h"

#include "src/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef BGSWITCH_VERSION
#define BGSWITCH_VERSION "0.0.0"
#endif

#define MOD			"http"
#define DEFAULT_CONNECT_MS	10000L
#define DEFAULT_TIMEOUT_MS	60000L
#define DEFAULT_MAX_BODY	((size_t)32 << 20)
#define DEFAULT_MAX_IDLE	8
#define MAX_HEADERS		256
#define MAX_REDIRECTS		5L
#define POLL_MS			1000	/* fallback wake-up if a wake-up is lost */

/* ---- cancel tokens ---------------------------------------------------- */

struct http_cancel {
	atomic_int fired;
	pthread_mutex_t lock;
	CURLM **waiting;	/* multi handles of requests carrying the token */
	size_t nwaiting, cap;
};

struct http_cancel *
http_cancel_new(void)
{
	struct http_cancel *cx = calloc(1, sizeof *cx);

	if (cx == NULL)
		return NULL;
	atomic_init(&cx->fired, 0);
	if (pthread_mutex_init(&cx->lock, NULL) != 0) {
		free(cx);
		return NULL;
	}
	return cx;
}

void
http_cancel_fire(struct http_cancel *cx)
{
	if (cx == NULL)
		return;
	atomic_store(&cx->fired, 1);
	pthread_mutex_lock(&cx->lock);
	for (size_t i = 0; i < cx->nwaiting; i++)
		curl_multi_wakeup(cx->waiting[i]);
	pthread_mutex_unlock(&cx->lock);
}

int
http_cancel_fired(const struct http_cancel *cx)
{
	/* atomic_load wants a non-const pointer in older C11 libraries. */
	return cx != NULL && atomic_load(&((struct http_cancel *)cx)->fired) != 0;
}

void
http_cancel_free(struct http_cancel *cx)
{
	if (cx == NULL)
		return;
	pthread_mutex_destroy(&cx->lock);
	free(cx->waiting);
	free(cx);
}

/* A token that cannot record the waiter still works, only more slowly: the
 * request loop also checks the flag every POLL_MS. */
static void
cancel_register(struct http_cancel *cx, CURLM *m)
{
	if (cx == NULL)
		return;
	pthread_mutex_lock(&cx->lock);
	if (cx->nwaiting == cx->cap) {
		size_t ncap = cx->cap ? cx->cap * 2 : 4;
		CURLM **w = realloc(cx->waiting, ncap * sizeof *w);

		if (w != NULL) {
			cx->waiting = w;
			cx->cap = ncap;
		}
	}
	if (cx->nwaiting < cx->cap)
		cx->waiting[cx->nwaiting++] = m;
	pthread_mutex_unlock(&cx->lock);
}

static void
cancel_unregister(struct http_cancel *cx, CURLM *m)
{
	if (cx == NULL)
		return;
	pthread_mutex_lock(&cx->lock);
	for (size_t i = 0; i < cx->nwaiting; i++) {
		if (cx->waiting[i] == m) {
			cx->waiting[i] = cx->waiting[--cx->nwaiting];
			break;
		}
	}
	pthread_mutex_unlock(&cx->lock);
}

/* ---- small helpers ---------------------------------------------------- */

long long
http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char *
dup_mem(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		if (n > 0)
			memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* Server-supplied text headed for a log line: printable ASCII only. */
static void
sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

static size_t
pem_len(const char *p, size_t n)
{
	return p == NULL ? 0 : n != 0 ? n : strlen(p);
}

static const char *const error_names[] = {
	[HTTP_OK] = "ok",
	[HTTP_ERR_INVALID] = "invalid request",
	[HTTP_ERR_POLICY] = "refused by policy",
	[HTTP_ERR_TIMEOUT] = "timeout",
	[HTTP_ERR_RESOLVE] = "name not resolved",
	[HTTP_ERR_CONNECT] = "connection failed",
	[HTTP_ERR_TLS] = "TLS failure",
	[HTTP_ERR_IO] = "connection broken",
	[HTTP_ERR_TOO_BIG] = "response too big",
	[HTTP_ERR_CANCELLED] = "cancelled",
	[HTTP_ERR_OTHER] = "transport error",
};

const char *
http_error_name(enum http_error e)
{
	if ((unsigned)e < sizeof error_names / sizeof error_names[0] && error_names[e] != NULL)
		return error_names[e];
	return "unknown error";
}

int
http_error_transient(enum http_error e)
{
	return e == HTTP_ERR_TIMEOUT || e == HTTP_ERR_RESOLVE || e == HTTP_ERR_CONNECT
	    || e == HTTP_ERR_IO;
}

/* ---- URL policy and redaction ------------------------------------------ */

static int
host_is_loopback(const char *host)
{
	char buf[64];
	struct in_addr a4;
	struct in6_addr a6;
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;	/* curl answers "localhost" itself, never via DNS */
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		if (n - 2 >= sizeof buf)
			return 0;
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return 0;
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	/* curl's URL parser already turned 0x7f.1 and friends into dotted quads. */
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return 0;
}

/* Parses URL and applies the policy.  On success returns the handle curl
 * will use, with HOST and ORIGIN ("scheme://host:port") filled. */
static CURLU *
url_parse(const char *url, char *host, size_t hostlen, char *origin, size_t originlen,
    int allow_imds, int *loopback, int *imds, enum http_error *kind, char *err, size_t errlen)
{
	CURLU *u;
	CURLUcode rc;
	char *scheme = NULL, *h = NULL, *port = NULL;

	*kind = HTTP_ERR_INVALID;
	if (url == NULL || *url == '\0') {
		set_err(err, errlen, "no URL");
		return NULL;
	}
	u = curl_url();
	if (u == NULL) {
		*kind = HTTP_ERR_OTHER;
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (rc != CURLUE_OK) {
		set_err(err, errlen, "invalid URL: %s", curl_url_strerror(rc));
		goto fail;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
	    || curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK
	    || curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		set_err(err, errlen, "invalid URL: no scheme or host");
		goto fail;
	}
	sanitize(h);
	snprintf(host, hostlen, "%s", h);
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		*kind = HTTP_ERR_POLICY;
		set_err(err, errlen, "URL scheme \"%.16s\" refused: only https "
		    "(or http to a loopback address) is allowed", scheme);
		goto fail;
	}
	*loopback = host_is_loopback(h);
	/* Azure's instance metadata service (managed identity tokens) is plain
	 * http on the link-local 169.254.169.254:80 by design: it is answered
	 * by the host the VM runs on and never routed.  It is the one
	 * non-loopback plain-http peer, and only for requests that ask. */
	*imds = allow_imds && strcmp(h, "169.254.169.254") == 0 && strcmp(port, "80") == 0;
	if (strcmp(scheme, "http") == 0 && !*loopback && !*imds) {
		*kind = HTTP_ERR_POLICY;
		set_err(err, errlen, "plain http to %s refused: only https, or http to "
		    "a loopback address, is allowed", host);
		goto fail;
	}
	snprintf(origin, originlen, "%s://%s:%s", scheme, h, port);
	curl_free(scheme);
	curl_free(h);
	curl_free(port);
	*kind = HTTP_OK;
	return u;
fail:
	curl_free(scheme);
	curl_free(h);
	curl_free(port);
	curl_url_cleanup(u);
	return NULL;
}

/* One CONNECT_TO entry, "HOST:PORT:ADDRESS:PORT" (ADDRESS may be an IPv6
 * literal in brackets).  With plain http the address must be loopback:
 * pinning must not carry clear text off the machine that the URL check
 * would have kept on it. */
static int
pin_check(const char *pin, int plain_http, char *err, size_t errlen)
{
	char addr[256];
	const char *a, *end;
	size_t n;
	int colons = 0;

	if (strpbrk(pin, "\r\n ") != NULL) {
		set_err(err, errlen, "connect-to entry has spaces or line breaks");
		return -1;
	}
	for (const char *p = pin; *p != '\0'; p++)
		colons += *p == ':';
	/* HOST:PORT: then the address up to the last colon. */
	a = strchr(pin, ':');
	a = a != NULL ? strchr(a + 1, ':') : NULL;
	end = strrchr(pin, ':');
	if (colons < 3 || a == NULL || end == NULL || end <= a + 1) {
		set_err(err, errlen, "connect-to entry \"%.80s\" is not HOST:PORT:ADDRESS:PORT", pin);
		return -1;
	}
	a++;
	n = (size_t)(end - a);
	if (n >= sizeof addr)
		n = sizeof addr - 1;
	memcpy(addr, a, n);
	addr[n] = '\0';
	if (addr[0] == '[' && n >= 2 && addr[n - 1] == ']') {
		memmove(addr, addr + 1, n - 2);
		addr[n - 2] = '\0';
	}
	if (plain_http && !host_is_loopback(addr)) {
		set_err(err, errlen, "plain http pinned to %s refused: only https, or http to a "
		    "loopback address, is allowed", addr);
		return -1;
	}
	return 0;
}

int
http_url_check(const char *url, char *err, size_t errlen)
{
	char host[256], origin[320];
	enum http_error kind;
	int loopback, imds;
	CURLU *u;

	pthread_once(&global_once, global_init);
	u = url_parse(url, host, sizeof host, origin, sizeof origin, 0, &loopback, &imds, &kind, err,
	    errlen);
	if (u == NULL)
		return -1;
	curl_url_cleanup(u);
	return 0;
}

static int
secret_param(const char *name, size_t n)
{
	static const char *const exact[] = {
		"sig", "code", "key", "apikey", "api_key", "api-key", "pwd", "passwd",
		"skey", "client_assertion", "subject_token",
	};
	static const char *const within[] = {
		"token", "secret", "password", "assertion", "signature", "credential",
	};
	char lower[64];

	if (n == 0 || n >= sizeof lower)
		return n >= sizeof lower;	/* a giant name: mask rather than guess */
	for (size_t i = 0; i < n; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[n] = '\0';
	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (strcmp(lower, exact[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof within / sizeof within[0]; i++)
		if (strstr(lower, within[i]) != NULL)
			return 1;
	return 0;
}

char *
http_redact_url(const char *url)
{
	const char *p, *auth, *end, *at;
	char *out, *o;
	size_t n;

	if (url == NULL)
		url = "";
	n = strlen(url);
	/* A masked value may be longer than the original ("a" -> "***"). */
	out = malloc(n * 3 + 8);
	if (out == NULL)
		return NULL;
	o = out;
	p = url;
	auth = strstr(url, "://");
	if (auth != NULL && auth < url + strcspn(url, "/?#")) {
		memcpy(o, url, (size_t)(auth + 3 - url));
		o += auth + 3 - url;
		p = auth + 3;
		end = p + strcspn(p, "/?#");
		at = NULL;
		for (const char *q = p; q < end; q++)
			if (*q == '@')
				at = q;
		if (at != NULL) {
			memcpy(o, "***", 3);
			o += 3;
			p = at;
		}
	}
	end = p + strcspn(p, "?#");
	memcpy(o, p, (size_t)(end - p));
	o += end - p;
	p = end;
	if (*p == '?') {
		*o++ = '?';
		p++;
		while (*p != '\0' && *p != '#') {
			size_t plen = strcspn(p, "&#");
			size_t nlen = strcspn(p, "=&#");

			if (nlen < plen && secret_param(p, nlen)) {
				memcpy(o, p, nlen + 1);
				o += nlen + 1;
				memcpy(o, "***", 3);
				o += 3;
			} else {
				memcpy(o, p, plen);
				o += plen;
			}
			p += plen;
			if (*p == '&')
				*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* ---- TLS material ------------------------------------------------------- */

/* Never let OpenSSL prompt on the terminal for a passphrase: the UI owns it. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int
count_certs(BIO *bio, X509 **first)
{
	X509 *x;
	int n = 0;

	while ((x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
		if (n == 0 && first != NULL)
			*first = x;
		else
			X509_free(x);
		n++;
	}
	return n;
}

int
http_tls_check(const struct http_tls *t, char *err, size_t errlen)
{
	size_t ca_len, cert_len, key_len;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	BIO *bio;
	int rc = -1;

	if (t == NULL)
		return 0;
	ca_len = pem_len(t->ca_pem, t->ca_len);
	cert_len = pem_len(t->cert_pem, t->cert_len);
	key_len = pem_len(t->key_pem, t->key_len);
	if (ca_len > INT32_MAX || cert_len > INT32_MAX || key_len > INT32_MAX) {
		set_err(err, errlen, "TLS material too large");
		return -1;
	}
	if (ca_len > 0) {
		bio = BIO_new_mem_buf(t->ca_pem, (int)ca_len);
		int n = bio != NULL ? count_certs(bio, NULL) : 0;

		BIO_free(bio);
		if (n == 0) {
			set_err(err, errlen, "CA data holds no PEM certificate");
			goto out;
		}
	}
	if (t->ca_file != NULL) {
		bio = BIO_new_file(t->ca_file, "r");
		if (bio == NULL) {
			set_err(err, errlen, "CA file %s cannot be read", t->ca_file);
			goto out;
		}
		int n = count_certs(bio, NULL);

		BIO_free(bio);
		if (n == 0) {
			set_err(err, errlen, "CA file %s holds no PEM certificate", t->ca_file);
			goto out;
		}
	}
	if ((cert_len > 0) != (key_len > 0)) {
		set_err(err, errlen, "client %s given without its %s",
		    cert_len > 0 ? "certificate" : "key", cert_len > 0 ? "key" : "certificate");
		goto out;
	}
	if (cert_len > 0) {
		bio = BIO_new_mem_buf(t->cert_pem, (int)cert_len);
		if (bio == NULL || count_certs(bio, &cert) == 0) {
			BIO_free(bio);
			set_err(err, errlen, "client certificate is not a PEM certificate");
			goto out;
		}
		BIO_free(bio);
		bio = BIO_new_mem_buf(t->key_pem, (int)key_len);
		key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
		BIO_free(bio);
		if (key == NULL) {
			set_err(err, errlen, "client key is not an unencrypted PEM private key");
			goto out;
		}
		if (X509_check_private_key(cert, key) != 1) {
			set_err(err, errlen, "client key does not match the client certificate");
			goto out;
		}
	}
	rc = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	ERR_clear_error();	/* the queue is per thread; leave it clean for curl */
	return rc;
}

/* The client's private copy of its TLS settings. */
struct tls_copy {
	char *ca, *ca_file, *cert, *key;
	size_t ca_len, cert_len, key_len;
	int insecure;
};

static void
tls_copy_free(struct tls_copy *t)
{
	if (t->key != NULL)
		OPENSSL_cleanse(t->key, t->key_len);
	free(t->ca);
	free(t->ca_file);
	free(t->cert);
	free(t->key);
	memset(t, 0, sizeof *t);
}

static int
tls_copy_init(struct tls_copy *dst, const struct http_tls *src)
{
	memset(dst, 0, sizeof *dst);
	dst->insecure = src->insecure_skip_verify != 0;
	dst->ca_len = pem_len(src->ca_pem, src->ca_len);
	dst->cert_len = pem_len(src->cert_pem, src->cert_len);
	dst->key_len = pem_len(src->key_pem, src->key_len);
	if ((dst->ca_len > 0 && (dst->ca = dup_mem(src->ca_pem, dst->ca_len)) == NULL)
	    || (src->ca_file != NULL && (dst->ca_file = strdup(src->ca_file)) == NULL)
	    || (dst->cert_len > 0 && (dst->cert = dup_mem(src->cert_pem, dst->cert_len)) == NULL)
	    || (dst->key_len > 0 && (dst->key = dup_mem(src->key_pem, dst->key_len)) == NULL)) {
		tls_copy_free(dst);
		return -1;
	}
	return 0;
}

static void
set_blob(CURL *e, CURLoption opt, const char *p, size_t n)
{
	struct curl_blob b = { (void *)(uintptr_t)p, n, CURL_BLOB_COPY };

	curl_easy_setopt(e, opt, &b);
}

static void
apply_tls(CURL *e, const char *ca, size_t ca_len, const char *ca_file, const char *cert,
    size_t cert_len, const char *key, size_t key_len, int insecure)
{
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, insecure ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, insecure ? 0L : 2L);
	if (ca_len > 0 || ca_file != NULL) {
		/* Only the given CAs: the system bundle must not vouch for a
		 * cluster that brought its own CA. */
		curl_easy_setopt(e, CURLOPT_CAPATH, (char *)NULL);
		curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
		if (ca_len > 0)
			set_blob(e, CURLOPT_CAINFO_BLOB, ca, ca_len);
	}
	if (cert_len > 0) {
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		set_blob(e, CURLOPT_SSLCERT_BLOB, cert, cert_len);
	}
	if (key_len > 0) {
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
		set_blob(e, CURLOPT_SSLKEY_BLOB, key, key_len);
	}
}

/* ---- the client and its handle pool --------------------------------------- */

struct slot {
	CURL *easy;
	CURLM *multi;
	char origin[320];	/* what its cached connection, if any, points at */
	char errbuf[CURL_ERROR_SIZE];
	struct slot *next;
};

struct http_client {
	char *name;
	char *user_agent;
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_body;
	int max_idle;
	struct tls_copy tls;
	CURLSH *share;
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
	pthread_mutex_t pool_lock;
	struct slot *idle;	/* most recently used first */
	int nidle;
};

static void
share_lock(CURL *e, curl_lock_data data, curl_lock_access acc, void *ud)
{
	struct http_client *c = ud;

	(void)e;
	(void)acc;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&c->share_lock[data]);
}

static void
share_unlock(CURL *e, curl_lock_data data, void *ud)
{
	struct http_client *c = ud;

	(void)e;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&c->share_lock[data]);
}

struct http_client *
http_client_new(const struct http_client_config *cfg, char *err, size_t errlen)
{
	static const struct http_client_config defaults;
	struct http_client *c;
	int nlocks = 0, pool_ok = 0;

	if (cfg == NULL)
		cfg = &defaults;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		set_err(err, errlen, "libcurl initialization failed: %s", curl_easy_strerror(global_rc));
		return NULL;
	}
	if (http_tls_check(cfg->tls, err, errlen) != 0)
		return NULL;
	c = calloc(1, sizeof *c);
	if (c == NULL)
		goto oom;
	c->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : DEFAULT_CONNECT_MS;
	c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->max_body = cfg->max_body > 0 ? cfg->max_body : DEFAULT_MAX_BODY;
	c->max_idle = cfg->max_idle > 0 ? cfg->max_idle : DEFAULT_MAX_IDLE;
	c->name = strdup(cfg->name != NULL ? cfg->name : MOD);
	c->user_agent = strdup(cfg->user_agent != NULL ? cfg->user_agent : "bgswitch/" BGSWITCH_VERSION);
	if (c->name == NULL || c->user_agent == NULL)
		goto oom;
	sanitize(c->name);
	if (cfg->tls != NULL && tls_copy_init(&c->tls, cfg->tls) != 0)
		goto oom;
	if (pthread_mutex_init(&c->pool_lock, NULL) != 0)
		goto oom;
	pool_ok = 1;
	for (; nlocks < CURL_LOCK_DATA_LAST; nlocks++)
		if (pthread_mutex_init(&c->share_lock[nlocks], NULL) != 0)
			goto oom;
	c->share = curl_share_init();
	if (c->share == NULL)
		goto oom;
	curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	if (c->tls.insecure)
		log_warn(MOD, "%s: TLS certificate verification is DISABLED for this client "
		    "(insecure_skip_verify)", c->name);
	return c;
oom:
	set_err(err, errlen, "out of memory");
	if (c != NULL) {
		if (c->share != NULL)
			curl_share_cleanup(c->share);
		while (nlocks-- > 0)
			pthread_mutex_destroy(&c->share_lock[nlocks]);
		if (pool_ok)
			pthread_mutex_destroy(&c->pool_lock);
		tls_copy_free(&c->tls);
		free(c->name);
		free(c->user_agent);
		free(c);
	}
	return NULL;
}

static void
slot_free(struct slot *s)
{
	if (s == NULL)
		return;
	if (s->easy != NULL)
		curl_easy_cleanup(s->easy);
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	free(s);
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	while (c->idle != NULL) {
		struct slot *s = c->idle;

		c->idle = s->next;
		slot_free(s);
	}
	/* Every easy handle is gone, so the share is no longer in use. */
	curl_share_cleanup(c->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&c->share_lock[i]);
	pthread_mutex_destroy(&c->pool_lock);
	tls_copy_free(&c->tls);
	free(c->name);
	free(c->user_agent);
	free(c);
}

/* Takes an idle slot, preferring one whose connection is to ORIGIN. */
static struct slot *
slot_get(struct http_client *c, const char *origin)
{
	struct slot **pp, *s = NULL;

	pthread_mutex_lock(&c->pool_lock);
	for (pp = &c->idle; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->origin, origin) == 0)
			break;
	if (*pp == NULL)
		pp = &c->idle;
	if (*pp != NULL) {
		s = *pp;
		*pp = s->next;
		c->nidle--;
	}
	pthread_mutex_unlock(&c->pool_lock);
	if (s != NULL)
		return s;

	s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->easy = curl_easy_init();
	s->multi = curl_multi_init();
	if (s->easy == NULL || s->multi == NULL
	    || curl_easy_setopt(s->easy, CURLOPT_SHARE, c->share) != CURLE_OK) {
		slot_free(s);
		return NULL;
	}
	return s;
}

static void
slot_put(struct http_client *c, struct slot *s, const char *origin)
{
	struct slot *evict = NULL;

	/* Drop every pointer into the finished request's memory; the
	 * connection cache lives in the multi handle and survives. */
	curl_easy_reset(s->easy);
	snprintf(s->origin, sizeof s->origin, "%s", origin);
	pthread_mutex_lock(&c->pool_lock);
	s->next = c->idle;
	c->idle = s;
	if (++c->nidle > c->max_idle) {
		struct slot **pp = &c->idle;

		while ((*pp)->next != NULL)
			pp = &(*pp)->next;
		evict = *pp;
		*pp = NULL;
		c->nidle--;
	}
	pthread_mutex_unlock(&c->pool_lock);
	slot_free(evict);
}

/* ---- one transfer ---------------------------------------------------------- */

struct xfer {
	const struct http_request *req;
	struct http_response *resp;
	size_t cap;		/* body cap */
	size_t body_alloc;
	long status;		/* of the response whose headers are arriving */
	int too_big;
	int stopped;		/* the stream callback said stop */
	int cancelled;
	int oom;
};

static void
headers_clear(struct http_response *r)
{
	for (size_t i = 0; i < r->nheaders; i++)
		free(r->headers[i].name);
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
}

static size_t
trim_len(const char *p, size_t n)
{
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return n;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	struct http_response *r = x->resp;
	size_t len = size * nmemb, n = trim_len(p, len);
	const char *colon, *v;
	struct http_header *h;

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (1xx, redirect, proxy CONNECT): keep only the
		 * headers of the last one. */
		const char *sp = memchr(p, ' ', n);

		headers_clear(r);
		r->body_len = 0;	/* a followed redirect's body is not ours */
		if (r->body != NULL)
			r->body[0] = '\0';
		x->status = 0;
		if (sp != NULL)
			for (sp++; sp < p + n && isdigit((unsigned char)*sp); sp++)
				x->status = x->status * 10 + (*sp - '0');
		if (x->status > 999)
			x->status = 0;
		return len;
	}
	if (n == 0)
		return len;
	if ((p[0] == ' ' || p[0] == '\t') && r->nheaders > 0) {
		/* obs-fold continuation: append to the previous value */
		struct http_header *last = &r->headers[r->nheaders - 1];
		size_t nl = strlen(last->name), vl = strlen(last->value);
		size_t skip = 0;
		char *grown;

		while (skip < n && (p[skip] == ' ' || p[skip] == '\t'))
			skip++;
		grown = realloc(last->name, nl + 1 + vl + 1 + (n - skip) + 1);
		if (grown == NULL) {
			x->oom = 1;
			return 0;
		}
		last->name = grown;
		last->value = grown + nl + 1;
		last->value[vl] = ' ';
		memcpy(last->value + vl + 1, p + skip, n - skip);
		last->value[vl + 1 + n - skip] = '\0';
		return len;
	}
	colon = memchr(p, ':', n);
	if (colon == NULL || colon == p || r->nheaders >= MAX_HEADERS)
		return len;	/* not a header, or too many: ignore */
	if ((r->nheaders & (r->nheaders - 1)) == 0) {
		/* grow at powers of two */
		size_t ncap = r->nheaders ? r->nheaders * 2 : 16;
		struct http_header *nh = realloc(r->headers, ncap * sizeof *nh);

		if (nh == NULL) {
			x->oom = 1;
			return 0;
		}
		r->headers = nh;
	}
	for (v = colon + 1; v < p + n && (*v == ' ' || *v == '\t'); v++)
		;
	h = &r->headers[r->nheaders];
	size_t nlen = (size_t)(colon - p), vlen = (size_t)(p + n - v);

	h->name = malloc(nlen + 1 + vlen + 1);
	if (h->name == NULL) {
		x->oom = 1;
		return 0;
	}
	memcpy(h->name, p, nlen);
	h->name[nlen] = '\0';
	h->value = h->name + nlen + 1;
	memcpy(h->value, v, vlen);
	h->value[vlen] = '\0';
	r->nheaders++;
	return len;
}

/* What a write callback returns to make curl stop with an error. */
#ifdef CURL_WRITEFUNC_ERROR
#define WRITE_STOP CURL_WRITEFUNC_ERROR
#else
#define WRITE_STOP 0
#endif

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	struct http_response *r = x->resp;
	size_t len = size * nmemb;

	if (len == 0)
		return 0;
	if (http_cancel_fired(x->req->cancel)) {
		x->cancelled = 1;
		return WRITE_STOP;
	}
	if (x->req->on_data != NULL && x->status >= 200 && x->status < 300) {
		if (x->req->on_data(x->req->stream_ctx, p, len) != 0) {
			x->stopped = 1;
			return WRITE_STOP;
		}
		return len;
	}
	if (len > x->cap - r->body_len) {
		x->too_big = 1;
		return WRITE_STOP;
	}
	if (r->body_len + len + 1 > x->body_alloc) {
		size_t want = r->body_len + len + 1;
		size_t ncap = x->body_alloc ? x->body_alloc : 4096;
		char *nb;

		while (ncap < want)
			ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
		nb = realloc(r->body, ncap);
		if (nb == NULL) {
			x->oom = 1;
			return WRITE_STOP;
		}
		r->body = nb;
		x->body_alloc = ncap;
	}
	memcpy(r->body + r->body_len, p, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

static int
valid_method(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n > 16)
		return 0;
	for (; *m != '\0'; m++)
		if (!isupper((unsigned char)*m))
			return 0;
	return 1;
}

/* "Name: value" with a token name and no CR/LF (which would let a value
 * smuggle a second header or request). */
static int
valid_header(const char *h)
{
	const char *colon = strchr(h, ':');

	if (colon == NULL || colon == h || strpbrk(h, "\r\n") != NULL)
		return 0;
	for (const char *p = h; p < colon; p++)
		if (!isgraph((unsigned char)*p))
			return 0;
	return 1;
}

static void
fail(struct http_response *r, enum http_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct http_response *r, enum http_error e, const char *fmt, ...)
{
	va_list ap;

	r->err = e;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
}

static void
map_result(struct http_response *r, const struct xfer *x, CURLcode rc, const char *host,
    const char *errbuf, long timeout_ms, int by_deadline)
{
	const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);

	if (x->cancelled) {
		fail(r, HTTP_ERR_CANCELLED, "request to %s cancelled", host);
		return;
	}
	if (x->stopped) {
		fail(r, HTTP_ERR_CANCELLED, "stream from %s stopped by the caller", host);
		return;
	}
	if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		fail(r, HTTP_ERR_TOO_BIG, "response from %s exceeds the %zu-byte limit",
		    host, x->cap);
		return;
	}
	if (x->oom) {
		fail(r, HTTP_ERR_OTHER, "out of memory reading the response from %s", host);
		return;
	}
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		fail(r, HTTP_ERR_TIMEOUT, "timeout: %s did not answer within %ld ms%s: %s",
		    host, timeout_ms, by_deadline ? " (request deadline)" : "", why);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		fail(r, HTTP_ERR_RESOLVE, "cannot resolve %s: %s", host, why);
		break;
	case CURLE_COULDNT_CONNECT:
		fail(r, HTTP_ERR_CONNECT, "cannot connect to %s: %s", host, why);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		fail(r, HTTP_ERR_TLS, "TLS certificate of %s failed verification: %s", host, why);
		break;
	case CURLE_SSL_CERTPROBLEM:
		fail(r, HTTP_ERR_TLS, "TLS client certificate or key for %s unusable: %s", host, why);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		fail(r, HTTP_ERR_TLS, "TLS with %s failed: %s", host, why);
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
		fail(r, HTTP_ERR_IO, "connection to %s broke: %s", host, why);
		break;
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_UNSUPPORTED_PROTOCOL:
		fail(r, HTTP_ERR_POLICY, "redirect from %s refused: %s", host, why);
		break;
	default:
		fail(r, HTTP_ERR_OTHER, "request to %s failed: %s", host, why);
		break;
	}
}

static void
log_request(const struct http_client *c, const char *method, const char *url,
    const struct http_response *r)
{
	static const struct { const char *header, *label; } ids[] = {
		{ "x-ms-request-id", "req" },
		{ "x-ms-correlation-request-id", "corr" },
		{ "x-ms-client-request-id", "client-req" },
		{ "Audit-Id", "audit" },
	};
	enum log_level lvl = r->err != HTTP_OK || r->status >= 400 ? LOG_INFO : LOG_DEBUG;
	char idbuf[512] = "", *ru;
	size_t off = 0;

	if (lvl < log_get_level())
		return;
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		const char *v = http_header_get(r, ids[i].header);
		int k;

		if (v == NULL || off >= sizeof idbuf)
			continue;
		k = snprintf(idbuf + off, sizeof idbuf - off, " %s=%.80s", ids[i].label, v);
		if (k > 0)
			off += (size_t)k;
	}
	sanitize(idbuf);
	ru = http_redact_url(url);
	if (ru != NULL)
		sanitize(ru);
	if (r->err == HTTP_OK)
		log_msg(lvl, MOD, "%s %s %s -> %ld in %.3fs%s", c->name, method,
		    ru != NULL ? ru : "(url)", r->status, r->elapsed_s, idbuf);
	else
		log_msg(lvl, MOD, "%s %s %s failed after %.3fs [%s]: %s%s", c->name, method,
		    ru != NULL ? ru : "(url)", r->elapsed_s, http_error_name(r->err), r->error,
		    idbuf);
	free(ru);
}

int
http_do(struct http_client *c, const struct http_request *req, struct http_response *resp)
{
	char host[256] = "?", origin[320] = "";
	struct curl_slist *hdrs = NULL, *pins = NULL;
	struct slot *s = NULL;
	CURLU *u = NULL;
	CURLcode rc = CURLE_OK;
	struct xfer x;
	const char *method;
	long long t0 = http_now_ms(), tmo;
	long connect_ms;
	int by_deadline = 0, streaming, loopback = 0, imds = 0;
	CURL *e;

	if (resp == NULL)
		return -1;
	memset(resp, 0, sizeof *resp);
	if (c == NULL || req == NULL) {
		fail(resp, HTTP_ERR_INVALID, "no client or request");
		return -1;
	}
	method = req->method != NULL ? req->method : req->body != NULL ? "POST" : "GET";
	if (!valid_method(method)) {
		fail(resp, HTTP_ERR_INVALID, "invalid HTTP method");
		goto done;
	}
	u = url_parse(req->url, host, sizeof host, origin, sizeof origin, req->allow_imds, &loopback,
	    &imds, &resp->err, resp->error, sizeof resp->error);
	if (u == NULL)
		goto done;
	for (const char *const *p = req->connect_to; p != NULL && *p != NULL; p++) {
		struct curl_slist *n;

		if (pin_check(*p, strncmp(origin, "http://", 7) == 0, resp->error,
		    sizeof resp->error) != 0) {
			resp->err = HTTP_ERR_POLICY;
			goto done;
		}
		if ((n = curl_slist_append(pins, *p)) == NULL)
			goto oom;
		pins = n;
	}
	for (const char *const *h = req->headers; h != NULL && *h != NULL; h++) {
		struct curl_slist *n;

		if (!valid_header(*h)) {
			fail(resp, HTTP_ERR_INVALID, "invalid request header (#%td) for %s",
			    h - req->headers, host);
			goto done;
		}
		if ((n = curl_slist_append(hdrs, *h)) == NULL)
			goto oom;
		hdrs = n;
	}
	/* No "Expect: 100-continue" stall on big PUTs: ARM and the API
	 * server answer without it. */
	{
		struct curl_slist *n = curl_slist_append(hdrs, "Expect:");

		if (n == NULL)
			goto oom;
		hdrs = n;
	}

	tmo = req->timeout_ms == 0 ? c->timeout_ms : req->timeout_ms < 0 ? 0 : req->timeout_ms;
	if (req->deadline_ms > 0) {
		long long left = req->deadline_ms - t0;

		if (left <= 0) {
			fail(resp, HTTP_ERR_TIMEOUT, "timeout: deadline passed before the "
			    "request to %s was sent", host);
			goto done;
		}
		if (tmo == 0 || left < tmo) {
			tmo = left;
			by_deadline = 1;
		}
	}
	if (tmo > LONG_MAX)
		tmo = LONG_MAX;
	connect_ms = tmo > 0 && tmo < c->connect_timeout_ms ? (long)tmo : c->connect_timeout_ms;

	s = slot_get(c, origin);
	if (s == NULL)
		goto oom;
	memset(&x, 0, sizeof x);
	x.req = req;
	x.resp = resp;
	x.cap = req->max_body > 0 ? req->max_body : c->max_body;
	streaming = req->on_data != NULL;

	e = s->easy;
	s->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CURLU, u);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	if (pins != NULL) {
		/* A pinned address is the one to reach: no proxy in between. */
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, pins);
		curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	}
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, req->follow_redirects && !imds ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
	if (loopback || imds)
		/* Loopback stays loopback: no proxy from the environment may
		 * carry a plain-text request off the machine (and a remote
		 * proxy could not reach our 127.0.0.1 anyway). */
		curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)tmo);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 15L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
	if (!streaming && x.cap < (size_t)INT64_MAX)
		/* refuse early when Content-Length already says too much */
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x.cap);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (req->body != NULL || strcmp(method, "POST") == 0
	    || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		if (strcmp(method, "GET") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}
	if (req->tls != NULL) {
		const struct http_tls *t = req->tls;

		if (t->insecure_skip_verify)
			log_warn(MOD, "%s: TLS certificate verification DISABLED for a request "
			    "to %s (insecure_skip_verify)", c->name, host);
		apply_tls(e, t->ca_pem, pem_len(t->ca_pem, t->ca_len), t->ca_file,
		    t->cert_pem, pem_len(t->cert_pem, t->cert_len),
		    t->key_pem, pem_len(t->key_pem, t->key_len), t->insecure_skip_verify);
	} else {
		apply_tls(e, c->tls.ca, c->tls.ca_len, c->tls.ca_file, c->tls.cert,
		    c->tls.cert_len, c->tls.key, c->tls.key_len, c->tls.insecure);
	}

	if (curl_multi_add_handle(s->multi, e) != CURLM_OK) {
		fail(resp, HTTP_ERR_OTHER, "cannot start the request to %s", host);
		goto done;
	}
	cancel_register(req->cancel, s->multi);
	for (;;) {
		int running = 0;
		CURLMcode mc;

		if (http_cancel_fired(req->cancel)) {
			x.cancelled = 1;
			break;
		}
		mc = curl_multi_perform(s->multi, &running);
		if (mc != CURLM_OK) {
			rc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
			break;
		}
		if (running == 0) {
			CURLMsg *msg;
			int left;

			while ((msg = curl_multi_info_read(s->multi, &left)) != NULL)
				if (msg->msg == CURLMSG_DONE)
					rc = msg->data.result;
			break;
		}
		mc = curl_multi_poll(s->multi, NULL, 0, POLL_MS, NULL);
		if (mc != CURLM_OK) {
			rc = CURLE_FAILED_INIT;
			break;
		}
	}
	cancel_unregister(req->cancel, s->multi);
	/* Removing an unfinished transfer aborts it and closes its connection. */
	curl_multi_remove_handle(s->multi, e);

	{
		long code = 0;

		if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code > 0)
			resp->status = code;
		else
			resp->status = x.status;
	}
	if (rc != CURLE_OK || x.cancelled || x.stopped || x.too_big || x.oom) {
		map_result(resp, &x, rc, host, s->errbuf, (long)tmo, by_deadline);
		free(resp->body);
		resp->body = NULL;
		resp->body_len = 0;
	} else if (resp->body == NULL && !(streaming && resp->status >= 200 && resp->status < 300)) {
		resp->body = calloc(1, 1);
		if (resp->body == NULL)
			fail(resp, HTTP_ERR_OTHER, "out of memory");
	}
	goto done;

oom:
	fail(resp, HTTP_ERR_OTHER, "out of memory");
done:
	if (s != NULL)
		slot_put(c, s, origin);
	curl_url_cleanup(u);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(pins);
	resp->elapsed_s = (double)(http_now_ms() - t0) / 1000.0;
	if (c != NULL && req != NULL)
		log_request(c, valid_method(method) ? method : "?", req->url, resp);
	return resp->err == HTTP_OK ? 0 : -1;
}

void
http_response_free(struct http_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	headers_clear(r);
	r->body = NULL;
	r->body_len = 0;
}

const char *
http_header_get(const struct http_response *r, const char *name)
{
	if (r == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* Non-negative decimal integer filling all of S (surrounding blanks allowed),
 * at most 12 digits; -1 otherwise. */
static long long
parse_count(const char *s)
{
	long long v = 0;
	int digits = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	for (; isdigit((unsigned char)*s); s++) {
		if (++digits > 12)
			return -1;
		v = v * 10 + (*s - '0');
	}
	while (*s == ' ' || *s == '\t')
		s++;
	return digits > 0 && *s == '\0' ? v : -1;
}

long long
http_retry_after_ms(const struct http_response *r)
{
	const char *v;
	long long n;
	int has_alpha = 0;
	time_t when;

	/* Azure's millisecond variants are more precise; prefer them. */
	if ((v = http_header_get(r, "retry-after-ms")) != NULL
	    || (v = http_header_get(r, "x-ms-retry-after-ms")) != NULL) {
		n = parse_count(v);
		if (n >= 0)
			return n;
	}
	v = http_header_get(r, "Retry-After");
	if (v == NULL)
		return -1;
	n = parse_count(v);
	if (n >= 0)
		return n * 1000;
	/* All three HTTP-date forms carry a month name; requiring a letter
	 * keeps curl_getdate's lenient parser from accepting "-5" or "1.5". */
	for (const char *p = v; *p != '\0'; p++)
		if (isalpha((unsigned char)*p))
			has_alpha = 1;
	if (!has_alpha)
		return -1;
	when = curl_getdate(v, NULL);
	if (when == (time_t)-1)
		return -1;
	n = (long long)(when - time(NULL));
	return n > 0 ? n * 1000 : 0;
}
