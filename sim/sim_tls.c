/*
 * sim_tls.c — certificates the simulator makes for itself at start.
 *
 * A fresh CA per run (written to DIR/ca.pem so clients verify TLS exactly as
 * they would against Azure), a server certificate for 127.0.0.1, ::1 and
 * localhost signed by it, and client certificates on demand for kubeconfig
 * users that authenticate with certificate-data (as AKS admin credentials
 * do).  Keys are ECDSA P-256: quick to make, and accepted by OpenSSL, GnuTLS
 * and Go's TLS stack (kubectl) alike.
 */
#include "sim/sim_internal.h"
#include "sim/sim_server.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sim_tls sim_tls;

static char *
bio_string(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s = malloc((size_t)n + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

static char *
cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (b != NULL && PEM_write_bio_X509(b, x))
		s = bio_string(b);
	BIO_free(b);
	return s;
}

static char *
key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (b != NULL && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
		s = bio_string(b);
	BIO_free(b);
	return s;
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ex == NULL)
		return -1;
	X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return 0;
}

/* Makes a certificate for KEY with subject CN/O, signed by ISSUER_KEY
 * (self-signed when ISSUER is NULL). */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer, EVP_PKEY *issuer_key,
    long days, const char *const exts[][2])
{
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char serial[16];
	BIGNUM *bn;

	if (x == NULL)
		return NULL;
	X509_set_version(x, 2);
	RAND_bytes(serial, sizeof serial);
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	/* Back-date by an hour so a client whose clock is slightly behind
	 * still accepts the certificate. */
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	if (org != NULL)
		X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
	for (int i = 0; exts[i][0] != NULL; i++) {
		if (add_ext(x, issuer != NULL ? issuer : x, OBJ_txt2nid(exts[i][0]), exts[i][1]) != 0) {
			X509_free(x);
			return NULL;
		}
	}
	if (!X509_sign(x, issuer_key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int
sim_tls_init(struct sim_tls *t, char *err, size_t errlen)
{
	static const char *const ca_exts[][2] = {
		{ "basicConstraints", "critical,CA:TRUE" },
		{ "keyUsage", "critical,keyCertSign,cRLSign,digitalSignature" },
		{ "subjectKeyIdentifier", "hash" },
		{ NULL, NULL },
	};
	static const char *const srv_exts[][2] = {
		{ "basicConstraints", "critical,CA:FALSE" },
		{ "keyUsage", "critical,digitalSignature,keyEncipherment" },
		{ "extendedKeyUsage", "serverAuth" },
		{ "subjectAltName", "IP:127.0.0.1,IP:::1,DNS:localhost" },
		{ "authorityKeyIdentifier", "keyid" },
		{ NULL, NULL },
	};
	EVP_PKEY *ca_key, *srv_key;
	X509 *ca, *srv;

	memset(t, 0, sizeof *t);
	ca_key = EVP_EC_gen("P-256");
	srv_key = EVP_EC_gen("P-256");
	if (ca_key == NULL || srv_key == NULL) {
		snprintf(err, errlen, "cannot generate TLS keys: %s",
		    ERR_reason_error_string(ERR_get_error()));
		EVP_PKEY_free(ca_key);
		EVP_PKEY_free(srv_key);
		return -1;
	}
	ca = make_cert(ca_key, "bgswitch simulator CA", "bgswitch", NULL, ca_key, 3650, ca_exts);
	srv = ca != NULL ? make_cert(srv_key, "127.0.0.1", "bgswitch", ca, ca_key, 825, srv_exts) : NULL;
	if (srv == NULL) {
		snprintf(err, errlen, "cannot make certificates: %s",
		    ERR_reason_error_string(ERR_get_error()));
		X509_free(ca);
		EVP_PKEY_free(ca_key);
		EVP_PKEY_free(srv_key);
		return -1;
	}
	t->ca_pem = cert_pem(ca);
	t->server_cert_pem = cert_pem(srv);
	t->server_key_pem = key_pem(srv_key);
	t->ca_key = ca_key;
	t->ca_cert = ca;
	X509_free(srv);
	EVP_PKEY_free(srv_key);
	if (t->ca_pem == NULL || t->server_cert_pem == NULL || t->server_key_pem == NULL) {
		snprintf(err, errlen, "cannot encode certificates");
		sim_tls_free(t);
		return -1;
	}
	return 0;
}

int
sim_tls_issue_client(struct sim_tls *t, const char *cn, const char *org, char **cert_out, char **key_out)
{
	static const char *const cli_exts[][2] = {
		{ "basicConstraints", "critical,CA:FALSE" },
		{ "keyUsage", "critical,digitalSignature,keyEncipherment" },
		{ "extendedKeyUsage", "clientAuth" },
		{ "authorityKeyIdentifier", "keyid" },
		{ NULL, NULL },
	};
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x;

	*cert_out = *key_out = NULL;
	if (key == NULL)
		return -1;
	x = make_cert(key, cn, org, t->ca_cert, t->ca_key, 365, cli_exts);
	if (x != NULL) {
		*cert_out = cert_pem(x);
		*key_out = key_pem(key);
	}
	X509_free(x);
	EVP_PKEY_free(key);
	if (*cert_out == NULL || *key_out == NULL) {
		free(*cert_out);
		free(*key_out);
		*cert_out = *key_out = NULL;
		return -1;
	}
	return 0;
}

void
sim_tls_free(struct sim_tls *t)
{
	free(t->ca_pem);
	free(t->server_cert_pem);
	free(t->server_key_pem);
	EVP_PKEY_free(t->ca_key);
	X509_free(t->ca_cert);
	memset(t, 0, sizeof *t);
}

void
sim_tls_peer(struct MHD_Connection *conn, char *cn, size_t cnlen, char *org, size_t orglen)
{
	const union MHD_ConnectionInfo *ci;
	gnutls_session_t session;
	const gnutls_datum_t *peers;
	unsigned int npeers = 0, status = 0;
	gnutls_x509_crt_t crt;
	size_t n;

	cn[0] = org[0] = '\0';
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return;
	session = (gnutls_session_t)ci->tls_session;
	peers = gnutls_certificate_get_peers(session, &npeers);
	if (peers == NULL || npeers == 0)
		return;
	/* Verified against the trust list MHD was given (the simulator CA). */
	if (gnutls_certificate_verify_peers2(session, &status) != GNUTLS_E_SUCCESS || status != 0)
		return;
	if (gnutls_x509_crt_init(&crt) != GNUTLS_E_SUCCESS)
		return;
	if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) == GNUTLS_E_SUCCESS) {
		n = cnlen;
		if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &n) != 0)
			cn[0] = '\0';
		n = orglen;
		if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, 0, org, &n) != 0)
			org[0] = '\0';
	}
	gnutls_x509_crt_deinit(crt);
}
