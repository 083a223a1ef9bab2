/*
 * ui.c — ui_run(): the terminal's owner.  Sets the terminal up, runs the
 * one loop that waits, reads keys and redraws, and gives the terminal
 * back on every way out.
 *
 * The loop poll()s three descriptors: the keyboard (fd 0); a pipe that a
 * small thread writes a byte to whenever eng_wait() says the model's
 * version moved; and a self-pipe the signal handlers write the signal's
 * number to (SIGWINCH, SIGINT, SIGTERM, SIGHUP; the handlers do nothing
 * else).  It redraws only when something changed: a new model (at most
 * every 50 ms, so a busy engine costs a few frames a second, not one per
 * event), a key, a resize, or the second turning over (the clock and the
 * countdowns).  Each panel is drawn off screen into its own window,
 * wnoutrefresh()ed, and the terminal is updated once with doupdate().
 *
 * Resizes take one path, resize(): SIGWINCH's byte and a KEY_RESIZE from
 * curses both lead there, and the next frame lays every panel out again
 * (layout.c), or shows the "terminal too small" screen below 80x24.
 *
 * Ways out:
 *   q              finished: leave.  Running: ask (dialog.c), then post
 *                  ENG_CMD_ABORT and keep drawing until the engine stops.
 *   SIGINT, SIGTERM, Ctrl-C
 *                  like q answered yes, without the question.
 *   SIGHUP, or the terminal going away
 *                  stop drawing and give the terminal back; then, unless
 *                  ui_opts.keep_running, post ENG_CMD_ABORT and wait for
 *                  the engine, so nothing goes on in the background.
 *   SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT
 *                  see crash() below.
 */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ui/ui_internal.h"

#define FRAME_MS 50		/* at most this often for model changes */

static const struct ui_glyphs glyphs_utf8 = {
	.hline = "\u2500", .vline = "\u2502", .tl = "\u250c", .tr = "\u2510", .bl = "\u2514", .br = "\u2518",
	.done = "\u2713", .running = "\u25b6", .pending = "\u00b7", .failed = "\u2717", .skipped = "-",
	.bar_on = "\u2588", .bar_off = "\u2591", .ellipsis = "\u2026", .sep = " \u00b7 ", .cursor = "_",
};

static const struct ui_glyphs glyphs_ascii = {
	.hline = "-", .vline = "|", .tl = "+", .tr = "+", .bl = "+", .br = "+",
	.done = "+", .running = ">", .pending = ".", .failed = "x", .skipped = "-",
	.bar_on = "#", .bar_off = ".", .ellipsis = "..", .sep = " - ", .cursor = "_",
};

/* ---- signals ------------------------------------------------------------------- */

static int sig_pipe[2] = { -1, -1 };

/* For crash(): the terminal modes from before curses, and the bytes that
 * put the terminal back (sgr0, cnorm, rmkx, rmcup), both saved while it
 * was still safe to compute them. */
static struct termios saved_tio;
static int saved_tio_ok;
static char reset_seq[256];
static size_t reset_len;

static const int flag_sigs[] = { SIGWINCH, SIGINT, SIGTERM, SIGHUP };
static const int crash_sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
static struct sigaction old_flag[4], old_crash[5];

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	if (write(sig_pipe[1], &b, 1) < 0) {
		/* the pipe is full: the loop has a byte to read anyway */
	}
	errno = saved;
}

/*
 * A crash while curses owns the terminal.  endwin() is not async-signal-
 * safe (it allocates and takes locks), so this handler does only what is:
 * tcsetattr() with the modes saved before initscr (echo, canonical input
 * back) and write() of the reset string saved after it (attributes off,
 * cursor visible, keypad transmit off, leave the alternate screen).  Then
 * it restores the default action (SA_RESETHAND already did) and raises the
 * signal again, so the process still dies of it, with a core if enabled.
 */
