/*
 * test_sim_metrics_clock.c — the simulator's Azure Monitor metrics under
 * compressed time (sim/sim_arm_metrics.c): a client's timespan is made of
 * its own wall-clock instants, and the points come back stamped in that
 * same wall-clock time, so "was there traffic to pool-blue after I moved
 * the weights" can be answered from the points.
 *
 * The simulator runs in-process at speed 100 (tests/lib/simclient.c): one
 * PT1M bucket is 0.6 real seconds.  The default world sends all of its
 * traffic to pool-blue; the test moves it to pool-green with
 * appgw_set_weights, notes the wall-clock instant T, and asks for
 * BackendResponseStatus of pool-blue around T.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "azure/appgw.h"
#include "azure/arm.h"
#include "azure/metrics.h"
#include "src/log.h"
#include "tests/lib/simclient.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SPEED 100
#define BUCKET_MS (60000 / SPEED)	/* one simulated minute, in real ms */
#define BLUE "BackendPool eq 'pool-blue'"

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* "2026-11-26T18:00:00Z" or "2026-11-26T18:00:00.600Z" into epoch ms. */
static int64_t
stamp_ms(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, se, n = 0, ms = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6)
		fail_msg("not a timestamp: %s", s);
	if (s[n] == '.') {
		int k = 0, digits = 0;

		for (k = n + 1; s[k] >= '0' && s[k] <= '9'; k++, digits++)
			if (digits < 3)
				ms = ms * 10 + (s[k] - '0');
		for (; digits < 3; digits++)
			ms *= 10;
		n = k;
	}
	if (strcmp(s + n, "Z") != 0)
		fail_msg("timestamp not in UTC: %s", s);
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static void
iso_s(long long s, char *buf, size_t n)
{
	time_t t = (time_t)s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Appends "&KEY=VALUE" (or "?...") percent-encoded. */
static void
param(char *url, size_t n, const char *key, const char *value)
{
	size_t l = strlen(url);

	l += (size_t)snprintf(url + l, n - l, "%c%s=", strchr(url, '?') != NULL ? '&' : '?', key);
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0' && l + 4 < n; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
		    || *p == '-' || *p == '.' || *p == '_' || *p == '~')
			url[l++] = (char)*p;
		else
			l += (size_t)snprintf(url + l, n - l, "%%%02X", *p);
	}
	url[l] = '\0';
}

/* METRIC's Total of FILTER over TIMESPAN at PT1M, parsed with
 * metrics_parse (metrics_query only asks for windows ending now of at least
 * a minute; the test needs a few seconds around T). */
static void
query_metric(struct simclient *x, const char *gwid, const char *metric, const char *timespan,
    const char *filter, struct metrics_result *r)
{
	struct arm_response resp;
	char url[2048], err[1024];
	cJSON *j;
	int rc;

	snprintf(url, sizeof url, "%s/providers/Microsoft.Insights/metrics", gwid);
	param(url, sizeof url, "metricnames", metric);
	param(url, sizeof url, "timespan", timespan);
	param(url, sizeof url, "interval", "PT1M");
	param(url, sizeof url, "aggregation", "Total");
	if (filter != NULL)
		param(url, sizeof url, "$filter", filter);
	rc = arm_get(x->arm, url, NULL, &resp);
	if (rc != ARM_OK)
		fail_msg("metrics %s: %s", timespan, resp.message);
	j = cJSON_ParseWithLength(resp.body, resp.body_len);
	arm_response_free(&resp);
	assert_non_null(j);
	if (metrics_parse(j, metric, METRICS_TOTAL, r, err, sizeof err) != 0)
		fail_msg("metrics_parse: %s", err);
	cJSON_Delete(j);
}

static void
query(struct simclient *x, const char *gwid, const char *timespan, const char *filter,
    struct metrics_result *r)
{
	query_metric(x, gwid, "BackendResponseStatus", timespan, filter, r);
}

/* The start and end of an answer's "start/end" timespan, epoch ms. */
static void
span_of(const struct metrics_result *r, int64_t *a, int64_t *b)
{
	char buf[96], *slash;

	snprintf(buf, sizeof buf, "%s", r->timespan);
	slash = strchr(buf, '/');
	if (slash == NULL)
		fail_msg("answer's timespan is not start/end: %s", r->timespan);
	*slash = '\0';
	*a = stamp_ms(buf);
	*b = stamp_ms(slash + 1);
}

