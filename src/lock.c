/*
 * lock.c — the switchover lock (see lock.h): a file lock on this machine
 * and a Lease in the live cluster, taken in that order, renewed by one
 * background thread, and given up in the reverse order.
 *
 * The file lock is flock() on $XDG_STATE_HOME/bgswitch/NAME.lock.  flock
 * belongs to the open file description, so a second open in the same
 * process conflicts too, and the kernel drops it when the process dies:
 * the file is never removed (removing a lock file lets two processes lock
 * two different inodes under one name) and what it says about its holder
 * is only read when the lock is refused.
 *
 * The Lease follows kube_lease.h.  Its validity is tracked here on
 * CLOCK_BOOTTIME, which keeps counting while a laptop sleeps: a run that
 * wakes up after its Lease ran out must not go on acting before its
 * renewal thread has noticed, so lock_lost() compares the clock itself.
 */
#include "src/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kube/kube_client.h"
#include "kube/kube_lease.h"
#include "src/http.h"
#include "src/log.h"

#define MOD			"lock"
#define LABEL_MAX		63		/* DNS-1123 label */
#define LEASE_PREFIX		"bgswitch-"
#define RETRY_MIN_MS		250LL		/* a failed renewal is tried again ... */
#define RETRY_MAX_MS		5000LL		/* ... this often, until the Lease runs out */
#define RELEASE_TIMEOUT_MS	10000L		/* giving the Lease up at exit */
#define INFO_MAX		512		/* what the lock file says */

struct lock {
	char lease_name[LABEL_MAX + 1];		/* "" without a cluster */
	char holder[KUBE_HOLDER_MAX];
	char prev_holder[KUBE_HOLDER_MAX];	/* left in the lock file by a process that died */
	char path[PATH_MAX];
	int fd;
	struct kube_client *kube;
	int duration_s;
	void (*on_lost)(void *ctx, const char *why);
	void *ctx;

	pthread_t thread;
	int have_thread;
	struct http_cancel *cancel;	/* stops an in-flight renewal at release */
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* CLOCK_MONOTONIC */
	/* under mu */
	int stopping, paused;
	long long next_ms;		/* monotonic: the next renewal */
	struct kube_lease lease;	/* as last written */

	/* Boot-clock ms until which the Lease is surely ours: when the last
	 * successful renewal was sent, plus its duration. */
	_Atomic long long valid_until_ms;
	atomic_int lost;
	char why[LOCK_ERR_MAX];		/* written once, before lost is set */
};

/* ---- clocks and text ------------------------------------------------------ */

static long long
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
boot_ms(void)
{
#ifdef CLOCK_BOOTTIME
	return clock_ms(CLOCK_BOOTTIME);
#else
	return clock_ms(CLOCK_MONOTONIC);
#endif
}

static long long
mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

static long long
wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

/* Local time of UNIX_MS for a message: "17:40:02" today, else with the
 * date. */
