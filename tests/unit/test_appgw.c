/*
 * test_appgw.c — the Application Gateway client: the weights view, the
 * journaled read-modify-write of weights with If-Match, its undo, backend
 * health and the status object.
 *
 * A libmicrohttpd server on 127.0.0.1 (tests/lib/fakearm.c) plays
 * Entra's token endpoint and an ARM that holds one gateway: GET answers
 * it with an ETag, PUT checks If-Match (412 when stale), stores the
 * body, bumps the ETag and answers with an Azure-AsyncOperation the
 * client follows.  The gateway starts as the real example
 * ApplicationGatewayCreate.json (tests/fixtures/azure, SOURCES.md);
 * variants (a policy rule, a path-based rule) are derived from it in
 * code.  Faults are switched per test: a write by "someone else" before
 * our PUT (on another rule, or on ours), a PUT the gateway ignores.  The
 * last test runs the same calls against the simulator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "azure/appgw.h"
#include "azure/arm.h"
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
#define GWID "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/" \
	"providers/Microsoft.Network/applicationGateways/appgw"

static cJSON *
example_gateway(void)
{
	return example_body(FIX "network/ApplicationGatewayCreate.json", "200");
}

static cJSON *
props_of(cJSON *gw)
{
	return cJSON_GetObjectItem(gw, "properties");
}

static cJSON *
named(cJSON *arr, const char *name)
{
	cJSON *e;

	cJSON_ArrayForEach(e, arr)
		if (strcmp(cJSON_GetObjectItem(e, "name")->valuestring, name) == 0)
			return e;
	return NULL;
}

/* The example with rule appgwrule moved to a policy ldp1 of appgwpool
 * BLUE_W and appgwpool1 GREEN_W (0 = no target). */
static cJSON *
policy_gateway(int blue_w, int green_w)
{
	cJSON *gw = example_gateway(), *p = props_of(gw), *pols, *pol, *tg;
	cJSON *rp = cJSON_GetObjectItem(named(cJSON_GetObjectItem(p, "requestRoutingRules"),
	    "appgwrule"), "properties");
	char text[2048];

	snprintf(text, sizeof text, "{\"name\":\"ldp1\",\"id\":\"%s/loadDistributionPolicies/ldp1\","
	    "\"etag\":\"W/\\\"1\\\"\",\"properties\":{\"provisioningState\":\"Succeeded\","
	    "\"loadDistributionAlgorithm\":\"RoundRobin\",\"loadDistributionTargets\":[]}}", GWID);
	pol = cJSON_Parse(text);
	tg = cJSON_GetObjectItem(cJSON_GetObjectItem(pol, "properties"), "loadDistributionTargets");
	if (blue_w > 0) {
		snprintf(text, sizeof text, "{\"name\":\"t-blue\",\"properties\":{\"weightPerServer\":%d,"
		    "\"backendAddressPool\":{\"id\":\"%s/backendAddressPools/appgwpool\"}}}", blue_w, GWID);
		cJSON_AddItemToArray(tg, cJSON_Parse(text));
	}
	if (green_w > 0) {
		snprintf(text, sizeof text, "{\"name\":\"t-green\",\"properties\":{\"weightPerServer\":%d,"
		    "\"backendAddressPool\":{\"id\":\"%s/backendAddressPools/appgwpool1\"}}}", green_w, GWID);
		cJSON_AddItemToArray(tg, cJSON_Parse(text));
	}
	pols = cJSON_GetObjectItem(p, "loadDistributionPolicies");
	cJSON_AddItemToArray(pols, pol);
	cJSON_DeleteItemFromObject(rp, "backendAddressPool");
	snprintf(text, sizeof text, "{\"id\":\"%s/loadDistributionPolicies/ldp1\"}", GWID);
	cJSON_AddItemToObject(rp, "loadDistributionPolicy", cJSON_Parse(text));
	return gw;
}

static const struct appgw_target T = { GWID, "appgwrule", "appgwpool", "appgwpool1" };

/* ---- the view ------------------------------------------------------------------------------ */

static void
test_view_plain_pool(void **state)
{
	cJSON *gw = example_gateway();
	struct appgw_weights w;
	char err[512] = "";

	(void)state;
	assert_int_equal(appgw_weights(gw, &T, &w, err, sizeof err), 0);
	assert_true(w.rule_found);
	assert_string_equal(w.rule, "appgwrule");
	assert_string_equal(w.rule_type, "Basic");
	assert_string_equal(w.policy, "");
	assert_int_equal(w.blue.weight, 100);
	assert_int_equal(w.green.weight, 0);
	assert_true(w.blue.share > 99.9 && w.blue.share < 100.1);
	assert_true(w.green.share < 0.1);
	assert_string_equal(w.blue.id, GWID "/backendAddressPools/appgwpool");
	assert_string_equal(w.green.id, GWID "/backendAddressPools/appgwpool1");
	assert_string_equal(w.settings_id, GWID "/backendHttpSettingsCollection/appgwbhs");
	assert_int_equal(w.nother, 0);
	/* Roles swapped: the same rule sends everything to "green". */
	{
		struct appgw_target t2 = { GWID, "appgwrule", "appgwpool1", "appgwpool" };

		assert_int_equal(appgw_weights(gw, &t2, &w, err, sizeof err), 0);
		assert_int_equal(w.blue.weight, 0);
		assert_int_equal(w.green.weight, 100);
	}
	cJSON_Delete(gw);
}

