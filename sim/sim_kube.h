/*
 * sim_kube.h — what the simulator's Kubernetes files (sim_kube*.c) share;
 * nothing outside them includes it.
 *
 * Every simulated AKS cluster is a struct kcluster with its own resource
 * version counter, its resource types (built-in ones plus those its CRDs
 * define), one sorted store of objects per resource type, and a bounded
 * ring of recent events that watches read from.
 *
 * Objects are immutable once made: a struct kobj holds the object's compact
 * JSON text plus a small index (namespace, name, labels, the fields that
 * selectors and controllers need), and a change makes a new kobj.  They are
 * reference counted, so a list or watch can take references under the world
 * lock and write them to the socket after releasing it, while the world
 * moves on.  Everything else here is guarded by sim_world.lock.
 */
#ifndef BGSWITCH_SIM_KUBE_H
#define BGSWITCH_SIM_KUBE_H

#include <stdatomic.h>
#include <stdint.h>

#include "sim/sim_internal.h"

/* ---- resource types ------------------------------------------------------ */

enum kkind {
	K_GENERIC,		/* custom resources and anything without special rules */
	K_POD, K_NODE, K_NAMESPACE, K_SERVICE, K_CONFIGMAP, K_SECRET,
	K_SERVICEACCOUNT, K_EVENT, K_DEPLOYMENT, K_REPLICASET, K_LEASE, K_CRD,
	K_SSAR,			/* selfsubjectaccessreviews: create only, not stored */
	K_SSRR,			/* selfsubjectrulesreviews */
	K_SSR,			/* selfsubjectreviews (kubectl auth whoami) */
};

enum {
	KV_GET = 1, KV_LIST = 2, KV_WATCH = 4, KV_CREATE = 8, KV_UPDATE = 16,
	KV_PATCH = 32, KV_DELETE = 64, KV_DELETECOLLECTION = 128,
	KV_ALL = 255,
};

#define KRES_MAX_FIELDS 8

struct kobj;

/* The objects of one resource type, sorted by (namespace, name) so that
 * namespace ranges and continue tokens are binary searches. */
struct kstore {
	struct kobj **v;
	size_t n, cap;
};

struct kres {
	enum kkind kk;
	char group[128];
	char version[32];
	char plural[128];
	char singular[128];
	char kind[128];
	char short_names[4][24];
	int nshort;
	int namespaced;
	unsigned verbs;
	int in_all;			/* category "all" */
	int status_sub, scale_sub;
	int has_generation;		/* metadata.generation tracks spec changes */
	int create_on_update;		/* PUT of a missing object creates it */
	int served;			/* 0 once its CRD is gone */
	int builtin;
	/* Field selector paths beyond metadata.name/namespace, indexed into
	 * every kobj of this type. */
	const char *fields[KRES_MAX_FIELDS];
	int nfields;
	cJSON *printer_cols;		/* CRD additionalPrinterColumns, or NULL */
	char crd_name[300];		/* the CRD that defines it, "" for built-ins */
	struct kstore store;
};

/* ---- objects --------------------------------------------------------------- */

struct kobj {
	atomic_int refs;
	uint64_t rv;
	struct kres *res;		/* outlives the object: types are never freed early */
	const char *ns;			/* "" when cluster-scoped */
	const char *name;
	const char *uid;
	const char *owner_uid;		/* the controller ownerReference's uid, or "" */
	const char *owner_name;		/* and its name */
	const char **labels;		/* key, value, key, value, ... */
	int nlabels;
	const char *fields[KRES_MAX_FIELDS];	/* values of res->fields, "" when absent */
	uint32_t ip;			/* pods: status.podIP as a number, 0 when none */
	int ready;			/* pods, nodes: Ready condition True; deployments: readyReplicas */
	int deleting;			/* metadata.deletionTimestamp is set */
	size_t len;
	char *json;			/* the object, compact JSON */
};

/* ---- events and clusters --------------------------------------------------- */

enum kev { KE_ADDED, KE_MODIFIED, KE_DELETED };

struct kevent {
	uint64_t rv;
	enum kev type;
	struct kobj *obj;		/* new state (for DELETED: the final state) */
	struct kobj *prev;		/* state before, NULL for ADDED */
};