static void
fmt_clock(long long unix_ms, char *buf, size_t len)
{
	time_t t = (time_t)(unix_ms / 1000), now = time(NULL);
	struct tm tm, today;

	if (localtime_r(&t, &tm) == NULL || localtime_r(&now, &today) == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	strftime(buf, len, tm.tm_yday == today.tm_yday && tm.tm_year == today.tm_year
	    ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
}

static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int
lock_lease_name_for(const char *name, char *buf, size_t len)
{
	char body[LABEL_MAX * 4];
	size_t n = 0, room = LABEL_MAX - strlen(LEASE_PREFIX);
	uint32_t h;
	int cut = 0;

	if (name == NULL || len < LABEL_MAX + 1)
		return -1;
	h = fnv1a(name);
	/* Lowercase alphanumerics; any run of anything else becomes one '-'. */
	for (const char *p = name; *p != '\0' && n < sizeof body - 1; p++) {
		char ch = *p;

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			body[n++] = ch;
		else if (n > 0 && body[n - 1] != '-')
			body[n++] = '-';
	}
	if (n == sizeof body - 1)
		cut = 1;
	while (n > 0 && body[n - 1] == '-')
		n--;
	body[n] = '\0';
	if (n > room || cut) {
		/* Keep it unique: cut, then a hash of the whole name. */
		n = room - 9;
		while (n > 0 && body[n - 1] == '-')
			n--;
		snprintf(buf, len, LEASE_PREFIX "%.*s-%08" PRIx32, (int)n, body, h);
	} else if (n == 0) {
		snprintf(buf, len, LEASE_PREFIX "%08" PRIx32, h);	/* "___", "é" */
	} else {
		snprintf(buf, len, LEASE_PREFIX "%s", body);
	}
	return 0;
}

/* "user@host/pid" of this process. */
static void
default_holder(char *buf, size_t len)
{
	char user[128] = "", host[256] = "", pwbuf[4096];
	struct passwd pw, *res = NULL;
	const char *env;

	if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &res) == 0 && res != NULL)
		snprintf(user, sizeof user, "%s", pw.pw_name);
	else if ((env = getenv("USER")) != NULL && env[0] != '\0')
		snprintf(user, sizeof user, "%s", env);
	else
		snprintf(user, sizeof user, "uid%lu", (unsigned long)geteuid());
	if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof host, "localhost");
	snprintf(buf, len, "%.64s@%.160s/%ld", user, host, (long)getpid());
}

/* Whether the Lease's HOLDER is provably not running: it is the process
 * this machine's lock file still names although we now hold that file's
 * flock.  The kernel drops a flock only when its holder is gone, and a
 * clean release empties the file, so such a holder died holding the
 * switchover.  Its Lease is then taken at once instead of after expiry.
 * (A pid check would not do: another container may show the same
 * user@host with pids this one cannot see.) */
static int
holder_gone(const struct lock *l, const char *holder)
{
	const char *slash = strrchr(holder, '/'), *mine = strrchr(l->holder, '/');
	char *end;
	long pid;

	if (l->prev_holder[0] == '\0' || holder[0] == '\0' || strcmp(l->prev_holder, holder) != 0)
		return 0;
	/* Belt and braces where flock may lie (a home directory on NFS
	 * without locking): the holder must also be of this user@host, and
	 * its pid must not exist here. */
	if (slash == NULL || mine == NULL || slash - holder != mine - l->holder
	    || strncmp(holder, l->holder, (size_t)(slash - holder)) != 0)
		return 0;
	pid = strtol(slash + 1, &end, 10);
	if (*end != '\0' || pid <= 1 || pid == (long)getpid())
		return 0;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* ---- the local lock --------------------------------------------------------- */

/* mkdir -p PATH, each new directory 0700 (the XDG base directory spec's
 * mode: the lock files say who is working on what). */
static int
mkdirs(const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof tmp) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
				snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
				return -1;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

/* $XDG_STATE_HOME/bgswitch, or ~/.local/state/bgswitch. */
static int
state_dir(char *buf, size_t len, char *err, size_t errlen)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char pwbuf[4096];
	struct passwd pw, *res = NULL;
	int n;

	/* The spec ignores a relative XDG_STATE_HOME. */
	if (x != NULL && x[0] == '/')
		n = snprintf(buf, len, "%s/bgswitch", x);
	else {
		if ((home == NULL || home[0] != '/')
		    && getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &res) == 0 && res != NULL)
			home = pw.pw_dir;
		if (home == NULL || home[0] != '/') {
			snprintf(err, errlen, "no home directory for the lock file: "
			    "set HOME or XDG_STATE_HOME");
			return -1;
		}
		n = snprintf(buf, len, "%s/.local/state/bgswitch", home);
	}
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "state directory path too long");
		return -1;
	}
	return 0;
}

/* Reads the holder's record from FD for the refusal message: "held by
 * alice@host1 pid 4242 since 17:40:02". */
