/*
 * eng_stages.c — the stage workers: what each state of the engine's table
 * does.  Each runs in its own thread (engine.c), reads the world before it
 * acts, journals before it changes anything, and returns where the table
 * should go next.
 *
 * Retrying: a change that fails for a reason that may pass (ARM answering
 * 5xx or not at all, throttling, a lost race on an ETag) is retried with
 * backoff and never counted as done; the stage does not advance while it
 * fails.  An answer that needs a person (someone else changed our rule,
 * a resource missing, a refused permission) stops the run with the state
 * kept, and the journal says exactly where.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azure/aks.h"
#include "azure/appgw.h"
#include "azure/metrics.h"
#include "azure/pdns.h"
#include "src/eng_internal.h"
#include "src/freeze.h"
#include "src/gitops.h"
#include "src/proc.h"
#include "src/provision.h"
#include "src/sync.h"
#include "src/util.h"

#define RETRY_MAX_MS	(30 * 1000L)		/* backoff cap between retries */
#define RETRY_GIVE_UP_MS (15 * 60 * 1000L)	/* a change still failing after this stops the run */
#define GITOPS_TIMEOUT_MS (30 * 60 * 1000L)
#define KUBE_UP_TIMEOUT_MS (10 * 60 * 1000L)
#define OP_TIMEOUT_MS	60000L

enum eng_state
eng_next_override(struct eng *e)
{
	enum eng_state s = e->next_state;

	e->next_state = ENG_NSTATES;
	return s;
}

static void
clock_text(long long wall_ms, char *buf, size_t n)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, n, "%H:%M:%S", &tm);
}

static void
log_line_cb(void *ctx, const char *line)
{
	eng_log(ctx, LOG_INFO, "%s", line);
}

static void
arm_progress_cb(void *ctx, const struct arm_progress *p)
{
	struct eng *e = ctx;
	int stage;

	pthread_mutex_lock(&e->mu);
	stage = e->m.stage;
	pthread_mutex_unlock(&e->mu);
	if (p->percent >= 0)
		eng_progress(e, stage, "%s %s: %s, %.0f %%, %.0f s", p->method, p->resource, p->status,
		    p->percent, p->elapsed_s);
	else
		eng_progress(e, stage, "%s %s: %s, %.0f s", p->method, p->resource, p->status, p->elapsed_s);
}

static void
eng_prov_ctx(struct eng *e, struct prov_ctx *p, struct arm_opts *ao)
{
	*ao = e->arm_opts;
	ao->progress = arm_progress_cb;
	ao->progress_ctx = e;
	memset(p, 0, sizeof *p);
	p->conn = &e->conn;
	p->journal = e->journal;
	p->arm_opts = ao;
	p->log = log_line_cb;
	p->log_ctx = e;
	/* Waits for ARM end at an abort (the operation goes on in Azure and
	 * a resumed run finds it); the team's command is not killed halfway
	 * through a change unless the abort is repeated. */
	p->cancel = (volatile int *)(e->cfg.provision.mode == CFG_PROVISION_COMMAND
	    || e->cfg.teardown.mode == CFG_TEARDOWN_COMMAND ? &e->hard_abort : &e->want_abort);
}

static long
backoff(struct eng *e, long *cur)
{
	long base = e->o.retry_ms > 0 ? e->o.retry_ms : 2000;
	long ms = *cur > 0 ? *cur : base;

	*cur = ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : ms * 2;
	return ms;
}

/*
 * Runs FN until it succeeds, retrying transient failures with backoff and
 * showing why.  ENG_R_NEXT on success, ENG_R_FAIL on a lasting failure
 * (reason set), or what interrupted the wait.
 */
typedef int (*attempt_fn)(struct eng *e, void *arg, char *err, size_t errlen);

static int
retrying(struct eng *e, int stage, const char *what, attempt_fn fn, void *arg, int flags)
{
	long long start = eng_wall_ms();
	long cur = 0;
	char err[1024];
	int rc;

	for (;;) {
		if ((rc = eng_interrupted(e, flags)) != ENG_R_NEXT)
			return rc;
		err[0] = '\0';
		rc = fn(e, arg, err, sizeof err);
		if (rc == 0)
			return ENG_R_NEXT;
		if (rc == TRAFFIC_E_JOURNAL)
			return eng_reason(e, ENG_R_FAIL, "%s: %s (the journal cannot be written; nothing more is "
			    "changed)", what, err);
		if (!eng_transient(rc) || eng_wall_ms() - start > RETRY_GIVE_UP_MS)
			return eng_reason(e, ENG_R_FAIL, "%s: %s", what, err);
		long ms = backoff(e, &cur);
		eng_progress(e, stage, "%s: retrying in %ld s: %s", what, (ms + 999) / 1000, err);
		eng_log(e, LOG_WARN, "%s failed, not advancing; retry in %ld ms: %s", what, ms, err);
		if ((rc = eng_sleep(e, ms, flags)) != ENG_R_NEXT)
			return rc;
	}
}

/* ---- T0 observe --------------------------------------------------------------------- */

static void
mark_done_before(struct eng *e, int upto)
{
	pthread_mutex_lock(&e->mu);
	for (int s = 0; s < upto && s < 5; s++)
		if (e->view.stage_done[s] && e->m.stages[s].state == ENG_STAGE_PENDING)
			e->m.stages[s].state = ENG_STAGE_DONE;
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
}

/* Closes "freeze"/"unfreeze" intents a crash left open, from what blue shows. */
static int
reconcile_freeze(struct eng *e)
{
	char err[512];

	for (size_t i = 0; i < e->view.npending; i++) {
		const struct journal_pending *p = &e->view.pending[i];
		int present = 0, want;
		cJSON *seen;

		if (strcmp(p->what, "freeze") != 0 && strcmp(p->what, "unfreeze") != 0)
			continue;
		if (!e->kube_ok[CFG_BLUE] || freeze_present(e->kube[CFG_BLUE].client, e->cfg.name, &present,
		    err, sizeof err) != 0)
			continue;	/* stays pending: unknown */
		want = strcmp(p->what, "freeze") == 0;
		seen = cJSON_CreateObject();
		cJSON_AddBoolToObject(seen, "present", present);
		if (journal_outcome(e->journal, p->action, present == want, seen,
		    present == want ? NULL : "found not applied when reconciled", err, sizeof err) != 0) {
			cJSON_Delete(seen);
			return eng_reason(e, ENG_R_FAIL, "journal: %s", err);
		}
		cJSON_Delete(seen);
	}
	return ENG_R_NEXT;
}

