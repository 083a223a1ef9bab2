/*
 * sim_arm_appgw.c — Microsoft.Network/applicationGateways in the simulated
 * Resource Manager: get, list, create or update (with etags and If-Match),
 * and the backend health long-running action; the gateway's metrics are in
 * sim_arm_metrics.c.
 *
 * The world's gateway section describes one gateway in front of the
 * clusters: a listener, a probe, backend pools of cluster ingress addresses
 * and a live routing rule that sends traffic either to one pool or, through
 * a loadDistributionPolicy, to several pools by weight (share = weight / sum
 * of weights).  The resource is built like the real one
 * (specification/network/resource-manager/Microsoft.Network/Network/stable/
 * 2026-03-01/examples/ApplicationGatewayCreate.json for the body;
 * loadDistributionPolicies[].properties.{loadDistributionAlgorithm,
 * loadDistributionTargets[].properties.{backendAddressPool.id,
 * weightPerServer}} and requestRoutingRules[].properties.loadDistributionPolicy
 * from the ApplicationGatewayLoadDistributionPolicy definitions of
 * applicationGateway.json), and the Network provider's conventions: one weak
 * etag W/"uuid" stamped on the gateway and every child, child ids under the
 * gateway's id, a provisioningState on every child.
 *
 * A PUT is validated (types, weights 0..100 with one above 0, every
 * reference to a child of the gateway resolving inside the same body), runs
 * as an Updating operation for timings.gateway_update seconds, and takes
 * effect on the traffic when it completes.  Backend health (POST
 * .../backendhealth) is a long-running action whose result reports each
 * backend address as Up / Down / Unknown from what the Kubernetes side says
 * about that address (ApplicationGatewayBackendHealthGet.json shape).
 */
#include "sim/sim_arm.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GW_TYPE "Microsoft.Network/applicationGateways"
#define GW_NS "Microsoft.Network"
#define GW_MAX 8

struct gw {
	char name[128];
	cJSON *res;			/* what GET shows (the last accepted PUT) */
	cJSON *applied;			/* the configuration in effect */
	char op_id[40];
	double rps;			/* simulated client traffic */
	char live_rule[128];
};

static struct {
	struct gw *g[GW_MAX];
	int n;
	struct sim_arm_traffic traffic;	/* of the world's gateway (g[0]) */
	int has_traffic;
} W;

/* Child collections of a gateway.  Those the simulated world does not
 * configure are still listed, empty, as the provider does. */
static const char *const collections[] = {
	"gatewayIPConfigurations", "authenticationCertificates", "trustedRootCertificates",
	"trustedClientCertificates", "sslCertificates", "frontendIPConfigurations", "frontendPorts",
	"probes", "backendAddressPools", "backendHttpSettingsCollection", "backendSettingsCollection",
	"httpListeners", "listeners", "sslProfiles", "urlPathMaps", "requestRoutingRules",
	"routingRules", "rewriteRuleSets", "redirectConfigurations", "privateLinkConfigurations",
	"privateEndpointConnections", "loadDistributionPolicies", "advancedRoutingConditionSets",
	"advancedRoutingMaps", "entraJWTValidationConfigs",
};

/* ---- helpers ---------------------------------------------------------------------- */

static struct gw *
gw_find(const char *name)
{
	for (int i = 0; name != NULL && i < W.n; i++)
		if (strcasecmp(W.g[i]->name, name) == 0)
			return W.g[i];
	return NULL;
}

static void
gw_id(const char *name, char *buf, size_t n)
{
	char rg[300];

	sim_arm_rg_id(rg, sizeof rg);
	snprintf(buf, n, "%s/providers/%s/%s", rg, GW_TYPE, name);
}

static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Replaces KEY with V; V may point into the value being replaced. */
static void
set_str(cJSON *o, const char *key, const char *v)
{
	cJSON *n = cJSON_CreateString(v != NULL ? v : "");

	cJSON_DeleteItemFromObject(o, key);
	cJSON_AddItemToObject(o, key, n);
}

static cJSON *
ref(const char *id)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "id", id);
	return r;
}

/* The last segment of an id ("…/backendAddressPools/pool-blue" -> pool-blue). */
static const char *
last_seg(const char *id)
{
	const char *s = id != NULL ? strrchr(id, '/') : NULL;

	return s != NULL ? s + 1 : id;
}

static const cJSON *
child_by_name(const cJSON *props, const char *coll, const char *name)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItem(props, coll))
		if (sim_arm_ieq(str_of(it, "name"), name))
			return it;
	return NULL;
}

/* ---- normalizing a configuration ----------------------------------------------------- */

/* Moves KEYS (NULL-terminated) to the front of O, in that order, the way the
 * provider prints them (name, id, etag, type before properties). */
static void
to_front(cJSON *o, const char *const *keys)
{
	size_t n = 0;

	while (keys[n] != NULL)
		n++;
	while (n-- > 0) {
		cJSON *it = cJSON_DetachItemFromObjectCaseSensitive(o, keys[n]);
		if (it != NULL && !cJSON_InsertItemInArray(o, 0, it))
			cJSON_AddItemToObject(o, keys[n], it);
	}
}

static const char *const child_order[] = { "name", "id", "etag", "type", NULL };

/* Stamps id, etag, type and provisioningState on every child (and on the
 * targets inside load distribution policies), as the provider returns them. */
static void
stamp(cJSON *res, const char *gwid, const char *etag, const char *state)
{
	cJSON *p = cJSON_GetObjectItem(res, "properties");

	for (size_t i = 0; i < sizeof collections / sizeof collections[0]; i++) {
		cJSON *arr = cJSON_GetObjectItem(p, collections[i]), *it;
		char id[900], type[200];

		if (arr == NULL) {
			cJSON_AddArrayToObject(p, collections[i]);
			continue;
		}
		cJSON_ArrayForEach(it, arr) {
			cJSON *cp = cJSON_GetObjectItem(it, "properties"), *t;

			snprintf(id, sizeof id, "%s/%s/%s", gwid, collections[i], str_of(it, "name"));
			set_str(it, "id", id);
			set_str(it, "etag", etag);
			snprintf(type, sizeof type, "%s/%s", GW_TYPE, collections[i]);
			set_str(it, "type", type);
			if (!cJSON_IsObject(cp)) {
				cJSON_DeleteItemFromObject(it, "properties");
				cp = cJSON_AddObjectToObject(it, "properties");
			}
			if (strcmp(collections[i], "privateEndpointConnections") != 0)
				set_str(cp, "provisioningState", state);
			/* The provider defaults a frontend's allocation method. */
			if (strcmp(collections[i], "frontendIPConfigurations") == 0
			    && cJSON_GetObjectItem(cp, "privateIPAllocationMethod") == NULL)
				cJSON_AddStringToObject(cp, "privateIPAllocationMethod", "Dynamic");
			/* Nested sub-resources (urlPathMaps' pathRules, advanced
			 * routing maps' rules: items with a name and properties)
			 * get an id and a provisioningState of their own. */
			cJSON *sub;
			cJSON_ArrayForEach(sub, cp) {
				cJSON *n;
				if (!cJSON_IsArray(sub) || strcmp(sub->string, "loadDistributionTargets") == 0)
					continue;
				cJSON_ArrayForEach(n, sub) {
					cJSON *np = cJSON_GetObjectItem(n, "properties");
					char nid[1200];

					if (!cJSON_IsObject(n) || !cJSON_IsString(cJSON_GetObjectItem(n, "name"))
					    || !cJSON_IsObject(np))
						continue;
					snprintf(nid, sizeof nid, "%s/%s/%s", id, sub->string, str_of(n, "name"));
					set_str(n, "id", nid);
					set_str(np, "provisioningState", state);
					to_front(n, child_order);
				}
			}
			cJSON_ArrayForEach(t, cJSON_GetObjectItem(cp, "loadDistributionTargets")) {
				char tid[1200];
				snprintf(tid, sizeof tid, "%s/loadDistributionTargets/%s", id, str_of(t, "name"));
				set_str(t, "id", tid);
				set_str(t, "etag", etag);
				set_str(t, "type", GW_TYPE "/loadDistributionPolicies/loadDistributionTargets");
				to_front(t, child_order);
			}
			to_front(it, child_order);
		}
	}
	set_str(p, "provisioningState", state);
}

