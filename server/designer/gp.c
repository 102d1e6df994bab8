#include "gp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

int gp_init(struct gp *gp, size_t dim, const unsigned char *cat, size_t cap)
{
	memset(gp, 0, sizeof(*gp));
	if (cap == 0)
		cap = 1;
	gp->dim = dim;
	gp->cap = cap;
	if (kernel_init(&gp->kern, dim, cat) < 0)
		return -1;
	gp->X = calloc(cap * (dim ? dim : 1), sizeof(double));
	gp->y = calloc(cap, sizeof(double));
	gp->kx = calloc(cap, sizeof(double));
	gp->w = calloc(cap, sizeof(double));
	gp->g = calloc(dim ? dim : 1, sizeof(double));
	gp->L = gsl_matrix_calloc(cap, cap);
	gp->alpha = gsl_vector_calloc(cap);
	if (!gp->X || !gp->y || !gp->kx || !gp->w || !gp->g || !gp->L || !gp->alpha) {
		gp_free(gp);
		return -1;
	}
	gp->noise = 1e-6;
	return 0;
}

void gp_free(struct gp *gp)
{
	if (!gp)
		return;
	kernel_free(&gp->kern);
	free(gp->X);
	free(gp->y);
	free(gp->kx);
	free(gp->w);
	free(gp->g);
	if (gp->L)
		gsl_matrix_free(gp->L);
	if (gp->alpha)
		gsl_vector_free(gp->alpha);
	if (gp->Kinv)
		gsl_matrix_free(gp->Kinv);
	memset(gp, 0, sizeof(*gp));
}

void gp_set_theta(struct gp *gp, const double *theta)
{
	kernel_set(&gp->kern, theta, theta[gp->dim]);
	gp->noise = exp(theta[gp->dim + 1]);
	gp->factored = 0;
}

void gp_get_theta(const struct gp *gp, double *theta)
{
	memcpy(theta, gp->kern.log_ls, gp->dim * sizeof(double));
	theta[gp->dim] = gp->kern.log_sf2;
	theta[gp->dim + 1] = log(gp->noise);
}

int gp_set_data(struct gp *gp, const double *X, const double *y, size_t n)
{
	if (n > gp->cap)
		return -1;
	memcpy(gp->X, X, n * gp->dim * sizeof(double));
	memcpy(gp->y, y, n * sizeof(double));
	gp->n = n;
	gp->factored = 0;
	return 0;
}

static const double *row(const struct gp *gp, size_t i)
{
	return gp->X + i * gp->dim;
}

/* Solves L·Lᵀ·alpha = y − mean with the current factor. */
static int solve_alpha(struct gp *gp)
{
	size_t n = gp->n;
	if (n == 0)
		return 0;
	gsl_matrix_view Lv = gsl_matrix_submatrix(gp->L, 0, 0, n, n);
	gsl_vector_view a = gsl_vector_subvector(gp->alpha, 0, n);
	for (size_t i = 0; i < n; i++)
		gsl_vector_set(&a.vector, i, gp->y[i] - gp->mean);
	if (gsl_blas_dtrsv(CblasLower, CblasNoTrans, CblasNonUnit, &Lv.matrix, &a.vector))
		return -1;
	if (gsl_blas_dtrsv(CblasLower, CblasTrans, CblasNonUnit, &Lv.matrix, &a.vector))
		return -1;
	return 0;
}

static int alpha_finite(const struct gp *gp)
{
	double s = 0.0;
	for (size_t i = 0; i < gp->n; i++)
		s += gsl_vector_get(gp->alpha, i);
	return isfinite(s);
}

static void build_k(struct gp *gp, double jitter)
{
	size_t n = gp->n;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			double v = kernel_eval(&gp->kern, row(gp, i), row(gp, j));
			gsl_matrix_set(gp->L, i, j, v);
			gsl_matrix_set(gp->L, j, i, v);
		}
		gsl_matrix_set(gp->L, i, i, gp->kern.sf2 + gp->noise + jitter);
	}
}

