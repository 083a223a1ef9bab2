#include <stdio.h>
#include "sim/sim.h"
int sim_cmd(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "sim: not yet\n"); return 69; }
