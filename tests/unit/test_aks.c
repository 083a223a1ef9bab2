/*
 * test_aks.c — managed clusters (summary, clone for green, create, stop,
 * start, delete, user kubeconfig) and the RBAC permissions check.
 *
 * A libmicrohttpd server on 127.0.0.1 (tests/lib/fakearm.c) plays Entra's
 * token endpoint and ARM; this file scripts its routes.
 * Bodies come from the real examples in tests/fixtures/azure (SOURCES.md):
 * ManagedClustersCreate_Update.json (200 and 201 answers),
 * ManagedClustersListClusterUserCredentials.json, and the Location header
 * of ManagedClustersDelete.json with its host moved to the test server.
 * The clone test adds to the example the read-only properties a GET of a
 * running cluster carries (as in the spec's ManagedClustersGet example and
 * definitions) and checks none survives.  The permissions tests (authz.c)
 * live here because they guard cluster writes first.  The last test drives
 * the in-process simulator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "azure/aks.h"
#include "azure/arm.h"
#include "azure/authz.h"
#include "azure/credential.h"
#include "sim/sim.h"
#include "tests/lib/simclient.h"
#include "src/http.h"
#include "src/log.h"
#include "tests/lib/example.h"
#include "tests/lib/fakearm.h"

#include <cjson/cJSON.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define FIX "tests/fixtures/azure/"
#define SUBID "00000000-0000-0000-0000-000000000000"
#define AKSID "/subscriptions/" SUBID "/resourceGroups/rg1/providers/" \
	"Microsoft.ContainerService/managedClusters/clustername1"

/* ---- summary ----------------------------------------------------------------------------- */

static cJSON *
cluster_example(const char *status)
{
	return example_body(FIX "containerservice/ManagedClustersCreate_Update.json", status);
}

static void
test_summary_from_example(void **state)
{
	cJSON *b = cluster_example("200"), *o;
	struct aks_summary s;
	char err[256] = "", *text;

	(void)state;
	assert_int_equal(aks_parse_summary(b, &s, err, sizeof err), 0);
	assert_string_equal(s.name, "clustername1");
	assert_string_equal(s.id, AKSID);
	assert_string_equal(s.location, "location1");
	assert_string_equal(s.kubernetes_version, "1.9.6");
	assert_string_equal(s.current_kubernetes_version, "1.9.6");
	assert_string_equal(s.provisioning_state, "Succeeded");
	assert_string_equal(s.power_state, "");		/* the example has none */
	assert_string_equal(s.fqdn, "dnsprefix1-abcd1234.hcp.eastus.azmk8s.io");
	assert_string_equal(s.node_resource_group, "MC_rg1_clustername1_location1");
	assert_int_equal(s.npools, 1);
	assert_string_equal(s.pools[0].name, "nodepool1");
	assert_int_equal(s.pools[0].count, 3);
	assert_string_equal(s.pools[0].vm_size, "Standard_DS1_v2");
	assert_string_equal(s.pools[0].mode, "System");
	assert_string_equal(s.pools[0].os_type, "Linux");
	assert_string_equal(s.pools[0].orchestrator_version, "1.9.6");
	assert_string_equal(s.pools[0].current_orchestrator_version, "1.9.6");
	assert_string_equal(s.pools[0].provisioning_state, "Succeeded");
	o = aks_status_json(&s);
	text = cJSON_PrintUnformatted(o);
	assert_string_equal(text, "{\"name\":\"clustername1\",\"resourceId\":\"" AKSID "\","
	    "\"kubernetesVersion\":\"1.9.6\",\"provisioningState\":\"Succeeded\",\"powerState\":\"\"}");
	free(text);
	cJSON_Delete(o);
	aks_summary_free(&s);
	cJSON_Delete(b);

	b = cluster_example("201");
	assert_int_equal(aks_parse_summary(b, &s, err, sizeof err), 0);
	assert_string_equal(s.provisioning_state, "Creating");
	assert_string_equal(s.pools[0].provisioning_state, "Creating");
	assert_string_equal(s.fqdn, "");
	aks_summary_free(&s);
	cJSON_Delete(b);

	/* powerState.code, and a private cluster's FQDN. */
	b = cJSON_Parse("{\"name\":\"c\",\"properties\":{\"powerState\":{\"code\":\"Stopped\"},"
	    "\"privateFQDN\":\"c-1.privatelink.westeurope.azmk8s.io\",\"agentPoolProfiles\":["
	    "{\"name\":\"p\",\"powerState\":{\"code\":\"Stopped\"}}]}}");
	assert_int_equal(aks_parse_summary(b, &s, err, sizeof err), 0);
	assert_string_equal(s.power_state, "Stopped");
	assert_string_equal(s.pools[0].power_state, "Stopped");
	assert_string_equal(s.fqdn, "c-1.privatelink.westeurope.azmk8s.io");
	aks_summary_free(&s);
	cJSON_Delete(b);
}

