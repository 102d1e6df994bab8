/* refusals: the audit log's budget for refused requests.
 *
 * A caller with a valid key that is refused again and again (the same key,
 * method, route and status) gets one audit entry per window with a count,
 * not one per request: the first refusal of a window writes an entry, the
 * repeats within the window are counted in memory and added to that entry
 * at most once a second per entry (and whenever the log is read, and at
 * shutdown). So a flood of refusals costs a few writes a second and a
 * bounded number of entries, and the log still says how many there were.
 *
 * Memory is bounded: cap windows at once, in sets of 4 by hash; a window
 * pushed out of its set hands back its uncounted repeats first. Keys are
 * the caller's strings (at most REFUSALS_KEY_MAX bytes are used). Times
 * are milliseconds, passed in so that tests control them. Thread-safe. */
#ifndef SIBYL_REFUSALS_H
#define SIBYL_REFUSALS_H

#include <stddef.h>
#include <stdint.h>

#define REFUSALS_KEY_MAX  95
#define REFUSALS_FLUSH_MS 1000 /* repeats reach the store at least this often */

struct refusals;

/* cap: windows kept at once (at least 4); window_ms: how long one entry
 * gathers repeats. NULL when out of memory. */
struct refusals *refusals_new(size_t cap, int64_t window_ms);
void refusals_free(struct refusals *r); /* NULL-safe */

/* Repeats to add to the entry of row id (store_audit_add_count). */
struct refusal_count {
	int64_t id;
	int64_t n;
	int64_t last; /* the time of the last of them */
};
#define REFUSALS_MAX_COUNTS 2

/* A refusal of key at now. Returns 1 when it opens a window: the caller
 * writes its entry and then calls refusals_written with the row id; 0 when
 * it is counted as a repeat. Either way out[0..*n) are counts the caller
 * adds to their entries now. */
int refusals_note(struct refusals *r, const char *key, int64_t now,
                  struct refusal_count out[REFUSALS_MAX_COUNTS], size_t *n /* OUT */);
/* The row id of the entry that refusals_note asked for (<= 0: it could not
 * be written; the window is dropped). */
void refusals_written(struct refusals *r, const char *key, int64_t id);
/* Every count not yet handed out (malloc'd, *n of them; NULL when none or
 * out of memory), for reading the log or shutting down. */
struct refusal_count *refusals_drain(struct refusals *r, size_t *n /* OUT */);

#endif
