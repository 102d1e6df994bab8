/* test-store: the store on a real SQLite file in a fresh temp directory.
 * No mocks: every check goes through store.h, and the raw file is read back
 * with plain sqlite3 calls where the test needs to see what was written. */
#include "store.h"
#include "test.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];
static char path_buf[320];

static const char *db_path(const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", dir, name);
	return path_buf;
}

/* Appends to a growing string (test helper; aborts on OOM). */
struct sbuf {
	char *p;
	size_t n, cap;
};

static void sb_add(struct sbuf *b, const char *s)
{
	size_t len = strlen(s);
	if (b->n + len + 1 > b->cap) {
		b->cap = (b->n + len + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->n, s, len + 1);
	b->n += len;
}

/* Every schema object and every row of every table, as text. */
static char *dump(const char *path)
{
	sqlite3 *db;
	struct sbuf b = {0};
	sb_add(&b, "");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sb_add(&b, "cannot open");
		sqlite3_close(db);
		return b.p;
	}
	sqlite3_stmt *m;
	sqlite3_prepare_v2(db,
	                   "SELECT type, name, coalesce(sql,'') FROM sqlite_master ORDER BY name",
	                   -1, &m, NULL);
	while (sqlite3_step(m) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(m, 0);
		const char *name = (const char *)sqlite3_column_text(m, 1);
		sb_add(&b, (const char *)sqlite3_column_text(m, 2));
		sb_add(&b, "\n");
		if (strcmp(type, "table") != 0)
			continue;
		char *q = sqlite3_mprintf("SELECT * FROM \"%w\" ORDER BY rowid", name);
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(db, q, -1, &s, NULL) != SQLITE_OK) {
			sqlite3_free(q);
			continue;
		}
		sqlite3_free(q);
		while (sqlite3_step(s) == SQLITE_ROW) {
			for (int i = 0; i < sqlite3_column_count(s); i++) {
				const char *v = (const char *)sqlite3_column_text(s, i);
				sb_add(&b, v ? v : "NULL");
				sb_add(&b, "|");
			}
			sb_add(&b, "\n");
		}
		sqlite3_finalize(s);
	}
	sqlite3_finalize(m);
	sqlite3_close(db);
	return b.p;
}

static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v = -1;
	sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return v;
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_open(path, &db);
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		TEST_FAIL("raw_exec %s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
	sqlite3_close(db);
}

/* A study under owner "team" with the given id; returns its rowid. */
static int64_t make_study(struct store *st, const char *owner, const char *id)
{
	struct err e = {0};
	struct store_study s = {0};
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	ASSERT_EQ_INT(store_owner_ensure(w, owner, 1000, &e), 0);
	ASSERT_EQ_INT(store_study_insert(w, owner, id, "{\"metrics\":[]}", 1000, &s, &e), 0);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	int64_t rowid = s.rowid;
	store_study_clear(&s);
	return rowid;
}

static int64_t add_trial(struct store *st, int64_t study, int state, const char *client,
                         int64_t lease)
{
	struct err e = {0};
	struct store_trial t = {.study_rowid = study,
	                        .state = state,
	                        .params_json = "[{\"parameterId\":\"x\",\"value\":1}]",
	                        .client_id = (char *)client,
	                        .lease_expiry = lease};
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	int rc = store_trial_insert(w, &t, &e);
	ASSERT_EQ_INT(rc, 0);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	return rc == 0 ? t.id : -1;
}

