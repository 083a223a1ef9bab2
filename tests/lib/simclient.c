/*
 * simclient.c — see simclient.h.  Shared by the azure/ tests that end with
 * a run against the simulator (test_aks, test_appgw, test_metrics,
 * test_pdns).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim/sim.h"
#include "src/http.h"
#include "tests/lib/simclient.h"
#include "tests/lib/testenv.h"

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


static const char *
simenv_get(void *ctx, const char *name)
{
	struct simclient *e = ctx;

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

void
simclient_start(struct simclient *x)
{
	simclient_start_speed(x, 100);
}

void
simclient_start_speed(struct simclient *x, double speed)
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
	so.speed = speed;
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

void
simclient_ctl(struct simclient *x, const char *method, const char *path, const char *body,
    cJSON **out)
{
	static const char *const json_hdr[] = { "Content-Type: application/json", NULL };
	struct http_request rq = { 0 };
	struct http_response rs;
	char url[700], err[512];

	if (x->ctl == NULL) {
		struct http_tls tls = { 0 };
		struct http_client_config hc = { 0 };

		tls.ca_file = x->ca;
		hc.name = "sim-control";
		hc.tls = &tls;
		if ((x->ctl = http_client_new(&hc, err, sizeof err)) == NULL)
			fail_msg("control client: %s", err);
	}
	snprintf(url, sizeof url, "%s%s", sim_base_url(), path);
	rq.method = method;
	rq.url = url;
	rq.body = body;
	rq.body_len = body != NULL ? strlen(body) : 0;
	rq.headers = body != NULL ? json_hdr : NULL;
	if (http_do(x->ctl, &rq, &rs) != 0)
		fail_msg("control %s %s: %s", method, path, rs.error);
	if (rs.status < 200 || rs.status > 299)
		fail_msg("control %s %s: %ld %s", method, path, rs.status, rs.body);
	if (out != NULL)
		*out = cJSON_Parse(rs.body);
	http_response_free(&rs);
}

void
simclient_stop(struct simclient *x)
{
	http_client_free(x->ctl);
	x->ctl = NULL;
	arm_client_free(x->arm);
	az_cred_free(x->cred);
	sim_stop();
	testlib_rmtree(x->dir);
}
