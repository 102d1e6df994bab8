/* gpei: the GAUSSIAN_PROCESS_EI designer. The outline is in
 * docs/gp-ei.md; the pieces are kernel, gp, gpfit, warp, logei and
 * acquisition. */
#include "gpei.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acquisition.h"
#include "gp.h"
#include "gpcache.h"
#include "gpfit.h"
#include "quasirandom.h"
#include "rng.h"
#include "warp.h"

/* Past this many usable trials the model trains on a subset. */
#define GPEI_N_MAX 1000
/* The hyperparameters are fitted on at most this many of them. */
#define GPEI_FIT_MAX 200
/* Points of a batch that get a full acquisition search each; the later
 * ones share one candidate pool (acq_pool). */
#define GPEI_FULL_SLOTS 4
/* Noisy EI when the fitted noise variance exceeds this share of the signal
 * variance (standardized, warped outputs). */
#define GPEI_NOISY 0.01
/* Under noise the incumbent is the best posterior mean among this many of
 * the best observed safe trials. */
#define GPEI_INC_CAND 100
/* Best trials used as starts and perturbation centres. */
#define GPEI_TOP 5
/* A feasibility model trains on at most this many trials: every
 * suggestion evaluates it beside the objective model, so its size is what
 * a failed trial costs (about (100/300)², a tenth more, at n = 300). */
#define GPEI_CON_MAX 100

/* Completed trials needed before the model takes over: clamp(2·D, 5, 20)
 * (docs/gp-ei.md; against D + 1, measured better on rosenbrock4, levy10,
 * mixed_ml and styblinski8, a little worse on hartmann6 and ackley5). */
static size_t initial_design(size_t d)
{
	size_t n = 2 * d;
	return n < 5 ? 5 : n > 20 ? 20 : n;
}

/* The output transform: with observationNoise HIGH the bad half stays
 * linear (warp_fit_noisy). bench_designer, the three noisy problems, 20
 * seeds, mean log10 regret after 60 trials at the recommended trial:
 * hartmann6 -0.92 -> -0.96, branin -0.49 -> -0.79, mixed_ml -1.99 ->
 * -2.35. */
static int warp_metric(const struct designer_input *in, struct warp *wp, const double *y, size_t n,
                       int minimize, double *out)
{
	return in->noise_high ? warp_fit_noisy(wp, y, n, minimize, out)
	                      : warp_fit(wp, y, n, minimize, out);
}

/* Everything one suggestion allocates, freed in one place. */
struct work {
	size_t d, nc;
	double *U;   /* nc x d encoded completed trials */
	double *yw;  /* nc warped objective (NAN: not usable) */
	int *safe;   /* nc: feasible and every safety metric on its good side */
	size_t *sel; /* indices of the trials the objective model uses */
	size_t nsel;
	double *Xs, *ys; /* the selection's inputs and outputs */
	unsigned char *cat;
	struct warp warp, warp0;
	struct gp obj, rep; /* objective model; first-objective model for reports */
	int rep_used;
	struct gp *con; /* feasibility models */
	double *con_thr;
	size_t n_con, con_init;
	double *taken, *top; /* unit-cube points: completed+pending+batch; the best trials */
	size_t n_taken, n_top;
	const double **pend; /* pending + batch value vectors for the fallback */
	double *tmp;         /* (nc + 1) x (n_metrics + 2) scratch */
	double *theta;       /* the objective model's hyperparameters */
	size_t n_obj, first; /* objectives; index of the first one */
	struct gp *repm;     /* the model reported in the first objective's units */
	struct warp *rwarp;
	int noisy;  /* noisy EI, posterior-mean incumbent */
	size_t inc; /* with noisy: the incumbent trial x* */
	struct gp_ref ref;
};

static void work_free(struct work *w)
{
	free(w->U);
	free(w->yw);
	free(w->safe);
	free(w->sel);
	free(w->Xs);
	free(w->ys);
	free(w->cat);
	warp_free(&w->warp);
	warp_free(&w->warp0);
	gp_free(&w->obj);
	gp_free(&w->rep);
	for (size_t k = 0; k < w->con_init; k++)
		gp_free(&w->con[k]);
	free(w->con);
	free(w->con_thr);
	free(w->taken);
	free(w->top);
	free(w->pend);
	free(w->tmp);
	free(w->theta);
	gp_ref_free(&w->ref);
}

