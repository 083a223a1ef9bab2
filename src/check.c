/*
 * check.c — one run of a validation check, and the tracker of its verdict.
 *
 * check_run_once() dispatches on the check's type to a small function per
 * type that reads through the check_env and fills a check_result; the
 * command check lives in check_command.c and the http check in
 * check_http.c because each owns a piece of process or network plumbing.
 * Everything that could not be read becomes CHECK_ERROR with a detail that
 * says what was missing, never a pass (PRODUCT.md §6).
 *
 * The tracker (check_state_*) is plain arithmetic on consecutive results,
 * kept free of clocks and I/O so the engine can drive it from its loop and
 * tests can drive it with made-up times.
 */
#include "src/check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "azure/appgw.h"
#include "azure/metrics.h"
#include "src/check_internal.h"
#include "src/http.h"
#include "src/log.h"

#define DEFAULT_INTERVAL_MS	10000
/* Names of not-ready nodes or unavailable deployments shown in a detail;
 * the rest are counted ("and 7 more"). */
#define DETAIL_NAMES		4

void
check_setf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

/* Appends to DST, cutting at its size; a cut is harmless for a detail. */
void
check_appendf(char *dst, size_t n, const char *fmt, ...)
{
	size_t len = strlen(dst);
	va_list ap;

	if (len + 1 >= n)
		return;
	va_start(ap, fmt);
	vsnprintf(dst + len, n - len, fmt, ap);
	va_end(ap);
}

enum check_status
check_error(struct check_result *r, const char *fmt, ...)
{
	va_list ap;

	r->status = CHECK_ERROR;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof r->detail, fmt, ap);
	va_end(ap);
	if (r->value[0] == '\0')
		check_setf(r->value, sizeof r->value, "unknown");
	return CHECK_ERROR;
}

/* ---- Kubernetes ---------------------------------------------------------------- */

/* A snapshot of KIND for the check's role: the fixed one or a fresh one
 * from the callback (then *OWNED is set and the caller frees it). */
static const struct kube_snapshot *
take_snapshot(const struct cfg_check *k, const struct check_env *env,
    enum kube_informer_kind kind, struct kube_snapshot *owned, bool *is_owned,
    struct check_result *r)
{
	const struct kube_snapshot *const *fixed;
	const struct kube_snapshot *s;
	enum cfg_role role = k->cluster;

	*is_owned = false;
	if (env->snapshot != NULL) {
		memset(owned, 0, sizeof *owned);
		if (env->snapshot(env->snapshot_ctx, role, kind, owned) != 0) {
			check_error(r, "no informer for %s's cluster", cfg_role_name(role));
			return NULL;
		}
		*is_owned = true;
		s = owned;
	} else {
		fixed = kind == KUBE_INFORMER_NODES ? env->nodes
		    : kind == KUBE_INFORMER_PODS ? env->pods : env->deployments;
		s = fixed[role];
		if (s == NULL) {
			check_error(r, "no informer for %s's cluster", cfg_role_name(role));
			return NULL;
		}
	}
	/* A store that never listed, or lost its connection, describes the
	 * past or nothing: unknown state. */
	if (!s->synced)
		check_error(r, "%s cluster not synced yet%s%s", cfg_role_name(role),
		    s->last_error[0] != '\0' ? ": " : "", s->last_error);
	else if (!s->connected)
		check_error(r, "%s cluster API server unreachable%s%s", cfg_role_name(role),
		    s->last_error[0] != '\0' ? ": " : "", s->last_error);
	else
		return s;
	if (*is_owned) {
		kube_snapshot_free(owned);
		*is_owned = false;
	}
	return NULL;
}

static void
drop_snapshot(struct kube_snapshot *owned, bool is_owned)
{
	if (is_owned)
		kube_snapshot_free(owned);
}

static const char *
node_health_name(enum kube_node_health h)
{
	return h == KUBE_NODE_READY ? "Ready" : h == KUBE_NODE_NOT_READY ? "NotReady" : "Unknown";
}

