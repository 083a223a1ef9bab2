/*
 * test_theme.c — theme files: the four bundled themes, the errors a bad
 * line gives (file, line and key), where a theme name is looked for, and
 * the mono rules (NO_COLOR, --no-color, no colour pair in attributes).
 * Colour pairs need a terminal, so colour themes are tested as parsed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ui/theme.h"

static const char *const bundled[] = { "default", "light", "colorblind", "mono" };

static char tmpdir[256];

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/bgswitch-theme-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	/* A private, empty user directory for every test. */
	setenv("XDG_CONFIG_HOME", tmpdir, 1);
	unsetenv("NO_COLOR");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[65536];
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The user's theme directory, created. */
static void
user_theme(const char *name, const char *text)
{
	char path[600];

	snprintf(path, sizeof path, "%s/bgswitch", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/bgswitch/themes", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/bgswitch/themes/%s.theme", tmpdir, name);
	write_file(path, text);
}

/* ---- the bundled themes --------------------------------------------------------------- */

static void
test_role_names(void **state)
{
	(void)state;
	assert_string_equal(theme_role_name(UI_NORMAL), "normal");
	assert_string_equal(theme_role_name(UI_LIVE), "live");
	assert_string_equal(theme_role_name(UI_DIALOG), "dialog");
	for (int r = 0; r < UI_NROLES; r++) {
		assert_non_null(theme_role_name((enum ui_role)r));
		assert_string_not_equal(theme_role_name((enum ui_role)r), "?");
		for (int q = 0; q < r; q++)
			assert_string_not_equal(theme_role_name((enum ui_role)r), theme_role_name((enum ui_role)q));
	}
}

/* The files in themes/ (as installed) each name every role themselves. */
static void
test_bundled_files_fill_every_role(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bundled / sizeof bundled[0]; i++) {
		char path[256], err[512];
		struct theme t;
		const char *text;

		snprintf(path, sizeof path, "themes/%s.theme", bundled[i]);
		text = read_file(path);
		if (text == NULL)
			fail_msg("%s: cannot read (run from the top of the tree)", path);
		if (theme_parse(text, strlen(text), path, &t, err, sizeof err) != 0)
			fail_msg("%s", err);
		if (t.named != (1u << UI_NROLES) - 1)
			fail_msg("%s leaves roles out (named bits %#x)", path, t.named);
		assert_int_equal(t.mono, strcmp(bundled[i], "mono") == 0);
	}
}

/* The built-in copies load without any file and match themes/. */
static void
test_builtin_copies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bundled / sizeof bundled[0]; i++) {
		char path[256], err[512];
		struct theme b, f;
		const char *text;

		if (theme_load(bundled[i], 0, &b, err, sizeof err) != 0)
			fail_msg("%s", err);
		assert_string_equal(b.name, bundled[i]);
		/* From the binary unless this machine has it installed. */
		snprintf(path, sizeof path, "%s/%s.theme", theme_datadir(), bundled[i]);
		if (access(path, F_OK) != 0)
			assert_string_equal(b.path, "");
		snprintf(path, sizeof path, "themes/%s.theme", bundled[i]);
		text = read_file(path);
		assert_non_null(text);
		assert_int_equal(theme_parse(text, strlen(text), path, &f, err, sizeof err), 0);
		assert_memory_equal(b.roles, f.roles, sizeof b.roles);
		assert_int_equal(b.mono, f.mono);
	}
}