/* Turns an accepted body into the stored resource. */
static cJSON *
from_body(const cJSON *body, const char *name, const char *location, const char *guid)
{
	cJSON *r = cJSON_CreateObject(), *p, *it;
	char id[600], etag[64], u[40];
	static const char *const keep[] = { "tags", "zones", "identity" };
	static const char *const ro[] = { "provisioningState", "operationalState", "resourceGuid" };

	gw_id(name, id, sizeof id);
	sim_arm_weak_etag(etag, sizeof etag);
	cJSON_AddStringToObject(r, "name", name);
	cJSON_AddStringToObject(r, "id", id);
	cJSON_AddStringToObject(r, "etag", etag);
	cJSON_AddStringToObject(r, "type", GW_TYPE);
	cJSON_AddStringToObject(r, "location", location);
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
		if (cJSON_GetObjectItem(body, keep[i]) != NULL)
			cJSON_AddItemToObject(r, keep[i], cJSON_Duplicate(cJSON_GetObjectItem(body, keep[i]), 1));
	p = cJSON_Duplicate(cJSON_GetObjectItem(body, "properties"), 1);
	cJSON_AddItemToObject(r, "properties", p);
	for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
		cJSON_DeleteItemFromObject(p, ro[i]);
	if (guid == NULL) {
		sim_uuid(u);
		guid = u;
	}
	cJSON_AddStringToObject(p, "resourceGuid", guid);
	cJSON_AddStringToObject(p, "operationalState", "Running");
	/* Certificates' private parts are write-only: the provider returns
	 * the public certificate data instead. */
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(p, "sslCertificates")) {
		cJSON *cp = cJSON_GetObjectItem(it, "properties");
		if (!cJSON_IsObject(cp))
			continue;
		cJSON_DeleteItemFromObject(cp, "data");
		cJSON_DeleteItemFromObject(cp, "password");
		if (cJSON_GetObjectItem(cp, "publicCertData") == NULL && cJSON_GetObjectItem(cp, "keyVaultSecretId") == NULL)
			cJSON_AddStringToObject(cp, "publicCertData",
			    "MIIDLjCCAhagAwIBAgIQSimulatedPublicCertificateDataOnly0NotARealCertificate==");
	}
	stamp(r, id, etag, "Updating");
	{
		static const char *const top[] = { "name", "id", "etag", "type", "location", "tags", "zones", NULL };
		to_front(r, top);
	}
	return r;
}

/* ---- validation ---------------------------------------------------------------------- */

static void __attribute__((format(printf, 3, 4)))
bad_request(struct sim_arm_ctx *c, const char *code, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sim_arm_error(c->resp, 400, code, "%s", msg);
}

/* Does the child that REFID names (a direct child, or a target inside a
 * load distribution policy) exist in PROPS? */
static int
ref_resolves(const cJSON *props, const char *gwid, const char *refid)
{
	size_t gl = strlen(gwid);
	char buf[900], *seg[6], *save = NULL;
	int n = 0;
	const cJSON *child;

	if (strncasecmp(refid, gwid, gl) != 0 || refid[gl] != '/')
		return 1;	/* not a child of this gateway: not ours to check */
	snprintf(buf, sizeof buf, "%s", refid + gl + 1);
	for (char *p = strtok_r(buf, "/", &save); p != NULL && n < 6; p = strtok_r(NULL, "/", &save))
		seg[n++] = p;
	if (n != 2 && n != 4)
		return 0;
	for (size_t i = 0; i < sizeof collections / sizeof collections[0]; i++) {
		if (!sim_arm_ieq(collections[i], seg[0]))
			continue;
		child = child_by_name(props, collections[i], seg[1]);
		if (child == NULL)
			return 0;
		if (n == 2)
			return 1;
		return sim_arm_ieq(seg[2], "loadDistributionTargets")
		    && child_by_name(cJSON_GetObjectItem(child, "properties"), "loadDistributionTargets", seg[3]) != NULL;
	}
	return 0;
}

/* Walks NODE (inside the properties of child OWNER) for {"id": ...}
 * references and checks each; 0 with RESP filled on the first dangling one. */
static int
refs_ok(struct sim_arm_ctx *c, const cJSON *props, const char *gwid, const cJSON *node, const char *owner)
{
	const cJSON *it;

	if (cJSON_IsObject(node)) {
		const cJSON *id = cJSON_GetObjectItem(node, "id");
		if (cJSON_IsString(id) && !ref_resolves(props, gwid, id->valuestring)) {
			bad_request(c, "InvalidResourceReference",
			    "Resource %s referenced by resource %s was not found. Please make sure that the "
			    "referenced resource exists, and that both resources are in the same region.",
			    id->valuestring, owner);
			return 0;
		}
	}
	if (cJSON_IsObject(node) || cJSON_IsArray(node))
		cJSON_ArrayForEach(it, node)
			if (!refs_ok(c, props, gwid, it, owner))
				return 0;
	return 1;
}

