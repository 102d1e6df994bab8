#include "gpfit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>

#define LS_LO  -3.6888794541139363 /* ln 0.025 */
#define LS_HI  4.6051701859880914  /* ln 100 */
#define SF_LO  -6.9077552789821368 /* ln 1e-3 */
#define SF_HI  2.9957322735539909  /* ln 20 */
#define NZ_LO  -23.025850929940457 /* ln 1e-10 */
#define NZ_HI  1.6094379124341003  /* ln 5 */
#define WALL   50.0
#define LS_VAR 1.0
/* Categorical lengthscales are centred e times longer: categories share
 * more of the surface (measured: mixed_ml -5.1 -> -6.3, intcat8 -0.85 -> -1.0). */
#define CAT_SHIFT 1.0
#define BAD_OBJ   1e30
#define MEAN_VAR  1.0

void gpfit_default_opts(struct gpfit_opts *o)
{
	o->noise_floor = 1e-6;
	o->noise_mu = -8.0;
	o->maxiter = 100;
	o->n_draws = 2;
	o->warm_only = 0;
	o->fit_mean = 1;
}

static double ls_mu(size_t dim)
{
	/* median ℓ 0.5 at D = 6, growing as √D (Hvarfner et al. scale their
	 * prior the same way, from a longer base; the shorter one measured
	 * better on every bench/bench_designer problem) */
	return -0.7 + 0.5 * log((double)(dim ? dim : 1) / 6.0);
}

void gpfit_prior_mode(size_t dim, const struct gpfit_opts *o, double *theta)
{
	/* (categorical dimensions start here too; the fit moves them) */
	for (size_t i = 0; i < dim; i++)
		theta[i] = ls_mu(dim) - LS_VAR;
	theta[dim] = log(1.0); /* the mode of Gamma(2, 1) */
	theta[dim + 1] = log(o->noise_floor + exp(o->noise_mu - 1.0));
}

/* A quadratic wall outside [lo, hi]: adds to *f, and its derivative to *g. */
static void wall(double x, double lo, double hi, double *f, double *g)
{
	if (x < lo) {
		*f += WALL * (x - lo) * (x - lo);
		*g += 2.0 * WALL * (x - lo);
	} else if (x > hi) {
		*f += WALL * (x - hi) * (x - hi);
		*g += 2.0 * WALL * (x - hi);
	}
}

/* p (optimizer space) <-> theta (gp layout): only the noise differs. */
static void p_to_theta(size_t dim, const struct gpfit_opts *o, const double *p, double *theta)
{
	memcpy(theta, p, (dim + 1) * sizeof(double));
	theta[dim + 1] = log(o->noise_floor + exp(p[dim + 1]));
}

static void theta_to_p(size_t dim, const struct gpfit_opts *o, const double *theta, double *p)
{
	memcpy(p, theta, (dim + 1) * sizeof(double));
	double ex = exp(theta[dim + 1]) - o->noise_floor;
	p[dim + 1] = log(ex > 1e-10 ? ex : 1e-10);
}

double gpfit_objective(struct gp *gp, const struct gpfit_opts *o, const double *theta, double *grad,
                       double *grad_mean)
{
	size_t d = gp->dim, nt = gp_ntheta(d);
	for (size_t i = 0; i < nt; i++)
		if (!isfinite(theta[i]))
			return INFINITY;
	gp_set_theta(gp, theta);
	if (gp_factor(gp, NULL, 0) < 0)
		return INFINITY;
	double gm = 0.0;
	double lml = gp_lml(gp, grad, grad_mean ? &gm : NULL);
	if (!isfinite(lml))
		return INFINITY;
	/* the constant mean: N(0, MEAN_VAR) on standardized outputs */
	double f = -lml + 0.5 * gp->mean * gp->mean / MEAN_VAR;
	if (grad_mean)
		*grad_mean = -gm + gp->mean / MEAN_VAR;
	if (grad)
		for (size_t i = 0; i < nt; i++)
			grad[i] = -grad[i];
	double mu = ls_mu(d), dummy = 0.0, *g;
	for (size_t i = 0; i < d; i++) {
		double t = theta[i] - mu - (gp->kern.cat[i] ? CAT_SHIFT : 0.0);
		g = grad ? &grad[i] : &dummy;
		f += 0.5 * t * t / LS_VAR;
		*g += t / LS_VAR;
		wall(theta[i], LS_LO, LS_HI, &f, g);
	}
	/* Gamma(2, 1) on s² as a density of ln s²: 2·ln s² − s² */
	double s2 = exp(theta[d]);
	g = grad ? &grad[d] : &dummy;
	f -= 2.0 * theta[d] - s2;
	*g -= 2.0 - s2;
	wall(theta[d], SF_LO, SF_HI, &f, g);
	double t = theta[d + 1] - o->noise_mu;
	g = grad ? &grad[d + 1] : &dummy;
	f += 0.5 * t * t;
	*g += t;
	return f;
}

struct ctx {
	struct gp *gp;
	const struct gpfit_opts *o;
	double *theta, *gt;
	int fit_mean;
};

