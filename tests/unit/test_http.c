/*
 * test_http.c — the HTTP layer against a real libmicrohttpd server.
 *
 * Every test starts its own server on 127.0.0.1 with an ephemeral port
 * (plain or TLS with a CA and certificates minted here with OpenSSL), so the
 * requests cross a real socket and real TLS.  The server records what it
 * received; handlers that must be slow wait on a stop flag so shutting the
 * server down never waits for them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "src/http.h"
#include "src/log.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- the test server ---------------------------------------------------- */

struct srv {
	struct MHD_Daemon *d;
	int port;
	char base[64];			/* "http://127.0.0.1:PORT" or https */
	atomic_int requests;		/* requests that reached the handler */
	atomic_int connections;		/* TCP connections accepted */
	atomic_int stopping;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* what the last /echo request carried (under lock) */
	char method[16];
	char body[4096];
	size_t body_len;
	char xtest[128];
	char ctype[128];
	char auth[256];
	/* /stream handshake: lines the client has seen so far (under lock) */
	int lines_seen;
	int stall;
};

struct reqctx {
	char *body;
	size_t len;
};

static void
srv_wait_ms(struct srv *s, int ms)
{
	for (int i = 0; i < ms / 10 && !atomic_load(&s->stopping); i++)
		usleep(10000);
}

struct stream_ctx {
	struct srv *srv;
	int next, n;
};

static ssize_t
stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_ctx *sc = cls;
	struct srv *s = sc->srv;
	struct timespec until;

	(void)pos;
	if (sc->next >= sc->n)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (sc->next > 0) {
		/* Line k is produced only once the client has seen line k-1:
		 * a client that buffered the body would never see it. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 3;
		pthread_mutex_lock(&s->lock);
		while (s->lines_seen < sc->next && !atomic_load(&s->stopping))
			if (pthread_cond_timedwait(&s->cond, &s->lock, &until) == ETIMEDOUT) {
				s->stall = 1;
				break;
			}
		pthread_mutex_unlock(&s->lock);
	}
	return snprintf(buf, max, "line-%03d\n", sc->next++);
}

static ssize_t
forever_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_ctx *sc = cls;

	if (pos == 0)
		return snprintf(buf, max, "tick\n");
	/* Then nothing: the client sits idle until it is cancelled. */
	srv_wait_ms(sc->srv, 5000);
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static ssize_t
chunk_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_ctx *sc = cls;
	size_t left = (size_t)sc->n > pos ? (size_t)sc->n - (size_t)pos : 0;

	if (left == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (left > max)
		left = max;
	if (left > 1000)
		left = 1000;
	memset(buf, 'y', left);
	return (ssize_t)left;
}

/* The verified client certificate's CN, read through GnuTLS, which is
 * loaded as libmicrohttpd's dependency but not linked by the test: so its
 * two functions are looked up at run time. */
struct gdatum {
	unsigned char *data;
	unsigned int size;
};
typedef const struct gdatum *(*get_peers_fn)(void *session, unsigned int *n);
typedef int (*verify_peers_fn)(void *session, unsigned int *status);

static int
gnutls_available(void)
{
	return dlsym(RTLD_DEFAULT, "gnutls_certificate_get_peers") != NULL
	    && dlsym(RTLD_DEFAULT, "gnutls_certificate_verify_peers2") != NULL;
}

static void
peer_cn(struct MHD_Connection *conn, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci;
	get_peers_fn get_peers;
	verify_peers_fn verify;
	const struct gdatum *certs;
	unsigned int n = 0, status = 1;
	const unsigned char *der;
	X509 *x;
	char cn[128] = "";

	*(void **)&get_peers = dlsym(RTLD_DEFAULT, "gnutls_certificate_get_peers");
	*(void **)&verify = dlsym(RTLD_DEFAULT, "gnutls_certificate_verify_peers2");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (get_peers == NULL || verify == NULL || ci == NULL || ci->tls_session == NULL) {
		snprintf(out, outlen, "no-session");
		return;
	}
	certs = get_peers(ci->tls_session, &n);
	if (certs == NULL || n == 0) {
		snprintf(out, outlen, "no-cert");
		return;
	}
	der = certs[0].data;
	x = d2i_X509(NULL, &der, certs[0].size);
	if (x != NULL)
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
	X509_free(x);
	if (verify(ci->tls_session, &status) != 0)
		status = 1;
	snprintf(out, outlen, "cn=%s verified=%d", cn, status == 0);
}

static enum MHD_Result
queue_text(struct MHD_Connection *conn, unsigned int code, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret = MHD_queue_response(conn, code, r);

	MHD_destroy_response(r);
	return ret;
}

static void
copy_header(struct MHD_Connection *conn, const char *name, char *dst, size_t dstlen)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);

	snprintf(dst, dstlen, "%s", v != NULL ? v : "");
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct srv *s = cls;
	struct reqctx *rc = *con_cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char text[256];

	(void)version;
	if (rc == NULL) {
		rc = calloc(1, sizeof *rc);
		*con_cls = rc;
		return rc != NULL ? MHD_YES : MHD_NO;
	}
	if (*upload_size > 0) {
		char *nb = realloc(rc->body, rc->len + *upload_size + 1);

		if (nb == NULL)
			return MHD_NO;
		memcpy(nb + rc->len, upload, *upload_size);
		rc->body = nb;
		rc->len += *upload_size;
		nb[rc->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	atomic_fetch_add(&s->requests, 1);

	if (strcmp(url, "/echo") == 0) {
		pthread_mutex_lock(&s->lock);
		snprintf(s->method, sizeof s->method, "%s", method);
		s->body_len = rc->len < sizeof s->body - 1 ? rc->len : sizeof s->body - 1;
		if (rc->body != NULL)
			memcpy(s->body, rc->body, s->body_len);
		s->body[s->body_len] = '\0';
		copy_header(conn, "X-Test", s->xtest, sizeof s->xtest);
		copy_header(conn, "Content-Type", s->ctype, sizeof s->ctype);
		copy_header(conn, "Authorization", s->auth, sizeof s->auth);
		pthread_mutex_unlock(&s->lock);
		snprintf(text, sizeof text, "hello %s", method);
		r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
		MHD_add_response_header(r, "ETag", "\"etag-42\"");
		MHD_add_response_header(r, "Retry-After", "7");
		MHD_add_response_header(r, "Azure-AsyncOperation",
		    "https://management.azure.com/operations/op1?api-version=2023-01-01");
		MHD_add_response_header(r, "Location", "https://management.azure.com/loc/1");
		MHD_add_response_header(r, "x-ms-request-id", "rid-1");
		MHD_add_response_header(r, "x-ms-correlation-request-id", "corr-1");
		MHD_add_response_header(r, "Audit-Id", "audit-1");
		ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strncmp(url, "/status/", 8) == 0) {
		unsigned int code = (unsigned int)atoi(url + 8);
		const char *ra = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "ra");

		snprintf(text, sizeof text, "status %u", code);
		r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
		if (ra != NULL)
			MHD_add_response_header(r, "Retry-After", ra);
		MHD_add_response_header(r, "x-ms-request-id", "rid-status");
		ret = MHD_queue_response(conn, code >= 100 && code < 600 ? code : 500, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/slow") == 0) {
		srv_wait_ms(s, 3000);
		return queue_text(conn, MHD_HTTP_OK, "late");
	}
	if (strcmp(url, "/big") == 0 || strcmp(url, "/bigchunk") == 0
	    || strcmp(url, "/stream") == 0 || strcmp(url, "/forever") == 0) {
		const char *nv = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "n");
		int n = nv != NULL ? atoi(nv) : 0;
		struct stream_ctx *sc;

		if (strcmp(url, "/big") == 0) {
			char *big = malloc((size_t)n + 1);

			if (big == NULL)
				return MHD_NO;
			memset(big, 'x', (size_t)n);
			r = MHD_create_response_from_buffer((size_t)n, big, MHD_RESPMEM_MUST_FREE);
			ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
			MHD_destroy_response(r);
			return ret;
		}
		sc = calloc(1, sizeof *sc);
		if (sc == NULL)
			return MHD_NO;
		sc->srv = s;
		sc->n = n;
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024,
		    strcmp(url, "/bigchunk") == 0 ? chunk_reader
		    : strcmp(url, "/stream") == 0 ? stream_reader : forever_reader,
		    sc, free);
		ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/clientcert") == 0) {
		peer_cn(conn, text, sizeof text);
		return queue_text(conn, MHD_HTTP_OK, text);
	}
	if (strcmp(url, "/redirect") == 0) {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "Location", "/echo");
		ret = MHD_queue_response(conn, MHD_HTTP_FOUND, r);
		MHD_destroy_response(r);
		return ret;
	}
	return queue_text(conn, MHD_HTTP_NOT_FOUND, "no such route");
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct reqctx *rc = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rc != NULL) {
		free(rc->body);
		free(rc);
		*con_cls = NULL;
	}
}

