/*
 * test_pdns.c — Private DNS record sets: parse, change the target with
 * If-Match, 412 when the record changed behind our back, restore, status.
 *
 * A libmicrohttpd server on 127.0.0.1 (tests/lib/fakearm.c) plays
 * Entra's token endpoint and ARM holding one record set, which starts as
 * a real example (RecordSetAGet.json, or RecordSetCNAMEPut.json's
 * answer; see tests/fixtures/azure/SOURCES.md): GET answers it with its
 * etag in the body as the examples do, PUT checks If-Match, keeps what
 * it is sent, bumps the etag and answers like RecordSetAPut.json.  The
 * last test runs against the simulator's zone priv.contoso.com.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "azure/arm.h"
#include "azure/credential.h"
#include "azure/pdns.h"
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
#define ZONE "/subscriptions/subscriptionId/resourceGroups/resourceGroup1/providers/" \
	"Microsoft.Network/privateDnsZones/privatezone1.com"
#define RECA ZONE "/A/recorda"
#define RECC ZONE "/CNAME/recordcname"

/* ---- parsing ------------------------------------------------------------------------------ */

static void
test_parse_examples(void **state)
{
	cJSON *b = example_body(FIX "privatedns/RecordSetAGet.json", "200");
	struct pdns_record r;
	char err[256];

	(void)state;
	assert_int_equal(pdns_parse(b, NULL, &r, err, sizeof err), 0);
	assert_string_equal(r.type, "A");
	assert_string_equal(r.name, "recorda");
	assert_string_equal(r.id, RECA);
	assert_string_equal(r.fqdn, "recorda.privatezone1.com.");
	assert_string_equal(r.etag, "00000000-0000-0000-0000-000000000000");
	assert_int_equal(r.ttl, 3600);
	assert_int_equal(r.ntargets, 1);
	assert_string_equal(r.targets[0], "1.2.3.4");
	assert_false(r.auto_registered);
	/* A header ETag wins over the body's. */
	assert_int_equal(pdns_parse(b, "\"hdr\"", &r, err, sizeof err), 0);
	assert_string_equal(r.etag, "\"hdr\"");
	cJSON_Delete(b);

	b = example_body(FIX "privatedns/RecordSetCNAMEPut.json", "200");
	assert_int_equal(pdns_parse(b, NULL, &r, err, sizeof err), 0);
	assert_string_equal(r.type, "CNAME");
	assert_int_equal(r.ntargets, 1);
	assert_string_equal(r.targets[0], "contoso.com");
	cJSON_Delete(b);

	/* The type from the id when "type" is absent; other types refused. */
	b = cJSON_Parse("{\"id\":\"" ZONE "/A/x\",\"properties\":{\"aRecords\":[{\"ipv4Address\":"
	    "\"10.0.0.1\"},{\"ipv4Address\":\"10.0.0.2\"},{}]}}");
	assert_int_equal(pdns_parse(b, NULL, &r, err, sizeof err), 0);
	assert_string_equal(r.type, "A");
	assert_int_equal(r.ntargets, 2);
	cJSON_Delete(b);
	b = cJSON_Parse("{\"type\":\"Microsoft.Network/privateDnsZones/TXT\",\"properties\":{}}");
	assert_int_equal(pdns_parse(b, NULL, &r, err, sizeof err), PDNS_E_INVALID);
	assert_non_null(strstr(err, "TXT"));
	cJSON_Delete(b);
	assert_int_equal(pdns_parse(NULL, NULL, &r, err, sizeof err), PDNS_E_BODY);
	b = cJSON_Parse("{\"properties\":[]}");
	assert_int_equal(pdns_parse(b, NULL, &r, err, sizeof err), PDNS_E_BODY);
	cJSON_Delete(b);
}

