/* warp: the output transform of one metric before the GP sees it.
 *
 *  1. sign flip for MINIMIZE, so that the GP always maximizes;
 *  2. ±inf clipped to the finite min / max;
 *  3. the half-rank warp (Vizier): values below the median are replaced by
 *     Gaussian quantiles of their rank, scaled by the spread of the good
 *     half, so one diverged run cannot flatten the model; the good half
 *     stays linear (warp_fit_noisy: a clip of the far bad tail instead);
 *  4. z-score.
 * (A log warp of the distance to the best value, for heavy tails, was
 * measured with bench/bench_designer and lost on most problems once the
 * constant mean was fitted; it is not used.)
 * NAN values (failed or missing) stay NAN: the caller leaves them out of the
 * objective model (infeasibility has its own model).
 *
 * The forward map is monotone, and warp_inverse() maps a warped value back
 * to the metric's units by interpolating between the observed pairs, so the
 * model's prediction can be reported in the units the user knows.
 */
#ifndef SIBYL_WARP_H
#define SIBYL_WARP_H

#include <stddef.h>

struct warp {
	size_t n;      /* finite observations kept for the inverse */
	double *w, *r; /* n warped values (increasing) and their raw values; owned */
	int flip;      /* 1 when the metric was negated */
	double scale;  /* the z-score's divisor */
};

/* Warps y (n values, NAN allowed) into out (n values; NAN where y is NAN).
 * minimize: flip the sign first. Returns the number of finite outputs, or
 * -1 on out-of-memory. Free with warp_free() (also after errors). */
int warp_fit(struct warp *wp, const double *y, size_t n, int minimize, double *out /* OUT */);

/* The bad half's bound in warp_fit_noisy(), in spreads of the good half. */
#define WARP_NOISY_CLIP 10.0

/* warp_fit() for a metric the study says is noisy (observationNoise HIGH):
 * step 3 keeps the bad half linear too and only raises values below
 * median − WARP_NOISY_CLIP·(spread of the good half) to that bound, so a
 * diverged run still cannot flatten the model. Ranks of noisy values
 * bend the noise the GP sees, and z-scoring alone (or this clip) won on
 * the three noisy problems of bench_designer (docs/gp-ei.md). */
int warp_fit_noisy(struct warp *wp, const double *y, size_t n, int minimize, double *out /* OUT */);

/* Maps a warped value back to the metric's units; with slope not NULL
 * writes |d raw / d warped| there (to convert a standard deviation). */
double warp_inverse(const struct warp *wp, double v, double *slope /* OUT, may be NULL */);

/* Frees what warp_fit() allocated; NULL-safe. */
void warp_free(struct warp *wp);

#endif
