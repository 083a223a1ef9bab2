/*
 * test_exec_cred.c — unit tests for exec credential plugins (kube/exec_cred.c).
 *
 * Each test writes small /bin/sh plugins into a private temporary directory
 * and runs them through kube_exec_run or the cache: plugins that print a
 * token with an expiry or a client certificate, that hang past the timeout,
 * fail with a message on stderr, print garbage or too much, answer in the
 * wrong apiVersion, or record what they were given (KUBERNETES_EXEC_INFO,
 * environment, arguments, stdin) and how often they ran.  After every run
 * the test checks that no child is left unreaped.  The answer parser and the
 * RFC 3339 reader are also tested directly.  Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "kube/exec_cred.h"
#include "kube/kubeconfig.h"
#include "tests/lib/testenv.h"

#define FIX "tests/fixtures/kubeconfig/"

static char dir[64];		/* the private directory of this run */

/* ---- helpers ---------------------------------------------------------- */

static int
group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/bgswitch-exec-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	return testlib_rmtree(dir);
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

/* Every plugin run reaps its child: we have none left. */
static void
assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* Open descriptors of this process: runs must not leak their pipes. */
static int
count_fds(void)
{
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

static const char *
path_in_dir(const char *name)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
	return buf[k];
}

static void
write_file(const char *name, const char *text, mode_t mode)
{
	const char *p = path_in_dir(name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
}

/* Writes an executable /bin/sh script NAME with BODY (printf format; "%1$s"
 * is not used: DIR is passed as the only argument where needed). */
static const char *
script(const char *name, const char *fmt, ...)
{
	char body[8192];
	va_list ap;
	int n;

	n = snprintf(body, sizeof body, "#!/bin/sh\n");
	va_start(ap, fmt);
	vsnprintf(body + n, sizeof body - (size_t)n, fmt, ap);
	va_end(ap);
	write_file(name, body, 0755);
	return path_in_dir(name);
}

static char *
read_text(const char *name)
{
	FILE *f = fopen(path_in_dir(name), "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static int
counter(const char *name)
{
	char *s = read_text(name);
	int n = s != NULL ? atoi(s) : 0;

	free(s);
	return n;
}

static struct kube_exec_config *
cfg_new(const char *command, const char *api)
{
	struct kube_exec_config *c = calloc(1, sizeof *c);

	assert_non_null(c);
	c->command = strdup(command);
	c->api_version = strdup(api);
	c->interactive_mode = KUBE_EXEC_IF_AVAILABLE;
	c->cluster.server = strdup("https://aks.example.test:443");
	return c;
}

static void
cfg_arg(struct kube_exec_config *c, const char *arg)
{
	c->args = realloc(c->args, (c->nargs + 1) * sizeof *c->args);
	assert_non_null(c->args);
	c->args[c->nargs++] = strdup(arg);
}

static void
cfg_env(struct kube_exec_config *c, const char *name, const char *value)
{
	c->env = realloc(c->env, (c->nenv + 1) * sizeof *c->env);
	assert_non_null(c->env);
	c->env[c->nenv].name = strdup(name);
	c->env[c->nenv++].value = strdup(value);
}

static void
rfc3339(time_t t, char *buf, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static long long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
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

/* A plugin answering with TOKEN, counting its runs in COUNT_FILE and
 * expiring at EXPIRES (0 = no expirationTimestamp). */
static const char *
token_plugin(const char *name, const char *api, const char *count_file,
    time_t expires, const char *extra)
{
	char exp[96] = "";

	if (expires != 0) {
		char ts[40];

		rfc3339(expires, ts, sizeof ts);
		snprintf(exp, sizeof exp, ",\"expirationTimestamp\":\"%s\"", ts);
	}
	return script(name,
	    "n=$(cat '%s/%s' 2>/dev/null || echo 0)\n"
	    "n=$((n + 1))\n"
	    "echo $n > '%s/%s'\n"
	    "%s\n"
	    "printf '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"token\":\"tok-%%s\"%s}}\\n' \"$n\"\n",
	    dir, count_file, dir, count_file, extra ? extra : "", api, exp);
}

/* ---- running plugins -------------------------------------------------- */

static void
test_token_with_expiry(void **state)
{
	struct kube_exec_config *c;
	struct kube_exec_cred cred;
	char err[1024];
	time_t exp = time(NULL) + 3600;

	(void)state;
	c = cfg_new(token_plugin("tok.sh", KUBE_EXEC_API_V1BETA1, "tok.count",
	    exp, NULL), KUBE_EXEC_API_V1BETA1);
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_OK);
	assert_string_equal(cred.token, "tok-1");
	assert_int_equal(cred.expires, exp);
	assert_null(cred.cert_pem);
	assert_null(cred.key_pem);
	kube_exec_cred_free(&cred);
	assert_null(cred.token);
	assert_no_children();
	kube_exec_config_free(c);
}

static void
test_client_cert(void **state)
{
	struct kube_exec_config *c;
	struct kube_exec_cred cred;
	char err[1024], *cert, *key, *json;
	size_t certlen, keylen;
	cJSON *root, *st;

	(void)state;
	cert = slurp(FIX "pki/client.pem", &certlen);
	key = slurp(FIX "pki/client.key", &keylen);
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "apiVersion", KUBE_EXEC_API_V1);
	cJSON_AddStringToObject(root, "kind", "ExecCredential");
	st = cJSON_AddObjectToObject(root, "status");
	cJSON_AddStringToObject(st, "clientCertificateData", cert);
	cJSON_AddStringToObject(st, "clientKeyData", key);
	json = cJSON_Print(root);
	cJSON_Delete(root);
	write_file("cert.json", json, 0600);
	free(json);

	c = cfg_new(script("cert.sh", "cat '%s/cert.json'\n", dir),
	    KUBE_EXEC_API_V1);
	c->interactive_mode = KUBE_EXEC_NEVER;
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_OK);
	assert_null(cred.token);
	assert_int_equal(cred.cert_len, certlen);
	assert_memory_equal(cred.cert_pem, cert, certlen);
	assert_int_equal(cred.key_len, keylen);
	assert_memory_equal(cred.key_pem, key, keylen);
	assert_int_equal(cred.expires, 0);
	kube_exec_cred_free(&cred);
	assert_no_children();
	kube_exec_config_free(c);
	free(cert);
	free(key);
}

static int
process_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) S ...": a zombie (Z) or dead (X) one is gone too. */
	p = strrchr(buf, ')');
	return p != NULL && (p[2] == 'Z' || p[2] == 'X');
}

