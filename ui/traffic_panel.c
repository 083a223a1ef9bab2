/*
 * traffic_panel.c — where the users' requests go: the Application
 * Gateway's routing rule with blue's and green's share as bars and
 * numbers, each pool's backend health from the gateway's backend-health
 * API, and the live hostname's DNS record (name, type, target, which
 * cluster that target is, TTL).  After bgswitch changed the record, a
 * countdown says when every resolver has surely dropped the old answer
 * (the change time plus the TTL).
 *
 * The top border says how old the reading is; the bottom border carries
 * the last error reading it.
 */
#include <stdio.h>
#include <string.h>

#include "ui/ui_internal.h"

static void
draw_weight(struct ui *u, WINDOW *w, int y, int inner, int role)
{
	const struct eng_traffic_view *t = &u->m->traffic;
	static const char *const word[2] = { "blue ", "green" };
	enum ui_role colour = role == 0 ? UI_BLUE : UI_GREEN;
	double share = role == 0 ? t->blue_share : t->green_share;
	int weight = role == 0 ? t->blue_weight : t->green_weight;
	int healthy = role == 0 ? t->blue_healthy : t->green_healthy;
	int total = role == 0 ? t->blue_total : t->green_total;
	int bw = inner - 6 - 8 - 26, on, x = 2, right = 2 + inner;
	char num[32];
	struct ui_line l;

	if (bw > 40)
		bw = 40;
	if (bw < 10)
		bw = 10;
	x += ui_put(u, w, y, x, right - x, word[role], ui_attr(u, colour) | A_BOLD);
	x += ui_put(u, w, y, x, right - x, " ", 0);
	if (!t->gateway_known) {
		ui_put(u, w, y, x, right - x, "weight unknown (not read yet)", ui_attr(u, UI_WARN));
		return;
	}
	on = (int)(share * bw / 100.0 + 0.5);
	if (on > bw)
		on = bw;
	if (on == 0 && share > 0)
		on = 1;
	for (int i = 0; i < bw && x < right; i++, x++)
		ui_put(u, w, y, x, 1, i < on ? u->g->bar_on : u->g->bar_off,
		    ui_attr(u, i < on ? colour : UI_MUTED));
	snprintf(num, sizeof num, " %3.0f %%", share);
	ui_line_init(&l);
	ui_line_add(&l, 0, ui_attr(u, colour) | A_BOLD, "%s", num);
	if ((double)weight != share)
		ui_line_add(&l, 2, ui_attr(u, UI_MUTED), " (weight %d)", weight);
	if (t->health_known)
		ui_line_add(&l, 1, ui_attr(u, total > 0 && healthy == total ? UI_OK : UI_DANGER),
		    "   backends %d/%d healthy", healthy, total);
	else
		ui_line_add(&l, 1, ui_attr(u, UI_MUTED), "   backends unknown");
	ui_line_draw(u, w, y, x, right - x, &l);
}

static void
draw_dns(struct ui *u, WINDOW *w, int y, int inner)
{
	const struct eng_traffic_view *t = &u->m->traffic;
	struct ui_line l;
	enum ui_role to;

	ui_line_init(&l);
	ui_line_add(&l, 0, ui_attr(u, UI_TITLE), "dns   ");
	if (!t->has_dns) {
		ui_line_add(&l, 0, ui_attr(u, UI_MUTED), "no DNS record in this switchover");
		ui_line_draw(u, w, y, 2, inner, &l);
		return;
	}
	if (!t->dns_known) {
		ui_line_add(&l, 0, ui_attr(u, UI_WARN), "%s not read yet", t->fqdn[0] != '\0' ? t->fqdn : "record");
		ui_line_draw(u, w, y, 2, inner, &l);
		return;
	}
	to = strcmp(t->points_to, "blue") == 0 ? UI_BLUE : strcmp(t->points_to, "green") == 0 ? UI_GREEN
	    : UI_WARN;
	ui_line_add(&l, 0, ui_attr(u, UI_NORMAL), "%s", t->fqdn);
	ui_line_add(&l, 4, ui_attr(u, UI_MUTED), " %s", t->type);
	ui_line_add(&l, 0, ui_attr(u, UI_NORMAL), " %s", t->target[0] != '\0' ? t->target : "-");
	ui_line_add(&l, 0, ui_attr(u, to) | A_BOLD, " (%s)", t->points_to[0] != '\0' ? t->points_to : "neither");
	ui_line_add(&l, 3, ui_attr(u, UI_MUTED), "  ttl %lld s", t->ttl);
	if (t->dns_changed_ms != 0) {
		long long left = t->dns_changed_ms + t->ttl * 1000 - u->now_ms;

		if (left > 0) {
			long long s = (left + 999) / 1000;

			if (s >= 3600)
				ui_line_add(&l, 1, ui_attr(u, UI_WARN), "  resolvers updated in %lld:%02lld:%02lld",
				    s / 3600, s / 60 % 60, s % 60);
			else
				ui_line_add(&l, 1, ui_attr(u, UI_WARN), "  resolvers updated in %lld:%02lld", s / 60,
				    s % 60);
		} else {
			ui_line_add(&l, 5, ui_attr(u, UI_OK), "  resolvers updated (TTL passed)");
		}
	}
	ui_line_draw(u, w, y, 2, inner, &l);
}

void
traffic_panel_draw(struct ui *u, WINDOW *w)
{
	const struct eng_traffic_view *t = &u->m->traffic;
	int width = getmaxx(w), h = getmaxy(w), inner = width - 4, y = 1;
	struct ui_line l;
	char age[16], right[48];
	int rw;

	werase(w);
	ui_box(u, w, ui_attr(u, UI_BORDER));
	if (t->observed_ms != 0) {
		ui_fmt_age(age, sizeof age, u->now_ms - t->observed_ms);
		snprintf(right, sizeof right, " read %s ago ", age);
	} else {
		snprintf(right, sizeof right, " not read yet ");
	}
	rw = ui_width(u, right);
	ui_line_init(&l);
	ui_line_add(&l, 0, ui_attr(u, UI_TITLE) | A_BOLD, " traffic ");
	if (t->has_gateway)
		ui_line_add(&l, 0, ui_attr(u, UI_TITLE), " %s / %s ", t->gateway, t->rule);
	ui_line_draw(u, w, 0, 1, width - 4 - rw, &l);
	ui_put(u, w, 0, width - 2 - rw, rw, right, ui_attr(u, UI_MUTED));
	if (t->error[0] != '\0') {
		ui_line_init(&l);
		ui_line_add(&l, 0, ui_attr(u, UI_DANGER), " %s %s ", u->g->failed, t->error);
		ui_line_draw(u, w, h - 1, 2, width - 4, &l);
	}

	if (h < 3)
		return;
	if (t->has_gateway) {
		draw_weight(u, w, y++, inner, 0);
		if (y < h - 1)
			draw_weight(u, w, y++, inner, 1);
	} else {
		ui_put(u, w, y++, 2, inner, "no Application Gateway in this switchover (DNS only)",
		    ui_attr(u, UI_MUTED));
	}
	if (y < h - 1)
		draw_dns(u, w, y, inner);
}
