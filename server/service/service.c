#include "service.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "history.h"
#include "json_util.h"
#include "service_internal.h"
#include "stopping.h"
#include "operation_json.h"
#include "trial_json.h"
#include "gpei.h"

struct service *service_new(struct store *st, const struct config *cfg)
{
	struct service *sv = calloc(1, sizeof(*sv));
	if (!sv)
		return NULL;
	sv->st = st;
	sv->cfg = cfg;
	pthread_mutex_init(&sv->mu, NULL);
	pthread_mutex_init(&sv->spec_mu, NULL);
	pthread_mutex_init(&sv->meas_mu, NULL);
	svc_lease_clock_start();
	return sv;
}

static void rt_free(struct study_rt *rt)
{
	gp_cache_free(rt->cache);
	hist_free(rt->hist);
	pthread_mutex_destroy(&rt->mu);
	pthread_cond_destroy(&rt->cv);
	free(rt);
}

void service_free(struct service *sv)
{
	if (!sv)
		return;
	for (size_t i = 0; i < SVC_BUCKETS; i++) {
		struct study_rt *rt = sv->buckets[i];
		while (rt) {
			struct study_rt *next = rt->next;
			rt_free(rt);
			rt = next;
		}
	}
	for (size_t i = 0; i < SVC_SPEC_SLOTS; i++) {
		free(sv->specs[i].text);
		spec_unshare(sv->specs[i].spec);
	}
	pthread_mutex_destroy(&sv->spec_mu);
	svc_meas_free(sv);
	pthread_mutex_destroy(&sv->meas_mu);
	pthread_mutex_destroy(&sv->mu);
	svc_lease_clock_stop();
	if (sv->owns_st)
		store_close(sv->st);
	free(sv);
}

