/*
 * cmd_preflight.c — `bgswitch preflight -c FILE`: everything a switchover
 * will need, checked before it starts, as a table of pass/fail lines.
 *
 * A run that fails at step 2 of the traffic switch because nobody may write
 * the gateway is the worst time to learn it, so preflight tries, without
 * changing anything, each thing a run relies on: the config, a token, the
 * ARM reads of both clusters, the gateway rule and the DNS record, the
 * Azure RBAC actions the configured stages will perform (from
 * Microsoft.Authorization/permissions), and each cluster's API server with
 * SelfSubjectAccessReviews for the verbs the sync, the lock and the freeze
 * use.  Checks are independent where they can be: a failed check never hides
 * the others unless they cannot run without it, and those are listed as
 * skipped rather than dropped, because a check that did not run has not
 * passed (PRODUCT.md §6).  Nothing is written anywhere.
 *
 * Exit status: 0 every check passed, 1 a check failed, 2 bad usage or a
 * config that does not load.
 */
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "azure/aks.h"
#include "azure/appgw.h"
#include "azure/authz.h"
#include "azure/pdns.h"
#include "kube/kube_client.h"
#include "src/cli.h"
#include "src/config.h"
#include "src/freeze.h"
#include "src/conn.h"
#include "src/http.h"
#include "src/lock.h"
#include "src/log.h"

#define DEFAULT_TIMEOUT_MS	60000L
#define KUBE_CALL_TIMEOUT_MS	15000L	/* one Kubernetes request; an API server in an
					 * outage accepts and never answers */
#define REVIEW_THREADS		8	/* access reviews in flight per cluster */
#define NAME_WIDTH		26
#define MAX_LISTED		4	/* denied reviews named in one line */

enum pf_state { PF_PASS, PF_FAIL, PF_SKIP };

struct pf_result {
	char *check, *detail, *fix;
	enum pf_state state;
};

/* One preflight run. */
struct pf {
	const struct cfg *cfg;
	struct conn conn;
	int conn_ok;		/* conn_open() succeeded */
	int arm_ok;		/* a token for ARM was issued */
	char oid[64];		/* the token's principal (object id), "" if unknown */
	char principal_type[24];	/* "ServicePrincipal", "User" or "" */
	int exists[2];		/* per role: 1 exists, 0 absent, -1 unknown */
	struct linked {		/* resources a gateway write links to */
		char id[512];
		const char *action;
	} linked[8];
	size_t nlinked;
	long long deadline;	/* http_now_ms() clock */
	int json, utf8;
	struct pf_result *res;
	size_t n, cap;
	int oom;
};

/* ---- results ------------------------------------------------------------ */

static void
appendf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Appends to the string in BUF, cutting what does not fit: details and
 * fixes are messages, and a long list losing its tail is fine. */
static void
appendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

static void
print_result(const struct pf *p, const struct pf_result *r)
{
	static const char *const utf8_marks[] = { "\xe2\x9c\x93 PASS", "\xe2\x9c\x97 FAIL",
	    "- SKIP" };
	static const char *const ascii_marks[] = { "ok    ", "FAIL  ", "skip  " };
	const char *mark = (p->utf8 ? utf8_marks : ascii_marks)[r->state];

	if (r->state == PF_FAIL) {
		/* The reason and the fix get lines of their own: a failure is
		 * what the operator reads, so it must not be cut by a wrap. */
		printf("%s  %s\n", mark, r->check);
		if (r->detail[0] != '\0')
			printf("        %s\n", r->detail);
		if (r->fix != NULL)
			printf("        fix: %s\n", r->fix);
	} else if (strlen(r->check) > NAME_WIDTH) {
		/* Long names (permission actions) keep their detail below them
		 * rather than push it past the edge of an 80-column terminal. */
		printf("%s  %s\n        %s\n", mark, r->check, r->detail);
	} else {
		printf("%s  %-*s  %s\n", mark, NAME_WIDTH, r->check, r->detail);
	}
	fflush(stdout);
}

static void
add(struct pf *p, enum pf_state st, const char *check, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Records one check's outcome (and prints it at once in table mode, so that
 * a slow API server shows which check it holds up). */
static void
add(struct pf *p, enum pf_state st, const char *check, const char *fix, const char *fmt, ...)
{
	struct pf_result *r;
	char detail[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct pf_result *v = realloc(p->res, cap * sizeof *v);

		if (v == NULL) {
			p->oom = 1;
			return;
		}
		p->res = v;
		p->cap = cap;
	}
	r = &p->res[p->n];
	r->state = st;
	r->check = strdup(check);
	r->detail = strdup(detail);
	r->fix = fix != NULL && fix[0] != '\0' ? strdup(fix) : NULL;
	if (r->check == NULL || r->detail == NULL || (fix != NULL && fix[0] != '\0' && r->fix == NULL)) {
		free(r->check);
		free(r->detail);
		free(r->fix);
		p->oom = 1;
		return;
	}
	p->n++;
	log_info("preflight", "%s %s: %s", st == PF_PASS ? "PASS" : st == PF_FAIL ? "FAIL" : "SKIP",
	    check, detail);
	if (!p->json)
		print_result(p, r);
}

static void
results_free(struct pf *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->res[i].check);
		free(p->res[i].detail);
		free(p->res[i].fix);
	}
	free(p->res);
	p->res = NULL;
	p->n = p->cap = 0;
}

/* The --json form: [{check, ok, detail, fix}], plus "skipped": true on a
 * check that could not run (its ok is false: it did not pass). */
static int
print_json(const struct pf *p)
{
	cJSON *a = cJSON_CreateArray();
	char *s;

	for (size_t i = 0; a != NULL && i < p->n; i++) {
		const struct pf_result *r = &p->res[i];
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			a = NULL;
			break;
		}
		cJSON_AddStringToObject(o, "check", r->check);
		cJSON_AddBoolToObject(o, "ok", r->state == PF_PASS);
		cJSON_AddStringToObject(o, "detail", r->detail);
		if (r->fix != NULL)
			cJSON_AddStringToObject(o, "fix", r->fix);
		else
			cJSON_AddNullToObject(o, "fix");
		if (r->state == PF_SKIP)
			cJSON_AddTrueToObject(o, "skipped");
	}
	s = a != NULL ? cJSON_Print(a) : NULL;
	cJSON_Delete(a);
	if (s == NULL) {
		fprintf(stderr, "bgswitch preflight: out of memory\n");
		return -1;
	}
	printf("%s\n", s);
	free(s);
	return 0;
}

/* ---- config and credential -------------------------------------------------- */

static void
check_config_summary(struct pf *p)
{
	const struct cfg *c = p->cfg;
	char traffic[512] = "";

	if (c->gateway.has_gateway)
		snprintf(traffic, sizeof traffic, ", gateway %s/%s", c->gateway.name, c->gateway.rule);
	if (c->dns.has_dns)
		appendf(traffic, sizeof traffic,
		    ", dns %s.%s %s", c->dns.record, c->dns.zone, c->dns.type);
	add(p, PF_PASS, "config", NULL, "%s: blue %s, green %s%s", c->name, c->clusters[CFG_BLUE].name,
	    c->clusters[CFG_GREEN].name, traffic);
}

/* What to do about a failed token request, from Entra's AADSTS code when
 * there is one (the credential module puts it in the message). */
static const char *
credential_fix(const struct cfg *c, const char *err)
{
	static const struct {
		const char *code, *fix;
	} codes[] = {
		{ "AADSTS7000215", "the client secret is wrong: set AZURE_CLIENT_SECRET to a current "
		    "secret of the application AZURE_CLIENT_ID (az ad app credential reset makes one)" },
		{ "AADSTS7000222", "the client secret has expired: create a new one (az ad app "
		    "credential reset) and set AZURE_CLIENT_SECRET" },
		{ "AADSTS700016", "the application AZURE_CLIENT_ID is not known in this tenant: check "
		    "AZURE_CLIENT_ID and azure.tenant / AZURE_TENANT_ID" },
		{ "AADSTS90002", "the tenant does not exist: check azure.tenant / AZURE_TENANT_ID and "
		    "azure.cloud" },
		{ "AADSTS700024", "the client assertion has expired: check the clock of this machine" },
		{ "AADSTS700027", "the certificate is not registered on the application or does not match "
		    "its key: check AZURE_CLIENT_CERTIFICATE_PATH" },
		{ "AADSTS700213", "no federated identity credential of the application matches this "
		    "token's issuer and subject: check the app's federated credentials" },
		{ "AADSTS70021", "no federated identity credential of the application matches this "
		    "token's issuer and subject: check the app's federated credentials" },
	};

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (strstr(err, codes[i].code) != NULL)
			return codes[i].fix;
	switch (c->azure.credential) {
	case CFG_CRED_ENVIRONMENT:
		return "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or "
		    "AZURE_CLIENT_CERTIFICATE_PATH) for a service principal";
	case CFG_CRED_WORKLOAD_IDENTITY:
		return "run where AKS workload identity injects AZURE_FEDERATED_TOKEN_FILE, "
		    "AZURE_CLIENT_ID and AZURE_TENANT_ID (a service account with the "
		    "azure.workload.identity/client-id annotation)";
	case CFG_CRED_MANAGED_IDENTITY:
		return "run on an Azure host with a managed identity assigned (AZURE_CLIENT_ID "
		    "selects a user-assigned one)";
	case CFG_CRED_AZURE_CLI:
		return "run az login (az account get-access-token must work in this shell)";
	case CFG_CRED_DEFAULT:
		break;
	}
	return "set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or run az login";
}

