/*
 * kube_store.c — compact object summaries and incremental counts for the
 * informers (see kube_store.h).
 *
 * A decoded struct kube_object is a few kilobytes of fixed buffers; keeping
 * 150,000 of them would cost hundreds of megabytes.  The store keeps, per
 * object, one allocation: a 24-byte header (hash chain, key hash, list
 * generation, namespace id, health, reason id), a few bytes of kind data
 * (a pod's restarts and container counts; a node's version, pool, cordon
 * and age; a deployment's replica counts) and the name.  Namespaces and
 * the short texts that repeat (reasons, kubelet versions, pool names) are
 * interned once in string tables and referred to by a 16-bit id.
 *
 * Every change first takes the old summary's contribution out of the
 * counts (per namespace and in total) and then puts the new one in, so
 * the counts are always those of the objects in the store and a snapshot
 * never walks the pods.  Deployments that are not available are also
 * threaded on a list, so the screen's "workloads not available" costs
 * O(problems).
 */
#include "kube/kube_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IDS		65535u		/* ids are 16-bit; id 0 is "" */

/* ---- interned strings ----------------------------------------------------- */

struct strtab {
	char *blob;			/* NUL-terminated strings back to back */
	size_t len, cap;
	uint32_t *off;			/* id -> offset in blob */
	uint32_t n, ncap;
	uint32_t *idx;			/* open addressing; 0 = empty slot, else id */
	uint32_t idxcap;		/* power of two */
};

