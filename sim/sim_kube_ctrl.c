/*
 * sim_kube_ctrl.c — what makes a simulated cluster live: the parts of the
 * kubelet, scheduler and controller manager that a switchover watches.
 *
 *   nodes        join one by one (timings.node_join apart) and turn Ready
 *                timings.node_ready later, named and labelled like AKS VM
 *                scale set instances; node-notready/node-ready faults flip
 *                them and, like the node lifecycle controller, their pods;
 *   deployments  own one ReplicaSet per pod template (pod-template-hash),
 *                roll from old to new as new pods turn Ready, and report
 *                replicas/ready/available/updated and the Available and
 *                Progressing conditions;
 *   pods         are placed round-robin on Ready nodes, go Pending
 *                (ContainerCreating) → Running → Ready over timings.pod_ready
 *                simulated seconds, terminate gracefully, and crash-loop
 *                with back-off when told to;
 *   namespaces   get their default ServiceAccount and kube-root-ca.crt.
 *
 * Work is driven by timers (simulated time) and by a list of deployments
 * to reconcile, both filled by sim_kube_ctrl_changed() after every commit
 * and drained by the tick; nothing scans all pods on a tick.
 */
#include "sim/sim_kube.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kubernetes's alphabet for generated names (no vowels, no look-alikes). */
static const char alphanums[] = "bcdfghjklmnpqrstvwxz2456789";

struct sim_kube_timings sim_kube_timings = { 20, 30, 15, 2 };

void
sim_kube_rand_suffix(char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = alphanums[rand_r(&sim_world.rng) % (sizeof alphanums - 1)];
	buf[n] = '\0';
}

void
sim_kube_template_hash(const cJSON *tmpl, char *buf, size_t n)
{
	char *s = cJSON_PrintUnformatted(tmpl), dec[16];
	uint32_t h = 2166136261u;
	size_t i;

	for (const char *p = s != NULL ? s : ""; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 16777619u;
	}
	free(s);
	/* rand.SafeEncodeString(fmt.Sprint(hash)), as the deployment
	 * controller names its ReplicaSets */
	snprintf(dec, sizeof dec, "%u", h);
	for (i = 0; dec[i] != '\0' && i + 1 < n; i++)
		buf[i] = alphanums[(unsigned char)dec[i] % (sizeof alphanums - 1)];
	buf[i] = '\0';
}

void
sim_kube_ip_str(uint32_t ip, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

uint32_t
sim_kube_alloc_pod_ip(struct kcluster *c)
{
	/* 10.244.0.0/14 for the first cluster, 10.248.0.0/14 for the next:
	 * overlay pod CIDRs, distinct so an address names one pod. */
	uint32_t base = (10u << 24) | ((uint32_t)((244 + 4 * c->index) & 255) << 16);
	uint32_t ip;

	do {
		ip = base + (c->next_pod_ip++ % (1u << 18));
	} while ((ip & 255) == 0 || (ip & 255) == 255);
	return ip;
}

uint32_t
sim_kube_alloc_svc_ip(struct kcluster *c)
{
	/* AKS's default service CIDR 10.0.0.0/16; 10.0.0.1 is "kubernetes" */
	return (10u << 24) + 1 + (c->next_svc_ip++ % 65000);
}

/* ---- timers and dirty deployments ------------------------------------------------ */

void
sim_kube_timer_add(struct kcluster *c, enum ktimer_kind kind, int64_t due, const char *ns,
    const char *name, const char *uid, int arg)
{
	struct ktimer *t;

	if (c->ntimers == c->captimers) {
		size_t ncap = c->captimers != 0 ? c->captimers * 2 : 64;
		struct ktimer *nt = realloc(c->timers, ncap * sizeof *nt);
		if (nt == NULL)
			return;
		c->timers = nt;
		c->captimers = ncap;
	}
	t = &c->timers[c->ntimers++];
	t->due = due;
	t->kind = kind;
	t->arg = arg;
	snprintf(t->ns, sizeof t->ns, "%s", ns);
	snprintf(t->name, sizeof t->name, "%s", name);
	snprintf(t->uid, sizeof t->uid, "%s", uid != NULL ? uid : "");
}

void
sim_kube_mark_dirty(struct kcluster *c, const char *ns, const char *deploy)
{
	for (size_t i = 0; i < c->ndirty; i++)
		if (strcmp(c->dirty[i].ns, ns) == 0 && strcmp(c->dirty[i].name, deploy) == 0)
			return;
	if (c->ndirty == c->capdirty) {
		size_t ncap = c->capdirty != 0 ? c->capdirty * 2 : 32;
		struct kdirty *nd = realloc(c->dirty, ncap * sizeof *nd);
		if (nd == NULL)
			return;
		c->dirty = nd;
		c->capdirty = ncap;
	}
	snprintf(c->dirty[c->ndirty].ns, sizeof c->dirty[0].ns, "%s", ns);
	snprintf(c->dirty[c->ndirty].name, sizeof c->dirty[0].name, "%s", deploy);
	c->ndirty++;
}

/* ---- events ---------------------------------------------------------------------------
 *
 * Like kube-apiserver's one-hour TTL, the number kept is bounded: past
 * EVENTS_KEPT, recording one deletes the oldest. */

#define EVENTS_KEPT 2000

void
sim_kube_event(struct kcluster *c, const char *kind, const char *api_version, const char *ns,
    const char *name, const char *uid, const char *field_path, const char *type, const char *reason,
    const char *component, const char *host, const char *fmt, ...)
{
	struct kres *er = sim_kube_res_builtin(c, K_EVENT);
	char msg[1024], now[40], ename[320];
	cJSON *e, *md, *io, *src;
	va_list ap;

	if (er == NULL)
		return;
	{
		/* the API refuses new content in a namespace being deleted */
		struct kres *nsr = sim_kube_res_builtin(c, K_NAMESPACE);
		struct kobj *nso = sim_kube_store_get(&nsr->store, "", ns);
		if (nso == NULL || nso->deleting)
			return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sim_kube_now_str(now, sizeof now);
	/* a repeat among the recent ones counts up (BackOff, NodeNotReady) */
	for (size_t k = 0; k < c->evn && k < 64; k++) {
		const struct kevkey *key = &c->evkeys[(c->evhead + c->evn - 1 - k) % EVENTS_KEPT];
		struct kobj *o = sim_kube_store_get(&er->store, key->ns, key->name);
		cJSON *t;
		const cJSON *cnt;

		if (o == NULL || strcmp(o->fields[2], name) != 0 || strcmp(o->fields[5], reason) != 0)
			continue;
		t = sim_kube_obj_parse(o);
		if (t != NULL && strcmp(sim_kube_jstr(t, "message"), msg) == 0) {
			cnt = cJSON_GetObjectItemCaseSensitive(t, "count");
			sim_kube_jset_num(t, "count", (cJSON_IsNumber(cnt) ? cnt->valuedouble : 1) + 1);
			sim_kube_jset_str(t, "lastTimestamp", now);
			sim_kube_commit(c, er, t, KE_MODIFIED);
			cJSON_Delete(t);
			return;
		}
		cJSON_Delete(t);
	}
	if (c->evkeys == NULL && (c->evkeys = calloc(EVENTS_KEPT, sizeof *c->evkeys)) == NULL)
		return;
	if (c->evn == EVENTS_KEPT) {
		struct kevkey *old = &c->evkeys[c->evhead];
		struct kobj *o = sim_kube_store_get(&er->store, old->ns, old->name);
		cJSON *t = o != NULL ? sim_kube_obj_parse(o) : NULL;

		if (t != NULL)
			sim_kube_commit(c, er, t, KE_DELETED);
		cJSON_Delete(t);
		c->evhead = (c->evhead + 1) % EVENTS_KEPT;
		c->evn--;
	}
	/* named like the kubelet's: the object's name and a hex timestamp */
	snprintf(ename, sizeof ename, "%.240s.%016llx", name,
	    (unsigned long long)sim_now_ms() * 1000000ULL + (unsigned long long)(c->rv & 0xfffff));
	e = cJSON_CreateObject();
	md = cJSON_AddObjectToObject(e, "metadata");
	cJSON_AddStringToObject(md, "name", ename);
	cJSON_AddStringToObject(md, "namespace", ns);
	io = cJSON_AddObjectToObject(e, "involvedObject");
	cJSON_AddStringToObject(io, "kind", kind);
	if (strcmp(kind, "Node") != 0)
		cJSON_AddStringToObject(io, "namespace", ns);
	cJSON_AddStringToObject(io, "name", name);
	cJSON_AddStringToObject(io, "uid", uid);
	cJSON_AddStringToObject(io, "apiVersion", api_version);
	if (field_path != NULL)
		cJSON_AddStringToObject(io, "fieldPath", field_path);
	cJSON_AddStringToObject(e, "reason", reason);
	cJSON_AddStringToObject(e, "message", msg);
	src = cJSON_AddObjectToObject(e, "source");
	cJSON_AddStringToObject(src, "component", component);
	if (host != NULL)
		cJSON_AddStringToObject(src, "host", host);
	cJSON_AddStringToObject(e, "firstTimestamp", now);
	cJSON_AddStringToObject(e, "lastTimestamp", now);
	cJSON_AddNumberToObject(e, "count", 1);
	cJSON_AddStringToObject(e, "type", type);
	cJSON_AddNullToObject(e, "eventTime");
	cJSON_AddStringToObject(e, "reportingComponent", component);
	cJSON_AddStringToObject(e, "reportingInstance", host != NULL ? host : "");
	sim_kube_prepare_new(c, er, e, NULL);
	if (sim_kube_commit(c, er, e, KE_ADDED) != NULL) {
		struct kevkey *key = &c->evkeys[(c->evhead + c->evn) % EVENTS_KEPT];
		snprintf(key->ns, sizeof key->ns, "%s", ns);
		snprintf(key->name, sizeof key->name, "%s", ename);
		c->evn++;
	}
	cJSON_Delete(e);
}

/* ---- nodes ------------------------------------------------------------------------ */

static void
vm_shape(const char *vm_size, int *cpu, int *gib)
{
	const char *p = strchr(vm_size, '_');
	char family;

	*cpu = 4;
	*gib = 16;
	if (p == NULL)
		return;
	p++;
	family = *p;
	while (*p != '\0' && (*p < '0' || *p > '9'))
		p++;
	if (*p != '\0')
		*cpu = atoi(p);
	if (*cpu <= 0)
		*cpu = 2;
	*gib = *cpu * (family == 'E' ? 8 : family == 'F' ? 2 : 4);
}

static cJSON *
condition(const char *type, const char *status, const char *reason, const char *msg,
    const char *now, int heartbeat)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "type", type);
	cJSON_AddStringToObject(c, "status", status);
	if (heartbeat)
		cJSON_AddStringToObject(c, "lastHeartbeatTime", now);
	else
		cJSON_AddNullToObject(c, "lastProbeTime");
	cJSON_AddStringToObject(c, "lastTransitionTime", now);
	if (reason != NULL)
		cJSON_AddStringToObject(c, "reason", reason);
	if (msg != NULL)
		cJSON_AddStringToObject(c, "message", msg);
	return c;
}

