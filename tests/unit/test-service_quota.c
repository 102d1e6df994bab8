/* The owners' quotas as the service enforces them (server/service/service_quota.c),
 * on a real SQLite file without HTTP: each of maxStudies, maxApiKeys,
 * maxTrialsPerStudy and maxActiveTrials refuses with its typed refusal
 * (error.h: ERR_REFUSAL_QUOTA, the quota's name and value, never parsed
 * from the message) and nothing is written; the audit entry handed to a
 * refused call is not written either. */
#include "config.h"
#include "service.h"
#include "service_owners.h"
#include "store_test.h"

#define SPEC_CANON                                                                           \
	"{\"algorithm\":\"RANDOM_SEARCH\",\"metrics\":[{\"goal\":\"MAXIMIZE\",\"metricId\":" \
	"\"acc\"}],\"parameters\":[{\"doubleValueSpec\":{\"maxValue\":1,\"minValue\":0},"    \
	"\"parameterId\":\"x\"}]}"

static struct service *sv;
static struct store *st;

static int n_rows(const char *sql)
{
	return (int)raw_int(db_path("quota.db"), sql);
}

/* The refusal of one quota: code, kind, name, value and message. */
static void refused(const struct err *e, int rc, const char *name, int64_t limit)
{
	ASSERT_EQ_INT(rc, -ERR_RESOURCE_EXHAUSTED);
	ASSERT_EQ_INT(e->refusal, ERR_REFUSAL_QUOTA);
	ASSERT_TRUE(e->name != NULL);
	if (e->name)
		ASSERT_EQ_STR(e->name, name);
	ASSERT_EQ_INT(e->limit, limit);
	char want[64];
	snprintf(want, sizeof(want), "quota %s reached: ", name);
	ASSERT_TRUE(strncmp(e->msg, want, strlen(want)) == 0);
}

static void make_owner(void)
{
	struct err e = {0};
	struct svc_owner o;
	struct svc_owner_change ch = {0};
	ch.quota.max_studies = 1;
	ch.quota.max_trials_per_study = 2;
	ch.quota.max_active_trials = 1;
	ch.quota.max_api_keys = 1;
	ch.set = ch.mask = SVC_Q_MAX_STUDIES | SVC_Q_MAX_TRIALS | SVC_Q_MAX_ACTIVE | SVC_Q_MAX_KEYS;
	ASSERT_EQ_INT(service_owner_create(sv, "q", &ch, &o, NULL, &e), 0);
	svc_owner_clear(&o);
}

static void test_max_studies(void)
{
	struct err e = {0};
	struct store_study s;
	struct svc_audit a = {.time = 1,
	                      .keyid = "admin",
	                      .owner = "q",
	                      .method = "POST",
	                      .path = "/v1/owners/q/studies",
	                      .status = 200,
	                      .error = "",
	                      .count = 1};
	ASSERT_EQ_INT(service_study_create(sv, "q", "s1", SPEC_CANON, NULL, &s, &a, &e), 0);
	ASSERT_TRUE(a.id > 0); /* the entry went in with the study */
	svc_study_clear(&s);
	/* create-or-load of the one it has is no new study */
	ASSERT_EQ_INT(service_study_create(sv, "q", "s1", SPEC_CANON, NULL, &s, NULL, &e), 0);
	svc_study_clear(&s);
	int audits = n_rows("SELECT count(*) FROM audit_log");
	a.id = 0;
	int rc = service_study_create(sv, "q", "s2", SPEC_CANON, NULL, &s, &a, &e);
	refused(&e, rc, "maxStudies", 1);
	ASSERT_TRUE(s.study_id == NULL);
	ASSERT_EQ_INT(a.id, 0);
	ASSERT_EQ_INT(n_rows("SELECT count(*) FROM studies WHERE owner = 'q'"), 1);
	ASSERT_EQ_INT(n_rows("SELECT count(*) FROM audit_log"), audits);
}

