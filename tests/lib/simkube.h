/*
 * simkube.h — the simulator started in-process for a test on a world of its
 * own, and kube clients of its clusters made from the kubeconfig it writes,
 * as a user's kubectl would use it.  Shared by the tests that talk to the
 * simulated AKS API servers (test_sync, test_freeze, test_gitops).
 */
#ifndef TESTS_LIB_SIMKUBE_H
#define TESTS_LIB_SIMKUBE_H

#include "kube/kube_client.h"

#define SIMKUBE_CLIENTS 8

struct simkube {
	char dir[64];		/* the simulator's temp dir: kubeconfig, ca.pem, world.yaml */
	char ca[128];		/* DIR/ca.pem, the CA of every listener */
	struct kube_client *c[SIMKUBE_CLIENTS];	/* made by simkube_client() */
	int n;
};

/* Starts the simulator at SPEED simulated seconds per real second in a
 * fresh /tmp/bgswitch-NAME-XXXXXX, on WORLD (YAML text, written to
 * DIR/world.yaml) or on the built-in world when WORLD is NULL.  0, or -1
 * with a "# ..." line on stderr. */
int simkube_start(struct simkube *k, const char *name, double speed, const char *world);
/* The same on sim/worlds/default.yaml (read from the working directory, so
 * run from the repository root) with green made to exist: its line
 * "    exists: false\n" replaced by GREEN, the lines of green's entry that
 * follow its name ("    exists: true\n" first, then what the test wants
 * green to hold). */
int simkube_start_green(struct simkube *k, const char *name, double speed, const char *green);
/* A client of the cluster of CONTEXT in the simulator's kubeconfig, freed
 * by simkube_stop(); NULL, with a "# ..." line on stderr, on any error. */
struct kube_client *simkube_client(struct simkube *k, const char *context);
/* Frees the clients, stops the simulator and removes DIR: 0, or -1 when
 * the directory could not be removed. */
int simkube_stop(struct simkube *k);

#endif