static void
notify_conn(void *cls, struct MHD_Connection *conn, void **socket_ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	struct srv *s = cls;

	(void)conn;
	(void)socket_ctx;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&s->connections, 1);
}

/* Starts a server; KEY/CERT make it HTTPS, TRUST makes it ask for a client
 * certificate. */
static struct srv *
srv_start(const char *key, const char *cert, const char *trust)
{
	struct srv *s = calloc(1, sizeof *s);
	struct sockaddr_in sa;
	struct MHD_OptionItem tls[4];
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	int n = 0;

	assert_non_null(s);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (key != NULL) {
		flags |= MHD_USE_TLS;
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key };
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cert };
		if (trust != NULL)
			tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)trust };
	}
	tls[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, s,
	    MHD_OPTION_NOTIFY_CONNECTION, notify_conn, s,
	    MHD_OPTION_ARRAY, tls,
	    MHD_OPTION_END);
	assert_non_null(s->d);
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	s->port = info->port;
	assert_true(s->port > 0);
	snprintf(s->base, sizeof s->base, "%s://127.0.0.1:%d", key != NULL ? "https" : "http",
	    s->port);
	return s;
}

static void
srv_stop(struct srv *s)
{
	atomic_store(&s->stopping, 1);
	pthread_mutex_lock(&s->lock);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	MHD_stop_daemon(s->d);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- helpers ---------------------------------------------------------- */

static struct http_client *
client_new(const struct http_client_config *cfg)
{
	char err[256] = "";
	struct http_client *c = http_client_new(cfg, err, sizeof err);

	if (c == NULL)
		fail_msg("http_client_new: %s", err);
	return c;
}

static char url_buf[8][512];
static int url_next;

static const char *
url_of(const struct srv *s, const char *path)
{
	char *u = url_buf[url_next++ % 8];

	snprintf(u, sizeof url_buf[0], "%s%s", s->base, path);
	return u;
}

/* Reads a whole file into a NUL-terminated string. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static double
now_s(void)
{
	return (double)http_now_ms() / 1000.0;
}

/* ---- plain HTTP tests ------------------------------------------------- */

static void
test_roundtrip(void **state)
{
	struct srv *s = srv_start(NULL, NULL, NULL);
	struct http_client *c = client_new(NULL);
	const char *hdrs[] = { "X-Test: round trip", "Content-Type: application/json", NULL };
	const char *json = "{\"properties\":{\"a\":1}}";
	struct http_request rq = { .url = url_of(s, "/echo"), .headers = hdrs };
	struct http_response rs;

	(void)state;
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.err, HTTP_OK);
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.body, "hello GET");
	assert_int_equal(rs.body_len, 9);
	assert_true(rs.elapsed_s >= 0.0);
	assert_string_equal(s->method, "GET");
	assert_string_equal(s->xtest, "round trip");
	assert_int_equal(s->body_len, 0);
	http_response_free(&rs);

	rq.method = "PUT";
	rq.body = json;
	rq.body_len = strlen(json);
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_string_equal(rs.body, "hello PUT");
	assert_string_equal(s->method, "PUT");
	assert_string_equal(s->body, json);
	assert_string_equal(s->ctype, "application/json");
	http_response_free(&rs);

	/* A body with NUL bytes and a length goes out exactly. */
	rq.method = "PATCH";
	rq.body = "a\0b";
	rq.body_len = 3;
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_string_equal(s->method, "PATCH");
	assert_int_equal(s->body_len, 3);
	assert_memory_equal(s->body, "a\0b", 3);
	http_response_free(&rs);

	/* No method and a body means POST. */
	rq.method = NULL;
	rq.body = "x=1";
	rq.body_len = 3;
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_string_equal(s->method, "POST");
	assert_string_equal(s->body, "x=1");
	http_response_free(&rs);

	rq.method = "DELETE";
	rq.body = NULL;
	rq.body_len = 0;
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_string_equal(s->method, "DELETE");
	assert_string_equal(rs.body, "hello DELETE");
	http_response_free(&rs);

	/* HEAD: status and headers, empty body. */
	rq.method = "HEAD";
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	assert_non_null(rs.body);
	assert_int_equal(rs.body_len, 0);
	assert_string_equal(http_header_get(&rs, "etag"), "\"etag-42\"");
	http_response_free(&rs);

	http_client_free(c);
	srv_stop(s);
}

static void
test_response_headers(void **state)
{
	struct srv *s = srv_start(NULL, NULL, NULL);
	struct http_client *c = client_new(NULL);
	struct http_request rq = { .url = url_of(s, "/echo") };
	struct http_response rs;

	(void)state;
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_string_equal(http_header_get(&rs, "ETag"), "\"etag-42\"");
	assert_string_equal(http_header_get(&rs, "etag"), "\"etag-42\"");
	assert_string_equal(http_header_get(&rs, "RETRY-AFTER"), "7");
	assert_string_equal(http_header_get(&rs, "azure-asyncoperation"),
	    "https://management.azure.com/operations/op1?api-version=2023-01-01");
	assert_string_equal(http_header_get(&rs, "Location"), "https://management.azure.com/loc/1");
	assert_string_equal(http_header_get(&rs, "X-Ms-Request-Id"), "rid-1");
	assert_string_equal(http_header_get(&rs, "x-ms-correlation-request-id"), "corr-1");
	assert_string_equal(http_header_get(&rs, "audit-id"), "audit-1");
	assert_non_null(http_header_get(&rs, "Content-Length"));
	assert_null(http_header_get(&rs, "x-not-there"));
	assert_null(http_header_get(&rs, NULL));
	assert_true(rs.nheaders >= 8);
	assert_int_equal(http_retry_after_ms(&rs), 7000);
	http_response_free(&rs);
	assert_null(rs.headers);
	assert_int_equal(rs.nheaders, 0);
	http_response_free(&rs);	/* twice is harmless */

	/* Non-2xx is still an answer: 0, the status, the body, Retry-After. */
	rq.url = url_of(s, "/status/503?ra=2");
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.status, 503);
	assert_string_equal(rs.body, "status 503");
	assert_int_equal(http_retry_after_ms(&rs), 2000);
	http_response_free(&rs);

	rq.url = url_of(s, "/status/404");
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.status, 404);
	assert_int_equal(http_retry_after_ms(&rs), -1);
	http_response_free(&rs);

	/* A redirect is returned, not followed, unless asked for. */
	rq.url = url_of(s, "/redirect");
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.status, 302);
	assert_string_equal(http_header_get(&rs, "Location"), "/echo");
	http_response_free(&rs);
	/* Followed, it may only go to https: this one is refused. */
	rq.follow_redirects = 1;
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_POLICY);
	http_response_free(&rs);

	http_client_free(c);
	srv_stop(s);
}

