/*
 * test_traffic.c — T3's steps and rollback (src/traffic.c) against the
 * simulator started in-process, with a real journal on disk.
 *
 * Each test gets a fresh world (speed 100: a gateway update of 30
 * simulated seconds takes 0.3 s) and its own XDG_STATE_HOME, so that the
 * journal and the gateway start as a switchover would find them: blue
 * alone (agw-prod, rule-live-https, pool-blue 100 / pool-green 0) and the
 * record aks.priv.contoso.com pointing at blue's 10.10.1.4.  What is
 * checked is what PRODUCT.md §6 promises: the journal holds each change's
 * full "before" before ARM sees the write, and rollback puts that "before"
 * back exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "azure/appgw.h"
#include "azure/pdns.h"
#include "sim/sim.h"
#include "src/config.h"
#include "src/http.h"
#include "src/journal.h"
#include "src/log.h"
#include "src/traffic.h"
#include "tests/lib/simclient.h"
#include "tests/lib/testenv.h"

#define JNAME	"traffic-test"
#define BLUE_IP	"10.10.1.4"
#define GREEN_IP "10.10.2.4"

#define assert_contains(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	if (h_ == NULL || strstr(h_, n_) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", h_ != NULL ? h_ : "(null)", n_); \
} while (0)

/* One test's world. */
struct fix {
	struct simclient sc;
	struct http_client *ctl;	/* the simulator's control endpoint */
	struct cfg cfg;
	char state[256];		/* XDG_STATE_HOME */
	char gw_id[512], dns_id[600];
	struct appgw_target tg;
	struct journal *j;
	struct traffic t;
	int puts_seen;			/* PUT progress callbacks */
	int puts_bad;			/* ... at which the journal lacked the intent */
	int want_intents;		/* intents the journal must hold during the PUT */
};

static struct fix F;

/* ---- control endpoint ------------------------------------------------------------ */

static void
ctl_ok(const char *method, const char *path, const char *body)
{
	static const char *const json_hdr[] = { "Content-Type: application/json", NULL };
	struct http_request rq = { 0 };
	struct http_response rs;
	char url[700];

	snprintf(url, sizeof url, "%s%s", sim_base_url(), path);
	rq.method = method;
	rq.url = url;
	rq.body = body;
	rq.body_len = body != NULL ? strlen(body) : 0;
	rq.headers = body != NULL ? json_hdr : NULL;
	if (http_do(F.ctl, &rq, &rs) != 0)
		fail_msg("control %s %s: %s", method, path, rs.error);
	if (rs.status < 200 || rs.status > 299)
		fail_msg("control %s %s: %ld %s", method, path, rs.status, rs.body);
	http_response_free(&rs);
}

/* ---- journal as read back from disk ---------------------------------------------- */

/* Every record of the journal, copied into an array. */
static cJSON *
records(void)
{
	struct journal_reader *r = NULL;
	struct journal_record rec;
	cJSON *arr = cJSON_CreateArray();
	char err[512] = "";
	int rc;

	if (journal_open_read(journal_file(F.j), &r, err, sizeof err) != 0)
		fail_msg("journal_open_read: %s", err);
	while ((rc = journal_next(r, &rec, err, sizeof err)) == 1)
		cJSON_AddItemToArray(arr, cJSON_Duplicate(rec.json, 1));
	if (rc != 0)
		fail_msg("journal_next: %s", err);
	journal_close_read(r);
	return arr;
}

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v))
		fail_msg("record has no number %s", k);
	return v->valuedouble;
}

/* The Nth (0-based) intent about WHAT, or NULL. */
static const cJSON *
nth_intent(const cJSON *recs, const char *what, int n)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, recs) {
		if (strcmp(jstr(r, "type"), "intent") == 0 && strcmp(jstr(r, "what"), what) == 0
		    && n-- == 0)
			return r;
	}
	return NULL;
}

