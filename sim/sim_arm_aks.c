/*
 * sim_arm_aks.c — Microsoft.ContainerService/managedClusters in the
 * simulated Resource Manager: get, list, create or update, delete, stop,
 * start, listClusterUserCredential (and Admin), agentPools and the default
 * upgrade profile.
 *
 * A cluster is kept as the JSON resource ARM would print, built the same way
 * for clusters the world file says exist and for clusters a client PUTs:
 * the client's body is validated, secrets are dropped, and the read-only
 * and defaulted fields AKS adds are filled in.  The field set follows the
 * ManagedClusters_CreateOrUpdate example (specification/containerservice/
 * resource-manager/Microsoft.ContainerService/aks/stable/2026-07-01/
 * examples/ManagedClustersCreate_Update.json); every field path of its 200
 * body is present in a world cluster, which tests/unit/test_sim_shapes.c
 * checks.  Credentials follow ManagedClustersListClusterUserCredentials.json,
 * agent pools AgentPoolsList.json, the upgrade profile
 * ManagedClustersGetUpgradeProfile.json.
 *
 * Changes are long-running operations (sim_arm.c): creating takes
 * timings.cluster_create simulated seconds, then the Kubernetes side gets
 * the cluster (sim_kube_cluster_add); deleting takes timings.cluster_delete,
 * then it is removed.  The fail_cluster_create fault makes the next create
 * end Failed.
 */
#include "sim/sim_arm.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AKS_TYPE "Microsoft.ContainerService/managedClusters"
#define AKS_NS "Microsoft.ContainerService"
#define AKS_MAX_POOLS 16
#define NODE_IMAGE "AKSUbuntu-2204gen2containerd-202410.15.0"

enum { OP_CREATE = 1, OP_UPDATE, OP_DELETE, OP_STOP, OP_START };

struct aks {
	char name[64];
	cJSON *res;			/* the resource as GET prints it */
	char op_id[40];			/* the operation in progress, "" when none */
	char target_version[32];	/* what an update moves currentKubernetesVersion to */
};

static struct {
	struct aks **c;
	int n;
} K;

/* Kubernetes versions this region offers (AKS rotates them; these are the
 * ones of late 2024 to 2025, enough for 1.29 -> 1.30 -> 1.31 upgrades). */
static const char *const k8s_versions[] = {
	"1.28.13", "1.28.15", "1.29.7", "1.29.9", "1.29.11", "1.30.3", "1.30.5", "1.30.7",
	"1.31.1", "1.31.3", "1.32.0", NULL,
};
#define K8S_DEFAULT "1.31.3"

static const char *const autoscaler_defaults[][2] = {
	{ "balance-similar-node-groups", "false" }, { "daemonset-eviction-for-empty-nodes", "false" },
	{ "daemonset-eviction-for-occupied-nodes", "true" }, { "expander", "random" },
	{ "ignore-daemonsets-utilization", "false" }, { "max-empty-bulk-delete", "10" },
	{ "max-graceful-termination-sec", "600" }, { "max-node-provision-time", "15m" },
	{ "max-total-unready-percentage", "45" }, { "new-pod-scale-up-delay", "0s" },
	{ "ok-total-unready-count", "3" }, { "scale-down-delay-after-add", "10m" },
	{ "scale-down-delay-after-delete", "10s" }, { "scale-down-delay-after-failure", "3m" },
	{ "scale-down-unneeded-time", "10m" }, { "scale-down-unready-time", "20m" },
	{ "scale-down-utilization-threshold", "0.5" }, { "scan-interval", "10s" },
	{ "skip-nodes-with-local-storage", "false" }, { "skip-nodes-with-system-pods", "true" },
};

/* ---- small helpers ---------------------------------------------------------------- */

static struct aks *
aks_find(const char *name)
{
	for (int i = 0; name != NULL && i < K.n; i++)
		if (strcasecmp(K.c[i]->name, name) == 0)
			return K.c[i];
	return NULL;
}

static void
aks_id(const char *name, char *buf, size_t n)
{
	char rg[300];

	sim_arm_rg_id(rg, sizeof rg);
	snprintf(buf, n, "%s/providers/%s/%s", rg, AKS_TYPE, name);
}

static cJSON *
obj(cJSON *parent, const char *key)
{
	cJSON *o = cJSON_GetObjectItem(parent, key);

	if (cJSON_IsObject(o))
		return o;
	cJSON_DeleteItemFromObject(parent, key);
	return cJSON_AddObjectToObject(parent, key);
}

/* Replaces KEY with V; V may point into the value being replaced. */
static void
set_str(cJSON *o, const char *key, const char *v)
{
	cJSON *n = cJSON_CreateString(v != NULL ? v : "");

	cJSON_DeleteItemFromObject(o, key);
	cJSON_AddItemToObject(o, key, n);
}

static void
set_num(cJSON *o, const char *key, double v)
{
	cJSON_DeleteItemFromObject(o, key);
	cJSON_AddNumberToObject(o, key, v);
}

static void
dflt_str(cJSON *o, const char *key, const char *v)
{
	if (cJSON_GetObjectItem(o, key) == NULL)
		cJSON_AddStringToObject(o, key, v);
}

static void
dflt_num(cJSON *o, const char *key, double v)
{
	if (cJSON_GetObjectItem(o, key) == NULL)
		cJSON_AddNumberToObject(o, key, v);
}

static void
dflt_bool(cJSON *o, const char *key, int v)
{
	if (cJSON_GetObjectItem(o, key) == NULL)
		cJSON_AddBoolToObject(o, key, v);
}

static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A stable pseudo-random hex tag derived from S (fqdn suffixes). */
static void
hash8(const char *s, char *buf)
{
	unsigned long h = 5381;

	for (; *s != '\0'; s++)
		h = h * 33 + (unsigned char)tolower((unsigned char)*s);
	snprintf(buf, 9, "%08lx", h & 0xffffffffUL);
}

static int
version_minor(const char *v)
{
	int maj, min;

	return sscanf(v, "%d.%d", &maj, &min) == 2 && maj == 1 ? min : -1;
}

/* The full version a requested one means ("1.30" is that minor's newest
 * patch, "" the default), or NULL when this region does not offer it. */
static const char *
version_resolve(const char *want, char *buf, size_t n)
{
	const char *best = NULL;
	int dots = 0, lo = 1000, hi = -1;

	if (want == NULL || *want == '\0') {
		snprintf(buf, n, "%s", K8S_DEFAULT);
		return buf;
	}
	for (const char *p = want; *p != '\0'; p++) {
		if (*p == '.')
			dots++;
		else if (!isdigit((unsigned char)*p))
			return NULL;
	}
	for (int i = 0; k8s_versions[i] != NULL; i++) {
		int m = version_minor(k8s_versions[i]);
		lo = m < lo ? m : lo;
		hi = m > hi ? m : hi;
		if (strcmp(k8s_versions[i], want) == 0) {
			snprintf(buf, n, "%s", want);
			return buf;
		}
		if (dots == 1 && m == version_minor(want))
			best = k8s_versions[i];
	}
	if (dots == 1 && best != NULL) {
		snprintf(buf, n, "%s", best);
		return buf;
	}
	/* A patch we do not list, of a minor we offer: accept it as given. */
	if (dots == 2 && version_minor(want) >= lo && version_minor(want) <= hi) {
		snprintf(buf, n, "%s", want);
		return buf;
	}
	return NULL;
}

