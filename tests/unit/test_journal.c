/*
 * test_journal.c — the switchover journal: modes of its file and
 * directories, every record type written and read back, durability errors
 * surfaced (disk full, a bad descriptor, an unwritable directory), torn
 * tails ignored and cut, corruption and future versions refused, the
 * reconcile view the engine resumes from, and the runs list.
 *
 * Each test gets its own XDG_STATE_HOME under a fresh temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "src/journal.h"

#define CONFIG "tests/fixtures/config/product-example.yaml"
#define NAME "prod-weu"

struct fixture {
	char tmp[PATH_MAX];
	char path[PATH_MAX];	/* NAME's journal */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char xdg[PATH_MAX + 16], err[256];

	snprintf(f->tmp, sizeof f->tmp, "%s/bgswitch-journal.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(f->tmp) == NULL)
		return -1;
	/* Not created yet: journal_open makes every missing level. */
	snprintf(xdg, sizeof xdg, "%s/state", f->tmp);
	setenv("XDG_STATE_HOME", xdg, 1);
	if (journal_path(NAME, f->path, sizeof f->path, err, sizeof err) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->tmp);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static struct journal *
open_ok(void)
{
	char err[512];
	struct journal *j = journal_open(NAME, err, sizeof err);

	if (j == NULL)
		fail_msg("journal_open: %s", err);
	return j;
}

#define OK(call) do { char err_[512]; if ((call) != 0) fail_msg("%s: %s", #call, err_); } while (0)
/* The helpers all end in (err, errlen); OK() supplies them. */
#define E err_, sizeof err_

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
}

static void
append_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* The descriptor this process has open on PATH (to break it on purpose). */
static int
fd_of(const char *path)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL && found < 0) {
		char link[300], target[PATH_MAX];
		ssize_t n;

		snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
		if ((n = readlink(link, target, sizeof target - 1)) > 0) {
			target[n] = '\0';
			if (strcmp(target, path) == 0)
				found = atoi(e->d_name);
		}
	}
	closedir(d);
	assert_true(found >= 0);
	return found;
}

static void
test_modes(void **state)
{
	struct fixture *f = *state;
	char dir[PATH_MAX + 16];
	mode_t old = umask(0277);	/* would leave 0500/0400 if modes came from the umask */
	struct journal *j = open_ok();

	umask(old);
	assert_string_equal(journal_file(j), f->path);
	assert_int_equal(mode_of(f->path), 0600);
	snprintf(dir, sizeof dir, "%s/state/bgswitch", f->tmp);
	assert_int_equal(mode_of(dir), 0700);
	snprintf(dir, sizeof dir, "%s/state", f->tmp);
	assert_int_equal(mode_of(dir), 0700);
	assert_non_null(strstr(f->path, "/state/bgswitch/prod-weu.journal"));
	journal_close(j);

	/* A file only readable by others is tightened, not refused. */
	chmod(f->path, 0644);
	j = open_ok();
	assert_int_equal(mode_of(f->path), 0600);
	journal_close(j);
}

static void
test_path(void **state)
{
	char path[PATH_MAX], err[256], *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	(void)state;
	assert_int_equal(journal_path("a/b", path, sizeof path, err, sizeof err), -1);
	assert_int_equal(journal_path("..", path, sizeof path, err, sizeof err), -1);
	assert_int_equal(journal_path("", path, sizeof path, err, sizeof err), -1);
	/* A relative XDG_STATE_HOME is invalid (XDG spec): HOME's default. */
	setenv("XDG_STATE_HOME", "relative/dir", 1);
	setenv("HOME", "/home/op", 1);
	assert_int_equal(journal_path("x", path, sizeof path, err, sizeof err), 0);
	assert_string_equal(path, "/home/op/.local/state/bgswitch/x.journal");
	unsetenv("XDG_STATE_HOME");
	assert_int_equal(journal_path("x", path, sizeof path, err, sizeof err), 0);
	assert_string_equal(path, "/home/op/.local/state/bgswitch/x.journal");
	if (home != NULL)
		setenv("HOME", home, 1);
	free(home);
}