static void
describe_local_holder(int fd, char *buf, size_t len)
{
	char text[INFO_MAX + 1], holder[KUBE_HOLDER_MAX] = "", since[64] = "";
	long pid = 0;
	long long t = 0;
	ssize_t n = pread(fd, text, INFO_MAX, 0);

	text[n > 0 ? n : 0] = '\0';
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (strncmp(line, "holder=", 7) == 0)
			snprintf(holder, sizeof holder, "%s", line + 7);
		else if (strncmp(line, "pid=", 4) == 0)
			pid = strtol(line + 4, NULL, 10);
		else if (strncmp(line, "since=", 6) == 0)
			t = strtoll(line + 6, NULL, 10);
	}
	if (holder[0] == '\0') {
		/* Locked a moment ago and not written yet, or by something else. */
		snprintf(buf, len, "held by another process");
		return;
	}
	/* "alice@host1/4242" reads better as "alice@host1 pid 4242". */
	if (pid > 0) {
		char *slash = strrchr(holder, '/');

		if (slash != NULL && strtol(slash + 1, NULL, 10) == pid)
			*slash = '\0';
	}
	if (t > 0) {
		char when[48];

		fmt_clock(t * 1000, when, sizeof when);
		snprintf(since, sizeof since, " since %s", when);
	}
	if (pid > 0)
		snprintf(buf, len, "held by %s pid %ld%s", holder, pid, since);
	else
		snprintf(buf, len, "held by %s%s", holder, since);
}

/* Takes the file lock for L (path set).  0, or -1 with ERR and *CODE. */
static int
local_acquire(struct lock *l, const char *name, char *err, size_t errlen, int *code)
{
	char dir[PATH_MAX], text[INFO_MAX];
	struct stat st;
	int n;

	*code = LOCK_E_LOCAL;
	if (state_dir(dir, sizeof dir, err, errlen) != 0 || mkdirs(dir, err, errlen) != 0)
		return -1;
	/* The file is named like the Lease, without the prefix: a config name
	 * may hold '/' or be "..". */
	n = snprintf(l->path, sizeof l->path, "%s/%s.lock", dir,
	    l->lease_name + strlen(LEASE_PREFIX));
	if (n < 0 || (size_t)n >= sizeof l->path) {
		snprintf(err, errlen, "lock file path too long");
		return -1;
	}
	/* O_CLOEXEC: hooks and `az login` run as children must not inherit
	 * (and so outlive us holding) the lock.  O_NOFOLLOW: never lock, or
	 * truncate, whatever a symlink points at. */
	l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->fd < 0) {
		snprintf(err, errlen, "cannot open the lock file %s: %s", l->path, strerror(errno));
		return -1;
	}
	if (fstat(l->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		snprintf(err, errlen, "the lock file %s is not a regular file of yours", l->path);
		goto fail;
	}
	if (flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
		char who[INFO_MAX];

		if (errno != EWOULDBLOCK) {
			snprintf(err, errlen, "cannot lock %s: %s", l->path, strerror(errno));
			goto fail;
		}
		describe_local_holder(l->fd, who, sizeof who);
		snprintf(err, errlen, "switchover \"%s\" is already being driven on this machine: "
		    "%s (lock file %s)", name, who, l->path);
		*code = LOCK_E_HELD;
		goto fail;
	}
	/* A holder still named in the file we now have locked did not
	 * release it (a clean release empties the file): it died holding it,
	 * and the kernel dropped its flock. */
	{
		char prev[INFO_MAX];
		ssize_t got = pread(l->fd, prev, sizeof prev - 1, 0);
		const char *h;

		if (got > 0) {
			prev[got] = '\0';
			if ((h = strstr(prev, "holder=")) != NULL && (h == prev || h[-1] == '\n'))
				snprintf(l->prev_holder, sizeof l->prev_holder, "%.*s", (int)strcspn(h + 7, "\n"),
				    h + 7);
		}
	}
	/* Created under another umask or by hand: the record is ours to keep
	 * private. */
	if ((st.st_mode & 07777) != 0600)
		(void)fchmod(l->fd, 0600);
	n = snprintf(text, sizeof text, "holder=%s\npid=%ld\nsince=%lld\nlease=%s\n",
	    l->holder, (long)getpid(), (long long)time(NULL), l->lease_name);
	if (ftruncate(l->fd, 0) != 0 || n < 0 || (size_t)n >= sizeof text
	    || pwrite(l->fd, text, (size_t)n, 0) != n) {
		/* The lock is held all the same; only the record is missing. */
		log_warn(MOD, "cannot write %s: %s", l->path, strerror(errno));
	}
	*code = LOCK_OK;
	return 0;
fail:
	close(l->fd);
	l->fd = -1;
	return -1;
}

