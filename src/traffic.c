/*
 * traffic.c — T3's single steps and their undo, each one journaled before
 * it is made (PRODUCT.md §6).
 *
 * The shape of every write here is the same: read the resource as it is,
 * append an intent carrying that full state as "before" (journal_intent
 * returns once the line is fsync'd), then hand the same state to the azure/
 * client as the write's precondition, so that what the journal says we
 * replaced is exactly what ARM still had when we replaced it; a change by
 * someone else in between becomes APPGW_E_DRIFT or a 412, never a silent
 * overwrite.  The outcome then records the state read back.  When a write
 * fails, the resource is read once more and that observation goes into the
 * outcome: the journal's view treats a failed outcome without an "after"
 * as "may have landed", and the extra read is what lets rollback and resume
 * know instead of guess.
 *
 * Rollback restores what the journal recorded before the first change of
 * the switchover, not before the latest step, and only where the resource
 * differs from it, which is what makes running it twice harmless.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "src/conn.h"
#include "src/util.h"
#include "src/log.h"
#include "src/traffic.h"

#define MOD "traffic"

static void say(struct traffic *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The log and, when asked for, the caller's progress line. */
static void
say(struct traffic *t, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_info(MOD, "%s", line);
	if (t->progress != NULL)
		t->progress(t->progress_ctx, line);
}

void
traffic_init(struct traffic *t, const struct conn *c, struct journal *j)
{
	memset(t, 0, sizeof *t);
	t->arm = c->arm;
	t->cfg = c->cfg;
	t->gateway_id = c->gateway_id;
	t->dns_id = c->dns_id;
	t->journal = j;
}

static int
has_gateway(const struct traffic *t)
{
	return t->cfg != NULL && t->cfg->gateway.has_gateway && t->gateway_id != NULL
	    && t->gateway_id[0] != '\0';
}

static int
has_dns(const struct traffic *t)
{
	return t->cfg != NULL && t->cfg->dns.has_dns && t->dns_id != NULL && t->dns_id[0] != '\0';
}

static void
gw_target(const struct traffic *t, struct appgw_target *tg)
{
	tg->gateway_id = t->gateway_id;
	tg->rule = t->cfg->gateway.rule;
	tg->blue_pool = t->cfg->gateway.blue_pool;
	tg->green_pool = t->cfg->gateway.green_pool;
}

/* The rule's snapshot (*SNAP, owned by the caller) and, when W is given,
 * its weights. */
static int
read_gateway(struct traffic *t, const struct appgw_target *tg, cJSON **snap,
    struct appgw_weights *w, char *err, size_t errlen)
{
	cJSON *gw = NULL;
	int rc;

	*snap = NULL;
	rc = appgw_get(t->arm, tg->gateway_id, t->arm_opts, &gw, NULL, 0, err, errlen);
	if (rc != 0)
		return rc;
	if (w != NULL && (rc = appgw_weights(gw, tg, w, err, errlen)) != 0) {
		cJSON_Delete(gw);
		return rc;
	}
	*snap = appgw_snapshot(gw, tg->rule, err, errlen);
	cJSON_Delete(gw);
	return *snap != NULL ? 0 : APPGW_E_NOT_FOUND;
}

/* The record (*REC) and its journal form (*JSON, owned by the caller). */
static int
read_dns(struct traffic *t, struct pdns_record *rec, cJSON **json, char *err, size_t errlen)
{
	cJSON *body = NULL;
	int rc;

	*json = NULL;
	rc = pdns_get(t->arm, t->dns_id, t->arm_opts, rec, &body, err, errlen);
	if (rc != 0)
		return rc;
	*json = pdns_record_json(body, rec->etag);
	cJSON_Delete(body);
	if (*json == NULL) {
		util_errf(err, errlen, "DNS record %s: ARM answered with no record set properties",
		    t->dns_id);
		return PDNS_E_BODY;
	}
	return 0;
}

static int
intent(struct traffic *t, const char *what, const char *subject, const cJSON *before,
    const cJSON *after, uint64_t *action, char *err, size_t errlen)
{
	return journal_intent_for(t->journal, what, subject, before, after, action, err, errlen) == 0
	    ? 0 : TRAFFIC_E_JOURNAL;
}

/* Records the outcome of ACTION (RC the change's result, WHY its error,
 * SEEN what was read back: NULL is unknown, which leaves the intent
 * pending).  Returns RC, or TRAFFIC_E_JOURNAL when the change worked but the
 * journal did not take its outcome; ERR says all. */
