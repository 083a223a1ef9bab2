/*
 * cred_entra.c — the credentials that talk to Entra ID's token endpoint
 * themselves: a client secret, a client certificate (a JWT assertion signed
 * here with OpenSSL), and a federated token file (workload identity).
 *
 * All three are the OAuth 2.0 client credentials grant against
 * {authority}/{tenant}/oauth2/v2.0/token with scope={resource}/.default
 * (learn.microsoft.com, "Microsoft identity platform and the OAuth 2.0
 * client credentials flow"); they differ in how the client proves itself:
 * client_secret, or client_assertion_type =
 * urn:ietf:params:oauth:client-assertion-type:jwt-bearer with
 * client_assertion = a JWT (RFC 7523).
 *
 * The certificate assertion (learn.microsoft.com, "Microsoft identity
 * platform application authentication certificate credentials"): header
 * alg, typ "JWT" and the certificate's thumbprint; claims aud = the token
 * endpoint URL, iss = sub = the client id, jti unique, nbf/iat now, exp a few
 * minutes later.  That page has asked for alg RS256 with an x5t (SHA-1)
 * thumbprint and, in its current version, recommends PS256 with x5t#S256;
 * MSAL for Go signs RS256 with x5t (apps/internal/oauth/ops/accesstokens).
 * We sign RS256 (accepted by Entra, and what this project specifies) and
 * send both x5t and x5t#S256 (RFC 7515 §4.1.7-4.1.8 allow both), so either
 * lookup finds the registered certificate.
 */
#include "azure/cred_internal.h"

#include "src/log.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CERT_FILE_MAX	(1 << 20)
#define TOKEN_FILE_MAX	(64 << 10)
#define ASSERTION_LIFE	600	/* seconds; the docs suggest 5-10 minutes after nbf */
#define JWT_BEARER	"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/* ---- setup ------------------------------------------------------------------ */

/* Tenant and client id for a source, validated. */
static int
ids(struct az_cred *c, struct az_src *s, const struct az_cred_config *cfg, char *missing,
    size_t mlen, char *err, size_t errlen)
{
	const char *tenant = az_pick(c, cfg->tenant, "AZURE_TENANT_ID");
	const char *client = az_pick(c, cfg->client_id, "AZURE_CLIENT_ID");

	missing[0] = '\0';
	if (tenant == NULL)
		snprintf(missing, mlen, "AZURE_TENANT_ID");
	if (client == NULL)
		snprintf(missing + strlen(missing), mlen - strlen(missing), "%sAZURE_CLIENT_ID",
		    missing[0] ? " and " : "");
	if (tenant != NULL && !az_tenant_valid(tenant)) {
		snprintf(err, errlen, "tenant \"%.80s\" is not a tenant id or domain", tenant);
		return -1;
	}
	if (client != NULL && (strlen(client) > 128 || strpbrk(client, "\"\\\r\n") != NULL)) {
		snprintf(err, errlen, "client id \"%.80s\" is malformed", client);
		return -1;
	}
	if ((tenant != NULL && (s->tenant = strdup(tenant)) == NULL)
	    || (client != NULL && (s->client_id = strdup(client)) == NULL)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* OpenSSL's passphrase callback: the password, or nothing (never a prompt:
 * the UI owns the terminal). */
static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pw = u;
	size_t n;

	(void)rwflag;
	if (pw == NULL || size <= 0)
		return 0;
	n = strlen(pw);
	if (n > (size_t)size)
		n = (size_t)size;
	memcpy(buf, pw, n);
	return (int)n;
}

static int
thumbprints(struct az_src *s, X509 *cert, char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (X509_digest(cert, EVP_sha1(), md, &mdlen) != 1
	    || az_b64url(md, mdlen, s->x5t, sizeof s->x5t) < 0
	    || X509_digest(cert, EVP_sha256(), md, &mdlen) != 1
	    || az_b64url(md, mdlen, s->x5t256, sizeof s->x5t256) < 0) {
		snprintf(err, errlen, "cannot compute the certificate thumbprint");
		return -1;
	}
	return 0;
}

