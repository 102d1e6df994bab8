/* test-store: the store's calls on a real SQLite file in a fresh temp
 * directory: migrations, owners, studies, trials, leases, measurements,
 * operations, rollback. Concurrency, the reader pool, backup and kill -9 are
 * in test-store_concurrency.c. No mocks: every check goes through store.h,
 * and the raw file is read back with plain sqlite3 where the test needs to
 * see what was written. */
#include "store_internal.h" /* store_open_schema, for the migration engine */
#include "store_test.h"

static void test_migrations(void)
{
	const char *p = db_path("mig.db");
	char path[320];
	snprintf(path, sizeof(path), "%s", p);
	struct err e = {0};
	struct store *st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	store_close(st);
	/* Every embedded migration, once. */
	const long latest = store_migrations[store_n_migrations - 1].version;
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM schema_migrations"),
	              (int64_t)store_n_migrations);
	ASSERT_EQ_INT(raw_int(path, "SELECT max(version) FROM schema_migrations"), latest);
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name='trials'"), 1);
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
	                            "name IN ('trials_state','trials_client','trials_lease',"
	                            "'studies_owner_id')"),
	              4);
	{
		sqlite3 *db;
		sqlite3_open(path, &db);
		sqlite3_stmt *s;
		sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL);
		ASSERT_EQ_INT(sqlite3_step(s), SQLITE_ROW);
		ASSERT_EQ_STR((const char *)sqlite3_column_text(s, 0), "wal");
		sqlite3_finalize(s);
		sqlite3_close(db);
	}

	/* A second start changes nothing, with data in it. */
	st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	store_close(st);
	int64_t rowid = 0;
	st = store_open(path, &e);
	if (st) {
		rowid = make_study(st, "team", "s");
		add_trial(st, rowid, TRIAL_ACTIVE, "w1", 5);
		store_close(st);
	}
	char *before = dump(path);
	st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	store_close(st);
	char *after = dump(path);
	ASSERT_EQ_STR(after, before);
	ASSERT_TRUE(strstr(before, "|init|") != NULL);
	free(after);

	/* A database from a newer sibyld is refused, and left as it was. */
	raw_exec(path, "INSERT INTO schema_migrations(version, name, applied_at) "
	               "VALUES (9999, 'future', 1)");
	free(before);
	before = dump(path);
	memset(&e, 0, sizeof(e));
	st = store_open(path, &e);
	ASSERT_TRUE(st == NULL);
	store_close(st);
	ASSERT_EQ_INT(e.code, ERR_FAILED_PRECONDITION);
	ASSERT_TRUE(strstr(e.msg, "schema version 9999") != NULL);
	char want_version[32];
	snprintf(want_version, sizeof(want_version), "(version %ld)", latest);
	ASSERT_TRUE(strstr(e.msg, want_version) != NULL);
	after = dump(path);
	ASSERT_EQ_STR(after, before);
	free(before);
	free(after);

	/* Not a database at all: a clear error, no crash. */
	const char *junk = db_path("junk.db");
	FILE *f = fopen(junk, "w");
	if (f) {
		fputs("this is not an SQLite file, it is plain text long enough to matter\n", f);
		fclose(f);
	}
	memset(&e, 0, sizeof(e));
	st = store_open(junk, &e);
	ASSERT_TRUE(st == NULL);
	ASSERT_TRUE(e.code != ERR_OK);
	ASSERT_TRUE(strstr(e.msg, "not a database") != NULL);
	store_close(st);
}

/* The migration engine with lists other than the embedded one: a later
 * migration is applied once, on top; a failing one or one that breaks a
 * foreign key leaves the file exactly as it was. */
