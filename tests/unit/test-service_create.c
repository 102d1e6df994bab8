/* service_trial_create: POST .../trials through the service, on a real
 * SQLite file, without HTTP: a REQUESTED trial, an imported SUCCEEDED one
 * with its measurements, and the refusals (each shown to write nothing).
 * Also the objective-metric check shared with complete. */
#include "config.h"
#include "service.h"
#include "store_test.h"
#include "trial_json.h"

#define SPEC                                                                                   \
	"{\"algorithm\":\"RANDOM_SEARCH\",\"metrics\":[{\"metricId\":\"acc\",\"goal\":"        \
	"\"MAXIMIZE\"},{\"metricId\":\"mem\",\"goal\":\"MINIMIZE\",\"safetyConfig\":{"         \
	"\"safetyThreshold\":8}}],\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":" \
	"{\"minValue\":0,\"maxValue\":1}}]}"

#define P05 "[{\"parameterId\":\"x\",\"value\":0.5}]"

static struct service *sv;
static struct store *st;

static void setup_study(const char *id)
{
	struct err e = {0};
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	ASSERT_EQ_INT(store_owner_ensure(w, "team", 1000, &e), 0);
	ASSERT_EQ_INT(store_study_insert(w, "team", id, SPEC, 1000, NULL, &e), 0);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
}

static int n_rows(const char *table)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	return (int)raw_int(db_path("create.db"), sql);
}

/* Calls the service with the request given as JSON texts (NULL: absent);
 * frees what it answers. */
static int create(const char *study, int state, const char *params, const char *final,
                  const char *meas, const char *md, struct store_trial *out, struct err *e)
{
	struct svc_trial_new in = {.state = state,
	                           .parameters = params,
	                           .final_measurement = final,
	                           .measurements = meas,
	                           .metadata_json = md};
	struct svc_trial t;
	int rc = service_trial_create(sv, "team", study, &in, &t, NULL, e);
	if (rc == 0) {
		json_t *ms = tj_measurements(t.measurements);
		ASSERT_TRUE(json_is_array(ms));
		ASSERT_EQ_INT((long long)json_array_size(ms), t.t.n_measurements);
		json_decref(ms);
		if (out) {
			*out = t.t;
			memset(&t.t, 0, sizeof(t.t));
		}
		svc_trial_clear(&t);
	} else {
		ASSERT_TRUE(t.measurements == NULL);
		ASSERT_TRUE(t.t.params_json == NULL);
	}
	return rc;
}

static void test_requested(void)
{
	struct err e = {0};
	struct store_trial t;
	setup_study("r");
	ASSERT_EQ_INT(create("r", TRIAL_REQUESTED, "[{\"parameterId\":\"x\",\"value\":0.25}]", NULL,
	                     NULL, "{\"k\":\"v\"}", &t, &e),
	              0);
	ASSERT_TRUE(t.id > 0);
	ASSERT_EQ_INT(t.state, TRIAL_REQUESTED);
	ASSERT_TRUE(t.params_json && strstr(t.params_json, "0.25") != NULL);
	ASSERT_EQ_STR(t.metadata_json, "{\"k\":\"v\"}");
	ASSERT_TRUE(t.final_json == NULL);
	ASSERT_EQ_INT(t.n_measurements, 0);
	store_trial_clear(&t);
	ASSERT_EQ_INT(raw_int(db_path("create.db"),
	                      "SELECT count(*) FROM trials WHERE state = 1 AND "
	                      "metadata_json = '{\"k\":\"v\"}'"),
	              1);
}

static void test_succeeded(void)
{
	struct err e = {0};
	struct store_trial t;
	setup_study("s");
	ASSERT_EQ_INT(
	    create("s", TRIAL_SUCCEEDED, P05,
	           "{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.9}]}",
	           "[{\"stepCount\":1,\"metrics\":[{\"metricId\":\"acc\",\"value\":0.5}]},"
	           "{\"stepCount\":2,\"metrics\":[{\"metricId\":\"acc\",\"value\":0.8}]}]",
	           NULL, &t, &e),
	    0);
	ASSERT_EQ_INT(t.state, TRIAL_SUCCEEDED);
	ASSERT_TRUE(t.final_json && strstr(t.final_json, "0.9") != NULL);
	ASSERT_TRUE(t.complete_json && strstr(t.complete_json, "finalMeasurement") != NULL);
	ASSERT_TRUE(t.start_time > 0 && t.end_time == t.start_time);
	ASSERT_EQ_INT(t.n_measurements, 2);
	store_trial_clear(&t);
	ASSERT_EQ_INT(n_rows("measurements"), 2);
}