static int cmp_desc(const void *a, const void *b, void *ctx)
{
	const double *y = ctx;
	double x = y[*(const size_t *)a], z = y[*(const size_t *)b];
	return (x < z) - (x > z);
}

/* Indices 0..n-1 with finite key, best first. */
static size_t rank_desc(const double *key, size_t n, size_t *idx)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(key[i]))
			idx[m++] = i;
	qsort_r(idx, m, sizeof(size_t), cmp_desc, (void *)key);
	return m;
}

/* Picks at most cap of the usable trials: the best quarter, the quarter
 * nearest the incumbent, and a uniform draw of the rest (deterministic
 * with r). Writes the count into *n. */
static int select_subset(struct work *w, size_t cap, struct rng *r)
{
	size_t d = w->d, nc = w->nc;
	size_t *idx = malloc((nc ? nc : 1) * sizeof(size_t));
	double *key = malloc((nc ? nc : 1) * sizeof(double));
	unsigned char *in = calloc(nc ? nc : 1, 1);
	if (!idx || !key || !in) {
		free(idx);
		free(key);
		free(in);
		return -1;
	}
	size_t m = rank_desc(w->yw, nc, idx), n = 0;
	if (m <= cap) {
		memcpy(w->sel, idx, m * sizeof(size_t));
		w->nsel = m;
		goto done;
	}
	for (size_t k = 0; k < cap / 4; k++) {
		in[idx[k]] = 1;
		w->sel[n++] = idx[k];
	}
	const double *inc = w->U + idx[0] * d;
	for (size_t i = 0; i < nc; i++) {
		double s = 0.0;
		for (size_t j = 0; j < d; j++)
			s += (w->U[i * d + j] - inc[j]) * (w->U[i * d + j] - inc[j]);
		key[i] = isfinite(w->yw[i]) && !in[i] ? -s : NAN;
	}
	size_t mm = rank_desc(key, nc, idx);
	for (size_t k = 0; k < mm && n < cap / 2; k++) {
		in[idx[k]] = 1;
		w->sel[n++] = idx[k];
	}
	/* the rest: a partial Fisher-Yates shuffle of what is left */
	size_t rest = 0;
	for (size_t i = 0; i < nc; i++)
		if (isfinite(w->yw[i]) && !in[i])
			idx[rest++] = i;
	for (size_t k = 0; k < rest && n < cap; k++) {
		size_t j = k + (size_t)rng_below(r, rest - k);
		size_t t = idx[k];
		idx[k] = idx[j];
		idx[j] = t;
		w->sel[n++] = idx[k];
	}
	w->nsel = n;
done:
	free(idx);
	free(key);
	free(in);
	return 0;
}

/* Fits the hyperparameters of g (which holds its data) on at most
 * GPEI_FIT_MAX of its points, then factors g on all of them. */
