/*
 * ui_internal.h — what the files of ui/ share: the screen's state (struct
 * ui), the glyph set of the locale (UTF-8 or plain ASCII), the text
 * primitives every panel draws with (draw.c: width-aware, clipped, never
 * past a window's edge), and one draw function per panel.
 *
 * Panels read u->m, the last model snapshot, and never post commands;
 * only keys.c, dialog.c and ui.c talk to the engine, and only through
 * eng_post.
 */
#ifndef BGSWITCH_UI_INTERNAL_H
#define BGSWITCH_UI_INTERNAL_H

#include <curses.h>
#include <stddef.h>
#include <stdint.h>

#include "src/engine.h"
#include "ui/keys.h"
#include "ui/layout.h"
#include "ui/theme.h"
#include "ui/ui.h"

/* Everything the screen draws that is not plain text.  Two sets: UTF-8
 * box drawing and symbols, and a plain ASCII one for any other codeset
 * (LANG=C gives no byte above 0x7f at all). */
struct ui_glyphs {
	const char *hline, *vline, *tl, *tr, *bl, *br;
	const char *done, *running, *pending, *failed, *skipped;
	const char *bar_on, *bar_off, *ellipsis, *sep, *cursor;
};

enum ui_focus { UI_FOCUS_BLUE, UI_FOCUS_GREEN, UI_FOCUS_LOG, UI_NFOCUS };

enum ui_dialog {
	UI_DLG_NONE,
	UI_DLG_SWITCH,		/* switch gate: y confirms */
	UI_DLG_TEARDOWN,	/* teardown gate: blue's name typed, Enter */
	UI_DLG_ROLLBACK,	/* R: y rolls back */
	UI_DLG_QUIT,		/* q while a stage runs: y stops it and leaves */
};

/* A scrollable list: blue's nodes, green's nodes, the log. */
struct ui_list {
	int sel;		/* selected row of the filtered list */
	int top;		/* first row shown */
	int follow;		/* the log: stay on the newest line */
	char sel_name[64];	/* node lists: keep the selection on this node */
	char filter[64];	/* "" none; a case-insensitive substring */
	int count;		/* rows of the filtered list at the last draw */
	int rows;		/* rows it had on screen at the last draw */
};

#define UI_FIELD 64

struct ui {
	struct eng *e;
	const struct ui_opts *o;
	struct theme theme;
	struct eng_model *m;		/* the last snapshot (heap: it is large) */
	long long now_ms;		/* wall clock of this frame */
	int utf8;
	const struct ui_glyphs *g;
	struct ui_layout lay;
	WINDOW *win[UI_NPANELS];
	WINDOW *overlay;		/* dialog or help, on top; NULL */

	enum ui_focus focus;
	struct ui_list list[UI_NFOCUS];
	int fullscreen_log;
	int help, help_top;

	enum ui_dialog dialog;
	enum eng_gate gate_opened;	/* the gate whose dialog opened by itself */
	char field[UI_FIELD];		/* teardown: the name typed so far */
	char dialog_msg[ENG_LINE];	/* a local answer shown in the dialog */

	int filtering;			/* `/`: the bottom line edits the filter */
	char filter_saved[UI_FIELD];	/* restored by Esc */

	int stopping;			/* abort posted; waiting for the engine */
	int leave;			/* ui_run returns */
	int dirty;			/* redraw at the next turn */
	int clear;			/* Ctrl-L: repaint every cell */
};

/* ---- draw.c: text primitives -------------------------------------------------- */

/* The attributes of role R in the theme. */
unsigned long ui_attr(const struct ui *u, enum ui_role r);
/* Columns S takes on screen (control characters and, in ASCII mode,
 * every non-ASCII character count as one '?'). */
int ui_width(const struct ui *u, const char *s);
/* Bytes of S that fit in COLS columns. */
size_t ui_fit(const struct ui *u, const char *s, int cols);
/* Writes S at Y,X of W in at most MAXW columns (clipped, never wrapped,
 * never past W's right edge).  Returns the columns written. */
int ui_put(const struct ui *u, WINDOW *w, int y, int x, int maxw, const char *s, unsigned long attr);
/* Fills row Y of W from X to the edge with spaces in ATTR. */
void ui_fill(WINDOW *w, int y, int x, unsigned long attr);
/* Draws a horizontal rule of N columns. */
void ui_hrule(const struct ui *u, WINDOW *w, int y, int x, int n, unsigned long attr);
/* Draws the border of W. */
void ui_box(const struct ui *u, WINDOW *w, unsigned long attr);
/* DST = SRC shortened to COLS columns by cutting its middle ("aks-s…00003"),
 * so the part that tells nodes apart stays. */
