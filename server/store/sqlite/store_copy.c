/* store_copy.c (SQLite): the raw rows of store_copy (store_backend.h),
 * read and written with statements of their own (not cached: a copy runs
 * once). */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>

static int copy_rows(struct store_conn *c, const struct store_copy_table *t,
                     int (*fn)(void *ctx, const struct store_copy_row *r), void *ctx, struct err *e)
{
	char sql[1024];
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY %s", t->cols, t->name, t->order);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sqlerr(c, e, "copy: read");
	int rc, stop = 0;
	while (!stop && (rc = store_step(c, s, e)) == SQLITE_ROW) {
		struct store_copy_row r = {0};
		for (int i = 0; i < t->n_cols; i++) {
			int blob = (t->blobs >> i) & 1u;
			r.v[i] = sqlite3_column_type(s, i) == SQLITE_NULL ? NULL
			         : blob ? (const char *)sqlite3_column_blob(s, i)
			                : (const char *)sqlite3_column_text(s, i);
			r.len[i] = sqlite3_column_bytes(s, i);
			if (r.v[i] == NULL && sqlite3_column_type(s, i) != SQLITE_NULL)
				r.v[i] = ""; /* an empty blob */
		}
		stop = fn(ctx, &r);
	}
	sqlite3_finalize(s);
	if (stop)
		return stop;
	return rc < 0 ? rc : 0;
}

static int copy_insert(struct store_conn *w, const struct store_copy_table *t,
                       const struct store_copy_row *r, struct err *e)
{
	char sql[2048];
	int n = snprintf(sql, sizeof(sql), "INSERT INTO %s(%s) VALUES (", t->name, t->cols);
	for (int i = 0; i < t->n_cols; i++)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, "%s?", i ? ", " : "");
	snprintf(sql + n, sizeof(sql) - (size_t)n, ") %s", t->upsert ? t->upsert : "");
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(w->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sqlerr(w, e, "copy: insert");
	for (int i = 0; i < t->n_cols; i++) {
		if (!r->v[i])
			sqlite3_bind_null(s, i + 1);
		else if ((t->blobs >> i) & 1u)
			sqlite3_bind_blob(s, i + 1, r->v[i], r->len[i], SQLITE_TRANSIENT);
		else
			sqlite3_bind_text(s, i + 1, r->v[i], r->len[i], SQLITE_TRANSIENT);
	}
	int rc = store_step(w, s, e);
	sqlite3_finalize(s);
	return rc < 0 ? rc : 0;
}

/* AUTOINCREMENT follows the ids inserted: nothing to do. */
static int copy_finish(struct store_conn *w, struct err *e)
{
	(void)w;
	(void)e;
	return 0;
}

const struct store_copy_ops sqlite_copy_ops = {copy_rows, copy_insert, copy_finish};
