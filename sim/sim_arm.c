/*
 * sim_arm.c — the simulated Azure Resource Manager front door.
 *
 * Every request under /subscriptions/... passes here in the order ARM itself
 * applies: the bearer token (issued by sim_entra.c, for Resource Manager's
 * audience), the switched-on faults (throttling, 5xx), the api-version, the
 * subscription and the resource group; then the file that owns the
 * resource type answers (sim_arm_aks.c, sim_arm_appgw.c, sim_arm_dns.c,
 * sim_arm_metrics.c).  Every answer carries the x-ms-request-id family of
 * headers, and every refusal the {"error":{"code","message"}} body.  A
 * request body must be declared JSON (else 415 UnsupportedMediaType) and
 * parse (else 400 InvalidRequestContent), as ARM insists.  Faults apply
 * after authentication: ARM throttles per identity, so an anonymous call
 * sees 401, never 429.
 *
 * It also keeps the long-running operations of all types, served the way
 * the ARM RPC async reference describes (Azure/azure-resource-manager-rpc,
 * v1.0/async-api-reference.md): an Azure-AsyncOperation URL answering 200
 * with {id, name, status, startTime, endTime, percentComplete, error}, and a
 * Location URL answering 202 while the operation runs, then the final
 * resource (200), nothing (204), a result body (200), or the error.
 * Deviation: Retry-After is 1..5 real seconds (the reference says 10 s to
 * 10 min), because simulated time runs faster than the client's.
 *
 * Accepted api-versions (others: 400 NoRegisteredProviderFound; a value that
 * is not a date: 400 InvalidApiVersionParameter; none: 400
 * MissingApiVersionParameter):
 *   Microsoft.ContainerService/managedClusters   2023-01-01 .. 2026-10-01 (and -preview)
 *   Microsoft.Network/applicationGateways        2023-02-01 .. 2026-03-01
 *   Microsoft.Network/privateDnsZones            2018-09-01, 2020-01-01, 2020-06-01, 2024-06-01
 *   Microsoft.Insights/metrics                   2018-01-01, 2019-07-01, 2021-05-01, 2023-10-01, 2024-02-01
 *   subscriptions, resource groups               any date from 2014-04-01
 *
 * Control actions, POST /_sim/arm/... (loopback only, through sim_ctl.c):
 *   entra/certificates           {"client_id": ID, "pem": "-----BEGIN CERTIFICATE-----..."}
 *                                registers a certificate for client-assertion sign-in (the
 *                                client is created if unknown); answers {client_id, x5t}
 *   gateways/NAME/bump-etag      a change behind the client's back: new etag; an optional
 *                                body {"weights": {"POOL": 0..100, ...}} also changes the
 *                                live rule's load distribution weights, effective at once
 *   dns/ZONE/TYPE/NAME/bump-etag a change behind the client's back: new etag; an optional
 *                                body {"ipv4": ["10.0.0.1"]} (A), {"cname": "host"} (CNAME)
 *                                and/or {"ttl": 60} also changes the record set
 *   GET operations               the long-running operations, newest last, each with the
 *                                resourceId and request ("PUT", "POST backendhealth") that
 *                                started it (for tests: what was done how often)
 */
#include "sim/sim_arm.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define ARM_KEEP_OPS_MS (6LL * 3600 * 1000)	/* finished operations stay pollable this long */
#define ARM_MAX_PATH_SEG 32

static struct {
	struct sim_arm_op **op;
	size_t nop, capop;
	cJSON *timings;			/* the world's timings: section */
} A;

/* ---- small helpers ------------------------------------------------------------- */

int
sim_arm_ieq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

void
sim_arm_rg_id(char *buf, size_t n)
{
	snprintf(buf, n, "/subscriptions/%s/resourceGroups/%s", sim_world.subscription,
	    sim_world.resource_group);
}

void
sim_arm_weak_etag(char *buf, size_t n)
{
	char u[40];

	sim_uuid(u);
	snprintf(buf, n, "W/\"%s\"", u);
}

void
sim_arm_etag_norm(const char *in, char *buf, size_t n)
{
	size_t len;

	while (*in == ' ' || *in == '\t')
		in++;
	len = strlen(in);
	while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == '\t'))
		len--;
	if (len >= 2 && in[0] == '"' && in[len - 1] == '"') {
		in++;
		len -= 2;
	}
	snprintf(buf, n, "%.*s", (int)len, in);
}

