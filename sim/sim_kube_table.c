/*
 * sim_kube_table.c — the server-side printing that `kubectl get` relies on:
 * meta.k8s.io/v1 Table rows with the same columns a real API server's
 * printers produce (pods, nodes, deployments, namespaces, services, ...),
 * the default Name/Created At table for types without a printer, a CRD's
 * additionalPrinterColumns for its custom resources, and
 * PartialObjectMetadata for clients that only want metadata.
 *
 * kubectl prints the cells as they come, so ages ("5m12s") and states
 * ("CrashLoopBackOff") are computed here, in simulated time, the way
 * k8s.io/kubernetes/pkg/printers/internalversion computes them.
 */
#include "sim/sim_kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct col {
	const char *name, *type, *format, *desc;
	int priority;
};

static const struct col pod_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0 },
	{ "Status", "string", "", "The aggregate status of the containers in this pod.", 0 },
	{ "Restarts", "string", "", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0 },
	{ "IP", "string", "", "IP address allocated to the pod. Routable at least within the cluster.", 1 },
	{ "Node", "string", "", "NodeName is a request to schedule this pod onto a specific node.", 1 },
	{ "Nominated Node", "string", "", "nominatedNodeName is set only when this pod preempts other pods on the node.", 1 },
	{ "Readiness Gates", "string", "", "If specified, all readiness gates will be evaluated for pod readiness.", 1 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct col node_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Status", "string", "", "The status of the node", 0 },
	{ "Roles", "string", "", "The roles of the node", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0 },
	{ "Version", "string", "", "Kubelet Version reported by the node.", 0 },
	{ "Internal-IP", "string", "", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1 },
	{ "External-IP", "string", "", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1 },
	{ "OS-Image", "string", "", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1 },
	{ "Kernel-Version", "string", "", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1 },
	{ "Container-Runtime", "string", "", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct col deploy_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Ready", "string", "", "Number of the pod with ready state", 0 },
	{ "Up-to-date", "string", "", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", 0 },
	{ "Available", "string", "", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0 },
	{ "Containers", "string", "", "Names of each container in the template.", 1 },
	{ "Images", "string", "", "Images referenced by each container in the template.", 1 },
	{ "Selector", "string", "", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.", 1 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct col rs_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Desired", "integer", "", "Replicas is the number of desired replicas.", 0 },
	{ "Current", "integer", "", "Replicas is the most recently observed number of replicas.", 0 },
	{ "Ready", "integer", "", "The number of ready replicas for this replica set.", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0 },
	{ "Containers", "string", "", "Names of each container in the template.", 1 },
	{ "Images", "string", "", "Images referenced by each container in the template.", 1 },
	{ "Selector", "string", "", "Selector is a label query over pods that should match the replica count.", 1 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct col ns_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Status", "string", "", "The status of the namespace", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct col svc_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Type", "string", "", "type determines how the Service is exposed.", 0 },
	{ "Cluster-IP", "string", "", "clusterIP is the IP address of the service and is usually assigned randomly.", 0 },
	{ "External-IP", "string", "", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.", 0 },
	{ "Port(s)", "string", "", "The list of ports that are exposed by this service.", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0 },
	{ "Selector", "string", "", "Route service traffic to pods with label keys and values matching this selector.", 1 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct col cm_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Data", "string", "", "Data contains the configuration data.", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct col secret_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Type", "string", "", "The type of the secret", 0 },
	{ "Data", "string", "", "The number of entries in the secret", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct col sa_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Secrets", "string", "", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct col event_cols[] = {
	{ "Last Seen", "string", "", "Time when last event from the source happened", 0 },
	{ "Type", "string", "", "Type of this event (Normal, Warning), new types could be added in the future.", 0 },
	{ "Reason", "string", "", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.", 0 },
	{ "Object", "string", "", "The object that this event is about.", 0 },
	{ "Message", "string", "", "A human-readable description of the status of this operation.", 0 },
	{ "Source", "string", "", "The component reporting this event. Should be a short machine understandable string.", 1 },
	{ "First Seen", "string", "", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", 1 },
	{ "Count", "string", "", "The number of times this event has occurred.", 1 },
	{ "Name", "string", "name", "Name must be unique within a namespace.", 1 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct col lease_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Holder", "string", "", "holderIdentity contains the identity of the holder of a current lease.", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

/* The admission policies' printers (printValidatingAdmissionPolicy and
 * printValidatingAdmissionPolicyBinding in
 * pkg/printers/internalversion/printers.go). */
static const struct col vap_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Validations", "integer", "", "Validations indicates the number of validation rules defined in this configuration", 0 },
	{ "ParamKind", "string", "", "ParamKind specifies the kind of resources used to parameterize this policy", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct col vapb_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "PolicyName", "string", "", "PolicyName indicates the policy definition which the policy binding binded to", 0 },
	{ "ParamRef", "string", "", "ParamRef indicates the param resource which sets the configration param", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct col default_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Created At", "date", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct col *
cols_of(const struct kres *r)
{
	switch (r->kk) {
	case K_POD: return pod_cols;
	case K_NODE: return node_cols;
	case K_DEPLOYMENT: return deploy_cols;
	case K_REPLICASET: return rs_cols;
	case K_NAMESPACE: return ns_cols;
	case K_SERVICE: return svc_cols;
	case K_CONFIGMAP: return cm_cols;
	case K_SECRET: return secret_cols;
	case K_SERVICEACCOUNT: return sa_cols;
	case K_EVENT: return event_cols;
	case K_LEASE: return lease_cols;
	default:
		if (r->builtin && strcmp(r->plural, "validatingadmissionpolicies") == 0)
			return vap_cols;
		if (r->builtin && strcmp(r->plural, "validatingadmissionpolicybindings") == 0)
			return vapb_cols;
		return default_cols;
	}
}

static cJSON *
col_json(const char *name, const char *type, const char *format, const char *desc, int priority)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "name", name);
	cJSON_AddStringToObject(c, "type", type);
	cJSON_AddStringToObject(c, "format", format);
	cJSON_AddStringToObject(c, "description", desc);
	cJSON_AddNumberToObject(c, "priority", priority);
	return c;
}

/* A custom resource's columns: Name, then the CRD's additionalPrinterColumns
 * (an Age column when it has none), as the apiextensions server does. */
static int
generic_printer(const struct kres *r)
{
	return r->kk == K_GENERIC && !r->builtin;
}

cJSON *
sim_kube_table_columns(const struct kres *r)
{
	cJSON *a = cJSON_CreateArray();
	const struct col *cols;
	const cJSON *pc;

	if (generic_printer(r)) {
		cJSON_AddItemToArray(a, col_json("Name", "string", "name",
		    "Name must be unique within a namespace.", 0));
		if (cJSON_GetArraySize(r->printer_cols) == 0) {
			cJSON_AddItemToArray(a, col_json("Age", "date", "",
			    "CreationTimestamp is a timestamp representing the server time when this object was created.", 0));
			return a;
		}
		cJSON_ArrayForEach(pc, r->printer_cols) {
			const cJSON *pr = cJSON_GetObjectItemCaseSensitive(pc, "priority");
			cJSON_AddItemToArray(a, col_json(sim_kube_jstr(pc, "name"), sim_kube_jstr(pc, "type"),
			    sim_kube_jstr(pc, "format"), sim_kube_jstr(pc, "description"),
			    cJSON_IsNumber(pr) ? pr->valueint : 0));
		}
		return a;
	}
	for (cols = cols_of(r); cols->name != NULL; cols++)
		cJSON_AddItemToArray(a, col_json(cols->name, cols->type, cols->format, cols->desc,
		    cols->priority));
	return a;
}

/* ---- ages ------------------------------------------------------------------- */

void
sim_kube_age(int64_t ms, char *buf, size_t n)
{
	long long s = ms / 1000, m, h, d;

	if (s < -1) {
		snprintf(buf, n, "<invalid>");
		return;
	}
	if (s < 0)
		s = 0;
	if (s < 120) {
		snprintf(buf, n, "%llds", s);
		return;
	}
	m = s / 60;
	if (m < 10) {
		if (s % 60 == 0)
			snprintf(buf, n, "%lldm", m);
		else
			snprintf(buf, n, "%lldm%llds", m, s % 60);
		return;
	}
	if (m < 180) {
		snprintf(buf, n, "%lldm", m);
		return;
	}
	h = m / 60;
	if (h < 8) {
		if (m % 60 == 0)
			snprintf(buf, n, "%lldh", h);
		else
			snprintf(buf, n, "%lldh%lldm", h, m % 60);
		return;
	}
	if (h < 48) {
		snprintf(buf, n, "%lldh", h);
		return;
	}
	d = h / 24;
	if (h < 24 * 8) {
		if (h % 24 == 0)
			snprintf(buf, n, "%lldd", d);
		else
			snprintf(buf, n, "%lldd%lldh", d, h % 24);
		return;
	}
	if (h < 24 * 365 * 2) {
		snprintf(buf, n, "%lldd", d);
		return;
	}
	if (h < 24 * 365 * 8) {
		if (d % 365 == 0)
			snprintf(buf, n, "%lldy", d / 365);
		else
			snprintf(buf, n, "%lldy%lldd", d / 365, d % 365);
		return;
	}
	snprintf(buf, n, "%lldy", d / 365);
}

/* Epoch ms of an RFC 3339 time, or -1. */
static int64_t
parse_time(const char *s)
{
	struct tm tm;
	const char *rest;

	memset(&tm, 0, sizeof tm);
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL)
		return -1;
	return (int64_t)timegm(&tm) * 1000;
}

/* The age of timestamp TS ("<unknown>" when absent). */
static void
since(const char *ts, char *buf, size_t n)
{
	int64_t t = ts != NULL && ts[0] != '\0' ? parse_time(ts) : -1;

	if (t < 0) {
		snprintf(buf, n, "<unknown>");
		return;
	}
	sim_kube_age(sim_now_ms() - t, buf, n);
}

static void
add_str(cJSON *cells, const char *s)
{
	cJSON_AddItemToArray(cells, cJSON_CreateString(s));
}

static void
add_num(cJSON *cells, double v)
{
	cJSON_AddItemToArray(cells, cJSON_CreateNumber(v));
}

static void
add_age(cJSON *cells, const cJSON *obj)
{
	char age[32];

	since(sim_kube_jstr(sim_kube_jpath(obj, "metadata"), "creationTimestamp"), age, sizeof age);
	add_str(cells, age);
}

static int
jint(const cJSON *obj, const char *path)
{
	const cJSON *v = sim_kube_jpath(obj, path);

	return cJSON_IsNumber(v) ? v->valueint : 0;
}

static const char *
or_none(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "<none>";
}

/* "app=web,tier=front" from a LabelSelector or a plain map. */
static void
selector_str(const cJSON *sel, char *buf, size_t n)
{
	const cJSON *ml = cJSON_GetObjectItemCaseSensitive(sel, "matchLabels"), *it;
	size_t used = 0;

	buf[0] = '\0';
	if (ml == NULL && cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions") == NULL)
		ml = sel;
	cJSON_ArrayForEach(it, ml) {
		if (cJSON_IsString(it) && used < n)
			used += (size_t)snprintf(buf + used, n - used, "%s%s=%s", used > 0 ? "," : "",
			    it->string, it->valuestring);
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions")) {
		if (used < n)
			used += (size_t)snprintf(buf + used, n - used, "%s%s %s", used > 0 ? "," : "",
			    sim_kube_jstr(it, "key"), sim_kube_jstr(it, "operator"));
	}
	if (buf[0] == '\0')
		snprintf(buf, n, "<none>");
}

static void
containers_str(const cJSON *podspec, const char *field, char *buf, size_t n)
{
	const cJSON *c;
	size_t used = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(podspec, "containers")) {
		if (used < n)
			used += (size_t)snprintf(buf + used, n - used, "%s%s", used > 0 ? "," : "",
			    sim_kube_jstr(c, field));
	}
}

/* ---- rows ------------------------------------------------------------------- */

static void
pod_cells(cJSON *cells, const cJSON *pod)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(pod, "status");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
	const cJSON *cs, *statuses = cJSON_GetObjectItemCaseSensitive(st, "containerStatuses");
	const char *reason = sim_kube_jstr(st, "phase");
	int total = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "containers"));
	int ready = 0, restarts = 0, has_running = 0;
	int64_t last_restart = -1;
	char buf[64], rbuf[64];

	if (sim_kube_jstr(st, "reason")[0] != '\0')
		reason = sim_kube_jstr(st, "reason");
	for (int i = cJSON_GetArraySize(statuses) - 1; i >= 0; i--) {
		const cJSON *state, *w, *t, *last;

		cs = cJSON_GetArrayItem(statuses, i);
		state = cJSON_GetObjectItemCaseSensitive(cs, "state");
		w = cJSON_GetObjectItemCaseSensitive(state, "waiting");
		t = cJSON_GetObjectItemCaseSensitive(state, "terminated");
		restarts += jint(cs, "restartCount");
		last = sim_kube_jpath(cs, "lastState.terminated");
		if (last != NULL) {
			int64_t f = parse_time(sim_kube_jstr(last, "finishedAt"));
			if (f > last_restart)
				last_restart = f;
		}
		if (w != NULL && sim_kube_jstr(w, "reason")[0] != '\0')
			reason = sim_kube_jstr(w, "reason");
		else if (t != NULL && sim_kube_jstr(t, "reason")[0] != '\0')
			reason = sim_kube_jstr(t, "reason");
		else if (t != NULL) {
			snprintf(rbuf, sizeof rbuf, "ExitCode:%d", jint(t, "exitCode"));
			reason = rbuf;
		} else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cs, "ready"))
		    && cJSON_GetObjectItemCaseSensitive(state, "running") != NULL) {
			has_running = 1;
			ready++;
		}
	}
	if (strcmp(reason, "Completed") == 0 && has_running)
		reason = "Running";
	if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pod, "metadata"),
	    "deletionTimestamp") != NULL)
		reason = strcmp(sim_kube_jstr(st, "reason"), "NodeLost") == 0 ? "Unknown" : "Terminating";

	add_str(cells, sim_kube_jstr(sim_kube_jpath(pod, "metadata"), "name"));
	snprintf(buf, sizeof buf, "%d/%d", ready, total);
	add_str(cells, buf);
	add_str(cells, reason);
	if (last_restart >= 0 && restarts > 0) {
		char age[32];
		sim_kube_age(sim_now_ms() - last_restart, age, sizeof age);
		snprintf(buf, sizeof buf, "%d (%s ago)", restarts, age);
	} else {
		snprintf(buf, sizeof buf, "%d", restarts);
	}
	add_str(cells, buf);
	add_age(cells, pod);
	add_str(cells, or_none(sim_kube_jstr(st, "podIP")));
	add_str(cells, or_none(sim_kube_jstr(spec, "nodeName")));
	add_str(cells, or_none(sim_kube_jstr(st, "nominatedNodeName")));
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "readinessGates")) > 0) {
		int tr = 0, n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "readinessGates"));
		const cJSON *g, *c;
		cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(spec, "readinessGates")) {
			cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(st, "conditions")) {
				if (strcmp(sim_kube_jstr(c, "type"), sim_kube_jstr(g, "conditionType")) == 0
				    && strcmp(sim_kube_jstr(c, "status"), "True") == 0)
					tr++;
			}
		}
		snprintf(buf, sizeof buf, "%d/%d", tr, n);
		add_str(cells, buf);
	} else {
		add_str(cells, "<none>");
	}
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
node_cells(cJSON *cells, const cJSON *node)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(node, "status"), *c, *l;
	const char *ready = "Unknown", *roles[16];
	const char *internal = "", *external = "";
	int nroles = 0;
	char status[64], rbuf[256];
	size_t used = 0;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(st, "conditions")) {
		if (strcmp(sim_kube_jstr(c, "type"), "Ready") == 0)
			ready = sim_kube_jstr(c, "status");
	}
	snprintf(status, sizeof status, "%s%s", strcmp(ready, "True") == 0 ? "Ready" : "NotReady",
	    cJSON_IsTrue(sim_kube_jpath(node, "spec.unschedulable")) ? ",SchedulingDisabled" : "");
	cJSON_ArrayForEach(l, sim_kube_jpath(node, "metadata.labels")) {
		if (nroles < 16 && strncmp(l->string, "node-role.kubernetes.io/", 24) == 0
		    && l->string[24] != '\0')
			roles[nroles++] = l->string + 24;
		else if (nroles < 16 && strcmp(l->string, "kubernetes.io/role") == 0 && cJSON_IsString(l)
		    && l->valuestring[0] != '\0')
			roles[nroles++] = l->valuestring;
	}
	qsort(roles, (size_t)nroles, sizeof roles[0], str_cmp);
	rbuf[0] = '\0';
	for (int i = 0; i < nroles; i++) {
		if (i > 0 && strcmp(roles[i], roles[i - 1]) == 0)
			continue;
		used += (size_t)snprintf(rbuf + used, sizeof rbuf - used, "%s%s", used > 0 ? "," : "", roles[i]);
		if (used >= sizeof rbuf)
			break;
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(st, "addresses")) {
		if (strcmp(sim_kube_jstr(c, "type"), "InternalIP") == 0 && internal[0] == '\0')
			internal = sim_kube_jstr(c, "address");
		if (strcmp(sim_kube_jstr(c, "type"), "ExternalIP") == 0 && external[0] == '\0')
			external = sim_kube_jstr(c, "address");
	}
	add_str(cells, sim_kube_jstr(sim_kube_jpath(node, "metadata"), "name"));
	add_str(cells, status);
	add_str(cells, or_none(rbuf));
	add_age(cells, node);
	add_str(cells, sim_kube_jstr(sim_kube_jpath(st, "nodeInfo"), "kubeletVersion"));
	add_str(cells, or_none(internal));
	add_str(cells, or_none(external));
	add_str(cells, or_none(sim_kube_jstr(sim_kube_jpath(st, "nodeInfo"), "osImage")));
	add_str(cells, or_none(sim_kube_jstr(sim_kube_jpath(st, "nodeInfo"), "kernelVersion")));
	add_str(cells, or_none(sim_kube_jstr(sim_kube_jpath(st, "nodeInfo"), "containerRuntimeVersion")));
}