static int
outcome(struct traffic *t, uint64_t action, int rc, const cJSON *seen, const char *why,
    char *err, size_t errlen)
{
	if (journal_outcome_for(t->journal, action, rc, seen, why, err, errlen) == 0 || rc != 0)
		return rc;
	return TRAFFIC_E_JOURNAL;
}

/* Names the kind of failure first in WHY (journal and screen): "drift"
 * and "changed behind our back" tell the operator someone else is editing
 * the resource, which the raw ARM message does not say plainly. */
static void
label_failure(int rc, char *why, size_t n)
{
	const char *label = rc == APPGW_E_DRIFT ? "drift"
	    : rc == ARM_E_PRECONDITION ? "changed behind our back (412)" : NULL;
	char keep[1024];

	if (label == NULL)
		return;
	snprintf(keep, sizeof keep, "%s", why);
	util_errf(why, n, "%s: %s", label, keep);
}

static int
is_gateway_what(const char *what)
{
	return strcmp(what, "gateway-weights") == 0 || strcmp(what, "gateway-restore") == 0;
}

static int
is_dns_what(const char *what)
{
	return strcmp(what, "dns-record") == 0 || strcmp(what, "dns-restore") == 0;
}

/*
 * The "after" of the latest successful outcome of a gateway (GATEWAY 1) or
 * DNS change in the switchover in progress (since the last run that ended
 * done or rolled back): the state we last left the resource in.  *OUT is
 * NULL when there was none, i.e. the next change is the first.  Read from
 * the journal rather than kept in memory so that a resumed process expects
 * the same thing the crashed one did.  A failed outcome never moves the
 * expectation: after drift the engine stops and the operator decides;
 * rolling back is always possible.
 */
static int
last_after(struct traffic *t, int gateway, cJSON **out, char *err, size_t errlen)
{
	struct journal_reader *r = NULL;
	struct journal_record rec;
	uint64_t *acts = NULL, a;
	size_t n = 0;
	char why[600] = "";
	int rc;

	*out = NULL;
	rc = journal_open_read(journal_file(t->journal), &r, why, sizeof why);
	if (rc == JOURNAL_NOENT)
		return 0;
	if (rc != 0)
		goto fail;
	while ((rc = journal_next(r, &rec, why, sizeof why)) == 1) {
		const cJSON *o = rec.json, *what = cJSON_GetObjectItemCaseSensitive(o, "what");
		const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "action");
		const cJSON *after = cJSON_GetObjectItemCaseSensitive(o, "after");
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "result");

		if (rec.type == JOURNAL_INTENT && cJSON_IsString(what)
		    && (gateway ? is_gateway_what(what->valuestring) : is_dns_what(what->valuestring))) {
			uint64_t *grown = realloc(acts, (n + 1) * sizeof *acts);

			if (grown == NULL) {
				snprintf(why, sizeof why, "out of memory");
				rc = -1;
				break;
			}
			acts = grown;
			acts[n++] = rec.seq;
		} else if (rec.type == JOURNAL_OUTCOME && cJSON_IsNumber(act)
		    && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok")) && cJSON_IsObject(after)) {
			a = (uint64_t)act->valuedouble;
			for (size_t i = 0; i < n; i++)
				if (acts[i] == a) {
					cJSON_Delete(*out);
					*out = cJSON_Duplicate(after, 1);
					break;
				}
		} else if (rec.type == JOURNAL_RUN_END && cJSON_IsString(res)
		    && (strcmp(res->valuestring, journal_result_name(JOURNAL_RESULT_DONE)) == 0
		    || strcmp(res->valuestring, journal_result_name(JOURNAL_RESULT_ROLLED_BACK)) == 0)) {
			cJSON_Delete(*out);
			*out = NULL;
			n = 0;
		}
	}
	journal_close_read(r);
	free(acts);
	if (rc == 0)
		return 0;
fail:
	cJSON_Delete(*out);
	*out = NULL;
	util_errf(err, errlen, "cannot read the journal: %s", why);
	return TRAFFIC_E_JOURNAL;
}

/* ---- gateway ------------------------------------------------------------------ */

static cJSON *
weights_plan(int blue, int green)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || cJSON_AddNumberToObject(o, "blue", blue) == NULL
	    || cJSON_AddNumberToObject(o, "green", green) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int
