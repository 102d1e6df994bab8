/* quasirandom: QUASI_RANDOM_SEARCH, and the low-discrepancy points the GP
 * designer uses for its initial design and candidate sets.
 *
 * The sequence is GSL's Sobol sequence (gsl_qrng_sobol) up to
 * QUASIRANDOM_SOBOL_MAX_DIM dimensions, scrambled by a digital shift: the
 * 52-bit fixed-point coordinates are XORed with per-dimension random bits
 * drawn from the study's seed, which keeps the net property of the
 * sequence. Above that, GSL's Halton sequence (gsl_qrng_halton) up to
 * QUASIRANDOM_MAX_DIM dimensions, with a random Cranley-Patterson rotation
 * (u + shift mod 1) from the seed. Point 0 is the origin (shifted like
 * the others) and point k > 0 is GSL's k-th point, so the first 2^m Sobol
 * points form a complete net. Point k of the sequence is the same for
 * every call with the same seed, so the sequence continues across calls:
 * a study's suggestion at trial position p uses point p. */
#ifndef SIBYL_QUASIRANDOM_H
#define SIBYL_QUASIRANDOM_H

#include <stddef.h>
#include <stdint.h>

#include "designer.h"

#define QUASIRANDOM_SOBOL_MAX_DIM 40
#define QUASIRANDOM_MAX_DIM       1229
/* Sequence points skipped for one batch slot before a finite space near
 * exhaustion is searched directly for an unused point. */
#define QUASIRANDOM_SKIP_LIMIT 256

/* Writes points start, start + 1, ..., start + count - 1 of the scrambled
 * sequence of dimension dim for this seed into u (count x dim, row-major,
 * in [0, 1)). Skipping to start costs start point generations. Returns 0,
 * or -1 with a message in err when dim is 0 or above QUASIRANDOM_MAX_DIM or
 * memory runs out. */
int quasirandom_points(size_t dim, uint64_t seed, uint64_t start, size_t count,
                       double *u /* OUT count x dim */, char *err /* OUT */, size_t errlen);

/* Same contract as designer_suggest() for DESIGNER_QUASI_RANDOM: points
 * in->position, in->position + 1, ... decoded into the space (source
 * "sobol" or "halton"). With observationNoise LOW a point that equals a
 * completed, pending or earlier batch point is skipped for the next one of
 * the sequence, up to QUASIRANDOM_SKIP_LIMIT times per slot, then an
 * unused point of a small finite space is picked at random
 * (random_unused()); an exhausted space gives duplicates. A space of more
 * than QUASIRANDOM_MAX_DIM parameters falls back to random search, with
 * source "random (more than 1229 parameters for quasi-random)". */
int quasirandom_suggest(const struct designer_input *in, double *out /* OUT */,
                        struct designer_info *info /* OUT, may be NULL */, char *err /* OUT */,
                        size_t errlen);

#endif
