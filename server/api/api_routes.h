/* api_routes: the list of the API. Each route and method is one row of
 * one table (api_routes.c): its path pattern (route_parse reads the URL
 * into a kind and verb), its method, its handler, the permission it needs,
 * whether it goes into the audit log, its /metrics label, the query
 * parameters it takes and the worker pool it runs on. Routing,
 * authorization, audit, query checking, the pool choice and the labels all
 * read this table; adding an API method is a row, a handler and a service
 * function (docs/architecture.md). */
#ifndef SIBYL_API_ROUTES_H
#define SIBYL_API_ROUTES_H

#include <jansson.h>
#include <stddef.h>

#include "auth.h"
#include "error.h"
#include "route.h"

struct api_call;

/* A handler returns 0 with *out set (a new reference, the 200 body) or with
 * *c->text set (the 200 body as JSON text, for answers made without a
 * tree: trial_json.h tj_trial_text), or a negative enum err_code with e
 * set. */
typedef int (*api_handler)(struct api_call *c, json_t **out, struct err *e);

/* api_route.flags */
#define API_ROUTE_AUDITED 1u /* every call goes into the audit log */
/* GET with ?clientId= is a worker's heartbeat: it renews the trial's lease,
 * so it needs AUTH_WRITE and is audited, as a write. */
#define API_ROUTE_HEARTBEAT 2u

struct api_route {
	const char *method;   /* "GET", "POST", "PATCH" or "DELETE" */
	const char *pattern;  /* the path, e.g. "/v1/owners/{owner}/studies" */
	enum route_kind kind; /* what route_parse reads the pattern as */
	enum route_verb verb; /* and its custom method on a trial */
	const char *label;    /* /metrics and the audit log: "studies.list" */
	api_handler handler;
	enum auth_action perm; /* what auth_check asks of the caller's key */
	unsigned flags;        /* API_ROUTE_* */
	unsigned query;        /* the query parameters taken (api_query.h API_Q_*) */
	int pool;              /* HTTP_POOL_* of the worker that runs it */
};

/* The table, and its number of rows. */
extern const struct api_route api_routes[];
extern const size_t api_routes_count;

/* The row of method on the parsed route (kind and verb); NULL when the
 * path does not take that method (405). */
const struct api_route *api_route_find(enum route_kind kind, enum route_verb verb,
                                       const char *method);

/* What a method the path does not take is checked as before its 405 (so
 * that the answer tells nothing to a caller who may not use the path): a
 * GET as AUTH_READ; any other as the path's writes (its first row that is
 * not a GET), or, on a path that only reads, as at least AUTH_WRITE. */
enum auth_action api_route_other_perm(enum route_kind kind, const char *method);

/* Label of a method the path does not take. */
#define API_ROUTE_NOT_ALLOWED "methodNotAllowed"

#endif
