/* logei: the logarithm of expected improvement in a form that stays finite
 * and has useful gradients far from the incumbent (Ament et al. 2023), plus
 * the log normal CDF used for probabilities of feasibility.
 *
 * Convention: maximization, z = (μ − f*)/σ, EI = σ·h(z) with
 * h(z) = φ(z) + z·Φ(z), so log EI = ln σ + log h(z). See docs/gp-ei.md.
 */
#ifndef SIBYL_LOGEI_H
#define SIBYL_LOGEI_H

/* log h(z), finite for every finite z. */
double logei_log_h(double z);

/* r(z) = d log h/dz = Φ(z)/h(z) > 0. */
double logei_r(double z);

/* log EI at a point with posterior mean mu and standard deviation sigma > 0,
 * for incumbent best. When d_mu / d_sigma are not NULL, writes ∂/∂μ and
 * ∂/∂σ. */
double logei(double mu, double sigma, double best, double *d_mu /* OUT */,
             double *d_sigma /* OUT */);

/* ln Φ(z), stable in both tails; with dz not NULL its derivative φ/Φ. */
double logei_log_cdf(double z, double *dz /* OUT, may be NULL */);

#endif
