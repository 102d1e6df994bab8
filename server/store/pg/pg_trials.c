/* pg_trials.c: trials, their measurements and the trial history on
 * PostgreSQL. The history's change counter (trial_seq) is kept by the
 * triggers of migrations/pg/0001_init.sql, so every daemon's writes bump
 * it and every daemon's history cache sees them. */
#include "pg_internal.h"

#include <stdlib.h>
#include <string.h>

#define TRIAL_COLS                                                                        \
	"study_rowid, id, state, params_json, final_json, client_id, infeasible_reason, " \
	"info_json, complete_json, start_time, end_time, lease_expiry, n_measurements, "  \
	"metadata_json"

static int read_trial(const PGresult *r, int i, void *elem)
{
	struct store_trial *t = elem;
	int oom = 0;
	t->study_rowid = pg_i64(r, i, 0);
	t->id = pg_i64(r, i, 1);
	t->state = (int)pg_i64(r, i, 2);
	t->params_json = pg_dup(r, i, 3, &oom);
	t->final_json = pg_dup(r, i, 4, &oom);
	t->client_id = pg_dup(r, i, 5, &oom);
	t->infeasible_reason = pg_dup(r, i, 6, &oom);
	t->info_json = pg_dup(r, i, 7, &oom);
	t->complete_json = pg_dup(r, i, 8, &oom);
	t->start_time = pg_i64(r, i, 9);
	t->end_time = pg_i64(r, i, 10);
	t->lease_expiry = pg_i64(r, i, 11);
	t->n_measurements = pg_i64(r, i, 12);
	t->metadata_json = pg_dup(r, i, 13, &oom);
	return oom;
}

static int trial_not_found(struct pg_conn *c, int64_t study_rowid, int64_t id, struct err *e)
{
	char name[400];
	pg_study_name(c, study_rowid, name, sizeof(name));
	return err_set(e, ERR_NOT_FOUND, "trial %s/trials/%lld not found", name, (long long)id);
}

static int valid_state(int state)
{
	return state >= TRIAL_REQUESTED && state <= TRIAL_INFEASIBLE;
}

int pg_trial_insert(struct store_conn *w, struct store_trial *t, struct err *e)
{
	if (!valid_state(t->state))
		return err_set(e, ERR_INVALID_ARGUMENT, "store: bad trial state %d", t->state);
	if (!t->params_json)
		return err_set(e, ERR_INVALID_ARGUMENT, "store: trial without parameters");
	struct pg_args a = {0};
	pg_arg_i64(&a, t->study_rowid);
	PGresult *r = pg_exec(PGC(w), PQ_STUDY_NEXT_TRIAL,
	                      "UPDATE studies SET next_trial_id = next_trial_id + 1 WHERE id = $1 "
	                      "RETURNING next_trial_id - 1",
	                      &a, e);
	if (!r)
		return -(int)e->code;
	int found = PQntuples(r) > 0;
	int64_t id = found ? pg_i64(r, 0, 0) : 0;
	PQclear(r);
	if (!found)
		return err_set(e, ERR_NOT_FOUND, "study #%lld not found",
		               (long long)t->study_rowid);
	struct pg_args b = {0};
	pg_arg_i64(&b, t->study_rowid);
	pg_arg_i64(&b, id);
	pg_arg_i64(&b, t->state);
	pg_arg_text(&b, t->params_json);
	pg_arg_text(&b, t->final_json);
	pg_arg_text(&b, t->client_id);
	pg_arg_text(&b, t->infeasible_reason);
	pg_arg_text(&b, t->info_json);
	pg_arg_text(&b, t->complete_json);
	pg_arg_i64(&b, t->start_time);
	pg_arg_i64(&b, t->end_time);
	pg_arg_i64(&b, t->lease_expiry);
	pg_arg_text(&b, t->metadata_json);
	r = pg_exec(PGC(w), PQ_TRIAL_INSERT,
	            "INSERT INTO trials(" TRIAL_COLS ") VALUES "
	            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13)",
	            &b, e);
	if (!r)
		return -(int)e->code;
	PQclear(r);
	t->id = id;
	t->n_measurements = 0;
	return 0;
}

