/*
 * sim_kube_patch.c — the ways a client can change an object short of
 * replacing it: JSON merge patch (RFC 7386), strategic merge patch, JSON
 * patch (RFC 6902), and server-side apply with its managedFields.
 *
 * Strategic merge patch is merge patch plus what kubectl relies on: lists
 * whose items carry a merge key (containers by name, ports by port, env by
 * name, conditions by type, ...) merge item by item, and the $patch,
 * $setElementOrder, $retainKeys and $deleteFromPrimitiveList directives are
 * understood (the first two fully, the others by being dropped or applied
 * simply).  The merge keys come from a table by field name rather than from
 * the OpenAPI schema; the fields that share a name across types share a key
 * in Kubernetes too.
 *
 * Server-side apply keeps one field set (the FieldsV1 shape: "f:name",
 * "k:{\"name\":\"web\"}", ".") per manager and operation in
 * metadata.managedFields.  What is modelled:
 *   - applying sets the fields of the configuration, merging maps and keyed
 *     lists into the live object, other lists atomically;
 *   - a field the applier owned before and no longer applies is removed,
 *     unless another manager owns it too;
 *   - applying a value different from the live one to a field another
 *     manager owns is a conflict (409) unless force=true, which takes the
 *     field over;
 *   - an Update (PUT, non-apply PATCH, controllers) takes ownership of the
 *     fields it changed from everyone else.
 * Not modelled: per-type defaulting of the applied configuration, sets
 * ("v:" entries; scalar lists are atomic here), and version conversion of
 * field sets.
 */
#include "sim/sim_kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- equality -------------------------------------------------------------------- */

int
sim_kube_json_equal(const cJSON *a, const cJSON *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return cJSON_Compare(a, b, 1);
}

/* ---- merge keys --------------------------------------------------------------------- */

/* The merge key of list FIELD whose items look like SAMPLE, or NULL when the
 * list is replaced as a whole. */
static const char *
merge_key(const char *field, const cJSON *sample)
{
	static const struct { const char *field, *key; } keys[] = {
		{ "containers", "name" }, { "initContainers", "name" }, { "ephemeralContainers", "name" },
		{ "env", "name" }, { "volumes", "name" }, { "volumeMounts", "mountPath" },
		{ "volumeDevices", "devicePath" }, { "imagePullSecrets", "name" },
		{ "conditions", "type" }, { "hostAliases", "ip" }, { "addresses", "type" },
		{ "ownerReferences", "uid" }, { "taints", "key" },
		{ "topologySpreadConstraints", "topologyKey" }, { "containerStatuses", "name" },
		{ "initContainerStatuses", "name" }, { "resourceClaims", "name" },
	};

	if (field == NULL || !cJSON_IsObject(sample))
		return NULL;
	if (strcmp(field, "ports") == 0) {
		/* container ports merge by containerPort, service ports by port */
		if (cJSON_GetObjectItemCaseSensitive(sample, "containerPort") != NULL)
			return "containerPort";
		return cJSON_GetObjectItemCaseSensitive(sample, "port") != NULL ? "port" : NULL;
	}
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(keys[i].field, field) == 0)
			return cJSON_GetObjectItemCaseSensitive(sample, keys[i].key) != NULL ? keys[i].key : NULL;
	return NULL;
}

static cJSON *
find_keyed(const cJSON *arr, const char *key, const cJSON *val)
{
	cJSON *it;

	cJSON_ArrayForEach(it, arr) {
		if (sim_kube_json_equal(cJSON_GetObjectItemCaseSensitive(it, key), val))
			return it;
	}
	return NULL;
}

/* ---- merge patch ------------------------------------------------------------------ */

cJSON *
sim_kube_merge_patch(cJSON *target, const cJSON *patch)
{
	const cJSON *p;

	if (!cJSON_IsObject(patch)) {
		cJSON_Delete(target);
		return cJSON_Duplicate(patch, 1);
	}
	if (!cJSON_IsObject(target)) {
		cJSON_Delete(target);
		target = cJSON_CreateObject();
	}
	cJSON_ArrayForEach(p, patch) {
		if (cJSON_IsNull(p)) {
			cJSON_DeleteItemFromObjectCaseSensitive(target, p->string);
		} else {
			cJSON *cur = cJSON_DetachItemFromObjectCaseSensitive(target, p->string);
			cJSON_AddItemToObject(target, p->string, sim_kube_merge_patch(cur, p));
		}
	}
	return target;
}

/* ---- strategic merge patch ------------------------------------------------------------ */

static cJSON *smp(cJSON *target, const cJSON *patch);

