/*
 * test_engine.c — the switchover engine against the in-process simulator:
 * the acceptance points of issue #4 that one process can drive (a whole
 * run, a gate not approved then resumed, automatic rollback, a concurrent
 * gateway write, an ARM outage, a held lock, the three teardown
 * refusals).  The kill -9 points are in tests/conformance/engine.sh,
 * since they need processes.
 *
 * Each test starts a fresh simulated world (speed 300: a cluster is made
 * in about a second) and writes its own config, so timings (soak, window,
 * checks) are the test's.  Assertions read the world back through ARM
 * and the journal from disk, never the engine's own word for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "azure/aks.h"
#include "azure/appgw.h"
#include "azure/pdns.h"
#include "sim/sim.h"
#include "src/engine.h"
#include "src/journal.h"
#include "src/log.h"
#include "tests/lib/simclient.h"
#include "tests/lib/testenv.h"

#define GW_ID_FMT "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/applicationGateways/agw-prod"
#define DNS_ID_FMT "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/privateDnsZones/priv.contoso.com/A/aks"

struct cfgopts {
	const char *soak, *window, *dns_when, *checks, *steps;
};

static struct {
	struct simclient x;
	char state[512], cfg[600], gw_id[600], dns_id[600];
	pthread_mutex_t mu;
	cJSON *events;
	int approve_switch, approve_teardown;
	struct eng *e;
	void (*hook)(const cJSON *ev);
} T;

/* ---- fixture ------------------------------------------------------------------- */

static void
write_cfg(const struct cfgopts *o)
{
	FILE *f = fopen(T.cfg, "w");

	assert_non_null(f);
	fprintf(f,
	    "name: prod-weu\n"
	    "azure:\n  cloud: AzureCloud\n  authority_host: %s\n  resource_manager: %s\n  ca_file: %s\n"
	    "  tenant: %s\n  subscription: %s\n  resource_group: %s\n  credential: environment\n"
	    "clusters:\n"
	    "  blue:\n    name: aks-prod-blue\n    kubeconfig: %s/kubeconfig\n    context: aks-prod-blue\n"
	    "  green:\n    name: aks-prod-green\n    kubernetes_version: \"1.30.5\"\n"
	    "provision:\n  mode: arm-clone\n"
	    "sync:\n  mode: copy\n  namespaces: [ingress, shop, payments]\n"
	    "  kinds: [ConfigMap, Secret, ServiceAccount, Service, Deployment]\n"
	    "traffic:\n  gateway:\n    name: agw-prod\n    rule: rule-live-https\n"
	    "    blue_pool: pool-blue\n    green_pool: pool-green\n    steps: %s\n    soak: %s\n"
	    "  dns:\n    zone: priv.contoso.com\n    record: aks\n    type: A\n"
	    "    blue_target: 10.10.1.4\n    green_target: 10.10.2.4\n    when: %s\n"
	    "checks:\n"
	    "  - name: green nodes ready\n    type: nodes-ready\n    cluster: green\n"
	    "    interval: 500ms\n    gates: [provision, sync]\n"
	    "  - name: green backends\n    type: backend-health\n    cluster: green\n"
	    "    interval: 500ms\n    gates: [switch]\n"
	    "%s"
	    "window: %s\n"
	    "teardown:\n  mode: delete\n",
	    T.x.authority, sim_base_url(), T.x.ca, T.x.tenant, T.x.sub, T.x.rg, T.x.dir,
	    o->steps != NULL ? o->steps : "[10, 50, 100]", o->soak != NULL ? o->soak : "1s",
	    o->dns_when != NULL ? o->dns_when : "after-gateway", o->checks != NULL ? o->checks : "",
	    o->window != NULL ? o->window : "3s");
	fclose(f);
}

