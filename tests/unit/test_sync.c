/*
 * test_sync.c — T2's copy mode and parity report (src/sync.c): the kind
 * table and the cleaning rules on hand-written objects, then a copy of
 * shop and payments from blue to green in the simulator, started
 * in-process with a world where both clusters exist (the default world
 * with green's entry given `exists: true`, nodes and no namespaces), and
 * the parity report before and after an image changes on blue.
 * Run from the repository root (it reads sim/worlds/default.yaml).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/kube_client.h"
#include "src/http.h"
#include "src/sync.h"
#include "tests/lib/simkube.h"

#define assert_contains(hay, needle) do { \
	if (strstr((hay), (needle)) == NULL) \
		fail_msg("\"%s\" not found in \"%s\"", (needle), (hay)); \
} while (0)

static struct simkube sk;
static struct kube_client *blue, *green;

/* ---- pure: the table and the cleaning rules ------------------------------------ */

static void
test_kinds(void **state)
{
	char err[512], path[256];
	char *good[] = { "ConfigMap", "secret", "Deployment", "CustomResourceDefinition", NULL };
	char *bad[] = { "ConfigMap", "Gizmo", NULL };
	char *ns[] = { "shop", NULL };
	struct sync_opts o = { .namespaces = ns, .kinds = bad };
	struct sync_result r;

	(void)state;
	assert_int_equal(sync_kinds_check(good, err, sizeof err), 0);
	assert_int_equal(sync_kinds_check(bad, err, sizeof err), -1);
	assert_contains(err, "unknown kind \"Gizmo\"");
	assert_contains(err, "StatefulSet");
	/* Refused before any I/O: no clients needed. */
	assert_int_equal(sync_copy(NULL, NULL, &o, &r, err, sizeof err), -1);
	assert_contains(err, "Gizmo");
	sync_result_free(&r);

	assert_int_equal(sync_kind_path("ConfigMap", "shop", path, sizeof path), 0);
	assert_string_equal(path, "/api/v1/namespaces/shop/configmaps");
	assert_int_equal(sync_kind_path("Ingress", "shop", path, sizeof path), 0);
	assert_string_equal(path, "/apis/networking.k8s.io/v1/namespaces/shop/ingresses");
	assert_int_equal(sync_kind_path("HorizontalPodAutoscaler", "a", path, sizeof path), 0);
	assert_string_equal(path, "/apis/autoscaling/v2/namespaces/a/horizontalpodautoscalers");
	assert_int_equal(sync_kind_path("CustomResourceDefinition", NULL, path, sizeof path), 0);
	assert_string_equal(path, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions");
	assert_int_equal(sync_kind_path("Gizmo", "shop", path, sizeof path), -1);
}

static cJSON *
parse(const char *json)
{
	cJSON *j = cJSON_Parse(json);

	assert_non_null(j);
	return j;
}

static void
test_clean(void **state)
{
	const char *why;
	cJSON *in, *out;
	char *s;

	(void)state;
	in = parse("{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\",\"uid\":\"u-1\","
	    "\"resourceVersion\":\"42\",\"generation\":3,\"creationTimestamp\":\"2024-01-01T00:00:00Z\","
	    "\"managedFields\":[{\"manager\":\"kubectl\"}],\"selfLink\":\"/x\",\"finalizers\":[\"f\"],"
	    "\"labels\":{\"app\":\"web\"},\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":"
	    "\"{}\",\"team\":\"shop\"}},\"spec\":{\"type\":\"NodePort\",\"clusterIP\":\"10.0.0.7\","
	    "\"clusterIPs\":[\"10.0.0.7\"],\"ipFamilies\":[\"IPv4\"],\"healthCheckNodePort\":31000,"
	    "\"ports\":[{\"port\":80,\"nodePort\":30080}]},\"status\":{\"loadBalancer\":{}}}");
	out = sync_clean("Service", in, &why);
	assert_non_null(out);
	s = cJSON_PrintUnformatted(out);
	assert_string_equal(s, "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
	    "\"namespace\":\"shop\",\"labels\":{\"app\":\"web\"},\"annotations\":{\"team\":\"shop\"}},"
	    "\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":30080}]}}");
	free(s);
	cJSON_Delete(out);
	cJSON_Delete(in);

	/* Headless is a choice and stays. */
	in = parse("{\"metadata\":{\"name\":\"db\",\"namespace\":\"shop\"},\"spec\":{\"clusterIP\":\"None\"}}");
	out = sync_clean("Service", in, &why);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "spec"), "clusterIP")->valuestring,
	    "None");
	cJSON_Delete(out);
	cJSON_Delete(in);

	/* Skipped: controller-owned, token secrets, kube-root-ca.crt, a bare default SA. */
	in = parse("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\",\"ownerReferences\":"
	    "[{\"kind\":\"ReplicaSet\",\"name\":\"web\",\"uid\":\"x\",\"controller\":true}]}}");
	assert_null(sync_clean("Deployment", in, &why));
	assert_string_equal(why, "owned by a controller");
	cJSON_Delete(in);
	in = parse("{\"metadata\":{\"name\":\"t\",\"namespace\":\"shop\"},"
	    "\"type\":\"kubernetes.io/service-account-token\",\"data\":{\"token\":\"c2VjcmV0\"}}");
	assert_null(sync_clean("Secret", in, &why));
	assert_string_equal(why, "a service account token");
	cJSON_Delete(in);
	in = parse("{\"metadata\":{\"name\":\"kube-root-ca.crt\",\"namespace\":\"shop\"},\"data\":{}}");
	assert_null(sync_clean("ConfigMap", in, &why));
	assert_non_null(why);
	cJSON_Delete(in);
	in = parse("{\"metadata\":{\"name\":\"default\",\"namespace\":\"shop\",\"uid\":\"u\"},"
	    "\"secrets\":[{\"name\":\"default-token-abc\"}]}");
	assert_null(sync_clean("ServiceAccount", in, &why));
	cJSON_Delete(in);
	/* ... but a default SA with pull secrets is merged (SSA), its token list dropped. */
	in = parse("{\"metadata\":{\"name\":\"default\",\"namespace\":\"shop\"},"
	    "\"secrets\":[{\"name\":\"default-token-abc\"}],\"imagePullSecrets\":[{\"name\":\"acr\"}]}");
	out = sync_clean("ServiceAccount", in, &why);
	assert_non_null(out);
	assert_null(cJSON_GetObjectItem(out, "secrets"));
	assert_non_null(cJSON_GetObjectItem(out, "imagePullSecrets"));
	cJSON_Delete(out);
	cJSON_Delete(in);

	/* A Deployment: revision annotation and status go, replicas stay. */
	in = parse("{\"metadata\":{\"name\":\"cart\",\"namespace\":\"shop\",\"annotations\":"
	    "{\"deployment.kubernetes.io/revision\":\"7\"}},\"spec\":{\"replicas\":5,\"template\":"
	    "{\"metadata\":{\"creationTimestamp\":null},\"spec\":{\"containers\":[{\"name\":\"c\","
	    "\"image\":\"i:1\"}]}}},\"status\":{\"replicas\":5}}");
	out = sync_clean("Deployment", in, &why);
	s = cJSON_PrintUnformatted(out);
	assert_string_equal(s, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":"
	    "{\"name\":\"cart\",\"namespace\":\"shop\"},\"spec\":{\"replicas\":5,\"template\":"
	    "{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i:1\"}]}}}}");
	free(s);
	cJSON_Delete(out);
	cJSON_Delete(in);
}

