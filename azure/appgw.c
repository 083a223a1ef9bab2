/*
 * appgw.c — Application Gateway weights (view, change, undo) and backend
 * health.  The protocol of a change is described in appgw.h.
 *
 * Field names: Azure/azure-rest-api-specs, specification/network/
 * resource-manager/Microsoft.Network/Network/stable/2026-03-01/
 * applicationGateway.json:
 *   ApplicationGatewayPropertiesFormat.{requestRoutingRules,
 *     backendAddressPools, loadDistributionPolicies, urlPathMaps}
 *   ApplicationGatewayRequestRoutingRulePropertiesFormat.{ruleType,
 *     backendAddressPool, backendHttpSettings, urlPathMap,
 *     redirectConfiguration, loadDistributionPolicy} (all SubResource {id};
 *     the spec does not say whether backendAddressPool may accompany a
 *     loadDistributionPolicy, see appgw.h for why we never leave both)
 *   ApplicationGatewayLoadDistributionPolicy {name, id, properties:
 *     {loadDistributionTargets[], loadDistributionAlgorithm}}
 *   ApplicationGatewayLoadDistributionTargetPropertiesFormat
 *     .{weightPerServer: integer, minimum 1, maximum 100;
 *       backendAddressPool: SubResource}
 *   ApplicationGatewayPathRulePropertiesFormat.loadDistributionPolicy and
 *     ApplicationGatewayUrlPathMapPropertiesFormat
 *     .defaultLoadDistributionPolicy (other users of a policy)
 *   ApplicationGatewayBackendHealth.backendAddressPools[]
 *     .{backendAddressPool{id}, backendHttpSettingsCollection[]
 *     .{backendHttpSettings{id}, servers[].{address, health}}}
 *     (example ApplicationGatewayBackendHealthGet.json; note its ids spell
 *     "backendaddressPools": ids are compared case-insensitively, as ARM
 *     resource ids are).
 * The advanced-routing rule type (ruleType AdvancedRouting with an
 * advancedRoutingMap) appears in ApplicationGatewayCreate.json 2026-03-01.
 */
#include "azure/appgw.h"
#include "src/util.h"

#include "src/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MOD "appgw"
#define OUR_POLICY_PREFIX "ldp-bgswitch-"

static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *
jobj(const cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsObject(v) ? v : NULL;
}

static cJSON *
jarr(const cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsArray(v) ? v : NULL;
}

/* {"id": ...}.id of member KEY. */
static const char *
ref_id(const cJSON *o, const char *key)
{
	return jstr(jobj(o, key), "id");
}

static void
copy(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s != NULL ? s : "");
}

/* Last path segment of an ARM id. */
static const char *
last_segment(const char *id)
{
	const char *s;

	if (id == NULL)
		return "";
	s = strrchr(id, '/');
	return s != NULL ? s + 1 : id;
}

