/*
 * sim_arm_dns.c — Microsoft.Network/privateDnsZones in the simulated
 * Resource Manager: the zone (get, list) and its A and CNAME record sets
 * (get, list per type and ALL, create or update, update, delete), with the
 * etag concurrency control clients use to avoid lost updates: If-Match (412
 * when the record changed since it was read) and If-None-Match: * (412 when
 * it already exists).
 *
 * Shapes follow the Private DNS examples in specification/privatedns/
 * resource-manager/Microsoft.Network/stable/2024-06-01/examples/
 * (PrivateZoneGet.json, RecordSetAGet.json, RecordSetAPut.json,
 * RecordSetCNAMEPut.json, RecordSetCNAMEList.json): record set names are
 * stored lower-case ("recordA" is served as "recorda"), the etag is a bare
 * GUID (no quotes, no W/), fqdn ends with a dot, and every zone has its SOA
 * record set at "@".  A write answers synchronously, as the real API does,
 * after timings.dns_update simulated seconds.
 */
#include "sim/sim_arm.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DNS_TYPE "Microsoft.Network/privateDnsZones"
#define DNS_MAX_RECORDS 25000

struct rec {
	char type[8];			/* "A", "CNAME", "SOA" */
	char name[256];			/* relative, lower-case; "@" for the apex */
	cJSON *res;
};

static struct {
	int present;
	char zone[256];
	char etag[40];
	char guid[40];
	struct rec **r;
	int n;
} Z;

/* ---- helpers ---------------------------------------------------------------------- */

