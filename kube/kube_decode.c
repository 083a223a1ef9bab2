/*
 * kube_decode.c — streaming decoder of Kubernetes list, watch and object
 * bodies into struct kube_object summaries (see kube_decode.h).
 *
 * yajl tokenizes; the callbacks below walk a fixed tree of contexts that
 * mirrors the parts of the API objects we read (object > metadata > labels,
 * object > status > containerStatuses[] > state > waiting, ...).  Each
 * context has a short table of the member names it cares about; a member
 * that is not in the table, and everything nested under it, is skipped by
 * counting brackets, so managedFields, annotations and container specs
 * cost only yajl's tokenizing.  Nothing is allocated per object: there is
 * one accumulator for the body's top-level object and one for the list item
 * or watch event object in flight, and each is cleared when a new object
 * starts.
 *
 * JSON members come in any order, and a list item's "kind" (or the list's
 * own) may arrive after the fields that depend on it.  So until an object's
 * kind is known, every kind's fields are captured, and a field of the wrong
 * type is only noted; when the object ends and its kind is settled, the
 * note becomes an error if that field matters for the kind.  Once the kind
 * is known, fields of other kinds are skipped outright (a CRD's "spec" is
 * never looked at).
 *
 * API facts used here are from the Kubernetes API reference (core/v1 Pod,
 * Node; apps/v1 Deployment; meta/v1 ObjectMeta, ListMeta, Status,
 * WatchEvent) and "API Concepts" (watch, bookmarks, chunked lists);
 * comments name the particular source where it matters.
 */
#include "kube/kube_decode.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

/* ---- the schema: contexts, fields, and which kinds they matter for ------ */

/* Kind bits: the kinds a field matters for. */
enum {
	K_POD = 1, K_NODE = 2, K_DEPLOY = 4, K_STATUS = 8, K_OTHER = 16,
	K_ANY = 31,
	K_WORKLOAD = K_POD | K_NODE | K_DEPLOY,
};

/* JSON value types as yajl reports them. */
enum vt { V_NULL, V_BOOL, V_NUM, V_STR, V_MAP, V_ARR };

/* Contexts: where in an object we are. */
enum ctx {
	C_NONE,		/* no context: the value's contents are skipped */
	C_DOC,		/* top of a BODY: list, object or Status */
	C_EVENT,	/* top of a watch event */
	C_ITEMS,	/* list .items[] */
	C_OBJ,		/* an object (list item, watch event object) */
	C_META,		/* .metadata */
	C_LABELS,
	C_ANNOTS,
	C_OWNERS,	/* .metadata.ownerReferences[] */
	C_OWNER,
	C_SPEC,
	C_PCONTAINERS,	/* pod .spec.containers[] (only counted) */
	C_TEMPLATE,	/* deployment .spec.template */
	C_TSPEC,
	C_TCONTAINERS,	/* deployment .spec.template.spec.containers[] */
	C_TCONTAINER,
	C_STATUS,
	C_CONDS,	/* .status.conditions[] */
	C_COND,
	C_CSTATUSES,	/* pod .status.containerStatuses[] */
	C_ICSTATUSES,	/* pod .status.initContainerStatuses[] */
	C_CSTATUS,
	C_CSTATE,
	C_CWAIT,
	C_NODEINFO,
	C_COUNT
};

/* Fields.  F_NONE means "not one of ours: skip the value". */
enum field {
	F_NONE,
	/* object and body level */
	F_KIND, F_APIVERSION, F_METADATA, F_ITEMS, F_ITEM, F_SPEC, F_STATUS,
	F_STATUS_STR, F_CODE, F_REASON, F_MESSAGE, F_TYPE, F_OBJECT,
	/* metadata */
	F_M_NAME, F_M_NS, F_M_UID, F_M_RV, F_M_CREATED, F_M_DELETED, F_M_GEN,
	F_M_LABELS, F_M_ANNOTS, F_M_OWNERS, F_M_CONTINUE, F_M_REMAINING,
	F_L_AZPOOL, F_L_POOL, F_A_INITIAL_END,
	F_OWNER, F_O_KIND, F_O_NAME, F_O_CONTROLLER,
	/* spec */
	F_S_NODENAME, F_S_CONTAINERS, F_PCONTAINER, F_S_UNSCHED, F_S_REPLICAS,
	F_S_TEMPLATE, F_T_SPEC, F_T_CONTAINERS, F_TCONTAINER, F_TC_IMAGE,
	/* status */
	F_ST_PHASE, F_ST_REASON, F_ST_PODIP, F_ST_CONDS, F_COND, F_CO_TYPE,
	F_CO_KIND, F_CO_STATUS, F_CO_REASON, F_ST_CSTATUSES, F_ST_ICSTATUSES,
	F_CSTATUS, F_CS_READY, F_CS_RESTARTS, F_CS_STATE, F_CS_WAITING,
	F_CW_REASON, F_ST_NODEINFO, F_NI_KUBELET, F_ST_REPLICAS, F_ST_READY,
	F_ST_AVAILABLE, F_ST_UPDATED, F_ST_UNAVAILABLE, F_ST_OBSGEN,
	F_COUNT
};

struct fielddef {
	const char *name;	/* JSON member name ("" for array elements) */
	unsigned char len;
	unsigned char type;	/* enum vt expected */
	unsigned char ctx;	/* context a map/array value opens */
	unsigned char mask;	/* kinds it matters for */
};

#define FD(n, t, c, m) { n, sizeof(n) - 1, t, c, m }

