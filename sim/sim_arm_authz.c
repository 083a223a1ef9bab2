/*
 * sim_arm_authz.c — Microsoft.Authorization/permissions for the resource
 * group: what the caller may do, as `bgswitch preflight` asks before a run.
 *
 * Real ARM answers GET .../resourceGroups/RG/providers/
 * Microsoft.Authorization/permissions with one entry per role assignment,
 * each {actions, notActions, dataActions, notDataActions} (Azure REST API
 * specs, specification/authorization/.../stable/2022-04-01/permissions.json,
 * operation Permissions_ListForResourceGroup).  The simulator has one
 * caller, so it answers one entry: the world's `entra.permissions`, or
 * Owner-like {"actions": ["*"]} when the world says nothing.  Tests narrow
 * it at run time with POST /_sim/arm/permissions to see preflight fail.
 */
#include "sim/sim_arm.h"

#include <stdio.h>
#include <string.h>

static cJSON *perms;		/* {actions, notActions, dataActions, notDataActions} */

static cJSON *
default_perms(void)
{
	cJSON *p = cJSON_CreateObject();
	cJSON *a = cJSON_AddArrayToObject(p, "actions");

	cJSON_AddItemToArray(a, cJSON_CreateString("*"));
	cJSON_AddArrayToObject(p, "notActions");
	cJSON_AddArrayToObject(p, "dataActions");
	cJSON_AddArrayToObject(p, "notDataActions");
	return p;
}

/* Takes {actions, not_actions} (world file spelling) or the API's own
 * camelCase; every member must be a list of strings. */
static cJSON *
parse_perms(const cJSON *in, char *err, size_t errlen)
{
	static const char *const names[][2] = {
		{ "actions", "actions" }, { "not_actions", "notActions" },
		{ "notActions", "notActions" }, { "data_actions", "dataActions" },
		{ "dataActions", "dataActions" }, { "not_data_actions", "notDataActions" },
		{ "notDataActions", "notDataActions" },
	};
	cJSON *out = cJSON_CreateObject();
	const cJSON *m;

	cJSON_AddArrayToObject(out, "actions");
	cJSON_AddArrayToObject(out, "notActions");
	cJSON_AddArrayToObject(out, "dataActions");
	cJSON_AddArrayToObject(out, "notDataActions");
	if (!cJSON_IsObject(in)) {
		snprintf(err, errlen, "permissions: expected a mapping with actions and not_actions");
		cJSON_Delete(out);
		return NULL;
	}
	cJSON_ArrayForEach(m, in) {
		const char *to = NULL;
		const cJSON *s;

		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strcmp(m->string, names[i][0]) == 0)
				to = names[i][1];
		if (to == NULL || !cJSON_IsArray(m)) {
			snprintf(err, errlen, "permissions.%s: expected actions, not_actions, data_actions "
			    "or not_data_actions, each a list of strings", m->string);
			cJSON_Delete(out);
			return NULL;
		}
		cJSON_ArrayForEach(s, m) {
			if (!cJSON_IsString(s)) {
				snprintf(err, errlen, "permissions.%s: expected a list of strings", m->string);
				cJSON_Delete(out);
				return NULL;
			}
			cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(out, to),
			    cJSON_CreateString(s->valuestring));
		}
	}
	return out;
}

int
sim_arm_authz_load(const cJSON *world, char *err, size_t errlen)
{
	const cJSON *entra = cJSON_GetObjectItemCaseSensitive(world, "entra");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(entra, "permissions");

	cJSON_Delete(perms);
	perms = NULL;
	if (p == NULL || cJSON_IsNull(p)) {
		perms = default_perms();
		return 0;
	}
	perms = parse_perms(p, err, errlen);
	if (perms == NULL) {
		char tmp[512];
		snprintf(tmp, sizeof tmp, "entra.%s", err);
		snprintf(err, errlen, "%s", tmp);
		return -1;
	}
	return 0;
}

void
sim_arm_authz_handle(struct sim_arm_ctx *c)
{
	cJSON *root, *value;

	if (c->nseg != 0) {
		sim_arm_error(c->resp, 404, "NotFound", "No HTTP resource was found that matches the request URI.");
		return;
	}
	if (strcmp(c->method, "GET") != 0) {
		sim_arm_bad_method(c);
		return;
	}
	root = cJSON_CreateObject();
	value = cJSON_AddArrayToObject(root, "value");
	cJSON_AddItemToArray(value, cJSON_Duplicate(perms != NULL ? perms : default_perms(), 1));
	sim_resp_json_take(c->resp, 200, root);
}

int
sim_arm_authz_ctl(struct sim_req *req, struct sim_resp *resp)
{
	char err[300];
	cJSON *j, *p;

	if (strcmp(req->method, "GET") == 0) {
		sim_resp_json(resp, 200, perms);
		return 1;
	}
	if (strcmp(req->method, "POST") != 0 && strcmp(req->method, "PUT") != 0)
		return 0;
	j = cJSON_ParseWithLength(req->body, req->body_len);
	p = parse_perms(j, err, sizeof err);
	cJSON_Delete(j);
	if (p == NULL) {
		strncat(err, "\n", sizeof err - strlen(err) - 1);
		sim_resp_body(resp, 400, "text/plain", err, strlen(err));
		return 1;
	}
	cJSON_Delete(perms);
	perms = p;
	sim_resp_json(resp, 200, perms);
	return 1;
}
