#include "acquisition.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>

#include "logei.h"
#include "quasirandom.h"

void acq_default_opts(struct acq_opts *o, size_t n)
{
	/* Scoring costs about n² flops per candidate (kernel row and
	 * triangular solve), polishing about 2n² per step: past ~600 points
	 * the candidate count shrinks as 1/n² (about 250 ms at n = 1000 on
	 * one core) and fewer, shorter polishes run. */
	double nn = (double)(n ? n : 1);
	double cand = fmin(1536.0, fmax(128.0, 5e8 / (nn * nn)));
	o->n_qmc = (size_t)(cand * 2.0 / 3.0);
	o->n_local = (size_t)(cand / 3.0);
	o->n_starts = n > 600 ? 3 : 12;
	o->maxiter = n > 600 ? 20 : 50;
	o->dedupe = 1;
	o->n_spread = 0;
	o->qmc_seed = 0;
}

double acq_eval(const struct acq_model *m, const double *u, double *grad, double *mu, double *sd)
{
	size_t d = m->obj->dim;
	double mo, vo;
	double *dmu = NULL, *dvar = NULL, buf[2 * 64];
	double *heap = NULL;
	if (grad) {
		if (d <= 64) {
			dmu = buf;
		} else {
			heap = malloc(2 * d * sizeof(double));
			if (!heap)
				grad = NULL; /* no gradient rather than a crash */
			dmu = heap;
		}
		if (dmu)
			dvar = dmu + d;
	}
	gp_predict(m->obj, u, &mo, &vo, grad ? dmu : NULL, grad ? dvar : NULL);
	double so = sqrt(vo), dlm, dls;
	double val = logei(mo, so, m->best, &dlm, &dls);
	if (grad)
		for (size_t i = 0; i < d; i++)
			grad[i] = dlm * dmu[i] + dls * dvar[i] / (2.0 * so);
	if (mu)
		*mu = mo;
	if (sd)
		*sd = so;
	for (size_t k = 0; k < m->n_con; k++) {
		double mc, vc;
		gp_predict(m->con[k], u, &mc, &vc, grad ? dmu : NULL, grad ? dvar : NULL);
		double sc = sqrt(vc), z = (mc - m->con_thr[k]) / sc, dz;
		val += logei_log_cdf(z, grad ? &dz : NULL);
		if (grad)
			for (size_t i = 0; i < d; i++)
				grad[i] += dz * (dmu[i] / sc - z * dvar[i] / (2.0 * vc));
	}
	free(heap);
	return val;
}

/* Acquisition values of m candidates at once. */
static int eval_many(const struct acq_model *m, const double *X, size_t n, double *val, double *mu,
                     double *var)
{
	if (gp_predict_many(m->obj, X, n, mu, var) < 0)
		return -1;
	for (size_t c = 0; c < n; c++)
		val[c] = logei(mu[c], sqrt(var[c]), m->best, NULL, NULL);
	for (size_t k = 0; k < m->n_con; k++) {
		if (gp_predict_many(m->con[k], X, n, mu, var) < 0)
			return -1;
		for (size_t c = 0; c < n; c++)
			val[c] += logei_log_cdf((mu[c] - m->con_thr[k]) / sqrt(var[c]), NULL);
	}
	return 0;
}

/* ---- polishing in the continuous relaxation ---- */

struct pol {
	const struct acq_model *m;
	const size_t *dims; /* the coordinates moved */
	size_t nd, d;
	double *u, *g; /* the full point (other coordinates fixed), scratch gradient */
};

static void t_to_u(struct pol *p, const double *t)
{
	for (size_t j = 0; j < p->nd; j++)
		p->u[p->dims[j]] = 0.5 * (1.0 - cos(M_PI * t[j]));
}

static double pol_f(const gsl_vector *x, void *params)
{
	struct pol *p = params;
	t_to_u(p, x->data);
	return -acq_eval(p->m, p->u, NULL, NULL, NULL);
}

static void pol_fdf(const gsl_vector *x, void *params, double *f, gsl_vector *g)
{
	struct pol *p = params;
	t_to_u(p, x->data);
	double v = acq_eval(p->m, p->u, p->g, NULL, NULL);
	if (f)
		*f = -v;
	for (size_t j = 0; j < p->nd; j++) {
		double t = x->data[j];
		g->data[j] = -p->g[p->dims[j]] * 0.5 * M_PI * sin(M_PI * t);
	}
}

static void pol_df(const gsl_vector *x, void *params, gsl_vector *g)
{
	pol_fdf(x, params, NULL, g);
}