static int
ids_equal(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

/* The element of ARR whose "name" is NAME (case-insensitive, as ARM names
 * are); *INDEX its position (may be NULL). */
static cJSON *
find_named(const cJSON *arr, const char *name, int *index)
{
	const cJSON *e;
	int i = 0;

	if (name == NULL)
		return NULL;
	cJSON_ArrayForEach(e, arr) {
		const char *n = jstr(e, "name");

		if (n != NULL && strcasecmp(n, name) == 0) {
			if (index != NULL)
				*index = i;
			return (cJSON *)e;
		}
		i++;
	}
	return NULL;
}

/* "a, b, c" of the names in ARR, for messages. */
static void
list_names(const cJSON *arr, char *out, size_t n)
{
	const cJSON *e;
	size_t l = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(e, arr) {
		const char *nm = jstr(e, "name");

		if (nm == NULL || l + 1 >= n)
			continue;
		l += (size_t)snprintf(out + l, n - l, "%s%s", l ? ", " : "", nm);
		if (l >= n)
			l = n - 1;
	}
	if (out[0] == '\0')
		snprintf(out, n, "none");
}

int
appgw_validate_weights(int blue, int green, char *err, size_t errlen)
{
	if (blue < 0 || blue > 100 || green < 0 || green > 100) {
		util_errf(err, errlen, "gateway weights must be 0..100 (got blue %d, green %d)", blue, green);
		return APPGW_E_INVALID;
	}
	if (blue == 0 && green == 0) {
		util_errf(err, errlen, "gateway weights: at least one of blue and green must be above 0");
		return APPGW_E_INVALID;
	}
	return 0;
}

static int
target_ok(const struct appgw_target *t, char *err, size_t errlen)
{
	if (t == NULL || t->rule == NULL || *t->rule == '\0' || t->blue_pool == NULL
	    || *t->blue_pool == '\0' || t->green_pool == NULL || *t->green_pool == '\0') {
		util_errf(err, errlen, "gateway: rule, blue pool and green pool must be named");
		return 0;
	}
	if (strcasecmp(t->blue_pool, t->green_pool) == 0) {
		util_errf(err, errlen, "gateway: blue and green pool are the same pool \"%s\"", t->blue_pool);
		return 0;
	}
	return 1;
}

/* ---- the weights view ---------------------------------------------------------------- */

static const char *
gw_name(const cJSON *gw)
{
	const char *n = jstr(gw, "name");

	return n != NULL ? n : "?";
}

/* How many routing rules other than RULE, and path rules / path maps,
 * reference the policy POLICY_ID. */
static int
policy_users(const cJSON *props, const cJSON *rule, const char *policy_id)
{
	const cJSON *r, *m, *pr;
	int n = 0;

	cJSON_ArrayForEach(r, jarr(props, "requestRoutingRules"))
		if (r != rule && ids_equal(ref_id(jobj(r, "properties"), "loadDistributionPolicy"),
		    policy_id))
			n++;
	cJSON_ArrayForEach(m, jarr(props, "urlPathMaps")) {
		const cJSON *mp = jobj(m, "properties");

		if (ids_equal(ref_id(mp, "defaultLoadDistributionPolicy"), policy_id))
			n++;
		cJSON_ArrayForEach(pr, jarr(mp, "pathRules"))
			if (ids_equal(ref_id(jobj(pr, "properties"), "loadDistributionPolicy"), policy_id))
				n++;
	}
	return n;
}

/* Adds W to the pool with id PID in the view. */
static int
account(struct appgw_weights *w, const cJSON *pools, const char *pid, int weight,
    char *err, size_t errlen)
{
	struct appgw_pool_weight *pw = NULL;

	if (ids_equal(pid, w->blue.id))
		pw = &w->blue;
	else if (ids_equal(pid, w->green.id))
		pw = &w->green;
	else {
		const cJSON *p;
		const char *name = last_segment(pid);

		cJSON_ArrayForEach(p, pools)
			if (ids_equal(jstr(p, "id"), pid) && jstr(p, "name") != NULL)
				name = jstr(p, "name");
		for (int i = 0; i < w->nother; i++)
			if (ids_equal(w->other[i].id, pid))
				pw = &w->other[i];
		if (pw == NULL) {
			if (w->nother == APPGW_MAX_OTHER) {
				util_errf(err, errlen, "rule %s: more than %d other pools", w->rule,
				    APPGW_MAX_OTHER);
				return APPGW_E_UNSUPPORTED;
			}
			pw = &w->other[w->nother++];
			copy(pw->name, sizeof pw->name, name);
			copy(pw->id, sizeof pw->id, pid);
		}
	}
	pw->weight += weight;
	w->total += weight;
	return 0;
}

int
appgw_weights(const cJSON *gw, const struct appgw_target *t, struct appgw_weights *w,
    char *err, size_t errlen)
{
	const cJSON *props, *rules, *pools, *rule, *rp, *bp, *gp;
	const char *rtype, *pid, *policy_id;
	char names[400];
	int rc;

	if (w == NULL)
		return APPGW_E_INVALID;
	memset(w, 0, sizeof *w);
	if (!target_ok(t, err, errlen))
		return APPGW_E_INVALID;
	copy(w->rule, sizeof w->rule, t->rule);
	props = jobj(gw, "properties");
	if (props == NULL) {
		util_errf(err, errlen, "application gateway: the answer has no properties object");
		return APPGW_E_BODY;
	}
	rules = jarr(props, "requestRoutingRules");
	pools = jarr(props, "backendAddressPools");
	rule = find_named(rules, t->rule, NULL);
	if (rule == NULL) {
		list_names(rules, names, sizeof names);
		util_errf(err, errlen, "routing rule %s not found in gateway %s (rules: %s)", t->rule,
		    gw_name(gw), names);
		return APPGW_E_NOT_FOUND;
	}
	w->rule_found = 1;
	copy(w->rule, sizeof w->rule, jstr(rule, "name"));
	bp = find_named(pools, t->blue_pool, NULL);
	gp = find_named(pools, t->green_pool, NULL);
	if (bp == NULL || gp == NULL) {
		list_names(pools, names, sizeof names);
		if (bp == NULL && gp == NULL)
			util_errf(err, errlen, "backend pools %s and %s not found in gateway %s (pools: %s)",
			    t->blue_pool, t->green_pool, gw_name(gw), names);
		else
			util_errf(err, errlen, "backend pool %s not found in gateway %s (pools: %s)",
			    bp == NULL ? t->blue_pool : t->green_pool, gw_name(gw), names);
		return APPGW_E_NOT_FOUND;
	}
	copy(w->blue.name, sizeof w->blue.name, jstr(bp, "name"));
	copy(w->blue.id, sizeof w->blue.id, jstr(bp, "id"));
	copy(w->green.name, sizeof w->green.name, jstr(gp, "name"));
	copy(w->green.id, sizeof w->green.id, jstr(gp, "id"));
	if (w->blue.id[0] == '\0' || w->green.id[0] == '\0') {
		util_errf(err, errlen, "gateway %s: backend pools without an id", gw_name(gw));
		return APPGW_E_BODY;
	}
	rp = jobj(rule, "properties");
	if (rp == NULL) {
		util_errf(err, errlen, "routing rule %s has no properties", w->rule);
		return APPGW_E_BODY;
	}
	rtype = jstr(rp, "ruleType");
	copy(w->rule_type, sizeof w->rule_type, rtype);
	copy(w->settings_id, sizeof w->settings_id, ref_id(rp, "backendHttpSettings"));
	if (ref_id(rp, "urlPathMap") != NULL || (rtype != NULL
	    && strcasecmp(rtype, "PathBasedRouting") == 0)) {
		util_errf(err, errlen, "routing rule %s is path-based (urlPathMap %s): unsupported rule "
		    "type; bgswitch drives a Basic rule with one backend pool or a load distribution "
		    "policy", w->rule, last_segment(ref_id(rp, "urlPathMap")));
		return APPGW_E_UNSUPPORTED;
	}
	if (ref_id(rp, "advancedRoutingMap") != NULL || (rtype != NULL
	    && strcasecmp(rtype, "AdvancedRouting") == 0)) {
		util_errf(err, errlen, "routing rule %s uses advanced routing (advancedRoutingMap %s): "
		    "unsupported rule type", w->rule, last_segment(ref_id(rp, "advancedRoutingMap")));
		return APPGW_E_UNSUPPORTED;
	}
	if (ref_id(rp, "redirectConfiguration") != NULL) {
		util_errf(err, errlen, "routing rule %s redirects (redirectConfiguration %s): unsupported "
		    "rule type", w->rule, last_segment(ref_id(rp, "redirectConfiguration")));
		return APPGW_E_UNSUPPORTED;
	}
	policy_id = ref_id(rp, "loadDistributionPolicy");
	if (policy_id != NULL) {
		const cJSON *pol = NULL, *p, *tg;
		const char *pname = last_segment(policy_id);

		cJSON_ArrayForEach(p, jarr(props, "loadDistributionPolicies"))
			if (ids_equal(jstr(p, "id"), policy_id)
			    || (jstr(p, "id") == NULL && jstr(p, "name") != NULL
			    && strcasecmp(jstr(p, "name"), pname) == 0))
				pol = p;
		if (pol == NULL) {
			util_errf(err, errlen, "routing rule %s references load distribution policy %s, which "
			    "gateway %s does not have", w->rule, pname, gw_name(gw));
			return APPGW_E_NOT_FOUND;
		}
		copy(w->policy, sizeof w->policy, jstr(pol, "name") != NULL ? jstr(pol, "name") : pname);
		w->policy_shared = policy_users(props, rule, policy_id);
		cJSON_ArrayForEach(tg, jarr(jobj(pol, "properties"), "loadDistributionTargets")) {
			const cJSON *tp = jobj(tg, "properties");
			const cJSON *wps = cJSON_GetObjectItemCaseSensitive(tp, "weightPerServer");

			pid = ref_id(tp, "backendAddressPool");
			if (pid == NULL || !cJSON_IsNumber(wps) || wps->valuedouble < 0
			    || wps->valuedouble > 1000) {
				util_errf(err, errlen, "load distribution policy %s: target %s has no backend "
				    "pool or no valid weightPerServer", w->policy,
				    jstr(tg, "name") != NULL ? jstr(tg, "name") : "?");
				return APPGW_E_BODY;
			}
			if ((rc = account(w, pools, pid, wps->valueint, err, errlen)) != 0)
				return rc;
		}
	} else if ((pid = ref_id(rp, "backendAddressPool")) != NULL) {
		if ((rc = account(w, pools, pid, 100, err, errlen)) != 0)
			return rc;
	} else {
		util_errf(err, errlen, "routing rule %s has neither a backend pool nor a load distribution "
		    "policy: unsupported rule type", w->rule);
		return APPGW_E_UNSUPPORTED;
	}
	if (w->total > 0) {
		w->blue.share = 100.0 * w->blue.weight / w->total;
		w->green.share = 100.0 * w->green.weight / w->total;
		for (int i = 0; i < w->nother; i++)
			w->other[i].share = 100.0 * w->other[i].weight / w->total;
	}
	return 0;
}

/* Whether view W sends BLUE:GREEN (as relative weights) and nothing
 * elsewhere. */
static int
same_split(const struct appgw_weights *w, int blue, int green)
{
	for (int i = 0; i < w->nother; i++)
		if (w->other[i].weight != 0)
			return 0;
	return w->total > 0
	    && (long long)w->blue.weight * green == (long long)w->green.weight * blue;
}

/* ---- snapshots ------------------------------------------------------------------- */

cJSON *
appgw_snapshot(const cJSON *gw, const char *rule, char *err, size_t errlen)
{
	const cJSON *props = jobj(gw, "properties"), *r, *p, *pol = NULL;
	const char *pid;
	cJSON *s;

	r = find_named(jarr(props, "requestRoutingRules"), rule, NULL);
	if (r == NULL) {
		util_errf(err, errlen, "routing rule %s not found in gateway %s", rule != NULL ? rule : "?",
		    gw_name(gw));
		return NULL;
	}
	pid = ref_id(jobj(r, "properties"), "loadDistributionPolicy");
	if (pid != NULL)
		cJSON_ArrayForEach(p, jarr(props, "loadDistributionPolicies"))
			if (ids_equal(jstr(p, "id"), pid)
			    || (jstr(p, "id") == NULL && jstr(p, "name") != NULL
			    && strcasecmp(jstr(p, "name"), last_segment(pid)) == 0))
				pol = p;
	s = cJSON_CreateObject();
	if (s == NULL || !cJSON_AddItemToObject(s, "rule", cJSON_Duplicate(r, 1))
	    || !cJSON_AddItemToObject(s, "policy", pol != NULL ? cJSON_Duplicate(pol, 1)
	    : cJSON_CreateNull())
	    || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(s, "rule"))) {
		cJSON_Delete(s);
		util_errf(err, errlen, "out of memory");
		return NULL;
	}
	return s;
}

