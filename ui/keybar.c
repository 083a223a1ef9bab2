/*
 * keybar.c — the bottom line: the keys that act now, drawn from the key
 * table (keys.c), so a key that does nothing at this moment is never
 * offered (R only while a rollback is possible, Enter only at a gate, p
 * only during the switch).  While `/` edits a filter the line is the
 * filter prompt; while the run is stopping it says so.
 */
#include <stdio.h>
#include <string.h>

#include "ui/ui_internal.h"

static const char *
filter_target(const struct ui *u)
{
	if (u->fullscreen_log)
		return "log";
	switch (u->focus) {
	case UI_FOCUS_BLUE:
		return "blue nodes";
	case UI_FOCUS_GREEN:
		return "green nodes";
	default:
		return "log";
	}
}

/* 0: always shown; higher numbers are left out first when short of room. */
static int
urgency(const struct ui_key *k)
{
	switch (k->action) {
	case UI_A_QUIT:
	case UI_A_YES:
	case UI_A_NO:
	case UI_A_SUBMIT:
		return 0;
	case UI_A_GATE:
	case UI_A_ROLLBACK:
	case UI_A_PAUSE:
	case UI_A_CLOSE:
		return 1;
	case UI_A_HELP:
		return 2;
	default:
		return 3;
	}
}

void
keybar_draw(struct ui *u, WINDOW *w)
{
	unsigned long bar = ui_attr(u, UI_KEYBAR), key = ui_attr(u, UI_KEY);
	const struct ui_key *t;
	unsigned n;
	int width = getmaxx(w), x = 1;
	const struct ui_key *show[32];
	int nshow = 0;

	werase(w);
	ui_fill(w, 0, 0, bar);
	if (u->filtering) {
		const struct ui_list *ls = &u->list[u->fullscreen_log ? UI_FOCUS_LOG : u->focus];
		char prompt[96];

		snprintf(prompt, sizeof prompt, "filter %s: ", filter_target(u));
		x += ui_put(u, w, 0, x, width - x, prompt, bar | A_BOLD);
		x += ui_put(u, w, 0, x, width - x, ls->filter, bar);
		x += ui_put(u, w, 0, x, width - x, u->g->cursor, bar);
		x += 3;
	} else if (u->stopping && !u->m->finished) {
		x += ui_put(u, w, 0, x, width - x, "stopping at the next safe point (the run resumes from the journal)",
		    bar | A_BOLD);
		x += 3;
	}
	t = keys_table(&n);
	/* The active entries, one per key name (p pause / p resume are never
	 * both); when they do not fit, the least urgent go first, so q and
	 * the keys of a gate or dialog always show. */
	for (unsigned i = 0; i < n; i++) {
		int dup = 0;

		if (t[i].bar[0] == '\0' || !keys_active(u, &t[i]))
			continue;
		for (int s = 0; s < nshow; s++)
			if (strcmp(show[s]->bar_key, t[i].bar_key) == 0)
				dup = 1;
		if (!dup && nshow < 32)
			show[nshow++] = &t[i];
	}
	for (;;) {
		int total = 0, worst = -1;

		for (int s = 0; s < nshow; s++)
			total += ui_width(u, show[s]->bar_key) + 1 + ui_width(u, show[s]->bar) + (s > 0 ? 2 : 0);
		if (x + total <= width - 1)
			break;
		for (int s = 0; s < nshow; s++)
			if (worst < 0 || urgency(show[s]) >= urgency(show[worst]))
				worst = s;
		if (worst < 0 || urgency(show[worst]) == 0)
			break;
		memmove(&show[worst], &show[worst + 1], (size_t)(nshow - worst - 1) * sizeof show[0]);
		nshow--;
	}
	for (int s = 0; s < nshow && x < width; s++) {
		if (s > 0)
			x += 2;
		x += ui_put(u, w, 0, x, width - x, show[s]->bar_key, key);
		x += ui_put(u, w, 0, x, width - x, " ", bar);
		x += ui_put(u, w, 0, x, width - x, show[s]->bar, bar);
	}
	x += 3;
	if (u->dialog_msg[0] != '\0' && u->dialog == UI_DLG_NONE && x < width - 4)
		ui_put(u, w, 0, x, width - x - 1, u->dialog_msg, ui_attr(u, UI_WARN));
}
