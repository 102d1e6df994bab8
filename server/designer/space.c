#include "space.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXACT 9007199254740992.0 /* 2^53 */

void space_free(struct space *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		struct space_param *p = &s->params[i];
		free(p->id);
		free(p->values);
		for (size_t k = 0; k < p->n_categories; k++)
			free(p->categories[k]);
		free(p->categories);
		free(p->parent_values);
	}
	free(s->params);
	s->params = NULL;
	s->n = 0;
}

struct space_param *space_add(struct space *s)
{
	struct space_param *np = realloc(s->params, (s->n + 1) * sizeof *np);
	if (!np)
		return NULL;
	s->params = np;
	struct space_param *p = &np[s->n++];
	memset(p, 0, sizeof *p);
	p->type = SPACE_DOUBLE;
	p->scale = SPACE_LINEAR;
	p->default_value = NAN;
	p->parent = -1;
	return p;
}

int space_find(const struct space *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->params[i].id && strcmp(s->params[i].id, id) == 0)
			return (int)i;
	return -1;
}

int space_active(const struct space *s, const double *v, size_t i)
{
	const struct space_param *p = &s->params[i];
	if (p->parent < 0)
		return 1;
	/* A parent at or after i is a malformed space; never recurse on it. */
	if ((size_t)p->parent >= i || !space_active(s, v, (size_t)p->parent))
		return 0;
	double pv = v[p->parent];
	if (isnan(pv))
		return 0;
	for (size_t k = 0; k < p->n_parent_values; k++)
		if (p->parent_values[k] == pv)
			return 1;
	return 0;
}

/* The monotone increasing map of the scale. lo and hi are the parameter's
 * own bounds: the reverse log mirrors around them, -log(lo + hi - x),
 * computed as lo + (hi - x): (lo + hi) - x loses lo when hi/lo is above
 * about 2^53 (lo + hi rounds to hi) and gave -log(0) at x = hi, so that a
 * range such as [1, 1e20] decoded every point to its minimum. Likewise the
 * inverse subtracts exp(-t) - lo (the distance to hi) from hi. */
static double scale_fwd(enum space_scale sc, double lo, double hi, double x)
{
	switch (sc) {
	case SPACE_LOG:
		return log(x);
	case SPACE_REVERSE_LOG:
		return -log(lo + (hi - x));
	default:
		return x;
	}
}

static double scale_inv(enum space_scale sc, double lo, double hi, double t)
{
	switch (sc) {
	case SPACE_LOG:
		return exp(t);
	case SPACE_REVERSE_LOG:
		return hi - (exp(-t) - lo);
	default:
		return t;
	}
}

static double disc_scaled(const struct space_param *p, size_t k)
{
	return scale_fwd(p->scale, p->values[0], p->values[p->n_values - 1], p->values[k]);
}

/* The scaled interval [*a, *b] that maps onto [0, 1]. */
static void scaled_range(const struct space_param *p, double *a, double *b)
{
	switch (p->type) {
	case SPACE_INTEGER:
		*a = scale_fwd(p->scale, p->min, p->max, p->min - 0.5);
		*b = scale_fwd(p->scale, p->min, p->max, p->max + 0.5);
		return;
	case SPACE_DISCRETE: {
		size_t n = p->n_values;
		double s0 = disc_scaled(p, 0), sn = disc_scaled(p, n - 1);
		if (n == 1) {
			*a = s0 - 0.5;
			*b = s0 + 0.5;
			return;
		}
		*a = s0 - 0.5 * (disc_scaled(p, 1) - s0);
		*b = sn + 0.5 * (sn - disc_scaled(p, n - 2));
		return;
	}
	default:
		*a = scale_fwd(p->scale, p->min, p->max, p->min);
		*b = scale_fwd(p->scale, p->min, p->max, p->max);
		return;
	}
}

static double clamp01(double u)
{
	if (isnan(u))
		return 0.5;
	return u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u;
}

