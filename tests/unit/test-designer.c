#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "designer.h"
#include "pointset.h"
#include "space_fixture.h"
#include "test.h"

static const struct designer_metric metric = {DESIGNER_MINIMIZE, 0, 0.0};

static struct designer_input input(const struct space *s, size_t count, uint64_t seed)
{
	return (struct designer_input){
	    .space = s, .metrics = &metric, .n_metrics = 1, .count = count, .seed = seed};
}

/* Mixed space with every type and scale and nested conditions. */
static void build_mixed(struct space *s)
{
	build_conditional(s);
	add_num(s, "mom", SPACE_DOUBLE, SPACE_REVERSE_LOG, 0.9, 0.9999);
	add_num(s, "batch", SPACE_INTEGER, SPACE_LOG, 8, 512);
	const double drop[] = {0.0, 0.1, 0.25, 0.5};
	add_disc(s, "drop", SPACE_LINEAR, drop, 4);
}

static void test_bad_input(void)
{
	struct space s = {0};
	build_mixed(&s);
	double out[64];
	char err[256];
	struct designer_input in = input(&s, 0, 1);
	ASSERT_EQ_INT(designer_suggest(DESIGNER_RANDOM, &in, out, NULL, err, sizeof err), -1);
	ASSERT_EQ_STR(err, "the number of suggestions must be at least 1");

	in = input(&s, 1, 1);
	in.n_metrics = 0;
	ASSERT_EQ_INT(designer_suggest(DESIGNER_GRID, &in, out, NULL, err, sizeof err), -1);
	ASSERT_EQ_STR(err, "the study has no metrics");

	in = input(&s, 1, 1);
	in.n_pending = 2;
	ASSERT_EQ_INT(designer_suggest(DESIGNER_QUASI_RANDOM, &in, out, NULL, err, sizeof err), -1);
	ASSERT_EQ_STR(err, "trials are counted but not given");

	in = input(&s, 1, 1);
	ASSERT_EQ_INT(
	    designer_suggest((enum designer_algorithm)99, &in, out, NULL, err, sizeof err), -1);
	ASSERT_EQ_STR(err, "unknown algorithm 99");
	ASSERT_EQ_INT(designer_suggest(DESIGNER_RANDOM, &in, NULL, NULL, err, sizeof err), -1);
	ASSERT_EQ_STR(err, "no output buffer given");
	ASSERT_EQ_INT(designer_suggest(DESIGNER_RANDOM, NULL, out, NULL, err, sizeof err), -1);
	ASSERT_EQ_STR(err, "no search space given");

	struct space empty = {0};
	in = input(&empty, 1, 1);
	ASSERT_EQ_INT(designer_suggest(DESIGNER_RANDOM, &in, out, NULL, err, sizeof err), -1);
	ASSERT_EQ_STR(err, "the search space has no parameters");

	s.params[1].min = -1.0; /* lr on a log scale */
	in = input(&s, 1, 1);
	ASSERT_EQ_INT(designer_suggest(DESIGNER_RANDOM, &in, out, NULL, err, sizeof err), -1);
	ASSERT_TRUE(strstr(err, "parameter lr") && strstr(err, "minValue > 0"));
	space_free(&s);
}

static void test_gp(void)
{
	struct space s = {0};
	add_num(&s, "x", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	double out[2];
	char err[256] = "";
	struct designer_input in = input(&s, 2, 1);
	int rc = designer_suggest(DESIGNER_GP_EI, &in, out, NULL, err, sizeof err);
	ASSERT_EQ_INT(rc, 2);
	ASSERT_TRUE(space_valid(&s, out, NULL, 0) && space_valid(&s, out + 1, NULL, 0));
	space_free(&s);
}

static void test_dispatch(void)
{
	struct space s = {0};
	build_mixed(&s);
	size_t n = s.n;
	enum designer_algorithm algs[] = {DESIGNER_RANDOM, DESIGNER_QUASI_RANDOM, DESIGNER_GRID};
	const char *sources[] = {"random", "sobol", "grid"};
	enum { COUNT = 50 };
	double *out = malloc(COUNT * n * sizeof *out), *again = malloc(COUNT * n * sizeof *out);
	struct designer_info info[COUNT];
	for (int a = 0; a < 3; a++) {
		for (uint64_t seed = 0; seed < 20; seed++) {
			char err[256];
			struct designer_input in = input(&s, COUNT, seed);
			in.position = seed * 3;
			int rc = designer_suggest(algs[a], &in, out, info, err, sizeof err);
			ASSERT_EQ_INT(rc, COUNT);
			int invalid = 0, wrong_source = 0;
			for (int k = 0; k < rc; k++) {
				invalid += !space_valid(&s, out + k * n, NULL, 0);
				wrong_source += strcmp(info[k].source, sources[a]) != 0;
			}
			ASSERT_EQ_INT(invalid, 0);
			ASSERT_EQ_INT(wrong_source, 0);
			/* Deterministic given seed and history. */
			ASSERT_EQ_INT(designer_suggest(algs[a], &in, again, NULL, err, sizeof err),
			              COUNT);
			int differ = 0;
			for (size_t i = 0; i < COUNT * n; i++)
				differ +=
				    !(out[i] == again[i] || (isnan(out[i]) && isnan(again[i])));
			ASSERT_EQ_INT(differ, 0);
			struct pointset ps;
			pointset_init(&ps, n);
			int repeats = 0;
			for (int k = 0; k < rc; k++)
				repeats += pointset_add(&ps, out + k * n) == 0;
			pointset_free(&ps);
			ASSERT_EQ_INT(repeats, 0);
		}
	}
	free(out);
	free(again);
	space_free(&s);
}

static void test_grid_exhaustion(void)
{
	struct space s = {0};
	add_cat(&s, "c", 2);
	add_num(&s, "n", SPACE_INTEGER, SPACE_LINEAR, 0, 1);
	double out[8], all[8];
	const double *pend[4];
	char err[256];
	struct designer_input in = input(&s, 4, 0);
	ASSERT_EQ_INT(designer_suggest(DESIGNER_GRID, &in, all, NULL, err, sizeof err), 4);
	for (int k = 0; k < 4; k++)
		pend[k] = all + 2 * k;
	in.pending = pend;
	in.n_pending = 3;
	ASSERT_EQ_INT(designer_suggest(DESIGNER_GRID, &in, out, NULL, err, sizeof err), 1);
	ASSERT_TRUE(space_equal(&s, out, all + 6));
	in.n_pending = 4;
	ASSERT_EQ_INT(designer_suggest(DESIGNER_GRID, &in, out, NULL, err, sizeof err), 0);
	/* Random still answers on an exhausted space (repeats are all that is
	 * left). */
	ASSERT_EQ_INT(designer_suggest(DESIGNER_RANDOM, &in, out, NULL, err, sizeof err), 4);
	space_free(&s);
}

int main(void)
{
	test_bad_input();
	test_gp();
	test_dispatch();
	test_grid_exhaustion();
	return test_done("test-designer");
}
