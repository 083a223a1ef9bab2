/*
 * kube_lease.h — a lock that works across machines: a coordination.k8s.io/v1
 * Lease in a cluster, taken, renewed and released the way client-go's
 * leader election does it (PRODUCT.md §6: two operators never drive the
 * same switchover at once).
 *
 * A Lease's spec holds holderIdentity, leaseDurationSeconds, acquireTime,
 * renewTime (MicroTime: "2006-01-02T15:04:05.000000Z07:00") and
 * leaseTransitions.  It is held while renewTime + leaseDurationSeconds is
 * in the future; every write is conditional on the resourceVersion that
 * was read, so two writers racing for it cannot both win (the loser gets
 * 409 Conflict).  Expiry is judged with this machine's wall clock against
 * the holder's renewTime: keep durations well above the clock skew between
 * operators' machines.
 */
#ifndef BGSWITCH_KUBE_LEASE_H
#define BGSWITCH_KUBE_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "kube/kube_client.h"

#define KUBE_HOLDER_MAX		256
#define KUBE_MICROTIME_MAX	40

/* A Lease as last read or written.  Plain value: copy it freely. */
struct kube_lease {
	char ns[KUBE_NS_MAX];
	char name[KUBE_NAME_MAX];
	char holder[KUBE_HOLDER_MAX];		/* holderIdentity; "" = nobody */
	int32_t duration_s;			/* leaseDurationSeconds */
	char acquire_time[KUBE_MICROTIME_MAX];	/* as the server has it; "" = unset */
	char renew_time[KUBE_MICROTIME_MAX];
	int64_t acquire_ms;			/* the same as Unix ms; 0 = unset */
	int64_t renew_ms;
	int32_t transitions;			/* leaseTransitions */
	char resource_version[KUBE_RV_MAX];
	bool expired;				/* when it was read: renewTime +
						 * 1.25 x duration had passed, a quarter
						 * spared for clock skew (or no holder) */
};

/* Takes the Lease NS/NAME for HOLDER for DURATION_S seconds: creates it
 * when absent; renews it when HOLDER already holds it (a restarted run);
 * takes it when it is free (released) or, if TAKE_OVER_EXPIRED, when its
 * holder let it expire, counting one more leaseTransition.  Returns 0 when
 * held (OUT is the Lease now), 1 when refused (OUT is the other holder's
 * Lease: holder, renew time, expired; CALL says "held by ..." with
 * KUBE_E_CONFLICT), or -1 on error (CALL filled).  OUT may not be NULL. */
int kube_lease_acquire(struct kube_client *c, const char *ns, const char *name,
    const char *holder, int duration_s, bool take_over_expired,
    struct kube_lease *out, struct kube_call *call);

/* Takes NS/NAME from FROM, whatever its expiry, only if FROM still holds
 * it (the write is conditional on the version read).  For a holder known
 * to be dead: the lock module uses it for a process of this host that no
 * longer exists.  0 when taken (OUT), 1 when FROM no longer holds it or
 * renewed meanwhile (OUT: what was read), -1 on error. */
int kube_lease_take_from(struct kube_client *c, const char *ns, const char *name,
    const char *holder, int duration_s, const char *from, struct kube_lease *out,
    struct kube_call *call);

/* Renews L (from acquire or an earlier renew) with a PUT conditional on
 * its resourceVersion.  Returns 0 (L updated), 1 when the Lease is lost
 * (changed or taken by someone else since: 409, or gone: 404), or -1 on
 * any other error (the Lease may still be ours: retry before its time is
 * up).  Labels and annotations on the Lease are not kept. */
int kube_lease_renew(struct kube_client *c, struct kube_lease *l,
    struct kube_call *call);

/* Gives L up: clears holderIdentity (keeping leaseTransitions, as client-go
 * does), conditional on L's resourceVersion.  Returns 0, 1 when it was not
 * ours any more (nothing changed), or -1 on error. */
int kube_lease_release(struct kube_client *c, struct kube_lease *l,
    struct kube_call *call);

/* Reads the Lease NS/NAME into OUT.  0, or -1 (KUBE_E_NOT_FOUND when
 * there is none). */
int kube_lease_get(struct kube_client *c, const char *ns, const char *name,
    struct kube_lease *out, struct kube_call *call);

/* MicroTime text of UNIX_MS, UTC: "2024-05-01T12:00:00.123000Z".  BUF
 * should hold KUBE_MICROTIME_MAX bytes.  Returns 0 or -1. */
int kube_microtime_format(int64_t unix_ms, char *buf, size_t len);
/* Parses an RFC 3339 time with optional fraction into Unix ms.  0 or -1. */
int kube_microtime_parse(const char *s, int64_t *unix_ms);

#endif
