/* libsibyl against the real sibyld: every method, every error class. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sibyl/sibyl.h>

#include "harness.h"
#include "test.h"

static const char spec_x[] =
    "{\"metrics\":[{\"metricId\":\"loss\",\"goal\":\"MINIMIZE\"}],"
    "\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}},"
    "{\"parameterId\":\"opt\",\"categoricalValueSpec\":{\"values\":[\"adam\",\"sgd\"]}}],"
    "\"algorithm\":\"RANDOM_SEARCH\"}";

static struct sibyl_measurement one_metric(struct sibyl_metric *m, const char *id, double v)
{
	m->metric_id = (char *)id;
	m->value = v;
	return (struct sibyl_measurement){
	    .elapsed_seconds = -1, .step_count = -1, .n_metrics = 1, .metrics = m};
}

/* A port nothing listens on: bind, read the port, close. */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return 1;
	close(fd);
	return ntohs(a.sin_port);
}

static void test_studies(struct daemon *d, struct sibyl_client *c)
{
	struct sibyl_study *s = NULL, *s2 = NULL;
	ASSERT_EQ_INT(sibyl_study_create(c, "team", "s1", spec_x, &s), 0);
	ASSERT_TRUE(s != NULL);
	if (!s)
		return;
	ASSERT_EQ_STR(s->name, "owners/team/studies/s1");
	ASSERT_EQ_STR(s->display_name, "s1");
	ASSERT_EQ_INT(s->state, SIBYL_STUDY_ACTIVE);
	ASSERT_EQ_INT(s->n_metrics, 1);
	ASSERT_EQ_STR(s->metrics[0].metric_id, "loss");
	ASSERT_EQ_INT(s->metrics[0].goal, SIBYL_GOAL_MINIMIZE);
	ASSERT_EQ_INT(s->n_parameters, 2);
	ASSERT_EQ_STR(s->parameter_ids[1], "opt");
	ASSERT_EQ_STR(s->algorithm, "RANDOM_SEARCH");
	ASSERT_TRUE(s->create_time != NULL);
	ASSERT_EQ_INT(sibyl_errcode(c), SIBYL_OK);
	ASSERT_EQ_STR(sibyl_errmsg(c), "");

	/* create-or-load: the same spec gives the same study back */
	ASSERT_EQ_INT(sibyl_study_create(c, "team", "s1", spec_x, &s2), 0);
	ASSERT_EQ_STR(s2 ? s2->name : NULL, s->name);
	sibyl_study_free(s2);

	/* a different spec: ALREADY_EXISTS, and the database does not change */
	char *before = db_dump_data(d->db_path);
	const char *other = "{\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}],"
	                    "\"parameters\":[{\"parameterId\":\"y\",\"integerValueSpec\":"
	                    "{\"minValue\":1,\"maxValue\":5}}]}";
	ASSERT_EQ_INT(sibyl_study_create(c, "team", "s1", other, &s2), -SIBYL_ALREADY_EXISTS);
	ASSERT_TRUE(s2 == NULL);
	ASSERT_EQ_INT(sibyl_errcode(c), SIBYL_ALREADY_EXISTS);
	ASSERT_EQ_STR(sibyl_errname(c), "ALREADY_EXISTS");
	ASSERT_EQ_INT(sibyl_errstatus(c), 409);
	ASSERT_TRUE(strlen(sibyl_errmsg(c)) > 0);

	/* an invalid spec: INVALID_ARGUMENT with the server's message naming the field */
	const char *bad = "{\"metrics\":[{\"metricId\":\"loss\",\"goal\":\"MINIMIZE\"}],"
	                  "\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":"
	                  "{\"minValue\":2,\"maxValue\":1}}]}";
	ASSERT_EQ_INT(sibyl_study_create(c, "team", "bad", bad, &s2), -SIBYL_INVALID_ARGUMENT);
	ASSERT_EQ_INT(sibyl_errstatus(c), 400);
	ASSERT_TRUE(strstr(sibyl_errmsg(c), "minValue") != NULL);
	char *after = db_dump_data(d->db_path);
	ASSERT_TRUE(before && after && strcmp(before, after) == 0);
	free(before);
	free(after);

	/* a spec that is not JSON never leaves the client */
	ASSERT_EQ_INT(sibyl_study_create(c, "team", "bad", "{not json", &s2), -SIBYL_EUSAGE);
	ASSERT_EQ_INT(sibyl_errstatus(c), 0);
	ASSERT_EQ_INT(sibyl_errattempts(c), 0);
	/* nor does a name with characters a path cannot hold */
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/studies/a b", &s2), -SIBYL_EUSAGE);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/../x", &s2), -SIBYL_EUSAGE);

	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/studies/s1", &s2), 0);
	ASSERT_TRUE(s2 && s2->spec_json && strstr(s2->spec_json, "\"x\"") != NULL);
	ASSERT_TRUE(s2 && s2->json && strstr(s2->json, "owners/team/studies/s1") != NULL);
	sibyl_study_free(s2);

	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/studies/nope", &s2), -SIBYL_NOT_FOUND);
	ASSERT_EQ_INT(sibyl_errstatus(c), 404);
	ASSERT_EQ_STR(sibyl_errname(c), "NOT_FOUND");
	ASSERT_TRUE(s2 == NULL);

	ASSERT_EQ_INT(sibyl_study_lookup(c, "team", "s1", &s2), 0);
	ASSERT_EQ_STR(s2 ? s2->name : NULL, "owners/team/studies/s1");
	sibyl_study_free(s2);
	ASSERT_EQ_INT(sibyl_study_lookup(c, "team", "nope", &s2), -SIBYL_NOT_FOUND);

	/* list with paging: three studies, pages of two */
	struct sibyl_study *tmp;
	ASSERT_EQ_INT(sibyl_study_create(c, "team", "s2", spec_x, &tmp), 0);
	sibyl_study_free(tmp);
	ASSERT_EQ_INT(sibyl_study_create(c, "team", "s3", spec_x, &tmp), 0);
	sibyl_study_free(tmp);
	struct sibyl_study_list *l = NULL;
	ASSERT_EQ_INT(sibyl_study_list(c, "team", 2, NULL, &l), 0);
	ASSERT_EQ_INT(l ? l->n : 0, 2);
	ASSERT_TRUE(l && l->next_page_token != NULL);
	size_t total = l ? l->n : 0;
	if (l && l->next_page_token) {
		struct sibyl_study_list *l2 = NULL;
		ASSERT_EQ_INT(sibyl_study_list(c, "team", 2, l->next_page_token, &l2), 0);
		ASSERT_EQ_INT(l2 ? l2->n : 0, 1);
		ASSERT_TRUE(l2 && l2->next_page_token == NULL);
		total += l2 ? l2->n : 0;
		sibyl_study_list_free(l2);
	}
	ASSERT_EQ_INT(total, 3);
	sibyl_study_list_free(l);
	ASSERT_EQ_INT(sibyl_study_list(c, "team", -1, NULL, &l), -SIBYL_EUSAGE);

	ASSERT_EQ_INT(sibyl_study_delete(c, "owners/team/studies/s3"), 0);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/studies/s3", &s2), -SIBYL_NOT_FOUND);
	ASSERT_EQ_INT(sibyl_study_delete(c, "owners/team/studies/s3"), -SIBYL_NOT_FOUND);
	sibyl_study_free(s);
}