static void
test_view_policy(void **state)
{
	cJSON *gw = policy_gateway(30, 10);
	struct appgw_weights w;
	char err[512] = "";

	(void)state;
	assert_int_equal(appgw_weights(gw, &T, &w, err, sizeof err), 0);
	assert_string_equal(w.policy, "ldp1");
	assert_int_equal(w.blue.weight, 30);
	assert_int_equal(w.green.weight, 10);
	assert_int_equal(w.total, 40);
	assert_true(w.blue.share > 74.9 && w.blue.share < 75.1);
	assert_true(w.green.share > 24.9 && w.green.share < 25.1);
	assert_int_equal(w.policy_shared, 0);
	cJSON_Delete(gw);

	/* A policy another rule also uses: seen in the view, and refused for
	 * writing (the other rule's traffic would move too). */
	gw = policy_gateway(30, 10);
	{
		cJSON *rules = cJSON_GetObjectItem(props_of(gw), "requestRoutingRules");
		cJSON *twin = cJSON_Duplicate(named(rules, "appgwrule"), 1);
		int rc = 0;

		cJSON_ReplaceItemInObject(twin, "name", cJSON_CreateString("otherrule"));
		cJSON_AddItemToArray(rules, twin);
		assert_int_equal(appgw_weights(gw, &T, &w, err, sizeof err), 0);
		assert_int_equal(w.policy_shared, 1);
		assert_null(appgw_with_weights(gw, &T, 50, 50, &rc, err, sizeof err));
		assert_int_equal(rc, APPGW_E_UNSUPPORTED);
		assert_non_null(strstr(err, "is also used by 1 other rule"));
	}
	cJSON_Delete(gw);

	/* A pool missing from the targets gets weight 0. */
	gw = policy_gateway(0, 7);
	assert_int_equal(appgw_weights(gw, &T, &w, err, sizeof err), 0);
	assert_int_equal(w.blue.weight, 0);
	assert_int_equal(w.green.weight, 7);
	assert_true(w.green.share > 99.9);
	cJSON_Delete(gw);
}

static void
test_view_path_based_and_advanced(void **state)
{
	cJSON *gw = example_gateway();
	cJSON *rules = cJSON_GetObjectItem(props_of(gw), "requestRoutingRules");
	struct appgw_target t = T;
	struct appgw_weights w;
	char err[512] = "";

	(void)state;
	cJSON_AddItemToArray(rules, cJSON_Parse("{\"name\":\"pathrule\",\"properties\":{\"ruleType\":"
	    "\"PathBasedRouting\",\"urlPathMap\":{\"id\":\"" GWID "/urlPathMaps/map1\"}}}"));
	t.rule = "pathrule";
	assert_int_equal(appgw_weights(gw, &t, &w, err, sizeof err), APPGW_E_UNSUPPORTED);
	assert_non_null(strstr(err, "path-based"));
	assert_non_null(strstr(err, "unsupported rule type"));
	assert_non_null(strstr(err, "map1"));
	/* The example's own advanced-routing rule. */
	t.rule = "appgwadvancedroutingrule";
	assert_int_equal(appgw_weights(gw, &t, &w, err, sizeof err), APPGW_E_UNSUPPORTED);
	assert_non_null(strstr(err, "advancedRoutingMap1"));
	/* Writing weights to it is refused the same way, before any I/O. */
	{
		int rc = 0;

		assert_null(appgw_with_weights(gw, &t, 50, 50, &rc, err, sizeof err));
		assert_int_equal(rc, APPGW_E_UNSUPPORTED);
	}
	cJSON_Delete(gw);
}

static void
test_view_missing(void **state)
{
	cJSON *gw = example_gateway();
	struct appgw_target t = T;
	struct appgw_weights w;
	char err[512] = "";

	(void)state;
	t.green_pool = "pool-green";
	assert_int_equal(appgw_weights(gw, &t, &w, err, sizeof err), APPGW_E_NOT_FOUND);
	assert_non_null(strstr(err, "backend pool pool-green not found in gateway appgw"));
	assert_non_null(strstr(err, "appgwpool, appgwpool1"));
	t.blue_pool = "pool-blue";
	assert_int_equal(appgw_weights(gw, &t, &w, err, sizeof err), APPGW_E_NOT_FOUND);
	assert_non_null(strstr(err, "pool-blue and pool-green"));
	t = T;
	t.rule = "rule-live-https";
	assert_int_equal(appgw_weights(gw, &t, &w, err, sizeof err), APPGW_E_NOT_FOUND);
	assert_false(w.rule_found);
	assert_non_null(strstr(err, "rule-live-https not found"));
	assert_non_null(strstr(err, "appgwrule, appgwadvancedroutingrule"));
	/* The policy a rule names must exist. */
	cJSON_Delete(gw);
	gw = policy_gateway(1, 1);
	cJSON_DeleteItemFromArray(cJSON_GetObjectItem(props_of(gw), "loadDistributionPolicies"), 0);
	assert_int_equal(appgw_weights(gw, &T, &w, err, sizeof err), APPGW_E_NOT_FOUND);
	assert_non_null(strstr(err, "ldp1"));
	cJSON_Delete(gw);
}

