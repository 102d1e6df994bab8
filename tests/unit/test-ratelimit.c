/* ratelimit: token bucket refill, Retry-After, bounded memory, threads.
 * Time is passed in, so nothing here depends on the machine's speed. */
#include <pthread.h>

#include "ratelimit.h"
#include "test.h"

static void test_unlimited(void)
{
	struct ratelimit *rl = ratelimit_new(16);
	ASSERT_TRUE(rl != NULL);
	int refused = 0;
	for (int i = 0; i < 1000; i++) {
		refused += ratelimit_take(rl, "k", 0, 1, 0) != 0;
		refused += ratelimit_take(rl, "k", -5, 1, 0) != 0;
		refused += ratelimit_take(rl, "k", NAN, 1, 0) != 0;
		refused += ratelimit_take(rl, "k", INFINITY, 1, 0) != 0;
	}
	ASSERT_EQ_INT(refused, 0);
	/* No limit, no bucket. */
	ASSERT_EQ_INT(ratelimit_size(rl), 0);
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

static void test_burst_and_refill(void)
{
	struct ratelimit *rl = ratelimit_new(16);
	/* 1 request a second, burst 3: three at once, then one a second. */
	ASSERT_EQ_INT(ratelimit_take(rl, "k", 1, 3, 100.0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "k", 1, 3, 100.0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "k", 1, 3, 100.0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "k", 1, 3, 100.0), 1);
	ASSERT_EQ_INT(ratelimit_take(rl, "k", 1, 3, 100.5), 1); /* half a token: wait 0.5 s -> 1 */
	ASSERT_EQ_INT(ratelimit_take(rl, "k", 1, 3, 101.0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "k", 1, 3, 101.0), 1);
	/* A refused request takes nothing: the token is there a second later. */
	ASSERT_EQ_INT(ratelimit_take(rl, "k", 1, 3, 102.0), 0);
	/* A long idle time refills to the burst and no more. */
	ASSERT_EQ_INT(ratelimit_take(rl, "k", 1, 3, 10000.0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "k", 1, 3, 10000.0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "k", 1, 3, 10000.0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "k", 1, 3, 10000.0), 1);
	ratelimit_free(rl);
}

static void test_retry_after(void)
{
	struct ratelimit *rl = ratelimit_new(16);
	/* 0.25/s: a token every 4 s. */
	ASSERT_EQ_INT(ratelimit_take(rl, "slow", 0.25, 1, 0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "slow", 0.25, 1, 0), 4);
	ASSERT_EQ_INT(ratelimit_take(rl, "slow", 0.25, 1, 1), 3);
	ASSERT_EQ_INT(ratelimit_take(rl, "slow", 0.25, 1, 3.9), 1);
	ASSERT_EQ_INT(ratelimit_take(rl, "slow", 0.25, 1, 4), 0);
	/* Fast rates still say at least one second. */
	ASSERT_EQ_INT(ratelimit_take(rl, "fast", 1000, 1, 0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "fast", 1000, 1, 0), 1);
	ASSERT_EQ_INT(ratelimit_take(rl, "fast", 1000, 1, 0.001), 0);
	/* A tiny rate is capped at a day rather than overflowing. */
	ASSERT_EQ_INT(ratelimit_take(rl, "tiny", 1e-12, 1, 0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "tiny", 1e-12, 1, 0), 86400);
	ratelimit_free(rl);
}

static void test_edges(void)
{
	struct ratelimit *rl = ratelimit_new(16);
	/* burst below 1 counts as 1. */
	ASSERT_EQ_INT(ratelimit_take(rl, "b", 1, 0, 0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "b", 1, 0, 0), 1);
	ASSERT_EQ_INT(ratelimit_take(rl, "n", 1, NAN, 0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "n", 1, NAN, 0), 1);
	/* Time going backwards gives no tokens. */
	ASSERT_EQ_INT(ratelimit_take(rl, "t", 1, 1, 50), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "t", 1, 1, 10), 1);
	ASSERT_EQ_INT(ratelimit_take(rl, "t", 1, 1, NAN), 1);
	ASSERT_EQ_INT(ratelimit_take(rl, "t", 1, 1, 51), 0);
	/* Keys are independent. */
	ASSERT_EQ_INT(ratelimit_take(rl, "x", 1, 1, 0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "x", 1, 1, 0), 1);
	ASSERT_EQ_INT(ratelimit_take(rl, "y", 1, 1, 0), 0);
	/* A changed quota applies at once: a lower burst empties the excess,
	 * a higher rate refills faster. */
	for (int i = 0; i < 5; i++)
		ASSERT_EQ_INT(ratelimit_take(rl, "q", 1, 10, 0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "q", 1, 2, 0), 0); /* 5 left, cut to 2, take 1 */
	ASSERT_EQ_INT(ratelimit_take(rl, "q", 1, 2, 0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "q", 1, 2, 0), 1);
	ASSERT_EQ_INT(ratelimit_take(rl, "q", 10, 2, 0.1), 0);
	/* Keys longer than RATELIMIT_KEY_MAX share the bucket of their prefix. */
	char a[RATELIMIT_KEY_MAX + 10], b[RATELIMIT_KEY_MAX + 10];
	memset(a, 'z', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[RATELIMIT_KEY_MAX + 3] = 'w';
	ASSERT_EQ_INT(ratelimit_take(rl, a, 1, 1, 0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, b, 1, 1, 0), 1);
	/* Forgetting a key gives it a full bucket. */
	ASSERT_EQ_INT(ratelimit_take(rl, "x", 1, 1, 0), 1);
	size_t before = ratelimit_size(rl);
	ratelimit_forget(rl, "x");
	ratelimit_forget(rl, "never-seen");
	ASSERT_EQ_INT(ratelimit_size(rl), before - 1);
	ASSERT_EQ_INT(ratelimit_take(rl, "x", 1, 1, 0), 0);
	ratelimit_free(rl);
}

static void test_bounded(void)
{
	char key[32];
	struct ratelimit *rl = ratelimit_new(64);
	/* Many keys, all still refilling: the table never grows past 64. */
	size_t most = 0;
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		ratelimit_take(rl, key, 1, 5, 0);
		size_t n = ratelimit_size(rl);
		if (n > most)
			most = n;
	}
	ASSERT_TRUE(most <= 64);
	ASSERT_TRUE(most >= 32); /* and it does hold buckets */
	ratelimit_free(rl);

	/* One bucket only: the least recently used key is forgotten and starts
	 * again full. */
	rl = ratelimit_new(1);
	ASSERT_EQ_INT(ratelimit_take(rl, "a", 1, 1, 0), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, "a", 1, 1, 0), 1);
	ASSERT_EQ_INT(ratelimit_take(rl, "b", 1, 1, 0), 0);
	ASSERT_EQ_INT(ratelimit_size(rl), 1);
	ASSERT_EQ_INT(ratelimit_take(rl, "a", 1, 1, 0), 0);
	ratelimit_free(rl);

	/* Buckets that have refilled are dropped when new keys arrive, so idle
	 * keys do not hold memory. */
	rl = ratelimit_new(16);
	for (int i = 0; i < 16; i++) {
		snprintf(key, sizeof(key), "idle-%d", i);
		ratelimit_take(rl, key, 1, 1, 0);
	}
	size_t held = ratelimit_size(rl);
	ASSERT_TRUE(held > 0);
	for (int i = 0; i < 64; i++) {
		snprintf(key, sizeof(key), "new-%d", i);
		ratelimit_take(rl, key, 1000, 1000, 3600);
		ratelimit_forget(rl, key);
	}
	/* Every idle bucket was full again at t=3600, so the sweeps took them. */
	ASSERT_EQ_INT(ratelimit_size(rl), 0);
	ratelimit_free(rl);
}

