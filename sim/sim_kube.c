/* placeholder until the Kubernetes service lands */
#include "sim/sim_internal.h"
int sim_kube_handle(struct sim_req *req, struct sim_resp *resp) { (void)req; (void)resp; return 0; }
int sim_kube_load(const cJSON *w, char *err, size_t n) { (void)w; (void)err; (void)n; return 0; }
void sim_kube_tick(int64_t now) { (void)now; }
int sim_kube_ctl(struct sim_req *req, struct sim_resp *resp, const char *c, const char *a) { (void)req; (void)resp; (void)c; (void)a; return 0; }
int sim_kube_cluster_add(const char *n, const char *v, const char *ip, const struct sim_pool_spec *p, int np, int now) { (void)n; (void)v; (void)ip; (void)p; (void)np; (void)now; return 0; }
void sim_kube_cluster_remove(const char *n) { (void)n; }
void sim_kube_cluster_set_running(const char *n, int r) { (void)n; (void)r; }
int sim_kube_cluster_exists(const char *n) { (void)n; return 0; }
char *sim_kube_user_kubeconfig(const char *n) { (void)n; return 0; }
int sim_kube_address_health(const char *ip) { (void)ip; return -1; }
void sim_kube_write_kubeconfig(void) { }