double space_param_encode(const struct space_param *p, double x)
{
	if (isnan(x))
		return 0.5;
	if (p->type == SPACE_CATEGORICAL) {
		if (p->n_categories == 0)
			return 0.5;
		return clamp01((x + 0.5) / (double)p->n_categories);
	}
	if (p->type == SPACE_DISCRETE && p->n_values == 0)
		return 0.5;
	if (p->type == SPACE_DOUBLE) {
		/* The ends map exactly, whatever the rounding of the scale. */
		if (x <= p->min)
			return p->max > p->min ? 0.0 : 0.5;
		if (x >= p->max)
			return 1.0;
	}
	double a, b;
	scaled_range(p, &a, &b);
	double lo = p->type == SPACE_DISCRETE ? p->values[0] : p->min;
	double hi = p->type == SPACE_DISCRETE ? p->values[p->n_values - 1] : p->max;
	double t = scale_fwd(p->scale, lo, hi, x);
	if (!(b > a) || !isfinite(a) || !isfinite(b))
		return 0.5;
	return clamp01((t - a) / (b - a));
}

static double decode_discrete(const struct space_param *p, double t)
{
	/* Find the first value whose upper cell edge (midpoint to the next
	 * value, in the scaled space) lies above t. */
	size_t lo = 0, hi = p->n_values - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		double edge = 0.5 * (disc_scaled(p, mid) + disc_scaled(p, mid + 1));
		if (t < edge)
			hi = mid;
		else
			lo = mid + 1;
	}
	return p->values[lo];
}

double space_param_decode(const struct space_param *p, double u)
{
	u = clamp01(u);
	if (p->type == SPACE_CATEGORICAL) {
		if (p->n_categories == 0)
			return NAN;
		double k = floor(u * (double)p->n_categories);
		return k > (double)(p->n_categories - 1) ? (double)(p->n_categories - 1) : k;
	}
	if (p->type == SPACE_DISCRETE && p->n_values == 0)
		return NAN;
	if (p->type == SPACE_DOUBLE) {
		if (u <= 0.0 || !(p->max > p->min))
			return p->min;
		if (u >= 1.0)
			return p->max;
	}
	double a, b;
	scaled_range(p, &a, &b);
	if (!(b > a) || !isfinite(a) || !isfinite(b))
		return p->type == SPACE_DISCRETE ? p->values[0] : p->min;
	double t = a + u * (b - a);
	if (p->type == SPACE_DISCRETE)
		return decode_discrete(p, t);
	double x = scale_inv(p->scale, p->min, p->max, t);
	if (p->type == SPACE_INTEGER)
		x = round(x) + 0.0; /* + 0.0 turns -0 into 0 */
	/* exp(log(max)) may round above max; NaN cannot come out of a checked
	 * space but must not escape either. */
	if (!(x >= p->min))
		x = p->min;
	if (x > p->max)
		x = p->max;
	return x;
}

void space_encode(const struct space *s, const double *v, double *u)
{
	for (size_t i = 0; i < s->n; i++)
		u[i] = space_active(s, v, i) ? space_param_encode(&s->params[i], v[i]) : 0.5;
}

void space_decode(const struct space *s, const double *u, double *v)
{
	/* Parents come first, so a child's activity is known when we reach it. */
	for (size_t i = 0; i < s->n; i++) {
		v[i] = space_param_decode(&s->params[i], u[i]);
		if (!space_active(s, v, i))
			v[i] = NAN;
	}
}

void space_snap(const struct space *s, double *u)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct space_param *p = &s->params[i];
		if (p->type == SPACE_DOUBLE)
			u[i] = clamp01(u[i]);
		else
			u[i] = space_param_encode(p, space_param_decode(p, u[i]));
	}
	/* Activity depends on the decoded parents: mark inactive children. */
	double stackbuf[64];
	double *v = s->n <= 64 ? stackbuf : malloc(s->n * sizeof *v);
	if (!v)
		return; /* out of memory: children keep their (valid) coordinates */
	space_decode(s, u, v);
	for (size_t i = 0; i < s->n; i++)
		if (isnan(v[i]))
			u[i] = 0.5;
	if (v != stackbuf)
		free(v);
}

