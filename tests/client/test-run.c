/* `sibyl run` against the real sibyld with tests/client/train.sh as the
 * training command: trials complete, failures are INFEASIBLE with the
 * reason, early stopping, --parallel, Ctrl-C, the lease heartbeat. */
#include <stdarg.h>

#include <sibyl/sibyl.h>

#include "harness.h"
#include "proc.h"
#include "test.h"

static const char *cli_path, *train;
static char dir[256];
static char env_url[128], env_key[128];
static struct sibyl_client *c;

static const char spec[] =
    "{\"metrics\":[{\"metricId\":\"loss\",\"goal\":\"MINIMIZE\"}],"
    "\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}],"
    "\"algorithm\":\"RANDOM_SEARCH\"%s}";

static void make_study(const char *name, const char *extra)
{
	char text[1024];
	snprintf(text, sizeof text, spec, extra);
	struct sibyl_study *s = NULL;
	ASSERT_EQ_INT(sibyl_study_create(c, "team", name, text, &s), 0);
	sibyl_study_free(s);
}

/* sibyl run ARGS... (NULL-terminated). */
static void run(struct proc_out *o, ...)
{
	const char *env[] = {env_url, env_key, NULL};
	va_list ap;
	va_start(ap, o);
	proc_runv(dir, env, o, cli_path, "run", ap);
	va_end(ap);
	ASSERT_TRUE(!proc_sanitized(o));
}

static struct sibyl_trial_list *trials(const char *study)
{
	char name[256];
	snprintf(name, sizeof name, "owners/team/studies/%s", study);
	struct sibyl_trial_list *l = NULL;
	ASSERT_EQ_INT(sibyl_trial_list(c, name, NULL, 0, NULL, &l), 0);
	return l;
}

static double final_loss(const struct sibyl_trial *t)
{
	const struct sibyl_measurement *m = t->final_measurement;
	return m && m->n_metrics == 1 ? m->metrics[0].value : -1;
}

static void test_ok(const char *mode)
{
	char study[32];
	snprintf(study, sizeof study, "run-%s", mode);
	make_study(study, "");
	char ref[64];
	snprintf(ref, sizeof ref, "team/%s", study);
	struct proc_out o;
	run(&o, "--study", ref, "--client-id", "w", "--max-trials", "3", "--", train, mode, "{x}",
	    NULL);
	ASSERT_EQ_INT(o.status, 0);
	/* stdout passes through; progress is plain lines on a pipe */
	ASSERT_TRUE(strstr(o.out, "training with x=") != NULL);
	ASSERT_TRUE(strstr(o.err, "SUCCEEDED loss=") != NULL);
	ASSERT_TRUE(strstr(o.err, "3 trials done (3 succeeded, 0 infeasible), best loss=") != NULL);
	ASSERT_TRUE(strstr(o.err, "\033[K") == NULL);
	struct sibyl_trial_list *l = trials(study);
	ASSERT_EQ_INT(l ? l->n : 0, 3);
	for (size_t i = 0; l && i < l->n; i++) {
		const struct sibyl_trial *t = l->trials[i];
		double x = sibyl_trial_param(t, "x")->number;
		ASSERT_EQ_INT(t->state, SIBYL_TRIAL_SUCCEEDED);
		ASSERT_EQ_STR(t->client_id, "w");
		/* three measurements, steps 1..3, and the last one is final */
		ASSERT_EQ_INT(t->n_measurements, 3);
		for (size_t k = 0; k < t->n_measurements; k++) {
			ASSERT_EQ_INT(t->measurements[k].step_count, (long long)k + 1);
			ASSERT_TRUE(t->measurements[k].elapsed_seconds >= 0);
		}
		ASSERT_EQ_DBL(final_loss(t), (x - 0.3) * (x - 0.3) + 1.0 / 3, 1e-8);
	}
	sibyl_trial_list_free(l);
	proc_free(&o);
}

