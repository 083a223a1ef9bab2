/*
 * freeze.c — blue's workloads frozen during T2 (freeze.h).
 *
 * Field names and semantics follow the Kubernetes API reference for
 * admissionregistration.k8s.io/v1 ("ValidatingAdmissionPolicy",
 * "ValidatingAdmissionPolicyBinding") and the "Validating Admission Policy"
 * concept page (stable since v1.30; v1beta1 behind a feature gate in 1.28
 * and 1.29): the policy's spec.failurePolicy, spec.matchConstraints
 * .resourceRules and spec.validations[].expression/message/reason, and the
 * binding's spec.policyName, spec.validationActions and
 * spec.matchResources.namespaceSelector.  A rule's resources name the
 * main resource only ("deployments"); a subresource matches only when
 * named ("deployments/scale"), which is how the scale and status writes
 * stay allowed.  The expression sees the admission request as `request`,
 * whose userInfo.username is the user kube-apiserver authenticated: the
 * same name a SelfSubjectReview (authentication.k8s.io/v1, what `kubectl
 * auth whoami` asks) returns in status.userInfo.username.  Namespaces are
 * selected by the kubernetes.io/metadata.name label, which the API server
 * sets on every namespace (GA in 1.22).
 *
 * The policy denies with failurePolicy Fail: if blue's API server cannot
 * evaluate it, writes are refused rather than let through, which is what
 * a freeze promises.  Nothing here is enforced by the simulator (it
 * stores the objects and evaluates no CEL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kube/kube_client.h"
#include "src/freeze.h"
#include "src/http.h"
#include "src/lock.h"
#include "src/log.h"

#define MOD "freeze"
#define GROUP "admissionregistration.k8s.io"
#define GV "/apis/" GROUP "/v1"
#define POLICIES GV "/validatingadmissionpolicies"
#define BINDINGS GV "/validatingadmissionpolicybindings"
#define MANAGED_BY "app.kubernetes.io/managed-by"

static void
call_init(struct kube_call *call, long timeout_ms, long long deadline)
{
	memset(call, 0, sizeof *call);
	call->timeout_ms = timeout_ms;
	call->deadline_ms = deadline;
}

static long long
deadline_for(long timeout_ms)
{
	return timeout_ms > 0 ? http_now_ms() + timeout_ms : 0;
}

int
freeze_name(const char *switchover, char *buf, size_t len)
{
	char lease[64];

	if (switchover == NULL || len < FREEZE_NAME_MAX
	    || lock_lease_name_for(switchover, lease, sizeof lease) != 0)
		return -1;
	/* "bgswitch-NAME" -> "bgswitch-freeze-NAME" */
	snprintf(buf, len, "bgswitch-freeze-%s", lease + strlen("bgswitch-"));
	return 0;
}

/* ---- before any write ------------------------------------------------------------- */

/* Whether blue serves both types in admissionregistration.k8s.io/v1: 1,
 * 0 (ERR says what is missing and what would serve it), -1 a failed read. */
static int
api_served(struct kube_client *c, long timeout_ms, long long deadline, char *err, size_t errlen)
{
	struct kube_call call;
	cJSON *doc = NULL, *ver = NULL;
	const cJSON *r;
	int policies = 0, bindings = 0;
	char version[64] = "";

	call_init(&call, timeout_ms, deadline);
	if (kube_get(c, GV, &doc, &call) != 0 && call.err != KUBE_E_NOT_FOUND) {
		snprintf(err, errlen, "freeze: discovery: %s", call.error);
		return -1;
	}
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "resources")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(r, "name");

		if (!cJSON_IsString(name))
			continue;
		policies |= strcmp(name->valuestring, "validatingadmissionpolicies") == 0;
		bindings |= strcmp(name->valuestring, "validatingadmissionpolicybindings") == 0;
	}
	cJSON_Delete(doc);
	if (policies && bindings)
		return 1;
	/* Name the version blue runs: the fix is an upgrade. */
	call_init(&call, timeout_ms, deadline);
	if (kube_get(c, "/version", &ver, &call) == 0) {
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(ver, "gitVersion");

		if (cJSON_IsString(g))
			snprintf(version, sizeof version, " (blue runs %s)", g->valuestring);
	}
	cJSON_Delete(ver);
	snprintf(err, errlen, "freeze: blue does not serve %s/v1 validatingadmissionpolicies and "
	    "validatingadmissionpolicybindings%s: sync.freeze needs Kubernetes 1.30 or later on blue "
	    "(turn sync.freeze off, or upgrade blue first)", GROUP, version);
	return 0;
}

