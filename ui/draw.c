/*
 * draw.c — the text primitives every panel draws with.
 *
 * The rule they keep is "no line longer than the width, ever": text is
 * measured in screen columns (wcwidth in a UTF-8 locale), clipped at the
 * window's edge, and never wrapped by curses.  Model strings come from
 * servers and may hold anything, so control characters become '?', and in
 * a non-UTF-8 locale so does every non-ASCII character: LANG=C puts no
 * byte above 0x7f on the terminal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "ui/ui_internal.h"

unsigned long
ui_attr(const struct ui *u, enum ui_role r)
{
	return theme_attr(&u->theme, r);
}

/* One character of S: its length in bytes (at least 1) and its code point,
 * or -1 when the bytes are not valid UTF-8. */
static size_t
decode(const unsigned char *s, long *cp)
{
	size_t n, i;
	long c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		*cp = -1;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = -1;
			return i;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff
	    || (c >= 0xd800 && c <= 0xdfff))
		c = -1;
	*cp = c;
	return n;
}

/* Columns one character takes, and whether it is shown as itself (else
 * as '?').  Zero-width characters are left out (width 0, not shown). */
static int
char_cols(const struct ui *u, long cp, int *as_is)
{
	int w;

	*as_is = 0;
	if (cp < 0)
		return 1;
	if (cp < 0x80) {
		*as_is = cp >= 0x20 && cp != 0x7f;
		return 1;
	}
	if (!u->utf8)
		return 1;
	w = wcwidth((wchar_t)cp);
	if (w < 0)
		return 1;
	*as_is = w > 0;
	return w;
}

int
ui_width(const struct ui *u, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int cols = 0, as_is;
	long cp;

	while (*p != '\0') {
		p += decode(p, &cp);
		cols += char_cols(u, cp, &as_is);
	}
	return cols;
}

size_t
ui_fit(const struct ui *u, const char *s, int cols)
{
	const unsigned char *p = (const unsigned char *)s;
	int used = 0, w, as_is;
	size_t len;
	long cp;

	while (*p != '\0') {
		len = decode(p, &cp);
		w = char_cols(u, cp, &as_is);
		if (used + w > cols)
			break;
		used += w;
		p += len;
	}
	return (size_t)(p - (const unsigned char *)s);
}

int
ui_put(const struct ui *u, WINDOW *w, int y, int x, int maxw, const char *s, unsigned long attr)
{
	const unsigned char *p = (const unsigned char *)s;
	int used = 0, cw, as_is, room;
	size_t len;
	long cp;

	if (w == NULL || s == NULL || y < 0 || y >= getmaxy(w) || x < 0 || x >= getmaxx(w))
		return 0;
	room = getmaxx(w) - x;
	if (maxw > room)
		maxw = room;
	if (maxw <= 0)
		return 0;
	wmove(w, y, x);
	wattrset(w, (int)attr);
	while (*p != '\0') {
		len = decode(p, &cp);
		cw = char_cols(u, cp, &as_is);
		if (used + cw > maxw)
			break;
		if (cw > 0) {
			if (as_is)
				waddnstr(w, (const char *)p, (int)len);
			else
				waddch(w, '?');
		}
		used += cw;
		p += len;
	}
	wattrset(w, A_NORMAL);
	return used;
}

void
ui_fill(WINDOW *w, int y, int x, unsigned long attr)
{
	int maxx = getmaxx(w);

	if (y < 0 || y >= getmaxy(w))
		return;
	wattrset(w, (int)attr);
	for (int i = x; i < maxx; i++)
		mvwaddch(w, y, i, ' ');
	wattrset(w, A_NORMAL);
}

void
ui_hrule(const struct ui *u, WINDOW *w, int y, int x, int n, unsigned long attr)
{
	for (int i = 0; i < n; i++)
		ui_put(u, w, y, x + i, 1, u->g->hline, attr);
}

void
ui_box(const struct ui *u, WINDOW *w, unsigned long attr)
{
	int h = getmaxy(w), wd = getmaxx(w);

	if (h < 2 || wd < 2)
		return;
	ui_put(u, w, 0, 0, 1, u->g->tl, attr);
	ui_hrule(u, w, 0, 1, wd - 2, attr);
	ui_put(u, w, 0, wd - 1, 1, u->g->tr, attr);
	for (int y = 1; y < h - 1; y++) {
		ui_put(u, w, y, 0, 1, u->g->vline, attr);
		ui_put(u, w, y, wd - 1, 1, u->g->vline, attr);
	}
	ui_put(u, w, h - 1, 0, 1, u->g->bl, attr);
	ui_hrule(u, w, h - 1, 1, wd - 2, attr);
	ui_put(u, w, h - 1, wd - 1, 1, u->g->br, attr);
}

void
ui_clip_mid(const struct ui *u, char *dst, size_t n, const char *src, int cols)
{
	int w = ui_width(u, src), ew = ui_width(u, u->g->ellipsis), head, tail;
	size_t hb, skip;
	const char *t;

	if (w <= cols || cols <= ew + 1) {
		snprintf(dst, n, "%.*s", (int)ui_fit(u, src, cols), src);
		return;
	}
	head = (cols - ew) / 2;
	tail = cols - ew - head;
	hb = ui_fit(u, src, head);
	/* The tail: skip characters until what is left fits TAIL columns. */
	t = src;
	while (ui_width(u, t) > tail) {
		skip = ui_fit(u, t, 1);
		t += skip > 0 ? skip : 1;
	}
	snprintf(dst, n, "%.*s%s%s", (int)hb, src, u->g->ellipsis, t);
}

