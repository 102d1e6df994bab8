/* store_studies.c: the studies table, and the gauges for /metrics. */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>

#define STUDY_COLS                                                              \
	"id, owner, study_id, spec_json, state, inactive_reason, create_time, " \
	"last_progress_time, metadata_json"

/* Fills out from a row of STUDY_COLS; nonzero on out of memory. */
static int read_study(sqlite3_stmt *s, void *elem)
{
	struct store_study *out = elem;
	int oom = 0;
	out->rowid = sqlite3_column_int64(s, 0);
	out->owner = store_col_dup(s, 1, &oom);
	out->study_id = store_col_dup(s, 2, &oom);
	out->spec_json = store_col_dup(s, 3, &oom);
	out->state = sqlite3_column_int(s, 4);
	out->inactive_reason = store_col_dup(s, 5, &oom);
	out->create_time = sqlite3_column_int64(s, 6);
	out->last_progress_time = sqlite3_column_int64(s, 7);
	out->metadata_json = store_col_dup(s, 8, &oom);
	return oom;
}

/* One study row from a prepared s into out (may be NULL); NOT_FOUND naming
 * owners/owner/studies/study_id, or "study #rowid" when owner is NULL, when
 * there is none. Resets s. */
static int get_one(struct store_conn *c, sqlite3_stmt *s, struct store_study *out,
                   const char *owner, const char *study_id, int64_t rowid, struct err *e)
{
	int rc = store_step(c, s, e);
	if (rc == SQLITE_DONE && owner)
		rc = err_set(e, ERR_NOT_FOUND, "study owners/%s/studies/%s not found", owner,
		             study_id);
	else if (rc == SQLITE_DONE)
		rc = err_set(e, ERR_NOT_FOUND, "study #%lld not found", (long long)rowid);
	else if (rc == SQLITE_ROW && out && read_study(s, out)) {
		store_study_clear(out);
		rc = err_set(e, ERR_INTERNAL, "store: out of memory");
	}
	store_done(s);
	return rc < 0 ? rc : 0;
}

/* ST_STUDY_GET prepared and bound for (owner, study_id); NULL with e set. */
static sqlite3_stmt *get_stmt(struct store_conn *c, const char *owner, const char *study_id,
                              struct err *e)
{
	sqlite3_stmt *s = store_stmt(c, ST_STUDY_GET,
	                             "SELECT " STUDY_COLS " FROM studies "
	                             "WHERE owner = ?1 AND study_id = ?2",
	                             e);
	if (s) {
		sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, study_id, -1, SQLITE_TRANSIENT);
	}
	return s;
}

int sqlite_study_get(struct store_conn *c, const char *owner, const char *study_id,
                     struct store_study *out, struct err *e)
{
	sqlite3_stmt *s = get_stmt(c, owner, study_id, e);
	if (!s)
		return -ERR_INTERNAL;
	return get_one(c, s, out, owner, study_id, 0, e);
}

int sqlite_study_get_by_rowid(struct store_conn *c, int64_t rowid, struct store_study *out,
                              struct err *e)
{
	sqlite3_stmt *s =
	    store_stmt(c, ST_STUDY_GET_ROWID, "SELECT " STUDY_COLS " FROM studies WHERE id = ?", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, rowid);
	return get_one(c, s, out, NULL, NULL, rowid, e);
}

void store_study_name(struct store_conn *c, int64_t rowid, char *buf, size_t len)
{
	sqlite3_stmt *s =
	    store_stmt(c, ST_STUDY_NAME, "SELECT owner, study_id FROM studies WHERE id = ?", NULL);
	if (s) {
		sqlite3_bind_int64(s, 1, rowid);
		if (store_step(c, s, NULL) == SQLITE_ROW) {
			snprintf(buf, len, "owners/%s/studies/%s", sqlite3_column_text(s, 0),
			         sqlite3_column_text(s, 1));
			store_done(s);
			return;
		}
	}
	store_done(s);
	snprintf(buf, len, "study #%lld", (long long)rowid);
}

