/* The median stopping rule on constructed learning curves: it stops the bad
 * trials and keeps the good ones, for both goals, by step and by elapsed
 * duration; never with too few completed trials; and with missing steps it
 * uses the completed trials' values at or before the step (no
 * interpolation). */
#include <math.h>
#include <stdlib.h>

#include "stopping.h"
#include "test.h"

#define MAXC 16
#define MAXP 64

/* A study's curves, built point by point. */
struct curves {
	struct stopping_point p[MAXC + 1][MAXP];
	struct stopping_curve c[MAXC + 1]; /* c[MAXC] is the trial being judged */
	size_t n;                          /* completed curves */
};

static void add_step(struct curves *cs, size_t i, int64_t step, double v)
{
	struct stopping_curve *c = &cs->c[i];
	struct stopping_point *p = &cs->p[i][c->n];
	p->step = step;
	p->elapsed_ns = 0;
	p->value = v;
	p->has = STOPPING_HAS_STEP;
	c->points = cs->p[i];
	c->n++;
}

static void add_elapsed(struct curves *cs, size_t i, double seconds, double v)
{
	struct stopping_curve *c = &cs->c[i];
	struct stopping_point *p = &cs->p[i][c->n];
	p->step = 0;
	p->elapsed_ns = (int64_t)(seconds * 1e9);
	p->value = v;
	p->has = STOPPING_HAS_ELAPSED;
	c->points = cs->p[i];
	c->n++;
}

static struct stopping_result judge(struct curves *cs, int minimize, int use_elapsed)
{
	struct stopping_input in = {
	    .trial = &cs->c[MAXC],
	    .completed = cs->c,
	    .n_completed = cs->n,
	    .minimize = minimize,
	    .use_elapsed = use_elapsed,
	};
	struct stopping_result r;
	struct err e = {0};
	ASSERT_EQ_INT(stopping_median(&in, &r, &e), 0);
	return r;
}

static void reset_trial(struct curves *cs)
{
	cs->c[MAXC].n = 0;
	cs->c[MAXC].points = cs->p[MAXC];
}

/* Saturating learning curves: accuracy a * (1 - exp(-t / 10)) at t = 1..T. */
static void learning_curve(struct curves *cs, size_t i, double a, int T, int sign)
{
	for (int t = 1; t <= T; t++)
		add_step(cs, i, t, sign * a * (1 - exp(-t / 10.0)));
}

static void test_learning_curves(int minimize)
{
	struct curves cs = {0};
	int sign = minimize ? -1 : 1; /* a loss is the negated accuracy */
	const double a[] = {0.6, 0.7, 0.8, 0.9, 1.0};
	for (size_t i = 0; i < 5; i++)
		learning_curve(&cs, i, a[i], 50, sign);
	cs.n = 5;

	/* a poor configuration, 20 steps in: its best value is below every
	 * completed trial's running average at step 20 */
	reset_trial(&cs);
	learning_curve(&cs, MAXC, 0.3, 20, sign);
	struct stopping_result r = judge(&cs, minimize, 0);
	ASSERT_EQ_INT(r.should_stop, 1);
	ASSERT_EQ_INT(r.reason, STOPPING_WORSE);
	ASSERT_EQ_INT(r.position, 20);
	ASSERT_EQ_INT(r.n_used, 5);
	ASSERT_EQ_DBL(r.best, sign * 0.3 * (1 - exp(-2.0)), 1e-12);
	/* the median is the middle curve's (a = 0.8) running average */
	double sum = 0;
	for (int t = 1; t <= 20; t++)
		sum += sign * 0.8 * (1 - exp(-t / 10.0));
	ASSERT_EQ_DBL(r.median, sum / 20, 1e-12);

	/* a good one keeps running at every step */
	for (int T = 1; T <= 30; T++) {
		reset_trial(&cs);
		learning_curve(&cs, MAXC, 0.95, T, sign);
		r = judge(&cs, minimize, 0);
		ASSERT_EQ_INT(r.should_stop, 0);
		ASSERT_EQ_INT(r.reason, STOPPING_BETTER);
	}
	/* the bad one would already be stopped at step 5 */
	reset_trial(&cs);
	learning_curve(&cs, MAXC, 0.3, 5, sign);
	ASSERT_EQ_INT(judge(&cs, minimize, 0).should_stop, 1);
}

