/* api_auth: who is calling (the admin key or an owner's API key), whether
 * it may make this call, its rate limit, and the audit log entry of the
 * call. api_handle() runs these around every /v1 request. */
#include <inttypes.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "auth.h"
#include "config.h"
#include "json_util.h"
#include "log.h"
#include "ratelimit.h"

int api_authenticate(struct api *api, const struct http_req *req, struct auth_principal *who,
                     char seen_keyid[AUTH_KEYID_HEX + 1], double *rps, struct err *e)
{
	const char *tok;
	size_t len;
	struct auth_key_record rec;
	*rps = 0;
	seen_keyid[0] = '\0';
	memset(who, 0, sizeof(*who));
	int rc = auth_header_parse(req->authorization, &tok, &len, e);
	if (rc)
		return rc;
	if (auth_admin_match(api->cfg->admin_key, tok, len)) {
		auth_principal_admin(who);
		return 0;
	}
	/* Neither the admin key nor of the sk_ form: the same answer as a
	 * wrong key, so that the message says nothing about either. */
	if (auth_key_parse(tok, len, seen_keyid, e) != 0)
		return err_set(e, ERR_UNAUTHENTICATED, "API key not recognized");
	rc = service_key_record(api->sv, seen_keyid, &rec, rps, e);
	if (rc && e->code != ERR_NOT_FOUND)
		return rc;
	/* An unknown key id is hashed like a known one (auth_verify with NULL),
	 * so that timing does not tell which key ids exist. */
	return auth_verify(rc == 0 ? &rec : NULL, tok, len, who, e);
}

/* "study owners/O/studies/S" or "owner owners/O": what a key of another
 * owner is told was not found. */
static const char *what(const struct route *r, char *buf, size_t cap)
{
	if (r->study[0])
		snprintf(buf, cap, "study owners/%s/studies/%s", r->owner, r->study);
	else
		snprintf(buf, cap, "owner owners/%s", r->owner);
	return buf;
}

/* GET of a trial with clientId renews the lease of the worker that holds
 * it and settles a lapsed one (gives it up, makes a new trial): a write. */
static int heartbeat(const struct auth_principal *who, const struct route *r, const char *what,
                     struct err *e)
{
	int rc = auth_check(who, r->owner, AUTH_WRITE, what, e);
	if (rc && e->code == ERR_PERMISSION_DENIED) {
		size_t n = strlen(e->msg);
		snprintf(
		    e->msg + n, sizeof(e->msg) - n,
		    " (GET with clientId is a worker's heartbeat: it renews the trial's lease; "
		    "a READER key reads the trial without clientId)");
	}
	return rc;
}

int api_authorize(const struct auth_principal *who, const struct route *r, const char *method,
                  const struct api_query *q, struct err *e)
{
	char buf[320];
	const struct api_route *x = api_route_find(r->kind, r->verb, method);
	enum auth_action perm = x ? x->perm : api_route_other_perm(r->kind, method);
	/* /v1/owners and /v1/auditLog belong to no owner */
	if (!r->owner[0])
		return auth_check(who, NULL, perm, NULL, e);
	if (x && (x->flags & API_ROUTE_HEARTBEAT) && q && q->client_id[0])
		return heartbeat(who, r, what(r, buf, sizeof(buf)), e);
	return auth_check(who, r->owner, perm, what(r, buf, sizeof(buf)), e);
}

/* The owner's bucket: one for all its keys ("o:" keeps these apart from
 * the client addresses' "ip:" buckets). */
static void rate_key(const char *owner, char key[RATELIMIT_KEY_MAX + 1])
{
	snprintf(key, RATELIMIT_KEY_MAX + 1, "o:%s", owner);
}

void api_rate_forget(struct api *api, const char *owner)
{
	char key[RATELIMIT_KEY_MAX + 1];
	rate_key(owner, key);
	ratelimit_forget(api->rl, key);
}

