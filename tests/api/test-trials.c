/* Trials over real HTTP: create, get, list (pages, filter), delete,
 * measurements, complete (explicit, last, best, infeasible; retries), stop,
 * the state rules, checkTrialEarlyStoppingState, listOptimalTrials with one
 * and several objectives and safety metrics, and operations. */
#include "apitest.h"

#define TP "/v1/owners/t/studies/tr/trials"

static json_t *measure(struct daemon *d, const char *study, const char *id, long step, double v,
                       long want)
{
	char path[256], body[256];
	snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials/%s:addTrialMeasurement", study,
	         id);
	snprintf(body, sizeof(body),
	         "{\"measurement\":{\"stepCount\":%ld,\"metrics\":[{\"metricId\":\"acc\",\"value\":"
	         "%.17g}]}}",
	         step, v);
	return call_expect(d, "POST", path, body, want, __LINE__);
}

static double final_acc(const json_t *t)
{
	json_t *m = json_object_get(json_object_get(t, "finalMeasurement"), "metrics");
	return json_number_value(json_object_get(json_array_get(m, 0), "value"));
}

static void test_crud(struct daemon *d)
{
	create_study(d, "tr", SPEC_RANDOM);
	/* a REQUESTED trial by hand, then an imported result */
	json_t *t =
	    CALL(d, "POST", TP, "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.25}]}", 200);
	ASSERT_EQ_STR(jstr(t, "name"), "owners/t/studies/tr/trials/1");
	ASSERT_EQ_STR(jstr(t, "id"), "1");
	ASSERT_EQ_STR(jstr(t, "state"), "REQUESTED");
	json_decref(t);
	t = CALL(d, "POST", TP,
	         "{\"state\":\"SUCCEEDED\",\"parameters\":[{\"parameterId\":\"x\",\"value\":0.5}],"
	         "\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.7}]},"
	         "\"measurements\":[{\"stepCount\":\"1\",\"metrics\":[{\"metricId\":\"acc\","
	         "\"value\":0.6}]}]}",
	         200);
	ASSERT_EQ_STR(jstr(t, "state"), "SUCCEEDED");
	ASSERT_EQ_DBL(final_acc(t), 0.7, 0);
	ASSERT_EQ_INT(json_array_size(json_object_get(t, "measurements")), 1);
	ASSERT_EQ_STR(jstr(json_array_get(json_object_get(t, "measurements"), 0), "stepCount"),
	              "1");
	ASSERT_TRUE(*jstr(t, "endTime"));
	json_decref(t);
	/* three more REQUESTED: ids 3, 4, 5 */
	for (int i = 0; i < 3; i++)
		CALL_OK(d, "POST", TP, "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.1}]}");
	t = CALL(d, "GET", TP "/2", NULL, 200);
	ASSERT_EQ_STR(jstr(t, "state"), "SUCCEEDED");
	json_decref(t);
	REJECT(d, "GET", TP "/99", NULL, 404, "NOT_FOUND", "trial");
	/* list, paged by 2 */
	char path[256] = TP "?pageSize=2";
	int seen = 0, pages = 0;
	for (;;) {
		json_t *l = CALL(d, "GET", path, NULL, 200);
		json_t *arr = json_object_get(l, "trials");
		for (size_t i = 0; i < json_array_size(arr); i++) {
			char want[16];
			snprintf(want, sizeof(want), "%d", ++seen);
			ASSERT_EQ_STR(jstr(json_array_get(arr, i), "id"), want);
		}
		pages++;
		const char *tok = jstr(l, "nextPageToken");
		if (!*tok || pages > 5) {
			json_decref(l);
			break;
		}
		snprintf(path, sizeof(path), TP "?pageSize=2&pageToken=%s", tok);
		json_decref(l);
	}
	ASSERT_EQ_INT(seen, 5);
	ASSERT_EQ_INT(pages, 3);
	/* filter */
	json_t *l = CALL(d, "GET", TP "?filter=state%3DSUCCEEDED", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(l, "trials")), 1);
	json_decref(l);
	l = CALL(d, "GET", TP "?filter=state=REQUESTED&pageSize=2", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(l, "trials")), 2);
	ASSERT_TRUE(*jstr(l, "nextPageToken"));
	json_decref(l);
	l = CALL(d, "GET", TP "?filter=state%3DREQUESTED%20OR%20state%3DSUCCEEDED", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(l, "trials")), 5);
	json_decref(l);
	/* delete */
	CALL_OK(d, "DELETE", TP "/5", NULL);
	REJECT(d, "GET", TP "/5", NULL, 404, "NOT_FOUND", "trial");
	REJECT(d, "DELETE", TP "/5", NULL, 404, "NOT_FOUND", "trial");
	/* ids are never reused */
	t = CALL(d, "POST", TP, "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.3}]}", 200);
	ASSERT_EQ_STR(jstr(t, "id"), "6");
	json_decref(t);
}

