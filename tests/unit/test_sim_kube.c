/*
 * test_sim_kube.c — the simulated Kubernetes API servers' inner parts,
 * without a socket: selectors, the three patch types and server-side
 * apply with its managedFields, kubectl-style ages, and a world that
 * lives — nodes joining and turning Ready, a deployment's pods becoming
 * Ready, gateway backend health, faults — driven by calling the tick with
 * simulated time moved forward.  What kubectl sees over HTTP is
 * tests/conformance/kubectl.sh's part.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_kube.h"
#include "src/yamljson.h"

static cJSON *
J(const char *s)
{
	cJSON *j = cJSON_Parse(s);

	assert_non_null(j);
	return j;
}

static void
assert_json(const cJSON *got, const char *want)
{
	cJSON *w = J(want);
	char *g = cJSON_PrintUnformatted(got);

	if (!cJSON_Compare(got, w, 1))
		fail_msg("got %s\nwant %s", g, want);
	free(g);
	cJSON_Delete(w);
}

/* ---- selectors ------------------------------------------------------------------- */

static struct kobj *
obj_with_labels(struct kres *r, const char *json)
{
	cJSON *t = J(json);
	struct kobj *o;

	sim_kube_jset_str(sim_kube_jobj(t, "metadata"), "resourceVersion", "1");
	o = sim_kube_obj_new(r, t);
	cJSON_Delete(t);
	assert_non_null(o);
	return o;
}

static void
test_label_selectors(void **state)
{
	struct kres r;
	struct ksel s;
	char err[256];
	struct kobj *o;
	static const struct { const char *sel; int match; } cases[] = {
		{ "", 1 },
		{ "app=web", 1 }, { "app==web", 1 }, { "app=db", 0 }, { "app!=db", 1 },
		{ "missing!=x", 1 }, { "tier", 1 }, { "!tier", 0 }, { "!missing", 1 },
		{ "app in (db, web)", 1 }, { "app in (db)", 0 }, { "app notin (db)", 1 },
		{ "missing notin (x)", 1 }, { "missing in (x)", 0 },
		{ "app=web,tier=front", 1 }, { "app=web, tier=back", 0 },
		{ "app in (web),tier notin (back),!gone", 1 },
	};

	(void)state;
	memset(&r, 0, sizeof r);
	r.kk = K_POD;
	r.namespaced = 1;
	o = obj_with_labels(&r, "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\","
	    "\"labels\":{\"app\":\"web\",\"tier\":\"front\"}}}");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(sim_kube_sel_parse(&s, cases[i].sel, err, sizeof err), 0);
		if (sim_kube_sel_match(&s, o) != cases[i].match)
			fail_msg("selector '%s': want %d", cases[i].sel, cases[i].match);
		sim_kube_sel_free(&s);
	}
	/* malformed selectors are errors, not matches */
	assert_int_equal(sim_kube_sel_parse(&s, "app in (web", err, sizeof err), -1);
	assert_non_null(strstr(err, "unable to parse requirement"));
	assert_int_equal(sim_kube_sel_parse(&s, "=web", err, sizeof err), -1);
	assert_int_equal(sim_kube_sel_parse(&s, "app=web,", err, sizeof err), -1);
	assert_int_equal(sim_kube_sel_parse(&s, "app >< 3", err, sizeof err), -1);
	sim_kube_obj_unref(o);
}

