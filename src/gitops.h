/*
 * gitops.h — T2's `gitops` sync mode: is GitOps done on green?
 *
 * In this mode bgswitch copies nothing: green's own GitOps controller
 * (Flux or Argo CD, bootstrapped by T1's IaC) pulls the same repository
 * blue runs from, and the engine polls gitops_status() until every GitOps
 * object on green says it has applied what it was last told to apply.
 *
 * "Ready" per API, from each project's documentation:
 *   - Flux Kustomization (kustomize.toolkit.fluxcd.io) and HelmRelease
 *     (helm.toolkit.fluxcd.io): the Ready condition is "True" and it was
 *     reached for the current spec — status.observedGeneration (and the
 *     condition's own observedGeneration, when it carries one) equals
 *     metadata.generation; spec.suspend true is never ready (reason
 *     "suspended"), since a suspended object applies nothing new.
 *   - Argo CD Application (argoproj.io/v1alpha1): status.sync.status is
 *     "Synced" and status.health.status is "Healthy".
 * The version of each group is the one the server prefers (discovery).
 */
#ifndef BGSWITCH_GITOPS_H
#define BGSWITCH_GITOPS_H

#include <stddef.h>

struct kube_client;

/* One GitOps object on green. */
struct gitops_item {
	char kind[32];			/* "Kustomization", "HelmRelease", "Application" */
	char ns[64];
	char name[254];
	int ready;
	char reason[128];		/* why not ready ("suspended", "ArtifactFailed",
					 * "OutOfSync/Healthy", "stale"); "" when ready */
	char message[256];		/* the controller's words, may be "" */
};

struct gitops_status {
	struct gitops_item *items;	/* sorted: not ready first, then kind, ns, name */
	size_t n, ready;
	int flux, argo;			/* which APIs green serves */
};

/* Reads every Flux Kustomization and HelmRelease and every Argo CD
 * Application on GREEN (discovery first, to learn which are served) into
 * *ST.  NAMESPACES (NULL-terminated; NULL or empty = all) keeps the objects that
 * live in one of them or deploy into one of them (Flux spec.targetNamespace,
 * Argo CD spec.destination.namespace): Argo CD Applications usually live in
 * the argocd namespace, Flux objects in flux-system.  TIMEOUT_MS bounds the
 * whole read (0 = the client's default per request).
 * Returns 0 with *ST filled (free it with gitops_status_free()), or -1 with
 * ERR set and *ST empty: a failed read (never reported as ready), neither
 * Flux nor Argo CD served, or no GitOps object at all. */
int gitops_status(struct kube_client *green, char *const *namespaces, long timeout_ms,
    struct gitops_status *st, char *err, size_t errlen);
/* Frees what gitops_status() filled; ST is left empty.  NULL is fine. */
void gitops_status_free(struct gitops_status *st);

#endif
