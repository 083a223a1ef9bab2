/*
 * test_credential.c — Entra ID credentials against a scripted token server.
 *
 * Every test starts a libmicrohttpd server on 127.0.0.1 (plain http, which
 * the HTTP layer allows for loopback; one test uses TLS with a CA minted
 * here) that plays the Entra token endpoint, IMDS or App Service, checks
 * what it receives, and answers as the test scripts it.  The Azure CLI is a
 * shell script put first on an injected PATH.  The environment is injected
 * through az_cred_config.getenv_fn, never setenv(), so nothing leaks between
 * tests or threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "azure/cloud.h"
#include "azure/credential.h"
#include "src/http.h"
#include "src/log.h"
#include "tests/lib/testenv.h"
#include "tests/lib/testsrv.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TENANT	"72f988bf-86f1-41af-91ab-2d7cd011db47"
#define CLIENT	"11111111-2222-3333-4444-555555555555"
#define SECRET	"s3cr3t~Value.With_Chars"
#define ARM_SCOPE "https://management.azure.com/.default"

/* snprintf without -Wformat-truncation: test messages may be cut short. */
static void sfmt(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
sfmt(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

/* ---- the scripted server ---------------------------------------------------------- */

struct rq {
	char method[8];
	char path[256];
	char query[1024];
	char body[16384];
	char metadata[32];
	char idheader[128];
	char ctype[128];
};

struct reply {
	unsigned status;
	char body[8192];
	int delay_ms;
};

struct srv;
typedef void (*route_fn)(struct srv *s, const struct rq *q, struct reply *r);

struct srv {
	struct MHD_Daemon *d;
	int port;
	char base[80];
	route_fn route;
	void *ctx;
	atomic_int hits;
	pthread_mutex_t lock;
	struct rq last;		/* under lock */
};

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **con_cls)
{
	struct srv *s = cls;
	struct rq *q;
	struct reply *r;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *in;

	(void)version;
	in = testsrv_body(con_cls, data, size, &ret);
	if (in == NULL)
		return ret;
	q = calloc(1, sizeof *q);
	r = calloc(1, sizeof *r);
	if (q == NULL || r == NULL) {
		free(q);
		free(r);
		return MHD_NO;
	}
	sfmt(q->method, sizeof q->method, "%s", method);
	sfmt(q->path, sizeof q->path, "%s", url);
	testsrv_query(conn, q->query, sizeof q->query);
	sfmt(q->body, sizeof q->body, "%s", in);
	testsrv_header(conn, "Metadata", q->metadata, sizeof q->metadata);
	testsrv_header(conn, "X-IDENTITY-HEADER", q->idheader, sizeof q->idheader);
	testsrv_header(conn, "Content-Type", q->ctype, sizeof q->ctype);
	r->status = 404;
	sfmt(r->body, sizeof r->body, "{\"error\":\"not_found\"}");
	atomic_fetch_add(&s->hits, 1);
	s->route(s, q, r);
	pthread_mutex_lock(&s->lock);
	s->last = *q;
	pthread_mutex_unlock(&s->lock);
	if (r->delay_ms > 0)
		usleep((useconds_t)r->delay_ms * 1000);
	resp = MHD_create_response_from_buffer(strlen(r->body), r->body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	free(q);
	free(r);
	return ret;
}

static struct srv *
srv_start_tls(route_fn route, void *ctx, const char *key_pem, const char *cert_pem)
{
	struct srv *s = calloc(1, sizeof *s);

	assert_non_null(s);
	s->route = route;
	s->ctx = ctx;
	pthread_mutex_init(&s->lock, NULL);
	s->d = testsrv_daemon(handler, s, key_pem, cert_pem, &s->port);
	sfmt(s->base, sizeof s->base, "%s://127.0.0.1:%d", key_pem != NULL ? "https" : "http",
	    s->port);
	return s;
}

static struct srv *
srv_start(route_fn route, void *ctx)
{
	return srv_start_tls(route, ctx, NULL, NULL);
}

static void
srv_stop(struct srv *s)
{
	MHD_stop_daemon(s->d);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static struct rq
srv_last(struct srv *s)
{
	struct rq q;

	pthread_mutex_lock(&s->lock);
	q = s->last;
	pthread_mutex_unlock(&s->lock);
	return q;
}

/* Value of NAME in an x-www-form-urlencoded BODY, decoded; 0 if absent. */
static int
form_get(const char *body, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	const char *p = body;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t plen = end != NULL ? (size_t)(end - p) : strlen(p);

		if (plen > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t o = 0;

			for (size_t i = nl + 1; i < plen && o + 1 < outlen; i++) {
				if (p[i] == '%' && i + 2 < plen) {
					char hex[3] = { p[i + 1], p[i + 2], 0 };

					out[o++] = (char)strtol(hex, NULL, 16);
					i += 2;
				} else {
					out[o++] = p[i] == '+' ? ' ' : p[i];
				}
			}
			out[o] = '\0';
			return 1;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	out[0] = '\0';
	return 0;
}

static void
reply_token(struct reply *r, const char *token, long expires_in)
{
	r->status = 200;
	sfmt(r->body, sizeof r->body, "{\"token_type\":\"Bearer\",\"expires_in\":%ld,"
	    "\"ext_expires_in\":%ld,\"access_token\":\"%s\"}", expires_in, expires_in, token);
}

/* ---- files and logs ---------------------------------------------------------------- */

static char tmpdir[256];

static int
setup_tmp(void **state)
{
	(void)state;
	sfmt(tmpdir, sizeof tmpdir, "/tmp/bgswitch-cred-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown_tmp(void **state)
{
	char cmd[400];

	(void)state;
	log_close();
	sfmt(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static char *
path_in(const char *name)
{
	static char buf[4][512];
	static int next;
	char *p = buf[next++ % 4];

	sfmt(p, sizeof buf[0], "%s/%s", tmpdir, name);
	return p;
}

static void
write_file(const char *path, const char *text, int mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void
log_to_tmp(void)
{
	assert_int_equal(log_open(path_in("log"), LOG_DEBUG), 0);
}

/* Fails if NEEDLE appears in the log written so far. */
static void
log_lacks(const char *needle)
{
	char *text;

	log_close();
	text = slurp(path_in("log"));
	if (strstr(text, needle) != NULL)
		fail_msg("log contains \"%s\":\n%s", needle, text);
	free(text);
	log_to_tmp();
}

static struct az_cred *
cred_new(struct az_cred_config *cfg, struct testenv *e)
{
	char err[1024] = "";
	struct az_cred *c;

	cfg->getenv_fn = testenv_get;
	cfg->getenv_ctx = e;
	c = az_cred_new(cfg, err, sizeof err);
	if (c == NULL)
		fail_msg("az_cred_new: %s", err);
	return c;
}

/* ---- clouds ------------------------------------------------------------------------ */

static void
test_cloud_endpoints(void **state)
{
	struct az_endpoints ep;
	struct testenv e = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(az_endpoints_resolve(NULL, NULL, NULL, testenv_get, &e, &ep, err, sizeof err), 0);
	assert_string_equal(ep.cloud->name, "AzureCloud");
	assert_string_equal(ep.authority_host, "https://login.microsoftonline.com/");
	assert_string_equal(ep.resource_manager, "https://management.azure.com/");
	assert_string_equal(ep.arm_scope, "https://management.azure.com/.default");
	assert_string_equal(ep.authority_from, "cloud");

	assert_int_equal(az_endpoints_resolve("azureusgovernment", NULL, NULL, testenv_get, &e, &ep,
	    err, sizeof err), 0);
	assert_string_equal(ep.authority_host, "https://login.microsoftonline.us/");
	assert_string_equal(ep.resource_manager, "https://management.usgovcloudapi.net/");
	assert_string_equal(ep.arm_scope, "https://management.core.usgovcloudapi.net/.default");

	assert_int_equal(az_endpoints_resolve("AzureChinaCloud", NULL, NULL, testenv_get, &e, &ep,
	    err, sizeof err), 0);
	assert_string_equal(ep.authority_host, "https://login.chinacloudapi.cn/");
	assert_string_equal(ep.resource_manager, "https://management.chinacloudapi.cn/");
	assert_string_equal(ep.arm_scope, "https://management.chinacloudapi.cn/.default");

	/* The environment beats the cloud, the config beats both. */
	testenv_set(&e, "AZURE_AUTHORITY_HOST", "https://login.example.test");
	assert_int_equal(az_endpoints_resolve("AzureCloud", NULL, NULL, testenv_get, &e, &ep, err,
	    sizeof err), 0);
	assert_string_equal(ep.authority_host, "https://login.example.test/");
	assert_string_equal(ep.authority_from, "AZURE_AUTHORITY_HOST");
	assert_int_equal(az_endpoints_resolve("AzureCloud", "https://127.0.0.1:8443//",
	    "https://127.0.0.1:8443/arm", testenv_get, &e, &ep, err, sizeof err), 0);
	assert_string_equal(ep.authority_host, "https://127.0.0.1:8443/");
	assert_string_equal(ep.authority_from, "config");
	assert_string_equal(ep.resource_manager, "https://127.0.0.1:8443/arm/");
	/* An override moves requests, not the token audience. */
	assert_string_equal(ep.arm_scope, "https://management.azure.com/.default");

	assert_int_equal(az_endpoints_resolve("AzureGermanCloud", NULL, NULL, testenv_get, &e, &ep, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "AzureGermanCloud"));
	assert_int_equal(az_endpoints_resolve(NULL, "login.example.test", NULL, testenv_get, &e, &ep,
	    err, sizeof err), -1);
	assert_non_null(strstr(err, "authority host"));
	assert_int_equal(az_endpoints_resolve(NULL, NULL, "https://x.test/?a=b", testenv_get, &e, &ep,
	    err, sizeof err), -1);
	assert_null(az_cloud_find("nope"));
	assert_int_equal(az_cred_kind_parse("workload-identity"), AZ_CRED_WORKLOAD_IDENTITY);
	assert_int_equal(az_cred_kind_parse("magic"), -1);
	assert_string_equal(az_cred_kind_name(AZ_CRED_AZURE_CLI), "azure-cli");
}

/* ---- client secret ------------------------------------------------------------------ */

struct secret_ctx {
	char seen[8][256];	/* grant_type, client_id, client_secret, scope */
	int reject;		/* answer with an AADSTS error */
	long expires_in;
	int delay_ms;
};

static void
route_secret(struct srv *s, const struct rq *q, struct reply *r)
{
	struct secret_ctx *x = s->ctx;
	char path[128];

	sfmt(path, sizeof path, "/%s/oauth2/v2.0/token", TENANT);
	if (strcmp(q->method, "POST") != 0 || strcmp(q->path, path) != 0)
		return;
	pthread_mutex_lock(&s->lock);
	form_get(q->body, "grant_type", x->seen[0], sizeof x->seen[0]);
	form_get(q->body, "client_id", x->seen[1], sizeof x->seen[1]);
	form_get(q->body, "client_secret", x->seen[2], sizeof x->seen[2]);
	form_get(q->body, "scope", x->seen[3], sizeof x->seen[3]);
	sfmt(x->seen[4], sizeof x->seen[4], "%s", q->ctype);
	pthread_mutex_unlock(&s->lock);
	r->delay_ms = x->delay_ms;
	if (x->reject) {
		r->status = 401;
		sfmt(r->body, sizeof r->body, "{\"error\":\"invalid_client\",\"error_description\":"
		    "\"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in "
		    "the request is the client secret value, not the client secret ID.\\r\\nTrace ID: "
		    "0000aaaa-11bb-cccc-dd22-eeeeee333333\\r\\nCorrelation ID: "
		    "aaaa0000-bb11-2222-33cc-444444dddddd\\r\\nTimestamp: 2024-01-01 00:00:00Z\","
		    "\"error_codes\":[7000215],\"timestamp\":\"2024-01-01 00:00:00Z\",\"trace_id\":"
		    "\"0000aaaa-11bb-cccc-dd22-eeeeee333333\",\"correlation_id\":"
		    "\"aaaa0000-bb11-2222-33cc-444444dddddd\"}");
		return;
	}
	reply_token(r, "eyJ0eXAi.secret-grant-token.sig", x->expires_in ? x->expires_in : 3599);
}

static void
secret_env(struct testenv *e, struct srv *s)
{
	testenv_set(e, "AZURE_TENANT_ID", TENANT);
	testenv_set(e, "AZURE_CLIENT_ID", CLIENT);
	testenv_set(e, "AZURE_CLIENT_SECRET", SECRET);
	testenv_set(e, "AZURE_AUTHORITY_HOST", s->base);
}

static void
test_secret_grant(void **state)
{
	struct secret_ctx x = { 0 };
	struct srv *s = srv_start(route_secret, &x);
	struct az_cred_config cfg = { .kind = AZ_CRED_ENVIRONMENT };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[4096], err[1024];
	long long exp = 0, now = (long long)time(NULL) * 1000;

	(void)state;
	log_to_tmp();
	secret_env(&e, s);
	c = cred_new(&cfg, &e);
	assert_string_equal(az_cred_name(c), "none");
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, &exp, err, sizeof err), 0);
	assert_string_equal(tok, "eyJ0eXAi.secret-grant-token.sig");
	assert_true(exp > now + 3500 * 1000LL && exp < now + 3700 * 1000LL);
	assert_string_equal(x.seen[0], "client_credentials");
	assert_string_equal(x.seen[1], CLIENT);
	assert_string_equal(x.seen[2], SECRET);
	assert_string_equal(x.seen[3], ARM_SCOPE);
	assert_string_equal(x.seen[4], "application/x-www-form-urlencoded");
	assert_string_equal(az_cred_name(c), "environment");
	assert_string_equal(az_cred_method(c), "client secret");
	assert_int_equal(atomic_load(&s->hits), 1);
	/* A buffer too small is an error, not a truncated token. */
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, 8, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "buffer"));
	log_lacks(SECRET);
	log_lacks("secret-grant-token");
	az_cred_free(c);
	srv_stop(s);
}

static void
test_secret_rejected(void **state)
{
	struct secret_ctx x = { .reject = 1 };
	struct srv *s = srv_start(route_secret, &x);
	struct az_cred_config cfg = { .kind = AZ_CRED_ENVIRONMENT };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[4096], err[1024] = "";

	(void)state;
	log_to_tmp();
	secret_env(&e, s);
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "AADSTS7000215"));
	assert_non_null(strstr(err, "invalid_client"));
	assert_non_null(strstr(err, "Invalid client secret provided"));
	assert_non_null(strstr(err, "0000aaaa-11bb-cccc-dd22-eeeeee333333"));
	assert_null(strstr(err, "Timestamp"));
	assert_null(strstr(err, SECRET));
	/* One request: a 401 is not retried. */
	assert_int_equal(atomic_load(&s->hits), 1);
	log_lacks(SECRET);
	az_cred_free(c);
	srv_stop(s);
}

/* Malformed answers give errors, never crashes. */
struct bad_ctx {
	int mode;
};

static void
route_bad(struct srv *s, const struct rq *q, struct reply *r)
{
	struct bad_ctx *x = s->ctx;

	(void)q;
	switch (x->mode) {
	case 0:
		r->status = 200;
		sfmt(r->body, sizeof r->body, "<html>hello</html>");
		break;
	case 1:
		r->status = 200;
		sfmt(r->body, sizeof r->body, "{\"token_type\":\"Bearer\",\"expires_in\":3600}");
		break;
	case 2:
		r->status = 502;
		sfmt(r->body, sizeof r->body, "<html><body>Bad gateway\r\n</body></html>");
		break;
	case 3:
		r->status = 200;
		sfmt(r->body, sizeof r->body, "{\"access_token\":\"abc\"}");
		break;
	case 4:
		r->status = 200;
		sfmt(r->body, sizeof r->body, "{\"access_token\":\"a b\\n\",\"expires_in\":9}");
		break;
	default:
		r->status = 400;
		sfmt(r->body, sizeof r->body, "{\"error\":42,\"error_codes\":[\"x\"]}");
		break;
	}
}

static void
test_bad_answers(void **state)
{
	static const char *const expect[] = {
		"without a JSON token object", "no access_token", "not a JSON error",
		"neither expires_in nor expires_on", "characters a header", "400",
	};
	struct bad_ctx x = { 0 };
	struct srv *s = srv_start(route_bad, &x);
	struct az_cred_config cfg = { .kind = AZ_CRED_ENVIRONMENT };
	struct testenv e = { 0 };
	char tok[512], err[1024];

	(void)state;
	secret_env(&e, s);
	for (x.mode = 0; x.mode < 6; x.mode++) {
		struct az_cred *c = cred_new(&cfg, &e);
		int hits = atomic_load(&s->hits);

		err[0] = '\0';
		assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
		if (strstr(err, expect[x.mode]) == NULL)
			fail_msg("mode %d: \"%s\" lacks \"%s\"", x.mode, err, expect[x.mode]);
		/* a 502 is retried (three tries), the rest are not */
		assert_int_equal(atomic_load(&s->hits) - hits, x.mode == 2 ? 3 : 1);
		az_cred_free(c);
	}
	srv_stop(s);
}

/* ---- certificate assertion ------------------------------------------------------------ */

static EVP_PKEY *
rsa_key(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);

	assert_non_null(k);
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A certificate for KEY signed by ISSUER_KEY (self-signed when NULL). */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int ca,
    const char *san)
{
	X509 *x = X509_new();

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(random() & 0x7fffffff));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer != NULL ? issuer : x));
	add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE"
	    : "critical,CA:FALSE");
	if (ca)
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	if (san != NULL)
		add_ext(x, issuer != NULL ? issuer : x, NID_subject_alt_name, san);
	assert_true(X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static char *
pem_of(X509 *cert, EVP_PKEY *key, const char *password)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_non_null(b);
	if (cert != NULL)
		assert_int_equal(PEM_write_bio_X509(b, cert), 1);
	if (key != NULL) {
		if (password != NULL)
			assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, key, EVP_aes_256_cbc(),
			    password, (int)strlen(password), NULL, NULL), 1);
		else
			assert_int_equal(PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL), 1);
	}
	n = BIO_get_mem_data(b, &data);
	out = calloc(1, (size_t)n + 1);
	assert_non_null(out);
	memcpy(out, data, (size_t)n);
	BIO_free(b);
	return out;
}

