/*
 * kubeconfig.c — loading, merging and resolving kubeconfig files.
 *
 * Loading parses each file with src/yamljson (which keeps line:column for
 * every node), checks the type of every key kubectl knows against the
 * tables below, and indexes clusters, users and contexts by name under
 * kubectl's merge rules: the first file to define a name wins, and the first
 * file that sets current-context decides it
 * (https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/).
 * The parsed trees stay alive inside struct kubeconfig, so resolving a
 * context later can still point at "file:line:col" when a context names a
 * missing cluster, base64 does not decode or a certificate file is
 * unreadable.  Merging never copies fields between files: kubectl takes a
 * named entry whole from the first file that has it.
 *
 * Every string parsed from a kubeconfig is wiped before it is freed, since
 * tokens and private keys are among them.
 */
#include "kube/kubeconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "src/yamljson.h"

#define KC_MAX_FILE	(64u << 20)	/* a kubeconfig */
#define KC_MAX_PEM	(8u << 20)	/* a CA bundle, certificate or key file */
#define KC_MAX_TOKEN	(1u << 20)	/* a tokenFile */
#define KC_NAMES_SHOWN	400		/* bytes of "contexts: a, b, ..." lists */

#define EXEC_EXTENSION	"client.authentication.k8s.io/exec"

struct kc_file {
	char *name;			/* as shown in messages */
	char *dir;			/* absolute directory for relative paths, or NULL */
	struct yj_doc *doc;
};

/* A named cluster, user or context, as the winning file wrote it. */
struct kc_entry {
	const char *name;
	const cJSON *item;		/* the list element {name, cluster|user|context} */
	const cJSON *body;		/* its cluster / user / context mapping, or NULL */
	const struct kc_file *file;
};

/* Entries in merged order plus an open-addressing index by name, so a
 * hostile file with a million entries costs linear time, not quadratic. */
struct kc_list {
	struct kc_entry *v;
	size_t n, cap;
	size_t *slot;			/* entry index + 1; 0 = empty */
	size_t nslot;			/* a power of two, or 0 */
};

struct kubeconfig {
	struct kc_file *files;		/* fixed capacity: entries are pointed to */
	size_t nfiles, capfiles;
	struct kc_list clusters, users, contexts;
	const char *current;		/* merged current-context, or NULL */
	const cJSON *current_node;
	const struct kc_file *current_file;
	char *origin;
};

/* ---- small helpers ---------------------------------------------------- */

static int __attribute__((format(printf, 3, 4)))
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void
wipe_free(void *p, size_t n)
{
	if (p != NULL) {
		OPENSSL_cleanse(p, n);
		free(p);
	}
}

static void
wipe_str(char *s)
{
	if (s != NULL)
		wipe_free(s, strlen(s));
}

static void
wipe_json(cJSON *node)
{
	for (; node != NULL; node = node->next) {
		if (node->valuestring != NULL)
			OPENSSL_cleanse(node->valuestring, strlen(node->valuestring));
		wipe_json(node->child);
	}
}

/* S fit for a message: printable ASCII, at most N-1 bytes, "..." when cut.
 * Names come from files that may be hostile. */
static const char *
shown(const char *s, char *buf, size_t n)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < n; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	if (s[i] != '\0' && n > 4)
		memcpy(buf + n - 4, "...", 4);
	return buf;
}

/* Reads PATH whole (at most CAP bytes) into a NUL-terminated buffer.
 * Returns 0, or -1 with errno (EISDIR for a directory, EFBIG over CAP).
 * Grows without realloc so no copy of a key is left in freed memory. */