static int
setup(void **state)
{
	(void)state;
	memset(&T, 0, sizeof T);
	pthread_mutex_init(&T.mu, NULL);
	log_set_stream(stderr, getenv("BGSWITCH_TEST_LOG") != NULL ? LOG_DEBUG : LOG_OFF);
	snprintf(T.state, sizeof T.state, "%s/bgswitch-engine.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(T.state));
	setenv("XDG_STATE_HOME", T.state, 1);
	simclient_start_speed(&T.x, 300);
	setenv("AZURE_TENANT_ID", T.x.tenant, 1);
	setenv("AZURE_CLIENT_ID", T.x.client, 1);
	setenv("AZURE_CLIENT_SECRET", T.x.secret, 1);
	setenv("AZURE_AUTHORITY_HOST", T.x.authority, 1);
	snprintf(T.cfg, sizeof T.cfg, "%s/switch.yaml", T.state);
	snprintf(T.gw_id, sizeof T.gw_id, GW_ID_FMT, T.x.sub, T.x.rg);
	snprintf(T.dns_id, sizeof T.dns_id, DNS_ID_FMT, T.x.sub, T.x.rg);
	T.events = cJSON_CreateArray();
	/* The live record's TTL is 300 s in the default world, and blue is not
	 * torn down before resolvers may have dropped it: 1 s keeps tests short. */
	simclient_ctl(&T.x, "POST", "/_sim/arm/dns/priv.contoso.com/A/aks/bump-etag", "{\"ttl\": 1}", NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	simclient_stop(&T.x);
	cJSON_Delete(T.events);
	testlib_rmtree(T.state);
	return 0;
}

/* ---- driving the engine --------------------------------------------------------- */

static void
on_event(void *ctx, const char *json)
{
	cJSON *ev = cJSON_Parse(json);
	const char *type, *gate;
	char err[256];

	(void)ctx;
	assert_non_null(ev);
	type = cJSON_GetObjectItem(ev, "event")->valuestring;
	if (getenv("BGSWITCH_TEST_EVENTS") != NULL && strcmp(type, "log") != 0)
		fprintf(stderr, "%s\n", json);
	if (strcmp(type, "gate") == 0) {
		gate = cJSON_GetObjectItem(ev, "gate")->valuestring;
		if (strcmp(gate, "switch") == 0)
			eng_post(T.e, T.approve_switch ? ENG_CMD_CONFIRM : ENG_CMD_DECLINE, "yes", err, sizeof err);
		else
			eng_post(T.e, T.approve_teardown ? ENG_CMD_CONFIRM : ENG_CMD_DECLINE, "aks-prod-blue", err,
			    sizeof err);
	}
	if (T.hook != NULL)
		T.hook(ev);
	pthread_mutex_lock(&T.mu);
	cJSON_AddItemToArray(T.events, ev);
	pthread_mutex_unlock(&T.mu);
}

static struct eng *
engine_new(void)
{
	struct eng_opts o = { 0 };
	char err[1024];
	int code;
	struct eng *e;

	o.config_path = T.cfg;
	o.on_event = on_event;
	o.retry_ms = 200;
	o.observe_ms = 300;
	o.lock_duration_s = 15;
	e = eng_new(&o, err, sizeof err, &code);
	if (e == NULL)
		fail_msg("eng_new: %s", err);
	return e;
}

/* One whole run: start, wait for its end, free.  Returns its exit code. */
static int
run_engine(int approve_switch, int approve_teardown)
{
	char err[1024];
	int code;

	T.approve_switch = approve_switch;
	T.approve_teardown = approve_teardown;
	T.e = engine_new();
	if ((code = eng_start(T.e, err, sizeof err)) != 0)
		fail_msg("eng_start: %d %s", code, err);
	code = eng_join(T.e);
	eng_free(T.e);
	T.e = NULL;
	return code;
}

/* The last event of TYPE (with KEY == VAL when KEY is given), or NULL. */
static const cJSON *
last_event(const char *type, const char *key, const char *val)
{
	const cJSON *it, *found = NULL;

	pthread_mutex_lock(&T.mu);
	cJSON_ArrayForEach(it, T.events) {
		const cJSON *v = key != NULL ? cJSON_GetObjectItem(it, key) : NULL;

		if (strcmp(cJSON_GetObjectItem(it, "event")->valuestring, type) == 0
		    && (key == NULL || (cJSON_IsString(v) && strcmp(v->valuestring, val) == 0)))
			found = it;
	}
	pthread_mutex_unlock(&T.mu);
	return found;
}

static int
count_events(const char *type, const char *key, const char *val)
{
	const cJSON *it;
	int n = 0;

	pthread_mutex_lock(&T.mu);
	cJSON_ArrayForEach(it, T.events) {
		const cJSON *v = key != NULL ? cJSON_GetObjectItem(it, key) : NULL;

		if (strcmp(cJSON_GetObjectItem(it, "event")->valuestring, type) == 0
		    && (key == NULL || (cJSON_IsString(v) && strcmp(v->valuestring, val) == 0)))
			n++;
	}
	pthread_mutex_unlock(&T.mu);
	return n;
}

/* ---- the world, read back -------------------------------------------------------- */

static cJSON *
gateway_body(void)
{
	cJSON *gw = NULL;
	char err[512];

	if (appgw_get(T.x.arm, T.gw_id, NULL, &gw, NULL, 0, err, sizeof err) != 0)
		fail_msg("gateway: %s", err);
	return gw;
}

static void
weights_now(struct appgw_weights *w)
{
	struct appgw_target t = { T.gw_id, "rule-live-https", "pool-blue", "pool-green" };
	cJSON *gw = gateway_body();
	char err[512];

	if (appgw_weights(gw, &t, w, err, sizeof err) != 0)
		fail_msg("weights: %s", err);
	cJSON_Delete(gw);
}

static cJSON *
rule_snapshot(void)
{
	cJSON *gw = gateway_body(), *snap;
	char err[512];

	snap = appgw_snapshot(gw, "rule-live-https", err, sizeof err);
	cJSON_Delete(gw);
	assert_non_null(snap);
	return snap;
}

/* The record set's journal form without its etag: what must come back. */
static cJSON *
dns_props(struct pdns_record *rec)
{
	cJSON *body = NULL, *j;
	struct pdns_record r;
	char err[512];

	if (pdns_get(T.x.arm, T.dns_id, NULL, rec != NULL ? rec : &r, &body, err, sizeof err) != 0)
		fail_msg("dns: %s", err);
	j = pdns_record_json(body, NULL);
	cJSON_Delete(body);
	assert_non_null(j);
	cJSON_DeleteItemFromObject(j, "etag");
	return j;
}

static int
cluster_exists(const char *name)
{
	char id[600], err[512];
	int rc;

	aks_cluster_id(id, sizeof id, T.x.sub, T.x.rg, name);
	rc = aks_get(T.x.arm, id, NULL, NULL, NULL, err, sizeof err);
	if (rc != 0 && rc != AKS_E_NOT_FOUND)
		fail_msg("aks_get %s: %s", name, err);
	return rc == 0;
}

/* Every record of the journal. */
static cJSON *
journal_records(void)
{
	struct journal_reader *r = NULL;
	struct journal_record rec;
	cJSON *arr = cJSON_CreateArray();
	char path[700], err[512];
	int rc;

	assert_int_equal(journal_path("prod-weu", path, sizeof path, err, sizeof err), 0);
	assert_int_equal(journal_open_read(path, &r, err, sizeof err), 0);
	while ((rc = journal_next(r, &rec, err, sizeof err)) == 1)
		cJSON_AddItemToArray(arr, cJSON_Duplicate(rec.json, 1));
	assert_int_equal(rc, 0);
	journal_close_read(r);
	return arr;
}

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static int
count_records(const cJSON *recs, const char *type, const char *key, const char *val)
{
	const cJSON *it;
	int n = 0;

	cJSON_ArrayForEach(it, recs)
		if (strcmp(jstr(it, "type"), type) == 0 && (key == NULL || strcmp(jstr(it, key), val) == 0))
			n++;
	return n;
}

/* Every intent has exactly one outcome after it, and it is OK. */
static void
assert_intents_closed_ok(const cJSON *recs)
{
	const cJSON *in, *out;

	cJSON_ArrayForEach(in, recs) {
		double action;
		int outcomes = 0;

		if (strcmp(jstr(in, "type"), "intent") != 0)
			continue;
		action = cJSON_GetObjectItem(in, "action")->valuedouble;
		assert_non_null(cJSON_GetObjectItem(in, "before"));
		assert_non_null(cJSON_GetObjectItem(in, "after"));
		cJSON_ArrayForEach(out, recs)
			if (strcmp(jstr(out, "type"), "outcome") == 0
			    && cJSON_GetObjectItem(out, "action")->valuedouble == action) {
				outcomes++;
				if (!cJSON_IsTrue(cJSON_GetObjectItem(out, "ok")))
					fail_msg("intent %s (action %.0f) has a failed outcome: %s", jstr(in, "what"),
					    action, jstr(out, "error"));
			}
		if (outcomes != 1)
			fail_msg("intent %s (action %.0f) has %d outcomes", jstr(in, "what"), action, outcomes);
	}
}

/* ---- tests ---------------------------------------------------------------------------- */

/* T0 to T4 in one run with both gates approved. */
static void
test_full_run(void **state)
{
	struct cfgopts o = { 0 };
	struct appgw_weights w;
	struct pdns_record rec;
	cJSON *recs, *d;

	(void)state;
	write_cfg(&o);
	assert_false(cluster_exists("aks-prod-green"));
	assert_int_equal(run_engine(1, 1), ENG_EXIT_DONE);

	weights_now(&w);
	assert_int_equal(w.blue.weight, 0);
	assert_true(w.green.weight > 0);
	assert_true(w.green.share > 99.9);
	d = dns_props(&rec);
	cJSON_Delete(d);
	assert_int_equal(rec.ntargets, 1);
	assert_string_equal(rec.targets[0], "10.10.2.4");
	assert_false(cluster_exists("aks-prod-blue"));
	assert_true(cluster_exists("aks-prod-green"));

	recs = journal_records();
	assert_int_equal(count_records(recs, "run-start", NULL, NULL), 1);
	for (int s = 0; s < 5; s++) {
		char st[4];	/* "T0".."T4" */

		snprintf(st, sizeof st, "T%c", (char)('0' + s));
		assert_int_equal(count_records(recs, "stage", "stage", st) >= 2, 1);
	}
	assert_int_equal(count_records(recs, "stage", "state", "done"), 5);
	assert_int_equal(count_records(recs, "confirm", "gate", "switch"), 1);
	assert_int_equal(count_records(recs, "confirm", "gate", "teardown"), 1);
	assert_int_equal(count_records(recs, "intent", "what", "cluster-create"), 1);
	assert_int_equal(count_records(recs, "intent", "what", "gateway-weights"), 3);
	assert_int_equal(count_records(recs, "intent", "what", "dns-record"), 1);
	assert_int_equal(count_records(recs, "intent", "what", "cluster-delete"), 1);
	assert_intents_closed_ok(recs);
	{
		const cJSON *c;

		cJSON_ArrayForEach(c, recs)
			if (strcmp(jstr(c, "type"), "confirm") == 0)
				assert_non_null(strchr(jstr(c, "who"), '@'));
	}
	assert_int_equal(count_records(recs, "run-end", "result", "done"), 1);
	assert_string_equal(jstr(cJSON_GetArrayItem(recs, cJSON_GetArraySize(recs) - 1), "type"), "run-end");
	cJSON_Delete(recs);
	assert_non_null(last_event("run-end", "result", "done"));
}

/* Without approval: exit 3 at the switch gate, gateway and DNS untouched
 * (whole JSON); run again with approval: on from there, not from T0. */
static void
test_gate_stop_and_resume(void **state)
{
	struct cfgopts o = { 0 };
	cJSON *gw0, *gw1, *dns0, *dns1, *recs;

	(void)state;
	write_cfg(&o);
	gw0 = gateway_body();
	dns0 = dns_props(NULL);
	assert_int_equal(run_engine(0, 0), ENG_EXIT_GATE);
	gw1 = gateway_body();
	dns1 = dns_props(NULL);
	assert_true(cJSON_Compare(gw0, gw1, 1));
	assert_true(cJSON_Compare(dns0, dns1, 1));
	cJSON_Delete(gw1);
	cJSON_Delete(dns1);
	assert_non_null(last_event("gate", "gate", "switch"));
	recs = journal_records();
	assert_int_equal(count_records(recs, "run-end", "result", "paused"), 1);
	assert_int_equal(count_records(recs, "intent", "what", "gateway-weights"), 0);
	cJSON_Delete(recs);

	/* Again, with the switch approved: no second provision or sync. */
	cJSON_Delete(T.events);
	T.events = cJSON_CreateArray();
	assert_int_equal(run_engine(1, 0), ENG_EXIT_GATE);
	assert_int_equal(count_events("state", "state", "provision"), 0);
	assert_int_equal(count_events("state", "state", "sync"), 0);
	assert_int_equal(count_events("state", "state", "switch"), 1);
	assert_non_null(last_event("gate", "gate", "teardown"));
	gw1 = gateway_body();
	assert_false(cJSON_Compare(gw0, gw1, 1));
	cJSON_Delete(gw1);
	recs = journal_records();
	assert_int_equal(count_records(recs, "intent", "what", "cluster-create"), 1);
	assert_int_equal(count_records(recs, "intent", "what", "gateway-weights"), 3);
	assert_int_equal(count_records(recs, "confirm", "gate", "switch"), 1);
	cJSON_Delete(recs);
	assert_true(cluster_exists("aks-prod-blue"));

	/* And the teardown. */
	assert_int_equal(run_engine(0, 1), ENG_EXIT_DONE);
	assert_false(cluster_exists("aks-prod-blue"));
	recs = journal_records();
	assert_int_equal(count_records(recs, "intent", "what", "gateway-weights"), 3);
	assert_int_equal(count_records(recs, "run-end", "result", "done"), 1);
	assert_intents_closed_ok(recs);
	cJSON_Delete(recs);
	cJSON_Delete(gw0);
	cJSON_Delete(dns0);
}

static void
crashloop_hook(const cJSON *ev)
{
	const cJSON *step = cJSON_GetObjectItem(ev, "step");

	if (strcmp(jstr(ev, "event"), "step") == 0 && cJSON_IsNumber(step) && step->valueint == 1)
		simclient_ctl(&T.x, "POST", "/_sim/clusters/aks-prod-green/crashloop",
		    "{\"namespace\": \"shop\", \"on\": true}", NULL);
}

/* Pods crash-looping on green during a soak: automatic rollback restores
 * the gateway rule and the DNS record exactly (etags aside); exit 4. */
static void
test_crashloop_rollback(void **state)
{
	struct cfgopts o = { 0 };
	cJSON *rule0, *rule1, *dns0, *dns1, *recs;
	const cJSON *rb;

	(void)state;
	o.soak = "20s";
	o.dns_when = "before-gateway";
	o.checks = "  - name: green shop pods\n    type: pods-ready\n    cluster: green\n"
	    "    namespaces: [shop]\n    interval: 300ms\n    failure_threshold: 1\n"
	    "    rollback_on_fail: 2\n    gates: [switch, window]\n";
	write_cfg(&o);
	rule0 = rule_snapshot();
	dns0 = dns_props(NULL);
	T.hook = crashloop_hook;
	assert_int_equal(run_engine(1, 1), ENG_EXIT_ROLLED_BACK);
	T.hook = NULL;

	rule1 = rule_snapshot();
	dns1 = dns_props(NULL);
	assert_true(appgw_snapshot_equal(rule0, rule1));
	assert_true(cJSON_Compare(dns0, dns1, 1));
	rb = last_event("rollback", NULL, NULL);
	assert_non_null(rb);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(rb, "automatic")));
	assert_non_null(strstr(jstr(rb, "reason"), "green shop pods"));
	recs = journal_records();
	assert_int_equal(count_records(recs, "rollback", NULL, NULL), 1);
	assert_int_equal(count_records(recs, "run-end", "result", "rolled-back"), 1);
	/* only the first step was made before the rollback */
	assert_int_equal(count_records(recs, "intent", "what", "gateway-weights"), 1);
	assert_int_equal(count_records(recs, "intent", "what", "gateway-restore"), 1);
	assert_int_equal(count_records(recs, "intent", "what", "dns-restore"), 1);
	assert_intents_closed_ok(recs);
	cJSON_Delete(recs);
	assert_true(cluster_exists("aks-prod-blue"));
	cJSON_Delete(rule0);
	cJSON_Delete(rule1);
	cJSON_Delete(dns0);
	cJSON_Delete(dns1);
}

