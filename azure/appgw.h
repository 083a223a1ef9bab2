/*
 * appgw.h — the Application Gateway as bgswitch drives it: the weights of
 * the live routing rule between the blue and the green backend pool, the
 * change of those weights as a journaled read-modify-write, its exact
 * undo, and the gateway's backend health.
 *
 * The weights model (API spec Azure/azure-rest-api-specs, specification/
 * network/resource-manager/Microsoft.Network/Network/stable/2026-03-01/
 * applicationGateway.json; "Advanced load balancing on Azure Application
 * Gateway"): a request routing rule either names one backendAddressPool
 * (100 % to it) or a loadDistributionPolicy whose loadDistributionTargets
 * each name a pool and a weightPerServer; shares are relative (weight /
 * sum).  Path-based, redirect and advanced-routing rules are not driven.
 *
 * Changing weights (appgw_set_weights) and undoing a change
 * (appgw_restore) share one protocol, designed so that the engine can
 * journal every traffic change before making it and so that a concurrent
 * edit of the gateway by someone else is never silently overwritten:
 *
 *   1. The engine reads the rule with appgw_snapshot() and journals that
 *      JSON ("before").  It passes it back as EXPECT.
 *   2. The call GETs the gateway and its ETag and compares the relevant
 *      part (the rule and the policy it references, ignoring etag,
 *      provisioningState and type, which change on every gateway update)
 *      with EXPECT.  Different: APPGW_E_DRIFT, nothing written; the
 *      operator decides.
 *   3. It modifies only that part of the gateway body and PUTs the whole
 *      gateway with If-Match (the ARM operation is followed to its end).
 *   4. 412 (someone else wrote the gateway in between): back to 2, up to
 *      max_attempts times.  Their change is kept, since the PUT is rebuilt
 *      from the fresh read; if their change touched our rule, step 2 stops.
 *      Without EXPECT the first read plays its part for the retries.
 *   5. It GETs the gateway again and checks that the rule now sends what
 *      was asked (APPGW_E_VERIFY otherwise) and returns the before and
 *      after snapshots for the journal.
 *
 * A zero weight is written by leaving the pool out of the policy's targets:
 * the spec bounds weightPerServer to 1..100 while the feature's page allows
 * 0..100, and an absent target receives no traffic under either reading.
 * When a plain-pool rule is first given weights, a policy
 * "ldp-bgswitch-{rule}" is created and the rule's backendAddressPool is
 * replaced by a loadDistributionPolicy reference, so the rule has one
 * unambiguous target; appgw_restore() puts the plain pool back and removes
 * that policy when nothing else uses it.
 */
#ifndef BGSWITCH_AZURE_APPGW_H
#define BGSWITCH_AZURE_APPGW_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "azure/arm.h"

enum appgw_rc {
	APPGW_E_NOT_FOUND = -30,	/* gateway, rule, policy or pool missing */
	APPGW_E_UNSUPPORTED = -31,	/* rule kind or policy shape bgswitch does not drive */
	APPGW_E_DRIFT = -32,		/* the rule changed since EXPECT: nothing written */
	APPGW_E_VERIFY = -33,		/* written, but the re-read does not show it */
	APPGW_E_INVALID = -34,		/* bad arguments (weights, names, snapshot) */
	APPGW_E_BODY = -35,		/* ARM answered with a body we cannot use */
	APPGW_E_CONFLICT = -36,		/* still 412 after max_attempts */
};

#define APPGW_NAME_MAX 81		/* child names: 1-80 characters */
#define APPGW_MAX_OTHER 8

/* Which gateway, rule and pools. */
struct appgw_target {
	const char *gateway_id;		/* full ARM id of the application gateway */
	const char *rule;		/* requestRoutingRules[].name */
	const char *blue_pool;		/* backendAddressPools[].name */
	const char *green_pool;
};

struct appgw_pool_weight {
	char name[APPGW_NAME_MAX];
	char id[512];
	int weight;			/* weightPerServer (0 when not a target), 100 for a plain pool */
	double share;			/* percent of the rule's traffic */
};

/* What the rule does now. */
struct appgw_weights {
	int rule_found;
	char rule[APPGW_NAME_MAX];
	char rule_type[32];		/* ruleType as given ("Basic", ...) */
	char policy[APPGW_NAME_MAX];	/* the referenced policy, "" for a plain pool */
	int policy_shared;		/* other rules / path rules using the same policy */
	char settings_id[512];		/* the rule's backendHttpSettings id, "" if none */
	struct appgw_pool_weight blue, green;
	struct appgw_pool_weight other[APPGW_MAX_OTHER];	/* further targets */
	int nother;
	int total;			/* sum of weights */
};

