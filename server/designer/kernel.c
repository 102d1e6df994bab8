#include "kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SQRT5 2.23606797749978969641

int kernel_init(struct kernel *k, size_t dim, const unsigned char *cat)
{
	memset(k, 0, sizeof(*k));
	k->dim = dim;
	k->cat = calloc(dim ? dim : 1, 1);
	k->log_ls = calloc(dim ? dim : 1, sizeof(double));
	k->inv_ls2 = calloc(dim ? dim : 1, sizeof(double));
	if (!k->cat || !k->log_ls || !k->inv_ls2) {
		kernel_free(k);
		return -1;
	}
	if (cat)
		memcpy(k->cat, cat, dim);
	for (size_t i = 0; i < dim; i++)
		k->inv_ls2[i] = 1.0;
	k->log_sf2 = 0.0;
	k->sf2 = 1.0;
	return 0;
}

void kernel_free(struct kernel *k)
{
	if (!k)
		return;
	free(k->cat);
	free(k->log_ls);
	free(k->inv_ls2);
	k->cat = NULL;
	k->log_ls = NULL;
	k->inv_ls2 = NULL;
}

void kernel_set(struct kernel *k, const double *log_ls, double log_sf2)
{
	for (size_t i = 0; i < k->dim; i++) {
		k->log_ls[i] = log_ls[i];
		k->inv_ls2[i] = exp(-2.0 * log_ls[i]);
	}
	k->log_sf2 = log_sf2;
	k->sf2 = exp(log_sf2);
}

/* Two category codes are equal when they decode to the same category; codes
 * are cell centres, so any tolerance far below 1/K works. */
static double cat_diff(double a, double b)
{
	return fabs(a - b) > 1e-9 ? 1.0 : 0.0;
}

double kernel_r2(const struct kernel *k, const double *a, const double *b)
{
	double r2 = 0.0;
	for (size_t i = 0; i < k->dim; i++) {
		double d = k->cat[i] ? cat_diff(a[i], b[i]) : a[i] - b[i];
		r2 += d * d * k->inv_ls2[i];
	}
	return r2;
}

double kernel_matern52(double r2, double *d)
{
	double r = sqrt(r2);
	double e = exp(-SQRT5 * r);
	/* d/d(r²) is written so that it stays finite at r = 0. */
	if (d)
		*d = -(5.0 / 6.0) * (1.0 + SQRT5 * r) * e;
	return (1.0 + SQRT5 * r + (5.0 / 3.0) * r2) * e;
}

double kernel_eval(const struct kernel *k, const double *a, const double *b)
{
	return k->sf2 * kernel_matern52(kernel_r2(k, a, b), NULL);
}

double kernel_grad_x(const struct kernel *k, const double *x, const double *b, double *g)
{
	double dr2;
	double v = k->sf2 * kernel_matern52(kernel_r2(k, x, b), &dr2);
	dr2 *= k->sf2;
	for (size_t i = 0; i < k->dim; i++)
		g[i] = k->cat[i] ? 0.0 : dr2 * 2.0 * (x[i] - b[i]) * k->inv_ls2[i];
	return v;
}

double kernel_grad_theta(const struct kernel *k, const double *a, const double *b, double *dk)
{
	double dr2;
	double v = k->sf2 * kernel_matern52(kernel_r2(k, a, b), &dr2);
	dr2 *= k->sf2;
	for (size_t i = 0; i < k->dim; i++) {
		double d = k->cat[i] ? cat_diff(a[i], b[i]) : a[i] - b[i];
		/* ∂(d²/ℓ²)/∂ln ℓ = −2d²/ℓ² */
		dk[i] = dr2 * (-2.0 * d * d * k->inv_ls2[i]);
	}
	dk[k->dim] = v;
	return v;
}
