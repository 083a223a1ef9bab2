/*
 * sim_entra.c — the simulated Microsoft Entra ID token endpoint and the
 * Azure Instance Metadata Service (IMDS) managed-identity endpoint.
 *
 * It issues access tokens to the clients the world file registers, in each
 * of the ways bgswitch must support (PRODUCT.md §4): a client secret, a
 * client certificate (an RS256/PS256-signed JWT assertion, verified here with
 * OpenSSL against the certificate registered for the client), a federated
 * (workload identity) token, and a managed identity through IMDS.  Refusals
 * carry the AADSTS codes and the error body the real service sends, so a
 * client's error handling is exercised on realistic input.
 *
 * Every issued token is remembered with its audience and expiry; ARM (and
 * anyone else in the simulator) asks sim_entra_token_check() whether a
 * bearer token is good.  The tokens are JWT-shaped and decodable like real
 * ones, but their signature is an HMAC with a per-process key: nothing but
 * the token table can vouch for them, which is also true of real tokens
 * for everyone but the resource they are meant for.
 *
 * Clocks: a token is valid for entra.token_lifetime *simulated* seconds,
 * so that refresh can be exercised at compressed time; what the client is
 * told (expires_in, expires_on, the exp claim) is the same span in its own
 * real clock, since that is the clock it schedules refreshes by.  Client
 * assertions are made by the client with its real clock, so their exp and
 * nbf are checked against the real clock too.
 *
 * References: Microsoft identity platform "OAuth 2.0 client credentials
 * flow", "certificate credentials" (assertion claims and x5t / x5t#S256
 * headers), "workload identity federation" (aud api://AzureADTokenExchange),
 * and "How to use managed identities ... to acquire an access token" (IMDS).
 */
#include "sim/sim_arm.h"

#include <ctype.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ENTRA_MAX_CERTS 8
#define ENTRA_MAX_TOKENS 20000
/* Tokens are forgotten this long (simulated) after expiry; until then an
 * expired token is reported as expired rather than unknown. */
#define ENTRA_KEEP_EXPIRED_MS (24LL * 3600 * 1000)
#define ASSERTION_TYPE_JWT "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define FEDERATED_AUDIENCE "api://AzureADTokenExchange"
/* The AKS AAD server application: kubelogin asks for this resource. */
#define AKS_AAD_SERVER "6dae42f8-4368-4678-94ff-3960e28e3630"

struct entra_cert {
	X509 *x509;
	char x5t[64];			/* base64url SHA-1 of the DER */
	char x5t256[64];		/* base64url SHA-256 of the DER */
	char hex[48];			/* SHA-1 in upper-case hex, as AADSTS messages print it */
};

struct entra_client {
	char id[128];
	char *secret;
	char oid[40];			/* service principal object id */
	struct entra_cert cert[ENTRA_MAX_CERTS];
	int ncert;
	char *fed_issuer, *fed_subject;
};

struct entra_token {
	char *token;
	char aud[256];
	int64_t exp_ms;			/* simulated */
};

static struct {
	double lifetime;		/* simulated seconds */
	struct entra_client *clients;
	int nclients;
	char mi_client_id[128];
	char mi_principal[40];
	int has_mi;
	struct entra_token *tok;
	size_t ntok, captok;
	unsigned char key[32];		/* HMAC key of the tokens' signature */
	char kid[32];
} E;

/* ---- small helpers ---------------------------------------------------------- */

static int64_t
real_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

/* base64url without padding, malloc'd. */
static char *
b64url(const void *data, size_t len)
{
	char *s = sim_base64(data, len), *p, *q;

	if (s == NULL)
		return NULL;
	for (p = q = s; *p != '\0'; p++) {
		if (*p == '=')
			continue;
		*q++ = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	}
	*q = '\0';
	return s;
}

static void
b64url_into(const void *data, size_t len, char *buf, size_t n)
{
	char *s = b64url(data, len);

	snprintf(buf, n, "%s", s != NULL ? s : "");
	free(s);
}

static struct entra_client *
client_find(const char *id)
{
	for (int i = 0; id != NULL && i < E.nclients; i++)
		if (strcasecmp(E.clients[i].id, id) == 0)
			return &E.clients[i];
	return NULL;
}

static struct entra_client *
client_add(const char *id)
{
	struct entra_client *n = realloc(E.clients, sizeof *n * (size_t)(E.nclients + 1));

	if (n == NULL)
		return NULL;
	E.clients = n;
	n = &E.clients[E.nclients++];
	memset(n, 0, sizeof *n);
	snprintf(n->id, sizeof n->id, "%s", id);
	sim_uuid(n->oid);
	return n;
}

static void
entra_free(void)
{
	for (int i = 0; i < E.nclients; i++) {
		struct entra_client *c = &E.clients[i];
		free(c->secret);
		free(c->fed_issuer);
		free(c->fed_subject);
		for (int k = 0; k < c->ncert; k++)
			X509_free(c->cert[k].x509);
	}
	free(E.clients);
	for (size_t i = 0; i < E.ntok; i++)
		free(E.tok[i].token);
	free(E.tok);
	memset(&E, 0, sizeof E);
}

/* Loads a certificate from inline PEM text or a PEM file. */
static X509 *
cert_load(const char *pem_or_path, char *err, size_t errlen)
{
	BIO *bio;
	X509 *x;

	if (strncmp(pem_or_path, "-----BEGIN", 10) == 0) {
		bio = BIO_new_mem_buf(pem_or_path, -1);
	} else {
		bio = BIO_new_file(pem_or_path, "r");
		if (bio == NULL) {
			snprintf(err, errlen, "cannot read certificate file %s", pem_or_path);
			return NULL;
		}
	}
	if (bio == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL)
		snprintf(err, errlen, "no PEM certificate in %s",
		    strncmp(pem_or_path, "-----BEGIN", 10) == 0 ? "the given text" : pem_or_path);
	return x;
}

