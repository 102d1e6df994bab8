/* pg_studies.c: studies, operations and the gauges on PostgreSQL. Trial
 * and operation ids come from counters on the study row (the row stays
 * locked by the writer until it commits, so two daemons never hand out the
 * same id); the triggers of migrations/pg/0001_init.sql keep them across a
 * delete and re-create of a study name. */
#include "pg_internal.h"

#include <stdio.h>
#include <stdlib.h>

#define STUDY_COLS                                                              \
	"id, owner, study_id, spec_json, state, inactive_reason, create_time, " \
	"last_progress_time, metadata_json"

static int read_study(const PGresult *r, int i, void *elem)
{
	struct store_study *out = elem;
	int oom = 0;
	out->rowid = pg_i64(r, i, 0);
	out->owner = pg_dup(r, i, 1, &oom);
	out->study_id = pg_dup(r, i, 2, &oom);
	out->spec_json = pg_dup(r, i, 3, &oom);
	out->state = (int)pg_i64(r, i, 4);
	out->inactive_reason = pg_dup(r, i, 5, &oom);
	out->create_time = pg_i64(r, i, 6);
	out->last_progress_time = pg_i64(r, i, 7);
	out->metadata_json = pg_dup(r, i, 8, &oom);
	return oom;
}

/* The one study row of r into out (may be NULL); NOT_FOUND naming
 * owners/owner/studies/study_id, or "study #rowid" when owner is NULL.
 * Clears r. */
static int get_one(PGresult *r, struct store_study *out, const char *owner, const char *study_id,
                   int64_t rowid, struct err *e)
{
	int rc = 0;
	if (PQntuples(r) == 0 && owner)
		rc = err_set(e, ERR_NOT_FOUND, "study owners/%s/studies/%s not found", owner,
		             study_id);
	else if (PQntuples(r) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "study #%lld not found", (long long)rowid);
	else if (out && read_study(r, 0, out)) {
		store_study_clear(out);
		rc = err_set(e, ERR_INTERNAL, "store: out of memory");
	}
	PQclear(r);
	return rc;
}

static PGresult *get_by_name(struct pg_conn *c, const char *owner, const char *study_id,
                             struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	pg_arg_text(&a, study_id);
	return pg_exec(c, PQ_STUDY_GET,
	               "SELECT " STUDY_COLS " FROM studies WHERE owner = $1 AND study_id = $2", &a,
	               e);
}

int pg_study_get(struct store_conn *c, const char *owner, const char *study_id,
                 struct store_study *out, struct err *e)
{
	PGresult *r = get_by_name(PGC(c), owner, study_id, e);
	if (!r)
		return -(int)e->code;
	return get_one(r, out, owner, study_id, 0, e);
}

int pg_study_get_by_rowid(struct store_conn *c, int64_t rowid, struct store_study *out,
                          struct err *e)
{
	struct pg_args a = {0};
	pg_arg_i64(&a, rowid);
	PGresult *r = pg_exec(PGC(c), PQ_STUDY_GET_ROWID,
	                      "SELECT " STUDY_COLS " FROM studies WHERE id = $1", &a, e);
	if (!r)
		return -(int)e->code;
	return get_one(r, out, NULL, NULL, rowid, e);
}

void pg_study_name(struct pg_conn *c, int64_t rowid, char *buf, size_t len)
{
	struct pg_args a = {0};
	struct err e;
	pg_arg_i64(&a, rowid);
	PGresult *r =
	    pg_exec(c, PQ_STUDY_NAME, "SELECT owner, study_id FROM studies WHERE id = $1", &a, &e);
	if (r && PQntuples(r) == 1)
		snprintf(buf, len, "owners/%s/studies/%s", PQgetvalue(r, 0, 0),
		         PQgetvalue(r, 0, 1));
	else
		snprintf(buf, len, "study #%lld", (long long)rowid);
	PQclear(r);
}