static const struct fielddef fields[F_COUNT] = {
	[F_NONE]	= FD("", V_NULL, C_NONE, 0),
	[F_KIND]	= FD("kind", V_STR, C_NONE, K_ANY),
	[F_APIVERSION]	= FD("apiVersion", V_STR, C_NONE, K_ANY),
	[F_METADATA]	= FD("metadata", V_MAP, C_META, K_ANY),
	[F_ITEMS]	= FD("items", V_ARR, C_ITEMS, K_ANY),
	[F_ITEM]	= FD("", V_MAP, C_OBJ, K_ANY),
	[F_SPEC]	= FD("spec", V_MAP, C_SPEC, K_WORKLOAD),
	[F_STATUS]	= FD("status", V_MAP, C_STATUS, K_WORKLOAD),
	[F_STATUS_STR]	= FD("status", V_STR, C_NONE, K_STATUS),
	[F_CODE]	= FD("code", V_NUM, C_NONE, K_STATUS),
	[F_REASON]	= FD("reason", V_STR, C_NONE, K_STATUS),
	[F_MESSAGE]	= FD("message", V_STR, C_NONE, K_STATUS),
	[F_TYPE]	= FD("type", V_STR, C_NONE, K_ANY),
	[F_OBJECT]	= FD("object", V_MAP, C_OBJ, K_ANY),

	[F_M_NAME]	= FD("name", V_STR, C_NONE, K_ANY),
	[F_M_NS]	= FD("namespace", V_STR, C_NONE, K_ANY),
	[F_M_UID]	= FD("uid", V_STR, C_NONE, K_ANY),
	[F_M_RV]	= FD("resourceVersion", V_STR, C_NONE, K_ANY),
	[F_M_CREATED]	= FD("creationTimestamp", V_STR, C_NONE, K_ANY),
	[F_M_DELETED]	= FD("deletionTimestamp", V_STR, C_NONE, K_ANY),
	[F_M_GEN]	= FD("generation", V_NUM, C_NONE, K_ANY),
	[F_M_LABELS]	= FD("labels", V_MAP, C_LABELS, K_NODE),
	[F_M_ANNOTS]	= FD("annotations", V_MAP, C_ANNOTS, K_ANY),
	[F_M_OWNERS]	= FD("ownerReferences", V_ARR, C_OWNERS, K_ANY),
	[F_M_CONTINUE]	= FD("continue", V_STR, C_NONE, K_ANY),
	[F_M_REMAINING]	= FD("remainingItemCount", V_NUM, C_NONE, K_ANY),
	/* AKS labels every node with its pool (AKS docs, "Use labels in an
	 * AKS cluster"); clusters from before 2021 have only "agentpool". */
	[F_L_AZPOOL]	= FD("kubernetes.azure.com/agentpool", V_STR, C_NONE, K_ANY),
	[F_L_POOL]	= FD("agentpool", V_STR, C_NONE, K_ANY),
	/* metav1.InitialEventsAnnotationKey (KEP-3157, watch-list). */
	[F_A_INITIAL_END] = FD("k8s.io/initial-events-end", V_STR, C_NONE, K_ANY),
	[F_OWNER]	= FD("", V_MAP, C_OWNER, K_ANY),
	[F_O_KIND]	= FD("kind", V_STR, C_NONE, K_ANY),
	[F_O_NAME]	= FD("name", V_STR, C_NONE, K_ANY),
	[F_O_CONTROLLER] = FD("controller", V_BOOL, C_NONE, K_ANY),

	[F_S_NODENAME]	= FD("nodeName", V_STR, C_NONE, K_POD),
	[F_S_CONTAINERS] = FD("containers", V_ARR, C_PCONTAINERS, K_POD),
	[F_PCONTAINER]	= FD("", V_MAP, C_NONE, K_ANY),
	[F_S_UNSCHED]	= FD("unschedulable", V_BOOL, C_NONE, K_NODE),
	[F_S_REPLICAS]	= FD("replicas", V_NUM, C_NONE, K_DEPLOY),
	[F_S_TEMPLATE]	= FD("template", V_MAP, C_TEMPLATE, K_DEPLOY),
	[F_T_SPEC]	= FD("spec", V_MAP, C_TSPEC, K_ANY),
	[F_T_CONTAINERS] = FD("containers", V_ARR, C_TCONTAINERS, K_ANY),
	[F_TCONTAINER]	= FD("", V_MAP, C_TCONTAINER, K_ANY),
	[F_TC_IMAGE]	= FD("image", V_STR, C_NONE, K_ANY),

	[F_ST_PHASE]	= FD("phase", V_STR, C_NONE, K_POD),
	[F_ST_REASON]	= FD("reason", V_STR, C_NONE, K_POD),
	[F_ST_PODIP]	= FD("podIP", V_STR, C_NONE, K_POD),
	[F_ST_CONDS]	= FD("conditions", V_ARR, C_CONDS, K_WORKLOAD),
	[F_COND]	= FD("", V_MAP, C_COND, K_ANY),
	[F_CO_TYPE]	= FD("type", V_STR, C_NONE, K_ANY),
	/* 2015-era servers (v1beta3) called the condition type "kind". */
	[F_CO_KIND]	= FD("kind", V_STR, C_NONE, K_ANY),
	[F_CO_STATUS]	= FD("status", V_STR, C_NONE, K_ANY),
	[F_CO_REASON]	= FD("reason", V_STR, C_NONE, K_ANY),
	[F_ST_CSTATUSES] = FD("containerStatuses", V_ARR, C_CSTATUSES, K_POD),
	[F_ST_ICSTATUSES] = FD("initContainerStatuses", V_ARR, C_ICSTATUSES, K_POD),
	[F_CSTATUS]	= FD("", V_MAP, C_CSTATUS, K_ANY),
	[F_CS_READY]	= FD("ready", V_BOOL, C_NONE, K_ANY),
	[F_CS_RESTARTS]	= FD("restartCount", V_NUM, C_NONE, K_ANY),
	[F_CS_STATE]	= FD("state", V_MAP, C_CSTATE, K_ANY),
	[F_CS_WAITING]	= FD("waiting", V_MAP, C_CWAIT, K_ANY),
	[F_CW_REASON]	= FD("reason", V_STR, C_NONE, K_ANY),
	[F_ST_NODEINFO]	= FD("nodeInfo", V_MAP, C_NODEINFO, K_NODE),
	[F_NI_KUBELET]	= FD("kubeletVersion", V_STR, C_NONE, K_ANY),
	[F_ST_REPLICAS]	= FD("replicas", V_NUM, C_NONE, K_DEPLOY),
	[F_ST_READY]	= FD("readyReplicas", V_NUM, C_NONE, K_DEPLOY),
	[F_ST_AVAILABLE] = FD("availableReplicas", V_NUM, C_NONE, K_DEPLOY),
	[F_ST_UPDATED]	= FD("updatedReplicas", V_NUM, C_NONE, K_DEPLOY),
	[F_ST_UNAVAILABLE] = FD("unavailableReplicas", V_NUM, C_NONE, K_DEPLOY),
	[F_ST_OBSGEN]	= FD("observedGeneration", V_NUM, C_NONE, K_DEPLOY),
};

/* Member names each map context reads, ending with F_NONE; array contexts
 * name the field of their elements instead. */
static const unsigned char keys_doc[] = { F_KIND, F_APIVERSION, F_METADATA,
	F_ITEMS, F_SPEC, F_STATUS, F_CODE, F_REASON, F_MESSAGE, F_NONE };
static const unsigned char keys_event[] = { F_TYPE, F_OBJECT, F_KIND,
	F_APIVERSION, F_STATUS, F_CODE, F_REASON, F_MESSAGE, F_NONE };
static const unsigned char keys_obj[] = { F_KIND, F_APIVERSION, F_METADATA,
	F_SPEC, F_STATUS, F_CODE, F_REASON, F_MESSAGE, F_NONE };
static const unsigned char keys_meta[] = { F_M_NAME, F_M_NS, F_M_UID,
	F_M_RV, F_M_CREATED, F_M_DELETED, F_M_GEN, F_M_LABELS, F_M_ANNOTS,
	F_M_OWNERS, F_M_CONTINUE, F_M_REMAINING, F_NONE };
