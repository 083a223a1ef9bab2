/*
 * sim_kube_world.c — the Kubernetes part of the world file: `timings`
 * (node_join, node_ready, pod_ready, pod_terminate) and `clusters`, each
 * an AKS cluster that exists from the start (its API server up, its nodes
 * Ready, its deployments' pods Running and Ready) or, with exists: false,
 * one the world only knows by name and ingress address until ARM creates
 * it.
 *
 * A cluster entry may also ask for a large synthetic workload
 * (synthetic_pods: 150000) for benchmarks.  Those pods are written straight
 * from a template into stored text with a hand-built index, with no JSON
 * parsing or per-pod event, so 150,000 realistic ~5 KB pods load in a
 * couple of seconds; their Deployments and ReplicaSets are ordinary
 * objects, consistent with the pods, so the controllers leave them alone.
 */
#include "sim/sim_kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/log.h"

size_t sim_kube_ring_cap = 50000;

static struct kworld_entry *entries;
static int nentries;
static char world_ingress_ns[64], world_ingress_deploy[256];

const struct kworld_entry *
sim_kube_world_entry(const char *name)
{
	for (int i = 0; i < nentries; i++)
		if (strcmp(entries[i].name, name) == 0)
			return &entries[i];
	return NULL;
}

const struct kworld_entry *
sim_kube_world_entry_at(int i)
{
	return i >= 0 && i < nentries ? &entries[i] : NULL;
}

void
sim_kube_world_ingress(const char *name, char *ns, size_t nslen, char *deploy, size_t dlen)
{
	const struct kworld_entry *e = sim_kube_world_entry(name);

	if (e != NULL && e->ingress_deploy[0] != '\0') {
		snprintf(ns, nslen, "%s", e->ingress_ns);
		snprintf(deploy, dlen, "%s", e->ingress_deploy);
	} else {
		snprintf(ns, nslen, "%s", world_ingress_ns);
		snprintf(deploy, dlen, "%s", world_ingress_deploy);
	}
}

void
sim_kube_world_reset(void)
{
	free(entries);
	entries = NULL;
	nentries = 0;
	world_ingress_ns[0] = world_ingress_deploy[0] = '\0';
}

/* ---- deployments of the world file --------------------------------------------- */

static cJSON *
world_deployment(const char *ns, const char *name, int replicas, const char *image)
{
	cJSON *d = cJSON_CreateObject(), *md, *spec, *tmpl, *tmd, *ct, *ports, *port, *res, *req;

	cJSON_AddStringToObject(d, "apiVersion", "apps/v1");
	cJSON_AddStringToObject(d, "kind", "Deployment");
	md = cJSON_AddObjectToObject(d, "metadata");
	cJSON_AddStringToObject(md, "name", name);
	cJSON_AddStringToObject(md, "namespace", ns);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "labels"), "app.kubernetes.io/name", name);
	spec = cJSON_AddObjectToObject(d, "spec");
	cJSON_AddNumberToObject(spec, "replicas", replicas);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(spec, "selector"),
	    "matchLabels"), "app", name);
	tmpl = cJSON_AddObjectToObject(spec, "template");
	tmd = cJSON_AddObjectToObject(tmpl, "metadata");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(tmd, "labels"), "app", name);
	ct = cJSON_CreateObject();
	cJSON_AddStringToObject(ct, "name", name);
	cJSON_AddStringToObject(ct, "image", image);
	ports = cJSON_AddArrayToObject(ct, "ports");
	port = cJSON_CreateObject();
	cJSON_AddNumberToObject(port, "containerPort", 8080);
	cJSON_AddStringToObject(port, "name", "http");
	cJSON_AddItemToArray(ports, port);
	res = cJSON_AddObjectToObject(ct, "resources");
	req = cJSON_AddObjectToObject(res, "requests");
	cJSON_AddStringToObject(req, "cpu", "100m");
	cJSON_AddStringToObject(req, "memory", "128Mi");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_AddObjectToObject(tmpl, "spec"), "containers"), ct);
	return d;
}

