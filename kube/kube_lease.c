/*
 * kube_lease.c — the cross-machine switchover lock as a coordination.k8s.io/v1
 * Lease (see kube_lease.h).
 *
 * The rules are client-go's leader election (tools/leaderelection,
 * tryAcquireOrRenew and release): a Lease whose holder is set and whose
 * renewTime + leaseDurationSeconds has not passed belongs to that holder;
 * the holder itself renews keeping acquireTime and leaseTransitions; anyone
 * else who takes it counts one more transition; releasing clears the
 * holder and keeps the count.  Every write carries the resourceVersion
 * that was read, so the API server's optimistic concurrency (409 Conflict,
 * "API Concepts", resource versions) decides races; a race lost while
 * acquiring is looked at again, a few times, before giving up.
 *
 * One difference: client-go judges expiry by when *it* last saw the record
 * change (robust to clock skew, but it needs a process that watches for a
 * whole lease duration).  A one-shot `bgswitch run` cannot wait that long
 * before saying "someone else holds the lock", so expiry here is the
 * holder's renewTime against our wall clock, and taking over an expired
 * Lease is the caller's explicit choice (take_over_expired).
 */
#include "kube/kube_lease.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LEASE_API	"/apis/coordination.k8s.io/v1/namespaces/"
#define ACQUIRE_TRIES	3

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
kube_microtime_format(int64_t unix_ms, char *buf, size_t len)
{
	time_t s = (time_t)(unix_ms / 1000);
	struct tm tm;
	char date[32];
	int n;

	if (unix_ms < 0 || gmtime_r(&s, &tm) == NULL
	    || strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return -1;
	/* metav1.MicroTime: RFC3339 with exactly six fraction digits. */
	n = snprintf(buf, len, "%s.%06dZ", date, (int)(unix_ms % 1000) * 1000);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

int
kube_microtime_parse(const char *s, int64_t *unix_ms)
{
	int64_t sec;
	int ms = 0;

	if (s == NULL || kube_time_parse(s, strlen(s), &sec) != 0)
		return -1;
	/* The fraction, if any, sits after the seconds ("...:05.123456Z");
	 * milliseconds are all an expiry check needs. */
	if (strlen(s) > 20 && s[19] == '.') {
		const char *f = s + 20;
		int scale = 100;

		for (int i = 0; i < 3 && f[i] >= '0' && f[i] <= '9'; i++, scale /= 10)
			ms += (f[i] - '0') * scale;
	}
	*unix_ms = sec * 1000 + ms;
	return 0;
}

static void
set_err(struct kube_call *call, enum kube_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(struct kube_call *call, enum kube_err e, const char *fmt, ...)
{
	va_list ap;

	if (call == NULL)
		return;
	call->err = e;
	va_start(ap, fmt);
	vsnprintf(call->error, sizeof call->error, fmt, ap);
	va_end(ap);
}

static int
lease_path(char *buf, size_t len, const char *ns, const char *name)
{
	int n;

	if (ns == NULL || name == NULL || ns[0] == '\0' || name[0] == '\0'
	    || strpbrk(ns, "/?#%") != NULL || strpbrk(name, "/?#%") != NULL)
		return -1;
	n = snprintf(buf, len, LEASE_API "%s/leases/%s", ns, name);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && v->valuestring != NULL ? v->valuestring : NULL;
}

/* Reads a Lease object into *L.  Returns 0, or -1 when it is not shaped
 * like one (the message in ERR). */
static int
lease_from_json(const cJSON *j, struct kube_lease *l, char *err, size_t errlen)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(j, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(j, "spec");
	const cJSON *v;
	const char *s;

	memset(l, 0, sizeof *l);
	if (!cJSON_IsObject(meta) || (spec != NULL && !cJSON_IsObject(spec))) {
		snprintf(err, errlen, "not a Lease: metadata or spec is missing or not an object");
		return -1;
	}
	if ((s = jstr(meta, "namespace")) != NULL)
		snprintf(l->ns, sizeof l->ns, "%s", s);
	if ((s = jstr(meta, "name")) != NULL)
		snprintf(l->name, sizeof l->name, "%s", s);
	if ((s = jstr(meta, "resourceVersion")) == NULL || s[0] == '\0'
	    || strlen(s) >= sizeof l->resource_version) {
		snprintf(err, errlen, "Lease without a usable metadata.resourceVersion");
		return -1;
	}
	snprintf(l->resource_version, sizeof l->resource_version, "%s", s);
	if (spec == NULL)
		return 0;
	/* Every spec field is optional; present ones must have their type. */
	v = cJSON_GetObjectItemCaseSensitive(spec, "holderIdentity");
	if (v != NULL && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v)) {
			snprintf(err, errlen, "Lease spec.holderIdentity is not a string");
			return -1;
		}
		snprintf(l->holder, sizeof l->holder, "%s", v->valuestring);
	}
	v = cJSON_GetObjectItemCaseSensitive(spec, "leaseDurationSeconds");
	if (v != NULL && !cJSON_IsNull(v)) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9) {
			snprintf(err, errlen, "Lease spec.leaseDurationSeconds is not a valid integer");
			return -1;
		}
		l->duration_s = (int32_t)v->valuedouble;
	}
	v = cJSON_GetObjectItemCaseSensitive(spec, "leaseTransitions");
	if (v != NULL && !cJSON_IsNull(v)) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 2e9) {
			snprintf(err, errlen, "Lease spec.leaseTransitions is not a valid integer");
			return -1;
		}
		l->transitions = (int32_t)v->valuedouble;
	}
	v = cJSON_GetObjectItemCaseSensitive(spec, "acquireTime");
	if (v != NULL && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v) || kube_microtime_parse(v->valuestring, &l->acquire_ms) != 0) {
			snprintf(err, errlen, "Lease spec.acquireTime is not a MicroTime");
			return -1;
		}
		snprintf(l->acquire_time, sizeof l->acquire_time, "%s", v->valuestring);
	}
	v = cJSON_GetObjectItemCaseSensitive(spec, "renewTime");
	if (v != NULL && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v) || kube_microtime_parse(v->valuestring, &l->renew_ms) != 0) {
			snprintf(err, errlen, "Lease spec.renewTime is not a MicroTime");
			return -1;
		}
		snprintf(l->renew_time, sizeof l->renew_time, "%s", v->valuestring);
	}
	return 0;
}