/* A response holding just the given header pairs. */
static long long
retry_after_of(const char *name, const char *value, const char *name2, const char *value2)
{
	char n1[64], v1[128], n2[64], v2[128];
	struct http_header h[2] = { { n1, v1 }, { n2, v2 } };
	struct http_response r;

	memset(&r, 0, sizeof r);
	snprintf(n1, sizeof n1, "%s", name);
	snprintf(v1, sizeof v1, "%s", value);
	r.headers = h;
	r.nheaders = 1;
	if (name2 != NULL) {
		snprintf(n2, sizeof n2, "%s", name2);
		snprintf(v2, sizeof v2, "%s", value2);
		r.nheaders = 2;
	}
	return http_retry_after_ms(&r);
}

static void
test_retry_after(void **state)
{
	char future[64];
	time_t t = time(NULL) + 30;
	struct tm tm;
	long long v;

	(void)state;
	assert_int_equal(retry_after_of("Retry-After", "120", NULL, NULL), 120000);
	assert_int_equal(retry_after_of("retry-after", " 5 ", NULL, NULL), 5000);
	assert_int_equal(retry_after_of("Retry-After", "0", NULL, NULL), 0);
	assert_int_equal(retry_after_of("Retry-After", "-5", NULL, NULL), -1);
	assert_int_equal(retry_after_of("Retry-After", "1.5", NULL, NULL), -1);
	assert_int_equal(retry_after_of("Retry-After", "abc", NULL, NULL), -1);
	assert_int_equal(retry_after_of("Retry-After", "", NULL, NULL), -1);
	assert_int_equal(retry_after_of("Retry-After", "12 34", NULL, NULL), -1);
	assert_int_equal(retry_after_of("Retry-After", "99999999999999999999", NULL, NULL), -1);
	assert_int_equal(retry_after_of("X-Other", "5", NULL, NULL), -1);

	/* HTTP-date in the three forms; past dates mean "now". */
	assert_int_equal(retry_after_of("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT", NULL, NULL), 0);
	assert_int_equal(retry_after_of("Retry-After", "Sunday, 06-Nov-94 08:49:37 GMT", NULL, NULL), 0);
	assert_int_equal(retry_after_of("Retry-After", "Sun Nov  6 08:49:37 1994", NULL, NULL), 0);
	gmtime_r(&t, &tm);
	strftime(future, sizeof future, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	v = retry_after_of("Retry-After", future, NULL, NULL);
	assert_in_range(v, 27000, 31000);
	assert_int_equal(retry_after_of("Retry-After", "Someday, never", NULL, NULL), -1);

	/* Azure's millisecond headers win; a bad one falls back. */
	assert_int_equal(retry_after_of("Retry-After", "3", "retry-after-ms", "1500"), 1500);
	assert_int_equal(retry_after_of("x-ms-retry-after-ms", "250", "Retry-After", "3"), 250);
	assert_int_equal(retry_after_of("retry-after-ms", "soon", "Retry-After", "3"), 3000);

	assert_int_equal(http_retry_after_ms(NULL), -1);
}

static void
test_timeout(void **state)
{
	struct srv *s = srv_start(NULL, NULL, NULL);
	struct http_client *c = client_new(NULL);
	struct http_request rq = { .url = url_of(s, "/slow"), .timeout_ms = 300 };
	struct http_response rs;
	double t0 = now_s();

	(void)state;
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_TIMEOUT);
	assert_non_null(strstr(rs.error, "timeout"));
	assert_non_null(strstr(rs.error, "127.0.0.1"));
	assert_true(http_error_transient(rs.err));
	assert_null(rs.body);
	/* The handler takes 3 s; the request must have given up well before. */
	assert_true(now_s() - t0 < 2.5);
	http_response_free(&rs);

	/* A client-wide default applies when the request says nothing. */
	http_client_free(c);
	struct http_client_config cfg = { .timeout_ms = 300 };
	c = client_new(&cfg);
	rq.timeout_ms = 0;
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_TIMEOUT);
	http_response_free(&rs);

	http_client_free(c);
	srv_stop(s);
}

static void
test_deadline(void **state)
{
	struct srv *s = srv_start(NULL, NULL, NULL);
	struct http_client *c = client_new(NULL);
	struct http_request rq = { .url = url_of(s, "/slow"), .timeout_ms = 20000 };
	struct http_response rs;
	double t0 = now_s();

	(void)state;
	/* The deadline is sooner than the timeout, so it wins. */
	rq.deadline_ms = http_now_ms() + 300;
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_TIMEOUT);
	assert_non_null(strstr(rs.error, "deadline"));
	assert_true(now_s() - t0 < 2.5);
	http_response_free(&rs);

	/* A deadline already behind us: nothing is sent. */
	int before = atomic_load(&s->requests);
	int conns = atomic_load(&s->connections);

	rq.url = url_of(s, "/echo");
	rq.deadline_ms = http_now_ms() - 1;
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_TIMEOUT);
	assert_non_null(strstr(rs.error, "deadline"));
	assert_int_equal(atomic_load(&s->requests), before);
	assert_int_equal(atomic_load(&s->connections), conns);
	http_response_free(&rs);

	http_client_free(c);
	srv_stop(s);
}

