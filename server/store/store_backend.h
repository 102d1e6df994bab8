/* store_backend: what a storage backend implements, seen only by
 * server/store/store.c and the backends (server/store/sqlite/,
 * server/store/pg/). Every function of store.h that takes a struct store
 * or a struct store_conn dispatches through the backend's ops table, found
 * through the first member of those structs: each backend's struct store
 * and struct store_conn begin with a `const struct store_ops *ops` set
 * when they are made. Not an interface for the layers above. */
#ifndef SIBYL_STORE_BACKEND_H
#define SIBYL_STORE_BACKEND_H

#include "store.h"

/* One member per store.h function, named without the store_ prefix, with
 * the same arguments and the same contract (store.h). */
struct store_ops {
	const char *name; /* "sqlite", "postgresql" */
	void (*close)(struct store *st);
	struct store_conn *(*read)(struct store *st, struct err *e);
	void (*release)(struct store_conn *c);
	struct store_conn *(*write_begin)(struct store *st, struct err *e);
	void (*write_audit)(struct store_conn *w, const struct store_audit *a, int64_t *written);
	int (*write_commit)(struct store_conn *w, struct err *e);
	void (*write_rollback)(struct store_conn *w);
	int (*lock_study)(struct store_conn *w, int64_t study_rowid, struct err *e);
	int (*lock_owner)(struct store_conn *w, const char *owner, struct err *e);
	int (*plan_lock)(struct store *st, int64_t study_rowid, struct store_section **out,
	                 struct err *e);
	int (*ping)(struct store *st);
	int (*health)(struct store *st, struct err *e);
	int (*set_wal_target)(struct store *st, int64_t bytes, struct err *e);
	int (*set_sync)(struct store *st, enum store_sync mode, struct err *e);
	int (*owner_ensure)(struct store_conn *w, const char *owner, int64_t now, struct err *e);
	int (*owner_insert)(struct store_conn *w, const char *owner, const char *display_name,
	                    int64_t now, struct err *e);
	int (*owner_get)(struct store_conn *c, const char *owner, struct store_owner *out,
	                 struct err *e);
	int (*owner_list)(struct store_conn *c, const char *after, int limit,
	                  struct store_owner **out, size_t *n, struct err *e);
	int (*owner_delete)(struct store_conn *w, const char *owner, struct err *e);
	int (*owner_quota_get)(struct store_conn *c, const char *owner, struct store_quota *out,
	                       struct err *e);
	int (*owner_active_count)(struct store_conn *c, const char *owner, int64_t *n,
	                          struct err *e);
	int (*owner_update)(struct store_conn *w, const char *owner, const char *display_name,
	                    const struct store_quota *q, struct err *e);
	int (*owner_delete_all)(struct store_conn *w, const char *owner, struct err *e);
	int (*key_insert)(struct store_conn *w, const struct store_key *k, struct err *e);
	int (*key_get)(struct store_conn *c, const char *keyid, struct store_key *out,
	               double *owner_rps, struct err *e);
	int (*key_list)(struct store_conn *c, const char *owner, int64_t after, int limit,
	                struct store_key **out, size_t *n, struct err *e);
	int (*key_revoke)(struct store_conn *w, const char *owner, const char *keyid, int64_t now,
	                  struct err *e);
	int (*audit_insert)(struct store_conn *w, const struct store_audit *a, struct err *e);
	int (*audit_prune)(struct store_conn *w, const char *owner, int64_t keep, struct err *e);
	int (*audit_add_count)(struct store *st, int64_t id, int64_t n, int64_t last,
	                       struct err *e);
	int (*audit_record)(struct store *st, int64_t id, const struct store_audit *a,
	                    int64_t *written, struct err *e);
	int (*audit_list)(struct store_conn *c, const char *owner, int64_t before, int limit,
	                  struct store_audit **out, size_t *n, struct err *e);
	int (*secret)(struct store *st, const char *name, const unsigned char *fresh, size_t len,
	              unsigned char *out, struct err *e);
	int (*study_insert)(struct store_conn *w, const char *owner, const char *study_id,
	                    const char *spec_json, int64_t now, struct store_study *out,
	                    struct err *e);
	int (*study_get)(struct store_conn *c, const char *owner, const char *study_id,
	                 struct store_study *out, struct err *e);
	int (*study_get_by_rowid)(struct store_conn *c, int64_t rowid, struct store_study *out,
	                          struct err *e);
	int (*study_list)(struct store_conn *c, const char *owner, int64_t after, int limit,
	                  struct store_study **out, size_t *n, struct err *e);
	int (*study_delete)(struct store_conn *w, const char *owner, const char *study_id,
	                    struct err *e);
	int (*study_set_state)(struct store_conn *w, int64_t rowid, int state, const char *reason,
	                       struct err *e);
	int (*study_set_progress)(struct store_conn *w, int64_t rowid, int64_t when, struct err *e);
	int (*study_set_metadata)(struct store_conn *w, int64_t rowid, const char *metadata_json,
	                          struct err *e);
	int (*study_next_trial)(struct store_conn *c, int64_t rowid, int64_t *next, struct err *e);
	int (*trial_insert)(struct store_conn *w, struct store_trial *t, struct err *e);
	int (*trial_get)(struct store_conn *c, int64_t study_rowid, int64_t id,
	                 struct store_trial *out, struct err *e);
	int (*trial_update)(struct store_conn *w, const struct store_trial *t, struct err *e);
	int (*trial_finish)(struct store_conn *w, const struct store_trial *t, struct err *e);
	int (*trial_set_lease)(struct store_conn *w, int64_t study_rowid, int64_t id,
	                       int64_t lease_expiry, struct err *e);
	int (*trial_delete)(struct store_conn *w, int64_t study_rowid, int64_t id, struct err *e);
	int (*trial_set_metadata)(struct store_conn *w, int64_t study_rowid, int64_t id,
	                          const char *metadata_json, struct err *e);
	int (*trial_list)(struct store_conn *c, int64_t study_rowid, unsigned state_mask,
	                  int64_t after, int limit, struct store_trial **out, size_t *n,
	                  struct err *e);
	int (*trial_list_by_client)(struct store_conn *c, int64_t study_rowid,
	                            const char *client_id, struct store_trial **out, size_t *n,
	                            struct err *e);
	int (*trial_count)(struct store_conn *c, int64_t study_rowid, unsigned state_mask,
	                   int64_t *count, struct err *e);
	int (*trial_expire_leases)(struct store_conn *w, int64_t study_rowid, int64_t now,
	                           int64_t *n_expired, struct err *e);
	int (*trial_seq)(struct store_conn *c, int64_t study_rowid, int64_t *seq, int64_t *deletes,
	                 struct err *e);
	int (*trial_changed)(struct store_conn *c, int64_t study_rowid, int64_t after,
	                     int (*fn)(void *ctx, const struct store_hist_row *r), void *ctx,
	                     struct err *e);
	int (*measurement_add)(struct store_conn *w, int64_t study_rowid, int64_t trial_id,
	                       const char *measurement_json, int64_t lease_expiry, struct err *e);
	int (*measurement_joined)(struct store_conn *c, int64_t study_rowid, int64_t trial_id,
	                          char **out, size_t *len, size_t *last, struct err *e);
	int (*operation_insert)(struct store_conn *w, int64_t study_rowid, const char *json,
	                        int64_t *op_id, struct err *e);
	int (*operation_get)(struct store_conn *c, int64_t study_rowid, int64_t op_id, char **json,
	                     struct err *e);
	int (*count_studies)(struct store_conn *c, int64_t *n, struct err *e);
	int (*count_trials_by_state)(struct store_conn *c, int64_t counts[6], struct err *e);
};