static void test_trials(struct daemon *d, struct sibyl_client *c)
{
	const char *study = "owners/team/studies/s1";
	struct sibyl_trial_list *l = NULL, *again = NULL;
	ASSERT_EQ_INT(sibyl_trial_suggest(c, study, 2, "w1", &l), 0);
	if (!l)
		return;
	ASSERT_EQ_INT(l->n, 2);
	ASSERT_EQ_STR(l->study_state, "ACTIVE");
	ASSERT_TRUE(l->operation_name && strstr(l->operation_name, "/operations/") != NULL);
	for (size_t i = 0; i < l->n; i++) {
		struct sibyl_trial *t = l->trials[i];
		ASSERT_EQ_INT(t->state, SIBYL_TRIAL_ACTIVE);
		ASSERT_EQ_STR(t->client_id, "w1");
		const struct sibyl_parameter *x = sibyl_trial_param(t, "x");
		const struct sibyl_parameter *opt = sibyl_trial_param(t, "opt");
		ASSERT_TRUE(x && x->type == SIBYL_VALUE_NUMBER && x->number >= 0 && x->number <= 1);
		ASSERT_TRUE(opt && opt->type == SIBYL_VALUE_STRING &&
		            (strcmp(opt->string, "adam") == 0 || strcmp(opt->string, "sgd") == 0));
		ASSERT_TRUE(sibyl_trial_param(t, "nope") == NULL);
	}
	ASSERT_TRUE(l->trials[0]->id != l->trials[1]->id);

	/* the operation can be read again */
	struct sibyl_operation *op = NULL;
	if (l->operation_name) {
		ASSERT_EQ_INT(sibyl_operation_get(c, l->operation_name, &op), 0);
		ASSERT_TRUE(op && op->done && op->trials && op->trials->n == 2);
		sibyl_operation_free(op);
		char missing[512];
		snprintf(missing, sizeof missing, "%s/operations/999999", study);
		ASSERT_EQ_INT(sibyl_operation_get(c, missing, &op), -SIBYL_NOT_FOUND);
	}

	/* the same worker asking again gets its ACTIVE trials back */
	ASSERT_EQ_INT(sibyl_trial_suggest(c, study, 2, "w1", &again), 0);
	ASSERT_EQ_INT(again ? again->n : 0, 2);
	if (again && again->n == 2) {
		long long a = l->trials[0]->id, b = l->trials[1]->id;
		long long x = again->trials[0]->id, y = again->trials[1]->id;
		ASSERT_TRUE((a == x && b == y) || (a == y && b == x));
	}
	sibyl_trial_list_free(again);
	ASSERT_EQ_INT(sibyl_trial_suggest(c, study, 0, "w1", &again), -SIBYL_EUSAGE);
	ASSERT_EQ_INT(sibyl_trial_suggest(c, study, 1, "", &again), -SIBYL_EUSAGE);
	ASSERT_EQ_INT(sibyl_trial_suggest(c, "owners/team/studies/nope", 1, "w1", &again),
	              -SIBYL_NOT_FOUND);

	const char *t1 = l->trials[0]->name, *t2 = l->trials[1]->name;
	struct sibyl_metric mm;
	struct sibyl_measurement m = one_metric(&mm, "loss", 0.5);
	m.step_count = 10;
	m.elapsed_seconds = 2.5;
	struct sibyl_trial *t = NULL;
	ASSERT_EQ_INT(sibyl_trial_add_measurement(c, t1, &m, &t), 0);
	ASSERT_EQ_INT(t ? t->n_measurements : 0, 1);
	if (t && t->n_measurements == 1) {
		ASSERT_EQ_INT(t->measurements[0].step_count, 10);
		ASSERT_EQ_DBL(t->measurements[0].elapsed_seconds, 2.5, 1e-6);
		ASSERT_EQ_DBL(t->measurements[0].metrics[0].value, 0.5, 0);
	}
	sibyl_trial_free(t);

	/* an unknown metric: INVALID_ARGUMENT, nothing recorded */
	struct sibyl_metric bm;
	struct sibyl_measurement bad = one_metric(&bm, "accuracy", 1);
	char *before = db_dump_data(d->db_path);
	ASSERT_EQ_INT(sibyl_trial_add_measurement(c, t1, &bad, NULL), -SIBYL_INVALID_ARGUMENT);
	ASSERT_EQ_INT(sibyl_errattempts(c), 1);
	char *after = db_dump_data(d->db_path);
	ASSERT_TRUE(before && after && strcmp(before, after) == 0);
	free(before);
	free(after);
	/* a metric that is not finite never leaves the client */
	bm.value = 1.0 / 0.0;
	bm.metric_id = "loss";
	ASSERT_EQ_INT(sibyl_trial_add_measurement(c, t1, &bad, NULL), -SIBYL_EUSAGE);

	int stop = -1;
	/* no stopping rule in this study's spec: never stop */
	ASSERT_EQ_INT(sibyl_trial_should_stop(c, t1, &stop), 0);
	ASSERT_EQ_INT(stop, 0);

	/* complete, then complete again: same body is fine, another is not */
	mm.value = 0.25;
	m.step_count = 20;
	ASSERT_EQ_INT(sibyl_trial_complete(c, t1, &m, 0, NULL, &t), 0);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_SUCCEEDED);
	ASSERT_TRUE(t && t->final_measurement && t->final_measurement->n_metrics == 1 &&
	            t->final_measurement->metrics[0].value == 0.25);
	ASSERT_TRUE(t && t->end_time != NULL);
	sibyl_trial_free(t);
	ASSERT_EQ_INT(sibyl_trial_complete(c, t1, &m, 0, NULL, NULL), 0);
	mm.value = 0.75;
	ASSERT_EQ_INT(sibyl_trial_complete(c, t1, &m, 0, NULL, NULL), -SIBYL_FAILED_PRECONDITION);
	ASSERT_EQ_INT(sibyl_errstatus(c), 400);
	ASSERT_EQ_STR(sibyl_errname(c), "FAILED_PRECONDITION");
	ASSERT_EQ_INT(sibyl_trial_add_measurement(c, t1, &m, NULL), -SIBYL_FAILED_PRECONDITION);
	ASSERT_EQ_INT(sibyl_trial_stop(c, t1, NULL), -SIBYL_FAILED_PRECONDITION);

	/* complete without anything: INVALID_ARGUMENT; as infeasible: fine */
	ASSERT_EQ_INT(sibyl_trial_complete(c, t2, NULL, 0, NULL, NULL), -SIBYL_INVALID_ARGUMENT);
	ASSERT_EQ_INT(sibyl_trial_complete(c, t2, NULL, 1, "diverged", &t), 0);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_INFEASIBLE);
	ASSERT_EQ_STR(t ? t->infeasible_reason : NULL, "diverged");
	sibyl_trial_free(t);

	/* trials made by hand: REQUESTED, and SUCCEEDED to import a result */
	struct sibyl_parameter p[2] = {
	    {.parameter_id = "x", .type = SIBYL_VALUE_NUMBER, .number = 0.125},
	    {.parameter_id = "opt", .type = SIBYL_VALUE_STRING, .string = "sgd"}};
	ASSERT_EQ_INT(sibyl_trial_create(c, study, p, 2, NULL, &t), 0);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_REQUESTED);
	char requested[512] = "";
	if (t)
		snprintf(requested, sizeof requested, "%s", t->name);
	sibyl_trial_free(t);
	mm.value = 0.01;
	m = one_metric(&mm, "loss", 0.01);
	ASSERT_EQ_INT(sibyl_trial_create(c, study, p, 2, &m, &t), 0);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_SUCCEEDED);
	long long imported = t ? t->id : -1;
	sibyl_trial_free(t);
	p[0].number = 7; /* out of bounds */
	ASSERT_EQ_INT(sibyl_trial_create(c, study, p, 2, NULL, &t), -SIBYL_INVALID_ARGUMENT);

	/* a REQUESTED trial goes to the next worker that asks */
	ASSERT_EQ_INT(sibyl_trial_suggest(c, study, 1, "w2", &again), 0);
	ASSERT_EQ_STR(again && again->n ? again->trials[0]->name : NULL, requested);
	if (again && again->n) {
		ASSERT_EQ_INT(sibyl_trial_stop(c, again->trials[0]->name, &t), 0);
		ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_STOPPING);
		sibyl_trial_free(t);
		ASSERT_EQ_INT(sibyl_trial_get(c, again->trials[0]->name, &t), 0);
		ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_STOPPING);
		ASSERT_EQ_DBL(t ? sibyl_trial_param(t, "x")->number : -1, 0.125, 0);
		sibyl_trial_free(t);
	}
	sibyl_trial_list_free(again);

	/* list: all four, by state, by pages */
	ASSERT_EQ_INT(sibyl_trial_list(c, study, NULL, 0, NULL, &again), 0);
	ASSERT_EQ_INT(again ? again->n : 0, 4);
	sibyl_trial_list_free(again);
	ASSERT_EQ_INT(sibyl_trial_list(c, study, "state=SUCCEEDED", 0, NULL, &again), 0);
	ASSERT_EQ_INT(again ? again->n : 0, 2);
	sibyl_trial_list_free(again);
	ASSERT_EQ_INT(sibyl_trial_list(c, study, NULL, 3, NULL, &again), 0);
	ASSERT_EQ_INT(again ? again->n : 0, 3);
	if (again && again->next_page_token) {
		struct sibyl_trial_list *rest = NULL;
		ASSERT_EQ_INT(sibyl_trial_list(c, study, NULL, 3, again->next_page_token, &rest),
		              0);
		ASSERT_EQ_INT(rest ? rest->n : 0, 1);
		sibyl_trial_list_free(rest);
	} else {
		ASSERT_TRUE(again && again->next_page_token);
	}
	sibyl_trial_list_free(again);

	/* the optimum is the imported trial (loss 0.01 < 0.25) */
	ASSERT_EQ_INT(sibyl_trial_list_optimal(c, study, &again), 0);
	ASSERT_EQ_INT(again ? again->n : 0, 1);
	ASSERT_EQ_INT(again && again->n ? again->trials[0]->id : -1, imported);
	sibyl_trial_list_free(again);

	ASSERT_EQ_INT(sibyl_trial_delete(c, t2), 0);
	ASSERT_EQ_INT(sibyl_trial_get(c, t2, &t), -SIBYL_NOT_FOUND);
	ASSERT_TRUE(t == NULL);
	sibyl_trial_list_free(l);
}

