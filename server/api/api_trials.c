/* Trials: create, get, list, delete, PATCH of their metadata, and the
 * custom methods (suggest,
 * addTrialMeasurement, complete, stop, checkTrialEarlyStoppingState,
 * listOptimalTrials), which go to the service. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_export.h"
#include "api_internal.h"
#include "config.h"
#include "json_util.h"
#include "metadata.h"
#include "operation_json.h"
#include "spec.h"
#include "trial_json.h"

/* The answer of a call on one trial (rc its result): the Trial as text,
 * made without parsing the stored JSON again (tj_trial_text). */
static int trial_text(const struct api_call *c, int rc, struct svc_trial *t, struct err *e)
{
	if (rc == 0 &&
	    !(*c->text = tj_trial_text(c->r->owner, c->r->study, &t->t, t->measurements)))
		rc = err_set(e, ERR_INTERNAL, "out of memory");
	svc_trial_clear(t);
	return rc;
}

/* The Trial as a tree (its measurements parsed). */
static json_t *trial_json(const struct api_call *c, const struct svc_trial *t, struct err *e)
{
	json_t *ms = tj_measurements(t->measurements);
	json_t *o = ms ? tj_trial(c->r->owner, c->r->study, &t->t, ms) : NULL;
	json_decref(ms);
	if (!o)
		err_set(e, ERR_INTERNAL, "trial %" PRId64 ": stored measurements unreadable",
		        t->t.id);
	return o;
}

/* GET of a trial; with ?clientId= of the worker that holds it, the call
 * also renews the trial's lease (service_touch; the route table lets only a
 * WRITER key send clientId). */
int api_trials_get(struct api_call *c, json_t **out, struct err *e)
{
	struct svc_trial t;
	(void)out; /* answered as text */
	if (c->q->client_id[0])
		return trial_text(c,
		                  service_touch(c->api->sv, c->r->owner, c->r->study, c->r->trial,
		                                c->q->client_id, &t, c->audit, e),
		                  &t, e);
	return trial_text(
	    c, service_trial_get(c->api->sv, c->r->owner, c->r->study, c->r->trial, &t, e), &t, e);
}

/* Page tokens of a trial list belong to the study (its row id: a study
 * made again under the same name is another list). */
static void list_context(const struct api_call *c, int64_t study_rowid, char *buf, size_t cap)
{
	snprintf(buf, cap, "trials|%s|%s|%" PRId64, c->r->owner, c->r->study, study_rowid);
}

int api_trials_list(struct api_call *c, json_t **out, struct err *e)
{
	const struct api_query *q = c->q;
	struct store_study s;
	struct svc_trial *t = NULL;
	size_t n = 0;
	unsigned mask = 0;
	int64_t after = 0, min_id = 0;
	char ctx[320];
	int rc =
	    q->filter[0] ? api_query_states(q->filter, tj_trial_state_names, &mask, &min_id, e) : 0;
	if (rc)
		return rc;
	if (export_wants_csv(c->req, q->alt_csv)) {
		if (q->present & (API_Q_PAGE_SIZE | API_Q_PAGE_TOKEN))
			return err_set(
			    e, ERR_INVALID_ARGUMENT,
			    "the CSV answer holds every trial: pageSize and pageToken are "
			    "not accepted with it");
		return export_trials_csv(c, mask, min_id, e);
	}
	if ((rc = service_study_get(c->api->sv, c->r->owner, c->r->study, &s, e)))
		goto out;
	list_context(c, s.rowid, ctx, sizeof(ctx));
	if ((rc = api_token_int_open(c->api->token_key, ctx, q->page_token, &after, e)))
		goto out;
	if (min_id > after)
		after = min_id;
	if ((rc =
	         service_trial_list(c->api->sv, s.rowid, mask, after, q->page_size + 1, &t, &n, e)))
		goto out;
	json_t *arr = json_array();
	for (size_t i = 0; i < n && i < (size_t)q->page_size && rc == 0; i++) {
		json_t *tj = trial_json(c, &t[i], e);
		if (tj)
			json_array_append_new(arr, tj);
		else
			rc = -(int)e->code;
	}
	*out = json_object();
	json_object_set_new(*out, "trials", arr);
	if (n > (size_t)q->page_size) {
		char tok[API_TOKEN_CHARS];
		api_token_int(c->api->token_key, ctx, t[q->page_size - 1].t.id, tok, sizeof(tok));
		json_object_set_new(*out, "nextPageToken", json_string(tok));
	}
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
out:
	svc_trials_free(t, n);
	svc_study_clear(&s);
	return rc;
}