static void test_migrations(void)
{
	const char *p = db_path("mig.db");
	char path[320];
	snprintf(path, sizeof(path), "%s", p);
	struct err e = {0};
	struct store *st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	store_close(st);
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM schema_migrations"), 1);
	ASSERT_EQ_INT(raw_int(path, "SELECT max(version) FROM schema_migrations"), 1);
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
	ASSERT_TRUE(strstr(e.msg, "(version 1)") != NULL);
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

	/* measurements keep their order */
	w = store_write_begin(st, &e);
	const char *ms[] = {"{\"stepCount\":\"1\"}", "{\"stepCount\":\"2\"}",
	                    "{\"stepCount\":\"3\"}"};
	for (int i = 0; i < 3; i++)
		ASSERT_EQ_INT(store_measurement_add(w, sr, 8, ms[i], &e), 0);
	ASSERT_EQ_INT(store_measurement_add(w, sr, 3, ms[0], &e), -ERR_NOT_FOUND);
	ASSERT_EQ_STR(e.msg, "trial owners/team/studies/trials/trials/3 not found");
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	r = store_read(st, &e);
	char **js;
	ASSERT_EQ_INT(store_measurement_list(r, sr, 8, &js, &n, &e), 0);
	ASSERT_EQ_INT(n, 3);
	for (size_t i = 0; i < n && i < 3; i++)
		ASSERT_EQ_STR(js[i], ms[i]);
	for (size_t i = 0; i < n; i++)
		free(js[i]);
	free(js);
	ASSERT_EQ_INT(store_trial_get(r, sr, 8, &t, &e), 0);
	ASSERT_EQ_INT(t.n_measurements, 3);
	store_trial_clear(&t);
	ASSERT_EQ_INT(store_measurement_list(r, sr, 1, &js, &n, &e), 0);
	ASSERT_EQ_INT(n, 0);
	free(js);
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
	ASSERT_EQ_STR(e.msg, "operation owners/team/studies/trials/operations/3 not found");
	ASSERT_TRUE(j == NULL);
	store_release(r);

	/* rollback leaves nothing, and does not consume ids */
	w = store_write_begin(st, &e);
	struct store_trial nt = {.study_rowid = sr, .state = TRIAL_REQUESTED, .params_json = "[]"};
	ASSERT_EQ_INT(store_trial_insert(w, &nt, &e), 0);
	ASSERT_EQ_INT(nt.id, 9);
	ASSERT_EQ_INT(store_measurement_add(w, sr, 9, "{}", &e), 0);
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
	/* a new study of the same name starts afresh, with a new rowid */
	int64_t again = make_study(st, "team", "trials");
	ASSERT_TRUE(again > other);
	ASSERT_EQ_INT(add_trial(st, again, TRIAL_REQUESTED, NULL, 0), 1);
}

/* ---- concurrency ---- */

#define N_WRITERS     8
#define TX_PER_WRITER 40

struct worker {
	struct store *st;
	int64_t study;
	int errors;
	int64_t max_seen;
};

static void *writer_main(void *arg)
{
	struct worker *wk = arg;
	for (int i = 0; i < TX_PER_WRITER; i++) {
		struct err e = {0};
		struct store_conn *w = store_write_begin(wk->st, &e);
		if (!w) {
			wk->errors++;
			continue;
		}
		struct store_trial t = {
		    .study_rowid = wk->study, .state = TRIAL_ACTIVE, .params_json = "[]"};
		if (store_trial_insert(w, &t, &e) != 0 ||
		    store_measurement_add(w, wk->study, t.id, "{}", &e) != 0) {
			wk->errors++;
			store_write_rollback(w);
			continue;
		}
		if (store_write_commit(w, &e) != 0)
			wk->errors++;
	}
	return NULL;
}

/* Commits and rollbacks interleaved in the same batches: a rollback undoes
 * only its own caller's work, and a commit that returned is visible to a
 * fresh reader at once (acknowledged means committed). */
static void *mixed_main(void *arg)
{
	struct worker *wk = arg;
	for (int i = 0; i < TX_PER_WRITER; i++) {
		struct err e = {0};
		struct store_conn *w = store_write_begin(wk->st, &e);
		if (!w) {
			wk->errors++;
			continue;
		}
		struct store_trial t = {
		    .study_rowid = wk->study, .state = TRIAL_REQUESTED, .params_json = "[]"};
		if (store_trial_insert(w, &t, &e) != 0) {
			wk->errors++;
			store_write_rollback(w);
			continue;
		}
		if (i % 3 == 2) {
			store_write_rollback(w);
			continue;
		}
		if (store_write_commit(w, &e) != 0) {
			wk->errors++;
			continue;
		}
		wk->max_seen++;
		struct store_conn *r = store_read(wk->st, &e);
		struct store_trial g = {0};
		if (!r || store_trial_get(r, wk->study, t.id, &g, &e) != 0)
			wk->errors++;
		store_trial_clear(&g);
		store_release(r);
	}
	return NULL;
}

static void *reader_main(void *arg)
{
	struct worker *wk = arg;
	for (int i = 0; i < TX_PER_WRITER * 2; i++) {
		struct err e = {0};
		struct store_conn *r = store_read(wk->st, &e);
		int64_t c = 0;
		if (!r || store_trial_count(r, wk->study, 0, &c, &e) != 0)
			wk->errors++;
		if (c < wk->max_seen) /* snapshots only move forward */
			wk->errors++;
		wk->max_seen = c;
		store_release(r);
	}
	return NULL;
}