/* Who the token was issued to, from its payload, so that a permission fix
 * can name the principal to grant the role to (the oid claim is the object
 * id `az role assignment create --assignee-object-id` takes).  The token
 * is not verified here: this is for a message, never for a decision.
 * LABEL gets "app APPID" or the user's name; "" when the token says
 * nothing usable. */
static void
token_principal(struct pf *p, const char *tok, char *label, size_t labellen)
{
	const char *dot1 = strchr(tok, '.'), *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
	const cJSON *oid, *typ, *appid, *upn;
	unsigned char *bin;
	char *b64;
	size_t len, pad;
	int n;
	cJSON *claims;

	label[0] = '\0';
	if (dot2 == NULL || dot2 - dot1 - 1 <= 0 || dot2 - dot1 - 1 > 8192)
		return;
	len = (size_t)(dot2 - dot1 - 1);
	pad = (4 - len % 4) % 4;
	b64 = malloc(len + pad + 1);
	bin = malloc(len + pad + 1);
	if (b64 == NULL || bin == NULL) {
		free(b64);
		free(bin);
		return;
	}
	for (size_t i = 0; i < len; i++)
		b64[i] = dot1[1 + i] == '-' ? '+' : dot1[1 + i] == '_' ? '/' : dot1[1 + i];
	memset(b64 + len, '=', pad);
	b64[len + pad] = '\0';
	n = EVP_DecodeBlock(bin, (const unsigned char *)b64, (int)(len + pad));
	claims = n > (int)pad ? cJSON_ParseWithLength((const char *)bin, (size_t)n - pad) : NULL;
	OPENSSL_cleanse(b64, len + pad);
	OPENSSL_cleanse(bin, len + pad);
	free(b64);
	free(bin);
	oid = cJSON_GetObjectItemCaseSensitive(claims, "oid");
	typ = cJSON_GetObjectItemCaseSensitive(claims, "idtyp");
	appid = cJSON_GetObjectItemCaseSensitive(claims, "appid");
	upn = cJSON_GetObjectItemCaseSensitive(claims, "upn");
	if (!cJSON_IsString(upn))
		upn = cJSON_GetObjectItemCaseSensitive(claims, "unique_name");
	if (cJSON_IsString(oid))
		snprintf(p->oid, sizeof p->oid, "%s", oid->valuestring);
	if (cJSON_IsString(typ))
		snprintf(p->principal_type, sizeof p->principal_type, "%s",
		    strcmp(typ->valuestring, "app") == 0 ? "ServicePrincipal"
		    : strcmp(typ->valuestring, "user") == 0 ? "User" : "");
	if (cJSON_IsString(upn))
		snprintf(label, labellen, "user %s", upn->valuestring);
	else if (cJSON_IsString(appid))
		snprintf(label, labellen, "app %s", appid->valuestring);
	cJSON_Delete(claims);
}

static void
check_credential(struct pf *p, const char *open_err)
{
	char tok[16384], err[2048], who[320];
	long long exp = 0;

	if (!p->conn_ok) {
		add(p, PF_FAIL, "credential", credential_fix(p->cfg, open_err), "%s", open_err);
		return;
	}
	if (az_cred_token(p->conn.cred, p->conn.ep.arm_scope, tok, sizeof tok, &exp, err,
	    sizeof err) != 0) {
		OPENSSL_cleanse(tok, sizeof tok);
		add(p, PF_FAIL, "credential", credential_fix(p->cfg, err), "%s", err);
		return;
	}
	token_principal(p, tok, who, sizeof who);
	OPENSSL_cleanse(tok, sizeof tok);
	p->arm_ok = 1;
	add(p, PF_PASS, "credential", NULL, "%s (%s)%s%s%s%s", az_cred_name(p->conn.cred),
	    az_cred_method(p->conn.cred), who[0] ? ", " : "", who, p->oid[0] ? ", object id " : "",
	    p->oid);
}

/* ---- ARM reads ------------------------------------------------------------ */

static struct arm_opts
arm_opts_for(const struct pf *p)
{
	struct arm_opts o = { 0 };

	o.deadline_ms = p->deadline;
	return o;
}

/* What to do about a failed ARM read, from its return code and message. */
static void
arm_fix(const struct pf *p, int rc, const char *err, char *fix, size_t n)
{
	const struct cfg *c = p->cfg;

	if (rc == ARM_E_TIMEOUT)
		snprintf(fix, n, "Resource Manager did not answer before the deadline: check network "
		    "access to %s, or give more time with --timeout", p->conn.ep.resource_manager);
	else if (rc == ARM_E_TRANSPORT)
		snprintf(fix, n, "check network access (proxy, firewall, TLS trust) to %s",
		    p->conn.ep.resource_manager);
	else if (strstr(err, "AuthorizationFailed") != NULL || strstr(err, " 403") != NULL)
		snprintf(fix, n, "grant the credential read access (e.g. the Reader role) on resource "
		    "group %s", c->azure.resource_group);
	else if (strstr(err, "SubscriptionNotFound") != NULL
	    || strstr(err, "ResourceGroupNotFound") != NULL)
		snprintf(fix, n, "check azure.subscription and azure.resource_group in %s", c->path);
	else
		snprintf(fix, n, "see the Resource Manager error above; check azure.subscription (%s) and "
		    "azure.resource_group (%s)", c->azure.subscription, c->azure.resource_group);
}

static void
skip_arm(struct pf *p, const char *check)
{
	add(p, PF_SKIP, check, NULL, "needs a Resource Manager token (see credential)");
}

static void
check_cluster(struct pf *p, enum cfg_role role)
{
	const struct cfg *c = p->cfg;
	const char *name = c->clusters[role].name;
	struct arm_opts o = arm_opts_for(p);
	struct aks_summary s;
	char check[64], err[2048], fix[1024];
	const char *ver;
	int rc;

	snprintf(check, sizeof check, "%s cluster", cfg_role_name(role));
	p->exists[role] = -1;
	if (!p->arm_ok) {
		skip_arm(p, check);
		return;
	}
	memset(&s, 0, sizeof s);
	rc = aks_get(p->conn.arm, p->conn.cluster_id[role], &o, NULL, &s, err, sizeof err);
	if (rc == AKS_E_NOT_FOUND) {
		p->exists[role] = 0;
		if (role == CFG_GREEN) {
			add(p, PF_PASS, check, NULL, "%s: not created yet (T1 will create it)", name);
		} else {
			snprintf(fix, sizeof fix, "check clusters.blue.name, azure.subscription and "
			    "azure.resource_group in %s (az aks list -g %s)", c->path,
			    c->azure.resource_group);
			add(p, PF_FAIL, check, fix, "%s does not exist in resource group %s", name,
			    c->azure.resource_group);
		}
		return;
	}
	if (rc != ARM_OK) {
		arm_fix(p, rc, err, fix, sizeof fix);
		add(p, PF_FAIL, check, fix, "%s: %s", name, err);
		return;
	}
	p->exists[role] = 1;
	ver = s.current_kubernetes_version[0] ? s.current_kubernetes_version : s.kubernetes_version;
	if (role == CFG_BLUE) {
		if (strcmp(s.provisioning_state, "Succeeded") != 0) {
			snprintf(fix, sizeof fix, "wait for the operation on %s to end, or repair it "
			    "(az aks show -g %s -n %s shows why)", name, c->azure.resource_group, name);
			add(p, PF_FAIL, check, fix, "%s: provisioningState %s (Succeeded needed), power %s",
			    name, s.provisioning_state[0] ? s.provisioning_state : "(none)",
			    s.power_state[0] ? s.power_state : "(none)");
		} else if (strcmp(s.power_state, "Running") != 0) {
			snprintf(fix, sizeof fix, "start it: az aks start -g %s -n %s",
			    c->azure.resource_group, name);
			add(p, PF_FAIL, check, fix, "%s: power state %s (Running needed)", name,
			    s.power_state[0] ? s.power_state : "(none)");
		} else {
			add(p, PF_PASS, check, NULL, "%s: %s/%s, Kubernetes %s, %zu node pool%s", name,
			    s.provisioning_state, s.power_state, ver, s.npools, s.npools == 1 ? "" : "s");
		}
	} else if (strcmp(s.provisioning_state, "Failed") == 0
	    || strcmp(s.provisioning_state, "Canceled") == 0) {
		snprintf(fix, sizeof fix, "a failed green cannot be built on: delete it (az aks delete "
		    "-g %s -n %s) or repair it, then run preflight again", c->azure.resource_group, name);
		add(p, PF_FAIL, check, fix, "%s exists with provisioningState %s", name,
		    s.provisioning_state);
	} else {
		const char *want = c->clusters[CFG_GREEN].kubernetes_version;

		add(p, PF_PASS, check, NULL, "%s exists: %s/%s, Kubernetes %s%s%s%s", name,
		    s.provisioning_state, s.power_state[0] ? s.power_state : "(none)", ver,
		    want != NULL ? " (config asks " : "", want != NULL ? want : "",
		    want != NULL ? ")" : "");
	}
	aks_summary_free(&s);
}

