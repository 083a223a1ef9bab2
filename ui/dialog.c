/*
 * dialog.c — the one confirmation path for everything that changes
 * production or stops a run (tmux's confirm-before, ncdu's delete.c):
 *
 *   switch gate     the exact change the engine would make; `y` confirms
 *                   (ENG_CMD_CONFIRM "y"), `n` or Esc closes it without
 *                   deciding anything (Enter opens it again);
 *   teardown gate   the change, and a field where blue's cluster name must
 *                   be typed; Enter sends it (ENG_CMD_CONFIRM NAME), and a
 *                   name that is not blue's is answered here at once and
 *                   refused by the engine as well;
 *   rollback        `R`, then `y` (ENG_CMD_ROLLBACK);
 *   quit            `q` while a stage runs, then `y` (ENG_CMD_ABORT).
 *
 * A gate's dialog opens by itself when the engine reaches the gate.  Every
 * dialog drains pending input as it opens, so a key held down or a block
 * pasted into the terminal before it appeared can never answer it.
 */
#include <stdio.h>
#include <string.h>

#include "ui/ui_internal.h"

void
dialog_open(struct ui *u, enum ui_dialog d)
{
	flushinp();
	u->dialog = d;
	u->field[0] = '\0';
	u->dialog_msg[0] = '\0';
	u->filtering = 0;
	if (d == UI_DLG_SWITCH || d == UI_DLG_TEARDOWN)
		u->gate_opened = u->m->gate;
}

void
dialog_close(struct ui *u)
{
	u->dialog = UI_DLG_NONE;
	u->field[0] = '\0';
	u->dialog_msg[0] = '\0';
}

void
dialog_sync(struct ui *u)
{
	const struct eng_model *m = u->m;

	if ((u->dialog == UI_DLG_SWITCH && m->gate != ENG_GATE_SWITCH)
	    || (u->dialog == UI_DLG_TEARDOWN && m->gate != ENG_GATE_TEARDOWN)
	    || (u->dialog == UI_DLG_ROLLBACK && (!m->rollback_allowed || m->finished))
	    || (u->dialog == UI_DLG_QUIT && m->finished)) {
		dialog_close(u);
		u->dialog_msg[0] = '\0';
	}
	if (m->gate == ENG_GATE_NONE)
		u->gate_opened = ENG_GATE_NONE;
	else if (m->gate != u->gate_opened && u->dialog == UI_DLG_NONE && !u->stopping && !m->finished)
		dialog_open(u, m->gate == ENG_GATE_SWITCH ? UI_DLG_SWITCH : UI_DLG_TEARDOWN);
}

int
dialog_action(struct ui *u, enum ui_action a, int ch)
{
	size_t len = strlen(u->field);

	switch (u->dialog) {
	case UI_DLG_SWITCH:
		if (a == UI_A_YES) {
			if (ui_post(u, ENG_CMD_CONFIRM, "y") == 0)
				dialog_close(u);
		} else if (a == UI_A_NO || a == UI_A_CLOSE) {
			dialog_close(u);
		}
		break;
	case UI_DLG_ROLLBACK:
		if (a == UI_A_YES) {
			if (ui_post(u, ENG_CMD_ROLLBACK, "asked by the operator (R)") == 0)
				dialog_close(u);
		} else if (a == UI_A_NO || a == UI_A_CLOSE) {
			dialog_close(u);
		}
		break;
	case UI_DLG_QUIT:
		if (a == UI_A_YES) {
			dialog_close(u);
			ui_quit(u);
		} else if (a == UI_A_NO || a == UI_A_CLOSE) {
			dialog_close(u);
		}
		break;
	case UI_DLG_TEARDOWN:
		switch (a) {
		case UI_A_SUBMIT:
			if (len == 0) {
				snprintf(u->dialog_msg, sizeof u->dialog_msg, "type blue's name first");
				break;
			}
			/* The engine compares the name as well (and logs a
			 * refusal); the answer here is only quicker. */
			if (ui_post(u, ENG_CMD_CONFIRM, u->field) != 0)
				break;
			if (u->m->gate_expect[0] != '\0' && strcmp(u->field, u->m->gate_expect) != 0) {
				snprintf(u->dialog_msg, sizeof u->dialog_msg, "that is not blue's name");
				u->field[0] = '\0';
			} else {
				dialog_close(u);
			}
			break;
		case UI_A_CLOSE:
			dialog_close(u);
			break;
		case UI_A_ERASE:
			if (len > 0)
				u->field[len - 1] = '\0';
			break;
		case UI_A_KILL:
			u->field[0] = '\0';
			break;
		default:
			if (ch >= 0x20 && ch < 0x7f && len + 1 < sizeof u->field) {
				u->field[len] = (char)ch;
				u->field[len + 1] = '\0';
				u->dialog_msg[0] = '\0';
			}
			break;
		}
		break;
	default:
		break;
	}
	return 1;
}

