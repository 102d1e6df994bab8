/* store.c: the storage interface's dispatch (store_backend.h). store_open
 * picks the backend from the URL; every other call goes to the ops of the
 * backend that made its struct store or struct store_conn. Also the
 * helpers that free the structs of store.h, which no backend owns. */
#include "store_backend.h"

#include <stdlib.h>
#include <string.h>

#define OPS(p) store_ops_of(p)

int store_is_pg_url(const char *url)
{
	return url &&
	       (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0);
}

struct store *store_open(const char *url, struct err *e)
{
	return store_open_with(url, NULL, e);
}

struct store *store_open_with(const char *url, const struct store_options *o, struct err *e)
{
	if (store_is_pg_url(url))
		return pg_open(url, o && o->pool > 0 ? o->pool : STORE_POOL_DEFAULT, e);
	return sqlite_open(url, e);
}

int store_backup_file(const char *db_path, const char *dest, struct err *e)
{
	if (store_is_pg_url(db_path))
		return err_set(e, ERR_FAILED_PRECONDITION,
		               "store: --backup copies a SQLite database; back up a PostgreSQL "
		               "database with pg_dump");
	return sqlite_backup_file(db_path, dest, e);
}

/* ---- dispatch ---- */

void store_close(struct store *st)
{
	if (!st)
		return;
	OPS(st)->close(st);
}

struct store_conn *store_read(struct store *st, struct err *e)
{
	return OPS(st)->read(st, e);
}

void store_release(struct store_conn *c)
{
	if (!c)
		return;
	OPS(c)->release(c);
}

struct store_conn *store_write_begin(struct store *st, struct err *e)
{
	return OPS(st)->write_begin(st, e);
}

void store_write_audit(struct store_conn *w, const struct store_audit *a, int64_t *written)
{
	OPS(w)->write_audit(w, a, written);
}

int store_write_commit(struct store_conn *w, struct err *e)
{
	return OPS(w)->write_commit(w, e);
}

void store_write_rollback(struct store_conn *w)
{
	if (!w)
		return;
	OPS(w)->write_rollback(w);
}

int store_lock_study(struct store_conn *w, int64_t study_rowid, struct err *e)
{
	return OPS(w)->lock_study(w, study_rowid, e);
}

int store_lock_owner(struct store_conn *w, const char *owner, struct err *e)
{
	return OPS(w)->lock_owner(w, owner, e);
}

int store_plan_sections(const struct store *st)
{
	return OPS(st)->plan_lock != NULL;
}

int store_plan_lock(struct store *st, int64_t study_rowid, struct store_section **out,
                    struct err *e)
{
	*out = NULL;
	return OPS(st)->plan_lock ? OPS(st)->plan_lock(st, study_rowid, out, e) : 0;
}

void store_plan_unlock(struct store_section *s)
{
	pg_plan_unlock(s);
}

int store_ping(struct store *st)
{
	return OPS(st)->ping(st);
}

int store_health(struct store *st, struct err *e)
{
	return OPS(st)->health(st, e);
}

int store_set_wal_target(struct store *st, int64_t bytes, struct err *e)
{
	return OPS(st)->set_wal_target(st, bytes, e);
}

int store_set_sync(struct store *st, enum store_sync mode, struct err *e)
{
	return OPS(st)->set_sync(st, mode, e);
}

int store_owner_ensure(struct store_conn *w, const char *owner, int64_t now, struct err *e)
{
	return OPS(w)->owner_ensure(w, owner, now, e);
}

int store_owner_insert(struct store_conn *w, const char *owner, const char *display_name,
                       int64_t now, struct err *e)
{
	return OPS(w)->owner_insert(w, owner, display_name, now, e);
}

int store_owner_get(struct store_conn *c, const char *owner, struct store_owner *out, struct err *e)
{
	return OPS(c)->owner_get(c, owner, out, e);
}

int store_owner_list(struct store_conn *c, const char *after, int limit, struct store_owner **out,
                     size_t *n, struct err *e)
{
	return OPS(c)->owner_list(c, after, limit, out, n, e);
}

int store_owner_delete(struct store_conn *w, const char *owner, struct err *e)
{
	return OPS(w)->owner_delete(w, owner, e);
}

int store_owner_quota_get(struct store_conn *c, const char *owner, struct store_quota *out,
                          struct err *e)
{
	return OPS(c)->owner_quota_get(c, owner, out, e);
}

int store_owner_active_count(struct store_conn *c, const char *owner, int64_t *n, struct err *e)
{
	return OPS(c)->owner_active_count(c, owner, n, e);
}

int store_owner_update(struct store_conn *w, const char *owner, const char *display_name,
                       const struct store_quota *q, struct err *e)
{
	return OPS(w)->owner_update(w, owner, display_name, q, e);
}

int store_owner_delete_all(struct store_conn *w, const char *owner, struct err *e)
{
	return OPS(w)->owner_delete_all(w, owner, e);
}