/* Something the controllers do later, in simulated time. */
enum ktimer_kind {
	KT_POD_START,			/* containers started: Running, Ready (or crash) */
	KT_POD_CRASH,			/* a crash-looping container restarts again */
	KT_POD_GONE,			/* a gracefully deleted pod goes away */
	KT_NODE_JOIN,			/* a node registers (NotReady) */
	KT_NODE_READY,			/* a node turns Ready */
	KT_NS_GONE,			/* a terminating namespace is emptied (arg 0), then removed */
};

struct ktimer {
	int64_t due;			/* simulated epoch ms */
	enum ktimer_kind kind;
	char ns[64];
	char name[256];
	char uid[40];			/* acts only on this incarnation; "" = any */
	int arg;
};

struct knode_plan {
	char name[96];
	char pool[64];
	char mode[16];
	char vm_size[64];
	int index;			/* within the cluster, for its address */
	int vmss_index;
};

struct kcrash {
	char ns[64];
	char deploy[256];		/* "" = every deployment of the namespace */
};

struct kdirty {
	char ns[64];
	char name[256];
};

/* An Event object the cluster recorded, oldest first, for the cap. */
struct kevkey {
	char ns[64];
	char name[320];
};

struct kcluster {
	struct kcluster *next;
	int refs;			/* the cluster list holds one; streams hold others */
	int gone;			/* removed: open watches end, requests are dropped */
	int running;
	char name[128];
	char version[32];		/* "1.29.7" */
	char ingress_ip[64];
	char token[72];			/* the static bearer token (AKS local account) */
	char user_cert_pem[4096], user_key_pem[1024];
	int index;			/* picks the pod and service address ranges */
	int64_t created_ms;
	int64_t outage_until;		/* simulated ms; the API server is down before it */
	uint64_t rv;			/* the cluster's resource version counter */

	struct kres **res;
	int nres, capres;

	struct kevent *ring;		/* the retained event window */
	size_t ring_cap, ring_head, ring_n;
	uint64_t floor;			/* watches from an RV below it are Expired */
	unsigned watch_epoch;		/* bumped by expire-watches: open watches end with 410 */

	struct ktimer *timers;
	size_t ntimers, captimers;
	struct kdirty *dirty;		/* deployments to reconcile at the next tick */
	size_t ndirty, capdirty;
	struct kcrash *crash;
	size_t ncrash;
	struct knode_plan *nodes;
	int nnodes;
	int unscheduled;		/* some pods wait for a Ready node */
	char ingress_ns[64], ingress_deploy[256];

	struct kevkey *evkeys;		/* ring of recorded Events, the oldest dropped */
	size_t evhead, evn;

	uint32_t next_pod_ip;		/* offsets in the pod and service ranges */
	uint32_t next_svc_ip;
	unsigned sched_rr;		/* round-robin position for pod placement */
	int nwatches;
};

extern struct kcluster *sim_kube_clusters;

/* Simulated timings (seconds), from the world's `timings:`. */
struct sim_kube_timings {
	int node_join, node_ready, pod_ready, pod_terminate;
};
extern struct sim_kube_timings sim_kube_timings;

/* ---- sim_kube_store.c: objects, stores, events, selectors ----------------- */

/* What an object is indexed by, for sim_kube_obj_make(). */
struct kindex {
	const char *ns, *name, *uid, *owner_uid, *owner_name;
	const char **labels;		/* key, value, ... */
	int nlabels;
	const char *fields[KRES_MAX_FIELDS];
	uint32_t ip;
	int ready, deleting;
};

/* An object from its JSON text (taken over) and an index the caller
 * built (the synthetic load, which must not parse 150,000 pods). */
struct kobj *sim_kube_obj_make(struct kres *res, char *json, size_t len, uint64_t rv,
    const struct kindex *ix);
/* An object from TREE, whose metadata.resourceVersion is already set.  The
 * tree is printed, not kept.  NULL on allocation failure. */
struct kobj *sim_kube_obj_new(struct kres *res, const cJSON *tree);
void sim_kube_obj_ref(struct kobj *o);
void sim_kube_obj_unref(struct kobj *o);
/* Parses the object's text; the caller frees. */
cJSON *sim_kube_obj_parse(const struct kobj *o);
const char *sim_kube_obj_label(const struct kobj *o, const char *key);