static int
validate(struct sim_arm_ctx *c, const cJSON *body, const char *gwid, int creating)
{
	const cJSON *p = cJSON_GetObjectItem(body, "properties"), *v, *it, *sku;
	char path[300];

	if ((v = cJSON_GetObjectItem(body, "location")) != NULL && !cJSON_IsString(v)) {
		sim_arm_bad_type(c, "location", "System.String");
		return 0;
	}
	if (creating && v == NULL) {
		sim_arm_error(c->resp, 400, "LocationRequired", "The location property is required for this definition.");
		return 0;
	}
	if ((v = cJSON_GetObjectItem(body, "tags")) != NULL && !cJSON_IsObject(v)) {
		sim_arm_bad_type(c, "tags", "System.Collections.Generic.Dictionary`2[System.String,System.String]");
		return 0;
	}
	if (!cJSON_IsObject(p)) {
		if (p == NULL)
			bad_request(c, "InvalidRequestFormat", "Cannot parse the request. The properties of "
			    "the application gateway are missing.");
		else
			sim_arm_bad_type(c, "properties", "ApplicationGatewayPropertiesFormat");
		return 0;
	}
	sku = cJSON_GetObjectItem(p, "sku");
	if (sku != NULL) {
		const cJSON *cap = cJSON_GetObjectItem(sku, "capacity");
		if (!cJSON_IsObject(sku) || (cJSON_GetObjectItem(sku, "name") != NULL && !cJSON_IsString(cJSON_GetObjectItem(sku, "name")))
		    || (cJSON_GetObjectItem(sku, "tier") != NULL && !cJSON_IsString(cJSON_GetObjectItem(sku, "tier")))) {
			sim_arm_bad_type(c, "properties.sku", "ApplicationGatewaySku");
			return 0;
		}
		if (cap != NULL && (!cJSON_IsNumber(cap) || cap->valueint < 0 || cap->valueint > 125)) {
			bad_request(c, "InvalidRequestFormat",
			    "Cannot parse the request. properties.sku.capacity must be a whole number from 0 to 125.");
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof collections / sizeof collections[0]; i++) {
		const cJSON *arr = cJSON_GetObjectItem(p, collections[i]);
		int k = 0;

		if (arr == NULL)
			continue;
		if (!cJSON_IsArray(arr)) {
			snprintf(path, sizeof path, "properties.%s", collections[i]);
			sim_arm_bad_type(c, path, "System.Collections.Generic.List`1");
			return 0;
		}
		cJSON_ArrayForEach(it, arr) {
			const cJSON *nm = cJSON_GetObjectItem(it, "name"), *cp = cJSON_GetObjectItem(it, "properties");

			snprintf(path, sizeof path, "properties.%s[%d]", collections[i], k);
			if (!cJSON_IsObject(it) || !cJSON_IsString(nm) || nm->valuestring[0] == '\0'
			    || strchr(nm->valuestring, '/') != NULL) {
				if (!cJSON_IsObject(it))
					sim_arm_bad_type(c, path, "SubResource");
				else
					bad_request(c, "InvalidRequestFormat",
					    "Cannot parse the request. %s.name must be a non-empty string without '/'.", path);
				return 0;
			}
			if (cp != NULL && !cJSON_IsObject(cp)) {
				strncat(path, ".properties", sizeof path - strlen(path) - 1);
				sim_arm_bad_type(c, path, "PropertiesFormat");
				return 0;
			}
			for (const cJSON *o = arr->child; o != it; o = o->next) {
				if (sim_arm_ieq(str_of(o, "name"), nm->valuestring)) {
					bad_request(c, "DuplicateResourceName",
					    "Resource %s has two child resources with the same name (%s).", gwid,
					    nm->valuestring);
					return 0;
				}
			}
			k++;
		}
	}

	/* backend addresses */
	int pi = 0;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(p, "backendAddressPools")) {
		const cJSON *addrs = cJSON_GetObjectItem(cJSON_GetObjectItem(it, "properties"), "backendAddresses"), *a;
		int ai = 0;

		if (addrs != NULL && !cJSON_IsArray(addrs)) {
			snprintf(path, sizeof path, "properties.backendAddressPools[%d].properties.backendAddresses", pi);
			sim_arm_bad_type(c, path, "System.Collections.Generic.List`1[ApplicationGatewayBackendAddress]");
			return 0;
		}
		cJSON_ArrayForEach(a, addrs) {
			const cJSON *ip = cJSON_GetObjectItem(a, "ipAddress"), *fq = cJSON_GetObjectItem(a, "fqdn");
			if (!cJSON_IsObject(a) || (ip != NULL && !cJSON_IsString(ip)) || (fq != NULL && !cJSON_IsString(fq))
			    || (ip == NULL && fq == NULL)) {
				snprintf(path, sizeof path,
				    "properties.backendAddressPools[%d].properties.backendAddresses[%d]", pi, ai);
				sim_arm_bad_type(c, path, "ApplicationGatewayBackendAddress");
				return 0;
			}
			ai++;
		}
		pi++;
	}

	/* load distribution policies: weights 0..100, one above 0 */
	int li = 0;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(p, "loadDistributionPolicies")) {
		const cJSON *lp = cJSON_GetObjectItem(it, "properties"), *t;
		const cJSON *alg = cJSON_GetObjectItem(lp, "loadDistributionAlgorithm");
		const cJSON *targets = cJSON_GetObjectItem(lp, "loadDistributionTargets");
		int ti = 0, positive = 0;

		if (alg != NULL && (!cJSON_IsString(alg) || (!sim_arm_ieq(alg->valuestring, "RoundRobin")
		    && !sim_arm_ieq(alg->valuestring, "LeastConnections") && !sim_arm_ieq(alg->valuestring, "IpHash")))) {
			bad_request(c, "InvalidRequestFormat",
			    "Cannot parse the request. properties.loadDistributionPolicies[%d].properties."
			    "loadDistributionAlgorithm must be one of RoundRobin, LeastConnections, IpHash.", li);
			return 0;
		}
		if (!cJSON_IsArray(targets) || cJSON_GetArraySize(targets) == 0) {
			bad_request(c, "InvalidRequestFormat",
			    "Cannot parse the request. Load distribution policy %s/loadDistributionPolicies/%s must "
			    "have at least one loadDistributionTarget.", gwid, str_of(it, "name"));
			return 0;
		}
		cJSON_ArrayForEach(t, targets) {
			const cJSON *tp = cJSON_GetObjectItem(t, "properties");
			const cJSON *w = cJSON_GetObjectItem(tp, "weightPerServer");
			const cJSON *pool = cJSON_GetObjectItem(tp, "backendAddressPool");

			snprintf(path, sizeof path,
			    "properties.loadDistributionPolicies[%d].properties.loadDistributionTargets[%d]", li, ti);
			if (!cJSON_IsObject(t) || !cJSON_IsString(cJSON_GetObjectItem(t, "name")) || !cJSON_IsObject(tp)) {
				sim_arm_bad_type(c, path, "ApplicationGatewayLoadDistributionTarget");
				return 0;
			}
			if (!cJSON_IsObject(pool) || !cJSON_IsString(cJSON_GetObjectItem(pool, "id"))) {
				bad_request(c, "InvalidRequestFormat",
				    "Cannot parse the request. %s.properties.backendAddressPool.id is required.", path);
				return 0;
			}
			if (w != NULL && !cJSON_IsNumber(w)) {
				strncat(path, ".properties.weightPerServer", sizeof path - strlen(path) - 1);
				sim_arm_bad_type(c, path, "System.Int32");
				return 0;
			}
			if (w == NULL || w->valuedouble != (double)w->valueint || w->valueint < 0 || w->valueint > 100) {
				char got[32];
				if (w == NULL)
					snprintf(got, sizeof got, "nothing");
				else
					snprintf(got, sizeof got, "%g", w->valuedouble);
				bad_request(c, "InvalidRequestFormat",
				    "Cannot parse the request. %s.properties.weightPerServer must be a whole number "
				    "from 0 to 100, got %s.", path, got);
				return 0;
			}
			if (w->valueint > 0)
				positive++;
			ti++;
		}
		if (positive == 0) {
			bad_request(c, "InvalidRequestFormat",
			    "Cannot parse the request. Load distribution policy %s/loadDistributionPolicies/%s needs "
			    "at least one target with a weightPerServer above 0.", gwid, str_of(it, "name"));
			return 0;
		}
		li++;
	}

	/* routing rules: a backend (pool, policy, redirect, path map or
	 * advanced routing map), not both a pool and a policy */
	int ri = 0;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(p, "requestRoutingRules")) {
		const cJSON *rp = cJSON_GetObjectItem(it, "properties");
		int pool = cJSON_GetObjectItem(rp, "backendAddressPool") != NULL;
		int ldp = cJSON_GetObjectItem(rp, "loadDistributionPolicy") != NULL;
		int other = cJSON_GetObjectItem(rp, "redirectConfiguration") != NULL
		    || cJSON_GetObjectItem(rp, "urlPathMap") != NULL
		    || cJSON_GetObjectItem(rp, "advancedRoutingMap") != NULL;
		const cJSON *prio = cJSON_GetObjectItem(rp, "priority");

		if (prio != NULL && (!cJSON_IsNumber(prio) || prio->valueint < 1 || prio->valueint > 20000)) {
			bad_request(c, "InvalidRequestFormat",
			    "Cannot parse the request. properties.requestRoutingRules[%d].properties.priority must "
			    "be a whole number from 1 to 20000.", ri);
			return 0;
		}
		if (pool && ldp) {
			bad_request(c, "InvalidRequestFormat",
			    "Cannot parse the request. Request routing rule %s/requestRoutingRules/%s references "
			    "both a backendAddressPool and a loadDistributionPolicy; use one.", gwid, str_of(it, "name"));
			return 0;
		}
		if (!pool && !ldp && !other) {
			bad_request(c, "InvalidRequestFormat",
			    "Cannot parse the request. Request routing rule %s/requestRoutingRules/%s must "
			    "reference a backendAddressPool, a loadDistributionPolicy or a redirectConfiguration.",
			    gwid, str_of(it, "name"));
			return 0;
		}
		ri++;
	}

	/* every reference to a child of this gateway resolves */
	for (size_t i = 0; i < sizeof collections / sizeof collections[0]; i++) {
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(p, collections[i])) {
			char owner[900];
			snprintf(owner, sizeof owner, "%s/%s/%s", gwid, collections[i], str_of(it, "name"));
			if (!refs_ok(c, p, gwid, cJSON_GetObjectItem(it, "properties"), owner))
				return 0;
		}
	}
	return 1;
}

/* ---- the applied configuration -> traffic ------------------------------------------------- */

