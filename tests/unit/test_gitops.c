/*
 * test_gitops.c — T2's gitops mode (src/gitops.c) against the simulator,
 * started in-process with a world where green exists (the default world
 * with green's entry given `exists: true`, nodes and no namespaces).
 * Green starts with no GitOps API at all; the tests install the Flux and
 * Argo CD CRDs, create objects, and write their status through the status
 * subresource as the controllers would.  The tests run in order and build
 * on each other's objects.  Run from the repository root (it reads
 * sim/worlds/default.yaml).
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
#include "sim/sim.h"
#include "src/gitops.h"
#include "src/http.h"
#include "tests/lib/simkube.h"

#define assert_contains(hay, needle) do { \
	if (strstr((hay), (needle)) == NULL) \
		fail_msg("\"%s\" not found in \"%s\"", (needle), (hay)); \
} while (0)

#define KS "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations"
#define HR "/apis/helm.toolkit.fluxcd.io/v2/namespaces/flux-system/helmreleases"
#define APP "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"

static struct simkube sk;
static struct kube_client *green;
static struct http_client *ctl;

/* ---- the simulator ----------------------------------------------------------------- */

/* The default world with green existing: nodes, an API server, no namespaces. */
static const char green_entry[] =
    "    exists: true\n"
    "    dns_prefix: aks-prod-green\n"
    "    node_pools:\n"
    "      - { name: system, mode: System, count: 3, vm_size: Standard_D4ds_v5 }\n"
    "    namespaces: {}\n";

static int
sim_setup(void **state)
{
	struct http_tls tls = { 0 };
	struct http_client_config hc = { 0 };
	char err[1024];

	(void)state;
	if (simkube_start_green(&sk, "gitops", 100, green_entry) != 0)
		return -1;
	green = simkube_client(&sk, "aks-prod-green");
	tls.ca_file = sk.ca;
	hc.name = "sim-control";
	hc.tls = &tls;
	ctl = http_client_new(&hc, err, sizeof err);
	return green != NULL && ctl != NULL ? 0 : -1;
}

static int
sim_teardown(void **state)
{
	(void)state;
	http_client_free(ctl);
	return simkube_stop(&sk);
}

/* POST /_sim/clusters/aks-prod-green/ACTION with BODY (the faults). */
static void
sim_control(const char *action, const char *body)
{
	char url[256];
	struct http_request rq = { 0 };
	struct http_response rs;

	snprintf(url, sizeof url, "%s/_sim/clusters/aks-prod-green/%s", sim_base_url(), action);
	rq.method = "POST";
	rq.url = url;
	rq.body = body;
	rq.body_len = strlen(body);
	assert_int_equal(http_do(ctl, &rq, &rs), 0);
	if (rs.status != 200)
		fail_msg("sim control %s: %ld", action, rs.status);
	http_response_free(&rs);
}

/* ---- helpers ----------------------------------------------------------------------- */

static void
create(const char *path, const char *json)
{
	struct kube_call call = { 0 };

	if (kube_create(green, path, json, NULL, &call) != 0)
		fail_msg("create %s: %s", path, call.error);
}

static void
patch(const char *path, const char *json)
{
	struct kube_call call = { 0 };

	if (kube_merge_patch(green, path, json, NULL, &call) != 0)
		fail_msg("patch %s: %s", path, call.error);
}

static void
delete(const char *path)
{
	struct kube_call call = { 0 };

	if (kube_delete(green, path, KUBE_PROPAGATION_DEFAULT, NULL, &call) != 0)
		fail_msg("delete %s: %s", path, call.error);
}

/* A CRD for GROUP/KIND (plural PLURAL) serving the comma-separated
 * VERSIONS (the first stored), each with a status subresource, as the
 * Flux and Argo CD CRDs have. */
