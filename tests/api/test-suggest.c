/* trials:suggest over real HTTP: the three-step order (own ACTIVE trials by
 * clientId, the REQUESTED pool, new trials), distinct points in a batch,
 * the maxNumTrials budget (also under concurrent workers), the other study
 * stopping conditions, grid exhaustion, stale leases returning a trial to
 * the pool and refusing the late complete, the seed, and GP-EI's
 * suggestionInfo. */
#include <pthread.h>
#include <unistd.h>

#include "apitest.h"

static const char *tid(json_t *op, size_t i)
{
	return jstr(json_array_get(op_trials(op), i), "id");
}

static double xval(json_t *trial)
{
	json_t *p = json_array_get(json_object_get(trial, "parameters"), 0);
	return json_number_value(json_object_get(p, "value"));
}

static void test_order(struct daemon *d)
{
	create_study(d, "o", SPEC_RANDOM);
	json_t *op = suggest(d, "o", 1, "A", 200);
	ASSERT_EQ_STR(tid(op, 0), "1");
	json_t *t1 = json_array_get(op_trials(op), 0);
	ASSERT_EQ_STR(jstr(t1, "clientId"), "A");
	ASSERT_EQ_STR(jstr(t1, "state"), "ACTIVE");
	ASSERT_TRUE(*jstr(t1, "startTime"));
	double x1 = xval(t1);
	json_decref(op);

	/* 1. a restarted worker gets its ACTIVE trial back, nothing new */
	op = suggest(d, "o", 1, "A", 200);
	ASSERT_EQ_INT(json_array_size(op_trials(op)), 1);
	ASSERT_EQ_STR(tid(op, 0), "1");
	ASSERT_EQ_DBL(xval(json_array_get(op_trials(op), 0)), x1, 0);
	json_decref(op);
	json_t *l = CALL(d, "GET", "/v1/owners/t/studies/o/trials", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(l, "trials")), 1);
	json_decref(l);

	/* 2. the REQUESTED pool comes before new points */
	CALL_OK(d, "POST", "/v1/owners/t/studies/o/trials",
	        "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.125}]}");
	op = suggest(d, "o", 1, "B", 200);
	ASSERT_EQ_STR(tid(op, 0), "2");
	ASSERT_EQ_DBL(xval(json_array_get(op_trials(op), 0)), 0.125, 0);
	ASSERT_EQ_STR(jstr(json_array_get(op_trials(op), 0), "clientId"), "B");
	ASSERT_EQ_STR(jstr(json_array_get(op_trials(op), 0), "state"), "ACTIVE");
	json_decref(op);

	/* 3. new points, distinct within a batch and from the running ones */
	op = suggest(d, "o", 5, "C", 200);
	ASSERT_EQ_INT(json_array_size(op_trials(op)), 5);
	for (size_t i = 0; i < 5; i++) {
		json_t *t = json_array_get(op_trials(op), i);
		char want[8];
		snprintf(want, sizeof(want), "%zu", i + 3);
		ASSERT_EQ_STR(jstr(t, "id"), want);
		ASSERT_TRUE(xval(t) >= 0 && xval(t) <= 1);
		ASSERT_TRUE(xval(t) != x1 && xval(t) != 0.125);
		for (size_t j = 0; j < i; j++)
			ASSERT_TRUE(xval(t) != xval(json_array_get(op_trials(op), j)));
	}
	json_decref(op);

	/* all three steps in one call: own (1), pool (8), one new (9) */
	CALL_OK(d, "POST", "/v1/owners/t/studies/o/trials",
	        "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.75}]}");
	op = suggest(d, "o", 3, "A", 200);
	ASSERT_EQ_INT(json_array_size(op_trials(op)), 3);
	ASSERT_EQ_STR(tid(op, 0), "1");
	ASSERT_EQ_STR(tid(op, 1), "8");
	ASSERT_EQ_STR(tid(op, 2), "9");
	json_decref(op);
	/* a completed trial is not handed back */
	json_decref(complete(d, "o", "1", "acc", 0.5, 200));
	op = suggest(d, "o", 1, "A", 200);
	ASSERT_EQ_STR(tid(op, 0), "8");
	json_decref(op);
}