/* Someone else writes the gateway between our read and our write (412):
 * re-read, re-apply, and their change is still there. */
static void
test_concurrent_gateway_write(void **state)
{
	struct cfgopts o = { 0 };
	struct appgw_weights w;
	cJSON *gw, *faults = NULL;
	const cJSON *tag;

	(void)state;
	write_cfg(&o);
	simclient_ctl(&T.x, "POST", "/_sim/faults", "{\"gateway_concurrent_write\": 2}", NULL);
	assert_int_equal(run_engine(1, 0), ENG_EXIT_GATE);
	simclient_ctl(&T.x, "GET", "/_sim/faults", NULL, &faults);
	assert_int_equal(cJSON_GetObjectItem(faults, "gateway_concurrent_write")->valueint, 0);
	cJSON_Delete(faults);
	gw = gateway_body();
	tag = cJSON_GetObjectItem(cJSON_GetObjectItem(gw, "tags"), "concurrent-change");
	assert_true(cJSON_IsString(tag));
	assert_string_equal(tag->valuestring, "write-1");
	cJSON_Delete(gw);
	weights_now(&w);
	assert_int_equal(w.blue.weight, 0);
	assert_true(w.green.share > 99.9);
}

/* ARM answering 5xx to everything in the middle of the steps: no step is
 * counted, the step does not advance; when ARM is back the run goes on. */
