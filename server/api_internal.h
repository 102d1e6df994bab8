/* api_internal: what api.c and the per-resource handler files share. */
#ifndef SIBYL_API_INTERNAL_H
#define SIBYL_API_INTERNAL_H

#include <jansson.h>

#include "api.h"
#include "route.h"
#include "service.h"
#include "store.h"

struct api {
	const struct config *cfg;
	struct store *st;
	struct service *sv;
};

/* One request, as the handlers see it. body is the parsed JSON object of a
 * POST ({} when empty), NULL for GET and DELETE. */
struct api_call {
	struct api *api;
	const struct http_req *req;
	const struct route *r;
	json_t *body;
};

/* Each handler returns 0 with *out set (a new reference, the 200 body) or a
 * negative enum err_code with e set. */
typedef int (*api_handler)(struct api_call *c, json_t **out, struct err *e);

int api_studies(struct api_call *c, json_t **out, struct err *e);
int api_trials(struct api_call *c, json_t **out, struct err *e);
int api_operations(struct api_call *c, json_t **out, struct err *e);

/* Rejects any field in an empty-bodied call ({} expected). */
int api_empty_body(const json_t *body, struct err *e);

#endif