static void test_infeasible(void)
{
	make_study("run-fail", "");
	struct proc_out o;
	static const struct {
		const char *mode, *reason;
	} cases[] = {
	    {"fail", "exited with status 3"},
	    {"silent", "without reporting a metric"},
	    {"signal", "killed by signal 9"},
	};
	for (size_t i = 0; i < 3; i++) {
		run(&o, "--study", "team/run-fail", "--client-id", cases[i].mode, "--max-trials",
		    "1", "--", train, cases[i].mode, "{x}", NULL);
		/* no trial succeeded: exit 8 */
		ASSERT_EQ_INT(o.status, 8);
		ASSERT_TRUE(strstr(o.err, "INFEASIBLE") != NULL);
		ASSERT_TRUE(strstr(o.err, "sibyl: no trial succeeded") != NULL);
		proc_free(&o);
	}
	struct sibyl_trial_list *l = trials("run-fail");
	ASSERT_EQ_INT(l ? l->n : 0, 3);
	for (size_t i = 0; l && i < l->n; i++) {
		const struct sibyl_trial *t = l->trials[i];
		ASSERT_EQ_INT(t->state, SIBYL_TRIAL_INFEASIBLE);
		int matched = 0;
		for (size_t k = 0; k < 3; k++)
			if (strcmp(t->client_id, cases[k].mode) == 0)
				matched = t->infeasible_reason &&
				          strstr(t->infeasible_reason, cases[k].reason) != NULL;
		if (!matched)
			TEST_FAIL("trial %lld (%s): reason \"%s\"", t->id, t->client_id,
			          t->infeasible_reason ? t->infeasible_reason : "(null)");
		ASSERT_TRUE(matched);
	}
	sibyl_trial_list_free(l);

	/* a command that cannot start: exit 1 before any trial is asked for */
	run(&o, "--study", "team/run-fail", "--client-id", "nocmd", "--max-trials", "1", "--",
	    "/nonexistent/train", NULL);
	ASSERT_EQ_INT(o.status, 1);
	ASSERT_TRUE(strstr(o.err, "cannot run /nonexistent/train") != NULL);
	proc_free(&o);
	l = trials("run-fail");
	int active = 0;
	for (size_t i = 0; l && i < l->n; i++)
		active += l->trials[i]->state == SIBYL_TRIAL_ACTIVE &&
		          strcmp(l->trials[i]->client_id, "nocmd") == 0;
	ASSERT_EQ_INT(active, 0);
	sibyl_trial_list_free(l);

	/* metrics that do not make a final measurement (an objective never
	 * printed): INFEASIBLE with the server's reason, not left ACTIVE */
	struct sibyl_study *two = NULL;
	ASSERT_EQ_INT(sibyl_study_create(c, "team", "run-two",
	                                 "{\"metrics\":[{\"metricId\":\"loss\",\"goal\":"
	                                 "\"MINIMIZE\"},{\"metricId\":\"acc\",\"goal\":"
	                                 "\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":\"x\","
	                                 "\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}]}",
	                                 &two),
	              0);
	sibyl_study_free(two);
	run(&o, "--study", "team/run-two", "--client-id", "two", "--max-trials", "1", "--", train,
	    "ok", "{x}", NULL);
	ASSERT_EQ_INT(o.status, 8);
	proc_free(&o);
	l = trials("run-two");
	ASSERT_EQ_INT(l ? l->n : 0, 1);
	if (l && l->n == 1) {
		ASSERT_EQ_INT(l->trials[0]->state, SIBYL_TRIAL_INFEASIBLE);
		ASSERT_TRUE(l->trials[0]->infeasible_reason &&
		            strstr(l->trials[0]->infeasible_reason,
		                   "the final measurement was refused: ") != NULL);
	}
	sibyl_trial_list_free(l);

	/* usage errors */
	run(&o, "--study", "team/run-fail", "--", train, NULL);
	ASSERT_EQ_INT(o.status, 1);
	proc_free(&o);
	run(&o, "--study", "team/run-fail", "--client-id", "w", NULL);
	ASSERT_EQ_INT(o.status, 1);
	proc_free(&o);
	run(&o, "--study", "team/nope", "--client-id", "w", "--", train, NULL);
	ASSERT_EQ_INT(o.status, 3);
	proc_free(&o);
}

/* Lines that are not measurements are passed through, warned about when
 * they look like one, and not reported. */
