/* gp: posterior against closed forms and a dense LU solve, the log
 * marginal likelihood gradient against finite differences, the Cholesky
 * extension against a refactorization. */
#include <stdlib.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

#include "gp.h"
#include "rng.h"
#include "test.h"

static void fill(struct rng *r, double *X, double *y, size_t n, size_t d)
{
	for (size_t i = 0; i < n; i++) {
		double s = 0;
		for (size_t j = 0; j < d; j++) {
			X[i * d + j] = rng_uniform(r);
			s += sin(3 * X[i * d + j] + j);
		}
		y[i] = s + 0.05 * rng_normal(r);
	}
}

static void test_tiny(void)
{
	struct gp gp;
	ASSERT_EQ_INT(gp_init(&gp, 1, NULL, 4), 0);
	double th[3] = {log(0.4), log(2.0), log(0.1)};
	gp_set_theta(&gp, th);
	gp.mean = 0.5;
	double X[1] = {0.3}, y[1] = {1.5};
	ASSERT_EQ_INT(gp_set_data(&gp, X, y, 1), 0);
	ASSERT_EQ_INT(gp_factor(&gp, NULL, 0), 0);
	double x = 0.55, mu, var;
	gp_predict(&gp, &x, &mu, &var, NULL, NULL);
	double r = 0.25 / 0.4, k = 2.0 * (1 + sqrt(5) * r + 5 * r * r / 3) * exp(-sqrt(5) * r);
	ASSERT_REL_DBL(mu, 0.5 + k / 2.1 * 1.0, 1e-13);
	ASSERT_REL_DBL(var, 2.0 - k * k / 2.1, 1e-13);
	/* far away: the prior */
	double far = 1e6;
	gp_predict(&gp, &far, &mu, &var, NULL, NULL);
	ASSERT_EQ_DBL(mu, 0.5, 1e-12);
	ASSERT_REL_DBL(var, 2.0, 1e-12);
	/* lml of one point: N(y; m, s² + σn²) */
	double lml = gp_lml(&gp, NULL, NULL);
	ASSERT_REL_DBL(lml, -0.5 * 1.0 / 2.1 - 0.5 * log(2.1) - 0.5 * log(2 * M_PI), 1e-13);
	/* full: no room */
	gp_set_data(&gp, X, y, 1);
	ASSERT_EQ_INT(gp_set_data(&gp, X, y, 5), -1);
	gp_free(&gp);
}

