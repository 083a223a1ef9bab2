/*
 * pdns.c — Private DNS A and CNAME record sets: read, change the targets
 * with If-Match, restore a saved state, and the status view.
 *
 * Shapes from privatedns.json 2024-06-01 (see pdns.h) and its examples
 * RecordSetAGet.json, RecordSetAPut.json, RecordSetCNAMEPut.json: the etag
 * is in the body ("etag" beside "properties"), the type is
 * "Microsoft.Network/privateDnsZones/A", and the PUT body carries only
 * "properties" (metadata, ttl, aRecords | cnameRecord).  fqdn and
 * isAutoRegistered are readOnly and never sent.  Record set writes are not
 * long-running (RecordSets_CreateOrUpdate answers 200 or 201).
 */
#include "azure/pdns.h"
#include "src/util.h"

#include "src/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MOD "pdns"

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

static int
segment_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s == '/' || *s == '?' || *s == '#' || *s == '&' || (unsigned char)*s <= 0x20
		    || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

int
pdns_record_id(char *out, size_t n, const char *sub, const char *rg, const char *zone,
    const char *type, const char *name)
{
	int w;

	if (out == NULL || n == 0)
		return -1;
	out[0] = '\0';
	if (!segment_ok(sub) || !segment_ok(rg) || !segment_ok(zone) || !segment_ok(name)
	    || type == NULL || (strcmp(type, "A") != 0 && strcmp(type, "CNAME") != 0))
		return -1;
	w = snprintf(out, n, "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/"
	    "privateDnsZones/%s/%s/%s", sub, rg, zone, type, name);
	if (w < 0 || (size_t)w >= n) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* "A" or "CNAME" from the body's type ("Microsoft.Network/privateDnsZones/
 * A", or just "A" in our journal form) or, failing that, from the id's
 * second-to-last segment. */
static void
record_type(const cJSON *body, char *out, size_t n)
{
	const char *t = jstr(body, "type"), *id = jstr(body, "id"), *s;

	out[0] = '\0';
	if (t != NULL && *t != '\0') {
		s = strrchr(t, '/');
		copy(out, n, s != NULL ? s + 1 : t);
	} else if (id != NULL) {
		const char *last = strrchr(id, '/');

		for (s = last; s != NULL && s > id && s[-1] != '/'; s--)
			;
		if (s != NULL && last != NULL && s < last && (size_t)(last - s) < n) {
			memcpy(out, s, (size_t)(last - s));
			out[last - s] = '\0';
		}
	}
	for (char *p = out; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
}

int
pdns_parse(const cJSON *body, const char *etag, struct pdns_record *r, char *err, size_t errlen)
{
	const cJSON *p, *e, *ttl, *ar;

	if (r == NULL)
		return PDNS_E_INVALID;
	memset(r, 0, sizeof *r);
	p = cJSON_GetObjectItemCaseSensitive(body, "properties");
	if (!cJSON_IsObject(body) || !cJSON_IsObject(p)) {
		util_errf(err, errlen, "private DNS record set: the answer has no properties object");
		return PDNS_E_BODY;
	}
	copy(r->id, sizeof r->id, jstr(body, "id"));
	copy(r->name, sizeof r->name, jstr(body, "name"));
	copy(r->etag, sizeof r->etag, etag != NULL && *etag != '\0' ? etag : jstr(body, "etag"));
	record_type(body, r->type, sizeof r->type);
	copy(r->fqdn, sizeof r->fqdn, jstr(p, "fqdn"));
	ttl = cJSON_GetObjectItemCaseSensitive(p, "ttl");
	r->ttl = cJSON_IsNumber(ttl) ? (long long)ttl->valuedouble : 0;
	ar = cJSON_GetObjectItemCaseSensitive(p, "isAutoRegistered");
	r->auto_registered = cJSON_IsTrue(ar);
	if (strcmp(r->type, "A") == 0) {
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(p, "aRecords")) {
			const char *ip = jstr(e, "ipv4Address");

			if (ip == NULL)
				continue;
			if (r->ntargets == PDNS_MAX_TARGETS) {
				util_errf(err, errlen, "record set %s has more than %d A records", r->name,
				    PDNS_MAX_TARGETS);
				return PDNS_E_BODY;
			}
			copy(r->targets[r->ntargets++], sizeof r->targets[0], ip);
		}
	} else if (strcmp(r->type, "CNAME") == 0) {
		const char *cn = jstr(cJSON_GetObjectItemCaseSensitive(p, "cnameRecord"), "cname");

		if (cn != NULL)
			copy(r->targets[r->ntargets++], sizeof r->targets[0], cn);
	} else {
		util_errf(err, errlen, "record set %s is of type %s: only A and CNAME are supported", r->name,
		    r->type[0] ? r->type : "(unknown)");
		return PDNS_E_INVALID;
	}
	return ARM_OK;
}

cJSON *
pdns_record_json(const cJSON *body, const char *etag)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "properties");
	cJSON *o, *props;
	char type[16];

	if (!cJSON_IsObject(p))
		return NULL;
	record_type(body, type, sizeof type);
	o = cJSON_CreateObject();
	props = cJSON_Duplicate(p, 1);
	/* readOnly in RecordSetProperties: never part of what we write. */
	cJSON_DeleteItemFromObjectCaseSensitive(props, "fqdn");
	cJSON_DeleteItemFromObjectCaseSensitive(props, "isAutoRegistered");
	if (o == NULL || props == NULL || !cJSON_AddItemToObject(o, "properties", props)) {
		cJSON_Delete(o);
		cJSON_Delete(props);
		return NULL;
	}
	if (cJSON_AddStringToObject(o, "id", jstr(body, "id") != NULL ? jstr(body, "id") : "")
	    == NULL
	    || cJSON_AddStringToObject(o, "etag", etag != NULL && *etag ? etag
	    : (jstr(body, "etag") != NULL ? jstr(body, "etag") : "")) == NULL
	    || cJSON_AddStringToObject(o, "type", type) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int
pdns_get(struct arm_client *c, const char *id, const struct arm_opts *opts,
    struct pdns_record *rec, cJSON **body, char *err, size_t errlen)
{
	struct arm_response r;
	cJSON *j;
	int rc;

	if (body != NULL)
		*body = NULL;
	if (rec == NULL)
		return PDNS_E_INVALID;
	memset(rec, 0, sizeof *rec);
	if (c == NULL || id == NULL) {
		util_errf(err, errlen, "pdns_get: bad arguments");
		return PDNS_E_INVALID;
	}
	rc = arm_get(c, id, opts, &r);
	if (rc != ARM_OK) {
		if (rc == ARM_E_STATUS && r.status == 404) {
			char label[200];

			arm_resource_label(id, label, sizeof label);
			util_errf(err, errlen, "record set %s not found (404%s%s)", label,
			    r.error_code[0] ? " " : "", r.error_code);
			rc = PDNS_E_NOT_FOUND;
		} else {
			util_errf(err, errlen, "%s", r.message);
		}
		arm_response_free(&r);
		return rc;
	}
	j = r.body_len > 0 ? cJSON_ParseWithLength(r.body, r.body_len) : NULL;
	rc = pdns_parse(j, r.etag, rec, err, errlen);
	arm_response_free(&r);
	if (rc != ARM_OK) {
		cJSON_Delete(j);
		return rc;
	}
	if (body != NULL)
		*body = j;
	else
		cJSON_Delete(j);
	return ARM_OK;
}

void
pdns_change_free(struct pdns_change *ch)
{
	if (ch == NULL)
		return;
	cJSON_Delete(ch->before_json);
	cJSON_Delete(ch->after_json);
	ch->before_json = ch->after_json = NULL;
}

/* Compares targets as DNS does: case-insensitive, a trailing dot
 * ignored. */
static int
name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* Whether R's targets are exactly the set T[0..N-1]. */
static int
same_targets(const struct pdns_record *r, const char *const *t, int n)
{
	if (r->ntargets != n)
		return 0;
	for (int i = 0; i < n; i++) {
		int found = 0;

		for (int j = 0; j < r->ntargets && !found; j++)
			found = name_eq(r->targets[j], t[i]);
		if (!found)
			return 0;
	}
	return 1;
}

static int
hostname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.' && s[i] != '_')
			return 0;
	return 1;
}

