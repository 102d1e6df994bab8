/* keyload: a chained hash table with a fixed number of buckets (the number
 * of keys with something in flight is bounded by the connections). */
#include "keyload.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024

struct keyload {
	struct keyload_entry *b[NBUCKETS];
};

static size_t bucket(const char *key)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; key[i] && i < KEYLOAD_KEY_MAX; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ULL;
	}
	return (size_t)(h % NBUCKETS);
}

struct keyload *keyload_new(void)
{
	return calloc(1, sizeof(struct keyload));
}

void keyload_free(struct keyload *kl)
{
	if (!kl)
		return;
	for (size_t i = 0; i < NBUCKETS; i++) {
		while (kl->b[i]) {
			struct keyload_entry *e = kl->b[i];
			kl->b[i] = e->next;
			free(e);
		}
	}
	free(kl);
}

struct keyload_entry *keyload_get(struct keyload *kl, const char *key, int create)
{
	size_t i = bucket(key);
	for (struct keyload_entry *e = kl->b[i]; e; e = e->next) {
		if (strncmp(e->key, key, KEYLOAD_KEY_MAX) == 0)
			return e;
	}
	if (!create)
		return NULL;
	struct keyload_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	strncpy(e->key, key, KEYLOAD_KEY_MAX);
	e->next = kl->b[i];
	kl->b[i] = e;
	return e;
}

void keyload_put(struct keyload *kl, struct keyload_entry *e)
{
	if (!e || e->inflight || e->running || e->held)
		return;
	struct keyload_entry **p = &kl->b[bucket(e->key)];
	while (*p && *p != e)
		p = &(*p)->next;
	if (*p)
		*p = e->next;
	free(e);
}
