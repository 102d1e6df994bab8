/* The suggest history cache (server/service/history.h) can never serve stale data:
 * two real sibyld processes on one database file, the first keeping its
 * study histories warm in memory while the second writes (create,
 * complete, delete), then a restart. Each check is a suggestion whose
 * answer depends on the whole history: a stopping rule that counts
 * completed trials, and RANDOM_SEARCH's point, which is a function of the
 * seed and the highest trial id. Also the measurements kept in memory
 * for the answers of addTrialMeasurement. */
#include "apitest.h"

#define HEAD                                                                                  \
	"{\"algorithm\":\"RANDOM_SEARCH\",\"seed\":\"7\",\"metrics\":[{\"metricId\":\"acc\"," \
	"\"goal\":\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":\"x\","                     \
	"\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}]"

static void import(struct daemon *d, const char *study, double x, double acc)
{
	char path[128], body[256];
	snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials", study);
	snprintf(body, sizeof(body),
	         "{\"state\":\"SUCCEEDED\",\"parameters\":[{\"parameterId\":\"x\",\"value\":%g}],"
	         "\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":%g}]}}",
	         x, acc);
	CALL_OK(d, "POST", path, body);
}

static double xval(json_t *op)
{
	json_t *t = json_array_get(op_trials(op), 0);
	json_t *p = json_array_get(json_object_get(t, "parameters"), 0);
	return json_number_value(json_object_get(p, "value"));
}

/* Updates and inserts by another process reach a warm history. */
static void test_second_writer_updates(struct daemon *a, struct daemon *b)
{
	create_study(a, "np", HEAD ",\"studyStoppingConfig\":{\"maxNumTrialsNoProgress\":2}}");
	import(a, "np", 0.1, 1.0);
	json_t *op = suggest(a, "np", 1, "w", 200); /* a's history: 1 done, 1 active */
	ASSERT_EQ_STR(jstr(json_array_get(op_trials(op), 0), "id"), "2");
	json_decref(op);
	/* b: two trials without progress (a completion and an import) */
	CALL_OK(b, "POST", "/v1/owners/t/studies/np/trials/2:complete",
	        "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.5}]}}");
	import(b, "np", 0.3, 0.2);
	/* a must see both: with its old history it would hand out a trial */
	json_t *r = suggest(a, "np", 1, "v", 400);
	EXPECT_IN(jstr(json_object_get(r, "error"), "message"), "maxNumTrialsNoProgress");
	json_decref(r);
}

/* A delete by another process: the highest id goes back to 3, so the next
 * point is the one trial 4 got (RANDOM_SEARCH: f(seed, highest id)). */
static void test_second_writer_delete(struct daemon *a, struct daemon *b)
{
	create_study(a, "del", HEAD "}");
	import(a, "del", 0.1, 1.0);
	import(a, "del", 0.2, 1.0);
	import(a, "del", 0.3, 1.0);
	json_t *op = suggest(a, "del", 1, "w", 200);
	ASSERT_EQ_STR(jstr(json_array_get(op_trials(op), 0), "id"), "4");
	double x4 = xval(op);
	json_decref(op);
	op = suggest(a, "del", 1, "v", 200); /* warm: highest id 4 */
	ASSERT_EQ_STR(jstr(json_array_get(op_trials(op), 0), "id"), "5");
	double x5 = xval(op);
	json_decref(op);
	ASSERT_TRUE(x4 != x5);
	CALL_OK(b, "DELETE", "/v1/owners/t/studies/del/trials/5", NULL);
	CALL_OK(b, "DELETE", "/v1/owners/t/studies/del/trials/4", NULL);
	op = suggest(a, "del", 1, "u", 200);
	ASSERT_EQ_STR(jstr(json_array_get(op_trials(op), 0), "id"), "6");
	ASSERT_EQ_DBL(xval(op), x4, 0);
	json_decref(op);
}

/* The measurement list addTrialMeasurement answers (kept in memory per
 * trial, server/service/service_meas.c) takes in what another process added. */
static void test_second_writer_measurements(struct daemon *a, struct daemon *b)
{
	create_study(a, "ms", HEAD "}");
	json_decref(suggest(a, "ms", 1, "w", 200));
	const char *p = "/v1/owners/t/studies/ms/trials/1:addTrialMeasurement";
	char body[160];
	for (int i = 1; i <= 3; i++) {
		snprintf(body, sizeof(body),
		         "{\"measurement\":{\"stepCount\":\"%d\",\"metrics\":[{\"metricId\":"
		         "\"acc\",\"value\":0.%d}]}}",
		         i, i);
		json_t *t = CALL(i == 2 ? b : a, "POST", p, body, 200);
		json_t *ms = json_object_get(t, "measurements");
		ASSERT_EQ_INT(json_array_size(ms), i);
		for (int k = 0; k < i && k < (int)json_array_size(ms); k++) {
			char want[8];
			snprintf(want, sizeof(want), "%d", k + 1);
			ASSERT_EQ_STR(jstr(json_array_get(ms, (size_t)k), "stepCount"), want);
		}
		json_decref(t);
	}
	/* b repeats the last measurement, which a added: a retry, so nothing
	 * is added, although b's own memory of the list stops at two */
	snprintf(body, sizeof(body),
	         "{\"measurement\":{\"stepCount\":\"3\",\"metrics\":[{\"metricId\":"
	         "\"acc\",\"value\":0.3}]}}");
	json_t *t = CALL(b, "POST", p, body, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(t, "measurements")), 3);
	json_decref(t);
	t = CALL(a, "GET", "/v1/owners/t/studies/ms/trials/1", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(t, "measurements")), 3);
	json_decref(t);
}

/* After a restart on a file another process changed meanwhile. */
static void test_restart(struct daemon *a, struct daemon *b)
{
	create_study(a, "rs", HEAD ",\"studyStoppingConfig\":{\"maxNumTrialsNoProgress\":1}}");
	import(a, "rs", 0.1, 1.0);
	json_decref(suggest(a, "rs", 1, "w", 200));
	ASSERT_EQ_INT(daemon_kill(a), 0);
	import(b, "rs", 0.3, 0.2);
	ASSERT_EQ_INT(daemon_restart(a, NULL), 0);
	json_t *r = suggest(a, "rs", 1, "v", 400);
	EXPECT_IN(jstr(json_object_get(r, "error"), "message"), "maxNumTrialsNoProgress");
	json_decref(r);
}

int main(void)
{
	struct daemon *a = daemon_start(NULL);
	ASSERT_TRUE(a != NULL);
	if (!a)
		return test_done("api-history");
	create_owner(a, "t");
	struct daemon_opts ob = {.db_path = a->db_path};
	struct daemon *b = daemon_start(&ob);
	ASSERT_TRUE(b != NULL);
	if (b) {
		test_second_writer_updates(a, b);
		test_second_writer_delete(a, b);
		test_second_writer_measurements(a, b);
		test_restart(a, b);
		ASSERT_EQ_INT(daemon_stop(b), 0);
	}
	ASSERT_EQ_INT(daemon_stop(a), 0);
	return test_done("api-history");
}
