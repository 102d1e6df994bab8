/* store.c: opening the database, connections (one writer with group
 * commit, a pool of readers), statement cache, SQLITE_BUSY retries and
 * migrations. The queries live in store_owners.c, store_studies.c and
 * store_trials.c, the backup in store_backup.c. docs/storage.md gives the
 * reasons behind the settings. */
#include "store_internal.h"
#include "store_migrations.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* SQLite's own wait for a lock, then ours around it: a caller never sees
 * SQLITE_BUSY unless the database stayed locked (by another process) for
 * about BUSY_TOTAL_MS. */
#define BUSY_TOTAL_MS 30000
/* Readers beyond this wait for one to come back (HTTP threads are fewer). */
#define MAX_READERS 64

static int flush(struct store *st, struct err *e);

/* Set while this thread holds the writer (sqlite_write_begin to finish). */
static __thread int holds_writer;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* For batch ages: unaffected by changes of the wall clock. */
static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int is_busy(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

sqlite3_stmt *store_stmt(struct store_conn *c, enum store_stmt_id id, const char *sql,
                         struct err *e)
{
	if (!c->stmt[id]) {
		int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[id],
		                            NULL);
		if (rc != SQLITE_OK) {
			store_sqlerr(c, e, "prepare");
			c->stmt[id] = NULL;
			return NULL;
		}
	}
	return c->stmt[id];
}

int store_step(struct store_conn *c, sqlite3_stmt *s, struct err *e)
{
	int waited = 0, pause = 1;
	for (;;) {
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			return rc;
		if (!is_busy(rc) || waited >= BUSY_TOTAL_MS) {
			if (is_busy(rc))
				return err_set(e, ERR_UNAVAILABLE,
				               "store: database busy for %d ms (another process "
				               "holds a lock on it?)",
				               waited);
			/* The quota triggers of 0002_multiteam.sql abort with a
			 * message that starts "quota ": the client's limit, not
			 * a fault of the store. */
			const char *msg = sqlite3_errmsg(c->db);
			if ((rc & 0xff) == SQLITE_CONSTRAINT && strncmp(msg, "quota ", 6) == 0)
				return err_set(e, ERR_RESOURCE_EXHAUSTED, "%s", msg);
			return store_sqlerr(c, e, "step");
		}
		/* Only the first step of a statement can meet a lock here (reads
		 * take their snapshot there; writes run under BEGIN IMMEDIATE), so
		 * starting it again is equivalent. */
		sqlite3_reset(s);
		sleep_ms(pause);
		waited += pause + STORE_BUSY_TIMEOUT_MS;
		pause = pause < 64 ? pause * 2 : 64;
	}
}

void store_done(sqlite3_stmt *s)
{
	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
}

int store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
}

int store_rows(struct store_conn *c, sqlite3_stmt *s, size_t size,
               int (*read)(sqlite3_stmt *s, void *elem), void **out, size_t *n, struct err *e)
{
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	while ((rc = store_step(c, s, e)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			void *a = nc <= SIZE_MAX / size ? realloc(*out, nc * size) : NULL;
			if (!a) {
				rc = err_set(e, ERR_INTERNAL, "store: out of memory");
				break;
			}
			*out = a;
			cap = nc;
		}
		void *elem = (char *)*out + *n * size;
		memset(elem, 0, size);
		(*n)++;
		if (read(s, elem)) {
			rc = err_set(e, ERR_INTERNAL, "store: out of memory");
			break;
		}
	}
	store_done(s);
	return rc < 0 ? rc : 0;
}

char *store_col_dup(sqlite3_stmt *s, int col, int *oom)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	if (!t)
		return NULL;
	size_t n = (size_t)sqlite3_column_bytes(s, col);
	char *r = malloc(n + 1);
	if (!r) {
		*oom = 1;
		return NULL;
	}
	memcpy(r, t, n);
	r[n] = '\0';
	return r;
}

