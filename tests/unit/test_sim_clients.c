/*
 * test_sim_clients.c — the real Azure and Kubernetes clients against the
 * simulator, started in-process (issue #3's remaining acceptance points).
 *
 * Nothing here is stubbed: every credential kind fetches its token from the
 * simulator's Entra or IMDS endpoint over TLS verified against DIR/ca.pem,
 * and proves it by an ARM call; ARM throttling, a failed long-running
 * create, stale ETags, expired watches and an exec credential plugin are
 * switched on through the simulator's control endpoint (/_sim/..., see
 * bgswitch(1) SIMULATOR CONTROL) and met by the client code bgswitch runs.
 *
 * Two worlds run one after the other in this process (sim_start after
 * sim_stop): the built-in one at speed 100, so that a cluster create (300
 * simulated s) ends in 3 s, and a copy of it whose tokens live 30 simulated
 * seconds at speed 10 (3 real s) for the refresh test.  The second group
 * first checks that nothing of the first world (a ConfigMap, blue's token,
 * green's failed create) survived into it.
 *
 * The environment is injected through az_cred_config.getenv_fn, never
 * setenv(), as in test_credential.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "azure/aks.h"
#include "azure/appgw.h"
#include "azure/arm.h"
#include "azure/credential.h"
#include "azure/pdns.h"
#include "kube/kube_client.h"
#include "kube/kube_informer.h"
#include "kube/kubeconfig.h"
#include "sim/sim.h"
#include "tests/lib/testenv.h"
#include "src/http.h"
#include "src/log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLUE		"aks-prod-blue"
#define GREEN		"aks-prod-green"
#define ARM_SCOPE	"https://management.azure.com/.default"
/* The default world's federated credential (sim/worlds/default.yaml). */
#define FED_ISSUER	"https://oidc.sim.bgswitch.local/"
#define FED_SUBJECT	"system:serviceaccount:ci:bgswitch"
#define FED_AUDIENCE	"api://AzureADTokenExchange"

/* The built-in world, compiled into the binary (tools/embed.sh). */
extern const char sim_world_default_yaml[];
extern const unsigned long sim_world_default_yaml_len;

/* snprintf without -Wformat-truncation: test strings may be cut short. */
static void sfmt(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
sfmt(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

/* Wall-clock Unix milliseconds, the clock of token expiries. */
static long long
epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define assert_contains(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	if (h_ == NULL || strstr(h_, n_) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", h_ != NULL ? h_ : "(null)", n_); \
} while (0)

/* ---- files ---------------------------------------------------------------------- */

static void
write_file(const char *path, const char *text, int mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
}

/* The whole file, malloc'd ("" when it does not exist). */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return strdup("");
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static int
count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* VALUE of "KEY=VALUE" (quotes stripped) in the env file TEXT. */
static int
env_value(const char *text, const char *key, char *out, size_t n)
{
	char pat[80];
	const char *p;
	size_t l = 0;

	sfmt(pat, sizeof pat, "%s=", key);
	for (p = strstr(text, pat); p != NULL && p > text && p[-1] != ' ' && p[-1] != '\n';
	    p = strstr(p + 1, pat))
		;
	if (p == NULL)
		return -1;
	p += strlen(pat);
	if (*p == '\'' || *p == '"')
		p++;
	while (p[l] != '\0' && p[l] != '\n' && p[l] != '\'' && p[l] != '"' && l + 1 < n)
		l++;
	memcpy(out, p, l);
	out[l] = '\0';
	return 0;
}

/* The first "KEY: VALUE" after AFTER in YAML TEXT, quotes dropped. */
static int
yaml_value(const char *text, const char *after, const char *key, char *out, size_t n)
{
	const char *p = after != NULL ? strstr(text, after) : text;
	char pat[80];
	size_t l = 0;

	if (p == NULL)
		return -1;
	sfmt(pat, sizeof pat, "%s:", key);
	p = strstr(p, pat);
	if (p == NULL)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == '"' || *p == '\'')
		p++;
	while (p[l] != '\0' && p[l] != '\n' && p[l] != ' ' && p[l] != '"' && p[l] != '\''
	    && l + 1 < n)
		l++;
	memcpy(out, p, l);
	out[l] = '\0';
	return l > 0 ? 0 : -1;
}

/* ---- the simulator as a client sees it ---------------------------------------- */

struct world {
	char dir[256];			/* the simulator's --dir */
	char tmp[256];			/* this test's own files */
	char tenant[128], client[128], secret[256], authority[256];
	char mi_client[128];		/* entra.managed_identity.client_id */
	char ca[512], sub[128], rg[128];
	char blue_id[512], green_id[512], gw_id[512];
	struct http_client *ctl;	/* the control endpoint */
	struct az_cred *cred;		/* client secret, from DIR/env */
	struct arm_client *arm;
};

static struct world W;
/* Where the log goes between tests (BGSWITCH_TEST_LOG=1: stderr). */
static enum log_level quiet_level = LOG_OFF;

/* A credential reading the injected environment E (tests/lib/testenv). */
static struct az_cred *
cred_new(struct az_cred_config *cfg, struct testenv *e)
{
	char err[1024] = "";
	struct az_cred *c;

	cfg->getenv_fn = testenv_get;
	cfg->getenv_ctx = e;
	if (cfg->ca_file == NULL)
		cfg->ca_file = W.ca;
	c = az_cred_new(cfg, err, sizeof err);
	if (c == NULL)
		fail_msg("az_cred_new: %s", err);
	return c;
}

/* An ARM client of the simulator with fast operation polling. */
static struct arm_client *
arm_new(struct az_cred *cred, int max_attempts, long backoff_ms)
{
	struct arm_client_config ac = { 0 };
	char err[512] = "";
	struct arm_client *a;

	ac.endpoint = sim_base_url();
	ac.scope = ARM_SCOPE;
	ac.cred = cred;
	ac.ca_file = W.ca;
	ac.max_attempts = max_attempts;
	ac.backoff_base_ms = backoff_ms;
	ac.poll_min_ms = 20;
	ac.poll_max_ms = 200;
	ac.poll_default_ms = 50;
	ac.call_timeout_ms = 30000;
	ac.lro_timeout_ms = 30000;
	a = arm_client_new(&ac, err, sizeof err);
	if (a == NULL)
		fail_msg("arm_client_new: %s", err);
	return a;
}

/* A control request: the status, or -1 with ERR when no answer came;
 * *OUT (may be NULL) gets the parsed answer.  Safe off the main thread. */
static long
ctl_try(const char *method, const char *path, const char *body, cJSON **out, char *err,
    size_t errlen)
{
	static const char *const json_hdr[] = { "Content-Type: application/json", NULL };
	struct http_request rq = { 0 };
	struct http_response rs;
	char url[700];
	long st = -1;

	sfmt(url, sizeof url, "%s%s", sim_base_url(), path);
	rq.method = method;
	rq.url = url;
	rq.body = body;
	rq.body_len = body != NULL ? strlen(body) : 0;
	rq.headers = body != NULL ? json_hdr : NULL;
	if (http_do(W.ctl, &rq, &rs) != 0) {
		sfmt(err, errlen, "%s", rs.error);
	} else {
		st = rs.status;
		if (out != NULL)
			*out = cJSON_Parse(rs.body);
	}
	http_response_free(&rs);
	return st;
}

static long
ctl(const char *method, const char *path, const char *body, cJSON **out)
{
	char err[300] = "";
	long st = ctl_try(method, path, body, out, err, sizeof err);

	if (st < 0)
		fail_msg("control %s %s: %s", method, path, err);
	return st;
}

static void
ctl_ok(const char *method, const char *path, const char *body)
{
	long st = ctl(method, path, body, NULL);

	if (st < 200 || st > 299)
		fail_msg("control %s %s: %ld", method, path, st);
}

static int
faults_num(const char *name)
{
	cJSON *j = NULL;
	int v;

	assert_int_equal(ctl("GET", "/_sim/faults", NULL, &j), 200);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j, name)));
	v = cJSON_GetObjectItem(j, name)->valueint;
	cJSON_Delete(j);
	return v;
}

