#include "static.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gzip.h"

int static_is_path(const char *path)
{
	return strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0;
}

static int by_path(const void *key, const void *elem)
{
	return strcmp(key, ((const struct static_asset *)elem)->path);
}

static const struct static_asset *find(const char *path)
{
	if (strcmp(path, "/ui") == 0 || strcmp(path, "/ui/") == 0)
		path = "/ui/index.html";
	return bsearch(path, static_assets, static_n_assets, sizeof(static_assets[0]), by_path);
}

static void plain(struct http_resp *r, int status, const char *msg)
{
	r->status = status;
	r->body = (char *)msg;
	r->body_static = 1;
	r->content_type = "text/plain; charset=utf-8";
}

void static_serve(const struct http_req *req, struct http_resp *r)
{
	r->route = "ui";
	r->csp = STATIC_CSP;
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		plain(r, 405, "only GET and HEAD are allowed on /ui/\n");
		return;
	}
	const struct static_asset *a = find(req->path);
	if (!a) {
		plain(r, 404, "no such file in the dashboard\n");
		return;
	}
	int gz = a->gz && gzip_accepted(req->accept_encoding);
	const char *etag = gz ? a->etag_gz : a->etag;
	snprintf(r->etag, sizeof(r->etag), "%s", etag);
	r->cache_control = "no-cache";
	r->content_type = a->type;
	if (a->gz)
		r->vary = "Accept-Encoding";
	if (static_etag_matches(req->if_none_match, etag)) {
		r->status = 304;
		r->body = NULL;
		return;
	}
	r->status = 200;
	r->body = (char *)(gz ? a->gz : a->data);
	r->body_len = gz ? a->gz_len : a->len;
	r->body_static = 1;
	r->content_encoding = gz ? "gzip" : NULL;
}

void static_etag(const char *body, size_t n, char out[48])
{
	unsigned char h[16];
	char hex[33];
	crypto_generichash(h, sizeof(h), (const unsigned char *)body, n, NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, 48, "\"%s\"", hex);
}

int static_etag_matches(const char *inm, const char *etag)
{
	size_t n = strlen(etag);
	if (!inm || n == 0)
		return 0;
	for (const char *p = inm; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
		while (*p && *p != ',')
			p++;
	}
	return 0;
}
