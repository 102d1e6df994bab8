/* studies: the study methods of API.md, operations, and name helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

char *studies_list_path(struct sibyl_client *c, const char *prefix, int page_size,
                        const char *page_token, const char *filter)
{
	char *tok = NULL, *flt = NULL, *path = NULL;
	if (page_size < 0) {
		client_fail(c, SIBYL_EUSAGE, "page_size must be >= 0");
		return NULL;
	}
	if ((page_token && *page_token && !(tok = client_escape(c, page_token))) ||
	    (filter && *filter && !(flt = client_escape(c, filter)))) {
		client_fail(c, SIBYL_ENOMEM, "out of memory");
		goto out;
	}
	size_t len = strlen(prefix) + (tok ? strlen(tok) : 0) + (flt ? strlen(flt) : 0) + 64;
	if (!(path = malloc(len))) {
		client_fail(c, SIBYL_ENOMEM, "out of memory");
		goto out;
	}
	char sep = '?';
	int n = snprintf(path, len, "%s", prefix);
	if (page_size > 0) {
		n += snprintf(path + n, len - n, "%cpageSize=%d", sep, page_size);
		sep = '&';
	}
	if (tok) {
		n += snprintf(path + n, len - n, "%cpageToken=%s", sep, tok);
		sep = '&';
	}
	if (flt)
		snprintf(path + n, len - n, "%cfilter=%s", sep, flt);
out:
	free(tok);
	free(flt);
	return path;
}

static int get_study(struct sibyl_client *c, const char *method, const char *path, json_t *body,
                     enum client_retry retry, struct sibyl_study **out)
{
	json_t *root = NULL;
	int rc = client_call(c, method, path, body, retry, &root);
	if (rc == 0)
		rc = codec_study(c, root, out);
	json_decref(root);
	return rc;
}

int sibyl_study_create(struct sibyl_client *c, const char *owner, const char *display_name,
                       const char *spec_json, struct sibyl_study **out)
{
	return sibyl_study_create_with_metadata(c, owner, display_name, spec_json, NULL, NULL, 0,
	                                        out);
}

int sibyl_study_create_with_metadata(struct sibyl_client *c, const char *owner,
                                     const char *display_name, const char *spec_json,
                                     const char *const *keys, const char *const *values, size_t n,
                                     struct sibyl_study **out)
{
	char path[512];
	json_error_t je;
	int rc;
	*out = NULL;
	if ((rc = client_check_name(c, "owner", owner)) != 0)
		return rc;
	if (!display_name || !*display_name)
		return client_fail(c, SIBYL_EUSAGE, "study display name is empty");
	if (!spec_json)
		return client_fail(c, SIBYL_EUSAGE, "study spec is NULL");
	json_t *spec = json_loads(spec_json, 0, &je);
	if (!json_is_object(spec)) {
		json_decref(spec);
		return client_fail(c, SIBYL_EUSAGE, "study spec is not a JSON object: %s",
		                   spec ? "not an object" : je.text);
	}
	json_t *body = json_pack("{s:s,s:o}", "displayName", display_name, "studySpec", spec);
	if (!body)
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	if (n) {
		json_t *md = codec_metadata_json(c, keys, values, n, 0);
		if (!md || json_object_set_new(body, "metadata", md)) {
			json_decref(body);
			return md ? client_fail(c, SIBYL_ENOMEM, "out of memory")
			          : -sibyl_errcode(c);
		}
	}
	snprintf(path, sizeof path, "owners/%s/studies", owner);
	rc = get_study(c, "POST", path, body, CLIENT_IDEMPOTENT, out);
	json_decref(body);
	return rc;
}

int sibyl_study_get(struct sibyl_client *c, const char *name, struct sibyl_study **out)
{
	int rc;
	*out = NULL;
	if ((rc = client_check_name(c, "study name", name)) != 0)
		return rc;
	return get_study(c, "GET", name, NULL, CLIENT_IDEMPOTENT, out);
}

int sibyl_study_list(struct sibyl_client *c, const char *owner, int page_size,
                     const char *page_token, struct sibyl_study_list **out)
{
	char prefix[512];
	json_t *root = NULL;
	int rc;
	*out = NULL;
	if ((rc = client_check_name(c, "owner", owner)) != 0)
		return rc;
	snprintf(prefix, sizeof prefix, "owners/%s/studies", owner);
	char *path = studies_list_path(c, prefix, page_size, page_token, NULL);
	if (!path)
		return -sibyl_errcode(c);
	struct sibyl_study_list *l = NULL;
	if ((rc = client_call(c, "GET", path, NULL, CLIENT_IDEMPOTENT, &root)) != 0)
		goto out;
	if (!(l = calloc(1, sizeof *l))) {
		rc = client_fail(c, SIBYL_ENOMEM, "out of memory");
		goto out;
	}
	json_t *arr = json_object_get(root, "studies");
	if (arr && !json_is_array(arr)) {
		rc = client_fail(c, SIBYL_EPROTOCOL, "bad study list from the server");
		goto out;
	}
	size_t n = json_array_size(arr);
	if (n && !(l->studies = calloc(n, sizeof *l->studies))) {
		rc = client_fail(c, SIBYL_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = codec_study(c, json_array_get(arr, i), &l->studies[i])) != 0)
			goto out;
		l->n = i + 1;
	}
	rc = codec_page_token(c, root, &l->next_page_token);
out:
	if (rc) {
		sibyl_study_list_free(l);
		l = NULL;
	}
	*out = l;
	free(path);
	json_decref(root);
	return rc;
}

int sibyl_study_delete(struct sibyl_client *c, const char *name)
{
	int rc;
	if ((rc = client_check_name(c, "study name", name)) != 0)
		return rc;
	return client_call(c, "DELETE", name, NULL, CLIENT_IDEMPOTENT, NULL);
}

int sibyl_study_lookup(struct sibyl_client *c, const char *owner, const char *display_name,
                       struct sibyl_study **out)
{
	char path[512];
	int rc;
	*out = NULL;
	if ((rc = client_check_name(c, "owner", owner)) != 0)
		return rc;
	if (!display_name || !*display_name)
		return client_fail(c, SIBYL_EUSAGE, "study display name is empty");
	json_t *body = json_pack("{s:s}", "displayName", display_name);
	if (!body)
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	snprintf(path, sizeof path, "owners/%s/studies:lookup", owner);
	rc = get_study(c, "POST", path, body, CLIENT_IDEMPOTENT, out);
	json_decref(body);
	return rc;
}

int sibyl_operation_get(struct sibyl_client *c, const char *name, struct sibyl_operation **out)
{
	json_t *root = NULL;
	int rc;
	*out = NULL;
	if ((rc = client_check_name(c, "operation name", name)) != 0)
		return rc;
	if ((rc = client_call(c, "GET", name, NULL, CLIENT_IDEMPOTENT, &root)) == 0)
		rc = codec_operation(c, root, out);
	json_decref(root);
	return rc;
}

static int valid_id(const char *s, size_t n)
{
	if (n == 0 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		            (ch >= '0' && ch <= '9');
		if (!alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-')))
			return 0;
	}
	return 1;
}

char *sibyl_name_study(const char *ref)
{
	if (!ref)
		return NULL;
	const char *p = ref;
	int full = strncmp(ref, "owners/", 7) == 0;
	if (full)
		p += 7;
	const char *slash = strchr(p, '/');
	if (!slash || !valid_id(p, (size_t)(slash - p)))
		return NULL;
	const char *study = slash + 1;
	if (full) {
		if (strncmp(study, "studies/", 8) != 0)
			return NULL;
		study += 8;
	}
	if (!valid_id(study, strlen(study)))
		return NULL;
	size_t len = (size_t)(slash - p) + strlen(study) + sizeof "owners//studies/";
	char *out = malloc(len);
	if (out)
		snprintf(out, len, "owners/%.*s/studies/%s", (int)(slash - p), p, study);
	return out;
}
