/* Workers at scale, over real HTTP against the real sibyld:
 *  1. 64 worker threads (each its own libcurl handle and clientId) run one
 *     RANDOM_SEARCH study to a budget of 500 trials: no error of any kind,
 *     exactly 500 trials, no two with the same parameters, each completed
 *     once; then suggest answers FAILED_PRECONDITION and the study is
 *     COMPLETED. A smaller run does the same on a GP-EI study.
 *  2. Leases: a worker that dies mid-trial loses it after staleTrialTimeout;
 *     the parameters go to the next worker; the dead worker's late calls are
 *     refused with FAILED_PRECONDITION saying why. A worker that keeps
 *     reporting keeps its trial. clientId resume gives a restarted worker
 *     its ACTIVE trial back.
 *  3. Idempotency: a retried complete or measurement changes the trial once.
 *  4. The median stopping rule end to end (checkTrialEarlyStoppingState).
 * The kill -9 test is test-crash.c. */
#include "workload.h"

static int check_stop(struct daemon *d, const char *study, const char *id);

static void test_leases(struct daemon *d)
{
	char spec[2048], path[256], body[256];
	create_study(
	    d, "lease",
	    spec_budget(spec, sizeof(spec), "RANDOM_SEARCH", 2, 4, "\"staleTrialTimeout\":\"1s\""));
	/* a: takes a trial and dies; c: restarts and resumes; k: keeps
	 * reporting, so its lease keeps being renewed */
	json_t *ta = suggest_one(d, "lease", "a");
	json_t *tc = suggest_one(d, "lease", "c");
	json_t *tk = suggest_one(d, "lease", "k");
	char ida[32], idc[32], idk[32];
	snprintf(ida, sizeof(ida), "%s", jstr(ta, "id"));
	snprintf(idc, sizeof(idc), "%s", jstr(tc, "id"));
	snprintf(idk, sizeof(idk), "%s", jstr(tk, "id"));
	char *pa = params_of(ta);

	/* clientId resume: the same trial again, nothing new */
	json_t *again = suggest_one(d, "lease", "c");
	ASSERT_EQ_STR(jstr(again, "id"), idc);
	ASSERT_EQ_STR(jstr(again, "state"), "ACTIVE");
	json_decref(again);
	json_t *list = CALL(d, "GET", "/v1/owners/t/studies/lease/trials", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(list, "trials")), 3);
	json_decref(list);

	/* k calls every 200 ms for 2.4 s, two lease periods and more: a
	 * measurement, then only early-stopping checks, which renew the lease
	 * as well */
	measure(d, "lease", idk, 1, 0.1, 200);
	for (int i = 0; i < 12; i++) {
		sleep_ms(200);
		ASSERT_EQ_INT(check_stop(d, "lease", idk), 0);
	}
	/* a's and c's leases have lapsed; the next worker gets a's parameters
	 * (the oldest in the pool) */
	json_t *tb = suggest_one(d, "lease", "b");
	char *pb = params_of(tb);
	char idb[32];
	snprintf(idb, sizeof(idb), "%s", jstr(tb, "id"));
	ASSERT_EQ_STR(pb, pa);
	ASSERT_EQ_STR(jstr(tb, "clientId"), "b");

	/* a's late calls are refused and change nothing */
	snprintf(path, sizeof(path), "/v1/owners/t/studies/lease/trials/%s:complete", ida);
	REJECT(d, "POST", path,
	       "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"obj\",\"value\":1}]}}", 400,
	       "FAILED_PRECONDITION", "staleTrialTimeout");
	REJECT(d, "POST", path,
	       "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"obj\",\"value\":1}]}}", 400,
	       "FAILED_PRECONDITION", "lease");
	snprintf(path, sizeof(path), "/v1/owners/t/studies/lease/trials/%s:addTrialMeasurement",
	         ida);
	REJECT(
	    d, "POST", path,
	    "{\"measurement\":{\"stepCount\":1,\"metrics\":[{\"metricId\":\"obj\",\"value\":1}]}}",
	    400, "FAILED_PRECONDITION", "lease");

	/* b and k finish normally; b's result is the one kept */
	json_decref(complete(d, "lease", idb, "obj", 0.5, 200));
	json_decref(complete(d, "lease", idk, "obj", 0.7, 200));
	snprintf(path, sizeof(path), "/v1/owners/t/studies/lease/trials/%s", idb);
	json_t *got = CALL(d, "GET", path, NULL, 200);
	ASSERT_EQ_STR(jstr(got, "state"), "SUCCEEDED");
	char *pg = params_of(got);
	ASSERT_EQ_STR(pg, pa);
	free(pg);
	json_decref(got);

	/* c restarts after its lease lapsed: its trial was given up, so it gets
	 * c's old parameters back from the pool (the only one left there) */
	snprintf(body, sizeof(body), "%s", "c");
	json_t *tc2 = suggest_one(d, "lease", body);
	char *pc = params_of(tc), *pc2 = params_of(tc2);
	ASSERT_EQ_STR(pc2, pc);
	free(pc);
	free(pc2);
	json_decref(complete(d, "lease", jstr(tc2, "id"), "obj", 0.1, 200));
	json_decref(tc2);

	/* every trial is accounted for: the three that ran to the end
	 * SUCCEEDED; a's and c's first trials were given up (INFEASIBLE, the
	 * reason says why and names the trial that took their parameters) */
	list = CALL(d, "GET", "/v1/owners/t/studies/lease/trials", NULL, 200);
	json_t *arr = json_object_get(list, "trials");
	ASSERT_EQ_INT(json_array_size(arr), 5);
	size_t i, n_ok = 0;
	json_t *t;
	json_array_foreach(arr, i, t)
	{
		const char *id = jstr(t, "id");
		if (strcmp(id, ida) == 0 || strcmp(id, idc) == 0) {
			ASSERT_EQ_STR(jstr(t, "state"), "INFEASIBLE");
			EXPECT_IN(jstr(t, "infeasibleReason"), "staleTrialTimeout");
		} else {
			n_ok += strcmp(jstr(t, "state"), "SUCCEEDED") == 0;
		}
	}
	ASSERT_EQ_INT(n_ok, 3);
	/* given-up trials do not count against the budget (4): one more */
	json_t *tz = suggest_one(d, "lease", "z");
	json_decref(complete(d, "lease", jstr(tz, "id"), "obj", 0.2, 200));
	json_decref(tz);
	/* the refusal completes the study (a change, so not REJECT) */
	struct reply rz;
	ASSERT_EQ_INT(http_call(d, "POST", "/v1/owners/t/studies/lease/trials:suggest",
	                        "{\"suggestionCount\":1,\"clientId\":\"z2\"}", NULL, &rz),
	              0);
	ASSERT_EQ_INT(rz.status, 400);
	ASSERT_EQ_STR(reply_status_name(&rz), "FAILED_PRECONDITION");
	EXPECT_IN(reply_message(&rz), "maxNumTrials");
	reply_free(&rz);
	json_t *st = CALL(d, "GET", "/v1/owners/t/studies/lease", NULL, 200);
	ASSERT_EQ_STR(jstr(st, "state"), "COMPLETED");
	json_decref(st);
	json_decref(list);
	free(pa);
	free(pb);
	json_decref(ta);
	json_decref(tb);
	json_decref(tc);
	json_decref(tk);
}

