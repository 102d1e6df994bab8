#include "pointset.h"

#include "designer.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static uint64_t hash(const double *v, size_t dim)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < dim; i++) {
		/* Equal points must hash alike: one NAN pattern, -0 as 0. */
		double x = isnan(v[i]) ? NAN : v[i] + 0.0;
		uint64_t bits;
		memcpy(&bits, &x, sizeof bits);
		h = mix(h ^ bits) + i;
	}
	return h;
}

static int same(const double *a, const double *b, size_t dim)
{
	for (size_t i = 0; i < dim; i++)
		if (!(a[i] == b[i]) && !(isnan(a[i]) && isnan(b[i])))
			return 0;
	return 1;
}

static int alloc_table(struct pointset *ps, size_t cap)
{
	size_t dim = ps->dim ? ps->dim : 1;
	if (cap > SIZE_MAX / sizeof(double) / dim)
		return -1;
	ps->keys = malloc(cap * dim * sizeof(double));
	ps->full = calloc(cap, 1);
	if (!ps->keys || !ps->full) {
		free(ps->keys);
		free(ps->full);
		ps->keys = NULL;
		ps->full = NULL;
		return -1;
	}
	ps->cap = cap;
	ps->n = 0;
	return 0;
}

int pointset_init(struct pointset *ps, size_t dim)
{
	memset(ps, 0, sizeof *ps);
	ps->dim = dim;
	return alloc_table(ps, 64);
}

void pointset_free(struct pointset *ps)
{
	if (!ps)
		return;
	free(ps->keys);
	free(ps->full);
	ps->keys = NULL;
	ps->full = NULL;
	ps->n = ps->cap = 0;
}

/* The slot holding v, or the empty slot where it would go. */
static size_t find(const struct pointset *ps, const double *v)
{
	size_t mask = ps->cap - 1;
	size_t i = (size_t)hash(v, ps->dim) & mask;
	while (ps->full[i] && !same(ps->keys + i * ps->dim, v, ps->dim))
		i = (i + 1) & mask;
	return i;
}

static int grow(struct pointset *ps)
{
	struct pointset old = *ps;
	if (alloc_table(ps, old.cap * 2) < 0) {
		*ps = old;
		return -1;
	}
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.full[i])
			continue;
		const double *k = old.keys + i * old.dim;
		size_t j = find(ps, k);
		memcpy(ps->keys + j * ps->dim, k, ps->dim * sizeof(double));
		ps->full[j] = 1;
		ps->n++;
	}
	free(old.keys);
	free(old.full);
	return 0;
}

int pointset_add(struct pointset *ps, const double *v)
{
	if (!ps->keys)
		return -1;
	size_t i = find(ps, v);
	if (ps->full[i])
		return 0;
	/* Keep the load under one half so probes stay short. */
	if (2 * (ps->n + 1) > ps->cap) {
		if (grow(ps) < 0)
			return -1;
		i = find(ps, v);
	}
	memcpy(ps->keys + i * ps->dim, v, ps->dim * sizeof(double));
	ps->full[i] = 1;
	ps->n++;
	return 1;
}

int pointset_has(const struct pointset *ps, const double *v)
{
	if (!ps->keys)
		return 0;
	return ps->full[find(ps, v)];
}

int pointset_from_input(struct pointset *ps, const struct designer_input *in)
{
	if (pointset_init(ps, in->space->n) < 0)
		return -1;
	for (size_t k = 0; k < in->n_completed; k++)
		if (pointset_add(ps, in->completed[k].values) < 0)
			goto oom;
	for (size_t k = 0; k < in->n_pending; k++)
		if (pointset_add(ps, in->pending[k]) < 0)
			goto oom;
	return 0;
oom:
	pointset_free(ps);
	return -1;
}
