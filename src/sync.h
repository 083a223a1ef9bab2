/*
 * sync.h — T2's `copy` mode: Kubernetes objects of chosen kinds in chosen
 * namespaces read from blue, cleaned of what the blue API server and its
 * controllers own, and applied to green with server-side apply as field
 * manager "bgswitch"; then a parity report of green against blue
 * (namespaces, workloads, images, replicas) listing every difference.
 *
 * Secrets pass through here: their data is never logged, and no error text
 * that could quote an object's content is kept for a Secret (only the
 * HTTP status and the Status reason).
 */
#ifndef BGSWITCH_SYNC_H
#define BGSWITCH_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "kube/kube_client.h"

#define SYNC_FIELD_MANAGER	"bgswitch"

/* Called before each object is applied: DONE objects of TOTAL are behind
 * us, WHAT names the current one ("Deployment shop/cart"); a last call has
 * DONE == TOTAL and WHAT "". */
typedef void (*sync_progress_fn)(void *ctx, size_t done, size_t total, const char *what);

struct sync_opts {
	char *const *namespaces;	/* NULL-terminated, as cfg.sync.namespaces */
	char *const *kinds;		/* NULL-terminated kind names (any case);
					 * NULL = every namespaced kind of the table */
	bool dry_run;			/* apply with dryRun=All: green is not changed */
	long timeout_ms;		/* per request; 0 = the clients' default */
	sync_progress_fn progress;	/* may be NULL */
	void *progress_ctx;
};

/* One object (or one list) that could not be copied. */
struct sync_failure {
	char object[400];		/* "Secret shop/db" or "list ConfigMap in shop" */
	char error[KUBE_ERROR_MAX];	/* for Secrets: status and reason only */
};

struct sync_result {
	size_t total;			/* objects to apply after cleaning */
	size_t applied;
	size_t skipped;			/* left on blue on purpose (see sync.c) */
	struct sync_failure *failures;
	size_t nfailures;
};

/* Checks that every name in KINDS is in the kind table.  Returns 0, or -1
 * with ERR naming the first unknown kind and the known ones. */
int sync_kinds_check(char *const *kinds, char *err, size_t errlen);
/* The API path of KIND's collection in NS ("" or NULL for a cluster-scoped
 * kind) into BUF.  Returns 0, or -1 for an unknown kind or a short BUF. */
int sync_kind_path(const char *kind, const char *ns, char *buf, size_t buflen);
/* A copy of OBJ (an object of KIND as blue serves it) fit to apply to
 * green, or NULL: with *WHY_SKIPPED set when the object is not to be copied
 * at all, with *WHY_SKIPPED NULL when out of memory.  Free with cJSON_Delete. */
cJSON *sync_clean(const char *kind, const cJSON *obj, const char **why_skipped);

/* Copies as described at the top.  Returns 0 when every object was
 * applied, 1 when some failed (RES lists each; the rest were still
 * applied), -1 before any change with ERR (an unknown kind, no
 * namespaces).  RES is always set; free it with sync_result_free(). */
int sync_copy(struct kube_client *blue, struct kube_client *green, const struct sync_opts *o,
    struct sync_result *res, char *err, size_t errlen);
void sync_result_free(struct sync_result *res);

/* ---- parity --------------------------------------------------------------- */

enum sync_diff_what {
	SYNC_DIFF_NAMESPACE,	/* a synced namespace missing on green */
	SYNC_DIFF_MISSING,	/* a workload of blue missing on green */
	SYNC_DIFF_EXTRA,	/* a workload on green that blue does not have */
	SYNC_DIFF_IMAGE,	/* a container's image differs */
	SYNC_DIFF_CONTAINER,	/* a container only one side has (the other's image "") */
	SYNC_DIFF_REPLICAS,	/* spec.replicas differs */
};

struct sync_diff {
	enum sync_diff_what what;
	char ns[64];
	char kind[32];		/* "Deployment", "StatefulSet", "DaemonSet"; "" for a namespace */
	char name[254];		/* "" for a namespace */
	char container[64];	/* for IMAGE and CONTAINER */
	char blue[512];		/* blue's image or replica count */
	char green[512];
};

struct sync_parity {
	struct sync_diff *v;
	size_t n;
	size_t namespaces;	/* compared */
	size_t workloads;	/* blue's, compared */
};

/* Compares green against blue in NAMESPACES: each namespace present, and
 * each Deployment, StatefulSet and DaemonSet present with the same images
 * per container and the same replicas; green's extra workloads listed.
 * Returns 0 with P filled (P->n == 0: no differences), or -1 with ERR when
 * a cluster could not be read.  Free P with sync_parity_free(). */
int sync_parity(struct kube_client *blue, struct kube_client *green, char *const *namespaces,
    long timeout_ms, struct sync_parity *p, char *err, size_t errlen);
/* One line per difference (or "no differences"), malloc'd; NULL when out of memory. */
char *sync_parity_text(const struct sync_parity *p);
/* {"namespaces":N,"workloads":M,"differences":[{"what":"image",...}]}; NULL when out of memory. */
cJSON *sync_parity_json(const struct sync_parity *p);
void sync_parity_free(struct sync_parity *p);
/* "namespace", "missing", "extra", "image", "container", "replicas". */
const char *sync_diff_what_str(enum sync_diff_what w);

#endif
