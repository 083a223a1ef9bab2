/*
 * check.h — the validation checks of a switchover (PRODUCT.md §3 `checks:`):
 * one measurement of a check, and the tracker that turns a series of
 * measurements into the verdict a stage gate and automatic rollback act on.
 *
 * A check reads the world only through a struct check_env, which the engine
 * fills with what it already holds (informer snapshots or a callback taking
 * them, the ARM client and gateway, an HTTP client), so the same code runs
 * against Azure, the simulator, or hand-built snapshots in a test.
 *
 * Every measurement ends in one of three states.  PASS and FAIL are answers;
 * ERROR means the check could not measure (informer not synced, API server
 * unreachable, ARM error, command timed out).  For gating an ERROR counts
 * exactly like a FAIL (PRODUCT.md §6: a failed read is a failure, not a
 * pass), but it is reported distinctly so the operator knows whether the
 * platform is unhealthy or bgswitch is blind.
 *
 * Per-type rules that are choices rather than obvious:
 *  - nodes-ready: a cordoned node that is Ready counts as ready (cordons
 *    are an operator's or an upgrade's scheduling decision, not ill health)
 *    but is named in the detail.  A cluster with no nodes fails.
 *  - pods-ready / deployments-available: a namespace of `namespaces` that
 *    has no pods (deployments) at all fails the check: the config names it
 *    because workloads are expected there, and an empty namespace on green
 *    usually means sync has not happened.  Without `namespaces` the whole
 *    cluster is judged, and an empty cluster fails too.
 *  - metric: a window without data is 0 for Total and Count ("no requests"
 *    is zero 5xx answers); for Average, Maximum and Minimum it is an ERROR.
 *  - command: exit 0 passes, another exit status or a signal fails, a
 *    timeout (the process group is killed) or a failure to start is ERROR.
 */
#ifndef BGSWITCH_CHECK_H
#define BGSWITCH_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "kube/kube_informer.h"
#include "src/config.h"

struct arm_client;
struct http_client;
struct http_cancel;

enum check_status {
	CHECK_PASS = 0,
	CHECK_FAIL,
	CHECK_ERROR,		/* could not measure: a failure for gating */
};

/* What one run of a check measured. */
struct check_result {
	enum check_status status;
	char value[128];	/* "11/12 ready", "200 in 42 ms", "0.8" */
	double number;		/* the number the threshold is about */
	bool has_number;
	char threshold[96];	/* "= 12", "<= 10", "200, <= 300 ms" */
	char detail[512];	/* why: "aks-sys-vmss000003 NotReady", last output line */
	long elapsed_ms;	/* how long the measurement took */
};

/* Takes a snapshot of KIND for ROLE into *OUT (released by the check with
 * kube_snapshot_free).  Returns 0, or -1 when there is no such informer. */
typedef int (*check_snapshot_fn)(void *ctx, enum cfg_role role,
    enum kube_informer_kind kind, struct kube_snapshot *out);

/* Everything a check may read.  Members a check type does not use may be
 * left zero; a missing member its type needs makes the run an ERROR. */
struct check_env {
	/* Kubernetes: fixed snapshots per role ([CFG_BLUE], [CFG_GREEN]),
	 * or, when `snapshot` is set, a callback taking a fresh one. */
	const struct kube_snapshot *nodes[2], *pods[2], *deployments[2];
	check_snapshot_fn snapshot;
	void *snapshot_ctx;
	/* backend-health and metric */
	struct arm_client *arm;
	const char *gateway_id;		/* full ARM id of the application gateway */
	const char *pools[2];		/* backend pool of each role */
	const char *settings_id;	/* rule's backendHttpSettings id; may be NULL */
	long long now_s;		/* metrics "now", Unix s; 0 = the clock */
	/* http */
	struct http_client *http;
	/* Stops a running HTTP or ARM request at once; may be NULL. */
	struct http_cancel *cancel;
};

/* Runs CHECK once against ENV and fills *OUT (always, whatever happens).
 * Blocks for at most about the check's timeout_ms (ARM calls: the ARM
 * client's own limits, bounded by timeout_ms).  Returns OUT->status.
 * Thread-safe as long as ENV's clients are. */
enum check_status check_run_once(const struct cfg_check *check, const struct check_env *env,
    struct check_result *out);

/* "pass" | "fail" | "error". */
const char *check_status_name(enum check_status s);

/* ---- tracking a check over time ---- */

enum check_verdict {
	CHECK_PENDING = 0,	/* neither threshold reached yet */
	CHECK_PASSING,		/* success_threshold consecutive passes */
	CHECK_FAILING,		/* failure_threshold consecutive failures */
};

/* The running state of one check.  The verdict has hysteresis, as
 * Kubernetes probes do: once passing it stays passing until
 * failure_threshold consecutive failures, once failing until
 * success_threshold consecutive passes. */
struct check_state {
	const struct cfg_check *check;	/* borrowed */
	enum check_verdict verdict;
	int consecutive_ok;		/* passes in a row */
	int consecutive_bad;		/* failures and errors in a row */
	long runs;
	bool rollback_due;		/* rollback_on_fail > 0 failures in a row */
	long long last_run_ms;		/* caller's clock; valid when runs > 0 */
	struct check_result last;	/* valid when runs > 0 */
};

/* Starts tracking CHECK: pending, due at once. */
void check_state_init(struct check_state *st, const struct cfg_check *check);
/* Forgets the history (a gate being entered again), keeps the check. */
void check_state_reset(struct check_state *st);
/* Counts R (taken at NOW_MS) and updates the verdict and rollback_due. */
void check_state_record(struct check_state *st, const struct check_result *r,
    long long now_ms);
/* Whether the check should run at NOW_MS: never run yet, or interval_ms
 * (10 s when unset) has passed since the last run. */
bool check_due(const struct check_state *st, long long now_ms);
/* Milliseconds until the check is due (0 when due now). */
long long check_due_in(const struct check_state *st, long long now_ms);
/* Whether the gate may open: the verdict is PASSING. */
bool check_gate_open(const struct check_state *st);

/* "pending" | "passing" | "failing". */
const char *check_verdict_name(enum check_verdict v);

#endif