static int
cert_attach(struct entra_client *c, X509 *x, char *err, size_t errlen)
{
	struct entra_cert *ec;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;

	if (c->ncert >= ENTRA_MAX_CERTS) {
		snprintf(err, errlen, "client %s already has %d certificates", c->id, ENTRA_MAX_CERTS);
		X509_free(x);
		return -1;
	}
	ec = &c->cert[c->ncert];
	memset(ec, 0, sizeof *ec);
	ec->x509 = x;
	if (X509_digest(x, EVP_sha1(), md, &mdlen) != 1) {
		snprintf(err, errlen, "cannot hash the certificate");
		X509_free(x);
		return -1;
	}
	b64url_into(md, mdlen, ec->x5t, sizeof ec->x5t);
	for (unsigned int i = 0; i < mdlen && i * 2 + 2 < sizeof ec->hex; i++)
		snprintf(ec->hex + i * 2, 3, "%02X", md[i]);
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1) {
		snprintf(err, errlen, "cannot hash the certificate");
		X509_free(x);
		return -1;
	}
	b64url_into(md, mdlen, ec->x5t256, sizeof ec->x5t256);
	c->ncert++;
	return 0;
}

int
sim_entra_add_certificate(const char *client_id, const char *pem, char *x5t, size_t x5tlen,
    char *err, size_t errlen)
{
	struct entra_client *c;
	X509 *x;

	if (client_id == NULL || *client_id == '\0') {
		snprintf(err, errlen, "client_id: expected a non-empty string");
		return -1;
	}
	if (pem == NULL || strncmp(pem, "-----BEGIN", 10) != 0) {
		snprintf(err, errlen, "pem: expected PEM text (-----BEGIN CERTIFICATE-----...)");
		return -1;
	}
	x = cert_load(pem, err, errlen);
	if (x == NULL)
		return -1;
	c = client_find(client_id);
	if (c == NULL && (c = client_add(client_id)) == NULL) {
		X509_free(x);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (cert_attach(c, x, err, errlen) != 0)
		return -1;
	if (x5t != NULL)
		snprintf(x5t, x5tlen, "%s", c->cert[c->ncert - 1].x5t);
	return 0;
}

/* ---- the world's entra: section ------------------------------------------- */

static int
load_string(const cJSON *v, const char *path, char **out, char *err, size_t errlen)
{
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "%s: expected a string", path);
		return -1;
	}
	*out = strdup(v->valuestring);
	return *out != NULL ? 0 : -1;
}

static int
load_client(const cJSON *cj, int idx, char *err, size_t errlen)
{
	char path[96];
	const cJSON *it, *id = cJSON_GetObjectItemCaseSensitive(cj, "client_id");
	struct entra_client *c;

	snprintf(path, sizeof path, "entra.clients[%d]", idx);
	if (!cJSON_IsObject(cj)) {
		snprintf(err, errlen, "%s: expected a mapping", path);
		return -1;
	}
	if (!cJSON_IsString(id) || id->valuestring[0] == '\0') {
		snprintf(err, errlen, "%s.client_id: expected a string", path);
		return -1;
	}
	if (client_find(id->valuestring) != NULL) {
		snprintf(err, errlen, "%s.client_id: %s is listed twice", path, id->valuestring);
		return -1;
	}
	c = client_add(id->valuestring);
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cJSON_ArrayForEach(it, cj) {
		char sub[160];

		snprintf(sub, sizeof sub, "%s.%s", path, it->string);
		if (strcmp(it->string, "client_id") == 0) {
			continue;
		} else if (strcmp(it->string, "client_secret") == 0) {
			if (load_string(it, sub, &c->secret, err, errlen) != 0)
				return -1;
		} else if (strcmp(it->string, "certificate") == 0 || strcmp(it->string, "certificates") == 0) {
			/* One PEM path (or inline PEM), or a list of them. */
			const cJSON *one;
			int k = 0;

			if (cJSON_IsString(it)) {
				X509 *x = cert_load(it->valuestring, err, errlen);
				if (x == NULL || cert_attach(c, x, err, errlen) != 0) {
					char tmp[256];
					snprintf(tmp, sizeof tmp, "%s", err);
					snprintf(err, errlen, "%s: %s", sub, tmp);
					return -1;
				}
				continue;
			}
			if (!cJSON_IsArray(it)) {
				snprintf(err, errlen, "%s: expected a PEM file path or a list of them", sub);
				return -1;
			}
			cJSON_ArrayForEach(one, it) {
				X509 *x;
				char tmp[256];

				if (!cJSON_IsString(one)) {
					snprintf(err, errlen, "%s[%d]: expected a string", sub, k);
					return -1;
				}
				x = cert_load(one->valuestring, tmp, sizeof tmp);
				if (x == NULL || cert_attach(c, x, tmp, sizeof tmp) != 0) {
					snprintf(err, errlen, "%s[%d]: %s", sub, k, tmp);
					return -1;
				}
				k++;
			}
		} else if (strcmp(it->string, "federated") == 0) {
			const cJSON *f;

			if (!cJSON_IsObject(it)) {
				snprintf(err, errlen, "%s: expected a mapping with issuer and subject", sub);
				return -1;
			}
			cJSON_ArrayForEach(f, it) {
				char fp[200];

				snprintf(fp, sizeof fp, "%s.%s", sub, f->string);
				if (strcmp(f->string, "issuer") == 0) {
					if (load_string(f, fp, &c->fed_issuer, err, errlen) != 0)
						return -1;
				} else if (strcmp(f->string, "subject") == 0) {
					if (load_string(f, fp, &c->fed_subject, err, errlen) != 0)
						return -1;
				} else {
					snprintf(err, errlen, "%s: unknown key (known: issuer, subject)", fp);
					return -1;
				}
			}
			if (c->fed_issuer == NULL || c->fed_subject == NULL) {
				snprintf(err, errlen, "%s: needs both issuer and subject", sub);
				return -1;
			}
		} else {
			snprintf(err, errlen, "%s: unknown key (known: client_id, client_secret, "
			    "certificate, federated)", sub);
			return -1;
		}
	}
	return 0;
}

