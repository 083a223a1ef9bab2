/*
 * keys.c — the one table of key bindings and its dispatcher.
 *
 * Every binding is {keys, key-bar label, modes, action, help, when,
 * condition}.  keybar.c shows the bindings whose mode and condition hold
 * now; help.c lists them all; keys_handle() runs the first binding that
 * matches the key in the current mode.  A key nobody binds in a text mode
 * (the teardown name, a filter) is typed into the field.
 *
 * Vi keys: j / k move, g / G go to the top / bottom, h focuses the left
 * (blue) pane.  `l` is not "right": it shows the log full screen, which an
 * operator wants far more often; Right focuses the green pane.
 */
#include <ctype.h>
#include <string.h>

#include "ui/ui_internal.h"

#define CTRL(c) ((c) & 0x1f)
#define ESC 27

static int
at_gate(const struct ui *u)
{
	return u->m->gate != ENG_GATE_NONE && !u->stopping && !u->m->finished && u->dialog == UI_DLG_NONE;
}

static int
can_rollback(const struct ui *u)
{
	return u->m->rollback_allowed && !u->stopping && !u->m->finished;
}

static int
can_pause(const struct ui *u)
{
	return u->m->state == ENG_S_SWITCH && !u->m->paused && !u->m->finished && !u->stopping;
}

static int
can_resume(const struct ui *u)
{
	return u->m->paused && !u->m->finished && !u->stopping;
}

static int
can_quit(const struct ui *u)
{
	return !u->stopping || u->m->finished;
}

static int
has_filter(const struct ui *u)
{
	enum ui_focus f = u->fullscreen_log ? UI_FOCUS_LOG : u->focus;

	return u->list[f].filter[0] != '\0';
}

#define M_MAIN UI_M_MAIN
#define M_LOG UI_M_LOG
#define M_HELP UI_M_HELP
#define M_YN UI_M_CONFIRM
#define M_TEXT UI_M_TEXT
#define M_FILTER UI_M_FILTER
#define M_SCREEN (UI_M_MAIN | UI_M_LOG)
#define M_ANY (UI_M_MAIN | UI_M_LOG | UI_M_HELP | UI_M_CONFIRM | UI_M_TEXT | UI_M_FILTER)

