/*
 * kube_summary.h — the compact summary bgswitch keeps of one Kubernetes
 * object, as the streaming decoder (kube_decode.h) fills it in.
 *
 * A cluster of 150,000 pods is watched for an hour (PRODUCT.md §7), so
 * nothing here points into the JSON it came from: every field is a fixed-size
 * buffer or a number, a summary is a plain value that can be copied, and the
 * raw object is gone as soon as it has been read.  Only the fields the screen
 * and the stage checks use are kept (PRODUCT.md §2): pod readiness, restarts
 * and crash loops; node readiness, cordons, versions and pools; deployment
 * replica counts and conditions; and the identity every object has, for sync
 * progress and parity.  Field names and meanings follow the Kubernetes API
 * reference (core/v1 Pod, Node; apps/v1 Deployment; meta/v1 ObjectMeta,
 * Status); the .c and the decoder cite the details.
 *
 * Strings longer than their buffer are cut at the buffer's size and the
 * object is flagged `truncated`; no name, namespace or uid that passed API
 * validation reaches its limit; images, messages and free-text reasons can.
 */
#ifndef BGSWITCH_KUBE_SUMMARY_H
#define BGSWITCH_KUBE_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Buffer sizes, terminating NUL included.  Names of most objects are DNS
 * subdomains (at most 253 characters), namespaces and label values at most
 * 63, uids are 36-character UUIDs (Kubernetes "Object Names and IDs"). */
#define KUBE_NAME_MAX		254
#define KUBE_NS_MAX		64
#define KUBE_UID_MAX		40
#define KUBE_RV_MAX		64	/* opaque; etcd's is a decimal uint64 */
#define KUBE_KIND_MAX		64
#define KUBE_APIVERSION_MAX	128	/* group (a DNS subdomain) "/" version */
#define KUBE_REASON_MAX		64	/* CamelCase reasons: "CrashLoopBackOff" */
#define KUBE_IP_MAX		48	/* IPv6 text is at most 45 */
#define KUBE_VERSION_MAX	64
#define KUBE_LABEL_MAX		64
#define KUBE_IMAGE_MAX		256
#define KUBE_MESSAGE_MAX	512

/* The kinds summarized in detail; everything else is KUBE_KIND_OTHER with
 * only its identity (struct kube_meta) filled in. */
enum kube_kind {
	KUBE_KIND_OTHER = 0,
	KUBE_KIND_POD,
	KUBE_KIND_NODE,
	KUBE_KIND_DEPLOYMENT,
	KUBE_KIND_STATUS,	/* meta/v1 Status: an error body or watch ERROR */
};

/* A condition's status.  The API's values are "True", "False" and
 * "Unknown"; any other text (2015-era servers sent "None") reads as
 * UNKNOWN, and a condition that is not there at all is ABSENT. */
enum kube_cond {
	KUBE_COND_ABSENT = 0,
	KUBE_COND_TRUE,
	KUBE_COND_FALSE,
	KUBE_COND_UNKNOWN,
};

/* core/v1 PodStatus.phase; NONE when the field is missing, UNKNOWN also for
 * values this build does not know. */
enum kube_phase {
	KUBE_PHASE_NONE = 0,
	KUBE_PHASE_PENDING,
	KUBE_PHASE_RUNNING,
	KUBE_PHASE_SUCCEEDED,
	KUBE_PHASE_FAILED,
	KUBE_PHASE_UNKNOWN,
};

/* meta/v1 ObjectMeta: what every object has. */
struct kube_meta {
	char ns[KUBE_NS_MAX];			/* "" for cluster-scoped objects */
	char name[KUBE_NAME_MAX];
	char uid[KUBE_UID_MAX];
	char resource_version[KUBE_RV_MAX];
	int64_t generation;			/* metadata.generation, 0 if absent */
	int64_t created;	/* creationTimestamp, Unix seconds; 0 if absent or unreadable */
	int64_t deleted;	/* deletionTimestamp, Unix seconds; 0 if absent or unreadable */
	bool terminating;	/* deletionTimestamp is set (even if unreadable) */
	/* The first ownerReference with controller: true (the ReplicaSet of
	 * a Deployment's pod, the Job of a batch pod, ...). */
	char owner_kind[KUBE_KIND_MAX];
	char owner_name[KUBE_NAME_MAX];
	/* annotations["k8s.io/initial-events-end"] == "true": the BOOKMARK
	 * that ends the initial events of a sendInitialEvents watch. */
	bool initial_events_end;
};

