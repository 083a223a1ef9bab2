/*
 * engine.c — the switchover's state table, the driver thread that walks
 * it, and the services the stage workers share (model, events, waits,
 * commands, gates).
 *
 * The table below is the whole machine: for each state its stage (T0..T4),
 * the worker that runs it, the state that follows when the worker is done,
 * which gates' checks run meanwhile, and every state it may lead to.  The
 * driver runs each worker in its own thread and joins it, then moves only
 * along the table: a transition the table does not list stops the run as
 * failed, so a bug cannot skip a gate.  Stages that a resumed run has
 * already finished (the journal says so) are passed over by the observe
 * worker, which picks where to continue from the journal and the world.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azure/appgw.h"
#include "src/eng_internal.h"
#include "src/http.h"
#include "src/util.h"

#define B(s) (1u << (s))
#define TERMINAL (B(ENG_S_DONE) | B(ENG_S_ROLLED_BACK) | B(ENG_S_STOPPED) | B(ENG_S_FAILED))
#define HALT (B(ENG_S_STOPPED) | B(ENG_S_FAILED))

struct eng_state_def {
	enum eng_state state;
	const char *name;
	int stage;			/* T0..T4 shown while in it */
	int (*run)(struct eng *e);	/* NULL: terminal */
	enum eng_state next;		/* after ENG_R_NEXT */
	unsigned to;			/* every state it may lead to */
	int rollback;			/* a rollback command acts here */
};

/* The machine (bgswitch(1), STAGES).  OBSERVE may lead anywhere a resumed
 * run can continue from; every other state only forward, to rollback where
 * traffic has moved, or to a halt. */
static const struct eng_state_def table[ENG_NSTATES] = {
	{ ENG_S_OBSERVE, "observe", 0, eng_st_observe, ENG_S_PROVISION,
	  B(ENG_S_PROVISION) | B(ENG_S_SYNC) | B(ENG_S_SWITCH_GATE) | B(ENG_S_SWITCH) | B(ENG_S_WINDOW)
	  | B(ENG_S_TEARDOWN_GATE) | B(ENG_S_TEARDOWN) | B(ENG_S_ROLLBACK) | HALT, 0 },
	{ ENG_S_PROVISION, "provision", 1, eng_st_provision, ENG_S_SYNC, B(ENG_S_SYNC) | HALT, 0 },
	{ ENG_S_SYNC, "sync", 2, eng_st_sync, ENG_S_SWITCH_GATE, B(ENG_S_SWITCH_GATE) | HALT, 0 },
	{ ENG_S_SWITCH_GATE, "switch-gate", 3, eng_st_switch_gate, ENG_S_SWITCH,
	  B(ENG_S_SWITCH) | HALT, 0 },
	{ ENG_S_SWITCH, "switch", 3, eng_st_switch, ENG_S_WINDOW,
	  B(ENG_S_WINDOW) | B(ENG_S_ROLLBACK) | HALT, 1 },
	{ ENG_S_WINDOW, "window", 4, eng_st_window, ENG_S_TEARDOWN_GATE,
	  B(ENG_S_TEARDOWN_GATE) | B(ENG_S_ROLLBACK) | HALT, 1 },
	{ ENG_S_TEARDOWN_GATE, "teardown-gate", 4, eng_st_teardown_gate, ENG_S_TEARDOWN,
	  B(ENG_S_TEARDOWN) | B(ENG_S_ROLLBACK) | HALT, 1 },
	{ ENG_S_TEARDOWN, "teardown", 4, eng_st_teardown, ENG_S_DONE, B(ENG_S_DONE) | HALT, 0 },
	{ ENG_S_ROLLBACK, "rollback", 3, eng_st_rollback, ENG_S_ROLLED_BACK,
	  B(ENG_S_ROLLED_BACK) | HALT, 0 },
	{ ENG_S_DONE, "done", 4, NULL, ENG_S_DONE, 0, 0 },
	{ ENG_S_ROLLED_BACK, "rolled-back", 3, NULL, ENG_S_ROLLED_BACK, 0, 0 },
	{ ENG_S_STOPPED, "stopped", -1, NULL, ENG_S_STOPPED, 0, 0 },
	{ ENG_S_FAILED, "failed", -1, NULL, ENG_S_FAILED, 0, 0 },
};

const char *
eng_config_theme(const struct eng *e)
{
	return e->cfg.theme;
}

const char *
eng_blue_name(const struct eng *e)
{
	return e->cfg.clusters[CFG_BLUE].name;
}

