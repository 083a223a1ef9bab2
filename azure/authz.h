/*
 * authz.h — what the caller may do in a resource group, from Azure RBAC's
 * own answer, so that preflight can say "cannot write the gateway" before
 * the switchover starts instead of failing at step 2 of the traffic switch.
 *
 * API: GET /subscriptions/{s}/resourceGroups/{rg}/providers/
 * Microsoft.Authorization/permissions?api-version=2022-04-01
 * (Permissions_ListForResourceGroup; PermissionGetResult {value[]:
 * Permission {actions[], notActions[], dataActions[], notDataActions[]},
 * nextLink}; Azure/azure-rest-api-specs, specification/authorization/
 * resource-manager/Microsoft.Authorization, 2022-04-01, mirrored in
 * Azure/bicep-types-az generated/authorization/microsoft.authorization/
 * 2022-04-01/types.md).  Each element is one role assignment's effective
 * permissions at that scope.
 *
 * Evaluation, as "Understand Azure role definitions"
 * (learn.microsoft.com/azure/role-based-access-control/role-definitions)
 * describes it:
 *   - "*" in an action string matches any run of characters: "*" (every
 *     action), "Microsoft.Network/" followed by "*", or "*" followed by
 *     "/read" (every read), also in the middle of a string; operation
 *     strings compare case-insensitively.
 *   - notActions subtract from the actions of the same element only: "If a
 *     user is assigned a role that excludes an operation in NotActions, and
 *     is assigned a second role that grants access to the same operation,
 *     the user is allowed to perform that operation" (NotActions is not a
 *     deny).  The same holds for dataActions / notDataActions.
 *   - Deny assignments and ABAC conditions are not part of this answer; a
 *     "yes" here can still be refused by ARM, which preflight reports as a
 *     limit of the check.
 */
#ifndef BGSWITCH_AZURE_AUTHZ_H
#define BGSWITCH_AZURE_AUTHZ_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "azure/arm.h"

enum authz_rc {
	AUTHZ_E_INVALID = -60,
	AUTHZ_E_BODY = -61,
};

struct authz_perms {
	cJSON *entries;			/* array of Permission objects, all pages (owned) */
};

/* GET the caller's permissions in resource group RG (every page). */
int authz_get(struct arm_client *c, const char *sub, const char *rg, const struct arm_opts *opts,
    struct authz_perms *out, char *err, size_t errlen);

/* Adds the value[] of one permissions answer to OUT (zero it first). */
int authz_parse(const cJSON *body, struct authz_perms *out, char *err, size_t errlen);

/* Whether the control-plane ACTION (e.g.
 * "Microsoft.ContainerService/managedClusters/write") is allowed. */
int authz_allowed(const struct authz_perms *p, const char *action);
/* Same for a data action (dataActions / notDataActions). */
int authz_data_allowed(const struct authz_perms *p, const char *action);

/* RBAC's wildcard match of one PATTERN against ACTION. */
int authz_match(const char *pattern, const char *action);

void authz_free(struct authz_perms *p);

#endif
