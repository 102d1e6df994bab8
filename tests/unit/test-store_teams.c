/* store_teams: the 0002_multiteam migration on a database made before it
 * (implicit owners become real ones), quotas stored (the service enforces
 * them), API keys (salt and hash only) and the audit log. */
#include "auth.h"
#include "store_internal.h" /* store_open_schema: a database of 0001 only */
#include "store_test.h"

/* A database as sibyld made it before multi-team: 0001 only, owners
 * created implicitly with their first study, and (as a database written
 * with foreign keys off could be) a study whose owner has no row. */
static void test_migration(void)
{
	char path[320];
	struct err e = {0};
	snprintf(path, sizeof(path), "%s", db_path("old.db"));
	struct store *st = store_open_schema(path, &store_migrations[0], 1, &e);
	ASSERT_TRUE(st != NULL);
	if (!st)
		return;
	store_close(st);
	/* Rows as that sibyld wrote them (the store's statements of today
	 * read columns a later migration adds). */
	raw_exec(path, "INSERT INTO owners(id, create_time) VALUES ('team', 1000); "
	               "INSERT INTO studies(owner, study_id, spec_json, create_time) "
	               "VALUES ('team', 's1', '{}', 1000), ('team', 's2', '{}', 1000)");
	raw_exec(path, "PRAGMA foreign_keys=OFF; "
	               "INSERT INTO studies(owner, study_id, spec_json, create_time) "
	               "VALUES ('ghost', 'g1', '{}', 500), ('ghost', 'g2', '{}', 300)");
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM owners"), 1);

	st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	if (!st)
		return;
	store_close(st);
	/* Every owner a study names is a real owner, with no limits. */
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM studies WHERE owner NOT IN "
	                            "(SELECT id FROM owners)"),
	              0);
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM owners"), 2);
	ASSERT_EQ_INT(raw_int(path, "SELECT create_time FROM owners WHERE id = 'ghost'"), 300);
	ASSERT_EQ_INT(raw_int(path, "SELECT max_studies + max_trials_per_study + "
	                            "max_active_trials FROM owners WHERE id = 'team'"),
	              0);
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM studies"), 4);
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN "
	                            "('api_keys', 'audit_log')"),
	              2);
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM schema_migrations WHERE version = 2"), 1);
	/* Opening again changes nothing. */
	char *before = dump(path);
	st = store_open(path, &e);
	store_close(st);
	char *after = dump(path);
	ASSERT_EQ_STR(after, before);
	free(before);
	free(after);
}

static int quota_set(struct store *st, const char *owner, const struct store_quota *q)
{
	struct err e = {0};
	struct store_conn *w = store_write_begin(st, &e);
	int rc = store_owner_update(w, owner, NULL, q, &e);
	if (rc)
		store_write_rollback(w);
	else
		rc = store_write_commit(w, &e);
	return rc;
}

/* Quotas are stored and read back; the store does not enforce them (the
 * service does, in the write transaction: 0008_quotas_in_service.sql,
 * tests/unit/test-service_quota.c), so a backend needs no triggers. */
static void test_quotas(struct store *st)
{
	struct err e = {0};
	struct store_quota q = {
	    .max_studies = 2, .max_trials_per_study = 3, .max_active_trials = 2};
	int64_t s1 = make_study(st, "quota", "s1");
	ASSERT_EQ_INT(quota_set(st, "quota", &q), 0);
	struct store_quota got;
	struct store_conn *r = store_read(st, &e);
	ASSERT_EQ_INT(store_owner_quota_get(r, "quota", &got, &e), 0);
	ASSERT_EQ_INT(got.max_studies, 2);
	ASSERT_EQ_INT(got.max_trials_per_study, 3);
	ASSERT_EQ_INT(got.max_active_trials, 2);
	ASSERT_EQ_INT(store_owner_quota_get(r, "nobody", &got, &e), -ERR_NOT_FOUND);
	store_release(r);
	make_study(st, "quota", "s2");
	make_study(st, "quota", "s3"); /* over maxStudies: the store writes it */
	add_trial(st, s1, TRIAL_ACTIVE, "a", 0);
	add_trial(st, s1, TRIAL_ACTIVE, "b", 0);
	add_trial(st, s1, TRIAL_ACTIVE, "c", 0);
	add_trial(st, s1, TRIAL_REQUESTED, NULL, 0);
	int64_t n = 0;
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_owner_active_count(r, "quota", &n, &e), 0);
	ASSERT_EQ_INT(n, 3);
	store_release(r);
	ASSERT_EQ_INT(raw_int(db_path("teams.db"),
	                      "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND "
	                      "name LIKE 'quota%'"),
	              0);
	ASSERT_EQ_INT(quota_set(st, "nobody", &q), -ERR_NOT_FOUND);
}

