/*
 * test_sim_shapes.c — the simulator's ARM answers have the shape of the
 * real ones.
 *
 * The simulator is started in-process (plain HTTP, compressed time) and
 * called over HTTP with libcurl, as a client would; for each resource type
 * the matching real example from the Azure REST API specifications
 * (tests/fixtures/azure/, see SOURCES.md) is walked, and every field path of
 * its response body (object members by name, array elements as "[]") must
 * exist in the simulator's body.  Missing paths are printed.
 *
 * Two kinds of paths are treated specially, each for a stated reason:
 *   maps    objects whose member names are data (tags, metadata, the
 *           user-assigned identities keyed by resource id): the map must
 *           exist; for identities, each entry must have the example entry's
 *           fields.
 *   skips   parts of the application gateway the simulated world does not
 *           configure (advanced routing, JWT validation, rewrite rules, SSL
 *           profiles, client certificates; a rule's single backend pool,
 *           which the weighted live rule replaces by a load distribution
 *           policy), and the isPreview flag that AKS only prints for
 *           preview versions.  Skipped collections must still be present
 *           (as empty lists), as the provider returns them.
 * The strict form puts the example's own request body to the simulator and
 * checks the answer against the example's response with nothing skipped
 * but the one value the example's response has and its request lacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "sim/sim.h"
#include "tests/lib/testenv.h"

#define FIXTURES "tests/fixtures/azure/"

static char dir[256];
static char base[128];
static char token[8192];
static char rgpath[512];	/* /subscriptions/S/resourceGroups/RG/providers */

/* ---- HTTP ---------------------------------------------------------------- */

struct buf {
	char *p;
	size_t n;
};

static size_t
on_data(char *d, size_t sz, size_t nm, void *ctx)
{
	struct buf *b = ctx;
	char *np = realloc(b->p, b->n + sz * nm + 1);

	if (np == NULL)
		return 0;
	b->p = np;
	memcpy(b->p + b->n, d, sz * nm);
	b->n += sz * nm;
	b->p[b->n] = '\0';
	return sz * nm;
}

/* METHOD URL with an optional JSON or form BODY; returns the status and the
 * body (malloc'd, "" when none) in *OUT and the headers in *HDRS. */
static long
http(const char *method, const char *url, const char *body, const char *ctype, char **out, char **hdrs)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct buf b = { NULL, 0 }, hb = { NULL, 0 };
	char auth[8300], ct[128];
	long status = 0;

	assert_non_null(c);
	if (token[0] != '\0') {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	if (ctype != NULL) {
		snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
		h = curl_slist_append(h, ct);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	else if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	*out = b.p != NULL ? b.p : strdup("");
	if (hdrs != NULL)
		*hdrs = hb.p != NULL ? hb.p : strdup("");
	else
		free(hb.p);
	return status;
}

/* The value of header NAME in HDRS (malloc'd), or NULL. */
static char *
header(const char *hdrs, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = hdrs; l != NULL && *l != '\0'; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			const char *v = l + n + 1, *e;
			while (*v == ' ')
				v++;
			e = v;
			while (*e != '\0' && *e != '\r' && *e != '\n')
				e++;
			return strndup(v, (size_t)(e - v));
		}
	}
	return NULL;
}

/* ARM call on PATH (relative to the resource group's providers). */
static cJSON *
arm(const char *method, const char *path, const char *body, long want, char **hdrs)
{
	char url[1024], *out;
	long st;
	cJSON *j;

	snprintf(url, sizeof url, "%s%s%s", base, rgpath, path);
	st = http(method, url, body, body != NULL ? "application/json" : NULL, &out, hdrs);
	if (st != want)
		print_error("%s %s -> %ld (want %ld): %s\n", method, url, st, want, out);
	assert_int_equal(st, want);
	j = cJSON_Parse(out);
	free(out);
	assert_non_null(j);
	return j;
}

/* Polls a Location URL until it stops answering 202; returns the final body. */
static cJSON *
follow(const char *location, long want)
{
	char *out = NULL;
	long st = 202;
	cJSON *j;

	for (int i = 0; i < 400 && st == 202; i++) {
		free(out);
		st = http("GET", location, NULL, NULL, &out, NULL);
		if (st == 202)
			usleep(50 * 1000);
	}
	if (st != want)
		print_error("GET %s -> %ld (want %ld): %s\n", location, st, want, out);
	assert_int_equal(st, want);
	j = cJSON_Parse(out);
	free(out);
	assert_non_null(j);
	return j;
}

/* ---- field paths ------------------------------------------------------------- */

struct paths {
	char **v;
	size_t n, cap;
};

