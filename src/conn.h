/*
 * conn.h — the connections one switchover needs, made from its config: an
 * Entra ID credential, a Resource Manager client, the ARM ids of the
 * clusters, gateway and DNS record, and a Kubernetes client per cluster.
 *
 * `status`, `preflight` and the engine all start here, so the rules for
 * where a cluster's kubeconfig comes from (the config's file and context,
 * else the cluster's user credential from ARM) live in one place.
 */
#ifndef BGSWITCH_CONN_H
#define BGSWITCH_CONN_H

#include <stddef.h>

#include "azure/arm.h"
#include "azure/credential.h"
#include "kube/kube_client.h"
#include "kube/kubeconfig.h"
#include "src/config.h"

struct conn {
	const struct cfg *cfg;			/* borrowed */
	struct az_cred *cred;
	struct arm_client *arm;
	struct az_endpoints ep;
	char cluster_id[2][512];		/* [CFG_BLUE], [CFG_GREEN] */
	char gateway_id[512];			/* "" without a gateway */
	char dns_id[512];			/* "" without a DNS record */
	struct kube_exec_cache *exec_cache;	/* shared by both clusters' clients */
};

/* A cluster's Kubernetes connection and where it came from. */
struct conn_kube {
	struct kube_client *client;
	struct kubeconfig_target target;
	char source[600];	/* "kubeconfig FILE, context CTX" or "ARM user credential" */
	char warning[256];	/* "" or a line to show (insecure-skip-tls-verify, ...) */
};

/* Makes the credential and the ARM client (no network I/O yet).  TIMEOUT_MS
 * bounds each token request (0: the credential's default, 30 s).  Returns
 * 0, or -1 with ERR. */
int conn_open(struct conn *c, const struct cfg *cfg, long timeout_ms, char *err, size_t errlen);
void conn_close(struct conn *c);

/* Connects to ROLE's API server: the config's kubeconfig and context when
 * given, else the user credential ARM hands out for the cluster
 * (listClusterUserCredential).  Returns 0, or -1 with ERR (the cluster
 * missing from ARM, a bad kubeconfig, ...). */
int conn_kube_open(struct conn *c, enum cfg_role role, struct conn_kube *k, char *err,
    size_t errlen);
void conn_kube_close(struct conn_kube *k);

#endif