/* POST .../trials: a REQUESTED trial for the pool, or a SUCCEEDED one that
 * imports a known result. */
/* The body's state: REQUESTED (the default) or SUCCEEDED. */
static int create_state(const json_t *x, int *state, struct err *e)
{
	const char *name;
	*state = TRIAL_REQUESTED;
	if (!x)
		return 0;
	int rc = ju_string(x, "state", 32, &name, e);
	if (rc)
		return rc;
	if (strcmp(name, "SUCCEEDED") == 0)
		*state = TRIAL_SUCCEEDED;
	else if (strcmp(name, "REQUESTED") != 0)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "state must be REQUESTED (the default) or SUCCEEDED (to import a "
		               "result), not \"%.40s\"",
		               name);
	return 0;
}

/* A part of the body as JSON text (*text malloc'd; NULL when absent). The
 * service parses it again and makes the canonical text itself, so this is
 * jansson's exact text (17 digits), not ju_dump's shortest reals: the
 * shortening cost a third of the api's own work per addTrialMeasurement
 * (docs/benchmarks.md, instructions per request). */
static int part_text(const json_t *v, char **text, struct err *e)
{
	*text = NULL;
	if (v && !(*text = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY)))
		return err_set(e, ERR_INTERNAL, "out of memory");
	return 0;
}

int api_trials_create(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const fields[] = {"parameters",   "state",    "finalMeasurement",
	                                     "measurements", "metadata", NULL};
	struct svc_trial_new in = {0};
	struct svc_trial t;
	char *metadata = NULL, *params = NULL, *final = NULL, *meas = NULL;
	int rc = ju_only_fields(c->body, "", fields, e);
	if (rc)
		return rc;
	if ((rc = md_create(json_object_get(c->body, "metadata"), c->api->cfg, &metadata, e)))
		return rc;
	if ((rc = create_state(json_object_get(c->body, "state"), &in.state, e)))
		goto out;
	const json_t *pv = json_object_get(c->body, "parameters");
	if (!pv) {
		rc = err_set(e, ERR_INVALID_ARGUMENT, "parameters is required");
		goto out;
	}
	/* The parts only the study's spec can check go as sent. */
	if ((rc = part_text(pv, &params, e)) ||
	    (rc = part_text(json_object_get(c->body, "finalMeasurement"), &final, e)) ||
	    (rc = part_text(json_object_get(c->body, "measurements"), &meas, e)))
		goto out;
	in.parameters = params;
	in.final_measurement = final;
	in.measurements = meas;
	in.metadata_json = metadata;
	if ((rc = service_trial_create(c->api->sv, c->r->owner, c->r->study, &in, &t, c->audit, e)))
		goto out;
	if (!(*out = trial_json(c, &t, e)))
		rc = -(int)e->code;
	svc_trial_clear(&t);
out:
	free(metadata);
	free(params);
	free(final);
	free(meas);
	return rc;
}

int api_trials_delete(struct api_call *c, json_t **out, struct err *e)
{
	int rc =
	    service_trial_delete(c->api->sv, c->r->owner, c->r->study, c->r->trial, c->audit, e);
	if (rc == 0)
		*out = json_object();
	return rc;
}

/* PATCH ?updateMask=metadata: merges the body's metadata into the
 * trial's (metadata.h), in any state; nothing else of the trial changes. */
int api_trials_patch(struct api_call *c, json_t **out, struct err *e)
{
	char *patch;
	struct svc_trial t;
	(void)out; /* answered as text */
	int rc = api_metadata_patch(c, &patch, e);
	if (rc)
		return rc;
	rc = service_patch_metadata(c->api->sv, c->r->owner, c->r->study, c->r->trial, patch, NULL,
	                            &t, c->audit, e);
	free(patch);
	return trial_text(c, rc, &t, e);
}

int api_trials_suggest(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const fields[] = {"suggestionCount", "clientId", NULL};
	const struct config *cfg = c->api->cfg;
	int64_t count = 1;
	const char *client;
	int rc = ju_only_fields(c->body, "", fields, e);
	if (rc)
		return rc;
	const json_t *x = json_object_get(c->body, "suggestionCount");
	if (x) {
		if ((rc = ju_int64(x, "suggestionCount", &count, e)))
			return rc;
		if (count < 1 ||
		    (cfg->max_suggestion_count > 0 && count > cfg->max_suggestion_count))
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "suggestionCount must be in [1, %d], not %" PRId64,
			               cfg->max_suggestion_count, count);
	}
	x = json_object_get(c->body, "clientId");
	if (!x)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "clientId is required (it names the worker, so that a restarted "
		               "worker gets its ACTIVE trials back)");
	if ((rc = ju_string(x, "clientId", cfg->max_string_len, &client, e)))
		return rc;
	struct svc_suggestion sg;
	if ((rc = service_suggest(c->api->sv, c->r->owner, c->r->study, count, client, &sg,
	                          c->audit, e)))
		return rc;
	if ((*out = oj_suggest(c->r->owner, c->r->study, &sg)))
		oj_name(*out, c->r->owner, c->r->study, sg.op_id);
	svc_suggestion_clear(&sg);
	return *out ? 0 : err_set(e, ERR_INTERNAL, "out of memory");
}

