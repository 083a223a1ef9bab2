/*
 * config.c — reading bgswitch.yaml into struct cfg, strictly.
 *
 * The file is parsed with yamljson (which keeps every node's line:column),
 * then walked section by section.  Each section names the keys it accepts,
 * so an unknown key is reported where it stands, with the keys that would
 * have been valid; each value is checked for type and range where it is
 * read.  The first error stops the load: a switchover config is short, and
 * one precise message beats a page of cascades.
 */
#include "src/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/yamljson.h"

struct ld {
	struct yj_doc *doc;
	char *err;
	size_t errlen;
};

/* Top-level keys are read with the section name "config"; users know them
 * as plain "window" or "name", so the prefix goes. */
static const char *
unprefixed(const char *msg)
{
	if (strncmp(msg, "config.", 7) == 0)
		return msg + 7;
	if (strncmp(msg, "config: ", 8) == 0)
		return msg + 8;
	return msg;
}

static int
fail(struct ld *ld, const cJSON *node, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	yj_errorf(ld->doc, node, ld->err, ld->errlen, "%s", unprefixed(msg));
	return -1;
}

static int
fail_key(struct ld *ld, const cJSON *node, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	yj_key_errorf(ld->doc, node, ld->err, ld->errlen, "%s", unprefixed(msg));
	return -1;
}

static const char *
type_name(const cJSON *v)
{
	if (cJSON_IsString(v)) return "a string";
	if (cJSON_IsNumber(v)) return "a number";
	if (cJSON_IsBool(v)) return "a boolean";
	if (cJSON_IsNull(v)) return "nothing (null)";
	if (cJSON_IsArray(v)) return "a list";
	if (cJSON_IsObject(v)) return "a mapping";
	return "an unknown value";
}

/* Every member of OBJ must be one of KEYS (NULL-terminated). */
static int
known_keys(struct ld *ld, const cJSON *obj, const char *where, const char *const *keys)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, obj) {
		int ok = 0;
		char list[400] = "";

		for (size_t i = 0; keys[i] != NULL; i++) {
			if (strcmp(m->string, keys[i]) == 0)
				ok = 1;
			strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
			strncat(list, keys[i], sizeof list - strlen(list) - 1);
		}
		if (!ok)
			return fail_key(ld, m, "unknown key '%s' in %s (expected one of: %s)",
			    m->string, where, list);
	}
	return 0;
}

static const cJSON *
member(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int
get_map(struct ld *ld, const cJSON *parent, const char *key, const char *where, int required,
    const cJSON **out)
{
	const cJSON *v = member(parent, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v)) {
		if (required)
			return fail(ld, parent, "%s: missing '%s' (a mapping)", where, key);
		return 0;
	}
	if (!cJSON_IsObject(v))
		return fail(ld, v, "%s.%s: expected a mapping, got %s", where, key, type_name(v));
	*out = v;
	return 0;
}

/* Strings: a YAML scalar that typed as a number (version "1.30", a numeric
 * name) is taken as written only when it came from a string; numbers are a
 * type error so that `kubernetes_version: 1.30` (the float 1.3) is caught. */
static int
get_str(struct ld *ld, const cJSON *parent, const char *key, const char *where, int required,
    char **out)
{
	const cJSON *v = member(parent, key);

	if (v == NULL || cJSON_IsNull(v)) {
		if (required)
			return fail(ld, parent, "%s: missing '%s' (a string)", where, key);
		return 0;
	}
	if (!cJSON_IsString(v)) {
		if (cJSON_IsNumber(v))
			return fail(ld, v, "%s.%s: expected a string, got the number %g (quote it: YAML reads "
			    "1.30 as the number 1.3)", where, key, v->valuedouble);
		return fail(ld, v, "%s.%s: expected a string, got %s", where, key, type_name(v));
	}
	if (v->valuestring[0] == '\0' && required)
		return fail(ld, v, "%s.%s: must not be empty", where, key);
	free(*out);
	*out = strdup(v->valuestring);
	return *out != NULL ? 0 : fail(ld, v, "out of memory");
}