int pg_study_insert(struct store_conn *w, const char *owner, const char *study_id,
                    const char *spec_json, int64_t now, struct store_study *out, struct err *e)
{
	struct store_owner o = {0};
	int rc = pg_owner_get(w, owner, &o, e);
	store_owner_clear(&o);
	if (rc < 0)
		return rc;
	PGresult *r = get_by_name(PGC(w), owner, study_id, e);
	if (!r)
		return -(int)e->code;
	int exists = PQntuples(r) > 0;
	PQclear(r);
	if (exists)
		return err_set(e, ERR_ALREADY_EXISTS, "study owners/%s/studies/%s already exists",
		               owner, study_id);
	/* Another daemon may insert the same name between the check and
	 * here: ON CONFLICT then returns no row. */
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	pg_arg_text(&a, study_id);
	pg_arg_text(&a, spec_json);
	pg_arg_i64(&a, now);
	r = pg_exec(PGC(w), PQ_STUDY_INSERT,
	            "INSERT INTO studies(owner, study_id, spec_json, state, create_time, "
	            "last_progress_time) VALUES ($1, $2, $3, 1, $4, $4) "
	            "ON CONFLICT (owner, study_id) DO NOTHING RETURNING " STUDY_COLS,
	            &a, e);
	if (!r)
		return -(int)e->code;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return err_set(e, ERR_ALREADY_EXISTS, "study owners/%s/studies/%s already exists",
		               owner, study_id);
	}
	if (!out) {
		PQclear(r);
		return 0;
	}
	return get_one(r, out, owner, study_id, 0, e);
}

