/* Workers ride out a server restart (issue 10, items 5 and 6), against the
 * real sibyld killed with SIGKILL and started again on the same port and
 * database a few seconds later:
 * - a libsibyl call waits through the restart and succeeds, and its hook
 *   was told (START, BACK);
 * - `sibyl run` keeps a finished trial's result and delivers it when the
 *   server is back (SUCCEEDED with its value, stderr says it waited);
 * - when its window runs out it prints the result as JSON, exits 2, and the
 *   printed command delivers it later;
 * - a trial resumed by the same client id numbers its measurements after
 *   the last step it reached (5 after 4), and the command is told
 *   (SIBYL_STEP_START). */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <time.h>

#include <sibyl/sibyl.h>

#include "harness.h"
#include "proc.h"
#include "test.h"

static const char *cli_path, *steps;
static char dir[256], gate[300];
static char env_url[128], env_key[128];
static struct daemon *d;
static char listen_arg[64];
static const char *const same_port[] = {"--listen", listen_arg, NULL};

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

/* A client for checks: retries for a few seconds, no more. */
static struct sibyl_client *checker(void)
{
	struct sibyl_client *c = sibyl_client_new(d->url, HARNESS_ADMIN_KEY);
	sibyl_client_set_retry_window(c, 5);
	return c;
}

static void make_study(const char *name)
{
	struct sibyl_client *c = checker();
	struct sibyl_study *s = NULL;
	ASSERT_EQ_INT(sibyl_study_create(c, "team", name, spec, &s), 0);
	sibyl_study_free(s);
	sibyl_client_free(c);
}

/* The study's only trial (NULL when there is not exactly one). */
static struct sibyl_trial *only_trial(const char *study)
{
	char name[128];
	snprintf(name, sizeof name, "owners/team/studies/%s", study);
	struct sibyl_client *c = checker();
	struct sibyl_trial_list *l = NULL;
	struct sibyl_trial *t = NULL;
	if (sibyl_trial_list(c, name, NULL, 0, NULL, &l) == 0 && l->n == 1) {
		t = l->trials[0];
		l->trials[0] = NULL;
		l->n = 0;
	}
	sibyl_trial_list_free(l);
	sibyl_client_free(c);
	return t;
}

/* Waits (up to 30 s) until the study's trial has n measurements. */
static int wait_measurements(const char *study, size_t n)
{
	for (int i = 0; i < 300; i++) {
		struct sibyl_trial *t = only_trial(study);
		size_t got = t ? t->n_measurements : 0;
		sibyl_trial_free(t);
		if (got >= n)
			return 0;
		sleep_s(0.1);
	}
	return -1;
}

static void kill_daemon(void)
{
	ASSERT_EQ_INT(daemon_kill(d), 0);
}

static void restart_daemon(void)
{
	struct daemon_opts o = {.args = same_port};
	ASSERT_EQ_INT(daemon_restart(d, &o), 0);
}

static void *restart_later(void *arg)
{
	(void)arg;
	sleep_s(3.5);
	restart_daemon();
	return NULL;
}

static int hook(const struct sibyl_wait *w, void *ud)
{
	int *events = ud;
	events[w->event]++;
	return 0;
}