static void
test_record_id_and_status(void **state)
{
	struct pdns_record r;
	cJSON *b = example_body(FIX "privatedns/RecordSetAGet.json", "200"), *o;
	char id[512], err[256], *text;

	(void)state;
	assert_int_equal(pdns_record_id(id, sizeof id, "subscriptionId", "resourceGroup1",
	    "privatezone1.com", "A", "recorda"), 0);
	assert_string_equal(id, RECA);
	assert_int_equal(pdns_record_id(id, sizeof id, "s", "rg", "z", "TXT", "a"), -1);
	assert_int_equal(pdns_record_id(id, sizeof id, "s", "rg", "z", "A", "a/b"), -1);
	assert_int_equal(pdns_parse(b, NULL, &r, err, sizeof err), 0);
	o = pdns_status_json(&r, "1.2.3.4", "10.10.2.4");
	text = cJSON_PrintUnformatted(o);
	assert_string_equal(text, "{\"fqdn\":\"recorda.privatezone1.com\",\"type\":\"A\",\"ttl\":3600,"
	    "\"targets\":[\"1.2.3.4\"],\"pointsTo\":\"blue\"}");
	free(text);
	cJSON_Delete(o);
	assert_string_equal(pdns_points_to(&r, "10.10.1.4", "1.2.3.4"), "green");
	assert_string_equal(pdns_points_to(&r, "10.10.1.4", "10.10.2.4"), "other");
	assert_string_equal(pdns_points_to(&r, NULL, NULL), "other");
	/* CNAMEs compare like DNS names. */
	r.ntargets = 1;
	snprintf(r.targets[0], sizeof r.targets[0], "AKS-Green.priv.contoso.com.");
	assert_string_equal(pdns_points_to(&r, "aks-blue.priv.contoso.com",
	    "aks-green.priv.contoso.com"), "green");
	/* Two A records are neither single target. */
	r.ntargets = 2;
	snprintf(r.targets[0], sizeof r.targets[0], "10.10.1.4");
	snprintf(r.targets[1], sizeof r.targets[1], "10.10.2.4");
	assert_string_equal(pdns_points_to(&r, "10.10.1.4", "10.10.2.4"), "other");
	cJSON_Delete(b);
}

/* ---- the fake zone ------------------------------------------------------------------------------ */

struct recstate {
	pthread_mutex_t lock;
	cJSON *rec;
	int etag, puts;
	int meddle;			/* someone else writes before our next PUT lands */
	int ignore_puts;
	char last_if_match[256];
	cJSON *last_put;
};

static void
rec_set_etag(struct recstate *g)
{
	char e[64];

	snprintf(e, sizeof e, "etag-%d", g->etag);
	cJSON_DeleteItemFromObject(g->rec, "etag");
	cJSON_AddStringToObject(g->rec, "etag", e);
}

static void
route_rec(struct fakearm *s, const struct fakearm_rq *q, struct fakearm_reply *r)
{
	struct recstate *g = s->ctx;
	const char *id = cJSON_GetObjectItem(g->rec, "id")->valuestring;
	char e[64];

	pthread_mutex_lock(&g->lock);
	fakearm_hdr(r, "x-ms-request-id", "rid-pdns");
	if (strcasecmp(q->path, id) != 0) {
		fakearm_reply(r, 404, "{\"error\":{\"code\":\"NotFound\",\"message\":\"The resource record "
		    "'nope' does not exist in resource group 'resourceGroup1' of subscription "
		    "'subscriptionId'.\"}}");
	} else if (strcmp(q->method, "GET") == 0) {
		fakearm_reply_json(r, 200, g->rec);
	} else if (strcmp(q->method, "PUT") == 0) {
		g->puts++;
		snprintf(g->last_if_match, sizeof g->last_if_match, "%s", q->if_match);
		cJSON_Delete(g->last_put);
		g->last_put = cJSON_Parse(q->body);
		if (g->meddle) {
			g->meddle = 0;
			g->etag++;
			rec_set_etag(g);
		}
		snprintf(e, sizeof e, "etag-%d", g->etag);
		if (strcmp(q->if_match, e) != 0) {
			fakearm_reply(r, 412, "{\"error\":{\"code\":\"PreconditionFailed\",\"message\":\"The "
			    "Record set recorda has been modified (etag mismatch).\"}}");
		} else {
			cJSON *props = cJSON_Duplicate(cJSON_GetObjectItem(g->last_put, "properties"), 1);
			cJSON *fq = cJSON_Duplicate(cJSON_GetObjectItem(cJSON_GetObjectItem(g->rec,
			    "properties"), "fqdn"), 1);

			if (!g->ignore_puts) {
				/* The service keeps fqdn and isAutoRegistered itself. */
				cJSON_AddItemToObject(props, "fqdn", fq);
				cJSON_AddFalseToObject(props, "isAutoRegistered");
				cJSON_ReplaceItemInObject(g->rec, "properties", props);
			} else {
				cJSON_Delete(props);
				cJSON_Delete(fq);
			}
			g->etag++;
			rec_set_etag(g);
			fakearm_reply_json(r, 200, g->rec);
		}
	}
	pthread_mutex_unlock(&g->lock);
}

static void
rec_init(struct recstate *g, cJSON *rec)
{
	memset(g, 0, sizeof *g);
	pthread_mutex_init(&g->lock, NULL);
	g->rec = rec;
	g->etag = 1;
	rec_set_etag(g);
}