static void
judge_expiry(struct kube_lease *l, int64_t now)
{
	int64_t last = l->renew_ms != 0 ? l->renew_ms : l->acquire_ms;

	/* A quarter of the duration to spare: the holder's clock may run
	 * behind ours, and it stops trusting the Lease a quarter early too
	 * (src/lock.c), so up to half a duration of skew stays safe. */
	int64_t d = (int64_t)l->duration_s * 1000;

	l->expired = l->holder[0] == '\0' || last == 0 || last + d + d / 4 <= now;
}

/* The Lease object we write: the whole spec, conditional on RV when set. */
static char *
lease_body(const struct kube_lease *l, const char *rv)
{
	cJSON *j = cJSON_CreateObject(), *meta, *spec;
	char *out = NULL;

	if (j == NULL)
		return NULL;
	cJSON_AddStringToObject(j, "apiVersion", "coordination.k8s.io/v1");
	cJSON_AddStringToObject(j, "kind", "Lease");
	meta = cJSON_AddObjectToObject(j, "metadata");
	spec = cJSON_AddObjectToObject(j, "spec");
	if (meta == NULL || spec == NULL)
		goto out;
	cJSON_AddStringToObject(meta, "name", l->name);
	cJSON_AddStringToObject(meta, "namespace", l->ns);
	if (rv != NULL && rv[0] != '\0')
		cJSON_AddStringToObject(meta, "resourceVersion", rv);
	if (l->holder[0] != '\0')
		cJSON_AddStringToObject(spec, "holderIdentity", l->holder);
	cJSON_AddNumberToObject(spec, "leaseDurationSeconds", l->duration_s);
	if (l->acquire_time[0] != '\0')
		cJSON_AddStringToObject(spec, "acquireTime", l->acquire_time);
	if (l->renew_time[0] != '\0')
		cJSON_AddStringToObject(spec, "renewTime", l->renew_time);
	cJSON_AddNumberToObject(spec, "leaseTransitions", l->transitions);
	out = cJSON_PrintUnformatted(j);
out:
	cJSON_Delete(j);
	return out;
}

/* Writes L (POST when CREATE, else PUT conditional on L's
 * resourceVersion) and reads back what the server stored into *L. */
