/* operation_json: the done Operations of suggest and of
 * checkTrialEarlyStoppingState as JSON (API.md), from what the service
 * returns (service.h). The service stores an Operation without its name
 * (the name holds the id the insert assigns); the api answers it with
 * the name added (oj_name), and GET of an operation adds it the same way.
 * Each function returns a new reference, NULL on out of memory. */
#ifndef SIBYL_OPERATION_JSON_H
#define SIBYL_OPERATION_JSON_H

#include <jansson.h>

#include "service.h"

/* {done, response: SuggestTrialsResponse {trials, studyState, startTime,
 * endTime}}. */
json_t *oj_suggest(const char *owner, const char *study, const struct svc_suggestion *x);
/* {done, metadata: {trial, reason}, response: {shouldStop}}. */
json_t *oj_early_stop(const struct svc_early_stop *x);
/* Adds "name": "owners/O/studies/S/operations/ID" to op. */
void oj_name(json_t *op, const char *owner, const char *study, int64_t op_id);

#endif