struct service *service_open(const struct config *cfg, struct err *e)
{
	struct store *st =
	    store_open_with(cfg->db_path, &(struct store_options){.pool = cfg->db_pool}, e);
	if (!st)
		return NULL;
	enum store_sync mode = strcmp(cfg->sync, "full") == 0 ? STORE_SYNC_FULL : STORE_SYNC_NORMAL;
	if (store_set_sync(st, mode, e) != 0 ||
	    store_set_wal_target(st, (int64_t)cfg->wal_target_mb << 20, e) != 0) {
		store_close(st);
		return NULL;
	}
	struct service *sv = service_new(st, cfg);
	if (!sv) {
		store_close(st);
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	sv->owns_st = 1;
	return sv;
}

struct study_rt *svc_rt_get(struct service *sv, int64_t rowid)
{
	size_t b = (size_t)((uint64_t)rowid % SVC_BUCKETS);
	pthread_mutex_lock(&sv->mu);
	struct study_rt *rt = sv->buckets[b];
	while (rt && rt->rowid != rowid)
		rt = rt->next;
	if (!rt) {
		rt = calloc(1, sizeof(*rt));
		if (rt) {
			rt->rowid = rowid;
			pthread_mutex_init(&rt->mu, NULL);
			pthread_cond_init(&rt->cv, NULL);
			rt->tail = &rt->queue;
			rt->next = sv->buckets[b];
			sv->buckets[b] = rt;
		}
	}
	if (rt)
		rt->refs++;
	pthread_mutex_unlock(&sv->mu);
	return rt;
}

void svc_rt_put(struct service *sv, struct study_rt *rt)
{
	if (!rt)
		return;
	pthread_mutex_lock(&sv->mu);
	int free_it = --rt->refs == 0 && rt->dead;
	pthread_mutex_unlock(&sv->mu);
	if (free_it)
		rt_free(rt);
}

void service_forget_study(struct service *sv, int64_t rowid)
{
	size_t b = (size_t)((uint64_t)rowid % SVC_BUCKETS);
	pthread_mutex_lock(&sv->mu);
	struct study_rt **pp = &sv->buckets[b];
	while (*pp && (*pp)->rowid != rowid)
		pp = &(*pp)->next;
	struct study_rt *rt = *pp;
	int free_it = 0;
	if (rt) {
		*pp = rt->next;
		rt->dead = 1;
		free_it = rt->refs == 0;
	}
	pthread_mutex_unlock(&sv->mu);
	if (free_it)
		rt_free(rt);
}

/* A borrowed copy of the cached parse of the study's spec; 0 when the
 * slot holds another study or another text. */
static int spec_cached(struct service *sv, const struct store_study *s, struct spec *sp)
{
	struct spec_slot *sl = &sv->specs[(uint64_t)s->rowid % SVC_SPEC_SLOTS];
	int hit = 0;
	pthread_mutex_lock(&sv->spec_mu);
	if (sl->spec && sl->rowid == s->rowid && strcmp(sl->text, s->spec_json) == 0) {
		spec_borrow(sl->spec, sp);
		hit = 1;
	}
	pthread_mutex_unlock(&sv->spec_mu);
	return hit;
}

/* Puts the freshly parsed *sp in the cache; *sp becomes a borrowed copy.
 * Out of memory: *sp stays as it was, nothing is cached. */
static void spec_remember(struct service *sv, const struct store_study *s, struct spec *sp)
{
	size_t n = strlen(s->spec_json) + 1;
	char *text = malloc(n);
	struct spec *sh = text ? spec_share(sp) : NULL;
	if (!sh) {
		free(text);
		return;
	}
	memcpy(text, s->spec_json, n);
	spec_borrow(sh, sp);
	struct spec_slot *sl = &sv->specs[(uint64_t)s->rowid % SVC_SPEC_SLOTS];
	pthread_mutex_lock(&sv->spec_mu);
	struct spec_slot old = *sl;
	sl->rowid = s->rowid;
	sl->text = text;
	sl->spec = sh;
	pthread_mutex_unlock(&sv->spec_mu);
	free(old.text);
	spec_unshare(old.spec);
}

int service_load_study(struct service *sv, struct store_conn *c, const char *owner,
                       const char *study, struct store_study *s, struct spec *sp, struct err *e)
{
	memset(s, 0, sizeof(*s));
	memset(sp, 0, sizeof(*sp));
	int rc = store_study_get(c, owner, study, s, e);
	if (rc)
		return rc;
	if (sv && spec_cached(sv, s, sp))
		return 0;
	rc = spec_parse_text(s->spec_json, sp, e);
	if (rc)
		store_study_clear(s);
	else if (sv)
		spec_remember(sv, s, sp);
	return rc;
}

int service_read_study(struct service *sv, const char *owner, const char *study,
                       struct store_conn **c, struct store_study *s, struct spec *sp, struct err *e)
{
	if (!(*c = store_read(sv->st, e)))
		return -(int)e->code;
	int rc = service_load_study(sv, *c, owner, study, s, sp, e);
	if (rc) {
		store_release(*c);
		*c = NULL;
	}
	return rc;
}

/* t's measurements joined (store_measurement_joined), read on c only when
 * the trial row counts some; *joined NULL when none. */
static int read_joined(struct store_conn *c, const struct store_trial *t, char **joined,
                       size_t *len, size_t *last, struct err *e)
{
	*joined = NULL;
	*len = *last = 0;
	if (t->n_measurements == 0)
		return 0;
	return store_measurement_joined(c, t->study_rowid, t->id, joined, len, last, e);
}

int svc_measurements(struct store_conn *c, const struct store_trial *t, json_t **out, struct err *e)
{
	char *joined;
	size_t len, last;
	*out = NULL;
	int rc = read_joined(c, t, &joined, &len, &last, e);
	if (rc)
		return rc;
	*out = tj_measurements(joined);
	free(joined);
	return *out ? 0
	            : err_set(e, ERR_INTERNAL, "trial %" PRId64 ": stored measurements unreadable",
	                      t->id);
}

/* The common frame of a trial call: write transaction, study, spec, trial. */
struct trial_call {
	struct store_conn *w;
	struct store_study s;
	struct spec sp;
	struct store_trial t;
	int64_t now;
};

static int call_begin(struct service *sv, const char *owner, const char *study, int64_t trial,
                      struct svc_audit *audit, struct trial_call *tc, struct err *e)
{
	memset(tc, 0, sizeof(*tc));
	tc->now = ju_now_ms();
	tc->w = svc_write_begin(sv, audit, e);
	if (!tc->w)
		return -(int)e->code;
	int rc = service_load_study(sv, tc->w, owner, study, &tc->s, &tc->sp, e);
	if (rc)
		return rc;
	/* The study's section before the trial is read: the call decides on
	 * its state (and a lapsed lease's outcome) and writes it. */
	if ((rc = store_lock_study(tc->w, tc->s.rowid, e)))
		return rc;
	return store_trial_get(tc->w, tc->s.rowid, trial, &tc->t, e);
}

static void call_end(struct trial_call *tc)
{
	store_write_rollback(tc->w); /* NULL-safe; after a commit w is NULL */
	store_study_clear(&tc->s);
	spec_free(&tc->sp);
	store_trial_clear(&tc->t);
}

/* Commits, keeping a lease expiry that svc_check_lease wrote, then answers
 * the error rc. */
static int commit_error(struct trial_call *tc, int rc, struct err *e)
{
	struct err ce;
	if (store_write_commit(tc->w, &ce) != 0) {
		tc->w = NULL;
		*e = ce;
		return -(int)ce.code;
	}
	tc->w = NULL;
	return rc;
}

static int state_error(const char *owner, const char *study, const struct store_trial *t,
                       const char *what, struct err *e)
{
	if (svc_given_up(t))
		return err_set(e, ERR_FAILED_PRECONDITION,
		               "%s refused: trial owners/%s/studies/%s/trials/%" PRId64 " was %s",
		               what, owner, study, t->id,
		               t->infeasible_reason ? t->infeasible_reason : "given up");
	const char *hint =
	    t->state == TRIAL_REQUESTED ? " (it has not been handed to a worker yet)" : "";
	return err_set(e, ERR_FAILED_PRECONDITION,
	               "%s needs an ACTIVE or STOPPING trial; owners/%s/studies/%s/trials/%" PRId64
	               " is %s%s",
	               what, owner, study, t->id, tj_trial_state(t->state), hint);
}

/* The lease check and the ACTIVE-or-STOPPING check every call on a running
 * trial makes; "what" names the call in the error. A lapsed lease is
 * committed (the expiry svc_check_lease wrote is kept) before the error. */
static int check_live(struct trial_call *tc, const char *owner, const char *study, const char *what,
                      struct err *e)
{
	int rc = svc_check_lease(tc->w, &tc->sp, owner, study, &tc->t, tc->now, e);
	if (rc) {
		if (e->code == ERR_FAILED_PRECONDITION)
			rc = commit_error(tc, rc, e);
		return rc;
	}
	if (tc->t.state != TRIAL_ACTIVE && tc->t.state != TRIAL_STOPPING)
		return state_error(owner, study, &tc->t, what, e);
	return 0;
}

/* The trial's measurements joined (the answer's list), from the cache
 * when it holds exactly the trial's count, else from the store. */
static int joined_measurements(struct service *sv, const struct trial_call *tc, char **joined,
                               size_t *len, size_t *last, struct err *e)
{
	if (tc->t.n_measurements > 0 &&
	    svc_meas_get(sv, tc->s.rowid, tc->t.id, tc->t.n_measurements, joined, len, last))
		return 0;
	return read_joined(tc->w, &tc->t, joined, len, last, e);
}

/* Appends one measurement to a joined list (NULL-safe). */
static int append_joined(char **joined, size_t *len, size_t *last, const char *m)
{
	size_t ml = strlen(m);
	char *grown = realloc(*joined, *len + ml + 2);
	if (!grown)
		return -1;
	*joined = grown;
	if (*len > 0)
		grown[(*len)++] = ',';
	*last = *len;
	memcpy(grown + *len, m, ml + 1);
	*len += ml;
	return 0;
}

/* The answer of a call on the trial: tc's row and the joined list, both
 * moved into out. */
static void answer(struct trial_call *tc, char **joined, struct svc_trial *out)
{
	out->t = tc->t;
	memset(&tc->t, 0, sizeof(tc->t));
	out->measurements = *joined;
	*joined = NULL;
}

int service_add_measurement(struct service *sv, const char *owner, const char *study, int64_t trial,
                            const char *measurement, struct svc_trial *out, struct svc_audit *audit,
                            struct err *e)
{
	struct trial_call tc;
	json_t *m = NULL, *mv = NULL;
	char *text = NULL, *joined = NULL;
	size_t len = 0, last = 0;
	memset(out, 0, sizeof(*out));
	int rc = call_begin(sv, owner, study, trial, audit, &tc, e);
	if (rc)
		goto out;
	if (!measurement) {
		rc = err_set(e, ERR_INVALID_ARGUMENT, "measurement is required");
		goto out;
	}
	if (!(mv = json_loads(measurement, JSON_DECODE_ANY, NULL))) {
		rc = err_set(e, ERR_INTERNAL, "measurement is not JSON text");
		goto out;
	}
	if ((rc = tj_measurement_parse(mv, "measurement", &tc.sp, &m, e)))
		goto out;
	if ((rc = check_live(&tc, owner, study, "addTrialMeasurement", e)))
		goto out;
	if (!(text = ju_canonical(m))) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* The list serves the answer too; it comes from the cache when that
	 * holds the trial's count, read under the writer otherwise. */
	if ((rc = joined_measurements(sv, &tc, &joined, &len, &last, e)))
		goto out;
	/* A retried request (same body as the last measurement) adds nothing. */
	int dup = len > 0 && ju_same_canonical(joined + last, text);
	if (!dup) {
		if (sv->cfg->max_measurements > 0 &&
		    tc.t.n_measurements >= sv->cfg->max_measurements) {
			rc = err_refuse(e, ERR_FAILED_PRECONDITION, ERR_REFUSAL_LIMIT,
			                "max_measurements", sv->cfg->max_measurements,
			                "trial %" PRId64 " already has %" PRId64
			                " measurements, the limit per trial",
			                trial, tc.t.n_measurements);
			goto out;
		}
		svc_renew_lease(&tc.sp, &tc.t, tc.now);
		if ((rc = store_measurement_add(tc.w, tc.s.rowid, trial, text, tc.t.lease_expiry,
		                                e)))
			goto out;
		tc.t.n_measurements++;
		if (append_joined(&joined, &len, &last, text)) {
			rc = err_set(e, ERR_INTERNAL, "out of memory");
			goto out;
		}
	} else {
		svc_renew_lease(&tc.sp, &tc.t, tc.now);
		if ((rc = store_trial_set_lease(tc.w, tc.s.rowid, trial, tc.t.lease_expiry, e)))
			goto out;
	}
	/* The answer is rendered after the commit: every writer waits for the
	 * one writer. The cache is filled only once the list is committed. */
	rc = store_write_commit(tc.w, e);
	tc.w = NULL;
	if (rc == 0) {
		svc_meas_put(sv, tc.s.rowid, trial, tc.t.n_measurements, joined, len, last);
		answer(&tc, &joined, out);
	}
out:
	call_end(&tc);
	json_decref(m);
	json_decref(mv);
	free(text);
	free(joined);
	return rc;
}

int service_complete(struct service *sv, const char *owner, const char *study, int64_t trial,
                     const struct svc_complete *in, struct svc_trial *out, struct svc_audit *audit,
                     struct err *e)
{
	char *joined = NULL;
	size_t jlen = 0, jlast = 0;
	struct trial_call tc;
	json_t *canon = json_object(), *final = NULL;
	char *text = NULL;
	int infeasible = in->infeasible, rc;
	const char *reason = in->infeasible_reason;
	memset(out, 0, sizeof(*out));
	if ((rc = call_begin(sv, owner, study, trial, audit, &tc, e)))
		goto out;
	if (infeasible)
		json_object_set_new(canon, "trialInfeasible", json_true());
	if (reason) {
		if (!infeasible) {
			rc = err_set(e, ERR_INVALID_ARGUMENT,
			             "infeasibleReason is only allowed with trialInfeasible: true");
			goto out;
		}
		json_object_set_new(canon, "infeasibleReason", json_string(reason));
	}
	if (in->final_measurement) {
		json_t *x = json_loads(in->final_measurement, JSON_DECODE_ANY, NULL);
		rc = x ? tj_measurement_parse(x, "finalMeasurement", &tc.sp, &final, e)
		       : err_set(e, ERR_INTERNAL, "finalMeasurement is not JSON text");
		json_decref(x);
		if (rc)
			goto out;
		json_object_set(canon, "finalMeasurement", final);
	}
	if (!(text = ju_canonical(canon))) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (tc.t.state == TRIAL_SUCCEEDED || tc.t.state == TRIAL_INFEASIBLE) {
		if (tc.t.complete_json && ju_same_canonical(tc.t.complete_json, text)) {
			rc = svc_trial_copy(tc.w, &tc.t, out, e);
			goto out; /* a retry: nothing changes */
		}
		if (svc_given_up(&tc.t))
			rc = state_error(owner, study, &tc.t, "complete", e);
		else
			rc = err_set(e, ERR_FAILED_PRECONDITION,
			             "trial owners/%s/studies/%s/trials/%" PRId64
			             " is already %s; a complete with a different body is refused",
			             owner, study, trial, tj_trial_state(tc.t.state));
		goto out;
	}
	if ((rc = check_live(&tc, owner, study, "complete", e)))
		goto out;
	if (!final && !infeasible) {
		if ((rc = svc_select_final(tc.w, &tc.sp, &tc.t, &final, e)))
			goto out;
		if (!final) {
			rc = err_set(e, ERR_INVALID_ARGUMENT,
			             "complete needs finalMeasurement, earlier measurements "
			             "(addTrialMeasurement), or trialInfeasible: true");
			goto out;
		}
	}
	if (!infeasible && (rc = svc_check_objective(&tc.sp, final, "the final measurement", e)))
		goto out;
	free(tc.t.final_json);
	tc.t.final_json = final ? ju_canonical(final) : NULL;
	tc.t.state = infeasible ? TRIAL_INFEASIBLE : TRIAL_SUCCEEDED;
	free(tc.t.infeasible_reason);
	tc.t.infeasible_reason = NULL;
	if (reason) {
		size_t rl = strlen(reason) + 1;
		if ((tc.t.infeasible_reason = malloc(rl)))
			memcpy(tc.t.infeasible_reason, reason, rl);
	}
	free(tc.t.complete_json);
	tc.t.complete_json = text;
	text = NULL;
	tc.t.end_time = tc.now;
	tc.t.lease_expiry = 0;
	if ((rc = store_trial_finish(tc.w, &tc.t, e)))
		goto out;
	/* The measurements are read in the transaction, the answer rendered
	 * after the commit (every writer waits for the one writer). */
	if ((rc = joined_measurements(sv, &tc, &joined, &jlen, &jlast, e)))
		goto out;
	rc = store_write_commit(tc.w, e);
	tc.w = NULL;
	if (rc == 0) {
		svc_meas_drop(sv, tc.s.rowid, trial); /* no more measurements */
		answer(&tc, &joined, out);
	}
out:
	call_end(&tc);
	free(joined);
	json_decref(canon);
	json_decref(final);
	free(text);
	return rc;
}

int service_touch(struct service *sv, const char *owner, const char *study, int64_t trial,
                  const char *client_id, struct svc_trial *out, struct svc_audit *audit,
                  struct err *e)
{
	struct trial_call tc;
	memset(out, 0, sizeof(*out));
	int rc = call_begin(sv, owner, study, trial, audit, &tc, e);
	if (rc)
		goto out;
	int live = tc.t.state == TRIAL_ACTIVE || tc.t.state == TRIAL_STOPPING;
	if (live && tc.t.client_id && strcmp(tc.t.client_id, client_id) == 0) {
		int64_t was = tc.t.lease_expiry;
		if (svc_lease_lapsed(&tc.sp, was, tc.now)) {
			rc = svc_lapse(tc.w, &tc.sp, &tc.t, tc.now, e); /* writes the outcome */
		} else {
			svc_renew_lease(&tc.sp, &tc.t, tc.now);
			if (tc.t.lease_expiry != was)
				rc = store_trial_update(tc.w, &tc.t, e);
		}
		if (rc)
			goto out;
	}
	if ((rc = svc_trial_copy(tc.w, &tc.t, out, e)))
		goto out;
	rc = store_write_commit(tc.w, e);
	tc.w = NULL;
	if (rc)
		svc_trial_clear(out);
out:
	call_end(&tc);
	return rc;
}

int service_stop(struct service *sv, const char *owner, const char *study, int64_t trial,
                 struct svc_trial *out, struct svc_audit *audit, struct err *e)
{
	struct trial_call tc;
	memset(out, 0, sizeof(*out));
	int rc = call_begin(sv, owner, study, trial, audit, &tc, e);
	if (rc)
		goto out;
	if ((rc = check_live(&tc, owner, study, "stop", e)))
		goto out;
	tc.t.state = TRIAL_STOPPING;
	if ((rc = store_trial_update(tc.w, &tc.t, e)))
		goto out;
	if ((rc = svc_trial_copy(tc.w, &tc.t, out, e)))
		goto out;
	rc = store_write_commit(tc.w, e);
	tc.w = NULL;
	if (rc)
		svc_trial_clear(out);
out:
	call_end(&tc);
	return rc;
}

/* ---- checkTrialEarlyStoppingState: the median rule (stopping.h) ---- */

/* One stored measurement as a point of the objective metric k. */
static void to_point(const json_t *m, const struct spec *sp, size_t k, struct stopping_point *p)
{
	double v[sp->n_metrics];
	const json_t *x;
	int64_t n;
	struct err ignored;
	tj_measurement_metrics(m, sp, v);
	memset(p, 0, sizeof(*p));
	p->value = v[k];
	if ((x = json_object_get(m, "stepCount")) && ju_int64(x, "", &n, &ignored) == 0) {
		p->step = n;
		p->has |= STOPPING_HAS_STEP;
	}
	if ((x = json_object_get(m, "elapsedDuration")) && ju_duration(x, "", &n, &ignored) == 0) {
		p->elapsed_ns = n;
		p->has |= STOPPING_HAS_ELAPSED;
	}
}

/* A trial's learning curve: its reported measurements, or for a completed
 * trial that reported none, its final measurement (which counts only if it
 * carries stepCount or elapsedDuration). curve->points is malloc'd. */
static int load_curve(struct store_conn *c, const struct spec *sp, size_t k,
                      const struct store_trial *t, struct stopping_curve *curve, struct err *e)
{
	json_t *ms;
	curve->points = NULL;
	curve->n = 0;
	int rc = svc_measurements(c, t, &ms, e);
	if (rc)
		return rc;
	struct stopping_point *pts = calloc(json_array_size(ms) + 1, sizeof(*pts));
	if (!pts) {
		json_decref(ms);
		return err_set(e, ERR_INTERNAL, "out of memory");
	}
	size_t i;
	json_t *m;
	json_array_foreach(ms, i, m) to_point(m, sp, k, &pts[curve->n++]);
	json_decref(ms);
	if (curve->n == 0 && t->final_json) {
		json_t *f = tj_load(t->final_json);
		if (f)
			to_point(f, sp, k, &pts[curve->n++]);
		json_decref(f);
	}
	curve->points = pts;
	return 0;
}

/* The rule's answer for a trial, on a read snapshot (no lock held while the
 * completed trials' curves are read). *stop and why are set on success. */
static int median_decision(struct service *sv, const char *owner, const char *study, int64_t trial,
                           int *stop, char *why, size_t cap, struct err *e)
{
	struct store_study s;
	struct spec sp;
	struct store_trial t = {0}, *done = NULL;
	struct stopping_curve cur = {0}, *curves = NULL;
	size_t n_done = 0;
	*stop = 0;
	struct store_conn *c;
	int rc = service_read_study(sv, owner, study, &c, &s, &sp, e);
	if (rc)
		return rc;
	if ((rc = store_trial_get(c, s.rowid, trial, &t, e)))
		goto out;
	if (t.state == TRIAL_STOPPING) {
		*stop = 1;
		snprintf(why, cap, "the trial is already STOPPING");
		goto out;
	}
	if (t.state != TRIAL_ACTIVE)
		goto out; /* the write refuses it with the trial's state */
	if (!sp.has_median_stopping) {
		snprintf(why, cap, "the study has no medianAutomatedStoppingSpec");
		goto out;
	}
	size_t k = 0;
	while (k + 1 < sp.n_metrics && sp.metrics[k].safety)
		k++;
	if ((rc = load_curve(c, &sp, k, &t, &cur, e)))
		goto out;
	if ((rc = store_trial_list(c, s.rowid, 1u << TRIAL_SUCCEEDED, 0, 0, &done, &n_done, e)))
		goto out;
	if (!(curves = calloc(n_done + 1, sizeof(*curves)))) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_done && rc == 0; i++)
		rc = load_curve(c, &sp, k, &done[i], &curves[i], e);
	if (rc)
		goto out;
	struct stopping_input in = {
	    .trial = &cur,
	    .completed = curves,
	    .n_completed = n_done,
	    .minimize = sp.metrics[k].goal == DESIGNER_MINIMIZE,
	    .use_elapsed = sp.median_use_elapsed,
	};
	struct stopping_result res;
	if ((rc = stopping_median(&in, &res, e)))
		goto out;
	*stop = res.should_stop;
	stopping_describe(&in, &res, why, cap);
out:
	store_release(c);
	free((void *)cur.points);
	for (size_t i = 0; curves && i < n_done; i++)
		free((void *)curves[i].points);
	free(curves);
	store_trials_free(done, n_done);
	store_trial_clear(&t);
	store_study_clear(&s);
	spec_free(&sp);
	return rc;
}