static void
test_summary_bad_bodies(void **state)
{
	static const char *const bodies[] = {
		"[]", "{}", "{\"properties\":3}", "{\"properties\":{\"agentPoolProfiles\":{}}}",
	};
	struct aks_summary s;
	char err[256];

	(void)state;
	assert_int_equal(aks_parse_summary(NULL, &s, err, sizeof err), AKS_E_BODY);
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		cJSON *j = cJSON_Parse(bodies[i]);

		err[0] = '\0';
		assert_int_equal(aks_parse_summary(j, &s, err, sizeof err), AKS_E_BODY);
		assert_true(err[0] != '\0');
		assert_null(s.pools);
		cJSON_Delete(j);
	}
	/* Junk pool entries are skipped, not crashed on. */
	{
		cJSON *j = cJSON_Parse("{\"properties\":{\"agentPoolProfiles\":[3,{\"name\":\"p\","
		    "\"count\":\"x\"}]}}");

		assert_int_equal(aks_parse_summary(j, &s, err, sizeof err), 0);
		assert_int_equal(s.npools, 1);
		assert_int_equal(s.pools[0].count, 0);
		aks_summary_free(&s);
		cJSON_Delete(j);
	}
}

/* ---- clone ---------------------------------------------------------------------------------- */

/* Blue as a GET of a running cluster returns it: the create example plus the
 * read-only and per-cluster properties such a GET carries. */
static cJSON *
running_blue(void)
{
	cJSON *b = cluster_example("200"), *p = cJSON_GetObjectItem(b, "properties");
	cJSON *pools = cJSON_GetObjectItem(p, "agentPoolProfiles"), *pool2, *id;

	cJSON_AddStringToObject(b, "eTag", "beta-etag");
	cJSON_AddItemToObject(b, "systemData", cJSON_Parse("{\"createdBy\":\"me\"}"));
	id = cJSON_GetObjectItem(b, "identity");
	cJSON_AddStringToObject(id, "principalId", "p-1");
	cJSON_AddStringToObject(id, "tenantId", "t-1");
	cJSON_AddItemToObject(p, "powerState", cJSON_Parse("{\"code\":\"Running\"}"));
	cJSON_AddStringToObject(p, "privateFQDN", "x.privatelink.eastus.azmk8s.io");
	cJSON_AddStringToObject(p, "azurePortalFQDN", "x-portal.hcp.eastus.azmk8s.io");
	cJSON_AddStringToObject(p, "resourceUID", "6b1b1d4a");
	cJSON_AddItemToObject(p, "status", cJSON_Parse("{\"provisioningError\":null}"));
	cJSON_AddItemToObject(p, "oidcIssuerProfile", cJSON_Parse("{\"enabled\":true,"
	    "\"issuerURL\":\"https://eastus.oic.prod-aks.azure.com/t/u/\"}"));
	cJSON_DeleteItemFromObject(p, "addonProfiles");
	cJSON_AddItemToObject(p, "addonProfiles", cJSON_Parse("{\"omsagent\":{\"enabled\":true,"
	    "\"config\":{\"logAnalyticsWorkspaceResourceID\":\"/w\"},\"identity\":{\"resourceId\":"
	    "\"/x\",\"clientId\":\"c\",\"objectId\":\"o\"}},\"ingressApplicationGateway\":{"
	    "\"enabled\":true,\"config\":{\"applicationGatewayId\":\"/subscriptions/s/resourceGroups/"
	    "rg1/providers/Microsoft.Network/applicationGateways/agw-prod\"}}}"));
	cJSON_AddItemToObject(p, "identityProfile", cJSON_Parse("{\"kubeletidentity\":{\"resourceId\":"
	    "\"/subscriptions/" SUBID "/resourcegroups/MC_rg1_clustername1_location1/providers/"
	    "Microsoft.ManagedIdentity/userAssignedIdentities/clustername1-agentpool\","
	    "\"clientId\":\"k\",\"objectId\":\"ko\"}}"));
	cJSON_AddItemToObject(p, "privateLinkResources", cJSON_Parse("[{\"id\":\"" AKSID
	    "/privateLinkResources/management\",\"name\":\"management\",\"privateLinkServiceID\":"
	    "\"/pls\"}]"));
	pool2 = cJSON_Duplicate(cJSON_GetArrayItem(pools, 0), 1);
	cJSON_ReplaceItemInObject(pool2, "name", cJSON_CreateString("userpool"));
	cJSON_ReplaceItemInObject(pool2, "mode", cJSON_CreateString("User"));
	cJSON_AddItemToObject(pool2, "powerState", cJSON_Parse("{\"code\":\"Stopped\"}"));
	cJSON_AddStringToObject(pool2, "eTag", "pool-etag");
	cJSON_AddStringToObject(pool2, "vnetSubnetID", "/subscriptions/" SUBID "/resourceGroups/"
	    "net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks-blue");
	cJSON_AddItemToObject(pool2, "status", cJSON_Parse("{\"provisioningError\":null}"));
	cJSON_AddItemToArray(pools, pool2);
	return b;
}

/* Fails when KEY appears anywhere in J. */
static void
assert_no_key(const cJSON *j, const char *key, const char *where)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, j) {
		if (c->string != NULL && strcmp(c->string, key) == 0)
			fail_msg("read-only or per-cluster \"%s\" left in the clone (under %s)", key, where);
		assert_no_key(c, key, c->string != NULL ? c->string : where);
	}
}