static int
read_file(const char *path, size_t cap, char **out, size_t *outlen)
{
	struct stat sb;
	size_t len = 0, bufcap;
	char *buf, *nb;
	ssize_t n;
	int fd, e;

	*out = NULL;
	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &sb) < 0)
		goto fail;
	if (S_ISDIR(sb.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (S_ISREG(sb.st_mode) && (uintmax_t)sb.st_size > cap) {
		errno = EFBIG;
		goto fail;
	}
	bufcap = S_ISREG(sb.st_mode) ? (size_t)sb.st_size + 1 : 4096;
	if ((buf = malloc(bufcap)) == NULL)
		goto fail;
	for (;;) {
		if (len + 1 >= bufcap) {
			if (bufcap > cap) {
				wipe_free(buf, bufcap);
				errno = EFBIG;
				goto fail;
			}
			if ((nb = malloc(bufcap * 2)) == NULL) {
				wipe_free(buf, bufcap);
				goto fail;
			}
			memcpy(nb, buf, len);
			wipe_free(buf, bufcap);
			buf = nb;
			bufcap *= 2;
		}
		n = read(fd, buf + len, bufcap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			wipe_free(buf, bufcap);
			errno = e;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > cap) {
		wipe_free(buf, bufcap);
		errno = EFBIG;
		return -1;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static const char *
read_error(int e, char *buf, size_t n, size_t cap)
{
	if (e == EFBIG)
		snprintf(buf, n, "larger than %zu MiB", cap >> 20);
	else
		snprintf(buf, n, "%s", strerror(e));
	return buf;
}

/* Decodes standard base64 strictly (as Go's encoding/json does for []byte):
 * the standard alphabet, padding to a multiple of 4, line breaks and blanks
 * ignored.  OpenSSL's decoder alone would stop quietly at a '-' and accept
 * truncated input, hence the first pass.  Returns 0, or -1 with WHY. */
static int
b64_decode(const char *in, size_t n, char **out, size_t *outlen, char *why,
    size_t whylen)
{
	EVP_ENCODE_CTX *ctx;
	size_t i, sig = 0, pad = 0;
	unsigned char c;
	char *buf;
	int l1 = 0, l2 = 0, r1, r2;

	*out = NULL;
	*outlen = 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			if (++pad > 2)
				return errf(why, whylen, "too much '=' padding at "
				    "offset %zu", i);
		} else if (pad > 0) {
			return errf(why, whylen, "data after '=' padding at "
			    "offset %zu", i);
		} else if (!isalnum(c) && c != '+' && c != '/') {
			if (c >= 0x20 && c < 0x7f)
				return errf(why, whylen, "unexpected character "
				    "'%c' at offset %zu", c, i);
			return errf(why, whylen, "unexpected byte 0x%02x at "
			    "offset %zu", c, i);
		}
		sig++;
	}
	if (sig % 4 != 0)
		return errf(why, whylen, "%zu base64 characters, not a multiple "
		    "of 4 (cut short?)", sig);
	if (n > INT_MAX)
		return errf(why, whylen, "too long");
	if ((buf = malloc(sig / 4 * 3 + 80)) == NULL)
		return errf(why, whylen, "out of memory");
	if ((ctx = EVP_ENCODE_CTX_new()) == NULL) {
		free(buf);
		return errf(why, whylen, "out of memory");
	}
	EVP_DecodeInit(ctx);
	r1 = EVP_DecodeUpdate(ctx, (unsigned char *)buf, &l1,
	    (const unsigned char *)in, (int)n);
	r2 = r1 < 0 ? -1 : EVP_DecodeFinal(ctx, (unsigned char *)buf + l1, &l2);
	EVP_ENCODE_CTX_free(ctx);
	if (r1 < 0 || r2 < 0) {
		wipe_free(buf, sig / 4 * 3 + 80);
		return errf(why, whylen, "malformed");
	}
	buf[l1 + l2] = '\0';
	*out = buf;
	*outlen = (size_t)(l1 + l2);
	return 0;
}

static int
looks_pem(const char *p, size_t n)
{
	return memmem(p, n, "-----BEGIN ", 11) != NULL;
}

/* "~" and "~/..." against $HOME; anything else as is. */
static char *
expand_home(const char *p, char *err, size_t errlen)
{
	const char *home;
	char *out;

	if (p[0] != '~' || (p[1] != '\0' && p[1] != '/'))
		return strdup(p);
	home = getenv("HOME");
	if (home == NULL || *home == '\0') {
		errf(err, errlen, "%s: cannot expand \"~\": HOME is not set", p);
		return NULL;
	}
	if (asprintf(&out, "%s%s", home, p + 1) < 0)
		return NULL;
	return out;
}

/* The absolute directory of PATH (not resolving symlinks, like Go's
 * filepath.Abs, which kubectl uses). */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *cwd, *out;
	int r;

	if (slash == path)
		return strdup("/");
	if (path[0] == '/')
		return strndup(path, (size_t)(slash - path));
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return NULL;
	if (slash == NULL)
		return cwd;
	r = asprintf(&out, "%s/%.*s", cwd, (int)(slash - path), path);
	free(cwd);
	return r < 0 ? NULL : out;
}

/* ---- the name index --------------------------------------------------- */

static uint64_t
name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct kc_entry *
list_find(const struct kc_list *l, const char *name)
{
	size_t i, idx;

	if (l->nslot == 0)
		return NULL;
	for (i = name_hash(name) & (l->nslot - 1); (idx = l->slot[i]) != 0;
	    i = (i + 1) & (l->nslot - 1))
		if (strcmp(l->v[idx - 1].name, name) == 0)
			return &l->v[idx - 1];
	return NULL;
}

static int
list_add(struct kc_list *l, const struct kc_entry *e)
{
	struct kc_entry *nv;
	size_t *ns, nn, i, j;

	if (l->n == l->cap) {
		nn = l->cap ? l->cap * 2 : 16;
		if ((nv = realloc(l->v, nn * sizeof *nv)) == NULL)
			return -1;
		l->v = nv;
		l->cap = nn;
	}
	if ((l->n + 1) * 2 > l->nslot) {
		nn = l->nslot ? l->nslot * 2 : 32;
		if ((ns = calloc(nn, sizeof *ns)) == NULL)
			return -1;
		for (j = 0; j < l->n; j++) {
			for (i = name_hash(l->v[j].name) & (nn - 1); ns[i] != 0;
			    i = (i + 1) & (nn - 1))
				;
			ns[i] = j + 1;
		}
		free(l->slot);
		l->slot = ns;
		l->nslot = nn;
	}
	l->v[l->n] = *e;
	for (i = name_hash(e->name) & (l->nslot - 1); l->slot[i] != 0;
	    i = (i + 1) & (l->nslot - 1))
		;
	l->slot[i] = ++l->n;
	return 0;
}

static void
list_free(struct kc_list *l)
{
	free(l->v);
	free(l->slot);
	memset(l, 0, sizeof *l);
}

/* "a, b, c" (or "none"), cut to fit N with a count of the rest. */
static const char *
list_names(const struct kc_list *l, char *buf, size_t n)
{
	char name[80];
	size_t i, k = 0;
	int w;

	if (l->n == 0) {
		snprintf(buf, n, "none");
		return buf;
	}
	buf[0] = '\0';
	for (i = 0; i < l->n; i++) {
		w = snprintf(buf + k, n - k, "%s%s", i ? ", " : "",
		    shown(l->v[i].name, name, sizeof name));
		if (w < 0 || (size_t)w >= n - k - 24) {
			buf[k] = '\0';
			snprintf(buf + k, n - k, "%s... (%zu in all)",
			    i ? ", " : "", l->n);
			break;
		}
		k += (size_t)w;
	}
	return buf;
}

/* ---- type checks (load time) ----------------------------------------- */

enum kc_type { KC_STR, KC_BOOL, KC_MAP, KC_LIST, KC_STRLIST };

struct kc_field {
	const char *key;
	enum kc_type type;
};

/* The keys kubectl knows (client-go clientcmd/api/v1), with their types.
 * Keys not listed are ignored, as kubectl ignores them. */
static const struct kc_field root_fields[] = {
	{ "apiVersion", KC_STR }, { "kind", KC_STR },
	{ "current-context", KC_STR }, { "preferences", KC_MAP },
	{ "clusters", KC_LIST }, { "users", KC_LIST }, { "contexts", KC_LIST },
	{ "extensions", KC_LIST }, { NULL, 0 }
};
static const struct kc_field named_cluster_fields[] = {
	{ "name", KC_STR }, { "cluster", KC_MAP }, { NULL, 0 }
};
static const struct kc_field named_user_fields[] = {
	{ "name", KC_STR }, { "user", KC_MAP }, { NULL, 0 }
};
static const struct kc_field named_context_fields[] = {
	{ "name", KC_STR }, { "context", KC_MAP }, { NULL, 0 }
};
static const struct kc_field cluster_fields[] = {
	{ "server", KC_STR }, { "tls-server-name", KC_STR },
	{ "insecure-skip-tls-verify", KC_BOOL },
	{ "certificate-authority", KC_STR },
	{ "certificate-authority-data", KC_STR },
	{ "proxy-url", KC_STR }, { "disable-compression", KC_BOOL },
	{ "extensions", KC_LIST }, { NULL, 0 }
};
static const struct kc_field user_fields[] = {
	{ "client-certificate", KC_STR }, { "client-certificate-data", KC_STR },
	{ "client-key", KC_STR }, { "client-key-data", KC_STR },
	{ "token", KC_STR }, { "tokenFile", KC_STR },
	{ "as", KC_STR }, { "as-uid", KC_STR }, { "as-groups", KC_STRLIST },
	{ "as-user-extra", KC_MAP },
	{ "username", KC_STR }, { "password", KC_STR },
	{ "auth-provider", KC_MAP }, { "exec", KC_MAP },
	{ "extensions", KC_LIST }, { NULL, 0 }
};
static const struct kc_field exec_fields[] = {
	{ "command", KC_STR }, { "args", KC_STRLIST }, { "env", KC_LIST },
	{ "apiVersion", KC_STR }, { "installHint", KC_STR },
	{ "provideClusterInfo", KC_BOOL }, { "interactiveMode", KC_STR },
	{ NULL, 0 }
};
static const struct kc_field env_fields[] = {
	{ "name", KC_STR }, { "value", KC_STR }, { NULL, 0 }
};
static const struct kc_field auth_provider_fields[] = {
	{ "name", KC_STR }, { "config", KC_MAP }, { NULL, 0 }
};
static const struct kc_field context_fields[] = {
	{ "cluster", KC_STR }, { "user", KC_STR }, { "namespace", KC_STR },
	{ "extensions", KC_LIST }, { NULL, 0 }
};
static const struct kc_field extension_fields[] = {
	{ "name", KC_STR }, { NULL, 0 }
};

static const char *
want_name(enum kc_type t)
{
	switch (t) {
	case KC_STR:		return "a string";
	case KC_BOOL:		return "true or false";
	case KC_MAP:		return "a mapping";
	case KC_LIST:		return "a list";
	case KC_STRLIST:	return "a list of strings";
	}
	return "?";
}

static const char *
found_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "nothing";
	if (cJSON_IsArray(v))
		return "a list";
	return "a mapping";
}