static enum check_status
run_nodes(const struct cfg_check *k, const struct check_env *env, struct check_result *r)
{
	struct kube_snapshot owned;
	bool is_owned;
	const struct kube_snapshot *s;
	uint32_t total, named = 0;

	s = take_snapshot(k, env, KUBE_INFORMER_NODES, &owned, &is_owned, r);
	if (s == NULL)
		return CHECK_ERROR;
	total = s->nodes_ready + s->nodes_not_ready + s->nodes_unknown;
	check_setf(r->value, sizeof r->value, "%u/%u ready", s->nodes_ready, total);
	check_setf(r->threshold, sizeof r->threshold, "= %u", total);
	r->number = s->nodes_ready;
	r->has_number = true;
	r->status = total > 0 && s->nodes_ready == total ? CHECK_PASS : CHECK_FAIL;
	if (total == 0)
		check_setf(r->detail, sizeof r->detail, "no nodes");
	for (size_t i = 0; i < s->nnodes; i++) {
		const struct kube_node_summary *n = &s->nodes[i];

		if (n->health == KUBE_NODE_READY)
			continue;
		if (named++ < DETAIL_NAMES)
			check_appendf(r->detail, sizeof r->detail, "%s%s %s%s%s%s",
			    named > 1 ? ", " : "", n->name, node_health_name(n->health),
			    n->ready_reason != NULL && n->ready_reason[0] ? " (" : "",
			    n->ready_reason != NULL ? n->ready_reason : "",
			    n->ready_reason != NULL && n->ready_reason[0] ? ")" : "");
	}
	if (named > DETAIL_NAMES)
		check_appendf(r->detail, sizeof r->detail, " and %u more", named - DETAIL_NAMES);
	if (s->nodes_cordoned > 0)
		check_appendf(r->detail, sizeof r->detail, "%s%u cordoned",
		    r->detail[0] ? "; " : "", s->nodes_cordoned);
	drop_snapshot(&owned, is_owned);
	return r->status;
}

/* The namespace summary called NAME, or NULL. */
static const struct kube_ns_summary *
find_ns(const struct kube_snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->nnamespaces; i++)
		if (strcmp(s->namespaces[i].name, name) == 0)
			return &s->namespaces[i];
	return NULL;
}

static bool
ns_selected(const struct cfg_check *k, const char *ns)
{
	if (k->namespaces == NULL || k->namespaces[0] == NULL)
		return true;
	for (char **p = k->namespaces; *p != NULL; p++)
		if (strcmp(*p, ns) == 0)
			return true;
	return false;
}

static enum check_status
run_pods(const struct cfg_check *k, const struct check_env *env, struct check_result *r)
{
	struct kube_snapshot owned;
	bool is_owned;
	const struct kube_snapshot *s;
	struct kube_pod_counts sum = { 0 };
	char empty[256] = "", per_ns[256] = "";
	uint64_t need;

	s = take_snapshot(k, env, KUBE_INFORMER_PODS, &owned, &is_owned, r);
	if (s == NULL)
		return CHECK_ERROR;
	if (k->namespaces == NULL || k->namespaces[0] == NULL) {
		sum = s->pods;
	} else {
		for (char **p = k->namespaces; *p != NULL; p++) {
			const struct kube_ns_summary *ns = find_ns(s, *p);

			if (ns == NULL || ns->pods.total == 0) {
				check_appendf(empty, sizeof empty, "%s%s", empty[0] ? ", " : "", *p);
				continue;
			}
			sum.total += ns->pods.total;
			sum.ready += ns->pods.ready;
			sum.pending += ns->pods.pending;
			sum.crashlooping += ns->pods.crashlooping;
		}
	}
	/* Per namespace crash loops, so the operator sees where to look. */
	for (size_t i = 0; i < s->nnamespaces; i++) {
		const struct kube_ns_summary *ns = &s->namespaces[i];

		if (ns->pods.crashlooping > 0 && ns_selected(k, ns->name))
			check_appendf(per_ns, sizeof per_ns, "%s%s %u", per_ns[0] ? ", " : "",
			    ns->name, ns->pods.crashlooping);
	}
	need = sum.total > (uint32_t)k->allowed_not_ready ? sum.total - (uint32_t)k->allowed_not_ready : 0;
	check_setf(r->value, sizeof r->value, "%u/%u ready", sum.ready, sum.total);
	check_setf(r->threshold, sizeof r->threshold, ">= %llu", (unsigned long long)need);
	r->number = sum.ready;
	r->has_number = true;
	r->status = sum.ready >= need && sum.total > 0 && empty[0] == '\0' ? CHECK_PASS : CHECK_FAIL;
	if (sum.total - sum.ready > 0)
		check_appendf(r->detail, sizeof r->detail, "%u not ready", sum.total - sum.ready);
	if (sum.crashlooping > 0)
		check_appendf(r->detail, sizeof r->detail, "%s%u crash-looping (%s)",
		    r->detail[0] ? ", " : "", sum.crashlooping, per_ns);
	if (sum.pending > 0)
		check_appendf(r->detail, sizeof r->detail, "%s%u pending",
		    r->detail[0] ? ", " : "", sum.pending);
	if (empty[0] != '\0')
		check_appendf(r->detail, sizeof r->detail, "%sno pods in %s",
		    r->detail[0] ? "; " : "", empty);
	else if (sum.total == 0)
		check_appendf(r->detail, sizeof r->detail, "%sno pods", r->detail[0] ? "; " : "");
	drop_snapshot(&owned, is_owned);
	return r->status;
}

