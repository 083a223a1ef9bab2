/*
 * test_provision.c — T1's green and T4's teardown (src/provision.c)
 * against the simulator started in-process, with a real journal on disk.
 *
 * Each test gets a fresh default world (blue aks-prod-blue running 1.29.7,
 * green aks-prod-green not created; speed 100, so a create of 300
 * simulated seconds takes 3 s) and its own XDG_STATE_HOME.  What is
 * checked is what PRODUCT.md §6 and the module promise: the intent is on
 * disk before ARM sees the write, green is created exactly once however
 * often prov_green runs (counted as operations on green in the
 * simulator's /_sim/arm/operations), a crash between intent and outcome is
 * closed from what ARM shows, and nothing is written when nothing needs
 * doing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "azure/aks.h"
#include "sim/sim.h"
#include "src/config.h"
#include "src/conn.h"
#include "src/http.h"
#include "src/journal.h"
#include "src/log.h"
#include "src/provision.h"
#include "tests/lib/simclient.h"
#include "tests/lib/testenv.h"

#define JNAME	"provision-test"
#define BLUE	"aks-prod-blue"
#define GREEN	"aks-prod-green"

#define assert_contains(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	if (h_ == NULL || strstr(h_, n_) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", h_ != NULL ? h_ : "(null)", n_); \
} while (0)

struct fix {
	struct simclient sc;
	struct http_client *ctl;	/* the simulator's control endpoint */
	struct cfg cfg;
	struct conn conn;
	char state[256];		/* XDG_STATE_HOME */
	char tmp[256];			/* scripts */
	struct journal *j;
	struct prov_ctx p;
	char log[32768];		/* every line the module said */
	int puts_seen;			/* PUT progress callbacks */
	int puts_bad;			/* ... at which the journal lacked the intent */
};

static struct fix F;

/* ---- control endpoint ------------------------------------------------------------ */

/* METHOD PATH with BODY; the answer's body, parsed (NULL when not JSON). */
static cJSON *
ctl(const char *method, const char *path, const char *body)
{
	static const char *const json_hdr[] = { "Content-Type: application/json", NULL };
	struct http_request rq = { 0 };
	struct http_response rs;
	char url[700];
	cJSON *j;

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
	j = cJSON_ParseWithLength(rs.body, rs.body_len);
	http_response_free(&rs);
	return j;
}

/* How many long-running operations ARM ran on cluster NAME (creates,
 * updates, deletes, stops): every write the module made to it. */
static int
ops_on(const char *name)
{
	cJSON *ops = ctl("GET", "/_sim/arm/operations", NULL), *op;
	const char *want = strcmp(name, GREEN) == 0 ? F.conn.cluster_id[CFG_GREEN]
	    : F.conn.cluster_id[CFG_BLUE];
	int n = 0;

	assert_true(cJSON_IsArray(ops));
	cJSON_ArrayForEach(op, ops) {
		const cJSON *rid = cJSON_GetObjectItemCaseSensitive(op, "resourceId");

		n += cJSON_IsString(rid) && strcasecmp(rid->valuestring, want) == 0;
	}
	cJSON_Delete(ops);
	return n;
}

/* ---- journal as read back from disk ---------------------------------------------- */

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

static int
nrecords(void)
{
	cJSON *r = records();
	int n = cJSON_GetArraySize(r);

	cJSON_Delete(r);
	return n;
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

static const cJSON *
jobj(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static int
count(const cJSON *recs, const char *type, const char *what)
{
	const cJSON *r;
	int n = 0;

	cJSON_ArrayForEach(r, recs)
		n += strcmp(jstr(r, "type"), type) == 0
		    && (what == NULL || (jstr(r, "what") != NULL && strcmp(jstr(r, "what"), what) == 0));
	return n;
}

static const cJSON *
nth_intent(const cJSON *recs, const char *what, int n)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, recs)
		if (strcmp(jstr(r, "type"), "intent") == 0 && strcmp(jstr(r, "what"), what) == 0
		    && n-- == 0)
			return r;
	return NULL;
}