void ui_clip_mid(const struct ui *u, char *dst, size_t n, const char *src, int cols);

/* Bytes of S for one row of COLS columns, broken after the last word that
 * fits (or mid-word when one word is longer than the row). */
size_t ui_wrap(const struct ui *u, const char *s, int cols);

/* A line made of segments with priorities: when it does not fit, the
 * segments with the highest PRIO number are left out first, then the
 * rest is clipped at the edge. */
#define UI_LINE_SEGS 24
struct ui_line {
	int n;
	struct ui_seg {
		char s[ENG_LINE];
		unsigned long attr;
		int prio;
	} seg[UI_LINE_SEGS];
};
void ui_line_init(struct ui_line *l);
void ui_line_add(struct ui_line *l, int prio, unsigned long attr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Columns the segments left in take after dropping to fit WIDTH. */
int ui_line_fit(const struct ui *u, struct ui_line *l, int width);
/* Draws L at Y,X in WIDTH columns.  Returns the columns written. */
int ui_line_draw(const struct ui *u, WINDOW *w, int y, int x, int width, struct ui_line *l);

/* Items laid out left to right, two spaces apart, wrapping to the next
 * row; at most ROWS rows, the last ending in "+N more" when some are left
 * out.  With W NULL only measures.  Returns the rows used (needed). */
#define UI_FLOW_MAX 96
struct ui_item {
	char s[ENG_LINE];
	unsigned long attr;
};
int ui_flow(const struct ui *u, WINDOW *w, int y, int x, int width, int rows, const struct ui_item *items,
    int n);

/* "03:12", "1:03:12"; negative is 0. */
void ui_fmt_dur(char *buf, size_t n, long long ms);
/* "12s", "5m", "2h", "41d". */
void ui_fmt_age(char *buf, size_t n, long long ms);
/* Case-insensitive substring; an empty NEEDLE matches. */
int ui_match(const char *hay, const char *needle);

/* ---- the panels ------------------------------------------------------------------ */

void header_draw(struct ui *u, WINDOW *w);

/* Rows inside the box cluster ROLE would like at WIDTH columns. */
int cluster_pane_rows(const struct ui *u, int role, int width);
void cluster_pane_draw(struct ui *u, WINDOW *w, int role);
/* Nodes of ROLE passing its filter, into IDX (at most ENG_MAX_NODES). */
int cluster_pane_nodes(const struct ui *u, int role, int *idx);
/* "LIVE" or "candidate". */
const char *cluster_role_badge(const struct ui *u, int role);

void traffic_panel_draw(struct ui *u, WINDOW *w);

/* Rows the checks would like under the stages line at WIDTH columns. */
int stages_panel_check_rows(const struct ui *u, int width);
void stages_panel_draw(struct ui *u, WINDOW *w);
/* "traffic switch", ... for T0..T4. */
const char *stages_title(int stage);

/* Lines of the log passing its filter, oldest first, into IDX (model ring
 * slots).  Returns how many. */
int log_pane_lines(const struct ui *u, int *idx);
void log_pane_draw(struct ui *u, WINDOW *w);

void keybar_draw(struct ui *u, WINDOW *w);

/* ---- dialogs and help --------------------------------------------------------------- */

/* Opens dialog D (drains pending input first: a held key or a pasted
 * block never answers it). */
void dialog_open(struct ui *u, enum ui_dialog d);
void dialog_close(struct ui *u);
/* Closes a gate dialog whose gate is gone, opens one for a new gate. */
void dialog_sync(struct ui *u);
/* Draws the open dialog into u->overlay. */
void dialog_draw(struct ui *u);
/* A key in the dialog: ACTION from the table, or CH typed into the field. */
int dialog_action(struct ui *u, enum ui_action a, int ch);

void help_draw(struct ui *u);

/* ---- ui.c ------------------------------------------------------------------------- */

/* Posts CMD; on refusal the reason goes to the dialog or the log line. */
int ui_post(struct ui *u, enum eng_cmd cmd, const char *text);
/* Starts leaving: posts abort (when the engine still runs) and waits for
 * it to finish, drawing meanwhile. */
void ui_quit(struct ui *u);
/* 1 while a stage's work runs (not at a gate, not finished). */
int ui_stage_running(const struct ui *u);
/* The LIVE role: blue until done, then green. */
int ui_live_role(const struct ui *u);

#endif
