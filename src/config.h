/*
 * config.h — one switchover's configuration file (bgswitch.yaml), loaded
 * and checked.
 *
 * The keys are a contract (PRODUCT.md §3): scripts, tests and users' files
 * depend on them, so they are only ever added, never renamed.  Loading is
 * strict: an unknown key, a wrong type or a value outside its set is an
 * error naming FILE:LINE:COL and what was expected, because a typo in a
 * production switchover config must stop the run, not be ignored.
 */
#ifndef BGSWITCH_CONFIG_H
#define BGSWITCH_CONFIG_H

#include <stddef.h>

enum cfg_provision_mode { CFG_PROVISION_ARM_CLONE, CFG_PROVISION_COMMAND };
enum cfg_sync_mode { CFG_SYNC_COPY, CFG_SYNC_GITOPS, CFG_SYNC_COMMAND };
enum cfg_dns_when { CFG_DNS_AFTER_GATEWAY, CFG_DNS_BEFORE_GATEWAY, CFG_DNS_ONLY };
enum cfg_teardown_mode { CFG_TEARDOWN_DELETE, CFG_TEARDOWN_STOP, CFG_TEARDOWN_COMMAND, CFG_TEARDOWN_KEEP };
enum cfg_credential {
	CFG_CRED_DEFAULT, CFG_CRED_ENVIRONMENT, CFG_CRED_WORKLOAD_IDENTITY,
	CFG_CRED_MANAGED_IDENTITY, CFG_CRED_AZURE_CLI,
};
enum cfg_check_type {
	CFG_CHECK_NODES_READY, CFG_CHECK_PODS_READY, CFG_CHECK_DEPLOYMENTS_AVAILABLE,
	CFG_CHECK_HTTP, CFG_CHECK_BACKEND_HEALTH, CFG_CHECK_METRIC, CFG_CHECK_COMMAND,
};
/* Which gates a check guards: a bit per stage. */
enum cfg_gate {
	CFG_GATE_PROVISION = 1 << 0, CFG_GATE_SYNC = 1 << 1, CFG_GATE_SWITCH = 1 << 2,
	CFG_GATE_WINDOW = 1 << 3, CFG_GATE_TEARDOWN = 1 << 4,
};
enum cfg_role { CFG_BLUE, CFG_GREEN };

/* A NULL-terminated argv. */
typedef char **cfg_argv;

struct cfg_cluster {
	char *name;
	char *kubeconfig;		/* NULL: fetched from ARM */
	char *context;
	char *kubernetes_version;	/* green: the version T1 builds */
};

struct cfg_check {
	char *name;
	enum cfg_check_type type;
	enum cfg_role cluster;		/* nodes/pods/deployments/backend-health */
	int has_cluster;
	unsigned gates;			/* enum cfg_gate bits */
	long interval_ms, timeout_ms;
	int success_threshold, failure_threshold;
	int rollback_on_fail;		/* 0: never rolls back by itself */
	/* pods-ready, deployments-available */
	char **namespaces;
	int allowed_not_ready;
	/* http */
	char *url;
	int expect_status;
	char *body_contains;
	long max_latency_ms;
	char *resolve;			/* "host:port:address" */
	char *ca_file;
	/* metric */
	char *metric, *filter, *aggregation;
	long window_ms;
	double max, min;
	int has_max, has_min;
	/* backend-health: the pool of this role */
	/* command */
	cfg_argv command;
};

struct cfg {
	char *path;			/* the file it came from */
	char *name;
	struct {
		char *cloud;		/* AzureCloud | AzureUSGovernment | AzureChinaCloud */
		char *authority_host, *resource_manager, *ca_file;
		char *tenant, *subscription, *resource_group;
		enum cfg_credential credential;
	} azure;
	struct cfg_cluster clusters[2];	/* [CFG_BLUE], [CFG_GREEN] */
	struct {
		enum cfg_provision_mode mode;
		cfg_argv command;
	} provision;
	struct {
		enum cfg_sync_mode mode;
		char **namespaces, **kinds;
		int freeze;
		cfg_argv command;
	} sync;
	struct {
		int has_gateway;
		char *name, *rule, *blue_pool, *green_pool;
		int steps[16];
		int nsteps;
		long soak_ms;
	} gateway;
	struct {
		int has_dns;
		char *zone, *record, *type;	/* type: "A" | "CNAME" */
		char *blue_target, *green_target;
		enum cfg_dns_when when;
		int ttl;			/* 0: keep the record's TTL */
	} dns;
	struct cfg_check *checks;
	size_t nchecks;
	long window_ms;
	struct {
		enum cfg_teardown_mode mode;
		cfg_argv command;
	} teardown;
	char *theme;			/* the screen's theme (--theme wins); NULL: default */
};

/* Loads and checks PATH into a freshly zeroed *CFG.  Returns 0, or -1 with
 * ERR holding "PATH:LINE:COL: what is wrong, what was expected". */
int cfg_load(const char *path, struct cfg *cfg, char *err, size_t errlen);
/* The same for text already in memory; NAME is used in messages. */
int cfg_load_text(const char *text, size_t len, const char *name, struct cfg *cfg,
    char *err, size_t errlen);
void cfg_free(struct cfg *cfg);

/* Parses "300ms", "30s", "5m", "1h", "1h30m", "2m30s" (or a bare number of
 * seconds) into milliseconds.  Returns 0, or -1 if malformed or negative. */
int cfg_parse_duration(const char *s, long *ms);

const char *cfg_role_name(enum cfg_role r);		/* "blue" | "green" */
const char *cfg_check_type_name(enum cfg_check_type t);
const char *cfg_credential_name(enum cfg_credential c);

#endif
