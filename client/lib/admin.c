/* admin: owners and API keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int sibyl_owner_create(struct sibyl_client *c, const char *owner_id, const char *display_name,
                       struct sibyl_owner **out)
{
	json_t *root = NULL;
	int rc;
	*out = NULL;
	if ((rc = client_check_name(c, "owner id", owner_id)) != 0)
		return rc;
	json_t *body = json_pack("{s:s}", "ownerId", owner_id);
	if (!body || (display_name &&
	              json_object_set_new(body, "displayName", json_string(display_name)) != 0)) {
		json_decref(body);
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	}
	rc = client_call(c, "POST", "owners", body, CLIENT_ONCE, &root);
	json_decref(body);
	if (rc == 0)
		rc = codec_owner(c, root, out);
	json_decref(root);
	return rc;
}

int sibyl_owner_get(struct sibyl_client *c, const char *owner, struct sibyl_owner **out)
{
	char path[512];
	json_t *root = NULL;
	int rc;
	*out = NULL;
	if ((rc = client_check_name(c, "owner", owner)) != 0)
		return rc;
	snprintf(path, sizeof path, "owners/%s", owner);
	if ((rc = client_call(c, "GET", path, NULL, CLIENT_IDEMPOTENT, &root)) == 0)
		rc = codec_owner(c, root, out);
	json_decref(root);
	return rc;
}

int sibyl_owner_list(struct sibyl_client *c, int page_size, const char *page_token,
                     struct sibyl_owner_list **out)
{
	json_t *root = NULL;
	struct sibyl_owner_list *l = NULL;
	int rc;
	*out = NULL;
	char *path = studies_list_path(c, "owners", page_size, page_token, NULL);
	if (!path)
		return -sibyl_errcode(c);
	if ((rc = client_call(c, "GET", path, NULL, CLIENT_IDEMPOTENT, &root)) != 0)
		goto out;
	json_t *arr = json_object_get(root, "owners");
	size_t n = json_array_size(arr);
	if (!(l = calloc(1, sizeof *l)) || (n && !(l->owners = calloc(n, sizeof *l->owners)))) {
		rc = client_fail(c, SIBYL_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = codec_owner(c, json_array_get(arr, i), &l->owners[i])) != 0)
			goto out;
		l->n = i + 1;
	}
	rc = codec_page_token(c, root, &l->next_page_token);
out:
	if (rc) {
		sibyl_owner_list_free(l);
		l = NULL;
	}
	*out = l;
	free(path);
	json_decref(root);
	return rc;
}

int sibyl_owner_delete(struct sibyl_client *c, const char *owner)
{
	char path[512];
	int rc;
	if ((rc = client_check_name(c, "owner", owner)) != 0)
		return rc;
	snprintf(path, sizeof path, "owners/%s", owner);
	return client_call(c, "DELETE", path, NULL, CLIENT_IDEMPOTENT, NULL);
}

int sibyl_api_key_create(struct sibyl_client *c, const char *owner, const char *role,
                         const char *display_name, struct sibyl_api_key **out)
{
	char path[512];
	json_t *root = NULL;
	int rc;
	*out = NULL;
	if ((rc = client_check_name(c, "owner", owner)) != 0)
		return rc;
	if (!role || !*role)
		return client_fail(c, SIBYL_EUSAGE, "role is empty (WRITER or READER)");
	json_t *body = json_pack("{s:s}", "role", role);
	if (!body || (display_name &&
	              json_object_set_new(body, "displayName", json_string(display_name)) != 0)) {
		json_decref(body);
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	}
	snprintf(path, sizeof path, "owners/%s/apiKeys", owner);
	/* Never repeated: a second attempt would make a second key. */
	rc = client_call(c, "POST", path, body, CLIENT_ONCE, &root);
	json_decref(body);
	if (rc == 0)
		rc = codec_api_key(c, root, out);
	json_decref(root);
	return rc;
}

int sibyl_api_key_list(struct sibyl_client *c, const char *owner, int page_size,
                       const char *page_token, struct sibyl_api_key_list **out)
{
	char prefix[512];
	json_t *root = NULL;
	struct sibyl_api_key_list *l = NULL;
	int rc;
	*out = NULL;
	if ((rc = client_check_name(c, "owner", owner)) != 0)
		return rc;
	snprintf(prefix, sizeof prefix, "owners/%s/apiKeys", owner);
	char *path = studies_list_path(c, prefix, page_size, page_token, NULL);
	if (!path)
		return -sibyl_errcode(c);
	if ((rc = client_call(c, "GET", path, NULL, CLIENT_IDEMPOTENT, &root)) != 0)
		goto out;
	json_t *arr = json_object_get(root, "apiKeys");
	size_t n = json_array_size(arr);
	if (!(l = calloc(1, sizeof *l)) || (n && !(l->keys = calloc(n, sizeof *l->keys)))) {
		rc = client_fail(c, SIBYL_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = codec_api_key(c, json_array_get(arr, i), &l->keys[i])) != 0)
			goto out;
		l->n = i + 1;
	}
	rc = codec_page_token(c, root, &l->next_page_token);
out:
	if (rc) {
		sibyl_api_key_list_free(l);
		l = NULL;
	}
	*out = l;
	free(path);
	json_decref(root);
	return rc;
}

int sibyl_api_key_delete(struct sibyl_client *c, const char *name)
{
	int rc;
	if ((rc = client_check_name(c, "API key name", name)) != 0)
		return rc;
	return client_call(c, "DELETE", name, NULL, CLIENT_IDEMPOTENT, NULL);
}
