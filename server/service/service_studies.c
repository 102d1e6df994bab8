/* Studies (create-or-load, get, list, delete), the reads of trials and
 * operations, and the delete of a trial: each one transaction or one read
 * snapshot, for the handlers of api_studies.c, api_trials.c,
 * api_operations.c and api_export.c (service.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "service_internal.h"
#include "spec_diff.h"

void svc_study_clear(struct store_study *s)
{
	store_study_clear(s);
}

void svc_studies_free(struct store_study *a, size_t n)
{
	store_studies_free(a, n);
}

void svc_trial_clear(struct svc_trial *t)
{
	if (!t)
		return;
	store_trial_clear(&t->t);
	free(t->measurements);
	t->measurements = NULL;
}

void svc_trials_free(struct svc_trial *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		svc_trial_clear(&a[i]);
	free(a);
}

int svc_trial_fill(struct store_conn *c, struct store_trial *t, struct svc_trial *out,
                   struct err *e)
{
	size_t len, last;
	out->measurements = NULL;
	int rc = t->n_measurements == 0
	             ? 0
	             : store_measurement_joined(c, t->study_rowid, t->id, &out->measurements, &len,
	                                        &last, e);
	out->t = *t;
	memset(t, 0, sizeof(*t));
	if (rc)
		svc_trial_clear(out);
	return rc;
}

static int dup_field(char **f)
{
	if (*f && !(*f = strdup(*f)))
		return -1;
	return 0;
}

int svc_trial_copy(struct store_conn *c, const struct store_trial *t, struct svc_trial *out,
                   struct err *e)
{
	struct store_trial d = *t;
	d.params_json = d.final_json = d.client_id = d.infeasible_reason = NULL;
	d.info_json = d.complete_json = d.metadata_json = NULL;
	/* each field copied in turn, so that a failure leaves d clearable */
	char *const *from[] = {&t->params_json,       &t->final_json, &t->client_id,
	                       &t->infeasible_reason, &t->info_json,  &t->complete_json,
	                       &t->metadata_json};
	char **to[] = {&d.params_json, &d.final_json,    &d.client_id,    &d.infeasible_reason,
	               &d.info_json,   &d.complete_json, &d.metadata_json};
	int bad = 0;
	for (size_t i = 0; i < sizeof(to) / sizeof(to[0]); i++) {
		*to[i] = *from[i];
		if (dup_field(to[i]) != 0) {
			*to[i] = NULL;
			bad = 1;
		}
	}
	memset(out, 0, sizeof(*out));
	if (bad) {
		store_trial_clear(&d);
		return err_set(e, ERR_INTERNAL, "out of memory");
	}
	return svc_trial_fill(c, &d, out, e);
}

/* Create-or-load found the study: the same spec (parameters, metrics and
 * categorical values in any order: spec_diff.h) loads it, with its stored
 * metadata (a create's metadata takes no part); another is
 * ALREADY_EXISTS naming the first difference. */
static int load_existing(const struct store_study *s, const char *canon, struct err *e)
{
	char why[512];
	if (spec_diff(s->spec_json, canon, why, sizeof(why)) != 0)
		return err_set(e, ERR_ALREADY_EXISTS,
		               "study owners/%s/studies/%s already exists with a different "
		               "studySpec: %s",
		               s->owner, s->study_id, why);
	return 0;
}

/* The insert of a new study on w, under the owner's section (maxStudies). */
static int insert_study(struct store_conn *w, const char *owner, const char *id,
                        const char *spec_canon, const char *metadata_json, struct store_study *out,
                        struct err *e)
{
	struct store_quota q;
	/* Owners are made by the admin (POST /v1/owners), never implicitly. */
	if (store_owner_quota_get(w, owner, &q, e) != 0) {
		if (e->code == ERR_NOT_FOUND)
			err_set(
			    e, ERR_NOT_FOUND,
			    "owner owners/%s not found: the admin creates it with POST /v1/owners",
			    owner);
		return -(int)e->code;
	}
	int rc = svc_quota_studies(w, owner, &q, e);
	if (rc == 0)
		rc = store_study_insert(w, owner, id, spec_canon, ju_now_ms(), out, e);
	if (rc == 0 && metadata_json) {
		rc = store_study_set_metadata(w, out->rowid, metadata_json, e);
		if (rc == 0 && !(out->metadata_json = strdup(metadata_json)))
			rc = err_set(e, ERR_INTERNAL, "out of memory");
	}
	return rc;
}

int service_study_create(struct service *sv, const char *owner, const char *id,
                         const char *spec_canon, const char *metadata_json, struct store_study *out,
                         struct svc_audit *audit, struct err *e)
{
	memset(out, 0, sizeof(*out));
	struct store_conn *w = svc_write_begin(sv, audit, e);
	if (!w)
		return -(int)e->code;
	int rc = store_lock_owner(w, owner, e);
	if (rc == 0 && (rc = store_study_get(w, owner, id, out, e)) == 0) {
		/* create-or-load: many workers create the same study at start-up */
		rc = load_existing(out, spec_canon, e);
		store_write_rollback(w);
		goto done;
	}
	if (e->code == ERR_NOT_FOUND)
		rc = insert_study(w, owner, id, spec_canon, metadata_json, out, e);
	if (rc) {
		store_write_rollback(w);
		goto done;
	}
	rc = store_write_commit(w, e);
done:
	if (rc)
		store_study_clear(out);
	return rc;
}