/* Drops, recursively, what changes on every update of the gateway without
 * changing the routing: every child resource's etag and
 * provisioningState, and type (all readOnly in the spec). */
static void
normalize(cJSON *o)
{
	cJSON *c;

	if (cJSON_IsObject(o)) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, "etag");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "provisioningState");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "type");
	}
	cJSON_ArrayForEach(c, o)
		normalize(c);
}

int
appgw_snapshot_equal(const cJSON *a, const cJSON *b)
{
	cJSON *x = cJSON_Duplicate(a, 1), *y = cJSON_Duplicate(b, 1);
	int eq;

	normalize(x);
	normalize(y);
	eq = x != NULL && y != NULL && cJSON_Compare(x, y, 1);
	cJSON_Delete(x);
	cJSON_Delete(y);
	return eq;
}

/* The weights view the snapshot SNAP would give with GW's pools: for
 * messages about what the journal expected. */
static int
snapshot_view(const cJSON *snap, const cJSON *gw, const struct appgw_target *t,
    struct appgw_weights *w)
{
	cJSON *fake = cJSON_CreateObject(), *props = cJSON_AddObjectToObject(fake, "properties");
	cJSON *rules = cJSON_AddArrayToObject(props, "requestRoutingRules");
	cJSON *pols = cJSON_AddArrayToObject(props, "loadDistributionPolicies");
	const cJSON *pool = jarr(jobj(gw, "properties"), "backendAddressPools");
	const cJSON *pol = cJSON_GetObjectItemCaseSensitive(snap, "policy");
	char e[64];
	int rc = -1;

