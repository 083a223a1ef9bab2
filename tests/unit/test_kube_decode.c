/*
 * test_kube_decode.c — unit tests for the streaming Kubernetes decoder.
 *
 * Every real fixture in tests/fixtures/kube/ (a PodList page with a
 * continue token, kubectl's "kind: List", a 2015-era NodeList, an AKS
 * NodeList, a watch stream, a watch event, a 410 Status, two Deployments
 * and a Lease) is decoded whole, one byte at a time and in 7-byte pieces,
 * and the three results must be byte-for-byte the same before the fields
 * are checked.  Synthetic bodies then cover what the fixtures do not:
 * members out of order, bookmarks and watch errors, crash-looping pods,
 * cordoned nodes, deployments without status, and hostile input
 * (malformed, truncated, wrongly typed, deeply nested, oversized).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/kube_decode.h"

/* ---- recording what the decoder hands out -------------------------------- */

#define MAX_OBJS 8

struct rec {
	int nobjs;
	enum kube_event ev[MAX_OBJS];
	struct kube_object obj[MAX_OBJS];
	int nlists;
	struct kube_list list;		/* continue_token cleared: see cont */
	char cont[256];
	int rc;				/* 0, or -1 if feed or finish failed */
	char err[400];
	uint64_t allocs;
};

static int
rec_object(void *ctx, enum kube_event ev, const struct kube_object *o)
{
	struct rec *r = ctx;

	if (r->nobjs < MAX_OBJS) {
		r->ev[r->nobjs] = ev;
		r->obj[r->nobjs] = *o;
	}
	r->nobjs++;
	return 0;
}

static int
rec_list(void *ctx, const struct kube_list *l)
{
	struct rec *r = ctx;

	r->nlists++;
	r->list = *l;
	snprintf(r->cont, sizeof r->cont, "%s", l->continue_token);
	r->list.continue_token = NULL;
	return 0;
}

/* Decodes TEXT in pieces of CHUNK bytes (0: all at once) into a fresh,
 * zeroed record, so that two records can be compared with memcmp. */
static struct rec *
decode_chunked(const char *text, size_t len, enum kube_decode_mode mode,
    const char *hint, size_t chunk)
{
	struct rec *r = calloc(1, sizeof *r);
	struct kube_decoder *d;
	struct kube_decode_stats st;

	assert_non_null(r);
	d = kube_decode_new(mode, rec_object, rec_list, r);
	assert_non_null(d);
	if (hint != NULL)
		kube_decode_set_item_kind(d, hint);
	if (chunk == 0)
		chunk = len > 0 ? len : 1;
	for (size_t at = 0; at < len && r->rc == 0; at += chunk)
		r->rc = kube_decode_feed(d, text + at,
		    len - at < chunk ? len - at : chunk);
	if (r->rc == 0)
		r->rc = kube_decode_finish(d);
	snprintf(r->err, sizeof r->err, "%s", kube_decode_error(d));
	if (r->rc == 0)
		assert_string_equal(r->err, "");
	else
		assert_true(r->err[0] != '\0');
	kube_decode_stats(d, &st);
	r->allocs = st.allocs;
	kube_decode_free(d);
	return r;
}

/* Decodes whole, byte by byte and in 7-byte pieces; all three must agree
 * exactly (allocation counts aside: yajl buffers tokens split across
 * pieces).  Returns the whole-body record. */
static struct rec *
decode_mode(const char *text, size_t len, enum kube_decode_mode mode,
    const char *hint)
{
	struct rec *whole = decode_chunked(text, len, mode, hint, 0);
	size_t pieces[] = { 1, 7 };

	for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++) {
		struct rec *r = decode_chunked(text, len, mode, hint,
		    pieces[i]);

		r->allocs = whole->allocs;
		if (memcmp(whole, r, sizeof *r) != 0)
			fail_msg("decoding in %zu-byte pieces differs from "
			    "decoding at once (errors: \"%s\" vs \"%s\")",
			    pieces[i], whole->err, r->err);
		free(r);
	}
	return whole;
}

static struct rec *
decode_str(const char *text, enum kube_decode_mode mode)
{
	return decode_mode(text, strlen(text), mode, NULL);
}