static int
get_enum(struct ld *ld, const cJSON *parent, const char *key, const char *where,
    const char *const *names, int dflt, int *out)
{
	const cJSON *v = member(parent, key);
	char list[300] = "";

	*out = dflt;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	for (int i = 0; names[i] != NULL; i++) {
		if (cJSON_IsString(v) && strcmp(v->valuestring, names[i]) == 0) {
			*out = i;
			return 0;
		}
		strncat(list, i ? " | " : "", sizeof list - strlen(list) - 1);
		strncat(list, names[i], sizeof list - strlen(list) - 1);
	}
	if (cJSON_IsString(v))
		return fail(ld, v, "%s.%s: '%s' is not one of %s", where, key, v->valuestring, list);
	return fail(ld, v, "%s.%s: expected one of %s, got %s", where, key, list, type_name(v));
}

static int
get_bool(struct ld *ld, const cJSON *parent, const char *key, const char *where, int *out)
{
	const cJSON *v = member(parent, key);

	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return fail(ld, v, "%s.%s: expected true or false, got %s", where, key, type_name(v));
	*out = cJSON_IsTrue(v);
	return 0;
}

static int
get_int(struct ld *ld, const cJSON *parent, const char *key, const char *where, long lo, long hi,
    int *out)
{
	const cJSON *v = member(parent, key);

	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
		return fail(ld, v, "%s.%s: expected a whole number, got %s", where, key, type_name(v));
	if (v->valuedouble < (double)lo || v->valuedouble > (double)hi)
		return fail(ld, v, "%s.%s: %g is out of range (%ld..%ld)", where, key, v->valuedouble, lo, hi);
	*out = (int)v->valuedouble;
	return 0;
}

static int
get_number(struct ld *ld, const cJSON *parent, const char *key, const char *where, double *out,
    int *has)
{
	const cJSON *v = member(parent, key);

	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return fail(ld, v, "%s.%s: expected a number, got %s", where, key, type_name(v));
	*out = v->valuedouble;
	if (has != NULL)
		*has = 1;
	return 0;
}

int
cfg_parse_duration(const char *s, long *ms)
{
	double total = 0;
	const char *p = s;
	int parts = 0;

	if (s == NULL || *s == '\0')
		return -1;
	while (*p != '\0') {
		char *end;
		double v;

		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno != 0 || v < 0)
			return -1;
		p = end;
		if (strncmp(p, "ms", 2) == 0) {
			total += v;
			p += 2;
		} else if (*p == 's') {
			total += v * 1000;
			p++;
		} else if (*p == 'm') {
			total += v * 60000;
			p++;
		} else if (*p == 'h') {
			total += v * 3600000;
			p++;
		} else if (*p == '\0' && parts == 0) {
			total += v * 1000;	/* a bare number is seconds */
		} else {
			return -1;
		}
		parts++;
	}
	if (total > 365.0 * 24 * 3600000)
		return -1;
	*ms = (long)(total + 0.5);
	return 0;
}

static int
get_duration(struct ld *ld, const cJSON *parent, const char *key, const char *where, long *out)
{
	const cJSON *v = member(parent, key);

	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v) && v->valuedouble >= 0) {
		*out = (long)(v->valuedouble * 1000);	/* seconds */
		return 0;
	}
	if (!cJSON_IsString(v) || cfg_parse_duration(v->valuestring, out) != 0)
		return fail(ld, v, "%s.%s: expected a duration like 300ms, 30s, 5m or 1h30m, got %s%s%s",
		    where, key, cJSON_IsString(v) ? "'" : "",
		    cJSON_IsString(v) ? v->valuestring : type_name(v), cJSON_IsString(v) ? "'" : "");
	return 0;
}

