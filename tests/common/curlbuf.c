#include "curlbuf.h"

#include <stdlib.h>
#include <string.h>

size_t curlbuf_write(char *p, size_t size, size_t n, void *ud)
{
	struct curlbuf *b = ud;
	size_t add = size * n;
	if (b->len + add + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + add + 1)
			cap *= 2;
		char *nb = realloc(b->data, cap);
		if (!nb) {
			b->oom = 1;
			return 0;
		}
		b->data = nb;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

void curlbuf_clear(struct curlbuf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->data)
		b->data[0] = '\0';
}

void curlbuf_free(struct curlbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