static void
test_field_selectors(void **state)
{
	struct kcluster c;
	struct kres *pr, *cr;
	struct ksel s;
	char err[256];
	struct kobj *o;

	(void)state;
	memset(&c, 0, sizeof c);
	assert_int_equal(sim_kube_res_init(&c), 0);
	pr = sim_kube_res_builtin(&c, K_POD);
	o = obj_with_labels(pr, "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns\"},"
	    "\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"}}");
	assert_int_equal(sim_kube_fsel_parse(&s, pr, "spec.nodeName=n1,status.phase!=Pending", err, sizeof err), 0);
	assert_true(sim_kube_fsel_match(&s, o));
	sim_kube_sel_free(&s);
	assert_int_equal(sim_kube_fsel_parse(&s, pr, "metadata.name==p2", err, sizeof err), 0);
	assert_false(sim_kube_fsel_match(&s, o));
	sim_kube_sel_free(&s);
	assert_int_equal(sim_kube_fsel_parse(&s, pr, "spec.bogus=1", err, sizeof err), -1);
	assert_string_equal(err, "field label not supported: spec.bogus");
	cr = sim_kube_res_builtin(&c, K_CONFIGMAP);
	assert_int_equal(sim_kube_fsel_parse(&s, cr, "spec.nodeName=n1", err, sizeof err), -1);
	sim_kube_obj_unref(o);
	for (int i = 0; i < c.nres; i++)
		free(c.res[i]);
	free(c.res);
}

/* ---- patches ------------------------------------------------------------------------ */

static void
test_merge_patch_rfc7386(void **state)
{
	/* the examples of RFC 7386 appendix A */
	static const char *const cases[][3] = {
		{ "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"a\":null}", "{}" },
		{ "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}" },
		{ "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}" },
		{ "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}" },
		{ "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}" },
		{ "[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]" },
		{ "{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]" },
		{ "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}" },
		{ "[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}" },
		{ "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *p = J(cases[i][1]);
		cJSON *out = sim_kube_merge_patch(J(cases[i][0]), p);
		assert_json(out, cases[i][2]);
		cJSON_Delete(out);
		cJSON_Delete(p);
	}
}

static void
test_strategic_merge_patch(void **state)
{
	cJSON *t, *p;

	(void)state;
	/* kubectl set image: one container of two changes, the other stays */
	t = J("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:1\",\"ports\":[{\"containerPort\":80}]},"
	    "{\"name\":\"b\",\"image\":\"b:1\"}]}}");
	p = J("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:2\"}]}}");
	t = sim_kube_strategic_patch(t, p);
	assert_json(t, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:2\",\"ports\":[{\"containerPort\":80}]},"
	    "{\"name\":\"b\",\"image\":\"b:1\"}]}}");
	cJSON_Delete(p);
	/* $patch: delete of a keyed item, a new item appended, directives dropped */
	p = J("{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"b\"},{\"name\":\"c\"}],"
	    "\"containers\":[{\"name\":\"a\",\"$patch\":\"delete\"},{\"name\":\"c\",\"image\":\"c:1\"}]}}");
	t = sim_kube_strategic_patch(t, p);
	assert_json(t, "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"b:1\"},{\"name\":\"c\",\"image\":\"c:1\"}]}}");
	cJSON_Delete(p);
	/* lists without a merge key are replaced; $patch: replace on a map */
	p = J("{\"spec\":{\"args\":[\"x\"],\"selector\":{\"$patch\":\"replace\",\"k\":\"v\"}}}");
	t = sim_kube_strategic_patch(t, p);
	assert_json(cJSON_GetObjectItem(t, "spec"), "{\"containers\":[{\"name\":\"b\",\"image\":\"b:1\"},"
	    "{\"name\":\"c\",\"image\":\"c:1\"}],\"args\":[\"x\"],\"selector\":{\"k\":\"v\"}}");
	cJSON_Delete(p);
	cJSON_Delete(t);
}

static void
test_json_patch(void **state)
{
	char err[256];
	cJSON *ops, *t;

	(void)state;
	ops = J("[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":3},{\"op\":\"replace\",\"path\":\"/b\",\"value\":\"x\"},"
	    "{\"op\":\"remove\",\"path\":\"/c\"},{\"op\":\"copy\",\"from\":\"/b\",\"path\":\"/d\"},"
	    "{\"op\":\"move\",\"from\":\"/d\",\"path\":\"/e~1f\"},{\"op\":\"test\",\"path\":\"/a/0\",\"value\":1}]");
	t = sim_kube_json_patch(J("{\"a\":[1,2],\"b\":1,\"c\":true}"), ops, err, sizeof err);
	assert_non_null(t);
	assert_json(t, "{\"a\":[1,2,3],\"b\":\"x\",\"e/f\":\"x\"}");
	cJSON_Delete(t);
	cJSON_Delete(ops);
	ops = J("[{\"op\":\"remove\",\"path\":\"/missing\"}]");
	assert_null(sim_kube_json_patch(J("{}"), ops, err, sizeof err));
	assert_non_null(strstr(err, "missing"));
	cJSON_Delete(ops);
	ops = J("[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]");
	assert_null(sim_kube_json_patch(J("{\"a\":1}"), ops, err, sizeof err));
	cJSON_Delete(ops);
	ops = J("{\"op\":\"add\"}");
	assert_null(sim_kube_json_patch(J("{}"), ops, err, sizeof err));
	cJSON_Delete(ops);
}

static const cJSON *
mf_of(const cJSON *obj, const char *manager)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, sim_kube_jpath(obj, "metadata.managedFields")) {
		if (strcmp(sim_kube_jstr(e, "manager"), manager) == 0)
			return e;
	}
	return NULL;
}

