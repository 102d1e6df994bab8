/* workload: the worker runs of test-workers.c and test-crash.c on top of
 * apitest.h: a keep-alive libcurl client per worker thread, worker threads
 * that loop suggest -> (measurements) -> complete on one study until its
 * budget is spent, and the checks made after such a run. Every allocation
 * is freed by the function that made it. */
#include "workload.h"

#include <curl/curl.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "curlbuf.h"

/* This file and the test's share one pair of counters (test.h). */
int test_failures;
int test_checks;

/* ---------------------------------------------------------------- client */

/* The daemon's URL changes when the crash test restarts it. */
static pthread_mutex_t url_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_url[64];

void set_url(const char *url)
{
	pthread_mutex_lock(&url_mu);
	snprintf(g_url, sizeof(g_url), "%s", url);
	pthread_mutex_unlock(&url_mu);
}

/* One worker's keep-alive connection. */
struct client {
	CURL *h;
	struct curl_slist *hdrs;
	struct curlbuf body;
};

static void client_init(struct client *c)
{
	memset(c, 0, sizeof(*c));
	c->h = curl_easy_init();
	c->hdrs = curl_slist_append(NULL, "Authorization: Bearer " HARNESS_ADMIN_KEY);
	c->hdrs = curl_slist_append(c->hdrs, "Content-Type: application/json");
	c->hdrs = curl_slist_append(c->hdrs, "Expect:");
}

static void client_free(struct client *c)
{
	curl_slist_free_all(c->hdrs);
	curl_easy_cleanup(c->h);
	curlbuf_free(&c->body);
}

/* Returns the HTTP status (0 on a transport failure); *out is the parsed
 * body (new reference) or NULL. */
static long client_call(struct client *c, const char *method, const char *path, const char *body,
                        json_t **out)
{
	char url[600];
	long status = 0;
	pthread_mutex_lock(&url_mu);
	snprintf(url, sizeof(url), "%s%s", g_url, path);
	pthread_mutex_unlock(&url_mu);
	curlbuf_clear(&c->body);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, curlbuf_write);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &c->body);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	if (curl_easy_perform(c->h) == CURLE_OK)
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	if (out)
		*out = status && c->body.data ? json_loads(c->body.data, 0, NULL) : NULL;
	return status;
}

static const char *err_status(const json_t *j)
{
	const char *s = json_string_value(json_object_get(json_object_get(j, "error"), "status"));
	return s ? s : "";
}

static const char *err_message(const json_t *j)
{
	const char *s = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	return s ? s : "";
}

void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ a worker run */

static void run_error(struct run *r, const char *what, long status, const json_t *j)
{
	atomic_fetch_add(&r->errors, 1);
	pthread_mutex_lock(&r->mu);
	if (!r->first_error[0])
		snprintf(r->first_error, sizeof(r->first_error), "%s: status %ld %s: %s", what,
		         status, err_status(j), err_message(j));
	pthread_mutex_unlock(&r->mu);
}

/* The objective: a smooth function of the parameters, so that GP-EI has
 * something to model; the parameters are read back from the trial. */
static double objective(const json_t *trial)
{
	double v = 0;
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(trial, "parameters"), i, p)
	{
		double x = json_number_value(json_object_get(p, "value"));
		v -= (x - 0.3) * (x - 0.3) * (double)(i + 1);
	}
	return v;
}

/* Sends one call until it gets an answer: transport failures are retried
 * in the crash test (the same body: the server must make that safe). */