static void test_budget(struct daemon *d)
{
	create_study(
	    d, "bud",
	    "{\"algorithm\":\"RANDOM_SEARCH\",\"metrics\":[{\"metricId\":\"acc\",\"goal\":"
	    "\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{"
	    "\"minValue\":0,\"maxValue\":1}}],\"studyStoppingConfig\":{\"maxNumTrials\":3}}");
	json_t *op = suggest(d, "bud", 2, "A", 200);
	ASSERT_EQ_INT(json_array_size(op_trials(op)), 2);
	json_decref(op);
	op = suggest(d, "bud", 2, "B", 200);
	ASSERT_EQ_INT(json_array_size(op_trials(op)), 1); /* only one left */
	json_decref(op);
	/* the budget is spent: the study completes and says why */
	json_decref(suggest(d, "bud", 1, "C", 400));
	json_t *s = CALL(d, "GET", "/v1/owners/t/studies/bud", NULL, 200);
	ASSERT_EQ_STR(jstr(s, "state"), "COMPLETED");
	EXPECT_IN(jstr(s, "inactiveReason"), "maxNumTrials (3)");
	json_decref(s);
	REJECT(d, "POST", "/v1/owners/t/studies/bud/trials:suggest", "{\"clientId\":\"D\"}", 400,
	       "FAILED_PRECONDITION", "is COMPLETED");
	/* A worker whose suggest answer was lost retries it after the study
	 * completed: it gets its own ACTIVE trials back (else they stay
	 * ACTIVE for good), and nothing new. */
	op = suggest(d, "bud", 3, "A", 200);
	ASSERT_EQ_INT(json_array_size(op_trials(op)), 2);
	ASSERT_EQ_STR(tid(op, 0), "1");
	ASSERT_EQ_STR(tid(op, 1), "2");
	json_decref(op);
	s = CALL(d, "GET", "/v1/owners/t/studies/bud", NULL, 200);
	ASSERT_EQ_STR(jstr(s, "state"), "COMPLETED");
	json_decref(s);
	json_t *l = CALL(d, "GET", "/v1/owners/t/studies/bud/trials", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(l, "trials")), 3);
	json_decref(l);
	/* the running trials can still be finished */
	json_decref(complete(d, "bud", "3", "acc", 0.5, 200));
}

struct worker {
	struct daemon *d;
	int id;
	int got, other_errors;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char client[32];
	snprintf(client, sizeof(client), "w%d", w->id);
	for (int i = 0; i < 50; i++) {
		struct reply r;
		char body[128];
		snprintf(body, sizeof(body), "{\"clientId\":\"%s\"}", client);
		if (http_call(w->d, "POST", "/v1/owners/t/studies/conc/trials:suggest", body, NULL,
		              &r) != 0) {
			w->other_errors++;
			break;
		}
		if (r.status == 400 && strcmp(reply_status_name(&r), "FAILED_PRECONDITION") == 0) {
			reply_free(&r);
			break;
		}
		if (r.status != 200) {
			w->other_errors++;
			reply_free(&r);
			break;
		}
		json_t *t = json_array_get(op_trials(r.json), 0);
		char path[128], cb[160];
		snprintf(path, sizeof(path), "/v1/owners/t/studies/conc/trials/%s:complete",
		         jstr(t, "id"));
		snprintf(
		    cb, sizeof(cb),
		    "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":%d}]}}",
		    w->id);
		reply_free(&r);
		if (http_call(w->d, "POST", path, cb, NULL, &r) != 0 || r.status != 200)
			w->other_errors++;
		else
			w->got++;
		reply_free(&r);
	}
	return NULL;
}