static void
test_timeout(void **state)
{
	struct kube_exec_opts o = { .timeout_ms = 300 };
	struct kube_exec_config *c;
	struct kube_exec_cred cred;
	char err[1024], *pidtext;
	long long t0, took;
	pid_t grandchild;
	int i, fds = count_fds();

	(void)state;
	c = cfg_new(script("slow.sh",
	    "echo 'To sign in, open https://microsoft.com/devicelogin' >&2\n"
	    "sleep 30 &\n"
	    "echo $! > '%s/slow.pid'\n"
	    "wait\n", dir), KUBE_EXEC_API_V1BETA1);
	t0 = ms_now();
	assert_int_equal(kube_exec_run(c, &o, &cred, err, sizeof err),
	    KUBE_EXEC_E_TIMEOUT);
	took = ms_now() - t0;
	assert_true(took >= 300);
	assert_true(took < 2000);
	assert_null(cred.token);
	assert_contains(err, "slow.sh\" did not finish within 0.3 s and was "
	    "killed");
	assert_contains(err, "To sign in, open https://microsoft.com/devicelogin");
	assert_no_children();
	assert_int_equal(count_fds(), fds);

	/* The whole process group went: the plugin's own child too. */
	pidtext = read_text("slow.pid");
	assert_non_null(pidtext);
	grandchild = (pid_t)atoi(pidtext);
	free(pidtext);
	assert_true(grandchild > 1);
	for (i = 0; i < 100 && !process_gone(grandchild); i++)
		usleep(10000);
	assert_true(process_gone(grandchild));
	kube_exec_config_free(c);
}

static void
test_exit_failure(void **state)
{
	struct kube_exec_config *c;
	struct kube_exec_cred cred;
	char err[1024];

	(void)state;
	c = cfg_new(script("fail.sh",
	    "echo '{\"status\":{\"token\":\"stdout-secret\"}}'\n"
	    "printf 'Error: AADSTS700016: Application not found\\n\\tin tenant "
	    "contoso\\n' >&2\n"
	    "exit 3\n"), KUBE_EXEC_API_V1BETA1);
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_FAILED);
	assert_contains(err, "fail.sh\" failed with exit status 3: Error: "
	    "AADSTS700016: Application not found in tenant contoso");
	assert_not_contains(err, "stdout-secret");
	assert_no_children();
	kube_exec_config_free(c);

	/* A secret on stderr is masked before it reaches a message. */
	c = cfg_new(script("fail2.sh",
	    "echo 'refresh failed: access_token=eyJhbGciOi.secret' >&2\n"
	    "exit 1\n"), KUBE_EXEC_API_V1BETA1);
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_FAILED);
	assert_contains(err, "refresh failed");
	assert_not_contains(err, "eyJhbGciOi.secret");
	kube_exec_config_free(c);

	c = cfg_new(script("killed.sh", "kill -9 $$\n"), KUBE_EXEC_API_V1BETA1);
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_FAILED);
	assert_contains(err, "was killed by signal 9");
	assert_no_children();
	kube_exec_config_free(c);
}

