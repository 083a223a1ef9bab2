/*
 * test_config.c — bgswitch.yaml loading: the PRODUCT.md example as the
 * contract, and errors that name the file, line, column and what was
 * expected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/config.h"

static void
test_product_example(void **state)
{
	struct cfg c;
	char err[512];

	(void)state;
	if (cfg_load("tests/fixtures/config/product-example.yaml", &c, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_string_equal(c.name, "prod-weu");
	assert_string_equal(c.azure.cloud, "AzureCloud");
	assert_string_equal(c.azure.authority_host, "https://login.microsoftonline.com");
	assert_string_equal(c.azure.resource_group, "rg-aks-prod");
	assert_int_equal(c.azure.credential, CFG_CRED_DEFAULT);
	assert_string_equal(c.clusters[CFG_BLUE].name, "aks-prod-blue");
	assert_string_equal(c.clusters[CFG_BLUE].kubeconfig, "~/.kube/config");
	assert_string_equal(c.clusters[CFG_GREEN].name, "aks-prod-green");
	assert_string_equal(c.clusters[CFG_GREEN].kubernetes_version, "1.30.5");
	assert_null(c.clusters[CFG_GREEN].kubeconfig);
	assert_int_equal(c.provision.mode, CFG_PROVISION_ARM_CLONE);
	assert_string_equal(c.provision.command[0], "terraform");
	assert_string_equal(c.provision.command[4], "-var=color=green");
	assert_null(c.provision.command[5]);
	assert_int_equal(c.sync.mode, CFG_SYNC_COPY);
	assert_string_equal(c.sync.namespaces[1], "payments");
	assert_string_equal(c.sync.kinds[5], "Ingress");
	assert_true(c.sync.freeze);
	assert_true(c.gateway.has_gateway);
	assert_string_equal(c.gateway.rule, "rule-live-https");
	assert_int_equal(c.gateway.nsteps, 3);
	assert_int_equal(c.gateway.steps[0], 10);
	assert_int_equal(c.gateway.steps[2], 100);
	assert_int_equal(c.gateway.soak_ms, 5 * 60000);
	assert_string_equal(c.dns.type, "A");
	assert_string_equal(c.dns.green_target, "10.10.2.4");
	assert_int_equal(c.dns.when, CFG_DNS_AFTER_GATEWAY);
	assert_int_equal(c.nchecks, 3);
	assert_int_equal(c.checks[0].type, CFG_CHECK_NODES_READY);
	assert_int_equal(c.checks[0].gates, CFG_GATE_PROVISION | CFG_GATE_SYNC);
	assert_int_equal(c.checks[1].type, CFG_CHECK_HTTP);
	assert_int_equal(c.checks[1].max_latency_ms, 300);
	assert_int_equal(c.checks[1].expect_status, 200);
	assert_int_equal(c.checks[2].type, CFG_CHECK_METRIC);
	assert_string_equal(c.checks[2].filter, "HttpStatusGroup eq '5xx'");
	assert_true(c.checks[2].has_max);
	assert_true(c.checks[2].max == 10.0);
	assert_int_equal(c.checks[2].rollback_on_fail, 3);
	assert_int_equal(c.checks[2].window_ms, 5 * 60000);
	assert_int_equal(c.window_ms, 30 * 60000);
	assert_int_equal(c.teardown.mode, CFG_TEARDOWN_DELETE);
	cfg_free(&c);
}

/* A minimal valid config, with one line replaced or appended per case. */
static const char base[] =
    "name: t\n"
    "azure:\n"
    "  subscription: s\n"
    "  resource_group: rg\n"
    "clusters:\n"
    "  blue: {name: b}\n"
    "  green: {name: g}\n"
    "traffic:\n"
    "  dns: {zone: z, record: r, blue_target: 1.1.1.1, green_target: 2.2.2.2, when: only}\n";

static void
load_err(const char *text, const char *want)
{
	struct cfg c;
	char err[512];

	if (cfg_load_text(text, strlen(text), "t.yaml", &c, err, sizeof err) == 0) {
		cfg_free(&c);
		fail_msg("loaded, but wanted an error containing: %s", want);
	}
	if (strstr(err, want) == NULL)
		fail_msg("error\n   got: %s\n  want: ...%s...", err, want);
}