static const struct ui_key table[] = {
	/* The main screen and the full-screen log; key bar order. */
	{ { '\n', '\r', KEY_ENTER }, "Enter", "confirm", "Enter", M_SCREEN, UI_A_GATE,
	  "open the waiting gate's dialog again", "at the switch or teardown gate", at_gate },
	{ { 'R' }, "R", "rollback", "R", M_SCREEN, UI_A_ROLLBACK,
	  "roll back: put traffic back on blue (asks y first)",
	  "during the switch, the rollback window and at the teardown gate", can_rollback },
	{ { 'p' }, "p", "pause", "p", M_SCREEN, UI_A_PAUSE,
	  "pause the automatic gateway steps", "during the switch (T3)", can_pause },
	{ { 'p' }, "p", "resume", "p", M_SCREEN, UI_A_PAUSE,
	  "resume the automatic gateway steps", "while paused", can_resume },
	{ { '\t' }, "Tab", "focus", "Tab", M_MAIN, UI_A_FOCUS_NEXT,
	  "focus the next list: blue nodes, green nodes, log", "main screen", NULL },
	{ { '/' }, "/", "filter", "/", M_SCREEN, UI_A_FILTER,
	  "filter the focused list (nodes: name, status, version; log: text)", "always", NULL },
	{ { 'l' }, "l", "log", "l", M_SCREEN, UI_A_LOG,
	  "show the log full screen / back to the main screen", "always", NULL },
	{ { '?' }, "?", "help", "?", M_SCREEN, UI_A_HELP, "this help", "always", NULL },
	{ { 'q' }, "q", "quit", "q", M_SCREEN, UI_A_QUIT,
	  "quit; while a stage runs asks y first, then stops it at the next safe point (the run "
	  "resumes from the journal next start)", "always", can_quit },
	{ { KEY_BTAB }, "Shift-Tab", "", "", M_MAIN, UI_A_FOCUS_PREV,
	  "focus the previous list", "main screen", NULL },
	{ { 'h', KEY_LEFT }, "h Left", "", "", M_MAIN, UI_A_FOCUS_BLUE,
	  "focus blue's node list (the left pane)", "main screen", NULL },
	{ { KEY_RIGHT }, "Right", "", "", M_MAIN, UI_A_FOCUS_GREEN,
	  "focus green's node list (the right pane; l is the log)", "main screen", NULL },
	{ { 'j', KEY_DOWN }, "j Down", "", "", M_SCREEN | M_HELP, UI_A_DOWN,
	  "move down in the focused list", "always", NULL },
	{ { 'k', KEY_UP }, "k Up", "", "", M_SCREEN | M_HELP, UI_A_UP,
	  "move up in the focused list (the log stops following)", "always", NULL },
	{ { KEY_NPAGE, CTRL('f'), ' ' }, "PgDn Ctrl-F Space", "", "", M_SCREEN | M_HELP, UI_A_PAGE_DOWN,
	  "a page down", "always", NULL },
	{ { KEY_PPAGE, CTRL('b') }, "PgUp Ctrl-B", "", "", M_SCREEN | M_HELP, UI_A_PAGE_UP,
	  "a page up", "always", NULL },
	{ { 'g', KEY_HOME }, "g Home", "", "", M_SCREEN | M_HELP, UI_A_TOP,
	  "to the first line", "always", NULL },
	{ { 'G', KEY_END }, "G End", "", "", M_SCREEN | M_HELP, UI_A_BOTTOM,
	  "to the last line (the log follows new lines again)", "always", NULL },
	{ { ESC }, "Esc", "clear", "Esc", M_SCREEN, UI_A_CLOSE,
	  "clear the focused list's filter; leave the full-screen log", "when filtered", has_filter },
	{ { ESC }, "Esc", "", "", M_LOG, UI_A_CLOSE, "back to the main screen", "full-screen log", NULL },

	/* Help. */
	{ { ESC, 'q', '?' }, "Esc q ?", "close", "Esc", M_HELP, UI_A_CLOSE, "close the help", "in the help",
	  NULL },

	/* Confirmation dialogs: the switch gate, rollback, quit. */
	{ { 'y', 'Y' }, "y", "yes", "y", M_YN, UI_A_YES,
	  "yes: confirm the switch / roll back / stop and quit", "in a y/n dialog", NULL },
	{ { 'n', 'N', ESC }, "n Esc", "no", "n/Esc", M_YN, UI_A_NO,
	  "no: close the dialog (a gate's dialog opens again with Enter)", "in a y/n dialog", NULL },

	/* The teardown gate: blue's name typed into a field. */
	{ { '\n', '\r', KEY_ENTER }, "Enter", "confirm", "Enter", M_TEXT, UI_A_SUBMIT,
	  "confirm with the name typed (it must be blue's)", "teardown dialog", NULL },
	{ { ESC }, "Esc", "close", "Esc", M_TEXT, UI_A_CLOSE,
	  "close the dialog (Enter opens it again)", "teardown dialog", NULL },
	{ { KEY_BACKSPACE, 127, CTRL('h') }, "Backspace", "", "", M_TEXT | M_FILTER, UI_A_ERASE,
	  "erase a character", "typing", NULL },
	{ { CTRL('u') }, "Ctrl-U", "clear", "Ctrl-U", M_TEXT | M_FILTER, UI_A_KILL,
	  "erase what was typed", "typing", NULL },

	/* `/`: the filter typed on the bottom line (applies as you type). */
	{ { '\n', '\r', KEY_ENTER }, "Enter", "keep", "Enter", M_FILTER, UI_A_SUBMIT,
	  "keep the filter (an empty one clears it)", "filtering", NULL },
	{ { ESC }, "Esc", "cancel", "Esc", M_FILTER, UI_A_CLOSE,
	  "cancel: the filter as it was before /", "filtering", NULL },

	/* Everywhere. */
	{ { CTRL('l') }, "Ctrl-L", "", "", M_ANY, UI_A_REDRAW, "repaint the whole screen", "always", NULL },
	{ { CTRL('c') }, "Ctrl-C", "", "", M_ANY, UI_A_INTERRUPT,
	  "like SIGINT: stop the run at the next safe point and quit (no question)", "always", NULL },
};