/* The outcome of INTENT, or NULL. */
static const cJSON *
outcome_of(const cJSON *recs, const cJSON *intent)
{
	const cJSON *r;
	double action = jnum(intent, "action");

	cJSON_ArrayForEach(r, recs) {
		if (strcmp(jstr(r, "type"), "outcome") == 0 && jnum(r, "action") == action)
			return r;
	}
	return NULL;
}

static int
count_type(const cJSON *recs, const char *type)
{
	const cJSON *r;
	int n = 0;

	cJSON_ArrayForEach(r, recs)
		n += strcmp(jstr(r, "type"), type) == 0;
	return n;
}

/* The intent line is on disk, before its outcome, and closed by it. */
static const cJSON *
assert_intent_then_outcome(const cJSON *recs, const cJSON *in, int ok)
{
	const cJSON *out;

	assert_non_null(in);
	out = outcome_of(recs, in);
	if (out == NULL)
		fail_msg("intent %s (seq %.0f) has no outcome", jstr(in, "what"), jnum(in, "seq"));
	assert_true(jnum(in, "seq") < jnum(out, "seq"));
	assert_int_equal(jnum(in, "seq"), jnum(in, "action"));
	assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out, "ok")), ok);
	return out;
}

/* ---- ARM as the test sees it ----------------------------------------------------- */

static cJSON *
gw_snapshot(struct appgw_weights *w)
{
	cJSON *gw = NULL, *snap;
	char err[1024] = "";

	if (appgw_get(F.sc.arm, F.gw_id, NULL, &gw, NULL, 0, err, sizeof err) != 0)
		fail_msg("GET gateway: %s", err);
	if (w != NULL && appgw_weights(gw, &F.tg, w, err, sizeof err) != 0)
		fail_msg("weights: %s", err);
	snap = appgw_snapshot(gw, F.tg.rule, err, sizeof err);
	cJSON_Delete(gw);
	assert_non_null(snap);
	return snap;
}

static void
assert_weights(int blue, int green)
{
	struct appgw_weights w;

	cJSON_Delete(gw_snapshot(&w));
	if (w.blue.weight != blue || w.green.weight != green)
		fail_msg("gateway: blue %d / green %d, expected %d / %d", w.blue.weight,
		    w.green.weight, blue, green);
}

static void
dns_now(struct pdns_record *rec)
{
	char err[1024] = "";

	if (pdns_get(F.sc.arm, F.dns_id, NULL, rec, NULL, err, sizeof err) != 0)
		fail_msg("GET record: %s", err);
}

static void
assert_dns(const char *ip)
{
	struct pdns_record rec;

	dns_now(&rec);
	assert_int_equal(rec.ntargets, 1);
	assert_string_equal(rec.targets[0], ip);
}

/* ---- fixture --------------------------------------------------------------------- */

/* Checks, while ARM is working on a PUT (progress after each poll), that
 * the journal on disk already holds the intent for it. */
static void
on_put(void *ctx, const struct arm_progress *p)
{
	struct fix *f = ctx;
	cJSON *recs;

	if (strcmp(p->method, "PUT") != 0)
		return;
	recs = records();
	f->puts_seen++;
	if (count_type(recs, "intent") < f->want_intents
	    || count_type(recs, "intent") <= count_type(recs, "outcome"))
		f->puts_bad++;
	cJSON_Delete(recs);
}

static struct arm_opts put_watch = { .progress = on_put, .progress_ctx = &F };

static void
open_traffic(void)
{
	char err[1024] = "";

	F.j = journal_open(JNAME, err, sizeof err);
	if (F.j == NULL)
		fail_msg("journal_open: %s", err);
	memset(&F.t, 0, sizeof F.t);
	F.t.arm = F.sc.arm;
	F.t.cfg = &F.cfg;
	F.t.gateway_id = F.gw_id;
	F.t.dns_id = F.dns_id;
	F.t.journal = F.j;
	F.t.arm_opts = &put_watch;
}

