/* placeholder until the ARM service lands */
#include "sim/sim_internal.h"
int sim_arm_handle(struct sim_req *req, struct sim_resp *resp) { (void)req; (void)resp; return 0; }
int sim_arm_load(const cJSON *w, char *err, size_t n) { (void)w; (void)err; (void)n; return 0; }
void sim_arm_tick(int64_t now) { (void)now; }
int sim_arm_ctl(struct sim_req *req, struct sim_resp *resp, const char *rest) { (void)req; (void)resp; (void)rest; return 0; }
