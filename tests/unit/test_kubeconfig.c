/*
 * test_kubeconfig.c — unit tests for the kubeconfig loader (kube/kubeconfig.c).
 *
 * The two real kubeconfigs in tests/fixtures/kube/ (an AKS one using
 * kubelogin, a generic exec one) are resolved and checked field by field;
 * the hand-written ones in tests/fixtures/kubeconfig/ cover credentials in
 * files relative to the kubeconfig, the KUBECONFIG merge rules and the
 * insecure warning; literal texts built here cover base64 data fields, the
 * in-memory (ARM) entry point and every error message a user may see,
 * including its file:line:col.  A mutation loop feeds broken variants of
 * the fixtures through load and resolve to show nothing crashes or leaks
 * (run under ASan to see the latter).  Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "kube/kubeconfig.h"

#define FIX_KUBE "tests/fixtures/kube/"
#define FIX "tests/fixtures/kubeconfig/"

/* ---- helpers ---------------------------------------------------------- */

static char saved_kubeconfig[4096], saved_home[4096];
static int had_kubeconfig, had_home;

static int
env_save(void **state)
{
	const char *v;

	(void)state;
	if ((had_kubeconfig = (v = getenv("KUBECONFIG")) != NULL))
		snprintf(saved_kubeconfig, sizeof saved_kubeconfig, "%s", v);
	if ((had_home = (v = getenv("HOME")) != NULL))
		snprintf(saved_home, sizeof saved_home, "%s", v);
	return 0;
}

static int
env_restore(void **state)
{
	(void)state;
	if (had_kubeconfig)
		setenv("KUBECONFIG", saved_kubeconfig, 1);
	else
		unsetenv("KUBECONFIG");
	if (had_home)
		setenv("HOME", saved_home, 1);
	else
		unsetenv("HOME");
	return 0;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (hay == NULL || strstr(hay, needle) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", needle, hay ? hay : "(null)");
}

static void
assert_not_contains(const char *hay, const char *needle)
{
	if (hay != NULL && strstr(hay, needle) != NULL)
		fail_msg("did not expect \"%s\" in \"%s\"", needle, hay);
}

static struct kubeconfig *
load_ok(const char *path)
{
	char err[KUBECONFIG_ERR_SIZE];
	struct kubeconfig *kc = kubeconfig_load(path, err, sizeof err);

	if (kc == NULL)
		fail_msg("loading %s failed: %s", path ? path : "(default)", err);
	return kc;
}

static struct kubeconfig *
mem_ok(const char *text)
{
	char err[KUBECONFIG_ERR_SIZE];
	struct kubeconfig *kc = kubeconfig_load_mem(text, strlen(text), "t.yaml",
	    NULL, err, sizeof err);

	if (kc == NULL)
		fail_msg("parsing failed: %s", err);
	return kc;
}

/* Loading TEXT fails; the message goes to ERR. */
static void
mem_fails(const char *text, char *err, size_t errlen)
{
	struct kubeconfig *kc = kubeconfig_load_mem(text, strlen(text), "t.yaml",
	    NULL, err, errlen);

	if (kc != NULL) {
		kubeconfig_free(kc);
		fail_msg("loading [%s] should have failed", text);
	}
}

static void
resolve_ok(const struct kubeconfig *kc, const char *ctx,
    struct kubeconfig_target *t)
{
	char err[KUBECONFIG_ERR_SIZE];

	if (kubeconfig_resolve(kc, ctx, t, err, sizeof err) < 0)
		fail_msg("resolving %s failed: %s", ctx ? ctx : "(current)", err);
}

/* Resolving CTX of TEXT fails; the message goes to ERR. */
static void
resolve_fails(const char *text, const char *ctx, char *err, size_t errlen)
{
	struct kubeconfig *kc = mem_ok(text);
	struct kubeconfig_target t;

	if (kubeconfig_resolve(kc, ctx, &t, err, errlen) == 0) {
		kubeconfig_target_free(&t);
		kubeconfig_free(kc);
		fail_msg("resolving %s should have failed", ctx ? ctx : "(current)");
	}
	assert_null(t.server);
	kubeconfig_free(kc);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static char *
b64(const char *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	assert_non_null(out);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)p, (int)n);
	return out;
}

static char *
cwd_join(const char *rel)
{
	char cwd[4096], *out;

	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_true(asprintf(&out, "%s/%s", cwd, rel) > 0);
	return out;
}

/* PEM in memory is a real certificate (and KEY, if given, its key). */
static void
assert_cert_pem(const char *pem, size_t len, const char *key, size_t keylen)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	EVP_PKEY *k = NULL;

	assert_non_null(x);
	if (key != NULL) {
		BIO *kb = BIO_new_mem_buf(key, (int)keylen);

		k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
		assert_non_null(k);
		assert_int_equal(X509_check_private_key(x, k), 1);
		EVP_PKEY_free(k);
		BIO_free(kb);
	}
	X509_free(x);
	BIO_free(b);
}

/* ---- the real fixtures ------------------------------------------------ */

static void
test_aks_sample(void **state)
{
	struct kubeconfig_target t;
	struct kubeconfig *kc;
	const struct kube_exec_config *x;

	(void)state;
	/* An explicit path wins over KUBECONFIG. */
	setenv("KUBECONFIG", FIX "merge-1.yaml", 1);
	kc = load_ok(FIX_KUBE "sample_kubeconfig.yaml");
	assert_string_equal(kubeconfig_origin(kc), FIX_KUBE "sample_kubeconfig.yaml");
	assert_string_equal(kubeconfig_current_context(kc), "test-cluster");
	assert_int_equal(kubeconfig_context_count(kc), 1);
	resolve_ok(kc, NULL, &t);
	assert_string_equal(t.context, "test-cluster");
	assert_string_equal(t.cluster_name, "test-cluster");
	assert_string_equal(t.user_name, "clusterUser_test-group_test-cluster");
	assert_string_equal(t.server,
	    "https://test-cluster-12345.hcp.eastus.azmk8s.io:443");
	assert_string_equal(t.source, FIX_KUBE "sample_kubeconfig.yaml");
	assert_null(t.namespace);
	assert_null(t.tls_server_name);
	assert_non_null(t.ca_pem);
	/* The decoded bytes (the fixture's CA is placeholder data, PEM-shaped
	 * but not a parseable certificate). */
	assert_int_equal(t.ca_len, 1017);
	assert_true(strncmp(t.ca_pem, "-----BEGIN CERTIFICATE-----\nMIICyDCC", 36) == 0);
	assert_string_equal(t.ca_pem + t.ca_len - 26, "-----END CERTIFICATE-----\n");
	assert_null(t.token);
	assert_null(t.cert_pem);
	assert_null(t.key_pem);
	assert_int_equal(t.insecure, 0);
	assert_string_equal(t.warning, "");

	x = t.exec;
	assert_non_null(x);
	assert_string_equal(x->api_version, KUBE_EXEC_API_V1BETA1);
	assert_string_equal(x->command, "kubelogin");	/* bare: left to PATH */
	assert_int_equal(x->nargs, 13);
	assert_string_equal(x->args[0], "get-token");
	assert_string_equal(x->args[1], "--server-id");
	assert_string_equal(x->args[4], "80faf920-1908-4b52-b5ef-a8e7bedfc67a");
	assert_string_equal(x->args[10], "test-secret");
	assert_string_equal(x->args[12], "spn");
	assert_int_equal(x->nenv, 0);			/* env: null */
	assert_null(x->env);
	assert_contains(x->install_hint, "https://aka.ms/aks/kubelogin");
	assert_int_equal(x->provide_cluster_info, 0);
	/* v1beta1 without interactiveMode defaults to IfAvailable. */
	assert_int_equal(x->interactive_mode, KUBE_EXEC_IF_AVAILABLE);
	assert_string_equal(x->cluster.server, t.server);
	assert_int_equal(x->cluster.ca_len, t.ca_len);
	assert_memory_equal(x->cluster.ca_pem, t.ca_pem, t.ca_len);
	assert_null(x->cluster.config_json);

	kubeconfig_target_free(&t);
	assert_null(t.server);
	assert_null(t.exec);
	kubeconfig_free(kc);
}

