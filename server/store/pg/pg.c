/* pg.c: the PostgreSQL backend's connections: the pool, transactions,
 * statements and their errors. The schema and its migrations are in
 * pg_schema.c, the queries in pg_owners.c and pg_trials.c. docs/storage.md
 * gives the reasons. */
#include "pg_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* A checkout waits this long for a connection of a full pool. */
#define CHECKOUT_WAIT_S 30

/* Connections this thread holds: a thread that holds one never waits for
 * another (the pool could be held by threads waiting for it): it opens one
 * past the pool's size instead. */
static __thread int held;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- arguments and columns ---- */

static void arg_put(struct pg_args *a, const char *v, int len, int fmt)
{
	if (a->n >= PG_MAX_ARGS)
		return; /* a programming error: the statement then fails */
	a->v[a->n] = v;
	a->len[a->n] = len;
	a->fmt[a->n] = fmt;
	a->n++;
}

void pg_arg_i64(struct pg_args *a, int64_t x)
{
	if (a->n >= PG_MAX_ARGS)
		return;
	snprintf(a->num[a->n], sizeof(a->num[0]), "%lld", (long long)x);
	arg_put(a, a->num[a->n], 0, 0);
}

void pg_arg_f64(struct pg_args *a, double x)
{
	if (a->n >= PG_MAX_ARGS)
		return;
	snprintf(a->num[a->n], sizeof(a->num[0]), "%.17g", x);
	arg_put(a, a->num[a->n], 0, 0);
}

void pg_arg_text(struct pg_args *a, const char *s)
{
	arg_put(a, s, 0, 0);
}

void pg_arg_bin(struct pg_args *a, const void *p, size_t n)
{
	arg_put(a, p, (int)n, 1);
}

int64_t pg_i64(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

double pg_f64(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtod(PQgetvalue(r, row, col), NULL);
}

char *pg_dup(const PGresult *r, int row, int col, int *oom)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	char *s = strdup(PQgetvalue(r, row, col));
	if (!s)
		*oom = 1;
	return s;
}

int64_t pg_changes(const PGresult *r)
{
	const char *n = PQcmdTuples((PGresult *)r);
	return n && *n ? strtoll(n, NULL, 10) : 0;
}

void *pg_grow(void *arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return arr;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(arr, nc * elem);
	if (p)
		*cap = nc;
	return p;
}

/* ---- errors ---- */

/* The server's text for the log, at most one line a second (a database
 * that went away fails every call of every thread). */
static void log_pg_error(const char *what, const char *state, const char *msg)
{
	static int64_t last;
	static int suppressed;
	int64_t now = mono_ms();
	int64_t prev = __atomic_load_n(&last, __ATOMIC_RELAXED);
	if (now - prev < 1000 || !__atomic_compare_exchange_n(&last, &prev, now, 0,
	                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		__atomic_add_fetch(&suppressed, 1, __ATOMIC_RELAXED);
		return;
	}
	int more = __atomic_exchange_n(&suppressed, 0, __ATOMIC_RELAXED);
	char line[512];
	snprintf(line, sizeof(line), "%s", msg ? msg : "");
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '"')
			*p = ' ';
	log_error("event=store_error backend=postgresql what=%s sqlstate=%s suppressed=%d "
	          "msg=\"%s\"",
	          what, state ? state : "-", more, line);
}

/* SQLSTATE classes a client should retry: the database is gone, starting,
 * shutting down, out of resources, or chose this transaction as the victim
 * of a deadlock or serialization failure. */
static int transient(const char *state)
{
	if (!state)
		return 1;
	return strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	       strncmp(state, "57P", 3) == 0 || strcmp(state, "40001") == 0 ||
	       strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0 ||
	       strcmp(state, "25006") == 0;
}