static void
test_clone_spec(void **state)
{
	static const char *const gone[] = {
		"provisioningState", "powerState", "maxAgentPools", "currentKubernetesVersion",
		"currentOrchestratorVersion", "fqdn", "privateFQDN", "azurePortalFQDN", "resourceUID",
		"nodeResourceGroup", "nodeImageVersion", "eTag", "systemData", "effectiveOutboundIPs",
		"issuerURL", "principalId", "tenantId", "clientId", "objectId", "status",
		"privateLinkResources", "servicePrincipalProfile", "identityProfile",
	};
	cJSON *blue = running_blue(), *g, *p, *pool, *uai;
	char note[1024], err[256], *text;
	int n = 0;

	(void)state;
	g = aks_clone_spec(blue, "aks-prod-green", "1.30.5", note, sizeof note, err, sizeof err);
	if (g == NULL)
		fail_msg("clone: %s", err);
	for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
		assert_no_key(g, gone[i], "the top");
	assert_null(cJSON_GetObjectItem(g, "id"));
	assert_null(cJSON_GetObjectItem(g, "name"));
	assert_null(cJSON_GetObjectItem(g, "type"));
	p = cJSON_GetObjectItem(g, "properties");
	assert_string_equal(cJSON_GetObjectItem(p, "dnsPrefix")->valuestring, "aks-prod-green");
	assert_string_equal(cJSON_GetObjectItem(p, "kubernetesVersion")->valuestring, "1.30.5");
	cJSON_ArrayForEach(pool, cJSON_GetObjectItem(p, "agentPoolProfiles")) {
		assert_string_equal(cJSON_GetObjectItem(pool, "orchestratorVersion")->valuestring,
		    "1.30.5");
		assert_int_equal(cJSON_GetObjectItem(pool, "count")->valueint, 3);
		assert_string_equal(cJSON_GetObjectItem(pool, "vmSize")->valuestring, "Standard_DS1_v2");
		n++;
	}
	assert_int_equal(n, 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(p,
	    "agentPoolProfiles"), 1), "mode")->valuestring, "User");
	/* What green needs from blue is kept. */
	assert_string_equal(cJSON_GetObjectItem(g, "location")->valuestring, "location1");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(g, "tags"), "tier")->valuestring,
	    "production");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(g, "identity"),
	    "type")->valuestring, "UserAssigned");
	uai = cJSON_GetObjectItem(cJSON_GetObjectItem(g, "identity"), "userAssignedIdentities");
	assert_int_equal(cJSON_GetArraySize(uai), 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetArrayItem(uai, 0)), 0);	/* {} */
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "networkProfile"),
	    "serviceCidr")->valuestring, "10.0.0.0/16");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(p, "networkProfile"), "loadBalancerProfile"), "managedOutboundIPs"),
	    "count")->valueint, 2);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "enableRBAC")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "oidcIssuerProfile"),
	    "enabled")));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(p, "addonProfiles"), "omsagent"), "config"),
	    "logAnalyticsWorkspaceResourceID")->valuestring, "/w");
	assert_non_null(cJSON_GetObjectItem(p, "linuxProfile"));
	assert_non_null(cJSON_GetObjectItem(p, "autoScalerProfile"));
	assert_non_null(cJSON_GetObjectItem(p, "diskEncryptionSetID"));
	assert_non_null(strstr(note, "ingressApplicationGateway"));
	assert_non_null(strstr(note, "agw-prod"));
	assert_non_null(strstr(note, "pool userpool joins blue's subnet"));
	/* Blue is untouched. */
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(blue, "properties"),
	    "kubernetesVersion")->valuestring, "1.9.6");
	text = cJSON_PrintUnformatted(g);
	assert_non_null(text);
	free(text);
	cJSON_Delete(g);

	/* A user-assigned kubelet identity outside blue's node resource group
	 * is kept; a private cluster's fqdnSubdomain is renamed instead of
	 * dnsPrefix. */
	p = cJSON_GetObjectItem(blue, "properties");
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "identityProfile"),
	    "kubeletidentity"), "resourceId", cJSON_CreateString("/subscriptions/" SUBID
	    "/resourceGroups/identities/providers/Microsoft.ManagedIdentity/"
	    "userAssignedIdentities/kubelet"));
	cJSON_DeleteItemFromObject(p, "dnsPrefix");
	cJSON_AddStringToObject(p, "fqdnSubdomain", "blue-sub");
	g = aks_clone_spec(blue, "aks_prod_green", "1.30", NULL, 0, err, sizeof err);
	assert_non_null(g);
	p = cJSON_GetObjectItem(g, "properties");
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "identityProfile"),
	    "kubeletidentity"));
	assert_string_equal(cJSON_GetObjectItem(p, "fqdnSubdomain")->valuestring, "aks-prod-green");
	assert_null(cJSON_GetObjectItem(p, "dnsPrefix"));
	assert_string_equal(cJSON_GetObjectItem(p, "kubernetesVersion")->valuestring, "1.30");
	cJSON_Delete(g);
	cJSON_Delete(blue);
}

