/* gpei: the GAUSSIAN_PROCESS_EI designer (the default algorithm). See
 * ../../docs/algorithm.md and /work/shared/ALGORITHM.md. */
#ifndef SIBYL_GPEI_H
#define SIBYL_GPEI_H

#include <stddef.h>

#include "designer.h"

/* Same contract as designer_suggest() for DESIGNER_GP_EI. Uses the
 * quasi-random initial design until enough trials are complete. */
int gpei_suggest(const struct designer_input *in, double *out /* OUT */,
                 struct designer_info *info /* OUT, may be NULL */, char *err /* OUT */,
                 size_t errlen);

/* Warm-start state for one study, kept by the service between suggestions.
 * gp_cache_new() returns NULL on out-of-memory; free with gp_cache_free(),
 * NULL-safe. A cache is not thread-safe: one suggestion at a time per cache. */
struct gp_cache *gp_cache_new(void);
void gp_cache_free(struct gp_cache *c);

#endif