static int fit_model(struct gp *g, const struct gpfit_opts *fo, const double *warm, int optimize,
                     struct rng *r, double *theta, char *err, size_t errlen)
{
	size_t n = g->n, d = g->dim;
	if (!optimize && warm) {
		gp_set_theta(g, warm); /* g->mean: set by the caller */
		memcpy(theta, warm, gp_ntheta(d) * sizeof(double));
		return gp_factor(g, err, errlen);
	}
	if (n <= GPEI_FIT_MAX)
		return gpfit_fit(g, fo, warm, r, theta, err, errlen) < 0 ? -1 : 0;
	/* The selection is ordered best first: fit on the first third of the
	 * budget plus an even spread of the others. */
	struct gp sub;
	if (gp_init(&sub, d, g->kern.cat, GPEI_FIT_MAX) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t head = GPEI_FIT_MAX / 3, m = 0;
	double step = (double)(n - head) / (double)(GPEI_FIT_MAX - head);
	for (size_t k = 0; k < GPEI_FIT_MAX; k++) {
		size_t i = k < head ? k : head + (size_t)((double)(k - head) * step);
		if (i >= n)
			break;
		memcpy(sub.X + m * d, g->X + i * d, d * sizeof(double));
		sub.y[m++] = g->y[i];
	}
	sub.n = m;
	sub.mean = g->mean;
	int rc = gpfit_fit(&sub, fo, warm, r, theta, err, errlen);
	g->mean = sub.mean;
	gp_free(&sub);
	if (rc < 0)
		return -1;
	gp_set_theta(g, theta);
	return gp_factor(g, err, errlen);
}

/* The trials a constraint model trains on (values v, NAN: left out; safe
 * when v > thr): all of them up to GPEI_CON_MAX; past that the unsafe ones
 * (up to half), the safe ones best by the objective (up to a quarter more:
 * where the search looks) and a uniform draw of the rest, in trial order.
 * Returns the count written into pick. */
static size_t select_con(const struct work *w, const double *v, double thr, struct rng *r,
                         size_t *pick, double *key, unsigned char *in)
{
	size_t nc = w->nc, nv = 0, n = 0, cap = GPEI_CON_MAX;
	for (size_t i = 0; i < nc; i++)
		nv += isfinite(v[i]);
	memset(in, 0, nc);
	for (size_t i = 0; i < nc && nv <= cap; i++)
		in[i] = isfinite(v[i]);
	for (size_t i = 0; i < nc && nv > cap && n < cap / 2; i++)
		if (isfinite(v[i]) && !(v[i] > thr))
			in[i] = 1, n++;
	if (nv > cap) {
		for (size_t i = 0; i < nc; i++)
			key[i] = isfinite(v[i]) && !in[i] ? w->yw[i] : NAN;
		size_t m = rank_desc(key, nc, pick);
		for (size_t k = 0; k < m && n < cap * 3 / 4; k++)
			in[pick[k]] = 1, n++;
		size_t rest = 0;
		for (size_t i = 0; i < nc; i++)
			if (isfinite(v[i]) && !in[i])
				pick[rest++] = i;
		for (size_t k = 0; k < rest && n < cap; k++) {
			size_t j = k + (size_t)rng_below(r, rest - k);
			size_t t = pick[j];
			pick[j] = pick[k];
			in[t] = 1, n++;
		}
	}
	n = 0;
	for (size_t i = 0; i < nc; i++)
		if (in[i])
			pick[n++] = i;
	return n;
}

/* A GP of (a subset of) the usable points for a constraint: values v (NAN:
 * left out), safe when v > thr after the z-score. Its hyperparameters are
 * kept in cache slot `slot`. */
static int fit_constraint(struct work *w, const double *v, double thr, const struct gpfit_opts *fo0,
                          size_t extra, struct gp_cache *cache, size_t slot, struct rng *r,
                          char *err, size_t errlen)
{
	size_t d = w->d, k = w->n_con, nc = w->nc;
	struct gp *g = &w->con[k];
	size_t *pick = malloc((nc ? nc : 1) * sizeof(size_t));
	double *key = malloc((nc ? nc : 1) * sizeof(double));
	unsigned char *in = malloc(nc ? nc : 1);
	double *theta = malloc(gp_ntheta(d) * sizeof(double));
	int rc = -1;
	if (!pick || !key || !in || !theta) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	size_t n = select_con(w, v, thr, r, pick, key, in);
	if (gp_init(g, d, w->cat, n + extra) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	w->con_init++;
	double mean = 0.0, var = 0.0;
	for (size_t j = 0; j < n; j++) {
		memcpy(g->X + j * d, w->U + pick[j] * d, d * sizeof(double));
		g->y[j] = v[pick[j]];
		mean += g->y[j] / (double)n;
	}
	for (size_t j = 0; j < n; j++)
		var += (g->y[j] - mean) * (g->y[j] - mean) / (double)n;
	double sd = var > 1e-20 ? sqrt(var) : 1.0;
	for (size_t j = 0; j < n; j++)
		g->y[j] = (g->y[j] - mean) / sd;
	g->n = n;
	g->mean = 0.0;
	/* The objective's refit schedule, counted in labelled trials (the
	 * subset stays at GPEI_CON_MAX), and a refit whenever the unsafe
	 * trials changed in number. Refitting only on a tenth more trials lost
	 * more than a decade on failregion3 (bench_designer, 10 seeds). */
	size_t nv = 0, n_neg = 0;
	for (size_t i = 0; i < nc; i++) {
		nv += isfinite(v[i]);
		n_neg += isfinite(v[i]) && !(v[i] > thr);
	}
	struct gpfit_opts fo = *fo0;
	struct gpcache_fit *st = gpcache_slot(cache, d, slot);
	const struct gpcache_fit *warm = st && st->theta ? st : NULL;
	int optimize = gpcache_schedule(&fo, warm, nv) || (warm && n_neg != warm->n_neg);
	if (warm)
		g->mean = warm->mean;
	if (fit_model(g, &fo, warm ? warm->theta : NULL, optimize, r, theta, err, errlen) < 0)
		goto out;
	gpcache_store(st, d, theta, g->mean, optimize, nv);
	if (st && optimize)
		st->n_neg = n_neg;
	w->con_thr[k] = (thr - mean) / sd;
	w->n_con++;
	rc = 0;
out:
	free(pick);
	free(key);
	free(in);
	free(theta);
	return rc;
}

/* Candidates of a batch's pool for a model of n points: scoring them once
 * costs n² each (the dtrsm), every later point n each. */
static size_t pool_size(size_t n)
{
	double nn = (double)(n ? n : 1);
	return (size_t)fmin(2048.0, fmax(256.0, 1e9 / (nn * nn)));
}

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 29);
}

