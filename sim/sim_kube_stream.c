/*
 * sim_kube_stream.c — list and watch answers, written as streams.
 *
 * A list takes, under the world lock, a reference to every object it will
 * return (a consistent snapshot: objects are immutable), and is then written
 * from the connection's thread without the lock, a buffer at a time: the
 * plain-JSON items are copied from their stored text, Table rows and
 * metadata are made one object at a time, so even a 150,000-pod list never
 * builds one big tree.  Pages follow the API's limit/continue contract with
 * the same opaque token shape as kube-apiserver (base64 of
 * {"v":"meta.k8s.io/v1","rv":N,"start":"KEY\u0000"}).
 *
 * A watch reads the cluster's event ring from a resource version on: it
 * waits on sim_world.changed (at most a second at a time, so a closed
 * connection or a stopping simulator is noticed), takes references to the
 * events that match under the lock, and encodes them after releasing it.
 * A resource version older than the ring's window, or expire-watches, gives
 * the ERROR event with a 410 Expired Status that kube-apiserver's watch
 * cache sends; an outage, a stopped or deleted cluster, or timeoutSeconds
 * end the stream.
 */
#include "sim/sim_kube.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- an output buffer ------------------------------------------------------- */

struct obuf {
	char *p;
	size_t len, off, cap;
};