static void
test_plain_http_refused(void **state)
{
	struct srv *s = srv_start(NULL, NULL, NULL);
	struct http_client *c = client_new(NULL);
	char proxy[64];
	const char *targets[] = {
		"http://example.com/echo", "http://10.0.0.1/echo", "http://[2001:db8::1]/echo",
		"http://127.0.0.1.example.com/echo", "http://localhost.example.com/echo",
	};
	CURL *raw;

	(void)state;
	/* The server doubles as an HTTP proxy for the environment: had any of
	 * these requests been let out, curl would have sent it here. */
	snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", s->port);
	setenv("http_proxy", proxy, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");

	/* Premise check: plain libcurl really does use that proxy. */
	raw = curl_easy_init();
	assert_non_null(raw);
	curl_easy_setopt(raw, CURLOPT_URL, "http://example.com/echo");
	curl_easy_setopt(raw, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(raw, CURLOPT_TIMEOUT_MS, 3000L);
	assert_int_equal(curl_easy_perform(raw), CURLE_OK);
	curl_easy_cleanup(raw);
	assert_int_equal(atomic_load(&s->requests), 1);
	int conns = atomic_load(&s->connections);

	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		struct http_request rq = { .url = targets[i] };
		struct http_response rs;

		assert_int_equal(http_do(c, &rq, &rs), -1);
		assert_int_equal(rs.err, HTTP_ERR_POLICY);
		assert_non_null(strstr(rs.error, "plain http"));
		assert_false(http_error_transient(rs.err));
		assert_int_equal(rs.status, 0);
		http_response_free(&rs);
	}
	/* The IMDS allowance is exactly 169.254.169.254:80, and only for a
	 * request that asks for it. */
	const struct { const char *url; int allow; } imds[] = {
		{ "http://169.254.169.254/metadata/identity/oauth2/token", 0 },
		{ "http://169.254.169.253/metadata/identity/oauth2/token", 1 },
		{ "http://169.254.169.254:8080/metadata/identity/oauth2/token", 1 },
		{ "http://169.254.169.254.example.com/metadata", 1 },
	};
	for (size_t i = 0; i < sizeof imds / sizeof imds[0]; i++) {
		struct http_request rq = { .url = imds[i].url, .allow_imds = imds[i].allow };
		struct http_response rs;

		assert_int_equal(http_do(c, &rq, &rs), -1);
		assert_int_equal(rs.err, HTTP_ERR_POLICY);
		http_response_free(&rs);
	}
	assert_int_equal(atomic_load(&s->requests), 1);
	assert_int_equal(atomic_load(&s->connections), conns);

	/* Loopback over plain http is fine, and does not go via the proxy
	 * (the proxy would have seen an absolute URL and answered 404). */
	struct http_request ok = { .url = url_of(s, "/echo") };
	struct http_response rs;

	assert_int_equal(http_do(c, &ok, &rs), 0);
	assert_int_equal(rs.status, 200);
	http_response_free(&rs);

	http_client_free(c);
	srv_stop(s);
}

/* Runs even when the test fails, so later tests never see the proxy. */
static int
unset_proxy(void **state)
{
	(void)state;
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	return 0;
}

static void
test_url_check(void **state)
{
	static const struct { const char *url; int ok; } cases[] = {
		{ "https://management.azure.com/subscriptions?api-version=2022-12-01", 1 },
		{ "https://10.0.0.1:443/api", 1 },
		{ "http://127.0.0.1:8080/x", 1 },
		{ "http://127.255.3.4/", 1 },
		{ "http://localhost/", 1 },
		{ "http://LOCALHOST:99/", 1 },
		{ "http://[::1]:8080/", 1 },
		{ "http://[::ffff:127.0.0.1]/", 1 },
		{ "HTTP://127.0.0.1/", 1 },
		{ "http://10.0.0.1/", 0 },
		{ "http://example.com/", 0 },
		{ "http://128.0.0.1/", 0 },
		{ "http://0.0.0.0/", 0 },
		{ "http://[::2]/", 0 },
		{ "http://127.0.0.1.nip.io/", 0 },
		{ "http://localhost.evil.example/", 0 },
		{ "http://evil.example/?h=127.0.0.1", 0 },
		{ "http://user@evil.example/", 0 },
		{ "ftp://127.0.0.1/", 0 },
		{ "file:///etc/passwd", 0 },
		{ "gopher://127.0.0.1/", 0 },
		{ "127.0.0.1/x", 0 },
		{ "not a url", 0 },
		{ "", 0 },
		{ "https://exa mple.com/", 0 },
		{ "https://example.com/\r\nX: y", 0 },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = '\0';
		int rc = http_url_check(cases[i].url, err, sizeof err);

		if ((rc == 0) != cases[i].ok)
			fail_msg("%s: expected %s, got rc=%d (%s)", cases[i].url,
			    cases[i].ok ? "allowed" : "refused", rc, err);
		if (!cases[i].ok)
			assert_true(err[0] != '\0');
	}
	assert_int_equal(http_url_check(NULL, err, sizeof err), -1);
	assert_int_equal(http_url_check("http://10.0.0.1/", NULL, 0), -1);
}

static void
test_redact_url(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "https://acct.blob.core.windows.net/c/b?sv=2021-08-06&sp=r&sig=abc%2Bdef&se=1",
		  "https://acct.blob.core.windows.net/c/b?sv=2021-08-06&sp=r&sig=***&se=1" },
		{ "https://h/cb?code=AUTHCODE&state=xyz", "https://h/cb?code=***&state=xyz" },
		{ "https://h/p?access_token=T1&Token=T2&x=1", "https://h/p?access_token=***&Token=***&x=1" },
		{ "https://h/p?client_secret=S&password=P&x-ms-secret-thing=Q",
		  "https://h/p?client_secret=***&password=***&x-ms-secret-thing=***" },
		{ "https://user:pass@h/p", "https://***@h/p" },
		{ "https://h/p?api-version=2023-01-01", "https://h/p?api-version=2023-01-01" },
		{ "https://h/p#frag-token=x", "https://h/p" },
		{ "https://h/p?sig=a#sig=b", "https://h/p?sig=***" },
		{ "https://h/p?sig&x=1&=v&&sig=", "https://h/p?sig&x=1&=v&&sig=***" },
		{ "https://h/p?a=b?c@d", "https://h/p?a=b?c@d" },
		{ "/relative?sig=1", "/relative?sig=***" },
		{ "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *r = http_redact_url(cases[i].in);

		assert_non_null(r);
		if (strcmp(r, cases[i].out) != 0)
			fail_msg("redact(%s) = %s, want %s", cases[i].in, r, cases[i].out);
		free(r);
	}
	char *r = http_redact_url(NULL);

	assert_string_equal(r, "");
	free(r);
}

/* ---- streaming and cancellation --------------------------------------- */

struct sink {
	struct srv *srv;
	size_t bytes;
	int calls;
	int lines;
	int stop_after;			/* return 1 once this many calls happened */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static int
on_data(void *ctx, const char *data, size_t len)
{
	struct sink *k = ctx;

	pthread_mutex_lock(&k->lock);
	k->bytes += len;
	k->calls++;
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n')
			k->lines++;
	pthread_cond_broadcast(&k->cond);
	pthread_mutex_unlock(&k->lock);
	if (k->srv != NULL) {
		pthread_mutex_lock(&k->srv->lock);
		k->srv->lines_seen = k->lines;
		pthread_cond_broadcast(&k->srv->cond);
		pthread_mutex_unlock(&k->srv->lock);
	}
	return k->stop_after > 0 && k->calls >= k->stop_after;
}

static void
sink_init(struct sink *k, struct srv *s)
{
	memset(k, 0, sizeof *k);
	k->srv = s;
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->cond, NULL);
}

static void
sink_destroy(struct sink *k)
{
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->lock);
}

static void
test_stream_incremental(void **state)
{
	struct srv *s = srv_start(NULL, NULL, NULL);
	struct http_client *c = client_new(NULL);
	struct sink k;
	struct http_request rq = { .url = url_of(s, "/stream?n=6"), .on_data = on_data,
	    .stream_ctx = &k, .max_body = 16 };
	struct http_response rs;

	(void)state;
	sink_init(&k, s);
	/* max_body is smaller than the stream: streaming is not capped. */
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	assert_null(rs.body);
	assert_int_equal(k.lines, 6);
	assert_int_equal(k.bytes, 6 * strlen("line-000\n"));
	/* Each line was handed over before the server produced the next. */
	assert_int_equal(s->stall, 0);
	assert_true(k.calls >= 6);
	http_response_free(&rs);
	sink_destroy(&k);

	/* An error status is not streamed: it is collected for the caller. */
	sink_init(&k, NULL);
	rq.url = url_of(s, "/status/410");
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.status, 410);
	assert_int_equal(k.calls, 0);
	assert_string_equal(rs.body, "status 410");
	http_response_free(&rs);
	sink_destroy(&k);

	http_client_free(c);
	srv_stop(s);
}

struct bg {
	struct http_client *c;
	struct http_request rq;
	struct http_response rs;
	int rc;
	double done_at;
};

static void *
bg_run(void *arg)
{
	struct bg *b = arg;

	b->rc = http_do(b->c, &b->rq, &b->rs);
	b->done_at = now_s();
	return NULL;
}

