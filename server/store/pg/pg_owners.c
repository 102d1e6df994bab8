/* pg_owners.c: owners, their quotas, API keys and the audit log on
 * PostgreSQL. The quotas are stored here and checked by the service under
 * store_lock_owner (no triggers). */
#include "pg_internal.h"

#include <stdlib.h>
#include <string.h>

/* An owner's oldest audit entries are dropped in batches: when an insert
 * gets an id divisible by this, its owner's entries are counted, and past
 * STORE_AUDIT_KEEP + AUDIT_PRUNE_BATCH the oldest go. */
#define AUDIT_PRUNE_BATCH 1000

/* Runs a statement whose rows the caller does not read. */
static int run(struct pg_conn *c, enum pg_stmt_id id, const char *sql, struct pg_args *a,
               int64_t *changes, struct err *e)
{
	PGresult *r = pg_exec(c, id, sql, a, e);
	if (!r)
		return -(int)e->code;
	if (changes)
		*changes = pg_changes(r);
	PQclear(r);
	return 0;
}

/* ---- owners ---- */

static int insert(struct pg_conn *w, const char *owner, const char *display_name, int64_t now,
                  struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	pg_arg_text(&a, display_name);
	pg_arg_i64(&a, now);
	return run(w, PQ_OWNER_INSERT,
	           "INSERT INTO owners(id, display_name, create_time) "
	           "VALUES ($1, coalesce($2, ''), $3) ON CONFLICT (id) DO NOTHING",
	           &a, NULL, e);
}

int pg_owner_ensure(struct store_conn *w, const char *owner, int64_t now, struct err *e)
{
	return insert(PGC(w), owner, NULL, now, e);
}

static int owner_exists(struct pg_conn *c, const char *owner, int *exists, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	PGresult *r = pg_exec(c, PQ_OWNER_EXISTS, "SELECT 1 FROM owners WHERE id = $1", &a, e);
	if (!r)
		return -(int)e->code;
	*exists = PQntuples(r) > 0;
	PQclear(r);
	return 0;
}

int pg_owner_insert(struct store_conn *w, const char *owner, const char *display_name, int64_t now,
                    struct err *e)
{
	int exists;
	int rc = owner_exists(PGC(w), owner, &exists, e);
	if (rc < 0)
		return rc;
	if (exists)
		return err_set(e, ERR_ALREADY_EXISTS, "owner owners/%s already exists", owner);
	int64_t n = 0;
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	pg_arg_text(&a, display_name);
	pg_arg_i64(&a, now);
	rc = run(PGC(w), PQ_OWNER_INSERT,
	         "INSERT INTO owners(id, display_name, create_time) "
	         "VALUES ($1, coalesce($2, ''), $3) ON CONFLICT (id) DO NOTHING",
	         &a, &n, e);
	if (rc == 0 && n == 0) /* another daemon made it meanwhile */
		return err_set(e, ERR_ALREADY_EXISTS, "owner owners/%s already exists", owner);
	return rc;
}

static int read_owner(const PGresult *r, int i, void *elem)
{
	struct store_owner *o = elem;
	int oom = 0;
	o->id = pg_dup(r, i, 0, &oom);
	o->display_name = pg_dup(r, i, 1, &oom);
	o->create_time = pg_i64(r, i, 2);
	return oom;
}

int pg_owner_get(struct store_conn *c, const char *owner, struct store_owner *out, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	PGresult *r =
	    pg_exec(PGC(c), PQ_OWNER_GET,
	            "SELECT id, display_name, create_time FROM owners WHERE id = $1", &a, e);
	if (!r)
		return -(int)e->code;
	int rc = 0;
	if (PQntuples(r) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "owner owners/%s not found", owner);
	else if (read_owner(r, 0, out)) {
		store_owner_clear(out);
		rc = err_set(e, ERR_INTERNAL, "store: out of memory");
	}
	PQclear(r);
	return rc;
}