static void
traffic_update(void)
{
	struct gw *g = W.n > 0 ? W.g[0] : NULL;
	struct sim_arm_traffic *t = &W.traffic;
	const cJSON *p, *rule = NULL, *rp, *it;
	const char *settings = NULL;
	double sum = 0;

	memset(t, 0, sizeof *t);
	W.has_traffic = g != NULL && g->applied != NULL;
	if (!W.has_traffic)
		return;
	snprintf(t->gateway_id, sizeof t->gateway_id, "%s", str_of(g->applied, "id"));
	t->rps = g->rps;
	p = cJSON_GetObjectItem(g->applied, "properties");
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(p, "requestRoutingRules")) {
		if (rule == NULL || sim_arm_ieq(str_of(it, "name"), g->live_rule))
			rule = it;
		if (sim_arm_ieq(str_of(it, "name"), g->live_rule))
			break;
	}
	rp = cJSON_GetObjectItem(rule, "properties");
	settings = last_seg(str_of(cJSON_GetObjectItem(rp, "backendHttpSettings"), "id"));
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(p, "backendAddressPools")) {
		struct sim_arm_pool_state *ps;
		const cJSON *a;

		if (t->npools >= SIM_ARM_MAX_POOLS)
			break;
		ps = &t->pool[t->npools++];
		snprintf(ps->name, sizeof ps->name, "%s", str_of(it, "name"));
		snprintf(ps->settings, sizeof ps->settings, "%s", settings != NULL ? settings : "");
		cJSON_ArrayForEach(a, cJSON_GetObjectItem(cJSON_GetObjectItem(it, "properties"), "backendAddresses")) {
			const char *ip = str_of(a, "ipAddress") ? str_of(a, "ipAddress") : str_of(a, "fqdn");
			if (ip != NULL && ps->naddr < SIM_ARM_MAX_ADDRS)
				snprintf(ps->addr[ps->naddr++], sizeof ps->addr[0], "%s", ip);
		}
	}
	if (rp == NULL)
		return;
	if (cJSON_GetObjectItem(rp, "loadDistributionPolicy") != NULL) {
		const char *pid = str_of(cJSON_GetObjectItem(rp, "loadDistributionPolicy"), "id");
		const cJSON *pol = child_by_name(p, "loadDistributionPolicies", last_seg(pid)), *tg;

		cJSON_ArrayForEach(tg, cJSON_GetObjectItem(cJSON_GetObjectItem(pol, "properties"), "loadDistributionTargets")) {
			const cJSON *tp = cJSON_GetObjectItem(tg, "properties");
			const cJSON *w = cJSON_GetObjectItem(tp, "weightPerServer");
			const char *pool = last_seg(str_of(cJSON_GetObjectItem(tp, "backendAddressPool"), "id"));

			for (int i = 0; i < t->npools; i++) {
				if (sim_arm_ieq(t->pool[i].name, pool) && cJSON_IsNumber(w)) {
					t->pool[i].share += w->valuedouble;
					sum += w->valuedouble;
				}
			}
		}
		for (int i = 0; i < t->npools; i++)
			t->pool[i].share = sum > 0 ? t->pool[i].share / sum : 0;
	} else {
		const char *pool = last_seg(str_of(cJSON_GetObjectItem(rp, "backendAddressPool"), "id"));
		for (int i = 0; i < t->npools; i++)
			if (sim_arm_ieq(t->pool[i].name, pool))
				t->pool[i].share = 1;
	}
}

const struct sim_arm_traffic *
sim_arm_appgw_traffic(void)
{
	return W.has_traffic ? &W.traffic : NULL;
}

/* ---- operations ------------------------------------------------------------------------ */

static void
update_done(struct sim_arm_op *op)
{
	struct gw *g = gw_find(op->target);
	char etag[64];

	if (g == NULL || strcmp(g->op_id, op->id) != 0)
		return;
	g->op_id[0] = '\0';
	snprintf(etag, sizeof etag, "%s", str_of(g->res, "etag"));
	if (op->status != SIM_OP_SUCCEEDED) {
		stamp(g->res, str_of(g->res, "id"), etag, "Failed");
		return;
	}
	stamp(g->res, str_of(g->res, "id"), etag, "Succeeded");
	cJSON_Delete(g->applied);
	g->applied = cJSON_Duplicate(g->res, 1);
	traffic_update();
}

static const char *
health_word(const char *addr)
{
	switch (sim_kube_address_health(addr)) {
	case 1: return "Up";
	case 0: return "Down";
	default: return "Unknown";
	}
}

/* The backend health report of the applied configuration: for each pool,
 * the HTTP settings rules use it with, and each server's health. */
static cJSON *
backend_health(const struct gw *g)
{
	const cJSON *p = cJSON_GetObjectItem(g->applied, "properties"), *pool, *rule;
	cJSON *out = cJSON_CreateObject(), *pools = cJSON_AddArrayToObject(out, "backendAddressPools");

	cJSON_ArrayForEach(pool, cJSON_GetObjectItem(p, "backendAddressPools")) {
		cJSON *e = cJSON_CreateObject(), *bhs = NULL;
		const char *pid = str_of(pool, "id");
		char used[8][900];
		int nused = 0;

		cJSON_AddItemToObject(e, "backendAddressPool", ref(pid));
		/* settings a rule pairs with this pool, directly or by policy */
		cJSON_ArrayForEach(rule, cJSON_GetObjectItem(p, "requestRoutingRules")) {
			const cJSON *rp = cJSON_GetObjectItem(rule, "properties");
			const char *sid = str_of(cJSON_GetObjectItem(rp, "backendHttpSettings"), "id");
			int uses = sim_arm_ieq(str_of(cJSON_GetObjectItem(rp, "backendAddressPool"), "id"), pid);
			const cJSON *pol = child_by_name(p, "loadDistributionPolicies",
			    last_seg(str_of(cJSON_GetObjectItem(rp, "loadDistributionPolicy"), "id"))), *tg;

			cJSON_ArrayForEach(tg, cJSON_GetObjectItem(cJSON_GetObjectItem(pol, "properties"), "loadDistributionTargets"))
				if (sim_arm_ieq(str_of(cJSON_GetObjectItem(cJSON_GetObjectItem(tg, "properties"),
				    "backendAddressPool"), "id"), pid))
					uses = 1;
			if (!uses || sid == NULL || nused >= 8)
				continue;
			int dup = 0;
			for (int k = 0; k < nused; k++)
				dup |= sim_arm_ieq(used[k], sid);
			if (!dup)
				snprintf(used[nused++], sizeof used[0], "%s", sid);
		}
		/* A pool no rule uses yet (green before the switch) is still
		 * probed with the gateway's first settings, so its health shows. */
		if (nused == 0) {
			const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "backendHttpSettingsCollection"), 0);
			if (str_of(first, "id") != NULL)
				snprintf(used[nused++], sizeof used[0], "%s", str_of(first, "id"));
		}
		bhs = cJSON_AddArrayToObject(e, "backendHttpSettingsCollection");
		for (int k = 0; k < nused; k++) {
			cJSON *s = cJSON_CreateObject(), *servers, *a;

			cJSON_AddItemToObject(s, "backendHttpSettings", ref(used[k]));
			servers = cJSON_AddArrayToObject(s, "servers");
			cJSON_ArrayForEach(a, cJSON_GetObjectItem(cJSON_GetObjectItem(pool, "properties"), "backendAddresses")) {
				const char *addr = str_of(a, "ipAddress") ? str_of(a, "ipAddress") : str_of(a, "fqdn");
				const char *h = str_of(a, "ipAddress") ? health_word(addr) : "Unknown";
				cJSON *sv = cJSON_CreateObject();

				cJSON_AddStringToObject(sv, "address", addr != NULL ? addr : "");
				cJSON_AddStringToObject(sv, "health", h);
				if (strcmp(h, "Down") == 0)
					cJSON_AddStringToObject(sv, "healthProbeLog",
					    "Received invalid status code: 502 in the backend server's HTTP response. As "
					    "per the health probe configuration, 200-399 is the acceptable status code. "
					    "Either modify probe configuration or resolve backend issues.");
				else if (strcmp(h, "Unknown") == 0)
					cJSON_AddStringToObject(sv, "healthProbeLog",
					    "The backend health status could not be retrieved. No server answers at this "
					    "address yet.");
				cJSON_AddItemToArray(servers, sv);
			}
			cJSON_AddItemToArray(bhs, s);
		}
		cJSON_AddItemToArray(pools, e);
	}
	return out;
}

static void
health_done(struct sim_arm_op *op)
{
	struct gw *g = gw_find(op->target);

	if (g == NULL) {
		sim_arm_op_fail(op, SIM_OP_FAILED, "ResourceNotFound",
		    "The Resource '%s/%s' was not found.", GW_TYPE, op->target);
		return;
	}
	cJSON_Delete(op->body);
	op->body = backend_health(g);
}

/* ---- requests ---------------------------------------------------------------------------- */

