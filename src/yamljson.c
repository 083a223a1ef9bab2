/*
 * yamljson.c — libyaml events turned straight into cJSON trees.
 *
 * libyaml's event API (yaml_parser_parse) hands us the stream one event at a
 * time; we keep an explicit stack of open collections instead of recursing,
 * so the input's nesting never touches the C stack while parsing.  Nodes are
 * created as their events arrive and attached to their parent when complete,
 * which is also when their position is filed in the document's side table.
 *
 * Aliases are expanded by copying the anchored subtree.  Every completed node
 * knows its subtree's node count, string bytes and height, so an alias's cost
 * is known before copying and the limits reject a billion-laughs document
 * after a few hundred thousand nodes at most.  Recursion only happens when
 * copying or freeing a finished tree, whose height the depth limit bounds.
 *
 * The position table is an open-addressing hash keyed by node address, with
 * backward-shift deletion so trees dropped while parsing (merge sources) can
 * be forgotten without tombstones piling up.
 */
#include "src/yamljson.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define MERGE_TAG      "tag:yaml.org,2002:merge"
#define MAX_FILE_BYTES ((size_t)256 << 20)
/* Below this many members a linear scan finds duplicate keys fastest. */
#define KEYSET_MIN     16
/* Keys and values quoted in messages are cut to this many bytes. */
#define QUOTE_MAX      60

/* ---- position table ---------------------------------------------------- */

struct pos_ent {
	const cJSON *node;	/* NULL marks an empty slot */
	int line, col;		/* value */
	int kline, kcol;	/* key of a mapping member, else 0 */
};

struct pos_table {
	struct pos_ent *slot;
	size_t cap;		/* 0 or a power of two */
	size_t used;
};

static size_t
pos_home(size_t cap, const cJSON *node)
{
	uint64_t h = (uint64_t)(uintptr_t)node;

	/* Heap addresses share low bits; mix them before masking. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h & (cap - 1);
}

static struct pos_ent *
pos_find(const struct pos_table *t, const cJSON *node)
{
	size_t i;

	if (t->cap == 0 || node == NULL)
		return NULL;
	for (i = pos_home(t->cap, node); t->slot[i].node != NULL;
	    i = (i + 1) & (t->cap - 1))
		if (t->slot[i].node == node)
			return &t->slot[i];
	return NULL;
}

static int
pos_grow(struct pos_table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 256, i, j;
	struct pos_ent *ns;

	ns = calloc(ncap, sizeof *ns);
	if (ns == NULL)
		return -1;
	for (i = 0; i < t->cap; i++) {
		if (t->slot[i].node == NULL)
			continue;
		for (j = pos_home(ncap, t->slot[i].node); ns[j].node != NULL;
		    j = (j + 1) & (ncap - 1))
			;
		ns[j] = t->slot[i];
	}
	free(t->slot);
	t->slot = ns;
	t->cap = ncap;
	return 0;
}

static int
pos_put(struct pos_table *t, const cJSON *node, int line, int col, int kline,
    int kcol)
{
	struct pos_ent *e = pos_find(t, node);
	size_t i;

	if (e == NULL) {
		if ((t->used + 1) * 4 > t->cap * 3 && pos_grow(t) < 0)
			return -1;
		for (i = pos_home(t->cap, node); t->slot[i].node != NULL;
		    i = (i + 1) & (t->cap - 1))
			;
		e = &t->slot[i];
		e->node = node;
		t->used++;
	}
	e->line = line;
	e->col = col;
	e->kline = kline;
	e->kcol = kcol;
	return 0;
}

static void
pos_del(struct pos_table *t, const cJSON *node)
{
	struct pos_ent *e = pos_find(t, node);
	size_t mask = t->cap - 1, i, j, k;

	if (e == NULL)
		return;
	i = (size_t)(e - t->slot);
	t->slot[i].node = NULL;
	t->used--;
	/* Pull later entries of the probe run back so lookups never stop
	 * early at the hole. */
	for (j = (i + 1) & mask; t->slot[j].node != NULL; j = (j + 1) & mask) {
		k = pos_home(t->cap, t->slot[j].node);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->slot[i] = t->slot[j];
		t->slot[j].node = NULL;
		i = j;
	}
}

/* ---- document ---------------------------------------------------------- */

struct yj_doc {
	char *name;
	cJSON **roots;
	size_t n, cap;
	struct pos_table pos;
};

static void
forget_tree(struct yj_doc *d, const cJSON *node)
{
	const cJSON *c;

	pos_del(&d->pos, node);
	for (c = node->child; c != NULL; c = c->next)
		forget_tree(d, c);
}

/* Frees a tree built during the parse and everything filed about it. */
static void
drop_tree(struct yj_doc *d, cJSON *node)
{
	if (node == NULL)
		return;
	forget_tree(d, node);
	cJSON_Delete(node);
}

size_t
yj_count(const struct yj_doc *doc)
{
	return doc ? doc->n : 0;
}

cJSON *
yj_root(const struct yj_doc *doc, size_t i)
{
	return doc && i < doc->n ? doc->roots[i] : NULL;
}

