/*
 * provision.c — T1 (green made to exist) and T4 (blue taken away), each
 * change journaled before it is made (PRODUCT.md §6).
 *
 * Every change has the same shape as T3's in traffic.c: read the cluster,
 * append an intent with what ARM showed as "before" (journal_intent
 * returns once the line is fsync'd), make the change, then append the
 * outcome with the cluster as read back.  When a call fails, the cluster
 * is read once more: what ARM then shows goes into the outcome, unless the
 * failure leaves the effect open (no answer to a PUT that may still land),
 * in which case the outcome has no "after", the intent stays pending in
 * the journal's view, and prov_reconcile() settles it on resume.
 *
 * The one rule that matters most here: never PUT a cluster that exists.
 * Green is only created after a GET answered 404, and the PUT carries
 * If-None-Match: * so that ARM itself refuses if one appeared since; a run
 * resumed after a crash anywhere finds green by its GET and waits for it
 * or reuses it.  An existing green is never "fixed": Failed, Canceled or
 * another Kubernetes version is an error for the operator to resolve.
 */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "src/conn.h"
#include "src/http.h"
#include "src/log.h"
#include "src/proc.h"
#include "src/provision.h"
#include "src/util.h"

#define MOD "provision"

#define PROV_POLL_MS		5000
#define PROV_WAIT_MS		(60L * 60 * 1000)
#define PROV_COMMAND_MS		(60L * 60 * 1000)
#define PROV_SAY_EVERY_MS	30000	/* a progress line at least this often */
#define PROV_NAP_SLICE_MS	50	/* cancel is noticed within this while waiting */

