#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "space.h"
#include "space_fixture.h"
#include "test.h"

/* value -> u -> value for one parameter; exact or within rel. */
static void roundtrip_double(enum space_scale sc, double lo, double hi)
{
	struct space s = {0};
	add_num(&s, "x", SPACE_DOUBLE, sc, lo, hi);
	char err[256];
	ASSERT_EQ_INT(space_check(&s, err, sizeof err), 0);
	for (int k = 0; k <= 100; k++) {
		double x;
		if (sc == SPACE_LOG)
			x = exp(log(lo) + (log(hi) - log(lo)) * k / 100.0);
		else
			x = lo + (hi - lo) * k / 100.0;
		if (k == 0)
			x = lo;
		if (k == 100)
			x = hi;
		double u, y;
		space_encode(&s, &x, &u);
		ASSERT_TRUE(u >= 0.0 && u <= 1.0);
		space_decode(&s, &u, &y);
		ASSERT_REL_DBL(y, x, 1e-12);
		ASSERT_TRUE(y >= lo && y <= hi);
		ASSERT_TRUE(space_valid(&s, &y, NULL, 0));
	}
	/* Bounds map to the ends exactly, and back. */
	double x = lo, u, y;
	space_encode(&s, &x, &u);
	ASSERT_EQ_DBL(u, 0.0, 0.0);
	x = hi;
	space_encode(&s, &x, &u);
	ASSERT_EQ_DBL(u, 1.0, 0.0);
	u = 1.0;
	space_decode(&s, &u, &y);
	ASSERT_EQ_DBL(y, hi, 0.0);
	u = 0.0;
	space_decode(&s, &u, &y);
	ASSERT_EQ_DBL(y, lo, 0.0);
	/* Outside the cube: clamped. */
	u = 1.5;
	space_decode(&s, &u, &y);
	ASSERT_EQ_DBL(y, hi, 0.0);
	u = -3.0;
	space_decode(&s, &u, &y);
	ASSERT_EQ_DBL(y, lo, 0.0);
	u = NAN;
	space_decode(&s, &u, &y);
	ASSERT_TRUE(y >= lo && y <= hi);
	/* Just below 1, the float edge: never above the max. */
	for (double e = 1e-17; e < 1e-6; e *= 10) {
		u = 1.0 - e;
		space_decode(&s, &u, &y);
		ASSERT_TRUE(y <= hi && y >= lo);
		u = e;
		space_decode(&s, &u, &y);
		ASSERT_TRUE(y <= hi && y >= lo);
	}
	space_free(&s);
}

static void test_doubles(void)
{
	roundtrip_double(SPACE_LINEAR, -3.0, 7.5);
	roundtrip_double(SPACE_LINEAR, 0.0, 1.0);
	roundtrip_double(SPACE_LOG, 1e-7, 1e-1);
	roundtrip_double(SPACE_LOG, 1.0, 1e6);
	roundtrip_double(SPACE_REVERSE_LOG, 0.9, 0.9999);
	roundtrip_double(SPACE_REVERSE_LOG, 0.5, 0.999999);

	/* Log scale: the midpoint of the cube is the geometric mean. */
	struct space s = {0};
	add_num(&s, "lr", SPACE_DOUBLE, SPACE_LOG, 1e-7, 1e-1);
	double u = 0.5, x;
	space_decode(&s, &u, &x);
	ASSERT_REL_DBL(x, 1e-4, 1e-12);
	space_free(&s);

	/* Reverse log: u = 0.5 sits near the top: lo + hi - sqrt(lo * hi)
	 * mirrored, i.e. 1 - x is geometric between 1 - hi and 1 - lo for
	 * lo + hi = 1-ish; check the defining formula directly. */
	add_num(&s, "m", SPACE_DOUBLE, SPACE_REVERSE_LOG, 0.9, 0.9999);
	u = 0.5;
	space_decode(&s, &u, &x);
	double want = 0.9 + 0.9999 - sqrt(0.9 * 0.9999);
	ASSERT_REL_DBL(x, want, 1e-12);
	x = 0.99;
	space_encode(&s, &x, &u);
	ASSERT_REL_DBL(u, (-log(0.9 + 0.9999 - 0.99) + log(0.9999)) / (-log(0.9) + log(0.9999)),
	               1e-12);
	space_free(&s);

	/* Degenerate range: one value. */
	add_num(&s, "c", SPACE_DOUBLE, SPACE_LINEAR, 2.0, 2.0);
	x = 2.0;
	space_encode(&s, &x, &u);
	ASSERT_EQ_DBL(u, 0.5, 0.0);
	u = 0.9;
	space_decode(&s, &u, &x);
	ASSERT_EQ_DBL(x, 2.0, 0.0);
	space_free(&s);
}