static void
node_conditions(cJSON *st, int ready, const char *now)
{
	cJSON *conds = cJSON_CreateArray();

	cJSON_AddItemToArray(conds, condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
	    "kubelet has sufficient memory available", now, 1));
	cJSON_AddItemToArray(conds, condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
	    "kubelet has no disk pressure", now, 1));
	cJSON_AddItemToArray(conds, condition("PIDPressure", "False", "KubeletHasSufficientPID",
	    "kubelet has sufficient PID available", now, 1));
	if (ready)
		cJSON_AddItemToArray(conds, condition("Ready", "True", "KubeletReady",
		    "kubelet is posting ready status", now, 1));
	else
		cJSON_AddItemToArray(conds, condition("Ready", "False", "KubeletNotReady",
		    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
		    "message:Network plugin returns error: cni plugin not initialized", now, 1));
	sim_kube_jset(st, "conditions", conds);
}

cJSON *
sim_kube_node_make(struct kcluster *c, const struct knode_plan *p, int ready)
{
	cJSON *n = cJSON_CreateObject(), *md, *l, *spec, *st, *cap, *alloc, *ni, *addrs, *a;
	char buf[1024], now[40], mode[16], ip[32], id[40];
	int cpu, gib;
	unsigned digits = 0;

	sim_kube_now_str(now, sizeof now);
	vm_shape(p->vm_size, &cpu, &gib);
	sscanf(strrchr(p->name, '-') != NULL ? p->name : "", "%*[^0-9]%u", &digits);
	snprintf(mode, sizeof mode, "%s", strcmp(p->mode, "System") == 0 ? "system" : "user");
	md = cJSON_AddObjectToObject(n, "metadata");
	cJSON_AddStringToObject(md, "name", p->name);
	l = cJSON_AddObjectToObject(md, "labels");
	cJSON_AddStringToObject(l, "agentpool", p->pool);
	cJSON_AddStringToObject(l, "beta.kubernetes.io/arch", "amd64");
	cJSON_AddStringToObject(l, "beta.kubernetes.io/instance-type", p->vm_size);
	cJSON_AddStringToObject(l, "beta.kubernetes.io/os", "linux");
	cJSON_AddStringToObject(l, "failure-domain.beta.kubernetes.io/region", sim_world.location);
	cJSON_AddStringToObject(l, "failure-domain.beta.kubernetes.io/zone", "0");
	cJSON_AddStringToObject(l, "kubernetes.azure.com/agentpool", p->pool);
	snprintf(buf, sizeof buf, "MC_%s_%s_%s", sim_world.resource_group, c->name, sim_world.location);
	cJSON_AddStringToObject(l, "kubernetes.azure.com/cluster", buf);
	cJSON_AddStringToObject(l, "kubernetes.azure.com/mode", mode);
	cJSON_AddStringToObject(l, "kubernetes.azure.com/node-image-version", "AKSUbuntu-2204gen2containerd-202407.29.0");
	cJSON_AddStringToObject(l, "kubernetes.azure.com/os-sku", "Ubuntu");
	cJSON_AddStringToObject(l, "kubernetes.azure.com/role", "agent");
	cJSON_AddStringToObject(l, "kubernetes.io/arch", "amd64");
	cJSON_AddStringToObject(l, "kubernetes.io/hostname", p->name);
	cJSON_AddStringToObject(l, "kubernetes.io/os", "linux");
	cJSON_AddStringToObject(l, "kubernetes.io/role", "agent");
	cJSON_AddStringToObject(l, "node-role.kubernetes.io/agent", "");
	cJSON_AddStringToObject(l, "node.kubernetes.io/instance-type", p->vm_size);
	cJSON_AddStringToObject(l, "topology.kubernetes.io/region", sim_world.location);
	cJSON_AddStringToObject(l, "topology.kubernetes.io/zone", "0");
	a = cJSON_AddObjectToObject(md, "annotations");
	cJSON_AddStringToObject(a, "node.alpha.kubernetes.io/ttl", "0");
	cJSON_AddStringToObject(a, "volumes.kubernetes.io/controller-managed-attach-detach", "true");

	spec = cJSON_AddObjectToObject(n, "spec");
	{
		char vmss[160];
		snprintf(vmss, sizeof vmss, "%.*s", (int)(strstr(p->name, "-vmss") != NULL
		    ? strstr(p->name, "-vmss") - p->name + 5 : (long)strlen(p->name)), p->name);
		snprintf(buf, sizeof buf, "azure:///subscriptions/%s/resourceGroups/mc_%s_%s_%s/providers/"
		    "Microsoft.Compute/virtualMachineScaleSets/%s/virtualMachines/%d", sim_world.subscription,
		    sim_world.resource_group, c->name, sim_world.location, vmss, p->vmss_index);
	}
	cJSON_AddStringToObject(spec, "providerID", buf);
	if (!ready)
		cJSON_AddItemToObject(spec, "taints", cJSON_Parse(
		    "[{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoSchedule\"}]"));

	st = cJSON_AddObjectToObject(n, "status");
	cap = cJSON_AddObjectToObject(st, "capacity");
	snprintf(buf, sizeof buf, "%d", cpu);
	cJSON_AddStringToObject(cap, "cpu", buf);
	cJSON_AddStringToObject(cap, "ephemeral-storage", "129886128Ki");
	cJSON_AddStringToObject(cap, "hugepages-1Gi", "0");
	cJSON_AddStringToObject(cap, "hugepages-2Mi", "0");
	snprintf(buf, sizeof buf, "%dKi", gib * 1024 * 1024 - 416000);
	cJSON_AddStringToObject(cap, "memory", buf);
	cJSON_AddStringToObject(cap, "pods", "110");
	alloc = cJSON_AddObjectToObject(st, "allocatable");
	snprintf(buf, sizeof buf, "%dm", cpu * 1000 - 140);
	cJSON_AddStringToObject(alloc, "cpu", buf);
	cJSON_AddStringToObject(alloc, "ephemeral-storage", "119703055367");
	cJSON_AddStringToObject(alloc, "hugepages-1Gi", "0");
	cJSON_AddStringToObject(alloc, "hugepages-2Mi", "0");
	snprintf(buf, sizeof buf, "%dKi", gib * 1024 * 1024 * 8 / 10);
	cJSON_AddStringToObject(alloc, "memory", buf);
	cJSON_AddStringToObject(alloc, "pods", "110");
	node_conditions(st, ready, now);
	addrs = cJSON_AddArrayToObject(st, "addresses");
	sim_kube_ip_str((10u << 24) | (224u << 16) | (uint32_t)(4 + p->index), ip, sizeof ip);
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "type", "InternalIP");
	cJSON_AddStringToObject(a, "address", ip);
	cJSON_AddItemToArray(addrs, a);
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "type", "Hostname");
	cJSON_AddStringToObject(a, "address", p->name);
	cJSON_AddItemToArray(addrs, a);
	cJSON_AddItemToObject(st, "daemonEndpoints", cJSON_Parse("{\"kubeletEndpoint\":{\"Port\":10250}}"));
	ni = cJSON_AddObjectToObject(st, "nodeInfo");
	sim_uuid(id);
	cJSON_AddStringToObject(ni, "machineID", id);
	sim_uuid(id);
	cJSON_AddStringToObject(ni, "systemUUID", id);
	sim_uuid(id);
	cJSON_AddStringToObject(ni, "bootID", id);
	cJSON_AddStringToObject(ni, "kernelVersion", "5.15.0-1068-azure");
	cJSON_AddStringToObject(ni, "osImage", "Ubuntu 22.04.4 LTS");
	cJSON_AddStringToObject(ni, "containerRuntimeVersion", "containerd://1.7.20-1");
	snprintf(buf, sizeof buf, "v%s", c->version);
	cJSON_AddStringToObject(ni, "kubeletVersion", buf);
	cJSON_AddStringToObject(ni, "kubeProxyVersion", buf);
	cJSON_AddStringToObject(ni, "operatingSystem", "linux");
	cJSON_AddStringToObject(ni, "architecture", "amd64");
	return n;
}

static void
node_create(struct kcluster *c, const struct knode_plan *p, int ready)
{
	struct kres *r = sim_kube_res_builtin(c, K_NODE);
	cJSON *n = sim_kube_node_make(c, p, ready);

	if (r == NULL || n == NULL) {
		cJSON_Delete(n);
		return;
	}
	sim_kube_prepare_new(c, r, n, "kubelet");
	sim_kube_commit(c, r, n, KE_ADDED);
	cJSON_Delete(n);
}

void
sim_kube_nodes_start(struct kcluster *c, int nodes_now)
{
	int64_t now = sim_now_ms();

	for (int i = 0; i < c->nnodes; i++) {
		if (nodes_now)
			node_create(c, &c->nodes[i], 1);
		else
			sim_kube_timer_add(c, KT_NODE_JOIN,
			    now + (int64_t)(i + 1) * sim_kube_timings.node_join * 1000, "", c->nodes[i].name, "", i);
	}
}

/* Rewrites node N's Ready state (and its taints) to READY: "True",
 * "False" or "Unknown". */