static const unsigned char keys_labels[] = { F_L_AZPOOL, F_L_POOL, F_NONE };
static const unsigned char keys_annots[] = { F_A_INITIAL_END, F_NONE };
static const unsigned char keys_owner[] = { F_O_KIND, F_O_NAME,
	F_O_CONTROLLER, F_NONE };
static const unsigned char keys_spec[] = { F_S_NODENAME, F_S_CONTAINERS,
	F_S_UNSCHED, F_S_REPLICAS, F_S_TEMPLATE, F_NONE };
static const unsigned char keys_template[] = { F_T_SPEC, F_NONE };
static const unsigned char keys_tspec[] = { F_T_CONTAINERS, F_NONE };
static const unsigned char keys_tcontainer[] = { F_TC_IMAGE, F_NONE };
static const unsigned char keys_status[] = { F_ST_PHASE, F_ST_CONDS,
	F_ST_CSTATUSES, F_ST_PODIP, F_ST_REASON, F_ST_ICSTATUSES,
	F_ST_NODEINFO, F_ST_REPLICAS, F_ST_READY, F_ST_AVAILABLE, F_ST_UPDATED,
	F_ST_UNAVAILABLE, F_ST_OBSGEN, F_NONE };
static const unsigned char keys_cond[] = { F_CO_TYPE, F_CO_STATUS,
	F_CO_REASON, F_CO_KIND, F_NONE };
static const unsigned char keys_cstatus[] = { F_CS_READY, F_CS_RESTARTS,
	F_CS_STATE, F_NONE };
static const unsigned char keys_cstate[] = { F_CS_WAITING, F_NONE };
static const unsigned char keys_cwait[] = { F_CW_REASON, F_NONE };
static const unsigned char keys_nodeinfo[] = { F_NI_KUBELET, F_NONE };

struct ctxdef {
	const unsigned char *keys;	/* map contexts */
	unsigned char elem;		/* array contexts: their elements' field */
};

static const struct ctxdef ctxs[C_COUNT] = {
	[C_DOC]		= { keys_doc, F_NONE },
	[C_EVENT]	= { keys_event, F_NONE },
	[C_ITEMS]	= { NULL, F_ITEM },
	[C_OBJ]		= { keys_obj, F_NONE },
	[C_META]	= { keys_meta, F_NONE },
	[C_LABELS]	= { keys_labels, F_NONE },
	[C_ANNOTS]	= { keys_annots, F_NONE },
	[C_OWNERS]	= { NULL, F_OWNER },
	[C_OWNER]	= { keys_owner, F_NONE },
	[C_SPEC]	= { keys_spec, F_NONE },
	[C_PCONTAINERS]	= { NULL, F_PCONTAINER },
	[C_TEMPLATE]	= { keys_template, F_NONE },
	[C_TSPEC]	= { keys_tspec, F_NONE },
	[C_TCONTAINERS]	= { NULL, F_TCONTAINER },
	[C_TCONTAINER]	= { keys_tcontainer, F_NONE },
	[C_STATUS]	= { keys_status, F_NONE },
	[C_CONDS]	= { NULL, F_COND },
	[C_COND]	= { keys_cond, F_NONE },
	[C_CSTATUSES]	= { NULL, F_CSTATUS },
	[C_ICSTATUSES]	= { NULL, F_CSTATUS },
	[C_CSTATUS]	= { keys_cstatus, F_NONE },
	[C_CSTATE]	= { keys_cstate, F_NONE },
	[C_CWAIT]	= { keys_cwait, F_NONE },
	[C_NODEINFO]	= { keys_nodeinfo, F_NONE },
};

/* The deepest path through the contexts above is 8 (DOC ITEMS OBJ STATUS
 * CSTATUSES CSTATUS CSTATE CWAIT); deeper JSON is all skipped. */
#define MAX_FRAMES 12

/* Condition types we read (core/v1 PodConditionType, NodeConditionType;
 * apps/v1 DeploymentConditionType). */
enum cond_type {
	CT_OTHER, CT_READY, CT_SCHEDULED, CT_MEMORY, CT_DISK, CT_PID,
	CT_AVAILABLE, CT_PROGRESSING,
};

/* Watch event types (meta/v1 WatchEvent; k8s.io/apimachinery watch.EventType). */
static const struct {
	const char *name;
	enum kube_event ev;
} event_types[] = {
	{ "ADDED", KUBE_EVENT_ADDED },
	{ "MODIFIED", KUBE_EVENT_MODIFIED },
	{ "DELETED", KUBE_EVENT_DELETED },
	{ "BOOKMARK", KUBE_EVENT_BOOKMARK },
	{ "ERROR", KUBE_EVENT_ERROR },
};

/* ---- the decoder --------------------------------------------------------- */

/* An object being filled in, with what we know about it so far. */
struct acc {
	struct kube_object o;
	unsigned char kmask;	/* K_ANY until the kind is known */
	bool kind_known;	/* from its "kind" or a typed list's kind */
	bool spec_replicas_set;
	bool az_pool_set;
	bool status_str;	/* "status" was a string: a Status */
	bool code_set;
	uint16_t status_containers;
};

struct frame {
	unsigned char ctx;
	unsigned char field;	/* the field that opened it, for error paths */
	uint32_t index;		/* array contexts: elements begun so far */
	struct acc *acc;
};

struct kube_decoder {
	yajl_handle h;
	yajl_alloc_funcs af;
	enum kube_decode_mode mode;
	kube_decode_object_fn on_object;
	kube_decode_list_fn on_list;
	void *ctx;

	/* Per context, bit L is set if one of its member names is L bytes
	 * long: most keys are rejected on length alone. */
	uint64_t lenmask[C_COUNT];

	struct frame st[MAX_FRAMES];
	unsigned n;		/* frames in use */
	unsigned skip;		/* depth inside a skipped map or array */
	unsigned char pending;	/* field of the next value in a map */

	bool failed;
	char err[384];
	uint64_t fed;		/* bytes of this body fed before the current chunk */
	uint64_t total;		/* bytes fed since creation */
	uint64_t objects;
	uint64_t allocs;
	uint64_t roots;		/* top-level values begun */
	bool nonspace;		/* more than whitespace came before the first value */

	struct acc doc;		/* the top-level object */
	struct acc item;	/* the list item or watch event object */

	/* the list envelope */
	struct kube_list list;
	bool saw_items;
	char *cont;
	size_t cont_cap;
	/* Kind of the items, from a typed list's kind ("PodList"). */
	bool items_kind_known;
	enum kube_kind items_kind;
	char items_kind_name[KUBE_KIND_MAX];
	/* The caller's kind for objects that do not say theirs. */
	enum kube_kind hint;
	char hint_name[KUBE_KIND_MAX];

	/* the watch event in flight */
	bool has_type;
	enum kube_event ev;
	bool has_object;

