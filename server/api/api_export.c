#include "api_export.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "trial_json.h"

/* A growing text; on out of memory it stops growing and says so. */
struct text {
	char *s;
	size_t len, cap;
	int oom;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *g = realloc(t->s, cap);
		if (!g) {
			t->oom = 1;
			return;
		}
		t->s = g;
		t->cap = cap;
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void puts_(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* One cell, quoted when it must be. */
static void cell(struct text *t, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		puts_(t, s);
		return;
	}
	put(t, "\"", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			put(t, "\"\"", 2);
		else
			put(t, p, 1);
	}
	put(t, "\"", 1);
}

/* The shortest %g text that reads back as v. */
static void number(struct text *t, double v)
{
	char buf[40];
	if (!isfinite(v))
		return;
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	puts_(t, buf);
}

int export_wants_csv(const struct http_req *req, int alt_csv)
{
	return alt_csv || (req->accept && strstr(req->accept, "text/csv"));
}

static int taken(const struct spec *sp, size_t upto_param, size_t upto_metric, const char *id)
{
	static const char *const fixed[] = {"id",      "state",    "startTime",
	                                    "endTime", "clientId", NULL};
	for (size_t i = 0; fixed[i]; i++)
		if (strcmp(fixed[i], id) == 0)
			return 1;
	for (size_t i = 0; i < upto_param; i++)
		if (strcmp(sp->space.params[i].id, id) == 0)
			return 1;
	for (size_t i = 0; i < upto_metric; i++)
		if (strcmp(sp->metrics[i].id, id) == 0)
			return 1;
	return 0;
}

static void header(struct text *t, const struct spec *sp)
{
	char buf[160];
	puts_(t, "id,state");
	for (size_t i = 0; i < sp->space.n; i++) {
		const char *id = sp->space.params[i].id;
		snprintf(buf, sizeof(buf), "%s%s", taken(sp, i, 0, id) ? "param." : "", id);
		put(t, ",", 1);
		cell(t, buf);
	}
	for (size_t i = 0; i < sp->n_metrics; i++) {
		const char *id = sp->metrics[i].id;
		snprintf(buf, sizeof(buf), "%s%s", taken(sp, sp->space.n, i, id) ? "metric." : "",
		         id);
		put(t, ",", 1);
		cell(t, buf);
	}
	puts_(t, ",startTime,endTime,clientId\r\n");
}

static void time_cell(struct text *t, int64_t ms)
{
	char buf[48];
	put(t, ",", 1);
	if (ms <= 0)
		return;
	ju_format_time(ms, buf, sizeof(buf));
	puts_(t, buf);
}

static int row(struct text *t, const struct spec *sp, const struct store_trial *tr, double *v,
               double *m, struct err *e)
{
	char buf[32];
	int rc = tj_params_load(sp, tr->params_json, v, e);
	if (rc)
		return rc;
	json_t *f = tj_load(tr->final_json);
	tj_measurement_metrics(f, sp, m);
	json_decref(f);
	snprintf(buf, sizeof(buf), "%" PRId64 ",", tr->id);
	puts_(t, buf);
	puts_(t, tj_trial_state(tr->state));
	for (size_t i = 0; i < sp->space.n; i++) {
		const struct space_param *p = &sp->space.params[i];
		put(t, ",", 1);
		if (isnan(v[i]))
			continue;
		if (p->type == SPACE_CATEGORICAL)
			cell(t, (size_t)v[i] < p->n_categories ? p->categories[(size_t)v[i]] : "");
		else
			number(t, v[i]);
	}
	for (size_t i = 0; i < sp->n_metrics; i++) {
		put(t, ",", 1);
		number(t, m[i]);
	}
	time_cell(t, tr->start_time);
	time_cell(t, tr->end_time);
	put(t, ",", 1);
	if (tr->client_id)
		cell(t, tr->client_id);
	put(t, "\r\n", 2);
	return 0;
}

/* The walk of service_trials_each: the header with the spec, then a row
 * per trial. */
struct csv {
	struct text t;
	double *v, *m;
};

static int csv_begin(void *ctx, const struct spec *sp, struct err *e)
{
	struct csv *x = ctx;
	x->v = malloc((sp->space.n + 1) * sizeof(double));
	x->m = malloc((sp->n_metrics + 1) * sizeof(double));
	if (!x->v || !x->m)
		return err_set(e, ERR_INTERNAL, "out of memory");
	header(&x->t, sp);
	return 0;
}

static int csv_row(void *ctx, const struct spec *sp, const struct store_trial *tr, struct err *e)
{
	struct csv *x = ctx;
	return row(&x->t, sp, tr, x->v, x->m, e);
}

int export_trials_csv(struct api_call *c, unsigned state_mask, int64_t after_id, struct err *e)
{
	struct csv x = {0};
	const struct svc_each cb = {.ctx = &x, .begin = csv_begin, .row = csv_row};
	int rc =
	    service_trials_each(c->api->sv, c->r->owner, c->r->study, state_mask, after_id, &cb, e);
	if (rc == 0 && x.t.oom)
		rc = err_set(e, ERR_INTERNAL, "out of memory");
	if (rc == 0) {
		*c->text = x.t.s;
		x.t.s = NULL;
		*c->content_type = "text/csv; charset=utf-8";
	}
	free(x.t.s);
	free(x.v);
	free(x.m);
	return rc;
}
