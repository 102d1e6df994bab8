/* service_owners: owners, quotas, API keys and the audit log through the
 * service functions, on a real SQLite file, without HTTP. Every refusal
 * is shown to leave the store as it was. */
#include "config.h"
#include "service.h"
#include "service_owners.h"
#include "store_test.h"

static struct service *sv;
static struct store *st;

static void test_owner_create_get(void)
{
	struct err e = {0};
	struct svc_owner o;
	struct svc_owner_change ch = {.display_name = "Team A"};
	ch.quota.max_studies = 3;
	ch.quota.requests_per_second = 2.5;
	ch.set = ch.mask = SVC_Q_MAX_STUDIES | SVC_Q_RPS;
	ASSERT_EQ_INT(service_owner_create(sv, "a", &ch, &o, NULL, &e), 0);
	ASSERT_EQ_STR(o.id, "a");
	ASSERT_EQ_STR(o.display_name, "Team A");
	ASSERT_TRUE(o.create_time > 0);
	ASSERT_EQ_INT(o.quota.max_studies, 3);
	ASSERT_EQ_DBL(o.quota.requests_per_second, 2.5, 0);
	int64_t keys_default = o.quota.max_api_keys; /* not given: the default */
	svc_owner_clear(&o);

	ASSERT_EQ_INT(service_owner_get(sv, "a", &o, &e), 0);
	ASSERT_EQ_STR(o.display_name, "Team A");
	ASSERT_EQ_INT(o.quota.max_studies, 3);
	ASSERT_EQ_INT(o.quota.max_trials_per_study, 0);
	ASSERT_EQ_INT(o.quota.max_api_keys, keys_default);
	svc_owner_clear(&o);

	/* Taken: ALREADY_EXISTS, the first one unchanged. */
	struct svc_owner_change other = {.display_name = "Other"};
	ASSERT_EQ_INT(service_owner_create(sv, "a", &other, &o, NULL, &e), -ERR_ALREADY_EXISTS);
	ASSERT_TRUE(o.id == NULL);
	ASSERT_EQ_INT(service_owner_get(sv, "a", &o, &e), 0);
	ASSERT_EQ_STR(o.display_name, "Team A");
	svc_owner_clear(&o);

	ASSERT_EQ_INT(service_owner_get(sv, "nobody", &o, &e), -ERR_NOT_FOUND);
	ASSERT_TRUE(strstr(e.msg, "owners/nobody") != NULL);
}

static void test_quota_limits(void)
{
	struct err e = {0};
	struct svc_owner o;
	struct svc_owner_change ch = {0};
	ch.quota.max_trials_per_study = SVC_QUOTA_COUNT_MAX + 1;
	ch.set = ch.mask = SVC_Q_MAX_TRIALS;
	ASSERT_EQ_INT(service_owner_create(sv, "big", &ch, &o, NULL, &e), -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(e.msg, "quota.maxTrialsPerStudy must be between 0") != NULL);
	ASSERT_EQ_INT(service_owner_get(sv, "big", &o, &e), -ERR_NOT_FOUND);

	/* A field out of range is refused even when the mask leaves it out;
	 * nothing of the change is written. */
	struct svc_owner_change up = {.display_name = "renamed"};
	up.quota.requests_per_second = -1;
	up.quota.max_studies = 7;
	up.set = SVC_Q_RPS | SVC_Q_MAX_STUDIES;
	up.mask = SVC_Q_MAX_STUDIES;
	ASSERT_EQ_INT(service_owner_update(sv, "a", &up, &o, NULL, &e), -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(e.msg, "quota.requestsPerSecond") != NULL);
	ASSERT_EQ_INT(service_owner_get(sv, "a", &o, &e), 0);
	ASSERT_EQ_STR(o.display_name, "Team A");
	ASSERT_EQ_INT(o.quota.max_studies, 3);
	svc_owner_clear(&o);

	/* The mask chooses: maxStudies set, requestsPerSecond kept. */
	up.quota.requests_per_second = 9;
	ASSERT_EQ_INT(service_owner_update(sv, "a", &up, &o, NULL, &e), 0);
	ASSERT_EQ_STR(o.display_name, "renamed");
	ASSERT_EQ_INT(o.quota.max_studies, 7);
	ASSERT_EQ_DBL(o.quota.requests_per_second, 2.5, 0);
	svc_owner_clear(&o);
	/* display_name NULL keeps it, "" clears it. */
	struct svc_owner_change keep = {0};
	ASSERT_EQ_INT(service_owner_update(sv, "a", &keep, &o, NULL, &e), 0);
	ASSERT_EQ_STR(o.display_name, "renamed");
	svc_owner_clear(&o);
	keep.display_name = "";
	ASSERT_EQ_INT(service_owner_update(sv, "a", &keep, &o, NULL, &e), 0);
	ASSERT_EQ_STR(o.display_name, "");
	svc_owner_clear(&o);
	ASSERT_EQ_INT(service_owner_update(sv, "nobody", &keep, &o, NULL, &e), -ERR_NOT_FOUND);
}

