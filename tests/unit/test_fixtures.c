/*
 * test_fixtures.c — every real API example in tests/fixtures/ (copied from
 * the shared set with its MANIFEST.md) goes through the product code that
 * reads live answers, and the values that matter come out.
 *
 * The module tests (test_kube_decode.c, test_appgw.c, test_pdns.c, ...)
 * check each parser in depth; this file is the roll call: one table row per
 * MANIFEST entry, so a fixture added to the shared set without a parser
 * that reads it fails here.  Examples the product does not consume (AKS
 * upgrade profiles, the private zone itself) are read for their shape and
 * say so in their row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "azure/aks.h"
#include "azure/appgw.h"
#include "azure/pdns.h"
#include "kube/kube_decode.h"
#include "kube/kubeconfig.h"

#define FIXTURES "tests/fixtures/"

static char *
slurp(const char *rel, size_t *len)
{
	char path[512];
	FILE *f;
	long n;
	char *buf;

	snprintf(path, sizeof path, FIXTURES "%s", rel);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

/* An Azure example's responses.STATUS.body, detached (caller frees). */
static cJSON *
example_body(const char *rel, const char *status)
{
	char *text = slurp(rel, NULL);
	cJSON *ex = cJSON_Parse(text), *body;

	free(text);
	assert_non_null(ex);
	body = cJSON_DetachItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(ex, "responses"), status), "body");
	cJSON_Delete(ex);
	return body;
}

/* ---- Azure ------------------------------------------------------------------ */

static void
aks_cluster(const char *rel)
{
	cJSON *b = example_body(rel, "200");
	struct aks_summary s;
	char err[256];

	assert_non_null(b);
	if (aks_parse_summary(b, &s, err, sizeof err) != 0)
		fail_msg("%s: %s", rel, err);
	assert_string_equal(s.name, "clustername1");
	assert_string_equal(s.provisioning_state, "Succeeded");
	assert_true(s.kubernetes_version[0] != '\0');
	assert_true(s.npools >= 1);
	assert_string_equal(s.pools[0].name, "nodepool1");
	assert_int_equal(s.pools[0].count, 3);
	aks_summary_free(&s);
	cJSON_Delete(b);
}

/* An agent pool's properties are the schema of agentPoolProfiles entries
 * (ManagedClusterAgentPoolProfileProperties), which is how bgswitch reads
 * pools: inside the managed cluster.  Wrap it as such. */
static void
agent_pool_as_profile(const cJSON *pool, const char *want_version)
{
	cJSON *cl = cJSON_CreateObject(), *props = cJSON_AddObjectToObject(cl, "properties");
	cJSON *profiles = cJSON_AddArrayToObject(props, "agentPoolProfiles");
	cJSON *p = cJSON_Duplicate(cJSON_GetObjectItem(pool, "properties"), 1);
	struct aks_summary s;
	char err[256];

	cJSON_AddStringToObject(cl, "name", "clustername1");
	cJSON_AddStringToObject(props, "provisioningState", "Succeeded");
	cJSON_AddStringToObject(p, "name", cJSON_GetObjectItem(pool, "name")->valuestring);
	cJSON_AddItemToArray(profiles, p);
	if (aks_parse_summary(cl, &s, err, sizeof err) != 0)
		fail_msg("agent pool: %s", err);
	assert_int_equal(s.npools, 1);
	assert_string_equal(s.pools[0].name, "agentpool1");
	assert_string_equal(s.pools[0].orchestrator_version, want_version);
	assert_true(s.pools[0].count > 0);
	aks_summary_free(&s);
	cJSON_Delete(cl);
}

static void
aks_agent_pool(const char *rel)
{
	cJSON *b = example_body(rel, "200");

	assert_non_null(b);
	agent_pool_as_profile(b, cJSON_GetObjectItem(cJSON_GetObjectItem(b, "properties"),
	    "orchestratorVersion")->valuestring);
	cJSON_Delete(b);
}

static void
aks_agent_pools(const char *rel)
{
	cJSON *b = example_body(rel, "200"), *it;
	int n = 0;

	cJSON_ArrayForEach(it, cJSON_GetObjectItem(b, "value")) {
		agent_pool_as_profile(it, "1.9.6");
		n++;
	}
	assert_int_equal(n, 1);
	cJSON_Delete(b);
}

