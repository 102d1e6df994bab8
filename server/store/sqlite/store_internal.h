/* store_internal: what the store_*.c files share and nothing else includes
 * (a bench or test may, to reach the raw connection). Not an interface. */
#ifndef SIBYL_STORE_INTERNAL_H
#define SIBYL_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>

#include "store.h"
#include "store_migrations.h"
#include "store_sqlite.h"

/* Every SQL statement the store runs, prepared once per connection on first
 * use (SQLITE_PREPARE_PERSISTENT) and kept until the connection closes. */
enum store_stmt_id {
	ST_BEGIN,
	ST_BEGIN_IMMEDIATE,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_PING,
	ST_OWNER_INSERT,
	ST_OWNER_EXISTS,
	ST_OWNER_GET,
	ST_OWNER_LIST,
	ST_OWNER_DELETE,
	ST_OWNER_COUNT_STUDIES,
	ST_STUDY_INSERT,
	ST_STUDY_GET,
	ST_STUDY_GET_ROWID,
	ST_STUDY_LIST,
	ST_STUDY_DELETE,
	ST_STUDY_SET_STATE,
	ST_STUDY_SET_PROGRESS,
	ST_STUDY_NAME,
	ST_STUDY_NEXT_TRIAL,
	ST_STUDY_NEXT_OPERATION,
	ST_COUNT_STUDIES,
	ST_TRIAL_INSERT,
	ST_TRIAL_GET,
	ST_TRIAL_UPDATE,
	ST_TRIAL_DELETE,
	ST_TRIAL_LIST_ALL,
	ST_TRIAL_LIST_STATES,
	ST_TRIAL_LIST_SCAN,
	ST_TRIAL_LIST_CLIENT,
	ST_TRIAL_COUNT_ALL,
	ST_TRIAL_COUNT_STATES,
	ST_TRIAL_EXPIRE,
	ST_TRIAL_ADD_MEASUREMENT,
	ST_MEASUREMENT_INSERT,
	ST_MEASUREMENT_LIST,
	ST_TRIAL_SET_LEASE,
	ST_OPERATION_PRUNE,
	ST_TRIAL_FINISH,
	ST_OPERATION_INSERT,
	ST_OPERATION_GET,
	ST_COUNT_TRIALS_BY_STATE,
	ST_TRIAL_SEQ,
	ST_TRIAL_CHANGED,
	ST_TRIAL_CHANGED_ALL,
	/* store_teams.c */
	ST_OWNER_QUOTA_GET,
	ST_OWNER_UPDATE,
	ST_OWNER_DELETE_STUDIES,
	ST_KEY_INSERT,
	ST_KEY_GET,
	ST_KEY_LIST,
	ST_KEY_REVOKE,
	ST_AUDIT_INSERT,
	ST_AUDIT_PRUNE,
	ST_OWNER_ACTIVE_COUNT,
	ST_AUDIT_UPDATE,
	ST_AUDIT_LIST,
	ST_AUDIT_LIST_OWNER,
	/* metadata (0004_metadata.sql) */
	ST_STUDY_SET_METADATA,
	ST_TRIAL_SET_METADATA,
	ST_AUDIT_ADD_COUNT,
	ST_AUDIT_OWNER_COUNT,
	ST_SECRET_INSERT,
	ST_SECRET_GET,
	ST_STUDY_NEXT_TRIAL_GET,
	ST_HEALTH_PROBE,
	ST_COUNT
};

struct store_conn {
	const struct store_ops *ops; /* first: store_backend.h */
	struct store *st;
	sqlite3 *db;
	int writer;              /* the one write connection */
	struct store_conn *next; /* idle list of readers */
	sqlite3_stmt *stmt[ST_COUNT];
	/* The writer's audit entry for its next commit (store_write_audit):
	 * strings borrowed; audit_id NULL when none. */
	struct store_audit audit;
	int64_t *audit_id;
};