/* ---- building the resource ------------------------------------------------------------ */

static void
set_states(cJSON *res, const char *prov, const char *power)
{
	cJSON *p = obj(res, "properties"), *pools = cJSON_GetObjectItem(p, "agentPoolProfiles"), *ap;

	if (prov != NULL)
		set_str(p, "provisioningState", prov);
	if (power != NULL)
		set_str(obj(p, "powerState"), "code", power);
	cJSON_ArrayForEach(ap, pools) {
		if (prov != NULL)
			set_str(ap, "provisioningState", prov);
		if (power != NULL)
			set_str(obj(ap, "powerState"), "code", power);
	}
}

/* Fills what AKS adds to a create-or-update body: ids, read-only state,
 * defaults; drops what it never echoes (secrets).  CURRENT is the running
 * version (currentKubernetesVersion), TARGET the requested one. */
static void
normalize(cJSON *res, const char *name, const char *target, const char *current,
    const char *prov, const char *power)
{
	cJSON *p = obj(res, "properties"), *np, *lbp, *eff, *ap, *sp, *wp, *id, *asp;
	char buf[700], rg[300], tag[9];
	const char *prefix;
	int i = 0;

	aks_id(name, buf, sizeof buf);
	set_str(res, "id", buf);
	set_str(res, "name", name);
	set_str(res, "type", AKS_TYPE);
	sim_arm_rg_id(rg, sizeof rg);

	/* identity: a user-assigned one gets its client and principal ids */
	id = cJSON_GetObjectItem(res, "identity");
	if (!cJSON_IsObject(id)) {
		id = obj(res, "identity");
		cJSON_AddStringToObject(id, "type", "SystemAssigned");
	}
	if (sim_arm_ieq(str_of(id, "type"), "UserAssigned")) {
		cJSON *uai = obj(id, "userAssignedIdentities"), *e;
		cJSON_ArrayForEach(e, uai) {
			char u[40];
			if (!cJSON_IsObject(e))
				continue;
			if (cJSON_GetObjectItem(e, "clientId") == NULL) {
				sim_uuid(u);
				cJSON_AddStringToObject(e, "clientId", u);
			}
			if (cJSON_GetObjectItem(e, "principalId") == NULL) {
				sim_uuid(u);
				cJSON_AddStringToObject(e, "principalId", u);
			}
		}
	} else if (sim_arm_ieq(str_of(id, "type"), "SystemAssigned")) {
		char u[40];
		if (cJSON_GetObjectItem(id, "principalId") == NULL) {
			sim_uuid(u);
			cJSON_AddStringToObject(id, "principalId", u);
		}
		dflt_str(id, "tenantId", sim_world.tenant);
	}
	if (!cJSON_IsObject(cJSON_GetObjectItem(res, "sku"))) {
		cJSON *sku = obj(res, "sku");
		cJSON_AddStringToObject(sku, "name", "Base");
		cJSON_AddStringToObject(sku, "tier", "Free");
	}

	set_str(p, "kubernetesVersion", target);
	set_str(p, "currentKubernetesVersion", current);
	prefix = str_of(p, "dnsPrefix");
	if (prefix == NULL || *prefix == '\0') {
		snprintf(buf, sizeof buf, "%s-%s-%.6s", name, sim_world.resource_group, sim_world.subscription);
		set_str(p, "dnsPrefix", buf);
		prefix = str_of(p, "dnsPrefix");
	}
	hash8(name, tag);
	snprintf(buf, sizeof buf, "%s-%s.hcp.%s.azmk8s.io", prefix, tag, sim_world.location);
	set_str(p, "fqdn", buf);
	snprintf(buf, sizeof buf, "%s-%s.portal.hcp.%s.azmk8s.io", prefix, tag, sim_world.location);
	set_str(p, "azurePortalFQDN", buf);
	dflt_bool(p, "enableRBAC", 1);
	set_num(p, "maxAgentPools", 100);
	snprintf(buf, sizeof buf, "MC_%s_%s_%s", sim_world.resource_group, name, sim_world.location);
	dflt_str(p, "nodeResourceGroup", buf);
	dflt_str(p, "supportPlan", "KubernetesOfficial");

	cJSON_ArrayForEach(ap, cJSON_GetObjectItem(p, "agentPoolProfiles")) {
		const char *ov = str_of(ap, "orchestratorVersion");
		dflt_str(ap, "type", "VirtualMachineScaleSets");
		dflt_str(ap, "mode", i == 0 ? "System" : "User");
		dflt_str(ap, "osType", "Linux");
		dflt_str(ap, "osSKU", "Ubuntu");
		dflt_num(ap, "maxPods", 110);
		dflt_num(ap, "osDiskSizeGB", 128);
		dflt_str(ap, "osDiskType", "Managed");
		dflt_str(ap, "kubeletDiskType", "OS");
		dflt_bool(ap, "enableNodePublicIP", 0);
		dflt_bool(ap, "enableAutoScaling", 0);
		dflt_bool(ap, "enableFIPS", 0);
		dflt_str(ap, "scaleDownMode", "Delete");
		char want[32];

		snprintf(want, sizeof want, "%s", ov != NULL && *ov != '\0' ? ov : target);
		set_str(ap, "orchestratorVersion", want);
		/* A new pool runs what it asked for; an existing one keeps running
		 * the current version until its update completes. */
		set_str(ap, "currentOrchestratorVersion", sim_arm_ieq(prov, "Creating") ? want : current);
		dflt_str(ap, "nodeImageVersion", NODE_IMAGE);
		/* The pool's own optimistic-concurrency tag; new on every change. */
		{
			char u[40];
			sim_uuid(u);
			set_str(ap, "eTag", u);
		}
		i++;
	}

	asp = obj(p, "autoScalerProfile");
	for (size_t k = 0; k < sizeof autoscaler_defaults / sizeof autoscaler_defaults[0]; k++)
		dflt_str(asp, autoscaler_defaults[k][0], autoscaler_defaults[k][1]);

	np = obj(p, "networkProfile");
	dflt_str(np, "networkPlugin", "azure");
	if (sim_arm_ieq(str_of(np, "networkPlugin"), "azure"))
		dflt_str(np, "networkPluginMode", "overlay");
	dflt_str(np, "podCidr", "10.244.0.0/16");
	dflt_str(np, "serviceCidr", "10.0.0.0/16");
	dflt_str(np, "dnsServiceIP", "10.0.0.10");
	dflt_str(np, "outboundType", "loadBalancer");
	dflt_str(np, "loadBalancerSku", "standard");
	if (cJSON_GetObjectItem(np, "podCidrs") == NULL) {
		cJSON *a = cJSON_AddArrayToObject(np, "podCidrs");
		cJSON_AddItemToArray(a, cJSON_CreateString(str_of(np, "podCidr")));
	}
	if (cJSON_GetObjectItem(np, "serviceCidrs") == NULL) {
		cJSON *a = cJSON_AddArrayToObject(np, "serviceCidrs");
		cJSON_AddItemToArray(a, cJSON_CreateString(str_of(np, "serviceCidr")));
	}
	if (cJSON_GetObjectItem(np, "ipFamilies") == NULL) {
		cJSON *a = cJSON_AddArrayToObject(np, "ipFamilies");
		cJSON_AddItemToArray(a, cJSON_CreateString("IPv4"));
	}
	lbp = obj(np, "loadBalancerProfile");
	if (!cJSON_IsObject(cJSON_GetObjectItem(lbp, "managedOutboundIPs")))
		cJSON_AddNumberToObject(obj(lbp, "managedOutboundIPs"), "count", 1);
	dflt_num(lbp, "allocatedOutboundPorts", 0);
	dflt_num(lbp, "idleTimeoutInMinutes", 30);
	if (cJSON_GetObjectItem(lbp, "effectiveOutboundIPs") == NULL) {
		const cJSON *cnt = cJSON_GetObjectItem(cJSON_GetObjectItem(lbp, "managedOutboundIPs"), "count");
		int nip = cJSON_IsNumber(cnt) && cnt->valueint > 0 && cnt->valueint <= 16 ? cnt->valueint : 1;
		eff = cJSON_AddArrayToObject(lbp, "effectiveOutboundIPs");
		for (int k = 0; k < nip; k++) {
			cJSON *e = cJSON_CreateObject();
			char u[40];
			sim_uuid(u);
			snprintf(buf, sizeof buf,
			    "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/publicIPAddresses/%s",
			    sim_world.subscription, str_of(p, "nodeResourceGroup"), u);
			cJSON_AddStringToObject(e, "id", buf);
			cJSON_AddItemToArray(eff, e);
		}
	}

	/* Credentials are write-only: AKS never echoes them. */
	sp = obj(p, "servicePrincipalProfile");
	cJSON_DeleteItemFromObject(sp, "secret");
	dflt_str(sp, "clientId", "msi");
	wp = obj(p, "windowsProfile");
	cJSON_DeleteItemFromObject(wp, "adminPassword");
	dflt_str(wp, "adminUsername", "azureuser");
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(p, "aadProfile"), "serverAppSecret");

	set_states(res, prov, power);

	/* ARM prints id, name, type first; keep the rest in their order. */
	static const char *const first[] = { "id", "name", "type", "location", "tags", "identity", "sku" };
	for (size_t k = sizeof first / sizeof first[0]; k-- > 0;) {
		cJSON *it = cJSON_DetachItemFromObject(res, first[k]);
		if (it != NULL && !cJSON_InsertItemInArray(res, 0, it))
			cJSON_AddItemToObject(res, first[k], it);
	}
}

