/* GET .../studies/{study}:importance[?metricId=]: how much each parameter
 * explains a metric (service_importance), as JSON. The metric is the first
 * objective unless metricId names another of the study's metrics. */
#include <stdio.h>

#include "api_internal.h"

int api_studies_importance(struct api_call *c, json_t **out, struct err *e)
{
	struct svc_importance x;
	int rc = service_importance(c->api->sv, c->r->owner, c->r->study, c->q->metric_id, &x, e);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < x.n_params; i++)
		json_array_append_new(arr, json_pack("{s:s,s:f}", "parameterId",
		                                     x.params[i].parameter_id, "importance",
		                                     x.params[i].importance));
	char count[24];
	snprintf(count, sizeof(count), "%zu", x.trial_count);
	*out = json_pack("{s:o,s:s,s:s,s:s}", "importances", arr, "method", "PED_ANOVA", "metricId",
	                 x.metric_id, "trialCount", count);
	svc_importance_clear(&x);
	return *out ? 0 : err_set(e, ERR_INTERNAL, "out of memory");
}