static size_t
b64url_decode(const char *in, size_t n, unsigned char *out, size_t outlen)
{
	char buf[8192];
	size_t m = 0;
	int len;

	assert_true(n + 4 < sizeof buf);
	for (size_t i = 0; i < n; i++)
		buf[m++] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	while (m % 4 != 0)
		buf[m++] = '=';
	buf[m] = '\0';
	assert_true(m / 4 * 3 <= outlen);
	len = EVP_DecodeBlock(out, (const unsigned char *)buf, (int)m);
	assert_true(len >= 0);
	if (n % 4 == 2)
		len -= 2;
	else if (n % 4 == 3)
		len -= 1;
	return (size_t)len;
}

static void
b64url_encode(const unsigned char *in, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);

	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (int i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
}

struct cert_ctx {
	X509 *cert;
	char token_url[256];
	char problem[256];	/* what the server found wrong, "" when all is right */
	char assertion_type[128];
};

static void
jwt_check(struct cert_ctx *x, const char *jwt)
{
	const char *d1 = strchr(jwt, '.'), *d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
	unsigned char hdr[2048], claims[4096], sig[1024], md[EVP_MAX_MD_SIZE];
	size_t hl, cl, sl;
	unsigned int mdl;
	char want[128];
	cJSON *h, *c;
	EVP_MD_CTX *ctx;
	EVP_PKEY *pub;
	long long now = time(NULL);
	int ok;

	x->problem[0] = '\0';
	if (d1 == NULL || d2 == NULL) {
		sfmt(x->problem, sizeof x->problem, "not three parts");
		return;
	}
	hl = b64url_decode(jwt, (size_t)(d1 - jwt), hdr, sizeof hdr - 1);
	cl = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), claims, sizeof claims - 1);
	sl = b64url_decode(d2 + 1, strlen(d2 + 1), sig, sizeof sig);
	hdr[hl] = claims[cl] = '\0';
	pub = X509_get_pubkey(x->cert);
	ctx = EVP_MD_CTX_new();
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1
	    && EVP_DigestVerify(ctx, sig, sl, (const unsigned char *)jwt, (size_t)(d2 - jwt)) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pub);
	if (!ok) {
		sfmt(x->problem, sizeof x->problem, "signature does not verify");
		return;
	}
	h = cJSON_Parse((char *)hdr);
	c = cJSON_Parse((char *)claims);
	X509_digest(x->cert, EVP_sha256(), md, &mdl);
	b64url_encode(md, mdl, want);