static void
test_minimal_and_defaults(void **state)
{
	struct cfg c;
	char err[512];

	(void)state;
	if (cfg_load_text(base, strlen(base), "t.yaml", &c, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_string_equal(c.azure.cloud, "AzureCloud");
	assert_int_equal(c.provision.mode, CFG_PROVISION_ARM_CLONE);
	assert_int_equal(c.teardown.mode, CFG_TEARDOWN_DELETE);
	assert_int_equal(c.window_ms, 30 * 60000);
	assert_false(c.gateway.has_gateway);
	assert_int_equal(c.dns.when, CFG_DNS_ONLY);
	assert_int_equal(c.nchecks, 0);
	cfg_free(&c);
}

static void
test_unknown_key_points_at_it(void **state)
{
	char text[1024];

	(void)state;
	snprintf(text, sizeof text, "%s", base);
	/* line 3 col 3 is "subscription"; insert a typo on line 4 instead */
	snprintf(text, sizeof text,
	    "name: t\nazure:\n  subscription: s\n  resource_grup: rg\n"
	    "clusters:\n  blue: {name: b}\n  green: {name: g}\n");
	load_err(text, "t.yaml:4:3: unknown key 'resource_grup' in azure (expected one of: cloud,");
	snprintf(text, sizeof text, "%sextra: 1\n", base);
	load_err(text, "t.yaml:10:1: unknown key 'extra' in the config");
}

/* A freeze must name its namespaces, and never kube-system. */
static void
test_freeze_needs_namespaces(void **state)
{
	char text[1024];
	struct cfg c;
	char err[512];

	(void)state;
	snprintf(text, sizeof text, "%ssync:\n  mode: gitops\n  freeze: true\n", base);
	load_err(text, "sync.freeze: needs sync.namespaces");
	snprintf(text, sizeof text, "%ssync:\n  namespaces: [shop, kube-system]\n  freeze: true\n", base);
	load_err(text, "sync.freeze: kube-system cannot be frozen");
	snprintf(text, sizeof text, "%ssync:\n  namespaces: [shop]\n  freeze: true\n", base);
	if (cfg_load_text(text, strlen(text), "t.yaml", &c, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_true(c.sync.freeze);
	cfg_free(&c);
}

static void
test_wrong_types_and_values(void **state)
{
	char text[1024];

	(void)state;
	snprintf(text, sizeof text, "%swindow: forever\n", base);
	load_err(text, "t.yaml:10:9: window: expected a duration like 300ms, 30s, 5m or 1h30m, got 'forever'");
	snprintf(text, sizeof text, "%steardown: {mode: destroy}\n", base);
	load_err(text, "teardown.mode: 'destroy' is not one of delete | stop | command | keep");
	snprintf(text, sizeof text, "%steardown: {mode: command}\n", base);
	load_err(text, "teardown: missing 'command' (a list of strings)");
	snprintf(text, sizeof text,
	    "name: t\nazure: {subscription: s, resource_group: rg}\n"
	    "clusters:\n  blue: {name: b}\n  green: {name: g, kubernetes_version: 1.30}\n");
	load_err(text, "t.yaml:5:40: clusters.green.kubernetes_version: expected a string, got the number 1.3");
	snprintf(text, sizeof text,
	    "name: t\nazure: {subscription: s, resource_group: rg, credential: password}\n");
	load_err(text, "azure.credential: 'password' is not one of default | environment | "
	    "workload-identity | managed-identity | azure-cli");
	snprintf(text, sizeof text,
	    "name: t\nazure: {subscription: s, resource_group: rg, resource_manager: http://mgmt.example}\n");
	load_err(text, "azure.resource_manager: expected an https:// URL (plain http only to loopback)");
	load_err("name: a/b\n", "name: 'a/b' may only hold letters");
	load_err("- just\n- a list\n", "t.yaml:1:1: expected a mapping");
	load_err("name: [unclosed\n", "t.yaml:");
}

static void
test_gateway_steps(void **state)
{
	char text[1024];
	const char *gw = "  gateway: {name: agw, rule: r, blue_pool: pb, green_pool: pg, steps: %s}\n";
	char line[256];

	(void)state;
	snprintf(line, sizeof line, gw, "[50, 10, 100]");
	snprintf(text, sizeof text, "%s%s", base, line);
	load_err(text, "traffic.gateway.steps: steps must increase (10 after 50)");
	snprintf(line, sizeof line, gw, "[10, 50]");
	snprintf(text, sizeof text, "%s%s", base, line);
	load_err(text, "the last step must be 100");
	snprintf(line, sizeof line, gw, "[0, 100]");
	snprintf(text, sizeof text, "%s%s", base, line);
	load_err(text, "each step is a whole percentage 1..100");
	/* dns.when: only is fine alone, but with a gateway after-gateway is default */
	snprintf(text, sizeof text,
	    "name: t\nazure: {subscription: s, resource_group: rg}\n"
	    "clusters: {blue: {name: b}, green: {name: g}}\n"
	    "traffic:\n  dns: {zone: z, record: r, blue_target: a, green_target: b}\n");
	load_err(text, "traffic.dns.when: without a gateway, when must be 'only'");
}

static void
test_checks(void **state)
{
	char text[2048];

	(void)state;
	snprintf(text, sizeof text, "%schecks:\n  - {name: x, type: metric, metric: M, gates: [switch]}\n", base);
	load_err(text, "checks[0]: a metric check needs 'max' or 'min'");
	snprintf(text, sizeof text, "%schecks:\n  - {name: x, type: nodes-ready, gates: [deploy]}\n", base);
	load_err(text, "checks[0].gates: 'deploy' is not a gate");
	snprintf(text, sizeof text, "%schecks:\n  - {name: x, type: http, gates: [sync]}\n", base);
	load_err(text, "checks[0]: missing 'url' (a string)");
	snprintf(text, sizeof text,
	    "%schecks:\n  - {name: x, type: nodes-ready, gates: [sync]}\n"
	    "  - {name: x, type: nodes-ready, gates: [sync]}\n", base);
	load_err(text, "checks[1].name: 'x' is already the name of checks[0]");
	snprintf(text, sizeof text, "%schecks:\n  - {name: x, type: pods-ready, gates: [sync], colour: red}\n", base);
	load_err(text, "unknown key 'colour' in checks[0]");
	snprintf(text, sizeof text, "%schecks:\n  - {name: x, type: command, gates: [window], command: [true]}\n", base);
	{
		struct cfg c;
		char err[512];
		if (cfg_load_text(text, strlen(text), "t.yaml", &c, err, sizeof err) != 0)
			fail_msg("%s", err);
		/* argv entries that YAML typed as booleans stay as written */
		assert_string_equal(c.checks[0].command[0], "true");
		assert_int_equal(c.checks[0].gates, CFG_GATE_WINDOW);
		assert_int_equal(c.checks[0].interval_ms, 10000);
		cfg_free(&c);
	}
}

static void
test_durations(void **state)
{
	long ms;

	(void)state;
	assert_int_equal(cfg_parse_duration("300ms", &ms), 0);
	assert_int_equal(ms, 300);
	assert_int_equal(cfg_parse_duration("1h30m", &ms), 0);
	assert_int_equal(ms, 90 * 60000);
	assert_int_equal(cfg_parse_duration("2m30s", &ms), 0);
	assert_int_equal(ms, 150000);
	assert_int_equal(cfg_parse_duration("45", &ms), 0);
	assert_int_equal(ms, 45000);
	assert_int_equal(cfg_parse_duration("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(cfg_parse_duration("5 m", &ms), -1);
	assert_int_equal(cfg_parse_duration("-5s", &ms), -1);
	assert_int_equal(cfg_parse_duration("5d", &ms), -1);
	assert_int_equal(cfg_parse_duration("", &ms), -1);
	assert_int_equal(cfg_parse_duration("10s5", &ms), -1);
}

static void
test_missing_file(void **state)
{
	struct cfg c;
	char err[512];

	(void)state;
	assert_int_equal(cfg_load("tests/fixtures/config/does-not-exist.yaml", &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "does-not-exist.yaml"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_product_example),
		cmocka_unit_test(test_minimal_and_defaults),
		cmocka_unit_test(test_unknown_key_points_at_it),
		cmocka_unit_test(test_wrong_types_and_values),
		cmocka_unit_test(test_freeze_needs_namespaces),
		cmocka_unit_test(test_gateway_steps),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