static const cJSON *
member(const cJSON *o, const char *k)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, k);

	if (m == NULL)
		fail_msg("record has no \"%s\"", k);
	return m;
}

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *m = member(o, k);

	assert_true(cJSON_IsString(m));
	return m->valuestring;
}

static void
test_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct journal *j = open_ok();
	char run[40];
	uint64_t a1 = 0;
	cJSON *before = cJSON_Parse("{\"blue\":100,\"green\":0,\"etag\":\"W/\\\"1\\\"\"}");
	cJSON *after = cJSON_Parse("{\"blue\":90,\"green\":10}");
	static const char *const types[] = { "journal", "run-start", "stage", "intent", "outcome", "confirm",
	    "check", "rollback", "note", "run-end" };
	struct journal_reader *r;
	struct journal_record rec;
	uint64_t last = 0;
	size_t n = 0;
	char err[512];

	snprintf(run, sizeof run, "%s", journal_run_id(j));
	assert_int_equal(strlen(run), 36);
	assert_int_equal(run[14], '4');
	OK(journal_run_start(j, CONFIG, "aks-prod-blue", "aks-prod-green", E));
	OK(journal_stage(j, 3, JOURNAL_ENTERED, "step 1/3", E));
	OK(journal_intent(j, "gateway-weights", before, after, &a1, E));
	OK(journal_outcome(j, a1, 1, after, NULL, E));
	OK(journal_confirm(j, JOURNAL_GATE_SWITCH, NULL, "yes", E));
	OK(journal_check(j, "gateway 5xx", 0, "0.8%", "0.5%", E));
	OK(journal_rollback(j, "gateway 5xx failed 3 times", 1, E));
	OK(journal_note(j, "operator pressed R", E));
	OK(journal_run_end(j, JOURNAL_RESULT_ROLLED_BACK, E));
	journal_close(j);

	assert_int_equal(journal_open_read(f->path, &r, err, sizeof err), 0);
	while (journal_next(r, &rec, err, sizeof err) == 1) {
		assert_true(n < sizeof types / sizeof types[0]);
		assert_string_equal(journal_type_name(rec.type), types[n]);
		assert_string_equal(str(rec.json, "type"), types[n]);
		assert_int_equal(member(rec.json, "v")->valueint, JOURNAL_VERSION);
		assert_int_equal(rec.line, (long)n + 1);
		if (n == 0) {
			assert_int_equal(rec.seq, 0);
			assert_string_equal(str(rec.json, "name"), NAME);
		} else {
			assert_true(rec.seq > last);
			assert_string_equal(rec.run, run);
			/* RFC 3339 UTC with milliseconds: 2024-05-01T10:00:00.123Z */
			assert_int_equal(strlen(rec.ts), 24);
			assert_int_equal(rec.ts[10], 'T');
			assert_int_equal(rec.ts[19], '.');
			assert_int_equal(rec.ts[23], 'Z');
		}
		last = rec.seq;
		switch (rec.type) {
		case JOURNAL_RUN_START:
			assert_non_null(strstr(str(rec.json, "config"), "/" CONFIG));
			assert_int_equal(str(rec.json, "config")[0], '/');
			assert_int_equal(strlen(str(rec.json, "sha256")), 64);
			assert_string_equal(str(rec.json, "blue"), "aks-prod-blue");
			assert_string_equal(str(rec.json, "green"), "aks-prod-green");
			assert_non_null(strchr(str(rec.json, "who"), '@'));
			assert_int_equal(member(rec.json, "pid")->valueint, getpid());
			break;
		case JOURNAL_STAGE:
			assert_string_equal(str(rec.json, "stage"), "T3");
			assert_string_equal(str(rec.json, "state"), "entered");
			assert_string_equal(str(rec.json, "detail"), "step 1/3");
			break;
		case JOURNAL_INTENT:
			assert_int_equal(member(rec.json, "action")->valuedouble, (double)a1);
			assert_int_equal(rec.seq, a1);
			assert_string_equal(str(rec.json, "what"), "gateway-weights");
			assert_true(cJSON_Compare(member(rec.json, "before"), before, 1));
			assert_true(cJSON_Compare(member(rec.json, "after"), after, 1));
			break;
		case JOURNAL_OUTCOME:
			assert_int_equal(member(rec.json, "action")->valuedouble, (double)a1);
			assert_true(cJSON_IsTrue(member(rec.json, "ok")));
			assert_true(cJSON_Compare(member(rec.json, "after"), after, 1));
			break;
		case JOURNAL_CONFIRM:
			assert_string_equal(str(rec.json, "gate"), "switch");
			assert_string_equal(str(rec.json, "answer"), "yes");
			assert_non_null(strchr(str(rec.json, "who"), '@'));
			break;
		case JOURNAL_CHECK:
			assert_string_equal(str(rec.json, "name"), "gateway 5xx");
			assert_true(cJSON_IsFalse(member(rec.json, "ok")));
			assert_string_equal(str(rec.json, "value"), "0.8%");
			assert_string_equal(str(rec.json, "threshold"), "0.5%");
			break;
		case JOURNAL_ROLLBACK:
			assert_string_equal(str(rec.json, "reason"), "gateway 5xx failed 3 times");
			assert_true(cJSON_IsTrue(member(rec.json, "automatic")));
			break;
		case JOURNAL_NOTE:
			assert_string_equal(str(rec.json, "text"), "operator pressed R");
			break;
		case JOURNAL_RUN_END:
			assert_string_equal(str(rec.json, "result"), "rolled-back");
			break;
		default:
			break;
		}
		n++;
	}
	assert_int_equal(n, sizeof types / sizeof types[0]);
	assert_null(journal_reader_torn(r));
	journal_close_read(r);

	/* One record per line, unformatted. */
	char *text = slurp(f->path);
	size_t lines = 0;
	for (char *p = text; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, n);
	free(text);

	/* A second run continues the file's seq and keeps one header. */
	j = open_ok();
	OK(journal_note(j, "again", E));
	journal_close(j);
	assert_int_equal(journal_open_read(f->path, &r, err, sizeof err), 0);
	n = 0;
	while (journal_next(r, &rec, err, sizeof err) == 1)
		n++;
	assert_int_equal(n, 11);
	assert_int_equal(rec.seq, last + 1);
	assert_int_equal(rec.type, JOURNAL_NOTE);
	journal_close_read(r);
	cJSON_Delete(before);
	cJSON_Delete(after);
}

