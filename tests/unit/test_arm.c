/*
 * test_arm.c — the ARM client against a scripted Resource Manager.
 *
 * A libmicrohttpd server on 127.0.0.1 plays both Entra's token endpoint
 * (tokens "tok-1", "tok-2", ... so a test can see a refetch) and ARM, whose
 * answers each test scripts with a small state machine: throttling, 5xx,
 * error bodies, ETags, and long-running operations through
 * Azure-AsyncOperation, Location or provisioningState.  The client runs
 * with millisecond backoff and poll intervals so the whole file takes a few
 * seconds; the one test about Retry-After waits the second it asks for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "azure/arm.h"
#include "azure/credential.h"
#include "src/http.h"
#include "src/log.h"
#include "tests/lib/testsrv.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TENANT	"tenant-1"
#define SUB	"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-aks-prod"
#define AKS	SUB "/providers/Microsoft.ContainerService/managedClusters/aks-prod-green"
#define AGW	SUB "/providers/Microsoft.Network/applicationGateways/agw-prod"
#define REC	SUB "/providers/Microsoft.Network/privateDnsZones/priv.contoso.com/A/aks"

static void sfmt(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
sfmt(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

/* ---- the scripted server ---------------------------------------------------------- */

struct rq {
	char method[8];
	char path[512];
	char query[512];
	char body[4096];
	char auth[256];
	char if_match[128];
	char client_req_id[128];
	char user_agent[128];
	char ctype[128];
};

struct reply {
	unsigned status;
	char body[8192];
	char hdr[6][2][600];
	int nh;
};

struct srv;
typedef void (*route_fn)(struct srv *s, const struct rq *q, struct reply *r);

struct srv {
	struct MHD_Daemon *d;
	char base[64];
	route_fn route;
	void *ctx;
	atomic_int arm_hits;		/* requests other than the token endpoint */
	atomic_int token_hits;
	pthread_mutex_t lock;
	char log[64][640];		/* "METHOD path?query" of ARM requests (under lock) */
	int nlog;
	struct rq last;			/* last ARM request (under lock) */
	int step;			/* the route's state (under lock) */
};

static void
hdr(struct reply *r, const char *name, const char *value)
{
	assert_true(r->nh < 6);
	sfmt(r->hdr[r->nh][0], sizeof r->hdr[0][0], "%s", name);
	sfmt(r->hdr[r->nh][1], sizeof r->hdr[0][1], "%s", value);
	r->nh++;
}