/* ---- copying a whole database between backends (store_copy.c) ---- */

/* One table as both backends have it: the columns both schemas share, in
 * one order; bit i of blobs marks column i as bytes (else text, integers
 * and reals as their decimal text). */
#define STORE_COPY_MAX_COLS 16
struct store_copy_table {
	const char *name;
	const char *cols; /* "a, b, c" */
	int n_cols;
	unsigned blobs;
	const char *order;  /* ORDER BY of the read */
	const char *upsert; /* appended to the INSERT (NULL: none) */
};
/* A row: v[i] NULL for SQL NULL; len[i] the bytes of v[i]. */
struct store_copy_row {
	const char *v[STORE_COPY_MAX_COLS];
	int len[STORE_COPY_MAX_COLS];
};
/* What a backend adds for store_copy: read every row of t on a read
 * connection (fn's non-zero return stops and is returned), insert one on a
 * write connection, and, before the copy commits, bring the destination's
 * own counters (identity sequences) past the copied ids. */
struct store_copy_ops {
	int (*rows)(struct store_conn *c, const struct store_copy_table *t,
	            int (*fn)(void *ctx, const struct store_copy_row *r), void *ctx, struct err *e);
	int (*insert)(struct store_conn *w, const struct store_copy_table *t,
	              const struct store_copy_row *r, struct err *e);
	int (*finish)(struct store_conn *w, struct err *e);
};
extern const struct store_copy_ops sqlite_copy_ops;
extern const struct store_copy_ops pg_copy_ops;

/* The ops of whatever st or c points to (a backend's struct store or
 * struct store_conn, whose first member is the ops pointer). */
static inline const struct store_ops *store_ops_of(const void *st_or_conn)
{
	return *(const struct store_ops *const *)st_or_conn;
}

/* ---- the SQLite backend (sqlite/) ---- */
extern const struct store_ops sqlite_store_ops;
struct store *sqlite_open(const char *path, struct err *e);
int sqlite_backup_file(const char *db_path, const char *dest, struct err *e);

/* ---- the PostgreSQL backend (pg/) ---- */
extern const struct store_ops pg_store_ops;
/* store_plan_unlock of a section of the PostgreSQL backend (the only one
 * that makes them). */
void pg_plan_unlock(struct store_section *s);
/* url: a libpq connection URI; pool: connections at most (>= 1). */
struct store *pg_open(const char *url, int pool, struct err *e);

#endif