#define STR(o, k) (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, k)) \
	? cJSON_GetObjectItemCaseSensitive(o, k)->valuestring : "")
#define NUM(o, k) (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, k)) \
	? (long long)cJSON_GetObjectItemCaseSensitive(o, k)->valuedouble : -1)
	if (strcmp(STR(h, "alg"), "RS256") != 0 || strcmp(STR(h, "typ"), "JWT") != 0)
		sfmt(x->problem, sizeof x->problem, "header alg/typ wrong: %s", (char *)hdr);
	else if (strcmp(STR(h, "x5t#S256"), want) != 0)
		sfmt(x->problem, sizeof x->problem, "x5t#S256 %s, want %s", STR(h, "x5t#S256"), want);
	else if ((X509_digest(x->cert, EVP_sha1(), md, &mdl), b64url_encode(md, mdl, want),
	    strcmp(STR(h, "x5t"), want) != 0))
		sfmt(x->problem, sizeof x->problem, "x5t %s, want %s", STR(h, "x5t"), want);
	else if (strcmp(STR(c, "aud"), x->token_url) != 0)
		sfmt(x->problem, sizeof x->problem, "aud %s, want %s", STR(c, "aud"), x->token_url);
	else if (strcmp(STR(c, "iss"), CLIENT) != 0 || strcmp(STR(c, "sub"), CLIENT) != 0)
		sfmt(x->problem, sizeof x->problem, "iss/sub wrong");
	else if (strlen(STR(c, "jti")) != 36)
		sfmt(x->problem, sizeof x->problem, "jti missing");
	else if (NUM(c, "exp") <= now || NUM(c, "exp") > now + 3600)
		sfmt(x->problem, sizeof x->problem, "exp %lld not in the next hour", NUM(c, "exp"));
	else if (NUM(c, "nbf") > now + 5 || NUM(c, "nbf") < now - 300 || NUM(c, "iat") < 0)
		sfmt(x->problem, sizeof x->problem, "nbf/iat wrong");