int pg_fail(struct pg_conn *c, const PGresult *r, const char *what, struct err *e)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorMessage(r) : NULL;
	int lost = !c || !c->pc || PQstatus(c->pc) != CONNECTION_OK;
	if ((!msg || !*msg) && c && c->pc)
		msg = PQerrorMessage(c->pc);
	log_pg_error(what, state, msg);
	if (lost && c)
		c->broken = 1;
	if (lost || transient(state)) {
		/* /healthz says not ready after a write failed for want of the
		 * server (not for a deadlock victim: the next one goes through). */
		int down = lost || !state || strncmp(state, "08", 2) == 0 ||
		           strncmp(state, "53", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
		           strcmp(state, "25006") == 0;
		if (c && c->writer && down)
			__atomic_store_n(&c->st->fault, 1, __ATOMIC_RELAXED);
		return err_set(e, ERR_UNAVAILABLE,
		               "the database cannot be reached or is busy: nothing was saved; "
		               "retry later");
	}
	if (state && strcmp(state, "23505") == 0)
		return err_set(e, ERR_ABORTED, "a concurrent change conflicted; try again");
	if (state && strcmp(state, "42501") == 0) {
		/* Typically at the first start: PostgreSQL 15 lets only the
		 * owner of a database create tables in its schema public. */
		int len = msg ? (int)strcspn(msg, "\n") : 0;
		return err_set(e, ERR_INTERNAL,
		               "the database refused sibyld's role: %.*s (the role in --db must "
		               "own the database: docs/storage.md)",
		               len > 200 ? 200 : len, msg ? msg : "");
	}
	return err_set(e, ERR_INTERNAL, "internal error in the store (see the server log)");
}

/* ---- statements ---- */

static struct pg_conn *conn_open(struct pg_store *st, struct err *e);
static void drain_idle(struct pg_store *st);

/* The results of one command of a pipeline: the rows or command result
 * (when all went well) in *ok, else the first error in *bad. */
static void take_results(PGconn *pc, PGresult **ok, PGresult **bad)
{
	PGresult *r;
	while ((r = PQgetResult(pc)) != NULL) {
		ExecStatusType s = PQresultStatus(r);
		int good = s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK;
		if (good && !*ok)
			*ok = r;
		else if (!good && s != PGRES_PIPELINE_ABORTED && !*bad)
			*bad = r;
		else
			PQclear(r);
	}
}

/* The transaction's first statement, sent with its BEGIN (and, the first
 * time on this connection, its PREPARE) in one round trip: libpq's
 * pipeline mode. */
