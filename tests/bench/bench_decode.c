/*
 * bench_decode.c — how fast kube_decode reads a big pod list, against
 * yajl's own floor.
 *
 * PRODUCT.md §7 sizes bgswitch for 150,000 pods per cluster and puts the
 * floor at the parse: about 1.8 s of CPU for such a list with a streaming
 * parser.  This program generates a PodList of N realistic pods (about
 * 5.6 KB each, compact JSON as the API server writes it: managedFields,
 * labels, annotations, two containers with env, probes and mounts, five
 * conditions, container statuses), then decodes it in 64 KiB chunks three
 * ways and prints CPU time, throughput, peak RSS and heap allocations:
 *
 *   yajl-bare   yajl with no callbacks (tokenizing and validation only)
 *   yajl-noop   yajl with callbacks that only return (what any streaming
 *               consumer pays: strings unescaped, one call per token)
 *   kube_decode the decoder, producing a summary per pod
 *
 * It also checks that every pod came out, with the generated number of
 * crash-looping and pending pods.
 *
 * Build and run from the repository root (not part of `make check`):
 *
 *   cc -O2 -g -std=c11 -D_GNU_SOURCE -I. -o build/bench_decode \
 *       tests/bench/bench_decode.c kube/kube_decode.c kube/kube_summary.c \
 *       $(pkg-config --cflags --libs yajl)
 *   build/bench_decode              # 150,000 pods, body in memory
 *   build/bench_decode -n 20000 -f  # body in a temporary file, read() in chunks
 *   build/bench_decode -w           # the same pods as a watch stream
 *   build/bench_decode -p 500       # pages of 500 (kubectl's default chunk)
 *
 * Options: -n PODS, -c CHUNK bytes, -f (file), -w (watch), -p PAGE,
 * -k (kube_decode only: peak RSS then shows the decoder alone).
 * Peak RSS is the process's (getrusage ru_maxrss), so with the body in
 * memory it includes the body; the line "beyond the body" subtracts it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

#include "kube/kube_decode.h"

struct body {
	char *buf;		/* memory mode */
	size_t len, cap;
	int fd;			/* file mode, or -1 */
	size_t *pages;		/* page boundaries (offsets), npages + 1 */
	size_t npages;
	unsigned crashloop, pending;	/* as generated */
};

