/*
 * sim_arm_metrics.c — Microsoft.Insights/metrics for the simulated
 * application gateway: GET {gatewayId}/providers/Microsoft.Insights/metrics
 * with metricnames, timespan, interval, aggregation, $filter, top and
 * metricnamespace, answering in the MetricCollection shape of
 * specification/monitor/resource-manager/Microsoft.Insights/stable/
 * 2023-10-01/examples/GetMetric.json ({cost, timespan, interval, value:
 * [{id, type, name{value, localizedValue}, displayDescription, unit,
 * timeseries: [{metadatavalues, data: [{timeStamp, total, ...}]}],
 * errorCode}], namespace, resourceregion}).
 *
 * The numbers come from simulated traffic: the gateway's requests_per_second
 * is split across backend pools by the applied weights; a pool with at least
 * one healthy backend (as the Kubernetes side reports it) answers 2xx (with
 * a little 3xx and 4xx), a pool with none answers 502.  The ticker adds the
 * traffic and the healthy/unhealthy host time of every pool into one bucket
 * per simulated minute, kept for a simulated day, and queries aggregate
 * those buckets: each minute with data is one sample, and total / average /
 * minimum / maximum / count fold the samples of an interval as Azure
 * Monitor does.
 *
 * Metrics (unit Count): TotalRequests, FailedRequests (dimension
 * BackendSettingsPool, "pool~settings"), ResponseStatus (HttpStatusGroup),
 * BackendResponseStatus (BackendServer, BackendPool, BackendHttpSetting,
 * HttpStatusGroup; responses of the backends only, so no gateway 502s),
 * HealthyHostCount and UnhealthyHostCount (BackendSettingsPool, average).
 *
 * Time is compressed (sim_world.c): buckets are simulated minutes, but a
 * client computes the instants of its timespan from its own (real) wall
 * clock, as Azure Monitor expects ("2026-11-26T12:00:00Z/2026-11-26T12:05:00Z").
 * So every instant a request names is a wall-clock instant r, mapped to
 * simulated time with S(r) = sim_start + (r - sim_start) * speed, and every
 * instant the answer names (each point's timeStamp, the "timespan" text) is
 * a simulated instant s mapped back with R(s) = sim_start + (s - sim_start)
 * / speed (sim_start: the wall clock when the simulator started, which is
 * also simulated time's origin).  A point is thus stamped with the client's
 * wall-clock time of the start of its bucket, and "was there traffic after
 * 12:00:03" can be read off the points.  Durations stay simulated: a
 * timespan given as a duration alone ("PT10M", or the default hour) is that
 * much simulated time ending at the simulated now, the duration of
 * "start/PT10M" or "PT10M/end" is simulated too, and the interval is the
 * simulated grain (at speed 100 the PT1M points are 0.6 real seconds
 * apart).  Mapped instants that are not whole seconds are printed with
 * milliseconds ("12:00:03.600Z").  A wall-clock window longer than the kept
 * simulated day is answered for its part in that day (or its last day)
 * rather than refused for too many points; the answer's timespan says
 * which.  At speed 1 both mappings are the identity.
 *
 * $filter takes "Dim eq 'value'" terms (value '*'
 * splits by every value) joined with and / or; terms on one dimension are
 * alternatives, terms on different dimensions all apply.  Splitting by a
 * dimension lists only the values that occurred in the timespan, so a
 * filter on a value that never occurred answers "timeseries": [].
 */
#include "sim/sim_arm.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MET_MINUTES 1440
#define MET_GROUPS 4			/* 2xx 3xx 4xx 5xx */
#define MET_MAX_DIMS 4
#define MET_MAX_SERIES 64
#define MET_MAX_POINTS 100000

static const char *const group_name[MET_GROUPS] = { "2xx", "3xx", "4xx", "5xx" };

struct bucket {
	int64_t minute;			/* simulated epoch minute; -1 unused */
	double sampled_ms;
	double req[SIM_ARM_MAX_POOLS][MET_GROUPS];
	double up_ms[SIM_ARM_MAX_POOLS];
	double down_ms[SIM_ARM_MAX_POOLS];
};

static struct {
	struct bucket b[MET_MINUTES];
	char slot[SIM_ARM_MAX_POOLS][128];	/* pool name of each bucket slot */
	int nslot;
	int64_t last_ms;
	int healthy[SIM_ARM_MAX_POOLS];	/* healthy backends per pool, last asked */
	int health_npools;
	int64_t health_ms;
} M;

enum { K_TOTAL, K_FAILED, K_STATUS, K_BACKEND, K_HEALTHY, K_UNHEALTHY };
enum { A_AVG = 1, A_COUNT = 2, A_MIN = 4, A_MAX = 8, A_TOTAL = 16 };
enum { D_STATUS, D_SETTINGS_POOL, D_POOL, D_SETTING, D_SERVER, D_NDIMS };

static const char *const dim_name[D_NDIMS] = {
	"HttpStatusGroup", "BackendSettingsPool", "BackendPool", "BackendHttpSetting", "BackendServer",
};