static PGresult *exec_first(struct pg_conn *c, enum pg_stmt_id id, const char *name,
                            const char *sql, struct pg_args *a, int with_commit, struct err *e)
{
	PGconn *pc = c->pc;
	int n = a ? a->n : 0, ok = PQenterPipelineMode(pc), n_begin = 0, prep = !c->prepared[id];
	for (; ok && n_begin < 2 && c->pending[n_begin]; n_begin++)
		ok = PQsendQueryParams(pc, c->pending[n_begin], 0, NULL, NULL, NULL, NULL, 0);
	if (ok && prep)
		ok = PQsendPrepare(pc, name, sql, n, NULL);
	if (ok)
		ok = PQsendQueryPrepared(pc, name, n, a ? a->v : NULL, a ? a->len : NULL,
		                         a ? a->fmt : NULL, 0);
	if (ok && with_commit)
		ok = PQsendQueryParams(pc, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
	if (ok)
		ok = PQpipelineSync(pc);
	PGresult *res = NULL, *bad = NULL;
	if (ok) {
		for (int i = 0; i < n_begin; i++) {
			PGresult *b = NULL;
			take_results(pc, &b, &bad);
			PQclear(b);
		}
		if (prep) {
			PGresult *p = NULL;
			take_results(pc, &p, &bad);
			/* The statement exists from here on, whatever follows. */
			if (p)
				c->prepared[id] = 1;
			PQclear(p);
		}
		take_results(pc, &res, &bad);
		if (with_commit) {
			PGresult *cr = NULL;
			take_results(pc, &cr, &bad);
			if (!cr && !bad)
				ok = 0; /* no answer to the COMMIT */
			PQclear(cr);
		}
		PQclear(PQgetResult(pc)); /* the PGRES_PIPELINE_SYNC */
	}
	if (!PQexitPipelineMode(pc))
		c->broken = 1;
	c->pending[0] = c->pending[1] = NULL;
	if (ok && res && !bad)
		return res;
	PQclear(res);
	pg_fail(c, bad, name, e);
	PQclear(bad);
	return NULL;
}

/* A fresh session for c in place of one found lost. */
static int reopen(struct pg_conn *c, struct err *e)
{
	struct pg_conn *fresh = conn_open(c->st, e);
	if (!fresh)
		return -(int)e->code;
	PQfinish(c->pc);
	c->pc = fresh->pc;
	free(fresh);
	memset(c->prepared, 0, sizeof(c->prepared));
	c->broken = 0;
	return 0;
}

/* pg_exec, or with_commit: the statement and the transaction's COMMIT in
 * one round trip (and its BEGIN too when still pending). */
static PGresult *run_stmt(struct pg_conn *c, enum pg_stmt_id id, const char *sql, struct pg_args *a,
                          int with_commit, struct err *e)
{
	char name[16];
	snprintf(name, sizeof(name), "s%d", (int)id);
	int n = a ? a->n : 0;
	if (with_commit && !c->pending[0])
		return exec_first(c, id, name, sql, a, 1, e);
	if (c->pending[0]) {
		/* A pooled connection may have lost its server (a restart)
		 * without knowing: then the first statement finds out, nothing
		 * of the transaction has happened, and it runs again once on a
		 * fresh session (the idle ones, as old, are dropped). */
		const char *pending[2] = {c->pending[0], c->pending[1]};
		PGresult *r = exec_first(c, id, name, sql, a, with_commit, e);
		if (!r && c->broken && reopen(c, e) == 0) {
			drain_idle(c->st);
			c->pending[0] = pending[0];
			c->pending[1] = pending[1];
			r = exec_first(c, id, name, sql, a, with_commit, e);
		}
		return r;
	}
	if (!c->prepared[id]) {
		PGresult *p = PQprepare(c->pc, name, sql, n, NULL);
		if (PQresultStatus(p) != PGRES_COMMAND_OK) {
			pg_fail(c, p, name, e);
			PQclear(p);
			return NULL;
		}
		PQclear(p);
		c->prepared[id] = 1;
	}
	PGresult *r = PQexecPrepared(c->pc, name, n, a ? a->v : NULL, a ? a->len : NULL,
	                             a ? a->fmt : NULL, 0);
	ExecStatusType s = PQresultStatus(r);
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
		return r;
	pg_fail(c, r, name, e);
	PQclear(r);
	return NULL;
}

PGresult *pg_exec(struct pg_conn *c, enum pg_stmt_id id, const char *sql, struct pg_args *a,
                  struct err *e)
{
	return run_stmt(c, id, sql, a, 0, e);
}

PGresult *pg_exec_commit(struct pg_conn *c, enum pg_stmt_id id, const char *sql, struct pg_args *a,
                         struct err *e)
{
	return run_stmt(c, id, sql, a, 1, e);
}

static int simple(struct pg_conn *c, const char *sql, struct err *e)
{
	PGresult *r = PQexec(c->pc, sql);
	ExecStatusType s = PQresultStatus(r);
	int rc = 0;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		rc = pg_fail(c, r, "exec", e);
	PQclear(r);
	return rc;
}

int pg_begin_now(struct pg_conn *c, struct err *e)
{
	if (!c->pending[0])
		return 0;
	char sql[256];
	snprintf(sql, sizeof(sql), "%s%s%s", c->pending[0], c->pending[1] ? "; " : "",
	         c->pending[1] ? c->pending[1] : "");
	c->pending[0] = c->pending[1] = NULL;
	return simple(c, sql, e);
}

int pg_simple(struct pg_conn *c, const char *sql, struct err *e)
{
	int rc = pg_begin_now(c, e);
	return rc ? rc : simple(c, sql, e);
}

/* ---- connections ---- */

/* A read's COMMIT is sent without waiting for it (pipeline mode): the
 * snapshot ends on the server at once, and the caller does not wait one
 * more round trip. The next user of the connection reads its result. */
static void send_commit(struct pg_conn *c)
{
	if (!PQenterPipelineMode(c->pc) ||
	    !PQsendQueryParams(c->pc, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQpipelineSync(c->pc))
		c->broken = 1;
	else
		c->commit_sent = 1;
}

/* Reads the result of a COMMIT sent by send_commit; a failure marks the
 * connection broken. */
static void finish_commit(struct pg_conn *c)
{
	if (!c->commit_sent)
		return;
	c->commit_sent = 0;
	int ok = 1, synced = 0, nulls = 0;
	while (!synced && nulls < 2) {
		PGresult *r = PQgetResult(c->pc);
		if (!r) {
			/* one NULL ends the COMMIT's results; a second means the
			 * sync will not come (a lost session) */
			nulls++;
			continue;
		}
		nulls = 0;
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC)
			synced = 1;
		else if (st != PGRES_COMMAND_OK)
			ok = 0;
		PQclear(r);
	}
	if (!synced || !ok || !PQexitPipelineMode(c->pc))
		c->broken = 1;
}

/* Opens a session on the store's URL; NULL with e set (UNAVAILABLE). */
static struct pg_conn *conn_open(struct pg_store *st, struct err *e)
{
	struct pg_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		err_set(e, ERR_INTERNAL, "store: out of memory");
		return NULL;
	}
	c->ops = &pg_store_ops;
	c->st = st;
	/* The URL's own settings win over these defaults (expand_dbname).
	 * Keepalives: a server gone without a word (a cut network) is noticed
	 * in about 30 s instead of the system's two hours. lock_timeout: a
	 * section held by a daemon that hangs (stopped, not dead: a dead one's
	 * sessions and locks go with it) fails the waiting call with 503 after
	 * 30 s instead of holding it for ever. */
	const char *const keys[] = {"connect_timeout",
	                            "application_name",
	                            "keepalives",
	                            "keepalives_idle",
	                            "keepalives_interval",
	                            "keepalives_count",
	                            "options",
	                            "dbname",
	                            NULL};
	const char *const vals[] = {"5",     "sibyld", "1", "15", "5", "3", "-c lock_timeout=30s",
	                            st->url, NULL};
	c->pc = PQconnectdbParams(keys, vals, 1);
	if (!c->pc || PQstatus(c->pc) != CONNECTION_OK) {
		log_pg_error("connect", NULL, c->pc ? PQerrorMessage(c->pc) : "out of memory");
		err_set(e, ERR_UNAVAILABLE,
		        "the database cannot be reached: nothing was saved; retry later");
		PQfinish(c->pc);
		free(c);
		return NULL;
	}
	return c;
}

