/* store_sqlite: the SQLite backend's entry points, one per function of
 * store.h (same contract, prefix sqlite_ for store_), reached through
 * sqlite_store_ops (store_ops.c). */
#ifndef SIBYL_STORE_SQLITE_H
#define SIBYL_STORE_SQLITE_H

#include "store_backend.h"

void sqlite_close(struct store *st);
struct store_conn *sqlite_read(struct store *st, struct err *e);
void sqlite_release(struct store_conn *c);
struct store_conn *sqlite_write_begin(struct store *st, struct err *e);
void sqlite_write_audit(struct store_conn *w, const struct store_audit *a, int64_t *written);
int sqlite_write_commit(struct store_conn *w, struct err *e);
void sqlite_write_rollback(struct store_conn *w);
int sqlite_lock_study(struct store_conn *w, int64_t study_rowid, struct err *e);
int sqlite_lock_owner(struct store_conn *w, const char *owner, struct err *e);
int sqlite_ping(struct store *st);
int sqlite_health(struct store *st, struct err *e);
int sqlite_set_wal_target(struct store *st, int64_t bytes, struct err *e);
int sqlite_set_sync(struct store *st, enum store_sync mode, struct err *e);
int sqlite_owner_ensure(struct store_conn *w, const char *owner, int64_t now, struct err *e);
int sqlite_owner_insert(struct store_conn *w, const char *owner, const char *display_name,
                        int64_t now, struct err *e);
int sqlite_owner_get(struct store_conn *c, const char *owner, struct store_owner *out,
                     struct err *e);
int sqlite_owner_list(struct store_conn *c, const char *after, int limit, struct store_owner **out,
                      size_t *n, struct err *e);
int sqlite_owner_delete(struct store_conn *w, const char *owner, struct err *e);
int sqlite_owner_quota_get(struct store_conn *c, const char *owner, struct store_quota *out,
                           struct err *e);
int sqlite_owner_active_count(struct store_conn *c, const char *owner, int64_t *n, struct err *e);
int sqlite_owner_update(struct store_conn *w, const char *owner, const char *display_name,
                        const struct store_quota *q, struct err *e);
int sqlite_owner_delete_all(struct store_conn *w, const char *owner, struct err *e);
int sqlite_key_insert(struct store_conn *w, const struct store_key *k, struct err *e);
int sqlite_key_get(struct store_conn *c, const char *keyid, struct store_key *out,
                   double *owner_rps, struct err *e);
int sqlite_key_list(struct store_conn *c, const char *owner, int64_t after, int limit,
                    struct store_key **out, size_t *n, struct err *e);
int sqlite_key_revoke(struct store_conn *w, const char *owner, const char *keyid, int64_t now,
                      struct err *e);
int sqlite_audit_insert(struct store_conn *w, const struct store_audit *a, struct err *e);
int sqlite_audit_prune(struct store_conn *w, const char *owner, int64_t keep, struct err *e);
int sqlite_audit_add_count(struct store *st, int64_t id, int64_t n, int64_t last, struct err *e);
int sqlite_audit_record(struct store *st, int64_t id, const struct store_audit *a, int64_t *written,
                        struct err *e);
int sqlite_audit_list(struct store_conn *c, const char *owner, int64_t before, int limit,
                      struct store_audit **out, size_t *n, struct err *e);
int sqlite_secret(struct store *st, const char *name, const unsigned char *fresh, size_t len,
                  unsigned char *out, struct err *e);
int sqlite_study_insert(struct store_conn *w, const char *owner, const char *study_id,
                        const char *spec_json, int64_t now, struct store_study *out, struct err *e);
int sqlite_study_get(struct store_conn *c, const char *owner, const char *study_id,
                     struct store_study *out, struct err *e);
int sqlite_study_get_by_rowid(struct store_conn *c, int64_t rowid, struct store_study *out,
                              struct err *e);
int sqlite_study_list(struct store_conn *c, const char *owner, int64_t after, int limit,
                      struct store_study **out, size_t *n, struct err *e);
int sqlite_study_delete(struct store_conn *w, const char *owner, const char *study_id,
                        struct err *e);
int sqlite_study_set_state(struct store_conn *w, int64_t rowid, int state, const char *reason,
                           struct err *e);
int sqlite_study_set_progress(struct store_conn *w, int64_t rowid, int64_t when, struct err *e);
int sqlite_study_set_metadata(struct store_conn *w, int64_t rowid, const char *metadata_json,
                              struct err *e);
int sqlite_study_next_trial(struct store_conn *c, int64_t rowid, int64_t *next, struct err *e);
int sqlite_trial_insert(struct store_conn *w, struct store_trial *t, struct err *e);
int sqlite_trial_get(struct store_conn *c, int64_t study_rowid, int64_t id, struct store_trial *out,
                     struct err *e);
int sqlite_trial_update(struct store_conn *w, const struct store_trial *t, struct err *e);
int sqlite_trial_finish(struct store_conn *w, const struct store_trial *t, struct err *e);
int sqlite_trial_set_lease(struct store_conn *w, int64_t study_rowid, int64_t id,
                           int64_t lease_expiry, struct err *e);
int sqlite_trial_delete(struct store_conn *w, int64_t study_rowid, int64_t id, struct err *e);
int sqlite_trial_set_metadata(struct store_conn *w, int64_t study_rowid, int64_t id,
                              const char *metadata_json, struct err *e);
int sqlite_trial_list(struct store_conn *c, int64_t study_rowid, unsigned state_mask, int64_t after,
                      int limit, struct store_trial **out, size_t *n, struct err *e);
int sqlite_trial_list_by_client(struct store_conn *c, int64_t study_rowid, const char *client_id,
                                struct store_trial **out, size_t *n, struct err *e);
int sqlite_trial_count(struct store_conn *c, int64_t study_rowid, unsigned state_mask,
                       int64_t *count, struct err *e);
int sqlite_trial_expire_leases(struct store_conn *w, int64_t study_rowid, int64_t now,
                               int64_t *n_expired, struct err *e);
int sqlite_trial_seq(struct store_conn *c, int64_t study_rowid, int64_t *seq, int64_t *deletes,
                     struct err *e);
int sqlite_trial_changed(struct store_conn *c, int64_t study_rowid, int64_t after,
                         int (*fn)(void *ctx, const struct store_hist_row *r), void *ctx,
                         struct err *e);
int sqlite_measurement_add(struct store_conn *w, int64_t study_rowid, int64_t trial_id,
                           const char *measurement_json, int64_t lease_expiry, struct err *e);
int sqlite_measurement_joined(struct store_conn *c, int64_t study_rowid, int64_t trial_id,
                              char **out, size_t *len, size_t *last, struct err *e);
int sqlite_operation_insert(struct store_conn *w, int64_t study_rowid, const char *json,
                            int64_t *op_id, struct err *e);
int sqlite_operation_get(struct store_conn *c, int64_t study_rowid, int64_t op_id, char **json,
                         struct err *e);
int sqlite_count_studies(struct store_conn *c, int64_t *n, struct err *e);
int sqlite_count_trials_by_state(struct store_conn *c, int64_t counts[6], struct err *e);

#endif