static void roundtrip_int(enum space_scale sc, double lo, double hi)
{
	struct space s = {0};
	add_num(&s, "n", SPACE_INTEGER, sc, lo, hi);
	char err[256];
	ASSERT_EQ_INT(space_check(&s, err, sizeof err), 0);
	double prev_u = -1.0;
	for (double x = lo; x <= hi; x += 1.0) {
		double u, y;
		space_encode(&s, &x, &u);
		ASSERT_TRUE(u > 0.0 && u < 1.0);
		ASSERT_TRUE(u > prev_u);
		prev_u = u;
		space_decode(&s, &u, &y);
		ASSERT_EQ_DBL(y, x, 0.0);
		double snapped = u + 1e-9;
		space_snap(&s, &snapped);
		ASSERT_EQ_DBL(snapped, u, 0.0);
	}
	double u = 0.0, y;
	space_decode(&s, &u, &y);
	ASSERT_EQ_DBL(y, lo, 0.0);
	u = 1.0;
	space_decode(&s, &u, &y);
	ASSERT_EQ_DBL(y, hi, 0.0);
	u = 7.0;
	space_decode(&s, &u, &y);
	ASSERT_EQ_DBL(y, hi, 0.0);
	space_free(&s);
}

static void test_integers(void)
{
	roundtrip_int(SPACE_LINEAR, -5, 5);
	roundtrip_int(SPACE_LINEAR, 3, 3);
	roundtrip_int(SPACE_LOG, 1, 1000);
	roundtrip_int(SPACE_REVERSE_LOG, 1, 200);

	/* Linear integers own equal cells: 4 values, u in quarters. */
	struct space s = {0};
	add_num(&s, "n", SPACE_INTEGER, SPACE_LINEAR, 0, 3);
	int counts[4] = {0};
	for (int k = 0; k < 4000; k++) {
		double u = (k + 0.5) / 4000.0, y;
		space_decode(&s, &u, &y);
		counts[(int)y]++;
	}
	for (int k = 0; k < 4; k++)
		ASSERT_EQ_INT(counts[k], 1000);
	double bad = 1.5;
	char err[256];
	ASSERT_TRUE(!space_valid(&s, &bad, err, sizeof err));
	ASSERT_TRUE(strstr(err, "not an integer") != NULL);
	bad = 4;
	ASSERT_TRUE(!space_valid(&s, &bad, err, sizeof err));
	ASSERT_TRUE(strstr(err, "n = 4") != NULL);
	space_free(&s);
}

