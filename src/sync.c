/*
 * sync.c — T2's `copy` mode and the parity report after it (sync.h).
 *
 * Copying runs in two passes so that progress can say N of M: first every
 * object is read from blue (whole objects, so collections are read with
 * kube_get page by page rather than through the streaming decoder, which
 * keeps only summaries) and cleaned into the manifest we would have written
 * by hand; then each manifest is applied to green with server-side apply,
 * field manager "bgswitch", force=true (green is ours to shape: a field some
 * other manager set there is taken over, which is what a copy means).
 * The order is CRDs first (objects of a custom kind cannot exist before it),
 * then per namespace the Namespace itself and its objects in the kind
 * table's order (ServiceAccounts and Secrets before the workloads that
 * mount them).  A failure is recorded and the rest still applied: the
 * operator gets every problem at once instead of one per run.
 *
 * Cleaning keeps what a person states about an object and drops what a
 * cluster decides; each rule below says why.  The parity report compares
 * what decides whether green serves the same thing: namespaces, workloads,
 * their images and replica counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/log.h"
#include "src/sync.h"

#define MOD "sync"
#define PAGE "500"

/* ---- the kind table ---------------------------------------------------------
 * Its order is the apply order within a namespace: identities and
 * configuration before the workloads that reference them, workloads before
 * what scales, guards or routes to them. */

struct sync_kind {
	const char *kind;
	const char *api_version;
	const char *prefix;		/* "/api/v1" or "/apis/GROUP/VERSION" */
	const char *plural;
	bool namespaced;
};

static const struct sync_kind kinds_table[] = {
	{ "CustomResourceDefinition", "apiextensions.k8s.io/v1", "/apis/apiextensions.k8s.io/v1",
	  "customresourcedefinitions", false },
	{ "ServiceAccount", "v1", "/api/v1", "serviceaccounts", true },
	{ "Secret", "v1", "/api/v1", "secrets", true },
	{ "ConfigMap", "v1", "/api/v1", "configmaps", true },
	{ "Role", "rbac.authorization.k8s.io/v1", "/apis/rbac.authorization.k8s.io/v1", "roles", true },
	{ "RoleBinding", "rbac.authorization.k8s.io/v1", "/apis/rbac.authorization.k8s.io/v1",
	  "rolebindings", true },
	{ "Service", "v1", "/api/v1", "services", true },
	{ "NetworkPolicy", "networking.k8s.io/v1", "/apis/networking.k8s.io/v1", "networkpolicies", true },
	{ "Deployment", "apps/v1", "/apis/apps/v1", "deployments", true },
	{ "StatefulSet", "apps/v1", "/apis/apps/v1", "statefulsets", true },
	{ "DaemonSet", "apps/v1", "/apis/apps/v1", "daemonsets", true },
	{ "HorizontalPodAutoscaler", "autoscaling/v2", "/apis/autoscaling/v2",
	  "horizontalpodautoscalers", true },
	{ "PodDisruptionBudget", "policy/v1", "/apis/policy/v1", "poddisruptionbudgets", true },
	{ "Ingress", "networking.k8s.io/v1", "/apis/networking.k8s.io/v1", "ingresses", true },
};
#define NKINDS (sizeof kinds_table / sizeof kinds_table[0])

static const struct sync_kind ns_kind = { "Namespace", "v1", "/api/v1", "namespaces", false };

static const struct sync_kind *
kind_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < NKINDS; i++)
		if (strcasecmp(kinds_table[i].kind, name) == 0)
			return &kinds_table[i];
	if (strcasecmp(name, "Namespace") == 0)
		return &ns_kind;
	return NULL;
}

int
sync_kinds_check(char *const *kinds, char *err, size_t errlen)
{
	size_t off;

	for (size_t i = 0; kinds != NULL && kinds[i] != NULL; i++) {
		const struct sync_kind *k = kind_find(kinds[i]);

		if (k != NULL && k != &ns_kind)
			continue;
		off = (size_t)snprintf(err, errlen, "sync.kinds: unknown kind \"%s\"%s; known: ",
		    kinds[i], k == &ns_kind ? " (namespaces are copied with their objects)" : "");
		for (size_t j = 0; j < NKINDS && off < errlen; j++)
			off += (size_t)snprintf(err + off, errlen - off, "%s%s", j > 0 ? ", " : "",
			    kinds_table[j].kind);
		return -1;
	}
	return 0;
}