/* Checks a create-or-update body the way AKS would; 1 when good, else RESP
 * holds the refusal. */
static int
validate(struct sim_arm_ctx *c, const cJSON *body, int creating, char *target, size_t tlen)
{
	const cJSON *p = cJSON_GetObjectItem(body, "properties"), *v, *pools, *ap, *t;
	char path[128], seen[AKS_MAX_POOLS][16];
	int i = 0, system = 0;

	if ((v = cJSON_GetObjectItem(body, "location")) != NULL && !cJSON_IsString(v)) {
		sim_arm_bad_type(c, "location", "System.String");
		return 0;
	}
	if (creating && v == NULL) {
		sim_arm_error(c->resp, 400, "LocationRequired", "The location property is required for this definition.");
		return 0;
	}
	if ((t = cJSON_GetObjectItem(body, "tags")) != NULL) {
		if (!cJSON_IsObject(t)) {
			sim_arm_bad_type(c, "tags", "System.Collections.Generic.Dictionary`2[System.String,System.String]");
			return 0;
		}
		cJSON_ArrayForEach(v, t) {
			if (!cJSON_IsString(v)) {
				snprintf(path, sizeof path, "tags.%s", v->string);
				sim_arm_bad_type(c, path, "System.String");
				return 0;
			}
		}
	}
	if ((v = cJSON_GetObjectItem(body, "identity")) != NULL
	    && (!cJSON_IsObject(v) || !cJSON_IsString(cJSON_GetObjectItem(v, "type")))) {
		sim_arm_bad_type(c, "identity", "ManagedClusterIdentity");
		return 0;
	}
	if (p == NULL) {
		sim_arm_error(c->resp, 400, "InvalidParameter",
		    "Required parameter properties is missing (null).");
		return 0;
	}
	if (!cJSON_IsObject(p)) {
		sim_arm_bad_type(c, "properties", "ManagedClusterProperties");
		return 0;
	}
	if ((v = cJSON_GetObjectItem(p, "kubernetesVersion")) != NULL && !cJSON_IsString(v)) {
		sim_arm_bad_type(c, "properties.kubernetesVersion", "System.String");
		return 0;
	}
	if (version_resolve(cJSON_IsString(v) ? v->valuestring : NULL, target, tlen) == NULL) {
		sim_arm_error(c->resp, 400, "K8sVersionNotSupported",
		    "Version %s is not supported in this region. Please use [az aks get-versions] command "
		    "to get the supported version list in this region. For more information, please check "
		    "https://aka.ms/supported-version-list", v->valuestring);
		return 0;
	}
	if ((v = cJSON_GetObjectItem(p, "dnsPrefix")) != NULL && !cJSON_IsString(v)) {
		sim_arm_bad_type(c, "properties.dnsPrefix", "System.String");
		return 0;
	}
	if ((v = cJSON_GetObjectItem(p, "enableRBAC")) != NULL && !cJSON_IsBool(v)) {
		sim_arm_bad_type(c, "properties.enableRBAC", "System.Boolean");
		return 0;
	}
	static const char *const objs[] = {
		"networkProfile", "linuxProfile", "windowsProfile", "servicePrincipalProfile",
		"autoScalerProfile", "addonProfiles", "aadProfile", "upgradeSettings",
	};
	for (size_t k = 0; k < sizeof objs / sizeof objs[0]; k++) {
		if ((v = cJSON_GetObjectItem(p, objs[k])) != NULL && !cJSON_IsObject(v)) {
			snprintf(path, sizeof path, "properties.%s", objs[k]);
			sim_arm_bad_type(c, path, "System.Object");
			return 0;
		}
	}
	pools = cJSON_GetObjectItem(p, "agentPoolProfiles");
	if (pools == NULL || (cJSON_IsArray(pools) && cJSON_GetArraySize(pools) == 0)) {
		sim_arm_error(c->resp, 400, "InvalidParameter",
		    "Required parameter agentPoolProfiles is missing (null).");
		return 0;
	}
	if (!cJSON_IsArray(pools)) {
		sim_arm_bad_type(c, "properties.agentPoolProfiles",
		    "System.Collections.Generic.List`1[ManagedClusterAgentPoolProfile]");
		return 0;
	}
	if (cJSON_GetArraySize(pools) > AKS_MAX_POOLS) {
		sim_arm_error(c->resp, 400, "InvalidParameter",
		    "The number of agent pools exceeds the maximum of %d.", AKS_MAX_POOLS);
		return 0;
	}
	cJSON_ArrayForEach(ap, pools) {
		const cJSON *nm = cJSON_GetObjectItem(ap, "name"), *cnt = cJSON_GetObjectItem(ap, "count");
		const cJSON *vm = cJSON_GetObjectItem(ap, "vmSize"), *mode = cJSON_GetObjectItem(ap, "mode");
		const cJSON *ov = cJSON_GetObjectItem(ap, "orchestratorVersion");
		char tmp[32];

		if (!cJSON_IsObject(ap)) {
			snprintf(path, sizeof path, "properties.agentPoolProfiles[%d]", i);
			sim_arm_bad_type(c, path, "ManagedClusterAgentPoolProfile");
			return 0;
		}
#define BAD(field, want) do { \
		snprintf(path, sizeof path, "properties.agentPoolProfiles[%d].%s", i, field); \
		sim_arm_bad_type(c, path, want); return 0; } while (0)
		if (!cJSON_IsString(nm))
			BAD("name", "System.String");
		if (cnt != NULL && (!cJSON_IsNumber(cnt) || cnt->valuedouble != (double)cnt->valueint))
			BAD("count", "System.Int32");
		if (vm != NULL && !cJSON_IsString(vm))
			BAD("vmSize", "System.String");
		if (mode != NULL && !cJSON_IsString(mode))
			BAD("mode", "System.String");
		if (ov != NULL && !cJSON_IsString(ov))
			BAD("orchestratorVersion", "System.String");
#undef BAD
		/* AKS: lower-case letters and digits, starting with a letter, 1-12 chars. */
		size_t nl = strlen(nm->valuestring);
		int okname = nl >= 1 && nl <= 12 && islower((unsigned char)nm->valuestring[0]);
		for (size_t k = 0; okname && k < nl; k++)
			okname = islower((unsigned char)nm->valuestring[k]) || isdigit((unsigned char)nm->valuestring[k]);
		if (!okname) {
			sim_arm_error(c->resp, 400, "InvalidParameter",
			    "The value of parameter agentPoolProfile.name is invalid. Error details: Agent Pool "
			    "name '%s' must consist of lower case alphanumeric characters, start with a letter "
			    "and be at most 12 characters long. Please see https://aka.ms/aks-naming-rules for "
			    "more details.", nm->valuestring);
			return 0;
		}
		for (int k = 0; k < i; k++) {
			if (strcmp(seen[k], nm->valuestring) == 0) {
				sim_arm_error(c->resp, 400, "InvalidParameter",
				    "Agent pool name '%s' is used more than once.", nm->valuestring);
				return 0;
			}
		}
		snprintf(seen[i], sizeof seen[i], "%s", nm->valuestring);
		if (cnt != NULL && (cnt->valueint < 0 || cnt->valueint > 1000)) {
			sim_arm_error(c->resp, 400, "InvalidParameter",
			    "The value of parameter agentPoolProfile.count is invalid. Please see "
			    "https://aka.ms/aks-naming-rules for more details.");
			return 0;
		}
		if (mode != NULL && !sim_arm_ieq(mode->valuestring, "System")
		    && !sim_arm_ieq(mode->valuestring, "User") && !sim_arm_ieq(mode->valuestring, "Gateway")) {
			sim_arm_error(c->resp, 400, "InvalidParameter",
			    "The value of parameter agentPoolProfile.mode is invalid: '%s'. Allowed values are "
			    "'System', 'User'.", mode->valuestring);
			return 0;
		}
		if (ov != NULL && *ov->valuestring != '\0' && version_resolve(ov->valuestring, tmp, sizeof tmp) == NULL) {
			sim_arm_error(c->resp, 400, "K8sVersionNotSupported",
			    "Version %s is not supported in this region. Please use [az aks get-versions] "
			    "command to get the supported version list in this region. For more information, "
			    "please check https://aka.ms/supported-version-list", ov->valuestring);
			return 0;
		}
		if (mode != NULL ? sim_arm_ieq(mode->valuestring, "System") : i == 0) {
			system++;
			if (cnt != NULL && cnt->valueint < 1) {
				sim_arm_error(c->resp, 400, "InvalidParameter",
				    "The value of parameter agentPoolProfile.count is invalid: a System pool needs "
				    "at least one node. Please see https://aka.ms/aks-naming-rules for more details.");
				return 0;
			}
		}
		i++;
	}
	if (system == 0) {
		sim_arm_error(c->resp, 400, "MustDefineAtLeastOneSystemPool",
		    "Must define at least one system pool.");
		return 0;
	}
	return 1;
}

