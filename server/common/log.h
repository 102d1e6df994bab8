/* log: one line per event on stderr, as key=value fields a machine can read:
 *
 *   ts=2026-11-27T10:00:00.123Z level=info event=listening addr=127.0.0.1:8080
 *
 * The macros test the level before the arguments are evaluated or
 * formatted, so a debug line costs one comparison when debug is off.
 * Thread-safe: each line is formatted into a local buffer and written with
 * one write(2). Values that may hold spaces should be quoted by the caller
 * (msg="..."). */
#ifndef SIBYL_LOG_H
#define SIBYL_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

/* The current threshold; lines above it are dropped. Default info. */
extern volatile int log_threshold;

/* Sets the threshold from "error", "warn", "info" or "debug". Returns 0, or
 * -1 (threshold unchanged) for another name. */
int log_set_level(const char *name);

/* Parses a level name into *level. Returns 0 or -1. */
int log_parse_level(const char *name, enum log_level *level /* OUT */);

/* Writes one line: the timestamp and level, then fmt's fields. Use the
 * macros below instead, which skip disabled levels cheaply. */
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_AT(lvl, ...)                               \
	do {                                           \
		if ((int)(lvl) <= log_threshold)       \
			log_write((lvl), __VA_ARGS__); \
	} while (0)

#define log_error(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
