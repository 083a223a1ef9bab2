/*
 * ui.h — the curses front end: the switchover screen of PRODUCT.md §2.
 *
 * The screen reads the engine's model (eng_snapshot) and posts commands
 * (eng_post); it never does network I/O, and nothing outside ui/ calls
 * curses.  One thread owns the terminal: it waits on the keyboard, a pipe
 * the engine's model changes wake, SIGWINCH and a 1 s tick, and redraws
 * only when something changed (wnoutrefresh per window, one doupdate).
 */
#ifndef BGSWITCH_UI_H
#define BGSWITCH_UI_H

struct eng;

struct ui_opts {
	const char *theme;	/* theme name or path; NULL = the config's, else "default" */
	int force_mono;		/* --no-color */
	int keep_running;	/* on SIGHUP keep the engine running headless until it ends */
	const char *title;	/* shown in the header before the resource group; NULL = "bgswitch" */
};

/*
 * Runs the screen on the terminal until the engine reaches a terminal
 * state and the operator leaves (q), or the operator quits while a stage
 * runs (asked first; the run then stops at a safe point and resumes from
 * the journal next time).  E must have been started (eng_start).  The
 * terminal is restored on every way out, signals and crashes included.
 * Returns 0, or -1 with ERR when the terminal cannot be used (not a tty,
 * TERM unknown).
 */
int ui_run(struct eng *e, const struct ui_opts *o, char *err, unsigned long errlen);

#endif
