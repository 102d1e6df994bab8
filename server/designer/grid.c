#include "grid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pointset.h"

uint64_t grid_radix(const struct space_param *p)
{
	switch (p->type) {
	case SPACE_DOUBLE:
		return p->max > p->min ? DESIGNER_GRID_DOUBLE_STEPS : 1;
	case SPACE_INTEGER:
		return p->max >= p->min ? (uint64_t)(p->max - p->min) + 1 : 1;
	case SPACE_DISCRETE:
		return p->n_values ? p->n_values : 1;
	case SPACE_CATEGORICAL:
		return p->n_categories ? p->n_categories : 1;
	}
	return 1;
}

static double grid_value(const struct space_param *p, uint64_t d)
{
	switch (p->type) {
	case SPACE_DOUBLE: {
		uint64_t r = grid_radix(p);
		/* Decoding k / (r - 1) gives even steps in the scaled space and
		 * exactly the bounds at both ends. */
		return r > 1 ? space_param_decode(p, (double)d / (double)(r - 1)) : p->min;
	}
	case SPACE_INTEGER:
		return p->min + (double)d;
	case SPACE_DISCRETE:
		return p->values[d];
	case SPACE_CATEGORICAL:
		return (double)d;
	}
	return NAN;
}

/* Recomputes the point from the digits, from parameter `from` on; earlier
 * coordinates are unchanged. */
static void fill(struct grid_iter *it, size_t from)
{
	const struct space *s = it->s;
	for (size_t i = from; i < s->n; i++) {
		it->v[i] = grid_value(&s->params[i], it->digit[i]);
		if (!space_active(s, it->v, i))
			it->v[i] = NAN;
	}
}

int grid_iter_init(struct grid_iter *it, const struct space *s)
{
	it->s = s;
	it->done = 0;
	it->digit = calloc(s->n ? s->n : 1, sizeof *it->digit);
	it->v = calloc(s->n ? s->n : 1, sizeof *it->v);
	if (!it->digit || !it->v) {
		grid_iter_free(it);
		return -1;
	}
	fill(it, 0);
	return 0;
}

void grid_iter_free(struct grid_iter *it)
{
	if (!it)
		return;
	free(it->digit);
	free(it->v);
	it->digit = NULL;
	it->v = NULL;
}

const double *grid_iter_point(const struct grid_iter *it)
{
	return it->done ? NULL : it->v;
}

int grid_iter_next(struct grid_iter *it)
{
	const struct space *s = it->s;
	if (it->done)
		return 0;
	for (size_t i = s->n; i-- > 0;) {
		/* An absent child has one state; its digit stays 0. */
		if (isnan(it->v[i]))
			continue;
		if (++it->digit[i] < grid_radix(&s->params[i])) {
			for (size_t j = i + 1; j < s->n; j++)
				it->digit[j] = 0;
			fill(it, i);
			return 1;
		}
		it->digit[i] = 0;
	}
	it->done = 1;
	return 0;
}

int grid_suggest(const struct designer_input *in, double *out, struct designer_info *info,
                 char *err, size_t errlen)
{
	const struct space *s = in->space;
	struct pointset used;
	struct grid_iter it;
	int found = 0;
	if (pointset_from_input(&used, in) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (grid_iter_init(&it, s) < 0) {
		pointset_free(&used);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Each used trial hides at most one grid point, so this loop visits at
	 * most used.n + count points however large the grid is. */
	for (const double *v = grid_iter_point(&it); v && (size_t)found < in->count;
	     grid_iter_next(&it), v = grid_iter_point(&it)) {
		if (pointset_has(&used, v))
			continue;
		for (size_t i = 0; i < s->n; i++)
			out[(size_t)found * s->n + i] = v[i];
		if (info)
			info[found] = (struct designer_info){.model_based = 0,
			                                     .source = "grid",
			                                     .predicted_value = NAN,
			                                     .predicted_stddev = NAN,
			                                     .log_ei = NAN};
		found++;
	}
	grid_iter_free(&it);
	pointset_free(&used);
	return found;
}