static int
setup(void **state)
{
	struct http_tls tls = { 0 };
	struct http_client_config hc = { 0 };
	char err[1024] = "", path[600];

	(void)state;
	memset(&F, 0, sizeof F);
	log_set_stream(stderr, getenv("BGSWITCH_TEST_LOG") != NULL ? LOG_DEBUG : LOG_OFF);
	snprintf(F.state, sizeof F.state, "%s/bgswitch-traffic.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(F.state));
	setenv("XDG_STATE_HOME", F.state, 1);
	simclient_start(&F.sc);
	tls.ca_file = F.sc.ca;
	hc.name = "sim-control";
	hc.tls = &tls;
	F.ctl = http_client_new(&hc, err, sizeof err);
	if (F.ctl == NULL)
		fail_msg("control client: %s", err);
	snprintf(path, sizeof path, "%s/bgswitch.yaml", F.sc.dir);
	if (cfg_load(path, &F.cfg, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_true(F.cfg.gateway.has_gateway);
	assert_true(F.cfg.dns.has_dns);
	snprintf(F.gw_id, sizeof F.gw_id, "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.Network/applicationGateways/%s", F.cfg.azure.subscription,
	    F.cfg.azure.resource_group, F.cfg.gateway.name);
	assert_int_equal(pdns_record_id(F.dns_id, sizeof F.dns_id, F.cfg.azure.subscription,
	    F.cfg.azure.resource_group, F.cfg.dns.zone, F.cfg.dns.type, F.cfg.dns.record), 0);
	F.tg.gateway_id = F.gw_id;
	F.tg.rule = F.cfg.gateway.rule;
	F.tg.blue_pool = F.cfg.gateway.blue_pool;
	F.tg.green_pool = F.cfg.gateway.green_pool;
	assert_string_equal(F.tg.rule, "rule-live-https");
	assert_string_equal(F.cfg.dns.blue_target, BLUE_IP);
	assert_string_equal(F.cfg.dns.green_target, GREEN_IP);
	open_traffic();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	journal_close(F.j);
	cfg_free(&F.cfg);
	http_client_free(F.ctl);
	simclient_stop(&F.sc);
	testlib_rmtree(F.state);
	unsetenv("XDG_STATE_HOME");
	return 0;
}

/* ---- 1. steps -------------------------------------------------------------------- */

static void
test_steps(void **state)
{
	static const int steps[] = { 10, 50, 100 };
	cJSON *pre[3], *recs;
	char err[1024] = "";

	(void)state;
	assert_weights(100, 0);
	for (int i = 0; i < 3; i++) {
		pre[i] = gw_snapshot(NULL);
		F.want_intents = i + 1;
		if (traffic_set_weights(&F.t, steps[i], err, sizeof err) != 0)
			fail_msg("step %d %%: %s", steps[i], err);
		assert_weights(100 - steps[i], steps[i]);
	}
	/* The intent was on disk while ARM ran every PUT. */
	assert_true(F.puts_seen >= 3);
	assert_int_equal(F.puts_bad, 0);

	recs = records();
	assert_int_equal(count_type(recs, "intent"), 3);
	assert_int_equal(count_type(recs, "outcome"), 3);
	for (int i = 0; i < 3; i++) {
		const cJSON *in = nth_intent(recs, "gateway-weights", i), *out;
		const cJSON *after;

		out = assert_intent_then_outcome(recs, in, 1);
		/* Its before is what the gateway had just before the step. */
		if (!cJSON_Compare(cJSON_GetObjectItemCaseSensitive(in, "before"), pre[i], 1))
			fail_msg("step %d: the journaled before is not the gateway's state", i);
		after = cJSON_GetObjectItemCaseSensitive(in, "after");
		assert_int_equal(jnum(after, "blue"), 100 - steps[i]);
		assert_int_equal(jnum(after, "green"), steps[i]);
		/* The outcome's after is what the next step found. */
		if (i + 1 < 3)
			assert_true(appgw_snapshot_equal(cJSON_GetObjectItemCaseSensitive(out, "after"),
			    pre[i + 1]));
		cJSON_Delete(pre[i]);
	}
	cJSON_Delete(recs);
}

/* ---- 2. DNS ---------------------------------------------------------------------- */

static void
test_dns_move(void **state)
{
	struct traffic_state s;
	struct pdns_record before;
	const cJSON *in, *out, *b;
	cJSON *recs;
	char err[1024] = "";

	(void)state;
	dns_now(&before);
	assert_string_equal(before.targets[0], BLUE_IP);
	if (traffic_move_dns(&F.t, CFG_GREEN, err, sizeof err) != 0)
		fail_msg("move DNS: %s", err);
	assert_dns(GREEN_IP);

	recs = records();
	in = nth_intent(recs, "dns-record", 0);
	out = assert_intent_then_outcome(recs, in, 1);
	b = cJSON_GetObjectItemCaseSensitive(in, "before");
	assert_string_equal(jstr(b, "etag"), before.etag);
	assert_string_equal(jstr(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(b, "properties"), "aRecords"), 0), "ipv4Address"),
	    BLUE_IP);
	assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(in, "after"), "pointsTo"),
	    "green");
	assert_string_equal(jstr(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(out, "after"),
	    "properties"), "aRecords"), 0), "ipv4Address"), GREEN_IP);
	cJSON_Delete(recs);

	if (traffic_observe(&F.t, &s, err, sizeof err) != 0)
		fail_msg("observe: %s", err);
	assert_true(s.has_dns);
	assert_string_equal(s.dns_points_to, "green");
	assert_true(s.has_gateway);
	assert_int_equal(s.weights.blue.weight, 100);
	assert_true(s.weights.green.share < 0.001);
}

