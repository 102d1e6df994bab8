/* Owners, their quotas, their API keys, and the audit log (multi-team).
 * api.c has already authenticated the caller and checked that it may make
 * the call (auth_check); these handlers decode the request, call one
 * function of service_owners.h and encode its answer. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "auth.h"
#include "config.h"
#include "json_util.h"
#include "service_owners.h"

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

static json_t *quota_json(const struct svc_quota *q)
{
	json_t *o = json_object();
	json_object_set_new(o, "maxStudies", int64_json(q->max_studies));
	json_object_set_new(o, "maxTrialsPerStudy", int64_json(q->max_trials_per_study));
	json_object_set_new(o, "maxActiveTrials", int64_json(q->max_active_trials));
	json_object_set_new(o, "requestsPerSecond", json_real(q->requests_per_second));
	json_object_set_new(o, "maxApiKeys", int64_json(q->max_api_keys));
	return o;
}

static json_t *owner_json(const struct svc_owner *o)
{
	char name[160];
	json_t *j = json_object();
	snprintf(name, sizeof(name), "owners/%s", o->id);
	json_object_set_new(j, "name", json_string(name));
	json_object_set_new(j, "displayName", json_string(o->display_name ? o->display_name : ""));
	json_object_set_new(j, "createTime", time_json(o->create_time));
	json_object_set_new(j, "quota", quota_json(&o->quota));
	return j;
}

static json_t *key_json(const struct svc_key *k)
{
	char name[200];
	json_t *j = json_object();
	snprintf(name, sizeof(name), "owners/%s/apiKeys/%s", k->owner, k->keyid);
	json_object_set_new(j, "name", json_string(name));
	json_object_set_new(j, "role", json_string(auth_role_name(k->role)));
	json_object_set_new(j, "displayName", json_string(k->display_name ? k->display_name : ""));
	json_object_set_new(j, "createTime", time_json(k->create_time));
	json_object_set_new(j, "state", json_string(k->revoke_time ? "REVOKED" : "ACTIVE"));
	if (k->revoke_time)
		json_object_set_new(j, "revokeTime", time_json(k->revoke_time));
	return j;
}

/* Reads the fields of a quota object that it has, into q; *set gets a bit
 * for each one present (their limits are the service's rule). */
static int quota_parse(const json_t *v, const char *path, struct svc_quota *q, unsigned *set,
                       struct err *e)
{
	static const char *const allowed[] = {"maxStudies",      "maxTrialsPerStudy",
	                                      "maxActiveTrials", "requestsPerSecond",
	                                      "maxApiKeys",      NULL};
	int64_t *counts[SVC_N_QUOTA] = {&q->max_studies, &q->max_trials_per_study,
	                                &q->max_active_trials, NULL, &q->max_api_keys};
	char fp[96];
	int rc = ju_object(v, path, e);
	if (rc || (rc = ju_only_fields(v, path, allowed, e)))
		return rc;
	*set = 0;
	for (int i = 0; i < SVC_N_QUOTA; i++) {
		const json_t *f = json_object_get(v, svc_quota_names[i]);
		if (!f)
			continue;
		snprintf(fp, sizeof(fp), "%s.%s", path, svc_quota_names[i]);
		*set |= 1u << i;
		rc = counts[i] ? ju_int64(f, fp, counts[i], e)
		               : ju_double(f, fp, &q->requests_per_second, e);
		if (rc)
			return rc;
	}
	return 0;
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

/* The owner the service answered, as JSON in *out; clears o. */
static int owner_out(int rc, struct svc_owner *o, json_t **out)
{
	if (rc == 0)
		*out = owner_json(o);
	svc_owner_clear(o);
	return rc;
}

int api_owners_create(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const fields[] = {"ownerId", "displayName", "quota", NULL};
	const char *id;
	struct svc_owner_change ch = {0};
	struct svc_owner o;
	int rc = ju_only_fields(c->body, "", fields, e);
	if (rc)
		return rc;
	const json_t *idv = json_object_get(c->body, "ownerId");
	if (!idv)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "ownerId is required ([A-Za-z0-9][A-Za-z0-9._-]{0,127})");
	if ((rc = ju_id(idv, "ownerId", &id, e)) ||
	    (rc = display_name(c->body, c->api->cfg, &ch.display_name, e)))
		return rc;
	const json_t *qv = json_object_get(c->body, "quota");
	if (qv && (rc = quota_parse(qv, "quota", &ch.quota, &ch.set, e)))
		return rc;
	ch.mask = ch.set;
	return owner_out(service_owner_create(c->api->sv, id, &ch, &o, c->audit, e), &o, out);
}

int api_owners_list(struct api_call *c, json_t **out, struct err *e)
{
	const struct api_query *q = c->q;
	char after[129] = "";
	struct svc_owner *o = NULL;
	size_t n = 0;
	int rc = owner_token_open(c->api, q->page_token, after, e);
	if (rc || (rc = service_owner_list(c->api->sv, after, q->page_size + 1, &o, &n, e)))
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n && i < (size_t)q->page_size; i++)
		json_array_append_new(arr, owner_json(&o[i]));
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
	svc_owners_free(o, n);
	return 0;
}

