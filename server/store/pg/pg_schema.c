/* pg_schema.c: the PostgreSQL schema (migrations/pg/, embedded) and the
 * server secrets. Migrations run under a session advisory lock, so that
 * several daemons starting together on an empty database apply each once:
 * the first takes the lock and migrates, the others wait for it and then
 * find nothing to do. */
#include "pg_internal.h"
#include "pg_migrations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* The session lock of the migrations: class 0, key "sibyl". */
#define MIGRATION_LOCK   "SELECT pg_advisory_lock(0, 1936026233)"
#define MIGRATION_UNLOCK "SELECT pg_advisory_unlock(0, 1936026233)"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int latest_version(void)
{
	return pg_n_migrations ? pg_migrations[pg_n_migrations - 1].version : 0;
}

/* The highest recorded version (0 on a new database). */
static int applied_version(struct pg_conn *c, int64_t *applied, struct err *e)
{
	PGresult *r = PQexec(c->pc, "SELECT coalesce(max(version), 0) FROM schema_migrations");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = pg_fail(c, r, "schema_migrations", e);
		PQclear(r);
		return rc;
	}
	*applied = pg_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

/* One migration in its own transaction, recorded with it. */
static int apply(struct pg_conn *c, const struct pg_migration *m, struct err *e)
{
	if (pg_simple(c, "BEGIN", e) != 0)
		return -(int)e->code;
	int rc = pg_simple(c, m->sql, e);
	if (rc == 0) {
		char version[24], at[24];
		snprintf(version, sizeof(version), "%d", m->version);
		snprintf(at, sizeof(at), "%lld", (long long)now_ms());
		const char *v[3] = {version, m->name, at};
		PGresult *r = PQexecParams(
		    c->pc,
		    "INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)",
		    3, NULL, v, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = pg_fail(c, r, "schema_migrations", e);
		PQclear(r);
	}
	if (rc == 0)
		rc = pg_simple(c, "COMMIT", e);
	if (rc != 0) {
		pg_simple(c, "ROLLBACK", NULL);
		return err_set(e, e->code == ERR_UNAVAILABLE ? ERR_UNAVAILABLE : ERR_INTERNAL,
		               "store: PostgreSQL migration %04d_%s failed (see the server log)",
		               m->version, m->name);
	}
	log_info("event=migration backend=postgresql version=%d name=%s", m->version, m->name);
	return 0;
}

static int migrate_locked(struct pg_conn *c, struct err *e)
{
	/* Quietly: the notice "already exists, skipping" is no news. */
	if (pg_simple(c,
	              "SET client_min_messages TO warning; "
	              "CREATE TABLE IF NOT EXISTS schema_migrations ("
	              "version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, "
	              "applied_at BIGINT NOT NULL); RESET client_min_messages",
	              e) != 0)
		return -(int)e->code;
	int64_t applied = 0;
	int rc = applied_version(c, &applied, e);
	if (rc != 0)
		return rc;
	if (applied > latest_version())
		return err_set(e, ERR_FAILED_PRECONDITION,
		               "store: the PostgreSQL database has schema version %lld, newer than "
		               "this sibyld knows (version %d); run a newer sibyld or restore a "
		               "backup",
		               (long long)applied, latest_version());
	for (size_t i = 0; i < pg_n_migrations; i++) {
		if (pg_migrations[i].version <= applied)
			continue;
		if ((rc = apply(c, &pg_migrations[i], e)) != 0)
			return rc;
	}
	return 0;
}

int pg_migrate(struct pg_conn *c, struct err *e)
{
	if (pg_simple(c, MIGRATION_LOCK, e) != 0)
		return -(int)e->code;
	int rc = migrate_locked(c, e);
	/* Never leave the session lock behind on a pooled connection. */
	if (pg_simple(c, MIGRATION_UNLOCK, NULL) != 0)
		c->broken = 1;
	return rc;
}

/* ---- server secrets ---- */

/* 1 with the secret in out, 0 when there is none yet, < 0 on an error. */
static int secret_get(struct pg_conn *c, const char *name, size_t len, unsigned char *out,
                      struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, name);
	PGresult *r = pg_exec(c, PQ_SECRET_GET, "SELECT value FROM secrets WHERE name = $1", &a, e);
	if (!r)
		return -(int)e->code;
	int rc = 0;
	if (PQntuples(r) == 1) {
		size_t n = 0;
		unsigned char *v = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);
		if (v && n == len) {
			memcpy(out, v, len);
			rc = 1;
		} else {
			rc = err_set(e, ERR_INTERNAL, "store: secret %s is not %zu bytes", name,
			             len);
		}
		PQfreemem(v);
	}
	PQclear(r);
	return rc;
}

int pg_secret(struct store *st, const char *name, const unsigned char *fresh, size_t len,
              unsigned char *out, struct err *e)
{
	struct store_conn *w = pg_write_begin(st, e);
	if (!w)
		return -(int)e->code;
	struct pg_conn *c = PGC(w);
	struct pg_args a = {0};
	pg_arg_text(&a, name);
	pg_arg_bin(&a, fresh, len);
	/* The first daemon's secret wins; the others read it. */
	PGresult *r = pg_exec(c, PQ_SECRET_INSERT,
	                      "INSERT INTO secrets(name, value) VALUES ($1, $2) "
	                      "ON CONFLICT (name) DO NOTHING",
	                      &a, e);
	int rc = r ? 0 : -(int)e->code;
	PQclear(r);
	if (rc == 0 && (rc = secret_get(c, name, len, out, e)) == 0)
		rc = err_set(e, ERR_INTERNAL, "store: secret %s vanished", name);
	if (rc == 1)
		rc = 0;
	if (rc != 0) {
		pg_write_rollback(w);
		return rc;
	}
	return pg_write_commit(w, e);
}