static int
collection_path(const struct sync_kind *k, const char *ns, char *buf, size_t n)
{
	int w;

	if (k->namespaced && (ns == NULL || ns[0] == '\0'))
		return -1;
	if (k->namespaced)
		w = snprintf(buf, n, "%s/namespaces/%s/%s", k->prefix, ns, k->plural);
	else
		w = snprintf(buf, n, "%s/%s", k->prefix, k->plural);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

int
sync_kind_path(const char *kind, const char *ns, char *buf, size_t buflen)
{
	const struct sync_kind *k = kind_find(kind);

	return k == NULL ? -1 : collection_path(k, ns, buf, buflen);
}

/* ---- small cJSON helpers ------------------------------------------------------ */

static const cJSON *
jget(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = jget(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static void
jdel(cJSON *o, const char *key)
{
	if (cJSON_IsObject(o))
		cJSON_DeleteItemFromObjectCaseSensitive(o, key);
}

/* ---- cleaning ------------------------------------------------------------------ */

/* Annotations that record blue's history or blue's resources, not intent. */
static const char *const drop_annotations[] = {
	/* kubectl's client-side apply record: on green, SSA's managedFields
	 * are the record, and a stale copy would make a later `kubectl apply`
	 * compute deletions against blue's history. */
	"kubectl.kubernetes.io/last-applied-configuration",
	/* the deployment controller's rollout counter on blue; green's
	 * controller starts its own at 1. */
	"deployment.kubernetes.io/revision",
	/* blue's load balancer addresses: copying them would make green's
	 * cloud provider ask for addresses blue holds (green's own address is
	 * the config's green_target, set up with the cluster). */
	"service.beta.kubernetes.io/azure-load-balancer-ipv4",
	"service.beta.kubernetes.io/azure-load-balancer-ipv6",
	/* the token controller's link to a ServiceAccount uid on blue. */
	"kubernetes.io/service-account.uid",
	NULL,
};

/* Labels a server sets itself. */
static const char *const drop_labels[] = {
	"kubernetes.io/metadata.name",	/* set on every Namespace, immutable */
	NULL,
};

static bool
in_list(const char *const *l, const char *s)
{
	for (; *l != NULL; l++)
		if (strcmp(*l, s) == 0)
			return true;
	return false;
}

/* A copy of map M (labels or annotations) without the keys in DROP; NULL
 * when nothing is left. */
static cJSON *
filtered_map(const cJSON *m, const char *const *drop)
{
	cJSON *out = NULL;
	const cJSON *e, *map = cJSON_IsObject(m) ? m : NULL;

	cJSON_ArrayForEach(e, map) {
		if (!cJSON_IsString(e) || in_list(drop, e->string))
			continue;
		if (out == NULL && (out = cJSON_CreateObject()) == NULL)
			return NULL;
		cJSON_AddStringToObject(out, e->string, e->valuestring);
	}
	return out;
}

/* Whether MD carries labels or annotations worth copying. */
static bool
has_own_metadata(const cJSON *md)
{
	cJSON *l = filtered_map(jget(md, "labels"), drop_labels);
	cJSON *a = filtered_map(jget(md, "annotations"), drop_annotations);
	bool has = l != NULL || a != NULL;

	cJSON_Delete(l);
	cJSON_Delete(a);
	return has;
}

static bool
has_controller_owner(const cJSON *md)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, jget(md, "ownerReferences"))
		if (cJSON_IsTrue(jget(r, "controller")))
			return true;
	return false;
}

/* Why OBJ (of kind K) stays on blue, or NULL when it is copied. */
static const char *
skip_reason(const struct sync_kind *k, const cJSON *obj)
{
	const cJSON *md = jget(obj, "metadata");
	const char *name = jstr(md, "name"), *type;

	if (name[0] == '\0')
		return "no name";
	if (jget(md, "deletionTimestamp") != NULL && !cJSON_IsNull(jget(md, "deletionTimestamp")))
		return "being deleted on blue";
	/* Its controller (a Deployment's ReplicaSets and Pods, an operator's
	 * children) recreates it on green from the copied parent. */
	if (has_controller_owner(md))
		return "owned by a controller";
	if (strcmp(k->kind, "ConfigMap") == 0 && strcmp(name, "kube-root-ca.crt") == 0)
		return "published by green's own root CA publisher";
	if (strcmp(k->kind, "Secret") == 0) {
		type = jstr(obj, "type");
		/* Tokens are signed by blue's service account key, which green
		 * does not trust; green's token controller mints its own. */
		if (strcmp(type, "kubernetes.io/service-account-token") == 0)
			return "a service account token";
		if (strcmp(type, "bootstrap.kubernetes.io/token") == 0)
			return "a node bootstrap token";
	}
	/* The namespace controller creates `default` on green; it is copied
	 * only when it carries something of ours (pull secrets, labels),
	 * and then merged by SSA, not replaced. */
	if (strcmp(k->kind, "ServiceAccount") == 0 && strcmp(name, "default") == 0
	    && jget(obj, "imagePullSecrets") == NULL && jget(obj, "automountServiceAccountToken") == NULL
	    && !has_own_metadata(md))
		return "green's own default service account";
	if (strcmp(k->kind, "Service") == 0 && strcmp(name, "kubernetes") == 0
	    && strcmp(jstr(md, "namespace"), "default") == 0)
		return "the API server's own service";
	/* AKS add-ons install their CRDs on every cluster themselves. */
	if (strcmp(k->kind, "CustomResourceDefinition") == 0) {
		const cJSON *l = jget(md, "labels");

		if (jget(l, "addonmanager.kubernetes.io/mode") != NULL
		    || strcmp(jstr(l, "kubernetes.azure.com/managedby"), "aks") == 0)
			return "managed by AKS";
	}
	return NULL;
}

static void
clean_service(cJSON *spec)
{
	/* Cluster IPs are allocated from green's service range; blue's may
	 * lie outside it or belong to another service there.  "None"
	 * (headless) is a choice, not an allocation, and is kept. */
	if (strcmp(jstr(spec, "clusterIP"), "None") != 0) {
		jdel(spec, "clusterIP");
		jdel(spec, "clusterIPs");
	}
	/* Defaulted from green's network configuration. */
	jdel(spec, "ipFamilies");
	/* Allocated for externalTrafficPolicy Local; green's load balancer
	 * is configured from green's own allocation. */
	jdel(spec, "healthCheckNodePort");
	/* Blue's address (see drop_annotations). */
	jdel(spec, "loadBalancerIP");
	/* nodePorts are kept: a fresh green has them free, and one pinned on
	 * purpose (an external balancer pointing at it) keeps working.  A
	 * collision is reported as that object's failure. */
}

/* Everything under metadata but the names, labels and annotations is
 * blue's: uid, resourceVersion, generation, creationTimestamp, selfLink
 * and managedFields are the server's; ownerReferences name blue's uids
 * (green's garbage collector would delete an object whose owner it cannot
 * find); finalizers belong to blue's controllers (green's add their own,
 * and one without a controller leaves the object undeletable);
 * generateName has done its work (the name is what it generated). */
static cJSON *
clean_metadata(const struct sync_kind *k, const cJSON *md)
{
	cJSON *out = cJSON_CreateObject(), *m;

	if (out == NULL)
		return NULL;
	cJSON_AddStringToObject(out, "name", jstr(md, "name"));
	if (k->namespaced)
		cJSON_AddStringToObject(out, "namespace", jstr(md, "namespace"));
	if ((m = filtered_map(jget(md, "labels"), drop_labels)) != NULL)
		cJSON_AddItemToObject(out, "labels", m);
	if ((m = filtered_map(jget(md, "annotations"), drop_annotations)) != NULL)
		cJSON_AddItemToObject(out, "annotations", m);
	return out;
}

static cJSON *
clean(const struct sync_kind *k, const cJSON *obj, const char **why)
{
	const cJSON *e;
	cJSON *out, *spec;

	*why = skip_reason(k, obj);
	if (*why != NULL)
		return NULL;
	if ((out = cJSON_CreateObject()) == NULL)
		return NULL;
	/* Items of a list come without apiVersion and kind. */
	cJSON_AddStringToObject(out, "apiVersion", k->api_version);
	cJSON_AddStringToObject(out, "kind", k->kind);
	cJSON_AddItemToObject(out, "metadata", clean_metadata(k, jget(obj, "metadata")));
	cJSON_ArrayForEach(e, obj) {
		/* status is what blue's controllers observed. */
		if (strcmp(e->string, "apiVersion") == 0 || strcmp(e->string, "kind") == 0
		    || strcmp(e->string, "metadata") == 0 || strcmp(e->string, "status") == 0)
			continue;
		/* A Namespace's spec holds only the "kubernetes" finalizer,
		 * which green's API server adds itself. */
		if (k == &ns_kind && strcmp(e->string, "spec") == 0)
			continue;
		/* A ServiceAccount's secrets list names blue's token secrets,
		 * which are not copied. */
		if (strcmp(k->kind, "ServiceAccount") == 0 && strcmp(e->string, "secrets") == 0)
			continue;
		cJSON_AddItemToObject(out, e->string, cJSON_Duplicate(e, 1));
	}
	spec = cJSON_GetObjectItemCaseSensitive(out, "spec");
	if (strcmp(k->kind, "Service") == 0)
		clean_service(spec);
	/* Go writes a template's zero creationTimestamp as null: noise. */
	if (cJSON_IsNull(jget(jget(jget(spec, "template"), "metadata"), "creationTimestamp")))
		jdel(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "template"),
		    "metadata"), "creationTimestamp");
	/* A StatefulSet's claim templates carry a status of their own. */
	cJSON_ArrayForEach(e, jget(spec, "volumeClaimTemplates"))
		jdel((cJSON *)e, "status");
	return out;
}

