/* Owners, their quotas, their API keys, and the audit log (multi-team).
 * api.c has already authenticated the caller and checked that it may make
 * the call (auth_check); these handlers validate and store. */
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "auth.h"
#include "config.h"
#include "json_util.h"

/* Quota values above these are refused rather than stored: nobody needs
 * them, and they keep sums and comparisons far from overflow. */
#define QUOTA_COUNT_MAX 1000000000000LL /* 1e12 */
#define QUOTA_RPS_MAX   1000000.0

enum {
	Q_MAX_STUDIES = 1 << 0,
	Q_MAX_TRIALS = 1 << 1,
	Q_MAX_ACTIVE = 1 << 2,
	Q_RPS = 1 << 3,
	Q_ALL = 15,
};

static const struct {
	const char *name;
	unsigned bit;
} quota_fields[] = {
    {"maxStudies", Q_MAX_STUDIES},
    {"maxTrialsPerStudy", Q_MAX_TRIALS},
    {"maxActiveTrials", Q_MAX_ACTIVE},
    {"requestsPerSecond", Q_RPS},
};
#define N_QUOTA_FIELDS (sizeof(quota_fields) / sizeof(quota_fields[0]))

static json_t *int64_json(int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_string(buf);
}

static json_t *time_json(int64_t ms)
{
	char buf[64];
	ju_format_time(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *quota_json(const struct store_quota *q)
{
	json_t *o = json_object();
	json_object_set_new(o, "maxStudies", int64_json(q->max_studies));
	json_object_set_new(o, "maxTrialsPerStudy", int64_json(q->max_trials_per_study));
	json_object_set_new(o, "maxActiveTrials", int64_json(q->max_active_trials));
	json_object_set_new(o, "requestsPerSecond", json_real(q->requests_per_second));
	return o;
}

static json_t *owner_json(const struct store_owner *o, const struct store_quota *q)
{
	char name[160];
	json_t *j = json_object();
	snprintf(name, sizeof(name), "owners/%s", o->id);
	json_object_set_new(j, "name", json_string(name));
	json_object_set_new(j, "displayName", json_string(o->display_name ? o->display_name : ""));
	json_object_set_new(j, "createTime", time_json(o->create_time));
	json_object_set_new(j, "quota", quota_json(q));
	return j;
}

static json_t *key_json(const struct store_key *k)
{
	char name[200];
	json_t *j = json_object();
	snprintf(name, sizeof(name), "owners/%s/apiKeys/%s", k->owner, k->keyid);
	json_object_set_new(j, "name", json_string(name));
	json_object_set_new(j, "role", json_string(auth_role_name((enum auth_role)k->role)));
	json_object_set_new(j, "displayName", json_string(k->display_name ? k->display_name : ""));
	json_object_set_new(j, "createTime", time_json(k->create_time));
	json_object_set_new(j, "state", json_string(k->revoke_time ? "REVOKED" : "ACTIVE"));
	if (k->revoke_time)
		json_object_set_new(j, "revokeTime", time_json(k->revoke_time));
	return j;
}

/* Reads the fields of a quota object that it has, into q; *set gets a bit
 * for each one present. */
static int quota_parse(const json_t *v, const char *path, struct store_quota *q, unsigned *set,
                       struct err *e)
{
	static const char *const allowed[] = {"maxStudies", "maxTrialsPerStudy", "maxActiveTrials",
	                                      "requestsPerSecond", NULL};
	char fp[96];
	int rc = ju_object(v, path, e);
	if (rc || (rc = ju_only_fields(v, path, allowed, e)))
		return rc;
	*set = 0;
	for (size_t i = 0; i < N_QUOTA_FIELDS; i++) {
		const json_t *f = json_object_get(v, quota_fields[i].name);
		if (!f)
			continue;
		snprintf(fp, sizeof(fp), "%s.%s", path, quota_fields[i].name);
		*set |= quota_fields[i].bit;
		if (quota_fields[i].bit == Q_RPS) {
			double d;
			if ((rc = ju_double(f, fp, &d, e)))
				return rc;
			if (d < 0 || d > QUOTA_RPS_MAX)
				return err_set(e, ERR_INVALID_ARGUMENT,
				               "%s must be between 0 (no limit) and %.0f, not %g",
				               fp, QUOTA_RPS_MAX, d);
			q->requests_per_second = d;
			continue;
		}
		int64_t n;
		if ((rc = ju_int64(f, fp, &n, e)))
			return rc;
		if (n < 0 || n > QUOTA_COUNT_MAX)
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "%s must be between 0 (no limit) and %lld, not %" PRId64, fp,
			               QUOTA_COUNT_MAX, n);
		if (quota_fields[i].bit == Q_MAX_STUDIES)
			q->max_studies = n;
		else if (quota_fields[i].bit == Q_MAX_TRIALS)
			q->max_trials_per_study = n;
		else
			q->max_active_trials = n;
	}
	return 0;
}

/* ---- query strings ---- */

/* Decodes %XX and '+' of s in place; -1 on a malformed escape or a NUL. */
static int url_decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p == '+') {
			*o++ = ' ';
			continue;
		}
		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		char h[3] = {p[1], p[1] ? p[2] : '\0', '\0'};
		unsigned char c = 0;
		size_t n = 0;
		if (!h[0] || !h[1] || sodium_hex2bin(&c, 1, h, 2, NULL, &n, NULL) != 0 || n != 1 ||
		    c == 0)
			return -1;
		*o++ = (char)c;
		p += 2;
	}
	*o = '\0';
	return 0;
}