/* Runs one statement without results (BEGIN, COMMIT, ...). */
static int run(struct store_conn *c, enum store_stmt_id id, const char *sql, struct err *e)
{
	sqlite3_stmt *s = store_stmt(c, id, sql, e);
	if (!s)
		return -ERR_INTERNAL;
	int rc = store_step(c, s, e);
	store_done(s);
	return rc < 0 ? rc : 0;
}

/* Runs a constant script at open time (pragmas, migrations). */
static int exec(sqlite3 *db, const char *sql, struct err *e, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		err_set(e, ERR_INTERNAL, "store: %s: %s", what, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return -ERR_INTERNAL;
	}
	return 0;
}

/* One integer from a constant query (pragmas at open time). */
static int query_int(sqlite3 *db, const char *sql, int64_t *out, struct err *e)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return err_set(e, ERR_INTERNAL, "store: %s: %s", sql, sqlite3_errmsg(db));
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		*out = 0;
	int ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
	if (!ok)
		err_set(e, ERR_INTERNAL, "store: %s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return ok ? 0 : -ERR_INTERNAL;
}

static void conn_close(struct store_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	sqlite3_close(c->db);
	free(c);
}

static struct store_conn *conn_open(struct store *st, int writer, struct err *e)
{
	struct store_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		err_set(e, ERR_INTERNAL, "store: out of memory");
		return NULL;
	}
	c->ops = &sqlite_store_ops;
	c->st = st;
	c->writer = writer;
	/* NOMUTEX: a connection is used by one thread at a time, handed over
	 * under the pool or writer mutex. */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(st->path, &c->db, flags, store_vfs());
	if (rc != SQLITE_OK) {
		/* The writer opens at start-up (the message goes to the
		 * operator); a reader opens while serving (it goes to a client). */
		if (writer)
			err_set(e, ERR_UNAVAILABLE, "store: cannot open %s: %s", st->path,
			        c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		else
			store_sqlerr(c, e, "open");
		conn_close(c);
		return NULL;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, STORE_BUSY_TIMEOUT_MS);
	/* synchronous=FULL until sqlite_set_sync says otherwise: in WAL mode the
	 * log is fsync'ed at every commit, so a change that was acknowledged
	 * survives a power loss too, not only a crash of the process
	 * (docs/storage.md has the trade-off and the measurements). */
	/* temp_store=MEMORY: statement sub-journals in small in-memory chunks.
	 * Otherwise each statement of a transaction allocates and frees a
	 * 64 KiB spill buffer, and glibc grows and trims the heap for it every
	 * time: 25 times slower inserts (docs/storage.md). */
	const char *pragmas = writer ? "PRAGMA synchronous=FULL;"
	                               "PRAGMA temp_store=MEMORY;"
	                               "PRAGMA cache_size=-16384;"
	                             : "PRAGMA query_only=1;"
	                               "PRAGMA temp_store=MEMORY;"
	                               "PRAGMA cache_size=-2048;";
	if (exec(c->db, pragmas, e, "connection settings") != 0 ||
	    (!writer && exec(c->db, "PRAGMA foreign_keys=ON;", e, "foreign keys") != 0)) {
		if (!writer)
			store_sqlerr(c, e, "connection settings");
		conn_close(c);
		return NULL;
	}
	return c;
}

/* ---- migrations ---- */

static int max_known_version(const struct store *st)
{
	return st->n_mig ? st->mig[st->n_mig - 1].version : 0;
}

/* *applied = highest recorded version (0 on a new database), *missing =
 * how many embedded migrations are not recorded. */