const char *
eng_state_name(enum eng_state s)
{
	return (unsigned)s < ENG_NSTATES ? table[s].name : "?";
}

/* ---- clocks, who ------------------------------------------------------------ */

long long
eng_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
eng_deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static char who_buf[200];

const char *
eng_who(void)
{
	return who_buf;
}

/* ---- model, log, events ---------------------------------------------------- */

void
eng_touch_locked(struct eng *e)
{
	e->m.version++;
	pthread_cond_broadcast(&e->cv);
}


void
eng_event(struct eng *e, const char *type, cJSON *fields)
{
	cJSON *ev = cJSON_CreateObject();
	char ts[32], *s;

	if (ev == NULL) {
		cJSON_Delete(fields);
		return;
	}
	journal_now_ts(ts);
	cJSON_AddNumberToObject(ev, "v", 1);
	cJSON_AddStringToObject(ev, "ts", ts);
	cJSON_AddStringToObject(ev, "event", type);
	if (fields != NULL) {
		cJSON *it = fields->child;

		while (it != NULL) {
			cJSON *next = it->next;

			cJSON_AddItemToObject(ev, it->string, cJSON_DetachItemViaPointer(fields, it));
			it = next;
		}
		cJSON_Delete(fields);
	}
	if (e->o.on_event != NULL && (s = cJSON_PrintUnformatted(ev)) != NULL) {
		e->o.on_event(e->o.event_ctx, s);
		free(s);
	}
	cJSON_Delete(ev);
}

static void
model_log_locked(struct eng *e, enum log_level lvl, const char *line)
{
	char ts[16];
	time_t now = time(NULL);
	struct tm tm;

	/* local time, as the header's clock */
	localtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%H:%M:%S", &tm);
	e->m.log_level[e->m.log_next % ENG_LOG_LINES] = lvl >= LOG_ERROR ? 'e' : lvl == LOG_WARN ? 'w' : 'i';
	util_errf(e->m.log[e->m.log_next % ENG_LOG_LINES], ENG_LINE, "%s %s", ts, line);
	e->m.log_next = (e->m.log_next + 1) % ENG_LOG_LINES;
	if (e->m.log_count < ENG_LOG_LINES)
		e->m.log_count++;
	eng_touch_locked(e);
}

