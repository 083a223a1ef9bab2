/*
 * sim_kube_disc.c — the resource types a simulated API server serves and how
 * it tells clients about them: /version, the legacy discovery documents
 * (/api, /apis, /api/v1, /apis/G, /apis/G/V), aggregated discovery
 * (apidiscovery.k8s.io/v2, what kubectl 1.30+ asks for first), and the
 * OpenAPI v3 index that kubectl consults before it trusts the server with
 * field validation.
 *
 * The built-in types are a table; a CustomResourceDefinition adds one type
 * per served version, which makes its group discoverable and gives its
 * objects generic storage (this is how Flux's Kustomizations and the like
 * live in the simulator).  Types are never freed while their cluster
 * lives: objects and events point at them, and a deleted CRD only stops
 * its types being served.
 */
#include "sim/sim_kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct builtin {
	enum kkind kk;
	const char *group, *version, *plural, *singular, *kind;
	int namespaced;
	unsigned verbs;
	const char *shorts;		/* comma-separated */
	int in_all, status_sub, scale_sub, generation, create_on_update;
	const char *fields;		/* comma-separated field selector paths */
	int since_minor;		/* served from Kubernetes 1.N on; 0 = always */
};

#define KV_CRUD (KV_ALL)
#define KV_NS (KV_ALL & ~KV_DELETECOLLECTION)

static const struct builtin builtins[] = {
	{ K_POD, "", "v1", "pods", "pod", "Pod", 1, KV_CRUD, "po", 1, 1, 0, 0, 0,
	  "spec.nodeName,status.phase,spec.restartPolicy,spec.schedulerName,spec.serviceAccountName,status.podIP,status.nominatedNodeName,spec.hostNetwork" },
	{ K_NODE, "", "v1", "nodes", "node", "Node", 0, KV_CRUD, "no", 0, 1, 0, 0, 0,
	  "spec.unschedulable" },
	{ K_NAMESPACE, "", "v1", "namespaces", "namespace", "Namespace", 0, KV_NS, "ns", 0, 1, 0, 0, 0,
	  "status.phase" },
	{ K_SERVICE, "", "v1", "services", "service", "Service", 1, KV_CRUD, "svc", 1, 1, 0, 0, 0,
	  "spec.clusterIP,spec.type" },
	{ K_CONFIGMAP, "", "v1", "configmaps", "configmap", "ConfigMap", 1, KV_CRUD, "cm", 0, 0, 0, 0, 0, "" },
	{ K_SECRET, "", "v1", "secrets", "secret", "Secret", 1, KV_CRUD, "", 0, 0, 0, 0, 0, "type" },
	{ K_SERVICEACCOUNT, "", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", 1, KV_CRUD, "sa", 0, 0, 0, 0, 0, "" },
	{ K_EVENT, "", "v1", "events", "event", "Event", 1, KV_CRUD, "ev", 0, 0, 0, 0, 1,
	  "involvedObject.kind,involvedObject.namespace,involvedObject.name,involvedObject.uid,involvedObject.fieldPath,reason,type,source" },
	{ K_DEPLOYMENT, "apps", "v1", "deployments", "deployment", "Deployment", 1, KV_CRUD, "deploy", 1, 1, 1, 1, 0, "" },
	{ K_REPLICASET, "apps", "v1", "replicasets", "replicaset", "ReplicaSet", 1, KV_CRUD, "rs", 1, 1, 1, 1, 0, "" },
	{ K_LEASE, "coordination.k8s.io", "v1", "leases", "lease", "Lease", 1, KV_CRUD, "", 0, 0, 0, 0, 1, "" },
	{ K_CRD, "apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
	  "CustomResourceDefinition", 0, KV_CRUD, "crd,crds", 0, 1, 0, 1, 0, "" },
	{ K_SSR, "authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview",
	  "SelfSubjectReview", 0, KV_CREATE, "", 0, 0, 0, 0, 0, "" },
	{ K_SSAR, "authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview",
	  "SelfSubjectAccessReview", 0, KV_CREATE, "", 0, 0, 0, 0, 0, "" },
	{ K_SSRR, "authorization.k8s.io", "v1", "selfsubjectrulesreviews", "selfsubjectrulesreview",
	  "SelfSubjectRulesReview", 0, KV_CREATE, "", 0, 0, 0, 0, 0, "" },
	/* ValidatingAdmissionPolicy went GA (admissionregistration.k8s.io/v1)
	 * in Kubernetes 1.30; before that it was v1beta1 behind a feature gate
	 * and a runtime-config switch, off by default ("Validating Admission
	 * Policy", kubernetes.io/docs/reference/access-authn-authz/).  So a
	 * 1.29 cluster does not serve it, and neither does the simulator's.
	 * Stored, never enforced: the simulator evaluates no CEL. */
	{ K_GENERIC, "admissionregistration.k8s.io", "v1", "validatingadmissionpolicies",
	  "validatingadmissionpolicy", "ValidatingAdmissionPolicy", 0, KV_CRUD, "", 0, 1, 0, 1, 0, "", 30 },
	{ K_GENERIC, "admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings",
	  "validatingadmissionpolicybinding", "ValidatingAdmissionPolicyBinding", 0, KV_CRUD, "", 0, 0, 0, 1, 0,
	  "", 30 },
};

/* Field selector paths live as long as the program: the builtin table's
 * strings, split once. */
static char *field_names[sizeof builtins / sizeof builtins[0]][KRES_MAX_FIELDS];
static pthread_once_t fields_once = PTHREAD_ONCE_INIT;

static void
split_fields(void)
{
	for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
		const char *p = builtins[i].fields;
		int n = 0;

		while (*p != '\0' && n < KRES_MAX_FIELDS) {
			const char *e = strchr(p, ',');
			size_t len = e != NULL ? (size_t)(e - p) : strlen(p);

			field_names[i][n++] = strndup(p, len);
			p += len;
			if (*p == ',')
				p++;
		}
	}
}