static void
local_release(struct lock *l)
{
	if (l->fd < 0)
		return;
	/* Empty before unlocking, so a refused process never names us after
	 * we are gone. */
	(void)ftruncate(l->fd, 0);
	close(l->fd);		/* drops the flock */
	l->fd = -1;
}

/* ---- the Lease ---------------------------------------------------------------- */

static long long
interval_ms(const struct lock *l)
{
	return (long long)l->duration_s * 1000 / 3;
}

static void
lease_describe(const struct kube_lease *k, char *buf, size_t len)
{
	long long now = wall_ms();
	char when[48], until[48];

	if (k->renew_ms == 0) {
		snprintf(buf, len, "never renewed");
		return;
	}
	fmt_clock(k->renew_ms, when, sizeof when);
	fmt_clock(k->renew_ms + (long long)k->duration_s * 1000, until, sizeof until);
	if (k->expired)
		snprintf(buf, len, "expired at %s; last renewed %s, %lld s ago", until, when,
		    (now - k->renew_ms) / 1000);
	else
		snprintf(buf, len, "last renewed %s, %lld s ago; expires at %s unless renewed",
		    when, (now - k->renew_ms) / 1000, until);
}

/* The Lease as the server has it now, when its holder is still us (a
 * write of ours that succeeded but whose answer was lost leaves us with
 * a stale resourceVersion).  Returns 0 and updates *K, 1 when it is not
 * ours (WHO says whose, or that it is gone), -1 when it cannot be read. */
static int
lease_reread(struct lock *l, struct kube_lease *k, const struct kube_call *like, char *who,
    size_t wholen)
{
	struct kube_call call = { .timeout_ms = like->timeout_ms, .deadline_ms = like->deadline_ms,
	    .cancel = like->cancel };
	struct kube_lease cur;

	if (kube_lease_get(l->kube, LOCK_NAMESPACE, l->lease_name, &cur, &call) != 0) {
		if (call.err == KUBE_E_NOT_FOUND) {
			snprintf(who, wholen, "it was deleted");
			return 1;
		}
		snprintf(who, wholen, "%.200s", call.error);
		return -1;
	}
	if (strcmp(cur.holder, l->holder) == 0) {
		*k = cur;
		return 0;
	}
	if (cur.holder[0] == '\0') {
		snprintf(who, wholen, "it was released by someone else");
	} else {
		char when[48] = "?";

		if (cur.acquire_ms != 0)
			fmt_clock(cur.acquire_ms, when, sizeof when);
		snprintf(who, wholen, "it is now held by %.160s (taken at %s)", cur.holder, when);
	}
	return 1;
}

/* One renewal of the Lease copy K.  Returns 0 renewed, 1 lost (WHY set),
 * 2 K was stale and is read again: renew at once, -1 not this time (WHY
 * set). */
/* How long a renewal keeps the lock ours, on our clock: a quarter short of
 * the Lease's duration.  Another machine judges expiry on its own wall
 * clock with a quarter to spare (kube_lease.c), so the two can disagree
 * by up to half a duration of clock skew before both could think they
 * hold it. */
static long long
valid_ms(const struct lock *l)
{
	long long d = (long long)l->duration_s * 1000;

	return d - d / 4;
}

