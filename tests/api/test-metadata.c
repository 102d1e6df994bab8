/* Metadata on studies and trials over real HTTP: set on create, merged by
 * PATCH ?updateMask=metadata (null deletes a key), returned by get and
 * list, bounded by the max_metadata_* settings (given here as flags and
 * an environment variable), refused for a READER key and audited; every
 * refusal changes nothing. Also create-or-load: the order of parameters,
 * metrics and categorical values does not matter, and a 409 names the
 * first difference. */
#include "apitest.h"

#define ST   "/v1/owners/t/studies/m"
#define TR1  ST "/trials/1"
#define MASK "?updateMask=metadata"

static json_t *md_of(json_t *o)
{
	return json_object_get(o, "metadata");
}

static void expect_md(json_t *o, const char *want_json, int line)
{
	json_t *want = json_loads(want_json, 0, NULL);
	json_t *got = md_of(o);
	test_checks++;
	if (!want_json[2] ? got != NULL : !json_equal(got, want)) {
		char *g = got ? json_dumps(got, JSON_SORT_KEYS) : NULL;
		TEST_FAIL("line %d: metadata %s, want %s", line, g ? g : "(none)", want_json);
		free(g);
	}
	json_decref(want);
}
/* want "{}": no metadata member at all */
#define EXPECT_MD(o, want) expect_md((o), (want), __LINE__)

static void test_study_metadata(struct daemon *d)
{
	json_t *s = CALL(d, "POST", "/v1/owners/t/studies",
	                 "{\"displayName\":\"m\",\"studySpec\":" SPEC_RANDOM
	                 ",\"metadata\":{\"git\":\"abc123\",\"host\":\"m1\"}}",
	                 200);
	EXPECT_MD(s, "{\"git\":\"abc123\",\"host\":\"m1\"}");
	json_decref(s);
	s = CALL(d, "GET", ST, NULL, 200);
	EXPECT_MD(s, "{\"git\":\"abc123\",\"host\":\"m1\"}");
	json_decref(s);

	/* create-or-load with other metadata: the stored study, unchanged */
	char *before = db_dump_data(d->db_path);
	s = CALL(d, "POST", "/v1/owners/t/studies",
	         "{\"displayName\":\"m\",\"studySpec\":" SPEC_RANDOM ",\"metadata\":{\"x\":\"y\"}}",
	         200);
	char *after = db_dump_data(d->db_path);
	EXPECT_MD(s, "{\"git\":\"abc123\",\"host\":\"m1\"}");
	ASSERT_EQ_STR(after, before);
	free(before);
	free(after);
	json_decref(s);

	/* PATCH merges: a string sets, null deletes, the rest stays */
	s = CALL(d, "PATCH", ST MASK,
	         "{\"metadata\":{\"git\":null,\"ckpt\":\"/c/1\",\"host\":\"m2\"}}", 200);
	EXPECT_MD(s, "{\"ckpt\":\"/c/1\",\"host\":\"m2\"}");
	ASSERT_EQ_STR(jstr(s, "name"), "owners/t/studies/m");
	json_decref(s);
	/* without updateMask the body's fields are the mask: metadata */
	s = CALL(d, "PATCH", ST, "{\"metadata\":{\"note\":\"l1\\nl2\"}}", 200);
	EXPECT_MD(s, "{\"ckpt\":\"/c/1\",\"host\":\"m2\",\"note\":\"l1\\nl2\"}");
	json_decref(s);
	/* deleting a key that is not there, and an empty patch: no change */
	s = CALL(d, "PATCH", ST MASK, "{\"metadata\":{\"absent\":null}}", 200);
	json_decref(s);
	/* the mask percent-escaped is the same mask (one parser of the query) */
	s = CALL(d, "PATCH", ST "?updateMask=metad%61ta", "{\"metadata\":{\"absent\":null}}", 200);
	EXPECT_MD(s, "{\"ckpt\":\"/c/1\",\"host\":\"m2\",\"note\":\"l1\\nl2\"}");
	json_decref(s);
	s = CALL(d, "GET", "/v1/owners/t/studies", NULL, 200);
	json_t *list = json_object_get(s, "studies");
	ASSERT_EQ_INT(json_array_size(list), 1);
	EXPECT_MD(json_array_get(list, 0),
	          "{\"ckpt\":\"/c/1\",\"host\":\"m2\",\"note\":\"l1\\nl2\"}");
	json_decref(s);
	/* deleting every key leaves none: the member is gone */
	s = CALL(d, "PATCH", ST MASK, "{\"metadata\":{\"ckpt\":null,\"host\":null,\"note\":null}}",
	         200);
	EXPECT_MD(s, "{}");
	json_decref(s);
	/* a study created without metadata has no member */
	create_study(d, "plain", SPEC_RANDOM);
	s = CALL(d, "GET", "/v1/owners/t/studies/plain", NULL, 200);
	EXPECT_MD(s, "{}");
	json_decref(s);
	CALL_OK(d, "PATCH", ST MASK, "{\"metadata\":{\"git\":\"abc\"}}");
}