static void
test_clone_refusals(void **state)
{
	cJSON *blue = cluster_example("200"), *noid;
	char err[256];

	(void)state;
	assert_null(aks_clone_spec(blue, "-green", "1.30.5", NULL, 0, err, sizeof err));
	assert_non_null(strstr(err, "not a valid AKS name"));
	assert_null(aks_clone_spec(blue, "aks-prod-green-with-a-name-that-is-far-too-long-for-aks-"
	    "1234567890", "1.30.5", NULL, 0, err, sizeof err));
	assert_null(aks_clone_spec(blue, "green", "1.30.x", NULL, 0, err, sizeof err));
	assert_non_null(strstr(err, "MAJOR.MINOR"));
	assert_null(aks_clone_spec(blue, "green", "", NULL, 0, err, sizeof err));
	assert_null(aks_clone_spec(NULL, "green", "1.30.5", NULL, 0, err, sizeof err));
	assert_non_null(strstr(err, "agentPoolProfiles"));
	/* A service principal cluster: ARM never returns the secret. */
	noid = cJSON_Duplicate(blue, 1);
	cJSON_DeleteItemFromObject(noid, "identity");
	assert_null(aks_clone_spec(noid, "green", "1.30.5", NULL, 0, err, sizeof err));
	assert_non_null(strstr(err, "service principal clientid"));
	cJSON_Delete(noid);
	cJSON_Delete(blue);
}

/* ---- calls ------------------------------------------------------------------------------------ */

struct akstate {
	pthread_mutex_t lock;
	int polls, gets, posts, post503;
	char last_put[16384];
	int fail_start;
};

static void
route_aks(struct fakearm *s, const struct fakearm_rq *q, struct fakearm_reply *r)
{
	struct akstate *a = s->ctx;
	char url[700];
	cJSON *b;

	pthread_mutex_lock(&a->lock);
	if (strcmp(q->method, "PUT") == 0 && strcmp(q->path, AKSID) == 0) {
		snprintf(a->last_put, sizeof a->last_put, "%s", q->body);
		b = cluster_example("201");
		snprintf(url, sizeof url, "%s/op/create", s->base);
		fakearm_hdr(r, "Azure-AsyncOperation", url);
		fakearm_reply_json(r, 201, b);
		cJSON_Delete(b);
	} else if (strcmp(q->method, "GET") == 0 && strcmp(q->path, "/op/create") == 0) {
		fakearm_reply(r, 200, a->polls++ == 0 ? "{\"status\":\"InProgress\",\"percentComplete\":40}"
		    : "{\"status\":\"Succeeded\"}");
	} else if (strcmp(q->method, "GET") == 0 && strcmp(q->path, AKSID) == 0) {
		a->gets++;
		b = cluster_example("200");
		fakearm_reply_json(r, 200, b);
		cJSON_Delete(b);
	} else if (strcmp(q->method, "GET") == 0 && strstr(q->path, "managedClusters/nope") != NULL) {
		fakearm_reply(r, 404, "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"The Resource "
		    "'Microsoft.ContainerService/managedClusters/nope' under resource group 'rg1' was "
		    "not found.\"}}");
	} else if (strcmp(q->method, "DELETE") == 0 && strcmp(q->path, AKSID) == 0) {
		/* The example's Location, on the test server. */
		cJSON *ex = example_load(FIX "containerservice/ManagedClustersDelete.json");
		const char *loc = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
		    cJSON_GetObjectItem(ex, "responses"), "202"), "headers"), "location")->valuestring;

		snprintf(url, sizeof url, "%s%s", s->base, strstr(loc, "/subscriptions/"));
		fakearm_hdr(r, "Location", url);
		fakearm_reply(r, 202, "");
		cJSON_Delete(ex);
	} else if (strcmp(q->method, "GET") == 0 && strstr(q->path, "/operationresults/") != NULL) {
		if (a->polls++ % 2 == 0) {
			snprintf(url, sizeof url, "%s%s?api-version=2026-08-01", s->base, q->path);
			fakearm_hdr(r, "Location", url);
			fakearm_reply(r, 202, "");
		} else {
			fakearm_reply(r, 204, "");
		}
	} else if (strcmp(q->method, "POST") == 0 && (strcmp(q->path, AKSID "/stop") == 0
	    || strcmp(q->path, AKSID "/start") == 0)) {
		a->posts++;
		if (a->fail_start && strstr(q->path, "/start") != NULL) {
			fakearm_reply(r, 409, "{\"error\":{\"code\":\"OperationNotAllowed\",\"message\":\"Cannot "
			    "start a cluster that is being deleted.\"}}");
		} else {
			snprintf(url, sizeof url, "%s/subscriptions/" SUBID "/providers/"
			    "Microsoft.ContainerService/locations/eastus/operationresults/%d", s->base,
			    a->posts);
			fakearm_hdr(r, "Location", url);
			fakearm_reply(r, 202, "");
		}
	} else if (strcmp(q->method, "POST") == 0
	    && strcmp(q->path, AKSID "/listClusterUserCredential") == 0) {
		if (a->post503-- > 0) {
			fakearm_reply(r, 503, "{\"error\":{\"code\":\"ServiceUnavailable\",\"message\":\"later\"}}");
		} else {
			b = example_body(FIX "containerservice/ManagedClustersListClusterUserCredentials.json",
			    "200");
			fakearm_reply_json(r, 200, b);
			cJSON_Delete(b);
		}
	} else if (strcmp(q->method, "POST") == 0
	    && strstr(q->path, "/managedClusters/bad/listClusterUserCredential") != NULL) {
		fakearm_reply(r, 200, "{\"kubeconfigs\":[{\"name\":\"x\",\"value\":\"@@not base64@@\"}]}");
	} else if (strcmp(q->method, "POST") == 0
	    && strstr(q->path, "/managedClusters/empty/listClusterUserCredential") != NULL) {
		fakearm_reply(r, 200, "{\"kubeconfigs\":[]}");
	} else if (strcmp(q->method, "GET") == 0 && strcmp(q->path, "/subscriptions/" SUBID
	    "/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters") == 0) {
		cJSON *page = cJSON_CreateObject(), *v = cJSON_AddArrayToObject(page, "value");

		if (strstr(q->path, "skip") == NULL && a->gets++ == 0) {
			cJSON_AddItemToArray(v, cluster_example("200"));
			snprintf(url, sizeof url, "%s/subscriptions/" SUBID "/resourceGroups/rg1/"
			    "providers/Microsoft.ContainerService/managedClusters?api-version=2026-08-01"
			    "&%%24skipToken=2", s->base);
			cJSON_AddStringToObject(page, "nextLink", url);
		} else {
			cJSON_AddItemToArray(v, cluster_example("201"));
		}
		fakearm_reply_json(r, 200, page);
		cJSON_Delete(page);
	}
	pthread_mutex_unlock(&a->lock);
}

