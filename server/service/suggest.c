/* trials:suggest. The model is fitted outside any transaction (holding only
 * the study's own queue), so that a slow fit never holds the store's single
 * writer; the hand-out of a whole batch of coalesced calls (for each: own
 * ACTIVE trials, the REQUESTED pool, new points, the budget check, its
 * Operation) is one write transaction, so a budget holds however many
 * workers ask at once and a batch costs one commit. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "history.h"
#include "json_util.h"
#include "service_internal.h"
#include "operation_json.h"
#include "trial_json.h"
#include "gpei.h"
#include "metrics.h"

static double mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What the read snapshot tells the hand-out. */
struct plan {
	double *points; /* n_points x space.n, from the designer */
	struct designer_info *info;
	size_t n_points;
	int designer_rc; /* < 0: the designer failed (message in derr) */
	struct err derr;
	size_t used;           /* points already handed out in this batch */
	int grid_exhausted;    /* the designer gave fewer than asked */
	char stop_reason[256]; /* non-empty: the study must stop */
	int64_t rowid;         /* the study's */
	int64_t next_trial;    /* its next trial id in the snapshot planned from */
};

/* Times a suggest plans again because another process (a second sibyld
 * on the same file) added trials between its read snapshot and its write
 * transaction; then it answers ABORTED. Between two tries it waits a
 * random 1..2^tries ms (at most 64), so that two daemons that keep
 * planning from the same view fall out of step (replan_pause). */
#define SUGGEST_REPLANS 16

static void plan_free(struct plan *p)
{
	free(p->points);
	free(p->info);
}