static int fallback_point(const struct designer_input *in, struct work *w, size_t b, double *out,
                          struct designer_info *info, const char *why, char *err, size_t errlen)
{
	struct designer_input sub = *in;
	sub.count = 1;
	sub.pending = w->pend;
	sub.n_pending = in->n_pending + b;
	sub.position = in->position + b;
	int rc = quasirandom_suggest(&sub, out, info, err, errlen);
	if (rc < 0)
		return rc;
	if (info) {
		info->model_based = 0;
		info->source = why;
	}
	return 0;
}

/* Encodes the trials, warps the objective (scalarized when there are
 * several), fits the feasibility models and the objective model
 * (hyperparameters through the cache's schedule). with_con = 0 (a
 * recommendation): no feasibility models, and the cache is only read. */
static int build_models(const struct designer_input *in, struct work *w, struct rng *rp,
                        int with_con, char *err, size_t errlen)
{
	const struct space *s = in->space;
	size_t d = s->n, nc = in->n_completed, nm = in->n_metrics, np = in->n_pending;
	size_t count = in->count;
#define r (*rp)
	w->d = d;
	w->nc = nc;
	w->U = malloc(nc * d * sizeof(double));
	w->yw = malloc(nc * sizeof(double));
	w->safe = calloc(nc, sizeof(int));
	w->sel = malloc(nc * sizeof(size_t));
	w->cat = calloc(d, 1);
	w->con = calloc(nm + 1, sizeof(struct gp));
	w->con_thr = calloc(nm + 1, sizeof(double));
	w->taken = malloc((nc + np + count) * d * sizeof(double));
	w->top = malloc(GPEI_TOP * d * sizeof(double));
	w->pend = malloc((np + count) * sizeof(*w->pend));
	double *tmp = w->tmp = malloc((nc + 1) * (nm + 2) * sizeof(double));
	double *theta = w->theta = malloc(gp_ntheta(d) * sizeof(double));
	int rc = -1;
	if (!w->U || !w->yw || !w->safe || !w->sel || !w->cat || !w->con || !w->con_thr ||
	    !w->taken || !w->top || !w->pend || !tmp || !theta) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < d; i++)
		w->cat[i] = s->params[i].type == SPACE_CATEGORICAL;
	for (size_t i = 0; i < np; i++)
		w->pend[i] = in->pending[i];
	for (size_t i = 0; i < nc; i++) {
		space_encode(s, in->completed[i].values, w->U + i * d);
		memcpy(w->taken + i * d, w->U + i * d, d * sizeof(double));
	}
	w->n_taken = nc;

	/* the objective, scalarized when there are several */
	size_t n_obj = 0, first = 0;
	for (size_t k = 0; k < nm; k++)
		if (!in->metrics[k].safety && n_obj++ == 0)
			first = k;
	w->n_obj = n_obj;
	w->first = first;
	double *yraw = tmp, *yk = tmp + nc;
	int minimize = in->metrics[first].goal == DESIGNER_MINIMIZE;
	for (size_t i = 0; i < nc; i++) {
		const struct designer_trial *t = &in->completed[i];
		yraw[i] = t->infeasible ? NAN : t->metrics[first];
	}
	if (n_obj > 1) {
		/* random Chebyshev weights from (seed, position): each objective
		 * warped and scaled to [0, 1], maximized */
		double *lam = yk + nc, lsum = 0.0;
		for (size_t k = 0; k < nm; k++) {
			lam[k] = -log(1.0 - rng_uniform(&r));
			lsum += in->metrics[k].safety ? 0.0 : lam[k];
		}
		double *acc = yraw;
		for (size_t i = 0; i < nc; i++)
			acc[i] = INFINITY;
		double *aug = w->yw;
		memset(aug, 0, nc * sizeof(double));
		for (size_t k = 0; k < nm; k++) {
			if (in->metrics[k].safety)
				continue;
			double *raw = malloc(nc * sizeof(double));
			if (!raw) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			for (size_t i = 0; i < nc; i++)
				raw[i] =
				    in->completed[i].infeasible ? NAN : in->completed[i].metrics[k];
			struct warp wk;
			int nv = warp_metric(in, &wk, raw, nc,
			                     in->metrics[k].goal == DESIGNER_MINIMIZE, yk);
			warp_free(&wk);
			free(raw);
			if (nv < 0) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			double lo = INFINITY, hi = -INFINITY;
			for (size_t i = 0; i < nc; i++)
				if (isfinite(yk[i])) {
					lo = fmin(lo, yk[i]);
					hi = fmax(hi, yk[i]);
				}
			double span = hi > lo ? hi - lo : 1.0;
			for (size_t i = 0; i < nc; i++) {
				double v = (yk[i] - lo) / span * lam[k] / lsum;
				acc[i] = isfinite(v) ? fmin(acc[i], v) : NAN;
				aug[i] += v;
			}
		}
		for (size_t i = 0; i < nc; i++)
			yraw[i] = acc[i] + 0.05 * aug[i];
		minimize = 0;
	}
	if (warp_metric(in, &w->warp, yraw, nc, minimize, w->yw) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}

	/* feasibility: failed trials, safety metrics */
	for (size_t i = 0; i < nc; i++)
		w->safe[i] = !in->completed[i].infeasible && isfinite(w->yw[i]);
	size_t n_inf = 0;
	for (size_t i = 0; i < nc; i++)
		n_inf += in->completed[i].infeasible || !isfinite(w->yw[i]);
	if (select_subset(w, GPEI_N_MAX, &r) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (w->nsel < 2) {
		snprintf(err, errlen, "fewer than 2 usable trials");
		goto out;
	}
	struct gpfit_opts fo;
	gpfit_default_opts(&fo);
	if (in->noise_high) {
		/* BoTorch's noise prior, ln σn² ~ N(−4, 1) with a floor of 1e-4:
		 * against N(−2, 1) with 1e-2 it gained on the noisy problems
		 * (bench/quality.py --noise default, 10 seeds) */
		fo.noise_floor = 1e-4;
		fo.noise_mu = -4.0;
	}
	if (n_inf > 0 && with_con) {
		double *lab = yk;
		for (size_t i = 0; i < nc; i++)
			lab[i] = w->safe[i] ? 1.0 : -1.0;
		if (fit_constraint(w, lab, 0.0, &fo, np + count, in->cache, 1, &r, err, errlen) < 0)
			goto out;
	}
	for (size_t k = 0; k < nm; k++) {
		const struct designer_metric *mt = &in->metrics[k];
		if (!mt->safety)
			continue;
		double sg = mt->goal == DESIGNER_MAXIMIZE ? 1.0 : -1.0;
		size_t nv = 0;
		for (size_t i = 0; i < nc; i++) {
			double v = in->completed[i].infeasible ? NAN : in->completed[i].metrics[k];
			yk[i] = isfinite(v) ? sg * v : NAN;
			nv += isfinite(v);
			if (isfinite(v) && !(sg * v >= sg * mt->safety_threshold))
				w->safe[i] = 0;
		}
		if (nv < 2 || !isfinite(mt->safety_threshold) || !with_con)
			continue;
		if (fit_constraint(w, yk, sg * mt->safety_threshold, &fo, np + count, in->cache,
		                   2 + k, &r, err, errlen) < 0)
			goto out;
	}

	/* the objective model */
	if (gp_init(&w->obj, d, w->cat, w->nsel + np + count) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < w->nsel; k++) {
		memcpy(w->obj.X + k * d, w->U + w->sel[k] * d, d * sizeof(double));
		w->obj.y[k] = w->yw[w->sel[k]];
	}
	w->obj.n = w->nsel;
	struct gpcache_fit *st = gpcache_slot(in->cache, d, 0);
	const struct gpcache_fit *warm = st && st->theta ? st : NULL;
	w->obj.mean = warm ? warm->mean : 0.0;
	int optimize = gpcache_schedule(&fo, warm, w->nsel);
	if (fit_model(&w->obj, &fo, warm ? warm->theta : NULL, optimize, &r, theta, err, errlen) <
	    0)
		goto out;
	/* a recommendation (with_con = 0) reads the cache but leaves it as
	 * the suggestions left it, so that asking for the best trial never
	 * changes the next suggestion */
	if (with_con)
		gpcache_store(st, d, theta, w->obj.mean, optimize, w->nsel);
	rc = 0;
out:
	return rc;
#undef r
}