static void
test_execauth(void **state)
{
	char err[KUBECONFIG_ERR_SIZE], *rel;
	struct kubeconfig_target t;
	struct kubeconfig *kc;

	(void)state;
	kc = load_ok(FIX_KUBE "execauth.kubeconfig");
	assert_null(kubeconfig_current_context(kc));
	assert_int_equal(kubeconfig_context_count(kc), 3);
	assert_string_equal(kubeconfig_context_name(kc, 0),
	    "localhost/system:admin:exec-search-path");
	assert_string_equal(kubeconfig_context_name(kc, 2),
	    "localhost/system:admin:exec-absolute-path");
	assert_null(kubeconfig_context_name(kc, 3));

	/* No current-context and none asked for: say so, list what exists. */
	assert_int_equal(kubeconfig_resolve(kc, NULL, &t, err, sizeof err), -1);
	assert_contains(err, FIX_KUBE "execauth.kubeconfig: no context given and "
	    "current-context is not set; contexts: ");
	assert_contains(err, "localhost/system:admin:exec-relative-path");

	resolve_ok(kc, "localhost/system:admin:exec-search-path", &t);
	assert_string_equal(t.server, "https://localhost:6443");
	assert_string_equal(t.cluster_name, "localhost:6443");
	assert_string_equal(t.user_name, "system:admin:exec-search-path");
	assert_string_equal(t.namespace, "default");
	assert_null(t.ca_pem);
	assert_non_null(t.exec);
	assert_string_equal(t.exec->command, "example-exec-plugin");
	assert_string_equal(t.exec->api_version, KUBE_EXEC_API_V1BETA1);
	assert_int_equal(t.exec->nargs, 2);
	assert_string_equal(t.exec->args[0], "arg1");
	assert_string_equal(t.exec->args[1], "arg2");
	assert_int_equal(t.exec->nenv, 1);
	assert_string_equal(t.exec->env[0].name, "FOO");
	assert_string_equal(t.exec->env[0].value, "bar");
	assert_int_equal(t.exec->interactive_mode, KUBE_EXEC_IF_AVAILABLE);
	assert_null(t.exec->install_hint);
	kubeconfig_target_free(&t);

	/* A command with a slash is relative to the kubeconfig's directory. */
	resolve_ok(kc, "localhost/system:admin:exec-relative-path", &t);
	rel = cwd_join(FIX_KUBE "dir/example-exec-plugin");
	assert_string_equal(t.exec->command, rel);
	assert_int_equal(t.exec->nargs, 0);
	assert_int_equal(t.exec->nenv, 0);
	free(rel);
	kubeconfig_target_free(&t);

	resolve_ok(kc, "localhost/system:admin:exec-absolute-path", &t);
	assert_string_equal(t.exec->command, "/abs/path/example-exec-plugin");
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);
}

/* ---- exec stanzas ----------------------------------------------------- */

static const char exec_modes_yaml[] =
    "clusters:\n"					/* 1 */
    "- name: c\n"
    "  cluster:\n"
    "    server: https://c.example.test\n"
    "    certificate-authority-data: %s\n"		/* 5 */
    "    extensions:\n"
    "    - name: client.authentication.k8s.io/exec\n"
    "      extension: {audience: api://aks, nested: {n: 1}}\n"
    "    - name: something-else\n"
    "      extension: 42\n"				/* 10 */
    "users:\n"
    "- name: v1-none\n"
    "  user:\n"
    "    exec:\n"
    "      apiVersion: client.authentication.k8s.io/v1\n"	/* 15 */
    "      command: plugin\n"
    "- name: v1-never\n"
    "  user:\n"
    "    exec:\n"
    "      apiVersion: client.authentication.k8s.io/v1\n"	/* 20 */
    "      command: plugin\n"
    "      interactiveMode: Never\n"
    "      provideClusterInfo: true\n"
    "      env:\n"
    "      - {name: A, value: one}\n"			/* 25 */
    "      - {name: EMPTY}\n"
    "- name: beta-always\n"
    "  user:\n"
    "    exec:\n"
    "      apiVersion: client.authentication.k8s.io/v1beta1\n"	/* 30 */
    "      command: plugin\n"
    "      interactiveMode: Always\n"
    "- name: bad-mode\n"
    "  user:\n"
    "    exec: {apiVersion: client.authentication.k8s.io/v1, command: p, interactiveMode: Sometimes}\n"
    "- name: alpha\n"
    "  user:\n"
    "    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: p}\n"
    "- name: no-command\n"
    "  user:\n"						/* 40 */
    "    exec: {apiVersion: client.authentication.k8s.io/v1}\n"
    "- name: no-api\n"
    "  user:\n"
    "    exec: {command: p}\n"
    "- name: env-no-name\n"				/* 45 */
    "  user:\n"
    "    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: p, env: [{value: x}]}\n"
    "- name: relative\n"
    "  user:\n"
    "    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ./bin/p}\n"
    "contexts:\n"
    "- {name: v1-none, context: {cluster: c, user: v1-none}}\n"
    "- {name: v1-never, context: {cluster: c, user: v1-never}}\n"
    "- {name: beta-always, context: {cluster: c, user: beta-always}}\n"
    "- {name: bad-mode, context: {cluster: c, user: bad-mode}}\n"
    "- {name: alpha, context: {cluster: c, user: alpha}}\n"
    "- {name: no-command, context: {cluster: c, user: no-command}}\n"
    "- {name: no-api, context: {cluster: c, user: no-api}}\n"
    "- {name: env-no-name, context: {cluster: c, user: env-no-name}}\n"
    "- {name: relative, context: {cluster: c, user: relative}}\n";

