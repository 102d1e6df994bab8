/* Every input limit of config.h, against a daemon started with small
 * limits: at the limit the request passes, one past it is refused with a
 * message naming the limit, and nothing changes. */
#include "apitest.h"

static void test_body_bytes(struct daemon *d)
{
	/* the http front refuses an oversized body before the api sees it */
	char body[3000];
	memset(body, ' ', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	memcpy(body, "{\"displayName\":\"big\"", 20);
	body[sizeof(body) - 2] = '}';
	char *before = db_dump_data(d->db_path);
	struct reply r;
	ASSERT_EQ_INT(http_call(d, "POST", "/v1/owners/t/studies", body, NULL, &r), 0);
	ASSERT_EQ_INT(r.status, 413);
	char *after = db_dump_data(d->db_path);
	ASSERT_TRUE(before && after && strcmp(before, after) == 0);
	free(before);
	free(after);
	reply_free(&r);
}

static void test_json_depth(struct daemon *d)
{
	/* depth 8 passes the depth check (and fails later on content) */
	REJECT(d, "POST", "/v1/owners/t/studies",
	       "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":[1]}}}}}}}", 400,
	       "INVALID_ARGUMENT", "unknown field a");
	REJECT(d, "POST", "/v1/owners/t/studies",
	       "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":[[1]]}}}}}}}", 400,
	       "INVALID_ARGUMENT", "nests deeper than the limit of 8");
	/* brackets inside strings do not count */
	REJECT(d, "POST", "/v1/owners/t/studies", "{\"a\":\"[[[[[[[[[[[[\"}", 400,
	       "INVALID_ARGUMENT", "unknown field a");
}

#define M      "\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}]"
#define DP(id) "{\"parameterId\":\"" id "\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}"

static void test_parameters(struct daemon *d)
{
	create_study(d, "p3", "{" M ",\"parameters\":[" DP("a") "," DP("b") "," DP("c") "]}");
	REJECT(d, "POST", "/v1/owners/t/studies",
	       "{\"displayName\":\"p4\",\"studySpec\":{" M
	       ",\"parameters\":[" DP("a") "," DP("b") "," DP("c") "," DP("d") "]}}",
	       400, "INVALID_ARGUMENT", "more than the limit of 3 parameters");
	/* conditional children count */
	REJECT(d, "POST", "/v1/owners/t/studies",
	       "{\"displayName\":\"p4c\",\"studySpec\":{" M ",\"parameters\":[" DP("a") "," DP(
	           "b") ",{\"parameterId\":\"n\",\"integerValueSpec\":{\"minValue\":1,\"maxValue\":"
	                "2},\"conditionalParameterSpecs\":[{\"parentIntValues\":{\"values\":[1]},"
	                "\"parameterSpec\":" DP("c") "}]}]}}",
	       400, "INVALID_ARGUMENT", "more than the limit of 3 parameters");
}

static void test_categories(struct daemon *d)
{
	create_study(d, "c3",
	             "{" M ",\"parameters\":[{\"parameterId\":\"c\",\"categoricalValueSpec\":{"
	             "\"values\":[\"a\",\"b\",\"c\"]}}]}");
	REJECT(d, "POST", "/v1/owners/t/studies",
	       "{\"displayName\":\"c4\",\"studySpec\":{" M
	       ",\"parameters\":[{\"parameterId\":\"c\","
	       "\"categoricalValueSpec\":{\"values\":[\"a\",\"b\",\"c\",\"d\"]}}]}}",
	       400, "INVALID_ARGUMENT",
	       "studySpec.parameters[0].categoricalValueSpec.values has 4 entries, more than the "
	       "limit of 3");
	REJECT(d, "POST", "/v1/owners/t/studies",
	       "{\"displayName\":\"d4\",\"studySpec\":{" M
	       ",\"parameters\":[{\"parameterId\":\"d\","
	       "\"discreteValueSpec\":{\"values\":[1,2,3,4]}}]}}",
	       400, "INVALID_ARGUMENT",
	       "studySpec.parameters[0].discreteValueSpec.values has 4 entries, more than the "
	       "limit of 3");
}

