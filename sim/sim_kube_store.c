/*
 * sim_kube_store.c — how a simulated API server keeps its objects: immutable
 * reference-counted objects (compact JSON text plus a small index), one
 * sorted array per resource type, the commit that gives every change its
 * resource version and event, the bounded event ring that watches read, and
 * label and field selectors evaluated on the index alone.
 *
 * Keeping the text rather than a parsed tree is what lets a cluster hold
 * 150,000 pods in little more than their size, and lets a list be written
 * with memcpy instead of re-encoding; the index holds exactly what
 * selectors, controllers and the gateway's health probe need, so nothing on
 * a hot path parses JSON.
 */
#include "sim/sim_kube.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- objects ----------------------------------------------------------------- */

struct strpool {
	char *p;
	size_t left;
};

static const char *
pool_dup(struct strpool *sp, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = sp->p;

	if (n > sp->left)
		return "";
	memcpy(d, s, n);
	sp->p += n;
	sp->left -= n;
	return d;
}

static const char *
str_or_empty(const cJSON *j)
{
	return cJSON_IsString(j) && j->valuestring != NULL ? j->valuestring : "";
}

/* The text of field PATH ("spec.nodeName") of OBJ, "" when absent; numbers
 * and booleans as the API prints them in field selectors. */
static const char *
field_value(const cJSON *obj, const char *path, char *buf, size_t n)
{
	/* an Event's "source" selector means its reporting component */
	const cJSON *v = sim_kube_jpath(obj, strcmp(path, "source") == 0 ? "source.component" : path);

	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	if (cJSON_IsNumber(v)) {
		snprintf(buf, n, "%.0f", v->valuedouble);
		return buf;
	}
	return "";
}

static int
cond_true(const cJSON *obj, const char *type)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, sim_kube_jpath(obj, "status.conditions")) {
		if (strcmp(sim_kube_jstr(c, "type"), type) == 0)
			return strcmp(sim_kube_jstr(c, "status"), "True") == 0;
	}
	return 0;
}

struct kobj *
sim_kube_obj_make(struct kres *res, char *json, size_t len, uint64_t rv, const struct kindex *ix)
{
	size_t need = 0;
	struct kobj *o;
	struct strpool sp;

	for (int i = 0; i < ix->nlabels * 2; i++)
		need += strlen(ix->labels[i]) + 1;
	for (int i = 0; i < res->nfields; i++)
		need += strlen(ix->fields[i] != NULL ? ix->fields[i] : "") + 1;
	need += strlen(ix->ns) + strlen(ix->name) + strlen(ix->uid) + strlen(ix->owner_uid)
	    + strlen(ix->owner_name) + 5;
	o = calloc(1, sizeof *o + (size_t)ix->nlabels * 2 * sizeof(char *) + need);
	if (o == NULL)
		return NULL;
	atomic_init(&o->refs, 1);
	o->res = res;
	o->rv = rv;
	o->json = json;
	o->len = len;
	o->labels = (const char **)(o + 1);
	sp.p = (char *)(o->labels + ix->nlabels * 2);
	sp.left = need;
	o->ns = pool_dup(&sp, res->namespaced ? ix->ns : "");
	o->name = pool_dup(&sp, ix->name);
	o->uid = pool_dup(&sp, ix->uid);
	o->owner_uid = pool_dup(&sp, ix->owner_uid);
	o->owner_name = pool_dup(&sp, ix->owner_name);
	for (int i = 0; i < ix->nlabels * 2; i++)
		o->labels[i] = pool_dup(&sp, ix->labels[i]);
	o->nlabels = ix->nlabels;
	for (int i = 0; i < res->nfields; i++)
		o->fields[i] = pool_dup(&sp, ix->fields[i] != NULL ? ix->fields[i] : "");
	o->ip = ix->ip;
	o->ready = ix->ready;
	o->deleting = ix->deleting;
	return o;
}

