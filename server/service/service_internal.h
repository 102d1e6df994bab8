/* service_internal: what service.c and suggest.c share; not for other
 * modules. */
#ifndef SIBYL_SERVICE_INTERNAL_H
#define SIBYL_SERVICE_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "service.h"
#include "service_owners.h"

struct gp_cache;
struct hist;

/* One suggest call waiting for the study's current batch. */
struct sreq {
	const char *client_id;
	int64_t count;
	struct svc_audit *audit;   /* the call's entry, for the commit of its trials */
	struct svc_suggestion res; /* the answer, when rc == 0 */
	int rc;
	struct err e;
	int done;
	struct sreq *next;
};

/* The in-memory state of one study: its suggest queue and model cache.
 * Concurrent suggest calls on a study are coalesced: the first becomes the
 * leader, takes every call queued so far, fits the model once for all of
 * them, hands each its own trials, and wakes them; calls arriving
 * meanwhile form the next batch. */
struct study_rt {
	int64_t rowid;
	pthread_mutex_t mu; /* guards queue and leader */
	pthread_cond_t cv;  /* a batch finished */
	struct sreq *queue, **tail;
	int leader;
	struct gp_cache *cache; /* used by the leader only */
	struct hist *hist;      /* the trial history (history.h); leader only */
	int refs;
	int dead; /* forgotten (study deleted) while in use */
	struct study_rt *next;
};

#define SVC_BUCKETS    256
#define SVC_SPEC_SLOTS 1024

/* A parsed spec in the cache: a study's row, its stored text and the
 * shared parse of it (spec_share). */
struct spec_slot {
	int64_t rowid;
	char *text;        /* owned */
	struct spec *spec; /* one reference owned */
};

#define SVC_MEAS_SLOTS 1024

/* The measurements of a trial being measured, as the answer of
 * addTrialMeasurement needs them (service_meas.c). */
struct meas_slot {
	int64_t rowid, trial;
	int64_t count; /* how many; valid while the trial row says the same */
	char *text;    /* joined with commas (store_measurement_joined); owned */
	size_t len, last;
};

struct service {
	struct store *st;
	int owns_st; /* service_open opened it: service_free closes it */
	const struct config *cfg;
	pthread_mutex_t mu; /* guards buckets and refs, never held for long */
	struct study_rt *buckets[SVC_BUCKETS];
	pthread_mutex_t meas_mu;                /* guards meas */
	struct meas_slot meas[SVC_MEAS_SLOTS];  /* direct-mapped by trial */
	pthread_mutex_t spec_mu;                /* guards specs */
	struct spec_slot specs[SVC_SPEC_SLOTS]; /* direct-mapped by row */
};

/* The cache of trials' measurements. A trial's measurements only ever
 * grow (ids of trials and studies are never reused), so an entry is right
 * exactly when its count equals the trial row's n_measurements, read in
 * the caller's transaction; entries are put only after a commit. get
 * copies the joined text into *text (malloc'd) and returns 1, or returns
 * 0. put copies; texts over SVC_MEAS_MAX bytes are not kept. */
#define SVC_MEAS_MAX (32 * 1024)
int svc_meas_get(struct service *sv, int64_t rowid, int64_t trial, int64_t count, char **text,
                 size_t *len, size_t *last);
void svc_meas_put(struct service *sv, int64_t rowid, int64_t trial, int64_t count, const char *text,
                  size_t len, size_t last);
void svc_meas_drop(struct service *sv, int64_t rowid, int64_t trial);
void svc_meas_free(struct service *sv);

/* Finds or creates the study's state and takes a reference; NULL on
 * out-of-memory. */
struct study_rt *svc_rt_get(struct service *sv, int64_t rowid);
void svc_rt_put(struct service *sv, struct study_rt *rt);

/* Leases (staleTrialTimeout). A trial whose lease lapsed is given up: it
 * becomes INFEASIBLE with a reason saying so and no complete body (that is
 * how svc_given_up() tells it from a trial a worker reported infeasible),
 * and its parameters go back to the REQUESTED pool as a NEW trial, so that
 * the late worker's calls on the old id are refused, never mixed with the
 * next worker's. Given-up trials are not shown to the designer and do not
 * count against maxNumTrials. */
int svc_given_up(const struct store_trial *t);
int svc_give_up(struct store_conn *w, const struct spec *sp, struct store_trial *t, int64_t now,
                struct err *e);

/* The lease clock (service_lease.c): a lease with lease_expiry in (0, now]
 * lapsed only when the daemon has also been running for staleTrialTimeout
 * since it started or last resumed from a stop (SIGSTOP, a suspend): time
 * it was not running does not count against a worker. start/stop are
 * counted (service_new, service_free); the first starts a thread. */
void svc_lease_clock_start(void);
void svc_lease_clock_stop(void);
int svc_lease_lapsed(const struct spec *sp, int64_t lease_expiry, int64_t now);