static void
body(struct reply *r, unsigned status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
body(struct reply *r, unsigned status, const char *fmt, ...)
{
	va_list ap;

	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->body, sizeof r->body, fmt, ap);
	va_end(ap);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **con_cls)
{
	struct srv *s = cls;
	struct rq *q;
	struct reply *r;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *in;

	(void)version;
	in = testsrv_body(con_cls, data, size, &ret);
	if (in == NULL)
		return ret;
	q = calloc(1, sizeof *q);
	r = calloc(1, sizeof *r);
	if (q == NULL || r == NULL) {
		free(q);
		free(r);
		return MHD_NO;
	}
	sfmt(q->method, sizeof q->method, "%s", method);
	sfmt(q->path, sizeof q->path, "%s", url);
	testsrv_query(conn, q->query, sizeof q->query);
	sfmt(q->body, sizeof q->body, "%s", in);
	testsrv_header(conn, "Authorization", q->auth, sizeof q->auth);
	testsrv_header(conn, "If-Match", q->if_match, sizeof q->if_match);
	testsrv_header(conn, "x-ms-client-request-id", q->client_req_id, sizeof q->client_req_id);
	testsrv_header(conn, "User-Agent", q->user_agent, sizeof q->user_agent);
	testsrv_header(conn, "Content-Type", q->ctype, sizeof q->ctype);
	if (strstr(url, "/oauth2/v2.0/token") != NULL) {
		int n = atomic_fetch_add(&s->token_hits, 1) + 1;

		body(r, 200, "{\"token_type\":\"Bearer\",\"expires_in\":3600,\"access_token\":\"tok-%d\"}", n);
	} else {
		atomic_fetch_add(&s->arm_hits, 1);
		body(r, 404, "{\"error\":{\"code\":\"NoRoute\",\"message\":\"no route\"}}");
		pthread_mutex_lock(&s->lock);
		if (s->nlog < 64)
			sfmt(s->log[s->nlog++], sizeof s->log[0], "%s %s%s%s", method, url,
			    q->query[0] ? "?" : "", q->query);
		s->last = *q;
		pthread_mutex_unlock(&s->lock);
		s->route(s, q, r);
	}
	resp = MHD_create_response_from_buffer(strlen(r->body), r->body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	for (int i = 0; i < r->nh; i++)
		MHD_add_response_header(resp, r->hdr[i][0], r->hdr[i][1]);
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	free(q);
	free(r);
	return ret;
}

static struct srv *
srv_start(route_fn route, void *ctx)
{
	struct srv *s = calloc(1, sizeof *s);
	int port;

	assert_non_null(s);
	s->route = route;
	s->ctx = ctx;
	pthread_mutex_init(&s->lock, NULL);
	s->d = testsrv_daemon(handler, s, NULL, NULL, &port);
	sfmt(s->base, sizeof s->base, "http://127.0.0.1:%d", port);
	return s;
}

static void
srv_stop(struct srv *s)
{
	MHD_stop_daemon(s->d);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* The route's step counter, incremented; under the server lock. */
static int
next_step(struct srv *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = ++s->step;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- the client under test ------------------------------------------------------------ */

struct env {
	const char *kv[8][2];
	int n;
};

static const char *
env_get(void *ctx, const char *name)
{
	struct env *e = ctx;

	for (int i = 0; i < e->n; i++)
		if (strcmp(e->kv[i][0], name) == 0)
			return e->kv[i][1];
	return NULL;
}

struct fixture {
	struct srv *s;
	struct env env;
	struct az_cred *cred;
	struct arm_client *arm;
};

/* A client whose credential gets tokens from S and whose ARM endpoint is
 * ENDPOINT (S itself when NULL), with fast retries and polls. */
static void
fixture_init(struct fixture *f, route_fn route, void *ctx, const char *endpoint)
{
	struct az_cred_config cc = { .kind = AZ_CRED_ENVIRONMENT };
	struct arm_client_config ac = { 0 };
	char err[512];

	memset(f, 0, sizeof *f);
	f->s = srv_start(route, ctx);
	f->env.kv[0][0] = "AZURE_TENANT_ID";
	f->env.kv[0][1] = TENANT;
	f->env.kv[1][0] = "AZURE_CLIENT_ID";
	f->env.kv[1][1] = "client-1";
	f->env.kv[2][0] = "AZURE_CLIENT_SECRET";
	f->env.kv[2][1] = "secret-1";
	f->env.kv[3][0] = "AZURE_AUTHORITY_HOST";
	f->env.kv[3][1] = f->s->base;
	f->env.n = 4;
	cc.getenv_fn = env_get;
	cc.getenv_ctx = &f->env;
	f->cred = az_cred_new(&cc, err, sizeof err);
	if (f->cred == NULL)
		fail_msg("az_cred_new: %s", err);
	ac.endpoint = endpoint != NULL ? endpoint : f->s->base;
	ac.scope = "https://management.azure.com/.default";
	ac.cred = f->cred;
	ac.max_attempts = 4;
	ac.backoff_base_ms = 20;
	ac.backoff_cap_ms = 80;
	ac.poll_min_ms = 10;
	ac.poll_max_ms = 40;
	ac.poll_default_ms = 20;
	ac.call_timeout_ms = 10000;
	ac.lro_timeout_ms = 10000;
	f->arm = arm_client_new(&ac, err, sizeof err);
	if (f->arm == NULL)
		fail_msg("arm_client_new: %s", err);
}

static void
fixture_done(struct fixture *f)
{
	arm_client_free(f->arm);
	az_cred_free(f->cred);
	srv_stop(f->s);
}

static void
assert_log(struct srv *s, int i, const char *want)
{
	char got[640];

	pthread_mutex_lock(&s->lock);
	sfmt(got, sizeof got, "%s", i < s->nlog ? s->log[i] : "(none)");
	pthread_mutex_unlock(&s->lock);
	if (strcmp(got, want) != 0)
		fail_msg("request %d: got \"%s\", want \"%s\"", i, got, want);
}

static double
now_s(void)
{
	return (double)http_now_ms() / 1000.0;
}

/* ---- basics ---------------------------------------------------------------------------- */

static void
route_basic(struct srv *s, const struct rq *q, struct reply *r)
{
	(void)s;
	if (strcmp(q->method, "GET") == 0 && strstr(q->path, "managedClusters/aks-prod-green")) {
		hdr(r, "ETag", "\"etag-7\"");
		hdr(r, "x-ms-request-id", "rid-1");
		hdr(r, "x-ms-correlation-request-id", "corr-1");
		body(r, 200, "{\"name\":\"aks-prod-green\",\"properties\":{\"provisioningState\":"
		    "\"Succeeded\",\"kubernetesVersion\":\"1.30.5\"}}");
	} else if (strstr(q->path, "/A/aks") != NULL) {
		/* record sets carry their etag in the body */
		body(r, 200, "{\"name\":\"aks\",\"etag\":\"rec-etag-3\",\"properties\":{\"ttl\":300}}");
	} else if (strstr(q->path, "/metrics") != NULL) {
		body(r, 200, "{\"value\":[]}");
	}
}

static void
test_url_headers_etag(void **state)
{
	struct fixture f;
	struct arm_response r;
	struct rq q;
	struct arm_opts o = { 0 };
	char url[256];

	(void)state;
	fixture_init(&f, route_basic, NULL, NULL);
	assert_int_equal(arm_get(f.arm, AKS, NULL, &r), ARM_OK);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"kubernetesVersion\":\"1.30.5\""));
	assert_string_equal(r.etag, "\"etag-7\"");
	assert_string_equal(r.request_id, "rid-1");
	assert_string_equal(r.correlation_id, "corr-1");
	assert_int_equal(r.attempts, 1);
	q = f.s->last;
	assert_string_equal(q.query, "api-version=2026-08-01");
	assert_string_equal(q.auth, "Bearer tok-1");
	assert_int_equal(strlen(q.client_req_id), 36);
	assert_int_equal(q.client_req_id[14], '4');
	assert_int_equal(strncmp(q.user_agent, "bgswitch/", 9), 0);
	assert_int_equal(q.if_match[0], '\0');
	arm_response_free(&r);

	/* Record set: api-version of privateDnsZones, ETag from the body. */
	assert_int_equal(arm_get(f.arm, REC, NULL, &r), ARM_OK);
	assert_string_equal(r.etag, "rec-etag-3");
	assert_string_equal(f.s->last.query, "api-version=2024-06-01");
	arm_response_free(&r);

	/* A query already there is kept, the version appended. */
	assert_int_equal(arm_get(f.arm, AGW "/providers/Microsoft.Insights/metrics?metricnames="
	    "ResponseStatus&aggregation=Total", NULL, &r), ARM_OK);
	assert_string_equal(f.s->last.query, "metricnames=ResponseStatus&aggregation=Total&"
	    "api-version=2023-10-01");
	arm_response_free(&r);

	/* An absolute URL on the endpoint (nextLink) keeps its own version. */
	sfmt(url, sizeof url, "%s" AKS "?api-version=2017-08-31", f.s->base);
	assert_int_equal(arm_get(f.arm, url, NULL, &r), ARM_OK);
	assert_string_equal(f.s->last.query, "api-version=2017-08-31");
	arm_response_free(&r);

	/* Unknown types need an explicit version; foreign hosts never see the token. */
	assert_int_equal(arm_get(f.arm, SUB "/providers/Microsoft.Web/sites/x", NULL, &r),
	    ARM_E_INVALID);
	assert_non_null(strstr(r.message, "no api-version known"));
	arm_response_free(&r);
	o.api_version = "2024-04-01";
	assert_int_equal(arm_get(f.arm, SUB "/providers/Microsoft.Web/sites/x", &o, &r),
	    ARM_E_STATUS);
	assert_string_equal(f.s->last.query, "api-version=2024-04-01");
	arm_response_free(&r);
	assert_int_equal(arm_get(f.arm, "https://evil.example.com" AKS, NULL, &r), ARM_E_INVALID);
	assert_non_null(strstr(r.message, "refusing to send the ARM token"));
	arm_response_free(&r);
	assert_int_equal(arm_get(f.arm, "relative/path", NULL, &r), ARM_E_INVALID);
	arm_response_free(&r);
	assert_int_equal(arm_get(f.arm, AKS "\r\nX: y", NULL, &r), ARM_E_INVALID);
	arm_response_free(&r);
	assert_int_equal(atomic_load(&f.s->token_hits), 1);	/* one token for all of it */
	fixture_done(&f);
}

static void
test_api_versions(void **state)
{
	char label[128];

	(void)state;
	assert_string_equal(arm_api_version(AKS), "2026-08-01");
	assert_string_equal(arm_api_version(AKS "/listClusterUserCredential"), "2026-08-01");
	assert_string_equal(arm_api_version(AGW), "2026-03-01");
	assert_string_equal(arm_api_version(AGW "/backendhealth"), "2026-03-01");
	assert_string_equal(arm_api_version(REC), "2024-06-01");
	assert_string_equal(arm_api_version(SUB "/providers/microsoft.network/PRIVATEDNSZONES/z"),
	    "2024-06-01");
	assert_string_equal(arm_api_version(AGW "/providers/Microsoft.Insights/metrics"),
	    "2023-10-01");
	assert_string_equal(arm_api_version(SUB "/providers/Microsoft.Authorization/permissions"),
	    "2022-04-01");
	assert_null(arm_api_version(SUB));
	assert_null(arm_api_version("/providers/Microsoft.Network"));
	arm_resource_label(AKS, label, sizeof label);
	assert_string_equal(label, "managedClusters/aks-prod-green");
	arm_resource_label(REC "?api-version=1", label, sizeof label);
	assert_string_equal(label, "privateDnsZones/priv.contoso.com/A/aks");
	arm_resource_label("https://management.azure.com" AKS "/stop", label, sizeof label);
	assert_string_equal(label, "managedClusters/aks-prod-green/stop");
	arm_resource_label(SUB, label, sizeof label);
	assert_string_equal(label, "resourceGroups/rg-aks-prod");
	assert_string_equal(arm_rc_name(ARM_E_PRECONDITION), "precondition failed");
}

/* ---- retries ------------------------------------------------------------------------------ */

struct script {
	const char *plan;	/* one status per attempt, e.g. "503,503,200" */
	const char *retry_after;
};

static void
route_script(struct srv *s, const struct rq *q, struct reply *r)
{
	struct script *x = s->ctx;
	int n = next_step(s), code = 200;
	const char *p = x->plan;

	(void)q;
	for (int i = 1; i < n && p != NULL; i++) {
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	if (p != NULL)
		code = atoi(p);
	if (code == 200) {
		body(r, 200, "{\"id\":\"x\",\"properties\":{\"provisioningState\":\"Succeeded\"}}");
		return;
	}
	if (x->retry_after != NULL)
		hdr(r, "Retry-After", x->retry_after);
	hdr(r, "x-ms-request-id", "rid-fail");
	body(r, (unsigned)code, "{\"error\":{\"code\":\"%s\",\"message\":\"scripted %d\"}}",
	    code == 429 ? "TooManyRequests" : "InternalServerError", code);
}

static void
test_retry_429_retry_after(void **state)
{
	struct script x = { "429,200", "1" };
	struct fixture f;
	struct arm_response r;
	double t0;

	(void)state;
	fixture_init(&f, route_script, &x, NULL);
	t0 = now_s();
	assert_int_equal(arm_get(f.arm, AKS, NULL, &r), ARM_OK);
	assert_true(now_s() - t0 >= 0.95);
	assert_true(now_s() - t0 < 3.0);
	assert_int_equal(r.attempts, 2);
	assert_int_equal(atomic_load(&f.s->arm_hits), 2);
	arm_response_free(&r);
	fixture_done(&f);
}

static void
test_retry_503_twice(void **state)
{
	struct script x = { "503,503,200", NULL };
	struct fixture f;
	struct arm_response r;

	(void)state;
	fixture_init(&f, route_script, &x, NULL);
	assert_int_equal(arm_put(f.arm, AKS, "{}", NULL, &r), ARM_OK);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(atomic_load(&f.s->arm_hits), 3);
	assert_string_equal(f.s->last.ctype, "application/json");
	assert_string_equal(f.s->last.body, "{}");
	arm_response_free(&r);
	fixture_done(&f);
}

static void
test_retries_exhausted(void **state)
{
	struct script x = { "503,503,503,503,503", NULL };
	struct fixture f;
	struct arm_response r;

	(void)state;
	fixture_init(&f, route_script, &x, NULL);
	assert_int_equal(arm_get(f.arm, AKS, NULL, &r), ARM_E_STATUS);
	assert_int_equal(r.attempts, 4);
	assert_int_equal(r.status, 503);
	assert_non_null(strstr(r.message, "GET managedClusters/aks-prod-green: 503 "
	    "InternalServerError: scripted 503 (request id rid-fail)"));
	arm_response_free(&r);
	fixture_done(&f);
}

static void
test_post_500_not_retried(void **state)
{
	struct script x = { "500,200", NULL };
	struct fixture f;
	struct arm_response r;
	struct arm_opts o = { .idempotent = 1 };

	(void)state;
	fixture_init(&f, route_script, &x, NULL);
	assert_int_equal(arm_post(f.arm, AKS "/stop", NULL, NULL, &r), ARM_E_STATUS);
	assert_int_equal(r.status, 500);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(atomic_load(&f.s->arm_hits), 1);
	arm_response_free(&r);
	/* A POST the caller marks idempotent is retried. */
	f.s->step = 0;
	assert_int_equal(arm_post(f.arm, AKS "/listClusterUserCredential", NULL, &o, &r), ARM_OK);
	assert_int_equal(r.attempts, 2);
	arm_response_free(&r);
	/* A 429 means "not done": even a plain POST is retried. */
	x.plan = "429,200";
	f.s->step = 0;
	assert_int_equal(arm_post(f.arm, AKS "/stop", NULL, NULL, &r), ARM_OK);
	assert_int_equal(r.attempts, 2);
	arm_response_free(&r);
	fixture_done(&f);
}

static void
test_connection_refused(void **state)
{
	struct fixture f;
	struct arm_response r;
	char endpoint[64];

	(void)state;
	sfmt(endpoint, sizeof endpoint, "http://127.0.0.1:%d/", testsrv_closed_port());
	fixture_init(&f, route_basic, NULL, endpoint);
	assert_int_equal(arm_get(f.arm, AKS, NULL, &r), ARM_E_TRANSPORT);
	assert_int_equal(r.attempts, 4);
	assert_non_null(strstr(r.message, "GET managedClusters/aks-prod-green: "));
	assert_non_null(strstr(r.message, "after retries"));
	arm_response_free(&r);
	assert_int_equal(arm_delete(f.arm, AKS, NULL, &r), ARM_E_TRANSPORT);
	assert_int_equal(r.attempts, 4);
	arm_response_free(&r);
	/* The POST may have reached ARM before the connection broke: once. */
	assert_int_equal(arm_post(f.arm, AKS "/stop", NULL, NULL, &r), ARM_E_TRANSPORT);
	assert_int_equal(r.attempts, 1);
	arm_response_free(&r);
	fixture_done(&f);
}

/* ---- errors -------------------------------------------------------------------------------- */

static void
route_errors(struct srv *s, const struct rq *q, struct reply *r)
{
	(void)s;
	hdr(r, "x-ms-request-id", "8f1f-404");
	hdr(r, "x-ms-correlation-request-id", "c0rr-404");
	if (strstr(q->path, "aks-missing") != NULL)
		body(r, 404, "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"The Resource "
		    "'Microsoft.ContainerService/managedClusters/aks-missing' under resource group "
		    "'rg-aks-prod' was not found.\"}}");
	else if (strstr(q->path, "aks-old") != NULL)
		body(r, 400, "{\"code\":\"InvalidParameter\",\"message\":\"old shape\"}");
	else if (strstr(q->path, "aks-html") != NULL)
		body(r, 502, "<html><head><title>502 Bad Gateway</title></head></html>");
	else if (strstr(q->path, "aks-details") != NULL)
		body(r, 409, "{\"error\":{\"code\":\"OperationNotAllowed\",\"message\":\"Operation is "
		    "not allowed\",\"target\":\"properties.kubernetesVersion\",\"details\":[{\"code\":"
		    "\"ChildA\",\"message\":\"first\"},{\"code\":\"ChildB\",\"message\":\"second\"},"
		    "{\"code\":\"ChildC\",\"message\":\"third\"}]}}");
	else if (strstr(q->path, "aks-empty") != NULL)
		body(r, 403, "%s", "");
	else
		body(r, 400, "{\"error\":\"a string\",\"message\":[1,2]}");
}

static void
test_error_messages(void **state)
{
	struct fixture f;
	struct arm_response r;

	(void)state;
	fixture_init(&f, route_errors, NULL, NULL);
	assert_int_equal(arm_get(f.arm, SUB "/providers/Microsoft.ContainerService/managedClusters/"
	    "aks-missing", NULL, &r), ARM_E_STATUS);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.error_code, "ResourceNotFound");
	assert_string_equal(r.message, "GET managedClusters/aks-missing: 404 ResourceNotFound: "
	    "The Resource 'Microsoft.ContainerService/managedClusters/aks-missing' under resource "
	    "group 'rg-aks-prod' was not found. (request id 8f1f-404, correlation id c0rr-404)");
	arm_response_free(&r);

	assert_int_equal(arm_put(f.arm, SUB "/providers/Microsoft.ContainerService/managedClusters/"
	    "aks-old", "{}", NULL, &r), ARM_E_STATUS);
	assert_string_equal(r.error_code, "InvalidParameter");
	assert_non_null(strstr(r.message, "PUT managedClusters/aks-old: 400 InvalidParameter: old "
	    "shape"));
	arm_response_free(&r);

	assert_int_equal(arm_post(f.arm, SUB "/providers/Microsoft.ContainerService/managedClusters/"
	    "aks-html/stop", NULL, NULL, &r), ARM_E_STATUS);
	assert_non_null(strstr(r.message, "502 (not an ARM error body: \"<html><head><title>502"));
	arm_response_free(&r);

	assert_int_equal(arm_put(f.arm, SUB "/providers/Microsoft.ContainerService/managedClusters/"
	    "aks-details", "{}", NULL, &r), ARM_E_STATUS);
	assert_non_null(strstr(r.message, "409 OperationNotAllowed: Operation is not allowed "
	    "(target properties.kubernetesVersion); details: ChildA: first; ChildB: second"));
	assert_null(strstr(r.message, "ChildC"));
	arm_response_free(&r);

	assert_int_equal(arm_delete(f.arm, SUB "/providers/Microsoft.ContainerService/"
	    "managedClusters/aks-empty", NULL, &r), ARM_E_STATUS);
	assert_non_null(strstr(r.message, "403 (empty answer)"));
	arm_response_free(&r);

	assert_int_equal(arm_get(f.arm, SUB "/providers/Microsoft.ContainerService/managedClusters/"
	    "aks-weird", NULL, &r), ARM_E_STATUS);
	assert_non_null(strstr(r.message, "GET managedClusters/aks-weird: 400"));
	arm_response_free(&r);
	fixture_done(&f);
}

/* ---- ETags ---------------------------------------------------------------------------------- */

static void
route_etag(struct srv *s, const struct rq *q, struct reply *r)
{
	(void)s;
	if (strcmp(q->method, "PUT") != 0)
		return;
	if (strcmp(q->if_match, "\"etag-2\"") != 0) {
		hdr(r, "x-ms-request-id", "rid-412");
		body(r, 412, "{\"error\":{\"code\":\"PreconditionFailed\",\"message\":\"The "
		    "precondition given in one or more of the request-header fields evaluated to false "
		    "when it was tested on the server.\"}}");
		return;
	}
	hdr(r, "ETag", "\"etag-3\"");
	body(r, 200, "{\"name\":\"aks\",\"etag\":\"etag-3\",\"properties\":{\"provisioningState\":"
	    "\"Succeeded\",\"ttl\":60}}");
}

static void
test_if_match_412(void **state)
{
	struct fixture f;
	struct arm_response r;

	(void)state;
	fixture_init(&f, route_etag, NULL, NULL);
	assert_int_equal(arm_put_if_match(f.arm, REC, "{\"properties\":{\"ttl\":60}}",
	    "\"etag-1\"", NULL, &r), ARM_E_PRECONDITION);
	assert_int_equal(r.status, 412);
	assert_string_equal(f.s->last.if_match, "\"etag-1\"");
	assert_string_equal(r.error_code, "PreconditionFailed");
	assert_non_null(strstr(r.message, "PUT privateDnsZones/priv.contoso.com/A/aks: 412 "
	    "PreconditionFailed"));
	assert_int_equal(r.attempts, 1);
	arm_response_free(&r);
	assert_int_equal(arm_put_if_match(f.arm, REC, "{\"properties\":{\"ttl\":60}}",
	    "\"etag-2\"", NULL, &r), ARM_OK);
	assert_string_equal(r.etag, "\"etag-3\"");
	arm_response_free(&r);
	assert_int_equal(arm_put_if_match(f.arm, REC, "{}", "", NULL, &r), ARM_E_INVALID);
	arm_response_free(&r);
	fixture_done(&f);
}

/* ---- long-running operations ----------------------------------------------------------------- */

struct lro {
	int mode;	/* 0 async ok, 1 async failed, 2 location, 3 state only, 4 async poll error,
			 * 5 forever, 6 location failed, 7 async bad body */
	double last_percent;
	int progress_calls;
	char statuses[256];
};

static void
route_lro(struct srv *s, const struct rq *q, struct reply *r)
{
	struct lro *x = s->ctx;
	char url[300];
	int n;

	if (strstr(q->path, "/operations/") != NULL) {
		n = next_step(s);
		hdr(r, "Retry-After", "1");	/* clamped to the test's 40 ms */
		hdr(r, "x-ms-request-id", "rid-op");
		if (x->mode == 4) {
			if (n == 1)
				body(r, 500, "{\"error\":{\"code\":\"Transient\",\"message\":\"x\"}}");
			else
				body(r, 404, "{\"error\":{\"code\":\"OperationNotFound\",\"message\":"
				    "\"gone\"}}");
			return;
		}
		if (x->mode == 7) {
			body(r, 200, "{\"percentComplete\":5}");
			return;
		}
		if (x->mode == 5 || n < 3) {
			body(r, 200, "{\"id\":\"op1\",\"name\":\"op1\",\"status\":\"InProgress\","
			    "\"startTime\":\"2026-01-01T00:00:00Z\",\"percentComplete\":%d}", n * 30);
			return;
		}
		if (x->mode == 1) {
			body(r, 200, "{\"id\":\"op1\",\"status\":\"Failed\",\"error\":{\"code\":"
			    "\"ReconcileVMSSAgentPoolFailed\",\"message\":\"Agent pool nodepool1 "
			    "could not be reconciled\"}}");
			return;
		}
		body(r, 200, "{\"id\":\"op1\",\"status\":\"succeeded\",\"percentComplete\":100}");
		return;
	}
	if (strstr(q->path, "/operationresults/") != NULL) {
		n = next_step(s);
		hdr(r, "Retry-After", "1");
		if (n < 3) {
			body(r, 202, "%s", "");
			return;
		}
		if (x->mode == 6) {
			body(r, 409, "{\"error\":{\"code\":\"DeleteFailed\",\"message\":\"still in use\"}}");
			return;
		}
		body(r, 200, "{\"kubeconfigs\":[{\"name\":\"clusterUser\",\"value\":\"Y3JlZA==\"}]}");
		return;
	}
	if (strcmp(q->method, "PUT") == 0) {
		if (x->mode == 3) {
			body(r, 201, "{\"name\":\"aks-prod-green\",\"properties\":{\"provisioningState\":"
			    "\"Creating\"}}");
			return;
		}
		sfmt(url, sizeof url, "%s/subscriptions/00000000-0000-0000-0000-000000000000/providers/"
		    "Microsoft.ContainerService/locations/westeurope/operations/op1?api-version="
		    "2017-08-31", s->base);
		hdr(r, "Azure-AsyncOperation", url);
		hdr(r, "Retry-After", "1");
		body(r, 201, "{\"name\":\"aks-prod-green\",\"properties\":{\"provisioningState\":"
		    "\"Creating\"}}");
		return;
	}
	if (strcmp(q->method, "POST") == 0 || strcmp(q->method, "DELETE") == 0) {
		sfmt(url, sizeof url, "%s/subscriptions/00000000-0000-0000-0000-000000000000/providers/"
		    "Microsoft.ContainerService/locations/westeurope/operationresults/r1?api-version="
		    "2026-08-01", s->base);
		hdr(r, "Location", url);
		body(r, 202, "%s", "");
		return;
	}
	if (strcmp(q->method, "GET") == 0) {
		if (x->mode == 3) {
			n = next_step(s);
			body(r, 200, "{\"name\":\"aks-prod-green\",\"properties\":{\"provisioningState\":"
			    "\"%s\"}}", n == 1 ? "Creating" : n == 2 ? "Updating" : "Succeeded");
			return;
		}
		hdr(r, "ETag", "\"final-etag\"");
		body(r, 200, "{\"name\":\"aks-prod-green\",\"properties\":{\"provisioningState\":"
		    "\"Succeeded\",\"kubernetesVersion\":\"1.30.5\"}}");
	}
}

static void
progress(void *ctx, const struct arm_progress *p)
{
	struct lro *x = ctx;
	size_t n = strlen(x->statuses);

	x->progress_calls++;
	x->last_percent = p->percent;
	sfmt(x->statuses + n, sizeof x->statuses - n, "%s%s", n ? "," : "", p->status);
	assert_string_equal(p->resource, "managedClusters/aks-prod-green");
	assert_true(p->elapsed_s >= 0);
}

static void
test_lro_async_operation(void **state)
{
	struct lro x = { 0 };
	struct fixture f;
	struct arm_response r;
	struct arm_opts o = { .progress = progress, .progress_ctx = &x };
	const char *op = "GET /subscriptions/00000000-0000-0000-0000-000000000000/providers/"
	    "Microsoft.ContainerService/locations/westeurope/operations/op1?api-version=2017-08-31";

	(void)state;
	fixture_init(&f, route_lro, &x, NULL);
	assert_int_equal(arm_put(f.arm, AKS, "{\"location\":\"westeurope\"}", &o, &r), ARM_OK);
	assert_log(f.s, 0, "PUT " AKS "?api-version=2026-08-01");
	assert_log(f.s, 1, op);
	assert_log(f.s, 2, op);
	assert_log(f.s, 3, op);
	assert_log(f.s, 4, "GET " AKS "?api-version=2026-08-01");
	assert_int_equal(f.s->nlog, 5);
	assert_int_equal(r.polls, 3);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.op_status, "succeeded");
	assert_string_equal(r.etag, "\"final-etag\"");
	assert_non_null(strstr(r.body, "\"kubernetesVersion\":\"1.30.5\""));
	assert_string_equal(x.statuses, "Creating,InProgress,InProgress,succeeded");
	assert_true(x.last_percent == 100);
	arm_response_free(&r);
	fixture_done(&f);
}