/* Starts a world (WORLD_FILE NULL: the built-in one) and the clients every
 * test shares.  Returns 0 or -1 (a group setup must not fail_msg). */
static int
world_start(const char *world_file, double speed)
{
	struct sim_opts so = { 0 };
	struct http_tls tls = { 0 };
	struct http_client_config hc = { 0 };
	struct az_cred_config cc = { .kind = AZ_CRED_ENVIRONMENT };
	struct arm_client_config ac = { 0 };
	char err[1024] = "", path[600], *text;
	char keep_tmp[256];

	sfmt(keep_tmp, sizeof keep_tmp, "%s", W.tmp);
	memset(&W, 0, sizeof W);
	sfmt(W.tmp, sizeof W.tmp, "%s", keep_tmp);
	sfmt(W.dir, sizeof W.dir, "%s/sim-XXXXXX", W.tmp);
	if (mkdtemp(W.dir) == NULL)
		return -1;
	so.dir = W.dir;
	so.world = world_file;
	so.speed = speed;
	if (sim_start(&so, err, sizeof err) != 0) {
		fprintf(stderr, "# sim_start: %s\n", err);
		return -1;
	}
	sfmt(path, sizeof path, "%s/env", W.dir);
	text = slurp(path);
	if (env_value(text, "AZURE_TENANT_ID", W.tenant, sizeof W.tenant) != 0
	    || env_value(text, "AZURE_CLIENT_ID", W.client, sizeof W.client) != 0
	    || env_value(text, "AZURE_CLIENT_SECRET", W.secret, sizeof W.secret) != 0
	    || env_value(text, "AZURE_AUTHORITY_HOST", W.authority, sizeof W.authority) != 0) {
		fprintf(stderr, "# %s lacks a variable:\n%s\n", path, text);
		free(text);
		return -1;
	}
	free(text);
	sfmt(path, sizeof path, "%s/bgswitch.yaml", W.dir);
	text = slurp(path);
	if (yaml_value(text, NULL, "subscription", W.sub, sizeof W.sub) != 0
	    || yaml_value(text, NULL, "resource_group", W.rg, sizeof W.rg) != 0) {
		fprintf(stderr, "# %s: no subscription/resource_group\n", path);
		free(text);
		return -1;
	}
	free(text);
	/* The managed identity is in the world file only (not in DIR/env). */
	if (world_file != NULL)
		text = slurp(world_file);
	else
		text = strndup(sim_world_default_yaml, sim_world_default_yaml_len);
	if (yaml_value(text, "managed_identity:", "client_id", W.mi_client,
	    sizeof W.mi_client) != 0) {
		fprintf(stderr, "# the world has no entra.managed_identity.client_id\n");
		free(text);
		return -1;
	}
	free(text);
	sfmt(W.ca, sizeof W.ca, "%s/ca.pem", W.dir);
	sfmt(W.blue_id, sizeof W.blue_id, "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/managedClusters/" BLUE, W.sub, W.rg);
	sfmt(W.green_id, sizeof W.green_id, "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/managedClusters/" GREEN, W.sub, W.rg);
	sfmt(W.gw_id, sizeof W.gw_id, "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.Network/applicationGateways/agw-prod", W.sub, W.rg);
	tls.ca_file = W.ca;
	hc.name = "sim-control";
	hc.tls = &tls;
	W.ctl = http_client_new(&hc, err, sizeof err);
	if (W.ctl == NULL) {
		fprintf(stderr, "# control client: %s\n", err);
		return -1;
	}
	{
		static struct testenv e;

		memset(&e, 0, sizeof e);
		e.kv[0][0] = "AZURE_TENANT_ID";
		e.kv[0][1] = W.tenant;
		e.kv[1][0] = "AZURE_CLIENT_ID";
		e.kv[1][1] = W.client;
		e.kv[2][0] = "AZURE_CLIENT_SECRET";
		e.kv[2][1] = W.secret;
		e.kv[3][0] = "AZURE_AUTHORITY_HOST";
		e.kv[3][1] = W.authority;
		e.n = 4;
		cc.getenv_fn = testenv_get;
		cc.getenv_ctx = &e;
	}
	cc.ca_file = W.ca;
	W.cred = az_cred_new(&cc, err, sizeof err);
	if (W.cred == NULL) {
		fprintf(stderr, "# az_cred_new: %s\n", err);
		return -1;
	}
	ac.endpoint = sim_base_url();
	ac.scope = ARM_SCOPE;
	ac.cred = W.cred;
	ac.ca_file = W.ca;
	ac.poll_min_ms = 20;
	ac.poll_max_ms = 200;
	ac.poll_default_ms = 50;
	ac.lro_timeout_ms = 30000;
	W.arm = arm_client_new(&ac, err, sizeof err);
	if (W.arm == NULL) {
		fprintf(stderr, "# arm_client_new: %s\n", err);
		return -1;
	}
	return 0;
}

static void
world_stop(void)
{
	arm_client_free(W.arm);
	az_cred_free(W.cred);
	http_client_free(W.ctl);
	W.arm = NULL;
	W.cred = NULL;
	W.ctl = NULL;
	sim_stop();
}

/* Every credential kind ends here: it names itself, and ARM accepts its
 * token for a read of blue. */
static void
arm_works_with(struct az_cred *c, const char *name, const char *method)
{
	struct arm_client *a = arm_new(c, 0, 0);
	struct aks_summary sum;
	char err[2048] = "";

	assert_string_equal(az_cred_name(c), "none");
	if (aks_get(a, W.blue_id, NULL, NULL, &sum, err, sizeof err) != 0)
		fail_msg("aks_get with the %s credential: %s", name, err);
	assert_string_equal(sum.name, BLUE);
	assert_string_equal(sum.provisioning_state, "Succeeded");
	assert_string_equal(az_cred_name(c), name);
	assert_string_equal(az_cred_method(c), method);
	aks_summary_free(&sum);
	arm_client_free(a);
}

/* ---- 1. each credential kind against the simulated Entra ID ----------------------- */

static void
test_cred_client_secret(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_ENVIRONMENT };
	struct testenv e = { 0 };
	struct az_cred *c;
	char tok[8192], err[1024] = "";
	long long exp = 0;

	(void)state;
	testenv_set(&e, "AZURE_TENANT_ID", W.tenant);
	testenv_set(&e, "AZURE_CLIENT_ID", W.client);
	testenv_set(&e, "AZURE_CLIENT_SECRET", W.secret);
	testenv_set(&e, "AZURE_AUTHORITY_HOST", W.authority);
	c = cred_new(&cfg, &e);
	arm_works_with(c, "environment", "client secret");
	/* The cached token is what ARM got: a real one, living the world's
	 * 3600 simulated seconds (36 real s at speed 100). */
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, &exp, err, sizeof err), 0);
	assert_int_equal(count_of(tok, "."), 2);
	assert_true(exp > epoch_ms() + 20000);
	assert_true(exp < epoch_ms() + 40000);
	az_cred_free(c);

	/* A wrong secret is refused by the simulator with Entra's AADSTS code. */
	e.kv[2][1] = "not-the-secret";
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_contains(err, "AADSTS7000215");
	assert_null(strstr(err, "not-the-secret"));
	az_cred_free(c);
}

