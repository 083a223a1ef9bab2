/*
 * sim_kube_api.c — the REST verbs of a simulated API server: get, list,
 * watch, create, update (PUT), patch (merge, strategic merge, JSON patch,
 * server-side apply), delete and deletecollection, on the main resource
 * and its status and scale subresources, with the semantics clients
 * depend on: resourceVersion preconditions, metadata the server owns,
 * generation on spec changes, defaulting, validation errors as 422
 * Invalid Status with causes, graceful pod deletion, finalizers, cascading
 * deletion of owned objects, and dryRun.
 *
 * Everything here runs with sim_world.lock held; list and watch answers
 * are handed to sim_kube_stream.c.
 */
#include "sim/sim_kube.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/yamljson.h"

struct kctx {
	struct kcluster *c;
	struct sim_req *req;
	struct sim_resp *resp;
	struct kres *r;
	char group[128], version[32];
	char ns[64];
	int has_ns;
	char name[256];
	char sub[32];
	int watch;
	int dry_run;
	char manager[132];
};

/* ---- Status answers ------------------------------------------------------------ */

/* A Status failure without its code, which callers add last (after any
 * details), in kube-apiserver's field order. */
static cJSON *
status_json(const char *reason, const char *msg)
{
	cJSON *root = cJSON_CreateObject();

	cJSON_AddStringToObject(root, "kind", "Status");
	cJSON_AddStringToObject(root, "apiVersion", "v1");
	cJSON_AddObjectToObject(root, "metadata");
	cJSON_AddStringToObject(root, "status", "Failure");
	cJSON_AddStringToObject(root, "message", msg);
	cJSON_AddStringToObject(root, "reason", reason);
	return root;
}

void
sim_kube_status_details(struct sim_resp *resp, int code, const char *reason, const struct kres *r,
    const char *name, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	cJSON *root, *d;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	root = status_json(reason, msg);
	d = cJSON_AddObjectToObject(root, "details");
	cJSON_AddStringToObject(d, "name", name);
	if (r != NULL && r->group[0] != '\0')
		cJSON_AddStringToObject(d, "group", r->group);
	if (r != NULL)
		cJSON_AddStringToObject(d, "kind", r->plural);
	cJSON_AddNumberToObject(root, "code", code);
	sim_resp_json_take(resp, code, root);
}

static void
not_found(struct kctx *x, const char *name)
{
	char q[300];

	sim_kube_status_details(x->resp, 404, "NotFound", x->r, name, "%s \"%s\" not found",
	    sim_kube_res_qualified(x->r, q, sizeof q), name);
}

static void
conflict_modified(struct kctx *x, const char *name)
{
	char q[300];

	sim_kube_status_details(x->resp, 409, "Conflict", x->r, name,
	    "Operation cannot be fulfilled on %s \"%s\": the object has been modified; please apply "
	    "your changes to the latest version and try again",
	    sim_kube_res_qualified(x->r, q, sizeof q), name);
}

static void
bad_request(struct kctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
bad_request(struct kctx *x, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sim_kube_status(x->resp, 400, "BadRequest", "%s", msg);
}

/* 422 Invalid with one cause, as field validation reports it:
 * 'Deployment.apps "web" is invalid: spec.selector: Required value'. */
static void
invalid(struct kctx *x, const char *name, const char *field, const char *cause,
    const char *detail)
{
	char msg[1400], kind[300];
	cJSON *root, *d, *causes, *c;

	if (x->r->group[0] != '\0')
		snprintf(kind, sizeof kind, "%s.%s", x->r->kind, x->r->group);
	else
		snprintf(kind, sizeof kind, "%s", x->r->kind);
	snprintf(msg, sizeof msg, "%s \"%s\" is invalid: %s: %s", kind, name, field, detail);
	root = status_json("Invalid", msg);
	d = cJSON_AddObjectToObject(root, "details");
	cJSON_AddStringToObject(d, "name", name);
	if (x->r->group[0] != '\0')
		cJSON_AddStringToObject(d, "group", x->r->group);
	cJSON_AddStringToObject(d, "kind", x->r->kind);
	causes = cJSON_AddArrayToObject(d, "causes");
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "reason", cause);
	cJSON_AddStringToObject(c, "message", detail);
	cJSON_AddStringToObject(c, "field", field);
	cJSON_AddItemToArray(causes, c);
	cJSON_AddNumberToObject(root, "code", 422);
	sim_resp_json_take(x->resp, 422, root);
}

static void
send_text(struct sim_resp *resp, int status, const struct kobj *o)
{
	sim_resp_body(resp, status, "application/json", o->json, o->len);
}

/* ---- bodies ---------------------------------------------------------------------- */

/* The request body as a JSON object (YAML when the content type says so);
 * NULL with a 400 answer when it is neither. */
static cJSON *
parse_body(struct kctx *x, int yaml)
{
	cJSON *j = NULL;
	const char *ct = sim_req_header(x->req, "Content-Type");

	if (ct != NULL && strstr(ct, "yaml") != NULL)
		yaml = 1;
	if (x->req->body_len == 0) {
		bad_request(x, "the body of the request was empty");
		return NULL;
	}
	if (yaml) {
		struct yj_error yerr;
		struct yj_doc *doc = yj_parse(x->req->body, x->req->body_len, "request body", &yerr);

		if (doc == NULL) {
			bad_request(x, "error decoding YAML: %s", yerr.msg);
			return NULL;
		}
		if (yj_count(doc) != 1) {
			yj_free(doc);
			bad_request(x, "error decoding YAML: the body must hold exactly one document");
			return NULL;
		}
		j = yj_detach(doc, 0);
		yj_free(doc);
	} else {
		j = cJSON_ParseWithLength(x->req->body, x->req->body_len);
	}
	if (!cJSON_IsObject(j) && !(cJSON_IsArray(j) && !yaml)) {
		cJSON_Delete(j);
		bad_request(x, "the object provided is unrecognized (must be of type %s): couldn't get "
		    "version/kind; json parse error: invalid body", x->r->kind);
		return NULL;
	}
	return j;
}

/* Checks the body's apiVersion and kind against the URL's, filling them in
 * when absent.  0, or -1 with a 400 answer. */
static int
check_type(struct kctx *x, cJSON *obj)
{
	char av[200];
	const char *bav = sim_kube_jstr(obj, "apiVersion"), *bkind = sim_kube_jstr(obj, "kind");

	sim_kube_res_apiversion(x->r, av, sizeof av);
	if (bkind[0] != '\0' && strcmp(bkind, x->r->kind) != 0) {
		bad_request(x, "the server rejected our request due to an error in our request: "
		    "expected kind %s, got %s", x->r->kind, bkind);
		return -1;
	}
	if (bav[0] != '\0' && strcmp(bav, av) != 0) {
		bad_request(x, "the API version in the data (%s) does not match the expected API version (%s)",
		    bav, av);
		return -1;
	}
	sim_kube_jset_str(obj, "kind", x->r->kind);
	sim_kube_jset_str(obj, "apiVersion", av);
	return 0;
}

/* ---- object shape ------------------------------------------------------------------ */

/* Moves the members named in ORDER to the front, in that order, and LAST
 * (if any) to the end, as Go's typed encoding orders them. */
static void
reorder(cJSON *obj, const char *const *order, size_t n, const char *last)
{
	int count = cJSON_GetArraySize(obj), k = 0;
	cJSON **arr, *it;

	if (!cJSON_IsObject(obj) || count < 2)
		return;
	arr = malloc((size_t)count * sizeof *arr);
	if (arr == NULL)
		return;
	while ((it = obj->child) != NULL && k < count)
		arr[k++] = cJSON_DetachItemViaPointer(obj, it);
	for (size_t i = 0; i < n; i++) {
		for (int j = 0; j < k; j++) {
			if (arr[j] != NULL && strcmp(arr[j]->string, order[i]) == 0) {
				cJSON_AddItemToObject(obj, arr[j]->string, arr[j]);
				arr[j] = NULL;
			}
		}
	}
	for (int j = 0; j < k; j++) {
		if (arr[j] != NULL && (last == NULL || strcmp(arr[j]->string, last) != 0)) {
			cJSON_AddItemToObject(obj, arr[j]->string, arr[j]);
			arr[j] = NULL;
		}
	}
	for (int j = 0; j < k; j++)
		if (arr[j] != NULL)
			cJSON_AddItemToObject(obj, arr[j]->string, arr[j]);
	free(arr);
}

void
sim_kube_normalize(cJSON *obj)
{
	static const char *const top[] = { "kind", "apiVersion", "metadata" };
	static const char *const meta[] = {
		"name", "generateName", "namespace", "uid", "resourceVersion", "generation",
		"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
		"annotations", "ownerReferences", "finalizers", "managedFields",
	};

	reorder(obj, top, 3, "status");
	reorder(cJSON_GetObjectItemCaseSensitive(obj, "metadata"), meta, sizeof meta / sizeof meta[0], NULL);
}

static int
valid_dns_subdomain(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!(islower((unsigned char)ch) || isdigit((unsigned char)ch) || ch == '-' || ch == '.'))
			return 0;
	}
	return isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
}

static int
valid_dns_label(const char *s)
{
	return strlen(s) <= 63 && strchr(s, '.') == NULL && valid_dns_subdomain(s);
}

/* ---- defaults ---------------------------------------------------------------------- */

static void
set_default(cJSON *obj, const char *key, cJSON *val)
{
	if (cJSON_IsObject(obj) && cJSON_GetObjectItemCaseSensitive(obj, key) == NULL)
		cJSON_AddItemToObject(obj, key, val);
	else
		cJSON_Delete(val);
}

static void
container_defaults(cJSON *ct)
{
	const char *image = sim_kube_jstr(ct, "image");
	const char *colon = strrchr(image, ':');
	int latest = colon == NULL || strchr(colon, '/') != NULL || strcmp(colon, ":latest") == 0;
	cJSON *p;

	set_default(ct, "resources", cJSON_CreateObject());
	set_default(ct, "terminationMessagePath", cJSON_CreateString("/dev/termination-log"));
	set_default(ct, "terminationMessagePolicy", cJSON_CreateString("File"));
	set_default(ct, "imagePullPolicy", cJSON_CreateString(latest ? "Always" : "IfNotPresent"));
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(ct, "ports"))
		set_default(p, "protocol", cJSON_CreateString("TCP"));
}