static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
zone_id(char *buf, size_t n)
{
	char rg[300];

	sim_arm_rg_id(rg, sizeof rg);
	snprintf(buf, n, "%s/providers/%s/%s", rg, DNS_TYPE, Z.zone);
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* "A" / "CNAME" / "SOA" for a type segment in any case, else NULL. */
static const char *
canon_type(const char *t)
{
	static const char *const types[] = { "A", "CNAME", "SOA" };

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (sim_arm_ieq(t, types[i]))
			return types[i];
	return NULL;
}

static struct rec *
rec_find(const char *type, const char *name)
{
	for (int i = 0; i < Z.n; i++)
		if (strcmp(Z.r[i]->type, type) == 0 && strcasecmp(Z.r[i]->name, name) == 0)
			return Z.r[i];
	return NULL;
}

/* Builds the record set resource from its properties (taken). */
static cJSON *
rec_resource(const char *type, const char *name, cJSON *props)
{
	cJSON *r = cJSON_CreateObject();
	char id[800], t[80], etag[40], fqdn[600];

	zone_id(id, sizeof id);
	snprintf(id + strlen(id), sizeof id - strlen(id), "/%s/%s", type, name);
	snprintf(t, sizeof t, "%s/%s", DNS_TYPE, type);
	sim_uuid(etag);
	cJSON_AddStringToObject(r, "id", id);
	cJSON_AddStringToObject(r, "name", name);
	cJSON_AddStringToObject(r, "type", t);
	cJSON_AddStringToObject(r, "etag", etag);
	if (strcmp(name, "@") == 0)
		snprintf(fqdn, sizeof fqdn, "%s.", Z.zone);
	else
		snprintf(fqdn, sizeof fqdn, "%s.%s.", name, Z.zone);
	cJSON_DeleteItemFromObject(props, "fqdn");
	cJSON_AddStringToObject(props, "fqdn", fqdn);
	cJSON_DeleteItemFromObject(props, "isAutoRegistered");
	cJSON_AddBoolToObject(props, "isAutoRegistered", 0);
	if (cJSON_GetObjectItem(props, "metadata") == NULL)
		cJSON_AddObjectToObject(props, "metadata");
	cJSON_AddItemToObject(r, "properties", props);
	return r;
}

static struct rec *
rec_add(const char *type, const char *name, cJSON *res)
{
	struct rec *r = calloc(1, sizeof *r), **n;

	if (r == NULL)
		return NULL;
	n = realloc(Z.r, sizeof *n * (size_t)(Z.n + 1));
	if (n == NULL) {
		free(r);
		return NULL;
	}
	Z.r = n;
	snprintf(r->type, sizeof r->type, "%s", type);
	snprintf(r->name, sizeof r->name, "%s", name);
	r->res = res;
	Z.r[Z.n++] = r;
	return r;
}

static void
rec_remove(struct rec *r)
{
	for (int i = 0; i < Z.n; i++) {
		if (Z.r[i] == r) {
			memmove(&Z.r[i], &Z.r[i + 1], sizeof *Z.r * (size_t)(Z.n - i - 1));
			Z.n--;
			break;
		}
	}
	cJSON_Delete(r->res);
	free(r);
}

static cJSON *
zone_resource(void)
{
	cJSON *z = cJSON_CreateObject(), *p;
	char id[600];

	zone_id(id, sizeof id);
	cJSON_AddStringToObject(z, "id", id);
	cJSON_AddStringToObject(z, "name", Z.zone);
	cJSON_AddStringToObject(z, "type", DNS_TYPE);
	cJSON_AddStringToObject(z, "location", "global");
	cJSON_AddStringToObject(z, "etag", Z.etag);
	p = cJSON_AddObjectToObject(z, "properties");
	cJSON_AddNumberToObject(p, "maxNumberOfRecordSets", DNS_MAX_RECORDS);
	cJSON_AddNumberToObject(p, "numberOfRecordSets", Z.n);
	cJSON_AddNumberToObject(p, "maxNumberOfVirtualNetworkLinks", 1000);
	cJSON_AddNumberToObject(p, "numberOfVirtualNetworkLinks", 1);
	cJSON_AddNumberToObject(p, "maxNumberOfVirtualNetworkLinksWithRegistration", 100);
	cJSON_AddNumberToObject(p, "numberOfVirtualNetworkLinksWithRegistration", 0);
	cJSON_AddStringToObject(p, "provisioningState", "Succeeded");
	cJSON_AddStringToObject(p, "internalId", Z.guid);
	cJSON_AddObjectToObject(z, "tags");
	return z;
}

static int
ipv4_ok(const char *s)
{
	struct in_addr a;

	return s != NULL && inet_pton(AF_INET, s, &a) == 1;
}

/* ---- validating a record set body ------------------------------------------------------ */

/* The properties to store for a PUT (or, with BASE, a PATCH merged onto
 * BASE); NULL with RESP filled when the body is wrong. */
static cJSON *
props_from_body(struct sim_arm_ctx *c, const cJSON *body, const char *type, const char *name,
    const cJSON *base)
{
	const cJSON *p = cJSON_GetObjectItem(body, "properties"), *v, *it;
	cJSON *out;
	int i = 0;

	if (p == NULL && base == NULL) {
		sim_arm_error(c->resp, 400, "BadRequest", "The request body must contain the record set properties.");
		return NULL;
	}
	if (p != NULL && !cJSON_IsObject(p)) {
		sim_arm_bad_type(c, "properties", "RecordSetProperties");
		return NULL;
	}
	if ((v = cJSON_GetObjectItem(p, "ttl")) != NULL
	    && (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble)) {
		sim_arm_bad_type(c, "properties.ttl", "System.Int64");
		return NULL;
	}
	if (v != NULL && (v->valuedouble < 0 || v->valuedouble > 2147483647.0)) {
		sim_arm_error(c->resp, 400, "BadRequest",
		    "The value %.0f for the TTL is not valid. The TTL must be between 0 and 2147483647.", v->valuedouble);
		return NULL;
	}
	if ((v = cJSON_GetObjectItem(p, "metadata")) != NULL) {
		if (!cJSON_IsObject(v)) {
			sim_arm_bad_type(c, "properties.metadata",
			    "System.Collections.Generic.Dictionary`2[System.String,System.String]");
			return NULL;
		}
		cJSON_ArrayForEach(it, v) {
			if (!cJSON_IsString(it)) {
				char path[200];
				snprintf(path, sizeof path, "properties.metadata.%s", it->string);
				sim_arm_bad_type(c, path, "System.String");
				return NULL;
			}
		}
	}
	if (strcmp(type, "A") == 0) {
		if (cJSON_GetObjectItem(p, "cnameRecord") != NULL) {
			sim_arm_error(c->resp, 400, "BadRequest",
			    "The property 'cnameRecord' cannot be specified for a record set of type A.");
			return NULL;
		}
		if ((v = cJSON_GetObjectItem(p, "aRecords")) != NULL) {
			if (!cJSON_IsArray(v)) {
				sim_arm_bad_type(c, "properties.aRecords", "System.Collections.Generic.List`1[ARecord]");
				return NULL;
			}
			cJSON_ArrayForEach(it, v) {
				const char *ip = str_of(it, "ipv4Address");
				char path[100];

				snprintf(path, sizeof path, "properties.aRecords[%d]", i++);
				if (!cJSON_IsObject(it) || (cJSON_GetObjectItem(it, "ipv4Address") != NULL && ip == NULL)) {
					sim_arm_bad_type(c, path, "ARecord");
					return NULL;
				}
				if (!ipv4_ok(ip)) {
					sim_arm_error(c->resp, 400, "BadRequest",
					    "The value '%s' for the IPv4 address of %s is not valid.", ip != NULL ? ip : "",
					    path);
					return NULL;
				}
			}
		}
	} else {
		const cJSON *cn;

		if (cJSON_GetObjectItem(p, "aRecords") != NULL) {
			sim_arm_error(c->resp, 400, "BadRequest",
			    "The property 'aRecords' cannot be specified for a record set of type CNAME.");
			return NULL;
		}
		if (strcmp(name, "@") == 0) {
			sim_arm_error(c->resp, 400, "BadRequest",
			    "A CNAME record set cannot be created at the zone apex ('@').");
			return NULL;
		}
		cn = cJSON_GetObjectItem(p, "cnameRecord");
		if (cn != NULL && (!cJSON_IsObject(cn) || (cJSON_GetObjectItem(cn, "cname") != NULL
		    && !cJSON_IsString(cJSON_GetObjectItem(cn, "cname"))))) {
			sim_arm_bad_type(c, "properties.cnameRecord", "CnameRecord");
			return NULL;
		}
		if (cn != NULL && (str_of(cn, "cname") == NULL || str_of(cn, "cname")[0] == '\0')) {
			sim_arm_error(c->resp, 400, "BadRequest", "The CNAME record must have a non-empty 'cname'.");
			return NULL;
		}
	}

	/* PUT replaces; PATCH merges onto what is stored. */
	out = base != NULL ? cJSON_Duplicate(base, 1) : cJSON_CreateObject();
	cJSON_ArrayForEach(it, p) {
		static const char *const ro[] = { "fqdn", "isAutoRegistered", "provisioningState" };
		int skip = 0;
		for (size_t k = 0; k < sizeof ro / sizeof ro[0]; k++)
			skip |= sim_arm_ieq(it->string, ro[k]);
		if (skip)
			continue;
		cJSON_DeleteItemFromObject(out, it->string);
		cJSON_AddItemToObject(out, it->string, cJSON_Duplicate(it, 1));
	}
	if (cJSON_GetObjectItem(out, "ttl") == NULL)
		cJSON_AddNumberToObject(out, "ttl", 3600);
	if (strcmp(type, "A") == 0 && cJSON_GetObjectItem(out, "aRecords") == NULL)
		cJSON_AddArrayToObject(out, "aRecords");
	return out;
}

/* If-Match / If-None-Match; 1 when the write may go ahead. */
static int
conditions_ok(struct sim_arm_ctx *c, const struct rec *r, const char *name)
{
	const char *im = sim_req_header(c->req, "If-Match"), *inm = sim_req_header(c->req, "If-None-Match");
	char want[128];

	if (inm != NULL && strcmp(inm, "*") == 0 && r != NULL) {
		sim_arm_error(c->resp, 412, "PreconditionFailed",
		    "The Record set %s exists already and hence cannot be created again.", name);
		return 0;
	}
	if (im == NULL)
		return 1;
	if (r == NULL) {
		sim_arm_error(c->resp, 412, "PreconditionFailed",
		    "The Record set %s does not exist, so the condition in If-Match cannot be met.", name);
		return 0;
	}
	sim_arm_etag_norm(im, want, sizeof want);
	if (strcmp(im, "*") == 0 || sim_arm_ieq(want, str_of(r->res, "etag")))
		return 1;
	sim_arm_error(c->resp, 412, "PreconditionFailed",
	    "The Record set %s has been modified (etag mismatch).", name);
	return 0;
}

static void
write_delay(struct sim_arm_ctx *c)
{
	c->delay_real_ms = sim_real_ms((int64_t)(sim_arm_timing("dns_update", 2) * 1000));
	c->changed = 1;
}

static void
serve_record(struct sim_arm_ctx *c, int status, const struct rec *r)
{
	sim_resp_json(c->resp, status, r->res);
	sim_resp_header(c->resp, "ETag", "%s", str_of(r->res, "etag"));
}

static void
record_write(struct sim_arm_ctx *c, const char *type, const char *name, int patch)
{
	struct rec *r = rec_find(type, name);
	cJSON *body, *props;

	if (strcmp(type, "SOA") == 0) {
		sim_arm_error(c->resp, 400, "BadRequest",
		    "The simulated zone's SOA record set is read-only.");
		return;
	}
	if (patch && r == NULL) {
		sim_arm_error(c->resp, 404, "NotFound",
		    "The resource record '%s' does not exist in resource group '%s' of subscription '%s'.",
		    name, sim_world.resource_group, sim_world.subscription);
		return;
	}
	if ((body = sim_arm_body(c)) == NULL)
		return;
	if (!conditions_ok(c, r, name)) {
		cJSON_Delete(body);
		return;
	}
	props = props_from_body(c, body, type, name, patch ? cJSON_GetObjectItem(r->res, "properties") : NULL);
	cJSON_Delete(body);
	if (props == NULL)
		return;
	/* A CNAME owns its name: no other type may share it, and it may not
	 * join others. */
	for (int i = 0; r == NULL && i < Z.n; i++) {
		if (strcasecmp(Z.r[i]->name, name) == 0
		    && (strcmp(type, "CNAME") == 0 || strcmp(Z.r[i]->type, "CNAME") == 0)) {
			cJSON_Delete(props);
			sim_arm_error(c->resp, 409, "Conflict",
			    "The record set %s could not be created because a record set of type %s with the "
			    "same name exists; a CNAME record set cannot share its name with other record sets.",
			    name, Z.r[i]->type);
			return;
		}
	}
	if (r == NULL && Z.n >= DNS_MAX_RECORDS) {
		cJSON_Delete(props);
		sim_arm_error(c->resp, 409, "Conflict", "The zone already holds the maximum number of record sets (%d).",
		    DNS_MAX_RECORDS);
		return;
	}
	if (r != NULL) {
		cJSON_Delete(r->res);
		r->res = rec_resource(type, r->name, props);
		serve_record(c, 200, r);
	} else {
		r = rec_add(type, name, rec_resource(type, name, props));
		if (r == NULL) {
			sim_arm_error(c->resp, 500, "InternalServerError", "out of memory");
			return;
		}
		serve_record(c, 201, r);
	}
	write_delay(c);
}

static void
list_records(struct sim_arm_ctx *c, const char *type)
{
	const char *top = sim_req_arg(c->req, "$top"), *suffix = sim_req_arg(c->req, "$recordsetnamesuffix");
	long max = top != NULL ? strtol(top, NULL, 10) : 100;
	cJSON *l = cJSON_CreateObject(), *v = cJSON_AddArrayToObject(l, "value");
	long k = 0;

	if (max <= 0 || max > 1000)
		max = 1000;
	for (int i = 0; i < Z.n && k < max; i++) {
		size_t nl = strlen(Z.r[i]->name), sl = suffix != NULL ? strlen(suffix) : 0;
		if (type != NULL && strcmp(Z.r[i]->type, type) != 0)
			continue;
		if (suffix != NULL && (sl > nl || strcasecmp(Z.r[i]->name + nl - sl, suffix) != 0))
			continue;
		cJSON_AddItemToArray(v, cJSON_Duplicate(Z.r[i]->res, 1));
		k++;
	}
	sim_resp_json_take(c->resp, 200, l);
}

/* The zone's one virtual network link (the zone says it has one): the
 * network the gateway and the clusters share, without auto-registration. */
static void
vnet_links(struct sim_arm_ctx *c)
{
	cJSON *l = cJSON_CreateObject(), *v = cJSON_AddArrayToObject(l, "value"), *k, *p;
	char id[800], rg[300], vnet[600];

	zone_id(id, sizeof id);
	strncat(id, "/virtualNetworkLinks/link-hub", sizeof id - strlen(id) - 1);
	sim_arm_rg_id(rg, sizeof rg);
	snprintf(vnet, sizeof vnet, "%s/providers/Microsoft.Network/virtualNetworks/vnet-%s", rg,
	    sim_world.resource_group);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "id", id);
	cJSON_AddStringToObject(k, "name", "link-hub");
	cJSON_AddStringToObject(k, "type", DNS_TYPE "/virtualNetworkLinks");
	cJSON_AddStringToObject(k, "etag", Z.etag);
	cJSON_AddStringToObject(k, "location", "global");
	p = cJSON_AddObjectToObject(k, "properties");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "virtualNetwork"), "id", vnet);
	cJSON_AddBoolToObject(p, "registrationEnabled", 0);
	cJSON_AddStringToObject(p, "virtualNetworkLinkState", "Completed");
	cJSON_AddStringToObject(p, "provisioningState", "Succeeded");
	cJSON_AddItemToArray(v, k);
	sim_resp_json_take(c->resp, 200, l);
}

