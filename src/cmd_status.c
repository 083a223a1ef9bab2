/*
 * cmd_status.c — `bgswitch status -c FILE [--json]`: one look at both
 * clusters, the gateway and the DNS record, for people and for scripts.
 *
 * The JSON form is a documented, stable schema (PRODUCT.md §3; every field
 * in bgswitch(1), STATUS JSON).  Reads run side by side — each cluster's
 * Kubernetes lists on a thread of its own while the main thread asks ARM —
 * because a 150,000-pod cluster takes seconds to list and the gateway's
 * backend health is a long-running operation of its own.  Whatever cannot
 * be read is left out of its place, named in `errors`, and makes the exit
 * status 1: a script must never mistake a failed read for a healthy
 * cluster (PRODUCT.md §6, no stage advances on unknown state).
 */
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "azure/aks.h"
#include "azure/appgw.h"
#include "azure/pdns.h"
#include "kube/kube_informer.h"
#include "src/cli.h"
#include "src/config.h"
#include "src/conn.h"
#include "src/journal.h"
#include "src/log.h"

#define STATUS_DEFAULT_TIMEOUT_MS 60000L
#define STATUS_SLICE_MS 250L
#define STATUS_GIVE_UP_MS 3000L	/* of failed retries before reporting the failure */

/* What one cluster's thread learns. */
struct cluster_read {
	struct conn *conn;
	enum cfg_role role;
	long timeout_ms;
	int wanted;			/* 0: ARM says the cluster does not exist */
	struct conn_kube kube;
	int opened;
	struct kube_snapshot snap[3];	/* nodes, pods, deployments */
	int have[3];
	char error[4096];		/* "" when everything was read */
	pthread_t thread;
	int started;
};

static const enum kube_informer_kind kinds[3] = {
	KUBE_INFORMER_NODES, KUBE_INFORMER_PODS, KUBE_INFORMER_DEPLOYMENTS,
};
static const char *const kind_names[3] = { "nodes", "pods", "deployments" };

static void *
read_cluster(void *arg)
{
	struct cluster_read *r = arg;
	struct kube_informer *inf[3] = { NULL, NULL, NULL };
	char err[1024];

	if (conn_kube_open(r->conn, r->role, &r->kube, err, sizeof err) != 0) {
		snprintf(r->error, sizeof r->error, "%s", err);
		return NULL;
	}
	r->opened = 1;
	/* Informers list in pages through the streaming decoder; the first
	 * complete list is all a one-shot status needs. */
	for (int i = 0; i < 3; i++) {
		struct kube_informer_opts o = { 0 };

		o.name = kind_names[i];
		inf[i] = kube_informer_start(r->kube.client, kinds[i], &o, err, sizeof err);
		if (inf[i] == NULL) {
			snprintf(r->error, sizeof r->error, "%s cluster %s: %s: %s", cfg_role_name(r->role),
			    r->conn->cfg->clusters[r->role].name, kind_names[i], err);
			break;
		}
	}
	/* The three lists run side by side.  An informer retries a failing
	 * server with backoff forever; a one-shot read allows a few seconds
	 * of retries after a failure, then reports that failure rather than
	 * waiting out the whole deadline. */
	int synced[3] = { 0, 0, 0 }, failing = 0;
	for (long waited = 0; waited < r->timeout_ms; waited += STATUS_SLICE_MS) {
		int pending = 0;

		failing = 0;
		for (int i = 0; i < 3 && inf[i] != NULL; i++) {
			struct kube_snapshot probe;

			if (synced[i] || (synced[i] = kube_informer_wait_synced(inf[i], 0) == 1))
				continue;
			pending++;
			if (kube_informer_snapshot(inf[i], &probe) == 0) {
				failing |= probe.last_error[0] != '\0' && !probe.connected;
				kube_snapshot_free(&probe);
			}
		}
		if (pending == 0 || (failing && waited >= STATUS_GIVE_UP_MS))
			break;
		/* Sleep on the first informer still listing (returns early
		 * when it syncs). */
		for (int i = 0; i < 3; i++)
			if (inf[i] != NULL && !synced[i]) {
				kube_informer_wait_synced(inf[i], STATUS_SLICE_MS);
				break;
			}
	}
	for (int i = 0; i < 3 && inf[i] != NULL; i++) {
		if (kube_informer_snapshot(inf[i], &r->snap[i]) == 0)
			r->have[i] = 1;
		if (!synced[i] && r->error[0] == '\0')
			snprintf(r->error, sizeof r->error, "%s cluster %s: %s not listed: %s",
			    cfg_role_name(r->role), r->conn->cfg->clusters[r->role].name, kind_names[i],
			    r->have[i] && r->snap[i].last_error[0] != '\0' ? r->snap[i].last_error
			    : "no answer before the deadline");
		if (!synced[i] && r->have[i]) {
			kube_snapshot_free(&r->snap[i]);
			r->have[i] = 0;
		}
	}
	for (int i = 0; i < 3; i++)
		if (inf[i] != NULL)
			kube_informer_stop(inf[i]);
	return NULL;
}

