/*
 * test_check.c — the validation checks (src/check*.c).
 *
 * The tracker is driven with made-up results and times.  Command checks
 * run real processes (true, false, sh scripts, one that sleeps past its
 * timeout and leaves a grandchild) and make sure nothing is left running
 * or unreaped.  HTTP checks talk to a libmicrohttpd server started here on
 * loopback with a fast, a failing and a slow page.  Kubernetes checks read
 * snapshots built by hand, as an informer would hand them out.  The Azure
 * checks (backend-health, metric) run against the simulator in-process:
 * in the built-in world pool-blue is healthy, pool-green has a server that
 * is down, and all traffic goes to blue, so no 5xx are counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "azure/arm.h"
#include "azure/credential.h"
#include "tests/lib/simclient.h"
#include "src/check.h"
#include "src/http.h"
#include "src/log.h"

#define assert_contains(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	if (h_ == NULL || strstr(h_, n_) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", h_ != NULL ? h_ : "(null)", n_); \
} while (0)

/* snprintf without -Wformat-truncation: test paths may be cut short. */
static void sfmt(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
sfmt(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

/* A check with config.c's defaults. */
static struct cfg_check
defaults(enum cfg_check_type type)
{
	struct cfg_check k = { 0 };

	k.name = "t";
	k.type = type;
	k.interval_ms = 10000;
	k.timeout_ms = 10000;
	k.success_threshold = 1;
	k.failure_threshold = 1;
	k.expect_status = 200;
	return k;
}

static struct check_result
result(enum check_status s)
{
	struct check_result r = { 0 };

	r.status = s;
	return r;
}

/* ---- tracker ------------------------------------------------------------------- */

static void
test_tracker_thresholds(void **state)
{
	struct cfg_check k = defaults(CFG_CHECK_COMMAND);
	struct check_state st;
	struct check_result pass = result(CHECK_PASS), fail = result(CHECK_FAIL),
	    err = result(CHECK_ERROR);

	(void)state;
	k.success_threshold = 2;
	k.failure_threshold = 3;
	check_state_init(&st, &k);
	assert_int_equal(st.verdict, CHECK_PENDING);
	assert_false(check_gate_open(&st));
	check_state_record(&st, &pass, 0);
	assert_int_equal(st.verdict, CHECK_PENDING);
	check_state_record(&st, &pass, 1);
	assert_int_equal(st.verdict, CHECK_PASSING);
	assert_true(check_gate_open(&st));
	/* Hysteresis: two failures do not undo a passing verdict... */
	check_state_record(&st, &fail, 2);
	check_state_record(&st, &err, 3);
	assert_int_equal(st.verdict, CHECK_PASSING);
	assert_int_equal(st.consecutive_bad, 2);
	/* ...the third does, and an ERROR counts as a failure. */
	check_state_record(&st, &err, 4);
	assert_int_equal(st.verdict, CHECK_FAILING);
	assert_false(check_gate_open(&st));
	check_state_record(&st, &pass, 5);
	assert_int_equal(st.verdict, CHECK_FAILING);
	assert_int_equal(st.consecutive_bad, 0);
	check_state_record(&st, &pass, 6);
	assert_int_equal(st.verdict, CHECK_PASSING);
	assert_int_equal(st.runs, 7);
	assert_string_equal(check_verdict_name(st.verdict), "passing");
	check_state_reset(&st);
	assert_int_equal(st.verdict, CHECK_PENDING);
	assert_int_equal(st.runs, 0);
	assert_ptr_equal(st.check, &k);
}

static void
test_tracker_rollback(void **state)
{
	struct cfg_check k = defaults(CFG_CHECK_METRIC);
	struct check_state st;
	struct check_result pass = result(CHECK_PASS), fail = result(CHECK_FAIL),
	    err = result(CHECK_ERROR);

	(void)state;
	check_state_init(&st, &k);
	for (int i = 0; i < 10; i++)
		check_state_record(&st, &fail, i);
	assert_false(st.rollback_due);		/* rollback_on_fail 0: never */
	k.rollback_on_fail = 3;
	check_state_init(&st, &k);
	check_state_record(&st, &fail, 0);
	check_state_record(&st, &fail, 1);
	check_state_record(&st, &pass, 2);	/* breaks the run */
	check_state_record(&st, &fail, 3);
	check_state_record(&st, &err, 4);
	assert_false(st.rollback_due);
	check_state_record(&st, &fail, 5);
	assert_true(st.rollback_due);
	assert_int_equal(st.last.status, CHECK_FAIL);
	check_state_record(&st, &pass, 6);
	assert_false(st.rollback_due);
}

static void
test_tracker_due(void **state)
{
	struct cfg_check k = defaults(CFG_CHECK_HTTP);
	struct check_state st;
	struct check_result pass = result(CHECK_PASS);

	(void)state;
	k.interval_ms = 5000;
	check_state_init(&st, &k);
	assert_true(check_due(&st, 123456));	/* never run: at once */
	check_state_record(&st, &pass, 1000);
	assert_false(check_due(&st, 1000));
	assert_false(check_due(&st, 5999));
	assert_int_equal(check_due_in(&st, 5999), 1);
	assert_true(check_due(&st, 6000));
	assert_int_equal(check_due_in(&st, 9000), 0);
	k.interval_ms = 0;			/* unset: 10 s */
	assert_false(check_due(&st, 10999));
	assert_true(check_due(&st, 11000));
}

/* ---- command ------------------------------------------------------------------- */

static struct check_env no_env;

static enum check_status
run_cmd(char **argv, long timeout_ms, struct check_result *r)
{
	struct cfg_check k = defaults(CFG_CHECK_COMMAND);

	k.command = argv;
	k.timeout_ms = timeout_ms;
	return check_run_once(&k, &no_env, r);
}

static void
assert_no_children(void)
{
	int st;

	assert_int_equal(waitpid(-1, &st, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void
test_command_exit(void **state)
{
	char *t[] = { "true", NULL };
	char *f[] = { "false", NULL };
	char *sh[] = { "sh", "-c", "echo first; echo 'the last line' >&2; printf '\\n\\n'; exit 3",
	    NULL };
	char *missing[] = { "/nonexistent/bgswitch-probe", NULL };
	char *chatty[] = { "sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); "
	    "done; echo done", NULL };
	struct check_result r;

	(void)state;
	assert_int_equal(run_cmd(t, 5000, &r), CHECK_PASS);
	assert_string_equal(r.value, "exit 0");
	assert_string_equal(r.threshold, "exit 0");
	assert_int_equal(run_cmd(f, 5000, &r), CHECK_FAIL);
	assert_string_equal(r.value, "exit 1");
	assert_true(r.has_number);
	assert_true(r.number == 1);
	assert_int_equal(run_cmd(sh, 5000, &r), CHECK_FAIL);
	assert_string_equal(r.value, "exit 3");
	assert_string_equal(r.detail, "the last line");
	assert_int_equal(run_cmd(missing, 5000, &r), CHECK_ERROR);
	assert_contains(r.detail, "cannot run");
	/* More output than is kept: the end survives. */
	assert_int_equal(run_cmd(chatty, 5000, &r), CHECK_PASS);
	assert_string_equal(r.detail, "done");
	assert_no_children();
}

/* Whether PID runs (exists and is not a zombie). */
static bool
alive(int pid)
{
	char path[64], text[512], *p;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return false;
	n = fread(text, 1, sizeof text - 1, fp);
	fclose(fp);
	text[n] = '\0';
	p = strrchr(text, ')');
	return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void
test_command_timeout(void **state)
{
	char pidfile[64], script[256];
	char *argv[] = { "sh", "-c", script, NULL };
	struct check_result r;
	long long t0;
	FILE *fp;
	int pid = 0;

	(void)state;
	snprintf(pidfile, sizeof pidfile, "/tmp/bgswitch-check-%d.pid", (int)getpid());
	/* A grandchild in the background, and a shell that ignores SIGTERM:
	 * both must go. */
	snprintf(script, sizeof script, "trap '' TERM; sleep 30 & echo $! > %s; echo waiting; "
	    "sleep 30", pidfile);
	t0 = http_now_ms();
	assert_int_equal(run_cmd(argv, 300, &r), CHECK_ERROR);
	assert_true(http_now_ms() - t0 < 3000);
	assert_string_equal(r.value, "timeout");
	assert_contains(r.detail, "timed out after 300 ms");
	assert_contains(r.detail, "waiting");
	assert_true(r.elapsed_ms >= 300);
	fp = fopen(pidfile, "r");
	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%d", &pid), 1);
	fclose(fp);
	unlink(pidfile);
	/* The orphaned grandchild was killed: gone, or a zombie waiting for
	 * an init that may not reap promptly in a container. */
	for (int i = 0; i < 100 && alive(pid); i++)
		usleep(10000);
	assert_false(alive(pid));
	assert_no_children();
}

/* ---- http ------------------------------------------------------------------------- */

static struct MHD_Daemon *web;
static char web_base[64];
static struct http_client *web_client;

static enum MHD_Result
web_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	const char *body = "{\"status\":\"ok\"}";
	unsigned status = 200;
	struct MHD_Response *rs;
	enum MHD_Result ret;

	(void)cls;
	(void)method;
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (strcmp(url, "/down") == 0) {
		status = 503;
		body = "down";
	} else if (strcmp(url, "/slow") == 0) {
		usleep(400 * 1000);
	}
	rs = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, status, rs);
	MHD_destroy_response(rs);
	return ret;
}

static int
web_setup(void **state)
{
	struct sockaddr_in sa = { 0 };
	const union MHD_DaemonInfo *info;
	char err[256];

	(void)state;
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	web = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
	    0, NULL, NULL, web_handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_END);
	if (web == NULL)
		return -1;
	info = MHD_get_daemon_info(web, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(web_base, sizeof web_base, "http://127.0.0.1:%u", (unsigned)info->port);
	web_client = http_client_new(NULL, err, sizeof err);
	return web_client != NULL ? 0 : -1;
}

static int
web_teardown(void **state)
{
	(void)state;
	http_client_free(web_client);
	MHD_stop_daemon(web);
	return 0;
}

static enum check_status
run_http(struct cfg_check *k, const char *path, struct check_result *r)
{
	struct check_env env = { 0 };
	char url[128];

	snprintf(url, sizeof url, "%s%s", web_base, path);
	k->url = url;
	env.http = web_client;
	check_run_once(k, &env, r);
	k->url = NULL;
	return r->status;
}

static void
test_http(void **state)
{
	struct cfg_check k = defaults(CFG_CHECK_HTTP);
	struct check_env none = { 0 };
	struct check_result r;

	(void)state;
	assert_int_equal(run_http(&k, "/healthz", &r), CHECK_PASS);
	assert_contains(r.value, "200 in ");
	assert_string_equal(r.threshold, "200");
	/* Status mismatch. */
	assert_int_equal(run_http(&k, "/down", &r), CHECK_FAIL);
	assert_contains(r.value, "503");
	assert_contains(r.detail, "status 503, expected 200");
	k.expect_status = 503;
	assert_int_equal(run_http(&k, "/down", &r), CHECK_PASS);
	k.expect_status = 200;
	/* body_contains */
	k.body_contains = "\"ok\"";
	assert_int_equal(run_http(&k, "/healthz", &r), CHECK_PASS);
	k.body_contains = "ready";
	assert_int_equal(run_http(&k, "/healthz", &r), CHECK_FAIL);
	assert_contains(r.detail, "body lacks \"ready\"");
	assert_contains(r.threshold, "body has \"ready\"");
	k.body_contains = NULL;
	/* Latency: the slow page takes 400 ms. */
	k.max_latency_ms = 200;
	assert_int_equal(run_http(&k, "/healthz", &r), CHECK_PASS);
	assert_int_equal(run_http(&k, "/slow", &r), CHECK_FAIL);
	assert_contains(r.detail, "> 200 ms");
	assert_contains(r.threshold, "<= 200 ms");
	k.max_latency_ms = 2000;
	assert_int_equal(run_http(&k, "/slow", &r), CHECK_PASS);
	/* No answer in time: could not measure. */
	k.timeout_ms = 100;
	assert_int_equal(run_http(&k, "/slow", &r), CHECK_ERROR);
	assert_contains(r.detail, "timeout");
	k.timeout_ms = 10000;
	/* resolve pins the address.  The page listens on 127.0.0.1 only, so
	 * pinned to 127.0.0.2 the probe finds nothing (the pin is honoured),
	 * and pinned to 127.0.0.1 it passes; the threshold says where it was
	 * measured. */
	{
		char pin[128];
		const char *port = strrchr(web_base, ':') + 1;

		snprintf(pin, sizeof pin, "127.0.0.1:%s:127.0.0.2", port);
		k.resolve = pin;
		assert_int_equal(run_http(&k, "/healthz", &r), CHECK_ERROR);
		assert_contains(r.detail, "connect");
		snprintf(pin, sizeof pin, "127.0.0.1:%s:127.0.0.1", port);
		assert_int_equal(run_http(&k, "/healthz", &r), CHECK_PASS);
		assert_contains(r.threshold, "(at 127.0.0.1)");
		/* Plain http pinned off the machine: refused, never sent. */
		snprintf(pin, sizeof pin, "127.0.0.1:%s:10.10.2.4", port);
		assert_int_equal(run_http(&k, "/healthz", &r), CHECK_ERROR);
		assert_contains(r.detail, "plain http pinned to 10.10.2.4 refused");
		k.resolve = "aks-green.priv.contoso.com";
		assert_int_equal(run_http(&k, "/healthz", &r), CHECK_ERROR);
		assert_contains(r.detail, "is not host:port:address");
		k.resolve = NULL;
	}
	/* Nothing listening. */
	k.url = "http://127.0.0.1:1/healthz";
	none.http = web_client;
	assert_int_equal(check_run_once(&k, &none, &r), CHECK_ERROR);
	/* Plain http off loopback is refused by the HTTP layer. */
	k.url = "http://example.com/healthz";
	assert_int_equal(check_run_once(&k, &none, &r), CHECK_ERROR);
	none.http = NULL;
	assert_int_equal(check_run_once(&k, &none, &r), CHECK_ERROR);
	assert_contains(r.detail, "no HTTP client");
	assert_string_equal(check_status_name(r.status), "error");
}

/* ---- Kubernetes, from hand-built snapshots --------------------------------------------- */

static struct kube_node_summary nodes6[6] = {
	{ .name = "aks-sys-vmss000000" }, { .name = "aks-sys-vmss000001" },
	{ .name = "aks-sys-vmss000002" }, { .name = "aks-user-vmss000000" },
	{ .name = "aks-user-vmss000001" }, { .name = "aks-user-vmss000002" },
};

static struct kube_snapshot
node_snapshot(void)
{
	struct kube_snapshot s = { 0 };

	s.kind = KUBE_INFORMER_NODES;
	s.synced = s.connected = true;
	for (int i = 0; i < 6; i++) {
		nodes6[i].health = KUBE_NODE_READY;
		nodes6[i].unschedulable = false;
		nodes6[i].ready_reason = "KubeletReady";
	}
	s.nodes = nodes6;
	s.nnodes = s.objects = 6;
	s.nodes_ready = 6;
	return s;
}

static void
test_nodes_ready(void **state)
{
	struct cfg_check k = defaults(CFG_CHECK_NODES_READY);
	struct kube_snapshot s = node_snapshot();
	struct check_env env = { 0 };
	struct check_result r;

	(void)state;
	k.cluster = CFG_GREEN;
	k.has_cluster = 1;
	env.nodes[CFG_GREEN] = &s;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_PASS);
	assert_string_equal(r.value, "6/6 ready");
	assert_string_equal(r.threshold, "= 6");
	/* Cordoned but Ready: passes, and says so. */
	nodes6[2].unschedulable = true;
	s.nodes_cordoned = 1;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_PASS);
	assert_contains(r.detail, "1 cordoned");
	/* One NotReady, one Unknown. */
	nodes6[3].health = KUBE_NODE_NOT_READY;
	nodes6[3].ready_reason = "KubeletNotReady";
	nodes6[5].health = KUBE_NODE_UNKNOWN;
	nodes6[5].ready_reason = "NodeStatusUnknown";
	s.nodes_ready = 4;
	s.nodes_not_ready = 1;
	s.nodes_unknown = 1;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_FAIL);
	assert_string_equal(r.value, "4/6 ready");
	assert_true(r.number == 4);
	assert_contains(r.detail, "aks-user-vmss000000 NotReady (KubeletNotReady)");
	assert_contains(r.detail, "aks-user-vmss000002 Unknown");
	/* Unknown state is never a pass. */
	s = node_snapshot();
	s.connected = false;
	snprintf(s.last_error, sizeof s.last_error, "connection refused");
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_ERROR);
	assert_contains(r.detail, "unreachable: connection refused");
	s = node_snapshot();
	s.synced = false;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_ERROR);
	assert_contains(r.detail, "not synced");
	/* No snapshot for the role at all. */
	k.cluster = CFG_BLUE;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_ERROR);
	/* No nodes: a failure. */
	k.cluster = CFG_GREEN;
	s = node_snapshot();
	s.nnodes = 0;
	s.nodes_ready = 0;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_FAIL);
	assert_contains(r.detail, "no nodes");
}