struct progress_log {
	int calls;
	char statuses[256];
	double last_percent;
};

static void
on_progress(void *ctx, const struct arm_progress *p)
{
	struct progress_log *l = ctx;
	size_t n = strlen(l->statuses);

	l->calls++;
	l->last_percent = p->percent;
	snprintf(l->statuses + n, sizeof l->statuses - n, "%s%s", n ? "," : "", p->status);
}

static void
test_create_with_progress(void **state)
{
	struct akstate a = { 0 };
	struct fakearm_client f;
	struct progress_log pl = { 0 };
	struct arm_opts o = { 0 };
	struct aks_summary s;
	cJSON *blue = cluster_example("200"), *g, *sent;
	char err[512] = "";

	(void)state;
	pthread_mutex_init(&a.lock, NULL);
	fakearm_client_init(&f, route_aks, &a);
	g = aks_clone_spec(blue, "clustername1", "1.30.5", NULL, 0, err, sizeof err);
	assert_non_null(g);
	o.progress = on_progress;
	o.progress_ctx = &pl;
	if (aks_create_or_update(f.arm, AKSID, g, &o, &s, err, sizeof err) != 0)
		fail_msg("create: %s", err);
	assert_string_equal(s.provisioning_state, "Succeeded");
	assert_string_equal(s.name, "clustername1");
	assert_true(pl.calls >= 2);
	assert_non_null(strstr(pl.statuses, "InProgress"));
	sent = cJSON_Parse(a.last_put);
	assert_true(cJSON_Compare(sent, g, 1));
	cJSON_Delete(sent);
	aks_summary_free(&s);
	cJSON_Delete(g);
	cJSON_Delete(blue);
	fakearm_client_done(&f);
	pthread_mutex_destroy(&a.lock);
}

static void
test_get_list_delete_stop_start(void **state)
{
	struct akstate a = { 0 };
	struct fakearm_client f;
	struct aks_summary s, *v = NULL;
	size_t n = 0;
	cJSON *body = NULL;
	char err[512] = "";

	(void)state;
	pthread_mutex_init(&a.lock, NULL);
	fakearm_client_init(&f, route_aks, &a);
	assert_int_equal(aks_get(f.arm, AKSID, NULL, &body, &s, err, sizeof err), 0);
	assert_string_equal(s.current_kubernetes_version, "1.9.6");
	assert_string_equal(cJSON_GetObjectItem(body, "name")->valuestring, "clustername1");
	cJSON_Delete(body);
	aks_summary_free(&s);
	assert_int_equal(aks_get(f.arm, "/subscriptions/" SUBID "/resourceGroups/rg1/providers/"
	    "Microsoft.ContainerService/managedClusters/nope", NULL, NULL, &s, err, sizeof err),
	    AKS_E_NOT_FOUND);
	assert_non_null(strstr(err, "managedClusters/nope not found (404 ResourceNotFound)"));

	a.gets = 0;
	assert_int_equal(aks_list(f.arm, SUBID, "rg1", NULL, &v, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].provisioning_state, "Succeeded");
	assert_string_equal(v[1].provisioning_state, "Creating");
	aks_summaries_free(v, n);
	assert_int_equal(aks_list(f.arm, SUBID, "rg/1", NULL, &v, &n, err, sizeof err),
	    AKS_E_INVALID);

	a.polls = 0;
	assert_int_equal(aks_delete(f.arm, AKSID, NULL, err, sizeof err), 0);
	assert_int_equal(a.polls, 2);		/* 202 then 204 */
	a.polls = 0;
	assert_int_equal(aks_stop(f.arm, AKSID, NULL, err, sizeof err), 0);
	assert_int_equal(aks_start(f.arm, AKSID, NULL, err, sizeof err), 0);
	assert_int_equal(a.posts, 2);
	a.fail_start = 1;
	assert_int_equal(aks_start(f.arm, AKSID, NULL, err, sizeof err), ARM_E_STATUS);
	assert_non_null(strstr(err, "409 OperationNotAllowed: Cannot start a cluster"));
	fakearm_client_done(&f);
	pthread_mutex_destroy(&a.lock);
}