	/* the array element in flight (they never nest in each other) */
	struct {
		enum cond_type type;
		enum kube_cond status;
		char reason[KUBE_REASON_MAX];
	} cond;
	struct {
		bool ready;
		int64_t restarts;
		char waiting[KUBE_REASON_MAX];
	} cs;
	struct {
		bool controller;
		char kind[KUBE_KIND_MAX];
		char name[KUBE_NAME_MAX];
	} owner;

	/* A type error in an object whose kind was not yet known. */
	bool def_set;
	unsigned char def_mask;
	struct acc *def_acc;
	char def_msg[256];
};

static const char *const vt_names[] = {
	[V_NULL] = "null", [V_BOOL] = "a boolean", [V_NUM] = "a number",
	[V_STR] = "a string", [V_MAP] = "an object", [V_ARR] = "an array",
};

static unsigned char
kind_mask(enum kube_kind k)
{
	switch (k) {
	case KUBE_KIND_POD:		return K_POD;
	case KUBE_KIND_NODE:		return K_NODE;
	case KUBE_KIND_DEPLOYMENT:	return K_DEPLOY;
	case KUBE_KIND_STATUS:		return K_STATUS;
	case KUBE_KIND_OTHER:		break;
	}
	return K_OTHER;
}

static void
fail(struct kube_decoder *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(struct kube_decoder *d, const char *fmt, ...)
{
	va_list ap;

	if (d->failed)
		return;
	d->failed = true;
	va_start(ap, fmt);
	vsnprintf(d->err, sizeof d->err, fmt, ap);
	va_end(ap);
}

/* Copies a JSON string into a fixed buffer, cutting it on a UTF-8
 * character boundary if it does not fit. */
static void
put(struct acc *a, char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap) {
		len = cap - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
		if (a != NULL)
			a->o.truncated = true;
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
}

#define LIT_EQ(s, len, lit) \
	((len) == sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

/* Writes the JSON path of the value being read ("items[3].spec.replicas")
 * into BUF, from the frames and the field FID about to be read. */
static void
path_of(const struct kube_decoder *d, unsigned char fid, char *buf,
    size_t cap)
{
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned i = 1; i <= d->n && at < cap; i++) {
		const struct frame *parent = &d->st[i - 1];
		unsigned char f = i < d->n ? d->st[i].field : fid;
		int w;

		if (ctxs[parent->ctx].elem != F_NONE)
			w = snprintf(buf + at, cap - at, "[%lu]",
			    (unsigned long)parent->index - 1);
		else
			w = snprintf(buf + at, cap - at, "%s%s",
			    at > 0 ? "." : "", fields[f].name);
		if (w < 0)
			break;
		at += (size_t)w;
	}
}

/* Parses an integer as JSON writes it; fractions and exponents are not
 * integers (the API's int32/int64 fields refuse them too). */
static int
parse_int(const char *s, size_t len, int64_t lo, int64_t hi, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0, lim;
	size_t i = 0;

	if (len > 0 && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len)
		return -1;
	lim = neg ? (uint64_t)-(lo + 1) + 1 : (uint64_t)hi;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return -2;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	/* -(v - 1) - 1 reaches INT64_MIN without overflowing. */
	*out = !neg ? (int64_t)v : v == 0 ? 0 : -(int64_t)(v - 1) - 1;
	return 0;
}

static void
reset_acc(struct kube_decoder *d, struct acc *a, bool is_item)
{
	memset(a, 0, sizeof *a);
	a->kmask = K_ANY;
	if (is_item && d->items_kind_known) {
		a->kind_known = true;
		a->o.kind = d->items_kind;
		a->kmask = kind_mask(d->items_kind);
		memcpy(a->o.kind_name, d->items_kind_name,
		    sizeof a->o.kind_name);
		memcpy(a->o.api_version, d->doc.o.api_version,
		    sizeof a->o.api_version);
	}
	if (d->def_acc == a)
		d->def_set = false;
}

static void
set_kind(struct kube_decoder *d, struct acc *a, const char *s, size_t len,
    bool at_doc)
{
	put(a, a->o.kind_name, sizeof a->o.kind_name, s, len);
	a->o.kind = kube_kind_from(s, len);
	a->kind_known = true;
	a->kmask = kind_mask(a->o.kind);
	/* A typed list ("PodList") says what its items are; "List" (kubectl
	 * -o json) does not, and its items carry their own kind. */
	if (at_doc && len > 4 && memcmp(s + len - 4, "List", 4) == 0) {
		d->items_kind_known = true;
		d->items_kind = kube_kind_from(s, len - 4);
		put(NULL, d->items_kind_name, sizeof d->items_kind_name, s,
		    len - 4);
	}
}

/* Keeps the most telling waiting reason of a pod's containers. */
static int
waiting_rank(const char *r)
{
	if (strcmp(r, "CrashLoopBackOff") == 0)
		return 3;
	if (strcmp(r, "ImagePullBackOff") == 0 ||
	    strcmp(r, "ErrImagePull") == 0)
		return 2;
	return r[0] != '\0';
}

static int
store_continue(struct kube_decoder *d, const char *s, size_t len)
{
	if (len > KUBE_DECODE_MAX_CONTINUE) {
		fail(d, "metadata.continue is %zu bytes, more than %d", len,
		    KUBE_DECODE_MAX_CONTINUE);
		return 0;
	}
	if (len + 1 > d->cont_cap) {
		char *p = realloc(d->cont, len + 1);

		if (p == NULL) {
			fail(d, "out of memory");
			return 0;
		}
		d->allocs++;
		d->cont = p;
		d->cont_cap = len + 1;
	}
	memcpy(d->cont, s, len);
	d->cont[len] = '\0';
	d->list.continue_token = d->cont;
	d->list.continue_len = len;
	return 1;
}

/* Enters a map or array whose contents are skipped. */
static int
enter_skip(struct kube_decoder *d)
{
	if (d->n + d->skip >= KUBE_DECODE_MAX_DEPTH) {
		fail(d, "JSON nested deeper than %d levels",
		    KUBE_DECODE_MAX_DEPTH);
		return 0;
	}
	d->skip++;
	return 1;
}

/* Notes a type error in A, an object whose kind is not known yet, to be
 * raised when the object ends if the kind turns out to be one of MASK. */
static void
defer_error(struct kube_decoder *d, struct acc *a, unsigned char mask,
    const char *path, const char *want, const char *got)
{
	if (d->def_set)
		return;
	d->def_set = true;
	d->def_acc = a;
	d->def_mask = mask;
	snprintf(d->def_msg, sizeof d->def_msg, "%s: expected %s, got %s",
	    path, want, got);
}

/* A value of the wrong type for field FID.  If the object's kind is not
 * known yet and the field does not matter for every kind, this is only
 * noted (see the file comment); otherwise it is an error.  Returns 1 to go
 * on (skipping the value), 0 after fail(). */
static int
wrong_type(struct kube_decoder *d, struct acc *a, unsigned char fid,
    enum vt got)
{
	char path[160];
	const char *want = fields[fid].type == V_NUM ? "an integer" :
	    vt_names[fields[fid].type];

	path_of(d, fid, path, sizeof path);
	if (!a->kind_known && fields[fid].mask != K_ANY) {
		defer_error(d, a, fields[fid].mask, path, want, vt_names[got]);
		return (got == V_MAP || got == V_ARR) ? enter_skip(d) : 1;
	}
	fail(d, "%s: expected %s, got %s", path, want, vt_names[got]);
	return 0;
}

/* Stores a scalar value of field FID into the object A.  S is the text
 * (strings, numbers) and B the value (booleans).  Returns 1, or 0 after
 * fail(). */
static int
store(struct kube_decoder *d, struct frame *f, unsigned char fid,
    const char *s, size_t len, bool b)
{
	struct acc *a = f->acc;
	struct kube_object *o = &a->o;
	int64_t v = 0;
	int rc;

	if (fields[fid].type == V_NUM) {
		bool wide = fid == F_M_GEN || fid == F_ST_OBSGEN ||
		    fid == F_M_REMAINING;

		rc = parse_int(s, len, wide ? INT64_MIN : INT32_MIN,
		    wide ? INT64_MAX : INT32_MAX, &v);
		if (rc != 0) {
			char path[160];

			path_of(d, fid, path, sizeof path);
			fail(d, "%s: expected %s integer, got %.*s", path,
			    wide ? "a 64-bit" : "a 32-bit",
			    (int)(len > 40 ? 40 : len), s);
			return 0;
		}
	}

	switch (fid) {
	case F_KIND:
		set_kind(d, a, s, len, f->ctx == C_DOC);
		break;
	case F_APIVERSION:
		put(a, o->api_version, sizeof o->api_version, s, len);
		break;
	case F_STATUS_STR:
		/* Read as a Status's; wrong if the object is a workload. */
		if (!a->kind_known) {
			char path[160];

			path_of(d, fid, path, sizeof path);
			defer_error(d, a, K_WORKLOAD, path, "an object",
			    "a string");
		}
		a->status_str = true;
		put(a, o->status.status, sizeof o->status.status, s, len);
		break;
	case F_CODE:
		a->code_set = true;
		o->status.code = (int32_t)v;
		break;
	case F_REASON:
		put(a, o->status.reason, sizeof o->status.reason, s, len);
		break;
	case F_MESSAGE:
		put(a, o->status.message, sizeof o->status.message, s, len);
		break;
	case F_TYPE:
		for (size_t i = 0; i < sizeof event_types / sizeof *event_types;
		    i++) {
			if (strlen(event_types[i].name) == len &&
			    memcmp(event_types[i].name, s, len) == 0) {
				d->has_type = true;
				d->ev = event_types[i].ev;
				return 1;
			}
		}
		fail(d, "watch event type \"%.*s\" is not one of ADDED, "
		    "MODIFIED, DELETED, BOOKMARK, ERROR",
		    (int)(len > 40 ? 40 : len), s);
		return 0;

	case F_M_NAME:
		put(a, o->meta.name, sizeof o->meta.name, s, len);
		break;
	case F_M_NS:
		put(a, o->meta.ns, sizeof o->meta.ns, s, len);
		break;
	case F_M_UID:
		put(a, o->meta.uid, sizeof o->meta.uid, s, len);
		break;
	case F_M_RV:
		put(a, o->meta.resource_version,
		    sizeof o->meta.resource_version, s, len);
		break;
	case F_M_CREATED:
		/* An unreadable time reads as "unknown" rather than failing
		 * the whole list: real objects carry times without seconds. */
		if (kube_time_parse(s, len, &v) == 0)
			o->meta.created = v;
		break;
	case F_M_DELETED:
		o->meta.terminating = true;
		if (kube_time_parse(s, len, &v) == 0)
			o->meta.deleted = v;
		break;
	case F_M_GEN:
		o->meta.generation = v;
		break;
	case F_M_CONTINUE:
		/* Only the list's metadata has it (meta/v1 ListMeta). */
		if (a == &d->doc)
			return store_continue(d, s, len);
		break;
	case F_M_REMAINING:
		if (a == &d->doc) {
			d->list.has_remaining = true;
			d->list.remaining_item_count = v;
		}
		break;
	case F_L_AZPOOL:
		a->az_pool_set = true;
		put(a, o->node.agent_pool, sizeof o->node.agent_pool, s, len);
		break;
	case F_L_POOL:
		if (!a->az_pool_set)
			put(a, o->node.agent_pool, sizeof o->node.agent_pool, s,
			    len);
		break;
	case F_A_INITIAL_END:
		o->meta.initial_events_end = LIT_EQ(s, len, "true");
		break;
	case F_O_KIND:
		put(a, d->owner.kind, sizeof d->owner.kind, s, len);
		break;
	case F_O_NAME:
		put(a, d->owner.name, sizeof d->owner.name, s, len);
		break;
	case F_O_CONTROLLER:
		d->owner.controller = b;
		break;

	case F_S_NODENAME:
		put(a, o->pod.node_name, sizeof o->pod.node_name, s, len);
		break;
	case F_S_UNSCHED:
		o->node.unschedulable = b;
		break;
	case F_S_REPLICAS:
		a->spec_replicas_set = true;
		o->deploy.spec_replicas = (int32_t)v;
		break;
	case F_TC_IMAGE:
		/* The parent array frame counts elements: 1 is the first. */
		if (d->n >= 2 && d->st[d->n - 2].index == 1)
			put(a, o->deploy.image, sizeof o->deploy.image, s, len);
		break;

	case F_ST_PHASE:
		o->pod.phase = kube_phase_from(s, len);
		break;
	case F_ST_REASON:
		put(a, o->pod.reason, sizeof o->pod.reason, s, len);
		break;
	case F_ST_PODIP:
		put(a, o->pod.pod_ip, sizeof o->pod.pod_ip, s, len);
		break;
	case F_CO_TYPE:
	case F_CO_KIND:
		if (LIT_EQ(s, len, "Ready"))
			d->cond.type = CT_READY;
		else if (LIT_EQ(s, len, "PodScheduled"))
			d->cond.type = CT_SCHEDULED;
		else if (LIT_EQ(s, len, "MemoryPressure"))
			d->cond.type = CT_MEMORY;
		else if (LIT_EQ(s, len, "DiskPressure"))
			d->cond.type = CT_DISK;
		else if (LIT_EQ(s, len, "PIDPressure"))
			d->cond.type = CT_PID;
		else if (LIT_EQ(s, len, "Available"))
			d->cond.type = CT_AVAILABLE;
		else if (LIT_EQ(s, len, "Progressing"))
			d->cond.type = CT_PROGRESSING;
		else
			d->cond.type = CT_OTHER;
		break;
	case F_CO_STATUS:
		d->cond.status = kube_cond_from(s, len);
		break;
	case F_CO_REASON:
		put(a, d->cond.reason, sizeof d->cond.reason, s, len);
		break;
	case F_CS_READY:
		d->cs.ready = b;
		break;
	case F_CS_RESTARTS:
		d->cs.restarts = v < 0 ? 0 : v;
		break;
	case F_CW_REASON:
		put(a, d->cs.waiting, sizeof d->cs.waiting, s, len);
		break;
	case F_NI_KUBELET:
		put(a, o->node.kubelet_version, sizeof o->node.kubelet_version,
		    s, len);
		break;
	case F_ST_REPLICAS:
		o->deploy.replicas = (int32_t)v;
		break;
	case F_ST_READY:
		o->deploy.ready_replicas = (int32_t)v;
		break;
	case F_ST_AVAILABLE:
		o->deploy.available_replicas = (int32_t)v;
		break;
	case F_ST_UPDATED:
		o->deploy.updated_replicas = (int32_t)v;
		break;
	case F_ST_UNAVAILABLE:
		o->deploy.unavailable_replicas = (int32_t)v;
		break;
	case F_ST_OBSGEN:
		o->deploy.observed_generation = v;
		break;
	default:
		break;
	}
	return 1;
}

static int
push(struct kube_decoder *d, unsigned char ctx, unsigned char fid,
    struct acc *a)
{
	struct frame *f;

	if (d->n + d->skip >= KUBE_DECODE_MAX_DEPTH || d->n >= MAX_FRAMES) {
		fail(d, "JSON nested deeper than %d levels",
		    KUBE_DECODE_MAX_DEPTH);
		return 0;
	}
	f = &d->st[d->n++];
	f->ctx = ctx;
	f->field = fid;
	f->index = 0;
	f->acc = a;
	return 1;
}

/* Starts a top-level value. */
static int
root(struct kube_decoder *d, enum vt t)
{
	d->roots++;
	if (t != V_MAP) {
		fail(d, "expected a JSON object at the top level, got %s",
		    vt_names[t]);
		return 0;
	}
	reset_acc(d, &d->doc, false);
	d->has_type = false;
	d->has_object = false;
	return push(d, d->mode == KUBE_DECODE_WATCH ? C_EVENT : C_DOC,
	    F_NONE, &d->doc);
}

/* Every value (scalar, or the start of a map or array) goes through here. */
static int
value(struct kube_decoder *d, enum vt t, const char *s, size_t len, bool b)
{
	struct frame *f;
	struct acc *a;
	unsigned char fid;
	const struct fielddef *fd;

	if (d->skip > 0)
		return (t == V_MAP || t == V_ARR) ? enter_skip(d) : 1;
	if (d->n == 0)
		return root(d, t);
	f = &d->st[d->n - 1];
	if (ctxs[f->ctx].elem != F_NONE) {
		fid = ctxs[f->ctx].elem;
		f->index++;
	} else {
		fid = d->pending;
		d->pending = F_NONE;
	}
	a = f->acc;
	/* A Status's "status" is a string; everyone else's an object. */
	if (fid == F_STATUS && t == V_STR && (a->kmask & K_STATUS))
		fid = F_STATUS_STR;
	fd = &fields[fid];
	/* Go's encoding/json writes nil slices and maps as null: absent. */
	if (fid == F_NONE || t == V_NULL || !(fd->mask & a->kmask))
		return (t == V_MAP || t == V_ARR) ? enter_skip(d) : 1;
	if (t != fd->type)
		return wrong_type(d, a, fid, t);
	if (t != V_MAP && t != V_ARR)
		return store(d, f, fid, s, len, b);

	/* A map or array of ours opens. */
	switch (fid) {
	case F_ITEM:
		reset_acc(d, &d->item, true);
		return push(d, C_OBJ, fid, &d->item);
	case F_OBJECT:
		reset_acc(d, &d->item, false);
		return push(d, C_OBJ, fid, &d->item);
	case F_ITEMS:
		d->saw_items = true;
		break;
	case F_PCONTAINER:
		if (a->o.pod.containers < UINT16_MAX)
			a->o.pod.containers++;
		return enter_skip(d);
	case F_COND:
		d->cond.type = CT_OTHER;
		d->cond.status = KUBE_COND_ABSENT;
		d->cond.reason[0] = '\0';
		break;
	case F_CSTATUS:
		d->cs.ready = false;
		d->cs.restarts = 0;
		d->cs.waiting[0] = '\0';
		break;
	case F_OWNER:
		d->owner.controller = false;
		d->owner.kind[0] = d->owner.name[0] = '\0';
		break;
	default:
		break;
	}
	return push(d, fd->ctx, fid, a);
}

/* Settles an object's kind once it is complete, applies API defaults and
 * raises a noted type error if it matters for that kind. */
static int
finish_object(struct kube_decoder *d, struct acc *a)
{
	struct kube_object *o = &a->o;

	if (!a->kind_known) {
		if (a->status_str || a->code_set) {
			/* Shaped like a Status though it does not say so (no
			 * other object has a string "status" or a "code"). */
			o->kind = KUBE_KIND_STATUS;
		} else if (d->hint_name[0] != '\0') {
			o->kind = d->hint;
			memcpy(o->kind_name, d->hint_name, sizeof o->kind_name);
		} else {
			o->kind = KUBE_KIND_OTHER;
		}
	}
	if (d->def_set && d->def_acc == a) {
		d->def_set = false;
		if (d->def_mask & kind_mask(o->kind)) {
			fail(d, "%s", d->def_msg);
			return 0;
		}
	}
	switch (o->kind) {
	case KUBE_KIND_DEPLOYMENT:
		/* DeploymentSpec.replicas: "Defaults to 1." */
		if (!a->spec_replicas_set)
			o->deploy.spec_replicas = 1;
		break;
	case KUBE_KIND_POD:
		if (a->status_containers > o->pod.containers)
			o->pod.containers = a->status_containers;
		break;
	default:
		break;
	}
	return 1;
}

static int
deliver(struct kube_decoder *d, enum kube_event ev, struct acc *a)
{
	int rc;

	d->objects++;
	if (d->on_object == NULL)
		return 1;
	rc = d->on_object(d->ctx, ev, &a->o);
	if (rc != 0) {
		fail(d, "stopped by the object callback (it returned %d)", rc);
		return 0;
	}
	return 1;
}

static void
apply_cond(struct kube_decoder *d, struct acc *a)
{
	struct kube_object *o = &a->o;

	/* The type names the kind it belongs to, so one switch serves pods,
	 * nodes and deployments alike. */
	switch (d->cond.type) {
	case CT_READY:
		o->pod.ready = d->cond.status;
		o->node.ready = d->cond.status;
		memcpy(o->node.ready_reason, d->cond.reason,
		    sizeof o->node.ready_reason);
		break;
	case CT_SCHEDULED:
		o->pod.scheduled = d->cond.status;
		memcpy(o->pod.scheduled_reason, d->cond.reason,
		    sizeof o->pod.scheduled_reason);
		break;
	case CT_MEMORY:
		if (d->cond.status == KUBE_COND_TRUE)
			o->node.pressure |= KUBE_NODE_MEMORY_PRESSURE;
		break;
	case CT_DISK:
		if (d->cond.status == KUBE_COND_TRUE)
			o->node.pressure |= KUBE_NODE_DISK_PRESSURE;
		break;
	case CT_PID:
		if (d->cond.status == KUBE_COND_TRUE)
			o->node.pressure |= KUBE_NODE_PID_PRESSURE;
		break;
	case CT_AVAILABLE:
		o->deploy.available = d->cond.status;
		memcpy(o->deploy.available_reason, d->cond.reason,
		    sizeof o->deploy.available_reason);
		break;
	case CT_PROGRESSING:
		o->deploy.progressing = d->cond.status;
		memcpy(o->deploy.progressing_reason, d->cond.reason,
		    sizeof o->deploy.progressing_reason);
		break;
	case CT_OTHER:
		break;
	}
}

static void
apply_cstatus(struct kube_decoder *d, struct acc *a, bool init)
{
	struct kube_pod *p = &a->o.pod;
	uint64_t r = (uint64_t)p->restarts + (uint64_t)d->cs.restarts;
	const char *w = d->cs.waiting;
	int rank = waiting_rank(w);

	/* kubectl's RESTARTS adds init containers' restarts; its READY
	 * counts only the regular containers (printers.go, printPod). */
	p->restarts = r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
	if (!init) {
		if (a->status_containers < UINT16_MAX)
			a->status_containers++;
		if (d->cs.ready && p->containers_ready < UINT16_MAX)
			p->containers_ready++;
	}
	if (rank == 3 && p->crashlooping < UINT16_MAX)
		p->crashlooping++;
	if (rank == 2 && p->image_pull_errors < UINT16_MAX)
		p->image_pull_errors++;
	if (rank > waiting_rank(p->waiting_reason))
		memcpy(p->waiting_reason, w, sizeof p->waiting_reason);
}

static int
finish_list(struct kube_decoder *d)
{
	struct kube_list *l = &d->list;

	memcpy(l->kind, d->doc.o.kind_name, sizeof l->kind);
	memcpy(l->api_version, d->doc.o.api_version, sizeof l->api_version);
	memcpy(l->resource_version, d->doc.o.meta.resource_version,
	    sizeof l->resource_version);
	if (d->doc.o.truncated) {
		fail(d, "the list's kind, apiVersion or resourceVersion is "
		    "too long");
		return 0;
	}
	if (d->on_list != NULL) {
		int rc = d->on_list(d->ctx, l);

		if (rc != 0) {
			fail(d, "stopped by the list callback (it returned %d)",
			    rc);
			return 0;
		}
	}
	return 1;
}

/* The end of any map or array. */
static int
end(struct kube_decoder *d)
{
	struct frame f;
	struct acc *a;

	if (d->skip > 0) {
		d->skip--;
		return 1;
	}
	if (d->n == 0)		/* yajl does not let this happen */
		return 1;
	f = d->st[--d->n];
	a = f.acc;
	switch (f.ctx) {
	case C_COND:
		apply_cond(d, a);
		return 1;
	case C_CSTATUS:
		apply_cstatus(d, a, d->st[d->n - 1].ctx == C_ICSTATUSES);
		return 1;
	case C_OWNER:
		if (d->owner.controller && a->o.meta.owner_kind[0] == '\0') {
			memcpy(a->o.meta.owner_kind, d->owner.kind,
			    sizeof a->o.meta.owner_kind);
			memcpy(a->o.meta.owner_name, d->owner.name,
			    sizeof a->o.meta.owner_name);
		}
		return 1;
	case C_OBJ:
		if (!finish_object(d, a))
			return 0;
		if (f.field == F_OBJECT) {
			d->has_object = true;
			return 1;
		}
		d->list.items++;
		return deliver(d, KUBE_EVENT_ITEM, a);
	case C_EVENT:
		if (!d->has_type) {
			/* Not an event: a Status sent instead of a stream. */
			if (!finish_object(d, a))
				return 0;
			if (a->o.kind != KUBE_KIND_STATUS) {
				fail(d, "watch event without \"type\"");
				return 0;
			}
			return deliver(d, KUBE_EVENT_STATUS, a);
		}
		if (!d->has_object) {
			fail(d, "watch event %s without \"object\"",
			    kube_event_str(d->ev));
			return 0;
		}
		return deliver(d, d->ev, &d->item);
	case C_DOC:
		if (d->saw_items || d->items_kind_known)
			return finish_list(d);
		if (!finish_object(d, a))
			return 0;
		return deliver(d, a->o.kind == KUBE_KIND_STATUS ?
		    KUBE_EVENT_STATUS : KUBE_EVENT_OBJECT, a);
	default:
		return 1;
	}
}

/* ---- yajl callbacks ------------------------------------------------------ */

static int
cb_null(void *ctx)
{
	return value(ctx, V_NULL, NULL, 0, false);
}

static int
cb_boolean(void *ctx, int v)
{
	return value(ctx, V_BOOL, NULL, 0, v != 0);
}

static int
cb_number(void *ctx, const char *s, size_t len)
{
	return value(ctx, V_NUM, s, len, false);
}

static int
cb_string(void *ctx, const unsigned char *s, size_t len)
{
	return value(ctx, V_STR, (const char *)s, len, false);
}

static int
cb_start_map(void *ctx)
{
	return value(ctx, V_MAP, NULL, 0, false);
}

static int
cb_start_array(void *ctx)
{
	return value(ctx, V_ARR, NULL, 0, false);
}

static int
cb_end(void *ctx)
{
	return end(ctx);
}

static int
cb_map_key(void *ctx, const unsigned char *key, size_t len)
{
	struct kube_decoder *d = ctx;
	const unsigned char *k;

	unsigned char ctx_id;

	if (d->skip > 0)
		return 1;
	ctx_id = d->st[d->n - 1].ctx;
	d->pending = F_NONE;
	if (len >= 64 || !(d->lenmask[ctx_id] >> len & 1))
		return 1;
	for (k = ctxs[ctx_id].keys; *k != F_NONE; k++) {
		if (fields[*k].len == len &&
		    memcmp(fields[*k].name, key, len) == 0) {
			d->pending = *k;
			return 1;
		}
	}
	return 1;
}

/* yajl_number takes the place of yajl_integer and yajl_double, so numbers
 * are never converted unless we read them. */
static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_boolean,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_map_key,
	.yajl_end_map = cb_end,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end,
};

