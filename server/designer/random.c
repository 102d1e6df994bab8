#include "random.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grid.h"

/* Keeps this stream apart from the other designers' streams of one seed. */
#define RANDOM_SEED_TAG 0x52414e444f4d5345ULL

int random_unused(const struct space *s, const struct pointset *used, struct rng *r, double *v)
{
	double card = space_cardinality(s);
	if (!(card >= 1.0) || card > (double)RANDOM_ENUM_LIMIT)
		return 0;
	struct grid_iter it;
	if (grid_iter_init(&it, s) < 0)
		return -1;
	uint64_t free_points = 0;
	for (const double *p = grid_iter_point(&it); p;
	     grid_iter_next(&it), p = grid_iter_point(&it))
		if (!pointset_has(used, p))
			free_points++;
	grid_iter_free(&it);
	if (free_points == 0)
		return 0;
	uint64_t pick = rng_below(r, free_points);
	if (grid_iter_init(&it, s) < 0)
		return -1;
	for (const double *p = grid_iter_point(&it); p;
	     grid_iter_next(&it), p = grid_iter_point(&it)) {
		if (pointset_has(used, p))
			continue;
		if (pick-- == 0) {
			memcpy(v, p, s->n * sizeof *v);
			break;
		}
	}
	grid_iter_free(&it);
	return 1;
}

static void draw(const struct space *s, struct rng *r, double *u, double *v)
{
	for (size_t i = 0; i < s->n; i++)
		u[i] = rng_uniform(r);
	space_decode(s, u, v);
}

int random_suggest(const struct designer_input *in, double *out, struct designer_info *info,
                   char *err, size_t errlen)
{
	const struct space *s = in->space;
	size_t n = s->n;
	struct rng r;
	struct pointset used = {0};
	int dedup = !in->noise_high, rc = -1;
	double *u = malloc(n * sizeof *u);
	if (!u || (dedup && pointset_from_input(&used, in) < 0)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rng_seed(&r, in->seed ^ RANDOM_SEED_TAG, in->position);
	for (size_t k = 0; k < in->count; k++) {
		double *v = out + k * n;
		draw(s, &r, u, v);
		if (dedup) {
			for (int t = 1; t < RANDOM_TRIES && pointset_has(&used, v); t++)
				draw(s, &r, u, v);
			/* A small space close to exhaustion: pick among what is
			 * left instead of hoping. */
			if (pointset_has(&used, v) && random_unused(s, &used, &r, v) < 0) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			if (pointset_add(&used, v) < 0) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
		}
		if (info)
			info[k] = (struct designer_info){.model_based = 0,
			                                 .source = "random",
			                                 .predicted_value = NAN,
			                                 .predicted_stddev = NAN,
			                                 .log_ei = NAN};
	}
	rc = (int)in->count;
out:
	pointset_free(&used);
	free(u);
	return rc;
}