static char *
pem_of(X509 *cert, EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_non_null(b);
	if (cert != NULL)
		assert_int_equal(PEM_write_bio_X509(b, cert), 1);
	if (key != NULL)
		assert_int_equal(PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(b, &data);
	out = calloc(1, (size_t)n + 1);
	assert_non_null(out);
	memcpy(out, data, (size_t)n);
	BIO_free(b);
	return out;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A self-signed certificate for KEY named CN; a CA when IS_CA. */
static X509 *
self_signed(EVP_PKEY *key, const char *cn, int is_ca)
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
	X509_set_issuer_name(x, X509_get_subject_name(x));
	add_ext(x, x, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (is_ca)
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static void
test_cred_client_certificate(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_ENVIRONMENT };
	struct testenv e = { 0 };
	EVP_PKEY *key = EVP_RSA_gen(2048);
	X509 *cert;
	struct az_cred *c;
	char *cert_pem, *key_pem, *both, tok[8192], err[1024] = "", path[400];
	cJSON *reg, *ans = NULL;
	char *body;
	size_t n;

	(void)state;
	assert_non_null(key);
	cert = self_signed(key, W.client, 0);
	cert_pem = pem_of(cert, NULL);
	key_pem = pem_of(NULL, key);
	n = strlen(cert_pem) + strlen(key_pem) + 1;
	both = malloc(n);
	assert_non_null(both);
	sfmt(both, n, "%s%s", cert_pem, key_pem);
	sfmt(path, sizeof path, "%s/client-cert.pem", W.tmp);
	write_file(path, both, 0600);

	testenv_set(&e, "AZURE_TENANT_ID", W.tenant);
	testenv_set(&e, "AZURE_CLIENT_ID", W.client);
	testenv_set(&e, "AZURE_CLIENT_CERTIFICATE_PATH", path);
	testenv_set(&e, "AZURE_AUTHORITY_HOST", W.authority);

	/* Before the certificate is registered the simulator refuses the
	 * assertion: it really checks the signature against what it knows. */
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_contains(err, "AADSTS");
	az_cred_free(c);

	reg = cJSON_CreateObject();
	cJSON_AddStringToObject(reg, "client_id", W.client);
	cJSON_AddStringToObject(reg, "pem", cert_pem);
	body = cJSON_PrintUnformatted(reg);
	assert_int_equal(ctl("POST", "/_sim/arm/entra/certificates", body, &ans), 201);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(ans, "x5t")));
	cJSON_Delete(ans);
	free(body);
	cJSON_Delete(reg);

	c = cred_new(&cfg, &e);
	arm_works_with(c, "environment", "client certificate");
	az_cred_free(c);

	free(both);
	free(cert_pem);
	free(key_pem);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static char *
b64url(const void *data, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	int len;

	assert_non_null(out);
	len = EVP_EncodeBlock((unsigned char *)out, data, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (int i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return out;
}

/* A Kubernetes service-account token as the kubelet projects it for
 * workload identity.  The simulator does not verify the signature of a
 * federated assertion (bgswitch(1), "Deviations from Azure": it trusts the
 * issuer and subject, as an Entra federated credential does after fetching
 * the issuer's keys), so an HMAC with a throwaway key stands in for the
 * cluster's RS256 signature. */
static char *
federated_jwt(const char *iss, const char *sub, const char *aud, long long exp)
{
	static const unsigned char key[] = "test-only-not-a-cluster-signing-key";
	char claims[1024], *h64, *p64, *s64, *signing, *jwt;
	const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"test\"}";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	long long now = (long long)time(NULL);
	size_t n;

	sfmt(claims, sizeof claims, "{\"aud\":[\"%s\"],\"exp\":%lld,\"iat\":%lld,\"nbf\":%lld,"
	    "\"iss\":\"%s\",\"sub\":\"%s\",\"kubernetes.io\":{\"namespace\":\"ci\","
	    "\"serviceaccount\":{\"name\":\"bgswitch\"}}}", aud, exp, now, now, iss, sub);
	h64 = b64url(hdr, strlen(hdr));
	p64 = b64url(claims, strlen(claims));
	n = strlen(h64) + strlen(p64) + 2;
	signing = malloc(n);
	assert_non_null(signing);
	sfmt(signing, n, "%s.%s", h64, p64);
	assert_non_null(HMAC(EVP_sha256(), key, sizeof key - 1, (unsigned char *)signing,
	    strlen(signing), mac, &maclen));
	s64 = b64url(mac, maclen);
	n = strlen(signing) + strlen(s64) + 2;
	jwt = malloc(n);
	assert_non_null(jwt);
	sfmt(jwt, n, "%s.%s", signing, s64);
	free(h64);
	free(p64);
	free(s64);
	free(signing);
	return jwt;
}

static void
test_cred_workload_identity(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_WORKLOAD_IDENTITY };
	struct testenv e = { 0 };
	struct az_cred *c;
	char path[400], tok[8192], err[1024] = "", *jwt;
	long long exp = (long long)time(NULL) + 3600;

	(void)state;
	sfmt(path, sizeof path, "%s/sa-token", W.tmp);
	testenv_set(&e, "AZURE_TENANT_ID", W.tenant);
	testenv_set(&e, "AZURE_CLIENT_ID", W.client);
	testenv_set(&e, "AZURE_FEDERATED_TOKEN_FILE", path);
	testenv_set(&e, "AZURE_AUTHORITY_HOST", W.authority);

	/* A subject the app does not trust: refused (the file is re-read on
	 * every fetch, so the next one sees the rotated token). */
	jwt = federated_jwt(FED_ISSUER, "system:serviceaccount:ci:someone-else", FED_AUDIENCE, exp);
	write_file(path, jwt, 0600);
	free(jwt);
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_contains(err, "AADSTS700213");
	az_cred_free(c);

	jwt = federated_jwt(FED_ISSUER, FED_SUBJECT, FED_AUDIENCE, exp);
	write_file(path, jwt, 0600);
	free(jwt);
	c = cred_new(&cfg, &e);
	arm_works_with(c, "workload-identity", "federated token file");
	az_cred_free(c);
}

static void
test_cred_managed_identity(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_MANAGED_IDENTITY };
	struct testenv e = { 0 };
	struct az_cred *c;
	char imds[300], tok[8192], err[1024] = "";

	(void)state;
	/* The simulator's IMDS-style endpoint, over TLS on loopback instead of
	 * plain http on 169.254.169.254. */
	sfmt(imds, sizeof imds, "%s/metadata/identity/oauth2/token", sim_base_url());
	cfg.imds_endpoint = imds;

	/* An identity this "machine" does not have. */
	cfg.client_id = "00000000-1111-2222-3333-444444444444";
	c = cred_new(&cfg, &e);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok, sizeof tok, NULL, err, sizeof err), -1);
	assert_contains(err, "Identity not found");
	az_cred_free(c);

	cfg.client_id = W.mi_client;
	c = cred_new(&cfg, &e);
	arm_works_with(c, "managed-identity", "IMDS");
	az_cred_free(c);
}