/* Loads the key and the certificate that matches it from a PEM file (any
 * order, possibly with a chain) or a PKCS#12 file.  The Azure SDKs accept
 * both for AZURE_CLIENT_CERTIFICATE_PATH (Azure SDK for Go,
 * client_certificate_credential.go, ParseCertificates). */
static int
load_cert(struct az_src *s, const char *path, const char *password, char *err, size_t errlen)
{
	char why[300];
	size_t len = 0;
	char *data = az_read_file(path, CERT_FILE_MAX, &len, why, sizeof why);
	BIO *bio = NULL;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	int rc = -1;

	if (data == NULL) {
		snprintf(err, errlen, "AZURE_CLIENT_CERTIFICATE_PATH: %s", why);
		return -1;
	}
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL)
		goto oom;
	if (strstr(data, "-----BEGIN") != NULL) {
		X509 *x;

		key = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)password);
		if (key == NULL) {
			snprintf(err, errlen, "%s holds no usable private key%s", path,
			    password == NULL && strstr(data, "ENCRYPTED") != NULL
			    ? " (it is encrypted: set AZURE_CLIENT_CERTIFICATE_PASSWORD)"
			    : password != NULL ? " (wrong AZURE_CLIENT_CERTIFICATE_PASSWORD?)" : "");
			goto out;
		}
		(void)BIO_reset(bio);
		while ((x = PEM_read_bio_X509(bio, NULL, pass_cb, NULL)) != NULL) {
			if (cert == NULL && X509_check_private_key(x, key) == 1)
				cert = x;
			else
				X509_free(x);
		}
		if (cert == NULL) {
			snprintf(err, errlen, "%s holds no certificate matching its private key", path);
			goto out;
		}
	} else {
		PKCS12 *p12 = d2i_PKCS12_bio(bio, NULL);
		STACK_OF(X509) *ca = NULL;

		if (p12 == NULL || PKCS12_parse(p12, password != NULL ? password : "", &key, &cert,
		    &ca) != 1 || key == NULL || cert == NULL) {
			snprintf(err, errlen, "%s is neither PEM (certificate and key) nor a PKCS#12 "
			    "file this password opens", path);
			PKCS12_free(p12);
			sk_X509_pop_free(ca, X509_free);
			goto out;
		}
		PKCS12_free(p12);
		sk_X509_pop_free(ca, X509_free);
	}
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		/* Entra certificate credentials are RSA (RS256/PS256). */
		snprintf(err, errlen, "%s: the private key is not RSA", path);
		goto out;
	}
	if (thumbprints(s, cert, err, errlen) != 0)
		goto out;
	s->key = key;
	key = NULL;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	BIO_free(bio);
	X509_free(cert);
	EVP_PKEY_free(key);
	OPENSSL_cleanse(data, len);
	free(data);
	ERR_clear_error();
	return rc;
}

