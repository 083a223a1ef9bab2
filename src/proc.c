/*
 * proc.c — run a program (argv, no shell) and stream its output by line.
 *
 * The child is made with posix_spawnp in its own process group, with
 * default dispositions for the signals the UI may block or ignore, an
 * empty signal mask, /dev/null as stdin and one close-on-exec pipe for
 * stdout and stderr.  The parent polls the pipe in short slices, so the
 * timeout and the cancel flag are noticed within PROC_POLL_MS.  Ending a
 * run means SIGTERM to the group, a grace, then SIGKILL to the group, which
 * also reaches grandchildren that outlived the leader or ignore SIGTERM.
 *
 * The leader's exit is detected with waitid(WNOWAIT), which leaves it a
 * zombie until the final waitpid: while it is one its pid, and so its
 * process group id, cannot be reused, so signalling the group never hits a
 * stranger.  After the leader exits, output is read for PROC_DRAIN_MS more
 * (a background child may hold the pipe open), then the run is over.
 *
 * Output is cut into lines in a fixed buffer: a longer line is handed over
 * cut (ending in "..."), and the rest of it up to the newline is dropped.
 * Each line is redacted on its own; a PEM private key spread over several
 * lines is masked from its BEGIN line to its END line.
 */
#include "src/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/http.h"
#include "src/log.h"
#include "src/util.h"

#define PROC_TERM_GRACE_MS	500	/* SIGTERM to SIGKILL */
#define PROC_DRAIN_MS		200	/* output still read after the leader exits */
#define PROC_POLL_MS		20	/* exit, timeout and cancel are noticed within this */

/* The line being assembled and what was seen so far. */
struct lines {
	char buf[PROC_LINE_MAX];
	size_t len;
	bool skipping;			/* dropping the rest of a cut line */
	bool in_pem;			/* inside a private key block */
	const struct proc_opts *o;
	char *last;			/* the result's last_line */
	size_t lastlen;
};

static bool
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

/* Hands the assembled line over: cleaned, redacted, remembered if not
 * blank. */
static void
emit(struct lines *l, bool cut)
{
	char line[PROC_LINE_MAX];
	size_t n = l->len;

	while (n > 0 && l->buf[n - 1] == '\r')
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)l->buf[i];

		line[i] = c == '\t' ? ' ' : c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	line[n] = '\0';
	if (cut && n >= 3)
		memcpy(line + n - 3, "...", 3);
	l->len = 0;
	if (l->in_pem) {
		if (strstr(line, "-----END") != NULL)
			l->in_pem = false;
		else
			snprintf(line, sizeof line, "***");
	} else if (strstr(line, "PRIVATE KEY-----") != NULL && strstr(line, "-----BEGIN") != NULL
	    && strstr(line, "-----END") == NULL) {
		l->in_pem = true;
	}
	log_redact(line);
	if (!blank(line)) {
		size_t e;

		snprintf(l->last, l->lastlen, "%s", line);
		for (e = strlen(l->last); e > 0 && l->last[e - 1] == ' '; e--)
			l->last[e - 1] = '\0';
	}
	if (l->o->line != NULL)
		l->o->line(l->o->ctx, line);
}

static void
feed(struct lines *l, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (!l->skipping)
				emit(l, false);
			l->skipping = false;
			l->len = 0;
		} else if (l->skipping) {
			continue;
		} else if (l->len + 1 < sizeof l->buf) {
			l->buf[l->len++] = p[i];
		} else {
			emit(l, true);
			l->skipping = true;
		}
	}
}

/* Reads what is there; returns false at end of file or on a hard error. */
static bool
drain(int fd, struct lines *l)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n > 0) {
			feed(l, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
}

/* Whether PID has exited, without reaping it. */
static bool
exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
		return errno == ECHILD;
	return si.si_pid == pid;
}

/* Ends PID's process group: SIGTERM, up to the grace, then SIGKILL.  The
 * leader stays unreaped until the caller's waitpid. */
static void
kill_group(pid_t pid)
{
	long long until = http_now_ms() + PROC_TERM_GRACE_MS;

	kill(-pid, SIGTERM);
	while (!exited(pid) && http_now_ms() < until)
		poll(NULL, 0, PROC_POLL_MS / 2);
	/* Also the leader's children that outlived it or ignored SIGTERM. */
	kill(-pid, SIGKILL);
}