/* What journal_append acknowledged, another descriptor reads at once. */
static void
test_visible_at_once(void **state)
{
	struct fixture *f = *state;
	struct journal *j = open_ok();
	struct journal_reader *r;
	struct journal_record rec;
	char err[256];
	int found = 0;

	OK(journal_note(j, "first", E));
	assert_int_equal(journal_open_read(f->path, &r, err, sizeof err), 0);
	while (journal_next(r, &rec, err, sizeof err) == 1)
		found |= rec.type == JOURNAL_NOTE && strcmp(str(rec.json, "text"), "first") == 0;
	journal_close_read(r);
	assert_true(found);
	journal_close(j);
}

static void
test_disk_full(void **state)
{
	struct fixture *f = *state;
	struct journal *j = open_ok();
	int full = open("/dev/full", O_WRONLY), fd = fd_of(f->path);
	char err[256];

	if (full < 0) {
		journal_close(j);
		skip();
	}
	/* The journal's descriptor now writes to a device that is always full. */
	assert_int_equal(dup2(full, fd), fd);
	close(full);
	assert_int_equal(journal_note(j, "lost", err, sizeof err), -1);
	assert_non_null(strstr(err, "write"));
	assert_non_null(strstr(err, strerror(ENOSPC)));
	/* After a failure nothing more is written: what reached the disk is
	 * unknown, so the engine must stop. */
	assert_int_equal(journal_note(j, "also lost", err, sizeof err), -1);
	assert_non_null(strstr(err, "earlier write failed"));
	journal_close(j);
}