/* Indexes TREE (the parsed JSON) into an object. */
static struct kobj *
obj_build(struct kres *res, const cJSON *tree, char *json, size_t len, uint64_t rv)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(tree, "metadata");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(md, "labels");
	const cJSON *owner = NULL, *it, *dt;
	char fbuf[KRES_MAX_FIELDS][32];
	const char **lv;
	struct kindex ix;
	struct kobj *o;
	int nl = 0;

	memset(&ix, 0, sizeof ix);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(md, "ownerReferences")) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "controller"))) {
			owner = it;
			break;
		}
	}
	cJSON_ArrayForEach(it, labels)
		nl += cJSON_IsString(it);
	lv = malloc((size_t)(nl * 2 + 1) * sizeof *lv);
	if (lv == NULL)
		return NULL;
	cJSON_ArrayForEach(it, labels) {
		if (cJSON_IsString(it)) {
			lv[ix.nlabels * 2] = it->string;
			lv[ix.nlabels * 2 + 1] = it->valuestring;
			ix.nlabels++;
		}
	}
	ix.labels = lv;
	for (int i = 0; i < res->nfields; i++)
		ix.fields[i] = field_value(tree, res->fields[i], fbuf[i], sizeof fbuf[i]);
	ix.ns = str_or_empty(cJSON_GetObjectItemCaseSensitive(md, "namespace"));
	ix.name = str_or_empty(cJSON_GetObjectItemCaseSensitive(md, "name"));
	ix.uid = str_or_empty(cJSON_GetObjectItemCaseSensitive(md, "uid"));
	ix.owner_uid = str_or_empty(cJSON_GetObjectItemCaseSensitive(owner, "uid"));
	ix.owner_name = str_or_empty(cJSON_GetObjectItemCaseSensitive(owner, "name"));
	dt = cJSON_GetObjectItemCaseSensitive(md, "deletionTimestamp");
	ix.deleting = dt != NULL && !cJSON_IsNull(dt);
	if (res->kk == K_POD) {
		struct in_addr a;
		const char *ip = sim_kube_jstr(sim_kube_jpath(tree, "status"), "podIP");

		if (inet_pton(AF_INET, ip, &a) == 1)
			ix.ip = ntohl(a.s_addr);
		ix.ready = cond_true(tree, "Ready");
	} else if (res->kk == K_NODE) {
		ix.ready = cond_true(tree, "Ready");
	} else if (res->kk == K_DEPLOYMENT) {
		const cJSON *r = sim_kube_jpath(tree, "status.readyReplicas");
		ix.ready = cJSON_IsNumber(r) ? r->valueint : 0;
	}
	o = sim_kube_obj_make(res, json, len, rv, &ix);
	free(lv);
	return o;
}

struct kobj *
sim_kube_obj_new(struct kres *res, const cJSON *tree)
{
	char *json = cJSON_PrintUnformatted(tree);
	const char *rvs;
	struct kobj *o;

	if (json == NULL)
		return NULL;
	rvs = sim_kube_jstr(sim_kube_jpath(tree, "metadata"), "resourceVersion");
	o = obj_build(res, tree, json, strlen(json), strtoull(rvs, NULL, 10));
	if (o == NULL)
		free(json);
	return o;
}

void
sim_kube_obj_ref(struct kobj *o)
{
	if (o != NULL)
		atomic_fetch_add(&o->refs, 1);
}

void
sim_kube_obj_unref(struct kobj *o)
{
	if (o != NULL && atomic_fetch_sub(&o->refs, 1) == 1) {
		free(o->json);
		free(o);
	}
}

cJSON *
sim_kube_obj_parse(const struct kobj *o)
{
	return cJSON_ParseWithLength(o->json, o->len);
}

const char *
sim_kube_obj_label(const struct kobj *o, const char *key)
{
	for (int i = 0; i < o->nlabels; i++)
		if (strcmp(o->labels[i * 2], key) == 0)
			return o->labels[i * 2 + 1];
	return NULL;
}

/* ---- stores ------------------------------------------------------------------ */

static int
key_cmp(const char *ns1, const char *n1, const char *ns2, const char *n2)
{
	int d = strcmp(ns1, ns2);

	return d != 0 ? d : strcmp(n1, n2);
}

