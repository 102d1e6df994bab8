/* spec_params: ParameterSpec validation (the four value specs, scales,
 * conditional children flattened after their parent) for spec.c. */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "json_util.h"
#include "spec_internal.h"

static int parse_scale(const json_t *v, const char *path, enum space_scale *out, int *given,
                       struct err *e)
{
	const char *s;
	int rc = ju_string(v, path, 64, &s, e);
	if (rc)
		return rc;
	*given = 1;
	if (strcmp(s, "UNIT_LINEAR_SCALE") == 0)
		*out = SPACE_LINEAR;
	else if (strcmp(s, "UNIT_LOG_SCALE") == 0)
		*out = SPACE_LOG;
	else if (strcmp(s, "UNIT_REVERSE_LOG_SCALE") == 0)
		*out = SPACE_REVERSE_LOG;
	else if (strcmp(s, "SCALE_TYPE_UNSPECIFIED") == 0)
		*given = 0, *out = SPACE_LINEAR;
	else
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "%s must be UNIT_LINEAR_SCALE, UNIT_LOG_SCALE or "
		               "UNIT_REVERSE_LOG_SCALE, not \"%.40s\"",
		               path, s);
	return 0;
}

static const char *scale_name(enum space_scale s)
{
	return s == SPACE_LOG           ? "UNIT_LOG_SCALE"
	       : s == SPACE_REVERSE_LOG ? "UNIT_REVERSE_LOG_SCALE"
	                                : "UNIT_LINEAR_SCALE";
}

static json_t *int_json(double v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%.0f", v);
	return json_string(buf);
}

/* The encoding (space.c) works with max - min, doubled by the padding of
 * discrete values, and with min + max on the reverse-log scale: a range so
 * wide that these overflow would make every point decode to an end. */
static int check_span(struct spec_ctx *c, const char *path, const struct space_param *p)
{
	if (!isfinite(2 * (p->max - p->min)) || !isfinite(p->max + p->min))
		return err_set(c->e, ERR_INVALID_ARGUMENT,
		               "%s spans [%g, %g], too wide to search: max - min must be below %g",
		               path, p->min, p->max, DBL_MAX / 2);
	return 0;
}

/* minValue/maxValue/defaultValue of a double or integer spec. */
static int parse_range(struct spec_ctx *c, const json_t *v, const char *path, int integer,
                       struct space_param *p, json_t *canon)
{
	static const char *const fields[] = {"minValue", "maxValue", "defaultValue", NULL};
	char fp[PATH_LEN];
	int rc;
	if ((rc = ju_object(v, path, c->e)) || (rc = ju_only_fields(v, path, fields, c->e)))
		return rc;
	double *dst[3] = {&p->min, &p->max, &p->default_value};
	for (int i = 0; i < 3; i++) {
		const json_t *x = json_object_get(v, fields[i]);
		ju_path(fp, sizeof(fp), "%s.%s", path, fields[i]);
		if (!x) {
			if (i < 2)
				return err_set(c->e, ERR_INVALID_ARGUMENT, "%s is required", fp);
			continue;
		}
		if (integer) {
			int64_t iv;
			if ((rc = ju_int64(x, fp, &iv, c->e)))
				return rc;
			if (fabs((double)iv) > MAX_EXACT_INT)
				return err_set(c->e, ERR_INVALID_ARGUMENT,
				               "%s must be within +-2^53", fp);
			*dst[i] = (double)iv;
			json_object_set_new(canon, fields[i], int_json((double)iv));
		} else {
			if ((rc = ju_double(x, fp, dst[i], c->e)))
				return rc;
			json_object_set_new(canon, fields[i], json_real(*dst[i]));
		}
	}
	if (integer ? p->min > p->max : p->min >= p->max)
		return err_set(c->e, ERR_INVALID_ARGUMENT,
		               "%s.minValue must be %s maxValue (%g vs %g)", path,
		               integer ? "<=" : "<", p->min, p->max);
	if ((rc = check_span(c, path, p)))
		return rc;
	if (!isnan(p->default_value) && (p->default_value < p->min || p->default_value > p->max))
		return err_set(c->e, ERR_INVALID_ARGUMENT,
		               "%s.defaultValue %g is outside [minValue, maxValue] = [%g, %g]",
		               path, p->default_value, p->min, p->max);
	return 0;
}