cJSON *
sync_clean(const char *kind, const cJSON *obj, const char **why_skipped)
{
	const struct sync_kind *k = kind_find(kind);
	const char *why = NULL;
	cJSON *out;

	if (k == NULL) {
		why = "unknown kind";
		out = NULL;
	} else {
		out = clean(k, obj, &why);
	}
	if (why_skipped != NULL)
		*why_skipped = why;
	return out;
}

/* ---- reading blue ---------------------------------------------------------------- */

/* All items of collection PATH into *ITEMS (a cJSON array), page by page.
 * A 404 (a kind the server does not serve) gives an empty array and
 * *NOT_SERVED.  Returns 0, or -1 with CALL filled. */
static int
list_items(struct kube_client *c, const char *path, long timeout_ms, cJSON **items,
    bool *not_served, struct kube_call *call)
{
	char url[1024], cont[4096] = "";
	cJSON *all = cJSON_CreateArray();

	*items = NULL;
	if (not_served != NULL)
		*not_served = false;
	if (all == NULL)
		return -1;
	for (;;) {
		cJSON *page = NULL, *arr, *it;

		snprintf(url, sizeof url, "%s", path);
		if (kube_path_add_query(url, sizeof url, "limit", PAGE) != 0
		    || (cont[0] != '\0' && kube_path_add_query(url, sizeof url, "continue", cont) != 0)) {
			memset(call, 0, sizeof *call);
			call->err = KUBE_E_OTHER;
			snprintf(call->error, sizeof call->error, "GET %s: path too long", path);
			cJSON_Delete(all);
			return -1;
		}
		memset(call, 0, sizeof *call);
		call->timeout_ms = timeout_ms;
		if (kube_get(c, url, &page, call) != 0) {
			if (call->err == KUBE_E_NOT_FOUND && not_served != NULL) {
				*not_served = true;
				*items = all;
				return 0;
			}
			cJSON_Delete(all);
			return -1;
		}
		arr = cJSON_GetObjectItemCaseSensitive(page, "items");
		while (cJSON_IsArray(arr) && (it = cJSON_DetachItemFromArray(arr, 0)) != NULL)
			cJSON_AddItemToArray(all, it);
		snprintf(cont, sizeof cont, "%s", jstr(jget(page, "metadata"), "continue"));
		cJSON_Delete(page);
		if (cont[0] == '\0')
			break;
	}
	*items = all;
	return 0;
}