static void test_trial_metadata(struct daemon *d)
{
	json_t *t = CALL(d, "POST", ST "/trials",
	                 "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.5}],"
	                 "\"metadata\":{\"machine\":\"gpu7\"}}",
	                 200);
	ASSERT_EQ_STR(jstr(t, "id"), "1");
	EXPECT_MD(t, "{\"machine\":\"gpu7\"}");
	json_decref(t);
	t = CALL(d, "PATCH", TR1 MASK, "{\"metadata\":{\"ckpt\":\"/ck/1\"}}", 200);
	EXPECT_MD(t, "{\"ckpt\":\"/ck/1\",\"machine\":\"gpu7\"}");
	ASSERT_EQ_STR(jstr(t, "state"), "REQUESTED");
	json_decref(t);
	/* the worker gets it with its trial; metadata stays through the
	 * trial's life, and may still change once it is done */
	json_t *op = suggest(d, "m", 1, "w1", 200);
	ASSERT_EQ_STR(jstr(json_array_get(op_trials(op), 0), "id"), "1");
	EXPECT_MD(json_array_get(op_trials(op), 0), "{\"ckpt\":\"/ck/1\",\"machine\":\"gpu7\"}");
	json_decref(op);
	json_decref(complete(d, "m", "1", "acc", 0.75, 200));
	t = CALL(d, "PATCH", TR1 MASK, "{\"metadata\":{\"machine\":null,\"score\":\"0.75\"}}", 200);
	EXPECT_MD(t, "{\"ckpt\":\"/ck/1\",\"score\":\"0.75\"}");
	ASSERT_EQ_STR(jstr(t, "state"), "SUCCEEDED");
	ASSERT_TRUE(json_object_get(t, "finalMeasurement") != NULL);
	json_decref(t);
	t = CALL(d, "GET", TR1, NULL, 200);
	EXPECT_MD(t, "{\"ckpt\":\"/ck/1\",\"score\":\"0.75\"}");
	json_decref(t);
	t = CALL(d, "GET", ST "/trials", NULL, 200);
	EXPECT_MD(json_array_get(json_object_get(t, "trials"), 0),
	          "{\"ckpt\":\"/ck/1\",\"score\":\"0.75\"}");
	json_decref(t);
	/* a suggested trial has none */
	op = suggest(d, "m", 1, "w2", 200);
	EXPECT_MD(json_array_get(op_trials(op), 0), "{}");
	json_decref(op);
}