static uint32_t
fnv(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static int
st_init(struct strtab *t)
{
	memset(t, 0, sizeof *t);
	t->blob = malloc(64);
	t->off = malloc(16 * sizeof *t->off);
	t->idx = calloc(16, sizeof *t->idx);
	if (t->blob == NULL || t->off == NULL || t->idx == NULL)
		return -1;
	t->cap = 64;
	t->ncap = 16;
	t->idxcap = 16;
	t->blob[0] = '\0';
	t->len = 1;
	t->off[0] = 0;
	t->n = 1;
	return 0;
}

static void
st_free(struct strtab *t)
{
	free(t->blob);
	free(t->off);
	free(t->idx);
}

static const char *
st_str(const struct strtab *t, uint32_t id)
{
	return t->blob + t->off[id < t->n ? id : 0];
}

static int
st_grow_idx(struct strtab *t)
{
	uint32_t ncap = t->idxcap * 2;
	uint32_t *ni = calloc(ncap, sizeof *ni);

	if (ni == NULL)
		return -1;
	for (uint32_t id = 1; id < t->n; id++) {
		const char *s = t->blob + t->off[id];
		uint32_t h = fnv(s, strlen(s)) & (ncap - 1);

		while (ni[h] != 0)
			h = (h + 1) & (ncap - 1);
		ni[h] = id;
	}
	free(t->idx);
	t->idx = ni;
	t->idxcap = ncap;
	return 0;
}

/* The id of S, adding it.  0 for "" and when the table is full or memory
 * ran out: the object then shows an empty text, which is a cosmetic loss,
 * never a wrong count. */
static uint32_t
st_id(struct strtab *t, const char *s)
{
	size_t n = strlen(s);
	uint32_t h, slot;

	if (n == 0)
		return 0;
	h = fnv(s, n);
	for (slot = h & (t->idxcap - 1); t->idx[slot] != 0; slot = (slot + 1) & (t->idxcap - 1))
		if (strcmp(t->blob + t->off[t->idx[slot]], s) == 0)
			return t->idx[slot];
	if (t->n >= MAX_IDS || t->len + n + 1 > UINT32_MAX)
		return 0;
	if (t->len + n + 1 > t->cap) {
		size_t ncap = t->cap * 2;
		char *nb;

		while (ncap < t->len + n + 1)
			ncap *= 2;
		if ((nb = realloc(t->blob, ncap)) == NULL)
			return 0;
		t->blob = nb;
		t->cap = ncap;
	}
	if (t->n == t->ncap) {
		uint32_t *no = realloc(t->off, (size_t)t->ncap * 2 * sizeof *no);

		if (no == NULL)
			return 0;
		t->off = no;
		t->ncap *= 2;
	}
	memcpy(t->blob + t->len, s, n + 1);
	t->off[t->n] = (uint32_t)t->len;
	t->len += n + 1;
	t->idx[slot] = t->n;
	t->n++;
	if (t->n * 2 > t->idxcap)
		(void)st_grow_idx(t);	/* a full index only slows lookups */
	return t->n - 1;
}

/* ---- entries ---------------------------------------------------------------- */

struct ent {
	struct ent *next;		/* hash chain */
	uint32_t hash;
	uint32_t gen;			/* list generation that last saw it */
	uint16_t ns;			/* namespace id */
	uint8_t name_len;
	uint8_t health;			/* kube_pod/node/deploy_health */
	uint16_t reason;		/* string id */
	uint8_t bad;			/* deployment not available */
	uint8_t pad;
	/* kind data, then the name and its NUL */
};

struct pod_d {
	uint32_t restarts;
	uint16_t containers, ready;
};

struct node_d {
	int64_t created;
	uint16_t version, pool;
	uint8_t unschedulable, pressure;
};

struct dep_d {
	struct ent *prev, *next;	/* the not-available list */
	int32_t desired, ready, available, updated;
};

struct ns_agg {
	uint32_t objects;
	struct kube_pod_counts pods;
	uint32_t deployments, dep_bad;
};

struct vcount {
	uint16_t id;
	uint32_t n;
};

struct kube_store {
	enum kube_informer_kind kind;
	size_t dsize;			/* kind data bytes */
	struct ent **b;			/* buckets, power of two */
	size_t nb, n;
	struct strtab nst;		/* namespaces */
	struct strtab sst;		/* reasons, versions, pools */
	struct ns_agg *ns;		/* by namespace id */
	size_t nscap;
	struct kube_pod_counts pods;
	uint32_t node_health[3];
	uint32_t cordoned;
	struct vcount *vers;
	size_t nvers, capvers;
	uint32_t deployments, dep_bad;
	struct ent *bad;		/* head of the not-available list */
	size_t name_bytes;		/* names and NULs */
	size_t ent_bytes;
};

static void *
data_of(const struct ent *e)
{
	return (void *)(e + 1);
}

static char *
name_of(const struct kube_store *s, const struct ent *e)
{
	return (char *)(e + 1) + s->dsize;
}

static size_t
dsize_of(enum kube_informer_kind k)
{
	switch (k) {
	case KUBE_INFORMER_PODS:	return sizeof(struct pod_d);
	case KUBE_INFORMER_NODES:	return sizeof(struct node_d);
	case KUBE_INFORMER_DEPLOYMENTS:	return sizeof(struct dep_d);
	case KUBE_INFORMER_GENERIC:	break;
	}
	return 0;
}

struct kube_store *
kube_store_new(enum kube_informer_kind kind)
{
	struct kube_store *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->kind = kind;
	/* The kind data must keep the name's start 1-aligned and pointers in
	 * dep_d 8-aligned: struct ent is 24 bytes, a multiple of 8. */
	s->dsize = dsize_of(kind);
	s->nb = 1024;
	s->b = calloc(s->nb, sizeof *s->b);
	s->nscap = 16;
	s->ns = calloc(s->nscap, sizeof *s->ns);
	if (s->b == NULL || s->ns == NULL || st_init(&s->nst) != 0 || st_init(&s->sst) != 0) {
		kube_store_free(s);
		return NULL;
	}
	return s;
}

void
kube_store_free(struct kube_store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->b != NULL && i < s->nb; i++) {
		struct ent *e = s->b[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(s->b);
	free(s->ns);
	free(s->vers);
	st_free(&s->nst);
	st_free(&s->sst);
	free(s);
}

size_t
kube_store_count(const struct kube_store *s)
{
	return s->n;
}

size_t
kube_store_bytes(const struct kube_store *s)
{
	return sizeof *s + s->ent_bytes + s->nb * sizeof *s->b + s->nscap * sizeof *s->ns
	    + s->nst.cap + s->sst.cap + (s->nst.ncap + s->nst.idxcap + s->sst.ncap
	    + s->sst.idxcap) * sizeof(uint32_t) + s->capvers * sizeof *s->vers;
}

static uint32_t
key_hash(uint16_t ns, const char *name, size_t len)
{
	return fnv(name, len) ^ ((uint32_t)ns * 0x9E3779B1u);
}

static struct ent **
find_slot(const struct kube_store *s, uint16_t ns, const char *name, size_t len, uint32_t h)
{
	struct ent **pp = &s->b[h & (s->nb - 1)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		const struct ent *e = *pp;

		if (e->hash == h && e->ns == ns && e->name_len == len
		    && memcmp(name_of(s, e), name, len) == 0)
			return pp;
	}
	return pp;
}

static void
grow_buckets(struct kube_store *s)
{
	size_t nnb = s->nb * 2;
	struct ent **nb = calloc(nnb, sizeof *nb);

	if (nb == NULL)
		return;		/* longer chains, still correct */
	for (size_t i = 0; i < s->nb; i++) {
		struct ent *e = s->b[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (nnb - 1)];
			nb[e->hash & (nnb - 1)] = e;
		}
	}
	free(s->b);
	s->b = nb;
	s->nb = nnb;
}

/* ---- counts ---------------------------------------------------------------- */

static void
add32(uint32_t *x, int sign)
{
	*x = sign > 0 ? *x + 1 : *x - 1;
}

static void
pods_add(struct kube_pod_counts *pc, unsigned health, uint32_t restarts, int sign)
{
	if (health >= KUBE_POD_HEALTH_COUNT)
		return;
	add32(&pc->by_health[health], sign);
	pc->restarts = sign > 0 ? pc->restarts + restarts : pc->restarts - restarts;
	/* Succeeded pods are finished work and terminating ones are on their
	 * way out: neither should be counted as "not ready". */
	if (health != KUBE_POD_SUCCEEDED && health != KUBE_POD_TERMINATING)
		add32(&pc->total, sign);
	if (health == KUBE_POD_READY)
		add32(&pc->ready, sign);
	if (health == KUBE_POD_PENDING || health == KUBE_POD_UNSCHEDULABLE
	    || health == KUBE_POD_IMAGE_PULL)
		add32(&pc->pending, sign);
	if (health == KUBE_POD_CRASHLOOP)
		add32(&pc->crashlooping, sign);
}

static void
version_add(struct kube_store *s, uint16_t id, int sign)
{
	size_t i;

	for (i = 0; i < s->nvers; i++)
		if (s->vers[i].id == id)
			break;
	if (i == s->nvers) {
		if (sign < 0)
			return;
		if (s->nvers == s->capvers) {
			size_t ncap = s->capvers ? s->capvers * 2 : 8;
			struct vcount *nv = realloc(s->vers, ncap * sizeof *nv);

			if (nv == NULL)
				return;
			s->vers = nv;
			s->capvers = ncap;
		}
		s->vers[s->nvers].id = id;
		s->vers[s->nvers].n = 0;
		s->nvers++;
	}
	add32(&s->vers[i].n, sign);
	if (s->vers[i].n == 0)
		s->vers[i] = s->vers[--s->nvers];
}

static void
bad_link(struct kube_store *s, struct ent *e)
{
	struct dep_d *d = data_of(e);

	d->prev = NULL;
	d->next = s->bad;
	if (s->bad != NULL)
		((struct dep_d *)data_of(s->bad))->prev = e;
	s->bad = e;
}

static void
bad_unlink(struct kube_store *s, struct ent *e)
{
	struct dep_d *d = data_of(e);

	if (d->prev != NULL)
		((struct dep_d *)data_of(d->prev))->next = d->next;
	else
		s->bad = d->next;
	if (d->next != NULL)
		((struct dep_d *)data_of(d->next))->prev = d->prev;
	d->prev = d->next = NULL;
}

/* Adds (SIGN 1) or takes out (-1) what E contributes to the counts. */
static void
contribute(struct kube_store *s, struct ent *e, int sign)
{
	struct ns_agg *a = &s->ns[e->ns];

	add32(&a->objects, sign);
	switch (s->kind) {
	case KUBE_INFORMER_PODS: {
		const struct pod_d *d = data_of(e);

		pods_add(&a->pods, e->health, d->restarts, sign);
		pods_add(&s->pods, e->health, d->restarts, sign);
		break;
	}
	case KUBE_INFORMER_NODES: {
		const struct node_d *d = data_of(e);

		if (e->health < 3)
			add32(&s->node_health[e->health], sign);
		if (d->unschedulable)
			add32(&s->cordoned, sign);
		version_add(s, d->version, sign);
		break;
	}
	case KUBE_INFORMER_DEPLOYMENTS:
		add32(&a->deployments, sign);
		add32(&s->deployments, sign);
		if (e->bad) {
			add32(&a->dep_bad, sign);
			add32(&s->dep_bad, sign);
			if (sign > 0)
				bad_link(s, e);
			else
				bad_unlink(s, e);
		}
		break;
	case KUBE_INFORMER_GENERIC:
		break;
	}
}

/* ---- changes ---------------------------------------------------------------- */

static int
ns_room(struct kube_store *s)
{
	if (s->nst.n <= s->nscap)
		return 0;
	{
		size_t ncap = s->nscap * 2;
		struct ns_agg *na;

		while (ncap < s->nst.n)
			ncap *= 2;
		na = realloc(s->ns, ncap * sizeof *na);
		if (na == NULL)
			return -1;
		memset(na + s->nscap, 0, (ncap - s->nscap) * sizeof *na);
		s->ns = na;
		s->nscap = ncap;
	}
	return 0;
}

/* Writes O's summary into E (header fields and kind data, not the key). */
static void
fill(struct kube_store *s, struct ent *e, const struct kube_object *o)
{
	switch (s->kind) {
	case KUBE_INFORMER_PODS: {
		struct pod_d *d = data_of(e);
		const struct kube_pod *p = &o->pod;
		const char *why = p->waiting_reason[0] != '\0' ? p->waiting_reason
		    : p->reason[0] != '\0' ? p->reason
		    : p->scheduled == KUBE_COND_FALSE ? p->scheduled_reason : "";

		e->health = (uint8_t)kube_pod_health(o);
		e->reason = (uint16_t)st_id(&s->sst, why);
		d->restarts = p->restarts;
		d->containers = p->containers;
		d->ready = p->containers_ready;
		break;
	}
	case KUBE_INFORMER_NODES: {
		struct node_d *d = data_of(e);

		e->health = (uint8_t)kube_node_health(o);
		e->reason = (uint16_t)st_id(&s->sst, o->node.ready_reason);
		d->created = o->meta.created;
		d->version = (uint16_t)st_id(&s->sst, o->node.kubelet_version);
		d->pool = (uint16_t)st_id(&s->sst, o->node.agent_pool);
		d->unschedulable = o->node.unschedulable;
		d->pressure = (uint8_t)o->node.pressure;
		break;
	}
	case KUBE_INFORMER_DEPLOYMENTS: {
		struct dep_d *d = data_of(e);
		const struct kube_deployment *dp = &o->deploy;
		enum kube_deploy_health h = kube_deploy_health(o);

		e->health = (uint8_t)h;
		e->reason = (uint16_t)st_id(&s->sst, h == KUBE_DEPLOY_STALLED ? dp->progressing_reason
		    : dp->available != KUBE_COND_TRUE ? dp->available_reason : "");
		d->desired = dp->spec_replicas;
		d->ready = dp->ready_replicas;
		d->available = dp->available_replicas;
		d->updated = dp->updated_replicas;
		/* Not available: the controller says so, the rollout is stuck,
		 * or fewer replicas are available than wanted (what the
		 * screen's "workloads not available" means). */
		e->bad = h == KUBE_DEPLOY_UNAVAILABLE || h == KUBE_DEPLOY_STALLED
		    || dp->available_replicas < dp->spec_replicas;
		break;
	}
	case KUBE_INFORMER_GENERIC:
		break;
	}
}

static int
kind_matches(const struct kube_store *s, const struct kube_object *o)
{
	switch (s->kind) {
	case KUBE_INFORMER_PODS:	return o->kind == KUBE_KIND_POD;
	case KUBE_INFORMER_NODES:	return o->kind == KUBE_KIND_NODE;
	case KUBE_INFORMER_DEPLOYMENTS:	return o->kind == KUBE_KIND_DEPLOYMENT;
	case KUBE_INFORMER_GENERIC:	return o->kind != KUBE_KIND_STATUS;
	}
	return 0;
}

int
kube_store_upsert(struct kube_store *s, const struct kube_object *o, uint32_t gen)
{
	size_t len = strnlen(o->meta.name, sizeof o->meta.name);
	uint32_t nsid, h;
	struct ent **pp, *e;

	if (!kind_matches(s, o) || len == 0 || len > 255)
		return 0;
	nsid = st_id(&s->nst, o->meta.ns);
	if (nsid == 0 && o->meta.ns[0] != '\0')
		return -1;	/* out of namespace ids or memory: say so */
	if (ns_room(s) != 0)
		return -1;
	h = key_hash((uint16_t)nsid, o->meta.name, len);
	pp = find_slot(s, (uint16_t)nsid, o->meta.name, len, h);
	if ((e = *pp) != NULL) {
		contribute(s, e, -1);
		fill(s, e, o);
		contribute(s, e, 1);
		e->gen = gen;
		return 1;
	}
	e = calloc(1, sizeof *e + s->dsize + len + 1);
	if (e == NULL)
		return -1;
	e->hash = h;
	e->gen = gen;
	e->ns = (uint16_t)nsid;
	e->name_len = (uint8_t)len;
	memcpy(name_of(s, e), o->meta.name, len);
	fill(s, e, o);
	e->next = NULL;
	*pp = e;
	s->n++;
	s->name_bytes += len + 1;
	s->ent_bytes += sizeof *e + s->dsize + len + 1;
	contribute(s, e, 1);
	if (s->n > s->nb)
		grow_buckets(s);
	return 1;
}

static void
unlink_free(struct kube_store *s, struct ent **pp)
{
	struct ent *e = *pp;

	*pp = e->next;
	contribute(s, e, -1);
	s->n--;
	s->name_bytes -= (size_t)e->name_len + 1;
	s->ent_bytes -= sizeof *e + s->dsize + e->name_len + 1;
	free(e);
}

int
kube_store_delete(struct kube_store *s, const char *ns, const char *name)
{
	size_t len = strlen(name);
	uint32_t nsid = 0, h;
	struct ent **pp;

	if (ns[0] != '\0') {
		/* Look the namespace up without adding it. */
		const struct strtab *t = &s->nst;
		uint32_t slot = fnv(ns, strlen(ns)) & (t->idxcap - 1);

		for (; t->idx[slot] != 0; slot = (slot + 1) & (t->idxcap - 1))
			if (strcmp(st_str(t, t->idx[slot]), ns) == 0)
				break;
		if (t->idx[slot] == 0)
			return 0;
		nsid = t->idx[slot];
	}
	if (len == 0 || len > 255)
		return 0;
	h = key_hash((uint16_t)nsid, name, len);
	pp = find_slot(s, (uint16_t)nsid, name, len, h);
	if (*pp == NULL)
		return 0;
	unlink_free(s, pp);
	return 1;
}

size_t
kube_store_sweep(struct kube_store *s, uint32_t gen)
{
	size_t gone = 0;

	for (size_t i = 0; i < s->nb; i++) {
		struct ent **pp = &s->b[i];

		while (*pp != NULL) {
			if ((*pp)->gen != gen) {
				unlink_free(s, pp);
				gone++;
			} else {
				pp = &(*pp)->next;
			}
		}
	}
	return gone;
}

/* ---- reading ---------------------------------------------------------------- */

static int
ns_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kube_ns_summary *)a)->name,
	    ((const struct kube_ns_summary *)b)->name);
}