static void
test_stream_cancel(void **state)
{
	struct srv *s = srv_start(NULL, NULL, NULL);
	struct http_cancel *cx = http_cancel_new();
	struct sink k;
	struct bg b;
	pthread_t th;
	struct timespec until;
	double fired_at;

	(void)state;
	assert_non_null(cx);
	assert_false(http_cancel_fired(cx));
	sink_init(&k, NULL);
	memset(&b, 0, sizeof b);
	b.c = client_new(NULL);
	b.rq.url = url_of(s, "/forever");
	b.rq.timeout_ms = -1;		/* a watch: no overall timeout */
	b.rq.on_data = on_data;
	b.rq.stream_ctx = &k;
	b.rq.cancel = cx;
	assert_int_equal(pthread_create(&th, NULL, bg_run, &b), 0);

	/* Wait for the first bytes, then cancel from this thread while the
	 * request sits idle waiting for more. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&k.lock);
	while (k.bytes == 0)
		if (pthread_cond_timedwait(&k.cond, &k.lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&k.lock);
	assert_true(k.bytes > 0);
	usleep(100000);
	fired_at = now_s();
	http_cancel_fire(cx);
	assert_true(http_cancel_fired(cx));
	pthread_join(th, NULL);

	assert_int_equal(b.rc, -1);
	assert_int_equal(b.rs.err, HTTP_ERR_CANCELLED);
	assert_non_null(strstr(b.rs.error, "cancelled"));
	assert_int_equal(b.rs.status, 200);
	/* Promptly: no waiting for a timeout or for more data. */
	assert_true(b.done_at - fired_at < 0.9);
	http_response_free(&b.rs);

	/* A token fired before the request starts stops it before sending. */
	int before = atomic_load(&s->requests);

	b.rq.url = url_of(s, "/echo");
	assert_int_equal(http_do(b.c, &b.rq, &b.rs), -1);
	assert_int_equal(b.rs.err, HTTP_ERR_CANCELLED);
	assert_int_equal(atomic_load(&s->requests), before);
	http_response_free(&b.rs);

	http_client_free(b.c);
	http_cancel_free(cx);
	http_cancel_fire(NULL);
	http_cancel_free(NULL);
	sink_destroy(&k);
	srv_stop(s);
}

static void
test_stream_callback_stop(void **state)
{
	struct srv *s = srv_start(NULL, NULL, NULL);
	struct http_client *c = client_new(NULL);
	struct sink k;
	struct http_request rq = { .url = url_of(s, "/forever"), .on_data = on_data,
	    .stream_ctx = &k, .timeout_ms = -1 };
	struct http_response rs;

	(void)state;
	sink_init(&k, NULL);
	k.stop_after = 1;
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_CANCELLED);
	assert_non_null(strstr(rs.error, "stopped"));
	assert_int_equal(k.calls, 1);
	http_response_free(&rs);

	/* The pooled handle is fine afterwards. */
	rq.url = url_of(s, "/echo");
	rq.on_data = NULL;
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_string_equal(rs.body, "hello GET");
	http_response_free(&rs);

	sink_destroy(&k);
	http_client_free(c);
	srv_stop(s);
}

static void
test_body_cap(void **state)
{
	struct srv *s = srv_start(NULL, NULL, NULL);
	struct http_client_config cfg = { .max_body = 1000 };
	struct http_client *c = client_new(&cfg);
	struct http_request rq = { .url = url_of(s, "/big?n=1000") };
	struct http_response rs;

	(void)state;
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.body_len, 1000);
	assert_int_equal(strlen(rs.body), 1000);
	http_response_free(&rs);

	/* Over the cap with Content-Length, and without (chunked). */
	rq.url = url_of(s, "/big?n=5000");
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_TOO_BIG);
	assert_non_null(strstr(rs.error, "1000"));
	assert_null(rs.body);
	http_response_free(&rs);

	rq.url = url_of(s, "/bigchunk?n=5000");
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_TOO_BIG);
	http_response_free(&rs);

	/* A per-request cap overrides the client's. */
	rq.max_body = 10000;
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.body_len, 5000);
	http_response_free(&rs);

	http_client_free(c);
	srv_stop(s);
}

static void
test_connection_reuse(void **state)
{
	struct srv *s = srv_start(NULL, NULL, NULL);
	struct http_client *c = client_new(NULL);
	struct http_request rq = { .url = url_of(s, "/echo") };
	struct http_response rs;

	(void)state;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(http_do(c, &rq, &rs), 0);
		http_response_free(&rs);
	}
	assert_int_equal(atomic_load(&s->requests), 5);
	assert_int_equal(atomic_load(&s->connections), 1);
	http_client_free(c);
	srv_stop(s);
}

struct worker {
	struct http_client *c;
	const char *url;
	int ok;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 20; i++) {
		struct http_request rq = { .url = w->url, .method = i % 2 ? "POST" : "GET",
		    .body = i % 2 ? "payload" : NULL, .body_len = i % 2 ? 7 : 0 };
		struct http_response rs;

		if (http_do(w->c, &rq, &rs) == 0 && rs.status == 200 && rs.body != NULL
		    && strncmp(rs.body, "hello ", 6) == 0
		    && strcmp(http_header_get(&rs, "x-ms-request-id"), "rid-1") == 0)
			w->ok++;
		http_response_free(&rs);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct srv *s = srv_start(NULL, NULL, NULL);
	struct http_client *c = client_new(NULL);
	struct worker w[8];
	pthread_t th[8];

	(void)state;
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){ c, url_of(s, "/echo"), 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].ok, 20);
	}
	assert_int_equal(atomic_load(&s->requests), 160);
	/* Connections are reused: far fewer than one per request. */
	assert_true(atomic_load(&s->connections) <= 16);
	http_client_free(c);

	/* A pool kept to one idle handle: the others are closed as they
	 * come back, and everything still works. */
	struct http_client_config cfg = { .max_idle = 1 };

	c = client_new(&cfg);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ c, url_of(s, "/echo"), 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].ok, 20);
	}
	http_client_free(c);
	srv_stop(s);
}

static void
test_connect_refused(void **state)
{
	struct http_client *c = client_new(NULL);
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	char url[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct http_request rq = { .url = url };
	struct http_response rs;

	(void)state;
	/* A port that was free a moment ago and has no listener now. */
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(sa.sin_port));
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_CONNECT);
	assert_non_null(strstr(rs.error, "127.0.0.1"));
	assert_true(http_error_transient(rs.err));
	http_response_free(&rs);
	http_client_free(c);
}