static void
add_linked(struct pf *p, const cJSON *ref, const char *action)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(ref, "id");

	if (!cJSON_IsString(id) || id->valuestring[0] == '\0'
	    || p->nlinked == sizeof p->linked / sizeof p->linked[0])
		return;
	for (size_t i = 0; i < p->nlinked; i++)
		if (p->linked[i].action == action && strcasecmp(p->linked[i].id, id->valuestring) == 0)
			return;
	snprintf(p->linked[p->nlinked].id, sizeof p->linked[0].id, "%s", id->valuestring);
	p->linked[p->nlinked].action = action;
	p->nlinked++;
}

/* A PUT of the gateway is also authorized against what it references:
 * ARM answers 403 LinkedAuthorizationFailed unless the caller may join its
 * subnet, public IP and WAF policy ("Application Gateway infrastructure
 * configuration", Permissions: "Use existing" needs .../join/action), even
 * though bgswitch changes none of them.  Collected here, checked with the
 * other permissions. */
static void
collect_linked(struct pf *p, const cJSON *props)
{
	static const char subnet_join[] = "Microsoft.Network/virtualNetworks/subnets/join/action";
	static const char pip_join[] = "Microsoft.Network/publicIPAddresses/join/action";
	static const char waf_join[] =
	    "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/join/action";
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(props, "gatewayIPConfigurations"))
		add_linked(p, cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(e, "properties"), "subnet"), subnet_join);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(props, "frontendIPConfigurations")) {
		const cJSON *fp = cJSON_GetObjectItemCaseSensitive(e, "properties");

		add_linked(p, cJSON_GetObjectItemCaseSensitive(fp, "subnet"), subnet_join);
		add_linked(p, cJSON_GetObjectItemCaseSensitive(fp, "publicIPAddress"), pip_join);
	}
	add_linked(p, cJSON_GetObjectItemCaseSensitive(props, "firewallPolicy"), waf_join);
}

static void
check_gateway(struct pf *p)
{
	const struct cfg *c = p->cfg;
	struct arm_opts o = arm_opts_for(p);
	struct appgw_target t = { p->conn.gateway_id, c->gateway.rule, c->gateway.blue_pool,
	    c->gateway.green_pool };
	struct appgw_weights w;
	cJSON *gw = NULL;
	const cJSON *props, *ps, *os;
	char err[2048], fix[1024], etag[256], others[256] = "";
	int rc;

	if (!c->gateway.has_gateway)
		return;
	if (!p->arm_ok) {
		skip_arm(p, "gateway");
		skip_arm(p, "gateway rule");
		return;
	}
	rc = appgw_get(p->conn.arm, p->conn.gateway_id, &o, &gw, etag, sizeof etag, err, sizeof err);
	if (rc != ARM_OK) {
		if (rc == APPGW_E_NOT_FOUND)
			snprintf(fix, sizeof fix, "check traffic.gateway.name in %s (az network "
			    "application-gateway list -g %s)", c->path, c->azure.resource_group);
		else
			arm_fix(p, rc, err, fix, sizeof fix);
		add(p, PF_FAIL, "gateway", fix, "%s", err);
		add(p, PF_SKIP, "gateway rule", NULL, "needs the gateway");
		return;
	}
	props = cJSON_GetObjectItemCaseSensitive(gw, "properties");
	collect_linked(p, props);
	ps = cJSON_GetObjectItemCaseSensitive(props, "provisioningState");
	os = cJSON_GetObjectItemCaseSensitive(props, "operationalState");
	if (cJSON_IsString(ps) && strcmp(ps->valuestring, "Failed") == 0) {
		snprintf(fix, sizeof fix, "repair the gateway first (az network application-gateway "
		    "show -g %s -n %s); a PUT to a failed gateway is refused", c->azure.resource_group,
		    c->gateway.name);
		add(p, PF_FAIL, "gateway", fix, "%s: provisioningState Failed", c->gateway.name);
	} else {
		add(p, PF_PASS, "gateway", NULL, "%s: %s, %s", c->gateway.name,
		    cJSON_IsString(ps) ? ps->valuestring : "(no provisioningState)",
		    cJSON_IsString(os) ? os->valuestring : "(no operationalState)");
	}
	rc = appgw_weights(gw, &t, &w, err, sizeof err);
	cJSON_Delete(gw);
	if (rc != 0) {
		snprintf(fix, sizeof fix, rc == APPGW_E_UNSUPPORTED
		    ? "bgswitch drives a Basic rule with a backend pool or a load distribution policy: "
		      "point traffic.gateway.rule at such a rule"
		    : "check traffic.gateway.rule, blue_pool and green_pool in %s against the gateway",
		    c->path);
		add(p, PF_FAIL, "gateway rule", fix, "%s", err);
		return;
	}
	if (w.nother > 0)
		snprintf(others, sizeof others, "; %d other pool%s in the rule (%s%s)", w.nother,
		    w.nother == 1 ? "" : "s", w.other[0].name, w.nother > 1 ? ", ..." : "");
	add(p, PF_PASS, "gateway rule", NULL, "%s: pools %s, %s found; weights blue %d, green %d "
	    "(%.0f %% / %.0f %% of traffic)%s", w.rule, c->gateway.blue_pool, c->gateway.green_pool,
	    w.blue.weight, w.green.weight, w.blue.share, w.green.share, others);
}

static void
check_dns(struct pf *p)
{
	const struct cfg *c = p->cfg;
	struct arm_opts o = arm_opts_for(p);
	struct pdns_record rec;
	char err[2048], fix[1024], fqdn[300], targets[600] = "";
	const char *to;
	int rc;

	if (!c->dns.has_dns)
		return;
	if (!p->arm_ok) {
		skip_arm(p, "dns record");
		return;
	}
	rc = pdns_get(p->conn.arm, p->conn.dns_id, &o, &rec, NULL, err, sizeof err);
	if (rc == PDNS_E_NOT_FOUND) {
		/* A record of the other type under the same name is the usual
		 * cause: say so rather than "not found". */
		const char *other = strcmp(c->dns.type, "A") == 0 ? "CNAME" : "A";
		char id[512];
		struct pdns_record alt;
		char aerr[512];

		if (pdns_record_id(id, sizeof id, c->azure.subscription, c->azure.resource_group,
		    c->dns.zone, other, c->dns.record) == 0
		    && pdns_get(p->conn.arm, id, &o, &alt, NULL, aerr, sizeof aerr) == ARM_OK) {
			snprintf(fix, sizeof fix, "set traffic.dns.type: %s (and its targets) in %s",
			    other, c->path);
			add(p, PF_FAIL, "dns record", fix, "%s.%s is a %s record, the config says %s",
			    c->dns.record, c->dns.zone, other, c->dns.type);
		} else {
			snprintf(fix, sizeof fix, "check traffic.dns.zone and record in %s (az network "
			    "private-dns record-set list -g %s -z %s)", c->path, c->azure.resource_group,
			    c->dns.zone);
			add(p, PF_FAIL, "dns record", fix, "%s", err);
		}
		return;
	}
	if (rc != ARM_OK) {
		arm_fix(p, rc, err, fix, sizeof fix);
		add(p, PF_FAIL, "dns record", fix, "%s", err);
		return;
	}
	snprintf(fqdn, sizeof fqdn, "%s", rec.fqdn[0] ? rec.fqdn : c->dns.record);
	if (fqdn[0] != '\0' && fqdn[strlen(fqdn) - 1] == '.')
		fqdn[strlen(fqdn) - 1] = '\0';
	for (int i = 0; i < rec.ntargets; i++)
		appendf(targets, sizeof targets, "%s%s",
		    i ? "," : "", rec.targets[i]);
	to = pdns_points_to(&rec, c->dns.blue_target, c->dns.green_target);
	if (strcasecmp(rec.type, c->dns.type) != 0) {
		snprintf(fix, sizeof fix, "set traffic.dns.type: %s in %s", rec.type, c->path);
		add(p, PF_FAIL, "dns record", fix, "%s is %s, the config says %s", fqdn, rec.type,
		    c->dns.type);
	} else if (rec.auto_registered) {
		add(p, PF_FAIL, "dns record", "use a record bgswitch may own: auto-registered records "
		    "belong to the virtual network link and cannot be changed", "%s is auto-registered",
		    fqdn);
	} else if (strcmp(to, "other") == 0) {
		/* Rollback restores what was there before; a target that is
		 * neither blue's nor green's means the config describes a
		 * different world than the one serving traffic. */
		snprintf(fix, sizeof fix, "make traffic.dns.blue_target (%s) or green_target (%s) "
		    "match the record, or correct the record", c->dns.blue_target, c->dns.green_target);
		add(p, PF_FAIL, "dns record", fix, "%s %s %s points at neither blue nor green", fqdn,
		    rec.type, targets[0] ? targets : "(no target)");
	} else {
		add(p, PF_PASS, "dns record", NULL, "%s %s %s (points at %s), ttl %lld", fqdn, rec.type,
		    targets, to, rec.ttl);
	}
}

