/*
 * provision.h — stage T1's and T4's changes to clusters: make green exist
 * (clone blue's ARM spec with the new Kubernetes version, or run the team's
 * own command), and take blue away at the end (delete, stop, command or
 * keep), each change journaled before it is made.
 *
 * Journal records ("what" of the intents; each intent's before.id is the
 * ARM id of the cluster it concerns):
 *   cluster-create     before {id, name, exists: false}, after the PUT body
 *   provision-command  before {id, name, exists, provisioningState?},
 *                      after {program, args}: argv[0] and how many arguments
 *                      follow, never the arguments (they may hold secrets)
 *   cluster-delete     before the cluster (aks_status_json + id), after {exists: false}
 *   cluster-stop       before the cluster, after {powerState: "Stopped"}
 *   teardown-command   before the cluster (or {id, name, exists: false}),
 *                      after {program, args}
 *   and a note "teardown: keep, blue NAME left running".
 * Outcomes carry the cluster as ARM showed it afterwards (aks_status_json
 * plus id, or {id, exists: false}), or no "after" when the effect of a
 * failed call is unknown, which leaves the intent pending for
 * prov_reconcile().
 *
 * An existing cluster is never modified: green is created only after a GET
 * said it does not exist (and the PUT carries If-None-Match: *), so a run
 * resumed after a crash at any point never creates green twice.  Whether a
 * teardown may happen at all is the engine's decision, not this module's.
 *
 * Return codes: 0, an ARM_E_* / AKS_E_* code of the call that failed, or
 * PROV_E_* below; always with one readable line in ERR.
 */
#ifndef BGSWITCH_PROVISION_H
#define BGSWITCH_PROVISION_H

#include <stddef.h>

#include "azure/aks.h"
#include "azure/arm.h"
#include "src/journal.h"

struct conn;

enum prov_rc {
	PROV_E_JOURNAL = -70,	/* an append failed: nothing (more) written to ARM */
	PROV_E_STATE = -71,	/* a cluster in a state this module will not touch */
	PROV_E_COMMAND = -72,	/* the provision or teardown command failed */
	PROV_E_MISSING = -73,	/* the provision command succeeded, ARM has no green */
	PROV_E_CANCELLED = -74,	/* the cancel flag was set */
	PROV_E_TIMEOUT = -75,	/* a cluster stayed Creating/Updating/... past wait_ms */
	PROV_E_INVALID = -76,	/* bad arguments or config (no command, ...) */
};

/* Everything borrowed: the caller keeps them alive while P is used. */
struct prov_ctx {
	struct conn *conn;		/* cfg, arm client, cluster_id[] */
	struct journal *journal;	/* open for writing (the engine holds the lock) */
	const struct arm_opts *arm_opts;	/* progress, cancel, deadline; may be NULL */
	/* One line per thing done or progress made ("green aks-prod-green:
	 * Creating, 40 s"), and every line a command prints, for the log
	 * pane; may be NULL.  Called on the caller's thread. */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
	/* Optional: non-zero stops waits and commands (the process group is
	 * killed), and ARM calls too when ARM_OPTS has no cancel token of its
	 * own (checked after each poll of an operation). */
	volatile int *cancel;
	long poll_ms;			/* GET interval while a cluster is busy; 0 = 5000 */
	long wait_ms;			/* longest wait for a busy cluster to settle; 0 = 60 min */
	long command_timeout_ms;	/* provision/teardown command; 0 = 60 min */
};

/*
 * Closes the pending intents (journal_view's, oldest first) that are this
 * module's — cluster-create, provision-command, cluster-delete,
 * cluster-stop, teardown-command — with an outcome describing what ARM
 * shows now (created, exists and busy, failed, not created, gone, stopped);
 * others are left alone.  An intent whose cluster cannot be read stays
 * pending and the call returns that error after trying the rest.
 */
int prov_reconcile(struct prov_ctx *p, const struct journal_pending *pending, size_t n,
    char *err, size_t errlen);

/*
 * Makes green exist, per cfg.provision.mode, and waits until ARM shows it
 * Succeeded.  arm-clone: an existing green is reused as it is (waited for
 * while Creating or Updating), or refused when Failed, Canceled, being
 * deleted, or running another version than clusters.green.kubernetes_version
 * (when set; "1.30" matches any 1.30.x); a missing one is created from
 * blue's spec.  command: the command is run (always: IaC converges), then
 * green must be found through ARM.  GREEN_OUT (may be NULL) gets green's
 * summary on success: free it with aks_summary_free().
 */
int prov_green(struct prov_ctx *p, struct aks_summary *green_out, char *err, size_t errlen);

/*
 * Takes blue away per cfg.teardown.mode: delete (nothing when already
 * gone), stop (nothing when already stopped), command, or keep (only a
 * journal note).  Performs; never decides whether it is allowed.
 */
int prov_teardown(struct prov_ctx *p, char *err, size_t errlen);

#endif