static void conn_close(struct pg_conn *c)
{
	if (!c)
		return;
	PQfinish(c->pc);
	free(c);
}

/* A connection from the pool (or a new one), not in a transaction. */
static struct pg_conn *checkout(struct pg_store *st, struct err *e)
{
	struct pg_conn *c = NULL;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += CHECKOUT_WAIT_S;
	pthread_mutex_lock(&st->mu);
	while (!st->idle && st->n_open >= st->max && !held) {
		if (pthread_cond_timedwait(&st->cv, &st->mu, &until) == ETIMEDOUT)
			break;
	}
	if (st->idle) {
		c = st->idle;
		st->idle = c->next;
	} else if (st->n_open >= st->max && !held) {
		pthread_mutex_unlock(&st->mu);
		err_set(e, ERR_UNAVAILABLE,
		        "store: every database connection is busy; retry later");
		return NULL;
	} else {
		st->n_open++; /* reserve the slot; connect outside the lock */
	}
	pthread_mutex_unlock(&st->mu);
	if (c) {
		/* The previous read's COMMIT; a session lost meanwhile is
		 * replaced here. */
		finish_commit(c);
		if (c->broken && reopen(c, e) != 0) {
			conn_close(c);
			c = NULL;
		}
	} else {
		c = conn_open(st, e);
	}
	if (!c) {
		pthread_mutex_lock(&st->mu);
		st->n_open--;
		pthread_cond_signal(&st->cv);
		pthread_mutex_unlock(&st->mu);
		return NULL;
	}
	c->next = NULL;
	c->writer = 0;
	c->pending[0] = c->pending[1] = NULL;
	held++;
	return c;
}

/* Back to the pool; a broken connection, or one past the pool's size, is
 * closed (the next checkout opens a fresh one: that is the reconnect). */