#undef STR
#undef NUM
	cJSON_Delete(h);
	cJSON_Delete(c);
}

static void
route_cert(struct srv *s, const struct rq *q, struct reply *r)
{
	struct cert_ctx *x = s->ctx;
	char assertion[8192], secret[64];

	if (strcmp(q->method, "POST") != 0)
		return;
	pthread_mutex_lock(&s->lock);
	if (!form_get(q->body, "client_assertion", assertion, sizeof assertion))
		sfmt(x->problem, sizeof x->problem, "no client_assertion");
	else
		jwt_check(x, assertion);
	form_get(q->body, "client_assertion_type", x->assertion_type, sizeof x->assertion_type);
	if (form_get(q->body, "client_secret", secret, sizeof secret))
		sfmt(x->problem, sizeof x->problem, "a client_secret was sent too");
	pthread_mutex_unlock(&s->lock);
	reply_token(r, "cert-token", 3600);
}

/* FORMAT: 0 PEM cert+key, 1 PEM with encrypted key first, 2 PKCS#12. */
static void
run_cert(int format)
{
	struct cert_ctx x = { 0 };
	struct srv *s = srv_start(route_cert, &x);
	struct az_cred_config cfg = { .kind = AZ_CRED_ENVIRONMENT };
	struct testenv e = { 0 };
	EVP_PKEY *key = rsa_key();
	struct az_cred *c;
	char tok[256], err[1024], *pem;
	const char *file = path_in("client.pem");

	x.cert = make_cert(key, CLIENT, NULL, NULL, 0, NULL);
	sfmt(x.token_url, sizeof x.token_url, "%s/%s/oauth2/v2.0/token", s->base, TENANT);
	if (format == 2) {
		PKCS12 *p12 = PKCS12_create("pw", "client", key, x.cert, NULL, 0, 0, 0, 0, 0);
		FILE *f = fopen(file, "wb");

		assert_non_null(p12);
		assert_non_null(f);
		assert_int_equal(i2d_PKCS12_fp(f, p12), 1);
		fclose(f);
		PKCS12_free(p12);
		testenv_set(&e, "AZURE_CLIENT_CERTIFICATE_PASSWORD", "pw");
	} else {
		char *kp = pem_of(NULL, key, format == 1 ? "hunter2" : NULL);
		char *cp = pem_of(x.cert, NULL, NULL);
		size_t n = strlen(kp) + strlen(cp) + 1;

		pem = malloc(n);
		assert_non_null(pem);
		sfmt(pem, n, "%s%s", format == 1 ? kp : cp, format == 1 ? cp : kp);
		write_file(file, pem, 0600);
		free(pem);
		free(kp);
		free(cp);
		if (format == 1)
			testenv_set(&e, "AZURE_CLIENT_CERTIFICATE_PASSWORD", "hunter2");
	}
	testenv_set(&e, "AZURE_TENANT_ID", TENANT);
	testenv_set(&e, "AZURE_CLIENT_ID", CLIENT);
	testenv_set(&e, "AZURE_CLIENT_CERTIFICATE_PATH", file);
	testenv_set(&e, "AZURE_AUTHORITY_HOST", s->base);
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), 0);
	assert_string_equal(tok, "cert-token");
	if (x.problem[0] != '\0')
		fail_msg("format %d: server: %s", format, x.problem);
	assert_string_equal(x.assertion_type,
	    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
	assert_string_equal(az_cred_method(c), "client certificate");
	az_cred_free(c);
	X509_free(x.cert);
	EVP_PKEY_free(key);
	srv_stop(s);
}

static void
test_certificate_assertion(void **state)
{
	(void)state;
	log_to_tmp();
	run_cert(0);
	run_cert(1);
	run_cert(2);
	log_lacks("PRIVATE KEY");
	log_lacks("hunter2");
}