static void
test_bad_bodies(void **state)
{
	static const char *const bodies[] = {
		"[]", "{}", "{\"properties\":[]}", "{\"properties\":{\"requestRoutingRules\":{}}}",
		"{\"properties\":{\"requestRoutingRules\":[{\"name\":\"appgwrule\"}],"
		"\"backendAddressPools\":[{\"name\":\"appgwpool\",\"id\":\"a\"},{\"name\":"
		"\"appgwpool1\",\"id\":\"b\"}]}}",
		"{\"properties\":{\"requestRoutingRules\":[{\"name\":\"appgwrule\",\"properties\":{"
		"\"loadDistributionPolicy\":{\"id\":\"x/p\"}}}],\"loadDistributionPolicies\":[{\"name\":"
		"\"p\",\"id\":\"x/p\",\"properties\":{\"loadDistributionTargets\":[{\"name\":\"t\","
		"\"properties\":{\"backendAddressPool\":{\"id\":\"a\"}}}]}}],"
		"\"backendAddressPools\":[{\"name\":\"appgwpool\",\"id\":\"a\"},{\"name\":"
		"\"appgwpool1\",\"id\":\"b\"}]}}",
	};
	struct appgw_weights w;
	struct appgw_health h;
	char err[512];

	(void)state;
	assert_int_not_equal(appgw_weights(NULL, &T, &w, err, sizeof err), 0);
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		cJSON *j = cJSON_Parse(bodies[i]);

		err[0] = '\0';
		assert_int_not_equal(appgw_weights(j, &T, &w, err, sizeof err), 0);
		assert_true(err[0] != '\0');
		assert_null(appgw_snapshot(j, "nope", err, sizeof err));
		cJSON_Delete(j);
	}
	{
		struct appgw_target same = { GWID, "appgwrule", "appgwpool", "APPGWPOOL" };

		assert_int_equal(appgw_weights(NULL, &same, &w, err, sizeof err), APPGW_E_INVALID);
		assert_non_null(strstr(err, "same pool"));
	}
	assert_int_equal(appgw_parse_health(NULL, NULL, &h, err, sizeof err), APPGW_E_BODY);
	{
		cJSON *j = cJSON_Parse("{\"backendAddressPools\":[{\"backendHttpSettingsCollection\":[]}]}");

		assert_int_equal(appgw_parse_health(j, NULL, &h, err, sizeof err), APPGW_E_BODY);
		assert_int_equal(h.npools, 0);
		cJSON_Delete(j);
	}
}

static void
test_validate_weights(void **state)
{
	static const struct {
		int b, g, ok;
	} cases[] = {
		{ 100, 0, 1 }, { 0, 100, 1 }, { 90, 10, 1 }, { 1, 1, 1 }, { 100, 100, 1 },
		{ 0, 0, 0 }, { -1, 50, 0 }, { 50, 101, 0 }, { 101, 0, 0 },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = appgw_validate_weights(cases[i].b, cases[i].g, err, sizeof err);

		if (cases[i].ok)
			assert_int_equal(rc, 0);
		else
			assert_int_equal(rc, APPGW_E_INVALID);
	}
}

/* ---- the fake gateway ----------------------------------------------------------------------- */

enum meddle { NOBODY, OTHER_RULE, OUR_RULE };

struct gwstate {
	pthread_mutex_t lock;
	cJSON *gw;
	int etag;
	int gets, puts, accepted;
	int reject;			/* PUTs to answer 412 after someone else's write */
	enum meddle who;		/* what that write touches */
	int ignore_puts;		/* accept PUTs but keep the old state */
	char last_if_match[256];
	cJSON *last_put;
};

static void
gw_set_etag(struct gwstate *g)
{
	char e[32];

	snprintf(e, sizeof e, "W/\"%d\"", g->etag);
	cJSON_DeleteItemFromObject(g->gw, "etag");
	cJSON_AddStringToObject(g->gw, "etag", e);
}

/* Someone else writes the gateway. */
static void
meddle(struct gwstate *g)
{
	cJSON *p = props_of(g->gw);

	if (g->who == OTHER_RULE) {
		cJSON *tags = cJSON_GetObjectItem(g->gw, "tags");

		if (tags == NULL)
			tags = cJSON_AddObjectToObject(g->gw, "tags");
		cJSON_DeleteItemFromObject(tags, "changed-by");
		cJSON_AddStringToObject(tags, "changed-by", "someone-else");
		cJSON_DeleteItemFromObject(cJSON_GetObjectItem(named(cJSON_GetObjectItem(p,
		    "requestRoutingRules"), "appgwadvancedroutingrule"), "properties"), "priority");
		cJSON_AddNumberToObject(cJSON_GetObjectItem(named(cJSON_GetObjectItem(p,
		    "requestRoutingRules"), "appgwadvancedroutingrule"), "properties"), "priority", 21);
	} else if (g->who == OUR_RULE) {
		cJSON *rp = cJSON_GetObjectItem(named(cJSON_GetObjectItem(p, "requestRoutingRules"),
		    "appgwrule"), "properties");

		cJSON_DeleteItemFromObject(rp, "backendAddressPool");
		cJSON_AddItemToObject(rp, "backendAddressPool", cJSON_Parse("{\"id\":\"" GWID
		    "/backendAddressPools/appgwpool1\"}"));
	}
	g->etag++;
	gw_set_etag(g);
}