static struct kres *
res_add(struct kcluster *c)
{
	struct kres *r;

	if (c->nres == c->capres) {
		int ncap = c->capres != 0 ? c->capres * 2 : 32;
		struct kres **nv = realloc(c->res, (size_t)ncap * sizeof *nv);
		if (nv == NULL)
			return NULL;
		c->res = nv;
		c->capres = ncap;
	}
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	c->res[c->nres++] = r;
	return r;
}

static void
set_shorts(struct kres *r, const char *list)
{
	r->nshort = 0;
	while (*list != '\0' && r->nshort < 4) {
		const char *e = strchr(list, ',');
		size_t len = e != NULL ? (size_t)(e - list) : strlen(list);

		snprintf(r->short_names[r->nshort++], sizeof r->short_names[0], "%.*s", (int)len, list);
		list += len;
		if (*list == ',')
			list++;
	}
}

int
sim_kube_res_init(struct kcluster *c)
{
	int major = 1, minor = 0;

	pthread_once(&fields_once, split_fields);
	sscanf(c->version, "%d.%d", &major, &minor);
	for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
		const struct builtin *b = &builtins[i];
		struct kres *r;

		if (major == 1 && minor < b->since_minor)
			continue;
		if ((r = res_add(c)) == NULL)
			return -1;
		r->kk = b->kk;
		snprintf(r->group, sizeof r->group, "%s", b->group);
		snprintf(r->version, sizeof r->version, "%s", b->version);
		snprintf(r->plural, sizeof r->plural, "%s", b->plural);
		snprintf(r->singular, sizeof r->singular, "%s", b->singular);
		snprintf(r->kind, sizeof r->kind, "%s", b->kind);
		r->namespaced = b->namespaced;
		r->verbs = b->verbs;
		r->in_all = b->in_all;
		r->status_sub = b->status_sub;
		r->scale_sub = b->scale_sub;
		r->has_generation = b->generation;
		r->create_on_update = b->create_on_update;
		r->served = 1;
		r->builtin = 1;
		set_shorts(r, b->shorts);
		for (int j = 0; j < KRES_MAX_FIELDS && field_names[i][j] != NULL; j++)
			r->fields[r->nfields++] = field_names[i][j];
	}
	return 0;
}

struct kres *
sim_kube_res_find(const struct kcluster *c, const char *group, const char *version,
    const char *plural)
{
	for (int i = 0; i < c->nres; i++) {
		struct kres *r = c->res[i];
		if (r->served && strcmp(r->group, group) == 0 && strcmp(r->version, version) == 0
		    && strcmp(r->plural, plural) == 0)
			return r;
	}
	return NULL;
}

struct kres *
sim_kube_res_by_kind(const struct kcluster *c, const char *api_version, const char *kind)
{
	const char *slash = strchr(api_version, '/');
	char group[128];
	const char *version;

	if (slash != NULL) {
		snprintf(group, sizeof group, "%.*s", (int)(slash - api_version), api_version);
		version = slash + 1;
	} else {
		group[0] = '\0';
		version = api_version;
	}
	for (int i = 0; i < c->nres; i++) {
		struct kres *r = c->res[i];
		if (r->served && strcmp(r->group, group) == 0 && strcmp(r->version, version) == 0
		    && strcmp(r->kind, kind) == 0)
			return r;
	}
	return NULL;
}

struct kres *
sim_kube_res_builtin(const struct kcluster *c, enum kkind kk)
{
	for (int i = 0; i < c->nres; i++)
		if (c->res[i]->builtin && c->res[i]->kk == kk)
			return c->res[i];
	return NULL;
}