traffic_set_weights(struct traffic *t, int green_percent, char *err, size_t errlen)
{
	struct appgw_write_opts wo = { 0 };
	struct appgw_target tg;
	struct appgw_change ch;
	struct appgw_weights was;
	cJSON *snap = NULL, *plan = NULL, *seen = NULL, *expect = NULL;
	char why[1024] = "", e2[300];
	uint64_t action = 0;
	int blue = 100 - green_percent, rc;

	if (t == NULL || t->journal == NULL || green_percent < 0 || green_percent > 100) {
		util_errf(err, errlen, "traffic_set_weights: bad arguments (green %d %%)", green_percent);
		return TRAFFIC_E_INVALID;
	}
	if (!has_gateway(t)) {
		util_errf(err, errlen, "no gateway configured (traffic.gateway)");
		return TRAFFIC_E_NOT_CONFIGURED;
	}
	gw_target(t, &tg);
	wo.arm = t->arm_opts;
	rc = read_gateway(t, &tg, &snap, &was, err, errlen);
	if (rc != 0)
		return rc;
	rc = last_after(t, 1, &expect, err, errlen);
	if (rc != 0)
		goto done;
	plan = weights_plan(blue, green_percent);
	if (plan == NULL) {
		util_errf(err, errlen, "out of memory");
		rc = TRAFFIC_E_INVALID;
		goto done;
	}
	rc = intent(t, "gateway-weights", "gateway", snap, plan, &action, err, errlen);
	if (rc != 0)
		goto done;
	/* EXPECT is what our last step left (the journaled before on the
	 * first): a rule someone else changed since, between our steps or
	 * between this read and the PUT, is drift and nothing is written. */
	rc = appgw_set_weights(t->arm, &tg, blue, green_percent, expect != NULL ? expect : snap,
	    &wo, &ch, why, sizeof why);
	if (rc == 0) {
		rc = outcome(t, action, 0, ch.after, NULL, err, errlen);
		if (rc == 0)
			say(t, "gateway %s: blue %d / green %d -> blue %d / green %d%s",
			    t->cfg->gateway.name, was.blue.weight, was.green.weight,
			    ch.now.blue.weight, ch.now.green.weight, ch.changed ? "" : " (already so)");
	} else {
		label_failure(rc, why, sizeof why);
		if (read_gateway(t, &tg, &seen, NULL, e2, sizeof e2) != 0)
			seen = NULL;
		rc = outcome(t, action, rc, seen, why, err, errlen);
		log_warn(MOD, "gateway %s: step to green %d %% failed: %s", t->cfg->gateway.name,
		    green_percent, err);
	}
	appgw_change_free(&ch);
done:
	cJSON_Delete(snap);
	cJSON_Delete(plan);
	cJSON_Delete(seen);
	cJSON_Delete(expect);
	return rc;
}

/* ---- DNS ------------------------------------------------------------------------ */