/* The body of a PUT, trimmed to what ARM stores (no etag or read-only id
 * echoes), with pool defaults the Kubernetes side also needs. */
static cJSON *
spec_from_body(const cJSON *body)
{
	cJSON *r = cJSON_CreateObject(), *p, *ap;
	const char *keep[] = { "location", "tags", "identity", "sku", "properties", "extendedLocation", "kind" };

	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
		const cJSON *v = cJSON_GetObjectItem(body, keep[i]);
		if (v != NULL)
			cJSON_AddItemToObject(r, keep[i], cJSON_Duplicate(v, 1));
	}
	p = cJSON_GetObjectItem(r, "properties");
	/* Read-only fields a client may send back from a GET are ignored. */
	static const char *const ro[] = {
		"provisioningState", "powerState", "currentKubernetesVersion", "fqdn", "azurePortalFQDN",
		"privateFQDN", "maxAgentPools", "resourceUID",
	};
	for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
		cJSON_DeleteItemFromObject(p, ro[i]);
	cJSON_ArrayForEach(ap, cJSON_GetObjectItem(p, "agentPoolProfiles")) {
		cJSON_DeleteItemFromObject(ap, "provisioningState");
		cJSON_DeleteItemFromObject(ap, "powerState");
		cJSON_DeleteItemFromObject(ap, "currentOrchestratorVersion");
		cJSON_DeleteItemFromObject(ap, "eTag");
		if (cJSON_GetObjectItem(ap, "count") == NULL)
			cJSON_AddNumberToObject(ap, "count", 3);
		if (cJSON_GetObjectItem(ap, "vmSize") == NULL)
			cJSON_AddStringToObject(ap, "vmSize", "Standard_D2s_v3");
	}
	return r;
}

static int
pools_of(const cJSON *res, struct sim_pool_spec *ps)
{
	const cJSON *ap;
	int n = 0;

	cJSON_ArrayForEach(ap, cJSON_GetObjectItem(cJSON_GetObjectItem(res, "properties"), "agentPoolProfiles")) {
		const cJSON *cnt = cJSON_GetObjectItem(ap, "count");
		if (n >= AKS_MAX_POOLS)
			break;
		memset(&ps[n], 0, sizeof ps[n]);
		snprintf(ps[n].name, sizeof ps[n].name, "%s", str_of(ap, "name") ? str_of(ap, "name") : "pool");
		snprintf(ps[n].mode, sizeof ps[n].mode, "%s", str_of(ap, "mode") ? str_of(ap, "mode") : "User");
		snprintf(ps[n].vm_size, sizeof ps[n].vm_size, "%s",
		    str_of(ap, "vmSize") ? str_of(ap, "vmSize") : "Standard_D2s_v3");
		ps[n].count = cJSON_IsNumber(cnt) ? cnt->valueint : 0;
		n++;
	}
	return n;
}