static int schema_state(struct store *st, int64_t *applied, int *missing, struct err *e)
{
	sqlite3 *db = st->writer->db;
	int64_t has;
	*applied = 0;
	*missing = (int)st->n_mig;
	if (query_int(db,
	              "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
	              "name='schema_migrations'",
	              &has, e) != 0)
		return -ERR_INTERNAL;
	if (!has)
		return 0;
	if (query_int(db, "SELECT coalesce(max(version),0) FROM schema_migrations", applied, e) !=
	    0)
		return -ERR_INTERNAL;
	int64_t n = 0;
	for (size_t i = 0; i < st->n_mig; i++) {
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM schema_migrations WHERE version=?", -1,
		                       &s, NULL) != SQLITE_OK)
			return err_set(e, ERR_INTERNAL, "store: schema_migrations: %s",
			               sqlite3_errmsg(db));
		sqlite3_bind_int(s, 1, st->mig[i].version);
		if (sqlite3_step(s) == SQLITE_ROW)
			n++;
		sqlite3_finalize(s);
	}
	*missing = (int)st->n_mig - (int)n;
	return 0;
}

static int refuse_newer(const struct store *st, int64_t applied, struct err *e)
{
	return err_set(e, ERR_FAILED_PRECONDITION,
	               "store: %s has schema version %lld, newer than this sibyld knows "
	               "(version %d); run a newer sibyld or restore a backup",
	               st->path, (long long)applied, max_known_version(st));
}