static cJSON *
dns_plan(const char *target, long long ttl, const char *role)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();

	if (o == NULL || a == NULL || !cJSON_AddItemToObject(o, "targets", a)) {
		cJSON_Delete(o);
		cJSON_Delete(a);
		return NULL;
	}
	if (cJSON_AddItemToArray(a, cJSON_CreateString(target)) == 0
	    || cJSON_AddNumberToObject(o, "ttl", (double)ttl) == NULL
	    || cJSON_AddStringToObject(o, "pointsTo", role) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int
traffic_move_dns(struct traffic *t, enum cfg_role to, char *err, size_t errlen)
{
	struct pdns_record rec, r2;
	struct pdns_change ch;
	const char *target;
	cJSON *before = NULL, *plan = NULL, *seen = NULL, *expect = NULL;
	const cJSON *etag;
	char why[1024] = "", e2[300];
	long long ttl;
	uint64_t action = 0;
	int rc;

	if (t == NULL || t->journal == NULL || (to != CFG_BLUE && to != CFG_GREEN)) {
		util_errf(err, errlen, "traffic_move_dns: bad arguments");
		return TRAFFIC_E_INVALID;
	}
	if (!has_dns(t)) {
		util_errf(err, errlen, "no DNS record configured (traffic.dns)");
		return TRAFFIC_E_NOT_CONFIGURED;
	}
	target = to == CFG_GREEN ? t->cfg->dns.green_target : t->cfg->dns.blue_target;
	if (target == NULL || *target == '\0') {
		util_errf(err, errlen, "traffic.dns.%s_target is not set", cfg_role_name(to));
		return TRAFFIC_E_NOT_CONFIGURED;
	}
	ttl = t->cfg->dns.ttl > 0 ? t->cfg->dns.ttl : 0;
	rc = read_dns(t, &rec, &before, err, errlen);
	if (rc != 0)
		return rc;
	rc = last_after(t, 0, &expect, err, errlen);
	if (rc != 0)
		goto done;
	plan = dns_plan(target, ttl > 0 ? ttl : rec.ttl, cfg_role_name(to));
	if (plan == NULL) {
		util_errf(err, errlen, "out of memory");
		rc = TRAFFIC_E_INVALID;
		goto done;
	}
	rc = intent(t, "dns-record", "DNS record", before, plan, &action, err, errlen);
	if (rc != 0)
		goto done;
	/* If-Match is the ETag our last change left (the journaled before's on
	 * the first), for the reason the gateway step passes EXPECT: a record
	 * written by someone else since answers 412 and nothing is written. */
	etag = cJSON_GetObjectItemCaseSensitive(expect, "etag");
	rc = pdns_set_targets(t->arm, t->dns_id, &target, 1, ttl,
	    cJSON_IsString(etag) && *etag->valuestring ? etag->valuestring : rec.etag,
	    t->arm_opts, &ch, why, sizeof why);
	if (rc == 0) {
		rc = outcome(t, action, 0, ch.after_json, NULL, err, errlen);
		if (rc == 0)
			say(t, "DNS %s %s: %s -> %s (%s)%s", rec.type, rec.name,
			    rec.ntargets > 0 ? rec.targets[0] : "-", target, cfg_role_name(to),
			    ch.changed ? "" : " (already so)");
	} else {
		label_failure(rc, why, sizeof why);
		if (read_dns(t, &r2, &seen, e2, sizeof e2) != 0)
			seen = NULL;
		rc = outcome(t, action, rc, seen, why, err, errlen);
		log_warn(MOD, "DNS %s: move to %s failed: %s", rec.name, cfg_role_name(to), err);
	}
	pdns_change_free(&ch);
done:
	cJSON_Delete(before);
	cJSON_Delete(plan);
	cJSON_Delete(seen);
	cJSON_Delete(expect);
	return rc;
}

/* ---- rollback -------------------------------------------------------------------- */

static int
same_props(const cJSON *a, const cJSON *b)
{
	return cJSON_Compare(cJSON_GetObjectItemCaseSensitive(a, "properties"),
	    cJSON_GetObjectItemCaseSensitive(b, "properties"), 1);
}

/* Whether the gateway now does what pending intent P planned. */
static int
gateway_reached(const struct journal_pending *p, const cJSON *snap, const struct appgw_weights *w)
{
	const cJSON *b, *g;
	double want;

	if (strcmp(p->what, "gateway-restore") == 0)
		return appgw_snapshot_equal(snap, p->after);
	b = cJSON_GetObjectItemCaseSensitive(p->after, "blue");
	g = cJSON_GetObjectItemCaseSensitive(p->after, "green");
	if (!cJSON_IsNumber(b) || !cJSON_IsNumber(g) || b->valuedouble + g->valuedouble <= 0
	    || w->total <= 0)
		return 0;
	/* Weights are relative: 50/50 and 1/1 are the same split. */
	want = 100.0 * g->valuedouble / (b->valuedouble + g->valuedouble);
	return fabs(w->green.share - want) < 0.01 && w->nother == 0;
}

static int
dns_reached(const struct journal_pending *p, const struct pdns_record *rec, const cJSON *json)
{
	const cJSON *tg;

	if (strcmp(p->what, "dns-restore") == 0)
		return same_props(json, p->after);
	tg = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p->after, "targets"), 0);
	return cJSON_IsString(tg) && rec->ntargets == 1
	    && strcmp(pdns_points_to(rec, tg->valuestring, NULL), "blue") == 0;
}

/*
 * Closes a traffic intent left without outcome (a crash after the intent)
 * with what ARM shows now, so that the journal stops saying "unknown".  A
 * read that fails leaves it pending: 0 with ERR set, the restore that
 * follows reports the same failure.
 */