static void
test_server_side_apply(void **state)
{
	char err[2400];
	cJSON *cfg, *live, *next, *upd;
	const cJSON *e;

	(void)state;
	cfg = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"labels\":{\"a\":\"1\"}},"
	    "\"data\":{\"k1\":\"v1\",\"k2\":\"v2\"}}");
	live = sim_kube_apply(NULL, cfg, "alice", 0, "v1", err, sizeof err);
	assert_non_null(live);
	e = mf_of(live, "alice");
	assert_non_null(e);
	assert_string_equal(sim_kube_jstr(e, "operation"), "Apply");
	assert_string_equal(sim_kube_jstr(e, "fieldsType"), "FieldsV1");
	assert_json(cJSON_GetObjectItem(e, "fieldsV1"), "{\"f:metadata\":{\"f:labels\":{\".\":{},\"f:a\":{}}},"
	    "\"f:data\":{\".\":{},\"f:k1\":{},\"f:k2\":{}}}");
	cJSON_Delete(cfg);

	/* alice drops k2 and changes k1: k2 goes, k1 changes */
	cfg = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"k1\":\"v9\"}}");
	next = sim_kube_apply(live, cfg, "alice", 0, "v1", err, sizeof err);
	assert_non_null(next);
	assert_json(cJSON_GetObjectItem(next, "data"), "{\"k1\":\"v9\"}");
	assert_null(sim_kube_jpath(next, "metadata.labels.a"));
	cJSON_Delete(cfg);
	cJSON_Delete(live);
	live = next;

	/* bob applying a different k1 conflicts; the same value does not */
	cfg = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"k1\":\"bob\"}}");
	assert_null(sim_kube_apply(live, cfg, "bob", 0, "v1", err, sizeof err));
	assert_string_equal(err, "Apply failed with 1 conflict: conflict with \"alice\": .data.k1");
	cJSON_Delete(cfg);
	cfg = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"k1\":\"v9\"}}");
	next = sim_kube_apply(live, cfg, "bob", 0, "v1", err, sizeof err);
	assert_non_null(next);
	assert_non_null(mf_of(next, "alice"));
	assert_non_null(mf_of(next, "bob"));
	cJSON_Delete(next);
	cJSON_Delete(cfg);

	/* force takes the field over */
	cfg = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"k1\":\"bob\"}}");
	next = sim_kube_apply(live, cfg, "bob", 1, "v1", err, sizeof err);
	assert_non_null(next);
	assert_string_equal(sim_kube_jstr(cJSON_GetObjectItem(next, "data"), "k1"), "bob");
	assert_null(mf_of(next, "alice"));	/* it owned nothing else */
	cJSON_Delete(cfg);
	cJSON_Delete(live);
	live = next;

	/* an Update takes ownership of what it changed */
	upd = cJSON_Duplicate(live, 1);
	sim_kube_jset_str(cJSON_GetObjectItem(upd, "data"), "k1", "edited");
	sim_kube_jset_str(cJSON_GetObjectItem(upd, "data"), "k3", "new");
	sim_kube_mf_update(upd, live, "kubectl-edit", "v1", "");
	e = mf_of(upd, "kubectl-edit");
	assert_non_null(e);
	assert_string_equal(sim_kube_jstr(e, "operation"), "Update");
	assert_json(cJSON_GetObjectItem(e, "fieldsV1"), "{\"f:data\":{\"f:k1\":{},\"f:k3\":{}}}");
	assert_null(mf_of(upd, "bob"));		/* k1 was all bob had */
	cJSON_Delete(upd);
	cJSON_Delete(live);
}