static void test_dense(void)
{
	enum { N = 50, D = 3 };
	struct rng r;
	rng_seed(&r, 7, 1);
	double *X = malloc(sizeof(double) * N * D), y[N];
	fill(&r, X, y, N, D);
	unsigned char cat[D] = {0, 0, 0};
	struct gp gp;
	ASSERT_EQ_INT(gp_init(&gp, D, cat, N), 0);
	double th[D + 2] = {log(0.3), log(0.5), log(0.8), log(1.3), log(1e-3)};
	gp_set_theta(&gp, th);
	gp.mean = 0.2;
	gp_set_data(&gp, X, y, N);
	ASSERT_EQ_INT(gp_factor(&gp, NULL, 0), 0);
	ASSERT_EQ_DBL(gp.jitter, 0.0, 0.0);

	gsl_matrix *K = gsl_matrix_alloc(N, N);
	gsl_permutation *p = gsl_permutation_alloc(N);
	gsl_vector *b = gsl_vector_alloc(N), *sol = gsl_vector_alloc(N);
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++)
			gsl_matrix_set(K, i, j,
			               kernel_eval(&gp.kern, X + i * D, X + j * D) +
			                   (i == j ? gp.noise : 0));
	int sgn;
	ASSERT_EQ_INT(gsl_linalg_LU_decomp(K, p, &sgn), 0);
	double x[D] = {0.4, 0.6, 0.1}, kx[N];
	for (int i = 0; i < N; i++) {
		kx[i] = kernel_eval(&gp.kern, x, X + i * D);
		gsl_vector_set(b, i, y[i] - 0.2);
	}
	gsl_linalg_LU_solve(K, p, b, sol);
	double mu_want = 0.2, var_want = 1.3;
	for (int i = 0; i < N; i++)
		mu_want += kx[i] * gsl_vector_get(sol, i);
	for (int i = 0; i < N; i++)
		gsl_vector_set(b, i, kx[i]);
	gsl_linalg_LU_solve(K, p, b, sol);
	for (int i = 0; i < N; i++)
		var_want -= kx[i] * gsl_vector_get(sol, i);
	double mu, var;
	gp_predict(&gp, x, &mu, &var, NULL, NULL);
	ASSERT_EQ_DBL(mu, mu_want, 1e-9);
	ASSERT_EQ_DBL(var, var_want, 1e-9);
	ASSERT_TRUE(var >= 0);

	/* batch prediction agrees with the single one */
	double mus[N], vars[N];
	ASSERT_EQ_INT(gp_predict_many(&gp, X, N, mus, vars), 0);
	for (int i = 0; i < N; i += 7) {
		gp_predict(&gp, X + i * D, &mu, &var, NULL, NULL);
		ASSERT_EQ_DBL(mus[i], mu, 1e-10);
		ASSERT_EQ_DBL(vars[i], var, 1e-10);
	}

	/* input gradients of mean and variance */
	double dmu[D], dvar[D], h = 1e-6;
	gp_predict(&gp, x, &mu, &var, dmu, dvar);
	for (int i = 0; i < D; i++) {
		double xp[D], xm[D], mp, vp, mm, vm;
		memcpy(xp, x, sizeof(x));
		memcpy(xm, x, sizeof(x));
		xp[i] += h;
		xm[i] -= h;
		gp_predict(&gp, xp, &mp, &vp, NULL, NULL);
		gp_predict(&gp, xm, &mm, &vm, NULL, NULL);
		ASSERT_EQ_DBL(dmu[i], (mp - mm) / (2 * h), 1e-6);
		ASSERT_EQ_DBL(dvar[i], (vp - vm) / (2 * h), 1e-6);
	}

	/* log marginal likelihood gradient against central differences */
	double grad[D + 2], gm;
	double lml = gp_lml(&gp, grad, &gm);
	ASSERT_TRUE(isfinite(lml));
	for (int t = 0; t < D + 2; t++) {
		double tp[D + 2], tm[D + 2];
		memcpy(tp, th, sizeof(th));
		memcpy(tm, th, sizeof(th));
		tp[t] += h;
		tm[t] -= h;
		gp_set_theta(&gp, tp);
		gp_factor(&gp, NULL, 0);
		double fp = gp_lml(&gp, NULL, NULL);
		gp_set_theta(&gp, tm);
		gp_factor(&gp, NULL, 0);
		double fm = gp_lml(&gp, NULL, NULL);
		double fd = (fp - fm) / (2 * h);
		ASSERT_EQ_DBL(grad[t], fd, 1e-5 * fmax(1, fabs(fd)));
	}
	gp_set_theta(&gp, th);
	gp.mean = 0.2 + h;
	gp_factor(&gp, NULL, 0);
	double fp = gp_lml(&gp, NULL, NULL);
	gp.mean = 0.2 - h;
	gp_factor(&gp, NULL, 0);
	double fm = gp_lml(&gp, NULL, NULL);
	ASSERT_EQ_DBL(gm, (fp - fm) / (2 * h), 1e-5 * fmax(1, fabs(gm)));

	gsl_matrix_free(K);
	gsl_permutation_free(p);
	gsl_vector_free(b);
	gsl_vector_free(sol);
	gp_free(&gp);
	free(X);
}

