/* Metadata of studies and trials (metadata.c) under small limits. The
 * input is "query\nbody": the query of a PATCH, and a JSON body (parsed as
 * the server does) whose "stored" member, taken out, is the metadata of a
 * create (md_create) and the rest the PATCH body (md_patch_request, then
 * md_merge onto what the create gave). Invariants:
 *  - a refusal is a 4xx with a message;
 *  - accepted metadata is NULL when empty, else canonical text of a
 *    non-empty object of strings within every limit, which md_create
 *    takes back unchanged;
 *  - a merge sets the keys the patch gives a string, deletes those it
 *    gives null, keeps every other stored key and adds nothing else. */
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "json_util.h"
#include "api_query.h"
#include "metadata.h"

static struct config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	config_defaults(&cfg);
	/* Small limits reach the limit checks with small inputs. */
	cfg.max_metadata_keys = 4;
	cfg.max_metadata_key_bytes = 8;
	cfg.max_metadata_value_bytes = 16;
	cfg.max_metadata_bytes = 40;
	return 0;
}

/* text is what md_create or md_merge accepted. */
static void check_text(const char *text)
{
	if (!text)
		return;
	json_error_t jerr;
	json_t *m = json_loads(text, 0, &jerr);
	FUZZ_CHECK(json_is_object(m), "metadata text \"%s\" is not an object: %s", text, jerr.text);
	size_t keys = json_object_size(m), bytes = 0;
	FUZZ_CHECK(keys >= 1 && keys <= (size_t)cfg.max_metadata_keys, "%zu keys: %s", keys, text);
	const char *k;
	json_t *x;
	json_object_foreach(m, k, x)
	{
		FUZZ_CHECK(json_is_string(x), "\"%s\" is not a string: %s", k, text);
		size_t kn = strlen(k), vn = json_string_length(x);
		FUZZ_CHECK(kn >= 1 && kn <= (size_t)cfg.max_metadata_key_bytes, "key of %zu bytes",
		           kn);
		FUZZ_CHECK(vn <= (size_t)cfg.max_metadata_value_bytes, "value of %zu bytes", vn);
		for (const char *p = k; *p; p++)
			FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f,
			           "control byte in a key");
		bytes += kn + vn;
	}
	FUZZ_CHECK(bytes <= (size_t)cfg.max_metadata_bytes, "%zu bytes: %s", bytes, text);
	char *again = NULL;
	struct err e = {0};
	int rc = md_create(m, &cfg, &again, &e);
	FUZZ_CHECK(rc == 0, "accepted text \"%s\" refused by md_create: %s", text, e.msg);
	FUZZ_CHECK(again && strcmp(again, text) == 0, "not canonical: \"%s\" vs \"%s\"", text,
	           again ? again : "(null)");
	free(again);
	json_decref(m);
}

/* merged is md_merge(stored, patch) where both were accepted. */
static void check_merge(const char *stored, const json_t *patch, const char *merged)
{
	json_t *s = stored ? json_loads(stored, 0, NULL) : json_object();
	json_t *m = merged ? json_loads(merged, 0, NULL) : json_object();
	FUZZ_CHECK(s && m, "stored or merged text does not parse");
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)patch, k, x)
	{
		const json_t *got = json_object_get(m, k);
		if (json_is_null(x))
			FUZZ_CHECK(!got, "\"%s\" is deleted by the patch, still there", k);
		else
			FUZZ_CHECK(got && json_equal(got, x), "\"%s\" not set by the patch", k);
	}
	json_object_foreach(s, k, x)
	{
		if (!json_object_get(patch, k))
			FUZZ_CHECK(json_equal(json_object_get(m, k), x), "stored \"%s\" changed",
			           k);
	}
	json_object_foreach(m, k, x)
	{
		FUZZ_CHECK(json_object_get(s, k) || json_object_get(patch, k), "\"%s\" appeared",
		           k);
	}
	json_decref(s);
	json_decref(m);
}

static void check_patch(const char *query, const json_t *body, const char *stored)
{
	const json_t *patch = NULL;
	char *merged = NULL;
	struct err e = {0};
	struct api_query q;
	int rc = api_query_parse(ROUTE_STUDY, "PATCH", query, &q, &e);
	if (rc == 0)
		rc = md_patch_request(q.present & API_Q_UPDATE_MASK ? q.update_mask : NULL, body,
		                      &patch, &e);
	if (rc != 0) {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
		return;
	}
	FUZZ_CHECK(patch && patch == json_object_get(body, "metadata"), "patch not the member");
	rc = md_merge(stored, patch, &cfg, &merged, &e);
	if (rc != 0) {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
		FUZZ_CHECK(merged == NULL, "text left after a refusal");
		return;
	}
	check_text(merged);
	check_merge(stored, patch, merged);
	free(merged);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = {0};
	if (!cfg.max_json_depth)
		LLVMFuzzerInitialize(NULL, NULL);
	const uint8_t *nl = memchr(data, '\n', size);
	size_t qlen = nl ? (size_t)(nl - data) : 0;
	char *query = malloc(qlen + 1);
	FUZZ_CHECK(query != NULL, "out of memory");
	memcpy(query, data, qlen);
	query[qlen] = '\0';
	const char *body = nl ? (const char *)nl + 1 : (const char *)data;
	json_t *root =
	    ju_parse_body(body, size - (size_t)(body - (const char *)data), cfg.max_json_depth, &e);
	if (!root) {
		FUZZ_CHECK_CLIENT_ERROR(-(int)e.code, &e);
		free(query);
		return 0;
	}
	json_t *sv = json_incref(json_object_get(root, "stored"));
	json_object_del(root, "stored");
	char *stored = NULL;
	int rc = md_create(sv, &cfg, &stored, &e);
	if (rc != 0) {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
		FUZZ_CHECK(stored == NULL, "text left after a refusal");
	} else {
		FUZZ_CHECK(!stored == (!sv || json_object_size(sv) == 0), "empty is not NULL");
		check_text(stored);
	}
	check_patch(query, root, stored);
	free(stored);
	json_decref(sv);
	json_decref(root);
	free(query);
	return 0;
}