const struct ui_key *
keys_table(unsigned *n)
{
	*n = sizeof table / sizeof table[0];
	return table;
}

enum ui_mode
keys_mode(const struct ui *u)
{
	if (u->dialog == UI_DLG_TEARDOWN)
		return UI_M_TEXT;
	if (u->dialog != UI_DLG_NONE)
		return UI_M_CONFIRM;
	if (u->filtering)
		return UI_M_FILTER;
	if (u->help)
		return UI_M_HELP;
	if (u->fullscreen_log)
		return UI_M_LOG;
	return UI_M_MAIN;
}

int
keys_active(const struct ui *u, const struct ui_key *k)
{
	return (k->modes & keys_mode(u)) != 0 && (k->applies == NULL || k->applies(u));
}

static struct ui_list *
current_list(struct ui *u)
{
	return &u->list[u->fullscreen_log ? UI_FOCUS_LOG : u->focus];
}

/* Moves the selection of the current list (or the help) by DELTA rows;
 * 2 and -2 mean a page, large values go to an end. */
static void
list_move(struct ui *u, int delta)
{
	struct ui_list *ls;
	int page;

	if (u->help) {
		if (delta == 2 || delta == -2)
			delta = delta > 0 ? LINES - 4 : -(LINES - 4);
		u->help_top += delta;
		if (u->help_top < 0)
			u->help_top = 0;
		return;		/* help_draw clamps the bottom */
	}
	ls = current_list(u);
	page = ls->rows > 1 ? ls->rows - 1 : 1;
	if (delta == 2 || delta == -2)		/* a page */
		delta = delta > 0 ? page : -page;
	ls->sel += delta;
	if (ls->sel < 0)
		ls->sel = 0;
	if (ls->count > 0 && ls->sel > ls->count - 1)
		ls->sel = ls->count - 1;
	ls->sel_name[0] = '\0';		/* the draw keeps the new row's name */
	if (ls == &u->list[UI_FOCUS_LOG])
		ls->follow = ls->sel >= ls->count - 1 && delta > 0;
}

static void
filter_edit(struct ui *u, enum ui_action a, int ch)
{
	struct ui_list *ls = current_list(u);
	size_t len = strlen(ls->filter);

	switch (a) {
	case UI_A_SUBMIT:
		u->filtering = 0;
		break;
	case UI_A_CLOSE:
		memcpy(ls->filter, u->filter_saved, sizeof ls->filter);
		u->filtering = 0;
		break;
	case UI_A_ERASE:
		if (len > 0)
			ls->filter[len - 1] = '\0';
		break;
	case UI_A_KILL:
		ls->filter[0] = '\0';
		break;
	default:
		if (ch >= 0x20 && ch < 0x7f && len + 1 < sizeof ls->filter) {
			ls->filter[len] = (char)ch;
			ls->filter[len + 1] = '\0';
		}
		break;
	}
	ls->sel = 0;
	ls->top = 0;
	ls->sel_name[0] = '\0';
	if (ls == &u->list[UI_FOCUS_LOG])
		ls->follow = 1;
}

