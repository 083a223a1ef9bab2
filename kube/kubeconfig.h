/*
 * kubeconfig.h — kubeconfig files loaded, merged and resolved the way
 * kubectl does it, into what a Kubernetes API client needs to connect.
 *
 * Where the configuration comes from:
 *   - an explicit path (the bgswitch config's clusters.<color>.kubeconfig,
 *     "~/" expanded): that file alone, which must exist;
 *   - else $KUBECONFIG, a colon-separated list merged by kubectl's rules
 *     (https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/):
 *     empty entries and missing files are skipped, the first file to define
 *     a cluster, user or context name wins (later definitions of that name
 *     are ignored whole, not merged field by field), and the first file that
 *     sets current-context decides it;
 *   - else $HOME/.kube/config;
 *   - or text in memory, e.g. the kubeconfig ARM returns base64-encoded from
 *     listClusterUserCredential, named for messages ("ARM credential for
 *     aks-prod-green").
 *
 * Loading checks the types of every known key in every file, as kubectl
 * refuses a file it cannot decode; unknown keys are ignored, as kubectl
 * does.  Resolving one context then checks what that context needs: that
 * its cluster and user exist, that the cluster has a server, that base64
 * decodes and that referenced files can be read.  Relative file paths
 * (certificate-authority, client-certificate, client-key, tokenFile, and an
 * exec command containing a slash) are relative to the directory of the
 * file that holds them.  Errors are one line, "FILE:LINE:COL: what is wrong
 * and what was expected" when the problem has a place in a file.
 *
 * Not supported, and reported as such rather than ignored (connecting some
 * other way than the kubeconfig says would be worse than stopping):
 * proxy-url, username/password, impersonation (as, as-groups, as-uid,
 * as-user-extra) and auth-provider (use kubelogin convert-kubeconfig).
 *
 * Secrets (tokens, private keys, exec arguments and env values) are never
 * logged, and are wiped when the structures holding them are freed.
 *
 * Mapping to struct http_tls (src/http.h): ca_pem/ca_len, cert_pem/cert_len,
 * key_pem/key_len and insecure map one to one (an exec plugin's certificate,
 * when it gives one, replaces cert/key); ca_file stays NULL because files
 * are read here.  tls_server_name has no http_tls field yet.
 */
#ifndef BGSWITCH_KUBE_KUBECONFIG_H
#define BGSWITCH_KUBE_KUBECONFIG_H

#include <stddef.h>

#include "kube/exec_cred.h"

/* A size for error buffers that fits every message of this module. */
#define KUBECONFIG_ERR_SIZE 1024

struct kubeconfig;		/* opaque: one or more merged kubeconfig files */

/* What a client needs to talk to one cluster as one user.  Every pointer
 * is owned; kubeconfig_target_free() releases them. */
struct kubeconfig_target {
	char *source;			/* file (or in-memory name) holding the context */
	char *context;
	char *cluster_name;
	char *user_name;		/* NULL when the context names no user */
	char *namespace;		/* NULL when the context sets none ("default") */
	char *server;			/* https://host:port, never NULL */
	char *tls_server_name;		/* SNI / name to verify; NULL = server's host */
	char *ca_pem;			/* trusted CAs; NULL = system trust store */
	size_t ca_len;
	char *cert_pem;			/* client certificate, or NULL */
	size_t cert_len;
	char *key_pem;			/* its key, or NULL; secret */
	size_t key_len;
	char *token;			/* bearer token, or NULL; secret */
	char *token_file;		/* absolute path when tokenFile is set: token holds
					 * its content now; re-read it to follow rotation */
	int insecure;			/* insecure-skip-tls-verify: true */
	struct kube_exec_config *exec;	/* credential plugin, or NULL */
	char warning[256];		/* "" or one line the caller must show */
};

/* Loads PATH alone if it is non-NULL and non-empty ("~" and "~/..." expand
 * to $HOME), else $KUBECONFIG's files, else $HOME/.kube/config.  Returns
 * NULL with ERR filled on failure. */
struct kubeconfig *kubeconfig_load(const char *path, char *err, size_t errlen);

/* Loads LEN bytes of TEXT named NAME in messages.  Relative paths in it are
 * taken against BASE_DIR; with BASE_DIR NULL they are an error (a
 * kubeconfig fetched from ARM has no directory to be relative to). */
struct kubeconfig *kubeconfig_load_mem(const char *text, size_t len,
    const char *name, const char *base_dir, char *err, size_t errlen);

/* Same, for the base64 text of a kubeconfig (ARM's
 * listClusterUserCredential kubeconfigs[].value). */
struct kubeconfig *kubeconfig_load_base64(const char *b64, size_t len,
    const char *name, char *err, size_t errlen);

/* Frees KC, wiping every string it parsed.  NULL is fine. */
void kubeconfig_free(struct kubeconfig *kc);

/* Where KC came from, for messages: a path, "KUBECONFIG (a, b)" or the
 * in-memory name. */
const char *kubeconfig_origin(const struct kubeconfig *kc);
/* The merged current-context, or NULL when no file sets one. */
const char *kubeconfig_current_context(const struct kubeconfig *kc);
/* Context names in merged order (first file first). */
size_t kubeconfig_context_count(const struct kubeconfig *kc);
const char *kubeconfig_context_name(const struct kubeconfig *kc, size_t i);

/* Resolves CONTEXT (NULL or "" = the current-context) into *T, which is
 * zeroed first.  Returns 0, or -1 with ERR filled and *T empty. */
int kubeconfig_resolve(const struct kubeconfig *kc, const char *context,
    struct kubeconfig_target *t, char *err, size_t errlen);

/* Releases what *T holds, wiping secrets, and zeroes it (T itself is not
 * freed).  NULL is fine. */
void kubeconfig_target_free(struct kubeconfig_target *t);

/* Reads a tokenFile: its content without surrounding whitespace, as
 * client-go does.  Returns 0 with *TOKEN set (free it with the secret
 * wiped), or -1 with ERR naming PATH and the reason. */
int kubeconfig_read_token_file(const char *path, char **token, char *err,
    size_t errlen);

#endif
