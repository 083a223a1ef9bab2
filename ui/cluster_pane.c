/*
 * cluster_pane.c — one cluster, blue or green, in a box: its name, role
 * (LIVE / candidate) and Kubernetes version in the top border; then the
 * ARM provisioning and power state with the Ready nodes, the pod counts,
 * where the data comes from and how old it is, the last error, the node
 * list (scrollable, filterable, NotReady first as the engine sorts it),
 * pod health per namespace, and the workloads that are not available.
 *
 * Freshness is never implied: the source line always says which API
 * server answered and how long ago.  When the cluster stops answering the
 * pane says "disconnected 12s", the title says STALE, and every line of
 * kept data is drawn in the stale role, so old numbers never pass for
 * current ones, with or without colour.
 */
#include <stdio.h>
#include <string.h>

#include "ui/ui_internal.h"

#define VER_MAX		8	/* "1.30.10-hotfix" is cut there */
#define STATUS_COLS	8	/* "NotReady", "Cordoned" */
#define AGE_COLS	3	/* "41d", "12h" */

static const char *const role_word[2] = { "BLUE", "GREEN" };
static const enum ui_role role_colour[2] = { UI_BLUE, UI_GREEN };

const char *
cluster_role_badge(const struct ui *u, int role)
{
	return ui_live_role(u) == role ? "LIVE" : "candidate";
}

/* Data kept from before the API server stopped answering. */
static int
is_stale(const struct eng_cluster_view *c)
{
	return !c->connected && c->data_ms != 0;
}

int
cluster_pane_nodes(const struct ui *u, int role, int *idx)
{
	const struct eng_cluster_view *c = &u->m->clusters[role];
	const char *f = u->list[role].filter;
	unsigned nn = c->nnodes < ENG_MAX_NODES ? c->nnodes : ENG_MAX_NODES;
	int n = 0;

	for (unsigned i = 0; i < nn; i++) {
		const struct eng_node_view *nv = &c->nodes[i];

		if (f[0] == '\0' || ui_match(nv->name, f) || ui_match(nv->status, f) || ui_match(nv->version, f)
		    || (nv->cordoned && ui_match("cordoned", f)))
			idx[n++] = (int)i;
	}
	return n;
}

static enum ui_role
ns_item(const struct eng_ns_view *ns, char *buf, size_t n)
{
	size_t len = (size_t)snprintf(buf, n, "%s %u/%u", ns->name, ns->ready, ns->total);

	if (ns->pending > 0 && len < n)
		len += (size_t)snprintf(buf + len, n - len, " %u pending", ns->pending);
	if (ns->crashlooping > 0 && len < n)
		snprintf(buf + len, n - len, " %u crashloop", ns->crashlooping);
	if (ns->crashlooping > 0)
		return UI_DANGER;
	if (ns->pending > 0 || ns->ready < ns->total)
		return UI_WARN;
	return ns->total == 0 ? UI_MUTED : UI_OK;
}

static int
ns_items(const struct ui *u, const struct eng_cluster_view *c, struct ui_item *items, int stale)
{
	unsigned nn = c->nnamespaces < ENG_MAX_NS ? c->nnamespaces : ENG_MAX_NS;
	int n = 0;

	for (unsigned i = 0; i < nn && n < UI_FLOW_MAX; i++, n++) {
		enum ui_role r = ns_item(&c->namespaces[i], items[n].s, sizeof items[n].s);

		items[n].attr = ui_attr(u, stale ? UI_STALE : r);
	}
	return n;
}

/* How the inner rows are shared: the fixed lines, then nodes, namespaces
 * and workloads not available. */
struct plan {
	int fixed, nodes, ns, na;
};