static void
free_strv(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

/* A list of strings (also used for argv); scalars that typed as numbers or
 * booleans are taken as written, since argv entries like `-var=1` or `2`
 * are strings to the program that receives them. */
static int
get_strv(struct ld *ld, const cJSON *parent, const char *key, const char *where, int required,
    char ***out)
{
	const cJSON *v = member(parent, key), *it;
	size_t n, i = 0;
	char **arr;

	if (v == NULL || cJSON_IsNull(v)) {
		if (required)
			return fail(ld, parent, "%s: missing '%s' (a list of strings)", where, key);
		return 0;
	}
	if (!cJSON_IsArray(v))
		return fail(ld, v, "%s.%s: expected a list of strings, got %s", where, key, type_name(v));
	n = (size_t)cJSON_GetArraySize(v);
	if (n == 0 && required)
		return fail(ld, v, "%s.%s: must not be empty", where, key);
	arr = calloc(n + 1, sizeof *arr);
	if (arr == NULL)
		return fail(ld, v, "out of memory");
	cJSON_ArrayForEach(it, v) {
		char num[64];

		if (cJSON_IsString(it)) {
			arr[i] = strdup(it->valuestring);
		} else if (cJSON_IsNumber(it)) {
			snprintf(num, sizeof num, "%.17g", it->valuedouble);
			arr[i] = strdup(num);
		} else if (cJSON_IsBool(it)) {
			arr[i] = strdup(cJSON_IsTrue(it) ? "true" : "false");
		} else {
			free_strv(arr);
			return fail(ld, it, "%s.%s[%zu]: expected a string, got %s", where, key, i, type_name(it));
		}
		if (arr[i] == NULL) {
			free_strv(arr);
			return fail(ld, it, "out of memory");
		}
		i++;
	}
	free_strv(*out);
	*out = arr;
	return 0;
}

/* ---- sections -------------------------------------------------------------- */

static const char *const cred_names[] = {
	"default", "environment", "workload-identity", "managed-identity", "azure-cli", NULL,
};

static int
load_azure(struct ld *ld, const cJSON *root, struct cfg *c)
{
	static const char *const keys[] = {
		"cloud", "authority_host", "resource_manager", "ca_file", "tenant", "subscription",
		"resource_group", "credential", NULL,
	};
	static const char *const clouds[] = { "AzureCloud", "AzureUSGovernment", "AzureChinaCloud", NULL };
	const cJSON *a;
	int cloud = 0, cred = 0;

	if (get_map(ld, root, "azure", "config", 1, &a) != 0 || known_keys(ld, a, "azure", keys) != 0)
		return -1;
	if (get_enum(ld, a, "cloud", "azure", clouds, 0, &cloud) != 0)
		return -1;
	c->azure.cloud = strdup(clouds[cloud]);
	if (get_str(ld, a, "authority_host", "azure", 0, &c->azure.authority_host) != 0
	    || get_str(ld, a, "resource_manager", "azure", 0, &c->azure.resource_manager) != 0
	    || get_str(ld, a, "ca_file", "azure", 0, &c->azure.ca_file) != 0
	    || get_str(ld, a, "tenant", "azure", 0, &c->azure.tenant) != 0
	    || get_str(ld, a, "subscription", "azure", 1, &c->azure.subscription) != 0
	    || get_str(ld, a, "resource_group", "azure", 1, &c->azure.resource_group) != 0
	    || get_enum(ld, a, "credential", "azure", cred_names, 0, &cred) != 0)
		return -1;
	c->azure.credential = (enum cfg_credential)cred;
	/* Endpoints carry tokens: they must be https, except loopback (the
	 * simulator) — the HTTP layer enforces it again at request time. */
	const char *eps[] = { c->azure.authority_host, c->azure.resource_manager };
	const char *names[] = { "authority_host", "resource_manager" };
	for (int i = 0; i < 2; i++) {
		if (eps[i] != NULL && strncmp(eps[i], "https://", 8) != 0
		    && strncmp(eps[i], "http://127.", 11) != 0 && strncmp(eps[i], "http://localhost", 16) != 0
		    && strncmp(eps[i], "http://[::1]", 12) != 0)
			return fail(ld, member(a, names[i]),
			    "azure.%s: expected an https:// URL (plain http only to loopback), got '%s'",
			    names[i], eps[i]);
	}
	return 0;
}

static int
load_cluster(struct ld *ld, const cJSON *clusters, const char *role, struct cfg_cluster *cl)
{
	static const char *const keys[] = { "name", "kubeconfig", "context", "kubernetes_version", NULL };
	char where[32];
	const cJSON *m;

	snprintf(where, sizeof where, "clusters.%s", role);
	if (get_map(ld, clusters, role, "clusters", 1, &m) != 0 || known_keys(ld, m, where, keys) != 0)
		return -1;
	return get_str(ld, m, "name", where, 1, &cl->name) != 0
	    || get_str(ld, m, "kubeconfig", where, 0, &cl->kubeconfig) != 0
	    || get_str(ld, m, "context", where, 0, &cl->context) != 0
	    || get_str(ld, m, "kubernetes_version", where, 0, &cl->kubernetes_version) != 0 ? -1 : 0;
}

static int
load_clusters(struct ld *ld, const cJSON *root, struct cfg *c)
{
	static const char *const keys[] = { "blue", "green", NULL };
	const cJSON *m;

	if (get_map(ld, root, "clusters", "config", 1, &m) != 0 || known_keys(ld, m, "clusters", keys) != 0
	    || load_cluster(ld, m, "blue", &c->clusters[CFG_BLUE]) != 0
	    || load_cluster(ld, m, "green", &c->clusters[CFG_GREEN]) != 0)
		return -1;
	if (strcmp(c->clusters[CFG_BLUE].name, c->clusters[CFG_GREEN].name) == 0)
		return fail(ld, member(member(m, "green"), "name"),
		    "clusters.green.name: must differ from clusters.blue.name ('%s')", c->clusters[CFG_BLUE].name);
	return 0;
}

static int
load_provision(struct ld *ld, const cJSON *root, struct cfg *c)
{
	static const char *const keys[] = { "mode", "command", NULL };
	static const char *const modes[] = { "arm-clone", "command", NULL };
	const cJSON *m;
	int mode = 0;

	if (get_map(ld, root, "provision", "config", 0, &m) != 0 || m == NULL)
		return 0;
	if (known_keys(ld, m, "provision", keys) != 0 || get_enum(ld, m, "mode", "provision", modes, 0, &mode) != 0
	    || get_strv(ld, m, "command", "provision", mode == CFG_PROVISION_COMMAND, &c->provision.command) != 0)
		return -1;
	c->provision.mode = (enum cfg_provision_mode)mode;
	return 0;
}

static int
load_sync(struct ld *ld, const cJSON *root, struct cfg *c)
{
	static const char *const keys[] = { "mode", "namespaces", "kinds", "freeze", "command", NULL };
	static const char *const modes[] = { "copy", "gitops", "command", NULL };
	const cJSON *m;
	int mode = 0;

	if (get_map(ld, root, "sync", "config", 0, &m) != 0 || m == NULL)
		return 0;
	if (known_keys(ld, m, "sync", keys) != 0 || get_enum(ld, m, "mode", "sync", modes, 0, &mode) != 0)
		return -1;
	c->sync.mode = (enum cfg_sync_mode)mode;
	if (get_strv(ld, m, "namespaces", "sync", mode == CFG_SYNC_COPY, &c->sync.namespaces) != 0
	    || get_strv(ld, m, "kinds", "sync", 0, &c->sync.kinds) != 0
	    || get_bool(ld, m, "freeze", "sync", &c->sync.freeze) != 0
	    || get_strv(ld, m, "command", "sync", mode == CFG_SYNC_COMMAND, &c->sync.command) != 0)
		return -1;
	/* A freeze names what it freezes; kube-system is AKS's own, where a
	 * denied write stops the platform repairing itself. */
	if (c->sync.freeze) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(m, "freeze");

		if (c->sync.namespaces == NULL || c->sync.namespaces[0] == NULL)
			return fail(ld, f, "sync.freeze: needs sync.namespaces (the namespaces to freeze on blue)");
		for (char **ns = c->sync.namespaces; *ns != NULL; ns++)
			if (strcmp(*ns, "kube-system") == 0)
				return fail(ld, f, "sync.freeze: kube-system cannot be frozen; leave it out of "
				    "sync.namespaces or set freeze: false");
	}
	return 0;
}