/* A flat median: values chosen so the numbers can be checked by hand. */
static void test_hand_computed(void)
{
	struct curves cs = {0};
	/* running averages at step 2: (1+3)/2 = 2, (2+4)/2 = 3, (5+5)/2 = 5 */
	add_step(&cs, 0, 1, 1);
	add_step(&cs, 0, 2, 3);
	add_step(&cs, 0, 3, 100); /* after step 2: not in the average */
	add_step(&cs, 1, 1, 2);
	add_step(&cs, 1, 2, 4);
	add_step(&cs, 2, 1, 5);
	add_step(&cs, 2, 2, 5);
	cs.n = 3;

	/* MAXIMIZE: best 2.9 < median 3: stop; best 3 = median: keep (strictly
	 * worse only); best 3.1: keep */
	reset_trial(&cs);
	add_step(&cs, MAXC, 1, 0.5);
	add_step(&cs, MAXC, 2, 2.9);
	struct stopping_result r = judge(&cs, 0, 0);
	ASSERT_EQ_INT(r.should_stop, 1);
	ASSERT_EQ_DBL(r.median, 3, 0);
	ASSERT_EQ_DBL(r.best, 2.9, 0);
	reset_trial(&cs);
	add_step(&cs, MAXC, 1, 3);
	add_step(&cs, MAXC, 2, 0.5); /* the best so far counts, not the last */
	r = judge(&cs, 0, 0);
	ASSERT_EQ_INT(r.should_stop, 0);
	ASSERT_EQ_DBL(r.best, 3, 0);
	ASSERT_EQ_INT(r.position, 2);

	/* MINIMIZE on the same curves: best (lowest) 3.1 > 3: stop; 3: keep */
	reset_trial(&cs);
	add_step(&cs, MAXC, 1, 9);
	add_step(&cs, MAXC, 2, 3.1);
	r = judge(&cs, 1, 0);
	ASSERT_EQ_INT(r.should_stop, 1);
	ASSERT_EQ_DBL(r.best, 3.1, 0);
	reset_trial(&cs);
	add_step(&cs, MAXC, 2, 3);
	add_step(&cs, MAXC, 1, 9);
	ASSERT_EQ_INT(judge(&cs, 1, 0).should_stop, 0);

	/* an even number of completed trials: the mean of the middle two
	 * (averages 2, 3, 5, 8: median 4) */
	add_step(&cs, 3, 1, 8);
	cs.n = 4;
	reset_trial(&cs);
	add_step(&cs, MAXC, 2, 3.99);
	r = judge(&cs, 0, 0);
	ASSERT_EQ_DBL(r.median, 4, 0);
	ASSERT_EQ_INT(r.should_stop, 1);
	reset_trial(&cs);
	add_step(&cs, MAXC, 2, 4);
	ASSERT_EQ_INT(judge(&cs, 0, 0).should_stop, 0);

	/* the steps need not arrive in order: the trial's position is its
	 * largest step, and all its points are at or before it */
	reset_trial(&cs);
	add_step(&cs, MAXC, 2, 1);
	add_step(&cs, MAXC, 1, 1.5);
	r = judge(&cs, 0, 0);
	ASSERT_EQ_INT(r.position, 2);
	ASSERT_EQ_DBL(r.best, 1.5, 0);
	ASSERT_EQ_INT(r.should_stop, 1);
}