/* sibyl_trial_get_as(): the heartbeat. Its worker's GETs keep a trial with
 * a 4 s lease ACTIVE for over 6 s; a trial nobody heartbeats (only read by
 * another client id) is given up in that time. Only lower bounds of time
 * are relied on: every gap between heartbeats is about 1.5 s. */
static void test_lease(struct sibyl_client *c)
{
	char spec[512];
	snprintf(spec, sizeof spec, "%.*s,\"staleTrialTimeout\":\"4s\"}", (int)strlen(spec_x) - 1,
	         spec_x);
	struct sibyl_study *s = NULL;
	ASSERT_EQ_INT(sibyl_study_create(c, "team", "lease", spec, &s), 0);
	sibyl_study_free(s);
	const char *study = "owners/team/studies/lease";
	struct sibyl_trial_list *mine = NULL, *lazy = NULL;
	ASSERT_EQ_INT(sibyl_trial_suggest(c, study, 1, "hb", &mine), 0);
	ASSERT_EQ_INT(sibyl_trial_suggest(c, study, 1, "lazy", &lazy), 0);
	if (!mine || mine->n != 1 || !lazy || lazy->n != 1) {
		sibyl_trial_list_free(mine);
		sibyl_trial_list_free(lazy);
		ASSERT_TRUE(0);
		return;
	}
	const char *tn = mine->trials[0]->name, *un = lazy->trials[0]->name;
	struct sibyl_trial *t = NULL;

	/* errors: nothing sent for an empty id; the server refuses a long one */
	ASSERT_EQ_INT(sibyl_trial_get_as(c, tn, "", &t), -SIBYL_EUSAGE);
	ASSERT_TRUE(t == NULL);
	ASSERT_EQ_INT(sibyl_errattempts(c), 0);
	ASSERT_EQ_INT(sibyl_trial_get_as(c, tn, NULL, &t), -SIBYL_EUSAGE);
	ASSERT_EQ_INT(sibyl_trial_get_as(c, "bad name", "hb", &t), -SIBYL_EUSAGE);
	char long_id[1026];
	memset(long_id, 'w', sizeof long_id - 1);
	long_id[sizeof long_id - 1] = '\0';
	ASSERT_EQ_INT(sibyl_trial_get_as(c, tn, long_id, &t), -SIBYL_INVALID_ARGUMENT);
	ASSERT_TRUE(t == NULL);
	ASSERT_EQ_INT(sibyl_errstatus(c), 400);
	ASSERT_EQ_STR(sibyl_errname(c), "INVALID_ARGUMENT");
	ASSERT_TRUE(strstr(sibyl_errmsg(c), "clientId") != NULL);
	char missing[256];
	snprintf(missing, sizeof missing, "%s/trials/999999", study);
	ASSERT_EQ_INT(sibyl_trial_get_as(c, missing, "hb", &t), -SIBYL_NOT_FOUND);
	/* an id with characters a query string must escape arrives whole: a
	 * plain read of someone else's trial, which changes nothing */
	ASSERT_EQ_INT(sibyl_trial_get_as(c, tn, "w 1&pageSize=2/é", &t), 0);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_ACTIVE);
	ASSERT_EQ_STR(t ? t->client_id : "", "hb");
	sibyl_trial_free(t);

	for (int i = 0; i < 4; i++) {
		usleep(1500 * 1000);
		ASSERT_EQ_INT(sibyl_trial_get_as(c, tn, "hb", &t), 0);
		ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_ACTIVE);
		ASSERT_EQ_STR(t ? t->name : "", tn);
		sibyl_trial_free(t);
		/* another worker's GET only reads: it does not renew lazy's lease */
		ASSERT_EQ_INT(sibyl_trial_get_as(c, un, "hb", &t), 0);
		sibyl_trial_free(t);
	}
	/* over 6 s have passed: lazy's trial was given up, and its worker's
	 * heartbeat answers it settled (200, INFEASIBLE) */
	ASSERT_EQ_INT(sibyl_trial_get_as(c, un, "lazy", &t), 0);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_INFEASIBLE);
	ASSERT_TRUE(t && t->infeasible_reason && strncmp(t->infeasible_reason, "given up", 8) == 0);
	sibyl_trial_free(t);
	struct sibyl_trial_list *pool = NULL;
	ASSERT_EQ_INT(sibyl_trial_list(c, study, "state=REQUESTED", 0, NULL, &pool), 0);
	ASSERT_EQ_INT(pool ? pool->n : 0, 1);
	sibyl_trial_list_free(pool);

	/* the heartbeated trial is still its worker's: complete succeeds */
	struct sibyl_metric mm;
	struct sibyl_measurement m = one_metric(&mm, "loss", 0.25);
	ASSERT_EQ_INT(sibyl_trial_complete(c, tn, &m, 0, NULL, &t), 0);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_SUCCEEDED);
	sibyl_trial_free(t);
	/* a heartbeat on a finished trial answers it as it is */
	ASSERT_EQ_INT(sibyl_trial_get_as(c, tn, "hb", &t), 0);
	ASSERT_EQ_INT(t ? (int)t->state : -1, SIBYL_TRIAL_SUCCEEDED);
	sibyl_trial_free(t);
	sibyl_trial_list_free(mine);
	sibyl_trial_list_free(lazy);
}

