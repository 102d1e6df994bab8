/* The service's trial rules on a real SQLite file, without HTTP: the
 * suggest budget (studyStoppingConfig.maxNumTrials), leases that lapse
 * (staleTrialTimeout: the trial is given up, its parameters go back to the
 * pool as a new trial), and complete with its idempotent retry. Each
 * refusal is shown to change nothing. */
#include <time.h>

#include "config.h"
#include "service.h"
#include "service_owners.h"
#include "spec.h"
#include "store_test.h"

#define SPEC_HEAD                                                                       \
	"{\"algorithm\":\"RANDOM_SEARCH\",\"metrics\":[{\"metricId\":\"acc\",\"goal\":" \
	"\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{"   \
	"\"minValue\":0,\"maxValue\":1}}]"
#define FINAL(v) "{\"metrics\":[{\"metricId\":\"acc\",\"value\":" v "}]}"

static struct service *sv;
static struct store *st;
static struct config cfg;

static int n_rows(const char *sql)
{
	return (int)raw_int(db_path("rules.db"), sql);
}

/* A study of owner "r" with the spec SPEC_HEAD + extra + "}". */
static void make(const char *id, const char *extra)
{
	struct err e = {0};
	char text[1024];
	snprintf(text, sizeof(text), "%s%s}", SPEC_HEAD, extra);
	json_t *v = json_loads(text, 0, NULL);
	struct spec sp;
	char *canon = NULL;
	ASSERT_EQ_INT(spec_parse(v, "studySpec", &cfg, &sp, &canon, &e), 0);
	spec_free(&sp);
	json_decref(v);
	struct store_study s;
	ASSERT_EQ_INT(service_study_create(sv, "r", id, canon, NULL, &s, NULL, &e), 0);
	svc_study_clear(&s);
	free(canon);
}

static int suggest(const char *study, int64_t count, const char *client, struct svc_suggestion *x,
                   struct err *e)
{
	return service_suggest(sv, "r", study, count, client, x, NULL, e);
}

/* maxNumTrials 3: 2, then 1 (what is left), then the study is COMPLETED
 * and the call refused, with no trial made. */
