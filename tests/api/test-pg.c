/* test-pg: what only the PostgreSQL backend does, on a real cluster that
 * tests/common/pgcluster.sh starts and removes (run as pg-cluster):
 * - three daemons starting together on an empty database apply each
 *   migration once (one of them does, under the advisory lock);
 * - a database whose schema is newer than the binary is refused with a
 *   clear message;
 * - a role that does not own the database is told so at start-up;
 * - the URI's password never reaches the log;
 * - a daemon opens at most --db-pool connections (three times that while
 *   suggests hold planning sections), however many requests on however
 *   many studies run at once;
 * - a database that refuses writes (a standby; here read-only by default)
 *   gives 503 with Retry-After for writes and a /healthz not ready, reads
 *   still work, and all recovers by itself when it takes writes again;
 *   sessions cut by the admin (pg_terminate_backend) are replaced;
 * - PostgreSQL stopped and started again while a daemon serves a worker:
 *   503 UNAVAILABLE with Retry-After while it is down, then the daemon
 *   recovers by itself, and every acknowledged complete is there. */
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apitest.h"

extern char **environ;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Occurrences of needle in the file at path. */
static int count_in_file(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* ---- migrations: once for three daemons starting together ---- */

struct starter {
	const char *url;
	struct daemon *d;
};

static void *start_one(void *arg)
{
	struct starter *s = arg;
	struct daemon_opts o = {.db_path = s->url};
	s->d = daemon_start(&o);
	return NULL;
}

static void test_migrations_once(void)
{
	char url[512], n[64] = "";
	ASSERT_EQ_INT(harness_pg_fresh(url, sizeof(url)), 0);
	struct starter s[3] = {{url, NULL}, {url, NULL}, {url, NULL}};
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, start_one, &s[i]);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	int applied = 0;
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(s[i].d != NULL);
		if (!s[i].d)
			continue;
		applied += count_in_file(s[i].d->stderr_path, "event=migration ");
		CALL_OK(s[i].d, "GET", "/healthz", NULL);
	}
	ASSERT_EQ_INT(harness_pg_exec(url, "SELECT count(*) FROM schema_migrations", n, sizeof(n)),
	              0);
	/* Each migration recorded once and applied by exactly one daemon. */
	ASSERT_TRUE(atoi_safe(n) >= 1);
	ASSERT_EQ_INT(applied, atoi_safe(n));
	/* The three serve one database: an owner made on one is seen by the others. */
	if (s[0].d && s[1].d && s[2].d) {
		create_owner(s[0].d, "t");
		CALL_OK(s[1].d, "GET", "/v1/owners/t", NULL);
		CALL_OK(s[2].d, "GET", "/v1/owners/t", NULL);
	}
	for (int i = 0; i < 3; i++)
		if (s[i].d)
			ASSERT_EQ_INT(daemon_stop(s[i].d), 0);
}

/* ---- the URI's password stays out of the log ---- */

static void test_password_hidden(void)
{
	char url[512], secret_url[600];
	ASSERT_EQ_INT(harness_pg_fresh(url, sizeof(url)), 0);
	/* postgresql:///NAME?host=DIR&user=sibyl -> with a user and password
	 * (trust authentication ignores it) */
	const char *name = url + strlen("postgresql:///");
	snprintf(secret_url, sizeof(secret_url), "postgresql://sibyl:s3cret-pw@/%.*s",
	         (int)strcspn(name, "&"), name);
	struct daemon_opts o = {.db_path = secret_url};
	struct daemon *d = daemon_start(&o);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return;
	CALL_OK(d, "GET", "/healthz", NULL);
	ASSERT_EQ_INT(count_in_file(d->stderr_path, "s3cret-pw"), 0);
	ASSERT_EQ_INT(count_in_file(d->stderr_path, "postgresql://sibyl:***@"), 1);
	ASSERT_EQ_INT(daemon_stop(d), 0);
}

/* ---- the pool: at most --db-pool connections per daemon ---- */

struct hammer {
	struct daemon *d;
	int i;
	int errors;
};

/* Writes and reads on ten studies at once. */
static void *hammer(void *arg)
{
	struct hammer *h = arg;
	char study[16], path[128];
	snprintf(study, sizeof(study), "p%d", h->i % 10);
	snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials", study);
	char sp[160], client[64];
	snprintf(sp, sizeof(sp), "%s:suggest", path);
	snprintf(client, sizeof(client), "{\"suggestionCount\":1,\"clientId\":\"h%d\"}", h->i);
	for (int k = 0; k < 30; k++) {
		struct reply r;
		/* a trial made, the list read, a suggestion asked for */
		const char *method = k % 3 == 1 ? "GET" : "POST";
		const char *to = k % 3 == 2 ? sp : path;
		const char *body = k % 3 == 0
		                       ? "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.5}]}"
		                   : k % 3 == 2 ? client
		                                : NULL;
		int bad = http_call(h->d, method, to, body, NULL, &r) != 0 || r.status != 200;
		if (bad)
			fprintf(stderr, "hammer: %ld %s\n", r.status, r.body ? r.body : "");
		h->errors += bad;
		reply_free(&r);
	}
	return NULL;
}