/* yajl allocates through these, so allocations can be counted. */
static void *
a_malloc(void *ctx, size_t n)
{
	((struct kube_decoder *)ctx)->allocs++;
	return malloc(n);
}

static void *
a_realloc(void *ctx, void *p, size_t n)
{
	((struct kube_decoder *)ctx)->allocs++;
	return realloc(p, n);
}

static void
a_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

/* ---- public interface ---------------------------------------------------- */

static int
open_parser(struct kube_decoder *d)
{
	d->h = yajl_alloc(&callbacks, &d->af, d);
	if (d->h == NULL)
		return -1;
	if (d->mode == KUBE_DECODE_WATCH)
		yajl_config(d->h, yajl_allow_multiple_values, 1);
	return 0;
}

struct kube_decoder *
kube_decode_new(enum kube_decode_mode mode, kube_decode_object_fn on_object,
    kube_decode_list_fn on_list, void *ctx)
{
	struct kube_decoder *d = calloc(1, sizeof *d);

	if (d == NULL)
		return NULL;
	d->allocs = 1;
	d->mode = mode;
	d->on_object = on_object;
	d->on_list = on_list;
	d->ctx = ctx;
	d->af.malloc = a_malloc;
	d->af.realloc = a_realloc;
	d->af.free = a_free;
	d->af.ctx = d;
	d->list.continue_token = "";
	for (int c = 0; c < C_COUNT; c++) {
		for (const unsigned char *k = ctxs[c].keys; k != NULL &&
		    *k != F_NONE; k++)
			d->lenmask[c] |= (uint64_t)1 << fields[*k].len;
	}
	if (open_parser(d) != 0) {
		free(d);
		return NULL;
	}
	return d;
}