static void
plan_rows(const struct ui *u, int role, int width, int rows, struct plan *p)
{
	const struct eng_cluster_view *c = &u->m->clusters[role];
	static struct ui_item items[UI_FLOW_MAX];
	int idx[ENG_MAX_NODES], nodes, ns_need, na_need, rem;

	memset(p, 0, sizeof *p);
	p->fixed = 3 + (c->error[0] != '\0');
	if (c->exists == 0) {
		p->fixed = 2 + (c->error[0] != '\0');
		return;
	}
	nodes = cluster_pane_nodes(u, role, idx);
	ns_need = ui_flow(u, NULL, 0, 0, width, 0, items, ns_items(u, c, items, 0));
	na_need = (int)(c->nnot_available < ENG_MAX_NA ? c->nnot_available : ENG_MAX_NA);
	if (rows < 0) {			/* as many as wanted */
		p->nodes = nodes > 0 ? nodes : 1;
		p->ns = ns_need;
		p->na = na_need;
		return;
	}
	rem = rows - p->fixed;
	if (rem <= 0)
		return;
	p->ns = ns_need < rem / 3 ? ns_need : (ns_need > 0 ? (rem / 3 > 1 ? rem / 3 : 1) : 0);
	p->na = na_need < rem / 4 ? na_need : (na_need > 0 ? (rem / 4 > 1 ? rem / 4 : 1) : 0);
	p->nodes = rem - p->ns - p->na;
	if (p->nodes > nodes && nodes > 0) {	/* room to spare: give it back */
		int spare = p->nodes - nodes;

		p->nodes = nodes;
		p->ns += spare;
		if (p->ns > ns_need) {
			p->na += p->ns - ns_need;
			p->ns = ns_need;
		}
		if (p->na > na_need)
			p->na = na_need;
	}
	if (p->nodes < 0)
		p->nodes = 0;
}

int
cluster_pane_rows(const struct ui *u, int role, int width)
{
	struct plan p;

	plan_rows(u, role, width - 4, -1, &p);
	return p.fixed + p.nodes + p.ns + p.na;
}

/* The top border: role word, name, badge, version, STALE; with single
 * spaces when double ones do not fit.  Returns 1 when the version did not
 * fit even so (the first line shows it instead). */
static int
draw_title(struct ui *u, WINDOW *w, int role, int width)
{
	const struct eng_cluster_view *c = &u->m->clusters[role];
	int live = ui_live_role(u) == role, moved = 0;
	struct ui_line l;

	for (int tight = 0; tight < 2; tight++) {
		const char *sp = tight ? " " : "  ";
		int total = 0;

		ui_line_init(&l);
		ui_line_add(&l, 0, ui_attr(u, role_colour[role]) | A_BOLD, " %s", role_word[role]);
		ui_line_add(&l, 0, ui_attr(u, role_colour[role]), " %s", c->name[0] != '\0' ? c->name : "?");
		ui_line_add(&l, 0, ui_attr(u, UI_TITLE), "%s", sp);
		ui_line_add(&l, 0, ui_attr(u, live ? UI_LIVE : UI_CANDIDATE), "%s", cluster_role_badge(u, role));
		if (c->version[0] != '\0')
			ui_line_add(&l, 1, ui_attr(u, UI_TITLE), "%s%s", sp, c->version);
		if (is_stale(c))
			ui_line_add(&l, 0, ui_attr(u, UI_STALE) | A_BOLD, "%sSTALE", sp);
		if (!tight)
			ui_line_add(&l, 0, ui_attr(u, UI_TITLE), " ");
		for (int i = 0; i < l.n; i++)
			total += ui_width(u, l.seg[i].s);
		if (total <= width - 2)
			break;
	}
	moved = c->version[0] != '\0';
	ui_line_fit(u, &l, width - 2);
	for (int i = 0; i < l.n; i++)
		if (l.seg[i].prio == 1)
			moved = 0;
	/* Still too wide (a long name, or STALE): the name gives way, cut in
	 * its middle, so the role, the badge and STALE always show. */
	{
		int total = 0, over;

		for (int i = 0; i < l.n; i++)
			total += ui_width(u, l.seg[i].s);
		over = total - (width - 2);
		if (over > 0) {
			char name[ENG_LINE];
			int nw = ui_width(u, l.seg[1].s) - over;

			ui_clip_mid(u, name, sizeof name, l.seg[1].s, nw > 6 ? nw : 6);
			snprintf(l.seg[1].s, sizeof l.seg[1].s, "%s", name);
		}
	}
	ui_line_draw(u, w, 0, 1, width - 2, &l);
	return moved;
}