static void
install_crd(const char *group, const char *kind, const char *plural, const char *versions)
{
	char json[4096], vs[2048] = "", one[32];
	const char *p = versions;
	int first = 1;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		snprintf(one, sizeof one, "%.*s", (int)n, p);
		snprintf(vs + strlen(vs), sizeof vs - strlen(vs), "%s{\"name\":\"%s\",\"served\":true,"
		    "\"storage\":%s,\"subresources\":{\"status\":{}},\"schema\":{\"openAPIV3Schema\":"
		    "{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}}",
		    first ? "" : ",", one, first ? "true" : "false");
		first = 0;
		p += n;
		if (*p == ',')
			p++;
	}
	snprintf(json, sizeof json, "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":"
	    "\"CustomResourceDefinition\",\"metadata\":{\"name\":\"%s.%s\"},\"spec\":{\"group\":\"%s\","
	    "\"names\":{\"kind\":\"%s\",\"plural\":\"%s\",\"singular\":\"%.*s\"},\"scope\":\"Namespaced\","
	    "\"versions\":[%s]}}", plural, group, group, kind, plural, (int)strlen(plural) - 1, plural, vs);
	create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json);
}

static void
namespace(const char *ns)
{
	char json[256];

	snprintf(json, sizeof json, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":"
	    "{\"name\":\"%s\"}}", ns);
	create("/api/v1/namespaces", json);
}

/* A Kustomization in flux-system; TARGET may be NULL. */
static void
kustomization(const char *name, const char *target)
{
	char json[1024];

	snprintf(json, sizeof json, "{\"apiVersion\":\"kustomize.toolkit.fluxcd.io/v1\",\"kind\":"
	    "\"Kustomization\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"flux-system\"},\"spec\":"
	    "{\"interval\":\"10m\",\"path\":\"./apps/%s\",\"prune\":true,\"sourceRef\":{\"kind\":"
	    "\"GitRepository\",\"name\":\"fleet\"}%s%s%s}}", name, name,
	    target != NULL ? ",\"targetNamespace\":\"" : "", target != NULL ? target : "",
	    target != NULL ? "\"" : "");
	create(KS, json);
}

/* Writes a Flux status: Ready STATUS/REASON/MESSAGE observed at GEN. */
static void
flux_status(const char *collection, const char *name, const char *status, const char *reason,
    const char *message, int gen)
{
	char path[300], json[1024];

	snprintf(path, sizeof path, "%s/%s/status", collection, name);
	snprintf(json, sizeof json, "{\"status\":{\"observedGeneration\":%d,\"conditions\":[{\"type\":"
	    "\"Ready\",\"status\":\"%s\",\"reason\":\"%s\",\"message\":\"%s\",\"observedGeneration\":%d,"
	    "\"lastTransitionTime\":\"2024-07-01T10:00:00Z\"}],\"lastAppliedRevision\":"
	    "\"main@sha1:67e2c98a\"}}", gen, status, reason, message, gen);
	patch(path, json);
}

static const struct gitops_item *
find(const struct gitops_status *st, const char *kind, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->items[i].kind, kind) == 0 && strcmp(st->items[i].name, name) == 0)
			return &st->items[i];
	fail_msg("%s %s not in the status", kind, name);
	return NULL;
}

static void
read_status(char *const *namespaces, struct gitops_status *st)
{
	char err[1024] = "";

	if (gitops_status(green, namespaces, 10000, st, err, sizeof err) != 0)
		fail_msg("gitops_status: %s", err);
}

/* ---- tests -------------------------------------------------------------------------- */

static void
test_no_gitops_api(void **state)
{
	struct gitops_status st;
	char err[1024] = "";

	(void)state;
	assert_int_equal(gitops_status(green, NULL, 10000, &st, err, sizeof err), -1);
	assert_string_equal(err, "green serves neither Flux (kustomize.toolkit.fluxcd.io) nor Argo CD "
	    "(argoproj.io) APIs: sync mode gitops has nothing to wait for");
	assert_null(st.items);
	assert_int_equal(st.n, 0);
}

static void
test_flux_served_no_objects(void **state)
{
	struct gitops_status st;
	char err[1024] = "";

	(void)state;
	/* v1 stored and preferred, v1beta2 still served: objects are read
	 * through the preferred version (the simulator keeps each version's
	 * objects apart, so reading v1beta2 would find none). */
	install_crd("kustomize.toolkit.fluxcd.io", "Kustomization", "kustomizations", "v1,v1beta2");
	namespace("flux-system");
	assert_int_equal(gitops_status(green, NULL, 10000, &st, err, sizeof err), -1);
	assert_contains(err, "green serves Flux but has no Kustomization or HelmRelease objects");
	assert_contains(err, "nothing to wait for");
}

