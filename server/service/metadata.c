#include "metadata.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json_util.h"

#define SHOW 60 /* bytes of a key quoted in a message */

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int check_key(const char *k, const struct config *cfg, struct err *e)
{
	size_t n = strlen(k);
	if (n == 0)
		return err_set(e, ERR_INVALID_ARGUMENT, "metadata has an empty key");
	if (cfg->max_metadata_key_bytes > 0 && n > (size_t)cfg->max_metadata_key_bytes)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "metadata key \"%.*s...\" is %zu bytes, more than the limit of %d "
		               "(max_metadata_key_bytes)",
		               SHOW, k, n, cfg->max_metadata_key_bytes);
	if (has_control(k))
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "metadata key \"%.*s\" has a control character", SHOW, k);
	return 0;
}

/* One member of a request's metadata: a string (or, when null_ok, null). */
static int check_member(const char *k, const json_t *v, int null_ok, const struct config *cfg,
                        struct err *e)
{
	int rc = check_key(k, cfg, e);
	if (rc)
		return rc;
	if (json_is_null(v) && null_ok)
		return 0;
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID_ARGUMENT, "metadata[\"%.*s\"] must be a string%s",
		               SHOW, k, null_ok ? " (or null to delete the key)" : "");
	size_t n = json_string_length(v);
	if (cfg->max_metadata_value_bytes > 0 && n > (size_t)cfg->max_metadata_value_bytes)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "metadata[\"%.*s\"] is %zu bytes, more than the limit of %d "
		               "(max_metadata_value_bytes)",
		               SHOW, k, n, cfg->max_metadata_value_bytes);
	return 0;
}

static int check_request(const json_t *v, int null_ok, const struct config *cfg, struct err *e)
{
	if (!json_is_object(v))
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "metadata must be an object of string keys to string values");
	const char *k;
	const json_t *x;
	json_object_foreach((json_t *)v, k, x)
	{
		int rc = check_member(k, x, null_ok, cfg, e);
		if (rc)
			return rc;
	}
	return 0;
}

/* The limits on the whole object, then its canonical text (NULL when
 * empty). */
static int finish(const json_t *m, const struct config *cfg, char **text, struct err *e)
{
	size_t keys = json_object_size(m), bytes = 0;
	const char *k;
	const json_t *x;
	*text = NULL;
	json_object_foreach((json_t *)m, k, x) bytes += strlen(k) + json_string_length(x);
	if (cfg->max_metadata_keys > 0 && keys > (size_t)cfg->max_metadata_keys)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "metadata would have %zu keys, more than the limit of %d "
		               "(max_metadata_keys)",
		               keys, cfg->max_metadata_keys);
	if (cfg->max_metadata_bytes > 0 && bytes > (size_t)cfg->max_metadata_bytes)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "metadata would be %zu bytes (keys and values), more than the limit "
		               "of %d (max_metadata_bytes)",
		               bytes, cfg->max_metadata_bytes);
	if (keys == 0)
		return 0;
	if (!(*text = ju_canonical(m)))
		return err_set(e, ERR_INTERNAL, "out of memory");
	return 0;
}

int md_create(const json_t *v, const struct config *cfg, char **text, struct err *e)
{
	*text = NULL;
	if (!v)
		return 0;
	int rc = check_request(v, 0, cfg, e);
	return rc ? rc : finish(v, cfg, text, e);
}

int md_merge(const char *stored, const json_t *v, const struct config *cfg, char **text,
             struct err *e)
{
	*text = NULL;
	int rc = check_request(v, 1, cfg, e);
	if (rc)
		return rc;
	json_t *m = stored ? json_loads(stored, 0, NULL) : json_object();
	if (!json_is_object(m)) {
		json_decref(m);
		return err_set(e, ERR_INTERNAL, "stored metadata is not a JSON object");
	}
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)v, k, x)
	{
		if (json_is_null(x))
			json_object_del(m, k);
		else
			json_object_set(m, k, x);
	}
	rc = finish(m, cfg, text, e);
	json_decref(m);
	return rc;
}

/* The updateMask of the query: 0 with *mask NULL when there is none. Any
 * other parameter, or updateMask twice, is INVALID_ARGUMENT. */
int md_patch_request(const char *mask, const json_t *body, const json_t **patch, struct err *e)
{
	size_t mlen = mask ? strlen(mask) : 0;
	if (mask && strcmp(mask, "metadata") != 0)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "updateMask \"%.*s\" is not supported: metadata is the only field "
		               "PATCH changes (updateMask=metadata)",
		               (int)(mlen > 60 ? 60 : mlen), mask);
	const char *k;
	const json_t *x;
	json_object_foreach((json_t *)body, k, x)
	{
		if (strcmp(k, "metadata") != 0)
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "%.60s cannot be changed: metadata is the only field PATCH "
			               "changes (body {\"metadata\": {...}}, ?updateMask=metadata)",
			               k);
	}
	if (!(*patch = json_object_get(body, "metadata")))
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "metadata is required: PATCH ?updateMask=metadata takes "
		               "{\"metadata\": {\"key\": \"value\", \"gone\": null}}");
	return 0;
}