/* ---- Azure RBAC ------------------------------------------------------------
 *
 * Action names: "Azure permissions for Containers" (Microsoft.ContainerService),
 * "Azure permissions for Networking" (Microsoft.Network) and "Azure
 * permissions for Monitor" (Microsoft.Insights),
 * https://learn.microsoft.com/azure/role-based-access-control/permissions/
 * {containers,networking,monitor}, which the list of every provider's
 * operations ("Azure resource provider operations",
 * .../role-based-access-control/resource-provider-operations) links to.
 * RBAC compares them case-insensitively (authz.h).
 */

struct need {
	const char *action;
	char why[160];
	const char *role;	/* a built-in role that grants it, for the fix */
};

static size_t
needed_actions(const struct cfg *c, struct need *v, size_t max)
{
	size_t n = 0;
	int metric = 0;

#define NEED(act, role_, ...) do { \
		if (n < max) { \
			v[n].action = (act); \
			v[n].role = (role_); \
			snprintf(v[n].why, sizeof v[n].why, __VA_ARGS__); \
			n++; \
		} \
	} while (0)

	if (c->provision.mode == CFG_PROVISION_ARM_CLONE)
		NEED("Microsoft.ContainerService/managedClusters/write", "Contributor",
		    "provision (arm-clone), which creates %s", c->clusters[CFG_GREEN].name);
	if (c->teardown.mode == CFG_TEARDOWN_DELETE)
		NEED("Microsoft.ContainerService/managedClusters/delete", "Contributor",
		    "teardown (delete), which deletes blue");
	else if (c->teardown.mode == CFG_TEARDOWN_STOP)
		NEED("Microsoft.ContainerService/managedClusters/stop/action", "Contributor",
		    "teardown (stop), which stops blue");
	for (int r = 0; r < 2; r++)
		if (c->clusters[r].kubeconfig == NULL) {
			NEED("Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
			    "Azure Kubernetes Service Cluster User Role",
			    "the Kubernetes credential of %s (no kubeconfig in the config)",
			    r == CFG_BLUE && c->clusters[CFG_GREEN].kubeconfig == NULL ? "blue and green"
			    : cfg_role_name((enum cfg_role)r));
			break;
		}
	if (c->gateway.has_gateway) {
		NEED("Microsoft.Network/applicationGateways/write", "Network Contributor",
		    "the traffic switch, which writes the weights of %s", c->gateway.name);
		NEED("Microsoft.Network/applicationGateways/backendhealth/action", "Network Contributor",
		    "the backend health of both pools (screen and checks)");
	}
	if (c->dns.has_dns)
		NEED(strcmp(c->dns.type, "CNAME") == 0 ? "Microsoft.Network/privateDnsZones/CNAME/write"
		    : "Microsoft.Network/privateDnsZones/A/write", "Private DNS Zone Contributor",
		    "the traffic switch, which points %s.%s at green", c->dns.record, c->dns.zone);
	for (size_t i = 0; i < c->nchecks; i++)
		if (c->checks[i].type == CFG_CHECK_METRIC)
			metric = 1;
	if (metric)
		NEED("Microsoft.Insights/metrics/read", "Monitoring Reader",
		    "the metric checks (gateway metrics)");
#undef NEED
	return n;
}

/* "/subscriptions/S/resourceGroups/R/..." into SUB and RG; 0 or -1. */
static int
id_scope(const char *id, char *sub, size_t subn, char *rg, size_t rgn)
{
	const char *s = strncasecmp(id, "/subscriptions/", 15) == 0 ? id + 15 : NULL, *r;
	size_t sl, rl;

	if (s == NULL || (r = strchr(s, '/')) == NULL || strncasecmp(r, "/resourceGroups/", 16) != 0)
		return -1;
	sl = (size_t)(r - s);
	r += 16;
	rl = strcspn(r, "/");
	if (sl == 0 || sl >= subn || rl == 0 || rl >= rgn)
		return -1;
	memcpy(sub, s, sl);
	sub[sl] = '\0';
	memcpy(rg, r, rl);
	rg[rl] = '\0';
	return 0;
}

/* The join actions a gateway write needs (collect_linked), one line per
 * action over every resource it applies to.  A resource in another
 * resource group is checked against that group's permissions. */
static void
check_linked(struct pf *p, const struct authz_perms *home)
{
	const struct cfg *c = p->cfg;

	for (size_t i = 0; i < p->nlinked; i++) {
		char check[160], granted[768] = "", denied[768] = "", fix[1024], label[200];
		char dsub[64] = "", drg[128] = "";
		int dup = 0;

		for (size_t j = 0; j < i; j++)
			if (p->linked[j].action == p->linked[i].action)
				dup = 1;
		if (dup)
			continue;
		for (size_t j = i; j < p->nlinked; j++) {
			const struct linked *l = &p->linked[j];
			struct authz_perms other = { 0 };
			const struct authz_perms *perms = home;
			char sub[64], rg[128], err[1024];
			int ok;

			if (l->action != p->linked[i].action)
				continue;
			arm_resource_label(l->id, label, sizeof label);
			if (id_scope(l->id, sub, sizeof sub, rg, sizeof rg) != 0) {
				appendf(denied, sizeof denied, "%s%s "
				    "(not a resource id)", denied[0] ? "; " : "", l->id);
				continue;
			}
			if (strcasecmp(sub, c->azure.subscription) != 0
			    || strcasecmp(rg, c->azure.resource_group) != 0) {
				struct arm_opts o = arm_opts_for(p);

				if (authz_get(p->conn.arm, sub, rg, &o, &other, err, sizeof err) != 0) {
					appendf(denied, sizeof denied,
					    "%s%s (cannot read permissions in %s: %s)", denied[0] ? "; " : "",
					    label, rg, err);
					continue;
				}
				perms = &other;
			}
			ok = authz_allowed(perms, l->action);
			authz_free(&other);
			if (ok) {
				appendf(granted, sizeof granted, "%s%s",
				    granted[0] ? ", " : "", label);
			} else {
				appendf(denied, sizeof denied, "%s%s",
				    denied[0] ? "; " : "", label);
				if (dsub[0] == '\0') {
					snprintf(dsub, sizeof dsub, "%s", sub);
					snprintf(drg, sizeof drg, "%s", rg);
				}
			}
		}
		snprintf(check, sizeof check, "permission %s", p->linked[i].action);
		if (denied[0] == '\0') {
			add(p, PF_PASS, check, NULL, "granted on %s; needed by every gateway write, "
			    "which links it", granted);
			continue;
		}
		if (dsub[0] != '\0' && p->oid[0] != '\0')
			snprintf(fix, sizeof fix, "give the credential a role that has it where the "
			    "resource lives, e.g.: az role assignment create --assignee-object-id %s%s%s "
			    "--role \"Network Contributor\" --scope /subscriptions/%s/resourceGroups/%s",
			    p->oid, p->principal_type[0] ? " --assignee-principal-type " : "",
			    p->principal_type, dsub, drg);
		else
			snprintf(fix, sizeof fix, "grant %s on the resource group of the linked resource "
			    "(e.g. Network Contributor)", p->linked[i].action);
		add(p, PF_FAIL, check, fix, "not granted on %s; every gateway write links it and "
		    "ARM refuses the write (LinkedAuthorizationFailed) without it", denied);
	}
}

