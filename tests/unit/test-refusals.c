/* refusals: the first refusal of a window writes an entry, repeats are
 * counted and handed out at most once a second, a window ends after its
 * length, a full set pushes out its oldest window with its counts, and
 * drain hands out everything. Times are given, not read. */
#include <stdio.h>
#include <stdlib.h>

#include "refusals.h"
#include "test.h"

static int64_t sum(const struct refusal_count *c, size_t n, int64_t id)
{
	int64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += c[i].id == id ? c[i].n : 0;
	return s;
}

static void test_window(void)
{
	struct refusals *r = refusals_new(16, 60000);
	struct refusal_count c[REFUSALS_MAX_COUNTS];
	size_t n;
	ASSERT_TRUE(r != NULL);
	ASSERT_EQ_INT(refusals_note(r, "k|POST|a|403", 1000, c, &n), 1);
	ASSERT_EQ_INT(n, 0);
	/* repeats before the entry is written are kept for it */
	ASSERT_EQ_INT(refusals_note(r, "k|POST|a|403", 1001, c, &n), 0);
	refusals_written(r, "k|POST|a|403", 7);
	for (int i = 0; i < 98; i++) {
		ASSERT_EQ_INT(refusals_note(r, "k|POST|a|403", 1002 + i, c, &n), 0);
		ASSERT_EQ_INT(n, 0); /* within a second of the window's start */
	}
	/* a second later the 100 repeats so far go out, then none for a second */
	ASSERT_EQ_INT(refusals_note(r, "k|POST|a|403", 2000, c, &n), 0);
	ASSERT_EQ_INT(n, 1);
	ASSERT_EQ_INT(c[0].id, 7);
	ASSERT_EQ_INT(c[0].n, 100);
	ASSERT_EQ_INT(c[0].last, 2000);
	ASSERT_EQ_INT(refusals_note(r, "k|POST|a|403", 2500, c, &n), 0);
	ASSERT_EQ_INT(n, 0);
	/* another status is another window */
	ASSERT_EQ_INT(refusals_note(r, "k|POST|a|404", 2600, c, &n), 1);
	refusals_written(r, "k|POST|a|404", 8);
	/* the window ends: its last repeat goes out, a new entry is due */
	ASSERT_EQ_INT(refusals_note(r, "k|POST|a|403", 61000, c, &n), 1);
	ASSERT_EQ_INT(sum(c, n, 7), 1);
	refusals_written(r, "k|POST|a|403", 9);
	ASSERT_EQ_INT(refusals_note(r, "k|POST|a|403", 61001, c, &n), 0);
	ASSERT_EQ_INT(refusals_note(r, "k|POST|a|404", 62700, c, &n), 1); /* its window ended */
	refusals_written(r, "k|POST|a|404", 11);
	/* a clock that went back ends the window */
	ASSERT_EQ_INT(refusals_note(r, "k|POST|a|404", 500, c, &n), 1);
	refusals_written(r, "k|POST|a|404", 10);
	size_t dn = 0;
	struct refusal_count *d = refusals_drain(r, &dn);
	ASSERT_EQ_INT(sum(d, dn, 9), 1);
	free(d);
	d = refusals_drain(r, &dn);
	ASSERT_TRUE(d == NULL && dn == 0);
	refusals_free(r);
}

/* An entry that could not be written drops its window: the next refusal
 * writes again. */
static void test_not_written(void)
{
	struct refusals *r = refusals_new(4, 60000);
	struct refusal_count c[REFUSALS_MAX_COUNTS];
	size_t n;
	ASSERT_EQ_INT(refusals_note(r, "x", 10, c, &n), 1);
	ASSERT_EQ_INT(refusals_note(r, "x", 11, c, &n), 0);
	refusals_written(r, "x", 0);
	ASSERT_EQ_INT(refusals_note(r, "x", 12, c, &n), 1);
	refusals_free(r);
}

/* Memory is bounded: with more keys than windows, the oldest windows go,
 * handing out their counts, and nothing is lost. */
static void test_bounded(void)
{
	struct refusals *r = refusals_new(4, 60000); /* one set of 4 */
	struct refusal_count c[REFUSALS_MAX_COUNTS];
	size_t n;
	int64_t out = 0, fresh = 0;
	for (int round = 0; round < 3; round++) {
		for (int k = 0; k < 10; k++) {
			char key[16];
			snprintf(key, sizeof(key), "key%d", k);
			int64_t now = 100 + round * 10 + k;
			if (refusals_note(r, key, now, c, &n)) {
				fresh++;
				refusals_written(r, key, 100 + k);
			}
			for (size_t i = 0; i < n; i++)
				out += c[i].n;
			ASSERT_EQ_INT(refusals_note(r, key, now, c, &n), 0); /* a repeat */
			for (size_t i = 0; i < n; i++)
				out += c[i].n;
		}
	}
	size_t dn = 0;
	struct refusal_count *d = refusals_drain(r, &dn);
	ASSERT_TRUE(dn <= 4);
	for (size_t i = 0; i < dn; i++)
		out += d[i].n;
	free(d);
	/* every refusal is an entry or a count */
	ASSERT_EQ_INT(fresh + out, 60);
	refusals_free(r);
}

int main(void)
{
	test_window();
	test_not_written();
	test_bounded();
	return test_done("test-refusals");
}