/* ---- the copy -------------------------------------------------------------------- */

struct item {
	const struct sync_kind *k;
	char what[400];		/* "Deployment shop/cart" */
	char path[600];		/* the object's API path */
	cJSON *obj;
};

struct plan {
	struct item *v;
	size_t n, cap;
};

static int
plan_add(struct plan *p, const struct sync_kind *k, cJSON *obj)
{
	const cJSON *md = jget(obj, "metadata");
	const char *ns = jstr(md, "namespace"), *name = jstr(md, "name");
	struct item *it;
	char coll[512];

	if (p->n == p->cap) {
		size_t cap = p->cap != 0 ? p->cap * 2 : 64;
		struct item *v = realloc(p->v, cap * sizeof *v);

		if (v == NULL)
			return -1;
		p->v = v;
		p->cap = cap;
	}
	if (collection_path(k, ns, coll, sizeof coll) != 0)
		return -1;
	it = &p->v[p->n++];
	it->k = k;
	it->obj = obj;
	if (k->namespaced)
		snprintf(it->what, sizeof it->what, "%s %s/%s", k->kind, ns, name);
	else
		snprintf(it->what, sizeof it->what, "%s %s", k->kind, name);
	snprintf(it->path, sizeof it->path, "%s/%s", coll, name);
	return 0;
}

static int
fail_add(struct sync_result *r, const char *object, const char *error)
{
	struct sync_failure *v = realloc(r->failures, (r->nfailures + 1) * sizeof *v);

	if (v == NULL)
		return -1;
	r->failures = v;
	snprintf(v[r->nfailures].object, sizeof v->object, "%s", object);
	snprintf(v[r->nfailures].error, sizeof v->error, "%s", error);
	r->nfailures++;
	log_warn(MOD, "%s: %s", object, error);
	return 0;
}

/* The error of a failed call on a Secret, without anything the server may
 * have quoted from the object. */
static void
secret_safe_error(const struct kube_call *call, const char *method, const char *path, char *buf,
    size_t n)
{
	int w;

	/* (The results are looked at so that a long path is cut quietly.) */
	if (call->status != 0)
		w = snprintf(buf, n, "%s %s: %ld %s", method, path, call->status,
		    call->reason[0] != '\0' ? call->reason : kube_err_str(call->err));
	else
		w = snprintf(buf, n, "%s %s: %s", method, path, kube_err_str(call->err));
	if (w < 0)
		snprintf(buf, n, "%s: failed", method);
}