static enum check_status
run_deployments(const struct cfg_check *k, const struct check_env *env, struct check_result *r)
{
	struct kube_snapshot owned;
	bool is_owned;
	const struct kube_snapshot *s;
	uint32_t total = 0, bad = 0, named = 0;
	char empty[256] = "";

	s = take_snapshot(k, env, KUBE_INFORMER_DEPLOYMENTS, &owned, &is_owned, r);
	if (s == NULL)
		return CHECK_ERROR;
	if (k->namespaces == NULL || k->namespaces[0] == NULL) {
		total = s->deployments;
		bad = s->deployments_not_available;
	} else {
		for (char **p = k->namespaces; *p != NULL; p++) {
			const struct kube_ns_summary *ns = find_ns(s, *p);

			if (ns == NULL || ns->deployments == 0) {
				check_appendf(empty, sizeof empty, "%s%s", empty[0] ? ", " : "", *p);
				continue;
			}
			total += ns->deployments;
			bad += ns->deployments_not_available;
		}
	}
	check_setf(r->value, sizeof r->value, "%u/%u available", total - bad, total);
	check_setf(r->threshold, sizeof r->threshold, "= %u", total);
	r->number = total - bad;
	r->has_number = true;
	r->status = bad == 0 && total > 0 && empty[0] == '\0' ? CHECK_PASS : CHECK_FAIL;
	for (size_t i = 0; i < s->nnot_available; i++) {
		const struct kube_deploy_summary *d = &s->not_available[i];

		if (!ns_selected(k, d->ns))
			continue;
		if (named++ < DETAIL_NAMES)
			check_appendf(r->detail, sizeof r->detail, "%s%s/%s %d/%d%s%s", named > 1 ? ", " : "",
			    d->ns, d->name, d->available, d->desired, d->reason[0] ? " " : "", d->reason);
	}
	if (bad > named)
		check_appendf(r->detail, sizeof r->detail, " and %u more", bad - named);
	else if (named > DETAIL_NAMES)
		check_appendf(r->detail, sizeof r->detail, " and %u more", named - DETAIL_NAMES);
	if (empty[0] != '\0')
		check_appendf(r->detail, sizeof r->detail, "%sno deployments in %s",
		    r->detail[0] ? "; " : "", empty);
	else if (total == 0)
		check_appendf(r->detail, sizeof r->detail, "%sno deployments", r->detail[0] ? "; " : "");
	drop_snapshot(&owned, is_owned);
	return r->status;
}

/* ---- Azure ------------------------------------------------------------------- */

static void
arm_opts_for(const struct cfg_check *k, const struct check_env *env, struct arm_opts *o)
{
	memset(o, 0, sizeof *o);
	if (k->timeout_ms > 0)
		o->deadline_ms = http_now_ms() + k->timeout_ms;
	o->cancel = env->cancel;
}