static long call_retry(struct run *r, struct client *c, const char *method, const char *path,
                       const char *body, json_t **out)
{
	for (int attempt = 0;; attempt++) {
		long st = client_call(c, method, path, body, out);
		atomic_fetch_add(&r->calls, 1);
		if (st != 0 || !r->crash || attempt > 2000)
			return st;
		sleep_ms(10);
	}
}

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct run *r = wa->r;
	struct client c;
	char path[256], body[512], id[32];
	client_init(&c);
	for (int iter = 0; iter < 100000 && atomic_load(&r->errors) < 20; iter++) {
		json_t *op = NULL, *res = NULL;
		snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials:suggest", r->study);
		snprintf(body, sizeof(body), "{\"suggestionCount\":1,\"clientId\":\"w%d\"}",
		         wa->index);
		long st = call_retry(r, &c, "POST", path, body, &op);
		if (st == 400 && strcmp(err_status(op), "FAILED_PRECONDITION") == 0) {
			atomic_fetch_add(&r->done, 1);
			json_decref(op);
			break;
		}
		json_t *t = json_array_get(op_trials(op), 0);
		if (st != 200 || json_array_size(op_trials(op)) != 1 || !t) {
			run_error(r, "suggest", st, op);
			json_decref(op);
			continue;
		}
		snprintf(id, sizeof(id), "%s", jstr(t, "id"));
		double v = objective(t);
		int ok = 1;
		for (int k = 1; k <= r->measure && ok; k++) {
			snprintf(path, sizeof(path),
			         "/v1/owners/t/studies/%s/trials/%s:addTrialMeasurement", r->study,
			         id);
			snprintf(body, sizeof(body),
			         "{\"measurement\":{\"stepCount\":%d,\"metrics\":[{\"metricId\":"
			         "\"obj\",\"value\":%.17g}]}}",
			         k, v - 1.0 / k);
			st = call_retry(r, &c, "POST", path, body, &res);
			if (st != 200) {
				run_error(r, "addTrialMeasurement", st, res);
				ok = 0;
			}
			json_decref(res);
			res = NULL;
		}
		snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials/%s:complete", r->study,
		         id);
		snprintf(
		    body, sizeof(body),
		    "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"obj\",\"value\":%.17g}]}}",
		    v);
		st = ok ? call_retry(r, &c, "POST", path, body, &res) : 0;
		if (ok && (st != 200 || strcmp(jstr(res, "state"), "SUCCEEDED") != 0))
			run_error(r, "complete", st, res);
		if (ok && st == 200) {
			pthread_mutex_lock(&r->mu);
			if (r->n_acks < MAX_ACKS)
				r->acks[r->n_acks++] = (struct ack){strtoll(id, NULL, 10), v};
			pthread_mutex_unlock(&r->mu);
		}
		json_decref(res);
		json_decref(op);
	}
	client_free(&c);
	return NULL;
}

void run_workers(struct run *r, pthread_t *th, struct worker_arg *wa)
{
	for (int i = 0; i < r->workers; i++) {
		wa[i] = (struct worker_arg){r, i};
		pthread_create(&th[i], NULL, worker, &wa[i]);
	}
}

void join_workers(struct run *r, pthread_t *th)
{
	for (int i = 0; i < r->workers; i++)
		pthread_join(th[i], NULL);
}

/* The checks after a run: no errors, exactly `budget` trials, all
 * SUCCEEDED with the value their 200 acknowledged, each acknowledged once,
 * no two with the same parameters, the study COMPLETED and suggest refused. */
void check_run(struct daemon *d, struct run *r, int budget)
{
	char path[256];
	ASSERT_EQ_INT(atomic_load(&r->errors), 0);
	if (r->first_error[0])
		fprintf(stderr, "first error: %s\n", r->first_error);
	ASSERT_EQ_INT(atomic_load(&r->done), r->workers);
	ASSERT_EQ_INT(r->n_acks, budget);
	qsort(r->acks, r->n_acks, sizeof(r->acks[0]), ack_cmp);
	for (size_t i = 1; i < r->n_acks; i++) {
		if (r->acks[i].trial == r->acks[i - 1].trial)
			TEST_FAIL("trial %lld was completed twice with a 200",
			          (long long)r->acks[i].trial);
	}
	snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials?pageSize=1000", r->study);
	json_t *list = CALL(d, "GET", path, NULL, 200);
	json_t *trials = json_object_get(list, "trials");
	ASSERT_EQ_INT(json_array_size(trials), budget);
	ASSERT_TRUE(json_object_get(list, "nextPageToken") == NULL);
	struct trial_check c;
	ASSERT_EQ_INT(trial_check(trials, r->acks, r->n_acks, &c), 0);
	ASSERT_EQ_INT(c.bad_state, 0);
	ASSERT_EQ_INT(c.bad_value, 0);
	ASSERT_EQ_INT(c.unacked, 0);
	ASSERT_EQ_INT(c.dups, 0);
	json_decref(list);

	snprintf(path, sizeof(path), "/v1/owners/t/studies/%s", r->study);
	json_t *s = CALL(d, "GET", path, NULL, 200);
	ASSERT_EQ_STR(jstr(s, "state"), "COMPLETED");
	json_decref(s);
	snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials:suggest", r->study);
	REJECT(d, "POST", path, "{\"suggestionCount\":1,\"clientId\":\"late\"}", 400,
	       "FAILED_PRECONDITION", "maxNumTrials");
}

