/*
 * cli.h — command table entries and the exit codes every command shares.
 */
#ifndef BGSWITCH_CLI_H
#define BGSWITCH_CLI_H

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,
	CLI_EXIT_USAGE = 2,		/* bad arguments or config */
	CLI_EXIT_UNAVAILABLE = 69,	/* command not built yet (sysexits EX_UNAVAILABLE) */
};

/* A command gets argv[0] = its own name. */
struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *help;
};

/* The commands that live in their own files (src/cmd_*.c). */
int cmd_status(int argc, char **argv);
int cmd_preflight(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_demo(int argc, char **argv);

#endif
