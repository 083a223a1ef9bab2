/*
 * test_kube_informer.c — informers (kube/kube_informer.c) and their store
 * (kube/kube_store.c).
 *
 * The store is tested directly: counts kept right through adds, changes,
 * deletes and sweeps, and the memory a 150,000-pod cluster costs.  The
 * informer is tested against a tiny API server written here with
 * libmicrohttpd that keeps pods and an event log with resource versions:
 * it pages lists, streams watch events from a version, ends streams,
 * sends bookmarks, expires old versions (ERROR 410), and can drop every
 * connection (an outage).  The tests check what the informer shows after
 * each of those, that the change signal is coalesced, that it stops at
 * once and burns no CPU while idle.  The last group starts the simulator
 * in-process over TLS and watches cluster aks-prod-blue through a scale
 * out, an API server outage and expired watches.  Run from the repo root.
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
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kube/kube_client.h"
#include "kube/kube_informer.h"
#include "kube/kube_store.h"
#include "kube/kubeconfig.h"
#include "sim/sim.h"
#include "src/http.h"
#include "src/log.h"
#include "tests/lib/testenv.h"

/* ---- a tiny API server for pods -------------------------------------------- */

#define MAXOBJ	600
#define MAXEV	4096

enum pstate { P_READY, P_PENDING, P_CRASH };

struct pod {
	char ns[32], name[64];
	enum pstate st;
	int alive;
};

struct event {
	int rv;
	char type[16];
	char json[1024];
};

struct api {
	struct MHD_Daemon *d;
	char server[96];
	atomic_int stopping;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pod pods[MAXOBJ];
	int npods;
	int rv;				/* current resource version */
	struct event *log;		/* events with rv > floor are kept */
	int nlog;
	int floor;			/* watches from below this get 410 */
	int close_gen;			/* bumped: open watches end cleanly */
	int expire_gen;			/* bumped: open watches get ERROR 410 */
	int bookmark_rv;		/* > 0: send a BOOKMARK at this version */
	int outage;			/* drop every connection */
	int garbage;			/* lists answer nonsense */
	int nlists, nwatches;
	char watch_rv[64][16];		/* resourceVersion of each watch */
	int open_watches;
};

static void
pod_json(const struct pod *p, int rv, char *buf, size_t n)
{
	const char *status;

	switch (p->st) {
	case P_READY:
		status = "{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
		    "\"containerStatuses\":[{\"name\":\"c\",\"ready\":true,\"restartCount\":1,"
		    "\"state\":{\"running\":{}}}]}";
		break;
	case P_PENDING:
		status = "{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}";
		break;
	default:
		status = "{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}],"
		    "\"containerStatuses\":[{\"name\":\"c\",\"ready\":false,\"restartCount\":7,"
		    "\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}";
		break;
	}
	snprintf(buf, n, "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\","
	    "\"namespace\":\"%s\",\"resourceVersion\":\"%d\"},\"spec\":{\"containers\":[{\"name\":"
	    "\"c\"}]},\"status\":%s}", p->name, p->ns, rv, status);
}

/* Under the lock. */
static void
api_log(struct api *a, const char *type, const struct pod *p)
{
	struct event *e;

	a->rv++;
	if (a->nlog == MAXEV)
		return;
	e = &a->log[a->nlog++];
	e->rv = a->rv;
	snprintf(e->type, sizeof e->type, "%s", type);
	pod_json(p, a->rv, e->json, sizeof e->json);
	pthread_cond_broadcast(&a->cond);
}

static void
api_put(struct api *a, const char *ns, const char *name, enum pstate st)
{
	struct pod *p = NULL;

	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < a->npods; i++)
		if (a->pods[i].alive && strcmp(a->pods[i].ns, ns) == 0
		    && strcmp(a->pods[i].name, name) == 0)
			p = &a->pods[i];
	if (p == NULL) {
		assert_true(a->npods < MAXOBJ);
		p = &a->pods[a->npods++];
		snprintf(p->ns, sizeof p->ns, "%s", ns);
		snprintf(p->name, sizeof p->name, "%s", name);
		p->alive = 1;
		p->st = st;
		api_log(a, "ADDED", p);
	} else {
		p->st = st;
		api_log(a, "MODIFIED", p);
	}
	pthread_mutex_unlock(&a->lock);
}

/* SILENT: gone without an event, as if compacted away. */
static void
api_del(struct api *a, const char *ns, const char *name, int silent)
{
	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < a->npods; i++) {
		struct pod *p = &a->pods[i];

		if (p->alive && strcmp(p->ns, ns) == 0 && strcmp(p->name, name) == 0) {
			p->alive = 0;
			if (silent)
				a->rv++;
			else
				api_log(a, "DELETED", p);
		}
	}
	pthread_mutex_unlock(&a->lock);
}