static void
test_invalid_input(void **state)
{
	struct srv *s = srv_start(NULL, NULL, NULL);
	struct http_client *c = client_new(NULL);
	const char *smuggle[] = { "X-Test: a\r\nX-Evil: b", NULL };
	const char *noname[] = { ": value", NULL };
	const char *nocolon[] = { "JustAName", NULL };
	struct http_request rq = { .url = url_of(s, "/echo") };
	struct http_response rs;

	(void)state;
	assert_int_equal(http_do(NULL, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_INVALID);
	http_response_free(&rs);
	assert_int_equal(http_do(c, NULL, &rs), -1);
	http_response_free(&rs);
	assert_int_equal(http_do(c, &rq, NULL), -1);

	rq.method = "GE T";
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_INVALID);
	http_response_free(&rs);
	rq.method = "get\r\n";
	assert_int_equal(http_do(c, &rq, &rs), -1);
	http_response_free(&rs);
	rq.method = "";
	assert_int_equal(http_do(c, &rq, &rs), -1);
	http_response_free(&rs);
	rq.method = NULL;

	rq.headers = smuggle;
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_INVALID);
	http_response_free(&rs);
	rq.headers = noname;
	assert_int_equal(http_do(c, &rq, &rs), -1);
	http_response_free(&rs);
	rq.headers = nocolon;
	assert_int_equal(http_do(c, &rq, &rs), -1);
	http_response_free(&rs);
	rq.headers = NULL;

	rq.url = NULL;
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_INVALID);
	http_response_free(&rs);
	rq.url = "::::";
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_INVALID);
	http_response_free(&rs);
	rq.url = "ftp://127.0.0.1/";
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_POLICY);
	http_response_free(&rs);
	/* None of that reached the server. */
	assert_int_equal(atomic_load(&s->requests), 0);

	http_response_free(NULL);
	assert_null(http_header_get(NULL, "ETag"));
	assert_string_equal(http_error_name(HTTP_ERR_TIMEOUT), "timeout");
	assert_string_equal(http_error_name((enum http_error)999), "unknown error");
	http_client_free(NULL);

	http_client_free(c);
	srv_stop(s);
}

static void
test_log_redaction(void **state)
{
	struct srv *s = srv_start(NULL, NULL, NULL);
	struct http_client_config cfg = { .name = "arm" };
	struct http_client *c = client_new(&cfg);
	char path[] = "/tmp/bgswitch-test-http-XXXXXX";
	const char *hdrs[] = { "Authorization: Bearer SECRETVALUE", "X-Test: t", NULL };
	struct http_request rq = { .headers = hdrs };
	struct http_response rs;
	char *log;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_open(path, LOG_DEBUG), 0);

	rq.url = url_of(s, "/echo?sig=SECRETSIG&code=SECRETCODE&api-version=2023-01-01");
	assert_int_equal(http_do(c, &rq, &rs), 0);
	http_response_free(&rs);
	assert_string_equal(s->auth, "Bearer SECRETVALUE");	/* it was sent */
	rq.url = url_of(s, "/status/500?client_secret=SECRETCS&access_token=SECRETAT");
	assert_int_equal(http_do(c, &rq, &rs), 0);
	http_response_free(&rs);
	rq.url = "http://example.com/?token=SECRETTOKEN";
	assert_int_equal(http_do(c, &rq, &rs), -1);
	http_response_free(&rs);
	log_close();

	log = slurp(path);
	unlink(path);
	assert_non_null(log);
	/* The lines are there ... */
	assert_non_null(strstr(log, "arm GET"));
	assert_non_null(strstr(log, "/echo?sig=***&code=***&api-version=2023-01-01 -> 200"));
	assert_non_null(strstr(log, "req=rid-1 corr=corr-1 audit=audit-1"));
	assert_non_null(strstr(log, "-> 500"));
	assert_non_null(strstr(log, "plain http"));
	/* ... and no secret is. */
	assert_null(strstr(log, "SECRET"));
	free(log);

	http_client_free(c);
	srv_stop(s);
}

/* ---- TLS -------------------------------------------------------------- */

struct pki {
	char *ca_pem, *ca_key_pem;
	char *server_pem, *server_key_pem;
	char *client_pem, *client_key_pem;
	char *other_ca_pem;		/* an unrelated CA */
	char *rogue_client_pem, *rogue_client_key_pem;	/* self-signed */
};

static char *
bio_string(BIO *b)
{
	char *data, *s;
	long n = BIO_get_mem_data(b, &data);

	s = malloc((size_t)n + 1);
	assert_non_null(s);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	BIO_free(b);
	return s;
}

static char *
cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());

	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	return bio_string(b);
}

static char *
key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());

	assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	return bio_string(b);
}

static void
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A certificate for KEY named CN, signed by ISSUER (self-signed if NULL). */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int is_ca,
    const char *san)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509V3_CTX ctx;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer != NULL ? issuer : x));
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	if (is_ca) {
		add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment");
		add_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
		add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
		if (san != NULL)
			add_ext(x, &ctx, NID_subject_alt_name, san);
	}
	assert_true(X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static void
pki_make(struct pki *p)
{
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *srv_key = EVP_EC_gen("P-256");
	EVP_PKEY *cli_key = EVP_EC_gen("P-256"), *other_key = EVP_EC_gen("P-256");
	EVP_PKEY *rogue_key = EVP_EC_gen("P-256");
	X509 *ca, *srv, *cli, *other, *rogue;

	assert_non_null(ca_key);
	assert_non_null(srv_key);
	assert_non_null(cli_key);
	assert_non_null(other_key);
	assert_non_null(rogue_key);
	ca = make_cert(ca_key, "bgswitch test CA", NULL, NULL, 1, NULL);
	srv = make_cert(srv_key, "127.0.0.1", ca, ca_key, 0, "IP:127.0.0.1,DNS:localhost");
	cli = make_cert(cli_key, "bgswitch-client", ca, ca_key, 0, NULL);
	other = make_cert(other_key, "unrelated CA", NULL, NULL, 1, NULL);
	rogue = make_cert(rogue_key, "rogue-client", other, other_key, 0, NULL);
	p->ca_pem = cert_pem(ca);
	p->ca_key_pem = key_pem(ca_key);
	p->server_pem = cert_pem(srv);
	p->server_key_pem = key_pem(srv_key);
	p->client_pem = cert_pem(cli);
	p->client_key_pem = key_pem(cli_key);
	p->other_ca_pem = cert_pem(other);
	p->rogue_client_pem = cert_pem(rogue);
	p->rogue_client_key_pem = key_pem(rogue_key);
	X509_free(ca);
	X509_free(srv);
	X509_free(cli);
	X509_free(other);
	X509_free(rogue);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(srv_key);
	EVP_PKEY_free(cli_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(rogue_key);
}

static void
pki_free(struct pki *p)
{
	free(p->ca_pem);
	free(p->ca_key_pem);
	free(p->server_pem);
	free(p->server_key_pem);
	free(p->client_pem);
	free(p->client_key_pem);
	free(p->other_ca_pem);
	free(p->rogue_client_pem);
	free(p->rogue_client_key_pem);
}

static void
test_tls_verify(void **state)
{
	struct pki p;
	struct srv *s;
	struct http_client *c;
	struct http_response rs;
	struct http_request rq;

	(void)state;
	pki_make(&p);
	s = srv_start(p.server_key_pem, p.server_pem, NULL);
	rq = (struct http_request){ .url = url_of(s, "/echo") };

	/* The right CA, from memory. */
	struct http_tls good = { .ca_pem = p.ca_pem };
	struct http_client_config cfg = { .tls = &good };

	c = client_new(&cfg);
	/* A dead proxy in the environment is not used for a loopback host. */
	setenv("https_proxy", "http://127.0.0.1:1", 1);
	assert_int_equal(http_do(c, &rq, &rs), 0);
	unsetenv("https_proxy");
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.body, "hello GET");
	http_response_free(&rs);
	/* https redirects are followed when asked. */
	rq.url = url_of(s, "/redirect");
	rq.follow_redirects = 1;
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.body, "hello GET");
	/* the final response's headers, not the 302's */
	assert_string_equal(http_header_get(&rs, "Location"), "https://management.azure.com/loc/1");
	assert_string_equal(http_header_get(&rs, "ETag"), "\"etag-42\"");
	http_response_free(&rs);
	rq = (struct http_request){ .url = url_of(s, "/echo") };
	http_client_free(c);

	/* No CA: the system store does not know our CA. */
	c = client_new(NULL);
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_TLS);
	assert_non_null(strstr(rs.error, "127.0.0.1"));
	assert_non_null(strstr(rs.error, "verif"));
	assert_false(http_error_transient(rs.err));
	http_response_free(&rs);

	/* A per-request override with the right CA works on the same client. */
	rq.tls = &good;
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	http_response_free(&rs);
	rq.tls = NULL;
	http_client_free(c);

	/* Some other CA: refused too. */
	struct http_tls other = { .ca_pem = p.other_ca_pem };

	cfg.tls = &other;
	c = client_new(&cfg);
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_TLS);
	http_response_free(&rs);
	http_client_free(c);

	/* The CA from a file. */
	char path[] = "/tmp/bgswitch-test-ca-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p.ca_pem, strlen(p.ca_pem)), (ssize_t)strlen(p.ca_pem));
	close(fd);
	struct http_tls file = { .ca_file = path };

	cfg.tls = &file;
	c = client_new(&cfg);
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	http_response_free(&rs);
	http_client_free(c);
	unlink(path);

	/* The wrong host name for the certificate fails even with the CA. */
	struct http_tls good2 = { .ca_pem = p.ca_pem };

	cfg.tls = &good2;
	c = client_new(&cfg);
	char url[96];

	snprintf(url, sizeof url, "https://127.0.0.2:%d/echo", s->port);
	rq.url = url;
	/* (the server listens on 127.0.0.1 only, so this is a connect
	 * failure or a name mismatch; either way not a success) */
	assert_int_equal(http_do(c, &rq, &rs), -1);
	http_response_free(&rs);
	http_client_free(c);

	srv_stop(s);
	pki_free(&p);
}

