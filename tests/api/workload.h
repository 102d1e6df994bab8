/* workload: what the worker tests (test-workers.c, test-crash.c) share on
 * top of apitest.h (workload.c): worker threads that loop suggest ->
 * (measurements) -> complete on one study until its budget is spent, and
 * the checks made after such a run. Both tests and workload.c are built
 * with TEST_SHARED_COUNTERS, so that the checks made here count in the
 * test's summary (test.h). */
#ifndef SIBYL_WORKLOAD_H
#define SIBYL_WORKLOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "apitest.h"
#include "trialcheck.h"

#define MAX_ACKS 4096

struct run {
	const char *study;
	int workers;
	int crash;       /* 1: retry transport failures (the daemon is being killed) */
	int measure;     /* measurements to report before each complete */
	atomic_int done; /* workers that saw the end of the budget */
	atomic_int errors;
	atomic_long calls;
	pthread_mutex_t mu;
	char first_error[600];
	struct ack acks[MAX_ACKS]; /* completes that got a 200 */
	size_t n_acks;
};

struct worker_arg {
	struct run *r;
	int index;
};

/* The daemon's URL (it changes when the crash test restarts it). */
void set_url(const char *url);
void sleep_ms(int ms);
double mono(void);

/* Starts r->workers threads running r (th and wa: r->workers each); and
 * waits for them. */
void run_workers(struct run *r, pthread_t *th, struct worker_arg *wa);
void join_workers(struct run *r, pthread_t *th);
/* The checks after a run: no errors, exactly `budget` trials, all
 * SUCCEEDED with the value their 200 acknowledged, each acknowledged once,
 * no two with the same parameters, the study COMPLETED and suggest refused. */
void check_run(struct daemon *d, struct run *r, int budget);
/* No daemon log of any run on d mentions a locked database. */
void check_logs(const struct daemon *d);
/* A study spec of dims doubles in [0, 1], maximizing obj, with
 * maxNumTrials budget and extra fields (JSON members, or NULL). */
const char *spec_budget(char *buf, size_t cap, const char *algorithm, int dims, int budget,
                        const char *extra);
/* Creates study, runs workers on it until its budget is spent (measure
 * measurements before each complete) and checks the run. */
void many_workers(struct daemon *d, const char *study, const char *algorithm, int workers,
                  int budget, int measure);
/* One suggested trial for client (new reference). */
json_t *suggest_one(struct daemon *d, const char *study, const char *client);
/* The trial's parameters as sorted JSON text (malloc'd). */
char *params_of(const json_t *t);
/* addTrialMeasurement of obj = v at step, expecting status want. */
void measure(struct daemon *d, const char *study, const char *id, int step, double v, long want);
/* The rows of the trials and measurements tables in db_dump's canonical
 * text: what a retried call must not change (other tables, such as an
 * audit log of requests, may). malloc'd; NULL on error. */
char *dump_trials(const char *db_path);
/* Owner "t" of every test study: created by the admin where owners are
 * explicit (ALREADY_EXISTS is fine). */
void ensure_owner(struct daemon *d);

#define PART(call)                                                       \
	do {                                                             \
		double t0_ = mono();                                     \
		call;                                                    \
		fprintf(stderr, "%-60s %6.1f s\n", #call, mono() - t0_); \
	} while (0)

#endif