static void
test_certificate_bad_files(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_ENVIRONMENT };
	struct testenv e = { 0 };
	EVP_PKEY *key = rsa_key(), *other = rsa_key();
	X509 *cert = make_cert(key, "c", NULL, NULL, 0, NULL);
	char err[512], *kp, *cp;
	const char *file = path_in("bad.pem");

	(void)state;
	testenv_set(&e, "AZURE_TENANT_ID", TENANT);
	testenv_set(&e, "AZURE_CLIENT_ID", CLIENT);
	testenv_set(&e, "AZURE_CLIENT_CERTIFICATE_PATH", file);
	cfg.getenv_fn = testenv_get;
	cfg.getenv_ctx = &e;
	/* missing file */
	assert_null(az_cred_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "cannot read"));
	/* encrypted key, no password */
	kp = pem_of(NULL, key, "pw");
	write_file(file, kp, 0600);
	assert_null(az_cred_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "AZURE_CLIENT_CERTIFICATE_PASSWORD"));
	free(kp);
	/* key and a certificate of another key */
	kp = pem_of(NULL, other, NULL);
	cp = pem_of(cert, NULL, NULL);
	{
		char both[16384];

		sfmt(both, sizeof both, "%s%s", kp, cp);
		write_file(file, both, 0600);
	}
	assert_null(az_cred_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "no certificate matching"));
	free(kp);
	free(cp);
	/* garbage */
	write_file(file, "not a certificate at all", 0600);
	assert_null(az_cred_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "PKCS#12"));
	X509_free(cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

/* ---- workload identity ------------------------------------------------------------------- */

struct fed_ctx {
	char assertion[4096];
	char type[128];
	int reject;
};

static void
route_fed(struct srv *s, const struct rq *q, struct reply *r)
{
	struct fed_ctx *x = s->ctx;

	pthread_mutex_lock(&s->lock);
	form_get(q->body, "client_assertion", x->assertion, sizeof x->assertion);
	form_get(q->body, "client_assertion_type", x->type, sizeof x->type);
	pthread_mutex_unlock(&s->lock);
	if (x->reject) {
		r->status = 400;
		sfmt(r->body, sizeof r->body, "{\"error\":\"invalid_request\",\"error_description\":"
		    "\"AADSTS70021: No matching federated identity record found for presented "
		    "assertion.\\r\\nTrace ID: t1\",\"error_codes\":[70021],\"trace_id\":\"t1\","
		    "\"correlation_id\":\"c1\"}");
		return;
	}
	reply_token(r, "wi-token", 3600);
}

static void
test_federated_token_rotation(void **state)
{
	struct fed_ctx x = { 0 };
	struct srv *s = srv_start(route_fed, &x);
	struct az_cred_config cfg = { .kind = AZ_CRED_WORKLOAD_IDENTITY, .tenant = TENANT };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[256], err[1024];
	const char *file = path_in("federated-token");

	(void)state;
	log_to_tmp();
	write_file(file, "eyJhbGciOiJSUzI1NiJ9.first-sa-token.sig\n", 0600);
	testenv_set(&e, "AZURE_CLIENT_ID", CLIENT);
	testenv_set(&e, "AZURE_FEDERATED_TOKEN_FILE", file);
	testenv_set(&e, "AZURE_AUTHORITY_HOST", s->base);
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), 0);
	assert_string_equal(tok, "wi-token");
	assert_string_equal(x.assertion, "eyJhbGciOiJSUzI1NiJ9.first-sa-token.sig");
	assert_string_equal(x.type, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
	/* The kubelet rotates the file: the next fetch sends the new one. */
	write_file(file, "eyJhbGciOiJSUzI1NiJ9.second-sa-token.sig", 0600);
	az_cred_invalidate(c, ARM_SCOPE);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), 0);
	assert_string_equal(x.assertion, "eyJhbGciOiJSUzI1NiJ9.second-sa-token.sig");
	assert_int_equal(atomic_load(&s->hits), 2);
	assert_string_equal(az_cred_name(c), "workload-identity");
	assert_string_equal(az_cred_method(c), "federated token file");
	/* The file vanishes: a clear error. */
	unlink(file);
	az_cred_invalidate(c, ARM_SCOPE);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "AZURE_FEDERATED_TOKEN_FILE"));
	log_lacks("second-sa-token");
	az_cred_free(c);
	srv_stop(s);
}

/* ---- managed identity --------------------------------------------------------------------- */

struct mi_ctx {
	int appservice;
	int fail_first;		/* answer 503 this many times first */
	int no_identity;
};

static void
route_mi(struct srv *s, const struct rq *q, struct reply *r)
{
	struct mi_ctx *x = s->ctx;
	long long now = time(NULL);

	if (strcmp(q->method, "GET") != 0)
		return;
	if (x->fail_first > 0) {
		x->fail_first--;
		r->status = 503;
		sfmt(r->body, sizeof r->body, "{\"error\":\"unavailable\"}");
		return;
	}
	if (x->appservice) {
		if (strcmp(q->idheader, "app-service-secret") != 0
		    || strstr(q->query, "api-version=2019-08-01") == NULL) {
			r->status = 401;
			sfmt(r->body, sizeof r->body, "{\"error\":\"bad header or version\"}");
			return;
		}
		r->status = 200;
		sfmt(r->body, sizeof r->body, "{\"access_token\":\"appsvc-token\",\"expires_on\":"
		    "\"%lld\",\"resource\":\"https://management.azure.com\",\"token_type\":\"Bearer\"}",
		    now + 3600);
		return;
	}
	if (strcmp(q->metadata, "true") != 0) {
		r->status = 400;
		sfmt(r->body, sizeof r->body, "{\"error\":\"invalid_request\","
		    "\"error_description\":\"Required metadata header not specified\"}");
		return;
	}
	if (x->no_identity) {
		r->status = 400;
		sfmt(r->body, sizeof r->body, "{\"error\":\"invalid_request\","
		    "\"error_description\":\"Identity not found\"}");
		return;
	}
	r->status = 200;
	sfmt(r->body, sizeof r->body, "{\"access_token\":\"imds-token\",\"refresh_token\":\"\","
	    "\"expires_in\":\"3599\",\"expires_on\":\"%lld\",\"not_before\":\"%lld\",\"resource\":"
	    "\"https://management.azure.com\",\"token_type\":\"Bearer\"}", now + 3599, now);
}