static void
workload_wide(cJSON *cells, const cJSON *obj)
{
	char buf[1024];
	const cJSON *ps = sim_kube_jpath(obj, "spec.template.spec");

	containers_str(ps, "name", buf, sizeof buf);
	add_str(cells, buf);
	containers_str(ps, "image", buf, sizeof buf);
	add_str(cells, buf);
	selector_str(sim_kube_jpath(obj, "spec.selector"), buf, sizeof buf);
	add_str(cells, buf);
}

static void
deploy_cells(cJSON *cells, const cJSON *d)
{
	char buf[64];
	const cJSON *rep = sim_kube_jpath(d, "spec.replicas");

	add_str(cells, sim_kube_jstr(sim_kube_jpath(d, "metadata"), "name"));
	snprintf(buf, sizeof buf, "%d/%d", jint(d, "status.readyReplicas"),
	    cJSON_IsNumber(rep) ? rep->valueint : 1);
	add_str(cells, buf);
	add_num(cells, jint(d, "status.updatedReplicas"));
	add_num(cells, jint(d, "status.availableReplicas"));
	add_age(cells, d);
	workload_wide(cells, d);
}

static void
rs_cells(cJSON *cells, const cJSON *rs)
{
	const cJSON *rep = sim_kube_jpath(rs, "spec.replicas");

	add_str(cells, sim_kube_jstr(sim_kube_jpath(rs, "metadata"), "name"));
	add_num(cells, cJSON_IsNumber(rep) ? rep->valueint : 1);
	add_num(cells, jint(rs, "status.replicas"));
	add_num(cells, jint(rs, "status.readyReplicas"));
	add_age(cells, rs);
	workload_wide(cells, rs);
}

