/* pg_internal: what the PostgreSQL backend's files (server/store/pg/)
 * share and nothing else includes. docs/storage.md describes the backend:
 * a small pool of libpq connections per daemon; a read is a REPEATABLE
 * READ READ ONLY transaction (one snapshot until release), a write a READ
 * COMMITTED transaction whose critical sections (store_lock_study,
 * store_lock_owner) are transaction-level advisory locks, so that several
 * daemons on one database exclude each other per study and per owner. */
#ifndef SIBYL_PG_INTERNAL_H
#define SIBYL_PG_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>

#include "store_backend.h"

/* Every statement the backend runs, prepared once per connection on first
 * use (PQprepare) and kept until the connection closes. */
enum pg_stmt_id {
	PQ_PING,
	PQ_LOCK_STUDY,
	PQ_LOCK_OWNER,
	PQ_MIGRATION_LOCK,
	PQ_PLAN_LOCK,
	PQ_PLAN_UNLOCK,
	PQ_OWNER_INSERT,
	PQ_OWNER_EXISTS,
	PQ_OWNER_GET,
	PQ_OWNER_LIST,
	PQ_OWNER_DELETE,
	PQ_OWNER_COUNT_STUDIES,
	PQ_OWNER_QUOTA_GET,
	PQ_OWNER_ACTIVE_COUNT,
	PQ_OWNER_UPDATE,
	PQ_OWNER_DELETE_STUDIES,
	PQ_KEY_INSERT,
	PQ_KEY_GET,
	PQ_KEY_LIST,
	PQ_KEY_REVOKE,
	PQ_AUDIT_INSERT,
	PQ_AUDIT_COUNT,
	PQ_AUDIT_PRUNE,
	PQ_AUDIT_ADD_COUNT,
	PQ_AUDIT_UPDATE,
	PQ_AUDIT_LIST,
	PQ_AUDIT_LIST_OWNER,
	PQ_SECRET_GET,
	PQ_SECRET_INSERT,
	PQ_HEALTH_PROBE,
	PQ_STUDY_GET,
	PQ_STUDY_GET_ROWID,
	PQ_STUDY_NAME,
	PQ_STUDY_INSERT,
	PQ_STUDY_LIST,
	PQ_STUDY_DELETE,
	PQ_STUDY_SET_STATE,
	PQ_STUDY_SET_PROGRESS,
	PQ_STUDY_SET_METADATA,
	PQ_STUDY_NEXT_TRIAL_GET,
	PQ_STUDY_NEXT_TRIAL,
	PQ_STUDY_NEXT_OPERATION,
	PQ_COUNT_STUDIES,
	PQ_TRIAL_INSERT,
	PQ_TRIAL_GET,
	PQ_TRIAL_SET_LEASE,
	PQ_TRIAL_FINISH,
	PQ_TRIAL_UPDATE,
	PQ_TRIAL_DELETE,
	PQ_TRIAL_SET_METADATA,
	PQ_TRIAL_LIST,
	PQ_TRIAL_LIST_CLIENT,
	PQ_TRIAL_COUNT,
	PQ_TRIAL_EXPIRE,
	PQ_TRIAL_ADD_MEASUREMENT,
	PQ_MEASUREMENT_INSERT,
	PQ_MEASUREMENT_LIST,
	PQ_OPERATION_INSERT,
	PQ_OPERATION_PRUNE,
	PQ_OPERATION_GET,
	PQ_COUNT_TRIALS_BY_STATE,
	PQ_TRIAL_SEQ,
	PQ_TRIAL_CHANGED,
	PQ_TRIAL_CHANGED_ALL,
	PQ_COUNT
};

struct pg_store;

struct pg_conn {
	const struct store_ops *ops; /* first: store_backend.h */
	struct pg_store *st;
	PGconn *pc;
	int writer;             /* in a write transaction */
	int broken;             /* lost or unusable: closed on release */
	const char *pending[2]; /* the BEGIN statements not sent yet (pg.c) */
	int commit_sent;        /* a read's COMMIT sent, its result not read (pg.c) */
	struct pg_conn *next;   /* idle list */
	unsigned char prepared[PQ_COUNT];
	/* The writer's audit entry for its commit (store_write_audit):
	 * strings borrowed; audit_id NULL when none. */
	struct store_audit audit;
	int64_t *audit_id;
};

