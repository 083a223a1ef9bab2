/*
 * log_pane.c — the engine's log (the model's ring of its last
 * ENG_LOG_LINES lines), oldest first, newest at the bottom.
 *
 * In the main screen the pane sits above the key bar, one line per entry,
 * clipped at the edge; `l` shows it full screen, where long lines wrap
 * (continuation rows indented past the time).  It follows the newest line
 * until the operator scrolls up (Tab to focus it, then k / Up), and
 * follows again from the bottom (G / End).  `/` filters it.
 */
#include <stdio.h>
#include <string.h>

#include "ui/ui_internal.h"

#define TIME_COLS 9		/* "HH:MM:SS " */

int
log_pane_lines(const struct ui *u, int *idx)
{
	const struct eng_model *m = u->m;
	unsigned count = m->log_count < ENG_LOG_LINES ? m->log_count : ENG_LOG_LINES;
	const char *f = u->list[UI_FOCUS_LOG].filter;
	int n = 0;

	for (unsigned i = 0; i < count; i++) {
		unsigned slot = (m->log_next + ENG_LOG_LINES - count + i) % ENG_LOG_LINES;

		if (ui_match(m->log[slot], f))
			idx[n++] = (int)slot;
	}
	return n;
}

/* Rows line S takes at WIDTH columns (wrapped when WRAP). */
static int
line_rows(const struct ui *u, const char *s, int width, int wrap)
{
	int cols = ui_width(u, s), cont = width - TIME_COLS;

	if (!wrap || cols <= width || cont < 10)
		return 1;
	return 1 + (cols - width + cont - 1) / cont;
}

/* Draws S from row Y on; returns the rows used (at most MAXROWS). */
static int
draw_line(struct ui *u, WINDOW *w, int y, int width, int maxrows, const char *s, char level, int wrap,
    int selected)
{
	/* warnings and errors stand out (and say so in words: the engine's
	 * lines name what failed) */
	unsigned long base = selected ? ui_attr(u, UI_SELECTED)
	    : ui_attr(u, level == 'e' ? UI_DANGER : level == 'w' ? UI_WARN : UI_NORMAL);
	unsigned long muted = selected ? base : ui_attr(u, UI_MUTED);
	int rows = 0, x = 0, cw = width, time = TIME_COLS;
	size_t cut;

	if (ui_width(u, s) < TIME_COLS || s[2] != ':' || s[5] != ':')
		time = 0;
	while (rows < maxrows) {
		if (selected)
			ui_fill(w, y + rows, x, base);
		if (rows == 0 && time > 0) {
			ui_put(u, w, y, 0, TIME_COLS, s, muted);
			cut = ui_fit(u, s, TIME_COLS);
			s += cut;
			ui_put(u, w, y, TIME_COLS, width - TIME_COLS, s, base);
			cut = ui_fit(u, s, width - TIME_COLS);
		} else {
			ui_put(u, w, y + rows, x, cw, s, base);
			cut = ui_fit(u, s, cw);
		}
		rows++;
		s += cut;
		if (!wrap || *s == '\0' || cut == 0)
			break;
		x = width - TIME_COLS >= 10 ? TIME_COLS : 0;
		cw = width - x;
	}
	return rows;
}

void
log_pane_draw(struct ui *u, WINDOW *w)
{
	const struct eng_model *m = u->m;
	struct ui_list *ls = &u->list[UI_FOCUS_LOG];
	static int idx[ENG_LOG_LINES];
	int width = getmaxx(w), h = getmaxy(w), rule = h >= 3 || u->fullscreen_log, rows = h - rule;
	int wrap = u->fullscreen_log, focused = u->fullscreen_log || u->focus == UI_FOCUS_LOG;
	int n = log_pane_lines(u, idx), used, y;
	struct ui_line l;

	werase(w);
	if (ls->follow || ls->sel >= n)
		ls->sel = n - 1;
	if (ls->sel < 0)
		ls->sel = 0;
	if (ls->top > ls->sel)
		ls->top = ls->sel;
	if (ls->top < 0)
		ls->top = 0;
	/* Keep the selected line in view, then fill the pane up to the end. */
	for (;;) {
		used = 0;
		for (int i = ls->top; i <= ls->sel && i < n; i++)
			used += line_rows(u, m->log[idx[i]], width, wrap);
		if (used <= rows || ls->top >= ls->sel)
			break;
		ls->top++;
	}
	while (ls->top > 0) {
		used = 0;
		for (int i = ls->top - 1; i < n; i++)
			used += line_rows(u, m->log[idx[i]], width, wrap);
		if (used > rows)
			break;
		ls->top--;
	}
	ls->count = n;
	ls->rows = rows;

	if (rule) {
		ui_hrule(u, w, 0, 0, width, ui_attr(u, UI_BORDER));
		ui_line_init(&l);
		ui_line_add(&l, 0, ui_attr(u, UI_TITLE), " log ");
		if (n > 0)
			ui_line_add(&l, 1, ui_attr(u, UI_MUTED), " %d line%s, %s ", n, n == 1 ? "" : "s",
			    ls->follow ? "following" : "scrolled");
		else
			ui_line_add(&l, 1, ui_attr(u, UI_MUTED), " empty ");
		if (ls->filter[0] != '\0')
			ui_line_add(&l, 0, ui_attr(u, UI_WARN), " filter /%s ", ls->filter);
		if (focused && !u->fullscreen_log)
			ui_line_add(&l, 2, ui_attr(u, UI_TITLE), " focus ");
		ui_line_draw(u, w, 0, 2, width - 4, &l);
	}
	y = rule;
	for (int i = ls->top; i < n && y < h; i++)
		y += draw_line(u, w, y, width, h - y, m->log[idx[i]], m->log_level[idx[i]], wrap,
		    focused && i == ls->sel && !ls->follow);
	if (n == 0 && y < h)
		ui_put(u, w, y, 0, width, ls->filter[0] != '\0' ? "no log line matches the filter" : "no log lines yet",
		    ui_attr(u, UI_MUTED));
}