static bool
kind_selected(const struct sync_kind *k, char *const *kinds)
{
	if (kinds == NULL)
		return k->namespaced;
	for (size_t i = 0; kinds[i] != NULL; i++)
		if (strcasecmp(kinds[i], k->kind) == 0)
			return true;
	return false;
}

/* Reads the objects of kind K at collection PATH into the plan. */
static void
collect(struct kube_client *blue, const struct sync_kind *k, const char *path, const char *ns,
    const struct sync_opts *o, struct plan *p, struct sync_result *r)
{
	struct kube_call call;
	cJSON *items = NULL, *it;
	bool not_served;
	char what[300];

	if (k->namespaced)
		snprintf(what, sizeof what, "list %s in %s", k->kind, ns);
	else
		snprintf(what, sizeof what, "list %s", k->kind);
	if (list_items(blue, path, o->timeout_ms, &items, &not_served, &call) != 0) {
		fail_add(r, what, call.error[0] != '\0' ? call.error : "out of memory");
		return;
	}
	if (not_served)
		log_info(MOD, "blue does not serve %s: nothing to copy", k->kind);
	while ((it = cJSON_DetachItemFromArray(items, 0)) != NULL) {
		const char *why = NULL;
		cJSON *c = clean(k, it, &why);

		if (c == NULL && why != NULL) {
			r->skipped++;
			log_debug(MOD, "skip %s %s/%s: %s", k->kind, ns != NULL ? ns : "",
			    jstr(jget(it, "metadata"), "name"), why);
		} else if (c == NULL || plan_add(p, k, c) != 0) {
			cJSON_Delete(c);
			fail_add(r, what, "out of memory");
		}
		cJSON_Delete(it);
	}
	cJSON_Delete(items);
}

static void
plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		cJSON_Delete(p->v[i].obj);
	free(p->v);
	memset(p, 0, sizeof *p);
}

static void
build_plan(struct kube_client *blue, const struct sync_opts *o, struct plan *p,
    struct sync_result *r)
{
	char path[512];

	/* CRDs first: objects of a custom kind need their definition. */
	if (kind_selected(&kinds_table[0], o->kinds)
	    && collection_path(&kinds_table[0], NULL, path, sizeof path) == 0)
		collect(blue, &kinds_table[0], path, NULL, o, p, r);
	for (size_t i = 0; o->namespaces[i] != NULL; i++) {
		const char *ns = o->namespaces[i];
		struct kube_call call = { .timeout_ms = o->timeout_ms };
		cJSON *nso = NULL, *c;
		const char *why;
		char what[300];

		/* The namespace before its objects, copied with its labels
		 * and annotations (policy labels such as pod security). */
		snprintf(path, sizeof path, "/api/v1/namespaces/%s", ns);
		snprintf(what, sizeof what, "Namespace %s", ns);
		if (kube_get(blue, path, &nso, &call) != 0) {
			fail_add(r, what, call.error);
			continue;
		}
		c = clean(&ns_kind, nso, &why);
		cJSON_Delete(nso);
		if (c == NULL || plan_add(p, &ns_kind, c) != 0) {
			cJSON_Delete(c);
			fail_add(r, what, why != NULL ? why : "out of memory");
			continue;
		}
		for (size_t k = 1; k < NKINDS; k++) {
			if (!kind_selected(&kinds_table[k], o->kinds)
			    || collection_path(&kinds_table[k], ns, path, sizeof path) != 0)
				continue;
			collect(blue, &kinds_table[k], path, ns, o, p, r);
		}
	}
}

static void
apply_one(struct kube_client *green, const struct sync_opts *o, struct item *it,
    struct sync_result *r)
{
	struct kube_call call = { .timeout_ms = o->timeout_ms };
	char path[700], msg[KUBE_ERROR_MAX];
	bool secret = strcmp(it->k->kind, "Secret") == 0;
	char *body;
	size_t len;
	int rc;

	snprintf(path, sizeof path, "%s", it->path);
	if (o->dry_run && kube_path_add_query(path, sizeof path, "dryRun", "All") != 0) {
		fail_add(r, it->what, "path too long");
		return;
	}
	body = cJSON_PrintUnformatted(it->obj);
	if (body == NULL) {
		fail_add(r, it->what, "out of memory");
		return;
	}
	len = strlen(body);
	rc = kube_apply(green, path, body, len, SYNC_FIELD_MANAGER, true, NULL, &call);
	/* A Secret's data must not outlive its use in freed memory either. */
	if (secret)
		memset(body, 0, len);
	free(body);
	if (rc == 0) {
		r->applied++;
		return;
	}
	if (secret) {
		secret_safe_error(&call, "PATCH", it->path, msg, sizeof msg);
		fail_add(r, it->what, msg);
	} else {
		fail_add(r, it->what, call.error);
	}
}