static void
kube_add(struct aks *a)
{
	struct sim_pool_spec ps[AKS_MAX_POOLS];
	const char *ver = str_of(cJSON_GetObjectItem(a->res, "properties"), "currentKubernetesVersion");
	int n = pools_of(a->res, ps);

	/* The Kubernetes side looks the ingress address up in the world file. */
	sim_kube_cluster_add(a->name, ver != NULL ? ver : K8S_DEFAULT, NULL, ps, n, 0);
	sim_kube_write_kubeconfig();
}

static void
aks_remove(struct aks *a)
{
	for (int i = 0; i < K.n; i++) {
		if (K.c[i] == a) {
			memmove(&K.c[i], &K.c[i + 1], sizeof *K.c * (size_t)(K.n - i - 1));
			K.n--;
			break;
		}
	}
	cJSON_Delete(a->res);
	free(a);
}

static struct aks *
aks_new(const char *name, cJSON *res)
{
	struct aks *a = calloc(1, sizeof *a), **n;

	if (a == NULL)
		return NULL;
	n = realloc(K.c, sizeof *n * (size_t)(K.n + 1));
	if (n == NULL) {
		free(a);
		return NULL;
	}
	K.c = n;
	snprintf(a->name, sizeof a->name, "%s", name);
	a->res = res;
	K.c[K.n++] = a;
	return a;
}

/* ---- operations ---------------------------------------------------------------------------- */

static void
op_done(struct sim_arm_op *op)
{
	struct aks *a = aks_find(op->target);
	int ok = op->status == SIM_OP_SUCCEEDED;
	cJSON *p;

	if (a == NULL || strcmp(a->op_id, op->id) != 0)
		return;		/* superseded (a delete took over) */
	a->op_id[0] = '\0';
	p = obj(a->res, "properties");
	switch (op->kind) {
	case OP_CREATE:
	case OP_UPDATE:
		if (!ok) {
			set_states(a->res, "Failed", NULL);
			return;
		}
		if (a->target_version[0] != '\0') {
			cJSON *ap;
			set_str(p, "currentKubernetesVersion", a->target_version);
			cJSON_ArrayForEach(ap, cJSON_GetObjectItem(p, "agentPoolProfiles"))
				set_str(ap, "currentOrchestratorVersion", str_of(ap, "orchestratorVersion")
				    ? str_of(ap, "orchestratorVersion") : a->target_version);
		}
		set_states(a->res, "Succeeded", NULL);
		/* A create, or an update that repairs a failed create. */
		if (!sim_kube_cluster_exists(a->name))
			kube_add(a);
		return;
	case OP_DELETE:
		if (sim_kube_cluster_exists(a->name)) {
			sim_kube_cluster_remove(a->name);
			sim_kube_write_kubeconfig();
		}
		aks_remove(a);
		return;
	case OP_STOP:
		sim_kube_cluster_set_running(a->name, 0);
		set_states(a->res, "Succeeded", "Stopped");
		return;
	case OP_START:
		sim_kube_cluster_set_running(a->name, 1);
		set_states(a->res, "Succeeded", "Running");
		return;
	}
}

static const char *
op_kind_name(int kind)
{
	switch (kind) {
	case OP_CREATE: return "Creating";
	case OP_UPDATE: return "Updating";
	case OP_DELETE: return "Deleting";
	case OP_STOP: return "Stopping";
	default: return "Starting";
	}
}

static struct sim_arm_op *
start_op(struct sim_arm_ctx *c, struct aks *a, int kind, int result)
{
	static const struct { int kind; const char *key; double dflt; } dur[] = {
		{ OP_CREATE, "cluster_create", 300 }, { OP_UPDATE, "cluster_update", 120 },
		{ OP_DELETE, "cluster_delete", 180 }, { OP_STOP, "cluster_stop", 120 },
		{ OP_START, "cluster_start", 120 },
	};
	char id[700];
	double secs = 60;
	struct sim_arm_op *op;

	for (size_t i = 0; i < sizeof dur / sizeof dur[0]; i++)
		if (dur[i].kind == kind)
			secs = sim_arm_timing(dur[i].key, dur[i].dflt);
	aks_id(a->name, id, sizeof id);
	op = sim_arm_op_start(c, AKS_NS, id, (int64_t)(secs * 1000), result, op_done);
	if (op == NULL)
		return NULL;
	op->kind = kind;
	snprintf(op->target, sizeof op->target, "%s", a->name);
	snprintf(a->op_id, sizeof a->op_id, "%s", op->id);
	c->changed = 1;
	return op;
}

/* 1 when another operation runs on A (RESP then holds the 409). */
static int
busy(struct sim_arm_ctx *c, struct aks *a)
{
	struct sim_arm_op *op = sim_arm_op_find(a->op_id);

	if (op == NULL || op->status != SIM_OP_IN_PROGRESS)
		return 0;
	sim_arm_error(c->resp, 409, "OperationNotAllowed",
	    "Operation is not allowed: Another operation (%s) is in progress, please wait for it to "
	    "finish before starting a new operation. See https://aka.ms/aks-pending-operation for more "
	    "details", op_kind_name(op->kind));
	return 1;
}

/* ---- requests ------------------------------------------------------------------------------ */

static void
do_put(struct sim_arm_ctx *c, const char *name, struct aks *a)
{
	cJSON *body = sim_arm_body(c), *spec;
	char target[32], current[32];
	const cJSON *loc;
	struct sim_arm_op *op;
	int creating = a == NULL;

	if (body == NULL)
		return;
	if (!validate(c, body, creating, target, sizeof target)) {
		cJSON_Delete(body);
		return;
	}
	loc = cJSON_GetObjectItem(body, "location");
	if (!creating && cJSON_IsString(loc)
	    && !sim_arm_ieq(loc->valuestring, str_of(a->res, "location"))) {
		sim_arm_error(c->resp, 400, "InvalidResourceLocation",
		    "The resource '%s' already exists in location '%s' in resource group '%s'. A resource "
		    "with the same name cannot be created in location '%s'. Please select a new resource name.",
		    a->name, str_of(a->res, "location"), sim_world.resource_group, loc->valuestring);
		cJSON_Delete(body);
		return;
	}
	if (!creating && busy(c, a)) {
		cJSON_Delete(body);
		return;
	}
	if (strlen(name) > 63) {
		sim_arm_error(c->resp, 400, "InvalidParameter",
		    "The value of parameter name is invalid: at most 63 characters.");
		cJSON_Delete(body);
		return;
	}
	spec = spec_from_body(body);
	if (creating) {
		/* The location as ARM normalizes it. */
		char lc[64];
		size_t k = 0;
		for (const char *p = loc->valuestring; *p != '\0' && k + 1 < sizeof lc; p++)
			if (*p != ' ')
				lc[k++] = (char)tolower((unsigned char)*p);
		lc[k] = '\0';
		cJSON_Delete(body);
		set_str(spec, "location", lc);
		normalize(spec, name, target, target, "Creating", "Running");
		a = aks_new(name, spec);
		if (a == NULL) {
			cJSON_Delete(spec);
			sim_arm_error(c->resp, 500, "InternalServerError", "out of memory");
			return;
		}
		snprintf(a->target_version, sizeof a->target_version, "%s", target);
		op = start_op(c, a, OP_CREATE, SIM_OP_RESOURCE);
		if (op != NULL && sim_world.faults.fail_cluster_create > 0) {
			sim_world.faults.fail_cluster_create--;
			op->doomed = 1;
			snprintf(op->err_code, sizeof op->err_code, "VMExtensionProvisioningError");
			snprintf(op->err_msg, sizeof op->err_msg,
			    "Unable to establish outbound connection from agents, please see "
			    "https://learn.microsoft.com/en-us/troubleshoot/azure/azure-kubernetes/error-code-outboundconnfailvmextensionerror "
			    "and https://aka.ms/aks-required-ports-and-addresses for more information. Details: "
			    "instance 0 has extension error details : {vmssCSE exit status=50} (simulated fault: "
			    "fail_cluster_create)");
		}
		sim_resp_json(c->resp, 201, a->res);
	} else {
		const char *cur = str_of(cJSON_GetObjectItem(a->res, "properties"), "currentKubernetesVersion");
		const char *power = str_of(cJSON_GetObjectItem(cJSON_GetObjectItem(a->res, "properties"),
		    "powerState"), "code");
		char pw[16];

		cJSON_Delete(body);
		snprintf(current, sizeof current, "%s", cur != NULL ? cur : target);
		snprintf(pw, sizeof pw, "%s", power != NULL ? power : "Running");
		set_str(spec, "location", str_of(a->res, "location"));
		normalize(spec, a->name, target, current, "Updating", pw);
		cJSON_Delete(a->res);
		a->res = spec;
		snprintf(a->target_version, sizeof a->target_version, "%s", target);
		op = start_op(c, a, OP_UPDATE, SIM_OP_RESOURCE);
		sim_resp_json(c->resp, 200, a->res);
	}
	if (op != NULL)
		sim_arm_op_headers(op, c->resp, 1, 1);
}

