/* The done Operations as JSON (operation_json.h). */
#include "operation_json.h"

#include <inttypes.h>
#include <stdio.h>

#include "json_util.h"
#include "trial_json.h"

#define TYPE_PREFIX "type.googleapis.com/google.cloud.aiplatform.v1."

static json_t *done(void)
{
	json_t *op = json_object();
	json_object_set_new(op, "done", json_true());
	return op;
}

json_t *oj_suggest(const char *owner, const char *study, const struct svc_suggestion *x)
{
	char ts[48];
	json_t *trials = json_array(), *resp = json_object();
	for (size_t i = 0; i < x->n; i++) {
		json_t *ms = tj_measurements(x->trials[i].measurements);
		json_array_append_new(trials, tj_trial(owner, study, &x->trials[i].t, ms));
		json_decref(ms);
	}
	json_object_set_new(resp, "@type", json_string(TYPE_PREFIX "SuggestTrialsResponse"));
	json_object_set_new(resp, "trials", trials);
	json_object_set_new(resp, "studyState", json_string(tj_study_state(x->study_state)));
	ju_format_time(x->start_time, ts, sizeof(ts));
	json_object_set_new(resp, "startTime", json_string(ts));
	ju_format_time(x->end_time, ts, sizeof(ts));
	json_object_set_new(resp, "endTime", json_string(ts));
	json_t *op = done();
	json_object_set_new(op, "response", resp);
	return op;
}

json_t *oj_early_stop(const struct svc_early_stop *x)
{
	char tid[32];
	snprintf(tid, sizeof(tid), "%" PRId64, x->trial);
	json_t *resp = json_object(), *meta = json_object();
	json_object_set_new(resp, "@type",
	                    json_string(TYPE_PREFIX "CheckTrialEarlyStoppingStateResponse"));
	json_object_set_new(resp, "shouldStop", json_boolean(x->should_stop));
	json_object_set_new(meta, "@type",
	                    json_string(TYPE_PREFIX "CheckTrialEarlyStoppingStateMetatdata"));
	json_object_set_new(meta, "trial", json_string(tid));
	json_object_set_new(meta, "reason", json_string(x->reason));
	json_t *op = done();
	json_object_set_new(op, "metadata", meta);
	json_object_set_new(op, "response", resp);
	return op;
}

void oj_name(json_t *op, const char *owner, const char *study, int64_t op_id)
{
	char name[600];
	snprintf(name, sizeof(name), "owners/%s/studies/%s/operations/%" PRId64, owner, study,
	         op_id);
	json_object_set_new(op, "name", json_string(name));
}
