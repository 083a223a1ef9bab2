/*
 * layout.h — where each panel of the switchover screen sits for a terminal
 * size (PRODUCT.md §2).  One function computes every rectangle from the
 * size and from how many rows the content would like; ui.c calls it on
 * every frame and re-creates a panel's window only when its rectangle
 * changed, so a resize, a longer node list and a new check all go through
 * the same path.
 */
#ifndef BGSWITCH_UI_LAYOUT_H
#define BGSWITCH_UI_LAYOUT_H

#define UI_MIN_COLS	80
#define UI_MIN_LINES	24

enum ui_panel {
	UI_P_HEADER,		/* one line: title, stage, step, soak, window, clock */
	UI_P_BLUE,		/* blue cluster pane (boxed), left */
	UI_P_GREEN,		/* green cluster pane (boxed), right */
	UI_P_TRAFFIC,		/* gateway weights, backend health, DNS (boxed) */
	UI_P_STAGES,		/* the stages line, then the checks */
	UI_P_LOG,		/* the engine's log, newest at the bottom */
	UI_P_KEYBAR,		/* the keys that act now */
	UI_NPANELS
};

struct ui_rect {
	int y, x, h, w;		/* h == 0: not shown */
};

/* How many rows the content would like; the layout gives what it can. */
struct ui_needs {
	int pane_rows;		/* rows inside the box of the taller cluster pane */
	int check_rows;		/* rows of checks below the stages line */
};

struct ui_layout {
	int lines, cols;
	int too_small;		/* below 80x24: only the "too small" screen */
	int fullscreen_log;	/* header, log, key bar */
	struct ui_rect r[UI_NPANELS];
};

/* Fills L for a LINES x COLS terminal. */
void layout_compute(struct ui_layout *l, int lines, int cols, int fullscreen_log, const struct ui_needs *n);
/* 1 when A and B differ in any rectangle or mode. */
int layout_differs(const struct ui_layout *a, const struct ui_layout *b);

#endif
