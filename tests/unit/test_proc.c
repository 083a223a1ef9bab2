/*
 * test_proc.c — src/proc.c with real processes: sh scripts that print,
 * exit with a status, die of a signal, ignore SIGTERM and leave a
 * grandchild behind, print secrets and endless lines.  After each test no
 * child of ours is left, and a grandchild of a killed run is gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/http.h"
#include "src/proc.h"

#define assert_contains(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	if (h_ == NULL || strstr(h_, n_) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", h_ != NULL ? h_ : "(null)", n_); \
} while (0)

#define MAXLINES 64

/* What the line callback saw. */
struct seen {
	int n;
	char *line[MAXLINES];
	long long at[MAXLINES];		/* http_now_ms() when it arrived */
	volatile int *cancel;		/* set when a line "ready" arrives */
};

static void
on_line(void *ctx, const char *line)
{
	struct seen *s = ctx;

	if (s->cancel != NULL && strcmp(line, "ready") == 0)
		*s->cancel = 1;
	if (s->n >= MAXLINES)
		return;
	s->line[s->n] = strdup(line);
	s->at[s->n] = http_now_ms();
	s->n++;
}

static void
seen_free(struct seen *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->line[i]);
	memset(s, 0, sizeof *s);
}

/* Runs sh -c SCRIPT; returns proc_run's result. */
static int
run_sh(const char *script, long timeout_ms, struct seen *s, volatile int *cancel,
    struct proc_result *r, char *err, size_t errlen)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };
	struct proc_opts o = { 0 };

	o.argv = argv;
	o.timeout_ms = timeout_ms;
	o.line = s != NULL ? on_line : NULL;
	o.ctx = s;
	o.cancel = cancel;
	return proc_run(&o, r, err, errlen);
}