/* The grant, as the command an owner of the resource group would run. */
static void
permission_fix(const struct pf *p, const struct need *nd, char *fix, size_t n)
{
	const struct cfg *c = p->cfg;

	if (p->oid[0] == '\0') {
		snprintf(fix, n, "grant %s on resource group %s to this %s credential with a role "
		    "that has it, e.g. %s", nd->action, c->azure.resource_group,
		    az_cred_name(p->conn.cred), nd->role);
		return;
	}
	snprintf(fix, n, "give the credential a role that has it, e.g.: az role assignment create "
	    "--assignee-object-id %s%s%s --role \"%s\" --scope /subscriptions/%s/resourceGroups/%s",
	    p->oid, p->principal_type[0] ? " --assignee-principal-type " : "", p->principal_type,
	    nd->role, c->azure.subscription, c->azure.resource_group);
}

static void
check_permissions(struct pf *p)
{
	const struct cfg *c = p->cfg;
	struct need need[16];
	size_t n = needed_actions(c, need, sizeof need / sizeof need[0]);
	struct authz_perms perms = { 0 };
	struct arm_opts o = arm_opts_for(p);
	char check[160], err[2048], fix[1024];
	int rc;

	/* Without the list, the actions get one line between them, not one
	 * "skipped" line each: the cause is what the operator needs to see. */
	if (!p->arm_ok) {
		add(p, PF_SKIP, "permissions", NULL, "needs a Resource Manager token (see credential); "
		    "%zu action%s not checked", n, n == 1 ? "" : "s");
		return;
	}
	rc = authz_get(p->conn.arm, c->azure.subscription, c->azure.resource_group, &o, &perms, err,
	    sizeof err);
	if (rc != 0) {
		if (strstr(err, "AuthorizationFailed") != NULL || strstr(err, " 403") != NULL)
			snprintf(fix, sizeof fix, "grant Microsoft.Authorization/permissions/read on %s "
			    "(the Reader role has it)", c->azure.resource_group);
		else
			arm_fix(p, rc, err, fix, sizeof fix);
		add(p, PF_FAIL, "permissions", fix, "cannot read the caller's permissions (%zu "
		    "action%s not checked): %s", n, n == 1 ? "" : "s", err);
		return;
	}
	add(p, PF_PASS, "permissions", NULL, "%d role assignment entr%s in %s; deny assignments "
	    "and conditions are not visible here", cJSON_GetArraySize(perms.entries),
	    cJSON_GetArraySize(perms.entries) == 1 ? "y" : "ies", c->azure.resource_group);
	for (size_t i = 0; i < n; i++) {
		snprintf(check, sizeof check, "permission %s", need[i].action);
		if (authz_allowed(&perms, need[i].action)) {
			add(p, PF_PASS, check, NULL, "granted; needed by %s", need[i].why);
		} else {
			permission_fix(p, &need[i], fix, sizeof fix);
			add(p, PF_FAIL, check, fix, "not granted in %s; needed by %s",
			    c->azure.resource_group, need[i].why);
		}
	}
	check_linked(p, &perms);
	authz_free(&perms);
}

/* ---- Kubernetes ------------------------------------------------------------- */

/* The API resource of a kind, for access reviews.  Built-in kinds come from
 * this table; others (custom resources) from the server's discovery. */
struct kind_res {
	const char *kind, *group, *resource;
};

static const struct kind_res builtin_kinds[] = {
	{ "ConfigMap", "", "configmaps" },
	{ "Secret", "", "secrets" },
	{ "ServiceAccount", "", "serviceaccounts" },
	{ "Service", "", "services" },
	{ "PersistentVolumeClaim", "", "persistentvolumeclaims" },
	{ "LimitRange", "", "limitranges" },
	{ "ResourceQuota", "", "resourcequotas" },
	{ "Endpoints", "", "endpoints" },
	{ "Deployment", "apps", "deployments" },
	{ "StatefulSet", "apps", "statefulsets" },
	{ "DaemonSet", "apps", "daemonsets" },
	{ "ReplicaSet", "apps", "replicasets" },
	{ "Job", "batch", "jobs" },
	{ "CronJob", "batch", "cronjobs" },
	{ "Ingress", "networking.k8s.io", "ingresses" },
	{ "NetworkPolicy", "networking.k8s.io", "networkpolicies" },
	{ "Role", "rbac.authorization.k8s.io", "roles" },
	{ "RoleBinding", "rbac.authorization.k8s.io", "rolebindings" },
	{ "HorizontalPodAutoscaler", "autoscaling", "horizontalpodautoscalers" },
	{ "PodDisruptionBudget", "policy", "poddisruptionbudgets" },
};

/* The kinds the copy sync reads when sync.kinds is not set (the example in
 * PRODUCT.md §3). */
static const char *const default_kinds[] = {
	"ConfigMap", "Secret", "ServiceAccount", "Service", "Deployment", "Ingress", NULL,
};

struct resolved_kind {
	const char *kind;
	char group[128], resource[128];
	int found;
	int cluster_scoped;	/* reviewed once, without a namespace */
};

static long
kube_timeout(const struct pf *p)
{
	long long left = p->deadline - http_now_ms();

	if (left < 1)
		left = 1;
	return left < KUBE_CALL_TIMEOUT_MS ? (long)left : KUBE_CALL_TIMEOUT_MS;
}

static void
kube_call_init(const struct pf *p, struct kube_call *call)
{
	memset(call, 0, sizeof *call);
	call->timeout_ms = kube_timeout(p);
	call->deadline_ms = p->deadline;
}

/* Searches one discovery document (APIResourceList) for KIND. */
static int
find_in_resource_list(const cJSON *list, const char *kind, const char *group,
    struct resolved_kind *rk)
{
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(list, "resources"), *r;

	cJSON_ArrayForEach(r, res) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(r, "kind");
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(r, "name");

		if (cJSON_IsString(k) && cJSON_IsString(nm) && strcmp(k->valuestring, kind) == 0
		    && strchr(nm->valuestring, '/') == NULL) {
			snprintf(rk->group, sizeof rk->group, "%s", group);
			snprintf(rk->resource, sizeof rk->resource, "%s", nm->valuestring);
			rk->cluster_scoped = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r,
			    "namespaced"));
			rk->found = 1;
			return 1;
		}
	}
	return 0;
}

/* Finds KIND through legacy discovery: the core group (/api/v1), then each
 * group's preferred version (/apis).  Returns 0 (rk->found says whether
 * it is served) or -1 with ERR. */
static int
discover_kind(const struct pf *p, struct kube_client *kc, struct resolved_kind *rk, char *err,
    size_t errlen)
{
	struct kube_call call;
	cJSON *groups = NULL, *list = NULL;
	const cJSON *g;

	kube_call_init(p, &call);
	if (kube_get(kc, "/api/v1", &list, &call) != 0) {
		snprintf(err, errlen, "discovery: %s", call.error);
		return -1;
	}
	if (find_in_resource_list(list, rk->kind, "", rk)) {
		cJSON_Delete(list);
		return 0;
	}
	cJSON_Delete(list);
	kube_call_init(p, &call);
	if (kube_get(kc, "/apis", &groups, &call) != 0) {
		snprintf(err, errlen, "discovery: %s", call.error);
		return -1;
	}
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(groups, "groups")) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(g, "name");
		const cJSON *pv = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(g, "preferredVersion"), "groupVersion");
		char path[512];
		int hit;

		if (!cJSON_IsString(nm) || !cJSON_IsString(pv))
			continue;
		snprintf(path, sizeof path, "/apis/%s", pv->valuestring);
		kube_call_init(p, &call);
		list = NULL;
		/* An aggregated API that is down answers 503 here; the kind is
		 * then reported as not served, which is what a sync would find. */
		if (kube_get(kc, path, &list, &call) != 0)
			continue;
		hit = find_in_resource_list(list, rk->kind, nm->valuestring, rk);
		cJSON_Delete(list);
		if (hit)
			break;
	}
	cJSON_Delete(groups);
	return 0;
}

