/*
 * traffic.h — stage T3's mechanics: moving traffic from blue to green one
 * journaled step at a time (gateway weights, the DNS record) and putting
 * it back (rollback), plus a read-only view of where traffic goes now.
 *
 * Every write follows PRODUCT.md §6: read the resource, journal an intent
 * with the full "before" and the planned "after" (journal_intent returns
 * only once the record is fsync'd), then write with that "before" as the
 * precondition (the gateway snapshot as EXPECT, the record's ETag as
 * If-Match), then journal the outcome with the state read back.  A failed
 * journal append stops the call before ARM is touched.  The stage machine
 * (soak, checks, confirmation) is the engine's; this module makes single
 * steps and knows nothing of timing.
 *
 * Return codes: 0, the ARM_E_* / APPGW_E_* / PDNS_E_* code of the call
 * that failed, or TRAFFIC_E_* below; always with one readable line in ERR.
 */
#ifndef BGSWITCH_TRAFFIC_H
#define BGSWITCH_TRAFFIC_H

#include <stddef.h>

#include "azure/appgw.h"
#include "azure/arm.h"
#include "azure/pdns.h"
#include "src/config.h"
#include "src/journal.h"

struct conn;

enum traffic_rc {
	TRAFFIC_E_JOURNAL = -50,	/* an append failed: nothing (more) written to ARM */
	TRAFFIC_E_NOT_CONFIGURED = -51,	/* no gateway / no DNS record in the config */
	TRAFFIC_E_INVALID = -52,	/* bad arguments */
};

/* Everything borrowed: the caller keeps them alive while T is used. */
struct traffic {
	struct arm_client *arm;
	const struct cfg *cfg;		/* traffic.gateway, traffic.dns */
	const char *gateway_id;		/* NULL or "": no gateway */
	const char *dns_id;		/* NULL or "": no DNS record */
	struct journal *journal;	/* open for writing (the engine holds the lock) */
	const struct arm_opts *arm_opts;	/* progress, cancel, deadline; may be NULL */
	/* One line per thing done ("gateway agw-prod: blue 90 / green 10"), for
	 * the log pane; may be NULL.  Called on the caller's thread. */
	void (*progress)(void *ctx, const char *line);
	void *progress_ctx;
};

/* Fills T from C (arm client, ids, cfg) and J; no I/O. */
void traffic_init(struct traffic *t, const struct conn *c, struct journal *j);

/* One gateway step: blue 100-GREEN_PERCENT, green GREEN_PERCENT (0..100).
 * Journals "gateway-weights" {before: the rule's snapshot, after: {blue,
 * green}}, writes with EXPECT = that snapshot (APPGW_E_DRIFT when someone
 * else changed the rule: nothing written, and the outcome records it). */
int traffic_set_weights(struct traffic *t, int green_percent, char *err, size_t errlen);

/* Points the DNS record at TO's configured target (and the configured TTL,
 * if any).  Journals "dns-record" {before: pdns_record_json of the record,
 * after: {targets, ttl, pointsTo}}, writes with If-Match = the ETag read
 * (ARM_E_PRECONDITION when the record changed in between). */
int traffic_move_dns(struct traffic *t, enum cfg_role to, char *err, size_t errlen);

struct traffic_rollback_result {
	int gateway_restored;		/* 1: a restore was written */
	int dns_restored;
	int reconciled;			/* pending intents closed from what ARM showed */
};

/*
 * Puts gateway and DNS back to how they were before the first change of
 * this switchover (journal_view_load's gateway_before / dns_before).
 * Pending traffic intents (a crash between intent and outcome) are first
 * closed with an outcome holding what ARM shows now.  Each restore is a
 * journaled "gateway-restore" / "dns-restore" intent and its outcome; a
 * resource already as it was gets no record and no write, so a second
 * rollback writes nothing.  Restores in the reverse order of the switch.
 * Both are attempted even when one fails (except after a journal failure,
 * which stops everything); the first error is returned.  RES may be NULL.
 * Writing the "rollback" and "run-end" records is the engine's part.
 */
int traffic_rollback(struct traffic *t, struct traffic_rollback_result *res, char *err,
    size_t errlen);

/* Closes the traffic intents among PENDING[0..N-1] (a crash between intent
 * and outcome) with an outcome holding what ARM shows now, as rollback
 * does first; other intents are left alone, and so is one whose resource
 * cannot be read (it stays pending, with ERR set).  CLOSED (may be NULL)
 * counts those closed.  0, or TRAFFIC_E_JOURNAL when an append failed. */
int traffic_reconcile(struct traffic *t, const struct journal_pending *pending, size_t n,
    int *closed, char *err, size_t errlen);

/* Where traffic goes now. */
struct traffic_state {
	int has_gateway;
	struct appgw_weights weights;	/* .blue.share / .green.share in percent */
	int has_dns;
	struct pdns_record dns;
	const char *dns_points_to;	/* "blue" | "green" | "other" (static) */
};

/* Reads the gateway and the DNS record (those configured).  0, or the
 * first failure: a failed read is unknown state, never a guess. */
int traffic_observe(struct traffic *t, struct traffic_state *s, char *err, size_t errlen);

#endif
