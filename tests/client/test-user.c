/* What a new user types at the `sibyl` tool, against the real sibyld: a
 * trial named as the run prints it (OWNER/STUDY/ID), an enum value in lower
 * case (--state succeeded, --role reader), round numbers of a spec shown as
 * a person writes them (100, not 1e+02), and the usage errors that say
 * which forms are meant. */
#include <stdarg.h>

#include <sibyl/sibyl.h>

#include "harness.h"
#include "proc.h"
#include "test.h"
#include "cli_env.h"

static const char *jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/* Creates team/s and completes one trial of it (loss=0.5), leaving a
 * second one ACTIVE; their ids into done and active. */
static void make_study(char *done, char *active, size_t len)
{
	struct proc_out o;
	sibyl(&o, "study", "create", "team/s", "--param", "x:double:0:100", "--param",
	      "n:int:1:1000", "--param", "d:discrete:1,10,100,1000", "--metric", "loss:minimize",
	      NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "--json", "trial", "suggest", "team/s", "--client-id", "u", "--count", "2", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_INT(json_array_size(o.json), 2);
	const char *a = jstr(json_array_get(o.json, 0), "id");
	const char *b = jstr(json_array_get(o.json, 1), "id");
	snprintf(done, len, "%s", a ? a : "0");
	snprintf(active, len, "%s", b ? b : "0");
	proc_free(&o);
	char ref[64];
	snprintf(ref, sizeof ref, "team/s/%s", done);
	/* OWNER/STUDY/ID, as `sibyl run` prints "trial 7" under team/s */
	sibyl(&o, "trial", "complete", ref, "loss=0.5", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "SUCCEEDED") != NULL);
	proc_free(&o);
}

/* A trial named OWNER/STUDY/ID in every action that takes a TRIAL. */
static void test_short_trial_names(const char *done, const char *active)
{
	char ref[64], full[96];
	snprintf(ref, sizeof ref, "team/s/%s", done);
	snprintf(full, sizeof full, "owners/team/studies/s/trials/%s", done);
	struct proc_out o;
	sibyl(&o, "--json", "trial", "show", ref, NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_STR(jstr(o.json, "name"), full);
	proc_free(&o);
	sibyl(&o, "trial", "set-metadata", ref, "checkpoint=/ck/1", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "checkpoint=/ck/1") != NULL);
	proc_free(&o);
	snprintf(ref, sizeof ref, "team/s/%s", active);
	sibyl(&o, "trial", "measure", ref, "loss=0.75", "--step", "2", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "trial", "stop", ref, NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "STOPPING") != NULL);
	proc_free(&o);
	/* the two-argument form still works */
	sibyl(&o, "trial", "show", "team/s", done, NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "final:       loss=0.5") != NULL);
	proc_free(&o);
}

/* Wrong trial names: a usage error (exit 1) that lists the forms, and
 * nothing sent (the trial is unchanged). */
static void test_bad_trial_names(const char *active)
{
	static const char *const bad[][3] = {
	    {"show", "team/s", NULL},    /* no id */
	    {"show", "team/s/x1", NULL}, /* not a number */
	    {"show", "team/s/0", NULL},  /* not positive */
	    {"stop", "team//1", NULL},   /* no study */
	    {"delete", "a/b/c/1", NULL}, /* a study id has no '/' */
	    {"set-metadata", "team/s", NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct proc_out o;
		sibyl(&o, "trial", bad[i][0], bad[i][1], bad[i][2], NULL);
		ASSERT_EQ_INT(o.status, 1);
		ASSERT_EQ_STR(o.out, "");
		ASSERT_TRUE(strncmp(o.err, "sibyl: ", 7) == 0);
		if (i == 0 || i == 5) {
			ASSERT_TRUE(strstr(o.err, "no trial id after team/s") != NULL);
			ASSERT_TRUE(strstr(o.err, "OWNER/STUDY/ID (demo/mnist/7)") != NULL);
		}
		proc_free(&o);
	}
	struct proc_out o;
	sibyl(&o, "trial", "show", "--help", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "TRIAL is OWNER/STUDY ID (demo/mnist 7)") != NULL);
	proc_free(&o);
	sibyl(&o, "trial", "--help", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "OWNER/STUDY/ID") != NULL);
	proc_free(&o);
	/* the active trial was stopped above and nothing since changed it */
	sibyl(&o, "--json", "trial", "show", "team/s", active, NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_STR(jstr(o.json, "state"), "STOPPING");
	ASSERT_EQ_INT(json_array_size(json_object_get(o.json, "measurements")), 1);
	proc_free(&o);
}