int
eng_st_observe(struct eng *e)
{
	struct prov_ctx pc;
	struct arm_opts ao;
	struct aks_summary blue;
	char err[1024];
	int closed = 0, rc;
	enum eng_state next;

	if (eng_stage_mark(e, 0, JOURNAL_ENTERED, e->resumed ? "resumed" : NULL) != 0)
		return ENG_R_FAIL;
	eng_progress(e, 0, "reading blue, green and traffic");

	/* A crash between an intent and its outcome: ask ARM and the
	 * clusters what became of it before anything else is decided. */
	if (e->view.npending > 0) {
		eng_log(e, LOG_INFO, "journal: %zu change(s) without an outcome; reconciling with ARM",
		    e->view.npending);
		if (traffic_reconcile(&e->traffic, e->view.pending, e->view.npending, &closed, err,
		    sizeof err) != 0)
			return eng_reason(e, ENG_R_FAIL, "journal: %s", err);
		eng_prov_ctx(e, &pc, &ao);
		if (prov_reconcile(&pc, e->view.pending, e->view.npending, err, sizeof err) != 0)
			eng_log(e, LOG_WARN, "reconcile: %s", err);
		if ((rc = reconcile_freeze(e)) != ENG_R_NEXT)
			return rc;
	}

	/* A 429 or 5xx on the first read must not fail an emergency
	 * rollback: transient answers are retried, as for every change. */
	for (long cur = 0, waited = 0;;) {
		long ms;

		memset(&blue, 0, sizeof blue);
		rc = aks_get(e->conn.arm, e->conn.cluster_id[CFG_BLUE], &e->arm_opts, NULL, &blue, err,
		    sizeof err);
		aks_summary_free(&blue);
		if (rc == 0 || rc == AKS_E_NOT_FOUND || !eng_transient(rc) || waited > 5 * 60000L)
			break;
		ms = backoff(e, &cur);
		eng_progress(e, 0, "reading blue: retrying in %ld s: %s", (ms + 999) / 1000, err);
		if ((rc = eng_sleep(e, ms, 0)) != ENG_R_NEXT)
			return rc;
		waited += ms;
	}
	if (rc == AKS_E_NOT_FOUND && !e->view.teardown_started && !e->o.rollback_only) {
		return eng_reason(e, ENG_R_FAIL, "blue %s does not exist in resource group %s%s",
		    e->cfg.clusters[CFG_BLUE].name, e->cfg.azure.resource_group,
		    e->view.has_run && e->view.result == JOURNAL_RESULT_DONE && e->view.ended
		    ? "; the last switchover ended done: green is live now, so make it blue in the config"
		    : "");
	}
	if (rc != 0 && rc != AKS_E_NOT_FOUND)
		return eng_reason(e, ENG_R_FAIL, "cannot read blue %s from ARM: %s",
		    e->cfg.clusters[CFG_BLUE].name, err);
	if (!e->kube_ok[CFG_BLUE] && rc == 0 && eng_kube_up(e, CFG_BLUE, err, sizeof err) != 0)
		eng_log(e, LOG_WARN, "blue: %s", err);
	/* Green's connection, when green exists already (a resumed run). */
	if (!e->kube_ok[CFG_GREEN]) {
		struct aks_summary g;

		memset(&g, 0, sizeof g);
		if (aks_get(e->conn.arm, e->conn.cluster_id[CFG_GREEN], &e->arm_opts, NULL, &g, err,
		    sizeof err) == 0 && strcmp(g.provisioning_state, "Succeeded") == 0
		    && eng_kube_up(e, CFG_GREEN, err, sizeof err) != 0)
			eng_log(e, LOG_WARN, "green: %s", err);
		aks_summary_free(&g);
	}
	eng_observe_once(e, 1);

	if (e->view.stage_done[3]) {
		long long t = journal_ts_ms(e->view.stage_done_ts[3]);

		e->switched_ms = t > 0 ? t : eng_wall_ms();
		/* the screen's resolver countdown, from the switch's end (at or
		 * after the record's change: never too early) */
		if (e->view.dns_before != NULL) {
			pthread_mutex_lock(&e->mu);
			e->m.traffic.dns_changed_ms = e->switched_ms;
			pthread_mutex_unlock(&e->mu);
		}
	}
	if (e->o.rollback_only)
		next = ENG_S_ROLLBACK;
	else if (e->view.rollback_started)
		next = ENG_S_ROLLBACK;
	else if (e->view.teardown_started || e->view.teardown_confirmed)
		next = ENG_S_TEARDOWN;
	else if (e->view.stage_done[3])
		next = ENG_S_WINDOW;
	else if (e->view.switch_confirmed)
		next = ENG_S_SWITCH;
	else if (e->view.stage_done[2])
		next = ENG_S_SWITCH_GATE;
	else if (e->view.stage_done[1])
		next = ENG_S_SYNC;
	else
		next = ENG_S_PROVISION;
	mark_done_before(e, 5);
	if (e->resumed)
		eng_log(e, LOG_INFO, "resuming the switchover at %s (journal %s)", eng_state_name(next),
		    journal_file(e->journal));
	if (eng_stage_mark(e, 0, JOURNAL_DONE, NULL) != 0)
		return ENG_R_FAIL;
	e->next_state = next;
	return ENG_R_NEXT;
}

/* ---- T1 provision ------------------------------------------------------------------- */

static int
attempt_provision(struct eng *e, void *arg, char *err, size_t errlen)
{
	struct prov_ctx pc;
	struct arm_opts ao;
	struct aks_summary g;
	int rc;

	(void)arg;
	eng_prov_ctx(e, &pc, &ao);
	memset(&g, 0, sizeof g);
	rc = prov_green(&pc, &g, err, errlen);
	if (rc == 0)
		eng_log(e, LOG_INFO, "green %s: %s/%s, Kubernetes %s", g.name, g.provisioning_state,
		    g.power_state, g.current_kubernetes_version[0] != '\0' ? g.current_kubernetes_version
		    : g.kubernetes_version);
	aks_summary_free(&g);
	return rc;
}

static int
attempt_kube_green(struct eng *e, void *arg, char *err, size_t errlen)
{
	(void)arg;
	if (eng_kube_up(e, CFG_GREEN, err, errlen) != 0)
		return ARM_E_TRANSPORT;		/* not reachable yet: worth another try */
	return 0;
}

/* Green's connection and informers, for every state after T2: a resumed
 * run, or one whose first try failed, gets them here (a check of green
 * without them could only fail). */
static int
ensure_green(struct eng *e, int stage, int flags)
{
	if (e->kube_ok[CFG_GREEN])
		return ENG_R_NEXT;
	return retrying(e, stage, "connect to green", attempt_kube_green, NULL, flags);
}

int
eng_st_provision(struct eng *e)
{
	int rc;

	if (eng_stage_mark(e, 1, JOURNAL_ENTERED, e->cfg.provision.mode == CFG_PROVISION_COMMAND
	    ? "command" : "arm-clone") != 0)
		return ENG_R_FAIL;
	if ((rc = retrying(e, 1, "provision green", attempt_provision, NULL, 0)) != ENG_R_NEXT)
		goto out;
	if ((rc = retrying(e, 1, "connect to green", attempt_kube_green, NULL, 0)) != ENG_R_NEXT)
		goto out;
	/* Platform checks start once green can be seen: before, they could
	 * only fail, and their history would hold those failures. */
	eng_checks_activate(e, CFG_GATE_PROVISION);
	eng_progress(e, 1, "green exists; platform checks");
	rc = eng_checks_wait(e, CFG_GATE_PROVISION, 1, 0);
out:
	if (rc == ENG_R_NEXT)
		return eng_stage_mark(e, 1, JOURNAL_DONE, NULL) == 0 ? ENG_R_NEXT : ENG_R_FAIL;
	if (rc == ENG_R_FAIL)
		eng_stage_mark(e, 1, JOURNAL_FAILED, e->m.reason);
	return rc;
}