/* ------------------------------------------------------------- idempotency */

static void test_idempotent(struct daemon *d)
{
	char spec[2048], path[256];
	create_study(d, "idem", spec_budget(spec, sizeof(spec), "RANDOM_SEARCH", 2, 10, NULL));
	json_t *t = suggest_one(d, "idem", "w");
	char id[32];
	snprintf(id, sizeof(id), "%s", jstr(t, "id"));
	json_decref(t);

	const char *m = "{\"measurement\":{\"stepCount\":\"3\",\"metrics\":[{\"metricId\":\"obj\","
	                "\"value\":0.25}]}}";
	snprintf(path, sizeof(path), "/v1/owners/t/studies/idem/trials/%s:addTrialMeasurement", id);
	json_t *first = CALL(d, "POST", path, m, 200);
	char *before = dump_trials(d->db_path);
	json_t *second = CALL(d, "POST", path, m, 200);
	char *after = dump_trials(d->db_path);
	ASSERT_TRUE(before && after && strcmp(before, after) == 0);
	EXPECT_IN(before, "table measurements (1 rows)");
	ASSERT_EQ_INT(json_array_size(json_object_get(second, "measurements")), 1);
	ASSERT_TRUE(json_equal(first, second));
	free(before);
	free(after);
	json_decref(first);
	json_decref(second);

	snprintf(path, sizeof(path), "/v1/owners/t/studies/idem/trials/%s:complete", id);
	const char *c =
	    "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"obj\",\"value\":0.5}]}}";
	first = CALL(d, "POST", path, c, 200);
	before = dump_trials(d->db_path);
	second = CALL(d, "POST", path, c, 200);
	after = dump_trials(d->db_path);
	ASSERT_TRUE(before && after && strcmp(before, after) == 0);
	ASSERT_TRUE(json_equal(first, second));
	ASSERT_EQ_STR(jstr(second, "state"), "SUCCEEDED");
	free(before);
	free(after);
	json_decref(first);
	json_decref(second);
	/* a different body is not a retry */
	REJECT(d, "POST", path,
	       "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"obj\",\"value\":0.6}]}}", 400,
	       "FAILED_PRECONDITION", "different body");
	snprintf(path, sizeof(path), "/v1/owners/t/studies/idem/trials/%s:addTrialMeasurement", id);
	REJECT(d, "POST", path, m, 400, "FAILED_PRECONDITION", "SUCCEEDED");
}

