/* placeholder until preflight lands */
#include <stdio.h>
#include "src/cli.h"
int cmd_preflight(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "bgswitch: 'preflight' is not built yet\n"); return CLI_EXIT_UNAVAILABLE; }