static int
etag_conditions_ok(struct sim_arm_ctx *c, const struct gw *g)
{
	const char *im = sim_req_header(c->req, "If-Match"), *inm = sim_req_header(c->req, "If-None-Match");
	char want[128], have[128];

	if (inm != NULL && g != NULL && strcmp(inm, "*") == 0) {
		sim_arm_error(c->resp, 412, "PreconditionFailed",
		    "The resource %s already exists (If-None-Match: *).", str_of(g->res, "id"));
		return 0;
	}
	if (im == NULL || strcmp(im, "*") == 0) {
		if (im != NULL && g == NULL) {
			sim_arm_error(c->resp, 412, "PreconditionFailed",
			    "If-Match: * was given, but the application gateway does not exist.");
			return 0;
		}
		return 1;
	}
	/* W/"uuid" as printed; tolerate a value sent without the W/ quotes. */
	sim_arm_etag_norm(im, want, sizeof want);
	{
		const char *e = g != NULL ? str_of(g->res, "etag") : NULL;
		snprintf(have, sizeof have, "%s", e != NULL ? e : "");
	}
	if (g != NULL && (strcmp(im, have) == 0 || strcmp(want, have) == 0
	    || (strncmp(have, "W/\"", 3) == 0 && strlen(have) == strlen(want) + 4
	    && strncmp(have + 3, want, strlen(want)) == 0))) {
		return 1;
	}
	sim_arm_error(c->resp, 412, "PreconditionFailed",
	    "Precondition failed: the etag '%s' given in If-Match does not match the current etag '%s' of "
	    "resource %s.", im, g != NULL ? have : "(none)", g != NULL ? str_of(g->res, "id") : c->seg[0]);
	return 0;
}

static void
do_put(struct sim_arm_ctx *c, const char *name, struct gw *g)
{
	cJSON *body = sim_arm_body(c), *res;
	const cJSON *loc;
	char id[600];
	struct sim_arm_op *op, *prev;
	int creating = g == NULL;

	if (body == NULL)
		return;
	/* The gateway_concurrent_write fault: someone else's write (a tag
	 * set from the portal, say) lands between the client's GET and this
	 * PUT, so the client's If-Match is stale.  A client doing
	 * read-modify-write right keeps that tag. */
	if (g != NULL && sim_world.faults.gateway_concurrent_write > 0
	    && sim_req_header(c->req, "If-Match") != NULL) {
		cJSON *tags = cJSON_GetObjectItem(g->res, "tags");
		char etag[64], val[32];

		sim_world.faults.gateway_concurrent_write--;
		if (!cJSON_IsObject(tags)) {
			cJSON_DeleteItemFromObject(g->res, "tags");
			tags = cJSON_AddObjectToObject(g->res, "tags");
		}
		snprintf(val, sizeof val, "write-%d", sim_world.faults.gateway_concurrent_write + 1);
		cJSON_DeleteItemFromObject(tags, "concurrent-change");
		cJSON_AddStringToObject(tags, "concurrent-change", val);
		sim_arm_weak_etag(etag, sizeof etag);
		set_str(g->res, "etag", etag);
		stamp(g->res, str_of(g->res, "id"), etag, "Succeeded");
		cJSON_Delete(g->applied);
		g->applied = cJSON_Duplicate(g->res, 1);
	}
	if (!etag_conditions_ok(c, g)) {
		cJSON_Delete(body);
		return;
	}
	gw_id(g != NULL ? g->name : name, id, sizeof id);
	if (!validate(c, body, id, creating)) {
		cJSON_Delete(body);
		return;
	}
	loc = cJSON_GetObjectItem(body, "location");
	if (!creating && cJSON_IsString(loc) && !sim_arm_ieq(loc->valuestring, str_of(g->res, "location"))) {
		sim_arm_error(c->resp, 400, "InvalidResourceLocation",
		    "The resource '%s' already exists in location '%s' in resource group '%s'. A resource "
		    "with the same name cannot be created in location '%s'. Please select a new resource name.",
		    g->name, str_of(g->res, "location"), sim_world.resource_group, loc->valuestring);
		cJSON_Delete(body);
		return;
	}
	prev = g != NULL ? sim_arm_op_find(g->op_id) : NULL;
	if (prev != NULL && prev->status == SIM_OP_IN_PROGRESS) {
		char url[900];
		snprintf(url, sizeof url, "%s/subscriptions/%s/providers/%s/locations/%s/operations/%s?api-version=%s",
		    sim_world.base_url, sim_world.subscription, GW_NS, sim_world.location, prev->id,
		    prev->api_version);
		sim_arm_error(c->resp, 409, "AnotherOperationInProgress",
		    "Another operation on this or dependent resource is in progress. To retrieve status of "
		    "the operation use uri: %s.", url);
		cJSON_Delete(body);
		return;
	}
	if (creating && W.n >= GW_MAX) {
		sim_arm_error(c->resp, 400, "QuotaExceeded", "The simulator holds at most %d application gateways.", GW_MAX);
		cJSON_Delete(body);
		return;
	}
	res = from_body(body, g != NULL ? g->name : name,
	    g != NULL ? str_of(g->res, "location") : loc->valuestring,
	    g != NULL ? str_of(cJSON_GetObjectItem(g->res, "properties"), "resourceGuid") : NULL);
	cJSON_Delete(body);
	if (creating) {
		g = calloc(1, sizeof *g);
		if (g == NULL) {
			cJSON_Delete(res);
			sim_arm_error(c->resp, 500, "InternalServerError", "out of memory");
			return;
		}
		snprintf(g->name, sizeof g->name, "%s", name);
		W.g[W.n++] = g;
	} else {
		cJSON_Delete(g->res);
	}
	g->res = res;
	op = sim_arm_op_start(c, GW_NS, id, (int64_t)(sim_arm_timing("gateway_update", 30) * 1000),
	    SIM_OP_RESOURCE, update_done);
	if (op != NULL) {
		snprintf(op->target, sizeof op->target, "%s", g->name);
		snprintf(g->op_id, sizeof g->op_id, "%s", op->id);
	}
	c->changed = 1;
	sim_resp_json(c->resp, creating ? 201 : 200, g->res);
	sim_resp_header(c->resp, "ETag", "%s", str_of(g->res, "etag"));
	if (op != NULL)
		sim_arm_op_headers(op, c->resp, 1, 1);
}

void
sim_arm_appgw_handle(struct sim_arm_ctx *c)
{
	struct gw *g;

	if (c->nseg == 0) {
		cJSON *l, *v;

		if (strcmp(c->method, "GET") != 0) {
			sim_arm_bad_method(c);
			return;
		}
		l = cJSON_CreateObject();
		v = cJSON_AddArrayToObject(l, "value");
		for (int i = 0; i < W.n; i++)
			cJSON_AddItemToArray(v, cJSON_Duplicate(W.g[i]->res, 1));
		sim_resp_json_take(c->resp, 200, l);
		return;
	}
	g = gw_find(c->seg[0]);
	if (c->nseg == 1) {
		if (strcmp(c->method, "GET") == 0) {
			if (g == NULL) {
				sim_arm_not_found(c, GW_TYPE, c->seg[0]);
				return;
			}
			sim_resp_json(c->resp, 200, g->res);
			sim_resp_header(c->resp, "ETag", "%s", str_of(g->res, "etag"));
		} else if (strcmp(c->method, "PUT") == 0) {
			do_put(c, c->seg[0], g);
		} else {
			sim_arm_bad_method(c);
		}
		return;
	}
	if (g == NULL) {
		sim_arm_not_found(c, GW_TYPE, c->seg[0]);
		return;
	}
	if (c->nseg == 2 && sim_arm_ieq(c->seg[1], "backendhealth")) {
		struct sim_arm_op *op;

		if (strcmp(c->method, "POST") != 0) {
			sim_arm_bad_method(c);
			return;
		}
		op = sim_arm_op_start(c, GW_NS, str_of(g->res, "id"),
		    (int64_t)(sim_arm_timing("backend_health", 10) * 1000), SIM_OP_BODY, health_done);
		if (op == NULL) {
			sim_arm_error(c->resp, 500, "InternalServerError", "out of memory");
			return;
		}
		snprintf(op->target, sizeof op->target, "%s", g->name);
		sim_resp_body(c->resp, 202, "application/json; charset=utf-8", "", 0);
		sim_arm_op_headers(op, c->resp, 1, 1);
		c->changed = 1;
		return;
	}
	if (c->nseg == 4 && sim_arm_ieq(c->seg[1], "providers") && sim_arm_ieq(c->seg[2], "Microsoft.Insights")
	    && sim_arm_ieq(c->seg[3], "metrics")) {
		if (strcmp(c->method, "GET") != 0) {
			sim_arm_bad_method(c);
			return;
		}
		sim_arm_metrics_handle(c, str_of(g->res, "id"), str_of(g->res, "location"));
		return;
	}
	sim_arm_error(c->resp, 404, "NotFound",
	    "The requested path '%s' is not an operation of application gateways.", c->req->path);
}