static void test_too_few(void)
{
	struct curves cs = {0};
	learning_curve(&cs, 0, 0.9, 30, 1);
	learning_curve(&cs, 1, 1.0, 30, 1);
	cs.n = 2;
	reset_trial(&cs);
	learning_curve(&cs, MAXC, 0.01, 20, 1); /* as bad as it gets */
	struct stopping_result r = judge(&cs, 0, 0);
	ASSERT_EQ_INT(r.should_stop, 0);
	ASSERT_EQ_INT(r.reason, STOPPING_TOO_FEW);
	ASSERT_EQ_INT(r.n_used, 2);
	ASSERT_TRUE(isnan(r.median));

	/* none completed at all */
	cs.n = 0;
	r = judge(&cs, 0, 0);
	ASSERT_EQ_INT(r.should_stop, 0);
	ASSERT_EQ_INT(r.reason, STOPPING_TOO_FEW);

	/* a third completed trial that started reporting only at step 25 does
	 * not count at step 20 ... */
	add_step(&cs, 2, 25, 0.95);
	cs.n = 3;
	r = judge(&cs, 0, 0);
	ASSERT_EQ_INT(r.reason, STOPPING_TOO_FEW);
	ASSERT_EQ_INT(r.n_used, 2);
	/* ... but does once the trial reaches step 25 */
	add_step(&cs, MAXC, 25, 0.02);
	r = judge(&cs, 0, 0);
	ASSERT_EQ_INT(r.n_used, 3);
	ASSERT_EQ_INT(r.should_stop, 1);

	/* the minimum can be set per call: with 4 it does not stop */
	struct stopping_input in = {
	    .trial = &cs.c[MAXC], .completed = cs.c, .n_completed = 3, .min_count = 4};
	struct err e;
	ASSERT_EQ_INT(stopping_median(&in, &r, &e), 0);
	ASSERT_EQ_INT(r.should_stop, 0);
	ASSERT_EQ_INT(r.reason, STOPPING_TOO_FEW);
	char msg[256];
	stopping_describe(&in, &r, msg, sizeof(msg));
	ASSERT_TRUE(strstr(msg, "only 3 completed trials") != NULL);
	ASSERT_TRUE(strstr(msg, "needs 4") != NULL);
}

/* Completed trials measured every 10 steps, the trial judged between them:
 * the running average uses the values at or before the step. Interpolating
 * would give another answer here, which shows the choice. */
static void test_missing_steps(void)
{
	struct curves cs = {0};
	for (size_t i = 0; i < 3; i++) {
		add_step(&cs, i, 10, 1.0);
		add_step(&cs, i, 20, 1.0);
		add_step(&cs, i, 30, 4.0);
	}
	cs.n = 3;
	reset_trial(&cs);
	add_step(&cs, MAXC, 5, 0.0);
	add_step(&cs, MAXC, 25, 1.2);
	/* at step 25: averages of {1, 1} = 1 each; median 1; best 1.2: keep.
	 * (Interpolating a value 2.5 at step 25 would make the average 1.5 and
	 * stop the trial.) */
	struct stopping_result r = judge(&cs, 0, 0);
	ASSERT_EQ_INT(r.position, 25);
	ASSERT_EQ_DBL(r.median, 1.0, 0);
	ASSERT_EQ_INT(r.should_stop, 0);
	/* at step 30 the completed trials' 4.0 counts: averages 2, median 2 */
	add_step(&cs, MAXC, 30, 1.9);
	r = judge(&cs, 0, 0);
	ASSERT_EQ_DBL(r.median, 2.0, 0);
	ASSERT_EQ_INT(r.should_stop, 1);
	/* a trial past the end of every completed curve is judged against
	 * their whole curves */
	reset_trial(&cs);
	add_step(&cs, MAXC, 1000, 2.1);
	r = judge(&cs, 0, 0);
	ASSERT_EQ_DBL(r.median, 2.0, 0);
	ASSERT_EQ_INT(r.should_stop, 0);
	/* a trial before every completed curve's first point: nothing to
	 * compare with */
	reset_trial(&cs);
	add_step(&cs, MAXC, 9, -100);
	r = judge(&cs, 0, 0);
	ASSERT_EQ_INT(r.reason, STOPPING_TOO_FEW);
	ASSERT_EQ_INT(r.n_used, 0);
	ASSERT_EQ_INT(r.should_stop, 0);
}

/* useElapsedDuration: positions are durations; step-only points are
 * ignored, and elapsed-only points are ignored when judging by step. */
