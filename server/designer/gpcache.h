/* gpcache: what GP-EI keeps of a study between suggestions (struct
 * gp_cache, owned by the service; gp_cache_new/free in gpei.h): the last
 * hyperparameters of each model, and the schedule that decides when they
 * are fitted again. */
#ifndef SIBYL_GPCACHE_H
#define SIBYL_GPCACHE_H

#include <stddef.h>

#include "gpfit.h"

/* Up to this many points every suggestion refits (see gpcache_schedule). */
#define GPCACHE_FULL_FIT 200

/* The last hyperparameters of one model and the points they were fitted
 * on. */
struct gpcache_fit {
	double *theta; /* owned; NULL before the first fit */
	double mean;
	size_t n_fit;
	size_t n_neg; /* constraint models: unsafe trials at the last fit */
};

/* Slot 0: the objective; slot 1: the failed-trial model; slot 2 + k: the
 * safety model of metric k. */
struct gp_cache {
	size_t dim, n_slots;
	struct gpcache_fit *slot; /* n_slots; owned */
};

/* Slot k of the cache for dimension d (every slot is cleared when d
 * changed), or NULL (no cache, out of memory). */
struct gpcache_fit *gpcache_slot(struct gp_cache *c, size_t d, size_t k);

/* Remembers theta (gp layout) and mean in st (NULL-safe); n_fit = n only
 * when they were optimized. */
void gpcache_store(struct gpcache_fit *st, size_t d, const double *theta, double mean,
                   int optimized, size_t n);

/* The refit schedule for a model of n points; warm: the last fit (NULL:
 * none). Adjusts fo (starts, steps) and returns 1 to optimize, 0 to keep
 * warm's hyperparameters. */
int gpcache_schedule(struct gpfit_opts *fo, const struct gpcache_fit *warm, size_t n);

#endif