int pg_owner_list(struct store_conn *c, const char *after, int limit, struct store_owner **out,
                  size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	struct pg_args a = {0};
	pg_arg_text(&a, after ? after : "");
	pg_arg_i64(&a, limit > 0 ? limit : INT64_MAX);
	PGresult *r = pg_exec(PGC(c), PQ_OWNER_LIST,
	                      "SELECT id, display_name, create_time FROM owners "
	                      "WHERE id > $1 ORDER BY id LIMIT $2",
	                      &a, e);
	if (!r)
		return -(int)e->code;
	void *rows = NULL;
	int rc = pg_rows(r, sizeof(**out), read_owner, &rows, n, e);
	*out = rows;
	if (rc != 0) {
		store_owners_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int pg_owner_delete(struct store_conn *w, const char *owner, struct err *e)
{
	int exists;
	int rc = owner_exists(PGC(w), owner, &exists, e);
	if (rc < 0)
		return rc;
	if (!exists)
		return err_set(e, ERR_NOT_FOUND, "owner owners/%s not found", owner);
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	PGresult *r = pg_exec(PGC(w), PQ_OWNER_COUNT_STUDIES,
	                      "SELECT count(*) FROM studies WHERE owner = $1", &a, e);
	if (!r)
		return -(int)e->code;
	int64_t studies = pg_i64(r, 0, 0);
	PQclear(r);
	if (studies > 0)
		return err_set(e, ERR_FAILED_PRECONDITION,
		               "owner owners/%s still has %lld studies; delete them first", owner,
		               (long long)studies);
	return run(PGC(w), PQ_OWNER_DELETE, "DELETE FROM owners WHERE id = $1", &a, NULL, e);
}

int pg_owner_quota_get(struct store_conn *c, const char *owner, struct store_quota *out,
                       struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	PGresult *r = pg_exec(PGC(c), PQ_OWNER_QUOTA_GET,
	                      "SELECT max_studies, max_trials_per_study, max_active_trials, "
	                      "requests_per_second, max_api_keys FROM owners WHERE id = $1",
	                      &a, e);
	if (!r)
		return -(int)e->code;
	int rc = 0;
	if (PQntuples(r) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, "owner owners/%s not found", owner);
	} else {
		out->max_studies = pg_i64(r, 0, 0);
		out->max_trials_per_study = pg_i64(r, 0, 1);
		out->max_active_trials = pg_i64(r, 0, 2);
		out->requests_per_second = pg_f64(r, 0, 3);
		out->max_api_keys = pg_i64(r, 0, 4);
	}
	PQclear(r);
	return rc;
}

int pg_owner_active_count(struct store_conn *c, const char *owner, int64_t *n, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	PGresult *r =
	    pg_exec(PGC(c), PQ_OWNER_ACTIVE_COUNT,
	            "SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_rowid "
	            "WHERE s.owner = $1 AND t.state = 2",
	            &a, e);
	if (!r)
		return -(int)e->code;
	*n = pg_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

int pg_owner_update(struct store_conn *w, const char *owner, const char *display_name,
                    const struct store_quota *q, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	pg_arg_text(&a, display_name);
	if (q) {
		pg_arg_i64(&a, q->max_studies);
		pg_arg_i64(&a, q->max_trials_per_study);
		pg_arg_i64(&a, q->max_active_trials);
		pg_arg_f64(&a, q->requests_per_second);
		pg_arg_i64(&a, q->max_api_keys);
	} else {
		for (int i = 0; i < 5; i++)
			pg_arg_text(&a, NULL);
	}
	int64_t n = 0;
	int rc = run(PGC(w), PQ_OWNER_UPDATE,
	             "UPDATE owners SET display_name = coalesce($2, display_name), "
	             "max_studies = coalesce($3::bigint, max_studies), "
	             "max_trials_per_study = coalesce($4::bigint, max_trials_per_study), "
	             "max_active_trials = coalesce($5::bigint, max_active_trials), "
	             "requests_per_second = coalesce($6::float8, requests_per_second), "
	             "max_api_keys = coalesce($7::bigint, max_api_keys) WHERE id = $1",
	             &a, &n, e);
	if (rc == 0 && n == 0)
		return err_set(e, ERR_NOT_FOUND, "owner owners/%s not found", owner);
	return rc;
}

int pg_owner_delete_all(struct store_conn *w, const char *owner, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	int rc = run(PGC(w), PQ_OWNER_DELETE_STUDIES, "DELETE FROM studies WHERE owner = $1", &a,
	             NULL, e);
	return rc < 0 ? rc : pg_owner_delete(w, owner, e);
}

/* ---- API keys ---- */

int pg_key_insert(struct store_conn *w, const struct store_key *k, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, k->keyid);
	pg_arg_text(&a, k->owner);
	pg_arg_i64(&a, k->role);
	pg_arg_text(&a, k->display_name ? k->display_name : "");
	pg_arg_bin(&a, k->salt, sizeof(k->salt));
	pg_arg_bin(&a, k->hash, sizeof(k->hash));
	pg_arg_i64(&a, k->create_time);
	int64_t n = 0;
	int rc = run(PGC(w), PQ_KEY_INSERT,
	             "INSERT INTO api_keys(keyid, owner, role, display_name, salt, hash, "
	             "create_time) VALUES ($1, $2, $3, $4, $5, $6, $7) "
	             "ON CONFLICT (keyid) DO NOTHING",
	             &a, &n, e);
	if (rc == 0 && n == 0)
		return err_set(e, ERR_ABORTED, "API key id %s already taken; try again", k->keyid);
	return rc;
}

#define KEY_COLUMNS                                                                 \
	"k.keyid, k.owner, k.role, k.display_name, k.salt, k.hash, k.create_time, " \
	"k.revoke_time, k.seq"

/* A bytea column of exactly n bytes into out (left zero otherwise). */
static void bytea_col(const PGresult *r, int i, int col, unsigned char *out, size_t n)
{
	size_t got = 0;
	unsigned char *v = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, col), &got);
	if (v && got == n)
		memcpy(out, v, n);
	PQfreemem(v);
}