/* BFGS on the coordinates dims of u (in place); keeps u when no better
 * point is found. */
static void polish(const struct acq_model *m, const size_t *dims, size_t nd, double *u, int maxiter,
                   double *scratch /* 3·d */)
{
	size_t d = m->obj->dim;
	if (nd == 0 || maxiter <= 0)
		return;
	struct pol p = {m, dims, nd, d, scratch, scratch + d};
	double *t = scratch + 2 * d;
	memcpy(p.u, u, d * sizeof(double));
	for (size_t j = 0; j < nd; j++) {
		double v = fmin(fmax(u[dims[j]], 0.0), 1.0);
		t[j] = acos(1.0 - 2.0 * v) / M_PI;
	}
	double f0 = -acq_eval(m, u, NULL, NULL, NULL);
	gsl_multimin_fdfminimizer *s =
	    gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, nd);
	if (!s)
		return;
	gsl_vector_view tv = gsl_vector_view_array(t, nd);
	gsl_multimin_function_fdf fdf = {pol_f, pol_df, pol_fdf, nd, &p};
	if (gsl_multimin_fdfminimizer_set(s, &fdf, &tv.vector, 0.02, 0.1) == GSL_SUCCESS) {
		for (int it = 0; it < maxiter; it++) {
			if (gsl_multimin_fdfminimizer_iterate(s) != GSL_SUCCESS)
				break;
			if (gsl_multimin_test_gradient(s->gradient, 1e-5) == GSL_SUCCESS)
				break;
		}
		if (isfinite(s->f) && s->f < f0) {
			t_to_u(&p, s->x->data);
			for (size_t j = 0; j < nd; j++)
				u[dims[j]] = p.u[dims[j]];
		}
	}
	gsl_multimin_fdfminimizer_free(s);
}

/* ---- coordinate moves on integer, discrete and categorical dims ---- */

static size_t n_cells(const struct space_param *p)
{
	switch (p->type) {
	case SPACE_CATEGORICAL:
		return p->n_categories;
	case SPACE_DISCRETE:
		return p->n_values;
	case SPACE_INTEGER:
		return (size_t)fmin(p->max - p->min + 1.0, 1e9);
	default:
		return 0;
	}
}

/* The u of the cell k steps from the one u is in (clamped). */
static double cell_u(const struct space_param *p, double u, long k)
{
	double v = space_param_decode(p, u);
	switch (p->type) {
	case SPACE_CATEGORICAL: {
		long K = (long)p->n_categories, c = ((long)v + k) % K;
		return ((double)(c < 0 ? c + K : c) + 0.5) / (double)K;
	}
	case SPACE_DISCRETE: {
		long idx = 0;
		for (size_t j = 0; j < p->n_values; j++)
			if (p->values[j] == v)
				idx = (long)j;
		idx += k;
		idx = idx < 0 ? 0 : idx >= (long)p->n_values ? (long)p->n_values - 1 : idx;
		return space_param_encode(p, p->values[idx]);
	}
	case SPACE_INTEGER:
		return space_param_encode(p, fmin(fmax(v + (double)k, p->min), p->max));
	default:
		return u;
	}
}

static double sweep(const struct acq_model *m, const struct space *s, double *u, double val,
                    double *tmp)
{
	size_t d = s->n;
	static const long steps[] = {-8, -4, -2, -1, 1, 2, 4, 8};
	for (int round = 0; round < 3; round++) {
		int changed = 0;
		for (size_t i = 0; i < d; i++) {
			const struct space_param *p = &s->params[i];
			size_t K = n_cells(p);
			if (K <= 1)
				continue;
			int all = p->type == SPACE_CATEGORICAL || K <= 16;
			size_t tries = all ? K : sizeof(steps) / sizeof(steps[0]);
			double base = u[i];
			for (size_t t = 0; t < tries; t++) {
				memcpy(tmp, u, d * sizeof(double));
				if (!all)
					tmp[i] = cell_u(p, base, steps[t]);
				else if (p->type == SPACE_CATEGORICAL)
					tmp[i] = ((double)t + 0.5) / (double)K;
				else if (p->type == SPACE_DISCRETE)
					tmp[i] = space_param_encode(p, p->values[t]);
				else
					tmp[i] = space_param_encode(p, p->min + (double)t);
				space_snap(s, tmp);
				if (fabs(tmp[i] - u[i]) < 1e-12)
					continue;
				double v = acq_eval(m, tmp, NULL, NULL, NULL);
				if (v > val + 1e-12) {
					val = v;
					memcpy(u, tmp, d * sizeof(double));
					changed = 1;
				}
			}
		}
		if (!changed)
			break;
	}
	return val;
}

