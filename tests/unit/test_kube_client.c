/*
 * test_kube_client.c — the Kubernetes API client (kube/kube_client.c,
 * kube/kube_lease.c) against a small API server written here with
 * libmicrohttpd, then against the simulator.
 *
 * The in-test server lives under a path prefix (/clusters/c1, as AKS
 * fleet proxies and our simulator do) and answers each test's routes; it
 * records what every request carried (method, path, query parameters,
 * Authorization, content type, body) so the tests can check what the
 * client sent as well as what it made of the answers: bearer tokens and
 * a 401 that makes an exec plugin (a shell script counting its runs) run
 * again, paged lists and a continue token that expires, Status errors,
 * watch streams delivered event by event, ERROR 410, bookmarks,
 * truncated and malformed answers, server-side apply, access reviews,
 * Retry-After and cancellation.  The last group starts the simulator
 * in-process over TLS and takes a Lease between two holders.
 * Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kube/kube_client.h"
#include "kube/kube_lease.h"
#include "kube/kubeconfig.h"
#include "sim/sim.h"
#include "src/http.h"
#include "src/log.h"
#include "tests/lib/testenv.h"

#define PREFIX "/clusters/c1"

static char dir[64];

/* ---- the test server ---------------------------------------------------- */

struct seen {
	char method[8];
	char path[256];
	char auth[256];
	char ua[64];
	char accept[64];
	char ctype[64];
	char limit[16], cont[64], rv[32], rvm[32], watch[8], bookmarks[8], timeout[16];
	char fm[32], force[8], lsel[64], fsel[64];
	char body[2048];
};

struct srv;
typedef enum MHD_Result (*route_fn)(struct srv *s, struct MHD_Connection *conn,
    const char *path, const char *method, const struct seen *req);

struct srv {
	struct MHD_Daemon *d;
	int port;
	char server[128];		/* http://127.0.0.1:PORT/clusters/c1 */
	atomic_int stopping;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	route_fn route;
	char token_ok[64];		/* accepted bearer token; "" = any */
	int nreq;
	struct seen req[32];		/* the first 32 requests */
	int state;			/* per-test */
	int seen_events;		/* events the client has handled */
	int stall;			/* a stream waited in vain */
};

struct reqctx {
	char *body;
	size_t len;
};

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned int code, const char *ctype, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (ctype != NULL)
		MHD_add_response_header(r, "Content-Type", ctype);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
reply_json(struct MHD_Connection *conn, unsigned int code, const char *json)
{
	return reply(conn, code, "application/json", json);
}

static enum MHD_Result
status_reply(struct MHD_Connection *conn, unsigned int code, const char *reason, const char *msg)
{
	char buf[1024];

	snprintf(buf, sizeof buf, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
	    "\"status\":\"Failure\",\"message\":\"%s\",\"reason\":\"%s\",\"code\":%u}",
	    msg, reason, code);
	return reply_json(conn, code, buf);
}