static struct kube_ns_summary pod_ns[3];

static struct kube_snapshot
pod_snapshot(void)
{
	struct kube_snapshot s = { 0 };

	memset(pod_ns, 0, sizeof pod_ns);
	snprintf(pod_ns[0].name, sizeof pod_ns[0].name, "kube-system");
	pod_ns[0].pods.total = pod_ns[0].pods.ready = 20;
	snprintf(pod_ns[1].name, sizeof pod_ns[1].name, "payments");
	pod_ns[1].pods.total = 22;
	pod_ns[1].pods.ready = 21;
	pod_ns[1].pods.pending = 1;
	snprintf(pod_ns[2].name, sizeof pod_ns[2].name, "shop");
	pod_ns[2].pods.total = 48;
	pod_ns[2].pods.ready = 43;
	pod_ns[2].pods.crashlooping = 5;
	s.kind = KUBE_INFORMER_PODS;
	s.synced = s.connected = true;
	s.namespaces = pod_ns;
	s.nnamespaces = 3;
	s.pods.total = 90;
	s.pods.ready = 84;
	s.pods.pending = 1;
	s.pods.crashlooping = 5;
	return s;
}

static void
test_pods_ready(void **state)
{
	struct cfg_check k = defaults(CFG_CHECK_PODS_READY);
	struct kube_snapshot s = pod_snapshot();
	struct check_env env = { 0 };
	struct check_result r;
	char *shop[] = { "shop", NULL };
	char *ks[] = { "kube-system", NULL };
	char *ks_missing[] = { "kube-system", "billing", NULL };

	(void)state;
	env.pods[CFG_BLUE] = &s;
	/* All namespaces. */
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_FAIL);
	assert_string_equal(r.value, "84/90 ready");
	assert_string_equal(r.threshold, ">= 90");
	assert_contains(r.detail, "6 not ready");
	assert_contains(r.detail, "5 crash-looping (shop 5)");
	assert_contains(r.detail, "1 pending");
	k.allowed_not_ready = 6;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_PASS);
	k.allowed_not_ready = 0;
	/* One namespace. */
	k.namespaces = shop;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_FAIL);
	assert_string_equal(r.value, "43/48 ready");
	assert_contains(r.detail, "5 crash-looping");
	assert_true(strstr(r.detail, "pending") == NULL);
	k.namespaces = ks;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_PASS);
	assert_string_equal(r.value, "20/20 ready");
	/* A named namespace without pods fails. */
	k.namespaces = ks_missing;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_FAIL);
	assert_contains(r.detail, "no pods in billing");
	/* Disconnected: ERROR. */
	s.connected = false;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_ERROR);
}

