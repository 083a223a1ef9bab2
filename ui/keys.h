/*
 * keys.h — the key bindings of the switchover screen as one table (tmux's
 * `bind -N`, nnn's bindings[]): each entry is a key, the action it runs,
 * its help text and when it applies.  The key bar (keybar.c) and the `?`
 * help (help.c) are both drawn from this table, and keys_handle()
 * dispatches through it, so what the screen says a key does is what it
 * does.
 */
#ifndef BGSWITCH_UI_KEYS_H
#define BGSWITCH_UI_KEYS_H

struct ui;

/* Where a key is read: the main screen, the full-screen log, the help, or
 * one of the modal dialogs.  A binding lists the modes it belongs to. */
enum ui_mode {
	UI_M_MAIN = 1 << 0,
	UI_M_LOG = 1 << 1,		/* `l`: the log full screen */
	UI_M_HELP = 1 << 2,		/* `?` */
	UI_M_CONFIRM = 1 << 3,		/* switch gate, rollback and quit dialogs: y / n */
	UI_M_TEXT = 1 << 4,		/* teardown gate: a name typed into a field */
	UI_M_FILTER = 1 << 5,		/* `/`: a filter typed on the bottom line */
};

enum ui_action {
	UI_A_NONE,
	UI_A_GATE,		/* open the waiting gate's dialog again */
	UI_A_ROLLBACK,		/* R: ask, then put traffic back on blue */
	UI_A_PAUSE,		/* p: pause / resume automatic steps */
	UI_A_FOCUS_NEXT,	/* Tab */
	UI_A_FOCUS_PREV,	/* Shift-Tab */
	UI_A_FOCUS_BLUE,	/* h, Left */
	UI_A_FOCUS_GREEN,	/* Right */
	UI_A_DOWN,
	UI_A_UP,
	UI_A_PAGE_DOWN,
	UI_A_PAGE_UP,
	UI_A_TOP,
	UI_A_BOTTOM,
	UI_A_FILTER,		/* /: filter the focused list */
	UI_A_LOG,		/* l: full-screen log on / off */
	UI_A_HELP,		/* ?: help on / off */
	UI_A_REDRAW,		/* Ctrl-L */
	UI_A_QUIT,		/* q: leave (asks while a stage runs) */
	UI_A_INTERRUPT,		/* Ctrl-C: like SIGINT, stop at a safe point and leave */
	UI_A_CLOSE,		/* Esc: close what is open */
	UI_A_YES,		/* y in a confirmation dialog */
	UI_A_NO,		/* n in a confirmation dialog */
	UI_A_SUBMIT,		/* Enter in a text field */
	UI_A_ERASE,		/* Backspace in a text field */
	UI_A_KILL,		/* Ctrl-U in a text field */
};

#define UI_KEY_MAX_CODES 4

struct ui_key {
	int codes[UI_KEY_MAX_CODES];	/* curses key codes; 0 ends the list */
	const char *name;		/* how help spells the keys: "j Down" */
	const char *bar;		/* key bar label, "" when it has none there */
	const char *bar_key;		/* key name in the key bar ("Enter") */
	unsigned modes;			/* enum ui_mode bits */
	enum ui_action action;
	const char *help;		/* what it does */
	const char *when;		/* when it applies, in words */
	int (*applies)(const struct ui *u);	/* NULL: always in its modes */
};

/* The table, in key bar order. */
const struct ui_key *keys_table(unsigned *n);
/* The mode the screen is in now. */
enum ui_mode keys_mode(const struct ui *u);
/* 1 when K acts now (its mode, and its condition). */
int keys_active(const struct ui *u, const struct ui_key *k);
/* Runs the binding of CH in the current mode; printable characters go to
 * an open text field.  Returns 1 when the screen should be redrawn. */
int keys_handle(struct ui *u, int ch);

#endif