int api_rate_limit(struct api *api, const struct auth_principal *who, double rps, int *retry_after,
                   struct err *e)
{
	*retry_after = 0;
	if (who->role == AUTH_ROLE_ADMIN || !(rps > 0))
		return 0;
	/* One bucket per owner, whatever key it uses; it holds one second of
	 * requests, and at least one. */
	char key[RATELIMIT_KEY_MAX + 1];
	rate_key(who->owner, key);
	int wait = ratelimit_take(api->rl, key, rps, rps < 1 ? 1 : rps, ratelimit_now());
	if (wait == 0)
		return 0;
	*retry_after = wait;
	return err_set(e, ERR_RESOURCE_EXHAUSTED,
	               "rate limit of owner %s exceeded: %g requests a second for all its keys "
	               "together (quota requestsPerSecond); retry after %d s",
	               who->owner, rps, wait);
}

int api_audited(const struct route *r, const char *method, const struct api_query *q)
{
	int get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
	const struct api_route *x = r ? api_route_find(r->kind, r->verb, method) : NULL;
	if (!x && !get && !head)
		return 1;
	if (!x && r) /* HEAD, or a GET the path does not take: as its GET */
		x = api_route_find(r->kind, r->verb, "GET");
	if (!x)
		return 0;
	return (x->flags & API_ROUTE_AUDITED) ||
	       ((x->flags & API_ROUTE_HEARTBEAT) && q && q->client_id[0]);
}

/* Copies at most cap - 1 bytes of s, stopping early at a byte that is not
 * printable ASCII so that the log holds only text. */
