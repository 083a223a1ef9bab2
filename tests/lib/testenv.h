/*
 * testenv.h — what a test sets up around the code it runs: an environment
 * it injects into code that takes a getenv function
 * (az_cred_config.getenv_fn), so tests never setenv() the process-wide
 * environment under threads; and the removal of its temp directories.
 */
#ifndef TESTS_LIB_TESTENV_H
#define TESTS_LIB_TESTENV_H

#define TESTENV_MAX 32

struct testenv {
	const char *kv[TESTENV_MAX][2];	/* borrowed strings */
	int n;
};

/* getenv for CTX, a struct testenv *: the value set for NAME, or NULL. */
const char *testenv_get(void *ctx, const char *name);
/* Adds K=V (fails the test when full). */
void testenv_set(struct testenv *e, const char *k, const char *v);

/* Removes DIR and everything under it, symlinks not followed: 0, or -1. */
int testlib_rmtree(const char *dir);

#endif
