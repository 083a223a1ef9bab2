/*
 * sim.h — the simulated Azure + AKS world, as the rest of bgswitch sees it:
 * the `bgswitch sim` command, and start/stop for running it in-process
 * (`bgswitch demo`, tests).
 */
#ifndef BGSWITCH_SIM_H
#define BGSWITCH_SIM_H

#include <stddef.h>

struct sim_opts {
	const char *dir;	/* where ca.pem, kubeconfig, ... are written */
	const char *world;	/* world file, NULL for the built-in one */
	double speed;		/* 0: the world's own */
	int port;		/* 0: any free port */
	int plain_http;
};

/* `bgswitch sim` command; argv[0] is "sim". */
int sim_cmd(int argc, char **argv);
/* Starts the world and its listener in background threads; 0, or -1 with
 * ERR set.  One world at a time per process; after sim_stop() a new one
 * may be started, and nothing of the old one is left in it. */
int sim_start(const struct sim_opts *o, char *err, size_t errlen);
/* Stops serving and frees the world. */
void sim_stop(void);
/* "https://127.0.0.1:PORT" once started. */
const char *sim_base_url(void);

#endif