static void test_max_api_keys(void)
{
	struct err e = {0};
	struct svc_key k;
	char secret[AUTH_KEY_LEN + 1];
	ASSERT_EQ_INT(service_key_create(sv, "q", AUTH_ROLE_WRITER, "w", &k, secret, NULL, &e), 0);
	svc_secret_wipe(secret);
	char first[17];
	memcpy(first, k.keyid, sizeof(first));
	svc_key_clear(&k);
	int rc = service_key_create(sv, "q", AUTH_ROLE_READER, "r", &k, secret, NULL, &e);
	refused(&e, rc, "maxApiKeys", 1);
	ASSERT_EQ_INT(n_rows("SELECT count(*) FROM api_keys WHERE owner = 'q'"), 1);
	/* a revoked key leaves room */
	ASSERT_EQ_INT(service_key_revoke(sv, "q", first, NULL, &e), 0);
	ASSERT_EQ_INT(service_key_create(sv, "q", AUTH_ROLE_READER, "r", &k, secret, NULL, &e), 0);
	svc_secret_wipe(secret);
	svc_key_clear(&k);
}

static int create_trial(struct svc_trial *t, struct err *e)
{
	struct svc_trial_new in = {.state = TRIAL_REQUESTED,
	                           .parameters = "[{\"parameterId\":\"x\",\"value\":0.5}]"};
	return service_trial_create(sv, "q", "s1", &in, t, NULL, e);
}

static void test_max_trials_per_study(void)
{
	struct err e = {0};
	struct svc_trial t;
	ASSERT_EQ_INT(create_trial(&t, &e), 0);
	svc_trial_clear(&t);
	ASSERT_EQ_INT(create_trial(&t, &e), 0);
	svc_trial_clear(&t);
	int rc = create_trial(&t, &e);
	refused(&e, rc, "maxTrialsPerStudy", 2);
	ASSERT_EQ_INT(n_rows("SELECT count(*) FROM trials"), 2);
}

/* Two REQUESTED trials in the pool, one ACTIVE allowed: the first worker
 * gets one, the second is refused and nothing changes (no trial made
 * ACTIVE, no Operation stored). */
static void test_max_active_trials(void)
{
	struct err e = {0};
	struct svc_suggestion op;
	ASSERT_EQ_INT(service_suggest(sv, "q", "s1", 1, "w1", &op, NULL, &e), 0);
	svc_suggestion_clear(&op);
	ASSERT_EQ_INT(n_rows("SELECT count(*) FROM trials WHERE state = 2"), 1);
	int ops = n_rows("SELECT count(*) FROM operations");
	int rc = service_suggest(sv, "q", "s1", 1, "w2", &op, NULL, &e);
	refused(&e, rc, "maxActiveTrials", 1);
	ASSERT_TRUE(op.n == 0 && op.trials == NULL);
	ASSERT_EQ_INT(n_rows("SELECT count(*) FROM trials WHERE state = 2"), 1);
	ASSERT_EQ_INT(n_rows("SELECT count(*) FROM trials WHERE state = 1"), 1);
	ASSERT_EQ_INT(n_rows("SELECT count(*) FROM operations"), ops);
	/* the worker that holds one gets it back at the limit */
	ASSERT_EQ_INT(service_suggest(sv, "q", "s1", 1, "w1", &op, NULL, &e), 0);
	svc_suggestion_clear(&op);
}

int main(void)
{
	struct err e = {0};
	struct config cfg;
	if (store_test_setup("svc_quota") != 0)
		return 1;
	config_defaults(&cfg);
	st = store_open(db_path("quota.db"), &e);
	ASSERT_TRUE(st != NULL);
	sv = st ? service_new(st, &cfg) : NULL;
	ASSERT_TRUE(sv != NULL);
	if (sv) {
		make_owner();
		test_max_studies();
		test_max_api_keys();
		test_max_trials_per_study();
		test_max_active_trials();
	}
	service_free(sv);
	store_close(st);
	store_test_cleanup();
	return test_done("test-service_quota");
}
