/*
 * sim_kube.c — the Kubernetes API servers of the simulated AKS clusters: one
 * per cluster, all on the simulator's listener under /clusters/NAME, so a
 * kubeconfig's server is https://127.0.0.1:PORT/clusters/NAME.  This file
 * routes a request to its cluster, authenticates it (the cluster's static
 * bearer token, as AKS local accounts give, or a client certificate signed
 * by the simulator's CA), and holds what the rest of the simulator calls:
 * cluster lifecycle for ARM, kubeconfigs, gateway backend health, the tick,
 * and the run-time fault controls.  A root-level API path (/api/..., as
 * `kubectl get --raw` sends it, without the prefix) goes to the cluster
 * whose token the request carries.
 *
 * Control actions, POST /_sim/clusters/NAME/ACTION with an optional JSON
 * body (an empty body means {}); each answers the cluster's state as JSON:
 *
 *   node-notready  {"node": N}   node N (default: the first node) stops
 *                                posting status: Ready=Unknown, NoSchedule
 *                                taint, its pods turn NotReady
 *   node-ready     {"node": N}   node N (default: every NotReady node) is
 *                                Ready again, and so are its pods
 *   crashloop      {"namespace": NS, "deployment": D, "on": true|false}
 *                                containers of D's pods (every deployment
 *                                of NS without D) crash and restart with
 *                                back-off: CrashLoopBackOff, Ready=False,
 *                                restartCount rising; "on": false heals them
 *   outage         {"seconds": S} the API server is unreachable for S
 *                                simulated seconds (default 60; 0 ends an
 *                                outage): connections are dropped without
 *                                an answer, open watches end, the ingress
 *                                counts as unhealthy
 *   expire-watches {}            the retained event window is emptied: open
 *                                watches get an ERROR event with a 410
 *                                Expired Status and end, and a watch from
 *                                any older resourceVersion gets the same
 *   get            (GET or POST) the state only: nodes, pods, resource
 *                                version, event window, open watches
 *
 * Locking: every entry point takes (or is called with) sim_world.lock;
 * handlers finish their work under it, and a list or watch answer is a
 * stream that runs later, in the connection's thread, taking the lock only
 * briefly between writes.
 */
#include "sim/sim_kube.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/log.h"

struct kcluster *sim_kube_clusters;
static int next_cluster_index;
int sim_kube_loaded;

/* ---- small helpers shared by the sim_kube files -------------------------- */

int64_t
sim_kube_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
sim_kube_jstr(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) && v->valuestring != NULL ? v->valuestring : "";
}

const cJSON *
sim_kube_jpath(const cJSON *obj, const char *dotted)
{
	char part[256];

	while (obj != NULL && *dotted != '\0') {
		size_t n = strcspn(dotted, ".");

		if (n >= sizeof part)
			return NULL;
		memcpy(part, dotted, n);
		part[n] = '\0';
		obj = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, part) : NULL;
		dotted += n;
		if (*dotted == '.')
			dotted++;
	}
	return obj;
}

cJSON *
sim_kube_jobj(cJSON *parent, const char *key)
{
	cJSON *o;

	if (!cJSON_IsObject(parent))
		return NULL;
	o = cJSON_GetObjectItemCaseSensitive(parent, key);
	if (cJSON_IsObject(o))
		return o;
	if (o != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
	return cJSON_AddObjectToObject(parent, key);
}

void
sim_kube_jset(cJSON *obj, const char *key, cJSON *val)
{
	if (!cJSON_IsObject(obj)) {
		cJSON_Delete(val);
		return;
	}
	if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val);
	else
		cJSON_AddItemToObject(obj, key, val);
}

void
sim_kube_jset_str(cJSON *obj, const char *key, const char *val)
{
	sim_kube_jset(obj, key, cJSON_CreateString(val));
}

void
sim_kube_jset_num(cJSON *obj, const char *key, double val)
{
	sim_kube_jset(obj, key, cJSON_CreateNumber(val));
}