static void
test_arm_outage(void **state)
{
	struct cfgopts o = { 0 };
	struct eng_model m;
	char err[512];
	cJSON *recs;
	int code, i;

	(void)state;
	o.soak = "2s";
	write_cfg(&o);
	T.approve_switch = 1;
	T.e = engine_new();
	if ((code = eng_start(T.e, err, sizeof err)) != 0)
		fail_msg("eng_start: %s", err);
	for (i = 0; i < 600; i++) {
		eng_snapshot(T.e, &m);
		if (m.step >= 1 || m.finished)
			break;
		usleep(100000);
	}
	assert_int_equal(m.step, 1);
	simclient_ctl(&T.x, "POST", "/_sim/faults", "{\"arm_5xx_rate\": 1}", NULL);
	sleep(6);
	eng_snapshot(T.e, &m);
	assert_false(m.finished);
	assert_string_equal(m.state_name, "switch");
	assert_int_equal(m.step, 1);
	simclient_ctl(&T.x, "DELETE", "/_sim/faults", NULL, NULL);
	code = eng_join(T.e);
	eng_free(T.e);
	T.e = NULL;
	assert_int_equal(code, ENG_EXIT_GATE);	/* at the teardown gate, not approved */
	recs = journal_records();
	/* every step once, each with an OK outcome; nothing rolled back */
	assert_int_equal(count_records(recs, "intent", "what", "gateway-weights"), 3);
	assert_int_equal(count_records(recs, "rollback", NULL, NULL), 0);
	assert_intents_closed_ok(recs);
	cJSON_Delete(recs);
	assert_non_null(last_event("gate", "gate", "teardown"));
}