static int
reconcile(struct traffic *t, const struct journal_pending *p, int *closed, char *err,
    size_t errlen)
{
	struct appgw_target tg;
	struct appgw_weights w;
	struct pdns_record rec;
	cJSON *seen = NULL;
	int reached, rc;

	if (is_gateway_what(p->what) && has_gateway(t)) {
		gw_target(t, &tg);
		if (read_gateway(t, &tg, &seen, &w, err, errlen) != 0)
			return 0;
		reached = gateway_reached(p, seen, &w);
	} else if (is_dns_what(p->what) && has_dns(t)) {
		if (read_dns(t, &rec, &seen, err, errlen) != 0)
			return 0;
		reached = dns_reached(p, &rec, seen);
	} else {
		return 0;
	}
	rc = journal_outcome(t->journal, p->action, reached, seen,
	    reached ? NULL : "found not applied when reconciled with ARM", err, errlen);
	cJSON_Delete(seen);
	if (rc != 0)
		return TRAFFIC_E_JOURNAL;
	say(t, "journal: %s (action %llu, run %.8s) had no outcome; ARM shows it %s", p->what,
	    (unsigned long long)p->action, p->run, reached ? "applied" : "not applied");
	(*closed)++;
	return 0;
}

static int
restore_gateway(struct traffic *t, const cJSON *before, int *restored, char *err,
    size_t errlen)
{
	struct appgw_write_opts wo = { 0 };
	struct appgw_target tg;
	struct appgw_weights w;
	struct appgw_change ch;
	cJSON *cur = NULL, *seen = NULL;
	char why[1024] = "", e2[300];
	uint64_t action = 0;
	int rc;

	gw_target(t, &tg);
	wo.arm = t->arm_opts;
	rc = read_gateway(t, &tg, &cur, &w, why, sizeof why);
	if (rc != 0) {
		util_errf(err, errlen, "gateway not restored: %s", why);
		return rc;
	}
	if (appgw_snapshot_equal(cur, before)) {
		say(t, "gateway %s: already as before the switch (blue %d / green %d)",
		    t->cfg->gateway.name, w.blue.weight, w.green.weight);
		cJSON_Delete(cur);
		return 0;
	}
	rc = intent(t, "gateway-restore", "gateway", cur, before, &action, err, errlen);
	if (rc != 0) {
		cJSON_Delete(cur);
		return rc;
	}
	/* EXPECT = what was just journaled as the restore's before. */
	rc = appgw_restore(t->arm, &tg, before, cur, &wo, &ch, why, sizeof why);
	if (rc == 0) {
		rc = outcome(t, action, 0, ch.after, NULL, err, errlen);
		if (rc == 0) {
			*restored = 1;
			say(t, "gateway %s: restored: blue %d / green %d -> blue %d / green %d",
			    t->cfg->gateway.name, ch.was.blue.weight, ch.was.green.weight,
			    ch.now.blue.weight, ch.now.green.weight);
		}
	} else {
		label_failure(rc, why, sizeof why);
		if (read_gateway(t, &tg, &seen, NULL, e2, sizeof e2) != 0)
			seen = NULL;
		rc = outcome(t, action, rc, seen, why, err, errlen);
	}
	appgw_change_free(&ch);
	cJSON_Delete(cur);
	cJSON_Delete(seen);
	return rc;
}

static int
restore_dns(struct traffic *t, const cJSON *before, int *restored, char *err, size_t errlen)
{
	struct pdns_record rec, r2;
	struct pdns_change ch;
	cJSON *cur = NULL, *seen = NULL;
	char why[1024] = "", e2[300];
	uint64_t action = 0;
	int rc;

	rc = read_dns(t, &rec, &cur, why, sizeof why);
	if (rc != 0) {
		util_errf(err, errlen, "DNS record not restored: %s", why);
		return rc;
	}
	if (same_props(cur, before)) {
		say(t, "DNS %s %s: already as before the switch (%s)", rec.type, rec.name,
		    rec.ntargets > 0 ? rec.targets[0] : "-");
		cJSON_Delete(cur);
		return 0;
	}
	rc = intent(t, "dns-restore", "DNS record", cur, before, &action, err, errlen);
	if (rc != 0) {
		cJSON_Delete(cur);
		return rc;
	}
	rc = pdns_restore(t->arm, t->dns_id, before, rec.etag, t->arm_opts, &ch, why, sizeof why);
	if (rc == 0) {
		rc = outcome(t, action, 0, ch.after_json, NULL, err, errlen);
		if (rc == 0) {
			*restored = 1;
			say(t, "DNS %s %s: restored: %s -> %s", rec.type, rec.name,
			    rec.ntargets > 0 ? rec.targets[0] : "-",
			    ch.after.ntargets > 0 ? ch.after.targets[0] : "-");
		}
	} else {
		label_failure(rc, why, sizeof why);
		if (read_dns(t, &r2, &seen, e2, sizeof e2) != 0)
			seen = NULL;
		rc = outcome(t, action, rc, seen, why, err, errlen);
	}
	pdns_change_free(&ch);
	cJSON_Delete(cur);
	cJSON_Delete(seen);
	return rc;
}