/* The outcome of INTENT: after it in the file, closing it with OK. */
static const cJSON *
outcome_of(const cJSON *recs, const cJSON *in, int ok)
{
	const cJSON *r;

	assert_non_null(in);
	cJSON_ArrayForEach(r, recs) {
		if (strcmp(jstr(r, "type"), "outcome") == 0 && jnum(r, "action") == jnum(in, "action")) {
			assert_true(jnum(in, "seq") < jnum(r, "seq"));
			if (cJSON_IsTrue(jobj(r, "ok")) != ok)
				fail_msg("outcome of %s: ok is %d, expected %d (error: %s)", jstr(in, "what"),
				    !ok, ok, jstr(r, "error") ? jstr(r, "error") : "-");
			return r;
		}
	}
	fail_msg("intent %s (seq %.0f) has no outcome", jstr(in, "what"), jnum(in, "seq"));
	return NULL;
}

static size_t
npending(void)
{
	struct journal_view v;
	char err[512] = "";
	size_t n;

	if (journal_view_load(journal_file(F.j), &v, err, sizeof err) != 0)
		fail_msg("journal_view_load: %s", err);
	n = v.npending;
	journal_view_free(&v);
	return n;
}

/* ---- fixture --------------------------------------------------------------------- */

static void
on_log(void *ctx, const char *line)
{
	struct fix *f = ctx;
	size_t l = strlen(f->log);

	snprintf(f->log + l, sizeof f->log - l, "%s\n", line);
}

/* While ARM works on a PUT (progress after each poll), the journal on disk
 * must already hold its intent, without an outcome. */
static void
on_put(void *ctx, const struct arm_progress *pr)
{
	struct fix *f = ctx;
	cJSON *recs;

	if (strcmp(pr->method, "PUT") != 0)
		return;
	recs = records();
	f->puts_seen++;
	if (count(recs, "intent", "cluster-create") < 1
	    || count(recs, "intent", NULL) <= count(recs, "outcome", NULL))
		f->puts_bad++;
	cJSON_Delete(recs);
}

static struct arm_opts put_watch = { .progress = on_put, .progress_ctx = &F };

static void
open_journal(void)
{
	char err[1024] = "";

	F.j = journal_open(JNAME, err, sizeof err);
	if (F.j == NULL)
		fail_msg("journal_open: %s", err);
	F.p.journal = F.j;
}

static int
setup(void **state)
{
	struct http_tls tls = { 0 };
	struct http_client_config hc = { 0 };
	char err[1024] = "", path[600];
	const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";

	(void)state;
	memset(&F, 0, sizeof F);
	log_set_stream(stderr, getenv("BGSWITCH_TEST_LOG") != NULL ? LOG_DEBUG : LOG_OFF);
	snprintf(F.state, sizeof F.state, "%s/bgswitch-prov.XXXXXX", tmp);
	assert_non_null(mkdtemp(F.state));
	snprintf(F.tmp, sizeof F.tmp, "%s/bgswitch-prov-sh.XXXXXX", tmp);
	assert_non_null(mkdtemp(F.tmp));
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
	assert_string_equal(F.cfg.clusters[CFG_BLUE].name, BLUE);
	assert_string_equal(F.cfg.clusters[CFG_GREEN].name, GREEN);
	assert_string_equal(F.cfg.clusters[CFG_GREEN].kubernetes_version, "1.30.5");
	assert_int_equal(F.cfg.provision.mode, CFG_PROVISION_ARM_CLONE);
	/* The connection the engine would make, on the test's ARM client. */
	F.conn.cfg = &F.cfg;
	F.conn.arm = F.sc.arm;
	for (int r = 0; r < 2; r++)
		assert_int_equal(aks_cluster_id(F.conn.cluster_id[r], sizeof F.conn.cluster_id[r],
		    F.cfg.azure.subscription, F.cfg.azure.resource_group, F.cfg.clusters[r].name), 0);
	F.p.conn = &F.conn;
	F.p.log = on_log;
	F.p.log_ctx = &F;
	F.p.poll_ms = 50;
	F.p.wait_ms = 20000;
	F.p.command_timeout_ms = 10000;
	open_journal();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	journal_close(F.j);
	/* Commands the tests set point at their own arrays. */
	F.cfg.provision.command = NULL;
	F.cfg.teardown.command = NULL;
	cfg_free(&F.cfg);
	http_client_free(F.ctl);
	simclient_stop(&F.sc);
	testlib_rmtree(F.state);
	testlib_rmtree(F.tmp);
	unsetenv("XDG_STATE_HOME");
	return 0;
}