	if (rules != NULL && pols != NULL
	    && cJSON_AddItemToArray(rules, cJSON_Duplicate(jobj(snap, "rule"), 1))
	    && (!cJSON_IsObject(pol) || cJSON_AddItemToArray(pols, cJSON_Duplicate(pol, 1)))
	    && cJSON_AddItemToObject(props, "backendAddressPools", cJSON_Duplicate(pool, 1)))
		rc = appgw_weights(fake, t, w, e, sizeof e);
	cJSON_Delete(fake);
	return rc;
}

static void
describe(const struct appgw_weights *w, char *out, size_t n)
{
	size_t l;

	l = (size_t)snprintf(out, n, "blue %d / green %d", w->blue.weight, w->green.weight);
	for (int i = 0; i < w->nother && l < n; i++)
		l += (size_t)snprintf(out + l, n - l, " / %s %d", w->other[i].name, w->other[i].weight);
	if (l < n)
		snprintf(out + l, n - l, "%s%s", w->policy[0] ? " via policy " : " (plain pool)",
		    w->policy);
}

/* ---- the modification -------------------------------------------------------------- */

static cJSON *
make_target(const char *name, const char *pool_id, int weight)
{
	cJSON *t = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(t, "properties");
	cJSON *bp = cJSON_AddObjectToObject(p, "backendAddressPool");

	if (cJSON_AddStringToObject(t, "name", name) == NULL
	    || cJSON_AddNumberToObject(p, "weightPerServer", weight) == NULL
	    || cJSON_AddStringToObject(bp, "id", pool_id) == NULL) {
		cJSON_Delete(t);
		return NULL;
	}
	return t;
}

/* Sets POOL's weight in TARGETS: updates the first target of that pool,
 * removes any further one, removes it when WEIGHT is 0, appends one when
 * missing. */
