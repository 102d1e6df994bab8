/* GET .../studies/{study}:importance[?metricId=]: how much each parameter
 * explains a metric, by PED-ANOVA (server/designer/importance.h) over the
 * study's SUCCEEDED trials that have the metric in their final
 * measurement. The metric is the first objective unless metricId names
 * another of the study's metrics. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "importance.h"
#include "trial_json.h"

struct sample {
	double *u, *y;
	size_t n;
};

static int pick_metric(const struct spec *sp, const char *id, size_t *k, struct err *e)
{
	*k = 0;
	for (size_t i = 0; i < sp->n_metrics; i++) {
		if (id[0] ? strcmp(sp->metrics[i].id, id) == 0 : !sp->metrics[i].safety) {
			*k = i;
			return 0;
		}
	}
	if (!id[0])
		return 0; /* no objective: the first metric */
	return err_set(e, ERR_INVALID_ARGUMENT, "metricId \"%.128s\" is not a metric of this study",
	               id);
}

/* The SUCCEEDED trials with metric k, encoded; lower y is better. */
static int load(struct store_conn *conn, const struct store_study *s, const struct spec *sp,
                size_t k, struct sample *out, struct err *e)
{
	struct store_trial *t = NULL;
	size_t n = 0, d = sp->space.n;
	int rc = store_trial_list(conn, s->rowid, 1u << TRIAL_SUCCEEDED, 0, 0, &t, &n, e);
	if (rc)
		return rc;
	double *v = malloc((d + 1) * sizeof(double));
	double *m = malloc((sp->n_metrics + 1) * sizeof(double));
	out->u = malloc((n * d + 1) * sizeof(double));
	out->y = malloc((n + 1) * sizeof(double));
	out->n = 0;
	if (!v || !m || !out->u || !out->y) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if ((rc = tj_params_load(sp, t[i].params_json, v, e)))
			break;
		json_t *f = tj_load(t[i].final_json);
		tj_measurement_metrics(f, sp, m);
		json_decref(f);
		if (!isfinite(m[k]))
			continue;
		space_encode(&sp->space, v, &out->u[out->n * d]);
		out->y[out->n++] = sp->metrics[k].goal == DESIGNER_MAXIMIZE ? -m[k] : m[k];
	}
out:
	store_trials_free(t, n);
	free(v);
	free(m);
	return rc;
}

struct ranked_param {
	const char *id;
	double imp;
};

static int by_importance(const void *a, const void *b)
{
	const struct ranked_param *x = a, *y = b;
	if (x->imp != y->imp)
		return x->imp > y->imp ? -1 : 1;
	return strcmp(x->id, y->id);
}

static json_t *answer(const struct spec *sp, const double *imp, size_t n)
{
	size_t d = sp->space.n;
	struct ranked_param *r = malloc((d + 1) * sizeof(*r));
	if (!r)
		return NULL;
	for (size_t i = 0; i < d; i++)
		r[i] = (struct ranked_param){sp->space.params[i].id, imp[i]};
	qsort(r, d, sizeof(*r), by_importance);
	json_t *arr = json_array();
	for (size_t i = 0; i < d; i++)
		json_array_append_new(
		    arr, json_pack("{s:s,s:f}", "parameterId", r[i].id, "importance", r[i].imp));
	free(r);
	char count[24];
	snprintf(count, sizeof(count), "%zu", n);
	return json_pack("{s:o,s:s,s:s,s:s}", "importances", arr, "method", "PED_ANOVA", "metricId",
	                 "", "trialCount", count);
}

int api_studies_importance(struct api_call *c, json_t **out, struct err *e)
{
	struct store_conn *conn;
	struct store_study s;
	struct spec sp;
	struct sample smp = {0};
	double *imp = NULL;
	size_t k = 0;
	int rc;
	if ((rc = service_read_study(c->api->sv, c->r->owner, c->r->study, &conn, &s, &sp, e)))
		return rc;
	if ((rc = pick_metric(&sp, c->q->metric_id, &k, e)) ||
	    (rc = load(conn, &s, &sp, k, &smp, e)))
		goto out;
	/* The trials are in memory: the snapshot is not needed any more. */
	store_release(conn);
	conn = NULL;
	if (smp.n < IMP_MIN_TRIALS) {
		rc = err_set(e, ERR_FAILED_PRECONDITION,
		             "importance needs at least %d SUCCEEDED trials with metric \"%s\" in "
		             "their final measurement; the study has %zu",
		             IMP_MIN_TRIALS, sp.metrics[k].id, smp.n);
		goto out;
	}
	if (!(imp = malloc((sp.space.n + 1) * sizeof(double))) ||
	    importance_ped_anova(&sp.space, smp.u, smp.y, smp.n, imp) != 0) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (!(*out = answer(&sp, imp, smp.n))) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	json_object_set_new(*out, "metricId", json_string(sp.metrics[k].id));
out:
	store_release(conn);
	store_study_clear(&s);
	spec_free(&sp);
	free(smp.u);
	free(smp.y);
	free(imp);
	return rc;
}
