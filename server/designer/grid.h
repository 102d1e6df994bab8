/* grid: GRID_SEARCH, and the iterator over a space's grid that the other
 * designers use to enumerate small finite spaces.
 *
 * The grid: every value of each INTEGER, DISCRETE and CATEGORICAL parameter,
 * and DESIGNER_GRID_DOUBLE_STEPS points evenly spaced in the scaled space of
 * each DOUBLE (both bounds included; one point when min == max). Points are
 * visited in a fixed order, a mixed-radix counter with the last parameter
 * changing fastest; a conditional child only takes values where it is
 * active (elsewhere it is absent, NAN), so each point is visited once. The
 * grid is never materialised: the iterator holds one digit per parameter. */
#ifndef SIBYL_GRID_H
#define SIBYL_GRID_H

#include <stddef.h>
#include <stdint.h>

#include "designer.h"

/* Same contract as designer_suggest() for DESIGNER_GRID: the first count
 * grid points, in grid order, that are neither completed nor pending.
 * Returns fewer (0 when none is left) when the grid is exhausted. The scan
 * visits at most (used trials on the grid) + count points. */
int grid_suggest(const struct designer_input *in, double *out /* OUT */,
                 struct designer_info *info /* OUT, may be NULL */, char *err /* OUT */,
                 size_t errlen);

struct grid_iter {
	const struct space *s; /* borrowed */
	uint64_t *digit;       /* owned */
	double *v;             /* the current point; owned */
	int done;
};

/* Positions it on the first grid point. 0, or -1 on out-of-memory. Free
 * with grid_iter_free() (NULL-safe). */
int grid_iter_init(struct grid_iter *it, const struct space *s);
void grid_iter_free(struct grid_iter *it);

/* The current point (value space, s->n doubles; owned by the iterator,
 * valid until the next call), or NULL after the last point. */
const double *grid_iter_point(const struct grid_iter *it);

/* Moves to the next point: 1, or 0 when the grid is exhausted. */
int grid_iter_next(struct grid_iter *it);

/* Number of grid values of parameter p (its radix in the counter). */
uint64_t grid_radix(const struct space_param *p);

#endif