static void test_auth(struct daemon *d)
{
	struct sibyl_client *wrong = sibyl_client_new(d->url, "not-a-key");
	struct sibyl_client *none = sibyl_client_new(d->url, NULL);
	struct sibyl_study *s = NULL;
	ASSERT_EQ_INT(sibyl_study_get(wrong, "owners/team/studies/s1", &s), -SIBYL_UNAUTHENTICATED);
	ASSERT_EQ_INT(sibyl_errstatus(wrong), 401);
	ASSERT_EQ_INT(sibyl_errattempts(wrong), 1);
	ASSERT_EQ_INT(sibyl_study_get(none, "owners/team/studies/s1", &s), -SIBYL_UNAUTHENTICATED);
	ASSERT_EQ_INT(sibyl_study_create(none, "team", "s9", spec_x, &s), -SIBYL_UNAUTHENTICATED);
	sibyl_client_free(wrong);
	sibyl_client_free(none);
}

static void test_admin(struct daemon *d, struct sibyl_client *admin)
{
	struct sibyl_owner *o = NULL;
	ASSERT_EQ_INT(sibyl_owner_create(admin, "acme", "Acme Inc.", &o), 0);
	ASSERT_EQ_STR(o ? o->name : NULL, "owners/acme");
	ASSERT_EQ_STR(o ? o->owner_id : NULL, "acme");
	ASSERT_EQ_STR(o ? o->display_name : NULL, "Acme Inc.");
	sibyl_owner_free(o);
	ASSERT_EQ_INT(sibyl_owner_create(admin, "acme", NULL, &o), -SIBYL_ALREADY_EXISTS);
	ASSERT_EQ_INT(sibyl_owner_get(admin, "acme", &o), 0);
	sibyl_owner_free(o);
	ASSERT_EQ_INT(sibyl_owner_get(admin, "nobody", &o), -SIBYL_NOT_FOUND);
	struct sibyl_owner_list *ol = NULL;
	ASSERT_EQ_INT(sibyl_owner_list(admin, 0, NULL, &ol), 0);
	int found = 0;
	for (size_t i = 0; ol && i < ol->n; i++)
		found |= strcmp(ol->owners[i]->name, "owners/acme") == 0;
	ASSERT_TRUE(found);
	sibyl_owner_list_free(ol);

	struct sibyl_api_key *w = NULL, *r = NULL;
	ASSERT_EQ_INT(sibyl_api_key_create(admin, "acme", "WRITER", "ci", &w), 0);
	ASSERT_EQ_INT(sibyl_api_key_create(admin, "acme", "READER", NULL, &r), 0);
	struct sibyl_api_key *bad = NULL;
	ASSERT_EQ_INT(sibyl_api_key_create(admin, "acme", "GOD", NULL, &bad),
	              -SIBYL_INVALID_ARGUMENT);
	if (!w || !r || !w->key || !r->key) {
		ASSERT_TRUE(0 && "keys with secrets");
		sibyl_api_key_free(w);
		sibyl_api_key_free(r);
		return;
	}
	ASSERT_EQ_STR(w->role, "WRITER");
	ASSERT_TRUE(strncmp(w->name, "owners/acme/apiKeys/", 20) == 0);

	struct sibyl_client *wc = sibyl_client_new(d->url, w->key);
	struct sibyl_client *rc2 = sibyl_client_new(d->url, r->key);
	struct sibyl_study *s = NULL;
	ASSERT_EQ_INT(sibyl_study_create(wc, "acme", "mine", spec_x, &s), 0);
	sibyl_study_free(s);
	ASSERT_EQ_INT(sibyl_study_get(rc2, "owners/acme/studies/mine", &s), 0);
	sibyl_study_free(s);
	ASSERT_EQ_INT(sibyl_study_create(rc2, "acme", "theirs", spec_x, &s),
	              -SIBYL_PERMISSION_DENIED);
	ASSERT_EQ_INT(sibyl_errstatus(rc2), 403);
	/* another owner's study is NOT_FOUND, so that names do not leak */
	ASSERT_EQ_INT(sibyl_study_get(wc, "owners/team/studies/s1", &s), -SIBYL_NOT_FOUND);
	/* listing owners is for the admin; API.md leaves the code to the server */
	int rc = sibyl_owner_list(wc, 0, NULL, &ol);
	ASSERT_TRUE(rc == -SIBYL_PERMISSION_DENIED || rc == -SIBYL_NOT_FOUND);
	ASSERT_TRUE(ol == NULL);

	struct sibyl_api_key_list *kl = NULL;
	ASSERT_EQ_INT(sibyl_api_key_list(admin, "acme", 0, NULL, &kl), 0);
	ASSERT_EQ_INT(kl ? kl->n : 0, 2);
	for (size_t i = 0; kl && i < kl->n; i++)
		ASSERT_TRUE(kl->keys[i]->key == NULL); /* secrets are shown once */
	sibyl_api_key_list_free(kl);
	ASSERT_EQ_INT(sibyl_api_key_delete(admin, r->name), 0);
	ASSERT_EQ_INT(sibyl_study_get(rc2, "owners/acme/studies/mine", &s), -SIBYL_UNAUTHENTICATED);
	/* An owner with studies is not deleted (AIP-135); without them it is. */
	ASSERT_EQ_INT(sibyl_owner_delete(admin, "acme"), -SIBYL_FAILED_PRECONDITION);
	ASSERT_EQ_INT(sibyl_study_delete(admin, "owners/acme/studies/mine"), 0);
	ASSERT_EQ_INT(sibyl_owner_delete(admin, "acme"), 0);
	ASSERT_EQ_INT(sibyl_owner_get(admin, "acme", &o), -SIBYL_NOT_FOUND);
	sibyl_client_free(wc);
	sibyl_client_free(rc2);
	sibyl_api_key_free(w);
	sibyl_api_key_free(r);
}

