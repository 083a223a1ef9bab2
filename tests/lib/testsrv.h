/*
 * testsrv.h — the plumbing shared by the in-test HTTP servers: a
 * libmicrohttpd daemon on 127.0.0.1, the collection of a request's upload,
 * its query string and headers, and a port nothing listens on.  What a
 * server answers stays with its tests (fakearm.h is the common ARM one).
 */
#ifndef TESTS_LIB_TESTSRV_H
#define TESTS_LIB_TESTSRV_H

#include <stddef.h>

#include <microhttpd.h>

/* Starts a daemon on 127.0.0.1 and an ephemeral port, one thread per
 * connection, calling HANDLER with CLS; TLS with the PEM key and
 * certificate when KEY_PEM is non-NULL.  Sets *PORT.  Fails the test when
 * the daemon cannot start.  Stop it with MHD_stop_daemon(). */
struct MHD_Daemon *testsrv_daemon(MHD_AccessHandlerCallback handler, void *cls,
    const char *key_pem, const char *cert_pem, int *port);

/* Call first in a handler of a testsrv_daemon(): collects the upload across
 * calls.  NULL while the request is not complete: the handler returns *RET
 * at once.  Then the NUL-terminated body ("" when none), freed when the
 * request ends. */
const char *testsrv_body(void **con_cls, const char *data, size_t *size,
    enum MHD_Result *ret);

/* The request's query arguments as "k=v&k=v", values decoded, into DST. */
void testsrv_query(struct MHD_Connection *conn, char *dst, size_t n);

/* The request header NAME into DST, "" when absent. */
void testsrv_header(struct MHD_Connection *conn, const char *name, char *dst, size_t n);

/* A loopback port nothing listens on. */
int testsrv_closed_port(void);

#endif
