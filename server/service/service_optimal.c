/* service_optimal.c: trials:listOptimalTrials, the feasible Pareto front
 * of a study's SUCCEEDED trials, and the feasibility and dominance tests
 * that suggest.c shares for studyStoppingConfig's "no progress" rules. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "service_internal.h"
#include "trial_json.h"
#include "gpei.h"
#include "history.h"

int svc_feasible(const struct spec *sp, const double *m)
{
	for (size_t i = 0; i < sp->n_metrics; i++) {
		const struct spec_metric *sm = &sp->metrics[i];
		if (isnan(m[i]))
			return 0;
		if (sm->safety && (sm->goal == DESIGNER_MAXIMIZE ? m[i] < sm->safety_threshold
		                                                 : m[i] > sm->safety_threshold))
			return 0;
	}
	return 1;
}

int svc_dominates(const struct spec *sp, const double *a, const double *b)
{
	int better = 0;
	for (size_t i = 0; i < sp->n_metrics; i++) {
		if (sp->metrics[i].safety)
			continue;
		double x = a[i], y = b[i];
		if (sp->metrics[i].goal == DESIGNER_MINIMIZE)
			x = -x, y = -y;
		if (x < y)
			return 0;
		if (x > y)
			better = 1;
	}
	return better;
}

/* Under noise the recommendation is the trial with the best posterior mean
 * (gpei_recommend). The study's model cache and history belong to its
 * suggest leader: this takes the lead (rt->leader) for the call, so it
 * waits for a running suggestion and a suggestion waits for it. Returns
 * the trial's id, or 0 to keep the best observation (not GP-EI, several
 * objectives, no noise, too few trials, or any failure). */
static int64_t posterior_best(struct service *sv, struct store_conn *c, const struct spec *sp,
                              int64_t rowid)
{
	if (sp->algorithm != DESIGNER_GP_EI || sp->n_objectives != 1)
		return 0;
	struct study_rt *rt = svc_rt_get(sv, rowid);
	if (!rt)
		return 0;
	pthread_mutex_lock(&rt->mu);
	while (rt->leader)
		pthread_cond_wait(&rt->cv, &rt->mu);
	rt->leader = 1;
	pthread_mutex_unlock(&rt->mu);
	int64_t id = 0, *ids = NULL;
	struct designer_trial *done = NULL;
	struct err e;
	if (!rt->hist)
		rt->hist = hist_new();
	if (!rt->cache)
		rt->cache = gp_cache_new();
	struct hist *h = rt->hist;
	if (!h || hist_refresh(h, c, sp, rowid, &e) != 0)
		goto out;
	done = calloc(h->n + 1, sizeof(*done));
	ids = calloc(h->n + 1, sizeof(*ids));
	if (!done || !ids)
		goto out;
	size_t n = 0;
	for (int64_t t = 1; t <= h->max_id; t++) {
		size_t i = (size_t)t;
		if (h->given_up[i] ||
		    (h->state[i] != TRIAL_SUCCEEDED && h->state[i] != TRIAL_INFEASIBLE))
			continue;
		done[n] = (struct designer_trial){&h->vals[i * h->d], &h->metrics[i * h->k],
		                                  h->state[i] == TRIAL_INFEASIBLE};
		ids[n++] = t;
	}
	struct designer_input in = {.space = &sp->space,
	                            .metrics = sp->dmetrics,
	                            .n_metrics = sp->n_metrics,
	                            .completed = done,
	                            .n_completed = n,
	                            .count = 1,
	                            .seed = sp->has_seed ? sp->seed : (uint64_t)rowid,
	                            .position = (uint64_t)h->max_id,
	                            .noise_high = sp->noise_high,
	                            .cache = rt->cache};
	char msg[256];
	size_t best;
	int post = 0;
	if (gpei_recommend(&in, &best, &post, msg, sizeof(msg)) == 0 && post && best < n)
		id = ids[best];
out:
	free(done);
	free(ids);
	pthread_mutex_lock(&rt->mu);
	rt->leader = 0;
	pthread_cond_broadcast(&rt->cv);
	pthread_mutex_unlock(&rt->mu);
	svc_rt_put(sv, rt);
	return id;
}

void svc_optimal_clear(struct svc_optimal *x)
{
	if (!x)
		return;
	svc_trials_free(x->trials, x->n);
	memset(x, 0, sizeof(*x));
}

int service_optimal(struct service *sv, const char *owner, const char *study,
                    struct svc_optimal *out, struct err *e)
{
	struct store_study s;
	struct spec sp;
	struct store_trial *t = NULL;
	size_t n = 0;
	double *m = NULL;
	char *keep = NULL;
	struct store_conn *c;
	memset(out, 0, sizeof(*out));
	int rc = service_read_study(sv, owner, study, &c, &s, &sp, e);
	if (rc)
		return rc;
	if ((rc = store_trial_list(c, s.rowid, 1u << TRIAL_SUCCEEDED, 0, 0, &t, &n, e)))
		goto out;
	size_t k = sp.n_metrics;
	m = calloc(n * k + 1, sizeof(double));
	keep = calloc(n + 1, 1);
	if (!m || !keep) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *f = tj_load(t[i].final_json);
		tj_measurement_metrics(f, &sp, &m[i * k]);
		json_decref(f);
		keep[i] = (char)svc_feasible(&sp, &m[i * k]);
	}
	/* One objective: the best (the first of equals); several: the trials
	 * no other feasible trial dominates. */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n && keep[i]; j++) {
			if (j == i || !keep[j])
				continue;
			if (svc_dominates(&sp, &m[j * k], &m[i * k]) ||
			    (sp.n_objectives == 1 && j < i &&
			     !svc_dominates(&sp, &m[i * k], &m[j * k])))
				keep[i] = 0;
		}
	}
	/* Under noise, one objective: the trial with the best posterior mean
	 * in place of the luckiest observation. */
	const char *selection = "OBSERVED";
	int64_t post = posterior_best(sv, c, &sp, s.rowid);
	for (size_t i = 0; i < n && post; i++)
		if (t[i].id == post) {
			memset(keep, 0, n);
			keep[i] = 1;
			selection = "POSTERIOR_MEAN";
		}
	out->selection = selection;
	if (!(out->trials = calloc(n + 1, sizeof(*out->trials))))
		rc = err_set(e, ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!keep[i])
			continue;
		if ((rc = svc_trial_fill(c, &t[i], &out->trials[out->n], e)) == 0)
			out->n++;
	}
	if (rc)
		svc_optimal_clear(out);
out:
	store_release(c);
	store_trials_free(t, n);
	store_study_clear(&s);
	spec_free(&sp);
	free(m);
	free(keep);
	return rc;
}
