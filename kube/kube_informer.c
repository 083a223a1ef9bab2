/*
 * kube_informer.c — list-then-watch threads that keep a kube_store current
 * (see kube_informer.h).
 *
 * The loop is client-go's reflector (tools/cache/reflector.go), reduced to
 * what bgswitch needs:
 *   - list in pages from the most recent version (a consistent read), put
 *     every item in the store marked with a new list generation, then drop
 *     whatever that list did not contain: objects deleted while nobody was
 *     watching ("API Concepts", efficient detection of changes);
 *   - watch from the list's resourceVersion with bookmarks and a random
 *     timeoutSeconds between 5 and 10 minutes (so informers do not all
 *     reconnect at once); when the server ends the stream, watch again
 *     from the last version seen, events and bookmarks alike;
 *   - on 410 Gone (HTTP 410 or an ERROR event with a 410 Status) list
 *     again; on any other failure wait with exponential back-off (800 ms
 *     doubling to 30 s, with jitter, as the reflector's backoff manager)
 *     and try again.
 * After the server was unreachable, one cheap request (limit=1 on the same
 * collection) proves it is back before the watch resumes, so "connected"
 * turns true as soon as it is, not at the first event of a quiet cluster.
 *
 * The thread blocks in the watch's read or in a condition-variable wait,
 * so an idle informer uses no CPU; stopping fires the informer's cancel
 * token (which wakes the HTTP request at once) and the condition variable.
 */
#include "kube/kube_informer.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "kube/kube_store.h"
#include "src/http.h"
#include "src/log.h"

#define MOD			"kube"
#define DEFAULT_BACKOFF_MS	800L
#define DEFAULT_BACKOFF_MAX_MS	30000L
#define DEFAULT_PROBLEMS	256
#define MIN_WATCH_S		300L	/* client-go's minWatchTimeout */
#define SHORT_WATCH_MS		1000LL	/* a watch that ends sooner is suspicious */

struct kube_informer {
	struct kube_client *c;
	enum kube_informer_kind kind;
	char *name, *path, *item_kind, *lsel, *fsel;
	long page, watch_timeout_s, backoff_ms, backoff_max_ms;
	size_t max_problems;
	int fd, own_fd;
	void (*on_change)(void *ctx);
	void *ctx;
	struct http_cancel *cancel;
	pthread_t thread;
	int started;
	uint64_t rnd;

	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t cond;		/* stop, synced */
	int stopping;
	struct kube_store *store;
	uint32_t gen;
	int store_failed;		/* out of memory while storing */
	bool synced, connected, signalled;
	int64_t since_ms, last_event_ms, last_sync_ms;
	enum kube_err last_err;
	char last_error[KUBE_ERROR_MAX];
	char rv[KUBE_RV_MAX];
	uint64_t lists, relists, reconnects, events, changes, watches;
};

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
rnd_next(struct kube_informer *inf)
{
	/* xorshift64: jitter only, no need for more. */
	inf->rnd ^= inf->rnd << 13;
	inf->rnd ^= inf->rnd >> 7;
	inf->rnd ^= inf->rnd << 17;
	return inf->rnd;
}

static const char *
default_path(enum kube_informer_kind k)
{
	switch (k) {
	case KUBE_INFORMER_NODES:	return "/api/v1/nodes";
	case KUBE_INFORMER_PODS:	return "/api/v1/pods";
	case KUBE_INFORMER_DEPLOYMENTS:	return "/apis/apps/v1/deployments";
	case KUBE_INFORMER_GENERIC:	break;
	}
	return NULL;
}

static const char *
default_kind(enum kube_informer_kind k)
{
	switch (k) {
	case KUBE_INFORMER_NODES:	return "Node";
	case KUBE_INFORMER_PODS:	return "Pod";
	case KUBE_INFORMER_DEPLOYMENTS:	return "Deployment";
	case KUBE_INFORMER_GENERIC:	break;
	}
	return NULL;
}