static void test_discrete(void)
{
	const double lin[] = {-1.0, 0.0, 0.5, 2.0, 10.0};
	const double lg[] = {1e-5, 1e-4, 3e-3, 0.1, 1.0};
	const double rl[] = {0.9, 0.99, 0.995, 0.999, 0.9999};
	const double *sets[] = {lin, lg, rl};
	enum space_scale scales[] = {SPACE_LINEAR, SPACE_LOG, SPACE_REVERSE_LOG};
	for (int t = 0; t < 3; t++) {
		struct space s = {0};
		add_disc(&s, "d", scales[t], sets[t], 5);
		char err[256];
		ASSERT_EQ_INT(space_check(&s, err, sizeof err), 0);
		for (size_t k = 0; k < 5; k++) {
			double x = sets[t][k], u, y;
			space_encode(&s, &x, &u);
			ASSERT_TRUE(u > 0.0 && u < 1.0);
			space_decode(&s, &u, &y);
			ASSERT_EQ_DBL(y, x, 0.0);
		}
		/* The ends of the cube decode to the end values. */
		double u = 0.0, y;
		space_decode(&s, &u, &y);
		ASSERT_EQ_DBL(y, sets[t][0], 0.0);
		u = 1.0;
		space_decode(&s, &u, &y);
		ASSERT_EQ_DBL(y, sets[t][4], 0.0);
		/* Every decode is one of the values. */
		for (int k = 0; k <= 1000; k++) {
			u = k / 1000.0;
			space_decode(&s, &u, &y);
			ASSERT_TRUE(space_valid(&s, &y, NULL, 0));
		}
		space_free(&s);
	}

	/* Snapping is nearest in the scaled space: on a log scale, 0.0031 is
	 * nearer 3e-3 than 1e-4 but also the log-midpoint of 3e-3 and 0.1 is
	 * about 0.0173, so 0.015 snaps to 3e-3 and 0.02 to 0.1. */
	struct space s = {0};
	add_disc(&s, "d", SPACE_LOG, lg, 5);
	struct space_param *p = &s.params[0];
	double a = log(1e-5) - 0.5 * (log(1e-4) - log(1e-5));
	double b = log(1.0) + 0.5 * (log(1.0) - log(0.1));
	ASSERT_EQ_DBL(space_param_decode(p, (log(0.015) - a) / (b - a)), 3e-3, 0.0);
	ASSERT_EQ_DBL(space_param_decode(p, (log(0.02) - a) / (b - a)), 0.1, 0.0);
	double bad = 0.2;
	char err[256];
	ASSERT_TRUE(!space_valid(&s, &bad, err, sizeof err));
	ASSERT_TRUE(strstr(err, "discrete values") != NULL);
	space_free(&s);

	/* One value. */
	const double one[] = {4.0};
	add_disc(&s, "d", SPACE_LINEAR, one, 1);
	double x = 4.0, u, y;
	space_encode(&s, &x, &u);
	ASSERT_EQ_DBL(u, 0.5, 0.0);
	u = 0.0;
	space_decode(&s, &u, &y);
	ASSERT_EQ_DBL(y, 4.0, 0.0);
	space_free(&s);
}

static void test_categorical(void)
{
	struct space s = {0};
	add_cat(&s, "opt", 3);
	for (int k = 0; k < 3; k++) {
		double x = k, u, y;
		space_encode(&s, &x, &u);
		ASSERT_EQ_DBL(u, (k + 0.5) / 3.0, 1e-15);
		space_decode(&s, &u, &y);
		ASSERT_EQ_DBL(y, x, 0.0);
	}
	double u = 1.0, y;
	space_decode(&s, &u, &y);
	ASSERT_EQ_DBL(y, 2.0, 0.0);
	u = -1.0;
	space_decode(&s, &u, &y);
	ASSERT_EQ_DBL(y, 0.0, 0.0);
	u = 0.34;
	space_snap(&s, &u);
	ASSERT_EQ_DBL(u, 1.5 / 3.0, 1e-15);
	double bad = 3;
	char err[256];
	ASSERT_TRUE(!space_valid(&s, &bad, err, sizeof err));
	ASSERT_TRUE(strstr(err, "category index 3") != NULL);
	ASSERT_EQ_DBL(space_cardinality(&s), 3.0, 0.0);
	space_free(&s);
}