/* ---- segmented lines ----------------------------------------------------------- */

void
ui_line_init(struct ui_line *l)
{
	l->n = 0;
}

void
ui_line_add(struct ui_line *l, int prio, unsigned long attr, const char *fmt, ...)
{
	va_list ap;

	if (l->n >= UI_LINE_SEGS)
		return;
	va_start(ap, fmt);
	vsnprintf(l->seg[l->n].s, sizeof l->seg[l->n].s, fmt, ap);
	va_end(ap);
	l->seg[l->n].attr = attr;
	l->seg[l->n].prio = prio;
	l->n++;
}

int
ui_line_fit(const struct ui *u, struct ui_line *l, int width)
{
	int total = 0, worst;

	for (int i = 0; i < l->n; i++)
		total += ui_width(u, l->seg[i].s);
	while (total > width) {
		worst = -1;
		for (int i = 0; i < l->n; i++)
			if (l->seg[i].prio > 0 && (worst < 0 || l->seg[i].prio >= l->seg[worst].prio))
				worst = i;
		if (worst < 0)
			break;
		total -= ui_width(u, l->seg[worst].s);
		memmove(&l->seg[worst], &l->seg[worst + 1], (size_t)(l->n - worst - 1) * sizeof l->seg[0]);
		l->n--;
	}
	return total < width ? total : width;
}

int
ui_line_draw(const struct ui *u, WINDOW *w, int y, int x, int width, struct ui_line *l)
{
	int used = 0;

	ui_line_fit(u, l, width);
	for (int i = 0; i < l->n && used < width; i++)
		used += ui_put(u, w, y, x + used, width - used, l->seg[i].s, l->seg[i].attr);
	return used;
}

/* ---- formats --------------------------------------------------------------------- */

void
ui_fmt_dur(char *buf, size_t n, long long ms)
{
	long long s = ms > 0 ? ms / 1000 : 0;

	if (s >= 3600)
		snprintf(buf, n, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, n, "%02lld:%02lld", s / 60, s % 60);
}

void
ui_fmt_age(char *buf, size_t n, long long ms)
{
	long long s = ms > 0 ? ms / 1000 : 0;

	if (s < 60)
		snprintf(buf, n, "%llds", s);
	else if (s < 3600)
		snprintf(buf, n, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, n, "%lldh", s / 3600);
	else
		snprintf(buf, n, "%lldd", s / 86400);
}

int
ui_match(const char *hay, const char *needle)
{
	size_t nl = strlen(needle);

	if (nl == 0)
		return 1;
	for (const char *p = hay; *p != '\0'; p++)
		if (strncasecmp(p, needle, nl) == 0)
			return 1;
	return 0;
}

/* ---- flowing items ------------------------------------------------------------------ */

int
ui_flow(const struct ui *u, WINDOW *w, int y, int x, int width, int rows, const struct ui_item *items, int n)
{
	int row[UI_FLOW_MAX], col[UI_FLOW_MAX], wd[UI_FLOW_MAX];
	int r = 0, c = 0, shown, hidden;
	char more[32];

	if (n > UI_FLOW_MAX)
		n = UI_FLOW_MAX;
	if (width <= 0)
		return 0;
	for (int i = 0; i < n; i++) {
		wd[i] = ui_width(u, items[i].s);
		if (c > 0 && c + 2 + wd[i] > width) {
			r++;
			c = 0;
		} else if (c > 0) {
			c += 2;
		}
		row[i] = r;
		col[i] = c;
		c += wd[i];
	}
	if (n == 0)
		return 0;
	if (w == NULL || rows <= 0)
		return r + 1;

	/* Keep the items that start within ROWS; if some are left out, make
	 * room for "+N more" at the end of the last row. */
	for (shown = 0; shown < n && row[shown] < rows; shown++)
		;
	hidden = n - shown;
	if (hidden > 0) {
		for (;;) {
			snprintf(more, sizeof more, "+%d more", hidden);
			int end = shown > 0 && row[shown - 1] == rows - 1 ? col[shown - 1] + wd[shown - 1] + 2 : 0;
			if (shown == 0 || end + (int)strlen(more) <= width || row[shown - 1] != rows - 1)
				break;
			shown--;
			hidden++;
		}
	}
	for (int i = 0; i < shown; i++)
		ui_put(u, w, y + row[i], x + col[i], width - col[i], items[i].s, items[i].attr);
	if (hidden > 0) {
		int end = shown > 0 && row[shown - 1] == rows - 1 ? col[shown - 1] + wd[shown - 1] + 2 : 0;

		snprintf(more, sizeof more, "+%d more", hidden);
		ui_put(u, w, y + rows - 1, x + end, width - end, more, ui_attr(u, UI_MUTED));
	}
	return shown > 0 ? row[shown - 1] + 1 : (hidden > 0 ? rows : 0);
}

/* 1 when the space at S[I] must not break the line: it is followed by a
 * unit ("100 %", "300 s"), which stays with its number. */
static int
glued(const char *s, size_t i)
{
	const char *n = s + i + 1;

	return *n == '%' || (*n == 's' && (n[1] == '\0' || n[1] == ' ' || n[1] == ',' || n[1] == ')'));
}

size_t
ui_wrap(const struct ui *u, const char *s, int cols)
{
	size_t cut = ui_fit(u, s, cols > 1 ? cols : 1), end = cut;

	if (cut == 0 && *s != '\0')
		return 1;
	if (s[cut] == '\0' || (s[cut] == ' ' && !glued(s, cut)))
		return cut;
	while (end > 0 && (s[end] != ' ' || glued(s, end)))
		end--;
	return end > 0 ? end : cut;
}
