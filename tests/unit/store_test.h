/* store_test.h: helpers shared by test-store.c and
 * test-store_concurrency.c: a fresh temp directory, a text dump of a whole
 * database file (schema and rows) and raw sqlite3 access to check what the
 * store wrote. Test code only. */
#ifndef SIBYL_STORE_TEST_H
#define SIBYL_STORE_TEST_H

#include "store.h"
#include "test.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];
static char path_buf[320];

static inline const char *db_path(const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", dir, name);
	return path_buf;
}

/* Appends to a growing string (test helper; aborts on OOM). */
struct sbuf {
	char *p;
	size_t n, cap;
};

static inline void sb_add(struct sbuf *b, const char *s)
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
static inline char *dump(const char *path)
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

static inline int64_t raw_int(const char *path, const char *sql)
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

static inline void raw_exec(const char *path, const char *sql)
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
static inline int64_t make_study(struct store *st, const char *owner, const char *id)
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

static inline int64_t add_trial(struct store *st, int64_t study, int state, const char *client,
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

/* Makes the temp directory the helpers use; 0 on success. */
static inline int store_test_setup(const char *name)
{
	snprintf(dir, sizeof(dir), "%s/sibyl-%s-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return -1;
	}
	return 0;
}

/* Removes the temp directory when every check passed (kept for a look
 * otherwise). */
static inline void store_test_cleanup(void)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (test_failures == 0 && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	else if (test_failures)
		fprintf(stderr, "files kept in %s\n", dir);
}

#endif
