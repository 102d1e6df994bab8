#include "logei.h"

#include <float.h>
#include <math.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_erf.h>

#define C1 0.918938533204672742 /* ½ ln 2π */

/* The normal hazard φ(x)/Q(x) (inverse Mills ratio). GSL is accurate over
 * the whole range used here; should it ever report an error, the
 * asymptotic series x + 1/x − 2/x³ stands in. */
static double hazard(double x)
{
	gsl_sf_result res;
	if (gsl_sf_hazard_e(x, &res) == GSL_SUCCESS && isfinite(res.val) && res.val > 0.0)
		return res.val;
	if (x > 1.0)
		return x + 1.0 / x - 2.0 / (x * x * x);
	return 0.5; /* not reached for the arguments used below (x >= 1) */
}

static double norm_pdf(double z)
{
	return exp(-0.5 * z * z - C1);
}

static double norm_cdf(double z)
{
	return 0.5 * erfc(-z * M_SQRT1_2);
}

/* w(z) = ln(|z|·Φ(z)/φ(z)) for z < 0, through the hazard: Φ(z)/φ(z) is
 * 1/hazard(−z). */
static double wfun(double z)
{
	return log(-z) - log(hazard(-z));
}

/* log(1 − e^w) for w < 0 (Mächler 2012). */
static double log1mexp(double w)
{
	return w > -M_LN2 ? log(-expm1(w)) : log1p(-exp(w));
}

double logei_log_h(double z)
{
	if (z > -1.0)
		return log(norm_pdf(z) + z * norm_cdf(z));
	if (z > -1.0 / sqrt(DBL_EPSILON))
		return -0.5 * z * z - C1 + log1mexp(wfun(z));
	return -0.5 * z * z - C1 - 2.0 * log(-z);
}

double logei_r(double z)
{
	if (z > -1.0) {
		double c = norm_cdf(z);
		return c / (norm_pdf(z) + z * c);
	}
	if (z > -1e3)
		return 1.0 / ((-z) * expm1(-wfun(z)));
	return -z - 2.0 / z;
}

double logei(double mu, double sigma, double best, double *d_mu, double *d_sigma)
{
	double z = (mu - best) / sigma;
	double lh = logei_log_h(z);
	if (d_mu || d_sigma) {
		double r = logei_r(z);
		if (d_mu)
			*d_mu = r / sigma;
		/* 1 − z·r = φ/h, which cancels badly for large z. */
		if (d_sigma)
			*d_sigma = (z > -1.0 ? exp(-0.5 * z * z - C1 - lh) : 1.0 - z * r) / sigma;
	}
	return log(sigma) + lh;
}

double logei_log_cdf(double z, double *dz)
{
	double v;
	if (z > -5.0) {
		v = log(norm_cdf(z));
		if (dz)
			*dz = norm_pdf(z) / norm_cdf(z);
		return v;
	}
	/* Φ(z) = φ(z)/hazard(−z) in the lower tail. */
	double hz = hazard(-z);
	if (dz)
		*dz = hz;
	return -0.5 * z * z - C1 - log(hz);
}