static void test_migration_engine(void)
{
	char path[320];
	snprintf(path, sizeof(path), "%s", db_path("engine.db"));
	struct err e = {0};
	/* The engine on its own: 0001 (with 0004_metadata, whose columns the
	 * store's statements read) and then migrations of this test, so that
	 * it does not depend on how many the binary embeds. */
	const struct store_migration base = store_migrations[0];
	struct store_migration md = {0};
	for (size_t i = 0; i < store_n_migrations; i++)
		if (strcmp(store_migrations[i].name, "metadata") == 0)
			md = store_migrations[i];
	ASSERT_EQ_INT(md.version, 4);
	const struct store_migration pair[] = {base, md};
	struct store *st = store_open_schema(path, pair, 2, &e);
	ASSERT_TRUE(st != NULL);
	if (!st)
		return;
	make_study(st, "team", "kept");
	store_close(st);

	/* a failing script: named in the error, nothing changed */
	struct store_migration bad[] = {
	    base, md, {5, "bad", "CREATE TABLE half(x); INSERT INTO half VALUES (1); NOT SQL;"}};
	char *before = dump(path);
	st = store_open_schema(path, bad, 3, &e);
	ASSERT_TRUE(st == NULL);
	store_close(st);
	ASSERT_EQ_INT(e.code, ERR_INTERNAL);
	ASSERT_TRUE(strstr(e.msg, "migration 0005_bad") != NULL);
	ASSERT_TRUE(strstr(e.msg, "syntax error") != NULL);
	char *after = dump(path);
	ASSERT_EQ_STR(after, before);
	free(after);

	/* a script that leaves a dangling foreign key is refused */
	struct store_migration fk[] = {base,
	                               md,
	                               {5, "fk",
	                                "INSERT INTO trials(study_rowid, id, state, params_json) "
	                                "VALUES (999, 1, 1, '[]');"}};
	st = store_open_schema(path, fk, 3, &e);
	ASSERT_TRUE(st == NULL);
	store_close(st);
	ASSERT_TRUE(strstr(e.msg, "foreign key") != NULL);
	after = dump(path);
	ASSERT_EQ_STR(after, before);
	free(after);
	free(before);

	/* two new ones at once, in order, in one go; then nothing more */
	struct store_migration more[] = {
	    base,
	    md,
	    {100, "extra", "CREATE TABLE extra(x INTEGER NOT NULL); INSERT INTO extra VALUES (2);"},
	    {101, "extra_more", "INSERT INTO extra SELECT x + 1 FROM extra;"}};
	st = store_open_schema(path, more, 4, &e);
	ASSERT_TRUE(st != NULL);
	if (st) {
		struct store_conn *r = store_read(st, &e);
		struct store_study s = {0};
		ASSERT_EQ_INT(store_study_get(r, "team", "kept", &s, &e), 0);
		store_study_clear(&s);
		store_release(r);
	}
	store_close(st);
	ASSERT_EQ_INT(raw_int(path, "SELECT group_concat(version, '') FROM "
	                            "(SELECT version FROM schema_migrations ORDER BY rowid)"),
	              14100101);
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM schema_migrations"), 4);
	ASSERT_EQ_INT(raw_int(path, "SELECT sum(x) FROM extra"), 5);
	before = dump(path);
	st = store_open_schema(path, more, 4, &e);
	ASSERT_TRUE(st != NULL);
	store_close(st);
	after = dump(path);
	ASSERT_EQ_STR(after, before);
	free(after);
	free(before);

	/* and this binary, whose newest migration is older, refuses the file */
	st = store_open(path, &e);
	ASSERT_TRUE(st == NULL);
	store_close(st);
	ASSERT_TRUE(strstr(e.msg, "schema version 101") != NULL);
	char want_version[32];
	snprintf(want_version, sizeof(want_version), "(version %d)",
	         store_migrations[store_n_migrations - 1].version);
	ASSERT_TRUE(strstr(e.msg, want_version) != NULL);
}

