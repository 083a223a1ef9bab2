/*
 * header.c — the top line: the title, the resource group, the stage (T0..T4
 * and the engine's state), the gateway step, the soak and rollback-window
 * time left, the paused and stopping markers, and the clock at the right.
 *
 * When the line is too narrow the least important parts go first (the
 * switchover's name, the stage's long title, the resource group); the
 * stage, the step, the time left and the markers stay.
 */
#include <stdio.h>
#include <time.h>

#include "ui/ui_internal.h"

void
header_draw(struct ui *u, WINDOW *w)
{
	const struct eng_model *m = u->m;
	unsigned long base = ui_attr(u, UI_HEADER);
	struct ui_line l;
	char clock[16], left[32];
	time_t now = (time_t)(u->now_ms / 1000);
	struct tm tm;
	int width = getmaxx(w), cw;

	werase(w);
	ui_fill(w, 0, 0, base);
	localtime_r(&now, &tm);
	strftime(clock, sizeof clock, "%H:%M:%S", &tm);
	cw = ui_width(u, clock) + 3;	/* two spaces before it, one after */

	ui_line_init(&l);
	ui_line_add(&l, 0, base | A_BOLD, " %s", u->o != NULL && u->o->title != NULL ? u->o->title : "bgswitch");
	if (m->resource_group[0] != '\0')
		ui_line_add(&l, 3, base, "  %s", m->resource_group);
	if (m->name[0] != '\0')
		ui_line_add(&l, 6, base, "  %s", m->name);
	ui_line_add(&l, 0, base | A_BOLD, "  T%d %s", m->stage, m->state_name[0] != '\0' ? m->state_name : "starting");
	ui_line_add(&l, 5, base, " (%s)", stages_title(m->stage));
	/* The gateway step, from the switch gate on; not while or after rolling
	 * back, when it would read as where traffic is. */
	if (m->nsteps > 0 && m->stage >= 3 && m->state != ENG_S_ROLLBACK && m->state != ENG_S_ROLLED_BACK)
		ui_line_add(&l, 1, base, "  step %d/%d (%d %%)", m->step, m->nsteps, m->step_percent);
	if (m->soak_until_ms > u->now_ms) {
		ui_fmt_dur(left, sizeof left, m->soak_until_ms - u->now_ms);
		ui_line_add(&l, 1, base, "  soak %s left", left);
	}
	if (m->window_until_ms > u->now_ms) {
		ui_fmt_dur(left, sizeof left, m->window_until_ms - u->now_ms);
		ui_line_add(&l, 1, base, "  window %s left", left);
	}
	if (m->paused)
		ui_line_add(&l, 0, base | A_BOLD, "  PAUSED");
	if (u->stopping && !m->finished)
		ui_line_add(&l, 0, base | A_BOLD, "  STOPPING");
	else if (m->finished)
		ui_line_add(&l, 2, base | A_BOLD, "  finished, exit %d", m->exit_code);
	ui_line_draw(u, w, 0, 0, width - cw, &l);
	ui_put(u, w, 0, width - cw + 2, cw - 2, clock, base);
}
