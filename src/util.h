/*
 * util.h — the few small helpers every module would otherwise write again.
 */
#ifndef BGSWITCH_UTIL_H
#define BGSWITCH_UTIL_H

#include <stddef.h>

/* Formats an error message into ERR (size ERRLEN); ERR may be NULL or
 * ERRLEN 0, in which case nothing is written. */
void util_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