static void
test_bad_fd(void **state)
{
	struct fixture *f = *state;
	struct journal *j = open_ok();
	int fd = fd_of(f->path), devnull;
	char err[256];

	close(fd);
	assert_int_equal(journal_note(j, "lost", err, sizeof err), -1);
	assert_non_null(strstr(err, strerror(EBADF)));
	/* Give journal_close a descriptor of its own to close. */
	devnull = open("/dev/null", O_RDONLY);
	if (devnull != fd) {
		assert_int_equal(dup2(devnull, fd), fd);
		close(devnull);
	}
	journal_close(j);
}

static void
test_unwritable_dir(void **state)
{
	struct fixture *f = *state;
	char err[256], dir[PATH_MAX + 16];

	/* /proc is read-only for root too. */
	setenv("XDG_STATE_HOME", "/proc/self/bgswitch-test", 1);
	assert_null(journal_open(NAME, err, sizeof err));
	assert_non_null(strstr(err, "cannot create directory"));
	if (geteuid() != 0) {
		snprintf(dir, sizeof dir, "%s/ro", f->tmp);
		assert_int_equal(mkdir(dir, 0500), 0);
		setenv("XDG_STATE_HOME", dir, 1);
		assert_null(journal_open(NAME, err, sizeof err));
		assert_non_null(strstr(err, "cannot create directory"));
	}
}

static void
write_two_notes(void)
{
	struct journal *j = open_ok();

	OK(journal_note(j, "one", E));
	OK(journal_note(j, "two", E));
	journal_close(j);
}

static size_t
count_records(const char *path, char *torn, size_t tornlen)
{
	struct journal_reader *r;
	struct journal_record rec;
	char err[512];
	size_t n = 0;
	int rc;

	assert_int_equal(journal_open_read(path, &r, err, sizeof err), 0);
	while ((rc = journal_next(r, &rec, err, sizeof err)) == 1)
		n++;
	if (rc != 0)
		fail_msg("%s", err);
	snprintf(torn, tornlen, "%s", journal_reader_torn(r) ? journal_reader_torn(r) : "");
	journal_close_read(r);
	return n;
}

static void
test_torn_last_line(void **state)
{
	struct fixture *f = *state;
	char torn[160], *text;
	struct journal *j;

	write_two_notes();
	/* A crash in the middle of the write(2) of the next record. */
	append_text(f->path, "{\"v\":1,\"seq\":3,\"ts\":\"2024-05-");
	assert_int_equal(count_records(f->path, torn, sizeof torn), 3);
	assert_non_null(strstr(torn, "line 4"));
	assert_non_null(strstr(torn, "without a newline"));

	/* The next writer cuts it off, says so, and continues the seq. */
	j = open_ok();
	OK(journal_note(j, "after", E));
	journal_close(j);
	text = slurp(f->path);
	assert_null(strstr(text, "2024-05-\""));
	assert_null(strstr(text, "\"2024-05-{"));
	assert_non_null(strstr(text, "cut off a torn last record"));
	free(text);
	assert_int_equal(count_records(f->path, torn, sizeof torn), 5);
	assert_string_equal(torn, "");

	/* A complete last line holding NULs (a block a crash left
	 * zero-filled) is torn too. */
	{
		FILE *fp = fopen(f->path, "ab");
		static const char zeros[] = "{\"v\":1,\0\0\0\0\n";

		assert_non_null(fp);
		assert_int_equal(fwrite(zeros, 1, sizeof zeros - 1, fp), sizeof zeros - 1);
		fclose(fp);
	}
	assert_int_equal(count_records(f->path, torn, sizeof torn), 5);
	assert_non_null(strstr(torn, "line 6"));
}

/* A complete last line without NULs that does not parse was written whole
 * (and fsync'd, maybe acted on): damage, reported, never skipped. */
