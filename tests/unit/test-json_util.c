/* json_util: depth check, durations (including the int64 overflow the fuzz
 * corpus found), timestamps, ids, int64 inputs, shortest reals. */
#include "json_util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

static int64_t dur(const char *s, int *ok)
{
	json_t *v = json_string(s);
	int64_t ns = -1;
	struct err e;
	*ok = ju_duration(v, "d", &ns, &e) == 0;
	json_decref(v);
	return ns;
}

static void test_durations(void)
{
	int ok;
	ASSERT_EQ_INT(dur("12.5s", &ok), 12500000000LL);
	ASSERT_TRUE(ok);
	ASSERT_EQ_INT(dur("0s", &ok), 0);
	ASSERT_TRUE(ok);
	ASSERT_EQ_INT(dur(".25s", &ok), 250000000);
	ASSERT_TRUE(ok);
	ASSERT_EQ_INT(dur("1.000000001s", &ok), 1000000001);
	ASSERT_TRUE(ok);
	ASSERT_EQ_INT(dur("9223372035s", &ok), 9223372035000000000LL);
	ASSERT_TRUE(ok);
	const char *bad[] = {"", "s", "12", "-1s", "1.5", "1.0000000001s", "1e3s", "1 s", "1ss",
	                     /* found by fuzz-body: secs * 1e9 overflowed int64 */
	                     "315576000000s", "9223372037s", "99999999999999999999s"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dur(bad[i], &ok);
		if (ok)
			TEST_FAIL("duration \"%s\" was accepted", bad[i]);
		test_checks++;
	}
	char buf[48];
	ju_format_duration(12500000000LL, buf, sizeof(buf));
	ASSERT_EQ_STR(buf, "12.500s");
	ju_format_duration(3000000000LL, buf, sizeof(buf));
	ASSERT_EQ_STR(buf, "3s");
	ju_format_duration(1000001, buf, sizeof(buf));
	ASSERT_EQ_STR(buf, "0.001000001s");
	ju_format_duration(1500, buf, sizeof(buf));
	ASSERT_EQ_STR(buf, "0.000001500s");
}

static void test_times(void)
{
	char buf[48];
	struct err e;
	int64_t ms;
	ju_format_time(1795773600123LL, buf, sizeof(buf));
	ASSERT_EQ_STR(buf, "2026-11-27T10:00:00.123Z");
	json_t *v = json_string("2026-11-27T10:00:00.123Z");
	ASSERT_EQ_INT(ju_time(v, "t", &ms, &e), 0);
	ASSERT_EQ_INT(ms, 1795773600123LL);
	json_decref(v);
	v = json_string("2026-11-27T12:00:00+02:00");
	ASSERT_EQ_INT(ju_time(v, "t", &ms, &e), 0);
	ASSERT_EQ_INT(ms, 1795773600000LL);
	json_decref(v);
	const char *bad[] = {"2026-11-27", "2026-13-01T00:00:00Z", "2026-11-27T10:00:00",
	                     "2026-11-27T10:00:00Zjunk", "yesterday"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = json_string(bad[i]);
		ASSERT_TRUE(ju_time(v, "t", &ms, &e) < 0);
		json_decref(v);
	}
}

static void test_depth_and_body(void)
{
	ASSERT_EQ_INT(ju_depth("{\"a\":[1,{\"b\":2}]}", 17, 32), 3);
	ASSERT_EQ_INT(ju_depth("{\"a\":\"[[[[\\\"[[[\"}", 17, 32), 1);
	ASSERT_EQ_INT(ju_depth("[[[[[[", 6, 3), 4);
	struct err e;
	json_t *j = ju_parse_body("  ", 2, 32, &e);
	ASSERT_TRUE(json_is_object(j) && json_object_size(j) == 0);
	json_decref(j);
	ASSERT_TRUE(ju_parse_body("[[[[1]]]]", 9, 3, &e) == NULL);
	ASSERT_TRUE(strstr(e.msg, "deeper") != NULL);
	ASSERT_TRUE(ju_parse_body("{\"a\":1,\"a\":2}", 13, 32, &e) == NULL);
	ASSERT_TRUE(ju_parse_body("1", 1, 32, &e) == NULL);
}

static void test_scalars(void)
{
	struct err e;
	int64_t x;
	double d;
	json_t *v = json_string("-42");
	ASSERT_EQ_INT(ju_int64(v, "x", &x, &e), 0);
	ASSERT_EQ_INT(x, -42);
	json_decref(v);
	v = json_string("4x");
	ASSERT_TRUE(ju_int64(v, "x", &x, &e) < 0);
	json_decref(v);
	v = json_real(3.0);
	ASSERT_EQ_INT(ju_int64(v, "x", &x, &e), 0);
	ASSERT_EQ_INT(x, 3);
	json_decref(v);
	v = json_string("Infinity");
	ASSERT_TRUE(ju_double(v, "x", &d, &e) < 0);
	ASSERT_TRUE(strstr(e.msg, "finite") != NULL);
	json_decref(v);
	ASSERT_TRUE(ju_is_id("a.b-c_9"));
	ASSERT_TRUE(!ju_is_id("-a"));
	ASSERT_TRUE(!ju_is_id("a/b"));
	ASSERT_TRUE(!ju_is_id(""));
	char id[130];
	memset(id, 'a', 129);
	id[129] = '\0';
	ASSERT_TRUE(!ju_is_id(id));
	id[128] = '\0';
	ASSERT_TRUE(ju_is_id(id));
}