/* A trial whose lease lapsed (svc_lease_lapsed), written on w: an
 * ACTIVE one is given up (svc_give_up); a STOPPING one is completed from
 * its measurements (the final one chosen as complete would) or, with none,
 * given up without a new trial. Others are left alone. */
int svc_lapse(struct store_conn *w, const struct spec *sp, struct store_trial *t, int64_t now,
              struct err *e);

/* Lease check for a trial call inside a write transaction: when t is
 * ACTIVE or STOPPING and its lease lapsed, svc_lapse writes the outcome on
 * w and the result is FAILED_PRECONDITION naming why; the caller then
 * commits (the outcome stands) and answers the error. */
int svc_check_lease(struct store_conn *w, const struct spec *sp, const char *owner,
                    const char *study, struct store_trial *t, int64_t now, struct err *e);

/* The objective-metric check of a final measurement (create and
 * complete): INVALID_ARGUMENT "<what> lacks the objective metric ..." when
 * final has no value for a metric that is not a safety metric. */
int svc_check_objective(const struct spec *sp, const json_t *final, const char *what,
                        struct err *e);

/* t's measurements read on c, parsed: a JSON array in *out (new
 * reference; empty when it has none). */
int svc_measurements(struct store_conn *c, const struct store_trial *t, json_t **out,
                     struct err *e);

/* Every call on an ACTIVE or STOPPING trial moves its lease to now +
 * staleTrialTimeout (in t; the caller writes t). */
void svc_renew_lease(const struct spec *sp, struct store_trial *t, int64_t now);

/* The final measurement among the ones t's worker reported: the last, or
 * with BEST_MEASUREMENT the best by the first objective. New reference in
 * *final, NULL when there is none. */
int svc_select_final(struct store_conn *w, const struct spec *sp, const struct store_trial *t,
                     json_t **final, struct err *e);

/* Whether a SUCCEEDED trial's final metrics (one per study metric) meet
 * every safety threshold and give every objective. */
/* The reason (into reason, len bytes) a studyStoppingConfig condition
 * other than the maxNumTrials budget stops the study now; reason[0] is
 * left alone when none does (study_stopping.c). */
struct hist;
void svc_study_stop_reason(const struct spec *sp, const struct store_study *s, const struct hist *h,
                           int64_t now, char *reason, size_t len);
int svc_feasible(const struct spec *sp, const double *m);
/* 1 when a dominates b (every objective at least as good, one better). */
int svc_dominates(const struct spec *sp, const double *a, const double *b);

/* store_write_begin with the call's audit entry (NULL: none) handed to
 * the transaction's commit (store_write_audit), unless an earlier commit
 * of the call wrote it (audit->id != 0). Every write transaction of a
 * call that changes something begins here. */
struct store_conn *svc_write_begin(struct service *sv, struct svc_audit *audit, struct err *e);
/* The store's row of an entry (strings borrowed). */
struct store_audit svc_audit_row(const struct svc_audit *a);
/* t (emptied: its strings move) with its measurements read on c into out
 * (service.h struct svc_trial). */
int svc_trial_fill(struct store_conn *c, struct store_trial *t, struct svc_trial *out,
                   struct err *e);

/* ---- quotas (service_quota.c): checked in the write transaction, under
 * the sections of store.h (the owner's for maxStudies, maxActiveTrials
 * and maxApiKeys, the study's for maxTrialsPerStudy) ---- */
enum svc_quota_kind { SVC_QUOTA_STUDIES, SVC_QUOTA_TRIALS, SVC_QUOTA_ACTIVE, SVC_QUOTA_KEYS };
/* RESOURCE_EXHAUSTED "quota <name> reached: ...", typed ERR_REFUSAL_QUOTA
 * with the quota's name and limit. */
int svc_quota_refuse(enum svc_quota_kind which, int64_t limit, struct err *e);
/* The refusal when the owner (quotas q) has maxStudies studies. */
int svc_quota_studies(struct store_conn *w, const char *owner, const struct store_quota *q,
                      struct err *e);
/* The refusal when the owner has maxApiKeys ACTIVE keys. */
int svc_quota_keys(struct store_conn *w, const char *owner, struct err *e);
/* How many more trials the study may have (*room; -1: no limit), and how
 * many more ACTIVE trials the owner. */
int svc_quota_trials_room(struct store_conn *w, const struct store_quota *q, int64_t study_rowid,
                          int64_t *room, struct err *e);
int svc_quota_active_room(struct store_conn *w, const struct store_quota *q, const char *owner,
                          int64_t *room, struct err *e);
/* The refusal when the study (its owner's quota read here) has no room
 * for one more trial. */
int svc_quota_new_trial(struct store_conn *w, int64_t study_rowid, struct err *e);

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

/* A copy of t (strings duplicated) with its measurements read on c, as
 * the service answers it. */
int svc_trial_copy(struct store_conn *c, const struct store_trial *t, struct svc_trial *out,
                   struct err *e);

#endif