const char *
sim_kube_res_apiversion(const struct kres *r, char *buf, size_t n)
{
	if (r->group[0] == '\0')
		snprintf(buf, n, "%s", r->version);
	else
		snprintf(buf, n, "%s/%s", r->group, r->version);
	return buf;
}

const char *
sim_kube_res_qualified(const struct kres *r, char *buf, size_t n)
{
	if (r->group[0] == '\0')
		snprintf(buf, n, "%s", r->plural);
	else
		snprintf(buf, n, "%s.%s", r->plural, r->group);
	return buf;
}

/* ---- CRDs --------------------------------------------------------------------- */

void
sim_kube_crd_sync(struct kcluster *c, const cJSON *crd, int gone)
{
	const char *crd_name = sim_kube_jstr(sim_kube_jpath(crd, "metadata"), "name");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(crd, "spec");
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(spec, "names");
	const char *group = sim_kube_jstr(spec, "group");
	const cJSON *v, *s;

	/* Whatever this CRD served before stops; served versions come back
	 * below with their current definition. */
	for (int i = 0; i < c->nres; i++) {
		struct kres *r = c->res[i];
		if (!r->builtin && strcmp(r->crd_name, crd_name) == 0)
			r->served = 0;
	}
	if (gone) {
		/* Deleting a CRD deletes its objects, each with a DELETED event. */
		for (int i = 0; i < c->nres; i++) {
			struct kres *r = c->res[i];
			if (r->builtin || strcmp(r->crd_name, crd_name) != 0)
				continue;
			while (r->store.n > 0) {
				struct kobj *o = r->store.v[r->store.n - 1];
				cJSON *t = sim_kube_obj_parse(o);
				if (t == NULL || sim_kube_commit(c, r, t, KE_DELETED) == NULL) {
					/* cannot happen short of memory: drop it quietly */
					sim_kube_obj_unref(o);
					r->store.n--;
				}
				cJSON_Delete(t);
			}
		}
		return;
	}
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(spec, "versions")) {
		const char *ver = sim_kube_jstr(v, "name");
		const char *plural = sim_kube_jstr(names, "plural");
		struct kres *r = NULL;

		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "served")) || ver[0] == '\0'
		    || plural[0] == '\0')
			continue;
		for (int i = 0; i < c->nres; i++) {
			struct kres *x = c->res[i];
			if (!x->builtin && strcmp(x->group, group) == 0 && strcmp(x->version, ver) == 0
			    && strcmp(x->plural, plural) == 0)
				r = x;
		}
		if (r == NULL && (r = res_add(c)) == NULL)
			return;
		r->kk = K_GENERIC;
		snprintf(r->group, sizeof r->group, "%s", group);
		snprintf(r->version, sizeof r->version, "%s", ver);
		snprintf(r->plural, sizeof r->plural, "%s", plural);
		snprintf(r->singular, sizeof r->singular, "%s", sim_kube_jstr(names, "singular"));
		if (r->singular[0] == '\0')
			snprintf(r->singular, sizeof r->singular, "%s", sim_kube_jstr(names, "kind"));
		for (char *p = r->singular; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		snprintf(r->kind, sizeof r->kind, "%s", sim_kube_jstr(names, "kind"));
		snprintf(r->crd_name, sizeof r->crd_name, "%s", crd_name);
		r->namespaced = strcmp(sim_kube_jstr(spec, "scope"), "Cluster") != 0;
		r->verbs = KV_ALL;
		r->has_generation = 1;
		r->served = 1;
		r->nshort = 0;
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(names, "shortNames")) {
			if (cJSON_IsString(s) && r->nshort < 4)
				snprintf(r->short_names[r->nshort++], sizeof r->short_names[0], "%s", s->valuestring);
		}
		r->in_all = 0;
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(names, "categories")) {
			if (cJSON_IsString(s) && strcmp(s->valuestring, "all") == 0)
				r->in_all = 1;
		}
		r->status_sub = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(v, "subresources"), "status") != NULL;
		r->scale_sub = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(v, "subresources"), "scale") != NULL;
		cJSON_Delete(r->printer_cols);
		r->printer_cols = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(v,
		    "additionalPrinterColumns"), 1);
	}
}

/* ---- discovery documents ----------------------------------------------------- */

static const char *const verb_names[] = {
	"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch",
};
static const unsigned verb_bits[] = {
	KV_CREATE, KV_DELETE, KV_DELETECOLLECTION, KV_GET, KV_LIST, KV_PATCH, KV_UPDATE, KV_WATCH,
};

static cJSON *
verbs_json(unsigned verbs)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < sizeof verb_names / sizeof verb_names[0]; i++)
		if (verbs & verb_bits[i])
			cJSON_AddItemToArray(a, cJSON_CreateString(verb_names[i]));
	return a;
}