int gp_factor(struct gp *gp, char *err, size_t errlen)
{
	size_t n = gp->n;
	gp->factored = 0;
	gp->jitter = 0.0;
	if (n == 0) {
		gp->factored = 1;
		return 0;
	}
	double diag = gp->kern.sf2 + gp->noise;
	int ok = isfinite(diag) && diag > 0.0;
	for (size_t i = 0; i < gp->dim; i++)
		ok = ok && isfinite(gp->kern.inv_ls2[i]);
	if (!ok) {
		if (err)
			snprintf(err, errlen, "GP hyperparameters are not finite");
		return -1;
	}
	for (int step = 0; step <= 6; step++) {
		double jitter = step == 0 ? 0.0 : diag * pow(10.0, -9 + step);
		build_k(gp, jitter);
		gsl_matrix_view Lv = gsl_matrix_submatrix(gp->L, 0, 0, n, n);
		if (gsl_linalg_cholesky_decomp1(&Lv.matrix) != GSL_SUCCESS)
			continue;
		gp->jitter = jitter;
		if (solve_alpha(gp) < 0 || !alpha_finite(gp)) {
			if (err)
				snprintf(err, errlen, "GP outputs are not finite");
			return -1;
		}
		gp->factored = 1;
		return 0;
	}
	if (err)
		snprintf(err, errlen, "GP covariance is not positive definite (n=%zu)", n);
	return -1;
}

void gp_predict(struct gp *gp, const double *x, double *mu, double *var, double *dmu, double *dvar)
{
	size_t n = gp->n, d = gp->dim;
	double m = gp->mean, s2 = gp->kern.sf2;
	if (dmu)
		memset(dmu, 0, d * sizeof(double));
	if (dvar)
		memset(dvar, 0, d * sizeof(double));
	if (n == 0) {
		*mu = m;
		*var = s2;
		return;
	}
	for (size_t j = 0; j < n; j++) {
		gp->kx[j] = kernel_eval(&gp->kern, x, row(gp, j));
		m += gp->kx[j] * gsl_vector_get(gp->alpha, j);
	}
	gsl_matrix_view Lv = gsl_matrix_submatrix(gp->L, 0, 0, n, n);
	gsl_vector_view v = gsl_vector_view_array(gp->w, n);
	memcpy(gp->w, gp->kx, n * sizeof(double));
	gsl_blas_dtrsv(CblasLower, CblasNoTrans, CblasNonUnit, &Lv.matrix, &v.vector);
	double vv = 0.0;
	for (size_t j = 0; j < n; j++)
		vv += gp->w[j] * gp->w[j];
	double floor = 1e-12 * s2;
	double var0 = s2 - vv;
	*mu = m;
	*var = var0 > floor ? var0 : floor;
	if (!dmu && !dvar)
		return;
	if (dvar) /* w = K⁻¹k(x) */
		gsl_blas_dtrsv(CblasLower, CblasTrans, CblasNonUnit, &Lv.matrix, &v.vector);
	for (size_t j = 0; j < n; j++) {
		kernel_grad_x(&gp->kern, x, row(gp, j), gp->g);
		double a = gsl_vector_get(gp->alpha, j), b = dvar ? -2.0 * gp->w[j] : 0.0;
		for (size_t i = 0; i < d; i++) {
			if (dmu)
				dmu[i] += a * gp->g[i];
			if (dvar)
				dvar[i] += b * gp->g[i];
		}
	}
	/* Where the clamp is active the variance is flat. */
	if (dvar && var0 <= floor)
		memset(dvar, 0, d * sizeof(double));
}

int gp_predict_many(struct gp *gp, const double *Xc, size_t m, double *mu, double *var)
{
	return gp_predict_many_ref(gp, Xc, m, mu, var, NULL, NULL);
}

int gp_ref_init(struct gp_ref *r, struct gp *gp, const double *x)
{
	memset(r, 0, sizeof(*r));
	r->x = malloc((gp->dim ? gp->dim : 1) * sizeof(double));
	r->w = malloc(gp->cap * sizeof(double));
	if (!r->x || !r->w) {
		gp_ref_free(r);
		return -1;
	}
	memcpy(r->x, x, gp->dim * sizeof(double));
	r->n = (size_t)-1;
	gp_ref_update(r, gp);
	return 0;
}

