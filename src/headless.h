/*
 * headless.h — what `run --headless`, `rollback` and `demo --headless`
 * share: the engine's events printed as JSON lines on stdout, the gates
 * answered from a fixed approval, and SIGINT/SIGTERM/SIGHUP turned into an
 * abort at the next safe point.
 */
#ifndef BGSWITCH_HEADLESS_H
#define BGSWITCH_HEADLESS_H

#include <pthread.h>

struct eng;

struct headless {
	struct eng *e;			/* set with headless_attach() */
	int approve_switch, approve_teardown;
	const char *switch_answer;	/* journaled as the switch confirmation */
	char blue[128];			/* typed at the teardown gate */
	pthread_mutex_t mu;		/* stdout lines, and E for the signal thread */
};

void headless_init(struct headless *h);
/* The engine's on_event: prints JSON, answers gates (an unapproved gate is
 * declined: the run stops there with exit 3). */
void headless_on_event(void *ctx, const char *json);
/* Blocks SIGINT, SIGTERM and SIGHUP in this thread (and so in every thread
 * started after it) and starts the thread that turns them into aborts.
 * Call before the engine starts its threads. */
void headless_signals(struct headless *h);
/* E is the engine signals and gates act on from now (NULL: none; call
 * with NULL before freeing it). */
void headless_attach(struct headless *h, struct eng *e);
/* {"v":1,"event":"error","exit":CODE,"message":MSG} on stdout, MSG on stderr. */
void headless_error(struct headless *h, const char *prog, int code, const char *msg);

#endif