/* Eight workers race for a budget of 20: exactly 20 trials, no errors. */
static void test_budget_concurrent(struct daemon *d)
{
	create_study(
	    d, "conc",
	    "{\"algorithm\":\"QUASI_RANDOM_SEARCH\",\"metrics\":[{\"metricId\":\"acc\","
	    "\"goal\":\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":\"x\","
	    "\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}],\"studyStoppingConfig\":"
	    "{\"maxNumTrials\":20}}");
	struct worker w[8];
	pthread_t th[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){.d = d, .id = i};
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	int total = 0, errors = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		total += w[i].got;
		errors += w[i].other_errors;
	}
	ASSERT_EQ_INT(errors, 0);
	ASSERT_EQ_INT(total, 20);
	json_t *l =
	    CALL(d, "GET", "/v1/owners/t/studies/conc/trials?filter=state%3DSUCCEEDED", NULL, 200);
	json_t *arr = json_object_get(l, "trials");
	ASSERT_EQ_INT(json_array_size(arr), 20);
	for (size_t i = 0; i < json_array_size(arr); i++)
		for (size_t j = 0; j < i; j++)
			ASSERT_TRUE(xval(json_array_get(arr, i)) != xval(json_array_get(arr, j)));
	json_decref(l);
}

static void test_grid(struct daemon *d)
{
	create_study(d, "grid",
	             "{\"algorithm\":\"GRID_SEARCH\",\"metrics\":[{\"metricId\":\"acc\",\"goal\":"
	             "\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":\"n\",\"integerValueSpec\":{"
	             "\"minValue\":1,\"maxValue\":3}}]}");
	json_t *op = suggest(d, "grid", 2, "A", 200);
	ASSERT_EQ_INT(json_array_size(op_trials(op)), 2);
	json_decref(op);
	op = suggest(d, "grid", 2, "B", 200);
	ASSERT_EQ_INT(json_array_size(op_trials(op)), 1);
	json_decref(op);
	{
		json_t *l = CALL(d, "GET", "/v1/owners/t/studies/grid/trials", NULL, 200);
		json_t *arr = json_object_get(l, "trials");
		int seen[4] = {0};
		for (size_t i = 0; i < json_array_size(arr); i++) {
			json_t *v = json_object_get(
			    json_array_get(json_object_get(json_array_get(arr, i), "parameters"),
			                   0),
			    "value");
			json_int_t n = json_integer_value(v);
			ASSERT_TRUE(n >= 1 && n <= 3);
			if (n >= 1 && n <= 3)
				seen[n]++;
		}
		ASSERT_EQ_INT(seen[1] + seen[2] + seen[3], 3);
		ASSERT_TRUE(seen[1] == 1 && seen[2] == 1 && seen[3] == 1);
		json_decref(l);
	}
	json_decref(suggest(d, "grid", 1, "C", 400));
	json_t *s = CALL(d, "GET", "/v1/owners/t/studies/grid", NULL, 200);
	ASSERT_EQ_STR(jstr(s, "state"), "COMPLETED");
	EXPECT_IN(jstr(s, "inactiveReason"), "GRID_SEARCH");
	json_decref(s);
}

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

static void test_stopping(struct daemon *d)
{
	const char *head = "{\"algorithm\":\"RANDOM_SEARCH\",\"metrics\":[{\"metricId\":\"acc\","
	                   "\"goal\":\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":\"x\","
	                   "\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}],"
	                   "\"studyStoppingConfig\":";
	char spec[1024];
	/* two completed trials after the best without progress */
	snprintf(spec, sizeof(spec), "%s{\"maxNumTrialsNoProgress\":2}}", head);
	create_study(d, "np", spec);
	import(d, "np", 0.1, 0.5);
	import(d, "np", 0.2, 0.9);
	import(d, "np", 0.3, 0.4);
	json_decref(suggest(d, "np", 1, "A", 200)); /* one without progress: goes on */
	import(d, "np", 0.4, 0.9);                  /* equal is not progress */
	REFUSE(d, "POST", "/v1/owners/t/studies/np/trials:suggest", "{\"clientId\":\"A\"}", 400,
	       "FAILED_PRECONDITION", "maxNumTrialsNoProgress");
	json_t *s = CALL(d, "GET", "/v1/owners/t/studies/np", NULL, 200);
	ASSERT_EQ_STR(jstr(s, "state"), "COMPLETED");
	json_decref(s);
	json_decref(suggest(d, "np", 1, "A", 400));

	snprintf(spec, sizeof(spec), "%s{\"shouldStopAsap\":true}}", head);
	create_study(d, "asap", spec);
	json_decref(suggest(d, "asap", 1, "A", 400));

	/* no progress for 0.2 s: the sleep only makes sure that much passed */
	snprintf(spec, sizeof(spec), "%s{\"maxDurationNoProgress\":\"0.2s\"}}", head);
	create_study(d, "dur", spec);
	import(d, "dur", 0.1, 0.5);
	usleep(400 * 1000);
	REFUSE(d, "POST", "/v1/owners/t/studies/dur/trials:suggest", "{\"clientId\":\"A\"}", 400,
	       "FAILED_PRECONDITION", "maxDurationNoProgress");
}

