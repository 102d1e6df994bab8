/* trialcheck: the check that the tests of many workers make after a run
 * (tests/api/workload.c, tests/cluster/test-cluster.c): every trial the
 * server lists against the completes that got a 200.
 *
 *   qsort(acks, n_acks, sizeof(*acks), ack_cmp);
 *   struct trial_check c;
 *   trial_check(trials, acks, n_acks, &c);   // trials: the JSON list
 *   ASSERT_EQ_INT(c.bad_state + c.bad_value + c.unacked + c.dups, 0);
 */
#ifndef SIBYL_TRIALCHECK_H
#define SIBYL_TRIALCHECK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* A complete that got a 200: the trial and the value it reported. */
struct ack {
	int64_t trial;
	double value;
};

/* For qsort and bsearch of acks by trial id. */
int ack_cmp(const void *a, const void *b);

struct trial_check {
	size_t bad_state; /* trials not SUCCEEDED */
	size_t bad_value; /* final value other than the acknowledged one */
	size_t unacked;   /* trials no 200 acknowledged */
	size_t dups;      /* trials with the parameters of another */
};

/* Counts what is wrong with trials (a JSON array of Trials) against acks,
 * which must be sorted by ack_cmp. 0, or -1 out of memory. */
int trial_check(json_t *trials, const struct ack *acks, size_t n_acks, struct trial_check *out);

#endif
