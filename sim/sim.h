/*
 * sim.h — entry point of the simulated Azure + AKS world (`bgswitch sim`).
 */
#ifndef BGSWITCH_SIM_H
#define BGSWITCH_SIM_H

/* `bgswitch sim` command; argv[0] is "sim". */
int sim_cmd(int argc, char **argv);

#endif