static void
test_user_credential(void **state)
{
	struct akstate a = { 0 };
	struct fakearm_client f;
	char *yaml = NULL, err[512] = "";
	size_t len = 0;

	(void)state;
	pthread_mutex_init(&a.lock, NULL);
	a.post503 = 1;		/* a read: retried although it is a POST */
	fakearm_client_init(&f, route_aks, &a);
	assert_int_equal(aks_list_user_credential(f.arm, AKSID, NULL, &yaml, &len, err, sizeof err), 0);
	assert_string_equal(yaml, "credentialValue1");	/* the example's base64 placeholder */
	assert_int_equal(len, 16);
	aks_kubeconfig_free(yaml, len);
	assert_int_equal(aks_list_user_credential(f.arm, "/subscriptions/" SUBID "/resourceGroups/"
	    "rg1/providers/Microsoft.ContainerService/managedClusters/bad", NULL, &yaml, &len, err,
	    sizeof err), AKS_E_BODY);
	assert_null(yaml);
	assert_non_null(strstr(err, "not base64"));
	assert_int_equal(aks_list_user_credential(f.arm, "/subscriptions/" SUBID "/resourceGroups/"
	    "rg1/providers/Microsoft.ContainerService/managedClusters/empty", NULL, &yaml, &len, err,
	    sizeof err), AKS_E_BODY);
	assert_non_null(strstr(err, "no kubeconfigs[0].value"));
	fakearm_client_done(&f);
	pthread_mutex_destroy(&a.lock);
}

static void
test_cluster_id(void **state)
{
	char id[256];

	(void)state;
	assert_int_equal(aks_cluster_id(id, sizeof id, SUBID, "rg1", "clustername1"), 0);
	assert_string_equal(id, AKSID);
	assert_int_equal(aks_cluster_id(id, sizeof id, SUBID, "rg 1", "c"), -1);
	assert_int_equal(aks_cluster_id(id, sizeof id, SUBID, "rg1", "a/b"), -1);
	assert_int_equal(aks_cluster_id(id, sizeof id, "", "rg1", "c"), -1);
	assert_int_equal(aks_cluster_id(id, 20, SUBID, "rg1", "c"), -1);
	assert_string_equal(id, "");
}

/* ---- permissions (authz.c) ---------------------------------------------------------------------- */