static void test_stale_lease(struct daemon *d)
{
	create_study(
	    d, "stale",
	    "{\"algorithm\":\"RANDOM_SEARCH\",\"staleTrialTimeout\":\"0.3s\",\"metrics\":[{"
	    "\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":"
	    "\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}]}");
	json_t *op = suggest(d, "stale", 1, "dead", 200);
	double x = xval(json_array_get(op_trials(op), 0));
	json_decref(op);
	usleep(600 * 1000); /* past the lease; only a lower bound matters */
	/* the silent worker's late complete is refused and says why; the trial
	 * goes back to the pool */
	struct reply r;
	ASSERT_EQ_INT(http_call(d, "POST", "/v1/owners/t/studies/stale/trials/1:complete",
	                        "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\","
	                        "\"value\":1}]}}",
	                        NULL, &r),
	              0);
	ASSERT_EQ_INT(r.status, 400);
	ASSERT_EQ_STR(reply_status_name(&r), "FAILED_PRECONDITION");
	EXPECT_IN(reply_message(&r), "lease expired");
	EXPECT_IN(reply_message(&r), "staleTrialTimeout (0.300s)");
	EXPECT_IN(reply_message(&r), "as trial 2");
	reply_free(&r);
	/* the old trial is given up for good; its parameters are trial 2 */
	json_t *t = CALL(d, "GET", "/v1/owners/t/studies/stale/trials/1", NULL, 200);
	ASSERT_EQ_STR(jstr(t, "state"), "INFEASIBLE");
	EXPECT_IN(jstr(t, "infeasibleReason"), "given up");
	json_decref(t);
	t = CALL(d, "GET", "/v1/owners/t/studies/stale/trials/2", NULL, 200);
	ASSERT_EQ_STR(jstr(t, "state"), "REQUESTED");
	ASSERT_TRUE(json_object_get(t, "clientId") == NULL);
	ASSERT_EQ_DBL(xval(t), x, 0);
	json_decref(t);
	/* the next worker gets those parameters */
	op = suggest(d, "stale", 1, "alive", 200);
	ASSERT_EQ_STR(tid(op, 0), "2");
	ASSERT_EQ_DBL(xval(json_array_get(op_trials(op), 0)), x, 0);
	ASSERT_EQ_STR(jstr(json_array_get(op_trials(op), 0), "clientId"), "alive");
	json_decref(op);
	/* the dead worker's retries stay refused, whatever they send */
	REJECT(d, "POST", "/v1/owners/t/studies/stale/trials/1:complete",
	       "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}", 400,
	       "FAILED_PRECONDITION", "given up");
	REJECT(d, "POST", "/v1/owners/t/studies/stale/trials/1:addTrialMeasurement",
	       "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}", 400,
	       "FAILED_PRECONDITION", "staleTrialTimeout");
	json_decref(complete(d, "stale", "2", "acc", 0.5, 200));

	/* a suggest also collects the lapsed leases of other workers: trial 3
	 * is given up while nobody calls on it, and comes back as trial 4 */
	op = suggest(d, "stale", 1, "dead2", 200);
	ASSERT_EQ_STR(tid(op, 0), "3");
	double x3 = xval(json_array_get(op_trials(op), 0));
	json_decref(op);
	usleep(600 * 1000);
	op = suggest(d, "stale", 1, "alive", 200);
	ASSERT_EQ_STR(tid(op, 0), "4");
	ASSERT_EQ_DBL(xval(json_array_get(op_trials(op), 0)), x3, 0);
	json_decref(op);
	REJECT(d, "POST", "/v1/owners/t/studies/stale/trials/3:complete",
	       "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}", 400,
	       "FAILED_PRECONDITION", "given up");
	/* given-up trials are not optimal trials */
	json_t *o =
	    CALL(d, "POST", "/v1/owners/t/studies/stale/trials:listOptimalTrials", "{}", 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(o, "optimalTrials")), 1);
	ASSERT_EQ_STR(jstr(json_array_get(json_object_get(o, "optimalTrials"), 0), "id"), "2");
	json_decref(o);
}

