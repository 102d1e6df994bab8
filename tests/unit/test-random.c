#include <math.h>
#include <stdlib.h>

#include "designer.h"
#include "pointset.h"
#include "random.h"
#include "space_fixture.h"
#include "test.h"

static struct designer_metric metric = {DESIGNER_MAXIMIZE, 0, 0.0};

static struct designer_input input(const struct space *s, size_t count, uint64_t seed,
                                   uint64_t position)
{
	return (struct designer_input){.space = s,
	                               .metrics = &metric,
	                               .n_metrics = 1,
	                               .count = count,
	                               .seed = seed,
	                               .position = position};
}

static void test_determinism(void)
{
	struct space s = {0};
	add_num(&s, "lr", SPACE_DOUBLE, SPACE_LOG, 1e-7, 1e-1);
	add_num(&s, "m", SPACE_DOUBLE, SPACE_REVERSE_LOG, 0.9, 0.9999);
	add_num(&s, "n", SPACE_INTEGER, SPACE_LINEAR, -3, 3);
	add_cat(&s, "c", 4);
	enum { N = 2000 };
	double *a = malloc(N * 4 * sizeof *a), *b = malloc(N * 4 * sizeof *b);
	struct designer_info info[N];
	char err[256];
	struct designer_input in = input(&s, N, 42, 7);
	ASSERT_EQ_INT(random_suggest(&in, a, info, err, sizeof err), N);
	ASSERT_EQ_STR(info[N - 1].source, "random");
	ASSERT_EQ_INT(random_suggest(&in, b, NULL, err, sizeof err), N);
	int same = 1;
	for (size_t i = 0; i < N * 4; i++)
		same &= a[i] == b[i];
	ASSERT_TRUE(same);
	in.seed = 43;
	ASSERT_EQ_INT(random_suggest(&in, b, NULL, err, sizeof err), N);
	ASSERT_TRUE(a[0] != b[0] && a[4] != b[4]);
	in.seed = 42;
	in.position = 8;
	ASSERT_EQ_INT(random_suggest(&in, b, NULL, err, sizeof err), N);
	ASSERT_TRUE(a[0] != b[0]);

	/* Valid, and log-uniform: half below the geometric midpoint. */
	int invalid = 0, below = 0, cats[4] = {0};
	for (size_t k = 0; k < N; k++) {
		invalid += !space_valid(&s, a + 4 * k, NULL, 0);
		below += a[4 * k] < 1e-4;
		cats[(int)a[4 * k + 3]]++;
	}
	ASSERT_EQ_INT(invalid, 0);
	ASSERT_TRUE(below > N * 0.45 && below < N * 0.55);
	for (int c = 0; c < 4; c++)
		ASSERT_TRUE(cats[c] > N / 4 * 0.8 && cats[c] < N / 4 * 1.2);
	free(a);
	free(b);
	space_free(&s);
}

/* c (3 categories) x n (1..2): 6 points. */
static void small_space(struct space *s)
{
	add_cat(s, "c", 3);
	add_num(s, "n", SPACE_INTEGER, SPACE_LINEAR, 1, 2);
}

