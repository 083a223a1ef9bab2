/*
 * sim_server.c — the simulator's HTTP(S) front end on libmicrohttpd.
 *
 * One listener on 127.0.0.1 serves every simulated service: Entra ID, ARM,
 * the control endpoint and the Kubernetes API of each cluster (under
 * /clusters/NAME).  A connection gets its own thread, which lets a watch
 * stream simply block on the world's condition variable.  The front end
 * collects the request body, builds a struct sim_req, asks each service in
 * turn whether the path is its own, and turns the struct sim_resp into an
 * MHD response.
 */
#include "sim/sim_internal.h"
#include "sim/sim_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "src/log.h"

#define SIM_MAX_BODY (64u * 1024u * 1024u)

struct conn_state {
	char *body;
	size_t len, cap;
	int too_big;
};

const char *
sim_req_header(const struct sim_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
sim_req_arg(const struct sim_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
sim_req_bearer(const struct sim_req *req)
{
	const char *h = sim_req_header(req, "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h != '\0' ? h : NULL;
}

void
sim_resp_body(struct sim_resp *resp, int status, const char *ctype, const char *body, size_t len)
{
	free(resp->body);
	resp->status = status;
	resp->body = malloc(len + 1);
	if (resp->body != NULL) {
		memcpy(resp->body, body, len);
		resp->body[len] = '\0';
		resp->len = len;
	} else {
		resp->len = 0;
		resp->status = 500;
	}
	snprintf(resp->content_type, sizeof resp->content_type, "%s", ctype);
}

void
sim_resp_json(struct sim_resp *resp, int status, const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);

	free(resp->body);
	resp->body = s;
	resp->len = s != NULL ? strlen(s) : 0;
	resp->status = s != NULL ? status : 500;
	snprintf(resp->content_type, sizeof resp->content_type, "application/json; charset=utf-8");
}

void
sim_resp_json_take(struct sim_resp *resp, int status, cJSON *j)
{
	sim_resp_json(resp, status, j);
	cJSON_Delete(j);
}

void
sim_resp_header(struct sim_resp *resp, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *v = NULL;

	/* A header set twice keeps the last value, like a map. */
	for (int i = 0; i < resp->nhdr; i++) {
		if (strcasecmp(resp->hdr[i].name, name) == 0) {
			va_start(ap, fmt);
			if (vasprintf(&v, fmt, ap) >= 0) {
				free(resp->hdr[i].value);
				resp->hdr[i].value = v;
			}
			va_end(ap);
			return;
		}
	}
	if (resp->nhdr >= SIM_MAX_HEADERS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	if (v == NULL)
		return;
	snprintf(resp->hdr[resp->nhdr].name, sizeof resp->hdr[0].name, "%s", name);
	resp->hdr[resp->nhdr].value = v;
	resp->nhdr++;
}

void
sim_arm_error(struct sim_resp *resp, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	cJSON *root, *err;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	root = cJSON_CreateObject();
	err = cJSON_AddObjectToObject(root, "error");
	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", msg);
	sim_resp_json_take(resp, status, root);
	if (status == 401)
		sim_resp_header(resp, "WWW-Authenticate",
		    "Bearer authorization_uri=\"%s/%s\", error=\"invalid_token\", "
		    "error_description=\"The authentication failed because of missing 'Authorization' header.\"",
		    sim_world.base_url, sim_world.tenant);
}

void
sim_kube_status(struct sim_resp *resp, int code, const char *reason, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	cJSON *root;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "kind", "Status");
	cJSON_AddStringToObject(root, "apiVersion", "v1");
	cJSON_AddObjectToObject(root, "metadata");
	cJSON_AddStringToObject(root, "status", "Failure");
	cJSON_AddStringToObject(root, "message", msg);
	cJSON_AddStringToObject(root, "reason", reason);
	cJSON_AddNumberToObject(root, "code", code);
	sim_resp_json_take(resp, code, root);
}

static void
resp_clear(struct sim_resp *resp)
{
	free(resp->body);
	for (int i = 0; i < resp->nhdr; i++)
		free(resp->hdr[i].value);
	memset(resp, 0, sizeof *resp);
}

/* ---- streaming bridge ---------------------------------------------------- */

struct stream_bridge {
	sim_stream_fn fn;
	void (*free_fn)(void *);
	void *ctx;
};

static ssize_t
bridge_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_bridge *b = cls;
	ssize_t n;

	(void)pos;
	/* MHD treats 0 as "call again", which would spin; the stream function
	 * blocks with a timeout, so a 0 here only happens after a wait. */
	n = b->fn(b->ctx, buf, max);
	if (n < 0 || sim_stopping())
		return MHD_CONTENT_READER_END_OF_STREAM;
	return n;
}

static void
bridge_free(void *cls)
{
	struct stream_bridge *b = cls;

	if (b->free_fn != NULL)
		b->free_fn(b->ctx);
	free(b);
}

/* ---- dispatch -------------------------------------------------------------- */

static void
dispatch(struct sim_req *req, struct sim_resp *resp)
{
	if (sim_ctl_handle(req, resp))
		return;
	if (sim_world.faults.slow_ms > 0)
		usleep((useconds_t)sim_world.faults.slow_ms * 1000u);
	if (sim_entra_handle(req, resp))
		return;
	if (sim_arm_handle(req, resp))
		return;
	if (sim_kube_handle(req, resp))
		return;
	sim_resp_body(resp, 404, "text/plain; charset=utf-8", "404 page not found\n", 19);
}

static void
peer_cert_names(struct MHD_Connection *conn, char *cn, size_t cnlen, char *org, size_t orglen)
{
	/* Client certificates are verified by GnuTLS against the simulator's
	 * CA (MHD_OPTION_HTTPS_MEM_TRUST); reading the subject back needs the
	 * GnuTLS API, which sim_tls_peer() wraps. */
	cn[0] = org[0] = '\0';
	sim_tls_peer(conn, cn, cnlen, org, orglen);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct conn_state *st = *con_cls;
	struct sim_req req;
	struct sim_resp resp;
	struct MHD_Response *mr;
	char cn[256], org[256];
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	if (st == NULL) {
		st = calloc(1, sizeof *st);
		if (st == NULL)
			return MHD_NO;
		*con_cls = st;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (st->len + *upload_size > SIM_MAX_BODY) {
			st->too_big = 1;
		} else {
			if (st->len + *upload_size + 1 > st->cap) {
				size_t ncap = (st->len + *upload_size + 1) * 2;
				char *nb = realloc(st->body, ncap);
				if (nb == NULL)
					return MHD_NO;
				st->body = nb;
				st->cap = ncap;
			}
			memcpy(st->body + st->len, upload, *upload_size);
			st->len += *upload_size;
			st->body[st->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}

	memset(&resp, 0, sizeof resp);
	memset(&req, 0, sizeof req);
	req.method = method;
	req.path = url;
	req.body = st->body != NULL ? st->body : "";
	req.body_len = st->len;
	req.conn = conn;
	if (!sim_world.plain_http) {
		peer_cert_names(conn, cn, sizeof cn, org, sizeof org);
		req.client_cn = cn[0] != '\0' ? cn : NULL;
		req.client_org = org[0] != '\0' ? org : NULL;
	}
	if (st->too_big)
		sim_resp_body(&resp, 413, "text/plain", "request body too large\n", 23);
	else
		dispatch(&req, &resp);
	log_debug("sim", "%s %s -> %d", method, url, resp.drop ? 0 : resp.status);
	if (resp.drop) {
		/* An unreachable server: the client sees the connection close. */
		if (resp.stream_free != NULL)
			resp.stream_free(resp.stream_ctx);
		resp_clear(&resp);
		return MHD_NO;
	}

	if (resp.stream != NULL) {
		struct stream_bridge *b = calloc(1, sizeof *b);
		if (b == NULL) {
			if (resp.stream_free != NULL)
				resp.stream_free(resp.stream_ctx);
			resp_clear(&resp);
			return MHD_NO;
		}
		b->fn = resp.stream;
		b->free_fn = resp.stream_free;
		b->ctx = resp.stream_ctx;
		mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, bridge_read, b, bridge_free);
	} else {
		mr = MHD_create_response_from_buffer(resp.len, resp.body, MHD_RESPMEM_MUST_FREE);
		resp.body = NULL;
	}
	if (mr == NULL) {
		resp_clear(&resp);
		return MHD_NO;
	}
	if (resp.content_type[0] != '\0')
		MHD_add_response_header(mr, "Content-Type", resp.content_type);
	for (int i = 0; i < resp.nhdr; i++)
		MHD_add_response_header(mr, resp.hdr[i].name, resp.hdr[i].value);
	ret = MHD_queue_response(conn, (unsigned int)resp.status, mr);
	MHD_destroy_response(mr);
	resp_clear(&resp);
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn_state *st = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (st != NULL) {
		free(st->body);
		free(st);
		*con_cls = NULL;
	}
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	log_vmsg(LOG_DEBUG, "sim-mhd", fmt, ap);
}

struct MHD_Daemon *
sim_server_start(int port, int plain_http, int *bound_port, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD
	    | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	if (plain_http) {
		d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, NULL,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)600,
		    MHD_OPTION_END);
	} else {
		d = MHD_start_daemon(flags | MHD_USE_TLS, (uint16_t)port, NULL, NULL, on_request, NULL,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)600,
		    MHD_OPTION_HTTPS_MEM_KEY, sim_tls.server_key_pem,
		    MHD_OPTION_HTTPS_MEM_CERT, sim_tls.server_cert_pem,
		    MHD_OPTION_HTTPS_MEM_TRUST, sim_tls.ca_pem,
		    MHD_OPTION_END);
	}
	if (d == NULL) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%d (port in use?)", port);
		return NULL;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*bound_port = info != NULL ? info->port : port;
	return d;
}

void
sim_server_stop(struct MHD_Daemon *d)
{
	if (d != NULL)
		MHD_stop_daemon(d);
}