double
sim_arm_timing(const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(A.timings, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

cJSON *
sim_arm_body(struct sim_arm_ctx *c)
{
	const char *end = NULL, *ct = sim_req_header(c->req, "Content-Type");
	cJSON *j;
	int line = 1, pos = 0;

	/* ARM takes JSON only; a client that forgets the header fails there. */
	if (c->req->body_len > 0 && (ct == NULL || (strncasecmp(ct, "application/json", 16) != 0
	    && strcasestr(ct, "+json") == NULL))) {
		sim_arm_error(c->resp, 415, "UnsupportedMediaType",
		    "The content media type '%s' is not supported. Only 'application/json' is supported.",
		    ct != NULL ? ct : "");
		return NULL;
	}
	if (c->req->body_len == 0) {
		sim_arm_error(c->resp, 400, "InvalidRequestContent",
		    "The request content was invalid and could not be deserialized: 'The request body is "
		    "empty.'.");
		return NULL;
	}
	j = cJSON_ParseWithLengthOpts(c->req->body, c->req->body_len, &end, 0);
	if (j == NULL) {
		for (const char *p = c->req->body; end != NULL && p < end; p++, pos++)
			if (*p == '\n') {
				line++;
				pos = 0;
			}
		sim_arm_error(c->resp, 400, "InvalidRequestContent",
		    "The request content was invalid and could not be deserialized: 'Unexpected character "
		    "encountered while parsing value. Path '', line %d, position %d.'.", line, pos);
		return NULL;
	}
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		sim_arm_error(c->resp, 400, "InvalidRequestContent",
		    "The request content was invalid and could not be deserialized: 'Cannot deserialize the "
		    "current JSON value into an object. Path '', line 1, position 1.'.");
		return NULL;
	}
	return j;
}

void
sim_arm_bad_type(struct sim_arm_ctx *c, const char *path, const char *want)
{
	sim_arm_error(c->resp, 400, "InvalidRequestContent",
	    "The request content was invalid and could not be deserialized: 'Error converting value to "
	    "type '%s'. Path '%s'.'.", want, path);
}

void
sim_arm_not_found(struct sim_arm_ctx *c, const char *type, const char *name)
{
	sim_arm_error(c->resp, 404, "ResourceNotFound",
	    "The Resource '%s/%s' under resource group '%s' was not found. For more details please go "
	    "to https://aka.ms/ARMResourceNotFoundFix", type, name, sim_world.resource_group);
}

void
sim_arm_bad_method(struct sim_arm_ctx *c)
{
	sim_arm_error(c->resp, 405, "MethodNotAllowed",
	    "The requested resource does not support http method '%s'.", c->method);
}

/* ---- long-running operations ----------------------------------------------------- */

static const char *
op_status_name(int s)
{
	switch (s) {
	case SIM_OP_SUCCEEDED: return "Succeeded";
	case SIM_OP_FAILED: return "Failed";
	case SIM_OP_CANCELED: return "Canceled";
	default: return "InProgress";
	}
}

static void
op_free(struct sim_arm_op *op)
{
	cJSON_Delete(op->body);
	free(op);
}

struct sim_arm_op *
sim_arm_op_start(struct sim_arm_ctx *c, const char *ns, const char *resource_id, int64_t duration_ms,
    int result, sim_arm_op_fn done)
{
	struct sim_arm_op *op = calloc(1, sizeof *op);

	if (op == NULL)
		return NULL;
	if (A.nop == A.capop) {
		size_t ncap = A.capop ? A.capop * 2 : 64;
		struct sim_arm_op **n = realloc(A.op, sizeof *n * ncap);
		if (n == NULL) {
			free(op);
			return NULL;
		}
		A.op = n;
		A.capop = ncap;
	}
	sim_uuid(op->id);
	snprintf(op->ns, sizeof op->ns, "%s", ns);
	snprintf(op->api_version, sizeof op->api_version, "%s",
	    c != NULL && c->api_version != NULL ? c->api_version : "2024-05-01");
	snprintf(op->resource_id, sizeof op->resource_id, "%s", resource_id);
	if (c != NULL && c->method != NULL) {
		/* a POST names its action in the last segment */
		if (strcmp(c->method, "POST") == 0 && c->nseg > 0)
			snprintf(op->request, sizeof op->request, "POST %.40s", c->seg[c->nseg - 1]);
		else
			snprintf(op->request, sizeof op->request, "%s", c->method);
	}
	op->start_ms = sim_now_ms();
	op->end_ms = op->start_ms + (duration_ms > 0 ? duration_ms : 0);
	op->status = SIM_OP_IN_PROGRESS;
	op->result = result;
	op->done = done;
	A.op[A.nop++] = op;
	return op;
}

struct sim_arm_op *
sim_arm_op_find(const char *id)
{
	for (size_t i = 0; id != NULL && i < A.nop; i++)
		if (strcasecmp(A.op[i]->id, id) == 0)
			return A.op[i];
	return NULL;
}

void
sim_arm_op_fail(struct sim_arm_op *op, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	op->status = status == SIM_OP_CANCELED ? SIM_OP_CANCELED : SIM_OP_FAILED;
	snprintf(op->err_code, sizeof op->err_code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(op->err_msg, sizeof op->err_msg, fmt, ap);
	va_end(ap);
	if (op->done_ms == 0)
		op->done_ms = sim_now_ms();
}

/* Seconds a client should wait before polling again: the real time left,
 * kept within 1..5 s (see the top of the file). */
static int
op_retry_after(const struct sim_arm_op *op)
{
	int64_t left = sim_real_ms(op->end_ms - sim_now_ms());
	int s = (int)((left + 999) / 1000);

	return s < 1 ? 1 : s > 5 ? 5 : s;
}

static void
op_url(const struct sim_arm_op *op, int result, char *buf, size_t n)
{
	int network = strcasecmp(op->ns, "Microsoft.Network") == 0;

	/* AKS spells the Location path "operationresults", the Network
	 * provider "operationResults" (see the real examples). */
	snprintf(buf, n, "%s/subscriptions/%s/providers/%s/locations/%s/%s/%s?api-version=%s",
	    sim_world.base_url, sim_world.subscription, op->ns, sim_world.location,
	    result ? (network ? "operationResults" : "operationresults") : "operations", op->id,
	    op->api_version);
}

void
sim_arm_op_headers(const struct sim_arm_op *op, struct sim_resp *resp, int async, int location)
{
	char url[1024];

	if (async) {
		op_url(op, 0, url, sizeof url);
		sim_resp_header(resp, "Azure-AsyncOperation", "%s", url);
	}
	if (location) {
		op_url(op, 1, url, sizeof url);
		sim_resp_header(resp, "Location", "%s", url);
	}
	if (op->status == SIM_OP_IN_PROGRESS)
		sim_resp_header(resp, "Retry-After", "%d", op_retry_after(op));
}

static cJSON *
op_status_json(const struct sim_arm_op *op)
{
	cJSON *j = cJSON_CreateObject();
	char id[600], t[48];
	int64_t now = sim_now_ms();
	double pct;

	snprintf(id, sizeof id, "/subscriptions/%s/providers/%s/locations/%s/operations/%s",
	    sim_world.subscription, op->ns, sim_world.location, op->id);
	cJSON_AddStringToObject(j, "id", id);
	cJSON_AddStringToObject(j, "name", op->id);
	cJSON_AddStringToObject(j, "status", op_status_name(op->status));
	sim_time_arm(op->start_ms, t, sizeof t);
	cJSON_AddStringToObject(j, "startTime", t);
	if (op->status != SIM_OP_IN_PROGRESS) {
		sim_time_arm(op->done_ms, t, sizeof t);
		cJSON_AddStringToObject(j, "endTime", t);
		pct = 100;
	} else {
		pct = op->end_ms > op->start_ms
		    ? 100.0 * (double)(now - op->start_ms) / (double)(op->end_ms - op->start_ms) : 0;
		pct = pct < 0 ? 0 : pct > 99 ? 99 : (double)(int)pct;
	}
	cJSON_AddNumberToObject(j, "percentComplete", pct);
	if (op->status == SIM_OP_FAILED || op->status == SIM_OP_CANCELED) {
		cJSON *e = cJSON_AddObjectToObject(j, "error");
		cJSON_AddStringToObject(e, "code", op->err_code[0] ? op->err_code : "Canceled");
		cJSON_AddStringToObject(e, "message", op->err_msg[0] ? op->err_msg : "The operation was canceled.");
	}
	return j;
}

static void
ops_tick(int64_t now)
{
	size_t j = 0;

	for (size_t i = 0; i < A.nop; i++) {
		struct sim_arm_op *op = A.op[i];

		if (op->status == SIM_OP_IN_PROGRESS && now >= op->end_ms) {
			op->done_ms = now;
			op->status = SIM_OP_SUCCEEDED;
			if (op->doomed && op->err_code[0] != '\0')
				op->status = SIM_OP_FAILED;
			if (op->done != NULL)
				op->done(op);
			pthread_cond_broadcast(&sim_world.changed);
		}
	}
	for (size_t i = 0; i < A.nop; i++) {
		struct sim_arm_op *op = A.op[i];

		if (op->status != SIM_OP_IN_PROGRESS && op->done_ms + ARM_KEEP_OPS_MS < now)
			op_free(op);
		else
			A.op[j++] = op;
	}
	A.nop = j;
}

/* ---- the front door ------------------------------------------------------------------ */

/* A header value safe to echo back. */
static int
echoable(const char *v)
{
	if (v == NULL || strlen(v) > 128)
		return 0;
	for (; *v != '\0'; v++)
		if (!isprint((unsigned char)*v))
			return 0;
	return 1;
}

static void
std_headers(struct sim_req *req, struct sim_resp *resp)
{
	const char *corr = sim_req_header(req, "x-ms-correlation-request-id");
	const char *crid = sim_req_header(req, "x-ms-client-request-id");
	char id[40], routing[200], ts[32];
	time_t t = (time_t)(sim_now_ms() / 1000);
	struct tm tm;

	sim_uuid(id);
	sim_resp_header(resp, "x-ms-request-id", "%s", id);
	if (echoable(corr))
		sim_resp_header(resp, "x-ms-correlation-request-id", "%s", corr);
	else
		sim_resp_header(resp, "x-ms-correlation-request-id", "%s", id);
	if (echoable(crid))
		sim_resp_header(resp, "x-ms-client-request-id", "%s", crid);
	gmtime_r(&t, &tm);
	strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(routing, sizeof routing, "%s:%s:%s", sim_world.location, ts, id);
	for (char *p = routing; *p != '\0' && *p != ':'; p++)
		*p = (char)toupper((unsigned char)*p);
	sim_resp_header(resp, "x-ms-routing-request-id", "%s", routing);
	if (strcmp(req->method, "GET") == 0)
		sim_resp_header(resp, "x-ms-ratelimit-remaining-subscription-reads", "11999");
	else
		sim_resp_header(resp, "x-ms-ratelimit-remaining-subscription-writes", "1199");
	sim_resp_header(resp, "Cache-Control", "no-cache");
}

/* "11/26/2026 6:30:00 PM", the way ARM prints token times. */
static void
us_time(int64_t ms, char *buf, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	int h;

	gmtime_r(&t, &tm);
	h = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
	snprintf(buf, n, "%d/%d/%d %d:%02d:%02d %s", tm.tm_mon + 1, tm.tm_mday, tm.tm_year + 1900, h,
	    tm.tm_min, tm.tm_sec, tm.tm_hour < 12 ? "AM" : "PM");
}

static int
audience_is_arm(const char *aud)
{
	static const char *const ok[] = {
		"https://management.azure.com", "https://management.core.windows.net",
	};
	size_t n = strlen(aud), bl = strlen(sim_world.base_url);

	while (n > 0 && aud[n - 1] == '/')
		n--;
	if (n == bl && strncasecmp(aud, sim_world.base_url, n) == 0)
		return 1;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strlen(ok[i]) == n && strncasecmp(aud, ok[i], n) == 0)
			return 1;
	return 0;
}

static void
www_auth(struct sim_resp *resp, const char *desc)
{
	sim_resp_header(resp, "WWW-Authenticate",
	    "Bearer authorization_uri=\"%s/%s\", error=\"invalid_token\", error_description=\"%s\"",
	    sim_world.base_url, sim_world.tenant, desc);
}

/* 1 when the request carries a good token for Resource Manager. */
static int
authenticate(struct sim_req *req, struct sim_resp *resp)
{
	const char *hdr = sim_req_header(req, "Authorization"), *tok = sim_req_bearer(req);
	char aud[256], a[64], b[64];
	int64_t exp;
	int st;

	if (hdr == NULL) {
		sim_arm_error(resp, 401, "AuthenticationFailed",
		    "Authentication failed. The 'Authorization' header is missing.");
		return 0;
	}
	if (tok == NULL) {
		sim_arm_error(resp, 401, "AuthenticationFailed",
		    "Authentication failed. The 'Authorization' header is provided in an invalid format.");
		www_auth(resp, "The authentication failed because of an invalid 'Authorization' header.");
		return 0;
	}
	st = sim_entra_token_check(tok, aud, sizeof aud, &exp);
	if (st == SIM_TOKEN_UNKNOWN) {
		sim_arm_error(resp, 401, "InvalidAuthenticationToken", "The access token is invalid.");
		www_auth(resp, "The access token is invalid.");
		return 0;
	}
	if (st == SIM_TOKEN_EXPIRED) {
		us_time(exp, a, sizeof a);
		us_time(sim_now_ms(), b, sizeof b);
		sim_arm_error(resp, 401, "ExpiredAuthenticationToken",
		    "The access token expiry UTC time '%s' is earlier than current UTC time '%s'.", a, b);
		www_auth(resp, "The access token has expired.");
		return 0;
	}
	if (!audience_is_arm(aud)) {
		sim_arm_error(resp, 401, "InvalidAuthenticationTokenAudience",
		    "The access token has been obtained for wrong audience or resource '%s'. It should "
		    "exactly match with one of the allowed audiences 'https://management.core.windows.net/',"
		    "'https://management.core.windows.net','https://management.azure.com/',"
		    "'https://management.azure.com','%s/'.", aud, sim_world.base_url);
		www_auth(resp, "The access token has been obtained for wrong audience or resource.");
		return 0;
	}
	return 1;
}

/* ---- api-version ---------------------------------------------------------------------- */

struct api_versions {
	const char *ns, *type;
	const char *min, *max;		/* a range of dates, or */
	const char *const *list;	/* a fixed set */
};

static const char *const dns_versions[] = { "2018-09-01", "2020-01-01", "2020-06-01", "2024-06-01", NULL };
static const char *const metric_versions[] = {
	"2018-01-01", "2019-07-01", "2021-05-01", "2023-10-01", "2024-02-01", NULL,
};
static const struct api_versions api_table[] = {
	{ "Microsoft.ContainerService", "managedClusters", "2023-01-01", "2026-10-01", NULL },
	{ "Microsoft.Network", "applicationGateways", "2023-02-01", "2026-03-01", NULL },
	{ "Microsoft.Network", "privateDnsZones", NULL, NULL, dns_versions },
	{ "Microsoft.Insights", "metrics", NULL, NULL, metric_versions },
	{ "Microsoft.Authorization", "permissions", "2015-07-01", "2022-04-01", NULL },
	/* operation status URLs carry the version of the call that started them */
	{ "Microsoft.ContainerService", "locations", "2023-01-01", "2026-10-01", NULL },
	{ "Microsoft.Network", "locations", "2018-09-01", "2026-03-01", NULL },
	{ "Microsoft.Resources", "resourceGroups", "2014-04-01", "2099-12-31", NULL },
};

/* YYYY-MM-DD with an optional -preview style suffix. */
static int
api_wellformed(const char *v)
{
	for (int i = 0; i < 10; i++) {
		if (i == 4 || i == 7) {
			if (v[i] != '-')
				return 0;
		} else if (!isdigit((unsigned char)v[i])) {
			return 0;
		}
	}
	return v[10] == '\0' || (v[10] == '-' && isalpha((unsigned char)v[11]));
}

static const struct api_versions *
api_lookup(const char *ns, const char *type)
{
	for (size_t i = 0; i < sizeof api_table / sizeof api_table[0]; i++)
		if (sim_arm_ieq(api_table[i].ns, ns) && sim_arm_ieq(api_table[i].type, type))
			return &api_table[i];
	return NULL;
}

/* 1 when V is served for the type; otherwise RESP holds the refusal. */
static int
api_check(struct sim_resp *resp, const char *v, const char *ns, const char *type)
{
	const struct api_versions *av = api_lookup(ns, type);
	char date[11], supported[256] = "";

	if (v == NULL || *v == '\0') {
		sim_arm_error(resp, 400, "MissingApiVersionParameter",
		    "The api-version query parameter (?api-version=) is required for all requests.");
		return 0;
	}
	if (!api_wellformed(v)) {
		sim_arm_error(resp, 400, "InvalidApiVersionParameter",
		    "The api-version '%s' is invalid. The supported versions are '2014-04-01 and later "
		    "dates (yyyy-MM-dd[-preview])'.", v);
		return 0;
	}
	if (av == NULL)
		return 1;
	snprintf(date, sizeof date, "%.10s", v);
	if (av->list != NULL) {
		for (int i = 0; av->list[i] != NULL; i++) {
			if (strcmp(av->list[i], v) == 0)
				return 1;
			snprintf(supported + strlen(supported), sizeof supported - strlen(supported), "%s%s",
			    i ? "," : "", av->list[i]);
		}
	} else {
		if (strcmp(date, av->min) >= 0 && strcmp(date, av->max) <= 0)
			return 1;
		snprintf(supported, sizeof supported, "%s .. %s", av->min, av->max);
	}
	sim_arm_error(resp, 400, "NoRegisteredProviderFound",
	    "No registered resource provider found for location '%s' and API version '%s' for type '%s'. "
	    "The supported api-versions are '%s'. The supported locations are '%s'.",
	    sim_world.location, v, type, supported, sim_world.location);
	return 0;
}

/* ---- routes ------------------------------------------------------------------------------ */

static void
serve_subscription(struct sim_arm_ctx *c, int list)
{
	cJSON *s = cJSON_CreateObject(), *pol;
	char id[128];

	if (strcmp(c->method, "GET") != 0) {
		cJSON_Delete(s);
		sim_arm_bad_method(c);
		return;
	}
	snprintf(id, sizeof id, "/subscriptions/%s", sim_world.subscription);
	cJSON_AddStringToObject(s, "id", id);
	cJSON_AddStringToObject(s, "authorizationSource", "RoleBased");
	cJSON_AddArrayToObject(s, "managedByTenants");
	cJSON_AddStringToObject(s, "subscriptionId", sim_world.subscription);
	cJSON_AddStringToObject(s, "tenantId", sim_world.tenant);
	cJSON_AddStringToObject(s, "displayName", "bgswitch simulated subscription");
	cJSON_AddStringToObject(s, "state", "Enabled");
	pol = cJSON_AddObjectToObject(s, "subscriptionPolicies");
	cJSON_AddStringToObject(pol, "locationPlacementId", "Public_2014-09-01");
	cJSON_AddStringToObject(pol, "quotaId", "PayAsYouGo_2014-09-01");
	cJSON_AddStringToObject(pol, "spendingLimit", "Off");
	if (list) {
		cJSON *l = cJSON_CreateObject(), *v = cJSON_AddArrayToObject(l, "value");
		cJSON_AddItemToArray(v, s);
		sim_resp_json_take(c->resp, 200, l);
	} else {
		sim_resp_json_take(c->resp, 200, s);
	}
}

static void
serve_resource_group(struct sim_arm_ctx *c, int list)
{
	cJSON *g = cJSON_CreateObject(), *p;
	char id[300];

	if (strcmp(c->method, "GET") != 0) {
		cJSON_Delete(g);
		sim_arm_bad_method(c);
		return;
	}
	sim_arm_rg_id(id, sizeof id);
	cJSON_AddStringToObject(g, "id", id);
	cJSON_AddStringToObject(g, "name", sim_world.resource_group);
	cJSON_AddStringToObject(g, "type", "Microsoft.Resources/resourceGroups");
	cJSON_AddStringToObject(g, "location", sim_world.location);
	cJSON_AddObjectToObject(g, "tags");
	p = cJSON_AddObjectToObject(g, "properties");
	cJSON_AddStringToObject(p, "provisioningState", "Succeeded");
	if (list) {
		cJSON *l = cJSON_CreateObject(), *v = cJSON_AddArrayToObject(l, "value");
		cJSON_AddItemToArray(v, g);
		sim_resp_json_take(c->resp, 200, l);
	} else {
		sim_resp_json_take(c->resp, 200, g);
	}
}

/* Splits a resource id into segments in BUF; returns the count. */
static int
split(char *buf, char **seg, int max)
{
	char *save = NULL;
	int n = 0;

	for (char *p = strtok_r(buf, "/", &save); p != NULL && n < max; p = strtok_r(NULL, "/", &save))
		seg[n++] = p;
	return n;
}

/* Hands a request for .../providers/NS/TYPE/... to the file that owns TYPE. */
static void
dispatch_type(struct sim_arm_ctx *c, const char *ns, const char *type)
{
	if (sim_arm_ieq(ns, "Microsoft.ContainerService")) {
		if (sim_arm_ieq(type, "managedClusters")) {
			sim_arm_aks_handle(c);
			return;
		}
	} else if (sim_arm_ieq(ns, "Microsoft.Network")) {
		if (sim_arm_ieq(type, "applicationGateways")) {
			sim_arm_appgw_handle(c);
			return;
		}
		if (sim_arm_ieq(type, "privateDnsZones")) {
			sim_arm_dns_handle(c);
			return;
		}
	} else if (sim_arm_ieq(ns, "Microsoft.Authorization")) {
		if (sim_arm_ieq(type, "permissions")) {
			sim_arm_authz_handle(c);
			return;
		}
	} else {
		sim_arm_error(c->resp, 400, "InvalidResourceNamespace",
		    "The resource namespace '%s' is invalid.", ns);
		return;
	}
	sim_arm_error(c->resp, 400, "InvalidResourceType",
	    "The resource type '%s' could not be found in the namespace '%s' for api version '%s'.",
	    type, ns, c->api_version);
}

/* The final answer of a finished operation whose result is its resource:
 * what a GET of that resource says now. */
static void
serve_resource_by_id(struct sim_arm_ctx *c, const char *resource_id)
{
	char *buf = strdup(resource_id), *seg[ARM_MAX_PATH_SEG];
	const char *method = c->method;
	int n;

	if (buf == NULL) {
		sim_arm_error(c->resp, 500, "InternalServerError", "out of memory");
		return;
	}
	n = split(buf, seg, ARM_MAX_PATH_SEG);
	if (n < 8) {
		free(buf);
		sim_arm_error(c->resp, 500, "InternalServerError", "bad operation target");
		return;
	}
	c->nseg = 0;
	for (int i = 7; i < n && c->nseg < SIM_ARM_MAX_SEG; i++)
		c->seg[c->nseg++] = seg[i];
	c->method = "GET";
	dispatch_type(c, seg[5], seg[6]);
	c->method = method;
	free(buf);
}

static void
serve_operation(struct sim_arm_ctx *c, const char *ns, const char *what, const char *id)
{
	struct sim_arm_op *op = sim_arm_op_find(id);
	int result = sim_arm_ieq(what, "operationresults");

	if (strcmp(c->method, "GET") != 0) {
		sim_arm_bad_method(c);
		return;
	}
	if (op == NULL || !sim_arm_ieq(op->ns, ns)) {
		sim_arm_error(c->resp, 404, "NotFound", "The operation '%s' could not be found.", id);
		return;
	}
	if (!result) {
		sim_resp_json_take(c->resp, 200, op_status_json(op));
		if (op->status == SIM_OP_IN_PROGRESS)
			sim_resp_header(c->resp, "Retry-After", "%d", op_retry_after(op));
		return;
	}
	switch (op->status) {
	case SIM_OP_IN_PROGRESS:
		sim_resp_body(c->resp, 202, "application/json; charset=utf-8", "", 0);
		sim_arm_op_headers(op, c->resp, 0, 1);
		return;
	case SIM_OP_FAILED:
	case SIM_OP_CANCELED:
		sim_arm_error(c->resp, 400, op->err_code[0] ? op->err_code : "Canceled", "%s",
		    op->err_msg[0] ? op->err_msg : "The operation was canceled.");
		return;
	}
	switch (op->result) {
	case SIM_OP_NO_CONTENT:
		sim_resp_body(c->resp, 204, "application/json; charset=utf-8", "", 0);
		return;
	case SIM_OP_BODY:
		if (op->body != NULL) {
			sim_resp_json(c->resp, 200, op->body);
			return;
		}
		sim_resp_body(c->resp, 204, "application/json; charset=utf-8", "", 0);
		return;
	default:
		serve_resource_by_id(c, op->resource_id);
		return;
	}
}

static void
route(struct sim_arm_ctx *c, char **seg, int n)
{
	const char *ver = c->api_version;
	int k;

	/* /subscriptions */
	if (n == 1) {
		if (api_check(c->resp, ver, "Microsoft.Resources", "resourceGroups"))
			serve_subscription(c, 1);
		return;
	}
	/* /subscriptions/S/providers/NS/locations/L/operations|operationresults/ID */
	if (n == 8 && sim_arm_ieq(seg[2], "providers") && sim_arm_ieq(seg[4], "locations")
	    && (sim_arm_ieq(seg[6], "operations") || sim_arm_ieq(seg[6], "operationresults"))) {
		if (!api_check(c->resp, ver, seg[3], "locations"))
			return;
		if (!sim_arm_ieq(seg[1], sim_world.subscription))
			goto no_sub;
		serve_operation(c, seg[3], seg[6], seg[7]);
		return;
	}
	if (n == 2 || (n <= 4 && sim_arm_ieq(seg[2], "resourceGroups"))) {
		if (!api_check(c->resp, ver, "Microsoft.Resources", "resourceGroups"))
			return;
		if (!sim_arm_ieq(seg[1], sim_world.subscription))
			goto no_sub;
		if (n == 2)
			serve_subscription(c, 0);
		else if (n == 3)
			serve_resource_group(c, 1);
		else if (!sim_arm_ieq(seg[3], sim_world.resource_group))
			goto no_rg;
		else
			serve_resource_group(c, 0);
		return;
	}
	if (n >= 7 && sim_arm_ieq(seg[2], "resourceGroups") && sim_arm_ieq(seg[4], "providers")) {
		/* An extension resource under this one: .../providers/Microsoft.Insights/metrics */
		for (k = 7; k + 2 < n; k++)
			if (sim_arm_ieq(seg[k], "providers"))
				break;
		if (k + 2 < n && sim_arm_ieq(seg[k + 1], "Microsoft.Insights")) {
			if (!api_check(c->resp, ver, seg[k + 1], seg[k + 2]))
				return;
		} else if (!api_check(c->resp, ver, seg[5], seg[6])) {
			return;
		}
		if (!sim_arm_ieq(seg[1], sim_world.subscription))
			goto no_sub;
		if (!sim_arm_ieq(seg[3], sim_world.resource_group))
			goto no_rg;
		c->nseg = 0;
		for (int i = 7; i < n && c->nseg < SIM_ARM_MAX_SEG; i++)
			c->seg[c->nseg++] = seg[i];
		dispatch_type(c, seg[5], seg[6]);
		return;
	}
	if (!api_check(c->resp, ver, "Microsoft.Resources", "resourceGroups"))
		return;
	sim_arm_error(c->resp, 404, "NotFound",
	    "No HTTP resource was found that matches the request URI '%s%s'.", sim_world.base_url,
	    c->req->path);
	return;
no_sub:
	sim_arm_error(c->resp, 404, "SubscriptionNotFound", "The subscription '%s' could not be found.",
	    seg[1]);
	return;
no_rg:
	sim_arm_error(c->resp, 404, "ResourceGroupNotFound", "Resource group '%s' could not be found.",
	    seg[3]);
}

int
sim_arm_handle(struct sim_req *req, struct sim_resp *resp)
{
	struct sim_arm_ctx c;
	char *buf, *seg[ARM_MAX_PATH_SEG];
	int n;

	if (strncasecmp(req->path, "/subscriptions", 14) != 0
	    || (req->path[14] != '/' && req->path[14] != '\0'))
		return 0;
	buf = strdup(req->path);
	if (buf == NULL) {
		sim_resp_body(resp, 500, "text/plain", "out of memory\n", 14);
		return 1;
	}
	n = split(buf, seg, ARM_MAX_PATH_SEG);
	memset(&c, 0, sizeof c);
	c.req = req;
	c.resp = resp;
	c.method = req->method;
	c.api_version = sim_req_arg(req, "api-version");

	pthread_mutex_lock(&sim_world.lock);
	c.now_ms = sim_now_ms();
	std_headers(req, resp);
	/* ARM authenticates before it throttles: limits are per identity and
	 * subscription, so an anonymous call never sees a 429. */
	if (authenticate(req, resp) && !sim_faults_arm(resp))
		route(&c, seg, n);
	if (c.changed)
		pthread_cond_broadcast(&sim_world.changed);
	pthread_mutex_unlock(&sim_world.lock);
	free(buf);

	/* A synchronous call that takes a while (a DNS record set write): wait
	 * outside the lock, giving up when the simulator stops. */
	while (c.delay_real_ms > 0 && !sim_stopping()) {
		int64_t step = c.delay_real_ms > 50 ? 50 : c.delay_real_ms;
		usleep((useconds_t)step * 1000u);
		c.delay_real_ms -= step;
	}
	return 1;
}

/* ---- control actions ------------------------------------------------------------------- */

static void
ctl_text(struct sim_resp *resp, int status, const char *msg)
{
	char buf[600];

	snprintf(buf, sizeof buf, "%s\n", msg);
	sim_resp_body(resp, status, "text/plain; charset=utf-8", buf, strlen(buf));
}

static void
ctl_operations(struct sim_resp *resp)
{
	cJSON *l = cJSON_CreateArray();

	for (size_t i = 0; i < A.nop; i++) {
		cJSON *j = op_status_json(A.op[i]);
		cJSON_AddStringToObject(j, "resourceId", A.op[i]->resource_id);
		cJSON_AddStringToObject(j, "request", A.op[i]->request);
		cJSON_AddItemToArray(l, j);
	}
	sim_resp_json_take(resp, 200, l);
}

int
sim_arm_ctl(struct sim_req *req, struct sim_resp *resp, const char *rest)
{
	int handled = 1;

	pthread_mutex_lock(&sim_world.lock);
	if (strcmp(rest, "entra/certificates") == 0) {
		cJSON *j = cJSON_ParseWithLength(req->body, req->body_len), *out;
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "client_id");
		const cJSON *pem = cJSON_GetObjectItemCaseSensitive(j, "pem");
		char x5t[64], err[300];

		if (strcmp(req->method, "POST") != 0) {
			ctl_text(resp, 405, "use POST");
		} else if (!cJSON_IsObject(j) || !cJSON_IsString(id) || !cJSON_IsString(pem)) {
			ctl_text(resp, 400, "entra/certificates: body must be {\"client_id\": STRING, \"pem\": STRING}");
		} else if (sim_entra_add_certificate(id->valuestring, pem->valuestring, x5t, sizeof x5t,
		    err, sizeof err) != 0) {
			ctl_text(resp, 400, err);
		} else {
			out = cJSON_CreateObject();
			cJSON_AddStringToObject(out, "client_id", id->valuestring);
			cJSON_AddStringToObject(out, "x5t", x5t);
			sim_resp_json_take(resp, 201, out);
		}
		cJSON_Delete(j);
	} else if (strcmp(rest, "operations") == 0) {
		ctl_operations(resp);
	} else if (strcmp(rest, "permissions") == 0) {
		handled = sim_arm_authz_ctl(req, resp);
	} else if (strncmp(rest, "gateways/", 9) == 0) {
		char name[256];
		const char *slash = strchr(rest + 9, '/');
		size_t n = slash != NULL ? (size_t)(slash - rest - 9) : 0;

		if (slash == NULL || n == 0 || n >= sizeof name) {
			ctl_text(resp, 400, "use /_sim/arm/gateways/NAME/ACTION");
		} else {
			memcpy(name, rest + 9, n);
			name[n] = '\0';
			handled = sim_arm_appgw_ctl(req, resp, name, slash + 1);
		}
	} else if (strncmp(rest, "dns/", 4) == 0) {
		handled = sim_arm_dns_ctl(req, resp, rest + 4);
	} else {
		handled = 0;
	}
	pthread_cond_broadcast(&sim_world.changed);
	pthread_mutex_unlock(&sim_world.lock);
	return handled;
}