static void
podspec_defaults(cJSON *spec)
{
	cJSON *ct;

	if (!cJSON_IsObject(spec))
		return;
	cJSON_ArrayForEach(ct, cJSON_GetObjectItemCaseSensitive(spec, "containers"))
		container_defaults(ct);
	cJSON_ArrayForEach(ct, cJSON_GetObjectItemCaseSensitive(spec, "initContainers"))
		container_defaults(ct);
	set_default(spec, "restartPolicy", cJSON_CreateString("Always"));
	set_default(spec, "terminationGracePeriodSeconds", cJSON_CreateNumber(30));
	set_default(spec, "dnsPolicy", cJSON_CreateString("ClusterFirst"));
	set_default(spec, "securityContext", cJSON_CreateObject());
	set_default(spec, "schedulerName", cJSON_CreateString("default-scheduler"));
}

static void
spec_defaults(struct kcluster *c, struct kres *r, cJSON *obj)
{
	cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	cJSON *md = sim_kube_jobj(obj, "metadata");
	char ip[32];

	switch (r->kk) {
	case K_POD:
		podspec_defaults(spec);
		set_default(spec, "serviceAccountName", cJSON_CreateString("default"));
		set_default(spec, "serviceAccount", cJSON_CreateString(sim_kube_jstr(spec, "serviceAccountName")));
		set_default(spec, "enableServiceLinks", cJSON_CreateBool(1));
		set_default(spec, "preemptionPolicy", cJSON_CreateString("PreemptLowerPriority"));
		set_default(spec, "priority", cJSON_CreateNumber(0));
		if (cJSON_IsObject(spec) && cJSON_GetObjectItemCaseSensitive(spec, "tolerations") == NULL)
			cJSON_AddItemToObject(spec, "tolerations", cJSON_Parse(
			    "[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
			    "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}]"));
		break;
	case K_DEPLOYMENT:
		set_default(spec, "replicas", cJSON_CreateNumber(1));
		set_default(spec, "strategy", cJSON_Parse("{\"type\":\"RollingUpdate\",\"rollingUpdate\":"
		    "{\"maxUnavailable\":\"25%\",\"maxSurge\":\"25%\"}}"));
		set_default(spec, "revisionHistoryLimit", cJSON_CreateNumber(10));
		set_default(spec, "progressDeadlineSeconds", cJSON_CreateNumber(600));
		podspec_defaults(sim_kube_jobj(sim_kube_jobj(spec, "template"), "spec"));
		break;
	case K_REPLICASET:
		set_default(spec, "replicas", cJSON_CreateNumber(1));
		podspec_defaults(sim_kube_jobj(sim_kube_jobj(spec, "template"), "spec"));
		break;
	case K_SERVICE: {
		const char *type;
		cJSON *p;

		if (!cJSON_IsObject(spec))
			spec = sim_kube_jobj(obj, "spec");
		set_default(spec, "type", cJSON_CreateString("ClusterIP"));
		type = sim_kube_jstr(spec, "type");
		if (strcmp(type, "ExternalName") != 0) {
			if (sim_kube_jstr(spec, "clusterIP")[0] == '\0') {
				sim_kube_ip_str(sim_kube_alloc_svc_ip(c), ip, sizeof ip);
				sim_kube_jset_str(spec, "clusterIP", ip);
			}
			set_default(spec, "clusterIPs", cJSON_CreateStringArray(
			    (const char *const[]){ sim_kube_jstr(spec, "clusterIP") }, 1));
			set_default(spec, "ipFamilies", cJSON_Parse("[\"IPv4\"]"));
			set_default(spec, "ipFamilyPolicy", cJSON_CreateString("SingleStack"));
			set_default(spec, "internalTrafficPolicy", cJSON_CreateString("Cluster"));
			set_default(spec, "sessionAffinity", cJSON_CreateString("None"));
		}
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(spec, "ports")) {
			const cJSON *port = cJSON_GetObjectItemCaseSensitive(p, "port");
			set_default(p, "protocol", cJSON_CreateString("TCP"));
			if (cJSON_IsNumber(port))
				set_default(p, "targetPort", cJSON_CreateNumber(port->valuedouble));
			if ((strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0)
			    && cJSON_GetObjectItemCaseSensitive(p, "nodePort") == NULL)
				cJSON_AddNumberToObject(p, "nodePort", 30000 + (c->next_svc_ip * 7 + 13) % 2768);
		}
		if (strcmp(type, "LoadBalancer") == 0)
			set_default(spec, "externalTrafficPolicy", cJSON_CreateString("Cluster"));
		break;
	}
	case K_NAMESPACE: {
		cJSON *labels = sim_kube_jobj(md, "labels");
		sim_kube_jset_str(labels, "kubernetes.io/metadata.name", sim_kube_jstr(md, "name"));
		if (!cJSON_IsObject(spec))
			spec = sim_kube_jobj(obj, "spec");
		set_default(spec, "finalizers", cJSON_Parse("[\"kubernetes\"]"));
		break;
	}
	case K_SECRET:
		set_default(obj, "type", cJSON_CreateString("Opaque"));
		break;
	default:
		break;
	}
}

/* BestEffort without requests or limits, Guaranteed when every container
 * limits cpu and memory to what it requests, else Burstable. */
static const char *
qos_class(const cJSON *spec)
{
	const cJSON *ct;
	int any = 0, guaranteed = 1;

	cJSON_ArrayForEach(ct, cJSON_GetObjectItemCaseSensitive(spec, "containers")) {
		const cJSON *req = sim_kube_jpath(ct, "resources.requests");
		const cJSON *lim = sim_kube_jpath(ct, "resources.limits");
		static const char *const res[] = { "cpu", "memory" };

		if (cJSON_GetArraySize(req) > 0 || cJSON_GetArraySize(lim) > 0)
			any = 1;
		for (int i = 0; i < 2; i++) {
			const char *l = sim_kube_jstr(lim, res[i]), *r = sim_kube_jstr(req, res[i]);
			if (l[0] == '\0' || (r[0] != '\0' && strcmp(l, r) != 0))
				guaranteed = 0;
		}
	}
	return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
}

static void
status_defaults(struct kres *r, cJSON *obj)
{
	cJSON *st;
	const cJSON *v;
	char now[40];

	sim_kube_now_str(now, sizeof now);
	switch (r->kk) {
	case K_POD:
		st = sim_kube_jobj(obj, "status");
		set_default(st, "phase", cJSON_CreateString("Pending"));
		set_default(st, "qosClass", cJSON_CreateString(qos_class(cJSON_GetObjectItemCaseSensitive(obj, "spec"))));
		break;
	case K_DEPLOYMENT:
		sim_kube_jobj(obj, "status");
		break;
	case K_REPLICASET:
		st = sim_kube_jobj(obj, "status");
		set_default(st, "replicas", cJSON_CreateNumber(0));
		break;
	case K_NAMESPACE:
		st = sim_kube_jobj(obj, "status");
		set_default(st, "phase", cJSON_CreateString("Active"));
		break;
	case K_SERVICE:
		st = sim_kube_jobj(obj, "status");
		set_default(st, "loadBalancer", cJSON_CreateObject());
		break;
	case K_CRD: {
		cJSON *conds, *an, *sv;
		const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");

		st = sim_kube_jobj(obj, "status");
		conds = cJSON_CreateArray();
		{
			static const char *const types[][3] = {
				{ "NamesAccepted", "NoConflicts", "no conflicts found" },
				{ "Established", "InitialNamesAccepted", "the initial names have been accepted" },
			};
			for (int i = 0; i < 2; i++) {
				cJSON *cd = cJSON_CreateObject();
				cJSON_AddStringToObject(cd, "type", types[i][0]);
				cJSON_AddStringToObject(cd, "status", "True");
				cJSON_AddStringToObject(cd, "lastTransitionTime", now);
				cJSON_AddStringToObject(cd, "reason", types[i][1]);
				cJSON_AddStringToObject(cd, "message", types[i][2]);
				cJSON_AddItemToArray(conds, cd);
			}
		}
		sim_kube_jset(st, "conditions", conds);
		an = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(spec, "names"), 1);
		sim_kube_jset(st, "acceptedNames", an != NULL ? an : cJSON_CreateObject());
		sv = cJSON_CreateArray();
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(spec, "versions")) {
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "storage")))
				cJSON_AddItemToArray(sv, cJSON_CreateString(sim_kube_jstr(v, "name")));
		}
		sim_kube_jset(st, "storedVersions", sv);
		break;
	}
	default:
		break;
	}
}

void
sim_kube_prepare_new(struct kcluster *c, struct kres *r, cJSON *obj, const char *manager)
{
	cJSON *md = sim_kube_jobj(obj, "metadata");
	char uid[40], now[40], av[200];

	sim_uuid(uid);
	sim_kube_now_str(now, sizeof now);
	sim_kube_jset_str(obj, "kind", r->kind);
	sim_kube_jset_str(obj, "apiVersion", sim_kube_res_apiversion(r, av, sizeof av));
	cJSON_DeleteItemFromObjectCaseSensitive(md, "resourceVersion");
	cJSON_DeleteItemFromObjectCaseSensitive(md, "deletionTimestamp");
	cJSON_DeleteItemFromObjectCaseSensitive(md, "deletionGracePeriodSeconds");
	cJSON_DeleteItemFromObjectCaseSensitive(md, "selfLink");
	if (!r->namespaced)
		cJSON_DeleteItemFromObjectCaseSensitive(md, "namespace");
	sim_kube_jset_str(md, "uid", uid);
	sim_kube_jset_str(md, "creationTimestamp", now);
	if (r->has_generation)
		sim_kube_jset_num(md, "generation", 1);
	else
		cJSON_DeleteItemFromObjectCaseSensitive(md, "generation");
	spec_defaults(c, r, obj);
	/* The creator owns what it sent and what defaulting added, but not
	 * the status the server sets up. */
	if (manager != NULL) {
		cJSON *st = cJSON_DetachItemFromObjectCaseSensitive(obj, "status");
		sim_kube_mf_update(obj, NULL, manager, av, "");
		if (st != NULL)
			cJSON_AddItemToObject(obj, "status", st);
	}
	if (r->status_sub || r->kk == K_POD)
		status_defaults(r, obj);
	sim_kube_normalize(obj);
}

/* ---- validation --------------------------------------------------------------------- */

struct verr {
	char field[256];
	const char *cause;
	char detail[512];
};

static int
verr_set(struct verr *e, const char *field, const char *cause, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
verr_set(struct verr *e, const char *field, const char *cause, const char *fmt, ...)
{
	va_list ap;

	snprintf(e->field, sizeof e->field, "%s", field);
	e->cause = cause;
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof e->detail, fmt, ap);
	va_end(ap);
	return -1;
}

