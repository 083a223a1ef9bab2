/*
 * kube_store.h — the informer's store (internal to kube/, used by
 * kube_informer.c and its tests): compact object summaries keyed by
 * namespace/name, with the counts the screen shows kept up to date on
 * every change.
 *
 * Not thread-safe: the informer holds its lock around every call.
 */
#ifndef BGSWITCH_KUBE_STORE_H
#define BGSWITCH_KUBE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kube/kube_informer.h"

struct kube_store;

struct kube_store *kube_store_new(enum kube_informer_kind kind);
void kube_store_free(struct kube_store *s);

/* Adds or replaces the summary of O, marked as seen by list generation
 * GEN.  Objects of another kind than the store's are ignored (0).
 * Returns 1 when stored, 0 when ignored, -1 when out of memory. */
int kube_store_upsert(struct kube_store *s, const struct kube_object *o, uint32_t gen);
/* Removes NS/NAME.  Returns 1 when it was there, else 0. */
int kube_store_delete(struct kube_store *s, const char *ns, const char *name);
/* Removes every object not seen by list generation GEN (deleted while
 * nobody was watching).  Returns how many went. */
size_t kube_store_sweep(struct kube_store *s, uint32_t gen);
size_t kube_store_count(const struct kube_store *s);

/* Fills the aggregate members of *OUT (objects, namespaces, nodes,
 * versions, pods, deployments); the state members are the caller's.
 * Returns 0, or -1 when out of memory (*OUT's arrays then NULL). */
int kube_store_snapshot(const struct kube_store *s, struct kube_snapshot *out,
    size_t max_problems);

size_t kube_store_foreach(const struct kube_store *s,
    int (*fn)(void *ctx, const struct kube_informer_item *it), void *ctx);

/* Bytes held by the store (entries, tables), for tests and benchmarks. */
size_t kube_store_bytes(const struct kube_store *s);

#endif
