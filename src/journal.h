/*
 * journal.h — the switchover journal: an append-only, fsync'd record of
 * every run, stage, confirmation, check and change to traffic.
 *
 * One file per switchover, $XDG_STATE_HOME/bgswitch/NAME.journal (mode
 * 0600, its directory 0700), one JSON object per line.  The engine writes
 * an intent record (the full "before" and the planned "after") and acts
 * only once journal_intent() has returned, so that after a crash resume and
 * rollback know what was about to change and what to put back (PRODUCT.md
 * §6).  The format is documented in bgswitch(1), JOURNAL.
 *
 * Concurrency: appends from threads of one process are serialized by a
 * mutex in the handle.  Other processes are kept out by the switchover lock
 * (src/lock.c), which the engine holds while a journal is open for writing;
 * the journal takes no file lock of its own.  Readers (history, status) may
 * read while a run writes: every record reaches the file in one write(2),
 * and a reader that catches the last line half-written sees it as torn.
 *
 * Secrets: callers pass none.  Free-text fields (details, errors, answers,
 * reasons, notes, check values) still go through log_redact() as a second
 * line of defence; "before" and "after" documents are written as given.
 */
#ifndef BGSWITCH_JOURNAL_H
#define BGSWITCH_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define JOURNAL_VERSION 1	/* the "v" of every record this build writes and reads */

enum journal_type {
	JOURNAL_HEADER,		/* "journal": the first line of a file */
	JOURNAL_RUN_START,	/* "run-start" */
	JOURNAL_STAGE,		/* "stage" */
	JOURNAL_INTENT,		/* "intent": a change about to be made */
	JOURNAL_OUTCOME,	/* "outcome": what became of an intent */
	JOURNAL_CONFIRM,	/* "confirm": an operator's answer at a gate */
	JOURNAL_CHECK,		/* "check" */
	JOURNAL_ROLLBACK,	/* "rollback" */
	JOURNAL_RUN_END,	/* "run-end" */
	JOURNAL_NOTE,		/* "note" */
	JOURNAL_NTYPES
};

enum journal_stage_state { JOURNAL_ENTERED, JOURNAL_DONE, JOURNAL_FAILED, JOURNAL_SKIPPED };
enum journal_gate { JOURNAL_GATE_SWITCH, JOURNAL_GATE_TEARDOWN, JOURNAL_GATE_ROLLBACK };
enum journal_result {
	JOURNAL_RESULT_DONE, JOURNAL_RESULT_ROLLED_BACK, JOURNAL_RESULT_FAILED,
	JOURNAL_RESULT_ABORTED, JOURNAL_RESULT_PAUSED,
};

/* Names as written in the file; NULL when out of range. */
const char *journal_type_name(enum journal_type t);	/* "run-start", ... */
const char *journal_stage_name(int stage);		/* 0..4 -> "T0".."T4" */
const char *journal_stage_state_name(enum journal_stage_state s);	/* "entered", ... */
const char *journal_gate_name(enum journal_gate g);	/* "switch", ... */
const char *journal_result_name(enum journal_result r);	/* "done", "rolled-back", ... */

/* The time stamps records carry: now as "2026-05-01T10:00:00.123Z" (UTC,
 * milliseconds), and such a stamp (with or without the fraction) as
 * milliseconds since the epoch, -1 if malformed. */
void journal_now_ts(char out[32]);
long long journal_ts_ms(const char *ts);

/* PATH of NAME's journal: $XDG_STATE_HOME/bgswitch/NAME.journal, with
 * $HOME/.local/state when XDG_STATE_HOME is unset or not absolute.  Returns 0,
 * or -1 with ERR (no HOME, a NAME that cannot be a file name, too long). */
int journal_path(const char *name, char *path, size_t pathlen, char *err, size_t errlen);

/* ---- writing ----------------------------------------------------------- */

struct journal;

