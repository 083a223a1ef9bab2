/*
 * log.h — leveled logging to a file.
 *
 * bgswitch owns the terminal while the UI runs, so log lines never go to
 * stdout; they go to the file given to log_open() (or stderr for headless
 * commands that ask for it).  Every line passes through log_redact() first so
 * that a token or secret pasted into a message by mistake is masked.
 */
#ifndef BGSWITCH_LOG_H
#define BGSWITCH_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };

/* Opens (appends to, mode 0600) PATH as the log; NULL or "-" logs to stderr.
 * Returns 0, or -1 with errno set. */
int log_open(const char *path, enum log_level min);
/* Sends lines to an already open stream (not closed by log_close). */
void log_set_stream(FILE *f, enum log_level min);
void log_set_level(enum log_level min);
enum log_level log_get_level(void);
/* Parses "debug", "info", "warn", "error", "off"; -1 when unknown. */
int log_level_parse(const char *s);
void log_close(void);

/* Writes one line "YYYY-mm-ddTHH:MM:SS.mmmZ LEVEL [module] message", redacted. */
void log_msg(enum log_level lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level lvl, const char *module, const char *fmt, va_list ap);

/* Masks secrets in BUF in place: Authorization/bearer values, and the values
 * of token, secret, password, client_secret, client_assertion, access_token,
 * refresh_token, id_token and sig fields, whether they appear as JSON members,
 * form fields, query parameters or headers.  Returns BUF. */
char *log_redact(char *buf);

#define log_debug(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)
#define log_info(mod, ...)  log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_error(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)

#endif
