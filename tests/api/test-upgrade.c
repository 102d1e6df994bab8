/* A retry that crosses an upgrade of sibyld stays a retry: a complete and a
 * measurement stored by an older sibyld, whose round reals read 1e+02
 * (it wrote them so; the database keeps that text), sent again with the
 * same body after the restart onto a newer one (which writes 100.0): the
 * complete returns the trial unchanged and the measurement adds nothing. */
#include <sqlite3.h>

#include "apitest.h"

#define STUDY "/v1/owners/team/studies/up"

/* Rewrites the stored texts as the older sibyld wrote them; returns the
 * number of rows changed. */
static int write_old_texts(const char *db_path)
{
	sqlite3 *db = NULL;
	int n = -1;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_exec(
	        db,
	        "UPDATE trials SET complete_json = replace(complete_json, '100.0', '1e+02')"
	        " WHERE complete_json LIKE '%100.0%';"
	        "UPDATE measurements SET json = replace(json, '100.0', '1e+02')"
	        " WHERE json LIKE '%100.0%';",
	        NULL, NULL, NULL) == SQLITE_OK)
		n = sqlite3_total_changes(db);
	else
		fprintf(stderr, "update %s: %s\n", db_path, db ? sqlite3_errmsg(db) : "open");
	sqlite3_close(db);
	return n;
}

int main(void)
{
	static const char meas[] = "{\"measurement\":{\"stepCount\":\"1\",\"metrics\":"
	                           "[{\"metricId\":\"acc\",\"value\":100}]}}";
	static const char done[] = "{\"finalMeasurement\":{\"metrics\":"
	                           "[{\"metricId\":\"acc\",\"value\":100}]}}";
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("test-upgrade");
	ASSERT_EQ_INT(daemon_create_owner(d, "team"), 200);
	json_t *j =
	    call_expect(d, "POST", "/v1/owners/team/studies",
	                "{\"displayName\":\"up\",\"studySpec\":" SPEC_RANDOM "}", 200, __LINE__);
	json_decref(j);
	j = call_expect(d, "POST", STUDY "/trials:suggest",
	                "{\"suggestionCount\":1,\"clientId\":\"w\"}", 200, __LINE__);
	json_decref(j);
	json_decref(
	    call_expect(d, "POST", STUDY "/trials/1:addTrialMeasurement", meas, 200, __LINE__));
	json_decref(call_expect(d, "POST", STUDY "/trials:suggest",
	                        "{\"suggestionCount\":1,\"clientId\":\"v\"}", 200, __LINE__));
	json_decref(call_expect(d, "POST", STUDY "/trials/2:complete", done, 200, __LINE__));

	/* the older sibyld's texts, then the newer one on the same database */
	ASSERT_EQ_INT(daemon_kill(d), 0);
	ASSERT_TRUE(write_old_texts(d->db_path) >= 2); /* triggers count too */
	ASSERT_EQ_INT(daemon_restart(d, NULL), 0);

	j = call_expect(d, "POST", STUDY "/trials/1:addTrialMeasurement", meas, 200, __LINE__);
	ASSERT_EQ_INT(json_array_size(json_object_get(j, "measurements")), 1);
	json_decref(j);
	j = call_expect(d, "POST", STUDY "/trials/2:complete", done, 200, __LINE__);
	ASSERT_EQ_STR(json_string_value(json_object_get(j, "state")), "SUCCEEDED");
	json_decref(j);
	/* a different value is still refused, and a new one still added */
	json_decref(call_expect(d, "POST", STUDY "/trials/2:complete",
	                        "{\"finalMeasurement\":{\"metrics\":"
	                        "[{\"metricId\":\"acc\",\"value\":1000}]}}",
	                        400, __LINE__));
	j = call_expect(d, "POST", STUDY "/trials/1:addTrialMeasurement",
	                "{\"measurement\":{\"stepCount\":\"2\",\"metrics\":"
	                "[{\"metricId\":\"acc\",\"value\":100}]}}",
	                200, __LINE__);
	ASSERT_EQ_INT(json_array_size(json_object_get(j, "measurements")), 2);
	json_decref(j);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("test-upgrade");
}