struct query {
	int page_size;
	char page_token[256];
	char filter[256];
	char update_mask[512];
	int force;
};

/* Parses the query parameters named in allowed (a NULL-terminated list of
 * pageSize, pageToken, filter, updateMask, force); any other is
 * INVALID_ARGUMENT. */
static int query_parse(const char *query, const char *const *allowed, struct query *q,
                       struct err *e)
{
	char buf[2048];
	memset(q, 0, sizeof(*q));
	q->page_size = 100;
	size_t len = query ? strlen(query) : 0;
	if (len >= sizeof(buf))
		return err_set(e, ERR_INVALID_ARGUMENT, "query string is longer than %zu bytes",
		               sizeof(buf) - 1);
	memcpy(buf, query ? query : "", len + 1);
	char *p = buf;
	while (*p) {
		char *amp = strchr(p, '&');
		if (amp)
			*amp = '\0';
		char *eq = strchr(p, '=');
		char *val = eq ? eq + 1 : p + strlen(p);
		if (eq)
			*eq = '\0';
		if (*p == '\0' && !eq)
			goto next; /* "a&&b" */
		if (url_decode(p) || url_decode(val))
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "malformed percent-escape in query");
		int known = 0;
		for (size_t i = 0; allowed[i]; i++)
			known |= strcmp(p, allowed[i]) == 0;
		if (!known)
			return err_set(e, ERR_INVALID_ARGUMENT, "unknown query parameter %.60s", p);
		if (strcmp(p, "pageSize") == 0) {
			char *end;
			long v = strtol(val, &end, 10);
			if (!*val || *end || v < 0 || v > 1000000)
				return err_set(e, ERR_INVALID_ARGUMENT,
				               "pageSize must be a non-negative integer");
			/* AIP-158: above the maximum is coerced to it; 0 is the default */
			q->page_size = v == 0 ? 100 : v > 1000 ? 1000 : (int)v;
		} else if (strcmp(p, "pageToken") == 0 || strcmp(p, "filter") == 0 ||
		           strcmp(p, "updateMask") == 0) {
			char *dst = p[0] == 'p'   ? q->page_token
			            : p[0] == 'f' ? q->filter
			                          : q->update_mask;
			size_t cap = p[0] == 'p'   ? sizeof(q->page_token)
			             : p[0] == 'f' ? sizeof(q->filter)
			                           : sizeof(q->update_mask);
			size_t n = strlen(val);
			if (n >= cap)
				return err_set(e, ERR_INVALID_ARGUMENT,
				               "%s is longer than %zu bytes", p, cap - 1);
			memcpy(dst, val, n + 1);
		} else if (strcmp(p, "force") == 0) {
			if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
				q->force = 1;
			else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0 || !*val)
				q->force = 0;
			else
				return err_set(e, ERR_INVALID_ARGUMENT,
				               "force must be true or false");
		}
	next:
		if (!amp)
			break;
		p = amp + 1;
	}
	return 0;
}