static void
test_cred_azure_cli(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_AZURE_CLI };
	struct testenv e = { 0 };
	struct az_cred *c;
	char bindir[300], script[8192], path[400], argsf[400], pathvar[400], *args;

	(void)state;
	sfmt(bindir, sizeof bindir, "%s/bin", W.tmp);
	assert_true(mkdir(bindir, 0700) == 0 || errno == EEXIST);
	sfmt(path, sizeof path, "%s/az", bindir);
	sfmt(argsf, sizeof argsf, "%s/az-args", W.tmp);
	/* A stand-in for the Azure CLI that is logged in as the world's
	 * service principal: it gets a real token from the simulator's token
	 * endpoint (client credentials, with curl) and prints it as
	 * `az account get-access-token -o json` does. */
	sfmt(script, sizeof script,
	    "#!/bin/sh\n"
	    "echo \"$*\" > '%s'\n"
	    "resource=\n"
	    "while [ $# -gt 0 ]; do\n"
	    "  case \"$1\" in --resource) resource=$2; shift ;; esac\n"
	    "  shift\n"
	    "done\n"
	    "[ -n \"$resource\" ] || { echo 'ERROR: no --resource' >&2; exit 2; }\n"
	    "answer=$(curl -sS --fail-with-body --cacert '%s' "
	    "--data-urlencode grant_type=client_credentials "
	    "--data-urlencode client_id='%s' --data-urlencode client_secret='%s' "
	    "--data-urlencode \"scope=${resource%%/}/.default\" '%s/%s/oauth2/v2.0/token') || "
	    "{ echo \"ERROR: $answer\" >&2; exit 1; }\n"
	    "token=$(printf '%%s' \"$answer\" | sed -n 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/p')\n"
	    "life=$(printf '%%s' \"$answer\" | sed -n 's/.*\"expires_in\":\\([0-9]*\\).*/\\1/p')\n"
	    "[ -n \"$token\" ] && [ -n \"$life\" ] || { echo 'ERROR: no token' >&2; exit 1; }\n"
	    "exp=$(( $(date +%%s) + life ))\n"
	    "printf '{\\n  \"accessToken\": \"%%s\",\\n  \"expiresOn\": \"%%s\",\\n"
	    "  \"expires_on\": %%s,\\n  \"subscription\": \"%s\",\\n  \"tenant\": \"%s\",\\n"
	    "  \"tokenType\": \"Bearer\"\\n}\\n' \"$token\" \"$(date -d @$exp '+%%Y-%%m-%%d %%H:%%M:%%S.000000')\" "
	    "\"$exp\"\n",
	    argsf, W.ca, W.client, W.secret, sim_base_url(), W.tenant, W.sub, W.tenant);
	write_file(path, script, 0700);
	sfmt(pathvar, sizeof pathvar, "%s:/usr/local/bin:/usr/bin:/bin", bindir);
	testenv_set(&e, "PATH", pathvar);
	cfg.cli_timeout_ms = 20000;
	c = cred_new(&cfg, &e);
	arm_works_with(c, "azure-cli", "az CLI");
	az_cred_free(c);
	/* It was asked the way the Azure SDKs ask it. */
	args = slurp(argsf);
	assert_contains(args, "account get-access-token --output json --resource "
	    "https://management.azure.com");
	free(args);
}

/* ---- 3. 429 storms ---------------------------------------------------------------------- */

static void
test_arm_throttle_retry_after(void **state)
{
	struct arm_client *a = arm_new(W.cred, 0, 20);
	struct arm_response r;

	(void)state;
	/* A token first, so that only ARM requests are timed below. */
	assert_int_equal(arm_get(a, W.blue_id, NULL, &r), ARM_OK);
	arm_response_free(&r);
	ctl_ok("POST", "/_sim/faults", "{\"arm_throttle\":3,\"arm_throttle_retry_after\":1}");
	assert_int_equal(arm_get(a, W.blue_id, NULL, &r), ARM_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 4);
	/* Three waits of the 1 s Retry-After, not the 20 ms backoff. */
	assert_true(r.elapsed_s >= 2.9);
	assert_contains(r.body, "\"name\":\"" BLUE "\"");
	arm_response_free(&r);
	assert_int_equal(faults_num("arm_throttle"), 0);
	ctl_ok("DELETE", "/_sim/faults", NULL);
	arm_client_free(a);
}

static void
test_arm_throttle_backoff(void **state)
{
	struct arm_client *a = arm_new(W.cred, 0, 20);
	struct arm_response r;
	struct aks_summary sum;
	char err[2048] = "";

	(void)state;
	assert_int_equal(arm_get(a, W.blue_id, NULL, &r), ARM_OK);
	arm_response_free(&r);
	/* "members not given are kept": the Retry-After must be switched off. */
	ctl_ok("POST", "/_sim/faults", "{\"arm_throttle\":3,\"arm_throttle_retry_after\":0}");
	assert_int_equal(arm_get(a, W.blue_id, NULL, &r), ARM_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 4);
	/* The client's own backoff (20, 40, 80 ms with jitter), not the
	 * 1 s default base (1 + 2 + 4 s). */
	assert_true(r.elapsed_s < 2.0);
	arm_response_free(&r);
	/* The same storm through aks_get. */
	ctl_ok("POST", "/_sim/faults", "{\"arm_throttle\":3,\"arm_throttle_retry_after\":0}");
	if (aks_get(a, W.blue_id, NULL, NULL, &sum, err, sizeof err) != 0)
		fail_msg("aks_get through a 429 storm: %s", err);
	assert_string_equal(sum.name, BLUE);
	aks_summary_free(&sum);
	assert_int_equal(faults_num("arm_throttle"), 0);
	arm_client_free(a);
}

static void
test_arm_throttle_exhausted(void **state)
{
	struct arm_client *a = arm_new(W.cred, 3, 20);
	struct arm_response r;
	struct aks_summary sum;
	char err[2048] = "";

	(void)state;
	assert_int_equal(arm_get(a, W.blue_id, NULL, &r), ARM_OK);
	arm_response_free(&r);
	ctl_ok("POST", "/_sim/faults", "{\"arm_throttle\":5,\"arm_throttle_retry_after\":0}");
	assert_int_equal(arm_get(a, W.blue_id, NULL, &r), ARM_E_STATUS);
	assert_int_equal(r.status, 429);
	assert_int_equal(r.attempts, 3);
	assert_string_equal(r.error_code, "TooManyRequests");
	assert_contains(r.message, "429");
	assert_contains(r.message, "TooManyRequests");
	assert_contains(r.message, "managedClusters/" BLUE);
	arm_response_free(&r);
	/* Two throttled answers are left; aks_get's third try gets through. */
	assert_int_equal(faults_num("arm_throttle"), 2);
	ctl_ok("POST", "/_sim/faults", "{\"arm_throttle\":3}");
	assert_int_equal(aks_get(a, W.blue_id, NULL, NULL, &sum, err, sizeof err), ARM_E_STATUS);
	assert_contains(err, "429");
	assert_contains(err, "TooManyRequests");
	assert_int_equal(faults_num("arm_throttle"), 0);
	/* The storm is over: the next read works at once. */
	if (aks_get(a, W.blue_id, NULL, NULL, &sum, err, sizeof err) != 0)
		fail_msg("aks_get after the storm: %s", err);
	aks_summary_free(&sum);
	ctl_ok("DELETE", "/_sim/faults", NULL);
	arm_client_free(a);
}

/* ---- 4. a failed async create ------------------------------------------------------------ */

static void
test_aks_create_fails(void **state)
{
	struct aks_summary sum;
	cJSON *blue = NULL, *spec, *ops = NULL, *op, *found = NULL;
	char err[4096] = "", note[1024];
	const char *code, *text;
	int rc;

	(void)state;
	if (aks_get(W.arm, W.blue_id, NULL, &blue, NULL, err, sizeof err) != 0)
		fail_msg("GET blue: %s", err);
	spec = aks_clone_spec(blue, GREEN, "1.30.5", note, sizeof note, err, sizeof err);
	if (spec == NULL)
		fail_msg("clone: %s", err);
	ctl_ok("POST", "/_sim/faults", "{\"fail_cluster_create\":1}");
	rc = aks_create_or_update(W.arm, W.green_id, spec, NULL, &sum, err, sizeof err);
	assert_int_equal(rc, ARM_E_OPERATION);
	assert_int_equal(faults_num("fail_cluster_create"), 0);

	/* The operation's own error, as the simulator reports it. */
	assert_int_equal(ctl("GET", "/_sim/arm/operations", NULL, &ops), 200);
	cJSON_ArrayForEach(op, ops) {
		const char *rid = cJSON_GetStringValue(cJSON_GetObjectItem(op, "resourceId"));

		if (rid != NULL && strstr(rid, "/managedClusters/" GREEN) != NULL
		    && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(op, "status")), "Failed") == 0)
			found = op;
	}
	if (found == NULL)
		fail_msg("no Failed operation for %s in /_sim/arm/operations", GREEN);
	code = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(found, "error"), "code"));
	text = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(found, "error"),
	    "message"));
	assert_non_null(code);
	assert_non_null(text);
	assert_string_equal(code, "VMExtensionProvisioningError");
	/* Verbatim in the one line the operator sees. */
	assert_contains(err, code);
	assert_contains(err, text);
	assert_contains(err, "PUT managedClusters/" GREEN);
	assert_contains(err, "Failed");
	cJSON_Delete(ops);

	/* The cluster resource is left Failed, as AKS leaves it. */
	if (aks_get(W.arm, W.green_id, NULL, NULL, &sum, err, sizeof err) != 0)
		fail_msg("GET green: %s", err);
	assert_string_equal(sum.provisioning_state, "Failed");
	aks_summary_free(&sum);
	cJSON_Delete(spec);
	cJSON_Delete(blue);
}

