/*
 * test_metrics.c — Azure Monitor metrics of the gateway: the query the
 * client sends, the parse of real answers, the window's aggregation, and
 * the errors for an unknown metric and a per-metric failure.
 *
 * Real answers: GetMetric.json and GetMetricError.json (monitor
 * 2023-10-01; tests/fixtures/azure/SOURCES.md).  A gateway-shaped answer
 * split by HttpStatusGroup is derived from GetMetric.json's structure.  A
 * libmicrohttpd server on 127.0.0.1 plays Entra and ARM and records the
 * query string.  The last test asks the simulator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "azure/arm.h"
#include "azure/credential.h"
#include "azure/metrics.h"
#include "sim/sim.h"
#include "src/http.h"
#include "src/log.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ftw.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define FIX "tests/fixtures/azure/"
#define GWID "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/" \
	"providers/Microsoft.Network/applicationGateways/appgw"

/* ---- the scripted ARM ------------------------------------------------------------------ */

struct rq {
	char method[8];
	char path[512];
	char if_match[256];
	char query[1024];		/* "k=v&k=v", values decoded */
	char *body;			/* NUL-terminated, "" when none */
};

struct reply {
	unsigned status;
	char *body;			/* malloc'd */
	char hdr[4][2][800];
	int nh;
};

struct srv;
typedef void (*route_fn)(struct srv *s, const struct rq *q, struct reply *r);

struct srv {
	struct MHD_Daemon *d;
	char base[64];
	route_fn route;
	void *ctx;
	pthread_mutex_t lock;
	char log[64][600];
	int nlog;
};

static void
hdr(struct reply *r, const char *name, const char *value)
{
	if (r->nh < 4) {
		snprintf(r->hdr[r->nh][0], sizeof r->hdr[0][0], "%s", name);
		snprintf(r->hdr[r->nh][1], sizeof r->hdr[0][1], "%s", value);
		r->nh++;
	}
}

static void
reply(struct reply *r, unsigned status, const char *body)
{
	free(r->body);
	r->status = status;
	r->body = strdup(body != NULL ? body : "");
}

static void
reply_json(struct reply *r, unsigned status, const cJSON *j)
{
	char *t = cJSON_PrintUnformatted(j);

	reply(r, status, t);
	free(t);
}

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct rq *q = cls;
	size_t n = strlen(q->query);

	(void)kind;
	snprintf(q->query + n, sizeof q->query - n, "%s%s=%s", n ? "&" : "", key,
	    value != NULL ? value : "");
	return MHD_YES;
}