static int
set_target(cJSON *targets, const struct appgw_pool_weight *pool, int weight)
{
	cJSON *e = targets->child, *next;
	int done = 0;

	for (; e != NULL; e = next) {
		cJSON *tp = jobj(e, "properties");

		next = e->next;
		if (!ids_equal(ref_id(tp, "backendAddressPool"), pool->id))
			continue;
		if (done || weight == 0) {
			cJSON_Delete(cJSON_DetachItemViaPointer(targets, e));
			continue;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(tp, "weightPerServer");
		if (cJSON_AddNumberToObject(tp, "weightPerServer", weight) == NULL)
			return -1;
		done = 1;
	}
	if (!done && weight > 0) {
		char name[APPGW_NAME_MAX];

		/* Target names must be unique within the policy. */
		copy(name, sizeof name, pool->name);
		if (find_named(targets, name, NULL) != NULL)
			snprintf(name, sizeof name, "%.60s-bgswitch", pool->name);
		if (!cJSON_AddItemToArray(targets, make_target(name, pool->id, weight)))
			return -1;
	}
	return 0;
}

cJSON *
appgw_with_weights(const cJSON *gw, const struct appgw_target *t, int blue, int green, int *rcp,
    char *err, size_t errlen)
{
	struct appgw_weights w;
	cJSON *g = NULL, *props, *rule, *rp, *pols, *pol, *targets;
	char pname[APPGW_NAME_MAX], pid[700];
	const char *gid;
	int rc, dummy;

	if (rcp == NULL)
		rcp = &dummy;
	if ((rc = appgw_validate_weights(blue, green, err, errlen)) != 0
	    || (rc = appgw_weights(gw, t, &w, err, errlen)) != 0) {
		*rcp = rc;
		return NULL;
	}
	for (int i = 0; i < w.nother; i++)
		if (w.other[i].weight > 0) {
			util_errf(err, errlen, "routing rule %s also sends traffic to pool %s (weight %d%s%s); "
			    "bgswitch only moves traffic between %s and %s", w.rule, w.other[i].name,
			    w.other[i].weight, w.policy[0] ? ", policy " : "", w.policy, w.blue.name,
			    w.green.name);
			*rcp = APPGW_E_UNSUPPORTED;
			return NULL;
		}
	/* A policy other rules also use would move their traffic too, and
	 * the drift check only guards our rule: refuse rather than surprise. */
	if (w.policy_shared > 0) {
		util_errf(err, errlen, "load distribution policy %s of gateway %s is also used by %d other "
		    "rule(s) or path rule(s); changing it would move their traffic too. Give rule %s a "
		    "policy of its own first", w.policy, gw_name(gw), w.policy_shared, w.rule);
		*rcp = APPGW_E_UNSUPPORTED;
		return NULL;
	}
	g = cJSON_Duplicate(gw, 1);
	props = jobj(g, "properties");
	rule = find_named(jarr(props, "requestRoutingRules"), t->rule, NULL);
	rp = jobj(rule, "properties");
	if (rp == NULL)
		goto oom;
	if (w.policy[0] != '\0') {
		pol = find_named(jarr(props, "loadDistributionPolicies"), w.policy, NULL);
		if (pol == NULL)
			goto oom;
	} else {
		/* A plain-pool rule: our own policy, reused if a previous run
		 * left one behind. */
		snprintf(pname, sizeof pname, OUR_POLICY_PREFIX "%.67s", w.rule);
		gid = jstr(g, "id") != NULL ? jstr(g, "id") : t->gateway_id;
		if (gid == NULL) {
			util_errf(err, errlen, "gateway %s: no id to name the new policy with", gw_name(gw));
			cJSON_Delete(g);
			*rcp = APPGW_E_BODY;
			return NULL;
		}
		snprintf(pid, sizeof pid, "%s/loadDistributionPolicies/%s", gid, pname);
		pols = jarr(props, "loadDistributionPolicies");
		if (pols == NULL) {
			cJSON_DeleteItemFromObjectCaseSensitive(props, "loadDistributionPolicies");
			pols = cJSON_AddArrayToObject(props, "loadDistributionPolicies");
		}
		pol = find_named(pols, pname, NULL);
		if (pol == NULL) {
			pol = cJSON_CreateObject();
			if (!cJSON_AddItemToArray(pols, pol)
			    || cJSON_AddStringToObject(pol, "name", pname) == NULL
			    || cJSON_AddStringToObject(pol, "id", pid) == NULL)
				goto oom;
		} else if (jstr(pol, "id") != NULL) {
			copy(pid, sizeof pid, jstr(pol, "id"));
		}
		cJSON_DeleteItemFromObjectCaseSensitive(pol, "properties");
		if (cJSON_AddObjectToObject(pol, "properties") == NULL)
			goto oom;
		/* One unambiguous target: the policy replaces the pool. */
		cJSON_DeleteItemFromObjectCaseSensitive(rp, "backendAddressPool");
		cJSON_DeleteItemFromObjectCaseSensitive(rp, "loadDistributionPolicy");
		if (cJSON_AddStringToObject(cJSON_AddObjectToObject(rp, "loadDistributionPolicy"), "id",
		    pid) == NULL)
			goto oom;
	}
	if (jobj(pol, "properties") == NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(pol, "properties");
		if (cJSON_AddObjectToObject(pol, "properties") == NULL)
			goto oom;
	}
	targets = jarr(jobj(pol, "properties"), "loadDistributionTargets");
	if (targets == NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(jobj(pol, "properties"),
		    "loadDistributionTargets");
		targets = cJSON_AddArrayToObject(jobj(pol, "properties"), "loadDistributionTargets");
	}
	if (targets == NULL || set_target(targets, &w.blue, blue) != 0
	    || set_target(targets, &w.green, green) != 0)
		goto oom;
	*rcp = 0;
	return g;
oom:
	cJSON_Delete(g);
	util_errf(err, errlen, "out of memory (or a gateway body that changed under us)");
	*rcp = APPGW_E_BODY;
	return NULL;
}

/* The gateway with T's rule (and its policy) put back as in BEFORE. */
static cJSON *
with_snapshot(const cJSON *gw, const struct appgw_target *t, const cJSON *before,
    char *err, size_t errlen)
{
	cJSON *g = cJSON_Duplicate(gw, 1), *props = jobj(g, "properties"), *rules, *pols, *cur;
	const cJSON *brule = jobj(before, "rule"), *bpol = jobj(before, "policy");
	const char *cur_pid, *bpname = jstr(bpol, "name");
	int idx = -1;

	rules = jarr(props, "requestRoutingRules");
	cur = find_named(rules, t->rule, &idx);
	if (cur == NULL) {
		util_errf(err, errlen, "routing rule %s is no longer in gateway %s", t->rule, gw_name(gw));
		cJSON_Delete(g);
		return NULL;
	}
	cur_pid = ref_id(jobj(cur, "properties"), "loadDistributionPolicy");
	{
		char pname[APPGW_NAME_MAX];

		copy(pname, sizeof pname, last_segment(cur_pid));
		if (!cJSON_ReplaceItemInArray(rules, idx, cJSON_Duplicate(brule, 1)))
			goto oom;
		pols = jarr(props, "loadDistributionPolicies");
		if (bpol != NULL) {
			int pidx = -1;

			if (pols == NULL) {
				cJSON_DeleteItemFromObjectCaseSensitive(props, "loadDistributionPolicies");
				pols = cJSON_AddArrayToObject(props, "loadDistributionPolicies");
			}
			if (find_named(pols, bpname, &pidx) != NULL) {
				if (!cJSON_ReplaceItemInArray(pols, pidx, cJSON_Duplicate(bpol, 1)))
					goto oom;
			} else if (!cJSON_AddItemToArray(pols, cJSON_Duplicate(bpol, 1))) {
				goto oom;
			}
		}
		/* Remove the policy bgswitch created once nothing uses it. */
		if (pname[0] != '\0' && strncasecmp(pname, OUR_POLICY_PREFIX,
		    strlen(OUR_POLICY_PREFIX)) == 0 && (bpname == NULL || strcasecmp(bpname, pname) != 0)) {
			cJSON *ours = find_named(pols, pname, NULL);
			const cJSON *r;
			int used = 0;

			cJSON_ArrayForEach(r, rules)
				if (ids_equal(last_segment(ref_id(jobj(r, "properties"),
				    "loadDistributionPolicy")), pname))
					used = 1;
			if (ours != NULL && !used && policy_users(props, NULL, jstr(ours, "id")) == 0)
				cJSON_Delete(cJSON_DetachItemViaPointer(pols, ours));
		}
	}
	return g;
oom:
	cJSON_Delete(g);
	util_errf(err, errlen, "out of memory");
	return NULL;
}

/* ---- calls ------------------------------------------------------------------------- */

int
appgw_get(struct arm_client *c, const char *gateway_id, const struct arm_opts *opts,
    cJSON **body, char *etag, size_t etaglen, char *err, size_t errlen)
{
	struct arm_response r;
	cJSON *j;
	int rc;

	if (body != NULL)
		*body = NULL;
	if (etag != NULL && etaglen > 0)
		etag[0] = '\0';
	if (c == NULL || gateway_id == NULL || body == NULL) {
		util_errf(err, errlen, "appgw_get: bad arguments");
		return APPGW_E_INVALID;
	}
	rc = arm_get(c, gateway_id, opts, &r);
	if (rc != ARM_OK) {
		if (rc == ARM_E_STATUS && r.status == 404) {
			char label[200];

			arm_resource_label(gateway_id, label, sizeof label);
			util_errf(err, errlen, "%s not found (404%s%s)", label, r.error_code[0] ? " " : "",
			    r.error_code);
			rc = APPGW_E_NOT_FOUND;
		} else {
			util_errf(err, errlen, "%s", r.message);
		}
		arm_response_free(&r);
		return rc;
	}
	j = r.body_len > 0 ? cJSON_ParseWithLength(r.body, r.body_len) : NULL;
	if (!cJSON_IsObject(j) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "properties"))) {
		util_errf(err, errlen, "GET application gateway: the answer is not a gateway (%zu bytes)",
		    r.body_len);
		cJSON_Delete(j);
		arm_response_free(&r);
		return APPGW_E_BODY;
	}
	if (etag != NULL && etaglen > 0)
		copy(etag, etaglen, r.etag);
	arm_response_free(&r);
	*body = j;
	return 0;
}

