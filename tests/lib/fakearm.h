/*
 * fakearm.h — a scripted Azure Resource Manager for unit tests, and an ARM
 * client pointed at it.
 *
 * The server answers Entra's token endpoint itself (token "tok") and hands
 * every other request to the test's route, which fills in the reply; an
 * unrouted request gets 404 NoRoute.  Each test file keeps its own routes.
 */
#ifndef TESTS_LIB_FAKEARM_H
#define TESTS_LIB_FAKEARM_H

#include <pthread.h>

#include <cjson/cJSON.h>

struct MHD_Daemon;
struct az_cred;
struct arm_client;

/* An ARM request as the server received it. */
struct fakearm_rq {
	char method[8];
	char path[512];
	char if_match[256];
	char query[1024];		/* "k=v&k=v", values decoded */
	char *body;			/* NUL-terminated, "" when none */
};

/* What the route answers; set it with the functions below. */
struct fakearm_reply {
	unsigned status;
	char *body;			/* malloc'd */
	char hdr[4][2][800];
	int nh;
};

struct fakearm;
typedef void (*fakearm_route_fn)(struct fakearm *s, const struct fakearm_rq *q,
    struct fakearm_reply *r);

struct fakearm {
	struct MHD_Daemon *d;
	char base[64];			/* "http://127.0.0.1:PORT" */
	fakearm_route_fn route;
	void *ctx;			/* the route's state */
	pthread_mutex_t lock;
	char log[64][600];		/* "METHOD path" of ARM requests (under lock) */
	int nlog;
};

/* Starts the server with ROUTE and its CTX; fails the test on error. */
struct fakearm *fakearm_start(fakearm_route_fn route, void *ctx);
void fakearm_stop(struct fakearm *s);

/* Adds a response header; beyond four are dropped. */
void fakearm_hdr(struct fakearm_reply *r, const char *name, const char *value);
/* Sets the status and body (NULL for none). */
void fakearm_reply(struct fakearm_reply *r, unsigned status, const char *body);
void fakearm_reply_json(struct fakearm_reply *r, unsigned status, const cJSON *j);

/* A server, an environment credential whose authority is that server, and
 * an ARM client on it with millisecond retries and polls. */
struct fakearm_client {
	struct fakearm *s;
	struct {
		const char *kv[4][2];
	} env;
	struct az_cred *cred;
	struct arm_client *arm;
};

/* Starts F's server with ROUTE and CTX and makes its client; fails the test on error. */
void fakearm_client_init(struct fakearm_client *f, fakearm_route_fn route, void *ctx);
void fakearm_client_done(struct fakearm_client *f);

#endif
