/*
 * pdns.h — Azure Private DNS record sets (A and CNAME) as bgswitch moves
 * the live hostname from blue's target to green's and back.
 *
 * API spec: Azure/azure-rest-api-specs, specification/privatedns/
 * resource-manager/Microsoft.Network/PrivateDns/stable/2024-06-01/
 * privatedns.json (RecordSet {etag, properties: RecordSetProperties
 * {metadata, ttl, fqdn (readOnly), isAutoRegistered (readOnly), aRecords[]
 * .ipv4Address, cnameRecord.cname}}).
 *
 * A change is a read-modify-write: the record set is read, only its
 * targets (and the TTL when asked) are replaced, everything else
 * (metadata) is kept, and the PUT carries If-Match so that a record
 * changed behind our back answers ARM_E_PRECONDITION instead of being
 * overwritten; the caller re-reads and decides.  The record is then read
 * back and checked.  The caller gets the before and after states, as
 * structs for the screen and as JSON for the journal, and can put a saved
 * "before" back with pdns_restore().
 *
 * Return codes: ARM_OK, ARM_E_* (azure/arm.h; ARM_E_PRECONDITION on 412),
 * or PDNS_E_* below, with one readable line in ERR.
 */
#ifndef BGSWITCH_AZURE_PDNS_H
#define BGSWITCH_AZURE_PDNS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "azure/arm.h"

enum pdns_rc {
	PDNS_E_NOT_FOUND = -40,		/* no such record set (404) */
	PDNS_E_INVALID = -41,		/* bad arguments: type, targets, ttl, saved state */
	PDNS_E_BODY = -42,		/* ARM answered with a body we cannot use */
	PDNS_E_VERIFY = -43,		/* written, but the re-read does not show it */
};

#define PDNS_MAX_TARGETS 16

struct pdns_record {
	char id[512];
	char name[128];			/* relative name, e.g. "aks" */
	char type[8];			/* "A" or "CNAME" */
	char fqdn[300];			/* as returned, with the trailing dot */
	char etag[256];
	long long ttl;
	char targets[PDNS_MAX_TARGETS][256];	/* IPv4 addresses, or the one CNAME */
	int ntargets;
	int auto_registered;
};

struct pdns_change {
	struct pdns_record before, after;
	cJSON *before_json, *after_json;	/* journal form, owned: see pdns_record_json() */
	int changed;				/* 0: already so, nothing written */
};

/* The record set id ".../providers/Microsoft.Network/privateDnsZones/ZONE/
 * TYPE/NAME" into OUT.  TYPE must be "A" or "CNAME".  0 or -1. */
int pdns_record_id(char *out, size_t n, const char *sub, const char *rg, const char *zone,
    const char *type, const char *name);

/* GET the record set ID into *REC; *BODY (may be NULL) gets the resource. */
int pdns_get(struct arm_client *c, const char *id, const struct arm_opts *opts,
    struct pdns_record *rec, cJSON **body, char *err, size_t errlen);

/* Parses a record set body; ETAG (may be NULL or "") overrides the body's. */
int pdns_parse(const cJSON *body, const char *etag, struct pdns_record *rec,
    char *err, size_t errlen);

/* The journal form of a record set body: {"id", "etag", "type",
 * "properties": the writable properties (metadata, ttl, aRecords or
 * cnameRecord, ...)}.  NULL when BODY is no record set. */
cJSON *pdns_record_json(const cJSON *body, const char *etag);

/* Points ID at TARGETS[0..N-1] (A: IPv4 addresses; CNAME: exactly one
 * name), and sets the TTL when TTL > 0.  IF_MATCH is the ETag the caller
 * read the record with (the journaled "before"), or NULL to use the one
 * read here.  OUT is always initialized; free with pdns_change_free(). */
int pdns_set_targets(struct arm_client *c, const char *id, const char *const *targets, int n,
    long long ttl, const char *if_match, const struct arm_opts *opts, struct pdns_change *out,
    char *err, size_t errlen);

/* Puts the journal form SAVED (a before_json) back, with If-Match IF_MATCH
 * (the journaled "after" ETag), or the current ETag when NULL.  Verified by
 * reading back. */
int pdns_restore(struct arm_client *c, const char *id, const cJSON *saved, const char *if_match,
    const struct arm_opts *opts, struct pdns_change *out, char *err, size_t errlen);

void pdns_change_free(struct pdns_change *ch);

/* "blue", "green" or "other": which configured target REC's targets equal
 * (case-insensitive; a CNAME's trailing dot ignored). */
const char *pdns_points_to(const struct pdns_record *rec, const char *blue_target,
    const char *green_target);

/* status --json traffic.dns: {fqdn (no trailing dot), type, ttl, targets[],
 * pointsTo}. */
cJSON *pdns_status_json(const struct pdns_record *rec, const char *blue_target,
    const char *green_target);

#endif
