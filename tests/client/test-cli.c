/* The `sibyl` tool against the real sibyld: subcommands, --json, exit codes. */
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

static void test_help(void)
{
	struct proc_out o;
	sibyl(&o, "--help", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "Exit codes") != NULL);
	proc_free(&o);
	static const char *const groups[][10] = {
	    {"study", "create", "list", "show", "delete", "importance", NULL},
	    {"trial", "suggest", "list", "show", "measure", "complete", "stop", "delete",
	     "optimal"},
	    {"owner", "create", "list", "show", "delete", NULL},
	    {"key", "create", "list", "delete", NULL},
	};
	for (size_t g = 0; g < 4; g++) {
		sibyl(&o, groups[g][0], "--help", NULL);
		ASSERT_EQ_INT(o.status, 0);
		ASSERT_TRUE(strstr(o.out, "usage: sibyl") != NULL);
		proc_free(&o);
		for (size_t a = 1; a < 10 && groups[g][a]; a++) {
			sibyl(&o, groups[g][0], groups[g][a], "--help", NULL);
			ASSERT_EQ_INT(o.status, 0);
			ASSERT_TRUE(strstr(o.out, groups[g][a]) != NULL);
			proc_free(&o);
		}
	}
	sibyl(&o, "run", "--help", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "SIBYL_PARAM_") != NULL);
	proc_free(&o);
	sibyl(&o, "frobnicate", NULL);
	ASSERT_EQ_INT(o.status, 1);
	ASSERT_TRUE(strstr(o.err, "unknown command") != NULL);
	proc_free(&o);
	sibyl(&o, "study", "frobnicate", NULL);
	ASSERT_EQ_INT(o.status, 1);
	proc_free(&o);
	sibyl(&o, "study", NULL);
	ASSERT_EQ_INT(o.status, 1);
	proc_free(&o);
}

static void test_errors(const struct daemon *d)
{
	struct proc_out o;
	/* no server at all */
	char *argv[] = {(char *)cli_path, "study", "list", "team", NULL};
	const char *noenv[] = {"SIBYL_URL=", NULL};
	proc_run(dir, argv, noenv, &o);
	ASSERT_EQ_INT(o.status, 1);
	ASSERT_TRUE(strstr(o.err, "SIBYL_URL") != NULL);
	proc_free(&o);
	/* connection refused: exit 2 */
	sibyl(&o, "--url", "http://127.0.0.1:1", "study", "list", "team", NULL);
	ASSERT_EQ_INT(o.status, 2);
	ASSERT_TRUE(strstr(o.err, "ECONNECT") != NULL);
	proc_free(&o);
	/* --url and --key after the subcommand work too */
	sibyl(&o, "study", "list", "team", "--url", "http://127.0.0.1:1", NULL);
	ASSERT_EQ_INT(o.status, 2);
	proc_free(&o);
	/* a wrong key: exit 5 */
	sibyl(&o, "--key", "wrong", "study", "list", "team", NULL);
	ASSERT_EQ_INT(o.status, 5);
	ASSERT_TRUE(strstr(o.err, "UNAUTHENTICATED") != NULL);
	proc_free(&o);
	sibyl(&o, "study", "list", "team", "--key", "wrong", NULL);
	ASSERT_EQ_INT(o.status, 5);
	proc_free(&o);
	(void)d;
}

/* A list that fails prints nothing on stdout with --json, not a partial
 * array: only the error, on stderr, and the exit code of the failure. */