static void test_elapsed(int minimize)
{
	struct curves cs = {0};
	double sign = minimize ? -1 : 1;
	const double a[] = {0.5, 0.6, 0.7, 0.8};
	for (size_t i = 0; i < 4; i++) {
		/* completed trials report every 1.5 s, with the step as well on
		 * a separate scale that must not matter */
		for (int k = 1; k <= 20; k++)
			add_elapsed(&cs, i, 1.5 * k, sign * a[i] * (1 - exp(-k / 5.0)));
	}
	cs.n = 4;
	/* a trial at 12 s (k = 8 on the completed trials' clock) */
	reset_trial(&cs);
	add_elapsed(&cs, MAXC, 3.0, sign * 0.05);
	add_elapsed(&cs, MAXC, 12.0, sign * 0.1);
	struct stopping_result r = judge(&cs, minimize, 1);
	ASSERT_EQ_INT(r.position, 12000000000LL);
	ASSERT_EQ_INT(r.n_used, 4);
	ASSERT_EQ_INT(r.should_stop, 1);
	ASSERT_EQ_INT(r.reason, STOPPING_WORSE);
	/* median: the mean of the a = 0.6 and 0.7 curves' running averages
	 * over k = 1..8 */
	double s6 = 0, s7 = 0;
	for (int k = 1; k <= 8; k++) {
		s6 += sign * 0.6 * (1 - exp(-k / 5.0));
		s7 += sign * 0.7 * (1 - exp(-k / 5.0));
	}
	ASSERT_EQ_DBL(r.median, (s6 / 8 + s7 / 8) / 2, 1e-12);

	reset_trial(&cs);
	add_elapsed(&cs, MAXC, 3.0, sign * 0.2);
	add_elapsed(&cs, MAXC, 12.0, sign * 0.75);
	r = judge(&cs, minimize, 1);
	ASSERT_EQ_INT(r.should_stop, 0);
	ASSERT_EQ_INT(r.reason, STOPPING_BETTER);

	/* judged by step, these elapsed-only curves give nothing */
	r = judge(&cs, minimize, 0);
	ASSERT_EQ_INT(r.reason, STOPPING_NO_POSITION);
	ASSERT_EQ_INT(r.should_stop, 0);
	char msg[256];
	struct stopping_input in = {.trial = &cs.c[MAXC], .use_elapsed = 0};
	stopping_describe(&in, &r, msg, sizeof(msg));
	ASSERT_TRUE(strstr(msg, "stepCount") != NULL);

	/* a trial with a step-only point too: still judged by its elapsed
	 * points */
	add_step(&cs, MAXC, 99999, sign * 100);
	r = judge(&cs, minimize, 1);
	ASSERT_EQ_INT(r.position, 12000000000LL);
	ASSERT_EQ_DBL(r.best, sign * 0.75, 0);
}

/* NaN objective values (the metric was not reported) are ignored. */
static void test_nan_and_errors(void)
{
	struct curves cs = {0};
	for (size_t i = 0; i < 3; i++) {
		add_step(&cs, i, 1, NAN);
		add_step(&cs, i, 2, 1.0 + (double)i);
	}
	cs.n = 3;
	reset_trial(&cs);
	add_step(&cs, MAXC, 1, NAN);
	struct stopping_result r = judge(&cs, 0, 0);
	ASSERT_EQ_INT(r.reason, STOPPING_NO_POSITION);
	ASSERT_TRUE(isnan(r.best));
	add_step(&cs, MAXC, 2, 1.5);
	r = judge(&cs, 0, 0);
	ASSERT_EQ_DBL(r.median, 2.0, 0); /* averages 1, 2, 3: NaNs not in them */
	ASSERT_EQ_INT(r.should_stop, 1);
	char msg[256];
	struct stopping_input in = {.trial = &cs.c[MAXC]};
	stopping_describe(&in, &r, msg, sizeof(msg));
	ASSERT_TRUE(strstr(msg, "step 2") != NULL);
	ASSERT_TRUE(strstr(msg, "worse") != NULL);
	ASSERT_TRUE(strstr(msg, "3 completed") != NULL);

	struct stopping_input bad = {0};
	struct err e = {0};
	ASSERT_EQ_INT(stopping_median(&bad, &r, &e), -ERR_INVALID_ARGUMENT);
	ASSERT_EQ_INT(e.code, ERR_INVALID_ARGUMENT);
	ASSERT_EQ_INT(r.should_stop, 0);
}

int main(void)
{
	test_learning_curves(0);
	test_learning_curves(1);
	test_hand_computed();
	test_too_few();
	test_missing_steps();
	test_elapsed(0);
	test_elapsed(1);
	test_nan_and_errors();
	return test_done("test-stopping");
}
