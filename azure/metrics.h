/*
 * metrics.h — Azure Monitor platform metrics of the Application Gateway
 * (or any resource), as the switchover's metric checks read them: one
 * metric over the last WINDOW, aggregated into one number.
 *
 * API: GET {resourceId}/providers/Microsoft.Insights/metrics
 * ?api-version=2023-10-01&metricnames=...&timespan=START/END&interval=PT1M
 * &aggregation=...&$filter=... (Azure/azure-rest-api-specs,
 * specification/monitor/resource-manager/Microsoft.Insights/stable/
 * 2023-10-01/metrics_API.json; examples GetMetric.json, GetMetricError.json).
 * The answer is {timespan, interval, value[]: {name{value}, unit,
 * errorCode, errorMessage, timeseries[]: {metadatavalues[], data[]:
 * {timeStamp, total, average, count, minimum, maximum}}}}.  A $filter on a
 * dimension (e.g. "HttpStatusGroup eq '5xx'") can split the metric into
 * several time series; they are combined.
 *
 * How the window's value is formed from the points: Total and Count are
 * summed, Average is the mean of the points' averages, Maximum the largest
 * maximum, Minimum the smallest minimum.  A window whose time series
 * carry no point with the asked aggregation has no value (has_value 0):
 * the metric was not emitted, and the caller decides what that means for
 * its check; it is never reported as 0.  One case is different: when a
 * $filter selects a dimension value that never occurred (no 5xx answers
 * in the window), the service returns the metric with no time series at
 * all; for Total and Count that is a count of zero events, so the value is
 * 0 (has_value 1, series 0).
 */
#ifndef BGSWITCH_AZURE_METRICS_H
#define BGSWITCH_AZURE_METRICS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "azure/arm.h"

enum metrics_rc {
	METRICS_E_INVALID = -50,	/* bad arguments (aggregation, window, names) */
	METRICS_E_BODY = -51,		/* an answer we cannot use */
	METRICS_E_QUERY = -52,		/* the service refused the metric (errorCode) */
};

enum metrics_agg {
	METRICS_AVERAGE,
	METRICS_TOTAL,
	METRICS_MAXIMUM,
	METRICS_MINIMUM,
	METRICS_COUNT,
};

struct metrics_query {
	const char *resource_id;	/* e.g. the application gateway's id */
	const char *metric;		/* one metric name, e.g. "ResponseStatus" */
	const char *aggregation;	/* Total | Average | Maximum | Minimum | Count (any case) */
	const char *filter;		/* $filter, e.g. "HttpStatusGroup eq '5xx'"; may be NULL */
	const char *metric_namespace;	/* may be NULL (the resource type's default) */
	const char *interval;		/* ISO 8601 duration; NULL = "PT1M" */
	long window_ms;			/* the timespan ends now and is this long (>= 1 min) */
	long long now_s;		/* Unix seconds of "now"; 0 = the clock (tests set it) */
};

struct metrics_point {
	char time[32];			/* timeStamp as returned */
	double value;			/* series combined as for the window */
	int has;			/* 0: no series carried the aggregation here */
};

struct metrics_result {
	char metric[128];
	char unit[32];
	char timespan[96];
	char interval[16];
	enum metrics_agg agg;
	double value;			/* the window's value */
	int has_value;
	int samples;			/* points that carried the aggregation */
	int series;			/* time series combined */
	struct metrics_point *points;	/* one per timestamp, owned */
	size_t npoints;
};

/* Aggregation name (case-insensitive) to enum; -1 when unknown. */
int metrics_agg_parse(const char *s);
/* "Total", ... as the API spells them. */
const char *metrics_agg_name(enum metrics_agg a);

/* "YYYY-MM-DDTHH:MM:SSZ/YYYY-MM-DDTHH:MM:SSZ" ending at NOW_S.  0 or -1. */
int metrics_timespan(long long now_s, long window_ms, char *out, size_t n);

/* Runs Q.  An unknown metric name comes back as the API's 400 message
 * (ARM_E_STATUS), a per-metric failure as METRICS_E_QUERY. */
int metrics_query(struct arm_client *c, const struct metrics_query *q,
    const struct arm_opts *opts, struct metrics_result *out, char *err, size_t errlen);

/* Parses a metrics answer for METRIC with AGG into OUT. */
int metrics_parse(const cJSON *body, const char *metric, enum metrics_agg agg,
    struct metrics_result *out, char *err, size_t errlen);

void metrics_result_free(struct metrics_result *r);

#endif
