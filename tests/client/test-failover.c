/* Clients fail over between several servers (issue 14, "Clients fail
 * over"): two real sibyld on ONE SQLite file (docs/storage.md), on two
 * ports, and a URL list naming both.
 * - a list with an empty entry or a malformed URL is refused before
 *   anything is sent (libsibyl: NULL and sibyl_url_check's reason; the
 *   CLI: exit 1 with that reason, and the owner it was asked to create
 *   does not exist);
 * - a dead server first and a live one second: the call succeeds on its
 *   second attempt with no wait (the hook hears SWITCH, never START), and
 *   the next call goes straight to the live one (sticky); a trial create
 *   (never repeated once it may have reached a server) moves on too when
 *   the first server refused the connection; a 404 is the answer, never a
 *   reason to move on;
 * - every server down: ECONNECT naming each server, after the window, and
 *   the CLI says "no server available ... giving up" and exits 2;
 * - `sibyl run` of 12 trials with both URLs, the first daemon killed with
 *   SIGKILL mid-run: the run exits 0, 12 trials SUCCEEDED, each trial's
 *   command ran once and each trial was completed once. */
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <time.h>

#include <sibyl/sibyl.h>

#include "harness.h"
#include "proc.h"
#include "test.h"

#define RUN_TRIALS 12

static const char *cli_path;
static char dir[256];
static struct daemon *d1, *d2;
static char both[160]; /* "URL1,URL2" */
static char dead_first[160];
static char env_key[128];
/* a port nothing listens on: a refused connection */
static const char dead[] = "http://127.0.0.1:1";

static const char spec[] =
    "{\"metrics\":[{\"metricId\":\"loss\",\"goal\":\"MINIMIZE\"}],"
    "\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}],"
    "\"algorithm\":\"RANDOM_SEARCH\"}";

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int hook(const struct sibyl_wait *w, void *ud)
{
	int *events = ud;
	if (w->event > 0 && w->event < 8)
		events[w->event]++;
	return 0;
}