static void
paths_add(struct paths *p, const char *s)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i], s) == 0)
			return;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = realloc(p->v, sizeof *p->v * p->cap);
		assert_non_null(p->v);
	}
	p->v[p->n++] = strdup(s);
}

static int
paths_has(const struct paths *p, const char *s)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i], s) == 0)
			return 1;
	return 0;
}

static void
paths_free(struct paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	memset(p, 0, sizeof *p);
}

/* Objects whose member names are data: opaque (only the map itself), or
 * keyed (entries compared with their names replaced by "*"). */
static int
map_kind(const char *path)
{
	const char *last = strrchr(path, '.');

	last = last != NULL ? last + 1 : path;
	if (strcmp(last, "tags") == 0 || strcmp(last, "metadata") == 0)
		return 1;
	if (strcmp(last, "userAssignedIdentities") == 0)
		return 2;
	return 0;
}

static void
collect(const cJSON *j, const char *prefix, struct paths *out)
{
	const cJSON *it;
	char p[1024];

	if (cJSON_IsArray(j)) {
		snprintf(p, sizeof p, "%s[]", prefix);
		cJSON_ArrayForEach(it, j)
			collect(it, p, out);
		return;
	}
	if (!cJSON_IsObject(j))
		return;
	cJSON_ArrayForEach(it, j) {
		int mk;

		snprintf(p, sizeof p, "%s%s%s", prefix, prefix[0] ? "." : "", it->string);
		paths_add(out, p);
		mk = map_kind(p);
		if (mk == 1)
			continue;
		if (mk == 2) {
			const cJSON *e;
			char q[1100];
			snprintf(q, sizeof q, "%s.*", p);
			cJSON_ArrayForEach(e, it)
				collect(e, q, out);
			continue;
		}
		collect(it, p, out);
	}
}

static int
skipped(const char *path, const char *const *skips)
{
	for (int i = 0; skips != NULL && skips[i] != NULL; i++) {
		size_t n = strlen(skips[i]);
		if (strncmp(path, skips[i], n) == 0 && (path[n] == '\0' || path[n] == '.' || path[n] == '['))
			return 1;
	}
	return 0;
}

/* Every path of the example's response body STATUS must be in OURS. */
static void
shape_check(const char *fixture, const char *status, const cJSON *ours, const char *const *skips)
{
	char path[512];
	FILE *f;
	long len;
	char *text;
	cJSON *ex, *body;
	struct paths want = { 0 }, have = { 0 };
	int missing = 0, skip = 0;

	snprintf(path, sizeof path, FIXTURES "%s", fixture);
	f = fopen(path, "rb");
	if (f == NULL)
		print_error("cannot open %s (run the tests from the repository root)\n", path);
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = malloc((size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	ex = cJSON_Parse(text);
	free(text);
	assert_non_null(ex);
	body = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(ex, "responses"), status), "body");
	assert_non_null(body);
	collect(body, "", &want);
	collect(ours, "", &have);
	for (size_t i = 0; i < want.n; i++) {
		if (skipped(want.v[i], skips)) {
			skip++;
			continue;
		}
		if (!paths_has(&have, want.v[i])) {
			print_message("# %s %s: missing %s\n", fixture, status, want.v[i]);
			missing++;
		}
	}
	if (skip > 0)
		print_message("# %s %s: %d of %zu paths exempt (the reason is with the exemption list)\n",
		    fixture, status, skip, want.n);
	paths_free(&want);
	paths_free(&have);
	cJSON_Delete(ex);
	assert_int_equal(missing, 0);
}

/* ---- fixture ---------------------------------------------------------------------- */

static void
env_value(const char *env, const char *key, char *out, size_t n)
{
	const char *p = strstr(env, key);

	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(key);
	if (*p == '=')
		p++;
	if (*p == '\'')
		p++;
	snprintf(out, n, "%.*s", (int)strcspn(p, "'\n"), p);
}