void
kube_decode_set_item_kind(struct kube_decoder *d, const char *kind)
{
	if (kind == NULL)
		kind = "";
	put(NULL, d->hint_name, sizeof d->hint_name, kind, strlen(kind));
	d->hint = kube_kind_from(kind, strlen(kind));
}

int
kube_decode_reset(struct kube_decoder *d)
{
	yajl_free(d->h);
	d->h = NULL;
	d->n = d->skip = 0;
	d->pending = F_NONE;
	d->failed = false;
	d->err[0] = '\0';
	d->roots = 0;
	d->fed = 0;
	d->nonspace = false;
	d->saw_items = false;
	d->items_kind_known = false;
	d->def_set = false;
	memset(&d->list, 0, sizeof d->list);
	d->list.continue_token = "";
	if (open_parser(d) != 0) {
		fail(d, "out of memory");
		return -1;
	}
	return 0;
}

/* Turns the outcome of a yajl call into ours, with the byte offset. */
static int
check(struct kube_decoder *d, yajl_status st, const unsigned char *buf,
    size_t len)
{
	uint64_t at;
	char what[sizeof d->err];

	if (st == yajl_status_ok && !d->failed)
		return 0;
	/* yajl counts the offending byte as consumed; report the offset of
	 * that byte (the last of the token, for our own errors). */
	at = d->fed + yajl_get_bytes_consumed(d->h);
	at = at > 0 ? at - 1 : 0;
	if (st == yajl_status_error) {
		unsigned char *e = yajl_get_error(d->h, 0, buf, len);
		size_t n = e != NULL ? strlen((char *)e) : 0;

		/* yajl's text ends in a newline and sometimes a period. */
		while (n > 0 && (e[n - 1] == '\n' || e[n - 1] == ' ' ||
		    e[n - 1] == '.'))
			n--;
		fail(d, "byte %llu: %.*s", (unsigned long long)at, (int)n,
		    e != NULL ? (char *)e : "parse error");
		if (e != NULL)
			yajl_free_error(d->h, e);
		return -1;
	}
	/* yajl_status_client_canceled: our own message is in d->err. */
	memcpy(what, d->err, sizeof what);
	snprintf(d->err, sizeof d->err, "byte %llu: %.340s",
	    (unsigned long long)at, what);
	return -1;
}