void
eng_log(struct eng *e, enum log_level lvl, const char *fmt, ...)
{
	char line[ENG_LINE * 2];
	va_list ap;
	cJSON *f;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_redact(line);
	log_msg(lvl, ENG_MOD, "%s", line);
	pthread_mutex_lock(&e->mu);
	model_log_locked(e, lvl, line);
	pthread_mutex_unlock(&e->mu);
	if ((f = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(f, "level", lvl >= LOG_ERROR ? "error" : lvl == LOG_WARN ? "warn" : "info");
		cJSON_AddStringToObject(f, "text", line);
		eng_event(e, "log", f);
	}
}

void
eng_progress(struct eng *e, int stage, const char *fmt, ...)
{
	char line[160];
	va_list ap;
	cJSON *f;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (stage < 0 || stage > 4)
		return;
	pthread_mutex_lock(&e->mu);
	snprintf(e->m.stages[stage].progress, sizeof e->m.stages[stage].progress, "%s", line);
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	if ((f = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(f, "stage", journal_stage_name(stage));
		cJSON_AddStringToObject(f, "text", line);
		eng_event(e, "progress", f);
	}
}

int
eng_reason(struct eng *e, int rc, const char *fmt, ...)
{
	char line[ENG_LINE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_redact(line);
	pthread_mutex_lock(&e->mu);
	snprintf(e->m.reason, sizeof e->m.reason, "%s", line);
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	eng_log(e, rc == ENG_R_FAIL || rc == ENG_R_LOCK ? LOG_ERROR : LOG_WARN, "%s", line);
	return rc;
}

int
eng_stage_mark(struct eng *e, int stage, enum journal_stage_state st, const char *detail)
{
	char err[512];
	cJSON *f;

	if (journal_stage(e->journal, stage, st, detail, err, sizeof err) != 0) {
		eng_reason(e, ENG_R_FAIL, "journal: %s", err);
		return -1;
	}
	pthread_mutex_lock(&e->mu);
	struct eng_stage_view *sv = &e->m.stages[stage];
	if (st == JOURNAL_ENTERED) {
		sv->state = ENG_STAGE_RUNNING;
		if (sv->started_ms == 0)
			sv->started_ms = eng_wall_ms();
		sv->ended_ms = 0;
	} else {
		sv->state = st == JOURNAL_DONE ? ENG_STAGE_DONE : st == JOURNAL_FAILED ? ENG_STAGE_FAILED
		    : ENG_STAGE_SKIPPED;
		sv->ended_ms = eng_wall_ms();
	}
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	if ((f = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(f, "stage", journal_stage_name(stage));
		cJSON_AddStringToObject(f, "state", journal_stage_state_name(st));
		if (detail != NULL)
			cJSON_AddStringToObject(f, "detail", detail);
		eng_event(e, "stage", f);
	}
	return 0;
}

/* ---- waiting and commands ---------------------------------------------------- */

/* The lock that counts now: green's once teardown has taken it (blue's
 * API server, where the first Lease lives, is about to go away). */
static struct lock *
current_lock(const struct eng *e)
{
	return e->lock_moved && e->lock_green != NULL ? e->lock_green : e->lock;
}

/* RC, having said why when it is a lost lock. */
static int
lock_said(struct eng *e, int rc)
{
	if (rc == ENG_R_LOCK)
		eng_reason(e, ENG_R_LOCK, "lost the lock: %s; stopped acting", lock_lost_reason(current_lock(e)));
	return rc;
}

static int
interrupted_locked(struct eng *e, int flags)
{
	if (e->quit || e->want_abort || e->declined)
		return ENG_R_STOP;
	if (current_lock(e) != NULL && lock_lost(current_lock(e)))
		return ENG_R_LOCK;
	if ((flags & ENG_WAKE_ROLLBACK) && e->want_rollback)
		return ENG_R_ROLLBACK;
	return ENG_R_NEXT;
}

int
eng_interrupted(struct eng *e, int flags)
{
	int rc;

	pthread_mutex_lock(&e->mu);
	rc = interrupted_locked(e, flags);
	pthread_mutex_unlock(&e->mu);
	return lock_said(e, rc);
}

int
eng_sleep(struct eng *e, long ms, int flags)
{
	struct timespec until;
	int rc;

	eng_deadline(&until, ms);
	pthread_mutex_lock(&e->mu);
	while ((rc = interrupted_locked(e, flags)) == ENG_R_NEXT) {
		/* Wake at least every second: the lock's validity is a clock. */
		struct timespec step;

		eng_deadline(&step, 1000);
		if (step.tv_sec > until.tv_sec || (step.tv_sec == until.tv_sec && step.tv_nsec > until.tv_nsec))
			step = until;
		if (pthread_cond_timedwait(&e->cv, &e->mu, &step) == ETIMEDOUT) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec))
				break;
		}
	}
	if (rc == ENG_R_NEXT)
		rc = interrupted_locked(e, flags);
	pthread_mutex_unlock(&e->mu);
	return lock_said(e, rc);
}

int
eng_gate(struct eng *e, enum eng_gate gate, char lines[][ENG_LINE], int nlines, const char *expect,
    int flags)
{
	cJSON *f = cJSON_CreateObject(), *arr;
	char answer[128], err[512];
	int rc;

	pthread_mutex_lock(&e->mu);
	e->want_confirm = 0;
	e->m.gate = gate;
	e->m.gate_lines = 0;
	for (int i = 0; i < nlines && i < 8; i++)
		snprintf(e->m.gate_text[e->m.gate_lines++], ENG_LINE, "%s", lines[i]);
	snprintf(e->m.gate_expect, sizeof e->m.gate_expect, "%s", expect != NULL ? expect : "");
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	if (f != NULL) {
		cJSON_AddStringToObject(f, "gate", gate == ENG_GATE_SWITCH ? "switch" : "teardown");
		arr = cJSON_AddArrayToObject(f, "change");
		for (int i = 0; i < nlines; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(lines[i]));
		if (expect != NULL)
			cJSON_AddStringToObject(f, "expect", expect);
		eng_event(e, "gate", f);
	}
	for (;;) {
		pthread_mutex_lock(&e->mu);
		while ((rc = interrupted_locked(e, flags)) == ENG_R_NEXT && !e->want_confirm) {
			struct timespec step;

			eng_deadline(&step, 1000);
			pthread_cond_timedwait(&e->cv, &e->mu, &step);
		}
		if (rc == ENG_R_NEXT) {
			e->want_confirm = 0;
			snprintf(answer, sizeof answer, "%s", e->confirm_text);
		}
		pthread_mutex_unlock(&e->mu);
		if (rc != ENG_R_NEXT)
			break;
		if (expect != NULL && strcmp(answer, expect) != 0) {
			eng_log(e, LOG_WARN, "%s gate: '%s' is not %s; not confirmed",
			    gate == ENG_GATE_SWITCH ? "switch" : "teardown", answer, expect);
			continue;
		}
		if (journal_confirm(e->journal, gate == ENG_GATE_SWITCH ? JOURNAL_GATE_SWITCH
		    : JOURNAL_GATE_TEARDOWN, eng_who(), answer, err, sizeof err) != 0) {
			rc = eng_reason(e, ENG_R_FAIL, "journal: %s", err);
			break;
		}
		if ((f = cJSON_CreateObject()) != NULL) {
			cJSON_AddStringToObject(f, "gate", gate == ENG_GATE_SWITCH ? "switch" : "teardown");
			cJSON_AddStringToObject(f, "who", eng_who());
			eng_event(e, "confirm", f);
		}
		eng_log(e, LOG_INFO, "%s gate confirmed by %s", gate == ENG_GATE_SWITCH ? "switch" : "teardown",
		    eng_who());
		rc = ENG_R_NEXT;
		break;
	}
	pthread_mutex_lock(&e->mu);
	e->m.gate = ENG_GATE_NONE;
	e->m.gate_lines = 0;
	e->m.gate_expect[0] = '\0';
	e->m.gate_refused[0] = '\0';
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	if (rc == ENG_R_STOP) {
		pthread_mutex_lock(&e->mu);
		/* declined: exit 3, "paused", run again to continue; an abort
		 * (a signal, quitting) while the gate waited is exit 5 */
		if (e->declined && !e->want_abort && !e->quit)
			e->m.exit_code = ENG_EXIT_GATE;
		pthread_mutex_unlock(&e->mu);
	}
	return rc;
}

int
eng_post(struct eng *e, enum eng_cmd cmd, const char *text, char *err, size_t errlen)
{
	int rc = 0;

	pthread_mutex_lock(&e->mu);
	switch (cmd) {
	case ENG_CMD_CONFIRM:
		if (e->m.gate == ENG_GATE_NONE) {
			util_errf(err, errlen, "no gate is waiting for a confirmation");
			rc = -1;
			break;
		}
		e->want_confirm = 1;
		snprintf(e->confirm_text, sizeof e->confirm_text, "%s", text != NULL ? text : "");
		break;
	case ENG_CMD_ROLLBACK:
		if (!e->m.rollback_allowed) {
			util_errf(err, errlen, "rollback does not apply in state %s", table[e->m.state].name);
			rc = -1;
			break;
		}
		if (!e->want_rollback) {
			e->want_rollback = 1;
			e->rollback_auto = 0;
			snprintf(e->rollback_reason, sizeof e->rollback_reason, "%s",
			    text != NULL && text[0] != '\0' ? text : "asked by the operator");
		}
		break;
	case ENG_CMD_PAUSE:
		e->m.paused = 1;
		break;
	case ENG_CMD_RESUME:
		e->m.paused = 0;
		break;
	case ENG_CMD_ABORT:
		if (e->want_abort)
			e->hard_abort = 1;
		e->want_abort = 1;
		break;
	case ENG_CMD_DECLINE:
		if (e->m.gate == ENG_GATE_NONE) {
			util_errf(err, errlen, "no gate is waiting");
			rc = -1;
			break;
		}
		e->declined = 1;
		break;
	}
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	return rc;
}

void
eng_snapshot(struct eng *e, struct eng_model *m)
{
	pthread_mutex_lock(&e->mu);
	*m = e->m;
	pthread_mutex_unlock(&e->mu);
}

uint64_t
eng_wait(struct eng *e, uint64_t version, long timeout_ms)
{
	struct timespec until;
	uint64_t v;

	eng_deadline(&until, timeout_ms);
	pthread_mutex_lock(&e->mu);
	while (e->m.version == version && !e->m.finished)
		if (pthread_cond_timedwait(&e->cv, &e->mu, &until) == ETIMEDOUT)
			break;
	v = e->m.version;
	pthread_mutex_unlock(&e->mu);
	return v;
}

/* ---- kube connections -------------------------------------------------------- */

int
eng_kube_up(struct eng *e, enum cfg_role role, char *err, size_t errlen)
{
	static const enum kube_informer_kind kinds[NKINDS] = {
		KUBE_INFORMER_NODES, KUBE_INFORMER_PODS, KUBE_INFORMER_DEPLOYMENTS,
	};

	if (e->kube_ok[role])
		return 0;
	if (conn_kube_open(&e->conn, role, &e->kube[role], err, errlen) != 0)
		return -1;
	if (e->kube[role].warning[0] != '\0')
		eng_log(e, LOG_WARN, "%s: %s", cfg_role_name(role), e->kube[role].warning);
	for (int k = 0; k < NKINDS; k++) {
		struct kube_informer_opts io = { 0 };
		char name[64], why[512];

		snprintf(name, sizeof name, "%s/%d", cfg_role_name(role), k);
		io.name = name;
		io.on_change = eng_kube_changed;
		io.ctx = e;
		e->inf[role][k] = kube_informer_start(e->kube[role].client, kinds[k], &io, why, sizeof why);
		if (e->inf[role][k] == NULL) {
			/* all or nothing: a later call tries again */
			util_errf(err, errlen, "%s: informer: %s", cfg_role_name(role), why);
			for (int j = 0; j < k; j++) {
				kube_informer_stop(e->inf[role][j]);
				e->inf[role][j] = NULL;
			}
			conn_kube_close(&e->kube[role]);
			return -1;
		}
	}
	pthread_mutex_lock(&e->mu);
	e->kube_ok[role] = 1;
	snprintf(e->m.clusters[role].server, sizeof e->m.clusters[role].server, "%s",
	    kube_client_server(e->kube[role].client));
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	return 0;
}

static void
kube_down(struct eng *e, enum cfg_role role)
{
	for (int k = 0; k < NKINDS; k++) {
		if (e->inf[role][k] != NULL)
			kube_informer_stop(e->inf[role][k]);
		e->inf[role][k] = NULL;
	}
	if (e->kube_ok[role])
		conn_kube_close(&e->kube[role]);
	e->kube_ok[role] = 0;
}

int
eng_transient(int rc)
{
	switch (rc) {
	case ARM_E_STATUS:
	case ARM_E_PRECONDITION:
	case ARM_E_TRANSPORT:
	case ARM_E_AUTH:
	case ARM_E_POLL:
	case ARM_E_TIMEOUT:
	case APPGW_E_CONFLICT:
	case APPGW_E_VERIFY:
	case PDNS_E_VERIFY:
		return 1;
	default:
		return 0;
	}
}

/* ---- the driver ---------------------------------------------------------------- */

struct worker {
	struct eng *e;
	enum eng_state state;
	int rc;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	w->rc = table[w->state].run(w->e);
	return NULL;
}

static void
lock_lost_cb(void *ctx, const char *why)
{
	struct eng *e = ctx;

	(void)why;
	pthread_mutex_lock(&e->mu);
	eng_touch_locked(e);		/* wakes every wait; they see lock_lost() */
	pthread_mutex_unlock(&e->mu);
}

static void
set_state(struct eng *e, enum eng_state s)
{
	cJSON *f;

	pthread_mutex_lock(&e->mu);
	e->m.state = s;
	snprintf(e->m.state_name, sizeof e->m.state_name, "%s", table[s].name);
	if (table[s].stage >= 0)
		e->m.stage = table[s].stage;
	e->m.rollback_allowed = table[s].rollback;
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	if ((f = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(f, "state", table[s].name);
		if (table[s].stage >= 0)
			cJSON_AddStringToObject(f, "stage", journal_stage_name(table[s].stage));
		eng_event(e, "state", f);
	}
}

/* The next state after S's worker returned RC (and may have chosen NEXT). */
static enum eng_state
follow(struct eng *e, enum eng_state s, int rc, enum eng_state chosen)
{
	switch (rc) {
	case ENG_R_NEXT:
		return chosen != ENG_NSTATES ? chosen : table[s].next;
	case ENG_R_ROLLBACK:
		return ENG_S_ROLLBACK;
	case ENG_R_STOP:
		return ENG_S_STOPPED;
	case ENG_R_LOCK:
		pthread_mutex_lock(&e->mu);
		e->m.exit_code = ENG_EXIT_LOCKED;
		pthread_mutex_unlock(&e->mu);
		return ENG_S_FAILED;
	default:
		return ENG_S_FAILED;
	}
}


static void
finish(struct eng *e, enum eng_state s)
{
	enum journal_result res;
	char err[512];
	int code;
	cJSON *f;

	/* The watchers stop first, so that nothing is journaled or sent
	 * after run-end. */
	pthread_mutex_lock(&e->mu);
	e->quit = 1;
	eng_touch_locked(e);
	code = e->m.exit_code;
	pthread_mutex_unlock(&e->mu);
	if (e->have_checker) {
		pthread_join(e->checker, NULL);
		e->have_checker = 0;
	}
	if (e->have_observer) {
		pthread_join(e->observer, NULL);
		e->have_observer = 0;
	}
	/* one last look, so the screen shows the world as the run left it
	 * (blue deleted, weights restored) */
	eng_observe_once(e, 0);
	switch (s) {
	case ENG_S_DONE:
		res = JOURNAL_RESULT_DONE;
		code = ENG_EXIT_DONE;
		break;
	case ENG_S_ROLLED_BACK:
		res = JOURNAL_RESULT_ROLLED_BACK;
		code = e->o.rollback_only ? ENG_EXIT_DONE : ENG_EXIT_ROLLED_BACK;
		break;
	case ENG_S_STOPPED:
		code = code == ENG_EXIT_GATE ? ENG_EXIT_GATE : ENG_EXIT_FAILED;
		res = code == ENG_EXIT_GATE ? JOURNAL_RESULT_PAUSED : JOURNAL_RESULT_ABORTED;
		break;
	default:
		res = JOURNAL_RESULT_FAILED;
		code = code == ENG_EXIT_LOCKED ? ENG_EXIT_LOCKED : ENG_EXIT_FAILED;
		break;
	}
	/* After a lost lock nothing more is written: someone else may be
	 * driving the switchover now. */
	if (code != ENG_EXIT_LOCKED && journal_run_end(e->journal, res, err, sizeof err) != 0) {
		eng_log(e, LOG_ERROR, "journal: %s", err);
		if (code == ENG_EXIT_DONE)
			code = ENG_EXIT_FAILED;
	}
	if ((f = cJSON_CreateObject()) != NULL) {
		char reason[ENG_LINE];

		pthread_mutex_lock(&e->mu);
		snprintf(reason, sizeof reason, "%s", e->m.reason);
		pthread_mutex_unlock(&e->mu);
		cJSON_AddStringToObject(f, "result", journal_result_name(res));
		cJSON_AddNumberToObject(f, "exit", code);
		cJSON_AddStringToObject(f, "state", table[s].name);
		if (reason[0] != '\0')
			cJSON_AddStringToObject(f, "reason", reason);
		eng_event(e, "run-end", f);
	}
	pthread_mutex_lock(&e->mu);
	e->m.exit_code = code;
	e->m.finished = 1;
	e->quit = 1;
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
}

static void *
driver_main(void *arg)
{
	struct eng *e = arg;
	enum eng_state s = ENG_S_OBSERVE;

	while (table[s].run != NULL) {
		struct worker w = { e, s, ENG_R_FAIL };
		pthread_t t;
		enum eng_state next;

		set_state(e, s);
		if (pthread_create(&t, NULL, worker_main, &w) != 0) {
			eng_reason(e, ENG_R_FAIL, "cannot start the %s worker thread", table[s].name);
			s = ENG_S_FAILED;
			break;
		}
		pthread_join(t, NULL);
		next = follow(e, s, w.rc, w.rc == ENG_R_NEXT ? eng_next_override(e) : ENG_NSTATES);
		if (!(table[s].to & B(next))) {
			eng_reason(e, ENG_R_FAIL, "internal: %s may not lead to %s; stopped",
			    table[s].name, table[next].name);
			next = ENG_S_FAILED;
		}
		s = next;
	}
	set_state(e, s);
	finish(e, s);
	return NULL;
}

/* ---- life cycle ------------------------------------------------------------------ */

struct eng *
eng_new(const struct eng_opts *o, char *err, size_t errlen, int *exit)
{
	struct eng *e = calloc(1, sizeof *e);
	pthread_condattr_t ca;

	*exit = ENG_EXIT_FAILED;
	if (e == NULL) {
		util_errf(err, errlen, "out of memory");
		return NULL;
	}
	e->o = *o;
	if (cfg_load(o->config_path, &e->cfg, err, errlen) != 0) {
		*exit = ENG_EXIT_CONFIG;
		free(e);
		return NULL;
	}
	if (e->cfg.nchecks > ENG_MAX_CHECKS) {
		util_errf(err, errlen, "%s: %zu checks; at most %d are supported", o->config_path,
		    e->cfg.nchecks, ENG_MAX_CHECKS);
		*exit = ENG_EXIT_CONFIG;
		cfg_free(&e->cfg);
		free(e);
		return NULL;
	}
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cv, &ca);
	pthread_condattr_destroy(&ca);
	e->view.stage = -1;
	e->next_state = ENG_NSTATES;
	e->dns_ttl_before = -1;
	snprintf(e->m.name, sizeof e->m.name, "%s", e->cfg.name);
	snprintf(e->m.resource_group, sizeof e->m.resource_group, "%s", e->cfg.azure.resource_group);
	for (int r = 0; r < 2; r++) {
		snprintf(e->m.clusters[r].name, sizeof e->m.clusters[r].name, "%s", e->cfg.clusters[r].name);
		e->m.clusters[r].exists = -1;
	}
	e->m.nsteps = e->cfg.gateway.has_gateway ? e->cfg.gateway.nsteps : 0;
	e->m.traffic.has_gateway = e->cfg.gateway.has_gateway;
	e->m.traffic.has_dns = e->cfg.dns.has_dns;
	if (e->cfg.gateway.has_gateway) {
		snprintf(e->m.traffic.gateway, sizeof e->m.traffic.gateway, "%s", e->cfg.gateway.name);
		snprintf(e->m.traffic.rule, sizeof e->m.traffic.rule, "%s", e->cfg.gateway.rule);
	}
	e->m.nchecks = (int)e->cfg.nchecks;
	for (size_t i = 0; i < e->cfg.nchecks; i++) {
		struct eng_check_view *cv = &e->m.checks[i];

		check_state_init(&e->cs[i], &e->cfg.checks[i]);
		snprintf(cv->name, sizeof cv->name, "%s", e->cfg.checks[i].name);
		snprintf(cv->type, sizeof cv->type, "%s", cfg_check_type_name(e->cfg.checks[i].type));
		cv->gates = e->cfg.checks[i].gates;
		cv->rollback_on_fail = e->cfg.checks[i].rollback_on_fail;
	}
	e->m.state = ENG_S_OBSERVE;
	snprintf(e->m.state_name, sizeof e->m.state_name, "%s", table[ENG_S_OBSERVE].name);
	*exit = 0;
	return e;
}

static int
lock_refused(struct eng *e, int code, const char *why, char *err, size_t errlen)
{
	(void)e;
	if (code == LOCK_E_HELD || code == LOCK_E_EXPIRED) {
		util_errf(err, errlen, "%s", why);
		return ENG_EXIT_LOCKED;
	}
	util_errf(err, errlen, "cannot take the switchover lock: %s", why);
	return ENG_EXIT_FAILED;
}

int
eng_start(struct eng *e, char *err, size_t errlen)
{
	struct lock_opts lo = { 0 };
	struct http_client_config hc = { 0 };
	char why[1024];
	enum cfg_role lock_role;
	int code = 0;
	cJSON *f;

	if (conn_open(&e->conn, &e->cfg, 0, why, sizeof why) != 0) {
		util_errf(err, errlen, "%s", why);
		return ENG_EXIT_CONFIG;
	}
	e->conn_ok = 1;
	if ((e->cancel = http_cancel_new()) == NULL) {
		util_errf(err, errlen, "out of memory");
		return ENG_EXIT_FAILED;
	}
	e->arm_opts.cancel = e->cancel;

	/* Where the Lease lives: the live cluster, blue, until teardown has
	 * begun; from then on green (blue's API server may be gone).  The
	 * journal is read before the lock only to choose; it is read again
	 * once the lock is held. */
	if (journal_path(e->cfg.name, why, sizeof why, err, errlen) != 0)
		return ENG_EXIT_CONFIG;
	if (journal_view_load(why, &e->view, err, errlen) != 0)
		return ENG_EXIT_FAILED;
	lock_role = e->view.teardown_started ? CFG_GREEN : CFG_BLUE;
	e->lock_role = lock_role;
	journal_view_free(&e->view);
	memset(&e->view, 0, sizeof e->view);
	if (eng_kube_up(e, lock_role, why, sizeof why) != 0) {
		util_errf(err, errlen, "cannot reach %s (%s) to take the switchover lock there: %s",
		    cfg_role_name(lock_role), e->cfg.clusters[lock_role].name, why);
		return ENG_EXIT_FAILED;
	}
	lo.name = e->cfg.name;
	lo.kube = e->kube[lock_role].client;
	lo.duration_s = e->o.lock_duration_s;
	lo.take_over = e->o.take_over;
	lo.on_lost = lock_lost_cb;
	lo.ctx = e;
	if ((e->lock = lock_acquire(&lo, why, sizeof why, &code)) == NULL)
		return lock_refused(e, code, why, err, errlen);
	snprintf(who_buf, sizeof who_buf, "%s", lock_holder(e->lock));
	if (strrchr(who_buf, '/') != NULL)
		*strrchr(who_buf, '/') = '\0';

	if ((e->journal = journal_open(e->cfg.name, err, errlen)) == NULL)
		return ENG_EXIT_FAILED;
	if (journal_view_load(journal_file(e->journal), &e->view, err, errlen) != 0)
		return ENG_EXIT_FAILED;
	if (journal_run_start(e->journal, e->cfg.path, e->cfg.clusters[CFG_BLUE].name,
	    e->cfg.clusters[CFG_GREEN].name, err, errlen) != 0)
		return ENG_EXIT_FAILED;
	e->resumed = e->view.has_run && !(e->view.ended && (e->view.result == JOURNAL_RESULT_DONE
	    || e->view.result == JOURNAL_RESULT_ROLLED_BACK));
	traffic_init(&e->traffic, &e->conn, e->journal);
	e->traffic.arm_opts = &e->arm_opts;
	hc.name = "checks";
	if ((e->http = http_client_new(&hc, why, sizeof why)) == NULL) {
		util_errf(err, errlen, "http client: %s", why);
		return ENG_EXIT_FAILED;
	}
	snprintf(e->m.run_id, sizeof e->m.run_id, "%s", journal_run_id(e->journal));
	snprintf(e->m.journal, sizeof e->m.journal, "%s", journal_file(e->journal));
	snprintf(e->m.holder, sizeof e->m.holder, "%s", lock_holder(e->lock));
	if ((f = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(f, "name", e->cfg.name);
		cJSON_AddStringToObject(f, "run", journal_run_id(e->journal));
		cJSON_AddStringToObject(f, "journal", journal_file(e->journal));
		cJSON_AddStringToObject(f, "config", e->cfg.path);
		cJSON_AddStringToObject(f, "blue", e->cfg.clusters[CFG_BLUE].name);
		cJSON_AddStringToObject(f, "green", e->cfg.clusters[CFG_GREEN].name);
		cJSON_AddStringToObject(f, "holder", lock_holder(e->lock));
		cJSON_AddStringToObject(f, "lease", lock_lease_name(e->lock));
		cJSON_AddStringToObject(f, "leaseCluster", cfg_role_name(lock_role));
		cJSON_AddBoolToObject(f, "resumed", e->resumed);
		cJSON_AddBoolToObject(f, "rollbackOnly", e->o.rollback_only != 0);
		eng_event(e, "run-start", f);
	}
	if (pthread_create(&e->observer, NULL, eng_observer_main, e) == 0)
		e->have_observer = 1;
	if (pthread_create(&e->checker, NULL, eng_checks_main, e) == 0)
		e->have_checker = 1;
	if (!e->have_observer || !e->have_checker
	    || pthread_create(&e->driver, NULL, driver_main, e) != 0) {
		util_errf(err, errlen, "cannot start the engine's threads");
		return ENG_EXIT_FAILED;
	}
	e->have_driver = 1;
	return 0;
}

int
eng_join(struct eng *e)
{
	if (e->have_driver) {
		pthread_join(e->driver, NULL);
		e->have_driver = 0;
	}
	return e->m.exit_code;
}

void
eng_free(struct eng *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&e->mu);
	e->want_abort = e->hard_abort = 1;
	e->quit = 1;
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	if (e->cancel != NULL)
		http_cancel_fire(e->cancel);
	if (e->have_driver)
		pthread_join(e->driver, NULL);
	if (e->have_checker)
		pthread_join(e->checker, NULL);
	if (e->have_observer)
		pthread_join(e->observer, NULL);
	/* Leases before their clients (lock.h). */
	lock_release(e->lock_green);
	lock_release(e->lock);
	for (int r = 0; r < 2; r++)
		kube_down(e, (enum cfg_role)r);
	if (e->journal != NULL)
		journal_close(e->journal);
	journal_view_free(&e->view);
	http_client_free(e->http);
	if (e->conn_ok)
		conn_close(&e->conn);
	http_cancel_free(e->cancel);
	cfg_free(&e->cfg);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
}