cJSON *
yj_detach(struct yj_doc *doc, size_t i)
{
	cJSON *r;

	if (doc == NULL || i >= doc->n)
		return NULL;
	r = doc->roots[i];
	doc->roots[i] = NULL;
	return r;
}

int
yj_pos(const struct yj_doc *doc, const cJSON *node, int *line, int *col)
{
	const struct pos_ent *e = doc ? pos_find(&doc->pos, node) : NULL;

	if (e == NULL)
		return -1;
	if (line)
		*line = e->line;
	if (col)
		*col = e->col;
	return 0;
}

int
yj_key_pos(const struct yj_doc *doc, const cJSON *node, int *line, int *col)
{
	const struct pos_ent *e = doc ? pos_find(&doc->pos, node) : NULL;

	if (e == NULL || e->kline == 0)
		return -1;
	if (line)
		*line = e->kline;
	if (col)
		*col = e->kcol;
	return 0;
}

const char *
yj_filename(const struct yj_doc *doc)
{
	return doc ? doc->name : NULL;
}

void
yj_free(struct yj_doc *doc)
{
	size_t i;

	if (doc == NULL)
		return;
	for (i = 0; i < doc->n; i++)
		cJSON_Delete(doc->roots[i]);
	free(doc->roots);
	free(doc->pos.slot);
	free(doc->name);
	free(doc);
}

static int
vlocated(const char *name, int line, int col, char *buf, size_t n,
    const char *fmt, va_list ap)
{
	int pre, rest;

	if (line > 0)
		pre = snprintf(buf, n, "%s:%d:%d: ", name, line, col);
	else
		pre = snprintf(buf, n, "%s: ", name);
	if (pre < 0)
		return -1;
	if ((size_t)pre < n)
		rest = vsnprintf(buf + pre, n - (size_t)pre, fmt, ap);
	else
		rest = vsnprintf(NULL, 0, fmt, ap);
	return rest < 0 ? -1 : pre + rest;
}

int
yj_errorf(const struct yj_doc *doc, const cJSON *node, char *buf, size_t n,
    const char *fmt, ...)
{
	int line = 0, col = 0, r;
	va_list ap;

	yj_pos(doc, node, &line, &col);
	va_start(ap, fmt);
	r = vlocated(doc ? doc->name : "<input>", line, col, n ? buf : NULL, n,
	    fmt, ap);
	va_end(ap);
	return r;
}

int
yj_key_errorf(const struct yj_doc *doc, const cJSON *node, char *buf,
    size_t n, const char *fmt, ...)
{
	int line = 0, col = 0, r;
	va_list ap;

	if (yj_key_pos(doc, node, &line, &col) < 0)
		yj_pos(doc, node, &line, &col);
	va_start(ap, fmt);
	r = vlocated(doc ? doc->name : "<input>", line, col, n ? buf : NULL, n,
	    fmt, ap);
	va_end(ap);
	return r;
}

/* ---- scalar typing ----------------------------------------------------- */

enum kind { K_NULL, K_TRUE, K_FALSE, K_INT, K_FLOAT, K_BIG, K_STR };

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void
c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* strtod in the "C" locale: the UI calls setlocale() for ncursesw, and a
 * German locale would otherwise stop "1.5" at the dot. */
static double
c_strtod(const char *s, char **end)
{
	pthread_once(&c_locale_once, c_locale_init);
	if (c_locale != (locale_t)0)
		return strtod_l(s, end, c_locale);
	return strtod(s, end);
}

static int
digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* Digits of BASE only, at least one.  Returns -1 when S is not such a
 * number, 1 when it is but exceeds 2^53, else 0 with *OUT set. */
static int
parse_digits(const char *s, size_t n, int base, double *out)
{
	const uint64_t max = (uint64_t)1 << 53;
	uint64_t v = 0;
	int big = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		int d = digit_value(s[i]);

		if (d >= base)
			return -1;
		if (!big) {
			v = v * (uint64_t)base + (uint64_t)d;
			if (v > max)
				big = 1;
		}
	}
	*out = (double)v;
	return big;
}

static int
is_float_syntax(const char *s, size_t n)
{
	size_t i = 0, d1 = 0, d2 = 0, de = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, d1++;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, d2++;
		if (d1 == 0 && d2 == 0)
			return 0;
	} else if (d1 == 0) {
		return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, de++;
		if (de == 0)
			return 0;
	}
	return i == n;
}

static int
is_one_of(const char *s, size_t n, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strlen(*words) == n && memcmp(s, *words, n) == 0)
			return 1;
	return 0;
}

/* YAML 1.2 core schema resolution of a plain scalar (S is NUL-terminated,
 * N long); *NUM is set for K_INT and K_FLOAT. */
