/* bench_designer: an in-process quality benchmark of the designers, for
 * fast iteration on the GP-EI algorithm (the over-HTTP benchmark is
 * bench/quality.py). Protocol of docs/benchmarks.md (quality): per problem,
 * algorithm and seed, 60 trials suggested one at a time; report the median
 * over seeds of log10(best − optimum) (floor 1e-12) and the median
 * milliseconds per suggestion.
 *
 *   bench_designer [-s seeds] [-n trials] [-p name[,name...]] [-a gp,random,sobol] [-v]
 *   bench_designer -l [-I K] (latency at 50, 300, 1000, 5000 completed trials;
 *                          with -I, K infeasible trials more, timed in CPU
 *                          ms of the calling thread, warm = median of 15
 *                          calls at 15 positions; -I 0 for the same
 *                          timing without them)
 *   bench_designer -B SIZE (quality runs asking SIZE points per call, each
 *                          batch evaluated before the next; ms per call)
 *   bench_designer -W N    (GP-EI quality runs with N asynchronous workers,
 *                          simulated: uneven evaluation times, each new
 *                          point asked with the others pending)
 *   bench_designer -t K    (also the median regret after K trials)
 *   bench_designer -b COUNT [-P PENDING] [-n COMPLETED]
 *                          (one batch: COUNT points wanted with PENDING
 *                          pending trials on the hartmann6 space, n = 300
 *                          completed by default: cold and warm ms)
 *
 * Run it from a release build with OPENBLAS_NUM_THREADS=1 (OpenBLAS threads
 * only add overhead at these matrix sizes).
 * The six public problems are re-implemented here, plus extras chosen so
 * that tuning does not overfit them: Styblinski-Tang 8-d, noisy
 * Hartmann-6, Branin and mixed_ml (the noise levels of bench/quality.py
 * --noise default; regret measured on the noise-free function at the trial
 * GP-EI recommends, as listOptimalTrials does, else the trial with the best
 * observed value), an integer/categorical mix, a 20-d weighted
 * sphere with an offset optimum, a MAXIMIZE problem with log-scale
 * parameters, and a problem with failed (infeasible) regions. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_errno.h>

#include "designer.h"
#include "gpei.h"
#include "rng.h"
#include "space.h"

#define MAXD 32

struct problem {
	const char *name;
	void (*build)(struct space *s);
	double (*f)(const double *v, int *infeasible);
	double optimum;
	int maximize;
	double noise; /* sd of Gaussian noise added to the observed value */
	double ref;   /* best reference figure (bench/reference.json), NAN if none */
};

