/* service_lease.c: leases (staleTrialTimeout) and what happens when one
 * lapses, and the choice of a trial's final measurement from the ones
 * its worker reported, which completing a lapsed STOPPING trial shares
 * with complete. service_internal.h has the rules. */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_util.h"
#include "log.h"
#include "service_internal.h"
#include "trial_json.h"

/* ---- the lease clock ----
 * A lease measures how long a worker has been silent, and a daemon that
 * was not running (SIGSTOP, a debugger, a suspended VM, or not started
 * yet) heard nothing in that time through no fault of the worker: the
 * calls it sent meanwhile wait in the socket. So a lease lapses only once
 * the daemon has itself been running for staleTrialTimeout since it last
 * started or resumed. A thread notes every LC_TICK_MS that the process
 * runs (CLOCK_BOOTTIME, which also counts a suspend); a silence longer
 * than LC_GAP_MS means it did not run, and it resumed then. Every lease
 * decision notes too, so a call served right after SIGCONT, before the
 * thread has run, sees the gap as well. */
#define LC_TICK_MS 200
#define LC_GAP_MS  1500

static pthread_mutex_t lc_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lc_cv;
static pthread_t lc_thread;
static int lc_users, lc_stop, lc_running; /* under lc_mu; lc_running also read atomically */
static int64_t lc_last;                   /* boot clock at the last note (atomic) */
static int64_t lc_resumed;                /* boot clock when it last resumed (atomic) */

static int64_t boot_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Notes that the process runs; returns how long it has run since it last
 * resumed. */
static int64_t lc_note(void)
{
	int64_t t = boot_ms();
	int64_t last = __atomic_load_n(&lc_last, __ATOMIC_ACQUIRE);
	while (t > last && !__atomic_compare_exchange_n(&lc_last, &last, t, 0, __ATOMIC_ACQ_REL,
	                                                __ATOMIC_ACQUIRE))
		;
	if (t > last && t - last > LC_GAP_MS) { /* this thread moved it across the gap */
		__atomic_store_n(&lc_resumed, t, __ATOMIC_RELEASE);
		log_warn("event=resumed away_ms=%" PRId64 " msg=\"sibyld did not run for %" PRId64
		         " ms (stopped or suspended); leases lapse only after it has run for their "
		         "staleTrialTimeout again\"",
		         t - last, t - last);
	}
	return t - __atomic_load_n(&lc_resumed, __ATOMIC_ACQUIRE);
}

static void *lc_tick(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lc_mu);
	while (!lc_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += LC_TICK_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&lc_cv, &lc_mu, &ts);
		pthread_mutex_unlock(&lc_mu);
		lc_note();
		pthread_mutex_lock(&lc_mu);
	}
	pthread_mutex_unlock(&lc_mu);
	return NULL;
}

void svc_lease_clock_start(void)
{
	pthread_mutex_lock(&lc_mu);
	if (lc_users++ == 0) {
		pthread_condattr_t a;
		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_init(&lc_cv, &a);
		pthread_condattr_destroy(&a);
		int64_t t = boot_ms();
		__atomic_store_n(&lc_last, t, __ATOMIC_RELEASE);
		__atomic_store_n(&lc_resumed, t, __ATOMIC_RELEASE);
		lc_stop = 0;
		int ok = pthread_create(&lc_thread, NULL, lc_tick, NULL) == 0;
		__atomic_store_n(&lc_running, ok, __ATOMIC_RELEASE);
		if (!ok)
			log_warn("event=lease_clock msg=\"cannot start the lease clock's thread; "
			         "leases are judged by the wall clock alone\"");
	}
	pthread_mutex_unlock(&lc_mu);
}

void svc_lease_clock_stop(void)
{
	pthread_mutex_lock(&lc_mu);
	int last = --lc_users == 0;
	int join = last && lc_running;
	if (join) {
		lc_stop = 1;
		pthread_cond_signal(&lc_cv);
	}
	pthread_mutex_unlock(&lc_mu);
	if (join)
		pthread_join(lc_thread, NULL);
	if (last) {
		__atomic_store_n(&lc_running, 0, __ATOMIC_RELEASE);
		pthread_cond_destroy(&lc_cv);
	}
}

int svc_lease_lapsed(const struct spec *sp, int64_t lease_expiry, int64_t now)
{
	if (lease_expiry <= 0 || lease_expiry > now)
		return 0;
	if (!__atomic_load_n(&lc_running, __ATOMIC_ACQUIRE))
		return 1;
	return lc_note() >= sp->stale_timeout_ns / 1000000;
}

