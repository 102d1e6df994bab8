/* Several sibyld on one database (issue 14, "Several daemons, one truth"):
 * three daemons share one database (an SQLite file, or a PostgreSQL
 * database in a throwaway cluster), 64 worker threads loop suggest ->
 * complete on one study of maxNumTrials 500, each through libsibyl with
 * the comma-separated list of the three URLs (worker i starts at daemon
 * i % 3, so the load is spread and a failed daemon is left for the next).
 * At the end: 0 errors, every worker saw the end of the budget, exactly
 * 500 trials, all SUCCEEDED with the value their 200 acknowledged, each
 * acknowledged once, no two with the same parameters, and every live
 * daemon says the study is COMPLETED and refuses another suggest.
 *
 *   test-cluster sqlite|postgresql plain|kill|pg-restart
 *   (postgresql: under tests/common/pgcluster.sh run, backend.h)
 *
 * kill: the first daemon is killed with SIGKILL at 30% of the budget; the
 * workers that were on it move on (their wait hooks hear SWITCH) and every
 * complete acknowledged before or after is there at the end.
 * pg-restart (postgresql only): the cluster is stopped (fast shutdown:
 * every connection cut) at 30% of the budget and started again 1 s later;
 * the daemons answer 503 meanwhile and reconnect by themselves, the
 * workers retry (their hooks hear START or SWITCH).
 *
 * Traffic goes to 127.0.0.1 only; the run is bounded (the workers stop
 * after 20 errors in all or 2,000 rounds each; libsibyl's retry window is
 * 60 s). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include <sibyl/sibyl.h>

#include "backend.h"
#include "harness.h"
#include "test.h"
#include "trialcheck.h"

enum { DAEMONS = 3, WORKERS = 64, BUDGET = 500, MAX_ERRORS = 20 };

struct run {
	const char *study; /* "owners/t/studies/S" */
	char urls[DAEMONS][64];
	atomic_int done;     /* workers that saw the end of the budget */
	atomic_int errors;   /* calls that failed after libsibyl's retries */
	atomic_int switches; /* SWITCH events: a call moved to another daemon */
	atomic_int waits;    /* START events: every daemon failed once */
	pthread_mutex_t mu;
	char first_error[600];
	struct ack acks[BUDGET * 2];
	size_t n_acks;
};

struct worker {
	struct run *r;
	int index;
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int hook(const struct sibyl_wait *w, void *ud)
{
	struct run *r = ud;
	if (w->event == SIBYL_WAIT_SWITCH)
		atomic_fetch_add(&r->switches, 1);
	else if (w->event == SIBYL_WAIT_START)
		atomic_fetch_add(&r->waits, 1);
	return 0;
}

static void run_error(struct run *r, const char *what, struct sibyl_client *c)
{
	atomic_fetch_add(&r->errors, 1);
	pthread_mutex_lock(&r->mu);
	if (!r->first_error[0])
		snprintf(r->first_error, sizeof(r->first_error), "%s: %s %d: %s", what,
		         sibyl_errname(c), sibyl_errstatus(c), sibyl_errmsg(c));
	pthread_mutex_unlock(&r->mu);
}

/* A smooth function of the trial's parameters. */
static double objective(const struct sibyl_trial *t)
{
	double v = 0;
	for (size_t i = 0; i < t->n_parameters; i++) {
		double x = t->parameters[i].number;
		v -= (x - 0.3) * (x - 0.3) * (double)(i + 1);
	}
	return v;
}

/* The URL list of worker i: the three daemons, starting at i % 3. */
static void worker_urls(const struct run *r, int i, char *out, size_t cap)
{
	size_t n = 0;
	for (int k = 0; k < DAEMONS && n < cap; k++)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", k ? "," : "",
		                      r->urls[(i + k) % DAEMONS]);
}