static void
do_delete(struct sim_arm_ctx *c, struct aks *a)
{
	struct sim_arm_op *op, *prev;

	if (a == NULL) {
		sim_resp_body(c->resp, 204, "application/json; charset=utf-8", "", 0);
		return;
	}
	prev = sim_arm_op_find(a->op_id);
	if (prev != NULL && prev->kind == OP_DELETE && prev->status == SIM_OP_IN_PROGRESS) {
		/* Deleting again while deleting: the same operation. */
		sim_resp_body(c->resp, 202, "application/json; charset=utf-8", "", 0);
		sim_arm_op_headers(prev, c->resp, 1, 1);
		return;
	}
	/* A delete preempts whatever runs, as AKS does. */
	if (prev != NULL && prev->status == SIM_OP_IN_PROGRESS)
		sim_arm_op_fail(prev, SIM_OP_CANCELED, "Canceled",
		    "The operation was canceled by a delete of the managed cluster.");
	set_states(a->res, "Deleting", NULL);
	op = start_op(c, a, OP_DELETE, SIM_OP_NO_CONTENT);
	sim_resp_body(c->resp, 202, "application/json; charset=utf-8", "", 0);
	if (op != NULL)
		sim_arm_op_headers(op, c->resp, 1, 1);
}

static void
do_power(struct sim_arm_ctx *c, struct aks *a, int start)
{
	struct sim_arm_op *op;

	if (busy(c, a))
		return;
	set_states(a->res, start ? "Starting" : "Stopping", NULL);
	op = start_op(c, a, start ? OP_START : OP_STOP, SIM_OP_NO_CONTENT);
	sim_resp_body(c->resp, 202, "application/json; charset=utf-8", "", 0);
	if (op != NULL)
		sim_arm_op_headers(op, c->resp, 1, 1);
}

static void
do_credentials(struct sim_arm_ctx *c, struct aks *a, int admin)
{
	char *kc = sim_kube_user_kubeconfig(a->name), *b64;
	cJSON *out, *arr, *e;

	if (kc == NULL) {
		sim_arm_error(c->resp, 409, "OperationNotAllowed",
		    "The managed cluster '%s' has no control plane to issue credentials for yet "
		    "(provisioningState %s).", a->name,
		    str_of(cJSON_GetObjectItem(a->res, "properties"), "provisioningState"));
		return;
	}
	b64 = sim_base64(kc, strlen(kc));
	free(kc);
	if (b64 == NULL) {
		sim_arm_error(c->resp, 500, "InternalServerError", "out of memory");
		return;
	}
	out = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(out, "kubeconfigs");
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "name", admin ? "clusterAdmin" : "clusterUser");
	cJSON_AddStringToObject(e, "value", b64);
	cJSON_AddItemToArray(arr, e);
	free(b64);
	sim_resp_json_take(c->resp, 200, out);
}

static cJSON *
agent_pool_resource(const struct aks *a, const cJSON *ap)
{
	cJSON *r = cJSON_CreateObject(), *p = cJSON_Duplicate(ap, 1);
	char id[800];

	aks_id(a->name, id, sizeof id);
	snprintf(id + strlen(id), sizeof id - strlen(id), "/agentPools/%s", str_of(ap, "name"));
	cJSON_AddStringToObject(r, "id", id);
	cJSON_AddStringToObject(r, "name", str_of(ap, "name"));
	cJSON_AddStringToObject(r, "type", AKS_TYPE "/agentPools");
	cJSON_DeleteItemFromObject(p, "name");
	cJSON_AddItemToObject(r, "properties", p);
	return r;
}

static cJSON *
upgrade_list(const char *from)
{
	cJSON *u = cJSON_CreateArray();
	int m = version_minor(from);

	for (int i = 0; k8s_versions[i] != NULL; i++) {
		int vm = version_minor(k8s_versions[i]);
		/* AKS upgrades one minor at a time, to any newer patch. */
		if ((vm == m && strcmp(k8s_versions[i], from) > 0 && strlen(k8s_versions[i]) >= strlen(from))
		    || vm == m + 1) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "kubernetesVersion", k8s_versions[i]);
			cJSON_AddItemToArray(u, e);
		}
	}
	return u;
}

static void
do_upgrade_profile(struct sim_arm_ctx *c, const struct aks *a)
{
	const cJSON *p = cJSON_GetObjectItem(a->res, "properties"), *ap;
	const char *cur = str_of(p, "currentKubernetesVersion");
	cJSON *r = cJSON_CreateObject(), *rp, *cp, *pools;
	char id[800];

	aks_id(a->name, id, sizeof id);
	strncat(id, "/upgradeprofiles/default", sizeof id - strlen(id) - 1);
	cJSON_AddStringToObject(r, "name", "default");
	cJSON_AddStringToObject(r, "type", AKS_TYPE "/upgradeprofiles");
	cJSON_AddStringToObject(r, "id", id);
	rp = cJSON_AddObjectToObject(r, "properties");
	pools = cJSON_AddArrayToObject(rp, "agentPoolProfiles");
	cJSON_ArrayForEach(ap, cJSON_GetObjectItem(p, "agentPoolProfiles")) {
		cJSON *e = cJSON_CreateObject();
		const char *v = str_of(ap, "currentOrchestratorVersion");
		cJSON_AddStringToObject(e, "name", str_of(ap, "name"));
		cJSON_AddStringToObject(e, "kubernetesVersion", v != NULL ? v : cur);
		cJSON_AddStringToObject(e, "osType", str_of(ap, "osType") ? str_of(ap, "osType") : "Linux");
		cJSON_AddItemToObject(e, "upgrades", upgrade_list(v != NULL ? v : cur));
		cJSON_AddItemToArray(pools, e);
	}
	cp = cJSON_AddObjectToObject(rp, "controlPlaneProfile");
	cJSON_AddStringToObject(cp, "name", "master");
	cJSON_AddStringToObject(cp, "kubernetesVersion", cur);
	cJSON_AddStringToObject(cp, "osType", "Linux");
	cJSON_AddItemToObject(cp, "upgrades", upgrade_list(cur));
	sim_resp_json_take(c->resp, 200, r);
}