struct mdef {
	const char *name, *display, *desc;
	int kind, primary;
	unsigned dims;			/* bit per D_* */
};

static const struct mdef metrics[] = {
	{ "TotalRequests", "Total Requests", "Count of successful requests that Application Gateway has served",
	    K_TOTAL, A_TOTAL, 1u << D_SETTINGS_POOL },
	{ "FailedRequests", "Failed Requests", "Count of failed requests that Application Gateway has served",
	    K_FAILED, A_TOTAL, 1u << D_SETTINGS_POOL },
	{ "ResponseStatus", "Response Status", "Http response status returned by Application Gateway",
	    K_STATUS, A_TOTAL, 1u << D_STATUS },
	{ "BackendResponseStatus", "Backend Response Status",
	    "The number of HTTP response codes generated by the backend members. This does not include any "
	    "response codes generated by the Application Gateway.",
	    K_BACKEND, A_TOTAL, (1u << D_STATUS) | (1u << D_POOL) | (1u << D_SETTING) | (1u << D_SERVER) },
	{ "HealthyHostCount", "Healthy Host Count", "Number of healthy backend hosts",
	    K_HEALTHY, A_AVG, 1u << D_SETTINGS_POOL },
	{ "UnhealthyHostCount", "Unhealthy Host Count", "Number of unhealthy backend hosts",
	    K_UNHEALTHY, A_AVG, 1u << D_SETTINGS_POOL },
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

/* ---- accumulating ------------------------------------------------------------------- */

void
sim_arm_metrics_reset(void)
{
	memset(&M, 0, sizeof M);
	for (int i = 0; i < MET_MINUTES; i++)
		M.b[i].minute = -1;
}

static int
slot_of(const char *pool)
{
	for (int i = 0; i < M.nslot; i++)
		if (strcmp(M.slot[i], pool) == 0)
			return i;
	if (M.nslot >= SIM_ARM_MAX_POOLS)
		return -1;
	snprintf(M.slot[M.nslot], sizeof M.slot[0], "%s", pool);
	return M.nslot++;
}

static struct bucket *
bucket_at(int64_t minute)
{
	struct bucket *b = &M.b[minute % MET_MINUTES];

	if (b->minute != minute) {
		memset(b, 0, sizeof *b);
		b->minute = minute;
	}
	return b;
}

void
sim_arm_metrics_tick(int64_t now_ms)
{
	const struct sim_arm_traffic *t = sim_arm_appgw_traffic();
	int healthy[SIM_ARM_MAX_POOLS], slot[SIM_ARM_MAX_POOLS];
	int64_t a;

	if (M.last_ms == 0 || now_ms < M.last_ms || t == NULL) {
		M.last_ms = now_ms;
		return;
	}
	/* Never replay more than the retention: a stalled clock is not traffic. */
	if (now_ms - M.last_ms > (int64_t)MET_MINUTES * 60000)
		M.last_ms = now_ms - (int64_t)MET_MINUTES * 60000;
	/* Backend health is asked of the Kubernetes side about once a real
	 * second, not on every tick: it may have to look at many pods. */
	if (now_ms - M.health_ms >= (int64_t)(sim_world.speed * 1000) || M.health_npools != t->npools) {
		for (int i = 0; i < t->npools; i++) {
			M.healthy[i] = 0;
			for (int k = 0; k < t->pool[i].naddr; k++)
				M.healthy[i] += sim_kube_address_health(t->pool[i].addr[k]) == 1;
		}
		M.health_ms = now_ms;
		M.health_npools = t->npools;
	}
	for (int i = 0; i < t->npools; i++) {
		healthy[i] = M.healthy[i] <= t->pool[i].naddr ? M.healthy[i] : t->pool[i].naddr;
		slot[i] = slot_of(t->pool[i].name);
	}
	for (a = M.last_ms; a < now_ms;) {
		int64_t minute = a / 60000, b = (minute + 1) * 60000;
		struct bucket *bk;
		double dt, req;

		if (b > now_ms)
			b = now_ms;
		dt = (double)(b - a);
		bk = bucket_at(minute);
		bk->sampled_ms += dt;
		req = t->rps * dt / 1000.0;
		for (int i = 0; i < t->npools; i++) {
			double r = req * t->pool[i].share;
			int s = slot[i];

			if (s < 0)
				continue;
			if (healthy[i] > 0) {
				bk->req[s][0] += r * 0.97;
				bk->req[s][1] += r * 0.01;
				bk->req[s][2] += r * 0.02;
			} else {
				bk->req[s][3] += r;	/* 502 Bad Gateway */
			}
			bk->up_ms[s] += healthy[i] * dt;
			bk->down_ms[s] += (t->pool[i].naddr - healthy[i]) * dt;
		}
		a = b;
	}
	M.last_ms = now_ms;
}

/* ---- parsing the query ---------------------------------------------------------------- */

static int64_t
epoch_of_date(int y, int m, int d)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return (int64_t)timegm(&tm);
}

