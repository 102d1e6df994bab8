/* importance: how much each parameter of a study explains its objective,
 * by PED-ANOVA (Watanabe, Bansal and Hutter, IJCAI 2023): the importance
 * of parameter d is the Pearson divergence between the distribution of
 * x_d among the best trials (the top IMP_GAMMA fraction) and among all
 * trials,
 *
 *     I_d = integral (p_top(x) / p_all(x) - 1)^2 p_all(x) dx,
 *
 * estimated with one-dimensional Parzen (kernel density) estimates on a
 * grid of the unit-cube coordinate (so a log-scaled parameter is judged on
 * its log scale) and with smoothed histograms for categorical ones. A
 * parameter that does not matter is spread among the best trials as among
 * all, and scores near 0. The scores are normalised to sum to 1. Linear in
 * the number of trials: no model is fitted.
 *
 * Pure computation: no HTTP, no SQL. */
#ifndef SIBYL_IMPORTANCE_H
#define SIBYL_IMPORTANCE_H

#include <stddef.h>

#include "space.h"

/* The fraction of trials taken as "the best". */
#define IMP_GAMMA 0.1
/* Fewest trials for which importance is computed. */
#define IMP_MIN_TRIALS 2
/* Grid points of the density estimates of a non-categorical parameter. */
#define IMP_GRID 128

/* u: n x s->n points in the unit cube (space_encode; inactive children at
 * 0.5), y: their objective values, lower is better (negate a maximised
 * metric first). Writes s->n importances in [0, 1] summing to 1 into out
 * (equal shares when no parameter explains anything: every y equal).
 * Returns 0, or -1 when n < IMP_MIN_TRIALS, s->n == 0, a y is not finite,
 * or on out of memory. */
int importance_ped_anova(const struct space *s, const double *u, const double *y, size_t n,
                         double *out /* OUT, s->n */);

#endif