/* ---- 3. rollback ----------------------------------------------------------------- */

static void
test_rollback(void **state)
{
	struct traffic_rollback_result res;
	struct traffic_state s;
	cJSON *pre, *now, *recs;
	const cJSON *in;
	char err[1024] = "";
	int nrec;

	(void)state;
	pre = gw_snapshot(NULL);
	assert_int_equal(traffic_set_weights(&F.t, 10, err, sizeof err), 0);
	assert_int_equal(traffic_set_weights(&F.t, 50, err, sizeof err), 0);
	if (traffic_move_dns(&F.t, CFG_GREEN, err, sizeof err) != 0)
		fail_msg("move DNS: %s", err);
	if (traffic_observe(&F.t, &s, err, sizeof err) != 0)
		fail_msg("observe: %s", err);
	assert_true(s.weights.green.share > 49.9 && s.weights.green.share < 50.1);

	F.want_intents = 0;
	if (traffic_rollback(&F.t, &res, err, sizeof err) != 0)
		fail_msg("rollback: %s", err);
	assert_int_equal(res.gateway_restored, 1);
	assert_int_equal(res.dns_restored, 1);
	assert_int_equal(res.reconciled, 0);
	assert_weights(100, 0);
	now = gw_snapshot(NULL);
	/* Exactly the journaled before: the policy's shape, not just 100/0. */
	assert_true(appgw_snapshot_equal(now, pre));
	cJSON_Delete(now);
	cJSON_Delete(pre);
	assert_dns(BLUE_IP);

	recs = records();
	in = nth_intent(recs, "gateway-restore", 0);
	assert_intent_then_outcome(recs, in, 1);
	/* The restore's before is the 50/50 state, its after the first before. */
	assert_true(appgw_snapshot_equal(cJSON_GetObjectItemCaseSensitive(in, "after"),
	    cJSON_GetObjectItemCaseSensitive(nth_intent(recs, "gateway-weights", 0), "before")));
	in = nth_intent(recs, "dns-restore", 0);
	assert_intent_then_outcome(recs, in, 1);
	/* DNS moved last, so it is put back first. */
	assert_true(jnum(in, "seq") < jnum(nth_intent(recs, "gateway-restore", 0), "seq"));
	nrec = cJSON_GetArraySize(recs);
	cJSON_Delete(recs);

	/* Twice: nothing to do, nothing written. */
	if (traffic_rollback(&F.t, &res, err, sizeof err) != 0)
		fail_msg("second rollback: %s", err);
	assert_int_equal(res.gateway_restored, 0);
	assert_int_equal(res.dns_restored, 0);
	recs = records();
	assert_int_equal(cJSON_GetArraySize(recs), nrec);
	cJSON_Delete(recs);
	assert_weights(100, 0);
	assert_dns(BLUE_IP);
}

