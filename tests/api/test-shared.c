/* Two sibyld on one database file (issue 11 item 12): 32 workers split
 * over them run a study to its maxNumTrials budget; no two trials may have
 * the same parameters. Before the fix both daemons planned from the same
 * view of the study (the same trial position, the same pending set) and
 * 5-24 of 200 trials repeated another's x. */
#include <pthread.h>
#include <unistd.h>

#include "apitest.h"

#define WORKERS 32

struct worker {
	struct daemon *d;
	const char *study;
	int n;
	int done, errors;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char path[256], body[256], client[32];
	snprintf(client, sizeof(client), "w%d", w->n);
	for (int round = 0; round < 1000 && w->errors < 20; round++) {
		struct reply r;
		snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials:suggest", w->study);
		snprintf(body, sizeof(body), "{\"suggestionCount\":1,\"clientId\":\"%s\"}", client);
		if (http_call(w->d, "POST", path, body, NULL, &r) != 0) {
			w->errors++;
			continue;
		}
		if (r.status == 400 && strcmp(reply_status_name(&r), "FAILED_PRECONDITION") == 0) {
			reply_free(&r);
			break; /* the budget is spent */
		}
		json_t *t = json_array_get(op_trials(r.json), 0);
		if (r.status != 200 || !t) {
			fprintf(stderr, "%s suggest: %ld %s\n", client, r.status, r.body);
			w->errors++;
			reply_free(&r);
			continue;
		}
		json_t *p = json_array_get(json_object_get(t, "parameters"), 0);
		double x = json_number_value(json_object_get(p, "value"));
		snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials/%s:complete", w->study,
		         jstr(t, "id"));
		reply_free(&r);
		snprintf(
		    body, sizeof(body),
		    "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":%.17g}]}}",
		    -(x - 0.3) * (x - 0.3));
		if (http_call(w->d, "POST", path, body, NULL, &r) != 0 || r.status != 200) {
			fprintf(stderr, "%s complete: %ld %s\n", client, r.status, r.body);
			w->errors++;
		} else {
			w->done++;
		}
		reply_free(&r);
	}
	return NULL;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Returns how many trials the workers of the second daemon completed
 * (of budget). */
static int run_study(struct daemon *d1, struct daemon *d2, const char *study, const char *algorithm,
                     int budget)
{
	char spec[600];
	snprintf(spec, sizeof(spec),
	         "{\"algorithm\":\"%s\",\"studyStoppingConfig\":{\"maxNumTrials\":%d},"
	         "\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}],\"parameters\":[{"
	         "\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}]}",
	         algorithm, budget);
	create_study(d1, study, spec);
	struct worker w[WORKERS];
	pthread_t th[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){.d = i % 2 ? d2 : d1, .study = study, .n = i};
		ASSERT_EQ_INT(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	int done = 0, errors = 0, on_d2 = 0;
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(th[i], NULL);
		done += w[i].done;
		errors += w[i].errors;
		on_d2 += i % 2 ? w[i].done : 0;
	}
	ASSERT_EQ_INT(errors, 0);
	ASSERT_EQ_INT(done, budget);

	char path[256];
	snprintf(path, sizeof(path),
	         "/v1/owners/t/studies/%s/trials?pageSize=1000&filter=state=SUCCEEDED", study);
	json_t *list = CALL(d2, "GET", path, NULL, 200);
	json_t *trials = json_object_get(list, "trials");
	size_t n = json_array_size(trials), dups = 0;
	ASSERT_EQ_INT((int)n, budget);
	double *xs = calloc(n + 1, sizeof(*xs));
	for (size_t i = 0; i < n; i++) {
		json_t *p =
		    json_array_get(json_object_get(json_array_get(trials, i), "parameters"), 0);
		xs[i] = json_number_value(json_object_get(p, "value"));
	}
	qsort(xs, n, sizeof(*xs), cmp_dbl);
	for (size_t i = 1; i < n; i++)
		dups += xs[i] == xs[i - 1];
	if (dups)
		fprintf(stderr, "%s: %zu of %zu trials repeat another's x\n", algorithm, dups, n);
	ASSERT_EQ_INT((int)dups, 0);
	free(xs);
	json_decref(list);
	return on_d2;
}

int main(void)
{
	struct daemon *d1 = daemon_start(NULL);
	ASSERT_TRUE(d1 != NULL);
	if (!d1)
		return test_done("api-shared");
	struct daemon_opts o = {.db_path = d1->db_path};
	struct daemon *d2 = daemon_start(&o);
	ASSERT_TRUE(d2 != NULL);
	if (!d2) {
		daemon_stop(d1);
		return test_done("api-shared");
	}
	create_owner(d1, "t");
	/* Both daemons served: over the three studies (in one study on a
	 * loaded machine one daemon may hand out the whole budget first). */
	int on_d2 = run_study(d1, d2, "random", "RANDOM_SEARCH", 200);
	on_d2 += run_study(d1, d2, "quasi", "QUASI_RANDOM_SEARCH", 200);
	on_d2 += run_study(d1, d2, "gp", "GAUSSIAN_PROCESS_EI", 100);
	ASSERT_TRUE(on_d2 > 0 && on_d2 < 500);
	ASSERT_EQ_INT(daemon_stop(d2), 0);
	ASSERT_EQ_INT(daemon_stop(d1), 0);
	return test_done("api-shared");
}