static void
route_gw(struct fakearm *s, const struct fakearm_rq *q, struct fakearm_reply *r)
{
	struct gwstate *g = s->ctx;
	char e[128];

	pthread_mutex_lock(&g->lock);
	if (strcmp(q->method, "GET") == 0 && strncmp(q->path, "/op/", 4) == 0) {
		fakearm_reply(r, 200, "{\"status\":\"Succeeded\"}");
	} else if (strcasecmp(q->path, GWID) == 0 && strcmp(q->method, "GET") == 0) {
		g->gets++;
		snprintf(e, sizeof e, "W/\"%d\"", g->etag);
		fakearm_hdr(r, "ETag", e);
		fakearm_reply_json(r, 200, g->gw);
	} else if (strcasecmp(q->path, GWID) == 0 && strcmp(q->method, "PUT") == 0) {
		g->puts++;
		snprintf(g->last_if_match, sizeof g->last_if_match, "%s", q->if_match);
		cJSON_Delete(g->last_put);
		g->last_put = cJSON_Parse(q->body);
		if (g->reject > 0) {
			g->reject--;
			meddle(g);
		}
		snprintf(e, sizeof e, "W/\"%d\"", g->etag);
		if (strcmp(q->if_match, e) != 0) {
			fakearm_reply(r, 412, "{\"error\":{\"code\":\"PreconditionFailed\",\"message\":\"The "
			    "specified precondition is not met.\"}}");
		} else if (g->last_put == NULL) {
			fakearm_reply(r, 400, "{\"error\":{\"code\":\"InvalidRequestContent\",\"message\":\"bad\"}}");
		} else {
			g->accepted++;
			if (!g->ignore_puts) {
				cJSON_Delete(g->gw);
				g->gw = cJSON_Duplicate(g->last_put, 1);
			}
			g->etag++;
			gw_set_etag(g);
			snprintf(e, sizeof e, "%s/op/%d", s->base, g->puts);
			fakearm_hdr(r, "Azure-AsyncOperation", e);
			fakearm_reply_json(r, 201, g->gw);
		}
	}
	pthread_mutex_unlock(&g->lock);
}

static void
gw_init(struct gwstate *g, cJSON *gw)
{
	memset(g, 0, sizeof *g);
	pthread_mutex_init(&g->lock, NULL);
	g->gw = gw;
	g->etag = 7;
	gw_set_etag(g);
}

static void
gw_done(struct gwstate *g)
{
	cJSON_Delete(g->gw);
	cJSON_Delete(g->last_put);
	pthread_mutex_destroy(&g->lock);
}

/* ---- writes ------------------------------------------------------------------------------------ */

static void
test_set_weights_plain_creates_policy(void **state)
{
	struct gwstate g;
	struct fakearm_client f;
	struct appgw_change ch;
	cJSON *orig, *p, *pol, *tgs, *t0, *t1, *rule, *rp;
	char err[512] = "";

	(void)state;
	gw_init(&g, example_gateway());
	orig = cJSON_Duplicate(g.gw, 1);
	fakearm_client_init(&f, route_gw, &g);
	assert_int_equal(appgw_set_weights(f.arm, &T, 90, 10, NULL, NULL, &ch, err, sizeof err), 0);
	assert_int_equal(ch.changed, 1);
	assert_int_equal(ch.attempts, 1);
	assert_int_equal(g.puts, 1);
	assert_string_equal(g.last_if_match, "W/\"7\"");	/* the ETag of the read */
	/* The PUT body. */
	p = props_of(g.last_put);
	pol = named(cJSON_GetObjectItem(p, "loadDistributionPolicies"), "ldp-bgswitch-appgwrule");
	assert_non_null(pol);
	assert_string_equal(cJSON_GetObjectItem(pol, "id")->valuestring,
	    GWID "/loadDistributionPolicies/ldp-bgswitch-appgwrule");
	tgs = cJSON_GetObjectItem(cJSON_GetObjectItem(pol, "properties"), "loadDistributionTargets");
	assert_int_equal(cJSON_GetArraySize(tgs), 2);
	t0 = cJSON_GetObjectItem(cJSON_GetArrayItem(tgs, 0), "properties");
	t1 = cJSON_GetObjectItem(cJSON_GetArrayItem(tgs, 1), "properties");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(t0, "backendAddressPool"),
	    "id")->valuestring, GWID "/backendAddressPools/appgwpool");
	assert_int_equal(cJSON_GetObjectItem(t0, "weightPerServer")->valueint, 90);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(t1, "backendAddressPool"),
	    "id")->valuestring, GWID "/backendAddressPools/appgwpool1");
	assert_int_equal(cJSON_GetObjectItem(t1, "weightPerServer")->valueint, 10);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(tgs, 0), "name")->valuestring,
	    "appgwpool");
	rule = named(cJSON_GetObjectItem(p, "requestRoutingRules"), "appgwrule");
	rp = cJSON_GetObjectItem(rule, "properties");
	assert_null(cJSON_GetObjectItem(rp, "backendAddressPool"));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(rp, "loadDistributionPolicy"),
	    "id")->valuestring, GWID "/loadDistributionPolicies/ldp-bgswitch-appgwrule");
	/* Everything else is as read: the other rule, the listener, the settings. */
	assert_true(cJSON_Compare(cJSON_GetObjectItem(rp, "httpListener"), cJSON_GetObjectItem(
	    cJSON_GetObjectItem(named(cJSON_GetObjectItem(props_of(orig), "requestRoutingRules"),
	    "appgwrule"), "properties"), "httpListener"), 1));
	assert_true(cJSON_Compare(named(cJSON_GetObjectItem(p, "requestRoutingRules"),
	    "appgwadvancedroutingrule"), named(cJSON_GetObjectItem(props_of(orig),
	    "requestRoutingRules"), "appgwadvancedroutingrule"), 1));
	assert_true(cJSON_Compare(cJSON_GetObjectItem(p, "httpListeners"),
	    cJSON_GetObjectItem(props_of(orig), "httpListeners"), 1));
	/* before / after for the journal. */
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(ch.before, "policy")));
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(ch.before, "rule"),
	    "properties"), "loadDistributionPolicy"));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(ch.after, "policy"),
	    "name")->valuestring, "ldp-bgswitch-appgwrule");
	assert_int_equal(ch.was.blue.weight, 100);
	assert_int_equal(ch.now.blue.weight, 90);
	assert_int_equal(ch.now.green.weight, 10);
	assert_string_equal(ch.etag, "W/\"8\"");
	appgw_change_free(&ch);

	/* Again with the same split: nothing written. */
	assert_int_equal(appgw_set_weights(f.arm, &T, 90, 10, NULL, NULL, &ch, err, sizeof err), 0);
	assert_int_equal(ch.changed, 0);
	assert_int_equal(g.puts, 1);
	appgw_change_free(&ch);

	/* 0 % blue: its target leaves the policy (weightPerServer is 1..100). */
	assert_int_equal(appgw_set_weights(f.arm, &T, 0, 100, NULL, NULL, &ch, err, sizeof err), 0);
	tgs = cJSON_GetObjectItem(cJSON_GetObjectItem(named(cJSON_GetObjectItem(props_of(g.last_put),
	    "loadDistributionPolicies"), "ldp-bgswitch-appgwrule"), "properties"),
	    "loadDistributionTargets");
	assert_int_equal(cJSON_GetArraySize(tgs), 1);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(tgs, 0),
	    "properties"), "weightPerServer")->valueint, 100);
	assert_int_equal(ch.now.blue.weight, 0);
	assert_true(ch.now.green.share > 99.9);
	appgw_change_free(&ch);

	fakearm_client_done(&f);
	cJSON_Delete(orig);
	gw_done(&g);
}

