/*
 * check_http.c — the `http` check: one GET through the common HTTP layer
 * (so TLS verification and the plain-http-only-on-loopback rule of
 * PRODUCT.md §6 hold here too), judged on status, body and latency.
 *
 * A transport failure (refused, timeout, TLS) is an ERROR, not a FAIL: no
 * answer was measured.  Both close the gate alike.  The `resolve` option
 * ("host:port:address", as curl's --resolve) pins where the probe goes:
 * green's hostname can be checked at green's address before DNS moves.  It
 * becomes a CONNECT_TO entry ("host:port:address:port"), which keeps the
 * URL's host for TLS verification and never touches the shared DNS cache.
 */
#include <stdio.h>
#include <string.h>

#include "src/check_internal.h"
#include "src/http.h"

/* Enough for a health page; a bigger body is an ERROR, not a truncation
 * that could hide body_contains. */
#define HTTP_CHECK_MAX_BODY	(1024 * 1024)

enum check_status
check_run_http(const struct cfg_check *k, const struct check_env *env, struct check_result *r)
{
	struct http_request rq = { 0 };
	struct http_response rs;
	struct http_tls tls = { 0 };
	long latency;
	bool ok;

	check_setf(r->threshold, sizeof r->threshold, "%d", k->expect_status);
	if (k->body_contains != NULL)
		check_appendf(r->threshold, sizeof r->threshold, ", body has \"%s\"",
		    k->body_contains);
	if (k->max_latency_ms > 0)
		check_appendf(r->threshold, sizeof r->threshold, ", <= %ld ms", k->max_latency_ms);
	if (env->http == NULL)
		return check_error(r, "no HTTP client");
	if (k->url == NULL)
		return check_error(r, "no url");
	char pin[600];
	const char *pins[2] = { NULL, NULL };
	if (k->resolve != NULL && k->resolve[0] != '\0') {
		const char *last = strrchr(k->resolve, ':'), *first = strchr(k->resolve, ':');
		const char *port_end = first != NULL ? strchr(first + 1, ':') : NULL;

		/* host:port:address -> host:port:address:port */
		if (first == NULL || port_end == NULL || last == NULL || last == first
		    || port_end - first - 1 <= 0 || port_end - first - 1 > 5)
			return check_error(r, "resolve \"%s\" is not host:port:address", k->resolve);
		snprintf(pin, sizeof pin, "%s:%.*s", k->resolve, (int)(port_end - first - 1), first + 1);
		pins[0] = pin;
		rq.connect_to = pins;
		check_appendf(r->threshold, sizeof r->threshold, " (at %s)", port_end + 1);
	}
	rq.method = "GET";
	rq.url = k->url;
	rq.timeout_ms = k->timeout_ms > 0 ? k->timeout_ms : 0;
	rq.max_body = HTTP_CHECK_MAX_BODY;
	rq.cancel = env->cancel;
	if (k->ca_file != NULL) {
		tls.ca_file = k->ca_file;
		rq.tls = &tls;
	}
	if (http_do(env->http, &rq, &rs) != 0) {
		check_error(r, "%s: %s", http_error_name(rs.err), rs.error);
		http_response_free(&rs);
		return CHECK_ERROR;
	}
	latency = (long)(rs.elapsed_s * 1000.0 + 0.5);
	check_setf(r->value, sizeof r->value, "%ld in %ld ms", rs.status, latency);
	r->number = (double)rs.status;
	r->has_number = true;
	ok = rs.status == k->expect_status;
	if (!ok)
		check_appendf(r->detail, sizeof r->detail, "status %ld, expected %d", rs.status,
		    k->expect_status);
	if (k->body_contains != NULL && memmem(rs.body, rs.body_len, k->body_contains, strlen(k->body_contains)) == NULL) {
		ok = false;
		check_appendf(r->detail, sizeof r->detail, "%sbody lacks \"%s\"",
		    r->detail[0] ? "; " : "", k->body_contains);
	}
	if (k->max_latency_ms > 0 && latency > k->max_latency_ms) {
		ok = false;
		check_appendf(r->detail, sizeof r->detail, "%s%ld ms > %ld ms",
		    r->detail[0] ? "; " : "", latency, k->max_latency_ms);
	}
	r->status = ok ? CHECK_PASS : CHECK_FAIL;
	http_response_free(&rs);
	return r->status;
}