static void test_measure_and_complete(struct daemon *d)
{
	create_study(d, "mc", SPEC_RANDOM);
	json_t *op = suggest(d, "mc", 3, "w", 200);
	ASSERT_EQ_INT(json_array_size(op_trials(op)), 3);
	json_decref(op);
	/* LAST_MEASUREMENT (the default): trial 1 ends with the last one */
	json_decref(measure(d, "mc", "1", 1, 0.2, 200));
	json_decref(measure(d, "mc", "1", 2, 0.9, 200));
	json_t *t = measure(d, "mc", "1", 3, 0.4, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(t, "measurements")), 3);
	json_decref(t);
	/* a retried measurement (same body as the last) adds nothing */
	t = measure(d, "mc", "1", 3, 0.4, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(t, "measurements")), 3);
	json_decref(t);
	t = CALL(d, "POST", "/v1/owners/t/studies/mc/trials/1:complete", "{}", 200);
	ASSERT_EQ_STR(jstr(t, "state"), "SUCCEEDED");
	ASSERT_EQ_DBL(final_acc(t), 0.4, 0);
	char *first = json_dumps(t, JSON_SORT_KEYS);
	json_decref(t);
	/* the retry returns the trial unchanged; another body is refused */
	char *before = db_dump_data(d->db_path);
	t = CALL(d, "POST", "/v1/owners/t/studies/mc/trials/1:complete", "{}", 200);
	char *again = json_dumps(t, JSON_SORT_KEYS), *after = db_dump_data(d->db_path);
	ASSERT_EQ_STR(again, first);
	ASSERT_EQ_STR(after, before);
	free(first);
	free(again);
	free(before);
	free(after);
	json_decref(t);
	REJECT(d, "POST", "/v1/owners/t/studies/mc/trials/1:complete",
	       "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}", 400,
	       "FAILED_PRECONDITION", "already SUCCEEDED; a complete with a different body");
	/* state rules on a finished trial */
	REJECT(d, "POST", "/v1/owners/t/studies/mc/trials/1:addTrialMeasurement",
	       "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}", 400,
	       "FAILED_PRECONDITION", "is SUCCEEDED");
	REJECT(d, "POST", "/v1/owners/t/studies/mc/trials/1:stop", "{}", 400, "FAILED_PRECONDITION",
	       "is SUCCEEDED");

	/* explicit finalMeasurement; retry with the same body is harmless */
	t = complete(d, "mc", "2", "acc", 0.55, 200);
	ASSERT_EQ_DBL(final_acc(t), 0.55, 0);
	json_decref(t);
	t = complete(d, "mc", "2", "acc", 0.55, 200);
	ASSERT_EQ_DBL(final_acc(t), 0.55, 0);
	json_decref(t);
	json_decref(complete(d, "mc", "2", "acc", 0.56, 400));

	/* stop, then measurements still go in, then infeasible */
	t = CALL(d, "POST", "/v1/owners/t/studies/mc/trials/3:stop", "{}", 200);
	ASSERT_EQ_STR(jstr(t, "state"), "STOPPING");
	json_decref(t);
	json_decref(measure(d, "mc", "3", 1, 0.1, 200));
	t = CALL(d, "POST", "/v1/owners/t/studies/mc/trials/3:complete",
	         "{\"trialInfeasible\":true,\"infeasibleReason\":\"out of memory\"}", 200);
	ASSERT_EQ_STR(jstr(t, "state"), "INFEASIBLE");
	ASSERT_EQ_STR(jstr(t, "infeasibleReason"), "out of memory");
	json_decref(t);
	CALL_OK(d, "POST", "/v1/owners/t/studies/mc/trials/3:complete",
	        "{\"trialInfeasible\":true,\"infeasibleReason\":\"out of memory\"}");

	/* a REQUESTED trial takes no measurement, complete or stop */
	CALL_OK(d, "POST", "/v1/owners/t/studies/mc/trials",
	        "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.3}]}");
	REJECT(d, "POST", "/v1/owners/t/studies/mc/trials/4:addTrialMeasurement",
	       "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}", 400,
	       "FAILED_PRECONDITION", "is REQUESTED");
	REJECT(d, "POST", "/v1/owners/t/studies/mc/trials/4:complete",
	       "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}", 400,
	       "FAILED_PRECONDITION", "is REQUESTED");
	REJECT(d, "POST", "/v1/owners/t/studies/mc/trials/4:stop", "{}", 400, "FAILED_PRECONDITION",
	       "is REQUESTED");
	REJECT(d, "POST", "/v1/owners/t/studies/mc/trials/77:complete", "{}", 404, "NOT_FOUND",
	       "trial");

	/* the early-stopping check is about running trials (the rule itself:
	 * test-workers.c) */
	REJECT(d, "POST", "/v1/owners/t/studies/mc/trials/1:checkTrialEarlyStoppingState", "{}",
	       400, "FAILED_PRECONDITION", "is SUCCEEDED");
	REJECT(d, "POST", "/v1/owners/t/studies/mc/trials/77:checkTrialEarlyStoppingState", "{}",
	       404, "NOT_FOUND", "trial");
}

