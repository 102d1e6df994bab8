/* warp: sign flip, monotonicity, robustness to an outlier, NaN and ±inf,
 * constant data, the inverse map back to the metric's units, and the
 * linear variant for noisy metrics. */
#include <stdlib.h>

#include "test.h"
#include "warp.h"

static void test_basic(void)
{
	double y[6] = {3, 1, 2, NAN, 5, 4}, out[6];
	struct warp w;
	ASSERT_EQ_INT(warp_fit(&w, y, 6, 1, out), 5);
	ASSERT_TRUE(isnan(out[3]));
	/* minimize: smaller raw -> larger warped */
	ASSERT_TRUE(out[1] > out[2] && out[2] > out[0] && out[0] > out[5] && out[5] > out[4]);
	double m = 0, v = 0;
	for (int i = 0; i < 6; i++)
		if (i != 3)
			m += out[i] / 5;
	for (int i = 0; i < 6; i++)
		if (i != 3)
			v += (out[i] - m) * (out[i] - m) / 5;
	ASSERT_EQ_DBL(m, 0.0, 1e-12);
	ASSERT_EQ_DBL(v, 1.0, 1e-12);
	for (int i = 0; i < 6; i++)
		if (i != 3)
			ASSERT_EQ_DBL(warp_inverse(&w, out[i], NULL), y[i], 1e-9);
	double sl;
	warp_inverse(&w, out[1] + 0.1, &sl);
	ASSERT_TRUE(sl > 0);
	warp_free(&w);
	warp_free(&w);
}

static void test_outlier(void)
{
	/* one diverged run must not squash the others together */
	enum { N = 20 };
	double y[N], out[N];
	for (int i = 0; i < N; i++)
		y[i] = 1.0 + 0.01 * i;
	y[7] = 1e12;
	struct warp w;
	ASSERT_EQ_INT(warp_fit(&w, y, N, 1, out), N);
	double lo = INFINITY, hi = -INFINITY;
	for (int i = 0; i < N; i++)
		if (i != 7) {
			lo = fmin(lo, out[i]);
			hi = fmax(hi, out[i]);
		}
	ASSERT_TRUE(hi - lo > 1.5);
	ASSERT_TRUE(out[7] < lo);
	for (int i = 0; i + 1 < N; i++)
		if (i != 7 && i + 1 != 7)
			ASSERT_TRUE(out[i] > out[i + 1]);
	warp_free(&w);
}

static void test_heavy_tail(void)
{
	/* values spanning decades (a loss): order kept, the tail tamed */
	enum { N = 40 };
	double y[N], out[N];
	for (int i = 0; i < N; i++)
		y[i] = pow(10.0, 0.15 * i);
	struct warp w;
	ASSERT_EQ_INT(warp_fit(&w, y, N, 1, out), N);
	for (int i = 0; i + 1 < N; i++)
		ASSERT_TRUE(out[i] > out[i + 1]);
	/* the worst values are bounded by the rank warp, not by their size */
	ASSERT_TRUE(out[N - 1] > -4.0);
	for (int i = 0; i < N; i += 5)
		ASSERT_REL_DBL(warp_inverse(&w, out[i], NULL), y[i], 1e-9);
	warp_free(&w);
}

static void test_edges(void)
{
	struct warp w;
	double y[4] = {2, 2, 2, 2}, out[4];
	ASSERT_EQ_INT(warp_fit(&w, y, 4, 0, out), 4);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ_DBL(out[i], 0.0, 0.0);
	warp_free(&w);
	double yi[4] = {1, INFINITY, -INFINITY, 3};
	ASSERT_EQ_INT(warp_fit(&w, yi, 4, 0, out), 4);
	for (int i = 0; i < 4; i++)
		ASSERT_TRUE(isfinite(out[i]));
	ASSERT_EQ_DBL(out[1], out[3], 1e-12); /* +inf clipped to the max */
	ASSERT_EQ_DBL(out[2], out[0], 1e-12);
	warp_free(&w);
	double yn[2] = {NAN, NAN};
	ASSERT_EQ_INT(warp_fit(&w, yn, 2, 0, out), 0);
	ASSERT_TRUE(isnan(out[0]) && isnan(out[1]));
	ASSERT_EQ_DBL(warp_inverse(&w, 1.0, NULL), 1.0, 0.0);
	warp_free(&w);
}

/* warp_fit_noisy (observationNoise HIGH): the bad half stays linear, so
 * the warped values are an affine map of the raw ones (equal raw steps
 * give equal warped steps on both sides of the median, unlike the
 * half-rank warp), and only a diverged run beyond 10 spreads of the good
 * half is raised to that bound: it cannot squash the others together. */
static void test_noisy(void)
{
	enum { N = 21 };
	double y[N], out[N], rk[N];
	for (int i = 0; i < N; i++)
		y[i] = 1.0 + 0.1 * i; /* minimized: i = 0 best */
	struct warp w;
	ASSERT_EQ_INT(warp_fit_noisy(&w, y, N, 1, out), N);
	double step = out[0] - out[1];
	ASSERT_TRUE(step > 0);
	for (int i = 0; i + 1 < N; i++)
		ASSERT_EQ_DBL(out[i] - out[i + 1], step, 1e-9);
	for (int i = 0; i < N; i++)
		ASSERT_EQ_DBL(warp_inverse(&w, out[i], NULL), y[i], 1e-9);
	warp_free(&w);
	/* the half-rank warp bends the bad half (i > 10) */
	ASSERT_EQ_INT(warp_fit(&w, y, N, 1, rk), N);
	ASSERT_TRUE(fabs((rk[19] - rk[20]) - (rk[0] - rk[1])) > 0.01);
	warp_free(&w);

	y[7] = 1e12;
	ASSERT_EQ_INT(warp_fit_noisy(&w, y, N, 1, out), N);
	double lo = INFINITY, hi = -INFINITY;
	for (int i = 0; i < N; i++)
		if (i != 7) {
			lo = fmin(lo, out[i]);
			hi = fmax(hi, out[i]);
		}
	ASSERT_TRUE(hi - lo > 1.0);
	ASSERT_TRUE(out[7] < lo);
	for (int i = 0; i + 1 < N; i++)
		if (i != 7 && i + 1 != 7)
			ASSERT_TRUE(out[i] > out[i + 1]);
	warp_free(&w);
}

int main(void)
{
	test_basic();
	test_outlier();
	test_noisy();
	test_heavy_tail();
	test_edges();
	return test_done("warp");
}