static int
renew_once(struct lock *l, struct kube_lease *k, char *why, size_t whylen)
{
	long long t0 = boot_ms(), valid = atomic_load(&l->valid_until_ms);
	struct kube_call call = { 0 };
	char who[256];
	int rc;

	call.cancel = l->cancel;
	if (t0 >= valid) {
		/* Too late to renew: whoever looked at it since may have taken
		 * it, and acting on would make two drivers.  One read, only to
		 * say who has it now. */
		call.timeout_ms = RELEASE_TIMEOUT_MS;
		rc = lease_reread(l, k, &call, who, sizeof who);
		snprintf(why, whylen, "the Lease %s/%s ran out before it could be renewed "
		    "(not renewed for %d s: hung, suspended or unreachable); %s", LOCK_NAMESPACE,
		    l->lease_name, l->duration_s, rc == 0 ? "nobody has taken it yet"
		    : rc == 1 ? who : "another operator may have taken it over");
		return 1;
	}
	/* Never wait on the server past the Lease's end: by then the answer
	 * no longer matters. */
	call.deadline_ms = http_now_ms() + (valid - t0);
	call.timeout_ms = (long)(interval_ms(l) > 1000 ? interval_ms(l) : 1000);
	rc = kube_lease_renew(l->kube, k, &call);
	if (rc == 0) {
		atomic_store(&l->valid_until_ms, t0 + valid_ms(l));
		return 0;
	}
	if (rc < 0) {
		snprintf(why, whylen, "%s", call.error);
		return -1;
	}
	/* 409 or 404: taken over, deleted, or our own earlier write. */
	rc = lease_reread(l, k, &call, who, sizeof who);
	if (rc == 0)
		return 2;
	if (rc < 0) {
		snprintf(why, whylen, "%.240s; then %.240s", call.error, who);
		return -1;
	}
	snprintf(why, whylen, "lost the Lease %s/%s: %s", LOCK_NAMESPACE, l->lease_name, who);
	return 1;
}

static void
timespec_at(long long ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000;
}

static void *
renew_main(void *arg)
{
	struct lock *l = arg;
	char why[LOCK_ERR_MAX] = "";
	int lost = 0;

	pthread_mutex_lock(&l->mu);
	while (!l->stopping) {
		struct kube_lease k;
		struct timespec ts;
		long long retry, left;
		int rc;

		if (l->paused) {
			pthread_cond_wait(&l->cv, &l->mu);
			continue;
		}
		if (mono_ms() < l->next_ms) {
			timespec_at(l->next_ms, &ts);
			pthread_cond_timedwait(&l->cv, &l->mu, &ts);
			continue;
		}
		k = l->lease;
		pthread_mutex_unlock(&l->mu);
		rc = renew_once(l, &k, why, sizeof why);
		pthread_mutex_lock(&l->mu);
		if (rc == 1) {
			lost = 1;
			break;
		}
		if (rc == 0) {
			l->lease = k;
			l->next_ms = mono_ms() + interval_ms(l);
			continue;
		}
		if (l->stopping)
			break;		/* the release cancelled it */
		if (rc == 2) {
			l->lease = k;
			l->next_ms = mono_ms();
			continue;
		}
		retry = interval_ms(l) / 3;
		retry = retry < RETRY_MIN_MS ? RETRY_MIN_MS : retry > RETRY_MAX_MS ? RETRY_MAX_MS : retry;
		/* No later than the end of the Lease, to report it lost then. */
		left = atomic_load(&l->valid_until_ms) - boot_ms();
		if (left < retry)
			retry = left > 0 ? left : 0;
		log_warn(MOD, "renewing Lease %s/%s failed, again in %lld ms: %s", LOCK_NAMESPACE,
		    l->lease_name, retry, why);
		l->next_ms = mono_ms() + retry;
	}
	pthread_mutex_unlock(&l->mu);
	if (lost) {
		snprintf(l->why, sizeof l->why, "%s", why);
		atomic_store(&l->lost, 1);
		log_error(MOD, "%s", why);
		if (l->on_lost != NULL)
			l->on_lost(l->ctx, why);
	}
	return NULL;
}