static void
rec_done(struct recstate *g)
{
	cJSON_Delete(g->rec);
	cJSON_Delete(g->last_put);
	pthread_mutex_destroy(&g->lock);
}

/* ---- writes ---------------------------------------------------------------------------------------- */

static void
test_a_put_if_match(void **state)
{
	struct recstate g;
	struct fakearm_client f;
	struct pdns_change ch;
	const char *green[] = { "10.10.2.4" };
	cJSON *p;
	char err[512] = "";

	(void)state;
	rec_init(&g, example_body(FIX "privatedns/RecordSetAGet.json", "200"));
	fakearm_client_init(&f, route_rec, &g);
	if (pdns_set_targets(f.arm, RECA, green, 1, 60, NULL, NULL, &ch, err, sizeof err) != 0)
		fail_msg("set: %s", err);
	assert_int_equal(ch.changed, 1);
	assert_string_equal(g.last_if_match, "etag-1");
	/* The PUT keeps the metadata, drops the read-only fields. */
	p = cJSON_GetObjectItem(g.last_put, "properties");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "metadata"),
	    "key1")->valuestring, "value1");
	assert_int_equal(cJSON_GetObjectItem(p, "ttl")->valueint, 60);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(p, "aRecords")), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(p, "aRecords"),
	    0), "ipv4Address")->valuestring, "10.10.2.4");
	assert_null(cJSON_GetObjectItem(p, "fqdn"));
	assert_null(cJSON_GetObjectItem(p, "isAutoRegistered"));
	assert_null(cJSON_GetObjectItem(g.last_put, "etag"));
	/* before / after. */
	assert_string_equal(ch.before.targets[0], "1.2.3.4");
	assert_int_equal(ch.before.ttl, 3600);
	assert_string_equal(ch.after.targets[0], "10.10.2.4");
	assert_int_equal(ch.after.ttl, 60);
	assert_string_equal(ch.after.etag, "etag-2");
	assert_string_equal(cJSON_GetObjectItem(ch.before_json, "etag")->valuestring, "etag-1");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(ch.before_json, "properties"), "aRecords"), 0),
	    "ipv4Address")->valuestring, "1.2.3.4");
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(ch.before_json, "properties"), "fqdn"));
	assert_string_equal(cJSON_GetObjectItem(ch.after_json, "etag")->valuestring, "etag-2");
	pdns_change_free(&ch);

	/* The same target again with the current ETag: nothing written. */
	assert_int_equal(pdns_set_targets(f.arm, RECA, green, 1, 0, "etag-2", NULL, &ch, err,
	    sizeof err), 0);
	assert_int_equal(ch.changed, 0);
	assert_int_equal(g.puts, 1);
	pdns_change_free(&ch);
	fakearm_client_done(&f);
	rec_done(&g);
}

static void
test_412(void **state)
{
	struct recstate g;
	struct fakearm_client f;
	struct pdns_change ch;
	const char *green[] = { "10.10.2.4" };
	char err[512] = "";

	(void)state;
	rec_init(&g, example_body(FIX "privatedns/RecordSetAGet.json", "200"));
	fakearm_client_init(&f, route_rec, &g);
	/* The journal's ETag is stale: the record changed since. */
	assert_int_equal(pdns_set_targets(f.arm, RECA, green, 1, 0, "etag-0", NULL, &ch, err,
	    sizeof err), ARM_E_PRECONDITION);
	assert_string_equal(g.last_if_match, "etag-0");
	assert_non_null(strstr(err, "record set recorda changed since it was read"));
	assert_non_null(strstr(err, "nothing written"));
	assert_string_equal(ch.before.targets[0], "1.2.3.4");	/* what it is now */
	pdns_change_free(&ch);
	/* Someone writes between our read and our write. */
	g.meddle = 1;
	assert_int_equal(pdns_set_targets(f.arm, RECA, green, 1, 0, NULL, NULL, &ch, err,
	    sizeof err), ARM_E_PRECONDITION);
	assert_int_equal(ch.changed, 0);
	pdns_change_free(&ch);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(g.rec, "properties"), "aRecords"), 0), "ipv4Address")->valuestring,
	    "1.2.3.4");
	fakearm_client_done(&f);
	rec_done(&g);
}