struct pg_store {
	const struct store_ops *ops; /* first: store_backend.h */
	char *url;
	pthread_mutex_t mu; /* guards the pool */
	pthread_cond_t cv;  /* a connection came back */
	struct pg_conn *idle;
	int n_open;       /* connections open or being opened */
	int max;          /* the pool's size */
	int sync_off;     /* STORE_SYNC_NORMAL: synchronous_commit off (atomic) */
	int fault;        /* a write failed for want of the database (atomic) */
	int64_t probe_ms; /* last health probe (atomic) */
};

#define PG(st)   ((struct pg_store *)(void *)(st))
#define PGC(c)   ((struct pg_conn *)(void *)(c))
#define CONN(pc) ((struct store_conn *)(void *)(pc))

/* Parameters of one statement, all sent as text but for bytea (binary). */
#define PG_MAX_ARGS 16
struct pg_args {
	int n;
	const char *v[PG_MAX_ARGS];
	int len[PG_MAX_ARGS];
	int fmt[PG_MAX_ARGS];
	char num[PG_MAX_ARGS][32];
};
void pg_arg_i64(struct pg_args *a, int64_t x);
void pg_arg_f64(struct pg_args *a, double x);
void pg_arg_text(struct pg_args *a, const char *s); /* NULL: SQL NULL */
void pg_arg_bin(struct pg_args *a, const void *p, size_t n);

/* pg_exec, then the transaction's COMMIT, in one round trip: the result
 * of the statement when both went well. */
PGresult *pg_exec_commit(struct pg_conn *c, enum pg_stmt_id id, const char *sql, struct pg_args *a,
                         struct err *e);
/* Runs statement id (prepared from sql on first use on this connection)
 * with args a (may be NULL). The result (rows or none) or NULL with e set:
 * UNAVAILABLE when the database cannot be reached (the connection is then
 * closed on release and a new one opened at the next checkout). */
PGresult *pg_exec(struct pg_conn *c, enum pg_stmt_id id, const char *sql, struct pg_args *a,
                  struct err *e);
/* Sends the transaction's BEGIN now when it is still pending (pg_exec
 * sends it with the first statement; what talks to c->pc directly calls
 * this first). */
int pg_begin_now(struct pg_conn *c, struct err *e);
/* Runs sql as is (no parameters; several statements allowed), after the
 * pending BEGIN if any. */
int pg_simple(struct pg_conn *c, const char *sql, struct err *e);
/* The caller's error for a failed result (r may be NULL): what a client can
 * act on; the server's text goes to the log. */
int pg_fail(struct pg_conn *c, const PGresult *r, const char *what, struct err *e);

/* Column helpers: a row's int64 / int / double (0 for NULL) and a malloc'd
 * copy of a text column (NULL for SQL NULL; *oom set when it fails). */
int64_t pg_i64(const PGresult *r, int row, int col);
double pg_f64(const PGresult *r, int row, int col);
/* Reads every row of r into a new calloc'd array of elements of size
 * bytes, row i by read(r, i, &element i) (non-zero: out of memory), and
 * clears r. On failure *out still holds the *n elements read so far, for
 * the caller's typed free. */
int pg_rows(PGresult *r, size_t size, int (*read)(const PGresult *r, int i, void *elem), void **out,
            size_t *n, struct err *e);
char *pg_dup(const PGresult *r, int row, int col, int *oom);
/* Rows an UPDATE or DELETE changed. */
int64_t pg_changes(const PGresult *r);

/* "owners/O/studies/S" for a study id (or "study #N" when absent). */
void pg_study_name(struct pg_conn *c, int64_t rowid, char *buf, size_t len);
/* The growing array of the list calls (store_grow's contract). */
void *pg_grow(void *arr, size_t *cap, size_t n, size_t elem);

/* Brings the schema to the newest of migrations/pg/ under a session
 * advisory lock (daemons starting together apply each migration once);
 * refuses a database newer than this binary. c is outside a transaction. */
int pg_migrate(struct pg_conn *c, struct err *e);

/* The audit entry handed to w's commit (store_write_audit), inserted
 * with the COMMIT in one round trip (pg_exec_commit); *id its row id.
 * After the commit, pg_audit_after_commit prunes the owner's oldest
 * entries in a transaction of its own when their count is due a check
 * (every AUDIT_PRUNE_BATCH-th id). */
int pg_audit_commit(struct pg_conn *w, int64_t *id, struct err *e);
void pg_audit_after_commit(struct pg_conn *c, const struct store_audit *a, int64_t id);

#include "pg_ops.h"

#endif