/* ---- change signal ------------------------------------------------------------ */

/* Under the lock: notes a change; returns 1 when the caller must raise
 * the signal (after unlocking), which happens once per snapshot taken. */
static int
changed_locked(struct kube_informer *inf)
{
	inf->changes++;
	if (inf->signalled)
		return 0;
	inf->signalled = true;
	return 1;
}

static void
raise_signal(struct kube_informer *inf)
{
	uint64_t one = 1;

	/* A full pipe or a counter at its maximum already means "readable":
	 * nothing is lost by a failed write. */
	if (inf->fd >= 0 && write(inf->fd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_debug(MOD, "%s: change signal: %s", inf->name, strerror(errno));
	if (inf->on_change != NULL)
		inf->on_change(inf->ctx);
}

/* Under the lock: records the connection state. */
static int
set_connected_locked(struct kube_informer *inf, bool up)
{
	if (inf->connected == up)
		return 0;
	inf->connected = up;
	inf->since_ms = wall_ms();
	return changed_locked(inf);
}

/* ---- list and watch callbacks ------------------------------------------------- */

static int
on_item(void *ctx, enum kube_event ev, const struct kube_object *o)
{
	struct kube_informer *inf = ctx;
	int sig, rc;

	(void)ev;
	pthread_mutex_lock(&inf->lock);
	rc = kube_store_upsert(inf->store, o, inf->gen);
	if (rc < 0)
		inf->store_failed = 1;
	inf->last_event_ms = wall_ms();
	sig = rc > 0 ? changed_locked(inf) : 0;
	pthread_mutex_unlock(&inf->lock);
	if (sig)
		raise_signal(inf);
	return rc < 0;
}

static int
on_event(void *ctx, enum kube_event ev, const struct kube_object *o)
{
	struct kube_informer *inf = ctx;
	int sig = 0, rc = 0;

	pthread_mutex_lock(&inf->lock);
	/* Any event proves the stream is alive, bookmarks included. */
	sig |= set_connected_locked(inf, true);
	if (o->meta.resource_version[0] != '\0')
		memcpy(inf->rv, o->meta.resource_version, sizeof inf->rv);
	switch (ev) {
	case KUBE_EVENT_ADDED:
	case KUBE_EVENT_MODIFIED:
		rc = kube_store_upsert(inf->store, o, inf->gen);
		if (rc < 0)
			inf->store_failed = 1;
		break;
	case KUBE_EVENT_DELETED:
		rc = kube_store_delete(inf->store, o->meta.ns, o->meta.name);
		break;
	default:
		break;
	}
	if (ev != KUBE_EVENT_BOOKMARK) {
		inf->events++;
		inf->last_event_ms = wall_ms();
		if (rc > 0)
			sig |= changed_locked(inf);
	}
	pthread_mutex_unlock(&inf->lock);
	if (sig)
		raise_signal(inf);
	return rc < 0;
}

/* ---- the loop ------------------------------------------------------------------ */

static int
stopping(struct kube_informer *inf)
{
	int s;

	pthread_mutex_lock(&inf->lock);
	s = inf->stopping;
	pthread_mutex_unlock(&inf->lock);
	return s;
}

/* Waits MS or until stopped.  Returns -1 when stopped. */
static int
nap(struct kube_informer *inf, long long ms)
{
	struct timespec ts;
	int s;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&inf->lock);
	while (!inf->stopping && pthread_cond_timedwait(&inf->cond, &inf->lock, &ts) != ETIMEDOUT)
		;
	s = inf->stopping;
	pthread_mutex_unlock(&inf->lock);
	return s ? -1 : 0;
}

/* Records a failed call; returns 1 when the loop should end (the client
 * was shut down, or we are stopping). */
static int
failed(struct kube_informer *inf, const struct kube_call *call, const char *what)
{
	int sig = 0, quiet, end = 0;

	pthread_mutex_lock(&inf->lock);
	if (inf->stopping || (call->err == KUBE_E_CANCELLED && !inf->store_failed)) {
		/* Our stop, or kube_client_cancel(): both mean shut down. */
		end = 1;
		if (!inf->stopping)
			snprintf(inf->last_error, sizeof inf->last_error, "%s", call->error);
		inf->last_err = call->err;
		pthread_mutex_unlock(&inf->lock);
		return end;
	}
	quiet = inf->last_err == call->err && strcmp(inf->last_error, call->error) == 0;
	inf->last_err = inf->store_failed ? KUBE_E_OTHER : call->err;
	if (inf->store_failed)
		snprintf(inf->last_error, sizeof inf->last_error, "%s: out of memory storing "
		    "objects", what);
	else
		snprintf(inf->last_error, sizeof inf->last_error, "%s", call->error);
	inf->store_failed = 0;
	/* Any HTTP answer, even an error, means the server is reachable. */
	sig |= set_connected_locked(inf, call->err != KUBE_E_TRANSPORT && call->status > 0);
	sig |= changed_locked(inf);
	pthread_mutex_unlock(&inf->lock);
	if (sig)
		raise_signal(inf);
	if (!quiet)
		log_warn(MOD, "%s: %s failed: %s", inf->name, what, call->error);
	return 0;
}

static void
succeeded_locked(struct kube_informer *inf)
{
	inf->last_err = KUBE_OK;
	inf->last_error[0] = '\0';
}

static int
do_list(struct kube_informer *inf, struct kube_call *call)
{
	struct kube_list_opts lo = { 0 };
	struct kube_list_meta m;
	long long t0 = http_now_ms();
	size_t gone;
	int sig;

	lo.label_selector = inf->lsel;
	lo.field_selector = inf->fsel;
	lo.limit = inf->page;
	lo.item_kind = inf->item_kind;
	pthread_mutex_lock(&inf->lock);
	inf->gen++;
	pthread_mutex_unlock(&inf->lock);
	if (kube_list(inf->c, inf->path, &lo, on_item, inf, &m, call) != 0)
		return -1;
	pthread_mutex_lock(&inf->lock);
	gone = kube_store_sweep(inf->store, inf->gen);
	memcpy(inf->rv, m.resource_version, sizeof inf->rv);
	if (inf->lists > 0)
		inf->relists++;
	inf->lists++;
	inf->synced = true;
	inf->last_sync_ms = wall_ms();
	succeeded_locked(inf);
	set_connected_locked(inf, true);
	sig = changed_locked(inf);
	pthread_cond_broadcast(&inf->cond);
	pthread_mutex_unlock(&inf->lock);
	if (sig)
		raise_signal(inf);
	log_info(MOD, "%s: listed %llu objects in %u pages (%.2f s), %zu gone, version %s",
	    inf->name, (unsigned long long)m.items, m.pages,
	    (double)(http_now_ms() - t0) / 1000.0, gone, m.resource_version);
	return 0;
}

/* One request that proves the server answers again after an outage. */
static int
probe(struct kube_informer *inf, struct kube_call *call)
{
	char path[1024];
	int sig;

	snprintf(path, sizeof path, "%s", inf->path);
	if (kube_path_add_query(path, sizeof path, "limit", "1") != 0
	    || kube_get(inf->c, path, NULL, call) != 0)
		return -1;
	pthread_mutex_lock(&inf->lock);
	sig = set_connected_locked(inf, true);
	succeeded_locked(inf);
	pthread_mutex_unlock(&inf->lock);
	if (sig)
		raise_signal(inf);
	log_info(MOD, "%s: API server reachable again", inf->name);
	return 0;
}

static int
do_watch(struct kube_informer *inf, struct kube_call *call, struct kube_watch_meta *m)
{
	struct kube_watch_opts wo = { 0 };
	char rv[KUBE_RV_MAX];

	pthread_mutex_lock(&inf->lock);
	memcpy(rv, inf->rv, sizeof rv);
	if (inf->watches++ > 0)
		inf->reconnects++;
	pthread_mutex_unlock(&inf->lock);
	wo.resource_version = rv;
	wo.label_selector = inf->lsel;
	wo.field_selector = inf->fsel;
	wo.item_kind = inf->item_kind;
	/* client-go: timeoutSeconds = minWatchTimeout * (1 + rand), so the
	 * watches of many clients do not all end together. */
	wo.timeout_s = inf->watch_timeout_s > 0 ? inf->watch_timeout_s
	    : MIN_WATCH_S + (long)(rnd_next(inf) % MIN_WATCH_S);
	return kube_watch(inf->c, inf->path, &wo, on_event, inf, m, call);
}

static void *
run(void *arg)
{
	struct kube_informer *inf = arg;
	long long backoff = inf->backoff_ms;
	int need_list = 1;
	sigset_t all;

	/* Signals are the main thread's business (STYLE.md: handlers set a
	 * flag); an informer must never be the thread that takes them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!stopping(inf)) {
		struct kube_call call = { 0 };
		struct kube_watch_meta wm;
		const char *what;
		long long t0;
		int disconnected;

		call.cancel = inf->cancel;
		if (need_list) {
			what = "list";
			if (do_list(inf, &call) == 0) {
				need_list = 0;
				backoff = inf->backoff_ms;
				continue;
			}
		} else {
			pthread_mutex_lock(&inf->lock);
			disconnected = !inf->connected;
			pthread_mutex_unlock(&inf->lock);
			what = "reconnect";
			if (!disconnected || probe(inf, &call) == 0) {
				what = "watch";
				t0 = http_now_ms();
				if (do_watch(inf, &call, &wm) == 0) {
					pthread_mutex_lock(&inf->lock);
					succeeded_locked(inf);
					pthread_mutex_unlock(&inf->lock);
					/* The server's timeout: watch again at once.
					 * A stream that ends at once with nothing in
					 * it would make this loop spin: back off. */
					if (wm.events > 0 || http_now_ms() - t0 >= SHORT_WATCH_MS) {
						backoff = inf->backoff_ms;
						continue;
					}
					if (nap(inf, backoff) != 0)
						break;
					backoff = backoff * 2 < inf->backoff_max_ms ? backoff * 2
					    : inf->backoff_max_ms;
					continue;
				}
				if (call.err == KUBE_E_EXPIRED && !inf->store_failed) {
					/* The version we watched from is gone from
					 * the server's history: list again now. */
					log_info(MOD, "%s: watch from version %s expired (%s); "
					    "listing again", inf->name, wm.resource_version,
					    call.error);
					need_list = 1;
					continue;
				}
				if (inf->store_failed)
					need_list = 1;	/* the store missed an event */
			}
		}
		if (failed(inf, &call, what))
			break;
		{
			long long d = backoff + (long long)(rnd_next(inf) % (uint64_t)(backoff / 2 + 1));

			if (d > inf->backoff_max_ms)
				d = inf->backoff_max_ms;
			if (nap(inf, d) != 0)
				break;
		}
		backoff = backoff * 2 < inf->backoff_max_ms ? backoff * 2 : inf->backoff_max_ms;
	}
	return NULL;
}