static void
api_set(struct api *a, int *field, int value)
{
	pthread_mutex_lock(&a->lock);
	*field = value;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

static int
api_get(struct api *a, const int *field)
{
	int v;

	pthread_mutex_lock(&a->lock);
	v = *field;
	pthread_mutex_unlock(&a->lock);
	return v;
}

/* Events newer than everything: the history before now is gone. */
static void
api_compact(struct api *a)
{
	pthread_mutex_lock(&a->lock);
	a->floor = a->rv;
	a->nlog = 0;
	a->expire_gen++;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

struct wstate {
	struct api *a;
	int pos;			/* last rv sent */
	int close_gen, expire_gen;
	int done;
	int expired_at_start;
};

static ssize_t
watch_reader(void *cls, uint64_t off, char *buf, size_t max)
{
	struct wstate *w = cls;
	struct api *a = w->a;
	struct timespec ts;
	ssize_t n = MHD_CONTENT_READER_END_OF_STREAM;

	(void)off;
	if (w->done)
		return MHD_CONTENT_READER_END_OF_STREAM;
	pthread_mutex_lock(&a->lock);
	for (;;) {
		if (atomic_load(&a->stopping) || a->outage) {
			n = MHD_CONTENT_READER_END_WITH_ERROR;
			break;
		}
		if (w->expired_at_start || a->expire_gen != w->expire_gen) {
			n = snprintf(buf, max, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
			    "\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":"
			    "\"too old resource version: %d (%d)\",\"reason\":\"Expired\",\"code\":410}}\n",
			    w->pos, a->floor);
			w->done = 1;
			break;
		}
		if (a->close_gen != w->close_gen) {
			n = MHD_CONTENT_READER_END_OF_STREAM;
			break;
		}
		if (a->bookmark_rv > 0) {
			n = snprintf(buf, max, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\","
			    "\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"%d\"}}}\n",
			    a->bookmark_rv);
			a->bookmark_rv = 0;
			break;
		}
		{
			struct event *e = NULL;

			for (int i = 0; i < a->nlog; i++)
				if (a->log[i].rv > w->pos) {
					e = &a->log[i];
					break;
				}
			if (e != NULL) {
				n = snprintf(buf, max, "{\"type\":\"%s\",\"object\":%s}\n", e->type, e->json);
				w->pos = e->rv;
				break;
			}
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&a->cond, &a->lock, &ts);
	}
	pthread_mutex_unlock(&a->lock);
	return n;
}

static void
watch_free(void *cls)
{
	struct wstate *w = cls;

	pthread_mutex_lock(&w->a->lock);
	w->a->open_watches--;
	pthread_mutex_unlock(&w->a->lock);
	free(w);
}

static enum MHD_Result
api_reply(struct MHD_Connection *conn, unsigned int code, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
api_list(struct api *a, struct MHD_Connection *conn, const char *limit, const char *cont)
{
	int lim = limit != NULL ? atoi(limit) : 0, from = cont != NULL ? atoi(cont) : 0, sent = 0;
	size_t cap = 4096 + (size_t)MAXOBJ * 1100, off = 0;
	char *buf = malloc(cap), pj[1024];
	enum MHD_Result ret;
	int i, rv;

	assert_non_null(buf);
	pthread_mutex_lock(&a->lock);
	a->nlists++;
	rv = a->rv;
	off += (size_t)snprintf(buf + off, cap - off, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\","
	    "\"items\":[");
	for (i = from; i < a->npods; i++) {
		if (!a->pods[i].alive)
			continue;
		if (lim > 0 && sent == lim)
			break;
		pod_json(&a->pods[i], rv, pj, sizeof pj);
		off += (size_t)snprintf(buf + off, cap - off, "%s%s", sent > 0 ? "," : "", pj);
		sent++;
	}
	while (i < a->npods && !a->pods[i].alive)
		i++;
	if (i < a->npods)
		snprintf(buf + off, cap - off, "],\"metadata\":{\"resourceVersion\":\"%d\","
		    "\"continue\":\"%d\"}}", rv, i);
	else
		snprintf(buf + off, cap - off, "],\"metadata\":{\"resourceVersion\":\"%d\"}}", rv);
	pthread_mutex_unlock(&a->lock);
	ret = api_reply(conn, 200, buf);
	free(buf);
	return ret;
}

static enum MHD_Result
api_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct api *a = cls;
	const char *watch, *rvs;
	struct wstate *w;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)method;
	(void)version;
	(void)upload;
	(void)upload_size;
	if (*con_cls == NULL) {
		*con_cls = a;
		return MHD_YES;
	}
	if (api_get(a, &a->outage))
		return MHD_NO;
	if (strcmp(url, "/api/v1/pods") != 0)
		return api_reply(conn, 404, "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"code\":404}");
	watch = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "watch");
	if (watch == NULL) {
		if (api_get(a, &a->garbage))
			return api_reply(conn, 200, "{\"kind\":\"PodList\",\"items\":[{\"metadata\":7}]}");
		return api_list(a, conn, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
		    "limit"), MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "continue"));
	}
	rvs = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "resourceVersion");
	w = calloc(1, sizeof *w);
	assert_non_null(w);
	w->a = a;
	pthread_mutex_lock(&a->lock);
	if (a->nwatches < 64)
		snprintf(a->watch_rv[a->nwatches], sizeof a->watch_rv[0], "%s", rvs ? rvs : "");
	a->nwatches++;
	a->open_watches++;
	w->pos = rvs != NULL ? atoi(rvs) : a->rv;
	w->close_gen = a->close_gen;
	w->expire_gen = a->expire_gen;
	/* kube-apiserver answers 200 and one ERROR event for a version older
	 * than its history. */
	w->expired_at_start = w->pos < a->floor;
	pthread_mutex_unlock(&a->lock);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 2048, watch_reader, w, watch_free);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static struct api *
api_start(void)
{
	struct api *a = calloc(1, sizeof *a);
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	assert_non_null(a);
	a->log = calloc(MAXEV, sizeof *a->log);
	assert_non_null(a->log);
	a->rv = 100;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
	    0, NULL, NULL, api_handler, a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_END);
	assert_non_null(a->d);
	info = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(a->server, sizeof a->server, "http://127.0.0.1:%d", info->port);
	return a;
}

static void
api_stop(struct api *a)
{
	atomic_store(&a->stopping, 1);
	pthread_mutex_lock(&a->lock);
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	MHD_stop_daemon(a->d);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a->log);
	free(a);
}

/* ---- helpers ---------------------------------------------------------------- */

static struct kube_client *
client_for(const char *server, const char *ca_file_dir)
{
	char yaml[2048], err[KUBECONFIG_ERR_SIZE] = "";
	struct kubeconfig *kc;
	struct kubeconfig_target t;
	struct kube_client *c;

	(void)ca_file_dir;
	snprintf(yaml, sizeof yaml,
	    "apiVersion: v1\nkind: Config\n"
	    "clusters:\n- name: c\n  cluster:\n    server: %s\n"
	    "contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n"
	    "current-context: ctx\nusers:\n- name: u\n  user:\n    token: t\n", server);
	kc = kubeconfig_load_mem(yaml, strlen(yaml), "test", "/tmp", err, sizeof err);
	if (kc == NULL || kubeconfig_resolve(kc, NULL, &t, err, sizeof err) != 0)
		fail_msg("kubeconfig: %s", err);
	c = kube_client_new(&t, NULL, err, sizeof err);
	if (c == NULL)
		fail_msg("client: %s", err);
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);
	return c;
}

struct counter {
	atomic_int n;
};

static void
count_change(void *ctx)
{
	struct counter *k = ctx;

	atomic_fetch_add(&k->n, 1);
}

static struct kube_informer *
start_pods(struct kube_client *c, long page, struct counter *k)
{
	struct kube_informer_opts o = { 0 };
	char err[256] = "";
	struct kube_informer *inf;

	o.name = "test pods";
	o.page_size = page;
	o.backoff_initial_ms = 50;
	o.backoff_max_ms = 200;
	o.watch_timeout_s = 30;
	o.on_change = k != NULL ? count_change : NULL;
	o.ctx = k;
	inf = kube_informer_start(c, KUBE_INFORMER_PODS, &o, err, sizeof err);
	if (inf == NULL)
		fail_msg("informer: %s", err);
	return inf;
}

/* Polls snapshots until PRED holds (or TIMEOUT_MS passes); leaves the last
 * snapshot in *S. */
typedef int (*snap_pred)(const struct kube_snapshot *s, const void *arg);