/* core/v1 Pod. */
struct kube_pod {
	enum kube_phase phase;
	char reason[KUBE_REASON_MAX];		/* status.reason: "Evicted", ... */
	char node_name[KUBE_NAME_MAX];		/* spec.nodeName, "" until scheduled */
	char pod_ip[KUBE_IP_MAX];		/* status.podIP */
	enum kube_cond ready;			/* condition Ready */
	enum kube_cond scheduled;		/* condition PodScheduled */
	char scheduled_reason[KUBE_REASON_MAX];	/* "Unschedulable", "SchedulingGated" */
	/* As kubectl's READY column: total is len(spec.containers) (or the
	 * number of statuses, if larger); ready counts containerStatuses[] with
	 * ready: true. */
	uint16_t containers;
	uint16_t containers_ready;
	/* As kubectl's RESTARTS column: restartCount summed over
	 * initContainerStatuses[] and containerStatuses[]. */
	uint32_t restarts;
	/* Containers (init ones included) whose state.waiting.reason is
	 * CrashLoopBackOff, and ImagePullBackOff or ErrImagePull. */
	uint16_t crashlooping;
	uint16_t image_pull_errors;
	/* The most telling state.waiting.reason among the containers:
	 * CrashLoopBackOff, then an image pull error, then the first other. */
	char waiting_reason[KUBE_REASON_MAX];
};

/* Bits of kube_node.pressure: conditions MemoryPressure, DiskPressure and
 * PIDPressure with status True. */
#define KUBE_NODE_MEMORY_PRESSURE	0x1u
#define KUBE_NODE_DISK_PRESSURE		0x2u
#define KUBE_NODE_PID_PRESSURE		0x4u

/* core/v1 Node. */
struct kube_node {
	enum kube_cond ready;			/* condition Ready */
	char ready_reason[KUBE_REASON_MAX];	/* "KubeletReady", "NodeStatusUnknown" */
	bool unschedulable;			/* spec.unschedulable: cordoned */
	unsigned pressure;			/* KUBE_NODE_*_PRESSURE bits */
	char kubelet_version[KUBE_VERSION_MAX];	/* status.nodeInfo.kubeletVersion */
	/* AKS node pool: label kubernetes.azure.com/agentpool, or the older
	 * "agentpool" label when only that one is there. */
	char agent_pool[KUBE_LABEL_MAX];
};

/* apps/v1 Deployment. */
struct kube_deployment {
	int32_t spec_replicas;			/* spec.replicas; 1 when absent (API default) */
	int32_t replicas;			/* status.replicas ... */
	int32_t ready_replicas;
	int32_t available_replicas;
	int32_t updated_replicas;
	int32_t unavailable_replicas;
	int64_t observed_generation;		/* status.observedGeneration */
	enum kube_cond available;		/* condition Available */
	char available_reason[KUBE_REASON_MAX];
	enum kube_cond progressing;		/* condition Progressing */
	char progressing_reason[KUBE_REASON_MAX]; /* "ProgressDeadlineExceeded" */
	char image[KUBE_IMAGE_MAX];		/* spec.template.spec.containers[0].image */
};

/* meta/v1 Status. */
struct kube_status {
	char status[16];			/* "Success" or "Failure" */
	char reason[KUBE_REASON_MAX];		/* "Expired", "NotFound", "Forbidden" */
	char message[KUBE_MESSAGE_MAX];
	int32_t code;				/* the HTTP status it stands for */
};

/* One decoded object.  Only the member that matches `kind` is meaningful
 * (the others may hold partial data from a kind the decoder had not yet
 * learned); meta is meaningful for every kind but STATUS. */
