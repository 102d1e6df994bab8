/* curlbuf: the libcurl response buffer of the tests and benchmarks.
 *
 *   struct curlbuf b = {0};
 *   curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curlbuf_write);
 *   curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
 *
 * The body grows as it arrives and is NUL-terminated once any byte came
 * (data stays NULL before). Out of memory makes the transfer fail
 * (CURLE_WRITE_ERROR) with oom set. The buffer owns data. */
#ifndef SIBYL_CURLBUF_H
#define SIBYL_CURLBUF_H

#include <stddef.h>

struct curlbuf {
	char *data;
	size_t len, cap;
	int oom;
};

/* A CURLOPT_WRITEFUNCTION; ud is the struct curlbuf. */
size_t curlbuf_write(char *p, size_t size, size_t n, void *ud);
/* Empties b for the next transfer, keeping its memory. */
void curlbuf_clear(struct curlbuf *b);
/* Frees the data; b is empty again. */
void curlbuf_free(struct curlbuf *b);

#endif
