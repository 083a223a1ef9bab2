/*
 * theme.c — theme files: parsing them into roles, finding them (a path,
 * the user's XDG directory, the installed ones, the copies built into the
 * binary), and turning roles into curses colour pairs.
 *
 * A file may leave roles out: they take the value of the built-in
 * `default` theme (or of `mono` when the file names no colour at all), so
 * a user's theme written for this version keeps working when a later one
 * adds a role.  Everything else that is not understood is an error naming
 * the file, the line and the key, as the config file's loader does: a
 * typo in a theme should be seen, not silently drawn as plain text.
 *
 * Colours are xterm's 256 numbers.  On a terminal with fewer, a number it
 * does not have becomes the nearest colour it has by hue (so a soft green
 * stays green rather than becoming the "nearest" white), a grey becomes
 * black, white or the terminal's own default; see fallback().
 */
#include "ui/theme.h"

#include <ctype.h>
#include <curses.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#ifndef BGSWITCH_DATADIR
#define BGSWITCH_DATADIR "/usr/local/share/bgswitch"
#endif

#define THEME_MAX_BYTES	(64 * 1024)

/* Built from themes/NAME.theme by tools/embed.sh (Makefile). */
extern const char theme_builtin_default[], theme_builtin_light[], theme_builtin_colorblind[],
    theme_builtin_mono[];
extern const unsigned long theme_builtin_default_len, theme_builtin_light_len,
    theme_builtin_colorblind_len, theme_builtin_mono_len;

static const struct builtin {
	const char *name;
	const char *text;
	const unsigned long *len;
} builtins[] = {
	{ "default", theme_builtin_default, &theme_builtin_default_len },
	{ "light", theme_builtin_light, &theme_builtin_light_len },
	{ "colorblind", theme_builtin_colorblind, &theme_builtin_colorblind_len },
	{ "mono", theme_builtin_mono, &theme_builtin_mono_len },
};
#define NBUILTINS (sizeof builtins / sizeof builtins[0])

static const char *const role_names[UI_NROLES] = {
	[UI_NORMAL] = "normal",
	[UI_MUTED] = "muted",
	[UI_TITLE] = "title",
	[UI_BORDER] = "border",
	[UI_HEADER] = "header",
	[UI_KEYBAR] = "keybar",
	[UI_KEY] = "key",
	[UI_BLUE] = "blue",
	[UI_GREEN] = "green",
	[UI_LIVE] = "live",
	[UI_CANDIDATE] = "candidate",
	[UI_OK] = "ok",
	[UI_WARN] = "warn",
	[UI_DANGER] = "danger",
	[UI_STALE] = "stale",
	[UI_SELECTED] = "selected",
	[UI_DIALOG] = "dialog",
};

static const char *const colour_names[8] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

static const struct {
	const char *name;
	unsigned attr;
} attr_names[] = {
	{ "bold", A_BOLD }, { "underline", A_UNDERLINE }, { "reverse", A_REVERSE }, { "dim", A_DIM },
};

/* Whether theme_apply() made colour pairs that theme_attr() may use. */
static int pairs_ready;

const char *
theme_role_name(enum ui_role r)
{
	return (unsigned)r < UI_NROLES ? role_names[r] : "?";
}

/* ---- parsing ------------------------------------------------------------------------ */

struct parser {
	const char *name;
	int line;
	char key[64];
	char *err;
	size_t errlen;
};