static struct kube_ns_summary dep_ns[2];
static struct kube_deploy_summary dep_bad[1];

static struct kube_snapshot
deploy_snapshot(void)
{
	struct kube_snapshot s = { 0 };

	memset(dep_ns, 0, sizeof dep_ns);
	snprintf(dep_ns[0].name, sizeof dep_ns[0].name, "payments");
	dep_ns[0].deployments = 4;
	dep_ns[0].deployments_not_available = 1;
	snprintf(dep_ns[1].name, sizeof dep_ns[1].name, "shop");
	dep_ns[1].deployments = 6;
	memset(dep_bad, 0, sizeof dep_bad);
	snprintf(dep_bad[0].ns, sizeof dep_bad[0].ns, "payments");
	snprintf(dep_bad[0].name, sizeof dep_bad[0].name, "ledger");
	dep_bad[0].desired = 2;
	dep_bad[0].available = 0;
	snprintf(dep_bad[0].reason, sizeof dep_bad[0].reason, "MinimumReplicasUnavailable");
	s.kind = KUBE_INFORMER_DEPLOYMENTS;
	s.synced = s.connected = true;
	s.namespaces = dep_ns;
	s.nnamespaces = 2;
	s.deployments = 10;
	s.deployments_not_available = 1;
	s.not_available = dep_bad;
	s.nnot_available = 1;
	return s;
}