static int
wait_for(struct kube_informer *inf, struct kube_snapshot *s, snap_pred pred, const void *arg,
    long timeout_ms)
{
	long long until = http_now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = { kube_informer_fd(inf), POLLIN, 0 };

		kube_snapshot_free(s);
		assert_int_equal(kube_informer_snapshot(inf, s), 0);
		if (pred(s, arg))
			return 1;
		if (http_now_ms() >= until)
			return 0;
		/* Woken by the informer's signal, or every 100 ms for
		 * predicates on time (connected, errors). */
		poll(&pfd, 1, 100);
	}
}

static int
p_objects(const struct kube_snapshot *s, const void *arg)
{
	return s->synced && s->objects == (uint64_t)*(const int *)arg;
}

static int
p_ready(const struct kube_snapshot *s, const void *arg)
{
	return s->pods.ready == (uint32_t)*(const int *)arg;
}

static int
p_disconnected(const struct kube_snapshot *s, const void *arg)
{
	(void)arg;
	return !s->connected;
}

static int
p_connected(const struct kube_snapshot *s, const void *arg)
{
	(void)arg;
	return s->connected;
}

static int
p_reconnects(const struct kube_snapshot *s, const void *arg)
{
	return s->reconnects >= (uint64_t)*(const int *)arg;
}

static int
p_relists(const struct kube_snapshot *s, const void *arg)
{
	return s->relists >= (uint64_t)*(const int *)arg;
}

static int
p_rv(const struct kube_snapshot *s, const void *arg)
{
	return strcmp(s->resource_version, (const char *)arg) == 0;
}

static int
p_error(const struct kube_snapshot *s, const void *arg)
{
	return strstr(s->last_error, (const char *)arg) != NULL;
}

static const struct kube_ns_summary *
ns_of(const struct kube_snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->nnamespaces; i++)
		if (strcmp(s->namespaces[i].name, name) == 0)
			return &s->namespaces[i];
	return NULL;
}

