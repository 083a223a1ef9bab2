/*
 * metrics.c — one Azure Monitor metric over a window, reduced to a value.
 * The API and the reduction rules are described in metrics.h.
 *
 * Query parameters are percent-encoded here (a $filter holds spaces and
 * quotes, the timespan ':' and '/'), because the ARM client refuses paths
 * with spaces rather than guess at encoding.
 */
#include "azure/metrics.h"
#include "src/util.h"

#include "src/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MOD "metrics"

static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
copy(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s != NULL ? s : "");
}

static const char *const agg_names[] = {
	[METRICS_AVERAGE] = "Average",
	[METRICS_TOTAL] = "Total",
	[METRICS_MAXIMUM] = "Maximum",
	[METRICS_MINIMUM] = "Minimum",
	[METRICS_COUNT] = "Count",
};

/* The MetricValue member that carries each aggregation. */
static const char *const agg_fields[] = {
	[METRICS_AVERAGE] = "average",
	[METRICS_TOTAL] = "total",
	[METRICS_MAXIMUM] = "maximum",
	[METRICS_MINIMUM] = "minimum",
	[METRICS_COUNT] = "count",
};

int
metrics_agg_parse(const char *s)
{
	for (size_t i = 0; s != NULL && i < sizeof agg_names / sizeof agg_names[0]; i++)
		if (strcasecmp(s, agg_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
metrics_agg_name(enum metrics_agg a)
{
	return (size_t)a < sizeof agg_names / sizeof agg_names[0] ? agg_names[a] : "?";
}

int
metrics_timespan(long long now_s, long window_ms, char *out, size_t n)
{
	time_t end = (time_t)now_s, start = (time_t)(now_s - window_ms / 1000);
	struct tm a, b;
	char s1[32], s2[32];

	if (out == NULL || n == 0 || window_ms < 1000 || now_s <= 0)
		return -1;
	if (gmtime_r(&start, &a) == NULL || gmtime_r(&end, &b) == NULL
	    || strftime(s1, sizeof s1, "%Y-%m-%dT%H:%M:%SZ", &a) == 0
	    || strftime(s2, sizeof s2, "%Y-%m-%dT%H:%M:%SZ", &b) == 0)
		return -1;
	return (size_t)snprintf(out, n, "%s/%s", s1, s2) < n ? 0 : -1;
}

void
metrics_result_free(struct metrics_result *r)
{
	if (r == NULL)
		return;
	free(r->points);
	r->points = NULL;
	r->npoints = 0;
}

/* Folds V into ACC as AGG folds points. */
static double
fold(enum metrics_agg agg, double acc, double v)
{
	switch (agg) {
	case METRICS_MAXIMUM:
		return v > acc ? v : acc;
	case METRICS_MINIMUM:
		return v < acc ? v : acc;
	default:
		return acc + v;		/* total, count; average divides later */
	}
}

int
metrics_parse(const cJSON *body, const char *metric, enum metrics_agg agg,
    struct metrics_result *r, char *err, size_t errlen)
{
	const cJSON *m = NULL, *e, *ts, *pt;
	const char *field;
	double sum = 0;
	int *navg = NULL;

	if (r == NULL)
		return METRICS_E_INVALID;
	memset(r, 0, sizeof *r);
	r->agg = agg;
	if ((size_t)agg >= sizeof agg_fields / sizeof agg_fields[0] || metric == NULL) {
		util_errf(err, errlen, "metrics: bad aggregation or metric name");
		return METRICS_E_INVALID;
	}
	field = agg_fields[agg];
	copy(r->metric, sizeof r->metric, metric);
	if (!cJSON_IsObject(body) || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "value"))) {
		util_errf(err, errlen, "metrics: the answer has no value array");
		return METRICS_E_BODY;
	}
	copy(r->timespan, sizeof r->timespan, jstr(body, "timespan"));
	copy(r->interval, sizeof r->interval, jstr(body, "interval"));
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(body, "value")) {
		const char *n = jstr(cJSON_GetObjectItemCaseSensitive(e, "name"), "value");

		if (n != NULL && strcasecmp(n, metric) == 0)
			m = e;
	}
	if (m == NULL) {
		util_errf(err, errlen, "metrics: the answer has no metric %s", metric);
		return METRICS_E_BODY;
	}
	copy(r->unit, sizeof r->unit, jstr(m, "unit"));
	if (jstr(m, "errorCode") != NULL && strcasecmp(jstr(m, "errorCode"), "Success") != 0) {
		util_errf(err, errlen, "metric %s: %s: %s", metric, jstr(m, "errorCode"),
		    jstr(m, "errorMessage") != NULL ? jstr(m, "errorMessage") : "(no message)");
		return METRICS_E_QUERY;
	}
	cJSON_ArrayForEach(ts, cJSON_GetObjectItemCaseSensitive(m, "timeseries")) {
		r->series++;
		cJSON_ArrayForEach(pt, cJSON_GetObjectItemCaseSensitive(ts, "data")) {
			const char *t = jstr(pt, "timeStamp");
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(pt, field);
			struct metrics_point *p = NULL;

			if (t == NULL)
				continue;
			for (size_t i = 0; i < r->npoints; i++)
				if (strcmp(r->points[i].time, t) == 0)
					p = &r->points[i];
			if (p == NULL) {
				struct metrics_point *np = realloc(r->points, (r->npoints + 1) * sizeof *np);
				int *nn = realloc(navg, (r->npoints + 1) * sizeof *nn);

				if (nn != NULL)
					navg = nn;
				if (np != NULL)
					r->points = np;
				if (np == NULL || nn == NULL) {
					free(navg);
					metrics_result_free(r);
					util_errf(err, errlen, "out of memory");
					return METRICS_E_BODY;
				}
				p = &r->points[r->npoints];
				memset(p, 0, sizeof *p);
				navg[r->npoints] = 0;
				copy(p->time, sizeof p->time, t);
				r->npoints++;
			}
			if (!cJSON_IsNumber(v))
				continue;
			p->value = p->has ? fold(agg, p->value, v->valuedouble) : v->valuedouble;
			p->has = 1;
			navg[p - r->points]++;
			r->value = r->has_value ? fold(agg, r->value, v->valuedouble) : v->valuedouble;
			r->has_value = 1;
			sum += v->valuedouble;
			r->samples++;
		}
	}
	if (r->series == 0 && (agg == METRICS_TOTAL || agg == METRICS_COUNT)) {
		/* A $filter on a dimension value that never occurred answers with
		 * no time series at all: zero events (see metrics.h). */
		r->value = 0;
		r->has_value = 1;
	}
	if (agg == METRICS_AVERAGE) {
		/* The mean of every point's average, and per timestamp the mean
		 * of the series' averages. */
		r->value = r->samples > 0 ? sum / r->samples : 0;
		for (size_t i = 0; i < r->npoints; i++)
			if (navg[i] > 0)
				r->points[i].value /= navg[i];
	}
	free(navg);
	return 0;
}