static void test_mixed(void)
{
	make_study("run-mixed", "");
	struct proc_out o;
	run(&o, "--study", "team/run-mixed", "--client-id", "m", "--max-trials", "1", "--", train,
	    "mixed", "{x}", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(
	    strstr(o.err, "\"accuracy\" is not a metric of the study (its metrics: loss)") != NULL);
	/* a JSON log line is output, not a metric line gone wrong */
	ASSERT_TRUE(strstr(o.err, "names no metric") == NULL);
	ASSERT_TRUE(strstr(o.err, "\"loss\" is not METRIC=VALUE") != NULL);
	ASSERT_TRUE(strstr(o.out, "{\"msg\": \"epoch done\"") != NULL);
	struct sibyl_trial_list *l = trials("run-mixed");
	ASSERT_EQ_INT(l ? l->n : 0, 1);
	if (l && l->n == 1) {
		const struct sibyl_trial *t = l->trials[0];
		ASSERT_EQ_INT(t->state, SIBYL_TRIAL_SUCCEEDED);
		ASSERT_EQ_INT(t->n_measurements, 1);
		ASSERT_EQ_INT(t->n_measurements ? t->measurements[0].step_count : -1, 7);
		ASSERT_EQ_DBL(final_loss(t), sibyl_trial_param(t, "x")->number, 0);
	}
	sibyl_trial_list_free(l);
	proc_free(&o);
}

/* A JSON line that looks like metrics but names none of the study's is
 * warned about (once), and the run goes on. */
static void test_json_wrong_key(void)
{
	make_study("run-jsonkey", "");
	struct proc_out o;
	run(&o, "--study", "team/run-jsonkey", "--client-id", "j", "--max-trials", "1", "--", train,
	    "jsonkey", "{x}", NULL);
	ASSERT_EQ_INT(o.status, 0);
	static const char warn[] =
	    "a JSON line with \"los\", \"step\" names no metric of the study (its metrics: loss)";
	const char *w = strstr(o.err, warn);
	ASSERT_TRUE(w != NULL);
	ASSERT_TRUE(w && strstr(w + sizeof warn - 1, "names no metric") == NULL); /* said once */
	ASSERT_TRUE(strstr(o.err, "ignored metric line: the value of \"loss\" is not a finite "
	                          "number") != NULL);
	struct sibyl_trial_list *l = trials("run-jsonkey");
	ASSERT_EQ_INT(l ? l->n : 0, 1);
	if (l && l->n == 1) {
		ASSERT_EQ_INT(l->trials[0]->state, SIBYL_TRIAL_SUCCEEDED);
		ASSERT_EQ_INT(l->trials[0]->n_measurements, 1);
	}
	sibyl_trial_list_free(l);
	proc_free(&o);
}

/* Values reach the command as a person writes them: an INTEGER 50 as "50"
 * (not "5e+01"), doubles 100, 1e-07, 0.001, 0.00001, discrete 100; in
 * {placeholders} and SIBYL_PARAM_* alike. */
static void test_values(void)
{
	struct sibyl_study *s = NULL;
	ASSERT_EQ_INT(
	    sibyl_study_create(
	        c, "team", "run-values",
	        "{\"metrics\":[{\"metricId\":\"loss\",\"goal\":\"MINIMIZE\"}],\"parameters\":["
	        "{\"parameterId\":\"n\",\"integerValueSpec\":{\"minValue\":1,\"maxValue\":1000}},"
	        "{\"parameterId\":\"d\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1000}},"
	        "{\"parameterId\":\"lr\",\"doubleValueSpec\":{\"minValue\":1e-9,\"maxValue\":1},"
	        "\"scaleType\":\"UNIT_LOG_SCALE\"},"
	        "{\"parameterId\":\"k\",\"discreteValueSpec\":{\"values\":[1,10,100]}}]}",
	        &s),
	    0);
	sibyl_study_free(s);
	static const double vals[][4] = {
	    {50, 100, 1e-7, 100}, {7, 3.14159, 0.001, 10}, {1000, 0.1, 1e-5, 1}};
	for (int i = 0; i < 3; i++) {
		struct sibyl_parameter p[4] = {{.parameter_id = "n", .number = vals[i][0]},
		                               {.parameter_id = "d", .number = vals[i][1]},
		                               {.parameter_id = "lr", .number = vals[i][2]},
		                               {.parameter_id = "k", .number = vals[i][3]}};
		struct sibyl_trial *t = NULL;
		ASSERT_EQ_INT(
		    sibyl_trial_create(c, "owners/team/studies/run-values", p, 4, NULL, &t), 0);
		sibyl_trial_free(t);
	}
	struct proc_out o;
	run(&o, "--study", "team/run-values", "--client-id", "v", "--max-trials", "3", "--", "sh",
	    "-c",
	    "echo \"args=$1 env=$SIBYL_PARAM_N,$SIBYL_PARAM_D,$SIBYL_PARAM_LR,$SIBYL_PARAM_K\"; "
	    "echo 'sibyl: loss=1'",
	    "sh", "{n},{d},{lr},{k}", NULL);
	ASSERT_EQ_INT(o.status, 0);
	static const char *const want[] = {"args=50,100,1e-07,100 env=50,100,1e-07,100\n",
	                                   "args=7,3.14159,0.001,10 env=7,3.14159,0.001,10\n",
	                                   "args=1000,0.1,0.00001,1 env=1000,0.1,0.00001,1\n"};
	for (int i = 0; i < 3; i++)
		if (!strstr(o.out, want[i]))
			TEST_FAIL("want \"%s\" in:\n%s", want[i], o.out);
	ASSERT_TRUE(strstr(o.err, "started (v): n=50 d=100 lr=1e-07 k=100") != NULL);
	proc_free(&o);
}

/* A broken command does not mark the whole study infeasible: the run stops
 * after --max-failures INFEASIBLE trials in a row (default 5) and exits 8;
 * 0 means no limit. A {placeholder} that names no parameter is warned
 * about at the start. */
static void test_max_failures(void)
{
	make_study("run-broken", "");
	struct proc_out o;
	run(&o, "--study", "team/run-broken", "--client-id", "b", "--max-failures", "3",
	    "--max-trials", "10", "--", train, "fail", "{x}", NULL);
	ASSERT_EQ_INT(o.status, 8);
	ASSERT_TRUE(strstr(o.err, "stopping: 3 trials in a row were INFEASIBLE (the last: the "
	                          "command exited with status 3)") != NULL);
	ASSERT_TRUE(strstr(o.err, "3 trials done (0 succeeded, 3 infeasible)") != NULL);
	struct sibyl_trial_list *l = trials("run-broken");
	ASSERT_EQ_INT(l ? l->n : 0, 3);
	sibyl_trial_list_free(l);
	proc_free(&o);
	/* the default is 5 */
	run(&o, "--study", "team/run-broken", "--client-id", "b2", "--max-trials", "10", "--",
	    train, "fail", "{x}", NULL);
	ASSERT_EQ_INT(o.status, 8);
	ASSERT_TRUE(strstr(o.err, "5 trials done (0 succeeded, 5 infeasible)") != NULL);
	proc_free(&o);
	/* 0: no limit (here --max-trials ends it), still exit 8: none succeeded */
	run(&o, "--study", "team/run-broken", "--client-id", "b3", "--max-failures", "0",
	    "--max-trials", "6", "--", train, "fail", "{x}", NULL);
	ASSERT_EQ_INT(o.status, 8);
	ASSERT_TRUE(strstr(o.err, "6 trials done (0 succeeded, 6 infeasible)") != NULL);
	ASSERT_TRUE(strstr(o.err, "in a row") == NULL);
	proc_free(&o);
	run(&o, "--study", "team/run-broken", "--client-id", "b", "--max-failures", "-1", "--",
	    train, NULL);
	ASSERT_EQ_INT(o.status, 1);
	ASSERT_TRUE(strstr(o.err, "bad --max-failures") != NULL);
	proc_free(&o);

	/* {X} for x: warned at the start, with the parameter ids; ${X} is the shell's */
	make_study("run-typo", "");
	run(&o, "--study", "team/run-typo", "--client-id", "t", "--max-trials", "1", "--", "sh",
	    "-c", "echo \"sibyl: loss=$SIBYL_PARAM_X\"", "{X}", "${HOME}", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.err, "warning: {X} in the command names no parameter of the study "
	                          "(its parameters: x)") != NULL);
	ASSERT_TRUE(strstr(o.err, "{HOME}") == NULL);
	proc_free(&o);
}

