/* store_trials.c: trials, their measurements, and operations. Ids come from
 * counters on the study row so that a deleted id is never handed out again. */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#define TRIAL_COLS                                                                        \
	"study_rowid, id, state, params_json, final_json, client_id, infeasible_reason, " \
	"info_json, complete_json, start_time, end_time, lease_expiry, n_measurements, "  \
	"metadata_json"

static int read_trial(sqlite3_stmt *s, void *elem)
{
	struct store_trial *t = elem;
	int oom = 0;
	t->study_rowid = sqlite3_column_int64(s, 0);
	t->id = sqlite3_column_int64(s, 1);
	t->state = sqlite3_column_int(s, 2);
	t->params_json = store_col_dup(s, 3, &oom);
	t->final_json = store_col_dup(s, 4, &oom);
	t->client_id = store_col_dup(s, 5, &oom);
	t->infeasible_reason = store_col_dup(s, 6, &oom);
	t->info_json = store_col_dup(s, 7, &oom);
	t->complete_json = store_col_dup(s, 8, &oom);
	t->start_time = sqlite3_column_int64(s, 9);
	t->end_time = sqlite3_column_int64(s, 10);
	t->lease_expiry = sqlite3_column_int64(s, 11);
	t->n_measurements = sqlite3_column_int64(s, 12);
	t->metadata_json = store_col_dup(s, 13, &oom);
	return oom;
}

static int trial_not_found(struct store_conn *c, int64_t study_rowid, int64_t id, struct err *e)
{
	char name[400];
	store_study_name(c, study_rowid, name, sizeof(name));
	return err_set(e, ERR_NOT_FOUND, "trial %s/trials/%lld not found", name, (long long)id);
}

static int valid_state(int state)
{
	return state >= TRIAL_REQUESTED && state <= TRIAL_INFEASIBLE;
}

