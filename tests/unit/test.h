/* test.h: the assertions every unit test uses. Each prints both values and
 * where, counts the failure, and lets the test go on; test_done() ends main
 * with the summary and the exit status meson reads. */
#ifndef SIBYL_TEST_H
#define SIBYL_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A test of several files shares one pair of counters: each file is built
 * with TEST_SHARED_COUNTERS and one of them defines the two (the worker
 * tests: tests/api/workload.c). */
#ifdef TEST_SHARED_COUNTERS
extern int test_failures;
extern int test_checks;
#else
static int test_failures;
static int test_checks;
#endif

#define TEST_FAIL(...)                                               \
	do {                                                         \
		test_failures++;                                     \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                        \
		fputc('\n', stderr);                                 \
	} while (0)

#define ASSERT_TRUE(cond)                                      \
	do {                                                   \
		test_checks++;                                 \
		if (!(cond))                                   \
			TEST_FAIL("expected true: %s", #cond); \
	} while (0)

#define ASSERT_EQ_INT(got, want)                                         \
	do {                                                             \
		long long g_ = (long long)(got), w_ = (long long)(want); \
		test_checks++;                                           \
		if (g_ != w_)                                            \
			TEST_FAIL("%s = %lld, want %lld", #got, g_, w_); \
	} while (0)

#define ASSERT_EQ_STR(got, want)                                                        \
	do {                                                                            \
		const char *g_ = (got), *w_ = (want);                                   \
		test_checks++;                                                          \
		if (!g_ || !w_ || strcmp(g_, w_) != 0)                                  \
			TEST_FAIL("%s = \"%s\", want \"%s\"", #got, g_ ? g_ : "(null)", \
			          w_ ? w_ : "(null)");                                  \
	} while (0)

/* |got - want| <= tol, or both NaN. */
#define ASSERT_EQ_DBL(got, want, tol)                                                   \
	do {                                                                            \
		double g_ = (got), w_ = (want), t_ = (tol);                             \
		test_checks++;                                                          \
		if (!((isnan(g_) && isnan(w_)) || fabs(g_ - w_) <= t_))                 \
			TEST_FAIL("%s = %.17g, want %.17g (tol %g)", #got, g_, w_, t_); \
	} while (0)

/* Relative tolerance: |got - want| <= rel * max(|want|, tiny). */
#define ASSERT_REL_DBL(got, want, rel)                                                  \
	do {                                                                            \
		double g_ = (got), w_ = (want), r_ = (rel);                             \
		double s_ = fabs(w_) > 1e-300 ? fabs(w_) : 1e-300;                      \
		test_checks++;                                                          \
		if (!(fabs(g_ - w_) <= r_ * s_))                                        \
			TEST_FAIL("%s = %.17g, want %.17g (rel %g)", #got, g_, w_, r_); \
	} while (0)

static inline int test_done(const char *name)
{
	fprintf(stderr, "%s: %d checks, %d failed\n", name, test_checks, test_failures);
	if (test_checks == 0) {
		fprintf(stderr, "%s: no checks ran\n", name);
		return 1;
	}
	return test_failures ? 1 : 0;
}

#endif