void
sim_kube_now_str(char *buf, size_t n)
{
	sim_time_rfc3339(sim_now_ms(), buf, n);
}

/* ---- clusters --------------------------------------------------------------- */

struct kcluster *
sim_kube_cluster_find(const char *name)
{
	for (struct kcluster *c = sim_kube_clusters; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void
cluster_free(struct kcluster *c)
{
	sim_kube_ring_clear(c);
	free(c->ring);
	for (int i = 0; i < c->nres; i++) {
		sim_kube_store_clear(&c->res[i]->store);
		cJSON_Delete(c->res[i]->printer_cols);
		free(c->res[i]);
	}
	free(c->res);
	free(c->timers);
	free(c->dirty);
	free(c->crash);
	free(c->nodes);
	free(c->evkeys);
	free(c);
}

void
sim_kube_cluster_unref(struct kcluster *c)
{
	if (c != NULL && --c->refs == 0)
		cluster_free(c);
}

/* An AKS-like 8-digit number for node names, stable per cluster name. */
static unsigned
name_digits(const char *name)
{
	uint32_t h = 2166136261u;

	for (const char *p = name; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 16777619u;
	}
	return h % 100000000u;
}

static void
vmss_suffix(int n, char *buf)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";

	for (int i = 5; i >= 0; i--) {
		buf[i] = digits[n % 36];
		n /= 36;
	}
	buf[6] = '\0';
}


int
sim_kube_cluster_add(const char *name, const char *version, const char *ingress_ip,
    const struct sim_pool_spec *pools, int npools, int nodes_now)
{
	struct kcluster *c, **tail;
	unsigned digits;
	const struct kworld_entry *we = sim_kube_world_entry(name);

	if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof c->name)
		return -1;
	if (sim_kube_cluster_find(name) != NULL)
		return 0;
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return -1;
	c->refs = 1;
	c->running = 1;
	snprintf(c->name, sizeof c->name, "%s", name);
	snprintf(c->version, sizeof c->version, "%s",
	    version != NULL && version[0] != '\0' ? (version[0] == 'v' ? version + 1 : version) : "1.29.7");
	snprintf(c->ingress_ip, sizeof c->ingress_ip, "%s",
	    ingress_ip != NULL && ingress_ip[0] != '\0' ? ingress_ip : we != NULL ? we->ip : "");
	/* The deployment whose Ready pods make the ingress healthy: the
	 * world entry's own, else the one the world marks anywhere (a green
	 * cluster gets it by the switchover's sync). */
	sim_kube_world_ingress(name, c->ingress_ns, sizeof c->ingress_ns, c->ingress_deploy,
	    sizeof c->ingress_deploy);
	sim_random_hex(c->token, 64);
	c->index = next_cluster_index++;
	c->created_ms = sim_now_ms();
	c->ring_cap = sim_kube_ring_cap;
	c->ring = calloc(c->ring_cap, sizeof *c->ring);
	if (c->ring == NULL || sim_kube_res_init(c) != 0) {
		cluster_free(c);
		return -1;
	}

	/* The node plan: every node of every pool, named the way AKS names
	 * VM scale set instances. */
	digits = name_digits(name);
	for (int i = 0; i < npools; i++)
		c->nnodes += pools[i].count > 0 ? pools[i].count : 0;
	c->nodes = calloc((size_t)(c->nnodes > 0 ? c->nnodes : 1), sizeof *c->nodes);
	if (c->nodes == NULL) {
		cluster_free(c);
		return -1;
	}
	{
		int k = 0;
		for (int i = 0; i < npools; i++) {
			for (int j = 0; j < pools[i].count; j++, k++) {
				struct knode_plan *p = &c->nodes[k];
				char sfx[8];

				vmss_suffix(j, sfx);
				snprintf(p->name, sizeof p->name, "aks-%s-%08u-vmss%s", pools[i].name, digits, sfx);
				snprintf(p->pool, sizeof p->pool, "%s", pools[i].name);
				snprintf(p->mode, sizeof p->mode, "%s", pools[i].mode[0] != '\0' ? pools[i].mode : "User");
				snprintf(p->vm_size, sizeof p->vm_size, "%s",
				    pools[i].vm_size[0] != '\0' ? pools[i].vm_size : "Standard_D4ds_v5");
				p->index = k;
				p->vmss_index = j;
			}
		}
	}
	for (tail = &sim_kube_clusters; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = c;

	/* What every cluster has from birth. */
	sim_kube_ensure_namespace(c, "default");
	sim_kube_ensure_namespace(c, "kube-node-lease");
	sim_kube_ensure_namespace(c, "kube-public");
	sim_kube_ensure_namespace(c, "kube-system");
	{
		cJSON *svc = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{"
		    "\"name\":\"kubernetes\",\"namespace\":\"default\",\"labels\":{\"component\":\"apiserver\","
		    "\"provider\":\"kubernetes\"}},\"spec\":{\"type\":\"ClusterIP\",\"ports\":[{\"name\":\"https\","
		    "\"port\":443,\"protocol\":\"TCP\",\"targetPort\":443}]}}");
		struct kres *r = sim_kube_res_builtin(c, K_SERVICE);

		if (svc != NULL && r != NULL) {
			sim_kube_prepare_new(c, r, svc, "kube-apiserver");
			sim_kube_commit(c, r, svc, KE_ADDED);
		}
		cJSON_Delete(svc);
	}
	sim_kube_nodes_start(c, nodes_now);
	if (sim_kube_loaded)
		sim_kube_write_kubeconfig();
	log_info("sim", "kubernetes: cluster %s (v%s) up, %d nodes %s", c->name, c->version, c->nnodes,
	    nodes_now ? "ready" : "joining");
	pthread_cond_broadcast(&sim_world.changed);
	return 0;
}

void
sim_kube_cluster_remove(const char *name)
{
	for (struct kcluster **pp = &sim_kube_clusters; *pp != NULL; pp = &(*pp)->next) {
		struct kcluster *c = *pp;

		if (strcmp(c->name, name) == 0) {
			*pp = c->next;
			c->next = NULL;
			c->gone = 1;
			pthread_cond_broadcast(&sim_world.changed);
			sim_kube_cluster_unref(c);
			if (sim_kube_loaded)
				sim_kube_write_kubeconfig();
			return;
		}
	}
}

void
sim_kube_reset(void)
{
	while (sim_kube_clusters != NULL) {
		struct kcluster *c = sim_kube_clusters;

		sim_kube_clusters = c->next;
		c->gone = 1;
		sim_kube_cluster_unref(c);
	}
	sim_kube_world_reset();
	sim_kube_loaded = 0;
	next_cluster_index = 0;
}

void
sim_kube_cluster_set_running(const char *name, int running)
{
	struct kcluster *c = sim_kube_cluster_find(name);

	if (c != NULL) {
		c->running = running != 0;
		pthread_cond_broadcast(&sim_world.changed);
	}
}

int
sim_kube_cluster_exists(const char *name)
{
	return sim_kube_cluster_find(name) != NULL;
}

int
sim_kube_in_outage(const struct kcluster *c)
{
	return c->outage_until > 0 && sim_now_ms() < c->outage_until;
}

int
sim_kube_address_health(const char *ip)
{
	struct in_addr a;
	uint32_t n;

	if (ip == NULL || ip[0] == '\0')
		return -1;
	for (struct kcluster *c = sim_kube_clusters; c != NULL; c = c->next) {
		struct kres *dr;
		struct kobj *d;

		if (strcmp(c->ingress_ip, ip) != 0)
			continue;
		if (!c->running || sim_kube_in_outage(c) || c->ingress_deploy[0] == '\0')
			return 0;
		dr = sim_kube_res_builtin(c, K_DEPLOYMENT);
		d = dr != NULL ? sim_kube_store_get(&dr->store, c->ingress_ns, c->ingress_deploy) : NULL;
		return d != NULL && !d->deleting && d->ready >= 1 ? 1 : 0;
	}
	/* A cluster the world knows but that does not exist (yet, or any
	 * more): its address is reserved, and nothing answers there. */
	for (int i = 0; sim_kube_world_entry_at(i) != NULL; i++)
		if (strcmp(sim_kube_world_entry_at(i)->ip, ip) == 0)
			return 0;
	if (inet_pton(AF_INET, ip, &a) != 1)
		return -1;
	n = ntohl(a.s_addr);
	for (struct kcluster *c = sim_kube_clusters; c != NULL; c = c->next) {
		struct kres *pr = sim_kube_res_builtin(c, K_POD);

		if (pr == NULL)
			continue;
		for (size_t i = 0; i < pr->store.n; i++) {
			const struct kobj *o = pr->store.v[i];
			if (o->ip == n)
				return c->running && !sim_kube_in_outage(c) && o->ready && !o->deleting ? 1 : 0;
		}
	}
	return -1;
}

/* ---- kubeconfigs ---------------------------------------------------------------- */

static void
kubeconfig_cluster(FILE *f, const struct kcluster *c)
{
	fprintf(f, "- cluster:\n");
	if (!sim_world.plain_http && sim_tls.ca_pem != NULL) {
		char *ca = sim_base64(sim_tls.ca_pem, strlen(sim_tls.ca_pem));
		fprintf(f, "    certificate-authority-data: %s\n", ca != NULL ? ca : "");
		free(ca);
	}
	fprintf(f, "    server: %s/clusters/%s\n  name: %s\n", sim_world.base_url, c->name, c->name);
}

static void
kubeconfig_context(FILE *f, const struct kcluster *c, const char *user)
{
	fprintf(f, "- context:\n    cluster: %s\n    user: %s\n  name: %s\n", c->name, user, c->name);
}

void
sim_kube_write_kubeconfig(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	struct kcluster *c;

	if (sim_world.dir[0] == '\0')
		return;
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return;
	fprintf(f, "# Written by `bgswitch sim`: one context per simulated cluster.\n"
	    "apiVersion: v1\nkind: Config\nclusters:%s\n", sim_kube_clusters == NULL ? " []" : "");
	for (c = sim_kube_clusters; c != NULL; c = c->next)
		kubeconfig_cluster(f, c);
	fprintf(f, "contexts:%s\n", sim_kube_clusters == NULL ? " []" : "");
	for (c = sim_kube_clusters; c != NULL; c = c->next) {
		char user[300];
		snprintf(user, sizeof user, "clusterAdmin_%s_%s", sim_world.resource_group, c->name);
		kubeconfig_context(f, c, user);
	}
	fprintf(f, "current-context: \"%s\"\npreferences: {}\nusers:%s\n",
	    sim_kube_clusters != NULL ? sim_kube_clusters->name : "",
	    sim_kube_clusters == NULL ? " []" : "");
	for (c = sim_kube_clusters; c != NULL; c = c->next)
		fprintf(f, "- name: clusterAdmin_%s_%s\n  user:\n    token: %s\n",
		    sim_world.resource_group, c->name, c->token);
	fclose(f);
	if (buf != NULL && sim_write_file("kubeconfig", buf, len) != 0)
		log_warn("sim", "cannot write %s/kubeconfig", sim_world.dir);
	free(buf);
}

char *
sim_kube_user_kubeconfig(const char *name)
{
	struct kcluster *c = sim_kube_cluster_find(name);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	char user[300];

	if (c == NULL)
		return NULL;
	/* AKS's clusterUser credential of a cluster with local accounts: a
	 * client certificate (CN masterclient, O system:masters) and the
	 * cluster's token.  The certificate is made once per cluster. */
	if (!sim_world.plain_http && sim_tls.ca_key != NULL && c->user_cert_pem[0] == '\0') {
		char *cert = NULL, *key = NULL;
		if (sim_tls_issue_client(&sim_tls, "masterclient", "system:masters", &cert, &key) == 0
		    && strlen(cert) < sizeof c->user_cert_pem && strlen(key) < sizeof c->user_key_pem) {
			snprintf(c->user_cert_pem, sizeof c->user_cert_pem, "%s", cert);
			snprintf(c->user_key_pem, sizeof c->user_key_pem, "%s", key);
		}
		free(cert);
		free(key);
	}
	snprintf(user, sizeof user, "clusterUser_%s_%s", sim_world.resource_group, c->name);
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;
	fprintf(f, "apiVersion: v1\nclusters:\n");
	kubeconfig_cluster(f, c);
	fprintf(f, "contexts:\n");
	kubeconfig_context(f, c, user);
	fprintf(f, "current-context: %s\nkind: Config\npreferences: {}\nusers:\n- name: %s\n  user:\n",
	    c->name, user);
	if (c->user_cert_pem[0] != '\0') {
		char *cd = sim_base64(c->user_cert_pem, strlen(c->user_cert_pem));
		char *kd = sim_base64(c->user_key_pem, strlen(c->user_key_pem));
		fprintf(f, "    client-certificate-data: %s\n    client-key-data: %s\n",
		    cd != NULL ? cd : "", kd != NULL ? kd : "");
		free(cd);
		free(kd);
	} else {
		fprintf(f, "    token: %s\n", c->token);
	}
	fclose(f);
	return buf;
}

/* ---- requests --------------------------------------------------------------------- */

static int
authenticated(const struct kcluster *c, const struct sim_req *req)
{
	const char *tok;

	/* The front end sets client_cn only for a certificate that verified
	 * against the simulator's CA: like an API server's x509
	 * authenticator, any such certificate is a user. */
	if (req->client_cn != NULL)
		return 1;
	tok = sim_req_bearer(req);
	return tok != NULL && strcmp(tok, c->token) == 0;
}

static void
send_root(struct sim_resp *resp)
{
	static const char *const paths[] = {
		"/api", "/api/v1", "/apis", "/apis/", "/apis/apiextensions.k8s.io",
		"/apis/apiextensions.k8s.io/v1", "/apis/apps", "/apis/apps/v1",
		"/apis/authentication.k8s.io", "/apis/authentication.k8s.io/v1",
		"/apis/authorization.k8s.io", "/apis/authorization.k8s.io/v1",
		"/apis/coordination.k8s.io", "/apis/coordination.k8s.io/v1", "/healthz",
		"/livez", "/openapi/v3", "/readyz", "/version",
	};
	cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "paths");

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(paths[i]));
	sim_resp_json_take(resp, 200, o);
}

