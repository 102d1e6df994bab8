/* Metadata of studies and trials from the clients, against the real
 * sibyld: libsibyl (create with metadata, set, delete, read, errors), the
 * `sibyl` tool (study create --metadata, show, set-metadata) and the
 * `sibyl: attr KEY=VALUE` lines of a command under `sibyl run`. */
#include <stdarg.h>

#include <sibyl/sibyl.h>

#include "harness.h"
#include "proc.h"
#include "test.h"

static const char *cli_path;
static char dir[256];
static char env_url[128], env_key[128];
static struct sibyl_client *c;

static const char spec[] =
    "{\"metrics\":[{\"metricId\":\"loss\",\"goal\":\"MINIMIZE\"}],"
    "\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}],"
    "\"algorithm\":\"RANDOM_SEARCH\"}";

/* sibyl ARGS... (NULL-terminated) with the daemon's URL and key (key NULL:
 * the admin's). */
static void sibyl_as(struct proc_out *o, const char *key, ...)
{
	char k[200];
	snprintf(k, sizeof k, "SIBYL_KEY=%s", key);
	const char *env[] = {env_url, key ? k : env_key, NULL};
	va_list ap;
	va_start(ap, key);
	proc_runv(dir, env, o, cli_path, NULL, ap);
	va_end(ap);
	ASSERT_TRUE(!proc_sanitized(o));
}
#define sibyl(o, ...) sibyl_as((o), NULL, __VA_ARGS__)