static int
wait_open_watches(struct api *a, int n, long ms)
{
	long long until = http_now_ms() + ms;

	while (api_get(a, &a->open_watches) != n) {
		if (http_now_ms() > until)
			return 0;
		usleep(10000);
	}
	return 1;
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- store ------------------------------------------------------------------ */

static void
mkpod(struct kube_object *o, const char *ns, const char *name, enum kube_pod_health h)
{
	memset(o, 0, sizeof *o);
	o->kind = KUBE_KIND_POD;
	snprintf(o->meta.ns, sizeof o->meta.ns, "%s", ns);
	snprintf(o->meta.name, sizeof o->meta.name, "%s", name);
	o->pod.containers = 1;
	switch (h) {
	case KUBE_POD_READY:
		o->pod.phase = KUBE_PHASE_RUNNING;
		o->pod.ready = KUBE_COND_TRUE;
		o->pod.containers_ready = 1;
		break;
	case KUBE_POD_CRASHLOOP:
		o->pod.phase = KUBE_PHASE_RUNNING;
		o->pod.crashlooping = 1;
		o->pod.restarts = 5;
		snprintf(o->pod.waiting_reason, sizeof o->pod.waiting_reason, "CrashLoopBackOff");
		break;
	case KUBE_POD_SUCCEEDED:
		o->pod.phase = KUBE_PHASE_SUCCEEDED;
		break;
	default:
		o->pod.phase = KUBE_PHASE_PENDING;
		break;
	}
}

static void
test_store_pods(void **state)
{
	struct kube_store *s = kube_store_new(KUBE_INFORMER_PODS);
	struct kube_snapshot snap;
	struct kube_object o;
	const struct kube_ns_summary *ns;

	(void)state;
	assert_non_null(s);
	mkpod(&o, "shop", "a", KUBE_POD_READY);
	assert_int_equal(kube_store_upsert(s, &o, 1), 1);
	mkpod(&o, "shop", "b", KUBE_POD_CRASHLOOP);
	assert_int_equal(kube_store_upsert(s, &o, 1), 1);
	mkpod(&o, "pay", "a", KUBE_POD_PENDING);	/* same name, other namespace */
	assert_int_equal(kube_store_upsert(s, &o, 1), 1);
	mkpod(&o, "pay", "job", KUBE_POD_SUCCEEDED);
	assert_int_equal(kube_store_upsert(s, &o, 1), 1);
	/* Another kind is ignored. */
	o.kind = KUBE_KIND_NODE;
	assert_int_equal(kube_store_upsert(s, &o, 1), 0);
	assert_int_equal(kube_store_count(s), 4);

	memset(&snap, 0, sizeof snap);
	assert_int_equal(kube_store_snapshot(s, &snap, 10), 0);
	assert_int_equal(snap.objects, 4);
	assert_int_equal(snap.pods.total, 3);		/* the finished job is not counted */
	assert_int_equal(snap.pods.ready, 1);
	assert_int_equal(snap.pods.pending, 1);
	assert_int_equal(snap.pods.crashlooping, 1);
	assert_int_equal(snap.pods.by_health[KUBE_POD_SUCCEEDED], 1);
	assert_int_equal(snap.pods.restarts, 5);
	assert_int_equal(snap.nnamespaces, 2);
	assert_string_equal(snap.namespaces[0].name, "pay");	/* sorted */
	ns = &snap.namespaces[1];
	assert_string_equal(ns->name, "shop");
	assert_int_equal(ns->pods.total, 2);
	assert_int_equal(ns->pods.ready, 1);
	assert_int_equal(ns->pods.crashlooping, 1);
	kube_snapshot_free(&snap);

	/* A change moves the counts, it does not add to them. */
	mkpod(&o, "shop", "b", KUBE_POD_READY);
	assert_int_equal(kube_store_upsert(s, &o, 2), 1);
	/* A new list (generation 2) saw shop/a and shop/b only. */
	mkpod(&o, "shop", "a", KUBE_POD_READY);
	assert_int_equal(kube_store_upsert(s, &o, 2), 1);
	assert_int_equal(kube_store_sweep(s, 2), 2);
	assert_int_equal(kube_store_count(s), 2);
	assert_int_equal(kube_store_delete(s, "shop", "a"), 1);
	assert_int_equal(kube_store_delete(s, "shop", "a"), 0);
	assert_int_equal(kube_store_delete(s, "nowhere", "x"), 0);
	memset(&snap, 0, sizeof snap);
	assert_int_equal(kube_store_snapshot(s, &snap, 10), 0);
	assert_int_equal(snap.objects, 1);
	assert_int_equal(snap.pods.total, 1);
	assert_int_equal(snap.pods.ready, 1);
	assert_int_equal(snap.pods.crashlooping, 0);
	assert_int_equal(snap.pods.restarts, 0);
	assert_int_equal(snap.nnamespaces, 1);		/* "pay" is empty now */
	kube_snapshot_free(&snap);
	kube_store_free(s);
}

static void
test_store_150k_pods(void **state)
{
	struct kube_store *s = kube_store_new(KUBE_INFORMER_PODS);
	struct kube_object o;
	struct kube_snapshot snap;
	char ns[32], name[64];
	size_t bytes;
	double t0 = cpu_s();

	(void)state;
	for (int i = 0; i < 150000; i++) {
		snprintf(ns, sizeof ns, "team-%03d", i % 500);
		/* A typical Deployment pod name: 40 to 50 characters. */
		snprintf(name, sizeof name, "checkout-service-api-7d9f8b6c5d-%05dx", i);
		mkpod(&o, ns, name, i % 100 == 0 ? KUBE_POD_CRASHLOOP : KUBE_POD_READY);
		assert_int_equal(kube_store_upsert(s, &o, 1), 1);
	}
	bytes = kube_store_bytes(s);
	print_message("# 150,000 pods: %.1f MiB in the store (%.0f bytes a pod), %.2f s CPU\n",
	    (double)bytes / 1048576.0, (double)bytes / 150000.0, cpu_s() - t0);
	assert_true(bytes / 150000 < 160);
	memset(&snap, 0, sizeof snap);
	t0 = cpu_s();
	assert_int_equal(kube_store_snapshot(s, &snap, 10), 0);
	assert_true(cpu_s() - t0 < 0.05);	/* O(namespaces), not O(pods) */
	assert_int_equal(snap.pods.total, 150000);
	assert_int_equal(snap.pods.crashlooping, 1500);
	assert_int_equal(snap.nnamespaces, 500);
	kube_snapshot_free(&snap);
	for (int i = 0; i < 150000; i += 2) {
		snprintf(ns, sizeof ns, "team-%03d", i % 500);
		snprintf(name, sizeof name, "checkout-service-api-7d9f8b6c5d-%05dx", i);
		assert_int_equal(kube_store_delete(s, ns, name), 1);
	}
	assert_int_equal(kube_store_count(s), 75000);
	kube_store_free(s);
}

static void
test_store_nodes_deployments(void **state)
{
	struct kube_store *n = kube_store_new(KUBE_INFORMER_NODES);
	struct kube_store *d = kube_store_new(KUBE_INFORMER_DEPLOYMENTS);
	struct kube_snapshot snap;
	struct kube_object o;

	(void)state;
	for (int i = 0; i < 4; i++) {
		memset(&o, 0, sizeof o);
		o.kind = KUBE_KIND_NODE;
		snprintf(o.meta.name, sizeof o.meta.name, "node-%d", 3 - i);
		o.node.ready = i == 0 ? KUBE_COND_FALSE : i == 1 ? KUBE_COND_UNKNOWN : KUBE_COND_TRUE;
		o.node.unschedulable = i == 3;
		snprintf(o.node.kubelet_version, sizeof o.node.kubelet_version, "%s",
		    i < 2 ? "v1.29.7" : "v1.30.5");
		snprintf(o.node.agent_pool, sizeof o.node.agent_pool, "pool%d", i % 2);
		snprintf(o.node.ready_reason, sizeof o.node.ready_reason, "%s",
		    i == 1 ? "NodeStatusUnknown" : "KubeletReady");
		o.meta.created = 1700000000 + i;
		assert_int_equal(kube_store_upsert(n, &o, 1), 1);
	}
	memset(&snap, 0, sizeof snap);
	assert_int_equal(kube_store_snapshot(n, &snap, 10), 0);
	assert_int_equal(snap.objects, 4);
	assert_int_equal(snap.nodes_ready, 2);
	assert_int_equal(snap.nodes_not_ready, 1);
	assert_int_equal(snap.nodes_unknown, 1);
	assert_int_equal(snap.nodes_cordoned, 1);
	assert_int_equal(snap.nnodes, 4);
	assert_int_equal(snap.nversions, 2);
	assert_int_equal(snap.versions[0].nodes + snap.versions[1].nodes, 4);
	for (size_t i = 0; i < snap.nnodes; i++)
		if (strcmp(snap.nodes[i].name, "node-2") == 0) {
			assert_int_equal(snap.nodes[i].health, KUBE_NODE_UNKNOWN);
			assert_string_equal(snap.nodes[i].ready_reason, "NodeStatusUnknown");
			assert_string_equal(snap.nodes[i].kubelet_version, "v1.29.7");
			assert_string_equal(snap.nodes[i].agent_pool, "pool1");
			assert_int_equal(snap.nodes[i].created, 1700000001);
		}
	kube_snapshot_free(&snap);
	/* A version whose last node goes disappears from the list. */
	assert_int_equal(kube_store_delete(n, "", "node-3"), 1);
	assert_int_equal(kube_store_delete(n, "", "node-2"), 1);
	memset(&snap, 0, sizeof snap);
	assert_int_equal(kube_store_snapshot(n, &snap, 10), 0);
	assert_int_equal(snap.nversions, 1);
	assert_string_equal(snap.versions[0].version, "v1.30.5");
	assert_int_equal(snap.nodes_not_ready, 0);
	kube_snapshot_free(&snap);

	for (int i = 0; i < 3; i++) {
		memset(&o, 0, sizeof o);
		o.kind = KUBE_KIND_DEPLOYMENT;
		snprintf(o.meta.ns, sizeof o.meta.ns, "shop");
		snprintf(o.meta.name, sizeof o.meta.name, "dep-%d", i);
		o.deploy.spec_replicas = 3;
		o.deploy.replicas = o.deploy.updated_replicas = 3;
		o.deploy.ready_replicas = o.deploy.available_replicas = i == 1 ? 1 : 3;
		o.deploy.available = i == 1 ? KUBE_COND_FALSE : KUBE_COND_TRUE;
		snprintf(o.deploy.available_reason, sizeof o.deploy.available_reason,
		    "MinimumReplicasUnavailable");
		assert_int_equal(kube_store_upsert(d, &o, 1), 1);
	}
	memset(&snap, 0, sizeof snap);
	assert_int_equal(kube_store_snapshot(d, &snap, 10), 0);
	assert_int_equal(snap.deployments, 3);
	assert_int_equal(snap.deployments_not_available, 1);
	assert_int_equal(snap.nnot_available, 1);
	assert_string_equal(snap.not_available[0].name, "dep-1");
	assert_string_equal(snap.not_available[0].reason, "MinimumReplicasUnavailable");
	assert_int_equal(snap.not_available[0].available, 1);
	assert_int_equal(snap.namespaces[0].deployments_not_available, 1);
	kube_snapshot_free(&snap);
	/* Healed: off the list; a second one breaks: on it. */
	o.deploy.ready_replicas = o.deploy.available_replicas = 3;
	o.deploy.available = KUBE_COND_TRUE;
	snprintf(o.meta.name, sizeof o.meta.name, "dep-1");
	assert_int_equal(kube_store_upsert(d, &o, 1), 1);
	o.deploy.available_replicas = 2;
	snprintf(o.meta.name, sizeof o.meta.name, "dep-2");
	assert_int_equal(kube_store_upsert(d, &o, 1), 1);
	snprintf(o.meta.name, sizeof o.meta.name, "dep-0");
	assert_int_equal(kube_store_upsert(d, &o, 1), 1);
	memset(&snap, 0, sizeof snap);
	assert_int_equal(kube_store_snapshot(d, &snap, 1), 0);
	assert_int_equal(snap.deployments_not_available, 2);
	assert_int_equal(snap.nnot_available, 1);	/* capped */
	kube_snapshot_free(&snap);
	assert_int_equal(kube_store_delete(d, "shop", "dep-2"), 1);
	assert_int_equal(kube_store_sweep(d, 1), 0);
	memset(&snap, 0, sizeof snap);
	assert_int_equal(kube_store_snapshot(d, &snap, 10), 0);
	assert_int_equal(snap.deployments_not_available, 1);
	assert_string_equal(snap.not_available[0].name, "dep-0");
	kube_snapshot_free(&snap);
	kube_store_free(n);
	kube_store_free(d);
}

/* ---- informer against the tiny server ----------------------------------------------- */

static int
count_items(void *ctx, const struct kube_informer_item *it)
{
	int *n = ctx;

	assert_non_null(it->name);
	if (strcmp(it->ns, "shop") == 0 && it->pod_health == KUBE_POD_CRASHLOOP) {
		assert_string_equal(it->reason, "CrashLoopBackOff");
		assert_int_equal(it->restarts, 7);
	}
	(*n)++;
	return 0;
}

static void
test_informer_sync_and_events(void **state)
{
	struct api *a = api_start();
	struct kube_client *c;
	struct kube_informer *inf;
	struct kube_snapshot s = { 0 };
	struct counter k = { 0 };
	const struct kube_ns_summary *ns;
	int five = 5, four = 4, ready = 4;

	(void)state;
	api_put(a, "shop", "web-1", P_READY);
	api_put(a, "shop", "web-2", P_READY);
	api_put(a, "shop", "web-3", P_CRASH);
	api_put(a, "pay", "api-1", P_READY);
	api_put(a, "pay", "api-2", P_PENDING);
	c = client_for(a->server, NULL);
	inf = start_pods(c, 2, &k);
	assert_int_equal(kube_informer_wait_synced(inf, 5000), 1);
	assert_true(wait_for(inf, &s, p_objects, &five, 2000));
	assert_int_equal(api_get(a, &a->nlists), 3);	/* pages of 2, 2, 1 */
	assert_int_equal(s.pods.total, 5);
	assert_int_equal(s.pods.ready, 3);
	assert_int_equal(s.pods.pending, 1);
	assert_int_equal(s.pods.crashlooping, 1);
	assert_int_equal(s.pods.restarts, 3 + 7);
	assert_true(s.synced);
	assert_true(s.connected);
	assert_int_equal(s.lists, 1);
	assert_int_equal(s.relists, 0);
	assert_string_equal(s.resource_version, "105");
	assert_string_equal(s.last_error, "");
	ns = ns_of(&s, "shop");
	assert_non_null(ns);
	assert_int_equal(ns->pods.total, 3);
	assert_int_equal(ns->pods.crashlooping, 1);
	assert_true(k.n >= 1);

	/* The watch follows: pending -> ready, a delete, an add. */
	assert_true(wait_open_watches(a, 1, 3000));
	assert_string_equal(a->watch_rv[0], "105");
	api_put(a, "pay", "api-2", P_READY);
	assert_true(wait_for(inf, &s, p_ready, &ready, 3000));
	assert_int_equal(s.pods.pending, 0);
	api_del(a, "shop", "web-3", 0);
	assert_true(wait_for(inf, &s, p_objects, &four, 3000));
	assert_int_equal(s.pods.crashlooping, 0);
	assert_int_equal(s.events, 2);
	assert_string_equal(s.resource_version, "107");
	ns = ns_of(&s, "shop");
	assert_int_equal(ns->pods.total, 2);

	/* Every stored pod, for detail views. */
	{
		int items = 0;

		assert_int_equal(kube_informer_foreach(inf, count_items, &items), 4);
		assert_int_equal(items, 4);
	}
	kube_snapshot_free(&s);
	kube_informer_stop(inf);
	kube_client_free(c);
	api_stop(a);
}

static void
test_informer_reconnect_and_bookmark(void **state)
{
	struct api *a = api_start();
	struct kube_client *c;
	struct kube_informer *inf;
	struct kube_snapshot s = { 0 };
	int three = 3, one = 1, two = 2, items = 0;

	(void)state;
	api_put(a, "shop", "web-1", P_READY);
	api_put(a, "shop", "web-2", P_CRASH);
	c = client_for(a->server, NULL);
	inf = start_pods(c, 0, NULL);
	assert_int_equal(kube_informer_wait_synced(inf, 5000), 1);
	assert_true(wait_open_watches(a, 1, 3000));
	assert_int_equal(kube_informer_foreach(inf, count_items, &items), 2);
	assert_int_equal(items, 2);

	/* An event, then the server ends the stream (its timeout): the
	 * informer watches again from the last version it saw, no relist. */
	api_put(a, "shop", "web-3", P_READY);
	assert_true(wait_for(inf, &s, p_objects, &three, 3000));
	api_set(a, &a->close_gen, 1);
	assert_true(wait_for(inf, &s, p_reconnects, &one, 3000));
	assert_true(wait_open_watches(a, 1, 3000));
	assert_int_equal(api_get(a, &a->nwatches), 2);
	assert_string_equal(a->watch_rv[1], "103");
	assert_int_equal(api_get(a, &a->nlists), 1);
	assert_int_equal(s.relists, 0);
	/* Changes made after the reconnect arrive. */
	api_del(a, "shop", "web-1", 0);
	assert_true(wait_for(inf, &s, p_objects, &two, 3000));

	/* A bookmark moves the version without a change; the next watch
	 * starts from it. */
	api_set(a, &a->bookmark_rv, 900);
	assert_true(wait_for(inf, &s, p_rv, "900", 3000));
	assert_int_equal(s.objects, 2);
	api_set(a, &a->close_gen, 2);
	assert_true(wait_for(inf, &s, p_reconnects, &two, 3000));
	assert_true(wait_open_watches(a, 1, 3000));
	assert_string_equal(a->watch_rv[2], "900");
	kube_snapshot_free(&s);
	kube_informer_stop(inf);
	kube_client_free(c);
	api_stop(a);
}

static void
test_informer_expired_relist(void **state)
{
	struct api *a = api_start();
	struct kube_client *c;
	struct kube_informer *inf;
	struct kube_snapshot s = { 0 };
	int one = 1, two = 2;

	(void)state;
	api_put(a, "shop", "web-1", P_READY);
	api_put(a, "shop", "web-2", P_READY);
	api_put(a, "shop", "web-3", P_CRASH);
	c = client_for(a->server, NULL);
	inf = start_pods(c, 2, NULL);
	assert_int_equal(kube_informer_wait_synced(inf, 5000), 1);
	assert_true(wait_open_watches(a, 1, 3000));
	/* Two pods vanish and one appears without the watch seeing it, and
	 * the history is compacted: the open watch gets ERROR 410. */
	api_set(a, &a->close_gen, 1);		/* keep the watch from seeing the events */
	assert_true(wait_for(inf, &s, p_reconnects, &one, 3000));
	api_del(a, "shop", "web-2", 1);
	api_del(a, "shop", "web-3", 1);
	api_compact(a);
	assert_true(wait_for(inf, &s, p_relists, &one, 5000));
	assert_true(wait_for(inf, &s, p_objects, &one, 3000));
	assert_int_equal(s.lists, 2);
	assert_int_equal(s.pods.crashlooping, 0);
	assert_int_equal(s.pods.total, 1);
	/* And it watches again from the new list's version. */
	assert_true(wait_open_watches(a, 1, 3000));
	api_put(a, "shop", "web-9", P_READY);
	assert_true(wait_for(inf, &s, p_objects, &two, 3000));
	kube_snapshot_free(&s);
	kube_informer_stop(inf);
	kube_client_free(c);
	api_stop(a);
}

static void
test_informer_outage(void **state)
{
	struct api *a = api_start();
	struct kube_client *c;
	struct kube_informer *inf;
	struct kube_snapshot s = { 0 };
	int two = 2;
	long long t0;

	(void)state;
	api_put(a, "shop", "web-1", P_READY);
	c = client_for(a->server, NULL);
	inf = start_pods(c, 0, NULL);
	assert_int_equal(kube_informer_wait_synced(inf, 5000), 1);
	assert_true(wait_open_watches(a, 1, 3000));
	t0 = http_now_ms();
	api_set(a, &a->outage, 1);
	assert_true(wait_for(inf, &s, p_disconnected, NULL, 3000));
	assert_true(http_now_ms() - t0 < 3000);
	assert_int_equal(s.last_err, KUBE_E_TRANSPORT);
	assert_true(s.last_error[0] != '\0');
	assert_true(s.synced);			/* the store is kept, and flagged */
	assert_int_equal(s.objects, 1);
	/* Still down after a few retries; then back. */
	usleep(500000);
	kube_snapshot_free(&s);
	assert_int_equal(kube_informer_snapshot(inf, &s) == 0 && !s.connected, 1);
	kube_snapshot_free(&s);
	api_put(a, "shop", "web-2", P_READY);	/* happens during the outage */
	api_set(a, &a->outage, 0);
	assert_true(wait_for(inf, &s, p_connected, NULL, 3000));
	/* The watch resumes from the old version and catches up. */
	assert_true(wait_for(inf, &s, p_objects, &two, 3000));
	assert_int_equal(s.relists, 0);
	assert_string_equal(s.last_error, "");
	kube_snapshot_free(&s);
	kube_informer_stop(inf);
	kube_client_free(c);
	api_stop(a);
}

static int
count_all(void *ctx, const struct kube_informer_item *it)
{
	(void)ctx;
	(void)it;
	return 0;
}

static void
test_informer_coalesced_signal(void **state)
{
	struct api *a = api_start();
	struct kube_client *c;
	struct kube_informer *inf;
	struct kube_snapshot s = { 0 };
	struct counter k = { 0 };
	uint64_t v = 0;
	int fd, target = 500;
	char name[32];

	(void)state;
	api_put(a, "load", "seed", P_READY);
	c = client_for(a->server, NULL);
	inf = start_pods(c, 0, &k);
	fd = kube_informer_fd(inf);
	assert_int_equal(kube_informer_wait_synced(inf, 5000), 1);
	assert_true(wait_open_watches(a, 1, 3000));
	assert_int_equal(kube_informer_snapshot(inf, &s), 0);	/* re-arm */
	kube_snapshot_free(&s);
	atomic_store(&k.n, 0);
	/* 500 events while nobody looks: one signal. */
	for (int i = 0; i < 499; i++) {
		snprintf(name, sizeof name, "p-%03d", i);
		api_put(a, "load", name, i % 2 ? P_READY : P_PENDING);
	}
	/* Wait without taking a snapshot (which would re-arm the signal). */
	{
		long long until = http_now_ms() + 5000;
		int n = 0;

		while ((n = (int)kube_informer_foreach(inf, count_all, NULL)) < target
		    && http_now_ms() < until)
			usleep(10000);
		assert_int_equal(n, target);
	}
	assert_int_equal(atomic_load(&k.n), 1);
	assert_int_equal(read(fd, &v, sizeof v), (ssize_t)sizeof v);
	assert_int_equal(v, 1);
	assert_true(wait_for(inf, &s, p_objects, &target, 5000));
	/* wait_for drained the descriptor: nothing more to read. */
	assert_int_equal(read(fd, &v, sizeof v), -1);
	assert_int_equal(errno, EAGAIN);
	/* The next change signals again, once. */
	api_put(a, "load", "seed", P_CRASH);
	{
		struct pollfd pfd = { fd, POLLIN, 0 };

		assert_int_equal(poll(&pfd, 1, 3000), 1);
	}
	usleep(50000);
	assert_int_equal(read(fd, &v, sizeof v), (ssize_t)sizeof v);
	assert_int_equal(v, 1);
	assert_int_equal(atomic_load(&k.n), 2);
	kube_snapshot_free(&s);
	kube_informer_stop(inf);
	kube_client_free(c);
	api_stop(a);
}

static void
test_informer_idle_and_stop(void **state)
{
	struct api *a = api_start();
	struct kube_client *c;
	struct kube_informer *inf;
	double cpu0;
	long long t0;

	(void)state;
	api_put(a, "shop", "web-1", P_READY);
	c = client_for(a->server, NULL);
	inf = start_pods(c, 0, NULL);
	assert_int_equal(kube_informer_wait_synced(inf, 5000), 1);
	assert_true(wait_open_watches(a, 1, 3000));
	/* Watching a quiet collection costs (next to) nothing. */
	cpu0 = cpu_s();
	usleep(2000000);
	print_message("# idle watch: %.1f ms CPU in 2 s (server included)\n",
	    (cpu_s() - cpu0) * 1000.0);
	assert_true(cpu_s() - cpu0 < 0.04);
	/* Stopping cancels the open watch at once. */
	t0 = http_now_ms();
	kube_informer_stop(inf);
	assert_true(http_now_ms() - t0 < 1000);
	kube_client_free(c);
	api_stop(a);
}

static void
test_informer_bad_answers(void **state)
{
	struct api *a = api_start();
	struct kube_client *c;
	struct kube_informer *inf;
	struct kube_snapshot s = { 0 };
	struct kube_informer_opts o = { 0 };
	char err[256];
	int one = 1;

	(void)state;
	api_set(a, &a->garbage, 1);
	api_put(a, "shop", "web-1", P_READY);
	c = client_for(a->server, NULL);
	inf = start_pods(c, 0, NULL);
	assert_true(wait_for(inf, &s, p_error, "bad list", 3000));
	assert_false(s.synced);
	assert_true(s.connected);		/* it answered, badly */
	assert_int_equal(s.last_err, KUBE_E_DECODE);
	/* Fixed server: it recovers by itself. */
	api_set(a, &a->garbage, 0);
	assert_true(wait_for(inf, &s, p_objects, &one, 3000));
	kube_snapshot_free(&s);
	kube_informer_stop(inf);

	/* Bad options. */
	assert_null(kube_informer_start(c, KUBE_INFORMER_GENERIC, &o, err, sizeof err));
	assert_true(strstr(err, "collection path") != NULL);
	o.path = "/api/v1/pods?watch=1";
	assert_null(kube_informer_start(c, KUBE_INFORMER_PODS, &o, err, sizeof err));
	kube_client_free(c);
	api_stop(a);
}

static void
test_informer_generic(void **state)
{
	struct api *a = api_start();
	struct kube_client *c;
	struct kube_informer *inf;
	struct kube_informer_opts o = { 0 };
	struct kube_snapshot s = { 0 };
	char err[256] = "";
	int three = 3;

	(void)state;
	api_put(a, "shop", "x", P_READY);
	api_put(a, "shop", "y", P_CRASH);
	api_put(a, "pay", "z", P_PENDING);
	c = client_for(a->server, NULL);
	o.path = "/api/v1/pods";
	o.item_kind = "ConfigMap";
	inf = kube_informer_start(c, KUBE_INFORMER_GENERIC, &o, err, sizeof err);
	assert_non_null(inf);
	assert_true(wait_for(inf, &s, p_objects, &three, 5000));
	/* Identity and counts only: no pod health for other kinds. */
	assert_int_equal(s.pods.total, 0);
	assert_int_equal(s.nnamespaces, 2);
	assert_int_equal(ns_of(&s, "shop")->objects, 2);
	assert_int_equal(ns_of(&s, "pay")->objects, 1);
	kube_snapshot_free(&s);
	kube_informer_stop(inf);
	kube_client_free(c);
	api_stop(a);
}

static void
test_health_json(void **state)
{
	struct kube_snapshot n = { 0 }, p = { 0 }, d = { 0 };
	struct kube_ns_summary ns[1];
	struct kube_version_count v[1] = { { "v1.29.7", 6 } };
	struct kube_deploy_summary bad[1];
	cJSON *j = cJSON_CreateObject();
	char *txt;

	(void)state;
	n.objects = 6;
	n.nodes_ready = 5;
	n.nodes_unknown = 1;
	n.versions = v;
	n.nversions = 1;
	n.synced = n.connected = true;
	p.pods.total = 150;
	p.pods.ready = 148;
	p.pods.pending = 1;
	p.pods.crashlooping = 1;
	memset(ns, 0, sizeof ns);
	snprintf(ns[0].name, sizeof ns[0].name, "payments");
	ns[0].pods.total = 22;
	ns[0].pods.ready = 20;
	ns[0].pods.crashlooping = 1;
	p.namespaces = ns;
	p.nnamespaces = 1;
	memset(bad, 0, sizeof bad);
	snprintf(bad[0].ns, sizeof bad[0].ns, "payments");
	snprintf(bad[0].name, sizeof bad[0].name, "ledger");
	bad[0].desired = 3;
	bad[0].available = 2;
	d.not_available = bad;
	d.nnot_available = 1;
	d.deployments_not_available = 1;
	assert_int_equal(kube_health_json(j, &n, &p, &d), 0);
	txt = cJSON_PrintUnformatted(j);
	assert_non_null(strstr(txt, "\"nodes\":{\"ready\":5,\"total\":6,"));
	assert_non_null(strstr(txt, "\"versions\":{\"v1.29.7\":6}"));
	assert_non_null(strstr(txt, "\"pods\":{\"ready\":148,\"total\":150,\"pending\":1,"
	    "\"crashLooping\":1,"));
	assert_non_null(strstr(txt, "\"namespaces\":{\"payments\":{\"pods\":{\"ready\":20,"
	    "\"total\":22,\"pending\":0,\"crashLooping\":1,"));
	assert_non_null(strstr(txt, "\"deploymentsNotAvailable\":[{\"namespace\":\"payments\","
	    "\"name\":\"ledger\",\"desired\":3,\"available\":2,"));
	free(txt);
	cJSON_Delete(j);
	/* Unknown state is left out, never guessed. */
	j = cJSON_CreateObject();
	assert_int_equal(kube_health_json(j, NULL, &p, NULL), 0);
	assert_null(cJSON_GetObjectItem(j, "nodes"));
	assert_null(cJSON_GetObjectItem(j, "deploymentsNotAvailable"));
	cJSON_Delete(j);
}

/* ---- against the simulator ------------------------------------------------------------ */

#define CLUSTER "aks-prod-blue"

static struct kube_client *sc;
static struct http_client *ctl;
static char sim_dir[64], ca_path[128];

static int
sim_setup(void **state)
{
	struct sim_opts o = { 0 };
	char err[KUBECONFIG_ERR_SIZE] = "", path[128];
	struct kubeconfig *kc;
	struct kubeconfig_target t;
	struct http_tls tls = { 0 };
	struct http_client_config hc = { 0 };

	(void)state;
	snprintf(sim_dir, sizeof sim_dir, "/tmp/bgswitch-kinf-sim-XXXXXX");
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
	if (kc == NULL || kubeconfig_resolve(kc, CLUSTER, &t, err, sizeof err) != 0) {
		fprintf(stderr, "# kubeconfig: %s\n", err);
		kubeconfig_free(kc);
		return -1;
	}
	sc = kube_client_new(&t, NULL, err, sizeof err);
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);
	if (sc == NULL) {
		fprintf(stderr, "# client: %s\n", err);
		return -1;
	}
	snprintf(ca_path, sizeof ca_path, "%s/ca.pem", sim_dir);
	tls.ca_file = ca_path;
	hc.name = "sim-control";
	hc.tls = &tls;
	ctl = http_client_new(&hc, err, sizeof err);
	return ctl != NULL ? 0 : -1;
}

