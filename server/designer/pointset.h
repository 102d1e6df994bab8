/* pointset: a hash set of points in value space (space.h), so that the
 * designers can skip trials already run or pending in O(1) per check.
 * Two points are the same when space_equal() says so: coordinates compare
 * exactly, NAN equals NAN and -0 equals 0. */
#ifndef SIBYL_POINTSET_H
#define SIBYL_POINTSET_H

#include <stddef.h>

struct pointset {
	size_t dim;
	size_t n;     /* points stored */
	size_t cap;   /* slots, a power of two */
	double *keys; /* cap x dim; owned */
	unsigned char *full;
};

/* Initialises an empty set of dim-vectors. 0, or -1 on out-of-memory.
 * Free with pointset_free(). */
int pointset_init(struct pointset *ps, size_t dim);
void pointset_free(struct pointset *ps); /* NULL-safe */

/* Adds a copy of v: 1 when added, 0 when already there, -1 on
 * out-of-memory. */
int pointset_add(struct pointset *ps, const double *v);

/* 1 when v is in the set. */
int pointset_has(const struct pointset *ps, const double *v);

struct designer_input;
/* Initialises ps with the value vectors of in's completed and pending trials
 * (in->space->n wide). 0, or -1 on out-of-memory (ps is then freed). */
int pointset_from_input(struct pointset *ps, const struct designer_input *in);

#endif