int store_key_insert(struct store_conn *w, const struct store_key *k, struct err *e)
{
	return OPS(w)->key_insert(w, k, e);
}

int store_key_get(struct store_conn *c, const char *keyid, struct store_key *out, double *owner_rps,
                  struct err *e)
{
	return OPS(c)->key_get(c, keyid, out, owner_rps, e);
}

int store_key_list(struct store_conn *c, const char *owner, int64_t after, int limit,
                   struct store_key **out, size_t *n, struct err *e)
{
	return OPS(c)->key_list(c, owner, after, limit, out, n, e);
}

int store_key_revoke(struct store_conn *w, const char *owner, const char *keyid, int64_t now,
                     struct err *e)
{
	return OPS(w)->key_revoke(w, owner, keyid, now, e);
}

int store_audit_insert(struct store_conn *w, const struct store_audit *a, struct err *e)
{
	return OPS(w)->audit_insert(w, a, e);
}

int store_audit_prune(struct store_conn *w, const char *owner, int64_t keep, struct err *e)
{
	return OPS(w)->audit_prune(w, owner, keep, e);
}

int store_audit_add_count(struct store *st, int64_t id, int64_t n, int64_t last, struct err *e)
{
	return OPS(st)->audit_add_count(st, id, n, last, e);
}

int store_audit_record(struct store *st, int64_t id, const struct store_audit *a, int64_t *written,
                       struct err *e)
{
	return OPS(st)->audit_record(st, id, a, written, e);
}

int store_audit_list(struct store_conn *c, const char *owner, int64_t before, int limit,
                     struct store_audit **out, size_t *n, struct err *e)
{
	return OPS(c)->audit_list(c, owner, before, limit, out, n, e);
}

int store_secret(struct store *st, const char *name, const unsigned char *fresh, size_t len,
                 unsigned char *out, struct err *e)
{
	return OPS(st)->secret(st, name, fresh, len, out, e);
}

int store_study_insert(struct store_conn *w, const char *owner, const char *study_id,
                       const char *spec_json, int64_t now, struct store_study *out, struct err *e)
{
	return OPS(w)->study_insert(w, owner, study_id, spec_json, now, out, e);
}

int store_study_get(struct store_conn *c, const char *owner, const char *study_id,
                    struct store_study *out, struct err *e)
{
	return OPS(c)->study_get(c, owner, study_id, out, e);
}

int store_study_get_by_rowid(struct store_conn *c, int64_t rowid, struct store_study *out,
                             struct err *e)
{
	return OPS(c)->study_get_by_rowid(c, rowid, out, e);
}

int store_study_list(struct store_conn *c, const char *owner, int64_t after, int limit,
                     struct store_study **out, size_t *n, struct err *e)
{
	return OPS(c)->study_list(c, owner, after, limit, out, n, e);
}

int store_study_delete(struct store_conn *w, const char *owner, const char *study_id, struct err *e)
{
	return OPS(w)->study_delete(w, owner, study_id, e);
}

int store_study_set_state(struct store_conn *w, int64_t rowid, int state, const char *reason,
                          struct err *e)
{
	return OPS(w)->study_set_state(w, rowid, state, reason, e);
}

int store_study_set_progress(struct store_conn *w, int64_t rowid, int64_t when, struct err *e)
{
	return OPS(w)->study_set_progress(w, rowid, when, e);
}

int store_study_set_metadata(struct store_conn *w, int64_t rowid, const char *metadata_json,
                             struct err *e)
{
	return OPS(w)->study_set_metadata(w, rowid, metadata_json, e);
}

int store_study_next_trial(struct store_conn *c, int64_t rowid, int64_t *next, struct err *e)
{
	return OPS(c)->study_next_trial(c, rowid, next, e);
}

int store_trial_insert(struct store_conn *w, struct store_trial *t, struct err *e)
{
	return OPS(w)->trial_insert(w, t, e);
}

int store_trial_get(struct store_conn *c, int64_t study_rowid, int64_t id, struct store_trial *out,
                    struct err *e)
{
	return OPS(c)->trial_get(c, study_rowid, id, out, e);
}

int store_trial_update(struct store_conn *w, const struct store_trial *t, struct err *e)
{
	return OPS(w)->trial_update(w, t, e);
}

int store_trial_finish(struct store_conn *w, const struct store_trial *t, struct err *e)
{
	return OPS(w)->trial_finish(w, t, e);
}

int store_trial_set_lease(struct store_conn *w, int64_t study_rowid, int64_t id,
                          int64_t lease_expiry, struct err *e)
{
	return OPS(w)->trial_set_lease(w, study_rowid, id, lease_expiry, e);
}

int store_trial_delete(struct store_conn *w, int64_t study_rowid, int64_t id, struct err *e)
{
	return OPS(w)->trial_delete(w, study_rowid, id, e);
}