static void
test_parity_text(void **state)
{
	struct sync_diff d[2] = {
		{ .what = SYNC_DIFF_NAMESPACE, .ns = "shop" },
		{ .what = SYNC_DIFF_REPLICAS, .ns = "pay", .kind = "Deployment", .name = "api",
		  .blue = "10", .green = "3" },
	};
	struct sync_parity p = { .v = d, .n = 2, .namespaces = 2, .workloads = 7 };
	char *t = sync_parity_text(&p);
	cJSON *j = sync_parity_json(&p);
	char *js = cJSON_PrintUnformatted(j);

	(void)state;
	assert_string_equal(t, "parity: 2 namespaces, 7 workloads: 2 differences\n"
	    "  namespace shop: missing on green\n"
	    "  Deployment pay/api: 10 replicas on blue, 3 on green\n");
	assert_string_equal(js, "{\"namespaces\":2,\"workloads\":7,\"differences\":["
	    "{\"what\":\"namespace\",\"namespace\":\"shop\"},{\"what\":\"replicas\",\"namespace\":\"pay\","
	    "\"kind\":\"Deployment\",\"name\":\"api\",\"blue\":\"10\",\"green\":\"3\"}]}");
	free(t);
	free(js);
	cJSON_Delete(j);
}

/* ---- against the simulator ------------------------------------------------------- */