static int
node_write_ready(struct kcluster *c, struct kobj *n, const char *ready)
{
	struct kres *r = sim_kube_res_builtin(c, K_NODE);
	cJSON *t = sim_kube_obj_parse(n), *conds, *cd, *spec, *taints;
	char now[40];
	int up = strcmp(ready, "True") == 0;

	if (t == NULL)
		return -1;
	sim_kube_now_str(now, sizeof now);
	conds = (cJSON *)sim_kube_jpath(t, "status.conditions");
	cJSON_ArrayForEach(cd, conds) {
		const char *type = sim_kube_jstr(cd, "type");
		if (strcmp(ready, "Unknown") == 0) {
			sim_kube_jset_str(cd, "status", "Unknown");
			sim_kube_jset_str(cd, "reason", "NodeStatusUnknown");
			sim_kube_jset_str(cd, "message", "Kubelet stopped posting node status.");
			sim_kube_jset_str(cd, "lastTransitionTime", now);
		} else if (strcmp(type, "Ready") == 0) {
			sim_kube_jset_str(cd, "status", ready);
			sim_kube_jset_str(cd, "reason", up ? "KubeletReady" : "KubeletNotReady");
			sim_kube_jset_str(cd, "message", up ? "kubelet is posting ready status"
			    : "container runtime is down");
			sim_kube_jset_str(cd, "lastTransitionTime", now);
			sim_kube_jset_str(cd, "lastHeartbeatTime", now);
		} else if (up) {
			static const char *const ok[][3] = {
				{ "MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available" },
				{ "DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure" },
				{ "PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available" },
			};
			for (int i = 0; i < 3; i++) {
				if (strcmp(type, ok[i][0]) == 0) {
					sim_kube_jset_str(cd, "status", "False");
					sim_kube_jset_str(cd, "reason", ok[i][1]);
					sim_kube_jset_str(cd, "message", ok[i][2]);
				}
			}
			sim_kube_jset_str(cd, "lastHeartbeatTime", now);
		}
	}
	spec = sim_kube_jobj(t, "spec");
	cJSON_DeleteItemFromObjectCaseSensitive(spec, "taints");
	if (!up) {
		taints = cJSON_CreateArray();
		if (strcmp(ready, "Unknown") == 0) {
			cJSON *x = cJSON_Parse("{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoSchedule\"}");
			cJSON *y = cJSON_Parse("{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\"}");
			sim_kube_jset_str(x, "timeAdded", now);
			sim_kube_jset_str(y, "timeAdded", now);
			cJSON_AddItemToArray(taints, x);
			cJSON_AddItemToArray(taints, y);
		} else {
			cJSON_AddItemToArray(taints, cJSON_Parse(
			    "{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoSchedule\"}"));
		}
		cJSON_AddItemToObject(spec, "taints", taints);
	}
	sim_kube_mf_update(t, NULL, NULL, "v1", "status");
	sim_kube_commit(c, r, t, KE_MODIFIED);
	{
		char nm[128], uid[40];
		snprintf(nm, sizeof nm, "%s", sim_kube_jstr(sim_kube_jpath(t, "metadata"), "name"));
		snprintf(uid, sizeof uid, "%s", sim_kube_jstr(sim_kube_jpath(t, "metadata"), "uid"));
		if (up)
			sim_kube_event(c, "Node", "v1", "default", nm, uid, NULL, "Normal", "NodeReady", "kubelet",
			    nm, "Node %s status is now: NodeReady", nm);
		else
			sim_kube_event(c, "Node", "v1", "default", nm, uid, NULL, "Normal", "NodeNotReady",
			    "node-controller", NULL, "Node %s status is now: NodeNotReady", nm);
	}
	cJSON_Delete(t);
	return 0;
}

/* ---- pods ---------------------------------------------------------------------------- */

static struct kobj *
node_pick(struct kcluster *c)
{
	struct kres *nr = sim_kube_res_builtin(c, K_NODE);
	size_t n = nr->store.n;

	for (size_t k = 0; k < n; k++) {
		struct kobj *nd = nr->store.v[(c->sched_rr + k) % n];
		if (nd->ready && strcmp(nd->fields[0], "true") != 0 && !nd->deleting) {
			c->sched_rr = (unsigned)((c->sched_rr + k + 1) % n);
			return nd;
		}
	}
	return NULL;
}

static const char *
node_ip(const struct kobj *nd, char *buf, size_t n)
{
	cJSON *t = sim_kube_obj_parse(nd);
	const cJSON *a;

	snprintf(buf, n, "10.224.0.4");
	cJSON_ArrayForEach(a, sim_kube_jpath(t, "status.addresses")) {
		if (strcmp(sim_kube_jstr(a, "type"), "InternalIP") == 0)
			snprintf(buf, n, "%s", sim_kube_jstr(a, "address"));
	}
	cJSON_Delete(t);
	return buf;
}

static cJSON *
find_cond(cJSON *conds, const char *type)
{
	cJSON *c;

	cJSON_ArrayForEach(c, conds) {
		if (strcmp(sim_kube_jstr(c, "type"), type) == 0)
			return c;
	}
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "type", type);
	cJSON_AddItemToArray(conds, c);
	return c;
}

static void
set_cond(cJSON *conds, const char *type, const char *status, const char *reason, const char *now)
{
	cJSON *c = find_cond(conds, type);

	if (cJSON_GetObjectItemCaseSensitive(c, "status") == NULL) {
		/* new: in the API's field order */
		cJSON_AddStringToObject(c, "status", status);
		cJSON_AddNullToObject(c, "lastProbeTime");
		cJSON_AddStringToObject(c, "lastTransitionTime", now);
	} else if (strcmp(sim_kube_jstr(c, "status"), status) != 0) {
		sim_kube_jset_str(c, "status", status);
		sim_kube_jset_str(c, "lastTransitionTime", now);
	}
	if (reason != NULL)
		sim_kube_jset_str(c, "reason", reason);
	else
		cJSON_DeleteItemFromObjectCaseSensitive(c, "reason");
}

enum pstate { PS_CREATING, PS_RUNNING, PS_READY, PS_CRASHED, PS_NOTREADY };

/* Rewrites the status of pod T to STATE (containers and conditions). */
static void
pod_status(cJSON *t, enum pstate state, const char *now, int backoff)
{
	cJSON *st = sim_kube_jobj(t, "status"), *conds, *css, *cs;
	const cJSON *ct;
	const char *pname = sim_kube_jstr(sim_kube_jpath(t, "metadata"), "name");
	const char *pns = sim_kube_jstr(sim_kube_jpath(t, "metadata"), "namespace");
	const char *puid = sim_kube_jstr(sim_kube_jpath(t, "metadata"), "uid");
	int ready = state == PS_READY;
	int running = state == PS_RUNNING || state == PS_READY || state == PS_NOTREADY;

	conds = cJSON_GetObjectItemCaseSensitive(st, "conditions");
	if (!cJSON_IsArray(conds)) {
		conds = cJSON_CreateArray();
		sim_kube_jset(st, "conditions", conds);
	}
	set_cond(conds, "PodReadyToStartContainers", state == PS_CREATING ? "False" : "True", NULL, now);
	set_cond(conds, "Initialized", "True", NULL, now);
	set_cond(conds, "Ready", ready ? "True" : "False", ready ? NULL : "ContainersNotReady", now);
	set_cond(conds, "ContainersReady", ready ? "True" : "False", ready ? NULL : "ContainersNotReady", now);
	set_cond(conds, "PodScheduled", "True", NULL, now);
	if (!ready) {
		char msg[512];
		snprintf(msg, sizeof msg, "containers with unready status: [%s]",
		    sim_kube_jstr(cJSON_GetArrayItem(sim_kube_jpath(t, "spec.containers"), 0), "name"));
		sim_kube_jset_str(find_cond(conds, "Ready"), "message", msg);
		sim_kube_jset_str(find_cond(conds, "ContainersReady"), "message", msg);
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(find_cond(conds, "Ready"), "message");
		cJSON_DeleteItemFromObjectCaseSensitive(find_cond(conds, "ContainersReady"), "message");
	}
	sim_kube_jset_str(st, "phase", state == PS_CREATING ? "Pending" : "Running");

	css = cJSON_GetObjectItemCaseSensitive(st, "containerStatuses");
	if (!cJSON_IsArray(css)) {
		css = cJSON_CreateArray();
		sim_kube_jset(st, "containerStatuses", css);
	}
	cJSON_ArrayForEach(ct, sim_kube_jpath(t, "spec.containers")) {
		const char *cname = sim_kube_jstr(ct, "name");
		cJSON *state_o = cJSON_CreateObject(), *inner;
		const cJSON *rc;
		int restarts, was_running;
		char cid[80], hex[65];

		cs = NULL;
		cJSON_ArrayForEach(inner, css) {
			if (strcmp(sim_kube_jstr(inner, "name"), cname) == 0)
				cs = inner;
		}
		if (cs == NULL) {
			cs = cJSON_CreateObject();
			cJSON_AddStringToObject(cs, "name", cname);
			cJSON_AddItemToArray(css, cs);
		}
		rc = cJSON_GetObjectItemCaseSensitive(cs, "restartCount");
		restarts = cJSON_IsNumber(rc) ? rc->valueint : 0;
		was_running = sim_kube_jpath(cs, "state.running") != NULL;
		if (state == PS_CRASHED) {
			cJSON *last = cJSON_CreateObject(), *term = cJSON_AddObjectToObject(last, "terminated");
			const cJSON *started = sim_kube_jpath(cs, "state.running.startedAt");
			char msg[600];

			cJSON_AddNumberToObject(term, "exitCode", 1);
			cJSON_AddStringToObject(term, "reason", "Error");
			if (sim_kube_jstr(cs, "containerID")[0] != '\0')
				cJSON_AddStringToObject(term, "containerID", sim_kube_jstr(cs, "containerID"));
			cJSON_AddStringToObject(term, "startedAt", cJSON_IsString(started) ? started->valuestring : now);
			cJSON_AddStringToObject(term, "finishedAt", now);
			sim_kube_jset(cs, "lastState", last);
			restarts++;
			inner = cJSON_AddObjectToObject(state_o, "waiting");
			cJSON_AddStringToObject(inner, "reason", "CrashLoopBackOff");
			snprintf(msg, sizeof msg, "back-off %ds restarting failed container=%s pod=%s_%s(%s)",
			    backoff, cname, pname, pns, puid);
			cJSON_AddStringToObject(inner, "message", msg);
		} else if (running) {
			inner = cJSON_AddObjectToObject(state_o, "running");
			{
				const cJSON *was = sim_kube_jpath(cs, "state.running.startedAt");
				cJSON_AddStringToObject(inner, "startedAt",
				    cJSON_IsString(was) ? was->valuestring : now);
			}
		} else {
			inner = cJSON_AddObjectToObject(state_o, "waiting");
			cJSON_AddStringToObject(inner, "reason", "ContainerCreating");
		}
		sim_kube_jset(cs, "state", state_o);
		if (cJSON_GetObjectItemCaseSensitive(cs, "lastState") == NULL)
			cJSON_AddObjectToObject(cs, "lastState");
		sim_kube_jset(cs, "ready", cJSON_CreateBool(ready));
		sim_kube_jset_num(cs, "restartCount", restarts);
		sim_kube_jset_str(cs, "image", sim_kube_jstr(ct, "image"));
		{
			char iid[300];
			snprintf(iid, sizeof iid, "%s@sha256:%s", sim_kube_jstr(ct, "image"),
			    "4f2a8c1e9b7d6053a1c2e3f4b5a6978812233445566778899aabbccddeeff001");
			sim_kube_jset_str(cs, "imageID", strchr(sim_kube_jstr(ct, "image"), '@') != NULL
			    ? sim_kube_jstr(ct, "image") : iid);
		}
		/* a container that starts is a new container */
		if (running && (!was_running || cJSON_GetObjectItemCaseSensitive(cs, "containerID") == NULL)) {
			sim_random_hex(hex, 64);
			snprintf(cid, sizeof cid, "containerd://%s", hex);
			sim_kube_jset_str(cs, "containerID", cid);
		}
		sim_kube_jset(cs, "started", cJSON_CreateBool(running));
	}
}

