/*
 * exec_cred.h — client-go exec credential plugins (kubelogin and friends).
 *
 * A kubeconfig user may name a program that prints credentials instead of
 * holding them: AKS clusters with Entra ID authentication use kubelogin
 * this way.  This module runs such a plugin the way kubectl does (no shell,
 * our environment plus the plugin's env entries, the ExecCredential request
 * in KUBERNETES_EXEC_INFO), bounded by a timeout and an output cap, and
 * reads the ExecCredential it prints: a bearer token, or a client
 * certificate and key, with an optional expiry.  A cache keeps each
 * credential until shortly before it expires, so the plugin runs about once
 * an hour, not once per request, and the API client can drop it when the
 * server answers 401.
 *
 * The protocol is client.authentication.k8s.io/v1 and v1beta1:
 * https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
 *
 * Nothing here logs, prints or keeps (beyond the cache) a token, a key, the
 * plugin's arguments or its environment entries: kubelogin's arguments may
 * hold a client secret.  The plugin's stdout is never quoted in an error;
 * its stderr may be (redacted and shortened), since that is where plugins
 * explain what went wrong.
 *
 * The plugin is started with fork and execve after the executable has been
 * looked up (PATH, or as a path): only async-signal-safe calls happen
 * between fork and exec, so this is safe in a threaded program.  The child
 * is reaped on every path.  Callers must not reap children they did not
 * start (no waitpid(-1) in a SIGCHLD handler), or a plugin's exit is lost.
 */
#ifndef BGSWITCH_KUBE_EXEC_CRED_H
#define BGSWITCH_KUBE_EXEC_CRED_H

#include <stddef.h>
#include <time.h>

#define KUBE_EXEC_API_V1		"client.authentication.k8s.io/v1"
#define KUBE_EXEC_API_V1BETA1		"client.authentication.k8s.io/v1beta1"

#define KUBE_EXEC_DEFAULT_TIMEOUT_MS	60000L		/* whole plugin run */
#define KUBE_EXEC_DEFAULT_MAX_OUTPUT	(1u << 20)	/* bytes of stdout */
#define KUBE_EXEC_REFRESH_MARGIN_S	30		/* re-run this long before expiry */

/* How the plugin may use standard input (kubeconfig exec.interactiveMode). */
enum kube_exec_interactive {
	KUBE_EXEC_NEVER,		/* never reads stdin: it gets /dev/null */
	KUBE_EXEC_IF_AVAILABLE,		/* gets the terminal when the caller has it free */
	KUBE_EXEC_ALWAYS,		/* refuses to run without the terminal */
};

/* Outcome of a plugin run; also the return value of the functions below. */
enum kube_exec_status {
	KUBE_EXEC_OK = 0,
	KUBE_EXEC_E_CONFIG,		/* the exec config itself is unusable */
	KUBE_EXEC_E_NOT_FOUND,		/* no such executable; message holds installHint */
	KUBE_EXEC_E_NEEDS_TERMINAL,	/* interactiveMode Always, but no terminal given */
	KUBE_EXEC_E_TIMEOUT,		/* killed (with its process group) at the deadline */
	KUBE_EXEC_E_FAILED,		/* non-zero exit or killed by a signal */
	KUBE_EXEC_E_OUTPUT,		/* stdout too big, not JSON, or not a valid credential */
	KUBE_EXEC_E_SYSTEM,		/* fork, pipe, out of memory */
};

struct kube_exec_env {
	char *name;
	char *value;
};

/* The cluster as the plugin sees it in spec.cluster (provideClusterInfo). */
struct kube_exec_cluster {
	char *server;
	char *tls_server_name;		/* NULL when unset */
	int insecure_skip_tls_verify;
	char *ca_pem;			/* PEM bytes, sent base64-encoded; NULL when none */
	size_t ca_len;
	char *proxy_url;		/* NULL when unset */
	char *config_json;		/* the cluster's "client.authentication.k8s.io/exec"
					 * extension as JSON text; NULL when none */
};

/* A users[].user.exec stanza, resolved.  Every pointer is owned (malloc)
 * and freed, secrets wiped, by kube_exec_config_free(). */
struct kube_exec_config {
	char *api_version;		/* KUBE_EXEC_API_V1 or KUBE_EXEC_API_V1BETA1 */
	char *command;			/* a name looked up in PATH, or a path */
	char **args;			/* nargs strings, without argv[0] */
	size_t nargs;
	struct kube_exec_env *env;	/* added to (and overriding) our environment */
	size_t nenv;
	char *install_hint;		/* shown when the command is missing; may be NULL */
	int provide_cluster_info;
	enum kube_exec_interactive interactive_mode;
	struct kube_exec_cluster cluster;
};