static int
validate_podspec(const cJSON *spec, const char *base, struct verr *e)
{
	const cJSON *cts = cJSON_GetObjectItemCaseSensitive(spec, "containers"), *ct;
	char f[300];
	int i = 0;

	if (cJSON_GetArraySize(cts) == 0) {
		snprintf(f, sizeof f, "%s.containers", base);
		return verr_set(e, f, "FieldValueRequired", "Required value");
	}
	cJSON_ArrayForEach(ct, cts) {
		if (sim_kube_jstr(ct, "name")[0] == '\0') {
			snprintf(f, sizeof f, "%s.containers[%d].name", base, i);
			return verr_set(e, f, "FieldValueRequired", "Required value");
		}
		if (sim_kube_jstr(ct, "image")[0] == '\0') {
			snprintf(f, sizeof f, "%s.containers[%d].image", base, i);
			return verr_set(e, f, "FieldValueRequired", "Required value");
		}
		i++;
	}
	return 0;
}

/* Whether R is the built-in type GROUP/PLURAL (those without a kkind of
 * their own, such as the admission policies). */
static int
is_type(const struct kres *r, const char *group, const char *plural)
{
	return r->builtin && strcmp(r->group, group) == 0 && strcmp(r->plural, plural) == 0;
}

/* A string member that must be one of VALUES (NULL-terminated) when set. */
static int
check_enum(const cJSON *obj, const char *key, const char *field, const char *const *values,
    struct verr *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char list[256] = "";

	if (v == NULL)
		return 0;
	for (int i = 0; values[i] != NULL; i++) {
		if (cJSON_IsString(v) && strcmp(v->valuestring, values[i]) == 0)
			return 0;
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"", i > 0 ? ", " : "",
		    values[i]);
	}
	return verr_set(e, field, "FieldValueNotSupported", "Unsupported value: \"%s\": supported values: %s",
	    cJSON_IsString(v) ? v->valuestring : "", list);
}

/* What kube-apiserver's admissionregistration validation requires of a
 * ValidatingAdmissionPolicy and its binding (the fields a client is most
 * likely to misspell; CEL is not compiled). */
static int
validate_vap(const struct kres *r, const cJSON *spec, struct verr *e)
{
	static const char *const failure[] = { "Fail", "Ignore", NULL };
	static const char *const actions[] = { "Deny", "Warn", "Audit", NULL };
	static const char *const ops[] = { "*", "CREATE", "UPDATE", "DELETE", "CONNECT", NULL };
	const cJSON *v, *rules;
	char f[300];
	int i = 0;

	if (strcmp(r->plural, "validatingadmissionpolicybindings") == 0) {
		if (sim_kube_jstr(spec, "policyName")[0] == '\0')
			return verr_set(e, "spec.policyName", "FieldValueRequired", "Required value");
		if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "validationActions")) == 0)
			return verr_set(e, "spec.validationActions", "FieldValueRequired", "Required value");
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(spec, "validationActions")) {
			cJSON *wrap = cJSON_CreateObject();
			int bad;

			cJSON_AddItemToObject(wrap, "a", cJSON_Duplicate(v, 0));
			snprintf(f, sizeof f, "spec.validationActions[%d]", i++);
			bad = check_enum(wrap, "a", f, actions, e);
			cJSON_Delete(wrap);
			if (bad)
				return -1;
		}
		return 0;
	}
	if (check_enum(spec, "failurePolicy", "spec.failurePolicy", failure, e) != 0)
		return -1;
	rules = sim_kube_jpath(spec, "matchConstraints.resourceRules");
	if (cJSON_GetObjectItemCaseSensitive(spec, "matchConstraints") == NULL)
		return verr_set(e, "spec.matchConstraints", "FieldValueRequired", "Required value");
	if (cJSON_GetArraySize(rules) == 0)
		return verr_set(e, "spec.matchConstraints.resourceRules", "FieldValueRequired", "Required value");
	cJSON_ArrayForEach(v, rules) {
		const cJSON *op;
		int j = 0;

		cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(v, "operations")) {
			cJSON *wrap = cJSON_CreateObject();
			int bad;

			cJSON_AddItemToObject(wrap, "o", cJSON_Duplicate(op, 0));
			snprintf(f, sizeof f, "spec.matchConstraints.resourceRules[%d].operations[%d]", i, j++);
			bad = check_enum(wrap, "o", f, ops, e);
			cJSON_Delete(wrap);
			if (bad)
				return -1;
		}
		i++;
	}
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "validations")) == 0
	    && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "auditAnnotations")) == 0)
		return verr_set(e, "spec.validations", "FieldValueRequired",
		    "Required value: validations or auditAnnotations must contain at least one item");
	i = 0;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(spec, "validations")) {
		if (sim_kube_jstr(v, "expression")[0] == '\0') {
			snprintf(f, sizeof f, "spec.validations[%d].expression", i);
			return verr_set(e, f, "FieldValueRequired", "Required value");
		}
		i++;
	}
	return 0;
}

static int
validate(struct kres *r, const cJSON *obj, const cJSON *old, struct verr *e)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const char *name = sim_kube_jstr(md, "name");
	const cJSON *lab, *sel, *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");

	if (name[0] == '\0')
		return verr_set(e, "metadata.name", "FieldValueRequired",
		    "Required value: name or generateName is required");
	if ((r->kk == K_NAMESPACE || r->kk == K_SERVICE) ? !valid_dns_label(name) : !valid_dns_subdomain(name))
		return verr_set(e, "metadata.name", "FieldValueInvalid",
		    "Invalid value: \"%s\": a lowercase RFC 1123 %s must consist of lower case alphanumeric "
		    "characters, '-' or '.', and must start and end with an alphanumeric character",
		    name, r->kk == K_NAMESPACE || r->kk == K_SERVICE ? "label" : "subdomain");
	cJSON_ArrayForEach(lab, cJSON_GetObjectItemCaseSensitive(md, "labels")) {
		if (!cJSON_IsString(lab))
			return verr_set(e, "metadata.labels", "FieldValueInvalid",
			    "Invalid value: label values must be strings");
	}
	switch (r->kk) {
	case K_DEPLOYMENT:
	case K_REPLICASET: {
		struct ksel s;
		int ok;
		const cJSON *tl = sim_kube_jpath(spec, "template.metadata.labels");
		const cJSON *rep = cJSON_GetObjectItemCaseSensitive(spec, "replicas");

		sel = cJSON_GetObjectItemCaseSensitive(spec, "selector");
		if (sel == NULL || (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sel, "matchLabels")) == 0
		    && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions")) == 0))
			return verr_set(e, "spec.selector", "FieldValueRequired", "Required value");
		if (cJSON_IsNumber(rep) && rep->valuedouble < 0)
			return verr_set(e, "spec.replicas", "FieldValueInvalid",
			    "Invalid value: %d: must be greater than or equal to 0", rep->valueint);
		if (old != NULL && r->kk == K_DEPLOYMENT
		    && !sim_kube_json_equal(sel, sim_kube_jpath(old, "spec.selector")))
			return verr_set(e, "spec.selector", "FieldValueInvalid",
			    "Invalid value: v1.LabelSelector: field is immutable");
		/* the template's labels must be selected by the selector */
		if (sim_kube_sel_from_json(&s, sel) != 0)
			return verr_set(e, "spec.selector", "FieldValueInvalid", "Invalid value: invalid selector");
		{
			/* a throwaway object indexes the template labels */
			struct kobj probe;
			const char *labels[64];
			int n = 0;

			memset(&probe, 0, sizeof probe);
			cJSON_ArrayForEach(lab, tl) {
				if (cJSON_IsString(lab) && n < 32) {
					labels[n * 2] = lab->string;
					labels[n * 2 + 1] = lab->valuestring;
					n++;
				}
			}
			probe.labels = labels;
			probe.nlabels = n;
			ok = sim_kube_sel_match(&s, &probe);
		}
		sim_kube_sel_free(&s);
		if (!ok)
			return verr_set(e, "spec.template.metadata.labels", "FieldValueInvalid",
			    "Invalid value: map[string]string{...}: `selector` does not match template `labels`");
		return validate_podspec(sim_kube_jpath(spec, "template.spec"), "spec.template.spec", e);
	}
	case K_POD:
		return validate_podspec(spec, "spec", e);
	case K_CONFIGMAP: {
		const cJSON *d;
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(obj, "data")) {
			if (!cJSON_IsString(d)) {
				char f[300];
				snprintf(f, sizeof f, "data[%s]", d->string);
				return verr_set(e, f, "FieldValueInvalid", "Invalid value: must be a string");
			}
		}
		return 0;
	}
	case K_CRD:
		if (sim_kube_jstr(spec, "group")[0] == '\0')
			return verr_set(e, "spec.group", "FieldValueRequired", "Required value");
		if (sim_kube_jstr(sim_kube_jpath(spec, "names"), "plural")[0] == '\0')
			return verr_set(e, "spec.names.plural", "FieldValueRequired", "Required value");
		if (sim_kube_jstr(sim_kube_jpath(spec, "names"), "kind")[0] == '\0')
			return verr_set(e, "spec.names.kind", "FieldValueRequired", "Required value");
		if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "versions")) == 0)
			return verr_set(e, "spec.versions", "FieldValueRequired", "Required value");
		{
			char want[400];
			snprintf(want, sizeof want, "%s.%s", sim_kube_jstr(sim_kube_jpath(spec, "names"), "plural"),
			    sim_kube_jstr(spec, "group"));
			if (strcmp(want, name) != 0)
				return verr_set(e, "metadata.name", "FieldValueInvalid",
				    "Invalid value: \"%s\": must be spec.names.plural+\".\"+spec.group", name);
		}
		return 0;
	default:
		if (is_type(r, "admissionregistration.k8s.io", "validatingadmissionpolicies")
		    || is_type(r, "admissionregistration.k8s.io", "validatingadmissionpolicybindings"))
			return validate_vap(r, spec, e);
		return 0;
	}
}

/* ---- namespaces ---------------------------------------------------------------------- */

void
sim_kube_ensure_namespace(struct kcluster *c, const char *ns)
{
	struct kres *r = sim_kube_res_builtin(c, K_NAMESPACE);
	cJSON *o;

	if (r == NULL || sim_kube_store_get(&r->store, "", ns) != NULL)
		return;
	o = cJSON_CreateObject();
	sim_kube_jset_str(sim_kube_jobj(o, "metadata"), "name", ns);
	sim_kube_prepare_new(c, r, o, "kube-apiserver");
	sim_kube_commit(c, r, o, KE_ADDED);
	cJSON_Delete(o);
}