/* A study with a trial budget: the run ends when the study is complete,
 * without --max-trials (here 5 only guards against a run without end). */
static void test_study_complete(void)
{
	make_study("run-budget", ",\"studyStoppingConfig\":{\"maxNumTrials\":2}");
	struct proc_out o;
	run(&o, "--study", "team/run-budget", "--client-id", "b", "--max-trials", "5", "--", train,
	    "ok", "{x}", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.err, "the study is complete") != NULL);
	ASSERT_TRUE(strstr(o.err, "2 trials done (2 succeeded") != NULL);
	struct sibyl_trial_list *l = trials("run-budget");
	ASSERT_EQ_INT(l ? l->n : 0, 2);
	sibyl_trial_list_free(l);
	proc_free(&o);
}

static void test_parallel(void)
{
	make_study("run-par", "");
	char barrier[300];
	snprintf(barrier, sizeof barrier, "%s/barrier", dir);
	mkdir(barrier, 0755);
	struct proc_out o;
	/* each child waits until four trials' children exist at once */
	run(&o, "--study", "team/run-par", "--client-id", "p", "--max-trials", "4", "--parallel",
	    "4", "--", train, "barrier", "{x}", barrier, NULL);
	ASSERT_EQ_INT(o.status, 0);
	struct sibyl_trial_list *l = trials("run-par");
	ASSERT_EQ_INT(l ? l->n : 0, 4);
	int clients = 0;
	for (size_t i = 0; l && i < l->n; i++) {
		ASSERT_EQ_INT(l->trials[i]->state, SIBYL_TRIAL_SUCCEEDED);
		for (int k = 1; k <= 4; k++) {
			char id[16];
			snprintf(id, sizeof id, "p-%d", k);
			if (strcmp(l->trials[i]->client_id, id) == 0)
				clients |= 1 << k;
		}
		for (size_t j = i + 1; j < l->n; j++)
			ASSERT_TRUE(l->trials[i]->id != l->trials[j]->id);
	}
	ASSERT_EQ_INT(clients, 2 | 4 | 8 | 16);
	sibyl_trial_list_free(l);
	proc_free(&o);
}