/* ---- control: a change behind the client's back ------------------------------------------------ */

static void
ctl_text(struct sim_resp *resp, int status, const char *msg)
{
	char buf[600];

	snprintf(buf, sizeof buf, "%s\n", msg);
	sim_resp_body(resp, status, "text/plain; charset=utf-8", buf, strlen(buf));
}

/* Sets the weights of the live rule's policy in RES; 0, or -1 with ERR. */
static int
set_weights(struct gw *g, cJSON *res, const cJSON *weights, char *err, size_t errlen)
{
	cJSON *p = cJSON_GetObjectItem(res, "properties"), *rule = NULL, *it, *pol, *targets;
	const cJSON *w;
	char gid[600];

	cJSON_ArrayForEach(it, cJSON_GetObjectItem(p, "requestRoutingRules"))
		if (rule == NULL || sim_arm_ieq(str_of(it, "name"), g->live_rule))
			rule = it;
	pol = (cJSON *)child_by_name(p, "loadDistributionPolicies",
	    last_seg(str_of(cJSON_GetObjectItem(cJSON_GetObjectItem(rule, "properties"), "loadDistributionPolicy"), "id")));
	if (pol == NULL) {
		snprintf(err, errlen, "the live rule references no loadDistributionPolicy");
		return -1;
	}
	targets = cJSON_GetObjectItem(cJSON_GetObjectItem(pol, "properties"), "loadDistributionTargets");
	if (!cJSON_IsArray(targets)) {
		snprintf(err, errlen, "the live rule's policy has no loadDistributionTargets");
		return -1;
	}
	gw_id(g->name, gid, sizeof gid);
	cJSON_ArrayForEach(w, weights) {
		cJSON *t, *found = NULL;
		char pid[900];

		if (!cJSON_IsNumber(w) || w->valueint < 0 || w->valueint > 100) {
			snprintf(err, errlen, "weights.%s: expected 0 to 100", w->string);
			return -1;
		}
		if (child_by_name(p, "backendAddressPools", w->string) == NULL) {
			snprintf(err, errlen, "weights.%s: no such backend pool", w->string);
			return -1;
		}
		snprintf(pid, sizeof pid, "%s/backendAddressPools/%s", gid, w->string);
		cJSON_ArrayForEach(t, targets)
			if (sim_arm_ieq(last_seg(str_of(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "properties"),
			    "backendAddressPool"), "id")), w->string))
				found = t;
		if (found == NULL) {
			char tn[160];
			found = cJSON_CreateObject();
			snprintf(tn, sizeof tn, "target-%s", w->string);
			cJSON_AddStringToObject(found, "name", tn);
			cJSON *tp = cJSON_AddObjectToObject(found, "properties");
			cJSON_AddItemToObject(tp, "backendAddressPool", ref(pid));
			cJSON_AddItemToArray(targets, found);
		}
		cJSON *tp = cJSON_GetObjectItem(found, "properties");
		cJSON_DeleteItemFromObject(tp, "weightPerServer");
		cJSON_AddNumberToObject(tp, "weightPerServer", w->valueint);
	}
	{
		const cJSON *t;
		int positive = 0;

		cJSON_ArrayForEach(t, targets) {
			const cJSON *wp = cJSON_GetObjectItem(cJSON_GetObjectItem(t, "properties"), "weightPerServer");
			positive += cJSON_IsNumber(wp) && wp->valueint > 0;
		}
		if (positive == 0) {
			snprintf(err, errlen, "weights: at least one must be above 0");
			return -1;
		}
	}
	return 0;
}

int
sim_arm_appgw_ctl(struct sim_req *req, struct sim_resp *resp, const char *name, const char *action)
{
	struct gw *g = gw_find(name);
	cJSON *body = NULL, *out;
	const cJSON *weights = NULL;
	char etag[64], err[300];
	const char *state;

	if (strcmp(action, "bump-etag") != 0)
		return 0;
	if (strcmp(req->method, "POST") != 0) {
		ctl_text(resp, 405, "use POST");
		return 1;
	}
	if (g == NULL) {
		ctl_text(resp, 404, "no such application gateway");
		return 1;
	}
	if (req->body_len > 0) {
		body = cJSON_ParseWithLength(req->body, req->body_len);
		if (!cJSON_IsObject(body)) {
			cJSON_Delete(body);
			ctl_text(resp, 400, "bump-etag: body must be a JSON object, e.g. {\"weights\": {\"pool-blue\": 50}}");
			return 1;
		}
		weights = cJSON_GetObjectItemCaseSensitive(body, "weights");
		if (weights != NULL && !cJSON_IsObject(weights)) {
			cJSON_Delete(body);
			ctl_text(resp, 400, "bump-etag: weights must be an object of pool name -> 0..100");
			return 1;
		}
	}
	if (weights != NULL) {
		cJSON *copy = cJSON_Duplicate(g->res, 1);
		if (set_weights(g, copy, weights, err, sizeof err) != 0) {
			cJSON_Delete(copy);
			cJSON_Delete(body);
			ctl_text(resp, 400, err);
			return 1;
		}
		cJSON_Delete(g->res);
		g->res = copy;
	}
	sim_arm_weak_etag(etag, sizeof etag);
	set_str(g->res, "etag", etag);
	to_front(g->res, child_order);
	state = str_of(cJSON_GetObjectItem(g->res, "properties"), "provisioningState");
	{
		char st[32];
		snprintf(st, sizeof st, "%s", state != NULL ? state : "Succeeded");
		stamp(g->res, str_of(g->res, "id"), etag, st);
	}
	/* A change made elsewhere (portal, another tool) is in effect at once. */
	if (weights != NULL || sim_arm_op_find(g->op_id) == NULL
	    || sim_arm_op_find(g->op_id)->status != SIM_OP_IN_PROGRESS) {
		cJSON_Delete(g->applied);
		g->applied = cJSON_Duplicate(g->res, 1);
		traffic_update();
	}
	cJSON_Delete(body);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "etag", etag);
	sim_resp_json_take(resp, 200, out);
	return 1;
}

/* ---- the world's gateway ------------------------------------------------------------------ */

static void
gw_free(void)
{
	for (int i = 0; i < W.n; i++) {
		cJSON_Delete(W.g[i]->res);
		cJSON_Delete(W.g[i]->applied);
		free(W.g[i]);
	}
	memset(&W, 0, sizeof W);
}

static cJSON *
child(cJSON *arr, const char *name)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "name", name);
	cJSON_AddItemToArray(arr, c);
	return cJSON_AddObjectToObject(c, "properties");
}

struct wgw {
	const char *name, *sku, *frontend_ip, *listener, *hostname, *rule, *probe;
	int capacity;
	double rps;
	const cJSON *pools, *weights;
};

