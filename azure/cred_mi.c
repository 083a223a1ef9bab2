/*
 * cred_mi.c — managed identity: a token from the machine bgswitch runs on,
 * without any secret in its configuration.
 *
 * On a VM, VM scale set or AKS node the Azure Instance Metadata Service
 * answers GET http://169.254.169.254/metadata/identity/oauth2/token
 * ?api-version=2018-02-01&resource=...[&client_id=...] with header
 * "Metadata: true" (learn.microsoft.com, "How to use managed identities for
 * Azure resources on an Azure VM to acquire an access token").  Its answer
 * carries expires_in/expires_on as strings.  IMDS asks clients to retry
 * 404, 410 (while it is being updated), 429 and 5xx with backoff; a 400 says
 * no such identity is assigned (the SDKs call the credential unavailable).
 * AZURE_POD_IDENTITY_AUTHORITY_HOST replaces IMDS's host, as MSAL and the
 * Azure SDKs do (@azure/msal-node, ManagedIdentitySources/Imds.ts).
 *
 * App Service and Functions set IDENTITY_ENDPOINT and IDENTITY_HEADER: GET
 * {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=... with header
 * X-IDENTITY-HEADER, answering expires_on in epoch seconds
 * (learn.microsoft.com, "How to use managed identities for App Service and
 * Azure Functions", REST endpoint reference).  Azure Arc's challenge flow
 * (IDENTITY_ENDPOINT with IMDS_ENDPOINT) is not supported.
 *
 * IMDS is plain http on a link-local address by design: the request never
 * leaves the host.  bgswitch's HTTP layer accepts plain http only for
 * loopback (PRODUCT.md §6), so until it grows a narrowly scoped allowance
 * for exactly 169.254.169.254 (HTTP_HAVE_IMDS_ALLOWANCE below) a request to
 * the real IMDS is refused before any connection and this credential
 * reports itself unavailable, saying why.  A loopback endpoint (App Service,
 * a test server) works today.
 */
#include "azure/cred_internal.h"

#include "src/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMDS_TOKEN_URL	"http://169.254.169.254/metadata/identity/oauth2/token"
#define IMDS_PATH	"/metadata/identity/oauth2/token"
#define IMDS_API	"2018-02-01"
#define APPSVC_API	"2019-08-01"
#define MI_ATTEMPTS	5