static void test_budget(void)
{
	struct err e = {0};
	struct svc_suggestion x;
	make("budget", ",\"studyStoppingConfig\":{\"maxNumTrials\":3}");
	ASSERT_EQ_INT(suggest("budget", 2, "w1", &x, &e), 0);
	ASSERT_EQ_INT((int)x.n, 2);
	ASSERT_TRUE(x.op_id > 0);
	ASSERT_EQ_INT(x.study_state, STUDY_ACTIVE);
	ASSERT_EQ_INT(x.trials[0].t.state, TRIAL_ACTIVE);
	ASSERT_EQ_STR(x.trials[0].t.client_id, "w1");
	svc_suggestion_clear(&x);
	ASSERT_EQ_INT(suggest("budget", 2, "w2", &x, &e), 0);
	ASSERT_EQ_INT((int)x.n, 1);
	svc_suggestion_clear(&x);
	ASSERT_EQ_INT(suggest("budget", 1, "w3", &x, &e), -ERR_FAILED_PRECONDITION);
	ASSERT_TRUE(strstr(e.msg, "maxNumTrials (3)") != NULL);
	ASSERT_TRUE(x.n == 0 && x.trials == NULL);
	ASSERT_EQ_INT(n_rows("SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_rowid "
	                     "WHERE s.study_id = 'budget'"),
	              3);
	ASSERT_EQ_INT(n_rows("SELECT state FROM studies WHERE study_id = 'budget'"),
	              STUDY_COMPLETED);
	/* the worker's own ACTIVE trials are within the budget: a retried
	 * suggest (its answer lost) gets them back from the COMPLETED study,
	 * and nothing new is made */
	ASSERT_EQ_INT(suggest("budget", 5, "w1", &x, &e), 0);
	ASSERT_EQ_INT((int)x.n, 2);
	ASSERT_EQ_INT(x.study_state, STUDY_COMPLETED);
	ASSERT_EQ_STR(x.trials[0].t.client_id, "w1");
	svc_suggestion_clear(&x);
	ASSERT_EQ_INT(n_rows("SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_rowid "
	                     "WHERE s.study_id = 'budget'"),
	              3);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* staleTrialTimeout 1s: a trial with no call for longer is given up at the
 * next call on it (refused, the outcome stands) and its parameters are
 * the pool's new trial, which the next worker gets. */
static void test_lease(void)
{
	struct err e = {0};
	struct svc_suggestion x;
	struct svc_trial t;
	make("lease", ",\"staleTrialTimeout\":\"1s\"");
	ASSERT_EQ_INT(suggest("lease", 1, "slow", &x, &e), 0);
	ASSERT_EQ_INT((int)x.n, 1);
	int64_t id = x.trials[0].t.id;
	char *params = strdup(x.trials[0].t.params_json);
	ASSERT_TRUE(x.trials[0].t.lease_expiry > 0);
	svc_suggestion_clear(&x);
	ASSERT_EQ_INT(suggest("lease", 1, "quiet", &x, &e), 0);
	int64_t quiet = x.trials[0].t.id;
	char *quiet_params = strdup(x.trials[0].t.params_json);
	svc_suggestion_clear(&x);
	/* a call within the lease renews it */
	ASSERT_EQ_INT(service_touch(sv, "r", "lease", id, "slow", &t, NULL, &e), 0);
	ASSERT_EQ_INT(t.t.state, TRIAL_ACTIVE);
	svc_trial_clear(&t);
	sleep_ms(1600);
	/* a call on a lapsed trial settles it and is refused */
	struct svc_complete in = {.final_measurement = FINAL("0.5")};
	ASSERT_EQ_INT(service_complete(sv, "r", "lease", id, &in, &t, NULL, &e),
	              -ERR_FAILED_PRECONDITION);
	ASSERT_TRUE(strstr(e.msg, "staleTrialTimeout") != NULL);
	ASSERT_TRUE(t.t.params_json == NULL);
	char sql[160];
	snprintf(sql, sizeof(sql),
	         "SELECT t.state FROM trials t JOIN studies s ON s.id = "
	         "t.study_rowid WHERE s.study_id = 'lease' AND t.id = %lld",
	         (long long)id);
	ASSERT_EQ_INT(n_rows(sql), TRIAL_INFEASIBLE);
	/* a suggest settles the other lapsed lease (no call was made on it):
	 * the next worker gets both parameter sets as new trials, the pool's
	 * oldest first */
	ASSERT_EQ_INT(suggest("lease", 2, "fast", &x, &e), 0);
	ASSERT_EQ_INT((int)x.n, 2);
	ASSERT_TRUE(x.trials[0].t.id > quiet);
	ASSERT_EQ_STR(x.trials[0].t.params_json, params);
	ASSERT_EQ_STR(x.trials[1].t.params_json, quiet_params);
	ASSERT_EQ_STR(x.trials[0].t.client_id, "fast");
	svc_suggestion_clear(&x);
	snprintf(sql, sizeof(sql),
	         "SELECT t.state FROM trials t JOIN studies s ON s.id = "
	         "t.study_rowid WHERE s.study_id = 'lease' AND t.id = %lld",
	         (long long)quiet);
	ASSERT_EQ_INT(n_rows(sql), TRIAL_INFEASIBLE);
	/* the late worker's heartbeat on its old id reads it given up */
	ASSERT_EQ_INT(service_touch(sv, "r", "lease", quiet, "quiet", &t, NULL, &e), 0);
	ASSERT_EQ_INT(t.t.state, TRIAL_INFEASIBLE);
	svc_trial_clear(&t);
	free(params);
	free(quiet_params);
}

/* complete, its retry with the same body (the same answer, nothing
 * written), and another body (refused, nothing written). */
static void test_complete(void)
{
	struct err e = {0};
	struct svc_suggestion x;
	struct svc_trial t, again;
	make("done", "");
	ASSERT_EQ_INT(suggest("done", 1, "w", &x, &e), 0);
	int64_t id = x.trials[0].t.id;
	svc_suggestion_clear(&x);
	struct svc_complete in = {.final_measurement = FINAL("0.75")};
	ASSERT_EQ_INT(service_complete(sv, "r", "done", id, &in, &t, NULL, &e), 0);
	ASSERT_EQ_INT(t.t.state, TRIAL_SUCCEEDED);
	ASSERT_TRUE(t.t.final_json && strstr(t.t.final_json, "0.75") != NULL);
	ASSERT_TRUE(t.t.end_time > 0);
	char *before = dump(db_path("rules.db"));
	ASSERT_EQ_INT(service_complete(sv, "r", "done", id, &in, &again, NULL, &e), 0);
	ASSERT_EQ_INT(again.t.state, TRIAL_SUCCEEDED);
	ASSERT_EQ_INT(again.t.end_time, t.t.end_time);
	ASSERT_EQ_STR(again.t.final_json, t.t.final_json);
	svc_trial_clear(&again);
	struct svc_complete other = {.final_measurement = FINAL("0.9")};
	ASSERT_EQ_INT(service_complete(sv, "r", "done", id, &other, &again, NULL, &e),
	              -ERR_FAILED_PRECONDITION);
	ASSERT_TRUE(strstr(e.msg, "a complete with a different body is refused") != NULL);
	struct svc_complete infeasible = {.infeasible = 1};
	ASSERT_EQ_INT(service_complete(sv, "r", "done", id, &infeasible, &again, NULL, &e),
	              -ERR_FAILED_PRECONDITION);
	char *after = dump(db_path("rules.db"));
	ASSERT_EQ_STR(after, before);
	free(before);
	free(after);
	svc_trial_clear(&t);
	/* a reason without trialInfeasible is refused before anything */
	ASSERT_EQ_INT(suggest("done", 1, "w2", &x, &e), 0);
	id = x.trials[0].t.id;
	svc_suggestion_clear(&x);
	struct svc_complete bad = {.infeasible_reason = "why"};
	ASSERT_EQ_INT(service_complete(sv, "r", "done", id, &bad, &t, NULL, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(e.msg, "infeasibleReason is only allowed") != NULL);
}

int main(void)
{
	struct err e = {0};
	if (store_test_setup("svc_rules") != 0)
		return 1;
	config_defaults(&cfg);
	st = store_open(db_path("rules.db"), &e);
	ASSERT_TRUE(st != NULL);
	sv = st ? service_new(st, &cfg) : NULL;
	ASSERT_TRUE(sv != NULL);
	if (sv) {
		struct svc_owner o;
		struct svc_owner_change ch = {0};
		ASSERT_EQ_INT(service_owner_create(sv, "r", &ch, &o, NULL, &e), 0);
		svc_owner_clear(&o);
		test_budget();
		test_lease();
		test_complete();
	}
	service_free(sv);
	store_close(st);
	store_test_cleanup();
	return test_done("test-service_rules");
}
