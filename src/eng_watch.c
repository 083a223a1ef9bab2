/*
 * eng_watch.c — the engine's two watching threads.
 *
 * The checks thread runs the checks of the gates in force (the stage
 * workers say which, eng_checks_activate), one at a time, each when its
 * interval comes round, and keeps their verdicts in the model.  A verdict
 * that changes is journaled and sent as an event; a check marked
 * rollback_on_fail that failed that many times in a row asks for an
 * automatic rollback, but only while traffic has moved (rollback_armed):
 * before the switch there is nothing to roll back.
 *
 * The observer thread refreshes what the screen shows of ARM (both
 * clusters, the gateway's weights and backend health, the DNS record) and
 * of the informers every observe_ms.  Nothing here decides anything: the
 * workers read the world again themselves before they act.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/aks.h"
#include "azure/appgw.h"
#include "src/eng_internal.h"
#include "src/http.h"
#include "src/util.h"

/* ---- checks -------------------------------------------------------------------- */

static int
snapshot_cb(void *ctx, enum cfg_role role, enum kube_informer_kind kind, struct kube_snapshot *out)
{
	struct eng *e = ctx;
	int k = kind == KUBE_INFORMER_NODES ? KIND_NODES : kind == KUBE_INFORMER_PODS ? KIND_PODS
	    : kind == KUBE_INFORMER_DEPLOYMENTS ? KIND_DEPLOYMENTS : -1;
	struct kube_informer *inf;

	if (k < 0 || (unsigned)role > 1)
		return -1;
	pthread_mutex_lock(&e->mu);
	inf = e->kube_ok[role] ? e->inf[role][k] : NULL;
	pthread_mutex_unlock(&e->mu);
	/* Informers are stopped only after this thread has ended. */
	return inf != NULL ? kube_informer_snapshot(inf, out) : -1;
}

void
eng_checks_activate(struct eng *e, unsigned gates)
{
	pthread_mutex_lock(&e->mu);
	if (e->active_gates != gates) {
		e->active_gates = gates;
		e->checks_epoch++;
		for (size_t i = 0; i < e->cfg.nchecks; i++) {
			check_state_reset(&e->cs[i]);
			e->m.checks[i].active = (e->cfg.checks[i].gates & gates) != 0;
			e->m.checks[i].verdict = CHECK_PENDING;
			e->m.checks[i].consecutive_bad = 0;
		}
		eng_touch_locked(e);
	}
	pthread_mutex_unlock(&e->mu);
}

int
eng_checks_passing(struct eng *e, unsigned gate, char *why, size_t whylen)
{
	int ok = 1;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	pthread_mutex_lock(&e->mu);
	for (size_t i = 0; i < e->cfg.nchecks; i++) {
		if (!(e->cfg.checks[i].gates & gate))
			continue;
		if (!check_gate_open(&e->cs[i])) {
			if (ok && why != NULL)
				snprintf(why, whylen, "check '%s' is %s%s%s", e->cfg.checks[i].name,
				    check_verdict_name(e->cs[i].verdict), e->cs[i].runs > 0 ? ": " : "",
				    e->cs[i].runs > 0 ? e->cs[i].last.value : "");
			ok = 0;
		}
	}
	pthread_mutex_unlock(&e->mu);
	return ok;
}

int
eng_checks_wait(struct eng *e, unsigned gate, int stage, int flags)
{
	char why[300], shown[300] = "";
	int rc;

	for (;;) {
		if (eng_checks_passing(e, gate, why, sizeof why))
			return ENG_R_NEXT;
		if (strcmp(why, shown) != 0) {
			eng_progress(e, stage, "waiting: %s", why);
			snprintf(shown, sizeof shown, "%s", why);
		}
		if ((rc = eng_sleep(e, 250, flags)) != ENG_R_NEXT)
			return rc;
	}
}