static int
ob_add(struct obuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t ncap = (b->len + n + 1) * 2;
		char *np;

		if (ncap < 65536)
			ncap = 65536;
		np = realloc(b->p, ncap);
		if (np == NULL)
			return -1;
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int
ob_str(struct obuf *b, const char *s)
{
	return ob_add(b, s, strlen(s));
}

static int
ob_json(struct obuf *b, const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	int rc;

	if (s == NULL)
		return -1;
	rc = ob_str(b, s);
	free(s);
	return rc;
}

/* Copies what is pending into BUF; returns bytes copied. */
static size_t
ob_drain(struct obuf *b, char *buf, size_t max)
{
	size_t n = b->len - b->off;

	if (n > max)
		n = max;
	memcpy(buf, b->p + b->off, n);
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
	return n;
}

static int
ob_pending(const struct obuf *b)
{
	return b->len > b->off;
}

/* An object as a list item: built-in types leave out kind and apiVersion
 * in lists, as the real API server's typed encoding does. */
static int
ob_item(struct obuf *b, const struct kobj *o, int strip_type)
{
	const char *p = o->json;
	size_t n = o->len;

	if (strip_type && strncmp(p, "{\"kind\":\"", 9) == 0) {
		const char *av = strstr(p, "\",\"apiVersion\":\"");
		if (av != NULL && av - p < 300) {
			const char *end = strstr(av + 16, "\",");
			if (end != NULL && end - p < 500) {
				if (ob_add(b, "{", 1) != 0)
					return -1;
				return ob_add(b, end + 2, n - (size_t)(end + 2 - p));
			}
		}
	}
	return ob_add(b, p, n);
}

/* ---- shared by lists and watches -------------------------------------------- */

static int
matches(const struct klist_opts *o, const struct kobj *obj)
{
	if (o->ns != NULL && strcmp(obj->ns, o->ns) != 0)
		return 0;
	return sim_kube_sel_match(&o->lsel, obj) && sim_kube_fsel_match(&o->fsel, obj);
}

static const char *
table_version(const struct sim_req *req)
{
	const char *acc = sim_req_header(req, "Accept");

	/* kubectl offers v1 first and v1beta1 second; serve the first the
	 * client names. */
	if (acc != NULL) {
		const char *v1 = strstr(acc, "v=v1;"), *v1b = strstr(acc, "v=v1beta1");

		if (v1b != NULL && (v1 == NULL || v1b < v1))
			return "v1beta1";
	}
	return "v1";
}

static void
unref_cluster(struct kcluster *c)
{
	pthread_mutex_lock(&sim_world.lock);
	sim_kube_cluster_unref(c);
	pthread_mutex_unlock(&sim_world.lock);
}

/* ---- lists -------------------------------------------------------------------- */

struct list_ctx {
	struct kcluster *c;
	struct kres *r;
	struct kobj **items;
	size_t n, i;
	enum kfmt fmt;
	int include;
	int stage;			/* 0 items, 1 tail written */
	struct obuf out;
};

static void
list_free(void *p)
{
	struct list_ctx *x = p;

	for (size_t i = x->i; i < x->n; i++)
		sim_kube_obj_unref(x->items[i]);
	free(x->items);
	free(x->out.p);
	unref_cluster(x->c);
	free(x);
}

/* Appends items to the pending output until about 256 KiB are waiting. */
static int
list_fill(struct list_ctx *x)
{
	while (x->i < x->n && x->out.len - x->out.off < 256 * 1024) {
		struct kobj *o = x->items[x->i];
		int rc = 0;

		if (x->i > 0)
			rc = ob_add(&x->out, ",", 1);
		if (rc == 0 && x->fmt == KF_JSON) {
			rc = ob_item(&x->out, o, x->r->builtin);
		} else if (rc == 0) {
			cJSON *t = sim_kube_obj_parse(o), *e;

			e = t == NULL ? NULL : x->fmt == KF_TABLE ? sim_kube_table_row(x->r, t, x->include)
			    : sim_kube_partial(t);
			rc = e != NULL ? ob_json(&x->out, e) : -1;
			cJSON_Delete(e);
			cJSON_Delete(t);
		}
		sim_kube_obj_unref(o);
		x->i++;
		if (rc != 0)
			return -1;
	}
	if (x->i == x->n && x->stage == 0) {
		x->stage = 1;
		return ob_str(&x->out, "]}");
	}
	return 0;
}

static ssize_t
list_read(void *p, char *buf, size_t max)
{
	struct list_ctx *x = p;

	if (!ob_pending(&x->out)) {
		if (x->stage == 1 || sim_stopping())
			return -1;
		if (list_fill(x) != 0)
			return -1;
	}
	return (ssize_t)ob_drain(&x->out, buf, max);
}

static char *
continue_token(uint64_t rv, const struct kobj *last)
{
	cJSON *o = cJSON_CreateObject();
	char key[400], *json, *b64;

	if (last->ns[0] != '\0')
		snprintf(key, sizeof key, "%s/%s", last->ns, last->name);
	else
		snprintf(key, sizeof key, "%s", last->name);
	cJSON_AddStringToObject(o, "v", "meta.k8s.io/v1");
	cJSON_AddNumberToObject(o, "rv", (double)rv);
	cJSON_AddStringToObject(o, "start", key);
	json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (json == NULL)
		return NULL;
	/* kube-apiserver's start key ends with a NUL ("the next key after");
	 * cJSON cannot hold one in a string, so it is spliced in as text. */
	{
		char *end = strstr(json, "\"}");
		size_t n = strlen(json);
		char *j2 = malloc(n + 8);
		if (j2 == NULL || end == NULL) {
			free(j2);
			free(json);
			return NULL;
		}
		memcpy(j2, json, (size_t)(end - json));
		snprintf(j2 + (end - json), n + 8 - (size_t)(end - json), "\\u0000\"}");
		free(json);
		json = j2;
	}
	b64 = sim_base64(json, strlen(json));
	free(json);
	if (b64 == NULL)
		return NULL;
	/* base64.RawURLEncoding, as kube-apiserver uses */
	for (char *q = b64; *q != '\0'; q++) {
		if (*q == '+')
			*q = '-';
		else if (*q == '/')
			*q = '_';
		else if (*q == '=') {
			*q = '\0';
			break;
		}
	}
	return b64;
}

void
sim_kube_list(struct kcluster *c, struct kres *r, struct klist_opts *opts, struct sim_req *req,
    struct sim_resp *resp)
{
	struct kstore *st = &r->store;
	size_t lo = 0, hi = st->n, i, cap, remaining = 0;
	struct list_ctx *x;
	struct obuf head = { 0 };
	char *cont = NULL, av[200], rvs[32];
	uint64_t list_rv = c->rv;
	int more = 0, selective = opts->lsel.n > 0 || opts->fsel.n > 0;

	if (opts->ns != NULL) {
		lo = sim_kube_store_lower(st, opts->ns, "");
		for (hi = lo; hi < st->n && strcmp(st->v[hi]->ns, opts->ns) == 0; hi++)
			;
	}
	if (opts->has_start) {
		/* the first key after the token's */
		size_t s = sim_kube_store_lower(st, opts->start_ns, opts->start_name);
		if (s < st->n && strcmp(st->v[s]->ns, opts->start_ns) == 0
		    && strcmp(st->v[s]->name, opts->start_name) == 0)
			s++;
		if (s > lo)
			lo = s;
		if (lo > hi)
			lo = hi;
	}
	x = calloc(1, sizeof *x);
	cap = opts->limit > 0 && (size_t)opts->limit < hi - lo ? (size_t)opts->limit : hi - lo;
	if (x == NULL || (x->items = malloc((cap > 0 ? cap : 1) * sizeof *x->items)) == NULL) {
		free(x);
		sim_kube_sel_free(&opts->lsel);
		sim_kube_sel_free(&opts->fsel);
		sim_kube_status(resp, 500, "InternalError", "out of memory");
		return;
	}
	for (i = lo; i < hi; i++) {
		struct kobj *o = st->v[i];

		if (!matches(opts, o))
			continue;
		if (opts->limit > 0 && x->n == (size_t)opts->limit) {
			more = 1;
			break;
		}
		sim_kube_obj_ref(o);
		x->items[x->n++] = o;
	}
	if (more) {
		cont = continue_token(list_rv, x->items[x->n - 1]);
		if (!selective)
			remaining = hi - i;
	}
	sim_kube_sel_free(&opts->lsel);
	sim_kube_sel_free(&opts->fsel);

	snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)list_rv);
	if (opts->fmt == KF_TABLE) {
		cJSON *cols = sim_kube_table_columns(r);
		char tv[16];

		snprintf(tv, sizeof tv, "%s", table_version(req));
		ob_str(&head, "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/");
		ob_str(&head, tv);
		ob_str(&head, "\",\"metadata\":{\"resourceVersion\":\"");
		ob_str(&head, rvs);
		ob_str(&head, "\"");
		if (cont != NULL) {
			ob_str(&head, ",\"continue\":\"");
			ob_str(&head, cont);
			ob_str(&head, "\"");
		}
		if (remaining > 0) {
			char rb[64];
			snprintf(rb, sizeof rb, ",\"remainingItemCount\":%zu", remaining);
			ob_str(&head, rb);
		}
		ob_str(&head, "},\"columnDefinitions\":");
		ob_json(&head, cols);
		ob_str(&head, ",\"rows\":[");
		cJSON_Delete(cols);
		snprintf(resp->content_type, sizeof resp->content_type,
		    "application/json;as=Table;v=%s;g=meta.k8s.io", tv);
	} else {
		if (opts->fmt == KF_META) {
			ob_str(&head, "{\"kind\":\"PartialObjectMetadataList\",\"apiVersion\":\"meta.k8s.io/v1\"");
			snprintf(resp->content_type, sizeof resp->content_type,
			    "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io");
		} else {
			ob_str(&head, "{\"kind\":\"");
			ob_str(&head, r->kind);
			ob_str(&head, "List\",\"apiVersion\":\"");
			ob_str(&head, sim_kube_res_apiversion(r, av, sizeof av));
			ob_str(&head, "\"");
			snprintf(resp->content_type, sizeof resp->content_type, "application/json");
		}
		ob_str(&head, ",\"metadata\":{\"resourceVersion\":\"");
		ob_str(&head, rvs);
		ob_str(&head, "\"");
		if (cont != NULL) {
			ob_str(&head, ",\"continue\":\"");
			ob_str(&head, cont);
			ob_str(&head, "\"");
		}
		if (remaining > 0) {
			char rb[64];
			snprintf(rb, sizeof rb, ",\"remainingItemCount\":%zu", remaining);
			ob_str(&head, rb);
		}
		ob_str(&head, "},\"items\":[");
	}
	free(cont);
	x->c = c;
	c->refs++;
	x->r = r;
	x->fmt = opts->fmt;
	x->include = opts->include_object;
	x->out = head;
	resp->status = 200;
	resp->stream = list_read;
	resp->stream_free = list_free;
	resp->stream_ctx = x;
}