/* ---------------------------------------------------------- early stopping */

/* :checkTrialEarlyStoppingState; returns shouldStop, or -1 after a failure
 * (reported). */
static int check_stop(struct daemon *d, const char *study, const char *id)
{
	char path[256];
	snprintf(path, sizeof(path),
	         "/v1/owners/t/studies/%s/trials/%s:checkTrialEarlyStoppingState", study, id);
	json_t *op = CALL(d, "POST", path, "{}", 200);
	json_t *resp = json_object_get(op, "response");
	ASSERT_TRUE(json_is_true(json_object_get(op, "done")));
	ASSERT_TRUE(json_is_boolean(json_object_get(resp, "shouldStop")));
	int stop = json_is_boolean(json_object_get(resp, "shouldStop"))
	               ? json_is_true(json_object_get(resp, "shouldStop"))
	               : -1;
	/* the Operation can be read again by its name */
	char opath[600];
	snprintf(opath, sizeof(opath), "/v1/%s", jstr(op, "name"));
	json_t *again = CALL(d, "GET", opath, NULL, 200);
	ASSERT_TRUE(json_equal(json_object_get(again, "response"), resp));
	json_decref(again);
	json_decref(op);
	return stop;
}

static void elapsed_measure(struct daemon *d, const char *study, const char *id, double secs,
                            double v)
{
	char path[256], body[256];
	snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials/%s:addTrialMeasurement", study,
	         id);
	snprintf(body, sizeof(body),
	         "{\"measurement\":{\"elapsedDuration\":\"%gs\",\"metrics\":[{\"metricId\":\"obj\","
	         "\"value\":%.17g}]}}",
	         secs, v);
	json_decref(CALL(d, "POST", path, body, 200));
}

static void trial_state_is(struct daemon *d, const char *study, const char *id, const char *want)
{
	char path[256];
	snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials/%s", study, id);
	json_t *t = CALL(d, "GET", path, NULL, 200);
	ASSERT_EQ_STR(jstr(t, "state"), want);
	json_decref(t);
}

/* Three completed learning curves, then a poor and a good trial. The goal
 * is MINIMIZE on the elapsed-duration study to cover both. */