int
sim_entra_load(const cJSON *world, char *err, size_t errlen)
{
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(world, "entra"), *it;

	entra_free();
	E.lifetime = 3600;
	RAND_bytes(E.key, sizeof E.key);
	sim_random_hex(E.kid, 27);
	if (en == NULL || cJSON_IsNull(en))
		return 0;
	if (!cJSON_IsObject(en)) {
		snprintf(err, errlen, "entra: expected a mapping");
		return -1;
	}
	cJSON_ArrayForEach(it, en) {
		if (strcmp(it->string, "token_lifetime") == 0) {
			if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 86400 * 30) {
				snprintf(err, errlen, "entra.token_lifetime: expected seconds, 1 to 2592000");
				return -1;
			}
			E.lifetime = it->valuedouble;
		} else if (strcmp(it->string, "clients") == 0) {
			const cJSON *c;
			int i = 0;

			if (!cJSON_IsArray(it)) {
				snprintf(err, errlen, "entra.clients: expected a list");
				return -1;
			}
			cJSON_ArrayForEach(c, it)
				if (load_client(c, i++, err, errlen) != 0)
					return -1;
		} else if (strcmp(it->string, "managed_identity") == 0) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "client_id"), *m;

			if (!cJSON_IsObject(it)) {
				snprintf(err, errlen, "entra.managed_identity: expected a mapping");
				return -1;
			}
			cJSON_ArrayForEach(m, it) {
				if (strcmp(m->string, "client_id") != 0) {
					snprintf(err, errlen, "entra.managed_identity.%s: unknown key (known: client_id)",
					    m->string);
					return -1;
				}
			}
			if (!cJSON_IsString(id)) {
				snprintf(err, errlen, "entra.managed_identity.client_id: expected a string");
				return -1;
			}
			snprintf(E.mi_client_id, sizeof E.mi_client_id, "%s", id->valuestring);
			sim_uuid(E.mi_principal);
			E.has_mi = 1;
		} else {
			snprintf(err, errlen, "entra.%s: unknown key (known: token_lifetime, clients, "
			    "managed_identity)", it->string);
			return -1;
		}
	}
	return 0;
}

void
sim_entra_tick(int64_t now_ms)
{
	size_t j = 0;

	for (size_t i = 0; i < E.ntok; i++) {
		if (E.tok[i].exp_ms + ENTRA_KEEP_EXPIRED_MS < now_ms) {
			free(E.tok[i].token);
			continue;
		}
		E.tok[j++] = E.tok[i];
	}
	E.ntok = j;
}

int
sim_entra_token_check(const char *token, char *aud, size_t audlen, int64_t *exp_ms)
{
	if (token == NULL)
		return SIM_TOKEN_UNKNOWN;
	/* Newest first: a client keeps using its latest token. */
	for (size_t i = E.ntok; i-- > 0;) {
		if (strcmp(E.tok[i].token, token) != 0)
			continue;
		if (aud != NULL)
			snprintf(aud, audlen, "%s", E.tok[i].aud);
		if (exp_ms != NULL)
			*exp_ms = E.tok[i].exp_ms;
		return sim_now_ms() >= E.tok[i].exp_ms ? SIM_TOKEN_EXPIRED : SIM_TOKEN_OK;
	}
	return SIM_TOKEN_UNKNOWN;
}

/* ---- issuing --------------------------------------------------------------------- */

/* What the client is told the token lives, in its real seconds. */
static long
lifetime_real_s(void)
{
	long s = (long)(E.lifetime / sim_world.speed);

	return s < 1 ? 1 : s;
}

/* Makes a v1-style app token (as Entra issues for ARM) for AUD; stores it.
 * Returns the malloc'd token. */