static void test_conditional(void)
{
	struct space s = {0};
	build_conditional(&s);
	char err[256];
	ASSERT_EQ_INT(space_check(&s, err, sizeof err), 0);
	ASSERT_EQ_INT(space_find(&s, "width"), 3);
	ASSERT_EQ_INT(space_find(&s, "nope"), -1);

	double v0[] = {0, 0.01, NAN, NAN};
	ASSERT_TRUE(space_valid(&s, v0, err, sizeof err));
	ASSERT_EQ_INT(space_active(&s, v0, 1), 1);
	ASSERT_EQ_INT(space_active(&s, v0, 2), 0);
	ASSERT_EQ_INT(space_active(&s, v0, 3), 0); /* nested: parent inactive */
	double u[4], back[4];
	space_encode(&s, v0, u);
	ASSERT_EQ_DBL(u[2], 0.5, 0.0);
	ASSERT_EQ_DBL(u[3], 0.5, 0.0);
	space_decode(&s, u, back);
	ASSERT_TRUE(space_equal(&s, back, (double[]){0, back[1], NAN, NAN}));
	ASSERT_REL_DBL(back[1], 0.01, 1e-12);

	double v1[] = {1, NAN, 3, 32};
	ASSERT_TRUE(space_valid(&s, v1, err, sizeof err));
	space_encode(&s, v1, u);
	ASSERT_EQ_DBL(u[1], 0.5, 0.0);
	space_decode(&s, u, back);
	ASSERT_TRUE(space_equal(&s, back, v1));

	double v2[] = {1, NAN, 2, NAN}; /* width inactive for layers = 2 */
	ASSERT_TRUE(space_valid(&s, v2, err, sizeof err));
	space_encode(&s, v2, u);
	space_decode(&s, u, back);
	ASSERT_TRUE(space_equal(&s, back, v2));

	/* Decoding sets inactive children to NAN whatever their u. */
	double uu[] = {0.5 /* opt 1 */, 0.9, 0.1 /* layers 1 */, 0.9};
	space_decode(&s, uu, back);
	ASSERT_EQ_DBL(back[0], 1.0, 0.0);
	ASSERT_TRUE(isnan(back[1]));
	ASSERT_EQ_DBL(back[2], 1.0, 0.0);
	ASSERT_TRUE(isnan(back[3]));
	space_snap(&s, uu);
	ASSERT_EQ_DBL(uu[1], 0.5, 0.0);
	ASSERT_EQ_DBL(uu[3], 0.5, 0.0);
	ASSERT_EQ_DBL(uu[0], 0.5, 1e-15);

	/* Invalid points, with messages. */
	double missing[] = {0, NAN, NAN, NAN};
	ASSERT_TRUE(!space_valid(&s, missing, err, sizeof err));
	ASSERT_EQ_STR(err, "parameter lr is missing");
	double extra[] = {0, 0.01, 2, NAN};
	ASSERT_TRUE(!space_valid(&s, extra, err, sizeof err));
	ASSERT_TRUE(strstr(err, "parameter layers is set but is inactive") != NULL);
	ASSERT_TRUE(strstr(err, "opt") != NULL);
	double nested_extra[] = {1, NAN, 1, 16};
	ASSERT_TRUE(!space_valid(&s, nested_extra, err, sizeof err));
	ASSERT_TRUE(strstr(err, "width") != NULL);
	double out[] = {2, 0.5, NAN, NAN};
	ASSERT_TRUE(!space_valid(&s, out, err, sizeof err));
	ASSERT_TRUE(strstr(err, "outside") != NULL);

	/* Equality: NAN equals NAN, values compare exactly. */
	ASSERT_TRUE(space_equal(&s, v1, (double[]){1, NAN, 3, 32}));
	ASSERT_TRUE(!space_equal(&s, v1, (double[]){1, NAN, 3, 64}));
	ASSERT_TRUE(!space_equal(&s, v1, (double[]){1, 0.01, 3, 32}));

	/* A DOUBLE anywhere: infinite. */
	ASSERT_EQ_DBL(space_cardinality(&s), 0.0, 0.0);
	space_free(&s);
}