static void
test_bad_output(void **state)
{
	struct kube_exec_opts o = { .max_output = 1024 };
	struct kube_exec_config *c;
	struct kube_exec_cred cred;
	char err[1024];
	long long t0;
	int fds = count_fds();

	(void)state;
	c = cfg_new(script("garbage.sh",
	    "echo 'Logged in! token=supersecret-garbage'\n"),
	    KUBE_EXEC_API_V1BETA1);
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_OUTPUT);
	assert_contains(err, "garbage.sh\" printed output that is not JSON");
	assert_not_contains(err, "supersecret");
	assert_null(cred.token);
	kube_exec_config_free(c);

	c = cfg_new(script("twice.sh",
	    "echo '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"token\":\"a\"}}'\necho '{}'\n", KUBE_EXEC_API_V1BETA1),
	    KUBE_EXEC_API_V1BETA1);
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_OUTPUT);
	assert_contains(err, "printed more than one JSON value");
	kube_exec_config_free(c);

	c = cfg_new(script("silent.sh", "exit 0\n"), KUBE_EXEC_API_V1BETA1);
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_OUTPUT);
	assert_contains(err, "silent.sh\" printed nothing on stdout");
	kube_exec_config_free(c);

	/* Output beyond the cap stops the plugin rather than growing. */
	c = cfg_new(script("chatty.sh",
	    "while :; do echo 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'; done\n"),
	    KUBE_EXEC_API_V1BETA1);
	t0 = ms_now();
	assert_int_equal(kube_exec_run(c, &o, &cred, err, sizeof err),
	    KUBE_EXEC_E_OUTPUT);
	assert_true(ms_now() - t0 < 2000);
	assert_contains(err, "chatty.sh\" printed more than 1024 bytes");
	assert_no_children();
	assert_int_equal(count_fds(), fds);
	kube_exec_config_free(c);
}

static void
test_api_mismatch(void **state)
{
	struct kube_exec_config *c;
	struct kube_exec_cred cred;
	char err[1024];

	(void)state;
	c = cfg_new(token_plugin("v1.sh", KUBE_EXEC_API_V1, "v1.count", 0, NULL),
	    KUBE_EXEC_API_V1BETA1);
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_OUTPUT);
	assert_contains(err, "answered with apiVersion "
	    "\"client.authentication.k8s.io/v1\", but the request was "
	    "\"client.authentication.k8s.io/v1beta1\"");
	assert_not_contains(err, "tok-1");
	assert_null(cred.token);
	assert_no_children();
	kube_exec_config_free(c);
}

static void
test_missing_command(void **state)
{
	struct kube_exec_config *c;
	struct kube_exec_cred cred;
	char err[1024];

	int fds = count_fds();

	(void)state;
	c = cfg_new("bgswitch-no-such-plugin", KUBE_EXEC_API_V1BETA1);
	c->install_hint = strdup("kubelogin is not installed which is required "
	    "to connect to AAD enabled cluster.\nTo learn more, please go to "
	    "https://aka.ms/aks/kubelogin\n");
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_NOT_FOUND);
	assert_string_equal(err, "exec plugin \"bgswitch-no-such-plugin\" not "
	    "found in PATH: kubelogin is not installed which is required to "
	    "connect to AAD enabled cluster. To learn more, please go to "
	    "https://aka.ms/aks/kubelogin");
	kube_exec_config_free(c);

	/* A path that does not exist is found missing by execve itself. */
	c = cfg_new("/nonexistent/bin/kubelogin", KUBE_EXEC_API_V1BETA1);
	c->install_hint = strdup("brew install Azure/kubelogin/kubelogin");
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_NOT_FOUND);
	assert_string_equal(err, "exec plugin \"/nonexistent/bin/kubelogin\" not "
	    "found: brew install Azure/kubelogin/kubelogin");
	assert_no_children();
	kube_exec_config_free(c);

	/* Present but not executable. */
	write_file("noexec.sh", "#!/bin/sh\necho hi\n", 0644);
	c = cfg_new(path_in_dir("noexec.sh"), KUBE_EXEC_API_V1BETA1);
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_SYSTEM);
	assert_contains(err, "cannot run it: Permission denied");
	assert_no_children();
	assert_int_equal(count_fds(), fds);
	kube_exec_config_free(c);
}

