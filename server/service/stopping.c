#include "stopping.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int usable(const struct stopping_point *p, int use_elapsed)
{
	unsigned bit = use_elapsed ? STOPPING_HAS_ELAPSED : STOPPING_HAS_STEP;
	return (p->has & bit) && !isnan(p->value);
}

static int64_t position(const struct stopping_point *p, int use_elapsed)
{
	return use_elapsed ? p->elapsed_ns : p->step;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The mean of c's values at positions <= s; 0 when c has none there. */
static int running_average(const struct stopping_curve *c, int64_t s, int use_elapsed,
                           double *avg /* OUT */)
{
	double sum = 0;
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct stopping_point *p = &c->points[i];
		if (usable(p, use_elapsed) && position(p, use_elapsed) <= s) {
			sum += p->value;
			k++;
		}
	}
	if (k == 0)
		return 0;
	*avg = sum / (double)k;
	return 1;
}

int stopping_median(const struct stopping_input *in, struct stopping_result *out, struct err *e)
{
	out->should_stop = 0;
	out->position = 0;
	out->best = NAN;
	out->median = NAN;
	out->n_used = 0;
	out->reason = STOPPING_NO_POSITION;
	if (!in || !in->trial)
		return err_set(e, ERR_INVALID_ARGUMENT, "stopping_median: no trial curve");
	const struct stopping_curve *t = in->trial;
	int ue = in->use_elapsed;
	int have = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct stopping_point *p = &t->points[i];
		if (!usable(p, ue))
			continue;
		int64_t s = position(p, ue);
		if (!have || s > out->position)
			out->position = s;
		/* every point of the trial is at or before its largest position */
		if (!have || (in->minimize ? p->value < out->best : p->value > out->best))
			out->best = p->value;
		have = 1;
	}
	if (!have)
		return 0;
	double *avg = malloc((in->n_completed + 1) * sizeof(double));
	if (!avg)
		return err_set(e, ERR_INTERNAL, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < in->n_completed; i++) {
		if (running_average(&in->completed[i], out->position, ue, &avg[n]))
			n++;
	}
	out->n_used = n;
	size_t min = in->min_count ? in->min_count : STOPPING_MIN_COMPLETED;
	if (n < min) {
		out->reason = STOPPING_TOO_FEW;
		free(avg);
		return 0;
	}
	qsort(avg, n, sizeof(double), cmp_double);
	out->median = n % 2 ? avg[n / 2] : (avg[n / 2 - 1] + avg[n / 2]) / 2;
	free(avg);
	out->should_stop = in->minimize ? out->best > out->median : out->best < out->median;
	out->reason = out->should_stop ? STOPPING_WORSE : STOPPING_BETTER;
	return 0;
}

void stopping_describe(const struct stopping_input *in, const struct stopping_result *r, char *buf,
                       size_t cap)
{
	char where[64];
	if (in->use_elapsed)
		snprintf(where, sizeof(where), "elapsed %.9gs", (double)r->position / 1e9);
	else
		snprintf(where, sizeof(where), "step %" PRId64, r->position);
	size_t min = in->min_count ? in->min_count : STOPPING_MIN_COMPLETED;
	const char *field = in->use_elapsed ? "elapsedDuration" : "stepCount";
	switch (r->reason) {
	case STOPPING_NO_POSITION:
		snprintf(buf, cap,
		         "the trial has no measurement with %s and the objective, so the median "
		         "rule cannot judge it yet",
		         field);
		break;
	case STOPPING_TOO_FEW:
		snprintf(buf, cap,
		         "only %zu completed trials have measurements at or before %s; the median "
		         "rule needs %zu",
		         r->n_used, where, min);
		break;
	case STOPPING_BETTER:
	case STOPPING_WORSE:
		snprintf(buf, cap,
		         "best objective %.6g at %s is %s the median %.6g of the running averages "
		         "of %zu completed trials",
		         r->best, where,
		         r->should_stop
		             ? (in->minimize ? "above (worse than)" : "below (worse than)")
		             : "not worse than",
		         r->median, r->n_used);
		break;
	}
}
