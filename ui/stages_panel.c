/*
 * stages_panel.c — the five stages on one line, each with its state
 * symbol (✓ done, ▶ running, · pending, ✗ failed, - skipped; + > . x -
 * in ASCII) and elapsed time, followed by what the current stage is doing
 * (the engine's progress text) or, once the run ended, how and why; then
 * the checks of the gates in force, each with its verdict symbol, name,
 * measured value and threshold ("✗ gateway 5xx 12 (want <= 10)").
 *
 * A check that can trigger an automatic rollback shows how close it is
 * ("bad 2/3"), since that is what the operator is watching during a soak.
 */
#include <stdio.h>
#include <string.h>

#include "ui/ui_internal.h"

static const char *const titles[5] = {
	"blue is live", "green deployment", "sync state", "traffic switch", "blue teardown",
};

const char *
stages_title(int stage)
{
	return stage >= 0 && stage < 5 ? titles[stage] : "?";
}

static int
check_items(const struct ui *u, struct ui_item *items)
{
	const struct eng_model *m = u->m;
	int n = 0;

	snprintf(items[n].s, sizeof items[n].s, "checks");
	items[n++].attr = ui_attr(u, UI_TITLE);
	for (int i = 0; i < m->nchecks && i < ENG_MAX_CHECKS && n < UI_FLOW_MAX; i++) {
		const struct eng_check_view *c = &m->checks[i];
		const char *sym;
		enum ui_role r;
		size_t len;

		if (!c->active)
			continue;
		switch (c->verdict) {
		case CHECK_PASSING:
			sym = u->g->done;
			r = UI_OK;
			break;
		case CHECK_FAILING:
			sym = u->g->failed;
			r = UI_DANGER;
			break;
		default:
			sym = u->g->pending;
			r = c->runs > 0 && c->status != CHECK_PASS ? UI_WARN : UI_MUTED;
			break;
		}
		len = (size_t)snprintf(items[n].s, sizeof items[n].s, "%s %s", sym, c->name);
		if (c->runs == 0)
			snprintf(items[n].s + len, sizeof items[n].s - len, " pending");
		else
			snprintf(items[n].s + len, sizeof items[n].s - len, "%s %s%s%s%s",
			    c->status == CHECK_ERROR ? " error:" : "", c->value[0] != '\0' ? c->value : "?",
			    c->threshold[0] != '\0' ? " (want " : "", c->threshold,
			    c->threshold[0] != '\0' ? ")" : "");
		len = strlen(items[n].s);
		if (c->rollback_on_fail > 0 && c->consecutive_bad > 0 && len < sizeof items[n].s)
			snprintf(items[n].s + len, sizeof items[n].s - len, " bad %d/%d", c->consecutive_bad,
			    c->rollback_on_fail);
		items[n++].attr = ui_attr(u, r);
	}
	if (n == 1) {
		snprintf(items[n].s, sizeof items[n].s, "none run in this state");
		items[n++].attr = ui_attr(u, UI_MUTED);
	}
	return n;
}

int
stages_panel_check_rows(const struct ui *u, int width)
{
	static struct ui_item items[UI_FLOW_MAX];

	return ui_flow(u, NULL, 0, 0, width - 2, 0, items, check_items(u, items));
}

static void
draw_stages(struct ui *u, WINDOW *w, int width)
{
	const struct eng_model *m = u->m;
	struct ui_line l;
	char el[24];

	ui_line_init(&l);
	ui_line_add(&l, 0, ui_attr(u, UI_TITLE), "stages");
	for (int s = 0; s < 5; s++) {
		const struct eng_stage_view *st = &m->stages[s];
		const char *sym;
		enum ui_role r;
		long long end;

		switch (st->state) {
		case ENG_STAGE_DONE:
			sym = u->g->done;
			r = UI_OK;
			break;
		case ENG_STAGE_RUNNING:
			sym = u->g->running;
			r = UI_WARN;
			break;
		case ENG_STAGE_FAILED:
			sym = u->g->failed;
			r = UI_DANGER;
			break;
		case ENG_STAGE_SKIPPED:
			sym = u->g->skipped;
			r = UI_MUTED;
			break;
		default:
			sym = u->g->pending;
			r = UI_MUTED;
			break;
		}
		el[0] = '\0';
		if (st->started_ms != 0 && st->state != ENG_STAGE_PENDING) {
			/* A stage still marked running once the run ended has no
			 * clock to run on. */
			end = st->ended_ms != 0 ? st->ended_ms
			    : st->state == ENG_STAGE_RUNNING && !m->finished ? u->now_ms : 0;
			if (end != 0) {
				el[0] = ' ';
				ui_fmt_dur(el + 1, sizeof el - 1, end - st->started_ms);
			}
		}
		ui_line_add(&l, 0, ui_attr(u, r) | (s == m->stage ? A_BOLD : 0), "  %sT%d%s", sym, s, el);
	}
	if (m->finished) {
		enum ui_role r = m->state == ENG_S_DONE ? UI_OK : m->state == ENG_S_FAILED ? UI_DANGER : UI_WARN;

		ui_line_add(&l, 0, ui_attr(u, r) | A_BOLD, "  %s%s%s", m->state_name, m->reason[0] != '\0' ? ": " : "",
		    m->reason);
	} else if (m->gate_refused[0] != '\0') {
		ui_line_add(&l, 0, ui_attr(u, UI_DANGER), "  refused: %s", m->gate_refused);
	} else if (m->stage >= 0 && m->stage < 5 && m->stages[m->stage].progress[0] != '\0') {
		ui_line_add(&l, 0, ui_attr(u, UI_NORMAL), "  %s", m->stages[m->stage].progress);
	}
	ui_line_draw(u, w, 0, 1, width - 2, &l);
}

void
stages_panel_draw(struct ui *u, WINDOW *w)
{
	static struct ui_item items[UI_FLOW_MAX];
	int width = getmaxx(w), h = getmaxy(w);

	werase(w);
	draw_stages(u, w, width);
	if (h > 1)
		ui_flow(u, w, 1, 1, width - 2, h - 1, items, check_items(u, items));
}
