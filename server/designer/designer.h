/* designer: the algorithms behind one interface. Pure computation: no HTTP,
 * no SQL, no global state, no printing. Everything is deterministic given
 * the input (seed and history).
 *
 *   designer_suggest(algorithm, input, out, info, err)
 *
 * takes the search space, the study's completed trials and its pending
 * (ACTIVE, not yet completed) trials, and writes `count` new points in value
 * space (see space.h).
 */
#ifndef SIBYL_DESIGNER_H
#define SIBYL_DESIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "space.h"

enum designer_algorithm {
	DESIGNER_GP_EI,        /* GAUSSIAN_PROCESS_EI, also ALGORITHM_UNSPECIFIED */
	DESIGNER_RANDOM,       /* RANDOM_SEARCH */
	DESIGNER_QUASI_RANDOM, /* QUASI_RANDOM_SEARCH */
	DESIGNER_GRID          /* GRID_SEARCH */
};

enum designer_goal { DESIGNER_MAXIMIZE, DESIGNER_MINIMIZE };

/* One metric of the study, in spec order. A metric with `safety` set is a
 * constraint: a trial is safe when its value is on the good side of
 * safety_threshold (>= for MAXIMIZE, <= for MINIMIZE); the others are
 * objectives. */
struct designer_metric {
	enum designer_goal goal;
	int safety;
	double safety_threshold;
};

/* A completed trial. values: value space, space->n entries. metrics: one per
 * study metric, NAN when the final measurement lacks it. infeasible: the
 * trial was completed as infeasible (its metrics are then all NAN). */
struct designer_trial {
	const double *values;
	const double *metrics;
	int infeasible;
};

struct gp_cache; /* warm-start state kept between suggestions; see gp.h */

struct designer_input {
	const struct space *space;
	const struct designer_metric *metrics;
	size_t n_metrics;
	const struct designer_trial *completed; /* SUCCEEDED and INFEASIBLE trials */
	size_t n_completed;
	const double *const *pending; /* value vectors of ACTIVE/REQUESTED trials */
	size_t n_pending;
	size_t count;           /* points wanted, >= 1 */
	uint64_t seed;          /* the study's seed */
	uint64_t position;      /* how many trials the study has had so far (ids
	                           handed out); the quasi-random sequence and the
	                           per-call random stream start from here */
	int noise_high;         /* observationNoise HIGH: duplicates allowed, the
	                           noise floor is raised */
	struct gp_cache *cache; /* may be NULL; GP-EI reads and updates it */
};

/* Why a point was proposed, for the trial's suggestionInfo. */
struct designer_info {
	int model_based;        /* 0: initial design / random / grid; then only
	                           `source` is meaningful */
	const char *source;     /* static string, e.g. "sobol", "random", "grid",
	                           "gp-ei" */
	double predicted_value; /* model mean at the point, in the metric's units
	                           (first objective) */
	double predicted_stddev;
	double log_ei;
	const char *incumbent; /* model-based points: "OBSERVED" (EI over the best
	                          observed value) or "POSTERIOR_MEAN" (noisy EI
	                          over the best posterior mean at an evaluated
	                          point); static; NULL otherwise */
};

/* Writes in->count points into out (count x space->n doubles, value space,
 * each valid per space_valid) and, when info is not NULL, one designer_info
 * per point. Returns the number of points written (may be fewer than count
 * only for GRID when the grid is exhausted; 0 then), or a negative value
 * with a message in err on failure (bad input, numerical failure that no
 * fallback could absorb). */
int designer_suggest(enum designer_algorithm algorithm, const struct designer_input *in,
                     double *out /* OUT */, struct designer_info *info /* OUT, may be NULL */,
                     char *err /* OUT */, size_t errlen);

/* Number of grid steps used for a DOUBLE parameter by GRID_SEARCH. */
#define DESIGNER_GRID_DOUBLE_STEPS 10

#endif