static void test_json_list_errors(void)
{
	static const struct {
		int status;
		const char *argv[6];
	} cases[] = {
	    {5, {"study", "list", "team", "--key", "wrong"}},
	    {5, {"owner", "list", "--key", "wrong"}},
	    {5, {"key", "list", "team", "--key", "wrong"}},
	    {5, {"trial", "list", "team/s", "--key", "wrong"}},
	    {3, {"trial", "list", "team/nope"}},
	    {3, {"trial", "optimal", "team/nope"}},
	    {3, {"trial", "suggest", "team/nope", "--client-id", "c"}},
	    {2, {"study", "list", "team", "--url", "http://127.0.0.1:1"}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *const *a = cases[i].argv;
		struct proc_out o;
		sibyl(&o, "--json", a[0], a[1], a[2], a[3], a[4], a[5], NULL);
		ASSERT_EQ_INT(o.status, cases[i].status);
		ASSERT_EQ_STR(o.out, "");
		ASSERT_TRUE(strncmp(o.err, "sibyl: ", 7) == 0);
		proc_free(&o);
	}
}

/* Every --param error says which part is wrong and lists every type and
 * scale; nothing reaches the server. An int range that is not integral is
 * refused as the API refuses it. */
static void test_param_errors(const struct daemon *d)
{
	static const struct {
		const char *param, *why;
	} cases[] = {
	    {"n:int:1:4.5", "MAX \"4.5\" is not an integer"},
	    {"n:int:0.5:4", "MIN \"0.5\" is not an integer"},
	    {"x:double:abc:1", "MIN \"abc\" is not a number"},
	    {"x:double:0:1e999", "MAX \"1e999\" is not a number"},
	    {"x:float:0:1", "unknown type \"float\""},
	    {"x:double:0:1:logg", "unknown scale \"logg\""},
	    {"x:double:0", "double takes ID:double:MIN:MAX[:SCALE] (3 parts given)"},
	    {"x:double:0:1:log:more", "double takes"},
	    {":double:0:1", "the ID is empty"},
	    {"x", "no TYPE after the ID"},
	    {"x:double", "nothing after the type \"double\""},
	    {"c:categorical:a,b:log", "categorical takes ID:categorical:A,B,C (no scale)"},
	    {"k:discrete:1,two,3", "the value \"two\" is not a number"},
	    {"k:discrete:1,,3", "an empty value in the list \"1,,3\""},
	    {"k:discrete:1,2:lg", "unknown scale \"lg\""},
	    {"g:double:0:1@nope=a", "the parent \"nope\" is not a parameter given before"},
	    {"g:double:0:1@=a", "the condition \"@=a\" is not @PARENT=V1,V2"},
	};
	char *before = db_dump_data(d->db_path);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct proc_out o;
		sibyl(&o, "study", "create", "team/perr", "--param", cases[i].param, "--metric",
		      "loss:minimize", NULL);
		ASSERT_EQ_INT(o.status, 1);
		char head[128];
		snprintf(head, sizeof head, "bad --param \"%s\": ", cases[i].param);
		if (!strstr(o.err, head) || !strstr(o.err, cases[i].why))
			TEST_FAIL("--param %s: stderr \"%s\", want \"%s%s\"", cases[i].param, o.err,
			          head, cases[i].why);
		/* the usage names every type and every scale */
		ASSERT_TRUE(strstr(o.err, "ID:double:MIN:MAX[:SCALE]") &&
		            strstr(o.err, "ID:int:MIN:MAX[:SCALE]") &&
		            strstr(o.err, "ID:categorical:A,B,C") &&
		            strstr(o.err, "ID:discrete:") && strstr(o.err, "linear") &&
		            strstr(o.err, "log") && strstr(o.err, "reverselog") &&
		            strstr(o.err, "@PARENT="));
		proc_free(&o);
	}
	/* a double parent cannot have conditional children */
	struct proc_out o;
	sibyl(&o, "study", "create", "team/perr", "--param", "x:double:0:1", "--param",
	      "g:double:0:1@x=0.5", "--metric", "loss:minimize", NULL);
	ASSERT_EQ_INT(o.status, 1);
	ASSERT_TRUE(strstr(o.err, "the parent \"x\" is a double") != NULL);
	proc_free(&o);
	char *after = db_dump_data(d->db_path);
	ASSERT_TRUE(before && after && strcmp(before, after) == 0);
	free(before);
	free(after);
	/* the API refuses the same spec the CLI refused */
	struct sibyl_client *c = sibyl_client_new(d->url, HARNESS_ADMIN_KEY);
	struct sibyl_study *s = NULL;
	ASSERT_EQ_INT(
	    sibyl_study_create(c, "team", "perr",
	                       "{\"metrics\":[{\"metricId\":\"loss\",\"goal\":\"MINIMIZE\"}],"
	                       "\"parameters\":[{\"parameterId\":\"n\",\"integerValueSpec\":"
	                       "{\"minValue\":1,\"maxValue\":4.5}}]}",
	                       &s),
	    -SIBYL_INVALID_ARGUMENT);
	sibyl_study_free(s);
	sibyl_client_free(c);
	/* every scale and an integral int range in exponent form are taken */
	sibyl(&o, "--json", "study", "create", "team/scales", "--param", "a:double:1:10:reverselog",
	      "--param", "b:int:1:1e3:log", "--param", "c:double:0:1:linear", "--param",
	      "k:discrete:1,2,4:log", "--metric", "loss:minimize", NULL);
	ASSERT_EQ_INT(o.status, 0);
	json_t *ps = json_object_get(json_object_get(o.json, "studySpec"), "parameters");
	ASSERT_EQ_STR(jstr(json_array_get(ps, 0), "scaleType"), "UNIT_REVERSE_LOG_SCALE");
	ASSERT_EQ_STR(jstr(json_object_get(json_array_get(ps, 1), "integerValueSpec"), "maxValue"),
	              "1000");
	ASSERT_EQ_STR(jstr(json_array_get(ps, 2), "scaleType"), "UNIT_LINEAR_SCALE");
	proc_free(&o);
	sibyl(&o, "study", "delete", "team/scales", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
}

/* --json prints the server's text: numbers as the server wrote them. */
static void test_json_verbatim(void)
{
	struct proc_out o;
	sibyl(&o, "--json", "study", "show", "team/s", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "\"minValue\":1e-05") != NULL);
	ASSERT_TRUE(strstr(o.out, "1.0000000000000001") == NULL);
	proc_free(&o);
	sibyl(&o, "study", "show", "team/s", NULL);
	ASSERT_TRUE(strstr(o.out, "\"minValue\":1e-05") != NULL);
	proc_free(&o);
	sibyl(&o, "--json", "trial", "add", "team/s", "x=0.1", "lr=1e-5", "layers=2", "opt=sgd",
	      "bs=16", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "{\"parameterId\":\"lr\",\"value\":1e-05}") != NULL);
	const char *id = jstr(o.json, "id");
	char tid[32];
	snprintf(tid, sizeof tid, "%s", id ? id : "0");
	proc_free(&o);
	sibyl(&o, "--json", "trial", "list", "team/s", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "{\"parameterId\":\"lr\",\"value\":1e-05}") != NULL);
	ASSERT_TRUE(json_array_size(o.json) >= 1);
	proc_free(&o);
	sibyl(&o, "--json", "trial", "show", "team/s", tid, NULL);
	ASSERT_TRUE(strstr(o.out, "\"value\":1e-05}") != NULL);
	ASSERT_EQ_STR(jstr(o.json, "id"), tid);
	proc_free(&o);
	sibyl(&o, "trial", "delete", "team/s", tid, NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
}