static cJSON *
shorts_json(const struct kres *r)
{
	cJSON *a = cJSON_CreateArray();

	for (int i = 0; i < r->nshort; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(r->short_names[i]));
	return a;
}

/* Kubernetes's version priority: GA before beta before alpha, higher
 * numbers first, then anything else alphabetically. */
static int
version_rank(const char *v, int *major, int *minor)
{
	char kind[16] = "";

	*major = *minor = 0;
	if (sscanf(v, "v%d%15[a-z]%d", major, kind, minor) >= 1 && v[0] == 'v') {
		if (kind[0] == '\0')
			return 3;
		if (strcmp(kind, "beta") == 0)
			return 2;
		if (strcmp(kind, "alpha") == 0)
			return 1;
	}
	return 0;
}

static int
version_cmp(const char *a, const char *b)
{
	int ma, na, mb, nb;
	int ra = version_rank(a, &ma, &na), rb = version_rank(b, &mb, &nb);

	if (ra != rb)
		return rb - ra;
	if (ra == 0)
		return strcmp(a, b);
	if (ma != mb)
		return mb - ma;
	return nb - na;
}

/* The groups served, in the order discovery lists them, each with its
 * versions sorted by priority. */
struct gv_list {
	char groups[64][128];
	char versions[64][8][32];
	int nver[64];
	int n;
};

static void
collect_groups(const struct kcluster *c, struct gv_list *g)
{
	memset(g, 0, sizeof *g);
	for (int i = 0; i < c->nres; i++) {
		const struct kres *r = c->res[i];
		int k, found = 0;

		if (!r->served || r->group[0] == '\0')
			continue;
		for (k = 0; k < g->n; k++)
			if (strcmp(g->groups[k], r->group) == 0)
				break;
		if (k == g->n) {
			if (g->n == 64)
				continue;
			snprintf(g->groups[k], sizeof g->groups[k], "%s", r->group);
			g->n++;
		}
		for (int j = 0; j < g->nver[k]; j++)
			if (strcmp(g->versions[k][j], r->version) == 0)
				found = 1;
		if (!found && g->nver[k] < 8) {
			int j = g->nver[k]++;
			snprintf(g->versions[k][j], sizeof g->versions[k][j], "%s", r->version);
			/* insertion sort by priority */
			while (j > 0 && version_cmp(g->versions[k][j], g->versions[k][j - 1]) < 0) {
				char t[32];
				memcpy(t, g->versions[k][j], sizeof t);
				memcpy(g->versions[k][j], g->versions[k][j - 1], sizeof t);
				memcpy(g->versions[k][j - 1], t, sizeof t);
				j--;
			}
		}
	}
}

static cJSON *
gv_json(const char *group, const char *version)
{
	cJSON *o = cJSON_CreateObject();
	char gv[200];

	snprintf(gv, sizeof gv, "%s/%s", group, version);
	cJSON_AddStringToObject(o, "groupVersion", gv);
	cJSON_AddStringToObject(o, "version", version);
	return o;
}

static cJSON *
api_group_json(const struct gv_list *g, int k, int typed)
{
	cJSON *o = cJSON_CreateObject(), *vs;

	if (typed) {
		cJSON_AddStringToObject(o, "kind", "APIGroup");
		cJSON_AddStringToObject(o, "apiVersion", "v1");
	}
	cJSON_AddStringToObject(o, "name", g->groups[k]);
	vs = cJSON_AddArrayToObject(o, "versions");
	for (int j = 0; j < g->nver[k]; j++)
		cJSON_AddItemToArray(vs, gv_json(g->groups[k], g->versions[k][j]));
	cJSON_AddItemToObject(o, "preferredVersion", gv_json(g->groups[k], g->versions[k][0]));
	return o;
}