/* 0 when namespace NS can take new objects; else answers 404 or 403. */
static int
namespace_ok(struct kctx *x, const char *what)
{
	struct kres *nr = sim_kube_res_builtin(x->c, K_NAMESPACE);
	struct kobj *ns = nr != NULL ? sim_kube_store_get(&nr->store, "", x->ns) : NULL;
	char q[300];

	if (ns == NULL) {
		sim_kube_status_details(x->resp, 404, "NotFound", nr, x->ns, "namespaces \"%s\" not found", x->ns);
		return -1;
	}
	if (ns->deleting) {
		sim_kube_status_details(x->resp, 403, "Forbidden", x->r, what,
		    "%s \"%s\" is forbidden: unable to create new content in namespace %s because it is "
		    "being terminated", sim_kube_res_qualified(x->r, q, sizeof q), what, x->ns);
		return -1;
	}
	return 0;
}

/* ---- get ------------------------------------------------------------------------------- */

static int
wants_table(const struct sim_req *req)
{
	const char *acc = sim_req_header(req, "Accept");

	return acc != NULL && strstr(acc, "as=Table") != NULL && strstr(acc, "g=meta.k8s.io") != NULL;
}

static int
wants_meta(const struct sim_req *req)
{
	const char *acc = sim_req_header(req, "Accept");

	return acc != NULL && strstr(acc, "as=PartialObjectMetadata") != NULL;
}

static int
include_object(const struct sim_req *req)
{
	const char *io = sim_req_arg(req, "includeObject");

	if (io == NULL || strcmp(io, "Metadata") == 0)
		return 1;
	if (strcmp(io, "None") == 0)
		return 0;
	return 2;
}

static cJSON *
scale_of(const cJSON *obj)
{
	cJSON *s = cJSON_CreateObject(), *md, *spec, *st;
	const cJSON *omd = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *rep = sim_kube_jpath(obj, "spec.replicas");
	const char *keys[] = { "name", "namespace", "uid", "resourceVersion", "creationTimestamp" };
	char sel[1024] = "";
	const cJSON *it;
	size_t used = 0;

	cJSON_AddStringToObject(s, "kind", "Scale");
	cJSON_AddStringToObject(s, "apiVersion", "autoscaling/v1");
	md = cJSON_AddObjectToObject(s, "metadata");
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (cJSON_GetObjectItemCaseSensitive(omd, keys[i]) != NULL)
			cJSON_AddItemToObject(md, keys[i], cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(omd, keys[i]), 1));
	spec = cJSON_AddObjectToObject(s, "spec");
	cJSON_AddNumberToObject(spec, "replicas", cJSON_IsNumber(rep) ? rep->valuedouble : 1);
	st = cJSON_AddObjectToObject(s, "status");
	cJSON_AddNumberToObject(st, "replicas", cJSON_IsNumber(sim_kube_jpath(obj, "status.replicas"))
	    ? sim_kube_jpath(obj, "status.replicas")->valuedouble : 0);
	cJSON_ArrayForEach(it, sim_kube_jpath(obj, "spec.selector.matchLabels")) {
		if (cJSON_IsString(it) && used < sizeof sel)
			used += (size_t)snprintf(sel + used, sizeof sel - used, "%s%s=%s", used ? "," : "",
			    it->string, it->valuestring);
	}
	cJSON_AddStringToObject(st, "selector", sel);
	return s;
}

static void
send_pod_log(struct kctx *x, const struct kobj *o)
{
	cJSON *t = sim_kube_obj_parse(o);
	const cJSON *ct;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *want = sim_req_arg(x->req, "container");

	if (f == NULL || t == NULL) {
		if (f != NULL)
			fclose(f);
		free(buf);
		cJSON_Delete(t);
		sim_kube_status(x->resp, 500, "InternalError", "out of memory");
		return;
	}
	cJSON_ArrayForEach(ct, sim_kube_jpath(t, "spec.containers")) {
		if (want != NULL && strcmp(want, sim_kube_jstr(ct, "name")) != 0)
			continue;
		fprintf(f, "%s level=info msg=\"starting %s\" image=%s\n",
		    sim_kube_jstr(sim_kube_jpath(t, "metadata"), "creationTimestamp"),
		    sim_kube_jstr(ct, "name"), sim_kube_jstr(ct, "image"));
		fprintf(f, "%s level=info msg=\"listening\" addr=:8080 pod=%s\n",
		    sim_kube_jstr(sim_kube_jpath(t, "metadata"), "creationTimestamp"), o->name);
		if (want == NULL)
			break;
	}
	fclose(f);
	sim_resp_body(x->resp, 200, "text/plain", buf != NULL ? buf : "", len);
	free(buf);
	cJSON_Delete(t);
}

static void
do_get(struct kctx *x)
{
	struct kobj *o = sim_kube_store_get(&x->r->store, x->ns, x->name);

	if (o == NULL) {
		not_found(x, x->name);
		return;
	}
	if (strcmp(x->sub, "scale") == 0 && x->r->scale_sub) {
		cJSON *t = sim_kube_obj_parse(o);
		sim_resp_json_take(x->resp, 200, scale_of(t));
		cJSON_Delete(t);
		return;
	}
	if (strcmp(x->sub, "log") == 0 && x->r->kk == K_POD) {
		send_pod_log(x, o);
		return;
	}
	if (x->sub[0] != '\0' && !(strcmp(x->sub, "status") == 0 && x->r->status_sub)) {
		sim_kube_status(x->resp, 404, "NotFound", "the server could not find the requested resource");
		return;
	}
	if (wants_table(x->req) || wants_meta(x->req)) {
		cJSON *t = sim_kube_obj_parse(o), *out;

		if (t == NULL) {
			sim_kube_status(x->resp, 500, "InternalError", "stored object is not JSON");
			return;
		}
		if (wants_table(x->req)) {
			char rvs[32];
			out = cJSON_CreateObject();
			cJSON_AddStringToObject(out, "kind", "Table");
			cJSON_AddStringToObject(out, "apiVersion", "meta.k8s.io/v1");
			snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)o->rv);
			cJSON_AddStringToObject(cJSON_AddObjectToObject(out, "metadata"), "resourceVersion", rvs);
			cJSON_AddItemToObject(out, "columnDefinitions", sim_kube_table_columns(x->r));
			cJSON_AddItemToArray(cJSON_AddArrayToObject(out, "rows"),
			    sim_kube_table_row(x->r, t, include_object(x->req)));
			sim_resp_json_take(x->resp, 200, out);
			snprintf(x->resp->content_type, sizeof x->resp->content_type,
			    "application/json;as=Table;v=v1;g=meta.k8s.io");
		} else {
			sim_resp_json_take(x->resp, 200, sim_kube_partial(t));
		}
		cJSON_Delete(t);
		return;
	}
	send_text(x->resp, 200, o);
}

/* ---- list and watch ----------------------------------------------------------------- */

/* Decodes a continue token into OPTS; -1 with an answer when it is bad or
 * too old. */
static int
parse_continue(struct kctx *x, const char *tok, struct klist_opts *opts)
{
	size_t n;
	unsigned char *raw = sim_base64_decode(tok, &n);
	cJSON *j = raw != NULL ? cJSON_ParseWithLength((const char *)raw, n) : NULL;
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(j, "rv");
	const char *start = sim_kube_jstr(j, "start");
	const char *slash;

	free(raw);
	if (!cJSON_IsNumber(rv) || strcmp(sim_kube_jstr(j, "v"), "meta.k8s.io/v1") != 0) {
		cJSON_Delete(j);
		bad_request(x, "continue key is not valid: incorrect encoded start resourceVersion "
		    "(version meta.k8s.io/v1)");
		return -1;
	}
	if ((uint64_t)rv->valuedouble < x->c->floor) {
		cJSON *st = status_json("Expired",
		    "The provided continue parameter is too old to display a consistent list result. You "
		    "can start a new list without the continue parameter, or use the continue token in "
		    "this response to retrieve the remainder of the results. Continuing with the provided "
		    "token results in an inconsistent list - objects that were created, modified, or "
		    "deleted between the time the first chunk was returned and now may show up in the list.");
		cJSON_AddNumberToObject(st, "code", 410);
		cJSON_Delete(j);
		sim_resp_json_take(x->resp, 410, st);
		return -1;
	}
	slash = strchr(start, '/');
	if (x->r->namespaced && slash != NULL) {
		snprintf(opts->start_ns, sizeof opts->start_ns, "%.*s", (int)(slash - start), start);
		snprintf(opts->start_name, sizeof opts->start_name, "%s", slash + 1);
	} else {
		opts->start_ns[0] = '\0';
		snprintf(opts->start_name, sizeof opts->start_name, "%s", start);
	}
	opts->has_start = 1;
	cJSON_Delete(j);
	return 0;
}

static void
do_list(struct kctx *x)
{
	struct klist_opts opts;
	char err[512];
	const char *limit = sim_req_arg(x->req, "limit"), *cont = sim_req_arg(x->req, "continue");
	const char *w = sim_req_arg(x->req, "watch");

	memset(&opts, 0, sizeof opts);
	opts.ns = x->has_ns ? x->ns : NULL;
	if (sim_kube_sel_parse(&opts.lsel, sim_req_arg(x->req, "labelSelector"), err, sizeof err) != 0) {
		bad_request(x, "%s", err);
		return;
	}
	if (sim_kube_fsel_parse(&opts.fsel, x->r, sim_req_arg(x->req, "fieldSelector"), err, sizeof err) != 0) {
		sim_kube_sel_free(&opts.lsel);
		bad_request(x, "%s", err);
		return;
	}
	opts.fmt = wants_table(x->req) ? KF_TABLE : wants_meta(x->req) ? KF_META : KF_JSON;
	opts.include_object = include_object(x->req);
	if (x->watch || (w != NULL && (strcmp(w, "true") == 0 || strcmp(w, "1") == 0))) {
		if (!(x->r->verbs & KV_WATCH)) {
			sim_kube_sel_free(&opts.lsel);
			sim_kube_sel_free(&opts.fsel);
			sim_kube_status(x->resp, 405, "MethodNotAllowed",
			    "the server does not allow this method on the requested resource");
			return;
		}
		sim_kube_watch(x->c, x->r, &opts, x->req, x->resp);
		return;
	}
	if (limit != NULL) {
		char *end;
		opts.limit = strtol(limit, &end, 10);
		if (*end != '\0' || opts.limit < 0)
			opts.limit = 0;
	}
	if (cont != NULL && cont[0] != '\0' && parse_continue(x, cont, &opts) != 0) {
		sim_kube_sel_free(&opts.lsel);
		sim_kube_sel_free(&opts.fsel);
		return;
	}
	sim_kube_list(x->c, x->r, &opts, x->req, x->resp);
}