struct upload {
	char *buf;
	size_t len;
};

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **con_cls)
{
	struct srv *s = cls;
	struct upload *up = *con_cls;
	struct rq q;
	struct reply r = { 0 };
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *v;

	(void)version;
	if (up == NULL) {
		up = calloc(1, sizeof *up);
		*con_cls = up;
		return up != NULL ? MHD_YES : MHD_NO;
	}
	if (*size > 0) {
		char *nb = realloc(up->buf, up->len + *size + 1);

		if (nb == NULL)
			return MHD_NO;
		memcpy(nb + up->len, data, *size);
		up->buf = nb;
		up->len += *size;
		nb[up->len] = '\0';
		*size = 0;
		return MHD_YES;
	}
	memset(&q, 0, sizeof q);
	snprintf(q.method, sizeof q.method, "%s", method);
	snprintf(q.path, sizeof q.path, "%s", url);
	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-Match");
	snprintf(q.if_match, sizeof q.if_match, "%s", v != NULL ? v : "");
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
	q.body = up->buf != NULL ? up->buf : "";
	reply(&r, 404, "{\"error\":{\"code\":\"NoRoute\",\"message\":\"no route\"}}");
	if (strstr(url, "/oauth2/v2.0/token") != NULL) {
		reply(&r, 200, "{\"token_type\":\"Bearer\",\"expires_in\":3600,\"access_token\":\"tok\"}");
	} else {
		pthread_mutex_lock(&s->lock);
		if (s->nlog < 64)
			snprintf(s->log[s->nlog++], sizeof s->log[0], "%s %s", method, url);
		pthread_mutex_unlock(&s->lock);
		s->route(s, &q, &r);
	}
	resp = MHD_create_response_from_buffer(strlen(r.body), r.body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	for (int i = 0; i < r.nh; i++)
		MHD_add_response_header(resp, r.hdr[i][0], r.hdr[i][1]);
	ret = MHD_queue_response(conn, r.status, resp);
	MHD_destroy_response(resp);
	free(r.body);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (up != NULL) {
		free(up->buf);
		free(up);
		*con_cls = NULL;
	}
}

static struct srv *
srv_start(route_fn route, void *ctx)
{
	struct srv *s = calloc(1, sizeof *s);
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	assert_non_null(s);
	s->route = route;
	s->ctx = ctx;
	pthread_mutex_init(&s->lock, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
	    NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
	assert_non_null(s->d);
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", info->port);
	return s;
}

static void
srv_stop(struct srv *s)
{
	MHD_stop_daemon(s->d);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- the client under test ------------------------------------------------------------ */

struct env {
	const char *kv[4][2];
};

static const char *
env_get(void *ctx, const char *name)
{
	struct env *e = ctx;

	for (int i = 0; i < 4; i++)
		if (e->kv[i][0] != NULL && strcmp(e->kv[i][0], name) == 0)
			return e->kv[i][1];
	return NULL;
}

struct fixture {
	struct srv *s;
	struct env env;
	struct az_cred *cred;
	struct arm_client *arm;
};

static void
fixture_init(struct fixture *f, route_fn route, void *ctx)
{
	struct az_cred_config cc = { .kind = AZ_CRED_ENVIRONMENT };
	struct arm_client_config ac = { 0 };
	char err[512];

	memset(f, 0, sizeof *f);
	f->s = srv_start(route, ctx);
	f->env.kv[0][0] = "AZURE_TENANT_ID";
	f->env.kv[0][1] = "tenant-1";
	f->env.kv[1][0] = "AZURE_CLIENT_ID";
	f->env.kv[1][1] = "client-1";
	f->env.kv[2][0] = "AZURE_CLIENT_SECRET";
	f->env.kv[2][1] = "secret-1";
	f->env.kv[3][0] = "AZURE_AUTHORITY_HOST";
	f->env.kv[3][1] = f->s->base;
	cc.getenv_fn = env_get;
	cc.getenv_ctx = &f->env;
	f->cred = az_cred_new(&cc, err, sizeof err);
	if (f->cred == NULL)
		fail_msg("az_cred_new: %s", err);
	ac.endpoint = f->s->base;
	ac.scope = "https://management.azure.com/.default";
	ac.cred = f->cred;
	ac.max_attempts = 3;
	ac.backoff_base_ms = 10;
	ac.backoff_cap_ms = 40;
	ac.poll_min_ms = 5;
	ac.poll_max_ms = 20;
	ac.poll_default_ms = 10;
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

/* ---- real examples ---------------------------------------------------------------------- */

static cJSON *
load_json(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text;
	long n;
	cJSON *j;

	if (fp == NULL)
		fail_msg("cannot open %s (tests run from the repository root)", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	j = cJSON_Parse(text);
	free(text);
	assert_non_null(j);
	return j;
}

/* responses.STATUS.body of a real example, detached. */
static cJSON *
example_body(const char *file, const char *status)
{
	cJSON *j = load_json(file), *b;

	b = cJSON_DetachItemFromObject(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "responses"),
	    status), "body");
	cJSON_Delete(j);
	assert_non_null(b);
	return b;
}

/* ---- parsing and aggregation ------------------------------------------------------------------- */

static int
near(double a, double b)
{
	return a - b < 1e-9 && b - a < 1e-9;
}

static void
test_parse_get_metric(void **state)
{
	cJSON *b = example_body(FIX "monitor/GetMetric.json", "200");
	struct metrics_result r;
	char err[256];

	(void)state;
	/* BlobCount, split by tier into 5 series of 5 hourly points. */
	assert_int_equal(metrics_parse(b, "BlobCount", METRICS_AVERAGE, &r, err, sizeof err), 0);
	assert_string_equal(r.metric, "BlobCount");
	assert_string_equal(r.unit, "Count");
	assert_string_equal(r.interval, "PT1H");
	assert_string_equal(r.timespan, "2021-04-20T09:00:00Z/2021-04-20T14:00:00Z");
	assert_int_equal(r.series, 5);
	assert_int_equal(r.samples, 25);
	assert_int_equal(r.npoints, 5);
	assert_true(r.has_value);
	assert_true(near(r.value, 1.8));		/* (5 x 7 + 5 x 2) / 25 */
	assert_string_equal(r.points[0].time, "2021-04-20T09:00:00Z");
	assert_true(near(r.points[0].value, 1.8));	/* (7 + 2 + 0 + 0 + 0) / 5 */
	assert_true(r.points[4].has);
	metrics_result_free(&r);
	/* The name is matched case-insensitively. */
	assert_int_equal(metrics_parse(b, "blobcapacity", METRICS_MAXIMUM, &r, err, sizeof err), 0);
	assert_true(near(r.value, 621492.0));
	assert_true(near(r.points[2].value, 621492.0));
	metrics_result_free(&r);
	assert_int_equal(metrics_parse(b, "BlobCapacity", METRICS_MINIMUM, &r, err, sizeof err), 0);
	assert_true(near(r.value, 0.0));
	assert_true(r.has_value);
	metrics_result_free(&r);
	/* No point carries a total: no value, which is not 0. */
	assert_int_equal(metrics_parse(b, "BlobCapacity", METRICS_TOTAL, &r, err, sizeof err), 0);
	assert_false(r.has_value);
	assert_int_equal(r.samples, 0);
	assert_int_equal(r.npoints, 5);
	assert_false(r.points[0].has);
	metrics_result_free(&r);
	assert_int_equal(metrics_parse(b, "Nope", METRICS_TOTAL, &r, err, sizeof err), METRICS_E_BODY);
	assert_non_null(strstr(err, "no metric Nope"));
	cJSON_Delete(b);
}

static void
test_parse_metric_error(void **state)
{
	cJSON *b = example_body(FIX "monitor/GetMetricError.json", "200");
	struct metrics_result r;
	char err[256];

	(void)state;
	assert_int_equal(metrics_parse(b, "MongoRequestsCount", METRICS_AVERAGE, &r, err, sizeof err),
	    METRICS_E_QUERY);
	assert_non_null(strstr(err, "InvalidSamplingType: Sampling type is not found"));
	assert_int_equal(metrics_parse(b, "MongoRequests", METRICS_AVERAGE, &r, err, sizeof err), 0);
	assert_true(r.has_value);
	assert_true(near(r.value, 0.0));
	metrics_result_free(&r);
	cJSON_Delete(b);
}

/* A gateway answer in GetMetric.json's shape: ResponseStatus split by
 * HttpStatusGroup (two series), with a point that has no total. */
static const char *gw_answer =
	"{\"cost\":4,\"timespan\":\"2026-01-01T11:55:00Z/2026-01-01T12:00:00Z\",\"interval\":"
	"\"PT1M\",\"value\":[{\"id\":\"" GWID "/providers/Microsoft.Insights/metrics/"
	"ResponseStatus\",\"type\":\"Microsoft.Insights/metrics\",\"name\":{\"value\":"
	"\"ResponseStatus\",\"localizedValue\":\"Response Status\"},\"unit\":\"Count\","
	"\"timeseries\":[{\"metadatavalues\":[{\"name\":{\"value\":\"httpstatusgroup\","
	"\"localizedValue\":\"httpstatusgroup\"},\"value\":\"5xx\"}],\"data\":["
	"{\"timeStamp\":\"2026-01-01T11:55:00Z\",\"total\":2.0},{\"timeStamp\":"
	"\"2026-01-01T11:56:00Z\",\"total\":3.0,\"maximum\":3.0},{\"timeStamp\":"
	"\"2026-01-01T11:57:00Z\"}]},{\"metadatavalues\":[{\"name\":{\"value\":\"httpstatusgroup\","
	"\"localizedValue\":\"httpstatusgroup\"},\"value\":\"5XX\"}],\"data\":[{\"timeStamp\":"
	"\"2026-01-01T11:55:00Z\",\"total\":1.0,\"maximum\":1.0}]}],\"errorCode\":\"Success\"}],"
	"\"namespace\":\"Microsoft.Network/applicationGateways\",\"resourceregion\":\"westeurope\"}";

static void
test_aggregations(void **state)
{
	cJSON *b = cJSON_Parse(gw_answer);
	struct metrics_result r;
	char err[256];

	(void)state;
	assert_int_equal(metrics_parse(b, "ResponseStatus", METRICS_TOTAL, &r, err, sizeof err), 0);
	assert_true(near(r.value, 6.0));
	assert_int_equal(r.series, 2);
	assert_int_equal(r.samples, 3);
	assert_int_equal(r.npoints, 3);
	assert_true(near(r.points[0].value, 3.0));	/* both series at 11:55 */
	assert_true(near(r.points[1].value, 3.0));
	assert_false(r.points[2].has);
	metrics_result_free(&r);
	assert_int_equal(metrics_parse(b, "ResponseStatus", METRICS_MAXIMUM, &r, err, sizeof err), 0);
	assert_true(near(r.value, 3.0));
	assert_int_equal(r.samples, 2);
	metrics_result_free(&r);
	assert_int_equal(metrics_parse(b, "ResponseStatus", METRICS_COUNT, &r, err, sizeof err), 0);
	assert_false(r.has_value);
	metrics_result_free(&r);
	cJSON_Delete(b);
	/* Bad bodies: clear errors. */
	assert_int_equal(metrics_parse(NULL, "x", METRICS_TOTAL, &r, err, sizeof err), METRICS_E_BODY);
	b = cJSON_Parse("{\"value\":{}}");
	assert_int_equal(metrics_parse(b, "x", METRICS_TOTAL, &r, err, sizeof err), METRICS_E_BODY);
	cJSON_Delete(b);
	b = cJSON_Parse("{\"value\":[{\"name\":{\"value\":\"x\"},\"timeseries\":[{\"data\":[1,"
	    "{\"total\":\"7\"},{\"timeStamp\":\"t\",\"total\":\"7\"}]},3]}]}");
	assert_int_equal(metrics_parse(b, "x", METRICS_TOTAL, &r, err, sizeof err), 0);
	assert_false(r.has_value);
	assert_int_equal(r.npoints, 1);
	metrics_result_free(&r);
	cJSON_Delete(b);
	assert_int_equal(metrics_parse(NULL, "x", (enum metrics_agg)9, &r, err, sizeof err),
	    METRICS_E_INVALID);
	/* A filter that matched nothing: no series.  Zero events for a sum,
	 * no value for an average. */
	b = cJSON_Parse("{\"value\":[{\"name\":{\"value\":\"ResponseStatus\"},\"timeseries\":[],"
	    "\"errorCode\":\"Success\"}]}");
	assert_int_equal(metrics_parse(b, "ResponseStatus", METRICS_TOTAL, &r, err, sizeof err), 0);
	assert_true(r.has_value);
	assert_true(near(r.value, 0.0));
	assert_int_equal(r.series, 0);
	metrics_result_free(&r);
	assert_int_equal(metrics_parse(b, "ResponseStatus", METRICS_AVERAGE, &r, err, sizeof err), 0);
	assert_false(r.has_value);
	metrics_result_free(&r);
	cJSON_Delete(b);
}

static void
test_agg_names_and_timespan(void **state)
{
	char span[96];

	(void)state;
	assert_int_equal(metrics_agg_parse("Total"), METRICS_TOTAL);
	assert_int_equal(metrics_agg_parse("average"), METRICS_AVERAGE);
	assert_int_equal(metrics_agg_parse("MAXIMUM"), METRICS_MAXIMUM);
	assert_int_equal(metrics_agg_parse("Minimum"), METRICS_MINIMUM);
	assert_int_equal(metrics_agg_parse("count"), METRICS_COUNT);
	assert_int_equal(metrics_agg_parse("sum"), -1);
	assert_int_equal(metrics_agg_parse(NULL), -1);
	assert_string_equal(metrics_agg_name(METRICS_TOTAL), "Total");
	assert_int_equal(metrics_timespan(1767268800LL, 300000, span, sizeof span), 0);
	assert_string_equal(span, "2026-01-01T11:55:00Z/2026-01-01T12:00:00Z");
	assert_int_equal(metrics_timespan(1767268800LL, 0, span, sizeof span), -1);
	assert_int_equal(metrics_timespan(1767268800LL, 300000, span, 10), -1);
}

/* ---- the query ------------------------------------------------------------------------------------ */

struct mstate {
	pthread_mutex_t lock;
	char path[512], query[1024];
};

static void
route_metrics(struct srv *s, const struct rq *q, struct reply *r)
{
	struct mstate *m = s->ctx;

	pthread_mutex_lock(&m->lock);
	snprintf(m->path, sizeof m->path, "%s", q->path);
	snprintf(m->query, sizeof m->query, "%s", q->query);
	pthread_mutex_unlock(&m->lock);
	if (strcmp(q->path, GWID "/providers/Microsoft.Insights/metrics") != 0)
		return;
	hdr(r, "x-ms-request-id", "rid-metrics");
	if (strstr(q->query, "metricnames=Nope") != NULL)
		/* The service's answer for an unknown name: the older {code,
		 * message} error shape. */
		reply(r, 400, "{\"code\":\"BadRequest\",\"message\":\"Failed to find metric "
		    "configuration for provider: Microsoft.Network, resource Type: applicationGateways, "
		    "metric: Nope, Valid metrics: TotalRequests,FailedRequests,ResponseStatus\"}");
	else {
		cJSON *j = cJSON_Parse(gw_answer);

		reply_json(r, 200, j);
		cJSON_Delete(j);
	}
}

static void
test_query(void **state)
{
	struct mstate m = { 0 };
	struct fixture f;
	struct metrics_query q = { 0 };
	struct metrics_result r;
	char err[1024] = "";

	(void)state;
	pthread_mutex_init(&m.lock, NULL);
	fixture_init(&f, route_metrics, &m);
	q.resource_id = GWID;
	q.metric = "ResponseStatus";
	q.aggregation = "total";
	q.filter = "HttpStatusGroup eq '5xx'";
	q.window_ms = 5 * 60000;
	q.now_s = 1767268800LL;		/* 2026-01-01T12:00:00Z */
	if (metrics_query(f.arm, &q, NULL, &r, err, sizeof err) != 0)
		fail_msg("query: %s", err);
	assert_true(near(r.value, 6.0));
	metrics_result_free(&r);
	assert_string_equal(m.path, GWID "/providers/Microsoft.Insights/metrics");
	/* Parameters as the server decoded them. */
	assert_string_equal(m.query, "metricnames=ResponseStatus&"
	    "timespan=2026-01-01T11:55:00Z/2026-01-01T12:00:00Z&interval=PT1M&aggregation=Total&"
	    "$filter=HttpStatusGroup eq '5xx'&api-version=2023-10-01");
	/* Unknown metric: the API's own message. */
	q.metric = "Nope";
	assert_int_equal(metrics_query(f.arm, &q, NULL, &r, err, sizeof err), ARM_E_STATUS);
	assert_non_null(strstr(err, "400 BadRequest: Failed to find metric configuration"));
	assert_non_null(strstr(err, "Valid metrics: TotalRequests"));
	/* Refused before any request. */
	q.metric = "ResponseStatus";
	q.aggregation = "sum";
	assert_int_equal(metrics_query(f.arm, &q, NULL, &r, err, sizeof err), METRICS_E_INVALID);
	assert_non_null(strstr(err, "unknown aggregation"));
	q.aggregation = "Total";
	q.window_ms = 30000;
	assert_int_equal(metrics_query(f.arm, &q, NULL, &r, err, sizeof err), METRICS_E_INVALID);
	q.window_ms = 60000;
	q.metric = "A,B";
	assert_int_equal(metrics_query(f.arm, &q, NULL, &r, err, sizeof err), METRICS_E_INVALID);
	fixture_done(&f);
	pthread_mutex_destroy(&m.lock);
}
/* ---- against the simulator ----------------------------------------------------------------------- */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* VALUE of "KEY=VALUE" (quotes stripped) in the env file TEXT. */
static int
env_value(const char *text, const char *key, char *out, size_t n)
{
	char pat[80];
	const char *p;
	size_t l = 0;

	snprintf(pat, sizeof pat, "%s=", key);
	for (p = strstr(text, pat); p != NULL && p > text && p[-1] != ' ' && p[-1] != '\n';
	    p = strstr(p + 1, pat))
		;
	if (p == NULL)
		return -1;
	p += strlen(pat);
	if (*p == '\'' || *p == '"')
		p++;
	while (p[l] != '\0' && p[l] != '\n' && p[l] != '\'' && p[l] != '"' && l + 1 < n)
		l++;
	memcpy(out, p, l);
	out[l] = '\0';
	return 0;
}

/* Drops quote characters from S in place. */
static void
unquote(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++)
		if (*s != '"' && *s != '\'')
			*o++ = *s;
	*o = '\0';
}

/* A client of the simulator started in-process: its credential from the
 * env file it writes, its CA, the subscription and resource group of the
 * bgswitch.yaml it writes. */
struct simctx {
	char dir[256];
	char tenant[128], client[128], secret[256], authority[256];
	char ca[512], sub[128], rg[128];
	struct az_cred *cred;
	struct arm_client *arm;
};

static const char *
simenv_get(void *ctx, const char *name)
{
	struct simctx *e = ctx;

	if (strcmp(name, "AZURE_TENANT_ID") == 0)
		return e->tenant;
	if (strcmp(name, "AZURE_CLIENT_ID") == 0)
		return e->client;
	if (strcmp(name, "AZURE_CLIENT_SECRET") == 0)
		return e->secret;
	if (strcmp(name, "AZURE_AUTHORITY_HOST") == 0)
		return e->authority;
	return NULL;
}

static void
read_text(const char *path, char *out, size_t n)
{
	FILE *fp = fopen(path, "r");
	size_t got;

	if (fp == NULL)
		fail_msg("cannot read %s", path);
	got = fread(out, 1, n - 1, fp);
	out[got] = '\0';
	fclose(fp);
}

static void
sim_client_start(struct simctx *x)
{
	struct sim_opts so = { 0 };
	struct az_cred_config cc = { .kind = AZ_CRED_ENVIRONMENT };
	struct arm_client_config ac = { 0 };
	char err[1024], path[600], text[8192];
	const char *s, *r;

	memset(x, 0, sizeof *x);
	snprintf(x->dir, sizeof x->dir, "%s/bgswitch-azure.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(x->dir));
	so.dir = x->dir;
	so.speed = 100;
	if (sim_start(&so, err, sizeof err) != 0)
		fail_msg("sim_start: %s", err);
	snprintf(path, sizeof path, "%s/env", x->dir);
	read_text(path, text, sizeof text);
	assert_int_equal(env_value(text, "AZURE_TENANT_ID", x->tenant, sizeof x->tenant), 0);
	assert_int_equal(env_value(text, "AZURE_CLIENT_ID", x->client, sizeof x->client), 0);
	assert_int_equal(env_value(text, "AZURE_CLIENT_SECRET", x->secret, sizeof x->secret), 0);
	assert_int_equal(env_value(text, "AZURE_AUTHORITY_HOST", x->authority,
	    sizeof x->authority), 0);
	snprintf(x->ca, sizeof x->ca, "%s/ca.pem", x->dir);
	snprintf(path, sizeof path, "%s/bgswitch.yaml", x->dir);
	read_text(path, text, sizeof text);
	s = strstr(text, "subscription:");
	r = strstr(text, "resource_group:");
	assert_non_null(s);
	assert_non_null(r);
	assert_int_equal(sscanf(s, "subscription: %127s", x->sub), 1);
	assert_int_equal(sscanf(r, "resource_group: %127s", x->rg), 1);
	unquote(x->sub);
	unquote(x->rg);
	cc.getenv_fn = simenv_get;
	cc.getenv_ctx = x;
	cc.ca_file = x->ca;
	x->cred = az_cred_new(&cc, err, sizeof err);
	if (x->cred == NULL)
		fail_msg("az_cred_new: %s", err);
	ac.endpoint = sim_base_url();
	ac.scope = "https://management.azure.com/.default";
	ac.cred = x->cred;
	ac.ca_file = x->ca;
	ac.poll_min_ms = 20;
	ac.poll_max_ms = 200;
	ac.poll_default_ms = 50;
	ac.lro_timeout_ms = 15000;
	x->arm = arm_client_new(&ac, err, sizeof err);
	if (x->arm == NULL)
		fail_msg("arm_client_new: %s", err);
}

static void
sim_client_stop(struct simctx *x)
{
	arm_client_free(x->arm);
	az_cred_free(x->cred);
	sim_stop();
	nftw(x->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
test_against_simulator(void **state)
{
	struct simctx x;
	struct metrics_query q = { 0 };
	struct metrics_result r;
	char err[1024], gwid[512];

	(void)state;
	sim_client_start(&x);
	snprintf(gwid, sizeof gwid, "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.Network/applicationGateways/agw-prod", x.sub, x.rg);
	q.resource_id = gwid;
	q.metric = "ResponseStatus";
	q.aggregation = "Total";
	q.filter = "HttpStatusGroup eq '5xx'";
	q.window_ms = 5 * 60000;
	if (metrics_query(x.arm, &q, NULL, &r, err, sizeof err) != 0)
		fail_msg("ResponseStatus: %s", err);
	assert_string_equal(r.metric, "ResponseStatus");
	/* No 5xx in the window: a value, and it is 0. */
	assert_true(r.has_value);
	assert_true(r.value >= 0);
	metrics_result_free(&r);
	q.metric = "TotalRequests";
	q.filter = NULL;
	if (metrics_query(x.arm, &q, NULL, &r, err, sizeof err) != 0)
		fail_msg("TotalRequests: %s", err);
	assert_true(r.has_value);
	metrics_result_free(&r);
	q.metric = "NoSuchMetric";
	assert_int_equal(metrics_query(x.arm, &q, NULL, &r, err, sizeof err), ARM_E_STATUS);
	assert_non_null(strstr(err, "NoSuchMetric"));
	sim_client_stop(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_get_metric),
		cmocka_unit_test(test_parse_metric_error),
		cmocka_unit_test(test_aggregations),
		cmocka_unit_test(test_agg_names_and_timespan),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_against_simulator),
	};

	signal(SIGPIPE, SIG_IGN);
	/* BGSWITCH_TEST_LOG=1 shows the client's log lines while debugging. */
	log_set_stream(stderr, getenv("BGSWITCH_TEST_LOG") != NULL ? LOG_DEBUG : LOG_OFF);
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
