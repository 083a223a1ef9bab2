/*
 * proc.h — running one of the team's own programs (an IaC apply, a
 * teardown script, a probe): an argv, never a shell, with its output
 * handed over line by line as it comes.
 *
 * The child runs in its own process group with default signal handling,
 * /dev/null as stdin and one pipe for stdout and stderr together.  A
 * timeout or the cancel flag ends the whole group (SIGTERM, a short grace,
 * SIGKILL), so nothing the program started is left running; the program
 * itself is always reaped.  Every line passes through log_redact() before
 * anyone sees it, and a line longer than PROC_LINE_MAX is cut, so a chatty
 * or hostile program cannot make bgswitch grow.
 */
#ifndef BGSWITCH_PROC_H
#define BGSWITCH_PROC_H

#include <stddef.h>

#define PROC_LINE_MAX	4096	/* longest line handed over, terminator included */

struct proc_opts {
	char *const *argv;		/* NULL-terminated; argv[0] is looked up in PATH */
	long timeout_ms;		/* 0: no limit */
	/* Each output line (stdout and stderr merged), redacted, without its
	 * newline and with control characters shown as '?'; may be NULL.
	 * Called on proc_run's thread. */
	void (*line)(void *ctx, const char *line);
	void *ctx;
	volatile int *cancel;		/* optional: non-zero ends the process group */
};

struct proc_result {
	int exited, status;		/* exited normally, with this status */
	int signaled, sig;		/* killed by this signal */
	int timed_out;			/* the timeout ended it */
	int cancelled;			/* the cancel flag ended it */
	int start_failed;		/* it never ran (no such program, not executable, ...) */
	long elapsed_ms;
	char last_line[512];		/* the last non-blank line, redacted, cut to fit */
};

/* Runs O->argv to its end.  Returns 0 when it exited with status 0, else
 * -1 with *R saying how it ended and ERR one line naming the program, e.g.
 * "cannot run terraform: No such file or directory", "apply.sh exited with
 * status 3: Error: quota exceeded", "apply.sh timed out after 600000 ms
 * (process group killed): ...", "apply.sh cancelled (process group
 * killed)".  R and ERR may be NULL. */
int proc_run(const struct proc_opts *o, struct proc_result *r, char *err, size_t errlen);

#endif