static enum check_status
run_backend_health(const struct cfg_check *k, const struct check_env *env,
    struct check_result *r)
{
	struct appgw_health h = { 0 };
	const struct appgw_pool_health *p;
	const char *pool = env->pools[k->cluster];
	struct arm_opts o;
	char err[512] = "";
	size_t named = 0;

	if (env->arm == NULL || env->gateway_id == NULL || env->gateway_id[0] == '\0')
		return check_error(r, "no application gateway configured");
	if (pool == NULL || pool[0] == '\0')
		return check_error(r, "no backend pool for %s", cfg_role_name(k->cluster));
	arm_opts_for(k, env, &o);
	if (appgw_backend_health(env->arm, env->gateway_id, env->settings_id, &o, &h, err,
	    sizeof err) != 0) {
		appgw_health_free(&h);
		return check_error(r, "backend health: %s", err);
	}
	p = appgw_health_pool(&h, pool);
	if (p == NULL) {
		appgw_health_free(&h);
		return check_error(r, "backend health has no pool %s", pool);
	}
	check_setf(r->value, sizeof r->value, "%d/%d healthy", p->healthy, p->total);
	check_setf(r->threshold, sizeof r->threshold, "= %d", p->total);
	r->number = p->healthy;
	r->has_number = true;
	r->status = p->total > 0 && p->healthy == p->total ? CHECK_PASS : CHECK_FAIL;
	check_setf(r->detail, sizeof r->detail, "%s", p->total == 0 ? "pool has no servers" : "");
	for (size_t i = 0; i < p->nservers; i++) {
		if (strcmp(p->servers[i].health, "Up") == 0)
			continue;
		if (named++ < DETAIL_NAMES)
			check_appendf(r->detail, sizeof r->detail, "%s%s %s", named > 1 ? ", " : "",
			    p->servers[i].address, p->servers[i].health);
	}
	appgw_health_free(&h);
	return r->status;
}

static enum check_status
run_metric(const struct cfg_check *k, const struct check_env *env, struct check_result *r)
{
	struct metrics_query q = { 0 };
	struct metrics_result m = { 0 };
	struct arm_opts o;
	char err[512] = "";
	const char *agg = k->aggregation != NULL ? k->aggregation : "Total";
	double v;
	bool counting = strcasecmp(agg, "Total") == 0 || strcasecmp(agg, "Count") == 0;

	if (env->arm == NULL || env->gateway_id == NULL || env->gateway_id[0] == '\0')
		return check_error(r, "no application gateway configured");
	if (k->has_max && k->has_min)
		check_setf(r->threshold, sizeof r->threshold, "%g..%g", k->min, k->max);
	else if (k->has_max)
		check_setf(r->threshold, sizeof r->threshold, "<= %g", k->max);
	else if (k->has_min)
		check_setf(r->threshold, sizeof r->threshold, ">= %g", k->min);
	q.resource_id = env->gateway_id;
	q.metric = k->metric;
	q.aggregation = agg;
	q.filter = k->filter;
	q.window_ms = k->window_ms > 0 ? k->window_ms : 5 * 60000;
	q.now_s = env->now_s;
	arm_opts_for(k, env, &o);
	if (metrics_query(env->arm, &q, &o, &m, err, sizeof err) != 0) {
		metrics_result_free(&m);
		return check_error(r, "%s: %s", k->metric != NULL ? k->metric : "metric", err);
	}
	if (!m.has_value && !counting) {
		metrics_result_free(&m);
		return check_error(r, "%s %s: no data in the window", k->metric, agg);
	}
	/* An event count with no data points counted no events. */
	v = m.has_value ? m.value : 0;
	check_setf(r->value, sizeof r->value, "%g", v);
	r->number = v;
	r->has_number = true;
	r->status = (!k->has_max || v <= k->max) && (!k->has_min || v >= k->min)
	    ? CHECK_PASS : CHECK_FAIL;
	check_setf(r->detail, sizeof r->detail, "%s %s over %lds%s%s%s", k->metric, agg,
	    q.window_ms / 1000, k->filter != NULL ? " where " : "",
	    k->filter != NULL ? k->filter : "", m.has_value ? "" : " (no data: 0)");
	metrics_result_free(&m);
	return r->status;
}