static char *
token_issue(const char *aud, const char *appid, const char *oid, const char *appidacr,
    const char *mirid)
{
	cJSON *h = cJSON_CreateObject(), *p = cJSON_CreateObject();
	char iss[160], uti[24], *hs, *ps, *h64, *p64, *sig64, *signing, *tok = NULL;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	int64_t now = real_now_s();
	size_t n;

	cJSON_AddStringToObject(h, "typ", "JWT");
	cJSON_AddStringToObject(h, "alg", "RS256");
	cJSON_AddStringToObject(h, "x5t", E.kid);
	cJSON_AddStringToObject(h, "kid", E.kid);
	snprintf(iss, sizeof iss, "https://sts.windows.net/%s/", sim_world.tenant);
	sim_random_hex(uti, 22);
	cJSON_AddStringToObject(p, "aud", aud);
	cJSON_AddStringToObject(p, "iss", iss);
	cJSON_AddNumberToObject(p, "iat", (double)now);
	cJSON_AddNumberToObject(p, "nbf", (double)now);
	cJSON_AddNumberToObject(p, "exp", (double)(now + lifetime_real_s()));
	cJSON_AddStringToObject(p, "aio", "sim");
	cJSON_AddStringToObject(p, "appid", appid);
	cJSON_AddStringToObject(p, "appidacr", appidacr);
	cJSON_AddStringToObject(p, "idp", iss);
	cJSON_AddStringToObject(p, "idtyp", "app");
	cJSON_AddStringToObject(p, "oid", oid);
	cJSON_AddStringToObject(p, "sub", oid);
	cJSON_AddStringToObject(p, "tid", sim_world.tenant);
	cJSON_AddStringToObject(p, "uti", uti);
	cJSON_AddStringToObject(p, "ver", "1.0");
	if (mirid != NULL)
		cJSON_AddStringToObject(p, "xms_mirid", mirid);
	hs = cJSON_PrintUnformatted(h);
	ps = cJSON_PrintUnformatted(p);
	cJSON_Delete(h);
	cJSON_Delete(p);
	h64 = hs != NULL ? b64url(hs, strlen(hs)) : NULL;
	p64 = ps != NULL ? b64url(ps, strlen(ps)) : NULL;
	free(hs);
	free(ps);
	if (h64 == NULL || p64 == NULL || asprintf(&signing, "%s.%s", h64, p64) < 0) {
		free(h64);
		free(p64);
		return NULL;
	}
	HMAC(EVP_sha256(), E.key, sizeof E.key, (unsigned char *)signing, strlen(signing), mac, &maclen);
	sig64 = b64url(mac, maclen);
	if (sig64 != NULL && asprintf(&tok, "%s.%s", signing, sig64) < 0)
		tok = NULL;
	free(sig64);
	free(signing);
	free(h64);
	free(p64);
	if (tok == NULL)
		return NULL;

	if (E.ntok >= ENTRA_MAX_TOKENS) {
		/* Forget the oldest half rather than grow without bound. */
		n = E.ntok / 2;
		for (size_t i = 0; i < n; i++)
			free(E.tok[i].token);
		memmove(E.tok, E.tok + n, sizeof *E.tok * (E.ntok - n));
		E.ntok -= n;
	}
	if (E.ntok == E.captok) {
		size_t ncap = E.captok ? E.captok * 2 : 64;
		struct entra_token *nt = realloc(E.tok, sizeof *nt * ncap);
		if (nt == NULL) {
			free(tok);
			return NULL;
		}
		E.tok = nt;
		E.captok = ncap;
	}
	E.tok[E.ntok].token = strdup(tok);
	if (E.tok[E.ntok].token == NULL) {
		free(tok);
		return NULL;
	}
	snprintf(E.tok[E.ntok].aud, sizeof E.tok[E.ntok].aud, "%s", aud);
	E.tok[E.ntok].exp_ms = sim_now_ms() + (int64_t)(E.lifetime * 1000.0);
	E.ntok++;
	return tok;
}

/* ---- answers --------------------------------------------------------------------- */

static void
common_headers(struct sim_req *req, struct sim_resp *resp, const char *trace)
{
	const char *crid = sim_req_header(req, "client-request-id");

	sim_resp_header(resp, "Cache-Control", "no-store, no-cache");
	sim_resp_header(resp, "Pragma", "no-cache");
	sim_resp_header(resp, "x-ms-request-id", "%s", trace);
	if (crid != NULL && strlen(crid) < 100 && strpbrk(crid, "\r\n") == NULL)
		sim_resp_header(resp, "client-request-id", "%s", crid);
}

/* The error body Entra's token endpoint sends (OAuth 2.0 error plus the
 * AADSTS code, trace and correlation ids). */
static void __attribute__((format(printf, 6, 7)))
entra_error(struct sim_req *req, struct sim_resp *resp, int status, const char *error, long code,
    const char *fmt, ...)
{
	char msg[1200], desc[1600], trace[40], corr[40], ts[40], uri[200];
	const char *crid = sim_req_header(req, "client-request-id");
	time_t t = (time_t)(sim_now_ms() / 1000);
	struct tm tm;
	va_list ap;
	cJSON *j = cJSON_CreateObject(), *codes;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sim_uuid(trace);
	if (crid != NULL && strlen(crid) < sizeof corr && strpbrk(crid, "\r\n\"") == NULL)
		snprintf(corr, sizeof corr, "%s", crid);
	else
		sim_uuid(corr);
	gmtime_r(&t, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%SZ", &tm);
	snprintf(desc, sizeof desc, "AADSTS%ld: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
	    code, msg, trace, corr, ts);
	snprintf(uri, sizeof uri, "%s/error?code=%ld", sim_world.base_url, code);
	cJSON_AddStringToObject(j, "error", error);
	cJSON_AddStringToObject(j, "error_description", desc);
	codes = cJSON_AddArrayToObject(j, "error_codes");
	cJSON_AddItemToArray(codes, cJSON_CreateNumber((double)code));
	cJSON_AddStringToObject(j, "timestamp", ts);
	cJSON_AddStringToObject(j, "trace_id", trace);
	cJSON_AddStringToObject(j, "correlation_id", corr);
	cJSON_AddStringToObject(j, "error_uri", uri);
	sim_resp_json_take(resp, status, j);
	common_headers(req, resp, trace);
}

/* IMDS errors are plain OAuth errors without AADSTS decoration. */
static void
imds_error(struct sim_resp *resp, int status, const char *error, const char *desc)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "error", error);
	cJSON_AddStringToObject(j, "error_description", desc);
	sim_resp_json_take(resp, status, j);
}