struct kobj *sim_kube_store_get(const struct kstore *st, const char *ns, const char *name);
/* Index of the first object at or after (NS, NAME). */
size_t sim_kube_store_lower(const struct kstore *st, const char *ns, const char *name);
void sim_kube_store_clear(struct kstore *st);

/* Makes TREE the new state of its object: assigns the next resource
 * version, stores it (or removes it for KE_DELETED), records the event,
 * tells the controllers and wakes watchers.  Returns the stored object
 * (borrowed; valid while the lock is held and until it is replaced), or
 * for KE_DELETED just a non-NULL success marker not to be dereferenced;
 * NULL on failure. */
struct kobj *sim_kube_commit(struct kcluster *c, struct kres *res, cJSON *tree, enum kev type);
/* Stores an object made elsewhere (synthetic load) without an event. */
int sim_kube_store_put_quiet(struct kres *res, struct kobj *o);
/* Drops every retained event: watches from older versions get 410. */
void sim_kube_ring_clear(struct kcluster *c);
/* Position of the first retained event newer than RV. */
size_t sim_kube_ring_after(const struct kcluster *c, uint64_t rv);
const struct kevent *sim_kube_ring_at(const struct kcluster *c, size_t i);

/* Label and field selectors. */
enum ksel_op { KS_EQ, KS_NE, KS_IN, KS_NOTIN, KS_EXISTS, KS_NOTEXISTS };
struct ksel_req {
	enum ksel_op op;
	char *key;
	char **vals;
	int nvals;
};
struct ksel {
	struct ksel_req *r;
	int n;
};
/* Parses a labelSelector; 0, or -1 with ERR ("unable to parse requirement: ..."). */
int sim_kube_sel_parse(struct ksel *s, const char *text, char *err, size_t errlen);
/* Parses a fieldSelector against RES's supported fields. */
int sim_kube_fsel_parse(struct ksel *s, const struct kres *res, const char *text, char *err,
    size_t errlen);
void sim_kube_sel_free(struct ksel *s);
int sim_kube_sel_match(const struct ksel *s, const struct kobj *o);
int sim_kube_fsel_match(const struct ksel *s, const struct kobj *o);
/* Selector from a LabelSelector object ({matchLabels, matchExpressions}). */
int sim_kube_sel_from_json(struct ksel *s, const cJSON *sel);

/* ---- sim_kube_disc.c: resource types, discovery, OpenAPI ------------------ */

/* Adds the built-in resource types to a new cluster. */
int sim_kube_res_init(struct kcluster *c);
struct kres *sim_kube_res_find(const struct kcluster *c, const char *group, const char *version,
    const char *plural);
/* By apiVersion ("apps/v1", "v1") and kind. */
struct kres *sim_kube_res_by_kind(const struct kcluster *c, const char *api_version,
    const char *kind);
/* The built-in type of kind KK (there is one of each). */
struct kres *sim_kube_res_builtin(const struct kcluster *c, enum kkind kk);
/* "apps/v1" or "v1" into BUF. */
const char *sim_kube_res_apiversion(const struct kres *r, char *buf, size_t n);
/* "deployments.apps" or "pods": how errors name a resource. */
const char *sim_kube_res_qualified(const struct kres *r, char *buf, size_t n);
/* A CRD was stored (or, with GONE, deleted): make its types (un)served. */
void sim_kube_crd_sync(struct kcluster *c, const cJSON *crd, int gone);
/* Discovery and OpenAPI documents for PATH (after /clusters/NAME).
 * Returns 1 when PATH was one of them. */
int sim_kube_discovery(struct kcluster *c, struct sim_req *req, struct sim_resp *resp,
    const char *path);

/* ---- sim_kube_api.c: the REST verbs --------------------------------------- */

/* Serves a resource path (api/v1/..., apis/G/V/...) of cluster C. */
void sim_kube_api(struct kcluster *c, struct sim_req *req, struct sim_resp *resp,
    const char *path);