static int
type_ok(const cJSON *v, enum kc_type t)
{
	switch (t) {
	case KC_STR:		return cJSON_IsString(v);
	case KC_BOOL:		return cJSON_IsBool(v);
	case KC_MAP:		return cJSON_IsObject(v);
	case KC_LIST:
	case KC_STRLIST:	return cJSON_IsArray(v);
	}
	return 0;
}

static int
type_error(const struct kc_file *f, const cJSON *v, const char *what,
    const char *key, enum kc_type t, char *err, size_t errlen)
{
	yj_errorf(f->doc, v, err, errlen, "%s%s%s: expected %s, found %s%s",
	    what ? what : "", what ? ": " : "", key, want_name(t), found_name(v),
	    t == KC_STR && (cJSON_IsNumber(v) || cJSON_IsBool(v)) ?
	    " (quote it to make it a string)" : "");
	return -1;
}

/* Checks the known keys of mapping MAP against FIELDS.  WHAT names the
 * mapping in messages ('cluster "blue"'); null values count as absent. */
static int
check_fields(const struct kc_file *f, const cJSON *map,
    const struct kc_field *fields, const char *what, char *err, size_t errlen)
{
	const struct kc_field *fl;
	const cJSON *v, *it;
	char key[96];
	int i;

	for (fl = fields; fl->key != NULL; fl++) {
		v = cJSON_GetObjectItemCaseSensitive(map, fl->key);
		if (v == NULL || cJSON_IsNull(v))
			continue;
		if (!type_ok(v, fl->type))
			return type_error(f, v, what, fl->key, fl->type, err,
			    errlen);
		if (fl->type != KC_STRLIST)
			continue;
		i = 0;
		cJSON_ArrayForEach(it, v) {
			if (!cJSON_IsString(it)) {
				snprintf(key, sizeof key, "%s[%d]", fl->key, i);
				return type_error(f, it, what, key, KC_STR, err,
				    errlen);
			}
			i++;
		}
	}
	return 0;
}

/* Each element of list KEY in MAP must be a mapping whose keys match
 * FIELDS. */
static int
check_map_list(const struct kc_file *f, const cJSON *map, const char *key,
    const struct kc_field *fields, const char *what, char *err, size_t errlen)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(map, key), *it;
	char sub[256];
	int i = 0;

	if (!cJSON_IsArray(list))
		return 0;
	cJSON_ArrayForEach(it, list) {
		snprintf(sub, sizeof sub, "%s%s%s[%d]", what ? what : "",
		    what ? ": " : "", key, i);
		if (!cJSON_IsObject(it))
			return type_error(f, it, NULL, sub, KC_MAP, err, errlen);
		if (check_fields(f, it, fields, sub, err, errlen) < 0)
			return -1;
		i++;
	}
	return 0;
}

static int
check_cluster(const struct kc_file *f, const cJSON *body, const char *what,
    char *err, size_t errlen)
{
	if (check_fields(f, body, cluster_fields, what, err, errlen) < 0)
		return -1;
	return check_map_list(f, body, "extensions", extension_fields, what,
	    err, errlen);
}