/* A given-up trial does not use the budget: its replacement does. */
static void test_stale_budget(struct daemon *d)
{
	create_study(
	    d, "sb",
	    "{\"algorithm\":\"RANDOM_SEARCH\",\"staleTrialTimeout\":\"0.3s\",\"metrics\":[{"
	    "\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":"
	    "\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}],"
	    "\"studyStoppingConfig\":{\"maxNumTrials\":2}}");
	json_decref(suggest(d, "sb", 2, "dead", 200));
	usleep(600 * 1000);
	json_t *op = suggest(d, "sb", 2, "alive", 200);
	ASSERT_EQ_INT(json_array_size(op_trials(op)), 2);
	ASSERT_EQ_STR(tid(op, 0), "3");
	ASSERT_EQ_STR(tid(op, 1), "4");
	json_decref(op);
	json_decref(suggest(d, "sb", 1, "third", 400));
}

/* Calls on a trial renew its lease. Timing: a lease of 4 s, a call after
 * 2.5 s, and another 2.5 s later: only lower bounds decide the outcome
 * unless a single request takes over 1.5 s. */
static void test_lease_renewal(struct daemon *d)
{
	create_study(
	    d, "renew",
	    "{\"algorithm\":\"RANDOM_SEARCH\",\"staleTrialTimeout\":\"4s\",\"metrics\":[{"
	    "\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":"
	    "\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}]}");
	json_decref(suggest(d, "renew", 1, "w", 200)); /* trial 1: renewed by a measurement */
	json_decref(suggest(d, "renew", 1, "g", 200)); /* 2: by a GET of its own worker */
	json_decref(suggest(d, "renew", 1, "n", 200)); /* 3: GETs that do not renew */
	usleep(2500 * 1000);
	CALL_OK(d, "POST", "/v1/owners/t/studies/renew/trials/1:addTrialMeasurement",
	        "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.3}]}}");
	json_t *t = CALL(d, "GET", "/v1/owners/t/studies/renew/trials/2?clientId=g", NULL, 200);
	ASSERT_EQ_STR(jstr(t, "state"), "ACTIVE");
	json_decref(t);
	CALL_OK(d, "GET", "/v1/owners/t/studies/renew/trials/3", NULL);
	CALL_OK(d, "GET", "/v1/owners/t/studies/renew/trials/3?clientId=someone-else", NULL);
	usleep(2500 * 1000);
	t = CALL(d, "POST", "/v1/owners/t/studies/renew/trials/1:complete", "{}", 200);
	ASSERT_EQ_STR(jstr(t, "state"), "SUCCEEDED");
	json_decref(t);
	json_decref(complete(d, "renew", "2", "acc", 0.4, 200));
	REFUSE(d, "POST", "/v1/owners/t/studies/renew/trials/3:complete",
	       "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}", 400,
	       "FAILED_PRECONDITION", "staleTrialTimeout");
	/* a clientId that cannot be one, or another parameter: refused */
	REJECT(d, "GET", "/v1/owners/t/studies/renew/trials/2?clientId=", NULL, 400,
	       "INVALID_ARGUMENT", "clientId");
	REJECT(d, "GET", "/v1/owners/t/studies/renew/trials/2?client=g", NULL, 400,
	       "INVALID_ARGUMENT", "unknown query parameter");
}

/* A STOPPING trial whose worker goes silent: completed from its
 * measurements, or given up (no new trial: it was being stopped) when it
 * has none; settled by a GET of its worker or by the next suggest. */