static void
draw_source(struct ui *u, WINDOW *w, int y, int width, const struct eng_cluster_view *c)
{
	const char *srv = c->server;
	char age[16], gone[16];
	struct ui_line l;

	if (strncmp(srv, "https://", 8) == 0)
		srv += 8;
	else if (strncmp(srv, "http://", 7) == 0)
		srv += 7;
	ui_fmt_age(age, sizeof age, u->now_ms - c->data_ms);
	ui_fmt_age(gone, sizeof gone, u->now_ms - (c->disconnected_since_ms != 0 ? c->disconnected_since_ms
	    : c->data_ms));
	ui_line_init(&l);
	if (c->connected && c->data_ms != 0) {
		ui_line_add(&l, 0, ui_attr(u, UI_MUTED), "data %s old from %s", age, srv);
	} else if (!c->connected && (c->data_ms != 0 || c->disconnected_since_ms != 0)) {
		ui_line_add(&l, 0, ui_attr(u, UI_DANGER) | A_BOLD, "disconnected %s", gone);
		if (c->data_ms != 0)
			ui_line_add(&l, 0, ui_attr(u, UI_STALE), "  STALE data %s old", age);
		else
			ui_line_add(&l, 0, ui_attr(u, UI_STALE), "  no data yet");
		if (srv[0] != '\0')
			ui_line_add(&l, 0, ui_attr(u, UI_MUTED), " from %s", srv);
	} else if (srv[0] != '\0') {
		ui_line_add(&l, 0, ui_attr(u, UI_WARN), "connecting to %s", srv);
	} else {
		ui_line_add(&l, 0, ui_attr(u, UI_MUTED), "no API server yet");
	}
	ui_line_draw(u, w, y, 2, width, &l);
}

/* The kubelet version without its "v", as the title shows the cluster's. */
static const char *
kver(const char *v)
{
	return v[0] == 'v' && v[1] >= '0' && v[1] <= '9' ? v + 1 : v;
}

static void
draw_node(struct ui *u, WINDOW *w, int y, int width, const struct eng_node_view *nv, int selected, int stale,
    int vercols)
{
	char name[64], age[16];
	const char *status = nv->status[0] != '\0' ? nv->status : "?";
	enum ui_role r;
	unsigned long sel = selected ? ui_attr(u, UI_SELECTED) : 0;
	int namew = width - 1 - (1 + STATUS_COLS) - (1 + vercols) - (1 + AGE_COLS), x = 2;

	if (strcmp(status, "Ready") == 0) {
		r = nv->cordoned ? UI_WARN : UI_OK;
		if (nv->cordoned)
			status = "Cordoned";
	} else {
		r = UI_DANGER;
	}
	if (stale)
		r = UI_STALE;
	if (nv->created_s > 0)
		ui_fmt_age(age, sizeof age, u->now_ms - nv->created_s * 1000);
	else
		snprintf(age, sizeof age, "?");
	if (namew < 4)
		namew = 4;
	ui_clip_mid(u, name, sizeof name, nv->name, namew);
	/* The selected row is one role (reverse in every theme); its words
	 * still say the status. */
#define A(role) (selected ? sel : ui_attr(u, (role)))
	if (selected)
		for (int i = 0; i < width; i++)
			ui_put(u, w, y, 2 + i, 1, " ", sel);
	x += ui_put(u, w, y, x, width, selected ? ">" : " ", A(UI_NORMAL));
	ui_put(u, w, y, x, namew, name, A(stale ? UI_STALE : UI_NORMAL));
	x += namew + 1;
	ui_put(u, w, y, x, STATUS_COLS, status, A(r));
	x += STATUS_COLS + 1;
	ui_put(u, w, y, x, vercols, kver(nv->version), A(stale ? UI_STALE : UI_MUTED));
	x += vercols + 1;
	ui_put(u, w, y, x, AGE_COLS, age, A(stale ? UI_STALE : UI_MUTED));
#undef A
}

/* Keeps the selection on the same node as the list changes, and in view. */
static void
place_selection(struct ui *u, int role, const int *idx, int count, int rows)
{
	struct ui_list *ls = &u->list[role];
	const struct eng_cluster_view *c = &u->m->clusters[role];

	if (ls->sel_name[0] != '\0')
		for (int i = 0; i < count; i++)
			if (strcmp(c->nodes[idx[i]].name, ls->sel_name) == 0) {
				ls->sel = i;
				break;
			}
	if (ls->sel >= count)
		ls->sel = count - 1;
	if (ls->sel < 0)
		ls->sel = 0;
	if (rows > 0) {
		if (ls->sel < ls->top)
			ls->top = ls->sel;
		if (ls->sel >= ls->top + rows)
			ls->top = ls->sel - rows + 1;
	}
	if (ls->top > count - rows)
		ls->top = count - rows;
	if (ls->top < 0)
		ls->top = 0;
	if (count > 0)
		snprintf(ls->sel_name, sizeof ls->sel_name, "%s", c->nodes[idx[ls->sel]].name);
	ls->count = count;
	ls->rows = rows;
}