static int
fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct parser *p, const char *fmt, ...)
{
	char what[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (p->err != NULL && p->errlen > 0)
		snprintf(p->err, p->errlen, "%s:%d: key '%s': %s", p->name, p->line, p->key, what);
	return -1;
}

/* The key for messages: at most the first N bytes of S. */
static void
set_key(struct parser *p, const char *s, size_t n)
{
	if (n >= sizeof p->key)
		n = sizeof p->key - 1;
	memcpy(p->key, s, n);
	p->key[n] = '\0';
}

static void
known_roles(char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int r = 0; r < UI_NROLES && len < n; r++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", r ? ", " : "", role_names[r]);
}

#define KNOWN_COLOURS "default, black, red, green, yellow, blue, magenta, cyan, white, " \
	"bright-black ... bright-white, 0..255"
#define KNOWN_ATTRS "bold, underline, reverse, dim"

/* A colour word: a name, bright-NAME, default, or 0..255.  0 with *OUT
 * set, -1 with the parser's error. */
static int
parse_colour(struct parser *p, const char *w, short *out)
{
	if (isdigit((unsigned char)w[0])) {
		char *end;
		long v;

		errno = 0;
		v = strtol(w, &end, 10);
		if (*end != '\0')
			return fail(p, "unknown colour '%s' (known: %s)", w, KNOWN_COLOURS);
		if (errno != 0 || v > 255)
			return fail(p, "colour %s is out of range (known: %s)", w, KNOWN_COLOURS);
		*out = (short)v;
		return 0;
	}
	if (strcasecmp(w, "default") == 0) {
		*out = -1;
		return 0;
	}
	for (int i = 0; i < 8; i++) {
		if (strcasecmp(w, colour_names[i]) == 0) {
			*out = (short)i;
			return 0;
		}
		if (strncasecmp(w, "bright-", 7) == 0 && strcasecmp(w + 7, colour_names[i]) == 0) {
			*out = (short)(8 + i);
			return 0;
		}
	}
	return fail(p, "unknown colour '%s' (known: %s)", w, KNOWN_COLOURS);
}

static int
attr_of(const char *w, unsigned *out)
{
	for (size_t i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++)
		if (strcasecmp(w, attr_names[i].name) == 0) {
			*out = attr_names[i].attr;
			return 0;
		}
	return -1;
}

/* The value of one line, after '=': FG, then "on BG" and attributes in any
 * order. */
static int
parse_value(struct parser *p, char *v, struct theme_role *out)
{
	char *save = NULL, *w;
	int have_bg = 0;
	unsigned a;

	out->fg = out->bg = -1;
	out->attrs = 0;
	if ((w = strtok_r(v, " \t", &save)) == NULL)
		return fail(p, "no colour after '=' (expected: FG [on BG] [%s]; colours: %s)",
		    "bold] [underline] [reverse] [dim", KNOWN_COLOURS);
	if (attr_of(w, &a) == 0 || strcasecmp(w, "on") == 0)
		return fail(p, "'%s' where the foreground colour belongs; write 'default %s' for the "
		    "terminal's own (known: %s)", w, w, KNOWN_COLOURS);
	if (parse_colour(p, w, &out->fg) != 0)
		return -1;
	while ((w = strtok_r(NULL, " \t", &save)) != NULL) {
		if (strcasecmp(w, "on") == 0) {
			if (have_bg++)
				return fail(p, "a second 'on': one background only");
			if ((w = strtok_r(NULL, " \t", &save)) == NULL)
				return fail(p, "'on' needs a background colour (known: %s)", KNOWN_COLOURS);
			if (parse_colour(p, w, &out->bg) != 0)
				return -1;
		} else if (attr_of(w, &a) == 0) {
			out->attrs |= a;
		} else {
			short dummy;

			if (parse_colour(p, w, &dummy) == 0)
				return fail(p, "a second colour '%s': write 'on %s' for a background", w, w);
			return fail(p, "unknown attribute '%s' (known: %s)", w, KNOWN_ATTRS);
		}
	}
	return 0;
}

static int
role_of(const char *key)
{
	for (int r = 0; r < UI_NROLES; r++)
		if (strcasecmp(key, role_names[r]) == 0)
			return r;
	return -1;
}

static const struct builtin *
builtin_named(const char *name)
{
	for (size_t i = 0; i < NBUILTINS; i++)
		if (strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	return NULL;
}

/* Parses TEXT's lines into T; FILL: take roles the text leaves out from a
 * built-in theme. */
static int
parse(const char *text, size_t len, const char *name, struct theme *t, int fill, char *err,
    size_t errlen)
{
	struct parser p = { .name = name != NULL ? name : "theme", .err = err, .errlen = errlen };
	int first_line[UI_NROLES] = { 0 };
	const char *s = text, *end = text + len;
	int coloured = 0;

	memset(t->roles, 0, sizeof t->roles);
	for (int r = 0; r < UI_NROLES; r++)
		t->roles[r].fg = t->roles[r].bg = -1;
	t->named = 0;
	t->mono = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
		char line[512], *hash, *eq, *k, *ke, *v;
		int role;

		p.line++;
		p.key[0] = '\0';
		if (n >= sizeof line) {
			set_key(&p, s, 20);
			return fail(&p, "line longer than %zu characters", sizeof line - 1);
		}
		memcpy(line, s, n);
		line[n] = '\0';
		s = nl != NULL ? nl + 1 : end;
		if (memchr(line, '\0', n) != NULL) {
			set_key(&p, line, strlen(line));
			return fail(&p, "a NUL byte: not a text file");
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		for (k = line; *k == ' ' || *k == '\t' || *k == '\r'; k++)
			;
		ke = k + strlen(k);
		while (ke > k && isspace((unsigned char)ke[-1]))
			*--ke = '\0';
		if (*k == '\0')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			set_key(&p, k, strcspn(k, " \t"));
			return fail(&p, "missing '=' (expected: ROLE = FG [on BG] [bold] [underline] [reverse] [dim])");
		}
		v = eq + 1;
		for (ke = eq; ke > k && (ke[-1] == ' ' || ke[-1] == '\t'); ke--)
			;
		*ke = '\0';
		set_key(&p, k, strlen(k));
		if (*k == '\0')
			return fail(&p, "no role before '='");
		if ((role = role_of(k)) < 0) {
			char known[300];

			known_roles(known, sizeof known);
			return fail(&p, "unknown role (known: %s)", known);
		}
		if (first_line[role] != 0)
			return fail(&p, "set twice (first on line %d)", first_line[role]);
		first_line[role] = p.line;
		if (parse_value(&p, v, &t->roles[role]) != 0)
			return -1;
		t->named |= 1u << role;
		coloured |= t->roles[role].fg >= 0 || t->roles[role].bg >= 0;
	}
	if (fill && t->named != (1u << UI_NROLES) - 1) {
		const struct builtin *b = builtin_named(coloured ? "default" : "mono");
		struct theme base;

		if (b != NULL && parse(b->text, *b->len, b->name, &base, 0, NULL, 0) == 0)
			for (int r = 0; r < UI_NROLES; r++)
				if (!(t->named & (1u << r)))
					t->roles[r] = base.roles[r];
	}
	t->mono = 1;
	for (int r = 0; r < UI_NROLES; r++)
		if (t->roles[r].fg >= 0 || t->roles[r].bg >= 0)
			t->mono = 0;
	return 0;
}

int
theme_parse(const char *text, size_t len, const char *name, struct theme *t, char *err, size_t errlen)
{
	int rc;

	if (t == NULL || (text == NULL && len > 0)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: no theme", name != NULL ? name : "theme");
		return -1;
	}
	rc = parse(text != NULL ? text : "", len, name, t, 1, err, errlen);
	snprintf(t->name, sizeof t->name, "%s", name != NULL ? name : "");
	t->path[0] = '\0';
	return rc;
}

/* ---- finding ------------------------------------------------------------------------- */

/* Reads PATH whole.  1 read, 0 not there, -1 with ERR (there but unusable). */
static int
read_file(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;
	size_t n;

	*out = NULL;
	if (f == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		fclose(f);
		return -1;
	}
	if (st.st_size > THEME_MAX_BYTES) {
		snprintf(err, errlen, "%s: %lld bytes; a theme file is at most %d", path, (long long)st.st_size,
		    THEME_MAX_BYTES);
		fclose(f);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 1;
}

static int
load_file(const char *path, const char *name, struct theme *t, char *err, size_t errlen)
{
	char *text;
	size_t len = 0;
	int rc;

	if ((rc = read_file(path, &text, &len, err, errlen)) <= 0)
		return rc;
	rc = parse(text, len, path, t, 1, err, errlen);
	free(text);
	if (rc != 0)
		return -1;
	snprintf(t->name, sizeof t->name, "%s", name);
	snprintf(t->path, sizeof t->path, "%s", path);
	return 1;
}

/* $XDG_CONFIG_HOME/bgswitch/themes, or ~/.config/...; "" when neither is
 * known.  A relative XDG_CONFIG_HOME is ignored, as the XDG spec says. */
static void
user_dir(char *buf, size_t n)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	buf[0] = '\0';
	if (x != NULL && x[0] == '/')
		snprintf(buf, n, "%s/bgswitch/themes", x);
	else if (home != NULL && home[0] != '\0')
		snprintf(buf, n, "%s/.config/bgswitch/themes", home);
}

const char *
theme_datadir(void)
{
	return BGSWITCH_DATADIR "/themes";
}

static void
force_mono(struct theme *t)
{
	for (int r = 0; r < UI_NROLES; r++)
		t->roles[r].fg = t->roles[r].bg = -1;
	t->mono = 1;
}

int
theme_load(const char *name, int force, struct theme *t, char *err, size_t errlen)
{
	const char *nc = getenv("NO_COLOR");
	char base[64], dir[512], path[700], looked[1500];
	const struct builtin *b;
	size_t bl;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (name == NULL || name[0] == '\0')
		name = "default";
	if (force || (nc != NULL && nc[0] != '\0')) {
		name = "mono";
		force = 1;
	}
	memset(t, 0, sizeof *t);
	if (strchr(name, '/') != NULL) {
		const char *slash = strrchr(name, '/');

		snprintf(base, sizeof base, "%s", slash + 1);
		bl = strlen(base);
		if (bl > 6 && strcmp(base + bl - 6, ".theme") == 0)
			base[bl - 6] = '\0';
		if ((rc = load_file(name, base, t, err, errlen)) == 0)
			snprintf(err, errlen, "%s: no such theme file", name);
		return rc > 0 ? 0 : -1;
	}
	/* "dark.theme" means the theme "dark". */
	snprintf(base, sizeof base, "%s", name);
	bl = strlen(base);
	if (bl > 6 && strcmp(base + bl - 6, ".theme") == 0)
		base[bl - 6] = '\0';
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strlen(name) >= sizeof base) {
		snprintf(err, errlen, "'%s' is not a theme name", name);
		return -1;
	}
	looked[0] = '\0';
	user_dir(dir, sizeof dir);
	if (dir[0] != '\0') {
		snprintf(path, sizeof path, "%s/%s.theme", dir, base);
		if ((rc = load_file(path, base, t, err, errlen)) != 0)
			goto found;
		snprintf(looked, sizeof looked, "%s", path);
	}
	snprintf(path, sizeof path, "%s/%s.theme", theme_datadir(), base);
	if ((rc = load_file(path, base, t, err, errlen)) != 0)
		goto found;
	snprintf(looked + strlen(looked), sizeof looked - strlen(looked), "%s%s", looked[0] ? ", " : "", path);
	if ((b = builtin_named(base)) != NULL) {
		if (parse(b->text, *b->len, b->name, t, 1, err, errlen) != 0)
			return -1;
		snprintf(t->name, sizeof t->name, "%s", b->name);
		t->path[0] = '\0';
		rc = 1;
		goto found;
	}
	snprintf(err, errlen, "theme '%s' not found (looked for %s; built in: default, light, colorblind, mono)",
	    base, looked);
	return -1;
found:
	if (rc < 0)
		return -1;
	if (force)
		force_mono(t);
	return 0;
}

