/* spec: StudySpec JSON -> a validated struct spec (the search space of
 * space.h, the metrics, the algorithm and the options), and the canonical
 * JSON that is stored and compared by create-or-load.
 *
 * Every field is checked; an error names the field path and what was wrong
 * (INVALID_ARGUMENT "studySpec.parameters[2].doubleValueSpec.minValue must
 * be < maxValue (3 >= 1)"). */
#ifndef SIBYL_SPEC_H
#define SIBYL_SPEC_H

#include <jansson.h>
#include <stdint.h>

#include "designer.h"
#include "error.h"
#include "space.h"

struct config;

struct spec_metric {
	char *id; /* owned */
	enum designer_goal goal;
	int safety;              /* has safetyConfig: a constraint */
	double safety_threshold; /* when safety */
	double desired_min_safe_fraction;
};

struct spec {
	struct space space;
	struct spec_metric *metrics;      /* owned, n_metrics */
	struct designer_metric *dmetrics; /* the same, for the designer; owned */
	size_t n_metrics;
	size_t n_objectives;
	enum designer_algorithm algorithm;
	const char *algorithm_name; /* static, as in the spec */
	int noise_high;
	int best_measurement; /* measurementSelectionType BEST_MEASUREMENT */
	int has_median_stopping;
	int median_use_elapsed;
	/* studyStoppingConfig; 0 means not set */
	int64_t max_num_trials;
	int64_t max_num_trials_no_progress;
	int64_t max_duration_no_progress_ns;
	int64_t min_num_trials;
	int should_stop_asap;
	int64_t max_runtime_ns;     /* maximumRuntimeConstraint.maxDuration */
	int64_t max_runtime_end_ms; /* maximumRuntimeConstraint.endTime */
	int64_t min_runtime_ns;     /* minimumRuntimeConstraint.maxDuration */
	int64_t min_runtime_end_ms; /* minimumRuntimeConstraint.endTime */
	int64_t stale_timeout_ns;   /* staleTrialTimeout; 0: never */
	uint64_t seed;
	int has_seed;
	/* A borrowed copy (spec_borrow) points at its shared original, whose
	 * pointers it uses; spec_free then drops a reference instead. */
	struct spec *origin;
	int refs; /* of a shared original (spec_share) only */
};

/* Validates the StudySpec object v under the limits of cfg (cfg NULL: no
 * limits, for specs read back from the store). On success fills out (free
 * with spec_free) and, when canonical is not NULL, sets *canonical to the
 * malloc'd canonical JSON text (free()). path is the field's name in
 * messages ("studySpec"). */
int spec_parse(const json_t *v, const char *path, const struct config *cfg, struct spec *out,
               char **canonical /* OUT, may be NULL */, struct err *e);

/* Parses a stored canonical spec (no limits). */
int spec_parse_text(const char *json_text, struct spec *out, struct err *e);

void spec_free(struct spec *s); /* NULL-safe; frees what s owns */

/* Sharing one parsed spec between threads (the per-study cache of
 * service.c). spec_share moves *s into a heap copy with one reference and
 * returns it (NULL on out-of-memory, *s untouched). spec_borrow fills out
 * with a read-only copy that holds a reference; spec_free(out) drops it.
 * spec_unshare drops the reference of the one who shared it. The original
 * is freed with its last reference. Nothing may change a shared spec. */
struct spec *spec_share(struct spec *s);
void spec_borrow(struct spec *shared, struct spec *out);
void spec_unshare(struct spec *shared);

/* Index of the metric with this id, or -1. */
int spec_metric_index(const struct spec *s, const char *id);

#endif
