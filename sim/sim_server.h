/*
 * sim_server.h — the simulator's libmicrohttpd listener.
 */
#ifndef BGSWITCH_SIM_SERVER_H
#define BGSWITCH_SIM_SERVER_H

#include <stddef.h>

struct MHD_Daemon;
struct MHD_Connection;

/* Listens on 127.0.0.1:PORT (0 = any free port), HTTPS with sim_tls unless
 * PLAIN_HTTP.  Returns the daemon and the port actually bound, or NULL with
 * ERR set. */
struct MHD_Daemon *sim_server_start(int port, int plain_http, int *bound_port,
    char *err, size_t errlen);
void sim_server_stop(struct MHD_Daemon *d);

/* Subject CN and first O of the connection's TLS client certificate, when
 * one was presented and verifies against the simulator's CA; else "". */
void sim_tls_peer(struct MHD_Connection *conn, char *cn, size_t cnlen,
    char *org, size_t orglen);

#endif