struct kube_object {
	enum kube_kind kind;
	char kind_name[KUBE_KIND_MAX];		/* "Pod", "Lease"; "" if unknown */
	char api_version[KUBE_APIVERSION_MAX];	/* "v1", "apps/v1" */
	bool truncated;				/* a string did not fit its buffer */
	struct kube_meta meta;
	struct kube_pod pod;
	struct kube_node node;
	struct kube_deployment deploy;
	struct kube_status status;
};

/* The envelope of a list response (meta/v1 ListMeta plus the list's type). */
struct kube_list {
	char kind[KUBE_KIND_MAX];		/* "PodList", or "List" */
	char api_version[KUBE_APIVERSION_MAX];
	char resource_version[KUBE_RV_MAX];	/* the list's, for the watch that follows */
	/* metadata.continue: NUL-terminated, "" on the last page.  Owned by the
	 * decoder; valid until its next reset or free. */
	const char *continue_token;
	size_t continue_len;
	bool has_remaining;			/* metadata.remainingItemCount was given */
	int64_t remaining_item_count;
	uint64_t items;				/* how many items this body held */
};

/* What a pod looks like on the screen, worst first; see kube_pod_health. */
enum kube_pod_health {
	KUBE_POD_READY = 0,
	KUBE_POD_SUCCEEDED,	/* finished; counted apart from ready/total */
	KUBE_POD_NOT_READY,	/* running, Ready not True */
	KUBE_POD_PENDING,	/* not running yet (pulling, creating, waiting) */
	KUBE_POD_UNSCHEDULABLE,	/* PodScheduled False */
	KUBE_POD_IMAGE_PULL,	/* a container in ImagePullBackOff / ErrImagePull */
	KUBE_POD_CRASHLOOP,	/* a container in CrashLoopBackOff */
	KUBE_POD_FAILED,
	KUBE_POD_TERMINATING,	/* deletionTimestamp set */
};

enum kube_node_health {
	KUBE_NODE_READY = 0,
	KUBE_NODE_NOT_READY,	/* Ready False */
	KUBE_NODE_UNKNOWN,	/* Ready Unknown or missing: the kubelet went quiet */
};

/* A deployment's rollout, as `kubectl rollout status` judges it. */
enum kube_deploy_health {
	KUBE_DEPLOY_AVAILABLE = 0,	/* rolled out, all replicas available */
	KUBE_DEPLOY_PROGRESSING,	/* rollout under way */
	KUBE_DEPLOY_UNAVAILABLE,	/* Available False or fewer available than wanted */
	KUBE_DEPLOY_STALLED,		/* Progressing reason ProgressDeadlineExceeded */
};

/* Names for logs and the JSON status ("Pod", "True", "Running", ...). */
const char *kube_kind_str(enum kube_kind k);
const char *kube_cond_str(enum kube_cond c);
const char *kube_phase_str(enum kube_phase p);
const char *kube_pod_health_str(enum kube_pod_health h);

/* Maps API text to the enums above (LEN bytes, no NUL needed). */
enum kube_kind kube_kind_from(const char *s, size_t len);
enum kube_cond kube_cond_from(const char *s, size_t len);
enum kube_phase kube_phase_from(const char *s, size_t len);

/* Classifies a pod, node or deployment summary (O must be of that kind). */
enum kube_pod_health kube_pod_health(const struct kube_object *o);
enum kube_node_health kube_node_health(const struct kube_object *o);
enum kube_deploy_health kube_deploy_health(const struct kube_object *o);

/* True when S says the resourceVersion asked for is gone from the server's
 * history (410 Gone, reason Expired or Gone): the caller must list again. */
bool kube_status_expired(const struct kube_status *s);

/* Parses an RFC 3339 time as the API writes it ("2018-09-17T20:48:36Z",
 * "2015-03-19T15:08:20+02:00", fractions of a second) into Unix seconds;
 * seconds may be missing ("2021-08-04T03:03Z", seen in real objects).
 * Returns 0, or -1 if S is not such a time. */
int kube_time_parse(const char *s, size_t len, int64_t *out);

#endif