void
sim_arm_aks_handle(struct sim_arm_ctx *c)
{
	const char *m = c->method;
	struct aks *a;

	if (c->nseg == 0) {
		cJSON *l, *v;

		if (strcmp(m, "GET") != 0) {
			sim_arm_bad_method(c);
			return;
		}
		l = cJSON_CreateObject();
		v = cJSON_AddArrayToObject(l, "value");
		for (int i = 0; i < K.n; i++)
			cJSON_AddItemToArray(v, cJSON_Duplicate(K.c[i]->res, 1));
		sim_resp_json_take(c->resp, 200, l);
		return;
	}
	a = aks_find(c->seg[0]);
	if (c->nseg == 1) {
		if (strcmp(m, "GET") == 0) {
			if (a == NULL)
				sim_arm_not_found(c, AKS_TYPE, c->seg[0]);
			else
				sim_resp_json(c->resp, 200, a->res);
		} else if (strcmp(m, "PUT") == 0) {
			do_put(c, c->seg[0], a);
		} else if (strcmp(m, "DELETE") == 0) {
			do_delete(c, a);
		} else {
			sim_arm_bad_method(c);
		}
		return;
	}
	if (a == NULL) {
		sim_arm_not_found(c, AKS_TYPE, c->seg[0]);
		return;
	}
	if (c->nseg == 2 && (sim_arm_ieq(c->seg[1], "stop") || sim_arm_ieq(c->seg[1], "start")
	    || sim_arm_ieq(c->seg[1], "listClusterUserCredential")
	    || sim_arm_ieq(c->seg[1], "listClusterAdminCredential"))) {
		if (strcmp(m, "POST") != 0) {
			sim_arm_bad_method(c);
		} else if (sim_arm_ieq(c->seg[1], "stop") || sim_arm_ieq(c->seg[1], "start")) {
			do_power(c, a, sim_arm_ieq(c->seg[1], "start"));
		} else {
			do_credentials(c, a, sim_arm_ieq(c->seg[1], "listClusterAdminCredential"));
		}
		return;
	}
	if (sim_arm_ieq(c->seg[1], "agentPools") && c->nseg <= 3) {
		const cJSON *ap;
		cJSON *l = NULL, *v = NULL;

		if (strcmp(m, "GET") != 0) {
			sim_arm_bad_method(c);
			return;
		}
		if (c->nseg == 2) {
			l = cJSON_CreateObject();
			v = cJSON_AddArrayToObject(l, "value");
		}
		cJSON_ArrayForEach(ap, cJSON_GetObjectItem(cJSON_GetObjectItem(a->res, "properties"), "agentPoolProfiles")) {
			if (v != NULL) {
				cJSON_AddItemToArray(v, agent_pool_resource(a, ap));
			} else if (sim_arm_ieq(str_of(ap, "name"), c->seg[2])) {
				sim_resp_json_take(c->resp, 200, agent_pool_resource(a, ap));
				return;
			}
		}
		if (l != NULL) {
			sim_resp_json_take(c->resp, 200, l);
			return;
		}
		sim_arm_not_found(c, AKS_TYPE "/agentPools", c->seg[2]);
		return;
	}
	if (c->nseg == 3 && sim_arm_ieq(c->seg[1], "upgradeProfiles") && sim_arm_ieq(c->seg[2], "default")) {
		if (strcmp(m, "GET") != 0)
			sim_arm_bad_method(c);
		else
			do_upgrade_profile(c, a);
		return;
	}
	sim_arm_error(c->resp, 404, "NotFound",
	    "The requested path '%s' is not an operation of managed clusters.", c->req->path);
}

const cJSON *
sim_arm_aks_resource(const char *name)
{
	struct aks *a = aks_find(name);

	return a != NULL ? a->res : NULL;
}

/* ---- the world's clusters -------------------------------------------------------------------- */

static void
aks_free(void)
{
	for (int i = 0; i < K.n; i++) {
		cJSON_Delete(K.c[i]->res);
		free(K.c[i]);
	}
	free(K.c);
	memset(&K, 0, sizeof K);
}

/* The create body a real cluster like the world's entry would have had,
 * with the options a production cluster typically sets (a user-assigned
 * control-plane identity, customer-managed disk encryption, autoscaler
 * profile, SSH key), so its GET carries every field of the AKS example. */
static cJSON *
world_spec(const cJSON *wc, const char *name, const char *version, int idx, char *err, size_t errlen)
{
	cJSON *r = cJSON_CreateObject(), *p, *pools, *id, *uai, *lp, *keys, *k, *np, *us;
	const cJSON *dp = cJSON_GetObjectItemCaseSensitive(wc, "dns_prefix");
	const cJSON *wp = cJSON_GetObjectItemCaseSensitive(wc, "node_pools"), *it;
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(wc, "tags");
	char buf[600], t[48];
	int i = 0;

	cJSON_AddStringToObject(r, "location", sim_world.location);
	if (tags != NULL) {
		if (!cJSON_IsObject(tags)) {
			snprintf(err, errlen, "clusters[%d].tags: expected a mapping of strings", idx);
			cJSON_Delete(r);
			return NULL;
		}
		cJSON_ArrayForEach(it, tags) {
			if (!cJSON_IsString(it)) {
				snprintf(err, errlen, "clusters[%d].tags.%s: expected a string", idx, it->string);
				cJSON_Delete(r);
				return NULL;
			}
		}
		cJSON_AddItemToObject(r, "tags", cJSON_Duplicate(tags, 1));
	} else {
		cJSON_AddObjectToObject(r, "tags");
	}
	id = cJSON_AddObjectToObject(r, "identity");
	cJSON_AddStringToObject(id, "type", "UserAssigned");
	uai = cJSON_AddObjectToObject(id, "userAssignedIdentities");
	snprintf(buf, sizeof buf,
	    "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/%s-identity",
	    sim_world.subscription, sim_world.resource_group, name);
	cJSON_AddObjectToObject(uai, buf);
	p = cJSON_AddObjectToObject(r, "properties");
	cJSON_AddStringToObject(p, "kubernetesVersion", version);
	if (dp != NULL && !cJSON_IsString(dp)) {
		snprintf(err, errlen, "clusters[%d].dns_prefix: expected a string", idx);
		cJSON_Delete(r);
		return NULL;
	}
	cJSON_AddStringToObject(p, "dnsPrefix", cJSON_IsString(dp) ? dp->valuestring : name);
	cJSON_AddBoolToObject(p, "enableRBAC", 1);
	pools = cJSON_AddArrayToObject(p, "agentPoolProfiles");
	if (wp != NULL && !cJSON_IsArray(wp)) {
		snprintf(err, errlen, "clusters[%d].node_pools: expected a list", idx);
		cJSON_Delete(r);
		return NULL;
	}
	cJSON_ArrayForEach(it, wp) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *mode = cJSON_GetObjectItemCaseSensitive(it, "mode");
		const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(it, "count");
		const cJSON *vm = cJSON_GetObjectItemCaseSensitive(it, "vm_size");
		cJSON *ap;
		cJSON *zones;

#define WBAD(what) do { snprintf(err, errlen, "clusters[%d].node_pools[%d]%s", idx, i, what); \
		cJSON_Delete(r); return NULL; } while (0)
		if (!cJSON_IsObject(it))
			WBAD(": expected a mapping");
		if (!cJSON_IsString(nm))
			WBAD(".name: expected a string");
		if (mode != NULL && (!cJSON_IsString(mode) || (strcmp(mode->valuestring, "System") != 0
		    && strcmp(mode->valuestring, "User") != 0)))
			WBAD(".mode: expected System or User");
		if (cnt != NULL && (!cJSON_IsNumber(cnt) || cnt->valueint < 0 || cnt->valueint > 1000
		    || cnt->valuedouble != (double)cnt->valueint))
			WBAD(".count: expected a whole number, 0 to 1000");
		if (vm != NULL && !cJSON_IsString(vm))
			WBAD(".vm_size: expected a string");
