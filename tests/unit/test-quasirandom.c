#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "designer.h"
#include "pointset.h"
#include "quasirandom.h"
#include "rng.h"
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

/* A star-discrepancy proxy for coordinates (i, j) of n points: the largest
 * gap between the fraction of points in [0, a) x [0, b) and its area ab,
 * over a 64 x 64 lattice of corners. */
static double discrepancy2(const double *u, size_t n, size_t dim, size_t i, size_t j)
{
	double worst = 0.0;
	for (int ai = 1; ai <= 64; ai++) {
		for (int bi = 1; bi <= 64; bi++) {
			double a = ai / 64.0, b = bi / 64.0;
			size_t in = 0;
			for (size_t k = 0; k < n; k++)
				in += u[k * dim + i] < a && u[k * dim + j] < b;
			double d = fabs((double)in / (double)n - a * b);
			if (d > worst)
				worst = d;
		}
	}
	return worst;
}

static void test_points(void)
{
	char err[256];
	enum { N = 512 };
	size_t dims[] = {1, 2, 7, 40, 41, 200, 1229};
	for (size_t t = 0; t < sizeof dims / sizeof dims[0]; t++) {
		size_t d = dims[t];
		double *u = malloc(N * d * sizeof *u), *v = malloc(N * d * sizeof *v);
		ASSERT_EQ_INT(quasirandom_points(d, 11, 0, N, u, err, sizeof err), 0);
		int outside = 0;
		for (size_t k = 0; k < N * d; k++)
			outside += !(u[k] >= 0.0 && u[k] < 1.0);
		ASSERT_EQ_INT(outside, 0);
		/* The sequence continues: points from 100 on are the same
		 * whether generated from 0 or from 100. */
		ASSERT_EQ_INT(quasirandom_points(d, 11, 100, 50, v, err, sizeof err), 0);
		ASSERT_TRUE(memcmp(u + 100 * d, v, 50 * d * sizeof *u) == 0);
		/* Same seed, same points; another seed, others. */
		ASSERT_EQ_INT(quasirandom_points(d, 11, 0, N, v, err, sizeof err), 0);
		ASSERT_TRUE(memcmp(u, v, N * d * sizeof *u) == 0);
		ASSERT_EQ_INT(quasirandom_points(d, 12, 0, N, v, err, sizeof err), 0);
		size_t differ = 0;
		for (size_t k = 0; k < N * d; k++)
			differ += u[k] != v[k];
		ASSERT_TRUE(differ > N * d * 9 / 10);
		free(u);
		free(v);
	}
	double u[4];
	ASSERT_EQ_INT(quasirandom_points(0, 1, 0, 1, u, err, sizeof err), -1);
	ASSERT_TRUE(strstr(err, "between 1 and 1229 dimensions") != NULL);
	ASSERT_EQ_INT(quasirandom_points(1230, 1, 0, 1, u, err, sizeof err), -1);
	ASSERT_TRUE(strstr(err, "not 1230") != NULL);
}

static void test_low_discrepancy(void)
{
	char err[256];
	enum { N = 256 };
	/* Sobol: each coordinate of the first 2^m points is stratified, one
	 * point in each of the 2^m cells; the digital shift keeps that. */
	for (uint64_t seed = 1; seed <= 3; seed++) {
		double *u = malloc(N * 40 * sizeof *u);
		ASSERT_EQ_INT(quasirandom_points(40, seed, 0, N, u, err, sizeof err), 0);
		int unstratified = 0;
		for (size_t i = 0; i < 40; i++) {
			unsigned char cell[N] = {0};
			for (size_t k = 0; k < N; k++)
				cell[(int)(u[k * 40 + i] * N)]++;
			for (size_t c = 0; c < N; c++)
				unstratified += cell[c] != 1;
		}
		ASSERT_EQ_INT(unstratified, 0);
		free(u);
	}

	/* Discrepancy in 2-D projections: well below random points'. */
	struct rng r;
	rng_seed(&r, 5, 5);
	double *rnd = malloc(N * 2 * sizeof *rnd);
	for (size_t k = 0; k < N * 2; k++)
		rnd[k] = rng_uniform(&r);
	double d_rand = discrepancy2(rnd, N, 2, 0, 1);
	free(rnd);
	double *sob = malloc(N * 40 * sizeof *sob);
	ASSERT_EQ_INT(quasirandom_points(40, 3, 0, N, sob, err, sizeof err), 0);
	double d_sob = discrepancy2(sob, N, 40, 0, 1);
	double d_sob_hi = discrepancy2(sob, N, 40, 30, 39);
	free(sob);
	double *hal = malloc(N * 100 * sizeof *hal);
	ASSERT_EQ_INT(quasirandom_points(100, 3, 0, N, hal, err, sizeof err), 0);
	double d_hal = discrepancy2(hal, N, 100, 0, 1);
	free(hal);
	fprintf(stderr,
	        "discrepancy proxy, %d points: random %.4f sobol %.4f (dims 30,39: %.4f) "
	        "halton %.4f\n",
	        N, d_rand, d_sob, d_sob_hi, d_hal);
	ASSERT_TRUE(d_sob < 0.5 * d_rand);
	ASSERT_TRUE(d_sob_hi < d_rand);
	ASSERT_TRUE(d_hal < 0.5 * d_rand);
}