/* The deployment a pod's ReplicaSet belongs to ("" when none). */
static void
pod_deployment(struct kcluster *c, const struct kobj *pod, char *buf, size_t n)
{
	struct kres *rr = sim_kube_res_builtin(c, K_REPLICASET);
	struct kobj *rs = pod->owner_name[0] != '\0' ? sim_kube_store_get(&rr->store, pod->ns, pod->owner_name) : NULL;

	buf[0] = '\0';
	if (rs != NULL && rs->owner_name[0] != '\0')
		snprintf(buf, n, "%s", rs->owner_name);
}

static int
crashing(struct kcluster *c, const struct kobj *pod)
{
	char dep[256];

	pod_deployment(c, pod, dep, sizeof dep);
	for (size_t i = 0; i < c->ncrash; i++) {
		if (strcmp(c->crash[i].ns, pod->ns) != 0)
			continue;
		if (c->crash[i].deploy[0] == '\0' || strcmp(c->crash[i].deploy, dep) == 0)
			return 1;
	}
	return 0;
}

static int
node_ready(struct kcluster *c, const char *name)
{
	struct kres *nr = sim_kube_res_builtin(c, K_NODE);
	struct kobj *nd = sim_kube_store_get(&nr->store, "", name);

	return nd != NULL && nd->ready;
}

/* An Event about pod T (parsed) from COMPONENT (the kubelet: on its node). */
static void
pod_event(struct kcluster *c, const cJSON *t, const char *type, const char *reason, const char *component,
    const char *fmt, const char *arg)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(t, "metadata");
	const char *cname = sim_kube_jstr(cJSON_GetArrayItem(sim_kube_jpath(t, "spec.containers"), 0), "name");
	const char *node = sim_kube_jstr(cJSON_GetObjectItemCaseSensitive(t, "spec"), "nodeName");
	char fp[300];
	int kubelet = strcmp(component, "kubelet") == 0;

	snprintf(fp, sizeof fp, "spec.containers{%s}", cname);
	sim_kube_event(c, "Pod", "v1", sim_kube_jstr(md, "namespace"), sim_kube_jstr(md, "name"),
	    sim_kube_jstr(md, "uid"), kubelet ? fp : NULL, type, reason, component,
	    kubelet && node[0] != '\0' ? node : NULL, fmt, arg != NULL ? arg : cname);
}

/* Commits pod POD in STATE as the kubelet would report it. */
static void
pod_write(struct kcluster *c, struct kobj *pod, enum pstate state, int backoff)
{
	struct kres *pr = sim_kube_res_builtin(c, K_POD);
	cJSON *t = sim_kube_obj_parse(pod), *old;
	char now[40];

	if (t == NULL)
		return;
	old = cJSON_Duplicate(t, 1);
	sim_kube_now_str(now, sizeof now);
	pod_status(t, state, now, backoff);
	if (cJSON_GetObjectItemCaseSensitive(sim_kube_jobj(t, "status"), "startTime") == NULL)
		sim_kube_jset_str(sim_kube_jobj(t, "status"), "startTime", now);
	/* the kubelet reports changes only */
	if (!sim_kube_json_equal(cJSON_GetObjectItemCaseSensitive(t, "status"),
	    cJSON_GetObjectItemCaseSensitive(old, "status"))) {
		int started;
		const cJSON *cs0 = cJSON_GetArrayItem(sim_kube_jpath(old, "status.containerStatuses"), 0);

		started = state == PS_RUNNING && sim_kube_jpath(cs0, "state.running") == NULL;
		sim_kube_mf_update(t, old, "kubelet", "v1", "status");
		sim_kube_commit(c, pr, t, KE_MODIFIED);
		if (started) {
			char img[400];
			snprintf(img, sizeof img, "%s",
			    sim_kube_jstr(cJSON_GetArrayItem(sim_kube_jpath(t, "spec.containers"), 0), "image"));
			pod_event(c, t, "Normal", "Pulled", "kubelet",
			    "Container image \"%s\" already present on machine", img);
			pod_event(c, t, "Normal", "Created", "kubelet", "Created container %s", NULL);
			pod_event(c, t, "Normal", "Started", "kubelet", "Started container %s", NULL);
		} else if (state == PS_CRASHED) {
			char what[600];
			const cJSON *md = cJSON_GetObjectItemCaseSensitive(t, "metadata");
			snprintf(what, sizeof what, "%s in pod %s_%s(%s)",
			    sim_kube_jstr(cJSON_GetArrayItem(sim_kube_jpath(t, "spec.containers"), 0), "name"),
			    sim_kube_jstr(md, "name"), sim_kube_jstr(md, "namespace"), sim_kube_jstr(md, "uid"));
			pod_event(c, t, "Warning", "BackOff", "kubelet", "Back-off restarting failed container %s", what);
		}
	}
	cJSON_Delete(old);
	cJSON_Delete(t);
}

/* Places pod POD on a Ready node, or leaves it Pending as unschedulable.
 * Returns 1 when placed. */
static int
pod_schedule(struct kcluster *c, struct kobj *pod)
{
	struct kres *pr = sim_kube_res_builtin(c, K_POD);
	struct kobj *nd = node_pick(c);
	cJSON *t, *st, *conds, *old;
	char now[40], ip[32], hip[32], uid[40], ns[64], name[256];

	if (nd == NULL)
		return 0;
	t = sim_kube_obj_parse(pod);
	if (t == NULL)
		return 0;
	old = cJSON_Duplicate(t, 1);
	snprintf(uid, sizeof uid, "%s", pod->uid);
	snprintf(ns, sizeof ns, "%s", pod->ns);
	snprintf(name, sizeof name, "%s", pod->name);
	sim_kube_now_str(now, sizeof now);
	sim_kube_jset_str(sim_kube_jobj(t, "spec"), "nodeName", nd->name);
	sim_kube_mf_update(t, old, "kube-scheduler", "v1", "");
	st = sim_kube_jobj(t, "status");
	conds = cJSON_GetObjectItemCaseSensitive(st, "conditions");
	if (!cJSON_IsArray(conds)) {
		conds = cJSON_CreateArray();
		sim_kube_jset(st, "conditions", conds);
	}
	pod_status(t, PS_CREATING, now, 0);
	sim_kube_jset_str(st, "hostIP", node_ip(nd, hip, sizeof hip));
	sim_kube_jset(st, "hostIPs", cJSON_CreateArray());
	{
		cJSON *h = cJSON_CreateObject();
		cJSON_AddStringToObject(h, "ip", hip);
		cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(st, "hostIPs"), h);
	}
	sim_kube_ip_str(sim_kube_alloc_pod_ip(c), ip, sizeof ip);
	sim_kube_jset_str(st, "podIP", ip);
	{
		cJSON *ips = cJSON_CreateArray(), *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "ip", ip);
		cJSON_AddItemToArray(ips, e);
		sim_kube_jset(st, "podIPs", ips);
	}
	sim_kube_jset_str(st, "startTime", now);
	sim_kube_commit(c, pr, t, KE_MODIFIED);
	{
		char what[400];
		snprintf(what, sizeof what, "%s/%s to %s", ns, name, nd->name);
		pod_event(c, t, "Normal", "Scheduled", "default-scheduler", "Successfully assigned %s", what);
	}
	cJSON_Delete(t);
	cJSON_Delete(old);
	/* the containers start a third of the way, Ready at the end */
	sim_kube_timer_add(c, KT_POD_START, sim_now_ms() + (int64_t)sim_kube_timings.pod_ready * 1000 / 3,
	    ns, name, uid, 0);
	return 1;
}

static void
pod_unschedulable(struct kcluster *c, struct kobj *pod)
{
	struct kres *pr = sim_kube_res_builtin(c, K_POD), *nr = sim_kube_res_builtin(c, K_NODE);
	cJSON *t = sim_kube_obj_parse(pod), *conds, *cd;
	char now[40], msg[300];

	if (t == NULL)
		return;
	conds = (cJSON *)sim_kube_jpath(t, "status.conditions");
	if (cJSON_GetArraySize(conds) > 0) {
		cJSON_Delete(t);	/* already says so */
		return;
	}
	sim_kube_now_str(now, sizeof now);
	conds = cJSON_CreateArray();
	cd = condition("PodScheduled", "False", "Unschedulable", NULL, now, 0);
	snprintf(msg, sizeof msg, "0/%zu nodes are available: %zu node(s) had untolerated taint "
	    "{node.kubernetes.io/not-ready: }. preemption: 0/%zu nodes are available: %zu Preemption is not "
	    "helpful for scheduling.", nr->store.n, nr->store.n, nr->store.n, nr->store.n);
	cJSON_AddStringToObject(cd, "message", msg);
	cJSON_AddItemToArray(conds, cd);
	sim_kube_jset(sim_kube_jobj(t, "status"), "conditions", conds);
	sim_kube_commit(c, pr, t, KE_MODIFIED);
	pod_event(c, t, "Warning", "FailedScheduling", "default-scheduler", "%s", msg);
	cJSON_Delete(t);
}