/* The delete answer is a long-running operation followed by Location
 * (test_aks.c drives aks_delete through exactly this sequence). */
static void
aks_delete_lro(const char *rel)
{
	char *text = slurp(rel, NULL);
	cJSON *ex = cJSON_Parse(text);
	const cJSON *r = cJSON_GetObjectItem(ex, "responses");
	const cJSON *loc = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "202"),
	    "headers"), "location");

	free(text);
	assert_true(cJSON_IsString(loc));
	assert_non_null(strstr(loc->valuestring, "/operationresults/"));
	assert_non_null(cJSON_GetObjectItem(r, "204"));
	cJSON_Delete(ex);
}

/* Not consumed by bgswitch (green's version is taken from the config);
 * read for its shape only. */
static void
aks_upgrade_profile(const char *rel)
{
	cJSON *b = example_body(rel, "200");
	const cJSON *cp = cJSON_GetObjectItem(cJSON_GetObjectItem(b, "properties"), "controlPlaneProfile");

	assert_true(cJSON_IsString(cJSON_GetObjectItem(cp, "kubernetesVersion")));
	cJSON_Delete(b);
}

/* The example's kubeconfig value is a placeholder ("credentialValue1"),
 * not a kubeconfig: the product path must refuse it with a clear error
 * rather than connect somewhere. */
static void
aks_user_credential(const char *rel)
{
	cJSON *b = example_body(rel, "200");
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "kubeconfigs"), 0),
	    "value");
	struct kubeconfig *kc;
	char err[KUBECONFIG_ERR_SIZE];

	assert_true(cJSON_IsString(v));
	kc = kubeconfig_load_base64(v->valuestring, strlen(v->valuestring), "ARM credential for clustername1",
	    err, sizeof err);
	if (kc != NULL) {
		struct kubeconfig_target t;
		int rc = kubeconfig_resolve(kc, NULL, &t, err, sizeof err);
		kubeconfig_free(kc);
		if (rc == 0)
			kubeconfig_target_free(&t);
		assert_int_not_equal(rc, 0);
	}
	assert_non_null(strstr(err, "ARM credential for clustername1"));
	cJSON_Delete(b);
}

static void
appgw_create(const char *rel)
{
	cJSON *b = example_body(rel, "200");
	struct appgw_target t = { "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/"
	    "applicationGateways/appgw", "appgwrule", "appgwpool", "appgwpool1" };
	struct appgw_weights w;
	char err[512];

	assert_non_null(b);
	if (appgw_weights(b, &t, &w, err, sizeof err) != 0)
		fail_msg("%s: %s", rel, err);
	assert_true(w.rule_found);
	assert_string_equal(w.rule, "appgwrule");
	/* A rule on one pool sends it everything. */
	assert_true(w.blue.share == 100.0);
	assert_true(w.green.share == 0.0);
	cJSON_Delete(b);
}

static void
appgw_health(const char *rel)
{
	cJSON *b = example_body(rel, "200");
	struct appgw_health h;
	char err[512];

	assert_non_null(b);
	if (appgw_parse_health(b, NULL, &h, err, sizeof err) != 0)
		fail_msg("%s: %s", rel, err);
	assert_true(h.npools >= 1);
	assert_true(h.pools[0].nservers >= 1);
	assert_true(h.pools[0].servers[0].address[0] != '\0');
	assert_true(h.pools[0].servers[0].health[0] != '\0');
	appgw_health_free(&h);
	cJSON_Delete(b);
}

static void
record(const char *rel, const char *status, const char *type, long long ttl, const char *target)
{
	cJSON *b = example_body(rel, status);
	struct pdns_record r;
	char err[512];

	assert_non_null(b);
	if (pdns_parse(b, NULL, &r, err, sizeof err) != 0)
		fail_msg("%s: %s", rel, err);
	assert_string_equal(r.type, type);
	assert_int_equal(r.ttl, ttl);
	assert_true(r.ntargets >= 1);
	assert_string_equal(r.targets[0], target);
	assert_string_equal(r.etag, "00000000-0000-0000-0000-000000000000");
	cJSON_Delete(b);
}