/* libsibyl's text access the CLI is built on: the last answer's body as
 * sent, and a GET of any path as text. */
static void test_raw_calls(const struct daemon *d)
{
	struct sibyl_client *c = sibyl_client_new(d->url, HARNESS_ADMIN_KEY);
	char *text = NULL;
	ASSERT_EQ_STR(sibyl_last_body(c), "");
	ASSERT_EQ_INT(sibyl_get_text(c, "/owners/team", &text), -SIBYL_EUSAGE);
	ASSERT_TRUE(text == NULL);
	ASSERT_EQ_INT(sibyl_get_text(c, "owners/team/studies/s/trials?alt=nope", &text),
	              -SIBYL_INVALID_ARGUMENT);
	ASSERT_TRUE(text == NULL);
	ASSERT_EQ_INT(sibyl_get_text(c, "owners/team/studies/s", &text), 0);
	ASSERT_TRUE(text && strstr(text, "\"minValue\":1e-05") != NULL);
	ASSERT_EQ_STR(sibyl_last_body(c), text);
	sibyl_free(text);
	/* a failure leaves the last successful answer's body */
	struct sibyl_study *s = NULL;
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/studies/nope", &s), -SIBYL_NOT_FOUND);
	ASSERT_TRUE(strstr(sibyl_last_body(c), "\"name\":\"owners/team/studies/s\"") != NULL);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/studies/s", &s), 0);
	ASSERT_TRUE(s &&
	            strncmp(sibyl_last_body(c), "{\"name\":\"owners/team/studies/s\"", 31) == 0);
	sibyl_study_free(s);
	sibyl_client_free(c);
}

/* With no key the error says how to give one, not the HTTP header. */
static void test_no_key(void)
{
	struct proc_out o;
	char *argv[] = {(char *)cli_path, "study", "list", "team", NULL};
	const char *env[] = {env_url, "SIBYL_KEY=", NULL};
	proc_run(dir, argv, env, &o);
	ASSERT_EQ_INT(o.status, 5);
	ASSERT_TRUE(strstr(o.err, "set SIBYL_KEY or pass --key") != NULL);
	ASSERT_TRUE(strstr(o.err, "Authorization") == NULL);
	proc_free(&o);
}

static const char cond_json[] =
    "{\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}],\"parameters\":["
    "{\"parameterId\":\"kernel\",\"categoricalValueSpec\":{\"values\":[\"linear\",\"rbf\","
    "\"poly\"]},\"conditionalParameterSpecs\":["
    "{\"parameterSpec\":{\"parameterId\":\"gamma\",\"doubleValueSpec\":{\"minValue\":1e-4,"
    "\"maxValue\":1},\"scaleType\":\"UNIT_LOG_SCALE\"},\"parentCategoricalValues\":{\"values\":"
    "[\"rbf\",\"poly\"]}},"
    "{\"parameterSpec\":{\"parameterId\":\"degree\",\"integerValueSpec\":{\"minValue\":2,"
    "\"maxValue\":5},\"conditionalParameterSpecs\":[{\"parameterSpec\":{\"parameterId\":"
    "\"coef\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}},\"parentIntValues\":"
    "{\"values\":[3,4]}}]},\"parentCategoricalValues\":{\"values\":[\"poly\"]}}]},"
    "{\"parameterId\":\"C\",\"doubleValueSpec\":{\"minValue\":0.01,\"maxValue\":100},"
    "\"scaleType\":\"UNIT_LOG_SCALE\"}]}";

