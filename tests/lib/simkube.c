/*
 * simkube.c — see simkube.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kubeconfig.h"
#include "sim/sim.h"
#include "tests/lib/simkube.h"
#include "tests/lib/testenv.h"

#define DEFAULT_WORLD "sim/worlds/default.yaml"
#define GREEN_ABSENT "    exists: false\n"

/* The default world with green's "exists: false" replaced by ENTRY;
 * malloc'd, or NULL with a "# ..." line on stderr. */
static char *
world_green(const char *entry)
{
	char text[16384], *at, *out;
	FILE *f = fopen(DEFAULT_WORLD, "r");
	size_t n, head;

	if (f == NULL) {
		fprintf(stderr, "# cannot read %s (run from the repository root)\n", DEFAULT_WORLD);
		return NULL;
	}
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	/* Blue exists in the default world; green's is the one absent entry. */
	at = strstr(text, GREEN_ABSENT);
	if (at == NULL) {
		fprintf(stderr, "# %s has no \"exists: false\" for green\n", DEFAULT_WORLD);
		return NULL;
	}
	head = (size_t)(at - text);
	if ((out = malloc(n + strlen(entry) + 1)) == NULL)
		return NULL;
	memcpy(out, text, head);
	strcpy(out + head, entry);
	strcat(out + head, at + strlen(GREEN_ABSENT));
	return out;
}

/* A fresh /tmp/bgswitch-NAME-XXXXXX for K.  It is made before anything
 * else can fail, so that the group teardown, which cmocka runs even when
 * the setup failed, has a directory to remove. */
static int
make_dir(struct simkube *k, const char *name)
{
	memset(k, 0, sizeof *k);
	snprintf(k->dir, sizeof k->dir, "/tmp/bgswitch-%s-XXXXXX", name);
	if (mkdtemp(k->dir) == NULL) {
		fprintf(stderr, "# mkdtemp %s failed\n", k->dir);
		return -1;
	}
	snprintf(k->ca, sizeof k->ca, "%s/ca.pem", k->dir);
	return 0;
}

/* Starts the simulator in K's directory on WORLD, or the built-in one. */
static int
start_in(struct simkube *k, double speed, const char *world)
{
	struct sim_opts o = { 0 };
	char err[1024], path[128];
	FILE *f;

	if (world != NULL) {
		snprintf(path, sizeof path, "%s/world.yaml", k->dir);
		if ((f = fopen(path, "w")) != NULL && fputs(world, f) == EOF) {
			fclose(f);
			f = NULL;
		}
		if (f == NULL || fclose(f) != 0) {
			fprintf(stderr, "# cannot write %s\n", path);
			return -1;
		}
		o.world = path;
	}
	o.dir = k->dir;
	o.speed = speed;
	if (sim_start(&o, err, sizeof err) != 0) {
		fprintf(stderr, "# sim_start: %s\n", err);
		return -1;
	}
	return 0;
}

int
simkube_start(struct simkube *k, const char *name, double speed, const char *world)
{
	if (make_dir(k, name) != 0)
		return -1;
	return start_in(k, speed, world);
}

int
simkube_start_green(struct simkube *k, const char *name, double speed, const char *green)
{
	char *world;
	int rc;

	if (make_dir(k, name) != 0 || (world = world_green(green)) == NULL)
		return -1;
	rc = start_in(k, speed, world);
	free(world);
	return rc;
}

struct kube_client *
simkube_client(struct simkube *k, const char *context)
{
	char err[KUBECONFIG_ERR_SIZE] = "", path[128];
	struct kubeconfig *kc;
	struct kubeconfig_target t;
	struct kube_client *c;

	if (k->n == SIMKUBE_CLIENTS) {
		fprintf(stderr, "# more than %d simulator clients\n", SIMKUBE_CLIENTS);
		return NULL;
	}
	snprintf(path, sizeof path, "%s/kubeconfig", k->dir);
	kc = kubeconfig_load(path, err, sizeof err);
	if (kc == NULL || kubeconfig_resolve(kc, context, &t, err, sizeof err) != 0) {
		fprintf(stderr, "# kubeconfig %s: %s\n", context, err);
		kubeconfig_free(kc);
		return NULL;
	}
	c = kube_client_new(&t, NULL, err, sizeof err);
	if (c == NULL)
		fprintf(stderr, "# kube_client_new: %s\n", err);
	else
		k->c[k->n++] = c;
	kubeconfig_target_free(&t);
	kubeconfig_free(kc);
	return c;
}

int
simkube_stop(struct simkube *k)
{
	while (k->n > 0)
		kube_client_free(k->c[--k->n]);
	sim_stop();
	return testlib_rmtree(k->dir);
}