static void
test_set_weights_policy_rule(void **state)
{
	struct gwstate g;
	struct fakearm_client f;
	struct appgw_change ch;
	cJSON *pol, *tgs;
	char err[512] = "";

	(void)state;
	gw_init(&g, policy_gateway(100, 0));
	fakearm_client_init(&f, route_gw, &g);
	assert_int_equal(appgw_set_weights(f.arm, &T, 50, 50, NULL, NULL, &ch, err, sizeof err), 0);
	pol = named(cJSON_GetObjectItem(props_of(g.last_put), "loadDistributionPolicies"), "ldp1");
	/* The existing policy is changed in place: no new one, algorithm kept,
	 * the existing target keeps its name, green's is added. */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(props_of(g.last_put),
	    "loadDistributionPolicies")), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(pol, "properties"),
	    "loadDistributionAlgorithm")->valuestring, "RoundRobin");
	tgs = cJSON_GetObjectItem(cJSON_GetObjectItem(pol, "properties"), "loadDistributionTargets");
	assert_int_equal(cJSON_GetArraySize(tgs), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(tgs, 0), "name")->valuestring,
	    "t-blue");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(tgs, 1),
	    "properties"), "weightPerServer")->valueint, 50);
	assert_true(cJSON_IsObject(cJSON_GetObjectItem(ch.before, "policy")));
	assert_int_equal(ch.was.blue.weight, 100);
	assert_int_equal(ch.now.green.weight, 50);
	appgw_change_free(&ch);
	fakearm_client_done(&f);
	gw_done(&g);
}

static void
test_412_then_success(void **state)
{
	struct gwstate g;
	struct fakearm_client f;
	struct appgw_change ch;
	char err[512] = "";

	(void)state;
	gw_init(&g, example_gateway());
	g.reject = 1;
	g.who = OTHER_RULE;
	fakearm_client_init(&f, route_gw, &g);
	assert_int_equal(appgw_set_weights(f.arm, &T, 90, 10, NULL, NULL, &ch, err, sizeof err), 0);
	assert_int_equal(ch.attempts, 2);
	assert_int_equal(g.puts, 2);
	assert_int_equal(g.accepted, 1);
	assert_string_equal(g.last_if_match, "W/\"8\"");	/* the re-read's ETag */
	/* The other writer's change survives ours. */
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(g.gw, "tags"),
	    "changed-by")->valuestring, "someone-else");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(named(cJSON_GetObjectItem(
	    props_of(g.gw), "requestRoutingRules"), "appgwadvancedroutingrule"), "properties"),
	    "priority")->valueint, 21);
	assert_int_equal(ch.now.blue.weight, 90);
	appgw_change_free(&ch);
	fakearm_client_done(&f);
	gw_done(&g);
}

static void
test_412_drift_stops(void **state)
{
	struct gwstate g;
	struct fakearm_client f;
	struct appgw_change ch;
	char err[512] = "";

	(void)state;
	gw_init(&g, example_gateway());
	g.reject = 1;
	g.who = OUR_RULE;		/* someone points our rule at green meanwhile */
	fakearm_client_init(&f, route_gw, &g);
	assert_int_equal(appgw_set_weights(f.arm, &T, 90, 10, NULL, NULL, &ch, err, sizeof err),
	    APPGW_E_DRIFT);
	assert_int_equal(g.puts, 1);		/* no second write */
	assert_non_null(strstr(err, "routing rule appgwrule of gateway appgw changed since it was "
	    "first read"));
	assert_non_null(strstr(err, "now blue 0 / green 100"));
	assert_non_null(strstr(err, "expected blue 100 / green 0"));
	assert_non_null(strstr(err, "nothing written"));
	appgw_change_free(&ch);
	fakearm_client_done(&f);
	gw_done(&g);
}