/* ---- form bodies ----------------------------------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The decoded value of KEY in an application/x-www-form-urlencoded BODY,
 * malloc'd, or NULL when absent. */
static char *
form_get(const char *body, const char *key)
{
	size_t klen = strlen(key);
	const char *p = body;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&'), *eq = strchr(p, '=');
		size_t plen = end != NULL ? (size_t)(end - p) : strlen(p);

		if (eq != NULL && (size_t)(eq - p) == klen && eq < p + plen && strncmp(p, key, klen) == 0) {
			const char *v = eq + 1, *vend = p + plen;
			char *out = malloc((size_t)(vend - v) + 1), *o = out;

			if (out == NULL)
				return NULL;
			while (v < vend) {
				if (*v == '+') {
					*o++ = ' ';
					v++;
				} else if (*v == '%' && vend - v >= 3 && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
					*o++ = (char)(hexval(v[1]) * 16 + hexval(v[2]));
					v += 3;
				} else {
					*o++ = *v++;
				}
			}
			*o = '\0';
			return out;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}

/* ---- JWT client assertions -------------------------------------------------------- */

struct jwt {
	cJSON *header, *payload;
	unsigned char *sig;
	size_t siglen;
	char *signing;			/* header.payload as sent */
};

static void
jwt_free(struct jwt *j)
{
	cJSON_Delete(j->header);
	cJSON_Delete(j->payload);
	free(j->sig);
	free(j->signing);
	memset(j, 0, sizeof *j);
}

static int
jwt_parse(const char *s, struct jwt *j)
{
	const char *d1 = strchr(s, '.'), *d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
	char *part;
	unsigned char *raw;
	size_t len;

	memset(j, 0, sizeof *j);
	if (d1 == NULL || d2 == NULL || strchr(d2 + 1, '.') != NULL)
		return -1;
	part = strndup(s, (size_t)(d1 - s));
	raw = part != NULL ? sim_base64_decode(part, &len) : NULL;
	free(part);
	if (raw == NULL)
		return -1;
	j->header = cJSON_ParseWithLength((char *)raw, len);
	free(raw);
	part = strndup(d1 + 1, (size_t)(d2 - d1 - 1));
	raw = part != NULL ? sim_base64_decode(part, &len) : NULL;
	free(part);
	if (raw == NULL) {
		jwt_free(j);
		return -1;
	}
	j->payload = cJSON_ParseWithLength((char *)raw, len);
	free(raw);
	j->sig = d2[1] != '\0' ? sim_base64_decode(d2 + 1, &j->siglen) : NULL;
	j->signing = strndup(s, (size_t)(d2 - s));
	if (!cJSON_IsObject(j->header) || !cJSON_IsObject(j->payload) || j->signing == NULL) {
		jwt_free(j);
		return -1;
	}
	return 0;
}

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* aud may be a string or a list of strings. */
static int
aud_has(const cJSON *payload, const char *want)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(payload, "aud"), *it;

	if (cJSON_IsString(a))
		return strcasecmp(a->valuestring, want) == 0;
	cJSON_ArrayForEach(it, a)
		if (cJSON_IsString(it) && strcasecmp(it->valuestring, want) == 0)
			return 1;
	return 0;
}

static int
verify_sig(X509 *x, const char *alg, const struct jwt *j)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	EVP_MD_CTX *md;
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if (pk == NULL || j->sig == NULL || (md = EVP_MD_CTX_new()) == NULL)
		return 0;
	ok = EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pk) == 1;
	if (ok && strcmp(alg, "PS256") == 0)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
		    && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
	if (ok)
		ok = EVP_DigestVerify(md, j->sig, j->siglen, (const unsigned char *)j->signing,
		    strlen(j->signing)) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/* The time claims of an assertion, against the client's (real) clock, with
 * the five minutes of skew Entra allows. */
static int
assertion_time_ok(struct sim_req *req, struct sim_resp *resp, const struct jwt *j)
{
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j->payload, "exp");
	const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(j->payload, "nbf");
	int64_t now = real_now_s();
	char cur[40], from[40], to[40];

	if (!cJSON_IsNumber(exp)) {
		entra_error(req, resp, 400, "invalid_request", 50027,
		    "JWT token is invalid or malformed. The 'exp' claim is missing.");
		return 0;
	}
	if ((int64_t)exp->valuedouble + 300 < now
	    || (cJSON_IsNumber(nbf) && (int64_t)nbf->valuedouble - 300 > now)) {
		sim_time_arm(now * 1000, cur, sizeof cur);
		sim_time_arm(cJSON_IsNumber(nbf) ? (int64_t)nbf->valuedouble * 1000 : 0, from, sizeof from);
		sim_time_arm((int64_t)exp->valuedouble * 1000, to, sizeof to);
		entra_error(req, resp, 401, "invalid_client", 700024,
		    "Client assertion is not within its valid time range. Current time: %s, "
		    "assertion valid from %s, expiry time of assertion %s. Review the documentation at "
		    "https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
		    cur, from, to);
		return 0;
	}
	return 1;
}

/* A certificate assertion (iss = sub = client id, signed with the
 * client's private key).  1 when good, else RESP holds the refusal. */
static int
check_cert_assertion(struct sim_req *req, struct sim_resp *resp, const char *tenant,
    struct entra_client *c, const struct jwt *j)
{
	const char *alg = jstr(j->header, "alg"), *sub = jstr(j->payload, "sub");
	const char *x5t = jstr(j->header, "x5t"), *x5t256 = jstr(j->header, "x5t#S256");
	char aud1[300], aud2[300], aud3[300];
	struct entra_cert *found = NULL;

