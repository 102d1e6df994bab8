/* api_auth: who is calling (the admin key or an owner's API key), whether
 * it may make this call, its rate limit, and the audit log entry of the
 * call. api_handle() runs these around every /v1 request. */
#include <stdio.h>
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
	struct store_key k = {0};
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
	struct store_conn *c = store_read(api->st, e);
	if (!c)
		return -(int)e->code;
	rc = store_key_get(c, seen_keyid, &k, rps, e);
	store_release(c);
	if (rc && e->code != ERR_NOT_FOUND)
		return rc;
	if (rc == 0) {
		memset(&rec, 0, sizeof(rec));
		memcpy(rec.keyid, k.keyid, sizeof(rec.keyid));
		snprintf(rec.owner, sizeof(rec.owner), "%s", k.owner ? k.owner : "");
		rec.role = (enum auth_role)k.role;
		memcpy(rec.salt, k.salt, sizeof(rec.salt));
		memcpy(rec.hash, k.hash, sizeof(rec.hash));
		rec.revoke_time = k.revoke_time;
	}
	/* An unknown key id is hashed like a known one (auth_verify with NULL),
	 * so that timing does not tell which key ids exist. */
	rc = auth_verify(rc == 0 ? &rec : NULL, tok, len, who, e);
	store_key_clear(&k);
	return rc;
}

/* "study owners/O/studies/S" or "owner owners/O": what a key of another
 * owner is told was not found. */
static const char *what(const struct route *r, char *buf, size_t cap)
{
	switch (r->kind) {
	case ROUTE_STUDY:
	case ROUTE_TRIALS:
	case ROUTE_TRIALS_SUGGEST:
	case ROUTE_TRIALS_OPTIMAL:
	case ROUTE_TRIAL:
	case ROUTE_TRIAL_VERB:
	case ROUTE_OPERATION:
		snprintf(buf, cap, "study owners/%s/studies/%s", r->owner, r->study);
		return buf;
	default:
		snprintf(buf, cap, "owner owners/%s", r->owner);
		return buf;
	}
}

int api_authorize(const struct auth_principal *who, const struct route *r, const char *method,
                  struct err *e)
{
	char buf[320];
	int read = strcmp(method, "GET") == 0;
	switch (r->kind) {
	case ROUTE_OWNERS:
	case ROUTE_AUDIT_LOG:
		return auth_check(who, NULL, AUTH_ADMIN_ONLY, NULL, e);
	case ROUTE_OWNER:
		return auth_check(who, r->owner, AUTH_ADMIN_ONLY, what(r, buf, sizeof(buf)), e);
	case ROUTE_API_KEYS:
	case ROUTE_API_KEY:
		return auth_check(who, r->owner, AUTH_MANAGE_KEYS, what(r, buf, sizeof(buf)), e);
	default:
		return auth_check(who, r->owner, read ? AUTH_READ : AUTH_WRITE,
		                  what(r, buf, sizeof(buf)), e);
	}
}

int api_rate_limit(struct api *api, const struct auth_principal *who, double rps, int *retry_after,
                   struct err *e)
{
	*retry_after = 0;
	if (who->role == AUTH_ROLE_ADMIN || !(rps > 0))
		return 0;
	/* A bucket holds one second of requests, and at least one. */
	int wait = ratelimit_take(api->rl, who->keyid, rps, rps < 1 ? 1 : rps, ratelimit_now());
	if (wait == 0)
		return 0;
	*retry_after = wait;
	return err_set(e, ERR_RESOURCE_EXHAUSTED,
	               "rate limit of owner %s exceeded: %g requests a second per key "
	               "(quota requestsPerSecond); retry after %d s",
	               who->owner, rps, wait);
}

int api_audited(const struct route *r, const char *method)
{
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return 1;
	switch (r ? r->kind : ROUTE_NONE) {
	case ROUTE_OWNERS:
	case ROUTE_OWNER:
	case ROUTE_API_KEYS:
	case ROUTE_API_KEY:
	case ROUTE_AUDIT_LOG:
		return 1;
	default:
		return 0;
	}
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

void api_audit(struct api *api, const struct auth_principal *who, const char *seen_keyid,
               const char *owner, const struct http_req *req, int status, const struct err *e)
{
	char method[17], path[1025], keyid[AUTH_KEYID_HEX + 1], own[129];
	struct err we;
	clip(method, sizeof(method), req->method);
	clip(path, sizeof(path), req->path);
	clip(own, sizeof(own), owner);
	if (who && who->role != AUTH_ROLE_NONE)
		clip(keyid, sizeof(keyid), who->keyid);
	else
		clip(keyid, sizeof(keyid), seen_keyid);
	struct store_audit a = {
	    .time = ju_now_ms(),
	    .keyid = keyid,
	    .owner = own,
	    .method = method,
	    .path = path,
	    .status = status,
	    .error = (char *)(status >= 200 && status < 300 ? "" : err_status_name(e->code)),
	};
	struct store_conn *w = store_write_begin(api->st, &we);
	int rc = w ? store_audit_insert(w, &a, &we) : -(int)we.code;
	if (w)
		rc = rc ? (store_write_rollback(w), rc) : store_write_commit(w, &we);
	if (rc)
		log_error("event=audit_failed method=%s path=\"%s\" msg=\"%s\"", method, path,
		          we.msg);
}