/* ---- writes ---------------------------------------------------------------------------- */

static int
committed(struct kctx *x, int status, cJSON *obj, enum kev type)
{
	struct kobj *o;

	if (x->dry_run) {
		sim_resp_json(x->resp, status, obj);
		return 0;
	}
	o = sim_kube_commit(x->c, x->r, obj, type);
	if (o == NULL) {
		sim_kube_status(x->resp, 500, "InternalError", "out of memory");
		return -1;
	}
	send_text(x->resp, status, o);
	return 0;
}

static void
user_info(const struct sim_req *req, cJSON *ui)
{
	cJSON *groups = cJSON_AddArrayToObject(ui, "groups");

	if (req->client_cn != NULL) {
		cJSON_AddStringToObject(ui, "username", req->client_cn);
		if (req->client_org != NULL)
			cJSON_AddItemToArray(groups, cJSON_CreateString(req->client_org));
	} else {
		cJSON_AddStringToObject(ui, "username", "clusterAdmin");
		cJSON_AddItemToArray(groups, cJSON_CreateString("system:masters"));
	}
	cJSON_AddItemToArray(groups, cJSON_CreateString("system:authenticated"));
}

/* The access reviews: every authenticated user of the simulator is an
 * administrator (AKS local accounts are system:masters). */
static void
do_review(struct kctx *x, cJSON *obj)
{
	cJSON *st = sim_kube_jobj(obj, "status");

	switch (x->r->kk) {
	case K_SSAR:
		sim_kube_jset(st, "allowed", cJSON_CreateBool(1));
		break;
	case K_SSRR:
		sim_kube_jset(st, "resourceRules", cJSON_Parse(
		    "[{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}]"));
		sim_kube_jset(st, "nonResourceRules", cJSON_Parse(
		    "[{\"verbs\":[\"*\"],\"nonResourceURLs\":[\"*\"]}]"));
		sim_kube_jset(st, "incomplete", cJSON_CreateBool(0));
		break;
	case K_SSR: {
		cJSON *ui = cJSON_CreateObject();
		user_info(x->req, ui);
		sim_kube_jset(st, "userInfo", ui);
		break;
	}
	default:
		break;
	}
	sim_kube_jset(sim_kube_jobj(obj, "metadata"), "creationTimestamp", cJSON_CreateNull());
	sim_kube_normalize(obj);
	sim_resp_json(x->resp, 201, obj);
}

static void
do_create(struct kctx *x)
{
	cJSON *obj = parse_body(x, 0), *md;
	const char *ns, *name, *gen;
	char nbuf[300], q[300];
	struct verr e;

	if (obj == NULL)
		return;
	if (!cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		bad_request(x, "the body must be a %s object", x->r->kind);
		return;
	}
	if (check_type(x, obj) != 0) {
		cJSON_Delete(obj);
		return;
	}
	if (x->r->kk == K_SSAR || x->r->kk == K_SSRR || x->r->kk == K_SSR) {
		do_review(x, obj);
		cJSON_Delete(obj);
		return;
	}
	md = sim_kube_jobj(obj, "metadata");
	if (md == NULL) {
		cJSON_Delete(obj);
		bad_request(x, "metadata must be an object");
		return;
	}
	ns = sim_kube_jstr(md, "namespace");
	if (x->r->namespaced) {
		if (ns[0] != '\0' && strcmp(ns, x->ns) != 0) {
			cJSON_Delete(obj);
			bad_request(x, "the namespace of the provided object does not match the namespace sent "
			    "on the request");
			return;
		}
		sim_kube_jset_str(md, "namespace", x->ns);
	}
	name = sim_kube_jstr(md, "name");
	gen = sim_kube_jstr(md, "generateName");
	if (name[0] == '\0' && gen[0] != '\0') {
		char sfx[8];
		sim_kube_rand_suffix(sfx, 5);
		snprintf(nbuf, sizeof nbuf, "%s%s", gen, sfx);
		sim_kube_jset_str(md, "name", nbuf);
	}
	name = sim_kube_jstr(md, "name");
	if (validate(x->r, obj, NULL, &e) != 0) {
		invalid(x, name, e.field, e.cause, e.detail);
		cJSON_Delete(obj);
		return;
	}
	if (x->r->namespaced && namespace_ok(x, name) != 0) {
		cJSON_Delete(obj);
		return;
	}
	if (sim_kube_store_get(&x->r->store, x->r->namespaced ? x->ns : "", name) != NULL) {
		sim_kube_status_details(x->resp, 409, "AlreadyExists", x->r, name, "%s \"%s\" already exists",
		    sim_kube_res_qualified(x->r, q, sizeof q), name);
		cJSON_Delete(obj);
		return;
	}
	sim_kube_prepare_new(x->c, x->r, obj, x->manager);
	committed(x, 201, obj, KE_ADDED);
	cJSON_Delete(obj);
}

/* Compares two states of an object for a no-op update: the resource
 * version and the managedFields timestamps do not count. */
static int
same_state(const cJSON *a, const cJSON *b)
{
	cJSON *ca = cJSON_Duplicate(a, 1), *cb = cJSON_Duplicate(b, 1);
	cJSON *e;
	int eq;

	cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(ca, "metadata"), "resourceVersion");
	cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(cb, "metadata"), "resourceVersion");
	cJSON_ArrayForEach(e, sim_kube_jpath(ca, "metadata.managedFields"))
		cJSON_DeleteItemFromObjectCaseSensitive(e, "time");
	cJSON_ArrayForEach(e, sim_kube_jpath(cb, "metadata.managedFields"))
		cJSON_DeleteItemFromObjectCaseSensitive(e, "time");
	eq = sim_kube_json_equal(ca, cb);
	cJSON_Delete(ca);
	cJSON_Delete(cb);
	return eq;
}

/* Everything but metadata and status: what metadata.generation counts. */
static int
spec_changed(const cJSON *a, const cJSON *b)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, a) {
		if (strcmp(m->string, "metadata") == 0 || strcmp(m->string, "status") == 0)
			continue;
		if (!sim_kube_json_equal(m, cJSON_GetObjectItemCaseSensitive(b, m->string)))
			return 1;
	}
	cJSON_ArrayForEach(m, b) {
		if (strcmp(m->string, "metadata") == 0 || strcmp(m->string, "status") == 0)
			continue;
		if (cJSON_GetObjectItemCaseSensitive(a, m->string) == NULL)
			return 1;
	}
	return 0;
}

static void
copy_member(cJSON *dst, const cJSON *src, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);

	if (v != NULL)
		sim_kube_jset(dst, key, cJSON_Duplicate(v, 1));
	else
		cJSON_DeleteItemFromObjectCaseSensitive(dst, key);
}

/* A Service keeps the addresses and node ports it was given: an update
 * that leaves them out does not get new ones. */
static void
keep_service_allocations(cJSON *nw, const cJSON *old)
{
	cJSON *spec = sim_kube_jobj(nw, "spec");
	const cJSON *ospec = cJSON_GetObjectItemCaseSensitive(old, "spec"), *op;
	cJSON *p;

	if (sim_kube_jstr(spec, "clusterIP")[0] == '\0' && sim_kube_jstr(ospec, "clusterIP")[0] != '\0') {
		copy_member(spec, ospec, "clusterIP");
		copy_member(spec, ospec, "clusterIPs");
	}
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(spec, "ports")) {
		if (cJSON_GetObjectItemCaseSensitive(p, "nodePort") != NULL)
			continue;
		cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(ospec, "ports")) {
			if (sim_kube_json_equal(cJSON_GetObjectItemCaseSensitive(op, "port"),
			    cJSON_GetObjectItemCaseSensitive(p, "port"))
			    && cJSON_GetObjectItemCaseSensitive(op, "nodePort") != NULL)
				copy_member(p, op, "nodePort");
		}
	}
}

/* Completes an update of object OLD to NW (consumed): server-owned
 * metadata, status or spec kept depending on the endpoint, validation,
 * generation, managedFields, then the commit and the answer.  SCALE
 * answers with the Scale subresource. */
static void
finish_update(struct kctx *x, cJSON *nw, const struct kobj *old, int is_apply, int scale)
{
	cJSON *oldt = sim_kube_obj_parse(old), *md, *omd;
	char av[200];
	struct verr e;
	struct kobj *o;
	const char *sub = scale ? "scale" : x->sub;

	if (oldt == NULL || !cJSON_IsObject(nw)) {
		cJSON_Delete(oldt);
		cJSON_Delete(nw);
		sim_kube_status(x->resp, 500, "InternalError", "cannot update");
		return;
	}
	sim_kube_res_apiversion(x->r, av, sizeof av);
	sim_kube_jset_str(nw, "kind", x->r->kind);
	sim_kube_jset_str(nw, "apiVersion", av);
	if (strcmp(x->sub, "status") == 0) {
		/* the status endpoint changes status alone */
		cJSON *t = cJSON_Duplicate(oldt, 1);
		copy_member(t, nw, "status");
		if (sim_kube_jpath(nw, "metadata.managedFields") != NULL)
			sim_kube_jset(sim_kube_jobj(t, "metadata"), "managedFields",
			    cJSON_Duplicate(sim_kube_jpath(nw, "metadata.managedFields"), 1));
		cJSON_Delete(nw);
		nw = t;
	} else if (x->r->status_sub) {
		copy_member(nw, oldt, "status");
	}
	md = sim_kube_jobj(nw, "metadata");
	omd = cJSON_GetObjectItemCaseSensitive(oldt, "metadata");
	sim_kube_jset_str(md, "name", old->name);
	if (x->r->namespaced)
		sim_kube_jset_str(md, "namespace", old->ns);
	copy_member(md, omd, "uid");
	copy_member(md, omd, "creationTimestamp");
	copy_member(md, omd, "deletionTimestamp");
	copy_member(md, omd, "deletionGracePeriodSeconds");
	copy_member(md, omd, "generation");
	cJSON_DeleteItemFromObjectCaseSensitive(md, "selfLink");
	if (x->r->kk == K_SERVICE)
		keep_service_allocations(nw, oldt);
	if (strcmp(x->sub, "status") != 0)
		spec_defaults(x->c, x->r, nw);
	if (validate(x->r, nw, oldt, &e) != 0) {
		invalid(x, old->name, e.field, e.cause, e.detail);
		cJSON_Delete(nw);
		cJSON_Delete(oldt);
		return;
	}
	if (x->r->has_generation && strcmp(x->sub, "status") != 0 && spec_changed(nw, oldt)) {
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(omd, "generation");
		sim_kube_jset_num(md, "generation", (cJSON_IsNumber(g) ? g->valuedouble : 0) + 1);
	}
	if (!is_apply) {
		if (cJSON_GetObjectItemCaseSensitive(md, "managedFields") == NULL)
			copy_member(md, omd, "managedFields");
		sim_kube_mf_update(nw, oldt, x->manager, av, sub);
	}
	sim_kube_normalize(nw);
	if (same_state(nw, oldt)) {
		/* a no-op: no new resource version, no event */
		if (scale)
			sim_resp_json_take(x->resp, 200, scale_of(oldt));
		else
			send_text(x->resp, 200, old);
		cJSON_Delete(nw);
		cJSON_Delete(oldt);
		return;
	}
	if (x->dry_run) {
		if (scale)
			sim_resp_json_take(x->resp, 200, scale_of(nw));
		else
			sim_resp_json(x->resp, 200, nw);
		cJSON_Delete(nw);
		cJSON_Delete(oldt);
		return;
	}
	/* The last finalizer gone from an object being deleted: it goes. */
	if (cJSON_GetObjectItemCaseSensitive(md, "deletionTimestamp") != NULL
	    && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(md, "finalizers")) == 0
	    && !(x->r->kk == K_POD && old->deleting && sim_kube_jstr(sim_kube_jpath(nw, "spec"), "nodeName")[0] != '\0'
	    && strcmp(sim_kube_jstr(sim_kube_jpath(nw, "status"), "phase"), "Running") == 0)) {
		o = sim_kube_commit(x->c, x->r, nw, KE_DELETED);
		sim_resp_json(x->resp, 200, nw);
	} else {
		o = sim_kube_commit(x->c, x->r, nw, KE_MODIFIED);
		if (o == NULL)
			sim_kube_status(x->resp, 500, "InternalError", "out of memory");
		else if (scale)
			sim_resp_json_take(x->resp, 200, scale_of(nw));
		else
			send_text(x->resp, 200, o);
	}
	cJSON_Delete(nw);
	cJSON_Delete(oldt);
}

