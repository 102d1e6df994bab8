#include "gzip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef SIBYL_HAVE_ZLIB
#include <zlib.h>
#endif

int gzip_accepted(const char *accept_encoding)
{
	const char *g = accept_encoding ? strstr(accept_encoding, "gzip") : NULL;
	if (!g)
		return 0;
	const char *end = strchr(g, ',');
	const char *q = strstr(g, "q=");
	if (q && (!end || q < end))
		return strtod(q + 2, NULL) > 0;
	return 1;
}

#ifdef SIBYL_HAVE_ZLIB
int gzip_available(void)
{
	return 1;
}

int gzip_compress(const char *in, size_t n, char **out, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	/* level 1: an answer is compressed once per request */
	if (n > 0xffffffffu ||
	    deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t cap = deflateBound(&z, (uLong)n);
	char *buf = malloc(cap);
	if (!buf) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)buf;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	size_t len = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END || len >= n) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = len;
	return 0;
}
#else
int gzip_available(void)
{
	return 0;
}

int gzip_compress(const char *in, size_t n, char **out, size_t *out_len)
{
	(void)in;
	(void)n;
	(void)out;
	(void)out_len;
	return -1;
}
#endif