int
kube_store_snapshot(const struct kube_store *s, struct kube_snapshot *out, size_t max_problems)
{
	size_t nns = 0, k = 0;

	out->objects = s->n;
	out->pods = s->pods;
	out->nodes_ready = s->node_health[KUBE_NODE_READY];
	out->nodes_not_ready = s->node_health[KUBE_NODE_NOT_READY];
	out->nodes_unknown = s->node_health[KUBE_NODE_UNKNOWN];
	out->nodes_cordoned = s->cordoned;
	out->deployments = s->deployments;
	out->deployments_not_available = s->dep_bad;

	for (uint32_t id = 1; id < s->nst.n; id++)
		nns += s->ns[id].objects > 0;
	if (nns > 0) {
		out->namespaces = calloc(nns, sizeof *out->namespaces);
		if (out->namespaces == NULL)
			return -1;
		for (uint32_t id = 1; id < s->nst.n; id++) {
			const struct ns_agg *a = &s->ns[id];
			struct kube_ns_summary *o;

			if (a->objects == 0)
				continue;
			o = &out->namespaces[k++];
			snprintf(o->name, sizeof o->name, "%s", st_str(&s->nst, id));
			o->objects = a->objects;
			o->pods = a->pods;
			o->deployments = a->deployments;
			o->deployments_not_available = a->dep_bad;
		}
		out->nnamespaces = k;
		qsort(out->namespaces, k, sizeof *out->namespaces, ns_cmp);
	}

	if (s->kind == KUBE_INFORMER_NODES) {
		char *strs = malloc(s->sst.len + s->name_bytes + 1), *np;

		if (strs == NULL)
			return -1;
		out->strings_ = strs;
		memcpy(strs, s->sst.blob, s->sst.len);
		np = strs + s->sst.len;
		if (s->n > 0 && (out->nodes = calloc(s->n, sizeof *out->nodes)) == NULL)
			return -1;
		k = 0;
		for (size_t i = 0; i < s->nb; i++)
			for (const struct ent *e = s->b[i]; e != NULL; e = e->next) {
				const struct node_d *d = data_of(e);
				struct kube_node_summary *o = &out->nodes[k++];

				memcpy(np, name_of(s, e), (size_t)e->name_len + 1);
				o->name = np;
				np += e->name_len + 1;
				o->health = (enum kube_node_health)e->health;
				o->unschedulable = d->unschedulable;
				o->pressure = d->pressure;
				o->ready_reason = strs + s->sst.off[e->reason];
				o->kubelet_version = strs + s->sst.off[d->version];
				o->agent_pool = strs + s->sst.off[d->pool];
				o->created = d->created;
			}
		out->nnodes = k;
		if (s->nvers > 0) {
			out->versions = calloc(s->nvers, sizeof *out->versions);
			if (out->versions == NULL)
				return -1;
			for (size_t i = 0; i < s->nvers; i++) {
				out->versions[i].version = strs + s->sst.off[s->vers[i].id];
				out->versions[i].nodes = s->vers[i].n;
			}
			out->nversions = s->nvers;
		}
	}

	if (s->kind == KUBE_INFORMER_DEPLOYMENTS && s->dep_bad > 0 && max_problems > 0) {
		size_t want = s->dep_bad < max_problems ? s->dep_bad : max_problems;

		out->not_available = calloc(want, sizeof *out->not_available);
		if (out->not_available == NULL)
			return -1;
		k = 0;
		for (const struct ent *e = s->bad; e != NULL && k < want;
		    e = ((const struct dep_d *)data_of(e))->next) {
			const struct dep_d *d = data_of(e);
			struct kube_deploy_summary *o = &out->not_available[k++];

			snprintf(o->ns, sizeof o->ns, "%s", st_str(&s->nst, e->ns));
			snprintf(o->name, sizeof o->name, "%s", name_of(s, e));
			o->health = (enum kube_deploy_health)e->health;
			o->desired = d->desired;
			o->ready = d->ready;
			o->available = d->available;
			o->updated = d->updated;
			snprintf(o->reason, sizeof o->reason, "%s", st_str(&s->sst, e->reason));
		}
		out->nnot_available = k;
	}
	return 0;
}