static void
test_managed_identity(void **state)
{
	struct mi_ctx x = { .fail_first = 1 };
	struct srv *s = srv_start(route_mi, &x);
	struct az_cred_config cfg = { .kind = AZ_CRED_MANAGED_IDENTITY };
	struct testenv e = { 0 };
	struct az_cred *c;
	struct rq q;
	char tok[256], err[1024], imds[200];
	long long exp = 0, now = (long long)time(NULL) * 1000;

	(void)state;
	sfmt(imds, sizeof imds, "%s/metadata/identity/oauth2/token", s->base);
	cfg.imds_endpoint = imds;
	testenv_set(&e, "AZURE_CLIENT_ID", CLIENT);
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, &exp, err, sizeof err), 0);
	assert_string_equal(tok, "imds-token");
	assert_true(exp > now + 3500000 && exp < now + 3700000);
	q = srv_last(s);
	assert_string_equal(q.path, "/metadata/identity/oauth2/token");
	assert_string_equal(q.metadata, "true");
	assert_non_null(strstr(q.query, "api-version=2018-02-01"));
	assert_non_null(strstr(q.query, "resource=https://management.azure.com"));
	assert_null(strstr(q.query, ".default"));
	assert_non_null(strstr(q.query, "client_id=" CLIENT));
	assert_int_equal(atomic_load(&s->hits), 2);	/* the 503 was retried */
	assert_string_equal(az_cred_method(c), "IMDS");
	az_cred_free(c);

	/* No identity assigned: a clear, "unavailable" error. */
	x.no_identity = 1;
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "Identity not found"));
	az_cred_free(c);
	srv_stop(s);
}

static void
test_app_service_identity(void **state)
{
	struct mi_ctx x = { .appservice = 1 };
	struct srv *s = srv_start(route_mi, &x);
	struct az_cred_config cfg = { .kind = AZ_CRED_MANAGED_IDENTITY };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[256], err[1024], ep[200];

	(void)state;
	log_to_tmp();
	sfmt(ep, sizeof ep, "%s/msi/token", s->base);
	testenv_set(&e, "IDENTITY_ENDPOINT", ep);
	testenv_set(&e, "IDENTITY_HEADER", "app-service-secret");
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), 0);
	assert_string_equal(tok, "appsvc-token");
	assert_string_equal(srv_last(s).path, "/msi/token");
	assert_string_equal(az_cred_method(c), "App Service");
	log_lacks("app-service-secret");
	az_cred_free(c);
	srv_stop(s);
}

static void
test_imds_policy(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_MANAGED_IDENTITY };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[256], err[1024];

	(void)state;
	c = cred_new(&cfg, &e);
#ifndef HTTP_HAVE_IMDS_ALLOWANCE
	/* Until the HTTP layer has its IMDS allowance the real IMDS is refused
	 * before any connection, and the error says why. */
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "169.254.169.254"));
	assert_non_null(strstr(err, "link-local"));
#else
	(void)tok;
	(void)err;
#endif
	az_cred_free(c);
	/* Azure Arc is reported as unsupported, not attempted. */
	testenv_set(&e, "IDENTITY_ENDPOINT", "http://127.0.0.1:40342/metadata/identity/oauth2/token");
	testenv_set(&e, "IMDS_ENDPOINT", "http://127.0.0.1:40342");
	cfg.getenv_fn = testenv_get;
	cfg.getenv_ctx = &e;
	assert_null(az_cred_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "Azure Arc"));
}

/* ---- Azure CLI ------------------------------------------------------------------------------ */

/* Writes an "az" script into the temp dir printing BODY (a printf format
 * for the shell) after recording its arguments. */
static void
fake_az(const char *script_body)
{
	char text[4096];

	sfmt(text, sizeof text, "#!/bin/sh\necho \"$@\" > '%s/az.args'\necho x >> '%s/az.count'\n%s",
	    tmpdir, tmpdir, script_body);
	write_file(path_in("az"), text, 0755);
}

static int
az_runs(void)
{
	char *t = slurp(path_in("az.count"));
	int n = 0;

	for (char *p = t; *p != '\0'; p++)
		n += *p == '\n';
	free(t);
	return n;
}

static void
test_cli_expires_on_int(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_AZURE_CLI, .tenant = TENANT };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[256], err[1024], body[512], pathvar[400], *args;
	long long exp = 0, when = (long long)time(NULL) + 3000;

	(void)state;
	log_to_tmp();
	sfmt(body, sizeof body, "cat <<EOF\n{\"accessToken\": \"cli-token-int\", \"expiresOn\": "
	    "\"2001-01-01 00:00:00.000000\", \"expires_on\": %lld, \"subscription\": \"s\", "
	    "\"tenant\": \"%s\", \"tokenType\": \"Bearer\"}\nEOF\n", when, TENANT);
	fake_az(body);
	sfmt(pathvar, sizeof pathvar, "relative/dir:%s:/usr/bin:/bin", tmpdir);
	testenv_set(&e, "PATH", pathvar);
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, &exp, err, sizeof err), 0);
	assert_string_equal(tok, "cli-token-int");
	assert_int_equal(exp, when * 1000);	/* expires_on wins over expiresOn */
	args = slurp(path_in("az.args"));
	assert_string_equal(args, "account get-access-token --output json --resource "
	    "https://management.azure.com --tenant " TENANT "\n");
	free(args);
	assert_string_equal(az_cred_name(c), "azure-cli");
	/* Cached: az is not run again. */
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), 0);
	assert_int_equal(az_runs(), 1);
	log_lacks("cli-token-int");
	az_cred_free(c);
}

static void
test_cli_expires_on_string(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_AZURE_CLI };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[256], err[1024], body[512], stamp[64], *args;
	long long exp = 0;
	time_t when = time(NULL) + 7200;
	struct tm tm;

	(void)state;
	/* The older CLI: local time, microseconds, no zone. */
	localtime_r(&when, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S.123456", &tm);
	sfmt(body, sizeof body, "printf '%%s' '{\"accessToken\":\"cli-token-str\",\"expiresOn\":"
	    "\"%s\",\"tokenType\":\"Bearer\"}'\n", stamp);
	fake_az(body);
	testenv_set(&e, "PATH", tmpdir);
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, &exp, err, sizeof err), 0);
	assert_string_equal(tok, "cli-token-str");
	assert_int_equal(exp, (long long)when * 1000);
	args = slurp(path_in("az.args"));
	assert_null(strstr(args, "--tenant"));	/* no tenant in the config */
	free(args);
	az_cred_free(c);
}

static int
pid_gone(pid_t pid)
{
	char path[64], *stat;
	int gone;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 1;
	/* An orphan killed with its group may linger as a zombie of init. */
	sfmt(path, sizeof path, "/proc/%d/stat", (int)pid);
	stat = slurp(path);
	gone = stat[0] == '\0' || strstr(stat, ") Z ") != NULL;
	free(stat);
	return gone;
}