/* One access review, run by a worker thread. */
struct review {
	const char *verb, *group, *resource, *kind, *ns;	/* borrowed */
	bool allowed;
	int failed;
	char error[KUBE_ERROR_MAX];
};

struct review_batch {
	const struct pf *p;
	struct kube_client *kc;
	struct review *v;
	size_t n, next;
	pthread_mutex_t mu;
};

static void *
review_worker(void *arg)
{
	struct review_batch *b = arg;

	for (;;) {
		struct kube_call call;
		struct review *r;
		size_t i;

		pthread_mutex_lock(&b->mu);
		i = b->next++;
		pthread_mutex_unlock(&b->mu);
		if (i >= b->n)
			break;
		r = &b->v[i];
		kube_call_init(b->p, &call);
		if (kube_can_i(b->kc, r->verb, r->group, r->resource, r->ns, &r->allowed, NULL, 0,
		    &call) != 0) {
			r->failed = 1;
			snprintf(r->error, sizeof r->error, "%s", call.error);
		}
	}
	return NULL;
}

/* Runs the reviews a few at a time: a hundred round trips one after the
 * other to a distant API server would take longer than the rest of
 * preflight together. */
static void
run_reviews(const struct pf *p, struct kube_client *kc, struct review *v, size_t n)
{
	struct review_batch b = { p, kc, v, n, 0, PTHREAD_MUTEX_INITIALIZER };
	pthread_t th[REVIEW_THREADS];
	size_t nth = n < REVIEW_THREADS ? n : REVIEW_THREADS, started = 0;

	for (; started < nth; started++)
		if (pthread_create(&th[started], NULL, review_worker, &b) != 0)
			break;
	if (started == 0)
		review_worker(&b);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&b.mu);
}

/* Adds one check line for reviews V[0..N-1]: PASS when every one is
 * allowed; else FAIL naming the first denied (or failed) ones, the fix
 * saying how to confirm with kubectl.  UNRESOLVED names kinds that could
 * not be mapped to a resource (they fail the line too). */
static void
report_reviews(struct pf *p, const char *check, const struct conn_kube *k, const struct review *v,
    size_t n, const char *unresolved, const char *summary)
{
	char detail[1536] = "", fix[2048], one[256];
	const struct review *first = NULL;
	size_t bad = 0, listed = 0;
	const char *ctx = k->target.context != NULL ? k->target.context : "";

	for (size_t i = 0; i < n; i++) {
		if (v[i].allowed && !v[i].failed)
			continue;
		bad++;
		if (first == NULL)
			first = &v[i];
		if (listed < MAX_LISTED) {
			if (v[i].failed)
				snprintf(one, sizeof one, "%s %s%s%s: %s", v[i].verb, v[i].resource,
				    v[i].ns[0] ? " in " : "", v[i].ns, v[i].error);
			else
				snprintf(one, sizeof one, "%s %s %s%s not allowed", v[i].verb,
				    v[i].resource, v[i].ns[0] ? "in " : "cluster-wide", v[i].ns);
			appendf(detail, sizeof detail, "%s%s",
			    listed ? "; " : "", one);
			listed++;
		}
	}
	if (bad == 0 && unresolved[0] == '\0') {
		add(p, PF_PASS, check, NULL, "%s", summary);
		return;
	}
	if (bad > listed)
		appendf(detail, sizeof detail, " (+%zu more)",
		    bad - listed);
	if (unresolved[0] != '\0')
		appendf(detail, sizeof detail, "%s%s",
		    detail[0] ? "; " : "", unresolved);
	if (first != NULL && first->failed) {
		snprintf(fix, sizeof fix, "the access review itself failed: check the API server "
		    "(%s) and run preflight again", kube_client_server(k->client));
	} else if (first != NULL) {
		char can_i[512];

		snprintf(can_i, sizeof can_i, "kubectl%s%s auth can-i %s %s%s%s%s%s", ctx[0] ? " --context "
		    : "", ctx, first->verb, first->resource, first->group[0] ? "." : "", first->group,
		    first->ns[0] ? " -n " : "", first->ns);
		snprintf(fix, sizeof fix, "bind a Role or ClusterRole with these verbs to the user of %s "
		    "(with Azure RBAC for Kubernetes: an Azure Kubernetes Service RBAC role); confirm "
		    "with: %s", k->source, can_i);
	} else {
		snprintf(fix, sizeof fix, "correct sync.kinds in %s, or install the CRD that serves the "
		    "kind", p->cfg->path);
	}
	add(p, PF_FAIL, check, fix, "%s", detail);
}

/* Maps the configured kinds to API resources on KC.  UNRESOLVED gets
 * "kind X is not served ..." for those that are not. */
static struct resolved_kind *
resolve_kinds(const struct pf *p, struct kube_client *kc, size_t *n, char *unresolved,
    size_t ulen)
{
	const char *const *kinds = p->cfg->sync.kinds != NULL
	    ? (const char *const *)p->cfg->sync.kinds : default_kinds;
	struct resolved_kind *v;
	size_t cnt = 0;

	unresolved[0] = '\0';
	while (kinds[cnt] != NULL)
		cnt++;
	v = calloc(cnt ? cnt : 1, sizeof *v);
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < cnt; i++) {
		char err[KUBE_ERROR_MAX + 32];

		v[i].kind = kinds[i];
		for (size_t j = 0; j < sizeof builtin_kinds / sizeof builtin_kinds[0]; j++)
			if (strcmp(builtin_kinds[j].kind, kinds[i]) == 0) {
				snprintf(v[i].group, sizeof v[i].group, "%s", builtin_kinds[j].group);
				snprintf(v[i].resource, sizeof v[i].resource, "%s",
				    builtin_kinds[j].resource);
				v[i].found = 1;
			}
		if (v[i].found)
			continue;
		if (discover_kind(p, kc, &v[i], err, sizeof err) != 0)
			appendf(unresolved, ulen,
			    "%skind %s: %s", unresolved[0] ? "; " : "", kinds[i], err);
		else if (!v[i].found)
			appendf(unresolved, ulen,
			    "%skind %s is not served by this API server", unresolved[0] ? "; " : "",
			    kinds[i]);
	}
	*n = cnt;
	return v;
}

static size_t
count_strv(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

/* Reviews of VERBS on each resolved kind in each synced namespace. */
static struct review *
kind_reviews(const struct pf *p, const struct resolved_kind *rk, size_t nk,
    const char *const *verbs, size_t *n)
{
	char *const *ns = p->cfg->sync.namespaces;
	size_t nns = count_strv(ns), nv = 0, cnt = 0;
	struct review *v;

	while (verbs[nv] != NULL)
		nv++;
	cnt = nns * nk * nv;
	v = calloc(cnt > 0 ? cnt : 1, sizeof *v);
	cnt = 0;
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < nns; i++)
		for (size_t k = 0; k < nk; k++) {
			/* A cluster-scoped kind is reviewed once: a namespace in
			 * its review would let a RoleBinding there answer yes. */
			if (!rk[k].found || (rk[k].cluster_scoped && i > 0))
				continue;
			for (size_t j = 0; j < nv; j++) {
				v[cnt].verb = verbs[j];
				v[cnt].group = rk[k].group;
				v[cnt].resource = rk[k].resource;
				v[cnt].kind = rk[k].kind;
				v[cnt].ns = rk[k].cluster_scoped ? "" : ns[i];
				cnt++;
			}
		}
	*n = cnt;
	return v;
}

/* The reviews of a fixed list (lock, freeze, observing, namespaces). */
struct fixed_review {
	const char *verb, *group, *resource, *ns;
};

static void
check_fixed(struct pf *p, const char *check, const struct conn_kube *k,
    const struct fixed_review *f, size_t n, const char *summary)
{
	struct review v[16];

	memset(v, 0, sizeof v);
	if (n > sizeof v / sizeof v[0])
		n = sizeof v / sizeof v[0];
	for (size_t i = 0; i < n; i++) {
		v[i].verb = f[i].verb;
		v[i].group = f[i].group;
		v[i].resource = f[i].resource;
		v[i].ns = f[i].ns;
		v[i].kind = f[i].resource;
	}
	run_reviews(p, k->client, v, n);
	report_reviews(p, check, k, v, n, "", summary);
}

/* Every synced namespace must exist on blue: the sync would copy nothing
 * from a misspelt one and say nothing about it. */