#undef WBAD
		ap = cJSON_CreateObject();
		cJSON_AddStringToObject(ap, "name", nm->valuestring);
		cJSON_AddStringToObject(ap, "type", "VirtualMachineScaleSets");
		zones = cJSON_AddArrayToObject(ap, "availabilityZones");
		cJSON_AddItemToArray(zones, cJSON_CreateString("1"));
		cJSON_AddItemToArray(zones, cJSON_CreateString("2"));
		cJSON_AddItemToArray(zones, cJSON_CreateString("3"));
		cJSON_AddNumberToObject(ap, "count", cnt != NULL ? cnt->valueint : 3);
		cJSON_AddBoolToObject(ap, "enableNodePublicIP", 0);
		cJSON_AddStringToObject(ap, "mode", mode != NULL ? mode->valuestring : (i == 0 ? "System" : "User"));
		cJSON_AddStringToObject(ap, "osType", "Linux");
		cJSON_AddStringToObject(ap, "scaleDownMode", "Delete");
		cJSON_AddStringToObject(ap, "vmSize", vm != NULL ? vm->valuestring : "Standard_D4ds_v5");
		cJSON_AddItemToArray(pools, ap);
		i++;
	}
	if (i == 0) {
		cJSON *ap = cJSON_CreateObject();
		cJSON_AddStringToObject(ap, "name", "system");
		cJSON_AddNumberToObject(ap, "count", 3);
		cJSON_AddStringToObject(ap, "mode", "System");
		cJSON_AddStringToObject(ap, "vmSize", "Standard_D4ds_v5");
		cJSON_AddItemToArray(pools, ap);
	}
	snprintf(buf, sizeof buf,
	    "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/diskEncryptionSets/des-%s",
	    sim_world.subscription, sim_world.resource_group, sim_world.resource_group);
	cJSON_AddStringToObject(p, "diskEncryptionSetID", buf);
	lp = cJSON_AddObjectToObject(p, "linuxProfile");
	cJSON_AddStringToObject(lp, "adminUsername", "azureuser");
	keys = cJSON_AddArrayToObject(cJSON_AddObjectToObject(lp, "ssh"), "publicKeys");
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "keyData",
	    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7simulatedkeyforbgswitchsimonlynotarealkey azureuser");
	cJSON_AddItemToArray(keys, k);
	np = cJSON_AddObjectToObject(p, "networkProfile");
	cJSON_AddStringToObject(np, "networkPlugin", "azure");
	cJSON_AddStringToObject(np, "networkPluginMode", "overlay");
	cJSON_AddStringToObject(np, "loadBalancerSku", "standard");
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(np, "loadBalancerProfile"),
	    "managedOutboundIPs"), "count", 2);
	us = cJSON_AddObjectToObject(cJSON_AddObjectToObject(p, "upgradeSettings"), "overrideSettings");
	cJSON_AddBoolToObject(us, "forceUpgrade", 0);
	sim_time_rfc3339(sim_now_ms(), t, sizeof t);
	cJSON_AddStringToObject(us, "until", t);
	return r;
}

int
sim_arm_aks_load(const cJSON *world, char *err, size_t errlen)
{
	const cJSON *cl = cJSON_GetObjectItemCaseSensitive(world, "clusters"), *wc;
	int idx = 0;

	aks_free();
	if (cl == NULL || cJSON_IsNull(cl))
		return 0;
	if (!cJSON_IsArray(cl)) {
		snprintf(err, errlen, "clusters: expected a list");
		return -1;
	}
	cJSON_ArrayForEach(wc, cl) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(wc, "name");
		const cJSON *ex = cJSON_GetObjectItemCaseSensitive(wc, "exists");
		const cJSON *ver = cJSON_GetObjectItemCaseSensitive(wc, "kubernetes_version");
		const cJSON *ip = cJSON_GetObjectItemCaseSensitive(wc, "ingress_ip");
		cJSON *spec;
		char v[32];

		if (!cJSON_IsObject(wc)) {
			snprintf(err, errlen, "clusters[%d]: expected a mapping", idx);
			return -1;
		}
		if (!cJSON_IsString(nm) || nm->valuestring[0] == '\0') {
			snprintf(err, errlen, "clusters[%d].name: expected a string", idx);
			return -1;
		}
		if (strlen(nm->valuestring) > 63) {
			snprintf(err, errlen, "clusters[%d].name: at most 63 characters", idx);
			return -1;
		}
		if (ex != NULL && !cJSON_IsBool(ex)) {
			snprintf(err, errlen, "clusters[%d].exists: expected true or false", idx);
			return -1;
		}
		if (ip != NULL && !cJSON_IsString(ip)) {
			snprintf(err, errlen, "clusters[%d].ingress_ip: expected a string", idx);
			return -1;
		}
		if (ver != NULL && !cJSON_IsString(ver)) {
			/* YAML reads 1.30 as a number; the version must be quoted. */
			snprintf(err, errlen, "clusters[%d].kubernetes_version: expected a string "
			    "(quote it, e.g. \"1.30.5\")", idx);
			return -1;
		}
		if (aks_find(nm->valuestring) != NULL) {
			snprintf(err, errlen, "clusters[%d].name: %s is listed twice", idx, nm->valuestring);
			return -1;
		}
		idx++;
		if (cJSON_IsFalse(ex))
			continue;
		snprintf(v, sizeof v, "%s", cJSON_IsString(ver) ? ver->valuestring : K8S_DEFAULT);
		spec = world_spec(wc, nm->valuestring, v, idx - 1, err, errlen);
		if (spec == NULL)
			return -1;
		/* The Kubernetes side makes these clusters' API servers itself
		 * (sim_kube_load), so no sim_kube_cluster_add here. */
		normalize(spec, nm->valuestring, v, v, "Succeeded", "Running");
		if (aks_new(nm->valuestring, spec) == NULL) {
			cJSON_Delete(spec);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}
