/* history.c: see history.h. */
#include "history.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trial_json.h"

struct hist *hist_new(void)
{
	struct hist *h = calloc(1, sizeof(*h));
	if (h)
		h->seq = -1;
	return h;
}

static void empty(struct hist *h)
{
	for (size_t i = 0; i < h->cap; i++)
		free(h->client_id[i]);
	free(h->state);
	free(h->given_up);
	free(h->end_time);
	free(h->client_id);
	free(h->vals);
	free(h->metrics);
	*h = (struct hist){.seq = -1};
}

void hist_free(struct hist *h)
{
	if (!h)
		return;
	empty(h);
	free(h);
}

/* Grows every array to hold id. */
static int reserve(struct hist *h, int64_t id)
{
	if ((uint64_t)id < h->cap)
		return 0;
	size_t cap = h->cap ? h->cap : 64;
	while (cap <= (size_t)id)
		cap *= 2;
	size_t d = h->d ? h->d : 1, k = h->k ? h->k : 1;
	signed char *st = realloc(h->state, cap);
	if (st)
		h->state = st;
	unsigned char *gu = realloc(h->given_up, cap);
	if (gu)
		h->given_up = gu;
	int64_t *et = realloc(h->end_time, cap * sizeof(*et));
	if (et)
		h->end_time = et;
	char **ci = realloc(h->client_id, cap * sizeof(*ci));
	if (ci)
		h->client_id = ci;
	double *v = realloc(h->vals, cap * d * sizeof(*v));
	if (v)
		h->vals = v;
	double *m = realloc(h->metrics, cap * k * sizeof(*m));
	if (m)
		h->metrics = m;
	if (!st || !gu || !et || !ci || !v || !m)
		return -1; /* the grown ones are kept; cap says what is usable */
	size_t add = cap - h->cap;
	memset(h->state + h->cap, 0, add);
	memset(h->given_up + h->cap, 0, add);
	memset(h->end_time + h->cap, 0, add * sizeof(*et));
	memset(h->client_id + h->cap, 0, add * sizeof(*ci));
	h->cap = cap;
	return 0;
}

struct apply_ctx {
	struct hist *h;
	const struct spec *sp;
	struct err *e;
};

static int apply(void *ctx, const struct store_hist_row *r)
{
	struct apply_ctx *a = ctx;
	struct hist *h = a->h;
	if (r->id <= 0)
		return 0;
	if (reserve(h, r->id) != 0)
		return err_set(a->e, ERR_INTERNAL, "out of memory");
	size_t i = (size_t)r->id;
	int rc = tj_params_load(a->sp, r->params_json, &h->vals[i * h->d], a->e);
	if (rc)
		return rc;
	json_t *f = r->final_json ? tj_load(r->final_json) : NULL;
	tj_measurement_metrics(f, a->sp, &h->metrics[i * h->k]);
	json_decref(f);
	if (!h->state[i])
		h->n++;
	h->state[i] = (signed char)r->state;
	h->given_up[i] = (unsigned char)(r->given_up != 0);
	h->end_time[i] = r->end_time;
	free(h->client_id[i]);
	h->client_id[i] = NULL;
	if (r->state == TRIAL_ACTIVE && r->client_id) {
		size_t n = strlen(r->client_id) + 1;
		if (!(h->client_id[i] = malloc(n)))
			return err_set(a->e, ERR_INTERNAL, "out of memory");
		memcpy(h->client_id[i], r->client_id, n);
	}
	if (r->id > h->max_id)
		h->max_id = r->id;
	return 0;
}

int hist_refresh(struct hist *h, struct store_conn *c, const struct spec *sp, int64_t study_rowid,
                 struct err *e)
{
	int64_t seq, deletes;
	int rc = store_trial_seq(c, study_rowid, &seq, &deletes, e);
	if (rc) {
		empty(h);
		return rc;
	}
	int reload = h->seq < 0 || seq < h->seq || deletes != h->deletes || h->d != sp->space.n ||
	             h->k != sp->n_metrics;
	if (!reload && seq == h->seq)
		return 0;
	if (reload) {
		empty(h);
		h->d = sp->space.n;
		h->k = sp->n_metrics;
	}
	struct apply_ctx a = {h, sp, e};
	rc = store_trial_changed(c, study_rowid, reload ? -1 : h->seq, apply, &a, e);
	if (rc) {
		empty(h);
		return rc;
	}
	h->seq = seq;
	h->deletes = deletes;
	return 0;
}