/* The objective in p: the chain rule for the noise and the walls on p. */
static double eval_p(struct ctx *c, const double *p, double *gp_out)
{
	size_t d = c->gp->dim, nt = gp_ntheta(d);
	p_to_theta(d, c->o, p, c->theta);
	c->gp->mean = c->fit_mean ? p[nt] : 0.0;
	double gm = 0.0;
	double f =
	    gpfit_objective(c->gp, c->o, c->theta, gp_out ? c->gt : NULL, gp_out ? &gm : NULL);
	if (!isfinite(f)) {
		if (gp_out)
			memset(gp_out, 0, (nt + 1) * sizeof(double));
		return BAD_OBJ;
	}
	if (gp_out)
		gp_out[nt] = c->fit_mean ? gm : 0.0;
	if (gp_out) {
		memcpy(gp_out, c->gt, nt * sizeof(double));
		double ex = exp(p[d + 1]);
		gp_out[d + 1] *= ex / (c->o->noise_floor + ex);
	}
	double dummy = 0.0;
	wall(p[d + 1], NZ_LO, NZ_HI, &f, gp_out ? &gp_out[d + 1] : &dummy);
	return f;
}

static double fn_f(const gsl_vector *x, void *params)
{
	return eval_p(params, x->data, NULL);
}

static void fn_df(const gsl_vector *x, void *params, gsl_vector *g)
{
	eval_p(params, x->data, g->data);
}

static void fn_fdf(const gsl_vector *x, void *params, double *f, gsl_vector *g)
{
	*f = eval_p(params, x->data, g->data);
}

/* One BFGS run from p0; writes the end point into p0 and returns its value
 * (BAD_OBJ when nothing finite was found). */
static double run(struct ctx *c, gsl_multimin_fdfminimizer *s, double *p0, int maxiter)
{
	size_t np = gp_ntheta(c->gp->dim) + 1;
	gsl_vector_view x0 = gsl_vector_view_array(p0, np);
	double f0 = eval_p(c, p0, NULL);
	if (f0 >= BAD_OBJ)
		return BAD_OBJ;
	gsl_multimin_function_fdf fdf = {fn_f, fn_df, fn_fdf, np, c};
	if (gsl_multimin_fdfminimizer_set(s, &fdf, &x0.vector, 0.1, 0.1) != GSL_SUCCESS)
		return f0;
	for (int it = 0; it < maxiter; it++) {
		if (gsl_multimin_fdfminimizer_iterate(s) != GSL_SUCCESS)
			break;
		if (gsl_multimin_test_gradient(s->gradient, 1e-3) == GSL_SUCCESS)
			break;
	}
	double f = s->f;
	if (isfinite(f) && f < f0) {
		memcpy(p0, s->x->data, np * sizeof(double));
		return f;
	}
	return f0;
}

int gpfit_fit(struct gp *gp, const struct gpfit_opts *o, const double *warm, struct rng *r,
              double *theta_out, char *err, size_t errlen)
{
	size_t d = gp->dim, nt = gp_ntheta(d), np = nt + 1;
	int ok = 0;
	double *buf = calloc(5 * np, sizeof(double));
	gsl_multimin_fdfminimizer *s =
	    gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, np);
	if (!buf || !s) {
		snprintf(err, errlen, "out of memory fitting the GP");
		ok = -1;
		goto out;
	}
	double *theta = buf, *gt = buf + np, *p = buf + 2 * np, *best = buf + 3 * np,
	       *mode = buf + 4 * np;
	struct ctx c = {gp, o, theta, gt, o->fit_mean};
	double mean0 = gp->mean;
	double fbest = BAD_OBJ;
	gpfit_prior_mode(d, o, mode);
	int nstarts = 2 + (o->n_draws > 0 ? o->n_draws : 0);
	for (int k = 0; k < nstarts; k++) {
		if (k == 0) {
			if (!warm)
				continue;
			theta_to_p(d, o, warm, p);
			p[nt] = mean0;
		} else if (k == 1) {
			if (warm && o->warm_only)
				continue;
			theta_to_p(d, o, mode, p);
			p[nt] = 0.0;
		} else {
			p[nt] = 0.0;
			/* a draw from the prior, kept off the walls */
			for (size_t i = 0; i < d; i++)
				p[i] = fmin(fmax(ls_mu(d) + (gp->kern.cat[i] ? CAT_SHIFT : 0.0) +
				                     sqrt(LS_VAR) * rng_normal(r),
				                 LS_LO),
				            LS_HI);
			p[d] = fmin(fmax(log(0.3 + 1.5 * rng_uniform(r)), SF_LO), SF_HI);
			p[d + 1] = fmin(fmax(o->noise_mu + rng_normal(r), NZ_LO), NZ_HI);
		}
		double f = run(&c, s, p, o->maxiter);
		if (f < BAD_OBJ)
			ok++;
		if (f < fbest) {
			fbest = f;
			memcpy(best, p, np * sizeof(double));
		}
	}
	if (fbest < BAD_OBJ) {
		p_to_theta(d, o, best, theta);
		gp->mean = o->fit_mean ? best[nt] : 0.0;
	} else {
		memcpy(theta, warm ? warm : mode, nt * sizeof(double));
		gp->mean = o->fit_mean ? mean0 : 0.0;
	}
	gp_set_theta(gp, theta);
	if (gp_factor(gp, err, errlen) < 0) {
		ok = -1;
		goto out;
	}
	if (theta_out)
		memcpy(theta_out, theta, nt * sizeof(double));
	if (ok == 0)
		ok = 1; /* the fallback factored */
out:
	if (s)
		gsl_multimin_fdfminimizer_free(s);
	free(buf);
	return ok;
}