static int
lease_write(struct kube_client *c, struct kube_lease *l, int create, struct kube_call *call)
{
	char path[512], err[256];
	char *body = lease_body(l, create ? NULL : l->resource_version);
	cJSON *ans = NULL;
	struct kube_lease back;
	int rc;

	if (body == NULL) {
		set_err(call, KUBE_E_OTHER, "Lease %s/%s: out of memory", l->ns, l->name);
		return -1;
	}
	if (create) {
		snprintf(path, sizeof path, LEASE_API "%s/leases", l->ns);
		rc = kube_create(c, path, body, &ans, call);
	} else {
		if (lease_path(path, sizeof path, l->ns, l->name) != 0) {
			free(body);
			set_err(call, KUBE_E_OTHER, "Lease: bad namespace or name");
			return -1;
		}
		rc = kube_replace(c, path, body, &ans, call);
	}
	free(body);
	if (rc != 0)
		return -1;
	if (lease_from_json(ans, &back, err, sizeof err) != 0) {
		cJSON_Delete(ans);
		set_err(call, KUBE_E_DECODE, "Lease %s/%s: the answer is %s", l->ns, l->name, err);
		return -1;
	}
	cJSON_Delete(ans);
	judge_expiry(&back, wall_ms());
	*l = back;
	return 0;
}

int
kube_lease_get(struct kube_client *c, const char *ns, const char *name,
    struct kube_lease *out, struct kube_call *call)
{
	char path[512], err[256];
	cJSON *j = NULL;

	memset(out, 0, sizeof *out);
	if (lease_path(path, sizeof path, ns, name) != 0) {
		set_err(call, KUBE_E_OTHER, "Lease: bad namespace or name");
		return -1;
	}
	if (kube_get(c, path, &j, call) != 0)
		return -1;
	if (lease_from_json(j, out, err, sizeof err) != 0) {
		cJSON_Delete(j);
		set_err(call, KUBE_E_DECODE, "GET %s: %s", path, err);
		return -1;
	}
	cJSON_Delete(j);
	/* The namespace and name asked for, whatever the answer says. */
	snprintf(out->ns, sizeof out->ns, "%s", ns);
	snprintf(out->name, sizeof out->name, "%s", name);
	judge_expiry(out, wall_ms());
	return 0;
}

/* Fills ACQUIRE/RENEW times of L for HOLDER now. */
static void
stamp(struct kube_lease *l, int64_t now, int acquire)
{
	kube_microtime_format(now, l->renew_time, sizeof l->renew_time);
	l->renew_ms = now;
	if (acquire) {
		memcpy(l->acquire_time, l->renew_time, sizeof l->acquire_time);
		l->acquire_ms = now;
	}
}

int
kube_lease_acquire(struct kube_client *c, const char *ns, const char *name,
    const char *holder, int duration_s, bool take_over_expired,
    struct kube_lease *out, struct kube_call *call)
{
	struct kube_call local = { 0 };
	char path[512];

	if (call == NULL)
		call = &local;	/* the outcome steers the retries below */
	if (out == NULL || holder == NULL || holder[0] == '\0' || duration_s <= 0
	    || strlen(holder) >= KUBE_HOLDER_MAX || lease_path(path, sizeof path, ns, name) != 0) {
		set_err(call, KUBE_E_OTHER, "Lease: needs a namespace, a name, a holder "
		    "(< %d bytes) and a positive duration", KUBE_HOLDER_MAX);
		return -1;
	}
	for (int attempt = 0; attempt < ACQUIRE_TRIES; attempt++) {
		struct kube_lease cur, want;
		int64_t now;

		if (kube_lease_get(c, ns, name, &cur, call) != 0) {
			if (call->err != KUBE_E_NOT_FOUND)
				return -1;
			memset(&want, 0, sizeof want);
			snprintf(want.ns, sizeof want.ns, "%s", ns);
			snprintf(want.name, sizeof want.name, "%s", name);
			snprintf(want.holder, sizeof want.holder, "%s", holder);
			want.duration_s = duration_s;
			stamp(&want, wall_ms(), 1);
			if (lease_write(c, &want, 1, call) == 0) {
				*out = want;
				return 0;
			}
			if (call->err == KUBE_E_CONFLICT)	/* AlreadyExists: raced */
				continue;
			return -1;
		}
		now = wall_ms();
		want = cur;
		if (strcmp(cur.holder, holder) == 0) {
			/* Ours already (a run that restarted): renew, keeping
			 * acquireTime and the transition count. */
			stamp(&want, now, 0);
		} else {
			if (cur.holder[0] != '\0' && (!cur.expired || !take_over_expired)) {
				char when[64];

				*out = cur;
				if (cur.renew_ms != 0)
					snprintf(when, sizeof when, "renewed %s", cur.renew_time);
				else
					snprintf(when, sizeof when, "never renewed");
				set_err(call, KUBE_E_CONFLICT, "Lease %s/%s is held by %s (%s, %s)",
				    ns, name, cur.holder, when, cur.expired
				    ? "expired; taking it over was not allowed"
				    : "not expired");
				call->status = 409;
				snprintf(call->reason, sizeof call->reason, "Held");
				return 1;
			}
			snprintf(want.holder, sizeof want.holder, "%s", holder);
			want.transitions = cur.transitions + 1;
			stamp(&want, now, 1);
		}
		want.duration_s = duration_s;
		if (lease_write(c, &want, 0, call) == 0) {
			*out = want;
			return 0;
		}
		if (call->err != KUBE_E_CONFLICT && call->err != KUBE_E_NOT_FOUND)
			return -1;
		/* Changed (or deleted) between our read and write: look again. */
	}
	set_err(call, KUBE_E_CONFLICT, "Lease %s/%s: still changing under us after %d tries",
	    ns, name, ACQUIRE_TRIES);
	return -1;
}