/* `study create` of name with the conditional spec as flags; the JSON. */
static void create_cond_flags(struct proc_out *o, const char *name)
{
	sibyl(o, "--json", "study", "create", name, "--param", "kernel:categorical:linear,rbf,poly",
	      "--param", "gamma:double:1e-4:1:log@kernel=rbf,poly", "--param",
	      "degree:int:2:5@kernel=poly", "--param", "coef:double:0:1@degree=3,4", "--param",
	      "C:double:0.01:100:log", "--metric", "acc:maximize", NULL);
}

/* Conditional parameters from flags give the spec the JSON form gives. */
static void test_conditional(void)
{
	struct proc_out o, j;
	create_cond_flags(&o, "team/cond-flags");
	ASSERT_EQ_INT(o.status, 0);
	char path[512];
	snprintf(path, sizeof path, "%s/cond.json", dir);
	FILE *f = fopen(path, "w");
	fputs(cond_json, f);
	fclose(f);
	sibyl(&j, "--json", "study", "create", "team/cond-json", "--spec", path, NULL);
	ASSERT_EQ_INT(j.status, 0);
	json_t *a = json_object_get(o.json, "studySpec"), *b = json_object_get(j.json, "studySpec");
	ASSERT_TRUE(a && b && json_equal(a, b));
	if (a && b && !json_equal(a, b))
		fprintf(stderr, "flags: %s\njson:  %s\n", o.out, j.out);
	proc_free(&o);
	proc_free(&j);
	/* the flags again under the JSON study's name load it: the same spec */
	create_cond_flags(&o, "team/cond-json");
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	/* the children appear in trials only when their parent allows */
	sibyl(&o, "--json", "trial", "suggest", "team/cond-flags", "--client-id", "c", "--count",
	      "6", NULL);
	ASSERT_EQ_INT(o.status, 0);
	for (size_t i = 0; i < json_array_size(o.json); i++) {
		json_t *ps = json_object_get(json_array_get(o.json, i), "parameters");
		const char *kernel = NULL;
		int gamma = 0;
		for (size_t k = 0; k < json_array_size(ps); k++) {
			const char *pid = jstr(json_array_get(ps, k), "parameterId");
			if (strcmp(pid, "kernel") == 0)
				kernel = jstr(json_array_get(ps, k), "value");
			gamma |= strcmp(pid, "gamma") == 0;
		}
		ASSERT_TRUE(kernel != NULL);
		ASSERT_EQ_INT(gamma, kernel && strcmp(kernel, "linear") != 0);
	}
	proc_free(&o);
}

/* The line of out (0-based) or "" past the end, into buf. */
static const char *line_of(const char *out, int n, char *buf, size_t len)
{
	for (; n > 0 && out; n--)
		if ((out = strchr(out, '\n')))
			out++;
	snprintf(buf, len, "%.*s", out ? (int)strcspn(out, "\n") : 0, out ? out : "");
	return buf;
}

/* `trial list` lines its columns up; `study show` counts by state and
 * shows the best; `trial list --csv` exports what the JSON says. */