static int
targets_ok(const char *type, const char *const *t, int n, char *err, size_t errlen)
{
	struct in_addr a;

	if (strcmp(type, "CNAME") == 0) {
		if (n != 1 || t == NULL || t[0] == NULL || !hostname_ok(t[0])) {
			util_errf(err, errlen, "a CNAME record set takes exactly one host name as target");
			return 0;
		}
		return 1;
	}
	if (n < 1 || n > PDNS_MAX_TARGETS || t == NULL) {
		util_errf(err, errlen, "an A record set takes 1 to %d IPv4 addresses", PDNS_MAX_TARGETS);
		return 0;
	}
	for (int i = 0; i < n; i++)
		if (t[i] == NULL || inet_pton(AF_INET, t[i], &a) != 1) {
			util_errf(err, errlen, "\"%.60s\" is not an IPv4 address (A record target)",
			    t[i] != NULL ? t[i] : "");
			return 0;
		}
	return 1;
}

/* The PUT body: CUR's writable properties with the records replaced. */
static cJSON *
put_body(const cJSON *cur, const char *type, const char *const *t, int n, long long ttl)
{
	cJSON *b = cJSON_CreateObject(), *p;

	p = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cur, "properties"), 1);
	if (b == NULL || p == NULL || !cJSON_AddItemToObject(b, "properties", p)) {
		cJSON_Delete(b);
		cJSON_Delete(p);
		return NULL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(p, "fqdn");
	cJSON_DeleteItemFromObjectCaseSensitive(p, "isAutoRegistered");
	if (ttl > 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(p, "ttl");
		if (cJSON_AddNumberToObject(p, "ttl", (double)ttl) == NULL)
			goto oom;
	}
	if (strcmp(type, "A") == 0) {
		cJSON *arr;

		cJSON_DeleteItemFromObjectCaseSensitive(p, "aRecords");
		if ((arr = cJSON_AddArrayToObject(p, "aRecords")) == NULL)
			goto oom;
		for (int i = 0; i < n; i++) {
			cJSON *e = cJSON_CreateObject();

			if (!cJSON_AddItemToArray(arr, e) || cJSON_AddStringToObject(e, "ipv4Address", t[i])
			    == NULL)
				goto oom;
		}
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(p, "cnameRecord");
		if (cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "cnameRecord"), "cname", t[0])
		    == NULL)
			goto oom;
	}
	return b;