static void test_no_duplicates(void)
{
	struct space s = {0};
	small_space(&s);
	char err[256];
	struct pointset ps;

	/* One batch of the whole space: all distinct. */
	for (uint64_t seed = 0; seed < 20; seed++) {
		double out[12];
		struct designer_input in = input(&s, 6, seed, 0);
		ASSERT_EQ_INT(random_suggest(&in, out, NULL, err, sizeof err), 6);
		pointset_init(&ps, 2);
		for (int k = 0; k < 6; k++)
			ASSERT_EQ_INT(pointset_add(&ps, out + 2 * k), 1);
		pointset_free(&ps);
	}

	/* A study, one trial at a time, its history growing: never a repeat
	 * until all 6 are used; then duplicates rather than nothing. */
	for (uint64_t seed = 0; seed < 20; seed++) {
		double hist[14];
		struct designer_trial done[7];
		double metric_value = 0.0;
		pointset_init(&ps, 2);
		for (int k = 0; k < 7; k++) {
			struct designer_input in = input(&s, 1, seed, (uint64_t)k);
			in.completed = done;
			in.n_completed = (size_t)k;
			ASSERT_EQ_INT(random_suggest(&in, hist + 2 * k, NULL, err, sizeof err), 1);
			ASSERT_TRUE(space_valid(&s, hist + 2 * k, NULL, 0));
			int added = pointset_add(&ps, hist + 2 * k);
			ASSERT_EQ_INT(added, k < 6 ? 1 : 0);
			done[k] = (struct designer_trial){hist + 2 * k, &metric_value, 0};
		}
		pointset_free(&ps);
	}

	/* Pending trials count as used too, and so does the batch itself. */
	double pend_vals[] = {0, 1, 0, 2, 1, 1, 1, 2};
	const double *pend[] = {pend_vals, pend_vals + 2, pend_vals + 4, pend_vals + 6};
	struct designer_input in = input(&s, 2, 5, 4);
	in.pending = pend;
	in.n_pending = 4;
	double out[4];
	ASSERT_EQ_INT(random_suggest(&in, out, NULL, err, sizeof err), 2);
	ASSERT_EQ_DBL(out[0], 2.0, 0.0);
	ASSERT_EQ_DBL(out[2], 2.0, 0.0);
	ASSERT_TRUE(out[1] != out[3]);

	/* observationNoise HIGH: repeats allowed, so a 6-point space gives 30
	 * points with repeats. */
	double many[60];
	in = input(&s, 30, 1, 0);
	in.noise_high = 1;
	ASSERT_EQ_INT(random_suggest(&in, many, NULL, err, sizeof err), 30);
	pointset_init(&ps, 2);
	int distinct = 0;
	for (int k = 0; k < 30; k++) {
		ASSERT_TRUE(space_valid(&s, many + 2 * k, NULL, 0));
		distinct += pointset_add(&ps, many + 2 * k) == 1;
	}
	ASSERT_EQ_INT(distinct, 6);
	pointset_free(&ps);
	space_free(&s);
}

static void test_conditional(void)
{
	struct space s = {0};
	build_conditional(&s);
	enum { N = 600 };
	double out[N * 4];
	char err[256];
	struct designer_input in = input(&s, N, 9, 0);
	in.noise_high = 1; /* repeats allowed: the plain distribution */
	ASSERT_EQ_INT(random_suggest(&in, out, NULL, err, sizeof err), N);
	int invalid = 0, with_width = 0, with_lr = 0;
	for (int k = 0; k < N; k++) {
		invalid += !space_valid(&s, out + 4 * k, NULL, 0);
		with_width += !isnan(out[4 * k + 3]);
		with_lr += !isnan(out[4 * k + 1]);
	}
	ASSERT_EQ_INT(invalid, 0);
	/* lr active 2/3 of the time, width 1/3 * 1/2. */
	ASSERT_TRUE(with_lr > N * 0.6 && with_lr < N * 0.73);
	ASSERT_TRUE(with_width > N / 6 * 0.7 && with_width < N / 6 * 1.3);

	/* observationNoise LOW: the opt = 1 branch has only 8 points (layers
	 * 1, 2, and 3, 4 times 3 widths); each comes once, then that branch is
	 * avoided while the lr branches still have room. */
	in.noise_high = 0;
	ASSERT_EQ_INT(random_suggest(&in, out, NULL, err, sizeof err), N);
	struct pointset ps;
	pointset_init(&ps, 4);
	int branch1 = 0, repeats = 0;
	for (int k = 0; k < N; k++) {
		ASSERT_TRUE(space_valid(&s, out + 4 * k, NULL, 0));
		branch1 += out[4 * k] == 1.0;
		repeats += pointset_add(&ps, out + 4 * k) == 0;
	}
	pointset_free(&ps);
	ASSERT_EQ_INT(branch1, 8);
	ASSERT_EQ_INT(repeats, 0);
	space_free(&s);
}

static void test_unused(void)
{
	struct space s = {0};
	small_space(&s);
	struct pointset used;
	pointset_init(&used, 2);
	struct rng r;
	rng_seed(&r, 1, 2);
	double v[2];
	for (int k = 0; k < 6; k++) {
		ASSERT_EQ_INT(random_unused(&s, &used, &r, v), 1);
		ASSERT_EQ_INT(pointset_add(&used, v), 1);
	}
	ASSERT_EQ_INT(random_unused(&s, &used, &r, v), 0);
	pointset_free(&used);
	space_free(&s);
	add_num(&s, "x", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	pointset_init(&used, 1);
	ASSERT_EQ_INT(random_unused(&s, &used, &r, v), 0);
	pointset_free(&used);
	space_free(&s);
}

int main(void)
{
	test_determinism();
	test_no_duplicates();
	test_conditional();
	test_unused();
	return test_done("test-random");
}
