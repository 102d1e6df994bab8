/* api: authentication, routing, body parsing and the error envelope. The
 * route table (api_routes.c) says what each call needs and which handler
 * runs it; the handlers are in api_studies.c, api_trials.c,
 * api_operations.c, api_owners.c and api_importance.c. */
#include "api.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "config.h"
#include "gzip.h"
#include "json_util.h"
#include "static.h"

struct api *api_new(const struct config *cfg, struct err *e)
{
	if (sodium_init() < 0) {
		err_set(e, ERR_INTERNAL, "libsodium failed to initialise");
		return NULL;
	}
	struct api *api = calloc(1, sizeof(*api));
	if (!api) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	api->cfg = cfg;
	if (!(api->sv = service_open(cfg, e))) {
		free(api);
		return NULL;
	}
	/* Buckets of the owners seen recently; idle ones are dropped. */
	api->rl = ratelimit_new(100000);
	if (!api->rl || api_auth_init(api, e) != 0) {
		if (!api->rl)
			err_set(e, ERR_INTERNAL, "out of memory");
		api_auth_free(api);
		service_free(api->sv);
		ratelimit_free(api->rl);
		free(api);
		return NULL;
	}
	return api;
}

void api_free(struct api *api)
{
	if (!api)
		return;
	api_auth_free(api);
	service_free(api->sv);
	ratelimit_free(api->rl);
	free(api);
}

/* Ready: the store answers and the last write did not fail for want of
 * space or of a writable file (store_health). */
int api_healthy(void *ctx, char *why, size_t cap)
{
	struct api *api = ctx;
	struct err e = {.code = ERR_OK};
	if (service_health(api->sv, &e) == 0)
		return 0;
	snprintf(why, cap, "not ready: %s", e.msg[0] ? e.msg : "the store is not answering");
	return -1;
}

size_t api_metrics(void *ctx, char *buf, size_t cap)
{
	struct api *api = ctx;
	struct err e;
	struct svc_gauges g;
	static const char *const names[] = {"",         "REQUESTED", "ACTIVE",
	                                    "STOPPING", "SUCCEEDED", "INFEASIBLE"};
	if (cap == 0 || service_gauges(api->sv, &g, &e) != 0)
		return 0;
	size_t o = 0;
	int n = snprintf(buf, cap,
	                 "# HELP sibyl_studies Studies in the store.\n"
	                 "# TYPE sibyl_studies gauge\n"
	                 "sibyl_studies %" PRId64 "\n"
	                 "# HELP sibyl_trials Trials in the store by state.\n"
	                 "# TYPE sibyl_trials gauge\n",
	                 g.studies);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	o = (size_t)n;
	for (int s = 1; s <= 5; s++) {
		n = snprintf(buf + o, cap - o, "sibyl_trials{state=\"%s\"} %" PRId64 "\n", names[s],
		             g.trials[s]);
		if (n < 0 || (size_t)n >= cap - o)
			break;
		o += (size_t)n;
	}
	buf[o] = '\0';
	return o;
}

int api_empty_body(const json_t *body, struct err *e)
{
	static const char *const none[] = {NULL};
	return body ? ju_only_fields(body, "", none, e) : 0;
}

/* s (malloc'd, taken) with a newline appended. */
static char *with_newline(char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (!t)
		return s;
	t[n] = '\n';
	t[n + 1] = '\0';
	return t;
}

static char *dump(const json_t *v)
{
	return with_newline(ju_dump(v, 0));
}

/* The message as a JSON string; a message quoting bytes that are not
 * UTF-8 (a raw byte >= 0x80 in the path) gets '?' for each such byte,
 * since jansson takes only valid UTF-8. */
static json_t *message_string(const char *m, char *buf, size_t cap)
{
	json_t *v = json_string(m);
	if (v || cap == 0)
		return v;
	size_t i = 0;
	for (; m[i] && i + 1 < cap; i++)
		buf[i] = (unsigned char)m[i] >= 0x80 ? '?' : m[i];
	buf[i] = '\0';
	return json_string(buf);
}