int
sync_copy(struct kube_client *blue, struct kube_client *green, const struct sync_opts *o,
    struct sync_result *res, char *err, size_t errlen)
{
	struct plan p = { 0 };

	memset(res, 0, sizeof *res);
	if (o == NULL || o->namespaces == NULL || o->namespaces[0] == NULL) {
		snprintf(err, errlen, "sync: no namespaces to copy");
		return -1;
	}
	if (sync_kinds_check(o->kinds, err, errlen) != 0)
		return -1;
	for (size_t i = 0; o->namespaces[i] != NULL; i++) {
		if (o->namespaces[i][0] == '\0' || strchr(o->namespaces[i], '/') != NULL
		    || strchr(o->namespaces[i], '?') != NULL) {
			snprintf(err, errlen, "sync.namespaces: \"%s\" is not a namespace name",
			    o->namespaces[i]);
			return -1;
		}
	}
	if (blue == NULL || green == NULL) {
		snprintf(err, errlen, "sync: no connection to %s", blue == NULL ? "blue" : "green");
		return -1;
	}
	build_plan(blue, o, &p, res);
	res->total = p.n;
	log_info(MOD, "copy: %zu objects to apply to green%s, %zu skipped, %zu lists failed",
	    p.n, o->dry_run ? " (dry run)" : "", res->skipped, res->nfailures);
	for (size_t i = 0; i < p.n; i++) {
		if (o->progress != NULL)
			o->progress(o->progress_ctx, i, p.n, p.v[i].what);
		apply_one(green, o, &p.v[i], res);
	}
	if (o->progress != NULL)
		o->progress(o->progress_ctx, p.n, p.n, "");
	log_info(MOD, "copy: %zu of %zu applied, %zu failed", res->applied, res->total,
	    res->nfailures);
	plan_free(&p);
	return res->nfailures == 0 ? 0 : 1;
}

void
sync_result_free(struct sync_result *res)
{
	if (res == NULL)
		return;
	free(res->failures);
	memset(res, 0, sizeof *res);
}

/* ---- parity ---------------------------------------------------------------------- */

static const struct sync_kind *const workload_kinds[] = {
	&kinds_table[8], &kinds_table[9], &kinds_table[10],	/* Deployment, StatefulSet, DaemonSet */
};

static int
diff_add(struct sync_parity *p, enum sync_diff_what w, const char *ns, const char *kind,
    const char *name, const char *container, const char *blue, const char *green)
{
	struct sync_diff *v = realloc(p->v, (p->n + 1) * sizeof *v), *d;

	if (v == NULL)
		return -1;
	p->v = v;
	d = &v[p->n++];
	memset(d, 0, sizeof *d);
	d->what = w;
	snprintf(d->ns, sizeof d->ns, "%s", ns);
	snprintf(d->kind, sizeof d->kind, "%s", kind);
	snprintf(d->name, sizeof d->name, "%s", name);
	snprintf(d->container, sizeof d->container, "%s", container);
	snprintf(d->blue, sizeof d->blue, "%s", blue);
	snprintf(d->green, sizeof d->green, "%s", green);
	return 0;
}

static const cJSON *
by_name(const cJSON *arr, const char *name)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr)
		if (strcmp(jstr(jget(e, "metadata"), "name"), name) == 0
		    || strcmp(jstr(e, "name"), name) == 0)
			return e;
	return NULL;
}

/* Compares one container list (containers or initContainers). */
static int
compare_containers(struct sync_parity *p, const char *ns, const char *kind, const char *name,
    const cJSON *bl, const cJSON *gl)
{
	const cJSON *b, *g;

	cJSON_ArrayForEach(b, bl) {
		g = by_name(gl, jstr(b, "name"));
		if (g == NULL) {
			if (diff_add(p, SYNC_DIFF_CONTAINER, ns, kind, name, jstr(b, "name"),
			    jstr(b, "image"), "") != 0)
				return -1;
		} else if (strcmp(jstr(b, "image"), jstr(g, "image")) != 0) {
			if (diff_add(p, SYNC_DIFF_IMAGE, ns, kind, name, jstr(b, "name"),
			    jstr(b, "image"), jstr(g, "image")) != 0)
				return -1;
		}
	}
	cJSON_ArrayForEach(g, gl)
		if (by_name(bl, jstr(g, "name")) == NULL
		    && diff_add(p, SYNC_DIFF_CONTAINER, ns, kind, name, jstr(g, "name"), "",
		    jstr(g, "image")) != 0)
			return -1;
	return 0;
}

