/*
 * arm.h — the Azure Resource Manager client every bgswitch change and read
 * of Azure goes through.
 *
 * A call names a resource id or path ("/subscriptions/.../managedClusters/
 * aks-prod-green", optionally with a sub-path and query) and the client adds
 * the endpoint, the api-version of that resource type (one table, arm.c),
 * a bearer token, a client request id, and the ARM rules an on-call tool
 * must get right: retries on 429/5xx honouring Retry-After with capped,
 * jittered backoff; retries of connection failures only where repeating the
 * request is harmless; one retry of a 401 with a fresh token; a deadline per
 * call; If-Match on read-modify-write with 412 reported distinctly; and
 * long-running operations followed to their end through
 * Azure-AsyncOperation, Location or provisioningState.  Errors come back as
 * one readable line: "PUT managedClusters/aks-prod-green: 409
 * OperationNotAllowed: ... (request id ...)".
 *
 * Thread-safe: one client may serve every thread (the HTTP layer and the
 * credential are).
 */
#ifndef BGSWITCH_AZURE_ARM_H
#define BGSWITCH_AZURE_ARM_H

#include <stddef.h>

#include "azure/credential.h"
#include "src/http.h"

/* Return codes of the calls below. */
enum arm_rc {
	ARM_OK = 0,
	ARM_E_STATUS = -1,	/* ARM answered with an error status (resp->status, error_code) */
	ARM_E_PRECONDITION = -2,	/* 412: the If-Match ETag is stale; re-read and retry */
	ARM_E_TRANSPORT = -3,	/* no (complete) answer: connection, TLS, I/O */
	ARM_E_AUTH = -4,	/* no token could be obtained */
	ARM_E_OPERATION = -5,	/* the long-running operation ended Failed or Canceled */
	ARM_E_POLL = -6,	/* its status could not be read (the operation may go on) */
	ARM_E_TIMEOUT = -7,	/* the call's deadline passed (an operation may go on) */
	ARM_E_CANCELLED = -8,	/* the cancel token fired (an operation may go on) */
	ARM_E_INVALID = -9,	/* bad arguments: no api-version known, foreign URL, ... */
};

struct arm_client_config {
	const char *endpoint;		/* ARM base URL, e.g. "https://management.azure.com/" */
	const char *scope;		/* token scope, e.g. "https://management.azure.com/.default" */
	struct az_cred *cred;		/* borrowed; must outlive the client */
	const char *ca_file;		/* trusted CAs (the simulator); NULL = system store */
	long request_timeout_ms;	/* one HTTP exchange; 0 = 60 s */
	long call_timeout_ms;		/* a call with its retries, when no deadline is given; 0 = 5 min */
	long lro_timeout_ms;		/* a call that follows an operation; 0 = 60 min */
	int max_attempts;		/* per request, first try included; 0 = 6 */
	long backoff_base_ms;		/* first retry delay without Retry-After; 0 = 1 s */
	long backoff_cap_ms;		/* 0 = 30 s */
	long retry_after_cap_ms;	/* a longer Retry-After is cut to this; 0 = 60 s */
	long poll_min_ms;		/* between status polls, whatever Retry-After says; 0 = 1 s */
	long poll_max_ms;		/* 0 = 60 s */
	long poll_default_ms;		/* when the service gives no Retry-After; 0 = 5 s */
};

/* Progress of a long-running operation, reported after every poll. */
struct arm_progress {
	const char *method;		/* "PUT", ... */
	const char *resource;		/* short label, e.g. "managedClusters/aks-prod-green" */
	const char *status;		/* "InProgress", "Creating", "Accepted", ... */
	double percent;			/* percentComplete, or -1 when not given */
	double elapsed_s;
	int polls;
};
typedef void (*arm_progress_fn)(void *ctx, const struct arm_progress *p);

struct arm_opts {
	const char *api_version;	/* overrides the table */
	const char *if_match;		/* ETag (quoted as received) or "*" */
	const char *if_none_match;	/* e.g. "*" to create only */
	long long deadline_ms;		/* absolute, http_now_ms() clock; 0 = the client's defaults */
	int idempotent;			/* a POST that may be repeated (list credentials, ...) */
	int no_wait;			/* return after the first answer; do not follow an operation */
	arm_progress_fn progress;
	void *progress_ctx;
	struct http_cancel *cancel;	/* stops waits and requests at once */
};

struct arm_response {
	long status;			/* final HTTP status (of the final GET after an operation) */
	char *body;			/* final body, NUL-terminated ("" when none); owned */
	size_t body_len;
	char etag[256];			/* ETag header, else the body's "etag"; "" when none */
	char request_id[96];		/* x-ms-request-id of the last answer */
	char correlation_id[96];	/* x-ms-correlation-request-id */
	char error_code[96];		/* ARM error code on failure ("" otherwise) */
	char message[2048];		/* one readable line on failure */
	char op_status[48];		/* final operation status / provisioningState, if any */
	char async_url[1024];		/* Azure-AsyncOperation of the first answer (no_wait) */
	char location[1024];		/* Location of the first answer */
	int attempts;			/* HTTP requests made for the first exchange */
	int polls;			/* status polls made */
	double elapsed_s;
};

struct arm_client;

/* Creates a client; NULL with ERR filled on bad config. */
struct arm_client *arm_client_new(const struct arm_client_config *cfg, char *err, size_t errlen);
void arm_client_free(struct arm_client *c);

/* One call.  METHOD is GET, PUT, PATCH, POST or DELETE; PATH is a resource
 * id or path under the endpoint (with an optional query), or an absolute
 * URL on the endpoint's host (nextLink, operation URLs).  BODY may be NULL.
 * OPTS may be NULL.  Always initializes *RESP, which must be released with
 * arm_response_free().  For PUT/PATCH the final body is a GET of the
 * resource after its operation succeeded. */
int arm_request(struct arm_client *c, const char *method, const char *path, const char *body,
    const struct arm_opts *opts, struct arm_response *resp);

int arm_get(struct arm_client *c, const char *path, const struct arm_opts *opts,
    struct arm_response *resp);
int arm_put(struct arm_client *c, const char *path, const char *body,
    const struct arm_opts *opts, struct arm_response *resp);
int arm_post(struct arm_client *c, const char *path, const char *body,
    const struct arm_opts *opts, struct arm_response *resp);
int arm_delete(struct arm_client *c, const char *path, const struct arm_opts *opts,
    struct arm_response *resp);
/* PUT with If-Match: ETAG (required, non-empty): ARM_E_PRECONDITION when
 * the resource changed since it was read. */
int arm_put_if_match(struct arm_client *c, const char *path, const char *body, const char *etag,
    const struct arm_opts *opts, struct arm_response *resp);

void arm_response_free(struct arm_response *resp);

/* The api-version the table has for PATH's resource type, or NULL. */
const char *arm_api_version(const char *path);

/* Short label of PATH for messages, e.g. "managedClusters/aks-prod-green". */
void arm_resource_label(const char *path, char *out, size_t outlen);

/* Name of an rc, e.g. "precondition failed". */
const char *arm_rc_name(int rc);

#endif