/* Per-call options; a NULL pointer or zero field means the default. */
struct kube_exec_opts {
	long timeout_ms;		/* 0 = KUBE_EXEC_DEFAULT_TIMEOUT_MS; give a
					 * plugin that may prompt (terminal = 1)
					 * the time a person needs */
	size_t max_output;		/* 0 = KUBE_EXEC_DEFAULT_MAX_OUTPUT */
	int terminal;			/* 1 = the caller has handed the terminal over (UI
					 * suspended): unless interactiveMode is Never the
					 * plugin gets our stdin and stderr, stays in our
					 * process group (a background group could not read
					 * the terminal), and a timeout kills it alone.
					 * 0 (the default) = stdin is /dev/null, stderr is
					 * captured, and a timeout kills its whole group */
};

/* A credential printed by a plugin.  Owned strings, freed and wiped by
 * kube_exec_cred_free(). */
struct kube_exec_cred {
	char *token;			/* bearer token, or NULL */
	char *cert_pem;			/* client certificate (chain), or NULL */
	size_t cert_len;
	char *key_pem;			/* its private key, or NULL (set with cert_pem) */
	size_t key_len;
	time_t expires;			/* expirationTimestamp, Unix time; 0 = none */
};

/* Frees every field of CFG (wiping arguments, env values and strings that
 * may hold secrets) and CFG itself.  NULL is fine. */
void kube_exec_config_free(struct kube_exec_config *cfg);
/* Deep copy of CFG, or NULL when out of memory. */
struct kube_exec_config *kube_exec_config_dup(const struct kube_exec_config *cfg);

/* Wipes and frees the fields of CRED and zeroes it (CRED itself is not
 * freed).  NULL is fine. */
void kube_exec_cred_free(struct kube_exec_cred *cred);

/* Runs the plugin once, without the cache.  On KUBE_EXEC_OK fills *OUT;
 * otherwise *OUT is zeroed and ERR (size ERRLEN, 1024 is plenty) holds one
 * line naming the command (never its arguments).  OPTS may be NULL. */
enum kube_exec_status kube_exec_run(const struct kube_exec_config *cfg,
    const struct kube_exec_opts *opts, struct kube_exec_cred *out,
    char *err, size_t errlen);

/* Checks and decodes a plugin's stdout (LEN bytes of TEXT) against the
 * request's API_VERSION: an ExecCredential of that version whose status has
 * a token or a certificate and key, and a valid RFC 3339
 * expirationTimestamp if any.  Returns KUBE_EXEC_OK or KUBE_EXEC_E_OUTPUT;
 * messages never quote TEXT. */
enum kube_exec_status kube_exec_parse_output(const char *api_version,
    const char *text, size_t len, struct kube_exec_cred *out, char *err,
    size_t errlen);

/* Parses an RFC 3339 date-time ("2024-05-01T12:00:00Z", fractions and
 * +hh:mm offsets allowed) into Unix time.  Returns 0, or -1 when S is not
 * one. */
int kube_exec_parse_time(const char *s, time_t *out);

/* A thread-safe credential cache keyed by everything that can change the
 * answer: apiVersion, command, args, env, interactiveMode and the cluster.
 * It holds one entry per distinct config until it is freed. */
struct kube_exec_cache;

struct kube_exec_cache *kube_exec_cache_new(void);
/* Frees the cache, wiping every credential.  No call may be in progress. */
void kube_exec_cache_free(struct kube_exec_cache *cache);

/* Copies the cached credential for CFG into *OUT when it does not expire
 * within KUBE_EXEC_REFRESH_MARGIN_S; otherwise runs the plugin, caches its
 * answer and copies that (even an already expired one, which is then not
 * reused).  Concurrent calls for one config run the plugin once; calls for
 * other configs are not held up.  Failures are not cached.  With CACHE
 * NULL this is kube_exec_run(). */
enum kube_exec_status kube_exec_cache_get(struct kube_exec_cache *cache,
    const struct kube_exec_config *cfg, const struct kube_exec_opts *opts,
    struct kube_exec_cred *out, char *err, size_t errlen);

/* Forgets the credential cached for CFG, as kubectl does when the server
 * answers 401.  With REJECTED_TOKEN set, only if the cached token is that
 * one: a 401 for an old token must not discard a fresh one another thread
 * just fetched.  Returns 1 if a credential was dropped, else 0. */
int kube_exec_cache_invalidate(struct kube_exec_cache *cache,
    const struct kube_exec_config *cfg, const char *rejected_token);

#endif