/* w->repm, w->rwarp: the model and warp of the first objective, for the
 * reports: with several objectives, a model of the first one with the same
 * hyperparameters. */
static void report_model(const struct designer_input *in, struct work *w)
{
	size_t d = w->d, nc = w->nc, first = w->first;
	double *yraw = w->tmp, *yk = w->tmp + nc, *theta = w->theta;
	w->repm = &w->obj;
	w->rwarp = &w->warp;
	if (w->n_obj > 1) {
		for (size_t i = 0; i < nc; i++)
			yraw[i] =
			    in->completed[i].infeasible ? NAN : in->completed[i].metrics[first];
		if (warp_metric(in, &w->warp0, yraw, nc,
		                in->metrics[first].goal == DESIGNER_MINIMIZE, yk) >= 2 &&
		    gp_init(&w->rep, d, w->cat, w->nsel) == 0) {
			w->rep_used = 1;
			size_t n = 0;
			for (size_t k = 0; k < w->nsel; k++)
				if (isfinite(yk[w->sel[k]])) {
					memcpy(w->rep.X + n * d, w->U + w->sel[k] * d,
					       d * sizeof(double));
					w->rep.y[n++] = yk[w->sel[k]];
				}
			w->rep.n = n;
			gp_set_theta(&w->rep, theta);
			w->rep.mean = 0.0;
			if (gp_factor(&w->rep, NULL, 0) == 0) {
				w->repm = &w->rep;
				w->rwarp = &w->warp0;
			}
		}
	}
}