static void
test_exec_info(void **state)
{
	struct kube_exec_opts tty = { .terminal = 1 };
	struct kube_exec_config *c;
	struct kube_exec_cred cred;
	char err[1024], *info, *ca, *dec;
	const cJSON *spec, *cl;
	size_t calen;
	cJSON *root;
	int declen;

	(void)state;
	ca = slurp(FIX "pki/ca.pem", &calen);
	c = cfg_new(token_plugin("info.sh", KUBE_EXEC_API_V1, "info.count", 0,
	    "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$INFO_FILE\""),
	    KUBE_EXEC_API_V1);
	c->interactive_mode = KUBE_EXEC_NEVER;
	c->provide_cluster_info = 1;
	c->cluster.tls_server_name = strdup("api.aks.example.test");
	c->cluster.ca_pem = ca;
	c->cluster.ca_len = calen;
	c->cluster.config_json = strdup("{\"audience\":\"6dae42f8\"}");
	cfg_env(c, "INFO_FILE", path_in_dir("info.json"));
	/* A stale value in our own environment is replaced, not inherited. */
	setenv("KUBERNETES_EXEC_INFO", "stale", 1);
	assert_int_equal(kube_exec_run(c, &tty, &cred, err, sizeof err),
	    KUBE_EXEC_OK);
	unsetenv("KUBERNETES_EXEC_INFO");
	kube_exec_cred_free(&cred);

	info = read_text("info.json");
	root = cJSON_Parse(info);
	assert_non_null(root);
	assert_string_equal(cJSON_GetObjectItem(root, "apiVersion")->valuestring,
	    KUBE_EXEC_API_V1);
	assert_string_equal(cJSON_GetObjectItem(root, "kind")->valuestring,
	    "ExecCredential");
	spec = cJSON_GetObjectItem(root, "spec");
	/* interactiveMode Never: not interactive even with a terminal. */
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(spec, "interactive")));
	cl = cJSON_GetObjectItem(spec, "cluster");
	assert_non_null(cl);
	assert_string_equal(cJSON_GetObjectItem(cl, "server")->valuestring,
	    "https://aks.example.test:443");
	assert_string_equal(cJSON_GetObjectItem(cl, "tls-server-name")->valuestring,
	    "api.aks.example.test");
	assert_null(cJSON_GetObjectItem(cl, "insecure-skip-tls-verify"));
	assert_null(cJSON_GetObjectItem(cl, "proxy-url"));
	dec = malloc(calen + 4);
	declen = EVP_DecodeBlock((unsigned char *)dec, (const unsigned char *)
	    cJSON_GetObjectItem(cl, "certificate-authority-data")->valuestring,
	    (int)strlen(cJSON_GetObjectItem(cl,
	    "certificate-authority-data")->valuestring));
	assert_true(declen >= (int)calen);	/* DecodeBlock counts padding */
	assert_memory_equal(dec, ca, calen);
	free(dec);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cl,
	    "config"), "audience")->valuestring, "6dae42f8");
	cJSON_Delete(root);
	free(info);

	/* Without provideClusterInfo there is no spec.cluster; IfAvailable
	 * with the terminal handed over makes the request interactive. */
	c->provide_cluster_info = 0;
	c->interactive_mode = KUBE_EXEC_IF_AVAILABLE;
	assert_int_equal(kube_exec_run(c, &tty, &cred, err, sizeof err),
	    KUBE_EXEC_OK);
	kube_exec_cred_free(&cred);
	info = read_text("info.json");
	root = cJSON_Parse(info);
	assert_non_null(root);
	spec = cJSON_GetObjectItem(root, "spec");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(spec, "interactive")));
	assert_null(cJSON_GetObjectItem(spec, "cluster"));
	cJSON_Delete(root);
	free(info);

	/* IfAvailable without the terminal (bgswitch's screen owns it). */
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_OK);
	kube_exec_cred_free(&cred);
	info = read_text("info.json");
	assert_contains(info, "\"spec\":{\"interactive\":false}");
	free(info);
	assert_int_equal(counter("info.count"), 3);
	assert_no_children();
	kube_exec_config_free(c);
}