static void test_metrics(struct daemon *d)
{
	create_study(d, "m2",
	             "{\"metrics\":[{\"metricId\":\"a\",\"goal\":\"MAXIMIZE\"},{\"metricId\":\"b\","
	             "\"goal\":\"MAXIMIZE\"}],\"parameters\":[" DP("x") "]}");
	REJECT(d, "POST", "/v1/owners/t/studies",
	       "{\"displayName\":\"m3\",\"studySpec\":{\"metrics\":[{\"metricId\":\"a\",\"goal\":"
	       "\"MAXIMIZE\"},{\"metricId\":\"b\",\"goal\":\"MAXIMIZE\"},{\"metricId\":\"c\","
	       "\"goal\":\"MAXIMIZE\"}],\"parameters\":[" DP("x") "]}}",
	       400, "INVALID_ARGUMENT",
	       "studySpec.metrics has 3 entries, more than the limit of 2");
}

static void test_string_len(struct daemon *d)
{
	/* 16 bytes pass, 17 do not */
	create_study(d, "s16", "{" M ",\"parameters\":[" DP("abcdefghijklmnop") "]}");
	REJECT(d, "POST", "/v1/owners/t/studies",
	       "{\"displayName\":\"s17\",\"studySpec\":{" M
	       ",\"parameters\":[" DP("abcdefghijklmnopq") "]}}",
	       400, "INVALID_ARGUMENT",
	       "studySpec.parameters[0].parameterId is 17 bytes long, more than the limit of 16");
	REJECT(d, "POST", "/v1/owners/t/studies",
	       "{\"displayName\":\"c17\",\"studySpec\":{" M
	       ",\"parameters\":[{\"parameterId\":\"c\","
	       "\"categoricalValueSpec\":{\"values\":[\"abcdefghijklmnopq\"]}}]}}",
	       400, "INVALID_ARGUMENT", "values[0] is 17 bytes long");
	REJECT(d, "POST", "/v1/owners/t/studies/s16/trials:suggest",
	       "{\"clientId\":\"abcdefghijklmnopq\"}", 400, "INVALID_ARGUMENT",
	       "clientId is 17 bytes long");
	json_decref(suggest(d, "s16", 1, "abcdefghijklmnop", 200));
}

static void test_measurements(struct daemon *d)
{
	const char *p = "/v1/owners/t/studies/p3/trials/1:addTrialMeasurement";
	json_decref(suggest(d, "p3", 1, "w", 200));
	CALL_OK(
	    d, "POST", p,
	    "{\"measurement\":{\"stepCount\":1,\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}");
	CALL_OK(
	    d, "POST", p,
	    "{\"measurement\":{\"stepCount\":2,\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}");
	REJECT(
	    d, "POST", p,
	    "{\"measurement\":{\"stepCount\":3,\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}",
	    400, "FAILED_PRECONDITION", "already has 2 measurements, the limit");
	/* and an imported trial cannot bring more either */
	REJECT(
	    d, "POST", "/v1/owners/t/studies/p3/trials",
	    "{\"state\":\"SUCCEEDED\",\"parameters\":[{\"parameterId\":\"a\",\"value\":0.1},{"
	    "\"parameterId\":\"b\",\"value\":0.1},{\"parameterId\":\"c\",\"value\":0.1}],"
	    "\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]},"
	    "\"measurements\":[{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]},{\"metrics\":[{"
	    "\"metricId\":\"acc\",\"value\":1}]},{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}"
	    "]}]}",
	    400, "INVALID_ARGUMENT", "measurements has 3 entries, more than the limit of 2");
}

static void test_suggestion_count(struct daemon *d)
{
	json_t *op = suggest(d, "c3", 3, "w", 200);
	ASSERT_EQ_INT(json_array_size(op_trials(op)), 3);
	json_decref(op);
	REJECT(d, "POST", "/v1/owners/t/studies/c3/trials:suggest",
	       "{\"suggestionCount\":4,\"clientId\":\"v\"}", 400, "INVALID_ARGUMENT",
	       "suggestionCount must be in [1, 3]");
}

int main(void)
{
	const char *const args[] = {"--max-body-bytes",
	                            "2048",
	                            "--max-json-depth",
	                            "8",
	                            "--max-parameters",
	                            "3",
	                            "--max-categories",
	                            "3",
	                            "--max-metrics",
	                            "2",
	                            "--max-string-len",
	                            "16",
	                            "--max-measurements",
	                            "2",
	                            "--max-suggestion-count",
	                            "3",
	                            NULL};
	struct daemon_opts o = {.args = args};
	struct daemon *d = daemon_start(&o);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("api-limits");
	create_owner(d, "t");
	test_body_bytes(d);
	test_json_depth(d);
	test_parameters(d);
	test_categories(d);
	test_metrics(d);
	test_string_len(d);
	test_measurements(d);
	test_suggestion_count(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("api-limits");
}