struct held {
	struct store *st;
	int64_t study;
	int64_t count;
	int rc;
};

static void *read_while_held(void *arg)
{
	struct held *h = arg;
	struct err e = {0};
	struct store_conn *r = store_read(h->st, &e);
	h->rc = r ? store_trial_count(r, h->study, 0, &h->count, &e) : -1;
	store_release(r);
	return NULL;
}

static void test_concurrency(struct store *st, const char *path)
{
	struct err e = {0};
	int64_t sr = make_study(st, "team", "busy");
	pthread_t th[N_WRITERS + 2];
	struct worker wk[N_WRITERS + 2];
	for (int i = 0; i < N_WRITERS + 2; i++) {
		wk[i] = (struct worker){.st = st, .study = sr};
		pthread_create(&th[i], NULL, i < N_WRITERS ? writer_main : reader_main, &wk[i]);
	}
	int errors = 0;
	for (int i = 0; i < N_WRITERS + 2; i++) {
		pthread_join(th[i], NULL);
		errors += wk[i].errors;
	}
	ASSERT_EQ_INT(errors, 0);
	struct store_conn *r = store_read(st, &e);
	int64_t c = 0;
	ASSERT_EQ_INT(store_trial_count(r, sr, 0, &c, &e), 0);
	ASSERT_EQ_INT(c, N_WRITERS * TX_PER_WRITER);
	store_release(r);
	char q[160];
	snprintf(q, sizeof(q), "SELECT max(id) FROM trials WHERE study_rowid=%lld", (long long)sr);
	ASSERT_EQ_INT(raw_int(path, q), N_WRITERS * TX_PER_WRITER);
	snprintf(q, sizeof(q), "SELECT count(*) FROM measurements WHERE study_rowid=%lld",
	         (long long)sr);
	ASSERT_EQ_INT(raw_int(path, q), N_WRITERS * TX_PER_WRITER);

	/* group commit with rollbacks in the mix */
	int64_t mixed = make_study(st, "team", "mixed");
	struct worker mw[N_WRITERS];
	int64_t committed = 0;
	for (int i = 0; i < N_WRITERS; i++) {
		mw[i] = (struct worker){.st = st, .study = mixed};
		pthread_create(&th[i], NULL, mixed_main, &mw[i]);
	}
	errors = 0;
	for (int i = 0; i < N_WRITERS; i++) {
		pthread_join(th[i], NULL);
		errors += mw[i].errors;
		committed += mw[i].max_seen;
	}
	ASSERT_EQ_INT(errors, 0);
	ASSERT_EQ_INT(committed, N_WRITERS * (TX_PER_WRITER - TX_PER_WRITER / 3));
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_trial_count(r, mixed, 0, &c, &e), 0);
	ASSERT_EQ_INT(c, committed);
	store_release(r);
	/* rolled-back inserts gave their ids back: the committed ones are 1..n */
	snprintf(q, sizeof(q), "SELECT max(id) FROM trials WHERE study_rowid=%lld",
	         (long long)mixed);
	ASSERT_EQ_INT(raw_int(path, q), committed);

	/* A reader in another thread proceeds while a write transaction is
	 * open, and sees the last committed state, not the pending one. */
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	struct store_trial t = {.study_rowid = sr, .state = TRIAL_REQUESTED, .params_json = "[]"};
	ASSERT_EQ_INT(store_trial_insert(w, &t, &e), 0);
	struct held h = {.st = st, .study = sr, .rc = -1};
	pthread_t rt;
	pthread_create(&rt, NULL, read_while_held, &h);
	pthread_join(rt, NULL); /* would hang here if readers waited for the writer */
	ASSERT_EQ_INT(h.rc, 0);
	ASSERT_EQ_INT(h.count, N_WRITERS * TX_PER_WRITER);
	/* and in this thread too, with several readers out at once */
	struct store_conn *r1 = store_read(st, &e), *r2 = store_read(st, &e);
	ASSERT_TRUE(r1 && r2 && r1 != r2);
	ASSERT_EQ_INT(store_trial_count(r1, sr, 0, &c, &e), 0);
	ASSERT_EQ_INT(c, N_WRITERS * TX_PER_WRITER);
	store_release(r1);
	store_release(r2);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_trial_count(r, sr, 0, &c, &e), 0);
	ASSERT_EQ_INT(c, N_WRITERS * TX_PER_WRITER + 1);
	store_release(r);

	/* Another process-like connection holding the write lock briefly: the
	 * store waits and retries instead of failing with "database is locked". */
	sqlite3 *raw;
	sqlite3_open(path, &raw);
	ASSERT_EQ_INT(sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	struct held h2 = {.st = st, .study = sr, .rc = -1};
	(void)h2;
	pthread_t lt;
	struct worker one = {.st = st, .study = sr};
	pthread_create(&lt, NULL, writer_main, &one);
	usleep(300 * 1000);
	sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(raw);
	pthread_join(lt, NULL);
	ASSERT_EQ_INT(one.errors, 0);
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_trial_count(r, sr, 0, &c, &e), 0);
	ASSERT_EQ_INT(c, N_WRITERS * TX_PER_WRITER + 1 + TX_PER_WRITER);
	store_release(r);
	ASSERT_EQ_INT(store_ping(st), 0);
}