static void
test_keyed_list_apply(void **state)
{
	char err[2400];
	cJSON *cfg, *live, *next;

	(void)state;
	cfg = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},"
	    "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:1\"},"
	    "{\"name\":\"b\",\"image\":\"b:1\"}]}}}}");
	live = sim_kube_apply(NULL, cfg, "m", 0, "apps/v1", err, sizeof err);
	assert_non_null(live);
	assert_non_null(sim_kube_jpath(mf_of(live, "m"),
	    "fieldsV1.f:spec.f:template.f:spec.f:containers"));
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem((cJSON *)sim_kube_jpath(mf_of(live, "m"),
	    "fieldsV1.f:spec.f:template.f:spec"), "f:containers"), "k:{\"name\":\"a\"}"));
	cJSON_Delete(cfg);
	/* dropping container b from the configuration removes it */
	cfg = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},"
	    "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:2\"}]}}}}");
	next = sim_kube_apply(live, cfg, "m", 0, "apps/v1", err, sizeof err);
	assert_non_null(next);
	assert_json(sim_kube_jpath(next, "spec.template.spec.containers"), "[{\"name\":\"a\",\"image\":\"a:2\"}]");
	cJSON_Delete(cfg);
	cJSON_Delete(next);
	cJSON_Delete(live);
}