void
appgw_change_free(struct appgw_change *ch)
{
	if (ch == NULL)
		return;
	cJSON_Delete(ch->before);
	cJSON_Delete(ch->after);
	ch->before = ch->after = NULL;
}

enum op { OP_WEIGHTS, OP_RESTORE };

/* The shared loop of appgw.h steps 2-5.
 *
 * The gateway is written back whole, as it was read, with only the rule
 * and its policy changed: a gateway PUT replaces the entire resource (its
 * rules, listeners, pools and certificates are all child arrays of one
 * body), so anything left out would be deleted.  Members the service fills
 * in (etag, provisioningState, resourceGuid, operationalState, each
 * child's etag and type) go back as read; they are readOnly in the spec
 * and carry no instruction.  Certificates' secrets are never in a GET and
 * stay as they are when absent from a PUT, which is how every GET-modify-
 * PUT client of this resource (Azure CLI, PowerShell Set-AzApplicationGateway)
 * works. */
static int
write_rule(struct arm_client *c, const struct appgw_target *t, enum op op, int blue, int green,
    const cJSON *before_wanted, const cJSON *expect, const struct appgw_write_opts *o,
    struct appgw_change *out, char *err, size_t errlen)
{
	const struct arm_opts *ao = o != NULL ? o->arm : NULL;
	int max = o != NULL && o->max_attempts > 0 ? o->max_attempts : 5;
	cJSON *baseline = NULL, *gw = NULL, *cur = NULL;
	char etag[256], e2[512];
	int rc = APPGW_E_CONFLICT;

	for (int attempt = 1; attempt <= max; attempt++) {
		const cJSON *ref = expect != NULL ? expect : baseline;
		cJSON *next;
		char *text;
		struct arm_response r;
		int same;

		out->attempts = attempt;
		rc = appgw_get(c, t->gateway_id, ao, &gw, etag, sizeof etag, err, errlen);
		if (rc != 0)
			goto done;
		cur = appgw_snapshot(gw, t->rule, err, errlen);
		if (cur == NULL) {
			rc = APPGW_E_NOT_FOUND;
			goto done;
		}
		/* Already at the target?  Asked before the drift check: when the
		 * answer to our own PUT was lost (a broken connection, a retried
		 * 412), the gateway shows our change, which differs from EXPECT
		 * but is exactly what was asked for, and must not be reported
		 * as "nothing written". */
		if (op == OP_WEIGHTS) {
			rc = appgw_weights(gw, t, &out->was, err, errlen);
			if (rc != 0)
				goto done;
			same = same_split(&out->was, blue, green);
		} else {
			(void)appgw_weights(gw, t, &out->was, e2, sizeof e2);
			same = appgw_snapshot_equal(cur, before_wanted);
		}
		if (same) {
			/* Changed by an earlier attempt of ours when the rule no
			 * longer matches what was expected; else already so (a
			 * resumed run, or a restore done before). */
			out->changed = ref != NULL && !appgw_snapshot_equal(cur, ref);
			out->before = out->changed ? cJSON_Duplicate(ref, 1) : cur;
			out->after = cJSON_Duplicate(cur, 1);
			out->now = out->was;
			if (out->changed)
				cJSON_Delete(cur);
			copy(out->etag, sizeof out->etag, etag);
			cur = NULL;
			rc = 0;
			goto done;
		}
		if (ref != NULL && !appgw_snapshot_equal(cur, ref)) {
			struct appgw_weights now, was;
			char a[200] = "?", b[200] = "?";

			if (appgw_weights(gw, t, &now, e2, sizeof e2) == 0)
				describe(&now, a, sizeof a);
			if (snapshot_view(ref, gw, t, &was) == 0)
				describe(&was, b, sizeof b);
			util_errf(err, errlen, "routing rule %s of gateway %s changed since it was %s: now %s, "
			    "expected %s; nothing written", t->rule, gw_name(gw),
			    expect != NULL ? "journaled" : "first read", a, b);
			rc = APPGW_E_DRIFT;
			goto done;
		}
		if (baseline == NULL && (baseline = cJSON_Duplicate(cur, 1)) == NULL) {
			util_errf(err, errlen, "out of memory");
			rc = APPGW_E_BODY;
			goto done;
		}
		if (etag[0] == '\0') {
			util_errf(err, errlen, "gateway %s: GET returned no ETag; refusing to write without "
			    "If-Match", gw_name(gw));
			rc = APPGW_E_BODY;
			goto done;
		}
		next = op == OP_WEIGHTS ? appgw_with_weights(gw, t, blue, green, &rc, err, errlen)
		    : with_snapshot(gw, t, before_wanted, err, errlen);
		if (next == NULL) {
			if (op == OP_RESTORE)
				rc = APPGW_E_NOT_FOUND;
			goto done;
		}
		text = cJSON_PrintUnformatted(next);
		cJSON_Delete(next);
		if (text == NULL) {
			util_errf(err, errlen, "out of memory");
			rc = APPGW_E_BODY;
			goto done;
		}
		rc = arm_put_if_match(c, t->gateway_id, text, etag, ao, &r);
		free(text);
		if (rc == ARM_E_PRECONDITION) {
			log_info(MOD, "gateway %s changed between read and write (412); reading it again "
			    "(attempt %d of %d)", gw_name(gw), attempt, max);
			util_errf(err, errlen, "%s", r.message);
			arm_response_free(&r);
			cJSON_Delete(gw);
			cJSON_Delete(cur);
			gw = cur = NULL;
			rc = APPGW_E_CONFLICT;
			continue;
		}
		if (rc != ARM_OK) {
			util_errf(err, errlen, "%s", r.message);
			arm_response_free(&r);
			goto done;
		}
		arm_response_free(&r);
		out->changed = 1;
		out->before = cur;
		cur = NULL;
		break;
	}
	if (rc == APPGW_E_CONFLICT) {
		char keep[400];

		copy(keep, sizeof keep, err);
		util_errf(err, errlen, "gateway %s kept changing under us: still 412 after %d attempts (%s)",
		    last_segment(t->gateway_id), max, keep);
		goto done;
	}
	/* Step 5: read back and verify. */
	cJSON_Delete(gw);
	gw = NULL;
	rc = appgw_get(c, t->gateway_id, ao, &gw, out->etag, sizeof out->etag, err, errlen);
	if (rc != 0) {
		char keep[400];

		copy(keep, sizeof keep, err);
		util_errf(err, errlen, "gateway %s was written but could not be read back: %s",
		    last_segment(t->gateway_id), keep);
		goto done;
	}
	out->after = appgw_snapshot(gw, t->rule, err, errlen);
	if (out->after == NULL) {
		rc = APPGW_E_VERIFY;
		goto done;
	}
	if (op == OP_WEIGHTS) {
		rc = appgw_weights(gw, t, &out->now, err, errlen);
		if (rc == 0 && !same_split(&out->now, blue, green)) {
			char a[200];

			describe(&out->now, a, sizeof a);
			util_errf(err, errlen, "gateway %s accepted blue %d / green %d for rule %s but now says "
			    "%s", gw_name(gw), blue, green, t->rule, a);
			rc = APPGW_E_VERIFY;
		} else if (rc != 0) {
			rc = APPGW_E_VERIFY;
		}
	} else {
		(void)appgw_weights(gw, t, &out->now, e2, sizeof e2);
		if (!appgw_snapshot_equal(out->after, before_wanted)) {
			util_errf(err, errlen, "gateway %s accepted the restore of rule %s but reads back "
			    "differently", gw_name(gw), t->rule);
			rc = APPGW_E_VERIFY;
		} else {
			rc = 0;
		}
	}
	if (rc == 0)
		log_info(MOD, "gateway %s rule %s: blue %d / green %d -> blue %d / green %d "
		    "(%d attempt%s)", gw_name(gw), t->rule, out->was.blue.weight, out->was.green.weight,
		    out->now.blue.weight, out->now.green.weight, out->attempts,
		    out->attempts == 1 ? "" : "s");
done:
	cJSON_Delete(baseline);
	cJSON_Delete(gw);
	cJSON_Delete(cur);
	return rc;
}