static void
smp_list(cJSON *target_obj, const char *field, const cJSON *plist)
{
	cJSON *tl = cJSON_GetObjectItemCaseSensitive(target_obj, field);
	const cJSON *first = cJSON_GetArrayItem(plist, 0), *it;
	const char *key = merge_key(field, first);

	if (key == NULL || !cJSON_IsArray(tl)) {
		/* replaced as a whole; directives in its items are dropped */
		cJSON *copy = cJSON_CreateArray();
		cJSON_ArrayForEach(it, plist) {
			if (cJSON_IsObject(it) && cJSON_GetObjectItemCaseSensitive(it, "$patch") != NULL)
				continue;
			cJSON_AddItemToArray(copy, cJSON_Duplicate(it, 1));
		}
		sim_kube_jset(target_obj, field, copy);
		return;
	}
	cJSON_ArrayForEach(it, plist) {
		const cJSON *kv = cJSON_GetObjectItemCaseSensitive(it, key);
		const char *dir = sim_kube_jstr(it, "$patch");
		cJSON *found = kv != NULL ? find_keyed(tl, key, kv) : NULL;

		if (strcmp(dir, "replace") == 0) {
			/* the whole list becomes the patch's items */
			cJSON *copy = cJSON_CreateArray();
			const cJSON *x;
			cJSON_ArrayForEach(x, plist) {
				cJSON *d = cJSON_Duplicate(x, 1);
				cJSON_DeleteItemFromObjectCaseSensitive(d, "$patch");
				if (cJSON_GetArraySize(d) > 0)
					cJSON_AddItemToArray(copy, d);
				else
					cJSON_Delete(d);
			}
			sim_kube_jset(target_obj, field, copy);
			return;
		}
		if (strcmp(dir, "delete") == 0) {
			if (found != NULL)
				cJSON_Delete(cJSON_DetachItemViaPointer(tl, found));
			continue;
		}
		if (found != NULL) {
			/* merged in place, keeping the list's order */
			cJSON *merged = smp(cJSON_Duplicate(found, 1), it);
			cJSON_ReplaceItemViaPointer(tl, found, merged);
		} else {
			cJSON_AddItemToArray(tl, smp(NULL, it));
		}
	}
}

static cJSON *
smp(cJSON *target, const cJSON *patch)
{
	const cJSON *p;
	const char *dir;

	if (!cJSON_IsObject(patch)) {
		cJSON_Delete(target);
		return cJSON_Duplicate(patch, 1);
	}
	dir = sim_kube_jstr(patch, "$patch");
	if (strcmp(dir, "replace") == 0) {
		cJSON *copy = cJSON_Duplicate(patch, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "$patch");
		cJSON_Delete(target);
		return copy;
	}
	if (!cJSON_IsObject(target)) {
		cJSON_Delete(target);
		target = cJSON_CreateObject();
	}
	cJSON_ArrayForEach(p, patch) {
		if (strcmp(p->string, "$patch") == 0 || strncmp(p->string, "$setElementOrder/", 17) == 0
		    || strcmp(p->string, "$retainKeys") == 0)
			continue;
		if (strncmp(p->string, "$deleteFromPrimitiveList/", 25) == 0) {
			cJSON *tl = cJSON_GetObjectItemCaseSensitive(target, p->string + 25);
			const cJSON *v;
			cJSON_ArrayForEach(v, p) {
				for (int i = cJSON_GetArraySize(tl) - 1; i >= 0; i--)
					if (sim_kube_json_equal(cJSON_GetArrayItem(tl, i), v))
						cJSON_DeleteItemFromArray(tl, i);
			}
			continue;
		}
		if (cJSON_IsNull(p)) {
			cJSON_DeleteItemFromObjectCaseSensitive(target, p->string);
		} else if (cJSON_IsObject(p) && strcmp(sim_kube_jstr(p, "$patch"), "delete") == 0) {
			cJSON_DeleteItemFromObjectCaseSensitive(target, p->string);
		} else if (cJSON_IsArray(p)) {
			smp_list(target, p->string, p);
		} else {
			cJSON *cur = cJSON_DetachItemFromObjectCaseSensitive(target, p->string);
			cJSON_AddItemToObject(target, p->string, smp(cur, p));
		}
	}
	return target;
}

cJSON *
sim_kube_strategic_patch(cJSON *target, const cJSON *patch)
{
	return smp(target, patch);
}

/* ---- JSON patch -------------------------------------------------------------------- */