static void clip(char *dst, size_t cap, const char *s)
{
	size_t i = 0;
	for (; s && s[i] && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[i] = '\0';
}

static void audit_fill(struct api_audit_entry *x, const struct auth_principal *who,
                       const char *seen_keyid, const char *owner, const struct http_req *req)
{
	clip(x->method, sizeof(x->method), req->method);
	clip(x->path, sizeof(x->path), req->path);
	/* with its query: a heartbeat's clientId, a refused parameter */
	size_t n = strlen(x->path);
	if (req->query && req->query[0] && n + 2 < sizeof(x->path)) {
		x->path[n] = '?';
		clip(x->path + n + 1, sizeof(x->path) - n - 1, req->query);
	}
	/* Filed under the caller: an owner's key under its owner (whatever
	 * path it tried), the admin under the path's owner, and a request
	 * without a valid key under no owner, so that nobody can fill another
	 * owner's history. */
	int role = who ? who->role : AUTH_ROLE_NONE;
	clip(x->owner, sizeof(x->owner),
	     role == AUTH_ROLE_ADMIN  ? owner
	     : role == AUTH_ROLE_NONE ? ""
	                              : who->owner);
	if (role != AUTH_ROLE_NONE)
		clip(x->keyid, sizeof(x->keyid), who->keyid);
	else
		clip(x->keyid, sizeof(x->keyid), seen_keyid);
	x->a = (struct svc_audit){
	    .time = ju_now_ms(),
	    .keyid = x->keyid,
	    .owner = x->owner,
	    .method = x->method,
	    .path = x->path,
	    .status = 200,
	    .error = (char *)"",
	    .count = 1,
	};
}

static void audit_failed(const struct api_audit_entry *x, const struct err *we)
{
	log_error("event=audit_failed method=%s path=\"%s\" msg=\"%s\"", x->method, x->path,
	          we->msg);
}

static void add_counts(struct api *api, const struct refusal_count *c, size_t n)
{
	struct err we;
	for (size_t i = 0; i < n; i++) {
		if (service_audit_add_count(api->sv, c[i].id, c[i].n, c[i].last, &we))
			log_error("event=audit_failed what=refusal_count id=%" PRId64 " msg=\"%s\"",
			          c[i].id, we.msg);
	}
}

/* A refusal of an owner's key: a new entry for the first of a window, a
 * count for the repeats (refusals.h). */
static void budgeted(struct api *api, struct api_audit_entry *x)
{
	char key[REFUSALS_KEY_MAX + 1];
	struct refusal_count c[REFUSALS_MAX_COUNTS];
	size_t n = 0;
	struct err we;
	snprintf(key, sizeof(key), "%s|%s|%.40s|%d", x->keyid, x->method, x->label ? x->label : "",
	         x->a.status);
	int fresh = refusals_note(api->refusals, key, x->a.time, c, &n);
	add_counts(api, c, n);
	if (!fresh)
		return;
	int64_t id = 0;
	x->a.id = 0;
	if (service_audit_record(api->sv, &x->a, &id, &we))
		audit_failed(x, &we);
	refusals_written(api->refusals, key, id);
}

void api_audit_begin(struct api_audit_entry *x, const struct auth_principal *who,
                     const char *seen_keyid, const char *owner, const struct http_req *req)
{
	audit_fill(x, who, seen_keyid, owner, req);
	x->begun = 1;
}

void api_audit_end(struct api *api, struct api_audit_entry *x, const struct auth_principal *who,
                   const char *seen_keyid, const char *owner, const struct http_req *req,
                   int status, const struct err *e)
{
	int64_t id = 0;
	if (x->begun)
		id = x->a.id; /* written by the call's commit, or 0 */
	else
		audit_fill(x, who, seen_keyid, owner, req);
	int ok = status >= 200 && status < 300;
	if (id > 0 && ok && x->a.status == status)
		return; /* written with the call's own commit */
	x->a.status = status;
	x->a.error = (char *)(ok ? "" : err_status_name(e->code));
	/* An owner's key refused: the refusal budget (the admin's refusals,
	 * rare and its own, are each recorded). */
	if (id == 0 && !ok && who &&
	    (who->role == AUTH_ROLE_READER || who->role == AUTH_ROLE_WRITER)) {
		budgeted(api, x);
		return;
	}
	struct err we;
	x->a.id = id;
	if (service_audit_record(api->sv, &x->a, NULL, &we))
		audit_failed(x, &we);
}

void api_audit_flush(struct api *api)
{
	size_t n = 0;
	struct refusal_count *c = api->refusals ? refusals_drain(api->refusals, &n) : NULL;
	add_counts(api, c, n);
	free(c);
}

int api_throttle_failed_auth(struct api *api, const struct http_req *req, int *retry_after,
                             struct err *e)
{
	double rate = api->cfg->auth_failures_per_second;
	*retry_after = 0;
	if (!(rate > 0) || !req->client_addr)
		return 0;
	char key[RATELIMIT_KEY_MAX + 1];
	/* "ip:" keeps these buckets apart from the API keys' (hex ids). */
	snprintf(key, sizeof(key), "ip:%s", req->client_addr);
	int wait = ratelimit_take(api->rl, key, rate, 5 * rate, ratelimit_now());
	if (wait == 0)
		return 0;
	*retry_after = wait;
	err_set(e, ERR_RESOURCE_EXHAUSTED,
	        "too many requests without a valid API key from %.64s (setting "
	        "auth_failures_per_second: %g a second); retry after %d s",
	        req->client_addr, rate, wait);
	return 1;
}

/* A minute of identical refusals shares one entry; 16,384 windows (about
 * 2.5 MB) at once. */
#define REFUSAL_WINDOW_MS 60000
#define REFUSAL_WINDOWS   16384

int api_auth_init(struct api *api, struct err *e)
{
	unsigned char fresh[API_TOKEN_KEY_BYTES];
	randombytes_buf(fresh, sizeof(fresh));
	int rc = service_secret(api->sv, "page_token", fresh, sizeof(fresh), api->token_key, e);
	sodium_memzero(fresh, sizeof(fresh));
	if (rc)
		return rc;
	api->refusals = refusals_new(REFUSAL_WINDOWS, REFUSAL_WINDOW_MS);
	if (!api->refusals)
		return err_set(e, ERR_INTERNAL, "out of memory");
	return 0;
}

void api_auth_free(struct api *api)
{
	if (!api->refusals)
		return;
	api_audit_flush(api);
	refusals_free(api->refusals);
	api->refusals = NULL;
	sodium_memzero(api->token_key, sizeof(api->token_key));
}
