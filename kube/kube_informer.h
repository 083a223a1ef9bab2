/*
 * kube_informer.h — a live, compact picture of one kind of object in one
 * cluster: nodes, pods (all namespaces), deployments (all namespaces), or
 * any other collection by path.
 *
 * Each informer runs one background thread that does what client-go's
 * reflector does: list (in pages) into a store, watch from the list's
 * resourceVersion, watch again from the last version seen when the stream
 * ends, list again when the server says 410 Gone, and back off while the
 * API server cannot be reached.  The store keeps a small summary per object
 * keyed by namespace/name (a pod costs about a hundred bytes, so 150,000
 * pods fit in about 15 MiB) and keeps the counts the screen shows up to
 * date as each event arrives, so a snapshot costs O(namespaces + nodes),
 * never O(pods) (PRODUCT.md §2, §7).
 *
 * Change notification is coalesced: after a change the informer signals
 * once (writes to its eventfd or the caller's fd, and/or calls on_change),
 * then stays quiet until the consumer takes a snapshot.  A screen that
 * redraws five times a second is therefore woken at most five times a
 * second, whatever the event rate.  Nothing runs while nothing changes:
 * the thread sleeps in the watch's read or in its back-off wait.
 *
 * Threading: start, stop, snapshot, wait and foreach may be called from
 * any thread; stop must not race with the other calls on the same
 * informer.  The client must outlive its informers.
 */
#ifndef BGSWITCH_KUBE_INFORMER_H
#define BGSWITCH_KUBE_INFORMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "kube/kube_client.h"
#include "kube/kube_summary.h"

enum kube_informer_kind {
	KUBE_INFORMER_NODES,		/* /api/v1/nodes */
	KUBE_INFORMER_PODS,		/* /api/v1/pods */
	KUBE_INFORMER_DEPLOYMENTS,	/* /apis/apps/v1/deployments */
	KUBE_INFORMER_GENERIC,		/* opts.path; identity and counts only */
};

struct kube_informer_opts {
	const char *name;		/* in log lines; NULL = the path */
	const char *path;		/* collection path: required for GENERIC, else
					 * overrides the default (e.g. one namespace) */
	const char *item_kind;		/* GENERIC: the items' kind ("ConfigMap") */
	const char *label_selector;
	const char *field_selector;
	long page_size;			/* list page size; 0 = KUBE_DEFAULT_PAGE */
	long watch_timeout_s;		/* 0 = random in [300, 600) s, as client-go */
	long backoff_initial_ms;	/* after a failure; 0 = 800 ms, as client-go */
	long backoff_max_ms;		/* 0 = 30 s */
	long max_problems;		/* deployments listed in a snapshot; 0 = 256 */
	int notify_fd;			/* > 0: on change, write an 8-byte 1 here (an
					 * eventfd, or a pipe's write end, non-blocking);
					 * else the informer makes its own eventfd */
	void (*on_change)(void *ctx);	/* called (informer thread, no lock held)
					 * when the signal is raised; may be NULL */
	void *ctx;
};

#define KUBE_POD_HEALTH_COUNT	(KUBE_POD_TERMINATING + 1)

/* Pod counts as the screen and `status --json` show them. */
struct kube_pod_counts {
	uint32_t total;		/* pods expected to run: all but Succeeded and
				 * Terminating ones */
	uint32_t ready;		/* Ready condition True (KUBE_POD_READY) */
	uint32_t pending;	/* not started: pending, unschedulable, image pull */
	uint32_t crashlooping;	/* a container in CrashLoopBackOff */
	uint32_t by_health[KUBE_POD_HEALTH_COUNT];	/* every pod */
	uint64_t restarts;	/* summed restartCount */
};

struct kube_ns_summary {
	char name[KUBE_NS_MAX];
	uint32_t objects;		/* of the informer's kind */
	struct kube_pod_counts pods;	/* pod informers */
	uint32_t deployments;		/* deployment informers */
	uint32_t deployments_not_available;
};

struct kube_node_summary {
	const char *name;		/* strings point into the snapshot */
	enum kube_node_health health;
	bool unschedulable;		/* cordoned */
	unsigned pressure;		/* KUBE_NODE_*_PRESSURE bits */
	const char *ready_reason;
	const char *kubelet_version;
	const char *agent_pool;
	int64_t created;		/* Unix seconds */
};

struct kube_version_count {
	const char *version;		/* kubelet version */
	uint32_t nodes;
};

struct kube_deploy_summary {
	char ns[KUBE_NS_MAX];
	char name[KUBE_NAME_MAX];
	enum kube_deploy_health health;
	int32_t desired, ready, available, updated;
	char reason[KUBE_REASON_MAX];	/* Available/Progressing condition reason */
};