/* What DISCRETE and CATEGORICAL share: an object of {values, defaultValue}
 * whose values is a non-empty array of at most max_cats items. */
static int values_list(struct spec_ctx *c, const json_t *v, const char *path,
                       const json_t **vals /* OUT */, size_t *n /* OUT */)
{
	static const char *const fields[] = {"values", "defaultValue", NULL};
	char fp[PATH_LEN];
	int rc;
	if ((rc = ju_object(v, path, c->e)) || (rc = ju_only_fields(v, path, fields, c->e)))
		return rc;
	*vals = json_object_get(v, "values");
	ju_path(fp, sizeof(fp), "%s.values", path);
	if (!*vals)
		return err_set(c->e, ERR_INVALID_ARGUMENT, "%s is required", fp);
	if ((rc = ju_array(*vals, fp, c->max_cats, c->e)))
		return rc;
	*n = json_array_size(*vals);
	if (*n == 0)
		return err_set(c->e, ERR_INVALID_ARGUMENT, "%s must not be empty", fp);
	return 0;
}

static int parse_discrete(struct spec_ctx *c, const json_t *v, const char *path,
                          struct space_param *p, json_t *canon)
{
	char fp[PATH_LEN];
	const json_t *vals;
	size_t n;
	int rc = values_list(c, v, path, &vals, &n);
	if (rc)
		return rc;
	p->values = malloc(n * sizeof(double));
	if (!p->values)
		return spec_oom(c->e);
	json_t *cv = json_array();
	json_object_set_new(canon, "values", cv);
	for (size_t i = 0; i < n; i++) {
		ju_path(fp, sizeof(fp), "%s.values[%zu]", path, i);
		if ((rc = ju_double(json_array_get(vals, i), fp, &p->values[i], c->e)))
			return rc;
		p->n_values = i + 1;
		if (i > 0 && p->values[i] <= p->values[i - 1])
			return err_set(
			    c->e, ERR_INVALID_ARGUMENT,
			    "%s must be greater than the value before it (values must be "
			    "strictly increasing)",
			    fp);
		json_array_append_new(cv, json_real(p->values[i]));
	}
	p->min = p->values[0];
	p->max = p->values[n - 1];
	if ((rc = check_span(c, path, p)))
		return rc;
	const json_t *d = json_object_get(v, "defaultValue");
	if (d) {
		ju_path(fp, sizeof(fp), "%s.defaultValue", path);
		if ((rc = ju_double(d, fp, &p->default_value, c->e)))
			return rc;
		int found = 0;
		for (size_t i = 0; i < n; i++)
			found |= p->values[i] == p->default_value;
		if (!found)
			return err_set(c->e, ERR_INVALID_ARGUMENT, "%s %g is not one of the values",
			               fp, p->default_value);
		json_object_set_new(canon, "defaultValue", json_real(p->default_value));
	}
	return 0;
}