static void
test_exec_stanzas(void **state)
{
	char err[KUBECONFIG_ERR_SIZE], *ca, *cab64, *text;
	struct kubeconfig_target t;
	struct kubeconfig *kc;
	size_t calen;
	cJSON *conf;

	(void)state;
	ca = slurp(FIX "pki/ca.pem", &calen);
	cab64 = b64(ca, calen);
	assert_true(asprintf(&text, exec_modes_yaml, cab64) > 0);
	kc = mem_ok(text);

	/* v1 must say how it uses stdin; the error points at the exec map. */
	assert_int_equal(kubeconfig_resolve(kc, "v1-none", &t, err, sizeof err), -1);
	assert_string_equal(err, "t.yaml:15:7: user \"v1-none\": exec: "
	    "interactiveMode is required with client.authentication.k8s.io/v1 "
	    "(Never, IfAvailable or Always)");

	resolve_ok(kc, "v1-never", &t);
	assert_string_equal(t.exec->api_version, KUBE_EXEC_API_V1);
	assert_int_equal(t.exec->interactive_mode, KUBE_EXEC_NEVER);
	assert_int_equal(t.exec->provide_cluster_info, 1);
	assert_int_equal(t.exec->nenv, 2);
	assert_string_equal(t.exec->env[0].name, "A");
	assert_string_equal(t.exec->env[0].value, "one");
	assert_string_equal(t.exec->env[1].name, "EMPTY");
	assert_string_equal(t.exec->env[1].value, "");
	assert_string_equal(t.exec->cluster.server, "https://c.example.test");
	assert_int_equal(t.exec->cluster.ca_len, calen);
	assert_memory_equal(t.exec->cluster.ca_pem, ca, calen);
	/* Only the exec extension is handed to the plugin, as JSON. */
	conf = cJSON_Parse(t.exec->cluster.config_json);
	assert_non_null(conf);
	assert_string_equal(cJSON_GetObjectItem(conf, "audience")->valuestring,
	    "api://aks");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(conf, "nested"),
	    "n")->valueint, 1);
	cJSON_Delete(conf);
	kubeconfig_target_free(&t);

	resolve_ok(kc, "beta-always", &t);
	assert_int_equal(t.exec->interactive_mode, KUBE_EXEC_ALWAYS);
	assert_int_equal(t.exec->provide_cluster_info, 0);
	kubeconfig_target_free(&t);

	assert_int_equal(kubeconfig_resolve(kc, "bad-mode", &t, err, sizeof err), -1);
	assert_contains(err, "t.yaml:35:");
	assert_contains(err, "interactiveMode \"Sometimes\" is not Never, "
	    "IfAvailable or Always");
	assert_int_equal(kubeconfig_resolve(kc, "alpha", &t, err, sizeof err), -1);
	assert_contains(err, "t.yaml:38:");
	assert_contains(err, "apiVersion \"client.authentication.k8s.io/v1alpha1\" "
	    "is not supported");
	assert_int_equal(kubeconfig_resolve(kc, "no-command", &t, err, sizeof err), -1);
	assert_string_equal(err, "t.yaml:41:11: user \"no-command\": exec: "
	    "command is missing");
	assert_int_equal(kubeconfig_resolve(kc, "no-api", &t, err, sizeof err), -1);
	assert_contains(err, "t.yaml:44:11: user \"no-api\": exec: apiVersion is "
	    "missing");
	assert_int_equal(kubeconfig_resolve(kc, "env-no-name", &t, err, sizeof err), -1);
	assert_contains(err, "env[0]: name is missing");
	/* No directory for an in-memory kubeconfig: a relative command is an
	 * error, not a path relative to wherever we happen to run. */
	assert_int_equal(kubeconfig_resolve(kc, "relative", &t, err, sizeof err), -1);
	assert_contains(err, "\"./bin/p\" is a relative path, but t.yaml is not "
	    "a file");
	kubeconfig_free(kc);

	/* With a base directory it resolves against it. */
	kc = kubeconfig_load_mem(text, strlen(text), "t.yaml", "/opt/kube", err,
	    sizeof err);
	assert_non_null(kc);
	resolve_ok(kc, "relative", &t);
	assert_string_equal(t.exec->command, "/opt/kube/./bin/p");
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);
	free(text);
	free(cab64);
	free(ca);
}

/* ---- credential material --------------------------------------------- */

static void
test_data_fields_base64(void **state)
{
	char *ca, *cert, *key, *cab64, *certb64, *keyb64, *text, *wrapped;
	size_t calen, certlen, keylen, i, k;
	struct kubeconfig_target t;
	struct kubeconfig *kc;

	(void)state;
	ca = slurp(FIX "pki/ca.pem", &calen);
	cert = slurp(FIX "pki/client.pem", &certlen);
	key = slurp(FIX "pki/client.key", &keylen);
	cab64 = b64(ca, calen);
	certb64 = b64(cert, certlen);
	keyb64 = b64(key, keylen);
	/* The CA as a block scalar wrapped at 64 columns, as some tools write
	 * it: line breaks inside base64 are allowed. */
	wrapped = malloc(strlen(cab64) * 2 + 1);
	assert_non_null(wrapped);
	for (i = k = 0; cab64[i] != '\0'; i++) {
		if (i > 0 && i % 64 == 0) {
			memcpy(wrapped + k, "\n      ", 7);
			k += 7;
		}
		wrapped[k++] = cab64[i];
	}
	wrapped[k] = '\0';
	assert_true(asprintf(&text,
	    "apiVersion: v1\n"
	    "current-context: data\n"
	    "clusters:\n"
	    "- name: data\n"
	    "  cluster:\n"
	    "    server: https://data.example.test\n"
	    "    certificate-authority-data: |\n"
	    "      %s\n"
	    "users:\n"
	    "- name: data\n"
	    "  user:\n"
	    "    client-certificate-data: %s\n"
	    "    client-key-data: %s\n"
	    "contexts:\n"
	    "- name: data\n"
	    "  context: {cluster: data, user: data}\n",
	    wrapped, certb64, keyb64) > 0);
	kc = mem_ok(text);
	resolve_ok(kc, NULL, &t);
	assert_int_equal(t.ca_len, calen);
	assert_memory_equal(t.ca_pem, ca, calen);
	assert_int_equal(t.cert_len, certlen);
	assert_memory_equal(t.cert_pem, cert, certlen);
	assert_int_equal(t.key_len, keylen);
	assert_memory_equal(t.key_pem, key, keylen);
	assert_cert_pem(t.cert_pem, t.cert_len, t.key_pem, t.key_len);
	assert_null(t.token);
	assert_null(t.exec);
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);
	free(text);
	free(wrapped);
	free(cab64);
	free(certb64);
	free(keyb64);
	free(ca);
	free(cert);
	free(key);
}