int service_study_get(struct service *sv, const char *owner, const char *study,
                      struct store_study *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	struct store_conn *c = store_read(sv->st, e);
	if (!c)
		return -(int)e->code;
	int rc = store_study_get(c, owner, study, out, e);
	store_release(c);
	return rc;
}

int service_study_list(struct service *sv, const char *owner, int64_t after, int limit,
                       struct store_study **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	struct store_conn *c = store_read(sv->st, e);
	if (!c)
		return -(int)e->code;
	int rc = store_study_list(c, owner, after, limit, out, n, e);
	store_release(c);
	return rc;
}

int service_study_delete(struct service *sv, const char *owner, const char *study,
                         struct svc_audit *audit, struct err *e)
{
	struct store_study s;
	struct store_conn *w = svc_write_begin(sv, audit, e);
	if (!w)
		return -(int)e->code;
	int rc = store_lock_owner(w, owner, e);
	if (rc == 0)
		rc = store_study_get(w, owner, study, &s, e);
	if (rc) {
		store_write_rollback(w);
		return rc;
	}
	int64_t rowid = s.rowid;
	store_study_clear(&s);
	if ((rc = store_lock_study(w, rowid, e)) || (rc = store_study_delete(w, owner, study, e))) {
		store_write_rollback(w);
		return rc;
	}
	if ((rc = store_write_commit(w, e)))
		return rc;
	service_forget_study(sv, rowid);
	return 0;
}

int service_trial_get(struct service *sv, const char *owner, const char *study, int64_t trial,
                      struct svc_trial *out, struct err *e)
{
	struct store_study s;
	struct store_trial t = {0};
	memset(out, 0, sizeof(*out));
	struct store_conn *c = store_read(sv->st, e);
	if (!c)
		return -(int)e->code;
	int rc = store_study_get(c, owner, study, &s, e);
	if (rc == 0) {
		if ((rc = store_trial_get(c, s.rowid, trial, &t, e)) == 0)
			rc = svc_trial_fill(c, &t, out, e);
		store_study_clear(&s);
	}
	store_release(c);
	store_trial_clear(&t);
	if (rc)
		svc_trial_clear(out);
	return rc;
}

int service_trial_list(struct service *sv, int64_t study_rowid, unsigned state_mask, int64_t after,
                       int limit, struct svc_trial **out, size_t *n, struct err *e)
{
	struct store_trial *t = NULL;
	size_t nt = 0;
	*out = NULL;
	*n = 0;
	struct store_conn *c = store_read(sv->st, e);
	if (!c)
		return -(int)e->code;
	int rc = store_trial_list(c, study_rowid, state_mask, after, limit, &t, &nt, e);
	if (rc == 0 && !(*out = calloc(nt + 1, sizeof(**out))))
		rc = err_set(e, ERR_INTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < nt; i++, (*n)++)
		rc = svc_trial_fill(c, &t[i], &(*out)[i], e);
	store_release(c);
	store_trials_free(t, nt);
	if (rc) {
		svc_trials_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int service_trial_delete(struct service *sv, const char *owner, const char *study, int64_t trial,
                         struct svc_audit *audit, struct err *e)
{
	struct store_study s;
	struct store_conn *w = svc_write_begin(sv, audit, e);
	if (!w)
		return -(int)e->code;
	int rc = store_study_get(w, owner, study, &s, e);
	if (rc == 0) {
		if ((rc = store_lock_study(w, s.rowid, e)) == 0)
			rc = store_trial_delete(w, s.rowid, trial, e);
		store_study_clear(&s);
	}
	if (rc) {
		store_write_rollback(w);
		return rc;
	}
	return store_write_commit(w, e);
}

int service_operation_get(struct service *sv, const char *owner, const char *study, int64_t op,
                          char **json, struct err *e)
{
	struct store_study s;
	*json = NULL;
	struct store_conn *c = store_read(sv->st, e);
	if (!c)
		return -(int)e->code;
	int rc = store_study_get(c, owner, study, &s, e);
	if (rc == 0) {
		rc = store_operation_get(c, s.rowid, op, json, e);
		store_study_clear(&s);
	}
	store_release(c);
	return rc;
}

/* Pages of this many trials from the one snapshot, so that the whole
 * study is never held as parsed rows at once. */
#define EACH_CHUNK 1000

int service_trials_each(struct service *sv, const char *owner, const char *study,
                        unsigned state_mask, int64_t after, const struct svc_each *cb,
                        struct err *e)
{
	struct store_conn *c;
	struct store_study s;
	struct spec sp;
	int rc = service_read_study(sv, owner, study, &c, &s, &sp, e);
	if (rc)
		return rc;
	if (cb->begin)
		rc = cb->begin(cb->ctx, &sp, e);
	while (rc == 0) {
		struct store_trial *tr = NULL;
		size_t n = 0;
		if ((rc = store_trial_list(c, s.rowid, state_mask, after, EACH_CHUNK, &tr, &n, e)))
			break;
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = cb->row(cb->ctx, &sp, &tr[i], e);
		after = n ? tr[n - 1].id : after;
		store_trials_free(tr, n);
		if (n < EACH_CHUNK)
			break;
	}
	store_release(c);
	store_study_clear(&s);
	spec_free(&sp);
	return rc;
}
