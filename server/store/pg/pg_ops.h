/* pg_ops: the PostgreSQL backend's entry points, one per function of
 * store.h (same contract, prefix pg_ for store_), reached through
 * pg_store_ops (pg_ops.c). */
#ifndef SIBYL_PG_OPS_H
#define SIBYL_PG_OPS_H

#include "store_backend.h"

void pg_close(struct store *st);
struct store_conn *pg_read(struct store *st, struct err *e);
void pg_release(struct store_conn *c);
struct store_conn *pg_write_begin(struct store *st, struct err *e);
void pg_write_audit(struct store_conn *w, const struct store_audit *a, int64_t *written);
int pg_write_commit(struct store_conn *w, struct err *e);
void pg_write_rollback(struct store_conn *w);
int pg_lock_study(struct store_conn *w, int64_t study_rowid, struct err *e);
int pg_lock_owner(struct store_conn *w, const char *owner, struct err *e);
int pg_plan_lock(struct store *st, int64_t study_rowid, struct store_section **out, struct err *e);
int pg_ping(struct store *st);
int pg_health(struct store *st, struct err *e);
int pg_set_wal_target(struct store *st, int64_t bytes, struct err *e);
int pg_set_sync(struct store *st, enum store_sync mode, struct err *e);
int pg_owner_ensure(struct store_conn *w, const char *owner, int64_t now, struct err *e);
int pg_owner_insert(struct store_conn *w, const char *owner, const char *display_name, int64_t now,
                    struct err *e);
int pg_owner_get(struct store_conn *c, const char *owner, struct store_owner *out, struct err *e);
int pg_owner_list(struct store_conn *c, const char *after, int limit, struct store_owner **out,
                  size_t *n, struct err *e);
int pg_owner_delete(struct store_conn *w, const char *owner, struct err *e);
int pg_owner_quota_get(struct store_conn *c, const char *owner, struct store_quota *out,
                       struct err *e);
int pg_owner_active_count(struct store_conn *c, const char *owner, int64_t *n, struct err *e);
int pg_owner_update(struct store_conn *w, const char *owner, const char *display_name,
                    const struct store_quota *q, struct err *e);
int pg_owner_delete_all(struct store_conn *w, const char *owner, struct err *e);
int pg_key_insert(struct store_conn *w, const struct store_key *k, struct err *e);
int pg_key_get(struct store_conn *c, const char *keyid, struct store_key *out, double *owner_rps,
               struct err *e);
int pg_key_list(struct store_conn *c, const char *owner, int64_t after, int limit,
                struct store_key **out, size_t *n, struct err *e);
int pg_key_revoke(struct store_conn *w, const char *owner, const char *keyid, int64_t now,
                  struct err *e);
int pg_audit_insert(struct store_conn *w, const struct store_audit *a, struct err *e);
int pg_audit_prune(struct store_conn *w, const char *owner, int64_t keep, struct err *e);
int pg_audit_add_count(struct store *st, int64_t id, int64_t n, int64_t last, struct err *e);
int pg_audit_record(struct store *st, int64_t id, const struct store_audit *a, int64_t *written,
                    struct err *e);
int pg_audit_list(struct store_conn *c, const char *owner, int64_t before, int limit,
                  struct store_audit **out, size_t *n, struct err *e);
int pg_secret(struct store *st, const char *name, const unsigned char *fresh, size_t len,
              unsigned char *out, struct err *e);
int pg_study_insert(struct store_conn *w, const char *owner, const char *study_id,
                    const char *spec_json, int64_t now, struct store_study *out, struct err *e);
int pg_study_get(struct store_conn *c, const char *owner, const char *study_id,
                 struct store_study *out, struct err *e);
int pg_study_get_by_rowid(struct store_conn *c, int64_t rowid, struct store_study *out,
                          struct err *e);
int pg_study_list(struct store_conn *c, const char *owner, int64_t after, int limit,
                  struct store_study **out, size_t *n, struct err *e);
int pg_study_delete(struct store_conn *w, const char *owner, const char *study_id, struct err *e);
int pg_study_set_state(struct store_conn *w, int64_t rowid, int state, const char *reason,
                       struct err *e);
int pg_study_set_progress(struct store_conn *w, int64_t rowid, int64_t when, struct err *e);
int pg_study_set_metadata(struct store_conn *w, int64_t rowid, const char *metadata_json,
                          struct err *e);
int pg_study_next_trial(struct store_conn *c, int64_t rowid, int64_t *next, struct err *e);
int pg_trial_insert(struct store_conn *w, struct store_trial *t, struct err *e);
int pg_trial_get(struct store_conn *c, int64_t study_rowid, int64_t id, struct store_trial *out,
                 struct err *e);
int pg_trial_update(struct store_conn *w, const struct store_trial *t, struct err *e);
int pg_trial_finish(struct store_conn *w, const struct store_trial *t, struct err *e);
int pg_trial_set_lease(struct store_conn *w, int64_t study_rowid, int64_t id, int64_t lease_expiry,
                       struct err *e);
int pg_trial_delete(struct store_conn *w, int64_t study_rowid, int64_t id, struct err *e);
int pg_trial_set_metadata(struct store_conn *w, int64_t study_rowid, int64_t id,
                          const char *metadata_json, struct err *e);
int pg_trial_list(struct store_conn *c, int64_t study_rowid, unsigned state_mask, int64_t after,
                  int limit, struct store_trial **out, size_t *n, struct err *e);
int pg_trial_list_by_client(struct store_conn *c, int64_t study_rowid, const char *client_id,
                            struct store_trial **out, size_t *n, struct err *e);
int pg_trial_count(struct store_conn *c, int64_t study_rowid, unsigned state_mask, int64_t *count,
                   struct err *e);
int pg_trial_expire_leases(struct store_conn *w, int64_t study_rowid, int64_t now,
                           int64_t *n_expired, struct err *e);
int pg_trial_seq(struct store_conn *c, int64_t study_rowid, int64_t *seq, int64_t *deletes,
                 struct err *e);
int pg_trial_changed(struct store_conn *c, int64_t study_rowid, int64_t after,
                     int (*fn)(void *ctx, const struct store_hist_row *r), void *ctx,
                     struct err *e);
int pg_measurement_add(struct store_conn *w, int64_t study_rowid, int64_t trial_id,
                       const char *measurement_json, int64_t lease_expiry, struct err *e);
int pg_measurement_joined(struct store_conn *c, int64_t study_rowid, int64_t trial_id, char **out,
                          size_t *len, size_t *last, struct err *e);
int pg_operation_insert(struct store_conn *w, int64_t study_rowid, const char *json, int64_t *op_id,
                        struct err *e);
int pg_operation_get(struct store_conn *c, int64_t study_rowid, int64_t op_id, char **json,
                     struct err *e);
int pg_count_studies(struct store_conn *c, int64_t *n, struct err *e);
int pg_count_trials_by_state(struct store_conn *c, int64_t counts[6], struct err *e);

#endif
