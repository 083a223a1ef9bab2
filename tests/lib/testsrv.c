/*
 * testsrv.c — the plumbing shared by the in-test HTTP servers (testsrv.h).
 * Servers run one thread per connection so that a test's client, which
 * blocks, and the server never wait on each other.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/lib/testsrv.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct upload {
	char *buf;
	size_t len;
};

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (up != NULL) {
		free(up->buf);
		free(up);
		*con_cls = NULL;
	}
}

struct MHD_Daemon *
testsrv_daemon(MHD_AccessHandlerCallback handler, void *cls, const char *key_pem,
    const char *cert_pem, int *port)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	struct MHD_Daemon *d;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (key_pem != NULL) {
		flags |= MHD_USE_TLS;
		d = MHD_start_daemon(flags, 0, NULL, NULL, handler, cls,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		    MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
		    MHD_OPTION_END);
	} else {
		d = MHD_start_daemon(flags, 0, NULL, NULL, handler, cls,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	}
	assert_non_null(d);
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	*port = info->port;
	return d;
}

const char *
testsrv_body(void **con_cls, const char *data, size_t *size, enum MHD_Result *ret)
{
	struct upload *up = *con_cls;

	if (up == NULL) {
		up = calloc(1, sizeof *up);
		*con_cls = up;
		*ret = up != NULL ? MHD_YES : MHD_NO;
		return NULL;
	}
	if (*size > 0) {
		char *nb = realloc(up->buf, up->len + *size + 1);

		*ret = MHD_NO;
		if (nb == NULL)
			return NULL;
		memcpy(nb + up->len, data, *size);
		up->buf = nb;
		up->len += *size;
		nb[up->len] = '\0';
		*size = 0;
		*ret = MHD_YES;
		return NULL;
	}
	return up->buf != NULL ? up->buf : "";
}

struct query {
	char *dst;
	size_t n;
};

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query *q = cls;
	size_t len = strlen(q->dst);

	(void)kind;
	snprintf(q->dst + len, q->n - len, "%s%s=%s", len ? "&" : "", key,
	    value != NULL ? value : "");
	return MHD_YES;
}

void
testsrv_query(struct MHD_Connection *conn, char *dst, size_t n)
{
	struct query q = { dst, n };

	dst[0] = '\0';
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
}

void
testsrv_header(struct MHD_Connection *conn, const char *name, char *dst, size_t n)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);

	snprintf(dst, n, "%s", v != NULL ? v : "");
}

int
testsrv_closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}
