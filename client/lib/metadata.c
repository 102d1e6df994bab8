/* metadata: the metadata of studies and trials (API.md: set on create,
 * PATCH ?updateMask=metadata merges; a null value deletes a key). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void codec_metadata_free(size_t n, struct sibyl_metadata_entry *m)
{
	for (size_t i = 0; m && i < n; i++) {
		free(m[i].key);
		free(m[i].value);
	}
	free(m);
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct sibyl_metadata_entry *)a)->key,
	              ((const struct sibyl_metadata_entry *)b)->key);
}

int codec_metadata(json_t *j, size_t *n, struct sibyl_metadata_entry **out)
{
	json_t *md = json_object_get(j, "metadata");
	*n = 0;
	*out = NULL;
	if (!md)
		return 0;
	if (!json_is_object(md))
		return -SIBYL_EPROTOCOL;
	size_t cap = json_object_size(md), k = 0;
	if (cap == 0)
		return 0;
	struct sibyl_metadata_entry *m = calloc(cap, sizeof *m);
	if (!m)
		return -SIBYL_ENOMEM;
	const char *key;
	json_t *v;
	int rc = 0;
	json_object_foreach(md, key, v)
	{
		if (!json_is_string(v)) {
			rc = -SIBYL_EPROTOCOL;
			break;
		}
		m[k].key = strdup(key);
		m[k].value = strdup(json_string_value(v));
		k++;
		if (!m[k - 1].key || !m[k - 1].value) {
			rc = -SIBYL_ENOMEM;
			break;
		}
	}
	if (rc) {
		codec_metadata_free(k, m);
		return rc;
	}
	qsort(m, k, sizeof *m, by_key);
	*n = k;
	*out = m;
	return 0;
}

json_t *codec_metadata_json(struct sibyl_client *c, const char *const *keys,
                            const char *const *values, size_t n, int nulls)
{
	if (n && (!keys || !values)) {
		client_fail(c, SIBYL_EUSAGE, "metadata keys or values is NULL");
		return NULL;
	}
	json_t *o = json_object();
	if (!o) {
		client_fail(c, SIBYL_ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!keys[i] || (!values[i] && !nulls)) {
			json_decref(o);
			client_fail(c, SIBYL_EUSAGE, "metadata %s %zu is NULL",
			            keys[i] ? "value" : "key", i);
			return NULL;
		}
		json_t *v = values[i] ? json_string(values[i]) : json_null();
		if (!v || json_object_set_new(o, keys[i], v)) {
			json_decref(o);
			client_fail(c, v ? SIBYL_EUSAGE : SIBYL_ENOMEM,
			            v ? "metadata key %zu is not UTF-8" : "out of memory", i);
			return NULL;
		}
	}
	return o;
}

static const char *lookup(const struct sibyl_metadata_entry *m, size_t n, const char *key)
{
	for (size_t i = 0; key && i < n; i++)
		if (strcmp(m[i].key, key) == 0)
			return m[i].value;
	return NULL;
}

const char *sibyl_study_metadata(const struct sibyl_study *s, const char *key)
{
	return s ? lookup(s->metadata, s->n_metadata, key) : NULL;
}

const char *sibyl_trial_metadata(const struct sibyl_trial *t, const char *key)
{
	return t ? lookup(t->metadata, t->n_metadata, key) : NULL;
}

/* PATCH name?updateMask=metadata with {"metadata": {...}}; the answer in
 * *root (new reference). */
static int patch(struct sibyl_client *c, const char *what, const char *name,
                 const char *const *keys, const char *const *values, size_t n, json_t **root)
{
	int rc = client_check_name(c, what, name);
	if (rc)
		return rc;
	json_t *md = codec_metadata_json(c, keys, values, n, 1);
	if (!md)
		return -sibyl_errcode(c);
	json_t *body = json_pack("{s:o}", "metadata", md);
	size_t len = strlen(name) + sizeof "?updateMask=metadata";
	char *path = malloc(len);
	if (!body || !path) {
		json_decref(body);
		free(path);
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	}
	memcpy(path, name, strlen(name));
	memcpy(path + strlen(name), "?updateMask=metadata", sizeof "?updateMask=metadata");
	/* A merge of the same keys gives the same object: safe to repeat. */
	rc = client_call(c, "PATCH", path, body, CLIENT_IDEMPOTENT, root);
	json_decref(body);
	free(path);
	return rc;
}

int sibyl_study_set_metadata(struct sibyl_client *c, const char *name, const char *const *keys,
                             const char *const *values, size_t n, struct sibyl_study **out)
{
	json_t *root = NULL;
	if (out)
		*out = NULL;
	int rc = patch(c, "study name", name, keys, values, n, &root);
	if (rc == 0 && out)
		rc = codec_study(c, root, out);
	json_decref(root);
	return rc;
}

int sibyl_trial_set_metadata(struct sibyl_client *c, const char *name, const char *const *keys,
                             const char *const *values, size_t n, struct sibyl_trial **out)
{
	json_t *root = NULL;
	if (out)
		*out = NULL;
	int rc = patch(c, "trial name", name, keys, values, n, &root);
	if (rc == 0 && out)
		rc = codec_trial(c, root, out);
	json_decref(root);
	return rc;
}