static int migrate(struct store *st, struct err *e)
{
	sqlite3 *db = st->writer->db;
	int64_t applied;
	int missing;
	if (schema_state(st, &applied, &missing, e) != 0)
		return -ERR_INTERNAL;
	if (applied > max_known_version(st))
		return refuse_newer(st, applied, e);
	if (missing == 0)
		return 0; /* the common start: nothing is written */

	/* Foreign keys off while the scripts run, so that a later migration can
	 * rebuild a table (SQLite's 12-step ALTER); checked before commit. The
	 * pragma is a no-op inside a transaction, hence before BEGIN. */
	if (exec(db, "PRAGMA foreign_keys=OFF", e, "migrations") != 0)
		return -ERR_INTERNAL;
	if (exec(db, "BEGIN IMMEDIATE", e, "migrations: begin") != 0)
		return -ERR_INTERNAL;
	int rc = exec(db,
	              "CREATE TABLE IF NOT EXISTS schema_migrations ("
	              "version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, "
	              "applied_at INTEGER NOT NULL)",
	              e, "schema_migrations");
	/* Again under the write lock: another process may have migrated. */
	if (rc == 0)
		rc = schema_state(st, &applied, &missing, e);
	if (rc == 0 && applied > max_known_version(st))
		rc = refuse_newer(st, applied, e);
	for (size_t i = 0; rc == 0 && i < st->n_mig; i++) {
		const struct store_migration *m = &st->mig[i];
		int64_t done;
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(db, "SELECT count(*) FROM schema_migrations WHERE version=?",
		                       -1, &s, NULL) != SQLITE_OK) {
			rc = err_set(e, ERR_INTERNAL, "store: %s", sqlite3_errmsg(db));
			break;
		}
		sqlite3_bind_int(s, 1, m->version);
		done = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
		sqlite3_finalize(s);
		if (done)
			continue;
		char what[160];
		snprintf(what, sizeof(what), "migration %04d_%s", m->version, m->name);
		rc = exec(db, m->sql, e, what);
		if (rc != 0)
			break;
		if (sqlite3_prepare_v2(db,
		                       "INSERT INTO schema_migrations(version, name, applied_at) "
		                       "VALUES (?, ?, ?)",
		                       -1, &s, NULL) != SQLITE_OK) {
			rc = err_set(e, ERR_INTERNAL, "store: %s", sqlite3_errmsg(db));
			break;
		}
		sqlite3_bind_int(s, 1, m->version);
		sqlite3_bind_text(s, 2, m->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, now_ms());
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = err_set(e, ERR_INTERNAL, "store: recording %s: %s", what,
			             sqlite3_errmsg(db));
		sqlite3_finalize(s);
	}
	if (rc == 0) {
		int64_t bad;
		rc = query_int(db, "SELECT count(*) FROM pragma_foreign_key_check", &bad, e);
		if (rc == 0 && bad)
			rc = err_set(e, ERR_INTERNAL,
			             "store: migrations left %lld foreign key violations",
			             (long long)bad);
	}
	if (rc == 0)
		rc = exec(db, "COMMIT", e, "migrations: commit");
	if (rc != 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* ---- open, close ---- */

struct store *sqlite_open(const char *path, struct err *e)
{
	return store_open_schema(path, store_migrations, store_n_migrations, e);
}

struct store *store_open_schema(const char *path, const struct store_migration *mig, size_t n_mig,
                                struct err *e)
{
	if (!path || !*path) {
		err_set(e, ERR_INVALID_ARGUMENT, "store: no database path");
		return NULL;
	}
	if (!sqlite3_threadsafe()) {
		err_set(e, ERR_INTERNAL, "store: SQLite was built without thread support");
		return NULL;
	}
	struct store *st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		free(st);
		err_set(e, ERR_INTERNAL, "store: out of memory");
		return NULL;
	}
	st->ops = &sqlite_store_ops;
	pthread_mutex_init(&st->wlock, NULL);
	pthread_mutex_init(&st->gclock, NULL);
	pthread_cond_init(&st->gccond, NULL);
	pthread_mutex_init(&st->plock, NULL);
	pthread_cond_init(&st->pcond, NULL);
	st->max_readers = MAX_READERS;
	st->mig = mig;
	st->n_mig = n_mig;
	st->writer = conn_open(st, 1, e);
	if (!st->writer)
		goto out;

	/* WAL: readers never block the writer nor the writer the readers. The
	 * mode is recorded in the file, so this writes only on a new database. */
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->writer->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) !=
	    SQLITE_OK) {
		store_sqlerr(st->writer, e, "journal_mode");
		goto out;
	}
	int rc = sqlite3_step(s);
	const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
	int wal = mode && strcmp(mode, "wal") == 0;
	if (!wal)
		err_set(e, ERR_UNAVAILABLE, "store: %s: cannot switch to WAL mode (%s)", path,
		        rc == SQLITE_ROW ? mode : sqlite3_errmsg(st->writer->db));
	sqlite3_finalize(s);
	if (!wal)
		goto out;

	if (migrate(st, e) != 0)
		goto out;
	if (exec(st->writer->db, "PRAGMA foreign_keys=ON", e, "foreign keys") != 0)
		goto out;
	int64_t fk;
	if (query_int(st->writer->db, "PRAGMA foreign_keys", &fk, e) != 0)
		goto out;
	if (!fk) {
		err_set(e, ERR_INTERNAL, "store: SQLite refused to enable foreign keys");
		goto out;
	}
	/* A file that cannot be written serves reads; /healthz says not ready. */
	if (sqlite3_db_readonly(st->writer->db, "main") == 1) {
		store_note_fault(st, SQLITE_READONLY);
		log_warn("event=store_read_only path=\"%s\" msg=\"the database cannot be written; "
		         "every write will answer 503 and /healthz is not ready\"",
		         path);
	}
	/* Before serving: the log a previous run left (up to its target, or
	 * more after a crash) is copied into the database and the file
	 * truncated, so a restart gives its disk space back. */
	store_ckpt_truncate(st, 200);
	if (sqlite_set_wal_target(st, STORE_WAL_TARGET_DEFAULT, e) != 0)
		goto out;
	store_ckpt_start(st);
	return st;
out:
	sqlite_close(st);
	return NULL;
}