static void pdns_a_get(const char *rel) { record(rel, "200", "A", 3600, "1.2.3.4"); }
static void pdns_a_put(const char *rel) { record(rel, "200", "A", 3600, "1.2.3.4"); }
static void pdns_cname_put(const char *rel) { record(rel, "200", "CNAME", 3600, "contoso.com"); }

static void
pdns_cname_list(const char *rel)
{
	cJSON *b = example_body(rel, "200"), *it;
	struct pdns_record r;
	char err[512];
	int n = 0;

	cJSON_ArrayForEach(it, cJSON_GetObjectItem(b, "value")) {
		if (pdns_parse(it, NULL, &r, err, sizeof err) != 0)
			fail_msg("%s: %s", rel, err);
		assert_string_equal(r.type, "CNAME");
		assert_int_equal(r.ntargets, 1);
		n++;
	}
	assert_true(n >= 1);
	cJSON_Delete(b);
}

/* Not consumed (bgswitch reads record sets, not the zone); shape only. */
static void
pdns_zone(const char *rel)
{
	cJSON *b = example_body(rel, "200");

	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "properties"),
	    "numberOfRecordSets")));
	cJSON_Delete(b);
}

/* ---- Kubernetes --------------------------------------------------------------- */

struct tally {
	int objects, ready, status_code;
	char first_name[256];
};

static int
on_object(void *ctx, enum kube_event ev, const struct kube_object *o)
{
	struct tally *t = ctx;

	if (ev == KUBE_EVENT_STATUS || ev == KUBE_EVENT_ERROR) {
		t->status_code = o->status.code;
		return 0;
	}
	if (t->objects++ == 0)
		snprintf(t->first_name, sizeof t->first_name, "%s", o->meta.name);
	if ((o->kind == KUBE_KIND_POD && o->pod.ready == KUBE_COND_TRUE)
	    || (o->kind == KUBE_KIND_NODE && o->node.ready == KUBE_COND_TRUE))
		t->ready++;
	return 0;
}

static struct tally
decode(const char *rel, enum kube_decode_mode mode)
{
	size_t len;
	char *text = slurp(rel, &len);
	struct tally t = { 0 };
	struct kube_decoder *d = kube_decode_new(mode, on_object, NULL, &t);

	assert_non_null(d);
	if (kube_decode_feed(d, text, len) != 0 || kube_decode_finish(d) != 0)
		fail_msg("%s: %s", rel, kube_decode_error(d));
	kube_decode_free(d);
	free(text);
	return t;
}

static void kube_pods_page(const char *rel) { struct tally t = decode(rel, KUBE_DECODE_BODY); assert_int_equal(t.objects, 2); }
static void kube_pod_list(const char *rel) { struct tally t = decode(rel, KUBE_DECODE_BODY); assert_true(t.objects >= 1); }
static void kube_node_list(const char *rel) { struct tally t = decode(rel, KUBE_DECODE_BODY); assert_true(t.objects >= 1); }
static void kube_aks_nodes(const char *rel) { struct tally t = decode(rel, KUBE_DECODE_BODY); assert_true(t.objects >= 1); assert_true(t.ready >= 1); }
static void kube_status_410(const char *rel) { struct tally t = decode(rel, KUBE_DECODE_BODY); assert_int_equal(t.status_code, 410); }
static void kube_watch(const char *rel) { struct tally t = decode(rel, KUBE_DECODE_WATCH); assert_true(t.objects >= 3); }
static void kube_one(const char *rel) { struct tally t = decode(rel, KUBE_DECODE_BODY); assert_int_equal(t.objects, 1); assert_true(t.first_name[0] != '\0'); }
static void kube_event(const char *rel) { struct tally t = decode(rel, KUBE_DECODE_WATCH); assert_int_equal(t.objects, 1); }