/* ISO 8601 date-time (or date) into epoch ms; -1 when not one. */
static int64_t
parse_time(const char *s, size_t len)
{
	int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
	double frac = 0;
	int64_t t;
	char buf[64];
	const char *p;

	if (len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sscanf(buf, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return -1;
	p = buf + n;
	if (*p == 'T' || *p == ' ') {
		int k = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &k) != 2)
			return -1;
		p += 1 + k;
		if (*p == ':') {
			if (sscanf(p + 1, "%2d%n", &se, &k) != 1)
				return -1;
			p += 1 + k;
			if (*p == '.') {
				char *end;
				frac = strtod(p, &end);
				p = end;
			}
		}
	}
	t = epoch_of_date(y, mo, d) * 1000 + ((int64_t)h * 3600 + mi * 60 + se) * 1000 + (int64_t)(frac * 1000);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om = 0, sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) < 1 && sscanf(p + 1, "%2d%2d", &oh, &om) < 1)
			return -1;
		t -= sign * ((int64_t)oh * 3600 + om * 60) * 1000;
		p += strlen(p);
	}
	return *p == '\0' ? t : -1;
}

/* ISO 8601 duration (PnDTnHnMnS, PnW) into ms; -1 when not one. */
static int64_t
parse_duration(const char *s, size_t len)
{
	int64_t ms = 0;
	int in_time = 0, any = 0;
	size_t i = 0;

	if (len < 2 || (s[0] != 'P' && s[0] != 'p'))
		return -1;
	for (i = 1; i < len;) {
		double v;
		char *end, unit, buf[32];
		size_t k = 0;

		if (s[i] == 'T' || s[i] == 't') {
			in_time = 1;
			i++;
			continue;
		}
		while (i + k < len && (isdigit((unsigned char)s[i + k]) || s[i + k] == '.') && k + 1 < sizeof buf) {
			buf[k] = s[i + k];
			k++;
		}
		buf[k] = '\0';
		if (k == 0 || i + k >= len)
			return -1;
		v = strtod(buf, &end);
		unit = (char)toupper((unsigned char)s[i + k]);
		i += k + 1;
		any = 1;
		if (!in_time && unit == 'D')
			ms += (int64_t)(v * 86400000.0);
		else if (!in_time && unit == 'W')
			ms += (int64_t)(v * 7 * 86400000.0);
		else if (in_time && unit == 'H')
			ms += (int64_t)(v * 3600000.0);
		else if (in_time && unit == 'M')
			ms += (int64_t)(v * 60000.0);
		else if (in_time && unit == 'S')
			ms += (int64_t)(v * 1000.0);
		else
			return -1;
	}
	return any ? ms : -1;
}

/* ---- compressed time ------------------------------------------------------------------------ */

/* S(r): the simulated instant of the wall-clock instant R (epoch ms). */
static int64_t
sim_of_wall(int64_t r)
{
	if (sim_world.speed == 1.0)
		return r;
	return sim_world.sim_start_ms + llround((double)(r - sim_world.sim_start_ms) * sim_world.speed);
}

/* R(s): the wall-clock instant of the simulated instant S (epoch ms). */
static int64_t
wall_of_sim(int64_t s)
{
	if (sim_world.speed == 1.0)
		return s;
	return sim_world.sim_start_ms + llround((double)(s - sim_world.sim_start_ms) / sim_world.speed);
}

/* The wall-clock time of simulated instant S as the answer prints it:
 * "2026-11-26T18:00:00Z", with milliseconds when it has them at another
 * speed than 1 ("2026-11-26T18:00:00.600Z"). */
static void
wall_text(int64_t s, char *buf, size_t n)
{
	int64_t r = wall_of_sim(s);
	int ms = (int)(((r % 1000) + 1000) % 1000);
	char base[40];

	if (sim_world.speed == 1.0 || ms == 0) {
		sim_time_rfc3339(r, buf, n);
		return;
	}
	sim_time_rfc3339(r - ms, base, sizeof base);
	if (strlen(base) > 0 && base[strlen(base) - 1] == 'Z')
		base[strlen(base) - 1] = '\0';
	snprintf(buf, n, "%s.%03dZ", base, ms);
}

/* "start/end", "start/duration", "duration/end" or "duration" (ending at
 * the simulated NOW), into simulated [*START, *END).  Instants are the
 * client's wall clock and are mapped with S(); durations are simulated.
 * *MAPPED: 1 when an instant was given. */
static int
parse_timespan(const char *ts, int64_t now, int64_t *start, int64_t *end, int *mapped)
{
	const char *slash = strchr(ts, '/');
	int64_t a, b;

	*mapped = 0;
	if (slash == NULL) {
		a = parse_duration(ts, strlen(ts));
		if (a < 0)
			return -1;
		*end = now;
		*start = now - a;
		return 0;
	}
	a = parse_time(ts, (size_t)(slash - ts));
	b = parse_time(slash + 1, strlen(slash + 1));
	*mapped = 1;
	if (a >= 0 && b >= 0) {
		*start = sim_of_wall(a);
		*end = sim_of_wall(b);
	} else if (a >= 0 && (b = parse_duration(slash + 1, strlen(slash + 1))) >= 0) {
		*start = sim_of_wall(a);
		*end = *start + b;
	} else if (b >= 0 && (a = parse_duration(ts, (size_t)(slash - ts))) >= 0) {
		*end = sim_of_wall(b);
		*start = *end - a;
	} else {
		return -1;
	}
	return 0;
}