static int
add_deployment(struct kcluster *c, const char *ns, const char *name, int replicas, const char *image)
{
	struct kres *dr = sim_kube_res_builtin(c, K_DEPLOYMENT);
	cJSON *d = world_deployment(ns, name, replicas, image);

	sim_kube_ensure_namespace(c, ns);
	sim_kube_prepare_new(c, dr, d, "kubectl-client-side-apply");
	if (sim_kube_commit(c, dr, d, KE_ADDED) == NULL) {
		cJSON_Delete(d);
		return -1;
	}
	cJSON_Delete(d);
	/* pods Ready from the start: this cluster has been live for a while */
	sim_kube_reconcile(c, ns, name);
	return 0;
}

/* ---- synthetic workloads -------------------------------------------------------- */

/* One realistic pod (about 5 KB, the size PRODUCT.md's yardstick measures),
 * as kube-apiserver stores a Deployment's pod on AKS: managedFields of the
 * controller manager and the kubelet, defaulted spec, full status.
 * Arguments, in order: name, generateName, namespace, uid, resourceVersion,
 * creationTimestamp, app label (x2), pod-template-hash (x2), ReplicaSet
 * name, ReplicaSet uid, time, ReplicaSet uid, container name, time,
 * podIP, container name, image, env value, node name, times (x5), hostIP (x2), podIP (x2), startTime, container
 * name, containerID, image, imageID, startedAt, qos. */
