/* json_util: the small JSON helpers every handler shares: bounded body
 * parsing, unknown-field rejection, proto3 JSON scalars (int64 as string or
 * number, durations "12.5s", RFC 3339 timestamps), and the id pattern.
 *
 * Every checker takes the field path for its message ("studySpec.seed") and
 * returns 0 or a negative enum err_code with e set. Nothing here allocates
 * unless the comment says so. */
#ifndef SIBYL_JSON_UTIL_H
#define SIBYL_JSON_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Parses a request body. An empty body (only whitespace) is {}. The nesting
 * depth is checked on the raw text first, so a deep document never reaches
 * the parser's recursion. Duplicate keys, NUL in strings and a top level
 * other than an object are INVALID_ARGUMENT. Returns a new reference
 * (json_decref) or NULL with e set. */
json_t *ju_parse_body(const char *body, size_t len, int max_depth, struct err *e);

/* Nesting depth of the JSON text (strings skipped); > max_depth stops early
 * and returns max_depth + 1. */
int ju_depth(const char *s, size_t len, int max_depth);

/* INVALID_ARGUMENT naming path.key for the first key of obj not in allowed
 * (a NULL-terminated list). obj must be an object. */
int ju_only_fields(const json_t *obj, const char *path, const char *const *allowed, struct err *e);

/* Type checkers: INVALID_ARGUMENT "<path> must be ..." on mismatch. */
int ju_object(const json_t *v, const char *path, struct err *e);
int ju_array(const json_t *v, const char *path, size_t max_len, struct err *e);
/* A number (integer or real), finite. */
int ju_double(const json_t *v, const char *path, double *out, struct err *e);
/* int64 as a JSON integer, an integral real, or a decimal string. */
int ju_int64(const json_t *v, const char *path, int64_t *out, struct err *e);
int ju_bool(const json_t *v, const char *path, int *out, struct err *e);
/* A string of 1..max_len bytes (max_len <= 0: no limit), valid UTF-8 without
 * control characters. *out points into v. */
int ju_string(const json_t *v, const char *path, int max_len, const char **out, struct err *e);
/* A string matching [A-Za-z0-9][A-Za-z0-9._-]{0,127}. */
int ju_id(const json_t *v, const char *path, const char **out, struct err *e);
int ju_is_id(const char *s);

/* Durations "12.5s" (proto3: decimal seconds, up to 9 fractional digits,
 * suffix s); negative durations are rejected. */
int ju_duration(const json_t *v, const char *path, int64_t *nanos, struct err *e);
/* Writes "12.500s" style (0, 3, 6 or 9 fractional digits). */
void ju_format_duration(int64_t nanos, char *buf, size_t cap);

/* RFC 3339 UTC text of ms since the epoch: "2026-11-27T10:00:00.123Z". */
void ju_format_time(int64_t ms, char *buf, size_t cap);
/* RFC 3339 with Z or a numeric offset -> ms since the epoch. */
int ju_time(const json_t *v, const char *path, int64_t *ms, struct err *e);

/* snprintf for field paths in messages: a long path is cut, never an
 * overflow (a separate function so truncation is not a build warning). */
void ju_path(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Compact text (json_dumps flags may add JSON_SORT_KEYS), every real in
 * the shortest form that reads back as the same double. malloc'd (free()),
 * NULL on out-of-memory. */
char *ju_dump(const json_t *v, size_t flags);

/* Canonical text: ju_dump with keys sorted. malloc'd (free()), NULL on
 * out-of-memory. */
char *ju_canonical(const json_t *v);

/* 1 when two canonical texts hold the same value: equal text, or, when one
 * was written by an older sibyld whose round reals read 1e+02 (now 100.0),
 * equal once parsed. A retry that crosses an upgrade stays a retry. */
int ju_same_canonical(const char *a, const char *b);

/* Milliseconds since the epoch, from the real-time clock. */
int64_t ju_now_ms(void);

#endif