static void test_pool_bound(void)
{
	char url[512], admin[600], sql[700], n[32];
	ASSERT_EQ_INT(harness_pg_fresh(url, sizeof(url)), 0);
	const char *args[] = {"--db-pool", "2", "--threads", "16", NULL};
	struct daemon_opts o = {.db_path = url, .args = args};
	struct daemon *d = daemon_start(&o);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return;
	create_owner(d, "t");
	for (int i = 0; i < 10; i++) {
		char name[16];
		snprintf(name, sizeof(name), "p%d", i);
		create_study(d, name, SPEC_RANDOM);
	}
	struct hammer h[16];
	pthread_t th[16];
	for (int i = 0; i < 16; i++) {
		h[i] = (struct hammer){d, i, 0};
		pthread_create(&th[i], NULL, hammer, &h[i]);
	}
	/* Sample the server's sessions of this database while they run. */
	snprintf(admin, sizeof(admin), "postgresql:///postgres?host=%s&user=sibyl",
	         getenv("SIBYL_TEST_PG"));
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sibyld' AND "
	         "datname = '%.*s'",
	         (int)strcspn(url + strlen("postgresql:///"), "?"), url + strlen("postgresql:///"));
	long most = 0;
	for (int k = 0; k < 40; k++) {
		if (harness_pg_exec(admin, sql, n, sizeof(n)) == 0 && atoi_safe(n) > most)
			most = atoi_safe(n);
		usleep(10000);
	}
	int errors = 0;
	for (int i = 0; i < 16; i++) {
		pthread_join(th[i], NULL);
		errors += h[i].errors;
	}
	ASSERT_EQ_INT(errors, 0);
	fprintf(stderr, "pool: at most %ld sessions seen\n", most);
	/* The pool's 2; a thread that holds one (only the first of a thread
	 * waits for the pool) may open two more past the size: a suggest's
	 * leader holds its read snapshot, the study's planning section and its
	 * write transaction at once. So at most 3 x 2 (5 was seen). */
	ASSERT_TRUE(most >= 1);
	ASSERT_TRUE(most <= 6);
	json_t *l = CALL(d, "GET", "/v1/owners/t/studies/p3/trials?pageSize=1000", NULL, 200);
	ASSERT_TRUE(json_array_size(json_object_get(l, "trials")) >= 13);
	json_decref(l);
	ASSERT_EQ_INT(daemon_stop(d), 0);
}

/* ---- a database that takes no writes, sessions cut by the admin ---- */

/* Runs sql on the cluster's maintenance database; 0 or -1. */
static int admin_sql(const char *sql)
{
	char admin[600];
	snprintf(admin, sizeof(admin), "postgresql:///postgres?host=%s&user=sibyl",
	         getenv("SIBYL_TEST_PG"));
	return harness_pg_exec(admin, sql, NULL, 0);
}

/* Cuts every session of database name (as an admin's
 * pg_terminate_backend, or a failover, would). */
static void cut_sessions(const char *name)
{
	char sql[300];
	snprintf(sql, sizeof(sql),
	         "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
	         "WHERE datname = '%s' AND pid <> pg_backend_pid()",
	         name);
	ASSERT_EQ_INT(admin_sql(sql), 0);
}

static long status_of(struct daemon *d, const char *method, const char *path, const char *body,
                      int *retry_after)
{
	struct reply r;
	long st = http_call(d, method, path, body, NULL, &r) == 0 ? r.status : 0;
	if (retry_after)
		*retry_after = r.retry_after[0] != '\0';
	reply_free(&r);
	return st;
}

