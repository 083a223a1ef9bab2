/* placeholder until the Entra service lands */
#include "sim/sim_internal.h"
int sim_entra_handle(struct sim_req *req, struct sim_resp *resp) { (void)req; (void)resp; return 0; }
int sim_entra_load(const cJSON *w, char *err, size_t n) { (void)w; (void)err; (void)n; return 0; }
void sim_entra_tick(int64_t now) { (void)now; }
