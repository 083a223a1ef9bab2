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
#include <unistd.h>

#include "src/cli.h"
#include "src/engine.h"
#include "src/headless.h"
#include "src/log.h"
#include "ui/theme.h"
#include "ui/ui.h"

static void
run_usage(FILE *f)
{
	fprintf(f,
	    "usage: bgswitch [run] -c FILE [--theme NAME] [--no-color] [--keep-running]\n"
	    "       bgswitch run -c FILE --headless [--approve switch,teardown] [OPTIONS]\n\n"
	    "The switchover FILE describes, T0 to T4, on the interactive screen\n"
	    "(bgswitch(1), SCREEN), or with --headless for pipelines.  A run that stopped\n"
	    "resumes from the journal when started again with the same FILE.\n\n"
	    "options:\n"
	    "  -c, --config FILE     the switchover's config (default: ./bgswitch.yaml)\n"
	    "      --headless        no screen: JSON-lines events on stdout\n"
	    "      --theme NAME      the screen's theme: default, light, colorblind, mono, or\n"
	    "                        a file (see bgswitch(1), THEMES)\n"
	    "      --no-color        no colours (as NO_COLOR does)\n"
	    "      --keep-running    if the terminal closes (SIGHUP), the run goes on without\n"
	    "                        the screen until it ends or stops at a gate\n"
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

static int
parse_approve(const char *s, struct headless *d)
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

/*
 * The screen: the engine runs as headless, the UI reads its model and
 * posts the operator's answers.  The terminal and the theme are checked
 * before anything starts; signals are the screen's (it restores the
 * terminal and stops the engine at a safe point).
 */
static int
interactive(const char *config, struct eng_opts *o, const struct ui_opts *uo)
{
	struct ui_opts ui = *uo;
	struct theme t;
	struct eng *e;
	char err[1024];
	int code;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "bgswitch: the screen needs a terminal on stdin and stdout; "
		    "--headless runs without one\n");
		return CLI_EXIT_USAGE;
	}
	o->config_path = config;
	if ((e = eng_new(o, err, sizeof err, &code)) == NULL) {
		fprintf(stderr, "bgswitch: %s\n", err);
		log_close();
		return code;
	}
	/* --theme, else the config's, else default; checked before the run
	 * starts (and takes the lock) */
	ui.theme = uo->theme != NULL ? uo->theme : eng_config_theme(e) != NULL ? eng_config_theme(e) : "default";
	if (theme_load(ui.theme, uo->force_mono, &t, err, sizeof err) != 0) {
		fprintf(stderr, "bgswitch: %s\n", err);
		eng_free(e);
		log_close();
		return CLI_EXIT_USAGE;
	}
	if ((code = eng_start(e, err, sizeof err)) != 0) {
		fprintf(stderr, "bgswitch: %s\n", err);
	} else if (ui_run(e, &ui, err, sizeof err) != 0) {
		fprintf(stderr, "bgswitch: %s (--headless runs without a screen)\n", err);
		eng_post(e, ENG_CMD_ABORT, NULL, err, sizeof err);
		code = eng_join(e);
	} else {
		struct eng_model *m = malloc(sizeof *m);

		/* The operator left while the run went on (and did not ask to
		 * keep it running): it stops at a safe point, state kept. */
		if (m != NULL) {
			eng_snapshot(e, m);
			if (!m->finished && !uo->keep_running)
				eng_post(e, ENG_CMD_ABORT, NULL, err, sizeof err);
			free(m);
		}
		code = eng_join(e);
	}
	eng_free(e);
	log_close();
	return code;
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
		{ "theme", required_argument, NULL, 't' },
		{ "no-color", no_argument, NULL, 'n' },
		{ "keep-running", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ui_opts uo = { 0 };
	struct headless d;
	struct eng_opts o = { 0 };
	const char *config = "bgswitch.yaml", *logfile = NULL;
	int headless = rollback_only, level = LOG_INFO, c, code;
	char err[1024];
	struct eng *e;

	headless_init(&d);
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
		case 't':
			uo.theme = optarg;
			break;
		case 'n':
			uo.force_mono = 1;
			break;
		case 'k':
			uo.keep_running = 1;
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
	/* The log goes to --log only: never to the terminal (the screen owns
	 * it) nor to stdout (events only). */
	if (logfile != NULL && log_open(logfile, (enum log_level)level) != 0) {
		fprintf(stderr, "bgswitch: cannot open log %s\n", logfile);
		return CLI_EXIT_USAGE;
	}
	if (logfile == NULL)
		log_set_level(LOG_OFF);
	if (!headless)
		return interactive(config, &o, &uo);

	/* Signals go to one thread that asks the engine to stop; every
	 * other thread (the engine's too) inherits its mask. */
	headless_signals(&d);
	o.config_path = config;
	o.rollback_only = rollback_only;
	o.on_event = headless_on_event;
	o.event_ctx = &d;
	if (getenv("BGSWITCH_RETRY_MS") != NULL)
		o.retry_ms = atol(getenv("BGSWITCH_RETRY_MS"));
	if (getenv("BGSWITCH_OBSERVE_MS") != NULL)
		o.observe_ms = atol(getenv("BGSWITCH_OBSERVE_MS"));
	if ((e = eng_new(&o, err, sizeof err, &code)) == NULL) {
		headless_error(&d, "bgswitch", code, err);
		log_close();
		return code;
	}
	snprintf(d.blue, sizeof d.blue, "%s", eng_blue_name(e));
	headless_attach(&d, e);
	if ((code = eng_start(e, err, sizeof err)) != 0)
		headless_error(&d, "bgswitch", code, err);
	else
		code = eng_join(e);
	headless_attach(&d, NULL);
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