int
freeze_supported(struct kube_client *blue, long timeout_ms, char *err, size_t errlen)
{
	if (blue == NULL) {
		snprintf(err, errlen, "freeze: no connection to blue");
		return -1;
	}
	return api_served(blue, timeout_ms, 0, err, errlen);
}

/* bgswitch's user name on blue, as admission sees it, into BUF. */
static int
whoami(struct kube_client *c, long timeout_ms, long long deadline, char *buf, size_t n,
    char *err, size_t errlen)
{
	struct kube_call call;
	cJSON *out = NULL;
	const cJSON *u;

	call_init(&call, timeout_ms, deadline);
	if (kube_create(c, "/apis/authentication.k8s.io/v1/selfsubjectreviews",
	    "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}", &out, &call) != 0) {
		snprintf(err, errlen, "freeze: who am I on blue (SelfSubjectReview): %s", call.error);
		return -1;
	}
	u = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(out, "status"), "userInfo"), "username");
	if (!cJSON_IsString(u) || u->valuestring[0] == '\0' || strlen(u->valuestring) >= n) {
		cJSON_Delete(out);
		snprintf(err, errlen, "freeze: blue's SelfSubjectReview names no user: bgswitch cannot "
		    "exempt itself from the freeze");
		return -1;
	}
	snprintf(buf, n, "%s", u->valuestring);
	cJSON_Delete(out);
	return 0;
}

/* S as a CEL string literal ("..." with \\ and \" escaped) into BUF.
 * Control characters are refused: no real user name has them. */
static int
cel_quote(const char *s, char *buf, size_t n)
{
	size_t o = 0;

	if (n < 3)
		return -1;
	buf[o++] = '"';
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return -1;
		if (o + 3 >= n)
			return -1;
		if (*s == '"' || *s == '\\')
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return 0;
}

/* ---- the two objects --------------------------------------------------------------- */

static cJSON *
metadata(cJSON *obj, const char *name)
{
	cJSON *md = cJSON_AddObjectToObject(obj, "metadata");

	cJSON_AddStringToObject(md, "name", name);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "labels"), MANAGED_BY, "bgswitch");
	return md;
}

static cJSON *
policy_json(const char *name, const char *switchover, const char *user_lit)
{
	static const char *const ops[] = { "CREATE", "UPDATE", "DELETE" };
	static const char *const res[] = { "deployments", "statefulsets", "daemonsets" };
	cJSON *o = cJSON_CreateObject(), *spec, *rule, *v;
	char expr[1200], msg[600];	/* expr: the quoted user (at most 1100) always fits */

	cJSON_AddStringToObject(o, "apiVersion", GROUP "/v1");
	cJSON_AddStringToObject(o, "kind", "ValidatingAdmissionPolicy");
	metadata(o, name);
	spec = cJSON_AddObjectToObject(o, "spec");
	cJSON_AddStringToObject(spec, "failurePolicy", "Fail");
	rule = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(rule, "apiGroups"), cJSON_CreateString("apps"));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(rule, "apiVersions"), cJSON_CreateString("v1"));
	cJSON_AddItemToObject(rule, "operations", cJSON_CreateStringArray(ops, 3));
	cJSON_AddItemToObject(rule, "resources", cJSON_CreateStringArray(res, 3));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_AddObjectToObject(spec, "matchConstraints"),
	    "resourceRules"), rule);
	v = cJSON_CreateObject();
	snprintf(expr, sizeof expr, "request.userInfo.username == %s", user_lit);
	cJSON_AddStringToObject(v, "expression", expr);
	/* One line (the API refuses line breaks), saying who, why and how to
	 * undo it by hand. */
	snprintf(msg, sizeof msg, "blue is frozen by bgswitch while switchover %s syncs to green: "
	    "deployments, statefulsets and daemonsets here cannot change until the sync ends "
	    "(to thaw by hand: kubectl delete validatingadmissionpolicybinding %s)", switchover, name);
	cJSON_AddStringToObject(v, "message", msg);
	cJSON_AddStringToObject(v, "reason", "Forbidden");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "validations"), v);
	return o;
}