static int
check_user(const struct kc_file *f, const cJSON *body, const char *what,
    char *err, size_t errlen)
{
	const cJSON *v;
	char sub[256];

	if (check_fields(f, body, user_fields, what, err, errlen) < 0 ||
	    check_map_list(f, body, "extensions", extension_fields, what, err,
	    errlen) < 0)
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(body, "exec");
	if (cJSON_IsObject(v)) {
		snprintf(sub, sizeof sub, "%s: exec", what);
		if (check_fields(f, v, exec_fields, sub, err, errlen) < 0 ||
		    check_map_list(f, v, "env", env_fields, sub, err, errlen) < 0)
			return -1;
	}
	v = cJSON_GetObjectItemCaseSensitive(body, "auth-provider");
	if (cJSON_IsObject(v)) {
		snprintf(sub, sizeof sub, "%s: auth-provider", what);
		if (check_fields(f, v, auth_provider_fields, sub, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int
check_context(const struct kc_file *f, const cJSON *body, const char *what,
    char *err, size_t errlen)
{
	if (check_fields(f, body, context_fields, what, err, errlen) < 0)
		return -1;
	return check_map_list(f, body, "extensions", extension_fields, what,
	    err, errlen);
}

/* One of the three named lists of a file. */
struct kc_section {
	const char *list;		/* "clusters" */
	const char *body;		/* "cluster" */
	const struct kc_field *named;	/* {name, cluster} */
	int (*check)(const struct kc_file *, const cJSON *, const char *,
	    char *, size_t);
};

static const struct kc_section sections[] = {
	{ "clusters", "cluster", named_cluster_fields, check_cluster },
	{ "users", "user", named_user_fields, check_user },
	{ "contexts", "context", named_context_fields, check_context },
};

static struct kc_list *
section_list(struct kubeconfig *kc, size_t i)
{
	return i == 0 ? &kc->clusters : i == 1 ? &kc->users : &kc->contexts;
}

/* Checks every entry of one section of file F and merges it into the
 * index: names new to the index are added, names an earlier file defined
 * are skipped whole, a name defined twice in F is an error (as client-go's
 * conversion makes it). */
static int
load_section(struct kubeconfig *kc, const struct kc_file *f,
    const cJSON *root, size_t si, char *err, size_t errlen)
{
	const struct kc_section *s = &sections[si];
	struct kc_list *merged = section_list(kc, si);
	struct kc_list seen = { 0 };
	const cJSON *list, *it, *name, *body;
	struct kc_entry e, *prev;
	char what[128], nb[80];
	int i = 0, line, col, rc = -1;

	list = cJSON_GetObjectItemCaseSensitive(root, s->list);
	if (!cJSON_IsArray(list))
		return 0;		/* absent or null: type checked by the caller */
	cJSON_ArrayForEach(it, list) {
		snprintf(what, sizeof what, "%s[%d]", s->list, i++);
		if (!cJSON_IsObject(it)) {
			yj_errorf(f->doc, it, err, errlen, "%s: expected a mapping "
			    "with name and %s, found %s", what, s->body,
			    found_name(it));
			goto out;
		}
		if (check_fields(f, it, s->named, what, err, errlen) < 0)
			goto out;
		name = cJSON_GetObjectItemCaseSensitive(it, "name");
		if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
			yj_errorf(f->doc, it, err, errlen, "%s: name is missing",
			    what);
			goto out;
		}
		snprintf(what, sizeof what, "%s \"%s\"", s->body,
		    shown(name->valuestring, nb, sizeof nb));
		body = cJSON_GetObjectItemCaseSensitive(it, s->body);
		if (cJSON_IsNull(body))
			body = NULL;
		if (body != NULL && s->check(f, body, what, err, errlen) < 0)
			goto out;
		e.name = name->valuestring;
		e.item = it;
		e.body = body;
		e.file = f;
		if ((prev = list_find(&seen, e.name)) != NULL) {
			line = col = 0;
			yj_pos(f->doc, cJSON_GetObjectItemCaseSensitive(prev->item,
			    "name"), &line, &col);
			yj_errorf(f->doc, name, err, errlen, "%s: %s is defined "
			    "twice in this file (first at line %d, column %d)",
			    s->list, what, line, col);
			goto out;
		}
		if (list_add(&seen, &e) < 0 ||
		    (list_find(merged, e.name) == NULL && list_add(merged, &e) < 0)) {
			errf(err, errlen, "%s: out of memory", f->name);
			goto out;
		}
	}
	rc = 0;
out:
	list_free(&seen);
	return rc;
}

/* ---- loading ---------------------------------------------------------- */

static struct kubeconfig *
kc_new(size_t nfiles, const char *origin)
{
	struct kubeconfig *kc = calloc(1, sizeof *kc);

	if (kc == NULL)
		return NULL;
	kc->files = calloc(nfiles ? nfiles : 1, sizeof *kc->files);
	kc->capfiles = nfiles ? nfiles : 1;
	kc->origin = strdup(origin);
	if (kc->files == NULL || kc->origin == NULL) {
		kubeconfig_free(kc);
		return NULL;
	}
	return kc;
}

/* Parses and merges one file's TEXT.  DIR (owned from here on, may be
 * NULL) is where its relative paths point. */
static int
kc_add_text(struct kubeconfig *kc, const char *text, size_t len,
    const char *name, char *dir, char *err, size_t errlen)
{
	struct kc_file *f;
	struct yj_error yerr;
	const cJSON *root, *cur;
	size_t ndocs, i;

	if (kc->nfiles == kc->capfiles) {
		free(dir);
		return errf(err, errlen, "%s: too many files", name);
	}
	f = &kc->files[kc->nfiles++];
	f->dir = dir;
	if ((f->name = strdup(name)) == NULL)
		return errf(err, errlen, "%s: out of memory", name);
	if ((f->doc = yj_parse(text, len, name, &yerr)) == NULL)
		return errf(err, errlen, "%s", yerr.msg);
	ndocs = yj_count(f->doc);
	if (ndocs == 0)
		return 0;		/* an empty file is an empty config */
	if (ndocs > 1) {
		yj_errorf(f->doc, yj_root(f->doc, 1), err, errlen, "a second "
		    "YAML document starts here; a kubeconfig holds one (%zu "
		    "found)", ndocs);
		return -1;
	}
	root = yj_root(f->doc, 0);
	if (cJSON_IsNull(root))
		return 0;
	if (!cJSON_IsObject(root)) {
		yj_errorf(f->doc, root, err, errlen, "expected a kubeconfig "
		    "mapping (apiVersion, clusters, users, contexts), found %s",
		    found_name(root));
		return -1;
	}
	if (check_fields(f, root, root_fields, NULL, err, errlen) < 0)
		return -1;
	cur = cJSON_GetObjectItemCaseSensitive(root, "current-context");
	if (kc->current == NULL && cJSON_IsString(cur) &&
	    cur->valuestring[0] != '\0') {
		kc->current = cur->valuestring;
		kc->current_node = cur;
		kc->current_file = f;
	}
	for (i = 0; i < sizeof sections / sizeof sections[0]; i++)
		if (load_section(kc, f, root, i, err, errlen) < 0)
			return -1;
	return 0;
}

/* Reads and merges PATH (shown as NAME).  A missing file is skipped
 * (*SKIPPED set) unless MUST_EXIST. */
static int
kc_add_file(struct kubeconfig *kc, const char *path, const char *name,
    int must_exist, int *skipped, char *err, size_t errlen)
{
	char *text, *dir, why[128];
	size_t len;
	int rc;

	*skipped = 0;
	if (read_file(path, KC_MAX_FILE, &text, &len) < 0) {
		if (errno == ENOENT && !must_exist) {
			*skipped = 1;
			return 0;
		}
		return errf(err, errlen, "%s: cannot read the kubeconfig: %s", name,
		    read_error(errno, why, sizeof why, KC_MAX_FILE));
	}
	if ((dir = dir_of(path)) == NULL) {
		wipe_free(text, len + 1);
		return errf(err, errlen, "%s: cannot work out its directory: %s",
		    name, strerror(errno));
	}
	rc = kc_add_text(kc, text, len, name, dir, err, errlen);
	wipe_free(text, len + 1);
	return rc;
}

/* Appends ", NAME" (or NAME first) to the malloc'd list *LIST. */
static int
append_name(char **list, const char *name)
{
	char *n;

	if (asprintf(&n, "%s%s%s", *list ? *list : "", *list ? ", " : "",
	    name) < 0)
		return -1;
	free(*list);
	*list = n;
	return 0;
}

struct kubeconfig *
kubeconfig_load(const char *path, char *err, size_t errlen)
{
	struct kubeconfig *kc = NULL;
	const char *env = getenv("KUBECONFIG"), *home, *q;
	char *full = NULL, *list = NULL, *p, *save = NULL, *origin = NULL;
	char *missing = NULL, **seen = NULL;
	size_t n = 0, nseen = 0, i;
	int skipped, loaded = 0;

	if (path != NULL && *path != '\0') {
		/* An explicit file: alone, no merging, must exist. */
		if ((full = expand_home(path, err, errlen)) == NULL)
			return NULL;
		if ((kc = kc_new(1, path)) == NULL)
			goto oom;
		if (kc_add_file(kc, full, path, 1, &skipped, err, errlen) < 0)
			goto fail;
		free(full);
		return kc;
	}
	if (env != NULL)
		for (q = env; *q != '\0'; q++)
			n += *q == ':';
	if (env != NULL && strspn(env, ":") < strlen(env)) {
		if ((list = strdup(env)) == NULL || (kc = kc_new(n + 1,
		    "KUBECONFIG")) == NULL)
			goto oom;
		if ((seen = calloc(n + 1, sizeof *seen)) == NULL)
			goto oom;
		for (p = strtok_r(list, ":", &save); p != NULL;
		    p = strtok_r(NULL, ":", &save)) {
			/* client-go drops repeated entries: a file listed twice
			 * is read once. */
			for (i = 0; i < nseen && strcmp(seen[i], p) != 0; i++)
				;
			if (i < nseen)
				continue;
			seen[nseen++] = p;
			if (kc_add_file(kc, p, p, 0, &skipped, err, errlen) < 0)
				goto fail;
			if (append_name(skipped ? &missing : &origin, p) < 0)
				goto oom;
			loaded += !skipped;
		}
		if (loaded == 0) {
			errf(err, errlen, "KUBECONFIG names no file that exists "
			    "(%s)", missing ? missing : env);
			goto fail;
		}
		free(kc->origin);
		if (asprintf(&kc->origin, "KUBECONFIG (%s)", origin) < 0) {
			kc->origin = NULL;
			goto oom;
		}
		free(seen);
		free(list);
		free(origin);
		free(missing);
		return kc;
	}
	home = getenv("HOME");
	if (home == NULL || *home == '\0') {
		errf(err, errlen, "no kubeconfig: KUBECONFIG is not set and "
		    "neither is HOME, so ~/.kube/config cannot be found");
		return NULL;
	}
	if (asprintf(&full, "%s/.kube/config", home) < 0) {
		full = NULL;
		goto oom;
	}
	if ((kc = kc_new(1, full)) == NULL)
		goto oom;
	if (kc_add_file(kc, full, full, 0, &skipped, err, errlen) < 0)
		goto fail;
	if (skipped) {
		errf(err, errlen, "no kubeconfig: %s does not exist and "
		    "KUBECONFIG is not set", full);
		goto fail;
	}
	free(full);
	return kc;
oom:
	errf(err, errlen, "kubeconfig: out of memory");
fail:
	kubeconfig_free(kc);
	free(seen);
	free(full);
	free(list);
	free(origin);
	free(missing);
	return NULL;
}

struct kubeconfig *
kubeconfig_load_mem(const char *text, size_t len, const char *name,
    const char *base_dir, char *err, size_t errlen)
{
	struct kubeconfig *kc;
	char *dir = NULL;

	if (name == NULL)
		name = "<kubeconfig>";
	if (text == NULL)
		len = 0;
	if ((kc = kc_new(1, name)) == NULL ||
	    (base_dir != NULL && (dir = strdup(base_dir)) == NULL)) {
		kubeconfig_free(kc);
		errf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	if (kc_add_text(kc, text != NULL ? text : "", len, name, dir, err,
	    errlen) < 0) {
		kubeconfig_free(kc);
		return NULL;
	}
	return kc;
}

struct kubeconfig *
kubeconfig_load_base64(const char *b64, size_t len, const char *name,
    char *err, size_t errlen)
{
	struct kubeconfig *kc;
	char *text, why[128];
	size_t n;

	if (name == NULL)
		name = "<kubeconfig>";
	if (b64 == NULL || len == 0) {
		errf(err, errlen, "%s: the kubeconfig is empty", name);
		return NULL;
	}
	if (b64_decode(b64, len, &text, &n, why, sizeof why) < 0) {
		errf(err, errlen, "%s: the kubeconfig is not valid base64: %s",
		    name, why);
		return NULL;
	}
	kc = kubeconfig_load_mem(text, n, name, NULL, err, errlen);
	wipe_free(text, n + 1);
	return kc;
}

void
kubeconfig_free(struct kubeconfig *kc)
{
	size_t i, d;

	if (kc == NULL)
		return;
	for (i = 0; i < kc->nfiles; i++) {
		if (kc->files[i].doc != NULL)
			for (d = 0; d < yj_count(kc->files[i].doc); d++)
				wipe_json(yj_root(kc->files[i].doc, d));
		yj_free(kc->files[i].doc);
		free(kc->files[i].name);
		free(kc->files[i].dir);
	}
	free(kc->files);
	list_free(&kc->clusters);
	list_free(&kc->users);
	list_free(&kc->contexts);
	free(kc->origin);
	free(kc);
}

const char *
kubeconfig_origin(const struct kubeconfig *kc)
{
	return kc != NULL ? kc->origin : NULL;
}

const char *
kubeconfig_current_context(const struct kubeconfig *kc)
{
	return kc != NULL ? kc->current : NULL;
}

size_t
kubeconfig_context_count(const struct kubeconfig *kc)
{
	return kc != NULL ? kc->contexts.n : 0;
}

const char *
kubeconfig_context_name(const struct kubeconfig *kc, size_t i)
{
	return kc != NULL && i < kc->contexts.n ? kc->contexts.v[i].name : NULL;
}

/* ---- resolving -------------------------------------------------------- */

/* A string member of a checked mapping; NULL when absent, null or "" (Go's
 * zero value means unset). */
static const char *
get_str(const cJSON *map, const char *key)
{
	const cJSON *v = map != NULL ?
	    cJSON_GetObjectItemCaseSensitive(map, key) : NULL;

	return cJSON_IsString(v) && v->valuestring[0] != '\0' ?
	    v->valuestring : NULL;
}

static const cJSON *
get_node(const cJSON *map, const char *key)
{
	const cJSON *v = map != NULL ?
	    cJSON_GetObjectItemCaseSensitive(map, key) : NULL;

	return cJSON_IsNull(v) ? NULL : v;
}

/* The node to blame for something missing from entry E: its body if it
 * has one, else the list element. */
static const cJSON *
blame(const struct kc_entry *e)
{
	return e->body != NULL ? e->body : e->item;
}

/* PATH from file F made absolute against F's directory. */
static char *
resolve_path(const struct kc_file *f, const cJSON *node, const char *path,
    const char *what, char *err, size_t errlen)
{
	char *out;

	if (path[0] == '/')
		out = strdup(path);
	else if (f->dir == NULL) {
		yj_errorf(f->doc, node, err, errlen, "%s: \"%s\" is a relative "
		    "path, but %s is not a file, so there is no directory to "
		    "resolve it against", what, path, f->name);
		return NULL;
	} else if (asprintf(&out, "%s/%s", f->dir, path) < 0)
		out = NULL;
	if (out == NULL)
		errf(err, errlen, "%s: out of memory", f->name);
	return out;
}

/* Loads a PEM from DATA_KEY (base64) or else FILE_KEY (a path) of entry E.
 * Returns 1 with *OUT set, 0 when neither is set, -1 on error. */
static int
load_pem(const struct kc_entry *e, const char *data_key, const char *file_key,
    const char *what, char **out, size_t *outlen, char *err, size_t errlen)
{
	const struct kc_file *f = e->file;
	const cJSON *node;
	const char *s;
	char *path, why[128];
	size_t len;

	*out = NULL;
	*outlen = 0;
	if ((s = get_str(e->body, data_key)) != NULL) {
		node = get_node(e->body, data_key);
		if (b64_decode(s, strlen(s), out, &len, why, sizeof why) < 0) {
			yj_errorf(f->doc, node, err, errlen, "%s: %s is not valid "
			    "base64: %s", what, data_key, why);
			return -1;
		}
		if (!looks_pem(*out, len)) {
			wipe_free(*out, len + 1);
			*out = NULL;
			yj_errorf(f->doc, node, err, errlen, "%s: %s does not "
			    "decode to PEM (no \"-----BEGIN\" line)", what, data_key);
			return -1;
		}
		*outlen = len;
		return 1;
	}
	if ((s = get_str(e->body, file_key)) == NULL)
		return 0;
	node = get_node(e->body, file_key);
	if ((path = resolve_path(f, node, s, what, err, errlen)) == NULL)
		return -1;
	if (read_file(path, KC_MAX_PEM, out, &len) < 0) {
		yj_errorf(f->doc, node, err, errlen, "%s: %s: cannot read %s: %s",
		    what, file_key, path, read_error(errno, why, sizeof why,
		    KC_MAX_PEM));
		free(path);
		return -1;
	}
	if (!looks_pem(*out, len)) {
		wipe_free(*out, len + 1);
		*out = NULL;
		yj_errorf(f->doc, node, err, errlen, "%s: %s: %s is not a PEM "
		    "file (no \"-----BEGIN\" line)", what, file_key, path);
		free(path);
		return -1;
	}
	free(path);
	*outlen = len;
	return 1;
}

/* A token goes into an HTTP header: a line break in it would be a header
 * injection, and is surely a mistake. */
static int
token_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int
kubeconfig_read_token_file(const char *path, char **token, char *err,
    size_t errlen)
{
	char *buf, why[128];
	size_t len, b = 0, e;

	*token = NULL;
	if (read_file(path, KC_MAX_TOKEN, &buf, &len) < 0)
		return errf(err, errlen, "cannot read token file %s: %s", path,
		    read_error(errno, why, sizeof why, KC_MAX_TOKEN));
	e = len;
	while (b < e && isspace((unsigned char)buf[b]))
		b++;
	while (e > b && isspace((unsigned char)buf[e - 1]))
		e--;
	if (b == e || memchr(buf + b, '\0', e - b) != NULL) {
		wipe_free(buf, len + 1);
		return errf(err, errlen, "token file %s is %s", path,
		    b == e ? "empty" : "binary");
	}
	*token = strndup(buf + b, e - b);
	wipe_free(buf, len + 1);
	if (*token == NULL)
		return errf(err, errlen, "out of memory");
	if (!token_ok(*token)) {
		wipe_str(*token);
		*token = NULL;
		return errf(err, errlen, "token file %s holds control "
		    "characters (more than one line?)", path);
	}
	return 0;
}

static int
resolve_cluster(const struct kc_entry *cl, struct kubeconfig_target *t,
    char *err, size_t errlen)
{
	const struct kc_file *f = cl->file;
	const cJSON *node;
	const char *s;
	char what[128], nb[80];
	int rc;

	snprintf(what, sizeof what, "cluster \"%s\"", shown(cl->name, nb,
	    sizeof nb));
	if ((s = get_str(cl->body, "server")) == NULL) {
		yj_errorf(f->doc, blame(cl), err, errlen, "%s has no server "
		    "(expected e.g. server: https://host:443)", what);
		return -1;
	}
	if (strncasecmp(s, "https://", 8) != 0 && strncasecmp(s, "http://", 7) != 0) {
		yj_errorf(f->doc, get_node(cl->body, "server"), err, errlen,
		    "%s: server \"%s\" is not an https:// URL", what,
		    shown(s, nb, sizeof nb));
		return -1;
	}
	if ((t->server = strdup(s)) == NULL)
		goto oom;
	if ((node = get_node(cl->body, "proxy-url")) != NULL &&
	    get_str(cl->body, "proxy-url") != NULL) {
		yj_errorf(f->doc, node, err, errlen, "%s: proxy-url is set, but "
		    "bgswitch cannot connect through a proxy; remove it to "
		    "connect directly", what);
		return -1;
	}
	if ((s = get_str(cl->body, "tls-server-name")) != NULL &&
	    (t->tls_server_name = strdup(s)) == NULL)
		goto oom;
	t->insecure = cJSON_IsTrue(get_node(cl->body,
	    "insecure-skip-tls-verify"));
	rc = load_pem(cl, "certificate-authority-data", "certificate-authority",
	    what, &t->ca_pem, &t->ca_len, err, errlen);
	if (rc < 0)
		return -1;
	if (t->insecure && rc > 0) {
		/* kubectl refuses this combination too: which one was meant? */
		yj_errorf(f->doc, get_node(cl->body, "insecure-skip-tls-verify"),
		    err, errlen, "%s: insecure-skip-tls-verify is true but a "
		    "certificate authority is also given; remove one of them",
		    what);
		return -1;
	}
	if (t->insecure)
		snprintf(t->warning, sizeof t->warning, "%s (%s) sets "
		    "insecure-skip-tls-verify: the API server's certificate is "
		    "not verified", what, f->name);
	return 0;
oom:
	return errf(err, errlen, "%s: out of memory", f->name);
}

/* The cluster's "client.authentication.k8s.io/exec" extension, which
 * client-go passes to the plugin as spec.cluster.config. */
static char *
exec_extension(const struct kc_entry *cl, int *oom)
{
	const cJSON *list = get_node(cl->body, "extensions"), *it, *ext;
	const char *name;
	char *s;

	*oom = 0;
	cJSON_ArrayForEach(it, list) {
		name = get_str(it, "name");
		if (name == NULL || strcmp(name, EXEC_EXTENSION) != 0)
			continue;
		ext = cJSON_GetObjectItemCaseSensitive(it, "extension");
		if (ext == NULL)
			return NULL;
		s = cJSON_PrintUnformatted(ext);
		*oom = s == NULL;
		return s;
	}
	return NULL;
}

static int
build_exec(const struct kc_entry *u, const struct kc_entry *cl,
    const struct kubeconfig_target *t, struct kube_exec_config **out,
    char *err, size_t errlen)
{
	const struct kc_file *f = u->file;
	const cJSON *ex = get_node(u->body, "exec"), *list, *it;
	struct kube_exec_config *c;
	const char *command, *api, *mode, *s;
	char what[128], nb[80];
	size_t i;
	int oom;

	*out = NULL;
	snprintf(what, sizeof what, "user \"%s\": exec", shown(u->name, nb,
	    sizeof nb));
	if ((command = get_str(ex, "command")) == NULL) {
		yj_errorf(f->doc, ex, err, errlen, "%s: command is missing", what);
		return -1;
	}
	if ((api = get_str(ex, "apiVersion")) == NULL) {
		yj_errorf(f->doc, ex, err, errlen, "%s: apiVersion is missing "
		    "(expected %s)", what, KUBE_EXEC_API_V1);
		return -1;
	}
	if (strcmp(api, KUBE_EXEC_API_V1) != 0 &&
	    strcmp(api, KUBE_EXEC_API_V1BETA1) != 0) {
		yj_errorf(f->doc, get_node(ex, "apiVersion"), err, errlen,
		    "%s: apiVersion \"%s\" is not supported; expected %s or %s",
		    what, shown(api, nb, sizeof nb), KUBE_EXEC_API_V1,
		    KUBE_EXEC_API_V1BETA1);
		return -1;
	}
	if ((c = calloc(1, sizeof *c)) == NULL)
		goto oom;
	/* client-go's defaulting: v1beta1 falls back to IfAvailable, v1
	 * makes the kubeconfig say it. */
	mode = get_str(ex, "interactiveMode");
	if (mode == NULL && strcmp(api, KUBE_EXEC_API_V1) == 0) {
		yj_errorf(f->doc, ex, err, errlen, "%s: interactiveMode is "
		    "required with %s (Never, IfAvailable or Always)", what, api);
		goto fail;
	}
	if (mode == NULL || strcmp(mode, "IfAvailable") == 0)
		c->interactive_mode = KUBE_EXEC_IF_AVAILABLE;
	else if (strcmp(mode, "Never") == 0)
		c->interactive_mode = KUBE_EXEC_NEVER;
	else if (strcmp(mode, "Always") == 0)
		c->interactive_mode = KUBE_EXEC_ALWAYS;
	else {
		yj_errorf(f->doc, get_node(ex, "interactiveMode"), err, errlen,
		    "%s: interactiveMode \"%s\" is not Never, IfAvailable or "
		    "Always", what, shown(mode, nb, sizeof nb));
		goto fail;
	}
	if ((c->api_version = strdup(api)) == NULL)
		goto oom;
	/* As client-go's ResolvePaths: only a command with a slash is a path
	 * (relative to this file); a bare name is looked up in PATH. */
	if (strchr(command, '/') != NULL) {
		c->command = resolve_path(f, get_node(ex, "command"), command,
		    what, err, errlen);
		if (c->command == NULL)
			goto fail;
	} else if ((c->command = strdup(command)) == NULL)
		goto oom;
	list = get_node(ex, "args");
	if (cJSON_IsArray(list) && cJSON_GetArraySize(list) > 0) {
		c->args = calloc((size_t)cJSON_GetArraySize(list), sizeof *c->args);
		if (c->args == NULL)
			goto oom;
		cJSON_ArrayForEach(it, list)
			if ((c->args[c->nargs++] = strdup(it->valuestring)) == NULL)
				goto oom;
	}
	list = get_node(ex, "env");
	if (cJSON_IsArray(list) && cJSON_GetArraySize(list) > 0) {
		c->env = calloc((size_t)cJSON_GetArraySize(list), sizeof *c->env);
		if (c->env == NULL)
			goto oom;
		i = 0;
		cJSON_ArrayForEach(it, list) {
			if ((s = get_str(it, "name")) == NULL ||
			    strchr(s, '=') != NULL) {
				yj_errorf(f->doc, it, err, errlen, "%s: env[%zu]: %s",
				    what, i, s == NULL ? "name is missing" :
				    "name contains '='");
				goto fail;
			}
			c->env[c->nenv].name = strdup(s);
			s = get_str(it, "value");
			c->env[c->nenv].value = strdup(s != NULL ? s : "");
			if (c->env[c->nenv].name == NULL ||
			    c->env[c->nenv++].value == NULL)
				goto oom;
			i++;
		}
	}
	if ((s = get_str(ex, "installHint")) != NULL &&
	    (c->install_hint = strdup(s)) == NULL)
		goto oom;
	c->provide_cluster_info = cJSON_IsTrue(get_node(ex,
	    "provideClusterInfo"));
	/* The cluster as client-go describes it to the plugin.  Kept even
	 * without provideClusterInfo: it is part of the cache key, so two
	 * clusters never share a credential. */
	if ((c->cluster.server = strdup(t->server)) == NULL)
		goto oom;
	if (t->tls_server_name != NULL &&
	    (c->cluster.tls_server_name = strdup(t->tls_server_name)) == NULL)
		goto oom;
	c->cluster.insecure_skip_tls_verify = t->insecure;
	if (t->ca_pem != NULL) {
		if ((c->cluster.ca_pem = malloc(t->ca_len + 1)) == NULL)
			goto oom;
		memcpy(c->cluster.ca_pem, t->ca_pem, t->ca_len);
		c->cluster.ca_pem[t->ca_len] = '\0';
		c->cluster.ca_len = t->ca_len;
	}
	c->cluster.config_json = exec_extension(cl, &oom);
	if (oom)
		goto oom;
	*out = c;
	return 0;
oom:
	errf(err, errlen, "%s: out of memory", f->name);
fail:
	kube_exec_config_free(c);
	return -1;
}

static int
resolve_user(const struct kc_entry *u, const struct kc_entry *cl,
    struct kubeconfig_target *t, char *err, size_t errlen)
{
	static const char *const imperson[] = { "as", "as-uid", "as-groups",
	    "as-user-extra" };
	const struct kc_file *f = u->file;
	const cJSON *node, *ex;
	const char *s, *tf;
	char what[128], nb[80], why[512], *path;
	size_t i;
	int rc;

	snprintf(what, sizeof what, "user \"%s\"", shown(u->name, nb, sizeof nb));
	if ((node = get_node(u->body, "auth-provider")) != NULL) {
		s = get_str(node, "name");
		yj_errorf(f->doc, node, err, errlen, "%s: auth-provider%s%s%s is "
		    "not supported (client-go removed it); convert the kubeconfig "
		    "with \"kubelogin convert-kubeconfig -l azurecli\" to use "
		    "kubelogin", what, s ? " \"" : "", s ? shown(s, nb, sizeof nb) :
		    "", s ? "\"" : "");
		return -1;
	}
	if ((node = get_node(u->body, "username")) != NULL ||
	    (node = get_node(u->body, "password")) != NULL) {
		yj_errorf(f->doc, node, err, errlen, "%s: username/password "
		    "(basic authentication) is not supported; Kubernetes API "
		    "servers no longer accept it", what);
		return -1;
	}
	for (i = 0; i < sizeof imperson / sizeof imperson[0]; i++)
		if ((node = get_node(u->body, imperson[i])) != NULL) {
			yj_errorf(f->doc, node, err, errlen, "%s: impersonation "
			    "(%s) is not supported; bgswitch would act as another "
			    "identity than the one it checked", what, imperson[i]);
			return -1;
		}
	ex = get_node(u->body, "exec");
	s = get_str(u->body, "token");
	tf = get_str(u->body, "tokenFile");
	if (ex != NULL && (s != NULL || tf != NULL)) {
		yj_errorf(f->doc, ex, err, errlen, "%s sets both exec and %s; "
		    "keep one way to get a token", what, s ? "token" : "tokenFile");
		return -1;
	}
	/* client-go: tokenFile, when set, takes precedence over token. */
	if (tf != NULL) {
		node = get_node(u->body, "tokenFile");
		if ((path = resolve_path(f, node, tf, what, err, errlen)) == NULL)
			return -1;
		t->token_file = path;
		if (kubeconfig_read_token_file(path, &t->token, why,
		    sizeof why) < 0) {
			yj_errorf(f->doc, node, err, errlen, "%s: tokenFile: %s",
			    what, why);
			return -1;
		}
	} else if (s != NULL) {
		if (!token_ok(s)) {
			yj_errorf(f->doc, get_node(u->body, "token"), err, errlen,
			    "%s: token holds control characters (a line break?)",
			    what);
			return -1;
		}
		if ((t->token = strdup(s)) == NULL)
			return errf(err, errlen, "%s: out of memory", f->name);
	}
	rc = load_pem(u, "client-certificate-data", "client-certificate", what,
	    &t->cert_pem, &t->cert_len, err, errlen);
	if (rc < 0)
		return -1;
	rc = load_pem(u, "client-key-data", "client-key", what, &t->key_pem,
	    &t->key_len, err, errlen);
	if (rc < 0)
		return -1;
	if ((t->cert_pem == NULL) != (t->key_pem == NULL)) {
		yj_errorf(f->doc, blame(u), err, errlen, "%s has a client %s but "
		    "no client %s", what, t->cert_pem ? "certificate" : "key",
		    t->cert_pem ? "key (client-key or client-key-data)" :
		    "certificate (client-certificate or client-certificate-data)");
		return -1;
	}
	if (ex != NULL && build_exec(u, cl, t, &t->exec, err, errlen) < 0)
		return -1;
	return 0;
}

int
kubeconfig_resolve(const struct kubeconfig *kc, const char *context,
    struct kubeconfig_target *t, char *err, size_t errlen)
{
	const struct kc_entry *ctx, *cl, *u = NULL;
	const char *name, *cname, *uname, *ns;
	char names[KC_NAMES_SHOWN], nb[80], nb2[80];

	memset(t, 0, sizeof *t);
	if (kc == NULL)
		return errf(err, errlen, "kubeconfig: nothing loaded");
	name = context != NULL && *context != '\0' ? context : kc->current;
	if (name == NULL)
		return errf(err, errlen, "%s: no context given and "
		    "current-context is not set; contexts: %s", kc->origin,
		    list_names(&kc->contexts, names, sizeof names));
	if ((ctx = list_find(&kc->contexts, name)) == NULL) {
		if (name == kc->current)
			yj_errorf(kc->current_file->doc, kc->current_node, err,
			    errlen, "current-context \"%s\" names no context; "
			    "contexts: %s", shown(name, nb, sizeof nb),
			    list_names(&kc->contexts, names, sizeof names));
		else
			errf(err, errlen, "%s: unknown context \"%s\"; contexts: %s",
			    kc->origin, shown(name, nb, sizeof nb),
			    list_names(&kc->contexts, names, sizeof names));
		return -1;
	}
	if ((cname = get_str(ctx->body, "cluster")) == NULL) {
		yj_errorf(ctx->file->doc, blame(ctx), err, errlen, "context "
		    "\"%s\" names no cluster", shown(name, nb, sizeof nb));
		return -1;
	}
	if ((cl = list_find(&kc->clusters, cname)) == NULL) {
		yj_errorf(ctx->file->doc, get_node(ctx->body, "cluster"), err,
		    errlen, "context \"%s\" names cluster \"%s\", which is not "
		    "defined; clusters: %s", shown(name, nb, sizeof nb),
		    shown(cname, nb2, sizeof nb2),
		    list_names(&kc->clusters, names, sizeof names));
		return -1;
	}
	if ((uname = get_str(ctx->body, "user")) != NULL &&
	    (u = list_find(&kc->users, uname)) == NULL) {
		yj_errorf(ctx->file->doc, get_node(ctx->body, "user"), err,
		    errlen, "context \"%s\" names user \"%s\", which is not "
		    "defined; users: %s", shown(name, nb, sizeof nb),
		    shown(uname, nb2, sizeof nb2),
		    list_names(&kc->users, names, sizeof names));
		return -1;
	}
	ns = get_str(ctx->body, "namespace");
	if ((t->source = strdup(ctx->file->name)) == NULL ||
	    (t->context = strdup(name)) == NULL ||
	    (t->cluster_name = strdup(cname)) == NULL ||
	    (uname != NULL && (t->user_name = strdup(uname)) == NULL) ||
	    (ns != NULL && (t->namespace = strdup(ns)) == NULL)) {
		errf(err, errlen, "%s: out of memory", kc->origin);
		goto fail;
	}
	if (resolve_cluster(cl, t, err, errlen) < 0 ||
	    (u != NULL && resolve_user(u, cl, t, err, errlen) < 0))
		goto fail;
	return 0;
fail:
	kubeconfig_target_free(t);
	return -1;
}

void
kubeconfig_target_free(struct kubeconfig_target *t)
{
	if (t == NULL)
		return;
	free(t->source);
	free(t->context);
	free(t->cluster_name);
	free(t->user_name);
	free(t->namespace);
	free(t->server);
	free(t->tls_server_name);
	free(t->ca_pem);
	wipe_free(t->cert_pem, t->cert_len);
	wipe_free(t->key_pem, t->key_len);
	wipe_str(t->token);
	free(t->token_file);
	kube_exec_config_free(t->exec);
	memset(t, 0, sizeof *t);
}