static int
spawn(char *const argv[], int out_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	int rc;

	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGHUP);
	sigaddset(&dflt, SIGQUIT);
	sigaddset(&dflt, SIGCHLD);
	sigaddset(&dflt, SIGTSTP);
	sigaddset(&dflt, SIGTTIN);
	sigaddset(&dflt, SIGTTOU);
	sigaddset(&dflt, SIGWINCH);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDERR_FILENO);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
	    | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dflt);
	rc = posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* ": LAST" when there is a last line, else "". */
static void
with_last(const char *last, char *out, size_t n)
{
	if (last[0] != '\0')
		snprintf(out, n, ": %s", last);
	else if (n > 0)
		out[0] = '\0';
}

int
proc_run(const struct proc_opts *o, struct proc_result *r, char *err, size_t errlen)
{
	struct proc_result dummy;
	struct lines *l, lbuf;
	int fds[2], rc, status = 0;
	pid_t pid;
	long long t0 = http_now_ms(), deadline, drain_until = 0;
	bool open = true;
	const char *prog;
	char tail[600];

	if (r == NULL)
		r = &dummy;
	memset(r, 0, sizeof *r);
	if (o == NULL || o->argv == NULL || o->argv[0] == NULL || o->argv[0][0] == '\0') {
		r->start_failed = 1;
		util_errf(err, errlen, "no program to run");
		return -1;
	}
	prog = o->argv[0];
	/* The pipe is close-on-exec, so that programs started by other threads
	 * at the same time do not inherit it and hold it open. */
	if (pipe2(fds, O_CLOEXEC) != 0) {
		r->start_failed = 1;
		util_errf(err, errlen, "cannot run %s: pipe: %s", prog, strerror(errno));
		return -1;
	}
	rc = spawn(o->argv, fds[1], &pid);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		r->start_failed = 1;
		util_errf(err, errlen, "cannot run %s: %s", prog, strerror(rc));
		return -1;
	}
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	l = &lbuf;
	memset(l, 0, sizeof *l);
	l->o = o;
	l->last = r->last_line;
	l->lastlen = sizeof r->last_line;
	deadline = o->timeout_ms > 0 ? t0 + o->timeout_ms : 0;
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		long long now = http_now_ms();
		bool gone = exited(pid);

		if (gone && drain_until == 0)
			drain_until = now + PROC_DRAIN_MS;
		/* A background child may keep the pipe open after the leader
		 * exited: read a little longer, not forever. */
		if (gone && (!open || now >= drain_until))
			break;
		if (!gone && ((deadline > 0 && now >= deadline)
		    || (o->cancel != NULL && *o->cancel != 0))) {
			if (deadline > 0 && now >= deadline)
				r->timed_out = 1;
			else
				r->cancelled = 1;
			kill_group(pid);
			if (open)
				drain(fds[0], l);
			break;
		}
		if (!open) {
			poll(NULL, 0, PROC_POLL_MS);
			continue;
		}
		if (poll(&p, 1, PROC_POLL_MS) > 0)
			open = drain(fds[0], l);
	}
	close(fds[0]);
	if (l->len > 0 && !l->skipping)
		emit(l, false);		/* a last line without its newline */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r->elapsed_ms = (long)(http_now_ms() - t0);
	if (WIFEXITED(status)) {
		r->exited = 1;
		r->status = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		r->signaled = 1;
		r->sig = WTERMSIG(status);
	}
	with_last(r->last_line, tail, sizeof tail);
	if (r->timed_out) {
		util_errf(err, errlen, "%s timed out after %ld ms (process group killed)%s", prog,
		    o->timeout_ms, tail);
		return -1;
	}
	if (r->cancelled) {
		util_errf(err, errlen, "%s cancelled (process group killed)%s", prog, tail);
		return -1;
	}
	if (r->exited && r->status == 0)
		return 0;
	if (r->exited)
		util_errf(err, errlen, "%s exited with status %d%s", prog, r->status, tail);
	else
		util_errf(err, errlen, "%s was killed by signal %d (%s)%s", prog, r->sig,
		    strsignal(r->sig), tail);
	return -1;
}