static void
test_ages(void **state)
{
	static const struct { int64_t s; const char *want; } cases[] = {
		{ 0, "0s" }, { 59, "59s" }, { 119, "119s" }, { 120, "2m" }, { 312, "5m12s" },
		{ 600, "10m" }, { 179 * 60, "179m" }, { 3 * 3600 + 120, "3h2m" }, { 8 * 3600, "8h" },
		{ 47 * 3600, "47h" }, { 50 * 3600, "2d2h" }, { 30 * 86400, "30d" },
		{ 800 * 86400LL, "2y70d" }, { 3000 * 86400LL, "8y" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sim_kube_age(cases[i].s * 1000, buf, sizeof buf);
		assert_string_equal(buf, cases[i].want);
	}
	sim_kube_age(-5000, buf, sizeof buf);
	assert_string_equal(buf, "<invalid>");
}

/* ---- a living world ---------------------------------------------------------------- */

static const char world_json[] =
    "{\"timings\":{\"node_join\":10,\"node_ready\":20,\"pod_ready\":15},"
    "\"clusters\":["
    " {\"name\":\"blue\",\"kubernetes_version\":\"1.29.7\",\"ingress_ip\":\"10.10.1.4\","
    "  \"node_pools\":[{\"name\":\"system\",\"mode\":\"System\",\"count\":2,\"vm_size\":\"Standard_D4ds_v5\"}],"
    "  \"namespaces\":{\"ingress\":[{\"name\":\"nginx\",\"replicas\":2,\"image\":\"nginx:1\",\"ingress\":true}],"
    "                 \"shop\":[{\"name\":\"cart\",\"replicas\":3,\"image\":\"cart:1\"}]}},"
    " {\"name\":\"green\",\"exists\":false,\"ingress_ip\":\"10.10.2.4\"}]}";

static struct kres *
R(struct kcluster *c, enum kkind kk)
{
	struct kres *r = sim_kube_res_builtin(c, kk);

	assert_non_null(r);
	return r;
}

static int
count_ready(const struct kres *r, const char *ns)
{
	int n = 0;

	for (size_t i = 0; i < r->store.n; i++)
		if ((ns == NULL || strcmp(r->store.v[i]->ns, ns) == 0) && r->store.v[i]->ready)
			n++;
	return n;
}

static int
world_setup(void **state)
{
	cJSON *w = J(world_json);
	char err[256] = "";

	(void)state;
	sim_world.plain_http = 1;
	sim_world.dir[0] = '\0';
	snprintf(sim_world.resource_group, sizeof sim_world.resource_group, "rg-test");
	snprintf(sim_world.base_url, sizeof sim_world.base_url, "http://127.0.0.1:1");
	sim_clock_start(1.0);
	pthread_mutex_lock(&sim_world.lock);
	if (sim_kube_load(w, err, sizeof err) != 0)
		fail_msg("load: %s", err);
	pthread_mutex_unlock(&sim_world.lock);
	cJSON_Delete(w);
	return 0;
}

static int
world_teardown(void **state)
{
	(void)state;
	/* A failed assertion leaves the test with the lock held (single
	 * threaded: trylock fails only then); either way it is ours now. */
	(void)pthread_mutex_trylock(&sim_world.lock);
	sim_kube_reset();
	pthread_mutex_unlock(&sim_world.lock);
	return 0;
}

static void
test_world_loads_ready(void **state)
{
	struct kcluster *c;

	(void)state;
	pthread_mutex_lock(&sim_world.lock);
	c = sim_kube_cluster_find("blue");
	assert_non_null(c);
	assert_true(sim_kube_cluster_exists("blue"));
	assert_false(sim_kube_cluster_exists("green"));
	assert_int_equal(R(c, K_NODE)->store.n, 2);
	assert_int_equal(count_ready(R(c, K_NODE), NULL), 2);
	assert_int_equal(count_ready(R(c, K_POD), "shop"), 3);
	assert_string_equal(R(c, K_NODE)->store.v[0]->name, R(c, K_NODE)->store.v[0]->name);
	assert_non_null(strstr(R(c, K_NODE)->store.v[0]->name, "aks-system-"));
	assert_non_null(strstr(R(c, K_NODE)->store.v[0]->name, "-vmss000000"));
	assert_non_null(sim_kube_store_get(&R(c, K_SERVICEACCOUNT)->store, "shop", "default"));
	assert_non_null(sim_kube_store_get(&R(c, K_CONFIGMAP)->store, "shop", "kube-root-ca.crt"));
	/* gateway health: the ingress is up, the reserved green address is
	 * not, an unknown address is nobody's, a pod address is its pod's */
	assert_int_equal(sim_kube_address_health("10.10.1.4"), 1);
	assert_int_equal(sim_kube_address_health("10.10.2.4"), 0);
	assert_int_equal(sim_kube_address_health("192.0.2.1"), -1);
	{
		char ip[32];
		sim_kube_ip_str(R(c, K_POD)->store.v[0]->ip, ip, sizeof ip);
		assert_int_equal(sim_kube_address_health(ip), 1);
	}
	/* an outage and a stopped cluster make the ingress unhealthy */
	c->outage_until = sim_now_ms() + 60000;
	assert_int_equal(sim_kube_address_health("10.10.1.4"), 0);
	c->outage_until = 0;
	sim_kube_cluster_set_running("blue", 0);
	assert_int_equal(sim_kube_address_health("10.10.1.4"), 0);
	sim_kube_cluster_set_running("blue", 1);
	assert_int_equal(sim_kube_address_health("10.10.1.4"), 1);
	pthread_mutex_unlock(&sim_world.lock);
}

static void
test_new_cluster_nodes_join(void **state)
{
	struct sim_pool_spec pools[1];
	struct kcluster *c;
	int64_t t;

	(void)state;
	memset(pools, 0, sizeof pools);
	snprintf(pools[0].name, sizeof pools[0].name, "system");
	snprintf(pools[0].mode, sizeof pools[0].mode, "System");
	pools[0].count = 2;
	pthread_mutex_lock(&sim_world.lock);
	assert_int_equal(sim_kube_cluster_add("green", "1.30.5", NULL, pools, 1, 0), 0);
	c = sim_kube_cluster_find("green");
	assert_non_null(c);
	assert_string_equal(c->ingress_ip, "10.10.2.4");	/* from the world entry */
	assert_string_equal(c->ingress_deploy, "nginx");	/* the world's ingress */
	assert_int_equal(R(c, K_NODE)->store.n, 0);
	t = sim_now_ms();
	sim_kube_tick(t + 10500);		/* node_join: the first node, NotReady */
	assert_int_equal(R(c, K_NODE)->store.n, 1);
	assert_int_equal(count_ready(R(c, K_NODE), NULL), 0);
	sim_kube_tick(t + 20500);
	assert_int_equal(R(c, K_NODE)->store.n, 2);
	sim_kube_tick(t + 31000);		/* + node_ready: the first is Ready */
	assert_int_equal(count_ready(R(c, K_NODE), NULL), 1);
	sim_kube_tick(t + 41000);
	assert_int_equal(count_ready(R(c, K_NODE), NULL), 2);
	{
		cJSON *n = sim_kube_obj_parse(R(c, K_NODE)->store.v[0]);
		assert_string_equal(sim_kube_jstr(sim_kube_jpath(n, "status.nodeInfo"), "kubeletVersion"), "v1.30.5");
		assert_string_equal(sim_kube_jstr(sim_kube_jpath(n, "metadata.labels"), "kubernetes.io/role"), "agent");
		cJSON_Delete(n);
	}
	/* no ingress deployment yet: reserved address, unhealthy */
	assert_int_equal(sim_kube_address_health("10.10.2.4"), 0);
	sim_kube_cluster_remove("green");
	assert_false(sim_kube_cluster_exists("green"));
	assert_int_equal(sim_kube_address_health("10.10.2.4"), 0);
	pthread_mutex_unlock(&sim_world.lock);
}

/* Creates a deployment the way the API does, then runs the controllers
 * through simulated time. */
static void
test_deployment_controller(void **state)
{
	struct kcluster *c;
	struct kres *dr;
	cJSON *d;
	int64_t t;
	struct kobj *o;

	(void)state;
	pthread_mutex_lock(&sim_world.lock);
	c = sim_kube_cluster_find("blue");
	dr = R(c, K_DEPLOYMENT);
	d = J("{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},\"spec\":{\"replicas\":2,"
	    "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
	    "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"web:1\"}]}}}}");
	sim_kube_prepare_new(c, dr, d, "test");
	assert_non_null(sim_kube_commit(c, dr, d, KE_ADDED));
	cJSON_Delete(d);
	t = sim_now_ms();
	sim_kube_tick(t);			/* ReplicaSet and 2 Pending pods */
	o = sim_kube_store_get(&dr->store, "shop", "web");
	assert_non_null(o);
	assert_int_equal(o->ready, 0);
	sim_kube_tick(t + 100);
	sim_kube_tick(t + 6000);		/* containers start at a third */
	sim_kube_tick(t + 16000);		/* Ready at pod_ready */
	sim_kube_tick(t + 16100);
	o = sim_kube_store_get(&dr->store, "shop", "web");
	assert_int_equal(o->ready, 2);
	{
		cJSON *s = sim_kube_obj_parse(o);
		const cJSON *cond = cJSON_GetArrayItem(sim_kube_jpath(s, "status.conditions"), 0);
		assert_string_equal(sim_kube_jstr(cond, "type"), "Available");
		assert_string_equal(sim_kube_jstr(cond, "status"), "True");
		assert_int_equal(sim_kube_jpath(s, "status.observedGeneration")->valueint, 1);
		assert_int_equal(sim_kube_jpath(s, "status.updatedReplicas")->valueint, 2);
		cJSON_Delete(s);
	}
	/* a node goes NotReady: its pods too, and the deployment counts it */
	assert_int_equal(sim_kube_node_set_ready(c, NULL, 0), 0);
	sim_kube_tick(t + 16200);
	assert_true(count_ready(R(c, K_NODE), NULL) == 1);
	assert_int_equal(sim_kube_node_set_ready(c, NULL, 1), 0);
	sim_kube_tick(t + 16300);
	assert_int_equal(count_ready(R(c, K_NODE), NULL), 2);
	/* crash-looping: Ready turns false, restarts count up */
	sim_kube_crashloop(c, "shop", "web", 1);
	sim_kube_tick(t + 16400);
	sim_kube_tick(t + 16500);
	o = sim_kube_store_get(&dr->store, "shop", "web");
	assert_int_equal(o->ready, 0);
	sim_kube_crashloop(c, "shop", "web", 0);
	sim_kube_tick(t + 16600);		/* a clean start ... */
	sim_kube_tick(t + 40000);		/* ... Ready a while later */
	sim_kube_tick(t + 40100);
	o = sim_kube_store_get(&dr->store, "shop", "web");
	assert_int_equal(o->ready, 2);
	/* deleting the deployment removes its ReplicaSet and, gracefully, pods */
	assert_int_equal(sim_kube_delete_obj(c, dr, "shop", "web", -1, 0), 0);
	assert_null(sim_kube_store_get(&dr->store, "shop", "web"));
	sim_kube_tick(t + 60000);
	for (size_t i = 0; i < R(c, K_POD)->store.n; i++)
		assert_null(strstr(R(c, K_POD)->store.v[i]->name, "web-"));
	pthread_mutex_unlock(&sim_world.lock);
}

static void
test_user_kubeconfig(void **state)
{
	char *kc;
	struct yj_doc *doc;
	struct yj_error err;
	const cJSON *root;

	(void)state;
	pthread_mutex_lock(&sim_world.lock);
	assert_null(sim_kube_user_kubeconfig("nope"));
	kc = sim_kube_user_kubeconfig("blue");
	pthread_mutex_unlock(&sim_world.lock);
	assert_non_null(kc);
	doc = yj_parse(kc, strlen(kc), "kubeconfig", &err);
	assert_non_null(doc);
	root = yj_root(doc, 0);
	assert_string_equal(sim_kube_jstr(root, "current-context"), "blue");
	assert_string_equal(sim_kube_jstr(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "clusters"), 0), "name"), "blue");
	assert_string_equal(sim_kube_jstr(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "users"), 0), "name"),
	    "clusterUser_rg-test_blue");
	assert_string_equal(sim_kube_jstr(sim_kube_jpath(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "clusters"), 0),
	    "cluster"), "server"), "http://127.0.0.1:1/clusters/blue");
	/* plain HTTP has no client certificates: the static token */
	assert_true(strlen(sim_kube_jstr(sim_kube_jpath(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "users"), 0),
	    "user"), "token")) >= 32);
	yj_free(doc);
	free(kc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_selectors),
		cmocka_unit_test(test_field_selectors),
		cmocka_unit_test(test_merge_patch_rfc7386),
		cmocka_unit_test(test_strategic_merge_patch),
		cmocka_unit_test(test_json_patch),
		cmocka_unit_test(test_server_side_apply),
		cmocka_unit_test(test_keyed_list_apply),
		cmocka_unit_test(test_ages),
		cmocka_unit_test_setup_teardown(test_world_loads_ready, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_new_cluster_nodes_join, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_deployment_controller, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_user_kubeconfig, world_setup, world_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
