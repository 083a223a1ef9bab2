/*
 * testenv.c — see testenv.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/lib/testenv.h"

const char *
testenv_get(void *ctx, const char *name)
{
	struct testenv *e = ctx;

	for (int i = 0; i < e->n; i++)
		if (strcmp(e->kv[i][0], name) == 0)
			return e->kv[i][1];
	return NULL;
}

void
testenv_set(struct testenv *e, const char *k, const char *v)
{
	assert_true(e->n < TESTENV_MAX);
	e->kv[e->n][0] = k;
	e->kv[e->n][1] = v;
	e->n++;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
testlib_rmtree(const char *dir)
{
	/* Depth first, so a directory is removed after what it holds. */
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