/* Every refusal: 400 naming the problem (and the limit), nothing stored. */
static void test_refusals(struct daemon *d)
{
	static const struct {
		const char *method, *path, *body, *says;
	} bad[] = {
	    {"PATCH", ST MASK, "{\"metadata\":[\"a\"]}", "metadata must be an object"},
	    {"PATCH", ST MASK, "{\"metadata\":{\"a\":5}}", "metadata[\"a\"] must be a string"},
	    {"PATCH", ST MASK, "{\"metadata\":{\"\":\"v\"}}", "metadata has an empty key"},
	    {"PATCH", ST MASK, "{\"metadata\":{\"a\\tb\":\"v\"}}", "control character"},
	    {"PATCH", ST MASK, "{\"metadata\":{\"k23456789\":\"v\"}}",
	     "is 9 bytes, more than the limit of 8 (max_metadata_key_bytes)"},
	    {"PATCH", ST MASK, "{\"metadata\":{\"k\":\"0123456789abcdefX\"}}",
	     "metadata[\"k\"] is 17 bytes, more than the limit of 16 (max_metadata_value_bytes)"},
	    /* git is there: three more make 4 keys */
	    {"PATCH", ST MASK, "{\"metadata\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}}",
	     "metadata would have 4 keys, more than the limit of 3 (max_metadata_keys)"},
	    {"PATCH", ST MASK, "{\"metadata\":{\"a\":\"0123456789abcdef\",\"b\":\"0123456789\"}}",
	     "metadata would be 34 bytes (keys and values), more than the limit of 30 "
	     "(max_metadata_bytes)"},
	    {"PATCH", ST "?updateMask=studySpec", "{\"metadata\":{}}",
	     "updateMask \"studySpec\" is not supported"},
	    {"PATCH", ST "?pageSize=3", "{\"metadata\":{}}", "unknown query parameter pageSize"},
	    {"PATCH", ST MASK, "{\"displayName\":\"n\",\"metadata\":{}}",
	     "displayName cannot be changed"},
	    {"PATCH", ST MASK, "{}", "metadata is required"},
	    {"PATCH", TR1 MASK, "{\"metadata\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\"}}",
	     "more than the limit of 3 (max_metadata_keys)"},
	    {"PATCH", TR1 MASK, "{\"state\":\"ACTIVE\"}", "state cannot be changed"},
	    {"POST", "/v1/owners/t/studies",
	     "{\"displayName\":\"n\",\"studySpec\":" SPEC_RANDOM ",\"metadata\":{\"a\":null}}",
	     "metadata[\"a\"] must be a string"},
	    {"POST", "/v1/owners/t/studies",
	     "{\"displayName\":\"n\",\"studySpec\":" SPEC_RANDOM
	     ",\"metadata\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\"}}",
	     "(max_metadata_keys)"},
	    {"POST", ST "/trials",
	     "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.5}],\"metadata\":\"a=b\"}",
	     "metadata must be an object"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		REJECT(d, bad[i].method, bad[i].path, bad[i].body, 400, "INVALID_ARGUMENT",
		       bad[i].says);
	REJECT(d, "PATCH", "/v1/owners/t/studies/nope" MASK, "{\"metadata\":{\"a\":\"b\"}}", 404,
	       "NOT_FOUND", "owners/t/studies/nope not found");
	REJECT(d, "PATCH", ST "/trials/99" MASK, "{\"metadata\":{\"a\":\"b\"}}", 404, "NOT_FOUND",
	       "trials/99 not found");
	/* at the limits exactly: accepted */
	json_t *s =
	    CALL(d, "PATCH", ST MASK, "{\"metadata\":{\"k2345678\":\"0123456789abcdef\"}}", 200);
	EXPECT_MD(s, "{\"git\":\"abc\",\"k2345678\":\"0123456789abcdef\"}");
	json_decref(s);
}

static void test_reader(struct daemon *d)
{
	json_t *k = CALL(d, "POST", "/v1/owners/t/apiKeys", "{\"role\":\"READER\"}", 200);
	char key[160];
	snprintf(key, sizeof(key), "%s", jstr(k, "key"));
	json_decref(k);
	REFUSE_AS(d, key, "PATCH", ST MASK, "{\"metadata\":{\"a\":\"b\"}}", 403,
	          "PERMISSION_DENIED", "READER");
	REFUSE_AS(d, key, "PATCH", TR1 MASK, "{\"metadata\":{\"a\":\"b\"}}", 403,
	          "PERMISSION_DENIED", "READER");
	/* a READER reads it */
	struct reply r;
	ASSERT_EQ_INT(http_call(d, "GET", ST, NULL, key, &r), 0);
	ASSERT_EQ_INT(r.status, 200);
	EXPECT_MD(r.json, "{\"git\":\"abc\",\"k2345678\":\"0123456789abcdef\"}");
	reply_free(&r);

	/* PATCH is audited like every write, refused ones too */
	json_t *j = CALL(d, "GET", "/v1/auditLog?pageSize=1000", NULL, 200);
	json_t *a;
	size_t i;
	int ok = 0, denied = 0;
	json_array_foreach(json_object_get(j, "auditEntries"), i, a)
	{
		if (strcmp(jstr(a, "method"), "PATCH") != 0)
			continue;
		long status = (long)json_integer_value(json_object_get(a, "status"));
		ok += status == 200 && strcmp(jstr(a, "path"), TR1 MASK) == 0;
		denied += status == 403;
	}
	ASSERT_EQ_INT(ok, 2);
	ASSERT_EQ_INT(denied, 2);
	json_decref(j);
}

/* Create-or-load compares what the spec means: order aside. */
#define SPEC_A                                                                                 \
	"{\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"},{\"metricId\":\"mem\","    \
	"\"goal\":\"MINIMIZE\",\"safetyConfig\":{\"safetyThreshold\":8}}],\"parameters\":["    \
	"{\"parameterId\":\"lr\",\"doubleValueSpec\":{\"minValue\":0.001,\"maxValue\":1},"     \
	"\"scaleType\":\"UNIT_LOG_SCALE\"},{\"parameterId\":\"opt\",\"categoricalValueSpec\":" \
	"{\"values\":[\"adam\",\"sgd\"]},\"conditionalParameterSpecs\":[{"                     \
	"\"parentCategoricalValues\":{\"values\":[\"sgd\"]},\"parameterSpec\":{"               \
	"\"parameterId\":\"mom\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":0.9}}},{"    \
	"\"parentCategoricalValues\":{\"values\":[\"adam\",\"sgd\"]},\"parameterSpec\":{"      \
	"\"parameterId\":\"wd\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":0.1}}}]}]}"