static void
run(struct ui *u, enum ui_action a, int ch)
{
	enum ui_mode mode = keys_mode(u);

	if (mode == UI_M_FILTER && a != UI_A_REDRAW && a != UI_A_INTERRUPT) {
		filter_edit(u, a, ch);
		return;
	}
	if ((mode == UI_M_CONFIRM || mode == UI_M_TEXT) && a != UI_A_REDRAW && a != UI_A_INTERRUPT) {
		dialog_action(u, a, ch);
		return;
	}
	switch (a) {
	case UI_A_NONE:
		break;
	case UI_A_GATE:
		dialog_open(u, u->m->gate == ENG_GATE_TEARDOWN ? UI_DLG_TEARDOWN : UI_DLG_SWITCH);
		break;
	case UI_A_ROLLBACK:
		dialog_open(u, UI_DLG_ROLLBACK);
		break;
	case UI_A_PAUSE:
		ui_post(u, u->m->paused ? ENG_CMD_RESUME : ENG_CMD_PAUSE, NULL);
		break;
	case UI_A_FOCUS_NEXT:
		u->focus = (enum ui_focus)((u->focus + 1) % UI_NFOCUS);
		break;
	case UI_A_FOCUS_PREV:
		u->focus = (enum ui_focus)((u->focus + UI_NFOCUS - 1) % UI_NFOCUS);
		break;
	case UI_A_FOCUS_BLUE:
		u->focus = UI_FOCUS_BLUE;
		break;
	case UI_A_FOCUS_GREEN:
		u->focus = UI_FOCUS_GREEN;
		break;
	case UI_A_DOWN:
		list_move(u, 1);
		break;
	case UI_A_UP:
		list_move(u, -1);
		break;
	case UI_A_PAGE_DOWN:
		list_move(u, 2);
		break;
	case UI_A_PAGE_UP:
		list_move(u, -2);
		break;
	case UI_A_TOP:
		list_move(u, -100000);
		break;
	case UI_A_BOTTOM:
		list_move(u, 100000);
		if (!u->help)
			current_list(u)->follow = current_list(u) == &u->list[UI_FOCUS_LOG];
		break;
	case UI_A_FILTER:
		u->filtering = 1;
		memcpy(u->filter_saved, current_list(u)->filter, sizeof u->filter_saved);
		break;
	case UI_A_LOG:
		u->fullscreen_log = !u->fullscreen_log;
		break;
	case UI_A_HELP:
		u->help = !u->help;
		u->help_top = 0;
		break;
	case UI_A_REDRAW:
		u->clear = 1;
		break;
	case UI_A_QUIT:
		if (u->m->finished)
			u->leave = 1;
		else if (ui_stage_running(u))
			dialog_open(u, UI_DLG_QUIT);
		else
			ui_quit(u);
		break;
	case UI_A_INTERRUPT:
		ui_quit(u);
		break;
	case UI_A_CLOSE:
		if (mode == UI_M_HELP) {
			u->help = 0;
		} else if (has_filter(u)) {
			current_list(u)->filter[0] = '\0';
			current_list(u)->follow = u->fullscreen_log || u->focus == UI_FOCUS_LOG
			    ? 1 : current_list(u)->follow;
		} else if (mode == UI_M_LOG) {
			u->fullscreen_log = 0;
		}
		break;
	default:
		break;
	}
}

int
keys_handle(struct ui *u, int ch)
{
	unsigned n = sizeof table / sizeof table[0];
	enum ui_mode mode = keys_mode(u);

	if (u->dialog == UI_DLG_NONE)
		u->dialog_msg[0] = '\0';	/* a refusal shown in the key bar: read */
	for (unsigned i = 0; i < n; i++) {
		const struct ui_key *k = &table[i];

		if (!keys_active(u, k))
			continue;
		for (int c = 0; c < UI_KEY_MAX_CODES && k->codes[c] != 0; c++)
			if (k->codes[c] == ch) {
				run(u, k->action, ch);
				return 1;
			}
	}
	if ((mode == UI_M_TEXT || mode == UI_M_FILTER) && ch >= 0x20 && ch < 0x7f && isprint(ch)) {
		run(u, UI_A_NONE, ch);
		return 1;
	}
	return 0;
}
