#include "refusals.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4

struct window {
	char key[REFUSALS_KEY_MAX + 1];
	int used;
	int64_t id;      /* the entry's row id; 0 while it is being written */
	int64_t start;   /* when the window opened */
	int64_t pending; /* repeats not yet added to the entry */
	int64_t last;    /* the latest repeat */
	int64_t flushed; /* when repeats were last handed out */
};

struct refusals {
	pthread_mutex_t mu;
	size_t nsets; /* a power of two */
	int64_t window_ms;
	struct window *w; /* nsets * WAYS */
};

struct refusals *refusals_new(size_t cap, int64_t window_ms)
{
	struct refusals *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->nsets = 1;
	while (r->nsets * WAYS < cap && r->nsets < ((size_t)1 << 20))
		r->nsets *= 2;
	r->window_ms = window_ms > 0 ? window_ms : 1;
	r->w = calloc(r->nsets * WAYS, sizeof(*r->w));
	if (!r->w) {
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->mu, NULL);
	return r;
}

void refusals_free(struct refusals *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r->w);
	free(r);
}

static uint64_t hash(const char *k)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a, then a finalizer */
	for (; *k; k++) {
		h ^= (unsigned char)*k;
		h *= 1099511628211ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static void copy_key(char dst[REFUSALS_KEY_MAX + 1], const char *key)
{
	size_t n = strnlen(key, REFUSALS_KEY_MAX);
	memcpy(dst, key, n);
	dst[n] = '\0';
}

/* Hands out w's uncounted repeats into out (when its entry exists). */
static void take(struct window *w, int64_t now, struct refusal_count *out, size_t *n)
{
	if (w->pending > 0 && w->id > 0) {
		out[(*n)++] = (struct refusal_count){w->id, w->pending, w->last};
		w->pending = 0;
	}
	w->flushed = now;
}

static struct window *find(struct refusals *r, const char *k)
{
	struct window *set = &r->w[(hash(k) & (r->nsets - 1)) * WAYS];
	for (int i = 0; i < WAYS; i++) {
		if (set[i].used && strcmp(set[i].key, k) == 0)
			return &set[i];
	}
	return NULL;
}

/* A free way of k's set, or the one opened longest ago, emptied. */
static struct window *claim(struct refusals *r, const char *k, int64_t now,
                            struct refusal_count *out, size_t *n)
{
	struct window *set = &r->w[(hash(k) & (r->nsets - 1)) * WAYS], *v = &set[0];
	for (int i = 0; i < WAYS; i++) {
		if (!set[i].used) {
			v = &set[i];
			break;
		}
		if (set[i].start < v->start)
			v = &set[i];
	}
	if (v->used)
		take(v, now, out, n);
	memset(v, 0, sizeof(*v));
	memcpy(v->key, k, sizeof(v->key));
	v->used = 1;
	v->start = now;
	v->flushed = now;
	return v;
}

int refusals_note(struct refusals *r, const char *key, int64_t now,
                  struct refusal_count out[REFUSALS_MAX_COUNTS], size_t *n)
{
	char k[REFUSALS_KEY_MAX + 1];
	copy_key(k, key);
	*n = 0;
	pthread_mutex_lock(&r->mu);
	struct window *w = find(r, k);
	/* A window whose entry is still being written goes on counting; a
	 * clock that went back ends the window. */
	if (w && (w->id == 0 || (now >= w->start && now - w->start < r->window_ms))) {
		w->pending++;
		if (now > w->last)
			w->last = now;
		if (now - w->flushed >= REFUSALS_FLUSH_MS)
			take(w, now, out, n);
		pthread_mutex_unlock(&r->mu);
		return 0;
	}
	if (w) {
		take(w, now, out, n); /* the window ends: its last repeats */
		w->used = 0;
	}
	claim(r, k, now, out, n);
	pthread_mutex_unlock(&r->mu);
	return 1;
}

void refusals_written(struct refusals *r, const char *key, int64_t id)
{
	char k[REFUSALS_KEY_MAX + 1];
	copy_key(k, key);
	pthread_mutex_lock(&r->mu);
	struct window *w = find(r, k);
	if (w && w->id == 0) {
		if (id > 0)
			w->id = id;
		else
			w->used = 0;
	}
	pthread_mutex_unlock(&r->mu);
}

struct refusal_count *refusals_drain(struct refusals *r, size_t *n)
{
	size_t cap = 0, total = r->nsets * WAYS;
	struct refusal_count *out = NULL;
	*n = 0;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < total; i++)
		cap += r->w[i].used && r->w[i].pending > 0 && r->w[i].id > 0;
	if (cap)
		out = malloc(cap * sizeof(*out));
	for (size_t i = 0; out && i < total; i++) {
		struct window *w = &r->w[i];
		if (w->used && w->pending > 0 && w->id > 0) {
			out[(*n)++] = (struct refusal_count){w->id, w->pending, w->last};
			w->pending = 0;
		}
	}
	pthread_mutex_unlock(&r->mu);
	return out;
}