static enum kind
classify(const char *s, size_t n, double *num)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL",
		NULL };
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", NULL };
	static const char *const infs[] = { ".inf", ".Inf", ".INF", NULL };
	static const char *const nans[] = { ".nan", ".NaN", ".NAN", NULL };
	const char *p = s;
	size_t m = n;
	int neg = 0, r;
	char *end;

	if (is_one_of(s, n, nulls))
		return K_NULL;
	if (is_one_of(s, n, trues))
		return K_TRUE;
	if (is_one_of(s, n, falses))
		return K_FALSE;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		r = parse_digits(s + 2, n - 2, s[1] == 'x' ? 16 : 8, num);
		if (r >= 0)
			return r ? K_BIG : K_INT;
	}
	if (m > 0 && (*p == '+' || *p == '-')) {
		neg = *p == '-';
		p++, m--;
	}
	r = parse_digits(p, m, 10, num);
	if (r == 1)
		return K_BIG;
	if (r == 0) {
		if (neg && *num != 0)
			*num = -*num;
		return K_INT;
	}
	if (is_one_of(p, m, infs)) {
		*num = neg ? -HUGE_VAL : HUGE_VAL;
		return K_FLOAT;
	}
	if (is_one_of(s, n, nans)) {
		*num = NAN;
		return K_FLOAT;
	}
	if (is_float_syntax(s, n)) {
		errno = 0;
		*num = c_strtod(s, &end);
		if (end != s + n)
			return K_STR;
		return errno == ERANGE ? K_BIG : K_FLOAT;
	}
	return K_STR;
}

/* ---- builder ----------------------------------------------------------- */

struct anchor {
	char *name;
	cJSON *node;		/* NULL while its collection is still open */
	char *text;		/* scalars: the text, for aliases used as keys */
	int owned;		/* node is an anchored key's, not in the tree */
	size_t nodes, bytes;
	unsigned height;
};

/* Members of a big mapping, hashed by key, for duplicate checks. */
struct keyset {
	cJSON **slot;
	size_t cap, used;
};

struct merge {
	cJSON *src;
	int owned;		/* else the graveyard holds it */
};

struct frame {
	cJSON *node;
	int is_map;
	int line, col;
	long anchor;		/* index into anchors, or -1 */
	size_t anchors_before;	/* anchors defined before this node began */
	size_t nodes, bytes;	/* subtree so far, this node included */
	unsigned height;	/* of the tallest child */
	size_t nkids;
	/* Mappings: the key waiting for its value. */
	char *key;		/* cJSON_malloc'd, becomes the member's ->string */
	int have_key, key_merge, kline, kcol;
	struct keyset keys;
	struct merge *merges;
	size_t nmerges, capmerges;
};

struct builder {
	struct yj_doc *doc;
	struct yj_limits lim;
	struct yj_error *err;
	int failed;
	struct frame *stack;
	size_t depth, capstack;
	struct anchor *anchors;
	size_t nanchors, capanchors;
	/* Merge sources that anchors may still point into; freed when the
	 * document ends. */
	cJSON **grave;
	size_t ngrave, capgrave;
	cJSON *root;
	size_t total_nodes, alias_nodes, alias_bytes;
};

static int
clamp_int(size_t v)
{
	return v >= INT_MAX ? INT_MAX : (int)v;
}

static int
mark_line(yaml_mark_t m)
{
	return clamp_int(m.line + 1);
}

static int
mark_col(yaml_mark_t m)
{
	return clamp_int(m.column + 1);
}

static void
set_error(struct yj_error *err, const char *name, int line, int col,
    const char *fmt, va_list ap)
{
	if (err == NULL)
		return;
	err->line = line;
	err->col = col;
	vlocated(name, line, col, err->msg, sizeof err->msg, fmt, ap);
}

static void fail_at(struct builder *b, int line, int col, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
fail_at(struct builder *b, int line, int col, const char *fmt, ...)
{
	va_list ap;

	if (b->failed)
		return;
	b->failed = 1;
	va_start(ap, fmt);
	set_error(b->err, b->doc->name, line, col, fmt, ap);
	va_end(ap);
}

static void
oom(struct builder *b)
{
	fail_at(b, 0, 0, "out of memory");
}

/* Doubles *CAP until N + 1 items of SIZE fit in *P. */
static int
reserve(struct builder *b, void *pp, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p, *np;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / size) {
		oom(b);
		return -1;
	}
	/* PP is the address of some T *; memcpy keeps that type-clean. */
	memcpy(&p, pp, sizeof p);
	np = realloc(p, ncap * size);
	if (np == NULL) {
		oom(b);
		return -1;
	}
	memcpy(pp, &np, sizeof np);
	*cap = ncap;
	return 0;
}

static int
count_nodes(struct builder *b, size_t n, yaml_mark_t m)
{
	if (n > b->lim.max_nodes - b->total_nodes) {
		fail_at(b, mark_line(m), mark_col(m),
		    "stream has more than %zu nodes", b->lim.max_nodes);
		return -1;
	}
	b->total_nodes += n;
	return 0;
}

static uint64_t
str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static cJSON *
keyset_find(const struct keyset *ks, const char *key)
{
	size_t i;

	for (i = str_hash(key) & (ks->cap - 1); ks->slot[i] != NULL;
	    i = (i + 1) & (ks->cap - 1))
		if (strcmp(ks->slot[i]->string, key) == 0)
			return ks->slot[i];
	return NULL;
}

