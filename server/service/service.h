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
 * Every call returns 0 or a negative enum err_code with e set. The calls
 * take and return C structs (no JSON trees, no HTTP status): the api
 * decodes requests into them and encodes the answers (trial_json.h,
 * operation_json.h). */
#ifndef SIBYL_SERVICE_H
#define SIBYL_SERVICE_H

#include <stdint.h>

#include "error.h"
#include "spec.h"
#include "store.h"

struct config;
struct service;
struct svc_audit; /* service_owners.h */

/* cfg and st must outlive the service. NULL on out-of-memory. Free with
 * service_free() (NULL-safe), which frees every study's model cache. */
struct service *service_new(struct store *st, const struct config *cfg);
/* Opens the store of cfg (db_path, sync, wal_target_mb) and a service
 * that owns it: service_free closes it. NULL with e set on failure. */
struct service *service_open(const struct config *cfg, struct err *e);
void service_free(struct service *sv);

/* The audit entry of a call (service_owners.h struct svc_audit): every
 * call that writes takes the request's entry as `audit` (NULL: none) and
 * hands it to the commit of its change (store_write_audit), which sets
 * audit->id to the row written; a call whose entry is written already
 * (id != 0) writes it no more. */

/* ---- what the daemon needs around the calls (service_daemon.c) ---- */
/* 0 when the store answers and can be written (store_health). */
int service_health(struct service *sv, struct err *e);
struct svc_gauges {
	int64_t studies;
	int64_t trials[6]; /* by enum store_trial_state, [0] unused */
};
int service_gauges(struct service *sv, struct svc_gauges *out, struct err *e);
/* The server secret called name (store_secret). */
int service_secret(struct service *sv, const char *name, const unsigned char *fresh, size_t len,
                   unsigned char *out /* OUT */, struct err *e);
/* The stored key of this id for auth_verify, and its owner's
 * requests_per_second (may be NULL). NOT_FOUND when absent. */
struct auth_key_record;
int service_key_record(struct service *sv, const char *keyid, struct auth_key_record *rec,
                       double *owner_rps, struct err *e);
/* The audit log's own writes: a in a transaction of its own (updates row
 * a->id, or inserts when it is 0 or gone; *written may be NULL), and n
 * more identical refusals on entry id (store_audit_add_count). */
int service_audit_record(struct service *sv, const struct svc_audit *a, int64_t *written,
                         struct err *e);
int service_audit_add_count(struct service *sv, int64_t id, int64_t n, int64_t last, struct err *e);

/* ---- studies (service_studies.c) ---- */
void svc_study_clear(struct store_study *s);            /* NULL-safe */
void svc_studies_free(struct store_study *a, size_t n); /* clears each, frees array */
/* Create-or-load of owners/O/studies/id with the canonical spec (and
 * metadata, NULL: none): a study of that name with the same spec
 * (spec_diff.h) is loaded as stored, one with another spec is
 * ALREADY_EXISTS naming the difference; NOT_FOUND when the owner does not
 * exist. *out is the study (the caller clears it). */
int service_study_create(struct service *sv, const char *owner, const char *id,
                         const char *spec_canon, const char *metadata_json, struct store_study *out,
                         struct svc_audit *audit, struct err *e);
int service_study_get(struct service *sv, const char *owner, const char *study,
                      struct store_study *out, struct err *e);
/* Studies of owner with rowid > after, at most limit (svc_studies_free). */
int service_study_list(struct service *sv, const char *owner, int64_t after, int limit,
                       struct store_study **out, size_t *n, struct err *e);
/* Deletes the study with all under it, and forgets what the service kept
 * of it. */
int service_study_delete(struct service *sv, const char *owner, const char *study,
                         struct svc_audit *audit, struct err *e);

/* ---- trials as answered ---- */
/* A trial as the service answers it: the stored row and its measurements
 * joined with commas (store_measurement_joined; NULL when none), which
 * tj_trial_text / tj_trial encode. */
struct svc_trial {
	struct store_trial t;
	char *measurements;
};
void svc_trial_clear(struct svc_trial *t);           /* NULL-safe */
void svc_trials_free(struct svc_trial *a, size_t n); /* clears each, frees array */
int service_trial_get(struct service *sv, const char *owner, const char *study, int64_t trial,
                      struct svc_trial *out, struct err *e);
/* The study's trials in the states of state_mask (0: all), id > after, at
 * most limit (<= 0: all), on one read snapshot (svc_trials_free). */
int service_trial_list(struct service *sv, int64_t study_rowid, unsigned state_mask, int64_t after,
                       int limit, struct svc_trial **out, size_t *n, struct err *e);
int service_trial_delete(struct service *sv, const char *owner, const char *study, int64_t trial,
                         struct svc_audit *audit, struct err *e);
/* Every trial of the study in the states of state_mask with id > after,
 * in id order, from one read snapshot: begin once with the study's spec,
 * then row for each trial (borrowed for the call). A non-zero return
 * stops the walk and is returned. */
struct svc_each {
	void *ctx;
	int (*begin)(void *ctx, const struct spec *sp, struct err *e); /* may be NULL */
	int (*row)(void *ctx, const struct spec *sp, const struct store_trial *t, struct err *e);
};
int service_trials_each(struct service *sv, const char *owner, const char *study,
                        unsigned state_mask, int64_t after, const struct svc_each *cb,
                        struct err *e);
/* A stored (done) Operation's JSON text, without its name (*json
 * malloc'd). */
int service_operation_get(struct service *sv, const char *owner, const char *study, int64_t op,
                          char **json, struct err *e);