static char *dupstr(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static void add_double(struct space *s, const char *id, double lo, double hi, enum space_scale sc)
{
	struct space_param *p = space_add(s);
	p->id = dupstr(id);
	p->type = SPACE_DOUBLE;
	p->scale = sc;
	p->min = lo;
	p->max = hi;
	p->parent = -1;
	p->default_value = NAN;
}

static void add_int(struct space *s, const char *id, double lo, double hi, enum space_scale sc)
{
	add_double(s, id, lo, hi, sc);
	s->params[s->n - 1].type = SPACE_INTEGER;
}

static void add_cat(struct space *s, const char *id, int k)
{
	struct space_param *p = space_add(s);
	p->id = dupstr(id);
	p->type = SPACE_CATEGORICAL;
	p->scale = SPACE_LINEAR;
	p->n_categories = (size_t)k;
	p->categories = calloc((size_t)k, sizeof(char *));
	for (int i = 0; i < k; i++) {
		char b[16];
		snprintf(b, sizeof(b), "c%d", i);
		p->categories[i] = dupstr(b);
	}
	p->min = 0;
	p->max = k - 1;
	p->parent = -1;
	p->default_value = NAN;
}

static void box(struct space *s, int d, double lo, double hi)
{
	for (int i = 0; i < d; i++) {
		char id[8];
		snprintf(id, sizeof(id), "x%d", i + 1);
		add_double(s, id, lo, hi, SPACE_LINEAR);
	}
}

static void b_branin(struct space *s)
{
	add_double(s, "x1", -5, 10, SPACE_LINEAR);
	add_double(s, "x2", 0, 15, SPACE_LINEAR);
}
static double f_branin(const double *x, int *inf)
{
	(void)inf;
	double b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, t = 1 / (8 * M_PI);
	double a = x[1] - b * x[0] * x[0] + c * x[0] - 6;
	return a * a + 10 * (1 - t) * cos(x[0]) + 10;
}

static const double H6A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                 {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
static const double H6P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                 {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                 {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                 {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
static const double H6AL[4] = {1.0, 1.2, 3.0, 3.2};
static void b_h6(struct space *s)
{
	box(s, 6, 0, 1);
}
static double f_h6(const double *x, int *inf)
{
	(void)inf;
	double r = 0;
	for (int i = 0; i < 4; i++) {
		double e = 0;
		for (int j = 0; j < 6; j++)
			e += H6A[i][j] * (x[j] - H6P[i][j]) * (x[j] - H6P[i][j]);
		r -= H6AL[i] * exp(-e);
	}
	return r;
}

static void b_ackley5(struct space *s)
{
	box(s, 5, -32.768, 32.768);
}
static double f_ackley5(const double *x, int *inf)
{
	(void)inf;
	double s1 = 0, s2 = 0;
	for (int i = 0; i < 5; i++) {
		s1 += x[i] * x[i];
		s2 += cos(2 * M_PI * x[i]);
	}
	return -20 * exp(-0.2 * sqrt(s1 / 5)) - exp(s2 / 5) + 20 + M_E;
}

static void b_rosen4(struct space *s)
{
	box(s, 4, -5, 10);
}
static double f_rosen4(const double *x, int *inf)
{
	(void)inf;
	double r = 0;
	for (int i = 0; i < 3; i++)
		r += 100 * pow(x[i + 1] - x[i] * x[i], 2) + pow(1 - x[i], 2);
	return r;
}

static void b_levy10(struct space *s)
{
	box(s, 10, -10, 10);
}
static double f_levy10(const double *x, int *inf)
{
	(void)inf;
	double w[10];
	for (int i = 0; i < 10; i++)
		w[i] = 1 + (x[i] - 1) / 4;
	double s = pow(sin(M_PI * w[0]), 2);
	for (int i = 0; i < 9; i++)
		s += pow(w[i] - 1, 2) * (1 + 10 * pow(sin(M_PI * w[i] + 1), 2));
	s += pow(w[9] - 1, 2) * (1 + pow(sin(2 * M_PI * w[9]), 2));
	return s;
}

static void b_mixed(struct space *s)
{
	add_double(s, "lr", 1e-5, 1, SPACE_LOG);
	add_double(s, "weight_decay", 1e-7, 1e-1, SPACE_LOG);
	add_int(s, "layers", 1, 8, SPACE_LINEAR);
	add_int(s, "width", 16, 1024, SPACE_LOG);
	add_cat(s, "optimizer", 3); /* sgd, adam, rmsprop */
}
static double f_mixed(const double *x, int *inf)
{
	(void)inf;
	static const double best_lr[3] = {3e-2, 3e-4, 1e-3}, pen[3] = {0.01, 0.0, 0.02};
	int o = (int)x[4];
	double loss = 0.15 + 0.08 * pow(log10(x[0]) - log10(best_lr[o]), 2);
	loss += 0.02 * pow(log10(x[1]) + 4, 2);
	loss += 0.01 * pow(x[2] - 4, 2) + 0.03 * pow(log2(x[3]) - 7, 2);
	return loss + pen[o];
}

/* extras */
static void b_styb8(struct space *s)
{
	box(s, 8, -5, 5);
}
static double f_styb8(const double *x, int *inf)
{
	(void)inf;
	double r = 0;
	for (int i = 0; i < 8; i++)
		r += 0.5 * (pow(x[i], 4) - 16 * x[i] * x[i] + 5 * x[i]);
	return r;
}

/* integers and categories: 3 categorical, 3 integer, 2 double */
static void b_intcat(struct space *s)
{
	add_cat(s, "a", 4);
	add_cat(s, "b", 3);
	add_cat(s, "c", 2);
	add_int(s, "n1", 0, 20, SPACE_LINEAR);
	add_int(s, "n2", 1, 100, SPACE_LOG);
	add_int(s, "n3", -3, 3, SPACE_LINEAR);
	add_double(s, "x", 0, 1, SPACE_LINEAR);
	add_double(s, "y", -2, 2, SPACE_LINEAR);
}
static double f_intcat(const double *x, int *inf)
{
	(void)inf;
	static const double ca[4] = {0.3, 0.0, 0.5, 0.2}, cb[3] = {0.1, 0.25, 0.0},
	                    cc[2] = {0.2, 0};
	int a = (int)x[0], b = (int)x[1], c = (int)x[2];
	double r = ca[a] + cb[b] + cc[c];
	/* interactions: the best n1 depends on a */
	r += 0.01 * pow(x[3] - (a == 1 ? 13 : 6), 2);
	r += 0.2 * pow(log(x[4]) - log(30), 2);
	r += 0.05 * pow(x[5] - 1, 2);
	r += pow(x[6] - 0.7, 2) + 0.5 * pow(x[7] + 0.4 * (b == 2 ? 1 : -1), 2);
	return r;
}

static void b_sphere20(struct space *s)
{
	box(s, 20, -1, 1);
}
static double f_sphere20(const double *x, int *inf)
{
	(void)inf;
	double r = 0;
	for (int i = 0; i < 20; i++) {
		double c = 0.3 * sin(1.7 * i + 0.4);
		r += (1.0 + i % 5) * (x[i] - c) * (x[i] - c);
	}
	return r;
}

/* MAXIMIZE with log-scale doubles: an accuracy-like surface */
static void b_acc(struct space *s)
{
	add_double(s, "lr", 1e-6, 1e-1, SPACE_LOG);
	add_double(s, "dropout", 0, 0.8, SPACE_LINEAR);
	add_double(s, "momentum", 0.5, 0.999, SPACE_REVERSE_LOG);
	add_int(s, "batch", 8, 512, SPACE_LOG);
}
static double f_acc(const double *x, int *inf)
{
	(void)inf;
	double a = 0.95 - 0.05 * pow(log10(x[0]) + 3.3, 2) - 0.3 * pow(x[1] - 0.25, 2);
	a -= 0.02 * pow(log10(1 - x[2]) + 1.7, 2) + 0.01 * pow(log2(x[3]) - 6, 2);
	return a;
}

/* failed trials in a region: the optimum lies next to it */
static void b_fail(struct space *s)
{
	box(s, 3, 0, 1);
}
static double f_fail(const double *x, int *inf)
{
	if (x[0] + x[1] > 1.2) {
		*inf = 1;
		return NAN;
	}
	double r = pow(x[0] - 0.7, 2) + pow(x[1] - 0.5, 2) + 0.5 * pow(x[2] - 0.3, 2);
	return r;
}

static struct problem problems[] = {
    {"branin", b_branin, f_branin, 0.397887357729739, 0, 0, -3.65},
    {"hartmann6", b_h6, f_h6, -3.32236801141551, 0, 0, -1.39},
    {"ackley5", b_ackley5, f_ackley5, 0, 0, 0, 0.40},
    {"rosenbrock4", b_rosen4, f_rosen4, 0, 0, 0, 2.21},
    {"levy10", b_levy10, f_levy10, 0, 0, 0, 1.01},
    {"mixed_ml", b_mixed, f_mixed, 0.15, 0, 0, -5.79},
    {"styblinski8", b_styb8, f_styb8, -39.16616570377142 * 8, 0, 0, NAN},
    {"hartmann6_noisy", b_h6, f_h6, -3.32236801141551, 0, 0.1, NAN},
    {"branin_noisy", b_branin, f_branin, 0.397887357729738, 0, 2.0, NAN},
    {"mixed_ml_noisy", b_mixed, f_mixed, 0.15, 0, 0.01, NAN},
    {"intcat8", b_intcat, f_intcat, 0.0, 0, 0, NAN},
    {"sphere20", b_sphere20, f_sphere20, 0.0, 0, 0, NAN},
    {"acc_max4", b_acc, f_acc, 0.95, 1, 0, NAN},
    {"failregion3", b_fail, f_fail, 0.0, 0, 0, NAN},
};
#define NPROB (sizeof(problems) / sizeof(problems[0]))

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_dbl);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Under noise the score is the true value (ftrue, minimized) of the trial
 * the service's listOptimalTrials would return: GP-EI's recommendation
 * (best posterior mean) when it gives one, else the best observation
 * (fallback: the true value of the trial with the best observation). */
static double recommended(const struct problem *p, const struct space *s,
                          const struct designer_metric *m, const struct designer_trial *tr,
                          const double *ftrue, size_t n, uint64_t seed, struct gp_cache *cache,
                          double fallback)
{
	struct designer_input in = {.space = s,
	                            .metrics = m,
	                            .n_metrics = 1,
	                            .completed = tr,
	                            .n_completed = n,
	                            .count = 1,
	                            .seed = seed,
	                            .position = (uint64_t)n,
	                            .noise_high = p->noise > 0,
	                            .cache = cache};
	size_t idx = 0;
	int post = 0;
	char err[256];
	if (gpei_recommend(&in, &idx, &post, err, sizeof(err)) == 0 && post && idx < n)
		return ftrue[idx];
	return fallback;
}

/* One run: returns log10 regret; *ms is set to the median ms per suggestion. */
static int batch_size = 1;  /* -B: points per designer call in the quality runs */
static int n_workers = 1;   /* -W: asynchronous workers in the quality runs */
static int at_trials = 0;   /* -t: also report the regret after this many trials */
static double reg_at[1000]; /* per seed: log10 regret after at_trials */

/* W asynchronous workers, simulated: each evaluation takes 0.2 + U(0, 1)
 * time units; when one ends its trial is completed and that worker asks
 * for the next point with the others' points pending, until n trials.
 * The regret is that of the best value evaluated (noise-free), after n. */
static double run_async(const struct problem *p, uint64_t seed, int n, double *ms, double *at)
{
	struct space s = {0};
	p->build(&s);
	size_t d = s.n, W = (size_t)n_workers;
	struct designer_metric m = {p->maximize ? DESIGNER_MAXIMIZE : DESIGNER_MINIMIZE, 0, 0};
	double *vals = calloc((size_t)n * d, sizeof(double));
	double *done_vals = calloc((size_t)n * d, sizeof(double));
	double *mets = calloc((size_t)n, sizeof(double));
	double *times = calloc((size_t)n, sizeof(double));
	double *fin = calloc(W, sizeof(double));
	int *slot = calloc(W, sizeof(int)); /* trial index each worker runs */
	struct designer_trial *tr = calloc((size_t)n, sizeof(*tr));
	const double **pend = calloc(W, sizeof(*pend));
	struct gp_cache *cache = gp_cache_new();
	struct rng nr;
	rng_seed(&nr, seed, 4242);
	double best = INFINITY, clock = 0.0;
	char err[256];
	int handed = 0, completed = 0;
	*at = NAN;
	for (size_t w = 0; w < W; w++)
		fin[w] = -1.0;
	while (completed < n) {
		/* hand out to every idle worker (fin < 0), one call each */
		for (size_t w = 0; w < W && handed < n; w++) {
			if (fin[w] >= 0.0)
				continue;
			{
				size_t np = 0;
				for (size_t o = 0; o < W; o++)
					if (o != w && fin[o] >= 0.0)
						pend[np++] = vals + (size_t)slot[o] * d;
				struct designer_input in = {.space = &s,
				                            .metrics = &m,
				                            .n_metrics = 1,
				                            .completed = tr,
				                            .n_completed = (size_t)completed,
				                            .pending = pend,
				                            .n_pending = np,
				                            .count = 1,
				                            .seed = seed,
				                            .position = (uint64_t)handed,
				                            .noise_high = p->noise > 0,
				                            .cache = cache};
				double t0 = now_ms();
				int rc =
				    designer_suggest(DESIGNER_GP_EI, &in, vals + (size_t)handed * d,
				                     NULL, err, sizeof(err));
				times[handed] = now_ms() - t0;
				if (rc != 1) {
					fprintf(stderr, "%s seed %llu async: %s\n", p->name,
					        (unsigned long long)seed, err);
					exit(1);
				}
				slot[w] = handed++;
				fin[w] = clock + 0.2 + rng_uniform(&nr);
			}
		}
		/* the next evaluation to end */
		size_t nx = W;
		for (size_t w = 0; w < W; w++)
			if (fin[w] >= 0.0 && (nx == W || fin[w] < fin[nx]))
				nx = w;
		if (nx == W)
			break;
		clock = fin[nx];
		fin[nx] = -1.0;
		const double *v = vals + (size_t)slot[nx] * d;
		int inf = 0;
		double f = p->f(v, &inf);
		memcpy(done_vals + (size_t)completed * d, v, d * sizeof(double));
		mets[completed] = inf ? NAN : f;
		tr[completed] = (struct designer_trial){done_vals + (size_t)completed * d,
		                                        &mets[completed], inf};
		completed++;
		double o = p->maximize ? -f : f;
		if (!inf && o < best)
			best = o;
		if (completed == at_trials)
			*at = best;
	}
	double opt = p->maximize ? -p->optimum : p->optimum;
	if (isfinite(*at))
		*at = log10(fmax(*at - opt, 1e-12));
	*ms = median(times, handed);
	space_free(&s);
	free(vals);
	free(done_vals);
	free(mets);
	free(times);
	free(fin);
	free(slot);
	free(tr);
	free(pend);
	gp_cache_free(cache);
	return log10(fmax(best - opt, 1e-12));
}

static double run(const struct problem *p, enum designer_algorithm alg, uint64_t seed, int n,
                  double *ms, int verbose)
{
	struct space s = {0};
	p->build(&s);
	size_t d = s.n;
	struct designer_metric m = {p->maximize ? DESIGNER_MAXIMIZE : DESIGNER_MINIMIZE, 0, 0};
	double *vals = calloc((size_t)n * d, sizeof(double));
	double *mets = calloc((size_t)n, sizeof(double));
	double *times = calloc((size_t)n, sizeof(double));
	struct designer_trial *tr = calloc((size_t)n, sizeof(*tr));
	struct gp_cache *cache = gp_cache_new();
	struct rng nr;
	rng_seed(&nr, seed, 999);
	double best_obs = INFINITY, best_true = NAN;
	double *ftrue = calloc((size_t)n, sizeof(double));
	char err[256];
	struct designer_info binfo[64];
	for (int t = 0; t < n; t++) {
		if (batch_size > 1 && t % batch_size == 0) {
			/* a batch: the next points at once, each evaluated below */
			int cnt = n - t < batch_size ? n - t : batch_size;
			struct designer_input in = {.space = &s,
			                            .metrics = &m,
			                            .n_metrics = 1,
			                            .completed = tr,
			                            .n_completed = (size_t)t,
			                            .count = (size_t)cnt,
			                            .seed = seed,
			                            .position = (uint64_t)t,
			                            .noise_high = p->noise > 0,
			                            .cache = cache};
			double t0 = now_ms();
			int rc = designer_suggest(alg, &in, vals + (size_t)t * d, binfo, err,
			                          sizeof(err));
			times[t] = now_ms() - t0;
			if (rc != cnt) {
				fprintf(stderr, "%s seed %llu batch at %d: %s\n", p->name,
				        (unsigned long long)seed, t, err);
				exit(1);
			}
		}
		if (batch_size > 1) {
			if (t % batch_size)
				times[t] = 0.0;
			goto evaluate;
		}
		struct designer_input in = {0};
		in.space = &s;
		in.metrics = &m;
		in.n_metrics = 1;
		in.completed = tr;
		in.n_completed = (size_t)t;
		in.count = 1;
		in.seed = seed;
		in.position = (uint64_t)t;
		in.noise_high = p->noise > 0;
		in.cache = cache;
		struct designer_info info = {0};
		double t0 = now_ms();
		int rc = designer_suggest(alg, &in, vals + (size_t)t * d, &info, err, sizeof(err));
		times[t] = now_ms() - t0;
		if (rc != 1) {
			fprintf(stderr, "%s seed %llu trial %d: %s\n", p->name,
			        (unsigned long long)seed, t, err);
			exit(1);
		}
	evaluate:;
		int inf = 0;
		double f = p->f(vals + (size_t)t * d, &inf);
		double obs = inf ? NAN : f + p->noise * rng_normal(&nr);
		mets[t] = obs;
		ftrue[t] = p->maximize ? -f : f;
		tr[t].values = vals + (size_t)t * d;
		tr[t].metrics = &mets[t];
		tr[t].infeasible = inf;
		double o = p->maximize ? -obs : obs;
		if (!inf && o < best_obs) {
			best_obs = o;
			best_true = p->maximize ? -f : f;
		}
		if (alg == DESIGNER_GP_EI && p->noise > 0 && (t + 1 == at_trials || t + 1 == n))
			best_true = recommended(p, &s, &m, tr, ftrue, (size_t)t + 1, seed, cache,
			                        best_true);
		if (t + 1 == at_trials)
			reg_at[seed % 1000] = log10(
			    fmax(best_true - (p->maximize ? -p->optimum : p->optimum), 1e-12));
		if (verbose && batch_size == 1)
			fprintf(stderr,
			        "%s t=%d src=%s f=%.6g best=%.6g pred=%.4g sd=%.3g ms=%.1f\n",
			        p->name, t, info.source, f, best_true, info.predicted_value,
			        info.predicted_stddev, times[t]);
	}
	double opt = p->maximize ? -p->optimum : p->optimum;
	double reg = isfinite(best_true) ? best_true - opt : INFINITY;
	if (batch_size > 1) { /* mean per designer call */
		double sum = 0.0;
		for (int t = 0; t < n; t++)
			sum += times[t];
		*ms = sum / (double)((n + batch_size - 1) / batch_size);
	} else {
		*ms = median(times, n);
	}
	space_free(&s);
	free(vals);
	free(mets);
	free(times);
	free(tr);
	free(ftrue);
	gp_cache_free(cache);
	return log10(fmax(reg, 1e-12));
}

/* Latency: a 6-d study (the hartmann6 space) with n imported trials; the
 * first suggestion fits the model (cold), the next ones reuse the cache's
 * hyperparameters as a running service does. */
/* CPU time of this thread in ms: unlike the wall clock, not inflated by
 * other jobs on a shared machine. */
static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int lat_infeasible = 0; /* -I: infeasible trials added in the latency run */
static int lat_cpu = 0;        /* -I given: time in CPU ms */

static void latency(void)
{
	static const size_t sizes[] = {50, 300, 1000, 5000};
	printf("latency on the hartmann6 space: ms per suggestion (cold = first, with the fit; "
	       "warm = median of %s more)%s\n%8s %10s %10s\n",
	       lat_cpu ? "15" : "5", lat_cpu ? "; CPU ms of the calling thread" : "", "n", "cold",
	       "warm");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k] + (size_t)lat_infeasible;
		struct space s = {0};
		b_h6(&s);
		struct designer_metric m = {DESIGNER_MINIMIZE, 0, 0};
		double *vals = malloc(n * 6 * sizeof(double)), *mets = malloc(n * sizeof(double));
		struct designer_trial *tr = calloc(n, sizeof(*tr));
		struct rng r;
		rng_seed(&r, 42, n);
		for (size_t i = 0; i < n; i++) {
			for (int j = 0; j < 6; j++)
				vals[i * 6 + j] = rng_uniform(&r);
			int inf = i >= sizes[k]; /* the last lat_infeasible ones */
			mets[i] = inf ? NAN : f_h6(vals + i * 6, NULL);
			tr[i] = (struct designer_trial){vals + i * 6, &mets[i], inf};
		}
		struct gp_cache *cache = gp_cache_new();
		/* with -I: 15 warm calls at 15 positions (other random streams:
		 * the search's cost depends on where its starts fall) */
		int nrep = lat_cpu ? 16 : 6;
		double t[16], out[6];
		char err[256];
		for (int rep = 0; rep < nrep; rep++) {
			struct designer_input in = {.space = &s,
			                            .metrics = &m,
			                            .n_metrics = 1,
			                            .completed = tr,
			                            .n_completed = n,
			                            .count = 1,
			                            .seed = 1,
			                            .position = sizes[k] + 1000 +
			                                        (lat_cpu ? (uint64_t)rep : 0),
			                            .cache = cache};
			double t0 = lat_cpu ? cpu_ms() : now_ms();
			if (designer_suggest(DESIGNER_GP_EI, &in, out, NULL, err, sizeof(err)) !=
			    1) {
				fprintf(stderr, "latency n=%zu: %s\n", n, err);
				exit(1);
			}
			t[rep] = (lat_cpu ? cpu_ms() : now_ms()) - t0;
		}
		printf("%8zu %10.1f %10.1f\n", sizes[k], t[0], median(t + 1, nrep - 1));
		fflush(stdout);
		gp_cache_free(cache);
		space_free(&s);
		free(vals);
		free(mets);
		free(tr);
	}
}

/* One designer call as the service makes it for many concurrent workers:
 * count points wanted, pending ACTIVE trials, n completed (hartmann6
 * space). Prints the cold call (with the fit) and a warm repeat. */
static int batch(size_t n, size_t count, size_t np)
{
	struct space s = {0};
	b_h6(&s);
	struct designer_metric m = {DESIGNER_MINIMIZE, 0, 0};
	size_t tot = n + np;
	double *vals = malloc(tot * 6 * sizeof(double)), *mets = malloc(n * sizeof(double));
	double *out = malloc(count * 6 * sizeof(double));
	const double **pend = malloc((np ? np : 1) * sizeof(*pend));
	struct designer_trial *tr = calloc(n ? n : 1, sizeof(*tr));
	if (!vals || !mets || !out || !pend || !tr)
		return 1;
	struct rng r;
	rng_seed(&r, 42, n);
	for (size_t i = 0; i < tot; i++)
		for (int j = 0; j < 6; j++)
			vals[i * 6 + j] = rng_uniform(&r);
	for (size_t i = 0; i < n; i++) {
		mets[i] = f_h6(vals + i * 6, NULL);
		tr[i] = (struct designer_trial){vals + i * 6, &mets[i], 0};
	}
	for (size_t i = 0; i < np; i++)
		pend[i] = vals + (n + i) * 6;
	struct gp_cache *cache = gp_cache_new();
	struct designer_info *info = calloc(count, sizeof(*info));
	char err[256];
	double t[2], minsep = INFINITY;
	size_t model = 0;
	for (int rep = 0; rep < 2; rep++) {
		struct designer_input in = {.space = &s,
		                            .metrics = &m,
		                            .n_metrics = 1,
		                            .completed = tr,
		                            .n_completed = n,
		                            .pending = pend,
		                            .n_pending = np,
		                            .count = count,
		                            .seed = 1,
		                            .position = n + np,
		                            .cache = cache};
		double t0 = now_ms();
		int rc = designer_suggest(DESIGNER_GP_EI, &in, out, info, err, sizeof(err));
		t[rep] = now_ms() - t0;
		if (rc != (int)count) {
			fprintf(stderr, "batch: %s\n", err);
			return 1;
		}
	}
	/* what the batch looks like: least L∞ distance between two of its
	 * points or to a pending one, model-based share */
	for (size_t a = 0; a < count; a++) {
		model += info[a].model_based;
		for (size_t b = 0; b < a + np; b++) {
			const double *q = b < a ? out + b * 6 : pend[b - a];
			double dist = 0.0;
			for (int j = 0; j < 6; j++)
				dist = fmax(dist, fabs(out[a * 6 + j] - q[j]));
			minsep = fmin(minsep, dist);
		}
	}
	printf("n=%zu count=%zu pending=%zu: cold %.1f ms, warm %.1f ms; %zu model-based, "
	       "min L-inf separation %.4f\n",
	       n, count, np, t[0], t[1], model, minsep);
	gp_cache_free(cache);
	space_free(&s);
	free(vals);
	free(mets);
	free(out);
	free(pend);
	free(tr);
	free(info);
	return 0;
}

/* 1 when name is one of the comma-separated names of list. */
static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *q = list; (q = strstr(q, name)); q += n)
		if ((q == list || q[-1] == ',') && (q[n] == ',' || q[n] == '\0'))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int seeds = 10, n = 60, verbose = 0, lat = 0, nset = 0;
	long bcount = 0, bpend = 0;
	const char *only = NULL, *algs = "random,sobol,gp";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-s") && i + 1 < argc)
			seeds = (int)strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = (int)strtol(argv[++i], NULL, 10), nset = 1;
		else if (!strcmp(argv[i], "-B") && i + 1 < argc)
			batch_size = (int)strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-W") && i + 1 < argc)
			n_workers = (int)strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-t") && i + 1 < argc)
			at_trials = (int)strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-b") && i + 1 < argc)
			bcount = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-P") && i + 1 < argc)
			bpend = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-p") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "-a") && i + 1 < argc)
			algs = argv[++i];
		else if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else if (!strcmp(argv[i], "-l"))
			lat = 1;
		else if (!strcmp(argv[i], "-I") && i + 1 < argc)
			lat_infeasible = (int)strtol(argv[++i], NULL, 10), lat_cpu = 1;
		else {
			fprintf(
			    stderr,
			    "usage: %s [-s seeds] [-n trials] [-p names] [-a gp,random,sobol] "
			    "[-v] [-l] [-B size] [-W workers] [-t at] [-b count [-P pending]]\n",
			    argv[0]);
			return 2;
		}
	}
	if (lat_infeasible < 0 || lat_infeasible > 1000)
		return 2;
	if (seeds < 1 || seeds > 1000 || n < 1 || batch_size < 1 || batch_size > 64 ||
	    n_workers < 1 || n_workers > 256)
		return 2;
	gsl_set_error_handler_off();
	if (lat) {
		latency();
		return 0;
	}
	if (bcount > 0 && bcount <= 4096 && bpend >= 0 && bpend <= 100000)
		return batch(nset ? (size_t)n : 300, (size_t)bcount, (size_t)bpend);
	static const struct {
		const char *key, *label;
		enum designer_algorithm a;
	} all[] = {{"random", "random", DESIGNER_RANDOM},
	           {"sobol", "quasi", DESIGNER_QUASI_RANDOM},
	           {"gp", "gp-ei", DESIGNER_GP_EI}};
	printf("median over %d seeds of log10(best after %d trials - optimum); ms = median per "
	       "suggestion\n",
	       seeds, n);
	printf("%-16s", "problem");
	for (size_t a = 0; a < 3; a++)
		if (strstr(algs, all[a].key))
			printf(" %9s %8s", all[a].label, "ms");
	printf(" %9s\n", "ref best");
	for (size_t k = 0; k < NPROB; k++) {
		const struct problem *p = &problems[k];
		if (only && !in_list(only, p->name))
			continue;
		printf("%-16s", p->name);
		fflush(stdout);
		for (size_t a = 0; a < 3; a++) {
			if (!strstr(algs, all[a].key))
				continue;
			double reg[1000], ms[1000];
			for (int sd = 0; sd < seeds; sd++) {
				reg_at[sd] = NAN;
				if (n_workers > 1 && all[a].a == DESIGNER_GP_EI)
					reg[sd] =
					    run_async(p, (uint64_t)sd, n, &ms[sd], &reg_at[sd]);
				else
					reg[sd] =
					    run(p, all[a].a, (uint64_t)sd, n, &ms[sd], verbose);
			}
			if (verbose)
				for (int sd = 0; sd < seeds; sd++)
					fprintf(stderr, "  %s seed %d: %.2f\n", all[a].label, sd,
					        reg[sd]);
			if (at_trials > 0)
				printf(" %6.2f@%-2d", median(reg_at, seeds), at_trials);
			printf(" %9.2f %8.1f", median(reg, seeds), median(ms, seeds));
			fflush(stdout);
		}
		if (isnan(p->ref))
			printf(" %9s\n", "-");
		else
			printf(" %9.2f\n", p->ref);
	}
	return 0;
}