static void
test_deployments_available(void **state)
{
	struct cfg_check k = defaults(CFG_CHECK_DEPLOYMENTS_AVAILABLE);
	struct kube_snapshot s = deploy_snapshot();
	struct check_env env = { 0 };
	struct check_result r;
	char *shop[] = { "shop", NULL };
	char *pay[] = { "payments", NULL };

	(void)state;
	env.deployments[CFG_BLUE] = &s;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_FAIL);
	assert_string_equal(r.value, "9/10 available");
	assert_contains(r.detail, "payments/ledger 0/2 MinimumReplicasUnavailable");
	k.namespaces = shop;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_PASS);
	assert_string_equal(r.value, "6/6 available");
	assert_string_equal(r.detail, "");
	k.namespaces = pay;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_FAIL);
	s.synced = false;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_ERROR);
}

/* The callback path: a fresh, owned snapshot per run (freed by the check). */
static int
snap_cb(void *ctx, enum cfg_role role, enum kube_informer_kind kind, struct kube_snapshot *out)
{
	int *calls = ctx;

	(*calls)++;
	if (role != CFG_GREEN || kind != KUBE_INFORMER_NODES)
		return -1;
	*out = node_snapshot();
	out->nodes = calloc(6, sizeof *out->nodes);
	assert_non_null(out->nodes);
	memcpy(out->nodes, nodes6, sizeof nodes6);
	return 0;
}