static cJSON *
binding_json(const char *name, char *const *namespaces)
{
	cJSON *o = cJSON_CreateObject(), *spec, *expr, *vals;

	cJSON_AddStringToObject(o, "apiVersion", GROUP "/v1");
	cJSON_AddStringToObject(o, "kind", "ValidatingAdmissionPolicyBinding");
	metadata(o, name);
	spec = cJSON_AddObjectToObject(o, "spec");
	cJSON_AddStringToObject(spec, "policyName", name);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "validationActions"), cJSON_CreateString("Deny"));
	expr = cJSON_CreateObject();
	cJSON_AddStringToObject(expr, "key", "kubernetes.io/metadata.name");
	cJSON_AddStringToObject(expr, "operator", "In");
	vals = cJSON_AddArrayToObject(expr, "values");
	for (char *const *p = namespaces; *p != NULL; p++)
		cJSON_AddItemToArray(vals, cJSON_CreateString(*p));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_AddObjectToObject(
	    cJSON_AddObjectToObject(spec, "matchResources"), "namespaceSelector"), "matchExpressions"), expr);
	return o;
}

/* Server-side apply of OBJ at COLLECTION/NAME. */
static int
apply(struct kube_client *c, const char *collection, const char *name, cJSON *obj, long timeout_ms,
    long long deadline, char *err, size_t errlen)
{
	struct kube_call call;
	char path[300], *body = cJSON_PrintUnformatted(obj);
	int rc;

	if (body == NULL) {
		snprintf(err, errlen, "freeze: out of memory");
		return -1;
	}
	snprintf(path, sizeof path, "%s/%s", collection, name);
	call_init(&call, timeout_ms, deadline);
	rc = kube_apply(c, path, body, strlen(body), FREEZE_FIELD_MANAGER, true, NULL, &call);
	free(body);
	if (rc != 0) {
		snprintf(err, errlen, "freeze: %s%s", call.error, call.err == KUBE_E_FORBIDDEN
		    ? " (bgswitch preflight checks this: \"blue freeze policies\")" : "");
		return -1;
	}
	return 0;
}

