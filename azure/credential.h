/*
 * credential.h — Microsoft Entra ID access tokens for Azure Resource
 * Manager.
 *
 * A credential is one of the four ways bgswitch can prove who it is, or the
 * "default" chain that tries them in the order the Azure SDKs'
 * DefaultAzureCredential uses (learn.microsoft.com, @azure/identity
 * DefaultAzureCredential class; Azure SDK for Go, default_azure_credential.go):
 *
 *   environment        AZURE_TENANT_ID + AZURE_CLIENT_ID with
 *                      AZURE_CLIENT_SECRET (client secret), or
 *                      AZURE_CLIENT_CERTIFICATE_PATH (PEM with certificate and
 *                      key, or PKCS#12; AZURE_CLIENT_CERTIFICATE_PASSWORD
 *                      optional): a signed JWT client assertion
 *   workload-identity  AZURE_FEDERATED_TOKEN_FILE (+ tenant and client id):
 *                      the file's token as client assertion, re-read on every
 *                      request because the kubelet rotates it
 *   managed-identity   the instance metadata service (IMDS), or the App
 *                      Service endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER);
 *                      AZURE_CLIENT_ID selects a user-assigned identity
 *   azure-cli          `az account get-access-token`, run without a shell
 *
 * In the chain a credential that is not set up here ("unavailable": its
 * variables are missing, IMDS does not answer, az is not installed or not
 * logged in) passes to the next one; a credential that is set up but
 * rejected (Entra answered with an AADSTS error) stops the chain, as the
 * SDKs do (Azure SDK for JS, CredentialUnavailableError: "rather than
 * treating this as an error that should halt the chain, it's caught and the
 * chain continues"), so a broken service principal never silently falls
 * through to somebody's personal `az login`.  Once a member has produced a
 * token, the chain keeps using it.  The error of a failed chain names every
 * credential tried and why.
 *
 * Tokens are cached per scope in memory, refreshed before they expire
 * (five minutes early, or at half their lifetime for short-lived tokens),
 * and concurrent callers for one scope share a single fetch.  Secrets and
 * tokens are never logged and are wiped when released.
 *
 * All functions are thread-safe except az_cred_free(), which must not race
 * other calls on the same credential.
 */
#ifndef BGSWITCH_AZURE_CREDENTIAL_H
#define BGSWITCH_AZURE_CREDENTIAL_H

#include <stddef.h>

#include "azure/cloud.h"

enum az_cred_kind {
	AZ_CRED_DEFAULT = 0,
	AZ_CRED_ENVIRONMENT,
	AZ_CRED_WORKLOAD_IDENTITY,
	AZ_CRED_MANAGED_IDENTITY,
	AZ_CRED_AZURE_CLI,
};

struct az_cred_config {
	const char *cloud;		/* NULL = AzureCloud */
	const char *authority_host;	/* config override (see cloud.h precedence) */
	const char *resource_manager;	/* config override; only reported by az_cred_endpoints() */
	const char *tenant;		/* config azure.tenant: wins over AZURE_TENANT_ID */
	const char *client_id;		/* wins over AZURE_CLIENT_ID */
	enum az_cred_kind kind;
	const char *ca_file;		/* trusted CAs for Entra/IMDS TLS; NULL = system store */
	long timeout_ms;		/* per token request; 0 = 30 s */
	long cli_timeout_ms;		/* az CLI run; 0 = 10 s (the SDKs' value) */
	long mi_probe_timeout_ms;	/* first managed-identity try in the default chain; 0 = 1 s */
	const char *imds_endpoint;	/* full IMDS token URL override; NULL = the standard one
					 * (or AZURE_POD_IDENTITY_AUTHORITY_HOST) */
	az_getenv_fn getenv_fn;		/* NULL = the process environment */
	void *getenv_ctx;
};

struct az_cred;

/* Parses the config and environment (not the network).  Returns NULL with
 * ERR filled for bad input: unknown cloud, malformed tenant, a pinned
 * credential whose variables are missing. */
struct az_cred *az_cred_new(const struct az_cred_config *cfg, char *err, size_t errlen);
/* Wipes cached tokens and secrets; NULL is a no-op. */
void az_cred_free(struct az_cred *c);

/* Puts a token for SCOPE (e.g. "https://management.azure.com/.default")
 * into TOK (NUL-terminated; at most N-1 bytes) and its expiry in Unix epoch
 * milliseconds into *EXPIRES_AT_MS (may be NULL).  Served from the cache
 * when fresh.  Returns 0, or -1 with ERR filled: what failed and why, with
 * Entra's AADSTS code and text; never the secret or token. */
int az_cred_token(struct az_cred *c, const char *scope, char *tok, size_t n,
    long long *expires_at_ms, char *err, size_t errlen);

/* Drops the cached token for SCOPE (after a 401): the next call fetches. */
void az_cred_invalidate(struct az_cred *c, const char *scope);

/* Which credential produced the last token: "environment",
 * "workload-identity", "managed-identity", "azure-cli", or "none" before the
 * first success. */
const char *az_cred_name(const struct az_cred *c);
/* How, in more words: "client secret", "client certificate",
 * "federated token file", "IMDS", "App Service", "az CLI", or "none". */
const char *az_cred_method(const struct az_cred *c);

/* "environment" etc. for a kind; and back (-1 when unknown). */
const char *az_cred_kind_name(enum az_cred_kind k);
int az_cred_kind_parse(const char *s);

/* The endpoints this credential resolved (authority host, ARM, scope). */
const struct az_endpoints *az_cred_endpoints(const struct az_cred *c);

#endif
