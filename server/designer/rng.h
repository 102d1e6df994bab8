/* rng: a small deterministic generator (xoshiro256** seeded by splitmix64),
 * so that the same seed gives the same suggestions on every platform. */
#ifndef SIBYL_RNG_H
#define SIBYL_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* Seeds from (seed, stream): different streams of one seed are independent. */
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1), 53 random bits. */
double rng_uniform(struct rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Standard normal (Box-Muller, no cached state). */
double rng_normal(struct rng *r);

#endif
