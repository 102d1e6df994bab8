/* store_copy.c: sibyld --copy-db FROM TO, a whole database from one backend
 * into another (SQLite to PostgreSQL and back, or between two of a kind).
 * The source is read on one snapshot, so a daemon may keep serving it; the
 * destination is written in one transaction and must be empty. Each
 * backend reads and inserts raw rows (store_copy_ops); this file knows the
 * tables both schemas share and checks the counts afterwards. */
#include "store_backend.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Parent tables first. The owners' quotas come last (an upsert of the
 * owners again), so that a quota lowered below what an owner already has
 * does not refuse the copy of its rows on a backend that checks quotas
 * with triggers. */
static const struct store_copy_table tables[] = {
    {"owners", "id, display_name, create_time", 3, 0, "id", NULL},
    {"studies",
     "id, owner, study_id, spec_json, state, inactive_reason, create_time, last_progress_time, "
     "next_trial_id, next_operation_id, metadata_json",
     11, 0, "id", NULL},
    {"trials",
     "study_rowid, id, state, params_json, final_json, client_id, infeasible_reason, info_json, "
     "complete_json, start_time, end_time, lease_expiry, n_measurements, metadata_json",
     14, 0, "study_rowid, id", NULL},
    {"measurements", "study_rowid, trial_id, seq, json", 4, 0, "study_rowid, trial_id, seq", NULL},
    {"operations", "study_rowid, id, json", 3, 0, "study_rowid, id", NULL},
    {"api_keys", "keyid, owner, role, display_name, salt, hash, create_time, revoke_time", 8,
     (1u << 4) | (1u << 5), "create_time, keyid", NULL},
    {"audit_log", "id, time, keyid, owner, method, path, status, error, count, last_time", 10, 0,
     "id", NULL},
    {"secrets", "name, value", 2, 1u << 1, "name", NULL},
    {"study_names", "owner, study_id, next_trial_id, next_operation_id", 4, 0, "owner, study_id",
     NULL},
    {"owners",
     "id, display_name, create_time, max_studies, max_trials_per_study, max_active_trials, "
     "requests_per_second, max_api_keys",
     8, 0, "id",
     "ON CONFLICT (id) DO UPDATE SET max_studies = excluded.max_studies, "
     "max_trials_per_study = excluded.max_trials_per_study, "
     "max_active_trials = excluded.max_active_trials, "
     "requests_per_second = excluded.requests_per_second, max_api_keys = excluded.max_api_keys"},
};
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

static const struct store_copy_ops *copy_ops(const struct store *st)
{
	return store_ops_of(st) == &pg_store_ops ? &pg_copy_ops : &sqlite_copy_ops;
}

struct pipe {
	const struct store_copy_ops *to;
	struct store_conn *w;
	const struct store_copy_table *t;
	int64_t n;
	struct err *e;
};

static int copy_row(void *ctx, const struct store_copy_row *r)
{
	struct pipe *p = ctx;
	int rc = p->to->insert(p->w, p->t, r, p->e);
	if (rc == 0)
		p->n++;
	return rc;
}

static int count_row(void *ctx, const struct store_copy_row *r)
{
	(void)r;
	(*(int64_t *)ctx)++;
	return 0;
}

/* Rows of table t in the database of c. */
static int count_rows(const struct store_copy_ops *ops, struct store_conn *c,
                      const struct store_copy_table *t, int64_t *n, struct err *e)
{
	*n = 0;
	return ops->rows(c, t, count_row, n, e);
}

/* Every table from the snapshot r into the transaction w; copied[i] gets
 * the rows of tables[i]. */
static int copy_all(struct store *src, struct store_conn *r, struct store *dst,
                    struct store_conn *w, int64_t *copied, struct err *e)
{
	int64_t have = 0;
	int rc = count_rows(copy_ops(dst), w, &tables[0], &have, e);
	if (rc == 0 && have > 0)
		rc = err_set(e, ERR_FAILED_PRECONDITION,
		             "store: the destination already holds %lld owners; copy into an empty "
		             "database",
		             (long long)have);
	for (size_t i = 0; rc == 0 && i < N_TABLES; i++) {
		struct pipe p = {copy_ops(dst), w, &tables[i], 0, e};
		rc = copy_ops(src)->rows(r, &tables[i], copy_row, &p, e);
		copied[i] = p.n;
	}
	if (rc == 0)
		rc = copy_ops(dst)->finish(w, e);
	return rc;
}

/* The copy's tables counted again in the destination, against copied. */
static int check_counts(struct store *dst, const int64_t *copied, char *report, size_t len,
                        struct err *e)
{
	struct store_conn *c = store_read(dst, e);
	if (!c)
		return -(int)e->code;
	size_t used = 0;
	int rc = 0;
	if (report && len)
		report[0] = '\0';
	for (size_t i = 0; rc == 0 && i < N_TABLES; i++) {
		if (tables[i].upsert)
			continue; /* a second pass over a table counted already */
		int64_t n;
		rc = count_rows(copy_ops(dst), c, &tables[i], &n, e);
		if (rc == 0 && n != copied[i])
			rc = err_set(e, ERR_INTERNAL,
			             "store: the copy has %lld rows in %s, the source %lld",
			             (long long)n, tables[i].name, (long long)copied[i]);
		if (rc == 0 && report && used < len)
			used += (size_t)snprintf(report + used, len - used, "%s %lld\n",
			                         tables[i].name, (long long)n);
	}
	store_release(c);
	return rc;
}

int store_copy(const char *from, const char *to, char *report, size_t len, struct err *e)
{
	if (!from || !to || strcmp(from, to) == 0)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "store: --copy-db wants two different databases");
	/* Opening a SQLite path creates it: a mistyped source would be copied
	 * as an empty database, and leave a stray file. */
	if (!store_is_pg_url(from) && access(from, F_OK) != 0)
		return err_set(e, ERR_NOT_FOUND,
		               "store: %s does not exist (the source of --copy-db must be a "
		               "database that exists)",
		               from);
	struct store *src = store_open(from, e);
	if (!src)
		return -(int)e->code;
	struct store *dst = store_open(to, e);
	if (!dst) {
		store_close(src);
		return -(int)e->code;
	}
	int64_t copied[N_TABLES] = {0};
	int rc;
	struct store_conn *r = store_read(src, e);
	struct store_conn *w = r ? store_write_begin(dst, e) : NULL;
	if (!w) {
		rc = -(int)e->code;
	} else if ((rc = copy_all(src, r, dst, w, copied, e)) != 0) {
		store_write_rollback(w);
	} else {
		rc = store_write_commit(w, e);
	}
	store_release(r);
	if (rc == 0)
		rc = check_counts(dst, copied, report, len, e);
	store_close(dst);
	store_close(src);
	return rc;
}