/* ---- watches ------------------------------------------------------------------- */

struct wev {
	enum kev type;
	struct kobj *obj;
};

struct watch_ctx {
	struct kcluster *c;
	struct kres *r;
	struct klist_opts o;
	char ns[64];
	uint64_t pos;			/* every event up to here has been looked at */
	unsigned epoch;
	int bookmarks;
	int64_t deadline;		/* real ms */
	int64_t next_bookmark;		/* real ms */
	int64_t bookmark_every;		/* real ms */
	struct kobj **init;		/* the objects of the initial ADDED events */
	size_t ninit, iinit;
	int init_end;			/* send the initial-events-end bookmark */
	int ended;
	int registered;
	char tv[16];
	struct obuf out;
};

static void
watch_free(void *p)
{
	struct watch_ctx *w = p;

	for (size_t i = w->iinit; i < w->ninit; i++)
		sim_kube_obj_unref(w->init[i]);
	free(w->init);
	free(w->out.p);
	sim_kube_sel_free(&w->o.lsel);
	sim_kube_sel_free(&w->o.fsel);
	pthread_mutex_lock(&sim_world.lock);
	if (w->registered)
		w->c->nwatches--;
	sim_kube_cluster_unref(w->c);
	pthread_mutex_unlock(&sim_world.lock);
	free(w);
}

