/* sqlite_health.c: what the store makes of a failed SQLite call, and
 * whether it can be written. A failure of the disk or the file (full, an
 * I/O error, read-only) is answered UNAVAILABLE with a message of our own
 * and marks the store faulty until a commit succeeds; SQLite's own text
 * goes to the log only (it names tables, columns and files). /healthz is
 * not ready while the store is faulty, and probes with one small write a
 * second, so the daemon recovers by itself when space comes back.
 * docs/storage.md, "A full disk, a read-only file". */
#include "store_internal.h"

#include <stdint.h>
#include <time.h>

#include "log.h"

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void store_note_fault(struct store *st, int rc)
{
	int p = rc & 0xff;
	if (st &&
	    (p == SQLITE_FULL || p == SQLITE_IOERR || p == SQLITE_READONLY || p == SQLITE_CANTOPEN))
		__atomic_store_n(&st->fault, rc, __ATOMIC_RELAXED);
}

/* The caller's error for a SQLite result code: what a client can act on,
 * never SQLite's own text (which names tables, columns and files). A
 * fault of the disk or the file is UNAVAILABLE: the request may succeed
 * later, when there is space again (api.c adds Retry-After). */
static int fault_err(int rc, struct err *e)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return err_set(e, ERR_UNAVAILABLE,
		               "the database's disk is full: nothing was saved; retry later");
	case SQLITE_IOERR:
		return err_set(e, ERR_UNAVAILABLE,
		               "the database could not be read or written (I/O error): nothing was "
		               "saved; retry later");
	case SQLITE_READONLY:
		return err_set(e, ERR_UNAVAILABLE,
		               "the database cannot be written (read-only file or directory): "
		               "nothing was saved");
	case SQLITE_CANTOPEN:
		return err_set(e, ERR_UNAVAILABLE, "the database file cannot be opened");
	case SQLITE_NOMEM:
		return err_set(e, ERR_UNAVAILABLE, "the store is out of memory; retry later");
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return err_set(e, ERR_INTERNAL,
		               "the database file is damaged (see the server log)");
	default:
		return err_set(e, ERR_INTERNAL, "internal error in the store (see the server log)");
	}
}

/* SQLite's text for the log, at most one line a second per code class
 * (a full disk fails every write of every worker). */
static void log_sql_error(const char *what, int rc, const char *msg)
{
	static int64_t last_ms[256];
	static int suppressed[256];
	int p = rc & 0xff;
	int64_t now = mono_ms();
	int64_t last = __atomic_load_n(&last_ms[p], __ATOMIC_RELAXED);
	if (now - last < 1000 || !__atomic_compare_exchange_n(&last_ms[p], &last, now, 0,
	                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		__atomic_add_fetch(&suppressed[p], 1, __ATOMIC_RELAXED);
		return;
	}
	int more = __atomic_exchange_n(&suppressed[p], 0, __ATOMIC_RELAXED);
	log_error("event=store_error what=%s code=%d suppressed=%d msg=\"%s\"", what, rc, more,
	          msg);
}

int store_sqlerr(struct store_conn *c, struct err *e, const char *what)
{
	int rc = c && c->db ? sqlite3_extended_errcode(c->db) : SQLITE_MISUSE;
	log_sql_error(what, rc, c && c->db ? sqlite3_errmsg(c->db) : "no connection");
	if (c)
		store_note_fault(c->st, rc);
	return fault_err(rc, e);
}

int sqlite_health(struct store *st, struct err *e)
{
	if (sqlite_ping(st) != 0)
		return err_set(e, ERR_UNAVAILABLE, "the store is not answering");
	if (!__atomic_load_n(&st->fault, __ATOMIC_RELAXED))
		return 0;
	/* Writes failed: one write a second finds out whether they work
	 * again (space came back), even while no client writes. */
	int64_t now = mono_ms(), last = __atomic_load_n(&st->probe_ms, __ATOMIC_RELAXED);
	if (now - last >= 1000 && __atomic_compare_exchange_n(&st->probe_ms, &last, now, 0,
	                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		struct err pe;
		struct store_conn *w = sqlite_write_begin(st, &pe);
		sqlite3_stmt *s =
		    w ? store_stmt(w, ST_HEALTH_PROBE,
		                   "INSERT INTO health(id, probes) VALUES (1, 1) "
		                   "ON CONFLICT(id) DO UPDATE SET probes = probes + 1",
		                   &pe)
		      : NULL;
		int rc = s ? store_step(w, s, &pe) : -1;
		store_done(s);
		if (rc == SQLITE_DONE)
			sqlite_write_commit(w, &pe);
		else
			sqlite_write_rollback(w);
	}
	int f = __atomic_load_n(&st->fault, __ATOMIC_RELAXED);
	return f ? fault_err(f, e) : 0;
}