/* ---- public ------------------------------------------------------------------ */

static void
informer_free(struct kube_informer *inf)
{
	if (inf == NULL)
		return;
	if (inf->own_fd && inf->fd >= 0)
		close(inf->fd);
	kube_store_free(inf->store);
	http_cancel_free(inf->cancel);
	free(inf->name);
	free(inf->path);
	free(inf->item_kind);
	free(inf->lsel);
	free(inf->fsel);
	pthread_cond_destroy(&inf->cond);
	pthread_mutex_destroy(&inf->lock);
	free(inf);
}

static int
dup_opt(char **dst, const char *src)
{
	if (src == NULL || src[0] == '\0') {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(src);
	return *dst != NULL ? 0 : -1;
}

struct kube_informer *
kube_informer_start(struct kube_client *c, enum kube_informer_kind kind,
    const struct kube_informer_opts *o, char *err, size_t errlen)
{
	struct kube_informer_opts none = { 0 };
	struct kube_informer *inf;
	pthread_condattr_t ca;
	const char *path, *ikind;

	if (o == NULL)
		o = &none;
	path = o->path != NULL && o->path[0] != '\0' ? o->path : default_path(kind);
	ikind = o->item_kind != NULL && o->item_kind[0] != '\0' ? o->item_kind : default_kind(kind);
	if (c == NULL || path == NULL || path[0] != '/' || strchr(path, '?') != NULL
	    || (unsigned)kind > KUBE_INFORMER_GENERIC) {
		snprintf(err, errlen, "informer: needs a client and a collection path "
		    "(\"/api/v1/...\", no query)");
		return NULL;
	}
	inf = calloc(1, sizeof *inf);
	if (inf == NULL)
		goto oom;
	inf->fd = -1;
	pthread_mutex_init(&inf->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&inf->cond, &ca);
	pthread_condattr_destroy(&ca);
	inf->c = c;
	inf->kind = kind;
	inf->page = o->page_size > 0 ? o->page_size : KUBE_DEFAULT_PAGE;
	inf->watch_timeout_s = o->watch_timeout_s;
	inf->backoff_ms = o->backoff_initial_ms > 0 ? o->backoff_initial_ms : DEFAULT_BACKOFF_MS;
	inf->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : DEFAULT_BACKOFF_MAX_MS;
	if (inf->backoff_max_ms < inf->backoff_ms)
		inf->backoff_max_ms = inf->backoff_ms;
	inf->max_problems = o->max_problems > 0 ? (size_t)o->max_problems : DEFAULT_PROBLEMS;
	inf->on_change = o->on_change;
	inf->ctx = o->ctx;
	inf->rnd = (uint64_t)wall_ms() ^ (uint64_t)(uintptr_t)inf ^ 0x9E3779B97F4A7C15ull;
	inf->since_ms = wall_ms();
	if (dup_opt(&inf->path, path) != 0 || dup_opt(&inf->item_kind, ikind) != 0
	    || dup_opt(&inf->lsel, o->label_selector) != 0
	    || dup_opt(&inf->fsel, o->field_selector) != 0)
		goto oom;
	{
		char nm[256];

		snprintf(nm, sizeof nm, "%s", o->name != NULL ? o->name : path);
		if ((inf->name = strdup(nm)) == NULL)
			goto oom;
	}
	if ((inf->store = kube_store_new(kind)) == NULL || (inf->cancel = http_cancel_new()) == NULL)
		goto oom;
	if (o->notify_fd > 0) {
		inf->fd = o->notify_fd;
	} else {
		inf->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (inf->fd < 0) {
			snprintf(err, errlen, "informer %s: eventfd: %s", inf->name, strerror(errno));
			informer_free(inf);
			return NULL;
		}
		inf->own_fd = 1;
	}
	if (pthread_create(&inf->thread, NULL, run, inf) != 0) {
		snprintf(err, errlen, "informer %s: cannot start its thread", inf->name);
		informer_free(inf);
		return NULL;
	}
	inf->started = 1;
	return inf;
oom:
	snprintf(err, errlen, "informer: out of memory");
	informer_free(inf);
	return NULL;
}

void
kube_informer_stop(struct kube_informer *inf)
{
	if (inf == NULL)
		return;
	pthread_mutex_lock(&inf->lock);
	inf->stopping = 1;
	pthread_cond_broadcast(&inf->cond);
	pthread_mutex_unlock(&inf->lock);
	http_cancel_fire(inf->cancel);
	if (inf->started)
		pthread_join(inf->thread, NULL);
	informer_free(inf);
}

int
kube_informer_fd(const struct kube_informer *inf)
{
	return inf->fd;
}

int
kube_informer_wait_synced(struct kube_informer *inf, long timeout_ms)
{
	struct timespec ts;
	int synced;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (timeout_ms >= 0) {
		ts.tv_sec += timeout_ms / 1000;
		ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&inf->lock);
	while (!inf->synced && !inf->stopping) {
		if (timeout_ms < 0)
			pthread_cond_wait(&inf->cond, &inf->lock);
		else if (pthread_cond_timedwait(&inf->cond, &inf->lock, &ts) == ETIMEDOUT)
			break;
	}
	synced = inf->synced;
	pthread_mutex_unlock(&inf->lock);
	return synced;
}

static int
node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kube_node_summary *)a)->name,
	    ((const struct kube_node_summary *)b)->name);
}