static int parse_categorical(struct spec_ctx *c, const json_t *v, const char *path,
                             struct space_param *p, json_t *canon)
{
	char fp[PATH_LEN];
	const json_t *vals;
	size_t n;
	int rc = values_list(c, v, path, &vals, &n);
	if (rc)
		return rc;
	p->categories = calloc(n, sizeof(char *));
	if (!p->categories)
		return spec_oom(c->e);
	json_t *cv = json_array();
	json_object_set_new(canon, "values", cv);
	for (size_t i = 0; i < n; i++) {
		const char *s;
		ju_path(fp, sizeof(fp), "%s.values[%zu]", path, i);
		if ((rc = ju_string(json_array_get(vals, i), fp, c->max_str, &s, c->e)))
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(p->categories[j], s) == 0)
				return err_set(c->e, ERR_INVALID_ARGUMENT,
				               "%s \"%.60s\" repeats values[%zu]", fp, s, j);
		}
		if (!(p->categories[i] = spec_strdup(s)))
			return spec_oom(c->e);
		p->n_categories = i + 1;
		json_array_append_new(cv, json_string(s));
	}
	const json_t *d = json_object_get(v, "defaultValue");
	if (d) {
		const char *s;
		ju_path(fp, sizeof(fp), "%s.defaultValue", path);
		if ((rc = ju_string(d, fp, c->max_str, &s, c->e)))
			return rc;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(p->categories[i], s) == 0)
				p->default_value = (double)i;
		}
		if (isnan(p->default_value))
			return err_set(c->e, ERR_INVALID_ARGUMENT,
			               "%s \"%.60s\" is not one of the values", fp, s);
		json_object_set_new(canon, "defaultValue", json_string(s));
	}
	return 0;
}

/* One conditionalParameterSpecs entry of parameter pi. */
static int parse_conditional(struct spec_ctx *c, const json_t *v, const char *path, int pi,
                             json_t **canon_out)
{
	static const char *const fields[] = {"parameterSpec", "parentDiscreteValues",
	                                     "parentIntValues", "parentCategoricalValues", NULL};
	static const char *const vfields[] = {"values", NULL};
	char fp[PATH_LEN];
	int rc;
	if ((rc = ju_object(v, path, c->e)) || (rc = ju_only_fields(v, path, fields, c->e)))
		return rc;
	enum space_type pt = c->s->space.params[pi].type;
	const char *want = pt == SPACE_DISCRETE  ? "parentDiscreteValues"
	                   : pt == SPACE_INTEGER ? "parentIntValues"
	                                         : "parentCategoricalValues";
	int given = 0;
	for (int i = 1; i < 4; i++)
		given += json_object_get(v, fields[i]) != NULL;
	if (given != 1 || !json_object_get(v, want))
		return err_set(
		    c->e, ERR_INVALID_ARGUMENT,
		    "%s must have exactly one of parentDiscreteValues, parentIntValues, "
		    "parentCategoricalValues, and it must be %s for a parent of that type",
		    path, want);
	const json_t *pv = json_object_get(v, want);
	ju_path(fp, sizeof(fp), "%s.%s", path, want);
	if ((rc = ju_object(pv, fp, c->e)) || (rc = ju_only_fields(pv, fp, vfields, c->e)))
		return rc;
	const json_t *vals = json_object_get(pv, "values");
	ju_path(fp, sizeof(fp), "%s.%s.values", path, want);
	if (!vals)
		return err_set(c->e, ERR_INVALID_ARGUMENT, "%s is required", fp);
	if ((rc = ju_array(vals, fp, c->max_cats, c->e)))
		return rc;
	size_t n = json_array_size(vals);
	if (n == 0)
		return err_set(c->e, ERR_INVALID_ARGUMENT, "%s must not be empty", fp);
	double *pvals = malloc(n * sizeof(double));
	if (!pvals)
		return spec_oom(c->e);
	json_t *canon = json_object(), *cvals = json_array(), *cpv = json_object();
	json_object_set_new(cpv, "values", cvals);
	json_object_set_new(canon, want, cpv);
	*canon_out = canon;
	for (size_t i = 0; i < n; i++) {
		const json_t *x = json_array_get(vals, i);
		const struct space_param *par = &c->s->space.params[pi];
		char ip[PATH_LEN];
		ju_path(ip, sizeof(ip), "%s[%zu]", fp, i);
		if (pt == SPACE_INTEGER) {
			int64_t iv;
			if ((rc = ju_int64(x, ip, &iv, c->e)))
				goto fail;
			pvals[i] = (double)iv;
			if (pvals[i] < par->min || pvals[i] > par->max) {
				rc = err_set(c->e, ERR_INVALID_ARGUMENT,
				             "%s %.0f is outside the parent's range", ip, pvals[i]);
				goto fail;
			}
			json_array_append_new(cvals, int_json(pvals[i]));
		} else if (pt == SPACE_DISCRETE) {
			if ((rc = ju_double(x, ip, &pvals[i], c->e)))
				goto fail;
			int found = 0;
			for (size_t j = 0; j < par->n_values; j++)
				found |= par->values[j] == pvals[i];
			if (!found) {
				rc = err_set(c->e, ERR_INVALID_ARGUMENT,
				             "%s %g is not one of the parent's values", ip,
				             pvals[i]);
				goto fail;
			}
			json_array_append_new(cvals, json_real(pvals[i]));
		} else {
			const char *s;
			if ((rc = ju_string(x, ip, c->max_str, &s, c->e)))
				goto fail;
			pvals[i] = NAN;
			for (size_t j = 0; j < par->n_categories; j++) {
				if (strcmp(par->categories[j], s) == 0)
					pvals[i] = (double)j;
			}
			if (isnan(pvals[i])) {
				rc = err_set(c->e, ERR_INVALID_ARGUMENT,
				             "%s \"%.60s\" is not one of the parent's values", ip,
				             s);
				goto fail;
			}
			json_array_append_new(cvals, json_string(s));
		}
	}
	const json_t *ps = json_object_get(v, "parameterSpec");
	ju_path(fp, sizeof(fp), "%s.parameterSpec", path);
	if (!ps) {
		rc = err_set(c->e, ERR_INVALID_ARGUMENT, "%s is required", fp);
		goto fail;
	}
	size_t child = c->s->space.n;
	json_t *cps = NULL;
	rc = spec_parse_param(c, ps, fp, pi, &cps);
	if (cps)
		json_object_set_new(canon, "parameterSpec", cps);
	if (rc)
		goto fail;
	c->s->space.params[child].parent_values = pvals;
	c->s->space.params[child].n_parent_values = n;
	return 0;
fail:
	free(pvals);
	return rc;
}