void
sim_arm_dns_handle(struct sim_arm_ctx *c)
{
	const char *m = c->method, *type;
	char name[256];

	if (c->nseg == 0) {
		cJSON *l, *v;

		if (strcmp(m, "GET") != 0) {
			sim_arm_bad_method(c);
			return;
		}
		l = cJSON_CreateObject();
		v = cJSON_AddArrayToObject(l, "value");
		if (Z.present)
			cJSON_AddItemToArray(v, zone_resource());
		sim_resp_json_take(c->resp, 200, l);
		return;
	}
	if (!Z.present || !sim_arm_ieq(c->seg[0], Z.zone)) {
		sim_arm_not_found(c, DNS_TYPE, c->seg[0]);
		return;
	}
	if (c->nseg == 1) {
		if (strcmp(m, "GET") != 0)
			sim_arm_bad_method(c);
		else
			sim_resp_json_take(c->resp, 200, zone_resource());
		return;
	}
	if (c->nseg == 2 && sim_arm_ieq(c->seg[1], "virtualNetworkLinks")) {
		if (strcmp(m, "GET") != 0)
			sim_arm_bad_method(c);
		else
			vnet_links(c);
		return;
	}
	type = canon_type(c->seg[1]);
	if (c->nseg == 2) {
		if (strcmp(m, "GET") != 0) {
			sim_arm_bad_method(c);
		} else if (sim_arm_ieq(c->seg[1], "ALL") || sim_arm_ieq(c->seg[1], "recordsets")) {
			list_records(c, NULL);
		} else if (type != NULL) {
			list_records(c, type);
		} else {
			sim_arm_error(c->resp, 400, "BadRequest",
			    "The record type '%s' is not supported by the simulator (A, CNAME, SOA).", c->seg[1]);
		}
		return;
	}
	if (c->nseg != 3) {
		sim_arm_error(c->resp, 404, "NotFound", "The requested path '%s' is not a record set.", c->req->path);
		return;
	}
	if (type == NULL) {
		sim_arm_error(c->resp, 400, "BadRequest",
		    "The record type '%s' is not supported by the simulator (A, CNAME, SOA).", c->seg[1]);
		return;
	}
	snprintf(name, sizeof name, "%s", c->seg[2]);
	lower(name);
	if (strcmp(m, "GET") == 0) {
		struct rec *r = rec_find(type, name);
		if (r == NULL)
			sim_arm_error(c->resp, 404, "NotFound",
			    "The resource record '%s' does not exist in resource group '%s' of subscription '%s'.",
			    c->seg[2], sim_world.resource_group, sim_world.subscription);
		else
			serve_record(c, 200, r);
	} else if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
		record_write(c, type, name, strcmp(m, "PATCH") == 0);
	} else if (strcmp(m, "DELETE") == 0) {
		struct rec *r = rec_find(type, name);

		if (strcmp(type, "SOA") == 0) {
			sim_arm_error(c->resp, 400, "BadRequest", "The SOA record set cannot be deleted.");
			return;
		}
		if (r == NULL) {
			sim_resp_body(c->resp, 204, "application/json; charset=utf-8", "", 0);
			return;
		}
		if (!conditions_ok(c, r, name))
			return;
		rec_remove(r);
		sim_resp_body(c->resp, 200, "application/json; charset=utf-8", "", 0);
		write_delay(c);
	} else {
		sim_arm_bad_method(c);
	}
}