static int
setup(void **state)
{
	struct sim_opts o = { 0 };
	char err[512], path[400], env[4096], client[128], secret[256], tenant[128], form[1024];
	char *out;
	FILE *f;
	size_t n;
	cJSON *j, *e;
	long st;

	(void)state;
	snprintf(dir, sizeof dir, "%s/bgswitch-shapes.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	o.dir = dir;
	o.speed = 100;
	o.plain_http = 1;
	if (sim_start(&o, err, sizeof err) != 0) {
		fprintf(stderr, "sim_start: %s\n", err);
		return -1;
	}
	snprintf(base, sizeof base, "%s", sim_base_url());
	curl_global_init(CURL_GLOBAL_DEFAULT);

	snprintf(path, sizeof path, "%s/env", dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(env, 1, sizeof env - 1, f);
	env[n] = '\0';
	fclose(f);
	env_value(env, "AZURE_CLIENT_ID", client, sizeof client);
	env_value(env, "AZURE_CLIENT_SECRET", secret, sizeof secret);
	env_value(env, "AZURE_TENANT_ID", tenant, sizeof tenant);

	snprintf(path, sizeof path, "%s/endpoints.json", dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(env, 1, sizeof env - 1, f);
	env[n] = '\0';
	fclose(f);
	e = cJSON_Parse(env);
	if (!cJSON_IsString(cJSON_GetObjectItem(e, "subscription"))
	    || !cJSON_IsString(cJSON_GetObjectItem(e, "resourceGroup"))) {
		cJSON_Delete(e);
		return -1;
	}
	snprintf(rgpath, sizeof rgpath, "/subscriptions/%s/resourceGroups/%s/providers",
	    cJSON_GetObjectItem(e, "subscription")->valuestring, cJSON_GetObjectItem(e, "resourceGroup")->valuestring);
	cJSON_Delete(e);

	/* A token the way a client gets one: client secret, form-encoded. */
	{
		CURL *c = curl_easy_init();
		char *es = curl_easy_escape(c, secret, 0), *esc = curl_easy_escape(c, base, 0);
		snprintf(form, sizeof form, "grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s%%2F.default",
		    client, es, esc);
		curl_free(es);
		curl_free(esc);
		curl_easy_cleanup(c);
	}
	snprintf(path, sizeof path, "%s/%s/oauth2/v2.0/token", base, tenant);
	st = http("POST", path, form, "application/x-www-form-urlencoded", &out, NULL);
	j = cJSON_Parse(out);
	free(out);
	if (st != 200 || !cJSON_IsString(cJSON_GetObjectItem(j, "access_token"))) {
		cJSON_Delete(j);
		return -1;
	}
	snprintf(token, sizeof token, "%s", cJSON_GetObjectItem(j, "access_token")->valuestring);
	cJSON_Delete(j);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sim_stop();
	curl_global_cleanup();
	testlib_rmtree(dir);
	return 0;
}

/* ---- tests ---------------------------------------------------------------------------- */

static const char *const AKS = "/Microsoft.ContainerService/managedClusters";

static void
test_managed_cluster_get(void **state)
{
	char p[256];
	cJSON *j;

	(void)state;
	snprintf(p, sizeof p, "%s/aks-prod-blue?api-version=2026-07-01", AKS);
	j = arm("GET", p, NULL, 200, NULL);
	shape_check("containerservice/ManagedClustersCreate_Update.json", "200", j, NULL);
	cJSON_Delete(j);
}

/* The example's own request body, PUT: the 201 answer has the 201 shape,
 * carries no secrets, and the operation completes to the 200 shape. */
static void
test_managed_cluster_put(void **state)
{
	char p[256], *text, *hdrs, *async;
	FILE *f = fopen(FIXTURES "containerservice/ManagedClustersCreate_Update.json", "rb");
	cJSON *ex, *req, *j, *props;
	long len;

	(void)state;
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	ex = cJSON_Parse(text);
	free(text);
	req = cJSON_GetObjectItem(cJSON_GetObjectItem(ex, "parameters"), "parameters");
	assert_non_null(req);
	text = cJSON_PrintUnformatted(req);
	snprintf(p, sizeof p, "%s/clustername1?api-version=2026-07-01", AKS);
	j = arm("PUT", p, text, 201, &hdrs);
	free(text);
	shape_check("containerservice/ManagedClustersCreate_Update.json", "201", j, NULL);
	props = cJSON_GetObjectItem(j, "properties");
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(props, "servicePrincipalProfile"), "secret"));
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(props, "windowsProfile"), "adminPassword"));
	cJSON_Delete(j);
	async = header(hdrs, "Location");
	assert_non_null(async);
	j = follow(async, 200);
	shape_check("containerservice/ManagedClustersCreate_Update.json", "200", j, NULL);
	cJSON_Delete(j);
	free(async);
	free(hdrs);
	cJSON_Delete(ex);
}

