/*
 * theme.h — colours as semantic roles (htop's ColorElements, ncdu's
 * UI_COLORS): the panels ask for a role ("live", "danger"), never a colour,
 * and a theme file fills the roles.
 *
 * Theme files (themes/NAME.theme; bgswitch(1), THEMES) are lines of
 *     ROLE = FG [on BG] [bold] [underline] [reverse] [dim]
 * with colours by name (black red green yellow blue magenta cyan white,
 * bright-RED..., default) or number 0..255; '#' starts a comment.  A bad
 * line is an error naming FILE:LINE and the key.
 *
 * Colour never carries meaning alone (PRODUCT.md §2): every role is also
 * spelled out in words or symbols by the panels, so `mono` and NO_COLOR
 * lose nothing.
 */
#ifndef BGSWITCH_UI_THEME_H
#define BGSWITCH_UI_THEME_H

#include <stddef.h>

enum ui_role {
	UI_NORMAL,		/* plain text */
	UI_MUTED,		/* secondary text: ages, sources, hints */
	UI_TITLE,		/* pane titles */
	UI_BORDER,		/* box lines */
	UI_HEADER,		/* the top line */
	UI_KEYBAR,		/* the bottom line */
	UI_KEY,			/* a key name in the key bar and help */
	UI_BLUE,		/* the blue cluster's name and bar */
	UI_GREEN,		/* the green cluster's name and bar */
	UI_LIVE,		/* the LIVE badge */
	UI_CANDIDATE,		/* the candidate badge */
	UI_OK,			/* passing, Ready, healthy */
	UI_WARN,		/* pending, soaking, degraded */
	UI_DANGER,		/* failing, NotReady, disconnected, rollback */
	UI_STALE,		/* data kept from before a disconnection */
	UI_SELECTED,		/* the selected row of a focused list */
	UI_DIALOG,		/* a gate's dialog */
	UI_NROLES
};

struct theme {
	char name[64];
	char path[512];		/* where it was read from; "" for built-in */
	struct theme_role {
		short fg, bg;		/* curses colour numbers; -1 = terminal default */
		unsigned attrs;		/* A_BOLD | A_UNDERLINE | A_REVERSE | A_DIM */
	} roles[UI_NROLES];
	int mono;		/* no colours: attributes only (mono theme, NO_COLOR) */
	unsigned named;		/* bit 1 << ROLE: the file set ROLE; the others came from
				 * the built-in default (mono for a file without colours) */
};

/* "normal", "muted", ...: the names theme files use. */
const char *theme_role_name(enum ui_role r);

/*
 * Loads theme NAME: a path when it contains '/', else NAME.theme from
 * $XDG_CONFIG_HOME/bgswitch/themes (~/.config when unset), then
 * DATADIR/themes (the installed ones), then the built-in copies of the
 * bundled themes.  NO_COLOR set and non-empty (no-color.org), or
 * FORCE_MONO, gives the mono theme whatever NAME says.  Returns 0, or -1
 * with ERR ("FILE:LINE: key 'livee': unknown role (known: ...)").
 */
int theme_load(const char *name, int force_mono, struct theme *t, char *err, size_t errlen);
/* Parses theme text (NAME in messages).  0, or -1 with ERR. */
int theme_parse(const char *text, size_t len, const char *name, struct theme *t, char *err,
    size_t errlen);
/* After initscr(): colour pairs for every role (no-op for mono, or a
 * terminal without colours). */
void theme_apply(const struct theme *t);
/* The curses attributes of role R (colour pair and attributes). */
unsigned long theme_attr(const struct theme *t, enum ui_role r);
/* Colour N (0..255, -1 default) on a terminal with COLORS colours: N, or
 * the nearest one it has by hue (greys: black, white or -1). */
int theme_fallback(int n, int colors);
/* Where installed themes are looked for: PREFIX/share/bgswitch/themes. */
const char *theme_datadir(void);

#endif