void sqlite_close(struct store *st)
{
	if (!st)
		return;
	store_ckpt_stop(st);
	pthread_mutex_lock(&st->plock);
	while (st->n_out > 0)
		pthread_cond_wait(&st->pcond, &st->plock);
	struct store_conn *c = st->idle;
	st->idle = NULL;
	pthread_mutex_unlock(&st->plock);
	while (c) {
		struct store_conn *next = c->next;
		conn_close(c);
		c = next;
	}
	/* The writer last: the last connection to close checkpoints the WAL
	 * into the database, so the next start has no log to replay. */
	pthread_mutex_lock(&st->wlock);
	if (st->batch_open)
		flush(st, NULL);
	conn_close(st->writer);
	st->writer = NULL;
	pthread_mutex_unlock(&st->wlock);
	pthread_mutex_destroy(&st->wlock);
	pthread_mutex_destroy(&st->gclock);
	pthread_cond_destroy(&st->gccond);
	pthread_mutex_destroy(&st->plock);
	pthread_cond_destroy(&st->pcond);
	free(st->path);
	free(st);
}

/* ---- connections ---- */

struct store_conn *sqlite_read(struct store *st, struct err *e)
{
	struct store_conn *c = NULL;
	int open_new = 0;
	pthread_mutex_lock(&st->plock);
	/* The thread that holds the writer never waits here: the readers it
	 * would wait for may belong to callers waiting for its batch. */
	while (!st->idle && st->n_readers >= st->max_readers && !holds_writer)
		pthread_cond_wait(&st->pcond, &st->plock);
	if (st->idle) {
		c = st->idle;
		st->idle = c->next;
	} else {
		st->n_readers++; /* reserve the slot; open outside the lock */
		open_new = 1;
	}
	st->n_out++;
	pthread_mutex_unlock(&st->plock);
	if (open_new) {
		c = conn_open(st, 0, e);
		if (!c) {
			pthread_mutex_lock(&st->plock);
			st->n_readers--;
			st->n_out--;
			pthread_cond_broadcast(&st->pcond);
			pthread_mutex_unlock(&st->plock);
			return NULL;
		}
	}
	c->next = NULL;
	/* One snapshot for all the reads made before sqlite_release. */
	if (run(c, ST_BEGIN, "BEGIN", e) != 0) {
		sqlite_release(c);
		return NULL;
	}
	return c;
}

void sqlite_release(struct store_conn *c)
{
	if (!c)
		return;
	if (c->writer) { /* misuse; do not leave the writer locked */
		sqlite_write_rollback(c);
		return;
	}
	struct store *st = c->st;
	int broken = 0;
	if (!sqlite3_get_autocommit(c->db)) {
		sqlite3_stmt *s = store_stmt(c, ST_COMMIT, "COMMIT", NULL);
		broken = !s || store_step(c, s, NULL) != SQLITE_DONE;
		store_done(s);
	}
	pthread_mutex_lock(&st->plock);
	if (broken) {
		st->n_readers--;
	} else {
		c->next = st->idle;
		st->idle = c;
	}
	st->n_out--;
	pthread_cond_broadcast(&st->pcond);
	pthread_mutex_unlock(&st->plock);
	if (broken)
		conn_close(c);
}

/* ---- writes: one writer, group commit ----
 *
 * A caller's "transaction" is a savepoint inside one SQLite transaction
 * (the batch). A caller that finishes while other writers queue behind it
 * releases its savepoint and hands the batch on; the last one of the burst
 * commits it, once, and wakes the others. A caller returns from
 * sqlite_write_commit only after its batch is committed, with the batch's
 * result, so "acknowledged" still means "committed" (and with
 * synchronous=FULL, "on disk"). With synchronous=FULL this shares one fsync
 * among the burst; with synchronous=NORMAL it still shares the commit's
 * log writes: the pages that every write touches (the audit log's last
 * page, the study's change counter, the index pages of recent trials) go
 * to the log once per batch instead of once per caller (docs/storage.md,
 * docs/benchmarks.md section 8). */

#define BATCH_MAX 64 /* callers per batch */
#define BATCH_MS  50 /* age after which a batch is committed anyway */

struct store_waiter {
	struct store_waiter *next;
	int done;
	int rc;
	struct err err;
};

/* Under wlock: commits (or, when SQLite already rolled it back after an
 * error, reports) the open batch and wakes its waiting callers. */