static void
test_env_args_stdin(void **state)
{
	struct kube_exec_config *c;
	struct kube_exec_cred cred;
	char err[1024], *seen, num[16];
	int saved_stdin, p[2], stray;

	(void)state;
	setenv("BGS_OVERRIDE", "outer", 1);
	setenv("BGS_OUTER", "kept", 1);
	c = cfg_new(token_plugin("env.sh", KUBE_EXEC_API_V1BETA1, "env.count", 0,
	    "printf '%s|%s|%s|%s|%s:%s:%s' \"$FOO\" \"$BGS_OVERRIDE\" "
	    "\"$BGS_OUTER\" \"$EMPTY\" \"$#\" \"$1\" \"$2\" > \"$SEEN\"\n"
	    "readlink /proc/$$/fd/0 >> \"$SEEN\"\n"
	    "tr '\\0' '\\n' < /proc/$$/environ | grep -c '^FOO=' >> \"$SEEN\"\n"
	    "[ -e /proc/$$/fd/$STRAY ] && echo \"fd $STRAY leaked\" >> \"$SEEN\""),
	    KUBE_EXEC_API_V1BETA1);
	cfg_env(c, "FOO", "bar");
	cfg_env(c, "BGS_OVERRIDE", "inner");
	cfg_env(c, "EMPTY", "");
	cfg_env(c, "FOO", "baz");		/* the later entry wins */
	cfg_env(c, "SEEN", path_in_dir("seen.txt"));
	cfg_arg(c, "--flag");
	cfg_arg(c, "two words; $(echo not a shell)");

	/* Our stdin is a pipe and we hold an inheritable descriptor: the
	 * plugin must see neither. */
	assert_int_equal(pipe(p), 0);
	saved_stdin = dup(0);
	assert_true(saved_stdin >= 0);
	assert_int_equal(dup2(p[0], 0), 0);
	stray = dup(p[1]);
	assert_true(stray > 2);
	snprintf(num, sizeof num, "%d", stray);
	cfg_env(c, "STRAY", num);
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_OK);
	assert_int_equal(dup2(saved_stdin, 0), 0);
	close(saved_stdin);
	close(stray);
	close(p[0]);
	close(p[1]);
	kube_exec_cred_free(&cred);
	seen = read_text("seen.txt");
	assert_string_equal(seen, "baz|inner|kept||2:--flag:two words; $(echo "
	    "not a shell)/dev/null\n1\n");
	free(seen);
	unsetenv("BGS_OVERRIDE");
	unsetenv("BGS_OUTER");
	assert_no_children();
	kube_exec_config_free(c);
}

static void
test_interactive_always(void **state)
{
	struct kube_exec_config *c;
	struct kube_exec_cred cred;
	char err[1024];

	(void)state;
	c = cfg_new(token_plugin("always.sh", KUBE_EXEC_API_V1, "always.count", 0,
	    NULL), KUBE_EXEC_API_V1);
	c->interactive_mode = KUBE_EXEC_ALWAYS;
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_NEEDS_TERMINAL);
	assert_contains(err, "always.sh\" needs the terminal (interactiveMode: "
	    "Always)");
	assert_int_equal(counter("always.count"), 0);	/* never started */
	kube_exec_config_free(c);
}