static void
draw_bottom(struct ui *u, WINDOW *w, int role, int width, int shown, int count)
{
	const struct ui_list *ls = &u->list[role];
	struct ui_line l;

	ui_line_init(&l);
	if (count > shown && shown > 0)
		ui_line_add(&l, 0, ui_attr(u, UI_MUTED), " nodes %d-%d of %d ", ls->top + 1, ls->top + shown, count);
	else if (count > shown)
		ui_line_add(&l, 0, ui_attr(u, UI_MUTED), " %d nodes not shown ", count);
	if (ls->filter[0] != '\0')
		ui_line_add(&l, 0, ui_attr(u, UI_WARN), " filter /%s: %d match ", ls->filter, count);
	if (u->focus == (enum ui_focus)role && !u->fullscreen_log)
		ui_line_add(&l, 1, ui_attr(u, UI_TITLE), " focus ");
	ui_line_draw(u, w, getmaxy(w) - 1, 2, width - 4, &l);
}

static const char *
absence(const struct ui *u, int role)
{
	const struct eng_model *m = u->m;

	if (role == 1)
		return "not created yet";
	if (m->stages[4].state == ENG_STAGE_DONE || m->state == ENG_S_TEARDOWN || m->state == ENG_S_DONE)
		return "deleted";
	return "does not exist";
}