/* Decodes one JSON pointer token (~1 is '/', ~0 is '~'). */
static void
ptr_token(const char *s, size_t n, char *out, size_t outlen)
{
	size_t j = 0;

	for (size_t i = 0; i < n && j + 1 < outlen; i++) {
		if (s[i] == '~' && i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
			out[j++] = s[i + 1] == '0' ? '~' : '/';
			i++;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
}

/* Finds the parent of pointer PATH in ROOT and its last token. */
static cJSON *
ptr_parent(cJSON *root, const char *path, char *last, size_t lastlen)
{
	cJSON *cur = root;
	const char *p = path;

	if (*p != '/')
		return NULL;
	for (;;) {
		const char *next = strchr(p + 1, '/');
		char tok[512];

		if (next == NULL) {
			ptr_token(p + 1, strlen(p + 1), last, lastlen);
			return cur;
		}
		ptr_token(p + 1, (size_t)(next - p - 1), tok, sizeof tok);
		if (cJSON_IsArray(cur)) {
			char *end;
			long i = strtol(tok, &end, 10);
			if (*end != '\0' || i < 0)
				return NULL;
			cur = cJSON_GetArrayItem(cur, (int)i);
		} else if (cJSON_IsObject(cur)) {
			cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
		} else {
			return NULL;
		}
		if (cur == NULL)
			return NULL;
		p = next;
	}
}

static cJSON *
ptr_get(cJSON *root, const char *path)
{
	char last[512];
	cJSON *par;

	if (path[0] == '\0')
		return root;
	par = ptr_parent(root, path, last, sizeof last);
	if (cJSON_IsArray(par)) {
		char *end;
		long i = strtol(last, &end, 10);
		return *end == '\0' && i >= 0 ? cJSON_GetArrayItem(par, (int)i) : NULL;
	}
	return cJSON_IsObject(par) ? cJSON_GetObjectItemCaseSensitive(par, last) : NULL;
}

static cJSON *
ptr_detach(cJSON *root, const char *path)
{
	char last[512];
	cJSON *par = ptr_parent(root, path, last, sizeof last);

	if (cJSON_IsArray(par)) {
		char *end;
		long i = strtol(last, &end, 10);
		if (*end != '\0' || i < 0 || i >= cJSON_GetArraySize(par))
			return NULL;
		return cJSON_DetachItemFromArray(par, (int)i);
	}
	return cJSON_IsObject(par) ? cJSON_DetachItemFromObjectCaseSensitive(par, last) : NULL;
}

static int
ptr_add(cJSON *root, const char *path, cJSON *val, int replace)
{
	char last[512];
	cJSON *par = ptr_parent(root, path, last, sizeof last);

	if (cJSON_IsArray(par)) {
		int n = cJSON_GetArraySize(par);
		char *end;
		long i;

		if (strcmp(last, "-") == 0 && !replace) {
			cJSON_AddItemToArray(par, val);
			return 0;
		}
		i = strtol(last, &end, 10);
		if (*end != '\0' || i < 0 || i > n || (replace && i == n))
			return -1;
		if (replace)
			cJSON_ReplaceItemInArray(par, (int)i, val);
		else if (i == n)
			cJSON_AddItemToArray(par, val);
		else
			cJSON_InsertItemInArray(par, (int)i, val);
		return 0;
	}
	if (!cJSON_IsObject(par))
		return -1;
	if (replace && cJSON_GetObjectItemCaseSensitive(par, last) == NULL)
		return -1;
	sim_kube_jset(par, last, val);
	return 0;
}

cJSON *
sim_kube_json_patch(cJSON *target, const cJSON *ops, char *err, size_t errlen)
{
	const cJSON *op;

	if (!cJSON_IsArray(ops)) {
		snprintf(err, errlen, "a JSON patch must be an array of operations");
		cJSON_Delete(target);
		return NULL;
	}
	cJSON_ArrayForEach(op, ops) {
		const char *name = sim_kube_jstr(op, "op"), *path = sim_kube_jstr(op, "path");
		const char *from = sim_kube_jstr(op, "from");
		const cJSON *value = cJSON_GetObjectItemCaseSensitive(op, "value");
		int rc = 0;

		if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0) {
			cJSON *v = cJSON_Duplicate(value, 1);
			if (value == NULL || ptr_add(target, path, v, name[0] == 'r') != 0) {
				cJSON_Delete(v);
				rc = -1;
			}
		} else if (strcmp(name, "remove") == 0) {
			cJSON *v = ptr_detach(target, path);
			rc = v != NULL ? 0 : -1;
			cJSON_Delete(v);
		} else if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
			cJSON *v = name[0] == 'm' ? ptr_detach(target, from)
			    : cJSON_Duplicate(ptr_get(target, from), 1);
			if (v == NULL || ptr_add(target, path, v, 0) != 0) {
				cJSON_Delete(v);
				rc = -1;
			}
		} else if (strcmp(name, "test") == 0) {
			if (!sim_kube_json_equal(ptr_get(target, path), value)) {
				snprintf(err, errlen, "testing value %s failed", path);
				cJSON_Delete(target);
				return NULL;
			}
		} else {
			snprintf(err, errlen, "Unexpected kind: %s", name);
			cJSON_Delete(target);
			return NULL;
		}
		if (rc != 0) {
			snprintf(err, errlen, "%s operation does not apply: doc is missing path: \"%s\"",
			    name, name[0] == 'm' || name[0] == 'c' ? from : path);
			cJSON_Delete(target);
			return NULL;
		}
	}
	return target;
}