static void test_extend(void)
{
	enum { N = 200, A = 10, D = 4 };
	struct rng r;
	rng_seed(&r, 11, 2);
	double *X = malloc(sizeof(double) * (N + A) * D), y[N + A];
	fill(&r, X, y, N + A, D);
	unsigned char cat[D] = {0, 0, 1, 0};
	for (int i = 0; i < N + A; i++)
		X[i * D + 2] = (floor(X[i * D + 2] * 3) + 0.5) / 3;
	double th[D + 2] = {log(0.4), log(0.6), log(0.9), log(1.1), log(0.7), log(1e-4)};
	struct gp a, b;
	ASSERT_EQ_INT(gp_init(&a, D, cat, N + A), 0);
	ASSERT_EQ_INT(gp_init(&b, D, cat, N + A), 0);
	gp_set_theta(&a, th);
	gp_set_theta(&b, th);
	gp_set_data(&a, X, y, N);
	ASSERT_EQ_INT(gp_factor(&a, NULL, 0), 0);
	for (int i = N; i < N + A; i++)
		ASSERT_EQ_INT(gp_append(&a, X + i * D, y[i]), 0);
	gp_set_data(&b, X, y, N + A);
	ASSERT_EQ_INT(gp_factor(&b, NULL, 0), 0);
	ASSERT_EQ_INT(a.n, N + A);
	double maxd = 0;
	for (int i = 0; i < N + A; i++)
		for (int j = 0; j <= i; j++)
			maxd =
			    fmax(maxd, fabs(gsl_matrix_get(a.L, i, j) - gsl_matrix_get(b.L, i, j)));
	ASSERT_EQ_DBL(maxd, 0.0, 1e-10);
	double x[D] = {0.3, 0.3, 0.5 / 3, 0.9}, ma, va, mb, vb;
	gp_predict(&a, x, &ma, &va, NULL, NULL);
	gp_predict(&b, x, &mb, &vb, NULL, NULL);
	ASSERT_EQ_DBL(ma, mb, 1e-9);
	ASSERT_EQ_DBL(va, vb, 1e-9);
	/* kriging believer: appending the posterior mean keeps the mean and
	 * shrinks the variance there */
	double m0, v0, m1, v1;
	gp_predict(&b, x, &m0, &v0, NULL, NULL);
	ASSERT_EQ_INT(gp_append(&b, x, m0), -1); /* full */
	gp_free(&b);
	ASSERT_EQ_INT(gp_init(&b, D, cat, N + 1), 0);
	gp_set_theta(&b, th);
	gp_set_data(&b, X, y, N);
	gp_factor(&b, NULL, 0);
	gp_predict(&b, x, &m0, &v0, NULL, NULL);
	ASSERT_EQ_INT(gp_append(&b, x, m0), 0);
	gp_predict(&b, x, &m1, &v1, NULL, NULL);
	ASSERT_EQ_DBL(m1, m0, 1e-6);
	ASSERT_REL_DBL(v1, v0 * b.noise / (v0 + b.noise), 1e-6);
	gp_free(&a);
	gp_free(&b);
	free(X);
}

/* The believer appends (gp_believe, gp_believe_many) against gp_append of
 * the posterior means one at a time: the same factor, alpha, and
 * predictions; and the errors. */