static int
load_gateway(struct ld *ld, const cJSON *t, struct cfg *c)
{
	static const char *const keys[] = { "name", "rule", "blue_pool", "green_pool", "steps", "soak", NULL };
	const cJSON *g, *steps, *it;
	int prev = 0;

	if (get_map(ld, t, "gateway", "traffic", 0, &g) != 0)
		return -1;
	if (g == NULL)
		return 0;
	c->gateway.has_gateway = 1;
	c->gateway.soak_ms = 5 * 60000;
	if (known_keys(ld, g, "traffic.gateway", keys) != 0
	    || get_str(ld, g, "name", "traffic.gateway", 1, &c->gateway.name) != 0
	    || get_str(ld, g, "rule", "traffic.gateway", 1, &c->gateway.rule) != 0
	    || get_str(ld, g, "blue_pool", "traffic.gateway", 1, &c->gateway.blue_pool) != 0
	    || get_str(ld, g, "green_pool", "traffic.gateway", 1, &c->gateway.green_pool) != 0
	    || get_duration(ld, g, "soak", "traffic.gateway", &c->gateway.soak_ms) != 0)
		return -1;
	if (strcmp(c->gateway.blue_pool, c->gateway.green_pool) == 0)
		return fail(ld, member(g, "green_pool"), "traffic.gateway.green_pool: must differ from blue_pool");
	steps = member(g, "steps");
	if (steps == NULL || cJSON_IsNull(steps)) {
		c->gateway.steps[0] = 100;
		c->gateway.nsteps = 1;
		return 0;
	}
	if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) == 0)
		return fail(ld, steps, "traffic.gateway.steps: expected a list of percentages like [10, 50, 100]");
	cJSON_ArrayForEach(it, steps) {
		if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble)
		    || it->valuedouble < 1 || it->valuedouble > 100)
			return fail(ld, it, "traffic.gateway.steps: each step is a whole percentage 1..100");
		if ((int)it->valuedouble <= prev)
			return fail(ld, it, "traffic.gateway.steps: steps must increase (%d after %d)",
			    (int)it->valuedouble, prev);
		if (c->gateway.nsteps >= (int)(sizeof c->gateway.steps / sizeof c->gateway.steps[0]))
			return fail(ld, it, "traffic.gateway.steps: at most 16 steps");
		prev = (int)it->valuedouble;
		c->gateway.steps[c->gateway.nsteps++] = prev;
	}
	if (prev != 100)
		return fail(ld, steps, "traffic.gateway.steps: the last step must be 100 (all traffic on green)");
	return 0;
}