/* ---- T2 sync ------------------------------------------------------------------------- */

static void
sync_progress_cb(void *ctx, size_t done, size_t total, const char *what)
{
	struct eng *e = ctx;

	if (what != NULL && what[0] != '\0')
		eng_progress(e, 2, "applied %zu/%zu: %s", done, total, what);
	else
		eng_progress(e, 2, "applied %zu/%zu", done, total);
}

static int
set_freeze(struct eng *e, int on)
{
	cJSON *before = cJSON_CreateObject(), *after = cJSON_CreateObject();
	char err[1024], why[1024];
	uint64_t action;
	int present = -1, rc = ENG_R_NEXT;

	if (freeze_present(e->kube[CFG_BLUE].client, e->cfg.name, &present, err, sizeof err) != 0) {
		rc = eng_reason(e, ENG_R_FAIL, "freeze: cannot read blue: %s", err);
		goto out;
	}
	if (present == on)
		goto out;
	cJSON_AddStringToObject(before, "cluster", e->cfg.clusters[CFG_BLUE].name);
	cJSON_AddBoolToObject(before, "present", present);
	cJSON_AddStringToObject(after, "cluster", e->cfg.clusters[CFG_BLUE].name);
	cJSON_AddBoolToObject(after, "present", on);
	if (journal_intent_for(e->journal, on ? "freeze" : "unfreeze", "blue's freeze", before, after,
	    &action, err, sizeof err) != 0) {
		rc = eng_reason(e, ENG_R_FAIL, "%s", err);
		goto out;
	}
	if ((on ? freeze_apply(e->kube[CFG_BLUE].client, e->cfg.name, e->cfg.sync.namespaces,
	    OP_TIMEOUT_MS, why, sizeof why)
	    : freeze_remove(e->kube[CFG_BLUE].client, e->cfg.name, OP_TIMEOUT_MS, why, sizeof why)) != 0) {
		journal_outcome_for(e->journal, action, -1, NULL, why, err, sizeof err);
		rc = eng_reason(e, ENG_R_FAIL, "%s: %s", on ? "freeze blue" : "unfreeze blue", err);
		goto out;
	}
	if (journal_outcome_for(e->journal, action, 0, after, NULL, err, sizeof err) != 0) {
		rc = eng_reason(e, ENG_R_FAIL, "%s", err);
		goto out;
	}
	eng_log(e, LOG_INFO, "%s blue %s: workloads in the synced namespaces %s", on ? "froze" : "unfroze",
	    e->cfg.clusters[CFG_BLUE].name, on ? "accept changes from bgswitch only" : "accept changes again");
out:
	cJSON_Delete(before);
	cJSON_Delete(after);
	return rc;
}

static int
sync_copy_stage(struct eng *e)
{
	struct sync_opts so = { 0 };
	struct sync_result res;
	char err[1024];
	int rc;

	so.namespaces = e->cfg.sync.namespaces;
	so.kinds = e->cfg.sync.kinds;
	so.timeout_ms = OP_TIMEOUT_MS;
	so.progress = sync_progress_cb;
	so.progress_ctx = e;
	rc = sync_copy(e->kube[CFG_BLUE].client, e->kube[CFG_GREEN].client, &so, &res, err, sizeof err);
	if (rc < 0) {
		sync_result_free(&res);
		return eng_reason(e, ENG_R_FAIL, "sync: %s", err);
	}
	eng_log(e, LOG_INFO, "sync: %zu of %zu objects applied to green, %zu left on blue on purpose",
	    res.applied, res.total, res.skipped);
	for (size_t i = 0; i < res.nfailures && i < 10; i++)
		eng_log(e, LOG_ERROR, "sync: %s: %s", res.failures[i].object, res.failures[i].error);
	if (rc > 0) {
		rc = eng_reason(e, ENG_R_FAIL, "sync: %zu object(s) could not be applied to green (first: %s)",
		    res.nfailures, res.nfailures > 0 ? res.failures[0].object : "?");
		sync_result_free(&res);
		return rc;
	}
	sync_result_free(&res);
	return ENG_R_NEXT;
}

static int
sync_gitops_stage(struct eng *e)
{
	long long start = eng_wall_ms();
	char err[1024], shown[400] = "";
	int rc;

	for (;;) {
		struct gitops_status st;
		char line[400];

		memset(&st, 0, sizeof st);
		if (gitops_status(e->kube[CFG_GREEN].client, e->cfg.sync.namespaces, OP_TIMEOUT_MS, &st, err,
		    sizeof err) != 0) {
			util_errf(line, sizeof line, "cannot read GitOps state on green: %s", err);
		} else if (st.ready == st.n) {
			eng_log(e, LOG_INFO, "gitops: all %zu object(s) on green are ready", st.n);
			gitops_status_free(&st);
			return ENG_R_NEXT;
		} else {
			const struct gitops_item *w = NULL;

			for (size_t i = 0; i < st.n && w == NULL; i++)
				if (!st.items[i].ready)
					w = &st.items[i];
			util_errf(line, sizeof line, "ready %zu/%zu; waiting for %s %s/%s: %s %s", st.ready, st.n,
			    w->kind, w->ns, w->name, w->reason, w->message);
		}
		gitops_status_free(&st);
		if (strcmp(line, shown) != 0) {
			eng_progress(e, 2, "%s", line);
			snprintf(shown, sizeof shown, "%s", line);
		}
		if (eng_wall_ms() - start > GITOPS_TIMEOUT_MS)
			return eng_reason(e, ENG_R_FAIL, "gitops: not ready after %ld min: %s",
			    GITOPS_TIMEOUT_MS / 60000, line);
		if ((rc = eng_sleep(e, 2000, 0)) != ENG_R_NEXT)
			return rc;
	}
}

static int
run_command(struct eng *e, char *const *argv, const char *what)
{
	struct proc_opts po = { 0 };
	struct proc_result pr;
	char err[1024];

	po.argv = argv;
	po.line = log_line_cb;
	po.ctx = e;
	po.cancel = (volatile int *)&e->hard_abort;	/* see eng_prov_ctx */
	eng_log(e, LOG_INFO, "%s: running %s", what, argv[0]);
	if (proc_run(&po, &pr, err, sizeof err) != 0)
		return eng_reason(e, ENG_R_FAIL, "%s: %s", what, err);
	return ENG_R_NEXT;
}