static void test_stopping_lapse(struct daemon *d)
{
	create_study(
	    d, "slap",
	    "{\"algorithm\":\"RANDOM_SEARCH\",\"staleTrialTimeout\":\"0.3s\",\"metrics\":[{"
	    "\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":"
	    "\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}]}");
	const char *m07 = "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.7}],"
	                  "\"stepCount\":3}}";
	const char *m05 = "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.5}],"
	                  "\"stepCount\":2}}";
	json_decref(suggest(d, "slap", 1, "a", 200));
	json_decref(suggest(d, "slap", 1, "b", 200));
	json_decref(suggest(d, "slap", 1, "c", 200));
	CALL_OK(d, "POST", "/v1/owners/t/studies/slap/trials/1:addTrialMeasurement", m05);
	CALL_OK(d, "POST", "/v1/owners/t/studies/slap/trials/1:addTrialMeasurement", m07);
	CALL_OK(d, "POST", "/v1/owners/t/studies/slap/trials/3:addTrialMeasurement", m05);
	json_t *t = CALL(d, "POST", "/v1/owners/t/studies/slap/trials/1:stop", "{}", 200);
	ASSERT_EQ_STR(jstr(t, "state"), "STOPPING");
	json_decref(t);
	CALL_OK(d, "POST", "/v1/owners/t/studies/slap/trials/2:stop", "{}");
	CALL_OK(d, "POST", "/v1/owners/t/studies/slap/trials/3:stop", "{}");
	usleep(600 * 1000); /* past the lease; only a lower bound matters */
	/* trial 1, by its worker's GET: completed with its last measurement */
	t = CALL(d, "GET", "/v1/owners/t/studies/slap/trials/1?clientId=a", NULL, 200);
	ASSERT_EQ_STR(jstr(t, "state"), "SUCCEEDED");
	json_t *fm = json_object_get(t, "finalMeasurement");
	ASSERT_EQ_STR(json_string_value(json_object_get(fm, "stepCount")), "3");
	json_decref(t);
	/* trial 2, by its worker's late complete: refused, given up for good */
	REFUSE(d, "POST", "/v1/owners/t/studies/slap/trials/2:complete",
	       "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}", 400,
	       "FAILED_PRECONDITION", "no measurement");
	t = CALL(d, "GET", "/v1/owners/t/studies/slap/trials/2", NULL, 200);
	ASSERT_EQ_STR(jstr(t, "state"), "INFEASIBLE");
	EXPECT_IN(jstr(t, "infeasibleReason"), "STOPPING");
	json_decref(t);
	/* trial 3, by the next suggest: completed; and nothing went back to
	 * the pool, so the suggest makes a new trial 4 */
	json_t *op = suggest(d, "slap", 1, "d", 200);
	ASSERT_EQ_STR(tid(op, 0), "4");
	json_decref(op);
	t = CALL(d, "GET", "/v1/owners/t/studies/slap/trials/3", NULL, 200);
	ASSERT_EQ_STR(jstr(t, "state"), "SUCCEEDED");
	json_decref(t);
	t = CALL(d, "GET", "/v1/owners/t/studies/slap/trials?filter=state%3DREQUESTED", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(t, "trials")), 0);
	json_decref(t);
}

static void test_seed(struct daemon *d)
{
	const char *spec = "{\"algorithm\":\"RANDOM_SEARCH\",\"seed\":\"7\",\"metrics\":[{"
	                   "\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}],\"parameters\":[{"
	                   "\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":"
	                   "1}}]}";
	create_study(d, "seedA", spec);
	create_study(d, "seedB", spec);
	json_t *a = suggest(d, "seedA", 3, "w", 200), *b = suggest(d, "seedB", 3, "w", 200);
	for (size_t i = 0; i < 3; i++)
		ASSERT_EQ_DBL(xval(json_array_get(op_trials(a), i)),
		              xval(json_array_get(op_trials(b), i)), 0);
	json_decref(a);
	json_decref(b);
}