static void
test_agent_pools_and_upgrade_profile(void **state)
{
	static const char *const preview_only[] = {
		"properties.agentPoolProfiles[].upgrades[].isPreview",
		"properties.controlPlaneProfile.upgrades[].isPreview", NULL,
	};
	char p[256];
	cJSON *j;

	(void)state;
	snprintf(p, sizeof p, "%s/aks-prod-blue/agentPools?api-version=2026-07-01", AKS);
	j = arm("GET", p, NULL, 200, NULL);
	shape_check("containerservice/AgentPoolsList.json", "200", j, NULL);
	cJSON_Delete(j);
	snprintf(p, sizeof p, "%s/aks-prod-blue/upgradeProfiles/default?api-version=2026-07-01", AKS);
	j = arm("GET", p, NULL, 200, NULL);
	shape_check("containerservice/ManagedClustersGetUpgradeProfile.json", "200", j, preview_only);
	cJSON_Delete(j);
}

static void
test_cluster_user_credential(void **state)
{
	char p[256];
	cJSON *j;

	(void)state;
	snprintf(p, sizeof p, "%s/aks-prod-blue/listClusterUserCredential?api-version=2026-07-01", AKS);
	j = arm("POST", p, NULL, 200, NULL);
	shape_check("containerservice/ManagedClustersListClusterUserCredentials.json", "200", j, NULL);
	cJSON_Delete(j);
}

static const char *const unconfigured_gateway_features[] = {
	"properties.advancedRoutingConditionSets[]",
	"properties.advancedRoutingMaps[]",
	"properties.entraJWTValidationConfigs[]",
	"properties.rewriteRuleSets[]",
	"properties.sslProfiles[]",
	"properties.trustedClientCertificates[]",
	"properties.requestRoutingRules[].properties.advancedRoutingMap",
	"properties.requestRoutingRules[].properties.authConfigs",
	"properties.requestRoutingRules[].properties.rewriteRuleSet",
	"properties.httpListeners[].properties.sslProfile",
	/* The live rule distributes by loadDistributionPolicy, which takes
	 * the place of a single backendAddressPool. */
	"properties.requestRoutingRules[].properties.backendAddressPool",
	NULL,
};

static void
test_application_gateway_get(void **state)
{
	cJSON *j;
	const cJSON *v;

	(void)state;
	j = arm("GET", "/Microsoft.Network/applicationGateways/agw-prod?api-version=2026-03-01", NULL, 200, NULL);
	shape_check("network/ApplicationGatewayCreate.json", "200", j, unconfigured_gateway_features);
	/* The weights live where clients look for them. */
	v = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "properties"), "loadDistributionPolicies");
	v = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 0), "properties"), "loadDistributionTargets");
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 0), "properties"),
	    "weightPerServer")));
	assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "etag")));
	cJSON_Delete(j);
}

/* The example's response carries one value its request never sent (a
 * rewrite rule's modifiedQueryString): a server cannot echo what it was
 * not given, so that path alone is exempt. */
static const char *const example_inconsistencies[] = {
	"properties.rewriteRuleSets[].properties.rewriteRules[].actionSet.urlConfiguration.modifiedQueryString",
	NULL,
};

/* A gateway PUT with the real example's own request body must come back
 * with every field path of the real response: nothing skipped.  This is
 * the strict form of the check above, whose world gateway leaves some
 * features unconfigured. */
static void
test_application_gateway_put_real_example(void **state)
{
	char path[512], *text, *body;
	FILE *f;
	long len;
	cJSON *ex, *req, *j;

	(void)state;
	snprintf(path, sizeof path, FIXTURES "%s", "network/ApplicationGatewayCreate.json");
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = malloc((size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	ex = cJSON_Parse(text);
	free(text);
	assert_non_null(ex);
	req = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ex, "parameters"),
	    "parameters");
	assert_non_null(req);
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(ex);
	j = arm("PUT", "/Microsoft.Network/applicationGateways/appgw-example?api-version=2026-03-01",
	    body, 201, NULL);
	free(body);
	cJSON_Delete(j);
	/* Updating until the operation completes; the shape is the same. */
	j = arm("GET", "/Microsoft.Network/applicationGateways/appgw-example?api-version=2026-03-01",
	    NULL, 200, NULL);
	shape_check("network/ApplicationGatewayCreate.json", "200", j, example_inconsistencies);
	cJSON_Delete(j);
}

static void
test_backend_health(void **state)
{
	char *hdrs, *loc, *out;
	char url[1024];
	long st;
	cJSON *j;

	(void)state;
	snprintf(url, sizeof url, "%s%s/Microsoft.Network/applicationGateways/agw-prod/backendhealth?api-version=2026-01-01",
	    base, rgpath);
	st = http("POST", url, NULL, NULL, &out, &hdrs);
	free(out);
	assert_int_equal(st, 202);
	loc = header(hdrs, "Location");
	assert_non_null(loc);
	j = follow(loc, 200);
	shape_check("network/ApplicationGatewayBackendHealthGet.json", "200", j, NULL);
	cJSON_Delete(j);
	free(loc);
	free(hdrs);
}