/* A second driver while the first holds the lock: exit 6, holder named. */
static void
test_lock_held(void **state)
{
	struct cfgopts o = { 0 };
	struct eng_model m;
	struct eng *second;
	char err[1024];
	int code, i;

	(void)state;
	o.soak = "60s";
	write_cfg(&o);
	T.approve_switch = 1;
	T.e = engine_new();
	assert_int_equal(eng_start(T.e, err, sizeof err), 0);
	for (i = 0; i < 600; i++) {
		eng_snapshot(T.e, &m);
		if (m.step >= 1 || m.finished)
			break;
		usleep(100000);
	}
	assert_int_equal(m.step, 1);
	second = engine_new();
	code = eng_start(second, err, sizeof err);
	assert_int_equal(code, ENG_EXIT_LOCKED);
	{
		/* "user@host/pid" is named as "user@host pid N" */
		char who[160], pid[40];
		const char *slash = strrchr(m.holder, '/');

		assert_non_null(slash);
		snprintf(who, sizeof who, "%.*s", (int)(slash - m.holder), m.holder);
		snprintf(pid, sizeof pid, "pid %s", slash + 1);
		if (strstr(err, who) == NULL || strstr(err, pid) == NULL)
			fail_msg("refusal does not name the holder %s: %s", m.holder, err);
	}
	eng_free(second);
	/* The first is unharmed and stops when asked, state kept. */
	assert_int_equal(eng_post(T.e, ENG_CMD_ABORT, NULL, err, sizeof err), 0);
	assert_int_equal(eng_join(T.e), ENG_EXIT_FAILED);
	eng_free(T.e);
	T.e = NULL;
	assert_true(cluster_exists("aks-prod-blue"));
}