struct filter {
	int on[D_NDIMS];		/* dimension named in the filter */
	int all[D_NDIMS];		/* '*' */
	char val[D_NDIMS][8][160];	/* accepted values */
	int nval[D_NDIMS];
};

static void
skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static int
word_is(const char *p, const char *w)
{
	size_t n = strlen(w);

	return strncasecmp(p, w, n) == 0 && (p[n] == ' ' || p[n] == '\t' || p[n] == '(' || p[n] == '\0');
}

/* term := '(' expr ')' | DIM 'eq' 'value' ; expr := term (('and'|'or') term)* */
static int parse_expr(const char **p, struct filter *f, char *err, size_t errlen);

static int
parse_term(const char **p, struct filter *f, char *err, size_t errlen)
{
	char dim[64], val[160];
	size_t n = 0;
	int d;

	skip_ws(p);
	if (**p == '(') {
		(*p)++;
		if (parse_expr(p, f, err, errlen) != 0)
			return -1;
		skip_ws(p);
		if (**p != ')') {
			snprintf(err, errlen, "missing ')' in $filter");
			return -1;
		}
		(*p)++;
		return 0;
	}
	while ((isalnum((unsigned char)**p) || **p == '_' || **p == '.') && n + 1 < sizeof dim)
		dim[n++] = *(*p)++;
	dim[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "expected a dimension name in $filter at '%s'", *p);
		return -1;
	}
	skip_ws(p);
	if (!word_is(*p, "eq")) {
		snprintf(err, errlen, "only 'eq' comparisons are supported in $filter (at '%s')", *p);
		return -1;
	}
	*p += 2;
	skip_ws(p);
	if (**p != '\'') {
		snprintf(err, errlen, "expected a quoted value after '%s eq' in $filter", dim);
		return -1;
	}
	(*p)++;
	n = 0;
	for (;;) {
		if (**p == '\0') {
			snprintf(err, errlen, "unterminated value in $filter");
			return -1;
		}
		if (**p == '\'') {
			if ((*p)[1] == '\'') {
				*p += 2;
				if (n + 1 < sizeof val)
					val[n++] = '\'';
				continue;
			}
			(*p)++;
			break;
		}
		if (n + 1 < sizeof val)
			val[n++] = **p;
		(*p)++;
	}
	val[n] = '\0';
	for (d = 0; d < D_NDIMS; d++)
		if (strcasecmp(dim, dim_name[d]) == 0)
			break;
	if (d == D_NDIMS) {
		snprintf(err, errlen, "@%s", dim);	/* an unknown dimension: reported by the caller */
		return -1;
	}
	f->on[d] = 1;
	if (strcmp(val, "*") == 0)
		f->all[d] = 1;
	else if (f->nval[d] < 8)
		snprintf(f->val[d][f->nval[d]++], sizeof f->val[0][0], "%s", val);
	return 0;
}

static int
parse_expr(const char **p, struct filter *f, char *err, size_t errlen)
{
	if (parse_term(p, f, err, errlen) != 0)
		return -1;
	for (;;) {
		skip_ws(p);
		if (word_is(*p, "and"))
			*p += 3;
		else if (word_is(*p, "or"))
			*p += 2;
		else
			return 0;
		if (parse_term(p, f, err, errlen) != 0)
			return -1;
	}
}

/* ---- evaluating -------------------------------------------------------------------------- */

/* One atom of data in one minute: a value and its dimension values. */
struct atom {
	double v;
	const char *dv[D_NDIMS];
};

struct series {
	char key[512];
	const char *dv[D_NDIMS];
	char dvbuf[D_NDIMS][160];
	double *total, *min, *max;
	int *n;
};

static const struct sim_arm_pool_state *
pool_state(const struct sim_arm_traffic *t, const char *name)
{
	for (int i = 0; t != NULL && i < t->npools; i++)
		if (strcmp(t->pool[i].name, name) == 0)
			return &t->pool[i];
	return NULL;
}