static void set_error(struct http_resp *resp, const struct err *e, int http_status)
{
	char msg[sizeof(e->msg)];
	json_t *o = json_object(), *er = json_object();
	int status = http_status ? http_status : err_http_status(e->code);
	json_object_set_new(er, "code", json_integer(status));
	json_object_set_new(er, "message", message_string(e->msg, msg, sizeof(msg)));
	json_object_set_new(er, "status", json_string(err_status_name(e->code)));
	json_object_set_new(o, "error", er);
	resp->status = status;
	resp->body = dump(o);
	json_decref(o);
}

/* A quota refusal (error.h ERR_REFUSAL_QUOTA: "quota maxStudies reached:
 * ...") gets the owner and the quota's value appended, e.g.
 * " (owner t: maxStudies 2)". Other errors are left alone. */
static void quota_detail(const char *owner, struct err *e)
{
	if (e->refusal != ERR_REFUSAL_QUOTA || !e->name || !owner || !*owner)
		return;
	size_t n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, " (owner %s: %s %" PRId64 ")", owner, e->name,
	         e->limit);
}

/* The owner an audit entry names: the path's, or for an owner being
 * created the body's ownerId. */
static const char *audit_owner(const struct route *r, int routed, const json_t *body)
{
	const char *made = json_string_value(json_object_get(body, "ownerId"));
	if (routed && r->kind == ROUTE_OWNERS && made && ju_is_id(made))
		return made;
	return routed ? r->owner : "";
}

void api_admit(void *ctx, const struct http_req *req, struct http_resp *resp)
{
	api_handle(ctx, req, resp);
}

int api_pool(void *ctx, const char *method, const char *path)
{
	struct route r;
	struct err e;
	(void)ctx;
	if (route_parse(path, &r, &e) != 0)
		return HTTP_POOL_GENERAL;
	const struct api_route *x = api_route_find(r.kind, r.verb, method);
	return x ? x->pool : HTTP_POOL_GENERAL;
}

/* A GET answer carries the ETag of its body; when the request's
 * If-None-Match names it, the answer is 304 with no body, so that a page
 * polling for changes gets a few bytes when there are none. Otherwise a
 * body of GZIP_MIN_BYTES or more goes gzip-compressed to a client that
 * accepts it (its ETag then ends in -gz: another representation). */
static void conditional(const struct http_req *req, struct http_resp *resp)
{
	if (!resp->body)
		return;
	size_t n = strlen(resp->body);
	int gz = n >= GZIP_MIN_BYTES && gzip_available() && gzip_accepted(req->accept_encoding);
	static_etag(resp->body, n, resp->etag);
	if (gzip_available())
		resp->vary = "Accept-Encoding";
	if (gz)
		memcpy(resp->etag + strlen(resp->etag) - 1, "-gz\"", 5);
	if (static_etag_matches(req->if_none_match, resp->etag)) {
		free(resp->body);
		resp->body = NULL;
		resp->status = 304;
		return;
	}
	char *z;
	size_t zlen;
	if (gz && gzip_compress(resp->body, n, &z, &zlen) == 0) {
		free(resp->body);
		resp->body = z;
		resp->body_len = zlen;
		resp->content_encoding = "gzip";
	} else if (gz) {
		static_etag(resp->body, n, resp->etag); /* not smaller: as it is */
	}
}

