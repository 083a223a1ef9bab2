/*
 * sim_main.c — `bgswitch sim`: start the simulated world, write the files a
 * client needs to reach it, and serve until SIGINT/SIGTERM.
 *
 * The files in --dir are a contract that scripts and tests rely on:
 *   ca.pem         the CA that signed the simulator's server certificate
 *   kubeconfig     one context per simulated cluster, named after it
 *                  (rewritten when clusters are created or deleted)
 *   bgswitch.yaml  a bgswitch config for this world (PRODUCT.md §3 keys)
 *   env            shell exports: Azure credentials and endpoints, KUBECONFIG
 *   endpoints.json the URLs below, for programs
 *   ready          written last, once the listener serves
 * sim_start()/sim_stop() are also what `bgswitch demo` uses to run the
 * world inside its own process.
 */
#include "sim/sim.h"
#include "sim/sim_internal.h"
#include "sim/sim_server.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/cli.h"
#include "src/log.h"
#include "src/yamljson.h"

extern const char sim_world_default_yaml[];
extern const unsigned long sim_world_default_yaml_len;

static struct MHD_Daemon *daemon_;
static struct yj_doc *world_doc;

int
sim_write_file(const char *name, const char *data, size_t len)
{
	char path[1200], tmp[1300];
	int fd;
	ssize_t w;

	snprintf(path, sizeof path, "%s/%s", sim_world.dir, name);
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while (len > 0) {
		w = write(fd, data, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			unlink(tmp);
			return -1;
		}
		data += w;
		len -= (size_t)w;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int
mkdir_p(const char *dir)
{
	char buf[1024];

	snprintf(buf, sizeof buf, "%s", dir);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0700) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static const char *
jstr(const cJSON *obj, const char *key, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* Reads the world's top-level identity, then lets each service take its
 * part of the file. */
static int
world_load(const char *path, char *err, size_t errlen)
{
	struct yj_error yerr;
	const cJSON *w;

	if (path != NULL)
		world_doc = yj_parse_file(path, &yerr);
	else
		world_doc = yj_parse(sim_world_default_yaml, sim_world_default_yaml_len,
		    "<default world>", &yerr);
	if (world_doc == NULL) {
		snprintf(err, errlen, "%s", yerr.msg);
		return -1;
	}
	w = yj_root(world_doc, 0);
	if (!cJSON_IsObject(w)) {
		snprintf(err, errlen, "%s: the world file must be a mapping",
		    yj_filename(world_doc));
		return -1;
	}
	snprintf(sim_world.tenant, sizeof sim_world.tenant, "%s",
	    jstr(w, "tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47"));
	snprintf(sim_world.subscription, sizeof sim_world.subscription, "%s",
	    jstr(w, "subscription", "00000000-0000-0000-0000-000000000000"));
	snprintf(sim_world.resource_group, sizeof sim_world.resource_group, "%s",
	    jstr(w, "resource_group", "rg-sim"));
	snprintf(sim_world.location, sizeof sim_world.location, "%s",
	    jstr(w, "location", "westeurope"));
	if (sim_entra_load(w, err, errlen) != 0 || sim_arm_load(w, err, errlen) != 0
	    || sim_kube_load(w, err, errlen) != 0)
		return -1;
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(w, "faults"))
	    && sim_faults_apply(cJSON_GetObjectItemCaseSensitive(w, "faults"), err, errlen) != 0)
		return -1;
	return 0;
}

static double
world_speed(void)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(yj_root(world_doc, 0), "speed");

	return cJSON_IsNumber(s) && s->valuedouble > 0 ? s->valuedouble : 1.0;
}

/* ---- the generated bgswitch config --------------------------------------- */

static void
yaml_list(FILE *f, const cJSON *arr_or_obj, int keys)
{
	const cJSON *it;
	int first = 1;

	fputc('[', f);
	cJSON_ArrayForEach(it, arr_or_obj) {
		fprintf(f, "%s%s", first ? "" : ", ", keys ? it->string : it->valuestring);
		first = 0;
	}
	fputc(']', f);
}

/* The world's clusters in order: the first is blue (live), the second
 * green, whether it exists yet or not. */
static const cJSON *
world_cluster(const cJSON *w, int index)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(w, "clusters"), index);
}