static void
die(const char *what)
{
	fprintf(stderr, "bench_decode: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
emit(struct body *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		/* In file mode generate() flushes at half the buffer, long
		 * before one pod could fill the rest. */
		size_t cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n;
		char *p;

		if (b->fd >= 0)
			die("file buffer overflow");
		if ((p = realloc(b->buf, cap)) == NULL)
			die("realloc");
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

static void
emit_str(struct body *b, const char *s)
{
	emit(b, s, strlen(s));
}

static size_t
body_offset(const struct body *b, size_t written_to_file)
{
	return b->fd >= 0 ? written_to_file + b->len : b->len;
}

/* One pod as a v1.30 API server writes it.  I is the pod's number. */
static int
pod_json(char *out, size_t cap, unsigned i, struct body *b)
{
	static const char *const ns[] = { "shop", "payments", "search",
	    "checkout", "identity", "catalog", "kube-system", "monitoring" };
	unsigned app = i / 7;
	const char *n = ns[i % 8];
	bool crash = i % 100 == 37;
	bool pending = !crash && i % 250 == 11;
	char uid[40], state[512], conds[4096], node[64];

	if (crash)
		b->crashloop++;
	if (pending)
		b->pending++;
	snprintf(uid, sizeof uid, "%08x-%04x-4%03x-a%03x-%012x",
	    i * 2654435761u, i & 0xffff, i % 4096, (i / 7) % 4096,
	    i * 40503u);
	snprintf(node, sizeof node, "aks-user%u-31415926-vmss%06u",
	    i % 3, (i / 41) % 500);
	if (crash)
		snprintf(state, sizeof state,
		    "\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\","
		    "\"message\":\"back-off 5m0s restarting failed container="
		    "app pod=app-%u\"}},\"lastState\":{\"terminated\":{"
		    "\"exitCode\":1,\"reason\":\"Error\",\"startedAt\":"
		    "\"2025-01-14T09:12:01Z\",\"finishedAt\":"
		    "\"2025-01-14T09:12:03Z\",\"containerID\":\"containerd://"
		    "9f2c1e0b7a\"}},\"ready\":false,\"restartCount\":%u,",
		    i, 5 + i % 40);
	else
		snprintf(state, sizeof state,
		    "\"state\":{\"running\":{\"startedAt\":"
		    "\"2025-01-12T08:00:%02uZ\"}},\"lastState\":{},"
		    "\"ready\":true,\"restartCount\":%u,", i % 60, i % 3);
	if (pending)
		snprintf(conds, sizeof conds,
		    "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":"
		    "\"False\",\"lastProbeTime\":null,\"lastTransitionTime\":"
		    "\"2025-01-12T08:00:00Z\",\"reason\":\"Unschedulable\","
		    "\"message\":\"0/500 nodes are available: 500 Insufficient "
		    "cpu. preemption: 0/500 nodes are available: 500 No "
		    "preemption victims found for incoming pod.\"}],"
		    "\"phase\":\"Pending\",\"qosClass\":\"Burstable\"");
	else
		snprintf(conds, sizeof conds,
		    "\"phase\":\"Running\",\"conditions\":["
		    "{\"type\":\"PodReadyToStartContainers\",\"status\":\"True\","
		    "\"lastProbeTime\":null,\"lastTransitionTime\":"
		    "\"2025-01-12T08:00:02Z\"},"
		    "{\"type\":\"Initialized\",\"status\":\"True\","
		    "\"lastProbeTime\":null,\"lastTransitionTime\":"
		    "\"2025-01-12T08:00:01Z\"},"
		    "{\"type\":\"Ready\",\"status\":\"%s\",\"lastProbeTime\":null,"
		    "\"lastTransitionTime\":\"2025-01-12T08:00:09Z\"},"
		    "{\"type\":\"ContainersReady\",\"status\":\"%s\","
		    "\"lastProbeTime\":null,\"lastTransitionTime\":"
		    "\"2025-01-12T08:00:09Z\"},"
		    "{\"type\":\"PodScheduled\",\"status\":\"True\","
		    "\"lastProbeTime\":null,\"lastTransitionTime\":"
		    "\"2025-01-12T08:00:00Z\"}],"
		    "\"hostIP\":\"10.224.%u.%u\",\"hostIPs\":[{\"ip\":"
		    "\"10.224.%u.%u\"}],\"podIP\":\"10.244.%u.%u\",\"podIPs\":"
		    "[{\"ip\":\"10.244.%u.%u\"}],\"startTime\":"
		    "\"2025-01-12T08:00:00Z\",\"containerStatuses\":["
		    "{\"name\":\"app\",%s\"image\":\"contoso.azurecr.io/%s/app-%u:"
		    "1.42.%u\",\"imageID\":\"contoso.azurecr.io/%s/app-%u@sha256:"
		    "4e1a9c0d2b7f88e3c5a6d0f1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3"
		    "e4f\",\"containerID\":\"containerd://7d3f0a9b1c2e4f5a6b7c8d9"
		    "e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c\",\"started\":"
		    "%s},{\"name\":\"istio-proxy\",\"state\":{\"running\":{"
		    "\"startedAt\":\"2025-01-12T08:00:03Z\"}},\"lastState\":{},"
		    "\"ready\":true,\"restartCount\":0,\"image\":\"mcr.microsoft."
		    "com/oss/istio/proxyv2:1.22.3\",\"imageID\":\"mcr.microsoft."
		    "com/oss/istio/proxyv2@sha256:0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"
		    "e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c\",\"containerID\":"
		    "\"containerd://0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6"
		    "0718293a4b5c6d7e8f9\",\"started\":true}],"
		    "\"qosClass\":\"Burstable\"",
		    crash ? "False" : "True", crash ? "False" : "True",
		    (i / 41) % 250, (i / 41) % 200 + 4, (i / 41) % 250,
		    (i / 41) % 200 + 4, (i / 256) % 256, i % 256,
		    (i / 256) % 256, i % 256, state, n, app % 400, i % 9, n,
		    app % 400, crash ? "false" : "true");

	return snprintf(out, cap,
	    "{\"metadata\":{\"name\":\"app-%u-7c9f8d6b5-%05x\","
	    "\"generateName\":\"app-%u-7c9f8d6b5-\",\"namespace\":\"%s\","
	    "\"uid\":\"%s\",\"resourceVersion\":\"%u\","
	    "\"creationTimestamp\":\"2025-01-12T08:00:00Z\","
	    "\"labels\":{\"app.kubernetes.io/name\":\"app-%u\","
	    "\"app.kubernetes.io/part-of\":\"%s\",\"pod-template-hash\":"
	    "\"7c9f8d6b5\",\"security.istio.io/tlsMode\":\"istio\","
	    "\"service.istio.io/canonical-name\":\"app-%u\","
	    "\"service.istio.io/canonical-revision\":\"1.42\"},"
	    "\"annotations\":{\"istio.io/rev\":\"default\","
	    "\"kubectl.kubernetes.io/default-container\":\"app\","
	    "\"prometheus.io/port\":\"15020\",\"prometheus.io/scrape\":\"true\","
	    "\"sidecar.istio.io/status\":\"{\\\"initContainers\\\":"
	    "[\\\"istio-init\\\"],\\\"containers\\\":[\\\"istio-proxy\\\"],"
	    "\\\"volumes\\\":[\\\"istio-envoy\\\",\\\"istio-data\\\"]}\"},"
	    "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":"
	    "\"ReplicaSet\",\"name\":\"app-%u-7c9f8d6b5\",\"uid\":"
	    "\"5a0c3e2f-9b8d-4c7a-8e6f-1d2c3b4a5%03u\",\"controller\":true,"
	    "\"blockOwnerDeletion\":true}],"
	    "\"managedFields\":[{\"manager\":\"kube-controller-manager\","
	    "\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":"
	    "\"2025-01-12T08:00:00Z\",\"fieldsType\":\"FieldsV1\","
	    "\"fieldsV1\":{\"f:metadata\":{\"f:generateName\":{},"
	    "\"f:labels\":{\".\":{},\"f:app.kubernetes.io/name\":{},"
	    "\"f:pod-template-hash\":{}},\"f:ownerReferences\":{\".\":{},"
	    "\"k:{\\\"uid\\\":\\\"5a0c3e2f-9b8d-4c7a-8e6f-1d2c3b4a5000\\\"}\":"
	    "{}}},\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"app\\\"}"
	    "\":{\".\":{},\"f:env\":{\".\":{},\"k:{\\\"name\\\":"
	    "\\\"LOG_LEVEL\\\"}\":{\".\":{},\"f:name\":{},\"f:value\":{}}},"
	    "\"f:image\":{},\"f:imagePullPolicy\":{},\"f:name\":{},"
	    "\"f:ports\":{},\"f:resources\":{}}},\"f:dnsPolicy\":{},"
	    "\"f:restartPolicy\":{},\"f:schedulerName\":{}}}},"
	    "{\"manager\":\"kubelet\",\"operation\":\"Update\",\"apiVersion\":"
	    "\"v1\",\"time\":\"2025-01-12T08:00:09Z\",\"fieldsType\":"
	    "\"FieldsV1\",\"fieldsV1\":{\"f:status\":{\"f:conditions\":{"
	    "\"k:{\\\"type\\\":\\\"Ready\\\"}\":{\".\":{},"
	    "\"f:lastProbeTime\":{},\"f:lastTransitionTime\":{},"
	    "\"f:status\":{},\"f:type\":{}}},\"f:containerStatuses\":{},"
	    "\"f:hostIP\":{},\"f:phase\":{},\"f:podIP\":{},"
	    "\"f:startTime\":{}}},\"subresource\":\"status\"}]},"
	    "\"spec\":{\"volumes\":[{\"name\":\"kube-api-access-%05x\","
	    "\"projected\":{\"sources\":[{\"serviceAccountToken\":{"
	    "\"expirationSeconds\":3607,\"path\":\"token\"}},{\"configMap\":{"
	    "\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\","
	    "\"path\":\"ca.crt\"}]}},{\"downwardAPI\":{\"items\":[{\"path\":"
	    "\"namespace\",\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":"
	    "\"metadata.namespace\"}}]}}],\"defaultMode\":420}}],"
	    "\"containers\":[{\"name\":\"app\",\"image\":"
	    "\"contoso.azurecr.io/%s/app-%u:1.42.%u\",\"args\":[\"--port=8080\","
	    "\"--metrics-port=9090\"],\"ports\":[{\"name\":\"http\","
	    "\"containerPort\":8080,\"protocol\":\"TCP\"}],\"env\":["
	    "{\"name\":\"LOG_LEVEL\",\"value\":\"info\"},{\"name\":"
	    "\"POD_NAME\",\"valueFrom\":{\"fieldRef\":{\"apiVersion\":\"v1\","
	    "\"fieldPath\":\"metadata.name\"}}}],\"resources\":{\"limits\":"
	    "{\"memory\":\"512Mi\"},\"requests\":{\"cpu\":\"250m\","
	    "\"memory\":\"256Mi\"}},\"volumeMounts\":[{\"name\":"
	    "\"kube-api-access-%05x\",\"readOnly\":true,\"mountPath\":"
	    "\"/var/run/secrets/kubernetes.io/serviceaccount\"}],"
	    "\"livenessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":"
	    "8080,\"scheme\":\"HTTP\"},\"timeoutSeconds\":1,\"periodSeconds\":"
	    "10,\"successThreshold\":1,\"failureThreshold\":3},"
	    "\"terminationMessagePath\":\"/dev/termination-log\","
	    "\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":"
	    "\"IfNotPresent\",\"securityContext\":{\"runAsNonRoot\":true,"
	    "\"allowPrivilegeEscalation\":false}},{\"name\":\"istio-proxy\","
	    "\"image\":\"mcr.microsoft.com/oss/istio/proxyv2:1.22.3\","
	    "\"args\":[\"proxy\",\"sidecar\",\"--domain\","
	    "\"$(POD_NAMESPACE).svc.cluster.local\"],\"ports\":[{\"name\":"
	    "\"http-envoy-prom\",\"containerPort\":15090,\"protocol\":\"TCP\"}],"
	    "\"resources\":{\"limits\":{\"cpu\":\"2\",\"memory\":\"1Gi\"},"
	    "\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}},"
	    "\"terminationMessagePath\":\"/dev/termination-log\","
	    "\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":"
	    "\"IfNotPresent\"}],\"restartPolicy\":\"Always\","
	    "\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":"
	    "\"ClusterFirst\",\"serviceAccountName\":\"app-%u\","
	    "\"serviceAccount\":\"app-%u\"%s%s%s,\"securityContext\":{},"
	    "\"schedulerName\":\"default-scheduler\",\"tolerations\":["
	    "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":"
	    "\"Exists\","
	    "\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],"
	    "\"priority\":0,\"enableServiceLinks\":true,\"preemptionPolicy\":"
	    "\"PreemptLowerPriority\"},\"status\":{%s}}",
	    app, i & 0xfffff, app, n, uid, 1000000 + i, app, n, app, app,
	    app % 1000, i & 0xfffff, n, app % 400, i % 9, i & 0xfffff, app,
	    app, pending ? "" : ",\"nodeName\":\"", pending ? "" : node,
	    pending ? "" : "\"", conds);
}

static void
generate(struct body *b, unsigned npods, unsigned page, bool watch)
{
	static char pod[16384];
	char head[256];
	size_t in_file = 0;
	unsigned npg = page ? (npods + page - 1) / page : 1;

	b->len = 0;
	b->npages = 0;
	b->pages = calloc((size_t)npg + 2, sizeof *b->pages);
	if (b->pages == NULL)
		die("calloc");
	for (unsigned i = 0; i < npods; i++) {
		bool first = page ? i % page == 0 : i == 0;
		bool last = page ? (i + 1) % page == 0 || i + 1 == npods :
		    i + 1 == npods;
		int n;

		if (!watch && first) {
			/* Every page but the last carries a continue token
			 * (meta/v1 ListMeta). */
			bool final = page == 0 || i / page == (npods - 1) / page;

			b->pages[b->npages++] = body_offset(b, in_file);
			n = snprintf(head, sizeof head,
			    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\","
			    "\"metadata\":{\"resourceVersion\":\"2000000\"%s},"
			    "\"items\":[", final ? "" : ",\"continue\":"
			    "\"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MjAwMDAwMCwic3"
			    "RhcnQiOiJzaG9wL2FwcCJ9\"");
			emit(b, head, (size_t)n);
		}
		if (watch)
			emit_str(b, "{\"type\":\"MODIFIED\",\"object\":");
		n = pod_json(pod, sizeof pod, i, b);
		if (n < 0 || (size_t)n >= sizeof pod)
			die("pod template too big");
		if (watch) {
			/* Watch objects carry their kind (API Concepts). */
			emit_str(b, "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",");
			emit(b, pod + 1, (size_t)n - 1);
			emit(b, "}\n", 2);
		} else {
			emit(b, pod, (size_t)n);
			emit(b, last ? "]}" : ",", last ? 2 : 1);
		}
		if (b->fd >= 0 && b->len > b->cap / 2) {
			if (write(b->fd, b->buf, b->len) != (ssize_t)b->len)
				die("write");
			in_file += b->len;
			b->len = 0;
		}
	}
	if (watch)
		b->pages[b->npages++] = 0;
	b->pages[b->npages] = body_offset(b, in_file);
	if (b->fd >= 0) {
		if (write(b->fd, b->buf, b->len) != (ssize_t)b->len)
			die("write");
		b->len = in_file + b->len;
	}
}

/* ---- runs ---------------------------------------------------------------- */

struct tally {
	uint64_t pods, crash, pending, lists;
};

static int
on_object(void *ctx, enum kube_event ev, const struct kube_object *o)
{
	struct tally *t = ctx;
	enum kube_pod_health h = kube_pod_health(o);

	(void)ev;
	t->pods += o->kind == KUBE_KIND_POD && o->meta.name[0] != '\0';
	t->crash += h == KUBE_POD_CRASHLOOP;
	t->pending += h == KUBE_POD_UNSCHEDULABLE;
	return 0;
}

static int
on_list(void *ctx, const struct kube_list *l)
{
	(void)l;
	((struct tally *)ctx)->lists++;
	return 0;
}

static int noop(void *c) { (void)c; return 1; }
static int noop_b(void *c, int v) { (void)c; (void)v; return 1; }
static int noop_n(void *c, const char *s, size_t n)
{ (void)c; (void)s; (void)n; return 1; }
static int noop_s(void *c, const unsigned char *s, size_t n)
{ (void)c; (void)s; (void)n; return 1; }

static const yajl_callbacks noop_cbs = {
	.yajl_null = noop, .yajl_boolean = noop_b, .yajl_number = noop_n,
	.yajl_string = noop_s, .yajl_start_map = noop, .yajl_map_key = noop_s,
	.yajl_end_map = noop, .yajl_start_array = noop, .yajl_end_array = noop,
};

enum runner { R_BARE, R_NOOP, R_KUBE };

struct run {
	enum runner r;
	bool watch;
	yajl_handle y;
	struct kube_decoder *d;
	struct tally t;
};

static void
run_open(struct run *x)
{
	if (x->r == R_KUBE) {
		if (x->d == NULL) {
			x->d = kube_decode_new(x->watch ? KUBE_DECODE_WATCH :
			    KUBE_DECODE_BODY, on_object, on_list, &x->t);
			kube_decode_set_item_kind(x->d, "Pod");
		} else if (kube_decode_reset(x->d) != 0) {
			die("kube_decode_reset");
		}
		return;
	}
	if (x->y != NULL)
		yajl_free(x->y);
	x->y = yajl_alloc(x->r == R_NOOP ? &noop_cbs : NULL, NULL, NULL);
	if (x->watch)
		yajl_config(x->y, yajl_allow_multiple_values, 1);
}

static void
run_feed(struct run *x, const char *p, size_t n)
{
	if (x->r == R_KUBE) {
		if (kube_decode_feed(x->d, p, n) != 0) {
			fprintf(stderr, "decode: %s\n", kube_decode_error(x->d));
			exit(1);
		}
	} else if (yajl_parse(x->y, (const unsigned char *)p, n) !=
	    yajl_status_ok) {
		fprintf(stderr, "yajl: parse error\n");
		exit(1);
	}
}

static void
run_finish(struct run *x)
{
	if (x->r == R_KUBE) {
		if (kube_decode_finish(x->d) != 0) {
			fprintf(stderr, "decode: %s\n", kube_decode_error(x->d));
			exit(1);
		}
	} else if (yajl_complete_parse(x->y) != yajl_status_ok) {
		fprintf(stderr, "yajl: parse error at end\n");
		exit(1);
	}
}

static double
cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long
maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void
measure(const char *label, struct body *b, enum runner r, bool watch,
    size_t chunk, unsigned npods)
{
	struct run x = { .r = r, .watch = watch };
	static char *rbuf;
	double c0, w0, cpu, wall, mb = (double)b->len / 1e6;
	struct kube_decode_stats st = { 0 };

	if (b->fd >= 0 && rbuf == NULL && (rbuf = malloc(chunk)) == NULL)
		die("malloc");
	c0 = cpu_now();
	w0 = wall_now();
	for (size_t pg = 0; pg < b->npages; pg++) {
		size_t at = b->pages[pg], stop = b->pages[pg + 1];

		run_open(&x);
		if (b->fd >= 0 && lseek(b->fd, (off_t)at, SEEK_SET) < 0)
			die("lseek");
		while (at < stop) {
			size_t n = stop - at < chunk ? stop - at : chunk;

			if (b->fd >= 0) {
				ssize_t got = read(b->fd, rbuf, n);

				if (got <= 0)
					die("read");
				run_feed(&x, rbuf, (size_t)got);
				at += (size_t)got;
			} else {
				run_feed(&x, b->buf + at, n);
				at += n;
			}
		}
		run_finish(&x);
	}
	cpu = cpu_now() - c0;
	wall = wall_now() - w0;
	if (x.d != NULL)
		kube_decode_stats(x.d, &st);
	printf("%-12s %7.2f s CPU %7.2f s wall %9.0f pods/s %7.1f MB/s",
	    label, cpu, wall, npods / cpu, mb / cpu);
	if (r == R_KUBE)
		printf("  allocs %llu (%.4f/pod)",
		    (unsigned long long)st.allocs,
		    npods ? (double)st.allocs / npods : 0.0);
	printf("\n");
	if (r == R_KUBE) {
		if (x.t.pods != npods || x.t.crash != b->crashloop ||
		    x.t.pending != b->pending ||
		    (!watch && x.t.lists != b->npages)) {
			fprintf(stderr, "bench_decode: MISMATCH: decoded %llu "
			    "pods (%llu crash-looping, %llu unschedulable, %llu "
			    "lists), generated %u (%u, %u, %zu)\n",
			    (unsigned long long)x.t.pods,
			    (unsigned long long)x.t.crash,
			    (unsigned long long)x.t.pending,
			    (unsigned long long)x.t.lists, npods, b->crashloop,
			    b->pending, b->npages);
			exit(1);
		}
		printf("             checked: %llu pods, %llu crash-looping, "
		    "%llu unschedulable, %llu list bodies\n",
		    (unsigned long long)x.t.pods,
		    (unsigned long long)x.t.crash,
		    (unsigned long long)x.t.pending,
		    (unsigned long long)x.t.lists);
		kube_decode_free(x.d);
	} else if (x.y != NULL) {
		yajl_free(x.y);
	}
}

int
main(int argc, char **argv)
{
	unsigned npods = 150000, page = 0;
	size_t chunk = 65536;
	bool file = false, watch = false, only_kube = false;
	struct body b = { .fd = -1 };
	double g0;
	long rss;
	int c;

	while ((c = getopt(argc, argv, "n:c:fwp:k")) != -1) {
		switch (c) {
		case 'n': npods = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': chunk = strtoul(optarg, NULL, 10); break;
		case 'f': file = true; break;
		case 'w': watch = true; break;
		case 'p': page = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'k': only_kube = true; break;
		default:
			fprintf(stderr, "usage: bench_decode [-n pods] "
			    "[-c chunk] [-f] [-w] [-p page] [-k]\n");
			return 2;
		}
	}
	if (chunk == 0)
		chunk = 1;
	if (npods == 0)
		npods = 1;
	if (file) {
		const char *dir = getenv("TMPDIR");
		char tmpl[4096];

		snprintf(tmpl, sizeof tmpl, "%s/bench_decode.XXXXXX",
		    dir != NULL && dir[0] != '\0' ? dir : "/tmp");
		if ((b.fd = mkstemp(tmpl)) < 0)
			die("mkstemp");
		unlink(tmpl);
		b.cap = 1 << 20;
	} else {
		/* ~5.6 KB a pod; growing by doubling only maps pages. */
		b.cap = (size_t)npods * 5800 + 4096;
	}
	if ((b.buf = malloc(b.cap)) == NULL)
		die("malloc");
	g0 = wall_now();
	generate(&b, npods, watch ? 0 : page, watch);
	if (file) {
		free(b.buf);
		b.buf = NULL;
	}
	printf("%u pods, %.1f MB (%.0f bytes/pod), %s, %s, chunks of %zu "
	    "bytes; generated in %.1f s\n", npods, b.len / 1e6,
	    (double)b.len / npods, watch ? "watch stream" : "PodList",
	    file ? "read from a temporary file" : "in memory", chunk,
	    wall_now() - g0);
	if (page && !watch)
		printf("pages of %u items: %zu list bodies\n", page, b.npages);
	rss = maxrss_kb();
	printf("peak RSS after generating: %.1f MiB (body %.1f MiB)\n",
	    rss / 1024.0, file ? 0.0 : b.len / 1048576.0);
	if (!only_kube) {
		measure("yajl-bare", &b, R_BARE, watch, chunk, npods);
		measure("yajl-noop", &b, R_NOOP, watch, chunk, npods);
	}
	measure("kube_decode", &b, R_KUBE, watch, chunk, npods);
	rss = maxrss_kb();
	printf("peak RSS: %.1f MiB; beyond the body: %.1f MiB\n", rss / 1024.0,
	    (rss / 1024.0) - (file ? 0 : b.len / 1048576.0));
	if (b.fd >= 0)
		close(b.fd);
	free(b.buf);
	free(b.pages);
	return 0;
}
