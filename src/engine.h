/*
 * engine.h — the switchover engine: the five stages of PRODUCT.md §1 as one
 * table of states (src/engine.c), run by worker threads, stopping at the
 * gates for an explicit decision.
 *
 * Whoever drives it — the curses UI, the headless driver of `bgswitch run
 * --headless`, `bgswitch rollback` — does three things only: reads a model
 * snapshot (struct eng_model, a plain copy that never points into the
 * engine), waits for the model to change, and posts commands (confirm,
 * rollback, pause, resume, abort).  Events (struct eng_opts.on_event) are
 * the same facts as JSON lines, the headless output format.
 *
 * The safety rules of PRODUCT.md §6 are the engine's invariants: no state
 * advances on a failed read; every traffic change is journaled before it
 * is made (src/traffic.c); blue is torn down only after the rollback
 * window, with the teardown checks passing, traffic provably off blue and
 * blue's name typed; a switchover is driven by one process at a time
 * (src/lock.c).
 */
#ifndef BGSWITCH_ENGINE_H
#define BGSWITCH_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "src/check.h"

/* The states, in the order a switchover passes them.  The table in
 * engine.c says which follows which; bgswitch(1), STAGES, draws it. */
enum eng_state {
	ENG_S_OBSERVE,		/* T0: read blue, green, traffic; reconcile the journal */
	ENG_S_PROVISION,	/* T1: make green exist; platform checks */
	ENG_S_SYNC,		/* T2: bring state to green; parity; sync checks */
	ENG_S_SWITCH_GATE,	/* T3: waiting for the operator's confirmation */
	ENG_S_SWITCH,		/* T3: gateway steps with soaks, DNS */
	ENG_S_WINDOW,		/* the rollback window: post-switch checks keep running */
	ENG_S_TEARDOWN_GATE,	/* T4: waiting for blue's name to be typed */
	ENG_S_TEARDOWN,		/* T4: delete / stop / command / keep */
	ENG_S_ROLLBACK,		/* putting traffic back on blue */
	ENG_S_DONE,		/* green live, blue torn down (or kept) */
	ENG_S_ROLLED_BACK,	/* blue live again */
	ENG_S_STOPPED,		/* stopped at a gate or on request; state kept */
	ENG_S_FAILED,		/* stopped on an error; state kept */
	ENG_NSTATES
};

enum eng_cmd {
	ENG_CMD_CONFIRM,	/* at a gate; TEXT: blue's name at the teardown gate */
	ENG_CMD_ROLLBACK,	/* during T3, the window, the teardown gate; TEXT: reason */
	ENG_CMD_PAUSE,		/* hold automatic steps */
	ENG_CMD_RESUME,
	ENG_CMD_ABORT,		/* stop at the next safe point, state kept; a second abort
				 * also ends a running command (terraform, ...) */
	ENG_CMD_DECLINE,	/* at a gate: not now; the run stops there (exit 3) */
};

enum eng_gate { ENG_GATE_NONE, ENG_GATE_SWITCH, ENG_GATE_TEARDOWN };

/* Exit codes of `run --headless` and `rollback` (bgswitch(1), EXIT STATUS). */
enum {
	ENG_EXIT_DONE = 0,
	ENG_EXIT_CONFIG = 2,
	ENG_EXIT_GATE = 3,	/* stopped at a gate not approved; run again to continue */
	ENG_EXIT_ROLLED_BACK = 4,
	ENG_EXIT_FAILED = 5,	/* failed or interrupted; state kept */
	ENG_EXIT_LOCKED = 6,	/* the switchover is driven by someone else */
};

#define ENG_MAX_CHECKS	32
#define ENG_LOG_LINES	64
#define ENG_LINE	256

struct eng_check_view {
	char name[64];
	char type[24];
	unsigned gates;			/* enum cfg_gate bits */
	int active;			/* runs in the current state */
	int rollback_on_fail;
	enum check_verdict verdict;
	enum check_status status;	/* of the last run */
	long runs;
	int consecutive_bad;
	char value[128], threshold[96], detail[200];
};

#define ENG_MAX_NODES	1024	/* nodes listed per cluster; NotReady first */
#define ENG_MAX_NS	64	/* namespaces listed per cluster */
#define ENG_MAX_NA	16	/* workloads not available listed per cluster */

struct eng_node_view {
	char name[64];
	char status[12];		/* "Ready" | "NotReady" | "Unknown" */
	int cordoned;
	char version[24];		/* kubelet */
	long long created_s;		/* Unix s; 0 unknown */
};

struct eng_ns_view {
	char name[64];
	unsigned ready, total, pending, crashlooping;
};

struct eng_workload_view {
	char ns[64], name[128];
	int desired, available;
	char reason[64];
};

struct eng_cluster_view {
	char name[64];
	int exists;			/* 1, 0, or -1 unknown */
	char version[32];		/* running Kubernetes version */
	char provisioning[32], power[16];
	char server[256];		/* the API server the counts come from */
	int connected;			/* its informers' last request got an answer */
	long long data_ms;		/* wall ms the data was last known current (a live
					 * watch counts); 0 none */
	long long disconnected_since_ms;	/* 0 while connected */
	unsigned nodes_ready, nodes_total, pods_ready, pods_total, pods_pending, pods_crashlooping;
	unsigned deployments, deployments_not_available;
	char error[ENG_LINE];		/* last ARM or API error, "" */
	struct eng_node_view nodes[ENG_MAX_NODES];	/* NotReady/Unknown, cordoned, then by name */
	unsigned nnodes;
	struct eng_ns_view namespaces[ENG_MAX_NS];	/* by name */
	unsigned nnamespaces;
	struct eng_workload_view not_available[ENG_MAX_NA];
	unsigned nnot_available;
};