/* ---- field sets ------------------------------------------------------------------------ */

/* Members of an object that are not the user's to own. */
static int
system_field(int depth, const char *parent, const char *name)
{
	static const char *const meta[] = {
		"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
		"deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink",
	};

	if (depth == 0)
		return strcmp(name, "apiVersion") == 0 || strcmp(name, "kind") == 0;
	if (depth == 1 && strcmp(parent, "metadata") == 0) {
		for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
			if (strcmp(meta[i], name) == 0)
				return 1;
	}
	return 0;
}

/* Maps whose members are keys chosen by users get a "." entry, the way
 * structured-merge-diff marks granular maps. */
static int
granular_map(const char *name)
{
	static const char *const maps[] = {
		"labels", "annotations", "data", "stringData", "binaryData", "matchLabels",
		"nodeSelector", "selector", "limits", "requests", "capacity", "allocatable",
	};

	for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
		if (strcmp(maps[i], name) == 0)
			return 1;
	return 0;
}

static void
kname(char *buf, size_t n, const char *key, const cJSON *val)
{
	char *v = cJSON_PrintUnformatted(val);

	snprintf(buf, n, "k:{\"%s\":%s}", key, v != NULL ? v : "null");
	free(v);
}

static cJSON *fs_of_value(const char *name, const cJSON *v);

/* The field set of the members of object OBJ; DOT marks the object
 * itself as owned (a "." entry, first as structured-merge-diff sorts it). */
static cJSON *
fs_of_object_dot(const cJSON *obj, int depth, const char *parent, int dot)
{
	cJSON *fs = cJSON_CreateObject();
	const cJSON *m;
	char fname[512];

	if (dot)
		cJSON_AddItemToObject(fs, ".", cJSON_CreateObject());
	cJSON_ArrayForEach(m, obj) {
		if (system_field(depth, parent, m->string))
			continue;
		if (depth == 0 && strcmp(m->string, "metadata") == 0) {
			cJSON *sub = fs_of_object_dot(m, 1, "metadata", 0);
			if (cJSON_GetArraySize(sub) > 0)
				cJSON_AddItemToObject(fs, "f:metadata", sub);
			else
				cJSON_Delete(sub);
			continue;
		}
		snprintf(fname, sizeof fname, "f:%s", m->string);
		cJSON_AddItemToObject(fs, fname, fs_of_value(m->string, m));
	}
	return fs;
}

static cJSON *
fs_of_object(const cJSON *obj, int depth, const char *parent)
{
	return fs_of_object_dot(obj, depth, parent, 0);
}

static cJSON *
fs_of_value(const char *name, const cJSON *v)
{
	if (cJSON_IsObject(v) && cJSON_GetArraySize(v) > 0)
		return fs_of_object_dot(v, 2, name, granular_map(name));
	if (cJSON_IsArray(v) && merge_key(name, cJSON_GetArrayItem(v, 0)) != NULL) {
		const char *key = merge_key(name, cJSON_GetArrayItem(v, 0));
		cJSON *sub = cJSON_CreateObject();
		const cJSON *it;
		char kn[512];

		cJSON_ArrayForEach(it, v) {
			cJSON *isub;
			if (!cJSON_IsObject(it))
				continue;
			kname(kn, sizeof kn, key, cJSON_GetObjectItemCaseSensitive(it, key));
			isub = fs_of_object_dot(it, 2, name, 1);
			if (cJSON_GetObjectItemCaseSensitive(sub, kn) == NULL)
				cJSON_AddItemToObject(sub, kn, isub);
			else
				cJSON_Delete(isub);
		}
		return sub;
	}
	return cJSON_CreateObject();	/* a leaf */
}

/* The field set of what differs between NEWV and OLDV, NULL when nothing
 * does. */
static cJSON *fs_diff_value(const char *name, const cJSON *newv, const cJSON *oldv);

static cJSON *
fs_diff_object(const cJSON *newo, const cJSON *oldo, int depth, const char *parent)
{
	cJSON *fs = cJSON_CreateObject();
	const cJSON *m;
	char fname[512];

	cJSON_ArrayForEach(m, newo) {
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(oldo, m->string);
		cJSON *sub;

		if (system_field(depth, parent, m->string))
			continue;
		if (depth == 0 && strcmp(m->string, "metadata") == 0) {
			sub = fs_diff_object(m, o, 1, "metadata");
			if (sub != NULL)
				cJSON_AddItemToObject(fs, "f:metadata", sub);
			continue;
		}
		sub = fs_diff_value(m->string, m, o);
		if (sub != NULL) {
			snprintf(fname, sizeof fname, "f:%s", m->string);
			cJSON_AddItemToObject(fs, fname, sub);
		}
	}
	if (cJSON_GetArraySize(fs) == 0) {
		cJSON_Delete(fs);
		return NULL;
	}
	return fs;
}