struct store {
	const struct store_ops *ops; /* first: store_backend.h */
	char *path;
	struct store_conn *writer;
	pthread_mutex_t wlock; /* held from sqlite_write_begin to commit/rollback */
	/* Group commit (store.c): callers' transactions are savepoints inside
	 * one SQLite transaction that the last caller of a burst commits; see
	 * docs/storage.md. */
	int sync_normal;              /* synchronous=NORMAL (under wlock) */
	int batch_open;               /* an outer transaction is open (under wlock) */
	int batch_n;                  /* callers released into it (under wlock) */
	int64_t batch_start_ms;       /* when it began (under wlock) */
	pthread_mutex_t gclock;       /* guards n_wait and waiters */
	pthread_cond_t gccond;        /* a batch was committed */
	int n_wait;                   /* threads queued in sqlite_write_begin */
	struct store_waiter *waiters; /* callers waiting for the open batch */
	pthread_mutex_t plock;        /* reader pool */
	pthread_cond_t pcond;         /* a reader came back */
	struct store_conn *idle;
	int n_readers; /* opened */
	int n_out;     /* checked out */
	int max_readers;
	const struct store_migration *mig; /* sorted by version */
	size_t n_mig;
	/* The checkpoint thread (store_checkpoint.c). */
	pthread_t ckpt_thread;
	pthread_mutex_t ckpt_mu; /* guards ckpt_wanted, ckpt_stop and the counts */
	pthread_cond_t ckpt_cv;
	pthread_cond_t ckpt_done; /* a checkpoint ended (ckpt_active went 0) */
	sqlite3 *ckpt_db;         /* the thread's own connection */
	int ckpt_init;            /* ckpt_mu and ckpt_cv exist */
	int ckpt_running;         /* the thread runs; written before it starts, after it ends */
	int ckpt_wanted;          /* the log passed CKPT_PAGES */
	int ckpt_stop;
	int ckpt_active;               /* a checkpoint runs, the thread's or the writer's */
	int ckpt_mark;                 /* log length at the last wake-up (under wlock) */
	int ckpt_force;                /* log pages past which the writer restarts it (the WAL
	                                  target); 0: STORE_WAL_TARGET_DEFAULT */
	int ckpt_force_mark;           /* log length at the writer's last try (under wlock) */
	int64_t ckpt_runs, ckpt_pages; /* the thread's checkpoints, pages they copied */
	int64_t ckpt_restarts;         /* the writer's RESTART checkpoints */
	int64_t ckpt_truncates;        /* the thread's TRUNCATE checkpoints when idle */
	int ckpt_log;                  /* log length at the last commit (atomic) */
	int64_t ckpt_commits;          /* commits of the writer (atomic) */
	/* Writes that fail (store_note_fault): the SQLite code of the last
	 * failure of the disk or file (full, I/O error, read-only), 0 after a
	 * commit succeeds; /healthz is not ready meanwhile. Atomic. */
	int fault;
	int64_t probe_ms; /* last health probe write (atomic) */
};

/* The WAL's target size: past it the writer restarts the log (and
 * journal_size_limit truncates the file back to it). */
#define STORE_WAL_TARGET_DEFAULT (16 * 1024 * 1024)

/* Records the outcome of a SQLite call: rc a failure of the disk or the
 * file (SQLITE_FULL, SQLITE_IOERR*, SQLITE_READONLY*, SQLITE_CANTOPEN)
 * marks the store faulty; others are ignored. */
void store_note_fault(struct store *st, int rc);
/* Copies the whole WAL into the database and truncates it to nothing
 * (TRUNCATE checkpoint on the writer, waiting wait_ms at most for other
 * connections); logs what it did. 0, or -1 when it could not. */
int store_ckpt_truncate(struct store *st, int wait_ms);

/* Starts the checkpoint thread and hooks the writer's commits to it; when
 * the thread cannot start, the writer keeps checkpointing as SQLite does.
 * Stop before the writer closes (a no-op on a store never started). */
void store_ckpt_start(struct store *st);
void store_ckpt_stop(struct store *st);
/* Checkpoints the thread ran so far, the pages they copied, and the
 * writer's RESTART checkpoints of a long log. */
void store_ckpt_stats(struct store *st, int64_t *runs, int64_t *pages, int64_t *restarts);

/* The name of the VFS of store_vfs.c ("sibyl"), registered on first call;
 * NULL when it could not be (then connections use SQLite's default). */
#define STORE_VFS_NAME "sibyl"
const char *store_vfs(void);

/* SQLite's own wait for a lock on a store connection. */
#define STORE_BUSY_TIMEOUT_MS 2000

/* sqlite_open with another list of migrations (tests of the migration
 * engine use it; sibyld uses the embedded list). */
struct store *store_open_schema(const char *path, const struct store_migration *mig, size_t n_mig,
                                struct err *e);

/* The cached statement for id, preparing sql on first use; NULL with e set.
 * The statement is reset and unbound: bind, step with store_step, then
 * store_done. */
sqlite3_stmt *store_stmt(struct store_conn *c, enum store_stmt_id id, const char *sql,
                         struct err *e);
/* SQLITE_ROW or SQLITE_DONE, or a negative err with e set (SQLITE_BUSY is
 * retried with backoff first and never reaches the caller as such). */
int store_step(struct store_conn *c, sqlite3_stmt *s, struct err *e);
/* Resets and unbinds s (NULL-safe) so the next user finds it clean. */
void store_done(sqlite3_stmt *s);
/* INTERNAL error naming what failed and SQLite's message. */
int store_sqlerr(struct store_conn *c, struct err *e, const char *what);
/* Binds text or NULL. */
int store_bind_text(sqlite3_stmt *s, int i, const char *v);
/* The list functions' growing array: returns arr, or arr moved to room for
 * twice *cap elements of size elem (16 at first) when n has reached *cap,
 * updating *cap. NULL on out-of-memory, and arr is then untouched: the
 * caller still owns and frees it. */
/* Steps s to its end, reading row after row into a new malloc'd array of
 * elements of size bytes (each zeroed, then filled by read, non-zero: out
 * of memory), and resets s. On failure *out still holds the *n elements
 * read so far, for the caller's typed free. */
int store_rows(struct store_conn *c, sqlite3_stmt *s, size_t size,
               int (*read)(sqlite3_stmt *s, void *elem), void **out, size_t *n, struct err *e);
/* malloc'd copy of a text column, NULL for SQL NULL; *oom set on failure. */
char *store_col_dup(sqlite3_stmt *s, int col, int *oom);
/* Writes "owners/O/studies/S" for a study rowid (or "study #N" when absent). */
void store_study_name(struct store_conn *c, int64_t rowid, char *buf, size_t len);

#endif
