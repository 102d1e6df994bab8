/* gpei: the GAUSSIAN_PROCESS_EI designer (the default algorithm). See
 * docs/gp-ei.md. */
#ifndef SIBYL_GPEI_H
#define SIBYL_GPEI_H

#include <stddef.h>

#include "designer.h"

/* Same contract as designer_suggest() for DESIGNER_GP_EI. Uses the
 * quasi-random initial design until enough trials are complete. */
int gpei_suggest(const struct designer_input *in, double *out /* OUT */,
                 struct designer_info *info /* OUT, may be NULL */, char *err /* OUT */,
                 size_t errlen);

/* The trial to recommend as the best under noise. With one objective and
 * either observationNoise HIGH or a fitted noise that says the
 * observations are noisy (the rule suggestions use for noisy EI), sets
 * *posterior = 1 and *index to the completed trial (index into
 * in->completed, feasible and safe) with the best posterior mean among the
 * best observed ones; otherwise *posterior = 0 (the caller keeps the best
 * observation). Starts from in->cache's hyperparameters but leaves the
 * cache unchanged (asking never changes the next suggestion); in->pending
 * and in->count are ignored. Returns 0, or -1 with a message in err. */
int gpei_recommend(const struct designer_input *in, size_t *index /* OUT */,
                   int *posterior /* OUT */, char *err /* OUT */, size_t errlen);

/* Warm-start state for one study, kept by the service between suggestions.
 * gp_cache_new() returns NULL on out-of-memory; free with gp_cache_free(),
 * NULL-safe. A cache is not thread-safe: one suggestion at a time per cache. */
struct gp_cache *gp_cache_new(void);
void gp_cache_free(struct gp_cache *c);

#endif