static int flush(struct store *st, struct err *e)
{
	struct store_conn *w = st->writer;
	struct err fe = {0};
	int rc = 0;
	if (sqlite3_get_autocommit(w->db)) {
		if (st->batch_n > 0)
			rc = err_set(&fe, ERR_UNAVAILABLE,
			             "store: the transaction was rolled back after an error "
			             "(disk full or I/O error?); nothing was saved");
	} else {
		rc = run(w, ST_COMMIT, "COMMIT", &fe);
		if (rc != 0 && !sqlite3_get_autocommit(w->db))
			run(w, ST_ROLLBACK, "ROLLBACK", NULL);
		if (rc == 0 && st->batch_n > 0) /* the disk took a write again */
			__atomic_store_n(&st->fault, 0, __ATOMIC_RELAXED);
	}
	st->batch_open = 0;
	st->batch_n = 0;
	pthread_mutex_lock(&st->gclock);
	for (struct store_waiter *x = st->waiters; x; x = x->next) {
		x->rc = rc;
		if (rc)
			x->err = fe;
		x->done = 1;
	}
	st->waiters = NULL;
	pthread_cond_broadcast(&st->gccond);
	pthread_mutex_unlock(&st->gclock);
	if (rc && e)
		*e = fe;
	return rc;
}

/* Under wlock, after a caller's savepoint was released (committed) or
 * rolled back. Hands the batch to the next queued writer, or commits it;
 * releases wlock. A committed caller gets its batch's result. */
static int finish(struct store *st, int committed, struct err *e)
{
	struct store_waiter me = {0};
	if (committed)
		st->batch_n++;
	pthread_mutex_lock(&st->gclock);
	int hand_over = st->n_wait > 0 && st->batch_open && st->batch_n < BATCH_MAX &&
	                mono_ms() - st->batch_start_ms < BATCH_MS &&
	                !sqlite3_get_autocommit(st->writer->db);
	if (hand_over && committed) {
		me.next = st->waiters;
		st->waiters = &me;
	}
	pthread_mutex_unlock(&st->gclock);
	holds_writer = 0;
	if (!hand_over) {
		int rc = st->batch_open ? flush(st, e) : 0;
		pthread_mutex_unlock(&st->wlock);
		return committed ? rc : 0;
	}
	/* The queued writer will take wlock and, in its own finish, commit or
	 * hand on again: every taker of wlock ends in finish. */
	pthread_mutex_unlock(&st->wlock);
	if (!committed)
		return 0;
	pthread_mutex_lock(&st->gclock);
	while (!me.done)
		pthread_cond_wait(&st->gccond, &st->gclock);
	pthread_mutex_unlock(&st->gclock);
	if (me.rc && e)
		*e = me.err;
	return me.rc;
}

/* Undoes the caller's savepoint (a no-op when SQLite already rolled back
 * the whole batch). */
static void rollback_to(struct store_conn *w)
{
	if (sqlite3_get_autocommit(w->db))
		return;
	run(w, ST_ROLLBACK_TO, "ROLLBACK TO w", NULL);
	run(w, ST_RELEASE, "RELEASE w", NULL);
}

struct store_conn *sqlite_write_begin(struct store *st, struct err *e)
{
	pthread_mutex_lock(&st->gclock);
	st->n_wait++;
	pthread_mutex_unlock(&st->gclock);
	pthread_mutex_lock(&st->wlock);
	pthread_mutex_lock(&st->gclock);
	st->n_wait--;
	pthread_mutex_unlock(&st->gclock);
	struct store_conn *w = st->writer;
	if (!w) {
		pthread_mutex_unlock(&st->wlock);
		err_set(e, ERR_UNAVAILABLE, "store: closed");
		return NULL;
	}
	holds_writer = 1;
	if (st->batch_open && sqlite3_get_autocommit(w->db))
		flush(st, NULL); /* lost to an earlier error: tell its callers */
	if (!st->batch_open) {
		if (run(w, ST_BEGIN_IMMEDIATE, "BEGIN IMMEDIATE", e) != 0) {
			holds_writer = 0;
			pthread_mutex_unlock(&st->wlock);
			return NULL;
		}
		st->batch_open = 1;
		st->batch_n = 0;
		st->batch_start_ms = mono_ms();
	}
	if (run(w, ST_SAVEPOINT, "SAVEPOINT w", e) != 0) {
		finish(st, 0, NULL);
		return NULL;
	}
	return w;
}

