/* study_stopping: the studyStoppingConfig conditions other than the
 * maxNumTrials budget (which the hand-out counts in its transaction), read
 * off a study's history when a suggest plans. */
#include <stdio.h>
#include <stdlib.h>

#include "history.h"
#include "json_util.h"
#include "service_internal.h"

static int same_objectives(const struct spec *sp, const double *a, const double *b)
{
	for (size_t i = 0; i < sp->n_metrics; i++) {
		if (!sp->metrics[i].safety && a[i] != b[i])
			return 0;
	}
	return 1;
}

/* For qsort: trial ids by end time, then id (the history is the context
 * qsort lacks; one sort at a time per study leader, so a thread-local). */
static __thread const struct hist *sort_hist;

static int by_end_time(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	int64_t ex = sort_hist->end_time[x], ey = sort_hist->end_time[y];
	if (ex != ey)
		return ex < ey ? -1 : 1;
	return x < y ? -1 : x > y;
}

void svc_study_stop_reason(const struct spec *sp, const struct store_study *s, const struct hist *h,
                           int64_t now, char *reason, size_t len)
{
	char d[48];
	if (sp->should_stop_asap) {
		snprintf(reason, len, "studyStoppingConfig.shouldStopAsap is set");
		return;
	}
	if ((sp->max_runtime_ns && now - s->create_time >= sp->max_runtime_ns / 1000000) ||
	    (sp->max_runtime_end_ms && now >= sp->max_runtime_end_ms)) {
		snprintf(reason, len, "studyStoppingConfig.maximumRuntimeConstraint was reached");
		return;
	}
	if (!sp->max_num_trials_no_progress && !sp->max_duration_no_progress_ns)
		return;
	if ((sp->min_runtime_ns && now - s->create_time < sp->min_runtime_ns / 1000000) ||
	    (sp->min_runtime_end_ms && now < sp->min_runtime_end_ms))
		return;
	/* Walk the completed trials in completion order; progress is a
	 * feasible trial that no earlier one dominates or equals. */
	int64_t *order = malloc((h->n + 1) * sizeof(*order));
	int64_t *idx = malloc((h->n + 1) * sizeof(*idx));
	size_t nc = 0, n_best = 0, since = 0;
	int64_t last_progress = 0;
	if (!order || !idx)
		goto out;
	for (int64_t id = 1; id <= h->max_id; id++) {
		if ((h->state[id] == TRIAL_SUCCEEDED || h->state[id] == TRIAL_INFEASIBLE) &&
		    !h->given_up[id])
			order[nc++] = id;
	}
	if (sp->min_num_trials && (int64_t)nc < sp->min_num_trials)
		goto out;
	sort_hist = h;
	qsort(order, nc, sizeof(*order), by_end_time);
	for (size_t i = 0; i < nc; i++) {
		int64_t ti = order[i];
		const double *m = &h->metrics[(size_t)ti * h->k];
		int progress = h->state[ti] == TRIAL_SUCCEEDED && svc_feasible(sp, m);
		/* progress: no earlier feasible trial dominates or equals it */
		for (size_t j = 0; j < n_best && progress; j++) {
			const double *b = &h->metrics[(size_t)idx[j] * h->k];
			if (svc_dominates(sp, b, m) || same_objectives(sp, b, m))
				progress = 0;
		}
		if (progress) {
			idx[n_best++] = ti;
			since = 0;
			last_progress = h->end_time[ti];
		} else {
			since++;
		}
	}
	if (sp->max_num_trials_no_progress && n_best > 0 &&
	    (int64_t)since >= sp->max_num_trials_no_progress) {
		snprintf(reason, len,
		         "studyStoppingConfig.maxNumTrialsNoProgress: %zu trials completed without "
		         "improving on the best",
		         since);
	} else if (sp->max_duration_no_progress_ns && last_progress > 0 &&
	           now - last_progress >= sp->max_duration_no_progress_ns / 1000000) {
		ju_format_duration(sp->max_duration_no_progress_ns, d, sizeof(d));
		snprintf(reason, len,
		         "studyStoppingConfig.maxDurationNoProgress: no improvement for %s", d);
	}
out:
	free(order);
	free(idx);
}