static int
keyset_add(struct keyset *ks, cJSON *item)
{
	size_t i;

	if ((ks->used + 1) * 2 > ks->cap) {
		size_t ncap = ks->cap ? ks->cap * 2 : 64, j;
		cJSON **ns = calloc(ncap, sizeof *ns);

		if (ns == NULL)
			return -1;
		for (j = 0; j < ks->cap; j++) {
			if (ks->slot[j] == NULL)
				continue;
			for (i = str_hash(ks->slot[j]->string) & (ncap - 1);
			    ns[i] != NULL; i = (i + 1) & (ncap - 1))
				;
			ns[i] = ks->slot[j];
		}
		free(ks->slot);
		ks->slot = ns;
		ks->cap = ncap;
	}
	for (i = str_hash(item->string) & (ks->cap - 1); ks->slot[i] != NULL;
	    i = (i + 1) & (ks->cap - 1))
		;
	ks->slot[i] = item;
	ks->used++;
	return 0;
}

static cJSON *
find_member(const struct frame *f, const char *key)
{
	cJSON *c;

	if (f->keys.cap)
		return keyset_find(&f->keys, key);
	for (c = f->node->child; c != NULL; c = c->next)
		if (strcmp(c->string, key) == 0)
			return c;
	return NULL;
}

/* Appends ITEM (->string set) to the mapping of F. */
static int
add_member(struct builder *b, struct frame *f, cJSON *item)
{
	cJSON *c;

	cJSON_AddItemToArray(f->node, item);
	f->nkids++;
	if (f->keys.cap) {
		if (keyset_add(&f->keys, item) < 0)
			goto nomem;
	} else if (f->nkids >= KEYSET_MIN) {
		for (c = f->node->child; c != NULL; c = c->next)
			if (keyset_add(&f->keys, c) < 0)
				goto nomem;
	}
	return 0;
nomem:
	oom(b);
	return -1;
}

/* Files positions for the copy DST of SRC's descendants; returns the
 * number of descendants. */
static size_t
copy_positions(struct builder *b, const cJSON *src, const cJSON *dst,
    int *bad)
{
	const cJSON *s, *d;
	const struct pos_ent *e;
	size_t n = 0;

	for (s = src->child, d = dst->child; s != NULL && d != NULL;
	    s = s->next, d = d->next) {
		e = pos_find(&b->doc->pos, s);
		if (e != NULL && pos_put(&b->doc->pos, d, e->line, e->col,
		    e->kline, e->kcol) < 0)
			*bad = 1;
		n += 1 + copy_positions(b, s, d, bad);
	}
	return n;
}

/* Deep copy of SRC with positions.  KEEP_ROOT_POS also copies the root's
 * own position and key (merges); otherwise the root is left bare for
 * attach() to place.  *COUNT gets the number of nodes made. */
static cJSON *
copy_tree(struct builder *b, const cJSON *src, int keep_root_pos,
    size_t *count)
{
	const struct pos_ent *e;
	cJSON *dst = cJSON_Duplicate(src, 1);
	int bad = 0;

	if (dst == NULL) {
		oom(b);
		return NULL;
	}
	*count = 1 + copy_positions(b, src, dst, &bad);
	if (keep_root_pos) {
		e = pos_find(&b->doc->pos, src);
		if (e != NULL && pos_put(&b->doc->pos, dst, e->line, e->col,
		    e->kline, e->kcol) < 0)
			bad = 1;
	} else if (dst->string != NULL) {
		cJSON_free(dst->string);
		dst->string = NULL;
	}
	if (bad) {
		drop_tree(b->doc, dst);
		oom(b);
		return NULL;
	}
	return dst;
}

static void
free_anchors(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->nanchors; i++) {
		if (b->anchors[i].owned)
			drop_tree(b->doc, b->anchors[i].node);
		free(b->anchors[i].name);
		free(b->anchors[i].text);
	}
	b->nanchors = 0;
}

static void
free_grave(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->ngrave; i++)
		drop_tree(b->doc, b->grave[i]);
	b->ngrave = 0;
}

static long
add_anchor(struct builder *b, const yaml_char_t *name)
{
	struct anchor *a;

	if (reserve(b, &b->anchors, &b->capanchors, b->nanchors,
	    sizeof *b->anchors) < 0)
		return -1;
	a = &b->anchors[b->nanchors];
	memset(a, 0, sizeof *a);
	a->name = strdup((const char *)name);
	if (a->name == NULL) {
		oom(b);
		return -1;
	}
	return (long)b->nanchors++;
}

static struct anchor *
find_anchor(struct builder *b, const char *name)
{
	size_t i;

	/* A later anchor of the same name replaces the earlier one. */
	for (i = b->nanchors; i-- > 0;)
		if (strcmp(b->anchors[i].name, name) == 0)
			return &b->anchors[i];
	return NULL;
}

static int
is_merge_source(const cJSON *v)
{
	const cJSON *c;

	if (cJSON_IsObject(v))
		return 1;
	if (!cJSON_IsArray(v))
		return 0;
	for (c = v->child; c != NULL; c = c->next)
		if (!cJSON_IsObject(c))
			return 0;
	return 1;
}

/* Completes value V (consumed, even on failure): the document root, the next
 * sequence item, or the value for the pending mapping key.  MOVABLE says no
 * anchor points into V, so a merge may take its members instead of copying
 * them. */
