/*
 * main.c — the bgswitch command line: one binary, one table of commands.
 *
 * Each command is a function taking argc/argv after the command name.  The
 * table below is also the source of `bgswitch --help`, so help and dispatch
 * cannot drift apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "src/cli.h"
#include "sim/sim.h"

static const struct cli_command commands[] = {
	{ "run",       cmd_run,       "-c FILE [--headless]", "the switchover (default command); --headless for pipelines" },
	{ "demo",      cmd_demo,      "[--headless] [...]", "the switchover screen against the embedded simulator" },
	{ "status",    cmd_status,    "-c FILE [--json]", "observed state of both clusters, traffic and DNS" },
	{ "preflight", cmd_preflight, "-c FILE [--json]", "check config, credentials, permissions, connectivity" },
	{ "rollback",  cmd_rollback,  "-c FILE",        "put traffic back on blue (headless)" },
	{ "history",   cmd_history,   "-c FILE [--json]", "past and current runs from the journal" },
	{ "sim",       sim_cmd,       "--dir DIR [...]", "run the simulated Azure + AKS world" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void
usage(FILE *f)
{
	fprintf(f, "usage: bgswitch [COMMAND] [OPTIONS]\n\n"
	    "Blue-green switchover of Azure Kubernetes Service clusters.\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %-18s %s\n", commands[i].name, commands[i].args, commands[i].help);
	fprintf(f, "\noptions:\n"
	    "  -h, --help     this help; COMMAND --help for a command's options\n"
	    "  -V, --version  print the version\n\n"
	    "exit codes: 0 ok, 1 failure, 2 usage or config error, 69 command not built yet\n"
	    "See bgswitch(1).\n");
}

/* Tokens, client secrets and kubeconfig keys live in this process's memory:
 * no core file may carry them (PRODUCT.md §6).  RLIMIT_CORE 0 stops core
 * files; not dumpable also covers a core_pattern pipe, which ignores the
 * limit.  Sanitizer builds stay dumpable: LeakSanitizer needs ptrace. */
static void
no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
#if !defined(__SANITIZE_ADDRESS__)
#if defined(__has_feature)
#if !__has_feature(address_sanitizer)
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
#else
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
#endif
}

int
main(int argc, char **argv)
{
	const char *name = "run";
	int first = 1;

	no_core_dumps();

	if (argc >= 2) {
		if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
			printf("bgswitch %s\n", BGSWITCH_VERSION);
			return 0;
		}
		if (argv[1][0] != '-') {
			name = argv[1];
			first = 2;
		}
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].fn(argc - first + 1, argv + first - 1);
	fprintf(stderr, "bgswitch: unknown command '%s' (see bgswitch --help)\n", name);
	return CLI_EXIT_USAGE;
}
