/* Owners, their quotas, their API keys, and the audit log (multi-team).
 * api.c has already authenticated the caller and checked that it may make
 * the call (auth_check); these handlers validate and store. */
#include <inttypes.h>
#include <math.h>
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
	Q_MAX_KEYS = 1 << 4,
	Q_ALL = 31,
};

static const struct {
	const char *name;
	unsigned bit;
} quota_fields[] = {
    {"maxStudies", Q_MAX_STUDIES},     {"maxTrialsPerStudy", Q_MAX_TRIALS},
    {"maxActiveTrials", Q_MAX_ACTIVE}, {"requestsPerSecond", Q_RPS},
    {"maxApiKeys", Q_MAX_KEYS},
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
	json_object_set_new(o, "maxApiKeys", int64_json(q->max_api_keys));
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
	static const char *const allowed[] = {"maxStudies",      "maxTrialsPerStudy",
	                                      "maxActiveTrials", "requestsPerSecond",
	                                      "maxApiKeys",      NULL};
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
		else if (quota_fields[i].bit == Q_MAX_KEYS)
			q->max_api_keys = n;
		else
			q->max_active_trials = n;
	}
	return 0;
}

/* Sets the fields of q named in mask from from. */
static void quota_apply(struct store_quota *q, const struct store_quota *from, unsigned mask)
{
	if (mask & Q_MAX_STUDIES)
		q->max_studies = from->max_studies;
	if (mask & Q_MAX_TRIALS)
		q->max_trials_per_study = from->max_trials_per_study;
	if (mask & Q_MAX_ACTIVE)
		q->max_active_trials = from->max_active_trials;
	if (mask & Q_RPS)
		q->requests_per_second = from->requests_per_second;
	if (mask & Q_MAX_KEYS)
		q->max_api_keys = from->max_api_keys;
}

/* ---- page tokens ---- */

/* Owner lists page by owner id (the payload); the others by row id. */
static int owner_token_open(struct api *api, const char *tok, char *id /* 129 */, struct err *e)
{
	size_t n = 0;
	id[0] = '\0';
	if (!*tok)
		return 0;
	int rc = api_token_open(api->token_key, "owners", tok, id, 128, &n, e);
	if (rc)
		return rc;
	id[n] = '\0';
	if (!ju_is_id(id))
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "pageToken is not a token this server issued for this list");
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