static void
test_cli_timeout(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_AZURE_CLI, .cli_timeout_ms = 500 };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[256], err[1024], body[512], pathvar[400], *p1, *p2;
	long long t0;
	pid_t shell, child;
	int st;

	(void)state;
	sfmt(body, sizeof body, "echo $$ > '%s/az.pid'\nsleep 30 &\necho $! > '%s/sleep.pid'\n"
	    "wait\n", tmpdir, tmpdir);
	fake_az(body);
	sfmt(pathvar, sizeof pathvar, "%s:/usr/bin:/bin", tmpdir);	/* the script needs sleep */
	testenv_set(&e, "PATH", pathvar);
	c = cred_new(&cfg, &e);
	t0 = http_now_ms();
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_true(http_now_ms() - t0 < 3000);
	if (strstr(err, "did not finish within 500 ms") == NULL)
		fail_msg("%s", err);
	p1 = slurp(path_in("az.pid"));
	p2 = slurp(path_in("sleep.pid"));
	shell = (pid_t)atoi(p1);
	child = (pid_t)atoi(p2);
	free(p1);
	free(p2);
	assert_true(shell > 0 && child > 0);
	/* az was reaped (no zombie of ours) and its child killed with it. */
	assert_int_equal(kill(shell, 0), -1);
	assert_int_equal(errno, ESRCH);
	for (int i = 0; i < 100 && !pid_gone(child); i++)
		usleep(10000);
	assert_true(pid_gone(child));
	assert_int_equal(waitpid(-1, &st, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	az_cred_free(c);
}

static void
test_cli_failures(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_AZURE_CLI };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[256], err[1024];

	(void)state;
	testenv_set(&e, "PATH", tmpdir);
	c = cred_new(&cfg, &e);
	fake_az("echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n");
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "az login"));
	fake_az("echo 'not json'\n");
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a JSON object"));
	fake_az("echo '{\"accessToken\":\"t\"}'\n");
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "expires_on"));
	unlink(path_in("az"));
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "not found on PATH"));
	az_cred_free(c);
}

/* ---- the default chain -------------------------------------------------------------------------- */

static void
test_default_chain_cli_wins(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_DEFAULT, .tenant = TENANT };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[256], err[1024], imds[128], body[300];

	(void)state;
	sfmt(imds, sizeof imds, "http://127.0.0.1:%d/metadata/identity/oauth2/token",
	    testsrv_closed_port());
	cfg.imds_endpoint = imds;
	sfmt(body, sizeof body, "echo '{\"accessToken\":\"chain-cli\",\"expires_on\":%lld}'\n",
	    (long long)time(NULL) + 3600);
	fake_az(body);
	testenv_set(&e, "PATH", tmpdir);
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), 0);
	assert_string_equal(tok, "chain-cli");
	assert_string_equal(az_cred_name(c), "azure-cli");
	assert_string_equal(az_cred_method(c), "az CLI");
	/* A second scope goes straight to the member that worked. */
	assert_int_equal(az_cred_token(c, "https://vault.azure.net/.default", tok, sizeof tok, NULL,
	    err, sizeof err), 0);
	assert_int_equal(az_runs(), 2);
	az_cred_free(c);
}

static void
route_foreign(struct srv *s, const struct rq *q, struct reply *r)
{
	(void)s;
	(void)q;
	r->status = 404;
	sfmt(r->body, sizeof r->body, "<html>not here</html>");
}

/* Another cloud's metadata service on the IMDS address is not IMDS: the
 * chain's probe moves on at once instead of retrying it. */
static void
test_default_chain_foreign_metadata(void **state)
{
	struct srv *s = srv_start(route_foreign, NULL);
	struct az_cred_config cfg = { .kind = AZ_CRED_DEFAULT };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[256], err[1024], imds[128], body[300];
	long long t0;

	(void)state;
	sfmt(imds, sizeof imds, "%s/metadata/identity/oauth2/token", s->base);
	cfg.imds_endpoint = imds;
	sfmt(body, sizeof body, "echo '{\"accessToken\":\"after-probe\",\"expires_on\":%lld}'\n",
	    (long long)time(NULL) + 3600);
	fake_az(body);
	testenv_set(&e, "PATH", tmpdir);
	c = cred_new(&cfg, &e);
	t0 = http_now_ms();
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), 0);
	assert_true(http_now_ms() - t0 < 2000);
	assert_string_equal(tok, "after-probe");
	assert_int_equal(atomic_load(&s->hits), 1);
	az_cred_free(c);
	srv_stop(s);
}

static void
test_default_chain_all_unavailable(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_DEFAULT };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[256], err[2048], imds[128];
	const char *env_at, *wi_at, *mi_at, *cli_at;

	(void)state;
	sfmt(imds, sizeof imds, "http://127.0.0.1:%d/metadata/identity/oauth2/token",
	    testsrv_closed_port());
	cfg.imds_endpoint = imds;
	testenv_set(&e, "PATH", tmpdir);	/* no az there */
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	env_at = strstr(err, "environment: unavailable: ");
	wi_at = strstr(err, "workload-identity: unavailable: AZURE_FEDERATED_TOKEN_FILE");
	mi_at = strstr(err, "managed-identity: unavailable: no managed identity endpoint");
	cli_at = strstr(err, "azure-cli: unavailable: az (Azure CLI) not found");
	if (env_at == NULL || wi_at == NULL || mi_at == NULL || cli_at == NULL)
		fail_msg("chain error incomplete: %s", err);
	assert_true(env_at < wi_at && wi_at < mi_at && mi_at < cli_at);
	assert_non_null(strstr(err, "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH"));
	assert_string_equal(az_cred_name(c), "none");
	az_cred_free(c);
}

static void
test_default_chain_rejected(void **state)
{
	struct secret_ctx x = { .reject = 1 };
	struct fed_ctx f = { .reject = 1 };
	struct srv *s = srv_start(route_secret, &x), *s2 = srv_start(route_fed, &f);
	struct az_cred_config cfg = { .kind = AZ_CRED_DEFAULT };
	struct testenv e = { 0 }, e2 = { 0 };
	struct az_cred *c;
	char tok[256], err[2048], body[300];

	(void)state;
	/* az would work, but a configured service principal that Entra
	 * rejects stops the chain: no silent switch of identity. */
	sfmt(body, sizeof body, "echo '{\"accessToken\":\"x\",\"expires_on\":%lld}'\n",
	    (long long)time(NULL) + 3600);
	fake_az(body);
	secret_env(&e, s);
	testenv_set(&e, "PATH", tmpdir);
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "environment: Entra ID rejected the token request: 401 "
	    "invalid_client: AADSTS7000215"));
	assert_non_null(strstr(err, "not tried: workload-identity, managed-identity, azure-cli"));
	assert_int_equal(az_runs(), 0);
	az_cred_free(c);

	/* Environment unavailable, workload identity rejected. */
	testenv_set(&e2, "AZURE_TENANT_ID", TENANT);
	testenv_set(&e2, "AZURE_CLIENT_ID", CLIENT);
	testenv_set(&e2, "AZURE_FEDERATED_TOKEN_FILE", path_in("fed"));
	testenv_set(&e2, "AZURE_AUTHORITY_HOST", s2->base);
	write_file(path_in("fed"), "sa-token", 0600);
	c = cred_new(&cfg, &e2);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "environment: unavailable: AZURE_CLIENT_SECRET or "
	    "AZURE_CLIENT_CERTIFICATE_PATH not set"));
	assert_non_null(strstr(err, "workload-identity: Entra ID rejected the token request: 400 "
	    "invalid_request: AADSTS70021: No matching federated identity record"));
	assert_non_null(strstr(err, "not tried: managed-identity, azure-cli"));
	az_cred_free(c);
	srv_stop(s);
	srv_stop(s2);
}

