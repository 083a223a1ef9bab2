/*
 * kube_client.h — a client for one cluster's Kubernetes API, as one user.
 *
 * A client is made from a resolved kubeconfig context (kubeconfig.h) and
 * sends every request through the shared HTTP layer (src/http.h), which
 * verifies TLS, refuses plain http off loopback and logs one redacted line
 * per request.  This layer adds what the Kubernetes API needs on top:
 * credentials per request (a static bearer token, a tokenFile re-read every
 * minute, a client certificate, or an exec plugin's credential with one
 * retry after a 401), the server's path prefix kept in front of every API
 * path, meta/v1 Status errors turned into one readable line, retries of
 * 429/5xx answers that carry Retry-After, and lists and watches decoded as
 * they stream (kube_decode.h) so that no page is ever held whole.
 *
 * Conventions follow "Kubernetes API Concepts"
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/): lists are
 * paged with limit/continue, a watch starts from a list's resourceVersion
 * with allowWatchBookmarks, and 410 Gone means "list again".
 *
 * Threading: a client may be used by any number of threads at once; each
 * call's struct kube_call belongs to its thread.  kube_client_cancel() may
 * be called from any thread; kube_client_free() must not race with a call.
 */
#ifndef BGSWITCH_KUBE_CLIENT_H
#define BGSWITCH_KUBE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "kube/exec_cred.h"
#include "kube/kube_decode.h"
#include "kube/kubeconfig.h"

struct http_cancel;

#define KUBE_ERROR_MAX		512
#define KUBE_DEFAULT_PAGE	500		/* client-go's pager uses 500 too */

/* What went wrong with a call, coarse enough to act on. */
enum kube_err {
	KUBE_OK = 0,
	KUBE_E_TRANSPORT,	/* no (complete) answer: unreachable, timeout, TLS,
				 * connection broken: the UI shows "disconnected" */
	KUBE_E_AUTH,		/* 401, or no credential (the exec plugin failed) */
	KUBE_E_FORBIDDEN,	/* 403: authenticated, but not allowed */
	KUBE_E_NOT_FOUND,	/* 404 */
	KUBE_E_CONFLICT,	/* 409: Conflict (stale resourceVersion) or AlreadyExists */
	KUBE_E_EXPIRED,		/* 410 Gone / Expired: list again */
	KUBE_E_DECODE,		/* an answer that is not what the API sends: not JSON,
				 * wrong types, truncated */
	KUBE_E_CANCELLED,	/* the client or the call was cancelled, or a callback
				 * asked to stop */
	KUBE_E_OTHER,		/* any other status (400, 422, 5xx, ...), bad arguments,
				 * out of memory */
};

/* One call's options and outcome.  Zero it, optionally set the inputs,
 * pass it; it may also be NULL (defaults, outcome discarded). */
struct kube_call {
	/* in */
	long timeout_ms;		/* per HTTP request; 0 = the client's default */
	long long deadline_ms;		/* absolute, http_now_ms() clock; 0 = none */
	struct http_cancel *cancel;	/* also stops this call; NULL = only the client's */
	/* out */
	enum kube_err err;
	long status;			/* HTTP status of the last answer, 0 if none */
	char reason[KUBE_REASON_MAX];	/* Status reason ("NotFound"), "" if none */
	char error[KUBE_ERROR_MAX];	/* "GET /api/v1/namespaces/x: 404 NotFound:
					 * namespaces \"x\" not found"; "" on success */
};

struct kube_client_opts {
	const char *name;		/* in log lines, e.g. "kube:blue"; NULL = "kube:CONTEXT" */
	long timeout_ms;		/* default per request; 0 = 30 s */
	long connect_timeout_ms;	/* 0 = 10 s */
	int max_retries;		/* for 429 and 5xx answers with Retry-After;
					 * 0 = 3, < 0 = none */
	long token_reread_ms;		/* tokenFile re-read period; 0 = 60 s, as client-go */
	struct kube_exec_cache *exec_cache;	/* shared with other clients; NULL = own */
	const struct kube_exec_opts *exec_opts;	/* copied; NULL = defaults */
};

struct kube_client;

/* Makes a client for T (copied: T may be freed afterwards).  O may be NULL.
 * Returns NULL with ERR filled when T is unusable (bad server URL, TLS
 * material that does not parse, a tokenFile that cannot be read). */
struct kube_client *kube_client_new(const struct kubeconfig_target *t,
    const struct kube_client_opts *o, char *err, size_t errlen);
/* Makes every call in progress and every later one fail promptly with
 * KUBE_E_CANCELLED (shutdown).  Thread-safe. */
void kube_client_cancel(struct kube_client *c);
/* Frees C.  No call may be in progress.  NULL is fine. */
void kube_client_free(struct kube_client *c);
/* The server URL the API paths are appended to (prefix kept). */
const char *kube_client_server(const struct kube_client *c);
/* The context's namespace, "default" when it sets none. */
const char *kube_client_namespace(const struct kube_client *c);

/* ---- small objects (cJSON) ------------------------------------------------
 * PATH is an API path ("/api/v1/namespaces/x"), optionally with a query.
 * Each returns 0 with *OUT set to the answer's JSON object (free it with
 * cJSON_Delete; OUT may be NULL), or -1 with CALL filled in. */
int kube_get(struct kube_client *c, const char *path, cJSON **out,
    struct kube_call *call);
/* POST JSON (an object's manifest) to a collection PATH. */
int kube_create(struct kube_client *c, const char *path, const char *json,
    cJSON **out, struct kube_call *call);