static void
test_cname_and_invalid(void **state)
{
	struct recstate g;
	struct fakearm_client f;
	struct pdns_change ch;
	const char *t1[] = { "aks-green.priv.contoso.com" };
	const char *t2[] = { "a.example.com", "b.example.com" };
	const char *bad[] = { "not-an-ip" };
	cJSON *p;
	char err[512] = "";

	(void)state;
	rec_init(&g, example_body(FIX "privatedns/RecordSetCNAMEPut.json", "200"));
	fakearm_client_init(&f, route_rec, &g);
	if (pdns_set_targets(f.arm, RECC, t1, 1, 0, NULL, NULL, &ch, err, sizeof err) != 0)
		fail_msg("cname: %s", err);
	p = cJSON_GetObjectItem(g.last_put, "properties");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "cnameRecord"),
	    "cname")->valuestring, "aks-green.priv.contoso.com");
	assert_int_equal(cJSON_GetObjectItem(p, "ttl")->valueint, 3600);	/* kept */
	assert_null(cJSON_GetObjectItem(p, "aRecords"));
	assert_string_equal(ch.before.targets[0], "contoso.com");
	assert_string_equal(ch.after.targets[0], "aks-green.priv.contoso.com");
	assert_string_equal(g.last_if_match, "etag-1");
	pdns_change_free(&ch);
	assert_int_equal(pdns_set_targets(f.arm, RECC, t2, 2, 0, NULL, NULL, &ch, err, sizeof err),
	    PDNS_E_INVALID);
	assert_non_null(strstr(err, "exactly one host name"));
	pdns_change_free(&ch);
	assert_int_equal(pdns_set_targets(f.arm, RECC, NULL, 0, 0, NULL, NULL, &ch, err, sizeof err),
	    PDNS_E_INVALID);
	pdns_change_free(&ch);
	assert_int_equal(g.puts, 1);
	fakearm_client_done(&f);
	rec_done(&g);

	rec_init(&g, example_body(FIX "privatedns/RecordSetAGet.json", "200"));
	fakearm_client_init(&f, route_rec, &g);
	assert_int_equal(pdns_set_targets(f.arm, RECA, bad, 1, 0, NULL, NULL, &ch, err, sizeof err),
	    PDNS_E_INVALID);
	assert_non_null(strstr(err, "not an IPv4 address"));
	pdns_change_free(&ch);
	assert_int_equal(pdns_set_targets(f.arm, ZONE "/A/nope", t1, 1, 0, NULL, NULL, &ch, err,
	    sizeof err), PDNS_E_NOT_FOUND);
	assert_non_null(strstr(err, "not found"));
	pdns_change_free(&ch);
	/* An auto-registered record belongs to a VNet link. */
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(g.rec, "properties"), "isAutoRegistered",
	    cJSON_CreateTrue());
	assert_int_equal(pdns_set_targets(f.arm, RECA, (const char *[]){ "10.0.0.9" }, 1, 0, NULL,
	    NULL, &ch, err, sizeof err), PDNS_E_INVALID);
	assert_non_null(strstr(err, "auto-registered"));
	pdns_change_free(&ch);
	assert_int_equal(g.puts, 0);
	fakearm_client_done(&f);
	rec_done(&g);
}

static void
test_restore_and_verify(void **state)
{
	struct recstate g;
	struct fakearm_client f;
	struct pdns_change ch1, ch2;
	const char *green[] = { "10.10.2.4" };
	cJSON *orig;
	char err[512] = "";

	(void)state;
	rec_init(&g, example_body(FIX "privatedns/RecordSetAGet.json", "200"));
	orig = cJSON_Duplicate(cJSON_GetObjectItem(g.rec, "properties"), 1);
	fakearm_client_init(&f, route_rec, &g);
	assert_int_equal(pdns_set_targets(f.arm, RECA, green, 1, 30, NULL, NULL, &ch1, err,
	    sizeof err), 0);
	/* Rollback: the journaled before, with If-Match the journaled after. */
	if (pdns_restore(f.arm, RECA, ch1.before_json, ch1.after.etag, NULL, &ch2, err,
	    sizeof err) != 0)
		fail_msg("restore: %s", err);
	assert_int_equal(ch2.changed, 1);
	assert_string_equal(g.last_if_match, "etag-2");
	assert_true(cJSON_Compare(cJSON_GetObjectItem(g.rec, "properties"), orig, 1));
	assert_string_equal(ch2.after.targets[0], "1.2.3.4");
	assert_int_equal(ch2.after.ttl, 3600);
	pdns_change_free(&ch2);
	/* Again: already so. */
	assert_int_equal(pdns_restore(f.arm, RECA, ch1.before_json, NULL, NULL, &ch2, err,
	    sizeof err), 0);
	assert_int_equal(ch2.changed, 0);
	assert_int_equal(g.puts, 2);
	pdns_change_free(&ch2);
	/* A stale "after" ETag: 412, nothing written. */
	assert_int_equal(pdns_set_targets(f.arm, RECA, green, 1, 0, NULL, NULL, &ch2, err,
	    sizeof err), 0);
	pdns_change_free(&ch2);
	assert_int_equal(pdns_restore(f.arm, RECA, ch1.before_json, "etag-2", NULL, &ch2, err,
	    sizeof err), ARM_E_PRECONDITION);
	pdns_change_free(&ch2);
	/* Junk saved states are refused. */
	assert_int_equal(pdns_restore(f.arm, RECA, NULL, NULL, NULL, &ch2, err, sizeof err),
	    PDNS_E_INVALID);
	{
		cJSON *junk = cJSON_Parse("{\"properties\":{\"ttl\":5}}");

		assert_int_equal(pdns_restore(f.arm, RECA, junk, NULL, NULL, &ch2, err, sizeof err),
		    PDNS_E_INVALID);
		pdns_change_free(&ch2);
		cJSON_Delete(junk);
	}
	/* A write the service drops is caught by the read-back. */
	g.ignore_puts = 1;
	assert_int_equal(pdns_set_targets(f.arm, RECA, (const char *[]){ "10.10.9.9" }, 1, 0, NULL,
	    NULL, &ch2, err, sizeof err), PDNS_E_VERIFY);
	assert_non_null(strstr(err, "reads back"));
	pdns_change_free(&ch2);
	pdns_change_free(&ch1);
	cJSON_Delete(orig);
	fakearm_client_done(&f);
	rec_done(&g);
}
/* ---- against the simulator ----------------------------------------------------------------------- */