static int
load_dns(struct ld *ld, const cJSON *t, struct cfg *c)
{
	static const char *const keys[] = {
		"zone", "record", "type", "blue_target", "green_target", "when", "ttl", NULL,
	};
	static const char *const types[] = { "A", "CNAME", NULL };
	static const char *const whens[] = { "after-gateway", "before-gateway", "only", NULL };
	const cJSON *d;
	int type = 0, when = 0;

	if (get_map(ld, t, "dns", "traffic", 0, &d) != 0)
		return -1;
	if (d == NULL)
		return 0;
	c->dns.has_dns = 1;
	if (known_keys(ld, d, "traffic.dns", keys) != 0
	    || get_str(ld, d, "zone", "traffic.dns", 1, &c->dns.zone) != 0
	    || get_str(ld, d, "record", "traffic.dns", 1, &c->dns.record) != 0
	    || get_enum(ld, d, "type", "traffic.dns", types, 0, &type) != 0
	    || get_str(ld, d, "blue_target", "traffic.dns", 1, &c->dns.blue_target) != 0
	    || get_str(ld, d, "green_target", "traffic.dns", 1, &c->dns.green_target) != 0
	    || get_enum(ld, d, "when", "traffic.dns", whens, 0, &when) != 0
	    || get_int(ld, d, "ttl", "traffic.dns", 0, 2147483647, &c->dns.ttl) != 0)
		return -1;
	c->dns.type = strdup(types[type]);
	c->dns.when = (enum cfg_dns_when)when;
	return 0;
}

static int
load_traffic(struct ld *ld, const cJSON *root, struct cfg *c)
{
	static const char *const keys[] = { "gateway", "dns", NULL };
	const cJSON *t;

	if (get_map(ld, root, "traffic", "config", 1, &t) != 0 || known_keys(ld, t, "traffic", keys) != 0
	    || load_gateway(ld, t, c) != 0 || load_dns(ld, t, c) != 0)
		return -1;
	if (!c->gateway.has_gateway && !c->dns.has_dns)
		return fail(ld, t, "traffic: needs a gateway, a dns record, or both");
	if (c->dns.has_dns && c->dns.when != CFG_DNS_ONLY && !c->gateway.has_gateway)
		return fail(ld, member(member(t, "dns"), "when") != NULL ? member(member(t, "dns"), "when")
		    : member(t, "dns"), "traffic.dns.when: without a gateway, when must be 'only'");
	return 0;
}