int sqlite_study_insert(struct store_conn *w, const char *owner, const char *study_id,
                        const char *spec_json, int64_t now, struct store_study *out, struct err *e)
{
	struct store_owner o = {0};
	int rc = sqlite_owner_get(w, owner, &o, e);
	store_owner_clear(&o);
	if (rc < 0)
		return rc;
	/* Checked before the insert (we hold the write lock, so nobody can
	 * slip in between) to answer with a clear message, not a constraint
	 * error. */
	sqlite3_stmt *s = get_stmt(w, owner, study_id, e);
	if (!s)
		return -ERR_INTERNAL;
	rc = store_step(w, s, e);
	store_done(s);
	if (rc < 0)
		return rc;
	if (rc == SQLITE_ROW)
		return err_set(e, ERR_ALREADY_EXISTS, "study owners/%s/studies/%s already exists",
		               owner, study_id);

	s = store_stmt(w, ST_STUDY_INSERT,
	               "INSERT INTO studies(owner, study_id, spec_json, state, create_time, "
	               "last_progress_time) VALUES (?1, ?2, ?3, 1, ?4, ?4) RETURNING " STUDY_COLS,
	               e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, study_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, spec_json, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, now);
	rc = store_step(w, s, e);
	if (rc == SQLITE_ROW && out && read_study(s, out)) {
		store_study_clear(out);
		rc = err_set(e, ERR_INTERNAL, "store: out of memory");
	} else if (rc == SQLITE_DONE) {
		rc = err_set(e, ERR_INTERNAL, "store: study insert returned no row");
	}
	/* Step to the end so that the insert is complete before the reset. */
	while (rc == SQLITE_ROW && (rc = store_step(w, s, e)) == SQLITE_ROW)
		;
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_study_list(struct store_conn *c, const char *owner, int64_t after, int limit,
                      struct store_study **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s = store_stmt(c, ST_STUDY_LIST,
	                             "SELECT " STUDY_COLS " FROM studies "
	                             "WHERE owner = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, after);
	sqlite3_bind_int(s, 3, limit > 0 ? limit : -1);
	void *rows = NULL;
	int rc = store_rows(c, s, sizeof(**out), read_study, &rows, n, e);
	*out = rows;
	if (rc < 0) {
		store_studies_free(*out, *n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	return 0;
}

int sqlite_study_delete(struct store_conn *w, const char *owner, const char *study_id,
                        struct err *e)
{
	sqlite3_stmt *s = store_stmt(w, ST_STUDY_DELETE,
	                             "DELETE FROM studies WHERE owner = ?1 AND study_id = ?2", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, study_id, -1, SQLITE_TRANSIENT);
	int rc = store_step(w, s, e);
	store_done(s);
	if (rc < 0)
		return rc;
	if (sqlite3_changes(w->db) == 0)
		return err_set(e, ERR_NOT_FOUND, "study owners/%s/studies/%s not found", owner,
		               study_id);
	return 0;
}

/* NOT_FOUND naming the rowid when an UPDATE by rowid touched nothing. */
static int updated(struct store_conn *w, int rc, int64_t rowid, struct err *e)
{
	if (rc < 0)
		return rc;
	if (sqlite3_changes(w->db) == 0)
		return err_set(e, ERR_NOT_FOUND, "study #%lld not found", (long long)rowid);
	return 0;
}

int sqlite_study_set_state(struct store_conn *w, int64_t rowid, int state, const char *reason,
                           struct err *e)
{
	if (state < STUDY_ACTIVE || state > STUDY_COMPLETED)
		return err_set(e, ERR_INVALID_ARGUMENT, "store: bad study state %d", state);
	sqlite3_stmt *s =
	    store_stmt(w, ST_STUDY_SET_STATE,
	               "UPDATE studies SET state = ?2, inactive_reason = ?3 WHERE id = ?1", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, rowid);
	sqlite3_bind_int(s, 2, state);
	store_bind_text(s, 3, reason);
	int rc = store_step(w, s, e);
	store_done(s);
	return updated(w, rc, rowid, e);
}

int sqlite_study_set_progress(struct store_conn *w, int64_t rowid, int64_t when, struct err *e)
{
	sqlite3_stmt *s = store_stmt(w, ST_STUDY_SET_PROGRESS,
	                             "UPDATE studies SET last_progress_time = ?2 WHERE id = ?1", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, rowid);
	sqlite3_bind_int64(s, 2, when);
	int rc = store_step(w, s, e);
	store_done(s);
	return updated(w, rc, rowid, e);
}

int sqlite_study_set_metadata(struct store_conn *w, int64_t rowid, const char *metadata_json,
                              struct err *e)
{
	sqlite3_stmt *s = store_stmt(w, ST_STUDY_SET_METADATA,
	                             "UPDATE studies SET metadata_json = ?2 WHERE id = ?1", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, rowid);
	store_bind_text(s, 2, metadata_json);
	int rc = store_step(w, s, e);
	store_done(s);
	return updated(w, rc, rowid, e);
}

int sqlite_count_studies(struct store_conn *c, int64_t *n, struct err *e)
{
	sqlite3_stmt *s = store_stmt(c, ST_COUNT_STUDIES, "SELECT count(*) FROM studies", e);
	if (!s)
		return -ERR_INTERNAL;
	int rc = store_step(c, s, e);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_study_next_trial(struct store_conn *c, int64_t rowid, int64_t *next, struct err *e)
{
	sqlite3_stmt *s = store_stmt(c, ST_STUDY_NEXT_TRIAL_GET,
	                             "SELECT next_trial_id FROM studies WHERE id = ?", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, rowid);
	int rc = store_step(c, s, e);
	if (rc == SQLITE_ROW)
		*next = sqlite3_column_int64(s, 0);
	store_done(s);
	if (rc == SQLITE_DONE)
		return err_set(e, ERR_NOT_FOUND, "study #%lld not found", (long long)rowid);
	return rc < 0 ? rc : 0;
}