static const char *const ev_names[] = { "ADDED", "MODIFIED", "DELETED" };

static int
emit_event(struct watch_ctx *w, const char *type, const struct kobj *o)
{
	int rc;

	ob_str(&w->out, "{\"type\":\"");
	ob_str(&w->out, type);
	ob_str(&w->out, "\",\"object\":");
	if (w->o.fmt == KF_JSON) {
		rc = ob_add(&w->out, o->json, o->len);
	} else {
		cJSON *t = sim_kube_obj_parse(o), *e = NULL;

		if (t != NULL && w->o.fmt == KF_TABLE) {
			cJSON *rows;
			char rvs[32];

			/* One Table per event, with the column definitions so a
			 * client can print it on its own. */
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "kind", "Table");
			{
				char av[32];
				snprintf(av, sizeof av, "meta.k8s.io/%s", w->tv);
				cJSON_AddStringToObject(e, "apiVersion", av);
			}
			snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)o->rv);
			cJSON_AddStringToObject(cJSON_AddObjectToObject(e, "metadata"), "resourceVersion", rvs);
			cJSON_AddItemToObject(e, "columnDefinitions", sim_kube_table_columns(w->r));
			rows = cJSON_AddArrayToObject(e, "rows");
			cJSON_AddItemToArray(rows, sim_kube_table_row(w->r, t, w->o.include_object));
		} else if (t != NULL) {
			e = sim_kube_partial(t);
		}
		rc = e != NULL ? ob_json(&w->out, e) : -1;
		cJSON_Delete(e);
		cJSON_Delete(t);
	}
	ob_str(&w->out, "}\n");
	return rc;
}

static void
emit_bookmark(struct watch_ctx *w, uint64_t rv, int initial_end)
{
	char buf[512], av[200];

	if (w->o.fmt == KF_TABLE)
		snprintf(buf, sizeof buf, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Table\","
		    "\"apiVersion\":\"meta.k8s.io/%s\",\"metadata\":{\"resourceVersion\":\"%llu\"},"
		    "\"columnDefinitions\":null,\"rows\":null}}\n", w->tv, (unsigned long long)rv);
	else
		snprintf(buf, sizeof buf, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\","
		    "\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%llu\","
		    "\"creationTimestamp\":null%s}}}\n",
		    w->o.fmt == KF_META ? "PartialObjectMetadata" : w->r->kind,
		    w->o.fmt == KF_META ? "meta.k8s.io/v1" : sim_kube_res_apiversion(w->r, av, sizeof av),
		    (unsigned long long)rv,
		    initial_end ? ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}" : "");
	ob_str(&w->out, buf);
}

static void
emit_expired(struct watch_ctx *w, uint64_t asked, uint64_t oldest)
{
	char buf[512];

	snprintf(buf, sizeof buf, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
	    "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: %llu (%llu)\","
	    "\"reason\":\"Expired\",\"code\":410}}\n", (unsigned long long)asked,
	    (unsigned long long)oldest);
	ob_str(&w->out, buf);
}

