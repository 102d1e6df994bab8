/* `sibyl study importance` against the real sibyld: on a study where only
 * x matters, x comes first and the importances sum to 1. Skipped (exit 77)
 * while the server has no :importance method (it answers 404 for the
 * route). */
#include <stdarg.h>

#include <sibyl/sibyl.h>

#include "harness.h"
#include "proc.h"
#include "test.h"
#include "cli_env.h"

/* 30 completed trials: loss = 10 (x - 0.3)^2 + 0.001 y. */
static void seed_study(struct sibyl_client *c)
{
	struct sibyl_study *s = NULL;
	ASSERT_EQ_INT(
	    sibyl_study_create(
	        c, "team", "imp",
	        "{\"metrics\":[{\"metricId\":\"loss\",\"goal\":\"MINIMIZE\"}],"
	        "\"parameters\":[{\"parameterId\":\"y\",\"doubleValueSpec\":{\"minValue\":0,"
	        "\"maxValue\":1}},{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
	        "\"maxValue\":1}}]}",
	        &s),
	    0);
	sibyl_study_free(s);
	for (int i = 0; i < 30; i++) {
		double x = (i * 7 % 30) / 29.0, y = (i * 11 % 30) / 29.0;
		struct sibyl_parameter p[2] = {{.parameter_id = "x", .number = x},
		                               {.parameter_id = "y", .number = y}};
		struct sibyl_metric m = {"loss", 10 * (x - 0.3) * (x - 0.3) + 0.001 * y};
		struct sibyl_measurement fm = {
		    .elapsed_seconds = -1, .step_count = -1, .n_metrics = 1, .metrics = &m};
		struct sibyl_trial *t = NULL;
		ASSERT_EQ_INT(sibyl_trial_create(c, "owners/team/studies/imp", p, 2, &fm, &t), 0);
		sibyl_trial_free(t);
	}
}

/* 1 when the server has the method, 0 after a skip message. */
static int served(void)
{
	struct proc_out o;
	sibyl(&o, "study", "importance", "team/imp", NULL);
	int missing = o.status == 3 && strstr(o.err, "no custom method");
	if (missing)
		fprintf(
		    stderr,
		    "SKIP: this sibyld answers 404 for GET .../studies/imp:importance (%s); the "
		    "importance method is not on this branch yet\n",
		    o.err);
	proc_free(&o);
	return !missing;
}

static void test_importance(void)
{
	struct proc_out o;
	sibyl(&o, "study", "importance", "team/imp", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strncmp(o.out, "PARAMETER", 9) == 0);
	const char *first = strchr(o.out, '\n');
	ASSERT_TRUE(first && strncmp(first + 1, "x ", 2) == 0);
	ASSERT_TRUE(strstr(o.out, "from 30 trials") != NULL);
	proc_free(&o);
	sibyl(&o, "--json", "study", "importance", "team/imp", "--metric", "loss", NULL);
	ASSERT_EQ_INT(o.status, 0);
	json_t *list = json_object_get(o.json, "importances");
	ASSERT_EQ_INT(json_array_size(list), 2);
	double sum = 0;
	for (size_t i = 0; i < json_array_size(list); i++)
		sum += json_number_value(json_object_get(json_array_get(list, i), "importance"));
	ASSERT_EQ_DBL(sum, 1.0, 1e-6);
	ASSERT_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "parameterId")),
	              "x");
	proc_free(&o);
	sibyl(&o, "study", "importance", "team/imp", "--metric", "nope", NULL);
	ASSERT_TRUE(o.status == 3 || o.status == 4);
	ASSERT_EQ_STR(o.out, "");
	proc_free(&o);
	sibyl(&o, "study", "importance", "team/none", NULL);
	ASSERT_EQ_INT(o.status, 3);
	proc_free(&o);
}

int main(void)
{
	cli_path = getenv("SIBYL_CLI");
	ASSERT_TRUE(cli_path != NULL);
	snprintf(dir, sizeof dir, "/tmp/sibyl-imp-XXXXXX");
	if (!cli_path || !mkdtemp(dir))
		return test_done("test-importance");
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("test-importance");
	ASSERT_EQ_INT(daemon_create_owner(d, "team"), 200);
	snprintf(env_url, sizeof env_url, "SIBYL_URL=%s", d->url);
	snprintf(env_key, sizeof env_key, "SIBYL_KEY=%s", HARNESS_ADMIN_KEY);
	struct sibyl_client *c = sibyl_client_new(d->url, HARNESS_ADMIN_KEY);
	seed_study(c);
	sibyl_client_free(c);
	int skip = !served();
	if (!skip)
		test_importance();
	ASSERT_EQ_INT(daemon_stop(d), 0);
	proc_rmdir(dir);
	if (skip && test_failures == 0)
		return 77;
	return test_done("test-importance");
}
