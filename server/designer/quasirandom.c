#include "quasirandom.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_qrng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pointset.h"
#include "random.h"
#include "rng.h"

/* Keeps the scramble apart from the other designers' streams of one seed. */
#define QRNG_SEED_TAG 0x534f424f4c534854ULL
#define FIXED_BITS    52

/* One scrambled sequence, positioned at some index. */
struct qseq {
	gsl_qrng *q;
	size_t dim;
	int sobol;
	uint64_t *xor_bits; /* Sobol digital shift */
	double *shift;      /* Halton rotation */
	double *raw;
	uint64_t index; /* of the next point */
};

static void qseq_close(struct qseq *qs)
{
	if (qs->q)
		gsl_qrng_free(qs->q);
	free(qs->xor_bits);
	free(qs->shift);
	free(qs->raw);
	qs->q = NULL;
	qs->xor_bits = NULL;
	qs->shift = NULL;
	qs->raw = NULL;
}

static int qseq_open(struct qseq *qs, size_t dim, uint64_t seed, uint64_t start, char *err,
                     size_t errlen)
{
	*qs = (struct qseq){.dim = dim};
	if (dim == 0 || dim > QUASIRANDOM_MAX_DIM) {
		snprintf(err, errlen,
		         "quasi-random sequences need between 1 and %d dimensions, not %zu",
		         QUASIRANDOM_MAX_DIM, dim);
		return -1;
	}
	qs->sobol = dim <= QUASIRANDOM_SOBOL_MAX_DIM;
	qs->q = gsl_qrng_alloc(qs->sobol ? gsl_qrng_sobol : gsl_qrng_halton, (unsigned)dim);
	qs->xor_bits = malloc(dim * sizeof *qs->xor_bits);
	qs->shift = malloc(dim * sizeof *qs->shift);
	qs->raw = malloc(dim * sizeof *qs->raw);
	if (!qs->q || !qs->xor_bits || !qs->shift || !qs->raw) {
		qseq_close(qs);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct rng r;
	rng_seed(&r, seed ^ QRNG_SEED_TAG, 0);
	for (size_t i = 0; i < dim; i++) {
		qs->xor_bits[i] = rng_next(&r) >> (64 - FIXED_BITS);
		qs->shift[i] = rng_uniform(&r);
	}
	for (; qs->index < start; qs->index++) {
		if (qs->index > 0 && gsl_qrng_get(qs->q, qs->raw) != GSL_SUCCESS) {
			qseq_close(qs);
			snprintf(err, errlen, "quasi-random sequence exhausted at point %llu",
			         (unsigned long long)qs->index);
			return -1;
		}
	}
	return 0;
}

static int qseq_next(struct qseq *qs, double *u, char *err, size_t errlen)
{
	/* GSL starts after the origin; putting it back first makes the first
	 * 2^m Sobol points a full net (each coordinate stratified into 2^m
	 * cells), and the first b^m Halton points a full van der Corput set. */
	if (qs->index++ == 0) {
		for (size_t i = 0; i < qs->dim; i++)
			qs->raw[i] = 0.0;
	} else if (gsl_qrng_get(qs->q, qs->raw) != GSL_SUCCESS) {
		snprintf(err, errlen, "quasi-random sequence exhausted");
		return -1;
	}
	for (size_t i = 0; i < qs->dim; i++) {
		double x = qs->raw[i];
		if (!(x >= 0.0 && x < 1.0))
			x = 0.0;
		if (qs->sobol) {
			/* GSL's Sobol points are dyadic with at most 30 bits, so
			 * the fixed-point conversion is exact. */
			uint64_t b = (uint64_t)ldexp(x, FIXED_BITS) ^ qs->xor_bits[i];
			u[i] = ldexp((double)b, -FIXED_BITS);
		} else {
			x += qs->shift[i];
			u[i] = x >= 1.0 ? x - 1.0 : x;
		}
	}
	return 0;
}

int quasirandom_points(size_t dim, uint64_t seed, uint64_t start, size_t count, double *u,
                       char *err, size_t errlen)
{
	struct qseq qs;
	if (qseq_open(&qs, dim, seed, start, err, errlen) < 0)
		return -1;
	for (size_t k = 0; k < count; k++) {
		if (qseq_next(&qs, u + k * dim, err, errlen) < 0) {
			qseq_close(&qs);
			return -1;
		}
	}
	qseq_close(&qs);
	return 0;
}

int quasirandom_suggest(const struct designer_input *in, double *out, struct designer_info *info,
                        char *err, size_t errlen)
{
	const struct space *s = in->space;
	size_t n = s->n;
	if (n > QUASIRANDOM_MAX_DIM) {
		int rc = random_suggest(in, out, info, err, errlen);
		for (int k = 0; info && k < rc; k++)
			info[k].source = "random (more than 1229 parameters for quasi-random)";
		return rc;
	}
	struct qseq qs = {0};
	struct pointset used = {0};
	int dedup = !in->noise_high, rc = -1;
	double *u = malloc(n * sizeof *u);
	if (!u || (dedup && pointset_from_input(&used, in) < 0)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (qseq_open(&qs, n, in->seed, in->position, err, errlen) < 0)
		goto out;
	for (size_t k = 0; k < in->count; k++) {
		double *v = out + k * n;
		int skips = 0;
		for (;;) {
			if (qseq_next(&qs, u, err, errlen) < 0)
				goto out;
			space_decode(s, u, v);
			if (!dedup || !pointset_has(&used, v))
				break;
			if (++skips < QUASIRANDOM_SKIP_LIMIT)
				continue;
			/* The sequence keeps landing on used points of a small
			 * finite space: pick what is left directly. */
			struct rng r;
			rng_seed(&r, in->seed ^ QRNG_SEED_TAG, in->position + k + 1);
			if (random_unused(s, &used, &r, v) < 0) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			break;
		}
		if (dedup && pointset_add(&used, v) < 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (info)
			info[k] = (struct designer_info){.model_based = 0,
			                                 .source = qs.sobol ? "sobol" : "halton",
			                                 .predicted_value = NAN,
			                                 .predicted_stddev = NAN,
			                                 .log_ei = NAN};
	}
	rc = (int)in->count;
out:
	qseq_close(&qs);
	pointset_free(&used);
	free(u);
	return rc;
}
