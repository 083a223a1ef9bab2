/*
 * check_command.c — the `command` check: run the team's own probe (argv,
 * never a shell) and pass on exit status 0.
 *
 * The child gets /dev/null as stdin and one pipe for stdout and stderr
 * together, of which only the last CMD_TAIL bytes are kept: the detail
 * shows the last line, which is where probes put their verdict, and a
 * chatty or hostile command cannot make bgswitch grow.  It runs in its own
 * process group with default signal handling (the UI may block or ignore
 * signals, and a child must not inherit that), so that a timeout can kill
 * everything it started: SIGTERM to the group, a short grace, then
 * SIGKILL.  The leader is always reaped, so no zombie is left behind.
 *
 * The leader's exit is detected with waitid(WNOWAIT), which leaves it a
 * zombie until the end: while it is one its pid, and so its process group
 * id, cannot be reused, so signalling the group never hits a stranger.
 */
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

#include "src/check_internal.h"
#include "src/http.h"
#include "src/log.h"

#define CMD_TAIL		4096	/* bytes of output kept */
#define CMD_DEFAULT_TIMEOUT_MS	10000
#define CMD_TERM_GRACE_MS	500	/* SIGTERM to SIGKILL */
#define CMD_DRAIN_MS		200	/* output still read after the leader exits */
#define CMD_POLL_MS		20	/* exit is noticed within this */

struct tail {
	char buf[CMD_TAIL];
	size_t len;
};

static void
tail_add(struct tail *t, const char *p, size_t n)
{
	if (n >= sizeof t->buf) {
		memcpy(t->buf, p + n - sizeof t->buf, sizeof t->buf);
		t->len = sizeof t->buf;
		return;
	}
	if (t->len + n > sizeof t->buf) {
		size_t drop = t->len + n - sizeof t->buf;

		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

/* The last non-empty line of T into OUT, control characters replaced, so
 * that it can go on the screen and into the log as one line. */
static void
tail_last_line(const struct tail *t, char *out, size_t n)
{
	size_t end = t->len, start;
	size_t o = 0;

	while (end > 0 && (t->buf[end - 1] == '\n' || t->buf[end - 1] == '\r'
	    || t->buf[end - 1] == ' ' || t->buf[end - 1] == '\t'))
		end--;
	start = end;
	while (start > 0 && t->buf[start - 1] != '\n')
		start--;
	for (size_t i = start; i < end && o + 1 < n; i++) {
		unsigned char c = (unsigned char)t->buf[i];

		out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[o] = '\0';
}

/* Reads what is there; returns false at end of file or on a hard error. */
static bool
drain(int fd, struct tail *t)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n > 0) {
			tail_add(t, buf, (size_t)n);
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
	long long until = http_now_ms() + CMD_TERM_GRACE_MS;

	kill(-pid, SIGTERM);
	while (!exited(pid) && http_now_ms() < until)
		poll(NULL, 0, CMD_POLL_MS / 2);
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

enum check_status
check_run_command(const struct cfg_check *k, struct check_result *r)
{
	struct tail tl, *t = &tl;
	int fds[2], rc, status = 0;
	pid_t pid;
	long timeout = k->timeout_ms > 0 ? k->timeout_ms : CMD_DEFAULT_TIMEOUT_MS;
	long long deadline, drain_until = 0;
	bool open = true, timed_out = false;
	char line[sizeof r->detail];

	check_setf(r->threshold, sizeof r->threshold, "exit 0");
	if (k->command == NULL || k->command[0] == NULL)
		return check_error(r, "no command to run");
	/* The pipe is close-on-exec, so that commands started by other threads
	 * at the same time do not inherit it and hold it open. */
	if (pipe2(fds, O_CLOEXEC) != 0)
		return check_error(r, "pipe: %s", strerror(errno));
	rc = spawn(k->command, fds[1], &pid);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return check_error(r, "cannot run %s: %s", k->command[0], strerror(rc));
	}
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	t->len = 0;
	deadline = http_now_ms() + timeout;
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		long long now = http_now_ms();
		bool gone = exited(pid);

		if (gone && drain_until == 0)
			drain_until = now + CMD_DRAIN_MS;
		/* A background child may keep the pipe open after the leader
		 * exited: read a little longer, not forever. */
		if (gone && (!open || now >= drain_until))
			break;
		if (!gone && now >= deadline) {
			timed_out = true;
			kill_group(pid);
			if (open)
				drain(fds[0], t);
			break;
		}
		if (!open) {
			poll(NULL, 0, CMD_POLL_MS);
			continue;
		}
		if (poll(&p, 1, CMD_POLL_MS) > 0)
			open = drain(fds[0], t);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	tail_last_line(t, line, sizeof line);
	log_redact(line);
	if (timed_out) {
		check_setf(r->value, sizeof r->value, "timeout");
		return check_error(r, "%s timed out after %ld ms (process group killed)%s%s",
		    k->command[0], timeout, line[0] ? ": " : "", line);
	}
	check_setf(r->detail, sizeof r->detail, "%s", line);
	if (WIFEXITED(status)) {
		check_setf(r->value, sizeof r->value, "exit %d", WEXITSTATUS(status));
		r->number = WEXITSTATUS(status);
		r->has_number = true;
		r->status = WEXITSTATUS(status) == 0 ? CHECK_PASS : CHECK_FAIL;
	} else {
		check_setf(r->value, sizeof r->value, "signal %d",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		r->status = CHECK_FAIL;
	}
	return r->status;
}
