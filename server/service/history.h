/* history: the parsed trial history of one study, kept in memory between
 * suggestions so that a suggest does not reload and re-parse every trial
 * (a 100,000-trial study took 0.3-1.3 s to load; docs/storage.md).
 *
 * It is brought up to date from the store on every use, on the caller's
 * read snapshot: the study's change counter (trial_seq, kept by triggers
 * for every writer) says whether anything changed, and only the trials
 * changed since are read again; a delete, or a counter that went back (a
 * restored file), reloads everything. So a second sibyld on the same file,
 * a restart or a hand edit can never leave it stale.
 *
 * Not thread-safe: one user at a time (the study's suggest leader). */
#ifndef SIBYL_HISTORY_H
#define SIBYL_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "spec.h"
#include "store.h"

/* Per trial id (slots 0..cap-1; state 0: no such trial). */
struct hist {
	size_t d, k;             /* parameters and metrics of the spec */
	int64_t seq, deletes;    /* the counters it reflects; seq < 0: empty */
	size_t cap;              /* slots */
	int64_t max_id;          /* highest id present (0: none) */
	size_t n;                /* trials present */
	signed char *state;      /* enum store_trial_state, 0 when absent */
	unsigned char *given_up; /* svc_given_up() of the trial */
	int64_t *end_time;
	char **client_id; /* malloc'd; kept for ACTIVE trials only */
	double *vals;     /* cap x d parameter values */
	double *metrics;  /* cap x k final metrics (NAN when absent) */
};

/* NULL on out-of-memory. Free with hist_free (NULL-safe). */
struct hist *hist_new(void);
void hist_free(struct hist *h);

/* Brings h up to date with the study as seen by the read connection c
 * (its snapshot). On an error h is emptied (the next call reloads). */
int hist_refresh(struct hist *h, struct store_conn *c, const struct spec *sp, int64_t study_rowid,
                 struct err *e);

#endif