/* PUT JSON: replaces the object; its metadata.resourceVersion, when set,
 * makes this conditional (409 Conflict when the object has changed). */
int kube_replace(struct kube_client *c, const char *path, const char *json,
    cJSON **out, struct kube_call *call);
/* PATCH with application/merge-patch+json (RFC 7386). */
int kube_merge_patch(struct kube_client *c, const char *path,
    const char *json, cJSON **out, struct kube_call *call);
/* Server-side apply: PATCH with application/apply-patch+yaml (YAML or
 * JSON, LEN bytes) and ?fieldManager=FIELD_MANAGER (required), plus
 * &force=true when FORCE (take over fields other managers own). */
int kube_apply(struct kube_client *c, const char *path, const char *body,
    size_t len, const char *field_manager, bool force, cJSON **out,
    struct kube_call *call);

/* DeleteOptions.propagationPolicy. */
enum kube_propagation {
	KUBE_PROPAGATION_DEFAULT = 0,	/* the resource's default */
	KUBE_PROPAGATION_BACKGROUND,
	KUBE_PROPAGATION_FOREGROUND,
	KUBE_PROPAGATION_ORPHAN,
};
/* DELETE; *OUT is the object (or a Status) the server answers with. */
int kube_delete(struct kube_client *c, const char *path,
    enum kube_propagation prop, cJSON **out, struct kube_call *call);

/* ---- lists ------------------------------------------------------------ */

struct kube_list_opts {
	const char *label_selector;	/* NULL = everything */
	const char *field_selector;
	long limit;			/* page size; 0 = KUBE_DEFAULT_PAGE, < 0 = unpaged */
	const char *resource_version;	/* NULL or "" = most recent (consistent read) */
	const char *resource_version_match;	/* "NotOlderThan", "Exact" or NULL */
	const char *item_kind;		/* kind of the items, e.g. "Pod"; see
					 * kube_decode_set_item_kind() */
	/* Called when the list starts over from the beginning (a continue
	 * token expired: 410 on page 2 or later): forget the items delivered
	 * so far, they come again.  May be NULL. */
	void (*on_restart)(void *ctx);
};

struct kube_list_meta {
	char resource_version[KUBE_RV_MAX];	/* the list's: watch from here */
	uint64_t items;			/* delivered, restarts included */
	unsigned pages;			/* requests that answered 200 */
	unsigned restarts;		/* times the list started over */
};

/* Lists PATH (a collection) page by page, handing each item to ON_ITEM
 * (event KUBE_EVENT_ITEM) as soon as it is decoded.  A continue token that
 * expires (410 on a later page) restarts the list as one unpaged request
 * from the start, as client-go's pager does.  ON_ITEM returning non-zero
 * stops the list (KUBE_E_CANCELLED).  O and META may be NULL.  Returns 0,
 * or -1 with CALL filled. */
int kube_list(struct kube_client *c, const char *path,
    const struct kube_list_opts *o, kube_decode_object_fn on_item, void *ctx,
    struct kube_list_meta *meta, struct kube_call *call);

/* ---- watches ------------------------------------------------------------ */

struct kube_watch_opts {
	const char *resource_version;	/* usually the list's; NULL or "" = now,
					 * with the current objects as ADDED first */
	const char *label_selector;
	const char *field_selector;
	long timeout_s;			/* server-side timeoutSeconds; 0 = 300 */
	bool no_bookmarks;		/* do not ask for BOOKMARK events */
	const char *item_kind;		/* as in kube_list_opts */
};

struct kube_watch_meta {
	char resource_version[KUBE_RV_MAX];	/* the last one seen (events and
						 * bookmarks): watch again from here */
	uint64_t events;		/* delivered, bookmarks included */
	bool streamed;			/* the server answered 200 and sent bytes */
};

/* Watches PATH once: ON_EVENT gets ADDED, MODIFIED, DELETED and BOOKMARK
 * events as they arrive.  Returns 0 when the server ends the stream (its
 * timeout; watch again from META's resourceVersion), or -1 with CALL
 * filled: KUBE_E_EXPIRED for 410 (an HTTP 410 or an ERROR event with a 410
 * Status: list again), KUBE_E_TRANSPORT when the connection broke,
 * KUBE_E_DECODE for a malformed stream, KUBE_E_CANCELLED when ON_EVENT
 * returned non-zero or the call was cancelled.  O and META may be NULL. */
int kube_watch(struct kube_client *c, const char *path,
    const struct kube_watch_opts *o, kube_decode_object_fn on_event, void *ctx,
    struct kube_watch_meta *meta, struct kube_call *call);

/* ---- access review -------------------------------------------------------- */

/* SelfSubjectAccessReview: may the client's user do VERB on RESOURCE (of
 * API GROUP, "" for core) in NAMESPACE ("" = all / cluster-scoped)?
 * Returns 0 with *ALLOWED set and REASON (may be NULL) holding the
 * authorizer's reason or evaluation error, or -1 with CALL filled. */
int kube_can_i(struct kube_client *c, const char *verb, const char *group,
    const char *resource, const char *ns, bool *allowed, char *reason,
    size_t reasonlen, struct kube_call *call);

/* ---- helpers ------------------------------------------------------------ */

/* "transport", "auth", "not found", ... */
const char *kube_err_str(enum kube_err e);
/* Appends NAME=VALUE to a path's query (VALUE percent-encoded) into BUF.
 * Returns 0, or -1 when BUF is too small. */
int kube_path_add_query(char *buf, size_t buflen, const char *name,
    const char *value);

#endif