/* Refusal or failure of kube_lease_acquire() (RC 1 or -1) as a message. */
static int
lease_refused(const struct lock *l, const char *name, int rc, const struct kube_lease *cur,
    const struct kube_call *call, char *err, size_t errlen)
{
	char desc[256];

	if (rc < 0) {
		snprintf(err, errlen, "cannot take the lock Lease %s/%s in the live cluster: %s",
		    LOCK_NAMESPACE, l->lease_name, call->error);
		return LOCK_E_KUBE;
	}
	lease_describe(cur, desc, sizeof desc);
	if (cur->expired) {
		snprintf(err, errlen, "switchover \"%s\" is locked by %s, whose Lease %s/%s in the "
		    "live cluster has expired (%s): that run stopped renewing it. If you are sure "
		    "it is no longer running, take the lock over with --take-over",
		    name, cur->holder, LOCK_NAMESPACE, l->lease_name, desc);
		return LOCK_E_EXPIRED;
	}
	snprintf(err, errlen, "switchover \"%s\" is being driven by %s: Lease %s/%s in the live "
	    "cluster is held (%s)", name, cur->holder, LOCK_NAMESPACE, l->lease_name, desc);
	return LOCK_E_HELD;
}

static void
lease_release(struct lock *l)
{
	struct kube_call call = { .timeout_ms = RELEASE_TIMEOUT_MS };
	char who[256];
	int rc;

	rc = kube_lease_release(l->kube, &l->lease, &call);
	if (rc == 1 && lease_reread(l, &l->lease, &call, who, sizeof who) == 0)
		rc = kube_lease_release(l->kube, &l->lease, &call);
	if (rc == 0)
		log_info(MOD, "released Lease %s/%s", LOCK_NAMESPACE, l->lease_name);
	else if (rc == 1)
		log_info(MOD, "Lease %s/%s was no longer ours to release", LOCK_NAMESPACE,
		    l->lease_name);
	else
		/* It runs out by itself after its duration. */
		log_warn(MOD, "cannot release Lease %s/%s: %s", LOCK_NAMESPACE, l->lease_name,
		    call.error);
}

/* ---- the lock ------------------------------------------------------------------ */

