/* service_patch_metadata: the metadata PATCH of a study and of a trial
 * through the service, on a real SQLite file, without HTTP. Refusals
 * leave the stored metadata as it was. */
#include "config.h"
#include "service.h"
#include "store_test.h"

static struct service *sv;
static struct store *st;

static char *study_md(const char *owner, const char *id)
{
	struct err e = {0};
	struct store_study s = {0};
	char *md = NULL;
	struct store_conn *c = store_read(st, &e);
	ASSERT_TRUE(c != NULL);
	if (c && store_study_get(c, owner, id, &s, &e) == 0 && s.metadata_json)
		md = strdup(s.metadata_json);
	store_release(c);
	store_study_clear(&s);
	return md;
}

static void test_study(void)
{
	struct err e = {0};
	struct store_study s;
	make_study(st, "team", "s");
	ASSERT_EQ_INT(service_patch_metadata(sv, "team", "s", 0, "{\"a\":\"1\",\"b\":\"2\"}", &s,
	                                     NULL, NULL, &e),
	              0);
	ASSERT_EQ_STR(s.metadata_json, "{\"a\":\"1\",\"b\":\"2\"}");
	ASSERT_EQ_STR(s.study_id, "s");
	store_study_clear(&s);
	/* Merge: null deletes, a string sets, keys not named stay. */
	ASSERT_EQ_INT(service_patch_metadata(sv, "team", "s", 0, "{\"a\":null,\"c\":\"3\"}", &s,
	                                     NULL, NULL, &e),
	              0);
	ASSERT_EQ_STR(s.metadata_json, "{\"b\":\"2\",\"c\":\"3\"}");
	store_study_clear(&s);
	char *md = study_md("team", "s");
	ASSERT_EQ_STR(md, "{\"b\":\"2\",\"c\":\"3\"}");
	free(md);

	/* A value that is not a string: refused, nothing changed. */
	ASSERT_EQ_INT(
	    service_patch_metadata(sv, "team", "s", 0, "{\"b\":\"x\",\"d\":1}", &s, NULL, NULL, &e),
	    -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(e.msg, "metadata[\"d\"] must be a string") != NULL);
	ASSERT_TRUE(s.study_id == NULL);
	md = study_md("team", "s");
	ASSERT_EQ_STR(md, "{\"b\":\"2\",\"c\":\"3\"}");
	free(md);
	/* Over max_metadata_keys after the merge: refused, nothing changed. */
	char big[2048] = "{";
	for (int i = 0; i < 70; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big), "%s\"k%d\":\"v\"",
		         i ? "," : "", i);
	snprintf(big + strlen(big), sizeof(big) - strlen(big), "}");
	ASSERT_EQ_INT(service_patch_metadata(sv, "team", "s", 0, big, &s, NULL, NULL, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(e.msg, "max_metadata_keys") != NULL);
	md = study_md("team", "s");
	ASSERT_EQ_STR(md, "{\"b\":\"2\",\"c\":\"3\"}");
	free(md);
	/* Deleting every key leaves none. */
	ASSERT_EQ_INT(service_patch_metadata(sv, "team", "s", 0, "{\"b\":null,\"c\":null}", &s,
	                                     NULL, NULL, &e),
	              0);
	ASSERT_TRUE(s.metadata_json == NULL);
	store_study_clear(&s);
	/* A study that does not exist is NOT_FOUND, whatever the patch. */
	ASSERT_EQ_INT(
	    service_patch_metadata(sv, "team", "nope", 0, "{\"d\":1}", &s, NULL, NULL, &e),
	    -ERR_NOT_FOUND);
	ASSERT_EQ_INT(service_patch_metadata(sv, "team", "s", 0, "not json", &s, NULL, NULL, &e),
	              -ERR_INTERNAL);
}

static void test_trial(void)
{
	struct err e = {0};
	struct svc_trial t;
	int64_t rowid = make_study(st, "team", "t");
	int64_t id = add_trial(st, rowid, TRIAL_ACTIVE, "w1", 0);
	ASSERT_EQ_INT(
	    service_patch_metadata(sv, "team", "t", id, "{\"note\":\"ok\"}", NULL, &t, NULL, &e),
	    0);
	ASSERT_TRUE(t.t.metadata_json && strcmp(t.t.metadata_json, "{\"note\":\"ok\"}") == 0);
	ASSERT_EQ_INT(t.t.state, TRIAL_ACTIVE);
	ASSERT_EQ_INT(t.t.id, id);
	svc_trial_clear(&t);
	ASSERT_EQ_INT(raw_int(db_path("md.db"),
	                      "SELECT count(*) FROM trials WHERE metadata_json IS NOT NULL"),
	              1);
	/* Refused: the trial keeps its metadata, no trial is answered. */
	ASSERT_EQ_INT(
	    service_patch_metadata(sv, "team", "t", id, "{\"note\":[]}", NULL, &t, NULL, &e),
	    -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(t.t.params_json == NULL && t.measurements == NULL);
	ASSERT_EQ_INT(raw_int(db_path("md.db"), "SELECT count(*) FROM trials WHERE "
	                                        "metadata_json = '{\"note\":\"ok\"}'"),
	              1);
	ASSERT_EQ_INT(service_patch_metadata(sv, "team", "t", id + 100, "{}", NULL, &t, NULL, &e),
	              -ERR_NOT_FOUND);
	ASSERT_EQ_INT(service_patch_metadata(sv, "team", "nope", id, "{}", NULL, &t, NULL, &e),
	              -ERR_NOT_FOUND);
	ASSERT_TRUE(t.t.params_json == NULL);
}

int main(void)
{
	struct err e = {0};
	struct config cfg;
	if (store_test_setup("svc_md") != 0)
		return 1;
	config_defaults(&cfg);
	st = store_open(db_path("md.db"), &e);
	ASSERT_TRUE(st != NULL);
	sv = st ? service_new(st, &cfg) : NULL;
	ASSERT_TRUE(sv != NULL);
	if (sv) {
		test_study();
		test_trial();
	}
	service_free(sv);
	store_close(st);
	store_test_cleanup();
	return test_done("test-service_metadata");
}
