#include "designer.h"

#include <stdio.h>

#include "grid.h"
#include "quasirandom.h"
#include "random.h"
#include "gpei.h"

static const char *algorithm_name(enum designer_algorithm a)
{
	switch (a) {
	case DESIGNER_GP_EI:
		return "GAUSSIAN_PROCESS_EI";
	case DESIGNER_RANDOM:
		return "RANDOM_SEARCH";
	case DESIGNER_QUASI_RANDOM:
		return "QUASI_RANDOM_SEARCH";
	case DESIGNER_GRID:
		return "GRID_SEARCH";
	}
	return "unknown";
}

static int check_input(const struct designer_input *in, char *err, size_t errlen)
{
	if (!in || !in->space) {
		snprintf(err, errlen, "no search space given");
		return -1;
	}
	if (space_check(in->space, err, errlen) < 0)
		return -1;
	if (in->count < 1) {
		snprintf(err, errlen, "the number of suggestions must be at least 1");
		return -1;
	}
	if (in->n_metrics < 1 || !in->metrics) {
		snprintf(err, errlen, "the study has no metrics");
		return -1;
	}
	if ((in->n_completed && !in->completed) || (in->n_pending && !in->pending)) {
		snprintf(err, errlen, "trials are counted but not given");
		return -1;
	}
	for (size_t k = 0; k < in->n_completed; k++) {
		if (!in->completed[k].values ||
		    (!in->completed[k].metrics && !in->completed[k].infeasible)) {
			snprintf(err, errlen, "completed trial %zu has no values or metrics", k);
			return -1;
		}
	}
	for (size_t k = 0; k < in->n_pending; k++) {
		if (!in->pending[k]) {
			snprintf(err, errlen, "pending trial %zu has no values", k);
			return -1;
		}
	}
	return 0;
}

int designer_suggest(enum designer_algorithm algorithm, const struct designer_input *in,
                     double *out, struct designer_info *info, char *err, size_t errlen)
{
	int rc;
	if (!out) {
		snprintf(err, errlen, "no output buffer given");
		return -1;
	}
	if (check_input(in, err, errlen) < 0)
		return -1;
	switch (algorithm) {
	case DESIGNER_GP_EI:
		rc = gpei_suggest(in, out, info, err, errlen);
		break;
	case DESIGNER_RANDOM:
		rc = random_suggest(in, out, info, err, errlen);
		break;
	case DESIGNER_QUASI_RANDOM:
		rc = quasirandom_suggest(in, out, info, err, errlen);
		break;
	case DESIGNER_GRID:
		rc = grid_suggest(in, out, info, err, errlen);
		break;
	default:
		snprintf(err, errlen, "unknown algorithm %d", (int)algorithm);
		return -1;
	}
	if (rc < 0)
		return -1;
	if ((size_t)rc > in->count || (rc < (int)in->count && algorithm != DESIGNER_GRID)) {
		snprintf(err, errlen, "internal error: %s returned %d points for %zu wanted",
		         algorithm_name(algorithm), rc, in->count);
		return -1;
	}
	/* A point outside the space must never reach a trial: this is the last
	 * line of defence for every algorithm. */
	const struct space *s = in->space;
	for (int k = 0; k < rc; k++) {
		char why[256];
		if (!space_valid(s, out + (size_t)k * s->n, why, sizeof why)) {
			snprintf(err, errlen, "internal error: %s proposed an invalid point: %s",
			         algorithm_name(algorithm), why);
			return -1;
		}
	}
	return rc;
}