static void checkin(struct pg_conn *c)
{
	struct pg_store *st = c->st;
	held--;
	int close_it = c->broken || PQstatus(c->pc) != CONNECTION_OK ||
	               (!c->commit_sent && PQtransactionStatus(c->pc) != PQTRANS_IDLE);
	pthread_mutex_lock(&st->mu);
	if (!close_it && st->n_open > st->max)
		close_it = 1;
	if (close_it) {
		st->n_open--;
	} else {
		c->next = st->idle;
		st->idle = c;
	}
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
	if (close_it)
		conn_close(c);
}

/* Closes the idle connections: after one was found lost, the others
 * (opened before the same restart of the server) are most likely lost too. */
static void drain_idle(struct pg_store *st)
{
	pthread_mutex_lock(&st->mu);
	struct pg_conn *c = st->idle;
	st->idle = NULL;
	for (struct pg_conn *x = c; x; x = x->next)
		st->n_open--;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	while (c) {
		struct pg_conn *next = c->next;
		conn_close(c);
		c = next;
	}
}

/* A connection whose transaction begins with the statements b0 and b1
 * (may be NULL), sent with its first statement (pg_exec). */
static struct pg_conn *begin(struct pg_store *st, const char *b0, const char *b1, struct err *e)
{
	struct pg_conn *c = checkout(st, e);
	if (c) {
		c->pending[0] = b0;
		c->pending[1] = b1;
	}
	return c;
}

struct store_conn *pg_read(struct store *sst, struct err *e)
{
	struct pg_conn *c =
	    begin(PG(sst), "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", NULL, e);
	return c ? CONN(c) : NULL;
}

void pg_release(struct store_conn *cc)
{
	struct pg_conn *c = PGC(cc);
	if (!c)
		return;
	if (c->writer) {
		pg_write_rollback(cc);
		return;
	}
	if (!c->broken && PQtransactionStatus(c->pc) != PQTRANS_IDLE)
		send_commit(c);
	checkin(c);
}

struct store_conn *pg_write_begin(struct store *sst, struct err *e)
{
	struct pg_store *st = PG(sst);
	int off = __atomic_load_n(&st->sync_off, __ATOMIC_RELAXED);
	struct pg_conn *c = begin(st, "BEGIN ISOLATION LEVEL READ COMMITTED",
	                          off ? "SET LOCAL synchronous_commit TO off" : NULL, e);
	if (!c)
		return NULL;
	c->writer = 1;
	return CONN(c);
}

void pg_write_audit(struct store_conn *cc, const struct store_audit *a, int64_t *written)
{
	struct pg_conn *c = PGC(cc);
	c->audit = *a;
	c->audit_id = written;
}

int pg_write_commit(struct store_conn *cc, struct err *e)
{
	struct pg_conn *c = PGC(cc);
	int64_t *written = c->audit_id, id = 0;
	c->audit_id = NULL;
	int rc = 0;
	PGTransactionStatusType ts = PQtransactionStatus(c->pc);
	if (ts == PQTRANS_INERROR)
		rc = err_set(e, ERR_INTERNAL, "store: commit of a transaction that failed");
	else if (written)
		rc = pg_audit_commit(c, &id, e); /* the entry and the COMMIT together */
	else if (ts != PQTRANS_IDLE)
		rc = pg_simple(c, "COMMIT", e);
	c->pending[0] = c->pending[1] = NULL; /* nothing was sent: nothing to commit */
	if (rc != 0) {
		/* A COMMIT cut off by a lost connection may or may not have
		 * committed: UNAVAILABLE says "retry", and every write of the API
		 * is idempotent on retry. */
		if (!c->broken && PQtransactionStatus(c->pc) != PQTRANS_IDLE)
			pg_simple(c, "ROLLBACK", NULL);
	} else {
		__atomic_store_n(&c->st->fault, 0, __ATOMIC_RELAXED);
		if (written) {
			*written = id;
			pg_audit_after_commit(c, &c->audit, id);
		}
	}
	c->writer = 0;
	checkin(c);
	return rc;
}