/* A resourceVersion the client sent is a precondition. */
static int
rv_precondition(struct kctx *x, const cJSON *obj, const struct kobj *old)
{
	const char *rv = sim_kube_jstr(sim_kube_jpath(obj, "metadata"), "resourceVersion");

	if (rv[0] != '\0' && strtoull(rv, NULL, 10) != old->rv) {
		conflict_modified(x, old->name);
		return -1;
	}
	return 0;
}

static void
do_update(struct kctx *x)
{
	cJSON *obj = parse_body(x, 0), *md;
	struct kobj *old;
	const char *bname;

	if (obj == NULL)
		return;
	if (strcmp(x->sub, "scale") == 0 && x->r->scale_sub) {
		const cJSON *rep = sim_kube_jpath(obj, "spec.replicas");
		cJSON *t;

		old = sim_kube_store_get(&x->r->store, x->ns, x->name);
		if (old == NULL) {
			not_found(x, x->name);
		} else if (!cJSON_IsNumber(rep)) {
			invalid(x, x->name, "spec.replicas", "FieldValueRequired", "Required value");
		} else if (rv_precondition(x, obj, old) == 0) {
			t = sim_kube_obj_parse(old);
			sim_kube_jset_num(sim_kube_jobj(t, "spec"), "replicas", rep->valuedouble);
			finish_update(x, t, old, 0, 1);
		}
		cJSON_Delete(obj);
		return;
	}
	if (!cJSON_IsObject(obj) || check_type(x, obj) != 0) {
		if (!cJSON_IsObject(obj))
			bad_request(x, "the body must be a %s object", x->r->kind);
		cJSON_Delete(obj);
		return;
	}
	md = sim_kube_jobj(obj, "metadata");
	bname = sim_kube_jstr(md, "name");
	if (bname[0] != '\0' && strcmp(bname, x->name) != 0) {
		bad_request(x, "the name of the object (%s) does not match the name on the URL (%s)", bname,
		    x->name);
		cJSON_Delete(obj);
		return;
	}
	if (x->r->namespaced && sim_kube_jstr(md, "namespace")[0] != '\0'
	    && strcmp(sim_kube_jstr(md, "namespace"), x->ns) != 0) {
		bad_request(x, "the namespace of the provided object does not match the namespace sent on the request");
		cJSON_Delete(obj);
		return;
	}
	old = sim_kube_store_get(&x->r->store, x->ns, x->name);
	if (old == NULL) {
		if (x->r->create_on_update && x->sub[0] == '\0') {
			struct verr e;
			sim_kube_jset_str(md, "name", x->name);
			if (x->r->namespaced)
				sim_kube_jset_str(md, "namespace", x->ns);
			if (validate(x->r, obj, NULL, &e) != 0)
				invalid(x, x->name, e.field, e.cause, e.detail);
			else if (!x->r->namespaced || namespace_ok(x, x->name) == 0) {
				sim_kube_prepare_new(x->c, x->r, obj, x->manager);
				committed(x, 201, obj, KE_ADDED);
			}
		} else {
			not_found(x, x->name);
		}
		cJSON_Delete(obj);
		return;
	}
	if (rv_precondition(x, obj, old) != 0) {
		cJSON_Delete(obj);
		return;
	}
	finish_update(x, obj, old, 0, 0);
}

static void
do_patch(struct kctx *x)
{
	const char *ct = sim_req_header(x->req, "Content-Type");
	struct kobj *old = sim_kube_store_get(&x->r->store, x->ns, x->name);
	cJSON *patch, *target, *nw;
	char err[2400], av[200];
	int apply, scale = strcmp(x->sub, "scale") == 0 && x->r->scale_sub;
	const char *force = sim_req_arg(x->req, "force");

	if (ct == NULL)
		ct = "";
	apply = strncmp(ct, "application/apply-patch", 23) == 0;
	if (!apply && strncmp(ct, "application/merge-patch+json", 28) != 0
	    && strncmp(ct, "application/strategic-merge-patch+json", 38) != 0
	    && strncmp(ct, "application/json-patch+json", 27) != 0) {
		sim_kube_status(x->resp, 415, "UnsupportedMediaType",
		    "the body of the request was in an unknown format - accepted media types include: "
		    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml%s",
		    x->r->builtin ? ", application/strategic-merge-patch+json" : "");
		return;
	}
	if (!x->r->builtin && strncmp(ct, "application/strategic-merge-patch+json", 38) == 0) {
		sim_kube_status(x->resp, 415, "UnsupportedMediaType",
		    "strategic merge patch is not supported for custom resources; use merge patch or apply");
		return;
	}
	if (apply && sim_req_arg(x->req, "fieldManager") == NULL) {
		/* kube-apiserver validates PatchOptions: 422 Invalid */
		cJSON *root = status_json("Invalid",
		    "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
		cJSON *d = cJSON_AddObjectToObject(root, "details"), *causes, *c;
		cJSON_AddStringToObject(d, "group", "meta.k8s.io");
		cJSON_AddStringToObject(d, "kind", "PatchOptions");
		causes = cJSON_AddArrayToObject(d, "causes");
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "reason", "FieldValueRequired");
		cJSON_AddStringToObject(c, "message", "Required value: is required for apply patch");
		cJSON_AddStringToObject(c, "field", "fieldManager");
		cJSON_AddItemToArray(causes, c);
		cJSON_AddNumberToObject(root, "code", 422);
		sim_resp_json_take(x->resp, 422, root);
		return;
	}
	if (!apply && force != NULL) {
		invalid(x, "", "force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply patch");
		return;
	}
	patch = parse_body(x, apply);
	if (patch == NULL)
		return;
	sim_kube_res_apiversion(x->r, av, sizeof av);

	if (apply && !scale) {
		struct kobj *cur = old;
		cJSON *live = NULL;

		if (!cJSON_IsObject(patch) || check_type(x, patch) != 0) {
			if (!cJSON_IsObject(patch))
				bad_request(x, "an apply configuration must be an object");
			cJSON_Delete(patch);
			return;
		}
		if (strcmp(sim_kube_jstr(sim_kube_jpath(patch, "metadata"), "name"), x->name) != 0) {
			bad_request(x, "the name of the object (%s) does not match the name on the URL (%s)",
			    sim_kube_jstr(sim_kube_jpath(patch, "metadata"), "name"), x->name);
			cJSON_Delete(patch);
			return;
		}
		if (x->r->namespaced) {
			const char *pns = sim_kube_jstr(sim_kube_jpath(patch, "metadata"), "namespace");
			if (pns[0] != '\0' && strcmp(pns, x->ns) != 0) {
				bad_request(x, "the namespace of the provided object does not match the namespace "
				    "sent on the request");
				cJSON_Delete(patch);
				return;
			}
			sim_kube_jset_str(sim_kube_jobj(patch, "metadata"), "namespace", x->ns);
		}
		if (cur != NULL) {
			if (rv_precondition(x, patch, cur) != 0) {
				cJSON_Delete(patch);
				return;
			}
			live = sim_kube_obj_parse(cur);
		}
		nw = sim_kube_apply(live, patch, x->manager, force != NULL && strcmp(force, "true") == 0, av,
		    err, sizeof err);
		cJSON_Delete(live);
		cJSON_Delete(patch);
		if (nw == NULL) {
			cJSON *root = status_json("Conflict", err), *d;
			char q[300];
			d = cJSON_AddObjectToObject(root, "details");
			cJSON_AddStringToObject(d, "name", x->name);
			if (x->r->group[0] != '\0')
				cJSON_AddStringToObject(d, "group", x->r->group);
			cJSON_AddStringToObject(d, "kind", sim_kube_res_qualified(x->r, q, sizeof q));
			cJSON_AddNumberToObject(root, "code", 409);
			sim_resp_json_take(x->resp, 409, root);
			return;
		}
		if (cur == NULL) {
			struct verr e;
			cJSON *mf = cJSON_DetachItemFromObjectCaseSensitive(sim_kube_jobj(nw, "metadata"), "managedFields");

			if (validate(x->r, nw, NULL, &e) != 0) {
				invalid(x, x->name, e.field, e.cause, e.detail);
			} else if (!x->r->namespaced || namespace_ok(x, x->name) == 0) {
				sim_kube_prepare_new(x->c, x->r, nw, NULL);
				sim_kube_jset(sim_kube_jobj(nw, "metadata"), "managedFields", mf);
				mf = NULL;
				sim_kube_normalize(nw);
				committed(x, 201, nw, KE_ADDED);
			}
			cJSON_Delete(mf);
			cJSON_Delete(nw);
			return;
		}
		finish_update(x, nw, cur, 1, 0);
		return;
	}

	if (old == NULL) {
		cJSON_Delete(patch);
		not_found(x, x->name);
		return;
	}
	target = sim_kube_obj_parse(old);
	if (scale) {
		cJSON *s = scale_of(target);
		const cJSON *rep;

		if (strncmp(ct, "application/json-patch+json", 27) == 0)
			s = sim_kube_json_patch(s, patch, err, sizeof err);
		else
			s = sim_kube_merge_patch(s, patch);
		rep = sim_kube_jpath(s, "spec.replicas");
		if (s == NULL || !cJSON_IsNumber(rep)) {
			invalid(x, x->name, "spec.replicas", "FieldValueInvalid", "Invalid value: must be a number");
			cJSON_Delete(s);
			cJSON_Delete(target);
			cJSON_Delete(patch);
			return;
		}
		sim_kube_jset_num(sim_kube_jobj(target, "spec"), "replicas", rep->valuedouble);
		cJSON_Delete(s);
		cJSON_Delete(patch);
		finish_update(x, target, old, 0, 1);
		return;
	}
	if (strncmp(ct, "application/json-patch+json", 27) == 0) {
		nw = sim_kube_json_patch(target, patch, err, sizeof err);
		if (nw == NULL) {
			cJSON_Delete(patch);
			sim_kube_status(x->resp, 422, "Invalid", "%s", err);
			return;
		}
	} else if (strncmp(ct, "application/merge-patch+json", 28) == 0) {
		nw = sim_kube_merge_patch(target, patch);
	} else {
		nw = sim_kube_strategic_patch(target, patch);
	}
	if (rv_precondition(x, patch, old) != 0) {
		cJSON_Delete(patch);
		cJSON_Delete(nw);
		return;
	}
	cJSON_Delete(patch);
	if (!cJSON_IsObject(nw)) {
		cJSON_Delete(nw);
		bad_request(x, "the patch did not produce an object");
		return;
	}
	/* a patch cannot rename, and the stored version is the base */
	cJSON_DeleteItemFromObjectCaseSensitive(sim_kube_jobj(nw, "metadata"), "resourceVersion");
	finish_update(x, nw, old, 0, 0);
}