/* ---- drawing ---------------------------------------------------------------------- */

#define DLG_ROWS 40

struct text {
	int n;
	struct {
		char s[ENG_LINE];
		enum ui_role role;
		int bold, indent;
	} row[DLG_ROWS];
};

/* Adds S word-wrapped to WIDTH columns, continuation rows indented by
 * INDENT + 2. */
static void
add(const struct ui *u, struct text *t, int width, int indent, enum ui_role role, int bold, const char *s)
{
	int first = 1;

	do {
		int in = first ? indent : indent + 2;
		size_t end = ui_wrap(u, s, width - in);

		if (t->n >= DLG_ROWS)
			return;
		snprintf(t->row[t->n].s, sizeof t->row[t->n].s, "%.*s", (int)end, s);
		t->row[t->n].role = role;
		t->row[t->n].bold = bold;
		t->row[t->n].indent = in;
		t->n++;
		s += end;
		while (*s == ' ')
			s++;
		first = 0;
	} while (*s != '\0');
}

void
dialog_draw(struct ui *u)
{
	const struct eng_model *m = u->m;
	static struct text t;
	const char *title = "";
	char buf[ENG_LINE * 2];
	int width, inner, h, y0, x0, fieldrow = -1;
	unsigned long base = ui_attr(u, UI_DIALOG);

	if (u->dialog == UI_DLG_NONE)
		return;
	/* As wide as the gate's longest line wants (so it does not wrap when
	 * there is room), at least 76 columns, at most the screen less 4. */
	width = 76;
	for (int i = 0; i < m->gate_lines && i < 8; i++)
		if (ui_width(u, m->gate_text[i]) + 8 > width)
			width = ui_width(u, m->gate_text[i]) + 8;
	if (width > COLS - 4)
		width = COLS - 4;
	inner = width - 4;
	t.n = 0;
	switch (u->dialog) {
	case UI_DLG_SWITCH:
		title = " switch gate (T3): confirm this change to production traffic ";
		for (int i = 0; i < m->gate_lines && i < 8; i++)
			add(u, &t, inner, 0, UI_DIALOG, 0, m->gate_text[i]);
		break;
	case UI_DLG_TEARDOWN:
		title = " teardown gate (T4): blue will be torn down ";
		for (int i = 0; i < m->gate_lines && i < 8; i++)
			add(u, &t, inner, 0, UI_DIALOG, 0, m->gate_text[i]);
		snprintf(buf, sizeof buf, "Type blue's cluster name%s%s%s and press Enter:",
		    m->gate_expect[0] != '\0' ? " (" : "", m->gate_expect, m->gate_expect[0] != '\0' ? ")" : "");
		add(u, &t, inner, 0, UI_DIALOG, 1, buf);
		fieldrow = t.n;
		add(u, &t, inner, 0, UI_DIALOG, 0, "");
		break;
	case UI_DLG_ROLLBACK:
		title = " rollback ";
		snprintf(buf, sizeof buf, "Put traffic back on blue (%s)?", m->clusters[0].name);
		add(u, &t, inner, 0, UI_DIALOG, 1, buf);
		add(u, &t, inner, 2, UI_DIALOG, 0, "The gateway's weights and the DNS record return to what they "
		    "were before the switch, as the journal recorded them.");
		break;
	case UI_DLG_QUIT:
		title = " quit ";
		snprintf(buf, sizeof buf, "T%d %s is running (%s).", m->stage, stages_title(m->stage), m->state_name);
		add(u, &t, inner, 0, UI_DIALOG, 1, buf);
		add(u, &t, inner, 2, UI_DIALOG, 0, "Quitting stops it at the next safe point: a change under way is "
		    "finished and journaled first. The run resumes from the journal when bgswitch starts again "
		    "with the same config.");
		break;
	default:
		break;
	}
	if (m->gate_refused[0] != '\0' && (u->dialog == UI_DLG_SWITCH || u->dialog == UI_DLG_TEARDOWN)) {
		snprintf(buf, sizeof buf, "%s refused: %s", u->g->failed, m->gate_refused);
		add(u, &t, inner, 0, UI_DANGER, 1, buf);
	}
	if (u->dialog_msg[0] != '\0') {
		snprintf(buf, sizeof buf, "%s %s", u->g->failed, u->dialog_msg);
		add(u, &t, inner, 0, UI_DANGER, 1, buf);
	}
	/* A blank line before the keys, unless it would push the dialog over
	 * the traffic panel's weights. */
	if (u->lay.too_small || u->fullscreen_log || t.n + 4 <= u->lay.r[UI_P_TRAFFIC].y + 1 - 2)
		add(u, &t, inner, 0, UI_DIALOG, 0, "");
	switch (u->dialog) {
	case UI_DLG_SWITCH:
		add(u, &t, inner, 0, UI_DIALOG, 1, "y  confirm the switch      n / Esc  not now (Enter reopens)");
		break;
	case UI_DLG_TEARDOWN:
		add(u, &t, inner, 0, UI_DIALOG, 1, "Enter  confirm      Esc  not now (Enter reopens)      Ctrl-U  clear");
		break;
	case UI_DLG_ROLLBACK:
		add(u, &t, inner, 0, UI_DIALOG, 1, "y  roll back      n / Esc  cancel");
		break;
	case UI_DLG_QUIT:
		add(u, &t, inner, 0, UI_DIALOG, 1, "y  stop and quit      n / Esc  stay");
		break;
	default:
		break;
	}

	/* Just under the cluster panes' titles: it covers the node lists, the
	 * least needed at a gate, and leaves the names and versions, the
	 * weights, the DNS target, the stages and the checks in view. */
	h = t.n + 2;
	if (h > LINES - 2)
		h = LINES - 2;
	y0 = !u->lay.too_small && !u->fullscreen_log && 2 + h <= LINES - 1 ? 2 : (LINES - h) / 2;
	x0 = (COLS - width) / 2;
	if (u->overlay != NULL)
		delwin(u->overlay);
	if ((u->overlay = newwin(h, width, y0, x0)) == NULL)
		return;
	for (int y = 0; y < h; y++)
		ui_fill(u->overlay, y, 0, base);
	ui_box(u, u->overlay, base);
	ui_put(u, u->overlay, 0, 2, width - 4, title, base | A_BOLD);
	for (int i = 0; i < t.n && 1 + i < h - 1; i++) {
		unsigned long a = t.row[i].role == UI_DIALOG ? base : ui_attr(u, t.row[i].role);

		if (i == fieldrow) {
			/* The field shows the end of what was typed when it is long. */
			const char *s = u->field;
			int room = inner - 4;

			while (ui_width(u, s) > room - 1)
				s++;
			snprintf(buf, sizeof buf, "> %s", s);
			ui_put(u, u->overlay, 1 + i, 2, inner, buf, base | A_BOLD);
			ui_put(u, u->overlay, 1 + i, 2 + ui_width(u, buf), 1, u->g->cursor, base);
			continue;
		}
		ui_put(u, u->overlay, 1 + i, 2 + t.row[i].indent, inner - t.row[i].indent, t.row[i].s,
		    a | (t.row[i].bold ? A_BOLD : 0));
	}
}