static const char *const check_types[] = {
	"nodes-ready", "pods-ready", "deployments-available", "http", "backend-health", "metric",
	"command", NULL,
};

static int
load_gates(struct ld *ld, const cJSON *chk, const char *where, unsigned *out)
{
	static const char *const gates[] = { "provision", "sync", "switch", "window", "teardown", NULL };
	const cJSON *v = member(chk, "gates"), *it;

	*out = 0;
	if (v == NULL || cJSON_IsNull(v))
		return fail(ld, chk, "%s: missing 'gates' (a list of: provision, sync, switch, window, teardown)", where);
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
		return fail(ld, v, "%s.gates: expected a list of: provision, sync, switch, window, teardown", where);
	cJSON_ArrayForEach(it, v) {
		int found = -1;

		for (int i = 0; gates[i] != NULL; i++)
			if (cJSON_IsString(it) && strcmp(it->valuestring, gates[i]) == 0)
				found = i;
		if (found < 0)
			return fail(ld, it, "%s.gates: '%s' is not a gate (provision, sync, switch, window, teardown)",
			    where, cJSON_IsString(it) ? it->valuestring : type_name(it));
		*out |= 1u << found;
	}
	return 0;
}

static int
load_check(struct ld *ld, const cJSON *chk, size_t i, struct cfg_check *k)
{
	static const char *const keys[] = {
		"name", "type", "cluster", "gates", "interval", "timeout", "success_threshold",
		"failure_threshold", "rollback_on_fail", "namespaces", "allowed_not_ready", "url",
		"expect_status", "body_contains", "max_latency", "resolve", "ca_file", "metric",
		"filter", "aggregation", "window", "max", "min", "command", NULL,
	};
	static const char *const roles[] = { "blue", "green", NULL };
	char where[64];
	int type = 0, role = CFG_GREEN;

	snprintf(where, sizeof where, "checks[%zu]", i);
	if (!cJSON_IsObject(chk))
		return fail(ld, chk, "%s: expected a mapping with name, type and gates", where);
	if (known_keys(ld, chk, where, keys) != 0 || get_str(ld, chk, "name", where, 1, &k->name) != 0)
		return -1;
	if (member(chk, "type") == NULL)
		return fail(ld, chk, "%s: missing 'type' (nodes-ready | pods-ready | deployments-available | "
		    "http | backend-health | metric | command)", where);
	if (get_enum(ld, chk, "type", where, check_types, 0, &type) != 0)
		return -1;
	k->type = (enum cfg_check_type)type;
	k->interval_ms = 10000;
	k->timeout_ms = 10000;
	k->success_threshold = 1;
	k->failure_threshold = 1;
	k->expect_status = 200;
	if (get_enum(ld, chk, "cluster", where, roles, CFG_GREEN, &role) != 0)
		return -1;
	k->cluster = (enum cfg_role)role;
	k->has_cluster = member(chk, "cluster") != NULL;
	if (load_gates(ld, chk, where, &k->gates) != 0
	    || get_duration(ld, chk, "interval", where, &k->interval_ms) != 0
	    || get_duration(ld, chk, "timeout", where, &k->timeout_ms) != 0
	    || get_int(ld, chk, "success_threshold", where, 1, 1000, &k->success_threshold) != 0
	    || get_int(ld, chk, "failure_threshold", where, 1, 1000, &k->failure_threshold) != 0
	    || get_int(ld, chk, "rollback_on_fail", where, 0, 1000, &k->rollback_on_fail) != 0
	    || get_strv(ld, chk, "namespaces", where, 0, &k->namespaces) != 0
	    || get_int(ld, chk, "allowed_not_ready", where, 0, 1000000, &k->allowed_not_ready) != 0
	    || get_str(ld, chk, "url", where, type == CFG_CHECK_HTTP, &k->url) != 0
	    || get_int(ld, chk, "expect_status", where, 100, 599, &k->expect_status) != 0
	    || get_str(ld, chk, "body_contains", where, 0, &k->body_contains) != 0
	    || get_duration(ld, chk, "max_latency", where, &k->max_latency_ms) != 0
	    || get_str(ld, chk, "resolve", where, 0, &k->resolve) != 0
	    || get_str(ld, chk, "ca_file", where, 0, &k->ca_file) != 0
	    || get_str(ld, chk, "metric", where, type == CFG_CHECK_METRIC, &k->metric) != 0
	    || get_str(ld, chk, "filter", where, 0, &k->filter) != 0
	    || get_str(ld, chk, "aggregation", where, 0, &k->aggregation) != 0
	    || get_duration(ld, chk, "window", where, &k->window_ms) != 0
	    || get_number(ld, chk, "max", where, &k->max, &k->has_max) != 0
	    || get_number(ld, chk, "min", where, &k->min, &k->has_min) != 0
	    || get_strv(ld, chk, "command", where, type == CFG_CHECK_COMMAND, &k->command) != 0)
		return -1;
	if (type == CFG_CHECK_METRIC && !k->has_max && !k->has_min)
		return fail(ld, chk, "%s: a metric check needs 'max' or 'min' (the threshold)", where);
	if (k->url != NULL && strncmp(k->url, "https://", 8) != 0 && strncmp(k->url, "http://", 7) != 0)
		return fail(ld, member(chk, "url"), "%s.url: expected an http:// or https:// URL", where);
	if (k->aggregation != NULL) {
		static const char *const aggs[] = { "Average", "Count", "Maximum", "Minimum", "Total", NULL };
		int ok = 0;
		for (int j = 0; aggs[j] != NULL; j++)
			ok |= strcmp(k->aggregation, aggs[j]) == 0;
		if (!ok)
			return fail(ld, member(chk, "aggregation"),
			    "%s.aggregation: '%s' is not one of Average | Count | Maximum | Minimum | Total",
			    where, k->aggregation);
	}
	return 0;
}