static void test_cardinality(void)
{
	struct space s = {0};
	add_cat(&s, "a", 3);
	add_num(&s, "b", SPACE_INTEGER, SPACE_LINEAR, 1, 4);
	const double dv[] = {16, 32, 64};
	add_disc(&s, "c", SPACE_LINEAR, dv, 3);
	const double pv_b[] = {1}, pv_c[] = {3, 4};
	set_parent(&s, 1, 0, pv_b, 1);
	set_parent(&s, 2, 1, pv_c, 2);
	/* a=0,2: 2 points; a=1: b in {1,2}: 2, b in {3,4}: 2 * 3 = 6. */
	ASSERT_EQ_DBL(space_cardinality(&s), 10.0, 0.0);
	space_free(&s);

	add_num(&s, "a", SPACE_INTEGER, SPACE_LINEAR, 0, 999999);
	add_num(&s, "b", SPACE_INTEGER, SPACE_LINEAR, 0, 999999);
	ASSERT_EQ_DBL(space_cardinality(&s), 1e12, 0.0);
	add_num(&s, "c", SPACE_INTEGER, SPACE_LINEAR, 0, 999999);
	ASSERT_EQ_DBL(space_cardinality(&s), 0.0, 0.0); /* 1e18 > 2^53 */
	space_free(&s);
}

static void test_check(void)
{
	struct space s = {0};
	char err[256];
	ASSERT_EQ_INT(space_check(&s, err, sizeof err), -1);
	ASSERT_EQ_STR(err, "the search space has no parameters");
	add_num(&s, "lr", SPACE_DOUBLE, SPACE_LOG, 0.0, 1.0);
	ASSERT_EQ_INT(space_check(&s, err, sizeof err), -1);
	ASSERT_TRUE(strstr(err, "minValue > 0") != NULL);
	s.params[0].scale = SPACE_LINEAR;
	s.params[0].min = 2.0;
	ASSERT_EQ_INT(space_check(&s, err, sizeof err), -1);
	ASSERT_TRUE(strstr(err, "minValue <= maxValue") != NULL);
	s.params[0].min = 0.0;
	ASSERT_EQ_INT(space_check(&s, err, sizeof err), 0);
	add_num(&s, "n", SPACE_INTEGER, SPACE_LOG, 0, 10);
	ASSERT_EQ_INT(space_check(&s, err, sizeof err), -1);
	ASSERT_TRUE(strstr(err, "minValue >= 1") != NULL);
	space_free(&s);
	const double bad[] = {1, 3, 2};
	add_disc(&s, "d", SPACE_LINEAR, bad, 3);
	ASSERT_EQ_INT(space_check(&s, err, sizeof err), -1);
	ASSERT_TRUE(strstr(err, "increasing") != NULL);
	space_free(&s);
	ASSERT_EQ_INT((int)s.n, 0);
	space_free(NULL);
}

/* Any u: snap is encode(decode(u)), decoding is valid, and encoding a
 * valid point and decoding it gives it back. */
static void test_mixed_properties(void)
{
	struct space s = {0};
	build_conditional(&s);
	add_num(&s, "mom", SPACE_DOUBLE, SPACE_REVERSE_LOG, 0.9, 0.9999);
	add_num(&s, "batch", SPACE_INTEGER, SPACE_LOG, 8, 512);
	const double drop[] = {0.0, 0.1, 0.25, 0.5};
	add_disc(&s, "drop", SPACE_REVERSE_LOG, drop + 1, 3);
	size_t n = s.n;
	unsigned long long x = 88172645463325252ULL;
	int invalid = 0, snap_differs = 0, roundtrip_differs = 0;
	for (int k = 0; k < 5000; k++) {
		double u[7], v[7], snapped[7], enc[7], back[7];
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Some coordinates outside the cube on purpose. */
			u[i] = (double)(x >> 11) * 0x1.0p-53 * 1.4 - 0.2;
		}
		space_decode(&s, u, v);
		invalid += !space_valid(&s, v, NULL, 0);
		memcpy(snapped, u, sizeof u);
		space_snap(&s, snapped);
		space_encode(&s, v, enc);
		for (size_t i = 0; i < n; i++)
			snap_differs += !(fabs(snapped[i] - enc[i]) <= 1e-15);
		space_decode(&s, enc, back);
		for (size_t i = 0; i < n; i++) {
			double tol = s.params[i].type == SPACE_DOUBLE ? 1e-12 * fabs(v[i]) : 0.0;
			roundtrip_differs +=
			    !(isnan(v[i]) ? isnan(back[i]) : fabs(back[i] - v[i]) <= tol);
		}
	}
	ASSERT_EQ_INT(invalid, 0);
	ASSERT_EQ_INT(snap_differs, 0);
	ASSERT_EQ_INT(roundtrip_differs, 0);
	space_free(&s);
}