static void
test_colour_themes_parse_colours(void **state)
{
	struct theme t;
	char err[512];

	(void)state;
	assert_int_equal(theme_load("default", 0, &t, err, sizeof err), 0);
	assert_int_equal(t.mono, 0);
	/* blue and green differ from each other and from plain text */
	assert_true(t.roles[UI_BLUE].fg != t.roles[UI_GREEN].fg);
	assert_true(t.roles[UI_BLUE].fg >= 0 && t.roles[UI_GREEN].fg >= 0);
	assert_true(t.roles[UI_LIVE].attrs & A_BOLD);

	assert_int_equal(theme_load("colorblind", 0, &t, err, sizeof err), 0);
	/* Okabe-Ito sky blue against orange: a blue-yellow contrast */
	assert_int_equal(t.roles[UI_BLUE].fg, 74);
	assert_int_equal(t.roles[UI_GREEN].fg, 178);
	assert_int_equal(theme_fallback(t.roles[UI_BLUE].fg, 8), COLOR_CYAN);
	assert_int_equal(theme_fallback(t.roles[UI_GREEN].fg, 8), COLOR_YELLOW);
}

static void
test_grammar(void **state)
{
	static const char text[] =
	    "# a comment\n"
	    "\n"
	    "  normal = default   # trailing comment\r\n"
	    "live = black on bright-yellow bold underline\n"
	    "ok=green\n"
	    "warn = 214 reverse on 17 dim\n"
	    "danger = Bright-Red BOLD\n";
	struct theme t;
	char err[512];

	(void)state;
	assert_int_equal(theme_parse(text, sizeof text - 1, "g.theme", &t, err, sizeof err), 0);
	assert_int_equal(t.roles[UI_NORMAL].fg, -1);
	assert_int_equal(t.roles[UI_NORMAL].bg, -1);
	assert_int_equal(t.roles[UI_LIVE].fg, COLOR_BLACK);
	assert_int_equal(t.roles[UI_LIVE].bg, 8 + COLOR_YELLOW);
	assert_int_equal(t.roles[UI_LIVE].attrs, A_BOLD | A_UNDERLINE);
	assert_int_equal(t.roles[UI_OK].fg, COLOR_GREEN);
	assert_int_equal(t.roles[UI_WARN].fg, 214);
	assert_int_equal(t.roles[UI_WARN].bg, 17);
	assert_int_equal(t.roles[UI_WARN].attrs, A_REVERSE | A_DIM);
	assert_int_equal(t.roles[UI_DANGER].fg, 8 + COLOR_RED);
	assert_int_equal(t.named, (1u << UI_NORMAL) | (1u << UI_LIVE) | (1u << UI_OK) | (1u << UI_WARN)
	    | (1u << UI_DANGER));
	assert_int_equal(t.mono, 0);
}

/* Roles a file leaves out come from the built-in default (mono for a file
 * without colours). */
static void
test_missing_roles_inherit(void **state)
{
	struct theme t, d, m;
	char err[512];

	(void)state;
	assert_int_equal(theme_load("default", 0, &d, err, sizeof err), 0);
	assert_int_equal(theme_load("mono", 0, &m, err, sizeof err), 0);
	assert_int_equal(theme_parse("live = red\n", 11, "x", &t, err, sizeof err), 0);
	assert_int_equal(t.roles[UI_LIVE].fg, COLOR_RED);
	assert_memory_equal(&t.roles[UI_OK], &d.roles[UI_OK], sizeof t.roles[UI_OK]);
	assert_memory_equal(&t.roles[UI_BLUE], &d.roles[UI_BLUE], sizeof t.roles[UI_BLUE]);
	assert_int_equal(t.mono, 0);

	assert_int_equal(theme_parse("live = default bold\n", 20, "y", &t, err, sizeof err), 0);
	assert_memory_equal(&t.roles[UI_DANGER], &m.roles[UI_DANGER], sizeof t.roles[UI_DANGER]);
	assert_int_equal(t.mono, 1);
}

/* ---- errors name the file, the line and the key ------------------------------------ */

static void
error_is(const char *text, const char *want)
{
	struct theme t;
	char err[512];

	err[0] = '\0';
	assert_int_equal(theme_parse(text, strlen(text), "bad.theme", &t, err, sizeof err), -1);
	if (strstr(err, want) == NULL)
		fail_msg("for %s\n   got: %s\n  want: ...%s...", text, err, want);
}

