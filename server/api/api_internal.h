/* api_internal: what api.c and the per-resource handler files share. */
#ifndef SIBYL_API_INTERNAL_H
#define SIBYL_API_INTERNAL_H

#include <jansson.h>

#include "api.h"
#include "api_query.h"
#include "api_routes.h"
#include "auth.h"
#include "ratelimit.h"
#include "refusals.h"
#include "route.h"
#include "service.h"
#include "service_owners.h"

struct api {
	const struct config *cfg;
	struct service *sv;        /* owns the store (service_open) */
	struct ratelimit *rl;      /* requests a second per owner (all its keys) */
	struct refusals *refusals; /* the audit log's budget for refusals */
	unsigned char token_key[API_TOKEN_KEY_BYTES]; /* seals page tokens (the store's) */
};

/* One request, as the handlers see it. body is the parsed JSON object of a
 * POST or PATCH ({} when empty), NULL for GET and DELETE. who is the
 * authenticated caller, already allowed to make the call. */
struct api_call {
	struct api *api;
	const struct http_req *req;
	const struct route *r;
	json_t *body;
	const struct auth_principal *who;
	const struct api_query *q; /* the query parameters, checked against the call */
	char **text;               /* a handler may answer rendered JSON here instead (malloc'd) */
	const char **content_type; /* a handler answering other text sets its type */
	struct svc_audit *audit;   /* the call's audit entry for the service's commit; NULL: none */
};

/* The handlers of the route table (api_routes.c), one a row; each
 * decodes the call, asks the service and encodes the answer
 * (api_routes.h api_handler). */
int api_studies_list(struct api_call *c, json_t **out, struct err *e);
int api_studies_create(struct api_call *c, json_t **out, struct err *e);
int api_studies_lookup(struct api_call *c, json_t **out, struct err *e);
int api_studies_get(struct api_call *c, json_t **out, struct err *e);
int api_studies_patch(struct api_call *c, json_t **out, struct err *e);
/* The PATCH of a study or a trial, checked (md_patch_request): its
 * "metadata" as JSON text in *patch (malloc'd), for service_patch_metadata. */
int api_metadata_patch(const struct api_call *c, char **patch, struct err *e);
int api_studies_delete(struct api_call *c, json_t **out, struct err *e);
/* api_importance.c */
int api_studies_importance(struct api_call *c, json_t **out, struct err *e);
/* api_trials.c */
int api_trials_list(struct api_call *c, json_t **out, struct err *e);
int api_trials_create(struct api_call *c, json_t **out, struct err *e);
int api_trials_suggest(struct api_call *c, json_t **out, struct err *e);
int api_trials_optimal(struct api_call *c, json_t **out, struct err *e);
int api_trials_get(struct api_call *c, json_t **out, struct err *e);
int api_trials_patch(struct api_call *c, json_t **out, struct err *e);
int api_trials_delete(struct api_call *c, json_t **out, struct err *e);
int api_trials_add_measurement(struct api_call *c, json_t **out, struct err *e);
int api_trials_complete(struct api_call *c, json_t **out, struct err *e);
int api_trials_check_early_stopping(struct api_call *c, json_t **out, struct err *e);
int api_trials_stop(struct api_call *c, json_t **out, struct err *e);
/* api_operations.c */
int api_operations_get(struct api_call *c, json_t **out, struct err *e);
/* api_owners.c: owners, quotas, API keys, the audit log */
int api_owners_list(struct api_call *c, json_t **out, struct err *e);
int api_owners_create(struct api_call *c, json_t **out, struct err *e);
int api_owners_get(struct api_call *c, json_t **out, struct err *e);
int api_owners_patch(struct api_call *c, json_t **out, struct err *e);
int api_owners_delete(struct api_call *c, json_t **out, struct err *e);
int api_keys_list(struct api_call *c, json_t **out, struct err *e);
int api_keys_create(struct api_call *c, json_t **out, struct err *e);
int api_keys_get(struct api_call *c, json_t **out, struct err *e);
int api_keys_delete(struct api_call *c, json_t **out, struct err *e);
int api_audit_list(struct api_call *c, json_t **out, struct err *e);

