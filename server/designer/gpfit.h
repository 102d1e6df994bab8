/* gpfit: maximum a posteriori GP hyperparameters.
 *
 * The optimizer works on p = (ln ℓ_1..ln ℓ_D, ln s², ln(σn² − floor)):
 *   ln ℓ_i        ~ N(−0.7 + ½·ln(D/6), 1)  (dimension-scaled as in Hvarfner
 *                   et al. 2024, but centred on shorter lengthscales);
 *                   categorical dimensions: centred 1 higher
 *   s²            ~ Gamma(2, 1)
 *   ln σn²        ~ N(noise_mu, 1), and σn² >= floor
 *   mean          ~ N(0, 1) when fitted (outputs are standardized)
 * with soft walls (quadratic penalties) keeping ℓ in [0.025, 100],
 * s² in [1e-3, 20] and σn² − floor in [1e-10, 5]. GSL's vector_bfgs2 runs
 * from each start (a warm start, the prior mode, and random prior draws);
 * the best posterior wins. Every GSL status is checked: a start that fails
 * is skipped, and when all fail the warm start (or the prior mode) is kept.
 */
#ifndef SIBYL_GPFIT_H
#define SIBYL_GPFIT_H

#include <stddef.h>

#include "gp.h"
#include "rng.h"

struct gpfit_opts {
	double noise_floor; /* σn² floor on standardized y, e.g. 1e-6 */
	double noise_mu;    /* prior mean of ln σn², e.g. −4 */
	int maxiter;        /* BFGS iterations per start */
	int n_draws;        /* random starts drawn from the prior */
	int warm_only;      /* with a warm start: no start from the prior mode */
	int fit_mean;       /* 1: fit the constant mean (prior N(0, 1)); 0: mean 0 */
};

/* Defaults: floor 1e-6, noise_mu −8, maxiter 100, 2 draws, fitted mean. */
void gpfit_default_opts(struct gpfit_opts *o /* OUT */);

/* The prior mode for dimension dim, in gp theta layout. */
void gpfit_prior_mode(size_t dim, const struct gpfit_opts *o, double *theta /* OUT */);

/* Negative log posterior (−lml − log prior − wall penalties) of the GP's data
 * at theta (gp layout) and the GP's current mean, and its gradient when grad
 * is not NULL (grad_mean: with respect to the mean). Leaves gp set to theta
 * and factored when finite. Returns +inf when K cannot be factored. Exposed
 * for tests. */
double gpfit_objective(struct gp *gp, const struct gpfit_opts *o, const double *theta,
                       double *grad /* OUT, gp_ntheta entries, may be NULL */,
                       double *grad_mean /* OUT, may be NULL */);

/* Fits the hyperparameters of gp, which holds its data. warm (gp layout) may
 * be NULL; the GP's mean on entry is the warm start's mean. On return gp is
 * set to the best theta (and mean) found and factored, and theta_out (may be
 * NULL) holds theta. Returns the number of starts that ran to
 * a finite objective (> 0), or -1 with a message in err when not even the
 * fallback could be factored. */
int gpfit_fit(struct gp *gp, const struct gpfit_opts *o, const double *warm, struct rng *r,
              double *theta_out /* OUT, may be NULL */, char *err /* OUT */, size_t errlen);

#endif
