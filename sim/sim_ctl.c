/*
 * sim_ctl.c — the simulator's control endpoint, /_sim/..., and the ARM
 * faults it switches on.
 *
 * Tests and demos steer the world through it at run time: throttle ARM,
 * make it fail, slow every answer, fail the next cluster create, and (via
 * the Kubernetes and ARM sides) take a node NotReady, crash-loop pods,
 * take an API server down, expire watches, or change a resource behind the
 * client's back.  It answers only to loopback peers; the listener is on
 * 127.0.0.1 anyway, so this is a second lock on the same door.
 */
#include "sim/sim_internal.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
peer_is_loopback(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa;

	if (ci == NULL || ci->client_addr == NULL)
		return 0;
	sa = ci->client_addr;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return 0;
}

static cJSON *
faults_json(void)
{
	const struct sim_faults *f = &sim_world.faults;
	cJSON *j = cJSON_CreateObject();

	cJSON_AddNumberToObject(j, "arm_throttle", f->arm_throttle);
	cJSON_AddNumberToObject(j, "arm_throttle_retry_after", f->arm_throttle_retry_after);
	cJSON_AddNumberToObject(j, "arm_5xx_rate", f->arm_5xx_rate);
	cJSON_AddNumberToObject(j, "slow_ms", f->slow_ms);
	cJSON_AddNumberToObject(j, "fail_cluster_create", f->fail_cluster_create);
	cJSON_AddNumberToObject(j, "gateway_concurrent_write", f->gateway_concurrent_write);
	return j;
}

/* Applies the members of J that name a fault; unknown members are an
 * error so that a typo in a test does not silently test nothing. */
int
sim_faults_apply(const cJSON *j, char *err, size_t errlen)
{
	struct sim_faults f = sim_world.faults;
	const cJSON *it;

	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "faults: expected an object");
		return -1;
	}
	cJSON_ArrayForEach(it, j) {
		if (!cJSON_IsNumber(it) && !cJSON_IsBool(it)) {
			snprintf(err, errlen, "faults.%s: expected a number", it->string);
			return -1;
		}
		double v = cJSON_IsBool(it) ? (cJSON_IsTrue(it) ? 1 : 0) : it->valuedouble;
		if (strcmp(it->string, "arm_throttle") == 0)
			f.arm_throttle = (int)v;
		else if (strcmp(it->string, "arm_throttle_retry_after") == 0)
			f.arm_throttle_retry_after = (int)v;
		else if (strcmp(it->string, "arm_5xx_rate") == 0)
			f.arm_5xx_rate = v;
		else if (strcmp(it->string, "slow_ms") == 0)
			f.slow_ms = (int)v;
		else if (strcmp(it->string, "fail_cluster_create") == 0)
			f.fail_cluster_create = (int)v;
		else if (strcmp(it->string, "gateway_concurrent_write") == 0)
			f.gateway_concurrent_write = (int)v;
		else {
			snprintf(err, errlen, "faults.%s: unknown fault (known: arm_throttle, "
			    "arm_throttle_retry_after, arm_5xx_rate, slow_ms, fail_cluster_create, "
			    "gateway_concurrent_write)",
			    it->string);
			return -1;
		}
	}
	sim_world.faults = f;
	return 0;
}

int
sim_faults_arm(struct sim_resp *resp)
{
	struct sim_faults *f = &sim_world.faults;

	if (f->arm_throttle > 0) {
		f->arm_throttle--;
		/* ARM's throttling answer (429 TooManyRequests); Retry-After is
		 * sometimes absent, and clients must then back off on their own. */
		sim_arm_error(resp, 429, "TooManyRequests",
		    "The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00.");
		if (f->arm_throttle_retry_after > 0)
			sim_resp_header(resp, "Retry-After", "%d", f->arm_throttle_retry_after);
		return 1;
	}
	if (f->arm_5xx_rate > 0 && (double)rand_r(&sim_world.rng) / RAND_MAX < f->arm_5xx_rate) {
		if (rand_r(&sim_world.rng) % 2)
			sim_arm_error(resp, 500, "InternalServerError",
			    "Encountered internal server error. Diagnostic information: timestamp '', subscription id '%s'.",
			    sim_world.subscription);
		else
			sim_arm_error(resp, 503, "ServiceUnavailable",
			    "The service is temporarily unavailable. Please retry.");
		return 1;
	}
	return 0;
}

int
sim_ctl_handle(struct sim_req *req, struct sim_resp *resp)
{
	char err[512];
	const char *p;

	if (strncmp(req->path, "/_sim/", 6) != 0 && strcmp(req->path, "/_sim") != 0)
		return 0;
	if (!peer_is_loopback(req->conn)) {
		sim_resp_body(resp, 403, "text/plain", "control endpoint is loopback-only\n", 34);
		return 1;
	}
	p = req->path + 5;
	if (*p == '/')
		p++;

	if (strcmp(p, "faults") == 0) {
		pthread_mutex_lock(&sim_world.lock);
		if (strcmp(req->method, "GET") == 0) {
			sim_resp_json_take(resp, 200, faults_json());
		} else if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0) {
			cJSON *j = cJSON_Parse(req->body);
			if (j == NULL) {
				sim_resp_body(resp, 400, "text/plain", "faults: body is not JSON\n", 24);
			} else if (sim_faults_apply(j, err, sizeof err) != 0) {
				strncat(err, "\n", sizeof err - strlen(err) - 1);
				sim_resp_body(resp, 400, "text/plain", err, strlen(err));
			} else {
				sim_resp_json_take(resp, 200, faults_json());
			}
			cJSON_Delete(j);
		} else if (strcmp(req->method, "DELETE") == 0) {
			memset(&sim_world.faults, 0, sizeof sim_world.faults);
			sim_resp_json_take(resp, 200, faults_json());
		} else {
			sim_resp_body(resp, 405, "text/plain", "method not allowed\n", 19);
		}
		pthread_mutex_unlock(&sim_world.lock);
		return 1;
	}
	if (strncmp(p, "clusters/", 9) == 0) {
		char cluster[128];
		const char *slash = strchr(p + 9, '/');
		size_t n = slash != NULL ? (size_t)(slash - (p + 9)) : strlen(p + 9);

		if (n == 0 || n >= sizeof cluster || slash == NULL) {
			sim_resp_body(resp, 400, "text/plain", "use /_sim/clusters/NAME/ACTION\n", 31);
			return 1;
		}
		memcpy(cluster, p + 9, n);
		cluster[n] = '\0';
		return sim_kube_ctl(req, resp, cluster, slash + 1) ? 1
		    : (sim_resp_body(resp, 404, "text/plain", "unknown control action\n", 23), 1);
	}
	if (strncmp(p, "arm/", 4) == 0)
		return sim_arm_ctl(req, resp, p + 4) ? 1
		    : (sim_resp_body(resp, 404, "text/plain", "unknown control action\n", 23), 1);
	sim_resp_body(resp, 404, "text/plain", "unknown control path\n", 21);
	return 1;
}