static void test_libsibyl(const char *reader)
{
	const char *keys[] = {"git", "host"}, *values[] = {"abc123", "m1"};
	struct sibyl_study *s = NULL;
	ASSERT_EQ_INT(sibyl_study_create_with_metadata(c, "team", "lib", spec, keys, values, 2, &s),
	              0);
	ASSERT_EQ_INT(s ? s->n_metadata : 0, 2);
	ASSERT_EQ_STR(sibyl_study_metadata(s, "git"), "abc123");
	ASSERT_EQ_STR(s ? s->metadata[1].key : "", "host");
	ASSERT_TRUE(sibyl_study_metadata(s, "nope") == NULL);
	sibyl_study_free(s);

	/* set one, delete one (NULL value), the rest stays */
	const char *k2[] = {"ckpt", "host"}, *v2[] = {"/c/1", NULL};
	ASSERT_EQ_INT(sibyl_study_set_metadata(c, "owners/team/studies/lib", k2, v2, 2, &s), 0);
	ASSERT_EQ_INT(s ? s->n_metadata : 0, 2);
	ASSERT_EQ_STR(sibyl_study_metadata(s, "ckpt"), "/c/1");
	ASSERT_TRUE(sibyl_study_metadata(s, "host") == NULL);
	sibyl_study_free(s);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/studies/lib", &s), 0);
	ASSERT_EQ_STR(sibyl_study_metadata(s, "git"), "abc123");
	sibyl_study_free(s);

	/* trials: set without wanting the answer, then read it back */
	struct sibyl_parameter p = {.parameter_id = "x", .number = 0.25};
	struct sibyl_trial *t = NULL;
	ASSERT_EQ_INT(sibyl_trial_create(c, "owners/team/studies/lib", &p, 1, NULL, &t), 0);
	ASSERT_EQ_INT(t ? t->n_metadata : 1, 0);
	const char *k3[] = {"machine"}, *v3[] = {"gpu7"};
	ASSERT_EQ_INT(sibyl_trial_set_metadata(c, t ? t->name : "", k3, v3, 1, NULL), 0);
	sibyl_trial_free(t);
	struct sibyl_trial_list *l = NULL;
	ASSERT_EQ_INT(sibyl_trial_list(c, "owners/team/studies/lib", NULL, 0, NULL, &l), 0);
	ASSERT_EQ_STR(l && l->n ? sibyl_trial_metadata(l->trials[0], "machine") : "", "gpu7");
	sibyl_trial_list_free(l);

	/* errors: the server's limit, a NULL key (nothing sent), a READER */
	char big[5000];
	memset(big, 'v', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	const char *k4[] = {"big"}, *v4[] = {big};
	ASSERT_EQ_INT(sibyl_study_set_metadata(c, "owners/team/studies/lib", k4, v4, 1, NULL),
	              -SIBYL_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(sibyl_errmsg(c), "max_metadata_value_bytes") != NULL);
	const char *k5[] = {NULL}, *v5[] = {"x"};
	ASSERT_EQ_INT(sibyl_study_set_metadata(c, "owners/team/studies/lib", k5, v5, 1, NULL),
	              -SIBYL_EUSAGE);
	ASSERT_EQ_INT(
	    sibyl_study_create_with_metadata(c, "team", "lib2", spec, keys, v2 + 1, 1, &s),
	    -SIBYL_EUSAGE);
	ASSERT_TRUE(s == NULL);
	struct sibyl_client *rc = sibyl_client_new(getenv("SIBYL_TEST_URL"), reader);
	ASSERT_EQ_INT(sibyl_study_set_metadata(rc, "owners/team/studies/lib", k3, v3, 1, NULL),
	              -SIBYL_PERMISSION_DENIED);
	sibyl_client_free(rc);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/studies/lib", &s), 0);
	ASSERT_EQ_INT(s ? s->n_metadata : 0, 2); /* git, ckpt: nothing changed */
	sibyl_study_free(s);
}

static void test_cli(const char *reader)
{
	struct proc_out o;
	sibyl(&o, "study", "create", "team/cli", "--param", "x:double:0:1", "--metric",
	      "loss:minimize", "--metadata", "git=abc", "--metadata", "note=two words",
	      "--metadata", "empty=", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "study", "show", "team/cli", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "metadata:   empty=\nmetadata:   git=abc\n"
	                          "metadata:   note=two words\n") != NULL);
	proc_free(&o);
	sibyl(&o, "study", "set-metadata", "team/cli", "host=m2", "--delete", "git", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_STR(o.out, "empty=\nhost=m2\nnote=two words\n");
	proc_free(&o);
	sibyl(&o, "--json", "study", "show", "team/cli", NULL);
	ASSERT_EQ_STR(
	    json_string_value(json_object_get(json_object_get(o.json, "metadata"), "host")), "m2");
	proc_free(&o);

	/* usage errors: exit 1, nothing sent */
	sibyl(&o, "study", "set-metadata", "team/cli", NULL);
	ASSERT_EQ_INT(o.status, 1);
	ASSERT_TRUE(strstr(o.err, "usage: sibyl study set-metadata") != NULL);
	proc_free(&o);
	sibyl(&o, "study", "set-metadata", "team/cli", "novalue", NULL);
	ASSERT_EQ_INT(o.status, 1);
	ASSERT_TRUE(strstr(o.err, "bad metadata \"novalue\": want KEY=VALUE") != NULL);
	proc_free(&o);
	sibyl(&o, "study", "create", "team/cli2", "--param", "x:double:0:1", "--metric",
	      "loss:minimize", "--metadata", "=v", NULL);
	ASSERT_EQ_INT(o.status, 1);
	proc_free(&o);
	/* the server's refusals: exit 4 (invalid), 3 (not found), 5 (READER) */
	char big[5000];
	memset(big, 'v', sizeof big - 1);
	memcpy(big, "k=", 2);
	big[sizeof big - 1] = '\0';
	sibyl(&o, "study", "set-metadata", "team/cli", big, NULL);
	ASSERT_EQ_INT(o.status, 4);
	ASSERT_TRUE(strstr(o.err, "max_metadata_value_bytes") != NULL);
	proc_free(&o);
	sibyl(&o, "trial", "set-metadata", "team/cli", "7", "a=b", NULL);
	ASSERT_EQ_INT(o.status, 3);
	proc_free(&o);
	sibyl_as(&o, reader, "study", "set-metadata", "team/cli", "a=b", NULL);
	ASSERT_EQ_INT(o.status, 5);
	proc_free(&o);

	/* trials */
	sibyl(&o, "trial", "add", "team/cli", "x=0.5", NULL);
	ASSERT_EQ_INT(o.status, 0);
	proc_free(&o);
	sibyl(&o, "trial", "set-metadata", "team/cli", "1", "ckpt=/ck/1", "machine=gpu7", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_STR(o.out, "ckpt=/ck/1\nmachine=gpu7\n");
	proc_free(&o);
	sibyl(&o, "trial", "set-metadata", "owners/team/studies/cli/trials/1", "--delete", "ckpt",
	      NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_EQ_STR(o.out, "machine=gpu7\n");
	proc_free(&o);
	sibyl(&o, "trial", "show", "team/cli", "1", NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "metadata:    machine=gpu7\n") != NULL);
	proc_free(&o);
}

/* A command that attaches metadata with `sibyl: attr` lines. */
static void test_run_attr(void)
{
	struct sibyl_study *s = NULL;
	ASSERT_EQ_INT(sibyl_study_create(c, "team", "run", spec, &s), 0);
	sibyl_study_free(s);
	char script[512];
	snprintf(script, sizeof script, "%s/attr.sh", dir);
	FILE *f = fopen(script, "w");
	ASSERT_TRUE(f != NULL);
	if (!f)
		return;
	fputs("#!/bin/sh\n"
	      "echo 'sibyl: attr git=abc123'\n"
	      "echo 'sibyl: attr ckpt=/ck/with space/1  '\n"
	      "echo 'sibyl: attr nokey'\n"
	      "echo \"sibyl: attr big=$(head -c 5000 /dev/zero | tr '\\0' v)\"\n"
	      "echo 'sibyl: loss=0.5'\n",
	      f);
	fclose(f);
	chmod(script, 0755);
	struct proc_out o;
	sibyl(&o, "run", "--study", "team/run", "--client-id", "w", "--max-trials", "1", "--",
	      script, NULL);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.err, "ignored attr line: \"nokey\" is not KEY=VALUE") != NULL);
	ASSERT_TRUE(strstr(o.err, "attr big not recorded: INVALID_ARGUMENT") != NULL);
	ASSERT_TRUE(strstr(o.err, "ignored metric line") == NULL);
	ASSERT_TRUE(strstr(o.out, "sibyl: attr git=abc123") != NULL); /* passed through */
	proc_free(&o);
	struct sibyl_trial *t = NULL;
	ASSERT_EQ_INT(sibyl_trial_get(c, "owners/team/studies/run/trials/1", &t), 0);
	ASSERT_EQ_INT(t ? t->state : 0, SIBYL_TRIAL_SUCCEEDED);
	ASSERT_EQ_INT(t ? t->n_metadata : 0, 2);
	ASSERT_EQ_STR(sibyl_trial_metadata(t, "git"), "abc123");
	ASSERT_EQ_STR(sibyl_trial_metadata(t, "ckpt"), "/ck/with space/1");
	sibyl_trial_free(t);
}

int main(void)
{
	cli_path = getenv("SIBYL_CLI");
	ASSERT_TRUE(cli_path != NULL);
	snprintf(dir, sizeof dir, "/tmp/sibyl-md-XXXXXX");
	if (!cli_path || !mkdtemp(dir))
		return test_done("test-metadata");
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("test-metadata");
	ASSERT_EQ_INT(daemon_create_owner(d, "team"), 200);
	snprintf(env_url, sizeof env_url, "SIBYL_URL=%s", d->url);
	snprintf(env_key, sizeof env_key, "SIBYL_KEY=%s", HARNESS_ADMIN_KEY);
	setenv("SIBYL_TEST_URL", d->url, 1);
	c = sibyl_client_new(d->url, HARNESS_ADMIN_KEY);
	struct sibyl_api_key *k = NULL;
	ASSERT_EQ_INT(sibyl_api_key_create(c, "team", "READER", NULL, &k), 0);
	char reader[160];
	snprintf(reader, sizeof reader, "%s", k ? k->key : "");
	sibyl_api_key_free(k);
	test_libsibyl(reader);
	test_cli(reader);
	test_run_attr();
	sibyl_client_free(c);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	proc_rmdir(dir);
	return test_done("test-metadata");
}