static int
write_config(void)
{
	const cJSON *w = yj_root(world_doc, 0);
	const cJSON *blue = world_cluster(w, 0), *green = world_cluster(w, 1);
	const cJSON *gw = cJSON_GetObjectItemCaseSensitive(w, "gateway");
	const cJSON *dns = cJSON_GetObjectItemCaseSensitive(w, "dns");
	const cJSON *pools = cJSON_GetObjectItemCaseSensitive(gw, "pools");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (f == NULL)
		return -1;
	fprintf(f,
	    "# Written by `bgswitch sim` for the simulated world it serves at %s.\n"
	    "# Credentials are in the environment: run `. %s/env` first.\n"
	    "name: %s\n"
	    "azure:\n"
	    "  cloud: AzureCloud\n"
	    "  authority_host: %s\n"
	    "  resource_manager: %s\n"
	    "  ca_file: %s/ca.pem\n"
	    "  tenant: %s\n"
	    "  subscription: %s\n"
	    "  resource_group: %s\n"
	    "  credential: environment\n"
	    "clusters:\n",
	    sim_world.base_url, sim_world.dir, jstr(w, "name", "sim"), sim_world.base_url,
	    sim_world.base_url, sim_world.dir, sim_world.tenant, sim_world.subscription,
	    sim_world.resource_group);
	if (blue != NULL)
		fprintf(f, "  blue:\n    name: %s\n    kubeconfig: %s/kubeconfig\n    context: %s\n",
		    jstr(blue, "name", "blue"), sim_world.dir, jstr(blue, "name", "blue"));
	if (green != NULL)
		fprintf(f, "  green:\n    name: %s\n    kubernetes_version: \"%s\"\n",
		    jstr(green, "name", "green"), jstr(green, "kubernetes_version", "1.30.5"));
	fprintf(f, "provision:\n  mode: arm-clone\nsync:\n  mode: copy\n  namespaces: ");
	yaml_list(f, blue != NULL ? cJSON_GetObjectItemCaseSensitive(blue, "namespaces") : NULL, 1);
	fprintf(f, "\n  kinds: [ConfigMap, Secret, ServiceAccount, Service, Deployment, Ingress]\n"
	    "  freeze: false\n");
	if (cJSON_IsObject(gw)) {
		const cJSON *bp = cJSON_GetArrayItem(pools, 0), *gp = cJSON_GetArrayItem(pools, 1);
		fprintf(f, "traffic:\n  gateway:\n    name: %s\n    rule: %s\n"
		    "    blue_pool: %s\n    green_pool: %s\n    steps: [10, 50, 100]\n    soak: 2m\n",
		    jstr(gw, "name", "agw"), jstr(gw, "rule", "rule"), jstr(bp, "name", "pool-blue"),
		    jstr(gp, "name", "pool-green"));
	}
	if (cJSON_IsObject(dns)) {
		const cJSON *rec = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(dns, "records"), 0);
		fprintf(f, "%s  dns:\n    zone: %s\n    record: %s\n    type: %s\n"
		    "    blue_target: %s\n    green_target: %s\n    when: after-gateway\n",
		    cJSON_IsObject(gw) ? "" : "traffic:\n", jstr(dns, "zone", "zone"),
		    jstr(rec, "name", "aks"), jstr(rec, "type", "A"), jstr(blue, "ingress_ip", ""),
		    jstr(green, "ingress_ip", ""));
	}
	fprintf(f, "checks:\n"
	    "  - name: green nodes ready\n    type: nodes-ready\n    cluster: green\n"
	    "    gates: [provision, sync]\n"
	    "  - name: gateway 5xx\n    type: metric\n    metric: ResponseStatus\n"
	    "    filter: HttpStatusGroup eq '5xx'\n    aggregation: Total\n    window: 5m\n"
	    "    max: 10\n    gates: [switch, window]\n    rollback_on_fail: 3\n"
	    "window: 10m\n"
	    "teardown:\n  mode: delete\n");
	fclose(f);
	rc = sim_write_file("bgswitch.yaml", buf, len);
	free(buf);
	return rc;
}