static void
copy_val(struct MHD_Connection *conn, enum MHD_ValueKind kind, const char *name, char *dst,
    size_t n)
{
	const char *v = MHD_lookup_connection_value(conn, kind, name);

	snprintf(dst, n, "%s", v != NULL ? v : "");
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct srv *s = cls;
	struct reqctx *rc = *con_cls;
	struct seen q;
	char want[128];
	int check;

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
	memset(&q, 0, sizeof q);
	snprintf(q.method, sizeof q.method, "%s", method);
	snprintf(q.path, sizeof q.path, "%s", url);
	copy_val(conn, MHD_HEADER_KIND, "Authorization", q.auth, sizeof q.auth);
	copy_val(conn, MHD_HEADER_KIND, "User-Agent", q.ua, sizeof q.ua);
	copy_val(conn, MHD_HEADER_KIND, "Accept", q.accept, sizeof q.accept);
	copy_val(conn, MHD_HEADER_KIND, "Content-Type", q.ctype, sizeof q.ctype);
	copy_val(conn, MHD_GET_ARGUMENT_KIND, "limit", q.limit, sizeof q.limit);
	copy_val(conn, MHD_GET_ARGUMENT_KIND, "continue", q.cont, sizeof q.cont);
	copy_val(conn, MHD_GET_ARGUMENT_KIND, "resourceVersion", q.rv, sizeof q.rv);
	copy_val(conn, MHD_GET_ARGUMENT_KIND, "resourceVersionMatch", q.rvm, sizeof q.rvm);
	copy_val(conn, MHD_GET_ARGUMENT_KIND, "watch", q.watch, sizeof q.watch);
	copy_val(conn, MHD_GET_ARGUMENT_KIND, "allowWatchBookmarks", q.bookmarks, sizeof q.bookmarks);
	copy_val(conn, MHD_GET_ARGUMENT_KIND, "timeoutSeconds", q.timeout, sizeof q.timeout);
	copy_val(conn, MHD_GET_ARGUMENT_KIND, "fieldManager", q.fm, sizeof q.fm);
	copy_val(conn, MHD_GET_ARGUMENT_KIND, "force", q.force, sizeof q.force);
	copy_val(conn, MHD_GET_ARGUMENT_KIND, "labelSelector", q.lsel, sizeof q.lsel);
	copy_val(conn, MHD_GET_ARGUMENT_KIND, "fieldSelector", q.fsel, sizeof q.fsel);
	if (rc->body != NULL)
		snprintf(q.body, sizeof q.body, "%s", rc->body);
	pthread_mutex_lock(&s->lock);
	if (s->nreq < 32)
		s->req[s->nreq] = q;
	s->nreq++;
	snprintf(want, sizeof want, "Bearer %s", s->token_ok);
	check = s->token_ok[0] != '\0';
	pthread_mutex_unlock(&s->lock);

	/* The prefix of the kubeconfig's server must be kept. */
	if (strncmp(url, PREFIX "/", sizeof PREFIX) != 0)
		return reply(conn, 404, "text/plain", "no such prefix");
	if (check && strcmp(q.auth, want) != 0)
		return status_reply(conn, 401, "Unauthorized", "Unauthorized");
	return s->route(s, conn, url + strlen(PREFIX), method, &q);
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

static struct srv *
srv_start(route_fn route)
{
	struct srv *s = calloc(1, sizeof *s);
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	assert_non_null(s);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->route = route;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
	    0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
	assert_non_null(s->d);
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	s->port = info->port;
	snprintf(s->server, sizeof s->server, "http://127.0.0.1:%d" PREFIX, s->port);
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

static void
srv_token(struct srv *s, const char *tok)
{
	pthread_mutex_lock(&s->lock);
	snprintf(s->token_ok, sizeof s->token_ok, "%s", tok);
	pthread_mutex_unlock(&s->lock);
}

static void
srv_state(struct srv *s, int v)
{
	pthread_mutex_lock(&s->lock);
	s->state = v;
	pthread_mutex_unlock(&s->lock);
}

static int
nreq(struct srv *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->nreq;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- streamed answers ------------------------------------------------------ */

/* A body sent piece by piece: piece k+1 only once the client has handled
 * WAIT[k] events (so a client that buffered the stream would stall), and
 * then the end, clean or broken. */
struct script {
	struct srv *s;
	const char *piece[8];
	int wait[8];
	int n, next;
	int broken;			/* end with an error (a cut connection) */
	int hang;			/* never end: wait until the server stops */
};

static ssize_t
script_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct script *sc = cls;
	struct srv *s = sc->s;
	struct timespec until;
	size_t len;

	(void)pos;
	if (sc->next >= sc->n) {
		if (sc->hang) {
			while (!atomic_load(&s->stopping))
				usleep(10000);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		return sc->broken ? MHD_CONTENT_READER_END_WITH_ERROR
		    : MHD_CONTENT_READER_END_OF_STREAM;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 3;
	pthread_mutex_lock(&s->lock);
	while (s->seen_events < sc->wait[sc->next] && !atomic_load(&s->stopping))
		if (pthread_cond_timedwait(&s->cond, &s->lock, &until) == ETIMEDOUT) {
			s->stall = 1;
			break;
		}
	pthread_mutex_unlock(&s->lock);
	len = strlen(sc->piece[sc->next]);
	assert_true(len <= max);
	memcpy(buf, sc->piece[sc->next], len);
	sc->next++;
	return (ssize_t)len;
}

static enum MHD_Result
reply_script(struct MHD_Connection *conn, struct script *proto)
{
	struct script *sc = malloc(sizeof *sc);
	struct MHD_Response *r;
	enum MHD_Result ret;

	*sc = *proto;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, script_reader, sc, free);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- helpers -------------------------------------------------------------- */

static int
group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/bgswitch-kclient-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	return testlib_rmtree(dir);
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (hay == NULL || strstr(hay, needle) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", needle, hay ? hay : "(null)");
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* A client for SERVER authenticated by USER_YAML (the body of users[0].user). */
static struct kube_client *
client_for(const char *server, const char *user_yaml, const struct kube_client_opts *o)
{
	char yaml[4096], err[KUBECONFIG_ERR_SIZE] = "";
	struct kubeconfig *kc;
	struct kubeconfig_target t;
	struct kube_client *c;

	snprintf(yaml, sizeof yaml,
	    "apiVersion: v1\nkind: Config\n"
	    "clusters:\n- name: c\n  cluster:\n    server: %s\n"
	    "contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n    namespace: shop\n"
	    "current-context: ctx\n"
	    "users:\n- name: u\n  user:\n%s", server, user_yaml);
	kc = kubeconfig_load_mem(yaml, strlen(yaml), "test kubeconfig", dir, err, sizeof err);
	if (kc == NULL)
		fail_msg("kubeconfig: %s", err);
	if (kubeconfig_resolve(kc, NULL, &t, err, sizeof err) != 0)
		fail_msg("resolve: %s", err);
	c = kube_client_new(&t, o, err, sizeof err);
	if (c == NULL)
		fail_msg("kube_client_new: %s", err);
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);
	return c;
}

static struct kube_client *
token_client(struct srv *s, const char *token)
{
	char user[256];

	snprintf(user, sizeof user, "    token: %s\n", token);
	return client_for(s->server, user, NULL);
}

/* ---- routes ------------------------------------------------------------------ */

static enum MHD_Result
route_basic(struct srv *s, struct MHD_Connection *conn, const char *path, const char *method,
    const struct seen *q)
{
	(void)s;
	(void)q;
	if (strcmp(path, "/api/v1/namespaces/default") == 0 && strcmp(method, "GET") == 0)
		return reply_json(conn, 200, "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\","
		    "\"metadata\":{\"name\":\"default\",\"resourceVersion\":\"7\"}}");
	if (strcmp(path, "/api/v1/namespaces/x") == 0)
		return status_reply(conn, 404, "NotFound", "namespaces \\\"x\\\" not found");
	if (strcmp(path, "/api/v1/namespaces/conflict") == 0)
		return status_reply(conn, 409, "Conflict", "Operation cannot be fulfilled on "
		    "namespaces \\\"conflict\\\": the object has been modified");
	if (strcmp(path, "/api/v1/namespaces/forbidden") == 0)
		return status_reply(conn, 403, "Forbidden", "namespaces \\\"forbidden\\\" is "
		    "forbidden: User \\\"u\\\" cannot get resource");
	if (strcmp(path, "/api/v1/namespaces/gone") == 0)
		return status_reply(conn, 410, "Expired", "too old resource version: 1 (5)");
	if (strcmp(path, "/api/v1/namespaces/html") == 0)
		return reply(conn, 502, "text/html", "<html><body>Bad gateway\n\x01</body></html>");
	if (strcmp(path, "/api/v1/namespaces/empty500") == 0)
		return reply(conn, 500, "text/plain", "");
	if (strcmp(path, "/api/v1/namespaces/notjson") == 0)
		return reply(conn, 200, "application/json", "this is { not json");
	if (strcmp(path, "/api/v1/namespaces/array") == 0)
		return reply(conn, 200, "application/json", "[1,2,3]");
	if (strcmp(path, "/api/v1/namespaces/bare") == 0)
		return reply_json(conn, 400, "{\"message\":\"bad things\"}");
	return status_reply(conn, 404, "NotFound", "no route");
}

/* ---- tests: requests and errors ---------------------------------------------- */

static void
test_bearer_and_prefix(void **state)
{
	struct srv *s = srv_start(route_basic);
	struct kube_client *c;
	struct kube_call call = { 0 };
	cJSON *j = NULL;
	const cJSON *md;

	(void)state;
	srv_token(s, "tok-static-1");
	c = token_client(s, "tok-static-1");
	assert_string_equal(kube_client_server(c), s->server);
	assert_string_equal(kube_client_namespace(c), "shop");
	assert_int_equal(kube_get(c, "/api/v1/namespaces/default", &j, &call), 0);
	assert_int_equal(call.err, KUBE_OK);
	assert_int_equal(call.status, 200);
	assert_string_equal(call.error, "");
	md = cJSON_GetObjectItem(j, "metadata");
	assert_string_equal(cJSON_GetObjectItem(md, "name")->valuestring, "default");
	cJSON_Delete(j);
	assert_int_equal(nreq(s), 1);
	assert_string_equal(s->req[0].method, "GET");
	assert_string_equal(s->req[0].path, PREFIX "/api/v1/namespaces/default");
	assert_string_equal(s->req[0].auth, "Bearer tok-static-1");
	assert_string_equal(s->req[0].ua, "bgswitch/" BGSWITCH_VERSION);
	assert_string_equal(s->req[0].accept, "application/json");
	kube_client_free(c);

	/* A wrong token: 401, an auth error, and no retry (nothing to refresh). */
	c = token_client(s, "tok-wrong");
	assert_int_equal(kube_get(c, "/api/v1/namespaces/default", &j, &call), -1);
	assert_null(j);
	assert_int_equal(call.err, KUBE_E_AUTH);
	assert_int_equal(call.status, 401);
	assert_string_equal(call.error, "GET /api/v1/namespaces/default: 401 Unauthorized: "
	    "Unauthorized");
	assert_int_equal(nreq(s), 2);
	kube_client_free(c);
	srv_stop(s);
}

static void
test_status_errors(void **state)
{
	struct srv *s = srv_start(route_basic);
	struct kube_client *c = token_client(s, "t");
	struct kube_call call = { 0 };
	cJSON *j = (cJSON *)&call;	/* must be reset to NULL on failure */

	(void)state;
	assert_int_equal(kube_get(c, "/api/v1/namespaces/x", &j, &call), -1);
	assert_null(j);
	assert_int_equal(call.err, KUBE_E_NOT_FOUND);
	assert_int_equal(call.status, 404);
	assert_string_equal(call.reason, "NotFound");
	assert_string_equal(call.error, "GET /api/v1/namespaces/x: 404 NotFound: "
	    "namespaces \"x\" not found");

	/* The query is not part of the message. */
	assert_int_equal(kube_get(c, "/api/v1/namespaces/x?pretty=true", NULL, &call), -1);
	assert_string_equal(call.error, "GET /api/v1/namespaces/x: 404 NotFound: "
	    "namespaces \"x\" not found");

	assert_int_equal(kube_get(c, "/api/v1/namespaces/conflict", NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_CONFLICT);
	assert_contains(call.error, "409 Conflict: Operation cannot be fulfilled");

	assert_int_equal(kube_get(c, "/api/v1/namespaces/forbidden", NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_FORBIDDEN);
	assert_contains(call.error, "GET /api/v1/namespaces/forbidden: 403 Forbidden: ");

	assert_int_equal(kube_get(c, "/api/v1/namespaces/gone", NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_EXPIRED);
	assert_string_equal(call.reason, "Expired");

	/* Not a Status: the status line and a clean piece of the body. */
	assert_int_equal(kube_get(c, "/api/v1/namespaces/html", NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_OTHER);
	assert_int_equal(call.status, 502);
	assert_contains(call.error, "GET /api/v1/namespaces/html: 502 Bad Gateway (not a "
	    "Kubernetes Status: \"<html><body>Bad gateway");
	assert_null(strchr(call.error, '\n'));
	assert_null(strchr(call.error, '\x01'));

	assert_int_equal(kube_get(c, "/api/v1/namespaces/empty500", NULL, &call), -1);
	assert_string_equal(call.error, "GET /api/v1/namespaces/empty500: 500 Internal Server "
	    "Error (empty answer)");

	/* A Status without reason: the HTTP text stands in. */
	assert_int_equal(kube_get(c, "/api/v1/namespaces/bare", NULL, &call), -1);
	assert_string_equal(call.error, "GET /api/v1/namespaces/bare: 400 Bad Request: bad things");

	/* 200 with something that is not an object. */
	assert_int_equal(kube_get(c, "/api/v1/namespaces/notjson", &j, &call), -1);
	assert_int_equal(call.err, KUBE_E_DECODE);
	assert_string_equal(call.error, "GET /api/v1/namespaces/notjson: 200, but the answer "
	    "is not JSON");
	assert_int_equal(kube_get(c, "/api/v1/namespaces/array", &j, &call), -1);
	assert_int_equal(call.err, KUBE_E_DECODE);
	assert_contains(call.error, "not a JSON object");

	/* Arguments. */
	assert_int_equal(kube_get(c, "api/v1/nodes", NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_OTHER);
	assert_contains(call.error, "must start with '/'");
	assert_string_equal(kube_err_str(KUBE_E_TRANSPORT), "transport");
	kube_client_free(c);

	/* Nobody listening: a transport error, which the UI shows as
	 * disconnected. */
	{
		char server[128];
		int port = s->port;

		srv_stop(s);
		snprintf(server, sizeof server, "http://127.0.0.1:%d" PREFIX, port);
		c = client_for(server, "    token: t\n", NULL);
		assert_int_equal(kube_get(c, "/api/v1/nodes", NULL, &call), -1);
		assert_int_equal(call.err, KUBE_E_TRANSPORT);
		assert_int_equal(call.status, 0);
		assert_contains(call.error, "GET /api/v1/nodes: ");
		kube_client_free(c);
	}
	/* NULL call: outcome discarded, no crash. */
	c = client_for("http://127.0.0.1:1" PREFIX, "    token: t\n", NULL);
	assert_int_equal(kube_get(c, "/api/v1/nodes", NULL, NULL), -1);
	kube_client_free(c);
}

/* The exec plugin counts its runs in DIR/runs and prints token tok-N. */
static const char *
exec_plugin(void)
{
	static char path[128], body[1024];

	snprintf(path, sizeof path, "%s/plugin.sh", dir);
	snprintf(body, sizeof body,
	    "#!/bin/sh\n"
	    "n=$(cat %s/runs 2>/dev/null || echo 0)\n"
	    "n=$((n + 1))\n"
	    "echo $n > %s/runs\n"
	    "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"token\":\"tok-%%s\"}}' $n\n", dir, dir);
	write_file(path, body, 0755);
	return path;
}

static int
plugin_runs(void)
{
	char path[128];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof path, "%s/runs", dir);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%d", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

static void
test_exec_401_refresh(void **state)
{
	struct srv *s = srv_start(route_basic);
	struct kube_client *c;
	struct kube_call call = { 0 };
	char user[512], runs[128];

	(void)state;
	snprintf(runs, sizeof runs, "%s/runs", dir);
	unlink(runs);
	snprintf(user, sizeof user, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: %s\n      interactiveMode: Never\n", exec_plugin());
	c = client_for(s->server, user, NULL);
	/* The server only takes the plugin's second token. */
	srv_token(s, "tok-2");
	assert_int_equal(kube_get(c, "/api/v1/namespaces/default", NULL, &call), 0);
	assert_int_equal(call.err, KUBE_OK);
	assert_int_equal(plugin_runs(), 2);
	assert_int_equal(nreq(s), 2);
	assert_string_equal(s->req[0].auth, "Bearer tok-1");
	assert_string_equal(s->req[1].auth, "Bearer tok-2");

	/* Cached now: no plugin run for the next request. */
	assert_int_equal(kube_get(c, "/api/v1/namespaces/default", NULL, &call), 0);
	assert_int_equal(plugin_runs(), 2);
	assert_int_equal(nreq(s), 3);
	assert_string_equal(s->req[2].auth, "Bearer tok-2");

	/* A server that refuses every token: one retry, then an auth error. */
	srv_token(s, "never");
	assert_int_equal(kube_get(c, "/api/v1/namespaces/default", NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_AUTH);
	assert_int_equal(call.status, 401);
	assert_int_equal(nreq(s), 5);
	assert_int_equal(plugin_runs(), 3);
	assert_string_equal(s->req[4].auth, "Bearer tok-3");
	kube_client_free(c);

	/* A plugin that fails: an auth error naming it, no request sent. */
	snprintf(user, sizeof user, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: /bin/false\n      interactiveMode: Never\n");
	c = client_for(s->server, user, NULL);
	assert_int_equal(kube_get(c, "/api/v1/namespaces/default", NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_AUTH);
	assert_contains(call.error, "GET /api/v1/namespaces/default: no credential: ");
	assert_int_equal(nreq(s), 5);
	kube_client_free(c);
	srv_stop(s);
}

static void
test_token_file_rotation(void **state)
{
	struct srv *s = srv_start(route_basic);
	struct kube_client *c;
	struct kube_call call = { 0 };
	char user[512], path[128];

	(void)state;
	snprintf(path, sizeof path, "%s/token", dir);
	write_file(path, "tok-old\n", 0600);
	snprintf(user, sizeof user, "    tokenFile: %s\n", path);
	c = client_for(s->server, user, NULL);
	assert_int_equal(kube_get(c, "/api/v1/namespaces/default", NULL, &call), 0);
	assert_string_equal(s->req[0].auth, "Bearer tok-old");
	/* Rotated on disk; the server takes only the new one: the 401 makes
	 * the client read the file again and retry once. */
	write_file(path, "tok-new\n", 0600);
	srv_token(s, "tok-new");
	assert_int_equal(kube_get(c, "/api/v1/namespaces/default", NULL, &call), 0);
	assert_int_equal(nreq(s), 3);
	assert_string_equal(s->req[1].auth, "Bearer tok-old");
	assert_string_equal(s->req[2].auth, "Bearer tok-new");
	kube_client_free(c);

	/* With a short re-read period the new token is picked up unasked. */
	{
		struct kube_client_opts o = { .token_reread_ms = 1 };

		write_file(path, "tok-a\n", 0600);
		c = client_for(s->server, user, &o);
		write_file(path, "tok-b\n", 0600);
		usleep(5000);
		srv_token(s, "tok-b");
		assert_int_equal(kube_get(c, "/api/v1/namespaces/default", NULL, &call), 0);
		assert_int_equal(nreq(s), 4);
		assert_string_equal(s->req[3].auth, "Bearer tok-b");
		/* A file that vanishes keeps the last token. */
		unlink(path);
		usleep(5000);
		assert_int_equal(kube_get(c, "/api/v1/namespaces/default", NULL, &call), 0);
		assert_string_equal(s->req[4].auth, "Bearer tok-b");
		kube_client_free(c);
	}
	srv_stop(s);
}

/* ---- writes ------------------------------------------------------------------ */

static enum MHD_Result
route_writes(struct srv *s, struct MHD_Connection *conn, const char *path, const char *method,
    const struct seen *q)
{
	(void)s;
	(void)q;
	if (strcmp(path, "/apis/apps/v1/namespaces/shop/deployments/web") == 0
	    && strcmp(method, "PATCH") == 0)
		return reply_json(conn, 200, "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"}}");
	if (strcmp(path, "/api/v1/namespaces/shop/configmaps") == 0 && strcmp(method, "POST") == 0)
		return reply_json(conn, 201, "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\"}}");
	if (strcmp(path, "/api/v1/namespaces/shop/configmaps/cm") == 0 && strcmp(method, "PUT") == 0)
		return reply_json(conn, 200, "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\"}}");
	if (strcmp(path, "/api/v1/namespaces/shop/configmaps/cm") == 0 && strcmp(method, "DELETE") == 0)
		return reply_json(conn, 200, "{\"kind\":\"Status\",\"status\":\"Success\"}");
	if (strcmp(path, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") == 0) {
		if (strstr(q->body, "\"verb\":\"delete\"") != NULL)
			return reply_json(conn, 201, "{\"kind\":\"SelfSubjectAccessReview\",\"status\":"
			    "{\"allowed\":false,\"reason\":\"no RBAC policy matched\"}}");
		if (strstr(q->body, "\"verb\":\"watch\"") != NULL)
			return reply_json(conn, 201, "{\"kind\":\"SelfSubjectAccessReview\","
			    "\"status\":{\"allowed\":\"yes\"}}");
		return reply_json(conn, 201, "{\"kind\":\"SelfSubjectAccessReview\",\"status\":"
		    "{\"allowed\":true,\"reason\":\"RBAC: allowed by ClusterRoleBinding\"}}");
	}
	return status_reply(conn, 404, "NotFound", "no route");
}

static void
test_apply_and_writes(void **state)
{
	struct srv *s = srv_start(route_writes);
	struct kube_client *c = token_client(s, "t");
	struct kube_call call = { 0 };
	const char *yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
	    "spec:\n  replicas: 3\n";
	cJSON *j = NULL;

	(void)state;
	assert_int_equal(kube_apply(c, "/apis/apps/v1/namespaces/shop/deployments/web", yaml,
	    strlen(yaml), "bgswitch", true, &j, &call), 0);
	assert_non_null(j);
	cJSON_Delete(j);
	assert_string_equal(s->req[0].method, "PATCH");
	assert_string_equal(s->req[0].ctype, "application/apply-patch+yaml");
	assert_string_equal(s->req[0].fm, "bgswitch");
	assert_string_equal(s->req[0].force, "true");
	assert_string_equal(s->req[0].body, yaml);

	/* Without force, no force parameter; a manager name is percent-encoded. */
	assert_int_equal(kube_apply(c, "/apis/apps/v1/namespaces/shop/deployments/web", yaml,
	    strlen(yaml), "bg switch/1", false, NULL, &call), 0);
	assert_string_equal(s->req[1].fm, "bg switch/1");
	assert_string_equal(s->req[1].force, "");
	/* A field manager is required. */
	assert_int_equal(kube_apply(c, "/apis/apps/v1/namespaces/shop/deployments/web", yaml,
	    strlen(yaml), "", false, NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_OTHER);
	assert_int_equal(nreq(s), 2);

	assert_int_equal(kube_merge_patch(c, "/apis/apps/v1/namespaces/shop/deployments/web",
	    "{\"spec\":{\"replicas\":5}}", NULL, &call), 0);
	assert_string_equal(s->req[2].ctype, "application/merge-patch+json");
	assert_string_equal(s->req[2].body, "{\"spec\":{\"replicas\":5}}");

	assert_int_equal(kube_create(c, "/api/v1/namespaces/shop/configmaps",
	    "{\"metadata\":{\"name\":\"cm\"}}", NULL, &call), 0);
	assert_int_equal(call.status, 201);
	assert_string_equal(s->req[3].method, "POST");
	assert_string_equal(s->req[3].ctype, "application/json");

	assert_int_equal(kube_replace(c, "/api/v1/namespaces/shop/configmaps/cm",
	    "{\"metadata\":{\"name\":\"cm\",\"resourceVersion\":\"5\"}}", NULL, &call), 0);
	assert_string_equal(s->req[4].method, "PUT");

	assert_int_equal(kube_delete(c, "/api/v1/namespaces/shop/configmaps/cm",
	    KUBE_PROPAGATION_FOREGROUND, NULL, &call), 0);
	assert_string_equal(s->req[5].method, "DELETE");
	assert_contains(s->req[5].body, "\"propagationPolicy\":\"Foreground\"");
	assert_contains(s->req[5].body, "\"kind\":\"DeleteOptions\"");
	assert_int_equal(kube_delete(c, "/api/v1/namespaces/shop/configmaps/cm",
	    KUBE_PROPAGATION_DEFAULT, NULL, &call), 0);
	assert_string_equal(s->req[6].body, "");
	kube_client_free(c);
	srv_stop(s);
}

static void
test_can_i(void **state)
{
	struct srv *s = srv_start(route_writes);
	struct kube_client *c = token_client(s, "t");
	struct kube_call call = { 0 };
	bool allowed = false;
	char reason[128];

	(void)state;
	assert_int_equal(kube_can_i(c, "patch", "apps", "deployments", "shop", &allowed, reason,
	    sizeof reason, &call), 0);
	assert_true(allowed);
	assert_string_equal(reason, "RBAC: allowed by ClusterRoleBinding");
	assert_string_equal(s->req[0].method, "POST");
	assert_contains(s->req[0].body, "\"kind\":\"SelfSubjectAccessReview\"");
	assert_contains(s->req[0].body, "\"apiVersion\":\"authorization.k8s.io/v1\"");
	assert_contains(s->req[0].body, "\"resourceAttributes\":{\"namespace\":\"shop\","
	    "\"verb\":\"patch\",\"group\":\"apps\",\"resource\":\"deployments\"}");

	assert_int_equal(kube_can_i(c, "delete", "", "namespaces", NULL, &allowed, reason,
	    sizeof reason, &call), 0);
	assert_false(allowed);
	assert_string_equal(reason, "no RBAC policy matched");
	assert_null(strstr(s->req[1].body, "\"namespace\""));

	/* A malformed answer is an error, never "allowed". */
	allowed = true;
	assert_int_equal(kube_can_i(c, "watch", "", "pods", "", &allowed, NULL, 0, &call), -1);
	assert_false(allowed);
	assert_int_equal(call.err, KUBE_E_DECODE);
	kube_client_free(c);
	srv_stop(s);
}

/* ---- lists ---------------------------------------------------------------------- */

static char *
pods_page(int from, int to, const char *cont, const char *rv)
{
	char *buf = malloc(16384);
	size_t off = 0;

	assert_non_null(buf);
	off += (size_t)snprintf(buf + off, 16384 - off, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\","
	    "\"metadata\":{\"resourceVersion\":\"%s\"%s%s%s},\"items\":[", rv,
	    cont != NULL ? ",\"continue\":\"" : "", cont != NULL ? cont : "",
	    cont != NULL ? "\"" : "");
	for (int i = from; i < to; i++)
		off += (size_t)snprintf(buf + off, 16384 - off, "%s{\"metadata\":{\"name\":\"pod-%d\","
		    "\"namespace\":\"ns-%d\",\"resourceVersion\":\"%d\"},\"status\":{\"phase\":"
		    "\"Running\"}}", i > from ? "," : "", i, i % 2, 100 + i);
	snprintf(buf + off, 16384 - off, "]}");
	return buf;
}

static enum MHD_Result
route_list(struct srv *s, struct MHD_Connection *conn, const char *path, const char *method,
    const struct seen *q)
{
	const char *rv;
	char *page;
	enum MHD_Result ret;
	int state;

	(void)method;
	pthread_mutex_lock(&s->lock);
	state = s->state;
	pthread_mutex_unlock(&s->lock);
	rv = state == 4 ? "" : "500";
	if (strcmp(path, "/api/v1/pods") != 0)
		return status_reply(conn, 404, "NotFound", "no route");
	/* state 1: the token for page 3 has expired; state 2: page 2 cuts the
	 * connection; state 3: a Status instead of a list; 4: no version. */
	if (q->cont[0] == '\0' && q->limit[0] == '\0')
		page = pods_page(0, 7, NULL, rv);
	else if (q->cont[0] == '\0')
		page = pods_page(0, 3, "tok-page2", rv);
	else if (strcmp(q->cont, "tok-page2") == 0) {
		if (state == 2)
			return MHD_NO;
		page = pods_page(3, 6, "tok-page3", rv);
	} else if (strcmp(q->cont, "tok-page3") == 0) {
		if (state == 1)
			return status_reply(conn, 410, "Expired", "The provided continue parameter "
			    "is too old to display a consistent list result.");
		if (state == 3)
			return reply_json(conn, 200, "{\"kind\":\"Status\",\"status\":\"Failure\","
			    "\"reason\":\"InternalError\",\"message\":\"etcd went away\",\"code\":500}");
		page = pods_page(6, 7, NULL, rv);
	} else
		return status_reply(conn, 400, "BadRequest", "bad continue");
	ret = reply_json(conn, 200, page);
	free(page);
	return ret;
}

struct collect {
	int n;
	int restarts;
	char names[32][KUBE_NS_MAX + KUBE_NAME_MAX];
	int stop_after;
};

static int
collect_item(void *ctx, enum kube_event ev, const struct kube_object *o)
{
	struct collect *k = ctx;

	assert_int_equal(ev, KUBE_EVENT_ITEM);
	assert_int_equal(o->kind, KUBE_KIND_POD);
	if (k->n < 32)
		snprintf(k->names[k->n], sizeof k->names[0], "%s/%s", o->meta.ns, o->meta.name);
	k->n++;
	return k->stop_after > 0 && k->n >= k->stop_after;
}

static void
collect_restart(void *ctx)
{
	struct collect *k = ctx;

	k->restarts++;
	k->n = 0;
}

static void
test_list_pages(void **state)
{
	struct srv *s = srv_start(route_list);
	struct kube_client *c = token_client(s, "t");
	struct kube_call call = { 0 };
	struct kube_list_opts o = { .limit = 3, .resource_version = "0",
	    .resource_version_match = "NotOlderThan", .label_selector = "app in (web,api)",
	    .on_restart = collect_restart };
	struct kube_list_meta m;
	struct collect k = { 0 };

	(void)state;
	assert_int_equal(kube_list(c, "/api/v1/pods", &o, collect_item, &k, &m, &call), 0);
	assert_int_equal(call.err, KUBE_OK);
	assert_int_equal(k.n, 7);
	assert_int_equal(k.restarts, 0);
	assert_string_equal(k.names[0], "ns-0/pod-0");
	assert_string_equal(k.names[3], "ns-1/pod-3");
	assert_string_equal(k.names[6], "ns-0/pod-6");
	assert_int_equal(m.pages, 3);
	assert_int_equal(m.items, 7);
	assert_int_equal(m.restarts, 0);
	assert_string_equal(m.resource_version, "500");
	assert_int_equal(nreq(s), 3);
	/* Page 1 carries the version asked for; later pages only the token. */
	assert_string_equal(s->req[0].limit, "3");
	assert_string_equal(s->req[0].cont, "");
	assert_string_equal(s->req[0].rv, "0");
	assert_string_equal(s->req[0].rvm, "NotOlderThan");
	assert_string_equal(s->req[0].lsel, "app in (web,api)");
	assert_string_equal(s->req[1].cont, "tok-page2");
	assert_string_equal(s->req[1].rv, "");
	assert_string_equal(s->req[1].rvm, "");
	assert_string_equal(s->req[1].limit, "3");
	assert_string_equal(s->req[1].lsel, "app in (web,api)");
	assert_string_equal(s->req[2].cont, "tok-page3");

	/* Default page size is 500. */
	o.limit = 0;
	k.n = 0;
	assert_int_equal(kube_list(c, "/api/v1/pods", &o, collect_item, &k, NULL, &call), 0);
	assert_string_equal(s->req[3].limit, "500");

	/* The callback may stop the list. */
	k.n = 0;
	k.stop_after = 2;
	assert_int_equal(kube_list(c, "/api/v1/pods", &o, collect_item, &k, &m, &call), -1);
	assert_int_equal(call.err, KUBE_E_CANCELLED);
	assert_int_equal(k.n, 2);
	kube_client_free(c);
	srv_stop(s);
}

static void
test_list_expired_continue(void **state)
{
	struct srv *s = srv_start(route_list);
	struct kube_client *c = token_client(s, "t");
	struct kube_call call = { 0 };
	struct kube_list_opts o = { .limit = 3, .on_restart = collect_restart };
	struct kube_list_meta m;
	struct collect k = { 0 };

	(void)state;
	srv_state(s, 1);
	assert_int_equal(kube_list(c, "/api/v1/pods", &o, collect_item, &k, &m, &call), 0);
	/* Pages 1 and 2 (6 items), then 410 on page 3, then the full list. */
	assert_int_equal(k.restarts, 1);
	assert_int_equal(k.n, 7);
	assert_int_equal(m.restarts, 1);
	assert_int_equal(m.items, 13);
	assert_int_equal(m.pages, 3);
	assert_string_equal(m.resource_version, "500");
	assert_int_equal(nreq(s), 4);
	assert_string_equal(s->req[2].cont, "tok-page3");
	/* client-go's pager: limit and continue dropped, a single full list. */
	assert_string_equal(s->req[3].cont, "");
	assert_string_equal(s->req[3].limit, "");
	kube_client_free(c);
	srv_stop(s);
}

static void
test_list_bad_answers(void **state)
{
	struct srv *s = srv_start(route_list);
	struct kube_client *c = token_client(s, "t");
	struct kube_call call = { 0 };
	struct kube_list_opts o = { .limit = 3 };
	struct collect k = { 0 };

	(void)state;
	/* The connection breaks on page 2: a transport error that says so. */
	srv_state(s, 2);
	assert_int_equal(kube_list(c, "/api/v1/pods", &o, collect_item, &k, NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_TRANSPORT);
	assert_contains(call.error, "(page 2)");

	/* A Status inside a 200 page. */
	srv_state(s, 3);
	assert_int_equal(kube_list(c, "/api/v1/pods", &o, collect_item, &k, NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_OTHER);
	assert_int_equal(call.status, 500);
	assert_contains(call.error, "GET /api/v1/pods: 500 InternalError: etcd went away");

	/* A list without resourceVersion cannot be watched from. */
	srv_state(s, 4);
	assert_int_equal(kube_list(c, "/api/v1/pods", &o, collect_item, &k, NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_DECODE);
	kube_client_free(c);
	srv_stop(s);
}

static enum MHD_Result
route_badlist(struct srv *s, struct MHD_Connection *conn, const char *path, const char *method,
    const struct seen *q)
{
	static struct script cut;

	(void)method;
	(void)q;
	if (strcmp(path, "/api/v1/notjson") == 0)
		return reply_json(conn, 200, "<html>oops</html>");
	if (strcmp(path, "/api/v1/wrongtype") == 0)
		return reply_json(conn, 200, "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":"
		    "\"1\"},\"items\":[{\"metadata\":{\"name\":7}}]}");
	if (strcmp(path, "/api/v1/object") == 0)
		return reply_json(conn, 200, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}");
	if (strcmp(path, "/api/v1/empty") == 0)
		return reply_json(conn, 200, "");
	if (strcmp(path, "/api/v1/truncated") == 0) {
		memset(&cut, 0, sizeof cut);
		cut.s = s;
		cut.piece[0] = "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"1\"},"
		    "\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{\"na";
		cut.n = 1;
		return reply_script(conn, &cut);
	}
	return status_reply(conn, 404, "NotFound", "no route");
}

static void
test_list_malformed(void **state)
{
	struct srv *s = srv_start(route_badlist);
	struct kube_client *c = token_client(s, "t");
	struct kube_call call = { 0 };
	struct kube_list_opts o = { .item_kind = "Pod" };
	struct collect k = { 0 };

	(void)state;
	assert_int_equal(kube_list(c, "/api/v1/notjson", &o, collect_item, &k, NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_DECODE);
	assert_contains(call.error, "GET /api/v1/notjson: bad list (page 1): byte ");

	assert_int_equal(kube_list(c, "/api/v1/wrongtype", &o, collect_item, &k, NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_DECODE);
	assert_contains(call.error, "name");

	assert_int_equal(kube_list(c, "/api/v1/object", &o, collect_item, &k, NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_DECODE);
	assert_contains(call.error, "not a list");

	assert_int_equal(kube_list(c, "/api/v1/empty", &o, collect_item, &k, NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_DECODE);

	/* Cut inside the second item: the first was whole and delivered. */
	k.n = 0;
	assert_int_equal(kube_list(c, "/api/v1/truncated", &o, collect_item, &k, NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_DECODE);
	assert_contains(call.error, "truncated");
	assert_int_equal(k.n, 1);
	kube_client_free(c);
	srv_stop(s);
}

/* ---- watches ------------------------------------------------------------------ */

#define EV(type, name, rv) "{\"type\":\"" type "\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":" \
	"\"v1\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"shop\",\"resourceVersion\":" \
	"\"" rv "\"},\"status\":{\"phase\":\"Running\"}}}\n"
#define BOOKMARK(rv) "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\"," \
	"\"metadata\":{\"resourceVersion\":\"" rv "\",\"annotations\":{\"k8s.io/initial-events-end\":" \
	"\"true\"}}}}\n"
#define ERR410 "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\"," \
	"\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: 5 (9)\"," \
	"\"reason\":\"Expired\",\"code\":410}}\n"

static enum MHD_Result
route_watch(struct srv *s, struct MHD_Connection *conn, const char *path, const char *method,
    const struct seen *q)
{
	struct script sc;

	(void)method;
	memset(&sc, 0, sizeof sc);
	sc.s = s;
	if (strcmp(q->watch, "1") != 0)
		return status_reply(conn, 400, "BadRequest", "not a watch");
	if (strcmp(path, "/api/v1/pods") == 0) {
		/* Each event only once the client has handled the one before. */
		sc.piece[0] = EV("ADDED", "a", "11");
		sc.piece[1] = EV("MODIFIED", "a", "12");
		sc.piece[2] = BOOKMARK("15");
		sc.piece[3] = EV("DELETED", "a", "16");
		sc.wait[1] = 1;
		sc.wait[2] = 2;
		sc.wait[3] = 3;
		sc.n = 4;
		return reply_script(conn, &sc);
	}
	if (strcmp(path, "/api/v1/expire") == 0) {
		sc.piece[0] = EV("ADDED", "b", "21");
		sc.piece[1] = ERR410;
		sc.piece[2] = EV("ADDED", "never", "22");
		sc.n = 3;
		return reply_script(conn, &sc);
	}
	if (strcmp(path, "/api/v1/gone") == 0)
		return status_reply(conn, 410, "Gone", "resource version too old");
	if (strcmp(path, "/api/v1/cut") == 0) {
		sc.piece[0] = EV("ADDED", "c", "31");
		sc.piece[1] = "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"meta";
		sc.n = 2;
		return reply_script(conn, &sc);
	}
	if (strcmp(path, "/api/v1/broken") == 0) {
		sc.piece[0] = EV("ADDED", "d", "41");
		sc.n = 1;
		sc.broken = 1;
		return reply_script(conn, &sc);
	}
	if (strcmp(path, "/api/v1/garbage") == 0) {
		sc.piece[0] = "{\"type\":\"ADDED\",\"object\":[1,2]}\n";
		sc.n = 1;
		return reply_script(conn, &sc);
	}
	if (strcmp(path, "/api/v1/hang") == 0) {
		sc.piece[0] = EV("ADDED", "e", "51");
		sc.n = 1;
		sc.hang = 1;
		return reply_script(conn, &sc);
	}
	return status_reply(conn, 404, "NotFound", "no route");
}

struct evrec {
	struct srv *s;
	int n;
	enum kube_event ev[16];
	char name[16][KUBE_NAME_MAX];
	char rv[16][KUBE_RV_MAX];
	int initial_end;
};

static int
rec_event(void *ctx, enum kube_event ev, const struct kube_object *o)
{
	struct evrec *r = ctx;

	if (r->n < 16) {
		r->ev[r->n] = ev;
		snprintf(r->name[r->n], sizeof r->name[0], "%s", o->meta.name);
		snprintf(r->rv[r->n], sizeof r->rv[0], "%s", o->meta.resource_version);
	}
	if (ev == KUBE_EVENT_BOOKMARK && o->meta.initial_events_end)
		r->initial_end = 1;
	r->n++;
	pthread_mutex_lock(&r->s->lock);
	r->s->seen_events = r->n;
	pthread_cond_broadcast(&r->s->cond);
	pthread_mutex_unlock(&r->s->lock);
	return 0;
}

static void
test_watch_stream(void **state)
{
	struct srv *s = srv_start(route_watch);
	struct kube_client *c = token_client(s, "t");
	struct kube_call call = { 0 };
	struct kube_watch_opts o = { .resource_version = "10", .timeout_s = 42,
	    .field_selector = "spec.nodeName=n1" };
	struct kube_watch_meta m;
	struct evrec r = { .s = s };

	(void)state;
	assert_int_equal(kube_watch(c, "/api/v1/pods", &o, rec_event, &r, &m, &call), 0);
	assert_int_equal(call.err, KUBE_OK);
	assert_int_equal(s->stall, 0);		/* delivered as they came */
	assert_int_equal(r.n, 4);
	assert_int_equal(r.ev[0], KUBE_EVENT_ADDED);
	assert_int_equal(r.ev[1], KUBE_EVENT_MODIFIED);
	assert_int_equal(r.ev[2], KUBE_EVENT_BOOKMARK);
	assert_int_equal(r.ev[3], KUBE_EVENT_DELETED);
	assert_string_equal(r.name[0], "a");
	assert_string_equal(r.rv[1], "12");
	assert_string_equal(r.rv[2], "15");
	assert_true(r.initial_end);
	assert_string_equal(m.resource_version, "16");
	assert_int_equal(m.events, 4);
	assert_true(m.streamed);
	assert_string_equal(s->req[0].watch, "1");
	assert_string_equal(s->req[0].rv, "10");
	assert_string_equal(s->req[0].bookmarks, "true");
	assert_string_equal(s->req[0].timeout, "42");
	assert_string_equal(s->req[0].fsel, "spec.nodeName=n1");

	/* Without bookmarks, not asked for. */
	o.no_bookmarks = true;
	o.resource_version = m.resource_version;
	r.n = 0;
	pthread_mutex_lock(&s->lock);
	s->seen_events = 0;
	pthread_mutex_unlock(&s->lock);
	assert_int_equal(kube_watch(c, "/api/v1/pods", &o, rec_event, &r, &m, &call), 0);
	assert_string_equal(s->req[1].bookmarks, "");
	assert_string_equal(s->req[1].rv, "16");
	kube_client_free(c);
	srv_stop(s);
}

static void
test_watch_errors(void **state)
{
	struct srv *s = srv_start(route_watch);
	struct kube_client *c = token_client(s, "t");
	struct kube_call call = { 0 };
	struct kube_watch_opts o = { .resource_version = "20" };
	struct kube_watch_meta m;
	struct evrec r = { .s = s };

	(void)state;
	/* ERROR 410 in the stream: the events before it count, then
	 * "expired", and nothing after it is read. */
	assert_int_equal(kube_watch(c, "/api/v1/expire", &o, rec_event, &r, &m, &call), -1);
	assert_int_equal(call.err, KUBE_E_EXPIRED);
	assert_int_equal(call.status, 410);
	assert_string_equal(call.reason, "Expired");
	assert_string_equal(call.error, "WATCH /api/v1/expire: 410 Expired: too old resource "
	    "version: 5 (9)");
	assert_int_equal(r.n, 1);
	assert_string_equal(m.resource_version, "21");

	/* HTTP 410. */
	assert_int_equal(kube_watch(c, "/api/v1/gone", &o, rec_event, &r, &m, &call), -1);
	assert_int_equal(call.err, KUBE_E_EXPIRED);
	assert_contains(call.error, "WATCH /api/v1/gone: 410 Gone");

	/* A stream that ends inside an event. */
	r.n = 0;
	assert_int_equal(kube_watch(c, "/api/v1/cut", &o, rec_event, &r, &m, &call), -1);
	assert_int_equal(call.err, KUBE_E_DECODE);
	assert_contains(call.error, "stream ended inside an event");
	assert_int_equal(r.n, 1);

	/* A connection that breaks: transport. */
	r.n = 0;
	assert_int_equal(kube_watch(c, "/api/v1/broken", &o, rec_event, &r, &m, &call), -1);
	assert_int_equal(call.err, KUBE_E_TRANSPORT);
	assert_int_equal(r.n, 1);

	/* An event of the wrong shape. */
	assert_int_equal(kube_watch(c, "/api/v1/garbage", &o, rec_event, &r, &m, &call), -1);
	assert_int_equal(call.err, KUBE_E_DECODE);
	assert_contains(call.error, "bad event stream");
	kube_client_free(c);
	srv_stop(s);
}

struct canceller {
	struct kube_client *c;
	struct http_cancel *cx;
	int ms;
};

static void *
cancel_later(void *arg)
{
	struct canceller *k = arg;

	usleep((useconds_t)k->ms * 1000);
	if (k->cx != NULL)
		http_cancel_fire(k->cx);
	else
		kube_client_cancel(k->c);
	return NULL;
}

static void
test_watch_cancel(void **state)
{
	struct srv *s = srv_start(route_watch);
	struct kube_client *c = token_client(s, "t");
	struct kube_call call = { 0 };
	struct kube_watch_meta m;
	struct evrec r = { .s = s };
	struct canceller k = { c, NULL, 200 };
	pthread_t th;
	long long t0;

	(void)state;
	/* A per-call token stops this call only. */
	k.cx = http_cancel_new();
	call.cancel = k.cx;
	pthread_create(&th, NULL, cancel_later, &k);
	t0 = http_now_ms();
	assert_int_equal(kube_watch(c, "/api/v1/hang", NULL, rec_event, &r, &m, &call), -1);
	assert_true(http_now_ms() - t0 < 2000);
	assert_int_equal(call.err, KUBE_E_CANCELLED);
	assert_int_equal(r.n, 1);
	pthread_join(th, NULL);
	http_cancel_free(k.cx);

	/* The client's cancel stops a call that carries its own token too,
	 * and every call after it. */
	k.cx = http_cancel_new();
	call.cancel = k.cx;
	k.cx = NULL;
	pthread_create(&th, NULL, cancel_later, &k);
	t0 = http_now_ms();
	assert_int_equal(kube_watch(c, "/api/v1/hang", NULL, rec_event, &r, &m, &call), -1);
	assert_true(http_now_ms() - t0 < 2000);
	assert_int_equal(call.err, KUBE_E_CANCELLED);
	pthread_join(th, NULL);
	http_cancel_free(call.cancel);
	call.cancel = NULL;
	assert_int_equal(kube_get(c, "/api/v1/pods", NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_CANCELLED);
	kube_client_free(c);
	srv_stop(s);
}

/* ---- retries ------------------------------------------------------------------ */

static enum MHD_Result
route_busy(struct srv *s, struct MHD_Connection *conn, const char *path, const char *method,
    const struct seen *q)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	const char *txt = "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"TooManyRequests\","
	    "\"message\":\"storage is (re)initializing\",\"code\":429}";
	int n;

	(void)method;
	(void)q;
	pthread_mutex_lock(&s->lock);
	n = s->state++;
	pthread_mutex_unlock(&s->lock);
	if (strcmp(path, "/api/v1/busy") == 0 && n == 0) {
		r = MHD_create_response_from_buffer(strlen(txt), (void *)txt, MHD_RESPMEM_MUST_COPY);
		MHD_add_response_header(r, "Retry-After", "1");
		ret = MHD_queue_response(conn, 429, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(path, "/api/v1/always") == 0) {
		r = MHD_create_response_from_buffer(strlen(txt), (void *)txt, MHD_RESPMEM_MUST_COPY);
		MHD_add_response_header(r, "Retry-After", "0");
		ret = MHD_queue_response(conn, 503, r);
		MHD_destroy_response(r);
		return ret;
	}
	return reply_json(conn, 200, "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\"}}");
}

static void
test_retry_after(void **state)
{
	struct srv *s = srv_start(route_busy);
	struct kube_client *c = token_client(s, "t");
	struct kube_call call = { 0 };
	long long t0 = http_now_ms();

	(void)state;
	assert_int_equal(kube_get(c, "/api/v1/busy", NULL, &call), 0);
	assert_int_equal(nreq(s), 2);
	assert_true(http_now_ms() - t0 >= 900);
	/* Retries are bounded: 1 + 3, then the answer as an error. */
	assert_int_equal(kube_get(c, "/api/v1/always", NULL, &call), -1);
	assert_int_equal(nreq(s), 6);
	assert_int_equal(call.status, 503);
	assert_contains(call.error, "503 TooManyRequests: storage is (re)initializing");
	kube_client_free(c);
	srv_stop(s);
}

static void
test_microtime(void **state)
{
	char buf[KUBE_MICROTIME_MAX];
	int64_t ms;

	(void)state;
	assert_int_equal(kube_microtime_format(1714564800123LL, buf, sizeof buf), 0);
	assert_string_equal(buf, "2024-05-01T12:00:00.123000Z");
	assert_int_equal(kube_microtime_parse(buf, &ms), 0);
	assert_int_equal(ms, 1714564800123LL);
	assert_int_equal(kube_microtime_parse("2004-01-01T01:01:01.000004Z", &ms), 0);
	assert_int_equal(ms, 1072918861000LL);
	assert_int_equal(kube_microtime_parse("2024-05-01T14:00:00.5+02:00", &ms), 0);
	assert_int_equal(ms, 1714564800500LL);
	assert_int_equal(kube_microtime_parse("2024-05-01T12:00:00Z", &ms), 0);
	assert_int_equal(ms, 1714564800000LL);
	assert_int_equal(kube_microtime_parse("yesterday", &ms), -1);
	assert_int_equal(kube_microtime_format(1, buf, 8), -1);
	{
		char p[64] = "/api/v1/pods";

		assert_int_equal(kube_path_add_query(p, sizeof p, "labelSelector", "a=b,c!=d"), 0);
		assert_string_equal(p, "/api/v1/pods?labelSelector=a%3Db%2Cc%21%3Dd");
		assert_int_equal(kube_path_add_query(p, sizeof p, "limit", "1"), 0);
		assert_string_equal(p, "/api/v1/pods?labelSelector=a%3Db%2Cc%21%3Dd&limit=1");
		assert_int_equal(kube_path_add_query(p, 20, "x", "y"), -1);
	}
}

/* ---- against the simulator ------------------------------------------------------- */

static struct kube_client *sim_client;
static char sim_dir[64];

static int
sim_setup(void **state)
{
	struct sim_opts o = { 0 };
	char err[KUBECONFIG_ERR_SIZE] = "", path[128];
	struct kubeconfig *kc;
	struct kubeconfig_target t;

	(void)state;
	snprintf(sim_dir, sizeof sim_dir, "/tmp/bgswitch-kclient-sim-XXXXXX");
	if (mkdtemp(sim_dir) == NULL)
		return -1;
	o.dir = sim_dir;
	o.speed = 50;
	if (sim_start(&o, err, sizeof err) != 0) {
		fprintf(stderr, "# sim_start: %s\n", err);
		return -1;
	}
	snprintf(path, sizeof path, "%s/kubeconfig", sim_dir);
	kc = kubeconfig_load(path, err, sizeof err);
	if (kc == NULL || kubeconfig_resolve(kc, "aks-prod-blue", &t, err, sizeof err) != 0) {
		fprintf(stderr, "# kubeconfig: %s\n", err);
		kubeconfig_free(kc);
		return -1;
	}
	sim_client = kube_client_new(&t, NULL, err, sizeof err);
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);
	if (sim_client == NULL)
		fprintf(stderr, "# kube_client_new: %s\n", err);
	return sim_client != NULL ? 0 : -1;
}

static int
sim_teardown(void **state)
{
	(void)state;
	kube_client_free(sim_client);
	sim_stop();
	return testlib_rmtree(sim_dir);
}

static void
test_sim_lease(void **state)
{
	struct kube_lease a, b, got;
	struct kube_call call = { 0 };
	int64_t renewed;

	(void)state;
	/* Clean slate, whatever an earlier run left. */
	{
		struct kube_call ignore = { 0 };

		kube_delete(sim_client, "/apis/coordination.k8s.io/v1/namespaces/default/leases/"
		    "bgswitch-test", KUBE_PROPAGATION_DEFAULT, NULL, &ignore);
	}
	assert_int_equal(kube_lease_acquire(sim_client, "default", "bgswitch-test", "alice@host1",
	    30, true, &a, &call), 0);
	assert_string_equal(a.holder, "alice@host1");
	assert_int_equal(a.duration_s, 30);
	assert_int_equal(a.transitions, 0);
	assert_false(a.expired);
	assert_true(a.resource_version[0] != '\0');
	assert_true(strlen(a.renew_time) == strlen("2024-05-01T12:00:00.000000Z"));

	/* Bob is refused while Alice holds it, and told who and when. */
	assert_int_equal(kube_lease_acquire(sim_client, "default", "bgswitch-test", "bob@host2",
	    30, true, &b, &call), 1);
	assert_int_equal(call.err, KUBE_E_CONFLICT);
	assert_string_equal(b.holder, "alice@host1");
	assert_string_equal(b.renew_time, a.renew_time);
	assert_contains(call.error, "held by alice@host1");
	assert_contains(call.error, "not expired");

	/* Alice renews; a stale copy of her lease loses. */
	got = a;
	usleep(20000);
	renewed = a.renew_ms;
	assert_int_equal(kube_lease_renew(sim_client, &a, &call), 0);
	assert_true(a.renew_ms > renewed);
	assert_string_not_equal(a.resource_version, got.resource_version);
	assert_int_equal(kube_lease_renew(sim_client, &got, &call), 1);
	assert_int_equal(call.err, KUBE_E_CONFLICT);

	/* Alice again (a restarted run): keeps acquireTime and transitions. */
	assert_int_equal(kube_lease_acquire(sim_client, "default", "bgswitch-test", "alice@host1",
	    30, false, &got, &call), 0);
	assert_string_equal(got.acquire_time, a.acquire_time);
	assert_int_equal(got.transitions, 0);
	a = got;

	/* Released, then Bob takes it: one transition more. */
	assert_int_equal(kube_lease_release(sim_client, &a, &call), 0);
	assert_string_equal(a.holder, "");
	assert_int_equal(kube_lease_get(sim_client, "default", "bgswitch-test", &got, &call), 0);
	assert_string_equal(got.holder, "");
	assert_true(got.expired);
	assert_int_equal(kube_lease_acquire(sim_client, "default", "bgswitch-test", "bob@host2",
	    1, false, &b, &call), 0);
	assert_string_equal(b.holder, "bob@host2");
	assert_int_equal(b.transitions, 1);

	/* Bob's one-second lease runs out (plus the quarter of a duration
	 * other machines wait for clock skew): Alice may take it over only
	 * when allowed to. */
	usleep(1400000);
	assert_int_equal(kube_lease_acquire(sim_client, "default", "bgswitch-test", "alice@host1",
	    30, false, &got, &call), 1);
	assert_true(got.expired);
	assert_string_equal(got.holder, "bob@host2");
	assert_contains(call.error, "expired; taking it over was not allowed");
	assert_int_equal(kube_lease_acquire(sim_client, "default", "bgswitch-test", "alice@host1",
	    30, true, &a, &call), 0);
	assert_string_equal(a.holder, "alice@host1");
	assert_int_equal(a.transitions, 2);
	/* Bob's renewal now fails: the lease is lost. */
	assert_int_equal(kube_lease_renew(sim_client, &b, &call), 1);
	assert_int_equal(kube_lease_release(sim_client, &a, &call), 0);
}

static void
test_sim_can_i_and_errors(void **state)
{
	struct kube_call call = { 0 };
	bool allowed = false;
	char reason[256];
	cJSON *j = NULL;

	(void)state;
	assert_int_equal(kube_can_i(sim_client, "patch", "apps", "deployments", "shop", &allowed,
	    reason, sizeof reason, &call), 0);
	assert_true(allowed);
	assert_int_equal(kube_can_i(sim_client, "create", "coordination.k8s.io", "leases",
	    "default", &allowed, reason, sizeof reason, &call), 0);
	assert_true(allowed);

	assert_int_equal(kube_get(sim_client, "/api/v1/namespaces/no-such-ns", &j, &call), -1);
	assert_int_equal(call.err, KUBE_E_NOT_FOUND);
	assert_string_equal(call.error, "GET /api/v1/namespaces/no-such-ns: 404 NotFound: "
	    "namespaces \"no-such-ns\" not found");
	assert_int_equal(kube_get(sim_client, "/api/v1/namespaces/default", &j, &call), 0);
	assert_non_null(j);
	cJSON_Delete(j);
}

int
main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_bearer_and_prefix),
		cmocka_unit_test(test_status_errors),
		cmocka_unit_test(test_exec_401_refresh),
		cmocka_unit_test(test_token_file_rotation),
		cmocka_unit_test(test_apply_and_writes),
		cmocka_unit_test(test_can_i),
		cmocka_unit_test(test_list_pages),
		cmocka_unit_test(test_list_expired_continue),
		cmocka_unit_test(test_list_bad_answers),
		cmocka_unit_test(test_list_malformed),
		cmocka_unit_test(test_watch_stream),
		cmocka_unit_test(test_watch_errors),
		cmocka_unit_test(test_watch_cancel),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_microtime),
	};
	const struct CMUnitTest sim[] = {
		cmocka_unit_test(test_sim_lease),
		cmocka_unit_test(test_sim_can_i_and_errors),
	};
	int failed;

	log_set_stream(stderr, LOG_OFF);
	failed = cmocka_run_group_tests_name("kube_client", unit, group_setup, group_teardown);
	failed += cmocka_run_group_tests_name("kube_client_sim", sim, sim_setup, sim_teardown);
	return failed;
}
