/* gp: exact Gaussian-process regression with a constant mean on
 * unit-cube inputs and (warped, standardized) outputs.
 *
 * Hyperparameters are one vector theta of gp_ntheta(dim) = dim + 2 logs:
 * theta[i] = ln ℓ_i (i < dim), theta[dim] = ln s², theta[dim + 1] = ln σn²
 * (the noise variance). The mean is the field `mean`.
 *
 * Usage: gp_init, gp_set_theta, gp_set_data, gp_factor; then gp_predict,
 * gp_lml, gp_append (the kriging believer's fantasies: O(n²) each).
 */
#ifndef SIBYL_GP_H
#define SIBYL_GP_H

#include <stddef.h>

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>

#include "kernel.h"

struct gp {
	size_t dim, n, cap;
	struct kernel kern;
	double noise;      /* σn² from theta */
	double jitter;     /* added to the diagonal by the last gp_factor() */
	double mean;       /* the constant prior mean */
	double *X;         /* cap x dim inputs, row-major; owned */
	double *y;         /* cap outputs; owned */
	gsl_matrix *L;     /* cap x cap; the lower n x n block is the Cholesky factor of K; owned */
	gsl_vector *alpha; /* K⁻¹(y − mean), first n entries; owned */
	gsl_matrix *Kinv;  /* scratch for gp_lml(), allocated on first use; owned */
	double *kx, *w, *g; /* scratch: cap, cap, dim; owned */
	int factored;
};

static inline size_t gp_ntheta(size_t dim)
{
	return dim + 2;
}

/* Allocates a GP for at most cap points of dimension dim (cat: per-dimension
 * categorical flags, may be NULL). Returns 0, or -1 on out-of-memory. Free
 * with gp_free(). */
int gp_init(struct gp *gp, size_t dim, const unsigned char *cat, size_t cap);
/* Frees what gp_init() allocated; NULL-safe. */
void gp_free(struct gp *gp);

/* Sets the hyperparameters (see the layout above); invalidates the factor. */
void gp_set_theta(struct gp *gp, const double *theta);
void gp_get_theta(const struct gp *gp, double *theta /* OUT, gp_ntheta(dim) */);

/* Copies n points (X: n x dim row-major, y: n) into the GP; n <= cap.
 * Invalidates the factor. Returns 0, or -1 when n > cap. */
int gp_set_data(struct gp *gp, const double *X, const double *y, size_t n);

/* Builds K = k(X, X) + σn²·I, factors it, and computes alpha. When K is not
 * numerically positive definite, retries with jitter of 1e-8, 1e-7, ...,
 * 1e-3 times the mean diagonal (the amount used is in gp->jitter). Returns 0,
 * or -1 with a message in err when no jitter helps. */
int gp_factor(struct gp *gp, char *err /* OUT */, size_t errlen);

/* Posterior mean and variance (of the latent function, without σn²) at x.
 * With dmu / dvar not NULL, also their gradients with respect to x (dim
 * entries each). Needs a successful gp_factor(). The variance is clamped
 * at 1e-12·s². */
void gp_predict(struct gp *gp, const double *x, double *mu /* OUT */, double *var /* OUT */,
                double *dmu /* OUT, may be NULL */, double *dvar /* OUT, may be NULL */);

/* The same for m points at once (Xc: m x dim), through level-3 BLAS.
 * Returns 0, or -1 on out-of-memory. */
int gp_predict_many(struct gp *gp, const double *Xc, size_t m, double *mu /* OUT, m */,
                    double *var /* OUT, m */);

/* A reference point x* for covariances with it (noisy EI's incumbent):
 * w = K⁻¹k(X, x*) and the posterior mean and variance at x*, valid for
 * the GP's data while gp->n == n (gp_ref_update recomputes them). */
struct gp_ref {
	double *x; /* dim; owned */
	double *w; /* cap; owned */
	double mu, var;
	size_t n;
};

/* Sets up r for x* = x on gp (factored). Returns 0, or -1 on out-of-memory
 * (r is then empty; gp_ref_free is safe). */
int gp_ref_init(struct gp_ref *r, struct gp *gp, const double *x);
/* Brings r up to date when points were appended to gp since. */
void gp_ref_update(struct gp_ref *r, struct gp *gp);
void gp_ref_free(struct gp_ref *r);

/* Posterior covariance of f(x) and f(x*): k(x, x*) − k(x)ᵀw; with dcov not
 * NULL also its gradient with respect to x (dim entries). r must be up to
 * date. */
double gp_ref_cov(struct gp *gp, const struct gp_ref *r, const double *x,
                  double *dcov /* OUT, may be NULL */);

/* gp_predict_many() plus, with r not NULL, cov[c] = gp_ref_cov at each
 * candidate (one gemv on the kernel rows). */
int gp_predict_many_ref(struct gp *gp, const double *Xc, size_t m, double *mu /* OUT, m */,
                        double *var /* OUT, m */, const struct gp_ref *r,
                        double *cov /* OUT, m, when r */);

/* Log marginal likelihood of the factored GP; with grad not NULL, also its
 * gradient with respect to theta (gp_ntheta entries) and, in grad_mean when
 * not NULL, with respect to the mean. Returns NAN on out-of-memory or a GSL
 * failure. */
double gp_lml(struct gp *gp, double *grad /* OUT, may be NULL */,
              double *grad_mean /* OUT, may be NULL */);

/* Appends (x, y) and extends the Cholesky factor in O(n²), keeping the
 * hyperparameters and the jitter. Returns 0, or -1 when the GP is full, not
 * factored, or the extended factor is not positive definite. */
int gp_append(struct gp *gp, const double *x, double y);

/* The kriging believer: appends x with y = the posterior mean at x and
 * extends the factor (one triangular solve; alpha just gains a 0, since an
 * observation equal to the mean changes no residual). Same errors as
 * gp_append(); on failure the GP is unchanged. */
int gp_believe(struct gp *gp, const double *x);

/* The same for m points at once (P: m x dim) by a block extension of the
 * factor: one dtrsm and an m x m Cholesky. Returns 0, or -1 (GP full, not
 * factored, out of memory, or the block is not positive definite; the GP
 * is then unchanged: the caller may append one at a time). */
int gp_believe_many(struct gp *gp, const double *P, size_t m);

#endif