/* One round: suggest, complete. Returns 1 when the budget is spent. */
static int round_trip(struct run *r, struct sibyl_client *c, const char *client)
{
	struct sibyl_trial_list *l = NULL;
	int rc = sibyl_trial_suggest(c, r->study, 1, client, &l);
	if (rc == -SIBYL_FAILED_PRECONDITION)
		return 1;
	if (rc == 0 && l->n == 0 && l->study_state && strcmp(l->study_state, "COMPLETED") == 0) {
		sibyl_trial_list_free(l);
		return 1;
	}
	if (rc != 0 || l->n != 1) {
		run_error(r, "suggest", c);
		sibyl_trial_list_free(l);
		return 0;
	}
	struct sibyl_trial *t = l->trials[0], *out = NULL;
	struct sibyl_metric m = {"obj", objective(t)};
	struct sibyl_measurement fm = {-1, -1, 1, &m};
	rc = sibyl_trial_complete(c, t->name, &fm, 0, NULL, &out);
	if (rc != 0 || out->state != SIBYL_TRIAL_SUCCEEDED) {
		run_error(r, "complete", c);
	} else {
		pthread_mutex_lock(&r->mu);
		if (r->n_acks < sizeof(r->acks) / sizeof(r->acks[0]))
			r->acks[r->n_acks++] = (struct ack){t->id, m.value};
		pthread_mutex_unlock(&r->mu);
	}
	sibyl_trial_free(out);
	sibyl_trial_list_free(l);
	return 0;
}

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	char urls[256], client[32];
	worker_urls(r, w->index, urls, sizeof(urls));
	snprintf(client, sizeof(client), "w%d", w->index);
	struct sibyl_client *c = sibyl_client_new(urls, HARNESS_ADMIN_KEY);
	if (!c) {
		atomic_fetch_add(&r->errors, 1);
		return NULL;
	}
	sibyl_client_set_timeout(c, 2000, 60000);
	sibyl_client_set_retry_window(c, 60);
	sibyl_client_set_retries(c, 0, 50, 1000);
	sibyl_client_set_wait_hook(c, hook, r);
	for (int i = 0; i < 2000 && atomic_load(&r->errors) < MAX_ERRORS; i++) {
		if (round_trip(r, c, client)) {
			atomic_fetch_add(&r->done, 1);
			break;
		}
	}
	sibyl_client_free(c);
	return NULL;
}

static size_t acks_now(struct run *r)
{
	pthread_mutex_lock(&r->mu);
	size_t n = r->n_acks;
	pthread_mutex_unlock(&r->mu);
	return n;
}

/* ------------------------------------------------------------ checks */

/* Every trial the server lists: SUCCEEDED with its acknowledged value, no
 * two with the same parameters. */
static void check_trials(struct daemon *d, struct run *r, json_t *trials)
{
	struct trial_check c;
	ASSERT_EQ_INT(trial_check(trials, r->acks, r->n_acks, &c), 0);
	ASSERT_EQ_INT(c.bad_state, 0);
	ASSERT_EQ_INT(c.bad_value, 0);
	ASSERT_EQ_INT(c.unacked, 0);
	if (c.dups)
		fprintf(stderr, "%zu of %zu trials repeat another's parameters (read from %s)\n",
		        c.dups, json_array_size(trials), d->url);
	ASSERT_EQ_INT(c.dups, 0);
}

/* What daemon d says of the study after the run. */
static void check_daemon(struct daemon *d, struct run *r)
{
	char path[300];
	struct reply rep;
	snprintf(path, sizeof(path), "/v1/%s/trials?pageSize=1000", r->study);
	test_checks++;
	if (http_call(d, "GET", path, NULL, NULL, &rep) != 0 || rep.status != 200) {
		TEST_FAIL("GET %s on %s: %ld %s", path, d->url, rep.status, rep.body);
		reply_free(&rep);
		return;
	}
	json_t *trials = json_object_get(rep.json, "trials");
	ASSERT_EQ_INT(json_array_size(trials), BUDGET);
	ASSERT_TRUE(json_object_get(rep.json, "nextPageToken") == NULL);
	check_trials(d, r, trials);
	reply_free(&rep);

	ASSERT_EQ_INT(http_call(d, "GET", "/healthz", NULL, "", &rep), 0);
	ASSERT_EQ_INT(rep.status, 200); /* recovered by itself */
	reply_free(&rep);
	snprintf(path, sizeof(path), "/v1/%s", r->study);
	ASSERT_EQ_INT(http_call(d, "GET", path, NULL, NULL, &rep), 0);
	ASSERT_EQ_STR(json_string_value(json_object_get(rep.json, "state")), "COMPLETED");
	reply_free(&rep);
	snprintf(path, sizeof(path), "/v1/%s/trials:suggest", r->study);
	ASSERT_EQ_INT(
	    http_call(d, "POST", path, "{\"suggestionCount\":1,\"clientId\":\"late\"}", NULL, &rep),
	    0);
	ASSERT_EQ_INT(rep.status, 400);
	ASSERT_EQ_STR(reply_status_name(&rep), "FAILED_PRECONDITION");
	reply_free(&rep);
}

/* The checks after the run, through every daemon still alive. */
static void check_run(struct daemon **ds, const int *alive, struct run *r)
{
	if (r->first_error[0])
		fprintf(stderr, "first error: %s\n", r->first_error);
	ASSERT_EQ_INT(atomic_load(&r->errors), 0);
	ASSERT_EQ_INT(atomic_load(&r->done), WORKERS);
	ASSERT_EQ_INT(r->n_acks, BUDGET);
	qsort(r->acks, r->n_acks, sizeof(r->acks[0]), ack_cmp);
	for (size_t i = 1; i < r->n_acks; i++)
		if (r->acks[i].trial == r->acks[i - 1].trial)
			TEST_FAIL("trial %lld was completed twice with a 200",
			          (long long)r->acks[i].trial);
	for (int k = 0; k < DAEMONS; k++)
		if (alive[k])
			check_daemon(ds[k], r);
}

