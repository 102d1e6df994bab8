#include "importance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Points are first counted into BINS equal bins of [0, 1]; the density
 * on the grid is then a sum over bins, not over points, so that the cost
 * per parameter does not grow with the number of trials beyond one pass. */
#define BINS (4 * IMP_GRID)
/* Smallest kernel width (unit-cube units), for sets whose values are all
 * equal, and the prior count of each category. */
#define MIN_BANDWIDTH 0.01
#define CAT_PRIOR     1.0

struct ranked {
	double y;
	size_t i;
};

static int by_y(const void *a, const void *b)
{
	const struct ranked *x = a, *z = b;
	if (x->y != z->y)
		return x->y < z->y ? -1 : 1;
	return (x->i > z->i) - (x->i < z->i);
}

/* Scott's rule on the coordinate d of the k points idx. */
static double bandwidth(const double *u, size_t dim, size_t d, const size_t *idx, size_t k)
{
	double mean = 0, var = 0;
	for (size_t i = 0; i < k; i++)
		mean += u[idx[i] * dim + d];
	mean /= (double)k;
	for (size_t i = 0; i < k; i++) {
		double t = u[idx[i] * dim + d] - mean;
		var += t * t;
	}
	var = k > 1 ? var / (double)(k - 1) : 0;
	double h = 1.06 * sqrt(var) * pow((double)k, -0.2);
	return h > MIN_BANDWIDTH ? h : MIN_BANDWIDTH;
}

/* Kernel density of coordinate d of the points idx on the grid,
 * normalised to sum to 1 over the grid. */
static void density(const double *u, size_t dim, size_t d, const size_t *idx, size_t k,
                    double *bins, double *p)
{
	double h = bandwidth(u, dim, d, idx, k), total = 0;
	memset(bins, 0, BINS * sizeof(double));
	for (size_t i = 0; i < k; i++) {
		double x = u[idx[i] * dim + d];
		long b = (long)(x * BINS);
		b = b < 0 ? 0 : b >= BINS ? BINS - 1 : b;
		bins[b] += 1;
	}
	for (size_t j = 0; j < IMP_GRID; j++) {
		double g = ((double)j + 0.5) / IMP_GRID, s = 0;
		for (size_t b = 0; b < BINS; b++) {
			if (bins[b] == 0)
				continue;
			double z = (g - ((double)b + 0.5) / BINS) / h;
			if (z > -6 && z < 6)
				s += bins[b] * exp(-0.5 * z * z);
		}
		p[j] = s;
		total += s;
	}
	for (size_t j = 0; j < IMP_GRID; j++)
		p[j] = total > 0 ? p[j] / total : 1.0 / IMP_GRID;
}

/* Smoothed category frequencies of coordinate d (encoded (c + 0.5) / K). */
static void frequencies(const double *u, size_t dim, size_t d, size_t ncat, const size_t *idx,
                        size_t k, double *p)
{
	for (size_t c = 0; c < ncat; c++)
		p[c] = CAT_PRIOR;
	for (size_t i = 0; i < k; i++) {
		long c = (long)floor(u[idx[i] * dim + d] * (double)ncat);
		c = c < 0 ? 0 : c >= (long)ncat ? (long)ncat - 1 : c;
		p[c] += 1;
	}
	double total = (double)k + CAT_PRIOR * (double)ncat;
	for (size_t c = 0; c < ncat; c++)
		p[c] /= total;
}

static double pearson(const double *top, const double *all, size_t m)
{
	double s = 0;
	for (size_t j = 0; j < m; j++) {
		if (all[j] <= 0)
			continue;
		double r = top[j] / all[j] - 1;
		s += r * r * all[j];
	}
	return s;
}

/* The unnormalised divergence of parameter d. */
static double divergence(const struct space *s, const double *u, size_t d, const size_t *all,
                         size_t n, size_t m, double *work)
{
	const struct space_param *p = &s->params[d];
	double *bins = work, *pt = work + BINS, *pa = pt + IMP_GRID;
	if (p->type == SPACE_CATEGORICAL) {
		size_t K = p->n_categories ? p->n_categories : 1;
		double *ft = malloc(2 * K * sizeof(double));
		if (!ft)
			return NAN;
		frequencies(u, s->n, d, K, all, m, ft);
		frequencies(u, s->n, d, K, all, n, ft + K);
		double v = pearson(ft, ft + K, K);
		free(ft);
		return v;
	}
	density(u, s->n, d, all, m, bins, pt);
	density(u, s->n, d, all, n, bins, pa);
	return pearson(pt, pa, IMP_GRID);
}

int importance_ped_anova(const struct space *s, const double *u, const double *y, size_t n,
                         double *out)
{
	size_t dim = s->n;
	if (n < IMP_MIN_TRIALS || dim == 0)
		return -1;
	struct ranked *r = malloc(n * sizeof(*r));
	size_t *idx = malloc(n * sizeof(*idx));
	double *work = malloc((BINS + 2 * IMP_GRID) * sizeof(double));
	int rc = -1;
	if (!r || !idx || !work)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(y[i]))
			goto out;
		r[i] = (struct ranked){y[i], i};
	}
	qsort(r, n, sizeof(*r), by_y);
	for (size_t i = 0; i < n; i++)
		idx[i] = r[i].i;
	/* The best ceil(gamma n) come first in idx. */
	size_t m = (size_t)ceil(IMP_GAMMA * (double)n);
	m = m < 1 ? 1 : m;
	double total = 0;
	for (size_t d = 0; d < dim; d++) {
		out[d] = r[0].y == r[n - 1].y ? 0 : divergence(s, u, d, idx, n, m, work);
		if (isnan(out[d]))
			goto out;
		total += out[d];
	}
	for (size_t d = 0; d < dim; d++)
		out[d] = total > 0 ? out[d] / total : 1.0 / (double)dim;
	rc = 0;
out:
	free(r);
	free(idx);
	free(work);
	return rc;
}
