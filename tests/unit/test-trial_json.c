/* trial_json: the Trial answer rendered as text (tj_trial_text, which
 * copies the stored measurements in without parsing them) is the same
 * resource as the tree of tj_trial, for trials with and without
 * measurements, final measurement, client id, reason and suggestionInfo;
 * and tj_measurements, the joined list parsed. */
#include "trial_json.h"

#include "json_util.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

/* Parses text and compares it with tj_trial's tree of the same trial. */
static void same_as_tree(const struct store_trial *t, char *const *meas, size_t n, int line)
{
	char joined[2048] = "";
	size_t at = 0;
	for (size_t i = 0; i < n && at < sizeof(joined); i++)
		at += (size_t)snprintf(joined + at, sizeof(joined) - at, "%s%s", i ? "," : "",
		                       meas[i]);
	char *text = tj_trial_text("team", "st", t, n ? joined : NULL);
	/* the tree's list, each measurement parsed on its own */
	json_error_t je;
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_loads(meas[i], 0, &je));
	json_t *tree = tj_trial("team", "st", t, list);
	/* and tj_measurements makes the same list from the joined text */
	json_t *again = tj_measurements(n ? joined : NULL);
	ASSERT_TRUE(again && json_equal(again, list));
	json_decref(again);
	json_decref(list);
	json_t *parsed = text ? json_loads(text, 0, &je) : NULL;
	test_checks++;
	if (!parsed || !json_equal(parsed, tree)) {
		char *want = json_dumps(tree, JSON_COMPACT | JSON_SORT_KEYS);
		TEST_FAIL("line %d: text %s, tree %s", line, text ? text : "(null)",
		          want ? want : "(null)");
		free(want);
	}
	/* compact: one line, no spaces between tokens outside strings */
	ASSERT_TRUE(text && strchr(text, '\n') == NULL);
	json_decref(parsed);
	json_decref(tree);
	free(text);
}
#define SAME(t, m, n) same_as_tree((t), (m), (n), __LINE__)

int main(void)
{
	char params[] = "[{\"parameterId\":\"lr\",\"value\":0.001},{\"parameterId\":\"opt\","
	                "\"value\":\"adam\"}]";
	struct store_trial t = {.study_rowid = 1,
	                        .id = 7,
	                        .state = 2,
	                        .params_json = params,
	                        .start_time = 1795000000000};
	SAME(&t, NULL, 0);

	/* measurements as the store keeps them: canonical text */
	char m1[] =
	    "{\"elapsedDuration\":\"1.500s\",\"metrics\":[{\"metricId\":\"acc\",\"value\":0.5}],"
	    "\"stepCount\":\"10\"}";
	char m2[] = "{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.71},{\"metricId\":\"loss\","
	            "\"value\":1e-07}],\"stepCount\":\"20\"}";
	char m3[] = "{\"metrics\":[{\"metricId\":\"acc\",\"value\":-3.25e+300}]}";
	char *meas[] = {m1, m2, m3};
	SAME(&t, meas, 1);
	SAME(&t, meas, 3);

	char client[] = "worker \"7\" \xc3\xa9";
	char reason[] = "given up: no call on it";
	char info[] = "{\"predictedValue\":0.8}";
	char final[] = "{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.71}]}";
	t.state = 4;
	t.client_id = client;
	t.infeasible_reason = reason;
	t.info_json = info;
	t.final_json = final;
	t.end_time = 1795000100000;
	SAME(&t, meas, 3);

	/* the measurements come last, in their order, byte for byte */
	char two[512];
	snprintf(two, sizeof(two), "%s,%s", m1, m2);
	char *text = tj_trial_text("team", "st", &t, two);
	const char *at = text ? strstr(text, ",\"measurements\":[") : NULL;
	ASSERT_TRUE(at != NULL);
	if (at) {
		char want[512];
		snprintf(want, sizeof(want), ",\"measurements\":[%s,%s]}", m1, m2);
		ASSERT_EQ_STR(at, want);
	}
	free(text);
	json_t *empty = tj_measurements("");
	ASSERT_EQ_INT(json_array_size(empty), 0);
	ASSERT_TRUE(json_is_array(empty));
	json_decref(empty);
	ASSERT_TRUE(tj_measurements("{\"metrics\":") == NULL); /* not JSON: refused */
	return test_done("test-trial_json");
}