static void test_connect_refused(void)
{
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
	struct sibyl_client *c = sibyl_client_new(url, "k");
	ASSERT_EQ_INT(sibyl_client_set_retries(c, -1, 1, 4), -SIBYL_EUSAGE);
	ASSERT_EQ_INT(sibyl_client_set_retries(c, 0, 5, 4), -SIBYL_EUSAGE);
	ASSERT_EQ_INT(sibyl_client_set_retries(c, 3, 1, 4), 0);
	ASSERT_EQ_INT(sibyl_client_set_timeout(c, -1, 0), -SIBYL_EUSAGE);
	struct sibyl_study *s = NULL;
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/a/studies/b", &s), -SIBYL_ECONNECT);
	ASSERT_EQ_INT(sibyl_errcode(c), SIBYL_ECONNECT);
	ASSERT_EQ_INT(sibyl_errstatus(c), 0);
	ASSERT_EQ_INT(sibyl_errattempts(c), 3);
	ASSERT_TRUE(strstr(sibyl_errmsg(c), "3 attempts") != NULL);
	/* a refused connection never reached a server: even a call that is not
	 * idempotent is retried */
	struct sibyl_metric mm;
	struct sibyl_measurement m = one_metric(&mm, "loss", 1);
	ASSERT_EQ_INT(sibyl_trial_add_measurement(c, "owners/a/studies/b/trials/1", &m, NULL),
	              -SIBYL_ECONNECT);
	ASSERT_EQ_INT(sibyl_errattempts(c), 3);
	ASSERT_EQ_INT(sibyl_client_set_retries(c, 1, 0, 0), 0);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/a/studies/b", &s), -SIBYL_ECONNECT);
	ASSERT_EQ_INT(sibyl_errattempts(c), 1);
	sibyl_client_free(c);
	ASSERT_TRUE(sibyl_client_new("", "k") == NULL);
	ASSERT_TRUE(sibyl_client_new(NULL, "k") == NULL);
}