	if (sub == NULL || strcasecmp(sub, c->id) != 0) {
		entra_error(req, resp, 401, "invalid_client", 700021,
		    "Client assertion application identifier doesn't match 'client_id' parameter. Review "
		    "the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .");
		return 0;
	}
	/* The token endpoint (v2 or v1) or the tenant's v2 issuer. */
	snprintf(aud1, sizeof aud1, "%s/%s/oauth2/v2.0/token", sim_world.base_url, tenant);
	snprintf(aud2, sizeof aud2, "%s/%s/oauth2/token", sim_world.base_url, tenant);
	snprintf(aud3, sizeof aud3, "%s/%s/v2.0", sim_world.base_url, tenant);
	if (!aud_has(j->payload, aud1) && !aud_has(j->payload, aud2) && !aud_has(j->payload, aud3)) {
		entra_error(req, resp, 401, "invalid_client", 700023,
		    "Client assertion audience claim does not match Realm issuer. Review the documentation "
		    "at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .");
		return 0;
	}
	if (!assertion_time_ok(req, resp, j))
		return 0;
	if (alg == NULL || (strcmp(alg, "RS256") != 0 && strcmp(alg, "PS256") != 0)) {
		entra_error(req, resp, 400, "invalid_request", 5002738,
		    "Invalid JWT token. '%s' is not a supported signature algorithm. Supported signing "
		    "algorithms are: 'RS256, PS256'.", alg != NULL ? alg : "(none)");
		return 0;
	}
	for (int i = 0; i < c->ncert; i++) {
		if ((x5t256 != NULL && strcmp(x5t256, c->cert[i].x5t256) == 0)
		    || (x5t256 == NULL && x5t != NULL && strcmp(x5t, c->cert[i].x5t) == 0)) {
			found = &c->cert[i];
			break;
		}
	}
	if (found == NULL && (x5t != NULL || x5t256 != NULL || c->ncert == 0)) {
		char hex[64] = "";
		unsigned char *raw;
		size_t len;

		/* Print the thumbprint the client claimed, as Entra does. */
		if (x5t != NULL && (raw = sim_base64_decode(x5t, &len)) != NULL) {
			for (size_t i = 0; i < len && i * 2 + 2 < sizeof hex; i++)
				snprintf(hex + i * 2, 3, "%02X", raw[i]);
			free(raw);
		}
		entra_error(req, resp, 401, "invalid_client", 700027,
		    "Client assertion contains an invalid signature. [Reason - The key was not found., "
		    "Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer "
		    "or directly use MS Graph to see configured keys for app Id '%s'.]", hex, c->id);
		return 0;
	}
	if (found != NULL) {
		if (verify_sig(found->x509, alg, j))
			return 1;
	} else {
		/* No thumbprint in the header: any registered key may match. */
		for (int i = 0; i < c->ncert; i++)
			if (verify_sig(c->cert[i].x509, alg, j))
				return 1;
	}
	entra_error(req, resp, 401, "invalid_client", 700027,
	    "Client assertion contains an invalid signature. [Reason - Key was found, but use of the key "
	    "to verify the signature failed., Thumbprint of key used by client: '%s', Please visit the "
	    "Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]",
	    found != NULL ? found->hex : "", c->id);
	return 0;
}

/* A federated (workload identity) assertion: trusted by issuer and subject,
 * with Entra's token-exchange audience. */
static int
check_federated(struct sim_req *req, struct sim_resp *resp, struct entra_client *c,
    const struct jwt *j)
{
	const char *iss = jstr(j->payload, "iss"), *sub = jstr(j->payload, "sub");

	if (c->fed_issuer == NULL || iss == NULL || strcmp(iss, c->fed_issuer) != 0) {
		entra_error(req, resp, 401, "invalid_client", 700211,
		    "No matching federated identity record found for presented assertion issuer '%s'. "
		    "Please check your federated identity credential Subject, Audience and Issuer against "
		    "the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
		    iss != NULL ? iss : "");
		return 0;
	}
	if (sub == NULL || c->fed_subject == NULL || strcmp(sub, c->fed_subject) != 0) {
		entra_error(req, resp, 401, "invalid_client", 700213,
		    "No matching federated identity record found for presented assertion subject '%s'. "
		    "Please check your federated identity credential Subject, Audience and Issuer against "
		    "the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
		    sub != NULL ? sub : "");
		return 0;
	}
	if (!aud_has(j->payload, FEDERATED_AUDIENCE)) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(j->payload, "aud");
		entra_error(req, resp, 401, "invalid_client", 700212,
		    "No matching federated identity record found for presented assertion audience '%s'. "
		    "Please check your federated identity credential Subject, Audience and Issuer against "
		    "the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
		    cJSON_IsString(a) ? a->valuestring : "");
		return 0;
	}
	return assertion_time_ok(req, resp, j);
}

/* Whether RES is a resource this tenant issues tokens for: Resource
 * Manager (public cloud names, or the simulator's own base URL) and the AKS
 * AAD server application kubelogin asks for. */
static int
resource_known(const char *res)
{
	static const char *const known[] = {
		"https://management.azure.com", "https://management.core.windows.net", AKS_AAD_SERVER,
	};
	size_t n = strlen(res), bl = strlen(sim_world.base_url);

	while (n > 0 && res[n - 1] == '/')
		n--;
	if (n == bl && strncasecmp(res, sim_world.base_url, n) == 0)
		return 1;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strlen(known[i]) == n && strncasecmp(res, known[i], n) == 0)
			return 1;
	return 0;
}