/* ---- 5. 412 on a stale ETag: gateway and DNS --------------------------------------------- */

/* Watches the log for the simulator's answer to the gateway GET, and then
 * changes the gateway behind the client's back (bump-etag) before its PUT
 * is handled: the PUT waits slow_ms in the simulator first, and the bump
 * goes through the control endpoint, which is never slowed. */
struct bumper {
	int rfd;
	FILE *wf;
	pthread_t th;
	atomic_int armed, bumped;
	long bump_status, unslow_status;
	char err[300];			/* a control request that got no answer */
};

static void *
bumper_main(void *arg)
{
	struct bumper *b = arg;
	char buf[4096], line[8192];
	size_t ll = 0;
	ssize_t k;

	while ((k = read(b->rfd, buf, sizeof buf)) > 0 || (k < 0 && errno == EINTR)) {
		for (ssize_t i = 0; i < k; i++) {
			if (buf[i] != '\n') {
				if (ll + 1 < sizeof line)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			if (atomic_load(&b->armed) && !atomic_load(&b->bumped)
			    && strstr(line, "[sim] GET /subscriptions/") != NULL
			    && strstr(line, "/applicationGateways/agw-prod -> 200") != NULL) {
				/* No cmocka asserts off the main thread: record. */
				b->bump_status = ctl_try("POST",
				    "/_sim/arm/gateways/agw-prod/bump-etag", NULL, NULL, b->err,
				    sizeof b->err);
				b->unslow_status = ctl_try("POST", "/_sim/faults",
				    "{\"slow_ms\":0}", NULL, b->err, sizeof b->err);
				atomic_store(&b->bumped, 1);
			}
		}
	}
	return NULL;
}

static void
bumper_start(struct bumper *b)
{
	int p[2];

	memset(b, 0, sizeof *b);
	assert_int_equal(pipe(p), 0);
	b->rfd = p[0];
	b->wf = fdopen(p[1], "w");
	assert_non_null(b->wf);
	assert_int_equal(pthread_create(&b->th, NULL, bumper_main, b), 0);
	log_set_stream(b->wf, LOG_DEBUG);
}

static void
bumper_stop(struct bumper *b)
{
	log_set_stream(stderr, quiet_level);
	fclose(b->wf);		/* EOF for the thread */
	pthread_join(b->th, NULL);
	close(b->rfd);
}

static void
test_appgw_412_and_drift(void **state)
{
	struct appgw_target t = { W.gw_id, "rule-live-https", "pool-blue", "pool-green" };
	struct appgw_change ch1, ch2, ch3;
	struct appgw_weights w;
	struct bumper b;
	cJSON *gw = NULL, *snap;
	char err[2048] = "", etag[256], etag2[256];
	int rc;

	(void)state;
	if (appgw_get(W.arm, W.gw_id, NULL, &gw, etag, sizeof etag, err, sizeof err) != 0)
		fail_msg("GET gateway: %s", err);
	snap = appgw_snapshot(gw, t.rule, err, sizeof err);
	assert_non_null(snap);
	assert_int_equal(appgw_weights(gw, &t, &w, err, sizeof err), 0);
	assert_int_equal(w.blue.weight, 100);
	assert_int_equal(w.green.weight, 0);
	cJSON_Delete(gw);

	/* An unrelated change after the snapshot: a new ETag, the same rule.
	 * Not drift, and no 412 either: the call reads the gateway (and its
	 * fresh ETag) itself, EXPECT only guards the rule. */
	ctl_ok("POST", "/_sim/arm/gateways/agw-prod/bump-etag", NULL);
	rc = appgw_set_weights(W.arm, &t, 90, 10, snap, NULL, &ch1, err, sizeof err);
	if (rc != 0)
		fail_msg("set_weights 90/10 after an unrelated change: %s", err);
	assert_int_equal(ch1.attempts, 1);
	assert_int_equal(ch1.changed, 1);
	assert_int_equal(ch1.now.blue.weight, 90);
	assert_int_equal(ch1.now.green.weight, 10);
	assert_string_not_equal(ch1.etag, etag);

	/* The change lands between the client's GET and its PUT: 412, a
	 * re-read, and the PUT again with the fresh ETag. */
	bumper_start(&b);
	ctl_ok("POST", "/_sim/faults", "{\"slow_ms\":400}");
	atomic_store(&b.armed, 1);
	rc = appgw_set_weights(W.arm, &t, 50, 50, ch1.after, NULL, &ch2, err, sizeof err);
	bumper_stop(&b);
	ctl_ok("DELETE", "/_sim/faults", NULL);
	assert_int_equal(atomic_load(&b.bumped), 1);
	if (b.bump_status != 200)
		fail_msg("bump-etag: %ld %s", b.bump_status, b.err);
	assert_int_equal(b.unslow_status, 200);
	if (rc != 0)
		fail_msg("set_weights 50/50 across a 412: %s", err);
	assert_int_equal(ch2.attempts, 2);
	assert_int_equal(ch2.changed, 1);
	assert_int_equal(ch2.now.blue.weight, 50);
	assert_int_equal(ch2.now.green.weight, 50);
	assert_true(appgw_snapshot_equal(ch2.before, ch1.after));

	/* Someone else moves the weights: drift, nothing written. */
	ctl_ok("POST", "/_sim/arm/gateways/agw-prod/bump-etag",
	    "{\"weights\":{\"pool-blue\":70,\"pool-green\":30}}");
	assert_int_equal(appgw_get(W.arm, W.gw_id, NULL, &gw, etag, sizeof etag, err, sizeof err), 0);
	cJSON_Delete(gw);
	rc = appgw_set_weights(W.arm, &t, 0, 100, ch2.after, NULL, &ch3, err, sizeof err);
	assert_int_equal(rc, APPGW_E_DRIFT);
	assert_contains(err, "nothing written");
	appgw_change_free(&ch3);
	assert_int_equal(appgw_get(W.arm, W.gw_id, NULL, &gw, etag2, sizeof etag2, err,
	    sizeof err), 0);
	assert_string_equal(etag2, etag);
	assert_int_equal(appgw_weights(gw, &t, &w, err, sizeof err), 0);
	assert_int_equal(w.blue.weight, 70);
	assert_int_equal(w.green.weight, 30);
	cJSON_Delete(gw);

	/* Back to blue alone, for the tests after this one. */
	if (appgw_restore(W.arm, &t, snap, NULL, NULL, &ch3, err, sizeof err) != 0)
		fail_msg("restore: %s", err);
	appgw_change_free(&ch3);
	appgw_change_free(&ch2);
	appgw_change_free(&ch1);
	cJSON_Delete(snap);
}

static void
test_pdns_412(void **state)
{
	const char *green[] = { "10.10.2.4" }, *blue[] = { "10.10.1.4" };
	struct pdns_record before, now;
	struct pdns_change ch;
	char id[600], stale[256], err[2048] = "";
	int rc;

	(void)state;
	assert_int_equal(pdns_record_id(id, sizeof id, W.sub, W.rg, "priv.contoso.com", "A", "aks"), 0);
	if (pdns_get(W.arm, id, NULL, &before, NULL, err, sizeof err) != 0)
		fail_msg("GET record: %s", err);
	assert_int_equal(before.ntargets, 1);
	assert_string_equal(before.targets[0], "10.10.1.4");
	sfmt(stale, sizeof stale, "%s", before.etag);

	/* Changed behind our back (same value, new ETag). */
	ctl_ok("POST", "/_sim/arm/dns/priv.contoso.com/A/aks/bump-etag", NULL);
	rc = pdns_set_targets(W.arm, id, green, 1, 0, stale, NULL, &ch, err, sizeof err);
	assert_int_equal(rc, ARM_E_PRECONDITION);
	assert_contains(err, "412");
	pdns_change_free(&ch);
	assert_int_equal(pdns_get(W.arm, id, NULL, &now, NULL, err, sizeof err), 0);
	assert_string_equal(now.targets[0], "10.10.1.4");	/* nothing written */
	assert_string_not_equal(now.etag, stale);

	/* Re-read, retry with the fresh ETag. */
	rc = pdns_set_targets(W.arm, id, green, 1, 0, now.etag, NULL, &ch, err, sizeof err);
	if (rc != 0)
		fail_msg("set_targets with the fresh ETag: %s", err);
	assert_int_equal(ch.changed, 1);
	assert_string_equal(ch.after.targets[0], "10.10.2.4");
	assert_string_not_equal(ch.after.etag, now.etag);
	pdns_change_free(&ch);
	rc = pdns_set_targets(W.arm, id, blue, 1, 0, NULL, NULL, &ch, err, sizeof err);
	if (rc != 0)
		fail_msg("set_targets back: %s", err);
	pdns_change_free(&ch);
}

/* ---- 6. a watch that gets 410 and relists ------------------------------------------------- */

static struct kube_client *
kube_for(const char *kubeconfig, const char *context, struct kubeconfig_target *keep)
{
	char err[KUBECONFIG_ERR_SIZE] = "";
	struct kubeconfig *kc = kubeconfig_load(kubeconfig, err, sizeof err);
	struct kubeconfig_target t;
	struct kube_client *c;

	if (kc == NULL)
		fail_msg("kubeconfig: %s", err);
	if (kubeconfig_resolve(kc, context, &t, err, sizeof err) != 0)
		fail_msg("kubeconfig %s: %s", context, err);
	kubeconfig_free(kc);
	if (keep != NULL) {
		*keep = t;
		return NULL;
	}
	c = kube_client_new(&t, NULL, err, sizeof err);
	kubeconfig_target_free(&t);
	if (c == NULL)
		fail_msg("kube_client_new: %s", err);
	return c;
}

static int
open_watches(void)
{
	cJSON *j = NULL;
	int n;

	assert_int_equal(ctl("POST", "/_sim/clusters/" BLUE "/get", NULL, &j), 200);
	n = cJSON_GetObjectItem(j, "openWatches")->valueint;
	cJSON_Delete(j);
	return n;
}

/* Waits until the pod snapshot has RELISTS relists and 150 pods, all
 * Ready.  1 when it did within TIMEOUT_MS. */
static int
wait_pods(struct kube_informer *inf, struct kube_snapshot *s, uint64_t relists, long timeout_ms)
{
	long long end = http_now_ms() + timeout_ms;

	for (;;) {
		kube_snapshot_free(s);
		assert_int_equal(kube_informer_snapshot(inf, s), 0);
		if (s->synced && s->relists >= relists && s->objects == 150 && s->pods.total == 150
		    && s->pods.ready == 150)
			return 1;
		if (http_now_ms() >= end)
			return 0;
		usleep(20000);
	}
}

/* test_kube_informer.c's test_sim_informers covers this inside a longer
 * story (scale, outage, expiry); this is the expiry alone. */
static void
test_informer_410_relist(void **state)
{
	char path[400], err[256] = "";
	struct kube_client *kc;
	struct kube_informer_opts o = { 0 };
	struct kube_informer *inf;
	struct kube_snapshot s = { 0 };
	long long end;

	(void)state;
	sfmt(path, sizeof path, "%s/kubeconfig", W.dir);
	kc = kube_for(path, BLUE, NULL);
	o.backoff_initial_ms = 100;
	o.backoff_max_ms = 500;
	inf = kube_informer_start(kc, KUBE_INFORMER_PODS, &o, err, sizeof err);
	if (inf == NULL)
		fail_msg("informer: %s", err);
	assert_int_equal(kube_informer_wait_synced(inf, 15000), 1);
	if (!wait_pods(inf, &s, 0, 10000))
		fail_msg("pods: %llu objects, %u ready", (unsigned long long)s.objects,
		    s.pods.ready);
	assert_int_equal(s.relists, 0);
	assert_int_equal(s.lists, 1);
	/* The watch must be open for the 410 to reach it as an event. */
	end = http_now_ms() + 10000;
	while (open_watches() < 1 && http_now_ms() < end)
		usleep(20000);
	assert_true(open_watches() >= 1);

	ctl_ok("POST", "/_sim/clusters/" BLUE "/expire-watches", "{}");
	if (!wait_pods(inf, &s, 1, 10000))
		fail_msg("no relist after expire-watches: relists %llu, objects %llu, last error %s",
		    (unsigned long long)s.relists, (unsigned long long)s.objects, s.last_error);
	assert_int_equal(s.relists, 1);
	assert_int_equal(s.lists, 2);
	assert_int_equal(s.objects, 150);
	assert_int_equal(s.pods.ready, 150);
	assert_true(s.connected);
	kube_snapshot_free(&s);
	kube_informer_stop(inf);
	kube_client_free(kc);
}

/* ---- 7. an exec credential plugin ---------------------------------------------------------- */

static char *
b64_std(const char *data, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	assert_non_null(out);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)n);
	return out;
}

