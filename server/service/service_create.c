/* service_create: POST .../trials, a REQUESTED trial for the pool or a
 * SUCCEEDED one importing a known result, in one write transaction; and
 * the objective-metric check shared with complete (service.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json_util.h"
#include "service_internal.h"
#include "spec.h"
#include "store.h"
#include "trial_json.h"

int svc_check_objective(const struct spec *sp, const json_t *final, const char *what, struct err *e)
{
	double v[sp->n_metrics + 1];
	tj_measurement_metrics(final, sp, v);
	for (size_t i = 0; i < sp->n_metrics; i++)
		if (!sp->metrics[i].safety && isnan(v[i]))
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "%s lacks the objective metric \"%s\"", what,
			               sp->metrics[i].id);
	return 0;
}

/* The request's parts parsed from their JSON text (service.h
 * svc_trial_new). */
struct create_req {
	int state;
	json_t *parameters, *final_measurement, *measurements; /* NULL: absent */
};

static json_t *load_part(const char *text, int *bad)
{
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	*bad |= text && !v;
	return v;
}

static int req_load(const struct svc_trial_new *in, struct create_req *r, struct err *e)
{
	int bad = 0;
	r->state = in->state;
	r->parameters = load_part(in->parameters, &bad);
	r->final_measurement = load_part(in->final_measurement, &bad);
	r->measurements = load_part(in->measurements, &bad);
	return bad ? err_set(e, ERR_INTERNAL, "a part of the request is not JSON text") : 0;
}

static void req_clear(struct create_req *r)
{
	json_decref(r->parameters);
	json_decref(r->final_measurement);
	json_decref(r->measurements);
}

/* What a create writes, checked against the study's spec. */
struct create_parts {
	double *v;     /* the parameters, decoded */
	json_t *final; /* the final measurement, or NULL */
	json_t *meas;  /* the measurements (an array) */
};

static void parts_clear(struct create_parts *p)
{
	free(p->v);
	json_decref(p->final);
	json_decref(p->meas);
}

static int check_final(const struct spec *sp, const struct create_req *in, struct create_parts *p,
                       struct err *e)
{
	if (!in->final_measurement)
		return in->state == TRIAL_SUCCEEDED
		           ? err_set(e, ERR_INVALID_ARGUMENT,
		                     "a SUCCEEDED trial needs finalMeasurement")
		           : 0;
	if (in->state != TRIAL_SUCCEEDED)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "finalMeasurement is only allowed with state SUCCEEDED");
	int rc = tj_measurement_parse(in->final_measurement, "finalMeasurement", sp, &p->final, e);
	return rc ? rc : svc_check_objective(sp, p->final, "finalMeasurement", e);
}

static int check_measurements(const struct config *cfg, const struct spec *sp,
                              const struct create_req *in, struct create_parts *p, struct err *e)
{
	const json_t *x = in->measurements;
	if (!(p->meas = json_array()))
		return err_set(e, ERR_INTERNAL, "out of memory");
	if (!x)
		return 0;
	size_t lim = cfg->max_measurements > 0 ? (size_t)cfg->max_measurements : 0;
	if (in->state != TRIAL_SUCCEEDED)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "measurements are only allowed with state SUCCEEDED; report them "
		               "with addTrialMeasurement");
	int rc = ju_array(x, "measurements", lim, e);
	for (size_t i = 0; rc == 0 && i < json_array_size(x); i++) {
		char path[48];
		json_t *m;
		snprintf(path, sizeof(path), "measurements[%zu]", i);
		if ((rc = tj_measurement_parse(json_array_get(x, i), path, sp, &m, e)) == 0)
			json_array_append_new(p->meas, m);
	}
	return rc;
}

static int check_parts(const struct config *cfg, const struct spec *sp, const struct create_req *in,
                       struct create_parts *p, struct err *e)
{
	if (!(p->v = malloc((sp->space.n + 1) * sizeof(double))))
		return err_set(e, ERR_INTERNAL, "out of memory");
	int rc = tj_params_parse(sp, in->parameters, "parameters", p->v, e);
	if (rc == 0)
		rc = check_final(sp, in, p, e);
	if (rc == 0)
		rc = check_measurements(cfg, sp, in, p, e);
	return rc;
}