/* Early stopping: with the median rule, a trial much worse than the
 * completed ones is stopped before its 200 steps. */
static void test_early_stopping(void)
{
	make_study("run-es", ",\"medianAutomatedStoppingSpec\":{}");
	const char *study = "owners/team/studies/run-es";
	struct sibyl_parameter p = {.parameter_id = "x", .type = SIBYL_VALUE_NUMBER};
	struct sibyl_trial *t = NULL;
	/* three good trials first, then a bad one, in this order from the pool */
	for (int i = 0; i < 3; i++) {
		p.number = 0.1;
		ASSERT_EQ_INT(sibyl_trial_create(c, study, &p, 1, NULL, &t), 0);
		sibyl_trial_free(t);
	}
	struct proc_out o;
	run(&o, "--study", "team/run-es", "--client-id", "good", "--max-trials", "3", "--", train,
	    "steps", "{x}", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	p.number = 0.9;
	ASSERT_EQ_INT(sibyl_trial_create(c, study, &p, 1, NULL, &t), 0);
	char bad[256] = "";
	if (t)
		snprintf(bad, sizeof bad, "%s", t->name);
	sibyl_trial_free(t);

	/* the server implements the median rule: the bad trial stops early */
	run(&o, "--study", "team/run-es", "--client-id", "bad", "--max-trials", "1", "--grace", "2",
	    "--", train, "long", "{x}", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_INT(sibyl_trial_get(c, bad, &t), 0);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_SUCCEEDED);
	ASSERT_TRUE(strstr(o.err, "early stopping at step") != NULL);
	ASSERT_TRUE(t && t->n_measurements < 200);
	ASSERT_EQ_DBL(t ? final_loss(t) : -1, 0.9, 1e-12);
	sibyl_trial_free(t);
	proc_free(&o);
}

/* `sibyl trial stop` (the API's stop) while the command runs: the worker
 * sees STOPPING in the answer to its next measurement, stops the command
 * and completes the trial with the last values. */
static void test_stop_by_api(void)
{
	make_study("run-stop", "");
	char *argv[] = {(char *)cli_path,
	                "run",
	                "--study",
	                "team/run-stop",
	                "--client-id",
	                "s",
	                "--max-trials",
	                "1",
	                "--grace",
	                "2",
	                "--",
	                (char *)train,
	                "long",
	                "{x}",
	                NULL};
	const char *env[] = {env_url, env_key, NULL};
	pid_t pid = proc_start(dir, argv, env);
	ASSERT_TRUE(pid > 0);
	const char *name = "owners/team/studies/run-stop/trials/1";
	struct sibyl_trial *t = NULL;
	for (int i = 0; i < 600; i++) {
		sibyl_trial_free(t);
		t = NULL;
		if (sibyl_trial_get(c, name, &t) == 0 && t->n_measurements > 0)
			break;
		usleep(50000);
	}
	ASSERT_TRUE(t && t->n_measurements > 0);
	sibyl_trial_free(t);
	ASSERT_EQ_INT(sibyl_trial_stop(c, name, NULL), 0);
	struct proc_out o;
	proc_finish(dir, pid, &o);
	ASSERT_EQ_INT(o.status, 0);
	/* The stop is seen either in the answer to a measurement or, when it
	 * lands between that and the early-stopping check, in the check (which
	 * says stop for a STOPPING trial). */
	ASSERT_TRUE(strstr(o.err, "the trial was stopped") != NULL ||
	            strstr(o.err, "early stopping at step") != NULL);
	ASSERT_EQ_INT(sibyl_trial_get(c, name, &t), 0);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_SUCCEEDED);
	ASSERT_TRUE(t && t->n_measurements < 200);
	if (t)
		ASSERT_EQ_DBL(final_loss(t), sibyl_trial_param(t, "x")->number, 0);
	sibyl_trial_free(t);
	proc_free(&o);
}

