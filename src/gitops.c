/*
 * gitops.c — whether green's GitOps controller is done (gitops.h).
 *
 * Discovery first: GET /apis names the groups green serves and each one's
 * preferred version; GET /apis/GROUP/VERSION confirms the resource itself
 * (argoproj.io is also Argo Workflows' and Argo Rollouts' group, and may be
 * served without Applications).  Then each served collection is read
 * cluster-wide, page by page, whole objects with kube_get (a few hundred
 * at most, and the conditions we need are not in the streaming decoder's
 * summaries), and every object is judged.
 *
 * Where the readiness rules come from:
 *   - Flux: kustomize-controller docs/spec/v1/kustomizations.md, section
 *     "Kustomization Status": a successful reconciliation sets the Ready
 *     condition (type Ready, status "True", reason ReconciliationSucceeded);
 *     a failed one sets Ready "False" with reasons such as ArtifactFailed,
 *     BuildFailed, HealthCheckFailed, DependencyNotReady and the cause in
 *     the condition's message; while reconciling, Ready is "Unknown".
 *     status.observedGeneration is "the latest .metadata.generation which
 *     resulted in either a ready state, or stalled", so a Ready from an
 *     older generation says nothing about the current spec.  Suspending
 *     bumps the generation, after which status.observedGeneration stays
 *     behind (fluxcd/flux2 discussion #4738) or, with helm-controller, is
 *     updated while the Ready condition's own observedGeneration is not
 *     (sylva-core issue 3377, "unit mistakenly considered ready if
 *     HelmRelease is suspended"): so the condition's observedGeneration is
 *     checked too, and spec.suspend on its own.  HelmRelease
 *     (helm.toolkit.fluxcd.io/v2, "Helm API reference v2") has the same
 *     spec.suspend and the same Ready condition.
 *   - Argo CD: pkg/apis/application/v1alpha1/types.go in argoproj/argo-cd:
 *     the Application's printer columns are .status.sync.status ("Synced",
 *     "OutOfSync", "Unknown") and .status.health.status ("Healthy",
 *     "Progressing", "Degraded", "Suspended", "Missing", "Unknown").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kube/kube_client.h"
#include "src/gitops.h"
#include "src/http.h"
#include "src/log.h"

#define MOD "gitops"
#define PAGE "500"

enum family { FLUX, ARGO };

/* The GitOps objects we wait for. */
static const struct gitops_api {
	enum family family;
	const char *group, *plural, *kind;
} apis[] = {
	{ FLUX, "kustomize.toolkit.fluxcd.io", "kustomizations", "Kustomization" },
	{ FLUX, "helm.toolkit.fluxcd.io", "helmreleases", "HelmRelease" },
	{ ARGO, "argoproj.io", "applications", "Application" },
};
#define NAPIS (sizeof apis / sizeof apis[0])

/* ---- small helpers --------------------------------------------------------------- */