int pg_study_list(struct store_conn *c, const char *owner, int64_t after, int limit,
                  struct store_study **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	pg_arg_i64(&a, after);
	pg_arg_i64(&a, limit > 0 ? limit : INT64_MAX);
	PGresult *r = pg_exec(PGC(c), PQ_STUDY_LIST,
	                      "SELECT " STUDY_COLS " FROM studies WHERE owner = $1 AND id > $2 "
	                      "ORDER BY id LIMIT $3",
	                      &a, e);
	if (!r)
		return -(int)e->code;
	void *rows = NULL;
	int rc = pg_rows(r, sizeof(**out), read_study, &rows, n, e);
	*out = rows;
	if (rc != 0) {
		store_studies_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* Runs an UPDATE or DELETE of one row; NOT_FOUND (msg) when none changed. */
static int change_one(struct pg_conn *w, enum pg_stmt_id id, const char *sql, struct pg_args *a,
                      struct err *e, int64_t rowid)
{
	PGresult *r = pg_exec(w, id, sql, a, e);
	if (!r)
		return -(int)e->code;
	int64_t n = pg_changes(r);
	PQclear(r);
	if (n == 0)
		return err_set(e, ERR_NOT_FOUND, "study #%lld not found", (long long)rowid);
	return 0;
}

int pg_study_delete(struct store_conn *w, const char *owner, const char *study_id, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	pg_arg_text(&a, study_id);
	PGresult *r = pg_exec(PGC(w), PQ_STUDY_DELETE,
	                      "DELETE FROM studies WHERE owner = $1 AND study_id = $2", &a, e);
	if (!r)
		return -(int)e->code;
	int64_t n = pg_changes(r);
	PQclear(r);
	if (n == 0)
		return err_set(e, ERR_NOT_FOUND, "study owners/%s/studies/%s not found", owner,
		               study_id);
	return 0;
}

int pg_study_set_state(struct store_conn *w, int64_t rowid, int state, const char *reason,
                       struct err *e)
{
	if (state < STUDY_ACTIVE || state > STUDY_COMPLETED)
		return err_set(e, ERR_INVALID_ARGUMENT, "store: bad study state %d", state);
	struct pg_args a = {0};
	pg_arg_i64(&a, rowid);
	pg_arg_i64(&a, state);
	pg_arg_text(&a, reason);
	return change_one(PGC(w), PQ_STUDY_SET_STATE,
	                  "UPDATE studies SET state = $2, inactive_reason = $3 WHERE id = $1", &a,
	                  e, rowid);
}

int pg_study_set_progress(struct store_conn *w, int64_t rowid, int64_t when, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_i64(&a, rowid);
	pg_arg_i64(&a, when);
	return change_one(PGC(w), PQ_STUDY_SET_PROGRESS,
	                  "UPDATE studies SET last_progress_time = $2 WHERE id = $1", &a, e, rowid);
}

int pg_study_set_metadata(struct store_conn *w, int64_t rowid, const char *metadata_json,
                          struct err *e)
{
	struct pg_args a = {0};
	pg_arg_i64(&a, rowid);
	pg_arg_text(&a, metadata_json);
	return change_one(PGC(w), PQ_STUDY_SET_METADATA,
	                  "UPDATE studies SET metadata_json = $2 WHERE id = $1", &a, e, rowid);
}

/* One integer of a query by study id; NOT_FOUND when no row. */
static int study_int(struct pg_conn *c, enum pg_stmt_id id, const char *sql, int64_t rowid,
                     int64_t *out, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_i64(&a, rowid);
	PGresult *r = pg_exec(c, id, sql, &a, e);
	if (!r)
		return -(int)e->code;
	int rc = 0;
	if (PQntuples(r) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "study #%lld not found", (long long)rowid);
	else
		*out = pg_i64(r, 0, 0);
	PQclear(r);
	return rc;
}

int pg_study_next_trial(struct store_conn *c, int64_t rowid, int64_t *next, struct err *e)
{
	return study_int(PGC(c), PQ_STUDY_NEXT_TRIAL_GET,
	                 "SELECT next_trial_id FROM studies WHERE id = $1", rowid, next, e);
}

int pg_count_studies(struct store_conn *c, int64_t *n, struct err *e)
{
	PGresult *r = pg_exec(PGC(c), PQ_COUNT_STUDIES, "SELECT count(*) FROM studies", NULL, e);
	if (!r)
		return -(int)e->code;
	*n = pg_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

/* ---- operations ---- */

int pg_operation_insert(struct store_conn *w, int64_t study_rowid, const char *json, int64_t *op_id,
                        struct err *e)
{
	if (!json)
		return err_set(e, ERR_INVALID_ARGUMENT, "store: empty operation");
	int64_t id;
	int rc = study_int(PGC(w), PQ_STUDY_NEXT_OPERATION,
	                   "UPDATE studies SET next_operation_id = next_operation_id + 1 "
	                   "WHERE id = $1 RETURNING next_operation_id - 1",
	                   study_rowid, &id, e);
	if (rc < 0)
		return rc;
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	pg_arg_i64(&a, id);
	pg_arg_text(&a, json);
	PGresult *r =
	    pg_exec(PGC(w), PQ_OPERATION_INSERT,
	            "INSERT INTO operations(study_rowid, id, json) VALUES ($1, $2, $3)", &a, e);
	if (!r)
		return -(int)e->code;
	PQclear(r);
	*op_id = id;
	if (id % 100 != 0 || id <= STORE_OPERATIONS_KEPT)
		return 0;
	struct pg_args b = {0};
	pg_arg_i64(&b, study_rowid);
	pg_arg_i64(&b, id - STORE_OPERATIONS_KEPT);
	r = pg_exec(PGC(w), PQ_OPERATION_PRUNE,
	            "DELETE FROM operations WHERE study_rowid = $1 AND id <= $2", &b, e);
	if (!r)
		return -(int)e->code;
	PQclear(r);
	return 0;
}

int pg_operation_get(struct store_conn *c, int64_t study_rowid, int64_t op_id, char **json,
                     struct err *e)
{
	*json = NULL;
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	pg_arg_i64(&a, op_id);
	PGresult *r =
	    pg_exec(PGC(c), PQ_OPERATION_GET,
	            "SELECT json FROM operations WHERE study_rowid = $1 AND id = $2", &a, e);
	if (!r)
		return -(int)e->code;
	int found = PQntuples(r) > 0, oom = 0;
	if (found)
		*json = pg_dup(r, 0, 0, &oom);
	PQclear(r);
	if (oom)
		return err_set(e, ERR_INTERNAL, "store: out of memory");
	if (!found) {
		char name[400];
		pg_study_name(PGC(c), study_rowid, name, sizeof(name));
		return err_set(
		    e, ERR_NOT_FOUND,
		    "operation %s/operations/%lld not found (a study keeps its newest %d "
		    "operations)",
		    name, (long long)op_id, STORE_OPERATIONS_KEPT);
	}
	return 0;
}