/* The default world with green existing: nodes, an API server, no namespaces. */
static const char green_entry[] =
    "    exists: true\n"
    "    dns_prefix: aks-prod-green\n"
    "    node_pools:\n"
    "      - { name: system, mode: System, count: 3, vm_size: Standard_D4ds_v5 }\n"
    "      - { name: user, mode: User, count: 3, vm_size: Standard_D8ds_v5 }\n"
    "    namespaces: {}\n";

static int
sim_setup(void **state)
{
	(void)state;
	if (simkube_start_green(&sk, "sync", 200, green_entry) != 0)
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

static void
create(struct kube_client *c, const char *path, const char *json)
{
	struct kube_call call = { 0 };

	if (kube_create(c, path, json, NULL, &call) != 0)
		fail_msg("create %s: %s", path, call.error);
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

static int
get_status(struct kube_client *c, const char *path)
{
	struct kube_call call = { 0 };

	kube_get(c, path, NULL, &call);
	return (int)call.status;
}

static const char *
str_at(const cJSON *j, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, a), b);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Whether manager "bgswitch" applied OBJ, and (when NOT_FIELD) did not
 * send NOT_FIELD. */
static int
applied_by_bgswitch(const cJSON *obj, const char *not_field)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "managedFields")) {
		const cJSON *mgr = cJSON_GetObjectItemCaseSensitive(m, "manager");

		if (cJSON_IsString(mgr) && strcmp(mgr->valuestring, SYNC_FIELD_MANAGER) == 0) {
			char *f = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(m, "fieldsV1"));
			int ok = f != NULL && (not_field == NULL || strstr(f, not_field) == NULL);

			free(f);
			return ok;
		}
	}
	return 0;
}

struct progress {
	size_t calls, last_done, total;
	int monotonic;
};

static void
on_progress(void *ctx, size_t done, size_t total, const char *what)
{
	struct progress *p = ctx;

	if (p->calls > 0 && done < p->last_done)
		p->monotonic = 0;
	if (done < total && (what == NULL || what[0] == '\0'))
		p->monotonic = 0;
	p->calls++;
	p->last_done = done;
	p->total = total;
}

static int
available(const cJSON *d)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(d, "status"), "conditions"))
		if (strcmp(cJSON_GetObjectItemCaseSensitive(c, "type")->valuestring, "Available") == 0)
			return strcmp(cJSON_GetObjectItemCaseSensitive(c, "status")->valuestring, "True") == 0;
	return 0;
}

static void
dump_failures(const struct sync_result *r)
{
	for (size_t i = 0; i < r->nfailures; i++)
		fprintf(stderr, "# %s: %s\n", r->failures[i].object, r->failures[i].error);
}

