/*
 * check_command.c — the `command` check: run the team's own probe (argv,
 * never a shell) and pass on exit status 0.
 *
 * The running is src/proc.c's: /dev/null as stdin, stdout and stderr on
 * one pipe, its own process group killed whole on timeout, always reaped.
 * Only the last non-blank output line is kept, because that is where
 * probes put their verdict: it becomes the check's detail.
 */
#include <stdio.h>
#include <string.h>

#include "src/check_internal.h"
#include "src/proc.h"

#define CMD_DEFAULT_TIMEOUT_MS	10000

enum check_status
check_run_command(const struct cfg_check *k, struct check_result *r)
{
	struct proc_opts o = { 0 };
	struct proc_result pr;
	char why[sizeof r->detail];

	check_setf(r->threshold, sizeof r->threshold, "exit 0");
	if (k->command == NULL || k->command[0] == NULL)
		return check_error(r, "no command to run");
	o.argv = k->command;
	o.timeout_ms = k->timeout_ms > 0 ? k->timeout_ms : CMD_DEFAULT_TIMEOUT_MS;
	proc_run(&o, &pr, why, sizeof why);
	if (pr.start_failed)
		return check_error(r, "%s", why);
	if (pr.timed_out) {
		check_setf(r->value, sizeof r->value, "timeout");
		return check_error(r, "%s", why);
	}
	check_setf(r->detail, sizeof r->detail, "%s", pr.last_line);
	if (pr.exited) {
		check_setf(r->value, sizeof r->value, "exit %d", pr.status);
		r->number = pr.status;
		r->has_number = true;
		r->status = pr.status == 0 ? CHECK_PASS : CHECK_FAIL;
	} else {
		check_setf(r->value, sizeof r->value, "signal %d", pr.signaled ? pr.sig : 0);
		r->status = CHECK_FAIL;
	}
	return r->status;
}