static void
svc_cells(cJSON *cells, const cJSON *s)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(s, "spec"), *p, *ing;
	const char *type = sim_kube_jstr(spec, "type");
	char ports[512], ext[256], buf[512];
	size_t used = 0, eused = 0;

	ports[0] = ext[0] = '\0';
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(spec, "ports")) {
		const cJSON *np = cJSON_GetObjectItemCaseSensitive(p, "nodePort");
		const char *proto = sim_kube_jstr(p, "protocol");

		if (used >= sizeof ports)
			break;
		if (cJSON_IsNumber(np) && np->valueint > 0)
			used += (size_t)snprintf(ports + used, sizeof ports - used, "%s%d:%d/%s",
			    used > 0 ? "," : "", jint(p, "port"), np->valueint, proto[0] ? proto : "TCP");
		else
			used += (size_t)snprintf(ports + used, sizeof ports - used, "%s%d/%s",
			    used > 0 ? "," : "", jint(p, "port"), proto[0] ? proto : "TCP");
	}
	cJSON_ArrayForEach(ing, sim_kube_jpath(s, "status.loadBalancer.ingress")) {
		const char *a = sim_kube_jstr(ing, "ip")[0] != '\0' ? sim_kube_jstr(ing, "ip")
		    : sim_kube_jstr(ing, "hostname");
		if (eused < sizeof ext)
			eused += (size_t)snprintf(ext + eused, sizeof ext - eused, "%s%s", eused ? "," : "", a);
	}
	if (ext[0] == '\0' && strcmp(type, "LoadBalancer") == 0)
		snprintf(ext, sizeof ext, "<pending>");
	if (ext[0] == '\0' && strcmp(type, "ExternalName") == 0)
		snprintf(ext, sizeof ext, "%s", sim_kube_jstr(spec, "externalName"));
	add_str(cells, sim_kube_jstr(sim_kube_jpath(s, "metadata"), "name"));
	add_str(cells, type[0] ? type : "ClusterIP");
	add_str(cells, or_none(sim_kube_jstr(spec, "clusterIP")));
	add_str(cells, or_none(ext));
	add_str(cells, or_none(ports));
	add_age(cells, s);
	selector_str(cJSON_GetObjectItemCaseSensitive(spec, "selector"), buf, sizeof buf);
	add_str(cells, buf);
}