static void
test_damaged_last_line(void **state)
{
	struct fixture *f = *state;
	struct journal_reader *r;
	struct journal_record rec;
	char err[512];
	int rc = 0;

	write_two_notes();
	append_text(f->path, "{\"v\":1,\"se\n");
	assert_int_equal(journal_open_read(f->path, &r, err, sizeof err), 0);
	while ((rc = journal_next(r, &rec, err, sizeof err)) == 1)
		;
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "is corrupt"));
	journal_close_read(r);
}

static void
test_corrupt_middle_refused(void **state)
{
	struct fixture *f = *state;
	struct journal_run *runs;
	size_t n;
	char err[512], torn[160];
	struct journal_view v;

	write_two_notes();
	append_text(f->path, "this is not json\n");
	append_text(f->path, "{\"v\":1,\"seq\":9,\"ts\":\"2024-05-01T10:00:00.000Z\",\"run\":\"r\",\"type\":\"note\",\"text\":\"x\"}\n");
	assert_int_equal(journal_runs(f->path, &runs, &n, torn, sizeof torn, err, sizeof err), -1);
	assert_non_null(strstr(err, "line 4"));
	assert_non_null(strstr(err, "corrupt"));
	assert_int_equal(journal_view_load(f->path, &v, err, sizeof err), -1);
	assert_non_null(strstr(err, "line 4"));
	assert_null(journal_open(NAME, err, sizeof err));
	assert_non_null(strstr(err, "line 4"));

	/* A well-formed line that breaks the format is corruption too. */
	write_file(f->path, "{\"v\":1,\"seq\":0,\"type\":\"journal\",\"name\":\"prod-weu\",\"created\":\"2024-05-01T10:00:00.000Z\"}\n"
	    "{\"v\":1,\"seq\":1,\"ts\":\"2024-05-01T10:00:00.000Z\",\"run\":\"r\",\"type\":\"stage\",\"stage\":\"T9\",\"state\":\"done\"}\n"
	    "{\"v\":1,\"seq\":2,\"ts\":\"2024-05-01T10:00:00.000Z\",\"run\":\"r\",\"type\":\"note\",\"text\":\"x\"}\n", 0600);
	assert_int_equal(journal_runs(f->path, &runs, &n, torn, sizeof torn, err, sizeof err), -1);
	assert_non_null(strstr(err, "line 2"));
	assert_non_null(strstr(err, "T9"));
	/* seq going backwards */
	write_file(f->path, "{\"v\":1,\"seq\":0,\"type\":\"journal\",\"name\":\"prod-weu\",\"created\":\"2024-05-01T10:00:00.000Z\"}\n"
	    "{\"v\":1,\"seq\":2,\"ts\":\"2024-05-01T10:00:00.000Z\",\"run\":\"r\",\"type\":\"note\",\"text\":\"x\"}\n"
	    "{\"v\":1,\"seq\":2,\"ts\":\"2024-05-01T10:00:00.000Z\",\"run\":\"r\",\"type\":\"note\",\"text\":\"x\"}\n"
	    "{\"v\":1,\"seq\":3,\"ts\":\"2024-05-01T10:00:00.000Z\",\"run\":\"r\",\"type\":\"note\",\"text\":\"x\"}\n", 0600);
	assert_int_equal(journal_runs(f->path, &runs, &n, torn, sizeof torn, err, sizeof err), -1);
	assert_non_null(strstr(err, "line 3"));
	/* no header */
	write_file(f->path, "{\"v\":1,\"seq\":2,\"ts\":\"2024-05-01T10:00:00.000Z\",\"run\":\"r\",\"type\":\"note\",\"text\":\"x\"}\n"
	    "{\"v\":1,\"seq\":3,\"ts\":\"2024-05-01T10:00:00.000Z\",\"run\":\"r\",\"type\":\"note\",\"text\":\"x\"}\n", 0600);
	assert_int_equal(journal_runs(f->path, &runs, &n, torn, sizeof torn, err, sizeof err), -1);
	assert_non_null(strstr(err, "line 1"));
}

