/* gpei: the GP-EI designer end to end on hand-built spaces: every type and
 * scale stays valid, the model takes over after the initial design,
 * batches are distinct and spread, pending trials are not repeated, the
 * same seed and history give the same answer (with pending trials too),
 * a batch of 8 over 7 pending stays spread where the model is unsure and
 * may come close to the incumbent where it is sure, under noise the
 * incumbent is the best posterior mean, infeasible trials and safety
 * metrics steer away without crashing, two objectives work, and bad input
 * gets a clear error. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "acquisition.h"
#include "gpei.h"
#include "rng.h"
#include "space_fixture.h"
#include "test.h"

#define MAXT 80

/* A study being run: its trials and the metric values. */
struct study {
	struct space *s;
	struct designer_metric metrics[3];
	size_t n_metrics;
	double vals[MAXT][16];
	double mets[MAXT][3];
	struct designer_trial tr[MAXT];
	size_t n;
	struct gp_cache *cache;
};

static struct designer_input study_input(struct study *st, size_t count, uint64_t seed)
{
	return (struct designer_input){.space = st->s,
	                               .metrics = st->metrics,
	                               .n_metrics = st->n_metrics,
	                               .completed = st->tr,
	                               .n_completed = st->n,
	                               .count = count,
	                               .seed = seed,
	                               .position = st->n,
	                               .cache = st->cache};
}

static void add_trial(struct study *st, const double *v, const double *m, int infeasible)
{
	size_t k = st->n++;
	memcpy(st->vals[k], v, st->s->n * sizeof(double));
	for (size_t j = 0; j < st->n_metrics; j++)
		st->mets[k][j] = infeasible ? NAN : m[j];
	st->tr[k] = (struct designer_trial){st->vals[k], st->mets[k], infeasible};
}

/* Smooth test objective over the unit-cube encoding (minimized). */
static double objective(const struct space *s, const double *v)
{
	double u[16], f = 0;
	space_encode(s, v, u);
	for (size_t i = 0; i < s->n; i++)
		f += (u[i] - 0.3 - 0.05 * (double)i) * (u[i] - 0.3 - 0.05 * (double)i);
	return f;
}

static void build_all_types(struct space *s)
{
	build_conditional(s); /* categorical, log double, integer, discrete; conditions */
	add_num(s, "x", SPACE_DOUBLE, SPACE_LINEAR, -2, 3);
	add_num(s, "mom", SPACE_DOUBLE, SPACE_REVERSE_LOG, 0.9, 0.9999);
	add_num(s, "batch", SPACE_INTEGER, SPACE_LOG, 8, 512);
	const double drop[] = {0.0, 0.1, 0.25, 0.5};
	add_disc(s, "drop", SPACE_LINEAR, drop, 4);
	add_num(s, "steps", SPACE_INTEGER, SPACE_LINEAR, -5, 5);
}

static void test_all_types(void)
{
	struct space s = {0};
	build_all_types(&s);
	struct study st = {.s = &s, .n_metrics = 1};
	st.metrics[0] = (struct designer_metric){DESIGNER_MINIMIZE, 0, 0};
	st.cache = gp_cache_new();
	ASSERT_TRUE(st.cache != NULL);
	int invalid = 0, model = 0, dup = 0, bad_info = 0;
	char err[256];
	for (int t = 0; t < 30; t++) {
		struct designer_input in = study_input(&st, 1, 7);
		double out[16];
		struct designer_info info;
		ASSERT_EQ_INT(gpei_suggest(&in, out, &info, err, sizeof err), 1);
		invalid += !space_valid(&s, out, NULL, 0);
		for (size_t k = 0; k < st.n; k++)
			dup += space_equal(&s, out, st.vals[k]);
		if (info.model_based) {
			model++;
			bad_info += strcmp(info.source, "gp-ei") != 0 ||
			            !isfinite(info.predicted_value) ||
			            !(info.predicted_stddev >= 0) || !isfinite(info.log_ei);
		}
		double f = objective(&s, out);
		add_trial(&st, out, &f, 0);
	}
	ASSERT_EQ_INT(invalid, 0);
	ASSERT_EQ_INT(dup, 0);
	ASSERT_EQ_INT(bad_info, 0);
	/* 9 parameters: 18 initial points, then the model */
	ASSERT_EQ_INT(model, 30 - 18);
	gp_cache_free(st.cache);
	space_free(&s);
}