size_t
sim_kube_store_lower(const struct kstore *st, const char *ns, const char *name)
{
	size_t lo = 0, hi = st->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (key_cmp(st->v[mid]->ns, st->v[mid]->name, ns, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct kobj *
sim_kube_store_get(const struct kstore *st, const char *ns, const char *name)
{
	size_t i = sim_kube_store_lower(st, ns, name);

	if (i < st->n && strcmp(st->v[i]->ns, ns) == 0 && strcmp(st->v[i]->name, name) == 0)
		return st->v[i];
	return NULL;
}

/* Puts O (taking the caller's reference) in place of the object with the
 * same key; returns the one it replaced (its reference passes to the
 * caller), or NULL. */
static struct kobj *
store_put(struct kstore *st, struct kobj *o, int *err)
{
	size_t i = sim_kube_store_lower(st, o->ns, o->name);
	struct kobj *old;

	*err = 0;
	if (i < st->n && strcmp(st->v[i]->ns, o->ns) == 0 && strcmp(st->v[i]->name, o->name) == 0) {
		old = st->v[i];
		st->v[i] = o;
		return old;
	}
	if (st->n == st->cap) {
		size_t ncap = st->cap != 0 ? st->cap * 2 : 64;
		struct kobj **nv = realloc(st->v, ncap * sizeof *nv);
		if (nv == NULL) {
			*err = 1;
			return NULL;
		}
		st->v = nv;
		st->cap = ncap;
	}
	memmove(st->v + i + 1, st->v + i, (st->n - i) * sizeof *st->v);
	st->v[i] = o;
	st->n++;
	return NULL;
}

static struct kobj *
store_remove(struct kstore *st, const char *ns, const char *name)
{
	size_t i = sim_kube_store_lower(st, ns, name);
	struct kobj *old;

	if (i >= st->n || strcmp(st->v[i]->ns, ns) != 0 || strcmp(st->v[i]->name, name) != 0)
		return NULL;
	old = st->v[i];
	memmove(st->v + i, st->v + i + 1, (st->n - i - 1) * sizeof *st->v);
	st->n--;
	return old;
}

void
sim_kube_store_clear(struct kstore *st)
{
	for (size_t i = 0; i < st->n; i++)
		sim_kube_obj_unref(st->v[i]);
	free(st->v);
	memset(st, 0, sizeof *st);
}

int
sim_kube_store_put_quiet(struct kres *res, struct kobj *o)
{
	int err;
	struct kobj *old = store_put(&res->store, o, &err);

	if (err) {
		sim_kube_obj_unref(o);
		return -1;
	}
	sim_kube_obj_unref(old);
	return 0;
}

/* ---- the event ring ---------------------------------------------------------- */

const struct kevent *
sim_kube_ring_at(const struct kcluster *c, size_t i)
{
	return &c->ring[(c->ring_head + i) % c->ring_cap];
}

size_t
sim_kube_ring_after(const struct kcluster *c, uint64_t rv)
{
	size_t lo = 0, hi = c->ring_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sim_kube_ring_at(c, mid)->rv <= rv)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
ring_drop_oldest(struct kcluster *c)
{
	struct kevent *e = &c->ring[c->ring_head];

	c->floor = e->rv;
	sim_kube_obj_unref(e->obj);
	sim_kube_obj_unref(e->prev);
	memset(e, 0, sizeof *e);
	c->ring_head = (c->ring_head + 1) % c->ring_cap;
	c->ring_n--;
}

static void
ring_push(struct kcluster *c, enum kev type, struct kobj *obj, struct kobj *prev)
{
	struct kevent *e;

	if (c->ring_cap == 0)
		return;
	if (c->ring_n == c->ring_cap)
		ring_drop_oldest(c);
	e = &c->ring[(c->ring_head + c->ring_n) % c->ring_cap];
	e->rv = obj->rv;
	e->type = type;
	e->obj = obj;
	e->prev = prev;
	sim_kube_obj_ref(obj);
	sim_kube_obj_ref(prev);
	c->ring_n++;
}

void
sim_kube_ring_clear(struct kcluster *c)
{
	while (c->ring_n > 0)
		ring_drop_oldest(c);
	c->floor = c->rv;
}

/* ---- commit ------------------------------------------------------------------- */

struct kobj *
sim_kube_commit(struct kcluster *c, struct kres *res, cJSON *tree, enum kev type)
{
	cJSON *md = sim_kube_jobj(tree, "metadata");
	char rvs[24];
	struct kobj *o, *old;
	int err;

	if (md == NULL)
		return NULL;
	snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)(c->rv + 1));
	if (cJSON_GetObjectItemCaseSensitive(md, "resourceVersion") != NULL) {
		sim_kube_jset_str(md, "resourceVersion", rvs);	/* keeps its place */
	} else {
		sim_kube_jset_str(md, "resourceVersion", rvs);
		sim_kube_normalize(tree);
	}
	o = sim_kube_obj_new(res, tree);
	if (o == NULL)
		return NULL;
	c->rv++;
	if (type == KE_DELETED) {
		old = store_remove(&res->store, o->ns, o->name);
		ring_push(c, KE_DELETED, o, old);
		sim_kube_ctrl_changed(c, res, old, o, KE_DELETED);
		sim_kube_obj_unref(old);
		/* only the ring keeps the final state now, for watches */
		sim_kube_obj_unref(o);
	} else {
		old = store_put(&res->store, o, &err);
		if (err) {
			sim_kube_obj_unref(o);
			c->rv--;
			return NULL;
		}
		ring_push(c, old != NULL ? KE_MODIFIED : KE_ADDED, o, old);
		sim_kube_ctrl_changed(c, res, old, o, old != NULL ? KE_MODIFIED : KE_ADDED);
		sim_kube_obj_unref(old);
	}
	pthread_cond_broadcast(&sim_world.changed);
	return o;
}

/* ---- selectors --------------------------------------------------------------- */

void
sim_kube_sel_free(struct ksel *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->r[i].key);
		for (int j = 0; j < s->r[i].nvals; j++)
			free(s->r[i].vals[j]);
		free(s->r[i].vals);
	}
	free(s->r);
	s->r = NULL;
	s->n = 0;
}