int pg_trial_get(struct store_conn *c, int64_t study_rowid, int64_t id, struct store_trial *out,
                 struct err *e)
{
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	pg_arg_i64(&a, id);
	PGresult *r =
	    pg_exec(PGC(c), PQ_TRIAL_GET,
	            "SELECT " TRIAL_COLS " FROM trials WHERE study_rowid = $1 AND id = $2", &a, e);
	if (!r)
		return -(int)e->code;
	int rows = PQntuples(r), rc = 0;
	if (rows > 0 && read_trial(r, 0, out)) {
		store_trial_clear(out);
		rc = err_set(e, ERR_INTERNAL, "store: out of memory");
	}
	PQclear(r);
	if (rows == 0)
		return trial_not_found(PGC(c), study_rowid, id, e);
	return rc;
}

/* An UPDATE or DELETE of one trial: it changed a row, or the trial is not
 * there. */
static int change_one(struct pg_conn *w, enum pg_stmt_id id, const char *sql, struct pg_args *a,
                      int64_t study_rowid, int64_t trial_id, struct err *e)
{
	PGresult *r = pg_exec(w, id, sql, a, e);
	if (!r)
		return -(int)e->code;
	int64_t n = pg_changes(r);
	PQclear(r);
	return n ? 0 : trial_not_found(w, study_rowid, trial_id, e);
}

int pg_trial_set_lease(struct store_conn *w, int64_t study_rowid, int64_t id, int64_t lease_expiry,
                       struct err *e)
{
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	pg_arg_i64(&a, id);
	pg_arg_i64(&a, lease_expiry);
	return change_one(PGC(w), PQ_TRIAL_SET_LEASE,
	                  "UPDATE trials SET lease_expiry = $3 WHERE study_rowid = $1 AND id = $2",
	                  &a, study_rowid, id, e);
}

int pg_trial_finish(struct store_conn *w, const struct store_trial *t, struct err *e)
{
	if (!valid_state(t->state))
		return err_set(e, ERR_INVALID_ARGUMENT, "store: bad trial state %d", t->state);
	struct pg_args a = {0};
	pg_arg_i64(&a, t->study_rowid);
	pg_arg_i64(&a, t->id);
	pg_arg_i64(&a, t->state);
	pg_arg_text(&a, t->final_json);
	pg_arg_text(&a, t->infeasible_reason);
	pg_arg_text(&a, t->complete_json);
	pg_arg_i64(&a, t->end_time);
	pg_arg_i64(&a, t->lease_expiry);
	return change_one(PGC(w), PQ_TRIAL_FINISH,
	                  "UPDATE trials SET state = $3, final_json = $4, infeasible_reason = $5, "
	                  "complete_json = $6, end_time = $7, lease_expiry = $8 "
	                  "WHERE study_rowid = $1 AND id = $2",
	                  &a, t->study_rowid, t->id, e);
}

int pg_trial_update(struct store_conn *w, const struct store_trial *t, struct err *e)
{
	if (!valid_state(t->state))
		return err_set(e, ERR_INVALID_ARGUMENT, "store: bad trial state %d", t->state);
	struct pg_args a = {0};
	pg_arg_i64(&a, t->study_rowid);
	pg_arg_i64(&a, t->id);
	pg_arg_i64(&a, t->state);
	pg_arg_text(&a, t->final_json);
	pg_arg_text(&a, t->client_id);
	pg_arg_text(&a, t->infeasible_reason);
	pg_arg_text(&a, t->info_json);
	pg_arg_text(&a, t->complete_json);
	pg_arg_i64(&a, t->start_time);
	pg_arg_i64(&a, t->end_time);
	pg_arg_i64(&a, t->lease_expiry);
	return change_one(PGC(w), PQ_TRIAL_UPDATE,
	                  "UPDATE trials SET state = $3, final_json = $4, client_id = $5, "
	                  "infeasible_reason = $6, info_json = $7, complete_json = $8, "
	                  "start_time = $9, end_time = $10, lease_expiry = $11 "
	                  "WHERE study_rowid = $1 AND id = $2",
	                  &a, t->study_rowid, t->id, e);
}

int pg_trial_delete(struct store_conn *w, int64_t study_rowid, int64_t id, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	pg_arg_i64(&a, id);
	return change_one(PGC(w), PQ_TRIAL_DELETE,
	                  "DELETE FROM trials WHERE study_rowid = $1 AND id = $2", &a, study_rowid,
	                  id, e);
}

int pg_trial_set_metadata(struct store_conn *w, int64_t study_rowid, int64_t id,
                          const char *metadata_json, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	pg_arg_i64(&a, id);
	pg_arg_text(&a, metadata_json);
	return change_one(PGC(w), PQ_TRIAL_SET_METADATA,
	                  "UPDATE trials SET metadata_json = $3 WHERE study_rowid = $1 AND id = $2",
	                  &a, study_rowid, id, e);
}