static int
write_env_and_endpoints(void)
{
	const cJSON *w = yj_root(world_doc, 0);
	const cJSON *entra = cJSON_GetObjectItemCaseSensitive(w, "entra");
	const cJSON *client = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(entra, "clients"), 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	f = open_memstream(&buf, &len);
	if (f == NULL)
		return -1;
	fprintf(f, "# Source this file to reach the simulated world (bgswitch sim).\n"
	    "export AZURE_TENANT_ID='%s'\nexport AZURE_CLIENT_ID='%s'\n"
	    "export AZURE_CLIENT_SECRET='%s'\nexport AZURE_AUTHORITY_HOST='%s'\n"
	    "export KUBECONFIG='%s/kubeconfig'\n",
	    sim_world.tenant, jstr(client, "client_id", ""), jstr(client, "client_secret", ""),
	    sim_world.base_url, sim_world.dir);
	fclose(f);
	rc = sim_write_file("env", buf, len);
	free(buf);
	if (rc != 0)
		return rc;

	cJSON *ep = cJSON_CreateObject();
	char url[256];
	cJSON_AddStringToObject(ep, "base", sim_world.base_url);
	snprintf(url, sizeof url, "%s/%s/oauth2/v2.0/token", sim_world.base_url, sim_world.tenant);
	cJSON_AddStringToObject(ep, "token", url);
	snprintf(url, sizeof url, "%s/metadata/identity/oauth2/token", sim_world.base_url);
	cJSON_AddStringToObject(ep, "imds", url);
	cJSON_AddStringToObject(ep, "resourceManager", sim_world.base_url);
	snprintf(url, sizeof url, "%s/clusters/", sim_world.base_url);
	cJSON_AddStringToObject(ep, "kubernetesPrefix", url);
	snprintf(url, sizeof url, "%s/_sim/", sim_world.base_url);
	cJSON_AddStringToObject(ep, "control", url);
	cJSON_AddStringToObject(ep, "tenant", sim_world.tenant);
	cJSON_AddStringToObject(ep, "subscription", sim_world.subscription);
	cJSON_AddStringToObject(ep, "resourceGroup", sim_world.resource_group);
	char *s = cJSON_Print(ep);
	cJSON_Delete(ep);
	rc = s != NULL ? sim_write_file("endpoints.json", s, strlen(s)) : -1;
	free(s);
	return rc;
}

int
sim_start(const struct sim_opts *o, char *err, size_t errlen)
{
	char abs[1024];
	int bound;

	if (o->dir == NULL || mkdir_p(o->dir) != 0) {
		snprintf(err, errlen, "cannot create --dir %s: %s", o->dir != NULL ? o->dir : "(none)",
		    strerror(errno));
		return -1;
	}
	if (realpath(o->dir, abs) == NULL) {
		snprintf(err, errlen, "%s: %s", o->dir, strerror(errno));
		return -1;
	}
	snprintf(sim_world.dir, sizeof sim_world.dir, "%s", abs);
	{
		char ready[1100];
		snprintf(ready, sizeof ready, "%s/ready", abs);
		unlink(ready);
	}
	atomic_store(&sim_world.stopping, 0);
	memset(&sim_world.faults, 0, sizeof sim_world.faults);
	sim_world.rng = (unsigned int)getpid();
	sim_world.plain_http = o->plain_http;
	if (!o->plain_http && sim_tls_init(&sim_tls, err, errlen) != 0)
		return -1;
	/* The port must be known before the world loads: ARM ids and the
	 * kubeconfig carry absolute URLs.  Bind first, then load; requests
	 * that arrive in between wait on the world lock. */
	pthread_mutex_lock(&sim_world.lock);
	daemon_ = sim_server_start(o->port, o->plain_http, &bound, err, errlen);
	if (daemon_ == NULL) {
		pthread_mutex_unlock(&sim_world.lock);
		return -1;
	}
	sim_world.port = bound;
	snprintf(sim_world.base_url, sizeof sim_world.base_url, "%s://127.0.0.1:%d",
	    o->plain_http ? "http" : "https", bound);
	sim_clock_start(1.0);
	if (world_load(o->world, err, errlen) != 0) {
		pthread_mutex_unlock(&sim_world.lock);
		sim_stop();
		return -1;
	}
	sim_clock_start(o->speed > 0 ? o->speed : world_speed());
	if ((!o->plain_http && sim_write_file("ca.pem", sim_tls.ca_pem, strlen(sim_tls.ca_pem)) != 0)
	    || write_config() != 0 || write_env_and_endpoints() != 0) {
		snprintf(err, errlen, "cannot write files in %s: %s", abs, strerror(errno));
		pthread_mutex_unlock(&sim_world.lock);
		sim_stop();
		return -1;
	}
	sim_kube_write_kubeconfig();
	pthread_mutex_unlock(&sim_world.lock);
	if (sim_ticker_start() != 0) {
		snprintf(err, errlen, "cannot start the ticker thread");
		sim_stop();
		return -1;
	}
	if (sim_write_file("ready", sim_world.base_url, strlen(sim_world.base_url)) != 0) {
		snprintf(err, errlen, "cannot write %s/ready: %s", abs, strerror(errno));
		sim_stop();
		return -1;
	}
	return 0;
}