static void test_tables(const struct daemon *d)
{
	test_conditional();
	struct proc_out o;
	sibyl(&o, "trial", "suggest", "team/tab", "--client-id", "c", NULL);
	ASSERT_EQ_INT(o.status, 3);
	proc_free(&o);
	sibyl(&o, "study", "create", "team/tab", "--param", "x:double:0:1", "--param",
	      "opt:categorical:adam,sgd", "--metric", "acc:maximize", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "trial", "add", "team/tab", "x=0.5", "opt=adam", "--result", "acc=0.75", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "trial", "add", "team/tab", "x=0.125", "opt=sgd", "--result", "acc=0.9375", NULL);
	proc_free(&o);
	sibyl(&o, "trial", "suggest", "team/tab", "--client-id", "a-rather-long-client-id",
	      "--count", "2", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "trial", "complete", "team/tab", "3", "--infeasible", "diverged, twice", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);

	sibyl(&o, "trial", "list", "team/tab", NULL);
	ASSERT_EQ_INT(o.status, 0);
	char head[512], row[512];
	line_of(o.out, 0, head, sizeof head);
	const char *cols[] = {"STATE", "CLIENT", "x", "opt", "acc", "REASON"};
	for (size_t c = 0; c < 6; c++) {
		char name[16];
		snprintf(name, sizeof name, c < 2 ? "%s " : "  %s", cols[c]);
		const char *at = strstr(head, name);
		ASSERT_TRUE(at != NULL);
		size_t off = at ? (size_t)(at - head) + (c < 2 ? 0 : 2) : 0;
		for (int r = 1; r <= 4; r++) {
			line_of(o.out, r, row, sizeof row);
			/* every cell of the column starts where its header does */
			if (strlen(row) <= off || row[off] == ' ' || row[off - 1] != ' ')
				TEST_FAIL("column %s not aligned at %zu:\n%s\n%s", cols[c], off,
				          head, row);
		}
	}
	ASSERT_TRUE(strstr(o.out, "a-rather-long-client-id") && strstr(o.out, "diverged, twice"));
	proc_free(&o);

	sibyl(&o, "study", "show", "team/tab", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "trials:     4, 1 ACTIVE, 2 SUCCEEDED, 1 INFEASIBLE\n") != NULL);
	ASSERT_TRUE(strstr(o.out, "best:       trial 2 acc=0.9375\n") != NULL);
	proc_free(&o);
	sibyl(&o, "study", "show", "team/cond-json", NULL);
	ASSERT_TRUE(strstr(o.out, "parameter:  coef\n") && strstr(o.out, "trials:     0\n") &&
	            strstr(o.out, "best:       none yet"));
	proc_free(&o);

	struct proc_out j;
	sibyl(&o, "trial", "list", "team/tab", "--csv", NULL);
	sibyl(&j, "--json", "trial", "list", "team/tab", NULL);
	ASSERT_EQ_INT(o.status, 0);
	line_of(o.out, 0, head, sizeof head);
	ASSERT_EQ_STR(head, "id,state,x,opt,acc,startTime,endTime,clientId\r");
	for (size_t i = 0; i < json_array_size(j.json); i++) {
		json_t *t = json_array_get(j.json, i);
		json_t *ps = json_object_get(t, "parameters");
		json_t *fm = json_object_get(json_object_get(t, "finalMeasurement"), "metrics");
		char want[512];
		double x = json_number_value(json_object_get(json_array_get(ps, 0), "value"));
		line_of(o.out, (int)i + 1, row, sizeof row);
		char *end, *opt;
		ASSERT_TRUE(strncmp(row, jstr(t, "id"), strlen(jstr(t, "id"))) == 0);
		const char *xs = strchr(strchr(row, ',') + 1, ',') + 1;
		ASSERT_TRUE(strtod(xs, &end) == x && *end == ',');
		opt = end + 1;
		snprintf(want, sizeof want, "%s,", jstr(json_array_get(ps, 1), "value"));
		ASSERT_TRUE(strncmp(opt, want, strlen(want)) == 0);
		if (fm) {
			double acc =
			    json_number_value(json_object_get(json_array_get(fm, 0), "value"));
			ASSERT_TRUE(strtod(opt + strlen(want), &end) == acc && *end == ',');
		}
		snprintf(want, sizeof want, ",%s\r",
		         jstr(t, "clientId") ? jstr(t, "clientId") : "");
		ASSERT_TRUE(strlen(row) > strlen(want) &&
		            strcmp(row + strlen(row) - strlen(want), want) == 0);
	}
	line_of(o.out, 5, row, sizeof row);
	ASSERT_EQ_STR(row, "");
	proc_free(&o);
	proc_free(&j);
	sibyl(&o, "trial", "list", "team/tab", "--csv", "--state", "INFEASIBLE", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strncmp(line_of(o.out, 1, row, sizeof row), "3,INFEASIBLE,", 13) == 0);
	ASSERT_EQ_STR(line_of(o.out, 2, row, sizeof row), "");
	proc_free(&o);
	/* values with a comma or a quote are quoted (RFC 4180) */
	struct sibyl_client *c = sibyl_client_new(d->url, HARNESS_ADMIN_KEY);
	struct sibyl_study *st = NULL;
	ASSERT_EQ_INT(
	    sibyl_study_create(c, "team", "quoted",
	                       "{\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}],"
	                       "\"parameters\":[{\"parameterId\":\"w\",\"categoricalValueSpec\":"
	                       "{\"values\":[\"a,b\",\"say \\\"hi\\\"\"]}}]}",
	                       &st),
	    0);
	sibyl_study_free(st);
	struct sibyl_parameter qp[] = {
	    {.parameter_id = "w", .type = SIBYL_VALUE_STRING, .string = "a,b"},
	    {.parameter_id = "w", .type = SIBYL_VALUE_STRING, .string = "say \"hi\""}};
	for (int i = 0; i < 2; i++) {
		struct sibyl_trial *t = NULL;
		ASSERT_EQ_INT(
		    sibyl_trial_create(c, "owners/team/studies/quoted", &qp[i], 1, NULL, &t), 0);
		sibyl_trial_free(t);
	}
	sibyl_client_free(c);
	sibyl(&o, "trial", "list", "team/quoted", "--csv", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "\r\n1,REQUESTED,\"a,b\",,,,\r\n") != NULL);
	ASSERT_TRUE(strstr(o.out, "\r\n2,REQUESTED,\"say \"\"hi\"\"\",,,,\r\n") != NULL);
	proc_free(&o);
	sibyl(&o, "trial", "list", "team/tab", "--csv", "--json", NULL);
	ASSERT_EQ_INT(o.status, 1);
	proc_free(&o);
	sibyl(&o, "trial", "list", "team/nope", "--csv", NULL);
	ASSERT_EQ_INT(o.status, 3);
	ASSERT_EQ_STR(o.out, "");
	proc_free(&o);
}