static void test_keys(struct store *st)
{
	struct err e = {0};
	struct auth_new_key nk;
	ASSERT_EQ_INT(auth_key_generate(&nk, &e), 0);
	make_study(st, "keyed", "s");
	struct store_key k = {
	    .owner = "keyed", .role = AUTH_ROLE_WRITER, .display_name = "ci", .create_time = 10};
	memcpy(k.keyid, nk.keyid, sizeof(k.keyid));
	memcpy(k.salt, nk.salt, sizeof(k.salt));
	memcpy(k.hash, nk.hash, sizeof(k.hash));
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_EQ_INT(store_key_insert(w, &k, &e), 0);
	ASSERT_EQ_INT(store_key_insert(w, &k, &e), -ERR_ABORTED); /* the id is taken */
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);

	/* The secret is nowhere in the file. */
	char *all = dump(db_path("teams.db"));
	ASSERT_TRUE(all && strstr(all, nk.key + 20) == NULL);
	free(all);

	struct store_conn *r = store_read(st, &e);
	struct store_key got = {0};
	double rps = -1;
	ASSERT_EQ_INT(store_key_get(r, nk.keyid, &got, &rps, &e), 0);
	ASSERT_EQ_STR(got.owner, "keyed");
	ASSERT_EQ_INT(got.role, AUTH_ROLE_WRITER);
	ASSERT_EQ_DBL(rps, 0, 0);
	ASSERT_TRUE(memcmp(got.hash, nk.hash, sizeof(got.hash)) == 0);
	/* What api.c does with it. */
	struct auth_key_record rec = {.role = (enum auth_role)got.role};
	memcpy(rec.keyid, got.keyid, sizeof(rec.keyid));
	snprintf(rec.owner, sizeof(rec.owner), "%s", got.owner);
	memcpy(rec.salt, got.salt, sizeof(rec.salt));
	memcpy(rec.hash, got.hash, sizeof(rec.hash));
	struct auth_principal p;
	ASSERT_EQ_INT(auth_verify(&rec, nk.key, strlen(nk.key), &p, &e), 0);
	store_key_clear(&got);
	ASSERT_EQ_INT(store_key_get(r, "ffffffffffffffff", &got, NULL, &e), -ERR_NOT_FOUND);
	struct store_key *list = NULL;
	size_t n = 0;
	ASSERT_EQ_INT(store_key_list(r, "keyed", 0, 0, &list, &n, &e), 0);
	ASSERT_EQ_INT(n, 1);
	store_keys_free(list, n);
	store_release(r);

	w = store_write_begin(st, &e);
	ASSERT_EQ_INT(store_key_revoke(w, "keyed", nk.keyid, 500, &e), 0);
	ASSERT_EQ_INT(store_key_revoke(w, "keyed", nk.keyid, 900, &e), 0); /* keeps 500 */
	ASSERT_EQ_INT(store_key_revoke(w, "other", nk.keyid, 900, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_key_get(r, nk.keyid, &got, NULL, &e), 0);
	ASSERT_EQ_INT(got.revoke_time, 500);
	store_key_clear(&got);
	store_release(r);

	/* Deleting the owner (forced) takes its studies and keys. */
	w = store_write_begin(st, &e);
	ASSERT_EQ_INT(store_owner_delete(w, "keyed", &e), -ERR_FAILED_PRECONDITION);
	ASSERT_EQ_INT(store_owner_delete_all(w, "keyed", &e), 0);
	ASSERT_EQ_INT(store_owner_delete_all(w, "keyed", &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_key_get(r, nk.keyid, &got, NULL, &e), -ERR_NOT_FOUND);
	store_release(r);
}

static void test_audit(struct store *st)
{
	struct err e = {0};
	struct store_conn *w = store_write_begin(st, &e);
	for (int i = 0; i < 5; i++) {
		struct store_audit a = {.time = 100 + i,
		                        .keyid = "admin",
		                        .owner = i % 2 ? "odd" : "even",
		                        .method = "POST",
		                        .path = "/v1/x'; DROP TABLE audit_log; --",
		                        .status = i == 4 ? 429 : 200,
		                        .error = i == 4 ? "RESOURCE_EXHAUSTED" : ""};
		ASSERT_EQ_INT(store_audit_insert(w, &a, &e), 0);
	}
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	struct store_conn *r = store_read(st, &e);
	struct store_audit *a = NULL;
	size_t n = 0;
	ASSERT_EQ_INT(store_audit_list(r, NULL, 0, 3, &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 3);
	ASSERT_EQ_INT(a[0].time, 104); /* newest first */
	ASSERT_EQ_STR(a[0].error, "RESOURCE_EXHAUSTED");
	ASSERT_EQ_STR(a[0].path, "/v1/x'; DROP TABLE audit_log; --");
	int64_t before = a[2].id;
	store_audits_free(a, n);
	ASSERT_EQ_INT(store_audit_list(r, NULL, before, 10, &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 2);
	ASSERT_EQ_INT(a[0].time, 101);
	store_audits_free(a, n);
	ASSERT_EQ_INT(store_audit_list(r, "odd", 0, 10, &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 2);
	for (size_t i = 0; i < n; i++)
		ASSERT_EQ_STR(a[i].owner, "odd");
	store_audits_free(a, n);
	store_release(r);
}

/* 0005 on a database with an audit log: the per-owner counts start right,
 * and owners get the default key quota. */
static void test_migration_0005(void)
{
	char path[320];
	struct err e = {0};
	snprintf(path, sizeof(path), "%s", db_path("pre5.db"));
	struct store *st = store_open_schema(path, &store_migrations[0], 3, &e);
	ASSERT_TRUE(st != NULL);
	if (!st)
		return;
	store_close(st);
	/* rows as the schema of 0003 holds them (the store's statements of today
	 * read columns that later migrations add) */
	raw_exec(path, "INSERT INTO owners(id, create_time) VALUES ('old', 1)");
	raw_exec(path, "INSERT INTO audit_log(time, keyid, owner, method, path, status, error) "
	               "VALUES (1, 'admin', 'old', 'POST', '/p', 200, ''), "
	               "(2, 'admin', 'old', 'POST', '/p', 200, ''), "
	               "(3, '', '', 'POST', '/p', 401, 'UNAUTHENTICATED')");
	st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	store_close(st);
	ASSERT_EQ_INT(raw_int(path, "SELECT n FROM audit_counts WHERE owner = 'old'"), 2);
	ASSERT_EQ_INT(raw_int(path, "SELECT n FROM audit_counts WHERE owner = ''"), 1);
	ASSERT_EQ_INT(raw_int(path, "SELECT max_api_keys FROM owners WHERE id = 'old'"), 100);
	ASSERT_EQ_INT(raw_int(path, "SELECT min(count) FROM audit_log"), 1);
}

static int insert_key(struct store *st, const char *owner, struct auth_new_key *nk)
{
	struct err e = {0};
	if (auth_key_generate(nk, &e) != 0)
		return -1;
	struct store_key k = {.owner = (char *)owner, .role = AUTH_ROLE_READER, .create_time = 1};
	memcpy(k.keyid, nk->keyid, sizeof(k.keyid));
	memcpy(k.salt, nk->salt, sizeof(k.salt));
	memcpy(k.hash, nk->hash, sizeof(k.hash));
	struct store_conn *w = store_write_begin(st, &e);
	int rc = store_key_insert(w, &k, &e);
	if (rc) {
		TEST_FAIL("key insert: %s", e.msg);
		store_write_rollback(w);
	} else {
		rc = store_write_commit(w, &e);
	}
	return rc;
}

/* maxApiKeys: stored with a default of 100; the service enforces it
 * (tests/unit/test-service_quota.c), the store writes any key. */
static void test_key_quota(struct store *st)
{
	struct err e = {0};
	struct auth_new_key k1, k2, k3;
	make_study(st, "kq", "s");
	struct store_quota q;
	struct store_conn *r = store_read(st, &e);
	ASSERT_EQ_INT(store_owner_quota_get(r, "kq", &q, &e), 0);
	store_release(r);
	ASSERT_EQ_INT(q.max_api_keys, 100); /* the default */
	q.max_api_keys = 2;
	ASSERT_EQ_INT(quota_set(st, "kq", &q), 0);
	ASSERT_EQ_INT(insert_key(st, "kq", &k1), 0);
	ASSERT_EQ_INT(insert_key(st, "kq", &k2), 0);
	ASSERT_EQ_INT(insert_key(st, "kq", &k3), 0);
	ASSERT_EQ_INT(
	    raw_int(db_path("teams.db"), "SELECT count(*) FROM api_keys WHERE owner='kq'"), 3);
}

static void audit_add(struct store_conn *w, const char *owner, int64_t time)
{
	struct err e = {0};
	struct store_audit a = {.time = time,
	                        .keyid = "0123456789abcdef",
	                        .owner = (char *)owner,
	                        .method = "POST",
	                        .path = "/v1/p",
	                        .status = 403,
	                        .error = "PERMISSION_DENIED"};
	if (store_audit_insert(w, &a, &e) != 0)
		TEST_FAIL("audit insert: %s", e.msg);
}

static int64_t owner_entries(const char *owner)
{
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE owner = '%s'", owner);
	return raw_int(db_path("teams.db"), sql);
}

/* One owner's flood pushes out its own oldest entries, not another's. */
static void test_audit_retention(struct store *st)
{
	struct err e = {0};
	struct store_conn *w = store_write_begin(st, &e);
	for (int i = 0; i < 5; i++)
		audit_add(w, "quiet", i);
	for (int64_t i = 0; i <= STORE_AUDIT_KEEP + 1000; i++)
		audit_add(w, "flood", 1000 + i);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	ASSERT_EQ_INT(owner_entries("flood"), STORE_AUDIT_KEEP);
	ASSERT_EQ_INT(owner_entries("quiet"), 5);
	/* the newest were kept */
	ASSERT_EQ_INT(
	    raw_int(db_path("teams.db"), "SELECT min(time) FROM audit_log WHERE owner = 'flood'"),
	    1000 + 1001);
	ASSERT_EQ_INT(
	    raw_int(db_path("teams.db"), "SELECT n FROM audit_counts WHERE owner = 'flood'"),
	    STORE_AUDIT_KEEP);
	/* pruning one owner by hand */
	w = store_write_begin(st, &e);
	ASSERT_EQ_INT(store_audit_prune(w, "quiet", 2, &e), 0);
	ASSERT_EQ_INT(store_audit_prune(w, "nobody", 2, &e), 0);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	ASSERT_EQ_INT(owner_entries("quiet"), 2);
	ASSERT_EQ_INT(
	    raw_int(db_path("teams.db"), "SELECT min(time) FROM audit_log WHERE owner = 'quiet'"),
	    3);
	ASSERT_EQ_INT(owner_entries("flood"), STORE_AUDIT_KEEP);
	raw_exec(db_path("teams.db"), "DELETE FROM audit_log WHERE owner IN ('flood', 'quiet')");
	ASSERT_EQ_INT(
	    raw_int(db_path("teams.db"), "SELECT n FROM audit_counts WHERE owner = 'flood'"), 0);
}

/* An entry written alone gives its id; repeats add to its count. */
static void test_audit_count(struct store *st)
{
	struct err e = {0};
	struct store_audit a = {.time = 50,
	                        .keyid = "k",
	                        .owner = "counted",
	                        .method = "POST",
	                        .path = "/v1/c",
	                        .status = 403,
	                        .error = "PERMISSION_DENIED"};
	int64_t id = 0;
	ASSERT_EQ_INT(store_audit_record(st, 0, &a, &id, &e), 0);
	ASSERT_TRUE(id > 0);
	ASSERT_EQ_INT(store_audit_add_count(st, id, 5, 70, &e), 0);
	ASSERT_EQ_INT(store_audit_add_count(st, id, 2, 60, &e), 0);        /* late: keeps 70 */
	ASSERT_EQ_INT(store_audit_add_count(st, id + 1000, 2, 60, &e), 0); /* gone: no error */
	struct store_conn *r = store_read(st, &e);
	struct store_audit *l = NULL;
	size_t n = 0;
	ASSERT_EQ_INT(store_audit_list(r, "counted", 0, 10, &l, &n, &e), 0);
	store_release(r);
	ASSERT_EQ_INT(n, 1);
	if (n == 1) {
		ASSERT_EQ_INT(l[0].count, 8);
		ASSERT_EQ_INT(l[0].last_time, 70);
	}
	store_audits_free(l, n);
}

/* The first secret stored stays: every daemon on the file agrees. */
/* The entry handed to a write transaction (store_write_audit) goes in
 * with its commit, which sets the id; a rollback writes nothing and
 * leaves the id alone. */
static void test_write_audit(struct store *st)
{
	struct err e = {0};
	struct store_audit a = {.time = 7,
	                        .keyid = "admin",
	                        .owner = "wa",
	                        .method = "POST",
	                        .path = "/v1/owners/wa/studies",
	                        .status = 200,
	                        .error = ""};
	int64_t id = 0;
	const char *count = "SELECT count(*) FROM audit_log WHERE owner = 'wa'";
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	store_write_audit(w, &a, &id);
	store_write_rollback(w);
	ASSERT_EQ_INT(id, 0);
	ASSERT_EQ_INT(raw_int(db_path("teams.db"), count), 0);
	/* a later transaction of the thread does not carry it */
	int64_t rowid = make_study(st, "wa", "s");
	ASSERT_EQ_INT(raw_int(db_path("teams.db"), count), 0);
	w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	store_write_audit(w, &a, &id);
	ASSERT_EQ_INT(store_study_set_progress(w, rowid, 9, &e), 0);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	ASSERT_TRUE(id > 0);
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT time FROM audit_log WHERE id = %lld", (long long)id);
	ASSERT_EQ_INT(raw_int(db_path("teams.db"), sql), 7);
	ASSERT_EQ_INT(raw_int(db_path("teams.db"), count), 1);
}

static void test_secret(struct store *st)
{
	struct err e = {0};
	unsigned char a[32], b[32], out[32];
	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	ASSERT_EQ_INT(store_secret(st, "page_token", a, sizeof(a), out, &e), 0);
	ASSERT_TRUE(memcmp(out, a, sizeof(a)) == 0);
	ASSERT_EQ_INT(store_secret(st, "page_token", b, sizeof(b), out, &e), 0);
	ASSERT_TRUE(memcmp(out, a, sizeof(a)) == 0);
	ASSERT_EQ_INT(store_secret(st, "page_token", b, 16, out, &e), -ERR_INTERNAL);
	ASSERT_EQ_INT(store_secret(st, "other", b, sizeof(b), out, &e), 0);
	ASSERT_TRUE(memcmp(out, b, sizeof(b)) == 0);
}

int main(void)
{
	struct err e = {0};
	if (store_test_setup("teams") != 0)
		return 1;
	test_migration();
	test_migration_0005();
	struct store *st = store_open(db_path("teams.db"), &e);
	ASSERT_TRUE(st != NULL);
	if (st) {
		test_quotas(st);
		test_keys(st);
		test_audit(st);
		test_key_quota(st);
		test_audit_retention(st);
		test_audit_count(st);
		test_secret(st);
		test_write_audit(st);
		store_close(st);
	}
	store_test_cleanup();
	return test_done("test-store_teams");
}