static struct ksel_req *
sel_add(struct ksel *s, enum ksel_op op, const char *key, size_t keylen)
{
	struct ksel_req *nr = realloc(s->r, (size_t)(s->n + 1) * sizeof *nr);

	if (nr == NULL)
		return NULL;
	s->r = nr;
	memset(&nr[s->n], 0, sizeof nr[0]);
	nr[s->n].op = op;
	nr[s->n].key = strndup(key, keylen);
	if (nr[s->n].key == NULL)
		return NULL;
	return &nr[s->n++];
}

static int
sel_add_val(struct ksel_req *r, const char *v, size_t n)
{
	char **nv = realloc(r->vals, (size_t)(r->nvals + 1) * sizeof *nv);

	if (nv == NULL)
		return -1;
	r->vals = nv;
	nv[r->nvals] = strndup(v, n);
	if (nv[r->nvals] == NULL)
		return -1;
	r->nvals++;
	return 0;
}

static int
is_key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
	    || ch == '.' || ch == '-' || ch == '_' || ch == '/';
}

static int
is_val_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
	    || ch == '.' || ch == '-' || ch == '_';
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* The label selector grammar of k8s.io/apimachinery/pkg/labels:
 *   key, !key, key=v, key==v, key!=v, key in (a,b), key notin (a,b)
 * joined by commas. */