static void
test_expect_snapshot(void **state)
{
	struct gwstate g;
	struct fakearm_client f;
	struct appgw_change ch;
	cJSON *expect;
	char err[512] = "";

	(void)state;
	gw_init(&g, example_gateway());
	fakearm_client_init(&f, route_gw, &g);
	/* The engine journals the snapshot, then writes against it. */
	expect = appgw_snapshot(g.gw, "appgwrule", err, sizeof err);
	assert_non_null(expect);
	/* A change of etag and provisioningState alone is no drift. */
	pthread_mutex_lock(&g.lock);
	g.who = NOBODY;
	meddle(&g);
	cJSON_ReplaceItemInObject(props_of(named(cJSON_GetObjectItem(props_of(g.gw),
	    "requestRoutingRules"), "appgwrule")), "provisioningState", cJSON_CreateString("Updating"));
	pthread_mutex_unlock(&g.lock);
	assert_int_equal(appgw_set_weights(f.arm, &T, 50, 50, expect, NULL, &ch, err, sizeof err), 0);
	assert_true(appgw_snapshot_equal(ch.before, expect));
	appgw_change_free(&ch);
	/* The same call again, as after a lost answer to our PUT or on
	 * resume: the gateway already shows what was asked for.  That is our
	 * change, not drift: success, changed, before = the journaled state,
	 * and nothing written. */
	assert_int_equal(appgw_set_weights(f.arm, &T, 50, 50, expect, NULL, &ch, err, sizeof err), 0);
	assert_true(ch.changed);
	assert_true(appgw_snapshot_equal(ch.before, expect));
	assert_int_equal(ch.now.blue.weight, 50);
	assert_int_equal(g.puts, 1);
	appgw_change_free(&ch);
	/* Now the journal's "before" no longer matches the gateway. */
	assert_int_equal(appgw_set_weights(f.arm, &T, 10, 90, expect, NULL, &ch, err, sizeof err),
	    APPGW_E_DRIFT);
	assert_non_null(strstr(err, "since it was journaled"));
	assert_non_null(strstr(err, "now blue 50 / green 50 via policy ldp-bgswitch-appgwrule"));
	assert_int_equal(g.puts, 1);
	appgw_change_free(&ch);
	cJSON_Delete(expect);
	fakearm_client_done(&f);
	gw_done(&g);
}

static void
test_conflict_exhausted(void **state)
{
	struct gwstate g;
	struct fakearm_client f;
	struct appgw_change ch;
	struct appgw_write_opts o = { .max_attempts = 3 };
	char err[512] = "";

	(void)state;
	gw_init(&g, example_gateway());
	g.reject = 100;
	g.who = OTHER_RULE;
	fakearm_client_init(&f, route_gw, &g);
	assert_int_equal(appgw_set_weights(f.arm, &T, 90, 10, NULL, &o, &ch, err, sizeof err),
	    APPGW_E_CONFLICT);
	assert_int_equal(g.puts, 3);
	assert_non_null(strstr(err, "still 412 after 3 attempts"));
	appgw_change_free(&ch);
	fakearm_client_done(&f);
	gw_done(&g);
}

static void
test_verify_fails(void **state)
{
	struct gwstate g;
	struct fakearm_client f;
	struct appgw_change ch;
	char err[512] = "";

	(void)state;
	gw_init(&g, example_gateway());
	g.ignore_puts = 1;
	fakearm_client_init(&f, route_gw, &g);
	assert_int_equal(appgw_set_weights(f.arm, &T, 90, 10, NULL, NULL, &ch, err, sizeof err),
	    APPGW_E_VERIFY);
	assert_non_null(strstr(err, "accepted blue 90 / green 10"));
	assert_non_null(strstr(err, "now says blue 100 / green 0 (plain pool)"));
	assert_non_null(ch.before);		/* the journal still learns what was replaced */
	appgw_change_free(&ch);
	fakearm_client_done(&f);
	gw_done(&g);
}

static void
test_restore_exact(void **state)
{
	struct gwstate g;
	struct fakearm_client f;
	struct appgw_change ch1, ch2, ch3;
	cJSON *orig, *a, *b;
	char err[512] = "";

	(void)state;
	gw_init(&g, example_gateway());
	orig = cJSON_Duplicate(g.gw, 1);
	fakearm_client_init(&f, route_gw, &g);
	assert_int_equal(appgw_set_weights(f.arm, &T, 10, 90, NULL, NULL, &ch1, err, sizeof err), 0);
	assert_int_equal(appgw_set_weights(f.arm, &T, 0, 100, ch1.after, NULL, &ch2, err,
	    sizeof err), 0);
	/* Rollback: the first "before" back, against the last "after". */
	assert_int_equal(appgw_restore(f.arm, &T, ch1.before, ch2.after, NULL, &ch3, err,
	    sizeof err), 0);
	assert_int_equal(ch3.changed, 1);
	assert_int_equal(ch3.now.blue.weight, 100);
	assert_int_equal(ch3.now.green.weight, 0);
	assert_string_equal(g.last_if_match, "W/\"9\"");
	/* The gateway is exactly the original again (etag aside): the rule's
	 * plain pool is back and the policy bgswitch made is gone. */
	a = cJSON_Duplicate(orig, 1);
	b = cJSON_Duplicate(g.gw, 1);
	cJSON_DeleteItemFromObject(a, "etag");
	cJSON_DeleteItemFromObject(b, "etag");
	assert_true(cJSON_Compare(a, b, 1));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(props_of(g.gw),
	    "loadDistributionPolicies")), 0);
	cJSON_Delete(a);
	cJSON_Delete(b);
	appgw_change_free(&ch3);
	/* Restoring again is a no-op. */
	assert_int_equal(appgw_restore(f.arm, &T, ch1.before, NULL, NULL, &ch3, err, sizeof err), 0);
	assert_int_equal(ch3.changed, 0);
	assert_int_equal(g.puts, 3);
	appgw_change_free(&ch3);
	/* A snapshot of another rule is refused. */
	{
		cJSON *bad = cJSON_Duplicate(ch1.before, 1);

		cJSON_ReplaceItemInObject(cJSON_GetObjectItem(bad, "rule"), "name",
		    cJSON_CreateString("other"));
		assert_int_equal(appgw_restore(f.arm, &T, bad, NULL, NULL, &ch3, err, sizeof err),
		    APPGW_E_INVALID);
		appgw_change_free(&ch3);
		cJSON_Delete(bad);
	}
	appgw_change_free(&ch1);
	appgw_change_free(&ch2);
	fakearm_client_done(&f);
	cJSON_Delete(orig);
	gw_done(&g);
}

