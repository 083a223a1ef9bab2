/*
 * sim_arm.h — what the simulator's Entra ID and Azure Resource Manager files
 * (sim_entra.c, sim_arm*.c) share; the rest of the simulator sees them only
 * through the functions in sim_internal.h.
 *
 * sim_arm.c owns the ARM front door: it authenticates, checks api-version,
 * applies the switched-on faults, resolves subscription and resource group,
 * and hands a resource request to the file that owns its type.  It also
 * keeps the table of long-running operations every type shares, so that
 * Azure-AsyncOperation and Location URLs behave the same everywhere.  Every
 * function here is called with sim_world.lock held.
 */
#ifndef BGSWITCH_SIM_ARM_H
#define BGSWITCH_SIM_ARM_H

#include <stddef.h>
#include <stdint.h>

#include "sim/sim_internal.h"

/* ---- Entra ID tokens (sim_entra.c) -------------------------------------- */

enum {
	SIM_TOKEN_OK = 0,
	SIM_TOKEN_UNKNOWN = -1,		/* never issued (or forgotten long ago) */
	SIM_TOKEN_EXPIRED = -2,
};

/* Looks TOKEN up among the access tokens Entra or IMDS issued.  On OK and
 * EXPIRED fills AUD (the resource it was issued for) and EXP_MS (its expiry,
 * simulated epoch ms) when they are non-NULL. */
int sim_entra_token_check(const char *token, char *aud, size_t audlen, int64_t *exp_ms);
/* Registers a PEM certificate for CLIENT_ID (the client is created when
 * unknown).  Fills X5T (base64url SHA-1 thumbprint, 28+ bytes).  0, or -1
 * with ERR. */
int sim_entra_add_certificate(const char *client_id, const char *pem, char *x5t, size_t x5tlen,
    char *err, size_t errlen);

/* ---- one ARM request ------------------------------------------------------- */

#define SIM_ARM_MAX_SEG 24

struct sim_arm_ctx {
	struct sim_req *req;
	struct sim_resp *resp;
	const char *method;
	const char *api_version;
	/* Path segments after providers/{namespace}/{type}: [name, child...]. */
	char *seg[SIM_ARM_MAX_SEG];
	int nseg;
	int64_t now_ms;			/* simulated */
	int changed;			/* broadcast sim_world.changed when done */
	int64_t delay_real_ms;		/* answer only after this long (lock released) */
};

/* Case-insensitive equality, as ARM compares ids, names and segments. */
int sim_arm_ieq(const char *a, const char *b);
/* "/subscriptions/S/resourceGroups/RG" into BUF. */
void sim_arm_rg_id(char *buf, size_t n);
/* Parses the request body as a JSON object; on failure answers 400
 * InvalidRequestContent and returns NULL.  Free the result. */
cJSON *sim_arm_body(struct sim_arm_ctx *c);
/* A request-validation failure at JSON path PATH: 400 InvalidRequestContent
 * in the wording ARM uses for a body it cannot deserialize. */
void sim_arm_bad_type(struct sim_arm_ctx *c, const char *path, const char *want);
/* The resource-not-found answer ARM gives for TYPE ("Microsoft.X/ys") NAME. */
void sim_arm_not_found(struct sim_arm_ctx *c, const char *type, const char *name);
/* 405 for a method the resource does not support. */
void sim_arm_bad_method(struct sim_arm_ctx *c);
/* A new weak etag as the Network provider prints it: W/"uuid". */
void sim_arm_weak_etag(char *buf, size_t n);
/* Seconds of a world `timings` entry (simulated), or DFLT. */
double sim_arm_timing(const char *key, double dflt);
/* Strips surrounding quotes and whitespace from an If-Match value into BUF. */
void sim_arm_etag_norm(const char *in, char *buf, size_t n);

/* ---- long-running operations (sim_arm.c) ---------------------------------- */

enum { SIM_OP_IN_PROGRESS, SIM_OP_SUCCEEDED, SIM_OP_FAILED, SIM_OP_CANCELED };
/* What the Location URL returns once the operation is over. */
enum { SIM_OP_RESOURCE, SIM_OP_NO_CONTENT, SIM_OP_BODY };