/* ---- control: a change behind the client's back ------------------------------------------------ */

static void
ctl_text(struct sim_resp *resp, int status, const char *msg)
{
	char buf[600];

	snprintf(buf, sizeof buf, "%s\n", msg);
	sim_resp_body(resp, status, "text/plain; charset=utf-8", buf, strlen(buf));
}

/* REST is "ZONE/TYPE/NAME/ACTION". */
int
sim_arm_dns_ctl(struct sim_req *req, struct sim_resp *resp, const char *rest)
{
	char buf[700], *parts[4], *p, *save = NULL;
	int n = 0;
	struct rec *r;
	cJSON *body = NULL, *props, *out;
	const cJSON *v;
	const char *type;

	snprintf(buf, sizeof buf, "%s", rest);
	for (p = strtok_r(buf, "/", &save); p != NULL && n < 4; p = strtok_r(NULL, "/", &save))
		parts[n++] = p;
	if (n != 4 || p != NULL)
		return 0;
	if (strcmp(parts[3], "bump-etag") != 0)
		return 0;
	if (strcmp(req->method, "POST") != 0) {
		ctl_text(resp, 405, "use POST");
		return 1;
	}
	type = canon_type(parts[1]);
	lower(parts[2]);
	if (!Z.present || !sim_arm_ieq(parts[0], Z.zone) || type == NULL || (r = rec_find(type, parts[2])) == NULL) {
		ctl_text(resp, 404, "no such record set (use /_sim/arm/dns/ZONE/TYPE/NAME/bump-etag)");
		return 1;
	}
	if (req->body_len > 0) {
		body = cJSON_ParseWithLength(req->body, req->body_len);
		if (!cJSON_IsObject(body)) {
			cJSON_Delete(body);
			ctl_text(resp, 400, "bump-etag: body must be a JSON object: {\"ipv4\": [...]}, {\"cname\": \"...\"}, {\"ttl\": N}");
			return 1;
		}
	}
	props = cJSON_Duplicate(cJSON_GetObjectItem(r->res, "properties"), 1);
	if ((v = cJSON_GetObjectItemCaseSensitive(body, "ttl")) != NULL) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 0) {
			cJSON_Delete(props);
			cJSON_Delete(body);
			ctl_text(resp, 400, "ttl: expected a number of seconds");
			return 1;
		}
		cJSON_DeleteItemFromObject(props, "ttl");
		cJSON_AddNumberToObject(props, "ttl", (double)(long long)v->valuedouble);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(body, "ipv4")) != NULL) {
		cJSON *arr = cJSON_CreateArray();
		const cJSON *ip;

		if (strcmp(type, "A") != 0 || !cJSON_IsArray(v)) {
			cJSON_Delete(arr);
			cJSON_Delete(props);
			cJSON_Delete(body);
			ctl_text(resp, 400, "ipv4: expected a list of addresses, for an A record set");
			return 1;
		}
		cJSON_ArrayForEach(ip, v) {
			cJSON *e;
			if (!cJSON_IsString(ip) || !ipv4_ok(ip->valuestring)) {
				cJSON_Delete(arr);
				cJSON_Delete(props);
				cJSON_Delete(body);
				ctl_text(resp, 400, "ipv4: not an IPv4 address");
				return 1;
			}
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "ipv4Address", ip->valuestring);
			cJSON_AddItemToArray(arr, e);
		}
		cJSON_DeleteItemFromObject(props, "aRecords");
		cJSON_AddItemToObject(props, "aRecords", arr);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(body, "cname")) != NULL) {
		if (strcmp(type, "CNAME") != 0 || !cJSON_IsString(v)) {
			cJSON_Delete(props);
			cJSON_Delete(body);
			ctl_text(resp, 400, "cname: expected a host name, for a CNAME record set");
			return 1;
		}
		cJSON_DeleteItemFromObject(props, "cnameRecord");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(props, "cnameRecord"), "cname", v->valuestring);
	}
	cJSON_Delete(body);
	cJSON_Delete(r->res);
	r->res = rec_resource(type, r->name, props);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "etag", str_of(r->res, "etag"));
	sim_resp_json_take(resp, 200, out);
	return 1;
}