static void
test_flux_kustomization(void **state)
{
	struct gitops_status st;
	const struct gitops_item *it;

	(void)state;
	kustomization("infra", NULL);
	kustomization("shop", "shop");
	kustomization("payments", "payments");
	kustomization("frozen", "orders");

	/* Nothing reconciled yet: no Ready condition. */
	read_status(NULL, &st);
	assert_true(st.flux);
	assert_false(st.argo);
	assert_int_equal(st.n, 4);
	assert_int_equal(st.ready, 0);
	it = find(&st, "Kustomization", "shop");
	assert_string_equal(it->ns, "flux-system");
	assert_false(it->ready);
	assert_string_equal(it->reason, "NotReconciled");
	gitops_status_free(&st);
	assert_null(st.items);

	/* Ready True at the current generation: ready. */
	flux_status(KS, "infra", "True", "ReconciliationSucceeded", "Applied revision: main@sha1:67e2c98a", 1);
	flux_status(KS, "shop", "True", "ReconciliationSucceeded", "Applied revision: main@sha1:67e2c98a", 1);
	/* Ready False: reason and message reported. */
	flux_status(KS, "payments", "False", "ArtifactFailed", "kustomization path not found: "
	    "stat /tmp/kustomization-1464362706/payments: no such file or directory", 1);
	/* Suspended (after a good reconciliation): not ready. */
	flux_status(KS, "frozen", "True", "ReconciliationSucceeded", "Applied revision: main@sha1:67e2c98a", 1);
	patch(KS "/frozen", "{\"spec\":{\"suspend\":true}}");
	read_status(NULL, &st);
	assert_int_equal(st.n, 4);
	assert_int_equal(st.ready, 2);
	assert_true(find(&st, "Kustomization", "infra")->ready);
	it = find(&st, "Kustomization", "shop");
	assert_true(it->ready);
	assert_string_equal(it->reason, "");
	it = find(&st, "Kustomization", "payments");
	assert_false(it->ready);
	assert_string_equal(it->reason, "ArtifactFailed");
	assert_string_equal(it->message, "kustomization path not found: "
	    "stat /tmp/kustomization-1464362706/payments: no such file or directory");
	it = find(&st, "Kustomization", "frozen");
	assert_false(it->ready);
	assert_string_equal(it->reason, "suspended");
	/* Not ready first, then by kind and name. */
	assert_false(st.items[0].ready);
	assert_false(st.items[1].ready);
	assert_string_equal(st.items[0].name, "frozen");
	assert_string_equal(st.items[2].name, "infra");
	gitops_status_free(&st);

	/* A spec change makes the old Ready stale until Flux observes it. */
	patch(KS "/shop", "{\"spec\":{\"path\":\"./apps/shop-v2\"}}");
	read_status(NULL, &st);
	it = find(&st, "Kustomization", "shop");
	assert_false(it->ready);
	assert_string_equal(it->reason, "stale");
	assert_string_equal(it->message, "Ready is for generation 1; the spec is at generation 2");
	assert_int_equal(st.ready, 1);
	gitops_status_free(&st);
	/* The top-level observedGeneration alone catching up is not enough
	 * when the Ready condition says it is older. */
	patch(KS "/shop/status", "{\"status\":{\"observedGeneration\":2}}");
	read_status(NULL, &st);
	assert_string_equal(find(&st, "Kustomization", "shop")->reason, "stale");
	gitops_status_free(&st);
	flux_status(KS, "shop", "True", "ReconciliationSucceeded", "Applied revision: main@sha1:9b1c0f3e", 2);
	read_status(NULL, &st);
	assert_true(find(&st, "Kustomization", "shop")->ready);
	gitops_status_free(&st);

	/* Reconciling: Ready Unknown with Flux's reason. */
	flux_status(KS, "infra", "Unknown", "Progressing", "Reconciliation in progress", 1);
	read_status(NULL, &st);
	it = find(&st, "Kustomization", "infra");
	assert_false(it->ready);
	assert_string_equal(it->reason, "Progressing");
	assert_string_equal(it->message, "Reconciliation in progress");
	gitops_status_free(&st);
	flux_status(KS, "infra", "True", "ReconciliationSucceeded", "Applied revision: main@sha1:9b1c0f3e", 1);
}

