/* static: the dashboard (docs/dashboard.md), the files of server/ui/
 * embedded into sibyld at build time by tools/embed_assets.c and served
 * at /ui/ with no key: they are the same for everyone and hold no data;
 * every call the page makes is an API call with the user's key.
 *
 * Each file is kept as it is and, when that is smaller, gzip-compressed
 * (at build time, when zlib is there), with a strong ETag of its bytes.
 * Answers carry Cache-Control: no-cache (the browser keeps the file and
 * asks again with If-None-Match: 304 when unchanged), a
 * Content-Security-Policy that allows only this origin, nosniff and
 * no-referrer. Nothing is read from disk at run time. */
#ifndef SIBYL_STATIC_H
#define SIBYL_STATIC_H

#include <stddef.h>

#include "http.h"

struct static_asset {
	const char *path; /* "/ui/index.html" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
	const unsigned char *gz; /* NULL when not compressed */
	size_t gz_len;
	const char *etag; /* "\"<hex>\"" of data; the gzip form adds "-gz" inside */
	const char *etag_gz;
};

/* Generated (tools/embed_assets.c), sorted by path. */
extern const struct static_asset static_assets[];
extern const size_t static_n_assets;

/* The Content-Security-Policy of the dashboard's answers. */
#define STATIC_CSP                                                                         \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "  \
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; " \
	"form-action 'none'"

/* 1 when path is /ui or under /ui/. */
int static_is_path(const char *path);

/* Answers a request for path under /ui/ ("/ui" and "/ui/" are index.html):
 * 200 with the file (gzip when Accept-Encoding allows it), 304 when
 * If-None-Match names its ETag, 404 for no such file, 405 for a method
 * other than GET and HEAD. The body points at static data. */
void static_serve(const struct http_req *req, struct http_resp *resp /* OUT */);

/* The ETag of an answer body: a quoted hex hash of its n bytes. */
void static_etag(const char *body, size_t n, char out[48] /* OUT */);

/* 1 when the If-None-Match value (may be NULL, a list, or "*") names etag. */
int static_etag_matches(const char *if_none_match, const char *etag);

#endif