/* The real daemon answers 503 only while shutting down or when its database
 * stays locked for 30 s, 429 only past a rate limit, and never 502 or 504
 * (a proxy's answers), none of which a test can time; so the retry policy
 * for error answers is checked against a socket that answers every request
 * with the status set in it (the daemon's error envelope) and counts them. */
struct fake {
	int fd;
	int count;
	int status;      /* 503 unless set */
	int retry_after; /* the Retry-After header's value; -1: no header */
};

static void fake_answer(struct fake *a, int conn)
{
	int status = __atomic_load_n(&a->status, __ATOMIC_SEQ_CST);
	int after = __atomic_load_n(&a->retry_after, __ATOMIC_SEQ_CST);
	const char *name = status == 429   ? "RESOURCE_EXHAUSTED"
	                   : status == 504 ? "DEADLINE_EXCEEDED"
	                   : status == 502 ? "INTERNAL"
	                                   : "UNAVAILABLE";
	char body[256], hdr[64] = "", resp[768];
	snprintf(body, sizeof body,
	         "{\"error\":{\"code\":%d,\"message\":\"the server is shutting down\","
	         "\"status\":\"%s\"}}",
	         status, name);
	if (after >= 0)
		snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n", after);
	int len = snprintf(resp, sizeof resp,
	                   "HTTP/1.1 %d Error\r\nContent-Type: application/json\r\n%s"
	                   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	                   status, hdr, strlen(body), body);
	if (write(conn, resp, (size_t)len) < 0)
		perror("write");
}