static void
test_lro_failed(void **state)
{
	struct lro x = { .mode = 1 };
	struct fixture f;
	struct arm_response r;

	(void)state;
	fixture_init(&f, route_lro, &x, NULL);
	assert_int_equal(arm_put(f.arm, AKS, "{}", NULL, &r), ARM_E_OPERATION);
	assert_string_equal(r.op_status, "Failed");
	assert_string_equal(r.error_code, "ReconcileVMSSAgentPoolFailed");
	assert_non_null(strstr(r.message, "PUT managedClusters/aks-prod-green: operation Failed "
	    "after "));
	assert_non_null(strstr(r.message, "ReconcileVMSSAgentPoolFailed: Agent pool nodepool1 could "
	    "not be reconciled (request id rid-op)"));
	assert_int_equal(f.s->nlog, 4);	/* no final GET after a failure */
	arm_response_free(&r);
	fixture_done(&f);
}

static void
test_lro_location(void **state)
{
	struct lro x = { .mode = 2 };
	struct fixture f;
	struct arm_response r;
	struct arm_opts o = { .idempotent = 1 };

	(void)state;
	fixture_init(&f, route_lro, &x, NULL);
	assert_int_equal(arm_post(f.arm, AKS "/listClusterUserCredential", NULL, &o, &r), ARM_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.polls, 3);
	assert_non_null(strstr(r.body, "\"kubeconfigs\""));
	assert_int_equal(f.s->nlog, 4);
	arm_response_free(&r);
	/* DELETE through Location, and a failure reported by the Location URL. */
	f.s->step = 0;
	assert_int_equal(arm_delete(f.arm, AKS, NULL, &r), ARM_OK);
	arm_response_free(&r);
	x.mode = 6;
	f.s->step = 0;
	assert_int_equal(arm_delete(f.arm, AKS, NULL, &r), ARM_E_OPERATION);
	assert_non_null(strstr(r.message, "DELETE managedClusters/aks-prod-green: operation Failed"));
	assert_non_null(strstr(r.message, "409 DeleteFailed: still in use"));
	arm_response_free(&r);
	fixture_done(&f);
}