static void
test_future_version(void **state)
{
	struct fixture *f = *state;
	struct journal_run *runs;
	size_t n;
	char err[512], torn[160];

	write_two_notes();
	append_text(f->path, "{\"v\":2,\"seq\":3,\"ts\":\"2024-05-01T10:00:00.000Z\",\"run\":\"r\",\"type\":\"warp\"}\n");
	assert_int_equal(journal_runs(f->path, &runs, &n, torn, sizeof torn, err, sizeof err), -1);
	assert_non_null(strstr(err, "format version 2"));
	assert_non_null(strstr(err, "line 4"));
	assert_null(journal_open(NAME, err, sizeof err));
	assert_non_null(strstr(err, "format version 2"));

	write_file(f->path, "{\"v\":7,\"type\":\"journal\",\"name\":\"prod-weu\",\"created\":\"x\"}\n", 0600);
	assert_int_equal(journal_runs(f->path, &runs, &n, torn, sizeof torn, err, sizeof err), -1);
	assert_non_null(strstr(err, "format version 7"));
}

static void
test_refuses_writable(void **state)
{
	struct fixture *f = *state;
	struct journal_reader *r;
	char err[512];

	write_two_notes();
	assert_int_equal(chmod(f->path, 0620), 0);
	assert_null(journal_open(NAME, err, sizeof err));
	assert_non_null(strstr(err, "writable by its group"));
	assert_int_equal(journal_open_read(f->path, &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "writable by its group"));
	assert_int_equal(chmod(f->path, 0602), 0);
	assert_null(journal_open(NAME, err, sizeof err));
	assert_non_null(strstr(err, "writable by others"));
	assert_int_equal(mode_of(f->path), 0602);	/* refused, not silently fixed */

	/* Someone else's file: only root can make one to test with. */
	assert_int_equal(chmod(f->path, 0600), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(f->path, 65534, 65534), 0);
		assert_null(journal_open(NAME, err, sizeof err));
		assert_non_null(strstr(err, "belongs to uid 65534"));
		assert_int_equal(journal_open_read(f->path, &r, err, sizeof err), -1);
		assert_int_equal(chown(f->path, 0, 0), 0);
	}
	/* A planted symlink is not followed. */
	char target[PATH_MAX + 16];
	snprintf(target, sizeof target, "%s/elsewhere", f->tmp);
	assert_int_equal(rename(f->path, target), 0);
	assert_int_equal(symlink(target, f->path), 0);
	assert_null(journal_open(NAME, err, sizeof err));
	assert_non_null(strstr(err, "symbolic link"));
}