/* ---- dispatch --------------------------------------------------------------- */

enum check_status
check_run_once(const struct cfg_check *k, const struct check_env *env, struct check_result *r)
{
	long long t0 = http_now_ms();

	memset(r, 0, sizeof *r);
	if (k == NULL || env == NULL) {
		check_error(r, "no check or environment");
	} else {
		switch (k->type) {
		case CFG_CHECK_NODES_READY:
			run_nodes(k, env, r);
			break;
		case CFG_CHECK_PODS_READY:
			run_pods(k, env, r);
			break;
		case CFG_CHECK_DEPLOYMENTS_AVAILABLE:
			run_deployments(k, env, r);
			break;
		case CFG_CHECK_HTTP:
			check_run_http(k, env, r);
			break;
		case CFG_CHECK_BACKEND_HEALTH:
			run_backend_health(k, env, r);
			break;
		case CFG_CHECK_METRIC:
			run_metric(k, env, r);
			break;
		case CFG_CHECK_COMMAND:
			check_run_command(k, r);
			break;
		default:
			check_error(r, "unknown check type %d", (int)k->type);
			break;
		}
	}
	r->elapsed_ms = (long)(http_now_ms() - t0);
	log_debug("check", "%s: %s %s (%s) %s", k != NULL && k->name != NULL ? k->name : "?",
	    check_status_name(r->status), r->value, r->threshold, r->detail);
	return r->status;
}

const char *
check_status_name(enum check_status s)
{
	switch (s) {
	case CHECK_PASS:
		return "pass";
	case CHECK_FAIL:
		return "fail";
	default:
		return "error";
	}
}

/* ---- tracker ---------------------------------------------------------------- */

void
check_state_init(struct check_state *st, const struct cfg_check *check)
{
	memset(st, 0, sizeof *st);
	st->check = check;
}

void
check_state_reset(struct check_state *st)
{
	check_state_init(st, st->check);
}

static int
at_least_one(int v)
{
	return v > 0 ? v : 1;
}

void
check_state_record(struct check_state *st, const struct check_result *r, long long now_ms)
{
	const struct cfg_check *k = st->check;
	int need_ok = at_least_one(k != NULL ? k->success_threshold : 1);
	int need_bad = at_least_one(k != NULL ? k->failure_threshold : 1);

	st->runs++;
	st->last_run_ms = now_ms;
	st->last = *r;
	/* ERROR counts against the check exactly as FAIL does (§6). */
	if (r->status == CHECK_PASS) {
		st->consecutive_ok++;
		st->consecutive_bad = 0;
	} else {
		st->consecutive_bad++;
		st->consecutive_ok = 0;
	}
	if (st->consecutive_ok >= need_ok)
		st->verdict = CHECK_PASSING;
	else if (st->consecutive_bad >= need_bad)
		st->verdict = CHECK_FAILING;
	st->rollback_due = k != NULL && k->rollback_on_fail > 0
	    && st->consecutive_bad >= k->rollback_on_fail;
}

long long
check_due_in(const struct check_state *st, long long now_ms)
{
	long interval = st->check != NULL && st->check->interval_ms > 0
	    ? st->check->interval_ms : DEFAULT_INTERVAL_MS;
	long long next;

	if (st->runs == 0)
		return 0;
	next = st->last_run_ms + interval;
	return next > now_ms ? next - now_ms : 0;
}

bool
check_due(const struct check_state *st, long long now_ms)
{
	return check_due_in(st, now_ms) == 0;
}

bool
check_gate_open(const struct check_state *st)
{
	return st->verdict == CHECK_PASSING;
}

const char *
check_verdict_name(enum check_verdict v)
{
	switch (v) {
	case CHECK_PASSING:
		return "passing";
	case CHECK_FAILING:
		return "failing";
	default:
		return "pending";
	}
}