int spec_parse_param(struct spec_ctx *c, const json_t *v, const char *path, int parent,
                     json_t **canon_out)
{
	static const char *const fields[] = {"parameterId",
	                                     "doubleValueSpec",
	                                     "integerValueSpec",
	                                     "categoricalValueSpec",
	                                     "discreteValueSpec",
	                                     "scaleType",
	                                     "conditionalParameterSpecs",
	                                     NULL};
	static const char *const kinds[] = {"doubleValueSpec", "integerValueSpec",
	                                    "discreteValueSpec", "categoricalValueSpec"};
	static const enum space_type types[] = {SPACE_DOUBLE, SPACE_INTEGER, SPACE_DISCRETE,
	                                        SPACE_CATEGORICAL};
	char fp[PATH_LEN];
	int rc;
	if ((rc = ju_object(v, path, c->e)) || (rc = ju_only_fields(v, path, fields, c->e)))
		return rc;
	if (c->max_params > 0 && c->s->space.n >= (size_t)c->max_params)
		return err_set(
		    c->e, ERR_INVALID_ARGUMENT,
		    "%s: the study has more than the limit of %d parameters (conditional "
		    "children included)",
		    path, c->max_params);
	const char *id;
	const json_t *idv = json_object_get(v, "parameterId");
	ju_path(fp, sizeof(fp), "%s.parameterId", path);
	if (!idv)
		return err_set(c->e, ERR_INVALID_ARGUMENT, "%s is required", fp);
	if ((rc = ju_string(idv, fp, c->max_str, &id, c->e)))
		return rc;
	if (space_find(&c->s->space, id) >= 0)
		return err_set(c->e, ERR_INVALID_ARGUMENT,
		               "%s \"%.60s\" is used by another parameter (ids must be unique, "
		               "conditional children included)",
		               fp, id);
	int kind = -1;
	for (int k = 0; k < 4; k++) {
		if (json_object_get(v, kinds[k])) {
			if (kind >= 0)
				return err_set(c->e, ERR_INVALID_ARGUMENT,
				               "%s has both %s and %s; give exactly one value spec",
				               path, kinds[kind], kinds[k]);
			kind = k;
		}
	}
	if (kind < 0)
		return err_set(
		    c->e, ERR_INVALID_ARGUMENT,
		    "%s needs one of doubleValueSpec, integerValueSpec, discreteValueSpec, "
		    "categoricalValueSpec",
		    path);
	size_t idx = c->s->space.n;
	struct space_param *p = space_add(&c->s->space);
	if (!p)
		return spec_oom(c->e);
	p->parent = parent;
	p->type = types[kind];
	p->default_value = NAN;
	if (!(p->id = spec_strdup(id)))
		return spec_oom(c->e);
	json_t *canon = json_object();
	*canon_out = canon;
	json_object_set_new(canon, "parameterId", json_string(id));
	json_t *cspec = json_object();
	json_object_set_new(canon, kinds[kind], cspec);
	ju_path(fp, sizeof(fp), "%s.%s", path, kinds[kind]);
	const json_t *sv = json_object_get(v, kinds[kind]);
	if (p->type == SPACE_DOUBLE || p->type == SPACE_INTEGER)
		rc = parse_range(c, sv, fp, p->type == SPACE_INTEGER, p, cspec);
	else if (p->type == SPACE_DISCRETE)
		rc = parse_discrete(c, sv, fp, p, cspec);
	else
		rc = parse_categorical(c, sv, fp, p, cspec);
	if (rc)
		return rc;
	const json_t *scv = json_object_get(v, "scaleType");
	if (scv) {
		int given = 0;
		ju_path(fp, sizeof(fp), "%s.scaleType", path);
		if ((rc = parse_scale(scv, fp, &p->scale, &given, c->e)))
			return rc;
		if (p->type == SPACE_CATEGORICAL && p->scale != SPACE_LINEAR)
			return err_set(c->e, ERR_INVALID_ARGUMENT,
			               "%s %s is not allowed for a categorical parameter", fp,
			               scale_name(p->scale));
		if (p->type == SPACE_CATEGORICAL)
			given = 0;
		if (p->scale != SPACE_LINEAR) {
			double lo_bound = p->type == SPACE_INTEGER ? 1 : 0;
			int ok = p->type == SPACE_INTEGER ? p->min >= 1 : p->min > 0;
			if (!ok)
				return err_set(c->e, ERR_INVALID_ARGUMENT,
				               "%s %s needs every value %s %g (the smallest is %g)",
				               fp, scale_name(p->scale), lo_bound > 0 ? ">=" : ">",
				               lo_bound, p->min);
		}
		if (given)
			json_object_set_new(canon, "scaleType", json_string(scale_name(p->scale)));
	}
	const json_t *conds = json_object_get(v, "conditionalParameterSpecs");
	if (conds) {
		ju_path(fp, sizeof(fp), "%s.conditionalParameterSpecs", path);
		if ((rc = ju_array(conds, fp, 0, c->e)))
			return rc;
		if (p->type == SPACE_DOUBLE && json_array_size(conds) > 0)
			return err_set(
			    c->e, ERR_INVALID_ARGUMENT,
			    "%s: a double parameter cannot have conditional children (its "
			    "values cannot be matched exactly)",
			    fp);
		json_t *ccs = json_array();
		json_object_set_new(canon, "conditionalParameterSpecs", ccs);
		for (size_t i = 0; i < json_array_size(conds); i++) {
			char cp[PATH_LEN];
			json_t *cc = NULL;
			ju_path(cp, sizeof(cp), "%s[%zu]", fp, i);
			rc = parse_conditional(c, json_array_get(conds, i), cp, (int)idx, &cc);
			if (cc)
				json_array_append_new(ccs, cc);
			if (rc)
				return rc;
		}
	}
	return 0;
}
