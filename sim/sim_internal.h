/*
 * sim_internal.h — what the simulator's files share: the request/response
 * shapes the HTTP front end hands to each service, the world's one lock and
 * its compressed clock, and the faults that can be switched on.
 *
 * Threading: libmicrohttpd runs one thread per connection, and a ticker
 * thread moves the world on (async operations, node joins, pods becoming
 * Ready).  Every piece of world state is guarded by sim_world.lock; the
 * condition variable sim_world.changed is broadcast whenever anything a
 * watcher could be waiting for has changed.  Handlers take the lock, do
 * their work on in-memory state, and release it before the response is
 * sent.  Nothing here is shared with azure/ or kube/ on purpose (PRODUCT.md
 * §5): the simulator is written from the API references, separately from
 * the clients it tests.
 */
#ifndef BGSWITCH_SIM_INTERNAL_H
#define BGSWITCH_SIM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

struct MHD_Connection;

/* ---- requests and responses ------------------------------------------ */

struct sim_req {
	const char *method;		/* "GET", "PUT", ... */
	const char *path;		/* URL path without the query string */
	const char *body;		/* NUL-terminated; "" when none */
	size_t body_len;
	struct MHD_Connection *conn;
	const char *client_cn;		/* verified TLS client certificate CN, or NULL */
	const char *client_org;		/* its first O, or NULL */
};

/* Case-insensitive request header; NULL when absent. */
const char *sim_req_header(const struct sim_req *req, const char *name);
/* Decoded query argument; NULL when absent. */
const char *sim_req_arg(const struct sim_req *req, const char *name);
/* The bearer token of the Authorization header, or NULL. */
const char *sim_req_bearer(const struct sim_req *req);

/* A streamed body: called from the connection's thread until it returns
 * -1 (end); it may block (thread-per-connection), but must give up and
 * return 0 bytes written when sim_stopping() turns true.  Returns bytes
 * written to BUF (at most MAX), or -1 for the end of the stream. */
typedef ssize_t (*sim_stream_fn)(void *ctx, char *buf, size_t max);

#define SIM_MAX_HEADERS 16

struct sim_resp {
	int status;
	char *body;			/* malloc'd; freed by the front end */
	size_t len;
	char content_type[96];
	struct { char name[64]; char *value; } hdr[SIM_MAX_HEADERS];
	int nhdr;
	int drop;			/* close the connection without answering */
	sim_stream_fn stream;		/* when set, body is ignored */
	void (*stream_free)(void *ctx);
	void *stream_ctx;
};

/* Sets status and a JSON body (printed unformatted).  Does not take J. */
void sim_resp_json(struct sim_resp *resp, int status, const cJSON *j);
/* Same, and frees J. */
void sim_resp_json_take(struct sim_resp *resp, int status, cJSON *j);
/* Sets status and a body of the given type; copies BODY. */
void sim_resp_body(struct sim_resp *resp, int status, const char *ctype,
    const char *body, size_t len);