static void
set_green_version(const char *v)
{
	free(F.cfg.clusters[CFG_GREEN].kubernetes_version);
	F.cfg.clusters[CFG_GREEN].kubernetes_version = v != NULL ? strdup(v) : NULL;
}

/* GET cluster ID: its summary (*S, freed by the caller), or the rc. */
static int
get(enum cfg_role role, struct aks_summary *s)
{
	char err[1024] = "";

	return aks_get(F.sc.arm, F.conn.cluster_id[role], NULL, NULL, s, err, sizeof err);
}

/* Writes an executable sh script NAME with BODY into the temp dir. */
static void
script(const char *name, const char *body, char *path, size_t n)
{
	FILE *fp;

	snprintf(path, n, "%s/%s", F.tmp, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "#!/bin/sh\n%s\n", body);
	fclose(fp);
	assert_int_equal(chmod(path, 0700), 0);
}

/* ---- 1. arm-clone: created exactly once ------------------------------------------ */

static void
test_clone_creates_once(void **state)
{
	struct aks_summary g;
	cJSON *recs;
	const cJSON *in, *out, *props;
	char err[2048] = "";
	int n;

	(void)state;
	assert_int_equal(get(CFG_GREEN, &g), AKS_E_NOT_FOUND);
	F.p.arm_opts = &put_watch;
	if (prov_green(&F.p, &g, err, sizeof err) != 0)
		fail_msg("prov_green: %s", err);
	assert_string_equal(g.name, GREEN);
	assert_string_equal(g.provisioning_state, "Succeeded");
	assert_string_equal(g.current_kubernetes_version, "1.30.5");
	assert_true(g.npools == 2);
	aks_summary_free(&g);
	assert_int_equal(ops_on(GREEN), 1);
	assert_int_equal(ops_on(BLUE), 0);
	/* The intent was on disk for every poll of the PUT. */
	assert_true(F.puts_seen > 0);
	assert_int_equal(F.puts_bad, 0);

	recs = records();
	assert_int_equal(count(recs, "intent", NULL), 1);
	in = nth_intent(recs, "cluster-create", 0);
	assert_non_null(in);
	assert_string_equal(jstr(jobj(in, "before"), "id"), F.conn.cluster_id[CFG_GREEN]);
	assert_true(cJSON_IsFalse(jobj(jobj(in, "before"), "exists")));
	/* The after is the PUT body: blue's spec with green's name and version. */
	props = jobj(jobj(in, "after"), "properties");
	assert_string_equal(jstr(props, "kubernetesVersion"), "1.30.5");
	assert_string_equal(jstr(props, "dnsPrefix"), GREEN);
	assert_null(jobj(props, "provisioningState"));
	out = outcome_of(recs, in, 1);
	assert_string_equal(jstr(jobj(out, "after"), "provisioningState"), "Succeeded");
	assert_string_equal(jstr(jobj(out, "after"), "kubernetesVersion"), "1.30.5");
	assert_string_equal(jstr(jobj(out, "after"), "id"), F.conn.cluster_id[CFG_GREEN]);
	n = cJSON_GetArraySize(recs);
	cJSON_Delete(recs);
	assert_int_equal(npending(), 0);
	assert_contains(F.log, "creating green " GREEN " (Kubernetes 1.30.5)");
	assert_contains(F.log, "green " GREEN " created");

	/* Again: reused as it is, no write to ARM, nothing journaled. */
	F.log[0] = '\0';
	if (prov_green(&F.p, NULL, err, sizeof err) != 0)
		fail_msg("prov_green again: %s", err);
	assert_contains(F.log, "green " GREEN " already exists (version 1.30.5), not created again");
	assert_int_equal(ops_on(GREEN), 1);
	assert_int_equal(nrecords(), n);

	/* "1.30" asks for any 1.30 patch. */
	set_green_version("1.30");
	assert_int_equal(prov_green(&F.p, NULL, err, sizeof err), 0);
	/* Another version: refused, never modified. */
	set_green_version("1.31.3");
	assert_int_equal(prov_green(&F.p, NULL, err, sizeof err), PROV_E_STATE);
	assert_contains(err, "runs Kubernetes 1.30.5");
	assert_contains(err, "clusters.green.kubernetes_version is 1.31.3");
	assert_contains(err, "never modifies an existing cluster");
	set_green_version("1.30.3");
	assert_int_equal(prov_green(&F.p, NULL, err, sizeof err), PROV_E_STATE);
	assert_int_equal(ops_on(GREEN), 1);
	assert_int_equal(nrecords(), n);
}

