/*
 * kube_decode.h — a streaming decoder for Kubernetes API responses.
 *
 * A 150,000-pod list is about 850 MB of JSON (PRODUCT.md §7).  Building a
 * tree of it costs seconds and gigabytes, so this decoder never does: the
 * HTTP layer hands it the body in whatever pieces arrive (one byte at a time
 * works), yajl tokenizes them, and a small state machine copies the few
 * fields bgswitch shows into a fixed-size struct kube_object per object.
 * Everything else (managedFields, annotations, container specs, ...) is
 * skipped as it goes by, without allocating.  Each object is handed to a
 * callback the moment its closing brace arrives, then forgotten.
 *
 * It reads every shape the API server sends:
 *   - a list: {"kind":"PodList", "metadata":{...continue...}, "items":[...]},
 *     members in any order (metadata may follow items); "kind":"List"
 *     (kubectl -o json) whose items carry their own kind;
 *   - a watch stream: {"type":"ADDED","object":{...}} values one after
 *     another, including BOOKMARK and ERROR (a meta/v1 Status, e.g. 410);
 *   - one object (a GET), or a meta/v1 Status error body.
 *
 * Errors (malformed or truncated JSON, a field of the wrong type, nesting
 * beyond KUBE_DECODE_MAX_DEPTH) stop the decoder with one message naming
 * the byte offset and, for type errors, the field path.
 *
 * A decoder is used by one thread at a time.  No network I/O happens here.
 */
#ifndef BGSWITCH_KUBE_DECODE_H
#define BGSWITCH_KUBE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "kube/kube_summary.h"

/* Nesting deeper than this (objects and arrays) is refused as hostile. */
#define KUBE_DECODE_MAX_DEPTH	256
/* A continue token longer than this is refused (real ones are < 1 KiB). */
#define KUBE_DECODE_MAX_CONTINUE (1024 * 1024)

enum kube_decode_mode {
	KUBE_DECODE_BODY,	/* one value: a list, an object or a Status */
	KUBE_DECODE_WATCH,	/* a stream of watch events (or one Status) */
};

enum kube_event {
	KUBE_EVENT_ITEM,	/* one item of a list */
	KUBE_EVENT_OBJECT,	/* the body is a single object */
	KUBE_EVENT_STATUS,	/* the body is a meta/v1 Status */
	KUBE_EVENT_ADDED,	/* watch events */
	KUBE_EVENT_MODIFIED,
	KUBE_EVENT_DELETED,
	KUBE_EVENT_BOOKMARK,	/* only meta.resource_version (and
				 * meta.initial_events_end) are set */
	KUBE_EVENT_ERROR,	/* object is usually a Status: see
				 * kube_status_expired() */
};

/* Called for each object as soon as it is complete.  OBJ is valid only
 * during the call.  Returning non-zero stops the decoder (an error). */
typedef int (*kube_decode_object_fn)(void *ctx, enum kube_event ev,
    const struct kube_object *obj);
/* Called once at the end of a list body with its envelope (LIST is valid
 * only during the call; kube_decode_list() keeps it until reset).
 * Returning non-zero is an error. */
typedef int (*kube_decode_list_fn)(void *ctx, const struct kube_list *list);

struct kube_decoder;

/* Counters for diagnostics and the benchmark. */
struct kube_decode_stats {
	uint64_t bytes;		/* fed since creation */
	uint64_t objects;	/* handed to the object callback */
	uint64_t allocs;	/* heap allocations (yajl's and ours) */
};

/* A decoder for MODE; either callback may be NULL.  Returns NULL only when
 * out of memory. */
struct kube_decoder *kube_decode_new(enum kube_decode_mode mode,
    kube_decode_object_fn on_object, kube_decode_list_fn on_list, void *ctx);
/* Names the kind of objects that do not say theirs ("Pod" when listing or
 * watching /api/v1/pods): list items that arrive before the list's own
 * "kind" (which wins when it comes first), and watch or GET objects without
 * "kind".  Without it such objects are KUBE_KIND_OTHER.  NULL or "" clears
 * it.  Survives kube_decode_reset(). */
void kube_decode_set_item_kind(struct kube_decoder *d, const char *kind);
/* Feeds LEN bytes of the body.  Returns 0, or -1 once an error is found
 * (then, and on every later call, kube_decode_error() says why). */
int kube_decode_feed(struct kube_decoder *d, const void *buf, size_t len);
/* Ends the body: a value left incomplete is an error ("premature EOF"), as
 * is a BODY with no value at all; a watch stream may end between events.
 * Returns 0 or -1. */
int kube_decode_finish(struct kube_decoder *d);
/* Makes D ready for a new body (the next page), keeping its buffers and
 * settings.  Returns 0, or -1 when out of memory. */
int kube_decode_reset(struct kube_decoder *d);
/* The error, "byte N: what went wrong" (N counts from 0 at the start of
 * the body: the byte where the error was seen, or the body's length when
 * it ended too soon); "" when there is none. */
const char *kube_decode_error(const struct kube_decoder *d);
/* The list envelope decoded so far (complete after kube_decode_finish). */
const struct kube_list *kube_decode_list(const struct kube_decoder *d);
void kube_decode_stats(const struct kube_decoder *d,
    struct kube_decode_stats *out);
void kube_decode_free(struct kube_decoder *d);

/* "ITEM", "ADDED", ... */
const char *kube_event_str(enum kube_event ev);

#endif