static void
check_namespaces(struct pf *p, const char *check, const struct conn_kube *k)
{
	char *const *ns = p->cfg->sync.namespaces;
	char missing[1024] = "", failed[1024] = "", fix[1024];
	size_t n = count_strv(ns), nmiss = 0;

	for (size_t i = 0; i < n; i++) {
		struct kube_call call;
		char path[512];

		snprintf(path, sizeof path, "/api/v1/namespaces/%s", ns[i]);
		kube_call_init(p, &call);
		if (kube_get(k->client, path, NULL, &call) == 0)
			continue;
		if (call.err == KUBE_E_NOT_FOUND) {
			appendf(missing, sizeof missing, "%s%s",
			    nmiss ? ", " : "", ns[i]);
			nmiss++;
		} else if (failed[0] == '\0') {
			snprintf(failed, sizeof failed, "%s", call.error);
		}
	}
	if (nmiss > 0) {
		snprintf(fix, sizeof fix, "correct sync.namespaces in %s, or create the namespace%s on "
		    "blue", p->cfg->path, nmiss == 1 ? "" : "s");
		add(p, PF_FAIL, check, fix, "missing on blue: %s%s%s", missing,
		    failed[0] ? "; also: " : "", failed);
	} else if (failed[0] != '\0') {
		snprintf(fix, sizeof fix, "allow get on namespaces to the user of %s, or check the API "
		    "server", k->source);
		add(p, PF_FAIL, check, fix, "cannot read a namespace: %s", failed);
	} else {
		add(p, PF_PASS, check, NULL, "%zu namespace%s exist%s: %s%s", n, n == 1 ? "" : "s",
		    n == 1 ? "s" : "", n ? ns[0] : "", n > 1 ? ", ..." : "");
	}
}

/* The check lines one cluster gets, in order, so that a cluster that cannot
 * be reached can list them as skipped. */
enum kube_check { KC_API, KC_NAMESPACES, KC_SYNC, KC_LOCK, KC_FREEZE, KC_OBSERVE, KC_N };

static int
kube_check_applies(const struct cfg *c, enum cfg_role role, enum kube_check k)
{
	switch (k) {
	case KC_API:
	case KC_OBSERVE:
		return 1;
	case KC_NAMESPACES:
		return role == CFG_BLUE && c->sync.namespaces != NULL;
	case KC_SYNC:
		return c->sync.mode == CFG_SYNC_COPY && c->sync.namespaces != NULL;
	case KC_LOCK:
		return role == CFG_BLUE;
	case KC_FREEZE:
		return role == CFG_BLUE && c->sync.freeze;
	case KC_N:
		break;
	}
	return 0;
}

static void
kube_check_name(enum cfg_role role, enum kube_check k, char *out, size_t n)
{
	static const char *const names[] = { "api server", "namespaces", "sync access", "lock lease",
	    "freeze policies", "watch nodes, pods" };

	snprintf(out, n, "%s %s", cfg_role_name(role), names[k]);
}

/* One line for the checks of ROLE from FROM on that cannot run, naming
 * them, rather than a "skipped" line each. */
static void
skip_kube(struct pf *p, enum cfg_role role, enum kube_check from, const char *why)
{
	static const char *const what[] = { "api server", "namespaces", "sync access", "lock lease",
	    "freeze policies", "watch nodes, pods" };
	char check[64], list[256] = "";
	int n = 0;

	for (int k = from; k < KC_N; k++)
		if (kube_check_applies(p->cfg, role, (enum kube_check)k)) {
			appendf(list, sizeof list, "%s%s", n ? ", " : "",
			    what[k]);
			n++;
		}
	if (n == 0)
		return;
	if (from == KC_API)
		kube_check_name(role, KC_API, check, sizeof check);
	else
		snprintf(check, sizeof check, "%s access checks", cfg_role_name(role));
	add(p, PF_SKIP, check, NULL, "%s; not checked: %s", why, list);
}

static void
check_sync_access(struct pf *p, enum cfg_role role, const struct conn_kube *k, const char *check)
{
	static const char *const read_verbs[] = { "get", "list", "watch", NULL };
	static const char *const write_verbs[] = { "get", "create", "patch", NULL };
	char unresolved[1024], summary[512];
	struct resolved_kind *rk;
	struct review *v, *all;
	size_t nk = 0, n = 0;

	rk = resolve_kinds(p, k->client, &nk, unresolved, sizeof unresolved);
	v = rk != NULL ? kind_reviews(p, rk, nk, role == CFG_BLUE ? read_verbs : write_verbs, &n)
	    : NULL;
	if (v == NULL) {
		free(rk);
		add(p, PF_FAIL, check, NULL, "out of memory");
		return;
	}
	/* Green also gets the namespaces the copy creates there. */
	if (role == CFG_GREEN && (all = realloc(v, (n + 1) * sizeof *v)) != NULL) {
		v = all;
		memset(&v[n], 0, sizeof v[n]);
		v[n].verb = "create";
		v[n].group = "";
		v[n].resource = "namespaces";
		v[n].kind = "Namespace";
		v[n].ns = "";
		n++;
	}
	run_reviews(p, k->client, v, n);
	snprintf(summary, sizeof summary, "%s on %zu kind%s in %zu namespace%s allowed%s",
	    role == CFG_BLUE ? "get/list/watch" : "get/create/patch", nk, nk == 1 ? "" : "s",
	    count_strv(p->cfg->sync.namespaces), count_strv(p->cfg->sync.namespaces) == 1 ? "" : "s",
	    role == CFG_GREEN ? ", and create namespaces" : "");
	report_reviews(p, check, k, v, n, unresolved, summary);
	free(v);
	free(rk);
}

