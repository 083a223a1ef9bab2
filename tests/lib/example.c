/*
 * example.c — the real Azure REST examples read as JSON (example.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/lib/example.h"

#include <stdio.h>
#include <stdlib.h>

cJSON *
example_load(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text;
	long n;
	cJSON *j;

	if (fp == NULL)
		fail_msg("cannot open %s (tests run from the repository root)", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	j = cJSON_Parse(text);
	free(text);
	assert_non_null(j);
	return j;
}

cJSON *
example_body(const char *file, const char *status)
{
	cJSON *j = example_load(file), *b;

	b = cJSON_DetachItemFromObject(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "responses"),
	    status), "body");
	cJSON_Delete(j);
	assert_non_null(b);
	return b;
}
