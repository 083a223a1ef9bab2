/*
 * cloud.c — the table of Azure clouds and the resolution of a switchover's
 * effective endpoints (precedence documented in cloud.h).
 *
 * Sources for the table:
 *  - authority hosts and ARM endpoints: Azure SDK for Go,
 *    sdk/azcore/cloud/cloud.go and sdk/azcore/arm/runtime/runtime.go;
 *    Azure SDK for Rust, sdk/core/azure_core/src/constants.rs.
 *  - ARM token scope: public cloud "https://management.azure.com/.default"
 *    (learn.microsoft.com, "Azure Monitor REST API walkthrough", Retrieve a
 *    token); China "https://management.chinacloudapi.cn/.default" (the same
 *    page on docs.azure.cn); US Government uses the ARM audience
 *    "https://management.core.usgovcloudapi.net" that the Go SDK registers
 *    for AzureGovernment (sdk/azcore/arm/runtime/runtime.go), since no
 *    Microsoft page giving the endpoint form for that cloud was found.
 */
#include "azure/cloud.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct az_cloud clouds[] = {
	{ "AzureCloud", "https://login.microsoftonline.com/",
	  "https://management.azure.com/", "https://management.azure.com/.default" },
	{ "AzureUSGovernment", "https://login.microsoftonline.us/",
	  "https://management.usgovcloudapi.net/",
	  "https://management.core.usgovcloudapi.net/.default" },
	{ "AzureChinaCloud", "https://login.chinacloudapi.cn/",
	  "https://management.chinacloudapi.cn/", "https://management.chinacloudapi.cn/.default" },
};

const struct az_cloud *
az_cloud_find(const char *name)
{
	if (name == NULL || *name == '\0')
		return &clouds[0];
	for (size_t i = 0; i < sizeof clouds / sizeof clouds[0]; i++)
		if (strcasecmp(name, clouds[i].name) == 0)
			return &clouds[i];
	return NULL;
}

/* Copies URL into DST with exactly one trailing slash; rejects anything but
 * an absolute http(s) URL with a host, and URLs carrying a query, fragment
 * or credentials (an authority or ARM base is a plain origin plus path). */
static int
base_url(const char *what, const char *url, char *dst, size_t dstlen, char *err, size_t errlen)
{
	size_t n = strlen(url);
	const char *host;

	while (n > 0 && (url[n - 1] == ' ' || url[n - 1] == '\t'))
		n--;
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;	/* the HTTP layer allows it for loopback only */
	else
		host = NULL;
	if (host == NULL || host >= url + n || *host == '/' || strpbrk(url, "?#@ \t\r\n") != NULL) {
		snprintf(err, errlen, "%s \"%.200s\" is not an absolute https URL", what, url);
		return -1;
	}
	if (n + 2 > dstlen) {
		snprintf(err, errlen, "%s is too long", what);
		return -1;
	}
	memcpy(dst, url, n);
	dst[n] = '/';
	dst[n + 1] = '\0';
	return 0;
}

int
az_endpoints_resolve(const char *cloud, const char *cfg_authority_host,
    const char *cfg_resource_manager, az_getenv_fn getenv_fn, void *getenv_ctx,
    struct az_endpoints *out, char *err, size_t errlen)
{
	const struct az_cloud *c = az_cloud_find(cloud);
	const char *env = NULL, *auth;

	memset(out, 0, sizeof *out);
	if (c == NULL) {
		snprintf(err, errlen, "unknown Azure cloud \"%.64s\" (expected AzureCloud, "
		    "AzureUSGovernment or AzureChinaCloud)", cloud);
		return -1;
	}
	out->cloud = c;
	if (getenv_fn != NULL)
		env = getenv_fn(getenv_ctx, "AZURE_AUTHORITY_HOST");
	else
		env = getenv("AZURE_AUTHORITY_HOST");
	if (cfg_authority_host != NULL && *cfg_authority_host != '\0') {
		auth = cfg_authority_host;
		out->authority_from = "config";
	} else if (env != NULL && *env != '\0') {
		auth = env;
		out->authority_from = "AZURE_AUTHORITY_HOST";
	} else {
		auth = c->authority_host;
		out->authority_from = "cloud";
	}
	if (base_url("authority host", auth, out->authority_host, sizeof out->authority_host,
	    err, errlen) != 0)
		return -1;
	if (base_url("resource manager endpoint",
	    cfg_resource_manager != NULL && *cfg_resource_manager != '\0'
	    ? cfg_resource_manager : c->resource_manager,
	    out->resource_manager, sizeof out->resource_manager, err, errlen) != 0)
		return -1;
	snprintf(out->arm_scope, sizeof out->arm_scope, "%s", c->arm_scope);
	return 0;
}