static int
wstr(const cJSON *gw, const char *key, const char **out, const char *dflt, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(gw, key);

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
		snprintf(err, errlen, "gateway.%s: expected a string", key);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

static int
world_read(const cJSON *gw, struct wgw *w, char *err, size_t errlen)
{
	static const char *const known[] = {
		"name", "sku", "capacity", "frontend_ip", "listener", "hostname", "rule", "probe",
		"requests_per_second", "pools", "weights",
	};
	const cJSON *it, *v;
	int i = 0;

	cJSON_ArrayForEach(it, gw) {
		size_t k;
		for (k = 0; k < sizeof known / sizeof known[0]; k++)
			if (strcmp(it->string, known[k]) == 0)
				break;
		if (k == sizeof known / sizeof known[0]) {
			snprintf(err, errlen, "gateway.%s: unknown key (known: name, sku, capacity, frontend_ip, "
			    "listener, hostname, rule, probe, requests_per_second, pools, weights)", it->string);
			return -1;
		}
	}
	if (cJSON_GetObjectItemCaseSensitive(gw, "name") == NULL) {
		snprintf(err, errlen, "gateway.name: missing (the application gateway's name)");
		return -1;
	}
	if (wstr(gw, "name", &w->name, NULL, err, errlen) || wstr(gw, "sku", &w->sku, "WAF_v2", err, errlen)
	    || wstr(gw, "frontend_ip", &w->frontend_ip, "10.0.0.10", err, errlen)
	    || wstr(gw, "listener", &w->listener, "listener-https", err, errlen)
	    || wstr(gw, "hostname", &w->hostname, "app.contoso.internal", err, errlen)
	    || wstr(gw, "rule", &w->rule, "rule-live", err, errlen)
	    || wstr(gw, "probe", &w->probe, "probe-healthz", err, errlen))
		return -1;
	if (strcmp(w->sku, "Standard_v2") != 0 && strcmp(w->sku, "WAF_v2") != 0) {
		snprintf(err, errlen, "gateway.sku: expected Standard_v2 or WAF_v2");
		return -1;
	}
	v = cJSON_GetObjectItemCaseSensitive(gw, "capacity");
	if (v != NULL && (!cJSON_IsNumber(v) || v->valueint < 1 || v->valueint > 125
	    || v->valuedouble != (double)v->valueint)) {
		snprintf(err, errlen, "gateway.capacity: expected a whole number, 1 to 125");
		return -1;
	}
	w->capacity = v != NULL ? v->valueint : 2;
	v = cJSON_GetObjectItemCaseSensitive(gw, "requests_per_second");
	if (v != NULL && (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e6)) {
		snprintf(err, errlen, "gateway.requests_per_second: expected a number, 0 to 1000000");
		return -1;
	}
	w->rps = v != NULL ? v->valuedouble : 100;
	w->pools = cJSON_GetObjectItemCaseSensitive(gw, "pools");
	if (!cJSON_IsArray(w->pools) || cJSON_GetArraySize(w->pools) == 0) {
		snprintf(err, errlen, "gateway.pools: expected a list of {name, addresses}");
		return -1;
	}
	if (cJSON_GetArraySize(w->pools) > SIM_ARM_MAX_POOLS) {
		snprintf(err, errlen, "gateway.pools: at most %d pools", SIM_ARM_MAX_POOLS);
		return -1;
	}
	cJSON_ArrayForEach(it, w->pools) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *ad = cJSON_GetObjectItemCaseSensitive(it, "addresses"), *a, *k;
		int j = 0;

		if (!cJSON_IsObject(it)) {
			snprintf(err, errlen, "gateway.pools[%d]: expected a mapping", i);
			return -1;
		}
		cJSON_ArrayForEach(k, it) {
			if (strcmp(k->string, "name") != 0 && strcmp(k->string, "addresses") != 0) {
				snprintf(err, errlen, "gateway.pools[%d].%s: unknown key (known: name, addresses)", i,
				    k->string);
				return -1;
			}
		}
		if (!cJSON_IsString(nm) || nm->valuestring[0] == '\0' || strchr(nm->valuestring, '/') != NULL) {
			snprintf(err, errlen, "gateway.pools[%d].name: expected a string", i);
			return -1;
		}
		for (const cJSON *o = w->pools->child; o != it; o = o->next) {
			if (sim_arm_ieq(cJSON_GetObjectItemCaseSensitive(o, "name")->valuestring, nm->valuestring)) {
				snprintf(err, errlen, "gateway.pools[%d].name: %s is listed twice", i, nm->valuestring);
				return -1;
			}
		}
		if (ad != NULL && !cJSON_IsArray(ad)) {
			snprintf(err, errlen, "gateway.pools[%d].addresses: expected a list of IP addresses", i);
			return -1;
		}
		if (cJSON_GetArraySize(ad) > SIM_ARM_MAX_ADDRS) {
			snprintf(err, errlen, "gateway.pools[%d].addresses: at most %d", i, SIM_ARM_MAX_ADDRS);
			return -1;
		}
		cJSON_ArrayForEach(a, ad) {
			if (!cJSON_IsString(a)) {
				snprintf(err, errlen, "gateway.pools[%d].addresses[%d]: expected a string", i, j);
				return -1;
			}
			j++;
		}
		i++;
	}
	w->weights = cJSON_GetObjectItemCaseSensitive(gw, "weights");
	if (w->weights != NULL) {
		int positive = 0;

		if (!cJSON_IsObject(w->weights)) {
			snprintf(err, errlen, "gateway.weights: expected a mapping of pool name to 0..100");
			return -1;
		}
		cJSON_ArrayForEach(it, w->weights) {
			const cJSON *p;
			int found = 0;

			if (!cJSON_IsNumber(it) || it->valueint < 0 || it->valueint > 100
			    || it->valuedouble != (double)it->valueint) {
				snprintf(err, errlen, "gateway.weights.%s: expected a whole number, 0 to 100", it->string);
				return -1;
			}
			cJSON_ArrayForEach(p, w->pools)
				found |= strcmp(cJSON_GetObjectItemCaseSensitive(p, "name")->valuestring, it->string) == 0;
			if (!found) {
				snprintf(err, errlen, "gateway.weights.%s: not one of gateway.pools", it->string);
				return -1;
			}
			positive += it->valueint > 0;
		}
		if (positive == 0) {
			snprintf(err, errlen, "gateway.weights: at least one weight must be above 0");
			return -1;
		}
	}
	return 0;
}