static void
test_restore_policy_rule(void **state)
{
	struct gwstate g;
	struct fakearm_client f;
	struct appgw_change ch1, ch2;
	cJSON *orig;
	char err[512] = "";

	(void)state;
	gw_init(&g, policy_gateway(100, 0));
	orig = cJSON_Duplicate(g.gw, 1);
	fakearm_client_init(&f, route_gw, &g);
	assert_int_equal(appgw_set_weights(f.arm, &T, 0, 100, NULL, NULL, &ch1, err, sizeof err), 0);
	assert_int_equal(appgw_restore(f.arm, &T, ch1.before, ch1.after, NULL, &ch2, err,
	    sizeof err), 0);
	cJSON_DeleteItemFromObject(orig, "etag");
	cJSON_DeleteItemFromObject(g.gw, "etag");
	assert_true(cJSON_Compare(orig, g.gw, 1));
	appgw_change_free(&ch1);
	appgw_change_free(&ch2);
	fakearm_client_done(&f);
	cJSON_Delete(orig);
	gw_done(&g);
}

/* ---- backend health --------------------------------------------------------------------------- */

struct healthstate {
	cJSON *body;
	int polls;
};

static void
route_health(struct fakearm *s, const struct fakearm_rq *q, struct fakearm_reply *r)
{
	struct healthstate *h = s->ctx;
	char loc[700];

	if (strcmp(q->method, "POST") == 0 && strcasecmp(q->path, GWID "/backendhealth") == 0) {
		/* As the example's 202: a Location to poll. */
		snprintf(loc, sizeof loc, "%s/subscriptions/00000000-0000-0000-0000-000000000000/"
		    "providers/Microsoft.Network/locations/westus2/operationResults/1"
		    "?api-version=2025-07-01", s->base);
		fakearm_hdr(r, "Location", loc);
		fakearm_hdr(r, "Retry-After", "0");
		fakearm_reply(r, 202, "");
	} else if (strcmp(q->method, "GET") == 0 && strstr(q->path, "/operationResults/1") != NULL) {
		if (h->polls++ == 0) {
			snprintf(loc, sizeof loc, "%s%s", s->base, q->path);
			fakearm_hdr(r, "Location", loc);
			fakearm_reply(r, 202, "");
		} else {
			fakearm_reply_json(r, 200, h->body);
		}
	}
}

static void
test_backend_health(void **state)
{
	struct healthstate hs = { 0 };
	struct fakearm_client f;
	struct appgw_health h;
	const struct appgw_pool_health *p;
	char err[512] = "";

	(void)state;
	hs.body = example_body(FIX "network/ApplicationGatewayBackendHealthGet.json", "200");
	fakearm_client_init(&f, route_health, &hs);
	assert_int_equal(appgw_backend_health(f.arm, GWID, NULL, NULL, &h, err, sizeof err), 0);
	assert_int_equal(h.npools, 2);
	p = appgw_health_pool(&h, "MFPool");
	assert_non_null(p);
	assert_int_equal(p->healthy, 2);
	assert_int_equal(p->total, 2);
	assert_string_equal(p->servers[0].address, "10.220.1.4");
	assert_string_equal(p->servers[1].health, "Up");
	/* The example spells the path "backendaddressPools". */
	assert_string_equal(p->id, "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
	    "rg1/providers/Microsoft.Network/applicationGateways/appgw/backendaddressPools/MFPool");
	p = appgw_health_pool(&h, "mfanalyticspool");
	assert_non_null(p);
	assert_int_equal(p->total, 1);
	assert_null(appgw_health_pool(&h, "nope"));
	assert_true(hs.polls >= 2);
	appgw_health_free(&h);
	fakearm_client_done(&f);
	cJSON_Delete(hs.body);
}

static void
test_health_settings_and_dedupe(void **state)
{
	cJSON *j = cJSON_Parse("{\"backendAddressPools\":[{\"backendAddressPool\":{\"id\":\"x/"
	    "backendAddressPools/pool-blue\"},\"backendHttpSettingsCollection\":["
	    "{\"backendHttpSettings\":{\"id\":\"x/s/a\"},\"servers\":[{\"address\":\"10.0.0.1\","
	    "\"health\":\"Up\"},{\"address\":\"10.0.0.2\",\"health\":\"Up\"}]},"
	    "{\"backendHttpSettings\":{\"id\":\"x/s/b\"},\"servers\":[{\"address\":\"10.0.0.1\","
	    "\"health\":\"Down\"},{\"address\":\"10.0.0.2\",\"health\":\"Up\"},{\"health\":\"Up\"}]}]}]}");
	struct appgw_health h;
	char err[256];

	(void)state;
	assert_int_equal(appgw_parse_health(j, NULL, &h, err, sizeof err), 0);
	assert_int_equal(h.pools[0].total, 2);
	assert_int_equal(h.pools[0].healthy, 1);	/* 10.0.0.1 is Down under settings b */
	assert_string_equal(h.pools[0].name, "pool-blue");
	appgw_health_free(&h);
	assert_int_equal(appgw_parse_health(j, "X/S/A", &h, err, sizeof err), 0);
	assert_int_equal(h.pools[0].healthy, 2);	/* only the rule's settings count */
	appgw_health_free(&h);
	assert_int_equal(appgw_parse_health(j, "x/s/none", &h, err, sizeof err), 0);
	assert_int_equal(h.pools[0].healthy, 1);	/* unknown settings: all entries */
	appgw_health_free(&h);
	cJSON_Delete(j);
}