static int
attach(struct builder *b, cJSON *v, int line, int col, size_t nodes,
    size_t bytes, unsigned height, int movable)
{
	struct frame *f = b->depth ? &b->stack[b->depth - 1] : NULL;
	const cJSON *c;
	int kline = 0, kcol = 0;

	if (f != NULL && f->is_map) {
		kline = f->kline;
		kcol = f->kcol;
	}
	if (pos_put(&b->doc->pos, v, line, col, kline, kcol) < 0) {
		drop_tree(b->doc, v);
		oom(b);
		return -1;
	}
	if (f == NULL) {
		b->root = v;
		return 0;
	}
	f->nodes += nodes;
	f->bytes += bytes;
	if (height > f->height)
		f->height = height;
	if (!f->is_map) {
		cJSON_AddItemToArray(f->node, v);
		f->nkids++;
		return 0;
	}
	f->have_key = 0;
	if (f->key_merge) {
		if (!is_merge_source(v)) {
			c = cJSON_IsArray(v) ? v->child : v;
			while (cJSON_IsObject(c))
				c = c->next;
			yj_pos(b->doc, c, &line, &col);
			drop_tree(b->doc, v);
			fail_at(b, line, col, "merge key \"<<\" needs a mapping "
			    "or a sequence of mappings");
			return -1;
		}
		if (reserve(b, &f->merges, &f->capmerges, f->nmerges,
		    sizeof *f->merges) < 0 || (!movable &&
		    reserve(b, &b->grave, &b->capgrave, b->ngrave,
		    sizeof *b->grave) < 0)) {
			drop_tree(b->doc, v);
			return -1;
		}
		f->merges[f->nmerges].src = v;
		f->merges[f->nmerges++].owned = movable;
		if (!movable)
			b->grave[b->ngrave++] = v;
		return 0;
	}
	f->bytes += strlen(f->key);
	if (v->string != NULL)
		cJSON_free(v->string);
	v->string = f->key;
	f->key = NULL;
	return add_member(b, f, v);
}

/* Records the key of the mapping F's next member, rejecting repeats. */
static int
take_key(struct builder *b, struct frame *f, const char *text, int merge,
    yaml_mark_t m)
{
	const cJSON *prev;
	int pl = 0, pc = 0;
	size_t n;

	f->kline = mark_line(m);
	f->kcol = mark_col(m);
	f->key_merge = merge;
	if (!merge) {
		prev = find_member(f, text);
		if (prev != NULL) {
			yj_key_pos(b->doc, prev, &pl, &pc);
			fail_at(b, f->kline, f->kcol, "duplicate mapping key "
			    "\"%.*s\" (first defined at line %d column %d)",
			    QUOTE_MAX, text, pl, pc);
			return -1;
		}
		n = strlen(text);
		f->key = cJSON_malloc(n + 1);
		if (f->key == NULL) {
			oom(b);
			return -1;
		}
		memcpy(f->key, text, n + 1);
	}
	f->have_key = 1;
	return 0;
}

static const char *
short_tag(const char *tag)
{
	static const char prefix[] = "tag:yaml.org,2002:";

	return strncmp(tag, prefix, sizeof prefix - 1) == 0 ?
	    tag + sizeof prefix - 1 : tag;
}

/* The cJSON value of a scalar event, typed by its style and tag. */
static cJSON *
make_scalar(struct builder *b, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	size_t n = ev->data.scalar.length;
	yaml_mark_t m = ev->start_mark;
	enum kind k = K_STR;
	double num = 0;
	cJSON *v;

	if (tag == NULL || strcmp(tag, "!") == 0) {
		if (tag == NULL &&
		    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			k = classify(s, n, &num);
	} else if (strcmp(tag, YAML_STR_TAG) == 0) {
		k = K_STR;
	} else if (strcmp(tag, YAML_NULL_TAG) == 0 ||
	    strcmp(tag, YAML_BOOL_TAG) == 0 ||
	    strcmp(tag, YAML_INT_TAG) == 0 ||
	    strcmp(tag, YAML_FLOAT_TAG) == 0) {
		const char *t = short_tag(tag);
		int ok;

		k = classify(s, n, &num);
		if (strcmp(t, "null") == 0)
			ok = k == K_NULL;
		else if (strcmp(t, "bool") == 0)
			ok = k == K_TRUE || k == K_FALSE;
		else if (strcmp(t, "int") == 0)
			ok = k == K_INT || k == K_BIG;
		else
			ok = k == K_INT || k == K_FLOAT || k == K_BIG;
		if (!ok) {
			fail_at(b, mark_line(m), mark_col(m), "!!%s value "
			    "\"%.*s\" is not a valid %s", t, QUOTE_MAX, s, t);
			return NULL;
		}
		if (k == K_BIG) {
			fail_at(b, mark_line(m), mark_col(m), "!!%s value "
			    "\"%.*s\" does not fit a double exactly", t,
			    QUOTE_MAX, s);
			return NULL;
		}
	} else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		/* Tags we do not know do not change the type. */
		k = classify(s, n, &num);
	}
	switch (k) {
	case K_NULL:
		v = cJSON_CreateNull();
		break;
	case K_TRUE:
	case K_FALSE:
		v = cJSON_CreateBool(k == K_TRUE);
		break;
	case K_INT:
	case K_FLOAT:
		/* cJSON_CreateNumber casts to int, undefined for NaN. */
		v = cJSON_CreateNumber(isnan(num) ? 0 : num);
		if (v != NULL)
			v->valuedouble = num;
		break;
	default:
		v = cJSON_CreateString(s);
		break;
	}
	if (v == NULL)
		oom(b);
	return v;
}