void gp_ref_update(struct gp_ref *r, struct gp *gp)
{
	size_t n = gp->n;
	if (r->n == n)
		return;
	gp_predict(gp, r->x, &r->mu, &r->var, NULL, NULL);
	for (size_t j = 0; j < n; j++)
		r->w[j] = kernel_eval(&gp->kern, r->x, row(gp, j));
	if (n > 0) {
		gsl_matrix_view Lv = gsl_matrix_submatrix(gp->L, 0, 0, n, n);
		gsl_vector_view v = gsl_vector_view_array(r->w, n);
		gsl_blas_dtrsv(CblasLower, CblasNoTrans, CblasNonUnit, &Lv.matrix, &v.vector);
		gsl_blas_dtrsv(CblasLower, CblasTrans, CblasNonUnit, &Lv.matrix, &v.vector);
	}
	r->n = n;
}

void gp_ref_free(struct gp_ref *r)
{
	if (!r)
		return;
	free(r->x);
	free(r->w);
	memset(r, 0, sizeof(*r));
}

double gp_ref_cov(struct gp *gp, const struct gp_ref *r, const double *x, double *dcov)
{
	size_t n = gp->n, d = gp->dim;
	double c = dcov ? kernel_grad_x(&gp->kern, x, r->x, dcov) : kernel_eval(&gp->kern, x, r->x);
	for (size_t j = 0; j < n; j++) {
		if (!dcov) {
			c -= r->w[j] * kernel_eval(&gp->kern, x, row(gp, j));
			continue;
		}
		c -= r->w[j] * kernel_grad_x(&gp->kern, x, row(gp, j), gp->g);
		for (size_t i = 0; i < d; i++)
			dcov[i] -= r->w[j] * gp->g[i];
	}
	return c;
}

int gp_predict_many_ref(struct gp *gp, const double *Xc, size_t m, double *mu, double *var,
                        const struct gp_ref *r, double *cov)
{
	size_t n = gp->n, d = gp->dim;
	double s2 = gp->kern.sf2, floor = 1e-12 * s2;
	if (m == 0)
		return 0;
	if (n == 0) {
		for (size_t c = 0; c < m; c++) {
			mu[c] = gp->mean;
			var[c] = s2;
			if (r)
				cov[c] = kernel_eval(&gp->kern, Xc + c * d, r->x);
		}
		return 0;
	}
	gsl_matrix *Kc = gsl_matrix_alloc(n, m);
	if (!Kc)
		return -1;
	for (size_t j = 0; j < n; j++)
		for (size_t c = 0; c < m; c++)
			gsl_matrix_set(Kc, j, c, kernel_eval(&gp->kern, Xc + c * d, row(gp, j)));
	gsl_vector_view muv = gsl_vector_view_array(mu, m);
	gsl_vector_view a = gsl_vector_subvector(gp->alpha, 0, n);
	gsl_vector_set_all(&muv.vector, gp->mean);
	int rc = gsl_blas_dgemv(CblasTrans, 1.0, Kc, &a.vector, 1.0, &muv.vector);
	if (r && rc == 0) {
		gsl_vector_view cv = gsl_vector_view_array(cov, m);
		gsl_vector_const_view wv = gsl_vector_const_view_array(r->w, n);
		for (size_t c = 0; c < m; c++)
			cov[c] = kernel_eval(&gp->kern, Xc + c * d, r->x);
		rc = gsl_blas_dgemv(CblasTrans, -1.0, Kc, &wv.vector, 1.0, &cv.vector);
	}
	gsl_matrix_view Lv = gsl_matrix_submatrix(gp->L, 0, 0, n, n);
	if (rc == 0)
		rc = gsl_blas_dtrsm(CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, 1.0,
		                    &Lv.matrix, Kc);
	for (size_t c = 0; c < m; c++)
		var[c] = s2;
	for (size_t j = 0; j < n; j++) {
		const double *r = Kc->data + j * Kc->tda;
		for (size_t c = 0; c < m; c++)
			var[c] -= r[c] * r[c];
	}
	for (size_t c = 0; c < m; c++)
		if (!(var[c] > floor))
			var[c] = floor;
	gsl_matrix_free(Kc);
	return rc ? -1 : 0;
}

