/*
 * test_metrics.c — Azure Monitor metrics of the gateway: the query the
 * client sends, the parse of real answers, the window's aggregation, and
 * the errors for an unknown metric and a per-metric failure.
 *
 * Real answers: GetMetric.json and GetMetricError.json (monitor
 * 2023-10-01; tests/fixtures/azure/SOURCES.md).  A gateway-shaped answer
 * split by HttpStatusGroup is derived from GetMetric.json's structure.  A
 * libmicrohttpd server on 127.0.0.1 (tests/lib/fakearm.c) plays Entra and
 * ARM and records the query string.  The last test asks the simulator.
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
#include "tests/lib/simclient.h"
#include "src/http.h"
#include "src/log.h"
#include "tests/lib/example.h"
#include "tests/lib/fakearm.h"

#include <cjson/cJSON.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define FIX "tests/fixtures/azure/"
#define GWID "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/" \
	"providers/Microsoft.Network/applicationGateways/appgw"

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
route_metrics(struct fakearm *s, const struct fakearm_rq *q, struct fakearm_reply *r)
{
	struct mstate *m = s->ctx;

	pthread_mutex_lock(&m->lock);
	snprintf(m->path, sizeof m->path, "%s", q->path);
	snprintf(m->query, sizeof m->query, "%s", q->query);
	pthread_mutex_unlock(&m->lock);
	if (strcmp(q->path, GWID "/providers/Microsoft.Insights/metrics") != 0)
		return;
	fakearm_hdr(r, "x-ms-request-id", "rid-metrics");
	if (strstr(q->query, "metricnames=Nope") != NULL)
		/* The service's answer for an unknown name: the older {code,
		 * message} error shape. */
		fakearm_reply(r, 400, "{\"code\":\"BadRequest\",\"message\":\"Failed to find metric "
		    "configuration for provider: Microsoft.Network, resource Type: applicationGateways, "
		    "metric: Nope, Valid metrics: TotalRequests,FailedRequests,ResponseStatus\"}");
	else {
		cJSON *j = cJSON_Parse(gw_answer);

		fakearm_reply_json(r, 200, j);
		cJSON_Delete(j);
	}
}

static void
test_query(void **state)
{
	struct mstate m = { 0 };
	struct fakearm_client f;
	struct metrics_query q = { 0 };
	struct metrics_result r;
	char err[1024] = "";

	(void)state;
	pthread_mutex_init(&m.lock, NULL);
	fakearm_client_init(&f, route_metrics, &m);
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
	fakearm_client_done(&f);
	pthread_mutex_destroy(&m.lock);
}
/* ---- against the simulator ----------------------------------------------------------------------- */


static void
test_against_simulator(void **state)
{
	struct simclient x;
	struct metrics_query q = { 0 };
	struct metrics_result r;
	char err[1024], gwid[512];

	(void)state;
	simclient_start(&x);
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
	simclient_stop(&x);
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