/* SIGTERM to `sibyl run`: the child is stopped, the trial stays ACTIVE,
 * the exit code is 130. */
static void test_interrupt(void)
{
	make_study("run-int", "");
	char pids[300];
	snprintf(pids, sizeof pids, "%s/pids", dir);
	mkdir(pids, 0755);
	char *argv[] = {(char *)cli_path,
	                "run",
	                "--study",
	                "team/run-int",
	                "--client-id",
	                "i",
	                "--grace",
	                "2",
	                "--",
	                (char *)train,
	                "pidfile",
	                "{x}",
	                pids,
	                NULL};
	const char *env[] = {env_url, env_key, NULL};
	pid_t pid = proc_start(dir, argv, env);
	ASSERT_TRUE(pid > 0);
	/* wait (bounded) until the trial has a measurement: the child runs */
	struct sibyl_trial *t = NULL;
	for (int i = 0; i < 600; i++) {
		sibyl_trial_free(t);
		t = NULL;
		if (sibyl_trial_get(c, "owners/team/studies/run-int/trials/1", &t) == 0 &&
		    t->n_measurements > 0)
			break;
		usleep(50000);
	}
	ASSERT_TRUE(t && t->n_measurements > 0);
	sibyl_trial_free(t);
	kill(pid, SIGTERM);
	struct proc_out o;
	proc_finish(dir, pid, &o);
	ASSERT_EQ_INT(o.status, 130);
	ASSERT_TRUE(strstr(o.err, "interrupted") != NULL);
	/* no staleTrialTimeout: no lease to speak of; how to take it back */
	ASSERT_TRUE(strstr(o.err, "lease") == NULL);
	ASSERT_TRUE(strstr(o.err, "the study has no staleTrialTimeout") != NULL);
	ASSERT_TRUE(strstr(o.err, "run again with --client-id i") != NULL);
	ASSERT_EQ_INT(sibyl_trial_get(c, "owners/team/studies/run-int/trials/1", &t), 0);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_ACTIVE);
	sibyl_trial_free(t);
	/* the child is gone: it was reaped by sibyl before it exited */
	char path[400];
	snprintf(path, sizeof path, "%s/pid.1", pids);
	char *text = proc_slurp(path);
	long child = text ? strtol(text, NULL, 10) : 0;
	free(text);
	ASSERT_TRUE(child > 0);
	if (child > 0)
		ASSERT_TRUE(kill((pid_t)child, 0) != 0 && errno == ESRCH);
	proc_free(&o);

	/* the worker started again with its client id takes its trial back */
	run(&o, "--study", "team/run-int", "--client-id", "i", "--max-trials", "1", "--", train,
	    "ok", "{x}", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_INT(sibyl_trial_get(c, "owners/team/studies/run-int/trials/1", &t), 0);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_SUCCEEDED);
	sibyl_trial_free(t);
	proc_free(&o);
}

