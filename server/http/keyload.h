/* keyload: what each caller has in flight, by a string key (an API key id,
 * or a hash of the Authorization header for scheduling). Not thread-safe:
 * the http module holds its lock around every call. An entry exists while
 * any of its counts is not zero. */
#ifndef SIBYL_KEYLOAD_H
#define SIBYL_KEYLOAD_H

#include <stddef.h>

#define KEYLOAD_KEY_MAX 71

struct keyload_entry {
	char key[KEYLOAD_KEY_MAX + 1];
	long inflight; /* requests admitted, not yet completed */
	long running;  /* requests a worker is handling now */
	size_t held;   /* bytes of answers not yet sent */
	struct keyload_entry *next;
};

struct keyload;

struct keyload *keyload_new(void);
void keyload_free(struct keyload *kl); /* NULL-safe */

/* The entry of key (cut at KEYLOAD_KEY_MAX bytes); created with zero counts
 * when create is set, else NULL when absent. NULL when out of memory. */
struct keyload_entry *keyload_get(struct keyload *kl, const char *key, int create);

/* Drops e when all its counts are zero (after the caller lowered them). */
void keyload_put(struct keyload *kl, struct keyload_entry *e);

#endif