void
sim_stop(void)
{
	char ready[1100];

	pthread_mutex_lock(&sim_world.lock);
	atomic_store(&sim_world.stopping, 1);
	pthread_cond_broadcast(&sim_world.changed);
	pthread_mutex_unlock(&sim_world.lock);
	sim_ticker_stop();
	sim_server_stop(daemon_);
	daemon_ = NULL;
	snprintf(ready, sizeof ready, "%s/ready", sim_world.dir);
	unlink(ready);
	yj_free(world_doc);
	world_doc = NULL;
	sim_tls_free(&sim_tls);
}

const char *
sim_base_url(void)
{
	return sim_world.base_url;
}

static void
sim_usage(FILE *f)
{
	fprintf(f,
	    "usage: bgswitch sim --dir DIR [--world FILE] [--speed X] [--port N] [--plain-http]\n"
	    "                    [--log FILE] [--log-level LEVEL]\n\n"
	    "Serve a simulated Azure (Entra ID, Resource Manager) and the Kubernetes API of\n"
	    "each simulated AKS cluster on 127.0.0.1, until SIGINT or SIGTERM.\n\n"
	    "  -d, --dir DIR        write ca.pem, kubeconfig, bgswitch.yaml, env, endpoints.json\n"
	    "                       and ready into DIR (created, mode 0700)\n"
	    "  -w, --world FILE     the starting world (default: the built-in demo world)\n"
	    "  -s, --speed X        simulated seconds per real second (default: the world's, else 1)\n"
	    "  -p, --port N         listen on 127.0.0.1:N (default: a free port)\n"
	    "      --plain-http     serve plain HTTP instead of HTTPS (loopback only)\n"
	    "      --log FILE       log requests to FILE (default: none)\n"
	    "      --log-level L    debug, info, warn, error (default: info)\n"
	    "  -h, --help           this help\n\n"
	    "See bgswitch(1), sections SIMULATOR and SIMULATOR WORLD FILE.\n");
}

int
sim_cmd(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "world", required_argument, NULL, 'w' },
		{ "speed", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "plain-http", no_argument, NULL, 'P' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim_opts o = { 0 };
	const char *logfile = NULL;
	int level = LOG_INFO, c, sig;
	char err[1024], *end;
	sigset_t set;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:w:s:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dir = optarg; break;
		case 'w': o.world = optarg; break;
		case 's':
			o.speed = strtod(optarg, &end);
			if (*end != '\0' || o.speed <= 0 || o.speed > 10000) {
				fprintf(stderr, "bgswitch sim: --speed wants a number in (0, 10000], got '%s'\n", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'p':
			o.port = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || o.port < 0 || o.port > 65535) {
				fprintf(stderr, "bgswitch sim: --port wants 0..65535, got '%s'\n", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'P': o.plain_http = 1; break;
		case 'l': logfile = optarg; break;
		case 'L':
			level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "bgswitch sim: --log-level wants debug, info, warn or error, got '%s'\n", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h': sim_usage(stdout); return 0;
		default: sim_usage(stderr); return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bgswitch sim: unexpected argument '%s'\n", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (o.dir == NULL) {
		fprintf(stderr, "bgswitch sim: --dir DIR is required (where to write ca.pem, kubeconfig, ...)\n");
		return CLI_EXIT_USAGE;
	}
	if (logfile != NULL && log_open(logfile, (enum log_level)level) != 0) {
		fprintf(stderr, "bgswitch sim: cannot open log %s: %s\n", logfile, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	/* Signals are taken by sigwait() below; every thread started from
	 * here on inherits the blocked mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (sim_start(&o, err, sizeof err) != 0) {
		fprintf(stderr, "bgswitch sim: %s\n", err);
		return CLI_EXIT_FAIL;
	}
	printf("bgswitch sim: serving a simulated Azure + AKS world (speed x%g)\n"
	    "  entra token   %s/%s/oauth2/v2.0/token\n"
	    "  imds          %s/metadata/identity/oauth2/token\n"
	    "  arm           %s/subscriptions/%s/resourceGroups/%s\n"
	    "  kubernetes    %s/clusters/NAME\n"
	    "  control       %s/_sim/\n"
	    "files in %s:\n"
	    "  ca.pem kubeconfig bgswitch.yaml env endpoints.json ready\n"
	    "try:   . %s/env && kubectl get nodes\n"
	    "stop:  Ctrl-C\n",
	    sim_world.speed, sim_world.base_url, sim_world.tenant, sim_world.base_url,
	    sim_world.base_url, sim_world.subscription, sim_world.resource_group,
	    sim_world.base_url, sim_world.base_url, sim_world.dir, sim_world.dir);
	fflush(stdout);
	sigwait(&set, &sig);
	printf("bgswitch sim: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
	sim_stop();
	log_close();
	return 0;
}
