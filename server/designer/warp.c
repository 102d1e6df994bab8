#include "warp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Index of the first element of the sorted array u[0..n) that is >= v. */
static size_t lower_bound(const double *u, size_t n, double v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (u[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The half-rank warp of the finite values z[0..n) (n >= 1), in place;
 * with clip > 0 the bad half stays linear instead, values below
 * median − clip·(spread of the good half) raised to that bound. */
static int half_rank(double *z, size_t n, double clip)
{
	double *u = malloc(n * sizeof(double));
	if (!u)
		return -1;
	memcpy(u, z, n * sizeof(double));
	qsort(u, n, sizeof(double), cmp_dbl);
	double med = n % 2 ? u[n / 2] : 0.5 * (u[n / 2 - 1] + u[n / 2]);
	size_t nu = 0;
	for (size_t i = 0; i < n; i++)
		if (nu == 0 || u[i] != u[nu - 1])
			u[nu++] = u[i];
	double ss = 0.0;
	size_t ng = 0;
	for (size_t i = 0; i < n; i++)
		if (z[i] >= med) {
			ss += (z[i] - med) * (z[i] - med);
			ng++;
		}
	double sgood = ng ? sqrt(ss / (double)ng) : 0.0;
	if (!(sgood > 0.0)) {
		free(u);
		return 0; /* the good half is flat: nothing to scale by */
	}
	if (clip > 0.0) {
		for (size_t i = 0; i < n; i++)
			z[i] = fmax(z[i], med - clip * sgood);
		free(u);
		return 0;
	}
	size_t below = lower_bound(u, nu, med);
	double den = (double)below + (below < nu && u[below] == med ? 0.5 : 0.0);
	for (size_t i = 0; i < n; i++) {
		if (z[i] >= med)
			continue;
		double rank = (double)lower_bound(u, nu, z[i]) + 1.0;
		double q = 0.5 * (rank - 0.5) / den;
		z[i] = med + sgood * gsl_cdf_ugaussian_Pinv(q);
	}
	free(u);
	return 0;
}

static int fit(struct warp *wp, const double *y, size_t n, int minimize, double clip, double *out)
{
	memset(wp, 0, sizeof(*wp));
	wp->flip = minimize;
	wp->scale = 1.0;
	double fmin_ = INFINITY, fmax_ = -INFINITY;
	size_t nf = 0, nv = 0;
	for (size_t i = 0; i < n; i++) {
		double v = minimize ? -y[i] : y[i];
		if (isfinite(v)) {
			fmin_ = fmin(fmin_, v);
			fmax_ = fmax(fmax_, v);
			nf++;
		}
	}
	double *z = malloc((n ? n : 1) * sizeof(double));
	size_t *idx = malloc((n ? n : 1) * sizeof(size_t));
	if (!z || !idx) {
		free(z);
		free(idx);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		double v = minimize ? -y[i] : y[i];
		out[i] = NAN;
		if (isnan(v))
			continue;
		if (isinf(v)) /* clipped; with no finite value, all infinities tie */
			v = nf ? (v > 0 ? fmax_ : fmin_) : (v > 0 ? 1.0 : -1.0);
		idx[nv] = i;
		z[nv++] = v;
	}
	int rc = 0;
	if (nv == 0)
		goto out;
	if (half_rank(z, nv, clip) < 0) {
		rc = -1;
		goto out;
	}
	double mean = 0.0, var = 0.0;
	for (size_t i = 0; i < nv; i++)
		mean += z[i];
	mean /= (double)nv;
	for (size_t i = 0; i < nv; i++)
		var += (z[i] - mean) * (z[i] - mean);
	double sd = sqrt(var / (double)nv);
	wp->scale = sd > 1e-10 ? sd : 1.0;
	for (size_t i = 0; i < nv; i++)
		out[idx[i]] = (z[i] - mean) / wp->scale;
	/* pairs for the inverse, sorted by warped value (the map is monotone,
	 * so raw values come out sorted too); ties collapse */
	wp->w = malloc(nv * sizeof(double));
	wp->r = malloc(nv * sizeof(double));
	if (!wp->w || !wp->r) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < nv; i++) {
		wp->w[i] = out[idx[i]];
		wp->r[i] = y[idx[i]];
		if (isinf(wp->r[i]))
			wp->r[i] = minimize ? (wp->r[i] > 0 ? -fmin_ : -fmax_)
			                    : (wp->r[i] > 0 ? fmax_ : fmin_);
	}
	/* (warped, raw) pairs sorted by the warped value; cmp_dbl reads the
	 * first double of each pair */
	double *pk = malloc(2 * nv * sizeof(double));
	if (!pk) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < nv; i++) {
		pk[2 * i] = wp->w[i];
		pk[2 * i + 1] = wp->r[i];
	}
	qsort(pk, nv, 2 * sizeof(double), cmp_dbl);
	size_t m = 0;
	for (size_t i = 0; i < nv; i++) {
		if (m && pk[2 * i] == wp->w[m - 1])
			continue;
		wp->w[m] = pk[2 * i];
		wp->r[m] = pk[2 * i + 1];
		m++;
	}
	wp->n = m;
	free(pk);
	rc = (int)nv;
out:
	free(z);
	free(idx);
	return rc;
}

int warp_fit(struct warp *wp, const double *y, size_t n, int minimize, double *out)
{
	return fit(wp, y, n, minimize, 0.0, out);
}

int warp_fit_noisy(struct warp *wp, const double *y, size_t n, int minimize, double *out)
{
	return fit(wp, y, n, minimize, WARP_NOISY_CLIP, out);
}

double warp_inverse(const struct warp *wp, double v, double *slope)
{
	size_t n = wp->n;
	double s = 1.0;
	double res;
	if (n == 0) {
		res = wp->flip ? -v : v;
	} else if (n == 1) {
		s = wp->scale;
		res = wp->r[0] + (wp->flip ? -1.0 : 1.0) * (v - wp->w[0]) * s;
	} else {
		/* Outside the observed range, extend with the slope of the
		 * nearest segment; inside, interpolate linearly. */
		size_t k = lower_bound(wp->w, n, v);
		if (k == 0)
			k = 1;
		if (k >= n)
			k = n - 1;
		double w0 = wp->w[k - 1], w1 = wp->w[k], r0 = wp->r[k - 1], r1 = wp->r[k];
		double sl = (r1 - r0) / (w1 - w0);
		res = r0 + sl * (v - w0);
		s = fabs(sl);
	}
	if (slope)
		*slope = s;
	return res;
}

void warp_free(struct warp *wp)
{
	if (!wp)
		return;
	free(wp->w);
	free(wp->r);
	wp->w = wp->r = NULL;
	wp->n = 0;
}