static const char pod_fmt[] =
    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\",\"generateName\":\"%s\","
    "\"namespace\":\"%s\",\"uid\":\"%s\",\"resourceVersion\":\"%llu\",\"creationTimestamp\":\"%s\","
    "\"labels\":{\"app\":\"%s\",\"app.kubernetes.io/name\":\"%s\",\"app.kubernetes.io/part-of\":\"synthetic\","
    "\"pod-template-hash\":\"%s\",\"tier\":\"backend\",\"version\":\"v%s\"},"
    "\"annotations\":{\"prometheus.io/scrape\":\"true\"},"
    "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"%s\",\"uid\":\"%s\","
    "\"controller\":true,\"blockOwnerDeletion\":true}],"
    "\"managedFields\":[{\"manager\":\"kube-controller-manager\",\"operation\":\"Update\",\"apiVersion\":\"v1\","
    "\"time\":\"%s\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{\"f:annotations\":{\".\":{},"
    "\"f:prometheus.io/scrape\":{}},"
    "\"f:generateName\":{},\"f:labels\":{\".\":{},\"f:app\":{},\"f:app.kubernetes.io/name\":{},"
    "\"f:app.kubernetes.io/part-of\":{},\"f:pod-template-hash\":{},\"f:tier\":{},\"f:version\":{}},"
    "\"f:ownerReferences\":{\".\":{},\"k:{\\\"uid\\\":\\\"%s\\\"}\":{}}},\"f:spec\":{"
    "\"f:containers\":{\"k:{\\\"name\\\":\\\"%s\\\"}\":{\".\":{},\"f:env\":{\".\":{},"
    "\"k:{\\\"name\\\":\\\"LOG_LEVEL\\\"}\":{\".\":{},\"f:name\":{},\"f:value\":{}},"
    "\"k:{\\\"name\\\":\\\"POD_NAME\\\"}\":{\".\":{},\"f:name\":{},\"f:valueFrom\":{}}},\"f:image\":{},"
    "\"f:imagePullPolicy\":{},\"f:livenessProbe\":{},\"f:name\":{},\"f:ports\":{},\"f:readinessProbe\":{},"
    "\"f:resources\":{},\"f:securityContext\":{},\"f:terminationMessagePath\":{},"
    "\"f:terminationMessagePolicy\":{},\"f:volumeMounts\":{}}},\"f:dnsPolicy\":{},"
    "\"f:enableServiceLinks\":{},\"f:restartPolicy\":{},\"f:schedulerName\":{},\"f:securityContext\":{},"
    "\"f:terminationGracePeriodSeconds\":{},\"f:volumes\":{}}}},"
    "{\"manager\":\"kubelet\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"%s\","
    "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:status\":{\"f:conditions\":{"
    "\"k:{\\\"type\\\":\\\"ContainersReady\\\"}\":{\".\":{},\"f:lastProbeTime\":{},\"f:lastTransitionTime\":{},"
    "\"f:status\":{},\"f:type\":{}},\"k:{\\\"type\\\":\\\"Initialized\\\"}\":{\".\":{},\"f:lastProbeTime\":{},"
    "\"f:lastTransitionTime\":{},\"f:status\":{},\"f:type\":{}},\"k:{\\\"type\\\":\\\"PodReadyToStartContainers\\\"}\":"
    "{\".\":{},\"f:lastProbeTime\":{},\"f:lastTransitionTime\":{},\"f:status\":{},\"f:type\":{}},"
    "\"k:{\\\"type\\\":\\\"Ready\\\"}\":{\".\":{},\"f:lastProbeTime\":{},\"f:lastTransitionTime\":{},"
    "\"f:status\":{},\"f:type\":{}}},\"f:containerStatuses\":{},\"f:hostIP\":{},\"f:hostIPs\":{},"
    "\"f:phase\":{},\"f:podIP\":{},\"f:podIPs\":{\".\":{},\"k:{\\\"ip\\\":\\\"%s\\\"}\":{\".\":{},\"f:ip\":{}}},"
    "\"f:startTime\":{}}},\"subresource\":\"status\"}]},"
    "\"spec\":{\"volumes\":[{\"name\":\"kube-api-access\",\"projected\":{\"sources\":[{\"serviceAccountToken\":"
    "{\"expirationSeconds\":3607,\"path\":\"token\"}},{\"configMap\":{\"name\":\"kube-root-ca.crt\",\"items\":"
    "[{\"key\":\"ca.crt\",\"path\":\"ca.crt\"}]}},{\"downwardAPI\":{\"items\":[{\"path\":\"namespace\","
    "\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.namespace\"}}]}}],\"defaultMode\":420}}],"
    "\"containers\":[{\"name\":\"%s\",\"image\":\"%s\",\"ports\":[{\"name\":\"http\",\"containerPort\":8080,"
    "\"protocol\":\"TCP\"},{\"name\":\"metrics\",\"containerPort\":9090,\"protocol\":\"TCP\"}],"
    "\"env\":[{\"name\":\"LOG_LEVEL\",\"value\":\"%s\"},{\"name\":\"POD_NAME\",\"valueFrom\":{\"fieldRef\":"
    "{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.name\"}}}],\"resources\":{\"limits\":{\"cpu\":\"500m\","
    "\"memory\":\"512Mi\"},\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}},\"volumeMounts\":[{\"name\":"
    "\"kube-api-access\",\"readOnly\":true,\"mountPath\":\"/var/run/secrets/kubernetes.io/serviceaccount\"}],"
    "\"livenessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":\"http\",\"scheme\":\"HTTP\"},"
    "\"initialDelaySeconds\":10,\"timeoutSeconds\":1,\"periodSeconds\":10,\"successThreshold\":1,"
    "\"failureThreshold\":3},\"readinessProbe\":{\"httpGet\":{\"path\":\"/ready\",\"port\":\"http\","
    "\"scheme\":\"HTTP\"},\"timeoutSeconds\":1,\"periodSeconds\":5,\"successThreshold\":1,\"failureThreshold\":3},"
    "\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\","
    "\"imagePullPolicy\":\"IfNotPresent\",\"securityContext\":{\"runAsNonRoot\":true,"
    "\"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":false}}],\"restartPolicy\":\"Always\","
    "\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":\"default\","
    "\"serviceAccount\":\"default\",\"nodeName\":\"%s\",\"securityContext\":{\"fsGroup\":2000},"
    "\"schedulerName\":\"default-scheduler\",\"tolerations\":[{\"key\":"
    "\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
    "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
    "\"tolerationSeconds\":300}],\"priority\":0,\"enableServiceLinks\":true,\"preemptionPolicy\":"
    "\"PreemptLowerPriority\"},"
    "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"PodReadyToStartContainers\",\"status\":\"True\","
    "\"lastProbeTime\":null,\"lastTransitionTime\":\"%s\"},{\"type\":\"Initialized\",\"status\":\"True\","
    "\"lastProbeTime\":null,\"lastTransitionTime\":\"%s\"},{\"type\":\"Ready\",\"status\":\"True\","
    "\"lastProbeTime\":null,\"lastTransitionTime\":\"%s\"},{\"type\":\"ContainersReady\",\"status\":\"True\","
    "\"lastProbeTime\":null,\"lastTransitionTime\":\"%s\"},{\"type\":\"PodScheduled\",\"status\":\"True\","
    "\"lastProbeTime\":null,\"lastTransitionTime\":\"%s\"}],\"hostIP\":\"%s\",\"hostIPs\":[{\"ip\":\"%s\"}],"
    "\"podIP\":\"%s\",\"podIPs\":[{\"ip\":\"%s\"}],\"startTime\":\"%s\",\"containerStatuses\":[{\"name\":\"%s\","
    "\"state\":{\"running\":{\"startedAt\":\"%s\"}},\"lastState\":{},\"ready\":true,\"restartCount\":0,"
    "\"image\":\"%s\",\"imageID\":\"%s@sha256:9b1e5c3d7f2a4e6b8c0d1f3a5b7c9e2d4f6a8b0c1e3d5f7a9b2c4e6d8f0a1b3c\","
    "\"containerID\":\"containerd://%s\",\"started\":true}],\"qosClass\":\"Burstable\"}}";

