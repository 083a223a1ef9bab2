/*
 * yamljson.h — YAML streams parsed into cJSON trees that remember where
 * every node came from.
 *
 * Configuration files, kubeconfigs and Kubernetes manifests are YAML, but
 * everything downstream works on cJSON.  One parse yields a yj_doc holding
 * every document of the stream plus a side table of 1-based line:column
 * positions, so a config check can say "bgswitch.yaml:12:5: unknown key"
 * long after parsing.  Aliases are expanded into copies under hard limits,
 * so a hostile file (billion laughs, deep nesting) fails with an error
 * instead of exhausting memory or stack.
 *
 * Typing of plain (unquoted) scalars follows the YAML 1.2 core schema:
 *   null:   empty, ~, null, Null, NULL
 *   bool:   true, True, TRUE, false, False, FALSE
 *   int:    [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+   (so 0644 is 644, not 420)
 *   float:  [-+]?(.[0-9]+|[0-9]+(.[0-9]*)?)([eE][-+]?[0-9]+)?,
 *           [-+]?.inf (also .Inf, .INF), .nan (also .NaN, .NAN)
 *   string: everything else, including YAML 1.1's yes/no/on/off and 1_000.
 * Quoted and block (| >) scalars are always strings.  An integer whose
 * magnitude exceeds 2^53, or a float that overflows or underflows a double,
 * stays a string holding the text as written: a double cannot hold it
 * exactly and silently changing a value is worse than a type error.
 * .inf and .nan become numbers (cJSON prints them as null).
 * Explicit tags: !!str forces a string, !!int / !!float / !!bool / !!null
 * must match their pattern (else a parse error; !!float also accepts ints),
 * !!map / !!seq must match the node kind, the non-specific "!" makes a
 * string; other tags (!!binary, !!timestamp, !custom) are ignored.
 *
 * Mapping keys must be scalars (or aliases of scalars) and become the
 * scalar's text as written, whatever its type ("1", "true", "~").  A key
 * repeated within one mapping is an error naming both positions.  The merge
 * key "<<" (plain, or tagged !!merge) takes a mapping or a sequence of
 * mappings; explicit keys win over merged ones, earlier sources over later.
 * Merged members are appended after the explicit ones.
 *
 * Scalars containing a NUL character are rejected: cJSON strings end at NUL.
 */
#ifndef BGSWITCH_YAMLJSON_H
#define BGSWITCH_YAMLJSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Defaults used where a yj_limits field is 0. */
#define YJ_DEFAULT_MAX_DEPTH       256		/* nesting levels, root = 1 */
#define YJ_DEFAULT_MAX_NODES       4000000	/* cJSON nodes in the whole stream */
#define YJ_DEFAULT_MAX_ALIAS_NODES 100000	/* nodes made by copying aliases */
#define YJ_DEFAULT_MAX_ALIAS_BYTES (32u << 20)	/* string bytes copied by aliases */
#define YJ_MAX_DEPTH_CAP           4096		/* max_depth is clamped to this */

/* Bounds on one parse; a zero field means its default.  Alias limits count
 * what expansion would produce and are checked before copying anything. */
struct yj_limits {
	unsigned max_depth;
	size_t max_nodes;
	size_t max_alias_nodes;
	size_t max_alias_bytes;
};

/* A parse failure.  msg is ready to print: "NAME:LINE:COL: what went wrong"
 * (NAME is the file name, or "<input>"; ":LINE:COL" is left out when there
 * is no position, e.g. a file that cannot be opened).  line and col are
 * 1-based, 0 when unknown.  Syntax errors carry libyaml's problem text,
 * which names what was expected, and its context ("while parsing ..."). */
struct yj_error {
	char msg[512];
	int line, col;
};

struct yj_doc;		/* opaque: one parsed stream */

/* Parses LEN bytes of TEXT (need not be NUL-terminated; UTF-8, or UTF-16
 * with a BOM).  FILENAME (may be NULL) is only used in messages.  Returns
 * NULL and fills ERR (may be NULL) on failure.  An empty stream gives a doc
 * with zero documents. */
struct yj_doc *yj_parse(const char *text, size_t len, const char *filename,
    struct yj_error *err);
/* yj_parse with explicit limits (LIM may be NULL for all defaults). */
struct yj_doc *yj_parse_limits(const char *text, size_t len,
    const char *filename, const struct yj_limits *lim, struct yj_error *err);
/* Reads and parses PATH (at most 256 MiB); messages name PATH. */
struct yj_doc *yj_parse_file(const char *path, struct yj_error *err);

/* Number of documents in the stream ("---" separated). */
size_t yj_count(const struct yj_doc *doc);
/* Root of document I, owned by DOC; NULL if out of range or detached.  An
 * empty document ("---" alone) has a cJSON null root. */
cJSON *yj_root(const struct yj_doc *doc, size_t i);
/* Hands document I's root to the caller (free with cJSON_Delete); NULL if
 * out of range or already detached.  Its positions stay known while DOC
 * lives. */
cJSON *yj_detach(struct yj_doc *doc, size_t i);

/* Positions are looked up by node address.  Nodes the caller creates have
 * none, and a node allocated after the caller freed a parsed node may
 * reuse its address and report the old position, so look positions up
 * before editing a tree.  Columns count characters, not bytes. */

/* Where NODE's value starts: the first character of a scalar (its quote
 * or block indicator if any, or its &anchor / !tag when it has one), the
 * "[" or "{" of a flow collection, the first key or "-" of a block one,
 * the "*" of an alias.  Nodes copied from an alias report the alias's
 * position for the copy's root and the anchored original's positions
 * inside it; merged "<<" members report where they were written.
 * Returns 0 and sets *LINE, *COL (either may be NULL), or -1 if unknown. */
int yj_pos(const struct yj_doc *doc, const cJSON *node, int *line, int *col);
/* Where the key of mapping member NODE starts (for "unknown key" errors).
 * Returns -1 if NODE is not a mapping member or unknown. */
int yj_key_pos(const struct yj_doc *doc, const cJSON *node, int *line,
    int *col);
/* The FILENAME given to yj_parse ("<input>" for NULL), or yj_parse_file's
 * path. */
const char *yj_filename(const struct yj_doc *doc);
/* Frees DOC and every root not detached.  NULL is fine. */
void yj_free(struct yj_doc *doc);

/* Formats "FILE:LINE:COL: MESSAGE" into BUF (size N) using NODE's value
 * position, or "FILE: MESSAGE" when it has none.  Returns what snprintf
 * returns: the length the full text needs. */
int yj_errorf(const struct yj_doc *doc, const cJSON *node, char *buf, size_t n,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Same, at the key of mapping member NODE (falls back to its value). */
int yj_key_errorf(const struct yj_doc *doc, const cJSON *node, char *buf,
    size_t n, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