/* Makes a pod of ReplicaSet RS (parsed): Ready at once when READY_NOW
 * (the world file's clusters), else scheduled and started over time. */
static void
pod_create(struct kcluster *c, const cJSON *rs, int ready_now, char *out, size_t outlen)
{
	struct kres *pr = sim_kube_res_builtin(c, K_POD);
	const cJSON *rmd = cJSON_GetObjectItemCaseSensitive(rs, "metadata");
	const cJSON *tmpl = sim_kube_jpath(rs, "spec.template");
	cJSON *p = cJSON_CreateObject(), *md, *ref, *refs;
	char name[300], sfx[8], gen[300];
	struct kobj *o;

	for (int tries = 0; tries < 10; tries++) {
		sim_kube_rand_suffix(sfx, 5);
		snprintf(name, sizeof name, "%s-%s", sim_kube_jstr(rmd, "name"), sfx);
		if (sim_kube_store_get(&pr->store, sim_kube_jstr(rmd, "namespace"), name) == NULL)
			break;
	}
	snprintf(gen, sizeof gen, "%s-", sim_kube_jstr(rmd, "name"));
	cJSON_AddStringToObject(p, "kind", "Pod");
	cJSON_AddStringToObject(p, "apiVersion", "v1");
	md = cJSON_AddObjectToObject(p, "metadata");
	cJSON_AddStringToObject(md, "name", name);
	cJSON_AddStringToObject(md, "generateName", gen);
	cJSON_AddStringToObject(md, "namespace", sim_kube_jstr(rmd, "namespace"));
	if (cJSON_IsObject(sim_kube_jpath(tmpl, "metadata.labels")))
		cJSON_AddItemToObject(md, "labels", cJSON_Duplicate(sim_kube_jpath(tmpl, "metadata.labels"), 1));
	if (cJSON_IsObject(sim_kube_jpath(tmpl, "metadata.annotations")))
		cJSON_AddItemToObject(md, "annotations",
		    cJSON_Duplicate(sim_kube_jpath(tmpl, "metadata.annotations"), 1));
	refs = cJSON_AddArrayToObject(md, "ownerReferences");
	ref = cJSON_CreateObject();
	cJSON_AddStringToObject(ref, "apiVersion", "apps/v1");
	cJSON_AddStringToObject(ref, "kind", "ReplicaSet");
	cJSON_AddStringToObject(ref, "name", sim_kube_jstr(rmd, "name"));
	cJSON_AddStringToObject(ref, "uid", sim_kube_jstr(rmd, "uid"));
	cJSON_AddBoolToObject(ref, "controller", 1);
	cJSON_AddBoolToObject(ref, "blockOwnerDeletion", 1);
	cJSON_AddItemToArray(refs, ref);
	cJSON_AddItemToObject(p, "spec", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(tmpl, "spec"), 1));
	sim_kube_prepare_new(c, pr, p, "kube-controller-manager");
	if (ready_now) {
		struct kobj *nd = node_pick(c);
		char now[40], ip[32], hip[32];
		cJSON *st = sim_kube_jobj(p, "status");

		if (nd != NULL) {
			sim_kube_now_str(now, sizeof now);
			sim_kube_jset_str(sim_kube_jobj(p, "spec"), "nodeName", nd->name);
			pod_status(p, PS_READY, now, 0);
			sim_kube_jset_str(st, "hostIP", node_ip(nd, hip, sizeof hip));
			sim_kube_ip_str(sim_kube_alloc_pod_ip(c), ip, sizeof ip);
			sim_kube_jset_str(st, "podIP", ip);
			{
				cJSON *ips = cJSON_CreateArray(), *e = cJSON_CreateObject();
				cJSON_AddStringToObject(e, "ip", ip);
				cJSON_AddItemToArray(ips, e);
				sim_kube_jset(st, "podIPs", ips);
			}
			sim_kube_jset_str(st, "startTime", now);
		}
	}
	o = sim_kube_commit(c, pr, p, KE_ADDED);
	cJSON_Delete(p);
	snprintf(out, outlen, "%s", o != NULL ? name : "");
	if (o != NULL && !ready_now && !pod_schedule(c, o)) {
		o = sim_kube_store_get(&pr->store, sim_kube_jstr(rmd, "namespace"), name);
		if (o != NULL)
			pod_unschedulable(c, o);
		c->unscheduled = 1;
	}
}

/* ---- deployments ---------------------------------------------------------------------- */

struct podinfo {
	char name[256];
	int ready;
	uint64_t rv;
};

/* The live pods of ReplicaSet RSNAME/RSUID: copied out, since commits
 * replace store entries. */
static size_t
rs_pods(struct kcluster *c, const char *ns, const char *rsname, const char *rsuid,
    struct podinfo **out, int *nready)
{
	struct kres *pr = sim_kube_res_builtin(c, K_POD);
	char prefix[300];
	size_t plen, i, n = 0, cap = 0;
	struct podinfo *v = NULL;

	*nready = 0;
	snprintf(prefix, sizeof prefix, "%s-", rsname);
	plen = strlen(prefix);
	for (i = sim_kube_store_lower(&pr->store, ns, prefix); i < pr->store.n; i++) {
		struct kobj *o = pr->store.v[i];

		if (strcmp(o->ns, ns) != 0 || strncmp(o->name, prefix, plen) != 0)
			break;
		if (strcmp(o->owner_uid, rsuid) != 0 || o->deleting)
			continue;
		if (n == cap) {
			size_t ncap = cap != 0 ? cap * 2 : 16;
			struct podinfo *nv = realloc(v, ncap * sizeof *nv);
			if (nv == NULL)
				break;
			v = nv;
			cap = ncap;
		}
		snprintf(v[n].name, sizeof v[n].name, "%s", o->name);
		v[n].ready = o->ready;
		v[n].rv = o->rv;
		*nready += o->ready;
		n++;
	}
	*out = v;
	return n;
}

static int
podinfo_victim_cmp(const void *a, const void *b)
{
	const struct podinfo *x = a, *y = b;

	/* not-ready first, then the newest */
	if (x->ready != y->ready)
		return x->ready - y->ready;
	return x->rv < y->rv ? 1 : x->rv > y->rv ? -1 : 0;
}

/* Creates or deletes pods of ReplicaSet RS until it has TARGET. */
static void
rs_scale_pods(struct kcluster *c, const cJSON *rs, int target, int ready_now)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(rs, "metadata");
	struct podinfo *pods;
	int nready;
	size_t n = rs_pods(c, sim_kube_jstr(md, "namespace"), sim_kube_jstr(md, "name"),
	    sim_kube_jstr(md, "uid"), &pods, &nready);

	for (int k = (int)n; k < target; k++) {
		char pname[300];

		pod_create(c, rs, ready_now, pname, sizeof pname);
		if (!ready_now && pname[0] != '\0')
			sim_kube_event(c, "ReplicaSet", "apps/v1", sim_kube_jstr(md, "namespace"),
			    sim_kube_jstr(md, "name"), sim_kube_jstr(md, "uid"), NULL, "Normal", "SuccessfulCreate",
			    "replicaset-controller", NULL, "Created pod: %s", pname);
	}
	if ((int)n > target) {
		qsort(pods, n, sizeof *pods, podinfo_victim_cmp);
		for (size_t k = 0; k < n - (size_t)target; k++) {
			sim_kube_delete_obj(c, sim_kube_res_builtin(c, K_POD), sim_kube_jstr(md, "namespace"),
			    pods[k].name, -1, 0);
			sim_kube_event(c, "ReplicaSet", "apps/v1", sim_kube_jstr(md, "namespace"),
			    sim_kube_jstr(md, "name"), sim_kube_jstr(md, "uid"), NULL, "Normal", "SuccessfulDelete",
			    "replicaset-controller", NULL, "Deleted pod: %s", pods[k].name);
		}
	}
	free(pods);
}

static int
rs_status_write(struct kcluster *c, struct kobj *rso, int replicas, int ready)
{
	struct kres *rr = sim_kube_res_builtin(c, K_REPLICASET);
	cJSON *t = sim_kube_obj_parse(rso), *old, *st;
	const cJSON *gen;

	if (t == NULL)
		return -1;
	old = cJSON_Duplicate(t, 1);
	st = cJSON_CreateObject();
	cJSON_AddNumberToObject(st, "replicas", replicas);
	if (replicas > 0)
		cJSON_AddNumberToObject(st, "fullyLabeledReplicas", replicas);
	if (ready > 0) {
		cJSON_AddNumberToObject(st, "readyReplicas", ready);
		cJSON_AddNumberToObject(st, "availableReplicas", ready);
	}
	gen = sim_kube_jpath(t, "metadata.generation");
	cJSON_AddNumberToObject(st, "observedGeneration", cJSON_IsNumber(gen) ? gen->valuedouble : 1);
	if (sim_kube_json_equal(st, cJSON_GetObjectItemCaseSensitive(t, "status"))) {
		cJSON_Delete(st);
		cJSON_Delete(old);
		cJSON_Delete(t);
		return 0;
	}
	sim_kube_jset(t, "status", st);
	sim_kube_mf_update(t, old, "kube-controller-manager", "apps/v1", "status");
	sim_kube_commit(c, rr, t, KE_MODIFIED);
	cJSON_Delete(old);
	cJSON_Delete(t);
	return 1;
}

static int
percent_of(const cJSON *v, int total, int round_up)
{
	if (cJSON_IsNumber(v))
		return v->valueint;
	if (cJSON_IsString(v)) {
		int pct = atoi(v->valuestring);
		return round_up ? (total * pct + 99) / 100 : total * pct / 100;
	}
	return round_up ? (total + 3) / 4 : total / 4;
}

