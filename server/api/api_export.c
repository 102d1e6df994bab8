#include "api_export.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "trial_json.h"

#define CHUNK 1000

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

int export_trials_csv(struct api_call *c, unsigned state_mask, int64_t after_id, struct err *e)
{
	struct store_conn *conn;
	struct store_study s;
	struct spec sp;
	struct text t = {0};
	int rc = service_read_study(c->api->sv, c->r->owner, c->r->study, &conn, &s, &sp, e);
	if (rc)
		return rc;
	double *v = malloc((sp.space.n + 1) * sizeof(double));
	double *m = malloc((sp.n_metrics + 1) * sizeof(double));
	if (!v || !m) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	header(&t, &sp);
	/* Pages of CHUNK from the one snapshot of conn, so that the whole
	 * study is never held as parsed rows at once. */
	for (int64_t after = after_id; rc == 0;) {
		struct store_trial *tr = NULL;
		size_t n = 0;
		if ((rc = store_trial_list(conn, s.rowid, state_mask, after, CHUNK, &tr, &n, e)))
			break;
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = row(&t, &sp, &tr[i], v, m, e);
		after = n ? tr[n - 1].id : after;
		store_trials_free(tr, n);
		if (n < CHUNK)
			break;
	}
	if (rc == 0 && t.oom)
		rc = err_set(e, ERR_INTERNAL, "out of memory");
	if (rc == 0) {
		*c->text = t.s;
		t.s = NULL;
		*c->content_type = "text/csv; charset=utf-8";
	}
out:
	store_release(conn);
	store_study_clear(&s);
	spec_free(&sp);
	free(t.s);
	free(v);
	free(m);
	return rc;
}