static void test_owner_list(void)
{
	struct err e = {0};
	struct svc_owner o, *a = NULL;
	struct svc_owner_change ch = {0};
	size_t n = 0;
	ASSERT_EQ_INT(service_owner_create(sv, "b", &ch, &o, NULL, &e), 0);
	svc_owner_clear(&o);
	ASSERT_EQ_INT(service_owner_create(sv, "c", &ch, &o, NULL, &e), 0);
	svc_owner_clear(&o);
	ASSERT_EQ_INT(service_owner_list(sv, "", 2, &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 2);
	if (n == 2) {
		ASSERT_EQ_STR(a[0].id, "a");
		ASSERT_EQ_INT(a[0].quota.max_studies, 7); /* with its quota */
		ASSERT_EQ_STR(a[1].id, "b");
	}
	svc_owners_free(a, n);
	ASSERT_EQ_INT(service_owner_list(sv, "b", 0, &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 1);
	if (n == 1)
		ASSERT_EQ_STR(a[0].id, "c");
	svc_owners_free(a, n);
}

static void test_owner_delete(void)
{
	struct err e = {0};
	struct svc_owner o;
	make_study(st, "b", "s1");
	make_study(st, "b", "s2");
	/* Still has studies: refused, owner and studies kept. */
	ASSERT_EQ_INT(service_owner_delete(sv, "b", 0, NULL, &e), -ERR_FAILED_PRECONDITION);
	ASSERT_EQ_INT(service_owner_get(sv, "b", &o, &e), 0);
	svc_owner_clear(&o);
	ASSERT_EQ_INT(raw_int(db_path("svc.db"), "SELECT count(*) FROM studies WHERE owner='b'"),
	              2);
	/* Forced: the owner with its studies. */
	ASSERT_EQ_INT(service_owner_delete(sv, "b", 1, NULL, &e), 0);
	ASSERT_EQ_INT(service_owner_get(sv, "b", &o, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(raw_int(db_path("svc.db"), "SELECT count(*) FROM studies WHERE owner='b'"),
	              0);
	/* Without studies no force is needed. */
	ASSERT_EQ_INT(service_owner_delete(sv, "c", 0, NULL, &e), 0);
	ASSERT_EQ_INT(service_owner_delete(sv, "c", 0, NULL, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(service_owner_delete(sv, "c", 1, NULL, &e), -ERR_NOT_FOUND);
}

static void test_keys(void)
{
	struct err e = {0};
	struct svc_owner o;
	struct svc_key k[3], got, *list = NULL;
	char secret[AUTH_KEY_LEN + 1];
	size_t n = 0;
	struct svc_owner_change ch = {0};
	ch.quota.max_api_keys = 2;
	ch.set = ch.mask = SVC_Q_MAX_KEYS;
	ASSERT_EQ_INT(service_owner_create(sv, "k", &ch, &o, NULL, &e), 0);
	svc_owner_clear(&o);

	ASSERT_EQ_INT(service_key_create(sv, "k", AUTH_ROLE_READER, "ci", &k[0], secret, NULL, &e),
	              0);
	ASSERT_TRUE(strncmp(secret, "sk_", 3) == 0);
	ASSERT_TRUE(strstr(secret, k[0].keyid) != NULL);
	svc_secret_wipe(secret);
	ASSERT_EQ_INT(secret[0], 0);
	ASSERT_EQ_STR(k[0].owner, "k");
	ASSERT_EQ_STR(k[0].display_name, "ci");
	ASSERT_EQ_INT(k[0].role, AUTH_ROLE_READER);
	ASSERT_EQ_INT(k[0].revoke_time, 0);
	ASSERT_EQ_INT(service_key_create(sv, "k", AUTH_ROLE_WRITER, NULL, &k[1], secret, NULL, &e),
	              0);
	ASSERT_EQ_STR(k[1].display_name, "");
	/* maxApiKeys 2: a third is refused and not stored. */
	ASSERT_EQ_INT(service_key_create(sv, "k", AUTH_ROLE_WRITER, NULL, &k[2], secret, NULL, &e),
	              -ERR_RESOURCE_EXHAUSTED);
	ASSERT_TRUE(strstr(e.msg, "maxApiKeys") != NULL);
	ASSERT_EQ_INT(raw_int(db_path("svc.db"), "SELECT count(*) FROM api_keys WHERE owner='k'"),
	              2);
	/* A key of an owner that does not exist. */
	ASSERT_EQ_INT(
	    service_key_create(sv, "ghost", AUTH_ROLE_WRITER, NULL, &k[2], secret, NULL, &e),
	    -ERR_NOT_FOUND);

	ASSERT_EQ_INT(service_key_list(sv, "k", 0, 0, &list, &n, &e), 0);
	ASSERT_EQ_INT(n, 2);
	if (n == 2) {
		ASSERT_EQ_STR(list[0].keyid, k[0].keyid);
		ASSERT_EQ_STR(list[1].keyid, k[1].keyid);
		ASSERT_EQ_INT(list[1].role, AUTH_ROLE_WRITER);
		int64_t first = list[0].seq;
		svc_keys_free(list, n);
		ASSERT_EQ_INT(service_key_list(sv, "k", first, 0, &list, &n, &e), 0);
		ASSERT_EQ_INT(n, 1);
	}
	svc_keys_free(list, n);
	ASSERT_EQ_INT(service_key_list(sv, "ghost", 0, 0, &list, &n, &e), -ERR_NOT_FOUND);

	/* Revoke: REVOKED from then on, and room for a new key. */
	ASSERT_EQ_INT(service_key_revoke(sv, "k", k[0].keyid, NULL, &e), 0);
	ASSERT_EQ_INT(service_key_get(sv, "k", k[0].keyid, &got, &e), 0);
	ASSERT_TRUE(got.revoke_time > 0);
	int64_t revoked = got.revoke_time;
	svc_key_clear(&got);
	ASSERT_EQ_INT(service_key_revoke(sv, "k", k[0].keyid, NULL, &e), 0);
	ASSERT_EQ_INT(service_key_get(sv, "k", k[0].keyid, &got, &e), 0);
	ASSERT_EQ_INT(got.revoke_time, revoked);
	svc_key_clear(&got);
	ASSERT_EQ_INT(service_key_create(sv, "k", AUTH_ROLE_WRITER, NULL, &k[2], secret, NULL, &e),
	              0);
	svc_secret_wipe(secret);
	/* Another owner's key is not found, whether read or revoked. */
	ASSERT_EQ_INT(service_key_get(sv, "a", k[1].keyid, &got, &e), -ERR_NOT_FOUND);
	ASSERT_TRUE(strstr(e.msg, "owners/a/apiKeys/") != NULL);
	ASSERT_EQ_INT(service_key_revoke(sv, "a", k[1].keyid, NULL, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(service_key_get(sv, "k", k[1].keyid, &got, &e), 0);
	ASSERT_EQ_INT(got.revoke_time, 0);
	svc_key_clear(&got);
	for (int i = 0; i < 3; i++)
		svc_key_clear(&k[i]);
}

static void add_audit(const char *owner, const char *path, int status)
{
	struct err e = {0};
	struct store_audit a = {.time = 5000,
	                        .keyid = "admin",
	                        .owner = (char *)owner,
	                        .method = "POST",
	                        .path = (char *)path,
	                        .status = status,
	                        .error = status == 200 ? "" : "NOT_FOUND"};
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	ASSERT_EQ_INT(store_audit_insert(w, &a, &e), 0);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
}

static void test_audit(void)
{
	struct err e = {0};
	struct svc_audit *a = NULL;
	size_t n = 0;
	add_audit("a", "/v1/owners/a/studies", 200);
	add_audit("k", "/v1/owners/k/apiKeys", 200);
	add_audit("a", "/v1/owners/a/studies/x", 404);
	ASSERT_EQ_INT(service_audit_list(sv, "a", 0, 0, &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 2);
	if (n == 2) {
		/* Newest first. */
		ASSERT_EQ_STR(a[0].path, "/v1/owners/a/studies/x");
		ASSERT_EQ_INT(a[0].status, 404);
		ASSERT_EQ_STR(a[0].error, "NOT_FOUND");
		ASSERT_EQ_STR(a[0].keyid, "admin");
		ASSERT_EQ_INT(a[0].count, 1);
		ASSERT_EQ_STR(a[1].path, "/v1/owners/a/studies");
		int64_t before = a[0].id;
		svc_audits_free(a, n);
		ASSERT_EQ_INT(service_audit_list(sv, NULL, before, 1, &a, &n, &e), 0);
		ASSERT_EQ_INT(n, 1);
		if (n == 1)
			ASSERT_EQ_STR(a[0].owner, "k");
	}
	svc_audits_free(a, n);
	ASSERT_EQ_INT(service_audit_list(sv, "nobody", 0, 0, &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 0);
	svc_audits_free(a, n);
}

int main(void)
{
	struct err e = {0};
	struct config cfg;
	if (store_test_setup("svc_owners") != 0)
		return 1;
	config_defaults(&cfg);
	st = store_open(db_path("svc.db"), &e);
	ASSERT_TRUE(st != NULL);
	sv = st ? service_new(st, &cfg) : NULL;
	ASSERT_TRUE(sv != NULL);
	if (sv) {
		test_owner_create_get();
		test_quota_limits();
		test_owner_list();
		test_owner_delete();
		test_keys();
		test_audit();
	}
	service_free(sv);
	store_close(st);
	store_test_cleanup();
	return test_done("test-service_owners");
}