static struct rec *
decode_ok(const char *text, enum kube_decode_mode mode)
{
	struct rec *r = decode_str(text, mode);

	if (r->rc != 0)
		fail_msg("unexpected error: %s", r->err);
	return r;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

static void
decode_fails(const char *text, enum kube_decode_mode mode,
    const char *needle)
{
	struct rec *r = decode_str(text, mode);

	if (r->rc == 0)
		fail_msg("decoding [%.80s] should have failed", text);
	assert_contains(r->err, "byte ");
	assert_contains(r->err, needle);
	free(r);
}

/* Fixtures are found from the repo root, or under $BGSWITCH_SRCDIR. */
static char *
load_fixture(const char *name, size_t *len)
{
	const char *src = getenv("BGSWITCH_SRCDIR");
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof path, "tests/fixtures/kube/%s", name);
	if (access(path, R_OK) != 0 && src != NULL)
		snprintf(path, sizeof path, "%s/tests/fixtures/kube/%s", src,
		    name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct rec *
decode_fixture(const char *name, enum kube_decode_mode mode)
{
	size_t len;
	char *text = load_fixture(name, &len);
	struct rec *r = decode_mode(text, len, mode, NULL);

	free(text);
	if (r->rc != 0)
		fail_msg("%s: %s", name, r->err);
	return r;
}

/* ---- real fixtures ------------------------------------------------------- */

static void
test_pods_page_with_continue(void **state)
{
	struct rec *r = decode_fixture("pods_1.json", KUBE_DECODE_BODY);
	const struct kube_object *p;

	(void)state;
	assert_int_equal(r->nlists, 1);
	assert_string_equal(r->list.kind, "PodList");
	assert_string_equal(r->list.api_version, "v1");
	assert_string_equal(r->list.resource_version, "53225946");
	assert_string_equal(r->cont, "eyJ2IjoibWV0YS5rOHMua");
	assert_int_equal(r->list.continue_len, 21);
	assert_false(r->list.has_remaining);
	assert_int_equal(r->list.items, 2);
	assert_int_equal(r->nobjs, 2);

	/* A finished build pod being deleted. */
	p = &r->obj[0];
	assert_int_equal(r->ev[0], KUBE_EVENT_ITEM);
	assert_int_equal(p->kind, KUBE_KIND_POD);
	assert_string_equal(p->kind_name, "Pod");
	assert_string_equal(p->api_version, "v1");
	assert_string_equal(p->meta.ns, "my-project");
	assert_string_equal(p->meta.name, "my-ruby-project-2-build");
	assert_string_equal(p->meta.uid, "0c478b50-babb-11e8-ba7e-d094660d31fb");
	assert_string_equal(p->meta.resource_version, "42398462");
	assert_int_equal(p->meta.created, 1537217316);	/* 2018-09-17T20:48:36Z */
	assert_true(p->meta.terminating);
	assert_int_equal(p->meta.deleted, 1537363370);	/* 2018-09-19T13:22:50Z */
	assert_string_equal(p->meta.owner_kind, "Build");
	assert_string_equal(p->meta.owner_name, "my-ruby-project-2");
	assert_int_equal(p->pod.phase, KUBE_PHASE_FAILED);
	assert_string_equal(p->pod.node_name, "dell-r430-20.example.com");
	assert_string_equal(p->pod.pod_ip, "10.129.0.207");
	assert_int_equal(p->pod.ready, KUBE_COND_FALSE);
	assert_int_equal(p->pod.scheduled, KUBE_COND_TRUE);
	assert_int_equal(p->pod.containers, 1);
	assert_int_equal(p->pod.containers_ready, 0);
	assert_int_equal(p->pod.restarts, 0);
	assert_false(p->truncated);
	assert_int_equal(kube_pod_health(p), KUBE_POD_TERMINATING);

	p = &r->obj[1];
	assert_string_equal(p->meta.ns, "customer-logging");
	assert_string_equal(p->meta.name, "redis-1-94zxb");
	assert_int_equal(p->meta.created, 1527193983);
	assert_false(p->meta.terminating);
	assert_string_equal(p->meta.owner_kind, "ReplicationController");
	assert_string_equal(p->meta.owner_name, "redis-1");
	assert_int_equal(p->pod.phase, KUBE_PHASE_RUNNING);
	assert_int_equal(p->pod.ready, KUBE_COND_TRUE);
	assert_string_equal(p->pod.pod_ip, "10.129.0.222");
	assert_int_equal(kube_pod_health(p), KUBE_POD_READY);
	free(r);
}

static void
test_kind_list_of_pods(void **state)
{
	struct rec *r = decode_fixture("pod-list.json", KUBE_DECODE_BODY);
	const struct kube_object *p = &r->obj[0];

	(void)state;
	/* "kind":"List" comes after the items, which carry their own. */
	assert_int_equal(r->nlists, 1);
	assert_string_equal(r->list.kind, "List");
	assert_string_equal(r->list.resource_version, "");
	assert_string_equal(r->cont, "");
	assert_int_equal(r->list.items, 1);
	assert_int_equal(r->nobjs, 1);
	assert_int_equal(p->kind, KUBE_KIND_POD);
	assert_string_equal(p->api_version, "v1");
	assert_string_equal(p->meta.ns, "mssql");
	assert_string_equal(p->meta.name, "mssql-75b8b44f6b-znftp");
	assert_string_equal(p->meta.uid, "");
	assert_string_equal(p->pod.node_name, "node1");
	assert_string_equal(p->pod.pod_ip, "10.244.1.65");
	assert_int_equal(p->pod.phase, KUBE_PHASE_RUNNING);
	/* Its conditions list "status" before "type". */
	assert_int_equal(p->pod.ready, KUBE_COND_TRUE);
	assert_int_equal(p->pod.scheduled, KUBE_COND_TRUE);
	assert_int_equal(p->pod.containers, 1);
	assert_int_equal(p->pod.containers_ready, 1);
	assert_int_equal(p->pod.crashlooping, 0);
	assert_int_equal(kube_pod_health(p), KUBE_POD_READY);
	free(r);
}

static void
test_node_list_2015(void **state)
{
	struct rec *r = decode_fixture("node_list.json", KUBE_DECODE_BODY);
	const struct kube_object *n = &r->obj[0];

	(void)state;
	assert_string_equal(r->list.kind, "NodeList");
	assert_string_equal(r->list.resource_version, "137");
	assert_int_equal(r->nobjs, 1);
	assert_int_equal(n->kind, KUBE_KIND_NODE);
	assert_string_equal(n->kind_name, "Node");
	assert_string_equal(n->meta.name, "127.0.0.1");
	assert_string_equal(n->meta.ns, "");
	assert_string_equal(n->meta.uid, "041143c5-ce39-11e4-ac24-3c970e4a436a");
	assert_int_equal(n->meta.created, 1426770500);	/* 15:08:20+02:00 */
	/* conditions[].kind "Ready" with status "None": not True, not
	 * False. */
	assert_int_equal(n->node.ready, KUBE_COND_UNKNOWN);
	assert_int_equal(kube_node_health(n), KUBE_NODE_UNKNOWN);
	/* Its reason is a sentence, longer than any CamelCase reason. */
	assert_true(n->truncated);
	assert_int_equal(strlen(n->node.ready_reason), KUBE_REASON_MAX - 1);
	assert_true(strncmp(n->node.ready_reason, "Node health check failed",
	    24) == 0);
	assert_string_equal(n->node.kubelet_version, "");
	assert_false(n->node.unschedulable);
	free(r);
}

static void
test_aks_node_list(void **state)
{
	struct rec *r = decode_fixture("get_nodes_response_2.json",
	    KUBE_DECODE_BODY);
	const struct kube_object *n = &r->obj[0];

	(void)state;
	assert_string_equal(r->list.kind, "NodeList");
	assert_string_equal(r->list.resource_version, "4597672");
	assert_int_equal(r->list.items, 1);
	assert_int_equal(r->nobjs, 1);
	assert_int_equal(n->kind, KUBE_KIND_NODE);
	assert_string_equal(n->meta.name, "aks-nodepool1-24816391-vmss000000");
	assert_string_equal(n->meta.uid, "fe073f0a-e6bf-4d68-b4e5-ffaa42b91528");
	assert_string_equal(n->meta.resource_version, "4597521");
	assert_int_equal(n->meta.created, 1626910814);
	/* 18 conditions, most from node-problem-detector; Ready is last. */
	assert_int_equal(n->node.ready, KUBE_COND_TRUE);
	assert_string_equal(n->node.ready_reason, "KubeletReady");
	assert_int_equal(n->node.pressure, 0);
	assert_false(n->node.unschedulable);
	assert_string_equal(n->node.kubelet_version, "v1.19.11");
	/* 2021 AKS: only the older "agentpool" label. */
	assert_string_equal(n->node.agent_pool, "nodepool1");
	assert_false(n->truncated);
	assert_int_equal(kube_node_health(n), KUBE_NODE_READY);
	free(r);
}

static void
test_watch_stream(void **state)
{
	struct rec *r = decode_fixture("watch_stream.json", KUBE_DECODE_WATCH);
	static const char *const rv[] = { "1389", "1390", "1398" };

	(void)state;
	assert_int_equal(r->nobjs, 3);
	assert_int_equal(r->nlists, 0);
	assert_int_equal(r->ev[0], KUBE_EVENT_ADDED);
	assert_int_equal(r->ev[1], KUBE_EVENT_MODIFIED);
	assert_int_equal(r->ev[2], KUBE_EVENT_DELETED);
	for (int i = 0; i < 3; i++) {
		const struct kube_object *p = &r->obj[i];

		assert_int_equal(p->kind, KUBE_KIND_POD);
		assert_string_equal(p->meta.ns, "default");
		assert_string_equal(p->meta.name, "php");
		assert_string_equal(p->meta.uid,
		    "e75f2c07-b047-11e4-89e4-525400c903c1");
		assert_string_equal(p->meta.resource_version, rv[i]);
		assert_int_equal(p->meta.created, 1423478359); /* -05:00 */
		assert_int_equal(p->pod.phase, KUBE_PHASE_PENDING);
		assert_int_equal(p->pod.containers, 1);
		assert_int_equal(p->pod.ready, KUBE_COND_ABSENT);
		assert_int_equal(kube_pod_health(p), KUBE_POD_PENDING);
	}
	free(r);
}

static void
test_watch_node_event(void **state)
{
	struct rec *r = decode_fixture("node_notice.json", KUBE_DECODE_WATCH);
	const struct kube_object *n = &r->obj[0];

	(void)state;
	assert_int_equal(r->nobjs, 1);
	assert_int_equal(r->ev[0], KUBE_EVENT_ADDED);
	assert_int_equal(n->kind, KUBE_KIND_NODE);
	assert_string_equal(n->meta.name, "openshift.local");
	assert_string_equal(n->meta.resource_version, "367410");
	assert_int_equal(n->meta.created, 1512993613);
	assert_int_equal(n->node.ready, KUBE_COND_TRUE);
	assert_string_equal(n->node.ready_reason, "KubeletReady");
	assert_int_equal(n->node.pressure, 0);
	assert_string_equal(n->node.kubelet_version, "v1.7.6+a08f5eeb62");
	assert_string_equal(n->node.agent_pool, "");
	free(r);
}

static void
check_410(const struct rec *r)
{
	const struct kube_object *s = &r->obj[0];

	assert_int_equal(r->nobjs, 1);
	assert_int_equal(r->nlists, 0);
	assert_int_equal(r->ev[0], KUBE_EVENT_STATUS);
	assert_int_equal(s->kind, KUBE_KIND_STATUS);
	assert_string_equal(s->status.status, "Failure");
	assert_string_equal(s->status.reason, "Expired");
	assert_int_equal(s->status.code, 410);
	assert_true(strncmp(s->status.message,
	    "The provided from parameter is too old", 38) == 0);
	assert_true(kube_status_expired(&s->status));
}

static void
test_status_410(void **state)
{
	struct rec *r = decode_fixture("pods_410.json", KUBE_DECODE_BODY);

	(void)state;
	check_410(r);
	free(r);
	/* The same body where a watch stream was expected. */
	r = decode_fixture("pods_410.json", KUBE_DECODE_WATCH);
	check_410(r);
	free(r);
}

static void
test_deployment(void **state)
{
	struct rec *r = decode_fixture("deployment.json", KUBE_DECODE_BODY);
	const struct kube_object *o = &r->obj[0];

	(void)state;
	assert_int_equal(r->nobjs, 1);
	assert_int_equal(r->nlists, 0);
	assert_int_equal(r->ev[0], KUBE_EVENT_OBJECT);
	assert_int_equal(o->kind, KUBE_KIND_DEPLOYMENT);
	assert_string_equal(o->api_version, "apps/v1");
	assert_string_equal(o->meta.ns, "default");
	assert_string_equal(o->meta.name, "foo");
	assert_string_equal(o->meta.resource_version, "51675");
	assert_int_equal(o->meta.generation, 6);
	assert_int_equal(o->deploy.spec_replicas, 3);
	assert_int_equal(o->deploy.replicas, 3);
	assert_int_equal(o->deploy.ready_replicas, 3);
	assert_int_equal(o->deploy.available_replicas, 3);
	assert_int_equal(o->deploy.updated_replicas, 3);
	assert_int_equal(o->deploy.unavailable_replicas, 0);
	assert_int_equal(o->deploy.observed_generation, 6);
	assert_int_equal(o->deploy.available, KUBE_COND_TRUE);
	assert_string_equal(o->deploy.available_reason,
	    "MinimumReplicasAvailable");
	assert_int_equal(o->deploy.progressing, KUBE_COND_TRUE);
	assert_string_equal(o->deploy.progressing_reason,
	    "NewReplicaSetAvailable");
	/* Not the image inside the last-applied annotation or managedFields. */
	assert_string_equal(o->deploy.image, "busybox:1.31.1");
	assert_int_equal(kube_deploy_health(o), KUBE_DEPLOY_AVAILABLE);
	free(r);

	r = decode_fixture("dp.json", KUBE_DECODE_BODY);
	o = &r->obj[0];
	assert_int_equal(o->kind, KUBE_KIND_DEPLOYMENT);
	assert_string_equal(o->meta.ns, "icx");
	assert_string_equal(o->meta.name, "icx-db");
	assert_string_equal(o->meta.uid, "6f6143bc-a5f3-11e9-990f-42010a800218");
	assert_int_equal(o->meta.created, 1563080057);
	assert_int_equal(o->meta.generation, 1);
	assert_int_equal(o->deploy.spec_replicas, 1);
	assert_int_equal(o->deploy.replicas, 1);
	assert_int_equal(o->deploy.ready_replicas, 1);
	assert_int_equal(o->deploy.available_replicas, 1);
	assert_int_equal(o->deploy.updated_replicas, 1);
	assert_int_equal(o->deploy.observed_generation, 1);
	assert_int_equal(o->deploy.available, KUBE_COND_TRUE);
	assert_string_equal(o->deploy.progressing_reason,
	    "NewReplicaSetAvailable");
	assert_string_equal(o->deploy.image, "postgres:9.2-alpine");
	assert_int_equal(kube_deploy_health(o), KUBE_DEPLOY_AVAILABLE);
	free(r);
}

static void
test_generic_lease(void **state)
{
	struct rec *r = decode_fixture("coordination.k8s.io.v1.Lease.json",
	    KUBE_DECODE_BODY);
	const struct kube_object *o = &r->obj[0];

	(void)state;
	assert_int_equal(r->nobjs, 1);
	assert_int_equal(r->ev[0], KUBE_EVENT_OBJECT);
	assert_int_equal(o->kind, KUBE_KIND_OTHER);
	assert_string_equal(o->kind_name, "Lease");
	assert_string_equal(o->api_version, "coordination.k8s.io/v1");
	assert_string_equal(o->meta.ns, "namespaceValue");
	assert_string_equal(o->meta.name, "nameValue");
	assert_string_equal(o->meta.uid, "uidValue");
	assert_string_equal(o->meta.resource_version, "resourceVersionValue");
	assert_int_equal(o->meta.generation, 7);
	assert_int_equal(o->meta.created, 1199149261);
	assert_true(o->meta.terminating);
	assert_int_equal(o->meta.deleted, 1230771661);
	assert_string_equal(o->meta.owner_kind, "kindValue");
	assert_string_equal(o->meta.owner_name, "nameValue");
	free(r);
}

/* ---- synthetic bodies ---------------------------------------------------- */

#define POD_A \
	"{\"metadata\":{\"name\":\"a\",\"namespace\":\"shop\"," \
	"\"resourceVersion\":\"10\"},\"spec\":{\"containers\":[{\"name\":" \
	"\"c\"}]},\"status\":{\"phase\":\"Running\"}}"

static void
test_metadata_after_items(void **state)
{
	struct rec *r;

	(void)state;
	r = decode_ok("{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":["
	    POD_A "," POD_A "],\"metadata\":{\"resourceVersion\":\"77\","
	    "\"continue\":\"tok/en=\",\"remainingItemCount\":12}}",
	    KUBE_DECODE_BODY);
	assert_int_equal(r->nobjs, 2);
	assert_int_equal(r->obj[1].kind, KUBE_KIND_POD);
	assert_string_equal(r->obj[1].meta.name, "a");
	assert_string_equal(r->obj[1].meta.resource_version, "10");
	assert_int_equal(r->nlists, 1);
	assert_string_equal(r->list.resource_version, "77");
	assert_string_equal(r->cont, "tok/en=");
	assert_true(r->list.has_remaining);
	assert_int_equal(r->list.remaining_item_count, 12);
	assert_int_equal(r->list.items, 2);
	free(r);

	/* Even "kind" last: items say nothing of their kind, so they are
	 * generic unless the caller said what it listed. */
	r = decode_ok("{\"items\":[" POD_A "],\"kind\":\"PodList\"}",
	    KUBE_DECODE_BODY);
	assert_int_equal(r->obj[0].kind, KUBE_KIND_OTHER);
	assert_string_equal(r->obj[0].meta.name, "a");
	assert_string_equal(r->list.kind, "PodList");
	free(r);
	r = decode_mode("{\"items\":[" POD_A "],\"kind\":\"PodList\"}",
	    strlen("{\"items\":[" POD_A "],\"kind\":\"PodList\"}"),
	    KUBE_DECODE_BODY, "Pod");
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->obj[0].kind, KUBE_KIND_POD);
	assert_string_equal(r->obj[0].kind_name, "Pod");
	assert_int_equal(r->obj[0].pod.phase, KUBE_PHASE_RUNNING);
	assert_int_equal(r->obj[0].pod.containers, 1);
	free(r);

	/* An empty last page. */
	r = decode_ok("{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":"
	    "\"5\"},\"items\":null}", KUBE_DECODE_BODY);
	assert_int_equal(r->nobjs, 0);
	assert_int_equal(r->nlists, 1);
	assert_int_equal(r->list.items, 0);
	assert_string_equal(r->list.resource_version, "5");
	free(r);
}

static void
test_bookmark(void **state)
{
	struct rec *r = decode_ok(
	    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":"
	    "\"v1\",\"metadata\":{\"resourceVersion\":\"12746\","
	    "\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}}}}\n"
	    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":"
	    "\"v1\",\"metadata\":{\"resourceVersion\":\"12800\"}}}\n",
	    KUBE_DECODE_WATCH);

	(void)state;
	assert_int_equal(r->nobjs, 2);
	assert_int_equal(r->ev[0], KUBE_EVENT_BOOKMARK);
	assert_string_equal(r->obj[0].meta.resource_version, "12746");
	assert_true(r->obj[0].meta.initial_events_end);
	assert_string_equal(r->obj[0].meta.name, "");
	assert_int_equal(r->ev[1], KUBE_EVENT_BOOKMARK);
	assert_string_equal(r->obj[1].meta.resource_version, "12800");
	assert_false(r->obj[1].meta.initial_events_end);
	free(r);
}

static void
test_watch_error_event(void **state)
{
	/* "type" after "object", and no newline between events. */
	struct rec *r = decode_ok(
	    "{\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":"
	    "{\"name\":\"a\",\"resourceVersion\":\"11\"}},\"type\":\"MODIFIED\"}"
	    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
	    "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old "
	    "resource version: 11 (4242)\",\"reason\":\"Expired\",\"code\":410}}",
	    KUBE_DECODE_WATCH);

	(void)state;
	assert_int_equal(r->nobjs, 2);
	assert_int_equal(r->ev[0], KUBE_EVENT_MODIFIED);
	assert_string_equal(r->obj[0].meta.resource_version, "11");
	assert_int_equal(r->ev[1], KUBE_EVENT_ERROR);
	assert_int_equal(r->obj[1].kind, KUBE_KIND_STATUS);
	assert_int_equal(r->obj[1].status.code, 410);
	assert_string_equal(r->obj[1].status.reason, "Expired");
	assert_string_equal(r->obj[1].status.message,
	    "too old resource version: 11 (4242)");
	assert_true(kube_status_expired(&r->obj[1].status));
	free(r);

	/* A Status that does not name its kind is still one, even when the
	 * caller said the stream carries pods. */
	static const char kindless[] = "{\"type\":\"ERROR\",\"object\":{"
	    "\"status\":\"Failure\",\"reason\":\"Gone\",\"code\":410}}\n";
	r = decode_mode(kindless, strlen(kindless), KUBE_DECODE_WATCH, "Pod");
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->ev[0], KUBE_EVENT_ERROR);
	assert_int_equal(r->obj[0].kind, KUBE_KIND_STATUS);
	assert_string_equal(r->obj[0].status.reason, "Gone");
	assert_true(kube_status_expired(&r->obj[0].status));
	free(r);

	/* A stream that ends between events, or before any, is fine. */
	r = decode_ok("", KUBE_DECODE_WATCH);
	assert_int_equal(r->nobjs, 0);
	free(r);
	r = decode_ok("\r\n \n", KUBE_DECODE_WATCH);
	assert_int_equal(r->nobjs, 0);
	free(r);
}

static void
test_crashlooping_pod(void **state)
{
	/* status before spec; an init container that restarted; one
	 * container crash-looping, one failing to pull its image. */
	struct rec *r = decode_ok(
	    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"status\":{"
	    "\"initContainerStatuses\":[{\"name\":\"init\",\"ready\":true,"
	    "\"restartCount\":2,\"state\":{\"terminated\":{\"exitCode\":0,"
	    "\"reason\":\"Completed\"}}}],"
	    "\"containerStatuses\":[{\"name\":\"app\",\"ready\":false,"
	    "\"restartCount\":17,\"state\":{\"waiting\":{\"message\":\"back-off"
	    " 5m0s\",\"reason\":\"CrashLoopBackOff\"}},\"lastState\":{"
	    "\"terminated\":{\"exitCode\":1,\"reason\":\"Error\"}}},"
	    "{\"name\":\"sidecar\",\"ready\":false,\"restartCount\":0,"
	    "\"state\":{\"waiting\":{\"reason\":\"ImagePullBackOff\"}}},"
	    "{\"name\":\"log\",\"ready\":true,\"restartCount\":1,\"state\":{"
	    "\"running\":{\"startedAt\":\"2025-01-01T00:00:00Z\"}}}],"
	    "\"phase\":\"Running\",\"conditions\":[{\"status\":\"False\","
	    "\"type\":\"Ready\",\"reason\":\"ContainersNotReady\"}]},"
	    "\"metadata\":{\"name\":\"pay-1\",\"namespace\":\"payments\","
	    "\"ownerReferences\":[{\"kind\":\"Node\",\"name\":\"n1\"},{\"kind\":"
	    "\"ReplicaSet\",\"name\":\"pay-5d8\",\"controller\":true}]},"
	    "\"spec\":{\"containers\":[{\"name\":\"app\",\"command\":[\"x\"]},"
	    "{\"name\":\"sidecar\"},{\"name\":\"log\"}],\"nodeName\":\"n1\"}}",
	    KUBE_DECODE_BODY);
	const struct kube_object *p = &r->obj[0];

	(void)state;
	assert_int_equal(p->kind, KUBE_KIND_POD);
	assert_int_equal(p->pod.containers, 3);
	assert_int_equal(p->pod.containers_ready, 1);
	assert_int_equal(p->pod.restarts, 2 + 17 + 0 + 1);
	assert_int_equal(p->pod.crashlooping, 1);
	assert_int_equal(p->pod.image_pull_errors, 1);
	assert_string_equal(p->pod.waiting_reason, "CrashLoopBackOff");
	assert_int_equal(p->pod.ready, KUBE_COND_FALSE);
	assert_string_equal(p->meta.owner_kind, "ReplicaSet");
	assert_string_equal(p->meta.owner_name, "pay-5d8");
	assert_int_equal(kube_pod_health(p), KUBE_POD_CRASHLOOP);
	free(r);

	/* Image pull errors alone; and a pod the scheduler cannot place. */
	r = decode_ok("{\"kind\":\"Pod\",\"status\":{\"phase\":\"Pending\","
	    "\"containerStatuses\":[{\"ready\":false,\"restartCount\":0,"
	    "\"state\":{\"waiting\":{\"reason\":\"ErrImagePull\"}}}]}}",
	    KUBE_DECODE_BODY);
	assert_int_equal(r->obj[0].pod.image_pull_errors, 1);
	assert_string_equal(r->obj[0].pod.waiting_reason, "ErrImagePull");
	assert_int_equal(kube_pod_health(&r->obj[0]), KUBE_POD_IMAGE_PULL);
	free(r);
	r = decode_ok("{\"kind\":\"Pod\",\"status\":{\"phase\":\"Pending\","
	    "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\","
	    "\"reason\":\"Unschedulable\"}]}}", KUBE_DECODE_BODY);
	assert_int_equal(r->obj[0].pod.scheduled, KUBE_COND_FALSE);
	assert_string_equal(r->obj[0].pod.scheduled_reason, "Unschedulable");
	assert_int_equal(kube_pod_health(&r->obj[0]), KUBE_POD_UNSCHEDULABLE);
	free(r);
}

static void
test_cordoned_notready_node(void **state)
{
	struct rec *r = decode_ok(
	    "{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"metadata\":{},"
	    "\"items\":[{\"metadata\":{\"name\":\"aks-user-vmss000003\","
	    "\"labels\":{\"agentpool\":\"legacy\",\"kubernetes.azure.com/"
	    "agentpool\":\"user\",\"kubernetes.io/os\":\"linux\"}},"
	    "\"spec\":{\"unschedulable\":true,\"taints\":[{\"key\":"
	    "\"node.kubernetes.io/unschedulable\",\"effect\":\"NoSchedule\"}]},"
	    "\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\","
	    "\"status\":\"True\"},{\"type\":\"DiskPressure\",\"status\":"
	    "\"False\"},{\"type\":\"PIDPressure\",\"status\":\"True\"},"
	    "{\"type\":\"Ready\",\"status\":\"False\",\"reason\":"
	    "\"KubeletNotReady\"}],\"nodeInfo\":{\"kubeletVersion\":"
	    "\"v1.30.5\"}}}]}", KUBE_DECODE_BODY);
	const struct kube_object *n = &r->obj[0];

	(void)state;
	assert_int_equal(n->kind, KUBE_KIND_NODE);
	assert_true(n->node.unschedulable);
	assert_int_equal(n->node.ready, KUBE_COND_FALSE);
	assert_string_equal(n->node.ready_reason, "KubeletNotReady");
	assert_int_equal(n->node.pressure,
	    KUBE_NODE_MEMORY_PRESSURE | KUBE_NODE_PID_PRESSURE);
	/* The AKS label wins over the old one, whatever the order. */
	assert_string_equal(n->node.agent_pool, "user");
	assert_string_equal(n->node.kubelet_version, "v1.30.5");
	assert_int_equal(kube_node_health(n), KUBE_NODE_NOT_READY);
	free(r);

	r = decode_ok("{\"kind\":\"Node\",\"metadata\":{\"labels\":{"
	    "\"kubernetes.azure.com/agentpool\":\"sys\",\"agentpool\":"
	    "\"old\"}}}", KUBE_DECODE_BODY);
	assert_string_equal(r->obj[0].node.agent_pool, "sys");
	assert_int_equal(r->obj[0].node.ready, KUBE_COND_ABSENT);
	assert_int_equal(kube_node_health(&r->obj[0]), KUBE_NODE_UNKNOWN);
	free(r);
}

static void
test_deployment_without_status(void **state)
{
	struct rec *r = decode_ok(
	    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
	    "\"name\":\"web\",\"namespace\":\"shop\",\"generation\":1},"
	    "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
	    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
	    "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"nginx:1.27\"},"
	    "{\"name\":\"b\",\"image\":\"busybox\"}]}}}}", KUBE_DECODE_BODY);
	const struct kube_object *o = &r->obj[0];

	(void)state;
	assert_int_equal(o->kind, KUBE_KIND_DEPLOYMENT);
	assert_int_equal(o->deploy.spec_replicas, 1);	/* the API default */
	assert_int_equal(o->deploy.replicas, 0);
	assert_int_equal(o->deploy.ready_replicas, 0);
	assert_int_equal(o->deploy.observed_generation, 0);
	assert_int_equal(o->deploy.available, KUBE_COND_ABSENT);
	assert_int_equal(o->deploy.progressing, KUBE_COND_ABSENT);
	assert_string_equal(o->deploy.image, "nginx:1.27");
	assert_int_equal(kube_deploy_health(o), KUBE_DEPLOY_PROGRESSING);
	free(r);

	/* replicas: 0 is not "absent"; a stalled rollout. */
	r = decode_ok("{\"kind\":\"Deployment\",\"metadata\":{\"generation\":"
	    "3},\"spec\":{\"replicas\":0},\"status\":{\"observedGeneration\":3,"
	    "\"conditions\":[{\"type\":\"Progressing\",\"status\":\"False\","
	    "\"reason\":\"ProgressDeadlineExceeded\"},{\"type\":\"Available\","
	    "\"status\":\"True\"}]}}", KUBE_DECODE_BODY);
	assert_int_equal(r->obj[0].deploy.spec_replicas, 0);
	assert_int_equal(r->obj[0].deploy.progressing, KUBE_COND_FALSE);
	assert_int_equal(kube_deploy_health(&r->obj[0]), KUBE_DEPLOY_STALLED);
	free(r);
}

static void
test_malformed_and_truncated(void **state)
{
	(void)state;
	decode_fails("{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":"
	    "\"a\"}}", KUBE_DECODE_BODY, "premature EOF (truncated body)");
	decode_fails("{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":"
	    "\"a\",}}]}", KUBE_DECODE_BODY, "parse error");
	decode_fails("{\"kind\":\"Pod\"} {}", KUBE_DECODE_BODY,
	    "trailing garbage");
	decode_fails("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\xff\"}}",
	    KUBE_DECODE_BODY, "invalid bytes in UTF8 string");
	decode_fails("", KUBE_DECODE_BODY, "empty body");
	decode_fails("[1,2]", KUBE_DECODE_BODY, "expected a JSON object at "
	    "the top level, got an array");
	decode_fails("{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\"}}\n"
	    "{\"type\":\"MODIFIED\",\"obj", KUBE_DECODE_WATCH,
	    "premature EOF (truncated body)");
	decode_fails("{\"type\":\"ADDED\"}", KUBE_DECODE_WATCH,
	    "watch event ADDED without \"object\"");
	decode_fails("{\"type\":\"RESYNC\",\"object\":{}}", KUBE_DECODE_WATCH,
	    "watch event type \"RESYNC\"");
	decode_fails("{\"kind\":\"PodList\",\"items\":[]}", KUBE_DECODE_WATCH,
	    "watch event without \"type\"");
	decode_fails("{\"type\":\"ADDED\",\"object\":{}}\n7", KUBE_DECODE_WATCH,
	    "expected a JSON object at the top level, got a number");
}

static void
test_errors_are_sticky_with_offsets(void **state)
{
	static const char bad[] = "{\"kind\":\"Pod\",\"metadata\":{\"name\":x}}";
	struct rec r = { 0 };
	struct kube_decoder *d = kube_decode_new(KUBE_DECODE_BODY, rec_object,
	    NULL, &r);

	(void)state;
	assert_non_null(d);
	assert_string_equal(kube_decode_error(d), "");
	/* The x is at offset 33; the first 20 bytes go in a piece of their
	 * own, so the offset must count across pieces. */
	assert_int_equal(kube_decode_feed(d, bad, 20), 0);
	assert_int_equal(kube_decode_feed(d, bad + 20, sizeof bad - 21), -1);
	assert_contains(kube_decode_error(d), "byte 33: lexical error");
	assert_int_equal(kube_decode_feed(d, "}", 1), -1);
	assert_int_equal(kube_decode_finish(d), -1);
	assert_contains(kube_decode_error(d), "byte 33");
	/* A reset makes it usable again. */
	assert_int_equal(kube_decode_reset(d), 0);
	assert_string_equal(kube_decode_error(d), "");
	assert_int_equal(kube_decode_feed(d, POD_A, strlen(POD_A)), 0);
	assert_int_equal(kube_decode_finish(d), 0);
	assert_int_equal(r.nobjs, 1);
	assert_string_equal(r.obj[0].meta.name, "a");
	kube_decode_free(d);
}

static void
test_wrong_types(void **state)
{
	(void)state;
	decode_fails("{\"kind\":\"Deployment\",\"spec\":{\"replicas\":\"3\"}}",
	    KUBE_DECODE_BODY, "spec.replicas: expected an integer, got a "
	    "string");
	decode_fails("{\"kind\":\"DeploymentList\",\"items\":[{\"spec\":{}},"
	    "{\"spec\":{\"replicas\":1.5}}]}", KUBE_DECODE_BODY,
	    "items[1].spec.replicas: expected a 32-bit integer, got 1.5");
	decode_fails("{\"kind\":\"Pod\",\"status\":{\"containerStatuses\":["
	    "{\"restartCount\":99999999999}]}}", KUBE_DECODE_BODY,
	    "status.containerStatuses[0].restartCount: expected a 32-bit "
	    "integer, got 99999999999");
	decode_fails("{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\","
	    "\"metadata\":{\"name\":[\"a\"]}}}", KUBE_DECODE_WATCH,
	    "object.metadata.name: expected a string, got an array");
	decode_fails("{\"kind\":\"Node\",\"spec\":{\"unschedulable\":\"yes\"}}",
	    KUBE_DECODE_BODY, "spec.unschedulable: expected a boolean, got a "
	    "string");
	decode_fails("{\"kind\":\"PodList\",\"items\":[{},7]}", KUBE_DECODE_BODY,
	    "items[1]: expected an object, got a number");
	decode_fails("{\"kind\":\"Pod\",\"status\":\"Running\"}",
	    KUBE_DECODE_BODY, "status: expected an object, got a string");

	/* The kind arrives after the field: the error waits for it, and is
	 * no error at all for a kind that has no such field. */
	decode_fails("{\"kind\":\"List\",\"items\":[{\"spec\":{\"replicas\":"
	    "\"3\"},\"kind\":\"Deployment\"}]}", KUBE_DECODE_BODY,
	    "items[0].spec.replicas: expected an integer, got a string");
	struct rec *r = decode_ok("{\"kind\":\"List\",\"items\":[{\"spec\":{"
	    "\"replicas\":\"3\"},\"status\":\"weird\",\"kind\":\"Widget\","
	    "\"metadata\":{\"name\":\"w\"}}]}", KUBE_DECODE_BODY);
	assert_int_equal(r->obj[0].kind, KUBE_KIND_OTHER);
	assert_string_equal(r->obj[0].kind_name, "Widget");
	assert_string_equal(r->obj[0].meta.name, "w");
	free(r);
	/* A custom resource's spec is never looked at. */
	r = decode_ok("{\"kind\":\"Widget\",\"spec\":{\"replicas\":\"many\","
	    "\"containers\":7},\"status\":{\"phase\":1}}", KUBE_DECODE_BODY);
	assert_int_equal(r->obj[0].kind, KUBE_KIND_OTHER);
	free(r);
}

/* Builds {"kind":"Pod","metadata":{"name":"x","junk":[[[...1...]]]}}. */
static char *
nested(int depth)
{
	size_t n = (size_t)depth * 2 + 128;
	char *s = malloc(n), *p = s;

	assert_non_null(s);
	p += sprintf(p, "{\"kind\":\"Pod\",\"metadata\":{\"junk\":");
	for (int i = 0; i < depth; i++)
		*p++ = '[';
	*p++ = '1';
	for (int i = 0; i < depth; i++)
		*p++ = ']';
	sprintf(p, ",\"name\":\"x\"}}");
	return s;
}

static void
test_deep_and_huge_members_skipped(void **state)
{
	char *s = nested(KUBE_DECODE_MAX_DEPTH - 10);
	struct rec *r = decode_ok(s, KUBE_DECODE_BODY);
	size_t big = 1 << 20, at;
	char *huge;

	(void)state;
	assert_int_equal(r->nobjs, 1);
	assert_string_equal(r->obj[0].meta.name, "x");
	free(r);
	free(s);

	s = nested(KUBE_DECODE_MAX_DEPTH + 1);
	decode_fails(s, KUBE_DECODE_BODY, "nested deeper than 256 levels");
	free(s);

	/* A 1 MiB annotation and a 1 MiB unknown member: skipped, and
	 * nothing of them is kept. */
	huge = malloc(2 * big + 256);
	assert_non_null(huge);
	at = (size_t)sprintf(huge, "{\"kind\":\"Pod\",\"metadata\":{"
	    "\"annotations\":{\"a\":\"");
	memset(huge + at, 'x', big);
	at += big;
	at += (size_t)sprintf(huge + at, "\"},\"name\":\"y\"},\"zz\":[\"");
	memset(huge + at, 'z', big);
	at += big;
	strcpy(huge + at, "\"]}");
	r = decode_chunked(huge, strlen(huge), KUBE_DECODE_BODY, NULL, 4096);
	assert_int_equal(r->rc, 0);
	assert_string_equal(r->obj[0].meta.name, "y");
	assert_false(r->obj[0].truncated);
	free(r);
	free(huge);
}

static void
test_long_strings_truncated(void **state)
{
	char body[1024], name[400];
	struct rec *r;

	(void)state;
	/* 300 bytes: cut to the 253 a name may have. */
	memset(name, 'n', 300);
	name[300] = '\0';
	snprintf(body, sizeof body, "{\"kind\":\"Pod\",\"metadata\":{\"name\":"
	    "\"%s\",\"uid\":\"0c478b50-babb-11e8-ba7e-d094660d31fb-and-more\"}}",
	    name);
	r = decode_ok(body, KUBE_DECODE_BODY);
	assert_true(r->obj[0].truncated);
	assert_int_equal(strlen(r->obj[0].meta.name), KUBE_NAME_MAX - 1);
	assert_int_equal(strlen(r->obj[0].meta.uid), KUBE_UID_MAX - 1);
	free(r);

	/* 252 ASCII bytes then "é" (2 bytes): never cut inside a character. */
	memset(name, 'n', 252);
	strcpy(name + 252, "\xc3\xa9");
	snprintf(body, sizeof body, "{\"kind\":\"Pod\",\"metadata\":{\"name\":"
	    "\"%s\"}}", name);
	r = decode_ok(body, KUBE_DECODE_BODY);
	assert_true(r->obj[0].truncated);
	assert_int_equal(strlen(r->obj[0].meta.name), 252);
	free(r);

	/* Escapes are decoded before the copy. */
	r = decode_ok("{\"kind\":\"Status\",\"message\":\"a\\\"b\\u00e9\\n\","
	    "\"code\":500}", KUBE_DECODE_BODY);
	assert_string_equal(r->obj[0].status.message, "a\"b\xc3\xa9\n");
	assert_false(r->obj[0].truncated);
	free(r);
}

static int
stop_after_one(void *ctx, enum kube_event ev, const struct kube_object *o)
{
	(void)ev;
	(void)o;
	return ++*(int *)ctx >= 1 ? 42 : 0;
}

static void
test_callback_stops(void **state)
{
	int calls = 0;
	struct kube_decoder *d = kube_decode_new(KUBE_DECODE_WATCH,
	    stop_after_one, NULL, &calls);
	static const char two[] = "{\"type\":\"ADDED\",\"object\":{}}"
	    "{\"type\":\"ADDED\",\"object\":{}}";

	(void)state;
	assert_int_equal(kube_decode_feed(d, two, sizeof two - 1), -1);
	assert_int_equal(calls, 1);
	assert_contains(kube_decode_error(d), "stopped by the object callback "
	    "(it returned 42)");
	kube_decode_free(d);
}

static void
test_pages_and_no_allocation_per_item(void **state)
{
	struct rec r = { 0 };
	struct kube_decoder *d = kube_decode_new(KUBE_DECODE_BODY, rec_object,
	    rec_list, &r);
	struct kube_decode_stats st;
	uint64_t after_first;
	char *page = malloc(200 * sizeof POD_A + 256);
	size_t at;

	(void)state;
	assert_non_null(page);
	/* Page 1: one pod. */
	at = (size_t)sprintf(page, "{\"kind\":\"PodList\",\"metadata\":{"
	    "\"continue\":\"c1\"},\"items\":[" POD_A "]}");
	assert_int_equal(kube_decode_feed(d, page, at), 0);
	assert_int_equal(kube_decode_finish(d), 0);
	assert_string_equal(r.cont, "c1");
	kube_decode_stats(d, &st);
	after_first = st.allocs;

	/* Page 2: 200 pods of the same shape, no continue: only the parser's
	 * fixed per-body allocations may be added. */
	assert_int_equal(kube_decode_reset(d), 0);
	assert_string_equal(kube_decode_list(d)->continue_token, "");
	at = (size_t)sprintf(page, "{\"kind\":\"PodList\",\"items\":[");
	for (int i = 0; i < 200; i++)
		at += (size_t)sprintf(page + at, "%s" POD_A, i ? "," : "");
	at += (size_t)sprintf(page + at, "]}");
	r.nobjs = 0;
	assert_int_equal(kube_decode_feed(d, page, at), 0);
	assert_int_equal(kube_decode_finish(d), 0);
	assert_int_equal(r.nobjs, 200);
	assert_int_equal(r.nlists, 2);
	assert_string_equal(r.cont, "");
	assert_int_equal(r.list.items, 200);
	kube_decode_stats(d, &st);
	assert_true(st.allocs - after_first <= 8);
	assert_int_equal(st.objects, 201);
	kube_decode_free(d);
	free(page);
}

static void
test_time_parse(void **state)
{
	static const struct {
		const char *s;
		int ok;
		int64_t t;
	} cases[] = {
		{ "2018-09-17T20:48:36Z", 1, 1537217316 },
		{ "2015-03-19T15:08:20+02:00", 1, 1426770500 },
		{ "2015-02-09T05:39:19-05:00", 1, 1423478359 },
		{ "2003-01-01T01:01:01.000003Z", 1, 1041382861 },
		{ "2021-08-04T03:03Z", 1, 1628046180 },	/* no seconds */
		{ "1969-12-31T23:59:59Z", 1, -1 },
		{ "2020-02-29T23:59:60Z", 1, 1583020800 },	/* leap second */
		{ "2020-02-30T00:00:00Z", 0, 0 },
		{ "2018-13-01T00:00:00Z", 0, 0 },
		{ "2018-09-17T20:48:36", 0, 0 },		/* no zone */
		{ "2018-09-17T20:48:36Zjunk", 0, 0 },
		{ "2018-09-17", 0, 0 },
		{ "", 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int64_t t = 12345;
		int rc = kube_time_parse(cases[i].s, strlen(cases[i].s), &t);

		if (rc != (cases[i].ok ? 0 : -1))
			fail_msg("%s: rc %d", cases[i].s, rc);
		if (cases[i].ok && t != cases[i].t)
			fail_msg("%s: %lld, want %lld", cases[i].s, (long long)t,
			    (long long)cases[i].t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pods_page_with_continue),
		cmocka_unit_test(test_kind_list_of_pods),
		cmocka_unit_test(test_node_list_2015),
		cmocka_unit_test(test_aks_node_list),
		cmocka_unit_test(test_watch_stream),
		cmocka_unit_test(test_watch_node_event),
		cmocka_unit_test(test_status_410),
		cmocka_unit_test(test_deployment),
		cmocka_unit_test(test_generic_lease),
		cmocka_unit_test(test_metadata_after_items),
		cmocka_unit_test(test_bookmark),
		cmocka_unit_test(test_watch_error_event),
		cmocka_unit_test(test_crashlooping_pod),
		cmocka_unit_test(test_cordoned_notready_node),
		cmocka_unit_test(test_deployment_without_status),
		cmocka_unit_test(test_malformed_and_truncated),
		cmocka_unit_test(test_errors_are_sticky_with_offsets),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_deep_and_huge_members_skipped),
		cmocka_unit_test(test_long_strings_truncated),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_pages_and_no_allocation_per_item),
		cmocka_unit_test(test_time_parse),
	};

	return cmocka_run_group_tests_name("kube_decode", tests, NULL, NULL);
}
