/* logei: log h and r against a table of reference values (mpmath, 50
 * digits), log EI against the direct formula where it is stable, and
 * finite, monotone, with useful gradients where it underflows. */
#include <float.h>

#include "logei.h"
#include "test.h"

static const struct {
	double z, log_h, r;
} table[] = {
    {5, 1.6094379231264314, 0.19999994053122005},  {1, 0.08002621884930694, 0.77663872520173926},
    {0, -0.91893853320467274, 1.2533141373155003}, {-0.5, -1.6205162643873199, 1.5598731483480797},
    {-1, -2.4851210257126413, 1.9042712333296918}, {-2, -4.7687835239171142, 2.679416883955586},
    {-5, -16.74430116266099, 5.3618162412880885},  {-10, -55.553122036122356, 10.194383033412553},
    {-30, -457.724653760598, 30.066446154162419},  {-100, -5010.1295788002498, 100.01999400419587},
    {-1e3, -500014.73445209116, 1000.001999994},   {-1e6, -500000000028.54996, 1000000.000002},
};

static double direct_ei(double mu, double sigma, double best)
{
	double z = (mu - best) / sigma;
	double phi = exp(-0.5 * z * z) / sqrt(2 * M_PI), cdf = 0.5 * erfc(-z / sqrt(2));
	return sigma * (phi + z * cdf);
}

static void test_table(void)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		ASSERT_REL_DBL(logei_log_h(table[i].z), table[i].log_h, 1e-12);
		ASSERT_REL_DBL(logei_r(table[i].z), table[i].r, table[i].z <= -100 ? 1e-9 : 1e-12);
	}
}

static void test_direct(void)
{
	double best = 0.3;
	for (double mu = -2; mu <= 2; mu += 0.37)
		for (double s = 0.1; s < 3; s *= 1.9) {
			double dmu, ds, h = 1e-6;
			double v = logei(mu, s, best, &dmu, &ds);
			ASSERT_REL_DBL(v, log(direct_ei(mu, s, best)), 1e-10);
			double fd_mu =
			    (log(direct_ei(mu + h, s, best)) - log(direct_ei(mu - h, s, best))) /
			    (2 * h);
			double fd_s =
			    (log(direct_ei(mu, s + h, best)) - log(direct_ei(mu, s - h, best))) /
			    (2 * h);
			ASSERT_EQ_DBL(dmu, fd_mu, 1e-5 * fmax(1, fabs(fd_mu)));
			ASSERT_EQ_DBL(ds, fd_s, 1e-5 * fmax(1, fabs(fd_s)));
		}
}

static void test_far_tail(void)
{
	/* The direct EI is exactly 0 here; log EI stays finite, increasing in
	 * mu, with a positive gradient matching finite differences. */
	ASSERT_EQ_DBL(direct_ei(-50, 1, 0), 0.0, 0.0);
	double prev = -INFINITY;
	for (double z = -1e7; z <= 40; z = z < -10 ? z / 3 : z + 1.5) {
		double dmu, ds;
		double v = logei(z, 1.0, 0.0, &dmu, &ds);
		ASSERT_TRUE(isfinite(v));
		ASSERT_TRUE(v > prev);
		ASSERT_TRUE(dmu > 0 && isfinite(dmu));
		ASSERT_TRUE(ds >= 0 && isfinite(ds));
		prev = v;
	}
	for (double z = -800; z < -2; z /= 2.5) {
		double dmu, h = 1e-5 * fabs(z);
		logei(z, 1.0, 0.0, &dmu, NULL);
		double fd =
		    (logei(z + h, 1.0, 0.0, NULL, NULL) - logei(z - h, 1.0, 0.0, NULL, NULL)) /
		    (2 * h);
		ASSERT_REL_DBL(dmu, fd, 1e-6);
	}
	/* continuity at the branch switches */
	ASSERT_REL_DBL(logei_log_h(-1 - 1e-12), logei_log_h(-1 + 1e-12), 1e-10);
	double zs = -1.0 / sqrt(DBL_EPSILON);
	ASSERT_REL_DBL(logei_log_h(zs * (1 + 1e-12)), logei_log_h(zs * (1 - 1e-12)), 1e-10);
	ASSERT_REL_DBL(logei_r(-1e3 - 1e-9), logei_r(-1e3 + 1e-9), 1e-9);
}

static void test_log_cdf(void)
{
	for (double z = -30; z < 8; z += 0.7) {
		double d;
		double v = logei_log_cdf(z, &d);
		if (z > -20)
			ASSERT_REL_DBL(v, log(0.5 * erfc(-z / sqrt(2))), 1e-11);
		double h = 1e-6;
		double fd = (logei_log_cdf(z + h, NULL) - logei_log_cdf(z - h, NULL)) / (2 * h);
		ASSERT_EQ_DBL(d, fd, 1e-6 * fmax(1, fabs(fd)));
	}
	ASSERT_TRUE(isfinite(logei_log_cdf(-1e5, NULL)));
}

int main(void)
{
	test_table();
	test_direct();
	test_far_tail();
	test_log_cdf();
	return test_done("logei");
}
