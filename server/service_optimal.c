/* service_optimal.c: trials:listOptimalTrials, the feasible Pareto front
 * of a study's SUCCEEDED trials, and the feasibility and dominance tests
 * that suggest.c shares for studyStoppingConfig's "no progress" rules. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "service_internal.h"
#include "trial_json.h"

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

int service_optimal(struct service *sv, const char *owner, const char *study, json_t **out,
                    struct err *e)
{
	struct store_study s;
	struct spec sp;
	struct store_trial *t = NULL;
	size_t n = 0;
	double *m = NULL;
	char *keep = NULL;
	struct store_conn *c;
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
	json_t *arr = json_array();
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *tj;
		if (!keep[i])
			continue;
		if ((rc = service_trial_json(c, owner, study, &t[i], &tj, e)) == 0)
			json_array_append_new(arr, tj);
	}
	*out = json_object();
	json_object_set_new(*out, "optimalTrials", arr);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
out:
	store_release(c);
	store_trials_free(t, n);
	store_study_clear(&s);
	spec_free(&sp);
	free(m);
	free(keep);
	return rc;
}