int
sim_kube_sel_parse(struct ksel *s, const char *text, char *err, size_t errlen)
{
	const char *p = text;

	memset(s, 0, sizeof *s);
	if (text == NULL)
		return 0;
	p = skip_ws(p);
	if (*p == '\0')
		return 0;
	for (;;) {
		const char *k, *ke;
		int neg = 0;
		struct ksel_req *r;

		p = skip_ws(p);
		if (*p == '!') {
			neg = 1;
			p = skip_ws(p + 1);
		}
		k = p;
		while (is_key_char(*p))
			p++;
		ke = p;
		if (ke == k) {
			snprintf(err, errlen, "unable to parse requirement: found '%.20s', expected: identifier", p);
			goto fail;
		}
		p = skip_ws(p);
		if (neg) {
			if (sel_add(s, KS_NOTEXISTS, k, (size_t)(ke - k)) == NULL)
				goto oom;
		} else if (*p == ',' || *p == '\0') {
			if (sel_add(s, KS_EXISTS, k, (size_t)(ke - k)) == NULL)
				goto oom;
		} else if (*p == '=' || (p[0] == '!' && p[1] == '=')) {
			enum ksel_op op = *p == '!' ? KS_NE : KS_EQ;
			const char *v;

			p += *p == '!' ? 2 : (p[1] == '=' ? 2 : 1);
			p = skip_ws(p);
			v = p;
			while (is_val_char(*p))
				p++;
			if ((r = sel_add(s, op, k, (size_t)(ke - k))) == NULL
			    || sel_add_val(r, v, (size_t)(p - v)) != 0)
				goto oom;
			p = skip_ws(p);
		} else if (strncmp(p, "in", 2) == 0 || strncmp(p, "notin", 5) == 0) {
			enum ksel_op op = p[0] == 'i' ? KS_IN : KS_NOTIN;

			p = skip_ws(p + (op == KS_IN ? 2 : 5));
			if (*p != '(') {
				snprintf(err, errlen, "unable to parse requirement: found '%.20s', expected: '('", p);
				goto fail;
			}
			if ((r = sel_add(s, op, k, (size_t)(ke - k))) == NULL)
				goto oom;
			p++;
			for (;;) {
				const char *v;

				p = skip_ws(p);
				v = p;
				while (is_val_char(*p))
					p++;
				if (sel_add_val(r, v, (size_t)(p - v)) != 0)
					goto oom;
				p = skip_ws(p);
				if (*p == ',') {
					p++;
					continue;
				}
				if (*p == ')') {
					p++;
					break;
				}
				snprintf(err, errlen, "unable to parse requirement: found '%.20s', expected: ',', ')' or identifier", p);
				goto fail;
			}
			p = skip_ws(p);
		} else {
			snprintf(err, errlen, "unable to parse requirement: found '%.20s', expected: in, notin, =, ==, !=", p);
			goto fail;
		}
		if (*p == '\0')
			return 0;
		if (*p != ',') {
			snprintf(err, errlen, "unable to parse requirement: found '%.20s', expected: ','", p);
			goto fail;
		}
		p++;
	}
oom:
	snprintf(err, errlen, "out of memory");
fail:
	sim_kube_sel_free(s);
	return -1;
}

static int
field_supported(const struct kres *res, const char *key)
{
	if (strcmp(key, "metadata.name") == 0 || strcmp(key, "metadata.namespace") == 0)
		return 1;
	for (int i = 0; i < res->nfields; i++)
		if (strcmp(res->fields[i], key) == 0)
			return 1;
	return 0;
}