static void
assert_no_children(void)
{
	int st;

	assert_int_equal(waitpid(-1, &st, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* Whether PID runs (exists and is not a zombie). */
static bool
alive(int pid)
{
	char path[64], text[512], *p;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return false;
	n = fread(text, 1, sizeof text - 1, fp);
	fclose(fp);
	text[n] = '\0';
	p = strrchr(text, ')');
	return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static int
read_pid(const char *path)
{
	FILE *fp = fopen(path, "r");
	int pid = 0;

	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%d", &pid), 1);
	fclose(fp);
	unlink(path);
	return pid;
}

static void
assert_gone(int pid)
{
	/* Gone, or a zombie waiting for an init that may not reap promptly in
	 * a container. */
	for (int i = 0; i < 100 && alive(pid); i++)
		usleep(10000);
	assert_false(alive(pid));
}

/* ---- lines --------------------------------------------------------------------------- */

static void
test_lines_in_order(void **state)
{
	struct seen s = { 0 };
	struct proc_result r;
	char err[600] = "";

	(void)state;
	assert_int_equal(run_sh("echo one; echo two >&2; printf 'tab\\there\\r\\n'; echo; "
	    "printf 'bell\\007x\\n'; printf 'no newline'", 5000, &s, NULL, &r, err, sizeof err), 0);
	assert_int_equal(s.n, 6);
	assert_string_equal(s.line[0], "one");
	assert_string_equal(s.line[1], "two");		/* stderr, merged in order */
	assert_string_equal(s.line[2], "tab here");	/* \r dropped, tab a space */
	assert_string_equal(s.line[3], "");
	assert_string_equal(s.line[4], "bell?x");	/* control characters shown as ? */
	assert_string_equal(s.line[5], "no newline");	/* the last, unterminated line */
	assert_string_equal(r.last_line, "no newline");
	assert_true(r.exited);
	assert_int_equal(r.status, 0);
	seen_free(&s);

	/* Streamed as they come, not collected at the end. */
	assert_int_equal(run_sh("echo early; sleep 0.4; echo late", 5000, &s, NULL, &r, err,
	    sizeof err), 0);
	assert_int_equal(s.n, 2);
	assert_true(s.at[1] - s.at[0] >= 300);
	seen_free(&s);

	/* The last line is the last non-blank one; no callback is fine. */
	assert_int_equal(run_sh("echo 'verdict  '; echo '   '; echo", 5000, NULL, NULL, &r, err,
	    sizeof err), 0);
	assert_string_equal(r.last_line, "verdict");
	assert_no_children();
}

static void
test_long_line_cut(void **state)
{
	struct seen s = { 0 };
	struct proc_result r;
	char err[600] = "";

	(void)state;
	assert_int_equal(run_sh("head -c 200000 /dev/zero | tr '\\000' x; echo; echo after",
	    5000, &s, NULL, &r, err, sizeof err), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(strlen(s.line[0]), PROC_LINE_MAX - 1);
	assert_string_equal(s.line[0] + PROC_LINE_MAX - 4, "...");
	assert_int_equal(s.line[0][0], 'x');
	assert_string_equal(s.line[1], "after");
	assert_string_equal(r.last_line, "after");
	seen_free(&s);
	/* Many lines: each one handed over, none kept. */
	assert_int_equal(run_sh("i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done; "
	    "echo done", 5000, NULL, NULL, &r, err, sizeof err), 0);
	assert_string_equal(r.last_line, "done");
	assert_no_children();
}

/* ---- how it ended -------------------------------------------------------------------- */

static void
test_exit_status(void **state)
{
	char *t[] = { "true", NULL };
	struct proc_opts o = { .argv = t };
	struct proc_result r;
	char err[600] = "";

	(void)state;
	assert_int_equal(proc_run(&o, &r, err, sizeof err), 0);
	assert_true(r.exited);
	assert_int_equal(r.status, 0);
	assert_false(r.signaled || r.timed_out || r.cancelled || r.start_failed);
	/* NULL result and error are allowed. */
	assert_int_equal(proc_run(&o, NULL, NULL, 0), 0);

	assert_int_equal(run_sh("echo working; echo 'Error: quota exceeded' >&2; exit 3", 5000,
	    NULL, NULL, &r, err, sizeof err), -1);
	assert_true(r.exited);
	assert_int_equal(r.status, 3);
	assert_string_equal(err, "sh exited with status 3: Error: quota exceeded");
	assert_string_equal(r.last_line, "Error: quota exceeded");

	assert_int_equal(run_sh("kill -KILL $$", 5000, NULL, NULL, &r, err, sizeof err), -1);
	assert_false(r.exited);
	assert_true(r.signaled);
	assert_int_equal(r.sig, SIGKILL);
	assert_contains(err, "sh was killed by signal 9");

	/* Default dispositions in the child even when we ignore a signal. */
	signal(SIGTERM, SIG_IGN);
	assert_int_equal(run_sh("kill -TERM $$; sleep 5", 5000, NULL, NULL, &r, err, sizeof err), -1);
	signal(SIGTERM, SIG_DFL);
	assert_true(r.signaled);
	assert_int_equal(r.sig, SIGTERM);
	assert_no_children();
}

static void
test_missing_program(void **state)
{
	char *abs[] = { "/nonexistent/bgswitch-apply", "arg", NULL };
	char *rel[] = { "bgswitch-no-such-program-here", NULL };
	char *empty[] = { NULL };
	struct proc_opts o = { .argv = abs };
	struct proc_result r;
	char err[600] = "";

	(void)state;
	assert_int_equal(proc_run(&o, &r, err, sizeof err), -1);
	assert_true(r.start_failed);
	assert_false(r.exited);
	assert_string_equal(err, "cannot run /nonexistent/bgswitch-apply: No such file or directory");
	o.argv = rel;
	assert_int_equal(proc_run(&o, &r, err, sizeof err), -1);
	assert_true(r.start_failed);
	assert_string_equal(err, "cannot run bgswitch-no-such-program-here: No such file or directory");
	o.argv = empty;
	assert_int_equal(proc_run(&o, &r, err, sizeof err), -1);
	assert_true(r.start_failed);
	assert_string_equal(err, "no program to run");
	assert_int_equal(proc_run(NULL, &r, err, sizeof err), -1);
	assert_no_children();
}

static void
test_timeout_kills_group(void **state)
{
	char pidfile[80], script[256], err[600] = "";
	struct seen s = { 0 };
	struct proc_result r;
	long long t0;

	(void)state;
	snprintf(pidfile, sizeof pidfile, "/tmp/bgswitch-proc-%d.pid", (int)getpid());
	/* A grandchild in the background, and a shell that ignores SIGTERM:
	 * both must go. */
	snprintf(script, sizeof script, "trap '' TERM; sleep 30 & echo $! > %s; echo waiting; "
	    "sleep 30", pidfile);
	t0 = http_now_ms();
	assert_int_equal(run_sh(script, 300, &s, NULL, &r, err, sizeof err), -1);
	assert_true(http_now_ms() - t0 < 3000);
	assert_true(r.timed_out);
	assert_false(r.cancelled);
	assert_true(r.signaled);
	assert_int_equal(r.sig, SIGKILL);
	assert_true(r.elapsed_ms >= 300);
	assert_string_equal(err, "sh timed out after 300 ms (process group killed): waiting");
	assert_int_equal(s.n, 1);
	assert_gone(read_pid(pidfile));
	seen_free(&s);
	assert_no_children();
}

static void
test_cancel(void **state)
{
	char pidfile[80], script[256], err[600] = "";
	volatile int cancel = 0;
	struct seen s = { 0 };
	struct proc_result r;
	long long t0;

	(void)state;
	snprintf(pidfile, sizeof pidfile, "/tmp/bgswitch-proc-c%d.pid", (int)getpid());
	snprintf(script, sizeof script, "sleep 30 & echo $! > %s; echo ready; sleep 30", pidfile);
	s.cancel = &cancel;
	t0 = http_now_ms();
	/* No timeout: only the flag (set by the callback on "ready") ends it. */
	assert_int_equal(run_sh(script, 0, &s, &cancel, &r, err, sizeof err), -1);
	assert_true(http_now_ms() - t0 < 3000);
	assert_true(r.cancelled);
	assert_false(r.timed_out);
	assert_true(r.signaled);
	assert_int_equal(r.sig, SIGTERM);
	assert_string_equal(err, "sh cancelled (process group killed): ready");
	assert_gone(read_pid(pidfile));
	seen_free(&s);

	/* Set before the start: ended at once. */
	cancel = 1;
	t0 = http_now_ms();
	assert_int_equal(run_sh("sleep 30", 0, NULL, &cancel, &r, err, sizeof err), -1);
	assert_true(r.cancelled);
	assert_true(http_now_ms() - t0 < 2000);
	assert_no_children();
}

/* ---- secrets ------------------------------------------------------------------------- */

static void
test_redacted(void **state)
{
	static const char *const secrets[] = {
		"s3cr3tValue42", "eyJhbGciOiJSUzI1NiJ9.payload.sig", "hunter2hunter2",
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "AAAAB3NzaKeyBody",
	};
	struct seen s = { 0 };
	struct proc_result r;
	char err[600] = "";

	(void)state;
	assert_int_equal(run_sh("echo 'client_secret=s3cr3tValue42'; "
	    "echo 'Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig'; "
	    "echo '-----BEGIN PRIVATE KEY-----'; echo 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'; "
	    "echo 'AAAAB3NzaKeyBody'; echo '-----END PRIVATE KEY-----'; "
	    "echo 'plain line'; echo '{\"password\": \"hunter2hunter2\"}' >&2; exit 1",
	    5000, &s, NULL, &r, err, sizeof err), -1);
	assert_int_equal(s.n, 8);
	for (int i = 0; i < s.n; i++)
		for (size_t k = 0; k < sizeof secrets / sizeof secrets[0]; k++)
			if (strstr(s.line[i], secrets[k]) != NULL)
				fail_msg("line %d \"%s\" shows a secret", i, s.line[i]);
	assert_string_equal(s.line[0], "client_secret=***");
	assert_contains(s.line[1], "Bearer ***");
	assert_string_equal(s.line[2], "-----BEGIN PRIVATE KEY-----");
	assert_string_equal(s.line[3], "***");
	assert_string_equal(s.line[4], "***");
	assert_string_equal(s.line[5], "-----END PRIVATE KEY-----");
	assert_string_equal(s.line[6], "plain line");
	/* The last line and the error are redacted too. */
	assert_null(strstr(r.last_line, "hunter2"));
	assert_null(strstr(err, "hunter2"));
	assert_contains(err, "password");
	seen_free(&s);
	assert_no_children();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_in_order),
		cmocka_unit_test(test_long_line_cut),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_redacted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
