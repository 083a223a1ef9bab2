/*
 * sim_world.c — the simulator's shared state: one lock, a compressed clock,
 * randomness, and the ticker thread that moves the world on.
 *
 * Time is compressed by --speed: with speed 10, a cluster create that the
 * world says takes 5 simulated minutes completes in 30 real seconds.  Every
 * timestamp the simulator prints (creationTimestamp, operation start/end,
 * token expiry) is in simulated time, so ages on screen stay consistent.
 */
#include "sim/sim_internal.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sim_world sim_world = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.changed = PTHREAD_COND_INITIALIZER,
	.speed = 1.0,
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sim_clock_start(double speed)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	sim_world.speed = speed > 0 ? speed : 1.0;
	sim_world.real_start_ms = mono_ms();
	sim_world.sim_start_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
sim_now_ms(void)
{
	double elapsed = (double)(mono_ms() - sim_world.real_start_ms);

	return sim_world.sim_start_ms + (int64_t)(elapsed * sim_world.speed);
}

int64_t
sim_real_ms(int64_t sim_ms)
{
	return (int64_t)((double)sim_ms / sim_world.speed);
}

void
sim_time_rfc3339(int64_t epoch_ms, char *buf, size_t n)
{
	time_t t = (time_t)(epoch_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
sim_time_arm(int64_t epoch_ms, char *buf, size_t n)
{
	time_t t = (time_t)(epoch_ms / 1000);
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%07dZ", base, (int)(epoch_ms % 1000) * 10000);
}

int
sim_stopping(void)
{
	return atomic_load(&sim_world.stopping);
}

void
sim_random_hex(char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];

	while (n > 0) {
		size_t k = n / 2 + 1 < sizeof raw ? n / 2 + 1 : sizeof raw;

		RAND_bytes(raw, (int)k);
		for (size_t i = 0; i < k * 2 && n > 0; i++, n--)
			*buf++ = hex[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	}
	*buf = '\0';
}

void
sim_uuid(char *buf)
{
	unsigned char b[16];

	RAND_bytes(b, sizeof b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	    b[13], b[14], b[15]);
}

char *
sim_base64(const void *data, size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1;
	char *out = malloc(cap);

	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

unsigned char *
sim_base64_decode(const char *s, size_t *outlen)
{
	size_t n = strlen(s), pad = 0, i;
	char *norm;
	unsigned char *out;
	int got;

	/* Normalize URL-safe alphabet and missing padding (JWT segments). */
	norm = malloc(n + 4);
	if (norm == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		norm[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	while (i % 4 != 0)
		norm[i++] = '=';
	norm[i] = '\0';
	for (size_t j = i; j > 0 && norm[j - 1] == '='; j--)
		pad++;
	out = malloc(i / 4 * 3 + 1);
	if (out == NULL) {
		free(norm);
		return NULL;
	}
	got = EVP_DecodeBlock(out, (unsigned char *)norm, (int)i);
	free(norm);
	if (got < 0 || (size_t)got < pad) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)got - pad;
	out[*outlen] = '\0';
	return out;
}

static pthread_t ticker;
static int ticker_running;

static void *
ticker_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&sim_world.stopping)) {
		struct timespec ts = { 0, 50 * 1000000L };
		int64_t now;

		nanosleep(&ts, NULL);
		pthread_mutex_lock(&sim_world.lock);
		now = sim_now_ms();
		sim_entra_tick(now);
		sim_arm_tick(now);
		sim_kube_tick(now);
		pthread_mutex_unlock(&sim_world.lock);
	}
	return NULL;
}

int
sim_ticker_start(void)
{
	if (pthread_create(&ticker, NULL, ticker_main, NULL) != 0)
		return -1;
	ticker_running = 1;
	return 0;
}

void
sim_ticker_stop(void)
{
	if (ticker_running) {
		pthread_join(ticker, NULL);
		ticker_running = 0;
	}
}