oom:
	cJSON_Delete(b);
	return NULL;
}

/* PUT BODY with If-Match ETAG, then GET into OUT->after / after_json. */
static int
put_and_read(struct arm_client *c, const char *id, const cJSON *body, const char *etag,
    const struct arm_opts *opts, struct pdns_change *out, char *err, size_t errlen)
{
	struct arm_response r;
	cJSON *after = NULL;
	char *text = cJSON_PrintUnformatted(body);
	int rc;

	if (text == NULL) {
		util_errf(err, errlen, "out of memory");
		return PDNS_E_BODY;
	}
	rc = arm_put_if_match(c, id, text, etag, opts, &r);
	free(text);
	if (rc != ARM_OK) {
		if (rc == ARM_E_PRECONDITION)
			util_errf(err, errlen, "record set %s changed since it was read (ETag %s no longer "
			    "current); nothing written: %s", out->before.name, etag, r.message);
		else
			util_errf(err, errlen, "%s", r.message);
		arm_response_free(&r);
		return rc;
	}
	arm_response_free(&r);
	out->changed = 1;
	rc = pdns_get(c, id, opts, &out->after, &after, err, errlen);
	if (rc != ARM_OK) {
		char keep[400];

		copy(keep, sizeof keep, err);
		util_errf(err, errlen, "record set %s was written but could not be read back: %s",
		    out->before.name, keep);
		return rc;
	}
	out->after_json = pdns_record_json(after, out->after.etag);
	cJSON_Delete(after);
	return ARM_OK;
}