static void test_studies(const struct daemon *d)
{
	struct proc_out o;
	char *before = db_dump_data(d->db_path);
	/* bad flags: usage (1), nothing sent */
	sibyl(&o, "study", "create", "team/s", "--param", "x:double:0", "--metric", "loss:minimize",
	      NULL);
	ASSERT_EQ_INT(o.status, 1);
	ASSERT_TRUE(strstr(o.err, "bad --param") != NULL);
	proc_free(&o);
	sibyl(&o, "study", "create", "team/s", "--param", "x:double:0:1", "--metric", "loss:lower",
	      NULL);
	ASSERT_EQ_INT(o.status, 1);
	proc_free(&o);
	sibyl(&o, "study", "create", "not-a-study-ref", "--param", "x:double:0:1", NULL);
	ASSERT_EQ_INT(o.status, 1);
	proc_free(&o);
	/* the server refuses min > max: INVALID_ARGUMENT, exit 4 */
	sibyl(&o, "study", "create", "team/s", "--param", "x:double:2:1", "--metric",
	      "loss:minimize", NULL);
	ASSERT_EQ_INT(o.status, 4);
	ASSERT_TRUE(strstr(o.err, "INVALID_ARGUMENT") != NULL);
	proc_free(&o);
	char *after = db_dump_data(d->db_path);
	ASSERT_TRUE(before && after && strcmp(before, after) == 0);
	free(before);
	free(after);

	sibyl(&o, "--json", "study", "create", "team/s", "--param", "x:double:0:1", "--param",
	      "lr:double:1e-5:1:log", "--param", "layers:int:1:4", "--param",
	      "opt:categorical:adam,sgd", "--param", "bs:discrete:16,32,64", "--metric",
	      "loss:minimize", "--algorithm", "random", "--seed", "7", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_STR(jstr(o.json, "name"), "owners/team/studies/s");
	json_t *spec = json_object_get(o.json, "studySpec");
	ASSERT_EQ_INT(json_array_size(json_object_get(spec, "parameters")), 5);
	ASSERT_EQ_STR(jstr(spec, "algorithm"), "RANDOM_SEARCH");
	json_t *lr = json_array_get(json_object_get(spec, "parameters"), 1);
	ASSERT_EQ_STR(jstr(lr, "scaleType"), "UNIT_LOG_SCALE");
	proc_free(&o);
	/* the same again loads it; another spec under that name: exit 6 */
	sibyl(&o, "study", "create", "team/s", "--param", "x:double:0:1", "--param",
	      "lr:double:1e-5:1:log", "--param", "layers:int:1:4", "--param",
	      "opt:categorical:adam,sgd", "--param", "bs:discrete:16,32,64", "--metric",
	      "loss:minimize", "--algorithm", "random", "--seed", "7", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "owners/team/studies/s") != NULL);
	proc_free(&o);
	sibyl(&o, "study", "create", "team/s", "--param", "x:double:0:2", "--metric",
	      "loss:minimize", NULL);
	ASSERT_EQ_INT(o.status, 6);
	ASSERT_TRUE(strstr(o.err, "ALREADY_EXISTS") != NULL);
	proc_free(&o);

	/* each spelling of each goal becomes that goal */
	static const char *const goals[][2] = {{"acc:maximize", "MAXIMIZE"},
	                                       {"acc:MAX", "MAXIMIZE"},
	                                       {"acc:minimize", "MINIMIZE"},
	                                       {"acc:min", "MINIMIZE"}};
	for (size_t i = 0; i < sizeof goals / sizeof goals[0]; i++) {
		char ref[32];
		snprintf(ref, sizeof ref, "team/goal%zu", i);
		sibyl(&o, "--json", "study", "create", ref, "--param", "x:double:0:1", "--metric",
		      goals[i][0], NULL);
		ASSERT_EQ_INT(o.status, 0);
		json_t *ms = json_object_get(json_object_get(o.json, "studySpec"), "metrics");
		ASSERT_EQ_STR(jstr(json_array_get(ms, 0), "goal"), goals[i][1]);
		proc_free(&o);
		sibyl(&o, "study", "delete", ref, NULL);
		ASSERT_EQ_INT(o.status, 0);
		proc_free(&o);
	}

	/* from a spec file */
	char path[512];
	snprintf(path, sizeof path, "%s/spec.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"studySpec\": {\"metrics\": [{\"metricId\": \"acc\", \"goal\": \"MAXIMIZE\"}],"
	      " \"parameters\": [{\"parameterId\": \"y\", \"integerValueSpec\":"
	      " {\"minValue\": 1, \"maxValue\": 9}}]}}",
	      f);
	fclose(f);
	sibyl(&o, "--json", "study", "create", "team/f", "--spec", path, NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_STR(jstr(json_array_get(
	                       json_object_get(json_object_get(o.json, "studySpec"), "metrics"), 0),
	                   "goal"),
	              "MAXIMIZE");
	proc_free(&o);
	sibyl(&o, "study", "create", "team/g", "--spec", "/nonexistent/spec.json", NULL);
	ASSERT_EQ_INT(o.status, 1);
	proc_free(&o);

	sibyl(&o, "--json", "study", "list", "team", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_INT(json_array_size(o.json), 2);
	proc_free(&o);
	sibyl(&o, "study", "list", "team", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "owners/team/studies/f") != NULL);
	ASSERT_TRUE(strstr(o.out, "STATE") != NULL);
	proc_free(&o);
	sibyl(&o, "study", "show", "team/s", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "metric:     loss MINIMIZE") != NULL);
	proc_free(&o);
	sibyl(&o, "study", "show", "team/nope", NULL);
	ASSERT_EQ_INT(o.status, 3);
	ASSERT_TRUE(strstr(o.err, "NOT_FOUND") != NULL);
	proc_free(&o);
	sibyl(&o, "--json", "study", "delete", "team/f", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "study", "delete", "team/f", NULL);
	ASSERT_EQ_INT(o.status, 3);
	proc_free(&o);
}