struct appgw_write_opts {
	int max_attempts;		/* GET+PUT rounds on 412; 0 = 5 */
	const struct arm_opts *arm;	/* progress, cancel, deadline of each call; may be NULL */
};

/* The result of a change, for the journal and the screen. */
struct appgw_change {
	cJSON *before;			/* snapshot the PUT replaced (owned) */
	cJSON *after;			/* snapshot read back after it (owned) */
	struct appgw_weights was, now;
	int attempts;			/* GET+PUT rounds used */
	int changed;			/* 0: it already was so, nothing written */
	char etag[256];			/* the gateway's ETag after the change */
};

/* GET the gateway: *BODY (owned by the caller) and its ETag (may be NULL). */
int appgw_get(struct arm_client *c, const char *gateway_id, const struct arm_opts *opts,
    cJSON **body, char *etag, size_t etaglen, char *err, size_t errlen);

/* The weights view of GW's rule T->rule between T's pools.  Errors:
 * APPGW_E_NOT_FOUND (rule, policy or pools, naming the missing ones),
 * APPGW_E_UNSUPPORTED (path-based, redirect, advanced routing, no pool). */
int appgw_weights(const cJSON *gw, const struct appgw_target *t, struct appgw_weights *out,
    char *err, size_t errlen);

/* The journal snapshot of GW's rule RULE: {"rule": {...}, "policy": {...} |
 * null}, deep copies.  NULL with ERR when the rule is missing. */
cJSON *appgw_snapshot(const cJSON *gw, const char *rule, char *err, size_t errlen);

/* Whether two snapshots describe the same routing (etag,
 * provisioningState and type ignored). */
int appgw_snapshot_equal(const cJSON *a, const cJSON *b);

/* 0..100 each, at least one above 0.  0, or APPGW_E_INVALID with ERR. */
int appgw_validate_weights(int blue, int green, char *err, size_t errlen);

/* The gateway body with T's rule sending BLUE:GREEN (see the header
 * comment), without any I/O: a new tree, or NULL with ERR and *RC. */
cJSON *appgw_with_weights(const cJSON *gw, const struct appgw_target *t, int blue, int green,
    int *rc, char *err, size_t errlen);

/* The read-modify-write of the header comment.  EXPECT may be NULL.  OUT
 * is always initialized; release it with appgw_change_free(). */
int appgw_set_weights(struct arm_client *c, const struct appgw_target *t, int blue, int green,
    const cJSON *expect, const struct appgw_write_opts *o, struct appgw_change *out,
    char *err, size_t errlen);

/* Puts the snapshot BEFORE (from an earlier appgw_change or the journal)
 * back, by the same protocol; EXPECT (may be NULL) is what the rule should
 * look like now, e.g. the journaled "after".  Verified against BEFORE. */
int appgw_restore(struct arm_client *c, const struct appgw_target *t, const cJSON *before,
    const cJSON *expect, const struct appgw_write_opts *o, struct appgw_change *out,
    char *err, size_t errlen);

void appgw_change_free(struct appgw_change *ch);

/* ---- backend health (POST {gateway}/backendhealth, a long-running
 * operation; ApplicationGatewayBackendHealth) ---- */

struct appgw_server {
	char address[256];
	char health[16];		/* Up | Down | Partial | Draining | Unknown */
};

struct appgw_pool_health {
	char name[APPGW_NAME_MAX];
	char id[512];
	int healthy, total;		/* distinct addresses; healthy = Up in every settings entry */
	struct appgw_server *servers;	/* owned */
	size_t nservers;
};

struct appgw_health {
	struct appgw_pool_health *pools;	/* owned */
	size_t npools;
};

/* Parses a backend-health body.  SETTINGS_ID (may be NULL) keeps only that
 * backendHttpSettings' entries when the pool has them (the rule's). */
int appgw_parse_health(const cJSON *body, const char *settings_id, struct appgw_health *out,
    char *err, size_t errlen);
int appgw_backend_health(struct arm_client *c, const char *gateway_id, const char *settings_id,
    const struct arm_opts *opts, struct appgw_health *out, char *err, size_t errlen);
/* The pool called NAME (case-insensitive), or NULL. */
const struct appgw_pool_health *appgw_health_pool(const struct appgw_health *h, const char *name);
void appgw_health_free(struct appgw_health *h);

/* status --json traffic.gateway: {name, rule, weights{blue,green},
 * backends{blue,green}{healthy,total}}; H may be NULL (backends omitted). */
cJSON *appgw_status_json(const char *gateway_name, const struct appgw_weights *w,
    const struct appgw_health *h);

#endif