/* ---- 2. a crash between intent and outcome ---------------------------------------- */

/* What a crashed run left: the intent on disk and, when PUT, the create
 * sent to ARM (not waited for); then a new process with a new journal
 * handle. */
static void
crash_during_create(int put)
{
	struct arm_opts nw = { .no_wait = 1 };
	struct aks_summary bs, gs;
	cJSON *blue = NULL, *spec, *before;
	char err[2048] = "";
	uint64_t action;

	assert_int_equal(aks_get(F.sc.arm, F.conn.cluster_id[CFG_BLUE], NULL, &blue, &bs, err,
	    sizeof err), 0);
	spec = aks_clone_spec(blue, GREEN, "1.30.5", NULL, 0, err, sizeof err);
	assert_non_null(spec);
	before = cJSON_CreateObject();
	cJSON_AddStringToObject(before, "id", F.conn.cluster_id[CFG_GREEN]);
	cJSON_AddFalseToObject(before, "exists");
	assert_int_equal(journal_intent(F.j, "cluster-create", before, spec, &action, err,
	    sizeof err), 0);
	if (put && aks_create_or_update(F.sc.arm, F.conn.cluster_id[CFG_GREEN], spec, &nw, &gs,
	    err, sizeof err) != 0)
		fail_msg("create: %s", err);
	if (put)
		aks_summary_free(&gs);
	aks_summary_free(&bs);
	cJSON_Delete(blue);
	cJSON_Delete(spec);
	cJSON_Delete(before);
	journal_close(F.j);
	open_journal();
}

/* Reconciles the journal's pending intents, as the engine does on resume. */
static void
reconcile(void)
{
	struct journal_view v;
	char err[1024] = "";

	assert_int_equal(journal_view_load(journal_file(F.j), &v, err, sizeof err), 0);
	if (prov_reconcile(&F.p, v.pending, v.npending, err, sizeof err) != 0)
		fail_msg("prov_reconcile: %s", err);
	journal_view_free(&v);
}

static void
test_crash_reconcile_resume(void **state)
{
	struct aks_summary g;
	cJSON *recs, *plan = cJSON_CreateObject();
	const cJSON *in, *out;
	char err[2048] = "";
	uint64_t foreign;

	(void)state;
	/* A traffic intent is someone else's: left pending. */
	cJSON_AddNumberToObject(plan, "green", 10);
	assert_int_equal(journal_intent(F.j, "gateway-weights", plan, plan, &foreign, err,
	    sizeof err), 0);
	cJSON_Delete(plan);

	/* Crashed after the intent, before the PUT: ARM has no green. */
	crash_during_create(0);
	assert_int_equal(npending(), 2);
	reconcile();
	assert_int_equal(npending(), 1);
	recs = records();
	out = outcome_of(recs, nth_intent(recs, "cluster-create", 0), 0);
	assert_true(cJSON_IsFalse(jobj(jobj(out, "after"), "exists")));
	assert_contains(jstr(out, "error"), "not created");
	cJSON_Delete(recs);
	assert_contains(F.log, "ARM shows cluster " GREEN " not created");

	/* Crashed after the PUT: green is Creating. */
	crash_during_create(1);
	assert_int_equal(get(CFG_GREEN, &g), 0);
	assert_string_equal(g.provisioning_state, "Creating");
	aks_summary_free(&g);
	reconcile();
	assert_int_equal(npending(), 1);
	recs = records();
	in = nth_intent(recs, "cluster-create", 1);
	out = outcome_of(recs, in, 1);
	assert_string_equal(jstr(jobj(out, "after"), "provisioningState"), "Creating");
	cJSON_Delete(recs);
	/* A second reconcile has nothing of ours left to close. */
	reconcile();
	assert_int_equal(npending(), 1);

	/* The resumed T1 waits for that create and takes it: no second PUT. */
	F.log[0] = '\0';
	if (prov_green(&F.p, &g, err, sizeof err) != 0)
		fail_msg("prov_green: %s", err);
	assert_string_equal(g.provisioning_state, "Succeeded");
	aks_summary_free(&g);
	assert_contains(F.log, "green " GREEN " is Creating; waiting for it to finish");
	assert_contains(F.log, "not created again");
	assert_int_equal(ops_on(GREEN), 1);
	recs = records();
	assert_int_equal(count(recs, "intent", "cluster-create"), 2);
	cJSON_Delete(recs);
}