/* ---- teardown refusals ---- */

static const char *refusal_kind;

static void *
meddler(void *arg)
{
	struct eng_model m;
	int i;

	(void)arg;
	for (i = 0; i < 1200; i++) {
		eng_snapshot(T.e, &m);
		if (strcmp(m.state_name, "window") == 0 || m.finished)
			break;
		usleep(50000);
	}
	if (m.finished)
		return NULL;
	if (strcmp(refusal_kind, "gateway") == 0) {
		simclient_ctl(&T.x, "POST", "/_sim/arm/gateways/agw-prod/bump-etag",
		    "{\"weights\": {\"pool-blue\": 10, \"pool-green\": 90}}", NULL);
	} else if (strcmp(refusal_kind, "dns") == 0) {
		simclient_ctl(&T.x, "POST", "/_sim/arm/dns/priv.contoso.com/A/aks/bump-etag",
		    "{\"ipv4\": [\"10.10.1.4\"]}", NULL);
	} else {
		/* Blue serves again for a while, then the weights look right:
		 * only the gateway's metrics still tell. */
		simclient_ctl(&T.x, "POST", "/_sim/arm/gateways/agw-prod/bump-etag",
		    "{\"weights\": {\"pool-blue\": 50, \"pool-green\": 50}}", NULL);
		usleep(2000000);
		simclient_ctl(&T.x, "POST", "/_sim/arm/gateways/agw-prod/bump-etag",
		    "{\"weights\": {\"pool-blue\": 0, \"pool-green\": 100}}", NULL);
	}
	return NULL;
}