int service_check_early_stopping(struct service *sv, const char *owner, const char *study,
                                 int64_t trial, struct svc_early_stop *out, struct svc_audit *audit,
                                 struct err *e)
{
	struct trial_call tc;
	char *text = NULL;
	json_t *op = NULL;
	int stop;
	memset(out, 0, sizeof(*out));
	out->trial = trial;
	int rc =
	    median_decision(sv, owner, study, trial, &stop, out->reason, sizeof(out->reason), e);
	if (rc)
		return rc;
	out->should_stop = stop;
	if ((rc = call_begin(sv, owner, study, trial, audit, &tc, e)))
		goto out;
	/* The check is a call on the trial: a lapsed lease is refused, a live
	 * one renewed. */
	if ((rc = check_live(&tc, owner, study, "checkTrialEarlyStoppingState", e)))
		goto out;
	if (stop && tc.t.state == TRIAL_ACTIVE)
		tc.t.state = TRIAL_STOPPING;
	svc_renew_lease(&tc.sp, &tc.t, tc.now);
	if ((rc = store_trial_update(tc.w, &tc.t, e)))
		goto out;
	/* Stored without its name, as suggest's (operation_json.h). */
	if (!(op = oj_early_stop(out)) || !(text = ju_canonical(op))) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if ((rc = store_operation_insert(tc.w, tc.s.rowid, text, &out->op_id, e)))
		goto out;
	rc = store_write_commit(tc.w, e);
	tc.w = NULL;
out:
	call_end(&tc);
	json_decref(op);
	free(text);
	return rc;
}