/* Adds a response header (value formatted). */
void sim_resp_header(struct sim_resp *resp, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ARM error body {"error":{"code","message"}} with x-ms headers. */
void sim_arm_error(struct sim_resp *resp, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Kubernetes metav1 Status failure body. */
void sim_kube_status(struct sim_resp *resp, int code, const char *reason,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Applies a JSON object of fault settings (sim_ctl.c); the world file's
 * `faults:` uses the same names.  Call with the lock held. */
int sim_faults_apply(const cJSON *j, char *err, size_t errlen);
/* For ARM handlers, lock held: 1 when a switched-on fault (throttling,
 * 5xx) answers this request instead, RESP filled. */
int sim_faults_arm(struct sim_resp *resp);

/* ---- services ----------------------------------------------------------
 * Each returns 1 when it handled the request (RESP filled), 0 when the path
 * is not its own.  They are tried in this order by sim_server.c. */
int sim_ctl_handle(struct sim_req *req, struct sim_resp *resp);    /* /_sim/... */
int sim_entra_handle(struct sim_req *req, struct sim_resp *resp);  /* /{tenant}/oauth2/v2.0/token, /metadata/identity/... */
int sim_arm_handle(struct sim_req *req, struct sim_resp *resp);    /* /subscriptions/... */
int sim_kube_handle(struct sim_req *req, struct sim_resp *resp);   /* /clusters/{name}/... */

/* ---- the world ---------------------------------------------------------- */

struct sim_faults {
	int arm_throttle;		/* next N ARM calls answer 429 */
	int arm_throttle_retry_after;	/* seconds in Retry-After; 0 = header omitted */
	double arm_5xx_rate;		/* fraction of ARM calls answering 500/503 */
	int slow_ms;			/* added delay before every answer (real ms) */
	int fail_cluster_create;	/* next managed cluster create ends Failed */
	int gateway_concurrent_write;	/* next N gateway PUTs with If-Match meet
					 * someone else's write landed just before */
};

struct sim_world {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	double speed;			/* simulated seconds per real second */
	int64_t real_start_ms;		/* CLOCK_MONOTONIC at start */
	int64_t sim_start_ms;		/* wall-clock epoch ms at start */
	int port;
	int plain_http;
	char base_url[128];		/* "https://127.0.0.1:PORT" */
	char dir[1024];			/* output directory */
	char subscription[64];
	char tenant[64];
	char resource_group[128];
	char location[64];
	struct sim_faults faults;
	_Atomic int stopping;		/* read without the lock (ticker, streams) */
	unsigned int rng;		/* rand_r state for fault decisions */
};

extern struct sim_world sim_world;

/* Starts the compressed clock: simulated time begins at the real time now. */
void sim_clock_start(double speed);
/* The ticker thread calls each service's tick every ~50 real ms. */
int sim_ticker_start(void);
void sim_ticker_stop(void);
/* Simulated wall clock in epoch milliseconds (compressed by --speed). */
int64_t sim_now_ms(void);
/* Converts a simulated duration to real milliseconds. */
int64_t sim_real_ms(int64_t sim_ms);
/* RFC 3339 UTC time of a simulated instant, "2026-11-26T18:00:00Z". */
void sim_time_rfc3339(int64_t epoch_ms, char *buf, size_t n);
/* The same with 7 fractional digits, as ARM prints it. */
void sim_time_arm(int64_t epoch_ms, char *buf, size_t n);
int sim_stopping(void);
/* A random lowercase hex string of N chars (N+1 bytes in BUF). */
void sim_random_hex(char *buf, size_t n);
/* A random RFC 4122 v4 UUID (37 bytes in BUF). */
void sim_uuid(char *buf);

/* Per-service tick, called by the ticker every ~50 real ms with the world
 * lock held: moves async operations, controllers and timers on. */
void sim_arm_tick(int64_t now_ms);
void sim_kube_tick(int64_t now_ms);
void sim_entra_tick(int64_t now_ms);

/* ---- what the services offer each other ---------------------------------
 *
 * The world file is read once at start; each service takes its own part.
 * They return 0, or -1 with ERR naming the key path at fault. */
int sim_entra_load(const cJSON *world, char *err, size_t errlen);
int sim_arm_load(const cJSON *world, char *err, size_t errlen);
int sim_kube_load(const cJSON *world, char *err, size_t errlen);

/* Control-endpoint parts: "/_sim/clusters/NAME/ACTION" goes to the kube
 * side, "/_sim/arm/..." to the ARM side, with the rest of the path. */
int sim_kube_ctl(struct sim_req *req, struct sim_resp *resp, const char *cluster, const char *action);
int sim_arm_ctl(struct sim_req *req, struct sim_resp *resp, const char *rest);

/* A node pool of a managed cluster, as the Kubernetes side needs it. */
struct sim_pool_spec {
	char name[64];
	char mode[16];			/* "System" | "User" */
	char vm_size[64];
	int count;
};

/* Kubernetes side (sim_kube*.c), called with the world lock held.
 * cluster_add: an API server for NAME; its nodes exist and are Ready at
 * once when NODES_NOW, else they join and turn Ready over simulated time.
 * INGRESS_IP is the address a gateway pool reaches the cluster's ingress at. */
int sim_kube_cluster_add(const char *name, const char *version, const char *ingress_ip,
    const struct sim_pool_spec *pools, int npools, int nodes_now);
void sim_kube_cluster_remove(const char *name);
/* Stopped clusters keep their objects but their API server is gone. */
void sim_kube_cluster_set_running(const char *name, int running);
int sim_kube_cluster_exists(const char *name);
/* The kubeconfig AKS's listClusterUserCredential would return: YAML. */
char *sim_kube_user_kubeconfig(const char *name);
/* Health of a gateway backend address: 1 healthy, 0 unhealthy, -1 no
 * cluster ingress or pod has that address. */
int sim_kube_address_health(const char *ip);
/* Rewrites DIR/kubeconfig with one context per existing cluster. */
void sim_kube_write_kubeconfig(void);

/* ---- TLS material (sim_tls.c) ------------------------------------------ */

struct sim_tls {
	char *ca_pem;			/* CA certificate */
	char *server_cert_pem;
	char *server_key_pem;
	void *ca_key;			/* EVP_PKEY * */
	void *ca_cert;			/* X509 * */
};

extern struct sim_tls sim_tls;

/* Makes a CA and a server certificate for 127.0.0.1/localhost/::1. */
int sim_tls_init(struct sim_tls *t, char *err, size_t errlen);
/* Issues a client certificate (CN, O) signed by the CA. PEMs malloc'd. */
int sim_tls_issue_client(struct sim_tls *t, const char *cn, const char *org,
    char **cert_pem, char **key_pem);
void sim_tls_free(struct sim_tls *t);

/* ---- files written to --dir (sim_main.c) ------------------------------- */

/* Writes DIR/NAME atomically (temp file + rename), mode 0600. */
int sim_write_file(const char *name, const char *data, size_t len);

/* base64 (standard alphabet, padded), malloc'd. */
char *sim_base64(const void *data, size_t len);
/* Decodes standard or URL-safe base64 (padding optional). */
unsigned char *sim_base64_decode(const char *s, size_t *outlen);

#endif