/* A Status failure with details {name, group, kind}. */
void sim_kube_status_details(struct sim_resp *resp, int code, const char *reason,
    const struct kres *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Fills the metadata a new object gets (uid, creationTimestamp,
 * generation, ...) and type defaults; for controllers too. */
void sim_kube_prepare_new(struct kcluster *c, struct kres *r, cJSON *obj, const char *manager);
/* Orders an object's members as Go's typed encoding does: kind,
 * apiVersion, metadata (name, generateName, namespace, uid, ...), the
 * rest, status. */
void sim_kube_normalize(cJSON *obj);
/* Deletes the object (namespace, name) of R as a DELETE request would
 * (graceful for pods, cascading for owners).  Lock held. */
int sim_kube_delete_obj(struct kcluster *c, struct kres *r, const char *ns, const char *name,
    int grace, int orphan);
/* Deletes everything in namespace NS (the namespace controller's work). */
void sim_kube_namespace_empty(struct kcluster *c, const char *ns);
/* Creates namespace NS if absent (as the world file and controllers need). */
void sim_kube_ensure_namespace(struct kcluster *c, const char *ns);

/* ---- sim_kube_stream.c: lists and watches ---------------------------------- */

enum kfmt { KF_JSON, KF_TABLE, KF_META };

struct klist_opts {
	const char *ns;			/* NULL: all namespaces */
	struct ksel lsel, fsel;
	long limit;
	char start_ns[64], start_name[256];	/* from a continue token */
	int has_start;
	enum kfmt fmt;
	int include_object;		/* Table rows: 0 None, 1 Metadata, 2 Object */
};

/* Answers a list of R with a streamed body.  Takes over OPTS's selectors. */
void sim_kube_list(struct kcluster *c, struct kres *r, struct klist_opts *opts,
    struct sim_req *req, struct sim_resp *resp);
/* Answers a watch of R with a streamed body of events. */
void sim_kube_watch(struct kcluster *c, struct kres *r, struct klist_opts *opts,
    struct sim_req *req, struct sim_resp *resp);

/* ---- sim_kube_table.c: meta.k8s.io Table and PartialObjectMetadata ---------- */

/* The columnDefinitions of R's Table (the caller frees). */
cJSON *sim_kube_table_columns(const struct kres *r);
/* One row {"cells":[...],"object":...} for O; INCLUDE 0 None, 1 Metadata,
 * 2 Object. */
cJSON *sim_kube_table_row(const struct kres *r, const cJSON *obj, int include);
/* {"kind":"PartialObjectMetadata",...} for O. */
cJSON *sim_kube_partial(const cJSON *obj);
/* "5m12s" the way kubectl ages things (HumanDuration). */
void sim_kube_age(int64_t ms, char *buf, size_t n);

/* ---- sim_kube_patch.c: patches, server-side apply, managedFields ------------ */

/* RFC 7386 JSON merge patch of TARGET by PATCH; returns the new target
 * (TARGET is consumed; PATCH is not). */
cJSON *sim_kube_merge_patch(cJSON *target, const cJSON *patch);
/* Strategic merge patch: merge patch whose lists of objects with a known
 * merge key merge by that key, with $patch directives. */
cJSON *sim_kube_strategic_patch(cJSON *target, const cJSON *patch);
/* RFC 6902 JSON patch; NULL with ERR on failure (TARGET consumed either way). */
cJSON *sim_kube_json_patch(cJSON *target, const cJSON *ops, char *err, size_t errlen);
/* Server-side apply of CFG onto LIVE (NULL: create) for MANAGER.  Returns
 * the new object, or NULL with a 409 conflict message in ERR.  LIVE is not
 * modified. */
cJSON *sim_kube_apply(const cJSON *live, const cJSON *cfg, const char *manager, int force,
    const char *api_version, char *err, size_t errlen);
/* Records an Update by MANAGER in NEW's managedFields: the fields that
 * differ from OLD (all of NEW's when OLD is NULL) move to MANAGER.
 * SUBRESOURCE is "status" or "". */
void sim_kube_mf_update(cJSON *new_obj, const cJSON *old_obj, const char *manager,
    const char *api_version, const char *subresource);
/* Deep equality of two JSON values. */
int sim_kube_json_equal(const cJSON *a, const cJSON *b);

/* ---- sim_kube_ctrl.c: controllers ------------------------------------------- */

/* Creates the cluster's planned nodes Ready now (NODES_NOW), or schedules
 * them to join one by one and turn Ready over simulated time. */
void sim_kube_nodes_start(struct kcluster *c, int nodes_now);
/* A node object for plan entry P; READY says its state. */
cJSON *sim_kube_node_make(struct kcluster *c, const struct knode_plan *p, int ready);
void sim_kube_ctrl_tick(struct kcluster *c, int64_t now);
/* Called after every commit: tells the controllers what changed. */
void sim_kube_ctrl_changed(struct kcluster *c, struct kres *r, const struct kobj *old,
    const struct kobj *cur, enum kev type);
void sim_kube_mark_dirty(struct kcluster *c, const char *ns, const char *deploy);
void sim_kube_timer_add(struct kcluster *c, enum ktimer_kind kind, int64_t due, const char *ns,
    const char *name, const char *uid, int arg);
/* Runs the deployment controller for NS/NAME now. */
void sim_kube_reconcile(struct kcluster *c, const char *ns, const char *name);
/* Records a core/v1 Event about object (KIND, NS, NAME, UID) as COMPONENT
 * on HOST would; TYPE "Normal" or "Warning".  A repeat of the same reason
 * and message about the same object counts up instead. */
void sim_kube_event(struct kcluster *c, const char *kind, const char *api_version, const char *ns,
    const char *name, const char *uid, const char *field_path, const char *type, const char *reason,
    const char *component, const char *host, const char *fmt, ...)
    __attribute__((format(printf, 12, 13)));
/* Fault actions. */
int sim_kube_node_set_ready(struct kcluster *c, const char *node, int ready);
void sim_kube_crashloop(struct kcluster *c, const char *ns, const char *deploy, int on);
/* A pod IP / service IP in the cluster's ranges. */
uint32_t sim_kube_alloc_pod_ip(struct kcluster *c);
uint32_t sim_kube_alloc_svc_ip(struct kcluster *c);
void sim_kube_ip_str(uint32_t ip, char *buf, size_t n);
/* "abcde" from Kubernetes's safe alphabet, N chars. */
void sim_kube_rand_suffix(char *buf, size_t n);
/* pod-template-hash of a template. */
void sim_kube_template_hash(const cJSON *tmpl, char *buf, size_t n);

/* ---- sim_kube_world.c: the world file and synthetic clusters ---------------- */

/* A cluster the world file names, existing or not. */
struct kworld_entry {
	char name[128];
	char ip[64];			/* its ingress_ip */
	char ingress_ns[64], ingress_deploy[256];	/* its `ingress: true` deployment */
};
const struct kworld_entry *sim_kube_world_entry(const char *name);
/* The I-th entry, NULL past the end. */
const struct kworld_entry *sim_kube_world_entry_at(int i);
/* The ingress deployment of cluster NAME: its entry's, else the first the
 * world marks, else "" "". */
void sim_kube_world_ingress(const char *name, char *ns, size_t nslen, char *deploy, size_t dlen);
/* Events retained per cluster (the world's `watch_window`). */
extern size_t sim_kube_ring_cap;
/* Set once the world is loaded: from then on cluster changes rewrite the
 * kubeconfig. */
extern int sim_kube_loaded;

/* ---- sim_kube.c ------------------------------------------------------------- */

struct kcluster *sim_kube_cluster_find(const char *name);
/* Forgets every cluster and the world's entries (for tests; streams still
 * open keep their cluster until they end). */
void sim_kube_reset(void);
void sim_kube_world_reset(void);
void sim_kube_cluster_unref(struct kcluster *c);
/* 1 while the cluster's API server is in an outage (the fault). */
int sim_kube_in_outage(const struct kcluster *c);
/* Real milliseconds (CLOCK_MONOTONIC). */
int64_t sim_kube_mono_ms(void);
/* Helpers for cJSON trees. */
const char *sim_kube_jstr(const cJSON *obj, const char *key);
const cJSON *sim_kube_jpath(const cJSON *obj, const char *dotted);
cJSON *sim_kube_jobj(cJSON *parent, const char *key);
void sim_kube_jset_str(cJSON *obj, const char *key, const char *val);
void sim_kube_jset_num(cJSON *obj, const char *key, double val);
void sim_kube_jset(cJSON *obj, const char *key, cJSON *val);
/* Current simulated time as RFC 3339. */
void sim_kube_now_str(char *buf, size_t n);

#endif