static int
count_node(void *ctx, enum kube_event ev, const struct kube_object *obj)
{
	(void)ev;
	(void)obj;
	(*(int *)ctx)++;
	return 0;
}

/* Writes PATH: a kubeconfig for T's server and CA whose user is the exec
 * plugin PLUGIN, given TOKEN to print through its env entries. */
static void
write_exec_kubeconfig(const char *path, const struct kubeconfig_target *t, const char *plugin,
    const char *token)
{
	char *ca64 = b64_std(t->ca_pem, t->ca_len), *yaml;
	size_t ylen = strlen(ca64) + strlen(t->server) + strlen(token) + strlen(plugin) + 1024;

	yaml = malloc(ylen);
	assert_non_null(yaml);
	sfmt(yaml, ylen,
	    "apiVersion: v1\n"
	    "kind: Config\n"
	    "clusters:\n"
	    "- name: blue\n"
	    "  cluster:\n"
	    "    server: %s\n"
	    "    certificate-authority-data: %s\n"
	    "users:\n"
	    "- name: blue-exec\n"
	    "  user:\n"
	    "    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: %s\n"
	    "      args: [get-token, --cluster, " BLUE "]\n"
	    "      env:\n"
	    "      - name: SIM_CLUSTER_TOKEN\n"
	    "        value: %s\n"
	    "      interactiveMode: Never\n"
	    "      provideClusterInfo: true\n"
	    "contexts:\n"
	    "- name: blue-exec\n"
	    "  context:\n"
	    "    cluster: blue\n"
	    "    user: blue-exec\n"
	    "current-context: blue-exec\n",
	    t->server, ca64, plugin, token);
	write_file(path, yaml, 0600);
	free(yaml);
	free(ca64);
}