/* `sibyl --url URL ARGS...` (NULL-terminated), run to the end. */
static void cli(struct proc_out *o, const char *url, ...)
{
	const char *env[] = {env_key, "SIBYL_URL=", NULL};
	char *argv[32];
	int n = 0;
	va_list ap;
	argv[n++] = (char *)cli_path;
	argv[n++] = "--url";
	argv[n++] = (char *)url;
	va_start(ap, url);
	for (char *a; n < 31 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	proc_run(dir, argv, env, o);
}

static void check_refused(const char *list, const char *reason)
{
	char why[512] = "";
	ASSERT_EQ_INT(sibyl_url_check(list, why, sizeof why), -SIBYL_EUSAGE);
	if (!strstr(why, reason))
		TEST_FAIL("sibyl_url_check(\"%s\"): \"%s\" lacks \"%s\"", list, why, reason);
	ASSERT_TRUE(sibyl_client_new(list, "k") == NULL);
}

static void test_bad_lists(void)
{
	char list[200];
	snprintf(list, sizeof list, "%s,,%s", d1->url, d2->url);
	check_refused(list, "entry 2 is empty");
	snprintf(list, sizeof list, "%s,", d1->url);
	check_refused(list, "entry 2 is empty");
	check_refused(",http://127.0.0.1:1", "entry 1 is empty");
	check_refused("http://127.0.0.1:1, ", "entry 2 is empty");
	check_refused("http://127.0.0.1:1,127.0.0.1:2", "\"127.0.0.1:2\" must start with http://");
	check_refused("http://127.0.0.1:1,ftp://h", "\"ftp://h\" must start with http://");
	check_refused("http://:80", "\"http://:80\" has no host");
	check_refused("http://h:99999", "\"http://h:99999\" is malformed (bad port)");
	check_refused("http://h:1/x?y=1", "has a character that is not allowed");
	check_refused("", "no server URL");
	char why[64] = "x";
	snprintf(list, sizeof list, " %s/ , %s ", d1->url, d2->url);
	ASSERT_EQ_INT(sibyl_url_check(list, why, sizeof why), 0);
	ASSERT_EQ_STR(why, "");
	struct sibyl_client *c = sibyl_client_new(list, HARNESS_ADMIN_KEY);
	ASSERT_TRUE(c != NULL);
	sibyl_client_free(c);

	/* the CLI: a usage error, and nothing was created */
	struct proc_out o;
	snprintf(list, sizeof list, "%s,,%s", d1->url, d2->url);
	cli(&o, list, "owner", "create", "nobody", NULL);
	ASSERT_EQ_INT(o.status, 1);
	ASSERT_TRUE(strstr(o.err, "entry 2 is empty (from --url or SIBYL_URL)") != NULL);
	proc_free(&o);
	cli(&o, "http://127.0.0.1:1,localhost", "owner", "create", "nobody", NULL);
	ASSERT_EQ_INT(o.status, 1);
	ASSERT_TRUE(strstr(o.err, "\"localhost\" must start with http:// or https://") != NULL);
	proc_free(&o);
	cli(&o, both, "owner", "show", "nobody", NULL);
	ASSERT_EQ_INT(o.status, 3); /* not found: nothing was created */
	proc_free(&o);
}

/* A dead server first: the call moves on at once and the handle stays
 * with the live one. */
static void test_dead_first(void)
{
	struct sibyl_client *c = sibyl_client_new(dead_first, HARNESS_ADMIN_KEY);
	int events[8] = {0};
	struct sibyl_study *s = NULL;
	ASSERT_TRUE(c != NULL);
	if (!c)
		return;
	sibyl_client_set_retry_window(c, 300);
	sibyl_client_set_wait_hook(c, hook, events);
	ASSERT_EQ_INT(sibyl_study_create(c, "team", "fo", spec, &s), 0);
	ASSERT_EQ_INT(sibyl_errattempts(c), 2);
	ASSERT_EQ_INT(events[SIBYL_WAIT_SWITCH], 1);
	ASSERT_EQ_INT(events[SIBYL_WAIT_START], 0);
	sibyl_study_free(s);
	/* sticky: straight to the live one */
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/studies/fo", &s), 0);
	ASSERT_EQ_INT(sibyl_errattempts(c), 1);
	ASSERT_EQ_INT(events[SIBYL_WAIT_SWITCH], 1);
	sibyl_study_free(s);
	/* a 404 is an answer: no other server is asked */
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/studies/none", &s), -SIBYL_NOT_FOUND);
	ASSERT_EQ_INT(sibyl_errattempts(c), 1);
	sibyl_client_free(c);

	/* a trial create is never repeated once sent, but a refused connection
	 * sent nothing */
	c = sibyl_client_new(dead_first, HARNESS_ADMIN_KEY);
	sibyl_client_set_wait_hook(c, hook, events);
	struct sibyl_parameter p = {.parameter_id = "x", .type = SIBYL_VALUE_NUMBER, .number = 0.5};
	struct sibyl_trial *t = NULL;
	ASSERT_EQ_INT(sibyl_trial_create(c, "owners/team/studies/fo", &p, 1, NULL, &t), 0);
	ASSERT_EQ_INT(sibyl_errattempts(c), 2);
	ASSERT_EQ_INT(events[SIBYL_WAIT_SWITCH], 2);
	ASSERT_EQ_INT(events[SIBYL_WAIT_START], 0);
	sibyl_trial_free(t);
	sibyl_client_free(c);

	/* the CLI too, and it says which server it left */
	struct proc_out o;
	cli(&o, dead_first, "study", "show", "team/fo", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.err, "sibyl: server http://127.0.0.1:1 unreachable (Connection "
	                          "refused); trying http://127.0.0.1:") != NULL);
	ASSERT_TRUE(strstr(o.err, "retrying") == NULL);
	proc_free(&o);
}

