/*
 * headless.c — see headless.h.
 *
 * Gates are answered from the engine's own callback (it runs on a worker
 * thread with no engine lock held, so posting from it is allowed); the
 * signal thread is the only place signals are taken, so no handler ever
 * touches the engine.
 */
#include "src/headless.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "src/engine.h"
#include "src/log.h"

void
headless_init(struct headless *h)
{
	memset(h, 0, sizeof *h);
	pthread_mutex_init(&h->mu, NULL);
	h->switch_answer = "--approve switch";
}

void
headless_attach(struct headless *h, struct eng *e)
{
	pthread_mutex_lock(&h->mu);
	h->e = e;
	pthread_mutex_unlock(&h->mu);
}

void
headless_on_event(void *ctx, const char *json)
{
	struct headless *h = ctx;
	cJSON *ev;
	char err[256];

	pthread_mutex_lock(&h->mu);
	fputs(json, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&h->mu);

	if (strstr(json, "\"event\":\"gate\"") == NULL || (ev = cJSON_Parse(json)) == NULL)
		return;
	const char *g = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "gate"));

	/* h->e is set before the engine starts and cleared only after it has
	 * ended: no event arrives outside that span */
	if (g != NULL && strcmp(g, "switch") == 0)
		eng_post(h->e, h->approve_switch ? ENG_CMD_CONFIRM : ENG_CMD_DECLINE, h->switch_answer, err,
		    sizeof err);
	else if (g != NULL && strcmp(g, "teardown") == 0)
		eng_post(h->e, h->approve_teardown ? ENG_CMD_CONFIRM : ENG_CMD_DECLINE, h->blue, err, sizeof err);
	cJSON_Delete(ev);
}

static void
signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

static void *
signal_main(void *arg)
{
	struct headless *h = arg;
	sigset_t set;
	int sig;
	char err[128];

	signal_set(&set);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		log_warn("headless", "signal %d: stopping at the next safe point", sig);
		pthread_mutex_lock(&h->mu);
		if (h->e != NULL)
			eng_post(h->e, ENG_CMD_ABORT, NULL, err, sizeof err);
		pthread_mutex_unlock(&h->mu);
	}
	return NULL;
}

void
headless_signals(struct headless *h)
{
	sigset_t set;
	pthread_t t;

	signal_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&t, NULL, signal_main, h) == 0)
		pthread_detach(t);
}

void
headless_error(struct headless *h, const char *prog, int code, const char *msg)
{
	cJSON *ev = cJSON_CreateObject();
	char *s;

	fprintf(stderr, "%s: %s\n", prog, msg);
	cJSON_AddNumberToObject(ev, "v", 1);
	cJSON_AddStringToObject(ev, "event", "error");
	cJSON_AddNumberToObject(ev, "exit", code);
	cJSON_AddStringToObject(ev, "message", msg);
	if ((s = cJSON_PrintUnformatted(ev)) != NULL) {
		pthread_mutex_lock(&h->mu);
		printf("%s\n", s);
		fflush(stdout);
		pthread_mutex_unlock(&h->mu);
		free(s);
	}
	cJSON_Delete(ev);
}