static int
load_checks(struct ld *ld, const cJSON *root, struct cfg *c)
{
	const cJSON *v = member(root, "checks"), *it;
	size_t i = 0;

	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return fail(ld, v, "checks: expected a list of checks, got %s", type_name(v));
	c->nchecks = (size_t)cJSON_GetArraySize(v);
	c->checks = calloc(c->nchecks ? c->nchecks : 1, sizeof *c->checks);
	if (c->checks == NULL)
		return fail(ld, v, "out of memory");
	cJSON_ArrayForEach(it, v) {
		if (load_check(ld, it, i, &c->checks[i]) != 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->checks[j].name, c->checks[i].name) == 0)
				return fail(ld, member(it, "name"), "checks[%zu].name: '%s' is already the name of checks[%zu]",
				    i, c->checks[i].name, j);
		i++;
	}
	return 0;
}

static int
load_teardown(struct ld *ld, const cJSON *root, struct cfg *c)
{
	static const char *const keys[] = { "mode", "command", NULL };
	static const char *const modes[] = { "delete", "stop", "command", "keep", NULL };
	const cJSON *m;
	int mode = 0;

	if (get_map(ld, root, "teardown", "config", 0, &m) != 0 || m == NULL)
		return 0;
	if (known_keys(ld, m, "teardown", keys) != 0 || get_enum(ld, m, "mode", "teardown", modes, 0, &mode) != 0
	    || get_strv(ld, m, "command", "teardown", mode == CFG_TEARDOWN_COMMAND, &c->teardown.command) != 0)
		return -1;
	c->teardown.mode = (enum cfg_teardown_mode)mode;
	return 0;
}