static void
test_snapshot_callback(void **state)
{
	struct cfg_check k = defaults(CFG_CHECK_NODES_READY);
	struct check_env env = { 0 };
	struct check_result r;
	int calls = 0;

	(void)state;
	env.snapshot = snap_cb;
	env.snapshot_ctx = &calls;
	k.cluster = CFG_GREEN;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_PASS);
	k.cluster = CFG_BLUE;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_ERROR);
	assert_contains(r.detail, "no informer for blue");
	assert_int_equal(calls, 2);
}

/* ---- Azure, against the simulator ------------------------------------------------------ */

/* The simulator and an ARM client of it (tests/lib/simclient). */
static struct simclient X;
static char GW[512];

static int
sim_setup(void **state)
{
	(void)state;
	simclient_start(&X);
	sfmt(GW, sizeof GW, "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.Network/applicationGateways/agw-prod", X.sub, X.rg);
	return 0;
}

static int
sim_teardown(void **state)
{
	(void)state;
	simclient_stop(&X);
	return 0;
}

static struct check_env
azure_env(void)
{
	struct check_env env = { 0 };

	env.arm = X.arm;
	env.gateway_id = GW;
	env.pools[CFG_BLUE] = "pool-blue";
	env.pools[CFG_GREEN] = "pool-green";
	return env;
}