/* Polishes the continuous coordinates again for every other category of
 * each categorical dimension and keeps the best: the best continuous values
 * often depend on the category, which one coordinate move cannot see.
 * Only for spaces with few categories in all (cost: one polish each). */
static double per_category(const struct acq_model *m, const struct space *s, double *u, double val,
                           const size_t *cont, size_t ncont, int maxiter, double *scratch)
{
	size_t d = s->n, total = 0;
	for (size_t i = 0; i < d; i++)
		if (s->params[i].type == SPACE_CATEGORICAL)
			total += s->params[i].n_categories;
	if (total == 0 || total > 16 || ncont == 0)
		return val;
	double *x = scratch + 3 * d; /* polish uses the first 3·d */
	for (size_t i = 0; i < d; i++) {
		const struct space_param *p = &s->params[i];
		if (p->type != SPACE_CATEGORICAL)
			continue;
		double cur = u[i];
		for (size_t c = 0; c < p->n_categories; c++) {
			double cu = ((double)c + 0.5) / (double)p->n_categories;
			if (fabs(cu - cur) < 1e-12)
				continue;
			memcpy(x, u, d * sizeof(double));
			x[i] = cu;
			space_snap(s, x);
			polish(m, cont, ncont, x, maxiter, scratch);
			space_snap(s, x);
			double v = acq_eval(m, x, NULL, NULL, NULL);
			if (v > val) {
				val = v;
				memcpy(u, x, d * sizeof(double));
			}
		}
	}
	return val;
}

/* ---- candidates ---- */

static double reflect(double x)
{
	for (int k = 0; k < 4 && (x < 0.0 || x > 1.0); k++)
		x = x < 0.0 ? -x : 2.0 - x;
	return fmin(fmax(x, 0.0), 1.0);
}

static void perturb(const struct acq_model *m, const struct space *s, const double *from,
                    struct rng *r, double *u)
{
	size_t d = s->n;
	static const double scales[] = {0.05, 0.15, 0.4};
	double sc = scales[rng_below(r, 3)];
	int subset = rng_uniform(r) < 0.5;
	double pdim = subset ? fmin(1.0, 2.0 / (double)d) : 1.0;
	size_t forced = rng_below(r, d);
	memcpy(u, from, d * sizeof(double));
	for (size_t i = 0; i < d; i++) {
		if (i != forced && rng_uniform(r) >= pdim)
			continue;
		const struct space_param *p = &s->params[i];
		if (p->type == SPACE_CATEGORICAL) {
			if (subset || rng_uniform(r) < 1.0 / (double)d)
				u[i] = ((double)rng_below(r, p->n_categories) + 0.5) /
				       (double)p->n_categories;
			continue;
		}
		double ls = exp(m->obj->kern.log_ls[i]);
		double sd = fmin(sc * fmin(ls, 1.0), 0.5);
		u[i] = reflect(u[i] + sd * rng_normal(r));
	}
	space_snap(s, u);
}

/* 1 when u is within tol (L∞) of one of the n points. */
static int near_any(const double *u, const double *pts, size_t n, size_t d, double tol)
{
	for (size_t j = 0; j < n; j++) {
		const double *t = pts + j * d;
		size_t i = 0;
		while (i < d && fabs(u[i] - t[i]) <= tol)
			i++;
		if (i == d)
			return 1;
	}
	return 0;
}

static int is_taken(const double *u, const double *taken, size_t n_taken, size_t d)
{
	return near_any(u, taken, n_taken, d, 1e-9);
}

/* Rejected: a duplicate of a taken point (when deduplicating), or closer
 * than ACQ_MIN_SEP to a pending or batch point (always, so that concurrent
 * workers get spread-out points even where the fantasies leave EI high). */
static int rejected(const struct acq_opts *o, const double *u, const double *taken, size_t n_taken,
                    size_t d)
{
	size_t first = o->n_spread <= n_taken ? n_taken - o->n_spread : 0;
	if (o->dedupe && is_taken(u, taken, first, d))
		return 1;
	return near_any(u, taken + first * d, n_taken - first, d, ACQ_MIN_SEP);
}

struct scored {
	double v;
	size_t i;
};

static int cmp_scored(const void *a, const void *b)
{
	double x = ((const struct scored *)a)->v, y = ((const struct scored *)b)->v;
	return (x < y) - (x > y); /* descending */
}