static void say(struct prov_ctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The log and, when asked for, the caller's line. */
static void
say(struct prov_ctx *p, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_info(MOD, "%s", line);
	if (p->log != NULL) {
		log_redact(line);
		p->log(p->log_ctx, line);
	}
}

static int
cancelled(const struct prov_ctx *p)
{
	return p->cancel != NULL && *p->cancel != 0;
}

static const char *
cl_name(const struct prov_ctx *p, enum cfg_role role)
{
	return p->conn->cfg->clusters[role].name;
}

static const char *
cl_id(const struct prov_ctx *p, enum cfg_role role)
{
	return p->conn->cluster_id[role];
}

static int
valid(const struct prov_ctx *p, int writes)
{
	return p != NULL && p->conn != NULL && p->conn->cfg != NULL && p->conn->arm != NULL
	    && (!writes || p->journal != NULL)
	    && cl_id(p, CFG_BLUE)[0] != '\0' && cl_id(p, CFG_GREEN)[0] != '\0';
}

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- cluster states -------------------------------------------------------------- */

/* Creating, Updating, Deleting, Stopping, Upgrading, ...: an operation
 * runs.  An empty state is not waited for (it would never change). */
static int
busy_state(const char *s)
{
	return s[0] != '\0' && strcasecmp(s, "Succeeded") != 0 && strcasecmp(s, "Failed") != 0
	    && strcasecmp(s, "Canceled") != 0;
}

static int
failed_state(const char *s)
{
	return strcasecmp(s, "Failed") == 0 || strcasecmp(s, "Canceled") == 0;
}

static const char *
running_version(const struct aks_summary *s)
{
	return s->current_kubernetes_version[0] ? s->current_kubernetes_version
	    : s->kubernetes_version;
}

/* Whether HAVE is the version WANT asks for: the same, or WANT is
 * MAJOR.MINOR and HAVE a patch of it.  No WANT: any. */
static int
version_matches(const char *want, const char *have)
{
	size_t n;

	if (want == NULL || *want == '\0')
		return 1;
	if (strcmp(want, have) == 0)
		return 1;
	n = strlen(want);
	return strchr(want, '.') == strrchr(want, '.') && strncmp(have, want, n) == 0
	    && have[n] == '.';
}

/* ---- journal documents --------------------------------------------------------------- */

/* The cluster as the journal records it: aks_status_json plus its id. */
static cJSON *
cluster_doc(const struct aks_summary *s, const char *id)
{
	cJSON *o = aks_status_json(s);

	if (o != NULL && cJSON_AddStringToObject(o, "id", id) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *
absent_doc(const char *id, const char *name)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || cJSON_AddStringToObject(o, "id", id) == NULL
	    || cJSON_AddStringToObject(o, "name", name) == NULL
	    || cJSON_AddFalseToObject(o, "exists") == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The program and how many arguments follow it: never the arguments. */
static cJSON *
command_doc(char *const *argv)
{
	cJSON *o = cJSON_CreateObject();
	int n = 0;

	while (argv[n] != NULL)
		n++;
	if (o == NULL || cJSON_AddStringToObject(o, "program", argv[0]) == NULL
	    || cJSON_AddNumberToObject(o, "args", n - 1) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* {KEY: VALUE}. */
static cJSON *
one_member(const char *key, const char *value)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || cJSON_AddStringToObject(o, key, value) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int
intent(struct prov_ctx *p, const char *what, const char *subject, const cJSON *before,
    const cJSON *after, uint64_t *action, char *err, size_t errlen)
{
	return journal_intent_for(p->journal, what, subject, before, after, action, err, errlen) == 0
	    ? 0 : PROV_E_JOURNAL;
}

/* Records the outcome of ACTION (RC the change's result, WHY its error,
 * SEEN what was read back: NULL is unknown, which leaves the intent
 * pending).  Returns RC, or PROV_E_JOURNAL when the change worked but the
 * journal did not take its outcome; ERR says all. */
static int
outcome(struct prov_ctx *p, uint64_t action, int rc, const cJSON *seen, const char *why,
    char *err, size_t errlen)
{
	if (journal_outcome_for(p->journal, action, rc, seen, why, err, errlen) == 0 || rc != 0)
		return rc;
	return PROV_E_JOURNAL;
}

/* ---- ARM calls ------------------------------------------------------------------------- */

/* The options of one long-running call: the caller's, with our progress
 * line, and a cancel token fired from the flag when the caller has none. */
struct call {
	struct prov_ctx *p;
	struct arm_opts o;
	struct http_cancel *own;
	char status[48];
	long long said_ms;
};

static void
on_progress(void *ctx, const struct arm_progress *pr)
{
	struct call *c = ctx;
	const struct arm_opts *up = c->p->arm_opts;
	const char *st = pr->status != NULL ? pr->status : "";
	long long now = http_now_ms();
	char pct[32] = "";

	if (up != NULL && up->progress != NULL)
		up->progress(up->progress_ctx, pr);
	if (c->own != NULL && cancelled(c->p))
		http_cancel_fire(c->own);
	if (strcmp(c->status, st) == 0 && now - c->said_ms < PROV_SAY_EVERY_MS)
		return;
	snprintf(c->status, sizeof c->status, "%s", st);
	c->said_ms = now;
	if (pr->percent >= 0)
		snprintf(pct, sizeof pct, " %.0f %%", pr->percent);
	say(c->p, "%s %s: %s%s, %.0f s", pr->method, pr->resource, st[0] ? st : "in progress", pct,
	    pr->elapsed_s);
}

static void
call_begin(struct call *c, struct prov_ctx *p)
{
	memset(c, 0, sizeof *c);
	c->p = p;
	if (p->arm_opts != NULL)
		c->o = *p->arm_opts;
	c->o.progress = on_progress;
	c->o.progress_ctx = c;
	c->said_ms = http_now_ms();
	if (c->o.cancel == NULL && p->cancel != NULL) {
		c->own = http_cancel_new();
		c->o.cancel = c->own;
	}
}

static void
call_end(struct call *c)
{
	if (c->own != NULL)
		http_cancel_free(c->own);
	c->own = NULL;
}

/* A failed call whose effect ARM has settled: it answered with an error,
 * the operation ended Failed, or nothing was sent. */
static int
definite(int rc)
{
	return rc == ARM_E_STATUS || rc == ARM_E_OPERATION || rc == ARM_E_PRECONDITION
	    || rc == ARM_E_AUTH || rc == ARM_E_INVALID || rc == AKS_E_INVALID;
}

/* The cluster ID (called NAME) as ARM shows it now, for an outcome:
 * *EXISTS 1 (and *OUT filled when given) or 0, or NULL and -1 when it
 * cannot be read. */
static cJSON *
observe(struct prov_ctx *p, const char *id, const char *name, int *exists,
    struct aks_summary *out)
{
	struct aks_summary s;
	char why[1024] = "";
	cJSON *d = NULL;
	int rc = aks_get(p->conn->arm, id, p->arm_opts, NULL, &s, why, sizeof why);

	*exists = -1;
	if (rc == 0) {
		d = cluster_doc(&s, id);
		*exists = 1;
	} else if (rc == AKS_E_NOT_FOUND) {
		d = absent_doc(id, name);
		*exists = 0;
	} else {
		log_warn(MOD, "cluster %s could not be read back: %s", name, why);
	}
	if (out != NULL && rc == 0)
		*out = s;
	else
		aks_summary_free(&s);
	return d;
}

/* Sleeps MS, or less when the deadline comes first (PROV_E_TIMEOUT) or
 * the cancel flag is set (PROV_E_CANCELLED). */
static int
nap(struct prov_ctx *p, long ms, long long deadline)
{
	long long until = http_now_ms() + ms;

	for (;;) {
		long long now = http_now_ms(), end = until < deadline ? until : deadline;

		if (cancelled(p))
			return PROV_E_CANCELLED;
		if (now >= deadline)
			return PROV_E_TIMEOUT;
		if (now >= until)
			return 0;
		poll(NULL, 0, (int)(end - now < PROV_NAP_SLICE_MS ? end - now : PROV_NAP_SLICE_MS));
	}
}

/*
 * Waits while cluster ID (LABEL "green aks-prod-green"), already read into
 * *S, is busy: a GET every poll_ms until its provisioningState is
 * Succeeded, Failed or Canceled.  0 with *S updated, AKS_E_NOT_FOUND when
 * it went away, PROV_E_CANCELLED, PROV_E_TIMEOUT, or the GET's error.
 */
static int
settle(struct prov_ctx *p, const char *id, const char *label, struct aks_summary *s,
    char *err, size_t errlen)
{
	long poll = p->poll_ms > 0 ? p->poll_ms : PROV_POLL_MS;
	long long t0 = http_now_ms(), said = t0;
	long long deadline = t0 + (p->wait_ms > 0 ? p->wait_ms : PROV_WAIT_MS);
	char last[32];
	int rc;

	if (!busy_state(s->provisioning_state))
		return 0;
	if (p->arm_opts != NULL && p->arm_opts->deadline_ms > 0 && p->arm_opts->deadline_ms < deadline)
		deadline = p->arm_opts->deadline_ms;
	snprintf(last, sizeof last, "%s", s->provisioning_state);
	say(p, "%s is %s; waiting for it to finish", label, last);
	while (busy_state(s->provisioning_state)) {
		rc = nap(p, poll, deadline);
		if (rc == PROV_E_CANCELLED) {
			util_errf(err, errlen, "%s: stopped waiting (cancelled) while it was %s", label,
			    s->provisioning_state);
			return rc;
		}
		if (rc == PROV_E_TIMEOUT) {
			util_errf(err, errlen, "%s is still %s after %lld s; bgswitch stopped waiting "
			    "(the operation may still finish in Azure)", label, s->provisioning_state,
			    (http_now_ms() - t0) / 1000);
			return rc;
		}
		aks_summary_free(s);
		rc = aks_get(p->conn->arm, id, p->arm_opts, NULL, s, err, errlen);
		if (rc == AKS_E_NOT_FOUND) {
			say(p, "%s is gone", label);
			return rc;
		}
		if (rc != 0)
			return rc;
		if (strcmp(last, s->provisioning_state) != 0 || http_now_ms() - said >= PROV_SAY_EVERY_MS) {
			snprintf(last, sizeof last, "%s", s->provisioning_state);
			said = http_now_ms();
			say(p, "%s: %s, %lld s", label, last, (said - t0) / 1000);
		}
	}
	return 0;
}

/* ---- commands -------------------------------------------------------------------------- */

struct cmd_lines {
	struct prov_ctx *p;
	const char *prog;
};

static void
on_command_line(void *ctx, const char *line)
{
	struct cmd_lines *c = ctx;

	say(c->p, "%s: %s", c->prog, line);
}

/* Runs ARGV (the KIND command) with its lines in the log.  0, or
 * PROV_E_COMMAND / PROV_E_CANCELLED with WHY naming program, status and
 * last line. */
static int
run_command(struct prov_ctx *p, const char *kind, char *const *argv, char *why, size_t whylen)
{
	struct cmd_lines cl = { p, NULL };
	struct proc_opts o = { 0 };
	struct proc_result r;
	const char *slash = strrchr(argv[0], '/');
	char e[800] = "";
	int n = 0;

	while (argv[n] != NULL)
		n++;
	cl.prog = slash != NULL && slash[1] != '\0' ? slash + 1 : argv[0];
	o.argv = argv;
	o.timeout_ms = p->command_timeout_ms > 0 ? p->command_timeout_ms : PROV_COMMAND_MS;
	o.line = on_command_line;
	o.ctx = &cl;
	o.cancel = p->cancel;
	say(p, "running the %s command %s (%d argument%s)", kind, argv[0], n - 1, n == 2 ? "" : "s");
	if (proc_run(&o, &r, e, sizeof e) == 0) {
		say(p, "the %s command %s exited 0 after %ld s", kind, argv[0], r.elapsed_ms / 1000);
		return 0;
	}
	util_errf(why, whylen, "%s command failed: %s", kind, e);
	log_warn(MOD, "%s", why);
	return r.cancelled ? PROV_E_CANCELLED : PROV_E_COMMAND;
}

/* ---- green ------------------------------------------------------------------------------- */

/* Green as found (settled): Succeeded, running the configured version. */
static int
accept_green(struct prov_ctx *p, const struct aks_summary *s, char *err, size_t errlen)
{
	const struct cfg *cfg = p->conn->cfg;
	const char *name = cl_name(p, CFG_GREEN), *want = cfg->clusters[CFG_GREEN].kubernetes_version;

	if (failed_state(s->provisioning_state)) {
		util_errf(err, errlen, "green %s exists but its provisioningState is %s; bgswitch never "
		    "modifies an existing cluster: delete it (az aks delete -g %s -n %s) and run again",
		    name, s->provisioning_state, cfg->azure.resource_group, name);
		return PROV_E_STATE;
	}
	if (strcasecmp(s->provisioning_state, "Succeeded") != 0) {
		util_errf(err, errlen, "green %s is in provisioningState \"%s\", not Succeeded", name,
		    s->provisioning_state);
		return PROV_E_STATE;
	}
	if (strcasecmp(s->power_state, "Stopped") == 0) {
		util_errf(err, errlen, "green %s exists but is stopped (powerState Stopped); bgswitch "
		    "never modifies an existing cluster: start it (az aks start -g %s -n %s) or delete "
		    "it, and run again", name, cfg->azure.resource_group, name);
		return PROV_E_STATE;
	}
	if (!version_matches(want, running_version(s))) {
		util_errf(err, errlen, "green %s already exists and runs Kubernetes %s, but "
		    "clusters.green.kubernetes_version is %s; bgswitch never modifies an existing "
		    "cluster: delete it, or set the version it runs", name,
		    running_version(s)[0] ? running_version(s) : "(unknown)", want);
		return PROV_E_STATE;
	}
	return 0;
}

/* Green exists (in *S): wait while it is busy, then accept it or refuse. */
static int
existing_green(struct prov_ctx *p, struct aks_summary *s, char *err, size_t errlen)
{
	const char *name = cl_name(p, CFG_GREEN);
	char label[128];
	int rc;

	if (strcasecmp(s->provisioning_state, "Deleting") == 0) {
		util_errf(err, errlen, "green %s is being deleted (provisioningState Deleting); run "
		    "again once it is gone", name);
		return PROV_E_STATE;
	}
	snprintf(label, sizeof label, "green %s", name);
	rc = settle(p, cl_id(p, CFG_GREEN), label, s, err, errlen);
	if (rc == AKS_E_NOT_FOUND) {
		util_errf(err, errlen, "green %s went away while bgswitch waited for it; run again", name);
		return PROV_E_STATE;
	}
	if (rc != 0)
		return rc;
	rc = accept_green(p, s, err, errlen);
	if (rc == 0)
		say(p, "green %s already exists (version %s), not created again", name,
		    running_version(s));
	return rc;
}

/* Green does not exist: clone blue's spec and create it.  *S gets green. */
static int
create_green(struct prov_ctx *p, struct aks_summary *s, char *err, size_t errlen)
{
	const struct cfg *cfg = p->conn->cfg;
	const char *gname = cl_name(p, CFG_GREEN), *bname = cl_name(p, CFG_BLUE);
	const char *gid = cl_id(p, CFG_GREEN);
	const char *version = cfg->clusters[CFG_GREEN].kubernetes_version;
	struct aks_summary bs;
	struct call c;
	cJSON *blue = NULL, *spec = NULL, *before = NULL, *seen = NULL;
	char note[1024] = "", why[2048] = "", ver[32];
	uint64_t action = 0;
	int rc, exists;

	rc = aks_get(p->conn->arm, cl_id(p, CFG_BLUE), p->arm_opts, &blue, &bs, why, sizeof why);
	if (rc != 0) {
		util_errf(err, errlen, "green %s does not exist and blue %s cannot be read to clone "
		    "its spec: %s", gname, bname, why);
		return rc;
	}
	if (version == NULL || *version == '\0') {
		snprintf(ver, sizeof ver, "%s", running_version(&bs));
		version = ver;
		say(p, "clusters.green.kubernetes_version is not set: green gets blue's version %s",
		    version);
	}
	spec = aks_clone_spec(blue, gname, version, note, sizeof note, why, sizeof why);
	if (spec == NULL) {
		util_errf(err, errlen, "green %s not created: blue %s's spec cannot be cloned: %s",
		    gname, bname, why);
		rc = PROV_E_INVALID;
		goto done;
	}
	if (note[0] != '\0')
		say(p, "clone of blue %s: %s", bname, note);
	if (cancelled(p)) {
		util_errf(err, errlen, "green %s not created: cancelled", gname);
		rc = PROV_E_CANCELLED;
		goto done;
	}
	before = absent_doc(gid, gname);
	rc = intent(p, "cluster-create", "green", before, spec, &action, err, errlen);
	if (rc != 0)
		goto done;
	say(p, "creating green %s (Kubernetes %s) from blue %s's spec", gname, version, bname);
	call_begin(&c, p);
	/* ARM refuses (412) if a cluster of that name appeared since the GET. */
	c.o.if_none_match = "*";
	rc = aks_create_or_update(p->conn->arm, gid, spec, &c.o, s, why, sizeof why);
	call_end(&c);
	if (rc == 0) {
		seen = cluster_doc(s, gid);
		rc = outcome(p, action, 0, seen, NULL, err, errlen);
		if (rc == 0)
			say(p, "green %s created (Kubernetes %s, %s)", gname, running_version(s),
			    s->provisioning_state);
		goto done;
	}
	aks_summary_free(s);
	seen = observe(p, gid, gname, &exists, NULL);
	if (seen == NULL && rc == ARM_E_OPERATION)
		seen = one_member("provisioningState", "Failed");
	else if (exists == 0 && !definite(rc)) {
		/* No answer: a PUT still on its way may land yet. */
		cJSON_Delete(seen);
		seen = NULL;
	}
	log_warn(MOD, "green %s: create failed: %s", gname, why);
	rc = outcome(p, action, rc, seen, why, err, errlen);
	if (rc == ARM_E_PRECONDITION && exists == 1) {
		/* Someone else's create, or ours retried after a lost answer. */
		say(p, "green %s: ARM already has it (412 to If-None-Match: *); taking it as found",
		    gname);
		rc = aks_get(p->conn->arm, gid, p->arm_opts, NULL, s, err, errlen);
		if (rc == 0)
			rc = existing_green(p, s, err, errlen);
	}
done:
	aks_summary_free(&bs);
	cJSON_Delete(blue);
	cJSON_Delete(spec);
	cJSON_Delete(before);
	cJSON_Delete(seen);
	return rc;
}

static int
green_by_clone(struct prov_ctx *p, struct aks_summary *s, char *err, size_t errlen)
{
	char why[1024] = "";
	int rc = aks_get(p->conn->arm, cl_id(p, CFG_GREEN), p->arm_opts, NULL, s, why, sizeof why);

	if (rc == 0)
		return existing_green(p, s, err, errlen);
	if (rc != AKS_E_NOT_FOUND) {
		util_errf(err, errlen, "cannot read green %s from ARM: %s", cl_name(p, CFG_GREEN), why);
		return rc;
	}
	return create_green(p, s, err, errlen);
}

static int
green_by_command(struct prov_ctx *p, struct aks_summary *s, char *err, size_t errlen)
{
	const struct cfg *cfg = p->conn->cfg;
	char *const *argv = cfg->provision.command;
	const char *gname = cl_name(p, CFG_GREEN), *gid = cl_id(p, CFG_GREEN);
	cJSON *before = NULL, *after = NULL, *seen = NULL;
	char why[1024] = "", label[128];
	uint64_t action = 0;
	int rc, exists, ok;

	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
		util_errf(err, errlen, "provision.mode is command but provision.command is empty");
		return PROV_E_INVALID;
	}
	snprintf(label, sizeof label, "green %s", gname);
	rc = aks_get(p->conn->arm, gid, p->arm_opts, NULL, s, why, sizeof why);
	if (rc == 0)	/* a command is not run on top of a running operation */
		rc = settle(p, gid, label, s, why, sizeof why);
	if (rc == PROV_E_CANCELLED || rc == PROV_E_TIMEOUT) {
		util_errf(err, errlen, "provision command not run: %s", why);
		return rc;
	}
	if (rc != 0 && rc != AKS_E_NOT_FOUND) {
		util_errf(err, errlen, "cannot read green %s from ARM: %s", gname, why);
		return rc;
	}
	exists = rc == 0;
	before = exists ? cluster_doc(s, gid) : absent_doc(gid, gname);
	if (before != NULL && exists)
		cJSON_AddTrueToObject(before, "exists");
	after = command_doc(argv);
	aks_summary_free(s);
	if (cancelled(p)) {
		util_errf(err, errlen, "provision command not run: cancelled");
		rc = PROV_E_CANCELLED;
		goto done;
	}
	rc = intent(p, "provision-command", "green", before, after, &action, err, errlen);
	if (rc != 0)
		goto done;
	rc = run_command(p, "provision", argv, why, sizeof why);
	if (rc != 0) {
		seen = observe(p, gid, gname, &exists, NULL);
		rc = outcome(p, action, rc, seen, why, err, errlen);
		goto done;
	}
	rc = aks_get(p->conn->arm, gid, p->arm_opts, NULL, s, why, sizeof why);
	if (rc == 0)
		rc = settle(p, gid, label, s, why, sizeof why);
	if (rc == AKS_E_NOT_FOUND) {
		util_errf(why, sizeof why, "the provision command exited 0 but ARM has no cluster %s "
		    "in %s", gname, cfg->azure.resource_group);
		seen = absent_doc(gid, gname);
		rc = outcome(p, action, PROV_E_MISSING, seen, why, err, errlen);
		goto done;
	}
	if (rc != 0) {
		char keep[1024];

		snprintf(keep, sizeof keep, "%s", why);
		if (rc == PROV_E_CANCELLED || rc == PROV_E_TIMEOUT)
			util_errf(why, sizeof why, "the provision command exited 0; %s", keep);
		else
			util_errf(why, sizeof why, "the provision command exited 0; green %s could not "
			    "be read after it: %s", gname, keep);
		rc = outcome(p, action, rc, NULL, why, err, errlen);
		goto done;
	}
	seen = cluster_doc(s, gid);
	ok = strcasecmp(s->provisioning_state, "Succeeded") == 0;
	util_errf(why, sizeof why, "green %s is %s after the provision command", gname,
	    s->provisioning_state);
	rc = outcome(p, action, ok ? 0 : PROV_E_STATE, seen, why, err, errlen);
	if (rc == 0 || rc == PROV_E_STATE)
		rc = accept_green(p, s, err, errlen);
	if (rc == 0)
		say(p, "green %s is there (Kubernetes %s, %s)", gname, running_version(s),
		    s->provisioning_state);
done:
	cJSON_Delete(before);
	cJSON_Delete(after);
	cJSON_Delete(seen);
	return rc;
}

int
prov_green(struct prov_ctx *p, struct aks_summary *green_out, char *err, size_t errlen)
{
	struct aks_summary s;
	int rc;

	memset(&s, 0, sizeof s);
	if (green_out != NULL)
		memset(green_out, 0, sizeof *green_out);
	if (!valid(p, 1)) {
		util_errf(err, errlen, "prov_green: bad arguments");
		return PROV_E_INVALID;
	}
	if (p->conn->cfg->provision.mode == CFG_PROVISION_COMMAND)
		rc = green_by_command(p, &s, err, errlen);
	else
		rc = green_by_clone(p, &s, err, errlen);
	if (rc == 0 && green_out != NULL)
		*green_out = s;
	else
		aks_summary_free(&s);
	return rc;
}

/* ---- blue ------------------------------------------------------------------------------------ */

/* Reads blue into *S and waits while it is busy.  0, AKS_E_NOT_FOUND, or
 * an error in ERR. */
static int
read_blue(struct prov_ctx *p, struct aks_summary *s, char *err, size_t errlen)
{
	char why[1024] = "", label[128];
	int rc = aks_get(p->conn->arm, cl_id(p, CFG_BLUE), p->arm_opts, NULL, s, why, sizeof why);

	snprintf(label, sizeof label, "blue %s", cl_name(p, CFG_BLUE));
	if (rc == 0)
		rc = settle(p, cl_id(p, CFG_BLUE), label, s, why, sizeof why);
	if (rc == PROV_E_CANCELLED || rc == PROV_E_TIMEOUT)
		util_errf(err, errlen, "%s", why);
	else if (rc != 0 && rc != AKS_E_NOT_FOUND)
		util_errf(err, errlen, "cannot read blue %s from ARM: %s", cl_name(p, CFG_BLUE), why);
	return rc;
}

static int
teardown_delete(struct prov_ctx *p, char *err, size_t errlen)
{
	const char *name = cl_name(p, CFG_BLUE), *id = cl_id(p, CFG_BLUE);
	struct aks_summary s;
	struct call c;
	cJSON *before = NULL, *after = NULL, *seen = NULL;
	char why[2048] = "";
	uint64_t action = 0;
	int rc, exists;

	rc = read_blue(p, &s, err, errlen);
	if (rc == AKS_E_NOT_FOUND) {
		say(p, "blue %s is gone: nothing to delete", name);
		return 0;
	}
	if (rc != 0)
		return rc;
	before = cluster_doc(&s, id);
	after = absent_doc(id, name);
	aks_summary_free(&s);
	if (cancelled(p)) {
		util_errf(err, errlen, "blue %s not deleted: cancelled", name);
		rc = PROV_E_CANCELLED;
		goto done;
	}
	rc = intent(p, "cluster-delete", "blue", before, after, &action, err, errlen);
	if (rc != 0)
		goto done;
	say(p, "deleting blue %s", name);
	call_begin(&c, p);
	rc = aks_delete(p->conn->arm, id, &c.o, why, sizeof why);
	call_end(&c);
	if (rc != 0) {
		seen = observe(p, id, name, &exists, NULL);
		if (exists == 0) {
			/* Whatever the call said, it is gone. */
			log_warn(MOD, "blue %s: delete reported \"%s\" but ARM shows it gone", name, why);
			rc = 0;
		} else if (exists == 1 || definite(rc)) {
			rc = outcome(p, action, rc, seen, why, err, errlen);
			goto done;
		} else {
			rc = outcome(p, action, rc, NULL, why, err, errlen);
			goto done;
		}
	}
	rc = outcome(p, action, 0, after, NULL, err, errlen);
	if (rc == 0)
		say(p, "blue %s deleted", name);
done:
	cJSON_Delete(before);
	cJSON_Delete(after);
	cJSON_Delete(seen);
	return rc;
}

static int
teardown_stop(struct prov_ctx *p, char *err, size_t errlen)
{
	const char *name = cl_name(p, CFG_BLUE), *id = cl_id(p, CFG_BLUE);
	struct aks_summary s, now;
	struct call c;
	cJSON *before = NULL, *after = NULL, *seen = NULL;
	char why[2048] = "";
	uint64_t action = 0;
	int rc, exists;

	rc = read_blue(p, &s, err, errlen);
	if (rc == AKS_E_NOT_FOUND) {
		say(p, "blue %s is gone: nothing to stop", name);
		return 0;
	}
	if (rc != 0)
		return rc;
	if (strcasecmp(s.power_state, "Stopped") == 0) {
		say(p, "blue %s is already stopped", name);
		aks_summary_free(&s);
		return 0;
	}
	before = cluster_doc(&s, id);
	after = one_member("powerState", "Stopped");
	aks_summary_free(&s);
	if (cancelled(p)) {
		util_errf(err, errlen, "blue %s not stopped: cancelled", name);
		rc = PROV_E_CANCELLED;
		goto done;
	}
	rc = intent(p, "cluster-stop", "blue", before, after, &action, err, errlen);
	if (rc != 0)
		goto done;
	say(p, "stopping blue %s", name);
	call_begin(&c, p);
	rc = aks_stop(p->conn->arm, id, &c.o, why, sizeof why);
	call_end(&c);
	memset(&now, 0, sizeof now);
	seen = observe(p, id, name, &exists, &now);
	if (rc != 0 && exists == 1 && strcasecmp(now.power_state, "Stopped") == 0
	    && !busy_state(now.provisioning_state)) {
		log_warn(MOD, "blue %s: stop reported \"%s\" but ARM shows it stopped", name, why);
		rc = 0;
	}
	if (rc != 0 && seen == NULL && !definite(rc))
		rc = outcome(p, action, rc, NULL, why, err, errlen);
	else
		rc = outcome(p, action, rc, seen, why, err, errlen);
	if (rc == 0)
		say(p, "blue %s stopped", name);
	aks_summary_free(&now);
done:
	cJSON_Delete(before);
	cJSON_Delete(after);
	cJSON_Delete(seen);
	return rc;
}

static int
teardown_command(struct prov_ctx *p, char *err, size_t errlen)
{
	char *const *argv = p->conn->cfg->teardown.command;
	const char *name = cl_name(p, CFG_BLUE), *id = cl_id(p, CFG_BLUE);
	struct aks_summary s;
	cJSON *before = NULL, *after = NULL, *seen = NULL;
	char why[1024] = "";
	uint64_t action = 0;
	int rc, exists;

	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
		util_errf(err, errlen, "teardown.mode is command but teardown.command is empty");
		return PROV_E_INVALID;
	}
	rc = read_blue(p, &s, err, errlen);
	if (rc != 0 && rc != AKS_E_NOT_FOUND)
		return rc;
	exists = rc == 0;
	before = exists ? cluster_doc(&s, id) : absent_doc(id, name);
	after = command_doc(argv);
	aks_summary_free(&s);
	if (cancelled(p)) {
		util_errf(err, errlen, "teardown command not run: cancelled");
		rc = PROV_E_CANCELLED;
		goto done;
	}
	rc = intent(p, "teardown-command", "blue", before, after, &action, err, errlen);
	if (rc != 0)
		goto done;
	rc = run_command(p, "teardown", argv, why, sizeof why);
	seen = observe(p, id, name, &exists, &s);
	if (exists == 1) {
		say(p, "blue %s after the teardown command: %s, %s", name, s.provisioning_state,
		    s.power_state[0] ? s.power_state : "-");
		aks_summary_free(&s);
	} else if (exists == 0) {
		say(p, "blue %s is gone after the teardown command", name);
	}
	rc = outcome(p, action, rc, seen, why, err, errlen);
done:
	cJSON_Delete(before);
	cJSON_Delete(after);
	cJSON_Delete(seen);
	return rc;
}

int
prov_teardown(struct prov_ctx *p, char *err, size_t errlen)
{
	char note[200], why[600] = "";

	if (!valid(p, 1)) {
		util_errf(err, errlen, "prov_teardown: bad arguments");
		return PROV_E_INVALID;
	}
	switch (p->conn->cfg->teardown.mode) {
	case CFG_TEARDOWN_DELETE:
		return teardown_delete(p, err, errlen);
	case CFG_TEARDOWN_STOP:
		return teardown_stop(p, err, errlen);
	case CFG_TEARDOWN_COMMAND:
		return teardown_command(p, err, errlen);
	case CFG_TEARDOWN_KEEP:
		break;
	}
	snprintf(note, sizeof note, "teardown: keep, blue %s left running", cl_name(p, CFG_BLUE));
	if (journal_note(p->journal, note, why, sizeof why) != 0) {
		util_errf(err, errlen, "the journal could not record the teardown note (%s)", why);
		return PROV_E_JOURNAL;
	}
	say(p, "%s", note);
	return 0;
}

/* ---- reconcile --------------------------------------------------------------------------------- */

enum what { W_NONE, W_CREATE, W_PROVISION_CMD, W_DELETE, W_STOP, W_TEARDOWN_CMD };

static enum what
what_of(const char *what)
{
	static const struct { const char *name; enum what w; } t[] = {
		{ "cluster-create", W_CREATE }, { "provision-command", W_PROVISION_CMD },
		{ "cluster-delete", W_DELETE }, { "cluster-stop", W_STOP },
		{ "teardown-command", W_TEARDOWN_CMD },
	};

	for (size_t i = 0; what != NULL && i < sizeof t / sizeof t[0]; i++)
		if (strcmp(what, t[i].name) == 0)
			return t[i].w;
	return W_NONE;
}

/*
 * What ARM shows for W, as OK and a few words in DESC, given whether the
 * cluster EXISTS and its summary S.  Commands have no recorded exit status
 * any more; their goal state is what counts.
 */
static int
judge(enum what w, int exists, const struct aks_summary *s, char *desc, size_t n)
{
	const char *st = exists ? s->provisioning_state : "", *pw = exists ? s->power_state : "";
	int stopped = strcasecmp(pw, "Stopped") == 0;

	switch (w) {
	case W_CREATE:
	case W_PROVISION_CMD:
		if (!exists)
			util_errf(desc, n, "not created: ARM has no such cluster");
		else if (failed_state(st))
			util_errf(desc, n, "created but %s", st);
		else if (busy_state(st))
			util_errf(desc, n, "created, still %s", st);
		else
			util_errf(desc, n, "created (%s, Kubernetes %s)", st[0] ? st : "no state",
			    running_version(s));
		return exists && !failed_state(st);
	case W_DELETE:
		if (!exists)
			util_errf(desc, n, "deleted: ARM has no such cluster");
		else
			util_errf(desc, n, "%s (%s)", strcasecmp(st, "Deleting") == 0 ? "being deleted"
			    : "not deleted", st);
		return !exists || strcasecmp(st, "Deleting") == 0;
	case W_STOP:
		if (!exists)
			util_errf(desc, n, "not stopped: ARM has no such cluster");
		else
			util_errf(desc, n, "%s (%s, power %s)", stopped ? "stopped"
			    : strcasecmp(st, "Stopping") == 0 ? "being stopped" : "not stopped", st,
			    pw[0] ? pw : "-");
		return exists && (stopped || strcasecmp(st, "Stopping") == 0);
	case W_TEARDOWN_CMD:
		if (!exists)
			util_errf(desc, n, "gone: ARM has no such cluster");
		else
			util_errf(desc, n, "%s (%s, power %s)", stopped ? "stopped" : "still there", st,
			    pw[0] ? pw : "-");
		return !exists || stopped;
	case W_NONE:
		break;
	}
	return 0;
}

static int
reconcile_one(struct prov_ctx *p, const struct journal_pending *q, enum what w, char *err,
    size_t errlen)
{
	enum cfg_role role = w == W_CREATE || w == W_PROVISION_CMD ? CFG_GREEN : CFG_BLUE;
	const char *id = jstr(q->before, "id"), *name = jstr(q->before, "name"), *slash;
	struct aks_summary s;
	cJSON *seen;
	char why[1024] = "", desc[300], text[400];
	int rc, exists, ok;

	if (id == NULL || id[0] != '/')
		id = cl_id(p, role);
	if (name == NULL) {
		slash = strrchr(id, '/');
		name = slash != NULL ? slash + 1 : id;
	}
	rc = aks_get(p->conn->arm, id, p->arm_opts, NULL, &s, why, sizeof why);
	if (rc != 0 && rc != AKS_E_NOT_FOUND) {
		util_errf(err, errlen, "journal: %s (action %llu) left pending: cluster %s cannot be "
		    "read: %s", q->what, (unsigned long long)q->action, name, why);
		return rc;
	}
	exists = rc == 0;
	seen = exists ? cluster_doc(&s, id) : absent_doc(id, name);
	ok = judge(w, exists, &s, desc, sizeof desc);
	aks_summary_free(&s);
	util_errf(text, sizeof text, "reconciled with ARM%s: %s",
	    w == W_PROVISION_CMD || w == W_TEARDOWN_CMD ? " (the command's end was not recorded)"
	    : "", desc);
	if (seen == NULL) {
		util_errf(err, errlen, "out of memory");
		return PROV_E_INVALID;
	}
	rc = journal_outcome(p->journal, q->action, ok, seen, ok ? NULL : text, why, sizeof why);
	cJSON_Delete(seen);
	if (rc != 0) {
		util_errf(err, errlen, "journal: the outcome of %s (action %llu) could not be recorded "
		    "(%s)", q->what, (unsigned long long)q->action, why);
		return PROV_E_JOURNAL;
	}
	say(p, "journal: %s (action %llu, run %.8s) had no outcome; ARM shows cluster %s %s",
	    q->what, (unsigned long long)q->action, q->run, name, desc);
	return 0;
}

int
prov_reconcile(struct prov_ctx *p, const struct journal_pending *pending, size_t n, char *err,
    size_t errlen)
{
	char why[1024] = "";
	int rc = 0, one;

	if (!valid(p, 1) || (pending == NULL && n > 0)) {
		util_errf(err, errlen, "prov_reconcile: bad arguments");
		return PROV_E_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		enum what w = what_of(pending[i].what);

		if (w == W_NONE)
			continue;
		one = reconcile_one(p, &pending[i], w, why, sizeof why);
		if (one == PROV_E_JOURNAL) {
			util_errf(err, errlen, "%s", why);
			return one;
		}
		if (one != 0 && rc == 0) {
			rc = one;
			util_errf(err, errlen, "%s", why);
		}
	}
	return rc;
}