/* ---- load and tick ----------------------------------------------------------------------- */

static void
arm_free(void)
{
	for (size_t i = 0; i < A.nop; i++)
		op_free(A.op[i]);
	free(A.op);
	cJSON_Delete(A.timings);
	memset(&A, 0, sizeof A);
}

/* The timings this side uses; others (node_join, pod_ready, ...) belong to
 * the Kubernetes side and are left to it. */
static const char *const my_timings[] = {
	"cluster_create", "cluster_update", "cluster_delete", "cluster_stop", "cluster_start",
	"gateway_update", "backend_health", "dns_update",
};

int
sim_arm_load(const cJSON *world, char *err, size_t errlen)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(world, "timings");

	arm_free();
	if (t != NULL && !cJSON_IsNull(t)) {
		if (!cJSON_IsObject(t)) {
			snprintf(err, errlen, "timings: expected a mapping");
			return -1;
		}
		for (size_t i = 0; i < sizeof my_timings / sizeof my_timings[0]; i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, my_timings[i]);
			if (v != NULL && (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 86400)) {
				snprintf(err, errlen, "timings.%s: expected seconds, 0 to 86400", my_timings[i]);
				return -1;
			}
		}
		A.timings = cJSON_Duplicate(t, 1);
	}
	sim_arm_metrics_reset();
	if (sim_arm_aks_load(world, err, errlen) != 0 || sim_arm_appgw_load(world, err, errlen) != 0
	    || sim_arm_dns_load(world, err, errlen) != 0 || sim_arm_authz_load(world, err, errlen) != 0)
		return -1;
	return 0;
}

void
sim_arm_tick(int64_t now_ms)
{
	ops_tick(now_ms);
	sim_arm_metrics_tick(now_ms);
}