/* Safe trials ranked best first by observed (warped) value into idx
 * (every usable one when none is safe); returns how many. */
static size_t rank_safe(struct work *w, size_t *idx)
{
	double *yk = w->tmp + w->nc;
	for (size_t i = 0; i < w->nc; i++)
		yk[i] = w->safe[i] ? w->yw[i] : NAN;
	size_t nbest = rank_desc(yk, w->nc, idx);
	if (nbest == 0) /* nothing safe yet: rank every usable trial */
		nbest = rank_desc(w->yw, w->nc, idx);
	return nbest;
}

/* Noisy mode: observationNoise HIGH, or a fitted noise variance above
 * GPEI_NOISY times the signal variance. Then the incumbent is the trial
 * with the best posterior mean among the GPEI_INC_CAND best observed safe
 * ones (w->inc; *best its mean). Returns -1 on out-of-memory. */
static int choose_incumbent(const struct designer_input *in, struct work *w, size_t *idx,
                            size_t nbest, double *best)
{
	size_t d = w->d;
	w->noisy = in->noise_high || w->obj.noise > GPEI_NOISY * w->obj.kern.sf2;
	if (!w->noisy || nbest == 0)
		return 0;
	double top = -INFINITY;
	for (size_t k = 0; k < nbest && k < GPEI_INC_CAND; k++) {
		double mu, var;
		gp_predict(&w->obj, w->U + idx[k] * d, &mu, &var, NULL, NULL);
		if (mu > top) {
			top = mu;
			w->inc = idx[k];
		}
	}
	*best = top;
	return 0;
}

static int model_suggest(const struct designer_input *in, struct work *w, double *out,
                         struct designer_info *info, char *err, size_t errlen)
{
	const struct space *s = in->space;
	size_t d = s->n, nc = in->n_completed, np = in->n_pending;
	size_t count = in->count;
	struct acq_pool pool = {0}; /* freed at out: */
	struct rng r;
	int rc = -1;
	rng_seed(&r, in->seed, mix(in->position, 0x6770656901ULL));
	if (build_models(in, w, &r, 1, err, errlen) < 0)
		goto out;
	report_model(in, w);
	struct gp *rep = w->repm;
	struct warp *rwarp = w->rwarp;

