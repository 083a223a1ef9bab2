/*
 * test_lock.c — the switchover lock (src/lock.c): the file lock on this
 * machine, then the Lease in the simulator's blue cluster.
 *
 * The local tests run first, before any thread exists, because they fork:
 * a second process trying the lock is the only honest way to see a flock
 * refused (and a killed holder's lock freed by the kernel).  The Lease
 * tests start the simulator in-process and play two operators, A and B,
 * each with its own state directory so that only the Lease stands between
 * them, with 2-3 s durations so that renewals and expiry happen within the
 * test's few seconds.  Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kube/kube_client.h"
#include "kube/kube_lease.h"
#include "kube/kubeconfig.h"
#include "sim/sim.h"
#include "src/lock.h"
#include "src/log.h"
#include "tests/lib/testenv.h"

static char tmp[64];			/* this run's directory */

#define assert_contains(hay, needle) do {					\
	if (strstr((hay), (needle)) == NULL)					\
		fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));	\
} while (0)

/* XDG_STATE_HOME = TMP/SUB: each operator gets its own. */
static void
use_state(const char *sub)
{
	char path[128];

	snprintf(path, sizeof path, "%s/%s", tmp, sub);
	assert_int_equal(setenv("XDG_STATE_HOME", path, 1), 0);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- names ---------------------------------------------------------------- */

static void
test_lease_names(void **state)
{
	char a[64], b[64], longer[200];

	(void)state;
	assert_int_equal(lock_lease_name_for("prod-weu", a, sizeof a), 0);
	assert_string_equal(a, "bgswitch-prod-weu");
	assert_int_equal(lock_lease_name_for("Prod_WEU  2/", a, sizeof a), 0);
	assert_string_equal(a, "bgswitch-prod-weu-2");
	assert_int_equal(lock_lease_name_for("../..", a, sizeof a), 0);
	assert_int_equal(strncmp(a, "bgswitch-", 9), 0);
	assert_int_equal(strlen(a), 9 + 8);	/* nothing usable: a hash */
	assert_null(strchr(a, '.'));

	memset(longer, 'x', sizeof longer - 2);
	longer[sizeof longer - 2] = 'a';
	longer[sizeof longer - 1] = '\0';
	assert_int_equal(lock_lease_name_for(longer, a, sizeof a), 0);
	longer[sizeof longer - 2] = 'b';
	assert_int_equal(lock_lease_name_for(longer, b, sizeof b), 0);
	assert_int_equal(strlen(a), 63);
	assert_int_equal(strlen(b), 63);
	assert_string_not_equal(a, b);		/* the hash keeps them apart */
	assert_int_equal(lock_lease_name_for("x", a, 20), -1);
}

/* ---- the local lock --------------------------------------------------------- */

/* Forks a child that tries NAME's lock (local only) and reports what it
 * got: the code, and the message in MSG.  The child holds a lock it got
 * for HOLD_MS, then exits without releasing it when CRASH. */
static int
child_try(const char *name, char *msg, size_t msglen, int crash)
{
	int fds[2], status, code = -1;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct lock_opts o = { .name = name };
		char err[LOCK_ERR_MAX] = "", out[LOCK_ERR_MAX + 16];
		struct lock *l;
		int c = -1;

		close(fds[0]);
		l = lock_acquire(&o, err, sizeof err, &c);
		snprintf(out, sizeof out, "%d %s", c, err);
		if (write(fds[1], out, strlen(out)) < 0)
			_exit(3);
		close(fds[1]);
		if (crash)
			_exit(0);	/* the kernel drops the flock, nobody unlinks */
		lock_release(l);
		_exit(l != NULL ? 0 : 1);
	}
	close(fds[1]);
	memset(msg, 0, msglen);
	n = read(fds[0], msg, msglen - 1);
	close(fds[0]);
	assert_true(n > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	sscanf(msg, "%d", &code);
	memmove(msg, strchr(msg, ' ') + 1, strlen(strchr(msg, ' ')));
	return code;
}

static void
test_local_lock(void **state)
{
	struct lock_opts o = { .name = "Local Test" };
	char err[LOCK_ERR_MAX] = "", msg[LOCK_ERR_MAX + 16], want[300], user_host[256], path[160];
	struct lock *l;
	struct stat st;
	int code = -1;

	(void)state;
	use_state("local");
	l = lock_acquire(&o, err, sizeof err, &code);
	if (l == NULL)
		fail_msg("lock_acquire: %s", err);
	assert_int_equal(code, LOCK_OK);
	assert_false(lock_lost(l));
	assert_string_equal(lock_lease_name(l), "");	/* local only */

	/* The file and its directory are private; the holder is us. */
	snprintf(path, sizeof path, "%s/local/bgswitch/local-test.lock", tmp);
	assert_string_equal(lock_file_path(l), path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(path, sizeof path, "%s/local/bgswitch", tmp);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(want, sizeof want, "/%ld", (long)getpid());
	assert_non_null(strstr(lock_holder(l), want));
	assert_string_equal(strstr(lock_holder(l), want), want);
	assert_non_null(strchr(lock_holder(l), '@'));

	/* Another process is refused, and told who holds it and since when. */
	assert_int_equal(child_try("Local Test", msg, sizeof msg, 0), LOCK_E_HELD);
	snprintf(user_host, sizeof user_host, "%.*s", (int)(strrchr(lock_holder(l), '/')
	    - lock_holder(l)), lock_holder(l));
	snprintf(want, sizeof want, "held by %s pid %ld since ", user_host, (long)getpid());
	assert_contains(msg, want);
	assert_contains(msg, "already being driven on this machine");
	assert_contains(msg, "local-test.lock");

	/* Another switchover's lock is another file. */
	assert_int_equal(child_try("other", msg, sizeof msg, 0), LOCK_OK);

	lock_release(l);
	assert_int_equal(child_try("Local Test", msg, sizeof msg, 0), LOCK_OK);

	/* A holder that dies without releasing leaves a file, not a lock. */
	assert_int_equal(child_try("Local Test", msg, sizeof msg, 1), LOCK_OK);
	l = lock_acquire(&o, err, sizeof err, &code);
	if (l == NULL)
		fail_msg("after a crashed holder: %s", err);
	lock_release(l);
}

static void
test_local_home_and_args(void **state)
{
	struct lock_opts o = { .name = "home" };
	char err[LOCK_ERR_MAX] = "", path[160], home[128];
	struct lock *l;
	struct stat st;
	int code = -1;

	(void)state;
	/* No XDG_STATE_HOME (or a relative one, which the spec ignores):
	 * ~/.local/state, made as needed. */
	snprintf(home, sizeof home, "%s/home", tmp);
	assert_int_equal(mkdir(home, 0700), 0);
	assert_int_equal(setenv("HOME", home, 1), 0);
	assert_int_equal(setenv("XDG_STATE_HOME", "relative/state", 1), 0);
	l = lock_acquire(&o, err, sizeof err, &code);
	if (l == NULL)
		fail_msg("lock_acquire: %s", err);
	snprintf(path, sizeof path, "%s/.local/state/bgswitch/home.lock", home);
	assert_int_equal(stat(path, &st), 0);
	lock_release(l);
	/* The file stays (removing it would race), emptied. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);

	o.name = "";
	assert_null(lock_acquire(&o, err, sizeof err, &code));
	assert_int_equal(code, LOCK_E_ARG);
	o.name = "x";
	o.duration_s = -1;
	assert_null(lock_acquire(&o, err, sizeof err, &code));
	assert_int_equal(code, LOCK_E_ARG);

	/* A state directory that cannot be made. */
	snprintf(path, sizeof path, "%s/afile", tmp);
	fclose(fopen(path, "w"));
	assert_int_equal(setenv("XDG_STATE_HOME", path, 1), 0);
	o.duration_s = 0;
	assert_null(lock_acquire(&o, err, sizeof err, &code));
	assert_int_equal(code, LOCK_E_LOCAL);
	assert_contains(err, "afile");
	lock_release(NULL);
}

/* ---- the Lease, against the simulator ------------------------------------------ */

static struct kube_client *kc;
static char sim_dir[96];

static struct kube_client *
sim_client_for(const char *server)
{
	char err[KUBECONFIG_ERR_SIZE] = "", path[128];
	struct kubeconfig *cfg;
	struct kubeconfig_target t;
	struct kube_client *c;

	snprintf(path, sizeof path, "%s/kubeconfig", sim_dir);
	cfg = kubeconfig_load(path, err, sizeof err);
	if (cfg == NULL || kubeconfig_resolve(cfg, "aks-prod-blue", &t, err, sizeof err) != 0) {
		fprintf(stderr, "# kubeconfig: %s\n", err);
		kubeconfig_free(cfg);
		return NULL;
	}
	if (server != NULL) {
		free(t.server);
		t.server = strdup(server);
	}
	c = kube_client_new(&t, NULL, err, sizeof err);
	kubeconfig_target_free(&t);
	kubeconfig_free(cfg);
	if (c == NULL)
		fprintf(stderr, "# kube_client_new: %s\n", err);
	return c;
}

static int
sim_setup(void **state)
{
	struct sim_opts o = { 0 };
	char err[256] = "";

	(void)state;
	snprintf(sim_dir, sizeof sim_dir, "%s/sim", tmp);
	if (mkdir(sim_dir, 0700) != 0)
		return -1;
	o.dir = sim_dir;
	o.speed = 50;
	if (sim_start(&o, err, sizeof err) != 0) {
		fprintf(stderr, "# sim_start: %s\n", err);
		return -1;
	}
	kc = sim_client_for(NULL);
	return kc != NULL ? 0 : -1;
}

static int
sim_teardown(void **state)
{
	(void)state;
	kube_client_free(kc);
	sim_stop();
	return 0;
}

static struct kube_lease
get_lease(const char *name)
{
	struct kube_lease k;
	struct kube_call call = { 0 };

	if (kube_lease_get(kc, LOCK_NAMESPACE, name, &k, &call) != 0)
		fail_msg("GET Lease %s: %s", name, call.error);
	return k;
}

/* Operator WHO ("a" or "b") takes NAME's lock. */
static struct lock *
take(const char *who, const char *name, int duration_s, int take_over, char *err,
    size_t errlen, int *code, void (*on_lost)(void *, const char *), void *ctx)
{
	struct lock_opts o = { .name = name, .kube = kc, .duration_s = duration_s,
	    .take_over = take_over, .on_lost = on_lost, .ctx = ctx };

	o.holder = who[0] == 'a' ? "alice@host1/1001" : "bob@host2/2002";
	use_state(who);
	return lock_acquire(&o, err, errlen, code);
}

struct lost_seen {
	atomic_int calls;
	char why[LOCK_ERR_MAX];
};

static void
on_lost(void *ctx, const char *why)
{
	struct lost_seen *s = ctx;

	snprintf(s->why, sizeof s->why, "%s", why);
	atomic_fetch_add(&s->calls, 1);
}

static int
wait_lost(struct lost_seen *s, long ms)
{
	for (; ms > 0 && atomic_load(&s->calls) == 0; ms -= 20)
		sleep_ms(20);
	return atomic_load(&s->calls);
}

static void
test_lease_hold_refuse_renew(void **state)
{
	char err[LOCK_ERR_MAX] = "";
	struct kube_lease k1, k2;
	struct lock *a, *b;
	int code = -1;

	(void)state;
	a = take("a", "Lease Test/1", 3, 0, err, sizeof err, &code, NULL, NULL);
	if (a == NULL)
		fail_msg("A: %s", err);
	assert_string_equal(lock_lease_name(a), "bgswitch-lease-test-1");
	assert_string_equal(lock_holder(a), "alice@host1/1001");

	/* B is refused, told by whom and how fresh A's renewal is. */
	assert_null(take("b", "Lease Test/1", 3, 1, err, sizeof err, &code, NULL, NULL));
	assert_int_equal(code, LOCK_E_HELD);
	assert_contains(err, "alice@host1/1001");
	assert_contains(err, "last renewed");
	assert_contains(err, "default/bgswitch-lease-test-1");
	/* ... and B's local lock went with the refusal. */
	{
		struct lock_opts o = { .name = "Lease Test/1" };
		struct lock *local = lock_acquire(&o, err, sizeof err, &code);

		if (local == NULL)
			fail_msg("B's local lock was kept: %s", err);
		lock_release(local);
	}

	/* The Lease in the cluster is A's, and its renewal moves on (every
	 * second for a 3 s Lease). */
	k1 = get_lease("bgswitch-lease-test-1");
	assert_string_equal(k1.holder, "alice@host1/1001");
	assert_int_equal(k1.duration_s, 3);
	assert_false(k1.expired);
	sleep_ms(1500);
	k2 = get_lease("bgswitch-lease-test-1");
	assert_string_equal(k2.holder, "alice@host1/1001");
	assert_true(k2.renew_ms > k1.renew_ms);
	assert_string_not_equal(k2.resource_version, k1.resource_version);
	sleep_ms(2000);			/* past A's first 3 s: still held */
	assert_false(lock_lost(a));
	assert_string_equal(lock_lost_reason(a), "");

	lock_release(a);
	k1 = get_lease("bgswitch-lease-test-1");
	assert_string_equal(k1.holder, "");
	b = take("b", "Lease Test/1", 3, 0, err, sizeof err, &code, NULL, NULL);
	if (b == NULL)
		fail_msg("B after A released: %s", err);
	assert_int_equal(code, LOCK_OK);
	assert_string_equal(get_lease("bgswitch-lease-test-1").holder, "bob@host2/2002");
	lock_release(b);
}

static void
test_lease_expired_take_over(void **state)
{
	char err[LOCK_ERR_MAX] = "";
	struct lost_seen seen = { 0 };
	struct kube_lease before;
	struct lock *a, *b;
	int code = -1;

	(void)state;
	a = take("a", "expiry", 2, 0, err, sizeof err, &code, on_lost, &seen);
	if (a == NULL)
		fail_msg("A: %s", err);
	before = get_lease("bgswitch-expiry");

	/* A hangs (as a crashed or suspended run would): its Lease runs out,
	 * and A knows it before any thread has told it. */
	lock_test_pause_renewal(a, 1);
	sleep_ms(2900);			/* past 2 s + the quarter other machines wait */
	assert_true(lock_lost(a));
	assert_contains(lock_lost_reason(a), "not renewed");
	assert_int_equal(atomic_load(&seen.calls), 0);

	/* B may take it over only when told to. */
	assert_null(take("b", "expiry", 2, 0, err, sizeof err, &code, NULL, NULL));
	assert_int_equal(code, LOCK_E_EXPIRED);
	assert_contains(err, "alice@host1/1001");
	assert_contains(err, "expired");
	assert_contains(err, "--take-over");
	b = take("b", "expiry", 2, 1, err, sizeof err, &code, NULL, NULL);
	if (b == NULL)
		fail_msg("B taking over: %s", err);
	assert_int_equal(get_lease("bgswitch-expiry").transitions, before.transitions + 1);
	assert_string_equal(get_lease("bgswitch-expiry").holder, "bob@host2/2002");

	/* A comes back: its next renewal finds the Lease gone to B, once. */
	lock_test_pause_renewal(a, 0);
	assert_int_equal(wait_lost(&seen, 2000), 1);
	assert_contains(seen.why, "bob@host2/2002");
	assert_string_equal(lock_lost_reason(a), seen.why);
	/* A's release leaves B's Lease alone. */
	lock_release(a);
	assert_string_equal(get_lease("bgswitch-expiry").holder, "bob@host2/2002");
	sleep_ms(800);			/* B keeps renewing meanwhile */
	assert_false(lock_lost(b));
	lock_release(b);
	assert_string_equal(get_lease("bgswitch-expiry").holder, "");
}

static void
test_lease_changed_under_holder(void **state)
{
	char err[LOCK_ERR_MAX] = "";
	struct lost_seen seen = { 0 };
	struct kube_call call = { 0 };
	struct kube_lease k;
	struct lock *a, *again;
	int code = -1;

	(void)state;
	a = take("a", "deleted", 3, 0, err, sizeof err, &code, on_lost, &seen);
	if (a == NULL)
		fail_msg("A: %s", err);
	k = get_lease("bgswitch-deleted");

	/* The same holder identity again (a run restarted as the same
	 * user@host/pid): its own Lease, no transition. */
	lock_test_pause_renewal(a, 1);
	{
		struct lock_opts o = { .name = "deleted", .kube = kc, .duration_s = 3,
		    .holder = "alice@host1/1001" };

		use_state("a2");	/* A's own file lock would refuse it */
		again = lock_acquire(&o, err, sizeof err, &code);
	}
	if (again == NULL)
		fail_msg("same holder: %s", err);
	assert_int_equal(get_lease("bgswitch-deleted").transitions, k.transitions);
	assert_string_equal(get_lease("bgswitch-deleted").acquire_time, k.acquire_time);
	lock_release(again);
	lock_test_pause_renewal(a, 0);
	assert_int_equal(wait_lost(&seen, 1500), 1);
	assert_contains(seen.why, "released");
	lock_release(a);

	/* Someone deletes the Lease under its holder: the next renewal puts
	 * it back (a PUT creates a Lease, as on a real API server), which is
	 * safe: nobody else wrote it in between, or the PUT would conflict. */
	memset(&seen, 0, sizeof seen);
	a = take("a", "deleted", 3, 0, err, sizeof err, &code, on_lost, &seen);
	if (a == NULL)
		fail_msg("A again: %s", err);
	assert_int_equal(kube_delete(kc, "/apis/coordination.k8s.io/v1/namespaces/default/leases/"
	    "bgswitch-deleted", KUBE_PROPAGATION_DEFAULT, NULL, &call), 0);
	sleep_ms(1500);
	assert_string_equal(get_lease("bgswitch-deleted").holder, "alice@host1/1001");
	assert_false(lock_lost(a));

	/* Someone overwrites it while it is valid (kubectl edit): lost at
	 * the next renewal, naming the new holder. */
	assert_int_equal(kube_merge_patch(kc, "/apis/coordination.k8s.io/v1/namespaces/default/"
	    "leases/bgswitch-deleted", "{\"spec\":{\"holderIdentity\":\"mallory@host3/3\"}}",
	    NULL, &call), 0);
	assert_int_equal(wait_lost(&seen, 2500), 1);
	assert_true(lock_lost(a));
	assert_contains(lock_lost_reason(a), "now held by mallory@host3/3");
	lock_release(a);
	assert_string_equal(get_lease("bgswitch-deleted").holder, "mallory@host3/3");
}

static void
test_lease_unreachable(void **state)
{
	struct kube_client *dead = sim_client_for("https://127.0.0.1:1");
	struct lock_opts o = { .name = "unreachable", .kube = dead, .duration_s = 2 };
	char err[LOCK_ERR_MAX] = "";
	struct lock *l;
	int code = -1;

	(void)state;
	assert_non_null(dead);
	use_state("a");
	assert_null(lock_acquire(&o, err, sizeof err, &code));
	assert_int_equal(code, LOCK_E_KUBE);
	assert_contains(err, "bgswitch-unreachable");
	kube_client_free(dead);
	/* Never the file lock without the Lease: it was given back. */
	o.kube = NULL;
	l = lock_acquire(&o, err, sizeof err, &code);
	if (l == NULL)
		fail_msg("local lock kept after a failed Lease: %s", err);
	lock_release(l);
}

int
main(void)
{
	const struct CMUnitTest local[] = {
		cmocka_unit_test(test_lease_names),
		cmocka_unit_test(test_local_lock),
		cmocka_unit_test(test_local_home_and_args),
	};
	const struct CMUnitTest lease[] = {
		cmocka_unit_test(test_lease_hold_refuse_renew),
		cmocka_unit_test(test_lease_expired_take_over),
		cmocka_unit_test(test_lease_changed_under_holder),
		cmocka_unit_test(test_lease_unreachable),
	};
	int failed;

	log_set_stream(stderr, getenv("TEST_LOG") ? LOG_DEBUG : LOG_OFF);
	snprintf(tmp, sizeof tmp, "/tmp/bgswitch-lock-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return 1;
	/* Forks happen here, while this process has one thread. */
	failed = cmocka_run_group_tests_name("lock_local", local, NULL, NULL);
	failed += cmocka_run_group_tests_name("lock_lease", lease, sim_setup, sim_teardown);
	testlib_rmtree(tmp);
	return failed;
}