static void
test_backend_health(void **state)
{
	struct cfg_check k = defaults(CFG_CHECK_BACKEND_HEALTH);
	struct check_env env = azure_env();
	struct check_result r;

	(void)state;
	k.cluster = CFG_BLUE;
	if (check_run_once(&k, &env, &r) != CHECK_PASS)
		fail_msg("pool-blue: %s %s", r.value, r.detail);
	assert_true(r.number > 0);
	k.cluster = CFG_GREEN;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_FAIL);
	assert_string_equal(r.value, "0/1 healthy");
	assert_string_equal(r.threshold, "= 1");
	/* A pool the gateway does not have: unknown, not healthy. */
	env.pools[CFG_GREEN] = "pool-nope";
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_ERROR);
	assert_contains(r.detail, "no pool pool-nope");
	env.arm = NULL;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_ERROR);
}

static void
test_metric(void **state)
{
	struct cfg_check k = defaults(CFG_CHECK_METRIC);
	struct check_env env = azure_env();
	struct check_result r;

	(void)state;
	k.metric = "ResponseStatus";
	k.filter = "HttpStatusGroup eq '5xx'";
	k.aggregation = "Total";
	k.window_ms = 5 * 60000;
	k.max = 10;
	k.has_max = 1;
	if (check_run_once(&k, &env, &r) != CHECK_PASS)
		fail_msg("5xx: %s %s", r.value, r.detail);
	assert_string_equal(r.threshold, "<= 10");
	assert_true(r.has_number);
	assert_true(r.number <= 10);
	/* A floor the traffic cannot reach. */
	k.has_max = 0;
	k.filter = NULL;
	k.metric = "TotalRequests";
	k.min = 1e12;
	k.has_min = 1;
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_FAIL);
	assert_contains(r.threshold, ">= 1e+12");
	/* An unknown metric is an ERROR with the service's message. */
	k.metric = "NoSuchMetric";
	assert_int_equal(check_run_once(&k, &env, &r), CHECK_ERROR);
	assert_contains(r.detail, "NoSuchMetric");
}

