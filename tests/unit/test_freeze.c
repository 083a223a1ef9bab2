/*
 * test_freeze.c — sync.freeze (src/freeze.c) against the simulator,
 * started in-process with a world where both clusters exist.  Blue in the
 * default world runs Kubernetes 1.29.7, which (like a real 1.29 API
 * server) does not serve admissionregistration.k8s.io/v1
 * ValidatingAdmissionPolicy: that is the "cannot freeze" case.  Green runs
 * 1.30.5 and serves it, so the freeze itself is exercised on green's API
 * server (freeze.c does not care which role the cluster plays).  The
 * simulator stores the policy and binding and enforces neither, so these
 * tests check the objects written, not their effect.  Run from the
 * repository root (it reads sim/worlds/default.yaml).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube_client.h"
#include "src/freeze.h"
#include "tests/lib/simkube.h"

#define assert_contains(hay, needle) do { \
	if (strstr((hay), (needle)) == NULL) \
		fail_msg("\"%s\" not found in \"%s\"", (needle), (hay)); \
} while (0)

#define GV "/apis/admissionregistration.k8s.io/v1"
#define POLICY GV "/validatingadmissionpolicies/bgswitch-freeze-prod-weu"
#define BINDING GV "/validatingadmissionpolicybindings/bgswitch-freeze-prod-weu"

static struct simkube sk;
static struct kube_client *blue, *green;

/* ---- pure ------------------------------------------------------------------------- */

static void
test_names(void **state)
{
	char buf[FREEZE_NAME_MAX], err[512];
	char *none[] = { NULL };

	(void)state;
	assert_int_equal(freeze_name("prod-weu", buf, sizeof buf), 0);
	assert_string_equal(buf, "bgswitch-freeze-prod-weu");
	assert_int_equal(freeze_name("Prod WEU / canary #2", buf, sizeof buf), 0);
	assert_string_equal(buf, "bgswitch-freeze-prod-weu-canary-2");
	/* Long names are cut and keep a hash, as the lock's Lease name. */
	assert_int_equal(freeze_name("a-very-long-switchover-name-that-goes-on-and-on-past-the-limit-x",
	    buf, sizeof buf), 0);
	assert_true(strlen(buf) <= strlen("bgswitch-freeze-") + 54);
	assert_int_equal(freeze_name(NULL, buf, sizeof buf), -1);
	assert_int_equal(freeze_name("x", buf, 10), -1);

	/* Refused before any I/O. */
	assert_int_equal(freeze_apply(NULL, "prod-weu", none, 1000, err, sizeof err), -1);
	assert_int_equal(freeze_remove(NULL, "prod-weu", 1000, err, sizeof err), -1);
}

/* ---- against the simulator ---------------------------------------------------------- */

/* The default world with green existing (Kubernetes 1.30.5). */
static const char green_entry[] =
    "    exists: true\n"
    "    dns_prefix: aks-prod-green\n"
    "    node_pools:\n"
    "      - { name: system, mode: System, count: 3, vm_size: Standard_D4ds_v5 }\n"
    "    namespaces:\n"
    "      shop:\n"
    "        - { name: cart, replicas: 1, image: contoso.azurecr.io/shop/cart:2.14.0 }\n";

static int
sim_setup(void **state)
{
	(void)state;
	if (simkube_start_green(&sk, "freeze", 100, green_entry) != 0)
		return -1;
	blue = simkube_client(&sk, "aks-prod-blue");
	green = simkube_client(&sk, "aks-prod-green");
	return blue != NULL && green != NULL ? 0 : -1;
}

static int
sim_teardown(void **state)
{
	(void)state;
	return simkube_stop(&sk);
}

static cJSON *
get(struct kube_client *c, const char *path)
{
	struct kube_call call = { 0 };
	cJSON *j = NULL;

	if (kube_get(c, path, &j, &call) != 0)
		fail_msg("GET %s: %s", path, call.error);
	return j;
}

static long
get_status(struct kube_client *c, const char *path)
{
	struct kube_call call = { 0 };

	kube_get(c, path, NULL, &call);
	return call.status;
}

static const cJSON *
at(const cJSON *j, const char *a, const char *b)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, a), b);
}

static void
assert_json(const cJSON *got, const char *want)
{
	cJSON *w = cJSON_Parse(want);
	char *g = cJSON_PrintUnformatted(got);

	assert_non_null(w);
	if (!cJSON_Compare(got, w, 1))
		fail_msg("got  %s\nwant %s", g != NULL ? g : "(null)", want);
	free(g);
	cJSON_Delete(w);
}

static const char *
rv(const cJSON *obj)
{
	return at(obj, "metadata", "resourceVersion")->valuestring;
}

/* The user the simulator authenticates green's kubeconfig as. */
static void
whoami(struct kube_client *c, char *buf, size_t n)
{
	struct kube_call call = { 0 };
	cJSON *out = NULL;

	if (kube_create(c, "/apis/authentication.k8s.io/v1/selfsubjectreviews",
	    "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}", &out, &call) != 0)
		fail_msg("SelfSubjectReview: %s", call.error);
	snprintf(buf, n, "%s", cJSON_GetObjectItemCaseSensitive(at(out, "status", "userInfo"),
	    "username")->valuestring);
	cJSON_Delete(out);
}