static int
parity_stage(struct eng *e)
{
	struct sync_parity p;
	char err[1024], *text;
	int blocking = 0;
	cJSON *f;

	if (e->cfg.sync.namespaces == NULL || e->cfg.sync.namespaces[0] == NULL)
		return ENG_R_NEXT;
	if (sync_parity(e->kube[CFG_BLUE].client, e->kube[CFG_GREEN].client, e->cfg.sync.namespaces,
	    OP_TIMEOUT_MS, &p, err, sizeof err) != 0)
		return eng_reason(e, ENG_R_FAIL, "parity: %s", err);
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].what != SYNC_DIFF_REPLICAS && p.v[i].what != SYNC_DIFF_EXTRA)
			blocking++;
	if ((text = sync_parity_text(&p)) != NULL) {
		char *line, *save = NULL;

		for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
			eng_log(e, p.n > 0 ? LOG_WARN : LOG_INFO, "%s", line);
		free(text);
	}
	if ((f = cJSON_CreateObject()) != NULL) {
		cJSON *pj = sync_parity_json(&p);

		if (pj != NULL)
			cJSON_AddItemToObject(f, "parity", pj);
		eng_event(e, "parity", f);
	}
	snprintf(err, sizeof err, "parity: %zu namespace(s), %zu workload(s) compared, %zu difference(s)",
	    p.namespaces, p.workloads, p.n);
	if (journal_note(e->journal, err, err + 512, sizeof err - 512) != 0)
		eng_log(e, LOG_ERROR, "journal: %s", err + 512);
	eng_progress(e, 2, "%s", err);
	sync_parity_free(&p);
	if (blocking > 0)
		return eng_reason(e, ENG_R_FAIL, "parity: green differs from blue in %d way(s) that matter "
		    "(missing namespaces, workloads or images; see the log)", blocking);
	return ENG_R_NEXT;
}

int
eng_st_sync(struct eng *e)
{
	static const char *const modes[] = { "copy", "gitops", "command" };
	char err[1024];
	int rc;

	if (eng_stage_mark(e, 2, JOURNAL_ENTERED, modes[e->cfg.sync.mode]) != 0)
		return ENG_R_FAIL;
	eng_checks_activate(e, CFG_GATE_SYNC);
	if (!e->kube_ok[CFG_BLUE] && eng_kube_up(e, CFG_BLUE, err, sizeof err) != 0) {
		rc = eng_reason(e, ENG_R_FAIL, "blue: %s", err);
		goto out;
	}
	if ((rc = retrying(e, 2, "connect to green", attempt_kube_green, NULL, 0)) != ENG_R_NEXT)
		goto out;
	if (e->cfg.sync.freeze && (rc = set_freeze(e, 1)) != ENG_R_NEXT)
		goto out;
	switch (e->cfg.sync.mode) {
	case CFG_SYNC_COPY:
		rc = sync_copy_stage(e);
		break;
	case CFG_SYNC_GITOPS:
		rc = sync_gitops_stage(e);
		break;
	case CFG_SYNC_COMMAND:
		rc = run_command(e, e->cfg.sync.command, "sync command");
		break;
	}
	if (rc == ENG_R_NEXT)
		rc = parity_stage(e);
	if (rc == ENG_R_NEXT) {
		eng_progress(e, 2, "sync checks");
		rc = eng_checks_wait(e, CFG_GATE_SYNC, 2, 0);
	}
out:
	if (rc == ENG_R_NEXT)
		return eng_stage_mark(e, 2, JOURNAL_DONE, NULL) == 0 ? ENG_R_NEXT : ENG_R_FAIL;
	if (rc == ENG_R_FAIL)
		eng_stage_mark(e, 2, JOURNAL_FAILED, e->m.reason);
	return rc;
}

/* ---- T3 switch ------------------------------------------------------------------------ */

static int
attempt_observe(struct eng *e, void *arg, char *err, size_t errlen)
{
	return traffic_observe(&e->traffic, arg, err, errlen);
}

static void
steps_text(const struct cfg *c, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < c->gateway.nsteps && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%d", i > 0 ? ", " : "", c->gateway.steps[i]);
}

int
eng_st_switch_gate(struct eng *e)
{
	struct traffic_state ts;
	char lines[8][ENG_LINE], steps[128], soak[32];
	const char *when;
	int n = 0, rc;

	if ((rc = ensure_green(e, 3, 0)) != ENG_R_NEXT)
		return rc;
	eng_checks_activate(e, CFG_GATE_SWITCH);
	eng_progress(e, 3, "switch checks");
	if ((rc = eng_checks_wait(e, CFG_GATE_SWITCH, 3, 0)) != ENG_R_NEXT)
		return rc;
	if ((rc = retrying(e, 3, "read traffic", attempt_observe, &ts, 0)) != ENG_R_NEXT)
		return rc;
	snprintf(soak, sizeof soak, "%ld s", e->cfg.gateway.soak_ms / 1000);
	if (e->cfg.gateway.has_gateway && e->cfg.dns.when != CFG_DNS_ONLY) {
		steps_text(&e->cfg, steps, sizeof steps);
		snprintf(lines[n++], ENG_LINE, "gateway %s rule %s: blue %d / green %d (%s %.0f %% / %s %.0f %%)",
		    e->cfg.gateway.name, e->cfg.gateway.rule, ts.weights.blue.weight, ts.weights.green.weight,
		    e->cfg.gateway.blue_pool, ts.weights.blue.share, e->cfg.gateway.green_pool,
		    ts.weights.green.share);
		snprintf(lines[n++], ENG_LINE, "  -> green %s %% in steps, soak %s after each, then blue 0 / green 100",
		    steps, soak);
	}
	if (e->cfg.dns.has_dns) {
		when = e->cfg.dns.when == CFG_DNS_BEFORE_GATEWAY ? "before the gateway steps"
		    : e->cfg.dns.when == CFG_DNS_ONLY ? "the only change" : "after the gateway steps";
		util_errf(lines[n++], ENG_LINE, "dns %s %s %s (%s), ttl %lld s", ts.dns.fqdn, ts.dns.type,
		    ts.dns.ntargets > 0 ? ts.dns.targets[0] : "-", ts.dns_points_to, ts.dns.ttl);
		snprintf(lines[n++], ENG_LINE, "  -> %s (green), ttl %lld s, %s", e->cfg.dns.green_target,
		    e->cfg.dns.ttl > 0 ? (long long)e->cfg.dns.ttl : ts.dns.ttl, when);
	}
	snprintf(lines[n++], ENG_LINE, "rollback window afterwards: %ld s", e->cfg.window_ms / 1000);
	/* what the operator decides on, fresh (backend health is otherwise
	 * read only every fifth look) */
	eng_observe_once(e, 1);
	eng_progress(e, 3, "waiting for confirmation");
	return eng_gate(e, ENG_GATE_SWITCH, lines, n, NULL, 0);
}

static int
wait_unpaused(struct eng *e)
{
	int rc, said = 0;

	for (;;) {
		int paused;

		pthread_mutex_lock(&e->mu);
		paused = e->m.paused;
		pthread_mutex_unlock(&e->mu);
		if (!paused)
			return ENG_R_NEXT;
		if (!said++)
			eng_progress(e, 3, "paused");
		if ((rc = eng_sleep(e, 500, ENG_WAKE_ROLLBACK)) != ENG_R_NEXT)
			return rc;
	}
}