static cJSON *
fs_diff_value(const char *name, const cJSON *newv, const cJSON *oldv)
{
	if (oldv == NULL)
		return fs_of_value(name, newv);
	if (sim_kube_json_equal(newv, oldv))
		return NULL;
	if (cJSON_IsObject(newv) && cJSON_IsObject(oldv) && cJSON_GetArraySize(newv) > 0)
		return fs_diff_object(newv, oldv, 2, name);
	if (cJSON_IsArray(newv) && cJSON_IsArray(oldv) && merge_key(name, cJSON_GetArrayItem(newv, 0)) != NULL) {
		const char *key = merge_key(name, cJSON_GetArrayItem(newv, 0));
		cJSON *fs = cJSON_CreateObject();
		const cJSON *it;
		char kn[512];

		cJSON_ArrayForEach(it, newv) {
			const cJSON *kv = cJSON_GetObjectItemCaseSensitive(it, key);
			cJSON *o = find_keyed(oldv, key, kv), *sub;

			if (o == NULL) {
				sub = fs_of_object_dot(it, 2, name, 1);
			} else {
				sub = fs_diff_object(it, o, 2, name);
			}
			if (sub != NULL) {
				kname(kn, sizeof kn, key, kv);
				if (cJSON_GetObjectItemCaseSensitive(fs, kn) == NULL)
					cJSON_AddItemToObject(fs, kn, sub);
				else
					cJSON_Delete(sub);
			}
		}
		if (cJSON_GetArraySize(fs) == 0) {
			cJSON_Delete(fs);
			return cJSON_CreateObject();	/* items removed or reordered */
		}
		return fs;
	}
	return cJSON_CreateObject();
}

/* Removes from A everything B owns (B's leaves and whole subtrees where B
 * has a leaf).  Returns 1 when A became empty. */
static int
fs_subtract(cJSON *a, const cJSON *b)
{
	const cJSON *bm;

	cJSON_ArrayForEach(bm, b) {
		cJSON *am = cJSON_GetObjectItemCaseSensitive(a, bm->string);

		if (am == NULL)
			continue;
		if (cJSON_GetArraySize(bm) == 0 || strcmp(bm->string, ".") == 0) {
			if (strcmp(bm->string, ".") != 0 || cJSON_GetArraySize(am) == 0)
				cJSON_DeleteItemFromObjectCaseSensitive(a, bm->string);
			continue;
		}
		if (cJSON_GetArraySize(am) == 0)
			continue;	/* A owns it as a leaf; B only parts */
		if (fs_subtract(am, bm))
			cJSON_DeleteItemFromObjectCaseSensitive(a, bm->string);
	}
	/* only "." left: the structure without members is nobody's */
	if (cJSON_GetArraySize(a) == 1 && cJSON_GetObjectItemCaseSensitive(a, ".") != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(a, ".");
	return cJSON_GetArraySize(a) == 0;
}

/* Drops members left without fields (or with only "."); 1 when FS is
 * empty then. */
static int
fs_prune_empty(cJSON *fs)
{
	cJSON *m = fs != NULL ? fs->child : NULL;

	while (m != NULL) {
		cJSON *next = m->next;
		if (strcmp(m->string, ".") != 0 && cJSON_GetArraySize(m) > 0 && fs_prune_empty(m))
			cJSON_Delete(cJSON_DetachItemViaPointer(fs, m));
		m = next;
	}
	if (cJSON_GetArraySize(fs) == 1 && cJSON_GetObjectItemCaseSensitive(fs, ".") != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(fs, ".");
	return cJSON_GetArraySize(fs) == 0;
}

static void
fs_union(cJSON *a, const cJSON *b)
{
	const cJSON *bm;

	cJSON_ArrayForEach(bm, b) {
		cJSON *am = cJSON_GetObjectItemCaseSensitive(a, bm->string);

		if (am == NULL)
			cJSON_AddItemToObject(a, bm->string, cJSON_Duplicate(bm, 1));
		else
			fs_union(am, bm);
	}
}

/* The value in OBJ that field set path element NAME designates. */
static cJSON *
fs_step(cJSON *obj, const char *name)
{
	if (strncmp(name, "f:", 2) == 0)
		return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name + 2) : NULL;
	if (strncmp(name, "k:", 2) == 0 && cJSON_IsArray(obj)) {
		cJSON *keys = cJSON_Parse(name + 2), *it;
		const cJSON *k;

		cJSON_ArrayForEach(it, obj) {
			int ok = cJSON_IsObject(keys);
			cJSON_ArrayForEach(k, keys) {
				if (!sim_kube_json_equal(cJSON_GetObjectItemCaseSensitive(it, k->string), k))
					ok = 0;
			}
			if (ok) {
				cJSON_Delete(keys);
				return it;
			}
		}
		cJSON_Delete(keys);
	}
	return NULL;
}

/* ".spec.containers[name=\"web\"].image" from a path of field set names. */
static void
path_text(char *buf, size_t n, const char *const *names, int depth)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < depth && used < n; i++) {
		if (strncmp(names[i], "f:", 2) == 0) {
			used += (size_t)snprintf(buf + used, n - used, ".%s", names[i] + 2);
		} else if (strncmp(names[i], "k:", 2) == 0) {
			cJSON *k = cJSON_Parse(names[i] + 2);
			const cJSON *m = k != NULL ? k->child : NULL;
			char *v = m != NULL ? cJSON_PrintUnformatted(m) : NULL;
			used += (size_t)snprintf(buf + used, n - used, "[%s=%s]", m != NULL ? m->string : "?",
			    v != NULL ? v : "?");
			free(v);
			cJSON_Delete(k);
		}
	}
}