static void
test_kube_exec_plugin(void **state)
{
	struct kubeconfig_target sim_t;
	struct kube_client *kc;
	struct kube_call call = { 0 };
	struct kube_list_meta meta;
	char path[400], plugin[400], runs[400], info[400], script[2048], *text, *bad;
	cJSON *ver = NULL;
	int nodes = 0;

	(void)state;
	/* Server, CA and the cluster's static token from the simulator's own
	 * kubeconfig. */
	sfmt(path, sizeof path, "%s/kubeconfig", W.dir);
	kube_for(path, BLUE, &sim_t);
	assert_non_null(sim_t.token);
	assert_non_null(sim_t.ca_pem);

	sfmt(plugin, sizeof plugin, "%s/fake-kubelogin", W.tmp);
	sfmt(runs, sizeof runs, "%s/plugin-runs", W.tmp);
	sfmt(info, sizeof info, "%s/plugin-exec-info", W.tmp);
	sfmt(script, sizeof script,
	    "#!/bin/sh\n"
	    "# A kubelogin stand-in: prints the token its kubeconfig env entry gives it.\n"
	    "[ \"$1\" = get-token ] && [ \"$2\" = --cluster ] && [ \"$3\" = " BLUE " ] || "
	    "{ echo \"bad arguments: $*\" >&2; exit 2; }\n"
	    "echo run >> '%s'\n"
	    "printf '%%s\\n' \"$KUBERNETES_EXEC_INFO\" > '%s'\n"
	    "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"token\":\"%%s\"}}\\n' \"$SIM_CLUSTER_TOKEN\"\n",
	    runs, info);
	write_file(plugin, script, 0700);
	sfmt(path, sizeof path, "%s/kubeconfig-exec", W.tmp);
	write_exec_kubeconfig(path, &sim_t, plugin, sim_t.token);

	kc = kube_for(path, NULL, NULL);
	if (kube_get(kc, "/version", &ver, &call) != 0)
		fail_msg("GET /version through the exec plugin: %s", call.error);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ver, "gitVersion")), "v1.29.7");
	cJSON_Delete(ver);
	if (kube_list(kc, "/api/v1/nodes", NULL, count_node, &nodes, &meta, &call) != 0)
		fail_msg("list nodes through the exec plugin: %s", call.error);
	assert_int_equal(nodes, 6);
	assert_true(meta.resource_version[0] != '\0');
	/* The plugin ran once (its credential has no expiry, so it is cached)
	 * and was told what kubectl tells it. */
	text = slurp(runs);
	assert_string_equal(text, "run\n");
	free(text);
	text = slurp(info);
	assert_contains(text, "\"kind\":\"ExecCredential\"");
	assert_contains(text, "\"apiVersion\":\"client.authentication.k8s.io/v1\"");
	assert_contains(text, "\"interactive\":false");
	assert_contains(text, sim_t.server);
	free(text);
	kube_client_free(kc);

	/* The plugin's token is what the server checks: one it does not know
	 * is a 401, after one more run of the plugin (the retry kubectl does). */
	bad = strdup(sim_t.token);
	assert_non_null(bad);
	bad[0] = bad[0] == 'x' ? 'y' : 'x';
	write_exec_kubeconfig(path, &sim_t, plugin, bad);
	free(bad);
	unlink(runs);
	kc = kube_for(path, NULL, NULL);
	assert_int_equal(kube_get(kc, "/version", &ver, &call), -1);
	assert_int_equal(call.err, KUBE_E_AUTH);
	assert_int_equal(call.status, 401);
	text = slurp(runs);
	assert_string_equal(text, "run\nrun\n");
	free(text);
	kube_client_free(kc);
	kubeconfig_target_free(&sim_t);
}

/* ---- 8 (simulator side). the wrong CA for a cluster ------------------------------------------ */

static void
test_kube_wrong_ca(void **state)
{
	struct kubeconfig_target t;
	struct kube_client *kc;
	struct kube_call call = { 0 };
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *other;
	char path[400], err[512] = "";
	cJSON *j = NULL;

	(void)state;
	sfmt(path, sizeof path, "%s/kubeconfig", W.dir);
	kube_for(path, BLUE, &t);
	/* The right CA works. */
	kc = kube_client_new(&t, NULL, err, sizeof err);
	assert_non_null(kc);
	assert_int_equal(kube_get(kc, "/version", &j, &call), 0);
	cJSON_Delete(j);
	j = NULL;
	kube_client_free(kc);

	/* Another self-signed CA in its place. */
	assert_non_null(key);
	other = self_signed(key, "some other cluster CA", 1);
	free(t.ca_pem);
	t.ca_pem = pem_of(other, NULL);
	t.ca_len = strlen(t.ca_pem);
	kc = kube_client_new(&t, NULL, err, sizeof err);
	if (kc == NULL)
		fail_msg("kube_client_new: %s", err);
	assert_int_equal(kube_get(kc, "/version", &j, &call), -1);
	assert_null(j);
	assert_int_equal(call.err, KUBE_E_TRANSPORT);
	assert_int_equal(call.status, 0);
	assert_contains(call.error, "certificate");
	kube_client_free(kc);
	kubeconfig_target_free(&t);
	X509_free(other);
	EVP_PKEY_free(key);
}

/* ---- sim_start() again after sim_stop() ---------------------------------------------------- */

/* What the first world leaves for the second to not have: a ConfigMap in
 * blue, and blue's static token. */
static char world1_token[256];

static void
test_mark_world_one(void **state)
{
	struct kubeconfig_target t;
	struct kube_client *kc;
	struct kube_call call = { 0 };
	char path[400], err[512] = "";

	(void)state;
	sfmt(path, sizeof path, "%s/kubeconfig", W.dir);
	kube_for(path, BLUE, &t);
	sfmt(world1_token, sizeof world1_token, "%s", t.token);
	kc = kube_client_new(&t, NULL, err, sizeof err);
	assert_non_null(kc);
	if (kube_create(kc, "/api/v1/namespaces/default/configmaps",
	    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
	    "\"left-by-world-one\"},\"data\":{\"a\":\"b\"}}", NULL, &call) != 0)
		fail_msg("create configmap: %s", call.error);
	assert_int_equal(kube_get(kc, "/api/v1/namespaces/default/configmaps/left-by-world-one",
	    NULL, &call), 0);
	kube_client_free(kc);
	kubeconfig_target_free(&t);
}

/* ---- 2. token refresh (a second world: short-lived tokens) ------------------------------------ */

static char refresh_world[400];