/* Node names and addresses of the synthetic cluster, looked up once. */
struct synth_node {
	char name[96];
	char ip[32];
};

static int
synthetic_load(struct kcluster *c, long npods, int nns, int per_deploy, char *err, size_t errlen)
{
	struct kres *pr = sim_kube_res_builtin(c, K_POD), *nr = sim_kube_res_builtin(c, K_NODE);
	struct kres *dr = sim_kube_res_builtin(c, K_DEPLOYMENT), *rr = sim_kube_res_builtin(c, K_REPLICASET);
	struct synth_node *nodes;
	size_t nn = nr->store.n;
	long made = 0;
	int d = 0;
	char created[40], ts[40];
	int64_t t0 = sim_kube_mono_ms();
	static const char *const levels[] = { "info", "warn", "debug" };

	if (nn == 0) {
		snprintf(err, errlen, "synthetic_pods: the cluster needs node_pools with nodes");
		return -1;
	}
	nodes = calloc(nn, sizeof *nodes);
	if (nodes == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < nn; i++) {
		cJSON *t = sim_kube_obj_parse(nr->store.v[i]);
		const cJSON *a;

		snprintf(nodes[i].name, sizeof nodes[i].name, "%s", nr->store.v[i]->name);
		cJSON_ArrayForEach(a, sim_kube_jpath(t, "status.addresses"))
			if (strcmp(sim_kube_jstr(a, "type"), "InternalIP") == 0)
				snprintf(nodes[i].ip, sizeof nodes[i].ip, "%s", sim_kube_jstr(a, "address"));
		cJSON_Delete(t);
	}
	/* creation a day ago, so ages look like a cluster in service */
	sim_time_rfc3339(sim_now_ms() - 86400 * 1000LL, created, sizeof created);
	sim_time_rfc3339(sim_now_ms() - 86000 * 1000LL, ts, sizeof ts);

	while (made < npods) {
		char ns[64], dname[128], hash[16], rsname[160], rsuid[40], image[200], gen[200];
		int replicas = (int)(npods - made < per_deploy ? npods - made : per_deploy);
		struct kobj *dob, *rob;
		cJSON *dep, *tmpl, *rs, *rmd, *rspec, *sel;

		snprintf(ns, sizeof ns, "synthetic-%03d", d % nns);
		snprintf(dname, sizeof dname, "svc-%04d", d);
		snprintf(image, sizeof image, "contoso.azurecr.io/synthetic/%s:1.%d.%d", dname, d % 7, d % 13);
		sim_kube_ensure_namespace(c, ns);
		dep = world_deployment(ns, dname, replicas, image);
		sim_kube_prepare_new(c, dr, dep, "kubectl-client-side-apply");
		sim_kube_jset_str(sim_kube_jobj(dep, "metadata"), "creationTimestamp", created);
		dob = sim_kube_commit(c, dr, dep, KE_ADDED);
		cJSON_Delete(dep);
		if (dob == NULL)
			goto oom;
		/* the ReplicaSet exactly as the deployment controller would make it */
		dep = sim_kube_obj_parse(dob);
		tmpl = (cJSON *)sim_kube_jpath(dep, "spec.template");
		sim_kube_template_hash(tmpl, hash, sizeof hash);
		snprintf(rsname, sizeof rsname, "%s-%s", dname, hash);
		rs = cJSON_CreateObject();
		rmd = cJSON_AddObjectToObject(rs, "metadata");
		cJSON_AddStringToObject(rmd, "name", rsname);
		cJSON_AddStringToObject(rmd, "namespace", ns);
		{
			cJSON *l = cJSON_AddObjectToObject(rmd, "labels"), *ann, *ref;
			char reps[16];

			cJSON_AddStringToObject(l, "app", dname);
			cJSON_AddStringToObject(l, "pod-template-hash", hash);
			ann = cJSON_AddObjectToObject(rmd, "annotations");
			snprintf(reps, sizeof reps, "%d", replicas);
			cJSON_AddStringToObject(ann, "deployment.kubernetes.io/desired-replicas", reps);
			snprintf(reps, sizeof reps, "%d", replicas + (replicas + 3) / 4);
			cJSON_AddStringToObject(ann, "deployment.kubernetes.io/max-replicas", reps);
			cJSON_AddStringToObject(ann, "deployment.kubernetes.io/revision", "1");
			ref = cJSON_CreateObject();
			cJSON_AddStringToObject(ref, "apiVersion", "apps/v1");
			cJSON_AddStringToObject(ref, "kind", "Deployment");
			cJSON_AddStringToObject(ref, "name", dname);
			cJSON_AddStringToObject(ref, "uid", dob->uid);
			cJSON_AddBoolToObject(ref, "controller", 1);
			cJSON_AddBoolToObject(ref, "blockOwnerDeletion", 1);
			cJSON_AddItemToArray(cJSON_AddArrayToObject(rmd, "ownerReferences"), ref);
		}
		rspec = cJSON_AddObjectToObject(rs, "spec");
		cJSON_AddNumberToObject(rspec, "replicas", replicas);
		sel = cJSON_Duplicate(sim_kube_jpath(dep, "spec.selector"), 1);
		cJSON_AddStringToObject(sim_kube_jobj(sel, "matchLabels"), "pod-template-hash", hash);
		cJSON_AddItemToObject(rspec, "selector", sel);
		tmpl = cJSON_Duplicate(tmpl, 1);
		cJSON_AddStringToObject(sim_kube_jobj(sim_kube_jobj(tmpl, "metadata"), "labels"), "pod-template-hash", hash);
		cJSON_AddItemToObject(rspec, "template", tmpl);
		cJSON_Delete(dep);
		sim_kube_prepare_new(c, rr, rs, "kube-controller-manager");
		sim_kube_jset_str(sim_kube_jobj(rs, "metadata"), "creationTimestamp", created);
		rob = sim_kube_commit(c, rr, rs, KE_ADDED);
		cJSON_Delete(rs);
		if (rob == NULL)
			goto oom;
		snprintf(rsuid, sizeof rsuid, "%s", rob->uid);
		snprintf(gen, sizeof gen, "%s-", rsname);

		for (int k = 0; k < replicas; k++, made++) {
			char pname[200], sfx[8], uid[40], ip[32], cid[65], *json = NULL;
			const struct synth_node *nd = &nodes[(size_t)made % nn];
			const char *labels[12];
			char ver[16];
			struct kindex ix;
			struct kobj *o;
			int len;

			do {
				sim_kube_rand_suffix(sfx, 5);
				snprintf(pname, sizeof pname, "%s-%s", rsname, sfx);
			} while (sim_kube_store_get(&pr->store, ns, pname) != NULL);
			sim_uuid(uid);
			sim_kube_ip_str(sim_kube_alloc_pod_ip(c), ip, sizeof ip);
			sim_random_hex(cid, 64);
			snprintf(ver, sizeof ver, "%d", d % 7);
			c->rv++;
			len = asprintf(&json, pod_fmt, pname, gen, ns, uid, (unsigned long long)c->rv, created,
			    dname, dname, hash, ver, rsname, rsuid, ts, rsuid, dname, ts, ip,
			    dname, image, levels[made % 3], nd->name,
			    ts, ts, ts, ts, created, nd->ip, nd->ip, ip, ip, created, dname, ts, image, image, cid);
			if (len < 0)
				goto oom;
			memset(&ix, 0, sizeof ix);
			ix.ns = ns;
			ix.name = pname;
			ix.uid = uid;
			ix.owner_uid = rsuid;
			ix.owner_name = rsname;
			labels[0] = "app"; labels[1] = dname;
			labels[2] = "app.kubernetes.io/name"; labels[3] = dname;
			labels[4] = "app.kubernetes.io/part-of"; labels[5] = "synthetic";
			labels[6] = "pod-template-hash"; labels[7] = hash;
			labels[8] = "tier"; labels[9] = "backend";
			labels[10] = "version"; labels[11] = ver;
			ix.labels = labels;
			ix.nlabels = 6;
			/* the pod field selectors' order in sim_kube_disc.c */
			ix.fields[0] = nd->name;
			ix.fields[1] = "Running";
			ix.fields[2] = "Always";
			ix.fields[3] = "default-scheduler";
			ix.fields[4] = "default";
			ix.fields[5] = ip;
			ix.fields[6] = "";
			ix.fields[7] = "";
			{
				unsigned a, b, cc, dd;
				sscanf(ip, "%u.%u.%u.%u", &a, &b, &cc, &dd);
				ix.ip = (a << 24) | (b << 16) | (cc << 8) | dd;
			}
			ix.ready = 1;
			o = sim_kube_obj_make(pr, json, (size_t)len, c->rv, &ix);
			if (o == NULL) {
				free(json);
				goto oom;
			}
			if (sim_kube_store_put_quiet(pr, o) != 0)
				goto oom;
		}
		/* statuses as the controllers would write them (no pod changes) */
		sim_kube_reconcile(c, ns, dname);
		d++;
	}
	free(nodes);
	/* The pods came without events: a watch from before now cannot be
	 * served, so the event window starts here. */
	sim_kube_ring_clear(c);
	log_info("sim", "kubernetes: %s: %ld synthetic pods in %d deployments loaded in %lld ms",
	    c->name, npods, d, (long long)(sim_kube_mono_ms() - t0));
	return 0;
oom:
	free(nodes);
	snprintf(err, errlen, "synthetic_pods: out of memory after %ld pods", made);
	return -1;
}

