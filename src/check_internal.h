/*
 * check_internal.h — what check.c, check_command.c and check_http.c share
 * and nothing else may use: the per-type runners that own process or
 * network plumbing, and the result-filling helpers.
 */
#ifndef BGSWITCH_CHECK_INTERNAL_H
#define BGSWITCH_CHECK_INTERNAL_H

#include <stddef.h>

#include "src/check.h"

/* snprintf into DST (cut at N, never a warning about it). */
void check_setf(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Appends to the string in DST. */
void check_appendf(char *dst, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Marks R as CHECK_ERROR with the detail FMT; returns CHECK_ERROR. */
enum check_status check_error(struct check_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

enum check_status check_run_http(const struct cfg_check *k, const struct check_env *env,
    struct check_result *r);
enum check_status check_run_command(const struct cfg_check *k, struct check_result *r);

#endif