static void
test_status_json(void **state)
{
	cJSON *gw = policy_gateway(30, 10), *o, *hb;
	struct appgw_weights w;
	struct appgw_health h;
	char err[256], *text;

	(void)state;
	assert_int_equal(appgw_weights(gw, &T, &w, err, sizeof err), 0);
	hb = cJSON_Parse("{\"backendAddressPools\":[{\"backendAddressPool\":{\"id\":\"" GWID
	    "/backendAddressPools/appgwpool\"},\"backendHttpSettingsCollection\":[{\"servers\":["
	    "{\"address\":\"a\",\"health\":\"Up\"},{\"address\":\"b\",\"health\":\"Down\"}]}]}]}");
	assert_int_equal(appgw_parse_health(hb, NULL, &h, err, sizeof err), 0);
	o = appgw_status_json("agw-prod", &w, &h);
	text = cJSON_PrintUnformatted(o);
	assert_string_equal(text, "{\"name\":\"agw-prod\",\"rule\":\"appgwrule\",\"weights\":"
	    "{\"blue\":75,\"green\":25},\"backends\":{\"blue\":{\"healthy\":1,\"total\":2},"
	    "\"green\":{\"healthy\":0,\"total\":0}}}");
	free(text);
	cJSON_Delete(o);
	o = appgw_status_json("agw-prod", &w, NULL);
	assert_null(cJSON_GetObjectItem(o, "backends"));
	cJSON_Delete(o);
	appgw_health_free(&h);
	cJSON_Delete(hb);
	cJSON_Delete(gw);
}

/* ---- against the simulator ----------------------------------------------------------------------- */


static void
test_against_simulator(void **state)
{
	struct simclient x;
	struct appgw_target t = { NULL, "rule-live-https", "pool-blue", "pool-green" };
	struct appgw_weights w;
	struct appgw_change ch1, ch2;
	struct appgw_health h;
	char err[1024], gwid[512];
	cJSON *gw = NULL, *o;

	(void)state;
	simclient_start(&x);
	snprintf(gwid, sizeof gwid, "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.Network/applicationGateways/agw-prod", x.sub, x.rg);
	t.gateway_id = gwid;
	if (appgw_get(x.arm, gwid, NULL, &gw, NULL, 0, err, sizeof err) != 0)
		fail_msg("GET gateway: %s", err);
	if (appgw_weights(gw, &t, &w, err, sizeof err) != 0)
		fail_msg("weights: %s", err);
	/* The default world: 100/0 through a policy. */
	assert_true(w.blue.share > 99.9);
	assert_true(w.green.share < 0.1);
	assert_true(w.policy[0] != '\0');
	if (appgw_set_weights(x.arm, &t, 90, 10, NULL, NULL, &ch1, err, sizeof err) != 0)
		fail_msg("set_weights 90/10: %s", err);
	assert_int_equal(ch1.changed, 1);
	assert_int_equal(ch1.now.blue.weight * 10, ch1.now.green.weight * 90);
	if (appgw_set_weights(x.arm, &t, 0, 100, ch1.after, NULL, &ch2, err, sizeof err) != 0)
		fail_msg("set_weights 0/100: %s", err);
	assert_true(ch2.now.green.share > 99.9);
	appgw_change_free(&ch2);
	if (appgw_restore(x.arm, &t, ch1.before, NULL, NULL, &ch2, err, sizeof err) != 0)
		fail_msg("restore: %s", err);
	assert_true(ch2.now.blue.share > 99.9);
	assert_true(appgw_snapshot_equal(ch2.after, ch1.before));
	appgw_change_free(&ch2);
	appgw_change_free(&ch1);
	if (appgw_backend_health(x.arm, gwid, w.settings_id, NULL, &h, err, sizeof err) != 0)
		fail_msg("backend health: %s", err);
	assert_non_null(appgw_health_pool(&h, "pool-blue"));
	assert_true(appgw_health_pool(&h, "pool-blue")->total >= 1);
	o = appgw_status_json("agw-prod", &w, &h);
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "backends"), "green"));
	cJSON_Delete(o);
	appgw_health_free(&h);
	cJSON_Delete(gw);
	simclient_stop(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_view_plain_pool),
		cmocka_unit_test(test_view_policy),
		cmocka_unit_test(test_view_path_based_and_advanced),
		cmocka_unit_test(test_view_missing),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_validate_weights),
		cmocka_unit_test(test_set_weights_plain_creates_policy),
		cmocka_unit_test(test_set_weights_policy_rule),
		cmocka_unit_test(test_412_then_success),
		cmocka_unit_test(test_412_drift_stops),
		cmocka_unit_test(test_expect_snapshot),
		cmocka_unit_test(test_conflict_exhausted),
		cmocka_unit_test(test_verify_fails),
		cmocka_unit_test(test_restore_exact),
		cmocka_unit_test(test_restore_policy_rule),
		cmocka_unit_test(test_backend_health),
		cmocka_unit_test(test_health_settings_and_dedupe),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_against_simulator),
	};

	signal(SIGPIPE, SIG_IGN);
	/* BGSWITCH_TEST_LOG=1 shows the client's log lines while debugging. */
	log_set_stream(stderr, getenv("BGSWITCH_TEST_LOG") != NULL ? LOG_DEBUG : LOG_OFF);
	return cmocka_run_group_tests_name("appgw", tests, NULL, NULL);
}