static void test_believe(void)
{
	enum { N = 150, A = 12, D = 3 };
	struct rng r;
	rng_seed(&r, 5, 9);
	double *X = malloc(sizeof(double) * (N + A) * D), y[N + A];
	fill(&r, X, y, N + A, D);
	double th[D + 2] = {log(0.3), log(0.5), log(0.8), log(0.9), log(1e-4)};
	struct gp ref, one, blk;
	struct gp *all[3] = {&ref, &one, &blk};
	for (int k = 0; k < 3; k++) {
		ASSERT_EQ_INT(gp_init(all[k], D, NULL, N + A), 0);
		gp_set_theta(all[k], th);
		gp_set_data(all[k], X, y, N);
		all[k]->mean = 0.2;
		ASSERT_EQ_INT(gp_factor(all[k], NULL, 0), 0);
	}
	const double *P = X + N * D;
	for (int i = 0; i < A; i++) {
		double m, v;
		gp_predict(&ref, P + i * D, &m, &v, NULL, NULL);
		ASSERT_EQ_INT(gp_append(&ref, P + i * D, m), 0);
		ASSERT_EQ_INT(gp_believe(&one, P + i * D), 0);
	}
	ASSERT_EQ_INT(gp_believe_many(&blk, P, A), 0);
	ASSERT_EQ_INT(blk.n, N + A);
	double dl = 0, da = 0, dy = 0;
	for (int k = 1; k < 3; k++)
		for (int i = 0; i < N + A; i++) {
			dy = fmax(dy, fabs(all[k]->y[i] - ref.y[i]));
			da = fmax(da, fabs(gsl_vector_get(all[k]->alpha, i) -
			                   gsl_vector_get(ref.alpha, i)));
			for (int j = 0; j <= i; j++)
				dl = fmax(dl, fabs(gsl_matrix_get(all[k]->L, i, j) -
				                   gsl_matrix_get(ref.L, i, j)));
		}
	ASSERT_EQ_DBL(dl, 0.0, 1e-9);
	ASSERT_EQ_DBL(dy, 0.0, 1e-9);
	ASSERT_EQ_DBL(da, 0.0, 1e-6);
	double x[D] = {0.4, 0.6, 0.1}, m0, v0, m1, v1;
	gp_predict(&ref, x, &m0, &v0, NULL, NULL);
	gp_predict(&blk, x, &m1, &v1, NULL, NULL);
	ASSERT_EQ_DBL(m1, m0, 1e-8);
	ASSERT_EQ_DBL(v1, v0, 1e-10);
	/* full, or not factored: refused, nothing changed */
	ASSERT_EQ_INT(gp_believe(&blk, x), -1);
	ASSERT_EQ_INT(gp_believe_many(&blk, x, 1), -1);
	ASSERT_EQ_INT(blk.n, N + A);
	gp_free(&blk);
	ASSERT_EQ_INT(gp_init(&blk, D, NULL, N + 2), 0);
	gp_set_data(&blk, X, y, N);
	ASSERT_EQ_INT(gp_believe_many(&blk, x, 1), -1);
	ASSERT_EQ_INT(gp_believe(&blk, x), -1);
	ASSERT_EQ_INT(blk.n, N);
	for (int k = 0; k < 3; k++)
		gp_free(all[k]);
	free(X);
}

static void test_jitter(void)
{
	/* duplicated inputs with a tiny noise: the ladder adds jitter */
	struct gp gp;
	ASSERT_EQ_INT(gp_init(&gp, 1, NULL, 3), 0);
	double th[3] = {log(5.0), log(1.0), log(1e-300)};
	gp_set_theta(&gp, th);
	double X[3] = {0.5, 0.5, 0.5}, y[3] = {1, 1, 1};
	gp_set_data(&gp, X, y, 3);
	char err[128];
	ASSERT_EQ_INT(gp_factor(&gp, err, sizeof(err)), 0);
	ASSERT_TRUE(gp.jitter > 0);
	double x = 0.5, mu, var;
	gp_predict(&gp, &x, &mu, &var, NULL, NULL);
	ASSERT_EQ_DBL(mu, 1.0, 1e-3);
	ASSERT_TRUE(var >= 0);
	/* NaN data cannot be factored: a clear error */
	double th2[3] = {NAN, 0, 0};
	gp_set_theta(&gp, th2);
	ASSERT_EQ_INT(gp_factor(&gp, err, sizeof(err)), -1);
	ASSERT_TRUE(strstr(err, "hyperparameters") != NULL);
	gp_free(&gp);
}

int main(void)
{
	gsl_set_error_handler_off();
	test_tiny();
	test_dense();
	test_extend();
	test_believe();
	test_jitter();
	return test_done("gp");
}
