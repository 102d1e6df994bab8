#include <math.h>
#include <stdlib.h>

#include "designer.h"
#include "grid.h"
#include "pointset.h"
#include "space_fixture.h"
#include "test.h"

static struct designer_metric metric = {DESIGNER_MINIMIZE, 0, 0.0};

static struct designer_input input(const struct space *s, size_t count)
{
	return (struct designer_input){
	    .space = s, .metrics = &metric, .n_metrics = 1, .count = count};
}

/* Number of distinct points among rows of m (n x dim), all valid. */
static size_t distinct_valid(const struct space *s, const double *m, size_t n)
{
	struct pointset ps;
	pointset_init(&ps, s->n);
	size_t d = 0;
	for (size_t k = 0; k < n; k++) {
		char err[256];
		if (!space_valid(s, m + k * s->n, err, sizeof err))
			TEST_FAIL("row %zu invalid: %s", k, err);
		d += pointset_add(&ps, m + k * s->n) == 1;
	}
	pointset_free(&ps);
	return d;
}

static void test_two_params(void)
{
	struct space s = {0};
	add_cat(&s, "c", 3);
	add_num(&s, "x", SPACE_DOUBLE, SPACE_LOG, 1e-3, 10.0);
	struct designer_input in = input(&s, 100);
	double out[200];
	struct designer_info info[100];
	char err[256];
	int n = grid_suggest(&in, out, info, err, sizeof err);
	ASSERT_EQ_INT(n, 3 * DESIGNER_GRID_DOUBLE_STEPS);
	ASSERT_EQ_INT((int)distinct_valid(&s, out, (size_t)n), n);
	ASSERT_EQ_STR(info[0].source, "grid");
	ASSERT_EQ_INT(info[0].model_based, 0);
	/* Fixed order, last parameter fastest, both ends exactly, even steps
	 * in the log space. */
	ASSERT_EQ_DBL(out[0], 0.0, 0.0);
	ASSERT_EQ_DBL(out[1], 1e-3, 0.0);
	ASSERT_EQ_DBL(out[2 * (DESIGNER_GRID_DOUBLE_STEPS - 1) + 1], 10.0, 0.0);
	ASSERT_EQ_DBL(out[2 * DESIGNER_GRID_DOUBLE_STEPS], 1.0, 0.0);
	double step = log(10.0 / 1e-3) / (DESIGNER_GRID_DOUBLE_STEPS - 1);
	for (int k = 1; k < DESIGNER_GRID_DOUBLE_STEPS; k++)
		ASSERT_REL_DBL(log(out[2 * k + 1]) - log(out[2 * k - 1]), step, 1e-9);

	/* Skips used points: the first five pending, the sixth completed. */
	const double *pend[5];
	for (int k = 0; k < 5; k++)
		pend[k] = out + 2 * k;
	double m = 1.0;
	struct designer_trial done = {out + 10, &m, 0};
	struct designer_input in2 = input(&s, 2);
	in2.pending = pend;
	in2.n_pending = 5;
	in2.completed = &done;
	in2.n_completed = 1;
	double out2[4];
	ASSERT_EQ_INT(grid_suggest(&in2, out2, NULL, err, sizeof err), 2);
	ASSERT_TRUE(space_equal(&s, out2, out + 12));
	ASSERT_TRUE(space_equal(&s, out2 + 2, out + 14));

	/* A study run to exhaustion in batches of 7: every point once, then 0. */
	double hist[60];
	const double *ptrs[30];
	size_t nh = 0;
	for (int round = 0; round < 10; round++) {
		struct designer_input ib = input(&s, 7);
		ib.pending = ptrs;
		ib.n_pending = nh;
		double ob[14];
		int got = grid_suggest(&ib, ob, NULL, err, sizeof err);
		ASSERT_TRUE(got >= 0 && got <= 7);
		for (int k = 0; k < got && nh < 30; k++) {
			hist[2 * nh] = ob[2 * k];
			hist[2 * nh + 1] = ob[2 * k + 1];
			ptrs[nh] = hist + 2 * nh;
			nh++;
		}
		if (round == 4)
			ASSERT_EQ_INT(got, 2); /* 28 + 2 = 30 */
		if (round > 4)
			ASSERT_EQ_INT(got, 0);
	}
	ASSERT_EQ_INT((int)nh, 30);
	ASSERT_EQ_INT((int)distinct_valid(&s, hist, nh), 30);
	space_free(&s);
}