/* ---- curses ------------------------------------------------------------------------- */

/* xterm's RGB of colour N (0..255). */
static void
rgb_of(int n, int rgb[3])
{
	static const unsigned char basic[16][3] = {
		{ 0, 0, 0 }, { 205, 0, 0 }, { 0, 205, 0 }, { 205, 205, 0 },
		{ 0, 0, 238 }, { 205, 0, 205 }, { 0, 205, 205 }, { 229, 229, 229 },
		{ 127, 127, 127 }, { 255, 0, 0 }, { 0, 255, 0 }, { 255, 255, 0 },
		{ 92, 92, 255 }, { 255, 0, 255 }, { 0, 255, 255 }, { 255, 255, 255 },
	};
	static const int level[6] = { 0, 95, 135, 175, 215, 255 };

	if (n < 16) {
		for (int i = 0; i < 3; i++)
			rgb[i] = basic[n][i];
	} else if (n < 232) {
		n -= 16;
		rgb[0] = level[n / 36];
		rgb[1] = level[(n / 6) % 6];
		rgb[2] = level[n % 6];
	} else {
		rgb[0] = rgb[1] = rgb[2] = 8 + 10 * (n - 232);
	}
}

/*
 * Colour N on a terminal with COLORS colours: N itself when it has it;
 * else, for a grey, black or white (with 16 colours also the two greys),
 * and the terminal's default for a mid grey on 8 colours, which has no
 * grey; for any other colour the basic one of the nearest hue (red,
 * yellow, green, cyan, blue, magenta), its bright variant on 16 colours
 * when N is light.  -1 stays -1.
 */