static void *serve_fake(void *arg)
{
	struct fake *a = arg;
	for (;;) {
		int conn = accept(a->fd, NULL, NULL);
		if (conn < 0)
			return NULL;
		char buf[8192];
		size_t got = 0;
		/* read the headers and the body (Content-Length bytes) */
		for (;;) {
			ssize_t n = read(conn, buf + got, sizeof buf - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			buf[got] = '\0';
			char *end = strstr(buf, "\r\n\r\n");
			if (!end)
				continue;
			char *cl = strcasestr(buf, "Content-Length:");
			long want = cl ? strtol(cl + 15, NULL, 10) : 0;
			if ((long)(got - (size_t)(end + 4 - buf)) >= want)
				break;
		}
		__atomic_add_fetch(&a->count, 1, __ATOMIC_SEQ_CST);
		fake_answer(a, conn);
		close(conn);
	}
}

/* Starts the fake server; its URL into url. */
static int fake_start(struct fake *a, pthread_t *th, char *url, size_t len)
{
	*a = (struct fake){.fd = socket(AF_INET, SOCK_STREAM, 0), .status = 503, .retry_after = 0};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t slen = sizeof sa;
	if (a->fd < 0 || bind(a->fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(a->fd, (struct sockaddr *)&sa, &slen) != 0 || listen(a->fd, 16) != 0 ||
	    pthread_create(th, NULL, serve_fake, a) != 0)
		return -1;
	snprintf(url, len, "http://127.0.0.1:%d", ntohs(sa.sin_port));
	return 0;
}

static void fake_stop(struct fake *a, pthread_t th)
{
	shutdown(a->fd, SHUT_RDWR);
	close(a->fd);
	pthread_join(th, NULL);
}

static void fake_set(struct fake *a, int status, int retry_after)
{
	__atomic_store_n(&a->status, status, __ATOMIC_SEQ_CST);
	__atomic_store_n(&a->retry_after, retry_after, __ATOMIC_SEQ_CST);
}

static void test_503(void)
{
	struct fake a;
	pthread_t th;
	char url[64];
	ASSERT_EQ_INT(fake_start(&a, &th, url, sizeof url), 0);
	struct sibyl_client *c = sibyl_client_new(url, "k");
	sibyl_client_set_retries(c, 4, 1, 2);
	struct sibyl_study *s = NULL;
	struct sibyl_trial *t = NULL;
	struct sibyl_metric mm;
	struct sibyl_measurement m = one_metric(&mm, "loss", 1);

	/* idempotent: GET, DELETE, complete are retried */
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/a/studies/b", &s), -SIBYL_UNAVAILABLE);
	ASSERT_EQ_INT(sibyl_errstatus(c), 503);
	ASSERT_EQ_STR(sibyl_errmsg(c), "the server is shutting down");
	ASSERT_EQ_INT(sibyl_errattempts(c), 4);
	ASSERT_EQ_INT(sibyl_study_delete(c, "owners/a/studies/b"), -SIBYL_UNAVAILABLE);
	ASSERT_EQ_INT(sibyl_errattempts(c), 4);
	ASSERT_EQ_INT(sibyl_trial_complete(c, "owners/a/studies/b/trials/1", &m, 0, NULL, &t),
	              -SIBYL_UNAVAILABLE);
	ASSERT_EQ_INT(sibyl_errattempts(c), 4);
	/* addTrialMeasurement too: the server drops a repeat of the last one */
	ASSERT_EQ_INT(sibyl_trial_add_measurement(c, "owners/a/studies/b/trials/1", &m, &t),
	              -SIBYL_UNAVAILABLE);
	ASSERT_EQ_INT(sibyl_errattempts(c), 4);
	/* not idempotent: trial create, key create are sent once */
	struct sibyl_parameter p = {.parameter_id = "x", .number = 1};
	ASSERT_EQ_INT(sibyl_trial_create(c, "owners/a/studies/b", &p, 1, NULL, &t),
	              -SIBYL_UNAVAILABLE);
	ASSERT_EQ_INT(sibyl_errattempts(c), 1);
	struct sibyl_api_key *k = NULL;
	ASSERT_EQ_INT(sibyl_api_key_create(c, "a", "WRITER", NULL, &k), -SIBYL_UNAVAILABLE);
	ASSERT_EQ_INT(sibyl_errattempts(c), 1);
	ASSERT_EQ_INT(__atomic_load_n(&a.count, __ATOMIC_SEQ_CST), 4 + 4 + 4 + 4 + 1 + 1);

	/* a proxy's 502 and 504 are retried like 503, for the same calls */
	fake_set(&a, 502, -1);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/a/studies/b", &s), -SIBYL_INTERNAL);
	ASSERT_EQ_INT(sibyl_errattempts(c), 4);
	ASSERT_EQ_INT(sibyl_trial_create(c, "owners/a/studies/b", &p, 1, NULL, &t),
	              -SIBYL_INTERNAL);
	ASSERT_EQ_INT(sibyl_errattempts(c), 1);
	fake_set(&a, 504, -1);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/a/studies/b", &s), -SIBYL_DEADLINE_EXCEEDED);
	ASSERT_EQ_INT(sibyl_errattempts(c), 4);

	/* 429 with Retry-After is a rate limit: the server did nothing, so
	 * every call is retried; without it (a quota), none is */
	fake_set(&a, 429, 0);
	ASSERT_EQ_INT(sibyl_trial_create(c, "owners/a/studies/b", &p, 1, NULL, &t),
	              -SIBYL_RESOURCE_EXHAUSTED);
	ASSERT_EQ_INT(sibyl_errattempts(c), 4);
	fake_set(&a, 429, -1);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/a/studies/b", &s), -SIBYL_RESOURCE_EXHAUSTED);
	ASSERT_EQ_INT(sibyl_errattempts(c), 1);
	sibyl_client_free(c);
	fake_stop(&a, th);
}

/* Several servers (docs/client.md): a 503 moves a call that is safe to
 * repeat on to the next server; a 503 to trial create, and a 500, do not. */
static void test_503_fails_over(const struct daemon *d)
{
	struct fake a;
	pthread_t th;
	char url[64], list[160];
	struct sibyl_study *s = NULL;
	struct sibyl_trial *t = NULL;
	struct sibyl_parameter p = {.parameter_id = "x", .number = 1};
	ASSERT_EQ_INT(fake_start(&a, &th, url, sizeof url), 0);
	snprintf(list, sizeof list, "%s,%s", url, d->url);
	struct sibyl_client *c = sibyl_client_new(list, HARNESS_ADMIN_KEY);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/studies/none", &s), -SIBYL_NOT_FOUND);
	ASSERT_EQ_INT(sibyl_errattempts(c), 2); /* the 503, then the real 404 */
	sibyl_client_free(c);
	c = sibyl_client_new(list, HARNESS_ADMIN_KEY);
	ASSERT_EQ_INT(sibyl_trial_create(c, "owners/team/studies/none", &p, 1, NULL, &t),
	              -SIBYL_UNAVAILABLE);
	ASSERT_EQ_INT(sibyl_errattempts(c), 1);
	fake_set(&a, 500, -1);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/team/studies/none", &s), -SIBYL_UNAVAILABLE);
	ASSERT_EQ_INT(sibyl_errstatus(c), 500);
	ASSERT_EQ_INT(sibyl_errattempts(c), 1);
	ASSERT_EQ_INT(__atomic_load_n(&a.count, __ATOMIC_SEQ_CST), 3);
	sibyl_client_free(c);
	fake_stop(&a, th);
}

/* What a wait hook saw. */
struct seen {
	int events[6];
	char first[512], last[512];
	double give_up_waited;
	int cancel_after_polls; /* > 0: cancel at that POLL */
	int polls;
};

static int hook(const struct sibyl_wait *w, void *ud)
{
	struct seen *s = ud;
	if (w->event >= 1 && w->event <= 5)
		s->events[w->event]++;
	if (w->event == SIBYL_WAIT_POLL)
		return s->cancel_after_polls > 0 && ++s->polls >= s->cancel_after_polls;
	sibyl_wait_describe(w, s->last, sizeof s->last);
	if (!s->first[0])
		snprintf(s->first, sizeof s->first, "%s", s->last);
	if (w->event == SIBYL_WAIT_GIVE_UP)
		s->give_up_waited = w->waited;
	return 0;
}

/* The retry window: a call to a server that is not there gives up once it
 * has waited for the window, says so through the hook, and can be
 * cancelled by it; SIBYL_RETRY_WINDOW sets the default. */
static void test_window(void)
{
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
	struct sibyl_client *c = sibyl_client_new(url, "k");
	struct sibyl_study *s = NULL;
	struct seen seen = {0};
	ASSERT_EQ_INT(sibyl_client_set_retry_window(c, -1), -SIBYL_EUSAGE);
	ASSERT_EQ_INT(sibyl_client_set_retry_window(c, 1e9), -SIBYL_EUSAGE);
	ASSERT_EQ_INT(sibyl_client_set_retry_window(c, 0.0 / 0.0), -SIBYL_EUSAGE);
	ASSERT_EQ_INT(sibyl_client_set_retry_window(c, 1.5), 0);
	ASSERT_EQ_INT(sibyl_client_set_retries(c, 0, 50, 200), 0);
	sibyl_client_set_wait_hook(c, hook, &seen);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/a/studies/b", &s), -SIBYL_ECONNECT);
	ASSERT_TRUE(sibyl_errattempts(c) > 3);
	ASSERT_TRUE(strstr(sibyl_errmsg(c), "attempts over 1.") != NULL);
	ASSERT_EQ_INT(seen.events[SIBYL_WAIT_START], 1);
	ASSERT_EQ_INT(seen.events[SIBYL_WAIT_GIVE_UP], 1);
	ASSERT_EQ_INT(seen.events[SIBYL_WAIT_BACK], 0);
	ASSERT_TRUE(seen.events[SIBYL_WAIT_POLL] > 0);
	ASSERT_TRUE(seen.give_up_waited >= 1.5);
	char want[128];
	snprintf(want, sizeof want,
	         "server %s unreachable (Connection refused); retrying for up to 2s", url);
	ASSERT_EQ_STR(seen.first, want);
	ASSERT_TRUE(strstr(seen.last, "; giving up") != NULL);

	/* the hook cancels the wait: the call fails at once with its error */
	seen = (struct seen){.cancel_after_polls = 1};
	ASSERT_EQ_INT(sibyl_client_set_retry_window(c, 60), 0);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/a/studies/b", &s), -SIBYL_ECONNECT);
	ASSERT_EQ_INT(sibyl_errattempts(c), 1);
	ASSERT_TRUE(strstr(sibyl_errmsg(c), "cancelled") != NULL);
	ASSERT_EQ_INT(seen.events[SIBYL_WAIT_START], 1);
	ASSERT_EQ_INT(seen.events[SIBYL_WAIT_GIVE_UP], 0);

	/* window 0: never retried, nothing said */
	seen = (struct seen){0};
	ASSERT_EQ_INT(sibyl_client_set_retry_window(c, 0), 0);
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/a/studies/b", &s), -SIBYL_ECONNECT);
	ASSERT_EQ_INT(sibyl_errattempts(c), 1);
	ASSERT_EQ_INT(seen.events[SIBYL_WAIT_START], 0);
	sibyl_client_free(c);

	/* SIBYL_RETRY_WINDOW is read by sibyl_client_new; a bad value is ignored */
	setenv("SIBYL_RETRY_WINDOW", "0", 1);
	c = sibyl_client_new(url, "k");
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/a/studies/b", &s), -SIBYL_ECONNECT);
	ASSERT_EQ_INT(sibyl_errattempts(c), 1);
	sibyl_client_free(c);
	setenv("SIBYL_RETRY_WINDOW", "0.4", 1);
	c = sibyl_client_new(url, "k");
	ASSERT_EQ_INT(sibyl_study_get(c, "owners/a/studies/b", &s), -SIBYL_ECONNECT);
	ASSERT_TRUE(sibyl_errattempts(c) > 1);
	sibyl_client_free(c);
	unsetenv("SIBYL_RETRY_WINDOW");
}

/* Separate handles from separate threads at once. */
struct worker_arg {
	const char *url;
	int index;
	long long ids[5];
	int failures;
};

static void *worker(void *p)
{
	struct worker_arg *w = p;
	struct sibyl_client *c = sibyl_client_new(w->url, HARNESS_ADMIN_KEY);
	char id[32];
	snprintf(id, sizeof id, "thread-%d", w->index);
	for (int i = 0; i < 5; i++) {
		struct sibyl_trial_list *l = NULL;
		if (sibyl_trial_suggest(c, "owners/team/studies/s2", 1, id, &l) != 0 || l->n != 1) {
			w->failures++;
			sibyl_trial_list_free(l);
			continue;
		}
		struct sibyl_metric mm;
		struct sibyl_measurement m = one_metric(&mm, "loss", i);
		w->ids[i] = l->trials[0]->id;
		if (sibyl_trial_complete(c, l->trials[0]->name, &m, 0, NULL, NULL) != 0)
			w->failures++;
		sibyl_trial_list_free(l);
	}
	sibyl_client_free(c);
	return NULL;
}

static void test_threads(struct daemon *d)
{
	struct worker_arg w[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker_arg){.url = d->url, .index = i};
		pthread_create(&th[i], NULL, worker, &w[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	int dup = 0;
	for (int i = 0; i < 20; i++)
		for (int j = i + 1; j < 20; j++)
			dup += w[i / 5].ids[i % 5] == w[j / 5].ids[j % 5];
	for (int i = 0; i < 4; i++)
		ASSERT_EQ_INT(w[i].failures, 0);
	ASSERT_EQ_INT(dup, 0);
}

static void test_names(void)
{
	char *n = sibyl_name_study("team/s1");
	ASSERT_EQ_STR(n, "owners/team/studies/s1");
	sibyl_free(n);
	n = sibyl_name_study("owners/team/studies/s1");
	ASSERT_EQ_STR(n, "owners/team/studies/s1");
	sibyl_free(n);
	ASSERT_TRUE(sibyl_name_study("team") == NULL);
	ASSERT_TRUE(sibyl_name_study("team/") == NULL);
	ASSERT_TRUE(sibyl_name_study("a/b/c") == NULL);
	ASSERT_TRUE(sibyl_name_study("-a/b") == NULL);
	ASSERT_TRUE(sibyl_name_study(NULL) == NULL);
	ASSERT_EQ_STR(sibyl_code_name(-SIBYL_NOT_FOUND), "NOT_FOUND");
	ASSERT_EQ_STR(sibyl_code_name(SIBYL_ECONNECT), "ECONNECT");
	ASSERT_EQ_STR(sibyl_trial_state_name(SIBYL_TRIAL_INFEASIBLE), "INFEASIBLE");
	ASSERT_EQ_STR(sibyl_study_state_name(SIBYL_STUDY_COMPLETED), "COMPLETED");
}

int main(void)
{
	test_names();
	test_connect_refused();
	test_503();
	test_window();
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("test-libsibyl");
	ASSERT_EQ_INT(daemon_create_owner(d, "team"), 200);
	struct sibyl_client *c = sibyl_client_new(d->url, HARNESS_ADMIN_KEY);
	test_studies(d, c);
	test_trials(d, c);
	test_lease(c);
	test_auth(d);
	test_admin(d, c);
	test_threads(d);
	test_503_fails_over(d);
	sibyl_client_free(c);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("test-libsibyl");
}