static void
test_lro_provisioning_state(void **state)
{
	struct lro x = { .mode = 3 };
	struct fixture f;
	struct arm_response r;
	struct arm_opts o = { .progress = progress, .progress_ctx = &x };

	(void)state;
	fixture_init(&f, route_lro, &x, NULL);
	assert_int_equal(arm_put(f.arm, AKS, "{}", &o, &r), ARM_OK);
	assert_int_equal(r.polls, 3);
	assert_string_equal(r.op_status, "Succeeded");
	assert_string_equal(x.statuses, "Creating,Creating,Updating,Succeeded");
	assert_int_equal(f.s->nlog, 4);
	arm_response_free(&r);
	fixture_done(&f);
}

static void
test_lro_poll_errors(void **state)
{
	struct lro x = { .mode = 4 };
	struct fixture f;
	struct arm_response r;

	(void)state;
	fixture_init(&f, route_lro, &x, NULL);
	/* 500 on the status URL is retried; the 404 after it is a polling
	 * failure, not an operation failure. */
	assert_int_equal(arm_put(f.arm, AKS, "{}", NULL, &r), ARM_E_POLL);
	assert_non_null(strstr(r.message, "reading the operation status failed"));
	assert_non_null(strstr(r.message, "404 OperationNotFound: gone"));
	assert_int_equal(f.s->step, 2);
	arm_response_free(&r);
	x.mode = 7;
	f.s->step = 0;
	assert_int_equal(arm_put(f.arm, AKS, "{}", NULL, &r), ARM_E_POLL);
	assert_non_null(strstr(r.message, "has no status"));
	arm_response_free(&r);
	fixture_done(&f);
}