static void
test_config_checks(void **state)
{
	struct kube_exec_config *c;
	struct kube_exec_cred cred;
	char err[1024];

	(void)state;
	c = cfg_new("/bin/true", "client.authentication.k8s.io/v1alpha1");
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_CONFIG);
	assert_contains(err, "apiVersion must be");
	kube_exec_config_free(c);

	c = cfg_new("/bin/true", KUBE_EXEC_API_V1BETA1);
	cfg_env(c, "A=B", "x");
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_CONFIG);
	assert_contains(err, "env entry 1 has no valid name");
	kube_exec_config_free(c);

	c = cfg_new("", KUBE_EXEC_API_V1BETA1);
	assert_int_equal(kube_exec_run(c, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_CONFIG);
	kube_exec_config_free(c);
	assert_int_equal(kube_exec_run(NULL, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_CONFIG);
}

/* ---- the cache -------------------------------------------------------- */

static void
test_cache(void **state)
{
	struct kube_exec_cache *cache = kube_exec_cache_new();
	struct kube_exec_config *c, *other;
	struct kube_exec_cred cred;
	char err[1024];
	int i;

	(void)state;
	assert_non_null(cache);
	c = cfg_new(token_plugin("cached.sh", KUBE_EXEC_API_V1BETA1,
	    "cached.count", time(NULL) + 3600, NULL), KUBE_EXEC_API_V1BETA1);
	cfg_arg(c, "get-token");
	for (i = 0; i < 3; i++) {
		assert_int_equal(kube_exec_cache_get(cache, c, NULL, &cred, err,
		    sizeof err), KUBE_EXEC_OK);
		assert_string_equal(cred.token, "tok-1");
		kube_exec_cred_free(&cred);
	}
	assert_int_equal(counter("cached.count"), 1);

	/* A 401 for some older token leaves the fresh one alone... */
	assert_int_equal(kube_exec_cache_invalidate(cache, c, "tok-0"), 0);
	assert_int_equal(kube_exec_cache_get(cache, c, NULL, &cred, err,
	    sizeof err), KUBE_EXEC_OK);
	assert_string_equal(cred.token, "tok-1");
	kube_exec_cred_free(&cred);
	assert_int_equal(counter("cached.count"), 1);
	/* ...a 401 for the cached one makes the next call run the plugin. */
	assert_int_equal(kube_exec_cache_invalidate(cache, c, "tok-1"), 1);
	assert_int_equal(kube_exec_cache_invalidate(cache, c, "tok-1"), 0);
	assert_int_equal(kube_exec_cache_get(cache, c, NULL, &cred, err,
	    sizeof err), KUBE_EXEC_OK);
	assert_string_equal(cred.token, "tok-2");
	kube_exec_cred_free(&cred);
	assert_int_equal(counter("cached.count"), 2);
	assert_int_equal(kube_exec_cache_invalidate(cache, c, NULL), 1);
	assert_int_equal(kube_exec_cache_get(cache, c, NULL, &cred, err,
	    sizeof err), KUBE_EXEC_OK);
	assert_string_equal(cred.token, "tok-3");
	kube_exec_cred_free(&cred);

	/* Another argument, env entry or cluster is another credential. */
	other = kube_exec_config_dup(c);
	assert_non_null(other);
	cfg_arg(other, "--other");
	assert_int_equal(kube_exec_cache_get(cache, other, NULL, &cred, err,
	    sizeof err), KUBE_EXEC_OK);
	assert_string_equal(cred.token, "tok-4");
	kube_exec_cred_free(&cred);
	kube_exec_config_free(other);
	other = kube_exec_config_dup(c);
	free(other->cluster.server);
	other->cluster.server = strdup("https://other.example.test");
	assert_int_equal(kube_exec_cache_get(cache, other, NULL, &cred, err,
	    sizeof err), KUBE_EXEC_OK);
	assert_string_equal(cred.token, "tok-5");
	kube_exec_cred_free(&cred);
	kube_exec_config_free(other);
	/* The first one is still cached. */
	assert_int_equal(kube_exec_cache_get(cache, c, NULL, &cred, err,
	    sizeof err), KUBE_EXEC_OK);
	assert_string_equal(cred.token, "tok-3");
	kube_exec_cred_free(&cred);
	assert_int_equal(counter("cached.count"), 5);
	kube_exec_config_free(c);

	/* Already expired: run every time.  Expiring within the refresh
	 * margin: also every time.  No expiry: until invalidated. */
	c = cfg_new(token_plugin("expired.sh", KUBE_EXEC_API_V1BETA1,
	    "expired.count", time(NULL) - 60, NULL), KUBE_EXEC_API_V1BETA1);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(kube_exec_cache_get(cache, c, NULL, &cred, err,
		    sizeof err), KUBE_EXEC_OK);
		assert_true(cred.expires < time(NULL));
		kube_exec_cred_free(&cred);
		assert_int_equal(counter("expired.count"), i);
	}
	kube_exec_config_free(c);
	c = cfg_new(token_plugin("soon.sh", KUBE_EXEC_API_V1BETA1, "soon.count",
	    time(NULL) + KUBE_EXEC_REFRESH_MARGIN_S / 2, NULL),
	    KUBE_EXEC_API_V1BETA1);
	for (i = 1; i <= 2; i++) {
		assert_int_equal(kube_exec_cache_get(cache, c, NULL, &cred, err,
		    sizeof err), KUBE_EXEC_OK);
		kube_exec_cred_free(&cred);
	}
	assert_int_equal(counter("soon.count"), 2);
	kube_exec_config_free(c);
	c = cfg_new(token_plugin("forever.sh", KUBE_EXEC_API_V1BETA1,
	    "forever.count", 0, NULL), KUBE_EXEC_API_V1BETA1);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(kube_exec_cache_get(cache, c, NULL, &cred, err,
		    sizeof err), KUBE_EXEC_OK);
		assert_int_equal(cred.expires, 0);
		kube_exec_cred_free(&cred);
	}
	assert_int_equal(counter("forever.count"), 1);
	kube_exec_config_free(c);

	/* Failures are reported, not cached. */
	write_file("flaky.state", "fail", 0600);
	c = cfg_new(script("flaky.sh",
	    "if [ \"$(cat '%s/flaky.state')\" = fail ]; then echo down >&2; "
	    "exit 1; fi\n"
	    "echo '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"token\":\"recovered\"}}'\n", dir,
	    KUBE_EXEC_API_V1BETA1), KUBE_EXEC_API_V1BETA1);
	assert_int_equal(kube_exec_cache_get(cache, c, NULL, &cred, err,
	    sizeof err), KUBE_EXEC_E_FAILED);
	assert_null(cred.token);
	assert_contains(err, ": down");
	write_file("flaky.state", "ok", 0600);
	assert_int_equal(kube_exec_cache_get(cache, c, NULL, &cred, err,
	    sizeof err), KUBE_EXEC_OK);
	assert_string_equal(cred.token, "recovered");
	kube_exec_cred_free(&cred);
	kube_exec_config_free(c);

	assert_no_children();
	kube_exec_cache_free(cache);
}

struct getter {
	struct kube_exec_cache *cache;
	const struct kube_exec_config *cfg;
	enum kube_exec_status st;
	char token[64];
};