static int read_key(const PGresult *r, int i, void *elem)
{
	struct store_key *k = elem;
	int oom = 0;
	memset(k, 0, sizeof(*k));
	snprintf(k->keyid, sizeof(k->keyid), "%s", PQgetvalue(r, i, 0));
	k->owner = pg_dup(r, i, 1, &oom);
	k->role = (int)pg_i64(r, i, 2);
	k->display_name = pg_dup(r, i, 3, &oom);
	bytea_col(r, i, 4, k->salt, sizeof(k->salt));
	bytea_col(r, i, 5, k->hash, sizeof(k->hash));
	k->create_time = pg_i64(r, i, 6);
	k->revoke_time = pg_i64(r, i, 7);
	k->seq = pg_i64(r, i, 8);
	return oom;
}

int pg_key_get(struct store_conn *c, const char *keyid, struct store_key *out, double *owner_rps,
               struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, keyid);
	PGresult *r = pg_exec(PGC(c), PQ_KEY_GET,
	                      "SELECT " KEY_COLUMNS ", o.requests_per_second "
	                      "FROM api_keys k JOIN owners o ON o.id = k.owner WHERE k.keyid = $1",
	                      &a, e);
	if (!r)
		return -(int)e->code;
	int rc = 0;
	if (PQntuples(r) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, "API key %s not found", keyid);
	} else if (read_key(r, 0, out)) {
		store_key_clear(out);
		rc = err_set(e, ERR_INTERNAL, "store: out of memory");
	} else if (owner_rps) {
		*owner_rps = pg_f64(r, 0, 9);
	}
	PQclear(r);
	return rc;
}