/* ---- 3. cancelled while ARM creates ----------------------------------------------- */

static volatile int stop_flag;

/* Sets the cancel flag at the first poll of the create. */
static void
cancel_on_put(void *ctx, const struct arm_progress *pr)
{
	(void)ctx;
	if (strcmp(pr->method, "PUT") == 0)
		stop_flag = 1;
}

static void
test_cancel_mid_create(void **state)
{
	struct arm_opts o = { .progress = cancel_on_put };
	struct aks_summary g;
	cJSON *recs;
	const cJSON *out;
	char err[2048] = "";
	int rc;

	(void)state;
	stop_flag = 0;
	F.p.cancel = &stop_flag;
	F.p.arm_opts = &o;
	rc = prov_green(&F.p, NULL, err, sizeof err);
	assert_int_equal(rc, ARM_E_CANCELLED);
	assert_contains(err, "cancelled");
	/* The create went on in Azure, and the outcome says so. */
	recs = records();
	out = outcome_of(recs, nth_intent(recs, "cluster-create", 0), 0);
	assert_string_equal(jstr(jobj(out, "after"), "provisioningState"), "Creating");
	cJSON_Delete(recs);
	assert_int_equal(npending(), 0);

	/* Still cancelled: the wait stops at once, nothing written. */
	rc = prov_green(&F.p, NULL, err, sizeof err);
	assert_int_equal(rc, PROV_E_CANCELLED);
	assert_contains(err, "stopped waiting (cancelled) while it was Creating");

	/* Resumed: waits for the create, takes it, no second PUT. */
	stop_flag = 0;
	F.p.arm_opts = NULL;
	if (prov_green(&F.p, &g, err, sizeof err) != 0)
		fail_msg("prov_green: %s", err);
	assert_string_equal(g.provisioning_state, "Succeeded");
	aks_summary_free(&g);
	assert_int_equal(ops_on(GREEN), 1);
	recs = records();
	assert_int_equal(count(recs, "intent", NULL), 1);
	cJSON_Delete(recs);

	/* Stopped behind our back: refused, not started. */
	assert_int_equal(aks_stop(F.sc.arm, F.conn.cluster_id[CFG_GREEN], NULL, err, sizeof err), 0);
	assert_int_equal(prov_green(&F.p, NULL, err, sizeof err), PROV_E_STATE);
	assert_contains(err, "is stopped");
	assert_int_equal(ops_on(GREEN), 2);	/* the test's own stop */
}

/* ---- 4. ARM fails the create --------------------------------------------------------- */

