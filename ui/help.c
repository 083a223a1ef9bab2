/*
 * help.c — `?`: every binding of the key table (keys.c) with what it does
 * and when it applies, grouped by where it is read, then what the symbols
 * and words of the screen mean and the theme's roles, each drawn in its
 * own role.  Generated from the table on every draw, so it cannot drift
 * from what the keys do.  j / k and the page keys scroll it.
 */
#include <stdio.h>
#include <string.h>

#include "ui/ui_internal.h"

#define HELP_ROWS 160
#define KEY_COLS 20

struct row {
	int n;
	struct {
		char s[ENG_LINE];
		int x;
		unsigned long attr;
	} part[UI_NROLES + 2];
};

static struct row rows[HELP_ROWS];
static int nrows;

static struct row *
new_row(void)
{
	if (nrows >= HELP_ROWS)
		return NULL;
	rows[nrows].n = 0;
	return &rows[nrows++];
}

static void
part(struct row *r, int x, unsigned long attr, const char *s)
{
	if (r == NULL || r->n >= (int)(sizeof r->part / sizeof r->part[0]))
		return;
	snprintf(r->part[r->n].s, sizeof r->part[r->n].s, "%s", s);
	r->part[r->n].x = x;
	r->part[r->n].attr = attr;
	r->n++;
}

/* Text S wrapped from column X to WIDTH. */
static void
para(const struct ui *u, int x, int width, unsigned long attr, const char *s, struct row *first)
{
	struct row *r = first;
	char buf[ENG_LINE];

	do {
		size_t end = ui_wrap(u, s, width - x);

		if (r == NULL && (r = new_row()) == NULL)
			return;
		snprintf(buf, sizeof buf, "%.*s", (int)end, s);
		part(r, x, attr, buf);
		r = NULL;
		s += end;
		while (*s == ' ')
			s++;
	} while (*s != '\0');
}

static const char *
section(unsigned modes)
{
	if ((modes & (UI_M_MAIN | UI_M_LOG | UI_M_HELP | UI_M_CONFIRM | UI_M_TEXT | UI_M_FILTER))
	    == (UI_M_MAIN | UI_M_LOG | UI_M_HELP | UI_M_CONFIRM | UI_M_TEXT | UI_M_FILTER))
		return "Everywhere";
	if (modes & (UI_M_MAIN | UI_M_LOG))
		return "Main screen and full-screen log";
	if (modes & UI_M_HELP)
		return "Help";
	if (modes & UI_M_CONFIRM)
		return "Switch gate, rollback and quit dialogs";
	if (modes & UI_M_TEXT)
		return "Teardown dialog (typing blue's name) and filters";
	return "Filter (/ on the bottom line)";
}

static void
build(const struct ui *u, int width)
{
	unsigned long title = ui_attr(u, UI_TITLE) | A_BOLD, normal = ui_attr(u, UI_NORMAL);
	unsigned long key = ui_attr(u, UI_KEY);
	const char *last = NULL;
	const struct ui_key *t;
	unsigned n;
	char buf[ENG_LINE * 2];
	struct row *r;
	int x;

	nrows = 0;
	para(u, 1, width, title, "bgswitch keys (the key bar shows the ones that act now)", NULL);
	t = keys_table(&n);
	for (unsigned i = 0; i < n; i++) {
		const char *sec = section(t[i].modes);

		if (last == NULL || strcmp(sec, last) != 0) {
			new_row();
			para(u, 1, width, title, sec, NULL);
			last = sec;
		}
		r = new_row();
		part(r, 3, key, t[i].name);
		snprintf(buf, sizeof buf, "%s  [%s]", t[i].help, t[i].when);
		para(u, KEY_COLS + 3, width, normal, buf, r);
	}

	new_row();
	para(u, 1, width, title, "What the screen says", NULL);
	snprintf(buf, sizeof buf, "%s done / passing   %s running   %s pending   %s failed   %s skipped",
	    u->g->done, u->g->running, u->g->pending, u->g->failed, u->g->skipped);
	para(u, 3, width, normal, buf, NULL);
	para(u, 3, width, normal, "LIVE: the cluster serving the traffic (blue until all of it is on green); "
	    "candidate: the other one.", NULL);
	para(u, 3, width, normal, "disconnected 12s / STALE: the cluster's API server stopped answering; the "
	    "numbers are the last ones it gave, and \"data 14s old\" says how old.", NULL);
	para(u, 3, width, normal, "Cordoned: a Ready node marked unschedulable. Nodes list NotReady first.",
	    NULL);
	para(u, 3, width, normal, "resolvers updated in 3:12: after a DNS change, the time until the record's "
	    "TTL has passed and every resolver has the new target.", NULL);
	para(u, 3, width, normal, "Checks: symbol, name, measured value (want threshold); \"bad 2/3\": failures "
	    "in a row of a check that rolls back automatically at 3.", NULL);

	new_row();
	snprintf(buf, sizeof buf, "Theme roles (theme %s%s; bgswitch(1), THEMES)", u->theme.name,
	    u->theme.mono ? ", no colour" : "");
	para(u, 1, width, title, buf, NULL);
	r = new_row();
	x = 3;
	for (int role = 0; role < UI_NROLES; role++) {
		const char *name = theme_role_name((enum ui_role)role);
		int w = ui_width(u, name);

		if (x + w > width) {
			r = new_row();
			x = 3;
		}
		part(r, x, ui_attr(u, (enum ui_role)role), name);
		x += w + 2;
	}
}

void
help_draw(struct ui *u)
{
	int h = LINES - 2, width = COLS, visible;
	unsigned long normal = ui_attr(u, UI_NORMAL);

	if (h < 3)
		return;
	build(u, width - 2);
	visible = h - 1;
	if (u->help_top > nrows - visible)
		u->help_top = nrows - visible;
	if (u->help_top < 0)
		u->help_top = 0;
	if (u->overlay != NULL)
		delwin(u->overlay);
	if ((u->overlay = newwin(h, width, 1, 0)) == NULL)
		return;
	for (int y = 0; y < h; y++)
		ui_fill(u->overlay, y, 0, normal);
	for (int i = 0; i < visible && u->help_top + i < nrows; i++) {
		const struct row *r = &rows[u->help_top + i];

		for (int p = 0; p < r->n; p++)
			ui_put(u, u->overlay, i, r->part[p].x, width - r->part[p].x, r->part[p].s, r->part[p].attr);
	}
	ui_hrule(u, u->overlay, h - 1, 0, width, ui_attr(u, UI_BORDER));
	{
		char pos[64];

		snprintf(pos, sizeof pos, " help %d-%d of %d ", u->help_top + 1,
		    u->help_top + visible < nrows ? u->help_top + visible : nrows, nrows);
		ui_put(u, u->overlay, h - 1, 2, width - 4, pos, ui_attr(u, UI_MUTED));
	}
}