int pg_key_list(struct store_conn *c, const char *owner, int64_t after, int limit,
                struct store_key **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	pg_arg_i64(&a, after);
	pg_arg_i64(&a, limit > 0 ? limit : INT64_MAX);
	PGresult *r = pg_exec(PGC(c), PQ_KEY_LIST,
	                      "SELECT " KEY_COLUMNS " FROM api_keys k "
	                      "WHERE k.owner = $1 AND k.seq > $2 ORDER BY k.seq LIMIT $3",
	                      &a, e);
	if (!r)
		return -(int)e->code;
	void *rows = NULL;
	int rc = pg_rows(r, sizeof(**out), read_key, &rows, n, e);
	*out = rows;
	if (rc != 0) {
		store_keys_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int pg_key_revoke(struct store_conn *w, const char *owner, const char *keyid, int64_t now,
                  struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	pg_arg_text(&a, keyid);
	pg_arg_i64(&a, now > 0 ? now : 1);
	int64_t n = 0;
	int rc = run(PGC(w), PQ_KEY_REVOKE,
	             "UPDATE api_keys SET revoke_time = CASE WHEN revoke_time = 0 THEN $3 "
	             "ELSE revoke_time END WHERE owner = $1 AND keyid = $2",
	             &a, &n, e);
	if (rc == 0 && n == 0)
		return err_set(e, ERR_NOT_FOUND, "API key owners/%s/apiKeys/%s not found", owner,
		               keyid);
	return rc;
}

/* ---- audit log ---- */

int pg_audit_prune(struct store_conn *w, const char *owner, int64_t keep, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, owner);
	pg_arg_i64(&a, keep > 0 ? keep : 0);
	return run(PGC(w), PQ_AUDIT_PRUNE,
	           "DELETE FROM audit_log WHERE owner = $1 AND id <= "
	           "(SELECT id FROM audit_log WHERE owner = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
	           &a, NULL, e);
}

#define AUDIT_INSERT                                                                          \
	"INSERT INTO audit_log(time, keyid, owner, method, path, status, error) VALUES ($1, " \
	"$2, $3, $4, $5, $6, $7) RETURNING id"

static void audit_args(const struct store_audit *x, struct pg_args *a)
{
	pg_arg_i64(a, x->time);
	pg_arg_text(a, x->keyid ? x->keyid : "");
	pg_arg_text(a, x->owner ? x->owner : "");
	pg_arg_text(a, x->method ? x->method : "");
	pg_arg_text(a, x->path ? x->path : "");
	pg_arg_i64(a, x->status);
	pg_arg_text(a, x->error ? x->error : "");
}

/* Prunes owner's oldest entries when it has too many (in w's transaction). */
static int audit_prune_due(struct pg_conn *w, const char *owner, struct err *e)
{
	struct pg_args b = {0};
	pg_arg_text(&b, owner);
	PGresult *r =
	    pg_exec(w, PQ_AUDIT_COUNT, "SELECT count(*) FROM audit_log WHERE owner = $1", &b, e);
	if (!r)
		return -(int)e->code;
	int64_t n = pg_i64(r, 0, 0);
	PQclear(r);
	if (n > STORE_AUDIT_KEEP + AUDIT_PRUNE_BATCH)
		return pg_audit_prune(CONN(w), owner, STORE_AUDIT_KEEP, e);
	return 0;
}

/* Inserts x in w's transaction; *id gets its row id. */
static int audit_insert(struct pg_conn *w, const struct store_audit *x, int64_t *id, struct err *e)
{
	struct pg_args a = {0};
	audit_args(x, &a);
	PGresult *r = pg_exec(w, PQ_AUDIT_INSERT, AUDIT_INSERT, &a, e);
	if (!r)
		return -(int)e->code;
	*id = pg_i64(r, 0, 0);
	PQclear(r);
	if (*id % AUDIT_PRUNE_BATCH != 0)
		return 0;
	return audit_prune_due(w, x->owner ? x->owner : "", e);
}

int pg_audit_insert(struct store_conn *w, const struct store_audit *a, struct err *e)
{
	int64_t id;
	return audit_insert(PGC(w), a, &id, e);
}

int pg_audit_commit(struct pg_conn *w, int64_t *id, struct err *e)
{
	struct pg_args a = {0};
	audit_args(&w->audit, &a);
	PGresult *r = pg_exec_commit(w, PQ_AUDIT_INSERT, AUDIT_INSERT, &a, e);
	if (!r)
		return -(int)e->code;
	*id = pg_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

void pg_audit_after_commit(struct pg_conn *c, const struct store_audit *a, int64_t id)
{
	if (id % AUDIT_PRUNE_BATCH != 0)
		return;
	/* Its own transaction: the entry is committed already; a failure
	 * here only leaves the pruning to a later check. */
	struct err e;
	if (pg_simple(c, "BEGIN", &e) != 0)
		return;
	if (audit_prune_due(c, a->owner ? a->owner : "", &e) == 0)
		pg_simple(c, "COMMIT", &e);
	else if (!c->broken)
		pg_simple(c, "ROLLBACK", NULL);
}

int pg_audit_add_count(struct store *st, int64_t id, int64_t n, int64_t last, struct err *e)
{
	struct store_conn *w = pg_write_begin(st, e);
	if (!w)
		return -(int)e->code;
	struct pg_args a = {0};
	pg_arg_i64(&a, id);
	pg_arg_i64(&a, n);
	pg_arg_i64(&a, last);
	int rc = run(PGC(w), PQ_AUDIT_ADD_COUNT,
	             "UPDATE audit_log SET count = count + $2, "
	             "last_time = greatest(last_time, $3) WHERE id = $1",
	             &a, NULL, e);
	if (rc < 0) {
		pg_write_rollback(w);
		return rc;
	}
	return pg_write_commit(w, e);
}

int pg_audit_record(struct store *st, int64_t id, const struct store_audit *x, int64_t *written,
                    struct err *e)
{
	if (written)
		*written = 0;
	struct store_conn *w = pg_write_begin(st, e);
	if (!w)
		return -(int)e->code;
	int64_t changed = 0;
	int rc = 0;
	if (id > 0) {
		struct pg_args a = {0};
		pg_arg_i64(&a, id);
		pg_arg_i64(&a, x->status);
		pg_arg_text(&a, x->error ? x->error : "");
		rc = run(PGC(w), PQ_AUDIT_UPDATE,
		         "UPDATE audit_log SET status = $2, error = $3 WHERE id = $1", &a, &changed,
		         e);
	}
	if (rc == 0 && !changed)
		rc = audit_insert(PGC(w), x, &id, e);
	if (rc < 0) {
		pg_write_rollback(w);
		return rc;
	}
	if ((rc = pg_write_commit(w, e)) == 0 && written)
		*written = id;
	return rc;
}

static int read_audit(const PGresult *r, int i, void *elem)
{
	struct store_audit *x = elem;
	int oom = 0;
	x->id = pg_i64(r, i, 0);
	x->time = pg_i64(r, i, 1);
	x->keyid = pg_dup(r, i, 2, &oom);
	x->owner = pg_dup(r, i, 3, &oom);
	x->method = pg_dup(r, i, 4, &oom);
	x->path = pg_dup(r, i, 5, &oom);
	x->status = (int)pg_i64(r, i, 6);
	x->error = pg_dup(r, i, 7, &oom);
	x->count = pg_i64(r, i, 8);
	x->last_time = pg_i64(r, i, 9);
	return oom;
}

int pg_audit_list(struct store_conn *c, const char *owner, int64_t before, int limit,
                  struct store_audit **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	struct pg_args a = {0};
	pg_arg_i64(&a, before > 0 ? before : INT64_MAX);
	pg_arg_i64(&a, limit > 0 ? limit : INT64_MAX);
	if (owner)
		pg_arg_text(&a, owner);
	PGresult *r =
	    owner ? pg_exec(PGC(c), PQ_AUDIT_LIST_OWNER,
	                    "SELECT id, time, keyid, owner, method, path, status, error, count, "
	                    "last_time FROM audit_log WHERE owner = $3 AND id < $1 "
	                    "ORDER BY id DESC LIMIT $2",
	                    &a, e)
	          : pg_exec(PGC(c), PQ_AUDIT_LIST,
	                    "SELECT id, time, keyid, owner, method, path, status, error, count, "
	                    "last_time FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2",
	                    &a, e);
	if (!r)
		return -(int)e->code;
	void *rows = NULL;
	int rc = pg_rows(r, sizeof(**out), read_audit, &rows, n, e);
	*out = rows;
	if (rc != 0) {
		store_audits_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}