struct pool_wait {
	struct store *st;
	volatile int got;
};

static void *pool_reader(void *arg)
{
	struct pool_wait *pw = arg;
	struct err e;
	struct store_conn *r = store_read(pw->st, &e);
	pw->got = r != NULL;
	store_release(r);
	return NULL;
}

/* The reader pool: it grows to its limit (64), then a caller waits for a
 * reader to come back; the thread holding the writer never waits. */
static void test_pool(struct store *st)
{
	struct err e = {0};
	enum { N = 64 };
	struct store_conn *rs[N];
	int ok = 0;
	for (int i = 0; i < N; i++)
		ok += (rs[i] = store_read(st, &e)) != NULL;
	ASSERT_EQ_INT(ok, N);

	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	struct store_conn *extra = store_read(st, &e); /* would hang if it waited */
	ASSERT_TRUE(extra != NULL);
	int64_t n = -1;
	ASSERT_EQ_INT(store_count_studies(extra, &n, &e), 0);
	ASSERT_TRUE(n > 0);
	store_release(extra);
	store_write_rollback(w);
	/* the extra one stays in the pool: take it, so that all are out again */
	extra = store_read(st, &e);
	ASSERT_TRUE(extra != NULL);

	struct pool_wait pw = {.st = st};
	pthread_t th;
	pthread_create(&th, NULL, pool_reader, &pw);
	usleep(100 * 1000);
	ASSERT_EQ_INT(pw.got, 0); /* still waiting: every reader is out */
	store_release(rs[0]);
	pthread_join(th, NULL);
	ASSERT_EQ_INT(pw.got, 1);
	for (int i = 1; i < N; i++)
		store_release(rs[i]);
	store_release(extra);
}