/* APIResource entries of one group version (legacy discovery). */
static cJSON *
resource_list_json(const struct kcluster *c, const char *group, const char *version)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	char gv[200];
	int any = 0;

	cJSON_AddStringToObject(o, "kind", "APIResourceList");
	cJSON_AddStringToObject(o, "apiVersion", "v1");
	if (group[0] == '\0')
		snprintf(gv, sizeof gv, "%s", version);
	else
		snprintf(gv, sizeof gv, "%s/%s", group, version);
	cJSON_AddStringToObject(o, "groupVersion", gv);
	arr = cJSON_AddArrayToObject(o, "resources");
	for (int i = 0; i < c->nres; i++) {
		const struct kres *r = c->res[i];
		cJSON *e;
		char sub[300];

		if (!r->served || strcmp(r->group, group) != 0 || strcmp(r->version, version) != 0)
			continue;
		any = 1;
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", r->plural);
		cJSON_AddStringToObject(e, "singularName", r->singular);
		cJSON_AddBoolToObject(e, "namespaced", r->namespaced);
		cJSON_AddStringToObject(e, "kind", r->kind);
		cJSON_AddItemToObject(e, "verbs", verbs_json(r->verbs));
		if (r->nshort > 0)
			cJSON_AddItemToObject(e, "shortNames", shorts_json(r));
		if (r->in_all) {
			cJSON *cat = cJSON_AddArrayToObject(e, "categories");
			cJSON_AddItemToArray(cat, cJSON_CreateString("all"));
		}
		cJSON_AddItemToArray(arr, e);
		if (r->status_sub) {
			e = cJSON_CreateObject();
			snprintf(sub, sizeof sub, "%s/status", r->plural);
			cJSON_AddStringToObject(e, "name", sub);
			cJSON_AddStringToObject(e, "singularName", "");
			cJSON_AddBoolToObject(e, "namespaced", r->namespaced);
			cJSON_AddStringToObject(e, "kind", r->kind);
			cJSON_AddItemToObject(e, "verbs", verbs_json(KV_GET | KV_PATCH | KV_UPDATE));
			cJSON_AddItemToArray(arr, e);
		}
		if (r->scale_sub) {
			e = cJSON_CreateObject();
			snprintf(sub, sizeof sub, "%s/scale", r->plural);
			cJSON_AddStringToObject(e, "name", sub);
			cJSON_AddStringToObject(e, "singularName", "");
			cJSON_AddBoolToObject(e, "namespaced", r->namespaced);
			cJSON_AddStringToObject(e, "group", "autoscaling");
			cJSON_AddStringToObject(e, "version", "v1");
			cJSON_AddStringToObject(e, "kind", "Scale");
			cJSON_AddItemToObject(e, "verbs", verbs_json(KV_GET | KV_PATCH | KV_UPDATE));
			cJSON_AddItemToArray(arr, e);
		}
		if (r->kk == K_POD) {
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "name", "pods/log");
			cJSON_AddStringToObject(e, "singularName", "");
			cJSON_AddBoolToObject(e, "namespaced", 1);
			cJSON_AddStringToObject(e, "kind", "Pod");
			cJSON_AddItemToObject(e, "verbs", verbs_json(KV_GET));
			cJSON_AddItemToArray(arr, e);
		}
	}
	if (!any) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *
response_kind(const char *group, const char *version, const char *kind)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "group", group);
	cJSON_AddStringToObject(o, "version", version);
	cJSON_AddStringToObject(o, "kind", kind);
	return o;
}

static cJSON *
sub_json(const char *name, cJSON *rk, unsigned verbs)
{
	cJSON *s = cJSON_CreateObject();

	cJSON_AddStringToObject(s, "subresource", name);
	cJSON_AddItemToObject(s, "responseKind", rk);
	cJSON_AddItemToObject(s, "verbs", verbs_json(verbs));
	return s;
}

/* APIResourceDiscovery entries (aggregated discovery) of one group version. */
static cJSON *
aggregated_resources(const struct kcluster *c, const char *group, const char *version)
{
	cJSON *arr = cJSON_CreateArray();

	for (int i = 0; i < c->nres; i++) {
		const struct kres *r = c->res[i];
		cJSON *e, *subs;

		if (!r->served || strcmp(r->group, group) != 0 || strcmp(r->version, version) != 0)
			continue;
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "resource", r->plural);
		cJSON_AddItemToObject(e, "responseKind", response_kind(r->group, r->version, r->kind));
		cJSON_AddStringToObject(e, "scope", r->namespaced ? "Namespaced" : "Cluster");
		cJSON_AddStringToObject(e, "singularResource", r->singular);
		cJSON_AddItemToObject(e, "verbs", verbs_json(r->verbs));
		if (r->nshort > 0)
			cJSON_AddItemToObject(e, "shortNames", shorts_json(r));
		if (r->in_all) {
			cJSON *cat = cJSON_AddArrayToObject(e, "categories");
			cJSON_AddItemToArray(cat, cJSON_CreateString("all"));
		}
		if (r->status_sub || r->scale_sub || r->kk == K_POD) {
			subs = cJSON_AddArrayToObject(e, "subresources");
			if (r->kk == K_POD)
				cJSON_AddItemToArray(subs, sub_json("log",
				    response_kind("", "v1", "Pod"), KV_GET));
			if (r->scale_sub)
				cJSON_AddItemToArray(subs, sub_json("scale",
				    response_kind("autoscaling", "v1", "Scale"), KV_GET | KV_PATCH | KV_UPDATE));
			if (r->status_sub)
				cJSON_AddItemToArray(subs, sub_json("status",
				    response_kind(r->group, r->version, r->kind), KV_GET | KV_PATCH | KV_UPDATE));
		}
		cJSON_AddItemToArray(arr, e);
	}
	return arr;
}

