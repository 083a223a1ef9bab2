/*
 * aks.c — managed clusters: read, summarize, clone blue's spec for green,
 * create, stop, start, delete, and the user kubeconfig.
 *
 * Source of every field name and of the read-only flags below:
 * Azure/azure-rest-api-specs, specification/containerservice/
 * resource-manager/Microsoft.ContainerService/aks/stable/2026-08-01/
 * managedClusters.json.  Paths: GET/PUT/DELETE {id}, POST {id}/stop,
 * {id}/start, {id}/listClusterUserCredential (CredentialResults:
 * kubeconfigs[].{name, value: base64 "format": "byte"}), and the list
 * .../resourceGroups/{rg}/providers/Microsoft.ContainerService/
 * managedClusters (ManagedClusterListResult: value[], nextLink).
 */
#include "azure/aks.h"
#include "src/util.h"

#include "src/log.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MOD "aks"
#define MAX_PAGES 100

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

/* A resource id segment: non-empty, no separators or spaces. */
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
aks_cluster_id(char *out, size_t n, const char *sub, const char *rg, const char *name)
{
	int w;

	if (out == NULL || n == 0)
		return -1;
	out[0] = '\0';
	if (!segment_ok(sub) || !segment_ok(rg) || !segment_ok(name))
		return -1;
	w = snprintf(out, n, "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/managedClusters/%s", sub, rg, name);
	if (w < 0 || (size_t)w >= n) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* ---- summary ----------------------------------------------------------------- */

void
aks_summary_free(struct aks_summary *s)
{
	if (s == NULL)
		return;
	free(s->pools);
	s->pools = NULL;
	s->npools = 0;
}

void
aks_summaries_free(struct aks_summary *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		aks_summary_free(&v[i]);
	free(v);
}

static void
power_code(const cJSON *o, char *dst, size_t n)
{
	const cJSON *ps = cJSON_GetObjectItemCaseSensitive(o, "powerState");

	copy(dst, n, cJSON_IsObject(ps) ? jstr(ps, "code") : NULL);
}

int
aks_parse_summary(const cJSON *body, struct aks_summary *s, char *err, size_t errlen)
{
	const cJSON *p, *pools, *ap;
	size_t i = 0;

	if (s == NULL)
		return AKS_E_INVALID;
	memset(s, 0, sizeof *s);
	if (!cJSON_IsObject(body)) {
		util_errf(err, errlen, "managed cluster: the answer is not a JSON object");
		return AKS_E_BODY;
	}
	p = cJSON_GetObjectItemCaseSensitive(body, "properties");
	if (!cJSON_IsObject(p)) {
		util_errf(err, errlen, "managed cluster %s: the answer has no properties object",
		    jstr(body, "name") != NULL ? jstr(body, "name") : "?");
		return AKS_E_BODY;
	}
	copy(s->name, sizeof s->name, jstr(body, "name"));
	copy(s->id, sizeof s->id, jstr(body, "id"));
	copy(s->location, sizeof s->location, jstr(body, "location"));
	copy(s->kubernetes_version, sizeof s->kubernetes_version, jstr(p, "kubernetesVersion"));
	copy(s->current_kubernetes_version, sizeof s->current_kubernetes_version,
	    jstr(p, "currentKubernetesVersion"));
	copy(s->provisioning_state, sizeof s->provisioning_state, jstr(p, "provisioningState"));
	power_code(p, s->power_state, sizeof s->power_state);
	copy(s->fqdn, sizeof s->fqdn, jstr(p, "fqdn") != NULL ? jstr(p, "fqdn")
	    : jstr(p, "privateFQDN"));
	copy(s->node_resource_group, sizeof s->node_resource_group, jstr(p, "nodeResourceGroup"));
	pools = cJSON_GetObjectItemCaseSensitive(p, "agentPoolProfiles");
	if (pools != NULL && !cJSON_IsArray(pools)) {
		util_errf(err, errlen, "managed cluster %s: agentPoolProfiles is not an array", s->name);
		return AKS_E_BODY;
	}
	if (cJSON_GetArraySize(pools) > 0) {
		s->pools = calloc((size_t)cJSON_GetArraySize(pools), sizeof *s->pools);
		if (s->pools == NULL) {
			util_errf(err, errlen, "out of memory");
			return AKS_E_BODY;
		}
	}
	cJSON_ArrayForEach(ap, pools) {
		struct aks_pool *q = &s->pools[i];
		const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(ap, "count");

		if (!cJSON_IsObject(ap))
			continue;
		copy(q->name, sizeof q->name, jstr(ap, "name"));
		q->count = cJSON_IsNumber(cnt) ? cnt->valueint : 0;
		copy(q->vm_size, sizeof q->vm_size, jstr(ap, "vmSize"));
		copy(q->mode, sizeof q->mode, jstr(ap, "mode"));
		copy(q->os_type, sizeof q->os_type, jstr(ap, "osType"));
		copy(q->orchestrator_version, sizeof q->orchestrator_version,
		    jstr(ap, "orchestratorVersion"));
		copy(q->current_orchestrator_version, sizeof q->current_orchestrator_version,
		    jstr(ap, "currentOrchestratorVersion"));
		copy(q->provisioning_state, sizeof q->provisioning_state,
		    jstr(ap, "provisioningState"));
		power_code(ap, q->power_state, sizeof q->power_state);
		i++;
	}
	s->npools = i;
	return ARM_OK;
}

cJSON *
aks_status_json(const struct aks_summary *s)
{
	cJSON *o = cJSON_CreateObject();
	const char *v;

	if (o == NULL || s == NULL)
		return o;
	v = s->current_kubernetes_version[0] ? s->current_kubernetes_version : s->kubernetes_version;
	if (cJSON_AddStringToObject(o, "name", s->name) == NULL
	    || cJSON_AddStringToObject(o, "resourceId", s->id) == NULL
	    || cJSON_AddStringToObject(o, "kubernetesVersion", v) == NULL
	    || cJSON_AddStringToObject(o, "provisioningState", s->provisioning_state) == NULL
	    || cJSON_AddStringToObject(o, "powerState", s->power_state) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- calls ---------------------------------------------------------------------- */

/* ARM's error line into ERR, mapping a 404 to AKS_E_NOT_FOUND. */
static int
call_failed(int rc, const struct arm_response *r, const char *id, char *err, size_t errlen)
{
	char label[200];

	arm_resource_label(id, label, sizeof label);
	if (rc == ARM_E_STATUS && r->status == 404) {
		util_errf(err, errlen, "%s not found (404%s%s)", label, r->error_code[0] ? " " : "",
		    r->error_code);
		return AKS_E_NOT_FOUND;
	}
	util_errf(err, errlen, "%s", r->message[0] ? r->message : arm_rc_name(rc));
	return rc;
}

static cJSON *
parse_body(const struct arm_response *r, const char *what, char *err, size_t errlen)
{
	cJSON *j = r->body_len > 0 ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;

	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		util_errf(err, errlen, "%s: the answer is not a JSON object (%zu bytes, HTTP %ld)", what,
		    r->body_len, r->status);
		return NULL;
	}
	return j;
}

int
aks_get(struct arm_client *c, const char *id, const struct arm_opts *opts, cJSON **body,
    struct aks_summary *sum, char *err, size_t errlen)
{
	struct arm_response r;
	cJSON *j;
	int rc;

	if (body != NULL)
		*body = NULL;
	if (sum != NULL)
		memset(sum, 0, sizeof *sum);
	if (c == NULL || id == NULL) {
		util_errf(err, errlen, "aks_get: bad arguments");
		return AKS_E_INVALID;
	}
	rc = arm_get(c, id, opts, &r);
	if (rc != ARM_OK) {
		rc = call_failed(rc, &r, id, err, errlen);
		arm_response_free(&r);
		return rc;
	}
	j = parse_body(&r, "GET managed cluster", err, errlen);
	arm_response_free(&r);
	if (j == NULL)
		return AKS_E_BODY;
	if (sum != NULL && (rc = aks_parse_summary(j, sum, err, errlen)) != ARM_OK) {
		cJSON_Delete(j);
		return rc;
	}
	if (body != NULL)
		*body = j;
	else
		cJSON_Delete(j);
	return ARM_OK;
}

int
aks_list(struct arm_client *c, const char *sub, const char *rg, const struct arm_opts *opts,
    struct aks_summary **out, size_t *n, char *err, size_t errlen)
{
	char path[512];
	char *next = NULL;
	struct aks_summary *v = NULL;
	size_t nv = 0;
	int rc = ARM_OK, pages = 0;

	if (out == NULL || n == NULL)
		return AKS_E_INVALID;
	*out = NULL;
	*n = 0;
	if (c == NULL || !segment_ok(sub) || !segment_ok(rg)) {
		util_errf(err, errlen, "aks_list: bad subscription or resource group");
		return AKS_E_INVALID;
	}
	snprintf(path, sizeof path, "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/managedClusters", sub, rg);
	for (;;) {
		struct arm_response r;
		const cJSON *items, *it, *nl;
		cJSON *j;
		struct aks_summary *nvv;

		rc = arm_get(c, next != NULL ? next : path, opts, &r);
		free(next);
		next = NULL;
		if (rc != ARM_OK) {
			rc = call_failed(rc, &r, path, err, errlen);
			arm_response_free(&r);
			break;
		}
		j = parse_body(&r, "list managed clusters", err, errlen);
		arm_response_free(&r);
		if (j == NULL) {
			rc = AKS_E_BODY;
			break;
		}
		items = cJSON_GetObjectItemCaseSensitive(j, "value");
		if (!cJSON_IsArray(items)) {
			util_errf(err, errlen, "list managed clusters: the answer has no value array");
			cJSON_Delete(j);
			rc = AKS_E_BODY;
			break;
		}
		nvv = realloc(v, (nv + (size_t)cJSON_GetArraySize(items) + 1) * sizeof *v);
		if (nvv == NULL) {
			cJSON_Delete(j);
			util_errf(err, errlen, "out of memory");
			rc = AKS_E_BODY;
			break;
		}
		v = nvv;
		cJSON_ArrayForEach(it, items) {
			rc = aks_parse_summary(it, &v[nv], err, errlen);
			if (rc != ARM_OK)
				break;
			nv++;
		}
		nl = cJSON_GetObjectItemCaseSensitive(j, "nextLink");
		if (rc == ARM_OK && cJSON_IsString(nl) && nl->valuestring[0] != '\0'
		    && ++pages < MAX_PAGES) {
			next = strdup(nl->valuestring);
			if (next == NULL) {
				util_errf(err, errlen, "out of memory");
				rc = AKS_E_BODY;
			}
		}
		cJSON_Delete(j);
		if (rc != ARM_OK || next == NULL)
			break;
	}
	if (rc != ARM_OK) {
		aks_summaries_free(v, nv);
		return rc;
	}
	*out = v;
	*n = nv;
	return ARM_OK;
}

int
aks_create_or_update(struct arm_client *c, const char *id, const cJSON *body,
    const struct arm_opts *opts, struct aks_summary *sum, char *err, size_t errlen)
{
	struct arm_response r;
	char *text;
	int rc;

	if (sum != NULL)
		memset(sum, 0, sizeof *sum);
	if (c == NULL || id == NULL || !cJSON_IsObject(body)) {
		util_errf(err, errlen, "aks_create_or_update: bad arguments");
		return AKS_E_INVALID;
	}
	text = cJSON_PrintUnformatted(body);
	if (text == NULL) {
		util_errf(err, errlen, "out of memory");
		return AKS_E_INVALID;
	}
	rc = arm_put(c, id, text, opts, &r);
	free(text);
	if (rc != ARM_OK) {
		rc = call_failed(rc, &r, id, err, errlen);
		arm_response_free(&r);
		return rc;
	}
	if (sum != NULL) {
		cJSON *j = parse_body(&r, "PUT managed cluster", err, errlen);

		rc = j != NULL ? aks_parse_summary(j, sum, err, errlen) : AKS_E_BODY;
		cJSON_Delete(j);
	}
	arm_response_free(&r);
	return rc;
}

static int
lro_call(struct arm_client *c, const char *method, const char *id, const char *suffix,
    const struct arm_opts *opts, char *err, size_t errlen)
{
	struct arm_response r;
	char path[640];
	int rc;

	if (c == NULL || id == NULL || !(id[0] == '/')) {
		util_errf(err, errlen, "%s: bad arguments", method);
		return AKS_E_INVALID;
	}
	if ((size_t)snprintf(path, sizeof path, "%s%s", id, suffix) >= sizeof path) {
		util_errf(err, errlen, "%s: resource id too long", method);
		return AKS_E_INVALID;
	}
	rc = arm_request(c, method, path, NULL, opts, &r);
	if (rc != ARM_OK)
		rc = call_failed(rc, &r, id, err, errlen);
	arm_response_free(&r);
	return rc;
}

int
aks_delete(struct arm_client *c, const char *id, const struct arm_opts *opts, char *err,
    size_t errlen)
{
	return lro_call(c, "DELETE", id, "", opts, err, errlen);
}

int
aks_stop(struct arm_client *c, const char *id, const struct arm_opts *opts, char *err,
    size_t errlen)
{
	return lro_call(c, "POST", id, "/stop", opts, err, errlen);
}

int
aks_start(struct arm_client *c, const char *id, const struct arm_opts *opts, char *err,
    size_t errlen)
{
	return lro_call(c, "POST", id, "/start", opts, err, errlen);
}

/* ---- kubeconfig ------------------------------------------------------------------- */

static int
b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

/* Standard (or URL-safe) base64, whitespace ignored, padding optional.
 * Returns a malloc'd NUL-terminated buffer, or NULL on bad input. */
static char *
b64decode(const char *in, size_t n, size_t *outlen)
{
	char *out = malloc(n / 4 * 3 + 4);
	unsigned int acc = 0;
	int bits = 0, pad = 0;
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int ch = (unsigned char)in[i], v;

		if (isspace(ch))
			continue;
		if (ch == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64val(ch)) < 0) {
			OPENSSL_cleanse(out, n / 4 * 3 + 4);
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (pad > 2 || bits >= 6) {
		OPENSSL_cleanse(out, n / 4 * 3 + 4);
		free(out);
		return NULL;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

void
aks_kubeconfig_free(char *yaml, size_t len)
{
	if (yaml == NULL)
		return;
	OPENSSL_cleanse(yaml, len);
	free(yaml);
}

static void
wipe_response(struct arm_response *r)
{
	if (r->body != NULL)
		OPENSSL_cleanse(r->body, r->body_len);
	arm_response_free(r);
}

int
aks_list_user_credential(struct arm_client *c, const char *id, const struct arm_opts *opts,
    char **yaml, size_t *len, char *err, size_t errlen)
{
	struct arm_response r;
	struct arm_opts o = { 0 };
	char path[640];
	cJSON *j = NULL;
	const cJSON *kcs, *first, *val;
	int rc;

	if (yaml == NULL || len == NULL)
		return AKS_E_INVALID;
	*yaml = NULL;
	*len = 0;
	if (c == NULL || id == NULL
	    || (size_t)snprintf(path, sizeof path, "%s/listClusterUserCredential", id) >= sizeof path) {
		util_errf(err, errlen, "listClusterUserCredential: bad arguments");
		return AKS_E_INVALID;
	}
	if (opts != NULL)
		o = *opts;
	o.idempotent = 1;	/* a read in POST's clothing: safe to repeat */
	rc = arm_post(c, path, NULL, &o, &r);
	if (rc != ARM_OK) {
		rc = call_failed(rc, &r, id, err, errlen);
		wipe_response(&r);
		return rc;
	}
	if (r.body_len > 0)
		j = cJSON_ParseWithLength(r.body, r.body_len);
	wipe_response(&r);
	kcs = cJSON_GetObjectItemCaseSensitive(j, "kubeconfigs");
	first = cJSON_GetArrayItem(kcs, 0);
	val = cJSON_GetObjectItemCaseSensitive(first, "value");
	if (!cJSON_IsString(val) || val->valuestring[0] == '\0') {
		util_errf(err, errlen, "listClusterUserCredential: the answer has no kubeconfigs[0].value");
		rc = AKS_E_BODY;
	} else {
		*yaml = b64decode(val->valuestring, strlen(val->valuestring), len);
		if (*yaml == NULL) {
			util_errf(err, errlen, "listClusterUserCredential: kubeconfigs[0].value is not base64");
			rc = AKS_E_BODY;
		}
	}
	if (cJSON_IsString(val))
		OPENSSL_cleanse(val->valuestring, strlen(val->valuestring));
	cJSON_Delete(j);
	return rc;
}

/* ---- clone blue's spec for green --------------------------------------------------- */

/*
 * What is removed from blue's GET body before it becomes green's PUT body,
 * and why.  "readOnly" means the property carries "readOnly": true in
 * managedClusters.json 2026-08-01 (or in common-types v6 TrackedResource
 * for id, name, type, systemData); ARM ignores or rejects such properties
 * on PUT and they describe blue, not green.  The others are writable but
 * belong to blue alone.
 */
static const char *const drop_top[] = {
	"id", "name", "type", "systemData",	/* readOnly (TrackedResource) */
	"eTag", "etag",				/* ManagedCluster.eTag: readOnly */
};

static const char *const drop_props[] = {
	"provisioningState",	/* readOnly */
	"powerState",		/* readOnly */
	"maxAgentPools",	/* readOnly */
	"currentKubernetesVersion",	/* readOnly */
	"fqdn",			/* readOnly */
	"privateFQDN",		/* readOnly */
	"azurePortalFQDN",	/* readOnly */
	"resourceUID",		/* readOnly */
	"status",		/* ManagedClusterStatus: "Contains read-only information" */
	/* Writable, but blue's own: AKS names the node resource group
	 * MC_{rg}_{name}_{location} when it is absent, which is unique per
	 * cluster; copying blue's would put green's nodes into blue's group
	 * (create fails, or worse, blue's teardown deletes green's nodes). */
	"nodeResourceGroup",
	/* Writable, but each entry is blue's private endpoint
	 * ({blue id}/privateLinkResources/management, privateLinkServiceID is
	 * readOnly); AKS creates green's own for a private cluster. */
	"privateLinkResources",
};

static const char *const drop_pool[] = {
	"eTag",				/* readOnly */
	"provisioningState",		/* readOnly */
	"currentOrchestratorVersion",	/* readOnly */
	/* Writable, but: setting nodeImageVersion "triggers an agentPool
	 * rollback; only values from recentlyUsedVersions are allowed" (spec),
	 * and blue's image belongs to blue's Kubernetes version. */
	"nodeImageVersion",
	/* Writable (a pool can be created Stopped): green's pools must start
	 * Running whatever state blue's are in. */
	"powerState",
	/* Status of blue's pool and of blue's nodes (AgentPoolStatus:
	 * "read-only information"; virtualMachineNodesStatus). */
	"status",
	"virtualMachineNodesStatus",
};

static void
drop_keys(cJSON *o, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(o, keys[i]);
}

static void
note_add(char *note, size_t notelen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
note_add(char *note, size_t notelen, const char *fmt, ...)
{
	va_list ap;
	size_t l;

	if (note == NULL || notelen == 0)
		return;
	l = strlen(note);
	if (l > 0 && l + 2 < notelen) {
		memcpy(note + l, "; ", 3);
		l += 2;
	}
	va_start(ap, fmt);
	vsnprintf(note + l, notelen - l, fmt, ap);
	va_end(ap);
}

/* AKS name: 1-63 alphanumerics, '-' and '_', starting and ending with an
 * alphanumeric (ManagedClusters resourceName pattern in the spec). */
static int
cluster_name_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

/* "1.30" or "1.30.5": digits and dots, starting and ending with a digit. */
static int
version_ok(const char *v)
{
	size_t n = v != NULL ? strlen(v) : 0;
	int dots = 0;

	if (n == 0 || n > 31 || !isdigit((unsigned char)v[0]) || !isdigit((unsigned char)v[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '.') {
			if (v[i + 1] == '.')
				return 0;
			dots++;
		} else if (!isdigit((unsigned char)v[i])) {
			return 0;
		}
	}
	return dots >= 1 && dots <= 2;
}

/* dnsPrefix from the cluster name: letters, digits and '-', starting and
 * ending alphanumeric, at most 54 characters (the portal's and az CLI's
 * rule; AKS rejects other prefixes). */
static void
dns_prefix(const char *name, char *out, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; name[i] != '\0' && o + 1 < n && o < 54; i++) {
		char ch = name[i];

		out[o++] = isalnum((unsigned char)ch) ? ch : '-';
	}
	while (o > 0 && out[o - 1] == '-')
		o--;
	out[o] = '\0';
}

/* Blue's node resource group, lowercase-compared, appears in ID as
 * "/resourceGroups/{it}/". */
static int
in_resource_group(const char *id, const char *rg)
{
	const char *p;
	size_t n;

	if (id == NULL || rg == NULL || *rg == '\0')
		return 0;
	n = strlen(rg);
	for (p = id; (p = strchr(p, '/')) != NULL; p++)
		if (strncasecmp(p, "/resourceGroups/", 16) == 0 && strncasecmp(p + 16, rg, n) == 0
		    && p[16 + n] == '/')
			return 1;
	return 0;
}

cJSON *
aks_clone_spec(const cJSON *blue, const char *green_name, const char *version, char *note,
    size_t notelen, char *err, size_t errlen)
{
	const cJSON *bp, *bpools;
	cJSON *g = NULL, *p, *pools, *ap, *x, *identity;
	char prefix[64];
	const char *blue_nrg;
	int windows = 0;

	if (note != NULL && notelen > 0)
		note[0] = '\0';
	if (!cluster_name_ok(green_name)) {
		util_errf(err, errlen, "green cluster name \"%.80s\" is not a valid AKS name "
		    "(1-63 letters, digits, '-' or '_', starting and ending alphanumeric)",
		    green_name != NULL ? green_name : "");
		return NULL;
	}
	if (!version_ok(version)) {
		util_errf(err, errlen, "Kubernetes version \"%.40s\" is not MAJOR.MINOR[.PATCH]",
		    version != NULL ? version : "");
		return NULL;
	}
	bp = cJSON_GetObjectItemCaseSensitive(blue, "properties");
	bpools = cJSON_GetObjectItemCaseSensitive(bp, "agentPoolProfiles");
	if (!cJSON_IsObject(blue) || !cJSON_IsObject(bp) || !cJSON_IsArray(bpools)
	    || cJSON_GetArraySize(bpools) == 0) {
		util_errf(err, errlen, "blue's managed cluster body has no properties.agentPoolProfiles "
		    "to clone");
		return NULL;
	}
	if (jstr(blue, "location") == NULL) {
		util_errf(err, errlen, "blue's managed cluster body has no location");
		return NULL;
	}
	g = cJSON_Duplicate(blue, 1);
	if (g == NULL)
		goto oom;
	p = cJSON_GetObjectItemCaseSensitive(g, "properties");
	blue_nrg = jstr(bp, "nodeResourceGroup");

	drop_keys(g, drop_top, sizeof drop_top / sizeof drop_top[0]);
	identity = cJSON_GetObjectItemCaseSensitive(g, "identity");
	if (cJSON_IsObject(identity)) {
		cJSON *uai = cJSON_GetObjectItemCaseSensitive(identity, "userAssignedIdentities");

		/* principalId, tenantId: readOnly; delegatedResources: "can only
		 * be set by another Azure Resource Provider". */
		cJSON_DeleteItemFromObjectCaseSensitive(identity, "principalId");
		cJSON_DeleteItemFromObjectCaseSensitive(identity, "tenantId");
		cJSON_DeleteItemFromObjectCaseSensitive(identity, "delegatedResources");
		/* Each value's clientId and principalId are readOnly
		 * (ManagedServiceIdentityUserAssignedIdentitiesValue): the key
		 * alone names the identity, as in the create example's request. */
		cJSON_ArrayForEach(x, uai)
			if (cJSON_IsObject(x)) {
				cJSON_DeleteItemFromObjectCaseSensitive(x, "clientId");
				cJSON_DeleteItemFromObjectCaseSensitive(x, "principalId");
			}
	}

	drop_keys(p, drop_props, sizeof drop_props / sizeof drop_props[0]);
	/* Nested readOnly properties. */
	if ((x = cJSON_GetObjectItemCaseSensitive(p, "oidcIssuerProfile")) != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(x, "issuerURL");
	if ((x = cJSON_GetObjectItemCaseSensitive(p, "networkProfile")) != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(x,
		    "loadBalancerProfile"), "effectiveOutboundIPs");
		cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(x,
		    "natGatewayProfile"), "effectiveOutboundIPs");
	}
	if ((x = cJSON_GetObjectItemCaseSensitive(p, "ingressProfile")) != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(x,
		    "webAppRouting"), "identity");
	if ((x = cJSON_GetObjectItemCaseSensitive(p, "podIdentityProfile")) != NULL) {
		cJSON *e;

		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(x, "userAssignedIdentities")) {
			cJSON_DeleteItemFromObjectCaseSensitive(e, "provisioningState");
			cJSON_DeleteItemFromObjectCaseSensitive(e, "provisioningInfo");
		}
	}
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(p, "addonProfiles")) {
		const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(x, "config");

		cJSON_DeleteItemFromObjectCaseSensitive(x, "identity");	/* readOnly */
		if (x->string != NULL && strcasecmp(x->string, "ingressApplicationGateway") == 0)
			note_add(note, notelen, "add-on ingressApplicationGateway (AGIC) is copied%s%s: "
			    "two AGIC instances writing one gateway overwrite each other",
			    jstr(cfg, "applicationGatewayId") != NULL ? " for gateway " : "",
			    jstr(cfg, "applicationGatewayId") != NULL
			    ? jstr(cfg, "applicationGatewayId") : "");
	}
	/* The kubelet identity: AKS creates one in the node resource group
	 * when identityProfile is absent.  Blue's AKS-made one lives in
	 * blue's node resource group and is deleted with blue, so green must
	 * not borrow it; a user-assigned one elsewhere is kept. */
	if ((x = cJSON_GetObjectItemCaseSensitive(p, "identityProfile")) != NULL) {
		const cJSON *ki = cJSON_GetObjectItemCaseSensitive(x, "kubeletidentity");

		if (blue_nrg != NULL && in_resource_group(jstr(ki, "resourceId"), blue_nrg))
			cJSON_DeleteItemFromObjectCaseSensitive(p, "identityProfile");
	}
	/* A service principal's secret is never returned by GET (the create
	 * example's response has servicePrincipalProfile.clientId only). With
	 * a managed identity the profile is the placeholder "msi" and is left
	 * out. */
	if ((x = cJSON_GetObjectItemCaseSensitive(p, "servicePrincipalProfile")) != NULL) {
		const char *cid = jstr(x, "clientId");

		if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(g, "identity"))
		    || cid == NULL || strcasecmp(cid, "msi") == 0) {
			cJSON_DeleteItemFromObjectCaseSensitive(p, "servicePrincipalProfile");
		} else {
			util_errf(err, errlen, "blue uses service principal %.60s and ARM never returns its "
			    "secret, so its spec cannot be cloned; use a managed identity or "
			    "provision.mode: command", cid);
			cJSON_Delete(g);
			return NULL;
		}
	}

	/* Name-derived DNS: dnsPrefix, or fqdnSubdomain for a private cluster
	 * with a custom private DNS zone (the two are mutually exclusive;
	 * neither can change after creation). */
	dns_prefix(green_name, prefix, sizeof prefix);
	if (jstr(p, "fqdnSubdomain") != NULL && jstr(p, "dnsPrefix") == NULL) {
		cJSON_ReplaceItemInObjectCaseSensitive(p, "fqdnSubdomain", cJSON_CreateString(prefix));
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(p, "dnsPrefix");
		if (cJSON_AddStringToObject(p, "dnsPrefix", prefix) == NULL)
			goto oom;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(p, "kubernetesVersion");
	if (cJSON_AddStringToObject(p, "kubernetesVersion", version) == NULL)
		goto oom;

	pools = cJSON_GetObjectItemCaseSensitive(p, "agentPoolProfiles");
	cJSON_ArrayForEach(ap, pools) {
		const char *os = jstr(ap, "osType");

		if (!cJSON_IsObject(ap))
			continue;
		drop_keys(ap, drop_pool, sizeof drop_pool / sizeof drop_pool[0]);
		cJSON_DeleteItemFromObjectCaseSensitive(ap, "orchestratorVersion");
		if (cJSON_AddStringToObject(ap, "orchestratorVersion", version) == NULL)
			goto oom;
		if (os != NULL && strcasecmp(os, "Windows") == 0)
			windows = 1;
		if (jstr(ap, "vnetSubnetID") != NULL)
			note_add(note, notelen, "pool %s joins blue's subnet %s",
			    jstr(ap, "name") != NULL ? jstr(ap, "name") : "?", jstr(ap, "vnetSubnetID"));
	}
	if (windows && cJSON_GetObjectItemCaseSensitive(p, "windowsProfile") != NULL
	    && jstr(cJSON_GetObjectItemCaseSensitive(p, "windowsProfile"), "adminPassword") == NULL)
		note_add(note, notelen, "windowsProfile.adminPassword is never returned by ARM; "
		    "the create may ask for it");
	return g;
oom:
	cJSON_Delete(g);
	util_errf(err, errlen, "out of memory");
	return NULL;
}