static void test_studies(struct store *st)
{
	struct err e = {0};
	struct store_study s = {0};
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);

	/* No owner row yet: NOT_FOUND, nothing inserted. */
	ASSERT_EQ_INT(store_study_insert(w, "ghost", "s1", "{}", 1, NULL, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_STR(e.msg, "owner owners/ghost not found");

	ASSERT_EQ_INT(store_owner_ensure(w, "team", 100, &e), 0);
	ASSERT_EQ_INT(store_owner_ensure(w, "team", 200, &e), 0); /* idempotent */
	ASSERT_EQ_INT(store_study_insert(w, "team", "s1", "{\"a\":1}", 123, &s, &e), 0);
	ASSERT_TRUE(s.rowid > 0);
	ASSERT_EQ_STR(s.owner, "team");
	ASSERT_EQ_STR(s.study_id, "s1");
	ASSERT_EQ_STR(s.spec_json, "{\"a\":1}");
	ASSERT_EQ_INT(s.state, STUDY_ACTIVE);
	ASSERT_EQ_INT(s.create_time, 123);
	ASSERT_TRUE(s.inactive_reason == NULL);
	int64_t rowid = s.rowid;
	store_study_clear(&s);
	ASSERT_EQ_INT(store_study_insert(w, "team", "s1", "{\"a\":2}", 124, NULL, &e),
	              -ERR_ALREADY_EXISTS);
	ASSERT_EQ_INT(e.code, ERR_ALREADY_EXISTS);
	ASSERT_EQ_STR(e.msg, "study owners/team/studies/s1 already exists");
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);

	struct store_conn *r = store_read(st, &e);
	ASSERT_TRUE(r != NULL);
	ASSERT_EQ_INT(store_study_get(r, "team", "s1", &s, &e), 0);
	ASSERT_EQ_INT(s.rowid, rowid);
	ASSERT_EQ_STR(s.spec_json, "{\"a\":1}"); /* the refused insert changed nothing */
	store_study_clear(&s);
	ASSERT_EQ_INT(store_study_get(r, "team", "nope", &s, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_STR(e.msg, "study owners/team/studies/nope not found");
	ASSERT_EQ_INT(store_study_get(r, "other", "s1", &s, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(store_study_get_by_rowid(r, rowid, &s, &e), 0);
	ASSERT_EQ_STR(s.study_id, "s1");
	store_study_clear(&s);
	struct store_owner o = {0};
	ASSERT_EQ_INT(store_owner_get(r, "team", &o, &e), 0);
	ASSERT_EQ_INT(o.create_time, 100);
	store_owner_clear(&o);
	store_release(r);

	/* state and progress */
	w = store_write_begin(st, &e);
	ASSERT_EQ_INT(store_study_set_state(w, rowid, STUDY_COMPLETED, "budget reached", &e), 0);
	ASSERT_EQ_INT(store_study_set_progress(w, rowid, 777, &e), 0);
	ASSERT_EQ_INT(store_study_set_state(w, 987654, STUDY_ACTIVE, NULL, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(store_study_set_state(w, rowid, 9, NULL, &e), -ERR_INVALID_ARGUMENT);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_study_get(r, "team", "s1", &s, &e), 0);
	ASSERT_EQ_INT(s.state, STUDY_COMPLETED);
	ASSERT_EQ_STR(s.inactive_reason, "budget reached");
	ASSERT_EQ_INT(s.last_progress_time, 777);
	store_study_clear(&s);
	store_release(r);

	/* pagination: 7 studies in pages of 3 */
	w = store_write_begin(st, &e);
	store_owner_ensure(w, "pager", 1, &e);
	store_owner_ensure(w, "noise", 1, &e);
	for (int i = 0; i < 7; i++) {
		char id[16];
		snprintf(id, sizeof(id), "p%d", i);
		ASSERT_EQ_INT(store_study_insert(w, "pager", id, "{}", i, NULL, &e), 0);
		ASSERT_EQ_INT(store_study_insert(w, "noise", id, "{}", i, NULL, &e), 0);
	}
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	r = store_read(st, &e);
	int64_t after = 0;
	int seen = 0, pages = 0;
	for (;;) {
		struct store_study *a;
		size_t n;
		ASSERT_EQ_INT(store_study_list(r, "pager", after, 3, &a, &n, &e), 0);
		pages++;
		for (size_t i = 0; i < n; i++) {
			char want[16];
			snprintf(want, sizeof(want), "p%d", seen++);
			ASSERT_EQ_STR(a[i].study_id, want);
			ASSERT_EQ_STR(a[i].owner, "pager");
			ASSERT_TRUE(a[i].rowid > after);
		}
		if (n)
			after = a[n - 1].rowid;
		store_studies_free(a, n);
		if (n < 3 || pages > 5)
			break;
	}
	ASSERT_EQ_INT(seen, 7);
	ASSERT_EQ_INT(pages, 3);
	int64_t count;
	ASSERT_EQ_INT(store_count_studies(r, &count, &e), 0);
	ASSERT_EQ_INT(count, 15);
	store_release(r);

	/* delete */
	w = store_write_begin(st, &e);
	ASSERT_EQ_INT(store_study_delete(w, "pager", "p3", &e), 0);
	ASSERT_EQ_INT(store_study_delete(w, "pager", "p3", &e), -ERR_NOT_FOUND);
	ASSERT_EQ_STR(e.msg, "study owners/pager/studies/p3 not found");
	ASSERT_EQ_INT(store_owner_delete(w, "pager", &e), -ERR_FAILED_PRECONDITION);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	r = store_read(st, &e);
	struct store_study *a;
	size_t n;
	ASSERT_EQ_INT(store_study_list(r, "pager", 0, 0, &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 6);
	store_studies_free(a, n);
	ASSERT_EQ_INT(store_study_get(r, "pager", "p3", &s, &e), -ERR_NOT_FOUND);
	store_release(r);
}

static void test_trials(struct store *st, const char *path)
{
	struct err e = {0};
	int64_t sr = make_study(st, "team", "trials");
	int64_t other = make_study(st, "team", "trials-other");

	/* ids 1, 2, 3, ... per study; never reused after a delete */
	ASSERT_EQ_INT(add_trial(st, sr, TRIAL_REQUESTED, NULL, 0), 1);
	ASSERT_EQ_INT(add_trial(st, sr, TRIAL_ACTIVE, "w1", 5000), 2);
	ASSERT_EQ_INT(add_trial(st, other, TRIAL_ACTIVE, "w1", 0), 1);
	ASSERT_EQ_INT(add_trial(st, sr, TRIAL_ACTIVE, "w2", 0), 3);
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_EQ_INT(store_trial_delete(w, sr, 3, &e), 0);
	ASSERT_EQ_INT(store_trial_delete(w, sr, 3, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_STR(e.msg, "trial owners/team/studies/trials/trials/3 not found");
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	ASSERT_EQ_INT(add_trial(st, sr, TRIAL_ACTIVE, "w2", 9000), 4);
	ASSERT_EQ_INT(add_trial(st, sr, TRIAL_STOPPING, "w1", 0), 5);
	ASSERT_EQ_INT(add_trial(st, sr, TRIAL_SUCCEEDED, NULL, 0), 6);
	ASSERT_EQ_INT(add_trial(st, sr, TRIAL_INFEASIBLE, NULL, 0), 7);
	ASSERT_EQ_INT(add_trial(st, sr, TRIAL_ACTIVE, "w3", 20000), 8);
	/* trial ids 1 2 4 5 6 7 8: R A A S OK INF A */

	struct store_conn *r = store_read(st, &e);
	struct store_trial t = {0}, *a;
	size_t n;
	ASSERT_EQ_INT(store_trial_get(r, sr, 2, &t, &e), 0);
	ASSERT_EQ_INT(t.state, TRIAL_ACTIVE);
	ASSERT_EQ_STR(t.client_id, "w1");
	ASSERT_EQ_STR(t.params_json, "[{\"parameterId\":\"x\",\"value\":1}]");
	ASSERT_EQ_INT(t.lease_expiry, 5000);
	ASSERT_TRUE(t.final_json == NULL);
	store_trial_clear(&t);
	ASSERT_EQ_INT(store_trial_get(r, sr, 3, &t, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(store_trial_get(r, 424242, 1, &t, &e), -ERR_NOT_FOUND);

	ASSERT_EQ_INT(store_trial_list(r, sr, 0, 0, 0, &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 7);
	int64_t want_all[] = {1, 2, 4, 5, 6, 7, 8};
	for (size_t i = 0; i < n && i < 7; i++)
		ASSERT_EQ_INT(a[i].id, want_all[i]);
	store_trials_free(a, n);
	ASSERT_EQ_INT(store_trial_list(r, sr, 1u << TRIAL_ACTIVE, 0, 0, &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 3);
	if (n == 3) {
		ASSERT_EQ_INT(a[0].id, 2);
		ASSERT_EQ_INT(a[1].id, 4);
		ASSERT_EQ_INT(a[2].id, 8);
	}
	store_trials_free(a, n);
	unsigned done = (1u << TRIAL_SUCCEEDED) | (1u << TRIAL_INFEASIBLE);
	ASSERT_EQ_INT(store_trial_list(r, sr, done | (1u << TRIAL_REQUESTED), 0, 0, &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 3);
	if (n == 3) { /* id order across states */
		ASSERT_EQ_INT(a[0].id, 1);
		ASSERT_EQ_INT(a[1].id, 6);
		ASSERT_EQ_INT(a[2].id, 7);
	}
	store_trials_free(a, n);
	/* pages: after + limit, with and without a mask */
	ASSERT_EQ_INT(store_trial_list(r, sr, 0, 2, 3, &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 3);
	if (n == 3) {
		ASSERT_EQ_INT(a[0].id, 4);
		ASSERT_EQ_INT(a[2].id, 6);
	}
	store_trials_free(a, n);
	ASSERT_EQ_INT(store_trial_list(r, sr, 1u << TRIAL_ACTIVE, 2, 1, &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 1);
	if (n == 1)
		ASSERT_EQ_INT(a[0].id, 4);
	store_trials_free(a, n);

	int64_t c;
	ASSERT_EQ_INT(store_trial_count(r, sr, 0, &c, &e), 0);
	ASSERT_EQ_INT(c, 7);
	ASSERT_EQ_INT(store_trial_count(r, sr, 1u << TRIAL_ACTIVE, &c, &e), 0);
	ASSERT_EQ_INT(c, 3);
	ASSERT_EQ_INT(store_trial_count(r, sr, done, &c, &e), 0);
	ASSERT_EQ_INT(c, 2);
	ASSERT_EQ_INT(store_trial_count(r, sr, 0x3e, &c, &e), 0);
	ASSERT_EQ_INT(c, 7);
	ASSERT_EQ_INT(store_trial_count(r, other, 0, &c, &e), 0);
	ASSERT_EQ_INT(c, 1);

	/* client lookup: ACTIVE and STOPPING of that client, in id order */
	ASSERT_EQ_INT(store_trial_list_by_client(r, sr, "w1", &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 2);
	if (n == 2) {
		ASSERT_EQ_INT(a[0].id, 2);
		ASSERT_EQ_INT(a[1].id, 5);
	}
	store_trials_free(a, n);
	ASSERT_EQ_INT(store_trial_list_by_client(r, sr, "nobody", &a, &n, &e), 0);
	ASSERT_EQ_INT(n, 0);
	store_trials_free(a, n);

	int64_t by_state[6];
	ASSERT_EQ_INT(store_count_trials_by_state(r, by_state, &e), 0);
	ASSERT_EQ_INT(by_state[TRIAL_REQUESTED], 1);
	ASSERT_EQ_INT(by_state[TRIAL_ACTIVE], 4); /* 3 here, 1 in the other study */
	ASSERT_EQ_INT(by_state[TRIAL_STOPPING], 1);
	ASSERT_EQ_INT(by_state[TRIAL_SUCCEEDED], 1);
	ASSERT_EQ_INT(by_state[TRIAL_INFEASIBLE], 1);
	store_release(r);

	/* update writes every mutable field */
	w = store_write_begin(st, &e);
	ASSERT_EQ_INT(store_trial_get(w, sr, 6, &t, &e), 0);
	free(t.final_json);
	t.final_json = strdup("{\"metrics\":[{\"metricId\":\"m\",\"value\":0.5}]}");
	t.complete_json = strdup("{\"finalMeasurement\":{}}");
	t.info_json = strdup("{\"algorithm\":\"RANDOM_SEARCH\"}");
	t.start_time = 11;
	t.end_time = 22;
	ASSERT_EQ_INT(store_trial_update(w, &t, &e), 0);
	store_trial_clear(&t);
	struct store_trial ghost = {.study_rowid = sr, .id = 99, .state = 1, .params_json = "[]"};
	ASSERT_EQ_INT(store_trial_update(w, &ghost, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_trial_get(r, sr, 6, &t, &e), 0);
	ASSERT_EQ_STR(t.final_json, "{\"metrics\":[{\"metricId\":\"m\",\"value\":0.5}]}");
	ASSERT_EQ_STR(t.complete_json, "{\"finalMeasurement\":{}}");
	ASSERT_EQ_STR(t.info_json, "{\"algorithm\":\"RANDOM_SEARCH\"}");
	ASSERT_EQ_INT(t.start_time, 11);
	ASSERT_EQ_INT(t.end_time, 22);
	store_trial_clear(&t);
	store_release(r);

	/* finish writes what completing changes and nothing else; set_lease
	 * only the lease */
	w = store_write_begin(st, &e);
	ASSERT_EQ_INT(store_trial_get(w, sr, 6, &t, &e), 0);
	char *client_before = t.client_id ? strdup(t.client_id) : NULL;
	t.state = TRIAL_SUCCEEDED;
	free(t.complete_json);
	t.complete_json = strdup("{\"again\":1}");
	free(t.info_json);
	t.info_json = strdup("{\"not\":\"written\"}");
	t.start_time = 999; /* not written by finish */
	t.end_time = 33;
	t.lease_expiry = 0;
	ASSERT_EQ_INT(store_trial_finish(w, &t, &e), 0);
	store_trial_clear(&t);
	ASSERT_EQ_INT(store_trial_finish(w, &ghost, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(store_trial_set_lease(w, sr, 6, 4242, &e), 0);
	ASSERT_EQ_INT(store_trial_set_lease(w, sr, 99, 1, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_trial_get(r, sr, 6, &t, &e), 0);
	ASSERT_EQ_INT(t.state, TRIAL_SUCCEEDED);
	ASSERT_EQ_STR(t.complete_json, "{\"again\":1}");
	ASSERT_EQ_STR(t.info_json, "{\"algorithm\":\"RANDOM_SEARCH\"}");
	ASSERT_EQ_INT(t.start_time, 11);
	ASSERT_EQ_INT(t.end_time, 33);
	ASSERT_EQ_INT(t.lease_expiry, 4242);
	ASSERT_TRUE((client_before == NULL) == (t.client_id == NULL));
	if (client_before && t.client_id)
		ASSERT_EQ_STR(t.client_id, client_before);
	free(client_before);
	store_trial_clear(&t);
	store_release(r);

	/* leases: trial 2 (lease 5000) and 4 (9000) lapse at 9000, trial 8
	 * (20000) does not; STOPPING and lease-less trials never do */
	w = store_write_begin(st, &e);
	int64_t expired = -1;
	ASSERT_EQ_INT(store_trial_expire_leases(w, sr, 4999, &expired, &e), 0);
	ASSERT_EQ_INT(expired, 0);
	ASSERT_EQ_INT(store_trial_expire_leases(w, sr, 9000, &expired, &e), 0);
	ASSERT_EQ_INT(expired, 2);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_trial_get(r, sr, 2, &t, &e), 0);
	ASSERT_EQ_INT(t.state, TRIAL_REQUESTED);
	ASSERT_TRUE(t.client_id == NULL);
	ASSERT_EQ_INT(t.lease_expiry, 0);
	store_trial_clear(&t);
	ASSERT_EQ_INT(store_trial_get(r, sr, 8, &t, &e), 0);
	ASSERT_EQ_INT(t.state, TRIAL_ACTIVE);
	ASSERT_EQ_STR(t.client_id, "w3");
	store_trial_clear(&t);
	ASSERT_EQ_INT(store_trial_count(r, sr, 1u << TRIAL_REQUESTED, &c, &e), 0);
	ASSERT_EQ_INT(c, 3);
	store_release(r);

	/* measurements keep their order (read back joined, in order) */
	w = store_write_begin(st, &e);
	const char *ms[] = {"{\"stepCount\":\"1\"}", "{\"stepCount\":\"2\"}",
	                    "{\"stepCount\":\"3\"}"};
	ASSERT_EQ_INT(store_trial_set_lease(w, sr, 8, 500, &e), 0);
	for (int i = 0; i < 2; i++)
		ASSERT_EQ_INT(store_measurement_add(w, sr, 8, ms[i], -1, &e), 0);
	ASSERT_EQ_INT(store_measurement_add(w, sr, 8, ms[2], 777, &e), 0);
	ASSERT_EQ_INT(store_measurement_add(w, sr, 3, ms[0], -1, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_STR(e.msg, "trial owners/team/studies/trials/trials/3 not found");
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_trial_get(r, sr, 8, &t, &e), 0);
	ASSERT_EQ_INT(t.n_measurements, 3);
	ASSERT_EQ_INT(t.lease_expiry, 777); /* -1 kept 500, the last set 777 */
	store_trial_clear(&t);
	char *joined = NULL;
	size_t jlen = 0, jlast = 0;
	ASSERT_EQ_INT(store_measurement_joined(r, sr, 8, &joined, &jlen, &jlast, &e), 0);
	ASSERT_EQ_STR(joined ? joined : "",
	              "{\"stepCount\":\"1\"},{\"stepCount\":\"2\"},{\"stepCount\":\"3\"}");
	ASSERT_EQ_INT(jlen, strlen(joined ? joined : ""));
	ASSERT_EQ_STR(joined ? joined + jlast : "", ms[2]);
	free(joined);
	ASSERT_EQ_INT(store_measurement_joined(r, sr, 1, &joined, &jlen, &jlast, &e), 0);
	ASSERT_TRUE(joined == NULL && jlen == 0);
	store_release(r);

	/* operations: ids per study, stored JSON returned as is */
	int64_t op1 = 0, op2 = 0, op3 = 0;
	w = store_write_begin(st, &e);
	ASSERT_EQ_INT(store_operation_insert(w, sr, "{\"done\":true,\"n\":1}", &op1, &e), 0);
	ASSERT_EQ_INT(store_operation_insert(w, sr, "{\"done\":true,\"n\":2}", &op2, &e), 0);
	ASSERT_EQ_INT(store_operation_insert(w, other, "{\"done\":true,\"n\":3}", &op3, &e), 0);
	ASSERT_EQ_INT(store_operation_insert(w, 424242, "{}", &op3, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	ASSERT_EQ_INT(op1, 1);
	ASSERT_EQ_INT(op2, 2);
	ASSERT_EQ_INT(op3, 1);
	r = store_read(st, &e);
	char *j;
	ASSERT_EQ_INT(store_operation_get(r, sr, 2, &j, &e), 0);
	ASSERT_EQ_STR(j, "{\"done\":true,\"n\":2}");
	free(j);
	ASSERT_EQ_INT(store_operation_get(r, sr, 3, &j, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_STR(e.msg, "operation owners/team/studies/trials/operations/3 not found (a "
	                     "study keeps its newest 10000 operations)");
	ASSERT_TRUE(j == NULL);
	store_release(r);

	/* a study keeps its newest STORE_OPERATIONS_KEPT operations; another
	 * study's are not touched */
	w = store_write_begin(st, &e);
	int64_t opn = 0;
	for (int i = 0; i < STORE_OPERATIONS_KEPT + 298 && opn >= 0; i++)
		if (store_operation_insert(w, sr, "{\"done\":true}", &opn, &e) != 0)
			opn = -1;
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	ASSERT_EQ_INT(opn, STORE_OPERATIONS_KEPT + 300);
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_operation_get(r, sr, 300, &j, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(store_operation_get(r, sr, 301, &j, &e), 0);
	free(j);
	ASSERT_EQ_INT(store_operation_get(r, sr, STORE_OPERATIONS_KEPT + 300, &j, &e), 0);
	free(j);
	ASSERT_EQ_INT(store_operation_get(r, other, 1, &j, &e), 0);
	free(j);
	store_release(r);

	/* rollback leaves nothing, and does not consume ids */
	w = store_write_begin(st, &e);
	struct store_trial nt = {.study_rowid = sr, .state = TRIAL_REQUESTED, .params_json = "[]"};
	ASSERT_EQ_INT(store_trial_insert(w, &nt, &e), 0);
	ASSERT_EQ_INT(nt.id, 9);
	ASSERT_EQ_INT(store_measurement_add(w, sr, 9, "{}", -1, &e), 0);
	ASSERT_EQ_INT(store_study_delete(w, "team", "trials-other", &e), 0);
	store_owner_ensure(w, "rolled", 1, &e);
	store_write_rollback(w);
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_trial_get(r, sr, 9, &t, &e), -ERR_NOT_FOUND);
	struct store_study s = {0};
	ASSERT_EQ_INT(store_study_get(r, "team", "trials-other", &s, &e), 0);
	store_study_clear(&s);
	struct store_owner o = {0};
	ASSERT_EQ_INT(store_owner_get(r, "rolled", &o, &e), -ERR_NOT_FOUND);
	store_release(r);
	ASSERT_EQ_INT(add_trial(st, sr, TRIAL_REQUESTED, NULL, 0), 9);

	/* deleting a study removes everything under it */
	w = store_write_begin(st, &e);
	ASSERT_EQ_INT(store_study_delete(w, "team", "trials", &e), 0);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	char q[200];
	snprintf(q, sizeof(q),
	         "SELECT (SELECT count(*) FROM trials WHERE study_rowid=%lld) + "
	         "(SELECT count(*) FROM measurements WHERE study_rowid=%lld) + "
	         "(SELECT count(*) FROM operations WHERE study_rowid=%lld)",
	         (long long)sr, (long long)sr, (long long)sr);
	ASSERT_EQ_INT(raw_int(path, q), 0);
	/* a new study of the same name has a new rowid and carries on after
	 * the old one's trial ids (0006_study_names.sql): a stale worker's
	 * "trials/1" must not name the new study's first trial */
	int64_t again = make_study(st, "team", "trials");
	ASSERT_TRUE(again > other);
	ASSERT_EQ_INT(add_trial(st, again, TRIAL_REQUESTED, NULL, 0), 10);
}

int main(void)
{
	if (store_test_setup("test-store") != 0)
		return 1;
	test_migrations();
	test_migration_engine();

	char path[320];
	snprintf(path, sizeof(path), "%s", db_path("main.db"));
	struct err e = {0};
	struct store *st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	if (!st) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		return test_done("test-store");
	}
	test_studies(st);
	test_trials(st, path);
	store_close(st);

	/* everything is still there after a restart, and the file is sound */
	char *before = dump(path);
	st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	if (st) {
		struct store_conn *r = store_read(st, &e);
		int64_t n = 0;
		ASSERT_EQ_INT(store_count_studies(r, &n, &e), 0);
		ASSERT_EQ_INT(n, 16); /* 14 from test_studies, 2 from test_trials */
		store_release(r);
		store_close(st);
	}
	char *after = dump(path);
	ASSERT_EQ_STR(after, before);
	free(before);
	free(after);
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM pragma_integrity_check "
	                            "WHERE integrity_check != 'ok'"),
	              0);
	store_test_cleanup();
	return test_done("test-store");
}