static void
test_file_paths(void **state)
{
	char err[KUBECONFIG_ERR_SIZE], *ca, *cert, *key, *tokpath;
	size_t calen, certlen, keylen;
	struct kubeconfig_target t;
	struct kubeconfig *kc;

	(void)state;
	ca = slurp(FIX "pki/ca.pem", &calen);
	cert = slurp(FIX "pki/client.pem", &certlen);
	key = slurp(FIX "pki/client.key", &keylen);
	kc = load_ok(FIX "certs.yaml");
	resolve_ok(kc, NULL, &t);
	assert_string_equal(t.context, "files");
	assert_string_equal(t.namespace, "shop");
	assert_string_equal(t.server, "https://files.example.test:6443");
	assert_string_equal(t.tls_server_name, "api.files.example.test");
	assert_int_equal(t.ca_len, calen);
	assert_memory_equal(t.ca_pem, ca, calen);
	assert_int_equal(t.cert_len, certlen);
	assert_memory_equal(t.cert_pem, cert, certlen);
	assert_int_equal(t.key_len, keylen);
	assert_memory_equal(t.key_pem, key, keylen);
	assert_cert_pem(t.cert_pem, t.cert_len, t.key_pem, t.key_len);
	/* tokenFile: read now (trimmed), path kept absolute for re-reads. */
	assert_string_equal(t.token, "file-token-0123456789");
	tokpath = cwd_join(FIX "token");
	assert_string_equal(t.token_file, tokpath);
	free(tokpath);
	kubeconfig_target_free(&t);

	resolve_ok(kc, "token-inline", &t);
	assert_string_equal(t.token, "inline-token-0123456789");
	assert_null(t.token_file);
	assert_null(t.cert_pem);
	assert_null(t.namespace);
	kubeconfig_target_free(&t);

	/* A context without a user is anonymous, not an error. */
	resolve_ok(kc, "anonymous", &t);
	assert_null(t.user_name);
	assert_null(t.token);
	assert_null(t.exec);
	assert_non_null(t.ca_pem);
	kubeconfig_target_free(&t);

	/* An unreadable file: where it is named, the full path, the reason. */
	assert_int_equal(kubeconfig_resolve(kc, "missing-cert", &t, err,
	    sizeof err), -1);
	assert_contains(err, FIX "certs.yaml:25:25: user \"missing-cert-user\": "
	    "client-certificate: cannot read ");
	assert_contains(err, "/" FIX "pki/nope.pem: No such file or directory");

	assert_int_equal(kubeconfig_resolve(kc, "half-cert", &t, err,
	    sizeof err), -1);
	assert_contains(err, "user \"half-cert-user\" has a client certificate "
	    "but no client key");
	kubeconfig_free(kc);
	free(ca);
	free(cert);
	free(key);
}

static void
test_token_file_reader(void **state)
{
	char dir[] = "/tmp/bgswitch-kc-XXXXXX", path[256], err[512], *tok;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/tok", dir);
	assert_int_equal(kubeconfig_read_token_file(path, &tok, err, sizeof err), -1);
	assert_null(tok);
	assert_contains(err, path);
	assert_contains(err, "No such file or directory");

	f = fopen(path, "w");
	fputs(" \n\t\n", f);
	fclose(f);
	assert_int_equal(kubeconfig_read_token_file(path, &tok, err, sizeof err), -1);
	assert_contains(err, "is empty");

	f = fopen(path, "w");
	fputs("line-one\nline-two\n", f);
	fclose(f);
	assert_int_equal(kubeconfig_read_token_file(path, &tok, err, sizeof err), -1);
	assert_contains(err, "control characters");

	f = fopen(path, "w");
	fputs("\tabc.def-ghi\r\n", f);
	fclose(f);
	assert_int_equal(kubeconfig_read_token_file(path, &tok, err, sizeof err), 0);
	assert_string_equal(tok, "abc.def-ghi");
	free(tok);

	assert_int_equal(kubeconfig_read_token_file(dir, &tok, err, sizeof err), -1);
	assert_contains(err, "Is a directory");
	unlink(path);
	rmdir(dir);
}

static void
test_insecure(void **state)
{
	char err[KUBECONFIG_ERR_SIZE];
	struct kubeconfig_target t;
	struct kubeconfig *kc;

	(void)state;
	kc = load_ok(FIX "insecure.yaml");
	resolve_ok(kc, NULL, &t);
	assert_int_equal(t.insecure, 1);
	assert_null(t.ca_pem);
	assert_contains(t.warning, "cluster \"lab\" (" FIX "insecure.yaml) sets "
	    "insecure-skip-tls-verify");
	assert_contains(t.warning, "not verified");
	kubeconfig_target_free(&t);

	/* kubectl refuses a CA together with insecure: so do we. */
	assert_int_equal(kubeconfig_resolve(kc, "both", &t, err, sizeof err), -1);
	assert_contains(err, FIX "insecure.yaml:10:31: cluster \"both\": "
	    "insecure-skip-tls-verify is true but a certificate authority is "
	    "also given");
	kubeconfig_free(kc);

	/* Secure clusters carry no warning. */
	kc = load_ok(FIX "certs.yaml");
	resolve_ok(kc, NULL, &t);
	assert_int_equal(t.insecure, 0);
	assert_string_equal(t.warning, "");
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);
}

/* ---- where the configuration comes from ------------------------------ */