static void *
cancel_later(void *arg)
{
	usleep(200 * 1000);
	http_cancel_fire(arg);
	return NULL;
}

static void
test_lro_deadline_cancel_no_wait(void **state)
{
	struct lro x = { .mode = 5 };
	struct fixture f;
	struct arm_response r;
	struct arm_opts o = { 0 };
	pthread_t th;
	double t0;

	(void)state;
	fixture_init(&f, route_lro, &x, NULL);
	o.deadline_ms = http_now_ms() + 300;
	t0 = now_s();
	assert_int_equal(arm_put(f.arm, AKS, "{}", &o, &r), ARM_E_TIMEOUT);
	assert_true(now_s() - t0 < 1.0);
	assert_non_null(strstr(r.message, "deadline passed"));
	assert_non_null(strstr(r.message, "may still be running in Azure"));
	arm_response_free(&r);

	o.deadline_ms = 0;
	o.cancel = http_cancel_new();
	assert_non_null(o.cancel);
	assert_int_equal(pthread_create(&th, NULL, cancel_later, o.cancel), 0);
	t0 = now_s();
	assert_int_equal(arm_put(f.arm, AKS, "{}", &o, &r), ARM_E_CANCELLED);
	assert_true(now_s() - t0 < 1.5);
	assert_non_null(strstr(r.message, "cancelled"));
	pthread_join(th, NULL);
	http_cancel_free(o.cancel);
	arm_response_free(&r);

	/* no_wait: the first answer, with the URLs to follow later. */
	memset(&o, 0, sizeof o);
	o.no_wait = 1;
	assert_int_equal(arm_put(f.arm, AKS, "{}", &o, &r), ARM_OK);
	assert_int_equal(r.status, 201);
	assert_non_null(strstr(r.async_url, "/operations/op1?api-version=2017-08-31"));
	assert_string_equal(r.op_status, "Creating");
	assert_int_equal(r.polls, 0);
	arm_response_free(&r);
	fixture_done(&f);
}