/* Fills the row of the new trial t (its metadata already in it). */
static int fill_trial(const struct spec *sp, int64_t study_rowid, int state,
                      const struct create_parts *p, int64_t now, struct store_trial *t,
                      struct err *e)
{
	json_t *params = tj_params_json(&sp->space, p->v);
	t->params_json = ju_canonical(params);
	json_decref(params);
	t->study_rowid = study_rowid;
	t->state = state;
	if (state == TRIAL_SUCCEEDED) {
		json_t *canon = json_object();
		json_object_set(canon, "finalMeasurement", p->final);
		t->final_json = ju_canonical(p->final);
		t->complete_json = ju_canonical(canon);
		json_decref(canon);
		t->start_time = now;
		t->end_time = now;
		if (!t->final_json || !t->complete_json)
			return err_set(e, ERR_INTERNAL, "out of memory");
	}
	return t->params_json ? 0 : err_set(e, ERR_INTERNAL, "out of memory");
}

static int write_trial(struct store_conn *w, const struct create_parts *p, struct store_trial *t,
                       struct err *e)
{
	int rc = store_trial_insert(w, t, e);
	for (size_t i = 0; rc == 0 && i < json_array_size(p->meas); i++) {
		char *txt = ju_canonical(json_array_get(p->meas, i));
		rc = txt ? store_measurement_add(w, t->study_rowid, t->id, txt, -1, e)
		         : err_set(e, ERR_INTERNAL, "out of memory");
		free(txt);
		if (rc == 0)
			t->n_measurements++;
	}
	return rc;
}

int service_trial_create(struct service *sv, const char *owner, const char *study,
                         const struct svc_trial_new *req, struct svc_trial *out,
                         struct svc_audit *audit, struct err *e)
{
	struct store_study s;
	struct spec sp;
	struct create_parts p = {0};
	struct create_req rq = {0}, *in = &rq;
	struct store_trial tr = {0}, *t = &tr;
	memset(out, 0, sizeof(*out));
	int64_t now = ju_now_ms();
	int rc = req_load(req, in, e);
	struct store_conn *w = rc ? NULL : svc_write_begin(sv, audit, e);
	if (!w) {
		req_clear(in);
		return rc ? rc : -(int)e->code;
	}
	if ((rc = service_load_study(sv, w, owner, study, &s, &sp, e))) {
		store_write_rollback(w);
		req_clear(in);
		return rc;
	}
	/* The study's section: maxTrialsPerStudy counts its trials. */
	rc = store_lock_study(w, s.rowid, e);
	if (rc == 0 && req->metadata_json && !(t->metadata_json = strdup(req->metadata_json)))
		rc = err_set(e, ERR_INTERNAL, "out of memory");
	if (rc == 0 && in->state != TRIAL_REQUESTED && in->state != TRIAL_SUCCEEDED)
		rc = err_set(e, ERR_INVALID_ARGUMENT, "state must be REQUESTED or SUCCEEDED");
	if (rc == 0)
		rc = check_parts(sv->cfg, &sp, in, &p, e);
	if (rc == 0)
		rc = fill_trial(&sp, s.rowid, in->state, &p, now, t, e);
	if (rc == 0)
		rc = svc_quota_new_trial(w, s.rowid, e);
	if (rc == 0)
		rc = write_trial(w, &p, t, e);
	if (rc == 0)
		rc = svc_trial_fill(w, t, out, e);
	if (rc == 0) {
		rc = store_write_commit(w, e);
		w = NULL;
	}
	store_write_rollback(w);
	store_trial_clear(t);
	if (rc)
		svc_trial_clear(out);
	store_study_clear(&s);
	spec_free(&sp);
	parts_clear(&p);
	req_clear(in);
	return rc;
}