/* Owner page tokens carry the last owner id (owners are listed by id). */
static void owner_token(const char *id, char *buf, size_t cap)
{
	char raw[160];
	int n = snprintf(raw, sizeof(raw), "owner:%s", id);
	sodium_bin2base64(buf, cap, (const unsigned char *)raw, (size_t)n,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int owner_token_decode(const char *tok, char *id /* 129 */, struct err *e)
{
	unsigned char raw[160];
	size_t n = 0;
	if (sodium_base642bin(raw, sizeof(raw) - 1, tok, strlen(tok), NULL, &n, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n < 7 || memcmp(raw, "owner:", 6) != 0 || n - 6 > 128)
		goto bad;
	raw[n] = '\0';
	if (!ju_is_id((const char *)raw + 6))
		goto bad;
	memcpy(id, raw + 6, n - 6 + 1);
	return 0;
bad:
	return err_set(e, ERR_INVALID_ARGUMENT, "pageToken is not a token this server issued");
}

static int int_token_decode(const char *tok, int64_t *after, struct err *e)
{
	if (!*tok) {
		*after = 0;
		return 0;
	}
	if (route_page_token_decode(tok, after) != 0)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "pageToken is not a token this server issued");
	return 0;
}

/* ---- owners ---- */

static int owner_read(struct api *api, struct store_conn *c, const char *id, json_t **out,
                      struct err *e)
{
	struct store_owner o = {0};
	struct store_quota q;
	(void)api;
	int rc = store_owner_get(c, id, &o, e);
	if (rc == 0)
		rc = store_owner_quota_get(c, id, &q, e);
	if (rc == 0)
		*out = owner_json(&o, &q);
	store_owner_clear(&o);
	return rc;
}

static int display_name(const json_t *body, const struct config *cfg, const char **out,
                        struct err *e)
{
	const json_t *dn = json_object_get(body, "displayName");
	*out = NULL;
	if (!dn)
		return 0;
	/* "" clears it; otherwise the string rules of every display name. */
	if (json_is_string(dn) && json_string_length(dn) == 0) {
		*out = "";
		return 0;
	}
	return ju_string(dn, "displayName", cfg->max_string_len, out, e);
}

static int owner_create(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const fields[] = {"ownerId", "displayName", "quota", NULL};
	const char *id, *dn = NULL;
	struct store_quota q = {0};
	unsigned set = 0;
	int rc = ju_only_fields(c->body, "", fields, e);
	if (rc)
		return rc;
	const json_t *idv = json_object_get(c->body, "ownerId");
	if (!idv)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "ownerId is required ([A-Za-z0-9][A-Za-z0-9._-]{0,127})");
	if ((rc = ju_id(idv, "ownerId", &id, e)) ||
	    (rc = display_name(c->body, c->api->cfg, &dn, e)))
		return rc;
	const json_t *qv = json_object_get(c->body, "quota");
	if (qv && (rc = quota_parse(qv, "quota", &q, &set, e)))
		return rc;
	struct store_conn *w = store_write_begin(c->api->st, e);
	if (!w)
		return -(int)e->code;
	if ((rc = store_owner_insert(w, id, dn, ju_now_ms(), e)) ||
	    (rc = store_owner_update(w, id, NULL, &q, e)) ||
	    (rc = owner_read(c->api, w, id, out, e))) {
		store_write_rollback(w);
		return rc;
	}
	if ((rc = store_write_commit(w, e))) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static int owner_list(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const params[] = {"pageSize", "pageToken", NULL};
	struct query q;
	char after[129] = "";
	struct store_owner *o = NULL;
	size_t n = 0;
	int rc = query_parse(c->req->query, params, &q, e);
	if (rc || (q.page_token[0] && (rc = owner_token_decode(q.page_token, after, e))))
		return rc;
	struct store_conn *conn = store_read(c->api->st, e);
	if (!conn)
		return -(int)e->code;
	rc = store_owner_list(conn, after, q.page_size + 1, &o, &n, e);
	json_t *arr = json_array();
	for (size_t i = 0; rc == 0 && i < n && i < (size_t)q.page_size; i++) {
		json_t *j = NULL;
		if ((rc = owner_read(c->api, conn, o[i].id, &j, e)) == 0)
			json_array_append_new(arr, j);
	}
	store_release(conn);
	if (rc == 0) {
		*out = json_object();
		json_object_set_new(*out, "owners", arr);
		if (n > (size_t)q.page_size) {
			char tok[256];
			owner_token(o[q.page_size - 1].id, tok, sizeof(tok));
			json_object_set_new(*out, "nextPageToken", json_string(tok));
		}
	} else {
		json_decref(arr);
	}
	store_owners_free(o, n);
	return rc;
}

/* AIP-134: the fields named by updateMask are set from the body (absent
 * ones to their default); without updateMask, every field the body has. */
static int owner_patch(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const params[] = {"updateMask", NULL};
	static const char *const fields[] = {"name", "displayName", "createTime", "quota", NULL};
	const char *owner = c->r->owner, *dn = NULL;
	struct query qp;
	struct store_quota body_q = {0}, q;
	unsigned body_set = 0, qmask = 0;
	int dn_mask = 0;
	int rc = query_parse(c->req->query, params, &qp, e);
	if (rc || (rc = ju_only_fields(c->body, "", fields, e)))
		return rc;
	const json_t *name = json_object_get(c->body, "name");
	if (name) {
		char want[160];
		snprintf(want, sizeof(want), "owners/%s", owner);
		if (!json_is_string(name) || strcmp(json_string_value(name), want) != 0)
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "name must be %s (the owner of the path) or absent", want);
	}
	if ((rc = display_name(c->body, c->api->cfg, &dn, e)))
		return rc;
	const json_t *qv = json_object_get(c->body, "quota");
	if (qv && (rc = quota_parse(qv, "quota", &body_q, &body_set, e)))
		return rc;
	if (qp.update_mask[0] == '\0') {
		dn_mask = dn != NULL;
		qmask = body_set;
	} else {
		char *save = NULL;
		for (char *f = strtok_r(qp.update_mask, ",", &save); f;
		     f = strtok_r(NULL, ",", &save)) {
			while (*f == ' ')
				f++;
			if (strcmp(f, "*") == 0) {
				dn_mask = 1;
				qmask = Q_ALL;
			} else if (strcmp(f, "displayName") == 0 ||
			           strcmp(f, "display_name") == 0) {
				dn_mask = 1;
			} else if (strcmp(f, "quota") == 0) {
				qmask = Q_ALL;
			} else {
				size_t i;
				for (i = 0; i < N_QUOTA_FIELDS; i++) {
					if (strncmp(f, "quota.", 6) == 0 &&
					    strcmp(f + 6, quota_fields[i].name) == 0)
						break;
				}
				if (i == N_QUOTA_FIELDS)
					return err_set(
					    e, ERR_INVALID_ARGUMENT,
					    "updateMask: unknown field \"%.60s\" (displayName, "
					    "quota or quota.<field>)",
					    f);
				qmask |= quota_fields[i].bit;
			}
		}
	}
	struct store_conn *w = store_write_begin(c->api->st, e);
	if (!w)
		return -(int)e->code;
	if ((rc = store_owner_quota_get(w, owner, &q, e)))
		goto fail;
	if (qmask & Q_MAX_STUDIES)
		q.max_studies = body_q.max_studies;
	if (qmask & Q_MAX_TRIALS)
		q.max_trials_per_study = body_q.max_trials_per_study;
	if (qmask & Q_MAX_ACTIVE)
		q.max_active_trials = body_q.max_active_trials;
	if (qmask & Q_RPS)
		q.requests_per_second = body_q.requests_per_second;
	if ((rc = store_owner_update(w, owner, dn_mask ? (dn ? dn : "") : NULL, &q, e)) ||
	    (rc = owner_read(c->api, w, owner, out, e)))
		goto fail;
	if ((rc = store_write_commit(w, e))) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
fail:
	store_write_rollback(w);
	return rc;
}

static int owner_delete(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const params[] = {"force", NULL};
	struct query q;
	struct store_study *s = NULL;
	size_t n = 0;
	int rc = query_parse(c->req->query, params, &q, e);
	if (rc)
		return rc;
	struct store_conn *w = store_write_begin(c->api->st, e);
	if (!w)
		return -(int)e->code;
	/* The studies that go with a forced delete, so that the service can
	 * drop what it keeps of them once they are gone. */
	if (q.force && (rc = store_study_list(w, c->r->owner, 0, 0, &s, &n, e)))
		goto fail;
	rc = q.force ? store_owner_delete_all(w, c->r->owner, e)
	             : store_owner_delete(w, c->r->owner, e);
	if (rc) {
		if (e->code == ERR_FAILED_PRECONDITION) {
			size_t len = strlen(e->msg);
			snprintf(e->msg + len, sizeof(e->msg) - len,
			         " (or DELETE with ?force=true to delete them with it)");
		}
		goto fail;
	}
	if ((rc = store_write_commit(w, e)))
		goto done;
	for (size_t i = 0; i < n; i++)
		service_forget_study(c->api->sv, s[i].rowid);
	*out = json_object();
	goto done;
fail:
	store_write_rollback(w);
done:
	store_studies_free(s, n);
	return rc;
}

/* ---- API keys ---- */

static int key_create(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const fields[] = {"role", "displayName", NULL};
	struct auth_new_key k;
	struct store_key sk = {0};
	enum auth_role role;
	const char *dn = NULL;
	int rc = ju_only_fields(c->body, "", fields, e);
	if (rc)
		return rc;
	const json_t *rv = json_object_get(c->body, "role");
	if (!rv)
		return err_set(e, ERR_INVALID_ARGUMENT, "role is required: READER or WRITER");
	if (!json_is_string(rv))
		return err_set(e, ERR_INVALID_ARGUMENT, "role must be a string: READER or WRITER");
	if ((rc = auth_role_parse(json_string_value(rv), "role", &role, e)) ||
	    (rc = display_name(c->body, c->api->cfg, &dn, e)))
		return rc;
	if ((rc = auth_key_generate(&k, e)))
		return rc;
	memcpy(sk.keyid, k.keyid, sizeof(sk.keyid));
	sk.owner = (char *)c->r->owner;
	sk.role = (int)role;
	sk.display_name = (char *)(dn ? dn : "");
	memcpy(sk.salt, k.salt, sizeof(sk.salt));
	memcpy(sk.hash, k.hash, sizeof(sk.hash));
	sk.create_time = ju_now_ms();
	struct store_conn *w = store_write_begin(c->api->st, e);
	if (!w) {
		auth_new_key_wipe(&k);
		return -(int)e->code;
	}
	/* The owner must exist (a key of a deleted owner is NOT_FOUND). */
	struct store_owner o = {0};
	if ((rc = store_owner_get(w, c->r->owner, &o, e)) || (rc = store_key_insert(w, &sk, e))) {
		store_owner_clear(&o);
		store_write_rollback(w);
		auth_new_key_wipe(&k);
		return rc;
	}
	store_owner_clear(&o);
	if ((rc = store_write_commit(w, e))) {
		auth_new_key_wipe(&k);
		return rc;
	}
	*out = key_json(&sk);
	/* The only time the secret leaves the server. */
	json_object_set_new(*out, "key", json_string(k.key));
	auth_new_key_wipe(&k);
	return 0;
}

static int key_list(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const params[] = {"pageSize", "pageToken", NULL};
	struct query q;
	int64_t after = 0;
	struct store_key *k = NULL;
	size_t n = 0;
	int rc = query_parse(c->req->query, params, &q, e);
	if (rc || (rc = int_token_decode(q.page_token, &after, e)))
		return rc;
	struct store_conn *conn = store_read(c->api->st, e);
	if (!conn)
		return -(int)e->code;
	struct store_owner o = {0};
	rc = store_owner_get(conn, c->r->owner, &o, e);
	store_owner_clear(&o);
	if (rc == 0)
		rc = store_key_list(conn, c->r->owner, after, q.page_size + 1, &k, &n, e);
	store_release(conn);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n && i < (size_t)q.page_size; i++)
		json_array_append_new(arr, key_json(&k[i]));
	*out = json_object();
	json_object_set_new(*out, "apiKeys", arr);
	if (n > (size_t)q.page_size) {
		char tok[64];
		route_page_token(k[q.page_size - 1].seq, tok, sizeof(tok));
		json_object_set_new(*out, "nextPageToken", json_string(tok));
	}
	store_keys_free(k, n);
	return 0;
}