double gp_lml(struct gp *gp, double *grad, double *grad_mean)
{
	size_t n = gp->n, d = gp->dim;
	if (!gp->factored)
		return NAN;
	double fit = 0.0, logdet = 0.0;
	for (size_t i = 0; i < n; i++) {
		fit += (gp->y[i] - gp->mean) * gsl_vector_get(gp->alpha, i);
		logdet += log(gsl_matrix_get(gp->L, i, i));
	}
	double lml = -0.5 * fit - logdet - 0.5 * (double)n * log(2.0 * M_PI);
	if (grad_mean) {
		double s = 0.0;
		for (size_t i = 0; i < n; i++)
			s += gsl_vector_get(gp->alpha, i);
		*grad_mean = s;
	}
	if (!grad)
		return lml;
	memset(grad, 0, gp_ntheta(d) * sizeof(double));
	if (n == 0)
		return lml;
	if (!gp->Kinv) {
		gp->Kinv = gsl_matrix_alloc(gp->cap, gp->cap);
		if (!gp->Kinv)
			return NAN;
	}
	gsl_matrix_view Kv = gsl_matrix_submatrix(gp->Kinv, 0, 0, n, n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j <= i; j++)
			gsl_matrix_set(&Kv.matrix, i, j, gsl_matrix_get(gp->L, i, j));
	if (gsl_linalg_cholesky_invert(&Kv.matrix) != GSL_SUCCESS)
		return NAN;
	double *dk = gp->g == NULL ? NULL : malloc((d + 1) * sizeof(double));
	if (!dk)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		double ai = gsl_vector_get(gp->alpha, i);
		const double *Ki = Kv.matrix.data + i * Kv.matrix.tda;
		for (size_t j = 0; j < i; j++) {
			double wij = ai * gsl_vector_get(gp->alpha, j) - Ki[j];
			kernel_grad_theta(&gp->kern, row(gp, i), row(gp, j), dk);
			/* (i, j) and (j, i): the ½ cancels */
			for (size_t t = 0; t <= d; t++)
				grad[t] += wij * dk[t];
		}
		double wii = ai * ai - Ki[i];
		grad[d] += 0.5 * wii * gp->kern.sf2;
		grad[d + 1] += 0.5 * wii * gp->noise;
	}
	free(dk);
	return lml;
}

int gp_append(struct gp *gp, const double *x, double y)
{
	size_t n = gp->n;
	if (!gp->factored || n >= gp->cap)
		return -1;
	memcpy(gp->X + n * gp->dim, x, gp->dim * sizeof(double));
	gp->y[n] = y;
	/* The new row of L is L11⁻¹·k(X, x); its diagonal closes the Schur
	 * complement. */
	for (size_t j = 0; j < n; j++)
		gp->kx[j] = kernel_eval(&gp->kern, x, row(gp, j));
	gsl_vector_view v = gsl_vector_view_array(gp->kx, n ? n : 1);
	if (n > 0) {
		gsl_matrix_view Lv = gsl_matrix_submatrix(gp->L, 0, 0, n, n);
		if (gsl_blas_dtrsv(CblasLower, CblasNoTrans, CblasNonUnit, &Lv.matrix, &v.vector))
			return -1;
	}
	double s = gp->kern.sf2 + gp->noise + gp->jitter;
	for (size_t j = 0; j < n; j++) {
		s -= gp->kx[j] * gp->kx[j];
		gsl_matrix_set(gp->L, n, j, gp->kx[j]);
		gsl_matrix_set(gp->L, j, n, 0.0);
	}
	if (!(s > 0.0))
		return -1;
	gsl_matrix_set(gp->L, n, n, sqrt(s));
	gp->n = n + 1;
	if (solve_alpha(gp) < 0) {
		gp->n = n;
		return -1;
	}
	return 0;
}