/* Opens NAME's journal for this run, creating directories (0700) and the
 * file (0600, with its header) as needed, and gives the run a fresh UUID.
 * An existing file is read through first: it must be ours, not writable by
 * group or others, of a version this build knows and intact; a torn last
 * line left by a crash (never acknowledged to its writer) is cut off.
 * Returns NULL with ERR otherwise. */
struct journal *journal_open(const char *name, char *err, size_t errlen);
/* Closes the file; records already appended are on disk. */
void journal_close(struct journal *j);
const char *journal_run_id(const struct journal *j);	/* "xxxxxxxx-xxxx-4xxx-..." */
const char *journal_file(const struct journal *j);	/* the journal's path */

/*
 * Every append writes one line with one write(2) and returns 0 only after
 * fsync(2) succeeded: the record survives a crash from then on.  -1 with ERR
 * otherwise, and the handle refuses every later append, because after a
 * failed write or fsync what reached the disk is unknown (the engine stops).
 */

/* A record of TYPE with the caller's FIELDS (members copied after v, seq,
 * ts, run and type; NULL for none).  The typed helpers below are the usual
 * way in; this one is for them and for tests. */
int journal_append(struct journal *j, enum journal_type type, const cJSON *fields,
    char *err, size_t errlen);

/* run-start: CONFIG_PATH and the sha256 of its bytes, the blue and green
 * cluster names, who (user@host) and the pid. */
int journal_run_start(struct journal *j, const char *config_path, const char *blue,
    const char *green, char *err, size_t errlen);
/* stage: STAGE 0..4 (T0..T4) reached STATE; DETAIL may be NULL. */
int journal_stage(struct journal *j, int stage, enum journal_stage_state state,
    const char *detail, char *err, size_t errlen);
/* intent: WHAT ("gateway-weights", "dns-record", "cluster-create",
 * "cluster-delete", ...) is about to change from BEFORE (the full current
 * document) to AFTER (the planned one).  *ACTION gets the id to pass to
 * journal_outcome(): the intent's seq, unique in the file. */
int journal_intent(struct journal *j, const char *what, const cJSON *before,
    const cJSON *after, uint64_t *action, char *err, size_t errlen);
/* outcome of ACTION: OK or not, AFTER as actually found (NULL: unknown),
 * ERROR (NULL when OK).  Also closes an intent of an earlier run that the
 * engine reconciled with ARM. */
int journal_outcome(struct journal *j, uint64_t action, int ok, const cJSON *after,
    const char *error, char *err, size_t errlen);
/* confirm: at GATE, WHO (NULL: this process's user@host) answered ANSWER
 * (the typed text; never a secret). */
int journal_confirm(struct journal *j, enum journal_gate gate, const char *who,
    const char *answer, char *err, size_t errlen);
/* check NAME: OK, with the measured VALUE and THRESHOLD as shown ("0.8%"). */
int journal_check(struct journal *j, const char *name, int ok, const char *value,
    const char *threshold, char *err, size_t errlen);
int journal_rollback(struct journal *j, const char *reason, int automatic, char *err, size_t errlen);
int journal_run_end(struct journal *j, enum journal_result result, char *err, size_t errlen);
int journal_note(struct journal *j, const char *text, char *err, size_t errlen);

/*
 * The two ends of a change as every module that changes things words them
 * for the operator.  journal_intent_for: journal_intent() with ERR saying
 * "SUBJECT not changed: the journal could not record the intent (...)";
 * 0 or -1 (then nothing may be changed).  journal_outcome_for: the outcome
 * of ACTION whose change returned RC (0 done) with WHY; 0 when recorded
 * (ERR = WHY when RC != 0), -1 when the journal did not take it (ERR says
 * what happened to the change and that resume will reconcile it with ARM).
 */
int journal_intent_for(struct journal *j, const char *what, const char *subject,
    const cJSON *before, const cJSON *after, uint64_t *action, char *err, size_t errlen);
int journal_outcome_for(struct journal *j, uint64_t action, int rc, const cJSON *seen,
    const char *why, char *err, size_t errlen);

/* ---- reading ----------------------------------------------------------- */

#define JOURNAL_NOENT 1		/* returned by readers: there is no journal file */