static cJSON *
aggregated_group(const struct kcluster *c, const char *group, char versions[][32], int nver)
{
	cJSON *g = cJSON_CreateObject(), *md, *vs;

	md = cJSON_AddObjectToObject(g, "metadata");
	if (group[0] != '\0')
		cJSON_AddStringToObject(md, "name", group);
	cJSON_AddNullToObject(md, "creationTimestamp");
	vs = cJSON_AddArrayToObject(g, "versions");
	for (int j = 0; j < nver; j++) {
		cJSON *v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "version", versions[j]);
		cJSON_AddItemToObject(v, "resources", aggregated_resources(c, group, versions[j]));
		cJSON_AddStringToObject(v, "freshness", "Current");
		cJSON_AddItemToArray(vs, v);
	}
	return g;
}

/* Which aggregated discovery version the Accept header asks for: "v2",
 * "v2beta1", or NULL for the legacy documents. */
static const char *
wants_aggregated(const struct sim_req *req)
{
	const char *acc = sim_req_header(req, "Accept");

	if (acc == NULL || strstr(acc, "as=APIGroupDiscoveryList") == NULL)
		return NULL;
	if (strstr(acc, "v=v2;") != NULL || strstr(acc, "v=v2,") != NULL)
		return "v2";
	if (strstr(acc, "v=v2beta1") != NULL)
		return "v2beta1";
	return NULL;
}

static void
send_aggregated(struct sim_resp *resp, const char *ver, cJSON *items)
{
	cJSON *root = cJSON_CreateObject();
	char av[64];

	snprintf(av, sizeof av, "apidiscovery.k8s.io/%s", ver);
	cJSON_AddStringToObject(root, "kind", "APIGroupDiscoveryList");
	cJSON_AddStringToObject(root, "apiVersion", av);
	cJSON_AddObjectToObject(root, "metadata");
	cJSON_AddItemToObject(root, "items", items);
	sim_resp_json_take(resp, 200, root);
	snprintf(resp->content_type, sizeof resp->content_type,
	    "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList", ver);
}

static void
send_version(struct kcluster *c, struct sim_resp *resp)
{
	cJSON *o = cJSON_CreateObject();
	char git[48], minor[16];
	int maj = 1, min = 0;

	sscanf(c->version, "%d.%d", &maj, &min);
	snprintf(git, sizeof git, "v%s", c->version);
	snprintf(minor, sizeof minor, "%d", min);
	cJSON_AddStringToObject(o, "major", "1");
	cJSON_AddStringToObject(o, "minor", minor);
	cJSON_AddStringToObject(o, "gitVersion", git);
	/* A fixed commit per minor version: real builds differ, clients only
	 * display it. */
	cJSON_AddStringToObject(o, "gitCommit", min >= 30 ? "3d8b3f7d0b1a8e55f6e4c7a2b9d3e1f0a4c6b8d2"
	    : "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678");
	cJSON_AddStringToObject(o, "gitTreeState", "clean");
	cJSON_AddStringToObject(o, "buildDate", "2024-07-17T18:03:54Z");
	cJSON_AddStringToObject(o, "goVersion", min >= 31 ? "go1.22.8" : min >= 30 ? "go1.22.5" : "go1.22.5");
	cJSON_AddStringToObject(o, "compiler", "gc");
	cJSON_AddStringToObject(o, "platform", "linux/amd64");
	sim_resp_json_take(resp, 200, o);
}

/* ---- OpenAPI -------------------------------------------------------------------
 *
 * kubectl create/apply ask /openapi/v3 whether the server supports
 * server-side field validation (the fieldValidation query parameter) for
 * the kind at hand; without that it validates on the client and needs a
 * full schema.  So the index lists every group version, and each group
 * version's document has, per resource, a collection path whose POST and
 * an item path whose PUT and PATCH declare x-kubernetes-group-version-kind
 * and the fieldValidation parameter.  Schemas are left out: the simulator
 * does not validate types, and clients that need schemas (kubectl explain)
 * get an empty components section. */

static void
gv_path(const char *group, const char *version, char *buf, size_t n)
{
	if (group[0] == '\0')
		snprintf(buf, n, "api/%s", version);
	else
		snprintf(buf, n, "apis/%s/%s", group, version);
}