static cJSON *
deploy_condition(const cJSON *oldconds, const char *type, const char *status, const char *reason,
    const char *msg, const char *now)
{
	cJSON *c = cJSON_CreateObject();
	const cJSON *o, *was = NULL;

	cJSON_ArrayForEach(o, oldconds) {
		if (strcmp(sim_kube_jstr(o, "type"), type) == 0)
			was = o;
	}
	cJSON_AddStringToObject(c, "type", type);
	cJSON_AddStringToObject(c, "status", status);
	cJSON_AddStringToObject(c, "lastUpdateTime",
	    was != NULL && strcmp(sim_kube_jstr(was, "reason"), reason) == 0
	    && strcmp(sim_kube_jstr(was, "message"), msg) == 0 ? sim_kube_jstr(was, "lastUpdateTime") : now);
	cJSON_AddStringToObject(c, "lastTransitionTime",
	    was != NULL && strcmp(sim_kube_jstr(was, "status"), status) == 0
	    ? sim_kube_jstr(was, "lastTransitionTime") : now);
	cJSON_AddStringToObject(c, "reason", reason);
	cJSON_AddStringToObject(c, "message", msg);
	return c;
}

struct rsinfo {
	char name[256];
	char uid[40];
	int current;		/* is the one for the current template */
	int spec_replicas;
	int revision;
};

static void
reconcile(struct kcluster *c, const char *ns, const char *name, int ready_now)
{
	struct kres *dr = sim_kube_res_builtin(c, K_DEPLOYMENT), *rr = sim_kube_res_builtin(c, K_REPLICASET);
	struct kobj *d = sim_kube_store_get(&dr->store, ns, name), *ro;
	cJSON *dt, *old, *tmpl, *st, *conds;
	const cJSON *rep, *gen, *strategy;
	char hash[16], rsname[300], duid[40], now[40], msg[600];
	struct rsinfo rs[32];
	int nrs = 0, cur = -1, replicas, max_rev = 0, total = 0, total_ready = 0, updated = 0;
	int new_ready = 0, recreate, max_unavail;

	if (d == NULL || d->deleting)
		return;
	dt = sim_kube_obj_parse(d);
	if (dt == NULL)
		return;
	snprintf(duid, sizeof duid, "%s", d->uid);
	rep = sim_kube_jpath(dt, "spec.replicas");
	replicas = cJSON_IsNumber(rep) ? rep->valueint : 1;
	tmpl = (cJSON *)sim_kube_jpath(dt, "spec.template");
	strategy = sim_kube_jpath(dt, "spec.strategy");
	recreate = strcmp(sim_kube_jstr(strategy, "type"), "Recreate") == 0;
	max_unavail = percent_of(sim_kube_jpath(strategy, "rollingUpdate.maxUnavailable"), replicas, 0);
	sim_kube_template_hash(tmpl, hash, sizeof hash);
	snprintf(rsname, sizeof rsname, "%s-%s", name, hash);

	/* the ReplicaSets it owns */
	for (size_t i = sim_kube_store_lower(&rr->store, ns, ""); i < rr->store.n && nrs < 32; i++) {
		struct kobj *o = rr->store.v[i];
		const char *h;
		cJSON *t;

		if (strcmp(o->ns, ns) != 0)
			break;
		if (strcmp(o->owner_uid, duid) != 0 || o->deleting)
			continue;
		t = sim_kube_obj_parse(o);
		snprintf(rs[nrs].name, sizeof rs[0].name, "%s", o->name);
		snprintf(rs[nrs].uid, sizeof rs[0].uid, "%s", o->uid);
		h = sim_kube_obj_label(o, "pod-template-hash");
		rs[nrs].current = h != NULL && strcmp(h, hash) == 0;
		rs[nrs].spec_replicas = cJSON_IsNumber(sim_kube_jpath(t, "spec.replicas"))
		    ? sim_kube_jpath(t, "spec.replicas")->valueint : 0;
		rs[nrs].revision = atoi(sim_kube_jstr(sim_kube_jpath(t, "metadata.annotations"),
		    "deployment.kubernetes.io/revision"));
		if (rs[nrs].revision > max_rev)
			max_rev = rs[nrs].revision;
		if (rs[nrs].current)
			cur = nrs;
		cJSON_Delete(t);
		nrs++;
	}
	if (cur < 0 && nrs < 32 && sim_kube_store_get(&rr->store, ns, rsname) == NULL) {
		/* a new template: its ReplicaSet */
		cJSON *r = cJSON_CreateObject(), *md, *labels, *ann, *ref, *spec, *sel, *t2;
		char revs[16], reps[16];

		md = cJSON_AddObjectToObject(r, "metadata");
		cJSON_AddStringToObject(md, "name", rsname);
		cJSON_AddStringToObject(md, "namespace", ns);
		labels = cJSON_Duplicate(sim_kube_jpath(tmpl, "metadata.labels"), 1);
		if (labels == NULL)
			labels = cJSON_CreateObject();
		cJSON_AddStringToObject(labels, "pod-template-hash", hash);
		cJSON_AddItemToObject(md, "labels", labels);
		ann = cJSON_AddObjectToObject(md, "annotations");
		snprintf(reps, sizeof reps, "%d", replicas);
		cJSON_AddStringToObject(ann, "deployment.kubernetes.io/desired-replicas", reps);
		snprintf(reps, sizeof reps, "%d", replicas + percent_of(sim_kube_jpath(strategy,
		    "rollingUpdate.maxSurge"), replicas, 1));
		cJSON_AddStringToObject(ann, "deployment.kubernetes.io/max-replicas", reps);
		snprintf(revs, sizeof revs, "%d", max_rev + 1);
		cJSON_AddStringToObject(ann, "deployment.kubernetes.io/revision", revs);
		ref = cJSON_CreateObject();
		cJSON_AddStringToObject(ref, "apiVersion", "apps/v1");
		cJSON_AddStringToObject(ref, "kind", "Deployment");
		cJSON_AddStringToObject(ref, "name", name);
		cJSON_AddStringToObject(ref, "uid", duid);
		cJSON_AddBoolToObject(ref, "controller", 1);
		cJSON_AddBoolToObject(ref, "blockOwnerDeletion", 1);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(md, "ownerReferences"), ref);
		spec = cJSON_AddObjectToObject(r, "spec");
		cJSON_AddNumberToObject(spec, "replicas", 0);
		sel = cJSON_Duplicate(sim_kube_jpath(dt, "spec.selector"), 1);
		cJSON_AddStringToObject(sim_kube_jobj(sel, "matchLabels"), "pod-template-hash", hash);
		cJSON_AddItemToObject(spec, "selector", sel);
		t2 = cJSON_Duplicate(tmpl, 1);
		cJSON_AddStringToObject(sim_kube_jobj(sim_kube_jobj(t2, "metadata"), "labels"), "pod-template-hash", hash);
		cJSON_AddItemToObject(spec, "template", t2);
		sim_kube_prepare_new(c, rr, r, "kube-controller-manager");
		ro = sim_kube_commit(c, rr, r, KE_ADDED);
		cJSON_Delete(r);
		if (ro != NULL) {
			snprintf(rs[nrs].name, sizeof rs[0].name, "%s", ro->name);
			snprintf(rs[nrs].uid, sizeof rs[0].uid, "%s", ro->uid);
			rs[nrs].current = 1;
			rs[nrs].spec_replicas = 0;
			rs[nrs].revision = max_rev + 1;
			cur = nrs++;
		}
	}

	/* targets: the new ReplicaSet gets every replica; old ones keep what
	 * the new pods do not yet cover (all at once with Recreate) */
	if (cur >= 0) {
		struct podinfo *pods;
		int old_pods = 0;

		rs_pods(c, ns, rs[cur].name, rs[cur].uid, &pods, &new_ready);
		free(pods);
		for (int i = 0; i < nrs; i++) {
			int nr;
			struct podinfo *p;

			if (i == cur)
				continue;
			old_pods += (int)rs_pods(c, ns, rs[i].name, rs[i].uid, &p, &nr);
			free(p);
		}
		for (int i = 0; i < nrs; i++) {
			int target;
			struct kobj *o;
			cJSON *t;

			if (i == cur)
				target = recreate && old_pods > 0 ? 0 : replicas;
			else
				target = recreate ? 0 : replicas - new_ready > 0 ? rs[i].spec_replicas < replicas - new_ready
				    ? rs[i].spec_replicas : replicas - new_ready : 0;
			o = sim_kube_store_get(&rr->store, ns, rs[i].name);
			if (o == NULL)
				continue;
			t = sim_kube_obj_parse(o);
			if (t != NULL && rs[i].spec_replicas != target) {
				cJSON *old2 = cJSON_Duplicate(t, 1);
				sim_kube_jset_num(sim_kube_jobj(t, "spec"), "replicas", target);
				if (i == cur) {
					char reps[16];
					snprintf(reps, sizeof reps, "%d", replicas);
					sim_kube_jset_str(sim_kube_jobj(sim_kube_jobj(t, "metadata"), "annotations"),
					    "deployment.kubernetes.io/desired-replicas", reps);
				}
				sim_kube_mf_update(t, old2, "kube-controller-manager", "apps/v1", "");
				sim_kube_commit(c, rr, t, KE_MODIFIED);
				cJSON_Delete(old2);
				if (!ready_now) {
					if (target > rs[i].spec_replicas)
						sim_kube_event(c, "Deployment", "apps/v1", ns, name, duid, NULL, "Normal",
						    "ScalingReplicaSet", "deployment-controller", NULL,
						    "Scaled up replica set %s to %d", rs[i].name, target);
					else
						sim_kube_event(c, "Deployment", "apps/v1", ns, name, duid, NULL, "Normal",
						    "ScalingReplicaSet", "deployment-controller", NULL,
						    "Scaled down replica set %s to %d from %d", rs[i].name, target,
						    rs[i].spec_replicas);
				}
				rs[i].spec_replicas = target;
			}
			if (t != NULL)
				rs_scale_pods(c, t, target, ready_now);
			cJSON_Delete(t);
		}
		/* ReplicaSet status, and the totals for the deployment's */
		for (int i = 0; i < nrs; i++) {
			int nr;
			struct podinfo *p;
			size_t np = rs_pods(c, ns, rs[i].name, rs[i].uid, &p, &nr);

			free(p);
			total += (int)np;
			total_ready += nr;
			if (i == cur) {
				updated = (int)np;
				new_ready = nr;
			}
			ro = sim_kube_store_get(&rr->store, ns, rs[i].name);
			if (ro != NULL)
				rs_status_write(c, ro, (int)np, nr);
		}
	}

	/* old ReplicaSets beyond spec.revisionHistoryLimit (default 10) go,
	 * oldest revision first, once they have no pods */
	if (cur >= 0) {
		const cJSON *lim = sim_kube_jpath(dt, "spec.revisionHistoryLimit");
		int limit = cJSON_IsNumber(lim) ? lim->valueint : 10, nold = 0;

		for (int i = 0; i < nrs; i++)
			nold += i != cur && rs[i].spec_replicas == 0;
		while (nold > limit) {
			int victim = -1, nr;
			struct podinfo *p;

			for (int i = 0; i < nrs; i++)
				if (i != cur && rs[i].spec_replicas == 0 && rs[i].name[0] != '\0'
				    && (victim < 0 || rs[i].revision < rs[victim].revision))
					victim = i;
			if (victim < 0)
				break;
			if (rs_pods(c, ns, rs[victim].name, rs[victim].uid, &p, &nr) == 0)
				sim_kube_delete_obj(c, rr, ns, rs[victim].name, -1, 0);
			free(p);
			rs[victim].name[0] = '\0';
			nold--;
		}
	}

	/* the deployment's status */
	d = sim_kube_store_get(&dr->store, ns, name);
	if (d == NULL) {
		cJSON_Delete(dt);
		return;
	}
	cJSON_Delete(dt);
	dt = sim_kube_obj_parse(d);
	if (dt == NULL)
		return;
	old = cJSON_Duplicate(dt, 1);
	sim_kube_now_str(now, sizeof now);
	st = cJSON_CreateObject();
	gen = sim_kube_jpath(dt, "metadata.generation");
	cJSON_AddNumberToObject(st, "observedGeneration", cJSON_IsNumber(gen) ? gen->valuedouble : 1);
	cJSON_AddNumberToObject(st, "replicas", total);
	cJSON_AddNumberToObject(st, "updatedReplicas", updated);
	if (total_ready > 0) {
		cJSON_AddNumberToObject(st, "readyReplicas", total_ready);
		cJSON_AddNumberToObject(st, "availableReplicas", total_ready);
	}
	if (replicas - total_ready > 0)
		cJSON_AddNumberToObject(st, "unavailableReplicas", replicas - total_ready);
	conds = cJSON_AddArrayToObject(st, "conditions");
	{
		const cJSON *oldconds = sim_kube_jpath(old, "status.conditions");
		int avail = total_ready >= replicas - max_unavail;

		cJSON_AddItemToArray(conds, deploy_condition(oldconds, "Available", avail ? "True" : "False",
		    avail ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
		    avail ? "Deployment has minimum availability." : "Deployment does not have minimum availability.",
		    now));
		if (updated == replicas && new_ready == replicas && total == replicas) {
			snprintf(msg, sizeof msg, "ReplicaSet \"%s\" has successfully progressed.", rsname);
			cJSON_AddItemToArray(conds, deploy_condition(oldconds, "Progressing", "True",
			    "NewReplicaSetAvailable", msg, now));
		} else {
			snprintf(msg, sizeof msg, "ReplicaSet \"%s\" is progressing.", rsname);
			cJSON_AddItemToArray(conds, deploy_condition(oldconds, "Progressing", "True",
			    "ReplicaSetUpdated", msg, now));
		}
	}
	if (!sim_kube_json_equal(st, cJSON_GetObjectItemCaseSensitive(dt, "status"))
	    || (cur >= 0 && rs[cur].revision != atoi(sim_kube_jstr(sim_kube_jpath(dt, "metadata.annotations"),
	    "deployment.kubernetes.io/revision")))) {
		sim_kube_jset(dt, "status", st);
		st = NULL;
		if (cur >= 0) {
			char revs[16];
			snprintf(revs, sizeof revs, "%d", rs[cur].revision);
			sim_kube_jset_str(sim_kube_jobj(sim_kube_jobj(dt, "metadata"), "annotations"),
			    "deployment.kubernetes.io/revision", revs);
		}
		sim_kube_mf_update(dt, old, "kube-controller-manager", "apps/v1", "status");
		sim_kube_commit(c, dr, dt, KE_MODIFIED);
	}
	cJSON_Delete(st);
	cJSON_Delete(old);
	cJSON_Delete(dt);
}

