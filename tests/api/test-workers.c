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
 *  3. kill -9 during such a run, several times, restarting on the same
 *     database: every complete that got a 200 is there, PRAGMA
 *     integrity_check is ok after every kill, and the run reaches its
 *     budget.
 *  4. Idempotency: a retried complete or measurement changes the trial once.
 *  5. The median stopping rule end to end (checkTrialEarlyStoppingState).
 *
 * Workers retry transport failures (the crash test) and nothing else: any
 * status but 200, or FAILED_PRECONDITION at the end of the budget, is an
 * error that fails the test. */
#include <curl/curl.h>
#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "apitest.h"

/* ---------------------------------------------------------------- client */

/* The daemon's URL changes when the crash test restarts it. */
static pthread_mutex_t url_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_url[64];

static void set_url(const char *url)
{
	pthread_mutex_lock(&url_mu);
	snprintf(g_url, sizeof(g_url), "%s", url);
	pthread_mutex_unlock(&url_mu);
}

/* One worker's keep-alive connection. */
struct client {
	CURL *h;
	struct curl_slist *hdrs;
	char *buf;
	size_t len, cap;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct client *c = ud;
	size_t add = sz * n;
	if (c->len + add + 1 > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		while (cap < c->len + add + 1)
			cap *= 2;
		char *nb = realloc(c->buf, cap);
		if (!nb)
			return 0;
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, add);
	c->len += add;
	c->buf[c->len] = '\0';
	return add;
}

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
	free(c->buf);
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
	c->len = 0;
	if (c->buf)
		c->buf[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	if (curl_easy_perform(c->h) == CURLE_OK)
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	if (out)
		*out = status && c->buf ? json_loads(c->buf, 0, NULL) : NULL;
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

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ a worker run */

#define MAX_ACKS 4096

struct ack {
	int64_t trial;
	double value;
};

struct run {
	const char *study;
	int workers;
	int crash;       /* 1: retry transport failures (the daemon is being killed) */
	int measure;     /* measurements to report before each complete */
	atomic_int done; /* workers that saw the end of the budget */
	atomic_int errors;
	atomic_long calls;
	pthread_mutex_t mu;
	char first_error[600];
	struct ack acks[MAX_ACKS]; /* completes that got a 200 */
	size_t n_acks;
};

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

struct worker_arg {
	struct run *r;
	int index;
};

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

static void run_workers(struct run *r, pthread_t *th, struct worker_arg *wa)
{
	for (int i = 0; i < r->workers; i++) {
		wa[i] = (struct worker_arg){r, i};
		pthread_create(&th[i], NULL, worker, &wa[i]);
	}
}

static void join_workers(struct run *r, pthread_t *th)
{
	for (int i = 0; i < r->workers; i++)
		pthread_join(th[i], NULL);
}

static int cmp_ack(const void *a, const void *b)
{
	const struct ack *x = a, *y = b;
	return x->trial < y->trial ? -1 : x->trial > y->trial;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The checks after a run: no errors, exactly `budget` trials, all
 * SUCCEEDED with the value their 200 acknowledged, each acknowledged once,
 * no two with the same parameters, the study COMPLETED and suggest refused. */
static void check_run(struct daemon *d, struct run *r, int budget)
{
	char path[256];
	ASSERT_EQ_INT(atomic_load(&r->errors), 0);
	if (r->first_error[0])
		fprintf(stderr, "first error: %s\n", r->first_error);
	ASSERT_EQ_INT(atomic_load(&r->done), r->workers);
	ASSERT_EQ_INT(r->n_acks, budget);
	qsort(r->acks, r->n_acks, sizeof(r->acks[0]), cmp_ack);
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
	size_t n = json_array_size(trials);
	char **params = calloc(n + 1, sizeof(char *));
	size_t bad_state = 0, bad_value = 0, unacked = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *t = json_array_get(trials, i);
		params[i] = json_dumps(json_object_get(t, "parameters"), JSON_SORT_KEYS);
		if (strcmp(jstr(t, "state"), "SUCCEEDED") != 0)
			bad_state++;
		struct ack key = {strtoll(jstr(t, "id"), NULL, 10), 0};
		struct ack *a = bsearch(&key, r->acks, r->n_acks, sizeof(key), cmp_ack);
		json_t *m = json_array_get(
		    json_object_get(json_object_get(t, "finalMeasurement"), "metrics"), 0);
		if (!a)
			unacked++;
		else if (json_number_value(json_object_get(m, "value")) != a->value)
			bad_value++;
	}
	ASSERT_EQ_INT(bad_state, 0);
	ASSERT_EQ_INT(bad_value, 0);
	ASSERT_EQ_INT(unacked, 0);
	qsort(params, n, sizeof(char *), cmp_str);
	size_t dups = 0;
	for (size_t i = 1; i < n; i++)
		dups += params[i] && params[i - 1] && strcmp(params[i], params[i - 1]) == 0;
	ASSERT_EQ_INT(dups, 0);
	for (size_t i = 0; i < n; i++)
		free(params[i]);
	free(params);
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
static void check_logs(const struct daemon *d)
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

static const char *spec_budget(char *buf, size_t cap, const char *algorithm, int dims, int budget,
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

static void many_workers(struct daemon *d, const char *study, const char *algorithm, int workers,
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

/* ------------------------------------------------------------------ leases */

static json_t *suggest_one(struct daemon *d, const char *study, const char *client)
{
	json_t *op = suggest(d, study, 1, client, 200);
	json_t *t = json_incref(json_array_get(op_trials(op), 0));
	json_decref(op);
	if (!t)
		TEST_FAIL("suggest for %s gave no trial", client);
	return t;
}

static char *params_of(const json_t *t)
{
	return json_dumps(json_object_get(t, "parameters"), JSON_SORT_KEYS);
}

static void measure(struct daemon *d, const char *study, const char *id, int step, double v,
                    long want)
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

static void test_leases(struct daemon *d)
{
	char spec[2048], path[256], body[256];
	create_study(d, "lease",
	             spec_budget(spec, sizeof(spec), "RANDOM_SEARCH", 2, 100,
	                         "\"staleTrialTimeout\":\"1s\""));
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

	/* k reports every 200 ms for 2.4 s: two lease periods and more */
	for (int step = 1; step <= 12; step++) {
		measure(d, "lease", idk, step, 0.1 * step, 200);
		sleep_ms(200);
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

	/* every trial is accounted for: three, all SUCCEEDED, none twice */
	list = CALL(d, "GET", "/v1/owners/t/studies/lease/trials", NULL, 200);
	json_t *arr = json_object_get(list, "trials");
	ASSERT_EQ_INT(json_array_size(arr), 3);
	size_t i;
	json_t *t;
	json_array_foreach(arr, i, t)
	{
		ASSERT_EQ_STR(jstr(t, "state"), "SUCCEEDED");
	}
	json_decref(list);
	free(pa);
	free(pb);
	json_decref(ta);
	json_decref(tb);
	json_decref(tc);
	json_decref(tk);
}

/* ------------------------------------------------------------------- crash */

static void integrity_ok(const char *db_path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	test_checks++;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		TEST_FAIL("integrity_check on %s: %s", db_path, db ? sqlite3_errmsg(db) : "open");
	} else {
		const char *res = (const char *)sqlite3_column_text(st, 0);
		if (!res || strcmp(res, "ok") != 0)
			TEST_FAIL("integrity_check: %s", res ? res : "(null)");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static size_t acks_now(struct run *r)
{
	pthread_mutex_lock(&r->mu);
	size_t n = r->n_acks;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static void test_crash(struct daemon *d)
{
	enum { WORKERS = 16, BUDGET = 300, KILLS = 5 };
	char spec[2048];
	struct run *r = calloc(1, sizeof(*r));
	pthread_t th[WORKERS];
	struct worker_arg wa[WORKERS];
	create_study(d, "crash", spec_budget(spec, sizeof(spec), "RANDOM_SEARCH", 3, BUDGET, NULL));
	r->study = "crash";
	r->workers = WORKERS;
	r->crash = 1;
	r->measure = 2;
	pthread_mutex_init(&r->mu, NULL);
	run_workers(r, th, wa);
	/* kill at 10%, 25%, 40%, 55% and 70% of the budget: by progress, not
	 * by the clock, so that every kill lands while the workers are busy */
	int kills = 0;
	for (int k = 0; k < KILLS; k++) {
		size_t at = (size_t)BUDGET * (size_t)(10 + 15 * k) / 100;
		for (int waited = 0; acks_now(r) < at && waited < 60000; waited += 2)
			sleep_ms(2);
		size_t seen = acks_now(r);
		if (daemon_kill(d) != 0) {
			TEST_FAIL("kill %d failed", k);
			break;
		}
		kills++;
		integrity_ok(d->db_path);
		if (daemon_restart(d, NULL) != 0) {
			TEST_FAIL("restart %d failed", k);
			break;
		}
		set_url(d->url);
		fprintf(stderr, "kill %d at %zu acknowledged completes, restarted on %s\n", k, seen,
		        d->url);
	}
	ASSERT_EQ_INT(kills, KILLS);
	join_workers(r, th);
	check_run(d, r, BUDGET);
	fprintf(stderr, "crash run: %ld calls\n", atomic_load(&r->calls));
	pthread_mutex_destroy(&r->mu);
	free(r);
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
	char *before = db_dump(d->db_path);
	json_t *second = CALL(d, "POST", path, m, 200);
	char *after = db_dump(d->db_path);
	ASSERT_TRUE(before && after && strcmp(before, after) == 0);
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
	before = db_dump(d->db_path);
	second = CALL(d, "POST", path, c, 200);
	after = db_dump(d->db_path);
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
	/* until the rule is wired the server answers UNIMPLEMENTED: say so */
	create_study(d, "probe", SPEC_RANDOM);
	json_t *t = suggest_one(d, "probe", "p");
	char path[256];
	snprintf(path, sizeof(path),
	         "/v1/owners/t/studies/probe/trials/%s:checkTrialEarlyStoppingState",
	         jstr(t, "id"));
	json_decref(t);
	struct reply r;
	ASSERT_EQ_INT(http_call(d, "POST", path, "{}", NULL, &r), 0);
	long st = r.status;
	reply_free(&r);
	if (st == 501) {
		fprintf(stderr, "SKIP median rule end to end: the server answers UNIMPLEMENTED\n");
		return;
	}
	median_study(d, "median-steps", 0);
	median_study(d, "median-elapsed", 1);
}

int main(void)
{
	struct daemon *d = daemon_start(NULL);
	if (!d)
		return 1;
	set_url(d->url);
	test_idempotent(d);
	test_median_rule(d);
	test_leases(d);
	many_workers(d, "many", "RANDOM_SEARCH", 64, 500, 0);
	many_workers(d, "many-gp", "GAUSSIAN_PROCESS_EI", 16, 40, 1);
	test_crash(d);
	check_logs(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("test-workers");
}
