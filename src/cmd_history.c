/*
 * cmd_history.c — `bgswitch history -c FILE [--json]`: the runs of one
 * switchover, from its journal, oldest first and the newest last, where an
 * operator's eye lands after the command returns.
 *
 * Reading never changes the journal, so history is safe while a run is
 * writing it.  A damaged journal is an error naming the line (exit 1), not
 * a shorter list: a history that silently leaves out a run would mislead
 * whoever is deciding whether a switchover is still in progress.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "src/cli.h"
#include "src/config.h"
#include "src/journal.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bgswitch history -c FILE [--json]\n\n"
	    "The runs of the switchover FILE names, from its journal\n"
	    "($XDG_STATE_HOME/bgswitch/NAME.journal), oldest first.\n\n"
	    "options:\n"
	    "  -c, --config FILE    the switchover's config (its name finds the journal)\n"
	    "      --json           a JSON array of runs instead of the table ([] if none)\n"
	    "  -h, --help           this help\n\n"
	    "exit status: 0 ok (also when no run is recorded yet), 1 the journal cannot be\n"
	    "read or is damaged (the line is named), 2 bad arguments or config.\n");
}

/* "45s", "12m03s", "2h05m": what an operator reads at a glance. */
static void
fmt_duration(long long ms, char *out, size_t outlen)
{
	long long s = ms / 1000;

	if (s < 60)
		snprintf(out, outlen, "%llds", s);
	else if (s < 3600)
		snprintf(out, outlen, "%lldm%02llds", s / 60, s % 60);
	else
		snprintf(out, outlen, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
}

/* "2024-05-01T10:00:00.123Z" -> "2024-05-01T10:00:00Z": seconds suffice on
 * screen; --json keeps the milliseconds. */
static void
fmt_started(const char *ts, char *out, size_t outlen)
{
	if (strlen(ts) >= 19)
		snprintf(out, outlen, "%.19sZ", ts);
	else
		snprintf(out, outlen, "%s", ts);
}

static void
print_table(const struct journal_run *runs, size_t n)
{
	int whow = 3;

	for (size_t i = 0; i < n; i++) {
		int w = (int)strlen(runs[i].who[0] != '\0' ? runs[i].who : "?");

		if (w > whow)
			whow = w;
	}
	printf("%-8s  %-20s  %-*s  %-11s  %-11s  %s\n", "RUN", "STARTED", whow, "WHO", "STAGE", "RESULT",
	    "DURATION");
	for (size_t i = 0; i < n; i++) {
		const struct journal_run *r = &runs[i];
		char started[40], stage[24], dur[32];

		fmt_started(r->started, started, sizeof started);
		if (r->stage >= 0)
			snprintf(stage, sizeof stage, "%s %s", journal_stage_name(r->stage),
			    journal_stage_state_name(r->state));
		else
			snprintf(stage, sizeof stage, "-");
		fmt_duration(r->duration_ms, dur, sizeof dur);
		printf("%-8.8s  %-20s  %-*s  %-11s  %-11s  %s\n", r->id, started, whow,
		    r->who[0] != '\0' ? r->who : "?", stage,
		    r->ended ? journal_result_name(r->result) : "in progress", dur);
	}
}

static int
print_json(const struct journal_run *runs, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	char *s;

	for (size_t i = 0; i < n && arr != NULL; i++) {
		const struct journal_run *r = &runs[i];
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(arr, o))
			break;
		cJSON_AddStringToObject(o, "run", r->id);
		cJSON_AddStringToObject(o, "started", r->started);
		if (r->ended)
			cJSON_AddStringToObject(o, "ended", r->last);
		else
			cJSON_AddNullToObject(o, "ended");
		cJSON_AddStringToObject(o, "last", r->last);
		cJSON_AddStringToObject(o, "who", r->who);
		cJSON_AddNumberToObject(o, "pid", (double)r->pid);
		cJSON_AddStringToObject(o, "config", r->config);
		cJSON_AddStringToObject(o, "blue", r->blue);
		cJSON_AddStringToObject(o, "green", r->green);
		if (r->stage >= 0) {
			cJSON_AddStringToObject(o, "stage", journal_stage_name(r->stage));
			cJSON_AddStringToObject(o, "state", journal_stage_state_name(r->state));
		} else {
			cJSON_AddNullToObject(o, "stage");
			cJSON_AddNullToObject(o, "state");
		}
		if (r->ended)
			cJSON_AddStringToObject(o, "result", journal_result_name(r->result));
		else
			cJSON_AddNullToObject(o, "result");
		cJSON_AddBoolToObject(o, "inProgress", !r->ended);
		cJSON_AddNumberToObject(o, "durationMs", (double)r->duration_ms);
	}
	if (arr == NULL || (s = cJSON_Print(arr)) == NULL) {
		cJSON_Delete(arr);
		fprintf(stderr, "bgswitch history: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	printf("%s\n", s);
	cJSON_free(s);
	cJSON_Delete(arr);
	return CLI_EXIT_OK;
}

int
cmd_history(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL;
	char path[PATH_MAX], err[1024], torn[160];
	struct journal_run *runs = NULL;
	size_t nruns = 0;
	struct cfg cfg;
	int json = 0, ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return CLI_EXIT_OK;
		default: usage(stderr); return CLI_EXIT_USAGE;
		}
	}
	if (cfgpath == NULL || optind < argc) {
		if (optind < argc)
			fprintf(stderr, "bgswitch history: unexpected argument '%s'\n", argv[optind]);
		else
			fprintf(stderr, "bgswitch history: -c FILE is required\n");
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (cfg_load(cfgpath, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "bgswitch history: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	if (journal_path(cfg.name, path, sizeof path, err, sizeof err) != 0) {
		fprintf(stderr, "bgswitch history: %s\n", err);
		cfg_free(&cfg);
		return CLI_EXIT_FAIL;
	}
	if (journal_runs(path, &runs, &nruns, torn, sizeof torn, err, sizeof err) != 0) {
		fprintf(stderr, "bgswitch history: %s\n", err);
		cfg_free(&cfg);
		return CLI_EXIT_FAIL;
	}
	/* A torn last line is what a crash mid-write leaves; it was never
	 * acknowledged, so the list is complete, but the operator should know. */
	if (torn[0] != '\0')
		fprintf(stderr, "bgswitch history: note: ignored a torn last line of %s (%s)\n", path, torn);
	rc = CLI_EXIT_OK;
	if (json)
		rc = print_json(runs, nruns);
	else if (nruns == 0)
		printf("no runs recorded for %s (journal: %s)\n", cfg.name, path);
	else
		print_table(runs, nruns);
	journal_runs_free(runs, nruns);
	cfg_free(&cfg);
	return rc;
}
