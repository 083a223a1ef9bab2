/*
 * authz.c — the caller's Azure RBAC permissions in a resource group and
 * the wildcard evaluation of one action against them (rules in authz.h).
 */
#include "azure/authz.h"
#include "src/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PAGES 50

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

/* Glob with '*' only, case-insensitive; iterative with one backtrack
 * point, so no pattern can make it exponential. */
int
authz_match(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	if (pat == NULL || s == NULL)
		return 0;
	while (*s != '\0') {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat != '\0' && tolower((unsigned char)*pat) == tolower((unsigned char)*s)) {
			pat++;
			s++;
		} else if (star != NULL) {
			pat = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static int
any_match(const cJSON *list, const char *action)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, list)
		if (cJSON_IsString(e) && authz_match(e->valuestring, action))
			return 1;
	return 0;
}

static int
allowed(const struct authz_perms *p, const char *yes, const char *no, const char *action)
{
	const cJSON *e;

	if (p == NULL || action == NULL || *action == '\0')
		return 0;
	cJSON_ArrayForEach(e, p->entries)
		if (any_match(cJSON_GetObjectItemCaseSensitive(e, yes), action)
		    && !any_match(cJSON_GetObjectItemCaseSensitive(e, no), action))
			return 1;
	return 0;
}

int
authz_allowed(const struct authz_perms *p, const char *action)
{
	return allowed(p, "actions", "notActions", action);
}

int
authz_data_allowed(const struct authz_perms *p, const char *action)
{
	return allowed(p, "dataActions", "notDataActions", action);
}

void
authz_free(struct authz_perms *p)
{
	if (p == NULL)
		return;
	cJSON_Delete(p->entries);
	p->entries = NULL;
}

int
authz_parse(const cJSON *body, struct authz_perms *p, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "value"), *e;

	if (p == NULL)
		return AUTHZ_E_INVALID;
	if (!cJSON_IsArray(v)) {
		util_errf(err, errlen, "permissions: the answer has no value array");
		return AUTHZ_E_BODY;
	}
	if (p->entries == NULL && (p->entries = cJSON_CreateArray()) == NULL) {
		util_errf(err, errlen, "out of memory");
		return AUTHZ_E_BODY;
	}
	cJSON_ArrayForEach(e, v) {
		static const char *const lists[] = { "actions", "notActions", "dataActions",
		    "notDataActions" };

		if (!cJSON_IsObject(e)) {
			util_errf(err, errlen, "permissions: an entry is not an object");
			return AUTHZ_E_BODY;
		}
		for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
			const cJSON *l = cJSON_GetObjectItemCaseSensitive(e, lists[i]);

			if (l != NULL && !cJSON_IsArray(l)) {
				util_errf(err, errlen, "permissions: %s is not an array", lists[i]);
				return AUTHZ_E_BODY;
			}
		}
		if (!cJSON_AddItemToArray(p->entries, cJSON_Duplicate(e, 1))) {
			util_errf(err, errlen, "out of memory");
			return AUTHZ_E_BODY;
		}
	}
	return 0;
}

int
authz_get(struct arm_client *c, const char *sub, const char *rg, const struct arm_opts *opts,
    struct authz_perms *out, char *err, size_t errlen)
{
	char path[512];
	char *next = NULL;
	int rc = 0;

	if (out == NULL)
		return AUTHZ_E_INVALID;
	memset(out, 0, sizeof *out);
	if (c == NULL || !segment_ok(sub) || !segment_ok(rg)) {
		util_errf(err, errlen, "permissions: bad subscription or resource group");
		return AUTHZ_E_INVALID;
	}
	snprintf(path, sizeof path, "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.Authorization/permissions", sub, rg);
	for (int page = 0; page < MAX_PAGES; page++) {
		struct arm_response r;
		const cJSON *nl;
		cJSON *j;

		rc = arm_get(c, next != NULL ? next : path, opts, &r);
		free(next);
		next = NULL;
		if (rc != ARM_OK) {
			util_errf(err, errlen, "%s", r.message);
			arm_response_free(&r);
			break;
		}
		j = r.body_len > 0 ? cJSON_ParseWithLength(r.body, r.body_len) : NULL;
		arm_response_free(&r);
		rc = authz_parse(j, out, err, errlen);
		nl = cJSON_GetObjectItemCaseSensitive(j, "nextLink");
		if (rc == 0 && cJSON_IsString(nl) && nl->valuestring[0] != '\0'
		    && (next = strdup(nl->valuestring)) == NULL) {
			util_errf(err, errlen, "out of memory");
			rc = AUTHZ_E_BODY;
		}
		cJSON_Delete(j);
		if (rc != 0 || next == NULL)
			break;
	}
	free(next);
	if (rc != 0)
		authz_free(out);
	return rc;
}