static int
compare_workload(struct sync_parity *p, const char *ns, const struct sync_kind *k,
    const cJSON *b, const cJSON *g)
{
	const char *name = jstr(jget(b, "metadata"), "name");
	const cJSON *bs = jget(jget(jget(b, "spec"), "template"), "spec");
	const cJSON *gs = jget(jget(jget(g, "spec"), "template"), "spec");

	/* DaemonSets have no replica count: one pod per eligible node. */
	if (k != &kinds_table[10]) {
		const cJSON *br = jget(jget(b, "spec"), "replicas"), *gr = jget(jget(g, "spec"), "replicas");
		/* An absent spec.replicas means 1 (the API default). */
		long bn = cJSON_IsNumber(br) ? (long)br->valuedouble : 1;
		long gn = cJSON_IsNumber(gr) ? (long)gr->valuedouble : 1;

		if (bn != gn) {
			char bb[24], gb[24];

			snprintf(bb, sizeof bb, "%ld", bn);
			snprintf(gb, sizeof gb, "%ld", gn);
			if (diff_add(p, SYNC_DIFF_REPLICAS, ns, k->kind, name, "", bb, gb) != 0)
				return -1;
		}
	}
	if (compare_containers(p, ns, k->kind, name, jget(bs, "initContainers"),
	    jget(gs, "initContainers")) != 0)
		return -1;
	return compare_containers(p, ns, k->kind, name, jget(bs, "containers"), jget(gs, "containers"));
}

static int
parity_kind(struct kube_client *blue, struct kube_client *green, const char *ns,
    const struct sync_kind *k, long timeout_ms, struct sync_parity *p, char *err, size_t errlen)
{
	struct kube_call call;
	cJSON *bl = NULL, *gl = NULL;
	const cJSON *b, *g;
	char path[512];
	int rc = -1;

	if (collection_path(k, ns, path, sizeof path) != 0) {
		snprintf(err, errlen, "parity: namespace name too long: %s", ns);
		return -1;
	}
	if (list_items(blue, path, timeout_ms, &bl, NULL, &call) != 0) {
		if (call.err != KUBE_E_NOT_FOUND) {
			snprintf(err, errlen, "parity: blue: %s", call.error);
			return -1;
		}
		bl = cJSON_CreateArray();	/* a kind blue does not serve */
	}
	if (list_items(green, path, timeout_ms, &gl, NULL, &call) != 0) {
		if (call.err != KUBE_E_NOT_FOUND) {
			snprintf(err, errlen, "parity: green: %s", call.error);
			goto out;
		}
		gl = cJSON_CreateArray();
	}
	if (bl == NULL || gl == NULL) {
		snprintf(err, errlen, "parity: out of memory");
		goto out;
	}
	cJSON_ArrayForEach(b, bl) {
		const char *name = jstr(jget(b, "metadata"), "name");

		p->workloads++;
		g = by_name(gl, name);
		if (g == NULL) {
			if (diff_add(p, SYNC_DIFF_MISSING, ns, k->kind, name, "", "", "") != 0)
				goto oom;
		} else if (compare_workload(p, ns, k, b, g) != 0) {
			goto oom;
		}
	}
	cJSON_ArrayForEach(g, gl) {
		const char *name = jstr(jget(g, "metadata"), "name");

		if (by_name(bl, name) == NULL
		    && diff_add(p, SYNC_DIFF_EXTRA, ns, k->kind, name, "", "", "") != 0)
			goto oom;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "parity: out of memory");
out:
	cJSON_Delete(bl);
	cJSON_Delete(gl);
	return rc;
}

int
sync_parity(struct kube_client *blue, struct kube_client *green, char *const *namespaces,
    long timeout_ms, struct sync_parity *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	for (size_t i = 0; namespaces != NULL && namespaces[i] != NULL; i++) {
		const char *ns = namespaces[i];
		struct kube_call call = { .timeout_ms = timeout_ms };
		char path[512];

		p->namespaces++;
		snprintf(path, sizeof path, "/api/v1/namespaces/%s", ns);
		if (kube_get(green, path, NULL, &call) != 0) {
			if (call.err != KUBE_E_NOT_FOUND) {
				snprintf(err, errlen, "parity: green: %s", call.error);
				goto fail;
			}
			if (diff_add(p, SYNC_DIFF_NAMESPACE, ns, "", "", "", "", "") != 0)
				goto oom;
		}
		/* Without the namespace every workload is listed missing too:
		 * the report says what green lacks, in full. */
		for (size_t k = 0; k < sizeof workload_kinds / sizeof workload_kinds[0]; k++)
			if (parity_kind(blue, green, ns, workload_kinds[k], timeout_ms, p, err,
			    errlen) != 0)
				goto fail;
	}
	log_info(MOD, "parity: %zu namespaces, %zu workloads compared, %zu differences",
	    p->namespaces, p->workloads, p->n);
	return 0;
oom:
	snprintf(err, errlen, "parity: out of memory");
fail:
	sync_parity_free(p);
	return -1;
}

