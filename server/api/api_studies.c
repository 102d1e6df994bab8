/* Studies: create-or-load, get, list, delete, lookup, and PATCH of their
 * metadata. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "config.h"
#include "json_util.h"
#include "metadata.h"
#include "spec.h"
#include "spec_diff.h"
#include "trial_json.h"

static int study_get(struct api *api, const char *owner, const char *study, json_t **out,
                     struct err *e)
{
	struct store_study s;
	struct store_conn *c = store_read(api->st, e);
	if (!c)
		return -(int)e->code;
	int rc = store_study_get(c, owner, study, &s, e);
	store_release(c);
	if (rc)
		return rc;
	*out = tj_study(&s);
	store_study_clear(&s);
	return 0;
}

/* Create-or-load found the study: the same spec (parameters, metrics and
 * categorical values in any order: spec_diff.h) loads it, with its stored
 * metadata (a create's metadata takes no part); another is
 * ALREADY_EXISTS naming the first difference. */
static int load_existing(const struct store_study *s, const char *canon, json_t **out,
                         struct err *e)
{
	char why[512];
	if (spec_diff(s->spec_json, canon, why, sizeof(why)) != 0)
		return err_set(e, ERR_ALREADY_EXISTS,
		               "study owners/%s/studies/%s already exists with a different "
		               "studySpec: %s",
		               s->owner, s->study_id, why);
	*out = tj_study(s);
	return 0;
}

int api_studies_create(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const fields[] = {"displayName", "studySpec", "metadata", NULL};
	const char *owner = c->r->owner, *id;
	struct spec sp;
	char *canon = NULL, *md = NULL;
	struct store_study s = {0};
	int rc = ju_only_fields(c->body, "", fields, e);
	if (rc)
		return rc;
	const json_t *dn = json_object_get(c->body, "displayName");
	if (!dn)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "displayName is required (it is the study id: "
		               "[A-Za-z0-9][A-Za-z0-9._-]{0,127})");
	if ((rc = ju_id(dn, "displayName", &id, e)))
		return rc;
	const json_t *spv = json_object_get(c->body, "studySpec");
	if (!spv)
		return err_set(e, ERR_INVALID_ARGUMENT, "studySpec is required");
	if ((rc = spec_parse(spv, "studySpec", c->api->cfg, &sp, &canon, e)))
		return rc;
	spec_free(&sp);
	if ((rc = md_create(json_object_get(c->body, "metadata"), c->api->cfg, &md, e))) {
		free(canon);
		return rc;
	}
	int64_t now = ju_now_ms();
	struct store_conn *w = store_write_begin(c->api->st, e);
	if (!w) {
		rc = -(int)e->code;
		goto done;
	}
	rc = store_study_get(w, owner, id, &s, e);
	if (rc == 0) {
		/* create-or-load: many workers create the same study at start-up */
		rc = load_existing(&s, canon, out, e);
		store_write_rollback(w);
		goto done;
	}
	if (e->code != ERR_NOT_FOUND)
		goto fail;
	/* Owners are made by the admin (POST /v1/owners), never implicitly. */
	struct store_quota q;
	if (store_owner_quota_get(w, owner, &q, e) != 0) {
		if (e->code == ERR_NOT_FOUND)
			err_set(
			    e, ERR_NOT_FOUND,
			    "owner owners/%s not found: the admin creates it with POST /v1/owners",
			    owner);
		rc = -(int)e->code;
		goto fail;
	}
	if ((rc = store_study_insert(w, owner, id, canon, now, &s, e)))
		goto fail;
	if (md && (rc = store_study_set_metadata(w, s.rowid, md, e)))
		goto fail;
	if ((rc = store_write_commit(w, e)))
		goto done;
	s.metadata_json = md;
	md = NULL;
	*out = tj_study(&s);
	goto done;
fail:
	store_write_rollback(w);
done:
	store_study_clear(&s);
	free(canon);
	free(md);
	return rc;
}

int api_metadata_patch(const struct api_call *c, char **patch, struct err *e)
{
	const json_t *p;
	*patch = NULL;
	int rc = md_patch_request(c->q->present & API_Q_UPDATE_MASK ? c->q->update_mask : NULL,
	                          c->body, &p, e);
	if (rc)
		return rc;
	if (!(*patch = json_dumps(p, JSON_ENCODE_ANY | JSON_COMPACT)))
		return err_set(e, ERR_INTERNAL, "out of memory");
	return 0;
}

/* PATCH ?updateMask=metadata: merges the body's metadata into the
 * study's (metadata.h). */
int api_studies_patch(struct api_call *c, json_t **out, struct err *e)
{
	struct store_study s;
	char *patch;
	int rc = api_metadata_patch(c, &patch, e);
	if (rc)
		return rc;
	rc = service_patch_metadata(c->api->sv, c->r->owner, c->r->study, 0, patch, &s, NULL, e);
	free(patch);
	if (rc == 0)
		*out = tj_study(&s);
	store_study_clear(&s);
	return rc;
}

int api_studies_list(struct api_call *c, json_t **out, struct err *e)
{
	const struct api_query *q = c->q;
	struct store_study *s = NULL;
	size_t n = 0;
	int64_t after = 0;
	char ctx[160];
	snprintf(ctx, sizeof(ctx), "studies|%s", c->r->owner);
	int rc = api_token_int_open(c->api->token_key, ctx, q->page_token, &after, e);
	if (rc)
		return rc;
	struct store_conn *conn = store_read(c->api->st, e);
	if (!conn)
		return -(int)e->code;
	rc = store_study_list(conn, c->r->owner, after, q->page_size + 1, &s, &n, e);
	store_release(conn);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n && i < (size_t)q->page_size; i++)
		json_array_append_new(arr, tj_study(&s[i]));
	*out = json_object();
	json_object_set_new(*out, "studies", arr);
	if (n > (size_t)q->page_size) {
		char tok[API_TOKEN_CHARS];
		api_token_int(c->api->token_key, ctx, s[q->page_size - 1].rowid, tok, sizeof(tok));
		json_object_set_new(*out, "nextPageToken", json_string(tok));
	}
	for (size_t i = 0; i < n; i++)
		store_study_clear(&s[i]);
	free(s);
	return 0;
}

int api_studies_delete(struct api_call *c, json_t **out, struct err *e)
{
	struct store_study s;
	struct store_conn *w = store_write_begin(c->api->st, e);
	if (!w)
		return -(int)e->code;
	int rc = store_study_get(w, c->r->owner, c->r->study, &s, e);
	if (rc) {
		store_write_rollback(w);
		return rc;
	}
	int64_t rowid = s.rowid;
	store_study_clear(&s);
	if ((rc = store_study_delete(w, c->r->owner, c->r->study, e))) {
		store_write_rollback(w);
		return rc;
	}
	if ((rc = store_write_commit(w, e)))
		return rc;
	service_forget_study(c->api->sv, rowid);
	*out = json_object();
	return 0;
}

int api_studies_lookup(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const fields[] = {"displayName", NULL};
	const char *id;
	int rc = ju_only_fields(c->body, "", fields, e);
	if (rc)
		return rc;
	const json_t *dn = json_object_get(c->body, "displayName");
	if (!dn)
		return err_set(e, ERR_INVALID_ARGUMENT, "displayName is required");
	if ((rc = ju_id(dn, "displayName", &id, e)))
		return rc;
	return study_get(c->api, c->r->owner, id, out, e);
}

int api_studies_get(struct api_call *c, json_t **out, struct err *e)
{
	return study_get(c->api, c->r->owner, c->r->study, out, e);
}