/* No daemon log of any run on d mentions a locked database. */
void check_logs(const struct daemon *d)
{
	DIR *dir = opendir(d->dir);
	struct dirent *de;
	int seen = 0;
	while (dir && (de = readdir(dir))) {
		char p[600], line[4096];
		if (strncmp(de->d_name, "stderr", 6) != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", d->dir, de->d_name);
		FILE *f = fopen(p, "r");
		seen++;
		while (f && fgets(line, sizeof(line), f)) {
			if (strstr(line, "database is locked") || strstr(line, "SQLITE_BUSY"))
				TEST_FAIL("daemon log %s: %s", de->d_name, line);
		}
		if (f)
			fclose(f);
	}
	if (dir)
		closedir(dir);
	ASSERT_TRUE(seen > 0);
}

const char *spec_budget(char *buf, size_t cap, const char *algorithm, int dims, int budget,
                        const char *extra)
{
	size_t n = (size_t)snprintf(buf, cap,
	                            "{\"algorithm\":\"%s\",\"metrics\":[{\"metricId\":"
	                            "\"obj\",\"goal\":\"MAXIMIZE\"}],\"parameters\":[",
	                            algorithm);
	for (int i = 0; i < dims && n < cap; i++)
		n += (size_t)snprintf(
		    buf + n, cap - n,
		    "%s{\"parameterId\":\"x%d\",\"doubleValueSpec\":{\"minValue\":0,"
		    "\"maxValue\":1}}",
		    i ? "," : "", i);
	if (n < cap)
		snprintf(buf + n, cap - n, "],\"studyStoppingConfig\":{\"maxNumTrials\":%d}%s%s}",
		         budget, extra && *extra ? "," : "", extra ? extra : "");
	return buf;
}

void many_workers(struct daemon *d, const char *study, const char *algorithm, int workers,
                  int budget, int measure)
{
	char spec[2048];
	struct run *r = calloc(1, sizeof(*r));
	pthread_t *th = calloc((size_t)workers, sizeof(*th));
	struct worker_arg *wa = calloc((size_t)workers, sizeof(*wa));
	create_study(d, study, spec_budget(spec, sizeof(spec), algorithm, 3, budget, NULL));
	r->study = study;
	r->workers = workers;
	r->measure = measure;
	pthread_mutex_init(&r->mu, NULL);
	run_workers(r, th, wa);
	join_workers(r, th);
	check_run(d, r, budget);
	pthread_mutex_destroy(&r->mu);
	free(th);
	free(wa);
	free(r);
}

json_t *suggest_one(struct daemon *d, const char *study, const char *client)
{
	json_t *op = suggest(d, study, 1, client, 200);
	json_t *t = json_incref(json_array_get(op_trials(op), 0));
	json_decref(op);
	if (!t)
		TEST_FAIL("suggest for %s gave no trial", client);
	return t;
}

char *params_of(const json_t *t)
{
	return json_dumps(json_object_get(t, "parameters"), JSON_SORT_KEYS);
}

void measure(struct daemon *d, const char *study, const char *id, int step, double v, long want)
{
	char path[256], body[256];
	snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials/%s:addTrialMeasurement", study,
	         id);
	snprintf(body, sizeof(body),
	         "{\"measurement\":{\"stepCount\":%d,\"metrics\":[{\"metricId\":\"obj\",\"value\":"
	         "%.17g}]}}",
	         step, v);
	json_decref(CALL(d, "POST", path, body, want));
}

/* The rows of the trials and measurements tables in db_dump's canonical
 * text: what a retried call must not change (other tables, such as an
 * audit log of requests, may). malloc'd; NULL on error. */
char *dump_trials(const char *db_path)
{
	char *all = db_dump(db_path), *out;
	if (!all)
		return NULL;
	size_t n = strlen(all), len = 0;
	out = malloc(n + 1);
	int keep = 0;
	for (char *line = all; out && *line;) {
		char *end = strchr(line, '\n');
		size_t l = end ? (size_t)(end - line) + 1 : strlen(line);
		if (strncmp(line, "table ", 6) == 0)
			keep = strncmp(line, "table trials ", 13) == 0 ||
			       strncmp(line, "table measurements ", 19) == 0;
		if (keep) {
			memcpy(out + len, line, l);
			len += l;
		}
		line += l;
	}
	if (out)
		out[len] = '\0';
	free(all);
	return out;
}

/* Owner "t" of every test study: created by the admin where owners are
 * explicit (ALREADY_EXISTS is fine; so is UNIMPLEMENTED from a server
 * that creates owners with their first study). */
void ensure_owner(struct daemon *d)
{
	struct reply r;
	test_checks++;
	if (http_call(d, "POST", "/v1/owners", "{\"ownerId\":\"t\"}", NULL, &r) != 0 ||
	    (r.status != 200 && r.status != 409 && r.status != 501))
		TEST_FAIL("creating owner t: status %ld: %s", r.status, r.body ? r.body : "");
	reply_free(&r);
}

double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