/* A libsibyl call made while the server is down succeeds once it is back. */
static void test_library(void)
{
	struct sibyl_client *c = sibyl_client_new(d->url, HARNESS_ADMIN_KEY);
	struct sibyl_study *s = NULL;
	struct sibyl_trial_list *l = NULL;
	struct sibyl_trial *t = NULL;
	int events[8] = {0};
	sibyl_client_set_retry_window(c, 60);
	sibyl_client_set_wait_hook(c, hook, events);
	ASSERT_EQ_INT(sibyl_study_create(c, "team", "lib", spec, &s), 0);
	ASSERT_EQ_INT(sibyl_trial_suggest(c, "owners/team/studies/lib", 1, "w", &l), 0);
	if (!l || l->n != 1)
		return;
	const char *name = l->trials[0]->name;
	struct sibyl_metric mm = {"loss", 0.5};
	struct sibyl_measurement m = {
	    .elapsed_seconds = 1, .step_count = 1, .n_metrics = 1, .metrics = &mm};

	kill_daemon();
	pthread_t th;
	pthread_create(&th, NULL, restart_later, NULL);
	ASSERT_EQ_INT(sibyl_trial_add_measurement(c, name, &m, NULL), 0);
	pthread_join(th, NULL);
	ASSERT_EQ_INT(events[SIBYL_WAIT_START], 1);
	ASSERT_EQ_INT(events[SIBYL_WAIT_BACK], 1);
	ASSERT_EQ_INT(events[SIBYL_WAIT_GIVE_UP], 0);
	ASSERT_TRUE(sibyl_errattempts(c) > 1);
	/* a repeat of the last measurement (what a retry after a lost answer
	 * sends) is not recorded twice */
	ASSERT_EQ_INT(sibyl_trial_add_measurement(c, name, &m, &t), 0);
	ASSERT_EQ_INT(t ? t->n_measurements : 0, 1);
	sibyl_trial_free(t);

	kill_daemon();
	pthread_create(&th, NULL, restart_later, NULL);
	mm.value = 0.25;
	ASSERT_EQ_INT(sibyl_trial_complete(c, name, &m, 0, NULL, &t), 0);
	pthread_join(th, NULL);
	ASSERT_EQ_INT(events[SIBYL_WAIT_START], 2);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_SUCCEEDED);
	sibyl_trial_free(t);
	t = only_trial("lib");
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_SUCCEEDED);
	ASSERT_EQ_DBL(t && t->final_measurement ? t->final_measurement->metrics[0].value : -1, 0.25,
	              0);
	sibyl_trial_free(t);
	sibyl_trial_list_free(l);
	sibyl_study_free(s);
	sibyl_client_free(c);
}

/* `sibyl ARGS...` in the background (NULL-terminated). */
static pid_t start_cli(const char *first, ...)
{
	const char *env[] = {env_url, env_key, NULL};
	char *argv[32];
	int n = 0;
	va_list ap;
	argv[n++] = (char *)cli_path;
	argv[n++] = (char *)first;
	va_start(ap, first);
	for (char *a; n < 31 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return proc_start(dir, argv, env);
}

static void open_gate(void)
{
	char path[400];
	snprintf(path, sizeof path, "%s/go", gate);
	FILE *f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	if (f)
		fclose(f);
}

static void close_gate(void)
{
	char path[400];
	snprintf(path, sizeof path, "%s/go", gate);
	unlink(path);
}

/* The command finishes while the server is down; its result is delivered
 * when the server is back. */
static void test_run_rides_out(void)
{
	make_study("ride");
	close_gate();
	pid_t pid = start_cli("--retry-window", "60", "run", "--study", "team/ride", "--client-id",
	                      "w", "--max-trials", "1", "--", steps, "gate", gate, NULL);
	ASSERT_EQ_INT(wait_measurements("ride", 1), 0);
	kill_daemon();
	open_gate(); /* the command prints its last line and exits */
	sleep_s(3.5);
	restart_daemon();
	struct proc_out o;
	proc_finish(dir, pid, &o);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(!proc_sanitized(&o));
	/* (the reason is "Connection refused", or a reset when a kept-alive
	 * connection was the first to find the server gone) */
	ASSERT_TRUE(strstr(o.err, "sibyl: server http://127.0.0.1:") != NULL);
	ASSERT_TRUE(strstr(o.err, " unreachable (") != NULL);
	ASSERT_TRUE(strstr(o.err, "); retrying for up to 1m00s (w)\n") != NULL);
	ASSERT_TRUE(strstr(o.err, "is back after") != NULL);
	ASSERT_TRUE(strstr(o.err, "SUCCEEDED loss=0.25") != NULL);
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "%s", o.err);
	struct sibyl_trial *t = only_trial("ride");
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_SUCCEEDED);
	ASSERT_EQ_DBL(t && t->final_measurement ? t->final_measurement->metrics[0].value : -1, 0.25,
	              0);
	ASSERT_EQ_INT(t ? t->n_measurements : 0, 2);
	sibyl_trial_free(t);
	proc_free(&o);
}

/* The window runs out: the result goes to stderr as JSON with the command
 * that delivers it, the run exits 2, and that command works later. */