static void
test_view(void **state)
{
	struct fixture *f = *state;
	cJSON *w100 = cJSON_Parse("{\"blue\":100,\"green\":0}"), *w90 = cJSON_Parse("{\"blue\":90,\"green\":10}");
	cJSON *w50 = cJSON_Parse("{\"blue\":50,\"green\":50}");
	cJSON *dnsb = cJSON_Parse("{\"type\":\"A\",\"targets\":[\"10.10.1.4\"],\"ttl\":300}");
	cJSON *dnsg = cJSON_Parse("{\"type\":\"A\",\"targets\":[\"10.10.2.4\"],\"ttl\":300}");
	struct journal_view v;
	uint64_t a1, a2, a3;
	struct journal *j;
	char err[512], run1[40];

	/* No journal: an empty view. */
	assert_int_equal(journal_view_load(f->path, &v, err, sizeof err), 0);
	assert_false(v.has_run);
	assert_int_equal(v.stage, -1);
	journal_view_free(&v);

	j = open_ok();
	snprintf(run1, sizeof run1, "%s", journal_run_id(j));
	OK(journal_run_start(j, CONFIG, "aks-prod-blue", "aks-prod-green", E));
	OK(journal_stage(j, 2, JOURNAL_DONE, NULL, E));
	OK(journal_stage(j, 3, JOURNAL_ENTERED, NULL, E));
	OK(journal_intent(j, "gateway-weights", w100, w90, &a1, E));
	OK(journal_outcome(j, a1, 1, w90, NULL, E));
	OK(journal_intent(j, "gateway-weights", w90, w50, &a2, E));	/* crash: no outcome */
	OK(journal_intent(j, "dns-record", dnsb, dnsg, &a3, E));
	journal_close(j);

	assert_int_equal(journal_view_load(f->path, &v, err, sizeof err), 0);
	assert_true(v.has_run);
	assert_string_equal(v.run, run1);
	assert_int_equal(v.stage, 3);
	assert_int_equal(v.state, JOURNAL_ENTERED);
	assert_false(v.ended);
	assert_int_equal(v.npending, 2);
	assert_int_equal(v.pending[0].action, a2);
	assert_string_equal(v.pending[0].what, "gateway-weights");
	assert_true(cJSON_Compare(v.pending[0].before, w90, 1));
	assert_true(cJSON_Compare(v.pending[0].after, w50, 1));
	assert_string_equal(v.pending[0].run, run1);
	assert_int_equal(v.pending[1].action, a3);
	/* Rollback restores the first "before", not the latest step's. */
	assert_true(cJSON_Compare(v.gateway_before, w100, 1));
	assert_true(cJSON_Compare(v.dns_before, dnsb, 1));
	assert_string_equal(v.torn, "");
	journal_view_free(&v);

	/* A resumed run reconciles one intent and pauses: the switchover is
	 * still the same one, so the first "before" stands. */
	j = open_ok();
	OK(journal_run_start(j, CONFIG, "aks-prod-blue", "aks-prod-green", E));
	OK(journal_outcome(j, a2, 1, w50, NULL, E));
	OK(journal_intent(j, "gateway-weights", w50, w100, &a1, E));
	OK(journal_outcome(j, a1, 0, w50, "412 Precondition Failed", E));
	OK(journal_run_end(j, JOURNAL_RESULT_PAUSED, E));
	journal_close(j);
	assert_int_equal(journal_view_load(f->path, &v, err, sizeof err), 0);
	assert_string_not_equal(v.run, run1);
	assert_int_equal(v.stage, -1);
	assert_true(v.ended);
	assert_int_equal(v.result, JOURNAL_RESULT_PAUSED);
	assert_int_equal(v.npending, 1);
	assert_int_equal(v.pending[0].action, a3);
	assert_string_equal(v.pending[0].run, run1);
	assert_true(cJSON_Compare(v.gateway_before, w100, 1));
	journal_view_free(&v);

	/* A write whose answer was lost: failed, effect unknown (no after).
	 * The intent stays pending, so a resume asks ARM what happened. */
	j = open_ok();
	uint64_t a4;
	OK(journal_intent(j, "gateway-weights", w50, w100, &a4, E));
	OK(journal_outcome(j, a4, 0, NULL, "connection reset after the PUT was sent", E));
	journal_close(j);
	assert_int_equal(journal_view_load(f->path, &v, err, sizeof err), 0);
	assert_int_equal(v.npending, 2);
	assert_int_equal(v.pending[1].action, a4);
	journal_view_free(&v);

	/* Rolled back: traffic is settled, the next switchover starts clean. */
	j = open_ok();
	OK(journal_outcome(j, a3, 1, dnsg, NULL, E));
	OK(journal_rollback(j, "operator", 0, E));
	OK(journal_run_end(j, JOURNAL_RESULT_ROLLED_BACK, E));
	journal_close(j);
	assert_int_equal(journal_view_load(f->path, &v, err, sizeof err), 0);
	assert_true(v.ended);
	assert_int_equal(v.result, JOURNAL_RESULT_ROLLED_BACK);
	assert_int_equal(v.npending, 0);
	assert_null(v.gateway_before);
	assert_null(v.dns_before);
	journal_view_free(&v);

	cJSON_Delete(w100);
	cJSON_Delete(w90);
	cJSON_Delete(w50);
	cJSON_Delete(dnsb);
	cJSON_Delete(dnsg);
}