/* ---- 401 ------------------------------------------------------------------------------------- */

struct auth_ctx {
	int always;
};

static void
route_401(struct srv *s, const struct rq *q, struct reply *r)
{
	struct auth_ctx *x = s->ctx;

	if (x->always || strcmp(q->auth, "Bearer tok-1") == 0) {
		body(r, 401, "{\"error\":{\"code\":\"ExpiredAuthenticationToken\",\"message\":\"The "
		    "access token expiry UTC time is earlier than current UTC time.\"}}");
		return;
	}
	body(r, 200, "{\"properties\":{}}");
}

static void
test_401_reauth_once(void **state)
{
	struct auth_ctx x = { 0 };
	struct fixture f;
	struct arm_response r;

	(void)state;
	fixture_init(&f, route_401, &x, NULL);
	assert_int_equal(arm_get(f.arm, AKS, NULL, &r), ARM_OK);
	assert_int_equal(atomic_load(&f.s->token_hits), 2);
	assert_int_equal(atomic_load(&f.s->arm_hits), 2);
	assert_string_equal(f.s->last.auth, "Bearer tok-2");
	arm_response_free(&r);
	/* A 401 that persists is reported after exactly one retry. */
	x.always = 1;
	assert_int_equal(arm_get(f.arm, AKS, NULL, &r), ARM_E_STATUS);
	assert_int_equal(r.status, 401);
	assert_int_equal(atomic_load(&f.s->arm_hits), 4);
	assert_int_equal(atomic_load(&f.s->token_hits), 3);
	assert_non_null(strstr(r.message, "401 ExpiredAuthenticationToken"));
	arm_response_free(&r);
	fixture_done(&f);
}

