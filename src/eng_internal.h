/*
 * eng_internal.h — what the engine's files share and nothing else may use:
 * the engine object, the stage workers (eng_stages.c), the checks and
 * observer threads (eng_watch.c), and the helpers they call back into
 * engine.c for logging, events, waiting and the model.
 *
 * Locking: one mutex (E->mu) guards the model, the command flags and the
 * check states; one condition variable (E->cv) is signalled on every
 * command and model change.  No I/O is done with E->mu held, and events
 * are delivered after it is released.
 */
#ifndef BGSWITCH_ENG_INTERNAL_H
#define BGSWITCH_ENG_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>

#include <cjson/cJSON.h>

#include "azure/arm.h"
#include "kube/kube_informer.h"
#include "src/check.h"
#include "src/config.h"
#include "src/conn.h"
#include "src/engine.h"
#include "src/journal.h"
#include "src/lock.h"
#include "src/log.h"
#include "src/traffic.h"

#define ENG_MOD "engine"

/* What a stage worker returns: where the table goes next. */
enum eng_rc {
	ENG_R_NEXT,		/* the state's work is done */
	ENG_R_STOP,		/* a gate declined or abort: stop, state kept */
	ENG_R_FAIL,		/* an error: stop, state kept (E->m.reason says why) */
	ENG_R_ROLLBACK,		/* a rollback was asked or is due */
	ENG_R_LOCK,		/* the lock was lost: stop acting at once */
};

/* eng_sleep() flags */
#define ENG_WAKE_ROLLBACK	1	/* a rollback request ends the wait */

enum { KIND_NODES, KIND_PODS, KIND_DEPLOYMENTS, NKINDS };

struct eng {
	struct eng_opts o;
	struct cfg cfg;
	struct conn conn;
	int conn_ok;
	struct conn_kube kube[2];
	int kube_ok[2];
	struct kube_informer *inf[2][NKINDS];
	struct journal *journal;
	struct lock *lock;		/* the switchover's lock (local + a Lease) */
	struct lock *lock_green;	/* green's Lease, taken before teardown */
	struct traffic traffic;
	struct http_client *http;	/* http checks */
	struct http_cancel *cancel;	/* fired when the engine shuts down */
	struct arm_opts arm_opts;	/* cancel = E->cancel */
	struct journal_view view;	/* the journal as found at start */
	long long switched_ms;		/* wall ms traffic became fully green; 0 */
	long long dns_ttl_before;	/* the live record's TTL before the switch; -1 not read yet */
	int resumed;
	enum cfg_role lock_role;	/* where the main Lease is */
	enum eng_state next_state;	/* chosen by the observe worker; ENG_NSTATES */

	pthread_t driver, checker, observer;
	int have_driver, have_checker, have_observer;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	struct eng_model m;
	int quit;			/* threads end */
	int want_confirm;		/* a confirm command is waiting */
	char confirm_text[128];
	int want_rollback, rollback_auto;
	char rollback_reason[ENG_LINE];
	int want_abort;
	int hard_abort;			/* a second abort, or shutdown: running commands end too */
	int declined;			/* the gate was declined (exit 3), not aborted */
	int lock_moved;			/* green's Lease is held and T4 began: judge that one */
	unsigned active_gates;		/* enum cfg_gate bits the checks run for */
	int rollback_armed;		/* automatic rollback may fire (traffic moved) */
	struct check_state cs[ENG_MAX_CHECKS];
	uint64_t checks_epoch;		/* grows when the active set is reset */
	int kube_dirty;			/* an informer changed since the model was filled */
	long long obs_health_ms;
};

/* ---- engine.c: services for the workers ---- */

long long eng_wall_ms(void);
/* *TS = the CLOCK_MONOTONIC instant MS from now (E->cv's clock). */
void eng_deadline(struct timespec *ts, long ms);
void eng_log(struct eng *e, enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sends event TYPE with FIELDS (taken; may be NULL). */
void eng_event(struct eng *e, const char *type, cJSON *fields);
/* Stage STAGE's progress text, in the model and as a "progress" event. */
void eng_progress(struct eng *e, int stage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the model's reason; returns RC (for `return eng_fail(...)`). */
int eng_reason(struct eng *e, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Waits up to MS; ENG_R_NEXT when the time passed, else why it ended early
 * (abort, lock lost, a rollback request when FLAGS allow it). */
int eng_sleep(struct eng *e, long ms, int flags);
/* The same without waiting. */
int eng_interrupted(struct eng *e, int flags);
/* Marks the model changed (E->mu held) and wakes waiters. */
void eng_touch_locked(struct eng *e);
/* Journal a stage record and show it; -1 when the journal failed (the
 * reason is set). */
int eng_stage_mark(struct eng *e, int stage, enum journal_stage_state st, const char *detail);
/* Makes the checks thread run the checks of GATES (enum cfg_gate bits),
 * starting their history afresh. */
void eng_checks_activate(struct eng *e, unsigned gates);
/* Waits until every check of GATE passes.  ENG_R_NEXT, or why not. */
int eng_checks_wait(struct eng *e, unsigned gate, int stage, int flags);
/* Whether every check of GATE passes now (no check: yes). */
int eng_checks_passing(struct eng *e, unsigned gate, char *why, size_t whylen);
/* Shows a gate and waits for its confirmation.  EXPECT: the text that
 * must be typed (NULL: any confirm).  ENG_R_NEXT once confirmed. */
int eng_gate(struct eng *e, enum eng_gate gate, char lines[][ENG_LINE], int nlines,
    const char *expect, int flags);
/* Opens ROLE's Kubernetes connection and informers (idempotent). */
int eng_kube_up(struct eng *e, enum cfg_role role, char *err, size_t errlen);
/* Whether RC from traffic/ARM is worth retrying (ARM unreachable, 5xx,
 * throttling, a lost race) rather than an answer to act on. */
int eng_transient(int rc);
/* user@host, for confirmations. */
const char *eng_who(void);

/* ---- eng_stages.c: one worker per state ---- */

/* The state the observe worker chose (ENG_NSTATES: the table's next). */
enum eng_state eng_next_override(struct eng *e);

int eng_st_observe(struct eng *e);
int eng_st_provision(struct eng *e);
int eng_st_sync(struct eng *e);
int eng_st_switch_gate(struct eng *e);
int eng_st_switch(struct eng *e);
int eng_st_window(struct eng *e);
int eng_st_teardown_gate(struct eng *e);
int eng_st_teardown(struct eng *e);
int eng_st_rollback(struct eng *e);
/* Whether teardown may happen now: REFUSE_NONE, REFUSE_WAIT (time will
 * tell: the window, a TTL, metrics not covering the switch yet, a failed
 * read) or REFUSE_STOP (needs a person: gateway weight, DNS record or
 * traffic still on blue), with WHY. */
enum { REFUSE_NONE, REFUSE_WAIT, REFUSE_STOP };
int eng_teardown_refusal(struct eng *e, char *why, size_t whylen);

/* ---- eng_watch.c: the checks and observer threads ---- */

void *eng_checks_main(void *arg);
void *eng_observer_main(void *arg);
/* An informer's on_change: marks the model's cluster side stale. */
void eng_kube_changed(void *ctx);
/* One observation of ARM and traffic into the model (also called by
 * workers that need it fresh). */
void eng_observe_once(struct eng *e, int with_health);

#endif