static void test_trials(void)
{
	struct proc_out o;
	sibyl(&o, "--json", "trial", "suggest", "team/s", "--client-id", "cli", "--count", "2",
	      NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_INT(json_array_size(o.json), 2);
	json_t *t = json_array_get(o.json, 0);
	ASSERT_EQ_STR(jstr(t, "state"), "ACTIVE");
	char id1[32] = "", id2[32] = "";
	snprintf(id1, sizeof id1, "%s", jstr(t, "id") ? jstr(t, "id") : "0");
	snprintf(id2, sizeof id2, "%s",
	         jstr(json_array_get(o.json, 1), "id") ? jstr(json_array_get(o.json, 1), "id")
	                                               : "0");
	proc_free(&o);
	sibyl(&o, "trial", "suggest", "team/s", NULL);
	ASSERT_EQ_INT(o.status, 1); /* --client-id is required */
	proc_free(&o);

	sibyl(&o, "trial", "measure", "team/s", id1, "loss=0.5", "--step", "3", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "1 measurements") != NULL);
	proc_free(&o);
	sibyl(&o, "trial", "measure", "team/s", id1, "accuracy=0.5", NULL);
	ASSERT_EQ_INT(o.status, 4);
	proc_free(&o);
	sibyl(&o, "trial", "measure", "team/s", id1, "loss=abc", NULL);
	ASSERT_EQ_INT(o.status, 1);
	proc_free(&o);
	sibyl(&o, "trial", "measure", "team/s", "999", "loss=1", NULL);
	ASSERT_EQ_INT(o.status, 3);
	proc_free(&o);

	sibyl(&o, "--json", "trial", "complete", "team/s", id1, "loss=0.25", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_STR(jstr(o.json, "state"), "SUCCEEDED");
	proc_free(&o);
	sibyl(&o, "trial", "complete", "team/s", id1, "loss=0.75", NULL);
	ASSERT_EQ_INT(o.status, 6);
	ASSERT_TRUE(strstr(o.err, "FAILED_PRECONDITION") != NULL);
	proc_free(&o);
	sibyl(&o, "trial", "stop", "team/s", id2, NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "STOPPING") != NULL);
	proc_free(&o);
	sibyl(&o, "trial", "complete", "team/s", id2, "--infeasible", "out of memory", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "INFEASIBLE") != NULL);
	proc_free(&o);

	char full[128];
	snprintf(full, sizeof full, "owners/team/studies/s/trials/%s", id1);
	sibyl(&o, "--json", "trial", "show", full, NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_STR(jstr(o.json, "name"), full);
	ASSERT_EQ_INT(json_array_size(json_object_get(o.json, "measurements")), 1);
	proc_free(&o);
	sibyl(&o, "trial", "show", "team/s", id1, NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "final:       loss=0.25") != NULL);
	proc_free(&o);

	sibyl(&o, "--json", "trial", "list", "team/s", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_INT(json_array_size(o.json), 2);
	proc_free(&o);
	sibyl(&o, "--json", "trial", "list", "team/s", "--state", "SUCCEEDED", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_INT(json_array_size(o.json), 1);
	proc_free(&o);
	sibyl(&o, "trial", "list", "team/s", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "SUCCEEDED") && strstr(o.out, "INFEASIBLE"));
	proc_free(&o);
	sibyl(&o, "--json", "trial", "optimal", "team/s", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_INT(json_array_size(o.json), 1);
	ASSERT_EQ_STR(jstr(json_array_get(o.json, 0), "id"), id1);
	proc_free(&o);
	/* trials by hand: REQUESTED, or SUCCEEDED with --result */
	sibyl(&o, "--json", "trial", "add", "team/s", "x=0.5", "lr=0.01", "layers=2", "opt=sgd",
	      "bs=32", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_STR(jstr(o.json, "state"), "REQUESTED");
	proc_free(&o);
	sibyl(&o, "--json", "trial", "add", "team/s", "x=0.25", "lr=0.1", "layers=3", "opt=adam",
	      "bs=16", "--result", "loss=0.125", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_STR(jstr(o.json, "state"), "SUCCEEDED");
	proc_free(&o);
	sibyl(&o, "trial", "add", "team/s", "x=abc", NULL);
	ASSERT_EQ_INT(o.status, 1);
	proc_free(&o);
	sibyl(&o, "trial", "add", "team/s", "x=5", "lr=0.1", "layers=3", "opt=adam", "bs=16", NULL);
	ASSERT_EQ_INT(o.status, 4);
	proc_free(&o);
	sibyl(&o, "--json", "trial", "list", "team/s", "--state", "REQUESTED", NULL);
	ASSERT_EQ_INT(json_array_size(o.json), 1);
	proc_free(&o);
	sibyl(&o, "trial", "delete", "team/s", id2, NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "trial", "show", "team/s", id2, NULL);
	ASSERT_EQ_INT(o.status, 3);
	proc_free(&o);
	sibyl(&o, "trial", "show", "team/s", "x1", NULL);
	ASSERT_EQ_INT(o.status, 1);
	proc_free(&o);
}

static void test_admin(void)
{
	struct proc_out o;
	sibyl(&o, "--json", "owner", "create", "acme", "--display-name", "Acme", NULL);
	if (o.status == 3 || o.status == 7) {
		fprintf(stderr, "note: owners not served: %s", o.err);
		ASSERT_TRUE(strstr(o.err, "sibyl: owner create:") != NULL);
		proc_free(&o);
		return;
	}
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_STR(jstr(o.json, "name"), "owners/acme");
	proc_free(&o);
	sibyl(&o, "owner", "create", "acme", NULL);
	ASSERT_EQ_INT(o.status, 6);
	proc_free(&o);
	sibyl(&o, "--json", "owner", "list", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(json_array_size(o.json) >= 1);
	proc_free(&o);
	sibyl(&o, "owner", "show", "acme", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "Acme") != NULL);
	proc_free(&o);
	sibyl(&o, "--json", "key", "create", "acme", "--role", "READER", NULL);
	ASSERT_EQ_INT(o.status, 0);
	const char *secret = jstr(o.json, "key");
	const char *kname = jstr(o.json, "name");
	ASSERT_TRUE(secret && *secret);
	char keyarg[256] = "", kid[128] = "";
	if (secret && kname) {
		snprintf(keyarg, sizeof keyarg, "%s", secret);
		const char *slash = strrchr(kname, '/');
		snprintf(kid, sizeof kid, "%s", slash ? slash + 1 : kname);
	}
	proc_free(&o);
	/* the READER key may read but not write: exit 5 */
	sibyl(&o, "--key", keyarg, "study", "list", "acme", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "--key", keyarg, "study", "create", "acme/x", "--param", "x:double:0:1",
	      "--metric", "loss:minimize", NULL);
	ASSERT_EQ_INT(o.status, 5);
	proc_free(&o);
	sibyl(&o, "--json", "key", "list", "acme", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_INT(json_array_size(o.json), 1);
	ASSERT_TRUE(json_object_get(json_array_get(o.json, 0), "key") == NULL);
	proc_free(&o);
	sibyl(&o, "key", "delete", "acme", kid, NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "--key", keyarg, "study", "list", "acme", NULL);
	ASSERT_EQ_INT(o.status, 5);
	proc_free(&o);
	sibyl(&o, "owner", "delete", "acme", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "owner", "show", "acme", NULL);
	ASSERT_EQ_INT(o.status, 3);
	proc_free(&o);
}

int main(void)
{
	cli_path = getenv("SIBYL_CLI");
	ASSERT_TRUE(cli_path != NULL);
	snprintf(dir, sizeof dir, "/tmp/sibyl-cli-XXXXXX");
	if (!cli_path || !mkdtemp(dir))
		return test_done("test-cli");
	test_help();
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("test-cli");
	ASSERT_EQ_INT(daemon_create_owner(d, "team"), 200);
	snprintf(env_url, sizeof env_url, "SIBYL_URL=%s", d->url);
	snprintf(env_key, sizeof env_key, "SIBYL_KEY=%s", HARNESS_ADMIN_KEY);
	test_errors(d);
	test_json_list_errors();
	test_no_key();
	test_param_errors(d);
	test_studies(d);
	test_json_verbatim();
	test_raw_calls(d);
	test_trials();
	test_tables(d);
	test_admin();
	ASSERT_EQ_INT(daemon_stop(d), 0);
	proc_rmdir(dir);
	return test_done("test-cli");
}