static void test_run_window_runs_out(void)
{
	make_study("lost");
	close_gate();
	pid_t pid = start_cli("--retry-window", "1", "run", "--study", "team/lost", "--client-id",
	                      "w", "--max-trials", "1", "--", steps, "gate", gate, NULL);
	ASSERT_EQ_INT(wait_measurements("lost", 1), 0);
	kill_daemon();
	open_gate();
	struct proc_out o;
	proc_finish(dir, pid, &o);
	ASSERT_EQ_INT(o.status, 2);
	ASSERT_TRUE(strstr(o.err, "giving up") != NULL);
	ASSERT_TRUE(strstr(o.err, "the result was not delivered: ECONNECT") != NULL);
	ASSERT_TRUE(strstr(o.err, "result {\"name\":\"owners/team/studies/lost/trials/1\","
	                          "\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"loss\","
	                          "\"value\":0.25}],\"stepCount\":\"2\"}}") != NULL);
	const char *cmd = strstr(o.err, "to deliver it later: sibyl trial complete "
	                                "owners/team/studies/lost/trials/1 loss=0.25\n");
	ASSERT_TRUE(cmd != NULL);
	ASSERT_TRUE(strstr(o.err, "1 not delivered") != NULL);
	proc_free(&o);
	restart_daemon();
	struct sibyl_trial *t = only_trial("lost");
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_ACTIVE);
	sibyl_trial_free(t);
	/* the printed command delivers it */
	pid =
	    start_cli("trial", "complete", "owners/team/studies/lost/trials/1", "loss=0.25", NULL);
	proc_finish(dir, pid, &o);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	t = only_trial("lost");
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_SUCCEEDED);
	sibyl_trial_free(t);
}

/* A worker stopped after 4 measurements and started again with the same
 * client id goes on at step 5. */
static void test_resume_steps(void)
{
	make_study("resume");
	pid_t pid = start_cli("run", "--study", "team/resume", "--client-id", "rw", "--max-trials",
	                      "1", "--", steps, "hold", "4", NULL);
	ASSERT_EQ_INT(wait_measurements("resume", 4), 0);
	kill(pid, SIGTERM);
	struct proc_out o;
	proc_finish(dir, pid, &o);
	ASSERT_EQ_INT(o.status, 130);
	proc_free(&o);
	pid = start_cli("run", "--study", "team/resume", "--client-id", "rw", "--max-trials", "1",
	                "--", steps, "more", "2", NULL);
	proc_finish(dir, pid, &o);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "start=5 last=4") != NULL);
	ASSERT_TRUE(strstr(o.err, "resumed after step 4 (4 measurements reported before)") != NULL);
	proc_free(&o);
	struct sibyl_trial *t = only_trial("resume");
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_SUCCEEDED);
	ASSERT_EQ_INT(t ? t->n_measurements : 0, 6);
	for (size_t k = 0; t && k < t->n_measurements; k++)
		ASSERT_EQ_INT(t->measurements[k].step_count, (long long)k + 1);
	ASSERT_EQ_INT(t && t->final_measurement ? t->final_measurement->step_count : -1, 6);
	sibyl_trial_free(t);
}

int main(void)
{
	cli_path = getenv("SIBYL_CLI");
	steps = getenv("SIBYL_STEPS");
	if (!cli_path || !steps) {
		fprintf(stderr,
		        "SIBYL_CLI and SIBYL_STEPS must be set (tests/client/meson.build)\n");
		return 1;
	}
	snprintf(dir, sizeof dir, "/tmp/sibyl-restart-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(gate, sizeof gate, "%s/gate", dir);
	mkdir(gate, 0700);
	d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("test-restart");
	snprintf(listen_arg, sizeof listen_arg, "127.0.0.1:%d", d->port);
	snprintf(env_url, sizeof env_url, "SIBYL_URL=%s", d->url);
	snprintf(env_key, sizeof env_key, "SIBYL_KEY=%s", HARNESS_ADMIN_KEY);
	ASSERT_EQ_INT(daemon_create_owner(d, "team"), 200);
	test_library();
	test_run_rides_out();
	test_run_window_runs_out();
	test_resume_steps();
	ASSERT_EQ_INT(daemon_stop(d), 0);
	proc_rmdir(dir);
	return test_done("test-restart");
}