int gp_believe(struct gp *gp, const double *x)
{
	size_t n = gp->n;
	if (!gp->factored || n >= gp->cap)
		return -1;
	double m = gp->mean;
	for (size_t j = 0; j < n; j++) {
		gp->kx[j] = kernel_eval(&gp->kern, x, row(gp, j));
		m += gp->kx[j] * gsl_vector_get(gp->alpha, j);
	}
	gsl_vector_view v = gsl_vector_view_array(gp->kx, n ? n : 1);
	if (n > 0) {
		gsl_matrix_view Lv = gsl_matrix_submatrix(gp->L, 0, 0, n, n);
		if (gsl_blas_dtrsv(CblasLower, CblasNoTrans, CblasNonUnit, &Lv.matrix, &v.vector))
			return -1;
	}
	double s = gp->kern.sf2 + gp->noise + gp->jitter;
	for (size_t j = 0; j < n; j++)
		s -= gp->kx[j] * gp->kx[j];
	if (!(s > 0.0))
		return -1;
	for (size_t j = 0; j < n; j++) {
		gsl_matrix_set(gp->L, n, j, gp->kx[j]);
		gsl_matrix_set(gp->L, j, n, 0.0);
	}
	gsl_matrix_set(gp->L, n, n, sqrt(s));
	memcpy(gp->X + n * gp->dim, x, gp->dim * sizeof(double));
	gp->y[n] = m;
	/* y = μ(x) leaves K⁻¹(y − mean) = [alpha; 0]: no solve needed */
	gsl_vector_set(gp->alpha, n, 0.0);
	gp->n = n + 1;
	return 0;
}

int gp_believe_many(struct gp *gp, const double *P, size_t m)
{
	size_t n = gp->n, d = gp->dim;
	if (!gp->factored || n + m > gp->cap)
		return -1;
	if (m == 0)
		return 0;
	/* Block extension [L 0; Wᵀ C] with W = L⁻¹K(X, P) and
	 * C·Cᵀ = K(P, P) + σn²I − WᵀW: one dtrsm instead of m triangular
	 * solves against a growing factor. */
	gsl_matrix *W = gsl_matrix_alloc(n ? n : 1, m);
	gsl_matrix *C = gsl_matrix_alloc(m, m);
	double *mu = malloc(m * sizeof(double));
	int rc = -1;
	if (!W || !C || !mu)
		goto out;
	for (size_t c = 0; c < m; c++)
		mu[c] = gp->mean;
	for (size_t j = 0; j < n; j++) {
		double a = gsl_vector_get(gp->alpha, j);
		for (size_t c = 0; c < m; c++) {
			double k = kernel_eval(&gp->kern, P + c * d, row(gp, j));
			gsl_matrix_set(W, j, c, k);
			mu[c] += k * a;
		}
	}
	for (size_t a = 0; a < m; a++) {
		for (size_t b = 0; b < a; b++) {
			double k = kernel_eval(&gp->kern, P + a * d, P + b * d);
			gsl_matrix_set(C, a, b, k);
			gsl_matrix_set(C, b, a, k);
		}
		gsl_matrix_set(C, a, a, gp->kern.sf2 + gp->noise + gp->jitter);
	}
	if (n > 0) {
		gsl_matrix_view Lv = gsl_matrix_submatrix(gp->L, 0, 0, n, n);
		if (gsl_blas_dtrsm(CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, 1.0,
		                   &Lv.matrix, W))
			goto out;
		if (gsl_blas_dsyrk(CblasLower, CblasTrans, -1.0, W, 1.0, C))
			goto out;
	}
	if (gsl_linalg_cholesky_decomp1(C) != GSL_SUCCESS)
		goto out;
	for (size_t c = 0; c < m; c++) {
		size_t r = n + c;
		for (size_t j = 0; j < n; j++)
			gsl_matrix_set(gp->L, r, j, gsl_matrix_get(W, j, c));
		for (size_t j = 0; j <= c; j++)
			gsl_matrix_set(gp->L, r, n + j, gsl_matrix_get(C, c, j));
		for (size_t j = 0; j < r; j++)
			gsl_matrix_set(gp->L, j, r, 0.0);
		memcpy(gp->X + r * d, P + c * d, d * sizeof(double));
		gp->y[r] = mu[c];
		gsl_vector_set(gp->alpha, r, 0.0);
	}
	gp->n = n + m;
	rc = 0;
out:
	gsl_matrix_free(W);
	gsl_matrix_free(C);
	free(mu);
	return rc;
}