size_t
kube_store_foreach(const struct kube_store *s,
    int (*fn)(void *ctx, const struct kube_informer_item *it), void *ctx)
{
	size_t visited = 0;

	for (size_t i = 0; i < s->nb; i++)
		for (const struct ent *e = s->b[i]; e != NULL; e = e->next) {
			struct kube_informer_item it;

			memset(&it, 0, sizeof it);
			it.ns = st_str(&s->nst, e->ns);
			it.name = name_of(s, e);
			it.reason = st_str(&s->sst, e->reason);
			it.kubelet_version = it.agent_pool = "";
			switch (s->kind) {
			case KUBE_INFORMER_PODS: {
				const struct pod_d *d = data_of(e);

				it.pod_health = (enum kube_pod_health)e->health;
				it.restarts = d->restarts;
				it.containers = d->containers;
				it.containers_ready = d->ready;
				break;
			}
			case KUBE_INFORMER_NODES: {
				const struct node_d *d = data_of(e);

				it.node_health = (enum kube_node_health)e->health;
				it.unschedulable = d->unschedulable;
				it.kubelet_version = st_str(&s->sst, d->version);
				it.agent_pool = st_str(&s->sst, d->pool);
				it.created = d->created;
				break;
			}
			case KUBE_INFORMER_DEPLOYMENTS: {
				const struct dep_d *d = data_of(e);

				it.deploy_health = (enum kube_deploy_health)e->health;
				it.desired = d->desired;
				it.ready = d->ready;
				it.available = d->available;
				it.updated = d->updated;
				break;
			}
			case KUBE_INFORMER_GENERIC:
				break;
			}
			visited++;
			if (fn(ctx, &it) != 0)
				return visited;
		}
	return visited;
}
