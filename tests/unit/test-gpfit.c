/* gpfit: the MAP objective's gradient against finite differences, the fit
 * recovers the lengthscales of samples drawn from a known GP, and failures
 * fall back instead of aborting. */
#include <stdlib.h>

#include <gsl/gsl_errno.h>

#include "gpfit.h"
#include "test.h"

/* n points of a GP with the given theta, through its Cholesky factor. */
static void sample(const double *theta, size_t d, size_t n, struct rng *r, double *X, double *y)
{
	struct gp g;
	gp_init(&g, d, NULL, n);
	for (size_t i = 0; i < n * d; i++)
		X[i] = rng_uniform(r);
	for (size_t i = 0; i < n; i++)
		y[i] = 0;
	gp_set_theta(&g, theta);
	gp_set_data(&g, X, y, n);
	gp_factor(&g, NULL, 0);
	double *z = malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		z[i] = rng_normal(r);
	for (size_t i = 0; i < n; i++) {
		double s = 0;
		for (size_t j = 0; j <= i; j++)
			s += gsl_matrix_get(g.L, i, j) * z[j];
		y[i] = s;
	}
	free(z);
	gp_free(&g);
}

static void test_gradient(void)
{
	enum { D = 3, N = 30 };
	struct rng r;
	rng_seed(&r, 3, 0);
	double th[D + 2] = {log(0.3), log(0.6), log(1.5), log(1.2), log(1e-3)};
	double X[N * D], y[N];
	sample(th, D, N, &r, X, y);
	struct gp g;
	gp_init(&g, D, NULL, N);
	gp_set_data(&g, X, y, N);
	struct gpfit_opts o;
	gpfit_default_opts(&o);
	/* a point outside the soft walls too, so the penalties are checked */
	double at[2][D + 2] = {{log(0.2), log(0.9), log(2.0), log(0.8), log(3e-3)},
	                       {log(0.01), log(0.9), log(200.0), log(30.0), log(3e-3)}};
	for (int a = 0; a < 2; a++) {
		double grad[D + 2], h = 1e-6;
		double f = gpfit_objective(&g, &o, at[a], grad, NULL);
		ASSERT_TRUE(isfinite(f));
		for (int t = 0; t < D + 2; t++) {
			double tp[D + 2], tm[D + 2];
			memcpy(tp, at[a], sizeof(tp));
			memcpy(tm, at[a], sizeof(tm));
			tp[t] += h;
			tm[t] -= h;
			double fd = (gpfit_objective(&g, &o, tp, NULL, NULL) -
			             gpfit_objective(&g, &o, tm, NULL, NULL)) /
			            (2 * h);
			ASSERT_EQ_DBL(grad[t], fd, 1e-5 * fmax(1, fabs(fd)));
		}
	}
	/* the mean's gradient */
	double gm, h = 1e-6;
	g.mean = 0.3;
	gpfit_objective(&g, &o, at[0], NULL, &gm);
	g.mean = 0.3 + h;
	double fp = gpfit_objective(&g, &o, at[0], NULL, NULL);
	g.mean = 0.3 - h;
	double fm = gpfit_objective(&g, &o, at[0], NULL, NULL);
	ASSERT_EQ_DBL(gm, (fp - fm) / (2 * h), 1e-5 * fmax(1, fabs(gm)));
	g.mean = 0.0;
	/* non-finite theta: +inf, no crash */
	double bad[D + 2] = {NAN, 0, 0, 0, 0};
	ASSERT_TRUE(isinf(gpfit_objective(&g, &o, bad, NULL, NULL)));
	gp_free(&g);
}

static void test_recover(void)
{
	enum { D = 2, N = 200 };
	struct rng r;
	rng_seed(&r, 5, 0);
	double th[D + 2] = {log(0.12), log(0.5), log(1.0), log(1e-4)};
	double *X = malloc(sizeof(double) * N * D), y[N];
	sample(th, D, N, &r, X, y);
	struct gp g;
	gp_init(&g, D, NULL, N);
	gp_set_data(&g, X, y, N);
	struct gpfit_opts o;
	gpfit_default_opts(&o);
	double out[D + 2];
	char err[128];
	int rc = gpfit_fit(&g, &o, NULL, &r, out, err, sizeof(err));
	ASSERT_TRUE(rc > 0);
	ASSERT_EQ_DBL(out[0], th[0], 0.3);
	ASSERT_EQ_DBL(out[1], th[1], 0.3);
	ASSERT_TRUE(exp(out[D + 1]) < 1e-2);
	ASSERT_TRUE(g.factored);
	/* a warm start at the answer stays there */
	double out2[D + 2];
	rc = gpfit_fit(&g, &o, out, &r, out2, err, sizeof(err));
	ASSERT_TRUE(rc > 0);
	ASSERT_EQ_DBL(out2[0], out[0], 0.05);
	gp_free(&g);
	free(X);
}

static void test_fallback(void)
{
	/* all outputs NaN: nothing can be fitted, a clear error comes back */
	struct gp g;
	gp_init(&g, 1, NULL, 3);
	double X[3] = {0.1, 0.5, 0.9}, y[3] = {NAN, 1, 2};
	gp_set_data(&g, X, y, 3);
	struct gpfit_opts o;
	gpfit_default_opts(&o);
	struct rng r;
	rng_seed(&r, 1, 1);
	char err[128] = "";
	ASSERT_EQ_INT(gpfit_fit(&g, &o, NULL, &r, NULL, err, sizeof(err)), -1);
	ASSERT_TRUE(strstr(err, "not finite") != NULL);
	/* constant outputs fit fine */
	double yc[3] = {1, 1, 1};
	gp_set_data(&g, X, yc, 3);
	ASSERT_TRUE(gpfit_fit(&g, &o, NULL, &r, NULL, err, sizeof(err)) > 0);
	gp_free(&g);
}

int main(void)
{
	gsl_set_error_handler_off();
	test_gradient();
	test_recover();
	test_fallback();
	return test_done("gpfit");
}
