/*
 * layout.c — the geometry of the screen for any size from 80x24 up.
 *
 * Top to bottom: the header line, the two cluster panes side by side, the
 * traffic box, the stages line with the checks under it, the log, and the
 * key bar.  The fixed parts (header, traffic, stages line, key bar) always
 * get their rows; the rest is shared: checks get what they need up to a
 * fifth of it, the cluster panes what their content wants up to three
 * quarters of what is left, and the log the remainder (never under three
 * rows).  At 80x24 that is 10 to 12 rows of panes (a box around 8 to 10
 * lines), 5 of traffic, 2 to 4 of stages and checks, and 3 of log; a
 * taller terminal shows more nodes, namespaces, checks and log.
 */
#include <string.h>

#include "ui/layout.h"

#define TRAFFIC_ROWS	5	/* box: weights of blue and green, DNS */
#define LOG_MIN_ROWS	3	/* a rule and two lines */
#define PANE_MIN_ROWS	8	/* box and six lines */

static struct ui_rect
rect(int y, int x, int h, int w)
{
	struct ui_rect r = { y, x, h, w };

	return r;
}

static int
clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void
layout_compute(struct ui_layout *l, int lines, int cols, int fullscreen_log, const struct ui_needs *n)
{
	int rem, checks, pane, pane_cap, y;

	memset(l, 0, sizeof *l);
	l->lines = lines;
	l->cols = cols;
	l->fullscreen_log = fullscreen_log;
	if (lines < UI_MIN_LINES || cols < UI_MIN_COLS) {
		l->too_small = 1;
		return;
	}
	l->r[UI_P_HEADER] = rect(0, 0, 1, cols);
	l->r[UI_P_KEYBAR] = rect(lines - 1, 0, 1, cols);
	if (fullscreen_log) {
		l->r[UI_P_LOG] = rect(1, 0, lines - 2, cols);
		return;
	}

	rem = lines - 2 - TRAFFIC_ROWS - 1;
	checks = clamp(n != NULL ? n->check_rows : 1, 1, rem / 5 > 1 ? rem / 5 : 1);
	rem -= checks;
	pane_cap = rem - (rem / 4 > LOG_MIN_ROWS ? rem / 4 : LOG_MIN_ROWS);
	pane = (n != NULL ? n->pane_rows : 0) + 2;
	pane = clamp(pane, PANE_MIN_ROWS < pane_cap ? PANE_MIN_ROWS : pane_cap, pane_cap);

	y = 1;
	l->r[UI_P_BLUE] = rect(y, 0, pane, cols / 2);
	l->r[UI_P_GREEN] = rect(y, cols / 2, pane, cols - cols / 2);
	y += pane;
	l->r[UI_P_TRAFFIC] = rect(y, 0, TRAFFIC_ROWS, cols);
	y += TRAFFIC_ROWS;
	l->r[UI_P_STAGES] = rect(y, 0, 1 + checks, cols);
	y += 1 + checks;
	l->r[UI_P_LOG] = rect(y, 0, lines - 1 - y, cols);
}

int
layout_differs(const struct ui_layout *a, const struct ui_layout *b)
{
	return a->lines != b->lines || a->cols != b->cols || a->too_small != b->too_small
	    || a->fullscreen_log != b->fullscreen_log || memcmp(a->r, b->r, sizeof a->r) != 0;
}