static void test_gp(struct daemon *d)
{
	create_study(
	    d, "gp",
	    "{\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"MINIMIZE\"}],\"parameters\":[{"
	    "\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":-2,\"maxValue\":2}}]}");
	json_t *last = NULL;
	for (int i = 0; i < 8; i++) {
		json_t *op = suggest(d, "gp", 1, "w", 200);
		json_t *t = json_array_get(op_trials(op), 0);
		json_t *info = json_object_get(t, "suggestionInfo");
		ASSERT_EQ_STR(jstr(info, "algorithm"), "GAUSSIAN_PROCESS_EI");
		double x = xval(t);
		ASSERT_TRUE(x >= -2 && x <= 2);
		json_decref(complete(d, "gp", jstr(t, "id"), "acc", (x - 0.5) * (x - 0.5), 200));
		json_decref(last);
		last = json_incref(info);
		json_decref(op);
	}
	/* past the initial design the suggestion is model-based and says so */
	ASSERT_EQ_STR(jstr(last, "source"), "gp-ei");
	ASSERT_TRUE(json_is_number(json_object_get(last, "predictedValue")));
	ASSERT_TRUE(json_number_value(json_object_get(last, "predictedStddev")) >= 0);
	ASSERT_TRUE(json_is_number(json_object_get(last, "logExpectedImprovement")));
	json_decref(last);
}

/* Issue 11 item 10: a reverse-log scale over a range wider than 2^53 times
 * its minimum suggested only minValue (40 of 40 were 1). Now the values
 * spread towards maxValue, as the scale means, and stay inside the range;
 * the log scale on such ranges too. */
static void wide_scale(struct daemon *d, const char *study, const char *kind, const char *scale,
                       const char *max, double hi)
{
	char spec[600];
	snprintf(spec, sizeof(spec),
	         "{\"algorithm\":\"RANDOM_SEARCH\",\"metrics\":[{\"metricId\":\"acc\",\"goal\":"
	         "\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":\"x\",\"%s\":{\"minValue\":1,"
	         "\"maxValue\":%s},\"scaleType\":\"%s\"}]}",
	         kind, max, scale);
	create_study(d, study, spec);
	json_t *op = suggest(d, study, 40, "w", 200);
	size_t n = json_array_size(op_trials(op)), at_min = 0, above_half = 0;
	ASSERT_EQ_INT((int)n, 40);
	for (size_t i = 0; i < n; i++) {
		json_t *t = json_array_get(op_trials(op), i);
		json_t *p =
		    json_object_get(json_array_get(json_object_get(t, "parameters"), 0), "value");
		/* integers come back as numbers too; a string would be 0 here */
		double x =
		    json_is_string(p) ? strtod(json_string_value(p), NULL) : json_number_value(p);
		ASSERT_TRUE(x >= 1 && x <= hi);
		at_min += x == 1;
		above_half += x > hi / 2;
	}
	ASSERT_TRUE(at_min <= 1);
	if (strcmp(scale, "UNIT_REVERSE_LOG_SCALE") == 0)
		ASSERT_TRUE(above_half >= 30); /* the reverse log crowds near max */
	json_decref(op);
}

static void test_wide_scales(struct daemon *d)
{
	wide_scale(d, "rlog-d", "doubleValueSpec", "UNIT_REVERSE_LOG_SCALE", "1e20", 1e20);
	wide_scale(d, "rlog-i", "integerValueSpec", "UNIT_REVERSE_LOG_SCALE",
	           "\"9007199254740992\"", 9007199254740992.0);
	wide_scale(d, "log-d", "doubleValueSpec", "UNIT_LOG_SCALE", "1e300", 1e300);
	wide_scale(d, "log-i", "integerValueSpec", "UNIT_LOG_SCALE", "\"9007199254740992\"",
	           9007199254740992.0);
}

int main(void)
{
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("api-suggest");
	create_owner(d, "t");
	test_order(d);
	test_budget(d);
	test_budget_concurrent(d);
	test_grid(d);
	test_stopping(d);
	test_stale_lease(d);
	test_stale_budget(d);
	test_lease_renewal(d);
	test_stopping_lapse(d);
	test_seed(d);
	test_gp(d);
	test_wide_scales(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("api-suggest");
}
