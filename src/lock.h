/*
 * lock.h — the switchover lock: two operators, or an operator and a
 * pipeline, never drive one switchover at once (PRODUCT.md §6).
 *
 * A lock is two locks taken in order and always held together.  First a
 * file lock on this machine, $XDG_STATE_HOME/bgswitch/NAME.lock (flock,
 * released by the kernel when the process dies, so a stale file is
 * harmless): cheap, and it catches two terminals on one machine even when
 * no cluster answers.  Then a coordination.k8s.io Lease, bgswitch-NAME in
 * LOCK_NAMESPACE of the live cluster, held by "user@host/pid" and renewed
 * by a background thread every third of its duration: it catches everyone
 * else.  A Lease whose holder stopped renewing is taken over only after it
 * expired and only when the caller says so (--take-over).
 *
 * If the Lease is lost while held (someone took it over or deleted it, or
 * it could not be renewed before it ran out) the lock says so through
 * lock_lost() and the on_lost callback; the engine must then stop acting.
 */
#ifndef BGSWITCH_LOCK_H
#define BGSWITCH_LOCK_H

#include <stddef.h>

struct kube_client;

/* The Lease lives in this namespace of the live cluster: it exists in
 * every cluster and, unlike kube-system, is a place a namespaced Role can
 * grant without touching the system's own objects.  `bgswitch preflight`
 * checks get/create/update on leases here. */
#define LOCK_NAMESPACE		"default"
#define LOCK_DEFAULT_DURATION_S	60
#define LOCK_ERR_MAX		512

/* What lock_acquire() reports in *CODE. */
enum lock_code {
	LOCK_OK = 0,
	LOCK_E_HELD,		/* someone else holds it (on this machine or in the
				 * cluster); the message names them and since when */
	LOCK_E_EXPIRED,		/* the Lease's holder let it expire; taking it over
				 * needs take_over (--take-over).  Like HELD, a
				 * refusal: the engine exits with the same code */
	LOCK_E_LOCAL,		/* the lock file could not be made or locked (I/O,
				 * permissions, no home directory) */
	LOCK_E_KUBE,		/* the Lease could not be read or written: API
				 * error, forbidden, unreachable */
	LOCK_E_ARG,		/* bad options, out of memory, no thread */
};

struct lock_opts {
	const char *name;		/* the switchover's name (config `name`) */
	struct kube_client *kube;	/* the live cluster (borrowed, must outlive
					 * the lock); NULL = the local lock only */
	int duration_s;			/* leaseDurationSeconds; 0 = 60 */
	int take_over;			/* take an expired Lease from its holder */
	const char *holder;		/* NULL = "user@host/pid"; tests set others */
	/* Take the Lease only, not the local lock file: for a second Lease
	 * taken by a process that already holds this switchover's lock (the
	 * engine takes green's before blue is torn down, so that the lock
	 * outlives blue's API server).  Needs KUBE. */
	int lease_only;
	/* A holder known to have died holding this switchover (lock_dead_holder
	 * of the caller's main lock): its Lease is taken at once.  May be NULL. */
	const char *take_from;
	/* Called once, from the renewal thread, when the Lease is found lost;
	 * WHY is a readable line.  Keep it short and thread-safe (set a flag,
	 * write to a pipe).  May be NULL: poll lock_lost() instead. */
	void (*on_lost)(void *ctx, const char *why);
	void *ctx;
};

struct lock;

/* Takes the local lock, then (with O->kube) the Lease, and starts renewing
 * it.  Returns the lock, or NULL with ERR (a line for the operator) and
 * *CODE (may be NULL) set; nothing is left held on failure. */
struct lock *lock_acquire(const struct lock_opts *o, char *err, size_t errlen,
    int *code);

/* Non-zero once the lock can no longer be trusted: the renewal thread found
 * the Lease taken or gone, or the time it was valid for has run out without
 * a renewal (checked on every call, so a process resumed after a suspend
 * sees it at once).  Sticky.  Thread-safe. */
int lock_lost(const struct lock *l);
/* Why it was lost ("" while it is not).  Thread-safe. */
const char *lock_lost_reason(const struct lock *l);
/* The holder this machine's lock file still named when L took it: a
 * process that died holding the switchover ("" when the last one released
 * it cleanly).  Its Leases, here or in the other cluster, are taken at
 * once. */
const char *lock_dead_holder(const struct lock *l);
/* "user@host/pid", as written in the Lease and the lock file. */
const char *lock_holder(const struct lock *l);
/* The Lease's name ("bgswitch-prod-weu"; "" for a local-only lock) and the
 * lock file's path, for messages. */
const char *lock_lease_name(const struct lock *l);
const char *lock_file_path(const struct lock *l);

/* Stops renewing, gives the Lease up (holder cleared, only if it is still
 * ours) and unlocks the file.  Call it before kube_client_cancel() on the
 * Lease's client, or the Lease stays held until it expires.  Not
 * concurrently with other calls on L.  NULL is fine. */
void lock_release(struct lock *l);

/* Makes NAME ("Prod WEU") the DNS-1123 label the Lease is named with:
 * "bgswitch-" + lowercase letters, digits and '-', at most 63 bytes (a
 * longer one is cut and ends with a hash of NAME so that names differing
 * only at the end stay apart).  Returns 0, or -1 when NAME is NULL or LEN
 * is under 64. */
int lock_lease_name_for(const char *name, char *buf, size_t len);

/* Test hook: while PAUSED the renewal thread renews nothing, as if the
 * process had hung; afterwards it renews (or finds the Lease lost) at
 * once. */
void lock_test_pause_renewal(struct lock *l, int paused);

#endif
