/* trial_json: Study, Trial and Measurement to and from JSON in the proto3
 * JSON mapping of API.md (int64 as strings, enums as names, durations "Ns",
 * RFC 3339 UTC times), and a trial's parameters to and from the value
 * vectors of space.h. */
#ifndef SIBYL_TRIAL_JSON_H
#define SIBYL_TRIAL_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"
#include "spec.h"
#include "store.h"

/* Indexed by enum store_trial_state: [0] = "", then REQUESTED..INFEASIBLE,
 * NULL-terminated (the form api_query_states wants). */
extern const char *const tj_trial_state_names[];
const char *tj_trial_state(int state);
const char *tj_study_state(int state);

/* A request's parameters [{parameterId, value}] -> value vector v
 * (sp->space.n doubles, NAN for absent). Every active parameter must be
 * present and valid, no inactive or unknown one, none twice. */
int tj_params_parse(const struct spec *sp, const json_t *params, const char *path,
                    double *v /* OUT */, struct err *e);
/* Stored params_json (canonical, trusted) -> value vector. */
int tj_params_load(const struct spec *sp, const char *params_json, double *v /* OUT */,
                   struct err *e);
/* Value vector -> canonical parameters array (space order, active only).
 * New reference. */
json_t *tj_params_json(const struct space *s, const double *v);

/* A request's Measurement -> *canon (new reference): checked against the
 * study's metrics (unknown or repeated metric ids are INVALID_ARGUMENT). */
int tj_measurement_parse(const json_t *m, const char *path, const struct spec *sp,
                         json_t **canon /* OUT */, struct err *e);
/* A measurement's values per study metric (out: sp->n_metrics, NAN when
 * absent). m may be NULL (all NAN). */
void tj_measurement_metrics(const json_t *m, const struct spec *sp, double *out /* OUT */);

/* The Trial resource (with "metadata" when it has some). measurements: the trial's stored
 * measurements as a JSON array (borrowed; NULL or empty: none). New reference. */
json_t *tj_trial(const char *owner, const char *study, const struct store_trial *t,
                 const json_t *measurements);
/* Stored measurements joined with commas (store_measurement_joined) as a
 * JSON array; NULL or "" gives an empty one. New reference, NULL when the
 * text does not parse or on out of memory. */
json_t *tj_measurements(const char *joined);
/* The same resource as compact JSON text (malloc'd; NULL on out of
 * memory), made without parsing the stored JSON members again: they are
 * canonical JSON already and are copied in as they are. measurements: the
 * stored measurements joined with commas (store_measurement_joined), NULL
 * or "" for none; they come last. */
char *tj_trial_text(const char *owner, const char *study, const struct store_trial *t,
                    const char *measurements);
/* The Study resource (with "metadata" when it has some). New reference. */
json_t *tj_study(const struct store_study *s);

/* Parses stored JSON text (trusted); NULL on failure. New reference. */
json_t *tj_load(const char *text);

#endif