int
theme_fallback(int n, int colors)
{
	static const int by_hue[6] = { COLOR_RED, COLOR_YELLOW, COLOR_GREEN, COLOR_CYAN, COLOR_BLUE,
		COLOR_MAGENTA };
	int rgb[3], max, min, light;
	double h;

	if (n < 0 || n > 255)
		return -1;
	if (n < colors)
		return n;
	if (colors < 8)
		return -1;
	if (n < 16)			/* bright-X on 8 colours */
		return n - 8;
	rgb_of(n, rgb);
	max = rgb[0] > rgb[1] ? rgb[0] : rgb[1];
	max = max > rgb[2] ? max : rgb[2];
	min = rgb[0] < rgb[1] ? rgb[0] : rgb[1];
	min = min < rgb[2] ? min : rgb[2];
	light = (max + min) / 2;
	if (max - min < 48) {
		if (colors >= 16)
			return light < 64 ? COLOR_BLACK : light < 160 ? 8 : light < 224 ? COLOR_WHITE : 15;
		return light < 80 ? COLOR_BLACK : light > 176 ? COLOR_WHITE : -1;
	}
	if (max == rgb[0])
		h = 60.0 * (rgb[1] - rgb[2]) / (max - min);
	else if (max == rgb[1])
		h = 60.0 * (rgb[2] - rgb[0]) / (max - min) + 120;
	else
		h = 60.0 * (rgb[0] - rgb[1]) / (max - min) + 240;
	if (h < 0)
		h += 360;
	n = by_hue[(int)((h + 30) / 60) % 6];
	return colors >= 16 && light > 150 ? n + 8 : n;
}

void
theme_apply(const struct theme *t)
{
	pairs_ready = 0;
	if (t == NULL || t->mono || !has_colors() || COLORS < 8 || COLOR_PAIRS <= UI_NROLES)
		return;
	for (int r = 0; r < UI_NROLES; r++) {
		short fg = (short)theme_fallback(t->roles[r].fg, COLORS);
		short bg = (short)theme_fallback(t->roles[r].bg, COLORS);

		if (fg >= 0 && fg == bg)	/* two colours the terminal cannot tell apart */
			bg = -1;
		if (init_pair((short)(r + 1), fg, bg) == ERR
		    && init_pair((short)(r + 1), fg < 0 ? COLOR_WHITE : fg, bg < 0 ? COLOR_BLACK : bg) == ERR)
			return;		/* no default colours either: attributes only */
	}
	pairs_ready = 1;
}

unsigned long
theme_attr(const struct theme *t, enum ui_role r)
{
	unsigned long a;

	if (t == NULL || (unsigned)r >= UI_NROLES)
		return A_NORMAL;
	a = t->roles[r].attrs;
	if (!t->mono && pairs_ready)
		a |= (unsigned long)COLOR_PAIR(r + 1);
	return a;
}