static void
crash(int sig)
{
	if (saved_tio_ok)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	if (reset_len > 0 && write(STDOUT_FILENO, reset_seq, reset_len) < 0) {
		/* nothing more can be done */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
save_reset_sequence(void)
{
	static const char *const caps[] = { "sgr0", "cnorm", "rmkx", "rmcup" };

	reset_len = 0;
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		char *s = tigetstr(caps[i]);
		size_t n;

		if (s == NULL || s == (char *)-1)
			continue;
		n = strlen(s);
		if (reset_len + n >= sizeof reset_seq)
			break;
		memcpy(reset_seq + reset_len, s, n);
		reset_len += n;
	}
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	for (size_t i = 0; i < sizeof flag_sigs / sizeof flag_sigs[0]; i++)
		sigaction(flag_sigs[i], &sa, &old_flag[i]);
	sa.sa_handler = crash;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	for (size_t i = 0; i < sizeof crash_sigs / sizeof crash_sigs[0]; i++)
		sigaction(crash_sigs[i], &sa, &old_crash[i]);
}

/* Puts the caller's handlers back; after a hang-up SIGHUP stays ignored
 * (the terminal is gone; a second one must not kill the engine that was
 * left running). */
static void
restore_signals(int hup)
{
	for (size_t i = 0; i < sizeof crash_sigs / sizeof crash_sigs[0]; i++)
		sigaction(crash_sigs[i], &old_crash[i], NULL);
	for (size_t i = 0; i < sizeof flag_sigs / sizeof flag_sigs[0]; i++) {
		if (hup && flag_sigs[i] == SIGHUP)
			signal(SIGHUP, SIG_IGN);
		else
			sigaction(flag_sigs[i], &old_flag[i], NULL);
	}
}

/* ---- the wake-up thread ----------------------------------------------------------- */

struct waker {
	struct eng *e;
	int fd;				/* write end of the wake pipe */
	uint64_t version;
	atomic_int stop;
	atomic_int pending;		/* a byte is in the pipe, not yet read */
	pthread_t thread;
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *
waker_main(void *arg)
{
	struct waker *w = arg;
	uint64_t v = w->version;

	while (!atomic_load(&w->stop)) {
		long long t0 = mono_ms();
		uint64_t nv = eng_wait(w->e, v, 1000);

		if (nv != v) {
			v = nv;
			if (!atomic_exchange(&w->pending, 1) && write(w->fd, "m", 1) < 0)
				atomic_store(&w->pending, 0);
		} else if (mono_ms() - t0 < 100) {
			/* A finished engine's eng_wait returns at once: poll gently. */
			struct timespec ts = { 0, 250 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

/* ---- helpers the other files use -------------------------------------------------- */

int
ui_post(struct ui *u, enum eng_cmd cmd, const char *text)
{
	char err[ENG_LINE];

	if (eng_post(u->e, cmd, text, err, sizeof err) == 0)
		return 0;
	snprintf(u->dialog_msg, sizeof u->dialog_msg, "%s", err);
	return -1;
}

void
ui_quit(struct ui *u)
{
	if (u->m->finished) {
		u->leave = 1;
		return;
	}
	/* At a gate, leaving is declining it for now (exit 3: run again to
	 * continue there); elsewhere the run stops at its next safe point. */
	if (!u->stopping)
		ui_post(u, u->m->gate != ENG_GATE_NONE ? ENG_CMD_DECLINE : ENG_CMD_ABORT, NULL);
	u->stopping = 1;
	dialog_close(u);
}

int
ui_stage_running(const struct ui *u)
{
	return !u->m->finished && u->m->gate == ENG_GATE_NONE;
}

int
ui_live_role(const struct ui *u)
{
	const struct eng_traffic_view *t = &u->m->traffic;
	int gw_green = !t->has_gateway || (t->gateway_known && t->green_share >= 99.5);
	int dns_green = !t->has_dns || (t->dns_known && strcmp(t->points_to, "green") == 0);

	/* The cluster that serves the traffic: green once all of it is there
	 * (during the rollback window too), blue until then and after a
	 * rollback. */
	if (u->m->state == ENG_S_DONE)
		return 1;
	if (u->m->state == ENG_S_ROLLBACK || u->m->state == ENG_S_ROLLED_BACK)
		return 0;
	return (t->has_gateway || t->has_dns) && gw_green && dns_green ? 1 : 0;
}

/* ---- drawing ------------------------------------------------------------------------ */

static void
destroy_windows(struct ui *u)
{
	for (int i = 0; i < UI_NPANELS; i++) {
		if (u->win[i] != NULL)
			delwin(u->win[i]);
		u->win[i] = NULL;
	}
	if (u->overlay != NULL)
		delwin(u->overlay);
	u->overlay = NULL;
}

static void
draw_too_small(struct ui *u)
{
	char now[64];
	int y = LINES / 2 - 1;

	werase(stdscr);
	if (y < 0)
		y = 0;
	snprintf(now, sizeof now, "now %dx%d", COLS, LINES);
	ui_put(u, stdscr, y, 0, COLS, "terminal too small (need 80x24)", ui_attr(u, UI_WARN) | A_BOLD);
	ui_put(u, stdscr, y + 1, 0, COLS, now, ui_attr(u, UI_MUTED));
	if (u->dialog != UI_DLG_NONE)
		ui_put(u, stdscr, y + 2, 0, COLS, "a dialog is waiting: enlarge the terminal", ui_attr(u, UI_DANGER));
	else if (u->stopping && !u->m->finished)
		ui_put(u, stdscr, y + 2, 0, COLS, "stopping at the next safe point", ui_attr(u, UI_WARN));
	else
		ui_put(u, stdscr, y + 2, 0, COLS, "enlarge it, or q to quit", ui_attr(u, UI_MUTED));
	wnoutrefresh(stdscr);
}

static void
draw(struct ui *u)
{
	struct ui_layout nl;
	struct ui_needs needs;
	int a, b;

	u->now_ms = wall_ms();
	a = cluster_pane_rows(u, 0, COLS / 2);
	b = cluster_pane_rows(u, 1, COLS - COLS / 2);
	needs.pane_rows = a > b ? a : b;
	needs.check_rows = stages_panel_check_rows(u, COLS);
	layout_compute(&nl, LINES, COLS, u->fullscreen_log, &needs);
	if (layout_differs(&nl, &u->lay)) {
		destroy_windows(u);
		u->lay = nl;
		if (!nl.too_small)
			for (int i = 0; i < UI_NPANELS; i++)
				if (nl.r[i].h > 0 && nl.r[i].w > 0)
					u->win[i] = newwin(nl.r[i].h, nl.r[i].w, nl.r[i].y, nl.r[i].x);
		/* Whatever the old windows left on the virtual screen is
		 * covered by the new ones; stdscr is the blank beneath. */
		werase(stdscr);
		wnoutrefresh(stdscr);
	}
	if (u->clear) {
		clearok(curscr, TRUE);
		u->clear = 0;
	}
	if (is_wintouched(stdscr))
		wnoutrefresh(stdscr);
	if (u->lay.too_small) {
		draw_too_small(u);
		doupdate();
		return;
	}
	if (u->win[UI_P_HEADER] != NULL)
		header_draw(u, u->win[UI_P_HEADER]);
	if (u->win[UI_P_BLUE] != NULL)
		cluster_pane_draw(u, u->win[UI_P_BLUE], 0);
	if (u->win[UI_P_GREEN] != NULL)
		cluster_pane_draw(u, u->win[UI_P_GREEN], 1);
	if (u->win[UI_P_TRAFFIC] != NULL)
		traffic_panel_draw(u, u->win[UI_P_TRAFFIC]);
	if (u->win[UI_P_STAGES] != NULL)
		stages_panel_draw(u, u->win[UI_P_STAGES]);
	if (u->win[UI_P_LOG] != NULL)
		log_pane_draw(u, u->win[UI_P_LOG]);
	if (u->win[UI_P_KEYBAR] != NULL)
		keybar_draw(u, u->win[UI_P_KEYBAR]);
	for (int i = 0; i < UI_NPANELS; i++)
		if (u->win[i] != NULL)
			wnoutrefresh(u->win[i]);
	if (u->help) {
		help_draw(u);
		if (u->overlay != NULL)
			wnoutrefresh(u->overlay);
	}
	if (u->dialog != UI_DLG_NONE) {
		dialog_draw(u);
		if (u->overlay != NULL)
			wnoutrefresh(u->overlay);
	}
	doupdate();
	if (u->overlay != NULL) {
		delwin(u->overlay);
		u->overlay = NULL;
	}
}

/* The one resize path: SIGWINCH and KEY_RESIZE both come here; the next
 * frame lays everything out again. */
static void
resize(struct ui *u)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0
	    && (ws.ws_row != LINES || ws.ws_col != COLS))
		resizeterm(ws.ws_row, ws.ws_col);
	u->dirty = 1;
}

static void
snapshot(struct ui *u)
{
	eng_snapshot(u->e, u->m);
	dialog_sync(u);
	if (u->stopping && u->m->finished)
		u->leave = 1;
	u->dirty = 1;
}

/* ---- ui_run -------------------------------------------------------------------------- */

static int
make_pipe(int p[2])
{
	if (pipe(p) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
		fcntl(p[i], F_SETFD, FD_CLOEXEC);
	}
	return 0;
}

static void
close_pipe(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	p[0] = p[1] = -1;
}

/* Waits, without a screen, until the engine has stopped. */
static void
wait_engine(struct eng *e, struct eng_model *m)
{
	for (;;) {
		eng_snapshot(e, m);
		if (m->finished)
			return;
		eng_wait(e, m->version, 1000);
	}
}

int
ui_run(struct eng *e, const struct ui_opts *o, char *err, unsigned long errlen)
{
	static const struct ui_opts defaults = { 0 };
	struct ui *u;
	struct waker wk;
	SCREEN *scr;
	char *old_ctype = NULL;
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	sigset_t unblock, old_mask, all;
	int wake_pipe[2] = { -1, -1 }, hup = 0, signalled = 0, model_due = 0, waker_ok;
	long long last_snap = 0, drawn_sec = -1;

	if (o == NULL)
		o = &defaults;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(err, errlen, "the screen needs a terminal on stdin and stdout (use --headless in a pipeline)");
		return -1;
	}
	if ((u = calloc(1, sizeof *u)) == NULL || (u->m = calloc(1, sizeof *u->m)) == NULL) {
		free(u);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	u->e = e;
	u->o = o;
	u->list[UI_FOCUS_LOG].follow = 1;
	if (theme_load(o->theme != NULL ? o->theme : "default", o->force_mono || (nc != NULL && nc[0] != '\0'),
	    &u->theme, err, (size_t)errlen) != 0) {
		free(u->m);
		free(u);
		return -1;
	}

	/* Only LC_CTYPE: the engine formats numbers for JSON and the journal
	 * and must keep the C locale's decimal point. */
	old_ctype = strdup(setlocale(LC_CTYPE, NULL));
	setlocale(LC_CTYPE, "");
	u->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	u->g = u->utf8 ? &glyphs_utf8 : &glyphs_ascii;

	if (make_pipe(sig_pipe) != 0 || make_pipe(wake_pipe) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close_pipe(sig_pipe);
		goto fail_early;
	}
	saved_tio_ok = tcgetattr(STDIN_FILENO, &saved_tio) == 0;
	/* Before newterm: curses then leaves SIGINT, SIGTERM and SIGWINCH to us. */
	install_signals();
	sigemptyset(&unblock);
	for (size_t i = 0; i < sizeof flag_sigs / sizeof flag_sigs[0]; i++)
		sigaddset(&unblock, flag_sigs[i]);
	pthread_sigmask(SIG_UNBLOCK, &unblock, &old_mask);

	if ((scr = newterm(NULL, stdout, stdin)) == NULL) {
		snprintf(err, errlen, "cannot use the terminal (TERM=%s unknown?)", term != NULL ? term : "");
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
		restore_signals(0);
		close_pipe(sig_pipe);
		close_pipe(wake_pipe);
		goto fail_early;
	}
	set_term(scr);
	{
		/* A terminal that cannot move the cursor (TERM=dumb) cannot
		 * show the screen: refuse it rather than draw garbage. */
		char *cup = tigetstr("cup");

		if (cup == NULL || cup == (char *)-1) {
			endwin();
			delscreen(scr);
			snprintf(err, errlen, "TERM=%s cannot move the cursor; the screen needs a full terminal "
			    "(or use --headless)", term != NULL ? term : "");
			pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
			restore_signals(0);
			close_pipe(sig_pipe);
			close_pipe(wake_pipe);
			goto fail_early;
		}
	}
	save_reset_sequence();
	raw();			/* Ctrl-C, Ctrl-Z, Ctrl-S arrive as keys: no suspend, no frozen output */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (!u->theme.mono && has_colors()) {
		start_color();
		use_default_colors();
	}
	theme_apply(&u->theme);

	eng_snapshot(e, u->m);
	dialog_sync(u);
	u->dirty = 1;

	memset(&wk, 0, sizeof wk);
	wk.e = e;
	wk.fd = wake_pipe[1];
	wk.version = u->m->version;
	sigfillset(&all);
	{
		sigset_t keep;

		pthread_sigmask(SIG_SETMASK, &all, &keep);
		waker_ok = pthread_create(&wk.thread, NULL, waker_main, &wk) == 0;
		pthread_sigmask(SIG_SETMASK, &keep, NULL);
	}

	while (!u->leave && !hup) {
		struct pollfd pfd[3];
		long long now = wall_ms(), mnow = mono_ms();
		int timeout;

		if (!waker_ok)		/* no thread: look at the model every 200 ms */
			model_due = mnow - last_snap >= 200;
		if (model_due && mnow - last_snap >= FRAME_MS) {
			model_due = 0;
			snapshot(u);
			last_snap = mnow;
		}
		if (now / 1000 != drawn_sec)
			u->dirty = 1;
		if (u->leave)
			break;
		if (u->dirty) {
			draw(u);
			u->dirty = 0;
			drawn_sec = u->now_ms / 1000;
			now = u->now_ms;
		}
		timeout = (int)(1000 - now % 1000) + 5;
		if (model_due || !waker_ok) {
			long long left = FRAME_MS - (mono_ms() - last_snap);

			if (!waker_ok)
				left = 200 - (mono_ms() - last_snap);
			timeout = left < 0 ? 0 : left < timeout ? (int)left : timeout;
		}

		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = wake_pipe[0];
		pfd[1].events = POLLIN;
		pfd[2].fd = sig_pipe[0];
		pfd[2].events = POLLIN;
		if (poll(pfd, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[2].revents & POLLIN) {
			unsigned char sigs[64];
			ssize_t n;

			while ((n = read(sig_pipe[0], sigs, sizeof sigs)) > 0)
				for (ssize_t i = 0; i < n; i++) {
					if (sigs[i] == SIGWINCH)
						resize(u);
					else if (sigs[i] == SIGHUP)
						hup = 1;
					else if (sigs[i] == SIGINT || sigs[i] == SIGTERM) {
						signalled = 1;
						ui_quit(u);
						u->dirty = 1;
					}
				}
		}
		if (pfd[1].revents & POLLIN) {
			char buf[64];

			while (read(wake_pipe[0], buf, sizeof buf) > 0)
				;
			/* Cleared before the snapshot is taken: a change after
			 * this point writes a new byte. */
			atomic_store(&wk.pending, 0);
			model_due = 1;
		}
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			hup = 1;
		} else if (pfd[0].revents & POLLIN) {
			int ch;

			while ((ch = wgetch(stdscr)) != ERR) {
				if (ch == KEY_RESIZE)
					resize(u);
				else if (keys_handle(u, ch))
					u->dirty = 1;
			}
		}
	}

	atomic_store(&wk.stop, 1);
	if (waker_ok)
		pthread_join(wk.thread, NULL);
	destroy_windows(u);
	endwin();
	delscreen(scr);
	reset_len = 0;
	saved_tio_ok = 0;
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	restore_signals(hup);
	close_pipe(sig_pipe);
	close_pipe(wake_pipe);
	if (old_ctype != NULL) {
		setlocale(LC_CTYPE, old_ctype);
		free(old_ctype);
	}
	/* The terminal is back.  A hang-up stops the run too, unless the
	 * operator asked for it to go on (--keep-running): then the caller
	 * waits for it.  After q or a signal the engine has already
	 * stopped, or is stopping and is waited for here. */
	if (hup && !o->keep_running) {
		char e2[ENG_LINE];

		eng_post(e, ENG_CMD_ABORT, NULL, e2, sizeof e2);
		wait_engine(e, u->m);
	} else if (!hup && (u->stopping || signalled)) {
		wait_engine(e, u->m);
	}
	free(u->m);
	free(u);
	return 0;

fail_early:
	if (old_ctype != NULL) {
		setlocale(LC_CTYPE, old_ctype);
		free(old_ctype);
	}
	free(u->m);
	free(u);
	return -1;
}