int
traffic_rollback(struct traffic *t, struct traffic_rollback_result *res, char *err,
    size_t errlen)
{
	struct traffic_rollback_result dummy;
	struct journal_view v;
	char why[1024] = "", first[1024] = "";
	int rc = 0, one, gw_first;

	if (res == NULL)
		res = &dummy;
	memset(res, 0, sizeof *res);
	if (t == NULL || t->journal == NULL || t->cfg == NULL) {
		util_errf(err, errlen, "traffic_rollback: bad arguments");
		return TRAFFIC_E_INVALID;
	}
	memset(&v, 0, sizeof v);
	if (journal_view_load(journal_file(t->journal), &v, why, sizeof why) != 0) {
		util_errf(err, errlen, "rollback: cannot read the journal: %s", why);
		return TRAFFIC_E_JOURNAL;
	}
	for (size_t i = 0; i < v.npending; i++) {
		why[0] = '\0';
		if (reconcile(t, &v.pending[i], &res->reconciled, why, sizeof why) != 0) {
			util_errf(err, errlen, "rollback stopped, nothing restored: %s", why);
			rc = TRAFFIC_E_JOURNAL;
			goto done;
		}
	}
	/* Undo in the reverse order of the switch, so that the path the
	 * switch opened last is closed first. */
	gw_first = t->cfg->dns.when == CFG_DNS_BEFORE_GATEWAY;
	for (int k = 0; k < 2; k++) {
		int gw = (k == 0) == gw_first;
		const cJSON *before = gw ? v.gateway_before : v.dns_before;

		if (before == NULL || !(gw ? has_gateway(t) : has_dns(t)))
			continue;
		why[0] = '\0';
		one = gw ? restore_gateway(t, before, &res->gateway_restored, why, sizeof why)
		    : restore_dns(t, before, &res->dns_restored, why, sizeof why);
		if (one == 0)
			continue;
		if (rc == 0) {
			rc = one;
			snprintf(first, sizeof first, "%s", why);
		}
		/* Without the journal no further write may be made. */
		if (one == TRAFFIC_E_JOURNAL) {
			rc = one;
			snprintf(first, sizeof first, "%s", why);
			break;
		}
	}
	if (rc != 0)
		util_errf(err, errlen, "%s", first);
done:
	journal_view_free(&v);
	return rc;
}

int
traffic_reconcile(struct traffic *t, const struct journal_pending *pending, size_t n,
    int *closed, char *err, size_t errlen)
{
	int dummy = 0;

	if (closed == NULL)
		closed = &dummy;
	for (size_t i = 0; i < n; i++) {
		if (reconcile(t, &pending[i], closed, err, errlen) != 0)
			return TRAFFIC_E_JOURNAL;
	}
	return 0;
}

/* ---- observe ----------------------------------------------------------------------- */

int
traffic_observe(struct traffic *t, struct traffic_state *s, char *err, size_t errlen)
{
	struct appgw_target tg;
	cJSON *gw = NULL;
	int rc;

	if (t == NULL || s == NULL) {
		util_errf(err, errlen, "traffic_observe: bad arguments");
		return TRAFFIC_E_INVALID;
	}
	memset(s, 0, sizeof *s);
	if (has_gateway(t)) {
		gw_target(t, &tg);
		rc = appgw_get(t->arm, t->gateway_id, t->arm_opts, &gw, NULL, 0, err, errlen);
		if (rc == 0)
			rc = appgw_weights(gw, &tg, &s->weights, err, errlen);
		cJSON_Delete(gw);
		if (rc != 0)
			return rc;
		s->has_gateway = 1;
	}
	if (has_dns(t)) {
		rc = pdns_get(t->arm, t->dns_id, t->arm_opts, &s->dns, NULL, err, errlen);
		if (rc != 0)
			return rc;
		s->has_dns = 1;
		s->dns_points_to = pdns_points_to(&s->dns, t->cfg->dns.blue_target,
		    t->cfg->dns.green_target);
	}
	return 0;
}