int
az_src_mi_init(struct az_cred *c, struct az_src *s, const struct az_cred_config *cfg, char *err,
    size_t errlen)
{
	const char *client = az_pick(c, cfg->client_id, "AZURE_CLIENT_ID");
	const char *idep = az_env(c, "IDENTITY_ENDPOINT");
	const char *idh = az_env(c, "IDENTITY_HEADER");
	const char *pod = az_env(c, "AZURE_POD_IDENTITY_AUTHORITY_HOST");
	char url[600];

	if (client != NULL) {
		if (strlen(client) > 128) {
			snprintf(err, errlen, "managed identity client id is too long");
			return -1;
		}
		if ((s->client_id = strdup(client)) == NULL)
			goto oom;
	}
	if (cfg->imds_endpoint != NULL && *cfg->imds_endpoint != '\0') {
		s->method = AZ_M_IMDS;
		snprintf(url, sizeof url, "%s", cfg->imds_endpoint);
	} else if (idep != NULL && idh != NULL) {
		s->method = AZ_M_APPSERVICE;
		snprintf(url, sizeof url, "%s", idep);
		if ((s->mi_header = strdup(idh)) == NULL)
			goto oom;
	} else if (idep != NULL && az_env(c, "IMDS_ENDPOINT") != NULL) {
		s->method = AZ_M_IMDS;
		snprintf(s->unavailable, sizeof s->unavailable, "Azure Arc managed identity "
		    "(IDENTITY_ENDPOINT with IMDS_ENDPOINT) is not supported");
		return 0;
	} else if (pod != NULL) {
		size_t n = strlen(pod);

		while (n > 0 && pod[n - 1] == '/')
			n--;
		s->method = AZ_M_IMDS;
		snprintf(url, sizeof url, "%.*s%s", (int)(n < 400 ? n : 400), pod, IMDS_PATH);
	} else {
		s->method = AZ_M_IMDS;
		snprintf(url, sizeof url, "%s", IMDS_TOKEN_URL);
	}
	if (strchr(url, '?') != NULL || strchr(url, '#') != NULL) {
		snprintf(err, errlen, "managed identity endpoint \"%.200s\" must not carry a query", url);
		return -1;
	}
	if ((s->mi_url = strdup(url)) == NULL)
		goto oom;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int
mi_retryable(long status)
{
	return status == 404 || status == 408 || status == 410 || status == 429
	    || (status >= 500 && status <= 599);
}

enum az_src_rc
az_mi_fetch(struct az_cred *c, struct az_src *s, const char *scope, int probe,
    struct az_token *out, char *err, size_t errlen)
{
	const char *what = s->method == AZ_M_APPSERVICE ? "App Service identity endpoint" : "IMDS";
	char resource[512], why[600];
	struct az_buf url = { 0 }, hdr = { 0 };
	const char *hdrs[3];
	long long deadline = http_now_ms() + c->timeout_ms;
	enum az_src_rc rc = AZ_SRC_FAILED;

	az_scope_resource(scope, resource, sizeof resource);
	az_buf_str(&url, s->mi_url);
	az_buf_str(&url, "?api-version=");
	az_buf_str(&url, s->method == AZ_M_APPSERVICE ? APPSVC_API : IMDS_API);
	az_buf_str(&url, "&resource=");
	az_buf_enc(&url, resource);
	if (s->client_id != NULL) {
		az_buf_str(&url, "&client_id=");
		az_buf_enc(&url, s->client_id);
	}
	if (s->method == AZ_M_APPSERVICE) {
		az_buf_str(&hdr, "X-IDENTITY-HEADER: ");
		az_buf_str(&hdr, s->mi_header);
	} else {
		az_buf_str(&hdr, "Metadata: true");
	}
	if (url.oom || hdr.oom) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	hdrs[0] = hdr.p;
	hdrs[1] = "Accept: application/json";
	hdrs[2] = NULL;
	for (int attempt = 1;; attempt++) {
		struct http_request rq = { 0 };
		struct http_response rs;
		long long delay = 500LL << (attempt - 1), ra;

		rq.method = "GET";
		rq.url = url.p;
		rq.headers = hdrs;
		rq.timeout_ms = probe ? c->probe_ms : c->timeout_ms;
		rq.deadline_ms = probe ? 0 : deadline;
#ifdef HTTP_HAVE_IMDS_ALLOWANCE
		rq.allow_imds = 1;	/* exactly 169.254.169.254, plain http, no proxy */
#endif
		if (http_do(c->http, &rq, &rs) != 0) {
			if (rs.err == HTTP_ERR_POLICY) {
				snprintf(err, errlen, "%s at %s cannot be used: %s (IMDS is plain "
				    "http on a link-local address; bgswitch's HTTP layer allows plain "
				    "http only to loopback)", what, s->mi_url, rs.error);
				rc = AZ_SRC_UNAVAILABLE;
			} else if (probe || rs.err == HTTP_ERR_CONNECT || rs.err == HTTP_ERR_RESOLVE
			    || (!http_error_transient(rs.err)) || attempt >= MI_ATTEMPTS
			    || http_now_ms() + delay >= deadline) {
				snprintf(err, errlen, "no managed identity endpoint answered (%s at %s): %s",
				    what, s->mi_url, rs.error);
				rc = AZ_SRC_UNAVAILABLE;
			} else {
				http_response_free(&rs);
				az_sleep_ms(delay);
				continue;
			}
			http_response_free(&rs);
			goto out;
		}
		/* In the chain's probe, only an answer shaped like IMDS's (a token,
		 * or a JSON error) proves an identity endpoint: another cloud's
		 * metadata service also listens on 169.254.169.254. */
		if (probe && rs.status != 200 && !(rs.status == 400 && rs.body != NULL
		    && strstr(rs.body, "\"error\"") != NULL)) {
			snprintf(err, errlen, "something answered at %s with %ld, but not as Azure "
			    "IMDS does", s->mi_url, rs.status);
			az_response_wipe(&rs);
			rc = AZ_SRC_UNAVAILABLE;
			goto out;
		}
		probe = 0;
		if (rs.status == 200) {
			rc = az_parse_token(rs.body, rs.body_len, what, out, err, errlen) == 0
			    ? AZ_SRC_OK : AZ_SRC_FAILED;
			az_response_wipe(&rs);
			goto out;
		}
		if (mi_retryable(rs.status) && attempt < MI_ATTEMPTS) {
			ra = http_retry_after_ms(&rs);
			if (ra >= 0)
				delay = ra;
			if (http_now_ms() + delay < deadline) {
				az_response_wipe(&rs);
				az_sleep_ms(delay);
				continue;
			}
		}
		az_oauth_error(rs.status, rs.body, why, sizeof why);
		if (rs.status == 400) {
			snprintf(err, errlen, "%s has no such identity for this machine%s: %s", what,
			    s->client_id != NULL ? " (client id from AZURE_CLIENT_ID or the config)" : "",
			    why);
			rc = AZ_SRC_UNAVAILABLE;
		} else {
			snprintf(err, errlen, "%s refused the token request: %s", what, why);
			rc = AZ_SRC_FAILED;
		}
		az_response_wipe(&rs);
		goto out;
	}
out:
	if (rc == AZ_SRC_OK)
		log_debug(AZ_MOD, "credential managed-identity: token for %s from %s", scope, what);
	az_buf_wipe(&url);
	az_buf_wipe(&hdr);
	return rc;
}
