/*
 * freeze.h — `sync.freeze`: blue's workloads held still while T2 syncs.
 *
 * The freeze is two cluster-scoped objects on blue, both named
 * bgswitch-freeze-NAME (NAME the switchover's, made a DNS label):
 *   - a ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) that
 *     matches CREATE, UPDATE and DELETE of apps/v1 deployments,
 *     statefulsets and daemonsets, and admits them only when the request's
 *     user is bgswitch's own identity on blue (from a SelfSubjectReview);
 *   - a ValidatingAdmissionPolicyBinding with validationActions [Deny]
 *     that limits it to the synced namespaces (namespaceSelector on the
 *     kubernetes.io/metadata.name label every namespace carries).
 * Subresources are not matched: the controllers keep writing status, and
 * the HorizontalPodAutoscaler keeps scaling through the scale subresource,
 * because blue still serves all the traffic while it is frozen.
 * ReplicaSets are not matched either: the deployment controller owns them,
 * and freezing them would stall a rollout or an autoscaled deployment
 * half-way instead of preventing one.
 *
 * Both are written with server-side apply (field manager "bgswitch"), so
 * applying again is harmless, and removed with DELETE, where 404 is fine.
 * The API went GA in Kubernetes 1.30: an older blue cannot be frozen.
 */
#ifndef BGSWITCH_FREEZE_H
#define BGSWITCH_FREEZE_H

#include <stddef.h>

struct kube_client;

#define FREEZE_FIELD_MANAGER	"bgswitch"
#define FREEZE_NAME_MAX		80

/* "bgswitch-freeze-prod-weu" for switchover "Prod WEU" into BUF (the same
 * rule as the lock's Lease name, lock_lease_name_for()).  Returns 0, or -1
 * when SWITCHOVER is NULL or LEN under FREEZE_NAME_MAX. */
int freeze_name(const char *switchover, char *buf, size_t len);

/* Freezes NAMESPACES (NULL-terminated, at least one; kube-system is
 * refused, AKS repairs its add-ons there) on BLUE for SWITCHOVER.  Checks first, changing nothing when they fail, that blue
 * serves validatingadmissionpolicies and validatingadmissionpolicybindings
 * in admissionregistration.k8s.io/v1 and who bgswitch is there; then
 * applies the policy, then the binding.  Idempotent.  TIMEOUT_MS bounds
 * the whole call (0 = the client's default per request).  Returns 0, or
 * -1 with ERR set. */
/* Whether BLUE serves admissionregistration.k8s.io/v1 validatingadmission-
 * policies and bindings: 1, 0 (ERR says what is missing, blue's version and
 * what to do), -1 when it could not be read (ERR).  No write. */
int freeze_supported(struct kube_client *blue, long timeout_ms, char *err, size_t errlen);
int freeze_apply(struct kube_client *blue, const char *switchover, char *const *namespaces,
    long timeout_ms, char *err, size_t errlen);
/* Thaws: deletes the binding, then the policy.  Either being gone already
 * (404, or the API not served) is fine.  Returns 0, or -1 with ERR set. */
int freeze_remove(struct kube_client *blue, const char *switchover, long timeout_ms,
    char *err, size_t errlen);
/* *PRESENT = 1 when the policy or the binding of SWITCHOVER exists on
 * BLUE (a half-applied freeze counts: freeze_remove() clears it), else 0.
 * Returns 0, or -1 with ERR set when blue could not be read. */
int freeze_present(struct kube_client *blue, const char *switchover, int *present,
    char *err, size_t errlen);

#endif
