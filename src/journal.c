/*
 * journal.c — the switchover journal: one JSON object per line, appended
 * with one write(2) and made durable with fsync(2) before the caller acts.
 *
 * The file is the memory of a switchover that outlives the process: resume
 * and rollback after a crash, `bgswitch history`, and the audit trail of who
 * confirmed what.  So the writer trusts nothing it did not write itself: a
 * file that others could have changed is refused, a record it cannot parse
 * in the middle of the file is corruption (named by line, never skipped),
 * and only the very last line may be torn — the one write a crash can cut
 * short, which was never acknowledged to its caller and is therefore
 * ignored by readers and cut off by the next writer.
 *
 * Format (bgswitch(1), JOURNAL): every record has "v" (format version),
 * "seq" (strictly increasing in the file), "ts" (RFC 3339 UTC with
 * milliseconds), "run" (the run's UUID) and "type", then its own fields.
 * The first line is the header {"v","seq":0,"type":"journal","name",
 * "created"}.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "src/journal.h"
#include "src/log.h"
#include "src/util.h"

/* ---- names --------------------------------------------------------------- */

static const char *const type_names[JOURNAL_NTYPES] = {
	[JOURNAL_HEADER] = "journal", [JOURNAL_RUN_START] = "run-start",
	[JOURNAL_STAGE] = "stage", [JOURNAL_INTENT] = "intent",
	[JOURNAL_OUTCOME] = "outcome", [JOURNAL_CONFIRM] = "confirm",
	[JOURNAL_CHECK] = "check", [JOURNAL_ROLLBACK] = "rollback",
	[JOURNAL_RUN_END] = "run-end", [JOURNAL_NOTE] = "note",
};
static const char *const stage_names[] = { "T0", "T1", "T2", "T3", "T4" };
static const char *const state_names[] = { "entered", "done", "failed", "skipped" };
static const char *const gate_names[] = { "switch", "teardown", "rollback" };
static const char *const result_names[] = { "done", "rolled-back", "failed", "aborted", "paused" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *
name_of(const char *const *names, size_t n, int i)
{
	return i >= 0 && (size_t)i < n ? names[i] : NULL;
}

static int
index_of(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

const char *
journal_type_name(enum journal_type t)
{
	return name_of(type_names, NELEM(type_names), (int)t);
}

const char *
journal_stage_name(int stage)
{
	return name_of(stage_names, NELEM(stage_names), stage);
}

const char *
journal_stage_state_name(enum journal_stage_state s)
{
	return name_of(state_names, NELEM(state_names), (int)s);
}

const char *
journal_gate_name(enum journal_gate g)
{
	return name_of(gate_names, NELEM(gate_names), (int)g);
}

const char *
journal_result_name(enum journal_result r)
{
	return name_of(result_names, NELEM(result_names), (int)r);
}

/* ---- record shapes ------------------------------------------------------- */

/*
 * What each type must carry, checked on every read: the engine resumes from
 * these records, so one with a field missing or of the wrong type is
 * corruption, not something to guess around.  ENUM names the set a string
 * field's value must come from.
 */
enum field_kind { F_STR, F_NUM, F_BOOL, F_ANY, F_STR_OPT, F_ANY_OPT };

struct field_spec {
	const char *name;
	enum field_kind kind;
	const char *const *set;		/* F_STR: allowed values, or NULL */
	size_t nset;
};

#define SET(a) a, NELEM(a)
static const struct field_spec shapes[JOURNAL_NTYPES][7] = {
	[JOURNAL_HEADER] = { { "name", F_STR, NULL, 0 }, { "created", F_STR, NULL, 0 } },
	[JOURNAL_RUN_START] = { { "config", F_STR, NULL, 0 }, { "sha256", F_STR, NULL, 0 },
	    { "blue", F_STR, NULL, 0 }, { "green", F_STR, NULL, 0 }, { "who", F_STR, NULL, 0 },
	    { "pid", F_NUM, NULL, 0 } },
	[JOURNAL_STAGE] = { { "stage", F_STR, SET(stage_names) }, { "state", F_STR, SET(state_names) },
	    { "detail", F_STR_OPT, NULL, 0 } },
	[JOURNAL_INTENT] = { { "action", F_NUM, NULL, 0 }, { "what", F_STR, NULL, 0 },
	    { "before", F_ANY, NULL, 0 }, { "after", F_ANY, NULL, 0 } },
	[JOURNAL_OUTCOME] = { { "action", F_NUM, NULL, 0 }, { "ok", F_BOOL, NULL, 0 },
	    { "after", F_ANY_OPT, NULL, 0 }, { "error", F_STR_OPT, NULL, 0 } },
	[JOURNAL_CONFIRM] = { { "gate", F_STR, SET(gate_names) }, { "who", F_STR, NULL, 0 },
	    { "answer", F_STR, NULL, 0 } },
	[JOURNAL_CHECK] = { { "name", F_STR, NULL, 0 }, { "ok", F_BOOL, NULL, 0 },
	    { "value", F_STR, NULL, 0 }, { "threshold", F_STR, NULL, 0 } },
	[JOURNAL_ROLLBACK] = { { "reason", F_STR, NULL, 0 }, { "automatic", F_BOOL, NULL, 0 } },
	[JOURNAL_RUN_END] = { { "result", F_STR, SET(result_names) } },
	[JOURNAL_NOTE] = { { "text", F_STR, NULL, 0 } },
};

static const char *const kind_words[] = {
	[F_STR] = "a string", [F_NUM] = "a number", [F_BOOL] = "true or false",
	[F_ANY] = "a value", [F_STR_OPT] = "a string", [F_ANY_OPT] = "a value",
};

/* A non-negative integer that a double holds exactly. */
static int
get_uint(const cJSON *o, const char *name, uint64_t *out)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(m) || m->valuedouble < 0 || m->valuedouble > 9007199254740992.0
	    || (double)(uint64_t)m->valuedouble != m->valuedouble)
		return -1;
	*out = (uint64_t)m->valuedouble;
	return 0;
}

