/* GET .../studies/{study}:importance: how much each parameter explains a
 * metric, by PED-ANOVA (server/designer/importance.h) over the study's
 * SUCCEEDED trials that have the metric in their final measurement
 * (service.h service_importance). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "importance.h"
#include "service_internal.h"
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

static int by_importance(const void *a, const void *b)
{
	const struct svc_param_importance *x = a, *y = b;
	if (x->importance != y->importance)
		return x->importance > y->importance ? -1 : 1;
	return strcmp(x->parameter_id, y->parameter_id);
}

/* The ranking of imp (one per parameter of sp) into out. */
static int rank(const struct spec *sp, const double *imp, struct svc_importance *out, struct err *e)
{
	size_t d = sp->space.n;
	if (!(out->params = calloc(d + 1, sizeof(*out->params))))
		return err_set(e, ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < d; i++, out->n_params++) {
		out->params[i].importance = imp[i];
		if (!(out->params[i].parameter_id = strdup(sp->space.params[i].id)))
			return err_set(e, ERR_INTERNAL, "out of memory");
	}
	qsort(out->params, d, sizeof(*out->params), by_importance);
	return 0;
}

void svc_importance_clear(struct svc_importance *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_params; i++)
		free(x->params[i].parameter_id);
	free(x->params);
	free(x->metric_id);
	memset(x, 0, sizeof(*x));
}

int service_importance(struct service *sv, const char *owner, const char *study,
                       const char *metric_id, struct svc_importance *out, struct err *e)
{
	struct store_conn *conn;
	struct store_study s;
	struct spec sp;
	struct sample smp = {0};
	double *imp = NULL;
	size_t k = 0;
	memset(out, 0, sizeof(*out));
	int rc = service_read_study(sv, owner, study, &conn, &s, &sp, e);
	if (rc)
		return rc;
	if ((rc = pick_metric(&sp, metric_id, &k, e)) || (rc = load(conn, &s, &sp, k, &smp, e)))
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
	    importance_ped_anova(&sp.space, smp.u, smp.y, smp.n, imp) != 0 ||
	    !(out->metric_id = strdup(sp.metrics[k].id))) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	out->trial_count = smp.n;
	rc = rank(&sp, imp, out, e);
out:
	if (rc)
		svc_importance_clear(out);
	store_release(conn);
	store_study_clear(&s);
	spec_free(&sp);
	free(smp.u);
	free(smp.y);
	free(imp);
	return rc;
}