int
kube_lease_take_from(struct kube_client *c, const char *ns, const char *name, const char *holder,
    int duration_s, const char *from, struct kube_lease *out, struct kube_call *call)
{
	struct kube_call local = { 0 };
	struct kube_lease cur, want;

	if (call == NULL)
		call = &local;
	if (out == NULL || holder == NULL || holder[0] == '\0' || from == NULL || from[0] == '\0'
	    || duration_s <= 0 || strlen(holder) >= KUBE_HOLDER_MAX) {
		set_err(call, KUBE_E_OTHER, "Lease: needs a holder, the holder to take it from and a "
		    "positive duration");
		return -1;
	}
	if (kube_lease_get(c, ns, name, &cur, call) != 0)
		return -1;
	if (strcmp(cur.holder, from) != 0) {
		*out = cur;
		set_err(call, KUBE_E_CONFLICT, "Lease %s/%s is held by %s now, not %s", ns, name,
		    cur.holder[0] != '\0' ? cur.holder : "nobody", from);
		return 1;
	}
	want = cur;
	snprintf(want.holder, sizeof want.holder, "%s", holder);
	want.transitions = cur.transitions + 1;
	want.duration_s = duration_s;
	stamp(&want, wall_ms(), 1);
	/* Conditional on the resourceVersion read: a renewal by FROM in
	 * between (it was alive after all) makes this a conflict. */
	if (lease_write(c, &want, 0, call) != 0)
		return call->err == KUBE_E_CONFLICT || call->err == KUBE_E_NOT_FOUND ? 1 : -1;
	*out = want;
	return 0;
}

int
kube_lease_renew(struct kube_client *c, struct kube_lease *l, struct kube_call *call)
{
	struct kube_call local = { 0 };
	struct kube_lease want;

	if (call == NULL)
		call = &local;
	if (l == NULL || l->holder[0] == '\0') {
		set_err(call, KUBE_E_OTHER, "Lease: nothing to renew");
		return -1;
	}
	want = *l;
	stamp(&want, wall_ms(), 0);
	if (lease_write(c, &want, 0, call) == 0) {
		*l = want;
		return 0;
	}
	if (call->err == KUBE_E_CONFLICT || call->err == KUBE_E_NOT_FOUND)
		return 1;
	return -1;
}

int
kube_lease_release(struct kube_client *c, struct kube_lease *l, struct kube_call *call)
{
	struct kube_call local = { 0 };
	struct kube_lease want;
	int64_t now = wall_ms();

	if (call == NULL)
		call = &local;
	if (l == NULL || l->holder[0] == '\0') {
		set_err(call, KUBE_E_OTHER, "Lease: nothing to release");
		return -1;
	}
	/* client-go's release: no holder, a one-second duration, both times
	 * now, transitions kept. */
	want = *l;
	want.holder[0] = '\0';
	want.duration_s = 1;
	stamp(&want, now, 1);
	if (lease_write(c, &want, 0, call) == 0) {
		*l = want;
		return 0;
	}
	if (call->err == KUBE_E_CONFLICT || call->err == KUBE_E_NOT_FOUND)
		return 1;
	return -1;
}