/* The atoms of metric MD in bucket B (at most MAX), for gateway traffic T. */
static int
atoms(const struct mdef *md, const struct bucket *b, const struct sim_arm_traffic *t, struct atom *out,
    int max, char (*scratch)[160])
{
	int n = 0, sc = 0;

	for (int s = 0; s < M.nslot; s++) {
		const struct sim_arm_pool_state *ps = pool_state(t, M.slot[s]);
		const char *settings = ps != NULL && ps->settings[0] ? ps->settings : "settings";
		char *sp = scratch[sc++];

		snprintf(sp, 160, "%s~%s", M.slot[s], settings);
		if (md->kind == K_HEALTHY || md->kind == K_UNHEALTHY) {
			if (b->sampled_ms <= 0 || n >= max)
				continue;
			memset(&out[n], 0, sizeof out[n]);
			out[n].v = (md->kind == K_HEALTHY ? b->up_ms[s] : b->down_ms[s]) / b->sampled_ms;
			out[n].dv[D_SETTINGS_POOL] = sp;
			out[n].dv[D_POOL] = M.slot[s];
			out[n].dv[D_SETTING] = settings;
			n++;
			continue;
		}
		for (int g = 0; g < MET_GROUPS; g++) {
			double v = b->req[s][g];
			int nsrv = 1;

			if (v <= 0)
				continue;
			if (md->kind == K_FAILED && g != 3)
				continue;
			if (md->kind == K_BACKEND && g == 3)
				continue;	/* the gateway's own 502s */
			if (md->kind == K_BACKEND && ps != NULL && ps->naddr > 0)
				nsrv = ps->naddr;
			for (int k = 0; k < nsrv && n < max; k++) {
				memset(&out[n], 0, sizeof out[n]);
				out[n].v = v / nsrv;
				out[n].dv[D_STATUS] = group_name[g];
				out[n].dv[D_SETTINGS_POOL] = sp;
				out[n].dv[D_POOL] = M.slot[s];
				out[n].dv[D_SETTING] = settings;
				out[n].dv[D_SERVER] = md->kind == K_BACKEND && ps != NULL && ps->naddr > 0
				    ? ps->addr[k] : "";
				n++;
			}
		}
	}
	return n;
}

static int
atom_matches(const struct atom *a, const struct filter *f)
{
	for (int d = 0; d < D_NDIMS; d++) {
		int ok;

		if (!f->on[d] || f->all[d])
			continue;
		ok = 0;
		for (int k = 0; k < f->nval[d]; k++)
			ok |= a->dv[d] != NULL && strcasecmp(a->dv[d], f->val[d][k]) == 0;
		if (!ok)
			return 0;
	}
	return 1;
}

static void
atom_key(const struct atom *a, const struct filter *f, char *key, size_t n)
{
	key[0] = '\0';
	for (int d = 0; d < D_NDIMS; d++)
		if (f->on[d])
			snprintf(key + strlen(key), n - strlen(key), "%s\x1f", a->dv[d] != NULL ? a->dv[d] : "");
}

static void
series_free(struct series *s, int n)
{
	for (int i = 0; i < n; i++) {
		free(s[i].total);
		free(s[i].min);
		free(s[i].max);
		free(s[i].n);
	}
}

static int
series_cmp(const void *a, const void *b)
{
	return strcmp(((const struct series *)a)->key, ((const struct series *)b)->key);
}