void pg_write_rollback(struct store_conn *cc)
{
	struct pg_conn *c = PGC(cc);
	if (!c)
		return;
	c->audit_id = NULL;
	if (!c->broken && PQtransactionStatus(c->pc) != PQTRANS_IDLE)
		pg_simple(c, "ROLLBACK", NULL);
	c->writer = 0;
	checkin(c);
}

/* Transaction-level advisory locks, released by COMMIT or ROLLBACK:
 * class 1 for studies (the id folded to 32 bits: two studies that share a
 * lock only wait for each other), class 2 for owners (a hash of the id). */
int pg_lock_study(struct store_conn *w, int64_t study_rowid, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_i64(&a, study_rowid);
	PGresult *r = pg_exec(
	    PGC(w), PQ_LOCK_STUDY,
	    "SELECT pg_advisory_xact_lock(1, ($1::bigint # ($1::bigint >> 32))::int)", &a, e);
	PQclear(r);
	return r ? 0 : -(int)e->code;
}

int pg_lock_owner(struct store_conn *w, const char *owner, struct err *e)
{
	struct pg_args a = {0};
	pg_arg_text(&a, owner ? owner : "");
	PGresult *r =
	    pg_exec(PGC(w), PQ_LOCK_OWNER, "SELECT pg_advisory_xact_lock(2, hashtext($1))", &a, e);
	PQclear(r);
	return r ? 0 : -(int)e->code;
}

/* The planning section: a session advisory lock (class 3, the study's
 * id folded like class 1) on a connection of the pool held for the
 * section, outside any transaction. A connection lost meanwhile loses the
 * lock with it; the hand-out's own check of the plan's view still holds. */
struct store_section {
	struct pg_conn *c;
	int64_t key;
};

int pg_plan_lock(struct store *sst, int64_t study_rowid, struct store_section **out, struct err *e)
{
	struct store_section *s = malloc(sizeof(*s));
	if (!s)
		return err_set(e, ERR_INTERNAL, "store: out of memory");
	struct pg_conn *c = NULL;
	for (int attempt = 0; attempt < 2 && !c; attempt++) {
		if (!(c = checkout(PG(sst), e)))
			break;
		struct pg_args a = {0};
		pg_arg_i64(&a, study_rowid);
		PGresult *r = pg_exec(
		    c, PQ_PLAN_LOCK,
		    "SELECT pg_advisory_lock(3, ($1::bigint # ($1::bigint >> 32))::int)", &a, e);
		PQclear(r);
		if (r)
			break;
		int lost = c->broken;
		c->broken = 1;
		checkin(c);
		c = NULL;
		if (!lost)
			break;
		drain_idle(PG(sst)); /* a stale pooled connection: once more */
	}
	if (!c) {
		free(s);
		return -(int)e->code;
	}
	s->c = c;
	s->key = study_rowid;
	*out = s;
	return 0;
}

void pg_plan_unlock(struct store_section *s)
{
	if (!s)
		return;
	struct err e;
	struct pg_args a = {0};
	pg_arg_i64(&a, s->key);
	PGresult *r = s->c->broken ? NULL
	                           : pg_exec(s->c, PQ_PLAN_UNLOCK,
	                                     "SELECT pg_advisory_unlock(3, ($1::bigint # "
	                                     "($1::bigint >> 32))::int)",
	                                     &a, &e);
	/* A session lock must not outlive the section on a pooled session. */
	if (!r)
		s->c->broken = 1;
	PQclear(r);
	checkin(s->c);
	free(s);
}

/* ---- open, close, settings ---- */

struct store *pg_open(const char *url, int pool, struct err *e)
{
	struct pg_store *st = calloc(1, sizeof(*st));
	if (!st || !(st->url = strdup(url))) {
		free(st);
		err_set(e, ERR_INTERNAL, "store: out of memory");
		return NULL;
	}
	st->ops = &pg_store_ops;
	st->max = pool > 0 ? pool : STORE_POOL_DEFAULT;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	struct pg_conn *c = checkout(st, e);
	if (!c) {
		err_set(e, ERR_UNAVAILABLE, "store: cannot connect to PostgreSQL (%s)",
		        "see the server log");
		pg_close((struct store *)st);
		return NULL;
	}
	int rc = pg_migrate(c, e);
	checkin(c);
	if (rc != 0) {
		pg_close((struct store *)st);
		return NULL;
	}
	return (struct store *)st;
}