static const char *pid(const struct space_param *p)
{
	return p->id ? p->id : "(unnamed)";
}

static int in_domain(const struct space_param *p, double x)
{
	if (!isfinite(x))
		return 0;
	switch (p->type) {
	case SPACE_DOUBLE:
		return x >= p->min && x <= p->max;
	case SPACE_INTEGER:
		return x == floor(x) && x >= p->min && x <= p->max;
	case SPACE_DISCRETE:
		for (size_t k = 0; k < p->n_values; k++)
			if (p->values[k] == x)
				return 1;
		return 0;
	case SPACE_CATEGORICAL:
		return x == floor(x) && x >= 0 && x < (double)p->n_categories;
	}
	return 0;
}

int space_valid(const struct space *s, const double *v, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct space_param *p = &s->params[i];
		int active = space_active(s, v, i);
		if (active && isnan(v[i])) {
			if (err)
				snprintf(err, errlen, "parameter %s is missing", pid(p));
			return 0;
		}
		if (!active && !isnan(v[i])) {
			if (err)
				snprintf(err, errlen,
				         "parameter %s is set but is inactive: its parent %s does "
				         "not take a value that activates it",
				         pid(p),
				         p->parent >= 0 && (size_t)p->parent < s->n
				             ? pid(&s->params[p->parent])
				             : "(invalid)");
			return 0;
		}
		if (!active || in_domain(p, v[i]))
			continue;
		if (!err)
			return 0;
		switch (p->type) {
		case SPACE_DOUBLE:
			snprintf(err, errlen, "parameter %s = %.17g is outside [%.17g, %.17g]",
			         pid(p), v[i], p->min, p->max);
			break;
		case SPACE_INTEGER:
			snprintf(err, errlen,
			         "parameter %s = %.17g is not an integer in [%.17g, %.17g]", pid(p),
			         v[i], p->min, p->max);
			break;
		case SPACE_DISCRETE:
			snprintf(err, errlen,
			         "parameter %s = %.17g is not one of its discrete values", pid(p),
			         v[i]);
			break;
		case SPACE_CATEGORICAL:
			snprintf(err, errlen,
			         "parameter %s: category index %.17g is not in [0, %zu)", pid(p),
			         v[i], p->n_categories);
			break;
		}
		return 0;
	}
	return 1;
}

int space_equal(const struct space *s, const double *a, const double *b)
{
	for (size_t i = 0; i < s->n; i++) {
		if (isnan(a[i]) && isnan(b[i]))
			continue;
		if (!(a[i] == b[i]))
			return 0;
	}
	return 1;
}