static int key_get(struct api_call *c, json_t **out, struct err *e)
{
	struct store_key k = {0};
	struct store_conn *conn = store_read(c->api->st, e);
	if (!conn)
		return -(int)e->code;
	int rc = store_key_get(conn, c->r->key, &k, NULL, e);
	store_release(conn);
	if (rc == 0 && strcmp(k.owner, c->r->owner) != 0)
		rc = err_set(e, ERR_NOT_FOUND, "API key owners/%s/apiKeys/%s not found",
		             c->r->owner, c->r->key);
	if (rc == 0)
		*out = key_json(&k);
	store_key_clear(&k);
	return rc;
}

static int key_delete(struct api_call *c, json_t **out, struct err *e)
{
	struct store_conn *w = store_write_begin(c->api->st, e);
	if (!w)
		return -(int)e->code;
	int rc = store_key_revoke(w, c->r->owner, c->r->key, ju_now_ms(), e);
	if (rc) {
		store_write_rollback(w);
		return rc;
	}
	if ((rc = store_write_commit(w, e)))
		return rc;
	ratelimit_forget(c->api->rl, c->r->key);
	*out = json_object();
	return 0;
}

/* ---- audit log ---- */

static json_t *audit_json(const struct store_audit *a)
{
	json_t *j = json_object();
	json_object_set_new(j, "time", time_json(a->time));
	json_object_set_new(j, "keyId", json_string(a->keyid ? a->keyid : ""));
	json_object_set_new(j, "owner", json_string(a->owner ? a->owner : ""));
	json_object_set_new(j, "method", json_string(a->method ? a->method : ""));
	json_object_set_new(j, "path", json_string(a->path ? a->path : ""));
	json_object_set_new(j, "status", json_integer(a->status));
	if (a->error && a->error[0])
		json_object_set_new(j, "error", json_string(a->error));
	return j;
}

