#include "acquisition.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
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
	double so = sqrt(vo), dlm, dls, val;
	if (m->ref) {
		/* the sd of f(x) − f(x*): var + var* − 2·cov; dvar gets the
		 * gradient of that variance */
		gp_ref_update(m->ref, m->obj);
		double *dc = NULL, cbuf[64], *cheap = NULL;
		if (grad && d > 64 && !(cheap = malloc(d * sizeof(double))))
			grad = NULL;
		if (grad)
			dc = d <= 64 ? cbuf : cheap;
		double c = gp_ref_cov(m->obj, m->ref, u, grad ? dc : NULL);
		double sdd = acq_noisy_sd(m->ref, vo, c);
		val = logei(mo - m->ref->mu, sdd, 0.0, &dlm, &dls);
		if (grad)
			for (size_t i = 0; i < d; i++)
				grad[i] =
				    dlm * dmu[i] + dls * (dvar[i] - 2.0 * dc[i]) / (2.0 * sdd);
		free(cheap);
	} else {
		val = logei(mo, so, m->best, &dlm, &dls);
		if (grad)
			for (size_t i = 0; i < d; i++)
				grad[i] = dlm * dmu[i] + dls * dvar[i] / (2.0 * so);
	}
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

double acq_noisy_sd(const struct gp_ref *r, double var, double cov)
{
	double v = var + r->var - 2.0 * cov, floor = 1e-12 * (var + r->var) + 1e-300;
	return sqrt(v > floor ? v : floor);
}

/* Acquisition values of m candidates at once (var: 2·n scratch with
 * m->ref). */
