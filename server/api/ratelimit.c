#include "ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SHARDS    16
#define MIN_PER_SHARD 64
/* Buckets found fully refilled and dropped per call at most, so that one
 * call never walks the whole list. */
#define SWEEP_PER_CALL 4

struct bucket {
	char key[RATELIMIT_KEY_MAX + 1];
	double tokens;
	double last; /* when tokens was computed */
	double rate;
	double burst;
	struct bucket *hnext;         /* hash chain */
	struct bucket *newer, *older; /* LRU list */
};

struct shard {
	pthread_mutex_t mu;
	struct bucket **slots;
	size_t nslots; /* a power of two */
	size_t count;
	size_t cap;
	struct bucket *newest, *oldest;
};

struct ratelimit {
	size_t nshards;
	struct shard shards[MAX_SHARDS];
};

static uint64_t hash_key(const char *k)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *k; k++) {
		h ^= (unsigned char)*k;
		h *= 1099511628211ull;
	}
	/* FNV's high bits barely change between similar short keys; the
	 * murmur3 finalizer spreads every input bit over the whole word. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

struct ratelimit *ratelimit_new(size_t max_buckets)
{
	if (max_buckets == 0)
		max_buckets = 1;
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	/* Small tables get one shard, so that eviction follows one LRU order;
	 * large ones spread their locks over up to MAX_SHARDS. */
	rl->nshards = max_buckets / MIN_PER_SHARD;
	if (rl->nshards < 1)
		rl->nshards = 1;
	if (rl->nshards > MAX_SHARDS)
		rl->nshards = MAX_SHARDS;
	for (size_t i = 0; i < rl->nshards; i++) {
		struct shard *s = &rl->shards[i];
		s->cap = max_buckets / rl->nshards;
		s->nslots = 8;
		while (s->nslots < 2 * s->cap && s->nslots < ((size_t)1 << 20))
			s->nslots *= 2;
		s->slots = calloc(s->nslots, sizeof(*s->slots));
		pthread_mutex_init(&s->mu, NULL);
		if (!s->slots) {
			rl->nshards = i + 1;
			ratelimit_free(rl);
			return NULL;
		}
	}
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	for (size_t i = 0; i < rl->nshards; i++) {
		struct shard *s = &rl->shards[i];
		struct bucket *b = s->newest;
		while (b) {
			struct bucket *n = b->older;
			free(b);
			b = n;
		}
		free(s->slots);
		pthread_mutex_destroy(&s->mu);
	}
	free(rl);
}

static void lru_unlink(struct shard *s, struct bucket *b)
{
	if (b->newer)
		b->newer->older = b->older;
	else
		s->newest = b->older;
	if (b->older)
		b->older->newer = b->newer;
	else
		s->oldest = b->newer;
	b->newer = b->older = NULL;
}

static void lru_push(struct shard *s, struct bucket *b)
{
	b->newer = NULL;
	b->older = s->newest;
	if (s->newest)
		s->newest->newer = b;
	s->newest = b;
	if (!s->oldest)
		s->oldest = b;
}

static void drop(struct shard *s, struct bucket *b, size_t slot)
{
	struct bucket **pp = &s->slots[slot];
	while (*pp && *pp != b)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = b->hnext;
	lru_unlink(s, b);
	free(b);
	s->count--;
}

static size_t slot_of(const struct shard *s, const char *key)
{
	/* The high bits chose the shard; the low bits choose the slot. */
	return (size_t)(hash_key(key) & (s->nslots - 1));
}

/* Tokens the bucket holds at now. */
static double refill(const struct bucket *b, double now)
{
	double dt = now - b->last;
	if (!(dt > 0)) /* also NaN */
		return b->tokens < b->burst ? b->tokens : b->burst;
	double t = b->tokens + dt * b->rate;
	return t > b->burst ? b->burst : t;
}

/* Drops the oldest buckets that are full again (the same as no bucket). */
static void sweep(struct shard *s, double now)
{
	for (int i = 0; i < SWEEP_PER_CALL && s->oldest; i++) {
		struct bucket *b = s->oldest;
		if (refill(b, now) < b->burst)
			break;
		drop(s, b, slot_of(s, b->key));
	}
}

static struct shard *shard_of(struct ratelimit *rl, const char *key)
{
	return &rl->shards[(hash_key(key) >> 32) % rl->nshards];
}

static void copy_key(char dst[RATELIMIT_KEY_MAX + 1], const char *key)
{
	size_t n = strnlen(key, RATELIMIT_KEY_MAX);
	memcpy(dst, key, n);
	dst[n] = '\0';
}

int ratelimit_take(struct ratelimit *rl, const char *key, double rate, double burst, double now)
{
	char k[RATELIMIT_KEY_MAX + 1];
	if (!(rate > 0) || isinf(rate))
		return 0;
	if (!(burst >= 1))
		burst = 1;
	if (isinf(burst))
		return 0;
	copy_key(k, key);
	struct shard *s = shard_of(rl, k);
	size_t slot = slot_of(s, k);
	int retry = 0;

	pthread_mutex_lock(&s->mu);
	struct bucket *b = s->slots[slot];
	while (b && strcmp(b->key, k) != 0)
		b = b->hnext;
	if (b) {
		b->rate = rate;
		b->burst = burst;
		b->tokens = refill(b, now);
		if (now > b->last)
			b->last = now;
		lru_unlink(s, b);
	} else {
		sweep(s, now);
		while (s->count >= s->cap && s->oldest)
			drop(s, s->oldest, slot_of(s, s->oldest->key));
		b = calloc(1, sizeof(*b));
		if (!b) {
			/* Out of memory: let the request through rather than
			 * refuse service for a bookkeeping failure. */
			pthread_mutex_unlock(&s->mu);
			return 0;
		}
		memcpy(b->key, k, sizeof(k));
		b->rate = rate;
		b->burst = burst;
		b->tokens = burst;
		b->last = now;
		b->hnext = s->slots[slot];
		s->slots[slot] = b;
		s->count++;
	}
	lru_push(s, b);
	if (b->tokens >= 1) {
		b->tokens -= 1;
	} else {
		double wait = ceil((1 - b->tokens) / rate);
		retry = wait < 1 ? 1 : wait > 86400 ? 86400 : (int)wait;
	}
	pthread_mutex_unlock(&s->mu);
	return retry;
}

void ratelimit_forget(struct ratelimit *rl, const char *key)
{
	char k[RATELIMIT_KEY_MAX + 1];
	copy_key(k, key);
	struct shard *s = shard_of(rl, k);
	size_t slot = slot_of(s, k);
	pthread_mutex_lock(&s->mu);
	struct bucket *b = s->slots[slot];
	while (b && strcmp(b->key, k) != 0)
		b = b->hnext;
	if (b)
		drop(s, b, slot);
	pthread_mutex_unlock(&s->mu);
}

size_t ratelimit_size(struct ratelimit *rl)
{
	size_t n = 0;
	for (size_t i = 0; i < rl->nshards; i++) {
		pthread_mutex_lock(&rl->shards[i].mu);
		n += rl->shards[i].count;
		pthread_mutex_unlock(&rl->shards[i].mu);
	}
	return n;
}

double ratelimit_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