int
appgw_set_weights(struct arm_client *c, const struct appgw_target *t, int blue, int green,
    const cJSON *expect, const struct appgw_write_opts *o, struct appgw_change *out,
    char *err, size_t errlen)
{
	int rc;

	if (out == NULL)
		return APPGW_E_INVALID;
	memset(out, 0, sizeof *out);
	if (c == NULL || !target_ok(t, err, errlen) || t->gateway_id == NULL)
		return APPGW_E_INVALID;
	if ((rc = appgw_validate_weights(blue, green, err, errlen)) != 0)
		return rc;
	if (expect != NULL && !cJSON_IsObject(jobj(expect, "rule"))) {
		util_errf(err, errlen, "the expected gateway snapshot has no rule");
		return APPGW_E_INVALID;
	}
	return write_rule(c, t, OP_WEIGHTS, blue, green, NULL, expect, o, out, err, errlen);
}

int
appgw_restore(struct arm_client *c, const struct appgw_target *t, const cJSON *before,
    const cJSON *expect, const struct appgw_write_opts *o, struct appgw_change *out,
    char *err, size_t errlen)
{
	const cJSON *pol;

	if (out == NULL)
		return APPGW_E_INVALID;
	memset(out, 0, sizeof *out);
	if (c == NULL || !target_ok(t, err, errlen) || t->gateway_id == NULL)
		return APPGW_E_INVALID;
	pol = cJSON_GetObjectItemCaseSensitive(before, "policy");
	if (!cJSON_IsObject(jobj(before, "rule")) || jstr(jobj(before, "rule"), "name") == NULL
	    || strcasecmp(jstr(jobj(before, "rule"), "name"), t->rule) != 0
	    || !(pol == NULL || cJSON_IsNull(pol) || (cJSON_IsObject(pol) && jstr(pol, "name")))) {
		util_errf(err, errlen, "the saved gateway snapshot is not one of rule %s", t->rule);
		return APPGW_E_INVALID;
	}
	if (expect != NULL && !cJSON_IsObject(jobj(expect, "rule"))) {
		util_errf(err, errlen, "the expected gateway snapshot has no rule");
		return APPGW_E_INVALID;
	}
	return write_rule(c, t, OP_RESTORE, 0, 0, before, expect, o, out, err, errlen);
}

/* ---- backend health ---------------------------------------------------------------------- */

void
appgw_health_free(struct appgw_health *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->npools; i++)
		free(h->pools[i].servers);
	free(h->pools);
	h->pools = NULL;
	h->npools = 0;
}

/* Adds ADDRESS's HEALTH to P: one entry per address; an address is Up
 * only if it is Up in every settings entry it appears in. */
static int
add_server(struct appgw_pool_health *p, const char *address, const char *health)
{
	struct appgw_server *s;

	for (size_t i = 0; i < p->nservers; i++)
		if (strcmp(p->servers[i].address, address) == 0) {
			if (strcmp(p->servers[i].health, "Up") == 0 && strcmp(health, "Up") != 0)
				copy(p->servers[i].health, sizeof p->servers[i].health, health);
			return 0;
		}
	s = realloc(p->servers, (p->nservers + 1) * sizeof *s);
	if (s == NULL)
		return -1;
	p->servers = s;
	copy(s[p->nservers].address, sizeof s[0].address, address);
	copy(s[p->nservers].health, sizeof s[0].health, health);
	p->nservers++;
	return 0;
}

