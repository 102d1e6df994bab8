/* kernel: the Matérn-5/2 ARD covariance of the GP on unit-cube inputs.
 *
 *   r² = Σ_cont (a_i − b_i)²/ℓ_i² + Σ_cat 1[a_i ≠ b_i]/ℓ_i²
 *   k  = s²·(1 + √5·r + 5r²/3)·exp(−√5·r)
 *
 * Categorical dimensions use a Hamming distance (their u codes are compared
 * for equality) with a lengthscale of their own, so categories are never
 * treated as ordered. The hyperparameters are kept as logarithms, the form
 * the fit optimizes.
 */
#ifndef SIBYL_KERNEL_H
#define SIBYL_KERNEL_H

#include <stddef.h>

struct kernel {
	size_t dim;
	unsigned char *cat; /* dim flags: 1 = categorical (Hamming); owned */
	double *log_ls;     /* dim: ln ℓ_i; owned */
	double *inv_ls2;    /* dim: 1/ℓ_i², kept in step with log_ls; owned */
	double log_sf2;     /* ln s² */
	double sf2;         /* s² */
};

/* Allocates the arrays for dim dimensions (cat may be NULL: all continuous)
 * and sets ℓ_i = 1, s² = 1. Returns 0, or -1 on out-of-memory. Free with
 * kernel_free(). */
int kernel_init(struct kernel *k, size_t dim, const unsigned char *cat);
/* Frees what kernel_init() allocated; NULL-safe, idempotent. */
void kernel_free(struct kernel *k);

/* Sets the hyperparameters from logs: log_ls has dim entries. */
void kernel_set(struct kernel *k, const double *log_ls, double log_sf2);

/* The scaled squared distance r² between a and b. */
double kernel_r2(const struct kernel *k, const double *a, const double *b);

/* k(a, b). */
double kernel_eval(const struct kernel *k, const double *a, const double *b);

/* k(x, b) and its gradient with respect to x (dim entries; categorical
 * dimensions get 0, they are searched by coordinate moves). */
double kernel_grad_x(const struct kernel *k, const double *x, const double *b,
                     double *g /* OUT, dim */);

/* k(a, b) and its derivatives with respect to the log-hyperparameters:
 * dk[i] = ∂k/∂ln ℓ_i for i < dim, dk[dim] = ∂k/∂ln s². */
double kernel_grad_theta(const struct kernel *k, const double *a, const double *b,
                         double *dk /* OUT, dim + 1 */);

/* The Matérn-5/2 shape from r², without s²: (1 + √5r + 5r²/3)e^{−√5r}, and
 * when d is not NULL its derivative with respect to r². */
double kernel_matern52(double r2, double *d /* OUT, may be NULL */);

#endif