void
sim_kube_reconcile(struct kcluster *c, const char *ns, const char *name)
{
	reconcile(c, ns, name, 1);
}

/* ---- change hooks --------------------------------------------------------------------- */

static void
namespace_defaults(struct kcluster *c, const char *ns)
{
	struct kres *sa = sim_kube_res_builtin(c, K_SERVICEACCOUNT), *cm = sim_kube_res_builtin(c, K_CONFIGMAP);
	cJSON *o;

	if (sim_kube_store_get(&sa->store, ns, "default") == NULL) {
		o = cJSON_CreateObject();
		sim_kube_jset_str(sim_kube_jobj(o, "metadata"), "name", "default");
		sim_kube_jset_str(sim_kube_jobj(o, "metadata"), "namespace", ns);
		sim_kube_prepare_new(c, sa, o, NULL);
		sim_kube_commit(c, sa, o, KE_ADDED);
		cJSON_Delete(o);
	}
	if (sim_kube_store_get(&cm->store, ns, "kube-root-ca.crt") == NULL) {
		o = cJSON_CreateObject();
		sim_kube_jset_str(sim_kube_jobj(o, "metadata"), "name", "kube-root-ca.crt");
		sim_kube_jset_str(sim_kube_jobj(o, "metadata"), "namespace", ns);
		sim_kube_jset_str(sim_kube_jobj(o, "metadata"), "annotations", "");
		cJSON_DeleteItemFromObjectCaseSensitive(sim_kube_jobj(o, "metadata"), "annotations");
		sim_kube_jset_str(sim_kube_jobj(sim_kube_jobj(o, "metadata"), "annotations"),
		    "kubernetes.io/description", "Contains a CA bundle that can be used to verify the "
		    "kube-apiserver when using internal endpoints such as the internal service IP or "
		    "kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.");
		sim_kube_jset_str(sim_kube_jobj(o, "data"), "ca.crt",
		    sim_tls.ca_pem != NULL ? sim_tls.ca_pem : "");
		sim_kube_prepare_new(c, cm, o, "kube-controller-manager");
		sim_kube_commit(c, cm, o, KE_ADDED);
		cJSON_Delete(o);
	}
}

void
sim_kube_ctrl_changed(struct kcluster *c, struct kres *r, const struct kobj *old,
    const struct kobj *cur, enum kev type)
{
	char dep[256];

	switch (r->kk) {
	case K_DEPLOYMENT:
		if (type != KE_DELETED)
			sim_kube_mark_dirty(c, cur->ns, cur->name);
		break;
	case K_REPLICASET:
		if (cur->owner_name[0] != '\0')
			sim_kube_mark_dirty(c, cur->ns, cur->owner_name);
		break;
	case K_POD:
		if (cur->owner_name[0] != '\0') {
			pod_deployment(c, cur, dep, sizeof dep);
			if (dep[0] != '\0')
				sim_kube_mark_dirty(c, cur->ns, dep);
		}
		if (type == KE_ADDED && cur->fields[0][0] == '\0')
			c->unscheduled = 1;
		break;
	case K_NODE:
		if (type != KE_DELETED && (old == NULL || old->ready != cur->ready) && cur->ready)
			c->unscheduled = 1;
		break;
	case K_NAMESPACE:
		if (type == KE_ADDED)
			namespace_defaults(c, cur->name);
		break;
	case K_CRD: {
		cJSON *t = sim_kube_obj_parse(cur);
		if (t != NULL)
			sim_kube_crd_sync(c, t, type == KE_DELETED || cur->deleting);
		cJSON_Delete(t);
		break;
	}
	default:
		break;
	}
}

/* ---- faults ------------------------------------------------------------------------------ */

/* Marks the pods on node NODE (not) Ready, as the node lifecycle
 * controller and then the kubelet do. */
static void
pods_on_node(struct kcluster *c, const char *node, int ready)
{
	struct kres *pr = sim_kube_res_builtin(c, K_POD);
	struct podinfo *v = NULL;
	char (*nss)[64] = NULL;
	size_t n = 0;

	v = malloc((pr->store.n + 1) * sizeof *v);
	nss = malloc((pr->store.n + 1) * sizeof *nss);
	for (size_t i = 0; v != NULL && nss != NULL && i < pr->store.n; i++) {
		struct kobj *o = pr->store.v[i];
		if (strcmp(o->fields[0], node) != 0 || o->deleting)
			continue;
		if (strcmp(o->fields[1], "Running") != 0)
			continue;
		if (ready ? o->ready : !o->ready)
			continue;
		if (ready && crashing(c, o))
			continue;
		snprintf(v[n].name, sizeof v[n].name, "%s", o->name);
		snprintf(nss[n], sizeof nss[0], "%s", o->ns);
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		struct kobj *o = sim_kube_store_get(&pr->store, nss[i], v[i].name);
		if (o != NULL)
			pod_write(c, o, ready ? PS_READY : PS_NOTREADY, 0);
	}
	free(v);
	free(nss);
}

int
sim_kube_node_set_ready(struct kcluster *c, const char *node, int ready)
{
	struct kres *nr = sim_kube_res_builtin(c, K_NODE);
	char names[256][96];
	int n = 0;

	for (size_t i = 0; i < nr->store.n && n < 256; i++) {
		struct kobj *o = nr->store.v[i];
		if (node != NULL ? strcmp(o->name, node) == 0 : ready ? !o->ready : n == 0)
			snprintf(names[n++], sizeof names[0], "%s", o->name);
	}
	if (n == 0)
		return node != NULL || !ready ? -1 : 0;
	for (int i = 0; i < n; i++) {
		struct kobj *o = sim_kube_store_get(&nr->store, "", names[i]);
		if (o == NULL)
			continue;
		node_write_ready(c, o, ready ? "True" : "Unknown");
		pods_on_node(c, names[i], ready);
	}
	if (ready)
		c->unscheduled = 1;
	return 0;
}