int
freeze_apply(struct kube_client *blue, const char *switchover, char *const *namespaces,
    long timeout_ms, char *err, size_t errlen)
{
	long long deadline = deadline_for(timeout_ms);
	char name[FREEZE_NAME_MAX], user[512], lit[1100];
	cJSON *pol, *bind;
	int rc;

	if (blue == NULL || switchover == NULL || switchover[0] == '\0'
	    || freeze_name(switchover, name, sizeof name) != 0) {
		snprintf(err, errlen, "freeze: no cluster or no switchover name");
		return -1;
	}
	if (namespaces == NULL || namespaces[0] == NULL) {
		snprintf(err, errlen, "freeze: no namespaces to freeze (sync.freeze needs sync.namespaces)");
		return -1;
	}
	for (char *const *p = namespaces; *p != NULL; p++) {
		if ((*p)[0] == '\0') {
			snprintf(err, errlen, "freeze: an empty namespace name");
			return -1;
		}
		/* AKS keeps its own add-ons there (CoreDNS, metrics-server,
		 * konnectivity) and must be able to repair them. */
		if (strcmp(*p, "kube-system") == 0) {
			snprintf(err, errlen, "freeze: will not freeze kube-system: AKS manages the workloads "
			    "there (leave it out of sync.namespaces)");
			return -1;
		}
	}
	if ((rc = api_served(blue, timeout_ms, deadline, err, errlen)) != 1)
		return -1;
	if (whoami(blue, timeout_ms, deadline, user, sizeof user, err, errlen) != 0)
		return -1;
	if (cel_quote(user, lit, sizeof lit) != 0) {
		snprintf(err, errlen, "freeze: bgswitch's user name on blue cannot be written in a policy");
		return -1;
	}
	pol = policy_json(name, switchover, lit);
	bind = binding_json(name, namespaces);
	/* The policy first: a binding never names a policy that is not there. */
	rc = apply(blue, POLICIES, name, pol, timeout_ms, deadline, err, errlen);
	if (rc == 0)
		rc = apply(blue, BINDINGS, name, bind, timeout_ms, deadline, err, errlen);
	cJSON_Delete(pol);
	cJSON_Delete(bind);
	if (rc == 0)
		log_info(MOD, "blue frozen: %s (exempt: %s)", name, user);
	return rc;
}

/* DELETE COLLECTION/NAME; gone already is fine. */
static int
remove_one(struct kube_client *c, const char *collection, const char *name, long timeout_ms,
    long long deadline, char *err, size_t errlen)
{
	struct kube_call call;
	char path[300];

	snprintf(path, sizeof path, "%s/%s", collection, name);
	call_init(&call, timeout_ms, deadline);
	if (kube_delete(c, path, KUBE_PROPAGATION_DEFAULT, NULL, &call) != 0
	    && call.err != KUBE_E_NOT_FOUND) {
		snprintf(err, errlen, "freeze: thaw: %s", call.error);
		return -1;
	}
	return 0;
}

int
freeze_remove(struct kube_client *blue, const char *switchover, long timeout_ms, char *err,
    size_t errlen)
{
	long long deadline = deadline_for(timeout_ms);
	char name[FREEZE_NAME_MAX];

	if (blue == NULL || switchover == NULL || switchover[0] == '\0'
	    || freeze_name(switchover, name, sizeof name) != 0) {
		snprintf(err, errlen, "freeze: no cluster or no switchover name");
		return -1;
	}
	/* The binding first: it is what makes the policy deny. */
	if (remove_one(blue, BINDINGS, name, timeout_ms, deadline, err, errlen) != 0
	    || remove_one(blue, POLICIES, name, timeout_ms, deadline, err, errlen) != 0)
		return -1;
	log_info(MOD, "blue thawed: %s", name);
	return 0;
}

/* 1 when COLLECTION/NAME exists, 0 when not (or not served), -1 on error. */
static int
exists(struct kube_client *c, const char *collection, const char *name, char *err, size_t errlen)
{
	struct kube_call call;
	char path[300];

	snprintf(path, sizeof path, "%s/%s", collection, name);
	memset(&call, 0, sizeof call);
	if (kube_get(c, path, NULL, &call) == 0)
		return 1;
	if (call.err == KUBE_E_NOT_FOUND)
		return 0;
	snprintf(err, errlen, "freeze: %s", call.error);
	return -1;
}

int
freeze_present(struct kube_client *blue, const char *switchover, int *present, char *err,
    size_t errlen)
{
	char name[FREEZE_NAME_MAX];
	int b, p;

	*present = 0;
	if (blue == NULL || switchover == NULL || switchover[0] == '\0'
	    || freeze_name(switchover, name, sizeof name) != 0) {
		snprintf(err, errlen, "freeze: no cluster or no switchover name");
		return -1;
	}
	if ((b = exists(blue, BINDINGS, name, err, errlen)) < 0
	    || (p = exists(blue, POLICIES, name, err, errlen)) < 0)
		return -1;
	*present = b || p;
	return 0;
}