static int
version_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kube_version_count *)a)->version,
	    ((const struct kube_version_count *)b)->version);
}

void
kube_snapshot_free(struct kube_snapshot *s)
{
	if (s == NULL)
		return;
	free(s->namespaces);
	free(s->nodes);
	free(s->versions);
	free(s->not_available);
	free(s->strings_);
	memset(s, 0, sizeof *s);
}

int
kube_informer_snapshot(struct kube_informer *inf, struct kube_snapshot *out)
{
	uint64_t drain;
	int rc;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&inf->lock);
	out->kind = inf->kind;
	out->synced = inf->synced;
	out->connected = inf->connected;
	out->state_since_ms = inf->since_ms;
	out->last_event_ms = inf->last_event_ms;
	out->last_sync_ms = inf->last_sync_ms;
	out->last_err = inf->last_err;
	memcpy(out->last_error, inf->last_error, sizeof out->last_error);
	memcpy(out->resource_version, inf->rv, sizeof out->resource_version);
	out->lists = inf->lists;
	out->relists = inf->relists;
	out->reconnects = inf->reconnects;
	out->events = inf->events;
	out->changes = inf->changes;
	rc = kube_store_snapshot(inf->store, out, inf->max_problems);
	inf->signalled = false;
	pthread_mutex_unlock(&inf->lock);
	/* Re-armed above; drained after, so a change in between leaves the
	 * descriptor readable rather than losing the wake-up... */
	if (inf->own_fd && read(inf->fd, &drain, sizeof drain) < 0 && errno != EAGAIN)
		log_debug(MOD, "%s: drain: %s", inf->name, strerror(errno));
	/* ...which the drain may just have eaten: look once more. */
	pthread_mutex_lock(&inf->lock);
	if (inf->own_fd && inf->signalled) {
		uint64_t one = 1;

		if (write(inf->fd, &one, sizeof one) < 0 && errno != EAGAIN)
			log_debug(MOD, "%s: re-signal: %s", inf->name, strerror(errno));
	}
	pthread_mutex_unlock(&inf->lock);
	if (rc != 0) {
		kube_snapshot_free(out);
		return -1;
	}
	if (out->nnodes > 1)
		qsort(out->nodes, out->nnodes, sizeof *out->nodes, node_cmp);
	if (out->nversions > 1)
		qsort(out->versions, out->nversions, sizeof *out->versions, version_cmp);
	return 0;
}

