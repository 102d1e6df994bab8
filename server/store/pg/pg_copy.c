/* pg_copy.c: the raw rows of store_copy (store_backend.h) on PostgreSQL.
 * A read streams the table row by row (single-row mode); bytea columns
 * travel as bytes both ways. */
#include "pg_internal.h"

#include <stdio.h>
#include <stdlib.h>

/* Calls fn with row i of r (a single-row result). */
static int one_row(const PGresult *r, const struct store_copy_table *t,
                   int (*fn)(void *ctx, const struct store_copy_row *r), void *ctx, struct err *e)
{
	struct store_copy_row row = {0};
	unsigned char *bytes[STORE_COPY_MAX_COLS] = {0};
	int rc = 0;
	for (int i = 0; i < t->n_cols && rc == 0; i++) {
		if (PQgetisnull(r, 0, i))
			continue;
		if ((t->blobs >> i) & 1u) {
			size_t n = 0;
			bytes[i] = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, i), &n);
			if (!bytes[i])
				rc = err_set(e, ERR_INTERNAL, "store: out of memory");
			row.v[i] = (const char *)bytes[i];
			row.len[i] = (int)n;
		} else {
			row.v[i] = PQgetvalue(r, 0, i);
			row.len[i] = PQgetlength(r, 0, i);
		}
	}
	if (rc == 0)
		rc = fn(ctx, &row);
	for (int i = 0; i < t->n_cols; i++)
		PQfreemem(bytes[i]);
	return rc;
}

static int copy_rows(struct store_conn *cc, const struct store_copy_table *t,
                     int (*fn)(void *ctx, const struct store_copy_row *r), void *ctx, struct err *e)
{
	struct pg_conn *c = PGC(cc);
	char sql[1024];
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY %s", t->cols, t->name, t->order);
	if (pg_begin_now(c, e) != 0)
		return -(int)e->code;
	if (!PQsendQueryParams(c->pc, sql, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(c->pc))
		return pg_fail(c, NULL, "copy: read", e);
	int rc = 0;
	PGresult *r;
	/* Every result is consumed, also after a failure, so that the
	 * connection is ready for its next statement. */
	while ((r = PQgetResult(c->pc)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_SINGLE_TUPLE && rc == 0)
			rc = one_row(r, t, fn, ctx, e);
		else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && rc == 0)
			rc = pg_fail(c, r, "copy: read", e);
		PQclear(r);
	}
	return rc;
}

static int copy_insert(struct store_conn *w, const struct store_copy_table *t,
                       const struct store_copy_row *r, struct err *e)
{
	char sql[2048];
	int n = snprintf(sql, sizeof(sql), "INSERT INTO %s(%s) VALUES (", t->name, t->cols);
	for (int i = 0; i < t->n_cols; i++)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, "%s$%d", i ? ", " : "", i + 1);
	snprintf(sql + n, sizeof(sql) - (size_t)n, ") %s", t->upsert ? t->upsert : "");
	if (pg_begin_now(PGC(w), e) != 0)
		return -(int)e->code;
	int fmt[STORE_COPY_MAX_COLS];
	for (int i = 0; i < t->n_cols; i++)
		fmt[i] = (int)((t->blobs >> i) & 1u);
	PGresult *res = PQexecParams(PGC(w)->pc, sql, t->n_cols, NULL, r->v, r->len, fmt, 0);
	int rc =
	    PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_fail(PGC(w), res, "copy: insert", e);
	PQclear(res);
	return rc;
}

/* The identity columns were given explicit ids: move their sequences
 * past them, so that the next study or audit entry gets a new id. */
static int copy_finish(struct store_conn *w, struct err *e)
{
	return pg_simple(PGC(w),
	                 "SELECT setval(pg_get_serial_sequence('studies', 'id'), "
	                 "coalesce((SELECT max(id) FROM studies), 0) + 1, false); "
	                 "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), "
	                 "coalesce((SELECT max(id) FROM audit_log), 0) + 1, false)",
	                 e);
}

const struct store_copy_ops pg_copy_ops = {copy_rows, copy_insert, copy_finish};