static void
test_private_zone_get(void **state)
{
	cJSON *j;

	(void)state;
	j = arm("GET", "/Microsoft.Network/privateDnsZones/priv.contoso.com?api-version=2024-06-01", NULL, 200, NULL);
	shape_check("privatedns/PrivateZoneGet.json", "200", j, NULL);
	cJSON_Delete(j);
}

static void
test_a_record_get_put(void **state)
{
	const char *z = "/Microsoft.Network/privateDnsZones/priv.contoso.com";
	char p[256];
	cJSON *j;

	(void)state;
	snprintf(p, sizeof p, "%s/A/aks?api-version=2024-06-01", z);
	j = arm("GET", p, NULL, 200, NULL);
	shape_check("privatedns/RecordSetAGet.json", "200", j, NULL);
	cJSON_Delete(j);
	/* update an existing record set: 200 */
	j = arm("PUT", p, "{\"properties\":{\"ttl\":300,\"aRecords\":[{\"ipv4Address\":\"10.10.1.4\"}],"
	    "\"metadata\":{\"owner\":\"bgswitch\"}}}", 200, NULL);
	shape_check("privatedns/RecordSetAPut.json", "200", j, NULL);
	cJSON_Delete(j);
	/* create one: 201, its name lower-cased as Azure stores it */
	snprintf(p, sizeof p, "%s/A/recordA?api-version=2024-06-01", z);
	j = arm("PUT", p, "{\"properties\":{\"ttl\":3600,\"aRecords\":[{\"ipv4Address\":\"1.2.3.4\"}],"
	    "\"metadata\":{\"key1\":\"value1\"}}}", 201, NULL);
	shape_check("privatedns/RecordSetAPut.json", "201", j, NULL);
	assert_string_equal(cJSON_GetObjectItem(j, "name")->valuestring, "recorda");
	cJSON_Delete(j);
}

static void
test_cname_record_get_put_list(void **state)
{
	const char *z = "/Microsoft.Network/privateDnsZones/priv.contoso.com";
	const char *body = "{\"properties\":{\"ttl\":3600,\"cnameRecord\":{\"cname\":\"contoso.com\"},"
	    "\"metadata\":{\"key1\":\"value1\"}}}";
	char p[256];
	cJSON *j;

	(void)state;
	snprintf(p, sizeof p, "%s/CNAME/recordCNAME?api-version=2024-06-01", z);
	j = arm("PUT", p, body, 201, NULL);
	shape_check("privatedns/RecordSetCNAMEPut.json", "201", j, NULL);
	cJSON_Delete(j);
	j = arm("PUT", p, body, 200, NULL);
	shape_check("privatedns/RecordSetCNAMEPut.json", "200", j, NULL);
	cJSON_Delete(j);
	j = arm("GET", p, NULL, 200, NULL);
	shape_check("privatedns/RecordSetCNAMEPut.json", "200", j, NULL);
	cJSON_Delete(j);
	snprintf(p, sizeof p, "%s/CNAME?api-version=2024-06-01", z);
	j = arm("GET", p, NULL, 200, NULL);
	shape_check("privatedns/RecordSetCNAMEList.json", "200", j, NULL);
	cJSON_Delete(j);
}

static void
test_metrics(void **state)
{
	cJSON *j;

	(void)state;
	/* Let a little simulated traffic through first. */
	usleep(300 * 1000);
	j = arm("GET", "/Microsoft.Network/applicationGateways/agw-prod/providers/Microsoft.Insights/metrics"
	    "?api-version=2023-10-01&metricnames=HealthyHostCount&timespan=PT10M&interval=PT1M"
	    "&aggregation=average,minimum,maximum&%24filter=BackendSettingsPool%20eq%20%27*%27", NULL, 200, NULL);
	shape_check("monitor/GetMetric.json", "200", j, NULL);
	cJSON_Delete(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_managed_cluster_get),
		cmocka_unit_test(test_managed_cluster_put),
		cmocka_unit_test(test_agent_pools_and_upgrade_profile),
		cmocka_unit_test(test_cluster_user_credential),
		cmocka_unit_test(test_application_gateway_get),
		cmocka_unit_test(test_application_gateway_put_real_example),
		cmocka_unit_test(test_backend_health),
		cmocka_unit_test(test_private_zone_get),
		cmocka_unit_test(test_a_record_get_put),
		cmocka_unit_test(test_cname_record_get_put_list),
		cmocka_unit_test(test_metrics),
	};

	return cmocka_run_group_tests_name("sim_shapes", tests, setup, teardown);
}