int
main(void)
{
	const struct CMUnitTest local[] = {
		cmocka_unit_test(test_tracker_thresholds),
		cmocka_unit_test(test_tracker_rollback),
		cmocka_unit_test(test_tracker_due),
		cmocka_unit_test(test_command_exit),
		cmocka_unit_test(test_command_timeout),
		cmocka_unit_test(test_nodes_ready),
		cmocka_unit_test(test_pods_ready),
		cmocka_unit_test(test_deployments_available),
		cmocka_unit_test(test_snapshot_callback),
	};
	const struct CMUnitTest web_tests[] = {
		cmocka_unit_test(test_http),
	};
	const struct CMUnitTest sim_tests[] = {
		cmocka_unit_test(test_backend_health),
		cmocka_unit_test(test_metric),
	};
	int failed = 0;

	signal(SIGPIPE, SIG_IGN);
	/* BGSWITCH_TEST_LOG=1 shows the log while debugging. */
	log_set_stream(stderr, getenv("BGSWITCH_TEST_LOG") != NULL ? LOG_DEBUG : LOG_OFF);
	failed += cmocka_run_group_tests_name("check", local, NULL, NULL);
	failed += cmocka_run_group_tests_name("check-http", web_tests, web_setup, web_teardown);
	failed += cmocka_run_group_tests_name("check-azure", sim_tests, sim_setup, sim_teardown);
	return failed;
}