static cJSON *
openapi_op(const struct kres *r, const char *action, const char *opid, int field_validation)
{
	cJSON *op = cJSON_CreateObject(), *gvk, *params, *p, *resp;

	cJSON_AddStringToObject(op, "operationId", opid);
	cJSON_AddStringToObject(op, "x-kubernetes-action", action);
	gvk = cJSON_AddObjectToObject(op, "x-kubernetes-group-version-kind");
	cJSON_AddStringToObject(gvk, "group", r->group);
	cJSON_AddStringToObject(gvk, "version", r->version);
	cJSON_AddStringToObject(gvk, "kind", r->kind);
	params = cJSON_AddArrayToObject(op, "parameters");
	if (field_validation) {
		static const char *const names[] = { "dryRun", "fieldManager", "fieldValidation" };
		for (size_t i = 0; i < 3; i++) {
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "name", names[i]);
			cJSON_AddStringToObject(p, "in", "query");
			cJSON_AddItemToObject(p, "schema", cJSON_Parse("{\"type\":\"string\",\"uniqueItems\":true}"));
			cJSON_AddItemToArray(params, p);
		}
	}
	resp = cJSON_AddObjectToObject(op, "responses");
	cJSON_AddItemToObject(resp, "200", cJSON_Parse("{\"description\":\"OK\"}"));
	cJSON_AddItemToObject(resp, "401", cJSON_Parse("{\"description\":\"Unauthorized\"}"));
	return op;
}