static void test_shortest_reals(void)
{
	json_t *o = json_pack("{s:f,s:f,s:f,s:i,s:s,s:f}", "a", 0.95, "b", 64.0, "c", 1e-300, "d",
	                      -7, "e", "0.94999999999999996", "f", 0.1 + 0.2);
	char *s = ju_canonical(o);
	ASSERT_EQ_STR(s, "{\"a\":0.95,\"b\":64.0,\"c\":1e-300,\"d\":-7,\"e\":"
	                 "\"0.94999999999999996\",\"f\":0.30000000000000004}");
	/* and it reads back to the same doubles */
	json_t *back = json_loads(s, 0, NULL);
	ASSERT_TRUE(json_real_value(json_object_get(back, "f")) == 0.1 + 0.2);
	json_decref(back);
	free(s);
	json_decref(o);
}

/* Round numbers as a person writes them (100.0, not 1e+02: "%.1g" is
 * shortest but reads as exponent form), up to 1e15; larger ones and tiny
 * ones keep the exponent (jansson's own text when no longer), and every
 * text reads back to the same double. */
static void test_round_reals(void)
{
	static const struct {
		double v;
		const char *text;
	} cases[] = {
	    {100, "100.0"},     {1000, "1000.0"},    {-1e3, "-1000.0"},
	    {150, "150.0"},     {12300, "12300.0"},  {1e15, "1000000000000000.0"},
	    {1e16, "1e+16"},    {1e20, "1e20"},      {1.5e300, "1.5e+300"},
	    {1e-05, "1e-05"},   {0.001, "0.001"},    {10, "10.0"},
	    {123.25, "123.25"}, {2.5e-7, "2.5e-07"}, {9007199254740993.0, "9007199254740992.0"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *a = json_pack("[f]", cases[i].v);
		char *s = ju_dump(a, 0), want[64];
		snprintf(want, sizeof want, "[%s]", cases[i].text);
		ASSERT_EQ_STR(s, want);
		json_t *back = json_loads(s, 0, NULL);
		ASSERT_TRUE(json_real_value(json_array_get(back, 0)) == cases[i].v);
		json_decref(back);
		free(s);
		json_decref(a);
	}
}

/* The text ju_dump gives a real, found the slow way: the lowest "%g"
 * precision that reads back, a round number as written, never longer than
 * jansson's own text. */
static void slow_shortest(double d, char *out, size_t cap)
{
	json_t *a = json_pack("[f]", d);
	char *j = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(17));
	char t[64];
	int p = 1;
	for (; p < 17; p++) {
		snprintf(t, sizeof t, "%.*g", p, d);
		if (strtod(t, NULL) == d)
			break;
	}
	snprintf(t, sizeof t, "%.*g", p, d);
	if (strstr(t, "e+") && fabs(d) < 1e16)
		snprintf(t, sizeof t, "%.0f", d);
	if (!strpbrk(t, ".eEni"))
		memcpy(t + strlen(t), ".0", 3);
	if (strlen(t) + 2 <= strlen(j))
		snprintf(out, cap, "[%s]", t);
	else
		snprintf(out, cap, "%s", j);
	free(j);
	json_decref(a);
}

/* ju_dump's quick search (15 digits first) gives the same text as trying
 * every precision, on decimals of 1 to 17 digits at every exponent, on
 * random bit patterns and on subnormals (fewer digits of their own). */
static void test_shortest_as_slow(void)
{
	uint64_t x = 88172645463325252u;
	int bad = 0;
	for (int i = 0; i < 20000 && bad < 5; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		double d;
		if (i % 3 == 0) {
			memcpy(&d, &x, sizeof d);
			if (!isfinite(d))
				continue;
		} else if (i % 3 == 1) {
			char txt[64];
			int digits = 1 + (int)(x % 17), ex = (int)((x >> 8) % 630) - 330;
			snprintf(txt, sizeof txt, "%.*e", digits - 1,
			         (double)(x >> 11) / 9007199254740992.0);
			snprintf(strchr(txt, 'e'), 16, "e%d", ex);
			d = strtod(txt, NULL); /* 1e-330 reads as 0, 9e299 stays finite */
		} else {
			d = (double)(x % 100000) * 4.9406564584124654e-324 * (double)(1 + i % 7);
		}
		json_t *a = json_pack("[f]", d);
		char *s = ju_dump(a, 0), want[80];
		slow_shortest(d, want, sizeof want);
		if (strcmp(s, want) != 0) {
			fprintf(stderr, "%.17g: ju_dump %s, slow search %s\n", d, s, want);
			bad++;
		}
		free(s);
		json_decref(a);
	}
	ASSERT_TRUE(bad == 0);
}

/* A complete or measurement stored by an older sibyld (1e+02) is the same
 * as its retry canonicalized now (100.0); other differences are not. */
static void test_same_canonical(void)
{
	ASSERT_TRUE(ju_same_canonical("{\"a\":1}", "{\"a\":1}"));
	ASSERT_TRUE(ju_same_canonical("{\"metrics\":[{\"metricId\":\"acc\",\"value\":1e+02}]}",
	                              "{\"metrics\":[{\"metricId\":\"acc\",\"value\":100.0}]}"));
	ASSERT_TRUE(!ju_same_canonical("{\"v\":1e+02}", "{\"v\":1000.0}"));
	ASSERT_TRUE(!ju_same_canonical("{\"v\":0.5}", "{\"v\":0.25}"));
	ASSERT_TRUE(!ju_same_canonical("{\"v\":1e+02}", "not json"));
	ASSERT_TRUE(!ju_same_canonical("{\"s\":\"1e+02\"}", "{\"s\":\"100.0\"}"));
}

int main(void)
{
	test_durations();
	test_times();
	test_depth_and_body();
	test_scalars();
	test_shortest_reals();
	test_round_reals();
	test_shortest_as_slow();
	test_same_canonical();
	return test_done("unit-json_util");
}