static int eval_many(const struct acq_model *m, const double *X, size_t n, double *val, double *mu,
                     double *var)
{
	if (m->ref) {
		gp_ref_update(m->ref, m->obj);
		if (gp_predict_many_ref(m->obj, X, n, mu, var, m->ref, var + n) < 0)
			return -1;
		for (size_t c = 0; c < n; c++)
			val[c] = logei(mu[c] - m->ref->mu, acq_noisy_sd(m->ref, var[c], var[n + c]),
			               0.0, NULL, NULL);
	} else {
		if (gp_predict_many(m->obj, X, n, mu, var) < 0)
			return -1;
		for (size_t c = 0; c < n; c++)
			val[c] = logei(mu[c], sqrt(var[c]), m->best, NULL, NULL);
	}
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

/* Which coordinates polishing moves. */
struct dims {
	size_t *cont, *dbl; /* non-categorical, double; d entries each; owned */
	size_t ncont, ndbl;
	int has_disc;
};

static int dims_init(struct dims *dm, const struct space *s)
{
	size_t d = s->n;
	dm->cont = malloc((d ? d : 1) * sizeof(size_t));
	dm->dbl = malloc((d ? d : 1) * sizeof(size_t));
	dm->ncont = dm->ndbl = 0;
	dm->has_disc = 0;
	if (!dm->cont || !dm->dbl)
		return -1;
	for (size_t i = 0; i < d; i++) {
		enum space_type t = s->params[i].type;
		if (t != SPACE_CATEGORICAL)
			dm->cont[dm->ncont++] = i;
		if (t == SPACE_DOUBLE)
			dm->dbl[dm->ndbl++] = i;
		else
			dm->has_disc = 1;
	}
	return 0;
}

static void dims_free(struct dims *dm)
{
	free(dm->cont);
	free(dm->dbl);
}

/* Polishes x in place (continuous relaxation, snap, coordinate moves, per
 * category, doubles again) and returns its acquisition value (-inf when
 * not finite). scratch: 4·d + 1. */
static double refine(const struct acq_model *m, const struct space *s, const struct dims *dm,
                     double *x, int maxiter, double *scratch)
{
	const size_t *cont = dm->cont, *dbl = dm->dbl;
	size_t ncont = dm->ncont, ndbl = dm->ndbl;
	int has_disc = dm->has_disc;
	polish(m, cont, ncont, x, maxiter, scratch);
	space_snap(s, x);
	double v = acq_eval(m, x, NULL, NULL, NULL);
	if (has_disc) {
		v = sweep(m, s, x, v, scratch);
		v = per_category(m, s, x, v, cont, ncont, maxiter, scratch);
		if (ndbl) {
			polish(m, dbl, ndbl, x, maxiter / 2, scratch);
			space_snap(s, x);
			v = acq_eval(m, x, NULL, NULL, NULL);
		}
	}
	return isfinite(v) ? v : -INFINITY;
}

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
	double *mbuf = malloc((nc ? nc : 1) * 3 * sizeof(double));
	struct scored *order = malloc((nc ? nc : 1) * sizeof(*order));
	size_t ns = o->n_starts ? o->n_starts : 1;
	double *fin = malloc(ns * (d + 1) * sizeof(double));
	double *scratch = malloc((4 * d + 1) * sizeof(double));
	struct dims dm;
	int dm_ok = dims_init(&dm, s);
	if (!X || !val || !mbuf || !order || !fin || !scratch || dm_ok < 0) {
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
		x[d] = refine(m, s, &dm, x, o->maxiter, scratch);
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
	dims_free(&dm);
	return rc;
}

/* ---- the candidate pool of one batch ---- */

/* Each model's rows of L⁻¹k(X, c) for the pool's candidates (row j =
 * training point j, m columns), grown by one row per believer append. */
struct acq_pool_model {
	double *V;   /* cap x m; owned */
	double *mu;  /* m posterior means (a believer append leaves them) */
	double *var; /* m posterior variances */
	size_t n;    /* rows of V in use: the model's n when last updated */
};

static void pool_score(struct acq_pool *p, const struct acq_model *m)
{
	for (size_t c = 0; c < p->m; c++) {
		struct acq_pool_model *o = &p->mod[0];
		/* under noise, the plug-in incumbent μ(x*) (the pool keeps no
		 * covariances with x*) */
		double v =
		    logei(o->mu[c], sqrt(o->var[c]), m->ref ? m->ref->mu : m->best, NULL, NULL);
		for (size_t k = 0; k < m->n_con; k++) {
			struct acq_pool_model *q = &p->mod[k + 1];
			v += logei_log_cdf((q->mu[c] - m->con_thr[k]) / sqrt(q->var[c]), NULL);
		}
		p->val[c] = isfinite(v) ? v : -INFINITY;
	}
}

static int pool_model_init(struct acq_pool_model *q, struct gp *g, const double *X, size_t m)
{
	size_t n = g->n, d = g->dim;
	q->V = malloc((g->cap ? g->cap : 1) * m * sizeof(double));
	q->mu = malloc(m * sizeof(double));
	q->var = malloc(m * sizeof(double));
	if (!q->V || !q->mu || !q->var)
		return -1;
	q->n = n;
	for (size_t c = 0; c < m; c++) {
		q->mu[c] = g->mean;
		q->var[c] = g->kern.sf2;
	}
	if (n == 0)
		return 0;
	for (size_t j = 0; j < n; j++) {
		double a = gsl_vector_get(g->alpha, j), *r = q->V + j * m;
		for (size_t c = 0; c < m; c++) {
			r[c] = kernel_eval(&g->kern, X + c * d, g->X + j * d);
			q->mu[c] += a * r[c];
		}
	}
	gsl_matrix_view Vv = gsl_matrix_view_array(q->V, n, m);
	gsl_matrix_view Lv = gsl_matrix_submatrix(g->L, 0, 0, n, n);
	if (gsl_blas_dtrsm(CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, 1.0, &Lv.matrix,
	                   &Vv.matrix))
		return -1;
	double floor = 1e-12 * g->kern.sf2;
	for (size_t j = 0; j < n; j++) {
		const double *r = q->V + j * m;
		for (size_t c = 0; c < m; c++)
			q->var[c] -= r[c] * r[c];
	}
	for (size_t c = 0; c < m; c++)
		if (!(q->var[c] > floor))
			q->var[c] = floor;
	return 0;
}

/* Takes in the rows the model gained since the last update: the new entry
 * of L⁻¹k(X, c) is (k(x_new, c) − l·v_c) / l_nn with l the new row of L. */
static int pool_model_update(struct acq_pool_model *q, struct gp *g, const double *X, size_t m,
                             double *t)
{
	size_t d = g->dim;
	double floor = 1e-12 * g->kern.sf2;
	for (; q->n < g->n; q->n++) {
		size_t r = q->n;
		const double *xn = g->X + r * d;
		double *vr = q->V + r * m;
		for (size_t c = 0; c < m; c++)
			t[c] = 0.0;
		if (r > 0) {
			gsl_matrix_view Vv = gsl_matrix_view_array(q->V, r, m);
			gsl_vector_const_view l = gsl_matrix_const_subrow(g->L, r, 0, r);
			gsl_vector_view tv = gsl_vector_view_array(t, m);
			if (gsl_blas_dgemv(CblasTrans, 1.0, &Vv.matrix, &l.vector, 0.0, &tv.vector))
				return -1;
		}
		double lrr = gsl_matrix_get(g->L, r, r);
		for (size_t c = 0; c < m; c++) {
			double w = (kernel_eval(&g->kern, xn, X + c * d) - t[c]) / lrr;
			vr[c] = w;
			q->var[c] -= w * w;
			if (!(q->var[c] > floor))
				q->var[c] = floor;
		}
	}
	return 0;
}

int acq_pool_init(struct acq_pool *p, const struct acq_model *m, const struct space *s,
                  size_t n_cand, const double *top, size_t n_top, uint64_t qmc_seed, struct rng *r,
                  char *err, size_t errlen)
{
	size_t d = s->n, nl = n_top ? n_cand / 3 : 0, nq = n_cand - nl;
	memset(p, 0, sizeof(*p));
	p->m = nq + nl + n_top;
	p->nmod = 1 + m->n_con;
	p->X = malloc((p->m ? p->m : 1) * d * sizeof(double));
	p->val = malloc((p->m ? p->m : 1) * sizeof(double));
	p->t = malloc((p->m ? p->m : 1) * sizeof(double));
	p->mod = calloc(p->nmod, sizeof(*p->mod));
	if (!p->X || !p->val || !p->t || !p->mod) {
		snprintf(err, errlen, "out of memory in the batch search");
		return -1;
	}
	if (nq && quasirandom_points(d, qmc_seed, 0, nq, p->X, err, errlen) < 0)
		return -1;
	for (size_t c = 0; c < nq; c++)
		space_snap(s, p->X + c * d);
	for (size_t c = 0; c < nl; c++)
		perturb(m, s, top + (c % n_top) * d, r, p->X + (nq + c) * d);
	for (size_t c = 0; c < n_top; c++) {
		memcpy(p->X + (nq + nl + c) * d, top + c * d, d * sizeof(double));
		space_snap(s, p->X + (nq + nl + c) * d);
	}
	for (size_t k = 0; k < p->nmod; k++)
		if (pool_model_init(&p->mod[k], k ? m->con[k - 1] : m->obj, p->X, p->m) < 0) {
			snprintf(err, errlen, "out of memory scoring the batch candidates");
			return -1;
		}
	pool_score(p, m);
	return 0;
}

int acq_pool_update(struct acq_pool *p, const struct acq_model *m)
{
	for (size_t k = 0; k < p->nmod; k++)
		if (pool_model_update(&p->mod[k], k ? m->con[k - 1] : m->obj, p->X, p->m, p->t) < 0)
			return -1;
	pool_score(p, m);
	return 0;
}

int acq_pool_pick(struct acq_pool *p, const struct acq_model *m, const struct space *s,
                  const struct acq_opts *o, const double *taken, size_t n_taken, double *u,
                  double *value, double *mu, double *sd, char *err, size_t errlen)
{
	size_t d = s->n, ns = o->n_starts ? o->n_starts : 1;
	struct scored *order = malloc((p->m ? p->m : 1) * sizeof(*order));
	double *fin = malloc(ns * (d + 1) * sizeof(double));
	double *scratch = malloc((4 * d + 1) * sizeof(double));
	struct dims dm;
	int dm_ok = dims_init(&dm, s), rc = -1;
	if (!order || !fin || !scratch || dm_ok < 0) {
		snprintf(err, errlen, "out of memory in the batch search");
		goto out;
	}
	for (size_t c = 0; c < p->m; c++) {
		order[c].v = p->val[c];
		order[c].i = c;
	}
	qsort(order, p->m, sizeof(*order), cmp_scored);
	/* refine the best few candidates that are allowed: they stand for
	 * the full search's polished starts at a fraction of the cost */
	size_t nf = 0;
	const double *raw = NULL;
	for (size_t k = 0; k < p->m && nf < ns; k++) {
		const double *x0 = p->X + order[k].i * d;
		if (rejected(o, x0, taken, n_taken, d))
			continue;
		if (!raw)
			raw = x0;
		double *x = fin + nf * (d + 1);
		memcpy(x, x0, d * sizeof(double));
		x[d] = o->maxiter > 0 ? refine(m, s, &dm, x, o->maxiter, scratch) : order[k].v;
		nf++;
	}
	const double *pick = NULL;
	double best = -INFINITY;
	for (size_t j = 0; j < nf; j++) {
		const double *x = fin + j * (d + 1);
		if ((!pick || x[d] > best) && !rejected(o, x, taken, n_taken, d)) {
			pick = x;
			best = x[d];
		}
	}
	if (!pick)
		pick = raw;
	if (!pick) {
		rc = 1;
		goto out;
	}
	memcpy(u, pick, d * sizeof(double));
	*value = acq_eval(m, u, NULL, mu, sd);
	rc = 0;
out:
	free(order);
	free(fin);
	free(scratch);
	dims_free(&dm);
	return rc;
}

void acq_pool_free(struct acq_pool *p)
{
	if (!p)
		return;
	for (size_t k = 0; p->mod && k < p->nmod; k++) {
		free(p->mod[k].V);
		free(p->mod[k].mu);
		free(p->mod[k].var);
	}
	free(p->mod);
	free(p->X);
	free(p->val);
	free(p->t);
	memset(p, 0, sizeof(*p));
}
