/* ratelimit: one token bucket per key, e.g. an owner (requests per second plus a
 * burst), shared by all HTTP threads.
 *
 * A bucket starts full (burst tokens), refills at rate tokens a second up to
 * burst, and each request takes one token. A bucket that has refilled to
 * burst is the same as a new one, so it can be forgotten: memory stays
 * bounded by max_buckets, and buckets idle longer than it takes to refill
 * are dropped first. When the table is full of buckets still refilling, the
 * least recently used one is dropped (that key starts again with a full
 * bucket: bounded memory wins over exactness for a key idle the longest).
 *
 * A large table is split into up to 16 shards, each with its own mutex and
 * LRU order, so that requests of different keys rarely wait for each other. Times are seconds on a
 * monotonic clock, passed in so that tests control them. */
#ifndef SIBYL_RATELIMIT_H
#define SIBYL_RATELIMIT_H

#include <stddef.h>

#define RATELIMIT_KEY_MAX 136 /* longer keys are cut ("o:" and an owner id: 130) */

struct ratelimit;

/* max_buckets: the most buckets kept at once (at least 1 per shard is
 * kept). Returns NULL when out of memory. Free with ratelimit_free(). */
struct ratelimit *ratelimit_new(size_t max_buckets);
void ratelimit_free(struct ratelimit *rl); /* NULL-safe */

/* Takes one token from key's bucket at time now (seconds; must not go
 * backwards for a key: an earlier now is treated as no time passed).
 * rate: tokens a second, <= 0 (or NaN) for no limit; burst: the bucket size,
 * values below 1 count as 1. Returns 0 when the request may go on, or the
 * whole seconds (>= 1) after which one token will be there: the Retry-After
 * value. A bucket's rate and burst are those of its latest call, so a
 * changed quota applies at once. */
int ratelimit_take(struct ratelimit *rl, const char *key, double rate, double burst, double now);

/* Forgets key's bucket (e.g. when the key is revoked). */
void ratelimit_forget(struct ratelimit *rl, const char *key);

/* Buckets held now (for tests and /metrics). */
size_t ratelimit_size(struct ratelimit *rl);

/* Seconds on CLOCK_MONOTONIC. */
double ratelimit_now(void);

#endif
