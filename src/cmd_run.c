/*
 * cmd_run.c — `bgswitch run --headless` and `bgswitch rollback`: the
 * engine driven without a screen, for pipelines and for an operator's
 * one-shot rollback.
 *
 * The driver is small on purpose: it prints the engine's events as JSON
 * lines on stdout (the schema is in bgswitch(1), HEADLESS EVENTS), answers
 * each gate from --approve (confirm, or stop there with exit 3 so that a
 * later run with approval continues from the journal), turns SIGINT and
 * SIGTERM into an abort at the next safe point, and exits with the
 * engine's code.  Logs go to --log FILE; stdout carries events only, so a
 * pipeline can parse every line.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "src/cli.h"
#include "src/engine.h"
#include "src/log.h"

struct driver {
	struct eng *e;
	int approve_switch, approve_teardown;
	char blue[128];
	pthread_mutex_t out;
	pthread_mutex_t sig;	/* guards E for the signal thread */
};

static void
run_usage(FILE *f)
{
	fprintf(f,
	    "usage: bgswitch run -c FILE --headless [--approve switch,teardown] [OPTIONS]\n\n"
	    "The switchover FILE describes, T0 to T4.  Without --headless it runs the\n"
	    "interactive screen (bgswitch(1), SCREEN).  A run that stopped resumes from the\n"
	    "journal when started again with the same FILE.\n\n"
	    "options:\n"
	    "  -c, --config FILE     the switchover's config (default: ./bgswitch.yaml)\n"
	    "      --headless        no screen: JSON-lines events on stdout\n"
	    "      --approve GATES   gates confirmed without asking: switch, teardown, or\n"
	    "                        both (comma-separated); an unapproved gate stops the run\n"
	    "                        with exit 3, its state kept\n"
	    "      --take-over       take the switchover's lock from a holder whose Lease\n"
	    "                        has expired\n"
	    "      --log FILE        write the log to FILE (default: none; events carry it)\n"
	    "      --log-level L     debug, info, warn, error (default: info)\n"
	    "  -h, --help            this help\n\n"
	    "exit status: 0 done, 2 usage or config error, 3 stopped at a gate that was not\n"
	    "approved (run again to continue), 4 rolled back, 5 failed or interrupted (state\n"
	    "kept), 6 the switchover is locked by someone else (the holder is named).\n");
}

static void
rollback_usage(FILE *f)
{
	fprintf(f,
	    "usage: bgswitch rollback -c FILE [OPTIONS]\n\n"
	    "Puts traffic back on blue: the gateway's rule and the DNS record are restored\n"
	    "to what they were before the switchover's first change, as its journal recorded\n"
	    "them.  Allowed until teardown begins.  Events are JSON lines on stdout, as for\n"
	    "run --headless.\n\n"
	    "options:\n"
	    "  -c, --config FILE     the switchover's config (default: ./bgswitch.yaml)\n"
	    "      --take-over       take the lock from a holder whose Lease has expired\n"
	    "      --log FILE        write the log to FILE\n"
	    "      --log-level L     debug, info, warn, error (default: info)\n"
	    "  -h, --help            this help\n\n"
	    "exit status: 0 traffic is on blue (also when nothing had moved), 2 usage or\n"
	    "config error, 5 failed (the journal says how far it got), 6 the switchover is\n"
	    "locked by someone else (stop that run, or press R in its screen).\n");
}

static void
on_event(void *ctx, const char *json)
{
	struct driver *d = ctx;
	cJSON *ev;

	pthread_mutex_lock(&d->out);
	fputs(json, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&d->out);

	if (strstr(json, "\"event\":\"gate\"") == NULL || (ev = cJSON_Parse(json)) == NULL)
		return;
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(ev, "gate");
	char err[256];

	if (cJSON_IsString(g) && strcmp(g->valuestring, "switch") == 0)
		eng_post(d->e, d->approve_switch ? ENG_CMD_CONFIRM : ENG_CMD_DECLINE, "--approve switch", err,
		    sizeof err);
	else if (cJSON_IsString(g) && strcmp(g->valuestring, "teardown") == 0)
		eng_post(d->e, d->approve_teardown ? ENG_CMD_CONFIRM : ENG_CMD_DECLINE, d->blue, err, sizeof err);
	cJSON_Delete(ev);
}

static void *
signal_main(void *arg)
{
	struct driver *d = arg;
	sigset_t set;
	int sig;
	char err[128];

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		log_warn("run", "signal %d: stopping at the next safe point", sig);
		/* d->e goes NULL (under d->sig) before the engine is freed */
		pthread_mutex_lock(&d->sig);
		if (d->e != NULL)
			eng_post(d->e, ENG_CMD_ABORT, NULL, err, sizeof err);
		pthread_mutex_unlock(&d->sig);
	}
	return NULL;
}