int space_check(const struct space *s, char *err, size_t errlen)
{
	if (!s || s->n == 0 || !s->params) {
		snprintf(err, errlen, "the search space has no parameters");
		return -1;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct space_param *p = &s->params[i];
		const char *id = pid(p);
		if (p->parent >= (int)i) {
			snprintf(err, errlen,
			         "parameter %s: its parent must come before it in the space", id);
			return -1;
		}
		if (p->parent >= 0 && (p->n_parent_values == 0 || !p->parent_values)) {
			snprintf(err, errlen,
			         "parameter %s: a conditional parameter needs parent values", id);
			return -1;
		}
		switch (p->type) {
		case SPACE_CATEGORICAL:
			if (p->n_categories == 0 || !p->categories) {
				snprintf(err, errlen, "parameter %s: no categories", id);
				return -1;
			}
			continue;
		case SPACE_DISCRETE:
			if (p->n_values == 0 || !p->values) {
				snprintf(err, errlen, "parameter %s: no discrete values", id);
				return -1;
			}
			for (size_t k = 0; k < p->n_values; k++) {
				if (!isfinite(p->values[k]) ||
				    (k > 0 && !(p->values[k] > p->values[k - 1]))) {
					snprintf(err, errlen,
					         "parameter %s: discrete values must be finite and "
					         "increasing",
					         id);
					return -1;
				}
			}
			if (p->scale != SPACE_LINEAR && !(p->values[0] > 0)) {
				snprintf(
				    err, errlen,
				    "parameter %s: a log or reverse-log scale needs values > 0",
				    id);
				return -1;
			}
			continue;
		case SPACE_INTEGER:
			if (p->min != floor(p->min) || p->max != floor(p->max)) {
				snprintf(err, errlen,
				         "parameter %s: integer bounds must be integers", id);
				return -1;
			}
			if (p->scale != SPACE_LINEAR && !(p->min >= 1)) {
				snprintf(err, errlen,
				         "parameter %s: a log or reverse-log integer scale needs "
				         "minValue >= 1",
				         id);
				return -1;
			}
			/* fall through */
		case SPACE_DOUBLE:
			if (!isfinite(p->min) || !isfinite(p->max) || !(p->min <= p->max)) {
				snprintf(
				    err, errlen,
				    "parameter %s: bounds must be finite with minValue <= maxValue",
				    id);
				return -1;
			}
			if (fabs(p->min) > MAX_EXACT || fabs(p->max) > MAX_EXACT) {
				if (p->type == SPACE_INTEGER) {
					snprintf(err, errlen,
					         "parameter %s: integer bounds must be within 2^53",
					         id);
					return -1;
				}
			}
			if (p->scale != SPACE_LINEAR && !(p->min > 0)) {
				snprintf(
				    err, errlen,
				    "parameter %s: a log or reverse-log scale needs minValue > 0",
				    id);
				return -1;
			}
			continue;
		}
	}
	return 0;
}

/* Points of the subtree rooted at parameter i: each value of i, times the
 * points of the children that value activates. INFINITY when a DOUBLE is
 * in the subtree. */
static double subtree_count(const struct space *s, size_t i)
{
	const struct space_param *p = &s->params[i];
	if (p->type == SPACE_DOUBLE)
		return INFINITY;
	double dom = p->type == SPACE_INTEGER    ? p->max - p->min + 1.0
	             : p->type == SPACE_DISCRETE ? (double)p->n_values
	                                         : (double)p->n_categories;
	double total = 0.0, n_activating = 0.0;
	/* Each distinct activating value of i, once: children whose parent
	 * values list it multiply together. */
	for (size_t c = i + 1; c < s->n; c++) {
		const struct space_param *cp = &s->params[c];
		if (cp->parent != (int)i)
			continue;
		for (size_t k = 0; k < cp->n_parent_values; k++) {
			double x = cp->parent_values[k];
			if (!in_domain(p, x))
				continue;
			int seen = 0;
			for (size_t c2 = i + 1; c2 <= c && !seen; c2++) {
				const struct space_param *q = &s->params[c2];
				if (q->parent != (int)i)
					continue;
				size_t lim = c2 == c ? k : q->n_parent_values;
				for (size_t k2 = 0; k2 < lim; k2++)
					if (q->parent_values[k2] == x) {
						seen = 1;
						break;
					}
			}
			if (seen)
				continue;
			double prod = 1.0;
			for (size_t c3 = i + 1; c3 < s->n; c3++) {
				const struct space_param *r = &s->params[c3];
				if (r->parent != (int)i)
					continue;
				for (size_t k3 = 0; k3 < r->n_parent_values; k3++)
					if (r->parent_values[k3] == x) {
						prod *= subtree_count(s, c3);
						break;
					}
			}
			total += prod;
			n_activating += 1.0;
		}
	}
	return total + (dom - n_activating);
}

double space_cardinality(const struct space *s)
{
	double total = 1.0;
	/* A DOUBLE anywhere, even a rarely active child, makes it infinite. */
	for (size_t i = 0; i < s->n; i++)
		if (s->params[i].type == SPACE_DOUBLE)
			return 0.0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->params[i].parent >= 0)
			continue;
		total *= subtree_count(s, i);
		if (!(total <= MAX_EXACT))
			return 0.0;
	}
	return total;
}