/* A consistent copy of one informer's state and aggregates. */
struct kube_snapshot {
	enum kube_informer_kind kind;
	/* connection state */
	bool synced;			/* a first list completed */
	bool connected;			/* the last request reached the server */
	int64_t state_since_ms;		/* Unix ms: connected/disconnected since */
	int64_t last_event_ms;		/* Unix ms of the last list item or event; 0 */
	int64_t last_sync_ms;		/* Unix ms the last list completed; 0 */
	char last_error[KUBE_ERROR_MAX];	/* "" when the last request succeeded */
	enum kube_err last_err;
	char resource_version[KUBE_RV_MAX];
	uint64_t lists;			/* completed lists (the first included) */
	uint64_t relists;		/* lists after the first (410, errors) */
	uint64_t reconnects;		/* watches started after the first */
	uint64_t events;		/* watch events applied (bookmarks excluded) */
	uint64_t changes;		/* store changes so far: compare snapshots */
	/* every kind */
	uint64_t objects;
	struct kube_ns_summary *namespaces;	/* namespaces with objects, by name */
	size_t nnamespaces;
	/* nodes */
	uint32_t nodes_ready, nodes_not_ready, nodes_unknown, nodes_cordoned;
	struct kube_node_summary *nodes;	/* by name */
	size_t nnodes;
	struct kube_version_count *versions;	/* by version text */
	size_t nversions;
	/* pods */
	struct kube_pod_counts pods;
	/* deployments */
	uint32_t deployments;
	uint32_t deployments_not_available;
	struct kube_deploy_summary *not_available;	/* at most max_problems */
	size_t nnot_available;
	/* private: storage of the strings above */
	char *strings_;
};

/* One stored object, for views that need the members (kube_informer_foreach).
 * Only the fields of the informer's kind are meaningful. */
struct kube_informer_item {
	const char *ns;
	const char *name;
	enum kube_pod_health pod_health;
	uint32_t restarts;
	uint16_t containers, containers_ready;
	const char *reason;		/* pod waiting/status reason, node Ready
					 * reason, deployment condition reason */
	enum kube_node_health node_health;
	bool unschedulable;
	const char *kubelet_version;
	const char *agent_pool;
	int64_t created;
	enum kube_deploy_health deploy_health;
	int32_t desired, ready, available, updated;
};

struct kube_informer;

/* Starts an informer of KIND on C.  O may be NULL (not for GENERIC).
 * Returns NULL with ERR filled on bad options or when out of resources. */
struct kube_informer *kube_informer_start(struct kube_client *c,
    enum kube_informer_kind kind, const struct kube_informer_opts *o,
    char *err, size_t errlen);
/* Stops the thread promptly (its request is cancelled), closes the own
 * eventfd and frees INF.  NULL is fine. */
void kube_informer_stop(struct kube_informer *inf);
/* The descriptor that becomes readable on change: the informer's eventfd
 * (drained by kube_informer_snapshot) or the caller's notify_fd. */
int kube_informer_fd(const struct kube_informer *inf);
/* Waits until the first list has completed.  1 when synced, 0 on timeout
 * (TIMEOUT_MS < 0: forever, until stopped). */
int kube_informer_wait_synced(struct kube_informer *inf, long timeout_ms);
/* Copies state and aggregates into *OUT (free with kube_snapshot_free) and
 * re-arms the change signal.  0, or -1 when out of memory (*OUT empty). */
int kube_informer_snapshot(struct kube_informer *inf, struct kube_snapshot *out);
void kube_snapshot_free(struct kube_snapshot *s);
/* Calls FN for every stored object under the informer's lock (O(objects):
 * for detail views, not per frame).  FN returning non-zero stops the walk.
 * Returns the number of objects visited. */
size_t kube_informer_foreach(struct kube_informer *inf,
    int (*fn)(void *ctx, const struct kube_informer_item *it), void *ctx);

/* Adds the health members of `bgswitch status --json` (PRODUCT.md §3) to
 * the cluster object DST: "nodes" {ready, total, notReady, unknown,
 * cordoned, versions}, "pods" {ready, total, pending, crashLooping},
 * "namespaces" {NAME: {pods: {...}}}, "deploymentsNotAvailable" [...] and
 * "synced"/"connected".  Any snapshot may be NULL (its members are left
 * out, never guessed).  Returns 0, or -1 when out of memory. */
int kube_health_json(cJSON *dst, const struct kube_snapshot *nodes,
    const struct kube_snapshot *pods, const struct kube_snapshot *deploys);

#endif