int api_trials_check_early_stopping(struct api_call *c, json_t **out, struct err *e)
{
	int rc = api_empty_body(c->body, e);
	if (rc)
		return rc;
	struct svc_early_stop x;
	if ((rc = service_check_early_stopping(c->api->sv, c->r->owner, c->r->study, c->r->trial,
	                                       &x, c->audit, e)))
		return rc;
	if ((*out = oj_early_stop(&x)))
		oj_name(*out, c->r->owner, c->r->study, x.op_id);
	return *out ? 0 : err_set(e, ERR_INTERNAL, "out of memory");
}

int api_trials_optimal(struct api_call *c, json_t **out, struct err *e)
{
	int rc = api_empty_body(c->body, e);
	if (rc)
		return rc;
	struct svc_optimal x;
	if ((rc = service_optimal(c->api->sv, c->r->owner, c->r->study, &x, e)))
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < x.n && rc == 0; i++) {
		json_t *tj = trial_json(c, &x.trials[i], e);
		if (tj)
			json_array_append_new(arr, tj);
		else
			rc = -(int)e->code;
	}
	if (rc == 0) {
		*out = json_object();
		json_object_set_new(*out, "optimalTrials", arr);
		json_object_set_new(*out, "selection", json_string(x.selection));
	} else {
		json_decref(arr);
	}
	svc_optimal_clear(&x);
	return rc;
}

int api_trials_add_measurement(struct api_call *c, json_t **out, struct err *e)
{
	static const char *const fields[] = {"measurement", NULL};
	struct svc_trial t;
	char *m;
	(void)out; /* answered as text */
	int rc = ju_only_fields(c->body, "", fields, e);
	if (rc || (rc = part_text(json_object_get(c->body, "measurement"), &m, e)))
		return rc;
	rc = service_add_measurement(c->api->sv, c->r->owner, c->r->study, c->r->trial, m, &t,
	                             c->audit, e);
	free(m);
	return trial_text(c, rc, &t, e);
}

/* The body of :complete decoded: its types here, its measurement and the
 * rules against the trial in the service. */
static int complete_body(const json_t *body, struct svc_complete *in, char **final, struct err *e)
{
	static const char *const fields[] = {"finalMeasurement", "trialInfeasible",
	                                     "infeasibleReason", NULL};
	const json_t *x;
	memset(in, 0, sizeof(*in));
	*final = NULL;
	int rc = ju_only_fields(body, "", fields, e);
	if (rc == 0 && (x = json_object_get(body, "trialInfeasible")))
		rc = ju_bool(x, "trialInfeasible", &in->infeasible, e);
	if (rc == 0 && (x = json_object_get(body, "infeasibleReason")))
		rc = ju_string(x, "infeasibleReason", 4096, &in->infeasible_reason, e);
	if (rc == 0)
		rc = part_text(json_object_get(body, "finalMeasurement"), final, e);
	in->final_measurement = *final;
	return rc;
}

int api_trials_complete(struct api_call *c, json_t **out, struct err *e)
{
	struct svc_complete in;
	struct svc_trial t;
	char *final;
	(void)out; /* answered as text */
	int rc = complete_body(c->body, &in, &final, e);
	if (rc == 0)
		rc = trial_text(c,
		                service_complete(c->api->sv, c->r->owner, c->r->study, c->r->trial,
		                                 &in, &t, c->audit, e),
		                &t, e);
	free(final);
	return rc;
}

int api_trials_stop(struct api_call *c, json_t **out, struct err *e)
{
	int rc = api_empty_body(c->body, e);
	if (rc)
		return rc;
	struct svc_trial t;
	if ((rc = service_stop(c->api->sv, c->r->owner, c->r->study, c->r->trial, &t, c->audit, e)))
		return rc;
	if (!(*out = trial_json(c, &t, e)))
		rc = -(int)e->code;
	svc_trial_clear(&t);
	return rc;
}