static void
add_error(cJSON *errors, const char *fmt, const char *what)
{
	char *buf;

	if (asprintf(&buf, fmt, what) < 0)
		return;
	cJSON_AddItemToArray(errors, cJSON_CreateString(buf));
	free(buf);
}

/* The cluster object of the JSON: ARM's view, then the Kubernetes one. */
static cJSON *
cluster_json(const struct cfg *cfg, enum cfg_role role, const struct aks_summary *sum, int arm_rc,
    const struct cluster_read *r)
{
	cJSON *o = sum != NULL && arm_rc == 0 ? aks_status_json(sum) : cJSON_CreateObject();

	if (arm_rc != 0) {
		cJSON_AddStringToObject(o, "name", cfg->clusters[role].name);
		cJSON_AddStringToObject(o, "resourceId", "");
	}
	cJSON_AddBoolToObject(o, "exists", arm_rc != AKS_E_NOT_FOUND);
	if (r->opened) {
		cJSON_AddStringToObject(o, "apiServer", kube_client_server(r->kube.client));
		cJSON_AddStringToObject(o, "credentialSource", r->kube.source);
	}
	if (r->have[0] || r->have[1] || r->have[2])
		kube_health_json(o, r->have[0] ? &r->snap[0] : NULL, r->have[1] ? &r->snap[1] : NULL,
		    r->have[2] ? &r->snap[2] : NULL);
	return o;
}

/* Which role serves traffic: the gateway's shares decide when there is a
 * gateway, else where the DNS record points. */
static const char *
live_role(const struct cfg *cfg, const struct appgw_weights *w, int have_w, const char *dns_points)
{
	if (cfg->gateway.has_gateway && cfg->dns.when != CFG_DNS_ONLY) {
		if (!have_w)
			return "unknown";
		if (w->green.share <= 0 && w->blue.share > 0)
			return "blue";
		if (w->blue.share <= 0 && w->green.share > 0)
			return "green";
		return w->blue.share > 0 ? "split" : "unknown";
	}
	if (dns_points == NULL)
		return "unknown";
	return strcmp(dns_points, "blue") == 0 || strcmp(dns_points, "green") == 0 ? dns_points : "unknown";
}