struct conflicts {
	char text[2048];		/* "- .spec.replicas" lines */
	size_t used;
	int n;
	char first[1200];		/* the first conflict, worded */
};

/* Walks the applied field set NEWFS against manager OTHER's set: a leaf
 * both own, whose applied value differs from the live one, conflicts.
 * With FORCE the leaf moves to the applier instead (removed from OTHER). */
static void
find_conflicts(cJSON *newfs, cJSON *other, cJSON *cfg, cJSON *live, int force, struct conflicts *cf,
    const char **names, int depth)
{
	cJSON *m;

	if (depth >= 60)
		return;
	cJSON_ArrayForEach(m, newfs) {
		cJSON *om = cJSON_GetObjectItemCaseSensitive(other, m->string);
		cJSON *cv, *lv;

		if (om == NULL || strcmp(m->string, ".") == 0)
			continue;
		cv = fs_step(cfg, m->string);
		lv = fs_step(live, m->string);
		names[depth] = m->string;
		if (cJSON_GetArraySize(m) == 0 || cJSON_GetArraySize(om) == 0) {
			if (sim_kube_json_equal(cv, lv))
				continue;
			if (force) {
				cJSON_DeleteItemFromObjectCaseSensitive(other, m->string);
				continue;
			}
			if (cf->used < sizeof cf->text) {
				char p[600];
				path_text(p, sizeof p, names, depth + 1);
				if (cf->n == 0)
					snprintf(cf->first, sizeof cf->first, "%s", p);
				cf->used += (size_t)snprintf(cf->text + cf->used, sizeof cf->text - cf->used,
				    "%s- %s", cf->n > 0 ? "\n" : "", p);
			}
			cf->n++;
			continue;
		}
		find_conflicts(m, om, cv, lv, force, cf, names, depth + 1);
	}
}

/* Removes from LIVE what OLDFS owned and NEWFS no longer does, unless one
 * of OTHERS (NOTHERS sets, each at the same position) owns it.  A field
 * the old set owned with members is pruned member by member (metadata is
 * never removed whole), and a map emptied that way goes too. */
static void
prune_removed(cJSON *live, const cJSON *oldfs, const cJSON *newfs, const cJSON **others,
    int nothers, int depth)
{
	static const cJSON empty_set = { .type = cJSON_Object };
	const cJSON *m;

	if (depth >= 60 || live == NULL)
		return;
	cJSON_ArrayForEach(m, oldfs) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(newfs, m->string);
		const cJSON *sub_others[32];
		int nsub = 0, owned = 0;
		cJSON *lv;

		if (strcmp(m->string, ".") == 0)
			continue;
		for (int i = 0; i < nothers && nsub < 32; i++) {
			const cJSON *o = cJSON_GetObjectItemCaseSensitive(others[i], m->string);
			if (o != NULL) {
				sub_others[nsub++] = o;
				owned = 1;
			}
		}
		lv = fs_step(live, m->string);
		if (lv == NULL)
			continue;
		if (cJSON_GetArraySize(m) > 1 || (cJSON_GetArraySize(m) == 1
		    && cJSON_GetObjectItemCaseSensitive(m, ".") == NULL)) {
			/* a subtree: prune inside it */
			prune_removed(lv, m, nm != NULL ? nm : &empty_set, sub_others, nsub, depth + 1);
			if (nm == NULL && !owned && cJSON_IsObject(lv) && cJSON_GetArraySize(lv) == 0
			    && !(depth == 0 && strcmp(m->string, "f:metadata") == 0)) {
				if (strncmp(m->string, "f:", 2) == 0)
					cJSON_DeleteItemFromObjectCaseSensitive(live, m->string + 2);
				else
					cJSON_Delete(cJSON_DetachItemViaPointer(live, lv));
			}
			continue;
		}
		if (nm != NULL || owned)
			continue;
		if (strncmp(m->string, "f:", 2) == 0 && cJSON_IsObject(live))
			cJSON_DeleteItemFromObjectCaseSensitive(live, m->string + 2);
		else if (strncmp(m->string, "k:", 2) == 0 && cJSON_IsArray(live))
			cJSON_Delete(cJSON_DetachItemViaPointer(live, lv));
	}
}