static void test_conditional(void)
{
	struct space s = {0};
	build_conditional(&s);
	/* opt 0 and 2: 10 lr steps each; opt 1: layers 1, 2, and 3, 4 x 3. */
	int want = 2 * DESIGNER_GRID_DOUBLE_STEPS + 2 + 2 * 3;
	struct designer_input in = input(&s, 100);
	double out[400];
	char err[256];
	int n = grid_suggest(&in, out, NULL, err, sizeof err);
	ASSERT_EQ_INT(n, want);
	ASSERT_EQ_INT((int)distinct_valid(&s, out, (size_t)n), want);
	int inactive_lr = 0;
	for (int k = 0; k < n; k++)
		inactive_lr += isnan(out[4 * k + 1]);
	ASSERT_EQ_INT(inactive_lr, 8);
	space_free(&s);

	/* Without a DOUBLE the grid is the space: its size is the cardinality. */
	add_cat(&s, "a", 3);
	add_num(&s, "b", SPACE_INTEGER, SPACE_LOG, 1, 4);
	const double dv[] = {16, 32, 64}, pv_b[] = {1}, pv_c[] = {3, 4};
	add_disc(&s, "c", SPACE_LINEAR, dv, 3);
	add_num(&s, "d", SPACE_INTEGER, SPACE_LINEAR, -1, 1);
	set_parent(&s, 1, 0, pv_b, 1);
	set_parent(&s, 2, 1, pv_c, 2);
	struct grid_iter it;
	ASSERT_EQ_INT(grid_iter_init(&it, &s), 0);
	int count = 0;
	for (const double *v = grid_iter_point(&it); v;
	     grid_iter_next(&it), v = grid_iter_point(&it))
		count++;
	ASSERT_EQ_INT(grid_iter_next(&it), 0);
	ASSERT_TRUE(grid_iter_point(&it) == NULL);
	grid_iter_free(&it);
	ASSERT_EQ_DBL(space_cardinality(&s), 30.0, 0.0);
	ASSERT_EQ_INT(count, 30);
	space_free(&s);
}

static void test_huge(void)
{
	/* 10^60 points: never materialised, the scan stops at what is asked. */
	struct space s = {0};
	for (int i = 0; i < 10; i++) {
		char id[8];
		snprintf(id, sizeof id, "p%d", i);
		add_num(&s, id, SPACE_INTEGER, SPACE_LINEAR, 1, 1000000);
	}
	struct designer_input in = input(&s, 3);
	double out[30];
	char err[256];
	ASSERT_EQ_INT(grid_suggest(&in, out, NULL, err, sizeof err), 3);
	ASSERT_EQ_DBL(out[9], 1.0, 0.0);
	ASSERT_EQ_DBL(out[19], 2.0, 0.0);
	ASSERT_EQ_DBL(out[29], 3.0, 0.0);
	ASSERT_EQ_DBL(out[28], 1.0, 0.0);

	/* 2000 used points at the start of the grid are skipped. */
	size_t nu = 2000;
	double *used = malloc(nu * 10 * sizeof *used);
	const double **ptrs = malloc(nu * sizeof *ptrs);
	for (size_t k = 0; k < nu; k++) {
		for (int i = 0; i < 10; i++)
			used[k * 10 + i] = 1.0;
		used[k * 10 + 9] = 1.0 + (double)(k % 1000);
		used[k * 10 + 8] = 1.0 + (double)(k / 1000);
		ptrs[k] = used + k * 10;
	}
	in.pending = ptrs;
	in.n_pending = nu;
	ASSERT_EQ_INT(grid_suggest(&in, out, NULL, err, sizeof err), 3);
	ASSERT_EQ_DBL(out[8], 1.0, 0.0);
	ASSERT_EQ_DBL(out[9], 1001.0, 0.0);
	ASSERT_EQ_DBL(out[19], 1002.0, 0.0);
	free(used);
	free(ptrs);
	space_free(&s);
}

int main(void)
{
	test_two_params();
	test_conditional();
	test_huge();
	return test_done("test-grid");
}