static const char *
get_str(const cJSON *o, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

/* Checks O against its type's shape; 0, or -1 with WHY. */
static int
check_shape(const cJSON *o, enum journal_type t, char *why, size_t whylen)
{
	for (const struct field_spec *f = shapes[t]; f < shapes[t] + NELEM(shapes[t]) && f->name != NULL; f++) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, f->name);
		int ok;

		switch (f->kind) {
		case F_STR: ok = cJSON_IsString(m); break;
		case F_NUM: ok = cJSON_IsNumber(m); break;
		case F_BOOL: ok = cJSON_IsBool(m); break;
		case F_ANY: ok = m != NULL; break;
		case F_STR_OPT: ok = m == NULL || cJSON_IsString(m) || cJSON_IsNull(m); break;
		default: ok = 1; break;
		}
		if (!ok) {
			snprintf(why, whylen, "%s record: \"%s\" %s, expected %s", type_names[t], f->name,
			    m == NULL ? "is missing" : "has the wrong type", kind_words[f->kind]);
			return -1;
		}
		if (f->set != NULL && index_of(f->set, f->nset, m->valuestring) < 0) {
			snprintf(why, whylen, "%s record: \"%s\" is '%s', not one of %s..%s", type_names[t],
			    f->name, m->valuestring, f->set[0], f->set[f->nset - 1]);
			return -1;
		}
	}
	return 0;
}

/* ---- small helpers --------------------------------------------------------- */

void
journal_now_ts(char out[32])
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ts.tv_nsec / 1000000L) % 1000);
}

long long
journal_ts_ms(const char *s)
{
	struct tm tm;
	int ms = 0, n = 0;

	memset(&tm, 0, sizeof tm);
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	if (s[n] == '.') {
		int digits = 0;

		for (n++; s[n] >= '0' && s[n] <= '9'; n++, digits++)
			if (digits < 3)
				ms = ms * 10 + (s[n] - '0');
		for (; digits > 0 && digits < 3; digits++)
			ms *= 10;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

/* "user@host" of this process; the journal records who did what. */
static void
who_am_i(char *out, size_t outlen)
{
	char host[256] = "";
	char buf[1024];
	struct passwd pw, *res = NULL;
	const char *user = NULL;

	if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res != NULL)
		user = res->pw_name;
	if (user == NULL)
		user = getenv("USER");
	if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof host, "localhost");
	if (user != NULL)
		snprintf(out, outlen, "%s@%s", user, host);
	else
		snprintf(out, outlen, "uid%ld@%s", (long)geteuid(), host);
}

static int
uuid4(char out[40])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof b) {
		ssize_t n = getrandom(b + got, sizeof b - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
	    b[14], b[15]);
	return 0;
}

static int
sha256_file(const char *path, char out[65], char *err, size_t errlen)
{
	unsigned char buf[8192], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	FILE *f;
	size_t n;
	int ok;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "journal: cannot read config %s: %s", path, strerror(errno));
		return -1;
	}
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n) == 1;
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	fclose(f);
	if (!ok) {
		snprintf(err, errlen, "journal: cannot hash config %s", path);
		return -1;
	}
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/*
 * A journal decides what rollback restores, so one that another user or a
 * group member could have edited is refused rather than trusted.  A file
 * merely readable by others is tightened instead: that reveals, not alters.
 */