/* ---- 4. drift -------------------------------------------------------------------- */

static void
test_drift(void **state)
{
	const cJSON *in, *out;
	cJSON *recs;
	char err[1024] = "";
	int rc;

	(void)state;
	if (traffic_set_weights(&F.t, 10, err, sizeof err) != 0)
		fail_msg("step 10 %%: %s", err);
	ctl_ok("POST", "/_sim/arm/gateways/agw-prod/bump-etag",
	    "{\"weights\":{\"pool-blue\":70,\"pool-green\":30}}");
	rc = traffic_set_weights(&F.t, 50, err, sizeof err);
	assert_int_equal(rc, APPGW_E_DRIFT);
	assert_contains(err, "drift");
	assert_contains(err, "nothing written");
	assert_weights(70, 30);		/* theirs, untouched */

	recs = records();
	in = nth_intent(recs, "gateway-weights", 1);
	out = assert_intent_then_outcome(recs, in, 0);
	assert_contains(jstr(out, "error"), "drift");
	/* The outcome records what the gateway shows, so the intent is not
	 * left "unknown" for resume. */
	assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(out, "after")));
	cJSON_Delete(recs);

	/* Drift stays drift on a retry (the operator decides), and rollback
	 * still gets back to blue alone. */
	assert_int_equal(traffic_set_weights(&F.t, 50, err, sizeof err), APPGW_E_DRIFT);
	assert_weights(70, 30);
	if (traffic_rollback(&F.t, NULL, err, sizeof err) != 0)
		fail_msg("rollback after drift: %s", err);
	assert_weights(100, 0);
}

/* ---- 5. no journal, no write ----------------------------------------------------- */

/* Makes the journal's descriptor write to /dev/full (ENOSPC): the disk
 * filling up under a running switchover. */
static void
break_journal(void)
{
	char link[300], target[PATH_MAX], real[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int full = open("/dev/full", O_WRONLY), done = 0;

	assert_non_null(d);
	assert_true(full >= 0);
	assert_non_null(realpath(journal_file(F.j), real));
	while ((de = readdir(d)) != NULL) {
		ssize_t n;

		snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
		n = readlink(link, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, real) == 0) {
			assert_true(dup2(full, atoi(de->d_name)) >= 0);
			done = 1;
		}
	}
	closedir(d);
	close(full);
	assert_true(done);
}

static void
test_journal_failure_blocks_write(void **state)
{
	struct traffic_rollback_result res;
	struct pdns_record before, after;
	char err[1024] = "";
	int rc;

	(void)state;
	dns_now(&before);
	break_journal();
	rc = traffic_set_weights(&F.t, 10, err, sizeof err);
	assert_int_equal(rc, TRAFFIC_E_JOURNAL);
	assert_contains(err, "not changed");
	rc = traffic_move_dns(&F.t, CFG_GREEN, err, sizeof err);
	assert_int_equal(rc, TRAFFIC_E_JOURNAL);
	assert_int_equal(F.puts_seen, 0);
	assert_weights(100, 0);
	dns_now(&after);
	assert_string_equal(after.targets[0], BLUE_IP);
	assert_string_equal(after.etag, before.etag);	/* not even rewritten as is */
	/* Nothing was journaled, so rollback has nothing to put back. */
	assert_int_equal(traffic_rollback(&F.t, &res, err, sizeof err), 0);
	assert_int_equal(res.gateway_restored + res.dns_restored, 0);
}