/* A child that prints nothing for longer than the lease (3 s) keeps its
 * trial: `sibyl run` sends the heartbeat while it is silent. Without it the
 * first trial would be given up and a replacement would be in the pool. */
static void test_heartbeat(void)
{
	make_study("run-hb", ",\"staleTrialTimeout\":\"3s\"");
	struct proc_out o;
	run(&o, "--study", "team/run-hb", "--client-id", "h", "--max-trials", "1", "--", "sh", "-c",
	    "sleep 7; echo \"sibyl: loss=$SIBYL_PARAM_X\"", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.err, "1 trial done (1 succeeded, 0 infeasible)") != NULL);
	ASSERT_TRUE(strstr(o.err, "given up") == NULL);
	struct sibyl_trial_list *l = trials("run-hb");
	ASSERT_EQ_INT(l ? l->n : 0, 1);
	if (l && l->n == 1) {
		const struct sibyl_trial *t = l->trials[0];
		ASSERT_EQ_INT(t->state, SIBYL_TRIAL_SUCCEEDED);
		ASSERT_EQ_DBL(final_loss(t), sibyl_trial_param(t, "x")->number, 0);
	}
	sibyl_trial_list_free(l);
	proc_free(&o);
}

/* Starts `sibyl run` on study with a child that says "started", stays
 * silent for 30 s and then would report and say "finished"; waits
 * (bounded) until trial 1 is ACTIVE. Returns the pid, or -1. */
static pid_t start_silent(const char *ref, const char *trial)
{
	char *argv[] = {
	    (char *)cli_path,
	    "run",
	    "--study",
	    (char *)ref,
	    "--client-id",
	    "q",
	    "--max-trials",
	    "1",
	    "--grace",
	    "2",
	    "--",
	    "sh",
	    "-c",
	    "echo started; sleep 30; echo \"sibyl: loss=$SIBYL_PARAM_X\"; echo finished",
	    NULL};
	const char *env[] = {env_url, env_key, NULL};
	pid_t pid = proc_start(dir, argv, env);
	ASSERT_TRUE(pid > 0);
	struct sibyl_trial *t = NULL;
	for (int i = 0; pid > 0 && i < 600; i++) {
		if (sibyl_trial_get(c, trial, &t) == 0 && t->state == SIBYL_TRIAL_ACTIVE)
			break;
		sibyl_trial_free(t);
		t = NULL;
		usleep(50000);
	}
	ASSERT_TRUE(t != NULL);
	sibyl_trial_free(t);
	return t ? pid : -1;
}

/* The worker is frozen (SIGSTOP) for longer than the lease, so no
 * heartbeat goes out; when it resumes, its heartbeat answers the trial given
 * up: the command is stopped and nothing is reported for the trial, whose
 * parameters wait in the pool as trial 2. */
static void test_given_up(void)
{
	make_study("run-lost", ",\"staleTrialTimeout\":\"2s\"");
	const char *name = "owners/team/studies/run-lost/trials/1";
	pid_t pid = start_silent("team/run-lost", name);
	if (pid <= 0)
		return;
	kill(pid, SIGSTOP);
	sleep(3);
	kill(pid, SIGCONT);
	struct proc_out o;
	proc_finish(dir, pid, &o);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(!proc_sanitized(&o));
	ASSERT_TRUE(strstr(o.out, "started") != NULL);
	ASSERT_TRUE(strstr(o.out, "finished") == NULL);
	ASSERT_TRUE(strstr(o.err, "the trial is INFEASIBLE on the server (given up") != NULL);
	ASSERT_TRUE(strstr(o.err, "0 trials done (0 succeeded, 0 infeasible), 1 given up by the "
	                          "server") != NULL);
	ASSERT_TRUE(strstr(o.err, "complete failed") == NULL);
	struct sibyl_trial_list *l = trials("run-lost");
	ASSERT_EQ_INT(l ? l->n : 0, 2);
	if (l && l->n == 2) {
		const struct sibyl_trial *t = l->trials[0], *next = l->trials[1];
		ASSERT_EQ_INT(t->state, SIBYL_TRIAL_INFEASIBLE);
		ASSERT_TRUE(t->infeasible_reason &&
		            strncmp(t->infeasible_reason, "given up", 8) == 0);
		ASSERT_EQ_INT(t->n_measurements, 0);
		ASSERT_EQ_INT(next->state, SIBYL_TRIAL_REQUESTED);
		ASSERT_EQ_DBL(sibyl_trial_param(next, "x")->number,
		              sibyl_trial_param(t, "x")->number, 0);
	}
	sibyl_trial_list_free(l);
	proc_free(&o);
}