/* --state and --role in lower case, as --metric's goal already is. */
static void test_lower_case(void)
{
	struct proc_out o;
	sibyl(&o, "--json", "trial", "list", "team/s", "--state", "succeeded", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_INT(json_array_size(o.json), 1);
	proc_free(&o);
	sibyl(&o, "trial", "list", "team/s", "--state", "Stopping", "--csv", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, ",STOPPING,") != NULL);
	proc_free(&o);
	/* a state that is none: the server's error lists them */
	sibyl(&o, "trial", "list", "team/s", "--state", "done", NULL);
	ASSERT_EQ_INT(o.status, 4);
	ASSERT_TRUE(strstr(o.err, "SUCCEEDED") != NULL);
	proc_free(&o);
	sibyl(&o, "--json", "key", "create", "team", "--role", "reader", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_STR(jstr(o.json, "role"), "READER");
	proc_free(&o);
	sibyl(&o, "key", "create", "team", "--role", "owner", NULL);
	ASSERT_EQ_INT(o.status, 4);
	proc_free(&o);
	sibyl(&o, "--json", "key", "list", "team", NULL);
	ASSERT_EQ_INT(json_array_size(o.json), 1); /* the refused one was not made */
	proc_free(&o);
}

/* The spec's round numbers as a person writes them: the server's JSON
 * (shown verbatim by study show and --json) has 100.0 and 1000.0, never
 * 1e+02 or 1e+03. */
static void test_round_numbers(void)
{
	struct proc_out o;
	sibyl(&o, "study", "show", "team/s", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "\"maxValue\":100.0") != NULL);
	ASSERT_TRUE(strstr(o.out, "[1.0,10.0,100.0,1000.0]") != NULL);
	ASSERT_TRUE(strstr(o.out, "e+0") == NULL);
	proc_free(&o);
	sibyl(&o, "--json", "study", "show", "team/s", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "e+0") == NULL);
	proc_free(&o);
}

/* owner show says what an owner is (name, display name, created, quota),
 * owner list is an aligned table with a header, as study list is. */
static void test_owners(void)
{
	struct proc_out o;
	sibyl(&o, "owner", "create", "vis", "--display-name", "Vision team", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "name:       owners/vis\n") != NULL);
	proc_free(&o);
	sibyl(&o, "owner", "show", "vis", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "display:    Vision team\n") != NULL);
	ASSERT_TRUE(strstr(o.out, "created:    20") != NULL);
	ASSERT_TRUE(strstr(o.out, "quota:      maxStudies=0 ") != NULL);
	ASSERT_TRUE(strstr(o.out, " maxApiKeys=100 (0: no limit)\n") != NULL);
	proc_free(&o);
	sibyl(&o, "owner", "list", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strncmp(o.out, "OWNER  DISPLAY NAME  CREATED\n", 29) == 0);
	ASSERT_TRUE(strstr(o.out, "\nvis    Vision team   20") != NULL);
	ASSERT_TRUE(strstr(o.out, " \n") == NULL); /* no trailing blanks */
	proc_free(&o);
	sibyl(&o, "owner", "show", "nobody", NULL);
	ASSERT_EQ_INT(o.status, 3);
	ASSERT_EQ_STR(o.out, "");
	proc_free(&o);
}

/* A Python training command's prints reach sibyl run as they are made:
 * Python block-buffers a pipe, so without PYTHONUNBUFFERED (set for the
 * command unless the caller set it) every metric line came at its exit. */
