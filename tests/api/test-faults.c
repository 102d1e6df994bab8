/* Faults of issue 11 on the real daemon: a stale worker after its study was
 * deleted and created again with the same name (item 9), and a daemon
 * frozen with SIGSTOP while workers' calls arrive within their leases
 * (item 8). */
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "apitest.h"

static const char *tid(json_t *op, size_t i)
{
	return jstr(json_array_get(op_trials(op), i), "id");
}

/* Item 9: worker I holds trial 1 of study S; S is deleted and created
 * again with the same displayName; worker J gets a trial of the new S; I
 * completes "its" trial 1 with 99. Before the fix J's trial was trial 1
 * and I's complete was stored on it. Now the new study's ids carry on
 * after the old one's, so I's call names no trial of the new study. */
static void test_recreated_study(struct daemon *d)
{
	create_study(d, "re", SPEC_RANDOM);
	json_t *op = suggest(d, "re", 1, "I", 200);
	ASSERT_EQ_STR(tid(op, 0), "1");
	json_decref(op);
	op = CALL(d, "GET", "/v1/owners/t/studies/re/operations/1", NULL, 200);
	json_decref(op);
	CALL_OK(d, "DELETE", "/v1/owners/t/studies/re", NULL);
	create_study(d, "re", SPEC_RANDOM);
	op = suggest(d, "re", 1, "J", 200);
	const char *j_id = tid(op, 0);
	ASSERT_EQ_STR(j_id, "2");
	ASSERT_EQ_STR(jstr(json_array_get(op_trials(op), 0), "name"),
	              "owners/t/studies/re/trials/2");
	EXPECT_IN(jstr(op, "name"), "owners/t/studies/re/operations/2");
	json_decref(op);
	/* the stale worker's calls find nothing, and change nothing */
	REJECT(d, "POST", "/v1/owners/t/studies/re/trials/1:complete",
	       "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":99}]}}", 404,
	       "NOT_FOUND", "trials/1");
	REJECT(d, "POST", "/v1/owners/t/studies/re/trials/1:addTrialMeasurement",
	       "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":99}]}}", 404,
	       "NOT_FOUND", "trials/1");
	REJECT(d, "GET", "/v1/owners/t/studies/re/operations/1", NULL, 404, "NOT_FOUND",
	       "operations/1");
	json_t *t = CALL(d, "GET", "/v1/owners/t/studies/re/trials/2", NULL, 200);
	ASSERT_EQ_STR(jstr(t, "state"), "ACTIVE");
	ASSERT_EQ_STR(jstr(t, "clientId"), "J");
	json_decref(t);
	/* J completes with its own value */
	t = complete(d, "re", "2", "acc", 0.25, 200);
	ASSERT_EQ_STR(jstr(t, "state"), "SUCCEEDED");
	json_decref(t);
	t = CALL(d, "GET", "/v1/owners/t/studies/re/trials/2", NULL, 200);
	json_t *m =
	    json_array_get(json_object_get(json_object_get(t, "finalMeasurement"), "metrics"), 0);
	ASSERT_EQ_DBL(json_number_value(json_object_get(m, "value")), 0.25, 0);
	json_decref(t);

	/* A third life carries on after the second's ids; a name never used
	 * starts at 1; so does the same name under another owner. */
	CALL_OK(d, "DELETE", "/v1/owners/t/studies/re", NULL);
	create_study(d, "re", SPEC_RANDOM);
	op = suggest(d, "re", 1, "K", 200);
	ASSERT_EQ_STR(tid(op, 0), "3");
	json_decref(op);
	create_study(d, "fresh", SPEC_RANDOM);
	op = suggest(d, "fresh", 1, "K", 200);
	ASSERT_EQ_STR(tid(op, 0), "1");
	json_decref(op);

	/* The owner deleted (with its studies) and created again: still no
	 * reuse under that name. */
	create_owner(d, "u");
	char body[1024];
	snprintf(body, sizeof(body), "{\"displayName\":\"s\",\"studySpec\":%s}", SPEC_RANDOM);
	CALL_OK(d, "POST", "/v1/owners/u/studies", body);
	CALL_OK(d, "POST", "/v1/owners/u/studies/s/trials:suggest",
	        "{\"suggestionCount\":2,\"clientId\":\"I\"}");
	CALL_OK(d, "DELETE", "/v1/owners/u?force=true", NULL);
	create_owner(d, "u");
	CALL_OK(d, "POST", "/v1/owners/u/studies", body);
	op = CALL(d, "POST", "/v1/owners/u/studies/s/trials:suggest",
	          "{\"suggestionCount\":1,\"clientId\":\"J\"}", 200);
	ASSERT_EQ_STR(tid(op, 0), "3");
	json_decref(op);
}