static void
test_against_simulator(void **state)
{
	struct simclient x;
	struct pdns_record r;
	struct pdns_change ch1, ch2;
	const char *green[] = { "10.10.2.4" };
	char err[1024], id[512];
	cJSON *o;

	(void)state;
	simclient_start(&x);
	assert_int_equal(pdns_record_id(id, sizeof id, x.sub, x.rg, "priv.contoso.com", "A", "aks"), 0);
	if (pdns_get(x.arm, id, NULL, &r, NULL, err, sizeof err) != 0)
		fail_msg("GET aks: %s", err);
	assert_string_equal(r.type, "A");
	assert_true(r.ntargets >= 1);
	assert_true(r.etag[0] != '\0');
	assert_string_equal(pdns_points_to(&r, "10.10.1.4", "10.10.2.4"), "blue");
	if (pdns_set_targets(x.arm, id, green, 1, 0, r.etag, NULL, &ch1, err, sizeof err) != 0)
		fail_msg("point aks at green: %s", err);
	assert_string_equal(ch1.after.targets[0], "10.10.2.4");
	assert_string_equal(pdns_points_to(&ch1.after, "10.10.1.4", "10.10.2.4"), "green");
	assert_string_not_equal(ch1.after.etag, r.etag);
	/* The ETag read before the change is stale now. */
	assert_int_equal(pdns_set_targets(x.arm, id, (const char *[]){ "10.10.3.4" }, 1, 0, r.etag,
	    NULL, &ch2, err, sizeof err), ARM_E_PRECONDITION);
	pdns_change_free(&ch2);
	if (pdns_restore(x.arm, id, ch1.before_json, ch1.after.etag, NULL, &ch2, err, sizeof err) != 0)
		fail_msg("restore: %s", err);
	assert_string_equal(pdns_points_to(&ch2.after, "10.10.1.4", "10.10.2.4"), "blue");
	assert_int_equal(ch2.after.ttl, r.ttl);
	o = pdns_status_json(&ch2.after, "10.10.1.4", "10.10.2.4");
	assert_string_equal(cJSON_GetObjectItem(o, "fqdn")->valuestring, "aks.priv.contoso.com");
	assert_string_equal(cJSON_GetObjectItem(o, "pointsTo")->valuestring, "blue");
	cJSON_Delete(o);
	pdns_change_free(&ch2);
	pdns_change_free(&ch1);
	simclient_stop(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_examples),
		cmocka_unit_test(test_record_id_and_status),
		cmocka_unit_test(test_a_put_if_match),
		cmocka_unit_test(test_412),
		cmocka_unit_test(test_cname_and_invalid),
		cmocka_unit_test(test_restore_and_verify),
		cmocka_unit_test(test_against_simulator),
	};

	signal(SIGPIPE, SIG_IGN);
	/* BGSWITCH_TEST_LOG=1 shows the client's log lines while debugging. */
	log_set_stream(stderr, getenv("BGSWITCH_TEST_LOG") != NULL ? LOG_DEBUG : LOG_OFF);
	return cmocka_run_group_tests_name("pdns", tests, NULL, NULL);
}