/* Merges applied configuration CFG into LIVE (in place). */
static void
apply_merge(cJSON *live, const cJSON *cfg)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, cfg) {
		cJSON *lm = cJSON_GetObjectItemCaseSensitive(live, m->string);

		if (cJSON_IsNull(m)) {
			cJSON_DeleteItemFromObjectCaseSensitive(live, m->string);
		} else if (cJSON_IsObject(m) && cJSON_IsObject(lm)) {
			apply_merge(lm, m);
		} else if (cJSON_IsArray(m) && cJSON_IsArray(lm)
		    && merge_key(m->string, cJSON_GetArrayItem(m, 0)) != NULL) {
			const char *key = merge_key(m->string, cJSON_GetArrayItem(m, 0));
			const cJSON *it;
			cJSON *out = cJSON_CreateArray();

			/* the applied order, then live items it does not name */
			cJSON_ArrayForEach(it, m) {
				cJSON *found = find_keyed(lm, key, cJSON_GetObjectItemCaseSensitive(it, key));
				cJSON *copy = found != NULL ? cJSON_Duplicate(found, 1) : cJSON_CreateObject();
				apply_merge(copy, it);
				cJSON_AddItemToArray(out, copy);
			}
			cJSON_ArrayForEach(it, lm) {
				if (find_keyed(m, key, cJSON_GetObjectItemCaseSensitive(it, key)) == NULL)
					cJSON_AddItemToArray(out, cJSON_Duplicate(it, 1));
			}
			sim_kube_jset(live, m->string, out);
		} else {
			sim_kube_jset(live, m->string, cJSON_Duplicate(m, 1));
		}
	}
}

static cJSON *
mf_entry(const char *manager, const char *op, const char *av, const char *sub, cJSON *fs)
{
	cJSON *e = cJSON_CreateObject();
	char now[40];

	sim_kube_now_str(now, sizeof now);
	cJSON_AddStringToObject(e, "manager", manager);
	cJSON_AddStringToObject(e, "operation", op);
	cJSON_AddStringToObject(e, "apiVersion", av);
	cJSON_AddStringToObject(e, "time", now);
	cJSON_AddStringToObject(e, "fieldsType", "FieldsV1");
	cJSON_AddItemToObject(e, "fieldsV1", fs);
	if (sub != NULL && sub[0] != '\0')
		cJSON_AddStringToObject(e, "subresource", sub);
	return e;
}

static int
mf_is(const cJSON *e, const char *manager, const char *op, const char *sub)
{
	return strcmp(sim_kube_jstr(e, "manager"), manager) == 0
	    && strcmp(sim_kube_jstr(e, "operation"), op) == 0
	    && strcmp(sim_kube_jstr(e, "subresource"), sub != NULL ? sub : "") == 0;
}

static void
mf_drop_empty(cJSON *mfs)
{
	for (int i = cJSON_GetArraySize(mfs) - 1; i >= 0; i--) {
		const cJSON *fs = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(mfs, i), "fieldsV1");
		if (cJSON_GetArraySize(fs) == 0)
			cJSON_DeleteItemFromArray(mfs, i);
	}
}