int
appgw_parse_health(const cJSON *body, const char *settings_id, struct appgw_health *h,
    char *err, size_t errlen)
{
	const cJSON *pools = jarr(body, "backendAddressPools"), *e;
	size_t n;

	if (h == NULL)
		return APPGW_E_INVALID;
	memset(h, 0, sizeof *h);
	if (pools == NULL) {
		util_errf(err, errlen, "backend health: the answer has no backendAddressPools array");
		return APPGW_E_BODY;
	}
	n = (size_t)cJSON_GetArraySize(pools);
	h->pools = n > 0 ? calloc(n, sizeof *h->pools) : NULL;
	if (n > 0 && h->pools == NULL) {
		util_errf(err, errlen, "out of memory");
		return APPGW_E_BODY;
	}
	cJSON_ArrayForEach(e, pools) {
		struct appgw_pool_health *p = &h->pools[h->npools];
		const cJSON *sets = jarr(e, "backendHttpSettingsCollection"), *s, *srv;
		const char *pid = ref_id(e, "backendAddressPool");
		int filter = 0;

		if (pid == NULL) {
			util_errf(err, errlen, "backend health: a pool entry has no backendAddressPool.id");
			appgw_health_free(h);
			return APPGW_E_BODY;
		}
		copy(p->id, sizeof p->id, pid);
		copy(p->name, sizeof p->name, last_segment(pid));
		h->npools++;
		if (settings_id != NULL && *settings_id != '\0')
			cJSON_ArrayForEach(s, sets)
				if (ids_equal(ref_id(s, "backendHttpSettings"), settings_id))
					filter = 1;
		cJSON_ArrayForEach(s, sets) {
			if (filter && !ids_equal(ref_id(s, "backendHttpSettings"), settings_id))
				continue;
			cJSON_ArrayForEach(srv, jarr(s, "servers")) {
				const char *addr = jstr(srv, "address"), *hl = jstr(srv, "health");

				if (addr == NULL)
					continue;
				if (add_server(p, addr, hl != NULL ? hl : "Unknown") != 0) {
					util_errf(err, errlen, "out of memory");
					appgw_health_free(h);
					return APPGW_E_BODY;
				}
			}
		}
		p->total = (int)p->nservers;
		for (size_t i = 0; i < p->nservers; i++)
			if (strcmp(p->servers[i].health, "Up") == 0)
				p->healthy++;
	}
	return 0;
}

int
appgw_backend_health(struct arm_client *c, const char *gateway_id, const char *settings_id,
    const struct arm_opts *opts, struct appgw_health *h, char *err, size_t errlen)
{
	struct arm_opts o = { 0 };
	struct arm_response r;
	char path[640];
	cJSON *j;
	int rc;

	if (h == NULL)
		return APPGW_E_INVALID;
	memset(h, 0, sizeof *h);
	if (c == NULL || gateway_id == NULL
	    || (size_t)snprintf(path, sizeof path, "%s/backendhealth", gateway_id) >= sizeof path) {
		util_errf(err, errlen, "backend health: bad arguments");
		return APPGW_E_INVALID;
	}
	if (opts != NULL)
		o = *opts;
	o.idempotent = 1;	/* a read: safe to repeat */
	rc = arm_post(c, path, NULL, &o, &r);
	if (rc != ARM_OK) {
		util_errf(err, errlen, "%s", r.message);
		arm_response_free(&r);
		return rc;
	}
	j = r.body_len > 0 ? cJSON_ParseWithLength(r.body, r.body_len) : NULL;
	arm_response_free(&r);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		util_errf(err, errlen, "backend health: the answer is not a JSON object");
		return APPGW_E_BODY;
	}
	rc = appgw_parse_health(j, settings_id, h, err, errlen);
	cJSON_Delete(j);
	return rc;
}

const struct appgw_pool_health *
appgw_health_pool(const struct appgw_health *h, const char *name)
{
	for (size_t i = 0; h != NULL && name != NULL && i < h->npools; i++)
		if (strcasecmp(h->pools[i].name, name) == 0)
			return &h->pools[i];
	return NULL;
}

/* ---- status --json ----------------------------------------------------------------------- */

static double
round1(double x)
{
	return (double)(long long)(x * 10.0 + (x >= 0 ? 0.5 : -0.5)) / 10.0;
}

static cJSON *
backend_json(const struct appgw_pool_health *p)
{
	cJSON *o = cJSON_CreateObject();

	if (cJSON_AddNumberToObject(o, "healthy", p != NULL ? p->healthy : 0) == NULL
	    || cJSON_AddNumberToObject(o, "total", p != NULL ? p->total : 0) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *
appgw_status_json(const char *gateway_name, const struct appgw_weights *w,
    const struct appgw_health *h)
{
	cJSON *o = cJSON_CreateObject(), *ws, *bs;

	if (o == NULL || w == NULL)
		return o;
	if (cJSON_AddStringToObject(o, "name", gateway_name != NULL ? gateway_name : "") == NULL
	    || cJSON_AddStringToObject(o, "rule", w->rule) == NULL
	    || (ws = cJSON_AddObjectToObject(o, "weights")) == NULL
	    /* Shares in percent: weights are relative, scripts compare with
	     * the config's steps, which are percentages. */
	    || cJSON_AddNumberToObject(ws, "blue", round1(w->blue.share)) == NULL
	    || cJSON_AddNumberToObject(ws, "green", round1(w->green.share)) == NULL)
		goto oom;
	if (h != NULL) {
		if ((bs = cJSON_AddObjectToObject(o, "backends")) == NULL
		    || !cJSON_AddItemToObject(bs, "blue", backend_json(appgw_health_pool(h,
		    w->blue.name)))
		    || !cJSON_AddItemToObject(bs, "green", backend_json(appgw_health_pool(h,
		    w->green.name))))
			goto oom;
	}
	return o;
oom:
	cJSON_Delete(o);
	return NULL;
}