static void
test_runs(void **state)
{
	struct fixture *f = *state;
	struct journal_run *runs;
	struct journal *j;
	char err[512], torn[160], id1[40], id2[40];
	size_t n;

	assert_int_equal(journal_runs(f->path, &runs, &n, torn, sizeof torn, err, sizeof err), 0);
	assert_int_equal(n, 0);
	journal_runs_free(runs, n);

	j = open_ok();
	snprintf(id1, sizeof id1, "%s", journal_run_id(j));
	OK(journal_run_start(j, CONFIG, "aks-prod-blue", "aks-prod-green", E));
	OK(journal_stage(j, 0, JOURNAL_DONE, NULL, E));
	OK(journal_stage(j, 1, JOURNAL_FAILED, "async operation failed", E));
	usleep(20000);
	OK(journal_run_end(j, JOURNAL_RESULT_FAILED, E));
	journal_close(j);
	j = open_ok();
	snprintf(id2, sizeof id2, "%s", journal_run_id(j));
	OK(journal_run_start(j, CONFIG, "aks-prod-blue", "aks-prod-green", E));
	OK(journal_stage(j, 1, JOURNAL_ENTERED, NULL, E));
	journal_close(j);
	assert_string_not_equal(id1, id2);

	assert_int_equal(journal_runs(f->path, &runs, &n, torn, sizeof torn, err, sizeof err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(runs[0].id, id1);
	assert_true(runs[0].ended);
	assert_int_equal(runs[0].result, JOURNAL_RESULT_FAILED);
	assert_int_equal(runs[0].stage, 1);
	assert_int_equal(runs[0].state, JOURNAL_FAILED);
	assert_true(runs[0].duration_ms >= 20);
	assert_non_null(strchr(runs[0].who, '@'));
	assert_string_equal(runs[0].blue, "aks-prod-blue");
	assert_non_null(strstr(runs[0].config, "/" CONFIG));
	assert_int_equal(runs[0].pid, getpid());
	assert_string_equal(runs[1].id, id2);
	assert_false(runs[1].ended);
	assert_int_equal(runs[1].stage, 1);
	assert_int_equal(runs[1].state, JOURNAL_ENTERED);
	assert_true(strcmp(runs[0].started, runs[1].started) <= 0);
	journal_runs_free(runs, n);
}

static void
test_redacts_free_text(void **state)
{
	struct fixture *f = *state;
	struct journal *j = open_ok();
	char *text;

	OK(journal_note(j, "retrying with token=eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.c2ln", E));
	OK(journal_stage(j, 1, JOURNAL_FAILED, "401: Authorization: Bearer abcdef0123456789", E));
	journal_close(j);
	text = slurp(f->path);
	assert_null(strstr(text, "eyJhbGciOiJSUzI1NiJ9"));
	assert_null(strstr(text, "abcdef0123456789"));
	assert_non_null(strstr(text, "retrying with token="));
	free(text);
}

#define THREADS 4
#define PER_THREAD 50

static void *
appender(void *arg)
{
	struct journal *j = arg;
	char err[256];

	for (int i = 0; i < PER_THREAD; i++)
		if (journal_note(j, "from a thread", err, sizeof err) != 0)
			return arg;	/* non-NULL: a failure */
	return NULL;
}

static void
test_threads(void **state)
{
	struct fixture *f = *state;
	struct journal *j = open_ok();
	pthread_t t[THREADS];
	struct journal_reader *r;
	struct journal_record rec;
	char err[256];
	uint64_t want = 0;

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, appender, j), 0);
	for (int i = 0; i < THREADS; i++) {
		void *res;

		pthread_join(t[i], &res);
		assert_null(res);
	}
	journal_close(j);
	assert_int_equal(journal_open_read(f->path, &r, err, sizeof err), 0);
	/* Every line whole, seq 0 (header) then 1.. without a gap. */
	while (journal_next(r, &rec, err, sizeof err) == 1)
		assert_int_equal(rec.seq, want++);
	assert_int_equal(want, 1 + THREADS * PER_THREAD);
	assert_null(journal_reader_torn(r));
	journal_close_read(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_visible_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_last_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_last_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_middle_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_future_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redacts_free_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