/* ---- the token endpoint ----------------------------------------------------------- */

static void
token_endpoint(struct sim_req *req, struct sim_resp *resp, const char *tenant, int v1)
{
	char *grant = NULL, *client_id = NULL, *secret = NULL, *atype = NULL, *assertion = NULL;
	char *scope = NULL, res[512], trace[40];
	const char *appidacr = "1";
	struct entra_client *c = NULL;
	struct jwt j;
	char *tok;
	cJSON *out;

	memset(&j, 0, sizeof j);
	if (strcmp(req->method, "POST") != 0) {
		entra_error(req, resp, 400, "invalid_request", 900561,
		    "The endpoint only accepts POST, OPTIONS requests. Received a %s request.", req->method);
		return;
	}
	if (strcasecmp(tenant, sim_world.tenant) != 0) {
		entra_error(req, resp, 400, "invalid_request", 90002,
		    "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are "
		    "signing into the correct cloud. Check with your subscription administrator, this may "
		    "happen if there are no active subscriptions for the tenant.", tenant);
		return;
	}
	grant = form_get(req->body, "grant_type");
	client_id = form_get(req->body, "client_id");
	secret = form_get(req->body, "client_secret");
	atype = form_get(req->body, "client_assertion_type");
	assertion = form_get(req->body, "client_assertion");
	scope = form_get(req->body, v1 ? "resource" : "scope");

	if (grant == NULL) {
		entra_error(req, resp, 400, "invalid_request", 900144,
		    "The request body must contain the following parameter: 'grant_type'.");
		goto out;
	}
	if (strcmp(grant, "client_credentials") != 0) {
		entra_error(req, resp, 400, "unsupported_grant_type", 70003,
		    "The app requested an unsupported grant type '%s'.", grant);
		goto out;
	}
	if (assertion != NULL) {
		if (atype == NULL || strcmp(atype, ASSERTION_TYPE_JWT) != 0) {
			entra_error(req, resp, 400, "invalid_request", 90014,
			    "The required field 'client_assertion_type' is missing from the credential or is "
			    "not '%s'.", ASSERTION_TYPE_JWT);
			goto out;
		}
		if (jwt_parse(assertion, &j) != 0) {
			entra_error(req, resp, 400, "invalid_request", 50027,
			    "JWT token is invalid or malformed.");
			goto out;
		}
		if (client_id == NULL && jstr(j.payload, "sub") != NULL)
			client_id = strdup(jstr(j.payload, "sub"));
	}
	if (client_id == NULL) {
		entra_error(req, resp, 400, "invalid_request", 900144,
		    "The request body must contain the following parameter: 'client_id'.");
		goto out;
	}
	c = client_find(client_id);
	if (c == NULL) {
		entra_error(req, resp, 400, "unauthorized_client", 700016,
		    "Application with identifier '%s' was not found in the directory '%s'. This can happen "
		    "if the application has not been installed by the administrator of the tenant or "
		    "consented to by any user in the tenant. You may have sent your authentication request "
		    "to the wrong tenant.", client_id, sim_world.tenant);
		goto out;
	}
	if (assertion != NULL) {
		const char *iss = jstr(j.payload, "iss");

		/* A certificate assertion is issued by the client itself; anything
		 * else must come from a trusted federated issuer. */
		if (iss != NULL && strcasecmp(iss, c->id) == 0) {
			if (!check_cert_assertion(req, resp, tenant, c, &j))
				goto out;
		} else if (!check_federated(req, resp, c, &j)) {
			goto out;
		}
		appidacr = "2";
	} else if (secret != NULL) {
		if (c->secret == NULL || strcmp(secret, c->secret) != 0) {
			entra_error(req, resp, 401, "invalid_client", 7000215,
			    "Invalid client secret provided. Ensure the secret being sent in the request is the "
			    "client secret value, not the client secret ID, for a secret added to app '%s'.",
			    c->id);
			goto out;
		}
	} else {
		entra_error(req, resp, 401, "invalid_client", 7000218,
		    "The request body must contain the following parameter: 'client_assertion' or "
		    "'client_secret'.");
		goto out;
	}

	if (scope == NULL) {
		entra_error(req, resp, 400, "invalid_request", 900144,
		    "The request body must contain the following parameter: '%s'.", v1 ? "resource" : "scope");
		goto out;
	}
	if (v1) {
		snprintf(res, sizeof res, "%s", scope);
	} else {
		size_t n = strlen(scope);

		/* The client credentials flow takes exactly one "{resource}/.default". */
		if (strchr(scope, ' ') != NULL || n < 9 || strcmp(scope + n - 9, "/.default") != 0) {
			entra_error(req, resp, 400, "invalid_scope", 70011,
			    "The provided value for the input parameter 'scope' is not valid. The scope %s is "
			    "not valid.", scope);
			goto out;
		}
		snprintf(res, sizeof res, "%.*s", (int)(n - 8), scope);
		/* "https://management.azure.com//.default" names the same resource. */
		n = strlen(res);
		while (n > 1 && res[n - 1] == '/' && res[n - 2] == '/')
			res[--n] = '\0';
		/* A bare resource id (an app GUID) has no trailing slash. */
		if (strncmp(res, "https://", 8) != 0 && strncmp(res, "http://", 7) != 0 && n > 0
		    && res[n - 1] == '/')
			res[--n] = '\0';
	}
	if (!resource_known(res)) {
		entra_error(req, resp, 400, "invalid_resource", 500011,
		    "The resource principal named %s was not found in the tenant named %s. This can happen "
		    "if the application has not been installed by the administrator of the tenant or "
		    "consented to by any user in the tenant. You might have sent your authentication "
		    "request to the wrong tenant.", res, sim_world.tenant);
		goto out;
	}
	tok = token_issue(res, c->id, c->oid, appidacr, NULL);
	if (tok == NULL) {
		entra_error(req, resp, 500, "temporarily_unavailable", 90033,
		    "A transient error has occurred. Please try again.");
		goto out;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "token_type", "Bearer");
	if (v1) {
		char num[32];
		int64_t now = real_now_s();

		/* The v1 endpoint prints its numbers as strings. */
		snprintf(num, sizeof num, "%ld", lifetime_real_s());
		cJSON_AddStringToObject(out, "expires_in", num);
		cJSON_AddStringToObject(out, "ext_expires_in", num);
		snprintf(num, sizeof num, "%lld", (long long)(now + lifetime_real_s()));
		cJSON_AddStringToObject(out, "expires_on", num);
		snprintf(num, sizeof num, "%lld", (long long)now);
		cJSON_AddStringToObject(out, "not_before", num);
		cJSON_AddStringToObject(out, "resource", res);
	} else {
		cJSON_AddNumberToObject(out, "expires_in", (double)lifetime_real_s());
		cJSON_AddNumberToObject(out, "ext_expires_in", (double)lifetime_real_s());
	}
	cJSON_AddStringToObject(out, "access_token", tok);
	free(tok);
	sim_resp_json_take(resp, 200, out);
	sim_uuid(trace);
	common_headers(req, resp, trace);
out:
	jwt_free(&j);
	free(grant);
	free(client_id);
	free(secret);
	free(atype);
	free(assertion);
	free(scope);
}