static void *
get_thread(void *arg)
{
	struct getter *g = arg;
	struct kube_exec_cred cred;
	char err[1024];

	g->st = kube_exec_cache_get(g->cache, g->cfg, NULL, &cred, err, sizeof err);
	if (g->st == KUBE_EXEC_OK)
		snprintf(g->token, sizeof g->token, "%s", cred.token);
	kube_exec_cred_free(&cred);
	return NULL;
}

static void
test_cache_concurrent(void **state)
{
	struct kube_exec_cache *cache = kube_exec_cache_new();
	struct kube_exec_config *c;
	struct getter g[4];
	pthread_t th[4];
	long long t0;
	int i;

	(void)state;
	c = cfg_new(token_plugin("slowtok.sh", KUBE_EXEC_API_V1BETA1,
	    "slowtok.count", time(NULL) + 3600, "sleep 0.3"),
	    KUBE_EXEC_API_V1BETA1);
	t0 = ms_now();
	for (i = 0; i < 4; i++) {
		memset(&g[i], 0, sizeof g[i]);
		g[i].cache = cache;
		g[i].cfg = c;
		assert_int_equal(pthread_create(&th[i], NULL, get_thread, &g[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(g[i].st, KUBE_EXEC_OK);
		assert_string_equal(g[i].token, "tok-1");
	}
	/* One run served all four callers. */
	assert_int_equal(counter("slowtok.count"), 1);
	assert_true(ms_now() - t0 < 3000);
	assert_no_children();
	kube_exec_config_free(c);
	kube_exec_cache_free(cache);
}

/* ---- end to end from a kubeconfig ------------------------------------ */

static void
test_from_kubeconfig(void **state)
{
	char err[KUBECONFIG_ERR_SIZE], kcpath[300], *oldpath, *newpath;
	struct kubeconfig_target t;
	struct kube_exec_cred cred;
	struct kubeconfig *kc;
	char text[1024];

	(void)state;
	mkdir(path_in_dir("bin"), 0755);
	script("bin/relplugin", "echo '{\"apiVersion\":\"%s\",\"kind\":"
	    "\"ExecCredential\",\"status\":{\"token\":\"rel-'$GREETING'\"}}'\n",
	    KUBE_EXEC_API_V1);
	script("bin/bgs-path-plugin", "echo '{\"apiVersion\":\"%s\",\"kind\":"
	    "\"ExecCredential\",\"status\":{\"token\":\"via-path\"}}'\n",
	    KUBE_EXEC_API_V1BETA1);
	snprintf(text, sizeof text,
	    "clusters:\n- name: c\n  cluster: {server: 'https://c.example.test'}\n"
	    "users:\n"
	    "- name: rel\n  user:\n    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: ./bin/relplugin\n      interactiveMode: Never\n"
	    "      env: [{name: GREETING, value: hello}]\n"
	    "- name: bare\n  user:\n    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1beta1\n"
	    "      command: bgs-path-plugin\n"
	    "contexts:\n- {name: rel, context: {cluster: c, user: rel}}\n"
	    "- {name: bare, context: {cluster: c, user: bare}}\n");
	write_file("kubeconfig", text, 0600);
	snprintf(kcpath, sizeof kcpath, "%s", path_in_dir("kubeconfig"));

	kc = kubeconfig_load(kcpath, err, sizeof err);
	if (kc == NULL)
		fail_msg("%s", err);
	assert_int_equal(kubeconfig_resolve(kc, "rel", &t, err, sizeof err), 0);
	assert_int_equal(kube_exec_run(t.exec, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_OK);
	assert_string_equal(cred.token, "rel-hello");
	kube_exec_cred_free(&cred);
	kubeconfig_target_free(&t);

	/* A bare command is looked up in PATH. */
	oldpath = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	assert_true(asprintf(&newpath, "%s:%s", path_in_dir("bin"), oldpath) > 0);
	setenv("PATH", newpath, 1);
	assert_int_equal(kubeconfig_resolve(kc, "bare", &t, err, sizeof err), 0);
	assert_int_equal(kube_exec_run(t.exec, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_OK);
	assert_string_equal(cred.token, "via-path");
	kube_exec_cred_free(&cred);
	setenv("PATH", oldpath, 1);
	assert_int_equal(kube_exec_run(t.exec, NULL, &cred, err, sizeof err),
	    KUBE_EXEC_E_NOT_FOUND);
	kubeconfig_target_free(&t);
	free(newpath);
	free(oldpath);
	kubeconfig_free(kc);
	assert_no_children();
}

/* ---- parsing without processes --------------------------------------- */

static enum kube_exec_status
parse(const char *text, struct kube_exec_cred *cred, char *err, size_t n)
{
	return kube_exec_parse_output(KUBE_EXEC_API_V1, text, strlen(text), cred,
	    err, n);
}

static void
test_parse_output(void **state)
{
	static const char *const bad[][2] = {
		{ "", "printed nothing" },
		{ "[1,2]", "printed a list, expected an ExecCredential object" },
		{ "{\"kind\":\"ExecCredential\"}", "no apiVersion string" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"kind\":\"Secret\",\"status\":{\"token\":\"SECRET1\"}}",
		  "kind is \"Secret\"" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"kind\":\"ExecCredential\"}", "has no status" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"kind\":\"ExecCredential\",\"status\":\"SECRET2\"}",
		  "has a string status" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"kind\":\"ExecCredential\",\"status\":{}}",
		  "neither a token nor clientCertificateData" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"kind\":\"ExecCredential\",\"status\":{\"token\":42}}",
		  "status.token is a number, expected a string" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"kind\":\"ExecCredential\",\"status\":"
		  "{\"clientCertificateData\":\"SECRET3\"}}",
		  "has clientCertificateData but not clientKeyData" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"SECRET4\","
		  "\"expirationTimestamp\":\"tomorrow\"}}",
		  "expirationTimestamp \"tomorrow\" is not an RFC 3339 time" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"SECRET5\"}} x",
		  "trailing data" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"SECRET6\"",
		  "not JSON" },
	};
	struct kube_exec_cred cred;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i][0], &cred, err, sizeof err) != KUBE_EXEC_E_OUTPUT)
			fail_msg("accepted [%s]", bad[i][0]);
		assert_contains(err, bad[i][1]);
		assert_not_contains(err, "SECRET");
		assert_null(cred.token);
		assert_null(cred.cert_pem);
	}

	/* Token and certificate together, null expiry, unknown fields. */
	assert_int_equal(parse("{\"apiVersion\":\"client.authentication.k8s.io/v1\","
	    "\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false},"
	    "\"status\":{\"token\":\"t\",\"clientCertificateData\":\"C\","
	    "\"clientKeyData\":\"K\",\"expirationTimestamp\":null,\"new\":1}}\n\n",
	    &cred, err, sizeof err), KUBE_EXEC_OK);
	assert_string_equal(cred.token, "t");
	assert_string_equal(cred.cert_pem, "C");
	assert_int_equal(cred.cert_len, 1);
	assert_string_equal(cred.key_pem, "K");
	assert_int_equal(cred.expires, 0);
	kube_exec_cred_free(&cred);
}

static void
test_parse_time(void **state)
{
	static const char *const bad[] = {
		"", "2024-05-01", "2024-05-01T12:00:00", "2024-13-01T00:00:00Z",
		"2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2024-05-01T24:00:00Z",
		"2024-05-01T12:60:00Z", "2024-05-01T12:00:00Zjunk", "2024-5-01T12:00:00Z",
		"2024-05-01T12:00:00.Z", "2024-05-01T12:00:00+0200", "tomorrow",
		"2024-05-01T12:00:00+24:00", "-024-05-01T12:00:00Z",
	};
	time_t t;
	size_t i;

	(void)state;
	assert_int_equal(kube_exec_parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(kube_exec_parse_time("2024-05-01T12:00:00Z", &t), 0);
	assert_int_equal(t, 1714564800);
	assert_int_equal(kube_exec_parse_time("2024-05-01t12:00:00.123456789z",
	    &t), 0);
	assert_int_equal(t, 1714564800);
	assert_int_equal(kube_exec_parse_time("2024-05-01T14:30:00+02:30", &t), 0);
	assert_int_equal(t, 1714564800);
	assert_int_equal(kube_exec_parse_time("2024-05-01T09:00:00-03:00", &t), 0);
	assert_int_equal(t, 1714564800);
	assert_int_equal(kube_exec_parse_time("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal(t, 1709164800);
	assert_int_equal(kube_exec_parse_time("2000-02-29T00:00:00Z", &t), 0);
	assert_int_equal(t, 951782400);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (kube_exec_parse_time(bad[i], &t) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(kube_exec_parse_time(NULL, &t), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_with_expiry),
		cmocka_unit_test(test_client_cert),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_exit_failure),
		cmocka_unit_test(test_bad_output),
		cmocka_unit_test(test_api_mismatch),
		cmocka_unit_test(test_missing_command),
		cmocka_unit_test(test_exec_info),
		cmocka_unit_test(test_env_args_stdin),
		cmocka_unit_test(test_interactive_always),
		cmocka_unit_test(test_config_checks),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_concurrent),
		cmocka_unit_test(test_from_kubeconfig),
		cmocka_unit_test(test_parse_output),
		cmocka_unit_test(test_parse_time),
	};

	return cmocka_run_group_tests_name("exec_cred", tests, group_setup,
	    group_teardown);
}