static char *dup_or_null(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

int svc_given_up(const struct store_trial *t)
{
	return t->state == TRIAL_INFEASIBLE && !t->complete_json;
}

int svc_give_up(struct store_conn *w, const struct spec *sp, struct store_trial *t, int64_t now,
                struct err *e)
{
	char when[48], timeout[48], reason[300];
	struct store_trial n = {0};
	n.study_rowid = t->study_rowid;
	n.state = TRIAL_REQUESTED;
	n.params_json = dup_or_null(t->params_json);
	n.info_json = dup_or_null(t->info_json);
	if (!n.params_json) {
		store_trial_clear(&n);
		return err_set(e, ERR_INTERNAL, "out of memory");
	}
	int rc = svc_quota_new_trial(w, n.study_rowid, e);
	if (rc == 0)
		rc = store_trial_insert(w, &n, e);
	int64_t new_id = n.id;
	store_trial_clear(&n);
	if (rc)
		return rc;
	ju_format_time(t->lease_expiry, when, sizeof(when));
	ju_format_duration(sp->stale_timeout_ns, timeout, sizeof(timeout));
	snprintf(reason, sizeof(reason),
	         "given up: no call on it for staleTrialTimeout (%s), its lease expired at %s; its "
	         "parameters went back to the REQUESTED pool as trial %" PRId64,
	         timeout, when, new_id);
	free(t->infeasible_reason);
	t->infeasible_reason = dup_or_null(reason);
	t->state = TRIAL_INFEASIBLE;
	t->end_time = now;
	t->lease_expiry = 0;
	return store_trial_update(w, t, e);
}

/* A STOPPING trial whose worker went silent: it was being stopped anyway,
 * so it is completed from the measurements it has (as complete without a
 * finalMeasurement would), or given up without a new trial when it has
 * none: the early-stopping rule already judged its parameters. */
static int finish_stopped(struct store_conn *w, const struct spec *sp, struct store_trial *t,
                          int64_t now, struct err *e)
{
	char when[48], timeout[48], reason[300];
	json_t *final = NULL;
	int rc = svc_select_final(w, sp, t, &final, e);
	if (rc)
		return rc;
	ju_format_time(t->lease_expiry, when, sizeof(when));
	ju_format_duration(sp->stale_timeout_ns, timeout, sizeof(timeout));
	free(t->final_json);
	t->final_json = final ? ju_canonical(final) : NULL;
	json_decref(final);
	free(t->infeasible_reason);
	t->infeasible_reason = NULL;
	if (t->final_json) {
		t->state = TRIAL_SUCCEEDED;
	} else {
		snprintf(
		    reason, sizeof(reason),
		    "given up: STOPPING with no call on it for staleTrialTimeout (%s), its lease "
		    "expired at %s, and no measurement to complete it with",
		    timeout, when);
		t->infeasible_reason = dup_or_null(reason);
		t->state = TRIAL_INFEASIBLE;
	}
	t->end_time = now;
	t->lease_expiry = 0;
	return store_trial_update(w, t, e);
}

int svc_lapse(struct store_conn *w, const struct spec *sp, struct store_trial *t, int64_t now,
              struct err *e)
{
	if (!svc_lease_lapsed(sp, t->lease_expiry, now))
		return 0;
	if (t->state == TRIAL_ACTIVE)
		return svc_give_up(w, sp, t, now, e);
	if (t->state == TRIAL_STOPPING)
		return finish_stopped(w, sp, t, now, e);
	return 0;
}

int svc_check_lease(struct store_conn *w, const struct spec *sp, const char *owner,
                    const char *study, struct store_trial *t, int64_t now, struct err *e)
{
	int was = t->state;
	if ((was != TRIAL_ACTIVE && was != TRIAL_STOPPING) ||
	    !svc_lease_lapsed(sp, t->lease_expiry, now))
		return 0;
	int rc = svc_lapse(w, sp, t, now, e);
	if (rc)
		return rc;
	if (t->state == TRIAL_SUCCEEDED)
		return err_set(e, ERR_FAILED_PRECONDITION,
		               "trial owners/%s/studies/%s/trials/%" PRId64
		               " was STOPPING with no call on it for staleTrialTimeout; it was "
		               "completed (SUCCEEDED) from its last measurements",
		               owner, study, t->id);
	return err_set(e, ERR_FAILED_PRECONDITION,
	               "trial owners/%s/studies/%s/trials/%" PRId64 " was %s", owner, study, t->id,
	               t->infeasible_reason ? t->infeasible_reason : "given up");
}

void svc_renew_lease(const struct spec *sp, struct store_trial *t, int64_t now)
{
	if ((t->state == TRIAL_ACTIVE || t->state == TRIAL_STOPPING) && sp->stale_timeout_ns > 0)
		t->lease_expiry = now + sp->stale_timeout_ns / 1000000;
}

/* The objective of a measurement for BEST_MEASUREMENT: the first objective,
 * negated for MINIMIZE so that larger is better; NAN when absent. */
static double score(const struct spec *sp, const json_t *m)
{
	double v[sp->n_metrics];
	tj_measurement_metrics(m, sp, v);
	for (size_t i = 0; i < sp->n_metrics; i++) {
		if (!sp->metrics[i].safety)
			return sp->metrics[i].goal == DESIGNER_MINIMIZE ? -v[i] : v[i];
	}
	return NAN;
}

int svc_select_final(struct store_conn *w, const struct spec *sp, const struct store_trial *t,
                     json_t **final, struct err *e)
{
	json_t *ms, *m;
	size_t i;
	*final = NULL;
	int rc = svc_measurements(w, t, &ms, e);
	if (rc)
		return rc;
	double best = -INFINITY;
	json_array_foreach(ms, i, m)
	{
		double s = sp->best_measurement ? score(sp, m) : 0;
		if (!sp->best_measurement || (!isnan(s) && (s > best || !*final))) {
			best = s;
			*final = m;
		}
	}
	json_incref(*final);
	json_decref(ms);
	return 0;
}
