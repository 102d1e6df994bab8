/* importance: on constructed problems where only some parameters matter,
 * those come out on top; irrelevant ones score near zero; the scores sum
 * to 1; degenerate inputs are refused or shared equally. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "importance.h"
#include "space_fixture.h"
#include "test.h"

static uint64_t state = 88172645463325252ull;

static double uniform(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (double)(state >> 11) / 9007199254740992.0;
}

static double sum(const double *v, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s;
}

/* y = (x0 - 0.3)^2 + 0.3 (x1 - 0.7)^2: x0 first, x1 second, x2 and x3
 * (no effect) far behind. */
static void test_two_of_four(void)
{
	struct space s = {0};
	add_num(&s, "a", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	add_num(&s, "b", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	add_num(&s, "c", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	add_num(&s, "d", SPACE_INTEGER, SPACE_LINEAR, 1, 10);
	enum { N = 1000, D = 4 };
	double *u = malloc(N * D * sizeof *u), y[N], imp[D];
	for (size_t i = 0; i < N; i++) {
		for (size_t d = 0; d < D; d++)
			u[i * D + d] = uniform();
		y[i] = pow(u[i * D] - 0.3, 2) + 0.3 * pow(u[i * D + 1] - 0.7, 2);
	}
	ASSERT_EQ_INT(importance_ped_anova(&s, u, y, N, imp), 0);
	ASSERT_EQ_DBL(sum(imp, D), 1.0, 1e-12);
	ASSERT_TRUE(imp[0] > imp[1]);
	ASSERT_TRUE(imp[1] > 3 * imp[2] && imp[1] > 3 * imp[3]);
	ASSERT_TRUE(imp[0] > 0.5);
	ASSERT_TRUE(imp[2] < 0.1 && imp[3] < 0.1);
	for (size_t d = 0; d < D; d++)
		ASSERT_TRUE(imp[d] >= 0 && imp[d] <= 1);
	free(u);
	space_free(&s);
}

/* A categorical parameter that decides the value, beside a log-scaled
 * double that does not matter; maximised metrics are negated by the
 * caller, so here lower is better. */
static void test_categorical(void)
{
	struct space s = {0};
	add_num(&s, "lr", SPACE_DOUBLE, SPACE_LOG, 1e-5, 1e-1);
	add_cat(&s, "opt", 4);
	enum { N = 400, D = 2 };
	double u[N * D], y[N], imp[D];
	for (size_t i = 0; i < N; i++) {
		u[i * D] = uniform();
		size_t c = (size_t)(uniform() * 4);
		u[i * D + 1] = ((double)c + 0.5) / 4;
		y[i] = (c == 2 ? 0.0 : 1.0) + 0.01 * uniform();
	}
	ASSERT_EQ_INT(importance_ped_anova(&s, u, y, N, imp), 0);
	ASSERT_TRUE(imp[1] > 0.8);
	ASSERT_EQ_DBL(imp[0] + imp[1], 1.0, 1e-12);
	space_free(&s);
}

/* Only the log-scaled parameter matters, judged on its log scale. */
static void test_log_scale(void)
{
	struct space s = {0};
	add_num(&s, "x", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	add_num(&s, "lr", SPACE_DOUBLE, SPACE_LOG, 1e-5, 1e-1);
	enum { N = 300, D = 2 };
	double u[N * D], y[N], imp[D];
	for (size_t i = 0; i < N; i++) {
		u[i * D] = uniform();
		u[i * D + 1] = uniform();
		y[i] = fabs(u[i * D + 1] - 0.5);
	}
	ASSERT_EQ_INT(importance_ped_anova(&s, u, y, N, imp), 0);
	ASSERT_TRUE(imp[1] > 0.8);
	space_free(&s);
}

static void test_degenerate(void)
{
	struct space s = {0};
	add_num(&s, "a", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	add_num(&s, "b", SPACE_DOUBLE, SPACE_LINEAR, 0, 1);
	double u[6] = {0.1, 0.2, 0.5, 0.6, 0.9, 0.1}, y[3] = {1, 1, 1}, imp[2];
	/* Every value equal: nothing is explained, equal shares. */
	ASSERT_EQ_INT(importance_ped_anova(&s, u, y, 3, imp), 0);
	ASSERT_EQ_DBL(imp[0], 0.5, 0);
	ASSERT_EQ_DBL(imp[1], 0.5, 0);
	/* Too few trials, or a value that is not finite: refused. */
	ASSERT_EQ_INT(importance_ped_anova(&s, u, y, 1, imp), -1);
	y[1] = NAN;
	ASSERT_EQ_INT(importance_ped_anova(&s, u, y, 3, imp), -1);
	y[1] = INFINITY;
	ASSERT_EQ_INT(importance_ped_anova(&s, u, y, 3, imp), -1);
	/* Two trials are enough. */
	y[1] = 0;
	ASSERT_EQ_INT(importance_ped_anova(&s, u, y, 2, imp), 0);
	ASSERT_EQ_DBL(imp[0] + imp[1], 1.0, 1e-12);
	space_free(&s);
}

int main(void)
{
	test_two_of_four();
	test_categorical();
	test_log_scale();
	test_degenerate();
	return test_done("test-importance");
}