static void test_python_unbuffered(void)
{
	struct proc_out o;
	sibyl(&o, "study", "create", "team/py", "--param", "x:double:0:1", "--metric",
	      "wt:maximize", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "run", "--study", "team/py", "--client-id", "p", "--max-trials", "1", "--",
	      "python3", "-c", "import sys; print('sibyl: wt=%d' % sys.stdout.write_through)",
	      NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.err, "SUCCEEDED wt=1 ") != NULL);
	proc_free(&o);
	/* the caller's own setting is kept (an empty one: buffered) */
	const char *env[] = {env_url, env_key, "PYTHONUNBUFFERED=", NULL};
	char *argv[] = {(char *)cli_path,
	                "run",
	                "--study",
	                "team/py",
	                "--client-id",
	                "p",
	                "--max-trials",
	                "1",
	                "--",
	                "python3",
	                "-c",
	                "import sys; print('sibyl: wt=%d' % sys.stdout.write_through)",
	                NULL};
	proc_run(dir, argv, env, &o);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.err, "SUCCEEDED wt=0 ") != NULL);
	proc_free(&o);
}

/* A typo in the command (pyhton3, a script path) is a usage error before
 * any trial is asked for: no trial is left ACTIVE by it. */
static void test_command_typo(void)
{
	static const char *const cmds[] = {"pyhton3", "./no-such-train.sh", "/tmp"};
	struct proc_out o;
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		sibyl(&o, "run", "--study", "team/py", "--client-id", "typo", "--", cmds[i], "x",
		      NULL);
		ASSERT_EQ_INT(o.status, 1);
		ASSERT_TRUE(strstr(o.err, "cannot run ") != NULL);
		ASSERT_TRUE(strstr(o.err, "(no trial was asked for)") != NULL);
		proc_free(&o);
	}
	sibyl(&o, "run", "--study", "team/py", "--client-id", "typo", "--", "pyhton3", NULL);
	ASSERT_TRUE(strstr(o.err, "sibyl: cannot run pyhton3: not found on PATH") != NULL);
	proc_free(&o);
	sibyl(&o, "--json", "trial", "list", "team/py", "--state", "active", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_INT(json_array_size(o.json), 0);
	proc_free(&o);
	/* a command found on PATH, or named by a path, runs */
	sibyl(&o, "run", "--study", "team/py", "--client-id", "ok", "--max-trials", "1", "--", "sh",
	      "-c", "echo 'sibyl: wt=2'", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "run", "--study", "team/py", "--client-id", "ok", "--max-trials", "1", "--",
	      "/bin/sh", "-c", "echo 'sibyl: wt=3'", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
}

/* A metric name misspelt in the training script: the trial's infeasible
 * reason says why no metric came, not only that none did. */
static void test_metric_typo(void)
{
	struct proc_out o;
	sibyl(&o, "run", "--study", "team/py", "--client-id", "mt", "--max-trials", "1", "--", "sh",
	      "-c", "echo 'sibyl: wtt=1'; echo 'sibyl: wtt=2'", NULL);
	ASSERT_EQ_INT(o.status, 8);
	proc_free(&o);
	sibyl(&o, "--json", "trial", "list", "team/py", "--state", "infeasible", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_INT(json_array_size(o.json), 1);
	ASSERT_EQ_STR(
	    jstr(json_array_get(o.json, 0), "infeasibleReason"),
	    "the command exited with status 0 without reporting a metric (2 metric lines "
	    "ignored, the first: \"wtt\" is not a metric of the study (its metrics: wt))");
	proc_free(&o);
}

int main(void)
{
	cli_path = getenv("SIBYL_CLI");
	unsetenv("PYTHONUNBUFFERED"); /* as in a user's shell */
	ASSERT_TRUE(cli_path != NULL);
	snprintf(dir, sizeof dir, "/tmp/sibyl-user-XXXXXX");
	if (!cli_path || !mkdtemp(dir))
		return test_done("test-user");
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("test-user");
	ASSERT_EQ_INT(daemon_create_owner(d, "team"), 200);
	snprintf(env_url, sizeof env_url, "SIBYL_URL=%s", d->url);
	snprintf(env_key, sizeof env_key, "SIBYL_KEY=%s", HARNESS_ADMIN_KEY);
	char done[32], active[32];
	make_study(done, active, sizeof done);
	test_short_trial_names(done, active);
	test_bad_trial_names(active);
	test_lower_case();
	test_round_numbers();
	test_owners();
	test_python_unbuffered();
	test_command_typo();
	test_metric_typo();
	ASSERT_EQ_INT(daemon_stop(d), 0);
	proc_rmdir(dir);
	return test_done("test-user");
}