struct eng_traffic_view {
	int has_gateway, gateway_known;
	char gateway[81], rule[81];
	int blue_weight, green_weight;
	double blue_share, green_share;	/* percent */
	int health_known;
	int blue_healthy, blue_total, green_healthy, green_total;
	int has_dns, dns_known;
	char fqdn[300], type[8], target[256], points_to[8];
	long long ttl;
	long long dns_changed_ms;	/* wall ms of our last DNS change; 0 none */
	long long observed_ms;		/* wall ms of the last full read */
	char error[ENG_LINE];
};

/* Stage view states. */
enum { ENG_STAGE_PENDING, ENG_STAGE_RUNNING, ENG_STAGE_DONE, ENG_STAGE_FAILED, ENG_STAGE_SKIPPED };

struct eng_stage_view {
	int state;
	long long started_ms, ended_ms;	/* wall ms; 0 when not yet */
	char progress[160];		/* "applied 12/40", "Creating, 3 min" */
};

/* A copy of everything the screen shows.  VERSION grows on every change. */
struct eng_model {
	uint64_t version;
	char name[128], resource_group[96], run_id[40], journal[512], holder[160];
	enum eng_state state;
	char state_name[24];
	int stage;			/* 0..4, the T of STATE */
	struct eng_stage_view stages[5];
	enum eng_gate gate;		/* waiting at this gate */
	char gate_text[8][ENG_LINE];	/* the exact change the gate would make */
	int gate_lines;
	char gate_expect[64];		/* teardown: the name to type */
	char gate_refused[ENG_LINE];	/* why the gate cannot open now, "" */
	int step, nsteps, step_percent;	/* gateway steps: STEP of NSTEPS done */
	long long soak_until_ms;	/* wall ms; 0 when not soaking */
	long long window_until_ms;	/* wall ms the rollback window ends; 0 */
	int paused;
	int rollback_allowed;		/* the R key acts now */
	struct eng_cluster_view clusters[2];	/* [CFG_BLUE], [CFG_GREEN] */
	struct eng_traffic_view traffic;
	struct eng_check_view checks[ENG_MAX_CHECKS];
	int nchecks;
	char log[ENG_LOG_LINES][ENG_LINE];	/* a ring: the newest at (log_next - 1) */
	char log_level[ENG_LOG_LINES];		/* 'i'nfo, 'w'arn, 'e'rror, per line */
	unsigned log_next, log_count;
	int finished;			/* a terminal state was reached */
	int exit_code;
	char reason[ENG_LINE];		/* why it stopped, failed or rolled back */
};

struct eng_opts {
	const char *config_path;
	int take_over;			/* --take-over: an expired Lease may be taken */
	int rollback_only;		/* `bgswitch rollback`: restore traffic, nothing else */
	/* One JSON line per event (no newline), from engine threads, never
	 * with an engine lock held: the callback may post commands. */
	void (*on_event)(void *ctx, const char *json);
	void *event_ctx;
	long observe_ms;		/* ARM part of the model refreshed; 0 = 5000 */
	long retry_ms;			/* first wait before retrying ARM; 0 = 2000 */
	int lock_duration_s;		/* 0 = LOCK_DEFAULT_DURATION_S */
};

struct eng;

/* Loads and checks the config; no I/O beyond reading it.  NULL with ERR
 * and *EXIT (ENG_EXIT_CONFIG) when it is unusable. */
struct eng *eng_new(const struct eng_opts *o, char *err, size_t errlen, int *exit);
/* Takes the lock, opens the journal, reconciles and starts the run in its
 * threads.  0, or an ENG_EXIT_* code with ERR (ENG_EXIT_LOCKED names the
 * holder).  After a failed start only eng_free() may be called. */
int eng_start(struct eng *e, char *err, size_t errlen);
/* Posts a command; TEXT may be NULL.  Thread-safe, never blocks on I/O.
 * Returns 0, or -1 when it does not apply now (ERR says why). */
int eng_post(struct eng *e, enum eng_cmd cmd, const char *text, char *err, size_t errlen);
/* Copies the model. */
void eng_snapshot(struct eng *e, struct eng_model *m);
/* Waits until the model's version differs from VERSION or TIMEOUT_MS
 * passed; returns the current version. */
uint64_t eng_wait(struct eng *e, uint64_t version, long timeout_ms);
/* Waits for a terminal state; returns its exit code. */
int eng_join(struct eng *e);
/* Stops every thread (posting abort first if still running) and frees. */
void eng_free(struct eng *e);

const char *eng_state_name(enum eng_state s);	/* "switch-gate", ... */
/* The config's `theme`, or NULL. */
const char *eng_config_theme(const struct eng *e);
/* Blue's cluster name: what the teardown gate wants typed. */
const char *eng_blue_name(const struct eng *e);

#endif
