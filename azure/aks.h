/*
 * aks.h — Azure Kubernetes Service managed clusters
 * (Microsoft.ContainerService/managedClusters) as bgswitch uses them: read
 * blue and green, build green from blue's spec, create, stop, start and
 * delete clusters, and fetch a user kubeconfig.
 *
 * Every call goes through the ARM client (azure/arm.h), so retries,
 * long-running operations and error lines come from there; these functions
 * add the resource shapes.  Field names follow the API spec
 * Azure/azure-rest-api-specs specification/containerservice/
 * resource-manager/Microsoft.ContainerService/aks/stable/2026-08-01/
 * managedClusters.json (ManagedCluster, ManagedClusterProperties,
 * ManagedClusterAgentPoolProfileProperties).
 *
 * Return codes are ARM_OK or an ARM_E_* code (azure/arm.h), or one of the
 * AKS_E_* codes below; ERR always gets one readable line on failure.  The
 * kubeconfig fetched from ARM carries credentials: it is never logged and
 * is wiped from every buffer this module used for it.
 */
#ifndef BGSWITCH_AZURE_AKS_H
#define BGSWITCH_AZURE_AKS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "azure/arm.h"

enum aks_rc {
	AKS_E_NOT_FOUND = -20,	/* the cluster does not exist (404) */
	AKS_E_BODY = -21,	/* ARM answered with a body we cannot use */
	AKS_E_INVALID = -22,	/* bad arguments (name, version, blue spec) */
};

struct aks_pool {
	char name[64];
	int count;
	char vm_size[64];
	char mode[16];				/* System | User | Gateway */
	char os_type[16];
	char orchestrator_version[32];		/* requested */
	char current_orchestrator_version[32];	/* running */
	char provisioning_state[32];
	char power_state[16];			/* Running | Stopped | "" */
};

/* The compact view of one cluster: what the screen and status show. */
struct aks_summary {
	char name[64];
	char id[512];
	char location[64];
	char kubernetes_version[32];		/* requested */
	char current_kubernetes_version[32];	/* running */
	char provisioning_state[32];
	char power_state[16];			/* powerState.code */
	char fqdn[256];				/* fqdn, else privateFQDN */
	char node_resource_group[128];
	struct aks_pool *pools;			/* owned; aks_summary_free() */
	size_t npools;
};

/* "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ContainerService/
 * managedClusters/NAME" into OUT.  0, or -1 when an argument is empty,
 * holds '/', '?' or a space, or OUT is too small. */
int aks_cluster_id(char *out, size_t n, const char *sub, const char *rg, const char *name);

/* GET the cluster ID.  *BODY (may be NULL) receives the parsed resource,
 * SUM (may be NULL) its summary.  AKS_E_NOT_FOUND when it does not exist. */
int aks_get(struct arm_client *c, const char *id, const struct arm_opts *opts,
    cJSON **body, struct aks_summary *sum, char *err, size_t errlen);

/* The summary of a managedClusters resource body (GET, PUT or list item).
 * AKS_E_BODY when BODY is not a cluster. */
int aks_parse_summary(const cJSON *body, struct aks_summary *sum, char *err, size_t errlen);

/* Every cluster of resource group RG (all pages), as *OUT[*N], owned: free
 * with aks_summaries_free(). */
int aks_list(struct arm_client *c, const char *sub, const char *rg,
    const struct arm_opts *opts, struct aks_summary **out, size_t *n, char *err, size_t errlen);

/* PUT BODY to ID and follow the operation to its end (OPTS->progress is
 * called after every poll).  SUM (may be NULL) gets the final state. */
int aks_create_or_update(struct arm_client *c, const char *id, const cJSON *body,
    const struct arm_opts *opts, struct aks_summary *sum, char *err, size_t errlen);

/* DELETE, stop (POST .../stop) and start (POST .../start), each followed to
 * its end. */
int aks_delete(struct arm_client *c, const char *id, const struct arm_opts *opts,
    char *err, size_t errlen);
int aks_stop(struct arm_client *c, const char *id, const struct arm_opts *opts,
    char *err, size_t errlen);
int aks_start(struct arm_client *c, const char *id, const struct arm_opts *opts,
    char *err, size_t errlen);

/* POST .../listClusterUserCredential: the first kubeconfig, base64-decoded,
 * into *YAML (malloc'd, NUL-terminated, *LEN bytes; free with
 * aks_kubeconfig_free(), which wipes it). */
int aks_list_user_credential(struct arm_client *c, const char *id, const struct arm_opts *opts,
    char **yaml, size_t *len, char *err, size_t errlen);
void aks_kubeconfig_free(char *yaml, size_t len);

/* The PUT body that creates green from BLUE's GET body: GREEN_NAME's
 * dnsPrefix (or fqdnSubdomain), kubernetesVersion and every pool's
 * orchestratorVersion set to VERSION, and the read-only and per-cluster
 * properties removed (the list and its reasons are in aks.c).  NOTE (may be
 * NULL) gets "; "-separated things the operator should know (blue's subnets
 * reused, an AGIC add-on, a Windows password ARM never returns).  NULL with
 * ERR on a blue body that cannot be cloned (e.g. a service principal whose
 * secret ARM never returns). */
cJSON *aks_clone_spec(const cJSON *blue, const char *green_name, const char *version,
    char *note, size_t notelen, char *err, size_t errlen);

/* The status --json cluster object: {name, resourceId, kubernetesVersion,
 * provisioningState, powerState} (kubernetesVersion is the running one when
 * known).  NULL only when out of memory. */
cJSON *aks_status_json(const struct aks_summary *sum);

void aks_summary_free(struct aks_summary *sum);
void aks_summaries_free(struct aks_summary *v, size_t n);

#endif