	/* incumbent and the best trials */
	size_t *idx = malloc(nc * sizeof(size_t));
	if (!idx) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	size_t nbest = rank_safe(w, idx);
	w->n_top = nbest < GPEI_TOP ? nbest : GPEI_TOP;
	for (size_t k = 0; k < w->n_top; k++)
		memcpy(w->top + k * d, w->U + idx[k] * d, d * sizeof(double));
	double best = -INFINITY;
	for (size_t i = 0; i < nc; i++)
		if (w->safe[i])
			best = fmax(best, w->yw[i]);
	if (isfinite(best) && choose_incumbent(in, w, idx, nbest, &best) < 0) {
		free(idx);
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (!isfinite(best)) { /* no safe trial: EI against the worst value */
		best = INFINITY;
		for (size_t i = 0; i < nc; i++)
			if (isfinite(w->yw[i]))
				best = fmin(best, w->yw[i]);
	}
	free(idx);

	/* pending trials: the kriging believer */
	struct gp *models[64];
	size_t nmod = 0;
	models[nmod++] = &w->obj;
	for (size_t k = 0; k < w->n_con && nmod < 64; k++)
		models[nmod++] = &w->con[k];
	double *u, *pu = w->taken + w->n_taken * d;
	for (size_t p = 0; p < np; p++) {
		u = w->taken + w->n_taken * d;
		space_encode(s, in->pending[p], u);
		w->n_taken++;
	}
	/* all at once by a block extension; one at a time when the block is
	 * not positive definite (a failure only loses that fantasy) */
	for (size_t k = 0; k < nmod && np > 0; k++)
		if (gp_believe_many(models[k], pu, np) < 0)
			for (size_t p = 0; p < np; p++)
				gp_believe(models[k], pu + p * d);

	/* noisy EI's reference point, on the model with the fantasies (its
	 * mean there is unchanged by them; its variance shrinks) */
	if (w->noisy && gp_ref_init(&w->ref, &w->obj, w->U + w->inc * d) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* The believer's incumbent: the best of the real observations and the
	 * fantasies (Ginsbourger et al. 2010). With the real ones only, a
	 * point the model predicts above them kept its EI however many
	 * pending trials sat next to it, and 8 workers crowded one spot:
	 * with 8 workers (bench/quality.py, 10 seeds) hartmann6 -1.20 ->
	 * -1.46, mixed_ml -2.47 -> -4.15, ackley5 0.77 -> 0.51, branin
	 * -4.28 -> -3.68. */
	for (size_t p = 0; !w->noisy && p < np; p++) {
		double mu, var;
		gp_predict(&w->obj, pu + p * d, &mu, &var, NULL, NULL);
		best = fmax(best, mu);
	}
	struct acq_model am = {.obj = &w->obj,
	                       .best = best,
	                       .ref = w->noisy ? &w->ref : NULL,
	                       .con = models + 1,
	                       .con_thr = w->con_thr,
	                       .n_con = nmod - 1};
	struct acq_opts ao;
	int pool_ready = 0;
	acq_default_opts(&ao, w->obj.n);
	ao.dedupe = !in->noise_high;
	for (size_t b = 0; b < count; b++) {
		double *row = out + b * d;
		double val = NAN, mu = NAN, sd = NAN;
		u = w->taken + w->n_taken * d;
		ao.qmc_seed = mix(mix(in->seed, in->position), b + 1);
		ao.n_spread = np + b;
		int st;
		if (b < GPEI_FULL_SLOTS) {
			st = acq_search(&am, s, &ao, w->top, w->n_top, w->taken, w->n_taken, &r, u,
			                &val, &mu, &sd, err, errlen);
		} else {
			/* the later points of a big batch: one candidate pool, rescored
			 * in O(n) per candidate after each fantasy, and a search budget
			 * that shrinks with the slot */
			if (!pool_ready) {
				pool_ready = 1;
				if (acq_pool_init(&pool, &am, s, pool_size(w->obj.n), w->top,
				                  w->n_top, ao.qmc_seed, &r, err, errlen) < 0)
					goto out;
			} else if (acq_pool_update(&pool, &am) < 0) {
				snprintf(err, errlen, "BLAS failure in the batch search");
				goto out;
			}
			struct acq_opts po = ao;
			po.n_starts = b < 16 ? 2 : 1;
			po.maxiter = b < 16 ? 10 : b < 64 ? 5 : 0;
			st = acq_pool_pick(&pool, &am, s, &po, w->taken, w->n_taken, u, &val, &mu,
			                   &sd, err, errlen);
		}
		if (st < 0)
			goto out;
		if (st == 1) { /* every candidate was taken */
			if (fallback_point(in, w, b, row, info ? &info[b] : NULL,
			                   "sobol (every GP candidate was a duplicate)", err,
			                   errlen) < 0)
				goto out;
			space_encode(s, row, u);
		} else {
			space_decode(s, u, row);
			if (info) {
				struct designer_info *f = &info[b];
				double rm = mu, rsd = sd, rv, slope;
				if (rep != &w->obj) { /* the search's mu, sd are obj's */
					gp_predict(rep, u, &rm, &rv, NULL, NULL);
					rsd = sqrt(rv);
				}
				f->model_based = 1;
				f->source = "gp-ei";
				f->predicted_value = warp_inverse(rwarp, rm, &slope);
				f->predicted_stddev = rsd * slope;
				f->log_ei = val;
				f->incumbent = w->noisy ? "POSTERIOR_MEAN" : "OBSERVED";
			}
		}
		w->pend[np + b] = row;
		w->n_taken++;
		for (size_t k = 0; k < nmod && b + 1 < count; k++)
			gp_believe(models[k], u);
		if (!w->noisy && isfinite(mu))
			am.best = fmax(am.best, mu);
	}
	rc = (int)count;
out:
	acq_pool_free(&pool);
	return rc;
}

int gpei_recommend(const struct designer_input *in, size_t *index, int *posterior, char *err,
                   size_t errlen)
{
	*posterior = 0;
	if (!in || !in->space || in->space->n == 0) {
		snprintf(err, errlen, "GP-EI needs a space with parameters");
		return -1;
	}
	size_t n_obj = 0, usable = 0, first = 0;
	for (size_t k = 0; k < in->n_metrics; k++)
		if (!in->metrics[k].safety && n_obj++ == 0)
			first = k;
	for (size_t i = 0; i < in->n_completed && n_obj; i++)
		usable += !in->completed[i].infeasible && !isnan(in->completed[i].metrics[first]);
	/* one objective; before the initial design is complete only when the
	 * study says its metric is noisy */
	if (n_obj != 1 || usable < 3 || (!in->noise_high && usable < initial_design(in->space->n)))
		return 0;
	struct designer_input one = *in;
	one.count = 1;
	one.n_pending = 0;
	struct work w;
	memset(&w, 0, sizeof(w));
	struct rng r;
	rng_seed(&r, in->seed, mix(in->position, 0x6770656901ULL));
	int rc = -1;
	size_t *idx = malloc((in->n_completed ? in->n_completed : 1) * sizeof(size_t));
	if (!idx) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (build_models(&one, &w, &r, 0, err, errlen) < 0)
		goto out;
	size_t nbest = rank_safe(&w, idx);
	double best = -INFINITY;
	if (choose_incumbent(&one, &w, idx, nbest, &best) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	*posterior = w.noisy && nbest > 0 && w.safe[w.inc];
	*index = w.inc;
	rc = 0;
out:
	free(idx);
	work_free(&w);
	return rc;
}

int gpei_suggest(const struct designer_input *in, double *out, struct designer_info *info,
                 char *err, size_t errlen)
{
	if (!in || !in->space || in->space->n == 0 || in->count == 0) {
		snprintf(err, errlen, "GP-EI needs a space with parameters and count >= 1");
		return -1;
	}
	size_t n_obj = 0, usable = 0, first = 0;
	for (size_t k = 0; k < in->n_metrics; k++)
		if (!in->metrics[k].safety && n_obj++ == 0)
			first = k;
	for (size_t i = 0; i < in->n_completed && n_obj; i++)
		usable += !in->completed[i].infeasible && !isnan(in->completed[i].metrics[first]);
	if (n_obj == 0 || usable < initial_design(in->space->n))
		return quasirandom_suggest(in, out, info, err, errlen);
	struct work w;
	memset(&w, 0, sizeof(w));
	char why[256];
	int rc = model_suggest(in, &w, out, info, why, sizeof(why));
	work_free(&w);
	if (rc >= 0)
		return rc;
	/* The model could not be built: the quasi-random design carries on,
	 * and says so. */
	rc = quasirandom_suggest(in, out, info, err, errlen);
	if (rc > 0 && info)
		for (int b = 0; b < rc; b++)
			info[b].source = "sobol (GP model failed)";
	return rc;
}