static void
check_kube(struct pf *p, enum cfg_role role)
{
	const struct cfg *c = p->cfg;
	const struct cfg_cluster *cl = &c->clusters[role];
	struct conn_kube k;
	struct kube_call call;
	cJSON *ver = NULL;
	const cJSON *gv;
	char check[64], err[2048], fix[1024], version[64];

	kube_check_name(role, KC_API, check, sizeof check);
	if (p->exists[role] == 0) {
		if (role == CFG_BLUE)
			skip_kube(p, role, KC_API, "blue does not exist");
		/* green not created yet: it has nothing to check */
		return;
	}
	if (!p->conn_ok) {
		/* conn_kube_open() works from a conn that opened. */
		skip_kube(p, role, KC_API, "the Azure connection could not be set up (see credential)");
		return;
	}
	if (p->exists[role] < 0 && cl->kubeconfig == NULL) {
		snprintf(err, sizeof err, "its state in ARM is unknown (see %s cluster) and it has "
		    "no kubeconfig", cfg_role_name(role));
		skip_kube(p, role, KC_API, err);
		return;
	}
	if (conn_kube_open(&p->conn, role, &k, err, sizeof err) != 0) {
		if (cl->kubeconfig != NULL)
			snprintf(fix, sizeof fix, "check clusters.%s.kubeconfig and context in %s "
			    "(az aks get-credentials -g %s -n %s writes one)", cfg_role_name(role),
			    c->path, c->azure.resource_group, cl->name);
		else
			snprintf(fix, sizeof fix, "allow Microsoft.ContainerService/managedClusters/"
			    "listClusterUserCredential/action, or set clusters.%s.kubeconfig in %s",
			    cfg_role_name(role), c->path);
		add(p, PF_FAIL, check, fix, "%s", err);
		skip_kube(p, role, KC_NAMESPACES, "needs a connection to the API server");
		return;
	}
	kube_call_init(p, &call);
	if (kube_get(k.client, "/version", &ver, &call) != 0) {
		if (http_now_ms() >= p->deadline)
			snprintf(fix, sizeof fix, "the --timeout deadline passed before %s answered: "
			    "give preflight more time with --timeout", kube_client_server(k.client));
		else if (call.err == KUBE_E_AUTH)
			snprintf(fix, sizeof fix, "the API server rejects the credential from %s: refresh "
			    "it (az aks get-credentials, kubelogin) or check the exec plugin", k.source);
		else if (call.err == KUBE_E_TRANSPORT || call.err == KUBE_E_CANCELLED)
			snprintf(fix, sizeof fix, "check network access to %s (VPN, private cluster, "
			    "authorized IP ranges) and that the cluster runs", kube_client_server(k.client));
		else
			snprintf(fix, sizeof fix, "check the API server %s", kube_client_server(k.client));
		add(p, PF_FAIL, check, fix, "%s unreachable: %s", kube_client_server(k.client),
		    call.error[0] ? call.error : kube_err_str(call.err));
		skip_kube(p, role, KC_NAMESPACES, "needs a reachable API server");
		conn_kube_close(&k);
		return;
	}
	gv = cJSON_GetObjectItemCaseSensitive(ver, "gitVersion");
	snprintf(version, sizeof version, "%s", cJSON_IsString(gv) ? gv->valuestring : "(no gitVersion)");
	cJSON_Delete(ver);
	add(p, PF_PASS, check, NULL, "reachable, Kubernetes %s; credential from %s%s%s", version,
	    k.source, k.warning[0] ? "; warning: " : "", k.warning);

	if (kube_check_applies(c, role, KC_NAMESPACES)) {
		kube_check_name(role, KC_NAMESPACES, check, sizeof check);
		check_namespaces(p, check, &k);
	}
	if (kube_check_applies(c, role, KC_SYNC)) {
		kube_check_name(role, KC_SYNC, check, sizeof check);
		check_sync_access(p, role, &k, check);
	}
	if (kube_check_applies(c, role, KC_LOCK)) {
		static const struct fixed_review lock[] = {
			{ "get", "coordination.k8s.io", "leases", LOCK_NAMESPACE },
			{ "create", "coordination.k8s.io", "leases", LOCK_NAMESPACE },
			{ "update", "coordination.k8s.io", "leases", LOCK_NAMESPACE },
		};

		kube_check_name(role, KC_LOCK, check, sizeof check);
		check_fixed(p, check, &k, lock, sizeof lock / sizeof lock[0],
		    "get/create/update leases in " LOCK_NAMESPACE " allowed");
	}
	if (kube_check_applies(c, role, KC_FREEZE)) {
		/* The freeze is a ValidatingAdmissionPolicy and its binding; the
		 * thaw deletes them, so both verbs are needed or blue stays
		 * frozen. */
		static const struct fixed_review freeze[] = {
			{ "create", "admissionregistration.k8s.io", "validatingadmissionpolicies", "" },
			{ "delete", "admissionregistration.k8s.io", "validatingadmissionpolicies", "" },
			{ "create", "admissionregistration.k8s.io", "validatingadmissionpolicybindings", "" },
			{ "delete", "admissionregistration.k8s.io", "validatingadmissionpolicybindings", "" },
		};

		char why[1024], howto[1200];
		int served;

		kube_check_name(role, KC_FREEZE, check, sizeof check);
		/* The API first: a blue older than 1.30 cannot be frozen at
		 * all, whatever the permissions say. */
		served = freeze_supported(k.client, 15000, why, sizeof why);
		if (served == 0) {
			snprintf(howto, sizeof howto, "set sync.freeze: false in %s, or upgrade blue to "
			    "Kubernetes 1.30 or later", p->cfg->path);
			add(p, PF_FAIL, check, howto, "%s", why);
		} else if (served < 0) {
			add(p, PF_FAIL, check, "check blue's API server", "cannot tell whether blue serves "
			    "ValidatingAdmissionPolicy: %s", why);
		} else {
			check_fixed(p, check, &k, freeze, sizeof freeze / sizeof freeze[0],
			    "create/delete validatingadmissionpolicies and bindings allowed");
		}
	}
	{
		/* The screen and the checks list and watch nodes and pods of
		 * the whole cluster. */
		static const struct fixed_review observe[] = {
			{ "list", "", "nodes", "" }, { "watch", "", "nodes", "" },
			{ "list", "", "pods", "" }, { "watch", "", "pods", "" },
		};

		kube_check_name(role, KC_OBSERVE, check, sizeof check);
		check_fixed(p, check, &k, observe, sizeof observe / sizeof observe[0],
		    "list/watch nodes and pods cluster-wide allowed");
	}
	conn_kube_close(&k);
}

/* ---- the command ------------------------------------------------------------ */

static void
usage(FILE *f)
{
	fprintf(f, "usage: bgswitch preflight -c FILE [--json] [--timeout DURATION] [--log FILE]\n\n"
	    "Checks, without changing anything, what a switchover needs: the config, an Azure\n"
	    "token, both clusters, the gateway rule and DNS record, the Azure permissions the\n"
	    "configured stages use, and each cluster's Kubernetes API and access.\n\n"
	    "options:\n"
	    "  -c, --config FILE        the switchover's bgswitch.yaml (required)\n"
	    "      --json               print the results as a JSON array of\n"
	    "                           {check, ok, detail, fix}\n"
	    "      --timeout DURATION   deadline for all checks together (default 60s)\n"
	    "      --log FILE           append a log of every request to FILE (default: none)\n"
	    "  -h, --help               this help\n\n"
	    "exit codes: 0 every check passed, 1 a check failed, 2 usage or config error\n"
	    "See bgswitch(1).\n");
}

/* Whether the terminal's character set can show the check marks. */
static int
locale_is_utf8(void)
{
	const char *cs;
	int yes;

	if (setlocale(LC_CTYPE, "") == NULL)
		return 0;
	cs = nl_langinfo(CODESET);
	yes = cs != NULL && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
	/* The rest of bgswitch parses protocol text with <ctype.h>: keep it
	 * in the C locale. */
	setlocale(LC_CTYPE, "C");
	return yes;
}

int
cmd_preflight(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "log", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *logfile = NULL;
	long timeout_ms = DEFAULT_TIMEOUT_MS;
	struct pf p;
	struct cfg cfg;
	char err[2048];
	size_t passed = 0, failed = 0, skipped = 0;
	int c, rc;

	memset(&p, 0, sizeof p);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'j': p.json = 1; break;
		case 't':
			if (cfg_parse_duration(optarg, &timeout_ms) != 0 || timeout_ms <= 0) {
				fprintf(stderr, "bgswitch preflight: --timeout wants a duration such as "
				    "30s or 2m, not '%s'\n", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'l': logfile = optarg; break;
		case 'h': usage(stdout); return CLI_EXIT_OK;
		case ':':
			fprintf(stderr, "bgswitch preflight: %s needs an argument (see bgswitch "
			    "preflight --help)\n", argv[optind - 1]);
			return CLI_EXIT_USAGE;
		default:
			fprintf(stderr, "bgswitch preflight: unknown option '%s' (see bgswitch "
			    "preflight --help)\n", argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bgswitch preflight: unexpected argument '%s' (see bgswitch preflight "
		    "--help)\n", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (path == NULL) {
		fprintf(stderr, "bgswitch preflight: -c FILE is required (see bgswitch preflight "
		    "--help)\n");
		return CLI_EXIT_USAGE;
	}
	if (logfile != NULL && log_open(logfile, LOG_DEBUG) != 0) {
		fprintf(stderr, "bgswitch preflight: cannot open the log %s: %s\n", logfile,
		    strerror(errno));
		return CLI_EXIT_USAGE;
	}
	p.utf8 = locale_is_utf8();
	p.deadline = http_now_ms() + timeout_ms;

	if (cfg_load(path, &cfg, err, sizeof err) != 0) {
		/* An error with a position ("FILE:LINE:COL: ...") is about the
		 * content; one without, about the file (missing, unreadable). */
		size_t plen = strlen(path);
		int at_line = strncmp(err, path, plen) == 0 && err[plen] == ':'
		    && err[plen + 1] >= '0' && err[plen + 1] <= '9';

		add(&p, PF_FAIL, "config", at_line
		    ? "correct the file there (bgswitch.yaml(5) lists every key and its values)"
		    : "give -c the path of a readable bgswitch.yaml", "%s", err);
		if (p.json)
			print_json(&p);
		else
			printf("1 check, 0 passed, 1 failed\n");
		results_free(&p);
		log_close();
		return CLI_EXIT_USAGE;
	}
	p.cfg = &cfg;
	check_config_summary(&p);

	p.conn_ok = conn_open(&p.conn, &cfg, timeout_ms, err, sizeof err) == 0;
	check_credential(&p, err);
	check_cluster(&p, CFG_BLUE);
	check_cluster(&p, CFG_GREEN);
	check_gateway(&p);
	check_dns(&p);
	check_permissions(&p);
	check_kube(&p, CFG_BLUE);
	check_kube(&p, CFG_GREEN);
	if (p.conn_ok)
		conn_close(&p.conn);

	for (size_t i = 0; i < p.n; i++) {
		if (p.res[i].state == PF_PASS)
			passed++;
		else if (p.res[i].state == PF_FAIL)
			failed++;
		else
			skipped++;
	}
	if (p.oom) {
		fprintf(stderr, "bgswitch preflight: out of memory: results are incomplete\n");
		failed++;
	}
	if (p.json) {
		if (print_json(&p) != 0)
			failed++;
	} else if (skipped > 0) {
		printf("%zu checks, %zu passed, %zu failed, %zu skipped\n", p.n, passed, failed, skipped);
	} else {
		printf("%zu checks, %zu passed, %zu failed\n", p.n, passed, failed);
	}
	rc = failed > 0 || skipped > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	results_free(&p);
	cfg_free(&cfg);
	log_close();
	return rc;
}