void api_handle(void *ctx, const struct http_req *req, struct http_resp *resp)
{
	struct api *api = ctx;
	struct err e = {.code = ERR_OK}, route_err = {.code = ERR_OK};
	struct route r;
	struct api_query q;
	struct auth_principal who;
	char seen_keyid[AUTH_KEYID_HEX + 1] = "";
	double rps = 0;
	struct api_audit_entry audit = {.begun = 0};
	json_t *body = NULL, *out = NULL;
	char *text = NULL;
	const char *ctype = NULL;
	int rc, http_status = 0;
	resp->content_type = NULL;
	resp->retry_after = 0;
	resp->route = "unknown";
	resp->body = NULL;
	memset(&who, 0, sizeof(who));
	int routed = route_parse(req->path, &r, &route_err) == 0;
	/* Parsed now, refused (400) only once the caller may see this path. */
	struct err query_err = {.code = ERR_OK};
	int queried =
	    routed && api_query_parse(r.kind, req->method, req->query, &q, &query_err) == 0;
	int audited = api_audited(routed ? &r : NULL, req->method, queried ? &q : NULL);
	if (routed)
		resp->route = route_label(&r, req->method);
	audit.label = resp->route;
	/* Authenticate before answering anything about the path, so that
	 * nothing about the resources leaks to a caller without a key. */
	if ((rc = api_authenticate(api, req, &who, seen_keyid, &rps, &e))) {
		if (e.code == ERR_UNAUTHENTICATED &&
		    api_throttle_failed_auth(api, req, &resp->retry_after, &e)) {
			rc = -(int)e.code;
			audited = 0;
		}
		goto out;
	}
	/* In flight at once per key (http.c), before the body is read. */
	if ((rc = http_key_admit(req, who.role == AUTH_ROLE_ADMIN ? "admin" : who.keyid,
	                         &resp->retry_after, &e)))
		goto out;
	/* The rate limit counts every call of the key, refused ones too (once:
	 * not at the admission of a body). */
	if (!req->headers_only && (rc = api_rate_limit(api, &who, rps, &resp->retry_after, &e)))
		goto out;
	if (!routed) {
		e = route_err;
		rc = -(int)e.code;
		goto out;
	}
	if ((rc = api_authorize(&who, &r, req->method, queried ? &q : NULL, &e)))
		goto out;
	const struct api_route *row = api_route_find(r.kind, r.verb, req->method);
	if (!row) {
		rc = err_set(&e, ERR_UNIMPLEMENTED,
		             "method %.16s is not allowed on %.200s (allowed: %s)", req->method,
		             req->path, route_methods(r.kind));
		http_status = 405;
		goto out;
	}
	if (!queried) {
		e = query_err;
		rc = -(int)e.code;
		goto out;
	}
	if (req->headers_only) {
		resp->status = 0; /* admitted: the body is read next */
		return;
	}
	if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PATCH") == 0) {
		if (api->cfg->max_body_bytes > 0 && req->body_len > api->cfg->max_body_bytes) {
			rc = err_set(&e, ERR_INVALID_ARGUMENT,
			             "request body is %zu bytes, more than the limit of %zu",
			             req->body_len, api->cfg->max_body_bytes);
			goto out;
		}
		body = ju_parse_body(req->body ? req->body : "", req->body ? req->body_len : 0,
		                     api->cfg->max_json_depth, &e);
		if (!body) {
			rc = -(int)e.code;
			goto out;
		}
	}
	if (audited)
		api_audit_begin(&audit, &who, seen_keyid, audit_owner(&r, routed, body), req);
	struct api_call call = {.api = api,
	                        .req = req,
	                        .r = &r,
	                        .body = body,
	                        .who = &who,
	                        .q = &q,
	                        .text = &text,
	                        .content_type = &ctype,
	                        .audit = audit.begun ? &audit.a : NULL};
	rc = row->handler(&call, &out, &e);
out:
	if (rc == 0 && !out && text) {
		resp->status = 200;
		resp->body = ctype ? text : with_newline(text);
		resp->content_type = ctype;
		text = NULL;
	} else if (rc == 0 && out) {
		resp->status = 200;
		resp->body = dump(out);
		if (!resp->body) {
			err_set(&e, ERR_INTERNAL, "out of memory");
			set_error(resp, &e, 0);
		}
	} else {
		if (rc == 0)
			err_set(&e, ERR_INTERNAL, "handler returned no result");
		if (e.code == ERR_OK)
			e.code = ERR_INTERNAL;
		if (routed)
			quota_detail(r.owner, &e);
		/* the store's faults (a full disk) pass: come back later */
		if (e.code == ERR_UNAVAILABLE && resp->retry_after <= 0)
			resp->retry_after = 5;
		set_error(resp, &e, http_status);
	}
	if (resp->status == 200 && strcmp(req->method, "GET") == 0)
		conditional(req, resp);
	if (audited)
		api_audit_end(api, &audit, &who, seen_keyid, audit_owner(&r, routed, body), req,
		              resp->status, &e);
	json_decref(out);
	json_decref(body);
	free(text);
}