int
kube_decode_feed(struct kube_decoder *d, const void *buf, size_t len)
{
	yajl_status st;
	int rc;

	if (d->failed)
		return -1;
	if (len == 0)
		return 0;
	if (!d->nonspace && d->roots == 0) {
		const char *p = buf;

		for (size_t i = 0; i < len && !d->nonspace; i++)
			d->nonspace = p[i] != ' ' && p[i] != '\n' &&
			    p[i] != '\r' && p[i] != '\t';
	}
	st = yajl_parse(d->h, buf, len);
	rc = check(d, st, buf, len);
	d->fed += len;
	d->total += len;
	return rc;
}

int
kube_decode_finish(struct kube_decoder *d)
{
	yajl_status st;

	if (d->failed)
		return -1;
	/* A watch that ended before its first event is a normal end: the
	 * server's timeout can pass with nothing to report. */
	if (d->mode == KUBE_DECODE_WATCH && d->roots == 0 && !d->nonspace)
		return 0;
	st = yajl_complete_parse(d->h);
	if (st != yajl_status_ok && !d->failed) {
		unsigned char *e = yajl_get_error(d->h, 0, NULL, 0);
		size_t n = e != NULL ? strlen((char *)e) : 0;

		while (n > 0 && (e[n - 1] == '\n' || e[n - 1] == ' ' ||
		    e[n - 1] == '.'))
			n--;
		fail(d, "byte %llu: %.*s%s", (unsigned long long)d->fed,
		    (int)n, e != NULL ? (char *)e : "parse error",
		    !d->nonspace ? " (empty body)" : " (truncated body)");
		if (e != NULL)
			yajl_free_error(d->h, e);
		return -1;
	}
	if (d->failed) {
		char what[sizeof d->err];

		memcpy(what, d->err, sizeof what);
		snprintf(d->err, sizeof d->err, "byte %llu: %.340s",
		    (unsigned long long)d->fed, what);
		return -1;
	}
	return 0;
}

const char *
kube_decode_error(const struct kube_decoder *d)
{
	return d->failed ? d->err : "";
}

const struct kube_list *
kube_decode_list(const struct kube_decoder *d)
{
	return &d->list;
}

void
kube_decode_stats(const struct kube_decoder *d, struct kube_decode_stats *out)
{
	out->bytes = d->total;
	out->objects = d->objects;
	out->allocs = d->allocs;
}

void
kube_decode_free(struct kube_decoder *d)
{
	if (d == NULL)
		return;
	if (d->h != NULL)
		yajl_free(d->h);
	free(d->cont);
	free(d);
}

const char *
kube_event_str(enum kube_event ev)
{
	switch (ev) {
	case KUBE_EVENT_ITEM:		return "ITEM";
	case KUBE_EVENT_OBJECT:		return "OBJECT";
	case KUBE_EVENT_STATUS:		return "STATUS";
	case KUBE_EVENT_ADDED:		return "ADDED";
	case KUBE_EVENT_MODIFIED:	return "MODIFIED";
	case KUBE_EVENT_DELETED:	return "DELETED";
	case KUBE_EVENT_BOOKMARK:	return "BOOKMARK";
	case KUBE_EVENT_ERROR:		return "ERROR";
	}
	return "?";
}
