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
#include "trial_json.h"

static int study_get(struct api *api, const char *owner, const char *study, json_t **out,
                     struct err *e)
{
	struct store_study s;
	int rc = service_study_get(api->sv, owner, study, &s, e);
	if (rc == 0)
		*out = tj_study(&s);
	svc_study_clear(&s);
	return rc;
}

int api_studies_create(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const fields[] = {"displayName", "studySpec", "metadata", NULL};
	const char *id;
	struct spec sp;
	char *canon = NULL, *md = NULL;
	struct store_study s;
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
	rc = service_study_create(c->api->sv, c->r->owner, id, canon, md, &s, c->audit, e);
	if (rc == 0)
		*out = tj_study(&s);
	svc_study_clear(&s);
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
	rc = service_patch_metadata(c->api->sv, c->r->owner, c->r->study, 0, patch, &s, NULL,
	                            c->audit, e);
	free(patch);
	if (rc == 0)
		*out = tj_study(&s);
	svc_study_clear(&s);
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
	if ((rc = service_study_list(c->api->sv, c->r->owner, after, q->page_size + 1, &s, &n, e)))
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
	svc_studies_free(s, n);
	return 0;
}

int api_studies_delete(struct api_call *c, json_t **out, struct err *e)
{
	int rc = service_study_delete(c->api->sv, c->r->owner, c->r->study, c->audit, e);
	if (rc == 0)
		*out = json_object();
	return rc;
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