/* A path kube-apiserver serves at its root. */
static int
root_api_path(const char *p)
{
	static const char *const roots[] = {
		"/api", "/apis", "/version", "/healthz", "/livez", "/readyz", "/openapi",
	};

	for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		size_t n = strlen(roots[i]);
		if (strncmp(p, roots[i], n) == 0 && (p[n] == '\0' || p[n] == '/'))
			return 1;
	}
	return 0;
}

/* The cluster a root-level request is for: the one whose token it
 * carries.  Lock held. */
static struct kcluster *
cluster_by_token(const struct sim_req *req)
{
	const char *tok = sim_req_bearer(req);

	for (struct kcluster *c = sim_kube_clusters; tok != NULL && c != NULL; c = c->next)
		if (strcmp(c->token, tok) == 0)
			return c;
	return NULL;
}

int
sim_kube_handle(struct sim_req *req, struct sim_resp *resp)
{
	char name[128];
	const char *p, *rest;
	size_t n;
	struct kcluster *c;

	if (strncmp(req->path, "/clusters/", 10) != 0) {
		/* client-go's RequestURI (kubectl get --raw /api/...) replaces
		 * the whole path, prefix included: such requests are served by
		 * the cluster whose static token they carry. */
		if (!root_api_path(req->path))
			return 0;
		pthread_mutex_lock(&sim_world.lock);
		c = cluster_by_token(req);
		snprintf(name, sizeof name, "%s", c != NULL ? c->name : "");
		pthread_mutex_unlock(&sim_world.lock);
		if (name[0] == '\0')
			return 0;
		rest = req->path + 1;
	} else {
		p = req->path + 10;
		n = strcspn(p, "/");
		if (n == 0 || n >= sizeof name) {
			resp->drop = 1;
			return 1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		rest = p[n] == '/' ? p + n + 1 : "";
	}

	pthread_mutex_lock(&sim_world.lock);
	c = sim_kube_cluster_find(name);
	/* No API server (never created, deleted, stopped, or in an outage):
	 * the client sees its connection closed, as with an unreachable
	 * endpoint. */
	if (c == NULL || !c->running || sim_kube_in_outage(c)) {
		pthread_mutex_unlock(&sim_world.lock);
		resp->drop = 1;
		return 1;
	}
	if (!authenticated(c, req)) {
		pthread_mutex_unlock(&sim_world.lock);
		sim_kube_status(resp, 401, "Unauthorized", "Unauthorized");
		return 1;
	}
	if (rest[0] == '\0') {
		send_root(resp);
	} else if (strcmp(rest, "healthz") == 0 || strcmp(rest, "livez") == 0
	    || strcmp(rest, "readyz") == 0) {
		sim_resp_body(resp, 200, "text/plain; charset=utf-8", "ok", 2);
	} else if (sim_kube_discovery(c, req, resp, rest)) {
		/* answered */
	} else if (strncmp(rest, "api/", 4) == 0 || strncmp(rest, "apis/", 5) == 0) {
		sim_kube_api(c, req, resp, rest);
	} else {
		sim_kube_status(resp, 404, "NotFound", "the server could not find the requested resource");
	}
	pthread_mutex_unlock(&sim_world.lock);
	return 1;
}

/* ---- tick ------------------------------------------------------------------------- */

void
sim_kube_tick(int64_t now_ms)
{
	for (struct kcluster *c = sim_kube_clusters; c != NULL; c = c->next)
		sim_kube_ctrl_tick(c, now_ms);
}

/* ---- control actions ---------------------------------------------------------------- */

static cJSON *
state_json(struct kcluster *c)
{
	cJSON *o = cJSON_CreateObject(), *nodes, *ns;
	struct kres *nr = sim_kube_res_builtin(c, K_NODE), *pr = sim_kube_res_builtin(c, K_POD);
	int64_t now = sim_now_ms();
	int ready = 0, total = 0, pready = 0;

	cJSON_AddStringToObject(o, "name", c->name);
	cJSON_AddStringToObject(o, "kubernetesVersion", c->version);
	cJSON_AddBoolToObject(o, "running", c->running);
	cJSON_AddNumberToObject(o, "outageSeconds",
	    sim_kube_in_outage(c) ? (double)(c->outage_until - now) / 1000.0 : 0);
	cJSON_AddStringToObject(o, "ingressIP", c->ingress_ip);
	cJSON_AddNumberToObject(o, "ingressHealthy", sim_kube_address_health(c->ingress_ip));
	cJSON_AddNumberToObject(o, "resourceVersion", (double)c->rv);
	cJSON_AddNumberToObject(o, "eventWindowFrom", (double)c->floor);
	cJSON_AddNumberToObject(o, "eventsRetained", (double)c->ring_n);
	cJSON_AddNumberToObject(o, "openWatches", c->nwatches);
	nodes = cJSON_AddArrayToObject(o, "nodes");
	for (size_t i = 0; nr != NULL && i < nr->store.n; i++) {
		const struct kobj *nd = nr->store.v[i];
		cJSON *e = cJSON_CreateObject();
		int r = nd->ready;

		cJSON_AddStringToObject(e, "name", nd->name);
		cJSON_AddBoolToObject(e, "ready", r);
		cJSON_AddItemToArray(nodes, e);
		ready += r;
		total++;
	}
	cJSON_AddNumberToObject(o, "nodesReady", ready);
	cJSON_AddNumberToObject(o, "nodesTotal", total);
	ns = cJSON_AddObjectToObject(o, "pods");
	for (size_t i = 0; pr != NULL && i < pr->store.n; i++)
		pready += pr->store.v[i]->ready;
	cJSON_AddNumberToObject(ns, "total", pr != NULL ? (double)pr->store.n : 0);
	cJSON_AddNumberToObject(ns, "ready", pready);
	return o;
}

static void
ctl_error(struct sim_resp *resp, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	cJSON *o = cJSON_CreateObject();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(o, "error", msg);
	sim_resp_json_take(resp, status, o);
}

int
sim_kube_ctl(struct sim_req *req, struct sim_resp *resp, const char *cluster, const char *action)
{
	struct kcluster *c;
	cJSON *body = NULL;
	const char *node, *ns, *dep;

	if (strcmp(action, "node-notready") != 0 && strcmp(action, "node-ready") != 0
	    && strcmp(action, "crashloop") != 0 && strcmp(action, "outage") != 0
	    && strcmp(action, "expire-watches") != 0 && strcmp(action, "get") != 0)
		return 0;
	if (req->body_len > 0) {
		body = cJSON_ParseWithLength(req->body, req->body_len);
		if (!cJSON_IsObject(body)) {
			cJSON_Delete(body);
			ctl_error(resp, 400, "%s: the body must be a JSON object", action);
			return 1;
		}
	}
	pthread_mutex_lock(&sim_world.lock);
	c = sim_kube_cluster_find(cluster);
	if (c == NULL) {
		pthread_mutex_unlock(&sim_world.lock);
		cJSON_Delete(body);
		ctl_error(resp, 404, "no cluster named %s exists", cluster);
		return 1;
	}
	node = sim_kube_jstr(body, "node");
	ns = sim_kube_jstr(body, "namespace");
	dep = sim_kube_jstr(body, "deployment");
	if (strcmp(action, "get") == 0) {
		/* state only */
	} else if (strcmp(req->method, "POST") != 0 && strcmp(req->method, "PUT") != 0) {
		pthread_mutex_unlock(&sim_world.lock);
		cJSON_Delete(body);
		ctl_error(resp, 405, "%s wants POST", action);
		return 1;
	} else if (strcmp(action, "node-notready") == 0 || strcmp(action, "node-ready") == 0) {
		if (sim_kube_node_set_ready(c, node[0] != '\0' ? node : NULL,
		    strcmp(action, "node-ready") == 0) != 0) {
			pthread_mutex_unlock(&sim_world.lock);
			ctl_error(resp, 404, "%s: no node %s in cluster %s", action,
			    node[0] != '\0' ? node : "at all", cluster);
			cJSON_Delete(body);	/* NODE points into it */
			return 1;
		}
	} else if (strcmp(action, "crashloop") == 0) {
		const cJSON *on = cJSON_GetObjectItemCaseSensitive(body, "on");
		if (ns[0] == '\0') {
			pthread_mutex_unlock(&sim_world.lock);
			cJSON_Delete(body);
			ctl_error(resp, 400, "crashloop: \"namespace\" is required");
			return 1;
		}
		sim_kube_crashloop(c, ns, dep, on == NULL || cJSON_IsTrue(on));
	} else if (strcmp(action, "outage") == 0) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(body, "seconds");
		double secs = cJSON_IsNumber(s) ? s->valuedouble : 60;

		c->outage_until = secs > 0 ? sim_now_ms() + (int64_t)(secs * 1000) : 0;
		log_info("sim", "kubernetes: %s API server outage for %g s", c->name, secs);
		pthread_cond_broadcast(&sim_world.changed);
	} else if (strcmp(action, "expire-watches") == 0) {
		c->watch_epoch++;
		sim_kube_ring_clear(c);
		pthread_cond_broadcast(&sim_world.changed);
	}
	sim_resp_json_take(resp, 200, state_json(c));
	pthread_mutex_unlock(&sim_world.lock);
	cJSON_Delete(body);
	return 1;
}