static int audit_list(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const params[] = {"pageSize", "pageToken", "filter", NULL};
	struct query q;
	int64_t before = 0;
	const char *owner = NULL;
	struct store_audit *a = NULL;
	size_t n = 0;
	int rc = query_parse(c->req->query, params, &q, e);
	if (rc || (rc = int_token_decode(q.page_token, &before, e)))
		return rc;
	if (q.filter[0]) {
		const char *f = q.filter;
		while (*f == ' ')
			f++;
		if (strncmp(f, "owner", 5) != 0)
			goto bad_filter;
		f += 5;
		while (*f == ' ')
			f++;
		if (*f++ != '=')
			goto bad_filter;
		while (*f == ' ')
			f++;
		char *end = q.filter + strlen(q.filter);
		while (end > f && end[-1] == ' ')
			*--end = '\0';
		if (!ju_is_id(f))
			goto bad_filter;
		owner = f;
	}
	struct store_conn *conn = store_read(c->api->st, e);
	if (!conn)
		return -(int)e->code;
	rc = store_audit_list(conn, owner, before, q.page_size + 1, &a, &n, e);
	store_release(conn);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n && i < (size_t)q.page_size; i++)
		json_array_append_new(arr, audit_json(&a[i]));
	*out = json_object();
	json_object_set_new(*out, "auditEntries", arr);
	if (n > (size_t)q.page_size) {
		char tok[64];
		route_page_token(a[q.page_size - 1].id, tok, sizeof(tok));
		json_object_set_new(*out, "nextPageToken", json_string(tok));
	}
	store_audits_free(a, n);
	return 0;