/* ---- api_auth.c: around every call ---- */
/* What api_new adds for these: the page-token key (from the store, made on
 * the first start) and the refusal budget. api_auth_free hands the
 * refusals still counted in memory to the audit log. */
int api_auth_init(struct api *api, struct err *e);
void api_auth_free(struct api *api);
/* Who sends req: the admin key or an owner's API key (looked up by its key
 * id and checked against its salted hash). seen_keyid gets the key id the
 * token names, even when it fails (for the audit log); rps the owner's
 * requests_per_second quota. UNAUTHENTICATED with a message when there is
 * no usable key. */
int api_authenticate(struct api *api, const struct http_req *req, struct auth_principal *who,
                     char seen_keyid[AUTH_KEYID_HEX + 1] /* OUT */, double *rps /* OUT */,
                     struct err *e);
/* Whether who may make method on route r: auth_check with the permission
 * of the route table's row (api_route_other_perm when the path does not
 * take the method). q (NULL when the query did not parse): on a
 * API_ROUTE_HEARTBEAT row, clientId makes the call a write. */
int api_authorize(const struct auth_principal *who, const struct route *r, const char *method,
                  const struct api_query *q, struct err *e);
/* Takes a token of the bucket of who's owner (all its keys share it);
 * RESOURCE_EXHAUSTED with *retry_after set
 * when it is empty. The admin is not limited; rps <= 0 means no limit. */
int api_rate_limit(struct api *api, const struct auth_principal *who, double rps,
                   int *retry_after /* OUT */, struct err *e);
/* Drops the owner's bucket (the owner was deleted). */
void api_rate_forget(struct api *api, const char *owner);
/* A request whose key was refused (401) takes a token from its client
 * address's bucket (auth_failures_per_second, 5 s of burst). With none
 * left it returns 1 with e set to RESOURCE_EXHAUSTED and *retry_after:
 * the caller answers 429 instead, and writes no audit entry, so that a
 * flood of bad keys costs neither the log nor the database. Requests with
 * a valid key are never counted here. */
int api_throttle_failed_auth(struct api *api, const struct http_req *req, int *retry_after,
                             struct err *e);
/* 1 when the call goes into the audit log: its row is API_ROUTE_AUDITED
 * (every write, every call on owners, keys and the audit log), or is a
 * heartbeat with clientId in q. A method the path does not take, and an
 * unparsable path (r NULL), are audited unless it is a GET or HEAD, which
 * is audited as the path's GET row is (q NULL: no query). */
int api_audited(const struct route *r, const char *method, const struct api_query *q);
/* The audit log entry of one call. api_audit_begin fills it before the
 * call runs, as a success; the handler hands it (api_call.audit) to the
 * service call, whose commit writes it with the change (service.h), so
 * that a write and its entry share a transaction. api_audit_end settles
 * it with the answer: nothing more to do when the commit wrote it (a.id
 * set) and the call succeeded; otherwise it corrects or writes
 * the entry in a transaction of its own. who may be NULL or
 * unauthenticated; then the key id the token named, if any, is recorded.
 * The entry is filed under the caller's owner (a key's own; the path's
 * for the admin; "" without a valid key), and a refusal of an owner's key
 * goes through the refusal budget (refusals.h): repeats within a minute
 * add to one entry. label: the route's (route_label), set by the caller.
 * Failures are logged, never returned: the answer is already decided. */
struct api_audit_entry {
	char method[17], path[1025], keyid[AUTH_KEYID_HEX + 1], owner[129];
	const char *label;
	struct svc_audit a;
	int begun;
};
void api_audit_begin(struct api_audit_entry *x, const struct auth_principal *who,
                     const char *seen_keyid, const char *owner, const struct http_req *req);
void api_audit_end(struct api *api, struct api_audit_entry *x, const struct auth_principal *who,
                   const char *seen_keyid, const char *owner, const struct http_req *req,
                   int status, const struct err *e);
/* Adds every refusal still counted in memory to its entry (before the log
 * is read). */
void api_audit_flush(struct api *api);

/* Rejects any field in an empty-bodied call ({} expected). */
int api_empty_body(const json_t *body, struct err *e);

#endif