static void
check_event(struct eng *e, size_t i, const struct check_result *r, enum check_verdict v)
{
	char err[512];
	cJSON *f;

	pthread_mutex_lock(&e->mu);
	int stop = e->quit || (e->lock != NULL && lock_lost(e->lock));
	pthread_mutex_unlock(&e->mu);
	if (stop)
		return;		/* nothing after run-end, nothing without the lock */
	if (journal_check(e->journal, e->cfg.checks[i].name, v == CHECK_PASSING, r->value, r->threshold,
	    err, sizeof err) != 0)
		eng_log(e, LOG_ERROR, "journal: %s", err);
	if ((f = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(f, "name", e->cfg.checks[i].name);
		cJSON_AddStringToObject(f, "verdict", check_verdict_name(v));
		cJSON_AddStringToObject(f, "status", check_status_name(r->status));
		cJSON_AddStringToObject(f, "value", r->value);
		cJSON_AddStringToObject(f, "threshold", r->threshold);
		if (r->detail[0] != '\0')
			cJSON_AddStringToObject(f, "detail", r->detail);
		eng_event(e, "check", f);
	}
}

void *
eng_checks_main(void *arg)
{
	struct eng *e = arg;

	for (;;) {
		struct check_env env;
		struct check_result r;
		long long now = eng_wall_ms(), wait = 1000;
		uint64_t epoch;
		ssize_t due = -1;
		enum check_verdict before, after;
		int rollback_now = 0, report;

		pthread_mutex_lock(&e->mu);
		if (e->quit) {
			pthread_mutex_unlock(&e->mu);
			break;
		}
		for (size_t i = 0; i < e->cfg.nchecks; i++) {
			long long in;

			if (!(e->cfg.checks[i].gates & e->active_gates))
				continue;
			if ((in = check_due_in(&e->cs[i], now)) == 0) {
				due = (ssize_t)i;
				break;
			}
			if (in < wait)
				wait = in;
		}
		if (due < 0) {
			struct timespec ts;

			eng_deadline(&ts, (long)wait);
			pthread_cond_timedwait(&e->cv, &e->mu, &ts);
			pthread_mutex_unlock(&e->mu);
			continue;
		}
		epoch = e->checks_epoch;
		pthread_mutex_unlock(&e->mu);

		memset(&env, 0, sizeof env);
		env.snapshot = snapshot_cb;
		env.snapshot_ctx = e;
		env.arm = e->conn.arm;
		env.gateway_id = e->conn.gateway_id[0] != '\0' ? e->conn.gateway_id : NULL;
		env.pools[CFG_BLUE] = e->cfg.gateway.blue_pool;
		env.pools[CFG_GREEN] = e->cfg.gateway.green_pool;
		env.http = e->http;
		env.cancel = e->cancel;
		check_run_once(&e->cfg.checks[due], &env, &r);

		pthread_mutex_lock(&e->mu);
		if (epoch != e->checks_epoch || e->quit) {
			pthread_mutex_unlock(&e->mu);
			continue;	/* the gate changed meanwhile: not this phase's answer */
		}
		struct check_state *st = &e->cs[due];
		struct eng_check_view *cv = &e->m.checks[due];

		before = st->verdict;
		report = st->runs == 0;
		check_state_record(st, &r, eng_wall_ms());
		after = st->verdict;
		cv->verdict = after;
		cv->status = r.status;
		cv->runs = st->runs;
		cv->consecutive_bad = st->consecutive_bad;
		snprintf(cv->value, sizeof cv->value, "%s", r.value);
		snprintf(cv->threshold, sizeof cv->threshold, "%s", r.threshold);
		util_errf(cv->detail, sizeof cv->detail, "%s", r.detail);
		if (st->rollback_due && e->rollback_armed && !e->want_rollback) {
			e->want_rollback = 1;
			e->rollback_auto = 1;
			util_errf(e->rollback_reason, sizeof e->rollback_reason,
			    "check '%s' failed %d times in a row: %s (threshold %s)", e->cfg.checks[due].name,
			    st->consecutive_bad, r.value, r.threshold);
			rollback_now = 1;
		}
		eng_touch_locked(e);
		pthread_mutex_unlock(&e->mu);
		if (report || before != after)
			check_event(e, (size_t)due, &r, after);
		if (rollback_now)
			eng_log(e, LOG_ERROR, "automatic rollback: check '%s' failed %d times in a row",
			    e->cfg.checks[due].name, e->cfg.checks[due].rollback_on_fail);
	}
	return NULL;
}

/* ---- observer --------------------------------------------------------------------- */

static int
node_rank(const struct eng_node_view *n)
{
	return strcmp(n->status, "Ready") != 0 ? 0 : n->cordoned ? 1 : 2;
}

static int
node_cmp(const void *a, const void *b)
{
	const struct eng_node_view *x = a, *y = b;
	int d = node_rank(x) - node_rank(y);

	return d != 0 ? d : strcmp(x->name, y->name);
}

/* What the informers hold for ROLE, into the model. */
static void
observe_kube(struct eng *e, enum cfg_role role)
{
	struct kube_snapshot snap[NKINDS];
	struct kube_informer *inf[NKINDS] = { NULL };
	int have[NKINDS] = { 0 }, ok;

	pthread_mutex_lock(&e->mu);
	ok = e->kube_ok[role];
	for (int k = 0; k < NKINDS && ok; k++)
		inf[k] = e->inf[role][k];
	pthread_mutex_unlock(&e->mu);
	for (int k = 0; k < NKINDS; k++)
		have[k] = inf[k] != NULL && kube_informer_snapshot(inf[k], &snap[k]) == 0;

	pthread_mutex_lock(&e->mu);
	struct eng_cluster_view *c = &e->m.clusters[role];
	if (have[KIND_NODES]) {
		const struct kube_snapshot *n = &snap[KIND_NODES];
		static const char *const health[] = { "Ready", "NotReady", "Unknown" };

		c->connected = n->connected;
		c->nodes_ready = n->nodes_ready;
		c->nodes_total = (unsigned)n->nnodes;
		/* a live watch means the data is current now, however quiet
		 * the cluster; otherwise it is as old as its last news */
		c->data_ms = n->connected && n->synced ? eng_wall_ms()
		    : n->last_event_ms > n->last_sync_ms ? n->last_event_ms : n->last_sync_ms;
		c->disconnected_since_ms = n->connected ? 0 : n->state_since_ms;
		c->nnodes = 0;
		for (size_t i = 0; i < n->nnodes && c->nnodes < ENG_MAX_NODES; i++) {
			struct eng_node_view *v = &c->nodes[c->nnodes++];
			const struct kube_node_summary *ns = &n->nodes[i];

			snprintf(v->name, sizeof v->name, "%s", ns->name != NULL ? ns->name : "");
			snprintf(v->status, sizeof v->status, "%s", (unsigned)ns->health < 3 ? health[ns->health] : "Unknown");
			v->cordoned = ns->unschedulable;
			snprintf(v->version, sizeof v->version, "%s", ns->kubelet_version != NULL ? ns->kubelet_version : "");
			v->created_s = ns->created;
		}
		qsort(c->nodes, c->nnodes, sizeof c->nodes[0], node_cmp);
	}
	if (have[KIND_PODS]) {
		const struct kube_snapshot *p = &snap[KIND_PODS];

		c->pods_ready = p->pods.ready;
		c->pods_total = p->pods.total;
		c->pods_pending = p->pods.pending;
		c->pods_crashlooping = p->pods.crashlooping;
		c->nnamespaces = 0;
		for (size_t i = 0; i < p->nnamespaces && c->nnamespaces < ENG_MAX_NS; i++) {
			struct eng_ns_view *v = &c->namespaces[c->nnamespaces++];

			snprintf(v->name, sizeof v->name, "%s", p->namespaces[i].name);
			v->ready = p->namespaces[i].pods.ready;
			v->total = p->namespaces[i].pods.total;
			v->pending = p->namespaces[i].pods.pending;
			v->crashlooping = p->namespaces[i].pods.crashlooping;
		}
		if (!have[KIND_NODES]) {
			c->connected = p->connected;
			c->disconnected_since_ms = p->connected ? 0 : p->state_since_ms;
		}
	}
	if (have[KIND_DEPLOYMENTS]) {
		const struct kube_snapshot *d = &snap[KIND_DEPLOYMENTS];

		c->deployments = d->deployments;
		c->deployments_not_available = d->deployments_not_available;
		c->nnot_available = 0;
		for (size_t i = 0; i < d->nnot_available && c->nnot_available < ENG_MAX_NA; i++) {
			struct eng_workload_view *v = &c->not_available[c->nnot_available++];

			util_errf(v->ns, sizeof v->ns, "%s", d->not_available[i].ns);
			util_errf(v->name, sizeof v->name, "%s", d->not_available[i].name);
			v->desired = d->not_available[i].desired;
			v->available = d->not_available[i].available;
			snprintf(v->reason, sizeof v->reason, "%s", d->not_available[i].reason);
		}
	}
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	for (int k = 0; k < NKINDS; k++)
		if (have[k])
			kube_snapshot_free(&snap[k]);
}

/* What ARM says of ROLE's cluster, into the model. */
static void
observe_arm(struct eng *e, enum cfg_role role)
{
	struct aks_summary sum;
	char err[512] = "";
	int rc;

	memset(&sum, 0, sizeof sum);
	rc = aks_get(e->conn.arm, e->conn.cluster_id[role], &e->arm_opts, NULL, &sum, err, sizeof err);
	pthread_mutex_lock(&e->mu);
	struct eng_cluster_view *c = &e->m.clusters[role];
	if (rc == 0) {
		c->exists = 1;
		snprintf(c->version, sizeof c->version, "%s", sum.current_kubernetes_version[0] != '\0'
		    ? sum.current_kubernetes_version : sum.kubernetes_version);
		snprintf(c->provisioning, sizeof c->provisioning, "%s", sum.provisioning_state);
		snprintf(c->power, sizeof c->power, "%s", sum.power_state);
		c->error[0] = '\0';
	} else if (rc == AKS_E_NOT_FOUND) {
		c->exists = 0;
		c->provisioning[0] = c->power[0] = '\0';
		c->error[0] = '\0';
	} else {
		util_errf(c->error, sizeof c->error, "ARM: %s", err);
	}
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	aks_summary_free(&sum);
}

static void
observe_cluster(struct eng *e, enum cfg_role role)
{
	observe_arm(e, role);
	observe_kube(e, role);
}

void
eng_kube_changed(void *ctx)
{
	struct eng *e = ctx;

	pthread_mutex_lock(&e->mu);
	e->kube_dirty = 1;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

void
eng_observe_once(struct eng *e, int with_health)
{
	struct traffic_state ts;
	struct appgw_health h;
	char err[512] = "", herr[512] = "";
	int rc, hrc = -1;

	observe_cluster(e, CFG_BLUE);
	observe_cluster(e, CFG_GREEN);
	rc = traffic_observe(&e->traffic, &ts, err, sizeof err);
	memset(&h, 0, sizeof h);
	if (with_health && e->conn.gateway_id[0] != '\0')
		hrc = appgw_backend_health(e->conn.arm, e->conn.gateway_id,
		    rc == 0 && ts.weights.settings_id[0] != '\0' ? ts.weights.settings_id : NULL,
		    &e->arm_opts, &h, herr, sizeof herr);

	pthread_mutex_lock(&e->mu);
	struct eng_traffic_view *t = &e->m.traffic;
	if (rc == 0) {
		t->gateway_known = ts.has_gateway;
		if (ts.has_gateway) {
			t->blue_weight = ts.weights.blue.weight;
			t->green_weight = ts.weights.green.weight;
			t->blue_share = ts.weights.blue.share;
			t->green_share = ts.weights.green.share;
		}
		t->dns_known = ts.has_dns;
		if (ts.has_dns) {
			snprintf(t->fqdn, sizeof t->fqdn, "%s", ts.dns.fqdn);
			snprintf(t->type, sizeof t->type, "%s", ts.dns.type);
			snprintf(t->target, sizeof t->target, "%s", ts.dns.ntargets > 0 ? ts.dns.targets[0] : "");
			snprintf(t->points_to, sizeof t->points_to, "%s", ts.dns_points_to);
			t->ttl = ts.dns.ttl;
		}
		t->observed_ms = eng_wall_ms();
		t->error[0] = '\0';
	} else {
		util_errf(t->error, sizeof t->error, "%s", err);
	}
	if (hrc == 0) {
		const struct appgw_pool_health *b = appgw_health_pool(&h, e->cfg.gateway.blue_pool);
		const struct appgw_pool_health *g = appgw_health_pool(&h, e->cfg.gateway.green_pool);

		t->health_known = 1;
		t->blue_healthy = b != NULL ? b->healthy : 0;
		t->blue_total = b != NULL ? b->total : 0;
		t->green_healthy = g != NULL ? g->healthy : 0;
		t->green_total = g != NULL ? g->total : 0;
	} else if (with_health) {
		t->health_known = 0;
	}
	eng_touch_locked(e);
	pthread_mutex_unlock(&e->mu);
	if (hrc == 0)
		appgw_health_free(&h);
}

/* ARM is read every observe_ms (backend health every fifth time); the
 * informers' side whenever one of them says it changed, at most every
 * KUBE_COALESCE_MS, so a storm of pod events costs a few copies a second. */
#define KUBE_COALESCE_MS 100

void *
eng_observer_main(void *arg)
{
	struct eng *e = arg;
	long period = e->o.observe_ms > 0 ? e->o.observe_ms : 5000;
	long long next_arm = 0;
	int tick = 0;

	for (;;) {
		struct timespec ts;
		int dirty;

		/* the monotonic clock, as the wait below: a step of the wall
		 * clock neither stalls nor rushes the reads */
		if (http_now_ms() >= next_arm) {
			eng_observe_once(e, tick++ % 5 == 0);
			next_arm = http_now_ms() + period;
		}
		pthread_mutex_lock(&e->mu);
		eng_deadline(&ts, (long)(next_arm - http_now_ms() > 0 ? next_arm - http_now_ms() : 0));
		while (!e->quit && !e->kube_dirty && pthread_cond_timedwait(&e->cv, &e->mu, &ts) == 0)
			;
		dirty = e->kube_dirty;
		e->kube_dirty = 0;
		if (e->quit) {
			pthread_mutex_unlock(&e->mu);
			break;
		}
		pthread_mutex_unlock(&e->mu);
		if (dirty) {
			observe_kube(e, CFG_BLUE);
			observe_kube(e, CFG_GREEN);
			/* coalesce: the next burst waits a little */
			pthread_mutex_lock(&e->mu);
			eng_deadline(&ts, KUBE_COALESCE_MS);
			while (!e->quit && pthread_cond_timedwait(&e->cv, &e->mu, &ts) == 0)
				;
			pthread_mutex_unlock(&e->mu);
		}
	}
	return NULL;
}