static int
sim_teardown(void **state)
{
	(void)state;
	kube_client_free(sc);
	http_client_free(ctl);
	sim_stop();
	return testlib_rmtree(sim_dir);
}

static void
sim_control(const char *action, const char *body)
{
	char url[256];
	struct http_request rq = { 0 };
	struct http_response rs;

	snprintf(url, sizeof url, "%s/_sim/clusters/" CLUSTER "/%s", sim_base_url(), action);
	rq.method = "POST";
	rq.url = url;
	rq.body = body;
	rq.body_len = strlen(body);
	assert_int_equal(http_do(ctl, &rq, &rs), 0);
	if (rs.status != 200)
		fail_msg("sim control %s: %ld %s", action, rs.status, rs.body);
	http_response_free(&rs);
}

static struct kube_informer *
sim_informer(enum kube_informer_kind kind)
{
	struct kube_informer_opts o = { 0 };
	char err[256] = "";
	struct kube_informer *inf;

	o.backoff_initial_ms = 200;
	o.backoff_max_ms = 1000;
	inf = kube_informer_start(sc, kind, &o, err, sizeof err);
	if (inf == NULL)
		fail_msg("informer: %s", err);
	return inf;
}

static int
p_nodes_ready(const struct kube_snapshot *s, const void *arg)
{
	return s->synced && s->objects == 6 && s->nodes_ready == (uint32_t)*(const int *)arg;
}

