/* gzip: compresses an answer body for a client that accepts it. Built with
 * zlib when it is there (SIBYL_HAVE_ZLIB); without it nothing is ever
 * compressed. */
#ifndef SIBYL_GZIP_H
#define SIBYL_GZIP_H

#include <stddef.h>

/* Bodies shorter than this are sent as they are. */
#define GZIP_MIN_BYTES 1024

/* 1 when the Accept-Encoding value (may be NULL) accepts gzip: it names
 * gzip, not with q=0. */
int gzip_accepted(const char *accept_encoding);

/* 1 when this build can compress. */
int gzip_available(void);

/* The gzip form of in[0, n) at a fast level (no name, no time in the
 * header): *out malloc'd, *out_len its length. Returns 0, or -1 (no zlib,
 * out of memory, or not smaller than the input). */
int gzip_compress(const char *in, size_t n, char **out /* OUT */, size_t *out_len /* OUT */);

#endif