/* The fields updateMask names, into ch->mask (and whether it names the
 * display name, *dn_mask); mask is cut up in place. */
static int update_mask_parse(char *mask, struct svc_owner_change *ch, int *dn_mask, struct err *e)
{
	char *save = NULL;
	for (char *f = strtok_r(mask, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		while (*f == ' ')
			f++;
		if (strcmp(f, "*") == 0) {
			*dn_mask = 1;
			ch->mask = SVC_Q_ALL;
		} else if (strcmp(f, "displayName") == 0 || strcmp(f, "display_name") == 0) {
			*dn_mask = 1;
		} else if (strcmp(f, "quota") == 0) {
			ch->mask = SVC_Q_ALL;
		} else {
			int i;
			for (i = 0; i < SVC_N_QUOTA; i++) {
				if (strncmp(f, "quota.", 6) == 0 &&
				    strcmp(f + 6, svc_quota_names[i]) == 0)
					break;
			}
			if (i == SVC_N_QUOTA)
				return err_set(e, ERR_INVALID_ARGUMENT,
				               "updateMask: unknown field \"%.60s\" (displayName, "
				               "quota or quota.<field>)",
				               f);
			ch->mask |= 1u << i;
		}
	}
	return 0;
}

/* AIP-134: the fields named by updateMask are set from the body (absent
 * ones to their default); without updateMask, every field the body has. */
int api_owners_patch(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const fields[] = {"name", "displayName", "createTime", "quota", NULL};
	const char *owner = c->r->owner, *dn = NULL;
	struct api_query qp = *c->q; /* updateMask is cut up in place */
	struct svc_owner_change ch = {0};
	struct svc_owner o;
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
	if (qv && (rc = quota_parse(qv, "quota", &ch.quota, &ch.set, e)))
		return rc;
	if (qp.update_mask[0] == '\0') {
		dn_mask = dn != NULL;
		ch.mask = ch.set;
	} else if ((rc = update_mask_parse(qp.update_mask, &ch, &dn_mask, e))) {
		return rc;
	}
	ch.display_name = dn_mask ? (dn ? dn : "") : NULL;
	return owner_out(service_owner_update(c->api->sv, owner, &ch, &o, c->audit, e), &o, out);
}

int api_owners_delete(struct api_call *c, json_t **out, struct err *e)
{
	int rc = service_owner_delete(c->api->sv, c->r->owner, c->q->force, c->audit, e);
	if (rc) {
		if (e->code == ERR_FAILED_PRECONDITION) {
			size_t len = strlen(e->msg);
			snprintf(e->msg + len, sizeof(e->msg) - len,
			         " (or DELETE with ?force=true to delete them with it)");
		}
		return rc;
	}
	api_rate_forget(c->api, c->r->owner); /* an owner made again starts afresh */
	*out = json_object();
	return 0;
}

/* ---- API keys ---- */

int api_keys_create(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const fields[] = {"role", "displayName", NULL};
	enum auth_role role;
	const char *dn = NULL;
	char secret[AUTH_KEY_LEN + 1];
	struct svc_key k;
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
	if ((rc = service_key_create(c->api->sv, c->r->owner, role, dn, &k, secret, c->audit, e)))
		return rc;
	*out = key_json(&k);
	/* The only time the secret leaves the server. */
	json_object_set_new(*out, "key", json_string(secret));
	svc_secret_wipe(secret);
	svc_key_clear(&k);
	return 0;
}

int api_keys_list(struct api_call *c, json_t **out, struct err *e)
{
	const struct api_query *q = c->q;
	int64_t after = 0;
	struct svc_key *k = NULL;
	size_t n = 0;
	char ctx[160];
	snprintf(ctx, sizeof(ctx), "apiKeys|%s", c->r->owner);
	int rc = api_token_int_open(c->api->token_key, ctx, q->page_token, &after, e);
	if (rc ||
	    (rc = service_key_list(c->api->sv, c->r->owner, after, q->page_size + 1, &k, &n, e)))
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
	svc_keys_free(k, n);
	return 0;
}

int api_keys_get(struct api_call *c, json_t **out, struct err *e)
{
	struct svc_key k;
	int rc = service_key_get(c->api->sv, c->r->owner, c->r->key, &k, e);
	if (rc == 0)
		*out = key_json(&k);
	svc_key_clear(&k);
	return rc;
}

int api_keys_delete(struct api_call *c, json_t **out, struct err *e)
{
	int rc = service_key_revoke(c->api->sv, c->r->owner, c->r->key, c->audit, e);
	if (rc == 0)
		*out = json_object();
	return rc;
}

/* ---- audit log ---- */

static json_t *audit_json(const struct svc_audit *a)
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
	struct svc_audit *a = NULL;
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
	if ((rc = service_audit_list(c->api->sv, owner, before, q.page_size + 1, &a, &n, e)))
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
	svc_audits_free(a, n);
	return 0;
bad_filter:
	return err_set(e, ERR_INVALID_ARGUMENT,
	               "filter \"%.100s\" is not understood; the form is owner=NAME", q.filter);
}

int api_owners_get(struct api_call *c, json_t **out, struct err *e)
{
	struct svc_owner o;
	return owner_out(service_owner_get(c->api->sv, c->r->owner, &o, e), &o, out);
}