static void
test_flux_helmrelease(void **state)
{
	struct gitops_status st;
	const struct gitops_item *it;

	(void)state;
	install_crd("helm.toolkit.fluxcd.io", "HelmRelease", "helmreleases", "v2");
	create(HR, "{\"apiVersion\":\"helm.toolkit.fluxcd.io/v2\",\"kind\":\"HelmRelease\",\"metadata\":"
	    "{\"name\":\"ingress-nginx\",\"namespace\":\"flux-system\"},\"spec\":{\"interval\":\"10m\","
	    "\"targetNamespace\":\"ingress\",\"chart\":{\"spec\":{\"chart\":\"ingress-nginx\","
	    "\"sourceRef\":{\"kind\":\"HelmRepository\",\"name\":\"ingress-nginx\"}}}}}");
	flux_status(HR, "ingress-nginx", "False", "InstallFailed", "Helm install failed for release "
	    "ingress/ingress-nginx with chart ingress-nginx@4.11.2: context deadline exceeded", 1);
	read_status(NULL, &st);
	assert_int_equal(st.n, 5);
	it = find(&st, "HelmRelease", "ingress-nginx");
	assert_false(it->ready);
	assert_string_equal(it->reason, "InstallFailed");
	assert_contains(it->message, "context deadline exceeded");
	gitops_status_free(&st);
	flux_status(HR, "ingress-nginx", "True", "InstallSucceeded", "Helm install succeeded for release "
	    "ingress/ingress-nginx.v1 with chart ingress-nginx@4.11.2", 1);
	read_status(NULL, &st);
	assert_true(find(&st, "HelmRelease", "ingress-nginx")->ready);
	assert_int_equal(st.ready, 3);	/* infra, shop, ingress-nginx */
	gitops_status_free(&st);
}

static void
test_argo_application(void **state)
{
	struct gitops_status st;
	const struct gitops_item *it;

	(void)state;
	install_crd("argoproj.io", "Application", "applications", "v1alpha1");
	namespace("argocd");
	create(APP, "{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Application\",\"metadata\":"
	    "{\"name\":\"storefront\",\"namespace\":\"argocd\"},\"spec\":{\"project\":\"default\","
	    "\"source\":{\"repoURL\":\"https://github.com/contoso/fleet.git\",\"path\":\"shop\","
	    "\"targetRevision\":\"HEAD\"},\"destination\":{\"server\":\"https://kubernetes.default.svc\","
	    "\"namespace\":\"shop\"}}}");
	create(APP, "{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Application\",\"metadata\":"
	    "{\"name\":\"ledger\",\"namespace\":\"argocd\"},\"spec\":{\"project\":\"default\","
	    "\"source\":{\"repoURL\":\"https://github.com/contoso/fleet.git\",\"path\":\"payments\"},"
	    "\"destination\":{\"server\":\"https://kubernetes.default.svc\",\"namespace\":\"payments\"}}}");
	patch(APP "/storefront/status", "{\"status\":{\"sync\":{\"status\":\"Synced\",\"revision\":"
	    "\"67e2c98a60dc92283531412a9e604dd4bae005a9\"},\"health\":{\"status\":\"Healthy\"}}}");
	patch(APP "/ledger/status", "{\"status\":{\"sync\":{\"status\":\"OutOfSync\"},\"health\":"
	    "{\"status\":\"Progressing\",\"message\":\"Waiting for rollout to finish: 1 of 3 updated "
	    "replicas are available...\"}}}");
	read_status(NULL, &st);
	assert_true(st.flux);
	assert_true(st.argo);
	assert_int_equal(st.n, 7);
	it = find(&st, "Application", "storefront");
	assert_true(it->ready);
	assert_string_equal(it->ns, "argocd");
	it = find(&st, "Application", "ledger");
	assert_false(it->ready);
	assert_string_equal(it->reason, "OutOfSync/Progressing");
	assert_contains(it->message, "Waiting for rollout to finish");
	gitops_status_free(&st);

	/* Synced but not Healthy, and Healthy but OutOfSync: neither is ready. */
	patch(APP "/ledger/status", "{\"status\":{\"sync\":{\"status\":\"Synced\"},\"health\":"
	    "{\"status\":\"Degraded\",\"message\":\"Deployment has timed out progressing\"}}}");
	read_status(NULL, &st);
	assert_string_equal(find(&st, "Application", "ledger")->reason, "Synced/Degraded");
	gitops_status_free(&st);
	patch(APP "/ledger/status", "{\"status\":{\"sync\":{\"status\":\"OutOfSync\"},\"health\":"
	    "{\"status\":\"Healthy\",\"message\":null}}}");
	read_status(NULL, &st);
	it = find(&st, "Application", "ledger");
	assert_false(it->ready);
	assert_string_equal(it->reason, "OutOfSync/Healthy");
	gitops_status_free(&st);
	patch(APP "/ledger/status", "{\"status\":{\"sync\":{\"status\":\"Synced\"}}}");
	read_status(NULL, &st);
	assert_true(find(&st, "Application", "ledger")->ready);
	gitops_status_free(&st);
}