/* ---- 6. resume after a crash ----------------------------------------------------- */

static void
test_resume_after_crash(void **state)
{
	struct traffic_rollback_result res;
	struct journal_view v;
	struct appgw_change ch;
	struct pdns_change dc;
	const char *green = GREEN_IP;
	cJSON *pre, *mid, *plan, *dpre, *body = NULL, *recs;
	struct pdns_record rec;
	uint64_t action;
	char err[1024] = "", path[600];

	(void)state;
	pre = gw_snapshot(NULL);
	/* The crashed run: one step completed, the next journaled and sent, and
	 * the process gone before the outcome; the DNS the same. */
	assert_int_equal(traffic_set_weights(&F.t, 10, err, sizeof err), 0);
	mid = gw_snapshot(NULL);
	plan = cJSON_Parse("{\"blue\":50,\"green\":50}");
	assert_int_equal(journal_intent(F.j, "gateway-weights", mid, plan, &action, err,
	    sizeof err), 0);
	if (appgw_set_weights(F.sc.arm, &F.tg, 50, 50, mid, NULL, &ch, err, sizeof err) != 0)
		fail_msg("set_weights: %s", err);
	appgw_change_free(&ch);
	assert_int_equal(pdns_get(F.sc.arm, F.dns_id, NULL, &rec, &body, err, sizeof err), 0);
	dpre = pdns_record_json(body, rec.etag);
	cJSON_Delete(body);
	cJSON_Delete(plan);
	plan = cJSON_Parse("{\"targets\":[\"" GREEN_IP "\"],\"ttl\":0,\"pointsTo\":\"green\"}");
	assert_int_equal(journal_intent(F.j, "dns-record", dpre, plan, &action, err, sizeof err), 0);
	if (pdns_set_targets(F.sc.arm, F.dns_id, &green, 1, 0, rec.etag, NULL, &dc, err,
	    sizeof err) != 0)
		fail_msg("set_targets: %s", err);
	pdns_change_free(&dc);
	cJSON_Delete(plan);
	cJSON_Delete(dpre);
	cJSON_Delete(mid);
	journal_close(F.j);

	/* A fresh process: a new journal handle (a new run) and traffic. */
	open_traffic();
	snprintf(path, sizeof path, "%s", journal_file(F.j));
	memset(&v, 0, sizeof v);
	assert_int_equal(journal_view_load(path, &v, err, sizeof err), 0);
	assert_int_equal(v.npending, 2);
	journal_view_free(&v);

	if (traffic_rollback(&F.t, &res, err, sizeof err) != 0)
		fail_msg("rollback: %s", err);
	assert_int_equal(res.reconciled, 2);
	assert_int_equal(res.gateway_restored, 1);
	assert_int_equal(res.dns_restored, 1);
	assert_weights(100, 0);		/* the first before, not the 90/10 in between */
	mid = gw_snapshot(NULL);
	assert_true(appgw_snapshot_equal(mid, pre));
	cJSON_Delete(mid);
	cJSON_Delete(pre);
	assert_dns(BLUE_IP);

	/* The crashed intents are closed (found applied), nothing pending. */
	memset(&v, 0, sizeof v);
	assert_int_equal(journal_view_load(path, &v, err, sizeof err), 0);
	assert_int_equal(v.npending, 0);
	journal_view_free(&v);
	recs = records();
	assert_intent_then_outcome(recs, nth_intent(recs, "gateway-weights", 1), 1);
	assert_intent_then_outcome(recs, nth_intent(recs, "dns-record", 0), 1);
	cJSON_Delete(recs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drift, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_failure_blocks_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_after_crash, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