static int
load_root(struct ld *ld, const cJSON *root, struct cfg *c)
{
	static const char *const keys[] = {
		"name", "azure", "clusters", "provision", "sync", "traffic", "checks", "window", "teardown",
		"theme", NULL,
	};

	if (!cJSON_IsObject(root))
		return fail(ld, root, "expected a mapping with name, azure, clusters, traffic, ...");
	c->window_ms = 30 * 60000;
	if (known_keys(ld, root, "the config", keys) != 0 || get_str(ld, root, "name", "config", 1, &c->name) != 0)
		return -1;
	/* The name is used in file names (journal, lock) and a Lease name. */
	for (const char *p = c->name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return fail(ld, member(root, "name"),
			    "name: '%s' may only hold letters, digits, '-', '_' and '.'", c->name);
	return load_azure(ld, root, c) != 0 || load_clusters(ld, root, c) != 0
	    || load_provision(ld, root, c) != 0 || load_sync(ld, root, c) != 0
	    || load_traffic(ld, root, c) != 0 || load_checks(ld, root, c) != 0
	    || get_duration(ld, root, "window", "config", &c->window_ms) != 0
	    || load_teardown(ld, root, c) != 0
	    || get_str(ld, root, "theme", "config", 0, &c->theme) != 0 ? -1 : 0;
}

static int
load_doc(struct yj_doc *doc, const char *name, struct cfg *c, char *err, size_t errlen)
{
	struct ld ld = { doc, err, errlen };

	if (yj_count(doc) != 1) {
		snprintf(err, errlen, "%s: expected exactly one YAML document, found %zu", name, yj_count(doc));
		return -1;
	}
	c->path = strdup(name);
	if (load_root(&ld, yj_root(doc, 0), c) != 0) {
		cfg_free(c);
		return -1;
	}
	return 0;
}

int
cfg_load(const char *path, struct cfg *c, char *err, size_t errlen)
{
	struct yj_error yerr;
	struct yj_doc *doc;
	int rc;

	memset(c, 0, sizeof *c);
	doc = yj_parse_file(path, &yerr);
	if (doc == NULL) {
		snprintf(err, errlen, "%s", yerr.msg);
		return -1;
	}
	rc = load_doc(doc, path, c, err, errlen);
	yj_free(doc);
	return rc;
}

int
cfg_load_text(const char *text, size_t len, const char *name, struct cfg *c, char *err, size_t errlen)
{
	struct yj_error yerr;
	struct yj_doc *doc;
	int rc;

	memset(c, 0, sizeof *c);
	doc = yj_parse(text, len, name, &yerr);
	if (doc == NULL) {
		snprintf(err, errlen, "%s", yerr.msg);
		return -1;
	}
	rc = load_doc(doc, name, c, err, errlen);
	yj_free(doc);
	return rc;
}

void
cfg_free(struct cfg *c)
{
	free(c->path);
	free(c->name);
	free(c->theme);
	free(c->azure.cloud);
	free(c->azure.authority_host);
	free(c->azure.resource_manager);
	free(c->azure.ca_file);
	free(c->azure.tenant);
	free(c->azure.subscription);
	free(c->azure.resource_group);
	for (int i = 0; i < 2; i++) {
		free(c->clusters[i].name);
		free(c->clusters[i].kubeconfig);
		free(c->clusters[i].context);
		free(c->clusters[i].kubernetes_version);
	}
	free_strv(c->provision.command);
	free_strv(c->sync.namespaces);
	free_strv(c->sync.kinds);
	free_strv(c->sync.command);
	free(c->gateway.name);
	free(c->gateway.rule);
	free(c->gateway.blue_pool);
	free(c->gateway.green_pool);
	free(c->dns.zone);
	free(c->dns.record);
	free(c->dns.type);
	free(c->dns.blue_target);
	free(c->dns.green_target);
	for (size_t i = 0; i < c->nchecks; i++) {
		struct cfg_check *k = &c->checks[i];
		free(k->name);
		free_strv(k->namespaces);
		free(k->url);
		free(k->body_contains);
		free(k->resolve);
		free(k->ca_file);
		free(k->metric);
		free(k->filter);
		free(k->aggregation);
		free_strv(k->command);
	}
	free(c->checks);
	free_strv(c->teardown.command);
	memset(c, 0, sizeof *c);
}

const char *
cfg_role_name(enum cfg_role r)
{
	return r == CFG_BLUE ? "blue" : "green";
}

const char *
cfg_check_type_name(enum cfg_check_type t)
{
	return (unsigned)t < sizeof check_types / sizeof check_types[0] - 1 ? check_types[t] : "?";
}

const char *
cfg_credential_name(enum cfg_credential c)
{
	return (unsigned)c < sizeof cred_names / sizeof cred_names[0] - 1 ? cred_names[c] : "?";
}