/* ---- :importance (service_importance.c) ---- */
struct svc_param_importance {
	char *parameter_id;
	double importance;
};
struct svc_importance {
	char *metric_id;                     /* the metric explained */
	size_t trial_count;                  /* SUCCEEDED trials with it */
	struct svc_param_importance *params; /* most important first */
	size_t n_params;
};
void svc_importance_clear(struct svc_importance *x); /* NULL-safe */
/* PED-ANOVA over the study's SUCCEEDED trials with the metric (metric_id,
 * "" for the first objective) in their final measurement;
 * FAILED_PRECONDITION with fewer than IMP_MIN_TRIALS. */
int service_importance(struct service *sv, const char *owner, const char *study,
                       const char *metric_id, struct svc_importance *out, struct err *e);

/* Drops the in-memory state of a deleted study. */
void service_forget_study(struct service *sv, int64_t study_rowid);

/* trials:suggest: up to count trials for the worker client_id (its own
 * ACTIVE ones, the REQUESTED pool, new points), handed out and stored
 * with the done Operation in one write transaction. *out is what the
 * Operation says (the api encodes it: operation_json.h); the caller
 * clears it. */
struct svc_suggestion {
	int64_t op_id;            /* the stored Operation's id */
	struct svc_trial *trials; /* in the order handed out */
	size_t n;
	int study_state; /* enum store_study_state, after the call */
	int64_t start_time, end_time;
};
void svc_suggestion_clear(struct svc_suggestion *x); /* NULL-safe */
int service_suggest(struct service *sv, const char *owner, const char *study, int64_t count,
                    const char *client_id, struct svc_suggestion *out /* OUT */,
                    struct svc_audit *audit, struct err *e);

/* The calls on one trial answer the trial as it is after them (*out, the
 * caller clears it with svc_trial_clear). */

/* :addTrialMeasurement. measurement: the body's "measurement" as JSON
 * text (NULL: absent), checked here against the study's metrics. */
int service_add_measurement(struct service *sv, const char *owner, const char *study, int64_t trial,
                            const char *measurement, struct svc_trial *out /* OUT */,
                            struct svc_audit *audit, struct err *e);
/* :complete with the request decoded (its types checked by the api);
 * final_measurement as JSON text, checked here. */
struct svc_complete {
	int infeasible;                /* trialInfeasible: true */
	const char *infeasible_reason; /* NULL: none */
	const char *final_measurement; /* JSON text; NULL: none */
};
int service_complete(struct service *sv, const char *owner, const char *study, int64_t trial,
                     const struct svc_complete *in, struct svc_trial *out /* OUT */,
                     struct svc_audit *audit, struct err *e);
/* GET of a trial by its worker (?clientId=): when client_id is the trial's
 * and it is ACTIVE or STOPPING, its lease is renewed, or, if it already
 * lapsed, the lapse is settled (service_internal.h); the answer is the
 * trial as it is then. Another client id only reads. */
int service_touch(struct service *sv, const char *owner, const char *study, int64_t trial,
                  const char *client_id, struct svc_trial *out /* OUT */, struct svc_audit *audit,
                  struct err *e);

/* :stop. */
int service_stop(struct service *sv, const char *owner, const char *study, int64_t trial,
                 struct svc_trial *out /* OUT */, struct svc_audit *audit, struct err *e);
/* :checkTrialEarlyStoppingState: the median rule (stopping.h) when the
 * spec has medianAutomatedStoppingSpec, else never stop. A stop moves an
 * ACTIVE trial to STOPPING. Like any call on the trial it renews its lease
 * (or refuses it when the lease lapsed). The done Operation is stored;
 * *out says what it holds (operation_json.h encodes it). */
struct svc_early_stop {
	int64_t op_id;
	int64_t trial;
	int should_stop;
	char reason[512];
};
int service_check_early_stopping(struct service *sv, const char *owner, const char *study,
                                 int64_t trial, struct svc_early_stop *out /* OUT */,
                                 struct svc_audit *audit, struct err *e);
/* trials:listOptimalTrials: the optimal trials, and how they were chosen
 * ("OBSERVED" or "POSTERIOR_MEAN", static text). */
struct svc_optimal {
	struct svc_trial *trials;
	size_t n;
	const char *selection;
};
void svc_optimal_clear(struct svc_optimal *x); /* NULL-safe */
int service_optimal(struct service *sv, const char *owner, const char *study,
                    struct svc_optimal *out /* OUT */, struct err *e);

/* PATCH ?updateMask=metadata of the study (trial 0) or of one of its
 * trials, in any state: patch is the body's "metadata" as JSON text (a
 * JSON Merge Patch, checked and merged here: metadata.h), and nothing else
 * changes. A study answers *study_out (the caller clears it), a trial
 * *trial_out (svc_trial_clear). */
int service_patch_metadata(struct service *sv, const char *owner, const char *study, int64_t trial,
                           const char *patch, struct store_study *study_out,
                           struct svc_trial *trial_out, struct svc_audit *audit, struct err *e);

/* POST .../trials: a new trial, REQUESTED (for the pool) or SUCCEEDED
 * (importing a known result), in one write transaction. The request's
 * parts come as JSON text as sent and are checked here against the
 * study's spec (parameters, and for SUCCEEDED only, finalMeasurement with
 * every objective metric and the measurements); metadata_json is the
 * checked metadata (md_create) or NULL. On success *out is the stored
 * trial with its measurements. */
struct svc_trial_new {
	int state;                     /* TRIAL_REQUESTED or TRIAL_SUCCEEDED */
	const char *parameters;        /* JSON text as sent; required */
	const char *final_measurement; /* JSON text; NULL: none */
	const char *measurements;      /* JSON text; NULL: none */
	const char *metadata_json;     /* NULL: none */
};
int service_trial_create(struct service *sv, const char *owner, const char *study,
                         const struct svc_trial_new *in, struct svc_trial *out /* OUT */,
                         struct svc_audit *audit, struct err *e);

#endif