/* The value of one metric over [START, END) in NPTS intervals of GRAIN. */
static cJSON *
metric_json(const struct mdef *md, const char *gwid, int is_world_gw, int64_t start, int64_t grain,
    int npts, int aggs, const struct filter *f, long top, int *cost)
{
	const struct sim_arm_traffic *t = is_world_gw ? sim_arm_appgw_traffic() : NULL;
	struct series *sv = calloc(MET_MAX_SERIES, sizeof *sv);
	struct atom at[SIM_ARM_MAX_POOLS * MET_GROUPS * SIM_ARM_MAX_ADDRS];
	char scratch[SIM_ARM_MAX_POOLS][160], key[512], id[800];
	int nsv = 0, split = 0, nat;
	int64_t first_min = start / 60000, last_min = (start + grain * npts) / 60000;
	cJSON *m, *nm, *tsa;

	if (sv == NULL)
		return NULL;
	for (int d = 0; d < D_NDIMS; d++)
		split |= f->on[d];
	if (!split) {
		sv[0].total = calloc((size_t)npts, sizeof(double));
		sv[0].min = calloc((size_t)npts, sizeof(double));
		sv[0].max = calloc((size_t)npts, sizeof(double));
		sv[0].n = calloc((size_t)npts, sizeof(int));
		nsv = 1;
	}
	/* Pass 1: which series exist in the timespan. */
	for (int64_t mi = first_min; split && is_world_gw && mi < last_min; mi++) {
		const struct bucket *b = &M.b[((mi % MET_MINUTES) + MET_MINUTES) % MET_MINUTES];
		if (b->minute != mi || b->sampled_ms <= 0)
			continue;
		nat = atoms(md, b, t, at, (int)(sizeof at / sizeof at[0]), scratch);
		for (int k = 0; k < nat; k++) {
			int found = 0;
			if (!atom_matches(&at[k], f))
				continue;
			atom_key(&at[k], f, key, sizeof key);
			for (int s = 0; s < nsv && !found; s++)
				found = strcmp(sv[s].key, key) == 0;
			if (found || nsv >= MET_MAX_SERIES)
				continue;
			snprintf(sv[nsv].key, sizeof sv[nsv].key, "%s", key);
			for (int d = 0; d < D_NDIMS; d++)
				if (f->on[d])
					snprintf(sv[nsv].dvbuf[d], sizeof sv[nsv].dvbuf[d], "%s", at[k].dv[d] ? at[k].dv[d] : "");
			sv[nsv].total = calloc((size_t)npts, sizeof(double));
			sv[nsv].min = calloc((size_t)npts, sizeof(double));
			sv[nsv].max = calloc((size_t)npts, sizeof(double));
			sv[nsv].n = calloc((size_t)npts, sizeof(int));
			nsv++;
		}
	}
	for (int s = 0; s < nsv; s++) {
		if (sv[s].total == NULL || sv[s].min == NULL || sv[s].max == NULL || sv[s].n == NULL) {
			series_free(sv, nsv);
			free(sv);
			return NULL;
		}
	}
	qsort(sv, (size_t)nsv, sizeof *sv, series_cmp);

	/* Pass 2: each minute with data is one sample of every series. */
	for (int64_t mi = first_min; is_world_gw && mi < last_min; mi++) {
		const struct bucket *b = &M.b[((mi % MET_MINUTES) + MET_MINUTES) % MET_MINUTES];
		int64_t p = (mi * 60000 - start) / grain;
		double v[MET_MAX_SERIES];

		if (b->minute != mi || b->sampled_ms <= 0 || p < 0 || p >= npts)
			continue;
		memset(v, 0, sizeof v);
		nat = atoms(md, b, t, at, (int)(sizeof at / sizeof at[0]), scratch);
		for (int k = 0; k < nat; k++) {
			if (!atom_matches(&at[k], f))
				continue;
			atom_key(&at[k], f, key, sizeof key);
			for (int s = 0; s < nsv; s++)
				if (strcmp(sv[s].key, key) == 0)
					v[s] += at[k].v;
		}
		for (int s = 0; s < nsv; s++) {
			/* Requests are counted whole per minute; host counts are
			 * averages and stay fractional. */
			if (md->kind != K_HEALTHY && md->kind != K_UNHEALTHY)
				v[s] = (double)(long long)(v[s] + 0.5);
			if (sv[s].n[p] == 0 || v[s] < sv[s].min[p])
				sv[s].min[p] = v[s];
			if (sv[s].n[p] == 0 || v[s] > sv[s].max[p])
				sv[s].max[p] = v[s];
			sv[s].total[p] += v[s];
			sv[s].n[p]++;
		}
	}

	m = cJSON_CreateObject();
	snprintf(id, sizeof id, "%s/providers/Microsoft.Insights/metrics/%s", gwid, md->name);
	cJSON_AddStringToObject(m, "id", id);
	cJSON_AddStringToObject(m, "type", "Microsoft.Insights/metrics");
	nm = cJSON_AddObjectToObject(m, "name");
	cJSON_AddStringToObject(nm, "value", md->name);
	cJSON_AddStringToObject(nm, "localizedValue", md->display);
	cJSON_AddStringToObject(m, "displayDescription", md->desc);
	cJSON_AddStringToObject(m, "unit", "Count");
	tsa = cJSON_AddArrayToObject(m, "timeseries");
	for (int s = 0; s < nsv && s < top; s++) {
		cJSON *ts = cJSON_CreateObject(), *mv = cJSON_AddArrayToObject(ts, "metadatavalues");
		cJSON *data = cJSON_AddArrayToObject(ts, "data");

		for (int d = 0; d < D_NDIMS; d++) {
			cJSON *e, *n2;
			char lname[64];

			if (!f->on[d])
				continue;
			snprintf(lname, sizeof lname, "%s", dim_name[d]);
			for (char *q = lname; *q != '\0'; q++)
				*q = (char)tolower((unsigned char)*q);
			e = cJSON_CreateObject();
			n2 = cJSON_AddObjectToObject(e, "name");
			cJSON_AddStringToObject(n2, "value", lname);
			cJSON_AddStringToObject(n2, "localizedValue", lname);
			cJSON_AddStringToObject(e, "value", sv[s].dvbuf[d]);
			cJSON_AddItemToArray(mv, e);
		}
		for (int p = 0; p < npts; p++) {
			cJSON *pt = cJSON_CreateObject();
			char tsbuf[40];
			/* Request counters are filled with 0 where nothing happened;
			 * host counts have no value without a sample. */
			int fill = md->kind != K_HEALTHY && md->kind != K_UNHEALTHY;
			int n = sv[s].n[p];

			wall_text(start + grain * p, tsbuf, sizeof tsbuf);
			cJSON_AddStringToObject(pt, "timeStamp", tsbuf);
			if (n > 0 || fill) {
				if (aggs & A_AVG)
					cJSON_AddNumberToObject(pt, "average", n > 0 ? sv[s].total[p] / n : 0);
				if (aggs & A_MIN)
					cJSON_AddNumberToObject(pt, "minimum", sv[s].min[p]);
				if (aggs & A_MAX)
					cJSON_AddNumberToObject(pt, "maximum", sv[s].max[p]);
				if (aggs & A_TOTAL)
					cJSON_AddNumberToObject(pt, "total", sv[s].total[p]);
				if (aggs & A_COUNT)
					cJSON_AddNumberToObject(pt, "count", n);
			}
			cJSON_AddItemToArray(data, pt);
		}
		cJSON_AddItemToArray(tsa, ts);
		*cost += npts;
	}
	cJSON_AddStringToObject(m, "errorCode", "Success");
	series_free(sv, nsv);
	free(sv);
	return m;
}