static void median_study(struct daemon *d, const char *study, int elapsed)
{
	char spec[2048], id[32], extra[128];
	double sign = elapsed ? -1 : 1; /* MINIMIZE the negated curve */
	snprintf(extra, sizeof(extra),
	         "\"medianAutomatedStoppingSpec\":{\"useElapsedDuration\":%s}",
	         elapsed ? "true" : "false");
	spec_budget(spec, sizeof(spec), "RANDOM_SEARCH", 2, 50, extra);
	if (elapsed) {
		char *g = strstr(spec, "MAXIMIZE");
		memcpy(g, "MINIMIZE", 8);
	}
	create_study(d, study, spec);
	for (int k = 0; k < 3; k++) {
		char client[16];
		snprintf(client, sizeof(client), "done%d", k);
		json_t *t = suggest_one(d, study, client);
		snprintf(id, sizeof(id), "%s", jstr(t, "id"));
		json_decref(t);
		if (k == 0) {
			/* with nothing completed the rule never stops */
			if (elapsed)
				elapsed_measure(d, study, id, 1, sign * -5);
			else
				measure(d, study, id, 1, -5, 200);
			ASSERT_EQ_INT(check_stop(d, study, id), 0);
			trial_state_is(d, study, id, "ACTIVE");
		}
		for (int s = 1; s <= 5; s++) {
			double v = sign * (0.5 + 0.1 * k) * s / 5.0;
			if (elapsed)
				elapsed_measure(d, study, id, 10.0 * s, v);
			else
				measure(d, study, id, s, v, 200);
		}
		json_decref(complete(d, study, id, "obj", sign * (0.5 + 0.1 * k), 200));
	}
	/* running averages at step 3 (or 30 s): 0.5*0.4, 0.6*0.4, 0.7*0.4 (the
	 * first trial's early -5 at step 1 pulls its average down: (-5 + 0.1 +
	 * 0.2 + 0.3) / 4 < 0), so the median is 0.24 */
	json_t *bad = suggest_one(d, study, "bad");
	json_t *good = suggest_one(d, study, "good");
	char idb[32], idg[32];
	snprintf(idb, sizeof(idb), "%s", jstr(bad, "id"));
	snprintf(idg, sizeof(idg), "%s", jstr(good, "id"));
	for (int s = 1; s <= 3; s++) {
		double vb = sign * 0.05 * s, vg = sign * 0.2 * s;
		if (elapsed) {
			elapsed_measure(d, study, idb, 10.0 * s, vb);
			elapsed_measure(d, study, idg, 10.0 * s, vg);
		} else {
			measure(d, study, idb, s, vb, 200);
			measure(d, study, idg, s, vg, 200);
		}
	}
	ASSERT_EQ_INT(check_stop(d, study, idg), 0);
	trial_state_is(d, study, idg, "ACTIVE");
	ASSERT_EQ_INT(check_stop(d, study, idb), 1);
	trial_state_is(d, study, idb, "STOPPING");
	/* asking again: still stop, still STOPPING */
	ASSERT_EQ_INT(check_stop(d, study, idb), 1);
	trial_state_is(d, study, idb, "STOPPING");
	/* a stopping trial completes normally */
	json_decref(complete(d, study, idb, "obj", sign * 0.15, 200));
	json_decref(complete(d, study, idg, "obj", sign * 0.9, 200));
	/* on a finished trial the check is refused and changes nothing */
	char path[256];
	snprintf(path, sizeof(path),
	         "/v1/owners/t/studies/%s/trials/%s:checkTrialEarlyStoppingState", study, idb);
	REJECT(d, "POST", path, "{}", 400, "FAILED_PRECONDITION", "SUCCEEDED");
	REJECT(d, "POST", path, "{\"x\":1}", 400, "INVALID_ARGUMENT", "x");
	snprintf(path, sizeof(path),
	         "/v1/owners/t/studies/%s/trials/999:checkTrialEarlyStoppingState", study);
	REJECT(d, "POST", path, "{}", 404, "NOT_FOUND", "999");
	json_decref(bad);
	json_decref(good);
}

static void test_median_rule(struct daemon *d)
{
	median_study(d, "median-steps", 0);
	median_study(d, "median-elapsed", 1);
	/* a study without medianAutomatedStoppingSpec never stops a trial */
	create_study(d, "no-rule", SPEC_RANDOM);
	json_t *t = suggest_one(d, "no-rule", "p");
	ASSERT_EQ_INT(check_stop(d, "no-rule", jstr(t, "id")), 0);
	trial_state_is(d, "no-rule", jstr(t, "id"), "ACTIVE");
	json_decref(t);
}

int main(void)
{
	struct daemon *d = daemon_start(NULL);
	if (!d)
		return 1;
	set_url(d->url);
	ensure_owner(d);
	PART(test_idempotent(d));
	PART(test_median_rule(d));
	PART(test_leases(d));
	PART(many_workers(d, "many", "RANDOM_SEARCH", 64, 500, 0));
	PART(many_workers(d, "many-gp", "GAUSSIAN_PROCESS_EI", 16, 40, 1));
	check_logs(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("test-workers");
}