static void
test_kubeconfig_merge(void **state)
{
	char err[KUBECONFIG_ERR_SIZE];
	struct kubeconfig_target t;
	struct kubeconfig *kc;

	(void)state;
	/* Missing files, empty entries and empty files are skipped; a file
	 * listed twice is read once. */
	setenv("KUBECONFIG", FIX "does-not-exist.yaml::" FIX "empty.yaml:" FIX
	    "merge-1.yaml:" FIX "merge-2.yaml:" FIX "merge-1.yaml:" FIX
	    "merge-3.yaml:", 1);
	kc = load_ok(NULL);
	assert_string_equal(kubeconfig_origin(kc), "KUBECONFIG (" FIX
	    "empty.yaml, " FIX "merge-1.yaml, " FIX "merge-2.yaml, " FIX "merge-3.yaml)");
	/* File 1 sets none, so file 2's current-context wins over file 3's. */
	assert_string_equal(kubeconfig_current_context(kc), "ctx-two");
	assert_int_equal(kubeconfig_context_count(kc), 4);
	assert_string_equal(kubeconfig_context_name(kc, 0), "ctx-one");
	assert_string_equal(kubeconfig_context_name(kc, 1), "ctx-two");
	assert_string_equal(kubeconfig_context_name(kc, 2), "ctx-only-two");
	assert_string_equal(kubeconfig_context_name(kc, 3), "ctx-three");

	/* ctx-two (file 2) uses cluster "shared": file 1's, taken whole (file
	 * 2's insecure-skip-tls-verify is not merged in). */
	resolve_ok(kc, NULL, &t);
	assert_string_equal(t.context, "ctx-two");
	assert_string_equal(t.source, FIX "merge-2.yaml");
	assert_string_equal(t.server, "https://one.example.test");
	assert_int_equal(t.insecure, 0);
	assert_string_equal(t.token, "token-two");
	kubeconfig_target_free(&t);

	/* ctx-one is defined by both: file 1's wins. */
	resolve_ok(kc, "ctx-one", &t);
	assert_string_equal(t.source, FIX "merge-1.yaml");
	assert_string_equal(t.server, "https://one.example.test");
	assert_string_equal(t.namespace, "one");
	assert_string_equal(t.token, "token-from-file-one");
	kubeconfig_target_free(&t);

	/* A context only file 2 has, whose user u1 comes from file 1. */
	resolve_ok(kc, "ctx-only-two", &t);
	assert_string_equal(t.server, "https://only-two.example.test");
	assert_string_equal(t.token, "token-from-file-one");
	kubeconfig_target_free(&t);

	resolve_ok(kc, "ctx-three", &t);
	assert_string_equal(t.server, "https://three.example.test");
	assert_null(t.user_name);
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);

	/* An explicit file is used alone, KUBECONFIG notwithstanding. */
	kc = load_ok(FIX "merge-3.yaml");
	assert_string_equal(kubeconfig_current_context(kc), "ctx-three");
	assert_int_equal(kubeconfig_context_count(kc), 1);
	assert_int_equal(kubeconfig_resolve(kc, "ctx-two", &t, err, sizeof err), -1);
	kubeconfig_free(kc);

	/* An explicit file must exist. */
	assert_null(kubeconfig_load(FIX "nope.yaml", err, sizeof err));
	assert_string_equal(err, FIX "nope.yaml: cannot read the kubeconfig: No "
	    "such file or directory");

	/* A list of nothing but missing files is an error. */
	setenv("KUBECONFIG", "/nonexistent/a:/nonexistent/b", 1);
	assert_null(kubeconfig_load(NULL, err, sizeof err));
	assert_string_equal(err, "KUBECONFIG names no file that exists "
	    "(/nonexistent/a, /nonexistent/b)");

	/* A broken file in the list is an error, not skipped. */
	setenv("KUBECONFIG", FIX "merge-1.yaml:" FIX "wrong-type.yaml", 1);
	assert_null(kubeconfig_load(NULL, err, sizeof err));
	assert_contains(err, FIX "wrong-type.yaml:6:31:");
}

static void
test_default_home(void **state)
{
	char dir[] = "/tmp/bgswitch-kc-XXXXXX", path[300], err[KUBECONFIG_ERR_SIZE];
	struct kubeconfig *kc;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("HOME", dir, 1);
	unsetenv("KUBECONFIG");
	assert_null(kubeconfig_load(NULL, err, sizeof err));
	assert_contains(err, "/.kube/config does not exist and KUBECONFIG is "
	    "not set");

	snprintf(path, sizeof path, "%s/.kube", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/.kube/config", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("current-context: home\ncontexts:\n- name: home\n"
	    "  context: {cluster: h}\nclusters:\n- name: h\n"
	    "  cluster: {server: 'https://home.example.test'}\n", f);
	fclose(f);

	kc = load_ok(NULL);
	assert_string_equal(kubeconfig_origin(kc), path);
	assert_string_equal(kubeconfig_current_context(kc), "home");
	kubeconfig_free(kc);

	/* An empty KUBECONFIG is as good as none. */
	setenv("KUBECONFIG", "::", 1);
	kc = load_ok(NULL);
	assert_string_equal(kubeconfig_current_context(kc), "home");
	kubeconfig_free(kc);

	/* "~" in an explicit path is $HOME. */
	kc = load_ok("~/.kube/config");
	assert_string_equal(kubeconfig_origin(kc), "~/.kube/config");
	assert_string_equal(kubeconfig_current_context(kc), "home");
	kubeconfig_free(kc);

	unsetenv("HOME");
	assert_null(kubeconfig_load("~/.kube/config", err, sizeof err));
	assert_contains(err, "HOME is not set");
	unsetenv("KUBECONFIG");
	assert_null(kubeconfig_load(NULL, err, sizeof err));
	assert_contains(err, "HOME");

	unlink(path);
	snprintf(path, sizeof path, "%s/.kube", dir);
	rmdir(path);
	rmdir(dir);
}

static void
test_arm_memory(void **state)
{
	const char *name = "ARM credential for aks-prod-green";
	char err[KUBECONFIG_ERR_SIZE], *ca, *cab64, *yaml, *enc;
	struct kubeconfig_target t;
	struct kubeconfig *kc;
	size_t calen;

	(void)state;
	ca = slurp(FIX "pki/ca.pem", &calen);
	cab64 = b64(ca, calen);
	/* The shape listClusterUserCredential returns for an Entra ID
	 * cluster: CA data, and kubelogin in devicecode mode. */
	assert_true(asprintf(&yaml,
	    "apiVersion: v1\n"
	    "clusters:\n"
	    "- cluster:\n"
	    "    certificate-authority-data: %s\n"
	    "    server: https://aks-prod-green-dns-1a2b3c4d.hcp.westeurope.azmk8s.io:443\n"
	    "  name: aks-prod-green\n"
	    "contexts:\n"
	    "- context:\n"
	    "    cluster: aks-prod-green\n"
	    "    user: clusterUser_rg-aks-prod_aks-prod-green\n"
	    "  name: aks-prod-green\n"
	    "current-context: aks-prod-green\n"
	    "kind: Config\n"
	    "preferences: {}\n"
	    "users:\n"
	    "- name: clusterUser_rg-aks-prod_aks-prod-green\n"
	    "  user:\n"
	    "    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1beta1\n"
	    "      args: [get-token, --environment, AzurePublicCloud, --server-id, "
	    "6dae42f8-4368-4678-94ff-3960e28e3630, --login, devicecode]\n"
	    "      command: kubelogin\n"
	    "      env: null\n"
	    "      provideClusterInfo: false\n", cab64) > 0);
	enc = b64(yaml, strlen(yaml));

	kc = kubeconfig_load_base64(enc, strlen(enc), name, err, sizeof err);
	if (kc == NULL)
		fail_msg("%s", err);
	assert_string_equal(kubeconfig_origin(kc), name);
	resolve_ok(kc, NULL, &t);
	assert_string_equal(t.source, name);
	assert_string_equal(t.server,
	    "https://aks-prod-green-dns-1a2b3c4d.hcp.westeurope.azmk8s.io:443");
	assert_memory_equal(t.ca_pem, ca, calen);
	assert_string_equal(t.exec->command, "kubelogin");
	assert_int_equal(t.exec->nargs, 7);
	assert_string_equal(t.exec->args[6], "devicecode");
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);
	free(enc);
	free(yaml);

	/* Errors inside carry the display name and the decoded position. */
	yaml = strdup("clusters:\n- name: g\n  cluster: {server: [x]}\n");
	enc = b64(yaml, strlen(yaml));
	assert_null(kubeconfig_load_base64(enc, strlen(enc), name, err, sizeof err));
	assert_string_equal(err, "ARM credential for aks-prod-green:3:21: "
	    "cluster \"g\": server: expected a string, found a list");
	free(enc);
	free(yaml);

	/* A relative path has nothing to be relative to. */
	yaml = strdup("clusters:\n- name: g\n  cluster: {server: 'https://g', "
	    "certificate-authority: ca.pem}\ncontexts:\n- name: g\n"
	    "  context: {cluster: g}\n");
	enc = b64(yaml, strlen(yaml));
	kc = kubeconfig_load_base64(enc, strlen(enc), name, err, sizeof err);
	assert_non_null(kc);
	assert_int_equal(kubeconfig_resolve(kc, "g", &t, err, sizeof err), -1);
	assert_contains(err, "\"ca.pem\" is a relative path, but ARM credential "
	    "for aks-prod-green is not a file");
	kubeconfig_free(kc);
	free(enc);
	free(yaml);

	/* The outer base64 itself. */
	assert_null(kubeconfig_load_base64("YXBp*XZlcnNpb24=", 16, name, err,
	    sizeof err));
	assert_string_equal(err, "ARM credential for aks-prod-green: the "
	    "kubeconfig is not valid base64: unexpected character '*' at offset 4");
	assert_null(kubeconfig_load_base64("", 0, name, err, sizeof err));
	assert_contains(err, "empty");
	free(cab64);
	free(ca);
}