static const char *
map_or_seq(int is_map)
{
	return is_map ? "a mapping" : "a sequence";
}

static int
on_scalar(struct builder *b, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	size_t n = ev->data.scalar.length;
	yaml_mark_t m = ev->start_mark;
	struct frame *f = b->depth ? &b->stack[b->depth - 1] : NULL;
	int is_key = f != NULL && f->is_map && !f->have_key;
	struct anchor *a = NULL;
	long ai;
	cJSON *v;

	if (memchr(s, '\0', n) != NULL) {
		fail_at(b, mark_line(m), mark_col(m),
		    "NUL character in scalar is not supported");
		return -1;
	}
	if (ev->data.scalar.anchor != NULL) {
		ai = add_anchor(b, ev->data.scalar.anchor);
		if (ai < 0)
			return -1;
		a = &b->anchors[ai];
		a->text = strdup(s);
		if (a->text == NULL) {
			oom(b);
			return -1;
		}
	}
	if (is_key && a == NULL) {
		int merge = tag == NULL ?
		    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    strcmp(s, "<<") == 0 : strcmp(tag, MERGE_TAG) == 0;

		return take_key(b, f, s, merge, m);
	}
	if (count_nodes(b, 1, m) < 0)
		return -1;
	v = make_scalar(b, ev);
	if (v == NULL)
		return -1;
	if (a != NULL) {
		a->node = v;
		a->nodes = 1;
		a->bytes = cJSON_IsString(v) ? n : 0;
		a->height = 1;
	}
	if (is_key) {
		/* An anchored key lives only in its anchor, for later
		 * aliases; the mapping gets the text. */
		a->owned = 1;
		if (pos_put(&b->doc->pos, v, mark_line(m), mark_col(m), 0,
		    0) < 0) {
			oom(b);
			return -1;
		}
		return take_key(b, f, s, 0, m);
	}
	return attach(b, v, mark_line(m), mark_col(m), 1,
	    cJSON_IsString(v) ? n : 0, 1, 1);
}

static int
on_start(struct builder *b, const yaml_event_t *ev, int is_map)
{
	const yaml_char_t *anchor = is_map ? ev->data.mapping_start.anchor :
	    ev->data.sequence_start.anchor;
	const char *tag = (const char *)(is_map ? ev->data.mapping_start.tag :
	    ev->data.sequence_start.tag);
	yaml_mark_t m = ev->start_mark;
	struct frame *f = b->depth ? &b->stack[b->depth - 1] : NULL;
	cJSON *node;
	long ai = -1;

	if (f != NULL && f->is_map && !f->have_key) {
		fail_at(b, mark_line(m), mark_col(m), "mapping key must be a "
		    "scalar, not %s", map_or_seq(is_map));
		return -1;
	}
	if (b->depth + 1 > b->lim.max_depth) {
		fail_at(b, mark_line(m), mark_col(m), "nesting deeper than %u "
		    "levels", b->lim.max_depth);
		return -1;
	}
	if (tag != NULL && (strcmp(tag, is_map ? YAML_SEQ_TAG : YAML_MAP_TAG)
	    == 0 || strcmp(tag, YAML_STR_TAG) == 0 ||
	    strcmp(tag, YAML_INT_TAG) == 0 || strcmp(tag, YAML_FLOAT_TAG) == 0 ||
	    strcmp(tag, YAML_BOOL_TAG) == 0 || strcmp(tag, YAML_NULL_TAG) == 0)) {
		fail_at(b, mark_line(m), mark_col(m), "!!%s cannot tag %s",
		    short_tag(tag), map_or_seq(is_map));
		return -1;
	}
	if (count_nodes(b, 1, m) < 0)
		return -1;
	if (reserve(b, &b->stack, &b->capstack, b->depth, sizeof *b->stack) < 0)
		return -1;
	node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
	if (node == NULL) {
		oom(b);
		return -1;
	}
	f = &b->stack[b->depth++];
	memset(f, 0, sizeof *f);
	f->node = node;
	f->is_map = is_map;
	f->line = mark_line(m);
	f->col = mark_col(m);
	f->nodes = 1;
	f->anchors_before = b->nanchors;
	f->anchor = -1;
	if (anchor != NULL) {
		ai = add_anchor(b, anchor);
		if (ai < 0)
			return -1;
		f->anchor = ai;
	}
	return 0;
}