static void
test_authz_match_table(void **state)
{
	static const struct {
		const char *pattern, *action;
		int want;
	} cases[] = {
		{ "*", "Microsoft.ContainerService/managedClusters/write", 1 },
		{ "Microsoft.Network/*", "Microsoft.Network/applicationGateways/write", 1 },
		{ "Microsoft.Network/*", "Microsoft.ContainerService/managedClusters/read", 0 },
		{ "*/read", "Microsoft.Network/privateDnsZones/A/read", 1 },
		{ "*/read", "Microsoft.Network/privateDnsZones/A/write", 0 },
		{ "Microsoft.Network/*/read", "Microsoft.Network/applicationGateways/read", 1 },
		{ "Microsoft.Network/*/read", "Microsoft.Compute/virtualMachines/read", 0 },
		{ "microsoft.network/applicationgateways/*", "Microsoft.Network/applicationGateways/write", 1 },
		{ "Microsoft.Network/applicationGateways/write", "Microsoft.Network/applicationGateways/write", 1 },
		{ "Microsoft.Network/applicationGateways/write", "Microsoft.Network/applicationGateways/writeX", 0 },
		{ "Microsoft.Network/applicationGateways", "Microsoft.Network/applicationGateways/write", 0 },
		{ "Microsoft.ContainerService/managedClusters/*/action",
		    "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action", 1 },
		{ "", "Microsoft.Network/applicationGateways/read", 0 },
		{ "**", "a", 1 },
		{ "*a*b*c", "xxaybzc", 1 },
		{ "*a*b*c", "xxaybzcd", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (authz_match(cases[i].pattern, cases[i].action) != cases[i].want)
			fail_msg("authz_match(\"%s\", \"%s\") != %d", cases[i].pattern, cases[i].action,
			    cases[i].want);
	assert_int_equal(authz_match(NULL, "a"), 0);
}

static void
test_authz_not_actions(void **state)
{
	/* Contributor's actions and notActions, then User Access
	 * Administrator's (built-in role definitions). */
	cJSON *contrib = cJSON_Parse("{\"value\":[{\"actions\":[\"*\"],\"notActions\":["
	    "\"Microsoft.Authorization/*/Delete\",\"Microsoft.Authorization/*/Write\","
	    "\"Microsoft.Authorization/elevateAccess/Action\"],\"dataActions\":[],"
	    "\"notDataActions\":[]}]}");
	cJSON *uaa = cJSON_Parse("{\"value\":[{\"actions\":[\"*/read\",\"Microsoft.Authorization/*\"],"
	    "\"notActions\":[]}]}");
	cJSON *data = cJSON_Parse("{\"value\":[{\"actions\":[],\"dataActions\":[\"Microsoft.Storage/*\"],"
	    "\"notDataActions\":[\"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/"
	    "delete\"]}]}");
	struct authz_perms p = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(authz_parse(contrib, &p, err, sizeof err), 0);
	assert_true(authz_allowed(&p, "Microsoft.ContainerService/managedClusters/write"));
	assert_true(authz_allowed(&p, "Microsoft.Network/applicationGateways/write"));
	assert_false(authz_allowed(&p, "Microsoft.Authorization/roleAssignments/write"));
	assert_false(authz_data_allowed(&p, "Microsoft.Storage/x"));
	/* A second role that grants it: notActions is not a deny. */
	assert_int_equal(authz_parse(uaa, &p, err, sizeof err), 0);
	assert_true(authz_allowed(&p, "Microsoft.Authorization/roleAssignments/write"));
	authz_free(&p);
	assert_int_equal(authz_parse(uaa, &p, err, sizeof err), 0);
	assert_false(authz_allowed(&p, "Microsoft.ContainerService/managedClusters/write"));
	assert_true(authz_allowed(&p, "Microsoft.ContainerService/managedClusters/read"));
	assert_false(authz_allowed(&p, ""));
	authz_free(&p);
	assert_int_equal(authz_parse(data, &p, err, sizeof err), 0);
	assert_true(authz_data_allowed(&p, "Microsoft.Storage/storageAccounts/blobServices/"
	    "containers/blobs/read"));
	assert_false(authz_data_allowed(&p, "Microsoft.Storage/storageAccounts/blobServices/"
	    "containers/blobs/delete"));
	assert_false(authz_allowed(&p, "Microsoft.Storage/storageAccounts/read"));
	authz_free(&p);
	assert_false(authz_allowed(NULL, "x"));
	cJSON_Delete(contrib);
	cJSON_Delete(uaa);
	cJSON_Delete(data);
	/* Bad bodies. */
	{
		cJSON *b = cJSON_Parse("{\"value\":[{\"actions\":\"*\"}]}");

		assert_int_equal(authz_parse(b, &p, err, sizeof err), AUTHZ_E_BODY);
		assert_non_null(strstr(err, "actions is not an array"));
		authz_free(&p);
		cJSON_Delete(b);
		assert_int_equal(authz_parse(NULL, &p, err, sizeof err), AUTHZ_E_BODY);
	}
}

static void
route_perms(struct fakearm *s, const struct fakearm_rq *q, struct fakearm_reply *r)
{
	char body[700];

	(void)q;
	if (strstr(q->path, "/providers/Microsoft.Authorization/permissions") == NULL)
		return;
	if (strstr(q->path, "page2") == NULL) {
		snprintf(body, sizeof body, "{\"value\":[{\"actions\":[\"*/read\"],\"notActions\":[]}],"
		    "\"nextLink\":\"%s/subscriptions/" SUBID "/resourceGroups/rg1/providers/"
		    "Microsoft.Authorization/permissions/page2?api-version=2022-04-01\"}", s->base);
		fakearm_reply(r, 200, body);
	} else {
		fakearm_reply(r, 200, "{\"value\":[{\"actions\":[\"Microsoft.Network/applicationGateways/*\"],"
		    "\"notActions\":[\"Microsoft.Network/applicationGateways/delete\"]}]}");
	}
}

static void
test_authz_get_pages(void **state)
{
	struct fakearm_client f;
	struct authz_perms p;
	char err[512] = "";

	(void)state;
	fakearm_client_init(&f, route_perms, NULL);
	if (authz_get(f.arm, SUBID, "rg1", NULL, &p, err, sizeof err) != 0)
		fail_msg("authz_get: %s", err);
	assert_int_equal(cJSON_GetArraySize(p.entries), 2);
	assert_true(authz_allowed(&p, "Microsoft.Network/applicationGateways/write"));
	assert_false(authz_allowed(&p, "Microsoft.Network/applicationGateways/delete"));
	assert_true(authz_allowed(&p, "Microsoft.Network/applicationGateways/read"));
	assert_false(authz_allowed(&p, "Microsoft.ContainerService/managedClusters/write"));
	authz_free(&p);
	assert_int_equal(authz_get(f.arm, SUBID, "", NULL, &p, err, sizeof err), AUTHZ_E_INVALID);
	fakearm_client_done(&f);
}
/* ---- against the simulator ----------------------------------------------------------------------- */


static void
test_against_simulator(void **state)
{
	struct simclient x;
	struct aks_summary blue, green, *v = NULL;
	struct progress_log pl = { 0 };
	struct arm_opts o = { 0 };
	struct authz_perms perms;
	cJSON *body = NULL, *spec;
	char err[1024], bid[512], gid[512], note[512], *yaml = NULL;
	size_t n = 0, len = 0;
	int found = 0;

	(void)state;
	simclient_start(&x);
	assert_int_equal(aks_cluster_id(bid, sizeof bid, x.sub, x.rg, "aks-prod-blue"), 0);
	assert_int_equal(aks_cluster_id(gid, sizeof gid, x.sub, x.rg, "aks-prod-green"), 0);
	if (aks_get(x.arm, bid, NULL, &body, &blue, err, sizeof err) != 0)
		fail_msg("GET blue: %s", err);
	assert_string_equal(blue.name, "aks-prod-blue");
	assert_string_equal(blue.provisioning_state, "Succeeded");
	assert_string_equal(blue.power_state, "Running");
	assert_true(blue.npools >= 1);
	assert_true(blue.current_kubernetes_version[0] != '\0');
	if (aks_list(x.arm, x.sub, x.rg, NULL, &v, &n, err, sizeof err) != 0)
		fail_msg("list: %s", err);
	for (size_t i = 0; i < n; i++)
		found |= strcmp(v[i].name, "aks-prod-blue") == 0;
	assert_true(found);
	aks_summaries_free(v, n);

	/* Blue's kubeconfig, fetched as green's would be. */
	if (aks_list_user_credential(x.arm, bid, NULL, &yaml, &len, err, sizeof err) != 0)
		fail_msg("listClusterUserCredential: %s", err);
	assert_non_null(strstr(yaml, "clusters:"));
	aks_kubeconfig_free(yaml, len);

	/* Green from blue's spec, with the creation followed to its end. */
	spec = aks_clone_spec(body, "aks-prod-green", "1.30.5", note, sizeof note, err, sizeof err);
	if (spec == NULL)
		fail_msg("clone: %s", err);
	o.progress = on_progress;
	o.progress_ctx = &pl;
	if (aks_create_or_update(x.arm, gid, spec, &o, &green, err, sizeof err) != 0)
		fail_msg("create green: %s", err);
	assert_string_equal(green.provisioning_state, "Succeeded");
	assert_string_equal(green.kubernetes_version, "1.30.5");
	assert_int_equal(green.npools, blue.npools);
	for (size_t i = 0; i < green.npools; i++)
		assert_string_equal(green.pools[i].orchestrator_version, "1.30.5");
	assert_true(pl.calls >= 1);
	aks_summary_free(&green);
	if (aks_stop(x.arm, gid, NULL, err, sizeof err) != 0)
		fail_msg("stop green: %s", err);
	assert_int_equal(aks_get(x.arm, gid, NULL, NULL, &green, err, sizeof err), 0);
	assert_string_equal(green.power_state, "Stopped");
	aks_summary_free(&green);
	if (aks_start(x.arm, gid, NULL, err, sizeof err) != 0)
		fail_msg("start green: %s", err);
	if (aks_delete(x.arm, gid, NULL, err, sizeof err) != 0)
		fail_msg("delete green: %s", err);
	assert_int_equal(aks_get(x.arm, gid, NULL, NULL, &green, err, sizeof err), AKS_E_NOT_FOUND);
	/* The simulated principal may change clusters (the world grants "*"). */
	if (authz_get(x.arm, x.sub, x.rg, NULL, &perms, err, sizeof err) != 0)
		fail_msg("permissions: %s", err);
	assert_true(authz_allowed(&perms, "Microsoft.ContainerService/managedClusters/write"));
	assert_true(authz_allowed(&perms, "Microsoft.Network/privateDnsZones/A/write"));
	authz_free(&perms);
	cJSON_Delete(spec);
	cJSON_Delete(body);
	aks_summary_free(&blue);
	simclient_stop(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_from_example),
		cmocka_unit_test(test_summary_bad_bodies),
		cmocka_unit_test(test_clone_spec),
		cmocka_unit_test(test_clone_refusals),
		cmocka_unit_test(test_create_with_progress),
		cmocka_unit_test(test_get_list_delete_stop_start),
		cmocka_unit_test(test_user_credential),
		cmocka_unit_test(test_cluster_id),
		cmocka_unit_test(test_authz_match_table),
		cmocka_unit_test(test_authz_not_actions),
		cmocka_unit_test(test_authz_get_pages),
		cmocka_unit_test(test_against_simulator),
	};

	signal(SIGPIPE, SIG_IGN);
	/* BGSWITCH_TEST_LOG=1 shows the client's log lines while debugging. */
	log_set_stream(stderr, getenv("BGSWITCH_TEST_LOG") != NULL ? LOG_DEBUG : LOG_OFF);
	return cmocka_run_group_tests_name("aks", tests, NULL, NULL);
}