bad_filter:
	return err_set(e, ERR_INVALID_ARGUMENT,
	               "filter \"%.100s\" is not understood; the form is owner=NAME", q.filter);
}

int api_owners(struct api_call *c, json_t **out, struct err *e)
{
	const char *m = c->req->method;
	int get = strcmp(m, "GET") == 0, del = strcmp(m, "DELETE") == 0;
	switch (c->r->kind) {
	case ROUTE_OWNERS:
		return get ? owner_list(c, out, e) : owner_create(c, out, e);
	case ROUTE_OWNER: {
		if (del)
			return owner_delete(c, out, e);
		if (get) {
			struct store_conn *conn = store_read(c->api->st, e);
			if (!conn)
				return -(int)e->code;
			int rc = owner_read(c->api, conn, c->r->owner, out, e);
			store_release(conn);
			return rc;
		}
		return owner_patch(c, out, e);
	}
	case ROUTE_API_KEYS:
		return get ? key_list(c, out, e) : key_create(c, out, e);
	case ROUTE_API_KEY:
		return del ? key_delete(c, out, e) : key_get(c, out, e);
	case ROUTE_AUDIT_LOG:
		return audit_list(c, out, e);
	default:
		return err_set(e, ERR_NOT_FOUND, "no such path");
	}
}