/* IMDS: GET /metadata/identity/oauth2/token?api-version=...&resource=... */
static void
imds_endpoint(struct sim_req *req, struct sim_resp *resp)
{
	const char *md = sim_req_header(req, "Metadata");
	const char *res = sim_req_arg(req, "resource"), *cid = sim_req_arg(req, "client_id");
	char mirid[512], num[32], *tok;
	int64_t now = real_now_s();
	cJSON *out;

	if (strcmp(req->method, "GET") != 0) {
		imds_error(resp, 405, "invalid_request", "Method not allowed");
		return;
	}
	if (md == NULL || strcasecmp(md, "true") != 0) {
		imds_error(resp, 400, "invalid_request", "Required metadata header not specified");
		return;
	}
	if (sim_req_arg(req, "api-version") == NULL) {
		imds_error(resp, 400, "invalid_request", "Required query variable 'api-version' is missing");
		return;
	}
	if (res == NULL || *res == '\0') {
		imds_error(resp, 400, "invalid_request", "Required audience parameter not specified");
		return;
	}
	if (!E.has_mi || (cid != NULL && strcasecmp(cid, E.mi_client_id) != 0)) {
		imds_error(resp, 400, "invalid_request", "Identity not found");
		return;
	}
	if (!resource_known(res)) {
		imds_error(resp, 400, "invalid_resource",
		    "AADSTS500011: The resource principal named the requested resource was not found in the tenant.");
		return;
	}
	snprintf(mirid, sizeof mirid,
	    "/subscriptions/%s/resourcegroups/%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/sim-identity",
	    sim_world.subscription, sim_world.resource_group);
	tok = token_issue(res, E.mi_client_id, E.mi_principal, "2", mirid);
	if (tok == NULL) {
		imds_error(resp, 500, "unknown_error", "token issue failed");
		return;
	}
	/* IMDS prints every value as a string. */
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "access_token", tok);
	free(tok);
	cJSON_AddStringToObject(out, "client_id", E.mi_client_id);
	snprintf(num, sizeof num, "%ld", lifetime_real_s());
	cJSON_AddStringToObject(out, "expires_in", num);
	snprintf(num, sizeof num, "%lld", (long long)(now + lifetime_real_s()));
	cJSON_AddStringToObject(out, "expires_on", num);
	snprintf(num, sizeof num, "%ld", lifetime_real_s());
	cJSON_AddStringToObject(out, "ext_expires_in", num);
	snprintf(num, sizeof num, "%lld", (long long)now);
	cJSON_AddStringToObject(out, "not_before", num);
	cJSON_AddStringToObject(out, "resource", res);
	cJSON_AddStringToObject(out, "token_type", "Bearer");
	sim_resp_json_take(resp, 200, out);
}

int
sim_entra_handle(struct sim_req *req, struct sim_resp *resp)
{
	const char *p = req->path, *slash;
	char tenant[128];
	size_t n;
	int v1;

	if (strcmp(p, "/metadata/identity/oauth2/token") == 0) {
		pthread_mutex_lock(&sim_world.lock);
		imds_endpoint(req, resp);
		pthread_mutex_unlock(&sim_world.lock);
		return 1;
	}
	/* /{tenant}/oauth2/v2.0/token and the v1 /{tenant}/oauth2/token */
	if (*p != '/' || (slash = strchr(p + 1, '/')) == NULL)
		return 0;
	if (strcmp(slash, "/oauth2/v2.0/token") == 0)
		v1 = 0;
	else if (strcmp(slash, "/oauth2/token") == 0)
		v1 = 1;
	else
		return 0;
	n = (size_t)(slash - p - 1);
	if (n == 0 || n >= sizeof tenant)
		return 0;
	memcpy(tenant, p + 1, n);
	tenant[n] = '\0';
	pthread_mutex_lock(&sim_world.lock);
	token_endpoint(req, resp, tenant, v1);
	pthread_mutex_unlock(&sim_world.lock);
	return 1;
}