struct step_arg {
	int percent;
	enum cfg_role dns_to;
};

static int
attempt_weights(struct eng *e, void *arg, char *err, size_t errlen)
{
	return traffic_set_weights(&e->traffic, ((struct step_arg *)arg)->percent, err, errlen);
}

static int
attempt_dns(struct eng *e, void *arg, char *err, size_t errlen)
{
	return traffic_move_dns(&e->traffic, ((struct step_arg *)arg)->dns_to, err, errlen);
}

static int
soak(struct eng *e, const char *after)
{
	long long until = eng_wall_ms() + e->cfg.gateway.soak_ms;
	int rc;

	pthread_mutex_lock(&e->mu);
	e->m.soak_until_ms = until;
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	eng_progress(e, 3, "soak after %s", after);
	rc = eng_sleep(e, e->cfg.gateway.soak_ms, ENG_WAKE_ROLLBACK);
	if (rc == ENG_R_NEXT) {
		eng_progress(e, 3, "checks after %s", after);
		rc = eng_checks_wait(e, CFG_GATE_SWITCH, 3, ENG_WAKE_ROLLBACK);
	}
	pthread_mutex_lock(&e->mu);
	e->m.soak_until_ms = 0;
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	return rc;
}

static int
switch_dns(struct eng *e)
{
	struct traffic_state ts;
	struct step_arg a = { 0, CFG_GREEN };
	cJSON *f;
	int rc;

	if ((rc = retrying(e, 3, "read traffic", attempt_observe, &ts, ENG_WAKE_ROLLBACK)) != ENG_R_NEXT)
		return rc;
	if (strcmp(ts.dns_points_to, "green") == 0) {
		/* a resumed run: not moved again, but soaked again, as the
		 * latest gateway step is (its soak may not have finished) */
		eng_log(e, LOG_INFO, "dns %s already points at green", ts.dns.fqdn);
		pthread_mutex_lock(&e->mu);
		e->rollback_armed = 1;
		pthread_mutex_unlock(&e->mu);
		return soak(e, "the DNS change");
	}
	if ((rc = wait_unpaused(e)) != ENG_R_NEXT)
		return rc;
	pthread_mutex_lock(&e->mu);
	e->rollback_armed = 1;		/* from the intent on, there may be something to undo */
	pthread_mutex_unlock(&e->mu);
	if ((rc = retrying(e, 3, "move the DNS record", attempt_dns, &a, ENG_WAKE_ROLLBACK)) != ENG_R_NEXT)
		return rc;
	pthread_mutex_lock(&e->mu);
	e->m.traffic.dns_changed_ms = eng_wall_ms();
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	if ((f = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(f, "fqdn", ts.dns.fqdn);
		cJSON_AddStringToObject(f, "from", ts.dns.ntargets > 0 ? ts.dns.targets[0] : "");
		cJSON_AddStringToObject(f, "to", e->cfg.dns.green_target);
		eng_event(e, "dns", f);
	}
	return soak(e, "the DNS change");
}

static int
switch_gateway(struct eng *e)
{
	struct traffic_state ts;
	int rc;

	if ((rc = retrying(e, 3, "read traffic", attempt_observe, &ts, ENG_WAKE_ROLLBACK)) != ENG_R_NEXT)
		return rc;
	for (int i = 0; i < e->cfg.gateway.nsteps; i++) {
		struct step_arg a = { e->cfg.gateway.steps[i], CFG_GREEN };
		char after[64];
		cJSON *f;

		/* A resumed run: steps already in place are not applied again;
		 * the latest of them soaks again, since its soak may not have
		 * finished. */
		if (ts.weights.green.share + 0.5 >= (double)a.percent && ts.weights.blue.share <= 100 - a.percent + 0.5) {
			int latest = i + 1 == e->cfg.gateway.nsteps
			    || ts.weights.green.share + 0.5 < (double)e->cfg.gateway.steps[i + 1];

			pthread_mutex_lock(&e->mu);
			e->m.step = i + 1;
			e->m.step_percent = a.percent;
			e->rollback_armed = 1;
			eng_touch_locked(e);
			pthread_mutex_unlock(&e->mu);
			if (!latest)
				continue;
			eng_log(e, LOG_INFO, "step %d/%d (%d %% green) already in place", i + 1,
			    e->cfg.gateway.nsteps, a.percent);
			snprintf(after, sizeof after, "step %d/%d (%d %%)", i + 1, e->cfg.gateway.nsteps, a.percent);
			if ((rc = soak(e, after)) != ENG_R_NEXT)
				return rc;
			continue;
		}
		if ((rc = wait_unpaused(e)) != ENG_R_NEXT)
			return rc;
		if ((rc = eng_interrupted(e, ENG_WAKE_ROLLBACK)) != ENG_R_NEXT)
			return rc;
		eng_progress(e, 3, "step %d/%d: %d %% green", i + 1, e->cfg.gateway.nsteps, a.percent);
		pthread_mutex_lock(&e->mu);
		e->rollback_armed = 1;
		pthread_mutex_unlock(&e->mu);
		snprintf(after, sizeof after, "gateway step %d/%d", i + 1, e->cfg.gateway.nsteps);
		if ((rc = retrying(e, 3, after, attempt_weights, &a, ENG_WAKE_ROLLBACK)) != ENG_R_NEXT)
			return rc;
		pthread_mutex_lock(&e->mu);
		e->m.step = i + 1;
		e->m.step_percent = a.percent;
		eng_touch_locked(e);
		pthread_mutex_unlock(&e->mu);
		if ((f = cJSON_CreateObject()) != NULL) {
			cJSON_AddNumberToObject(f, "step", i + 1);
			cJSON_AddNumberToObject(f, "steps", e->cfg.gateway.nsteps);
			cJSON_AddNumberToObject(f, "green", a.percent);
			cJSON_AddNumberToObject(f, "blue", 100 - a.percent);
			eng_event(e, "step", f);
		}
		snprintf(after, sizeof after, "step %d/%d (%d %%)", i + 1, e->cfg.gateway.nsteps, a.percent);
		eng_observe_once(e, 1);		/* the screen shows the step at once */
		if ((rc = soak(e, after)) != ENG_R_NEXT)
			return rc;
		ts.weights.green.share = a.percent;
		ts.weights.blue.share = 100 - a.percent;
	}
	return ENG_R_NEXT;
}

int
eng_st_switch(struct eng *e)
{
	int rc = ENG_R_NEXT;
	int gw = e->cfg.gateway.has_gateway && e->cfg.dns.when != CFG_DNS_ONLY;
	int dns = e->cfg.dns.has_dns;

	if (eng_stage_mark(e, 3, JOURNAL_ENTERED, NULL) != 0)
		return ENG_R_FAIL;
	if ((rc = ensure_green(e, 3, ENG_WAKE_ROLLBACK)) != ENG_R_NEXT)
		return rc;
	eng_checks_activate(e, CFG_GATE_SWITCH);
	if (dns && e->cfg.dns.when == CFG_DNS_BEFORE_GATEWAY)
		rc = switch_dns(e);
	if (rc == ENG_R_NEXT && gw)
		rc = switch_gateway(e);
	if (rc == ENG_R_NEXT && dns && e->cfg.dns.when != CFG_DNS_BEFORE_GATEWAY)
		rc = switch_dns(e);
	if (rc != ENG_R_NEXT) {
		if (rc == ENG_R_FAIL)
			eng_stage_mark(e, 3, JOURNAL_FAILED, e->m.reason);
		return rc;
	}
	e->switched_ms = eng_wall_ms();
	eng_log(e, LOG_INFO, "traffic is on green; rollback window of %ld s begins", e->cfg.window_ms / 1000);
	return eng_stage_mark(e, 3, JOURNAL_DONE, "traffic on green") == 0 ? ENG_R_NEXT : ENG_R_FAIL;
}

/* ---- the rollback window ---------------------------------------------------------------- */

int
eng_st_window(struct eng *e)
{
	long long until = (e->switched_ms > 0 ? e->switched_ms : eng_wall_ms()) + e->cfg.window_ms;
	long long left;
	char at[16];
	int rc;

	pthread_mutex_lock(&e->mu);
	e->rollback_armed = 1;
	e->m.window_until_ms = until;
	e->m.stages[4].state = e->m.stages[4].state == ENG_STAGE_PENDING ? ENG_STAGE_PENDING
	    : e->m.stages[4].state;
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	if ((rc = ensure_green(e, 4, ENG_WAKE_ROLLBACK)) != ENG_R_NEXT)
		return rc;
	eng_checks_activate(e, CFG_GATE_WINDOW);
	clock_text(until, at, sizeof at);
	eng_progress(e, 4, "rollback window until %s", at);
	while ((left = until - eng_wall_ms()) > 0)
		if ((rc = eng_sleep(e, left > 1000 ? 1000 : (long)left, ENG_WAKE_ROLLBACK)) != ENG_R_NEXT)
			return rc;
	/* Blue goes only if green was healthy to the end of the window: the
	 * window's checks must pass now, however long that takes (rollback
	 * stays possible meanwhile). */
	eng_progress(e, 4, "rollback window over; window checks");
	if ((rc = eng_checks_wait(e, CFG_GATE_WINDOW, 4, ENG_WAKE_ROLLBACK)) != ENG_R_NEXT)
		return rc;
	eng_log(e, LOG_INFO, "rollback window over");
	return ENG_R_NEXT;
}

/* ---- T4 teardown ------------------------------------------------------------------------- */

/* METRIC (Total, FILTER may be NULL) over the time since traffic left
 * blue, as whole intervals that began after it: *SUM and *INTERVALS.  The
 * interval the switch fell in still holds blue's last requests, so it is
 * left out.  0, or -1 with ERR. */
static int
metric_since_switch(struct eng *e, const char *metric, const char *filter, double *sum, int *intervals,
    char *err, size_t errlen)
{
	struct metrics_query q = { 0 };
	struct metrics_result r;
	long long now = eng_wall_ms();

	*sum = 0;
	*intervals = 0;
	q.resource_id = e->conn.gateway_id;
	q.metric = metric;
	q.aggregation = "Total";
	q.filter = filter;
	q.window_ms = (long)(now - e->switched_ms) + 60000;
	if (q.window_ms > 24L * 3600 * 1000)
		q.window_ms = 24L * 3600 * 1000;
	memset(&r, 0, sizeof r);
	if (metrics_query(e->conn.arm, &q, &e->arm_opts, &r, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < r.npoints; i++) {
		long long t = journal_ts_ms(r.points[i].time);

		if (t < 0 || t < e->switched_ms)
			continue;
		(*intervals)++;
		if (r.points[i].has)
			*sum += r.points[i].value;
	}
	metrics_result_free(&r);
	return 0;
}

/*
 * Whether the gateway's metrics show blue's pool answering after traffic
 * left it.  Two questions: does the data reach past the switch at all
 * (TotalRequests, every pool: a whole interval after the switch, else
 * the answer is not known yet: REFUSE_WAIT), and did blue's pool answer
 * anything in it (BackendResponseStatus filtered on the pool; no series at
 * all means no request, as Azure Monitor leaves out dimension values that
 * never occurred).
 */
static int
metrics_refusal(struct eng *e, char *why, size_t whylen)
{
	char filter[160], err[512], at[16];
	double served, total;
	int blue_n, all_n;

	if (e->switched_ms <= 0)
		return REFUSE_NONE;
	clock_text(e->switched_ms, at, sizeof at);
	if (metric_since_switch(e, "TotalRequests", NULL, &total, &all_n, err, sizeof err) != 0) {
		snprintf(why, whylen, "gateway metrics cannot be read, so traffic to blue is unknown: %s", err);
		return REFUSE_WAIT;
	}
	if (all_n == 0) {
		snprintf(why, whylen, "gateway metrics do not cover a whole interval since traffic left blue "
		    "at %s yet", at);
		return REFUSE_WAIT;
	}
	snprintf(filter, sizeof filter, "BackendPool eq '%s'", e->cfg.gateway.blue_pool);
	if (metric_since_switch(e, "BackendResponseStatus", filter, &served, &blue_n, err, sizeof err) != 0) {
		snprintf(why, whylen, "gateway metrics cannot be read, so traffic to blue is unknown: %s", err);
		return REFUSE_WAIT;
	}
	if (served > 0) {
		snprintf(why, whylen, "gateway metrics: blue's pool %s answered %.0f request(s) after traffic "
		    "left it at %s", e->cfg.gateway.blue_pool, served, at);
		return REFUSE_STOP;
	}
	return REFUSE_NONE;
}

/* The TTL the live record had before this switchover changed it (0 when
 * it did not, or the journal says nothing), read from the journal once:
 * the teardown gate asks every two seconds while it waits. */
static long long
dns_ttl_before(struct eng *e)
{
	struct journal_view v;
	char err[512];

	long long ttl = 0;

	if (e->dns_ttl_before >= 0)
		return e->dns_ttl_before;
	memset(&v, 0, sizeof v);
	/* kept only once read: a failed read is asked again next time */
	if (journal_view_load(journal_file(e->journal), &v, err, sizeof err) != 0)
		return 0;
	if (v.dns_before != NULL) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(v.dns_before, "properties"), "ttl");

		if (cJSON_IsNumber(t))
			ttl = (long long)t->valuedouble;
	}
	journal_view_free(&v);
	return e->dns_ttl_before = ttl;
}