/* ---- error messages --------------------------------------------------- */

static void
test_unknown_context(void **state)
{
	char err[KUBECONFIG_ERR_SIZE];
	struct kubeconfig_target t;
	struct kubeconfig *kc;

	(void)state;
	kc = load_ok(FIX_KUBE "execauth.kubeconfig");
	assert_int_equal(kubeconfig_resolve(kc, "nope", &t, err, sizeof err), -1);
	assert_string_equal(err, FIX_KUBE "execauth.kubeconfig: unknown context "
	    "\"nope\"; contexts: localhost/system:admin:exec-search-path, "
	    "localhost/system:admin:exec-relative-path, "
	    "localhost/system:admin:exec-absolute-path");
	assert_null(t.context);
	kubeconfig_free(kc);

	/* A current-context naming nothing points at itself. */
	resolve_fails("contexts: []\ncurrent-context: ghost\n", NULL, err,
	    sizeof err);
	assert_string_equal(err, "t.yaml:2:18: current-context \"ghost\" names "
	    "no context; contexts: none");

	/* An empty kubeconfig is valid but has nothing to resolve. */
	resolve_fails("", NULL, err, sizeof err);
	assert_string_equal(err, "t.yaml: no context given and current-context "
	    "is not set; contexts: none");
}

static const char dangling_yaml[] =
    "clusters:\n"
    "- name: real\n"
    "  cluster: {server: 'https://real.example.test'}\n"
    "- name: serverless\n"
    "  cluster: {certificate-authority-data: ''}\n"
    "- name: ftp\n"
    "  cluster: {server: 'ftp://x.example.test'}\n"
    "- name: nobody\n"
    "users:\n"
    "- name: alice\n"
    "  user: {token: t}\n"
    "contexts:\n"
    "- name: no-cluster\n"
    "  context:\n"
    "    cluster: missing\n"
    "    user: alice\n"
    "- name: no-user\n"
    "  context:\n"
    "    cluster: real\n"
    "    user: bob\n"
    "- name: empty\n"
    "- name: serverless\n"
    "  context: {cluster: serverless}\n"
    "- name: ftp\n"
    "  context: {cluster: ftp}\n"
    "- name: nobody\n"
    "  context: {cluster: nobody}\n";

static void
test_dangling_refs(void **state)
{
	char err[KUBECONFIG_ERR_SIZE];

	(void)state;
	resolve_fails(dangling_yaml, "no-cluster", err, sizeof err);
	assert_string_equal(err, "t.yaml:15:14: context \"no-cluster\" names "
	    "cluster \"missing\", which is not defined; clusters: real, "
	    "serverless, ftp, nobody");
	resolve_fails(dangling_yaml, "no-user", err, sizeof err);
	assert_string_equal(err, "t.yaml:20:11: context \"no-user\" names user "
	    "\"bob\", which is not defined; users: alice");
	resolve_fails(dangling_yaml, "empty", err, sizeof err);
	assert_string_equal(err, "t.yaml:21:3: context \"empty\" names no "
	    "cluster");
	resolve_fails(dangling_yaml, "serverless", err, sizeof err);
	assert_string_equal(err, "t.yaml:5:12: cluster \"serverless\" has no "
	    "server (expected e.g. server: https://host:443)");
	resolve_fails(dangling_yaml, "ftp", err, sizeof err);
	assert_string_equal(err, "t.yaml:7:21: cluster \"ftp\": server "
	    "\"ftp://x.example.test\" is not an https:// URL");
	resolve_fails(dangling_yaml, "nobody", err, sizeof err);
	assert_contains(err, "t.yaml:8:3: cluster \"nobody\" has no server");
}