int store_trial_set_metadata(struct store_conn *w, int64_t study_rowid, int64_t id,
                             const char *metadata_json, struct err *e)
{
	return OPS(w)->trial_set_metadata(w, study_rowid, id, metadata_json, e);
}

int store_trial_list(struct store_conn *c, int64_t study_rowid, unsigned state_mask, int64_t after,
                     int limit, struct store_trial **out, size_t *n, struct err *e)
{
	return OPS(c)->trial_list(c, study_rowid, state_mask, after, limit, out, n, e);
}

int store_trial_list_by_client(struct store_conn *c, int64_t study_rowid, const char *client_id,
                               struct store_trial **out, size_t *n, struct err *e)
{
	return OPS(c)->trial_list_by_client(c, study_rowid, client_id, out, n, e);
}

int store_trial_count(struct store_conn *c, int64_t study_rowid, unsigned state_mask,
                      int64_t *count, struct err *e)
{
	return OPS(c)->trial_count(c, study_rowid, state_mask, count, e);
}

int store_trial_expire_leases(struct store_conn *w, int64_t study_rowid, int64_t now,
                              int64_t *n_expired, struct err *e)
{
	return OPS(w)->trial_expire_leases(w, study_rowid, now, n_expired, e);
}

int store_trial_seq(struct store_conn *c, int64_t study_rowid, int64_t *seq, int64_t *deletes,
                    struct err *e)
{
	return OPS(c)->trial_seq(c, study_rowid, seq, deletes, e);
}

int store_trial_changed(struct store_conn *c, int64_t study_rowid, int64_t after,
                        int (*fn)(void *ctx, const struct store_hist_row *r), void *ctx,
                        struct err *e)
{
	return OPS(c)->trial_changed(c, study_rowid, after, fn, ctx, e);
}

int store_measurement_add(struct store_conn *w, int64_t study_rowid, int64_t trial_id,
                          const char *measurement_json, int64_t lease_expiry, struct err *e)
{
	return OPS(w)->measurement_add(w, study_rowid, trial_id, measurement_json, lease_expiry, e);
}

int store_measurement_joined(struct store_conn *c, int64_t study_rowid, int64_t trial_id,
                             char **out, size_t *len, size_t *last, struct err *e)
{
	return OPS(c)->measurement_joined(c, study_rowid, trial_id, out, len, last, e);
}

int store_operation_insert(struct store_conn *w, int64_t study_rowid, const char *json,
                           int64_t *op_id, struct err *e)
{
	return OPS(w)->operation_insert(w, study_rowid, json, op_id, e);
}

int store_operation_get(struct store_conn *c, int64_t study_rowid, int64_t op_id, char **json,
                        struct err *e)
{
	return OPS(c)->operation_get(c, study_rowid, op_id, json, e);
}

int store_count_studies(struct store_conn *c, int64_t *n, struct err *e)
{
	return OPS(c)->count_studies(c, n, e);
}

int store_count_trials_by_state(struct store_conn *c, int64_t counts[6], struct err *e)
{
	return OPS(c)->count_trials_by_state(c, counts, e);
}

/* ---- freeing the structs of store.h ---- */

void store_owner_clear(struct store_owner *o)
{
	if (!o)
		return;
	free(o->id);
	free(o->display_name);
	o->id = o->display_name = NULL;
	o->create_time = 0;
}

void store_owners_free(struct store_owner *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		store_owner_clear(&a[i]);
	free(a);
}

void store_study_clear(struct store_study *s)
{
	if (!s)
		return;
	free(s->owner);
	free(s->study_id);
	free(s->spec_json);
	free(s->inactive_reason);
	free(s->metadata_json);
	*s = (struct store_study){0};
}

void store_studies_free(struct store_study *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		store_study_clear(&a[i]);
	free(a);
}

void store_key_clear(struct store_key *k)
{
	if (!k)
		return;
	free(k->owner);
	free(k->display_name);
	memset(k, 0, sizeof(*k));
}

void store_keys_free(struct store_key *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		store_key_clear(&a[i]);
	free(a);
}

void store_audit_clear(struct store_audit *a)
{
	if (!a)
		return;
	free(a->keyid);
	free(a->owner);
	free(a->method);
	free(a->path);
	free(a->error);
	memset(a, 0, sizeof(*a));
}

void store_audits_free(struct store_audit *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		store_audit_clear(&a[i]);
	free(a);
}

void store_trial_clear(struct store_trial *t)
{
	if (!t)
		return;
	free(t->params_json);
	free(t->final_json);
	free(t->client_id);
	free(t->infeasible_reason);
	free(t->info_json);
	free(t->complete_json);
	free(t->metadata_json);
	*t = (struct store_trial){0};
}

void store_trials_free(struct store_trial *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		store_trial_clear(&a[i]);
	free(a);
}