static uint64_t default_seed(const char *owner, const char *study)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = owner; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ '/') * 1099511628211ULL;
	for (const char *p = study; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

/* A read snapshot with the study and its spec loaded on it
 * (service_read_study): the one service_suggest takes to find the study,
 * planned from when its caller leads at once. */
struct snap {
	struct store_conn *c; /* NULL: none */
	struct store_study s;
	struct spec sp;
};

static void snap_drop(struct snap *p)
{
	if (!p || !p->c)
		return;
	store_release(p->c);
	store_study_clear(&p->s);
	spec_free(&p->sp);
	p->c = NULL;
}

/* Whether pre may be planned from: a snapshot older than the one the
 * study's history was last brought up to date on (a leader ran between
 * pre's read and this one's start) would make hist_refresh reload the
 * whole history; then a fresh snapshot is taken instead. pre only misses
 * what any plan may miss (another process's writes after its snapshot):
 * plan_current and the hand-out's own load of the study, on the write
 * transaction, see the current state. */
static int snap_usable(const struct study_rt *rt, const struct snap *pre)
{
	struct err e;
	int64_t seq, deletes;
	if (!pre || !pre->c || pre->s.rowid != rt->rowid)
		return 0;
	if (!rt->hist || rt->hist->seq < 0)
		return 1;
	return store_trial_seq(pre->c, pre->s.rowid, &seq, &deletes, &e) == 0 &&
	       seq >= rt->hist->seq && deletes == rt->hist->deletes;
}

/* The snapshot to plan from: pre's (taken over, pre left empty) when
 * usable, else a new one (pre dropped). */
static int plan_snapshot(struct service *sv, const struct study_rt *rt, const char *owner,
                         const char *study, struct snap *pre, struct store_conn **c,
                         struct store_study *s, struct spec *sp, struct err *e)
{
	if (!snap_usable(rt, pre)) {
		snap_drop(pre);
		return service_read_study(sv, owner, study, c, s, sp, e);
	}
	*c = pre->c;
	*s = pre->s;
	*sp = pre->sp;
	pre->c = NULL;
	return 0;
}

/* Reads the history (on pre's snapshot when it may be used: plan_snapshot)
 * and, when new points are needed, runs the designer. */
static int make_plan(struct service *sv, struct study_rt *rt, const char *owner, const char *study,
                     const struct sreq *batch, struct snap *pre, struct plan *pl, struct err *e)
{
	struct store_study s;
	struct spec sp;
	struct designer_trial *done = NULL;
	const double **pending = NULL;
	int64_t *own = NULL; /* per caller of the batch: its ACTIVE trials */
	struct store_conn *c;
	int rc = plan_snapshot(sv, rt, owner, study, pre, &c, &s, &sp, e);
	if (rc)
		return rc;
	/* The history is the study's cached one, brought up to date on this
	 * snapshot (only the trials changed since the last suggest are read). */
	if (!rt->hist && !(rt->hist = hist_new())) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	struct hist *h = rt->hist;
	if ((rc = hist_refresh(h, c, &sp, s.rowid, e)))
		goto out;
	pl->rowid = s.rowid;
	if ((rc = store_study_next_trial(c, s.rowid, &pl->next_trial, e)))
		goto out;
	store_release(c);
	c = NULL;
	size_t k = sp.n_metrics, n = h->n;
	done = calloc(n + 1, sizeof(*done));
	pending = calloc(n + 1, sizeof(*pending));
	if (!done || !pending) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	size_t n_done = 0, n_pending = 0, n_batch = 0;
	int64_t pool = 0, max_id = 0, given_up = 0;
	for (const struct sreq *r = batch; r; r = r->next)
		n_batch++;
	if (!(own = calloc(n_batch + 1, sizeof(*own)))) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (int64_t id = 1; id <= h->max_id; id++) {
		size_t i = (size_t)id;
		double *v = &h->vals[i * h->d];
		if (!h->state[i])
			continue;
		max_id = id;
		if (h->given_up[i]) {
			given_up++;
			continue;
		}
		switch (h->state[i]) {
		case TRIAL_SUCCEEDED:
		case TRIAL_INFEASIBLE:
			done[n_done].values = v;
			done[n_done].metrics = &h->metrics[i * k];
			done[n_done].infeasible = h->state[i] == TRIAL_INFEASIBLE;
			n_done++;
			break;
		case TRIAL_REQUESTED:
			pool++;
			pending[n_pending++] = v;
			break;
		default:
			if (h->state[i] == TRIAL_ACTIVE && h->client_id[i]) {
				size_t b = 0;
				for (const struct sreq *r = batch; r; r = r->next, b++) {
					if (strcmp(h->client_id[i], r->client_id) == 0) {
						own[b]++;
						break;
					}
				}
			}
			pending[n_pending++] = v;
		}
	}
	int64_t now = ju_now_ms();
	svc_study_stop_reason(&sp, &s, h, now, pl->stop_reason, sizeof(pl->stop_reason));
	if (pl->stop_reason[0] || s.state != STUDY_ACTIVE)
		goto out;
	/* New points wanted by the whole batch: what the callers' own trials
	 * and the pool do not cover. */
	int64_t need = -pool;
	size_t b = 0;
	for (const struct sreq *r = batch; r; r = r->next, b++)
		need += r->count > own[b] ? r->count - own[b] : 0;
	if (sp.max_num_trials) {
		int64_t left = sp.max_num_trials - ((int64_t)n - given_up);
		if (need > left)
			need = left;
	}
	if (need <= 0)
		goto out;
	pl->points = malloc((size_t)need * sp.space.n * sizeof(double));
	pl->info = calloc((size_t)need, sizeof(*pl->info));
	if (!pl->points || !pl->info) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (sp.algorithm == DESIGNER_GP_EI && !rt->cache)
		rt->cache = gp_cache_new();
	struct designer_input in = {
	    .space = &sp.space,
	    .metrics = sp.dmetrics,
	    .n_metrics = k,
	    .completed = done,
	    .n_completed = n_done,
	    .pending = pending,
	    .n_pending = n_pending,
	    .count = (size_t)need,
	    .seed = sp.has_seed ? sp.seed : default_seed(owner, study),
	    .position = (uint64_t)max_id,
	    .noise_high = sp.noise_high,
	    .cache = rt->cache,
	};
	char msg[ERR_MSG_LEN] = "";
	int got = designer_suggest(sp.algorithm, &in, pl->points, pl->info, msg, sizeof(msg));
	if (got < 0) {
		pl->designer_rc = got;
		err_set(&pl->derr, ERR_INTERNAL, "the %s designer failed: %s", sp.algorithm_name,
		        msg);
	} else {
		pl->n_points = (size_t)got;
		pl->grid_exhausted = got < need;
	}
out:
	store_release(c);
	store_study_clear(&s);
	spec_free(&sp);
	free(done);
	free(pending);
	free(own);
	return rc;
}

static json_t *info_json(const struct spec *sp, const struct designer_info *in)
{
	json_t *o = json_object();
	json_object_set_new(o, "algorithm",
	                    json_string(sp->algorithm == DESIGNER_GP_EI ? "GAUSSIAN_PROCESS_EI"
	                                                                : sp->algorithm_name));
	if (in->source)
		json_object_set_new(o, "source", json_string(in->source));
	if (in->model_based) {
		if (isfinite(in->predicted_value))
			json_object_set_new(o, "predictedValue", json_real(in->predicted_value));
		if (isfinite(in->predicted_stddev))
			json_object_set_new(o, "predictedStddev", json_real(in->predicted_stddev));
		if (isfinite(in->log_ei))
			json_object_set_new(o, "logExpectedImprovement", json_real(in->log_ei));
		if (in->incumbent)
			json_object_set_new(o, "incumbent", json_string(in->incumbent));
	}
	return o;
}

void svc_suggestion_clear(struct svc_suggestion *x)
{
	if (!x)
		return;
	svc_trials_free(x->trials, x->n);
	memset(x, 0, sizeof(*x));
}

/* t as handed out (after its write on w), appended to x. */
static int take_trial(struct store_conn *w, const struct store_trial *t, struct svc_suggestion *x,
                      struct err *e)
{
	struct svc_trial *g = realloc(x->trials, (x->n + 1) * sizeof(*g));
	if (!g)
		return err_set(e, ERR_INTERNAL, "out of memory");
	x->trials = g;
	int rc = svc_trial_copy(w, t, &g[x->n], e);
	if (rc == 0)
		x->n++;
	return rc;
}

/* Marks the study COMPLETED on w and answers FAILED_PRECONDITION: the one
 * refusal whose write must stand (the caller commits it). */
static int stop_study(struct store_conn *w, struct store_study *s, const char *why, struct err *e)
{
	int rc = store_study_set_state(w, s->rowid, STUDY_COMPLETED, why, e);
	if (rc)
		return rc;
	/* s stays what w now holds: a later caller of the batch sees it. */
	char *reason = strdup(why);
	if (!reason)
		return err_set(e, ERR_INTERNAL, "out of memory");
	free(s->inactive_reason);
	s->inactive_reason = reason;
	s->state = STUDY_COMPLETED;
	return err_set(e, ERR_FAILED_PRECONDITION, "study owners/%s/studies/%s is COMPLETED: %s",
	               s->owner, s->study_id, why);
}

/* Settles the study's ACTIVE and STOPPING trials whose lease lapsed. */
static int expire_leases(struct store_conn *w, const struct spec *sp, int64_t rowid, int64_t now,
                         struct err *e)
{
	struct store_trial *t = NULL;
	size_t n = 0;
	int rc =
	    store_trial_list(w, rowid, 1u << TRIAL_ACTIVE | 1u << TRIAL_STOPPING, 0, 0, &t, &n, e);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = svc_lapse(w, sp, &t[i], now, e);
	store_trials_free(t, n);
	return rc;
}

/* Trials that count against maxNumTrials: all but the given-up ones
 * (their parameters live on in the trial that replaced them). */
static int count_budgeted(struct store_conn *w, int64_t rowid, int64_t *total, struct err *e)
{
	struct store_trial *t = NULL;
	size_t n = 0;
	int rc = store_trial_count(w, rowid, 0, total, e);
	if (rc == 0)
		rc = store_trial_list(w, rowid, 1u << TRIAL_INFEASIBLE, 0, 0, &t, &n, e);
	for (size_t i = 0; i < n && rc == 0; i++)
		*total -= svc_given_up(&t[i]);
	store_trials_free(t, n);
	return rc;
}

/* One more ACTIVE trial of the owner: counted in *room (-1: no limit),
 * refused when there is none left. */
static int take_active(int64_t *room, const struct store_quota *q, struct err *e)
{
	if (*room == 0)
		return svc_quota_refuse(SVC_QUOTA_ACTIVE, q->max_active_trials, e);
	if (*room > 0)
		(*room)--;
	return 0;
}

/* The caller's own ACTIVE trials (up to count, with a fresh lease) into x;
 * *got counts them. *own holds the list for the caller to free. */
static int hand_out_own(struct store_conn *w, int64_t rowid, const char *client_id, int64_t count,
                        int64_t lease, struct svc_suggestion *x, struct store_trial **own,
                        size_t *n_own, int64_t *got, struct err *e)
{
	int rc = store_trial_list_by_client(w, rowid, client_id, own, n_own, e);
	for (size_t i = 0; rc == 0 && i < *n_own && *got < count; i++) {
		struct store_trial *t = &(*own)[i];
		if (t->state != TRIAL_ACTIVE)
			continue;
		t->lease_expiry = lease;
		if ((rc = store_trial_update(w, t, e)) == 0 && (rc = take_trial(w, t, x, e)) == 0)
			(*got)++;
	}
	return rc;
}

/* One caller's hand-out on the open write transaction w (the leader's, for
 * the whole batch), with the study s and its spec sp as loaded on w (kept
 * current by stop_study, the only write of a hand-out to the study row):
 * own ACTIVE trials, the REQUESTED pool, new points within
 * the budget, and the stored Operation (*x says what it holds). Returns 0; or
 * FAILED_PRECONDITION, whose only write (the study COMPLETED) must stand; or
 * another error after which w must be rolled back. */
static int hand_out(struct store_conn *w, struct store_study *s, const struct spec *sp,
                    const char *owner, const char *study, int64_t count, const char *client_id,
                    struct plan *pl, int64_t t0, struct svc_suggestion *x, struct err *e)
{
	struct store_trial *own = NULL, *pool = NULL;
	size_t n_own = 0, n_pool = 0;
	json_t *op = NULL;
	char *text = NULL;
	memset(x, 0, sizeof(*x));
	int64_t now = ju_now_ms();
	int rc = 0;
	int64_t lease = sp->stale_timeout_ns > 0 ? now + sp->stale_timeout_ns / 1000000 : 0;
	int64_t got = 0;
	if (s->state != STUDY_ACTIVE || pl->stop_reason[0]) {
		/* A stopped study hands out nothing new. But when it is COMPLETED
		 * with its maxNumTrials budget spent, the caller's own ACTIVE
		 * trials (within that budget) still come back: a suggest retried
		 * after its answer was lost must not leave them ACTIVE for good.
		 * A study stopped by another rule or by hand tells every worker
		 * to stop. */
		if (s->state == STUDY_ACTIVE)
			rc = stop_study(w, s, pl->stop_reason, e);
		else
			rc = err_set(e, ERR_FAILED_PRECONDITION,
			             "study owners/%s/studies/%s is %s%s%s", owner, study,
			             tj_study_state(s->state),
			             s->inactive_reason && *s->inactive_reason ? ": " : "",
			             s->inactive_reason ? s->inactive_reason : "");
		if (e->code != ERR_FAILED_PRECONDITION || s->state != STUDY_COMPLETED ||
		    !sp->max_num_trials)
			goto out;
		struct err own_e = {0};
		int64_t total = 0;
		int own_rc = count_budgeted(w, s->rowid, &total, &own_e);
		if (own_rc == 0 && total < sp->max_num_trials)
			goto out; /* completed by another rule, not by its budget */
		if (own_rc == 0)
			own_rc = hand_out_own(w, s->rowid, client_id, count, lease, x, &own, &n_own,
			                      &got, &own_e);
		if (own_rc) {
			*e = own_e;
			rc = own_rc;
			goto out;
		}
		if (got == 0)
			goto out;
		rc = 0;
		*e = (struct err){0};
		goto operation;
	}
	if (sp->stale_timeout_ns > 0 && (rc = expire_leases(w, sp, s->rowid, now, e)))
		goto out;
	/* 1. the caller's own ACTIVE trials */
	if ((rc = hand_out_own(w, s->rowid, client_id, count, lease, x, &own, &n_own, &got, e)))
		goto out;
	/* Under the owner's quotas (maxActiveTrials here, maxTrialsPerStudy for
	 * new trials below) a call asks for up to count trials: it gets what
	 * fits. With no room at all, the first trial it would make ACTIVE (or
	 * insert) is refused (429 naming the quota: svc_quota_refuse). */
	struct store_quota q;
	int64_t active_room = -1, trials_room = -1;
	if ((rc = store_owner_quota_get(w, owner, &q, e)))
		goto out;
	if (got < count) {
		if ((rc = svc_quota_active_room(w, &q, owner, &active_room, e)))
			goto out;
		if (active_room >= 0 && active_room < count - got && (active_room > 0 || got > 0))
			count = got + active_room;
	}
	/* 2. the REQUESTED pool, oldest first */
	if (got < count) {
		if ((rc = store_trial_list(w, s->rowid, 1u << TRIAL_REQUESTED, 0,
		                           (int)(count - got), &pool, &n_pool, e)))
			goto out;
		for (size_t i = 0; i < n_pool; i++) {
			struct store_trial *t = &pool[i];
			size_t cl = strlen(client_id) + 1;
			free(t->client_id);
			if (!(t->client_id = malloc(cl))) {
				rc = err_set(e, ERR_INTERNAL, "out of memory");
				goto out;
			}
			memcpy(t->client_id, client_id, cl);
			if ((rc = take_active(&active_room, &q, e)))
				goto out;
			t->state = TRIAL_ACTIVE;
			if (t->start_time == 0)
				t->start_time = now;
			t->lease_expiry = lease;
			if ((rc = store_trial_update(w, t, e)) || (rc = take_trial(w, t, x, e)))
				goto out;
			got++;
		}
	}
	/* 3. new trials from the designer, within the budget */
	int64_t want = count - got, budget = want;
	if (want > 0 && sp->max_num_trials) {
		int64_t total;
		if ((rc = count_budgeted(w, s->rowid, &total, e)))
			goto out;
		budget = sp->max_num_trials - total;
		if (budget < 0)
			budget = 0;
	}
	if (want > 0) {
		if ((rc = svc_quota_trials_room(w, &q, s->rowid, &trials_room, e)))
			goto out;
		if (trials_room >= 0 && trials_room < want && (trials_room > 0 || got > 0))
			want = trials_room;
	}
	if (want > 0 && budget > 0 && pl->designer_rc < 0) {
		*e = pl->derr;
		rc = -(int)pl->derr.code;
		goto out;
	}
	while (pl->used < pl->n_points && want > 0 && budget > 0) {
		size_t i = pl->used++;
		struct store_trial t = {0};
		json_t *params = tj_params_json(&sp->space, &pl->points[i * sp->space.n]);
		json_t *info = info_json(sp, &pl->info[i]);
		t.study_rowid = s->rowid;
		t.state = TRIAL_ACTIVE;
		t.params_json = ju_canonical(params);
		t.info_json = ju_canonical(info);
		json_decref(params);
		json_decref(info);
		size_t cl = strlen(client_id) + 1;
		if ((t.client_id = malloc(cl)))
			memcpy(t.client_id, client_id, cl);
		t.start_time = now;
		t.lease_expiry = lease;
		if (!t.params_json || !t.info_json || !t.client_id)
			rc = err_set(e, ERR_INTERNAL, "out of memory");
		else if ((rc = take_active(&active_room, &q, e)) == 0 && trials_room == 0)
			rc = svc_quota_refuse(SVC_QUOTA_TRIALS, q.max_trials_per_study, e);
		else if (rc == 0 && (rc = store_trial_insert(w, &t, e)) == 0)
			rc = take_trial(w, &t, x, e);
		store_trial_clear(&t);
		if (rc)
			goto out;
		got++;
		want--;
		budget--;
		trials_room -= trials_room > 0;
	}
	if (got == 0) {
		char why[200];
		if (budget <= 0 && sp->max_num_trials) {
			snprintf(why, sizeof(why),
			         "studyStoppingConfig.maxNumTrials (%" PRId64
			         ") trials were suggested",
			         sp->max_num_trials);
		} else if (pl->grid_exhausted) {
			snprintf(why, sizeof(why),
			         "GRID_SEARCH has suggested every point of the grid");
		} else {
			rc = err_refuse(e, ERR_ABORTED, ERR_REFUSAL_CONFLICT, NULL, 0,
			                "the study's trials changed while the suggestion was made; "
			                "retry");
			goto out;
		}
		rc = stop_study(w, s, why, e);
		goto out;
	}
operation:
	/* The Operation is stored without its name: the name holds the id the
	 * insert assigns, and the api adds it (oj_name), here and when serving
	 * it again. */
	x->study_state = s->state;
	x->start_time = t0;
	x->end_time = ju_now_ms();
	if (!(op = oj_suggest(owner, study, x)) || !(text = ju_canonical(op))) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	rc = store_operation_insert(w, s->rowid, text, &x->op_id, e);
out:
	if (rc)
		svc_suggestion_clear(x);
	store_trials_free(own, n_own);
	store_trials_free(pool, n_pool);
	json_decref(op);
	free(text);
	return rc;
}

/* Whether the plan's view of the study still holds in w's transaction:
 * 1 when no trial was inserted since its snapshot, 0 when one was (by
 * another process, or a trial call of this one: its new points were
 * chosen without that trial among the pending ones, and a second daemon
 * planning from the same view would pick the same points), < 0 on error.
 * A plan without new points needs no check. */
static int plan_current(struct store_conn *w, const struct plan *pl, struct err *e)
{
	if (pl->used >= pl->n_points)
		return 1;
	int64_t next;
	int rc = store_study_next_trial(w, pl->rowid, &next, e);
	if (rc)
		return rc;
	return next == pl->next_trial;
}

/* The sections a hand-out needs (store.h): the owner's, for
 * maxActiveTrials over its studies, then the study's, for its trials,
 * budgets and the plan's view. */
static int lock_sections(struct store_conn *w, const char *owner, int64_t rowid, struct err *e)
{
	int rc = store_lock_owner(w, owner, e);
	return rc ? rc : store_lock_study(w, rowid, e);
}

static int stale_plan(struct err *e)
{
	return err_refuse(e, ERR_ABORTED, ERR_REFUSAL_CONFLICT, NULL, 0,
	                  "the study's trials were changed by another process while the "
	                  "suggestion was made; retry");
}

static void drop_answers(struct sreq *batch)
{
	for (struct sreq *r = batch; r; r = r->next)
		svc_suggestion_clear(&r->res);
}

/* The whole batch in one write transaction, so that it costs one commit
 * (one fsync) however many callers it serves. Returns 1, with nothing
 * written, when the plan is stale (plan_current): plan again. Returns -1,
 * with nothing written and no answer set, when a caller met an error that
 * needs its own rollback (the caller then goes one by one); else 0 with
 * every answer set. */
static int hand_out_batch(struct service *sv, const char *owner, const char *study,
                          struct sreq *batch, struct plan *pl, int64_t t0)
{
	struct err e;
	size_t used = pl->used;
	/* One commit for the batch: it carries the first caller's audit entry
	 * (the others are written after it, api_audit_end). */
	struct store_conn *w = svc_write_begin(sv, batch->audit, &e);
	if (!w)
		return -1;
	if (lock_sections(w, owner, pl->rowid, &e)) {
		store_write_rollback(w);
		return -1;
	}
	int cur = plan_current(w, pl, &e);
	if (cur <= 0) {
		store_write_rollback(w);
		return cur == 0 ? 1 : -1;
	}
	struct store_study s;
	struct spec sp;
	if (service_load_study(sv, w, owner, study, &s, &sp, &e)) {
		store_write_rollback(w);
		return -1; /* each caller meets the error on its own */
	}
	for (struct sreq *r = batch; r; r = r->next) {
		r->rc = hand_out(w, &s, &sp, owner, study, r->count, r->client_id, pl, t0, &r->res,
		                 &r->e);
		if (r->rc && r->e.code != ERR_FAILED_PRECONDITION) {
			store_write_rollback(w);
			drop_answers(batch);
			pl->used = used;
			store_study_clear(&s);
			spec_free(&sp);
			return -1;
		}
	}
	store_study_clear(&s);
	spec_free(&sp);
	if (store_write_commit(w, &e) != 0) {
		drop_answers(batch);
		for (struct sreq *r = batch; r; r = r->next) {
			r->rc = -(int)e.code;
			r->e = e;
		}
	}
	return 0;
}

/* Each caller in its own transaction: a failure undoes only its own part.
 * A caller that finds the plan stale is answered ABORTED. */
static void hand_out_each(struct service *sv, const char *owner, const char *study,
                          struct sreq *batch, struct plan *pl, int64_t t0)
{
	for (struct sreq *r = batch; r; r = r->next) {
		struct store_conn *w = svc_write_begin(sv, r->audit, &r->e);
		if (!w) {
			r->rc = -(int)r->e.code;
			continue;
		}
		if ((r->rc = lock_sections(w, owner, pl->rowid, &r->e))) {
			store_write_rollback(w);
			continue;
		}
		int cur = plan_current(w, pl, &r->e);
		if (cur <= 0) {
			store_write_rollback(w);
			r->rc = cur < 0 ? cur : stale_plan(&r->e);
			continue;
		}
		struct store_study s;
		struct spec sp;
		if ((r->rc = service_load_study(sv, w, owner, study, &s, &sp, &r->e))) {
			store_write_rollback(w);
			continue;
		}
		r->rc = hand_out(w, &s, &sp, owner, study, r->count, r->client_id, pl, t0, &r->res,
		                 &r->e);
		store_study_clear(&s);
		spec_free(&sp);
		/* its own new trials are part of the plan: the next caller's
		 * check starts from here */
		if (r->rc == 0 && pl->used < pl->n_points &&
		    (r->rc = store_study_next_trial(w, pl->rowid, &pl->next_trial, &r->e)))
			svc_suggestion_clear(&r->res);
		if (r->rc == 0 || r->e.code == ERR_FAILED_PRECONDITION) {
			struct err ce;
			if (store_write_commit(w, &ce) != 0) {
				svc_suggestion_clear(&r->res);
				r->rc = -(int)ce.code;
				r->e = ce;
			}
		} else {
			store_write_rollback(w);
		}
	}
}

static void replan_pause(int tries)
{
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&tries ^ (unsigned)tries;
	long cap = 1L << (tries < 6 ? tries : 6);
	long ms = 1 + (long)(rand_r(&seed) % cap);
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* The leader's work for a batch: plan, hand out; plan again (at most
 * SUGGEST_REPLANS times) while another process adds trials between the
 * plan's snapshot and the hand-out, so that two daemons on one file never
 * hand out the points of one view twice. */
static void lead_locked(struct service *sv, struct study_rt *rt, const char *owner,
                        const char *study, struct sreq *batch, struct snap *pre)
{
	for (int tries = 0;; tries++) {
		struct plan pl = {0};
		int64_t t0 = ju_now_ms();
		struct err pe;
		int prc = make_plan(sv, rt, owner, study, batch, tries ? NULL : pre, &pl, &pe);
		int hb = 0;
		if (prc) {
			for (struct sreq *r = batch; r; r = r->next) {
				r->rc = prc;
				r->e = pe;
			}
		} else if ((hb = hand_out_batch(sv, owner, study, batch, &pl, t0)) < 0 ||
		           (hb > 0 && tries >= SUGGEST_REPLANS)) {
			hand_out_each(sv, owner, study, batch, &pl, t0);
		}
		plan_free(&pl);
		if (hb <= 0 || tries >= SUGGEST_REPLANS)
			return;
		replan_pause(tries);
	}
}

static void lead(struct service *sv, struct study_rt *rt, const char *owner, const char *study,
                 struct sreq *batch, struct snap *pre)
{
	/* Across daemons sharing a database, one plans the study at a time
	 * (store_plan_lock; nothing on SQLite), from a snapshot taken inside
	 * the section: pre, taken before it, may miss the previous daemon's
	 * hand-out, and holding it while waiting would hold a connection. */
	struct store_section *section = NULL;
	struct err le;
	if (store_plan_sections(sv->st))
		snap_drop(pre);
	if (store_plan_lock(sv->st, rt->rowid, &section, &le) != 0) {
		for (struct sreq *r = batch; r; r = r->next) {
			r->rc = -(int)le.code;
			r->e = le;
		}
		return;
	}
	lead_locked(sv, rt, owner, study, batch, pre);
	store_plan_unlock(section);
}

int service_suggest(struct service *sv, const char *owner, const char *study, int64_t count,
                    const char *client_id, struct svc_suggestion *out, struct svc_audit *audit,
                    struct err *e)
{
	double t_start = mono_seconds();
	struct snap pre = {0};
	memset(out, 0, sizeof(*out));
	/* The study is read once here, on a snapshot that the plan uses when
	 * this call leads at once; a call that waits drops it. */
	int rc = service_read_study(sv, owner, study, &pre.c, &pre.s, &pre.sp, e);
	if (rc)
		return rc;
	struct study_rt *rt = svc_rt_get(sv, pre.s.rowid);
	if (!rt) {
		snap_drop(&pre);
		return err_set(e, ERR_INTERNAL, "out of memory");
	}
	struct sreq me = {.client_id = client_id, .count = count, .audit = audit};
	pthread_mutex_lock(&rt->mu);
	*rt->tail = &me;
	rt->tail = &me.next;
	while (!me.done) {
		if (rt->leader && pre.c) {
			pthread_mutex_unlock(&rt->mu);
			snap_drop(&pre);
			pthread_mutex_lock(&rt->mu);
			continue;
		}
		if (rt->leader) {
			pthread_cond_wait(&rt->cv, &rt->mu);
			continue;
		}
		/* Lead: take every call queued so far as one batch. */
		struct sreq *batch = rt->queue;
		rt->queue = NULL;
		rt->tail = &rt->queue;
		rt->leader = 1;
		pthread_mutex_unlock(&rt->mu);
		lead(sv, rt, owner, study, batch, &pre);
		snap_drop(&pre);
		pthread_mutex_lock(&rt->mu);
		for (struct sreq *r = batch; r; r = r->next)
			r->done = 1;
		rt->leader = 0;
		pthread_cond_broadcast(&rt->cv);
	}
	pthread_mutex_unlock(&rt->mu);
	snap_drop(&pre);
	svc_rt_put(sv, rt);
	rc = me.rc;
	if (rc)
		*e = me.e;
	else
		*out = me.res;
	metrics_observe_suggest(mono_seconds() - t_start);
	return rc;
}