const char *
sync_diff_what_str(enum sync_diff_what w)
{
	switch (w) {
	case SYNC_DIFF_NAMESPACE:	return "namespace";
	case SYNC_DIFF_MISSING:		return "missing";
	case SYNC_DIFF_EXTRA:		return "extra";
	case SYNC_DIFF_IMAGE:		return "image";
	case SYNC_DIFF_CONTAINER:	return "container";
	case SYNC_DIFF_REPLICAS:	return "replicas";
	}
	return "?";
}

/* One difference as a line, without the newline. */
static void
diff_line(const struct sync_diff *d, char *buf, size_t n)
{
	switch (d->what) {
	case SYNC_DIFF_NAMESPACE:
		snprintf(buf, n, "namespace %s: missing on green", d->ns);
		break;
	case SYNC_DIFF_MISSING:
		snprintf(buf, n, "%s %s/%s: missing on green", d->kind, d->ns, d->name);
		break;
	case SYNC_DIFF_EXTRA:
		snprintf(buf, n, "%s %s/%s: on green only", d->kind, d->ns, d->name);
		break;
	case SYNC_DIFF_IMAGE:
		snprintf(buf, n, "%s %s/%s container %s: image %s on blue, %s on green", d->kind,
		    d->ns, d->name, d->container, d->blue, d->green);
		break;
	case SYNC_DIFF_CONTAINER:
		snprintf(buf, n, "%s %s/%s container %s: on %s only (%s)", d->kind, d->ns, d->name,
		    d->container, d->blue[0] != '\0' ? "blue" : "green",
		    d->blue[0] != '\0' ? d->blue : d->green);
		break;
	case SYNC_DIFF_REPLICAS:
		snprintf(buf, n, "%s %s/%s: %s replicas on blue, %s on green", d->kind, d->ns,
		    d->name, d->blue, d->green);
		break;
	}
}

char *
sync_parity_text(const struct sync_parity *p)
{
	char line[2048], *out;
	size_t cap, off;
	int w;

	cap = 256 + p->n * sizeof line;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	w = snprintf(out, cap, "parity: %zu namespaces, %zu workloads: ", p->namespaces,
	    p->workloads);
	off = (size_t)w;
	if (p->n == 0)
		off += (size_t)snprintf(out + off, cap - off, "no differences\n");
	else
		off += (size_t)snprintf(out + off, cap - off, "%zu difference%s\n", p->n,
		    p->n == 1 ? "" : "s");
	for (size_t i = 0; i < p->n; i++) {
		diff_line(&p->v[i], line, sizeof line);
		off += (size_t)snprintf(out + off, cap - off, "  %s\n", line);
	}
	return out;
}

cJSON *
sync_parity_json(const struct sync_parity *p)
{
	cJSON *root = cJSON_CreateObject(), *arr;

	if (root == NULL)
		return NULL;
	cJSON_AddNumberToObject(root, "namespaces", (double)p->namespaces);
	cJSON_AddNumberToObject(root, "workloads", (double)p->workloads);
	arr = cJSON_AddArrayToObject(root, "differences");
	if (arr == NULL) {
		cJSON_Delete(root);
		return NULL;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct sync_diff *d = &p->v[i];
		cJSON *o = cJSON_CreateObject();

		if (o == NULL) {
			cJSON_Delete(root);
			return NULL;
		}
		cJSON_AddStringToObject(o, "what", sync_diff_what_str(d->what));
		cJSON_AddStringToObject(o, "namespace", d->ns);
		if (d->kind[0] != '\0') {
			cJSON_AddStringToObject(o, "kind", d->kind);
			cJSON_AddStringToObject(o, "name", d->name);
		}
		if (d->container[0] != '\0')
			cJSON_AddStringToObject(o, "container", d->container);
		if (d->what == SYNC_DIFF_IMAGE || d->what == SYNC_DIFF_CONTAINER
		    || d->what == SYNC_DIFF_REPLICAS) {
			cJSON_AddStringToObject(o, "blue", d->blue);
			cJSON_AddStringToObject(o, "green", d->green);
		}
		cJSON_AddItemToArray(arr, o);
	}
	return root;
}

void
sync_parity_free(struct sync_parity *p)
{
	if (p == NULL)
		return;
	free(p->v);
	memset(p, 0, sizeof *p);
}