int acq_search(const struct acq_model *m, const struct space *s, const struct acq_opts *o,
               const double *top, size_t n_top, const double *taken, size_t n_taken, struct rng *r,
               double *u, double *value, double *mu, double *sd, char *err, size_t errlen)
{
	size_t d = s->n;
	size_t nq = o->n_qmc, nl = n_top ? o->n_local : 0;
	size_t nc = nq + nl + n_top;
	int rc = -1;
	double *X = malloc((nc ? nc : 1) * d * sizeof(double));
	double *val = malloc((nc ? nc : 1) * sizeof(double));
	double *mbuf = malloc((nc ? nc : 1) * 2 * sizeof(double));
	struct scored *order = malloc((nc ? nc : 1) * sizeof(*order));
	size_t ns = o->n_starts ? o->n_starts : 1;
	double *fin = malloc(ns * (d + 1) * sizeof(double));
	double *scratch = malloc((4 * d + 1) * sizeof(double));
	size_t *cont = malloc((d ? d : 1) * sizeof(size_t));
	size_t *dbl = malloc((d ? d : 1) * sizeof(size_t));
	if (!X || !val || !mbuf || !order || !fin || !scratch || !cont || !dbl) {
		snprintf(err, errlen, "out of memory in the acquisition search");
		goto out;
	}
	if (nq && quasirandom_points(d, o->qmc_seed, 0, nq, X, err, errlen) < 0)
		goto out;
	for (size_t c = 0; c < nq; c++)
		space_snap(s, X + c * d);
	for (size_t c = 0; c < nl; c++)
		perturb(m, s, top + (c % n_top) * d, r, X + (nq + c) * d);
	for (size_t c = 0; c < n_top; c++) {
		memcpy(X + (nq + nl + c) * d, top + c * d, d * sizeof(double));
		space_snap(s, X + (nq + nl + c) * d);
	}
	if (eval_many(m, X, nc, val, mbuf, mbuf + nc) < 0) {
		snprintf(err, errlen, "out of memory scoring candidates");
		goto out;
	}
	for (size_t c = 0; c < nc; c++) {
		order[c].v = isfinite(val[c]) ? val[c] : -INFINITY;
		order[c].i = c;
	}
	qsort(order, nc, sizeof(*order), cmp_scored);

	size_t ncont = 0, ndbl = 0;
	int has_disc = 0;
	for (size_t i = 0; i < d; i++) {
		enum space_type t = s->params[i].type;
		if (t != SPACE_CATEGORICAL)
			cont[ncont++] = i;
		if (t == SPACE_DOUBLE)
			dbl[ndbl++] = i;
		else
			has_disc = 1;
	}
	/* polish the best distinct starts */
	size_t nf = 0;
	for (size_t k = 0; k < nc && nf < ns; k++) {
		const double *x0 = X + order[k].i * d;
		int dup = 0;
		for (size_t j = 0; j < nf && !dup; j++)
			dup = is_taken(x0, fin + j * (d + 1), 1, d);
		if (dup)
			continue;
		double *x = fin + nf * (d + 1);
		memcpy(x, x0, d * sizeof(double));
		polish(m, cont, ncont, x, o->maxiter, scratch);
		space_snap(s, x);
		double v = acq_eval(m, x, NULL, NULL, NULL);
		if (has_disc) {
			v = sweep(m, s, x, v, scratch);
			v = per_category(m, s, x, v, cont, ncont, o->maxiter, scratch);
			if (ndbl) {
				polish(m, dbl, ndbl, x, o->maxiter / 2, scratch);
				space_snap(s, x);
				v = acq_eval(m, x, NULL, NULL, NULL);
			}
		}
		x[d] = isfinite(v) ? v : -INFINITY;
		nf++;
	}
	/* the best polished point that is new, else the best new candidate */
	const double *pick = NULL;
	double best = -INFINITY;
	for (size_t j = 0; j < nf; j++) {
		const double *x = fin + j * (d + 1);
		if ((!pick || x[d] > best) && !rejected(o, x, taken, n_taken, d)) {
			pick = x;
			best = x[d];
		}
	}
	for (size_t k = 0; !pick && k < nc; k++) {
		const double *x = X + order[k].i * d;
		if (!rejected(o, x, taken, n_taken, d))
			pick = x;
	}
	if (!pick) {
		rc = 1;
		goto out;
	}
	memcpy(u, pick, d * sizeof(double));
	*value = acq_eval(m, u, NULL, mu, sd);
	rc = 0;
out:
	free(X);
	free(val);
	free(mbuf);
	free(order);
	free(fin);
	free(scratch);
	free(cont);
	free(dbl);
	return rc;
}