int api_owners_create(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const fields[] = {"ownerId", "displayName", "quota", NULL};
	const char *id, *dn = NULL;
	struct store_quota body_q = {0}, q;
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
	if (qv && (rc = quota_parse(qv, "quota", &body_q, &set, e)))
		return rc;
	struct store_conn *w = store_write_begin(c->api->st, e);
	if (!w)
		return -(int)e->code;
	/* The quotas not given keep the table's defaults. */
	if ((rc = store_owner_insert(w, id, dn, ju_now_ms(), e)) ||
	    (rc = store_owner_quota_get(w, id, &q, e)))
		goto fail;
	quota_apply(&q, &body_q, set);
	if ((rc = store_owner_update(w, id, NULL, &q, e)) ||
	    (rc = owner_read(c->api, w, id, out, e)))
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

int api_owners_list(struct api_call *c, json_t **out, struct err *e)
{
	const struct api_query *q = c->q;
	char after[129] = "";
	struct store_owner *o = NULL;
	size_t n = 0;
	int rc = owner_token_open(c->api, q->page_token, after, e);
	if (rc)
		return rc;
	struct store_conn *conn = store_read(c->api->st, e);
	if (!conn)
		return -(int)e->code;
	rc = store_owner_list(conn, after, q->page_size + 1, &o, &n, e);
	json_t *arr = json_array();
	for (size_t i = 0; rc == 0 && i < n && i < (size_t)q->page_size; i++) {
		json_t *j = NULL;
		if ((rc = owner_read(c->api, conn, o[i].id, &j, e)) == 0)
			json_array_append_new(arr, j);
	}
	store_release(conn);
	if (rc == 0) {
		*out = json_object();
		json_object_set_new(*out, "owners", arr);
		if (n > (size_t)q->page_size) {
			char tok[API_TOKEN_CHARS];
			const char *last = o[q->page_size - 1].id;
			if (api_token_seal(c->api->token_key, "owners", last, strlen(last), tok,
			                   sizeof(tok)) != 0)
				tok[0] = '\0';
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
int api_owners_patch(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const fields[] = {"name", "displayName", "createTime", "quota", NULL};
	const char *owner = c->r->owner, *dn = NULL;
	struct api_query qp = *c->q; /* updateMask is cut up in place */
	struct store_quota body_q = {0}, q;
	unsigned body_set = 0, qmask = 0;
	int dn_mask = 0;
	int rc = ju_only_fields(c->body, "", fields, e);
	if (rc)
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
	quota_apply(&q, &body_q, qmask);
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

int api_owners_delete(struct api_call *c, json_t **out, struct err *e)
{
	const struct api_query *q = c->q;
	struct store_study *s = NULL;
	size_t n = 0;
	int rc;
	struct store_conn *w = store_write_begin(c->api->st, e);
	if (!w)
		return -(int)e->code;
	/* The studies that go with a forced delete, so that the service can
	 * drop what it keeps of them once they are gone. */
	if (q->force && (rc = store_study_list(w, c->r->owner, 0, 0, &s, &n, e)))
		goto fail;
	rc = q->force ? store_owner_delete_all(w, c->r->owner, e)
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
	api_rate_forget(c->api, c->r->owner); /* an owner made again starts afresh */
	*out = json_object();
	goto done;
fail:
	store_write_rollback(w);
done:
	store_studies_free(s, n);
	return rc;
}

/* ---- API keys ---- */

int api_keys_create(struct api_call *c, json_t **out, struct err *e)
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

int api_keys_list(struct api_call *c, json_t **out, struct err *e)
{
	const struct api_query *q = c->q;
	int64_t after = 0;
	struct store_key *k = NULL;
	size_t n = 0;
	char ctx[160];
	snprintf(ctx, sizeof(ctx), "apiKeys|%s", c->r->owner);
	int rc = api_token_int_open(c->api->token_key, ctx, q->page_token, &after, e);
	if (rc)
		return rc;
	struct store_conn *conn = store_read(c->api->st, e);
	if (!conn)
		return -(int)e->code;
	struct store_owner o = {0};
	rc = store_owner_get(conn, c->r->owner, &o, e);
	store_owner_clear(&o);
	if (rc == 0)
		rc = store_key_list(conn, c->r->owner, after, q->page_size + 1, &k, &n, e);
	store_release(conn);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n && i < (size_t)q->page_size; i++)
		json_array_append_new(arr, key_json(&k[i]));
	*out = json_object();
	json_object_set_new(*out, "apiKeys", arr);
	if (n > (size_t)q->page_size) {
		char tok[API_TOKEN_CHARS];
		api_token_int(c->api->token_key, ctx, k[q->page_size - 1].seq, tok, sizeof(tok));
		json_object_set_new(*out, "nextPageToken", json_string(tok));
	}
	store_keys_free(k, n);
	return 0;
}

int api_keys_get(struct api_call *c, json_t **out, struct err *e)
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

int api_keys_delete(struct api_call *c, json_t **out, struct err *e)
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
	if (a->count > 1) {
		json_object_set_new(j, "count", int64_json(a->count));
		json_object_set_new(j, "lastTime", time_json(a->last_time));
	}
	return j;
}

int api_audit_list(struct api_call *c, json_t **out, struct err *e)
{
	struct api_query q = *c->q; /* the filter is cut up in place */
	int64_t before = 0;
	const char *owner = NULL;
	struct store_audit *a = NULL;
	size_t n = 0;
	char ctx[160];
	int rc;
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
	snprintf(ctx, sizeof(ctx), "auditLog|%s", owner ? owner : "*");
	if ((rc = api_token_int_open(c->api->token_key, ctx, q.page_token, &before, e)))
		return rc;
	/* Refusals still counted in memory reach their entries first. */
	api_audit_flush(c->api);
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
		char tok[API_TOKEN_CHARS];
		api_token_int(c->api->token_key, ctx, a[q.page_size - 1].id, tok, sizeof(tok));
		json_object_set_new(*out, "nextPageToken", json_string(tok));
	}
	store_audits_free(a, n);
	return 0;
bad_filter:
	return err_set(e, ERR_INVALID_ARGUMENT,
	               "filter \"%.100s\" is not understood; the form is owner=NAME", q.filter);
}

int api_owners_get(struct api_call *c, json_t **out, struct err *e)
{
	struct store_conn *conn = store_read(c->api->st, e);
	if (!conn)
		return -(int)e->code;
	int rc = owner_read(c->api, conn, c->r->owner, out, e);
	store_release(conn);
	return rc;
}