cJSON *
sim_kube_apply(const cJSON *live, const cJSON *cfg, const char *manager, int force,
    const char *api_version, char *err, size_t errlen)
{
	cJSON *out, *newfs, *mfs, *e, *oldfs = NULL, *sets;
	const cJSON *others[64];
	int nothers = 0;
	struct conflicts cf = { .used = 0, .n = 0 };
	const char *names[64];

	newfs = fs_of_object(cfg, 0, "");
	if (live == NULL) {
		out = cJSON_Duplicate(cfg, 1);
		mfs = cJSON_CreateArray();
		cJSON_AddItemToArray(mfs, mf_entry(manager, "Apply", api_version, "", newfs));
		sim_kube_jset(sim_kube_jobj(out, "metadata"), "managedFields", mfs);
		return out;
	}
	out = cJSON_Duplicate(live, 1);
	mfs = cJSON_GetObjectItemCaseSensitive(sim_kube_jobj(out, "metadata"), "managedFields");
	if (!cJSON_IsArray(mfs)) {
		mfs = cJSON_CreateArray();
		sim_kube_jset(sim_kube_jobj(out, "metadata"), "managedFields", mfs);
	}
	/* conflicts with every other manager, worded as kube-apiserver does:
	 * 'Apply failed with 1 conflict: conflict with "m" using apps/v1:
	 * .spec.replicas', or one "- path" line per conflict when several */
	cJSON_ArrayForEach(e, mfs) {
		cJSON *fs = cJSON_GetObjectItemCaseSensitive(e, "fieldsV1");
		struct conflicts one = { .used = 0, .n = 0 };
		char who[400];

		if (mf_is(e, manager, "Apply", ""))
			continue;
		find_conflicts(newfs, fs, (cJSON *)cfg, out, force, &one, names, 0);
		if (force)
			fs_prune_empty(fs);
		if (one.n == 0)
			continue;
		if (strcmp(sim_kube_jstr(e, "operation"), "Update") == 0)
			snprintf(who, sizeof who, "\"%s\" using %s", sim_kube_jstr(e, "manager"),
			    sim_kube_jstr(e, "apiVersion"));
		else
			snprintf(who, sizeof who, "\"%s\"", sim_kube_jstr(e, "manager"));
		if (cf.n == 0)
			snprintf(cf.first, sizeof cf.first, "conflict with %.400s: %.600s", who, one.first);
		if (cf.used < sizeof cf.text)
			cf.used += (size_t)snprintf(cf.text + cf.used, sizeof cf.text - cf.used,
			    "%sconflict%s with %s:\n%s", cf.n > 0 ? "\n" : "", one.n > 1 ? "s" : "", who, one.text);
		cf.n += one.n;
	}
	if (cf.n > 0) {
		if (cf.n == 1)
			snprintf(err, errlen, "Apply failed with 1 conflict: %s", cf.first);
		else
			snprintf(err, errlen, "Apply failed with %d conflicts: %s", cf.n, cf.text);
		cJSON_Delete(newfs);
		cJSON_Delete(out);
		return NULL;
	}
	/* the sets are read from a copy: pruning edits OUT, where they live */
	sets = cJSON_Duplicate(mfs, 1);
	cJSON_ArrayForEach(e, sets) {
		if (mf_is(e, manager, "Apply", ""))
			oldfs = cJSON_GetObjectItemCaseSensitive(e, "fieldsV1");
		else if (nothers < 64)
			others[nothers++] = cJSON_GetObjectItemCaseSensitive(e, "fieldsV1");
	}
	if (oldfs != NULL)
		prune_removed(out, oldfs, newfs, others, nothers, 0);
	cJSON_Delete(sets);
	apply_merge(out, cfg);
	/* record: this manager's applied set replaces its old one */
	for (int i = cJSON_GetArraySize(mfs) - 1; i >= 0; i--)
		if (mf_is(cJSON_GetArrayItem(mfs, i), manager, "Apply", ""))
			cJSON_DeleteItemFromArray(mfs, i);
	cJSON_AddItemToArray(mfs, mf_entry(manager, "Apply", api_version, "", newfs));
	mf_drop_empty(mfs);
	return out;
}

void
sim_kube_mf_update(cJSON *new_obj, const cJSON *old_obj, const char *manager,
    const char *api_version, const char *subresource)
{
	cJSON *md = sim_kube_jobj(new_obj, "metadata"), *mfs, *changed, *e, *mine = NULL;

	if (manager == NULL || manager[0] == '\0' || md == NULL)
		return;
	changed = old_obj != NULL ? fs_diff_object(new_obj, old_obj, 0, "")
	    : fs_of_object(new_obj, 0, "");
	if (changed == NULL || cJSON_GetArraySize(changed) == 0) {
		cJSON_Delete(changed);
		return;
	}
	/* the new object's managedFields: what the client sent, else the old */
	mfs = cJSON_GetObjectItemCaseSensitive(md, "managedFields");
	if (!cJSON_IsArray(mfs)) {
		const cJSON *om = sim_kube_jpath(old_obj, "metadata.managedFields");
		mfs = cJSON_IsArray(om) ? cJSON_Duplicate(om, 1) : cJSON_CreateArray();
		sim_kube_jset(md, "managedFields", mfs);
	}
	cJSON_ArrayForEach(e, mfs) {
		if (mf_is(e, manager, "Update", subresource))
			mine = e;
		else
			fs_subtract(cJSON_GetObjectItemCaseSensitive(e, "fieldsV1"), changed);
	}
	if (mine != NULL) {
		char now[40];
		fs_union(cJSON_GetObjectItemCaseSensitive(mine, "fieldsV1"), changed);
		sim_kube_now_str(now, sizeof now);
		sim_kube_jset_str(mine, "time", now);
		cJSON_Delete(changed);
	} else {
		cJSON_AddItemToArray(mfs, mf_entry(manager, "Update", api_version, subresource, changed));
	}
	mf_drop_empty(mfs);
}