#define THREADS 8
#define CALLS   2000

struct worker {
	struct ratelimit *rl;
	const char *key;
	int allowed;
	int bad_retry;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char other[32];
	for (int i = 0; i < CALLS; i++) {
		/* The clock stands still: only the burst can be spent. */
		int r = ratelimit_take(w->rl, w->key, 0.5, 100, 7.0);
		if (r == 0)
			w->allowed++;
		else if (r != 2)
			w->bad_retry++;
		/* Churn other keys at the same time to exercise eviction. */
		snprintf(other, sizeof(other), "%s-%d", w->key, i % 300);
		ratelimit_take(w->rl, other, 1, 1, 7.0);
	}
	return NULL;
}

static void test_threads(void)
{
	struct ratelimit *rl = ratelimit_new(256);
	pthread_t th[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.rl = rl, .key = "shared"};
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	int allowed = 0, bad = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		allowed += w[i].allowed;
		bad += w[i].bad_retry;
	}
	/* The "shared" bucket may be evicted by the churn (it is then fresh
	 * again), so count only while it is the most recent: every thread
	 * touches it on every other call, so it never is the LRU victim. */
	ASSERT_EQ_INT(allowed, 100);
	ASSERT_EQ_INT(bad, 0);
	ASSERT_TRUE(ratelimit_size(rl) <= 256);
	ratelimit_free(rl);
}

/* Owner buckets are "o:" and an owner id of up to 128 characters: two
 * long ids that differ only at the end are two buckets. */
static void test_long_keys(void)
{
	struct ratelimit *rl = ratelimit_new(16);
	char a[140], b[140];
	memset(a, 'x', 130);
	memcpy(a, "o:", 2);
	a[130] = '\0';
	memcpy(b, a, sizeof(a));
	b[129] = 'y';
	ASSERT_EQ_INT(ratelimit_take(rl, a, 1, 1, 100), 0);
	ASSERT_EQ_INT(ratelimit_take(rl, b, 1, 1, 100), 0); /* its own bucket */
	ASSERT_EQ_INT(ratelimit_take(rl, a, 1, 1, 100), 1);
	ASSERT_EQ_INT(ratelimit_size(rl), 2);
	ratelimit_free(rl);
}

int main(void)
{
	double t0 = ratelimit_now();
	double t1 = ratelimit_now();
	ASSERT_TRUE(t1 >= t0);
	test_unlimited();
	test_burst_and_refill();
	test_retry_after();
	test_edges();
	test_bounded();
	test_threads();
	test_long_keys();
	return test_done("test-ratelimit");
}