static void
test_no_token(void **state)
{
	struct az_cred_config cc = { .kind = AZ_CRED_ENVIRONMENT };
	struct arm_client_config ac = { 0 };
	struct env e = { { { "AZURE_TENANT_ID", TENANT }, { "AZURE_CLIENT_ID", "c" },
	    { "AZURE_CLIENT_SECRET", "s" }, { "AZURE_AUTHORITY_HOST", "http://127.0.0.1:1" } }, 4 };
	struct az_cred *cred;
	struct arm_client *arm;
	struct arm_response r;
	char err[512];

	(void)state;
	cc.getenv_fn = env_get;
	cc.getenv_ctx = &e;
	cc.timeout_ms = 500;
	cred = az_cred_new(&cc, err, sizeof err);
	assert_non_null(cred);
	ac.endpoint = "https://management.azure.com";
	ac.scope = "https://management.azure.com/.default";
	ac.cred = cred;
	arm = arm_client_new(&ac, err, sizeof err);
	assert_non_null(arm);
	assert_int_equal(arm_get(arm, AKS, NULL, &r), ARM_E_AUTH);
	assert_non_null(strstr(r.message, "GET managedClusters/aks-prod-green: cannot get an Azure "
	    "token: credential environment: token request to"));
	arm_response_free(&r);
	arm_client_free(arm);
	az_cred_free(cred);
	ac.endpoint = "ftp://x";
	ac.cred = (struct az_cred *)&e;
	assert_null(arm_client_new(&ac, err, sizeof err));
	assert_null(arm_client_new(NULL, err, sizeof err));
}