static void
test_points_in_wall_clock_time(void **state)
{
	struct simclient x;
	struct appgw_target t = { NULL, "rule-live-https", "pool-blue", "pool-green" };
	struct appgw_change ch;
	struct metrics_query q = { 0 };
	struct metrics_result r;
	char gwid[512], err[1024], s1[32], s2[32], span[80];
	int64_t T, now, a, b, asked_a, asked_b;
	double before = 0, after = 0;
	int nafter = 0;

	(void)state;
	simclient_start(&x);
	snprintf(gwid, sizeof gwid, "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.Network/applicationGateways/agw-prod", x.sub, x.rg);
	t.gateway_id = gwid;

	/* All traffic on blue (as the default world has it) for a while: its
	 * backends are Ready and answering 2xx. */
	if (appgw_set_weights(x.arm, &t, 100, 0, NULL, NULL, &ch, err, sizeof err) != 0)
		fail_msg("set_weights 100/0: %s", err);
	appgw_change_free(&ch);
	sleep_ms(2500);
	/* Everything to green; the change is in effect when the call returns. */
	if (appgw_set_weights(x.arm, &t, 0, 100, NULL, NULL, &ch, err, sizeof err) != 0)
		fail_msg("set_weights 0/100: %s", err);
	assert_true(ch.now.green.share > 99.9);
	appgw_change_free(&ch);
	T = wall_ms();
	/* About 2 s, until the whole second before now is at least 2.5 s past
	 * T, so that several buckets lie wholly after the switch. */
	sleep_ms(2000);
	while ((now = wall_ms()) / 1000 * 1000 < T + 2500)
		sleep_ms(100);

	/* [T - 1 s, now] in the client's wall-clock time, whole seconds as
	 * metrics_timespan() writes them. */
	asked_a = (T / 1000 - 1) * 1000;
	asked_b = (now / 1000) * 1000;
	iso_s(asked_a / 1000, s1, sizeof s1);
	iso_s(asked_b / 1000, s2, sizeof s2);
	snprintf(span, sizeof span, "%s/%s", s1, s2);
	query(&x, gwid, span, BLUE, &r);
	assert_string_equal(r.interval, "PT1M");
	/* The answer's timespan is the asked one, its start aligned down to a
	 * simulated minute (at most one bucket earlier). */
	span_of(&r, &a, &b);
	assert_true(b == asked_b);
	assert_true(a <= asked_a && a > asked_a - BUCKET_MS - 2);
	/* About (asked_b - asked_a) / bucket points, not a simulated hour's. */
	assert_true(r.npoints >= (size_t)((asked_b - asked_a) / BUCKET_MS));
	assert_true(r.npoints <= (size_t)((asked_b - asked_a) / BUCKET_MS + 2));
	for (size_t i = 0; i < r.npoints; i++) {
		int64_t s = stamp_ms(r.points[i].time);

		/* In the wall-clock window, never in the simulated future. */
		if (s < a || s >= b || s > wall_ms())
			fail_msg("point %s outside the window %s (T %lld)", r.points[i].time, r.timespan,
			    (long long)T);
		if (i > 0) {
			int64_t gap = s - stamp_ms(r.points[i - 1].time);
			assert_true(gap >= BUCKET_MS - 2 && gap <= BUCKET_MS + 2);
		}
		assert_true(r.points[i].has);
		if (s + BUCKET_MS <= T)
			before += r.points[i].value;
		if (s >= T + BUCKET_MS) {
			nafter++;
			after += r.points[i].value;
			if (r.points[i].value != 0)
				fail_msg("blue traffic %g at %s, after the switch at T = %lld ms", r.points[i].value,
				    r.points[i].time, (long long)T);
		}
	}
	/* The window does see blue before the switch, and buckets after it. */
	assert_true(nafter >= 2);
	assert_true(after == 0);
	assert_true(before > 0);
	metrics_result_free(&r);

	/* A window before T, as the metric checks ask (metrics_query, a minute
	 * of wall clock ending at T - 1 s): blue had traffic. */
	q.resource_id = gwid;
	q.metric = "BackendResponseStatus";
	q.aggregation = "Total";
	q.filter = BLUE;
	q.window_ms = 60000;
	q.now_s = T / 1000 - 1;
	if (metrics_query(x.arm, &q, NULL, &r, err, sizeof err) != 0)
		fail_msg("before T: %s", err);
	assert_true(r.has_value);
	assert_true(r.value > 0);
	for (size_t i = 0; i < r.npoints; i++)
		assert_true(stamp_ms(r.points[i].time) < (T / 1000 - 1) * 1000);
	metrics_result_free(&r);

	/* The same minute for green: nothing before the switch, since green had
	 * no weight (a filter on a value that never occurred: no series). */
	q.filter = "BackendPool eq 'pool-green'";
	q.now_s = (T - 1000) / 1000 - 1;
	if (metrics_query(x.arm, &q, NULL, &r, err, sizeof err) != 0)
		fail_msg("green before T: %s", err);
	assert_true(r.has_value);
	assert_true(r.value == 0);
	metrics_result_free(&r);

	/* The gateway went on serving after T (to green, whose cluster may not
	 * answer yet): blue's zero is the weights, not a pause in traffic. */
	query_metric(&x, gwid, "TotalRequests", span, NULL, &r);
	after = 0;
	for (size_t i = 0; i < r.npoints; i++)
		if (stamp_ms(r.points[i].time) >= T + BUCKET_MS)
			after += r.points[i].value;
	assert_true(after > 0);
	metrics_result_free(&r);
	simclient_stop(&x);
}