static void test_learns(void)
{
	/* a 2-d bowl: after 25 trials the best is far better than the initial
	 * design's best */
	struct space s = {0};
	add_num(&s, "a", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	add_num(&s, "b", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	struct study st = {.s = &s, .n_metrics = 1};
	st.metrics[0] = (struct designer_metric){DESIGNER_MINIMIZE, 0, 0};
	double best_init = INFINITY, best = INFINITY;
	char err[256];
	for (int t = 0; t < 25; t++) {
		struct designer_input in = study_input(&st, 1, 3);
		double out[2];
		ASSERT_EQ_INT(gpei_suggest(&in, out, NULL, err, sizeof err), 1);
		double f = objective(&s, out);
		if (t < 5)
			best_init = fmin(best_init, f);
		best = fmin(best, f);
		add_trial(&st, out, &f, 0);
	}
	ASSERT_TRUE(best < 1e-3);
	ASSERT_TRUE(best < 0.1 * best_init);
	space_free(&s);
}

static void run_history(struct study *st, int n, uint64_t seed)
{
	char err[256];
	for (int t = 0; t < n; t++) {
		struct designer_input in = study_input(st, 1, seed);
		double out[16];
		gpei_suggest(&in, out, NULL, err, sizeof err);
		double f = objective(st->s, out);
		add_trial(st, out, &f, 0);
	}
}

static void test_batch_and_pending(void)
{
	struct space s = {0};
	for (int i = 0; i < 3; i++) {
		char id[8];
		snprintf(id, sizeof id, "x%d", i);
		add_num(&s, id, SPACE_DOUBLE, SPACE_LINEAR, -1, 1);
	}
	struct study st = {.s = &s, .n_metrics = 1};
	st.metrics[0] = (struct designer_metric){DESIGNER_MINIMIZE, 0, 0};
	run_history(&st, 12, 5);
	enum { B = 8 };
	double out[B * 3];
	struct designer_info info[B];
	char err[256];
	struct designer_input in = study_input(&st, B, 5);
	ASSERT_EQ_INT(gpei_suggest(&in, out, info, err, sizeof err), B);
	double mind = INFINITY;
	for (int a = 0; a < B; a++) {
		ASSERT_TRUE(info[a].model_based);
		for (int b = 0; b < a; b++) {
			double ua[3], ub[3], linf = 0;
			space_encode(&s, out + a * 3, ua);
			space_encode(&s, out + b * 3, ub);
			for (int i = 0; i < 3; i++)
				linf = fmax(linf, fabs(ua[i] - ub[i]));
			mind = fmin(mind, linf);
		}
	}
	ASSERT_TRUE(mind >= ACQ_MIN_SEP);

	/* the same point is not proposed while it is pending */
	double first[3];
	in = study_input(&st, 1, 5);
	ASSERT_EQ_INT(gpei_suggest(&in, first, NULL, err, sizeof err), 1);
	const double *pend[1] = {first};
	in.pending = pend;
	in.n_pending = 1;
	double second[3];
	ASSERT_EQ_INT(gpei_suggest(&in, second, NULL, err, sizeof err), 1);
	double u1[3], u2[3], linf = 0;
	space_encode(&s, first, u1);
	space_encode(&s, second, u2);
	for (int i = 0; i < 3; i++)
		linf = fmax(linf, fabs(u1[i] - u2[i]));
	ASSERT_TRUE(linf >= ACQ_MIN_SEP);
	space_free(&s);
}

/* Least L∞ distance (unit cube) between point a of out and the earlier
 * points of out or the pending ones. */
static double least_sep(const struct space *s, const double *out, size_t a, const double *pend,
                        size_t np)
{
	size_t d = s->n;
	double ua[16], ub[16], mind = INFINITY;
	space_encode(s, out + a * d, ua);
	for (size_t b = 0; b < a + np; b++) {
		space_encode(s, b < a ? out + b * d : pend + (b - a) * d, ub);
		double linf = 0;
		for (size_t i = 0; i < d; i++)
			linf = fmax(linf, fabs(ua[i] - ub[i]));
		mind = fmin(mind, linf);
	}
	return mind;
}

/* A big batch (the later points come from the shared candidate pool)
 * with as many pending trials (fantasized as one block): every point
 * valid, model-based, at least ACQ_MIN_SEP from the others and from the pending
 * ones, none a completed trial, and the same again for the same input. */
static void test_big_batch(void)
{
	enum { B = 64, P = 64, D = 4 };
	struct space s = {0};
	for (int i = 0; i < D; i++) {
		char id[8];
		snprintf(id, sizeof id, "x%d", i);
		add_num(&s, id, SPACE_DOUBLE, SPACE_LINEAR, -1, 1);
	}
	struct study st = {.s = &s, .n_metrics = 1};
	st.metrics[0] = (struct designer_metric){DESIGNER_MINIMIZE, 0, 0};
	run_history(&st, 30, 3);
	/* the pending trials: a batch asked for earlier */
	static double pend[P * D], out[B * D], again[B * D];
	struct designer_info info[B];
	char err[256];
	struct designer_input in = study_input(&st, P, 3);
	ASSERT_EQ_INT(gpei_suggest(&in, pend, NULL, err, sizeof err), P);
	const double *pp[P];
	for (int p = 0; p < P; p++)
		pp[p] = pend + p * D;
	in = study_input(&st, B, 4);
	in.position = st.n + P;
	in.pending = pp;
	in.n_pending = P;
	ASSERT_EQ_INT(gpei_suggest(&in, out, info, err, sizeof err), B);
	int invalid = 0, model = 0, close = 0, dup = 0;
	for (int a = 0; a < B; a++) {
		invalid += !space_valid(&s, out + a * D, NULL, 0);
		model += info[a].model_based;
		close += least_sep(&s, out, (size_t)a, pend, P) < ACQ_MIN_SEP;
		for (size_t t = 0; t < st.n; t++)
			dup += space_equal(&s, out + a * D, st.vals[t]);
	}
	ASSERT_EQ_INT(invalid, 0);
	ASSERT_EQ_INT(model, B);
	ASSERT_EQ_INT(close, 0);
	ASSERT_EQ_INT(dup, 0);
	ASSERT_EQ_INT(gpei_suggest(&in, again, NULL, err, sizeof err), B);
	ASSERT_TRUE(memcmp(out, again, sizeof out) == 0);
	space_free(&s);

	/* every parameter type: valid and distinct */
	struct space a = {0};
	build_all_types(&a);
	struct study sa = {.s = &a, .n_metrics = 1};
	sa.metrics[0] = (struct designer_metric){DESIGNER_MINIMIZE, 0, 0};
	run_history(&sa, 25, 6);
	static double outa[B * 16];
	in = study_input(&sa, B, 6);
	ASSERT_EQ_INT(gpei_suggest(&in, outa, info, err, sizeof err), B);
	invalid = close = 0;
	for (int k = 0; k < B; k++) {
		invalid += !space_valid(&a, outa + (size_t)k * a.n, NULL, 0);
		close += least_sep(&a, outa, (size_t)k, NULL, 0) < ACQ_MIN_SEP;
	}
	ASSERT_EQ_INT(invalid, 0);
	ASSERT_EQ_INT(close, 0);
	space_free(&a);
}

static void test_deterministic(void)
{
	struct space s = {0};
	build_all_types(&s);
	struct study st = {.s = &s, .n_metrics = 1};
	st.metrics[0] = (struct designer_metric){DESIGNER_MINIMIZE, 0, 0};
	run_history(&st, 20, 9);
	double a[3 * 16], b[3 * 16];
	struct designer_info ia[3], ib[3];
	char err[256];
	struct designer_input in = study_input(&st, 3, 9);
	in.cache = gp_cache_new();
	ASSERT_EQ_INT(gpei_suggest(&in, a, ia, err, sizeof err), 3);
	gp_cache_free(in.cache);
	in.cache = NULL;
	ASSERT_EQ_INT(gpei_suggest(&in, b, ib, err, sizeof err), 3);
	ASSERT_TRUE(memcmp(a, b, sizeof(double) * 3 * s.n) == 0 ||
	            (space_equal(&s, a, b) && space_equal(&s, a + s.n, b + s.n) &&
	             space_equal(&s, a + 2 * s.n, b + 2 * s.n)));
	ASSERT_EQ_DBL(ia[0].log_ei, ib[0].log_ei, 0.0);
	/* another seed gives another point */
	in.seed = 10;
	ASSERT_EQ_INT(gpei_suggest(&in, b, NULL, err, sizeof err), 3);
	ASSERT_TRUE(!space_equal(&s, a, b));
	space_free(&s);
}

/* The same seed, history and pending trials give the same batch, with a
 * cache or without, and a different pending set gives another batch. */
static void test_deterministic_pending(void)
{
	struct space s = {0};
	build_all_types(&s);
	struct study st = {.s = &s, .n_metrics = 1};
	st.metrics[0] = (struct designer_metric){DESIGNER_MINIMIZE, 0, 0};
	run_history(&st, 20, 11);
	enum { P = 6, B = 3 };
	static double pend[P * 16], a[B * 16], b[B * 16];
	char err[256];
	struct designer_input in = study_input(&st, P, 12);
	ASSERT_EQ_INT(gpei_suggest(&in, pend, NULL, err, sizeof err), P);
	const double *pp[P];
	for (int p = 0; p < P; p++)
		pp[p] = pend + p * s.n;
	in = study_input(&st, B, 11);
	in.position = st.n + P;
	in.pending = pp;
	in.n_pending = P;
	in.cache = gp_cache_new();
	ASSERT_EQ_INT(gpei_suggest(&in, a, NULL, err, sizeof err), B);
	gp_cache_free(in.cache);
	in.cache = NULL;
	ASSERT_EQ_INT(gpei_suggest(&in, b, NULL, err, sizeof err), B);
	int same = 1;
	for (int k = 0; k < B; k++)
		same = same && space_equal(&s, a + k * s.n, b + k * s.n);
	ASSERT_TRUE(same);
	in.n_pending = P - 2;
	ASSERT_EQ_INT(gpei_suggest(&in, b, NULL, err, sizeof err), B);
	ASSERT_TRUE(!space_equal(&s, a, b));
	space_free(&s);
}

/* A batch of 8 on top of 7 pending trials (a study of 8 workers): where
 * the model is unsure (8 trials) the points stay spread (mean L∞ distance
 * to the nearest other batch point >= 0.2); where it is sure (60 trials,
 * the optimum found) they come closer together and one refines near the
 * incumbent (within 0.15); never closer than ACQ_MIN_SEP to each other or to a
 * pending point. */
static void test_batch_spread_or_close(void)
{
	enum { D = 3, P = 7, B = 8 };
	struct space s = {0};
	for (int i = 0; i < D; i++) {
		char id[8];
		snprintf(id, sizeof id, "x%d", i);
		add_num(&s, id, SPACE_DOUBLE, SPACE_LINEAR, -1, 1);
	}
	double nn_unsure = 0;
	for (int sure = 0; sure < 2; sure++) {
		struct study st = {.s = &s, .n_metrics = 1};
		st.metrics[0] = (struct designer_metric){DESIGNER_MINIMIZE, 0, 0};
		run_history(&st, sure ? 60 : 8, 21);
		static double pend[P * D], out[B * D];
		char err[256];
		struct designer_input in = study_input(&st, P, 22);
		ASSERT_EQ_INT(gpei_suggest(&in, pend, NULL, err, sizeof err), P);
		const double *pp[P];
		for (int p = 0; p < P; p++)
			pp[p] = pend + p * D;
		in = study_input(&st, B, 21);
		in.position = st.n + P;
		in.pending = pp;
		in.n_pending = P;
		ASSERT_EQ_INT(gpei_suggest(&in, out, NULL, err, sizeof err), B);
		/* the least distance between two points of the batch or to a
		 * pending one, and from the batch to the best trial */
		size_t ib = 0;
		for (size_t t = 1; t < st.n; t++)
			if (st.mets[t][0] < st.mets[ib][0])
				ib = t;
		double ui[D], sep = INFINITY, to_inc = INFINITY, nn = 0;
		space_encode(&s, st.vals[ib], ui);
		for (int a = 0; a < B; a++) {
			double ua[D], linf = 0;
			space_encode(&s, out + a * D, ua);
			for (int i = 0; i < D; i++)
				linf = fmax(linf, fabs(ua[i] - ui[i]));
			to_inc = fmin(to_inc, linf);
			sep = fmin(sep, least_sep(&s, out, (size_t)a, pend, P));
			double m = INFINITY;
			for (int b = 0; b < B; b++) {
				double ub[D], l = 0;
				space_encode(&s, out + b * D, ub);
				for (int i = 0; i < D && b != a; i++)
					l = fmax(l, fabs(ua[i] - ub[i]));
				if (b != a)
					m = fmin(m, l);
			}
			nn += m / B;
		}
		/* never closer than ACQ_MIN_SEP to another batch or pending point */
		ASSERT_TRUE(sep >= ACQ_MIN_SEP);
		if (!sure) {
			ASSERT_TRUE(nn >= 0.2);
			nn_unsure = nn;
		} else {
			ASSERT_TRUE(nn < nn_unsure);
			ASSERT_TRUE(to_inc < 0.15);
		}
	}
	space_free(&s);
}

/* Under noise the incumbent is the best posterior mean, not the luckiest
 * observation: one trial far from the optimum got a lucky observation
 * far below every other; the recommendation (and the incumbent the
 * suggestion says it used) is elsewhere, at a trial whose true value is
 * better. Without noise (and observationNoise not HIGH) the observation
 * stands. */
static void test_noisy_incumbent(void)
{
	struct space s = {0};
	add_num(&s, "x", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	add_num(&s, "y", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	struct study st = {.s = &s, .n_metrics = 1};
	st.metrics[0] = (struct designer_metric){DESIGNER_MINIMIZE, 0, 0};
	struct rng r;
	rng_seed(&r, 5, 0);
	/* 24 random trials, 10 near the optimum (0.4, 0.5), 6 near (0.75,
	 * 0.75), noise sd 0.1; trial 17, near (0.75, 0.75), observed 4.5 sd too
	 * low: its neighbours say it was luck */
	double truth[MAXT];
	for (int t = 0; t < 40; t++) {
		double v[2] = {rng_uniform(&r), rng_uniform(&r)};
		double cx = t >= 30 ? 0.4 : 0.75, cy = t >= 30 ? 0.5 : 0.75;
		if (t >= 30 || (t >= 12 && t < 18)) {
			v[0] = cx + 0.1 * (rng_uniform(&r) - 0.5);
			v[1] = cy + 0.1 * (rng_uniform(&r) - 0.5);
		}
		truth[t] = (v[0] - 0.4) * (v[0] - 0.4) + (v[1] - 0.5) * (v[1] - 0.5);
		double f = truth[t] + 0.1 * rng_normal(&r);
		if (t == 17)
			f = truth[t] - 0.45; /* the lucky one */
		add_trial(&st, v, &f, 0);
	}
	size_t lucky = 0;
	for (size_t t = 1; t < st.n; t++)
		if (st.mets[t][0] < st.mets[lucky][0])
			lucky = t;
	ASSERT_EQ_INT(lucky, 17);
	char err[256];
	size_t idx = 99;
	int post = -1;
	struct designer_input in = study_input(&st, 1, 5);
	in.noise_high = 1;
	ASSERT_EQ_INT(gpei_recommend(&in, &idx, &post, err, sizeof err), 0);
	ASSERT_EQ_INT(post, 1);
	ASSERT_TRUE(idx < st.n && idx != 17);
	ASSERT_TRUE(idx < st.n && truth[idx] < truth[17]);
	double out[2], again[2];
	struct designer_info info;
	ASSERT_EQ_INT(gpei_suggest(&in, out, &info, err, sizeof err), 1);
	ASSERT_EQ_STR(info.incumbent, "POSTERIOR_MEAN");
	/* asking for the recommendation leaves the study's cache alone: the
	 * next suggestion is the one it would have been */
	in.cache = gp_cache_new();
	ASSERT_EQ_INT(gpei_recommend(&in, &idx, &post, err, sizeof err), 0);
	ASSERT_EQ_INT(gpei_suggest(&in, again, NULL, err, sizeof err), 1);
	gp_cache_free(in.cache);
	in.cache = gp_cache_new();
	ASSERT_EQ_INT(gpei_suggest(&in, out, NULL, err, sizeof err), 1);
	gp_cache_free(in.cache);
	in.cache = NULL;
	ASSERT_TRUE(space_equal(&s, out, again));

	/* noise-free observations, nothing said: the best observation */
	struct study clean = {.s = &s, .n_metrics = 1};
	clean.metrics[0] = st.metrics[0];
	for (int t = 0; t < 40; t++)
		add_trial(&clean, st.vals[t], &truth[t], 0);
	in = study_input(&clean, 1, 5);
	ASSERT_EQ_INT(gpei_recommend(&in, &idx, &post, err, sizeof err), 0);
	ASSERT_EQ_INT(post, 0);
	ASSERT_EQ_INT(gpei_suggest(&in, out, &info, err, sizeof err), 1);
	ASSERT_EQ_STR(info.incumbent, "OBSERVED");
	space_free(&s);
}

static void test_infeasible_and_safety(void)
{
	/* x0 > 0.5 fails; metric 2 is a safety metric that must stay <= 0.5
	 * and is above it when x1 > 0.6 */
	struct space s = {0};
	add_num(&s, "x0", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	add_num(&s, "x1", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	struct study st = {.s = &s, .n_metrics = 2};
	st.metrics[0] = (struct designer_metric){DESIGNER_MAXIMIZE, 0, 0};
	st.metrics[1] = (struct designer_metric){DESIGNER_MINIMIZE, 1, 0.5};
	char err[256];
	int late_bad = 0;
	for (int t = 0; t < 30; t++) {
		struct designer_input in = study_input(&st, 1, 4);
		double out[2];
		struct designer_info info;
		ASSERT_EQ_INT(gpei_suggest(&in, out, &info, err, sizeof err), 1);
		ASSERT_TRUE(space_valid(&s, out, NULL, 0));
		int infeasible = out[0] > 0.5;
		/* the best point (0.4, 0.45) is feasible and safe, near both
		 * boundaries */
		double m[2] = {-(out[0] - 0.4) * (out[0] - 0.4) - (out[1] - 0.45) * (out[1] - 0.45),
		               out[1] - 0.1};
		if (t >= 18)
			late_bad += infeasible || m[1] > 0.5;
		add_trial(&st, out, m, infeasible);
	}
	/* after the model has seen the failures, most points are feasible and
	 * safe; random points would be bad 70% of the time */
	ASSERT_TRUE(late_bad <= 3);
	/* every trial infeasible: still answers */
	struct study all = {.s = &s, .n_metrics = 1};
	all.metrics[0] = (struct designer_metric){DESIGNER_MINIMIZE, 0, 0};
	for (int t = 0; t < 10; t++) {
		double v[2] = {0.1 * t, 0.05 * t}, m = 0;
		add_trial(&all, v, &m, 1);
	}
	struct designer_input in = study_input(&all, 2, 1);
	double out[4];
	struct designer_info info[2];
	ASSERT_EQ_INT(gpei_suggest(&in, out, info, err, sizeof err), 2);
	ASSERT_TRUE(space_valid(&s, out, NULL, 0) && space_valid(&s, out + 2, NULL, 0));
	ASSERT_EQ_INT(info[0].model_based, 0);
	space_free(&s);
}

static void test_two_objectives(void)
{
	struct space s = {0};
	add_num(&s, "x", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	add_num(&s, "y", SPACE_DOUBLE, SPACE_LOG, 1e-3, 1);
	add_cat(&s, "c", 3);
	struct study st = {.s = &s, .n_metrics = 2};
	st.metrics[0] = (struct designer_metric){DESIGNER_MINIMIZE, 0, 0};
	st.metrics[1] = (struct designer_metric){DESIGNER_MAXIMIZE, 0, 0};
	char err[256];
	int model = 0;
	for (int t = 0; t < 20; t++) {
		struct designer_input in = study_input(&st, 1, 2);
		double out[3];
		struct designer_info info;
		ASSERT_EQ_INT(gpei_suggest(&in, out, &info, err, sizeof err), 1);
		ASSERT_TRUE(space_valid(&s, out, NULL, 0));
		model += info.model_based;
		if (info.model_based) /* in the first objective's units: about [0, 1.2] */
			ASSERT_TRUE(info.predicted_value > -1 && info.predicted_value < 3);
		double m[2] = {out[0] * out[0] + 0.1 * out[2], 1 - (out[0] - 1) * (out[0] - 1)};
		add_trial(&st, out, m, 0);
	}
	ASSERT_EQ_INT(model, 14); /* 3 parameters: 6 initial points */
	space_free(&s);
}

static void test_small_space_no_duplicates(void)
{
	/* 12 points in all: every suggestion is new until the space is used up */
	struct space s = {0};
	add_num(&s, "n", SPACE_INTEGER, SPACE_LINEAR, 1, 4);
	add_cat(&s, "c", 3);
	struct study st = {.s = &s, .n_metrics = 1};
	st.metrics[0] = (struct designer_metric){DESIGNER_MINIMIZE, 0, 0};
	char err[256];
	int dup = 0;
	for (int t = 0; t < 12; t++) {
		struct designer_input in = study_input(&st, 1, 8);
		double out[2];
		ASSERT_EQ_INT(gpei_suggest(&in, out, NULL, err, sizeof err), 1);
		for (size_t k = 0; k < st.n; k++)
			dup += space_equal(&s, out, st.vals[k]);
		double f = (out[0] - 3) * (out[0] - 3) + out[1];
		add_trial(&st, out, &f, 0);
	}
	ASSERT_EQ_INT(dup, 0);
	space_free(&s);
}

static void test_bad_input(void)
{
	struct space s = {0};
	add_num(&s, "x", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	struct study st = {.s = &s, .n_metrics = 1};
	st.metrics[0] = (struct designer_metric){DESIGNER_MINIMIZE, 0, 0};
	char err[256] = "";
	double out[2] = {-7, -7};
	struct designer_input in = study_input(&st, 0, 1);
	ASSERT_EQ_INT(gpei_suggest(&in, out, NULL, err, sizeof err), -1);
	ASSERT_EQ_STR(err, "GP-EI needs a space with parameters and count >= 1");
	ASSERT_EQ_DBL(out[0], -7, 0.0); /* nothing written */
	struct space empty = {0};
	in = study_input(&st, 1, 1);
	in.space = &empty;
	ASSERT_EQ_INT(gpei_suggest(&in, out, NULL, err, sizeof err), -1);
	gp_cache_free(NULL);
	space_free(&s);
}

int main(void)
{
	gsl_set_error_handler_off();
	test_all_types();
	test_learns();
	test_batch_and_pending();
	test_big_batch();
	test_deterministic();
	test_deterministic_pending();
	test_batch_spread_or_close();
	test_noisy_incumbent();
	test_infeasible_and_safety();
	test_two_objectives();
	test_small_space_no_duplicates();
	test_bad_input();
	return test_done("gpei");
}