/* The create body such a gateway would have been made with. */
static cJSON *
world_body(const struct wgw *w)
{
	cJSON *b = cJSON_CreateObject(), *p, *arr, *cp, *sku, *gc, *waf, *sc, *zones, *probe_match;
	char gid[600], id[900], vnet[600], rg[300], certname[160];
	const cJSON *pool;

	gw_id(w->name, gid, sizeof gid);
	sim_arm_rg_id(rg, sizeof rg);
	snprintf(vnet, sizeof vnet, "%s/providers/Microsoft.Network/virtualNetworks/vnet-%s/subnets/snet-appgw",
	    rg, sim_world.resource_group);
	cJSON_AddStringToObject(b, "location", sim_world.location);
	cJSON_AddObjectToObject(b, "tags");
	zones = cJSON_AddArrayToObject(b, "zones");
	cJSON_AddItemToArray(zones, cJSON_CreateString("1"));
	cJSON_AddItemToArray(zones, cJSON_CreateString("2"));
	cJSON_AddItemToArray(zones, cJSON_CreateString("3"));
	p = cJSON_AddObjectToObject(b, "properties");
	sku = cJSON_AddObjectToObject(p, "sku");
	cJSON_AddStringToObject(sku, "name", w->sku);
	cJSON_AddStringToObject(sku, "tier", w->sku);
	cJSON_AddNumberToObject(sku, "capacity", w->capacity);

	arr = cJSON_AddArrayToObject(p, "gatewayIPConfigurations");
	cp = child(arr, "appGatewayIpConfig");
	cJSON_AddItemToObject(cp, "subnet", ref(vnet));

	arr = cJSON_AddArrayToObject(p, "sslCertificates");
	snprintf(certname, sizeof certname, "cert-%s", w->hostname);
	for (char *q = certname; *q != '\0'; q++)
		if (*q == '.')
			*q = '-';
	child(arr, certname);

	arr = cJSON_AddArrayToObject(p, "frontendIPConfigurations");
	cp = child(arr, "appGwPublicFrontendIp");
	cJSON_AddStringToObject(cp, "privateIPAllocationMethod", "Dynamic");
	snprintf(id, sizeof id, "%s/providers/Microsoft.Network/publicIPAddresses/pip-%s", rg, w->name);
	cJSON_AddItemToObject(cp, "publicIPAddress", ref(id));
	cp = child(arr, "appGwPrivateFrontendIp");
	cJSON_AddStringToObject(cp, "privateIPAddress", w->frontend_ip);
	cJSON_AddStringToObject(cp, "privateIPAllocationMethod", "Static");
	cJSON_AddItemToObject(cp, "subnet", ref(vnet));

	arr = cJSON_AddArrayToObject(p, "frontendPorts");
	cJSON_AddNumberToObject(child(arr, "port_443"), "port", 443);
	cJSON_AddNumberToObject(child(arr, "port_80"), "port", 80);

	arr = cJSON_AddArrayToObject(p, "probes");
	cp = child(arr, w->probe);
	cJSON_AddStringToObject(cp, "protocol", "Https");
	cJSON_AddStringToObject(cp, "host", w->hostname);
	cJSON_AddStringToObject(cp, "path", "/healthz");
	cJSON_AddNumberToObject(cp, "interval", 30);
	cJSON_AddNumberToObject(cp, "timeout", 30);
	cJSON_AddNumberToObject(cp, "unhealthyThreshold", 3);
	cJSON_AddBoolToObject(cp, "pickHostNameFromBackendHttpSettings", 0);
	cJSON_AddNumberToObject(cp, "minServers", 0);
	probe_match = cJSON_AddObjectToObject(cp, "match");
	cJSON_AddItemToObject(probe_match, "statusCodes", cJSON_CreateArray());
	cJSON_AddItemToArray(cJSON_GetObjectItem(probe_match, "statusCodes"), cJSON_CreateString("200-399"));

	arr = cJSON_AddArrayToObject(p, "backendAddressPools");
	cJSON_ArrayForEach(pool, w->pools) {
		cJSON *addrs;
		const cJSON *a;

		cp = child(arr, cJSON_GetObjectItemCaseSensitive(pool, "name")->valuestring);
		addrs = cJSON_AddArrayToObject(cp, "backendAddresses");
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(pool, "addresses")) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "ipAddress", a->valuestring);
			cJSON_AddItemToArray(addrs, e);
		}
	}

	arr = cJSON_AddArrayToObject(p, "backendHttpSettingsCollection");
	cp = child(arr, "settings-https");
	cJSON_AddNumberToObject(cp, "port", 443);
	cJSON_AddStringToObject(cp, "protocol", "Https");
	cJSON_AddStringToObject(cp, "cookieBasedAffinity", "Disabled");
	cJSON_AddNumberToObject(cp, "requestTimeout", 30);
	cJSON_AddStringToObject(cp, "hostName", w->hostname);
	cJSON_AddBoolToObject(cp, "pickHostNameFromBackendAddress", 0);
	snprintf(id, sizeof id, "%s/probes/%s", gid, w->probe);
	cJSON_AddItemToObject(cp, "probe", ref(id));

	arr = cJSON_AddArrayToObject(p, "httpListeners");
	cp = child(arr, w->listener);
	snprintf(id, sizeof id, "%s/frontendIPConfigurations/appGwPrivateFrontendIp", gid);
	cJSON_AddItemToObject(cp, "frontendIPConfiguration", ref(id));
	snprintf(id, sizeof id, "%s/frontendPorts/port_443", gid);
	cJSON_AddItemToObject(cp, "frontendPort", ref(id));
	cJSON_AddStringToObject(cp, "protocol", "Https");
	cJSON_AddStringToObject(cp, "hostName", w->hostname);
	cJSON_AddItemToObject(cp, "hostNames", cJSON_CreateArray());
	snprintf(id, sizeof id, "%s/sslCertificates/%s", gid, certname);
	cJSON_AddItemToObject(cp, "sslCertificate", ref(id));
	cJSON_AddBoolToObject(cp, "requireServerNameIndication", 0);

	if (w->weights != NULL) {
		cJSON *targets;
		const cJSON *wt;
		char pname[200];

		arr = cJSON_AddArrayToObject(p, "loadDistributionPolicies");
		snprintf(pname, sizeof pname, "ldp-%s", w->rule);
		cp = child(arr, pname);
		cJSON_AddStringToObject(cp, "loadDistributionAlgorithm", "RoundRobin");
		targets = cJSON_AddArrayToObject(cp, "loadDistributionTargets");
		cJSON_ArrayForEach(pool, w->pools) {
			const char *pn = cJSON_GetObjectItemCaseSensitive(pool, "name")->valuestring;
			char tn[200];
			cJSON *tp;

			wt = cJSON_GetObjectItemCaseSensitive(w->weights, pn);
			if (wt == NULL)
				continue;
			snprintf(tn, sizeof tn, "target-%s", pn);
			tp = child(targets, tn);
			snprintf(id, sizeof id, "%s/backendAddressPools/%s", gid, pn);
			cJSON_AddItemToObject(tp, "backendAddressPool", ref(id));
			cJSON_AddNumberToObject(tp, "weightPerServer", wt->valueint);
		}
	}

	arr = cJSON_AddArrayToObject(p, "requestRoutingRules");
	cp = child(arr, w->rule);
	cJSON_AddStringToObject(cp, "ruleType", "Basic");
	cJSON_AddNumberToObject(cp, "priority", 100);
	snprintf(id, sizeof id, "%s/httpListeners/%s", gid, w->listener);
	cJSON_AddItemToObject(cp, "httpListener", ref(id));
	snprintf(id, sizeof id, "%s/backendHttpSettingsCollection/settings-https", gid);
	cJSON_AddItemToObject(cp, "backendHttpSettings", ref(id));
	if (w->weights != NULL) {
		snprintf(id, sizeof id, "%s/loadDistributionPolicies/ldp-%s", gid, w->rule);
		cJSON_AddItemToObject(cp, "loadDistributionPolicy", ref(id));
	} else {
		snprintf(id, sizeof id, "%s/backendAddressPools/%s", gid,
		    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(w->pools, 0), "name")->valuestring);
		cJSON_AddItemToObject(cp, "backendAddressPool", ref(id));
	}

	gc = cJSON_AddObjectToObject(p, "globalConfiguration");
	cJSON_AddBoolToObject(gc, "enableRequestBuffering", 1);
	cJSON_AddBoolToObject(gc, "enableResponseBuffering", 1);
	cJSON_AddBoolToObject(p, "enableHttp2", 1);
	sc = cJSON_AddObjectToObject(p, "sslPolicy");
	cJSON_AddStringToObject(sc, "policyType", "Predefined");
	cJSON_AddStringToObject(sc, "policyName", "AppGwSslPolicy20220101");
	if (strcmp(w->sku, "WAF_v2") == 0) {
		waf = cJSON_AddObjectToObject(p, "webApplicationFirewallConfiguration");
		cJSON_AddBoolToObject(waf, "enabled", 1);
		cJSON_AddStringToObject(waf, "firewallMode", "Prevention");
		cJSON_AddStringToObject(waf, "ruleSetType", "OWASP");
		cJSON_AddStringToObject(waf, "ruleSetVersion", "3.2");
		cJSON_AddBoolToObject(waf, "requestBodyCheck", 1);
		cJSON_AddNumberToObject(waf, "maxRequestBodySizeInKb", 128);
		cJSON_AddNumberToObject(waf, "fileUploadLimitInMb", 100);
		cJSON_AddItemToObject(waf, "disabledRuleGroups", cJSON_CreateArray());
		cJSON_AddItemToObject(waf, "exclusions", cJSON_CreateArray());
	}
	return b;
}

int
sim_arm_appgw_load(const cJSON *world, char *err, size_t errlen)
{
	const cJSON *gw = cJSON_GetObjectItemCaseSensitive(world, "gateway");
	struct wgw w;
	struct gw *g;
	cJSON *body;
	char id[600];

	gw_free();
	if (gw == NULL || cJSON_IsNull(gw))
		return 0;
	if (!cJSON_IsObject(gw)) {
		snprintf(err, errlen, "gateway: expected a mapping");
		return -1;
	}
	memset(&w, 0, sizeof w);
	if (world_read(gw, &w, err, errlen) != 0)
		return -1;
	body = world_body(&w);
	g = calloc(1, sizeof *g);
	if (g == NULL) {
		cJSON_Delete(body);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(g->name, sizeof g->name, "%s", w.name);
	snprintf(g->live_rule, sizeof g->live_rule, "%s", w.rule);
	g->rps = w.rps;
	g->res = from_body(body, w.name, sim_world.location, NULL);
	cJSON_Delete(body);
	gw_id(w.name, id, sizeof id);
	stamp(g->res, id, str_of(g->res, "etag"), "Succeeded");
	g->applied = cJSON_Duplicate(g->res, 1);
	W.g[W.n++] = g;
	traffic_update();
	return 0;
}