struct pick {
	char ns[KUBE_NS_MAX], name[KUBE_NAME_MAX];
	int32_t desired;
};

static int
pick_deploy(void *ctx, const struct kube_informer_item *it)
{
	struct pick *p = ctx;

	if (it->desired >= 1 && it->desired <= 5) {
		snprintf(p->ns, sizeof p->ns, "%s", it->ns);
		snprintf(p->name, sizeof p->name, "%s", it->name);
		p->desired = it->desired;
		return 1;
	}
	return 0;
}

static void
test_sim_informers(void **state)
{
	struct kube_informer *nodes = sim_informer(KUBE_INFORMER_NODES);
	struct kube_informer *pods = sim_informer(KUBE_INFORMER_PODS);
	struct kube_informer *deps = sim_informer(KUBE_INFORMER_DEPLOYMENTS);
	struct kube_snapshot s = { 0 }, sd = { 0 };
	struct kube_call call = { 0 };
	struct pick pk = { 0 };
	char path[512], patch[64];
	int six = 6, n150 = 150, n40 = 40, want, one = 1;
	uint64_t relists;
	long long t0;

	(void)state;
	/* The default world: 6 nodes Ready, 150 pods, 40 deployments. */
	assert_int_equal(kube_informer_wait_synced(nodes, 10000), 1);
	assert_int_equal(kube_informer_wait_synced(pods, 10000), 1);
	assert_int_equal(kube_informer_wait_synced(deps, 10000), 1);
	assert_true(wait_for(nodes, &s, p_nodes_ready, &six, 10000));
	assert_int_equal(s.nnodes, 6);
	assert_int_equal(s.nversions, 1);
	assert_true(s.connected);
	assert_true(wait_for(pods, &s, p_objects, &n150, 10000));
	assert_true(s.nnamespaces >= 5);
	assert_true(wait_for(deps, &sd, p_objects, &n40, 10000));

	/* Scale a deployment out by two through a merge patch: two more
	 * pods come through the pods watch. */
	assert_int_equal(kube_informer_foreach(deps, pick_deploy, &pk) > 0, 1);
	assert_true(pk.name[0] != '\0');
	snprintf(path, sizeof path, "/apis/apps/v1/namespaces/%s/deployments/%s", pk.ns, pk.name);
	snprintf(patch, sizeof patch, "{\"spec\":{\"replicas\":%d}}", pk.desired + 2);
	assert_int_equal(kube_merge_patch(sc, path, patch, NULL, &call), 0);
	want = 152;
	assert_true(wait_for(pods, &s, p_objects, &want, 10000));
	assert_int_equal(s.relists, 0);
	assert_true(s.events >= 2);

	/* An API server outage: disconnected within seconds, then back. */
	t0 = http_now_ms();
	sim_control("outage", "{\"seconds\": 150}");	/* 3 s at speed 50 */
	assert_true(wait_for(pods, &s, p_disconnected, NULL, 5000));
	print_message("# outage seen after %lld ms: %s\n", http_now_ms() - t0, s.last_error);
	assert_int_equal(s.last_err, KUBE_E_TRANSPORT);
	assert_true(wait_for(pods, &s, p_connected, NULL, 10000));
	print_message("# reconnected %lld ms after the outage began\n", http_now_ms() - t0);
	assert_true(wait_for(pods, &s, p_objects, &want, 5000));
	assert_true(wait_for(nodes, &s, p_connected, NULL, 10000));

	/* Expired watches: a relist, and the counts stay right. */
	kube_snapshot_free(&s);
	assert_int_equal(kube_informer_snapshot(pods, &s), 0);
	relists = s.relists;
	kube_snapshot_free(&s);
	sim_control("expire-watches", "{}");
	one = (int)relists + 1;
	assert_true(wait_for(pods, &s, p_relists, &one, 10000));
	assert_true(wait_for(pods, &s, p_objects, &want, 5000));
	assert_true(s.synced);
	assert_true(wait_for(deps, &sd, p_objects, &n40, 5000));
	assert_true(wait_for(nodes, &s, p_nodes_ready, &six, 5000));

	/* Scale back. */
	snprintf(patch, sizeof patch, "{\"spec\":{\"replicas\":%d}}", pk.desired);
	assert_int_equal(kube_merge_patch(sc, path, patch, NULL, &call), 0);
	assert_true(wait_for(pods, &s, p_objects, &n150, 10000));
	kube_snapshot_free(&s);
	kube_snapshot_free(&sd);
	kube_informer_stop(nodes);
	kube_informer_stop(pods);
	kube_informer_stop(deps);
}

int
main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_store_pods),
		cmocka_unit_test(test_store_150k_pods),
		cmocka_unit_test(test_store_nodes_deployments),
		cmocka_unit_test(test_informer_sync_and_events),
		cmocka_unit_test(test_informer_reconnect_and_bookmark),
		cmocka_unit_test(test_informer_expired_relist),
		cmocka_unit_test(test_informer_outage),
		cmocka_unit_test(test_informer_coalesced_signal),
		cmocka_unit_test(test_informer_idle_and_stop),
		cmocka_unit_test(test_informer_bad_answers),
		cmocka_unit_test(test_informer_generic),
		cmocka_unit_test(test_health_json),
	};
	const struct CMUnitTest sim[] = {
		cmocka_unit_test(test_sim_informers),
	};
	int failed;

	log_set_stream(stderr, LOG_OFF);
	failed = cmocka_run_group_tests_name("kube_informer", unit, NULL, NULL);
	failed += cmocka_run_group_tests_name("kube_informer_sim", sim, sim_setup, sim_teardown);
	return failed;
}
