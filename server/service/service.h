/* service: the rules of API.md that span calls. The suggest order (own
 * ACTIVE trials by clientId, the REQUESTED pool, new points from the
 * designer), trial leases (staleTrialTimeout), study stopping
 * (studyStoppingConfig), the complete rules (explicit, last or best
 * measurement, infeasible; idempotent retries) and listOptimalTrials.
 *
 * Suggest is serialized per study by a per-study mutex; different studies
 * never wait for each other (they share only the store's writer, held for
 * the short write transaction, never while a model is fitted). Each study
 * keeps its gp_cache in memory here.
 *
 * Every call returns 0 or a negative enum err_code with e set; JSON results
 * are new references the caller json_decref()s. */
#ifndef SIBYL_SERVICE_H
#define SIBYL_SERVICE_H

#include <jansson.h>
#include <stdint.h>

#include "error.h"
#include "spec.h"
#include "store.h"

struct config;
struct service;

/* cfg and st must outlive the service. NULL on out-of-memory. Free with
 * service_free() (NULL-safe), which frees every study's model cache. */
struct service *service_new(struct store *st, const struct config *cfg);
void service_free(struct service *sv);

/* Drops the in-memory state of a deleted study. */
void service_forget_study(struct service *sv, int64_t study_rowid);

/* trials:suggest. On success *op is the done Operation (already stored). */
int service_suggest(struct service *sv, const char *owner, const char *study, int64_t count,
                    const char *client_id, json_t **op /* OUT */, struct err *e);

/* :addTrialMeasurement with a checked, canonical measurement (borrowed). */
int service_add_measurement(struct service *sv, const char *owner, const char *study, int64_t trial,
                            const json_t *body, char **trial_text /* OUT */, struct err *e);
/* :complete with the raw request body (borrowed; checked here). */
int service_complete(struct service *sv, const char *owner, const char *study, int64_t trial,
                     const json_t *body, char **trial_text /* OUT */, struct err *e);
/* GET of a trial by its worker (?clientId=): when client_id is the trial's
 * and it is ACTIVE or STOPPING, its lease is renewed, or, if it already
 * lapsed, the lapse is settled (service_internal.h); the answer is the
 * trial as it is then. Another client id only reads. */
int service_touch(struct service *sv, const char *owner, const char *study, int64_t trial,
                  const char *client_id, char **trial_text /* OUT */, struct err *e);

/* :stop. */
int service_stop(struct service *sv, const char *owner, const char *study, int64_t trial,
                 json_t **trial_out /* OUT */, struct err *e);
/* :checkTrialEarlyStoppingState: the median rule (stopping.h) when the
 * spec has medianAutomatedStoppingSpec, else never stop. A stop moves an
 * ACTIVE trial to STOPPING. Like any call on the trial it renews its lease
 * (or refuses it when the lease lapsed). *op is the done Operation
 * {response: {shouldStop}}, already stored. */
int service_check_early_stopping(struct service *sv, const char *owner, const char *study,
                                 int64_t trial, json_t **op /* OUT */, struct err *e);
/* trials:listOptimalTrials: {"optimalTrials": [...]}. */
int service_optimal(struct service *sv, const char *owner, const char *study,
                    json_t **out /* OUT */, struct err *e);

/* PATCH ?updateMask=metadata of the study (trial 0) or of one of its
 * trials, in any state: patch is the body's "metadata" as JSON text (a
 * JSON Merge Patch, checked and merged here: metadata.h), and nothing else
 * changes. A study answers *study_out (the caller clears it), a trial its
 * Trial JSON as text in *trial_text (malloc'd). */
int service_patch_metadata(struct service *sv, const char *owner, const char *study, int64_t trial,
                           const char *patch, struct store_study *study_out, char **trial_text,
                           struct err *e);

/* POST .../trials: a new trial, REQUESTED (for the pool) or SUCCEEDED
 * (importing a known result), in one write transaction. The request's
 * parts are checked here against the study's spec (parameters, and for
 * SUCCEEDED only, finalMeasurement with every objective metric and the
 * measurements); metadata_json is the checked metadata (md_create) or
 * NULL. On success *t is the stored trial (the caller clears it,
 * store_trial_clear) and *measurements its stored measurements (an array
 * the caller owns): tj_trial encodes them. */
struct svc_trial_new {
	int state;                       /* TRIAL_REQUESTED or TRIAL_SUCCEEDED */
	const json_t *parameters;        /* as sent; required */
	const json_t *final_measurement; /* NULL: none */
	const json_t *measurements;      /* NULL: none */
	const char *metadata_json;       /* NULL: none */
};
int service_trial_create(struct service *sv, const char *owner, const char *study,
                         const struct svc_trial_new *in, struct store_trial *t /* OUT */,
                         json_t **measurements /* OUT */, struct err *e);

/* Loads the study and its parsed spec on c. On success the caller clears
 * both (store_study_clear, spec_free). The parsed spec comes from a cache
 * of sv's (keyed by the study's row and checked against its stored text),
 * so that a call on a trial does not parse the spec again; sv NULL: no
 * cache. */
int service_load_study(struct service *sv, struct store_conn *c, const char *owner,
                       const char *study, struct store_study *s /* OUT */,
                       struct spec *sp /* OUT */, struct err *e);

/* service_load_study on a read snapshot taken here: on success the caller
 * releases *c (store_release) and clears s and sp; on failure nothing is
 * left to free and *c is NULL. */
int service_read_study(struct service *sv, const char *owner, const char *study,
                       struct store_conn **c /* OUT */, struct store_study *s /* OUT */,
                       struct spec *sp /* OUT */, struct err *e);

/* The Trial JSON of t with its measurements read on c, as a tree, or as
 * text (malloc'd; tj_trial_text) for the answers of calls on one trial.
 * addTrialMeasurement, complete and touch answer text (trial_text). */
int service_trial_text(struct store_conn *c, const char *owner, const char *study,
                       const struct store_trial *t, char **out /* OUT */, struct err *e);
int service_trial_json(struct store_conn *c, const char *owner, const char *study,
                       const struct store_trial *t, json_t **out /* OUT */, struct err *e);

#endif