/* ---- loading ---------------------------------------------------------------------- */

static int
jint_opt(const cJSON *obj, const char *key, long dflt, long min, long max, long *out, const char *where,
    char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long)v->valuedouble
	    || v->valuedouble < (double)min || v->valuedouble > (double)max) {
		snprintf(err, errlen, "%s.%s: expected a whole number from %ld to %ld", where, key, min, max);
		return -1;
	}
	*out = (long)v->valuedouble;
	return 0;
}

static int
jstr_opt(const cJSON *obj, const char *key, const char **out, const char *where, char *err,
    size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "%s.%s: expected a string%s", where, key,
		    cJSON_IsNumber(v) ? " (quote versions: \"1.30.5\")" : "");
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

static int
load_cluster(const cJSON *e, int idx, char *err, size_t errlen)
{
	char where[64];
	const char *name, *version, *ip;
	const cJSON *pools = cJSON_GetObjectItemCaseSensitive(e, "node_pools"), *p;
	const cJSON *nss = cJSON_GetObjectItemCaseSensitive(e, "namespaces"), *ns, *dep;
	struct sim_pool_spec spec[32];
	int npools = 0;
	long synth, synth_ns, synth_per;
	struct kcluster *c;
	struct kworld_entry *we;

	snprintf(where, sizeof where, "clusters[%d]", idx);
	if (!cJSON_IsObject(e)) {
		snprintf(err, errlen, "%s: expected a mapping", where);
		return -1;
	}
	if (jstr_opt(e, "name", &name, where, err, errlen) != 0)
		return -1;
	if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof entries[0].name) {
		snprintf(err, errlen, "%s.name: required (a cluster name)", where);
		return -1;
	}
	if (jstr_opt(e, "kubernetes_version", &version, where, err, errlen) != 0
	    || jstr_opt(e, "ingress_ip", &ip, where, err, errlen) != 0)
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(e, "exists") != NULL
	    && !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(e, "exists"))) {
		snprintf(err, errlen, "%s.exists: expected true or false", where);
		return -1;
	}
	if (jint_opt(e, "synthetic_pods", 0, 0, 2000000, &synth, where, err, errlen) != 0
	    || jint_opt(e, "synthetic_namespaces", 50, 1, 1000, &synth_ns, where, err, errlen) != 0
	    || jint_opt(e, "synthetic_replicas", 100, 1, 100000, &synth_per, where, err, errlen) != 0)
		return -1;

	we = realloc(entries, (size_t)(nentries + 1) * sizeof *entries);
	if (we == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	entries = we;
	we = &entries[nentries++];
	memset(we, 0, sizeof *we);
	snprintf(we->name, sizeof we->name, "%s", name);
	snprintf(we->ip, sizeof we->ip, "%s", ip != NULL ? ip : "");

	if (pools != NULL && !cJSON_IsArray(pools)) {
		snprintf(err, errlen, "%s.node_pools: expected a list", where);
		return -1;
	}
	cJSON_ArrayForEach(p, pools) {
		char pw[96];
		const char *pn, *mode, *vm;
		long count;

		snprintf(pw, sizeof pw, "%s.node_pools[%d]", where, npools);
		if (npools == 32) {
			snprintf(err, errlen, "%s: at most 32 node pools", pw);
			return -1;
		}
		if (!cJSON_IsObject(p)) {
			snprintf(err, errlen, "%s: expected a mapping", pw);
			return -1;
		}
		if (jstr_opt(p, "name", &pn, pw, err, errlen) != 0 || jstr_opt(p, "mode", &mode, pw, err, errlen) != 0
		    || jstr_opt(p, "vm_size", &vm, pw, err, errlen) != 0
		    || jint_opt(p, "count", 1, 0, 5000, &count, pw, err, errlen) != 0)
			return -1;
		if (pn == NULL || pn[0] == '\0' || strlen(pn) >= sizeof spec[0].name) {
			snprintf(err, errlen, "%s.name: required (at most 63 characters)", pw);
			return -1;
		}
		if (mode != NULL && strcmp(mode, "System") != 0 && strcmp(mode, "User") != 0) {
			snprintf(err, errlen, "%s.mode: expected System or User, got %s", pw, mode);
			return -1;
		}
		memset(&spec[npools], 0, sizeof spec[0]);
		snprintf(spec[npools].name, sizeof spec[0].name, "%s", pn);
		snprintf(spec[npools].mode, sizeof spec[0].mode, "%s", mode != NULL ? mode : "User");
		snprintf(spec[npools].vm_size, sizeof spec[0].vm_size, "%s", vm != NULL ? vm : "Standard_D4ds_v5");
		spec[npools].count = (int)count;
		npools++;
	}
	if (nss != NULL && !cJSON_IsObject(nss)) {
		snprintf(err, errlen, "%s.namespaces: expected a mapping of namespace to deployments", where);
		return -1;
	}
	/* check the deployments, and find the ingress one, before creating */
	cJSON_ArrayForEach(ns, nss) {
		int k = 0;

		if (!cJSON_IsArray(ns)) {
			snprintf(err, errlen, "%s.namespaces.%s: expected a list of deployments", where, ns->string);
			return -1;
		}
		cJSON_ArrayForEach(dep, ns) {
			char dw[512];
			const char *dn, *img;
			long reps;
			const cJSON *ing = cJSON_GetObjectItemCaseSensitive(dep, "ingress");

			snprintf(dw, sizeof dw, "%s.namespaces.%s[%d]", where, ns->string, k++);
			if (!cJSON_IsObject(dep)) {
				snprintf(err, errlen, "%s: expected a mapping {name, replicas, image}", dw);
				return -1;
			}
			if (jstr_opt(dep, "name", &dn, dw, err, errlen) != 0
			    || jstr_opt(dep, "image", &img, dw, err, errlen) != 0
			    || jint_opt(dep, "replicas", 1, 0, 100000, &reps, dw, err, errlen) != 0)
				return -1;
			if (dn == NULL || dn[0] == '\0') {
				snprintf(err, errlen, "%s.name: required", dw);
				return -1;
			}
			if (ing != NULL && !cJSON_IsBool(ing)) {
				snprintf(err, errlen, "%s.ingress: expected true or false", dw);
				return -1;
			}
			if (cJSON_IsTrue(ing)) {
				snprintf(we->ingress_ns, sizeof we->ingress_ns, "%s", ns->string);
				snprintf(we->ingress_deploy, sizeof we->ingress_deploy, "%s", dn);
				if (world_ingress_deploy[0] == '\0') {
					snprintf(world_ingress_ns, sizeof world_ingress_ns, "%s", ns->string);
					snprintf(world_ingress_deploy, sizeof world_ingress_deploy, "%s", dn);
				}
			}
		}
	}
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(e, "exists")))
		return 0;

	if (sim_kube_cluster_add(name, version, ip, spec, npools, 1) != 0) {
		snprintf(err, errlen, "%s: cannot create cluster %s", where, name);
		return -1;
	}
	c = sim_kube_cluster_find(name);
	if (c == NULL) {
		snprintf(err, errlen, "%s: cannot create cluster %s", where, name);
		return -1;
	}
	/* the world's entry decides the ingress even if ARM made it first */
	sim_kube_world_ingress(name, c->ingress_ns, sizeof c->ingress_ns, c->ingress_deploy,
	    sizeof c->ingress_deploy);
	cJSON_ArrayForEach(ns, nss) {
		sim_kube_ensure_namespace(c, ns->string);
		cJSON_ArrayForEach(dep, ns) {
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(dep, "replicas");
			const char *img = sim_kube_jstr(dep, "image");

			if (add_deployment(c, ns->string, sim_kube_jstr(dep, "name"), cJSON_IsNumber(r) ? r->valueint : 1,
			    img[0] != '\0' ? img : "mcr.microsoft.com/azuredocs/aks-helloworld:v1") != 0) {
				snprintf(err, errlen, "%s.namespaces.%s: cannot create deployment %s", where, ns->string,
				    sim_kube_jstr(dep, "name"));
				return -1;
			}
		}
	}
	if (synth > 0 && synthetic_load(c, synth, (int)synth_ns, (int)synth_per, err, errlen) != 0)
		return -1;
	return 0;
}