/* ---- real payloads ------------------------------------------------------------------------------ */

static char fixture_body[65536];

static int
load_fixture(const char *rel, const char *status)
{
	char path[512];
	FILE *fp;
	char *text;
	long n;
	cJSON *j, *b;

	sfmt(path, sizeof path, "tests/fixtures/azure/%s", rel);
	fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	j = cJSON_Parse(text);
	free(text);
	b = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "responses"), status),
	    "body");
	text = cJSON_PrintUnformatted(b);
	assert_non_null(text);
	sfmt(fixture_body, sizeof fixture_body, "%s", text);
	free(text);
	cJSON_Delete(j);
	return 0;
}

static void
route_fixture(struct srv *s, const struct rq *q, struct reply *r)
{
	(void)s;
	(void)q;
	r->status = 200;
	sfmt(r->body, sizeof r->body, "%s", fixture_body);
}

static void
test_real_payloads(void **state)
{
	struct fixture f;
	struct arm_response r;

	(void)state;
	assert_int_equal(load_fixture("privatedns/RecordSetAPut.json", "200"), 0);
	fixture_init(&f, route_fixture, NULL, NULL);
	/* A record set answer: the ETag is in the body. */
	assert_int_equal(arm_put_if_match(f.arm, REC, "{}", "\"e\"", NULL, &r), ARM_OK);
	assert_string_equal(r.etag, "00000000-0000-0000-0000-000000000000");
	arm_response_free(&r);
	/* The AKS create answer is terminal (Succeeded): no polling. */
	assert_int_equal(load_fixture("containerservice/ManagedClustersCreate_Update.json", "200"), 0);
	assert_int_equal(arm_put(f.arm, AKS, "{}", NULL, &r), ARM_OK);
	assert_int_equal(r.polls, 0);
	assert_string_equal(r.op_status, "Succeeded");
	arm_response_free(&r);
	fixture_done(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_headers_etag),
		cmocka_unit_test(test_api_versions),
		cmocka_unit_test(test_retry_429_retry_after),
		cmocka_unit_test(test_retry_503_twice),
		cmocka_unit_test(test_retries_exhausted),
		cmocka_unit_test(test_post_500_not_retried),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_if_match_412),
		cmocka_unit_test(test_lro_async_operation),
		cmocka_unit_test(test_lro_failed),
		cmocka_unit_test(test_lro_location),
		cmocka_unit_test(test_lro_provisioning_state),
		cmocka_unit_test(test_lro_poll_errors),
		cmocka_unit_test(test_lro_deadline_cancel_no_wait),
		cmocka_unit_test(test_401_reauth_once),
		cmocka_unit_test(test_no_token),
		cmocka_unit_test(test_real_payloads),
	};

	signal(SIGPIPE, SIG_IGN);
	log_set_stream(stderr, LOG_OFF);
	return cmocka_run_group_tests_name("arm", tests, NULL, NULL);
}