/* A stop through the API while the command is silent: the heartbeat sees
 * STOPPING and stops the command; with nothing reported the trial is
 * INFEASIBLE with the command's end as the reason. */
static void test_stop_silent(void)
{
	make_study("run-stop-quiet", ",\"staleTrialTimeout\":\"3s\"");
	const char *name = "owners/team/studies/run-stop-quiet/trials/1";
	pid_t pid = start_silent("team/run-stop-quiet", name);
	if (pid <= 0)
		return;
	ASSERT_EQ_INT(sibyl_trial_stop(c, name, NULL), 0);
	struct proc_out o;
	proc_finish(dir, pid, &o);
	ASSERT_EQ_INT(o.status, 8); /* its only trial is INFEASIBLE */
	ASSERT_TRUE(!proc_sanitized(&o));
	ASSERT_TRUE(strstr(o.out, "finished") == NULL);
	ASSERT_TRUE(strstr(o.err, "the trial was stopped; stopping the command") != NULL);
	struct sibyl_trial *t = NULL;
	ASSERT_EQ_INT(sibyl_trial_get(c, name, &t), 0);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_INFEASIBLE);
	ASSERT_TRUE(t && t->infeasible_reason &&
	            strstr(t->infeasible_reason, "killed by signal 15") != NULL);
	sibyl_trial_free(t);
	proc_free(&o);
}

/* SIGTERM on a study with a staleTrialTimeout: the message says how the
 * trial comes back (resumed, or given to another worker by its lease). */
static void test_interrupt_lease(void)
{
	make_study("run-int-lease", ",\"staleTrialTimeout\":\"30s\"");
	pid_t pid =
	    start_silent("team/run-int-lease", "owners/team/studies/run-int-lease/trials/1");
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	struct proc_out o;
	proc_finish(dir, pid, &o);
	ASSERT_EQ_INT(o.status, 130);
	ASSERT_TRUE(strstr(o.err,
	                   "trial 1: interrupted; left ACTIVE: resume it with --client-id q, "
	                   "or its staleTrialTimeout gives it to another worker") != NULL);
	proc_free(&o);
}

int main(void)
{
	cli_path = getenv("SIBYL_CLI");
	train = getenv("SIBYL_TRAIN");
	ASSERT_TRUE(cli_path && train);
	snprintf(dir, sizeof dir, "/tmp/sibyl-run-XXXXXX");
	if (!cli_path || !train || !mkdtemp(dir))
		return test_done("test-run");
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("test-run");
	ASSERT_EQ_INT(daemon_create_owner(d, "team"), 200);
	snprintf(env_url, sizeof env_url, "SIBYL_URL=%s", d->url);
	snprintf(env_key, sizeof env_key, "SIBYL_KEY=%s", HARNESS_ADMIN_KEY);
	c = sibyl_client_new(d->url, HARNESS_ADMIN_KEY);
	test_ok("ok");
	test_ok("json");
	test_infeasible();
	test_mixed();
	test_json_wrong_key();
	test_values();
	test_max_failures();
	test_study_complete();
	test_parallel();
	test_early_stopping();
	test_stop_by_api();
	test_interrupt();
	test_heartbeat();
	test_given_up();
	test_stop_silent();
	test_interrupt_lease();
	sibyl_client_free(c);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	proc_rmdir(dir);
	return test_done("test-run");
}