static void
test_tls_insecure(void **state)
{
	struct pki p;
	struct srv *s;
	struct http_client *c;
	struct http_response rs;
	struct http_request rq;
	char path[] = "/tmp/bgswitch-test-http-XXXXXX";
	int fd = mkstemp(path);
	char *log;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	pki_make(&p);
	s = srv_start(p.server_key_pem, p.server_pem, NULL);
	rq = (struct http_request){ .url = url_of(s, "/echo") };
	assert_int_equal(log_open(path, LOG_WARN), 0);

	struct http_tls insecure = { .insecure_skip_verify = 1 };
	struct http_client_config cfg = { .name = "kube:lab", .tls = &insecure };

	c = client_new(&cfg);
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	http_response_free(&rs);
	http_client_free(c);
	log_close();

	log = slurp(path);
	unlink(path);
	assert_non_null(log);
	assert_non_null(strstr(log, "WARN"));
	assert_non_null(strstr(log, "kube:lab: TLS certificate verification is DISABLED"));
	free(log);
	srv_stop(s);
	pki_free(&p);
}

static void
test_tls_client_cert(void **state)
{
	struct pki p;
	struct srv *s;
	struct http_client *c;
	struct http_response rs;
	struct http_request rq;

	(void)state;
	if (!gnutls_available())
		skip();
	pki_make(&p);
	s = srv_start(p.server_key_pem, p.server_pem, p.ca_pem);
	rq = (struct http_request){ .url = url_of(s, "/clientcert") };

	struct http_tls with = { .ca_pem = p.ca_pem, .cert_pem = p.client_pem,
	    .key_pem = p.client_key_pem };
	struct http_client_config cfg = { .tls = &with };

	c = client_new(&cfg);
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.body, "cn=bgswitch-client verified=1");
	http_response_free(&rs);
	http_client_free(c);

	/* Without one, the server sees none. */
	struct http_tls without = { .ca_pem = p.ca_pem };

	cfg.tls = &without;
	c = client_new(&cfg);
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_string_equal(rs.body, "no-cert");
	http_response_free(&rs);

	/* A per-request certificate (from a second kubeconfig user) on the
	 * same client: the server sees that one, not a reused session. */
	struct http_tls rogue = { .ca_pem = p.ca_pem, .cert_pem = p.rogue_client_pem,
	    .key_pem = p.rogue_client_key_pem };

	rq.tls = &rogue;
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_string_equal(rs.body, "cn=rogue-client verified=0");
	http_response_free(&rs);
	rq.tls = NULL;
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_string_equal(rs.body, "no-cert");
	http_response_free(&rs);
	http_client_free(c);

	srv_stop(s);
	pki_free(&p);
}

