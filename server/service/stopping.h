/* stopping: the median automated stopping rule (medianAutomatedStoppingSpec),
 * as Vertex AI Vizier describes it and as the Vizier paper (Golovin et al.,
 * KDD 2017) defines it: a pending trial should stop when its best objective
 * value so far is strictly worse than the median, over the completed trials,
 * of each one's running average of the objective up to the same point.
 *
 * "The same point" is the trial's position: the largest stepCount among its
 * measurements, or the largest elapsedDuration when the spec sets
 * useElapsedDuration. A completed trial's running average at position s is
 * the mean of its objective values at positions <= s: the measurements it
 * reported at or before s, with no interpolation between steps (a completed
 * trial measured at steps 10 and 20 is judged at step 15 by its value at
 * 10). A completed trial with no measurement at or before s is left out;
 * one that ended before s counts with all its measurements.
 *
 * The rule needs STOPPING_MIN_COMPLETED completed trials with a measurement
 * at or before s; with fewer it never stops (the median of one or two
 * curves says little, and the first trials of a study must be allowed to
 * run). Vizier documents no number; 3 is the default of the other
 * implementations of this rule (Ray Tune's min_samples_required, Katib's
 * medianstop min_trials_required).
 *
 * Pure computation over plain arrays: no SQL, no HTTP, no JSON. The service
 * turns a study's trials into curves and acts on the answer. */
#ifndef SIBYL_STOPPING_H
#define SIBYL_STOPPING_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define STOPPING_MIN_COMPLETED 3

/* Which fields of a stopping_point are set. */
enum { STOPPING_HAS_STEP = 1, STOPPING_HAS_ELAPSED = 2 };

/* One measurement: the objective value and where it was taken. A point
 * without the field the rule uses (stepCount, or elapsedDuration with
 * useElapsedDuration), or whose value is NaN (the objective was not
 * reported), is ignored. */
struct stopping_point {
	int64_t step;
	int64_t elapsed_ns;
	double value;
	unsigned has; /* STOPPING_HAS_* bits */
};

/* A trial's measurements in any order (the rule does not assume that steps
 * increase); borrowed. */
struct stopping_curve {
	const struct stopping_point *points;
	size_t n;
};

struct stopping_input {
	const struct stopping_curve *trial;     /* the trial to judge */
	const struct stopping_curve *completed; /* the study's completed trials */
	size_t n_completed;
	int minimize;     /* 1: the objective's goal is MINIMIZE */
	int use_elapsed;  /* 1: positions are elapsedDuration, else stepCount */
	size_t min_count; /* completed trials needed; 0: STOPPING_MIN_COMPLETED */
};

/* Why the rule answered as it did. */
enum stopping_reason {
	STOPPING_NO_POSITION = 1, /* the trial has no usable measurement */
	STOPPING_TOO_FEW,         /* fewer than min_count completed curves at s */
	STOPPING_BETTER,          /* best so far is at least the median: keep */
	STOPPING_WORSE            /* best so far is strictly worse: stop */
};

struct stopping_result {
	int should_stop;
	enum stopping_reason reason;
	int64_t position; /* s: a step or nanoseconds; 0 with NO_POSITION */
	double best;      /* the trial's best value at or before s (NaN: none) */
	double median;    /* NaN unless BETTER or WORSE */
	size_t n_used;    /* completed trials that had a running average at s */
};

/* Applies the rule. Returns 0 with *out filled, or -ERR_INTERNAL (out of
 * memory, e set) or -ERR_INVALID_ARGUMENT (a NULL trial curve). Allocates
 * only scratch space, freed before it returns. */
int stopping_median(const struct stopping_input *in, struct stopping_result *out /* OUT */,
                    struct err *e);

/* The reason as a short English phrase for messages ("best 0.41 at step 30
 * is worse than the median 0.55 of 4 completed trials"); writes at most cap
 * bytes, NUL-terminated. */
void stopping_describe(const struct stopping_input *in, const struct stopping_result *r, char *buf,
                       size_t cap);

#endif
