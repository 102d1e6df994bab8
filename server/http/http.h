/* http: libmicrohttpd with its own thread pool. Reads the body up to the
 * limit, hands each /v1 request to the api module and writes its answer;
 * serves /healthz and /metrics. No business logic here.
 *
 * The seam with the api module is api_handle() below: the http module never
 * parses JSON bodies or paths, the api module never touches a socket. */
#ifndef SIBYL_HTTP_H
#define SIBYL_HTTP_H

#include <stddef.h>

#include "error.h"

struct config;

struct http_req {
	const char *method; /* "GET", "POST", "DELETE", ... */
	const char *path;   /* the URL path exactly as received, NOT
	                       percent-decoded, without the query */
	const char *query;  /* the raw query string after '?', "" if none */
	const char *body;   /* NUL-terminated; body_len bytes (may contain NUL) */
	size_t body_len;
	const char *authorization;   /* Authorization header value, or NULL */
	const char *client_addr;     /* "1.2.3.4" */
	const char *accept;          /* Accept header value, or NULL */
	const char *accept_encoding; /* Accept-Encoding header value, or NULL */
	const char *if_none_match;   /* If-None-Match header value, or NULL */
	int headers_only;            /* 1: the admit call, made before the body is read
	                                (body is "", body_len 0) */
	void *job;                   /* the http module's, for http_key_admit; may be NULL */
};

struct http_resp {
	int status;               /* HTTP status code */
	char *body;               /* malloc'd; the http module frees it */
	const char *content_type; /* NULL: application/json */
	const char *route;        /* static label for /metrics, e.g. "trials.suggest" */
	int retry_after;          /* seconds for a Retry-After header, 0: none */
	/* Static files (static.h) and conditional answers; all optional. */
	size_t body_len;              /* bytes of body; 0: strlen(body) */
	int body_static;              /* 1: body is static data, not freed */
	const char *content_encoding; /* e.g. "gzip"; NULL: none */
	const char *cache_control;    /* NULL: none */
	const char *csp;              /* Content-Security-Policy; NULL: none */
	const char *vary;             /* Vary header; NULL: none */
	char etag[48];                /* ETag header value, "" : none */
};

/* What the http module calls; the api module provides them (see api.h) and
 * main.c wires them, so that tests can serve their own handler. */
struct http_handlers {
	/* Called concurrently from many threads. Must always fill resp. */
	void (*handle)(void *ctx, const struct http_req *req, struct http_resp *resp);
	/* 0 when the store answers (GET /healthz). */
	/* 0 when ready; else why not in why (cap bytes), answered as 503 */
	int (*healthy)(void *ctx, char *why, size_t cap);
	/* Appends gauges (studies, trials by state) in Prometheus text format to
	 * buf for GET /metrics; returns bytes written (< cap). May be NULL. */
	size_t (*metrics)(void *ctx, char *buf, size_t cap);
	void *ctx;
	/* May be NULL. Called with the headers only (req->headers_only) of a
	 * request that has a body, before the body is read: leaves resp->status
	 * 0 to have the body read and the request handled, or fills resp with a
	 * refusal (401, 404, 405, ...) that is sent at once. */
	void (*admit)(void *ctx, const struct http_req *req, struct http_resp *resp);
	/* May be NULL (everything in the general pool). Which pool handles the
	 * request, from the router's reading of method and raw path. */
	int (*pool)(void *ctx, const char *method, const char *path);
};

enum { HTTP_POOL_GENERAL = 0, HTTP_POOL_SUGGEST = 1 };

/* For the handler, once it knows who calls: counts the request against
 * key's max_requests_per_key and max_answer_bytes_per_key. Returns 0, or
 * -ERR_RESOURCE_EXHAUSTED with e and *retry_after set (answer 429). A
 * request counts once (a second call is a no-op) until its answer is sent;
 * a req without a job (tests) is never refused. */
int http_key_admit(const struct http_req *req, const char *key, int *retry_after /* OUT */,
                   struct err *e);

struct http_server;

/* Binds and starts serving. On success writes the bound port to *port.
 * Returns NULL with a message in err on failure. */
struct http_server *http_start(const struct config *cfg, const struct http_handlers *h,
                               int *port /* OUT */, char *err, size_t errlen);

/* Requests between their request line and the end of their answer; for
 * tests and diagnostics. */
long http_in_flight(struct http_server *srv);

/* Requests waiting in the worker pools' queues (not yet taken by a
 * worker); for tests and diagnostics. */
long http_queued(struct http_server *srv);

/* 1 once http_stop's drain is over (in-flight requests ended or the
 * timeout passed): requests not yet being handled now get 503. */
int http_closing(struct http_server *srv);

/* Stops accepting, waits (bounded by cfg->shutdown_timeout_ms) for in-flight
 * requests, and frees the server. NULL-safe. */
void http_stop(struct http_server *srv);

#endif