static void
test_namespaces_filter(void **state)
{
	char *shop[] = { "shop", NULL };
	char *pay_orders[] = { "payments", "orders", NULL };
	char *flux[] = { "flux-system", NULL };
	char *nowhere[] = { "nowhere", NULL };
	char *none[] = { NULL };
	struct gitops_status st;
	char err[1024] = "";

	(void)state;
	/* shop: the Kustomization deploying into it, the Application
	 * targeting it; not infra (no target namespace) or the others. */
	read_status(shop, &st);
	assert_int_equal(st.n, 2);
	find(&st, "Kustomization", "shop");
	find(&st, "Application", "storefront");
	gitops_status_free(&st);

	read_status(pay_orders, &st);
	assert_int_equal(st.n, 3);
	find(&st, "Kustomization", "payments");
	find(&st, "Kustomization", "frozen");
	find(&st, "Application", "ledger");
	assert_int_equal(st.ready, 1);
	gitops_status_free(&st);

	/* The namespace an object lives in counts too. */
	read_status(flux, &st);
	assert_int_equal(st.n, 5);
	gitops_status_free(&st);

	/* An empty list filters nothing. */
	read_status(none, &st);
	assert_int_equal(st.n, 7);
	gitops_status_free(&st);

	assert_int_equal(gitops_status(green, nowhere, 10000, &st, err, sizeof err), -1);
	assert_string_equal(err, "none of green's 7 GitOps objects is in or deploys into nowhere: "
	    "sync mode gitops has nothing to wait for");
}

static void
test_deleting_and_read_failure(void **state)
{
	struct gitops_status st;
	char err[1024] = "";

	(void)state;
	/* A failed read is an error, never "ready". */
	sim_control("outage", "{\"seconds\":600}");
	assert_int_equal(gitops_status(green, NULL, 3000, &st, err, sizeof err), -1);
	assert_contains(err, "discovery: GET /apis");
	assert_null(st.items);
	assert_int_equal(st.ready, 0);
	sim_control("outage", "{\"seconds\":0}");

	/* An object being deleted is not ready (a finalizer keeps it). */
	patch(KS "/infra", "{\"metadata\":{\"finalizers\":[\"finalizers.fluxcd.io\"]}}");
	delete(KS "/infra");
	read_status(NULL, &st);
	assert_string_equal(find(&st, "Kustomization", "infra")->reason, "deleting");
	gitops_status_free(&st);
	patch(KS "/infra", "{\"metadata\":{\"finalizers\":null}}");
	read_status(NULL, &st);
	assert_int_equal(st.n, 6);
	gitops_status_free(&st);
	gitops_status_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest sim[] = {
		cmocka_unit_test(test_no_gitops_api),
		cmocka_unit_test(test_flux_served_no_objects),
		cmocka_unit_test(test_flux_kustomization),
		cmocka_unit_test(test_flux_helmrelease),
		cmocka_unit_test(test_argo_application),
		cmocka_unit_test(test_namespaces_filter),
		cmocka_unit_test(test_deleting_and_read_failure),
	};

	return cmocka_run_group_tests_name("gitops_sim", sim, sim_setup, sim_teardown);
}