struct journal_reader;

struct journal_record {
	long line;		/* 1-based line in the file */
	uint64_t seq;
	enum journal_type type;
	const char *ts;		/* RFC 3339 UTC; the header's "created" */
	const char *run;	/* "" for the header */
	const cJSON *json;	/* the whole record; valid until the next call */
};

/* Opens PATH for reading.  Returns 0, JOURNAL_NOENT, or -1 with ERR (not
 * ours, writable by others, not a regular file, unreadable). */
int journal_open_read(const char *path, struct journal_reader **r, char *err, size_t errlen);
/* The next record: 1 with *REC, 0 at the end, -1 with ERR naming the line
 * for a corrupt record (not JSON, missing or mistyped fields, seq not
 * increasing) or a format version newer than JOURNAL_VERSION.  A torn last
 * line is not an error: it ends the file and journal_reader_torn() says so. */
int journal_next(struct journal_reader *r, struct journal_record *rec, char *err, size_t errlen);
/* NULL, or what was ignored at the end ("line 9: 23 bytes without a
 * newline"), once journal_next() returned 0. */
const char *journal_reader_torn(const struct journal_reader *r);
void journal_close_read(struct journal_reader *r);

/* One run, as journal_runs() sums it up. */
struct journal_run {
	char id[40];
	char started[32];	/* ts of its first record */
	char last[32];		/* ts of its last record */
	char *who, *config, *blue, *green;	/* "" when the run-start is missing */
	long pid;
	int stage;		/* last stage reached, -1 if none */
	enum journal_stage_state state;
	int ended;		/* a run-end was written */
	enum journal_result result;
	long long duration_ms;	/* first to last record (in progress: so far as recorded) */
};

/* The runs of PATH, oldest first, in *RUNS (free with journal_runs_free).
 * No file: 0 with no runs.  TORN (may be NULL) gets the reader's torn note
 * or "".  -1 with ERR for a journal that cannot be read. */
int journal_runs(const char *path, struct journal_run **runs, size_t *nruns,
    char *torn, size_t tornlen, char *err, size_t errlen);
void journal_runs_free(struct journal_run *runs, size_t nruns);

/* An intent with no outcome: the engine must find out from ARM whether it
 * happened, then write the outcome. */
struct journal_pending {
	uint64_t action;
	char run[40];
	char *what;
	cJSON *before, *after;
};

/*
 * What the engine needs to resume or roll back.  The latest run's position,
 * and for the switchover in progress — the runs since the last one that
 * ended done or rolled-back, since a resumed run is a new run of the same
 * switchover — the intents without an outcome and the traffic "before" of
 * the first gateway-weights and dns-record intents: what rollback restores.
 * A failed outcome with no observed "after" leaves its intent pending: the
 * write may have landed, so only ARM can say.
 */
struct journal_view {
	int has_run;
	char run[40];		/* the latest run */
	int stage;		/* its last stage, -1 if none */
	enum journal_stage_state state;
	int ended;
	enum journal_result result;
	struct journal_pending *pending;	/* oldest first */
	size_t npending;
	cJSON *gateway_before, *dns_before;	/* NULL: not changed in this switchover */
	/* Where the switchover in progress got to, over all its runs: what
	 * a resumed run skips and which gates it does not ask again. */
	int stage_done[5];	/* a "done" stage record for T0..T4 */
	char stage_done_ts[5][32];	/* the ts of the latest one, "" if none */
	int switch_confirmed, teardown_confirmed;	/* a confirm record at that gate */
	int rollback_started;	/* a rollback record (the switchover then ends rolled back) */
	int teardown_started;	/* stage T4 entered */
	int frozen;		/* a "freeze" intent with no "unfreeze" intent after it */
	char torn[160];		/* "" or the reader's torn note */
};

/* Fills *V from PATH (no file: an empty view, 0).  -1 with ERR. */
int journal_view_load(const char *path, struct journal_view *v, char *err, size_t errlen);
void journal_view_free(struct journal_view *v);

#endif