static void
test_copy_and_parity(void **state)
{
	char *ns[] = { "shop", "payments", NULL };
	char *kinds[] = { "ConfigMap", "Secret", "ServiceAccount", "Service", "Deployment", NULL };
	struct progress pr = { .monotonic = 1 };
	struct sync_opts o = { .namespaces = ns, .kinds = kinds, .progress = on_progress,
	    .progress_ctx = &pr };
	struct sync_result r;
	struct sync_parity p;
	char err[1024], path[256], *text;
	cJSON *bd, *gd, *j, *e;
	int deployments = 0;
	long long until;

	(void)state;
	create(blue, "/api/v1/namespaces/shop/configmaps", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
	    "\"metadata\":{\"name\":\"app-settings\",\"namespace\":\"shop\",\"labels\":{\"app\":\"shop\"}},"
	    "\"data\":{\"color\":\"teal\",\"feature.flags\":\"a,b\"}}");
	create(blue, "/api/v1/namespaces/shop/secrets", "{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
	    "\"metadata\":{\"name\":\"db-creds\",\"namespace\":\"shop\"},\"type\":\"Opaque\","
	    "\"data\":{\"password\":\"aHVudGVyMg==\"}}");
	create(blue, "/api/v1/namespaces/shop/secrets", "{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
	    "\"metadata\":{\"name\":\"runner-token\",\"namespace\":\"shop\",\"annotations\":"
	    "{\"kubernetes.io/service-account.name\":\"runner\"}},"
	    "\"type\":\"kubernetes.io/service-account-token\",\"data\":{\"token\":\"dG9rZW4=\"}}");
	create(blue, "/api/v1/namespaces/shop/serviceaccounts", "{\"apiVersion\":\"v1\","
	    "\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"runner\",\"namespace\":\"shop\"}}");
	create(blue, "/api/v1/namespaces/shop/services", "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
	    "\"metadata\":{\"name\":\"storefront\",\"namespace\":\"shop\"},\"spec\":{\"selector\":"
	    "{\"app\":\"storefront\"},\"ports\":[{\"port\":80,\"targetPort\":8080}]}}");

	if (sync_copy(blue, green, &o, &r, err, sizeof err) != 0) {
		dump_failures(&r);
		fail_msg("sync_copy: %s (%zu failures)", err, r.nfailures);
	}
	/* 2 namespaces, 10 deployments, and the objects made above but the token. */
	assert_true(r.total >= 2 + 10 + 4);
	assert_int_equal(r.applied, r.total);
	assert_true(r.skipped >= 1);
	assert_true(pr.monotonic);
	assert_int_equal(pr.last_done, r.total);
	assert_int_equal(pr.total, r.total);
	assert_int_equal(pr.calls, r.total + 1);
	sync_result_free(&r);

	assert_int_equal(get_status(green, "/api/v1/namespaces/shop"), 200);
	assert_int_equal(get_status(green, "/api/v1/namespaces/payments"), 200);

	/* The ConfigMap arrives with its data, applied by bgswitch. */
	j = get(green, "/api/v1/namespaces/shop/configmaps/app-settings");
	assert_string_equal(str_at(j, "data", "color"), "teal");
	assert_string_equal(str_at(j, "data", "feature.flags"), "a,b");
	assert_true(applied_by_bgswitch(j, NULL));
	cJSON_Delete(j);
	j = get(green, "/api/v1/namespaces/shop/secrets/db-creds");
	assert_string_equal(str_at(j, "data", "password"), "aHVudGVyMg==");
	cJSON_Delete(j);
	assert_int_equal(get_status(green, "/api/v1/namespaces/shop/secrets/runner-token"), 404);
	assert_int_equal(get_status(green, "/api/v1/namespaces/shop/serviceaccounts/runner"), 200);

	/* The Service: green allocated its own IP; bgswitch never sent one. */
	bd = get(blue, "/api/v1/namespaces/shop/services/storefront");
	gd = get(green, "/api/v1/namespaces/shop/services/storefront");
	assert_string_not_equal(str_at(bd, "metadata", "uid"), str_at(gd, "metadata", "uid"));
	assert_true(str_at(gd, "spec", "clusterIP")[0] != '\0');
	assert_true(applied_by_bgswitch(gd, "clusterIP"));
	cJSON_Delete(bd);
	cJSON_Delete(gd);

	/* Every deployment: same images and replicas, green's own uid and rv. */
	for (int i = 0; ns[i] != NULL; i++) {
		snprintf(path, sizeof path, "/apis/apps/v1/namespaces/%s/deployments", ns[i]);
		j = get(blue, path);
		cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "items")) {
			const char *name = str_at(e, "metadata", "name");
			char *bt, *gt;

			snprintf(path, sizeof path, "/apis/apps/v1/namespaces/%s/deployments/%s", ns[i], name);
			gd = get(green, path);
			assert_string_not_equal(str_at(e, "metadata", "uid"), str_at(gd, "metadata", "uid"));
			assert_true(applied_by_bgswitch(gd, "resourceVersion"));
			assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(gd, "spec"), "replicas")->valueint,
			    cJSON_GetObjectItem(cJSON_GetObjectItem(e, "spec"), "replicas")->valueint);
			bt = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(
			    cJSON_GetObjectItem(e, "spec"), "template"), "spec"));
			gt = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(
			    cJSON_GetObjectItem(gd, "spec"), "template"), "spec"));
			assert_string_equal(bt, gt);
			free(bt);
			free(gt);
			cJSON_Delete(gd);
			deployments++;
		}
		cJSON_Delete(j);
	}
	assert_int_equal(deployments, 10);

	/* They become Available on green (bounded). */
	until = http_now_ms() + 20000;
	for (int i = 0; ns[i] != NULL; i++) {
		snprintf(path, sizeof path, "/apis/apps/v1/namespaces/%s/deployments", ns[i]);
		for (;;) {
			int all = 1;

			j = get(green, path);
			cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "items"))
				all &= available(e);
			cJSON_Delete(j);
			if (all)
				break;
			if (http_now_ms() > until)
				fail_msg("deployments in %s not Available on green in 20 s", ns[i]);
			usleep(100000);
		}
	}

	/* Parity: nothing differs. */
	assert_int_equal(sync_parity(blue, green, ns, 0, &p, err, sizeof err), 0);
	text = sync_parity_text(&p);
	if (p.n != 0)
		fail_msg("%s", text);
	assert_contains(text, "parity: 2 namespaces, 10 workloads: no differences");
	free(text);
	sync_parity_free(&p);

	/* A dry run changes nothing on green. */
	{
		struct kube_call call = { 0 };
		char *cm[] = { "ConfigMap", NULL };
		struct sync_opts d = { .namespaces = ns, .kinds = cm, .dry_run = true };

		assert_int_equal(kube_merge_patch(blue, "/api/v1/namespaces/shop/configmaps/app-settings",
		    "{\"data\":{\"color\":\"plum\"}}", NULL, &call), 0);
		if (sync_copy(blue, green, &d, &r, err, sizeof err) != 0) {
			dump_failures(&r);
			fail_msg("dry run failed");
		}
		sync_result_free(&r);
		j = get(green, "/api/v1/namespaces/shop/configmaps/app-settings");
		assert_string_equal(str_at(j, "data", "color"), "teal");
		cJSON_Delete(j);
	}

	/* An image changes on blue: exactly that difference. */
	{
		struct kube_call call = { 0 };
		cJSON *js;
		char *s;

		assert_int_equal(kube_merge_patch(blue, "/apis/apps/v1/namespaces/shop/deployments/storefront",
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"storefront\","
		    "\"image\":\"contoso.azurecr.io/shop/storefront:2.15.0\"}]}}}}", NULL, &call), 0);
		assert_int_equal(sync_parity(blue, green, ns, 0, &p, err, sizeof err), 0);
		text = sync_parity_text(&p);
		if (p.n != 1)
			fail_msg("%s", text);
		assert_int_equal(p.v[0].what, SYNC_DIFF_IMAGE);
		assert_string_equal(p.v[0].ns, "shop");
		assert_string_equal(p.v[0].kind, "Deployment");
		assert_string_equal(p.v[0].name, "storefront");
		assert_string_equal(p.v[0].container, "storefront");
		assert_string_equal(p.v[0].blue, "contoso.azurecr.io/shop/storefront:2.15.0");
		assert_string_equal(p.v[0].green, "contoso.azurecr.io/shop/storefront:2.14.0");
		assert_contains(text, "Deployment shop/storefront container storefront: image "
		    "contoso.azurecr.io/shop/storefront:2.15.0 on blue, "
		    "contoso.azurecr.io/shop/storefront:2.14.0 on green");
		js = sync_parity_json(&p);
		s = cJSON_PrintUnformatted(js);
		assert_contains(s, "\"what\":\"image\"");
		free(s);
		cJSON_Delete(js);
		free(text);
		sync_parity_free(&p);
	}
}

int
main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_parity_text),
	};
	const struct CMUnitTest sim[] = {
		cmocka_unit_test(test_copy_and_parity),
	};
	int rc = cmocka_run_group_tests_name("sync", pure, NULL, NULL);

	return rc + cmocka_run_group_tests_name("sync_sim", sim, sim_setup, sim_teardown);
}