static void test_suggest(void)
{
	struct space s = {0};
	add_num(&s, "lr", SPACE_DOUBLE, SPACE_LOG, 1e-7, 1e-1);
	add_num(&s, "n", SPACE_INTEGER, SPACE_LINEAR, 1, 100);
	add_cat(&s, "c", 3);
	char err[256];
	double a[30], b[30], u[30];
	struct designer_info info[10];
	/* Trial p of the study is point p of the sequence, decoded. */
	struct designer_input in = input(&s, 10, 77, 4);
	ASSERT_EQ_INT(quasirandom_suggest(&in, a, info, err, sizeof err), 10);
	ASSERT_EQ_STR(info[0].source, "sobol");
	ASSERT_EQ_INT(info[0].model_based, 0);
	ASSERT_EQ_INT(quasirandom_points(3, 77, 4, 10, u, err, sizeof err), 0);
	for (int k = 0; k < 10; k++) {
		double v[3];
		space_decode(&s, u + 3 * k, v);
		ASSERT_TRUE(space_equal(&s, v, a + 3 * k));
		ASSERT_TRUE(space_valid(&s, a + 3 * k, NULL, 0));
	}
	/* Calls continue the sequence. */
	in = input(&s, 3, 77, 7);
	ASSERT_EQ_INT(quasirandom_suggest(&in, b, NULL, err, sizeof err), 3);
	ASSERT_TRUE(memcmp(b, a + 9, 9 * sizeof *b) == 0);
	in.seed = 78;
	ASSERT_EQ_INT(quasirandom_suggest(&in, b, NULL, err, sizeof err), 3);
	ASSERT_TRUE(b[0] != a[9]);
	space_free(&s);

	/* A 6-point space: no repeats with noise LOW, one by one or in a
	 * batch, then repeats once exhausted. */
	add_cat(&s, "c", 3);
	add_num(&s, "n", SPACE_INTEGER, SPACE_LINEAR, 1, 2);
	for (uint64_t seed = 0; seed < 10; seed++) {
		double hist[16];
		struct designer_trial done[8];
		double m = 0.0;
		struct pointset ps;
		pointset_init(&ps, 2);
		for (int k = 0; k < 8; k++) {
			in = input(&s, 1, seed, (uint64_t)k);
			in.completed = done;
			in.n_completed = (size_t)k;
			ASSERT_EQ_INT(quasirandom_suggest(&in, hist + 2 * k, NULL, err, sizeof err),
			              1);
			ASSERT_TRUE(space_valid(&s, hist + 2 * k, NULL, 0));
			ASSERT_EQ_INT(pointset_add(&ps, hist + 2 * k), k < 6 ? 1 : 0);
			done[k] = (struct designer_trial){hist + 2 * k, &m, 0};
		}
		pointset_free(&ps);
		double batch[12];
		in = input(&s, 6, seed, 0);
		ASSERT_EQ_INT(quasirandom_suggest(&in, batch, NULL, err, sizeof err), 6);
		pointset_init(&ps, 2);
		for (int k = 0; k < 6; k++)
			ASSERT_EQ_INT(pointset_add(&ps, batch + 2 * k), 1);
		pointset_free(&ps);
	}
	space_free(&s);

	/* Conditional children: absent where inactive. */
	build_conditional(&s);
	double c[4 * 64];
	in = input(&s, 64, 3, 0);
	ASSERT_EQ_INT(quasirandom_suggest(&in, c, NULL, err, sizeof err), 64);
	int invalid = 0;
	for (int k = 0; k < 64; k++)
		invalid += !space_valid(&s, c + 4 * k, NULL, 0);
	ASSERT_EQ_INT(invalid, 0);
	space_free(&s);

	/* Halton above 40 parameters; random above 1229. */
	for (int i = 0; i < 1230; i++) {
		char id[16];
		snprintf(id, sizeof id, "x%d", i);
		add_num(&s, id, SPACE_DOUBLE, SPACE_LINEAR, -1.0, 1.0);
	}
	double *big = malloc(2 * 1230 * sizeof *big);
	in = input(&s, 2, 3, 0);
	ASSERT_EQ_INT(quasirandom_suggest(&in, big, info, err, sizeof err), 2);
	ASSERT_EQ_STR(info[1].source, "random (more than 1229 parameters for quasi-random)");
	ASSERT_TRUE(space_valid(&s, big, NULL, 0));
	s.n = 41;
	ASSERT_EQ_INT(quasirandom_suggest(&in, big, info, err, sizeof err), 2);
	ASSERT_EQ_STR(info[0].source, "halton");
	ASSERT_TRUE(space_valid(&s, big + 41, NULL, 0));
	s.n = 1230;
	free(big);
	space_free(&s);
}

int main(void)
{
	test_points();
	test_low_discrepancy();
	test_suggest();
	return test_done("test-quasirandom");
}