/* Takes the next value of a study counter (trial or operation ids). */
static int next_id(struct store_conn *w, enum store_stmt_id id, const char *sql,
                   int64_t study_rowid, int64_t *out, struct err *e)
{
	sqlite3_stmt *s = store_stmt(w, id, sql, e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	int rc = store_step(w, s, e);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(s, 0);
		rc = store_step(w, s, e);
	} else if (rc == SQLITE_DONE) {
		rc = err_set(e, ERR_NOT_FOUND, "study #%lld not found", (long long)study_rowid);
	}
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_trial_insert(struct store_conn *w, struct store_trial *t, struct err *e)
{
	if (!valid_state(t->state))
		return err_set(e, ERR_INVALID_ARGUMENT, "store: bad trial state %d", t->state);
	if (!t->params_json)
		return err_set(e, ERR_INVALID_ARGUMENT, "store: trial without parameters");
	int64_t id;
	int rc = next_id(w, ST_STUDY_NEXT_TRIAL,
	                 "UPDATE studies SET next_trial_id = next_trial_id + 1 WHERE id = ?1 "
	                 "RETURNING next_trial_id - 1",
	                 t->study_rowid, &id, e);
	if (rc < 0)
		return rc;
	sqlite3_stmt *s = store_stmt(w, ST_TRIAL_INSERT,
	                             "INSERT INTO trials(" TRIAL_COLS ") VALUES "
	                             "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 0, ?13)",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, t->study_rowid);
	sqlite3_bind_int64(s, 2, id);
	sqlite3_bind_int(s, 3, t->state);
	store_bind_text(s, 4, t->params_json);
	store_bind_text(s, 5, t->final_json);
	store_bind_text(s, 6, t->client_id);
	store_bind_text(s, 7, t->infeasible_reason);
	store_bind_text(s, 8, t->info_json);
	store_bind_text(s, 9, t->complete_json);
	sqlite3_bind_int64(s, 10, t->start_time);
	sqlite3_bind_int64(s, 11, t->end_time);
	sqlite3_bind_int64(s, 12, t->lease_expiry);
	store_bind_text(s, 13, t->metadata_json);
	rc = store_step(w, s, e);
	store_done(s);
	if (rc < 0)
		return rc;
	t->id = id;
	t->n_measurements = 0;
	return 0;
}

int sqlite_trial_get(struct store_conn *c, int64_t study_rowid, int64_t id, struct store_trial *out,
                     struct err *e)
{
	sqlite3_stmt *s = store_stmt(c, ST_TRIAL_GET,
	                             "SELECT " TRIAL_COLS " FROM trials "
	                             "WHERE study_rowid = ?1 AND id = ?2",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	sqlite3_bind_int64(s, 2, id);
	int rc = store_step(c, s, e);
	if (rc == SQLITE_ROW && read_trial(s, out)) {
		store_trial_clear(out);
		rc = err_set(e, ERR_INTERNAL, "store: out of memory");
	}
	store_done(s);
	if (rc == SQLITE_DONE)
		return trial_not_found(c, study_rowid, id, e);
	return rc < 0 ? rc : 0;
}

/* One UPDATE statement of a trial, bound by the caller: the statement
 * changed a row, or the trial is not there. */
static int update_one(struct store_conn *w, sqlite3_stmt *s, int64_t study_rowid, int64_t id,
                      struct err *e)
{
	int rc = store_step(w, s, e);
	store_done(s);
	if (rc < 0)
		return rc;
	if (sqlite3_changes(w->db) == 0)
		return trial_not_found(w, study_rowid, id, e);
	return 0;
}

int sqlite_trial_set_lease(struct store_conn *w, int64_t study_rowid, int64_t id,
                           int64_t lease_expiry, struct err *e)
{
	sqlite3_stmt *s = store_stmt(w, ST_TRIAL_SET_LEASE,
	                             "UPDATE trials SET lease_expiry = ?3 "
	                             "WHERE study_rowid = ?1 AND id = ?2",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	sqlite3_bind_int64(s, 2, id);
	sqlite3_bind_int64(s, 3, lease_expiry);
	return update_one(w, s, study_rowid, id, e);
}

int sqlite_trial_finish(struct store_conn *w, const struct store_trial *t, struct err *e)
{
	if (!valid_state(t->state))
		return err_set(e, ERR_INVALID_ARGUMENT, "store: bad trial state %d", t->state);
	sqlite3_stmt *s = store_stmt(w, ST_TRIAL_FINISH,
	                             "UPDATE trials SET state = ?3, final_json = ?4, "
	                             "infeasible_reason = ?5, complete_json = ?6, end_time = ?7, "
	                             "lease_expiry = ?8 WHERE study_rowid = ?1 AND id = ?2",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, t->study_rowid);
	sqlite3_bind_int64(s, 2, t->id);
	sqlite3_bind_int(s, 3, t->state);
	store_bind_text(s, 4, t->final_json);
	store_bind_text(s, 5, t->infeasible_reason);
	store_bind_text(s, 6, t->complete_json);
	sqlite3_bind_int64(s, 7, t->end_time);
	sqlite3_bind_int64(s, 8, t->lease_expiry);
	return update_one(w, s, t->study_rowid, t->id, e);
}

int sqlite_trial_update(struct store_conn *w, const struct store_trial *t, struct err *e)
{
	if (!valid_state(t->state))
		return err_set(e, ERR_INVALID_ARGUMENT, "store: bad trial state %d", t->state);
	sqlite3_stmt *s =
	    store_stmt(w, ST_TRIAL_UPDATE,
	               "UPDATE trials SET state = ?3, final_json = ?4, client_id = ?5, "
	               "infeasible_reason = ?6, info_json = ?7, complete_json = ?8, "
	               "start_time = ?9, end_time = ?10, lease_expiry = ?11 "
	               "WHERE study_rowid = ?1 AND id = ?2",
	               e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, t->study_rowid);
	sqlite3_bind_int64(s, 2, t->id);
	sqlite3_bind_int(s, 3, t->state);
	store_bind_text(s, 4, t->final_json);
	store_bind_text(s, 5, t->client_id);
	store_bind_text(s, 6, t->infeasible_reason);
	store_bind_text(s, 7, t->info_json);
	store_bind_text(s, 8, t->complete_json);
	sqlite3_bind_int64(s, 9, t->start_time);
	sqlite3_bind_int64(s, 10, t->end_time);
	sqlite3_bind_int64(s, 11, t->lease_expiry);
	return update_one(w, s, t->study_rowid, t->id, e);
}

int sqlite_trial_delete(struct store_conn *w, int64_t study_rowid, int64_t id, struct err *e)
{
	sqlite3_stmt *s = store_stmt(w, ST_TRIAL_DELETE,
	                             "DELETE FROM trials WHERE study_rowid = ?1 AND id = ?2", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	sqlite3_bind_int64(s, 2, id);
	return update_one(w, s, study_rowid, id, e);
}

int sqlite_trial_set_metadata(struct store_conn *w, int64_t study_rowid, int64_t id,
                              const char *metadata_json, struct err *e)
{
	sqlite3_stmt *s = store_stmt(w, ST_TRIAL_SET_METADATA,
	                             "UPDATE trials SET metadata_json = ?3 "
	                             "WHERE study_rowid = ?1 AND id = ?2",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	sqlite3_bind_int64(s, 2, id);
	store_bind_text(s, 3, metadata_json);
	return update_one(w, s, study_rowid, id, e);
}

/* Binds the states of mask to parameters first..first+4 (0 = no state). */
static void bind_states(sqlite3_stmt *s, int first, unsigned mask)
{
	for (int st = TRIAL_REQUESTED; st <= TRIAL_INFEASIBLE; st++)
		sqlite3_bind_int(s, first + st - 1, (mask & (1u << st)) ? st : 0);
}

/* Collects every row of s into a malloc'd array. Resets s. */
static int collect(struct store_conn *c, sqlite3_stmt *s, struct store_trial **out, size_t *n,
                   struct err *e)
{
	void *rows = NULL;
	int rc = store_rows(c, s, sizeof(**out), read_trial, &rows, n, e);
	*out = rows;
	if (rc < 0) {
		store_trials_free(*out, *n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	return 0;
}

int sqlite_trial_list(struct store_conn *c, int64_t study_rowid, unsigned state_mask, int64_t after,
                      int limit, struct store_trial **out, size_t *n, struct err *e)
{
	const unsigned all = 0x3eu; /* bits 1..5 */
	sqlite3_stmt *s;
	*out = NULL;
	*n = 0;
	if ((state_mask & all) == all)
		state_mask = 0;
	const unsigned finished = (1u << TRIAL_SUCCEEDED) | (1u << TRIAL_INFEASIBLE);
	if (state_mask && limit <= 0 && (state_mask & finished)) {
		/* Finished trials are most of a study: reading the study in id
		 * order and filtering beats sorting all of them out of the
		 * state index (1.3 s -> 0.x s for 100,000 trials). */
		s = store_stmt(c, ST_TRIAL_LIST_SCAN,
		               "SELECT " TRIAL_COLS " FROM trials "
		               "WHERE study_rowid = ?1 AND id > ?2 AND ((1 << state) & ?4) != 0 "
		               "ORDER BY id LIMIT ?3",
		               e);
		if (s)
			sqlite3_bind_int64(s, 4, state_mask);
		state_mask = 0; /* bound already */
	} else if (state_mask == 0) {
		s = store_stmt(c, ST_TRIAL_LIST_ALL,
		               "SELECT " TRIAL_COLS " FROM trials "
		               "WHERE study_rowid = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
		               e);
	} else {
		s = store_stmt(c, ST_TRIAL_LIST_STATES,
		               "SELECT " TRIAL_COLS " FROM trials INDEXED BY trials_state "
		               "WHERE study_rowid = ?1 AND state IN (?4, ?5, ?6, ?7, ?8) "
		               "AND id > ?2 ORDER BY id LIMIT ?3",
		               e);
	}
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	sqlite3_bind_int64(s, 2, after);
	sqlite3_bind_int(s, 3, limit > 0 ? limit : -1);
	if (state_mask)
		bind_states(s, 4, state_mask);
	return collect(c, s, out, n, e);
}

int sqlite_trial_list_by_client(struct store_conn *c, int64_t study_rowid, const char *client_id,
                                struct store_trial **out, size_t *n, struct err *e)
{
	sqlite3_stmt *s =
	    store_stmt(c, ST_TRIAL_LIST_CLIENT,
	               "SELECT " TRIAL_COLS " FROM trials INDEXED BY trials_client "
	               "WHERE study_rowid = ?1 AND client_id = ?2 AND state IN (2, 3) "
	               "ORDER BY id",
	               e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	store_bind_text(s, 2, client_id);
	return collect(c, s, out, n, e);
}

int sqlite_trial_count(struct store_conn *c, int64_t study_rowid, unsigned state_mask,
                       int64_t *count, struct err *e)
{
	const unsigned all = 0x3eu;
	sqlite3_stmt *s;
	if ((state_mask & all) == all)
		state_mask = 0;
	if (state_mask == 0)
		s = store_stmt(c, ST_TRIAL_COUNT_ALL,
		               "SELECT count(*) FROM trials WHERE study_rowid = ?1", e);
	else
		s = store_stmt(c, ST_TRIAL_COUNT_STATES,
		               "SELECT count(*) FROM trials WHERE study_rowid = ?1 "
		               "AND state IN (?2, ?3, ?4, ?5, ?6)",
		               e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	if (state_mask)
		bind_states(s, 2, state_mask);
	int rc = store_step(c, s, e);
	*count = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_trial_expire_leases(struct store_conn *w, int64_t study_rowid, int64_t now,
                               int64_t *n_expired, struct err *e)
{
	sqlite3_stmt *s =
	    store_stmt(w, ST_TRIAL_EXPIRE,
	               "UPDATE trials SET state = 1, client_id = NULL, lease_expiry = 0 "
	               "WHERE study_rowid = ?1 AND state = 2 AND lease_expiry > 0 "
	               "AND lease_expiry <= ?2",
	               e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	sqlite3_bind_int64(s, 2, now);
	int rc = store_step(w, s, e);
	store_done(s);
	if (rc < 0)
		return rc;
	if (n_expired)
		*n_expired = sqlite3_changes(w->db);
	return 0;
}

int sqlite_measurement_add(struct store_conn *w, int64_t study_rowid, int64_t trial_id,
                           const char *measurement_json, int64_t lease_expiry, struct err *e)
{
	if (!measurement_json)
		return err_set(e, ERR_INVALID_ARGUMENT, "store: empty measurement");
	sqlite3_stmt *s = store_stmt(w, ST_TRIAL_ADD_MEASUREMENT,
	                             "UPDATE trials SET n_measurements = n_measurements + 1, "
	                             "lease_expiry = iif(?3 < 0, lease_expiry, ?3) "
	                             "WHERE study_rowid = ?1 AND id = ?2 RETURNING n_measurements",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	sqlite3_bind_int64(s, 2, trial_id);
	sqlite3_bind_int64(s, 3, lease_expiry);
	int rc = store_step(w, s, e);
	int64_t seq = 0;
	if (rc == SQLITE_ROW) {
		seq = sqlite3_column_int64(s, 0);
		rc = store_step(w, s, e);
	}
	store_done(s);
	if (rc < 0)
		return rc;
	if (seq == 0)
		return trial_not_found(w, study_rowid, trial_id, e);
	s = store_stmt(w, ST_MEASUREMENT_INSERT,
	               "INSERT INTO measurements(study_rowid, trial_id, seq, json) "
	               "VALUES (?1, ?2, ?3, ?4)",
	               e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	sqlite3_bind_int64(s, 2, trial_id);
	sqlite3_bind_int64(s, 3, seq);
	sqlite3_bind_text(s, 4, measurement_json, -1, SQLITE_TRANSIENT);
	rc = store_step(w, s, e);
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_measurement_joined(struct store_conn *c, int64_t study_rowid, int64_t trial_id,
                              char **out, size_t *len, size_t *last, struct err *e)
{
	*out = NULL;
	*len = *last = 0;
	sqlite3_stmt *s = store_stmt(c, ST_MEASUREMENT_LIST,
	                             "SELECT json FROM measurements "
	                             "WHERE study_rowid = ?1 AND trial_id = ?2 ORDER BY seq",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	sqlite3_bind_int64(s, 2, trial_id);
	size_t cap = 0;
	int rc;
	while ((rc = store_step(c, s, e)) == SQLITE_ROW) {
		const char *j = (const char *)sqlite3_column_text(s, 0);
		size_t jl = (size_t)sqlite3_column_bytes(s, 0);
		size_t need = *len + jl + 2;
		if (need > cap) {
			size_t nc = cap ? cap : 1024;
			while (nc < need)
				nc *= 2;
			char *grown = realloc(*out, nc);
			if (!grown) {
				rc = err_set(e, ERR_INTERNAL, "store: out of memory");
				break;
			}
			*out = grown;
			cap = nc;
		}
		if (*len > 0)
			(*out)[(*len)++] = ',';
		*last = *len;
		memcpy(*out + *len, j ? j : "", jl);
		*len += jl;
		(*out)[*len] = '\0';
	}
	store_done(s);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*len = *last = 0;
		return rc;
	}
	return 0;
}

int sqlite_operation_insert(struct store_conn *w, int64_t study_rowid, const char *json,
                            int64_t *op_id, struct err *e)
{
	/* Every suggest and early-stopping check stores one; a study keeps the
	 * newest STORE_OPERATIONS_KEPT, older ones go every 100 inserts. */
	if (!json)
		return err_set(e, ERR_INVALID_ARGUMENT, "store: empty operation");
	int64_t id;
	int rc = next_id(w, ST_STUDY_NEXT_OPERATION,
	                 "UPDATE studies SET next_operation_id = next_operation_id + 1 "
	                 "WHERE id = ?1 RETURNING next_operation_id - 1",
	                 study_rowid, &id, e);
	if (rc < 0)
		return rc;
	sqlite3_stmt *s =
	    store_stmt(w, ST_OPERATION_INSERT,
	               "INSERT INTO operations(study_rowid, id, json) VALUES (?1, ?2, ?3)", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	sqlite3_bind_int64(s, 2, id);
	sqlite3_bind_text(s, 3, json, -1, SQLITE_TRANSIENT);
	rc = store_step(w, s, e);
	store_done(s);
	if (rc < 0)
		return rc;
	*op_id = id;
	if (id % 100 != 0 || id <= STORE_OPERATIONS_KEPT)
		return 0;
	s = store_stmt(w, ST_OPERATION_PRUNE,
	               "DELETE FROM operations WHERE study_rowid = ?1 AND id <= ?2", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	sqlite3_bind_int64(s, 2, id - STORE_OPERATIONS_KEPT);
	rc = store_step(w, s, e);
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_operation_get(struct store_conn *c, int64_t study_rowid, int64_t op_id, char **json,
                         struct err *e)
{
	*json = NULL;
	sqlite3_stmt *s =
	    store_stmt(c, ST_OPERATION_GET,
	               "SELECT json FROM operations WHERE study_rowid = ?1 AND id = ?2", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	sqlite3_bind_int64(s, 2, op_id);
	int rc = store_step(c, s, e);
	int oom = 0;
	if (rc == SQLITE_ROW)
		*json = store_col_dup(s, 0, &oom);
	store_done(s);
	if (oom)
		return err_set(e, ERR_INTERNAL, "store: out of memory");
	if (rc == SQLITE_DONE) {
		char name[400];
		store_study_name(c, study_rowid, name, sizeof(name));
		return err_set(
		    e, ERR_NOT_FOUND,
		    "operation %s/operations/%lld not found (a study keeps its newest %d "
		    "operations)",
		    name, (long long)op_id, STORE_OPERATIONS_KEPT);
	}
	return rc < 0 ? rc : 0;
}

int sqlite_count_trials_by_state(struct store_conn *c, int64_t counts[6], struct err *e)
{
	for (int i = 0; i < 6; i++)
		counts[i] = 0;
	sqlite3_stmt *s = store_stmt(c, ST_COUNT_TRIALS_BY_STATE,
	                             "SELECT state, count(*) FROM trials GROUP BY state", e);
	if (!s)
		return -ERR_INTERNAL;
	int rc;
	while ((rc = store_step(c, s, e)) == SQLITE_ROW) {
		int st = sqlite3_column_int(s, 0);
		if (st >= 1 && st <= 5)
			counts[st] = sqlite3_column_int64(s, 1);
	}
	store_done(s);
	return rc < 0 ? rc : 0;
}

/* ---- the trial history (0003_trial_seq.sql) ---- */

int sqlite_trial_seq(struct store_conn *c, int64_t study_rowid, int64_t *seq, int64_t *deletes,
                     struct err *e)
{
	*seq = 0;
	*deletes = 0;
	sqlite3_stmt *s = store_stmt(
	    c, ST_TRIAL_SEQ, "SELECT seq, deletes FROM trial_seq WHERE study_rowid = ?1", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	int rc = store_step(c, s, e);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(s, 0);
		*deletes = sqlite3_column_int64(s, 1);
	}
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_trial_changed(struct store_conn *c, int64_t study_rowid, int64_t after,
                         int (*fn)(void *ctx, const struct store_hist_row *r), void *ctx,
                         struct err *e)
{
	/* Everything: the primary key order (a table scan). A few changes:
	 * the trials_seq index. */
	sqlite3_stmt *s =
	    after < 0
	        ? store_stmt(c, ST_TRIAL_CHANGED_ALL,
	                     "SELECT id, state, complete_json IS NULL, end_time, params_json, "
	                     "final_json, client_id FROM trials WHERE study_rowid = ?1 "
	                     "ORDER BY id",
	                     e)
	        : store_stmt(c, ST_TRIAL_CHANGED,
	                     "SELECT id, state, complete_json IS NULL, end_time, params_json, "
	                     "final_json, client_id FROM trials INDEXED BY trials_seq "
	                     "WHERE study_rowid = ?1 AND seq > ?2",
	                     e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, study_rowid);
	if (after >= 0)
		sqlite3_bind_int64(s, 2, after);
	int rc, stop = 0;
	while ((rc = store_step(c, s, e)) == SQLITE_ROW) {
		struct store_hist_row r = {
		    .id = sqlite3_column_int64(s, 0),
		    .state = sqlite3_column_int(s, 1),
		    .end_time = sqlite3_column_int64(s, 3),
		    .params_json = (const char *)sqlite3_column_text(s, 4),
		    .final_json = (const char *)sqlite3_column_text(s, 5),
		    .client_id = (const char *)sqlite3_column_text(s, 6),
		};
		r.given_up = r.state == TRIAL_INFEASIBLE && sqlite3_column_int(s, 2);
		if (!r.params_json) {
			rc = err_set(e, ERR_INTERNAL, "store: out of memory");
			break;
		}
		if ((stop = fn(ctx, &r)) != 0)
			break;
	}
	store_done(s);
	if (stop)
		return stop;
	return rc < 0 ? rc : 0;
}
