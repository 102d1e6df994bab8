/* random: RANDOM_SEARCH, uniform in the unit cube (so log-uniform on a log
 * scale), decoded into the space. Deterministic: the points of one call
 * come from the rng stream (seed, position), so the same seed and the same
 * history give the same points. */
#ifndef SIBYL_RANDOM_H
#define SIBYL_RANDOM_H

#include <stddef.h>

#include "designer.h"
#include "pointset.h"
#include "rng.h"

/* Largest finite space that random_unused() enumerates. */
#define RANDOM_ENUM_LIMIT (1u << 20)
/* Draws tried before a duplicate sends us to random_unused(). */
#define RANDOM_TRIES 64

/* Same contract as designer_suggest() for DESIGNER_RANDOM. With
 * observationNoise LOW (in->noise_high == 0) no point equals a completed or
 * pending trial or an earlier point of the batch, unless the space is finite
 * and every point is used (then duplicates are returned rather than
 * nothing) or it is finite but larger than RANDOM_ENUM_LIMIT and
 * RANDOM_TRIES draws in a row were all used (practically never). */
int random_suggest(const struct designer_input *in, double *out /* OUT */,
                   struct designer_info *info /* OUT, may be NULL */, char *err /* OUT */,
                   size_t errlen);

/* Picks, uniformly with r, one point of the finite space s that is not in
 * used and writes it into v (s->n doubles). Returns 1 when written, 0 when
 * there is none to pick (s has a DOUBLE, more than RANDOM_ENUM_LIMIT
 * points, or all are used), -1 on out-of-memory. Costs one or two passes
 * over the space. */
int random_unused(const struct space *s, const struct pointset *used, struct rng *r,
                  double *v /* OUT */);

#endif