static void
event_cells(cJSON *cells, const cJSON *e)
{
	const cJSON *io = cJSON_GetObjectItemCaseSensitive(e, "involvedObject");
	const char *last = sim_kube_jstr(e, "lastTimestamp");
	char buf[600], kind[128];
	int cnt = jint(e, "count");

	if (last[0] == '\0')
		last = sim_kube_jstr(e, "eventTime");
	if (last[0] == '\0')
		last = sim_kube_jstr(sim_kube_jpath(e, "metadata"), "creationTimestamp");
	since(last, buf, sizeof buf);
	add_str(cells, buf);
	add_str(cells, sim_kube_jstr(e, "type"));
	add_str(cells, sim_kube_jstr(e, "reason"));
	snprintf(kind, sizeof kind, "%s", sim_kube_jstr(io, "kind"));
	for (char *p = kind; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	snprintf(buf, sizeof buf, "%s/%s", kind, sim_kube_jstr(io, "name"));
	add_str(cells, buf);
	add_str(cells, sim_kube_jstr(e, "message"));
	snprintf(buf, sizeof buf, "%s", sim_kube_jstr(sim_kube_jpath(e, "source"), "component"));
	if (sim_kube_jstr(sim_kube_jpath(e, "source"), "host")[0] != '\0') {
		size_t u = strlen(buf);
		snprintf(buf + u, sizeof buf - u, ", %s", sim_kube_jstr(sim_kube_jpath(e, "source"), "host"));
	}
	add_str(cells, buf);
	since(sim_kube_jstr(e, "firstTimestamp")[0] != '\0' ? sim_kube_jstr(e, "firstTimestamp") : last,
	    buf, sizeof buf);
	add_str(cells, buf);
	snprintf(buf, sizeof buf, "%d", cnt > 0 ? cnt : 1);
	add_str(cells, buf);
	add_str(cells, sim_kube_jstr(sim_kube_jpath(e, "metadata"), "name"));
}

static int
count_members(const cJSON *o)
{
	return cJSON_IsObject(o) ? cJSON_GetArraySize(o) : 0;
}

/* The value at a CRD printer column's JSONPath (".spec.replicas", or
 * ".status.conditions[?(@.type==\"Ready\")].status"), as a cell. */
static cJSON *
jsonpath_cell(const cJSON *obj, const char *path, const char *type)
{
	const cJSON *cur = obj;
	char seg[256];

	while (cur != NULL && *path != '\0') {
		size_t n;

		if (*path == '.')
			path++;
		n = strcspn(path, ".[");
		if (n >= sizeof seg)
			return cJSON_CreateNull();
		memcpy(seg, path, n);
		seg[n] = '\0';
		path += n;
		if (n > 0)
			cur = cJSON_GetObjectItemCaseSensitive(cur, seg);
		if (*path == '[') {
			const char *end = strchr(path, ']');
			char key[128] = "", val[256] = "";

			if (end == NULL)
				return cJSON_CreateNull();
			if (sscanf(path, "[?(@.%127[^=]==\"%255[^\"]\")]", key, val) == 2) {
				const cJSON *it, *found = NULL;
				cJSON_ArrayForEach(it, cur) {
					if (strcmp(sim_kube_jstr(it, key), val) == 0) {
						found = it;
						break;
					}
				}
				cur = found;
			} else {
				cur = cJSON_GetArrayItem(cur, atoi(path + 1));
			}
			path = end + 1;
		}
	}
	if (cur == NULL)
		return cJSON_CreateNull();
	if (strcmp(type, "date") == 0 && cJSON_IsString(cur)) {
		char age[32];
		since(cur->valuestring, age, sizeof age);
		return cJSON_CreateString(age);
	}
	return cJSON_Duplicate(cur, 1);
}

static void
generic_cells(const struct kres *r, cJSON *cells, const cJSON *obj)
{
	const cJSON *pc;

	add_str(cells, sim_kube_jstr(sim_kube_jpath(obj, "metadata"), "name"));
	if (cJSON_GetArraySize(r->printer_cols) == 0) {
		add_age(cells, obj);
		return;
	}
	cJSON_ArrayForEach(pc, r->printer_cols)
		cJSON_AddItemToArray(cells, jsonpath_cell(obj, sim_kube_jstr(pc, "jsonPath"),
		    sim_kube_jstr(pc, "type")));
}

static void
admission_cells(const struct kres *r, cJSON *cells, const cJSON *obj)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	char buf[600];

	add_str(cells, sim_kube_jstr(sim_kube_jpath(obj, "metadata"), "name"));
	if (cols_of(r) == vap_cols) {
		const cJSON *pk = cJSON_GetObjectItemCaseSensitive(spec, "paramKind");

		add_num(cells, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "validations")));
		if (pk != NULL)
			snprintf(buf, sizeof buf, "%s/%s", sim_kube_jstr(pk, "apiVersion"), sim_kube_jstr(pk, "kind"));
		else
			snprintf(buf, sizeof buf, "<unset>");
		add_str(cells, buf);
	} else {
		const cJSON *pr = cJSON_GetObjectItemCaseSensitive(spec, "paramRef");

		add_str(cells, sim_kube_jstr(spec, "policyName"));
		if (pr != NULL && sim_kube_jstr(pr, "name")[0] != '\0')
			snprintf(buf, sizeof buf, "%s/%s", sim_kube_jstr(pr, "namespace")[0] != '\0'
			    ? sim_kube_jstr(pr, "namespace") : "*", sim_kube_jstr(pr, "name"));
		else if (pr != NULL && cJSON_GetObjectItemCaseSensitive(pr, "selector") != NULL)
			snprintf(buf, sizeof buf, "(selector)");
		else
			snprintf(buf, sizeof buf, "<unset>");
		add_str(cells, buf);
	}
	add_age(cells, obj);
}