/* Every server down: the window runs out with an error naming each. */
static void test_all_down(void)
{
	const char *list = "http://127.0.0.1:1,http://127.0.0.1:2";
	struct sibyl_client *c = sibyl_client_new(list, HARNESS_ADMIN_KEY);
	int events[8] = {0};
	struct sibyl_study *s = NULL;
	sibyl_client_set_retry_window(c, 1);
	sibyl_client_set_retries(c, 0, 50, 200);
	sibyl_client_set_wait_hook(c, hook, events);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/studies/fo", &s), -SIBYL_ECONNECT);
	const char *msg = sibyl_errmsg(c);
	ASSERT_TRUE(strstr(msg, "GET owners/team/studies/fo: no server available: "
	                        "http://127.0.0.1:1 unreachable (Connection refused); "
	                        "http://127.0.0.1:2 unreachable (Connection refused) (") != NULL);
	ASSERT_TRUE(strstr(msg, " attempts over ") != NULL);
	ASSERT_TRUE(sibyl_errattempts(c) >= 4);
	ASSERT_EQ_INT(events[SIBYL_WAIT_START], 1);
	ASSERT_EQ_INT(events[SIBYL_WAIT_GIVE_UP], 1);
	ASSERT_EQ_INT(events[SIBYL_WAIT_SWITCH], 1); /* the first round only */
	sibyl_client_free(c);

	struct proc_out o;
	cli(&o, list, "--retry-window", "1", "study", "show", "team/fo", NULL);
	ASSERT_EQ_INT(o.status, 2);
	ASSERT_TRUE(strstr(o.err, "sibyl: no server available (http://127.0.0.1:1 unreachable "
	                          "(Connection refused); http://127.0.0.1:2 unreachable "
	                          "(Connection refused)); retrying for up to 1.0s\n") != NULL);
	ASSERT_TRUE(strstr(o.err, "(Connection refused)); giving up\n") != NULL);
	ASSERT_TRUE(strstr(o.err, "sibyl: study show: ECONNECT: GET owners/team/studies/fo: no "
	                          "server available: http://127.0.0.1:1 unreachable") != NULL);
	proc_free(&o);
}

/* Trials of the study, by state; the count of those SUCCEEDED. */
static int count_succeeded(const char *study, size_t *total)
{
	struct sibyl_client *c = sibyl_client_new(both, HARNESS_ADMIN_KEY);
	struct sibyl_trial_list *l = NULL;
	int n = 0;
	*total = 0;
	sibyl_client_set_retry_window(c, 10);
	if (sibyl_trial_list(c, study, NULL, 0, NULL, &l) == 0) {
		*total = l->n;
		for (size_t i = 0; i < l->n; i++)
			n += l->trials[i]->state == SIBYL_TRIAL_SUCCEEDED;
	}
	sibyl_trial_list_free(l);
	sibyl_client_free(c);
	return n;
}

/* Successful completes per trial in the audit log, at most the first 64. */
static int completes(int *per_trial, int max)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rows = -1;
	if (sqlite3_open_v2(d2->db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db,
	                       "SELECT count(*) FROM audit_log WHERE method = 'POST' AND path "
	                       "LIKE '%/studies/run/trials/%:complete' AND status = 200 "
	                       "GROUP BY path",
	                       -1, &st, NULL) != SQLITE_OK)
		goto out;
	rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW && rows < max)
		per_trial[rows++] = sqlite3_column_int(st, 0);
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rows;
}

static void write_trainer(char *path, size_t len)
{
	snprintf(path, len, "%s/train.sh", dir);
	FILE *f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	if (!f)
		return;
	fprintf(f,
	        "#!/bin/sh\n"
	        "echo \"$SIBYL_TRIAL_ID\" >> '%s/ran'\n"
	        "sleep 0.2\n"
	        "echo \"sibyl: loss=$SIBYL_PARAM_X\"\n",
	        dir);
	fclose(f);
	chmod(path, 0755);
}