static void
test_not_served_on_129(void **state)
{
	char *ns[] = { "shop", "payments", NULL };
	char err[1024] = "";
	int present = -1;

	(void)state;
	/* Blue runs 1.29.7: no admissionregistration.k8s.io/v1 policies, as on
	 * a real 1.29 API server. */
	assert_int_equal(get_status(blue, GV "/validatingadmissionpolicies"), 404);
	assert_int_equal(freeze_apply(blue, "prod-weu", ns, 10000, err, sizeof err), -1);
	assert_string_equal(err, "freeze: blue does not serve admissionregistration.k8s.io/v1 "
	    "validatingadmissionpolicies and validatingadmissionpolicybindings (blue runs v1.29.7): "
	    "sync.freeze needs Kubernetes 1.30 or later on blue (turn sync.freeze off, or upgrade blue first)");
	/* Nothing to be present, nothing to remove: neither is an error. */
	assert_int_equal(freeze_present(blue, "prod-weu", &present, err, sizeof err), 0);
	assert_int_equal(present, 0);
	assert_int_equal(freeze_remove(blue, "prod-weu", 10000, err, sizeof err), 0);

	/* kube-system and no namespaces: refused before asking anything. */
	ns[1] = "kube-system";
	assert_int_equal(freeze_apply(green, "prod-weu", ns, 10000, err, sizeof err), -1);
	assert_contains(err, "will not freeze kube-system");
	ns[0] = NULL;
	assert_int_equal(freeze_apply(green, "prod-weu", ns, 10000, err, sizeof err), -1);
	assert_contains(err, "sync.freeze needs sync.namespaces");
	assert_int_equal(get_status(green, POLICY), 404);
}

static void
test_apply(void **state)
{
	char *ns[] = { "shop", "payments", NULL };
	char err[1024] = "", user[256], want[2048], rv_p[32], rv_b[32];
	const cJSON *mf;
	cJSON *pol, *bind;
	int present = -1;

	(void)state;
	whoami(green, user, sizeof user);
	assert_int_equal(freeze_present(green, "prod-weu", &present, err, sizeof err), 0);
	assert_int_equal(present, 0);
	if (freeze_apply(green, "prod-weu", ns, 10000, err, sizeof err) != 0)
		fail_msg("freeze_apply: %s", err);

	pol = get(green, POLICY);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(pol, "kind")->valuestring,
	    "ValidatingAdmissionPolicy");
	assert_json(at(pol, "metadata", "labels"), "{\"app.kubernetes.io/managed-by\":\"bgswitch\"}");
	assert_string_equal(at(pol, "spec", "failurePolicy")->valuestring, "Fail");
	/* CREATE, UPDATE, DELETE of the three workload kinds, main resource only. */
	assert_json(at(pol, "spec", "matchConstraints"), "{\"resourceRules\":[{\"apiGroups\":[\"apps\"],"
	    "\"apiVersions\":[\"v1\"],\"operations\":[\"CREATE\",\"UPDATE\",\"DELETE\"],\"resources\":"
	    "[\"deployments\",\"statefulsets\",\"daemonsets\"]}]}");
	/* Only bgswitch's own identity gets through. */
	assert_int_equal(cJSON_GetArraySize(at(pol, "spec", "validations")), 1);
	snprintf(want, sizeof want, "request.userInfo.username == \"%s\"", user);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(at(pol, "spec", "validations"), 0),
	    "expression")->valuestring, want);
	assert_contains(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(at(pol, "spec", "validations"), 0),
	    "message")->valuestring, "blue is frozen by bgswitch while switchover prod-weu syncs to green");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(at(pol, "spec", "validations"), 0),
	    "reason")->valuestring, "Forbidden");
	mf = cJSON_GetArrayItem(at(pol, "metadata", "managedFields"), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(mf, "manager")->valuestring, "bgswitch");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(mf, "operation")->valuestring, "Apply");

	bind = get(green, BINDING);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(bind, "kind")->valuestring,
	    "ValidatingAdmissionPolicyBinding");
	assert_json(cJSON_GetObjectItemCaseSensitive(bind, "spec"), "{\"policyName\":"
	    "\"bgswitch-freeze-prod-weu\",\"validationActions\":[\"Deny\"],\"matchResources\":"
	    "{\"namespaceSelector\":{\"matchExpressions\":[{\"key\":\"kubernetes.io/metadata.name\","
	    "\"operator\":\"In\",\"values\":[\"shop\",\"payments\"]}]}}}");
	assert_int_equal(freeze_present(green, "prod-weu", &present, err, sizeof err), 0);
	assert_int_equal(present, 1);

	/* Again: nothing changes, not even the resource versions. */
	snprintf(rv_p, sizeof rv_p, "%s", rv(pol));
	snprintf(rv_b, sizeof rv_b, "%s", rv(bind));
	cJSON_Delete(pol);
	cJSON_Delete(bind);
	if (freeze_apply(green, "prod-weu", ns, 10000, err, sizeof err) != 0)
		fail_msg("freeze_apply again: %s", err);
	pol = get(green, POLICY);
	bind = get(green, BINDING);
	assert_string_equal(rv(pol), rv_p);
	assert_string_equal(rv(bind), rv_b);
	cJSON_Delete(pol);
	cJSON_Delete(bind);

	/* Fewer namespaces: the binding follows. */
	ns[1] = NULL;
	if (freeze_apply(green, "prod-weu", ns, 10000, err, sizeof err) != 0)
		fail_msg("freeze_apply shop: %s", err);
	bind = get(green, BINDING);
	assert_json(cJSON_GetObjectItemCaseSensitive(at(bind, "spec", "matchResources"), "namespaceSelector"), "{\"matchExpressions\":"
	    "[{\"key\":\"kubernetes.io/metadata.name\",\"operator\":\"In\",\"values\":[\"shop\"]}]}");
	cJSON_Delete(bind);
}