/* ---- the world's dns: section ---------------------------------------------------------------- */

static void
dns_free(void)
{
	for (int i = 0; i < Z.n; i++) {
		cJSON_Delete(Z.r[i]->res);
		free(Z.r[i]);
	}
	free(Z.r);
	memset(&Z, 0, sizeof Z);
}

static int
load_record(const cJSON *wr, int i, char *err, size_t errlen)
{
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(wr, "name"), *ty = cJSON_GetObjectItemCaseSensitive(wr, "type");
	const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(wr, "ttl"), *ip = cJSON_GetObjectItemCaseSensitive(wr, "ipv4");
	const cJSON *cn = cJSON_GetObjectItemCaseSensitive(wr, "cname"), *md = cJSON_GetObjectItemCaseSensitive(wr, "metadata");
	const cJSON *it;
	const char *type;
	char name[256];
	cJSON *props;
	int k = 0;

	if (!cJSON_IsObject(wr)) {
		snprintf(err, errlen, "dns.records[%d]: expected a mapping", i);
		return -1;
	}
	cJSON_ArrayForEach(it, wr) {
		static const char *const known[] = { "name", "type", "ttl", "ipv4", "cname", "metadata" };
		size_t j;
		for (j = 0; j < sizeof known / sizeof known[0]; j++)
			if (strcmp(it->string, known[j]) == 0)
				break;
		if (j == sizeof known / sizeof known[0]) {
			snprintf(err, errlen, "dns.records[%d].%s: unknown key (known: name, type, ttl, ipv4, cname, "
			    "metadata)", i, it->string);
			return -1;
		}
	}
	if (!cJSON_IsString(nm) || nm->valuestring[0] == '\0' || strchr(nm->valuestring, '/') != NULL) {
		snprintf(err, errlen, "dns.records[%d].name: expected a string", i);
		return -1;
	}
	type = cJSON_IsString(ty) ? canon_type(ty->valuestring) : NULL;
	if (type == NULL || strcmp(type, "SOA") == 0) {
		snprintf(err, errlen, "dns.records[%d].type: expected A or CNAME", i);
		return -1;
	}
	if (ttl != NULL && (!cJSON_IsNumber(ttl) || ttl->valuedouble < 0 || ttl->valuedouble > 2147483647.0)) {
		snprintf(err, errlen, "dns.records[%d].ttl: expected seconds, 0 to 2147483647", i);
		return -1;
	}
	if (md != NULL) {
		if (!cJSON_IsObject(md)) {
			snprintf(err, errlen, "dns.records[%d].metadata: expected a mapping of strings", i);
			return -1;
		}
		cJSON_ArrayForEach(it, md) {
			if (!cJSON_IsString(it)) {
				snprintf(err, errlen, "dns.records[%d].metadata.%s: expected a string", i, it->string);
				return -1;
			}
		}
	}
	snprintf(name, sizeof name, "%s", nm->valuestring);
	lower(name);
	if (rec_find(type, name) != NULL) {
		snprintf(err, errlen, "dns.records[%d]: %s %s is listed twice", i, type, name);
		return -1;
	}
	props = cJSON_CreateObject();
	if (md != NULL)
		cJSON_AddItemToObject(props, "metadata", cJSON_Duplicate(md, 1));
	cJSON_AddNumberToObject(props, "ttl", ttl != NULL ? (double)(long long)ttl->valuedouble : 3600);
	if (strcmp(type, "A") == 0) {
		cJSON *arr = cJSON_AddArrayToObject(props, "aRecords");
		if (cn != NULL) {
			cJSON_Delete(props);
			snprintf(err, errlen, "dns.records[%d].cname: only for type CNAME", i);
			return -1;
		}
		if (ip != NULL && !cJSON_IsArray(ip)) {
			cJSON_Delete(props);
			snprintf(err, errlen, "dns.records[%d].ipv4: expected a list of IPv4 addresses", i);
			return -1;
		}
		cJSON_ArrayForEach(it, ip) {
			cJSON *e;
			if (!cJSON_IsString(it) || !ipv4_ok(it->valuestring)) {
				cJSON_Delete(props);
				snprintf(err, errlen, "dns.records[%d].ipv4[%d]: expected an IPv4 address", i, k);
				return -1;
			}
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "ipv4Address", it->valuestring);
			cJSON_AddItemToArray(arr, e);
			k++;
		}
	} else {
		if (ip != NULL) {
			cJSON_Delete(props);
			snprintf(err, errlen, "dns.records[%d].ipv4: only for type A", i);
			return -1;
		}
		if (!cJSON_IsString(cn) || cn->valuestring[0] == '\0') {
			cJSON_Delete(props);
			snprintf(err, errlen, "dns.records[%d].cname: expected a host name", i);
			return -1;
		}
		cJSON_AddStringToObject(cJSON_AddObjectToObject(props, "cnameRecord"), "cname", cn->valuestring);
	}
	for (int j = 0; j < Z.n; j++) {
		if (strcmp(Z.r[j]->name, name) == 0 && (strcmp(type, "CNAME") == 0 || strcmp(Z.r[j]->type, "CNAME") == 0)) {
			cJSON_Delete(props);
			snprintf(err, errlen, "dns.records[%d]: a CNAME cannot share the name %s with another record set",
			    i, name);
			return -1;
		}
	}
	if (rec_add(type, name, rec_resource(type, name, props)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
sim_arm_dns_load(const cJSON *world, char *err, size_t errlen)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(world, "dns"), *zone, *recs, *it;
	cJSON *soa, *s;
	int i = 0;

	dns_free();
	if (d == NULL || cJSON_IsNull(d))
		return 0;
	if (!cJSON_IsObject(d)) {
		snprintf(err, errlen, "dns: expected a mapping");
		return -1;
	}
	cJSON_ArrayForEach(it, d) {
		if (strcmp(it->string, "zone") != 0 && strcmp(it->string, "records") != 0) {
			snprintf(err, errlen, "dns.%s: unknown key (known: zone, records)", it->string);
			return -1;
		}
	}
	zone = cJSON_GetObjectItemCaseSensitive(d, "zone");
	if (!cJSON_IsString(zone) || zone->valuestring[0] == '\0' || strchr(zone->valuestring, '/') != NULL) {
		snprintf(err, errlen, "dns.zone: expected a zone name, e.g. priv.contoso.com");
		return -1;
	}
	Z.present = 1;
	snprintf(Z.zone, sizeof Z.zone, "%s", zone->valuestring);
	lower(Z.zone);
	sim_uuid(Z.etag);
	sim_uuid(Z.guid);

	/* Every zone has its SOA record set, as Azure creates it. */
	soa = cJSON_CreateObject();
	cJSON_AddObjectToObject(soa, "metadata");
	cJSON_AddNumberToObject(soa, "ttl", 3600);
	s = cJSON_AddObjectToObject(soa, "soaRecord");
	cJSON_AddStringToObject(s, "email", "azureprivatedns-host.microsoft.com");
	cJSON_AddNumberToObject(s, "expireTime", 2419200);
	cJSON_AddStringToObject(s, "host", "azureprivatedns.net");
	cJSON_AddNumberToObject(s, "minimumTtl", 10);
	cJSON_AddNumberToObject(s, "refreshTime", 3600);
	cJSON_AddNumberToObject(s, "retryTime", 300);
	cJSON_AddNumberToObject(s, "serialNumber", 1);
	if (rec_add("SOA", "@", rec_resource("SOA", "@", soa)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	recs = cJSON_GetObjectItemCaseSensitive(d, "records");
	if (recs != NULL && !cJSON_IsArray(recs)) {
		snprintf(err, errlen, "dns.records: expected a list");
		return -1;
	}
	cJSON_ArrayForEach(it, recs)
		if (load_record(it, i++, err, errlen) != 0)
			return -1;
	return 0;
}