void
sim_kube_crashloop(struct kcluster *c, const char *ns, const char *deploy, int on)
{
	struct kres *pr = sim_kube_res_builtin(c, K_POD);
	size_t i;
	int64_t now = sim_now_ms();

	for (i = 0; i < c->ncrash; i++)
		if (strcmp(c->crash[i].ns, ns) == 0 && strcmp(c->crash[i].deploy, deploy) == 0)
			break;
	if (on && i == c->ncrash) {
		struct kcrash *nc = realloc(c->crash, (c->ncrash + 1) * sizeof *nc);
		if (nc == NULL)
			return;
		c->crash = nc;
		snprintf(c->crash[c->ncrash].ns, sizeof c->crash[0].ns, "%s", ns);
		snprintf(c->crash[c->ncrash].deploy, sizeof c->crash[0].deploy, "%s", deploy);
		c->ncrash++;
	} else if (!on) {
		/* off for the namespace also ends a per-deployment rule */
		for (size_t k = c->ncrash; k-- > 0;) {
			if (strcmp(c->crash[k].ns, ns) == 0 && (deploy[0] == '\0'
			    || strcmp(c->crash[k].deploy, deploy) == 0)) {
				c->crash[k] = c->crash[c->ncrash - 1];
				c->ncrash--;
			}
		}
	}
	/* running pods crash now; crashed ones restart cleanly now */
	for (i = sim_kube_store_lower(&pr->store, ns, ""); i < pr->store.n; i++) {
		struct kobj *o = pr->store.v[i];
		if (strcmp(o->ns, ns) != 0)
			break;
		if (o->deleting || o->fields[0][0] == '\0' || strcmp(o->fields[1], "Running") != 0)
			continue;
		if (on && crashing(c, o))
			sim_kube_timer_add(c, KT_POD_CRASH, now, o->ns, o->name, o->uid, 1);
		else if (!on && !crashing(c, o) && !o->ready)
			sim_kube_timer_add(c, KT_POD_START, now, o->ns, o->name, o->uid, 0);
	}
}

/* ---- the tick ----------------------------------------------------------------------------- */

static int
backoff_for(const struct kobj *pod)
{
	/* 10 s doubling up to 5 min, by how often it has restarted */
	cJSON *t = sim_kube_obj_parse(pod);
	const cJSON *cs = cJSON_GetArrayItem(sim_kube_jpath(t, "status.containerStatuses"), 0);
	const cJSON *rc = cJSON_GetObjectItemCaseSensitive(cs, "restartCount");
	int n = cJSON_IsNumber(rc) ? rc->valueint : 0, b = 10;

	cJSON_Delete(t);
	while (n-- > 0 && b < 300)
		b *= 2;
	return b > 300 ? 300 : b;
}

static void
run_timer(struct kcluster *c, const struct ktimer *t, int64_t now)
{
	struct kres *pr = sim_kube_res_builtin(c, K_POD), *nr = sim_kube_res_builtin(c, K_NODE);
	struct kobj *o;

	switch (t->kind) {
	case KT_NODE_JOIN:
		if (t->arg >= 0 && t->arg < c->nnodes && sim_kube_store_get(&nr->store, "", t->name) == NULL) {
			node_create(c, &c->nodes[t->arg], 0);
			o = sim_kube_store_get(&nr->store, "", t->name);
			if (o != NULL)
				sim_kube_event(c, "Node", "v1", "default", t->name, o->uid, NULL, "Normal",
				    "RegisteredNode", "node-controller", NULL,
				    "Node %s event: Registered Node %s in Controller", t->name, t->name);
			sim_kube_timer_add(c, KT_NODE_READY, now + (int64_t)sim_kube_timings.node_ready * 1000,
			    "", t->name, "", t->arg);
		}
		break;
	case KT_NODE_READY:
		o = sim_kube_store_get(&nr->store, "", t->name);
		if (o != NULL && !o->ready)
			node_write_ready(c, o, "True");
		break;
	case KT_POD_START:
		o = sim_kube_store_get(&pr->store, t->ns, t->name);
		if (o == NULL || strcmp(o->uid, t->uid) != 0 || o->deleting)
			break;
		if (o->fields[0][0] != '\0' && !node_ready(c, o->fields[0]))
			break;	/* the node's own recovery brings it back */
		if (o->ready && t->arg == 0)
			break;	/* already up (a stale timer) */
		if (crashing(c, o)) {
			pod_write(c, o, PS_RUNNING, 0);
			o = sim_kube_store_get(&pr->store, t->ns, t->name);
			if (o != NULL)
				sim_kube_timer_add(c, KT_POD_CRASH, now + 3000, t->ns, t->name, t->uid, 1);
		} else if (t->arg == 0) {
			pod_write(c, o, PS_RUNNING, 0);
			sim_kube_timer_add(c, KT_POD_START,
			    now + (int64_t)sim_kube_timings.pod_ready * 1000 * 2 / 3, t->ns, t->name, t->uid, 1);
		} else {
			pod_write(c, o, PS_READY, 0);
		}
		break;
	case KT_POD_CRASH:
		o = sim_kube_store_get(&pr->store, t->ns, t->name);
		if (o == NULL || strcmp(o->uid, t->uid) != 0 || o->deleting)
			break;
		if (!crashing(c, o)) {
			/* healed meanwhile: a clean start unless it is up already */
			if (!o->ready)
				sim_kube_timer_add(c, KT_POD_START, now, t->ns, t->name, t->uid, 0);
			break;
		}
		if (t->arg == 1) {
			/* the container dies; the kubelet backs off */
			int b = backoff_for(o);
			pod_write(c, o, PS_CRASHED, b);
			sim_kube_timer_add(c, KT_POD_CRASH, now + (int64_t)b * 1000, t->ns, t->name, t->uid, 0);
		} else {
			/* restarted: runs a few seconds, then dies again */
			pod_write(c, o, PS_RUNNING, 0);
			sim_kube_timer_add(c, KT_POD_CRASH, now + 3000, t->ns, t->name, t->uid, 1);
		}
		break;
	case KT_POD_GONE:
		o = sim_kube_store_get(&pr->store, t->ns, t->name);
		if (o != NULL && strcmp(o->uid, t->uid) == 0) {
			cJSON *tr = sim_kube_obj_parse(o);
			if (tr != NULL) {
				sim_kube_commit(c, pr, tr, KE_DELETED);
				cJSON_Delete(tr);
			}
		}
		break;
	case KT_NS_GONE: {
		struct kres *nsr = sim_kube_res_builtin(c, K_NAMESPACE);
		int left = 0;

		o = sim_kube_store_get(&nsr->store, "", t->name);
		if (o == NULL || strcmp(o->uid, t->uid) != 0)
			break;
		if (t->arg == 0) {
			sim_kube_namespace_empty(c, t->name);
			sim_kube_timer_add(c, KT_NS_GONE, now + 1000, "", t->name, t->uid, 1);
			break;
		}
		for (int i = 0; i < c->nres; i++) {
			struct kres *r = c->res[i];
			size_t k = sim_kube_store_lower(&r->store, t->name, "");
			if (r->namespaced && k < r->store.n && strcmp(r->store.v[k]->ns, t->name) == 0)
				left = 1;
		}
		if (left) {
			/* what arrived meanwhile goes too, then look again */
			sim_kube_namespace_empty(c, t->name);
			sim_kube_timer_add(c, KT_NS_GONE, now + 1000, "", t->name, t->uid, 1);
		} else {
			cJSON *tr = sim_kube_obj_parse(o);
			if (tr != NULL) {
				cJSON_DeleteItemFromObjectCaseSensitive(sim_kube_jobj(tr, "spec"), "finalizers");
				sim_kube_commit(c, nsr, tr, KE_DELETED);
				cJSON_Delete(tr);
			}
		}
		break;
	}
	}
}

void
sim_kube_ctrl_tick(struct kcluster *c, int64_t now)
{
	struct kres *pr = sim_kube_res_builtin(c, K_POD);

	/* due timers: taken out before running, since running adds more */
	for (size_t i = 0; i < c->ntimers;) {
		if (c->timers[i].due <= now) {
			struct ktimer t = c->timers[i];
			c->timers[i] = c->timers[--c->ntimers];
			run_timer(c, &t, now);
		} else {
			i++;
		}
	}
	/* pods waiting for a node */
	if (c->unscheduled) {
		char (*names)[256] = NULL, (*nss)[64] = NULL;
		size_t n = 0;

		c->unscheduled = 0;
		names = malloc((pr->store.n + 1) * sizeof *names);
		nss = malloc((pr->store.n + 1) * sizeof *nss);
		for (size_t i = 0; names != NULL && nss != NULL && i < pr->store.n; i++) {
			struct kobj *o = pr->store.v[i];
			if (o->fields[0][0] == '\0' && !o->deleting && strcmp(o->fields[1], "Pending") == 0) {
				snprintf(names[n], sizeof names[0], "%s", o->name);
				snprintf(nss[n], sizeof nss[0], "%s", o->ns);
				n++;
			}
		}
		for (size_t i = 0; i < n; i++) {
			struct kobj *o = sim_kube_store_get(&pr->store, nss[i], names[i]);
			if (o != NULL && !pod_schedule(c, o)) {
				o = sim_kube_store_get(&pr->store, nss[i], names[i]);
				if (o != NULL)
					pod_unschedulable(c, o);
			}
		}
		free(names);
		free(nss);
	}
	/* deployments to reconcile; reconciling can dirty more, which wait
	 * for the next tick */
	if (c->ndirty > 0) {
		struct kdirty *work = c->dirty;
		size_t n = c->ndirty;

		c->dirty = NULL;
		c->ndirty = c->capdirty = 0;
		for (size_t i = 0; i < n; i++)
			reconcile(c, work[i].ns, work[i].name, 0);
		free(work);
	}
}