/* ---- delete -------------------------------------------------------------------------- */

static void
orphan_dependents(struct kcluster *c, struct kres *dep, const char *ns, const char *uid)
{
	for (size_t i = 0; i < dep->store.n; i++) {
		struct kobj *o = dep->store.v[i];
		cJSON *t, *refs;

		if (strcmp(o->ns, ns) != 0 || strcmp(o->owner_uid, uid) != 0)
			continue;
		t = sim_kube_obj_parse(o);
		refs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "metadata"),
		    "ownerReferences");
		for (int k = cJSON_GetArraySize(refs) - 1; k >= 0; k--)
			if (strcmp(sim_kube_jstr(cJSON_GetArrayItem(refs, k), "uid"), uid) == 0)
				cJSON_DeleteItemFromArray(refs, k);
		if (cJSON_GetArraySize(refs) == 0)
			cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "metadata"),
			    "ownerReferences");
		sim_kube_commit(c, dep, t, KE_MODIFIED);
		cJSON_Delete(t);
	}
}

/* Deletes (or orphans) what object UID of NS owns in DEP. */
static void
cascade(struct kcluster *c, struct kres *dep, const char *ns, const char *uid, int orphan)
{
	char names[256][256];
	int n = 0;

	if (dep == NULL || uid[0] == '\0')
		return;
	if (orphan) {
		orphan_dependents(c, dep, ns, uid);
		return;
	}
	/* collect first: deleting changes the store */
	for (;;) {
		n = 0;
		for (size_t i = sim_kube_store_lower(&dep->store, ns, ""); i < dep->store.n && n < 256; i++) {
			struct kobj *o = dep->store.v[i];
			if (strcmp(o->ns, ns) != 0)
				break;
			if (strcmp(o->owner_uid, uid) == 0 && !o->deleting)
				snprintf(names[n++], sizeof names[0], "%s", o->name);
		}
		for (int k = 0; k < n; k++)
			sim_kube_delete_obj(c, dep, ns, names[k], -1, 0);
		if (n < 256)
			break;
	}
}

void
sim_kube_namespace_empty(struct kcluster *c, const char *ns)
{
	for (int i = 0; i < c->nres; i++) {
		struct kres *nr = c->res[i];
		char names[256][256];
		int n;

		if (!nr->namespaced)
			continue;
		do {
			n = 0;
			for (size_t k = sim_kube_store_lower(&nr->store, ns, ""); k < nr->store.n && n < 256; k++) {
				struct kobj *x = nr->store.v[k];
				if (strcmp(x->ns, ns) != 0)
					break;
				if (!x->deleting)
					snprintf(names[n++], sizeof names[0], "%s", x->name);
			}
			for (int k = 0; k < n; k++)
				sim_kube_delete_obj(c, nr, ns, names[k], -1, 0);
		} while (n == 256);
	}
}

int
sim_kube_delete_obj(struct kcluster *c, struct kres *r, const char *ns, const char *name, int grace,
    int orphan)
{
	struct kobj *o = sim_kube_store_get(&r->store, ns, name);
	cJSON *t, *md;
	char now[40], uid[40];

	if (o == NULL)
		return -1;
	t = sim_kube_obj_parse(o);
	if (t == NULL)
		return -1;
	md = sim_kube_jobj(t, "metadata");
	snprintf(uid, sizeof uid, "%s", o->uid);
	sim_kube_now_str(now, sizeof now);

	if (r->kk == K_POD) {
		const char *node = sim_kube_jstr(sim_kube_jpath(t, "spec"), "nodeName");
		const char *phase = sim_kube_jstr(sim_kube_jpath(t, "status"), "phase");
		const cJSON *tg = sim_kube_jpath(t, "spec.terminationGracePeriodSeconds");
		int g = grace >= 0 ? grace : cJSON_IsNumber(tg) ? tg->valueint : 30;

		/* A pod on a node stops gracefully: it stays, Terminating, until
		 * its containers are down. */
		if (g > 0 && node[0] != '\0' && (strcmp(phase, "Running") == 0 || strcmp(phase, "Pending") == 0)) {
			int wait = sim_kube_timings.pod_terminate < g ? sim_kube_timings.pod_terminate : g;

			if (!o->deleting) {
				char dt[40];
				sim_time_rfc3339(sim_now_ms() + (int64_t)g * 1000, dt, sizeof dt);
				sim_kube_jset_str(md, "deletionTimestamp", dt);
				sim_kube_jset_num(md, "deletionGracePeriodSeconds", g);
				sim_kube_normalize(t);
				sim_kube_commit(c, r, t, KE_MODIFIED);
				sim_kube_timer_add(c, KT_POD_GONE, sim_now_ms() + (int64_t)wait * 1000, ns, name, uid, 0);
				{
					const cJSON *ct = cJSON_GetArrayItem(sim_kube_jpath(t, "spec.containers"), 0);
					char fp[300];
					snprintf(fp, sizeof fp, "spec.containers{%s}", sim_kube_jstr(ct, "name"));
					sim_kube_event(c, "Pod", "v1", ns, name, uid, fp, "Normal", "Killing", "kubelet",
					    node, "Stopping container %s", sim_kube_jstr(ct, "name"));
				}
			}
			cJSON_Delete(t);
			return 1;
		}
	}
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(md, "finalizers")) > 0) {
		if (!o->deleting) {
			sim_kube_jset_str(md, "deletionTimestamp", now);
			sim_kube_jset_num(md, "deletionGracePeriodSeconds", 0);
			sim_kube_normalize(t);
			sim_kube_commit(c, r, t, KE_MODIFIED);
		}
		cJSON_Delete(t);
		return 1;
	}
	if (r->kk == K_NAMESPACE) {
		/* Terminating now; the namespace controller empties it a few
		 * simulated seconds later, and it goes once empty. */
		if (!o->deleting) {
			sim_kube_jset_str(md, "deletionTimestamp", now);
			sim_kube_jset_num(md, "deletionGracePeriodSeconds", 0);
			sim_kube_jset_str(sim_kube_jobj(t, "status"), "phase", "Terminating");
			sim_kube_normalize(t);
			sim_kube_commit(c, r, t, KE_MODIFIED);
			sim_kube_timer_add(c, KT_NS_GONE, sim_now_ms() + 5000, "", name, uid, 0);
		}
		cJSON_Delete(t);
		return 1;
	}
	sim_kube_commit(c, r, t, KE_DELETED);
	cJSON_Delete(t);
	/* the garbage collector's part */
	if (r->kk == K_DEPLOYMENT)
		cascade(c, sim_kube_res_builtin(c, K_REPLICASET), ns, uid, orphan);
	else if (r->kk == K_REPLICASET)
		cascade(c, sim_kube_res_builtin(c, K_POD), ns, uid, orphan);
	return 0;
}

static void
delete_options(struct kctx *x, int *grace, int *orphan, char *pre_uid, char *pre_rv)
{
	cJSON *b = x->req->body_len > 0 ? cJSON_ParseWithLength(x->req->body, x->req->body_len) : NULL;
	const char *gq = sim_req_arg(x->req, "gracePeriodSeconds");
	const char *pq = sim_req_arg(x->req, "propagationPolicy");
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(b, "gracePeriodSeconds");
	const char *pp = sim_kube_jstr(b, "propagationPolicy");
	const cJSON *dr;

	*grace = -1;
	*orphan = 0;
	if (cJSON_IsNumber(g))
		*grace = g->valueint;
	if (gq != NULL)
		*grace = atoi(gq);
	if (pq != NULL)
		pp = pq;
	*orphan = strcmp(pp, "Orphan") == 0 || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "orphanDependents"));
	snprintf(pre_uid, 40, "%s", sim_kube_jstr(sim_kube_jpath(b, "preconditions"), "uid"));
	snprintf(pre_rv, 32, "%s", sim_kube_jstr(sim_kube_jpath(b, "preconditions"), "resourceVersion"));
	cJSON_ArrayForEach(dr, cJSON_GetObjectItemCaseSensitive(b, "dryRun")) {
		if (cJSON_IsString(dr) && strcmp(dr->valuestring, "All") == 0)
			x->dry_run = 1;
	}
	cJSON_Delete(b);
}