void pg_close(struct store *sst)
{
	struct pg_store *st = PG(sst);
	if (!st)
		return;
	pthread_mutex_lock(&st->mu);
	while (st->n_open > 0) {
		while (st->idle) {
			struct pg_conn *c = st->idle;
			st->idle = c->next;
			st->n_open--;
			conn_close(c);
		}
		if (st->n_open > 0)
			pthread_cond_wait(&st->cv, &st->mu);
	}
	pthread_mutex_unlock(&st->mu);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv);
	free(st->url);
	free(st);
}

int pg_set_sync(struct store *sst, enum store_sync mode, struct err *e)
{
	(void)e;
	__atomic_store_n(&PG(sst)->sync_off, mode == STORE_SYNC_NORMAL, __ATOMIC_RELAXED);
	return 0;
}

/* PostgreSQL manages its own WAL (max_wal_size): nothing to do. */
int pg_set_wal_target(struct store *sst, int64_t bytes, struct err *e)
{
	(void)sst;
	if (bytes < 1024 * 1024)
		return err_set(e, ERR_INVALID_ARGUMENT, "store: WAL target %lld is below 1 MiB",
		               (long long)bytes);
	return 0;
}

/* 0 when the server answers; *standby 1 when it is a read-only standby
 * (in recovery: every write would fail). */
static int ping(struct store *sst, int *standby)
{
	struct err e;
	struct store_conn *c = pg_read(sst, &e);
	if (!c)
		return -(int)e.code;
	PGresult *r = pg_exec(PGC(c), PQ_PING, "SELECT pg_is_in_recovery()", NULL, &e);
	*standby = r && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	pg_release(c);
	return r ? 0 : -(int)e.code;
}

int pg_ping(struct store *sst)
{
	int standby;
	return ping(sst, &standby);
}

int pg_health(struct store *sst, struct err *e)
{
	struct pg_store *st = PG(sst);
	int standby = 0;
	if (ping(sst, &standby) != 0)
		return err_set(e, ERR_UNAVAILABLE, "the database is not answering");
	if (standby)
		return err_set(e, ERR_UNAVAILABLE,
		               "the database is a read-only standby (in recovery): writes fail");
	if (!__atomic_load_n(&st->fault, __ATOMIC_RELAXED))
		return 0;
	/* A write failed: one write a second finds out whether they work
	 * again, even while no client writes. */
	int64_t now = mono_ms(), last = __atomic_load_n(&st->probe_ms, __ATOMIC_RELAXED);
	if (now - last >= 1000 && __atomic_compare_exchange_n(&st->probe_ms, &last, now, 0,
	                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		struct err pe;
		struct store_conn *w = pg_write_begin(sst, &pe);
		PGresult *r =
		    w ? pg_exec(PGC(w), PQ_HEALTH_PROBE,
		                "INSERT INTO health(id, probes) VALUES (1, 1) "
		                "ON CONFLICT (id) DO UPDATE SET probes = health.probes + 1",
		                NULL, &pe)
		      : NULL;
		PQclear(r);
		if (r)
			pg_write_commit(w, &pe);
		else
			pg_write_rollback(w);
	}
	if (__atomic_load_n(&st->fault, __ATOMIC_RELAXED))
		return err_set(e, ERR_UNAVAILABLE, "writes to the database failed; retry later");
	return 0;
}

int pg_rows(PGresult *r, size_t size, int (*read)(const PGresult *r, int i, void *elem), void **out,
            size_t *n, struct err *e)
{
	int rows = PQntuples(r), rc = 0;
	*out = NULL;
	*n = 0;
	if (rows > 0 && !(*out = calloc((size_t)rows, size)))
		rc = err_set(e, ERR_INTERNAL, "store: out of memory");
	for (int i = 0; rc == 0 && i < rows; i++) {
		(*n)++;
		if (read(r, i, (char *)*out + (size_t)i * size))
			rc = err_set(e, ERR_INTERNAL, "store: out of memory");
	}
	PQclear(r);
	return rc;
}