struct sim_arm_op;
/* Called by the ticker when the operation's time is up, status already set
 * to Succeeded (or Failed when it was doomed); it may fail it instead. */
typedef void (*sim_arm_op_fn)(struct sim_arm_op *op);

struct sim_arm_op {
	char id[40];
	char ns[48];			/* "Microsoft.ContainerService" */
	char api_version[32];
	char resource_id[512];		/* what the Location URL returns at the end */
	char target[256];		/* the owning file's key (cluster name, ...) */
	int kind;			/* the owning file's operation kind */
	char request[48];		/* what started it: "PUT", "DELETE", "POST stop", ... */
	int64_t start_ms, end_ms, done_ms;
	int status;
	int result;			/* SIM_OP_RESOURCE / _NO_CONTENT / _BODY */
	int doomed;			/* a fault: ends Failed */
	char err_code[64];
	char err_msg[512];
	cJSON *body;			/* SIM_OP_BODY: the final answer */
	sim_arm_op_fn done;
};

/* Starts an operation that takes DURATION_MS simulated ms. */
struct sim_arm_op *sim_arm_op_start(struct sim_arm_ctx *c, const char *ns, const char *resource_id,
    int64_t duration_ms, int result, sim_arm_op_fn done);
struct sim_arm_op *sim_arm_op_find(const char *id);
/* Marks OP Failed (or Canceled) with an ARM error. */
void sim_arm_op_fail(struct sim_arm_op *op, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds Azure-AsyncOperation (ASYNC) and Location (LOCATION) and Retry-After. */
void sim_arm_op_headers(const struct sim_arm_op *op, struct sim_resp *resp, int async, int location);

/* ---- the resource types --------------------------------------------------- */

/* Each _load takes its part of the world (lock held, at start), each
 * _handle serves a request whose path names its type. */
int sim_arm_aks_load(const cJSON *world, char *err, size_t errlen);
void sim_arm_aks_handle(struct sim_arm_ctx *c);
/* The managed cluster resource as ARM shows it, or NULL (owned). */
const cJSON *sim_arm_aks_resource(const char *name);

int sim_arm_appgw_load(const cJSON *world, char *err, size_t errlen);
void sim_arm_appgw_handle(struct sim_arm_ctx *c);
int sim_arm_appgw_ctl(struct sim_req *req, struct sim_resp *resp, const char *name, const char *action);

/* The traffic the gateway carries now (its applied configuration). */
#define SIM_ARM_MAX_POOLS 8
#define SIM_ARM_MAX_ADDRS 16
struct sim_arm_pool_state {
	char name[128];
	char settings[128];		/* backendHttpSettings the live rule uses */
	double share;			/* 0..1 of the gateway's traffic */
	int naddr;
	char addr[SIM_ARM_MAX_ADDRS][64];
};
struct sim_arm_traffic {
	char gateway_id[512];
	double rps;			/* simulated requests per simulated second */
	int npools;
	struct sim_arm_pool_state pool[SIM_ARM_MAX_POOLS];
};
/* The applied gateway configuration; NULL when the world has no gateway. */
const struct sim_arm_traffic *sim_arm_appgw_traffic(void);

int sim_arm_dns_load(const cJSON *world, char *err, size_t errlen);
void sim_arm_dns_handle(struct sim_arm_ctx *c);
int sim_arm_dns_ctl(struct sim_req *req, struct sim_resp *resp, const char *rest);

/* sim_arm_authz.c: Microsoft.Authorization/permissions of the resource
 * group (world `entra.permissions`; /_sim/arm/permissions changes it). */
int sim_arm_authz_load(const cJSON *world, char *err, size_t errlen);
void sim_arm_authz_handle(struct sim_arm_ctx *c);
int sim_arm_authz_ctl(struct sim_req *req, struct sim_resp *resp);

/* Microsoft.Insights/metrics of the gateway (sim_arm_metrics.c). */
void sim_arm_metrics_reset(void);
void sim_arm_metrics_tick(int64_t now_ms);
void sim_arm_metrics_handle(struct sim_arm_ctx *c, const char *gateway_id, const char *location);

#endif