static void
test_create_fails(void **state)
{
	struct aks_summary g;
	cJSON *recs, *f;
	const cJSON *out;
	char err[2048] = "";
	int rc;

	(void)state;
	f = ctl("POST", "/_sim/faults", "{\"fail_cluster_create\":1}");
	cJSON_Delete(f);
	rc = prov_green(&F.p, &g, err, sizeof err);
	assert_int_equal(rc, ARM_E_OPERATION);
	/* ARM's own words. */
	assert_contains(err, "VMExtensionProvisioningError");
	assert_contains(err, "Unable to establish outbound connection from agents");
	recs = records();
	out = outcome_of(recs, nth_intent(recs, "cluster-create", 0), 0);
	assert_string_equal(jstr(jobj(out, "after"), "provisioningState"), "Failed");
	assert_contains(jstr(out, "error"), "VMExtensionProvisioningError");
	cJSON_Delete(recs);
	/* Observed, so not pending: a resume need not ask ARM again. */
	assert_int_equal(npending(), 0);
	assert_int_equal(ops_on(GREEN), 1);

	/* The Failed green is the operator's to delete, not ours to retry. */
	assert_int_equal(prov_green(&F.p, NULL, err, sizeof err), PROV_E_STATE);
	assert_contains(err, "green " GREEN " exists but its provisioningState is Failed");
	assert_contains(err, "az aks delete -g rg-aks-prod -n " GREEN);
	assert_int_equal(ops_on(GREEN), 1);
	recs = records();
	assert_int_equal(count(recs, "intent", NULL), 1);
	cJSON_Delete(recs);
}

/* ---- 5. command mode ------------------------------------------------------------------ */

static void
test_command_mode(void **state)
{
	char fail_sh[300], ok_sh[300], err[2048] = "";
	char *fail_argv[] = { fail_sh, "--var", "client_secret=hunter2", NULL };
	char *ok_argv[] = { "sh", ok_sh, NULL };
	struct aks_summary g;
	cJSON *recs;
	const cJSON *in, *out;
	FILE *fp;
	char text[65536];
	size_t len;

	(void)state;
	script("fail.sh", "echo \"planning with $2\"; echo 'Error: quota exceeded' >&2; exit 3",
	    fail_sh, sizeof fail_sh);
	script("ok.sh", "echo applying; echo 'apply complete'", ok_sh, sizeof ok_sh);
	F.cfg.provision.mode = CFG_PROVISION_COMMAND;

	/* Exit 3: an error naming program, status and last line. */
	F.cfg.provision.command = fail_argv;
	assert_int_equal(prov_green(&F.p, NULL, err, sizeof err), PROV_E_COMMAND);
	assert_contains(err, "provision command failed");
	assert_contains(err, "fail.sh exited with status 3: Error: quota exceeded");
	assert_contains(F.log, "fail.sh: planning with client_secret=***");
	recs = records();
	in = nth_intent(recs, "provision-command", 0);
	assert_non_null(in);
	assert_true(cJSON_IsFalse(jobj(jobj(in, "before"), "exists")));
	assert_string_equal(jstr(jobj(in, "before"), "id"), F.conn.cluster_id[CFG_GREEN]);
	assert_string_equal(jstr(jobj(in, "after"), "program"), fail_sh);
	assert_int_equal(jnum(jobj(in, "after"), "args"), 2);
	out = outcome_of(recs, in, 0);
	assert_true(cJSON_IsFalse(jobj(jobj(out, "after"), "exists")));
	cJSON_Delete(recs);
	/* The arguments never reach the journal. */
	fp = fopen(journal_file(F.j), "r");
	assert_non_null(fp);
	len = fread(text, 1, sizeof text - 1, fp);
	fclose(fp);
	text[len] = '\0';
	assert_null(strstr(text, "hunter2"));
	assert_null(strstr(text, "--var"));

	/* Exit 0, but ARM has no green. */
	F.cfg.provision.command = ok_argv;
	assert_int_equal(prov_green(&F.p, NULL, err, sizeof err), PROV_E_MISSING);
	assert_string_equal(err, "the provision command exited 0 but ARM has no cluster " GREEN
	    " in rg-aks-prod");
	recs = records();
	out = outcome_of(recs, nth_intent(recs, "provision-command", 1), 0);
	assert_true(cJSON_IsFalse(jobj(jobj(out, "after"), "exists")));
	cJSON_Delete(recs);

	/* Green made beforehand (the sim's ARM is what an IaC tool would
	 * call): the command runs, and green is found. */
	F.cfg.provision.mode = CFG_PROVISION_ARM_CLONE;
	assert_int_equal(prov_green(&F.p, NULL, err, sizeof err), 0);
	F.cfg.provision.mode = CFG_PROVISION_COMMAND;
	F.log[0] = '\0';
	if (prov_green(&F.p, &g, err, sizeof err) != 0)
		fail_msg("prov_green (command): %s", err);
	assert_string_equal(g.provisioning_state, "Succeeded");
	aks_summary_free(&g);
	assert_contains(F.log, "running the provision command sh (1 argument)");
	assert_contains(F.log, "sh: applying\n");
	assert_contains(F.log, "sh: apply complete\n");
	recs = records();
	in = nth_intent(recs, "provision-command", 2);
	assert_true(cJSON_IsTrue(jobj(jobj(in, "before"), "exists")));
	assert_string_equal(jstr(jobj(in, "after"), "program"), "sh");
	assert_int_equal(jnum(jobj(in, "after"), "args"), 1);
	out = outcome_of(recs, in, 1);
	assert_string_equal(jstr(jobj(out, "after"), "provisioningState"), "Succeeded");
	cJSON_Delete(recs);
	assert_int_equal(ops_on(GREEN), 1);
	assert_int_equal(npending(), 0);
}