static void test_read_only(void)
{
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return;
	char name[64], sql[200];
	const char *n0 = d->db_path + strlen("postgresql:///");
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(n0, "?"), n0);
	create_owner(d, "t");
	create_study(d, "r", SPEC_RANDOM);
	const char *trial = "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.5}]}";

	/* Writes refused by the server (a standby, a read-only database). */
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s SET default_transaction_read_only = on",
	         name);
	ASSERT_EQ_INT(admin_sql(sql), 0);
	cut_sessions(name);
	int ra = 0;
	ASSERT_EQ_INT(status_of(d, "GET", "/v1/owners/t/studies/r", NULL, NULL), 200);
	ASSERT_EQ_INT(status_of(d, "POST", "/v1/owners/t/studies/r/trials", trial, &ra), 503);
	ASSERT_TRUE(ra);
	ASSERT_EQ_INT(status_of(d, "GET", "/healthz", NULL, NULL), 503);

	/* Writable again: the daemon recovers by itself (the health probe
	 * writes at most once a second). */
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s RESET default_transaction_read_only", name);
	ASSERT_EQ_INT(admin_sql(sql), 0);
	cut_sessions(name);
	ASSERT_EQ_INT(status_of(d, "POST", "/v1/owners/t/studies/r/trials", trial, NULL), 200);
	long health = 0;
	for (int i = 0; i < 30 && health != 200; i++) {
		usleep(100000);
		health = status_of(d, "GET", "/healthz", NULL, NULL);
	}
	ASSERT_EQ_INT(health, 200);
	json_t *l = CALL(d, "GET", "/v1/owners/t/studies/r/trials", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(l, "trials")), 1);
	json_decref(l);
	ASSERT_EQ_INT(daemon_stop(d), 0);
}

/* ---- a database newer than the binary ---- */

/* Runs sibyld on url until it exits (at most 20 s); its exit status, its
 * stderr in err. */
static int run_sibyld(const char *url, char *err, size_t errlen)
{
	char log[] = "/tmp/sibyl-pg-test-XXXXXX";
	int fd = mkstemp(log);
	if (fd < 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	char *argv[] = {getenv("SIBYLD"), "--listen", "127.0.0.1:0", "--db", (char *)url, NULL};
	char key[] = "SIBYL_ADMIN_KEY=" HARNESS_ADMIN_KEY;
	char *envp[] = {key, NULL};
	pid_t pid;
	int status = -1;
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, envp) == 0) {
		double until = now_s() + 20;
		while (waitpid(pid, &status, WNOHANG) == 0) {
			if (now_s() > until) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				status = -1;
				break;
			}
			usleep(20000);
		}
	}
	posix_spawn_file_actions_destroy(&fa);
	ssize_t n = pread(fd, err, errlen - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(log);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_newer_refused(void)
{
	char url[512], err[8192], before[64] = "", after[64] = "";
	ASSERT_EQ_INT(harness_pg_fresh(url, sizeof(url)), 0);
	struct daemon_opts o = {.db_path = url};
	struct daemon *d = daemon_start(&o);
	ASSERT_TRUE(d != NULL);
	if (d)
		ASSERT_EQ_INT(daemon_stop(d), 0);
	ASSERT_EQ_INT(harness_pg_exec(url,
	                              "INSERT INTO schema_migrations(version, name, applied_at) "
	                              "VALUES (9999, 'future', 0)",
	                              NULL, 0),
	              0);
	harness_pg_exec(url, "SELECT count(*) FROM schema_migrations", before, sizeof(before));
	int rc = run_sibyld(url, err, sizeof(err));
	ASSERT_TRUE(rc > 0);
	EXPECT_IN(err, "schema version 9999, newer than this sibyld knows");
	EXPECT_IN(err, "run a newer sibyld");
	/* Refused without touching it. */
	harness_pg_exec(url, "SELECT count(*) FROM schema_migrations", after, sizeof(after));
	ASSERT_TRUE(strcmp(before, after) == 0);
}

/* A role that does not own the database: sibyld says so at start-up
 * (not only "internal error") and creates nothing. */
static void test_not_owner(void)
{
	char url[512], guest[600], err[8192], n[32] = "";
	ASSERT_EQ_INT(harness_pg_fresh(url, sizeof(url)), 0);
	harness_pg_exec(url, "CREATE ROLE guest LOGIN", NULL, 0); /* once per cluster */
	const char *u = strstr(url, "user=sibyl");
	ASSERT_TRUE(u != NULL);
	if (!u)
		return;
	snprintf(guest, sizeof(guest), "%.*suser=guest%s", (int)(u - url), url,
	         u + strlen("user=sibyl"));
	int rc = run_sibyld(guest, err, sizeof(err));
	ASSERT_TRUE(rc > 0);
	EXPECT_IN(err, "the database refused sibyld's role: ERROR:  permission denied");
	EXPECT_IN(err, "must own the database");
	ASSERT_EQ_INT(harness_pg_exec(url,
	                              "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
	                              n, sizeof(n)),
	              0);
	ASSERT_EQ_STR(n, "0");
}

/* ---- PostgreSQL stopped and started while a daemon serves ---- */

#define ACKS_WANTED 60

struct worker {
	struct daemon *d;
	int acked[ACKS_WANTED];
	int n_acked;
	int unavailable; /* 503s seen (all with Retry-After) */
	int bad;         /* answers other than 200 and 503 + Retry-After */
};

/* One call until it answers 200 (503 + Retry-After: again, after 50 ms);
 * the 200 body's JSON, or NULL when the time ran out. */
static json_t *until_ok(struct worker *w, const char *path, const char *body, double until)
{
	while (now_s() < until) {
		struct reply r;
		if (http_call(w->d, "POST", path, body, NULL, &r) != 0) {
			w->bad++;
			return NULL;
		}
		if (r.status == 200) {
			json_t *j = json_incref(r.json);
			reply_free(&r);
			return j;
		}
		if (r.status == 503 && r.retry_after[0])
			w->unavailable++;
		else {
			fprintf(stderr, "worker: %ld %s\n", r.status, r.body);
			w->bad++;
		}
		reply_free(&r);
		usleep(50000);
	}
	return NULL;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	const char *sp = "/v1/owners/t/studies/r/trials:suggest";
	double until = now_s() + 60;
	while (w->n_acked < ACKS_WANTED && now_s() < until && w->bad == 0) {
		json_t *op = until_ok(w, sp, "{\"suggestionCount\":1,\"clientId\":\"w\"}", until);
		const char *id = jstr(json_array_get(op_trials(op), 0), "id");
		char path[128], body[160];
		snprintf(path, sizeof(path), "/v1/owners/t/studies/r/trials/%s:complete", id);
		snprintf(
		    body, sizeof(body),
		    "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":%d}]}}",
		    w->n_acked);
		json_t *t = *id ? until_ok(w, path, body, until) : NULL;
		if (t)
			w->acked[w->n_acked++] = (int)atoi_safe(id);
		json_decref(t);
		json_decref(op);
		usleep(20000); /* about 25 completes a second: the restart falls mid-run */
	}
	return NULL;
}