int
sim_kube_load(const cJSON *world, char *err, size_t errlen)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(world, "timings");
	const cJSON *cl = cJSON_GetObjectItemCaseSensitive(world, "clusters"), *e;
	long v;
	int i = 0;

	/* A world started again in the same process (sim_start after
	 * sim_stop) begins empty, as the Entra and ARM sides do. */
	sim_kube_reset();
	if (t != NULL && !cJSON_IsObject(t)) {
		snprintf(err, errlen, "timings: expected a mapping");
		return -1;
	}
	if (jint_opt(t, "node_join", 20, 0, 86400, &v, "timings", err, errlen) != 0)
		return -1;
	sim_kube_timings.node_join = (int)v;
	if (jint_opt(t, "node_ready", 30, 0, 86400, &v, "timings", err, errlen) != 0)
		return -1;
	sim_kube_timings.node_ready = (int)v;
	if (jint_opt(t, "pod_ready", 15, 0, 86400, &v, "timings", err, errlen) != 0)
		return -1;
	sim_kube_timings.pod_ready = (int)v;
	if (jint_opt(t, "pod_terminate", 2, 0, 3600, &v, "timings", err, errlen) != 0)
		return -1;
	sim_kube_timings.pod_terminate = (int)v;
	if (cl != NULL && !cJSON_IsArray(cl)) {
		snprintf(err, errlen, "clusters: expected a list");
		return -1;
	}
	/* every entry first, so the ingress marking is known to all */
	cJSON_ArrayForEach(e, cl) {
		if (load_cluster(e, i++, err, errlen) != 0)
			return -1;
	}
	/* An API server that has just started serves watches from its current
	 * state on, as a fresh watch cache does: older versions are Expired. */
	for (struct kcluster *c = sim_kube_clusters; c != NULL; c = c->next)
		sim_kube_ring_clear(c);
	sim_kube_loaded = 1;
	return 0;
}
