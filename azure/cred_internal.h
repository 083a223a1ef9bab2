/*
 * cred_internal.h — what the credential sources (cred_entra.c, cred_mi.c,
 * cred_cli.c) share with the chain and cache in credential.c.  Not a public
 * interface: nothing outside azure/cred*.c includes it.
 */
#ifndef BGSWITCH_AZURE_CRED_INTERNAL_H
#define BGSWITCH_AZURE_CRED_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "azure/cloud.h"
#include "azure/credential.h"
#include "src/http.h"

#define AZ_MOD "azure"

/* Outcome of one source's attempt: OK, not set up here (the chain moves
 * on), or set up but failed (the chain stops). */
enum az_src_rc { AZ_SRC_OK = 0, AZ_SRC_UNAVAILABLE = 1, AZ_SRC_FAILED = 2 };

enum az_method {
	AZ_M_NONE = 0, AZ_M_SECRET, AZ_M_CERT, AZ_M_FEDERATED, AZ_M_IMDS, AZ_M_APPSERVICE,
	AZ_M_CLI,
};

/* A fetched token; token is malloc'd and wiped by az_token_clear(). */
struct az_token {
	char *token;
	long long expires_ms;	/* Unix epoch ms */
	long long refresh_ms;	/* when the service says to refresh (0 = not said) */
};

/* One credential source with what it read from the config/environment. */
struct az_src {
	enum az_cred_kind kind;
	enum az_method method;
	char unavailable[384];	/* why it is not set up; "" when it is */
	int setup_failed;	/* set up, but its material is unusable: a failure, not "unavailable" */
	char *tenant;
	char *client_id;
	char *secret;		/* client secret (wiped) */
	EVP_PKEY *key;		/* certificate credential */
	char x5t[64];		/* base64url SHA-1 thumbprint of the DER certificate */
	char x5t256[64];	/* base64url SHA-256 thumbprint */
	char *token_file;	/* AZURE_FEDERATED_TOKEN_FILE */
	char *mi_url;		/* IMDS or App Service token URL (no query) */
	char *mi_header;	/* App Service IDENTITY_HEADER (wiped) */
	atomic_int mi_probe_done;	/* the chain's short first try is over */
};

struct az_cred {
	enum az_cred_kind kind;
	struct az_endpoints ep;
	struct http_client *http;
	az_getenv_fn getenv_fn;
	void *getenv_ctx;
	long timeout_ms;
	long cli_timeout_ms;
	long probe_ms;
	char *cli_tenant;	/* --tenant for az, from the config only */
	struct az_src src[4];
	int nsrc;
	int chosen;		/* default chain: the member that worked, -1 none (under lock) */
	atomic_int last;	/* source of the last token, -1 none */
	struct az_cache *cache;	/* per-scope tokens, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* a fetch finished */
};

/* Environment lookup through the configured function; "" counts as unset. */
const char *az_env(const struct az_cred *c, const char *name);
/* CFGVAL when set, else the environment variable ENVNAME, else NULL. */
const char *az_pick(const struct az_cred *c, const char *cfgval, const char *envname);
/* A tenant is a GUID or a domain name: letters, digits, '.', '-'. */
int az_tenant_valid(const char *t);
/* snprintf that may truncate on purpose (messages built from server text). */
void az_errf(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sleeps MS milliseconds. */
void az_sleep_ms(long long ms);

/* Unix epoch milliseconds (wall clock: token expiries are wall-clock). */
long long az_epoch_ms(void);

/* Growable string for forms and URLs; az_buf_wipe() cleanses it. */
struct az_buf {
	char *p;
	size_t len, cap;
	int oom;
};
void az_buf_add(struct az_buf *b, const char *s, size_t n);
void az_buf_str(struct az_buf *b, const char *s);
/* Appends S percent-encoded (RFC 3986 unreserved characters kept). */
void az_buf_enc(struct az_buf *b, const char *s);
/* Appends "&name=value" (no '&' when empty), value percent-encoded. */
void az_buf_form(struct az_buf *b, const char *name, const char *value);
void az_buf_wipe(struct az_buf *b);

/* Base64url without padding; returns the length written or -1. */
int az_b64url(const unsigned char *in, size_t n, char *out, size_t outlen);
/* Random (version 4) UUID, 36 characters + NUL. */
void az_uuid4(char out[37]);
/* Cleanses and frees a NUL-terminated string; NULL is a no-op. */
void az_wipe_free(char *s);
/* Cleanses the body of R, then frees R. */
void az_response_wipe(struct http_response *r);
void az_token_clear(struct az_token *t);

/* Reads a small file whole (at most MAX bytes); NULL with ERR on failure. */
char *az_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

/* Parses an OAuth token answer (Entra, IMDS, App Service): access_token,
 * expires_in (number or string), else expires_on (epoch, number or string),
 * refresh_in.  WHAT names the source in errors. */
int az_parse_token(const char *body, size_t len, const char *what, struct az_token *out,
    char *err, size_t errlen);
/* Readable text of an Entra/IMDS error answer: "401 invalid_client:
 * AADSTS7000215: Invalid client secret provided. (trace id ..., correlation
 * id ...)"; non-JSON bodies are quoted briefly and sanitized. */
void az_oauth_error(long status, const char *body, char *out, size_t outlen);

/* POSTs FORM to Entra's token endpoint for TENANT and parses the token.
 * Retries transient failures (connection, 429, 5xx) a few times. */
enum az_src_rc az_entra_post(struct az_cred *c, const char *tenant, const char *form,
    size_t formlen, struct az_token *out, char *err, size_t errlen);
/* "{authority}{tenant}/oauth2/v2.0/token" */
void az_token_url(const struct az_cred *c, const char *tenant, char *out, size_t outlen);

/* Source setup (cred_entra.c, cred_mi.c, cred_cli.c): fill S from the
 * config and environment; an unset source gets S->unavailable.  -1 (with
 * ERR) only for errors that make the whole config invalid. */
int az_src_env_init(struct az_cred *c, struct az_src *s, const struct az_cred_config *cfg,
    char *err, size_t errlen);
int az_src_wi_init(struct az_cred *c, struct az_src *s, const struct az_cred_config *cfg,
    char *err, size_t errlen);
int az_src_mi_init(struct az_cred *c, struct az_src *s, const struct az_cred_config *cfg,
    char *err, size_t errlen);
int az_src_cli_init(struct az_cred *c, struct az_src *s, const struct az_cred_config *cfg,
    char *err, size_t errlen);

/* Fetchers.  PROBE asks managed identity for the chain's short first try. */
enum az_src_rc az_entra_fetch(struct az_cred *c, struct az_src *s, const char *scope,
    struct az_token *out, char *err, size_t errlen);
enum az_src_rc az_mi_fetch(struct az_cred *c, struct az_src *s, const char *scope, int probe,
    struct az_token *out, char *err, size_t errlen);
enum az_src_rc az_cli_fetch(struct az_cred *c, struct az_src *s, const char *scope,
    struct az_token *out, char *err, size_t errlen);

/* The resource form of a ".default" scope (v1 endpoints and az take it). */
void az_scope_resource(const char *scope, char *out, size_t outlen);

void az_src_free(struct az_src *s);

#endif