static const char *
str_or(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

static double
num_at(const cJSON *o, const char *a, const char *b, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* The human form: compact, one block per cluster, then traffic. */
static void
print_human(const cJSON *root, int utf8)
{
	const char *role[2] = { "blue", "green" };
	const cJSON *clusters = cJSON_GetObjectItem(root, "clusters");
	const cJSON *traffic = cJSON_GetObjectItem(root, "traffic");
	const cJSON *gw = cJSON_GetObjectItem(traffic, "gateway");
	const cJSON *dns = cJSON_GetObjectItem(traffic, "dns");
	const cJSON *errors = cJSON_GetObjectItem(root, "errors"), *e;
	const char *live = str_or(root, "live", "unknown");

	printf("%-6s %-22s %-10s %-8s %-22s %-9s %s\n", "ROLE", "CLUSTER", "STATE", "VERSION",
	    "ARM", "NODES", "PODS");
	for (int i = 0; i < 2; i++) {
		const cJSON *c = cJSON_GetObjectItem(clusters, role[i]);
		char arm[64], nodes[32], pods[96];
		const char *state = strcmp(live, role[i]) == 0 ? "LIVE" : strcmp(live, "split") == 0
		    ? "SPLIT" : "candidate";

		if (!cJSON_IsTrue(cJSON_GetObjectItem(c, "exists"))) {
			printf("%-6s %-22s %-10s %-8s %-22s %-9s %s\n", role[i], str_or(c, "name", "?"),
			    "absent", "-", "not created", "-", "-");
			continue;
		}
		snprintf(arm, sizeof arm, "%s/%s", str_or(c, "provisioningState", "?"),
		    str_or(c, "powerState", "?"));
		if (cJSON_GetObjectItem(c, "nodes") != NULL)
			snprintf(nodes, sizeof nodes, "%.0f/%.0f", num_at(c, "nodes", "ready", 0),
			    num_at(c, "nodes", "total", 0));
		else
			snprintf(nodes, sizeof nodes, "?");
		if (cJSON_GetObjectItem(c, "pods") != NULL) {
			int n = snprintf(pods, sizeof pods, "%.0f/%.0f ready", num_at(c, "pods", "ready", 0),
			    num_at(c, "pods", "total", 0));
			if (num_at(c, "pods", "pending", 0) > 0)
				n += snprintf(pods + n, sizeof pods - (size_t)n, ", %.0f pending",
				    num_at(c, "pods", "pending", 0));
			if (num_at(c, "pods", "crashLooping", 0) > 0)
				snprintf(pods + n, sizeof pods - (size_t)n, ", %.0f crash-looping",
				    num_at(c, "pods", "crashLooping", 0));
		} else {
			snprintf(pods, sizeof pods, "?");
		}
		printf("%-6s %-22s %-10s %-8s %-22s %-9s %s\n", role[i], str_or(c, "name", "?"), state,
		    str_or(c, "kubernetesVersion", "?"), arm, nodes, pods);
	}
	if (gw != NULL) {
		const cJSON *b = cJSON_GetObjectItem(gw, "backends");

		printf("gateway %s rule %s: blue %.0f %% green %.0f %%", str_or(gw, "name", "?"),
		    str_or(gw, "rule", "?"), num_at(gw, "weights", "blue", 0), num_at(gw, "weights", "green", 0));
		if (b != NULL)
			printf("; backends healthy blue %.0f/%.0f green %.0f/%.0f",
			    num_at(b, "blue", "healthy", 0), num_at(b, "blue", "total", 0),
			    num_at(b, "green", "healthy", 0), num_at(b, "green", "total", 0));
		printf("\n");
	}
	if (dns != NULL) {
		const cJSON *t = cJSON_GetObjectItem(dns, "targets");
		const cJSON *first = cJSON_GetArrayItem(t, 0);

		const cJSON *ttl = cJSON_GetObjectItem(dns, "ttl");

		printf("dns %s %s %s (%s) ttl %.0f s\n", str_or(dns, "fqdn", "?"), str_or(dns, "type", "?"),
		    cJSON_IsString(first) ? first->valuestring : "-", str_or(dns, "pointsTo", "?"),
		    cJSON_IsNumber(ttl) ? ttl->valuedouble : 0);
	}
	printf("live: %s\n", live);
	cJSON_ArrayForEach(e, errors)
		printf("%s %s\n", utf8 ? "\xe2\x9c\x97" : "FAIL", e->valuestring);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bgswitch status -c FILE [--json] [--timeout DURATION] [--log FILE]\n\n"
	    "The observed state of both clusters, the gateway and the DNS record, read once.\n\n"
	    "  -c, --config FILE    the switchover's bgswitch.yaml\n"
	    "      --json           the stable JSON schema of bgswitch(1), STATUS JSON\n"
	    "      --timeout D      give up reading after D (default 60s)\n"
	    "      --log FILE       log every request to FILE (default: errors to stderr)\n"
	    "  -h, --help           this help\n\n"
	    "exit: 0 everything read, 1 something could not be read (still printed, named\n"
	    "in errors), 2 bad arguments or config.\n");
}

int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "log", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *logfile = NULL;
	long timeout_ms = STATUS_DEFAULT_TIMEOUT_MS;
	int json = 0, ch, rc = CLI_EXIT_OK, have_w = 0, have_dns = 0;
	struct cfg cfg;
	struct conn conn;
	struct cluster_read reads[2];
	struct aks_summary sums[2];
	int arm_rc[2] = { -1, -1 };
	struct appgw_weights w;
	struct appgw_health health = { 0 };
	int have_health = 0;
	struct pdns_record rec;
	char err[2048];
	cJSON *root, *errors, *clusters, *traffic, *run;
	int conn_ok;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'j': json = 1; break;
		case 't':
			if (cfg_parse_duration(optarg, &timeout_ms) != 0 || timeout_ms <= 0) {
				fprintf(stderr, "bgswitch status: --timeout wants a duration like 30s or 2m, got '%s'\n", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'l': logfile = optarg; break;
		case 'h': usage(stdout); return CLI_EXIT_OK;
		default: usage(stderr); return CLI_EXIT_USAGE;
		}
	}
	if (path == NULL || optind < argc) {
		fprintf(stderr, optind < argc ? "bgswitch status: unexpected argument '%s'\n"
		    : "bgswitch status: -c FILE is required%s\n", optind < argc ? argv[optind] : "");
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (cfg_load(path, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "bgswitch status: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	if (logfile != NULL) {
		if (log_open(logfile, LOG_DEBUG) != 0) {
			fprintf(stderr, "bgswitch status: cannot open log %s: %s\n", logfile, strerror(errno));
			cfg_free(&cfg);
			return CLI_EXIT_USAGE;
		}
	} else {
		/* Expected answers (green absent: 404) are not news; errors
		 * are, and they are reported in the output as well. */
		log_set_stream(stderr, LOG_ERROR);
	}
	signal(SIGPIPE, SIG_IGN);

	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "name", cfg.name);
	errors = cJSON_CreateArray();
	memset(reads, 0, sizeof reads);
	memset(sums, 0, sizeof sums);
	memset(&w, 0, sizeof w);
	memset(&rec, 0, sizeof rec);

	conn_ok = conn_open(&conn, &cfg, timeout_ms, err, sizeof err) == 0;
	if (!conn_ok)
		add_error(errors, "azure: %s", err);

	/* ARM first for the clusters: whether green exists decides whether
	 * there is an API server to ask. */
	for (int r = 0; r < 2 && conn_ok; r++) {
		arm_rc[r] = aks_get(conn.arm, conn.cluster_id[r], NULL, NULL, &sums[r], err, sizeof err);
		if (arm_rc[r] != 0 && arm_rc[r] != AKS_E_NOT_FOUND)
			add_error(errors, "arm: %s", err);
		if (arm_rc[r] == AKS_E_NOT_FOUND && r == CFG_BLUE)
			add_error(errors, "arm: the live cluster is missing: %s", err);
	}
	for (int r = 0; r < 2 && conn_ok; r++) {
		reads[r].conn = &conn;
		reads[r].role = (enum cfg_role)r;
		reads[r].timeout_ms = timeout_ms;
		/* A cluster that ARM says is absent has no API server; one that
		 * could not be read from ARM is still tried (it may have its
		 * own kubeconfig). */
		reads[r].wanted = arm_rc[r] != AKS_E_NOT_FOUND;
		if (reads[r].wanted && pthread_create(&reads[r].thread, NULL, read_cluster, &reads[r]) == 0)
			reads[r].started = 1;
	}

	if (conn_ok && cfg.gateway.has_gateway) {
		struct appgw_target t = { conn.gateway_id, cfg.gateway.rule, cfg.gateway.blue_pool,
		    cfg.gateway.green_pool };
		cJSON *gw = NULL;
		char etag[256];

		if (appgw_get(conn.arm, conn.gateway_id, NULL, &gw, etag, sizeof etag, err, sizeof err) != 0)
			add_error(errors, "gateway: %s", err);
		else if (appgw_weights(gw, &t, &w, err, sizeof err) != 0)
			add_error(errors, "gateway: %s", err);
		else
			have_w = 1;
		if (have_w) {
			if (appgw_backend_health(conn.arm, conn.gateway_id, w.settings_id, NULL, &health, err,
			    sizeof err) != 0)
				add_error(errors, "gateway backend health: %s", err);
			else
				have_health = 1;
		}
		cJSON_Delete(gw);
	}
	if (conn_ok && cfg.dns.has_dns) {
		if (pdns_get(conn.arm, conn.dns_id, NULL, &rec, NULL, err, sizeof err) != 0)
			add_error(errors, "dns: %s", err);
		else
			have_dns = 1;
	}
	for (int r = 0; r < 2; r++) {
		if (reads[r].started) {
			pthread_join(reads[r].thread, NULL);
			if (reads[r].error[0] != '\0')
				add_error(errors, "kubernetes: %s", reads[r].error);
		} else if (conn_ok && reads[r].wanted) {
			add_error(errors, "kubernetes: %s", "cannot start a reader thread");
		}
	}

	clusters = cJSON_AddObjectToObject(root, "clusters");
	for (int r = 0; r < 2; r++) {
		cJSON_AddItemToObject(clusters, cfg_role_name((enum cfg_role)r),
		    cluster_json(&cfg, (enum cfg_role)r, &sums[r], conn_ok ? arm_rc[r] : -1, &reads[r]));
	}
	cJSON_AddStringToObject(root, "live", live_role(&cfg, &w, have_w,
	    have_dns ? pdns_points_to(&rec, cfg.dns.blue_target, cfg.dns.green_target) : NULL));
	traffic = cJSON_AddObjectToObject(root, "traffic");
	if (have_w)
		cJSON_AddItemToObject(traffic, "gateway", appgw_status_json(cfg.gateway.name, &w,
		    have_health ? &health : NULL));
	if (have_dns)
		cJSON_AddItemToObject(traffic, "dns", pdns_status_json(&rec, cfg.dns.blue_target,
		    cfg.dns.green_target));
	/* The run comes from the journal: no run recorded (or the last one
	 * ended) means the switchover rests at T0 with the live cluster. */
	run = cJSON_AddObjectToObject(root, "run");
	{
		char jpath[1024];
		struct journal_view v;

		memset(&v, 0, sizeof v);
		if (journal_path(cfg.name, jpath, sizeof jpath, err, sizeof err) != 0
		    || journal_view_load(jpath, &v, err, sizeof err) != 0) {
			add_error(errors, "journal: %s", err);
			cJSON_AddNullToObject(run, "stage");
			cJSON_AddStringToObject(run, "state", "unknown");
		} else if (!v.has_run || v.stage < 0) {
			cJSON_AddStringToObject(run, "stage", "T0");
			cJSON_AddStringToObject(run, "state", "idle");
		} else {
			cJSON_AddStringToObject(run, "stage", journal_stage_name(v.stage));
			cJSON_AddStringToObject(run, "state", v.ended ? journal_result_name(v.result)
			    : journal_stage_state_name(v.state));
			cJSON_AddStringToObject(run, "id", v.run);
		}
		journal_view_free(&v);
	}
	cJSON_AddItemToObject(root, "errors", errors);
	if (cJSON_GetArraySize(errors) > 0)
		rc = CLI_EXIT_FAIL;

	if (json) {
		char *s = cJSON_Print(root);
		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else {
		setlocale(LC_CTYPE, "");
		print_human(root, strcmp(nl_langinfo(CODESET), "UTF-8") == 0);
	}
	fflush(stdout);

	cJSON_Delete(root);
	for (int r = 0; r < 2; r++) {
		for (int i = 0; i < 3; i++)
			if (reads[r].have[i] || reads[r].snap[i].strings_ != NULL)
				kube_snapshot_free(&reads[r].snap[i]);
		if (reads[r].opened)
			conn_kube_close(&reads[r].kube);
		aks_summary_free(&sums[r]);
	}
	appgw_health_free(&health);
	if (conn_ok)
		conn_close(&conn);
	cfg_free(&cfg);
	log_close();
	return rc;
}
