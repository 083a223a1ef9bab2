/*
 * simclient.h — the simulator started in-process for a test, and an ARM
 * client of it that authenticates exactly as a user would: the credential
 * from the env file the simulator writes, its CA, and the subscription and
 * resource group of the bgswitch.yaml it writes.
 */
#ifndef TESTS_LIB_SIMCLIENT_H
#define TESTS_LIB_SIMCLIENT_H

#include "azure/arm.h"
#include "azure/credential.h"

/* A client of the simulator started in-process: its credential from the
 * env file it writes, its CA, the subscription and resource group of the
 * bgswitch.yaml it writes. */
struct simclient {
	char dir[256];
	char tenant[128], client[128], secret[256], authority[256];
	char ca[512], sub[128], rg[128];
	struct az_cred *cred;
	struct arm_client *arm;
	struct http_client *ctl;	/* made by the first simclient_ctl() */
};

/* Starts the simulator (speed 100, a fresh temp dir) and the client; fails
 * the test on any error. */
void simclient_start(struct simclient *x);
/* METHOD the simulator's control PATH ("/_sim/faults") with BODY (JSON or
 * NULL); fails the test unless the answer is 2xx.  The answer's body, or
 * NULL when OUT is NULL, is returned parsed in *OUT (cJSON_Delete it). */
struct cJSON;
void simclient_ctl(struct simclient *x, const char *method, const char *path, const char *body,
    struct cJSON **out);
/* The same at SPEED simulated seconds per real second. */
void simclient_start_speed(struct simclient *x, double speed);
/* Stops both and removes the temp dir. */
void simclient_stop(struct simclient *x);

#endif