static void
refusal(const char *kind, const char *expect)
{
	struct cfgopts o = { 0 };
	pthread_t t;
	char err[512];
	const cJSON *ev;
	cJSON *recs;
	int code;

	refusal_kind = kind;
	o.window = "5s";
	write_cfg(&o);
	T.approve_switch = T.approve_teardown = 1;
	T.e = engine_new();
	assert_int_equal(eng_start(T.e, err, sizeof err), 0);
	pthread_create(&t, NULL, meddler, NULL);
	code = eng_join(T.e);
	pthread_join(t, NULL);
	eng_free(T.e);
	T.e = NULL;
	assert_int_equal(code, ENG_EXIT_FAILED);
	ev = last_event("refused", NULL, NULL);
	assert_non_null(ev);
	if (strstr(jstr(ev, "reason"), expect) == NULL)
		fail_msg("refusal reason '%s' lacks '%s'", jstr(ev, "reason"), expect);
	assert_true(cluster_exists("aks-prod-blue"));
	recs = journal_records();
	assert_int_equal(count_records(recs, "intent", "what", "cluster-delete"), 0);
	assert_int_equal(count_records(recs, "run-end", "result", "failed"), 1);
	cJSON_Delete(recs);
}

static void
test_refuse_gateway(void **state)
{
	(void)state;
	refusal("gateway", "still gives blue");
}

static void
test_refuse_dns(void **state)
{
	(void)state;
	refusal("dns", "points at blue");
}

static void
test_refuse_metrics(void **state)
{
	(void)state;
	refusal("metrics", "gateway metrics");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_stop_and_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crashloop_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_gateway_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arm_outage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_gateway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_dns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_metrics, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