static void
test_token_refresh(void **state)
{
	struct az_cred_config cfg = { .kind = AZ_CRED_ENVIRONMENT };
	struct testenv e = { 0 };
	struct az_cred *c;
	struct arm_client *a;
	struct arm_response r;
	struct http_request rq = { 0 };
	struct http_response rs;
	char tok1[8192], tok2[8192], again[8192], err[1024] = "", logf[400], url[900], auth[8300];
	const char *hdrs[2];
	long long exp1 = 0, exp2 = 0;
	char *log;
	int tokens;

	(void)state;
	sfmt(logf, sizeof logf, "%s/refresh.log", W.tmp);
	/* Every request the simulator answers is one debug line: count the
	 * token requests there. */
	assert_int_equal(log_open(logf, LOG_DEBUG), 0);
	testenv_set(&e, "AZURE_TENANT_ID", W.tenant);
	testenv_set(&e, "AZURE_CLIENT_ID", W.client);
	testenv_set(&e, "AZURE_CLIENT_SECRET", W.secret);
	testenv_set(&e, "AZURE_AUTHORITY_HOST", W.authority);
	c = cred_new(&cfg, &e);
	a = arm_new(c, 0, 0);

	assert_int_equal(arm_get(a, W.blue_id, NULL, &r), ARM_OK);
	assert_int_equal(r.attempts, 1);
	arm_response_free(&r);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok1, sizeof tok1, &exp1, err, sizeof err), 0);
	/* token_lifetime 30 simulated s at speed 10: the client is told 3 s. */
	if (exp1 > epoch_ms() + 3100 || exp1 < epoch_ms() + 1500)
		fail_msg("the token lives %lld ms more, want about 3000", exp1 - epoch_ms());
	/* Still fresh: served from the cache. */
	assert_int_equal(az_cred_token(c, ARM_SCOPE, again, sizeof again, NULL, err, sizeof err), 0);
	assert_string_equal(again, tok1);

	/* Past the first token's life. */
	while (epoch_ms() < exp1 + 300)
		usleep(50000);
	assert_int_equal(arm_get(a, W.blue_id, NULL, &r), ARM_OK);
	/* Refreshed before the request, not after a 401. */
	assert_int_equal(r.attempts, 1);
	arm_response_free(&r);
	assert_int_equal(az_cred_token(c, ARM_SCOPE, tok2, sizeof tok2, &exp2, err, sizeof err), 0);
	assert_string_not_equal(tok2, tok1);
	assert_true(exp2 > exp1);

	/* The first token really is dead for ARM now. */
	assert_non_null(arm_api_version(W.blue_id));
	sfmt(url, sizeof url, "%s%s?api-version=%s", sim_base_url(), W.blue_id,
	    arm_api_version(W.blue_id));
	sfmt(auth, sizeof auth, "Authorization: Bearer %s", tok1);
	hdrs[0] = auth;
	hdrs[1] = NULL;
	rq.url = url;
	rq.headers = hdrs;
	assert_int_equal(http_do(W.ctl, &rq, &rs), 0);
	assert_int_equal(rs.status, 401);
	assert_contains(rs.body, "ExpiredAuthenticationToken");
	http_response_free(&rs);

	arm_client_free(a);
	az_cred_free(c);
	log_close();
	log_set_stream(stderr, quiet_level);
	log = slurp(logf);
	/* the simulator's line ends with the status; the client's goes on */
	tokens = count_of(log, "/oauth2/v2.0/token -> 200\n");
	if (tokens != 2)
		fail_msg("%d token requests, want 2:\n%s", tokens, log);
	free(log);
}

/* sim_start() after sim_stop() in one process: a fresh world, nothing left
 * of the first one (green's failed create, its watches and events). */
static void
test_restarted_world_is_fresh(void **state)
{
	struct aks_summary sum;
	struct kube_client *kc;
	struct kube_call call = { 0 };
	struct kube_list_meta meta;
	char path[400], err[2048] = "";
	cJSON *j = NULL;
	int pods = 0, nodes = 0;

	(void)state;
	assert_int_equal(aks_get(W.arm, W.green_id, NULL, NULL, &sum, err, sizeof err),
	    AKS_E_NOT_FOUND);
	if (aks_get(W.arm, W.blue_id, NULL, NULL, &sum, err, sizeof err) != 0)
		fail_msg("GET blue: %s", err);
	aks_summary_free(&sum);
	assert_int_equal(faults_num("arm_throttle"), 0);
	assert_int_equal(ctl("POST", "/_sim/clusters/" BLUE "/get", NULL, &j), 200);
	assert_int_equal(cJSON_GetObjectItem(j, "openWatches")->valueint, 0);
	assert_int_equal(cJSON_GetObjectItem(j, "nodesTotal")->valueint, 6);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "pods"), "total")->valueint, 150);
	cJSON_Delete(j);
	sfmt(path, sizeof path, "%s/kubeconfig", W.dir);
	kc = kube_for(path, BLUE, NULL);
	assert_int_equal(kube_get(kc, "/api/v1/namespaces/default/configmaps/left-by-world-one",
	    NULL, &call), -1);
	assert_int_equal(call.err, KUBE_E_NOT_FOUND);
	if (kube_list(kc, "/api/v1/pods", NULL, count_node, &pods, &meta, &call) != 0)
		fail_msg("list pods: %s", call.error);
	assert_int_equal(pods, 150);
	if (kube_list(kc, "/apis/apps/v1/deployments", NULL, count_node, &nodes, &meta, &call) != 0)
		fail_msg("list deployments: %s", call.error);
	assert_int_equal(nodes, 40);
	kube_client_free(kc);
	/* Blue is a new API server: the first world's token means nothing. */
	{
		struct kubeconfig_target t;
		char err2[512] = "";

		kube_for(path, BLUE, &t);
		assert_string_not_equal(t.token, world1_token);
		free(t.token);
		t.token = strdup(world1_token);
		assert_non_null(t.token);
		kc = kube_client_new(&t, NULL, err2, sizeof err2);
		assert_non_null(kc);
		assert_int_equal(kube_get(kc, "/version", NULL, &call), -1);
		assert_int_equal(call.err, KUBE_E_AUTH);
		kube_client_free(kc);
		kubeconfig_target_free(&t);
	}
}

/* ---- groups ------------------------------------------------------------------------------------ */

static int
main_setup(void **state)
{
	(void)state;
	return world_start(NULL, 100);
}

static int
main_teardown(void **state)
{
	(void)state;
	world_stop();
	return 0;
}

/* The built-in world with tokens that live 30 simulated seconds. */
static int
refresh_setup(void **state)
{
	const char *from = "token_lifetime: 3600";
	char *text = strndup(sim_world_default_yaml, sim_world_default_yaml_len), *p, *out;
	size_t n;

	(void)state;
	if (text == NULL || (p = strstr(text, from)) == NULL) {
		fprintf(stderr, "# the built-in world has no \"%s\"\n", from);
		free(text);
		return -1;
	}
	n = strlen(text) + 16;
	out = malloc(n);
	if (out == NULL) {
		free(text);
		return -1;
	}
	*p = '\0';
	snprintf(out, n, "%stoken_lifetime: 30  %s", text, p + strlen(from));
	free(text);
	sfmt(refresh_world, sizeof refresh_world, "%s/short-tokens.yaml", W.tmp);
	{
		FILE *f = fopen(refresh_world, "w");

		if (f == NULL) {
			free(out);
			return -1;
		}
		fputs(out, f);
		fclose(f);
	}
	free(out);
	return world_start(refresh_world, 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cred_client_secret),
		cmocka_unit_test(test_cred_client_certificate),
		cmocka_unit_test(test_cred_workload_identity),
		cmocka_unit_test(test_cred_managed_identity),
		cmocka_unit_test(test_cred_azure_cli),
		cmocka_unit_test(test_arm_throttle_retry_after),
		cmocka_unit_test(test_arm_throttle_backoff),
		cmocka_unit_test(test_arm_throttle_exhausted),
		cmocka_unit_test(test_aks_create_fails),
		cmocka_unit_test(test_appgw_412_and_drift),
		cmocka_unit_test(test_pdns_412),
		cmocka_unit_test(test_informer_410_relist),
		cmocka_unit_test(test_kube_exec_plugin),
		cmocka_unit_test(test_kube_wrong_ca),
		cmocka_unit_test(test_mark_world_one),
	};
	const struct CMUnitTest refresh[] = {
		cmocka_unit_test(test_restarted_world_is_fresh),
		cmocka_unit_test(test_token_refresh),
	};
	int failed;

	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	/* BGSWITCH_TEST_LOG=1 shows the clients' and the simulator's log. */
	quiet_level = getenv("BGSWITCH_TEST_LOG") != NULL ? LOG_DEBUG : LOG_OFF;
	log_set_stream(stderr, quiet_level);
	sfmt(W.tmp, sizeof W.tmp, "%s/bgswitch-simclients-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(W.tmp) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	failed = cmocka_run_group_tests_name("sim_clients", tests, main_setup, main_teardown);
	/* A second world in the same process, after sim_stop(). */
	failed += cmocka_run_group_tests_name("sim_clients_refresh", refresh, refresh_setup,
	    main_teardown);
	testlib_rmtree(W.tmp);
	return failed;
}