static void
kubeconfig_exec_ctx(const char *rel, const char *context, const char *want_command)
{
	char path[512], err[KUBECONFIG_ERR_SIZE];
	struct kubeconfig *kc;
	struct kubeconfig_target t;

	snprintf(path, sizeof path, FIXTURES "%s", rel);
	kc = kubeconfig_load(path, err, sizeof err);
	if (kc == NULL)
		fail_msg("%s", err);
	if (kubeconfig_resolve(kc, context, &t, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_non_null(t.server);
	assert_non_null(t.exec);
	assert_non_null(strstr(t.exec->command, want_command));
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);
}

static void
kubeconfig_kubelogin(const char *rel)
{
	kubeconfig_exec_ctx(rel, NULL, "kubelogin");
}

/* Three contexts and no current-context: name one, as a user must. */
static void
kubeconfig_generic(const char *rel)
{
	kubeconfig_exec_ctx(rel, "localhost/system:admin:exec-search-path", "example-exec-plugin");
}

/* ---- the roll call ------------------------------------------------------------ */

static const struct {
	const char *file;		/* as MANIFEST.md names it */
	void (*check)(const char *rel);
} roll[] = {
	{ "azure/containerservice/AgentPoolsCreate_Update.json", aks_agent_pool },
	{ "azure/containerservice/AgentPoolsList.json", aks_agent_pools },
	{ "azure/containerservice/ManagedClustersCreate_Update.json", aks_cluster },
	{ "azure/containerservice/ManagedClustersDelete.json", aks_delete_lro },
	{ "azure/containerservice/ManagedClustersGetUpgradeProfile.json", aks_upgrade_profile },
	{ "azure/containerservice/ManagedClustersListClusterUserCredentials.json", aks_user_credential },
	{ "azure/network/ApplicationGatewayBackendHealthGet.json", appgw_health },
	{ "azure/network/ApplicationGatewayCreate.json", appgw_create },
	{ "azure/privatedns/PrivateZoneGet.json", pdns_zone },
	{ "azure/privatedns/RecordSetAGet.json", pdns_a_get },
	{ "azure/privatedns/RecordSetAPut.json", pdns_a_put },
	{ "azure/privatedns/RecordSetCNAMEList.json", pdns_cname_list },
	{ "azure/privatedns/RecordSetCNAMEPut.json", pdns_cname_put },
	{ "kube/coordination.k8s.io.v1.Lease.json", kube_one },
	{ "kube/deployment.json", kube_one },
	{ "kube/dp.json", kube_one },
	{ "kube/execauth.kubeconfig", kubeconfig_generic },
	{ "kube/get_nodes_response_2.json", kube_aks_nodes },
	{ "kube/node_list.json", kube_node_list },
	{ "kube/node_notice.json", kube_event },
	{ "kube/pod-list.json", kube_pod_list },
	{ "kube/pods_1.json", kube_pods_page },
	{ "kube/pods_410.json", kube_status_410 },
	{ "kube/sample_kubeconfig.yaml", kubeconfig_kubelogin },
	{ "kube/watch_stream.json", kube_watch },
};

static void
test_every_fixture_parses(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof roll / sizeof roll[0]; i++) {
		print_message("# %s\n", roll[i].file);
		roll[i].check(roll[i].file);
	}
}

/* Every file MANIFEST.md lists is here and has a row above. */
static void
test_manifest_complete(void **state)
{
	char *m = slurp("MANIFEST.md", NULL), *line, *save = NULL;
	int listed = 0;

	(void)state;
	for (line = strtok_r(m, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char file[256];
		int found = 0;

		if (sscanf(line, "| %255[^ |] |", file) != 1 || (strncmp(file, "azure/", 6) != 0
		    && strncmp(file, "kube/", 5) != 0))
			continue;
		listed++;
		for (size_t i = 0; i < sizeof roll / sizeof roll[0]; i++)
			found |= strcmp(roll[i].file, file) == 0;
		if (!found)
			fail_msg("MANIFEST.md lists %s, which no check reads", file);
		free(slurp(file, NULL));
	}
	free(m);
	assert_int_equal(listed, (int)(sizeof roll / sizeof roll[0]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_complete),
		cmocka_unit_test(test_every_fixture_parses),
	};

	return cmocka_run_group_tests_name("fixtures", tests, NULL, NULL);
}