/* A duration alone is simulated time ending at the simulated now; its
 * points are still stamped in wall-clock time, the last one just before
 * the real now. */
static void
test_duration_timespan(void **state)
{
	struct simclient x;
	struct metrics_result r;
	char gwid[512];
	int64_t t0, t1, a, b;

	(void)state;
	simclient_start(&x);
	snprintf(gwid, sizeof gwid, "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.Network/applicationGateways/agw-prod", x.sub, x.rg);
	sleep_ms(500);
	t0 = wall_ms();
	query(&x, gwid, "PT10M", NULL, &r);
	t1 = wall_ms();
	/* Ten simulated minutes: 10 or 11 points 0.6 real seconds apart. */
	assert_true(r.npoints == 10 || r.npoints == 11);
	span_of(&r, &a, &b);
	assert_true(b >= t0 - 1000 && b <= t1 + 1000);
	assert_true(b - a >= 10 * BUCKET_MS - 1000 && b - a <= 11 * BUCKET_MS + 1000);
	for (size_t i = 0; i < r.npoints; i++) {
		int64_t s = stamp_ms(r.points[i].time);

		assert_true(s >= a && s < b);
		assert_true(s <= t1);
	}
	metrics_result_free(&r);
	simclient_stop(&x);
}

/* A day of wall clock is 100 simulated days at speed 100: answered for the
 * kept simulated day, not refused for too many points. */
static void
test_long_window_clipped(void **state)
{
	struct simclient x;
	struct metrics_query q = { 0 };
	struct metrics_result r;
	char gwid[512], err[1024];
	int64_t a, b, now;

	(void)state;
	simclient_start(&x);
	snprintf(gwid, sizeof gwid, "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.Network/applicationGateways/agw-prod", x.sub, x.rg);
	sleep_ms(1500);
	q.resource_id = gwid;
	q.metric = "TotalRequests";
	q.aggregation = "Total";
	q.window_ms = 86400000L;
	now = wall_ms();
	if (metrics_query(x.arm, &q, NULL, &r, err, sizeof err) != 0)
		fail_msg("a day of wall clock: %s", err);
	assert_true(r.has_value);
	assert_true(r.value > 0);
	assert_true(r.npoints >= 1440 && r.npoints <= 1441);
	span_of(&r, &a, &b);
	/* The kept day: 86400 / 100 real seconds before the end. */
	assert_true(b >= now - 2000 && b <= now + 1000);
	assert_true(b - a >= 864000 - 2000 && b - a <= 864000 + BUCKET_MS + 2000);
	metrics_result_free(&r);
	/* Wholly in the future, longer than a day: its first day, empty. */
	q.window_ms = 3 * 86400000L;
	q.now_s = now / 1000 + 30 * 86400;
	if (metrics_query(x.arm, &q, NULL, &r, err, sizeof err) != 0)
		fail_msg("three future days: %s", err);
	assert_true(r.npoints >= 1440 && r.npoints <= 1441);
	assert_true(r.value == 0);
	metrics_result_free(&r);
	simclient_stop(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_points_in_wall_clock_time),
		cmocka_unit_test(test_duration_timespan),
		cmocka_unit_test(test_long_window_clipped),
	};

	signal(SIGPIPE, SIG_IGN);
	log_set_stream(stderr, getenv("BGSWITCH_TEST_LOG") != NULL ? LOG_DEBUG : LOG_OFF);
	return cmocka_run_group_tests_name("sim_metrics_clock", tests, NULL, NULL);
}