int
pdns_set_targets(struct arm_client *c, const char *id, const char *const *targets, int n,
    long long ttl, const char *if_match, const struct arm_opts *opts, struct pdns_change *out,
    char *err, size_t errlen)
{
	cJSON *cur = NULL, *body;
	int rc;

	if (out == NULL)
		return PDNS_E_INVALID;
	memset(out, 0, sizeof *out);
	if (c == NULL || id == NULL || ttl < 0 || ttl > 2147483647LL) {
		util_errf(err, errlen, "pdns_set_targets: bad arguments");
		return PDNS_E_INVALID;
	}
	rc = pdns_get(c, id, opts, &out->before, &cur, err, errlen);
	if (rc != ARM_OK)
		return rc;
	out->before_json = pdns_record_json(cur, out->before.etag);
	if (!targets_ok(out->before.type, targets, n, err, errlen)) {
		rc = PDNS_E_INVALID;
		goto done;
	}
	if (out->before.auto_registered) {
		util_errf(err, errlen, "record set %s is auto-registered by a virtual network link; "
		    "it cannot be pointed elsewhere", out->before.name);
		rc = PDNS_E_INVALID;
		goto done;
	}
	if (same_targets(&out->before, targets, n) && (ttl == 0 || ttl == out->before.ttl)
	    && (if_match == NULL || strcmp(if_match, out->before.etag) == 0)) {
		out->after = out->before;
		out->after_json = cJSON_Duplicate(out->before_json, 1);
		rc = ARM_OK;
		goto done;
	}
	body = put_body(cur, out->before.type, targets, n, ttl);
	if (body == NULL) {
		util_errf(err, errlen, "out of memory");
		rc = PDNS_E_BODY;
		goto done;
	}
	rc = put_and_read(c, id, body, if_match != NULL && *if_match ? if_match : out->before.etag,
	    opts, out, err, errlen);
	cJSON_Delete(body);
	if (rc == ARM_OK && (!same_targets(&out->after, targets, n)
	    || (ttl > 0 && out->after.ttl != ttl))) {
		util_errf(err, errlen, "record set %s accepted the change but reads back %s%s (ttl %lld)",
		    out->before.name, out->after.ntargets > 0 ? out->after.targets[0] : "(no target)",
		    out->after.ntargets > 1 ? ", ..." : "", out->after.ttl);
		rc = PDNS_E_VERIFY;
	}
	if (rc == ARM_OK)
		log_info(MOD, "%s %s: %s -> %s%s, ttl %lld", out->before.type, out->before.name,
		    out->before.ntargets > 0 ? out->before.targets[0] : "-", targets[0],
		    n > 1 ? ", ..." : "", out->after.ttl);
done:
	cJSON_Delete(cur);
	return rc;
}

