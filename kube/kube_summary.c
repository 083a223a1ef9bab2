/*
 * kube_summary.c — names, API-text parsing and health classification for
 * the compact object summaries of kube_summary.h.
 *
 * The classifications condense a summary into the one word the screen shows
 * (a pod is crash-looping, a node NotReady, a deployment stalled).  They
 * follow kubectl, which is what an on-call engineer compares us with: the
 * pod columns of `kubectl get pods` (pkg/printers/internalversion/printers.go,
 * printPod) and the rollout rules of `kubectl rollout status`
 * (kubectl/pkg/polymorphichelpers/rollout_status.go, DeploymentStatusViewer).
 */
#include "kube/kube_summary.h"

#include <string.h>

#define LIT_EQ(s, len, lit) \
	((len) == sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

const char *
kube_kind_str(enum kube_kind k)
{
	switch (k) {
	case KUBE_KIND_POD:		return "Pod";
	case KUBE_KIND_NODE:		return "Node";
	case KUBE_KIND_DEPLOYMENT:	return "Deployment";
	case KUBE_KIND_STATUS:		return "Status";
	case KUBE_KIND_OTHER:		break;
	}
	return "other";
}

const char *
kube_cond_str(enum kube_cond c)
{
	switch (c) {
	case KUBE_COND_TRUE:	return "True";
	case KUBE_COND_FALSE:	return "False";
	case KUBE_COND_UNKNOWN:	return "Unknown";
	case KUBE_COND_ABSENT:	break;
	}
	return "absent";
}

const char *
kube_phase_str(enum kube_phase p)
{
	switch (p) {
	case KUBE_PHASE_PENDING:	return "Pending";
	case KUBE_PHASE_RUNNING:	return "Running";
	case KUBE_PHASE_SUCCEEDED:	return "Succeeded";
	case KUBE_PHASE_FAILED:		return "Failed";
	case KUBE_PHASE_UNKNOWN:	return "Unknown";
	case KUBE_PHASE_NONE:		break;
	}
	return "";
}

const char *
kube_pod_health_str(enum kube_pod_health h)
{
	switch (h) {
	case KUBE_POD_READY:		return "ready";
	case KUBE_POD_SUCCEEDED:	return "succeeded";
	case KUBE_POD_NOT_READY:	return "not ready";
	case KUBE_POD_PENDING:		return "pending";
	case KUBE_POD_UNSCHEDULABLE:	return "unschedulable";
	case KUBE_POD_IMAGE_PULL:	return "image pull error";
	case KUBE_POD_CRASHLOOP:	return "crash-looping";
	case KUBE_POD_FAILED:		return "failed";
	case KUBE_POD_TERMINATING:	return "terminating";
	}
	return "?";
}

enum kube_kind
kube_kind_from(const char *s, size_t len)
{
	if (LIT_EQ(s, len, "Pod"))
		return KUBE_KIND_POD;
	if (LIT_EQ(s, len, "Node"))
		return KUBE_KIND_NODE;
	if (LIT_EQ(s, len, "Deployment"))
		return KUBE_KIND_DEPLOYMENT;
	if (LIT_EQ(s, len, "Status"))
		return KUBE_KIND_STATUS;
	return KUBE_KIND_OTHER;
}

enum kube_cond
kube_cond_from(const char *s, size_t len)
{
	/* ConditionStatus is "True", "False" or "Unknown" (core/v1 types.go);
	 * anything else is as good as Unknown for a health check. */
	if (LIT_EQ(s, len, "True"))
		return KUBE_COND_TRUE;
	if (LIT_EQ(s, len, "False"))
		return KUBE_COND_FALSE;
	return KUBE_COND_UNKNOWN;
}

enum kube_phase
kube_phase_from(const char *s, size_t len)
{
	if (LIT_EQ(s, len, "Running"))
		return KUBE_PHASE_RUNNING;
	if (LIT_EQ(s, len, "Pending"))
		return KUBE_PHASE_PENDING;
	if (LIT_EQ(s, len, "Succeeded"))
		return KUBE_PHASE_SUCCEEDED;
	if (LIT_EQ(s, len, "Failed"))
		return KUBE_PHASE_FAILED;
	return KUBE_PHASE_UNKNOWN;
}

enum kube_pod_health
kube_pod_health(const struct kube_object *o)
{
	const struct kube_pod *p = &o->pod;

	/* kubectl shows "Terminating" whatever else is going on, because the
	 * pod is on its way out and its other states no longer matter. */
	if (o->meta.terminating)
		return KUBE_POD_TERMINATING;
	if (p->phase == KUBE_PHASE_SUCCEEDED)
		return KUBE_POD_SUCCEEDED;
	if (p->phase == KUBE_PHASE_FAILED)
		return KUBE_POD_FAILED;
	if (p->crashlooping > 0)
		return KUBE_POD_CRASHLOOP;
	if (p->image_pull_errors > 0)
		return KUBE_POD_IMAGE_PULL;
	if (p->scheduled == KUBE_COND_FALSE)
		return KUBE_POD_UNSCHEDULABLE;
	if (p->phase == KUBE_PHASE_PENDING || p->phase == KUBE_PHASE_NONE)
		return KUBE_POD_PENDING;
	if (p->ready == KUBE_COND_TRUE)
		return KUBE_POD_READY;
	return KUBE_POD_NOT_READY;
}

enum kube_node_health
kube_node_health(const struct kube_object *o)
{
	/* The node lifecycle controller sets Ready to Unknown when the kubelet
	 * stops posting status; a node with no Ready condition yet has never
	 * reported, which is no better. */
	switch (o->node.ready) {
	case KUBE_COND_TRUE:	return KUBE_NODE_READY;
	case KUBE_COND_FALSE:	return KUBE_NODE_NOT_READY;
	case KUBE_COND_UNKNOWN:
	case KUBE_COND_ABSENT:	break;
	}
	return KUBE_NODE_UNKNOWN;
}

enum kube_deploy_health
kube_deploy_health(const struct kube_object *o)
{
	const struct kube_deployment *d = &o->deploy;

	/* The deployment controller sets Progressing to False with reason
	 * ProgressDeadlineExceeded once spec.progressDeadlineSeconds pass
	 * without progress ("Deployments", Failed Deployment). */
	if (LIT_EQ(d->progressing_reason, strlen(d->progressing_reason),
	    "ProgressDeadlineExceeded"))
		return KUBE_DEPLOY_STALLED;
	if (d->available == KUBE_COND_FALSE)
		return KUBE_DEPLOY_UNAVAILABLE;
	/* kubectl rollout status, in its order. */
	if (o->meta.generation > d->observed_generation)
		return KUBE_DEPLOY_PROGRESSING;
	if (d->updated_replicas < d->spec_replicas)
		return KUBE_DEPLOY_PROGRESSING;
	if (d->replicas > d->updated_replicas)
		return KUBE_DEPLOY_PROGRESSING;
	if (d->available_replicas < d->updated_replicas)
		return KUBE_DEPLOY_PROGRESSING;
	return KUBE_DEPLOY_AVAILABLE;
}

bool
kube_status_expired(const struct kube_status *s)
{
	/* "API Concepts", Efficient detection of changes: a watch or list
	 * from a resourceVersion the server no longer has answers 410 Gone;
	 * the reasons are metav1.StatusReasonExpired and StatusReasonGone. */
	return s->code == 410 || strcmp(s->reason, "Expired") == 0 ||
	    strcmp(s->reason, "Gone") == 0;
}

/* ---- RFC 3339 times ------------------------------------------------------ */

static int
digits(const char *s, size_t len, size_t at, size_t n, int *out)
{
	int v = 0;

	if (at + n > len)
		return -1;
	for (size_t i = at; i < at + n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to Y-M-D in the proleptic Gregorian calendar.  The
 * year is shifted to start in March so that February's leap day comes
 * last; then whole 400-year cycles are 146097 days, and the day of the
 * shifted year follows from the month lengths 31,30,31,30,31 repeating
 * (153 days per five months). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t yy = y - (m <= 2);
	int64_t cycle = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t year_of_cycle = yy - cycle * 400;
	int64_t month_from_march = (m + 9) % 12;
	int64_t day_of_year = (153 * month_from_march + 2) / 5 + d - 1;
	int64_t day_of_cycle = year_of_cycle * 365 + year_of_cycle / 4 -
	    year_of_cycle / 100 + day_of_year;

	return cycle * 146097 + day_of_cycle - 719468;
}

int
kube_time_parse(const char *s, size_t len, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, h, mi, sec = 0, oh = 0, om = 0;
	size_t i;
	int64_t t;

	if (digits(s, len, 0, 4, &y) || len < 16 || s[4] != '-' ||
	    digits(s, len, 5, 2, &mo) || s[7] != '-' ||
	    digits(s, len, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' &&
	    s[10] != ' ') || digits(s, len, 11, 2, &h) || s[13] != ':' ||
	    digits(s, len, 14, 2, &mi))
		return -1;
	i = 16;
	if (i < len && s[i] == ':') {
		if (digits(s, len, i + 1, 2, &sec))
			return -1;
		i += 3;
		if (i < len && s[i] == '.') {
			size_t f = ++i;

			while (i < len && s[i] >= '0' && s[i] <= '9')
				i++;
			if (i == f)
				return -1;
		}
	}
	if (i >= len)
		return -1;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		if (digits(s, len, i + 1, 2, &oh) || i + 3 >= len ||
		    s[i + 3] != ':' || digits(s, len, i + 4, 2, &om))
			return -1;
		if (s[i] == '-') {
			oh = -oh;
			om = -om;
		}
		i += 6;
	} else {
		return -1;
	}
	/* 60 is a leap second, which RFC 3339 allows. */
	if (i != len || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	*out = t - (int64_t)oh * 3600 - (int64_t)om * 60;
	return 0;
}
