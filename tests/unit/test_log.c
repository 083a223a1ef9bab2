/*
 * test_log.c — the log file and its redaction of secrets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/log.h"

static void
redact_is(const char *in, const char *want)
{
	char buf[512];

	snprintf(buf, sizeof buf, "%s", in);
	log_redact(buf);
	if (strcmp(buf, want) != 0)
		print_error("redact(%s)\n   got: %s\n  want: %s\n", in, buf, want);
	assert_string_equal(buf, want);
}

static void
test_redact_headers(void **state)
{
	(void)state;
	redact_is("Authorization: Bearer eyJ0eXAiOiJKV1Qi.abc.def", "Authorization: Bearer ***");
	redact_is("authorization: Basic dXNlcjpwYXNz", "authorization: Basic ***");
	redact_is("Authorization: Negotiate YIIabc", "Authorization: Negotiate ***");
	redact_is("authorization: SharedKey acct:SIG", "authorization: SharedKey ***");
	redact_is("Authorization: opaquetoken", "Authorization: ***");
	redact_is("Bearer\tSECRET", "Bearer\t***");
	redact_is("> GET / HTTP/1.1\nAuthorization: Bearer tok\nHost: x",
	    "> GET / HTTP/1.1\nAuthorization: Bearer ***\nHost: x");
}

static void
test_redact_forms_and_queries(void **state)
{
	(void)state;
	redact_is("grant_type=client_credentials&client_id=abc&client_secret=s3cr3t&scope=x",
	    "grant_type=client_credentials&client_id=abc&client_secret=***&scope=x");
	redact_is("client_assertion_type=jwt&client_assertion=eyJhbGciOi.x.y",
	    "client_assertion_type=jwt&client_assertion=***");
	redact_is("GET https://h/blob?sv=2020&sig=AbC%2Bdef&se=1", "GET https://h/blob?sv=2020&sig=***&se=1");
}

static void
test_redact_json(void **state)
{
	(void)state;
	redact_is("{\"access_token\":\"eyJabc\",\"expires_in\":3599}",
	    "{\"access_token\":\"***\",\"expires_in\":3599}");
	redact_is("{\"token\": \"k8s-token-value\", \"name\": \"u\"}",
	    "{\"token\": \"***\", \"name\": \"u\"}");
	redact_is("{\"password\":\"with \\\"quote\\\" inside\"}", "{\"password\":\"***\"}");
	/* az account get-access-token prints camelCase. */
	redact_is("{\"accessToken\": \"eyJ0\", \"expiresOn\": \"2026\"}",
	    "{\"accessToken\": \"***\", \"expiresOn\": \"2026\"}");
	redact_is("{'token': 'SECRET'}", "{'token': '***'}");
	redact_is("password: 'SECRET'", "password: '***'");
	redact_is("    client-key-data: LS0tLS1CRUdJTg==", "    client-key-data: ***");
	redact_is("key -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
	    "key -----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY-----");
}

static void
test_redact_leaves_plain_text(void **state)
{
	(void)state;
	/* Words that merely contain a key name are not values. */
	redact_is("tokens refreshed for cluster aks-prod-green", "tokens refreshed for cluster aks-prod-green");
	redact_is("secretName: tls-cert", "secretName: tls-cert");
	redact_is("expires_in=3599 token_type=Bearer", "expires_in=3599 token_type=Bearer");
}

static void
test_log_file_mode_levels_and_redaction(void **state)
{
	char path[] = "/tmp/bgswitch-test-log.XXXXXX";
	char line[1024];
	struct stat st;
	int fd = mkstemp(path);
	FILE *f;
	int n = 0, saw_info = 0;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	assert_int_equal(log_open(path, LOG_INFO), 0);
	log_debug("test", "hidden debug line");
	log_info("arm", "PUT cluster with Authorization: Bearer SECRET123");
	log_error("kube", "token=SECRET456 rejected");
	log_close();

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		n++;
		assert_null(strstr(line, "SECRET"));
		assert_null(strstr(line, "hidden debug"));
		if (strstr(line, " INFO  [arm] PUT cluster") != NULL)
			saw_info = 1;
	}
	fclose(f);
	unlink(path);
	assert_int_equal(n, 2);
	assert_true(saw_info);
}

static void
test_level_parse(void **state)
{
	(void)state;
	assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
	assert_int_equal(log_level_parse("WARN"), LOG_WARN);
	assert_int_equal(log_level_parse("verbose"), -1);
	assert_int_equal(log_level_parse(NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_headers),
		cmocka_unit_test(test_redact_forms_and_queries),
		cmocka_unit_test(test_redact_json),
		cmocka_unit_test(test_redact_leaves_plain_text),
		cmocka_unit_test(test_log_file_mode_levels_and_redaction),
		cmocka_unit_test(test_level_parse),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