/* The same, every list in another order. */
#define SPEC_A_SHUFFLED                                                                        \
	"{\"parameters\":[{\"parameterId\":\"opt\",\"categoricalValueSpec\":{\"values\":["     \
	"\"sgd\",\"adam\"]},\"conditionalParameterSpecs\":[{\"parentCategoricalValues\":{"     \
	"\"values\":[\"sgd\",\"adam\"]},\"parameterSpec\":{\"parameterId\":\"wd\","            \
	"\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":0.1}}},{\"parentCategoricalValues\"" \
	":{\"values\":[\"sgd\"]},\"parameterSpec\":{\"parameterId\":\"mom\","                  \
	"\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":0.9}}}]},{\"parameterId\":\"lr\","   \
	"\"scaleType\":\"UNIT_LOG_SCALE\",\"doubleValueSpec\":{\"maxValue\":1,\"minValue\":"   \
	"0.001}}],\"metrics\":[{\"metricId\":\"mem\",\"goal\":\"MINIMIZE\",\"safetyConfig\":"  \
	"{\"safetyThreshold\":8}},{\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}]}"

static void create_body(char *buf, size_t cap, const char *spec)
{
	snprintf(buf, cap, "{\"displayName\":\"order\",\"studySpec\":%s}", spec);
}

/* SPEC_A with one piece of text replaced. */
static void refuse_variant(struct daemon *d, const char *from, const char *to, const char *says,
                           int line)
{
	char spec[4096], body[4200];
	const char *at = strstr(SPEC_A, from);
	test_checks++;
	if (!at) {
		TEST_FAIL("line %d: %s not in SPEC_A", line, from);
		return;
	}
	snprintf(spec, sizeof(spec), "%.*s%s%s", (int)(at - SPEC_A), SPEC_A, to, at + strlen(from));
	create_body(body, sizeof(body), spec);
	reject_as(d, NULL, "POST", "/v1/owners/t/studies", body, 409, "ALREADY_EXISTS", says, 0,
	          line);
}
#define REFUSE_VARIANT(d, from, to, says) refuse_variant((d), (from), (to), (says), __LINE__)

static void test_recreate(struct daemon *d)
{
	char body[4200];
	create_body(body, sizeof(body), SPEC_A);
	json_t *first = CALL(d, "POST", "/v1/owners/t/studies", body, 200);
	char *before = db_dump_data(d->db_path);
	create_body(body, sizeof(body), SPEC_A_SHUFFLED);
	json_t *again = CALL(d, "POST", "/v1/owners/t/studies", body, 200);
	char *after = db_dump_data(d->db_path);
	ASSERT_TRUE(json_equal(first, again)); /* the stored study, as first created */
	ASSERT_EQ_STR(after, before);
	free(before);
	free(after);
	json_decref(first);
	json_decref(again);

	REFUSE_VARIANT(d, "\"maxValue\":1}", "\"maxValue\":2}",
	               "study owners/t/studies/order already exists with a different studySpec: "
	               "parameter \"lr\" doubleValueSpec.maxValue 1 (existing) vs 2 (requested)");
	REFUSE_VARIANT(d, ",\"scaleType\":\"UNIT_LOG_SCALE\"", "",
	               "parameter \"lr\" scaleType UNIT_LOG_SCALE (existing) vs "
	               "UNIT_LINEAR_SCALE (requested)");
	REFUSE_VARIANT(d, "\"parameterId\":\"lr\"", "\"parameterId\":\"rate\"",
	               "parameter \"lr\" is in the existing spec, not in the requested one");
	REFUSE_VARIANT(d, "[\"adam\",\"sgd\"]},\"cond", "[\"adam\",\"sgd\",\"rms\"]},\"cond",
	               "parameter \"opt\" categoricalValueSpec.values: rms is in the requested "
	               "spec, not in the existing one");
	REFUSE_VARIANT(d, "\"maxValue\":0.9}", "\"maxValue\":0.8}",
	               "parameter \"mom\" doubleValueSpec.maxValue 0.9 (existing) vs 0.8 "
	               "(requested)");
	REFUSE_VARIANT(d, "{\"values\":[\"sgd\"]}", "{\"values\":[\"adam\"]}",
	               "parameter \"mom\" parentCategoricalValues.values: sgd is in the existing "
	               "spec, not in the requested one");
	REFUSE_VARIANT(d, "\"safetyThreshold\":8", "\"safetyThreshold\":9",
	               "metric \"mem\" safetyConfig.safetyThreshold 8 (existing) vs 9 (requested)");
	REFUSE_VARIANT(d, "\"goal\":\"MAXIMIZE\"", "\"goal\":\"MINIMIZE\"",
	               "metric \"acc\" goal MAXIMIZE (existing) vs MINIMIZE (requested)");
	REFUSE_VARIANT(d, "\"parameters\":[", "\"algorithm\":\"GRID_SEARCH\",\"parameters\":[",
	               "algorithm not set (existing) vs GRID_SEARCH (requested)");

	/* two objectives: their order matters (the first one is the primary) */
	static const char two[] =
	    "{\"metrics\":[{\"metricId\":\"a\",\"goal\":\"MAXIMIZE\"},{\"metricId\":\"b\","
	    "\"goal\":\"MINIMIZE\"}],\"parameters\":[{\"parameterId\":\"x\","
	    "\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}]}";
	static const char two_swapped[] =
	    "{\"metrics\":[{\"metricId\":\"b\",\"goal\":\"MINIMIZE\"},{\"metricId\":\"a\","
	    "\"goal\":\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":\"x\","
	    "\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}]}";
	snprintf(body, sizeof(body), "{\"displayName\":\"two\",\"studySpec\":%s}", two);
	CALL_OK(d, "POST", "/v1/owners/t/studies", body);
	snprintf(body, sizeof(body), "{\"displayName\":\"two\",\"studySpec\":%s}", two_swapped);
	REJECT(d, "POST", "/v1/owners/t/studies", body, 409, "ALREADY_EXISTS",
	       "the objectives are in another order: a, b (existing) vs b, a (requested)");
}

int main(void)
{
	const char *const args[] = {"--max-metadata-keys",
	                            "3",
	                            "--max-metadata-key-bytes",
	                            "8",
	                            "--max-metadata-value-bytes",
	                            "16",
	                            NULL};
	const char *const env[] = {"SIBYL_MAX_METADATA_BYTES=30", NULL};
	struct daemon_opts o = {.args = args, .env = env};
	struct daemon *d = daemon_start(&o);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("api-metadata");
	create_owner(d, "t");
	test_study_metadata(d);
	test_trial_metadata(d);
	test_refusals(d);
	test_reader(d);
	test_recreate(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("api-metadata");
}