static void test_best_measurement(struct daemon *d)
{
	create_study(
	    d, "best",
	    "{\"algorithm\":\"RANDOM_SEARCH\",\"measurementSelectionType\":"
	    "\"BEST_MEASUREMENT\",\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"MINIMIZE\"}],"
	    "\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
	    "\"maxValue\":1}}]}");
	json_decref(suggest(d, "best", 1, "w", 200));
	json_decref(measure(d, "best", "1", 1, 0.5, 200));
	json_decref(measure(d, "best", "1", 2, 0.125, 200));
	json_decref(measure(d, "best", "1", 3, 0.75, 200));
	json_t *t = CALL(d, "POST", "/v1/owners/t/studies/best/trials/1:complete", "{}", 200);
	ASSERT_EQ_DBL(final_acc(t), 0.125, 0); /* MINIMIZE: the smallest */
	ASSERT_EQ_STR(jstr(json_object_get(t, "finalMeasurement"), "stepCount"), "2");
	json_decref(t);
}

static void test_optimal(struct daemon *d)
{
	/* one objective: the best trial */
	const char *op = "/v1/owners/t/studies/mc/trials:listOptimalTrials";
	json_t *o = CALL(d, "POST", op, "{}", 200);
	json_t *arr = json_object_get(o, "optimalTrials");
	ASSERT_EQ_INT(json_array_size(arr), 1);
	ASSERT_EQ_STR(jstr(json_array_get(arr, 0), "id"), "2"); /* 0.55 > 0.4 */
	json_decref(o);
	/* several objectives, one safety metric */
	create_study(d, "mo",
	             "{\"algorithm\":\"RANDOM_SEARCH\",\"metrics\":[{\"metricId\":\"acc\",\"goal\":"
	             "\"MAXIMIZE\"},{\"metricId\":\"lat\",\"goal\":\"MINIMIZE\"},{\"metricId\":"
	             "\"mem\",\"goal\":\"MINIMIZE\",\"safetyConfig\":{\"safetyThreshold\":10}}],"
	             "\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
	             "\"maxValue\":1}}]}");
	/* (acc, lat, mem): 1 and 2 trade off; 3 is dominated by 1; 4 would
	 * dominate all but is unsafe; 5 ties 2 exactly (both on the front) */
	const double pts[][3] = {
	    {0.9, 5, 1}, {0.7, 2, 1}, {0.8, 6, 1}, {0.99, 1, 50}, {0.7, 2, 3},
	};
	for (int i = 0; i < 5; i++) {
		char body[512];
		snprintf(
		    body, sizeof(body),
		    "{\"state\":\"SUCCEEDED\",\"parameters\":[{\"parameterId\":\"x\",\"value\":"
		    "0.%d}],\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":%g},"
		    "{\"metricId\":\"lat\",\"value\":%g},{\"metricId\":\"mem\",\"value\":%g}]}}",
		    i + 1, pts[i][0], pts[i][1], pts[i][2]);
		CALL_OK(d, "POST", "/v1/owners/t/studies/mo/trials", body);
	}
	o = CALL(d, "POST", "/v1/owners/t/studies/mo/trials:listOptimalTrials", NULL, 200);
	arr = json_object_get(o, "optimalTrials");
	ASSERT_EQ_INT(json_array_size(arr), 3);
	ASSERT_EQ_STR(jstr(json_array_get(arr, 0), "id"), "1");
	ASSERT_EQ_STR(jstr(json_array_get(arr, 1), "id"), "2");
	ASSERT_EQ_STR(jstr(json_array_get(arr, 2), "id"), "5");
	json_decref(o);
	/* a study with no result yet has no optimal trial */
	create_study(d, "none", SPEC_RANDOM);
	o = CALL(d, "POST", "/v1/owners/t/studies/none/trials:listOptimalTrials", "{}", 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(o, "optimalTrials")), 0);
	json_decref(o);
	REJECT(d, "POST", "/v1/owners/t/studies/nope/trials:listOptimalTrials", "{}", 404,
	       "NOT_FOUND", "nope");
}