static const cJSON *
jget(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = jget(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* A number member, or -1 when absent or not a number. */
static double
jnum(const cJSON *o, const char *key)
{
	const cJSON *v = jget(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* A call's options: the per-request timeout and the read's deadline. */
static void
call_init(struct kube_call *call, long timeout_ms, long long deadline)
{
	memset(call, 0, sizeof *call);
	call->timeout_ms = timeout_ms;
	call->deadline_ms = deadline;
}

/* ---- discovery ------------------------------------------------------------------ */

/* Whether GROUP/VERSION lists resource PLURAL: 1 yes, 0 no (or the group
 * version is gone: 404), -1 a failed read (ERR set). */
static int
gv_serves(struct kube_client *c, const char *group, const char *version, const char *plural,
    long timeout_ms, long long deadline, char *err, size_t errlen)
{
	struct kube_call call;
	char path[512];
	cJSON *doc = NULL;
	const cJSON *r;
	int found = 0;

	snprintf(path, sizeof path, "/apis/%s/%s", group, version);
	call_init(&call, timeout_ms, deadline);
	if (kube_get(c, path, &doc, &call) != 0) {
		if (call.err == KUBE_E_NOT_FOUND)
			return 0;
		snprintf(err, errlen, "discovery: %s", call.error);
		return -1;
	}
	cJSON_ArrayForEach(r, jget(doc, "resources")) {
		if (strcmp(jstr(r, "name"), plural) == 0)
			found = 1;
	}
	cJSON_Delete(doc);
	return found;
}

/* Which version of each API green serves, "" for none: the group's
 * preferred version when it has the resource, else the first listed one
 * that has it. */
static int
discover(struct kube_client *c, char versions[][32], long timeout_ms, long long deadline,
    char *err, size_t errlen)
{
	struct kube_call call;
	cJSON *groups = NULL;
	const cJSON *g;

	for (size_t i = 0; i < NAPIS; i++)
		versions[i][0] = '\0';
	call_init(&call, timeout_ms, deadline);
	if (kube_get(c, "/apis", &groups, &call) != 0) {
		snprintf(err, errlen, "discovery: %s", call.error);
		return -1;
	}
	cJSON_ArrayForEach(g, jget(groups, "groups")) {
		for (size_t i = 0; i < NAPIS; i++) {
			const char *pref = jstr(jget(g, "preferredVersion"), "version");
			const cJSON *v;
			int rc = 0;

			if (strcmp(jstr(g, "name"), apis[i].group) != 0)
				continue;
			if (pref[0] != '\0')
				rc = gv_serves(c, apis[i].group, pref, apis[i].plural, timeout_ms, deadline,
				    err, errlen);
			if (rc == 1)
				snprintf(versions[i], sizeof versions[i], "%s", pref);
			cJSON_ArrayForEach(v, jget(g, "versions")) {
				const char *ver = jstr(v, "version");

				if (rc != 0 || ver[0] == '\0' || strcmp(ver, pref) == 0)
					continue;
				rc = gv_serves(c, apis[i].group, ver, apis[i].plural, timeout_ms, deadline,
				    err, errlen);
				if (rc == 1)
					snprintf(versions[i], sizeof versions[i], "%s", ver);
			}
			if (rc < 0) {
				cJSON_Delete(groups);
				return -1;
			}
		}
	}
	cJSON_Delete(groups);
	return 0;
}

/* ---- judging one object ------------------------------------------------------------ */

static void
set_reason(struct gitops_item *it, const char *reason, const char *message)
{
	snprintf(it->reason, sizeof it->reason, "%s", reason);
	snprintf(it->message, sizeof it->message, "%s", message);
}

static void
judge_flux(const cJSON *obj, struct gitops_item *it)
{
	const cJSON *st = jget(obj, "status"), *c, *ready = NULL;
	double gen = jnum(jget(obj, "metadata"), "generation");
	double seen = jnum(st, "observedGeneration"), cseen;
	char msg[256];

	if (cJSON_IsTrue(jget(jget(obj, "spec"), "suspend"))) {
		set_reason(it, "suspended", "spec.suspend is true: Flux applies nothing until it is resumed");
		return;
	}
	cJSON_ArrayForEach(c, jget(st, "conditions")) {
		if (strcmp(jstr(c, "type"), "Ready") == 0)
			ready = c;
	}
	if (ready == NULL) {
		set_reason(it, "NotReconciled", "no Ready condition yet");
		return;
	}
	if (strcmp(jstr(ready, "status"), "True") != 0) {
		set_reason(it, jstr(ready, "reason")[0] != '\0' ? jstr(ready, "reason")
		    : strcmp(jstr(ready, "status"), "False") == 0 ? "NotReady" : "Unknown",
		    jstr(ready, "message"));
		return;
	}
	cseen = jnum(ready, "observedGeneration");
	if (gen >= 0 && (seen != gen || (cseen >= 0 && cseen != gen))) {
		if (seen < 0)
			snprintf(msg, sizeof msg, "status.observedGeneration is not set; the spec is at "
			    "generation %.0f", gen);
		else
			snprintf(msg, sizeof msg, "Ready is for generation %.0f; the spec is at generation %.0f",
			    seen != gen ? seen : cseen, gen);
		set_reason(it, "stale", msg);
		return;
	}
	it->ready = 1;
}

static void
judge_argo(const cJSON *obj, struct gitops_item *it)
{
	const cJSON *st = jget(obj, "status"), *c;
	const char *sync = jstr(jget(st, "sync"), "status");
	const char *health = jstr(jget(st, "health"), "status");
	const char *msg = jstr(jget(st, "health"), "message");
	char reason[128];

	if (strcmp(sync, "Synced") == 0 && strcmp(health, "Healthy") == 0) {
		it->ready = 1;
		return;
	}
	/* The best words for why: the health message, else the first
	 * condition (ComparisonError, SyncError, ...), else the last
	 * operation's. */
	if (msg[0] == '\0') {
		cJSON_ArrayForEach(c, jget(st, "conditions")) {
			if (jstr(c, "message")[0] != '\0') {
				msg = jstr(c, "message");
				break;
			}
		}
	}
	if (msg[0] == '\0')
		msg = jstr(jget(st, "operationState"), "message");
	snprintf(reason, sizeof reason, "%s/%s", sync[0] != '\0' ? sync : "Unknown",
	    health[0] != '\0' ? health : "Unknown");
	set_reason(it, reason, msg);
}

/* The namespace OBJ deploys into, "" when it does not say. */
static const char *
target_ns(enum family f, const cJSON *obj)
{
	const cJSON *spec = jget(obj, "spec");

	if (f == ARGO)
		return jstr(jget(spec, "destination"), "namespace");
	return jstr(spec, "targetNamespace");
}

static int
wanted(char *const *namespaces, const char *ns, const char *target)
{
	if (namespaces == NULL)
		return 1;
	for (char *const *p = namespaces; *p != NULL; p++)
		if (strcmp(*p, ns) == 0 || strcmp(*p, target) == 0)
			return 1;
	return 0;
}

static int
add_item(struct gitops_status *st, size_t *cap, const struct gitops_api *api, const cJSON *obj)
{
	const cJSON *md = jget(obj, "metadata");
	struct gitops_item *it;

	if (st->n == *cap) {
		size_t ncap = *cap != 0 ? *cap * 2 : 16;
		struct gitops_item *nv = realloc(st->items, ncap * sizeof *nv);

		if (nv == NULL)
			return -1;
		st->items = nv;
		*cap = ncap;
	}
	it = &st->items[st->n++];
	memset(it, 0, sizeof *it);
	snprintf(it->kind, sizeof it->kind, "%s", api->kind);
	snprintf(it->ns, sizeof it->ns, "%s", jstr(md, "namespace"));
	snprintf(it->name, sizeof it->name, "%s", jstr(md, "name"));
	if (jget(md, "deletionTimestamp") != NULL && !cJSON_IsNull(jget(md, "deletionTimestamp")))
		set_reason(it, "deleting", "metadata.deletionTimestamp is set");
	else if (api->family == FLUX)
		judge_flux(obj, it);
	else
		judge_argo(obj, it);
	if (it->ready)
		st->ready++;
	return 0;
}

/* Every object of one API into ST, page by page.  Returns the number read
 * before the namespace filter, or -1 with ERR set. */
static long
read_api(struct kube_client *c, const struct gitops_api *api, const char *version,
    char *const *namespaces, long timeout_ms, long long deadline, struct gitops_status *st,
    size_t *cap, char *err, size_t errlen)
{
	char base[512], url[5000], cont[4096] = "";
	long total = 0;

	snprintf(base, sizeof base, "/apis/%s/%s/%s", api->group, version, api->plural);
	for (;;) {
		struct kube_call call;
		cJSON *page = NULL;
		const cJSON *obj;

		snprintf(url, sizeof url, "%s", base);
		if (kube_path_add_query(url, sizeof url, "limit", PAGE) != 0
		    || (cont[0] != '\0' && kube_path_add_query(url, sizeof url, "continue", cont) != 0)) {
			snprintf(err, errlen, "GET %s: continue token too long", base);
			return -1;
		}
		call_init(&call, timeout_ms, deadline);
		if (kube_get(c, url, &page, &call) != 0) {
			snprintf(err, errlen, "%s", call.error);
			return -1;
		}
		cJSON_ArrayForEach(obj, jget(page, "items")) {
			total++;
			if (!wanted(namespaces, jstr(jget(obj, "metadata"), "namespace"), target_ns(api->family, obj)))
				continue;
			if (add_item(st, cap, api, obj) != 0) {
				cJSON_Delete(page);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
		}
		snprintf(cont, sizeof cont, "%s", jstr(jget(page, "metadata"), "continue"));
		cJSON_Delete(page);
		if (cont[0] == '\0')
			return total;
	}
}

static int
item_cmp(const void *a, const void *b)
{
	const struct gitops_item *x = a, *y = b;
	int d;

	if (x->ready != y->ready)
		return x->ready - y->ready;
	if ((d = strcmp(x->kind, y->kind)) != 0)
		return d;
	if ((d = strcmp(x->ns, y->ns)) != 0)
		return d;
	return strcmp(x->name, y->name);
}

/* "shop, payments" into BUF. */
static void
ns_list(char *const *namespaces, char *buf, size_t n)
{
	buf[0] = '\0';
	for (char *const *p = namespaces; p != NULL && *p != NULL; p++)
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", p == namespaces ? "" : ", ", *p);
}

/* ---- the API ------------------------------------------------------------------------ */

int
gitops_status(struct kube_client *green, char *const *namespaces, long timeout_ms,
    struct gitops_status *st, char *err, size_t errlen)
{
	char versions[NAPIS][32], nsl[512];
	long long deadline = timeout_ms > 0 ? http_now_ms() + timeout_ms : 0;
	long total = 0;
	size_t cap = 0;

	memset(st, 0, sizeof *st);
	if (namespaces != NULL && namespaces[0] == NULL)
		namespaces = NULL;	/* an empty list filters nothing */
	if (green == NULL) {
		snprintf(err, errlen, "gitops: no client for green");
		return -1;
	}
	if (discover(green, versions, timeout_ms, deadline, err, errlen) != 0)
		goto fail;
	for (size_t i = 0; i < NAPIS; i++) {
		if (versions[i][0] == '\0')
			continue;
		if (apis[i].family == FLUX)
			st->flux = 1;
		else
			st->argo = 1;
	}
	if (!st->flux && !st->argo) {
		snprintf(err, errlen, "green serves neither Flux (kustomize.toolkit.fluxcd.io) nor Argo CD "
		    "(argoproj.io) APIs: sync mode gitops has nothing to wait for");
		goto fail;
	}
	for (size_t i = 0; i < NAPIS; i++) {
		long got;

		if (versions[i][0] == '\0')
			continue;
		got = read_api(green, &apis[i], versions[i], namespaces, timeout_ms, deadline, st, &cap,
		    err, errlen);
		if (got < 0)
			goto fail;
		total += got;
	}
	if (st->n == 0) {
		ns_list(namespaces, nsl, sizeof nsl);
		if (total == 0)
			snprintf(err, errlen, "green serves %s but has no %s objects: sync mode gitops has "
			    "nothing to wait for", st->flux && st->argo ? "Flux and Argo CD" : st->flux ? "Flux"
			    : "Argo CD", st->flux && st->argo ? "Kustomization, HelmRelease or Application"
			    : st->flux ? "Kustomization or HelmRelease" : "Application");
		else
			snprintf(err, errlen, "none of green's %ld GitOps objects is in or deploys into %s: "
			    "sync mode gitops has nothing to wait for", total, nsl);
		goto fail;
	}
	qsort(st->items, st->n, sizeof st->items[0], item_cmp);
	log_debug(MOD, "green: %zu of %zu GitOps objects ready", st->ready, st->n);
	return 0;
fail:
	gitops_status_free(st);
	return -1;
}

void
gitops_status_free(struct gitops_status *st)
{
	if (st == NULL)
		return;
	free(st->items);
	memset(st, 0, sizeof *st);
}