static void test_backup(struct store *st, const char *path)
{
	struct err e = {0};
	char dest[320];
	snprintf(dest, sizeof(dest), "%s/backup.db", dir);

	/* a backup taken while a write transaction is open copies the last
	 * committed state */
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	char *want = dump(path);
	ASSERT_EQ_INT(store_owner_ensure(w, "pending", 1, &e), 0);
	ASSERT_EQ_INT(store_backup_file(path, dest, &e), 0);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	char *got = dump(dest);
	ASSERT_EQ_STR(got, want);
	ASSERT_TRUE(strlen(got) > 1000);
	free(got);
	free(want);
	sqlite3 *db;
	sqlite3_open_v2(dest, &db, SQLITE_OPEN_READONLY, NULL);
	sqlite3_stmt *s;
	sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL);
	ASSERT_EQ_INT(sqlite3_step(s), SQLITE_ROW);
	ASSERT_EQ_STR((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	sqlite3_close(db);

	/* a backup opens with the store and has the same data */
	struct store *b = store_open(dest, &e);
	ASSERT_TRUE(b != NULL);
	if (b) {
		struct store_conn *r = store_read(b, &e);
		struct store_study stu = {0};
		ASSERT_EQ_INT(store_study_get(r, "team", "busy", &stu, &e), 0);
		store_study_clear(&stu);
		store_release(r);
		store_close(b);
	}
	/* the second backup replaces the first, now with the committed owner */
	ASSERT_EQ_INT(store_backup_file(path, dest, &e), 0);
	ASSERT_EQ_INT(raw_int(dest, "SELECT count(*) FROM owners WHERE id='pending'"), 1);

	/* errors: missing source, unwritable destination; nothing left behind */
	ASSERT_EQ_INT(store_backup_file(db_path("absent.db"), dest, &e), -ERR_NOT_FOUND);
	ASSERT_TRUE(strstr(e.msg, "absent.db") != NULL);
	char bad[400];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/b.db", dir);
	ASSERT_TRUE(store_backup_file(path, bad, &e) < 0);
	ASSERT_TRUE(strstr(e.msg, "no/such/dir") != NULL);
	ASSERT_EQ_INT(raw_int(dest, "SELECT count(*) FROM owners WHERE id='pending'"), 1);
}

/* kill -9 in the middle of a stream of commits: every commit the child
 * reported as acknowledged is in the file afterwards, and the file is
 * sound. The child writes from 4 threads so that batches are in flight. */
struct crash_writer {
	struct store *st;
	int64_t study;
	int fd;
	pthread_mutex_t *mu;
};

static void *crash_loop(void *arg)
{
	struct crash_writer *cw = arg;
	for (;;) {
		struct err e;
		struct store_conn *w = store_write_begin(cw->st, &e);
		if (!w)
			continue;
		struct store_trial t = {
		    .study_rowid = cw->study, .state = TRIAL_REQUESTED, .params_json = "[]"};
		if (store_trial_insert(w, &t, &e) != 0) {
			store_write_rollback(w);
			continue;
		}
		if (store_write_commit(w, &e) == 0) {
			pthread_mutex_lock(cw->mu);
			ssize_t n = write(cw->fd, &t.id, sizeof(t.id));
			pthread_mutex_unlock(cw->mu);
			if (n != (ssize_t)sizeof(t.id))
				_exit(3);
		}
	}
	return NULL;
}

static void test_kill9(void)
{
	char path[320];
	snprintf(path, sizeof(path), "%s", db_path("crash.db"));
	struct err e = {0};
	struct store *st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	if (!st)
		return;
	int64_t sr = make_study(st, "team", "crash");
	store_close(st);

	for (int round = 0; round < 3; round++) {
		int fds[2];
		if (pipe(fds) != 0) {
			TEST_FAIL("pipe");
			return;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(fds[0]);
			struct store *cs = store_open(path, &e);
			if (!cs)
				_exit(2);
			pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
			struct crash_writer cw = {cs, sr, fds[1], &mu};
			pthread_t th[4];
			for (int i = 0; i < 4; i++)
				pthread_create(&th[i], NULL, crash_loop, &cw);
			for (;;)
				pause();
		}
		close(fds[1]);
		/* let it acknowledge some commits, then kill it mid-stream */
		static int64_t ids[1 << 16];
		int64_t acked = 0;
		while (acked < 50 * (round + 1) &&
		       read(fds[0], &ids[acked], sizeof(ids[0])) == sizeof(ids[0]))
			acked++;
		kill(pid, SIGKILL);
		while (acked < (1 << 16) &&
		       read(fds[0], &ids[acked], sizeof(ids[0])) == sizeof(ids[0]))
			acked++;
		close(fds[0]);
		int status;
		waitpid(pid, &status, 0);
		ASSERT_TRUE(WIFSIGNALED(status));
		ASSERT_TRUE(acked >= 50 * (round + 1));

		st = store_open(path, &e);
		ASSERT_TRUE(st != NULL);
		if (!st)
			return;
		struct store_conn *r = store_read(st, &e);
		int64_t count = 0;
		ASSERT_EQ_INT(store_trial_count(r, sr, 0, &count, &e), 0);
		ASSERT_TRUE(count >= acked);
		int64_t missing = 0;
		for (int64_t i = 0; i < acked; i++) {
			struct store_trial t = {0};
			if (store_trial_get(r, sr, ids[i], &t, &e) != 0)
				missing++;
			store_trial_clear(&t);
		}
		ASSERT_EQ_INT(missing, 0);
		store_release(r);
		store_close(st);
		ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM pragma_integrity_check "
		                            "WHERE integrity_check != 'ok'"),
		              0);
	}
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s/sibyl-test-store-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_migrations();
	test_kill9();

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
	test_concurrency(st, path);
	test_pool(st);
	test_backup(st, path);
	store_close(st);

	/* everything is still there after a restart, and the file is sound */
	st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	if (st) {
		struct store_conn *r = store_read(st, &e);
		int64_t n = 0;
		ASSERT_EQ_INT(store_count_studies(r, &n, &e), 0);
		ASSERT_TRUE(n >= 15);
		store_release(r);
		store_close(st);
	}
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_stmt *s;
	sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL);
	ASSERT_EQ_INT(sqlite3_step(s), SQLITE_ROW);
	ASSERT_EQ_STR((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	sqlite3_close(db);

	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (test_failures == 0 && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_done("test-store");
}