static void
test_errors(void **state)
{
	(void)state;
	error_is("normal = default\n# x\nlivee = red\n", "bad.theme:3: key 'livee': unknown role (known: normal, muted,");
	error_is("livee = red\n", "candidate, ok, warn, danger, stale, selected, dialog)");
	error_is("live = gren\n", "bad.theme:1: key 'live': unknown colour 'gren' (known: default, black, red,");
	error_is("live = red on purple\n", "bad.theme:1: key 'live': unknown colour 'purple' (known:");
	error_is("live = 256\n", "bad.theme:1: key 'live': colour 256 is out of range");
	error_is("ok = green\n\nok = red\n", "bad.theme:3: key 'ok': set twice (first on line 1)");
	error_is("ok = green\nOK = red\n", "bad.theme:2: key 'OK': set twice (first on line 1)");
	error_is("\n\nlive red bold\n", "bad.theme:3: key 'live': missing '='");
	error_is("live = red blink\n", "bad.theme:1: key 'live': unknown attribute 'blink' (known: bold, underline,");
	error_is("live =\n", "bad.theme:1: key 'live': no colour after '='");
	error_is("live = bold\n", "bad.theme:1: key 'live': 'bold' where the foreground colour belongs");
	error_is("live = red on\n", "bad.theme:1: key 'live': 'on' needs a background colour");
	error_is("live = red blue\n", "bad.theme:1: key 'live': a second colour 'blue': write 'on blue'");
	error_is("live = red on blue on black\n", "key 'live': a second 'on'");
	error_is("= red\n", "bad.theme:1: key '': no role before '='");
}