static void test_operations(struct daemon *d)
{
	create_study(d, "ops", SPEC_RANDOM);
	json_t *op = suggest(d, "ops", 2, "w", 200);
	ASSERT_EQ_STR(jstr(op, "name"), "owners/t/studies/ops/operations/1");
	ASSERT_TRUE(json_is_true(json_object_get(op, "done")));
	json_t *resp = json_object_get(op, "response");
	ASSERT_EQ_STR(jstr(resp, "studyState"), "ACTIVE");
	ASSERT_TRUE(*jstr(resp, "startTime") && *jstr(resp, "endTime"));
	json_t *got = CALL(d, "GET", "/v1/owners/t/studies/ops/operations/1", NULL, 200);
	char *a = json_dumps(op, JSON_SORT_KEYS), *b = json_dumps(got, JSON_SORT_KEYS);
	ASSERT_EQ_STR(b, a);
	free(a);
	free(b);
	json_decref(got);
	json_decref(op);
	op = suggest(d, "ops", 1, "w2", 200);
	ASSERT_EQ_STR(jstr(op, "name"), "owners/t/studies/ops/operations/2");
	json_decref(op);
	REJECT(d, "GET", "/v1/owners/t/studies/ops/operations/3", NULL, 404, "NOT_FOUND",
	       "operation");
	REJECT(d, "GET", "/v1/owners/t/studies/ops/operations/abc", NULL, 400, "INVALID_ARGUMENT",
	       "operation id");
	REJECT(d, "DELETE", "/v1/owners/t/studies/ops/operations/1", NULL, 405, "UNIMPLEMENTED",
	       "GET");
}

int main(void)
{
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("api-trials");
	create_owner(d, "t");
	test_crud(d);
	test_measure_and_complete(d);
	test_best_measurement(d);
	test_optimal(d);
	test_operations(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("api-trials");
}