void sqlite_write_audit(struct store_conn *w, const struct store_audit *a, int64_t *written)
{
	w->audit = *a;
	w->audit_id = written;
}

int sqlite_write_commit(struct store_conn *w, struct err *e)
{
	int rc = 0;
	int64_t *written = w->audit_id, id = 0;
	w->audit_id = NULL;
	/* The request's audit entry goes in with its change: one transaction
	 * instead of two, and never a change without entry. */
	if (written && (rc = sqlite_audit_insert(w, &w->audit, e)) == 0)
		id = sqlite3_last_insert_rowid(w->db);
	if (rc == 0)
		rc = run(w, ST_RELEASE, "RELEASE w", e);
	if (rc != 0) {
		rollback_to(w);
		finish(w->st, 0, NULL);
		return rc;
	}
	rc = finish(w->st, 1, e);
	if (rc == 0 && written)
		*written = id;
	return rc;
}

/* One writer (sqlite_write_begin takes the writer lock): every write
 * transaction already excludes every other, so both sections hold. */
int sqlite_lock_study(struct store_conn *w, int64_t study_rowid, struct err *e)
{
	(void)w;
	(void)study_rowid;
	(void)e;
	return 0;
}

int sqlite_lock_owner(struct store_conn *w, const char *owner, struct err *e)
{
	(void)w;
	(void)owner;
	(void)e;
	return 0;
}

void sqlite_write_rollback(struct store_conn *w)
{
	if (!w)
		return;
	w->audit_id = NULL;
	rollback_to(w);
	finish(w->st, 0, NULL);
}

int sqlite_set_sync(struct store *st, enum store_sync mode, struct err *e)
{
	pthread_mutex_lock(&st->wlock);
	int rc = 0;
	if (st->batch_open)
		rc = flush(st, e);
	if (rc == 0)
		rc = exec(st->writer->db,
		          mode == STORE_SYNC_NORMAL ? "PRAGMA synchronous=NORMAL"
		                                    : "PRAGMA synchronous=FULL",
		          e, "synchronous");
	if (rc == 0)
		st->sync_normal = mode == STORE_SYNC_NORMAL;
	pthread_mutex_unlock(&st->wlock);
	return rc;
}

int sqlite_set_wal_target(struct store *st, int64_t bytes, struct err *e)
{
	if (bytes < 1024 * 1024)
		return err_set(e, ERR_INVALID_ARGUMENT, "store: WAL target %lld is below 1 MiB",
		               (long long)bytes);
	char sql[80];
	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit=%lld", (long long)bytes);
	pthread_mutex_lock(&st->wlock);
	int64_t page = 0, limit = 0;
	int rc = query_int(st->writer->db, "PRAGMA page_size", &page, e);
	if (rc == 0)
		rc = query_int(st->writer->db, sql, &limit, e);
	if (rc == 0)
		st->ckpt_force = (int)(bytes / (page > 0 ? page : 4096));
	pthread_mutex_unlock(&st->wlock);
	return rc;
}

int sqlite_ping(struct store *st)
{
	struct err e;
	struct store_conn *c = sqlite_read(st, &e);
	if (!c)
		return -(int)e.code;
	sqlite3_stmt *s = store_stmt(c, ST_PING, "SELECT count(*) FROM schema_migrations", &e);
	int rc = s ? store_step(c, s, &e) : -ERR_INTERNAL;
	store_done(s);
	sqlite_release(c);
	return rc == SQLITE_ROW ? 0 : (rc < 0 ? rc : -ERR_INTERNAL);
}