int
pdns_restore(struct arm_client *c, const char *id, const cJSON *saved, const char *if_match,
    const struct arm_opts *opts, struct pdns_change *out, char *err, size_t errlen)
{
	const cJSON *sp = cJSON_GetObjectItemCaseSensitive(saved, "properties");
	cJSON *cur = NULL, *body = NULL, *want = NULL, *now = NULL;
	struct pdns_record wanted;
	char e2[200];
	int rc;

	if (out == NULL)
		return PDNS_E_INVALID;
	memset(out, 0, sizeof *out);
	if (c == NULL || id == NULL || !cJSON_IsObject(sp)) {
		util_errf(err, errlen, "the saved record set state has no properties");
		return PDNS_E_INVALID;
	}
	rc = pdns_get(c, id, opts, &out->before, &cur, err, errlen);
	if (rc != ARM_OK)
		return rc;
	out->before_json = pdns_record_json(cur, out->before.etag);
	/* What the saved state reads as, typed like the live record. */
	want = cJSON_CreateObject();
	if (want == NULL || cJSON_AddStringToObject(want, "type", out->before.type) == NULL
	    || !cJSON_AddItemToObject(want, "properties", cJSON_Duplicate(sp, 1))
	    || pdns_parse(want, "", &wanted, e2, sizeof e2) != ARM_OK || wanted.ntargets == 0) {
		util_errf(err, errlen, "the saved record set state is not a usable %s record set",
		    out->before.type);
		rc = PDNS_E_INVALID;
		goto done;
	}
	now = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(out->before_json, "properties"), 1);
	if (cJSON_Compare(now, cJSON_GetObjectItemCaseSensitive(want, "properties"), 1)) {
		out->after = out->before;
		out->after_json = cJSON_Duplicate(out->before_json, 1);
		rc = ARM_OK;
		goto done;
	}
	body = cJSON_CreateObject();
	if (body == NULL || !cJSON_AddItemToObject(body, "properties", cJSON_Duplicate(sp, 1))) {
		util_errf(err, errlen, "out of memory");
		rc = PDNS_E_BODY;
		goto done;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "properties"),
	    "fqdn");
	cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "properties"),
	    "isAutoRegistered");
	rc = put_and_read(c, id, body, if_match != NULL && *if_match ? if_match : out->before.etag,
	    opts, out, err, errlen);
	if (rc == ARM_OK) {
		const char *t[PDNS_MAX_TARGETS];

		for (int i = 0; i < wanted.ntargets; i++)
			t[i] = wanted.targets[i];
		if (!same_targets(&out->after, t, wanted.ntargets)
		    || (wanted.ttl > 0 && out->after.ttl != wanted.ttl)) {
			util_errf(err, errlen, "record set %s accepted the restore but reads back %s (ttl %lld)",
			    out->before.name, out->after.ntargets > 0 ? out->after.targets[0] : "(none)",
			    out->after.ttl);
			rc = PDNS_E_VERIFY;
		}
	}
done:
	cJSON_Delete(cur);
	cJSON_Delete(body);
	cJSON_Delete(want);
	cJSON_Delete(now);
	return rc;
}

const char *
pdns_points_to(const struct pdns_record *r, const char *blue, const char *green)
{
	if (r == NULL || r->ntargets == 0)
		return "other";
	if (blue != NULL && *blue != '\0' && same_targets(r, &blue, 1))
		return "blue";
	if (green != NULL && *green != '\0' && same_targets(r, &green, 1))
		return "green";
	return "other";
}

cJSON *
pdns_status_json(const struct pdns_record *r, const char *blue, const char *green)
{
	cJSON *o = cJSON_CreateObject(), *t;
	char fqdn[sizeof r->fqdn];
	size_t l;

	if (o == NULL || r == NULL)
		return o;
	copy(fqdn, sizeof fqdn, r->fqdn);
	l = strlen(fqdn);
	if (l > 0 && fqdn[l - 1] == '.')
		fqdn[l - 1] = '\0';
	if (cJSON_AddStringToObject(o, "fqdn", fqdn) == NULL
	    || cJSON_AddStringToObject(o, "type", r->type) == NULL
	    || cJSON_AddNumberToObject(o, "ttl", (double)r->ttl) == NULL
	    || (t = cJSON_AddArrayToObject(o, "targets")) == NULL)
		goto oom;
	for (int i = 0; i < r->ntargets; i++)
		if (!cJSON_AddItemToArray(t, cJSON_CreateString(r->targets[i])))
			goto oom;
	if (cJSON_AddStringToObject(o, "pointsTo", pdns_points_to(r, blue, green)) == NULL)
		goto oom;
	return o;
oom:
	cJSON_Delete(o);
	return NULL;
}
