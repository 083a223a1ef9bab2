/*
 * conn.c — from a bgswitch.yaml to live connections: credential, ARM
 * client, resource ids, and each cluster's Kubernetes client.
 *
 * Green usually has no kubeconfig entry of its own (it did not exist when
 * the config was written), so a cluster without `kubeconfig:` is reached
 * with the user credential ARM issues for it, exactly as
 * `az aks get-credentials` would fetch it; the kubeconfig text stays in
 * memory and is wiped after parsing.
 */
#include "src/conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "azure/aks.h"
#include "azure/pdns.h"
#include "src/log.h"

static enum az_cred_kind
cred_kind(enum cfg_credential c)
{
	switch (c) {
	case CFG_CRED_ENVIRONMENT: return AZ_CRED_ENVIRONMENT;
	case CFG_CRED_WORKLOAD_IDENTITY: return AZ_CRED_WORKLOAD_IDENTITY;
	case CFG_CRED_MANAGED_IDENTITY: return AZ_CRED_MANAGED_IDENTITY;
	case CFG_CRED_AZURE_CLI: return AZ_CRED_AZURE_CLI;
	case CFG_CRED_DEFAULT: break;
	}
	return AZ_CRED_DEFAULT;
}

int
conn_open(struct conn *c, const struct cfg *cfg, long timeout_ms, char *err, size_t errlen)
{
	struct az_cred_config cc = { 0 };
	struct arm_client_config ac = { 0 };

	memset(c, 0, sizeof *c);
	c->cfg = cfg;
	if (az_endpoints_resolve(cfg->azure.cloud, cfg->azure.authority_host,
	    cfg->azure.resource_manager, NULL, NULL, &c->ep, err, errlen) != 0)
		return -1;
	cc.cloud = cfg->azure.cloud;
	cc.authority_host = cfg->azure.authority_host;
	cc.resource_manager = cfg->azure.resource_manager;
	cc.tenant = cfg->azure.tenant;
	cc.kind = cred_kind(cfg->azure.credential);
	cc.ca_file = cfg->azure.ca_file;
	cc.timeout_ms = timeout_ms;
	c->cred = az_cred_new(&cc, err, errlen);
	if (c->cred == NULL)
		return -1;
	ac.endpoint = c->ep.resource_manager;
	ac.scope = c->ep.arm_scope;
	ac.cred = c->cred;
	ac.ca_file = cfg->azure.ca_file;
	c->arm = arm_client_new(&ac, err, errlen);
	if (c->arm == NULL) {
		conn_close(c);
		return -1;
	}
	for (int r = 0; r < 2; r++)
		aks_cluster_id(c->cluster_id[r], sizeof c->cluster_id[r], cfg->azure.subscription,
		    cfg->azure.resource_group, cfg->clusters[r].name);
	if (cfg->gateway.has_gateway)
		snprintf(c->gateway_id, sizeof c->gateway_id,
		    "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/applicationGateways/%s",
		    cfg->azure.subscription, cfg->azure.resource_group, cfg->gateway.name);
	if (cfg->dns.has_dns)
		pdns_record_id(c->dns_id, sizeof c->dns_id, cfg->azure.subscription,
		    cfg->azure.resource_group, cfg->dns.zone, cfg->dns.type, cfg->dns.record);
	c->exec_cache = kube_exec_cache_new();
	if (c->exec_cache == NULL) {
		snprintf(err, errlen, "out of memory");
		conn_close(c);
		return -1;
	}
	return 0;
}

void
conn_close(struct conn *c)
{
	arm_client_free(c->arm);
	az_cred_free(c->cred);
	kube_exec_cache_free(c->exec_cache);
	memset(c, 0, sizeof *c);
}

int
conn_kube_open(struct conn *c, enum cfg_role role, struct conn_kube *k, char *err, size_t errlen)
{
	const struct cfg_cluster *cl = &c->cfg->clusters[role];
	struct kube_client_opts ko = { 0 };
	struct kubeconfig *kc;
	char name[64], why[KUBECONFIG_ERR_SIZE];

	memset(k, 0, sizeof *k);
	if (cl->kubeconfig != NULL) {
		kc = kubeconfig_load(cl->kubeconfig, why, sizeof why);
		if (kc == NULL) {
			snprintf(err, errlen, "%s cluster %s: %s", cfg_role_name(role), cl->name, why);
			return -1;
		}
		snprintf(k->source, sizeof k->source, "kubeconfig %s, context %s",
		    kubeconfig_origin(kc), cl->context != NULL ? cl->context
		    : kubeconfig_current_context(kc) != NULL ? kubeconfig_current_context(kc) : "(none)");
	} else {
		char *yaml = NULL;
		size_t len = 0;
		char label[128];
		int rc = aks_list_user_credential(c->arm, c->cluster_id[role], NULL, &yaml, &len, why,
		    sizeof why);

		if (rc != 0) {
			snprintf(err, errlen, "%s cluster %s: cannot fetch its user credential from ARM: %s",
			    cfg_role_name(role), cl->name, why);
			return -1;
		}
		snprintf(label, sizeof label, "ARM credential for %s", cl->name);
		kc = kubeconfig_load_mem(yaml, len, label, NULL, why, sizeof why);
		aks_kubeconfig_free(yaml, len);
		if (kc == NULL) {
			snprintf(err, errlen, "%s cluster %s: %s", cfg_role_name(role), cl->name, why);
			return -1;
		}
		snprintf(k->source, sizeof k->source, "ARM user credential (listClusterUserCredential)");
	}
	if (kubeconfig_resolve(kc, cl->context, &k->target, why, sizeof why) != 0) {
		kubeconfig_free(kc);
		snprintf(err, errlen, "%s cluster %s: %s", cfg_role_name(role), cl->name, why);
		return -1;
	}
	kubeconfig_free(kc);
	snprintf(k->warning, sizeof k->warning, "%s", k->target.warning);
	snprintf(name, sizeof name, "kube:%s", cfg_role_name(role));
	ko.name = name;
	ko.exec_cache = c->exec_cache;
	k->client = kube_client_new(&k->target, &ko, why, sizeof why);
	if (k->client == NULL) {
		snprintf(err, errlen, "%s cluster %s: %s", cfg_role_name(role), cl->name, why);
		kubeconfig_target_free(&k->target);
		return -1;
	}
	return 0;
}

void
conn_kube_close(struct conn_kube *k)
{
	if (k->client != NULL)
		kube_client_free(k->client);
	kubeconfig_target_free(&k->target);
	memset(k, 0, sizeof *k);
}
