/*
 * fakearm.c — a scripted Azure Resource Manager for unit tests (fakearm.h),
 * built on testsrv.h's libmicrohttpd plumbing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/lib/fakearm.h"

#include "azure/arm.h"
#include "azure/credential.h"
#include "tests/lib/testsrv.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
fakearm_hdr(struct fakearm_reply *r, const char *name, const char *value)
{
	if (r->nh < 4) {
		snprintf(r->hdr[r->nh][0], sizeof r->hdr[0][0], "%s", name);
		snprintf(r->hdr[r->nh][1], sizeof r->hdr[0][1], "%s", value);
		r->nh++;
	}
}

void
fakearm_reply(struct fakearm_reply *r, unsigned status, const char *body)
{
	free(r->body);
	r->status = status;
	r->body = strdup(body != NULL ? body : "");
}

void
fakearm_reply_json(struct fakearm_reply *r, unsigned status, const cJSON *j)
{
	char *t = cJSON_PrintUnformatted(j);

	fakearm_reply(r, status, t);
	free(t);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **con_cls)
{
	struct fakearm *s = cls;
	struct fakearm_rq q;
	struct fakearm_reply r = { 0 };
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *body;

	(void)version;
	body = testsrv_body(con_cls, data, size, &ret);
	if (body == NULL)
		return ret;
	memset(&q, 0, sizeof q);
	snprintf(q.method, sizeof q.method, "%s", method);
	snprintf(q.path, sizeof q.path, "%s", url);
	testsrv_header(conn, "If-Match", q.if_match, sizeof q.if_match);
	testsrv_query(conn, q.query, sizeof q.query);
	q.body = (char *)body;
	fakearm_reply(&r, 404, "{\"error\":{\"code\":\"NoRoute\",\"message\":\"no route\"}}");
	if (strstr(url, "/oauth2/v2.0/token") != NULL) {
		fakearm_reply(&r, 200,
		    "{\"token_type\":\"Bearer\",\"expires_in\":3600,\"access_token\":\"tok\"}");
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

struct fakearm *
fakearm_start(fakearm_route_fn route, void *ctx)
{
	struct fakearm *s = calloc(1, sizeof *s);
	int port;

	assert_non_null(s);
	s->route = route;
	s->ctx = ctx;
	pthread_mutex_init(&s->lock, NULL);
	s->d = testsrv_daemon(handler, s, NULL, NULL, &port);
	snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", port);
	return s;
}

void
fakearm_stop(struct fakearm *s)
{
	MHD_stop_daemon(s->d);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const char *
env_get(void *ctx, const char *name)
{
	struct fakearm_client *f = ctx;

	for (int i = 0; i < 4; i++)
		if (f->env.kv[i][0] != NULL && strcmp(f->env.kv[i][0], name) == 0)
			return f->env.kv[i][1];
	return NULL;
}

void
fakearm_client_init(struct fakearm_client *f, fakearm_route_fn route, void *ctx)
{
	struct az_cred_config cc = { .kind = AZ_CRED_ENVIRONMENT };
	struct arm_client_config ac = { 0 };
	char err[512];

	memset(f, 0, sizeof *f);
	f->s = fakearm_start(route, ctx);
	f->env.kv[0][0] = "AZURE_TENANT_ID";
	f->env.kv[0][1] = "tenant-1";
	f->env.kv[1][0] = "AZURE_CLIENT_ID";
	f->env.kv[1][1] = "client-1";
	f->env.kv[2][0] = "AZURE_CLIENT_SECRET";
	f->env.kv[2][1] = "secret-1";
	f->env.kv[3][0] = "AZURE_AUTHORITY_HOST";
	f->env.kv[3][1] = f->s->base;
	cc.getenv_fn = env_get;
	cc.getenv_ctx = f;
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

void
fakearm_client_done(struct fakearm_client *f)
{
	arm_client_free(f->arm);
	az_cred_free(f->cred);
	fakearm_stop(f->s);
}
