/* client/examples/worker.c (the C worker of docs/client.md) against the real
 * sibyld: it runs its trials and they are all SUCCEEDED with its loss. */
#include <sibyl/sibyl.h>

#include "harness.h"
#include "proc.h"
#include "test.h"

/* docs/client.md shows worker.c from its first #include: the same text. */
static void test_doc_matches(void)
{
	const char *src = getenv("SIBYL_EXAMPLE_SRC"), *doc = getenv("SIBYL_CLIENT_DOC");
	ASSERT_TRUE(src && doc);
	if (!src || !doc)
		return;
	char *code = proc_slurp(src), *text = proc_slurp(doc);
	const char *body = code ? strstr(code, "#include <stdio.h>") : NULL;
	ASSERT_TRUE(body != NULL);
	if (body && text && !strstr(text, body))
		TEST_FAIL("docs/client.md does not show client/examples/worker.c as it is");
	test_checks++;
	free(code);
	free(text);
}

int main(void)
{
	test_doc_matches();
	const char *worker = getenv("SIBYL_EXAMPLE_WORKER");
	char dir[] = "/tmp/sibyl-example-XXXXXX";
	ASSERT_TRUE(worker != NULL);
	if (!worker || !mkdtemp(dir))
		return test_done("test-example");
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("test-example");
	ASSERT_EQ_INT(daemon_create_owner(d, "team"), 200);
	char url[128], key[128];
	snprintf(url, sizeof url, "SIBYL_URL=%s", d->url);
	snprintf(key, sizeof key, "SIBYL_KEY=%s", HARNESS_ADMIN_KEY);
	const char *env[] = {url, key, NULL};
	char *argv[] = {(char *)worker, "team", "6", NULL};
	struct proc_out o;
	proc_run(dir, argv, env, &o);
	ASSERT_EQ_INT(o.status, 0);
	ASSERT_TRUE(strstr(o.out, "trial 6: x=") != NULL);
	proc_free(&o);

	struct sibyl_client *c = sibyl_client_new(d->url, HARNESS_ADMIN_KEY);
	struct sibyl_trial_list *l = NULL;
	ASSERT_EQ_INT(sibyl_trial_list(c, "owners/team/studies/quadratic", NULL, 0, NULL, &l), 0);
	ASSERT_EQ_INT(l ? l->n : 0, 6);
	for (size_t i = 0; l && i < l->n; i++) {
		const struct sibyl_trial *t = l->trials[i];
		double x = sibyl_trial_param(t, "x")->number;
		ASSERT_EQ_INT(t->state, SIBYL_TRIAL_SUCCEEDED);
		ASSERT_EQ_DBL(t->final_measurement->metrics[0].value, (x - 0.3) * (x - 0.3), 1e-12);
	}
	sibyl_trial_list_free(l);

	/* without a server it says why and fails */
	const char *noenv[] = {"SIBYL_URL=http://127.0.0.1:1", key, NULL};
	proc_run(dir, argv, noenv, &o);
	ASSERT_EQ_INT(o.status, 1);
	ASSERT_TRUE(strstr(o.err, "ECONNECT") != NULL);
	proc_free(&o);
	sibyl_client_free(c);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	proc_rmdir(dir);
	return test_done("test-example");
}