static void
lock_free(struct lock *l)
{
	http_cancel_free(l->cancel);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

static struct lock *
lock_new(const struct lock_opts *o, char *err, size_t errlen)
{
	struct lock *l = calloc(1, sizeof *l);
	pthread_condattr_t ca;

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->fd = -1;
	l->kube = o->kube;
	l->duration_s = o->duration_s != 0 ? o->duration_s : LOCK_DEFAULT_DURATION_S;
	l->on_lost = o->on_lost;
	l->ctx = o->ctx;
	atomic_init(&l->lost, 0);
	atomic_init(&l->valid_until_ms, 0);
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((l->cancel = http_cancel_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		lock_free(l);
		return NULL;
	}
	return l;
}

struct lock *
lock_acquire(const struct lock_opts *o, char *err, size_t errlen, int *code)
{
	struct kube_lease cur;
	struct kube_call call = { 0 };
	struct lock *l;
	int dummy, rc;
	long long t0;

	if (code == NULL)
		code = &dummy;
	*code = LOCK_E_ARG;
	if (o == NULL || o->name == NULL || o->name[0] == '\0' || o->duration_s < 0
	    || (o->holder != NULL && (o->holder[0] == '\0' || strlen(o->holder) >= KUBE_HOLDER_MAX))) {
		snprintf(err, errlen, "lock: needs a switchover name, a duration >= 0 and a "
		    "holder of 1 to %d bytes", KUBE_HOLDER_MAX - 1);
		return NULL;
	}
	if ((l = lock_new(o, err, errlen)) == NULL)
		return NULL;
	lock_lease_name_for(o->name, l->lease_name, sizeof l->lease_name);
	if (o->holder != NULL)
		snprintf(l->holder, sizeof l->holder, "%s", o->holder);
	else
		default_holder(l->holder, sizeof l->holder);

	/* The cheap one first: it catches a second terminal on this machine
	 * before anything goes over the network. */
	if (o->lease_only && l->kube == NULL) {
		snprintf(err, errlen, "lock: lease_only needs a cluster");
		goto fail;
	}
	if (!o->lease_only && local_acquire(l, o->name, err, errlen, code) != 0)
		goto fail;
	if (l->kube == NULL) {
		l->lease_name[0] = '\0';	/* local only: no Lease to speak of */
		log_info(MOD, "holding %s (local only) as %s", l->path, l->holder);
		return l;
	}

	t0 = boot_ms();
	rc = kube_lease_acquire(l->kube, LOCK_NAMESPACE, l->lease_name, l->holder, l->duration_s,
	    o->take_over != 0, &cur, &call);
	if (rc == 1 && (holder_gone(l, cur.holder)
	    || (o->take_from != NULL && o->take_from[0] != '\0' && strcmp(o->take_from, cur.holder) == 0))) {
		/* The holder died on this machine (killed, crashed): nobody
		 * can be renewing the Lease, so it is taken at once rather
		 * than after it expires. */
		char from[KUBE_HOLDER_MAX];

		snprintf(from, sizeof from, "%s", cur.holder);
		rc = kube_lease_take_from(l->kube, LOCK_NAMESPACE, l->lease_name, l->holder, l->duration_s,
		    from, &cur, &call);
		if (rc == 1 || (rc < 0 && call.err == KUBE_E_NOT_FOUND))	/* changed or gone meanwhile: look again */
			rc = kube_lease_acquire(l->kube, LOCK_NAMESPACE, l->lease_name, l->holder,
			    l->duration_s, o->take_over != 0, &cur, &call);
		else if (rc == 0)
			log_warn(MOD, "Lease %s/%s was held by %s, which died holding this machine's lock; taken over",
			    LOCK_NAMESPACE, l->lease_name, from);
	}
	if (rc != 0) {
		*code = lease_refused(l, o->name, rc, &cur, &call, err, errlen);
		goto fail_local;
	}
	l->lease = cur;
	atomic_store(&l->valid_until_ms, t0 + valid_ms(l));
	l->next_ms = mono_ms() + interval_ms(l);
	if (pthread_create(&l->thread, NULL, renew_main, l) != 0) {
		snprintf(err, errlen, "lock: cannot start the renewal thread");
		*code = LOCK_E_ARG;
		lease_release(l);
		goto fail_local;
	}
	l->have_thread = 1;
	log_info(MOD, "holding %s and Lease %s/%s as %s (%d s, %d transitions)", l->path,
	    LOCK_NAMESPACE, l->lease_name, l->holder, l->duration_s, cur.transitions);
	*code = LOCK_OK;
	return l;

fail_local:
	local_release(l);
fail:
	lock_free(l);
	return NULL;
}

int
lock_lost(const struct lock *l)
{
	if (l == NULL || l->kube == NULL)
		return 0;
	return atomic_load(&l->lost) || boot_ms() >= atomic_load(&l->valid_until_ms);
}

const char *
lock_dead_holder(const struct lock *l)
{
	return l != NULL ? l->prev_holder : "";
}

const char *
lock_lost_reason(const struct lock *l)
{
	if (l == NULL || l->kube == NULL)
		return "";
	if (atomic_load(&l->lost))
		return l->why;
	if (boot_ms() >= atomic_load(&l->valid_until_ms))
		return "the Lease was not renewed before it ran out: another operator may "
		    "have taken it over";
	return "";
}

const char *
lock_holder(const struct lock *l)
{
	return l != NULL ? l->holder : "";
}

const char *
lock_lease_name(const struct lock *l)
{
	return l != NULL ? l->lease_name : "";
}

const char *
lock_file_path(const struct lock *l)
{
	return l != NULL ? l->path : "";
}

void
lock_test_pause_renewal(struct lock *l, int paused)
{
	if (l == NULL || !l->have_thread)
		return;
	pthread_mutex_lock(&l->mu);
	l->paused = paused;
	if (!paused)
		l->next_ms = mono_ms();		/* "at once" */
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

void
lock_release(struct lock *l)
{
	if (l == NULL)
		return;
	if (l->have_thread) {
		pthread_mutex_lock(&l->mu);
		l->stopping = 1;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		http_cancel_fire(l->cancel);
		pthread_join(l->thread, NULL);
	}
	/* The Lease before the file: never the one without the other.  The
	 * release is conditional on our resourceVersion, so a Lease someone
	 * else took is left alone. */
	if (l->kube != NULL && l->lease.holder[0] != '\0')
		lease_release(l);
	local_release(l);
	lock_free(l);
}
