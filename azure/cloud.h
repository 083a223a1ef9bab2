/*
 * cloud.h — the Azure clouds bgswitch knows, and how their endpoints are
 * chosen.
 *
 * Each cloud has an Entra ID authority host, an Azure Resource Manager
 * endpoint and the audience whose "/.default" scope ARM tokens are asked
 * for.  A switchover config may override the first two (a private cloud, or
 * the simulator), so the effective endpoints are resolved once, here, with
 * this precedence for each value:
 *
 *   authority host:    config azure.authority_host  >  AZURE_AUTHORITY_HOST
 *                      (environment)  >  the cloud's default
 *   resource manager:  config azure.resource_manager  >  the cloud's default
 *   ARM token scope:   always the cloud's audience + "/.default" (an endpoint
 *                      override moves where requests go, not which
 *                      application Entra issues the token for)
 *
 * The config's explicit value wins over the environment because the config
 * names one switchover on purpose, while the environment (AKS workload
 * identity sets AZURE_AUTHORITY_HOST for every pod) is ambient.
 */
#ifndef BGSWITCH_AZURE_CLOUD_H
#define BGSWITCH_AZURE_CLOUD_H

#include <stddef.h>

/* Looks up an environment variable; NULL when unset.  Lets tests inject an
 * environment without setenv() racing other threads. */
typedef const char *(*az_getenv_fn)(void *ctx, const char *name);

struct az_cloud {
	const char *name;		/* "AzureCloud", "AzureUSGovernment", "AzureChinaCloud" */
	const char *authority_host;	/* with trailing slash */
	const char *resource_manager;	/* with trailing slash */
	const char *arm_scope;		/* "<audience>/.default" */
};

/* The cloud called NAME (case-insensitive; NULL or "" = AzureCloud), or
 * NULL when unknown. */
const struct az_cloud *az_cloud_find(const char *name);

/* The effective endpoints of one switchover.  URLs end with exactly one '/'. */
struct az_endpoints {
	const struct az_cloud *cloud;
	char authority_host[512];
	char resource_manager[512];
	char arm_scope[560];
	const char *authority_from;	/* "config", "AZURE_AUTHORITY_HOST" or "cloud" */
};

/* Resolves the endpoints with the precedence above.  GETENV may be NULL
 * (process environment).  Returns 0, or -1 with ERR filled (unknown cloud,
 * an override that is not an absolute http(s) URL). */
int az_endpoints_resolve(const char *cloud, const char *cfg_authority_host,
    const char *cfg_resource_manager, az_getenv_fn getenv_fn, void *getenv_ctx,
    struct az_endpoints *out, char *err, size_t errlen);

#endif