/* A bad user file is an error naming its path, not a silent fallback. */
static void
test_bad_user_file_names_path(void **state)
{
	struct theme t;
	char err[512], want[600];

	(void)state;
	user_theme("default", "normal = default\nwarn = orange\n");
	assert_int_equal(theme_load("default", 0, &t, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s/bgswitch/themes/default.theme:2: key 'warn': unknown colour 'orange'",
	    tmpdir);
	if (strstr(err, want) == NULL)
		fail_msg("got: %s\nwant: %s", err, want);
}

/* ---- where themes are found ---------------------------------------------------------- */

static void
test_user_dir_shadows_builtin(void **state)
{
	struct theme t;
	char err[512], path[600];

	(void)state;
	user_theme("light", "normal = default\nlive = 201 bold\n");
	assert_int_equal(theme_load("light", 0, &t, err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/bgswitch/themes/light.theme", tmpdir);
	assert_string_equal(t.path, path);
	assert_string_equal(t.name, "light");
	assert_int_equal(t.roles[UI_LIVE].fg, 201);
	/* "light.theme" names the same theme */
	assert_int_equal(theme_load("light.theme", 0, &t, err, sizeof err), 0);
	assert_string_equal(t.path, path);
	/* a theme only the user has */
	user_theme("night", "live = 93\n");
	assert_int_equal(theme_load("night", 0, &t, err, sizeof err), 0);
	assert_string_equal(t.name, "night");
	assert_int_equal(t.roles[UI_LIVE].fg, 93);
	/* others still come from the binary */
	assert_int_equal(theme_load("colorblind", 0, &t, err, sizeof err), 0);
	assert_string_equal(t.name, "colorblind");
}

static void
test_home_config_when_no_xdg(void **state)
{
	struct theme t;
	char err[512], home[400], path[600];
	char *old = getenv("HOME") != NULL ? strdup(getenv("HOME")) : NULL;

	(void)state;
	snprintf(home, sizeof home, "%s/home", tmpdir);
	mkdir(home, 0700);
	snprintf(path, sizeof path, "%s/.config", home);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/.config/bgswitch", home);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/.config/bgswitch/themes", home);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/.config/bgswitch/themes/mine.theme", home);
	write_file(path, "ok = 22\n");
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(theme_load("mine", 0, &t, err, sizeof err), 0);
	assert_string_equal(t.path, path);
	/* a relative XDG_CONFIG_HOME is ignored (XDG spec) */
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	assert_int_equal(theme_load("mine", 0, &t, err, sizeof err), 0);
	assert_string_equal(t.path, path);
	if (old != NULL)
		setenv("HOME", old, 1);
	free(old);
}

static void
test_path_with_slash(void **state)
{
	struct theme t;
	char err[512], path[600];

	(void)state;
	snprintf(path, sizeof path, "%s/sunset.theme", tmpdir);
	write_file(path, "blue = 33\ngreen = 208\n");
	assert_int_equal(theme_load(path, 0, &t, err, sizeof err), 0);
	assert_string_equal(t.name, "sunset");
	assert_string_equal(t.path, path);
	assert_int_equal(t.roles[UI_GREEN].fg, 208);
	/* a path is never looked up elsewhere */
	snprintf(path, sizeof path, "%s/default.theme", tmpdir);
	assert_int_equal(theme_load(path, 0, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "no such theme file"));
	assert_non_null(strstr(err, path));
	/* a relative path too */
	assert_int_equal(theme_load("./themes/light.theme", 0, &t, err, sizeof err), 0);
	assert_string_equal(t.name, "light");
	assert_string_equal(t.path, "./themes/light.theme");
}

static void
test_unknown_name(void **state)
{
	struct theme t;
	char err[512];

	(void)state;
	assert_int_equal(theme_load("no-such-theme-xyz", 0, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "theme 'no-such-theme-xyz' not found"));
	assert_non_null(strstr(err, tmpdir));
	assert_non_null(strstr(err, "built in: default, light, colorblind, mono"));
	assert_int_equal(theme_load("..", 0, &t, err, sizeof err), -1);
	/* NULL and "" are the default theme */
	assert_int_equal(theme_load(NULL, 0, &t, err, sizeof err), 0);
	assert_string_equal(t.name, "default");
	assert_int_equal(theme_load("", 0, &t, err, sizeof err), 0);
	assert_string_equal(t.name, "default");
}

/* ---- mono ----------------------------------------------------------------------------- */

static void
assert_no_colour(const struct theme *t)
{
	assert_int_equal(t->mono, 1);
	for (int r = 0; r < UI_NROLES; r++) {
		unsigned long a = theme_attr(t, (enum ui_role)r);

		assert_int_equal(t->roles[r].fg, -1);
		assert_int_equal(t->roles[r].bg, -1);
		assert_int_equal(PAIR_NUMBER(a), 0);
		assert_int_equal(a & A_COLOR, 0);
		assert_int_equal(a, t->roles[r].attrs);
	}
}

static void
test_no_color_gives_mono(void **state)
{
	struct theme t;
	char err[512];

	(void)state;
	setenv("NO_COLOR", "1", 1);
	assert_int_equal(theme_load("colorblind", 0, &t, err, sizeof err), 0);
	assert_string_equal(t.name, "mono");
	assert_no_colour(&t);
	/* whatever the name says, even one that does not exist */
	assert_int_equal(theme_load("no-such-theme-xyz", 0, &t, err, sizeof err), 0);
	assert_no_colour(&t);
	/* an empty NO_COLOR does not count (no-color.org) */
	setenv("NO_COLOR", "", 1);
	assert_int_equal(theme_load("colorblind", 0, &t, err, sizeof err), 0);
	assert_string_equal(t.name, "colorblind");
	assert_int_equal(t.mono, 0);
	unsetenv("NO_COLOR");
	/* --no-color */
	assert_int_equal(theme_load("light", 1, &t, err, sizeof err), 0);
	assert_no_colour(&t);
}

/* A user's mono.theme with colours is still shown without them. */
static void
test_forced_mono_strips_user_colours(void **state)
{
	struct theme t;
	char err[512];

	(void)state;
	user_theme("mono", "live = red reverse\n");
	assert_int_equal(theme_load("default", 1, &t, err, sizeof err), 0);
	assert_no_colour(&t);
	assert_int_equal(t.roles[UI_LIVE].attrs, A_REVERSE);
}

static void
test_mono_attrs(void **state)
{
	struct theme t;
	char err[512];

	(void)state;
	assert_int_equal(theme_load("mono", 0, &t, err, sizeof err), 0);
	assert_no_colour(&t);
	assert_true(theme_attr(&t, UI_LIVE) & A_REVERSE);
	assert_true(theme_attr(&t, UI_DANGER) & A_BOLD);
	assert_true(theme_attr(&t, UI_SELECTED) & A_REVERSE);
	assert_int_equal(theme_attr(&t, UI_NORMAL), A_NORMAL);
	/* no terminal was set up: a colour theme gives its attributes only */
	assert_int_equal(theme_load("default", 0, &t, err, sizeof err), 0);
	assert_int_equal(theme_attr(&t, UI_LIVE) & A_COLOR, 0);
	assert_int_equal(theme_attr(&t, UI_NROLES), A_NORMAL);
}

/* ---- colours on small terminals ------------------------------------------------------- */

static void
test_fallback(void **state)
{
	(void)state;
	assert_int_equal(theme_fallback(-1, 8), -1);
	assert_int_equal(theme_fallback(196, 256), 196);
	assert_int_equal(theme_fallback(3, 8), 3);
	assert_int_equal(theme_fallback(8 + COLOR_RED, 8), COLOR_RED);		/* bright-red */
	assert_int_equal(theme_fallback(8 + COLOR_RED, 16), 8 + COLOR_RED);
	assert_int_equal(theme_fallback(196, 8), COLOR_RED);			/* #ff0000 */
	assert_int_equal(theme_fallback(114, 8), COLOR_GREEN);			/* soft green stays green */
	assert_int_equal(theme_fallback(114, 16), 8 + COLOR_GREEN);
	assert_int_equal(theme_fallback(28, 16), COLOR_GREEN);			/* dark green */
	assert_int_equal(theme_fallback(69, 8), COLOR_BLUE);
	assert_int_equal(theme_fallback(214, 8), COLOR_YELLOW);			/* amber */
	assert_int_equal(theme_fallback(201, 8), COLOR_MAGENTA);
	assert_int_equal(theme_fallback(16, 8), COLOR_BLACK);
	assert_int_equal(theme_fallback(231, 8), COLOR_WHITE);
	assert_int_equal(theme_fallback(236, 8), COLOR_BLACK);			/* dark grey */
	assert_int_equal(theme_fallback(245, 8), -1);				/* mid grey: default */
	assert_int_equal(theme_fallback(245, 16), 8);				/* bright-black */
	assert_int_equal(theme_fallback(254, 8), COLOR_WHITE);
	assert_int_equal(theme_fallback(300, 256), -1);
	/* every colour of every bundled theme has a sensible 8-colour form:
	 * a blue and a green cluster never become the same colour */
	for (size_t i = 0; i < sizeof bundled / sizeof bundled[0]; i++) {
		struct theme t;
		char err[512];

		assert_int_equal(theme_load(bundled[i], 0, &t, err, sizeof err), 0);
		if (t.mono)
			continue;
		assert_true(theme_fallback(t.roles[UI_BLUE].fg, 8) != theme_fallback(t.roles[UI_GREEN].fg, 8));
		assert_true(theme_fallback(t.roles[UI_OK].fg, 8) != theme_fallback(t.roles[UI_DANGER].fg, 8));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_names),
		cmocka_unit_test_setup_teardown(test_bundled_files_fill_every_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_builtin_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_colour_themes_parse_colours, setup, teardown),
		cmocka_unit_test(test_grammar),
		cmocka_unit_test_setup_teardown(test_missing_roles_inherit, setup, teardown),
		cmocka_unit_test(test_errors),
		cmocka_unit_test_setup_teardown(test_bad_user_file_names_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_dir_shadows_builtin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_home_config_when_no_xdg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_with_slash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_color_gives_mono, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forced_mono_strips_user_colours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mono_attrs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