size_t
kube_informer_foreach(struct kube_informer *inf,
    int (*fn)(void *ctx, const struct kube_informer_item *it), void *ctx)
{
	size_t n;

	pthread_mutex_lock(&inf->lock);
	n = kube_store_foreach(inf->store, fn, ctx);
	pthread_mutex_unlock(&inf->lock);
	return n;
}

/* ---- status --json --------------------------------------------------------------- */

static cJSON *
pods_json(const struct kube_pod_counts *p)
{
	cJSON *j = cJSON_CreateObject();

	if (j == NULL)
		return NULL;
	cJSON_AddNumberToObject(j, "ready", p->ready);
	cJSON_AddNumberToObject(j, "total", p->total);
	cJSON_AddNumberToObject(j, "pending", p->pending);
	cJSON_AddNumberToObject(j, "crashLooping", p->crashlooping);
	cJSON_AddNumberToObject(j, "failed", p->by_health[KUBE_POD_FAILED]);
	cJSON_AddNumberToObject(j, "terminating", p->by_health[KUBE_POD_TERMINATING]);
	cJSON_AddNumberToObject(j, "restarts", (double)p->restarts);
	return j;
}

static cJSON *
state_json(const struct kube_snapshot *s)
{
	cJSON *j = cJSON_CreateObject();

	if (j == NULL)
		return NULL;
	cJSON_AddBoolToObject(j, "synced", s->synced);
	cJSON_AddBoolToObject(j, "connected", s->connected);
	cJSON_AddNumberToObject(j, "relists", (double)s->relists);
	cJSON_AddNumberToObject(j, "reconnects", (double)s->reconnects);
	if (s->last_error[0] != '\0')
		cJSON_AddStringToObject(j, "error", s->last_error);
	return j;
}

