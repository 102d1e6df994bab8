/* store_owners.c: the owners table (teams). The admin creates owners; a
 * study can only be made under an existing one. sqlite_owner_ensure is for
 * tests and tools that fill a store directly. Quotas, keys and the audit
 * log are in store_teams.c. */
#include "store_internal.h"

#include <stdlib.h>

/* Inserts owner unless it exists (display_name NULL: empty). */
static int insert(struct store_conn *w, const char *owner, const char *display_name, int64_t now,
                  struct err *e)
{
	sqlite3_stmt *s = store_stmt(w, ST_OWNER_INSERT,
	                             "INSERT INTO owners(id, display_name, create_time) "
	                             "VALUES (?1, coalesce(?2, ''), ?3) ON CONFLICT(id) DO NOTHING",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	store_bind_text(s, 2, display_name);
	sqlite3_bind_int64(s, 3, now);
	int rc = store_step(w, s, e);
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_owner_ensure(struct store_conn *w, const char *owner, int64_t now, struct err *e)
{
	return insert(w, owner, NULL, now, e);
}

static int owner_exists(struct store_conn *c, const char *owner, int *exists, struct err *e)
{
	sqlite3_stmt *s = store_stmt(c, ST_OWNER_EXISTS, "SELECT 1 FROM owners WHERE id = ?", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	int rc = store_step(c, s, e);
	store_done(s);
	if (rc < 0)
		return rc;
	*exists = rc == SQLITE_ROW;
	return 0;
}

int sqlite_owner_insert(struct store_conn *w, const char *owner, const char *display_name,
                        int64_t now, struct err *e)
{
	int exists;
	int rc = owner_exists(w, owner, &exists, e);
	if (rc < 0)
		return rc;
	if (exists)
		return err_set(e, ERR_ALREADY_EXISTS, "owner owners/%s already exists", owner);
	return insert(w, owner, display_name, now, e);
}

static int read_owner(sqlite3_stmt *s, void *elem)
{
	struct store_owner *o = elem;
	int oom = 0;
	o->id = store_col_dup(s, 0, &oom);
	o->display_name = store_col_dup(s, 1, &oom);
	o->create_time = sqlite3_column_int64(s, 2);
	return oom;
}

int sqlite_owner_get(struct store_conn *c, const char *owner, struct store_owner *out,
                     struct err *e)
{
	sqlite3_stmt *s = store_stmt(
	    c, ST_OWNER_GET, "SELECT id, display_name, create_time FROM owners WHERE id = ?", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	int rc = store_step(c, s, e);
	if (rc == SQLITE_DONE)
		rc = err_set(e, ERR_NOT_FOUND, "owner owners/%s not found", owner);
	else if (rc == SQLITE_ROW && read_owner(s, out)) {
		store_owner_clear(out);
		rc = err_set(e, ERR_INTERNAL, "store: out of memory");
	}
	store_done(s);
	return rc < 0 ? rc : 0;
}

int sqlite_owner_list(struct store_conn *c, const char *after, int limit, struct store_owner **out,
                      size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s = store_stmt(c, ST_OWNER_LIST,
	                             "SELECT id, display_name, create_time FROM owners "
	                             "WHERE id > ?1 ORDER BY id LIMIT ?2",
	                             e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, after ? after : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, limit > 0 ? limit : -1);
	void *rows = NULL;
	int rc = store_rows(c, s, sizeof(**out), read_owner, &rows, n, e);
	*out = rows;
	if (rc < 0) {
		store_owners_free(*out, *n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	return 0;
}

int sqlite_owner_delete(struct store_conn *w, const char *owner, struct err *e)
{
	int exists;
	int rc = owner_exists(w, owner, &exists, e);
	if (rc < 0)
		return rc;
	if (!exists)
		return err_set(e, ERR_NOT_FOUND, "owner owners/%s not found", owner);
	sqlite3_stmt *s = store_stmt(w, ST_OWNER_COUNT_STUDIES,
	                             "SELECT count(*) FROM studies WHERE owner = ?", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	rc = store_step(w, s, e);
	int64_t studies = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	store_done(s);
	if (rc < 0)
		return rc;
	if (studies > 0)
		return err_set(e, ERR_FAILED_PRECONDITION,
		               "owner owners/%s still has %lld studies; delete them first", owner,
		               (long long)studies);
	s = store_stmt(w, ST_OWNER_DELETE, "DELETE FROM owners WHERE id = ?", e);
	if (!s)
		return -ERR_INTERNAL;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT);
	rc = store_step(w, s, e);
	store_done(s);
	return rc < 0 ? rc : 0;
}