static void
test_pinned_missing(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_ENVIRONMENT };
	struct testenv e = { 0 };
	char err[512];

	(void)state;
	cfg.getenv_fn = testenv_get;
	cfg.getenv_ctx = &e;
	assert_null(az_cred_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "credential environment: AZURE_TENANT_ID and AZURE_CLIENT_ID"));
	cfg.kind = AZ_CRED_WORKLOAD_IDENTITY;
	assert_null(az_cred_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "AZURE_FEDERATED_TOKEN_FILE"));
	cfg.kind = AZ_CRED_DEFAULT;
	cfg.tenant = "bad/tenant";
	assert_null(az_cred_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "tenant"));
	cfg.tenant = NULL;
	cfg.cloud = "Mars";
	assert_null(az_cred_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "Mars"));
}

/* ---- the cache ------------------------------------------------------------------------------ */

static void
test_cache(void **state)
{
	struct secret_ctx x = { .expires_in = 1 };
	struct srv *s = srv_start(route_secret, &x);
	struct az_cred_config cfg = { .kind = AZ_CRED_ENVIRONMENT };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[256], err[1024];

	(void)state;
	secret_env(&e, s);
	c = cred_new(&cfg, &e);
	/* A one-second token is refreshed at half its life. */
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), 0);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), 0);
	assert_int_equal(atomic_load(&s->hits), 1);
	usleep(650 * 1000);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), 0);
	assert_int_equal(atomic_load(&s->hits), 2);
	/* An hour-long token is served from the cache... */
	x.expires_in = 3600;
	az_cred_invalidate(c, ARM_SCOPE);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), 0);
	assert_int_equal(atomic_load(&s->hits), 3);
	for (int i = 0; i < 5; i++)
		assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), 0);
	assert_int_equal(atomic_load(&s->hits), 3);
	/* ...per scope. */
	assert_int_equal(az_cred_token(c, "https://storage.azure.com/.default", tok, sizeof tok, NULL,
	    err, sizeof err), 0);
	assert_int_equal(atomic_load(&s->hits), 4);
	assert_string_equal(x.seen[3], "https://storage.azure.com/.default");
	/* After an invalidation a rejected fetch is an error, not the old token. */
	az_cred_invalidate(c, ARM_SCOPE);
	x.reject = 1;
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "AADSTS7000215"));
	x.reject = 0;
	az_cred_free(c);
	srv_stop(s);
}

struct stampede {
	struct az_cred *c;
	int rc;
	char tok[256];
};

static void *
stampede_thread(void *arg)
{
	struct stampede *t = arg;
	char err[512];

	t->rc = az_cred_token(t->c, ARM_SCOPE, t->tok, sizeof t->tok, NULL, err, sizeof err);
	return NULL;
}

static void
test_concurrent_single_fetch(void **state)
{
	struct secret_ctx x = { .delay_ms = 300 };
	struct srv *s = srv_start(route_secret, &x);
	struct az_cred_config cfg = { .kind = AZ_CRED_ENVIRONMENT };
	struct testenv e = { 0 };
	struct stampede t[8];
	pthread_t th[8];

	(void)state;
	secret_env(&e, s);
	t[0].c = cred_new(&cfg, &e);
	for (int i = 0; i < 8; i++) {
		t[i].c = t[0].c;
		t[i].rc = -2;
		assert_int_equal(pthread_create(&th[i], NULL, stampede_thread, &t[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].rc, 0);
		assert_string_equal(t[i].tok, "eyJ0eXAi.secret-grant-token.sig");
	}
	assert_int_equal(atomic_load(&s->hits), 1);
	az_cred_free(t[0].c);
	srv_stop(s);
}

/* ---- TLS ------------------------------------------------------------------------------------ */

static void
test_tls_with_ca_file(void **state)
{
	struct secret_ctx x = { 0 };
	EVP_PKEY *cakey = rsa_key(), *key = rsa_key();
	X509 *ca = make_cert(cakey, "test CA", NULL, NULL, 1, NULL);
	X509 *leaf = make_cert(key, "127.0.0.1", ca, cakey, 0, "IP:127.0.0.1");
	char *key_pem = pem_of(NULL, key, NULL), *cert_pem = pem_of(leaf, NULL, NULL);
	char *ca_pem = pem_of(ca, NULL, NULL);
	struct srv *s;
	struct az_cred_config cfg = { .kind = AZ_CRED_ENVIRONMENT };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[256], err[1024];

	(void)state;
	s = srv_start_tls(route_secret, &x, key_pem, cert_pem);
	write_file(path_in("ca.pem"), ca_pem, 0644);
	secret_env(&e, s);
	/* Without the CA the system store does not know this server. */
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "TLS"));
	az_cred_free(c);
	cfg.ca_file = path_in("ca.pem");
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), 0);
	assert_string_equal(tok, "eyJ0eXAi.secret-grant-token.sig");
	az_cred_free(c);
	srv_stop(s);
	free(key_pem);
	free(cert_pem);
	free(ca_pem);
	X509_free(ca);
	X509_free(leaf);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cloud_endpoints),
		cmocka_unit_test_setup_teardown(test_secret_grant, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_secret_rejected, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_bad_answers, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_certificate_assertion, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_certificate_bad_files, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_federated_token_rotation, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_managed_identity, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_app_service_identity, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_imds_policy, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_cli_expires_on_int, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_cli_expires_on_string, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_cli_timeout, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_cli_failures, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_default_chain_cli_wins, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_default_chain_foreign_metadata, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(test_default_chain_all_unavailable, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(test_default_chain_rejected, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_pinned_missing, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_cache, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_concurrent_single_fetch, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_tls_with_ca_file, setup_tmp, teardown_tmp),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("credential", tests, NULL, NULL);
}