static void
test_wrong_types(void **state)
{
	char err[KUBECONFIG_ERR_SIZE];
	struct kubeconfig_target t;
	struct kubeconfig *kc;

	(void)state;
	assert_null(kubeconfig_load(FIX "wrong-type.yaml", err, sizeof err));
	assert_string_equal(err, FIX "wrong-type.yaml:6:31: cluster \"typo\": "
	    "insecure-skip-tls-verify: expected true or false, found a string");

	mem_fails("users:\n- name: u\n  user:\n    exec:\n      command: p\n"
	    "      args: [a, 5, c]\n", err, sizeof err);
	assert_string_equal(err, "t.yaml:6:17: user \"u\": exec: args[1]: "
	    "expected a string, found a number (quote it to make it a string)");
	mem_fails("clusters: lots\n", err, sizeof err);
	assert_string_equal(err, "t.yaml:1:11: clusters: expected a list, found "
	    "a string");
	mem_fails("users:\n- just-a-name\n", err, sizeof err);
	assert_string_equal(err, "t.yaml:2:3: users[0]: expected a mapping with "
	    "name and user, found a string");
	mem_fails("contexts:\n- context: {cluster: c}\n", err, sizeof err);
	assert_string_equal(err, "t.yaml:2:3: contexts[0]: name is missing");
	mem_fails("contexts:\n- name: 1.30\n", err, sizeof err);
	assert_contains(err, "t.yaml:2:9: contexts[0]: name: expected a string, "
	    "found a number");
	mem_fails("users:\n- name: u\n  user: {exec: {env: [FOO=bar]}}\n", err,
	    sizeof err);
	assert_string_equal(err, "t.yaml:3:23: user \"u\": exec: env[0]: "
	    "expected a mapping, found a string");
	mem_fails("users:\n- name: u\n  user: {token: {a: b}}\n", err, sizeof err);
	assert_contains(err, "t.yaml:3:17: user \"u\": token: expected a string, "
	    "found a mapping");
	mem_fails("current-context: [a]\n", err, sizeof err);
	assert_contains(err, "t.yaml:1:18: current-context: expected a string");
	mem_fails("clusters:\n- name: c\n  cluster: [server]\n", err, sizeof err);
	assert_contains(err, "t.yaml:3:12: clusters[0]: cluster: expected a "
	    "mapping, found a list");
	mem_fails("clusters:\n- name: c\n  cluster:\n    extensions: [7]\n", err,
	    sizeof err);
	assert_contains(err, "cluster \"c\": extensions[0]: expected a mapping");
	mem_fails("- a\n- b\n", err, sizeof err);
	assert_string_equal(err, "t.yaml:1:1: expected a kubeconfig mapping "
	    "(apiVersion, clusters, users, contexts), found a list");
	mem_fails("clusters:\n- name: c\n  cluster: {server: 'https://a'}\n"
	    "- name: d\n- name: c\n", err, sizeof err);
	assert_string_equal(err, "t.yaml:5:9: clusters: cluster \"c\" is defined "
	    "twice in this file (first at line 2, column 9)");
	mem_fails("apiVersion: v1\n---\napiVersion: v1\n", err, sizeof err);
	assert_string_equal(err, "t.yaml:3:1: a second YAML document starts "
	    "here; a kubeconfig holds one (2 found)");
	mem_fails("clusters:\n- name: [\n", err, sizeof err);
	assert_contains(err, "t.yaml:");

	/* Unknown keys are ignored at every level, as kubectl does. */
	kc = mem_ok("apiVersion: v1\nkind: Config\nfuture: {x: 1}\n"
	    "clusters:\n- name: c\n  colour: blue\n  cluster:\n"
	    "    server: https://c\n    shiny: [1, 2]\n"
	    "users:\n- name: u\n  user:\n    token: t\n    newAuth: {a: 1}\n"
	    "contexts:\n- name: x\n  context: {cluster: c, user: u, sparkle: 1}\n"
	    "current-context: x\n");
	resolve_ok(kc, NULL, &t);
	assert_string_equal(t.server, "https://c");
	assert_string_equal(t.token, "t");
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);

	/* Null values count as absent (the AKS fixture has env: null). */
	kc = mem_ok("clusters:\n- name: c\n  cluster: {server: 'https://c', "
	    "certificate-authority: null, tls-server-name: ~}\n"
	    "contexts:\n- {name: x, context: {cluster: c, namespace: null}}\n"
	    "users: null\n");
	resolve_ok(kc, "x", &t);
	assert_null(t.ca_pem);
	assert_null(t.namespace);
	assert_null(t.tls_server_name);
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);
}

static void
test_base64_errors(void **state)
{
	char err[KUBECONFIG_ERR_SIZE];

	(void)state;
	resolve_fails("clusters:\n- name: c\n  cluster:\n"
	    "    server: https://c\n    certificate-authority-data: LS0t-LS0t\n"
	    "contexts: [{name: x, context: {cluster: c}}]\n", "x", err, sizeof err);
	assert_string_equal(err, "t.yaml:5:33: cluster \"c\": "
	    "certificate-authority-data is not valid base64: unexpected "
	    "character '-' at offset 4");
	resolve_fails("clusters:\n- name: c\n  cluster:\n"
	    "    server: https://c\n    certificate-authority-data: LS0tLS1\n"
	    "contexts: [{name: x, context: {cluster: c}}]\n", "x", err, sizeof err);
	assert_contains(err, "t.yaml:5:33: cluster \"c\": "
	    "certificate-authority-data is not valid base64: 7 base64 "
	    "characters, not a multiple of 4");
	resolve_fails("clusters:\n- name: c\n  cluster:\n"
	    "    server: https://c\n    certificate-authority-data: aGVsbG8=\n"
	    "contexts: [{name: x, context: {cluster: c}}]\n", "x", err, sizeof err);
	assert_string_equal(err, "t.yaml:5:33: cluster \"c\": "
	    "certificate-authority-data does not decode to PEM (no "
	    "\"-----BEGIN\" line)");
	resolve_fails("clusters:\n- name: c\n  cluster: {server: 'https://c'}\n"
	    "users:\n- name: u\n  user:\n    client-certificate-data: LS0t\n"
	    "    client-key-data: 'AAAA=AAA'\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\n", "x", err,
	    sizeof err);
	assert_contains(err, "t.yaml:7:30: user \"u\": client-certificate-data "
	    "does not decode to PEM");
	resolve_fails("clusters:\n- name: c\n  cluster: {server: 'https://c'}\n"
	    "users:\n- name: u\n  user:\n    client-key-data: 'AAAA=AAA'\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\n", "x", err,
	    sizeof err);
	assert_string_equal(err, "t.yaml:7:22: user \"u\": client-key-data is "
	    "not valid base64: data after '=' padding at offset 5");
	/* The key's bytes never show up in a message. */
	resolve_fails("clusters:\n- name: c\n  cluster: {server: 'https://c'}\n"
	    "users:\n- name: u\n  user:\n    client-key-data: c2VjcmV0LWtleS1ieXRlcw==\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\n", "x", err,
	    sizeof err);
	assert_contains(err, "client-key-data does not decode to PEM");
	assert_not_contains(err, "secret-key-bytes");
	assert_not_contains(err, "c2VjcmV0");
}