static void
do_delete(struct kctx *x)
{
	struct kobj *o = sim_kube_store_get(&x->r->store, x->ns, x->name);
	int grace, orphan, rc;
	char pre_uid[40], pre_rv[32];
	cJSON *last;

	if (o == NULL) {
		not_found(x, x->name);
		return;
	}
	delete_options(x, &grace, &orphan, pre_uid, pre_rv);
	if (pre_uid[0] != '\0' && strcmp(pre_uid, o->uid) != 0) {
		sim_kube_status_details(x->resp, 409, "Conflict", x->r, x->name,
		    "Precondition failed: UID in precondition: %s, UID in object meta: %s", pre_uid, o->uid);
		return;
	}
	if (pre_rv[0] != '\0' && strtoull(pre_rv, NULL, 10) != o->rv) {
		sim_kube_status_details(x->resp, 409, "Conflict", x->r, x->name,
		    "Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %llu",
		    pre_rv, (unsigned long long)o->rv);
		return;
	}
	if (x->dry_run) {
		send_text(x->resp, 200, o);
		return;
	}
	last = sim_kube_obj_parse(o);
	rc = sim_kube_delete_obj(x->c, x->r, x->ns, x->name, grace, orphan);
	o = sim_kube_store_get(&x->r->store, x->ns, x->name);
	if (rc > 0 && o != NULL)
		send_text(x->resp, 200, o);		/* still there: being deleted */
	else if (last != NULL)
		sim_resp_json(x->resp, 200, last);
	else
		sim_kube_status(x->resp, 500, "InternalError", "cannot delete");
	cJSON_Delete(last);
}

static void
do_delete_collection(struct kctx *x)
{
	struct ksel ls, fs;
	char err[512], av[200];
	struct kstore *st = &x->r->store;
	size_t lo = 0, hi = st->n;
	char (*names)[256] = NULL;
	char (*nss)[64] = NULL;
	size_t n = 0;
	int grace, orphan;
	char pre_uid[40], pre_rv[32];
	cJSON *out, *items;

	if (sim_kube_sel_parse(&ls, sim_req_arg(x->req, "labelSelector"), err, sizeof err) != 0) {
		bad_request(x, "%s", err);
		return;
	}
	if (sim_kube_fsel_parse(&fs, x->r, sim_req_arg(x->req, "fieldSelector"), err, sizeof err) != 0) {
		sim_kube_sel_free(&ls);
		bad_request(x, "%s", err);
		return;
	}
	delete_options(x, &grace, &orphan, pre_uid, pre_rv);
	if (x->has_ns) {
		lo = sim_kube_store_lower(st, x->ns, "");
		for (hi = lo; hi < st->n && strcmp(st->v[hi]->ns, x->ns) == 0; hi++)
			;
	}
	names = malloc((hi - lo + 1) * sizeof *names);
	nss = malloc((hi - lo + 1) * sizeof *nss);
	out = cJSON_CreateObject();
	{
		char kind[200];
		snprintf(kind, sizeof kind, "%sList", x->r->kind);
		cJSON_AddStringToObject(out, "kind", kind);
	}
	cJSON_AddStringToObject(out, "apiVersion", sim_kube_res_apiversion(x->r, av, sizeof av));
	cJSON_AddObjectToObject(out, "metadata");
	items = cJSON_AddArrayToObject(out, "items");
	for (size_t i = lo; names != NULL && nss != NULL && i < hi; i++) {
		struct kobj *o = st->v[i];
		if (sim_kube_sel_match(&ls, o) && sim_kube_fsel_match(&fs, o)) {
			snprintf(names[n], sizeof names[0], "%s", o->name);
			snprintf(nss[n], sizeof nss[0], "%s", o->ns);
			cJSON_AddItemToArray(items, sim_kube_obj_parse(o));
			n++;
		}
	}
	if (!x->dry_run)
		for (size_t i = 0; i < n; i++)
			sim_kube_delete_obj(x->c, x->r, nss[i], names[i], grace, orphan);
	sim_kube_sel_free(&ls);
	sim_kube_sel_free(&fs);
	free(names);
	free(nss);
	sim_resp_json_take(x->resp, 200, out);
}

/* ---- routing ----------------------------------------------------------------------------- */

static void
method_not_allowed(struct kctx *x)
{
	sim_kube_status(x->resp, 405, "MethodNotAllowed",
	    "the server does not allow this method on the requested resource");
}

static void
field_manager(struct kctx *x)
{
	const char *fm = sim_req_arg(x->req, "fieldManager");
	const char *ua = sim_req_header(x->req, "User-Agent");

	if (fm != NULL && fm[0] != '\0') {
		snprintf(x->manager, sizeof x->manager, "%.128s", fm);
		return;
	}
	/* kube-apiserver's default: the User-Agent up to its first '/' */
	if (ua != NULL && ua[0] != '\0') {
		snprintf(x->manager, sizeof x->manager, "%.*s", (int)(strcspn(ua, "/") < 128 ? strcspn(ua, "/") : 128), ua);
		return;
	}
	snprintf(x->manager, sizeof x->manager, "unknown");
}

void
sim_kube_api(struct kcluster *c, struct sim_req *req, struct sim_resp *resp, const char *path)
{
	struct kctx x;
	char buf[1024], *segs[12];
	int nseg = 0, i, k;
	const char *m = req->method, *dr = sim_req_arg(req, "dryRun");

	memset(&x, 0, sizeof x);
	x.c = c;
	x.req = req;
	x.resp = resp;
	if (strlen(path) >= sizeof buf) {
		sim_kube_status(resp, 404, "NotFound", "the server could not find the requested resource");
		return;
	}
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = strtok(buf, "/"); p != NULL && nseg < 12; p = strtok(NULL, "/"))
		segs[nseg++] = p;
	if (nseg < 2)
		goto notfound;
	if (strcmp(segs[0], "api") == 0) {
		snprintf(x.version, sizeof x.version, "%s", segs[1]);
		i = 2;
	} else {
		if (nseg < 3)
			goto notfound;
		snprintf(x.group, sizeof x.group, "%s", segs[1]);
		snprintf(x.version, sizeof x.version, "%s", segs[2]);
		i = 3;
	}
	if (i < nseg && strcmp(segs[i], "watch") == 0) {
		x.watch = 1;
		i++;
	}
	k = nseg - i;
	if (k <= 0)
		goto notfound;
	if (strcmp(segs[i], "namespaces") == 0 && k >= 3
	    && !(x.group[0] == '\0' && k == 3 && (strcmp(segs[i + 2], "status") == 0
	    || strcmp(segs[i + 2], "finalize") == 0))) {
		if (k > 5 || strlen(segs[i + 1]) >= sizeof x.ns)
			goto notfound;
		snprintf(x.ns, sizeof x.ns, "%s", segs[i + 1]);
		x.has_ns = 1;
		x.r = sim_kube_res_find(c, x.group, x.version, segs[i + 2]);
		if (k >= 4)
			snprintf(x.name, sizeof x.name, "%s", segs[i + 3]);
		if (k == 5)
			snprintf(x.sub, sizeof x.sub, "%s", segs[i + 4]);
	} else {
		if (k > 3)
			goto notfound;
		x.r = sim_kube_res_find(c, x.group, x.version, segs[i]);
		if (k >= 2)
			snprintf(x.name, sizeof x.name, "%s", segs[i + 1]);
		if (k == 3)
			snprintf(x.sub, sizeof x.sub, "%s", segs[i + 2]);
	}
	if (x.r == NULL)
		goto notfound;
	/* a namespaced type named without its namespace, or the reverse */
	if ((x.r->namespaced && !x.has_ns && x.name[0] != '\0') || (!x.r->namespaced && x.has_ns))
		goto notfound;
	if (x.sub[0] != '\0' && !((strcmp(x.sub, "status") == 0 && x.r->status_sub)
	    || (strcmp(x.sub, "scale") == 0 && x.r->scale_sub)
	    || (strcmp(x.sub, "log") == 0 && x.r->kk == K_POD && strcmp(m, "GET") == 0)))
		goto notfound;
	if (x.watch && strcmp(m, "GET") != 0) {
		method_not_allowed(&x);
		return;
	}
	x.dry_run = dr != NULL && strcmp(dr, "All") == 0;
	if (dr != NULL && strcmp(dr, "All") != 0 && dr[0] != '\0') {
		bad_request(&x, "Invalid dry run value: %s (the only supported value is \"All\")", dr);
		return;
	}
	field_manager(&x);

	if (strcmp(m, "GET") == 0) {
		if (x.name[0] == '\0' || x.watch) {
			if (!(x.r->verbs & KV_LIST)) {
				method_not_allowed(&x);
				return;
			}
			if (x.watch && x.name[0] != '\0') {
				/* the /watch/ form for one object: a name field selector */
				struct klist_opts opts;
				char err[256], fs[300];

				memset(&opts, 0, sizeof opts);
				opts.ns = x.has_ns ? x.ns : NULL;
				snprintf(fs, sizeof fs, "metadata.name=%s", x.name);
				if (sim_kube_fsel_parse(&opts.fsel, x.r, fs, err, sizeof err) != 0) {
					bad_request(&x, "%s", err);
					return;
				}
				opts.fmt = wants_table(req) ? KF_TABLE : wants_meta(req) ? KF_META : KF_JSON;
				opts.include_object = include_object(req);
				sim_kube_watch(c, x.r, &opts, req, resp);
				return;
			}
			do_list(&x);
		} else {
			if (!(x.r->verbs & KV_GET)) {
				method_not_allowed(&x);
				return;
			}
			do_get(&x);
		}
	} else if (strcmp(m, "POST") == 0) {
		if (x.name[0] != '\0' || !(x.r->verbs & KV_CREATE)) {
			method_not_allowed(&x);
			return;
		}
		if (x.r->namespaced && !x.has_ns) {
			goto notfound;
		}
		do_create(&x);
	} else if (strcmp(m, "PUT") == 0) {
		if (x.name[0] == '\0' || !(x.r->verbs & KV_UPDATE)) {
			method_not_allowed(&x);
			return;
		}
		do_update(&x);
	} else if (strcmp(m, "PATCH") == 0) {
		if (x.name[0] == '\0' || !(x.r->verbs & KV_PATCH)) {
			method_not_allowed(&x);
			return;
		}
		do_patch(&x);
	} else if (strcmp(m, "DELETE") == 0) {
		if (x.sub[0] != '\0') {
			method_not_allowed(&x);
			return;
		}
		if (x.name[0] == '\0') {
			if (!(x.r->verbs & KV_DELETECOLLECTION)) {
				method_not_allowed(&x);
				return;
			}
			do_delete_collection(&x);
		} else {
			if (!(x.r->verbs & KV_DELETE)) {
				method_not_allowed(&x);
				return;
			}
			do_delete(&x);
		}
	} else {
		method_not_allowed(&x);
	}
	return;
notfound:
	sim_kube_status(resp, 404, "NotFound", "the server could not find the requested resource");
}