static void
test_tls_bad_material(void **state)
{
	struct pki p;
	struct srv *s;
	struct http_client *c;
	struct http_response rs;
	struct http_request rq;
	char err[256];
	static const char garbage_key[] =
	    "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n";

	(void)state;
	pki_make(&p);

	struct http_tls bad = { .ca_pem = p.ca_pem, .cert_pem = p.client_pem,
	    .key_pem = garbage_key };
	struct http_client_config cfg = { .tls = &bad };

	err[0] = '\0';
	assert_null(http_client_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "client key"));

	/* A real key, but not the certificate's. */
	bad.key_pem = p.rogue_client_key_pem;
	err[0] = '\0';
	assert_null(http_client_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "does not match"));

	/* Certificate without key, and the reverse. */
	bad.key_pem = NULL;
	assert_null(http_client_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "without"));
	bad.key_pem = p.client_key_pem;
	bad.cert_pem = NULL;
	assert_null(http_client_new(&cfg, err, sizeof err));

	/* CA data that is no certificate; a CA file that does not exist. */
	struct http_tls badca = { .ca_pem = "not a pem" };

	cfg.tls = &badca;
	assert_null(http_client_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "CA"));
	badca.ca_pem = NULL;
	badca.ca_file = "/nonexistent/ca.pem";
	assert_null(http_client_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
	assert_int_equal(http_tls_check(NULL, err, sizeof err), 0);

	/* A good certificate and key load and complete a handshake. */
	struct http_tls good = { .ca_pem = p.ca_pem, .cert_pem = p.client_pem,
	    .key_pem = p.client_key_pem };

	assert_int_equal(http_tls_check(&good, err, sizeof err), 0);
	s = srv_start(p.server_key_pem, p.server_pem, p.ca_pem);
	rq = (struct http_request){ .url = url_of(s, "/echo") };
	cfg.tls = &good;
	c = client_new(&cfg);
	assert_int_equal(http_do(c, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	http_response_free(&rs);

	http_client_free(c);

	/* Unchecked per-request material fails cleanly at the handshake (on a
	 * fresh client: a pooled connection made with the same certificate
	 * would simply be reused). */
	struct http_tls req_bad = { .ca_pem = p.ca_pem, .cert_pem = p.client_pem,
	    .key_pem = garbage_key };

	c = client_new(NULL);
	rq.tls = &req_bad;
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_TLS);
	assert_non_null(strstr(rs.error, "127.0.0.1"));
	http_response_free(&rs);
	http_client_free(c);

	srv_stop(s);
	pki_free(&p);
}

/* A server certificate for 127.0.0.1 signed by the test CA of P, valid from
 * NOT_BEFORE to NOT_AFTER seconds from now, with SAN (NULL: none); PEMs of
 * the certificate and its key into *CERT and *KEY. */
static void
server_cert_with(const struct pki *p, const char *cn, const char *san, long not_before,
    long not_after, char **cert, char **key)
{
	BIO *b = BIO_new_mem_buf(p->ca_pem, -1), *kb = BIO_new_mem_buf(p->ca_key_pem, -1);
	X509 *ca = PEM_read_bio_X509(b, NULL, NULL, NULL), *x;
	EVP_PKEY *ca_key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(ca);
	assert_non_null(ca_key);
	assert_non_null(k);
	x = make_cert(k, cn, ca, ca_key, 0, san);
	/* New validity, then signed again: the signature covers it. */
	X509_gmtime_adj(X509_getm_notBefore(x), not_before);
	X509_gmtime_adj(X509_getm_notAfter(x), not_after);
	assert_true(X509_sign(x, ca_key, EVP_sha256()) > 0);
	*cert = cert_pem(x);
	*key = key_pem(k);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(k);
	BIO_free(b);
	BIO_free(kb);
}

static int
count_bytes(void *ctx, const char *data, size_t len)
{
	(void)data;
	*(size_t *)ctx += len;
	return 0;
}

/* One request that must fail verification: HTTP_ERR_TLS with WANT in the
 * message, the TLS handshake reached the server, and the handler never
 * ran (no fallback to an unverified connection, no retry without
 * verification). */
static void
tls_refused(const char *server_key, const char *server_cert, const char *trusted_ca,
    const char *want)
{
	struct srv *s = srv_start(server_key, server_cert, NULL);
	struct http_tls tls = { .ca_pem = trusted_ca };
	struct http_client_config cfg = { .tls = &tls };
	struct http_client *c = client_new(&cfg);
	struct http_request rq = { .url = url_of(s, "/echo") };
	struct http_response rs;
	size_t streamed = 0;

	for (int i = 0; i < 2; i++) {
		assert_int_equal(http_do(c, &rq, &rs), -1);
		assert_int_equal(rs.err, HTTP_ERR_TLS);
		assert_int_equal(rs.status, 0);
		if (strstr(rs.error, want) == NULL)
			fail_msg("\"%s\" does not say \"%s\"", rs.error, want);
		assert_non_null(strstr(rs.error, "127.0.0.1"));
		assert_false(http_error_transient(rs.err));
		http_response_free(&rs);
	}
	/* A streaming request (a watch) is refused the same way. */
	rq.on_data = count_bytes;
	rq.stream_ctx = &streamed;
	assert_int_equal(http_do(c, &rq, &rs), -1);
	assert_int_equal(rs.err, HTTP_ERR_TLS);
	http_response_free(&rs);
	assert_int_equal(streamed, 0);
	assert_int_equal(atomic_load(&s->requests), 0);
	assert_true(atomic_load(&s->connections) >= 1);
	http_client_free(c);
	srv_stop(s);
}

static void
test_tls_failures_no_fallback(void **state)
{
	struct pki p;
	char *cert, *key;

	(void)state;
	pki_make(&p);
	/* A CA that did not sign the server's certificate. */
	tls_refused(p.server_key_pem, p.server_pem, p.other_ca_pem, "certificate");
	/* Expired yesterday (and the right CA, the right name). */
	server_cert_with(&p, "127.0.0.1", "IP:127.0.0.1,DNS:localhost", -2 * 86400, -86400,
	    &cert, &key);
	tls_refused(key, cert, p.ca_pem, "certificate has expired");
	free(cert);
	free(key);
	/* Not valid yet counts as well. */
	server_cert_with(&p, "127.0.0.1", "IP:127.0.0.1,DNS:localhost", 86400, 2 * 86400,
	    &cert, &key);
	tls_refused(key, cert, p.ca_pem, "certificate is not yet valid");
	free(cert);
	free(key);
	/* Valid and from the right CA, but for another name. */
	server_cert_with(&p, "wrong.example", "DNS:wrong.example", -3600, 86400, &cert, &key);
	/* (curl's words: "no alternative certificate subject name matches
	 * target host name", older ones "... does not match target host
	 * name") */
	tls_refused(key, cert, p.ca_pem, "target host name '127.0.0.1'");
	free(cert);
	free(key);
	pki_free(&p);
}

/* connect_to pins where a request goes while TLS still verifies the URL's
 * own host name (the checks' `resolve`): a certificate for green.example
 * served on 127.0.0.1 is reached as https://green.example:PORT/ through a
 * pin, verified against that name, and the name never needs DNS.  Plain
 * http may only be pinned to loopback. */
static void
test_connect_to_pins(void **state)
{
	struct pki p;
	char *cert, *key, url[256], pin[256];
	struct srv *s;
	struct http_client *c;
	struct http_tls tls = { 0 };
	const char *pins[2] = { pin, NULL };

	(void)state;
	pki_make(&p);
	server_cert_with(&p, "green.example", "DNS:green.example", -3600, 86400, &cert, &key);
	s = srv_start(key, cert, NULL);
	tls.ca_pem = p.ca_pem;
	c = client_new(NULL);
	snprintf(url, sizeof url, "https://green.example:%d/echo", s->port);
	snprintf(pin, sizeof pin, "green.example:%d:127.0.0.1:%d", s->port, s->port);
	{
		struct http_request rq = { .url = url, .tls = &tls, .connect_to = pins };
		struct http_response rs;

		if (http_do(c, &rq, &rs) != 0)
			fail_msg("pinned request: %s", rs.error);
		assert_int_equal(rs.status, 200);
		http_response_free(&rs);
	}
	assert_int_equal(atomic_load(&s->requests), 1);
	{
		/* Pinned to a server whose certificate is for another name:
		 * verified against the URL's host, so refused. */
		struct http_request rq = { .url = url, .tls = &tls, .connect_to = pins };
		struct http_response rs;
		char other[256];

		snprintf(other, sizeof other, "https://blue.example:%d/echo", s->port);
		snprintf(pin, sizeof pin, "blue.example:%d:127.0.0.1:%d", s->port, s->port);
		rq.url = other;
		assert_int_equal(http_do(c, &rq, &rs), -1);
		assert_int_equal(rs.err, HTTP_ERR_TLS);
		http_response_free(&rs);
	}
	assert_int_equal(atomic_load(&s->requests), 1);
	{
		/* Plain http from a loopback URL may not be pinned off the machine,
		 * and a malformed pin is refused before any connection. */
		struct http_request rq = { .connect_to = pins };
		struct http_response rs;

		snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", s->port);
		snprintf(pin, sizeof pin, "127.0.0.1:%d:10.0.0.1:%d", s->port, s->port);
		rq.url = url;
		assert_int_equal(http_do(c, &rq, &rs), -1);
		assert_int_equal(rs.err, HTTP_ERR_POLICY);
		assert_non_null(strstr(rs.error, "plain http pinned to 10.0.0.1 refused"));
		http_response_free(&rs);
		snprintf(pin, sizeof pin, "no-port-here");
		assert_int_equal(http_do(c, &rq, &rs), -1);
		assert_int_equal(rs.err, HTTP_ERR_POLICY);
		http_response_free(&rs);
	}
	assert_int_equal(atomic_load(&s->requests), 1);
	http_client_free(c);
	srv_stop(s);
	free(cert);
	free(key);
	pki_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_response_headers),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test_teardown(test_plain_http_refused, unset_proxy),
		cmocka_unit_test(test_url_check),
		cmocka_unit_test(test_redact_url),
		cmocka_unit_test(test_stream_incremental),
		cmocka_unit_test(test_stream_cancel),
		cmocka_unit_test(test_stream_callback_stop),
		cmocka_unit_test(test_body_cap),
		cmocka_unit_test(test_connection_reuse),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_invalid_input),
		cmocka_unit_test(test_log_redaction),
		cmocka_unit_test_teardown(test_tls_verify, unset_proxy),
		cmocka_unit_test(test_tls_insecure),
		cmocka_unit_test(test_tls_client_cert),
		cmocka_unit_test(test_tls_bad_material),
		cmocka_unit_test(test_tls_failures_no_fallback),
		cmocka_unit_test(test_connect_to_pins),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
