/* acquisition: the acquisition function (log EI times the probability of
 * feasibility, in logs) and the search for its maximum over a space.
 *
 * The search: score scrambled quasi-random candidates, Gaussian
 * perturbations of the best trials (scaled by the lengthscales) and the
 * best trials themselves; polish the best few by BFGS in the continuous
 * relaxation (the bounds are kept by the map u = ½(1 − cos πt)); snap
 * integer, discrete and categorical coordinates (space_snap) and improve
 * them by coordinate moves; evaluate at the snapped point, which is the one
 * returned. Points closer than 1e-9 (L∞, unit cube) to a `taken` point are
 * rejected when deduplication is on, and points closer than ACQ_MIN_SEP to a
 * pending or batch point always: the next best candidate is used.
 */
#ifndef SIBYL_ACQUISITION_H
#define SIBYL_ACQUISITION_H

#include <stddef.h>
#include <stdint.h>

#include "gp.h"
#include "rng.h"
#include "space.h"

/* Least L∞ distance in the unit cube between a new point and a pending or
 * batch point. The believer already makes the acquisition small next to a
 * pending point; 0.01 also blocked the fine steps near the incumbent that
 * one worker takes (8 simulated workers, 20 seeds: mixed_ml, branin,
 * hartmann6 and failregion3 better with 0.001, no problem worse;
 * docs/gp-ei.md). */
#define ACQ_MIN_SEP 0.001

struct acq_model {
	struct gp *obj;  /* the objective model (warped, maximized); borrowed */
	double best;     /* the incumbent f* on obj's scale */
	struct gp **con; /* feasibility models: P(con[k](x) > con_thr[k]); borrowed */
	const double *con_thr;
	size_t n_con;
	struct gp_ref *ref; /* NULL: EI over the value best; else noisy EI over
	                       f(x*) at ref's point x* (the best posterior mean
	                       at an evaluated point): the improvement
	                       f(x) − f(x*) integrated over their joint posterior;
	                       borrowed, brought up to date as obj grows */
};

struct acq_opts {
	size_t n_qmc;    /* quasi-random candidates */
	size_t n_local;  /* perturbations around the best trials, in all */
	size_t n_starts; /* candidates polished */
	int maxiter;     /* BFGS iterations per polish */
	int dedupe;      /* 1: never return a point of `taken` */
	size_t n_spread; /* the last n_spread `taken` points (pending and batch)
	                    must be at least ACQ_MIN_SEP away (L∞), dedupe or not */
	uint64_t qmc_seed;
};

/* Default budget for a model of n points: 1024 QMC + 512 local candidates
 * and 12 starts of up to 50 BFGS steps at small n; past about 600 points
 * fewer candidates (as 1/n²), 3 starts of 20 steps. */
void acq_default_opts(struct acq_opts *o /* OUT */, size_t n);

/* Noisy EI's difference f(x) − f(x*) at one point: its mean and standard
 * deviation from the posterior mean mu and variance var at x and the
 * covariance cov with x*. */
double acq_noisy_sd(const struct gp_ref *r, double var, double cov);

/* log EI(x) + Σ_k log PoF_k(x) at u (with m->ref: log noisy EI); with grad not NULL its gradient
 * (dim entries; 0 on categorical dimensions). mu and sd (may be NULL) get the objective model's
 * posterior mean and standard deviation. */
double acq_eval(const struct acq_model *m, const double *u, double *grad /* OUT */,
                double *mu /* OUT */, double *sd /* OUT */);

/* Searches s for the best point. top: n_top unit-cube points, best trial
 * first (local candidates and starts). taken: n_taken unit-cube points that
 * the result must differ from when o->dedupe. Writes the snapped point into
 * u and its acquisition value, mean and standard deviation. Returns 0, 1
 * when every candidate was a duplicate (u untouched), or -1 with a message
 * in err (out of memory, quasi-random failure). */
int acq_search(const struct acq_model *m, const struct space *s, const struct acq_opts *o,
               const double *top, size_t n_top, const double *taken, size_t n_taken, struct rng *r,
               double *u /* OUT */, double *value /* OUT */, double *mu /* OUT */,
               double *sd /* OUT */, char *err /* OUT */, size_t errlen);

/* The candidates of one large batch, scored once and kept up to date
 * across its points: after each kriging-believer append (gp_believe) only
 * the new row of L⁻¹k(X, c) is computed per candidate (O(n) each) instead
 * of a new search. Free with acq_pool_free(); the models stay borrowed. */
struct acq_pool_model;
struct acq_pool {
	size_t m, nmod;             /* candidates; models (objective + constraints) */
	double *X;                  /* m x dim unit-cube candidates; owned */
	double *val;                /* m acquisition values; owned */
	double *t;                  /* m scratch; owned */
	struct acq_pool_model *mod; /* nmod; owned */
};

/* n_cand scrambled Sobol points (qmc_seed) and perturbations of top, plus
 * top itself, scored on m's models as they are now. Returns 0, or -1
 * with a message in err; call acq_pool_free() either way. */
int acq_pool_init(struct acq_pool *p /* OUT */, const struct acq_model *m, const struct space *s,
                  size_t n_cand, const double *top, size_t n_top, uint64_t qmc_seed, struct rng *r,
                  char *err /* OUT */, size_t errlen);

/* Brings the scores up to date after points were appended to m's models
 * (m: the same models as at acq_pool_init). Returns 0, or -1 on a BLAS
 * failure. */
int acq_pool_update(struct acq_pool *p, const struct acq_model *m);

/* Like acq_search, from the pool: the o->n_starts best allowed candidates
 * are refined with o->maxiter BFGS steps (0: none) and the best allowed
 * result returned. Same results and return codes as acq_search. */
int acq_pool_pick(struct acq_pool *p, const struct acq_model *m, const struct space *s,
                  const struct acq_opts *o, const double *taken, size_t n_taken,
                  double *u /* OUT */, double *value /* OUT */, double *mu /* OUT */,
                  double *sd /* OUT */, char *err /* OUT */, size_t errlen);

/* Frees what acq_pool_init() allocated; NULL-safe, and safe after a
 * failed init. */
void acq_pool_free(struct acq_pool *p);

#endif