int
kube_health_json(cJSON *dst, const struct kube_snapshot *nodes,
    const struct kube_snapshot *pods, const struct kube_snapshot *deploys)
{
	cJSON *j, *a, *w;

	if (!cJSON_IsObject(dst))
		return -1;
	w = cJSON_AddObjectToObject(dst, "watch");
	if (w == NULL)
		return -1;
	if (nodes != NULL) {
		if ((j = cJSON_AddObjectToObject(dst, "nodes")) == NULL)
			return -1;
		cJSON_AddNumberToObject(j, "ready", nodes->nodes_ready);
		cJSON_AddNumberToObject(j, "total", (double)nodes->objects);
		cJSON_AddNumberToObject(j, "notReady", nodes->nodes_not_ready);
		cJSON_AddNumberToObject(j, "unknown", nodes->nodes_unknown);
		cJSON_AddNumberToObject(j, "cordoned", nodes->nodes_cordoned);
		if ((a = cJSON_AddObjectToObject(j, "versions")) == NULL)
			return -1;
		for (size_t i = 0; i < nodes->nversions; i++)
			cJSON_AddNumberToObject(a, nodes->versions[i].version[0] != '\0'
			    ? nodes->versions[i].version : "unknown", nodes->versions[i].nodes);
		cJSON_AddItemToObject(w, "nodes", state_json(nodes));
	}
	if (pods != NULL) {
		if ((j = pods_json(&pods->pods)) == NULL)
			return -1;
		cJSON_AddItemToObject(dst, "pods", j);
		if ((a = cJSON_AddObjectToObject(dst, "namespaces")) == NULL)
			return -1;
		for (size_t i = 0; i < pods->nnamespaces; i++) {
			cJSON *ns = cJSON_AddObjectToObject(a, pods->namespaces[i].name);

			if (ns == NULL)
				return -1;
			cJSON_AddItemToObject(ns, "pods", pods_json(&pods->namespaces[i].pods));
		}
		cJSON_AddItemToObject(w, "pods", state_json(pods));
	}
	if (deploys != NULL) {
		if ((a = cJSON_AddArrayToObject(dst, "deploymentsNotAvailable")) == NULL)
			return -1;
		for (size_t i = 0; i < deploys->nnot_available; i++) {
			const struct kube_deploy_summary *d = &deploys->not_available[i];
			cJSON *o = cJSON_CreateObject();

			if (o == NULL)
				return -1;
			cJSON_AddStringToObject(o, "namespace", d->ns);
			cJSON_AddStringToObject(o, "name", d->name);
			cJSON_AddNumberToObject(o, "desired", d->desired);
			cJSON_AddNumberToObject(o, "available", d->available);
			cJSON_AddNumberToObject(o, "ready", d->ready);
			if (d->reason[0] != '\0')
				cJSON_AddStringToObject(o, "reason", d->reason);
			cJSON_AddItemToArray(a, o);
		}
		cJSON_AddNumberToObject(dst, "deploymentsNotAvailableCount",
		    deploys->deployments_not_available);
		cJSON_AddItemToObject(w, "deployments", state_json(deploys));
	}
	return 0;
}