static void
bad(struct sim_arm_ctx *c, const char *fmt, const char *arg)
{
	sim_arm_error(c->resp, 400, "BadRequest", fmt, arg);
}

static void
duration_text(int64_t ms, char *buf, size_t n)
{
	if (ms % 86400000 == 0)
		snprintf(buf, n, "P%lldD", (long long)(ms / 86400000));
	else if (ms % 3600000 == 0)
		snprintf(buf, n, "PT%lldH", (long long)(ms / 3600000));
	else
		snprintf(buf, n, "PT%lldM", (long long)(ms / 60000));
}

void
sim_arm_metrics_handle(struct sim_arm_ctx *c, const char *gateway_id, const char *location)
{
	static const struct { const char *name; int64_t ms; } grains[] = {
		{ "PT1M", 60000 }, { "PT5M", 300000 }, { "PT15M", 900000 }, { "PT30M", 1800000 },
		{ "PT1H", 3600000 }, { "PT6H", 21600000 }, { "PT12H", 43200000 }, { "P1D", 86400000 },
	};
	const char *names = sim_req_arg(c->req, "metricnames"), *ts = sim_req_arg(c->req, "timespan");
	const char *iv = sim_req_arg(c->req, "interval"), *ag = sim_req_arg(c->req, "aggregation");
	const char *fl = sim_req_arg(c->req, "$filter"), *ns = sim_req_arg(c->req, "metricnamespace");
	const char *topa = sim_req_arg(c->req, "top");
	const struct sim_arm_traffic *t = sim_arm_appgw_traffic();
	const struct mdef *sel[NMETRICS];
	int nsel = 0, aggs = 0, cost = 0, npts, mapped = 0;
	int64_t start, end, grain = 60000;
	long top = topa != NULL ? strtol(topa, NULL, 10) : 10;
	char buf[512], err[300], tsbuf[40], tsbuf2[40], ivname[32] = "PT1M";
	struct filter f;
	cJSON *out, *val;
	int is_world = t != NULL && sim_arm_ieq(t->gateway_id, gateway_id);

	if (ns != NULL && !sim_arm_ieq(ns, "Microsoft.Network/applicationGateways")) {
		bad(c, "Metric namespace '%s' is not valid for resource type Microsoft.Network/applicationGateways.", ns);
		return;
	}
	/* metricnames: a comma list; the primary metric when absent */
	snprintf(buf, sizeof buf, "%s", names != NULL ? names : "TotalRequests");
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		size_t k;

		while (*tok == ' ')
			tok++;
		for (k = 0; k < NMETRICS; k++)
			if (strcasecmp(metrics[k].name, tok) == 0)
				break;
		if (k == NMETRICS) {
			char msg[700] = "";
			for (size_t j = 0; j < NMETRICS; j++)
				snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "%s%s", j ? ", " : "", metrics[j].name);
			sim_arm_error(c->resp, 400, "BadRequest",
			    "Failed to find metric configuration for provider: Microsoft.Network, resource Type: "
			    "applicationGateways, metric: %s, Valid metrics: %s", tok, msg);
			return;
		}
		if (nsel < (int)NMETRICS)
			sel[nsel++] = &metrics[k];
	}
	if (nsel == 0) {
		bad(c, "metricnames must name at least one metric%s", "");
		return;
	}
	/* aggregation: the first metric's primary when absent */
	if (ag != NULL && *ag != '\0') {
		snprintf(buf, sizeof buf, "%s", ag);
		for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ')
				tok++;
			if (strcasecmp(tok, "average") == 0 || strcasecmp(tok, "avg") == 0)
				aggs |= A_AVG;
			else if (strcasecmp(tok, "count") == 0)
				aggs |= A_COUNT;
			else if (strcasecmp(tok, "minimum") == 0 || strcasecmp(tok, "min") == 0)
				aggs |= A_MIN;
			else if (strcasecmp(tok, "maximum") == 0 || strcasecmp(tok, "max") == 0)
				aggs |= A_MAX;
			else if (strcasecmp(tok, "total") == 0 || strcasecmp(tok, "sum") == 0)
				aggs |= A_TOTAL;
			else {
				bad(c, "Invalid aggregation type '%s'. Valid types are: Average, Count, Minimum, Maximum, Total.", tok);
				return;
			}
		}
	} else {
		aggs = sel[0]->primary;
	}
	/* timespan: the last hour when absent */
	end = c->now_ms;
	start = end - 3600000;
	if (ts != NULL && parse_timespan(ts, c->now_ms, &start, &end, &mapped) != 0) {
		bad(c, "Invalid timespan '%s'. Expected 'startTime/endTime' in ISO 8601, e.g. "
		    "2026-11-26T10:00:00Z/2026-11-26T11:00:00Z, or an ISO 8601 duration.", ts);
		return;
	}
	if (end <= start) {
		bad(c, "Invalid timespan '%s': the end time must be after the start time.", ts != NULL ? ts : "");
		return;
	}
	/* A wall-clock window stretched by the speed past the kept simulated
	 * day: its part in that day when it reaches into it (at most a day
	 * from there), else its last day, so that it never asks for more
	 * points than a day has. */
	if (mapped && sim_world.speed > 1.0 && end - start > (int64_t)MET_MINUTES * 60000) {
		int64_t keep = (int64_t)MET_MINUTES * 60000, lo = c->now_ms - keep;
		int64_t from = end - keep < lo ? end - keep : lo;

		if (start < from)
			start = from;
		if (end - start > keep)
			end = start + keep;
	}
	if (iv != NULL && strcasecmp(iv, "FULL") == 0) {
		grain = end - start;
		duration_text(((grain + 59999) / 60000) * 60000, ivname, sizeof ivname);
	} else if (iv != NULL) {
		size_t k;
		for (k = 0; k < sizeof grains / sizeof grains[0]; k++)
			if (strcasecmp(grains[k].name, iv) == 0)
				break;
		if (k == sizeof grains / sizeof grains[0]) {
			bad(c, "Invalid interval '%s'. Supported time grains are PT1M, PT5M, PT15M, PT30M, PT1H, "
			    "PT6H, PT12H, P1D and FULL.", iv);
			return;
		}
		grain = grains[k].ms;
		snprintf(ivname, sizeof ivname, "%s", grains[k].name);
	}
	/* Points start at a multiple of the interval, as Azure Monitor aligns them. */
	if (iv == NULL || strcasecmp(iv, "FULL") != 0)
		start -= ((start % grain) + grain) % grain;
	npts = (int)((end - start + grain - 1) / grain);
	if (npts <= 0 || (int64_t)npts * nsel > MET_MAX_POINTS) {
		bad(c, "The query asks for too many data points (timespan '%s' at this interval); use a larger "
		    "interval.", ts != NULL ? ts : "");
		return;
	}
	memset(&f, 0, sizeof f);
	if (fl != NULL && *fl != '\0') {
		const char *p = fl;
		int rc;

		err[0] = '\0';
		rc = parse_expr(&p, &f, err, sizeof err);
		if (rc == 0) {
			skip_ws(&p);
			if (*p != '\0') {
				snprintf(err, sizeof err, "unexpected text '%s'", p);
				rc = -1;
			}
		}
		if (rc != 0 && err[0] == '@') {
			/* A dimension this resource type does not have. */
			char msg[600] = "";
			for (int d = 0; d < D_NDIMS; d++)
				if (sel[0]->dims & (1u << d))
					snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "%s%s", msg[0] ? "," : "",
					    dim_name[d]);
			sim_arm_error(c->resp, 400, "BadRequest",
			    "Metric: %s does not support requested dimension combination: %s, supported ones "
			    "are: %s, please check metric definitions.", sel[0]->name, err + 1, msg);
			return;
		}
		if (rc != 0) {
			bad(c, "Invalid $filter: %s.", err);
			return;
		}
		for (int i = 0; i < nsel; i++) {
			for (int d = 0; d < D_NDIMS; d++) {
				if (f.on[d] && !(sel[i]->dims & (1u << d))) {
					char msg[600] = "";
					for (int e = 0; e < D_NDIMS; e++)
						if (sel[i]->dims & (1u << e))
							snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "%s%s",
							    msg[0] ? "," : "", dim_name[e]);
					sim_arm_error(c->resp, 400, "BadRequest",
					    "Metric: %s does not support requested dimension combination: %s, supported "
					    "ones are: %s, please check metric definitions.", sel[i]->name, dim_name[d], msg);
					return;
				}
			}
		}
	}
	if (top <= 0)
		top = 10;

	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "cost", 0);
	wall_text(start, tsbuf, sizeof tsbuf);
	wall_text(end, tsbuf2, sizeof tsbuf2);
	snprintf(buf, sizeof buf, "%s/%s", tsbuf, tsbuf2);
	cJSON_AddStringToObject(out, "timespan", buf);
	cJSON_AddStringToObject(out, "interval", ivname);
	val = cJSON_AddArrayToObject(out, "value");
	for (int i = 0; i < nsel; i++) {
		cJSON *m = metric_json(sel[i], gateway_id, is_world, start, grain, npts, aggs, &f, top, &cost);
		if (m == NULL) {
			cJSON_Delete(out);
			sim_arm_error(c->resp, 500, "InternalServerError", "out of memory");
			return;
		}
		cJSON_AddItemToArray(val, m);
	}
	cJSON_SetNumberValue(cJSON_GetObjectItem(out, "cost"), cost);
	cJSON_AddStringToObject(out, "namespace", "Microsoft.Network/applicationGateways");
	cJSON_AddStringToObject(out, "resourceregion", location != NULL ? location : sim_world.location);
	sim_resp_json_take(c->resp, 200, out);
}