/* Issue 11 item 10: ranges whose max/min is beyond 2^53. The reverse log
 * computed lo + hi - x, where lo + hi rounds to hi, so max encoded to
 * -log(0) and every u decoded to minValue. Sampled on a grid of u, the
 * values must spread over the range (distinct, ordered, inside it), and
 * u = 0.5 must decode to the point whose distance to max is the geometric
 * mean of the two ends' (the defining formula, with lo + hi = hi). */
static void wide_range(enum space_type type, enum space_scale sc, double lo, double hi,
                       int min_distinct)
{
	struct space s = {0};
	add_num(&s, "w", type, sc, lo, hi);
	char err[256];
	ASSERT_EQ_INT(space_check(&s, err, sizeof err), 0);
	double prev = -INFINITY;
	int distinct = 0, at_min = 0;
	for (int k = 1; k < 40; k++) {
		double u = k / 40.0, x, back;
		space_decode(&s, &u, &x);
		ASSERT_TRUE(x >= lo && x <= hi);
		ASSERT_TRUE(x >= prev);
		distinct += x > prev;
		at_min += x == lo;
		prev = x;
		space_encode(&s, &x, &back);
		ASSERT_TRUE(back > 0.0 && (back < 1.0 || x == hi));
		/* Within a few doubles of max (its ulp at 1e20 is 16384) the
		 * reverse log cannot round-trip: such points decode to max. */
		if (type == SPACE_DOUBLE && hi - x > hi * 1e-9)
			ASSERT_TRUE(fabs(back - u) < 1e-6);
	}
	ASSERT_TRUE(distinct >= min_distinct);
	ASSERT_TRUE(at_min <= 1);
	double x = hi, u;
	space_encode(&s, &x, &u);
	ASSERT_EQ_DBL(u, 1.0, type == SPACE_DOUBLE ? 0.0 : 0.05);
	space_free(&s);
}

static void test_wide_ranges(void)
{
	/* Of 39 points, how many differ: on [1, 1e20] the reverse log puts
	 * the upper fifth of the cube within 16384 of max (one double). On
	 * [1e-300, 1e300] all but the lowest few percent lie within a double
	 * of max: that is the scale, not a fault, and still never minValue. */
	wide_range(SPACE_DOUBLE, SPACE_REVERSE_LOG, 1, 1e20, 30);
	wide_range(SPACE_DOUBLE, SPACE_REVERSE_LOG, 1, 1e16, 30);
	wide_range(SPACE_DOUBLE, SPACE_REVERSE_LOG, 1e-300, 1e300, 1);
	wide_range(SPACE_INTEGER, SPACE_REVERSE_LOG, 1, 9007199254740992.0, 38);
	wide_range(SPACE_DOUBLE, SPACE_LOG, 1, 1e20, 39);
	wide_range(SPACE_DOUBLE, SPACE_LOG, 1e-300, 1e300, 39);
	wide_range(SPACE_INTEGER, SPACE_LOG, 1, 9007199254740992.0, 39);

	/* Reverse log on [1, 1e20]: u = 0.5 is 1e20 minus about sqrt(1e20). */
	struct space s = {0};
	add_num(&s, "w", SPACE_DOUBLE, SPACE_REVERSE_LOG, 1, 1e20);
	double u = 0.5, x;
	space_decode(&s, &u, &x);
	ASSERT_REL_DBL(1e20 - x, 1e10, 1e-3);
	space_free(&s);
}

int main(void)
{
	test_doubles();
	test_integers();
	test_discrete();
	test_categorical();
	test_conditional();
	test_cardinality();
	test_check();
	test_mixed_properties();
	test_wide_ranges();
	return test_done("test-space");
}