/* ------------------------------------------------------------ the run */

static const char spec[] =
    "{\"displayName\":\"cluster\",\"studySpec\":{\"algorithm\":\"RANDOM_SEARCH\","
    "\"metrics\":[{\"metricId\":\"obj\",\"goal\":\"MAXIMIZE\"}],\"parameters\":["
    "{\"parameterId\":\"x0\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}},"
    "{\"parameterId\":\"x1\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}},"
    "{\"parameterId\":\"x2\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}],"
    "\"studyStoppingConfig\":{\"maxNumTrials\":500}}}";

/* The fault of the scenario, once 30% of the budget is acknowledged. */
static void inject(const char *scenario, struct daemon **ds, int *alive, struct run *r)
{
	for (int waited = 0; acks_now(r) < BUDGET * 3 / 10 && waited < 120000; waited += 2)
		sleep_ms(2);
	size_t at = acks_now(r);
	if (strcmp(scenario, "kill") == 0) {
		ASSERT_EQ_INT(daemon_kill(ds[0]), 0);
		alive[0] = 0;
		fprintf(stderr, "killed %s with SIGKILL at %zu acknowledged completes\n",
		        ds[0]->url, at);
	} else {
		ASSERT_EQ_INT(backend_restart(1000), 0);
		fprintf(stderr, "restarted PostgreSQL at %zu acknowledged completes\n", at);
	}
	ASSERT_TRUE(at < BUDGET);
}

static void run(const char *scenario, struct daemon **ds, int *alive)
{
	struct run *r = calloc(1, sizeof(*r));
	pthread_t th[WORKERS];
	struct worker wa[WORKERS];
	struct reply rep;
	pthread_mutex_init(&r->mu, NULL);
	for (int k = 0; k < DAEMONS; k++)
		snprintf(r->urls[k], sizeof(r->urls[k]), "%s", ds[k]->url);
	ASSERT_EQ_INT(daemon_create_owner(ds[0], "t"), 200);
	ASSERT_EQ_INT(http_call(ds[1], "POST", "/v1/owners/t/studies", spec, NULL, &rep), 0);
	ASSERT_EQ_INT(rep.status, 200);
	const char *name = json_string_value(json_object_get(rep.json, "name"));
	r->study = strdup(name ? name : "owners/t/studies/cluster");
	reply_free(&rep);

	for (int i = 0; i < WORKERS; i++) {
		wa[i] = (struct worker){r, i};
		ASSERT_EQ_INT(pthread_create(&th[i], NULL, worker, &wa[i]), 0);
	}
	if (strcmp(scenario, "plain") != 0)
		inject(scenario, ds, alive, r);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(th[i], NULL);
	fprintf(stderr, "%s: %zu acknowledged completes, %d switches, %d waits\n", scenario,
	        r->n_acks, atomic_load(&r->switches), atomic_load(&r->waits));
	check_run(ds, alive, r);
	if (strcmp(scenario, "kill") == 0)
		ASSERT_TRUE(atomic_load(&r->switches) > 0); /* some worker failed over */
	if (strcmp(scenario, "pg-restart") == 0)
		ASSERT_TRUE(atomic_load(&r->switches) + atomic_load(&r->waits) > 0);
	pthread_mutex_destroy(&r->mu);
	free((char *)r->study);
	free(r);
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[2], "plain") != 0 && strcmp(argv[2], "kill") != 0 &&
	                  strcmp(argv[2], "pg-restart") != 0)) {
		fprintf(stderr, "usage: test-cluster sqlite|postgresql plain|kill|pg-restart\n");
		return 2;
	}
	char name[64];
	snprintf(name, sizeof(name), "cluster-%s-%s", argv[1], argv[2]);
	signal(SIGPIPE, SIG_IGN);
	if (backend_check(argv[1]) != 0) {
		TEST_FAIL("no %s database (see above)", argv[1]);
		return test_done(name);
	}
	if (strcmp(argv[2], "pg-restart") == 0 && strcmp(argv[1], "postgresql") != 0) {
		TEST_FAIL("pg-restart needs the postgresql backend");
		return test_done(name);
	}
	struct daemon *ds[DAEMONS] = {0};
	int alive[DAEMONS] = {0}, up = 1;
	for (int k = 0; k < DAEMONS && up; k++) {
		struct daemon_opts o = {.db_path = backend_db(k == 0 ? NULL : ds[0])};
		ds[k] = daemon_start(&o);
		alive[k] = up = ds[k] != NULL;
	}
	ASSERT_TRUE(up);
	if (up)
		run(argv[2], ds, alive);
	for (int k = DAEMONS - 1; k >= 0; k--)
		if (ds[k])
			ASSERT_EQ_INT(daemon_stop(ds[k]), 0);
	return test_done(name);
}
