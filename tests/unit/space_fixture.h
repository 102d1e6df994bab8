/* space_fixture.h: building search spaces in the designer unit tests.
 * Every helper copies what it is given; the space owns it (space_free). */
#ifndef SIBYL_SPACE_FIXTURE_H
#define SIBYL_SPACE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "space.h"

static inline struct space_param *add_num(struct space *s, const char *id, enum space_type t,
                                          enum space_scale sc, double lo, double hi)
{
	struct space_param *p = space_add(s);
	p->id = strdup(id);
	p->type = t;
	p->scale = sc;
	p->min = lo;
	p->max = hi;
	return p;
}

static inline struct space_param *add_disc(struct space *s, const char *id, enum space_scale sc,
                                           const double *vals, size_t n)
{
	struct space_param *p = add_num(s, id, SPACE_DISCRETE, sc, vals[0], vals[n - 1]);
	p->values = malloc(n * sizeof *p->values);
	memcpy(p->values, vals, n * sizeof *vals);
	p->n_values = n;
	return p;
}

static inline struct space_param *add_cat(struct space *s, const char *id, size_t k)
{
	struct space_param *p = add_num(s, id, SPACE_CATEGORICAL, SPACE_LINEAR, 0, 0);
	p->categories = calloc(k, sizeof *p->categories);
	for (size_t i = 0; i < k; i++) {
		char buf[16];
		snprintf(buf, sizeof buf, "c%zu", i);
		p->categories[i] = strdup(buf);
	}
	p->n_categories = k;
	return p;
}

static inline void set_parent(struct space *s, size_t child, int parent, const double *pv, size_t n)
{
	struct space_param *p = &s->params[child];
	p->parent = parent;
	p->parent_values = malloc(n * sizeof *pv);
	memcpy(p->parent_values, pv, n * sizeof *pv);
	p->n_parent_values = n;
}

/* opt (categorical, 3) -> lr (double, log 1e-4..1e-1, active for opt 0 and
 * 2); opt -> layers (integer 1..4, active for opt 1) -> width (discrete
 * 16, 32, 64, active for layers 3 and 4). */
static inline void build_conditional(struct space *s)
{
	add_cat(s, "opt", 3);
	add_num(s, "lr", SPACE_DOUBLE, SPACE_LOG, 1e-4, 1e-1);
	add_num(s, "layers", SPACE_INTEGER, SPACE_LINEAR, 1, 4);
	const double widths[] = {16, 32, 64};
	add_disc(s, "width", SPACE_LINEAR, widths, 3);
	const double pv_lr[] = {0, 2}, pv_layers[] = {1}, pv_width[] = {3, 4};
	set_parent(s, 1, 0, pv_lr, 2);
	set_parent(s, 2, 0, pv_layers, 1);
	set_parent(s, 3, 2, pv_width, 2);
}

#endif