static cJSON *
openapi_gv(const struct kcluster *c, const char *group, const char *version)
{
	cJSON *doc = cJSON_CreateObject(), *info, *paths;
	int any = 0;

	cJSON_AddStringToObject(doc, "openapi", "3.0.0");
	info = cJSON_AddObjectToObject(doc, "info");
	cJSON_AddStringToObject(info, "title", "Kubernetes");
	cJSON_AddStringToObject(info, "version", "unversioned");
	paths = cJSON_AddObjectToObject(doc, "paths");
	for (int i = 0; i < c->nres; i++) {
		const struct kres *r = c->res[i];
		char base[300], coll[600], item[700], opid[300];
		cJSON *pc, *pi;

		if (!r->served || strcmp(r->group, group) != 0 || strcmp(r->version, version) != 0)
			continue;
		any = 1;
		gv_path(group, version, base, sizeof base);
		if (r->namespaced)
			snprintf(coll, sizeof coll, "/%s/namespaces/{namespace}/%s", base, r->plural);
		else
			snprintf(coll, sizeof coll, "/%s/%s", base, r->plural);
		snprintf(item, sizeof item, "%s/{name}", coll);
		pc = cJSON_AddObjectToObject(paths, coll);
		snprintf(opid, sizeof opid, "create%s", r->kind);
		cJSON_AddItemToObject(pc, "post", openapi_op(r, "post", opid, 1));
		if (r->verbs & KV_LIST) {
			snprintf(opid, sizeof opid, "list%s", r->kind);
			cJSON_AddItemToObject(pc, "get", openapi_op(r, "list", opid, 0));
		}
		if (r->verbs & KV_GET) {
			pi = cJSON_AddObjectToObject(paths, item);
			snprintf(opid, sizeof opid, "read%s", r->kind);
			cJSON_AddItemToObject(pi, "get", openapi_op(r, "get", opid, 0));
			snprintf(opid, sizeof opid, "replace%s", r->kind);
			cJSON_AddItemToObject(pi, "put", openapi_op(r, "put", opid, 1));
			snprintf(opid, sizeof opid, "patch%s", r->kind);
			cJSON_AddItemToObject(pi, "patch", openapi_op(r, "patch", opid, 1));
			snprintf(opid, sizeof opid, "delete%s", r->kind);
			cJSON_AddItemToObject(pi, "delete", openapi_op(r, "delete", opid, 0));
		}
	}
	cJSON_AddItemToObject(doc, "components", cJSON_Parse("{\"schemas\":{}}"));
	if (!any) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

static void
openapi_index(const struct kcluster *c, struct sim_resp *resp)
{
	cJSON *root = cJSON_CreateObject(), *paths = cJSON_AddObjectToObject(root, "paths");
	char p[300], url[400];

	for (int i = 0; i < c->nres; i++) {
		const struct kres *r = c->res[i];
		cJSON *e;

		if (!r->served)
			continue;
		gv_path(r->group, r->version, p, sizeof p);
		if (cJSON_GetObjectItemCaseSensitive(paths, p) != NULL)
			continue;
		/* The hash lets clients cache a document; the resource version
		 * changes whenever a CRD could have changed it. */
		snprintf(url, sizeof url, "/openapi/v3/%s?hash=%016llX", p, (unsigned long long)c->rv);
		e = cJSON_AddObjectToObject(paths, p);
		cJSON_AddStringToObject(e, "serverRelativeURL", url);
	}
	sim_resp_json_take(resp, 200, root);
}

/* ---- dispatch ------------------------------------------------------------------- */

int
sim_kube_discovery(struct kcluster *c, struct sim_req *req, struct sim_resp *resp, const char *path)
{
	const char *agg = wants_aggregated(req);
	struct gv_list g;
	char group[128], version[32];

	if (strcmp(path, "version") == 0 || strcmp(path, "version/") == 0) {
		send_version(c, resp);
		return 1;
	}
	if (strcmp(path, "api") == 0 || strcmp(path, "api/") == 0) {
		if (agg != NULL) {
			cJSON *items = cJSON_CreateArray();
			char v1[1][32] = { "v1" };
			cJSON_AddItemToArray(items, aggregated_group(c, "", v1, 1));
			send_aggregated(resp, agg, items);
		} else {
			cJSON *o = cJSON_CreateObject(), *a, *cidr;
			cJSON_AddStringToObject(o, "kind", "APIVersions");
			a = cJSON_AddArrayToObject(o, "versions");
			cJSON_AddItemToArray(a, cJSON_CreateString("v1"));
			a = cJSON_AddArrayToObject(o, "serverAddressByClientCIDRs");
			cidr = cJSON_CreateObject();
			cJSON_AddStringToObject(cidr, "clientCIDR", "0.0.0.0/0");
			cJSON_AddStringToObject(cidr, "serverAddress", "10.0.0.1:443");
			cJSON_AddItemToArray(a, cidr);
			sim_resp_json_take(resp, 200, o);
		}
		return 1;
	}
	if (strcmp(path, "apis") == 0 || strcmp(path, "apis/") == 0) {
		collect_groups(c, &g);
		if (agg != NULL) {
			cJSON *items = cJSON_CreateArray();
			for (int k = 0; k < g.n; k++)
				cJSON_AddItemToArray(items, aggregated_group(c, g.groups[k], g.versions[k], g.nver[k]));
			send_aggregated(resp, agg, items);
		} else {
			cJSON *o = cJSON_CreateObject(), *a;
			cJSON_AddStringToObject(o, "kind", "APIGroupList");
			cJSON_AddStringToObject(o, "apiVersion", "v1");
			a = cJSON_AddArrayToObject(o, "groups");
			for (int k = 0; k < g.n; k++)
				cJSON_AddItemToArray(a, api_group_json(&g, k, 0));
			sim_resp_json_take(resp, 200, o);
		}
		return 1;
	}
	if (strcmp(path, "api/v1") == 0 || strcmp(path, "api/v1/") == 0) {
		sim_resp_json_take(resp, 200, resource_list_json(c, "", "v1"));
		return 1;
	}
	if (strncmp(path, "apis/", 5) == 0) {
		const char *p = path + 5, *slash = strchr(p, '/');
		cJSON *o;

		if (slash == NULL || slash[1] == '\0') {
			/* apis/GROUP */
			snprintf(group, sizeof group, "%.*s", (int)(slash != NULL ? (size_t)(slash - p) : strlen(p)), p);
			collect_groups(c, &g);
			for (int k = 0; k < g.n; k++) {
				if (strcmp(g.groups[k], group) == 0) {
					sim_resp_json_take(resp, 200, api_group_json(&g, k, 1));
					return 1;
				}
			}
			sim_kube_status(resp, 404, "NotFound", "the server could not find the requested resource");
			return 1;
		}
		if (strchr(slash + 1, '/') != NULL && strchr(slash + 1, '/')[1] != '\0')
			return 0;	/* a resource path */
		/* apis/GROUP/VERSION */
		snprintf(group, sizeof group, "%.*s", (int)(slash - p), p);
		snprintf(version, sizeof version, "%.*s", (int)strcspn(slash + 1, "/"), slash + 1);
		o = resource_list_json(c, group, version);
		if (o == NULL)
			sim_kube_status(resp, 404, "NotFound", "the server could not find the requested resource");
		else
			sim_resp_json_take(resp, 200, o);
		return 1;
	}
	if (strcmp(path, "openapi/v3") == 0 || strcmp(path, "openapi/v3/") == 0) {
		openapi_index(c, resp);
		return 1;
	}
	if (strncmp(path, "openapi/v3/", 11) == 0) {
		const char *p = path + 11;
		cJSON *doc = NULL;

		if (strncmp(p, "api/", 4) == 0) {
			snprintf(version, sizeof version, "%s", p + 4);
			doc = openapi_gv(c, "", version);
		} else if (strncmp(p, "apis/", 5) == 0) {
			const char *slash = strchr(p + 5, '/');
			if (slash != NULL) {
				snprintf(group, sizeof group, "%.*s", (int)(slash - (p + 5)), p + 5);
				snprintf(version, sizeof version, "%s", slash + 1);
				doc = openapi_gv(c, group, version);
			}
		}
		if (doc == NULL)
			sim_kube_status(resp, 404, "NotFound", "the server could not find the requested resource");
		else
			sim_resp_json_take(resp, 200, doc);
		return 1;
	}
	if (strcmp(path, "openapi/v2") == 0) {
		/* The v2 document is only a fallback for clients that lack v3;
		 * a 404 makes kubectl use v3, as it does with real clusters
		 * that disable v2. */
		sim_kube_status(resp, 404, "NotFound", "the server could not find the requested resource");
		return 1;
	}
	return 0;
}