static void
deadline_ts(int64_t wait_ms, struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += wait_ms / 1000;
	ts->tv_nsec += (wait_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

#define WATCH_BATCH 256

/* Under the lock: looks at the events after w->pos, keeping those this
 * watch wants (with the type a filtered watch sees).  Returns how many. */
static size_t
collect(struct watch_ctx *w, struct wev *out)
{
	struct kcluster *c = w->c;
	size_t i = sim_kube_ring_after(c, w->pos), n = 0;

	for (; i < c->ring_n && n < WATCH_BATCH; i++) {
		const struct kevent *e = sim_kube_ring_at(c, i);
		int now, before;

		w->pos = e->rv;
		if (e->obj->res != w->r)
			continue;
		now = matches(&w->o, e->obj);
		before = e->prev != NULL && matches(&w->o, e->prev);
		if (e->type == KE_DELETED) {
			if (!now && !before)
				continue;
			out[n].type = KE_DELETED;
		} else if (now && before) {
			out[n].type = KE_MODIFIED;
		} else if (now) {
			out[n].type = KE_ADDED;		/* came into the selection */
		} else if (before) {
			out[n].type = KE_DELETED;	/* left it */
		} else {
			continue;
		}
		out[n].obj = e->obj;
		sim_kube_obj_ref(e->obj);
		n++;
	}
	return n;
}

static ssize_t
watch_read(void *p, char *buf, size_t max)
{
	struct watch_ctx *w = p;
	struct wev evs[WATCH_BATCH];

	for (;;) {
		size_t n;
		int64_t now;

		if (ob_pending(&w->out))
			return (ssize_t)ob_drain(&w->out, buf, max);
		if (w->ended || sim_stopping())
			return -1;
		if (w->iinit < w->ninit) {
			for (int k = 0; k < 64 && w->iinit < w->ninit; k++, w->iinit++) {
				emit_event(w, "ADDED", w->init[w->iinit]);
				sim_kube_obj_unref(w->init[w->iinit]);
			}
			continue;
		}
		if (w->init_end) {
			w->init_end = 0;
			emit_bookmark(w, w->pos, 1);
			continue;
		}

		pthread_mutex_lock(&sim_world.lock);
		if (w->c->gone || !w->c->running || sim_kube_in_outage(w->c)) {
			pthread_mutex_unlock(&sim_world.lock);
			w->ended = 1;
			continue;
		}
		if (w->epoch != w->c->watch_epoch || w->pos < w->c->floor) {
			/* after expire-watches even the current version is gone */
			uint64_t asked = w->pos, oldest = w->c->floor
			    + (w->epoch != w->c->watch_epoch && w->pos >= w->c->floor);
			pthread_mutex_unlock(&sim_world.lock);
			emit_expired(w, asked, oldest);
			w->ended = 1;
			continue;
		}
		n = collect(w, evs);
		if (n == 0) {
			struct timespec ts;
			int64_t wait = 1000;

			now = sim_kube_mono_ms();
			if (w->deadline > 0 && now >= w->deadline) {
				pthread_mutex_unlock(&sim_world.lock);
				w->ended = 1;
				continue;
			}
			if (w->bookmarks && now >= w->next_bookmark) {
				uint64_t rv = w->pos > w->c->rv ? w->pos : w->c->rv;
				/* Every event up to the cluster's current version
				 * has been looked at. */
				w->pos = rv;
				w->next_bookmark = now + w->bookmark_every;
				pthread_mutex_unlock(&sim_world.lock);
				emit_bookmark(w, rv, 0);
				continue;
			}
			if (w->deadline > 0 && w->deadline - now < wait)
				wait = w->deadline - now;
			if (w->bookmarks && w->next_bookmark - now < wait)
				wait = w->next_bookmark - now;
			if (wait < 1)
				wait = 1;
			deadline_ts(wait, &ts);
			pthread_cond_timedwait(&sim_world.changed, &sim_world.lock, &ts);
			n = collect(w, evs);
			pthread_mutex_unlock(&sim_world.lock);
			if (n == 0)
				return 0;	/* lets the front end notice a closed peer */
		} else {
			pthread_mutex_unlock(&sim_world.lock);
		}
		for (size_t k = 0; k < n; k++) {
			emit_event(w, ev_names[evs[k].type], evs[k].obj);
			sim_kube_obj_unref(evs[k].obj);
		}
	}
}

void
sim_kube_watch(struct kcluster *c, struct kres *r, struct klist_opts *opts, struct sim_req *req,
    struct sim_resp *resp)
{
	const char *rv = sim_req_arg(req, "resourceVersion");
	const char *to = sim_req_arg(req, "timeoutSeconds");
	const char *bm = sim_req_arg(req, "allowWatchBookmarks");
	const char *sie = sim_req_arg(req, "sendInitialEvents");
	int has_rv = rv != NULL && rv[0] != '\0' && strcmp(rv, "0") != 0, initial;
	unsigned long long from = c->rv;
	int64_t now = sim_kube_mono_ms();
	struct watch_ctx *w;
	char *end;

	if (has_rv) {
		errno = 0;
		from = strtoull(rv, &end, 10);
		if (*end != '\0' || errno != 0 || rv[0] == '-') {
			sim_kube_sel_free(&opts->lsel);
			sim_kube_sel_free(&opts->fsel);
			sim_kube_status(resp, 400, "BadRequest", "invalid resource version: %s", rv);
			return;
		}
		/* A version from the future is served from now on (the real
		 * server would wait for it to arrive). */
		if (from > c->rv)
			from = c->rv;
	}
	w = calloc(1, sizeof *w);
	if (w == NULL) {
		sim_kube_sel_free(&opts->lsel);
		sim_kube_sel_free(&opts->fsel);
		sim_kube_status(resp, 500, "InternalError", "out of memory");
		return;
	}
	w->c = c;
	c->refs++;
	w->r = r;
	w->o = *opts;			/* takes over the selectors */
	if (opts->ns != NULL) {
		snprintf(w->ns, sizeof w->ns, "%s", opts->ns);
		w->o.ns = w->ns;
	}
	snprintf(w->tv, sizeof w->tv, "%s", table_version(req));
	w->epoch = c->watch_epoch;
	w->pos = from;
	w->bookmarks = bm != NULL && (strcmp(bm, "true") == 0 || strcmp(bm, "1") == 0);
	/* A bookmark about once a simulated minute, within 1..10 real
	 * seconds, so clients see them in tests without waiting long. */
	w->bookmark_every = sim_real_ms(60000);
	if (w->bookmark_every < 1000)
		w->bookmark_every = 1000;
	if (w->bookmark_every > 10000)
		w->bookmark_every = 10000;
	w->next_bookmark = now + w->bookmark_every;
	/* Without timeoutSeconds kube-apiserver ends a watch after a random
	 * 30 to 60 minutes; half an hour is close enough. */
	w->deadline = now + 1800 * 1000;
	if (to != NULL) {
		long t = strtol(to, &end, 10);
		if (*end == '\0' && t > 0)
			w->deadline = now + t * 1000;
	}
	/* resourceVersion unset or "0": the current state as ADDED events
	 * first; sendInitialEvents=true asks for that explicitly (and ends it
	 * with a bookmark), =false for live events only. */
	initial = !has_rv;
	if (sie != NULL)
		initial = strcmp(sie, "true") == 0;
	if (initial) {
		struct kstore *st = &r->store;
		size_t lo = 0, hi = st->n;

		if (w->o.ns != NULL) {
			lo = sim_kube_store_lower(st, w->o.ns, "");
			for (hi = lo; hi < st->n && strcmp(st->v[hi]->ns, w->o.ns) == 0; hi++)
				;
		}
		w->init = malloc((hi - lo + 1) * sizeof *w->init);
		for (size_t i = lo; w->init != NULL && i < hi; i++) {
			if (matches(&w->o, st->v[i])) {
				sim_kube_obj_ref(st->v[i]);
				w->init[w->ninit++] = st->v[i];
			}
		}
		w->pos = c->rv;
		w->init_end = sie != NULL && strcmp(sie, "true") == 0 && w->bookmarks;
	} else if (w->pos < c->floor) {
		/* Too old: kube-apiserver answers 200 and one ERROR event. */
		emit_expired(w, w->pos, c->floor);
		w->ended = 1;
	}
	c->nwatches++;
	w->registered = 1;
	resp->status = 200;
	snprintf(resp->content_type, sizeof resp->content_type, "application/json");
	resp->stream = watch_read;
	resp->stream_free = watch_free;
	resp->stream_ctx = w;
}