static int
check_file(int fd, const char *path, int writer, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "journal %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "journal %s is not a regular file", path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "journal %s belongs to uid %ld, not to this user (uid %ld): refusing it",
		    path, (long)st.st_uid, (long)geteuid());
		return -1;
	}
	if ((st.st_mode & 022) != 0) {
		snprintf(err, errlen, "journal %s is writable by %s (mode %04o): refusing a journal others "
		    "could have changed; check its records, then chmod 600 it", path,
		    (st.st_mode & 020) != 0 ? "its group" : "others", (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (writer && (st.st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0) {
		snprintf(err, errlen, "journal %s: chmod 600: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
open_error(const char *path, int e, char *err, size_t errlen)
{
	if (e == ELOOP)
		snprintf(err, errlen, "journal %s is a symbolic link: refusing it", path);
	else
		snprintf(err, errlen, "journal %s: %s", path, strerror(e));
	return -1;
}

/* ---- path and directories ---------------------------------------------- */

int
journal_path(const char *name, char *path, size_t pathlen, char *err, size_t errlen)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	/* The name becomes a file name: nothing that climbs or hides. */
	if (name == NULL || name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL) {
		snprintf(err, errlen, "journal: '%s' cannot name a journal file", name != NULL ? name : "");
		return -1;
	}
	/* The XDG spec: a relative value is invalid and is ignored. */
	if (state != NULL && state[0] == '/')
		n = snprintf(path, pathlen, "%s/bgswitch/%s.journal", state, name);
	else if (home != NULL && home[0] == '/')
		n = snprintf(path, pathlen, "%s/.local/state/bgswitch/%s.journal", home, name);
	else {
		snprintf(err, errlen, "journal: neither XDG_STATE_HOME nor HOME is set to an absolute path");
		return -1;
	}
	if (n < 0 || (size_t)n >= pathlen) {
		snprintf(err, errlen, "journal: the path for '%s' is too long", name);
		return -1;
	}
	return 0;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Creates every missing directory of DIR 0700 (whatever the umask) and
 * makes each new one durable in its parent. */
static int
make_dirs(const char *dir, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	struct stat st;

	snprintf(buf, sizeof buf, "%s", dir);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, 0700) == 0) {
			char *slash = strrchr(buf, '/');

			if (chmod(buf, 0700) != 0) {
				snprintf(err, errlen, "journal: chmod 700 %s: %s", buf, strerror(errno));
				return -1;
			}
			*slash = '\0';
			fsync_dir(buf[0] != '\0' ? buf : "/");
			*slash = '/';
		} else if (errno != EEXIST) {
			snprintf(err, errlen, "journal: cannot create directory %s: %s", buf, strerror(errno));
			return -1;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "journal: %s is not a directory", dir);
		return -1;
	}
	/* Whoever can write the directory can replace the journal in it. */
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		snprintf(err, errlen, "journal: directory %s is %s (mode %04o): refusing it", dir,
		    st.st_uid != geteuid() ? "not owned by this user" : "writable by group or others",
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* ---- reading ------------------------------------------------------------- */

struct journal_reader {
	FILE *f;
	char *path;
	char *line;
	size_t cap;
	long lineno;
	uint64_t last_seq;
	int done;
	cJSON *cur;
	off_t good_end;		/* offset just past the last good record */
	char torn[160];
};

static int
reader_new(int fd, const char *path, struct journal_reader **out, char *err, size_t errlen)
{
	struct journal_reader *r = calloc(1, sizeof *r);

	if (r == NULL || (r->path = strdup(path)) == NULL || (r->f = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "journal %s: %s", path, strerror(errno != 0 ? errno : ENOMEM));
		if (r != NULL)
			free(r->path);
		free(r);
		close(fd);
		return -1;
	}
	*out = r;
	return 0;
}

int
journal_open_read(const char *path, struct journal_reader **r, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	*r = NULL;
	if (fd < 0)
		return errno == ENOENT ? JOURNAL_NOENT : open_error(path, errno, err, errlen);
	if (check_file(fd, path, 0, err, errlen) != 0) {
		close(fd);
		return -1;
	}
	return reader_new(fd, path, r, err, errlen);
}

void
journal_close_read(struct journal_reader *r)
{
	if (r == NULL)
		return;
	cJSON_Delete(r->cur);
	if (r->f != NULL)
		fclose(r->f);
	free(r->line);
	free(r->path);
	free(r);
}

const char *
journal_reader_torn(const struct journal_reader *r)
{
	return r->torn[0] != '\0' ? r->torn : NULL;
}

static int
at_eof(FILE *f)
{
	int c = getc(f);

	if (c == EOF)
		return 1;
	ungetc(c, f);
	return 0;
}

/* Validates the parsed line O into *REC; 0, 1 for a future version, or -1
 * with WHY. */
static int
check_record(struct journal_reader *r, const cJSON *o, struct journal_record *rec, char *why, size_t whylen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "v");
	const char *type;
	int t;

	if (!cJSON_IsObject(o)) {
		snprintf(why, whylen, "not a JSON object");
		return -1;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e6
	    || v->valuedouble != (double)(int)v->valuedouble) {
		snprintf(why, whylen, "\"v\" (the format version) is missing or not a positive integer");
		return -1;
	}
	/* A newer format may change anything below, so it is checked first. */
	if (v->valueint > JOURNAL_VERSION) {
		snprintf(why, whylen, "format version %d is newer than this bgswitch reads (%d): "
		    "use the bgswitch that wrote it, or a newer one", v->valueint, JOURNAL_VERSION);
		return 1;
	}
	type = get_str(o, "type");
	if ((t = index_of(type_names, NELEM(type_names), type)) < 0) {
		snprintf(why, whylen, type == NULL ? "\"type\" is missing" : "unknown record type '%s'", type);
		return -1;
	}
	if ((r->lineno == 1) != (t == JOURNAL_HEADER)) {
		snprintf(why, whylen, r->lineno == 1 ? "the first line is not the journal header"
		    : "a journal header after line 1");
		return -1;
	}
	memset(rec, 0, sizeof *rec);
	rec->line = r->lineno;
	rec->type = (enum journal_type)t;
	if (t == JOURNAL_HEADER) {
		/* The header is seq 0; a hand-written one may leave it out. */
		if (cJSON_GetObjectItemCaseSensitive(o, "seq") != NULL && (get_uint(o, "seq", &rec->seq) != 0
		    || rec->seq != 0)) {
			snprintf(why, whylen, "the header's \"seq\" must be 0");
			return -1;
		}
		rec->ts = get_str(o, "created");
		rec->run = "";
	} else {
		if (get_uint(o, "seq", &rec->seq) != 0) {
			snprintf(why, whylen, "\"seq\" is missing or not a non-negative integer");
			return -1;
		}
		if (rec->seq <= r->last_seq) {
			snprintf(why, whylen, "seq %llu does not follow %llu", (unsigned long long)rec->seq,
			    (unsigned long long)r->last_seq);
			return -1;
		}
		rec->ts = get_str(o, "ts");
		rec->run = get_str(o, "run");
		if (rec->ts == NULL || journal_ts_ms(rec->ts) < 0 || rec->run == NULL) {
			snprintf(why, whylen, "\"ts\" (RFC 3339) or \"run\" is missing");
			return -1;
		}
	}
	if (check_shape(o, rec->type, why, whylen) != 0)
		return -1;
	if (t == JOURNAL_INTENT) {
		uint64_t action;

		if (get_uint(o, "action", &action) != 0 || action != rec->seq) {
			snprintf(why, whylen, "intent record: \"action\" must equal its seq");
			return -1;
		}
	}
	if (t == JOURNAL_OUTCOME) {
		uint64_t action;

		if (get_uint(o, "action", &action) != 0 || action >= rec->seq) {
			snprintf(why, whylen, "outcome record: \"action\" must name an earlier intent");
			return -1;
		}
	}
	return 0;
}

int
journal_next(struct journal_reader *r, struct journal_record *rec, char *err, size_t errlen)
{
	char why[256];
	ssize_t n;
	int rc;

	cJSON_Delete(r->cur);
	r->cur = NULL;
	if (r->done)
		return 0;
	errno = 0;
	if ((n = getline(&r->line, &r->cap, r->f)) < 0) {
		r->done = 1;
		if (ferror(r->f)) {
			snprintf(err, errlen, "journal %s: read: %s", r->path, strerror(errno));
			return -1;
		}
		return 0;
	}
	r->lineno++;
	/* Our writer ends every record with its newline in the same write:
	 * a last line without one is a write a crash cut short. */
	if (r->line[n - 1] != '\n') {
		snprintf(r->torn, sizeof r->torn, "line %ld: %zd bytes without a newline (a write cut short)",
		    r->lineno, n);
		r->done = 1;
		return 0;
	}
	r->line[n - 1] = '\0';
	/* An embedded NUL (a block zero-filled after a crash) is unparsable. */
	r->cur = (size_t)(n - 1) == strlen(r->line) ? cJSON_ParseWithOpts(r->line, NULL, 1) : NULL;
	if (r->cur == NULL) {
		/* Only a crash's zero-filled block (NUL bytes) makes a complete
		 * last line torn; one without NULs was written whole, fsync'd,
		 * and maybe acted on: that is damage, not a torn write. */
		if (at_eof(r->f) && (size_t)(n - 1) != strlen(r->line)) {
			snprintf(r->torn, sizeof r->torn, "line %ld: an unparsable last record of %zd bytes",
			    r->lineno, n);
			r->done = 1;
			return 0;
		}
		snprintf(err, errlen, "journal %s: line %ld is corrupt (not a JSON record); the journal is "
		    "damaged and will not be guessed around", r->path, r->lineno);
		r->done = 1;
		return -1;
	}
	if ((rc = check_record(r, r->cur, rec, why, sizeof why)) != 0) {
		snprintf(err, errlen, "journal %s: line %ld: %s%s", r->path, r->lineno, why,
		    rc < 0 ? " (corrupt record)" : "");
		cJSON_Delete(r->cur);
		r->cur = NULL;
		r->done = 1;
		return -1;
	}
	rec->json = r->cur;
	r->last_seq = rec->seq;
	r->good_end = ftello(r->f);
	return 1;
}

/* ---- writing ------------------------------------------------------------- */

struct journal {
	pthread_mutex_t mu;
	int fd;
	int broken;		/* a write or fsync failed: no more appends */
	uint64_t next_seq;
	char run[40];
	char who[320];
	char *path;
	char *name;
};

const char *journal_run_id(const struct journal *j) { return j->run; }
const char *journal_file(const struct journal *j) { return j->path; }

/* Copies FIELDS' members after the common ones, in their order. */
static int
add_fields(cJSON *o, const cJSON *fields)
{
	for (const cJSON *m = fields != NULL ? fields->child : NULL; m != NULL; m = m->next) {
		cJSON *c = cJSON_Duplicate(m, 1);

		if (c == NULL || !cJSON_AddItemToObject(o, m->string, c)) {
			cJSON_Delete(c);
			return -1;
		}
	}
	return 0;
}

/* Called with the mutex held. */
static int
append_locked(struct journal *j, enum journal_type type, const cJSON *fields, char *err, size_t errlen)
{
	char ts[32], *text = NULL;
	cJSON *o;
	size_t len;
	ssize_t n;
	int ok;

	if (j->broken) {
		snprintf(err, errlen, "journal %s: not written since an earlier write failed", j->path);
		return -1;
	}
	journal_now_ts(ts);
	o = cJSON_CreateObject();
	ok = o != NULL && cJSON_AddNumberToObject(o, "v", JOURNAL_VERSION) != NULL
	    && cJSON_AddNumberToObject(o, "seq", type == JOURNAL_HEADER ? 0 : (double)j->next_seq) != NULL;
	if (ok && type == JOURNAL_HEADER)
		ok = cJSON_AddStringToObject(o, "type", type_names[type]) != NULL
		    && cJSON_AddStringToObject(o, "name", j->name) != NULL
		    && cJSON_AddStringToObject(o, "created", ts) != NULL;
	else if (ok)
		ok = cJSON_AddStringToObject(o, "ts", ts) != NULL
		    && cJSON_AddStringToObject(o, "run", j->run) != NULL
		    && cJSON_AddStringToObject(o, "type", type_names[type]) != NULL
		    && add_fields(o, fields) == 0;
	if (ok && (text = cJSON_PrintUnformatted(o)) != NULL) {
		/* One buffer, newline included, so one write carries the line. */
		len = strlen(text);
		char *grown = realloc(text, len + 2);

		if (grown == NULL)
			ok = 0;
		else {
			text = grown;
			text[len++] = '\n';
			text[len] = '\0';
		}
	}
	cJSON_Delete(o);
	if (!ok || text == NULL) {
		free(text);
		snprintf(err, errlen, "journal %s: out of memory", j->path);
		return -1;
	}
	do
		n = write(j->fd, text, len);
	while (n < 0 && errno == EINTR);
	free(text);
	if (n < 0 || (size_t)n != len) {
		/* A short write left a torn line; the next journal_open cuts it. */
		snprintf(err, errlen, "journal %s: write: %s", j->path,
		    n < 0 ? strerror(errno) : "short write (disk full?)");
		j->broken = 1;
		return -1;
	}
	/* After a failed fsync Linux may drop the dirty pages and report
	 * success to the next one, so there is no retrying: the journal is
	 * marked broken and the engine stops. */
	if (fsync(j->fd) != 0) {
		snprintf(err, errlen, "journal %s: fsync: %s", j->path, strerror(errno));
		j->broken = 1;
		return -1;
	}
	if (type != JOURNAL_HEADER)
		j->next_seq++;
	return 0;
}

int
journal_append(struct journal *j, enum journal_type type, const cJSON *fields, char *err, size_t errlen)
{
	int rc;

	if (type <= JOURNAL_HEADER || type >= JOURNAL_NTYPES) {
		snprintf(err, errlen, "journal: record type %d cannot be appended", (int)type);
		return -1;
	}
	if (fields != NULL && !cJSON_IsObject(fields)) {
		snprintf(err, errlen, "journal: the fields of a %s record must be an object", type_names[type]);
		return -1;
	}
	pthread_mutex_lock(&j->mu);
	rc = append_locked(j, type, fields, err, errlen);
	pthread_mutex_unlock(&j->mu);
	return rc;
}

/*
 * Reads the existing file through: it must be intact and this journal's,
 * and the next seq follows its last.  A torn tail is cut so that the next
 * record starts on a line of its own instead of fusing with it into a
 * corrupt middle line.  *HAVE_HEADER says whether a header survived.
 */
static int
scan_existing(struct journal *j, int *have_header, char *torn, size_t tornlen, char *err, size_t errlen)
{
	struct journal_reader *r;
	struct journal_record rec;
	int fd, rc;

	*have_header = 0;
	if ((fd = dup(j->fd)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		snprintf(err, errlen, "journal %s: %s", j->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (reader_new(fd, j->path, &r, err, errlen) != 0)
		return -1;
	while ((rc = journal_next(r, &rec, err, errlen)) == 1) {
		if (rec.type == JOURNAL_HEADER) {
			const char *name = get_str(rec.json, "name");

			if (strcmp(name, j->name) != 0) {
				snprintf(err, errlen, "journal %s: its header names '%s', not '%s'", j->path, name,
				    j->name);
				rc = -1;
				break;
			}
			*have_header = 1;
		}
		j->next_seq = rec.seq + 1;
	}
	if (rc == 0 && r->torn[0] != '\0') {
		snprintf(torn, tornlen, "%s", r->torn);
		if (ftruncate(j->fd, r->good_end) != 0 || fsync(j->fd) != 0) {
			snprintf(err, errlen, "journal %s: cutting the torn last line: %s", j->path, strerror(errno));
			rc = -1;
		}
	}
	journal_close_read(r);
	return rc;
}

struct journal *
journal_open(const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX], dir[PATH_MAX], torn[160] = "";
	struct journal *j;
	int created = 0, have_header = 0;

	if (journal_path(name, path, sizeof path, err, errlen) != 0)
		return NULL;
	snprintf(dir, sizeof dir, "%s", path);
	*strrchr(dir, '/') = '\0';
	if (make_dirs(dir, err, errlen) != 0)
		return NULL;
	if ((j = calloc(1, sizeof *j)) == NULL || (j->path = strdup(path)) == NULL
	    || (j->name = strdup(name)) == NULL) {
		snprintf(err, errlen, "journal: out of memory");
		goto fail_early;
	}
	j->fd = -1;
	j->next_seq = 1;
	if (uuid4(j->run) != 0) {
		snprintf(err, errlen, "journal: no random bytes for a run id: %s", strerror(errno));
		goto fail_early;
	}
	who_am_i(j->who, sizeof j->who);
	/* O_EXCL tells a file we create (and must fsync into its directory)
	 * from one that exists; O_NOFOLLOW refuses a planted symlink. */
	j->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (j->fd >= 0)
		created = 1;
	else if (errno == EEXIST)
		j->fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (j->fd < 0) {
		open_error(path, errno, err, errlen);
		goto fail_early;
	}
	/* The umask may have taken bits the mode asked for; fchmod sets it
	 * exactly (check_file tightens a writer's file to 0600). */
	if (created && fchmod(j->fd, 0600) != 0) {
		snprintf(err, errlen, "journal %s: chmod 600: %s", path, strerror(errno));
		goto fail_early;
	}
	if (check_file(j->fd, path, 1, err, errlen) != 0)
		goto fail_early;
	if (!created && scan_existing(j, &have_header, torn, sizeof torn, err, errlen) != 0)
		goto fail_early;
	pthread_mutex_init(&j->mu, NULL);
	if (!have_header && append_locked(j, JOURNAL_HEADER, NULL, err, errlen) != 0) {
		journal_close(j);
		return NULL;
	}
	if (created && fsync_dir(dir) != 0) {
		snprintf(err, errlen, "journal: fsync %s: %s", dir, strerror(errno));
		journal_close(j);
		return NULL;
	}
	if (torn[0] != '\0') {
		char text[256];

		snprintf(text, sizeof text, "cut off a torn last record left by an interrupted run (%s)", torn);
		if (journal_note(j, text, err, errlen) != 0) {
			journal_close(j);
			return NULL;
		}
	}
	return j;

fail_early:
	if (j != NULL) {
		if (j->fd >= 0)
			close(j->fd);
		free(j->path);
		free(j->name);
		free(j);
	}
	return NULL;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0)
		close(j->fd);
	pthread_mutex_destroy(&j->mu);
	free(j->path);
	free(j->name);
	free(j);
}

/* ---- typed records ------------------------------------------------------- */

/* Adds free text, redacted: callers pass no secrets, but a token pasted
 * into an error message by a library must still not reach the disk. */
static int
add_text(cJSON *o, const char *key, const char *text)
{
	char *copy;
	int ok;

	if (text == NULL)
		return 1;
	if ((copy = strdup(text)) == NULL)
		return 0;
	ok = cJSON_AddStringToObject(o, key, log_redact(copy)) != NULL;
	free(copy);
	return ok;
}

/* Appends O (a record's fields, taken over) when BUILT, or fails. */
static int
append_built(struct journal *j, enum journal_type t, cJSON *o, int built, char *err, size_t errlen)
{
	int rc = -1;

	if (o != NULL && built)
		rc = journal_append(j, t, o, err, errlen);
	else
		snprintf(err, errlen, "journal: out of memory building a %s record", type_names[t]);
	cJSON_Delete(o);
	return rc;
}

int
journal_run_start(struct journal *j, const char *config_path, const char *blue, const char *green,
    char *err, size_t errlen)
{
	char sum[65], *abs;
	cJSON *o;
	int built;

	if (sha256_file(config_path, sum, err, errlen) != 0)
		return -1;
	/* Absolute, so that history still names the file from another
	 * working directory. */
	abs = realpath(config_path, NULL);
	o = cJSON_CreateObject();
	built = o != NULL && cJSON_AddStringToObject(o, "config", abs != NULL ? abs : config_path) != NULL;
	free(abs);
	return append_built(j, JOURNAL_RUN_START, o, built
	    && cJSON_AddStringToObject(o, "sha256", sum) != NULL
	    && cJSON_AddStringToObject(o, "blue", blue != NULL ? blue : "") != NULL
	    && cJSON_AddStringToObject(o, "green", green != NULL ? green : "") != NULL
	    && cJSON_AddStringToObject(o, "who", j->who) != NULL
	    && cJSON_AddNumberToObject(o, "pid", (double)getpid()) != NULL, err, errlen);
}

int
journal_stage(struct journal *j, int stage, enum journal_stage_state state, const char *detail,
    char *err, size_t errlen)
{
	cJSON *o;

	if (journal_stage_name(stage) == NULL || journal_stage_state_name(state) == NULL) {
		snprintf(err, errlen, "journal: no stage T%d or state %d", stage, (int)state);
		return -1;
	}
	o = cJSON_CreateObject();
	return append_built(j, JOURNAL_STAGE, o, o != NULL
	    && cJSON_AddStringToObject(o, "stage", stage_names[stage]) != NULL
	    && cJSON_AddStringToObject(o, "state", state_names[state]) != NULL
	    && add_text(o, "detail", detail), err, errlen);
}

int
journal_intent(struct journal *j, const char *what, const cJSON *before, const cJSON *after,
    uint64_t *action, char *err, size_t errlen)
{
	cJSON *o, *b, *a;
	uint64_t seq;
	int rc = -1, built;

	if (what == NULL) {
		snprintf(err, errlen, "journal: an intent needs what it changes");
		return -1;
	}
	/* The action id is the intent's own seq, known only under the lock,
	 * so the record is assembled there. */
	pthread_mutex_lock(&j->mu);
	seq = j->next_seq;
	o = cJSON_CreateObject();
	built = o != NULL && cJSON_AddNumberToObject(o, "action", (double)seq) != NULL
	    && cJSON_AddStringToObject(o, "what", what) != NULL;
	b = before != NULL ? cJSON_Duplicate(before, 1) : cJSON_CreateNull();
	if (!built || b == NULL || !cJSON_AddItemToObject(o, "before", b)) {
		cJSON_Delete(b);
		built = 0;
	}
	a = after != NULL ? cJSON_Duplicate(after, 1) : cJSON_CreateNull();
	if (!built || a == NULL || !cJSON_AddItemToObject(o, "after", a)) {
		cJSON_Delete(a);
		built = 0;
	}
	if (built)
		rc = append_locked(j, JOURNAL_INTENT, o, err, errlen);
	else
		snprintf(err, errlen, "journal: out of memory building an intent record");
	pthread_mutex_unlock(&j->mu);
	cJSON_Delete(o);
	if (rc == 0 && action != NULL)
		*action = seq;
	return rc;
}

int
journal_outcome(struct journal *j, uint64_t action, int ok, const cJSON *after, const char *error,
    char *err, size_t errlen)
{
	cJSON *o = cJSON_CreateObject(), *a = after != NULL ? cJSON_Duplicate(after, 1) : cJSON_CreateNull();
	int built = o != NULL && cJSON_AddNumberToObject(o, "action", (double)action) != NULL
	    && cJSON_AddBoolToObject(o, "ok", ok != 0) != NULL;

	if (!built || a == NULL || !cJSON_AddItemToObject(o, "after", a)) {
		cJSON_Delete(a);
		built = 0;
	}
	return append_built(j, JOURNAL_OUTCOME, o, built && add_text(o, "error", error), err, errlen);
}

int
journal_confirm(struct journal *j, enum journal_gate gate, const char *who, const char *answer,
    char *err, size_t errlen)
{
	cJSON *o;

	if (journal_gate_name(gate) == NULL) {
		snprintf(err, errlen, "journal: no gate %d", (int)gate);
		return -1;
	}
	o = cJSON_CreateObject();
	return append_built(j, JOURNAL_CONFIRM, o, o != NULL
	    && cJSON_AddStringToObject(o, "gate", gate_names[gate]) != NULL
	    && cJSON_AddStringToObject(o, "who", who != NULL ? who : j->who) != NULL
	    && add_text(o, "answer", answer != NULL ? answer : ""), err, errlen);
}

int
journal_check(struct journal *j, const char *name, int ok, const char *value, const char *threshold,
    char *err, size_t errlen)
{
	cJSON *o = cJSON_CreateObject();

	return append_built(j, JOURNAL_CHECK, o, o != NULL && name != NULL
	    && cJSON_AddStringToObject(o, "name", name) != NULL
	    && cJSON_AddBoolToObject(o, "ok", ok != 0) != NULL
	    && add_text(o, "value", value != NULL ? value : "")
	    && add_text(o, "threshold", threshold != NULL ? threshold : ""), err, errlen);
}

int
journal_rollback(struct journal *j, const char *reason, int automatic, char *err, size_t errlen)
{
	cJSON *o = cJSON_CreateObject();

	return append_built(j, JOURNAL_ROLLBACK, o, o != NULL
	    && add_text(o, "reason", reason != NULL ? reason : "")
	    && cJSON_AddBoolToObject(o, "automatic", automatic != 0) != NULL, err, errlen);
}

int
journal_run_end(struct journal *j, enum journal_result result, char *err, size_t errlen)
{
	cJSON *o;

	if (journal_result_name(result) == NULL) {
		snprintf(err, errlen, "journal: no result %d", (int)result);
		return -1;
	}
	o = cJSON_CreateObject();
	return append_built(j, JOURNAL_RUN_END, o, o != NULL
	    && cJSON_AddStringToObject(o, "result", result_names[result]) != NULL, err, errlen);
}

int
journal_note(struct journal *j, const char *text, char *err, size_t errlen)
{
	cJSON *o = cJSON_CreateObject();

	return append_built(j, JOURNAL_NOTE, o, o != NULL && add_text(o, "text", text != NULL ? text : ""),
	    err, errlen);
}

int
journal_intent_for(struct journal *j, const char *what, const char *subject, const cJSON *before,
    const cJSON *after, uint64_t *action, char *err, size_t errlen)
{
	char why[600] = "";

	if (before == NULL || after == NULL) {
		util_errf(err, errlen, "%s not changed: out of memory", subject);
		return -1;
	}
	if (journal_intent(j, what, before, after, action, why, sizeof why) != 0) {
		util_errf(err, errlen, "%s not changed: the journal could not record the intent (%s)",
		    subject, why);
		log_warn("journal", "%s", err);
		return -1;
	}
	return 0;
}

int
journal_outcome_for(struct journal *j, uint64_t action, int rc, const cJSON *seen, const char *why,
    char *err, size_t errlen)
{
	char jerr[600] = "";

	if (journal_outcome(j, action, rc == 0, seen, rc == 0 ? NULL : why, jerr, sizeof jerr) == 0) {
		if (rc != 0)
			util_errf(err, errlen, "%s", why);
		return 0;
	}
	log_warn("journal", "outcome of action %llu not recorded: %s", (unsigned long long)action, jerr);
	if (rc != 0)
		util_errf(err, errlen, "%s; and the journal could not record that outcome (%s)", why, jerr);
	else
		util_errf(err, errlen, "the change was made but the journal could not record its outcome "
		    "(%s); resume will reconcile it with ARM", jerr);
	return -1;
}

/* ---- runs and the reconcile view ----------------------------------------- */

/* One pass over a file that fills both the runs and the view. */
struct scan {
	struct journal_run *runs;
	size_t nruns, cap;
	struct journal_view view;
};

static char *
dup_or_empty(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static struct journal_run *
run_for(struct scan *s, const char *id, const char *ts)
{
	struct journal_run *r;

	/* Runs follow one another (the lock), so the last is the usual hit. */
	for (size_t i = s->nruns; i-- > 0;)
		if (strcmp(s->runs[i].id, id) == 0)
			return &s->runs[i];
	if (s->nruns == s->cap) {
		size_t cap = s->cap != 0 ? 2 * s->cap : 8;
		struct journal_run *grown = realloc(s->runs, cap * sizeof *grown);

		if (grown == NULL)
			return NULL;
		s->runs = grown;
		s->cap = cap;
	}
	r = &s->runs[s->nruns];
	memset(r, 0, sizeof *r);
	snprintf(r->id, sizeof r->id, "%s", id);
	snprintf(r->started, sizeof r->started, "%s", ts);
	r->stage = -1;
	if ((r->who = dup_or_empty(NULL)) == NULL || (r->config = dup_or_empty(NULL)) == NULL
	    || (r->blue = dup_or_empty(NULL)) == NULL || (r->green = dup_or_empty(NULL)) == NULL) {
		free(r->who);
		free(r->config);
		free(r->blue);
		return NULL;
	}
	s->nruns++;
	return r;
}

static int
replace(char **dst, const char *src)
{
	char *c = dup_or_empty(src);

	if (c == NULL)
		return -1;
	free(*dst);
	*dst = c;
	return 0;
}

static void
pending_free(struct journal_pending *p)
{
	free(p->what);
	cJSON_Delete(p->before);
	cJSON_Delete(p->after);
}

/* The switchover in progress starts afresh after a run that left traffic
 * settled: done (green live) or rolled back (blue live). */
static void
view_reset_switchover(struct journal_view *v)
{
	for (size_t i = 0; i < v->npending; i++)
		pending_free(&v->pending[i]);
	free(v->pending);
	v->pending = NULL;
	v->npending = 0;
	cJSON_Delete(v->gateway_before);
	cJSON_Delete(v->dns_before);
	v->gateway_before = v->dns_before = NULL;
	memset(v->stage_done, 0, sizeof v->stage_done);
	memset(v->stage_done_ts, 0, sizeof v->stage_done_ts);
	v->switch_confirmed = v->teardown_confirmed = 0;
	v->rollback_started = v->teardown_started = v->frozen = 0;
}

static int
view_record(struct journal_view *v, const struct journal_record *rec)
{
	const cJSON *o = rec->json;
	uint64_t action = 0;

	if (rec->type == JOURNAL_INTENT) {
		const char *what = get_str(o, "what");
		struct journal_pending *grown = realloc(v->pending, (v->npending + 1) * sizeof *grown), *p;

		if (grown == NULL)
			return -1;
		v->pending = grown;
		p = &v->pending[v->npending];
		memset(p, 0, sizeof *p);
		get_uint(o, "action", &p->action);
		snprintf(p->run, sizeof p->run, "%s", rec->run);
		p->what = strdup(what);
		p->before = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(o, "before"), 1);
		p->after = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(o, "after"), 1);
		if (p->what == NULL || p->before == NULL || p->after == NULL) {
			pending_free(p);
			return -1;
		}
		v->npending++;
		if (strcmp(what, "freeze") == 0)
			v->frozen = 1;
		else if (strcmp(what, "unfreeze") == 0)
			v->frozen = 0;
		/* Rollback restores what traffic was before the first change of
		 * this switchover, not before the latest step. */
		cJSON **first = strcmp(what, "gateway-weights") == 0 ? &v->gateway_before
		    : strcmp(what, "dns-record") == 0 ? &v->dns_before : NULL;
		if (first != NULL && *first == NULL && (*first = cJSON_Duplicate(p->before, 1)) == NULL)
			return -1;
	} else if (rec->type == JOURNAL_OUTCOME && get_uint(o, "action", &action) == 0) {
		const cJSON *ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
		const cJSON *after = cJSON_GetObjectItemCaseSensitive(o, "after");

		/* A failed outcome without an observed after means the action's
		 * effect is unknown (the write may have landed): the intent stays
		 * pending, so a resume asks ARM rather than assuming. */
		if (!cJSON_IsTrue(ok) && (after == NULL || cJSON_IsNull(after)))
			return 0;
		for (size_t i = 0; i < v->npending; i++)
			if (v->pending[i].action == action) {
				pending_free(&v->pending[i]);
				memmove(&v->pending[i], &v->pending[i + 1], (v->npending - i - 1) * sizeof *v->pending);
				v->npending--;
				break;
			}
	} else if (rec->type == JOURNAL_STAGE) {
		int st = index_of(stage_names, NELEM(stage_names), get_str(o, "stage"));
		int state = index_of(state_names, NELEM(state_names), get_str(o, "state"));

		if (st >= 0 && state == JOURNAL_DONE) {
			v->stage_done[st] = 1;
			snprintf(v->stage_done_ts[st], sizeof v->stage_done_ts[st], "%s", rec->ts);
		}
		if (st == 4 && state == JOURNAL_ENTERED)
			v->teardown_started = 1;
	} else if (rec->type == JOURNAL_CONFIRM) {
		int g = index_of(gate_names, NELEM(gate_names), get_str(o, "gate"));

		if (g == JOURNAL_GATE_SWITCH)
			v->switch_confirmed = 1;
		else if (g == JOURNAL_GATE_TEARDOWN)
			v->teardown_confirmed = 1;
	} else if (rec->type == JOURNAL_ROLLBACK) {
		v->rollback_started = 1;
	} else if (rec->type == JOURNAL_RUN_END) {
		int res = index_of(result_names, NELEM(result_names), get_str(o, "result"));

		if (res == JOURNAL_RESULT_DONE || res == JOURNAL_RESULT_ROLLED_BACK)
			view_reset_switchover(v);
	}
	return 0;
}

static int
run_record(struct scan *s, const struct journal_record *rec)
{
	const cJSON *o = rec->json;
	struct journal_run *r = run_for(s, rec->run, rec->ts);
	long long a, b;

	if (r == NULL)
		return -1;
	snprintf(r->last, sizeof r->last, "%s", rec->ts);
	a = journal_ts_ms(r->started);
	b = journal_ts_ms(r->last);
	r->duration_ms = a >= 0 && b >= a ? b - a : 0;
	switch (rec->type) {
	case JOURNAL_RUN_START:
		r->pid = (long)cJSON_GetObjectItemCaseSensitive(o, "pid")->valuedouble;
		return replace(&r->who, get_str(o, "who")) != 0 || replace(&r->config, get_str(o, "config")) != 0
		    || replace(&r->blue, get_str(o, "blue")) != 0 || replace(&r->green, get_str(o, "green")) != 0
		    ? -1 : 0;
	case JOURNAL_STAGE:
		r->stage = index_of(stage_names, NELEM(stage_names), get_str(o, "stage"));
		r->state = (enum journal_stage_state)index_of(state_names, NELEM(state_names), get_str(o, "state"));
		break;
	case JOURNAL_RUN_END:
		r->ended = 1;
		r->result = (enum journal_result)index_of(result_names, NELEM(result_names), get_str(o, "result"));
		break;
	default:
		break;
	}
	return 0;
}

static int
scan_file(const char *path, struct scan *s, char *err, size_t errlen)
{
	struct journal_reader *r;
	struct journal_record rec;
	int rc;

	memset(s, 0, sizeof *s);
	s->view.stage = -1;
	if ((rc = journal_open_read(path, &r, err, errlen)) != 0)
		return rc == JOURNAL_NOENT ? 0 : -1;
	while ((rc = journal_next(r, &rec, err, errlen)) == 1) {
		if (rec.type == JOURNAL_HEADER)
			continue;
		if (run_record(s, &rec) != 0 || view_record(&s->view, &rec) != 0) {
			snprintf(err, errlen, "journal %s: out of memory", path);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && r->torn[0] != '\0')
		snprintf(s->view.torn, sizeof s->view.torn, "%s", r->torn);
	journal_close_read(r);
	return rc;
}

void
journal_runs_free(struct journal_run *runs, size_t nruns)
{
	for (size_t i = 0; i < nruns; i++) {
		free(runs[i].who);
		free(runs[i].config);
		free(runs[i].blue);
		free(runs[i].green);
	}
	free(runs);
}

void
journal_view_free(struct journal_view *v)
{
	view_reset_switchover(v);
}

int
journal_runs(const char *path, struct journal_run **runs, size_t *nruns, char *torn, size_t tornlen,
    char *err, size_t errlen)
{
	struct scan s;
	int rc = scan_file(path, &s, err, errlen);

	journal_view_free(&s.view);
	*runs = NULL;
	*nruns = 0;
	if (torn != NULL && tornlen > 0)
		snprintf(torn, tornlen, "%s", s.view.torn);
	if (rc != 0) {
		journal_runs_free(s.runs, s.nruns);
		return -1;
	}
	*runs = s.runs;
	*nruns = s.nruns;
	return 0;
}

int
journal_view_load(const char *path, struct journal_view *v, char *err, size_t errlen)
{
	struct scan s;
	int rc = scan_file(path, &s, err, errlen);

	*v = s.view;
	if (rc == 0 && s.nruns > 0) {
		const struct journal_run *last = &s.runs[s.nruns - 1];

		v->has_run = 1;
		snprintf(v->run, sizeof v->run, "%s", last->id);
		v->stage = last->stage;
		v->state = last->state;
		v->ended = last->ended;
		v->result = last->result;
	}
	journal_runs_free(s.runs, s.nruns);
	if (rc != 0) {
		journal_view_free(v);
		return -1;
	}
	return 0;
}