int
eng_teardown_refusal(struct eng *e, char *why, size_t whylen)
{
	struct traffic_state ts;
	char err[1024], at[16];
	long long until = e->switched_ms + e->cfg.window_ms;

	why[0] = '\0';
	if (e->switched_ms <= 0 || eng_wall_ms() < until) {
		clock_text(until, at, sizeof at);
		snprintf(why, whylen, "the rollback window is not over (until %s)", e->switched_ms > 0 ? at : "?");
		return e->switched_ms > 0 ? REFUSE_WAIT : REFUSE_STOP;
	}
	if (traffic_observe(&e->traffic, &ts, err, sizeof err) != 0) {
		snprintf(why, whylen, "cannot read where traffic goes, so it may still reach blue: %s", err);
		return REFUSE_WAIT;
	}
	int gw = ts.has_gateway && e->cfg.dns.when != CFG_DNS_ONLY;

	if (gw && (ts.weights.blue.weight > 0 || ts.weights.blue.share > 0)) {
		snprintf(why, whylen, "gateway %s still gives blue (%s) weight %d (%.0f %% of rule %s)",
		    e->cfg.gateway.name, e->cfg.gateway.blue_pool, ts.weights.blue.weight, ts.weights.blue.share,
		    e->cfg.gateway.rule);
		return REFUSE_STOP;
	}
	if (ts.has_dns && strcmp(ts.dns_points_to, "green") != 0) {
		snprintf(why, whylen, "DNS record %s points at %s (%s), not at green's %s", ts.dns.fqdn,
		    ts.dns_points_to, ts.dns.ntargets > 0 ? ts.dns.targets[0] : "-", e->cfg.dns.green_target);
		return REFUSE_STOP;
	}
	if (ts.has_dns) {
		/* Resolvers may hand out blue's address until the TTL the
		 * record had before the change has run out. */
		long long ttl = ts.dns.ttl, left;

		if (dns_ttl_before(e) > ttl)
			ttl = dns_ttl_before(e);
		if ((left = e->switched_ms + ttl * 1000 - eng_wall_ms()) > 0) {
			clock_text(e->switched_ms + ttl * 1000, at, sizeof at);
			snprintf(why, whylen, "resolvers may still hand out blue's address until %s (TTL %lld s "
			    "of DNS record %s)", at, ttl, ts.dns.fqdn);
			return REFUSE_WAIT;
		}
	}
	if (gw)
		return metrics_refusal(e, why, whylen);
	return REFUSE_NONE;
}

