/*
 * example.h — the real Azure REST examples under tests/fixtures/azure
 * (SOURCES.md there), read as JSON.  Paths are relative to the repository
 * root, where the tests run.
 */
#ifndef TESTS_LIB_EXAMPLE_H
#define TESTS_LIB_EXAMPLE_H

#include <cjson/cJSON.h>

/* The JSON file at PATH; fails the test when it cannot be read or parsed. */
cJSON *example_load(const char *path);

/* responses.STATUS.body of the example FILE, detached; fails the test when absent. */
cJSON *example_body(const char *file, const char *status);

#endif
