/* store_teams.c: what multi-team adds to the store: owner quotas, API keys
 * (salt and hash only) and the audit log. The quotas themselves are
 * enforced by triggers (migrations/0002_multiteam.sql), inside the
 * transaction of the change. */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

/* An owner's oldest audit entries are dropped in batches of this many once
 * it has STORE_AUDIT_KEEP + AUDIT_PRUNE_BATCH, so that a flood of requests
 * cannot fill the disk and pruning costs little per entry. */
#define AUDIT_PRUNE_BATCH 1000

/* ---- owners: quotas, display name, forced delete ---- */

int sqlite_owner_quota_get(struct store_conn *c, const char *owner, struct store_quota *out,
                           struct err *e)
{
	sqlite3_stmt *s = store_stmt(c, ST_OWNER_QUOTA_GET,
	                             "SELECT max_studies, max_trials_per_study, max_active_trials, "
	                             "requests_per_second, max_api_keys FROM owners WHERE id = ?",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	int rc = store_step(c, s, e);
	if (rc == SQLITE_ROW) {
		out->max_studies = sqlite3_column_int64(s, 0);
		out->max_trials_per_study = sqlite3_column_int64(s, 1);
		out->max_active_trials = sqlite3_column_int64(s, 2);
		out->requests_per_second = sqlite3_column_double(s, 3);
		out->max_api_keys = sqlite3_column_int64(s, 4);
	} else if (rc == SQLITE_DONE) {
		rc = err_set(e, ERR_NOT_FOUND, "owner owners/%s not found", owner);
	}
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_owner_active_count(struct store_conn *c, const char *owner, int64_t *n, struct err *e)
{
	*n = 0;
	sqlite3_stmt *s = store_stmt(c, ST_OWNER_ACTIVE_COUNT,
	                             "SELECT count(*) FROM trials t JOIN studies s ON "
	                             "s.id = t.study_rowid WHERE s.owner = ? AND t.state = 2",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	int rc = store_step(c, s, e);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_owner_update(struct store_conn *w, const char *owner, const char *display_name,
                        const struct store_quota *q, struct err *e)
{
	sqlite3_stmt *s = store_stmt(w, ST_OWNER_UPDATE,
	                             "UPDATE owners SET display_name = coalesce(?2, display_name), "
	                             "max_studies = coalesce(?3, max_studies), "
	                             "max_trials_per_study = coalesce(?4, max_trials_per_study), "
	                             "max_active_trials = coalesce(?5, max_active_trials), "
	                             "requests_per_second = coalesce(?6, requests_per_second), "
	                             "max_api_keys = coalesce(?7, max_api_keys) WHERE id = ?1",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	store_bind_text(s, 2, display_name);
	if (q) {
		sqlite3_bind_int64(s, 3, q->max_studies);
		sqlite3_bind_int64(s, 4, q->max_trials_per_study);
		sqlite3_bind_int64(s, 5, q->max_active_trials);
		sqlite3_bind_double(s, 6, q->requests_per_second);
		sqlite3_bind_int64(s, 7, q->max_api_keys);
	}
	int rc = store_step(w, s, e);
	store_done(s);
	if (rc < 0)
		return rc;
	if (sqlite3_changes(w->db) == 0)
		return err_set(e, ERR_NOT_FOUND, "owner owners/%s not found", owner);
	return 0;
}

int sqlite_owner_delete_all(struct store_conn *w, const char *owner, struct err *e)
{
	/* Trials, measurements and operations go with their studies (ON
	 * DELETE CASCADE), keys with their owner. */
	sqlite3_stmt *s =
	    store_stmt(w, ST_OWNER_DELETE_STUDIES, "DELETE FROM studies WHERE owner = ?", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	int rc = store_step(w, s, e);
	store_done(s);
	if (rc < 0)
		return rc;
	return sqlite_owner_delete(w, owner, e);
}

/* ---- API keys ---- */

int sqlite_key_insert(struct store_conn *w, const struct store_key *k, struct err *e)
{
	sqlite3_stmt *s = store_stmt(w, ST_KEY_INSERT,
	                             "INSERT INTO api_keys(keyid, owner, role, display_name, salt, "
	                             "hash, create_time) VALUES (?, ?, ?, ?, ?, ?, ?) "
	                             "ON CONFLICT(keyid) DO NOTHING",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, k->keyid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, k->owner, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 3, k->role);
	sqlite3_bind_text(s, 4, k->display_name ? k->display_name : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(s, 5, k->salt, sizeof(k->salt), SQLITE_TRANSIENT);
	sqlite3_bind_blob(s, 6, k->hash, sizeof(k->hash), SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 7, k->create_time);
	int rc = store_step(w, s, e);
	store_done(s);
	if (rc < 0)
		return rc;
	/* 64 random bits: a clash is a once-in-the-universe event, but it
	 * must not overwrite another key. */
	if (sqlite3_changes(w->db) == 0)
		return err_set(e, ERR_ABORTED, "API key id %s already taken; try again", k->keyid);
	return 0;
}

static int read_key(sqlite3_stmt *s, void *elem)
{
	struct store_key *k = elem;
	int oom = 0;
	const unsigned char *id = sqlite3_column_text(s, 0);
	size_t n = id ? strlen((const char *)id) : 0;
	memset(k, 0, sizeof(*k));
	if (n >= sizeof(k->keyid))
		n = sizeof(k->keyid) - 1;
	if (id)
		memcpy(k->keyid, id, n);
	k->keyid[n] = '\0';
	k->owner = store_col_dup(s, 1, &oom);
	k->role = sqlite3_column_int(s, 2);
	k->display_name = store_col_dup(s, 3, &oom);
	if (sqlite3_column_bytes(s, 4) == (int)sizeof(k->salt))
		memcpy(k->salt, sqlite3_column_blob(s, 4), sizeof(k->salt));
	if (sqlite3_column_bytes(s, 5) == (int)sizeof(k->hash))
		memcpy(k->hash, sqlite3_column_blob(s, 5), sizeof(k->hash));
	k->create_time = sqlite3_column_int64(s, 6);
	k->revoke_time = sqlite3_column_int64(s, 7);
	k->seq = sqlite3_column_int64(s, 8);
	return oom;
}

#define KEY_COLUMNS                                                                 \
	"k.keyid, k.owner, k.role, k.display_name, k.salt, k.hash, k.create_time, " \
	"k.revoke_time, k.rowid"

int sqlite_key_get(struct store_conn *c, const char *keyid, struct store_key *out,
                   double *owner_rps, struct err *e)
{
	sqlite3_stmt *s = store_stmt(c, ST_KEY_GET,
	                             "SELECT " KEY_COLUMNS ", o.requests_per_second "
	                             "FROM api_keys k JOIN owners o ON o.id = k.owner "
	                             "WHERE k.keyid = ?",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, keyid, -1, SQLITE_TRANSIENT);
	int rc = store_step(c, s, e);
	if (rc == SQLITE_DONE) {
		rc = err_set(e, ERR_NOT_FOUND, "API key %s not found", keyid);
	} else if (rc == SQLITE_ROW) {
		if (read_key(s, out)) {
			store_key_clear(out);
			rc = err_set(e, ERR_INTERNAL, "store: out of memory");
		} else if (owner_rps) {
			*owner_rps = sqlite3_column_double(s, 9);
		}
	}
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_key_list(struct store_conn *c, const char *owner, int64_t after, int limit,
                    struct store_key **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s =
	    store_stmt(c, ST_KEY_LIST,
	               "SELECT " KEY_COLUMNS " FROM api_keys k "
	               "WHERE k.owner = ?1 AND k.rowid > ?2 ORDER BY k.rowid LIMIT ?3",
	               e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, after);
	sqlite3_bind_int(s, 3, limit > 0 ? limit : -1);
	void *rows = NULL;
	int rc = store_rows(c, s, sizeof(**out), read_key, &rows, n, e);
	*out = rows;
	if (rc < 0) {
		store_keys_free(*out, *n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	return 0;
}

int sqlite_key_revoke(struct store_conn *w, const char *owner, const char *keyid, int64_t now,
                      struct err *e)
{
	/* Revoking twice keeps the first time. */
	sqlite3_stmt *s = store_stmt(w, ST_KEY_REVOKE,
	                             "UPDATE api_keys SET revoke_time = CASE WHEN revoke_time = 0 "
	                             "THEN ?3 ELSE revoke_time END WHERE owner = ?1 AND keyid = ?2",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, keyid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, now > 0 ? now : 1);
	int rc = store_step(w, s, e);
	store_done(s);
	if (rc < 0)
		return rc;
	if (sqlite3_changes(w->db) == 0)
		return err_set(e, ERR_NOT_FOUND, "API key owners/%s/apiKeys/%s not found", owner,
		               keyid);
	return 0;
}

/* ---- audit log ---- */

/* Entries owner has now (audit_counts, kept by triggers). */
static int audit_owner_count(struct store_conn *w, const char *owner, int64_t *n, struct err *e)
{
	sqlite3_stmt *s =
	    store_stmt(w, ST_AUDIT_OWNER_COUNT, "SELECT n FROM audit_counts WHERE owner = ?", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	int rc = store_step(w, s, e);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_audit_prune(struct store_conn *w, const char *owner, int64_t keep, struct err *e)
{
	/* The owner's (keep + 1)-th newest entry and all older ones go; the
	 * index audit_log(owner, id) finds it without reading the others. */
	sqlite3_stmt *s = store_stmt(w, ST_AUDIT_PRUNE,
	                             "DELETE FROM audit_log WHERE owner = ?1 AND id <= "
	                             "(SELECT id FROM audit_log WHERE owner = ?1 "
	                             "ORDER BY id DESC LIMIT 1 OFFSET ?2)",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, keep > 0 ? keep : 0);
	int rc = store_step(w, s, e);
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_audit_insert(struct store_conn *w, const struct store_audit *a, struct err *e)
{
	const char *owner = a->owner ? a->owner : "";
	sqlite3_stmt *s = store_stmt(w, ST_AUDIT_INSERT,
	                             "INSERT INTO audit_log(time, keyid, owner, method, path, "
	                             "status, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, a->time);
	sqlite3_bind_text(s, 2, a->keyid ? a->keyid : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, owner, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, a->method ? a->method : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 5, a->path ? a->path : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 6, a->status);
	sqlite3_bind_text(s, 7, a->error ? a->error : "", -1, SQLITE_TRANSIENT);
	int rc = store_step(w, s, e);
	store_done(s);
	if (rc < 0)
		return rc;
	/* The trigger's UPDATE of audit_counts ran after the INSERT: the
	 * entry's own row id is what the caller reads afterwards. */
	sqlite3_int64 id = sqlite3_last_insert_rowid(w->db);
	int64_t n;
	if ((rc = audit_owner_count(w, owner, &n, e)) == 0 &&
	    n > STORE_AUDIT_KEEP + AUDIT_PRUNE_BATCH)
		rc = sqlite_audit_prune(w, owner, STORE_AUDIT_KEEP, e);
	sqlite3_set_last_insert_rowid(w->db, id);
	return rc;
}

int sqlite_audit_add_count(struct store *st, int64_t id, int64_t n, int64_t last, struct err *e)
{
	struct store_conn *w = sqlite_write_begin(st, e);
	if (!w)
		return -(int)e->code;
	sqlite3_stmt *s = store_stmt(w, ST_AUDIT_ADD_COUNT,
	                             "UPDATE audit_log SET count = count + ?2, "
	                             "last_time = max(last_time, ?3) WHERE id = ?1",
	                             e);
	if (!s) {
		sqlite_write_rollback(w);
		return -ERR_INTERNAL;
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, n);
	sqlite3_bind_int64(s, 3, last);
	int rc = store_step(w, s, e);
	store_done(s);
	if (rc < 0) {
		sqlite_write_rollback(w);
		return rc;
	}
	return sqlite_write_commit(w, e);
}

int sqlite_audit_record(struct store *st, int64_t id, const struct store_audit *a, int64_t *written,
                        struct err *e)
{
	if (written)
		*written = 0;
	struct store_conn *w = sqlite_write_begin(st, e);
	if (!w)
		return -(int)e->code;
	int rc = 0, changed = 0;
	if (id > 0) {
		sqlite3_stmt *s =
		    store_stmt(w, ST_AUDIT_UPDATE,
		               "UPDATE audit_log SET status = ?2, error = ?3 WHERE id = ?1", e);
		if (!s) {
			sqlite_write_rollback(w);
			return -ERR_INTERNAL;
		}
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int(s, 2, a->status);
		sqlite3_bind_text(s, 3, a->error ? a->error : "", -1, SQLITE_TRANSIENT);
		rc = store_step(w, s, e);
		store_done(s);
		changed = rc >= 0 && sqlite3_changes(w->db) > 0;
	}
	if (rc >= 0 && !changed) {
		rc = sqlite_audit_insert(w, a, e);
		id = sqlite3_last_insert_rowid(w->db);
	}
	if (rc < 0) {
		sqlite_write_rollback(w);
		return rc;
	}
	if ((rc = sqlite_write_commit(w, e)) == 0 && written)
		*written = id;
	return rc;
}

static int read_audit(sqlite3_stmt *s, void *elem)
{
	struct store_audit *a = elem;
	int oom = 0;
	a->id = sqlite3_column_int64(s, 0);
	a->time = sqlite3_column_int64(s, 1);
	a->keyid = store_col_dup(s, 2, &oom);
	a->owner = store_col_dup(s, 3, &oom);
	a->method = store_col_dup(s, 4, &oom);
	a->path = store_col_dup(s, 5, &oom);
	a->status = sqlite3_column_int(s, 6);
	a->error = store_col_dup(s, 7, &oom);
	a->count = sqlite3_column_int64(s, 8);
	a->last_time = sqlite3_column_int64(s, 9);
	return oom;
}

int sqlite_audit_list(struct store_conn *c, const char *owner, int64_t before, int limit,
                      struct store_audit **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s =
	    owner ? store_stmt(c, ST_AUDIT_LIST_OWNER,
	                       "SELECT id, time, keyid, owner, method, path, status, error, "
	                       "count, last_time FROM audit_log WHERE owner = ?3 AND id < ?1 ORDER "
	                       "BY id DESC "
	                       "LIMIT ?2",
	                       e)
	          : store_stmt(
	                c, ST_AUDIT_LIST,
	                "SELECT id, time, keyid, owner, method, path, status, error, "
	                "count, last_time FROM audit_log WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
	                e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int(s, 2, limit > 0 ? limit : -1);
	if (owner)
		sqlite3_bind_text(s, 3, owner, -1, SQLITE_TRANSIENT);
	void *rows = NULL;
	int rc = store_rows(c, s, sizeof(**out), read_audit, &rows, n, e);
	*out = rows;
	if (rc < 0) {
		store_audits_free(*out, *n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	return 0;
}

/* ---- server secrets ---- */

/* 1 with the secret in out, 0 when there is none yet, < 0 on an error. */
static int secret_get(struct store_conn *c, const char *name, size_t len, unsigned char *out,
                      struct err *e)
{
	sqlite3_stmt *s =
	    store_stmt(c, ST_SECRET_GET, "SELECT value FROM secrets WHERE name = ?", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	int rc = store_step(c, s, e);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == (int)len) {
		memcpy(out, sqlite3_column_blob(s, 0), len);
		rc = 1;
	} else if (rc == SQLITE_ROW) {
		rc = err_set(e, ERR_INTERNAL, "store: secret %s is not %zu bytes", name, len);
	} else if (rc >= 0) {
		rc = 0;
	}
	store_done(s);
	return rc;
}

/* Read first, so that a database that cannot be written (served read-only,
 * docs/admin.md) still starts when its secret exists. */
int sqlite_secret(struct store *st, const char *name, const unsigned char *fresh, size_t len,
                  unsigned char *out, struct err *e)
{
	struct store_conn *r = sqlite_read(st, e);
	if (!r)
		return -(int)e->code;
	int rc = secret_get(r, name, len, out, e);
	sqlite_release(r);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	struct store_conn *w = sqlite_write_begin(st, e);
	if (!w)
		return -(int)e->code;
	sqlite3_stmt *s = store_stmt(w, ST_SECRET_INSERT,
	                             "INSERT INTO secrets(name, value) VALUES (?, ?) "
	                             "ON CONFLICT(name) DO NOTHING",
	                             e);
	rc = s ? 0 : -ERR_INTERNAL;
	if (s) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(s, 2, fresh, (int)len, SQLITE_TRANSIENT);
		rc = store_step(w, s, e);
		store_done(s);
	}
	if (rc >= 0)
		rc = secret_get(w, name, len, out, e) == 1 ? 0 : -ERR_INTERNAL;
	if (rc < 0) {
		sqlite_write_rollback(w);
		return rc;
	}
	return sqlite_write_commit(w, e);
}