static void
test_unsupported(void **state)
{
	char err[KUBECONFIG_ERR_SIZE];
	const char *head = "clusters:\n- name: c\n  cluster: {server: 'https://c'}\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\nusers:\n"
	    "- name: u\n  user:\n";
	char text[1024];

	(void)state;
	snprintf(text, sizeof text, "%s    auth-provider:\n      name: azure\n"
	    "      config: {apiserver-id: x}\n", head);
	resolve_fails(text, "x", err, sizeof err);
	assert_contains(err, "t.yaml:9:7: user \"u\": auth-provider \"azure\" is "
	    "not supported");
	assert_contains(err, "kubelogin convert-kubeconfig");

	snprintf(text, sizeof text, "%s    username: admin\n    password: "
	    "hunter2\n", head);
	resolve_fails(text, "x", err, sizeof err);
	assert_contains(err, "t.yaml:8:15: user \"u\": username/password (basic "
	    "authentication) is not supported");
	assert_not_contains(err, "hunter2");

	snprintf(text, sizeof text, "%s    as: system:admin\n", head);
	resolve_fails(text, "x", err, sizeof err);
	assert_contains(err, "impersonation (as) is not supported");

	snprintf(text, sizeof text, "%s    as-groups: [system:masters]\n", head);
	resolve_fails(text, "x", err, sizeof err);
	assert_contains(err, "impersonation (as-groups) is not supported");

	snprintf(text, sizeof text, "%s    token: abc\n    exec: {command: p, "
	    "apiVersion: client.authentication.k8s.io/v1beta1}\n", head);
	resolve_fails(text, "x", err, sizeof err);
	assert_contains(err, "t.yaml:9:11: user \"u\" sets both exec and token");

	snprintf(text, sizeof text, "%s    token: \"abc\\ndef\"\n", head);
	resolve_fails(text, "x", err, sizeof err);
	assert_contains(err, "token holds control characters");

	resolve_fails("clusters:\n- name: c\n  cluster:\n    server: https://c\n"
	    "    proxy-url: http://proxy:3128\n"
	    "contexts: [{name: x, context: {cluster: c}}]\n", "x", err, sizeof err);
	assert_string_equal(err, "t.yaml:5:16: cluster \"c\": proxy-url is set, "
	    "but bgswitch cannot connect through a proxy; remove it to connect "
	    "directly");
}

/* ---- hostile input ---------------------------------------------------- */

static void
load_and_resolve_all(const char *text, size_t len, const char *dir)
{
	char err[KUBECONFIG_ERR_SIZE];
	struct kubeconfig_target t;
	struct kubeconfig *kc;
	size_t i;

	kc = kubeconfig_load_mem(text, len, "f", dir, err, sizeof err);
	if (kc == NULL) {
		assert_true(strncmp(err, "f", 1) == 0);
		return;
	}
	if (kubeconfig_resolve(kc, NULL, &t, err, sizeof err) == 0)
		kubeconfig_target_free(&t);
	for (i = 0; i < kubeconfig_context_count(kc); i++)
		if (kubeconfig_resolve(kc, kubeconfig_context_name(kc, i), &t, err,
		    sizeof err) == 0) {
			assert_non_null(t.server);
			kubeconfig_target_free(&t);
		} else {
			assert_true(err[0] != '\0');
		}
	kubeconfig_free(kc);
}

static void
test_hostile_input(void **state)
{
	static const char *const fixtures[] = {
		FIX_KUBE "sample_kubeconfig.yaml", FIX_KUBE "execauth.kubeconfig",
		FIX "certs.yaml", FIX "merge-2.yaml",
	};
	static const char junk[] = ":-[]{}\"'#&*!|>%@`\n\t ~0xyz.?=";
	char *base, *buf, *big, dir[4096], err[KUBECONFIG_ERR_SIZE];
	struct kubeconfig_target t;
	struct kubeconfig *kc;
	unsigned long long seed = 42;
	size_t len, f, i, j, n;

	(void)state;
	assert_non_null(realpath(FIX, dir));
	for (f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
		base = slurp(fixtures[f], &len);
		buf = malloc(len + 1);
		assert_non_null(buf);
		for (i = 0; i < 600; i++) {
			memcpy(buf, base, len + 1);
			for (j = 0; j < 1 + i % 4; j++) {
				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				buf[(seed >> 33) % len] =
				    junk[(seed >> 17) % (sizeof junk - 1)];
			}
			load_and_resolve_all(buf, len, dir);
			/* Truncated texts too. */
			load_and_resolve_all(buf, (size_t)((seed >> 40) % len), dir);
		}
		free(buf);
		free(base);
	}

	/* A huge value and a huge list stay linear and bounded. */
	n = 4u << 20;
	big = malloc(n + 200);
	assert_non_null(big);
	len = (size_t)snprintf(big, 200, "contexts: [{name: x, context: {cluster: "
	    "c}}]\nclusters:\n- name: c\n  cluster:\n    server: https://");
	memset(big + len, 'a', n);
	memcpy(big + len + n, "\n", 2);
	kc = kubeconfig_load_mem(big, strlen(big), "big", NULL, err, sizeof err);
	assert_non_null(kc);
	resolve_ok(kc, "x", &t);
	assert_int_equal(strlen(t.server), n + 8);
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);
	free(big);

	n = 20000;
	big = malloc(n * 80 + 100);
	assert_non_null(big);
	len = (size_t)sprintf(big, "clusters:\n");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(big + len, "- {name: c%zu, cluster: {server: "
		    "'https://c%zu'}}\n", i, i);
	len += (size_t)sprintf(big + len, "contexts: [{name: last, context: "
	    "{cluster: c%zu}}, {name: bad, context: {cluster: nope}}]\n", n - 1);
	kc = kubeconfig_load_mem(big, len, "many", NULL, err, sizeof err);
	assert_non_null(kc);
	resolve_ok(kc, "last", &t);
	assert_string_equal(t.server, "https://c19999");
	kubeconfig_target_free(&t);
	/* A long list of names is cut in messages, with the count. */
	assert_int_equal(kubeconfig_resolve(kc, "bad", &t, err, sizeof err), -1);
	assert_contains(err, "which is not defined; clusters: c0, c1, c2, ");
	assert_contains(err, ", ... (20000 in all)");
	assert_true(strlen(err) < 600);
	kubeconfig_free(kc);
	free(big);

	/* Names with control characters do not reach messages raw. */
	resolve_fails("contexts: [{name: \"a\\x1b[2Jb\", context: {cluster: "
	    "\"z\\x07\"}}]\n", "a\x1b[2Jb", err, sizeof err);
	assert_contains(err, "context \"a?[2Jb\" names cluster \"z?\"");
	assert_null(strchr(err, '\x1b'));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_aks_sample, env_save, env_restore),
		cmocka_unit_test(test_execauth),
		cmocka_unit_test(test_exec_stanzas),
		cmocka_unit_test(test_data_fields_base64),
		cmocka_unit_test(test_file_paths),
		cmocka_unit_test(test_token_file_reader),
		cmocka_unit_test(test_insecure),
		cmocka_unit_test_setup_teardown(test_kubeconfig_merge, env_save,
		    env_restore),
		cmocka_unit_test_setup_teardown(test_default_home, env_save,
		    env_restore),
		cmocka_unit_test(test_arm_memory),
		cmocka_unit_test(test_unknown_context),
		cmocka_unit_test(test_dangling_refs),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_base64_errors),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_hostile_input),
	};

	return cmocka_run_group_tests_name("kubeconfig", tests, NULL, NULL);
}