/* ---- 6. teardown ----------------------------------------------------------------------- */

static void
test_teardown_delete(void **state)
{
	struct aks_summary b;
	cJSON *recs;
	const cJSON *in, *out;
	char err[2048] = "";
	int n;

	(void)state;
	assert_int_equal(F.cfg.teardown.mode, CFG_TEARDOWN_DELETE);
	if (prov_teardown(&F.p, err, sizeof err) != 0)
		fail_msg("prov_teardown: %s", err);
	assert_int_equal(get(CFG_BLUE, &b), AKS_E_NOT_FOUND);
	recs = records();
	in = nth_intent(recs, "cluster-delete", 0);
	assert_non_null(in);
	assert_string_equal(jstr(jobj(in, "before"), "id"), F.conn.cluster_id[CFG_BLUE]);
	assert_string_equal(jstr(jobj(in, "before"), "name"), BLUE);
	assert_string_equal(jstr(jobj(in, "before"), "provisioningState"), "Succeeded");
	assert_string_equal(jstr(jobj(in, "before"), "powerState"), "Running");
	assert_true(cJSON_IsFalse(jobj(jobj(in, "after"), "exists")));
	out = outcome_of(recs, in, 1);
	assert_true(cJSON_IsFalse(jobj(jobj(out, "after"), "exists")));
	n = cJSON_GetArraySize(recs);
	cJSON_Delete(recs);
	assert_contains(F.log, "blue " BLUE " deleted");

	/* Again: gone, nothing to do, nothing written. */
	F.log[0] = '\0';
	assert_int_equal(prov_teardown(&F.p, err, sizeof err), 0);
	assert_contains(F.log, "blue " BLUE " is gone: nothing to delete");
	assert_int_equal(nrecords(), n);
	assert_int_equal(ops_on(BLUE), 1);

	/* A delete intent left by a crash is closed with "gone". */
	{
		cJSON *before = cJSON_CreateObject(), *after = cJSON_CreateObject();
		uint64_t a;

		cJSON_AddStringToObject(before, "id", F.conn.cluster_id[CFG_BLUE]);
		cJSON_AddFalseToObject(after, "exists");
		assert_int_equal(journal_intent(F.j, "cluster-delete", before, after, &a, err,
		    sizeof err), 0);
		cJSON_Delete(before);
		cJSON_Delete(after);
	}
	reconcile();
	assert_int_equal(npending(), 0);
	recs = records();
	out = outcome_of(recs, nth_intent(recs, "cluster-delete", 1), 1);
	assert_true(cJSON_IsFalse(jobj(jobj(out, "after"), "exists")));
	cJSON_Delete(recs);
}