void
cluster_pane_draw(struct ui *u, WINDOW *w, int role)
{
	const struct eng_cluster_view *c = &u->m->clusters[role];
	int width = getmaxx(w), rows = getmaxy(w) - 2, inner = width - 4, y = 1, stale = is_stale(c);
	static struct ui_item items[UI_FLOW_MAX];
	static int idx[ENG_MAX_NODES];
	struct ui_line l;
	struct plan p;
	int count, nitems, version_moved;

	werase(w);
	ui_box(u, w, ui_attr(u, UI_BORDER));
	version_moved = draw_title(u, w, role, width);
	if (rows <= 0)
		return;
	plan_rows(u, role, inner, rows, &p);

	ui_line_init(&l);
	if (c->exists == 0) {
		ui_line_add(&l, 0, ui_attr(u, UI_WARN) | A_BOLD, "%s", absence(u, role));
		if (c->provisioning[0] != '\0')
			ui_line_add(&l, 1, ui_attr(u, UI_MUTED), "  ARM %s", c->provisioning);
		ui_line_draw(u, w, y++, 2, inner, &l);
		draw_source(u, w, y++, inner, c);
		if (c->error[0] != '\0')
			ui_put(u, w, y++, 2, inner, c->error, ui_attr(u, UI_DANGER));
		return;
	}

	/* The version (when the title had no room for it), ARM's view. */
	{
		int arm_ok = strcmp(c->provisioning, "Succeeded") == 0
		    && (c->power[0] == '\0' || strcmp(c->power, "Running") == 0);

		if (version_moved)
			ui_line_add(&l, 0, ui_attr(u, UI_TITLE), "k8s %s  ", c->version);
		ui_line_add(&l, 0, ui_attr(u, arm_ok ? UI_OK : UI_WARN), "ARM %s/%s",
		    c->provisioning[0] != '\0' ? c->provisioning : (c->exists < 0 ? "unknown" : "?"),
		    c->power[0] != '\0' ? c->power : "?");
		if (c->deployments > 0)
			ui_line_add(&l, 2, ui_attr(u, stale ? UI_STALE : UI_MUTED), "  deploys %u/%u available",
			    c->deployments - c->deployments_not_available, c->deployments);
		ui_line_draw(u, w, y++, 2, inner, &l);
	}
	/* Nodes and pods from the API server; none yet is not zero. */
	ui_line_init(&l);
	if (c->data_ms == 0) {
		ui_line_add(&l, 0, ui_attr(u, UI_WARN), "nodes ?  pods ?");
		ui_line_add(&l, 1, ui_attr(u, UI_MUTED), "  (nothing read from the API server yet)");
		ui_line_draw(u, w, y++, 2, inner, &l);
		draw_source(u, w, y++, inner, c);
		if (c->error[0] != '\0' && y <= rows) {
			ui_line_init(&l);
			ui_line_add(&l, 0, ui_attr(u, UI_DANGER), "%s %s", u->g->failed, c->error);
			ui_line_draw(u, w, y++, 2, inner, &l);
		}
		return;
	}
	ui_line_add(&l, 0, ui_attr(u, stale ? UI_STALE : c->nodes_total > 0 && c->nodes_ready == c->nodes_total
	    ? UI_OK : UI_DANGER), "nodes %u/%u", c->nodes_ready, c->nodes_total);
	ui_line_add(&l, 3, ui_attr(u, stale ? UI_STALE : UI_NORMAL), " Ready");
	ui_line_add(&l, 0, ui_attr(u, stale ? UI_STALE : c->pods_total > 0 && c->pods_ready == c->pods_total
	    ? UI_OK : UI_WARN), "  pods %u/%u", c->pods_ready, c->pods_total);
	ui_line_add(&l, 3, ui_attr(u, stale ? UI_STALE : UI_NORMAL), " ready");
	if (c->pods_pending > 0)
		ui_line_add(&l, 0, ui_attr(u, stale ? UI_STALE : UI_WARN), "  %u pending", c->pods_pending);
	if (c->pods_crashlooping > 0)
		ui_line_add(&l, 0, ui_attr(u, stale ? UI_STALE : UI_DANGER), "  %u crashloop", c->pods_crashlooping);
	ui_line_draw(u, w, y++, 2, inner, &l);
	draw_source(u, w, y++, inner, c);
	if (c->error[0] != '\0' && y <= rows) {
		ui_line_init(&l);
		ui_line_add(&l, 0, ui_attr(u, UI_DANGER), "%s %s", u->g->failed, c->error);
		ui_line_draw(u, w, y++, 2, inner, &l);
	}

	/* Nodes. */
	count = cluster_pane_nodes(u, role, idx);
	place_selection(u, role, idx, count, p.nodes);
	{
		int vercols = 1;

		for (int i = 0; i < p.nodes && u->list[role].top + i < count; i++) {
			int vw = ui_width(u, kver(c->nodes[idx[u->list[role].top + i]].version));

			vercols = vw > vercols ? vw : vercols;
		}
		vercols = vercols > VER_MAX ? VER_MAX : vercols;
		for (int i = 0; i < p.nodes && u->list[role].top + i < count && y <= rows; i++) {
			int k = u->list[role].top + i;

			draw_node(u, w, y++, inner, &c->nodes[idx[k]],
			    u->focus == (enum ui_focus)role && k == u->list[role].sel && !u->fullscreen_log, stale,
			    vercols);
		}
	}
	if (count == 0 && p.nodes > 0 && y <= rows) {
		ui_put(u, w, y, 3, inner - 1, u->list[role].filter[0] != '\0' ? "no node matches the filter"
		    : "no nodes", ui_attr(u, UI_MUTED));
	}
	y = 1 + p.fixed + p.nodes;
	draw_bottom(u, w, role, width, count < p.nodes ? count : p.nodes, count);

	/* Pod health per namespace. */
	if (p.ns > 0 && y <= rows) {
		nitems = ns_items(u, c, items, stale);
		y += ui_flow(u, w, y, 2, inner, p.ns < rows - y + 1 ? p.ns : rows - y + 1, items, nitems) > 0
		    ? p.ns : 0;
	}
	/* Workloads not available. */
	y = 1 + p.fixed + p.nodes + p.ns;
	for (int i = 0; i < p.na && y <= rows; i++, y++) {
		const struct eng_workload_view *wv = &c->not_available[i];

		ui_line_init(&l);
		if (i == p.na - 1 && (unsigned)p.na < c->nnot_available) {
			ui_line_add(&l, 0, ui_attr(u, stale ? UI_STALE : UI_DANGER), "%s +%u more not available",
			    u->g->failed, c->nnot_available - (unsigned)i);
		} else {
			ui_line_add(&l, 0, ui_attr(u, stale ? UI_STALE : UI_DANGER), "%s %s/%s %d/%d",
			    u->g->failed, wv->ns, wv->name, wv->available, wv->desired);
			if (wv->reason[0] != '\0')
				ui_line_add(&l, 1, ui_attr(u, stale ? UI_STALE : UI_MUTED), " %s", wv->reason);
		}
		ui_line_draw(u, w, y, 2, inner, &l);
	}
}