/* Appends "&KEY=VALUE", VALUE percent-encoded (RFC 3986 unreserved kept). */
static int
add_param(char *url, size_t n, const char *key, const char *value)
{
	size_t l = strlen(url);
	int w = snprintf(url + l, n - l, "%c%s=", strchr(url, '?') != NULL ? '&' : '?', key);

	if (w < 0 || (size_t)w >= n - l)
		return -1;
	l += (size_t)w;
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (l + 4 >= n)
			return -1;
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
		    || *p == '-' || *p == '.' || *p == '_' || *p == '~')
			url[l++] = (char)*p;
		else
			l += (size_t)snprintf(url + l, n - l, "%%%02X", *p);
	}
	url[l] = '\0';
	return 0;
}

int
metrics_query(struct arm_client *c, const struct metrics_query *q, const struct arm_opts *opts,
    struct metrics_result *out, char *err, size_t errlen)
{
	char url[2048], span[96];
	struct arm_response r;
	cJSON *j;
	int agg, rc;
	long long now;

	if (out == NULL)
		return METRICS_E_INVALID;
	memset(out, 0, sizeof *out);
	if (c == NULL || q == NULL || q->resource_id == NULL || q->resource_id[0] != '/'
	    || q->metric == NULL || q->metric[0] == '\0' || strchr(q->metric, ',') != NULL) {
		util_errf(err, errlen, "metrics: a resource id and one metric name are needed");
		return METRICS_E_INVALID;
	}
	agg = metrics_agg_parse(q->aggregation != NULL ? q->aggregation : "Average");
	if (agg < 0) {
		util_errf(err, errlen, "metrics: unknown aggregation \"%.40s\" (Total, Average, Maximum, "
		    "Minimum or Count)", q->aggregation);
		return METRICS_E_INVALID;
	}
	if (q->window_ms < 60000) {
		util_errf(err, errlen, "metrics: the window must be at least one minute");
		return METRICS_E_INVALID;
	}
	now = q->now_s > 0 ? q->now_s : (long long)time(NULL);
	if (metrics_timespan(now, q->window_ms, span, sizeof span) != 0
	    || (size_t)snprintf(url, sizeof url, "%s/providers/Microsoft.Insights/metrics",
	    q->resource_id) >= sizeof url
	    || add_param(url, sizeof url, "metricnames", q->metric) != 0
	    || add_param(url, sizeof url, "timespan", span) != 0
	    || add_param(url, sizeof url, "interval", q->interval != NULL ? q->interval : "PT1M") != 0
	    || add_param(url, sizeof url, "aggregation", metrics_agg_name((enum metrics_agg)agg)) != 0
	    || (q->filter != NULL && *q->filter != '\0'
	    && add_param(url, sizeof url, "$filter", q->filter) != 0)
	    || (q->metric_namespace != NULL && *q->metric_namespace != '\0'
	    && add_param(url, sizeof url, "metricnamespace", q->metric_namespace) != 0)) {
		util_errf(err, errlen, "metrics: query too long");
		return METRICS_E_INVALID;
	}
	rc = arm_get(c, url, opts, &r);
	if (rc != ARM_OK) {
		util_errf(err, errlen, "metric %s: %s", q->metric, r.message);
		arm_response_free(&r);
		return rc;
	}
	j = r.body_len > 0 ? cJSON_ParseWithLength(r.body, r.body_len) : NULL;
	arm_response_free(&r);
	rc = metrics_parse(j, q->metric, (enum metrics_agg)agg, out, err, errlen);
	cJSON_Delete(j);
	if (rc == 0)
		log_debug(MOD, "%s %s over %s: %s%.3f (%d samples, %d series)", q->metric,
		    metrics_agg_name((enum metrics_agg)agg), span, out->has_value ? "" : "no data, ",
		    out->value, out->samples, out->series);
	return rc;
}