static void
test_teardown_stop(void **state)
{
	struct aks_summary b;
	cJSON *recs;
	const cJSON *in, *out;
	char err[2048] = "";
	int n;

	(void)state;
	F.cfg.teardown.mode = CFG_TEARDOWN_STOP;
	if (prov_teardown(&F.p, err, sizeof err) != 0)
		fail_msg("prov_teardown: %s", err);
	assert_int_equal(get(CFG_BLUE, &b), 0);
	assert_string_equal(b.power_state, "Stopped");
	aks_summary_free(&b);
	recs = records();
	in = nth_intent(recs, "cluster-stop", 0);
	assert_string_equal(jstr(jobj(in, "before"), "powerState"), "Running");
	assert_string_equal(jstr(jobj(in, "after"), "powerState"), "Stopped");
	out = outcome_of(recs, in, 1);
	assert_string_equal(jstr(jobj(out, "after"), "powerState"), "Stopped");
	n = cJSON_GetArraySize(recs);
	cJSON_Delete(recs);

	/* Already stopped: nothing. */
	F.log[0] = '\0';
	assert_int_equal(prov_teardown(&F.p, err, sizeof err), 0);
	assert_contains(F.log, "blue " BLUE " is already stopped");
	assert_int_equal(nrecords(), n);
	assert_int_equal(ops_on(BLUE), 1);

	/* A stop intent of a crashed run: ARM shows it stopped. */
	{
		cJSON *before = cJSON_CreateObject(), *after = cJSON_CreateObject();
		uint64_t a;

		cJSON_AddStringToObject(before, "id", F.conn.cluster_id[CFG_BLUE]);
		cJSON_AddStringToObject(after, "powerState", "Stopped");
		assert_int_equal(journal_intent(F.j, "cluster-stop", before, after, &a, err,
		    sizeof err), 0);
		cJSON_Delete(before);
		cJSON_Delete(after);
	}
	reconcile();
	assert_int_equal(npending(), 0);
	assert_contains(F.log, "ARM shows cluster " BLUE " stopped");
}

static void
test_teardown_keep_and_command(void **state)
{
	struct aks_summary b;
	char td_sh[300], err[2048] = "";
	char *argv[] = { td_sh, NULL };
	cJSON *recs;
	const cJSON *r, *in, *out;
	int n0;

	(void)state;
	n0 = nrecords();
	F.cfg.teardown.mode = CFG_TEARDOWN_KEEP;
	assert_int_equal(prov_teardown(&F.p, err, sizeof err), 0);
	recs = records();
	assert_int_equal(cJSON_GetArraySize(recs), n0 + 1);
	r = cJSON_GetArrayItem(recs, n0);
	assert_string_equal(jstr(r, "type"), "note");
	assert_string_equal(jstr(r, "text"), "teardown: keep, blue " BLUE " left running");
	cJSON_Delete(recs);
	assert_int_equal(get(CFG_BLUE, &b), 0);
	assert_string_equal(b.power_state, "Running");
	aks_summary_free(&b);
	assert_int_equal(ops_on(BLUE), 0);

	/* command: journaled like provision-command; its failure is an error. */
	script("teardown.sh", "echo 'archiving logs'; exit 0", td_sh, sizeof td_sh);
	F.cfg.teardown.mode = CFG_TEARDOWN_COMMAND;
	F.cfg.teardown.command = argv;
	if (prov_teardown(&F.p, err, sizeof err) != 0)
		fail_msg("prov_teardown (command): %s", err);
	assert_contains(F.log, "teardown.sh: archiving logs");
	recs = records();
	in = nth_intent(recs, "teardown-command", 0);
	assert_string_equal(jstr(jobj(in, "before"), "id"), F.conn.cluster_id[CFG_BLUE]);
	assert_int_equal(jnum(jobj(in, "after"), "args"), 0);
	out = outcome_of(recs, in, 1);
	assert_string_equal(jstr(jobj(out, "after"), "powerState"), "Running");
	cJSON_Delete(recs);
	script("teardown.sh", "echo 'no permission' >&2; exit 4", td_sh, sizeof td_sh);
	assert_int_equal(prov_teardown(&F.p, err, sizeof err), PROV_E_COMMAND);
	assert_contains(err, "teardown.sh exited with status 4: no permission");
	assert_int_equal(npending(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clone_creates_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_reconcile_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_mid_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_keep_and_command, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