static int cluster(const char *verb)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "\"%s\" %s \"%s\"", getenv("PGCLUSTER"), verb,
	         getenv("SIBYL_TEST_PG"));
	return system(cmd);
}

static void test_restart(void)
{
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return;
	create_owner(d, "t");
	create_study(d, "r", SPEC_RANDOM);
	struct worker w = {.d = d};
	pthread_t th;
	pthread_create(&th, NULL, work, &w);
	while (w.n_acked < 10 && w.bad == 0)
		usleep(20000);

	ASSERT_EQ_INT(cluster("stop"), 0);
	/* Down: a read and a write answer 503 with Retry-After, /healthz too. */
	struct reply r;
	ASSERT_EQ_INT(http_call(d, "GET", "/v1/owners/t/studies/r", NULL, NULL, &r), 0);
	ASSERT_EQ_INT(r.status, 503);
	ASSERT_TRUE(r.retry_after[0] != '\0');
	EXPECT_IN(r.body, "UNAVAILABLE");
	reply_free(&r);
	ASSERT_EQ_INT(http_call(d, "POST", "/v1/owners/t/studies",
	                        "{\"displayName\":\"x\",\"studySpec\":" SPEC_RANDOM "}", NULL, &r),
	              0);
	ASSERT_EQ_INT(r.status, 503);
	ASSERT_TRUE(r.retry_after[0] != '\0');
	reply_free(&r);
	ASSERT_EQ_INT(http_call(d, "GET", "/healthz", NULL, "", &r), 0);
	ASSERT_EQ_INT(r.status, 503);
	reply_free(&r);
	usleep(500000);

	ASSERT_EQ_INT(cluster("restart"), 0);
	pthread_join(th, NULL);
	ASSERT_EQ_INT(w.bad, 0);
	ASSERT_EQ_INT(w.n_acked, ACKS_WANTED);
	ASSERT_TRUE(w.unavailable > 0);
	/* Recovered by itself, and every acknowledged complete is there. */
	CALL_OK(d, "GET", "/healthz", NULL);
	for (int i = 0; i < w.n_acked; i++) {
		char path[128];
		snprintf(path, sizeof(path), "/v1/owners/t/studies/r/trials/%d", w.acked[i]);
		json_t *t = CALL(d, "GET", path, NULL, 200);
		ASSERT_TRUE(strcmp(jstr(t, "state"), "SUCCEEDED") == 0);
		json_decref(t);
	}
	/* The study made while the database was down was not made. */
	json_decref(CALL(d, "GET", "/v1/owners/t/studies/x", NULL, 404));
	ASSERT_EQ_INT(daemon_stop(d), 0);
}

int main(void)
{
	if (!getenv("SIBYL_TEST_PG") || !getenv("PGCLUSTER")) {
		fprintf(stderr,
		        "pg-cluster: run by tests/common/pgcluster.sh run (meson: pg-cluster)\n");
		return 77;
	}
	test_migrations_once();
	test_newer_refused();
	test_not_owner();
	test_password_hidden();
	test_pool_bound();
	test_read_only();
	test_restart();
	return test_done("pg-cluster");
}