static int
parse_approve(const char *s, struct driver *d)
{
	char buf[128], *tok, *save = NULL;

	snprintf(buf, sizeof buf, "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "switch") == 0)
			d->approve_switch = 1;
		else if (strcmp(tok, "teardown") == 0)
			d->approve_teardown = 1;
		else {
			fprintf(stderr, "bgswitch: --approve takes switch and/or teardown, not '%s'\n", tok);
			return -1;
		}
	}
	return 0;
}

static void
print_error(struct driver *d, int code, const char *msg)
{
	cJSON *ev = cJSON_CreateObject();
	char *s;

	fprintf(stderr, "bgswitch: %s\n", msg);
	cJSON_AddNumberToObject(ev, "v", 1);
	cJSON_AddStringToObject(ev, "event", "error");
	cJSON_AddNumberToObject(ev, "exit", code);
	cJSON_AddStringToObject(ev, "message", msg);
	if ((s = cJSON_PrintUnformatted(ev)) != NULL) {
		pthread_mutex_lock(&d->out);
		printf("%s\n", s);
		fflush(stdout);
		pthread_mutex_unlock(&d->out);
		free(s);
	}
	cJSON_Delete(ev);
}

static int
drive(int argc, char **argv, int rollback_only)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "headless", no_argument, NULL, 'H' },
		{ "approve", required_argument, NULL, 'a' },
		{ "take-over", no_argument, NULL, 'T' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct driver d;
	struct eng_opts o = { 0 };
	const char *config = "bgswitch.yaml", *logfile = NULL;
	int headless = rollback_only, level = LOG_INFO, c, code;
	char err[1024];
	pthread_t sigt;
	sigset_t set;
	struct eng *e;

	memset(&d, 0, sizeof d);
	pthread_mutex_init(&d.out, NULL);
	pthread_mutex_init(&d.sig, NULL);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'H':
			headless = 1;
			break;
		case 'a':
			if (rollback_only) {
				fprintf(stderr, "bgswitch rollback: --approve does not apply\n");
				return CLI_EXIT_USAGE;
			}
			if (parse_approve(optarg, &d) != 0)
				return CLI_EXIT_USAGE;
			break;
		case 'T':
			o.take_over = 1;
			break;
		case 'l':
			logfile = optarg;
			break;
		case 'L':
			if ((level = log_level_parse(optarg)) < 0) {
				fprintf(stderr, "bgswitch: --log-level takes debug, info, warn or error, not '%s'\n",
				    optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h':
			(rollback_only ? rollback_usage : run_usage)(stdout);
			return CLI_EXIT_OK;
		default:
			(rollback_only ? rollback_usage : run_usage)(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bgswitch: unexpected argument '%s'\n", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (!headless) {
		fprintf(stderr, "bgswitch: the interactive screen is not built yet (it lands with issue #5);\n"
		    "use: bgswitch run -c %s --headless [--approve switch,teardown]\n", config);
		return CLI_EXIT_UNAVAILABLE;
	}
	if (logfile != NULL) {
		if (log_open(logfile, (enum log_level)level) != 0) {
			fprintf(stderr, "bgswitch: cannot open log %s\n", logfile);
			return CLI_EXIT_USAGE;
		}
	} else {
		log_set_level(LOG_OFF);
	}

	/* Signals go to one thread that asks the engine to stop; every
	 * other thread (the engine's too) inherits this mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	o.config_path = config;
	o.rollback_only = rollback_only;
	o.on_event = on_event;
	o.event_ctx = &d;
	if (getenv("BGSWITCH_RETRY_MS") != NULL)
		o.retry_ms = atol(getenv("BGSWITCH_RETRY_MS"));
	if (getenv("BGSWITCH_OBSERVE_MS") != NULL)
		o.observe_ms = atol(getenv("BGSWITCH_OBSERVE_MS"));
	if ((d.e = eng_new(&o, err, sizeof err, &code)) == NULL) {
		print_error(&d, code, err);
		log_close();
		return code;
	}
	{
		struct eng_model m;

		eng_snapshot(d.e, &m);
		snprintf(d.blue, sizeof d.blue, "%s", m.clusters[0].name);
	}
	pthread_create(&sigt, NULL, signal_main, &d);
	pthread_detach(sigt);
	if ((code = eng_start(d.e, err, sizeof err)) != 0)
		print_error(&d, code, err);
	else
		code = eng_join(d.e);
	pthread_mutex_lock(&d.sig);
	e = d.e;
	d.e = NULL;
	pthread_mutex_unlock(&d.sig);
	eng_free(e);
	log_close();
	return code;
}

int
cmd_run(int argc, char **argv)
{
	return drive(argc, argv, 0);
}

int
cmd_rollback(int argc, char **argv)
{
	return drive(argc, argv, 1);
}