static int
refused(struct eng *e, const char *why)
{
	cJSON *f;

	pthread_mutex_lock(&e->mu);
	snprintf(e->m.gate_refused, sizeof e->m.gate_refused, "%s", why);
	e->m.stages[4].state = ENG_STAGE_FAILED;
	snprintf(e->m.stages[4].progress, sizeof e->m.stages[4].progress, "teardown refused");
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	if ((f = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(f, "gate", "teardown");
		cJSON_AddStringToObject(f, "reason", why);
		eng_event(e, "refused", f);
	}
	return eng_reason(e, ENG_R_FAIL, "teardown refused: %s", why);
}

/* Waits while teardown is held back by time (the window, a TTL, metrics
 * not yet covering the switch: at most TEARDOWN_WAIT_MS beyond what the
 * reason itself names), fails at once on what needs a person. */
#define TEARDOWN_WAIT_MS (15 * 60 * 1000L)

static int
teardown_allowed(struct eng *e, int flags)
{
	long long start = eng_wall_ms();
	char why[ENG_LINE], shown[ENG_LINE] = "";
	int r, rc;

	for (;;) {
		if ((r = eng_teardown_refusal(e, why, sizeof why)) == REFUSE_NONE) {
			pthread_mutex_lock(&e->mu);
			e->m.gate_refused[0] = '\0';
			pthread_mutex_unlock(&e->mu);
			return ENG_R_NEXT;
		}
		if (r == REFUSE_STOP || eng_wall_ms() - start > TEARDOWN_WAIT_MS + e->cfg.window_ms)
			return refused(e, why);
		if (strcmp(why, shown) != 0) {
			eng_progress(e, 4, "teardown waits: %s", why);
			snprintf(shown, sizeof shown, "%s", why);
			pthread_mutex_lock(&e->mu);
			snprintf(e->m.gate_refused, sizeof e->m.gate_refused, "%s", why);
			eng_touch_locked(e);
			pthread_mutex_unlock(&e->mu);
		}
		if ((rc = eng_sleep(e, 2000, flags)) != ENG_R_NEXT)
			return rc;
	}
}

int
eng_st_teardown_gate(struct eng *e)
{
	static const char *const modes[] = { "delete", "stop", "command", "keep" };
	char lines[4][ENG_LINE];
	int rc;

	eng_checks_activate(e, CFG_GATE_TEARDOWN);
	eng_progress(e, 4, "teardown checks");
	if ((rc = eng_checks_wait(e, CFG_GATE_TEARDOWN, 4, ENG_WAKE_ROLLBACK)) != ENG_R_NEXT)
		return rc;
	if ((rc = teardown_allowed(e, ENG_WAKE_ROLLBACK)) != ENG_R_NEXT)
		return rc;
	snprintf(lines[0], ENG_LINE, "teardown %s of blue %s (resource group %s)", modes[e->cfg.teardown.mode],
	    e->cfg.clusters[CFG_BLUE].name, e->cfg.azure.resource_group);
	snprintf(lines[1], ENG_LINE, "traffic is fully on green %s; rollback is no longer possible afterwards",
	    e->cfg.clusters[CFG_GREEN].name);
	snprintf(lines[2], ENG_LINE, "type %s to confirm", e->cfg.clusters[CFG_BLUE].name);
	eng_progress(e, 4, "waiting for blue's name to be typed");
	rc = eng_gate(e, ENG_GATE_TEARDOWN, lines, 3, e->cfg.clusters[CFG_BLUE].name, ENG_WAKE_ROLLBACK);
	if (rc == ENG_R_NEXT)
		rc = teardown_allowed(e, ENG_WAKE_ROLLBACK);	/* things may have changed meanwhile */
	if (rc != ENG_R_NEXT)
		return rc;
	/* The last moment a rollback counts: one asked (or due) until now
	 * wins; from here on none is accepted. */
	pthread_mutex_lock(&e->mu);
	if (e->want_rollback)
		rc = ENG_R_ROLLBACK;
	e->rollback_armed = 0;
	e->m.rollback_allowed = 0;
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	return rc;
}

static int
attempt_teardown(struct eng *e, void *arg, char *err, size_t errlen)
{
	struct prov_ctx pc;
	struct arm_opts ao;

	(void)arg;
	eng_prov_ctx(e, &pc, &ao);
	return prov_teardown(&pc, err, errlen);
}

int
eng_st_teardown(struct eng *e)
{
	struct lock_opts lo = { 0 };
	char why[1024];
	int code = 0, rc;

	pthread_mutex_lock(&e->mu);
	e->rollback_armed = 0;
	e->m.rollback_allowed = 0;
	e->m.window_until_ms = 0;
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	if (!e->view.teardown_started) {
		/* resumed after the confirmation: the teardown checks and the
		 * refusal conditions are judged again, not taken as read */
		if ((rc = ensure_green(e, 4, 0)) != ENG_R_NEXT)
			return rc;
		eng_checks_activate(e, CFG_GATE_TEARDOWN);
		if ((rc = eng_checks_wait(e, CFG_GATE_TEARDOWN, 4, 0)) != ENG_R_NEXT)
			return rc;
		if ((rc = teardown_allowed(e, 0)) != ENG_R_NEXT)
			return rc;
	}
	eng_checks_activate(e, 0);
	/* The lock must outlive blue's API server: take green's Lease too. */
	if (e->lock_green == NULL && e->kube_ok[CFG_GREEN] == 0
	    && eng_kube_up(e, CFG_GREEN, why, sizeof why) != 0)
		return eng_reason(e, ENG_R_FAIL, "green: %s", why);
	if (e->lock_green == NULL && e->lock_role != CFG_GREEN && e->kube[CFG_GREEN].client != NULL) {
		lo.name = e->cfg.name;
		lo.kube = e->kube[CFG_GREEN].client;
		lo.duration_s = e->o.lock_duration_s;
		lo.lease_only = 1;
		lo.take_over = e->o.take_over;
		lo.holder = lock_holder(e->lock);
		lo.take_from = lock_dead_holder(e->lock);
		if ((e->lock_green = lock_acquire(&lo, why, sizeof why, &code)) == NULL) {
			if (code == LOCK_E_HELD || code == LOCK_E_EXPIRED)
				return eng_reason(e, ENG_R_LOCK, "green's lock: %s", why);
			return eng_reason(e, ENG_R_FAIL, "cannot take the lock in green: %s", why);
		}
	}
	if (eng_stage_mark(e, 4, JOURNAL_ENTERED, NULL) != 0)
		return ENG_R_FAIL;
	if (e->lock_green != NULL) {
		pthread_mutex_lock(&e->mu);
		e->lock_moved = 1;
		pthread_mutex_unlock(&e->mu);
	}
	if (e->view.frozen || e->cfg.sync.freeze) {
		if (e->kube_ok[CFG_BLUE] && e->cfg.teardown.mode != CFG_TEARDOWN_DELETE) {
			if ((rc = set_freeze(e, 0)) != ENG_R_NEXT)
				goto out;
		}
	}
	rc = retrying(e, 4, "teardown", attempt_teardown, NULL, 0);
out:
	if (rc == ENG_R_NEXT)
		return eng_stage_mark(e, 4, JOURNAL_DONE, NULL) == 0 ? ENG_R_NEXT : ENG_R_FAIL;
	if (rc == ENG_R_FAIL)
		eng_stage_mark(e, 4, JOURNAL_FAILED, e->m.reason);
	return rc;
}

/* ---- rollback --------------------------------------------------------------------------- */

/*
 * After the restores: what the journal recorded as "before" is back (the
 * restore verified it); where the journal holds no "before" (it is on
 * another machine, or was lost), traffic must be seen fully on blue, or
 * the rollback is not claimed done.
 */
static int
rollback_verify(struct eng *e)
{
	struct journal_view v;
	struct traffic_state ts;
	char err[1024];
	int rc = ENG_R_NEXT;

	memset(&v, 0, sizeof v);
	if (journal_view_load(journal_file(e->journal), &v, err, sizeof err) != 0)
		return eng_reason(e, ENG_R_FAIL, "rollback: cannot read the journal: %s", err);
	if ((rc = retrying(e, 3, "read traffic", attempt_observe, &ts, 0)) != ENG_R_NEXT) {
		journal_view_free(&v);
		return rc;
	}
	if (ts.has_gateway && v.gateway_before == NULL && ts.weights.green.share > 0)
		rc = eng_reason(e, ENG_R_FAIL, "rollback: the journal has no record of gateway %s before the "
		    "switch, and it still sends %.0f %% to green; restore it by hand", e->cfg.gateway.name,
		    ts.weights.green.share);
	else if (ts.has_dns && v.dns_before == NULL && strcmp(ts.dns_points_to, "blue") != 0)
		rc = eng_reason(e, ENG_R_FAIL, "rollback: the journal has no record of DNS record %s before "
		    "the switch, and it points at %s; restore it by hand", ts.dns.fqdn, ts.dns_points_to);
	journal_view_free(&v);
	return rc;
}

static int
attempt_rollback(struct eng *e, void *arg, char *err, size_t errlen)
{
	struct traffic_rollback_result *res = arg;

	return traffic_rollback(&e->traffic, res, err, errlen);
}

int
eng_st_rollback(struct eng *e)
{
	struct traffic_rollback_result res;
	char reason[ENG_LINE], err[1024];
	int automatic, rc;
	cJSON *f;

	pthread_mutex_lock(&e->mu);
	automatic = e->rollback_auto;
	snprintf(reason, sizeof reason, "%s", e->rollback_reason[0] != '\0' ? e->rollback_reason
	    : e->view.rollback_started ? "finishing the rollback begun by an earlier run"
	    : e->o.rollback_only ? "bgswitch rollback" : "asked");
	e->m.rollback_allowed = 0;
	e->m.soak_until_ms = e->m.window_until_ms = 0;
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	eng_checks_activate(e, 0);
	if (e->view.teardown_started)
		return eng_reason(e, ENG_R_FAIL, "rollback refused: teardown of blue has begun");
	if (!e->view.rollback_started || e->o.rollback_only) {
		if (journal_rollback(e->journal, reason, automatic, err, sizeof err) != 0)
			return eng_reason(e, ENG_R_FAIL, "journal: %s", err);
	}
	if ((f = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(f, "reason", reason);
		cJSON_AddBoolToObject(f, "automatic", automatic);
		eng_event(e, "rollback", f);
	}
	eng_log(e, LOG_WARN, "rolling back (%s): %s", automatic ? "automatic" : "asked", reason);
	pthread_mutex_lock(&e->mu);
	snprintf(e->m.reason, sizeof e->m.reason, "%s", reason);
	pthread_mutex_unlock(&e->mu);
	memset(&res, 0, sizeof res);
	if ((rc = retrying(e, 3, "rollback", attempt_rollback, &res, 0)) != ENG_R_NEXT)
		return rc;
	if ((rc = rollback_verify(e)) != ENG_R_NEXT)
		return rc;
	eng_log(e, LOG_INFO, "rollback: gateway %s, DNS %s", res.gateway_restored ? "restored" : "unchanged",
	    res.dns_restored ? "restored" : "unchanged");
	pthread_mutex_lock(&e->mu);
	if (e->m.stages[3].state == ENG_STAGE_RUNNING || e->m.stages[3].state == ENG_STAGE_DONE) {
		e->m.stages[3].state = ENG_STAGE_FAILED;
		e->m.stages[3].ended_ms = eng_wall_ms();
		snprintf(e->m.stages[3].progress, sizeof e->m.stages[3].progress, "rolled back");
	}
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	if ((e->view.frozen || e->cfg.sync.freeze) && e->kube_ok[CFG_BLUE]
	    && (rc = set_freeze(e, 0)) != ENG_R_NEXT)
		return rc;
	eng_observe_once(e, 0);
	return ENG_R_NEXT;
}