int
sim_kube_fsel_parse(struct ksel *s, const struct kres *res, const char *text, char *err,
    size_t errlen)
{
	const char *p = text;

	memset(s, 0, sizeof *s);
	if (text == NULL || *skip_ws(text) == '\0')
		return 0;
	while (*p != '\0') {
		const char *end = strchr(p, ','), *op;
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		char item[600];
		struct ksel_req *r;
		enum ksel_op kop;
		size_t klen;
		const char *v;

		if (n >= sizeof item) {
			snprintf(err, errlen, "invalid selector: '%.40s...' is too long", p);
			goto fail;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if ((op = strstr(item, "!=")) != NULL) {
			kop = KS_NE;
			klen = (size_t)(op - item);
			v = op + 2;
		} else if ((op = strstr(item, "==")) != NULL) {
			kop = KS_EQ;
			klen = (size_t)(op - item);
			v = op + 2;
		} else if ((op = strchr(item, '=')) != NULL) {
			kop = KS_EQ;
			klen = (size_t)(op - item);
			v = op + 1;
		} else {
			snprintf(err, errlen, "invalid selector: '%s'; can't understand '%s'", text, item);
			goto fail;
		}
		while (klen > 0 && item[klen - 1] == ' ')
			klen--;
		item[klen] = '\0';
		{
			char *key = item;
			while (*key == ' ')
				key++;
			if (!field_supported(res, key)) {
				if (res->kk == K_GENERIC && !res->builtin)
					snprintf(err, errlen, "\"%s\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"", key);
				else
					snprintf(err, errlen, "field label not supported: %s", key);
				goto fail;
			}
			if ((r = sel_add(s, kop, key, strlen(key))) == NULL)
				goto oom;
		}
		v = skip_ws(v);
		if (sel_add_val(r, v, strlen(v)) != 0)
			goto oom;
		/* trailing blanks of the value */
		while (r->vals[0][0] != '\0' && r->vals[0][strlen(r->vals[0]) - 1] == ' ')
			r->vals[0][strlen(r->vals[0]) - 1] = '\0';
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	sim_kube_sel_free(s);
	return -1;
}

int
sim_kube_sel_match(const struct ksel *s, const struct kobj *o)
{
	for (int i = 0; i < s->n; i++) {
		const struct ksel_req *r = &s->r[i];
		const char *v = sim_kube_obj_label(o, r->key);
		int in = 0;

		switch (r->op) {
		case KS_EXISTS:
			if (v == NULL)
				return 0;
			break;
		case KS_NOTEXISTS:
			if (v != NULL)
				return 0;
			break;
		case KS_EQ:
			if (v == NULL || strcmp(v, r->vals[0]) != 0)
				return 0;
			break;
		case KS_NE:
			if (v != NULL && strcmp(v, r->vals[0]) == 0)
				return 0;
			break;
		case KS_IN:
		case KS_NOTIN:
			for (int j = 0; v != NULL && j < r->nvals; j++)
				if (strcmp(v, r->vals[j]) == 0)
					in = 1;
			if ((r->op == KS_IN) != in)
				return 0;
			break;
		}
	}
	return 1;
}

static const char *
obj_field(const struct kobj *o, const char *key)
{
	if (strcmp(key, "metadata.name") == 0)
		return o->name;
	if (strcmp(key, "metadata.namespace") == 0)
		return o->ns;
	for (int i = 0; i < o->res->nfields; i++)
		if (strcmp(o->res->fields[i], key) == 0)
			return o->fields[i];
	return "";
}

int
sim_kube_fsel_match(const struct ksel *s, const struct kobj *o)
{
	for (int i = 0; i < s->n; i++) {
		const char *v = obj_field(o, s->r[i].key);
		int eq = strcmp(v, s->r[i].vals[0]) == 0;

		if ((s->r[i].op == KS_EQ) != eq)
			return 0;
	}
	return 1;
}

int
sim_kube_sel_from_json(struct ksel *s, const cJSON *sel)
{
	const cJSON *it, *v;

	memset(s, 0, sizeof *s);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sel, "matchLabels")) {
		struct ksel_req *r;

		if (!cJSON_IsString(it))
			continue;
		if ((r = sel_add(s, KS_EQ, it->string, strlen(it->string))) == NULL
		    || sel_add_val(r, it->valuestring, strlen(it->valuestring)) != 0)
			goto fail;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions")) {
		const char *key = sim_kube_jstr(it, "key"), *op = sim_kube_jstr(it, "operator");
		enum ksel_op kop;
		struct ksel_req *r;

		if (strcmp(op, "In") == 0)
			kop = KS_IN;
		else if (strcmp(op, "NotIn") == 0)
			kop = KS_NOTIN;
		else if (strcmp(op, "Exists") == 0)
			kop = KS_EXISTS;
		else if (strcmp(op, "DoesNotExist") == 0)
			kop = KS_NOTEXISTS;
		else
			goto fail;
		if ((r = sel_add(s, kop, key, strlen(key))) == NULL)
			goto fail;
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(it, "values")) {
			if (cJSON_IsString(v) && sel_add_val(r, v->valuestring, strlen(v->valuestring)) != 0)
				goto fail;
		}
	}
	return 0;
fail:
	sim_kube_sel_free(s);
	return -1;
}