/* Item 8: a worker's complete sent within its lease while the daemon was
 * stopped (SIGSTOP) must be accepted after SIGCONT: the daemon was not
 * running, so that time does not count against the worker. Before the fix
 * every such complete was refused and the trials given up. */
struct late {
	struct daemon *d;
	char trial[16];
	long status;
	char state[32];
};

static void *send_complete(void *arg)
{
	struct late *l = arg;
	char path[128];
	struct reply r;
	snprintf(path, sizeof(path), "/v1/owners/t/studies/frozen/trials/%s:complete", l->trial);
	if (http_call(l->d, "POST", path,
	              "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.5}]}}",
	              NULL, &r) == 0) {
		l->status = r.status;
		snprintf(l->state, sizeof(l->state), "%s", jstr(r.json, "state"));
		if (r.status != 200)
			fprintf(stderr, "complete of trial %s: %ld %s\n", l->trial, r.status,
			        r.body);
	}
	reply_free(&r);
	return NULL;
}

static void test_frozen_daemon(struct daemon *d)
{
	create_study(
	    d, "frozen",
	    "{\"algorithm\":\"RANDOM_SEARCH\",\"staleTrialTimeout\":\"3s\",\"metrics\":[{"
	    "\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}],\"parameters\":[{"
	    "\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}]}");
	enum { N = 4 };
	struct late l[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		char who[16];
		snprintf(who, sizeof(who), "w%d", i);
		json_t *op = suggest(d, "frozen", 1, who, 200);
		memset(&l[i], 0, sizeof(l[i]));
		l[i].d = d;
		snprintf(l[i].trial, sizeof(l[i].trial), "%s", tid(op, 0));
		json_decref(op);
	}
	/* trial 5: a worker that never calls again */
	json_decref(suggest(d, "frozen", 1, "silent", 200));
	ASSERT_EQ_INT(kill(d->pid, SIGSTOP), 0);
	/* the completes go out within the 3 s leases, one every 0.4 s */
	for (int i = 0; i < N; i++) {
		usleep(400 * 1000);
		ASSERT_EQ_INT(pthread_create(&th[i], NULL, send_complete, &l[i]), 0);
	}
	sleep(7); /* stopped for about 8.6 s: past every lease */
	ASSERT_EQ_INT(kill(d->pid, SIGCONT), 0);
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		ASSERT_EQ_INT((int)l[i].status, 200);
		ASSERT_EQ_STR(l[i].state, "SUCCEEDED");
	}
	/* The silent worker's lease lapsed in wall-clock time, but the daemon
	 * has not run for 3 s since it resumed: its trial is still ACTIVE and
	 * a new worker gets a new point, not trial 5's. */
	json_t *t = CALL(d, "GET", "/v1/owners/t/studies/frozen/trials/5", NULL, 200);
	ASSERT_EQ_STR(jstr(t, "state"), "ACTIVE");
	json_decref(t);
	json_t *op = suggest(d, "frozen", 1, "new1", 200);
	ASSERT_EQ_STR(tid(op, 0), "6");
	json_decref(op);
	/* Once the daemon has run for the timeout, the lease lapses as usual:
	 * trial 5 is given up and its parameters are the next worker's. */
	sleep(4);
	op = suggest(d, "frozen", 1, "new2", 200);
	ASSERT_EQ_STR(tid(op, 0), "7");
	json_decref(op);
	t = CALL(d, "GET", "/v1/owners/t/studies/frozen/trials/5", NULL, 200);
	ASSERT_EQ_STR(jstr(t, "state"), "INFEASIBLE");
	EXPECT_IN(jstr(t, "infeasibleReason"), "given up");
	json_decref(t);
}

int main(void)
{
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("api-faults");
	create_owner(d, "t");
	test_recreated_study(d);
	test_frozen_daemon(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("api-faults");
}