/* Adds the members of SRC whose keys F lacks, taking them if OWNED. */
static int
merge_from(struct builder *b, struct frame *f, cJSON *src, int owned)
{
	cJSON *c, *next, *item;
	size_t n;

	for (c = src->child; c != NULL; c = next) {
		next = c->next;
		if (find_member(f, c->string) != NULL)
			continue;
		if (owned) {
			item = cJSON_DetachItemViaPointer(src, c);
		} else {
			item = copy_tree(b, c, 1, &n);
			if (item == NULL)
				return -1;
			if (n > b->lim.max_nodes - b->total_nodes) {
				drop_tree(b->doc, item);
				fail_at(b, f->line, f->col, "stream has more "
				    "than %zu nodes", b->lim.max_nodes);
				return -1;
			}
			b->total_nodes += n;
		}
		if (add_member(b, f, item) < 0)
			return -1;
	}
	return 0;
}

static int
apply_merges(struct builder *b, struct frame *f)
{
	struct merge *mg;
	cJSON *e;
	size_t i;

	for (i = 0; i < f->nmerges; i++) {
		mg = &f->merges[i];
		if (cJSON_IsObject(mg->src)) {
			if (merge_from(b, f, mg->src, mg->owned) < 0)
				return -1;
			continue;
		}
		for (e = mg->src->child; e != NULL; e = e->next)
			if (merge_from(b, f, e, mg->owned) < 0)
				return -1;
	}
	return 0;
}

static void
free_frame(struct builder *b, struct frame *f)
{
	size_t i;

	for (i = 0; i < f->nmerges; i++)
		if (f->merges[i].owned)
			drop_tree(b->doc, f->merges[i].src);
	free(f->merges);
	free(f->keys.slot);
	cJSON_free(f->key);
	memset(f, 0, sizeof *f);
}

static int
on_end(struct builder *b)
{
	struct frame *f = &b->stack[b->depth - 1];
	struct anchor *a;
	cJSON *node;
	size_t nodes, bytes;
	unsigned height;
	int line, col, movable;

	if (f->is_map && apply_merges(b, f) < 0)
		return -1;
	node = f->node;
	f->node = NULL;
	nodes = f->nodes;
	bytes = f->bytes;
	height = f->height + 1;
	line = f->line;
	col = f->col;
	if (f->anchor >= 0) {
		a = &b->anchors[f->anchor];
		a->node = node;
		a->nodes = nodes;
		a->bytes = bytes;
		a->height = height;
	}
	movable = b->nanchors == f->anchors_before;
	free_frame(b, f);
	b->depth--;
	return attach(b, node, line, col, nodes, bytes, height, movable);
}

static int
on_alias(struct builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	yaml_mark_t m = ev->start_mark;
	int line = mark_line(m), col = mark_col(m);
	struct frame *f = b->depth ? &b->stack[b->depth - 1] : NULL;
	struct anchor *a = find_anchor(b, name);
	size_t n;
	cJSON *v;

	if (a == NULL) {
		fail_at(b, line, col, "alias *%.*s names no anchor defined "
		    "before it in this document", QUOTE_MAX, name);
		return -1;
	}
	if (a->node == NULL) {
		fail_at(b, line, col, "alias *%.*s refers to a node that "
		    "contains it", QUOTE_MAX, name);
		return -1;
	}
	if (f != NULL && f->is_map && !f->have_key) {
		if (a->text == NULL) {
			fail_at(b, line, col, "mapping key must be a scalar, "
			    "but alias *%.*s is %s", QUOTE_MAX, name,
			    map_or_seq(cJSON_IsObject(a->node)));
			return -1;
		}
		return take_key(b, f, a->text, 0, m);
	}
	if (a->nodes > b->lim.max_alias_nodes - b->alias_nodes) {
		fail_at(b, line, col, "alias *%.*s would expand to %zu more "
		    "nodes, over the limit of %zu nodes made by aliases",
		    QUOTE_MAX, name, a->nodes, b->lim.max_alias_nodes);
		return -1;
	}
	if (a->bytes > b->lim.max_alias_bytes - b->alias_bytes) {
		fail_at(b, line, col, "alias *%.*s would expand to %zu more "
		    "bytes, over the limit of %zu bytes made by aliases",
		    QUOTE_MAX, name, a->bytes, b->lim.max_alias_bytes);
		return -1;
	}
	if (b->depth + a->height > b->lim.max_depth) {
		fail_at(b, line, col, "alias *%.*s nests deeper than %u "
		    "levels", QUOTE_MAX, name, b->lim.max_depth);
		return -1;
	}
	if (count_nodes(b, a->nodes, m) < 0)
		return -1;
	b->alias_nodes += a->nodes;
	b->alias_bytes += a->bytes;
	v = copy_tree(b, a->node, 0, &n);
	if (v == NULL)
		return -1;
	return attach(b, v, line, col, a->nodes, a->bytes, a->height, 1);
}

static int
on_document_end(struct builder *b)
{
	struct yj_doc *d = b->doc;

	free_grave(b);
	free_anchors(b);
	if (reserve(b, &d->roots, &d->cap, d->n, sizeof *d->roots) < 0)
		return -1;
	/* libyaml always delivers a node, an empty scalar for "---" alone. */
	d->roots[d->n++] = b->root;
	b->root = NULL;
	return 0;
}