int
az_src_env_init(struct az_cred *c, struct az_src *s, const struct az_cred_config *cfg, char *err,
    size_t errlen)
{
	const char *secret = az_env(c, "AZURE_CLIENT_SECRET");
	const char *certpath = az_env(c, "AZURE_CLIENT_CERTIFICATE_PATH");
	char missing[128];

	if (ids(c, s, cfg, missing, sizeof missing, err, errlen) != 0)
		return -1;
	if (secret == NULL && certpath == NULL) {
		snprintf(s->unavailable, sizeof s->unavailable, "%s%sAZURE_CLIENT_SECRET or "
		    "AZURE_CLIENT_CERTIFICATE_PATH not set", missing, missing[0] ? " and " : "");
		return 0;
	}
	if (missing[0] != '\0') {
		snprintf(s->unavailable, sizeof s->unavailable, "%s not set", missing);
		return 0;
	}
	/* The SDKs prefer the secret when both are set (Azure SDK for Go,
	 * environment_credential.go). */
	if (secret != NULL) {
		s->method = AZ_M_SECRET;
		if ((s->secret = strdup(secret)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	}
	s->method = AZ_M_CERT;
	if (load_cert(s, certpath, az_env(c, "AZURE_CLIENT_CERTIFICATE_PASSWORD"), err, errlen) != 0) {
		/* Set up but broken: for a pinned credential an error now; in
		 * the chain a failure (which stops it) when its turn comes. */
		if (cfg->kind != AZ_CRED_DEFAULT)
			return -1;
		snprintf(s->unavailable, sizeof s->unavailable, "%s", err);
		s->setup_failed = 1;
		err[0] = '\0';
	}
	return 0;
}

int
az_src_wi_init(struct az_cred *c, struct az_src *s, const struct az_cred_config *cfg, char *err,
    size_t errlen)
{
	/* The AKS workload identity webhook injects AZURE_CLIENT_ID,
	 * AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST
	 * (learn.microsoft.com, "Use Microsoft Entra Workload ID with AKS"). */
	const char *file = az_env(c, "AZURE_FEDERATED_TOKEN_FILE");
	char missing[128];

	s->method = AZ_M_FEDERATED;
	if (ids(c, s, cfg, missing, sizeof missing, err, errlen) != 0)
		return -1;
	if (file == NULL) {
		snprintf(s->unavailable, sizeof s->unavailable, "AZURE_FEDERATED_TOKEN_FILE%s%s not set",
		    missing[0] ? ", " : "", missing);
		return 0;
	}
	if (missing[0] != '\0') {
		snprintf(s->unavailable, sizeof s->unavailable, "%s not set", missing);
		return 0;
	}
	if ((s->token_file = strdup(file)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- the assertion ---------------------------------------------------------- */

static char *
b64url_dup(const unsigned char *in, size_t n)
{
	size_t cap = 4 * ((n + 2) / 3) + 1;
	char *out = malloc(cap);

	if (out != NULL && az_b64url(in, n, out, cap) < 0) {
		free(out);
		out = NULL;
	}
	return out;
}

static char *
json_b64url(cJSON *j)
{
	char *txt = cJSON_PrintUnformatted(j);
	char *out;

	if (txt == NULL)
		return NULL;
	out = b64url_dup((const unsigned char *)txt, strlen(txt));
	free(txt);
	return out;
}

/* Builds and signs the client assertion; NULL with ERR on failure. */
static char *
make_assertion(const struct az_cred *c, const struct az_src *s, char *err, size_t errlen)
{
	char aud[800], jti[37];
	cJSON *hdr = cJSON_CreateObject(), *claims = cJSON_CreateObject();
	char *h64 = NULL, *c64 = NULL, *s64 = NULL, *out = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	struct az_buf input = { 0 };
	EVP_MD_CTX *md = NULL;
	time_t now = time(NULL);

	az_token_url(c, s->tenant, aud, sizeof aud);
	az_uuid4(jti);
	if (hdr == NULL || claims == NULL
	    || cJSON_AddStringToObject(hdr, "alg", "RS256") == NULL
	    || cJSON_AddStringToObject(hdr, "typ", "JWT") == NULL
	    || cJSON_AddStringToObject(hdr, "x5t", s->x5t) == NULL
	    || cJSON_AddStringToObject(hdr, "x5t#S256", s->x5t256) == NULL
	    || cJSON_AddStringToObject(claims, "aud", aud) == NULL
	    || cJSON_AddStringToObject(claims, "iss", s->client_id) == NULL
	    || cJSON_AddStringToObject(claims, "sub", s->client_id) == NULL
	    || cJSON_AddStringToObject(claims, "jti", jti) == NULL
	    || cJSON_AddNumberToObject(claims, "nbf", (double)now) == NULL
	    || cJSON_AddNumberToObject(claims, "iat", (double)now) == NULL
	    || cJSON_AddNumberToObject(claims, "exp", (double)(now + ASSERTION_LIFE)) == NULL
	    || (h64 = json_b64url(hdr)) == NULL || (c64 = json_b64url(claims)) == NULL) {
		snprintf(err, errlen, "out of memory building the client assertion");
		goto out;
	}
	az_buf_str(&input, h64);
	az_buf_add(&input, ".", 1);
	az_buf_str(&input, c64);
	md = EVP_MD_CTX_new();
	if (input.oom || md == NULL
	    || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, s->key) != 1
	    || EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)input.p, input.len) != 1
	    || (sig = malloc(siglen)) == NULL
	    || EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input.p, input.len) != 1
	    || (s64 = b64url_dup(sig, siglen)) == NULL) {
		snprintf(err, errlen, "cannot sign the client assertion with the certificate's key");
		goto out;
	}
	az_buf_add(&input, ".", 1);
	az_buf_str(&input, s64);
	if (input.oom) {
		snprintf(err, errlen, "out of memory building the client assertion");
		goto out;
	}
	out = input.p;
	input.p = NULL;
out:
	az_buf_wipe(&input);
	EVP_MD_CTX_free(md);
	cJSON_Delete(hdr);
	cJSON_Delete(claims);
	free(h64);
	free(c64);
	free(s64);
	free(sig);
	ERR_clear_error();
	return out;
}

/* The federated token, trimmed; read afresh on every request because the
 * kubelet rotates the projected service account token. */
static char *
read_federated(const struct az_src *s, char *err, size_t errlen)
{
	char why[300];
	size_t len = 0, a = 0;
	char *t = az_read_file(s->token_file, TOKEN_FILE_MAX, &len, why, sizeof why);

	if (t == NULL) {
		snprintf(err, errlen, "AZURE_FEDERATED_TOKEN_FILE: %s", why);
		return NULL;
	}
	while (len > 0 && isspace((unsigned char)t[len - 1]))
		t[--len] = '\0';
	while (a < len && isspace((unsigned char)t[a]))
		a++;
	if (a == len) {
		snprintf(err, errlen, "AZURE_FEDERATED_TOKEN_FILE %s is empty", s->token_file);
		free(t);
		return NULL;
	}
	memmove(t, t + a, len - a + 1);
	return t;
}

enum az_src_rc
az_entra_fetch(struct az_cred *c, struct az_src *s, const char *scope, struct az_token *out,
    char *err, size_t errlen)
{
	struct az_buf form = { 0 };
	char *assertion = NULL;
	enum az_src_rc rc;

	az_buf_form(&form, "grant_type", "client_credentials");
	az_buf_form(&form, "client_id", s->client_id);
	az_buf_form(&form, "scope", scope);
	switch (s->method) {
	case AZ_M_SECRET:
		az_buf_form(&form, "client_secret", s->secret);
		break;
	case AZ_M_CERT:
	case AZ_M_FEDERATED:
		assertion = s->method == AZ_M_CERT ? make_assertion(c, s, err, errlen)
		    : read_federated(s, err, errlen);
		if (assertion == NULL) {
			az_buf_wipe(&form);
			return AZ_SRC_FAILED;
		}
		az_buf_form(&form, "client_assertion_type", JWT_BEARER);
		az_buf_form(&form, "client_assertion", assertion);
		az_wipe_free(assertion);
		break;
	default:
		az_buf_wipe(&form);
		snprintf(err, errlen, "no client credential");
		return AZ_SRC_FAILED;
	}
	if (form.oom) {
		az_buf_wipe(&form);
		snprintf(err, errlen, "out of memory");
		return AZ_SRC_FAILED;
	}
	rc = az_entra_post(c, s->tenant, form.p, form.len, out, err, errlen);
	az_buf_wipe(&form);
	if (rc == AZ_SRC_OK)
		log_debug(AZ_MOD, "credential %s: token for %s from Entra ID (tenant %s, client %s)",
		    s->kind == AZ_CRED_ENVIRONMENT ? "environment" : "workload-identity", scope,
		    s->tenant, s->client_id);
	return rc;
}