/* Each refusal: the message, and no trial or measurement written. */
static void refused(const char *study, int state, const char *params, const char *final,
                    const char *meas, int code, const char *msg)
{
	struct err e = {0};
	int trials = n_rows("trials"), ms = n_rows("measurements");
	ASSERT_EQ_INT(create(study, state, params, final, meas, NULL, NULL, &e), -code);
	if (!strstr(e.msg, msg))
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.msg, msg);
	ASSERT_TRUE(strstr(e.msg, msg) != NULL);
	ASSERT_EQ_INT(n_rows("trials"), trials);
	ASSERT_EQ_INT(n_rows("measurements"), ms);
}

static void test_refusals(void)
{
	const char *fin = "{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}";
	const char *meas = "[{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}]";
	refused("nope", TRIAL_REQUESTED, P05, NULL, NULL, ERR_NOT_FOUND,
	        "owners/team/studies/nope");
	refused("s", TRIAL_REQUESTED, "[{\"parameterId\":\"x\",\"value\":7}]", NULL, NULL,
	        ERR_INVALID_ARGUMENT, "x");
	refused("s", TRIAL_REQUESTED, P05, fin, NULL, ERR_INVALID_ARGUMENT,
	        "finalMeasurement is only allowed with state SUCCEEDED");
	refused("s", TRIAL_REQUESTED, P05, NULL, meas, ERR_INVALID_ARGUMENT,
	        "measurements are only allowed with state SUCCEEDED");
	refused("s", TRIAL_SUCCEEDED, P05, NULL, NULL, ERR_INVALID_ARGUMENT,
	        "a SUCCEEDED trial needs finalMeasurement");
	/* Only the safety metric: the objective is missing. */
	refused("s", TRIAL_SUCCEEDED, P05, "{\"metrics\":[{\"metricId\":\"mem\",\"value\":1}]}",
	        NULL, ERR_INVALID_ARGUMENT, "finalMeasurement lacks the objective metric \"acc\"");
	/* A bad measurement after a good one: neither is written. */
	refused("s", TRIAL_SUCCEEDED, P05, fin,
	        "[{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]},{\"metrics\":7}]",
	        ERR_INVALID_ARGUMENT, "measurements[1]");
	refused("s", TRIAL_ACTIVE, P05, NULL, NULL, ERR_INVALID_ARGUMENT,
	        "state must be REQUESTED or SUCCEEDED");
}

/* complete uses the same objective-metric check, under its own name. */
static void test_complete_objective(void)
{
	struct err e = {0};
	struct store_trial t = {0};
	struct svc_trial done;
	ASSERT_EQ_INT(create("s", TRIAL_REQUESTED, P05, NULL, NULL, NULL, &t, &e), 0);
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	t.state = TRIAL_ACTIVE;
	ASSERT_EQ_INT(store_trial_update(w, &t, &e), 0);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	struct svc_complete only_mem = {.final_measurement =
	                                    "{\"metrics\":[{\"metricId\":\"mem\",\"value\":1}]}"};
	ASSERT_EQ_INT(service_complete(sv, "team", "s", t.id, &only_mem, &done, NULL, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(e.msg, "the final measurement lacks the objective metric \"acc\"") !=
	            NULL);
	ASSERT_TRUE(done.t.params_json == NULL);
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT state FROM trials WHERE id = %lld", (long long)t.id);
	ASSERT_EQ_INT(raw_int(db_path("create.db"), sql), TRIAL_ACTIVE);
	struct svc_complete good = {.final_measurement =
	                                "{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}"};
	ASSERT_EQ_INT(service_complete(sv, "team", "s", t.id, &good, &done, NULL, &e), 0);
	ASSERT_EQ_INT(done.t.state, TRIAL_SUCCEEDED);
	ASSERT_EQ_INT(raw_int(db_path("create.db"), sql), TRIAL_SUCCEEDED);
	svc_trial_clear(&done);
	store_trial_clear(&t);
}

int main(void)
{
	struct err e = {0};
	struct config cfg;
	if (store_test_setup("svc_create") != 0)
		return 1;
	config_defaults(&cfg);
	st = store_open(db_path("create.db"), &e);
	ASSERT_TRUE(st != NULL);
	sv = st ? service_new(st, &cfg) : NULL;
	ASSERT_TRUE(sv != NULL);
	if (sv) {
		test_requested();
		test_succeeded();
		test_refusals();
		test_complete_objective();
	}
	service_free(sv);
	store_close(st);
	store_test_cleanup();
	return test_done("test-service_create");
}