cJSON *
sim_kube_partial(const cJSON *obj)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");

	cJSON_AddStringToObject(o, "kind", "PartialObjectMetadata");
	cJSON_AddStringToObject(o, "apiVersion", "meta.k8s.io/v1");
	cJSON_AddItemToObject(o, "metadata", md != NULL ? cJSON_Duplicate(md, 1) : cJSON_CreateObject());
	return o;
}

cJSON *
sim_kube_table_row(const struct kres *r, const cJSON *obj, int include)
{
	cJSON *row = cJSON_CreateObject(), *cells = cJSON_AddArrayToObject(row, "cells");
	char buf[64];

	if (generic_printer(r)) {
		generic_cells(r, cells, obj);
	} else {
		switch (r->kk) {
		case K_POD: pod_cells(cells, obj); break;
		case K_NODE: node_cells(cells, obj); break;
		case K_DEPLOYMENT: deploy_cells(cells, obj); break;
		case K_REPLICASET: rs_cells(cells, obj); break;
		case K_SERVICE: svc_cells(cells, obj); break;
		case K_EVENT: event_cells(cells, obj); break;
		case K_NAMESPACE:
			add_str(cells, sim_kube_jstr(sim_kube_jpath(obj, "metadata"), "name"));
			add_str(cells, sim_kube_jstr(sim_kube_jpath(obj, "status"), "phase"));
			add_age(cells, obj);
			break;
		case K_CONFIGMAP:
			add_str(cells, sim_kube_jstr(sim_kube_jpath(obj, "metadata"), "name"));
			add_num(cells, count_members(cJSON_GetObjectItemCaseSensitive(obj, "data"))
			    + count_members(cJSON_GetObjectItemCaseSensitive(obj, "binaryData")));
			add_age(cells, obj);
			break;
		case K_SECRET:
			add_str(cells, sim_kube_jstr(sim_kube_jpath(obj, "metadata"), "name"));
			add_str(cells, sim_kube_jstr(obj, "type"));
			add_num(cells, count_members(cJSON_GetObjectItemCaseSensitive(obj, "data")));
			add_age(cells, obj);
			break;
		case K_SERVICEACCOUNT:
			add_str(cells, sim_kube_jstr(sim_kube_jpath(obj, "metadata"), "name"));
			add_num(cells, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(obj, "secrets")));
			add_age(cells, obj);
			break;
		case K_LEASE:
			add_str(cells, sim_kube_jstr(sim_kube_jpath(obj, "metadata"), "name"));
			add_str(cells, sim_kube_jstr(sim_kube_jpath(obj, "spec"), "holderIdentity"));
			add_age(cells, obj);
			break;
		default:
			if (cols_of(r) == vap_cols || cols_of(r) == vapb_cols) {
				admission_cells(r, cells, obj);
				break;
			}
			add_str(cells, sim_kube_jstr(sim_kube_jpath(obj, "metadata"), "name"));
			snprintf(buf, sizeof buf, "%s",
			    sim_kube_jstr(sim_kube_jpath(obj, "metadata"), "creationTimestamp"));
			add_str(cells, buf);
			break;
		}
	}
	if (include == 1)
		cJSON_AddItemToObject(row, "object", sim_kube_partial(obj));
	else if (include == 2)
		cJSON_AddItemToObject(row, "object", cJSON_Duplicate(obj, 1));
	return row;
}