/* `sibyl run` with both URLs; the first daemon dies mid-run. */
static void test_run_survives_kill(void)
{
	struct sibyl_client *c = sibyl_client_new(both, HARNESS_ADMIN_KEY);
	struct sibyl_study *s = NULL;
	ASSERT_EQ_INT(sibyl_study_create(c, "team", "run", spec, &s), 0);
	sibyl_study_free(s);
	sibyl_client_free(c);
	char trainer[400], ntrials[16];
	write_trainer(trainer, sizeof trainer);
	snprintf(ntrials, sizeof ntrials, "%d", RUN_TRIALS);
	char *argv[] = {(char *)cli_path,
	                "--url",
	                both,
	                "--retry-window",
	                "60",
	                "run",
	                "--study",
	                "team/run",
	                "--client-id",
	                "fo",
	                "--max-trials",
	                ntrials,
	                "--parallel",
	                "2",
	                "--",
	                trainer,
	                NULL};
	const char *env[] = {env_key, NULL};
	pid_t pid = proc_start(dir, argv, env);
	ASSERT_TRUE(pid > 0);
	size_t total = 0;
	for (int i = 0; i < 300 && count_succeeded("owners/team/studies/run", &total) < 3; i++)
		sleep_s(0.1);
	ASSERT_TRUE(count_succeeded("owners/team/studies/run", &total) < RUN_TRIALS);
	ASSERT_EQ_INT(daemon_kill(d1), 0); /* SIGKILL */
	struct proc_out o;
	proc_finish(dir, pid, &o);
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "%s", o.err);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(!proc_sanitized(&o));
	char done[64];
	snprintf(done, sizeof done, "%d trials done (%d succeeded", RUN_TRIALS, RUN_TRIALS);
	ASSERT_TRUE(strstr(o.err, done) != NULL);
	char moved[128]; /* the kill came mid-run, and the workers moved on */
	snprintf(moved, sizeof moved, "); trying %s (fo-", d2->url);
	ASSERT_TRUE(strstr(o.err, moved) != NULL);
	ASSERT_TRUE(strstr(o.err, "giving up") == NULL);
	proc_free(&o);
	ASSERT_EQ_INT(count_succeeded("owners/team/studies/run", &total), RUN_TRIALS);
	ASSERT_EQ_INT((int)total, RUN_TRIALS);
	/* each trial's command ran once */
	char ran_path[400];
	snprintf(ran_path, sizeof ran_path, "%s/ran", dir);
	char *ran = proc_slurp(ran_path);
	int lines = 0, seen[RUN_TRIALS + 1] = {0};
	for (char *p = ran; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		long id = strtol(p, NULL, 10);
		lines++;
		if (id >= 1 && id <= RUN_TRIALS)
			seen[id]++;
	}
	free(ran);
	ASSERT_EQ_INT(lines, RUN_TRIALS);
	for (int i = 1; i <= RUN_TRIALS; i++)
		ASSERT_EQ_INT(seen[i], 1);
	/* each trial completed once */
	int per[64];
	ASSERT_EQ_INT(completes(per, 64), RUN_TRIALS);
	for (int i = 0; i < RUN_TRIALS; i++)
		ASSERT_EQ_INT(per[i], 1);
}

int main(void)
{
	cli_path = getenv("SIBYL_CLI");
	if (!cli_path) {
		fprintf(stderr, "SIBYL_CLI must be set (tests/client/meson.build)\n");
		return 1;
	}
	snprintf(dir, sizeof dir, "/tmp/sibyl-failover-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	d1 = daemon_start(NULL);
	ASSERT_TRUE(d1 != NULL);
	if (!d1)
		return test_done("test-failover");
	struct daemon_opts o2 = {.db_path = d1->db_path};
	d2 = daemon_start(&o2);
	ASSERT_TRUE(d2 != NULL);
	if (!d2) {
		daemon_stop(d1);
		return test_done("test-failover");
	}
	snprintf(both, sizeof both, "%s,%s", d1->url, d2->url);
	snprintf(dead_first, sizeof dead_first, "%s,%s", dead, d2->url);
	snprintf(env_key, sizeof env_key, "SIBYL_KEY=%s", HARNESS_ADMIN_KEY);
	ASSERT_EQ_INT(daemon_create_owner(d1, "team"), 200);
	test_bad_lists();
	test_dead_first();
	test_all_down();
	test_run_survives_kill();
	ASSERT_EQ_INT(daemon_stop(d2), 0);
	ASSERT_EQ_INT(daemon_stop(d1), 0); /* killed: frees it, and the shared file */
	proc_rmdir(dir);
	return test_done("test-failover");
}
