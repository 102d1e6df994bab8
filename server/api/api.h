/* api: turns requests into validated calls on the service (never the
 * store: docs/architecture.md), and their results into JSON or the error
 * envelope of API.md. */
#ifndef SIBYL_API_H
#define SIBYL_API_H

#include <stddef.h>

#include "error.h"
#include "http.h"

struct config;
struct api;

/* Opens the service with its store (service_open, applying migrations)
 * and everything the handlers need.
 * Returns NULL with e set on failure (e.g. a database newer than the
 * binary). Free with api_free(), which closes the store. NULL-safe. */
struct api *api_new(const struct config *cfg, struct err *e /* OUT */);
void api_free(struct api *api);

/* The http_handlers callbacks; ctx is the struct api. */
void api_handle(void *ctx, const struct http_req *req, struct http_resp *resp);
int api_healthy(void *ctx, char *why, size_t cap);
size_t api_metrics(void *ctx, char *buf, size_t cap);
/* api_handle on the headers alone (key, route, permission, method): leaves
 * resp->status 0 when the body may be read, else the refusal. */
void api_admit(void *ctx, const struct http_req *req, struct http_resp *resp);
/* HTTP_POOL_SUGGEST for what the router reads as POST trials:suggest. */
int api_pool(void *ctx, const char *method, const char *path);

#endif