static void
test_remove(void **state)
{
	static const char half[] = "{\"apiVersion\":\"admissionregistration.k8s.io/v1\",\"kind\":"
	    "\"ValidatingAdmissionPolicy\",\"metadata\":{\"name\":\"bgswitch-freeze-prod-weu\"},\"spec\":"
	    "{\"matchConstraints\":{\"resourceRules\":[{\"apiGroups\":[\"apps\"],\"apiVersions\":[\"v1\"],"
	    "\"operations\":[\"UPDATE\"],\"resources\":[\"deployments\"]}]},\"validations\":[{\"expression\":"
	    "\"false\"}]}}";
	char err[1024] = "";
	int present = -1;
	struct kube_call call = { 0 };

	(void)state;
	if (freeze_remove(green, "prod-weu", 10000, err, sizeof err) != 0)
		fail_msg("freeze_remove: %s", err);
	assert_int_equal(get_status(green, POLICY), 404);
	assert_int_equal(get_status(green, BINDING), 404);
	assert_int_equal(freeze_present(green, "prod-weu", &present, err, sizeof err), 0);
	assert_int_equal(present, 0);
	/* Twice is fine. */
	assert_int_equal(freeze_remove(green, "prod-weu", 10000, err, sizeof err), 0);

	/* A half-applied freeze (the binding is gone, the policy is not)
	 * still counts as present, and remove clears it. */
	if (kube_apply(green, POLICY, half, strlen(half), "someone", false, NULL, &call) != 0)
		fail_msg("apply: %s", call.error);
	assert_int_equal(freeze_present(green, "prod-weu", &present, err, sizeof err), 0);
	assert_int_equal(present, 1);
	assert_int_equal(freeze_remove(green, "prod-weu", 10000, err, sizeof err), 0);
	assert_int_equal(get_status(green, POLICY), 404);
	assert_int_equal(freeze_present(green, "prod-weu", &present, err, sizeof err), 0);
	assert_int_equal(present, 0);
}

/* The simulator checks what kube-apiserver would refuse, so a misspelt
 * field in freeze.c could not pass unnoticed. */
static void
test_sim_validates(void **state)
{
	static const char bad_binding[] = "{\"apiVersion\":\"admissionregistration.k8s.io/v1\",\"kind\":"
	    "\"ValidatingAdmissionPolicyBinding\",\"metadata\":{\"name\":\"b\"},\"spec\":{\"policyName\":"
	    "\"p\",\"validationAction\":[\"Deny\"]}}";
	static const char bad_policy[] = "{\"apiVersion\":\"admissionregistration.k8s.io/v1\",\"kind\":"
	    "\"ValidatingAdmissionPolicy\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"failurePolicy\":\"Deny\","
	    "\"matchConstraints\":{\"resourceRules\":[{\"operations\":[\"UPDATE\"]}]},\"validations\":"
	    "[{\"expression\":\"false\"}]}}";
	struct kube_call call = { 0 };

	(void)state;
	assert_int_equal(kube_create(green, GV "/validatingadmissionpolicybindings", bad_binding, NULL, &call), -1);
	assert_int_equal(call.status, 422);
	assert_contains(call.error, "spec.validationActions: Required value");
	memset(&call, 0, sizeof call);
	assert_int_equal(kube_create(green, GV "/validatingadmissionpolicies", bad_policy, NULL, &call), -1);
	assert_int_equal(call.status, 422);
	assert_contains(call.error, "spec.failurePolicy: Unsupported value: \"Deny\"");
}

int
main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_names),
	};
	const struct CMUnitTest sim[] = {
		cmocka_unit_test(test_not_served_on_129),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_sim_validates),
	};
	int rc = cmocka_run_group_tests_name("freeze", pure, NULL, NULL);

	return rc + cmocka_run_group_tests_name("freeze_sim", sim, sim_setup, sim_teardown);
}