/* Every row of r into a malloc'd array. Clears r. */
static int collect(PGresult *r, struct store_trial **out, size_t *n, struct err *e)
{
	void *rows = NULL;
	int rc = pg_rows(r, sizeof(**out), read_trial, &rows, n, e);
	*out = rows;
	if (rc != 0) {
		store_trials_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* The mask as the bit set of states (bits 1..5; 0: every state). */
static int64_t state_bits(unsigned mask)
{
	return mask & 0x3eu ? (int64_t)(mask & 0x3eu) : 0x3e;
}

int pg_trial_list(struct store_conn *c, int64_t study_rowid, unsigned state_mask, int64_t after,
                  int limit, struct store_trial **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	pg_arg_i64(&a, after);
	pg_arg_i64(&a, limit > 0 ? limit : INT64_MAX);
	pg_arg_i64(&a, state_bits(state_mask));
	PGresult *r =
	    pg_exec(PGC(c), PQ_TRIAL_LIST,
	            "SELECT " TRIAL_COLS " FROM trials WHERE study_rowid = $1 AND id > $2 "
	            "AND ((1 << state) & $4::int) <> 0 ORDER BY id LIMIT $3",
	            &a, e);
	if (!r)
		return -(int)e->code;
	return collect(r, out, n, e);
}

int pg_trial_list_by_client(struct store_conn *c, int64_t study_rowid, const char *client_id,
                            struct store_trial **out, size_t *n, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	pg_arg_text(&a, client_id);
	PGresult *r = pg_exec(PGC(c), PQ_TRIAL_LIST_CLIENT,
	                      "SELECT " TRIAL_COLS " FROM trials WHERE study_rowid = $1 "
	                      "AND client_id = $2 AND state IN (2, 3) ORDER BY id",
	                      &a, e);
	if (!r) {
		*out = NULL;
		*n = 0;
		return -(int)e->code;
	}
	return collect(r, out, n, e);
}

int pg_trial_count(struct store_conn *c, int64_t study_rowid, unsigned state_mask, int64_t *count,
                   struct err *e)
{
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	pg_arg_i64(&a, state_bits(state_mask));
	PGresult *r = pg_exec(PGC(c), PQ_TRIAL_COUNT,
	                      "SELECT count(*) FROM trials WHERE study_rowid = $1 "
	                      "AND ((1 << state) & $2::int) <> 0",
	                      &a, e);
	*count = 0;
	if (!r)
		return -(int)e->code;
	*count = pg_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

int pg_trial_expire_leases(struct store_conn *w, int64_t study_rowid, int64_t now,
                           int64_t *n_expired, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	pg_arg_i64(&a, now);
	PGresult *r = pg_exec(PGC(w), PQ_TRIAL_EXPIRE,
	                      "UPDATE trials SET state = 1, client_id = NULL, lease_expiry = 0 "
	                      "WHERE study_rowid = $1 AND state = 2 AND lease_expiry > 0 "
	                      "AND lease_expiry <= $2",
	                      &a, e);
	if (!r)
		return -(int)e->code;
	if (n_expired)
		*n_expired = pg_changes(r);
	PQclear(r);
	return 0;
}

int pg_count_trials_by_state(struct store_conn *c, int64_t counts[6], struct err *e)
{
	for (int i = 0; i < 6; i++)
		counts[i] = 0;
	PGresult *r = pg_exec(PGC(c), PQ_COUNT_TRIALS_BY_STATE,
	                      "SELECT state, count(*) FROM trials GROUP BY state", NULL, e);
	if (!r)
		return -(int)e->code;
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t st = pg_i64(r, i, 0);
		if (st >= 1 && st <= 5)
			counts[st] = pg_i64(r, i, 1);
	}
	PQclear(r);
	return 0;
}

/* ---- measurements ---- */

int pg_measurement_add(struct store_conn *w, int64_t study_rowid, int64_t trial_id,
                       const char *measurement_json, int64_t lease_expiry, struct err *e)
{
	if (!measurement_json)
		return err_set(e, ERR_INVALID_ARGUMENT, "store: empty measurement");
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	pg_arg_i64(&a, trial_id);
	pg_arg_i64(&a, lease_expiry);
	pg_arg_text(&a, measurement_json);
	/* One round trip: count it on the trial row, then append it with the
	 * count as its sequence number. */
	PGresult *r = pg_exec(PGC(w), PQ_TRIAL_ADD_MEASUREMENT,
	                      "WITH t AS (UPDATE trials SET n_measurements = n_measurements + 1, "
	                      "lease_expiry = CASE WHEN $3::bigint < 0 THEN lease_expiry "
	                      "ELSE $3::bigint END WHERE study_rowid = $1 AND id = $2 "
	                      "RETURNING study_rowid, id, n_measurements) "
	                      "INSERT INTO measurements(study_rowid, trial_id, seq, json) "
	                      "SELECT study_rowid, id, n_measurements, $4 FROM t",
	                      &a, e);
	if (!r)
		return -(int)e->code;
	int64_t n = pg_changes(r);
	PQclear(r);
	return n ? 0 : trial_not_found(PGC(w), study_rowid, trial_id, e);
}

int pg_measurement_joined(struct store_conn *c, int64_t study_rowid, int64_t trial_id, char **out,
                          size_t *len, size_t *last, struct err *e)
{
	*out = NULL;
	*len = *last = 0;
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	pg_arg_i64(&a, trial_id);
	PGresult *r =
	    pg_exec(PGC(c), PQ_MEASUREMENT_LIST,
	            "SELECT json FROM measurements WHERE study_rowid = $1 AND trial_id = $2 "
	            "ORDER BY seq",
	            &a, e);
	if (!r)
		return -(int)e->code;
	int rows = PQntuples(r);
	size_t total = 0;
	for (int i = 0; i < rows; i++)
		total += (size_t)PQgetlength(r, i, 0) + 1;
	if (rows > 0 && !(*out = malloc(total + 1))) {
		PQclear(r);
		return err_set(e, ERR_INTERNAL, "store: out of memory");
	}
	for (int i = 0; i < rows; i++) {
		size_t jl = (size_t)PQgetlength(r, i, 0);
		if (*len > 0)
			(*out)[(*len)++] = ',';
		*last = *len;
		memcpy(*out + *len, PQgetvalue(r, i, 0), jl);
		*len += jl;
		(*out)[*len] = '\0';
	}
	PQclear(r);
	return 0;
}

/* ---- the trial history ---- */

int pg_trial_seq(struct store_conn *c, int64_t study_rowid, int64_t *seq, int64_t *deletes,
                 struct err *e)
{
	*seq = 0;
	*deletes = 0;
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	PGresult *r = pg_exec(PGC(c), PQ_TRIAL_SEQ,
	                      "SELECT seq, deletes FROM trial_seq WHERE study_rowid = $1", &a, e);
	if (!r)
		return -(int)e->code;
	if (PQntuples(r) > 0) {
		*seq = pg_i64(r, 0, 0);
		*deletes = pg_i64(r, 0, 1);
	}
	PQclear(r);
	return 0;
}

int pg_trial_changed(struct store_conn *c, int64_t study_rowid, int64_t after,
                     int (*fn)(void *ctx, const struct store_hist_row *r), void *ctx, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	if (after >= 0)
		pg_arg_i64(&a, after);
	PGresult *r =
	    after < 0 ? pg_exec(PGC(c), PQ_TRIAL_CHANGED_ALL,
	                        "SELECT id, state, complete_json IS NULL, end_time, params_json, "
	                        "final_json, client_id FROM trials WHERE study_rowid = $1 "
	                        "ORDER BY id",
	                        &a, e)
	              : pg_exec(PGC(c), PQ_TRIAL_CHANGED,
	                        "SELECT id, state, complete_json IS NULL, end_time, params_json, "
	                        "final_json, client_id FROM trials WHERE study_rowid = $1 "
	                        "AND seq > $2",
	                        &a, e);
	if (!r)
		return -(int)e->code;
	int stop = 0;
	for (int i = 0; i < PQntuples(r) && !stop; i++) {
		struct store_hist_row h = {
		    .id = pg_i64(r, i, 0),
		    .state = (int)pg_i64(r, i, 1),
		    .end_time = pg_i64(r, i, 3),
		    .params_json = PQgetvalue(r, i, 4),
		    .final_json = PQgetisnull(r, i, 5) ? NULL : PQgetvalue(r, i, 5),
		    .client_id = PQgetisnull(r, i, 6) ? NULL : PQgetvalue(r, i, 6),
		};
		h.given_up = h.state == TRIAL_INFEASIBLE && PQgetvalue(r, i, 2)[0] == 't';
		stop = fn(ctx, &h);
	}
	PQclear(r);
	return stop;
}