/* Line and column of byte OFF in TEXT, for reader errors, which libyaml
 * reports as an offset only. */
static void
offset_pos(const char *text, size_t len, size_t off, int *line, int *col)
{
	size_t i, l = 1, c = 1;

	for (i = 0; i < off && i < len; i++) {
		if (text[i] == '\n')
			l++, c = 1;
		else if (((unsigned char)text[i] & 0xc0) != 0x80)
			c++;
	}
	*line = clamp_int(l);
	*col = clamp_int(c);
}

static void
parser_failed(struct builder *b, const yaml_parser_t *p, const char *text,
    size_t len)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	int line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		oom(b);
		break;
	case YAML_READER_ERROR:
		offset_pos(text, len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			fail_at(b, line, col, "%s (byte 0x%02x)", problem,
			    (unsigned)p->problem_value & 0xffu);
		else
			fail_at(b, line, col, "%s", problem);
		break;
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		line = mark_line(p->problem_mark);
		col = mark_col(p->problem_mark);
		if (p->context != NULL)
			fail_at(b, line, col, "%s (%s at line %d column %d)",
			    problem, p->context, mark_line(p->context_mark),
			    mark_col(p->context_mark));
		else
			fail_at(b, line, col, "%s", problem);
		break;
	default:
		fail_at(b, 0, 0, "%s", problem);
		break;
	}
}

static void
builder_cleanup(struct builder *b)
{
	while (b->depth > 0) {
		struct frame *f = &b->stack[--b->depth];
		cJSON *node = f->node;

		free_frame(b, f);
		drop_tree(b->doc, node);
	}
	free(b->stack);
	free_grave(b);
	free(b->grave);
	free_anchors(b);
	free(b->anchors);
	drop_tree(b->doc, b->root);
}

static int
handle_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		b->root = NULL;
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		return on_document_end(b);
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, 0);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, 1);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(b);
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	default:
		return 0;
	}
}

struct yj_doc *
yj_parse_limits(const char *text, size_t len, const char *filename,
    const struct yj_limits *lim, struct yj_error *err)
{
	struct builder b;
	yaml_parser_t parser;
	yaml_event_t ev;
	struct yj_doc *doc;
	int done = 0;

	if (err != NULL)
		memset(err, 0, sizeof *err);
	if (text == NULL)
		text = "", len = 0;
	memset(&b, 0, sizeof b);
	b.err = err;
	if (lim != NULL)
		b.lim = *lim;
	if (b.lim.max_depth == 0)
		b.lim.max_depth = YJ_DEFAULT_MAX_DEPTH;
	if (b.lim.max_depth > YJ_MAX_DEPTH_CAP)
		b.lim.max_depth = YJ_MAX_DEPTH_CAP;
	if (b.lim.max_nodes == 0)
		b.lim.max_nodes = YJ_DEFAULT_MAX_NODES;
	if (b.lim.max_alias_nodes == 0)
		b.lim.max_alias_nodes = YJ_DEFAULT_MAX_ALIAS_NODES;
	if (b.lim.max_alias_bytes == 0)
		b.lim.max_alias_bytes = YJ_DEFAULT_MAX_ALIAS_BYTES;

	doc = calloc(1, sizeof *doc);
	if (doc != NULL)
		doc->name = strdup(filename ? filename : "<input>");
	if (doc == NULL || doc->name == NULL) {
		free(doc);
		if (err != NULL)
			snprintf(err->msg, sizeof err->msg, "%s: out of memory",
			    filename ? filename : "<input>");
		return NULL;
	}
	b.doc = doc;
	if (!yaml_parser_initialize(&parser)) {
		oom(&b);
		yj_free(doc);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && !b.failed) {
		if (!yaml_parser_parse(&parser, &ev)) {
			parser_failed(&b, &parser, text, len);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		handle_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	builder_cleanup(&b);
	if (b.failed) {
		yj_free(doc);
		return NULL;
	}
	return doc;
}

struct yj_doc *
yj_parse(const char *text, size_t len, const char *filename,
    struct yj_error *err)
{
	return yj_parse_limits(text, len, filename, NULL, err);
}

static void
file_error(struct yj_error *err, const char *path, const char *what)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof *err);
	snprintf(err->msg, sizeof err->msg, "%s: %s", path, what);
}

struct yj_doc *
yj_parse_file(const char *path, struct yj_error *err)
{
	struct yj_doc *doc;
	size_t len = 0, cap = 0, got;
	char *buf = NULL, *nb;
	FILE *fp;
	int e;

	fp = fopen(path, "rb");
	if (fp == NULL) {
		file_error(err, path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_FILE_BYTES) {
				file_error(err, path, "file is larger than "
				    "256 MiB");
				goto fail;
			}
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				file_error(err, path, "out of memory");
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
		if (got == 0) {
			if (ferror(fp)) {
				e = errno;
				file_error(err, path, e ? strerror(e) :
				    "read error");
				goto fail;
			}
			break;
		}
	}
	fclose(fp);
	doc = yj_parse(buf, len, path, err);
	free(buf);
	return doc;
fail:
	fclose(fp);
	free(buf);
	return NULL;
}
