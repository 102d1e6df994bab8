#include "spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json_util.h"

#define PATH_LEN 384
/* Integers travel through doubles in value space: keep them exact. */
#define MAX_EXACT_INT 9007199254740992.0

struct ctx {
	struct spec *s;
	struct err *e;
	int max_params;
	size_t max_cats;
	int max_str;
	size_t max_metrics;
};

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static int oom(struct err *e)
{
	return err_set(e, ERR_INTERNAL, "out of memory");
}

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

/* minValue/maxValue/defaultValue of a double or integer spec. */
static int parse_range(struct ctx *c, const json_t *v, const char *path, int integer,
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
	if (!isnan(p->default_value) && (p->default_value < p->min || p->default_value > p->max))
		return err_set(c->e, ERR_INVALID_ARGUMENT,
		               "%s.defaultValue %g is outside [minValue, maxValue] = [%g, %g]",
		               path, p->default_value, p->min, p->max);
	return 0;
}

static int parse_discrete(struct ctx *c, const json_t *v, const char *path, struct space_param *p,
                          json_t *canon)
{
	static const char *const fields[] = {"values", "defaultValue", NULL};
	char fp[PATH_LEN];
	int rc;
	if ((rc = ju_object(v, path, c->e)) || (rc = ju_only_fields(v, path, fields, c->e)))
		return rc;
	const json_t *vals = json_object_get(v, "values");
	ju_path(fp, sizeof(fp), "%s.values", path);
	if (!vals)
		return err_set(c->e, ERR_INVALID_ARGUMENT, "%s is required", fp);
	if ((rc = ju_array(vals, fp, c->max_cats, c->e)))
		return rc;
	size_t n = json_array_size(vals);
	if (n == 0)
		return err_set(c->e, ERR_INVALID_ARGUMENT, "%s must not be empty", fp);
	p->values = malloc(n * sizeof(double));
	if (!p->values)
		return oom(c->e);
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

static int parse_categorical(struct ctx *c, const json_t *v, const char *path,
                             struct space_param *p, json_t *canon)
{
	static const char *const fields[] = {"values", "defaultValue", NULL};
	char fp[PATH_LEN];
	int rc;
	if ((rc = ju_object(v, path, c->e)) || (rc = ju_only_fields(v, path, fields, c->e)))
		return rc;
	const json_t *vals = json_object_get(v, "values");
	ju_path(fp, sizeof(fp), "%s.values", path);
	if (!vals)
		return err_set(c->e, ERR_INVALID_ARGUMENT, "%s is required", fp);
	if ((rc = ju_array(vals, fp, c->max_cats, c->e)))
		return rc;
	size_t n = json_array_size(vals);
	if (n == 0)
		return err_set(c->e, ERR_INVALID_ARGUMENT, "%s must not be empty", fp);
	p->categories = calloc(n, sizeof(char *));
	if (!p->categories)
		return oom(c->e);
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
		if (!(p->categories[i] = xstrdup(s)))
			return oom(c->e);
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

static int parse_param(struct ctx *c, const json_t *v, const char *path, int parent,
                       json_t **canon_out);

/* One conditionalParameterSpecs entry of parameter pi. */
static int parse_conditional(struct ctx *c, const json_t *v, const char *path, int pi,
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
		return oom(c->e);
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
	rc = parse_param(c, ps, fp, pi, &cps);
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

static int parse_param(struct ctx *c, const json_t *v, const char *path, int parent,
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
		return oom(c->e);
	p->parent = parent;
	p->type = types[kind];
	p->default_value = NAN;
	if (!(p->id = xstrdup(id)))
		return oom(c->e);
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

static int parse_metrics(struct ctx *c, const json_t *v, const char *path, json_t *canon)
{
	static const char *const fields[] = {"metricId", "goal", "safetyConfig", NULL};
	static const char *const sfields[] = {"safetyThreshold", "desiredMinSafeTrialsFraction",
	                                      NULL};
	char fp[PATH_LEN];
	int rc;
	struct spec *s = c->s;
	if ((rc = ju_array(v, path, c->max_metrics, c->e)))
		return rc;
	size_t n = json_array_size(v);
	if (n == 0)
		return err_set(c->e, ERR_INVALID_ARGUMENT, "%s needs at least one metric", path);
	s->metrics = calloc(n, sizeof(*s->metrics));
	s->dmetrics = calloc(n, sizeof(*s->dmetrics));
	if (!s->metrics || !s->dmetrics)
		return oom(c->e);
	json_t *cms = json_array();
	json_object_set_new(canon, "metrics", cms);
	for (size_t i = 0; i < n; i++) {
		const json_t *m = json_array_get(v, i);
		char mp[PATH_LEN];
		ju_path(mp, sizeof(mp), "%s[%zu]", path, i);
		if ((rc = ju_object(m, mp, c->e)) || (rc = ju_only_fields(m, mp, fields, c->e)))
			return rc;
		const char *id, *goal;
		ju_path(fp, sizeof(fp), "%s.metricId", mp);
		if (!json_object_get(m, "metricId"))
			return err_set(c->e, ERR_INVALID_ARGUMENT, "%s is required", fp);
		if ((rc = ju_string(json_object_get(m, "metricId"), fp, c->max_str, &id, c->e)))
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(s->metrics[j].id, id) == 0)
				return err_set(c->e, ERR_INVALID_ARGUMENT,
				               "%s \"%.60s\" repeats metrics[%zu]", fp, id, j);
		}
		ju_path(fp, sizeof(fp), "%s.goal", mp);
		if (!json_object_get(m, "goal"))
			return err_set(c->e, ERR_INVALID_ARGUMENT,
			               "%s is required (MAXIMIZE or MINIMIZE)", fp);
		if ((rc = ju_string(json_object_get(m, "goal"), fp, 64, &goal, c->e)))
			return rc;
		struct spec_metric *sm = &s->metrics[i];
		if (strcmp(goal, "MAXIMIZE") == 0)
			sm->goal = DESIGNER_MAXIMIZE;
		else if (strcmp(goal, "MINIMIZE") == 0)
			sm->goal = DESIGNER_MINIMIZE;
		else
			return err_set(c->e, ERR_INVALID_ARGUMENT,
			               "%s must be MAXIMIZE or MINIMIZE, not \"%.40s\"", fp, goal);
		if (!(sm->id = xstrdup(id)))
			return oom(c->e);
		s->n_metrics = i + 1;
		json_t *cm = json_object();
		json_array_append_new(cms, cm);
		json_object_set_new(cm, "metricId", json_string(id));
		json_object_set_new(cm, "goal", json_string(goal));
		const json_t *sc = json_object_get(m, "safetyConfig");
		if (sc) {
			ju_path(fp, sizeof(fp), "%s.safetyConfig", mp);
			if ((rc = ju_object(sc, fp, c->e)) ||
			    (rc = ju_only_fields(sc, fp, sfields, c->e)))
				return rc;
			json_t *csc = json_object();
			json_object_set_new(cm, "safetyConfig", csc);
			const json_t *t = json_object_get(sc, "safetyThreshold");
			ju_path(fp, sizeof(fp), "%s.safetyConfig.safetyThreshold", mp);
			if (!t)
				return err_set(c->e, ERR_INVALID_ARGUMENT, "%s is required", fp);
			if ((rc = ju_double(t, fp, &sm->safety_threshold, c->e)))
				return rc;
			json_object_set_new(csc, "safetyThreshold",
			                    json_real(sm->safety_threshold));
			const json_t *f = json_object_get(sc, "desiredMinSafeTrialsFraction");
			if (f) {
				ju_path(fp, sizeof(fp),
				        "%s.safetyConfig.desiredMinSafeTrialsFraction", mp);
				if ((rc = ju_double(f, fp, &sm->desired_min_safe_fraction, c->e)))
					return rc;
				if (sm->desired_min_safe_fraction < 0 ||
				    sm->desired_min_safe_fraction > 1)
					return err_set(c->e, ERR_INVALID_ARGUMENT,
					               "%s must be in [0, 1]", fp);
				json_object_set_new(csc, "desiredMinSafeTrialsFraction",
				                    json_real(sm->desired_min_safe_fraction));
			}
			sm->safety = 1;
		} else {
			s->n_objectives++;
		}
		s->dmetrics[i].goal = sm->goal;
		s->dmetrics[i].safety = sm->safety;
		s->dmetrics[i].safety_threshold = sm->safety_threshold;
	}
	if (s->n_objectives == 0)
		return err_set(c->e, ERR_INVALID_ARGUMENT,
		               "%s needs at least one objective (a metric without safetyConfig)",
		               path);
	return 0;
}

/* Int32Value fields of studyStoppingConfig: 1..2^31-1. */
static int parse_count(const json_t *v, const char *path, int64_t *out, json_t *canon,
                       const char *key, struct err *e)
{
	int rc = ju_int64(v, path, out, e);
	if (rc)
		return rc;
	if (*out < 1 || *out > 2147483647)
		return err_set(e, ERR_INVALID_ARGUMENT, "%s must be in [1, 2147483647]", path);
	json_object_set_new(canon, key, json_integer(*out));
	return 0;
}

static int parse_time_constraint(const json_t *v, const char *path, int64_t *dur, int64_t *end,
                                 json_t **canon_out, struct err *e)
{
	static const char *const fields[] = {"maxDuration", "endTime", NULL};
	char fp[PATH_LEN];
	int rc;
	if ((rc = ju_object(v, path, e)) || (rc = ju_only_fields(v, path, fields, e)))
		return rc;
	json_t *canon = json_object();
	*canon_out = canon;
	const json_t *d = json_object_get(v, "maxDuration"), *t = json_object_get(v, "endTime");
	if (d && t)
		return err_set(e, ERR_INVALID_ARGUMENT, "%s: give maxDuration or endTime, not both",
		               path);
	if (d) {
		char buf[48];
		ju_path(fp, sizeof(fp), "%s.maxDuration", path);
		if ((rc = ju_duration(d, fp, dur, e)))
			return rc;
		ju_format_duration(*dur, buf, sizeof(buf));
		json_object_set_new(canon, "maxDuration", json_string(buf));
	}
	if (t) {
		char buf[48];
		ju_path(fp, sizeof(fp), "%s.endTime", path);
		if ((rc = ju_time(t, fp, end, e)))
			return rc;
		ju_format_time(*end, buf, sizeof(buf));
		json_object_set_new(canon, "endTime", json_string(buf));
	}
	return 0;
}

static int parse_stopping(struct ctx *c, const json_t *v, const char *path, json_t *canon)
{
	static const char *const fields[] = {"maxNumTrials",
	                                     "maxNumTrialsNoProgress",
	                                     "maxDurationNoProgress",
	                                     "minNumTrials",
	                                     "shouldStopAsap",
	                                     "maximumRuntimeConstraint",
	                                     "minimumRuntimeConstraint",
	                                     NULL};
	char fp[PATH_LEN];
	int rc;
	struct spec *s = c->s;
	if ((rc = ju_object(v, path, c->e)) || (rc = ju_only_fields(v, path, fields, c->e)))
		return rc;
	int64_t *counts[] = {&s->max_num_trials, &s->max_num_trials_no_progress, NULL,
	                     &s->min_num_trials};
	for (int i = 0; i < 4; i++) {
		const json_t *x = json_object_get(v, fields[i]);
		if (!x || !counts[i])
			continue;
		ju_path(fp, sizeof(fp), "%s.%s", path, fields[i]);
		if ((rc = parse_count(x, fp, counts[i], canon, fields[i], c->e)))
			return rc;
	}
	const json_t *x = json_object_get(v, "maxDurationNoProgress");
	if (x) {
		char buf[48];
		ju_path(fp, sizeof(fp), "%s.maxDurationNoProgress", path);
		if ((rc = ju_duration(x, fp, &s->max_duration_no_progress_ns, c->e)))
			return rc;
		if (s->max_duration_no_progress_ns == 0)
			return err_set(c->e, ERR_INVALID_ARGUMENT, "%s must be > 0s", fp);
		ju_format_duration(s->max_duration_no_progress_ns, buf, sizeof(buf));
		json_object_set_new(canon, "maxDurationNoProgress", json_string(buf));
	}
	if ((x = json_object_get(v, "shouldStopAsap"))) {
		ju_path(fp, sizeof(fp), "%s.shouldStopAsap", path);
		if ((rc = ju_bool(x, fp, &s->should_stop_asap, c->e)))
			return rc;
		json_object_set_new(canon, "shouldStopAsap", json_boolean(s->should_stop_asap));
	}
	const char *tc[] = {"maximumRuntimeConstraint", "minimumRuntimeConstraint"};
	int64_t *durs[] = {&s->max_runtime_ns, &s->min_runtime_ns};
	int64_t *ends[] = {&s->max_runtime_end_ms, &s->min_runtime_end_ms};
	for (int i = 0; i < 2; i++) {
		if (!(x = json_object_get(v, tc[i])))
			continue;
		json_t *cc = NULL;
		ju_path(fp, sizeof(fp), "%s.%s", path, tc[i]);
		rc = parse_time_constraint(x, fp, durs[i], ends[i], &cc, c->e);
		if (cc)
			json_object_set_new(canon, tc[i], cc);
		if (rc)
			return rc;
	}
	if (s->max_num_trials && s->min_num_trials && s->min_num_trials > s->max_num_trials)
		return err_set(c->e, ERR_INVALID_ARGUMENT,
		               "%s.minNumTrials must be <= maxNumTrials", path);
	return 0;
}

static int parse_enum(const json_t *v, const char *path, const char *const *names,
                      const char *unspecified, int *out, const char **name, struct err *e)
{
	const char *s;
	int rc = ju_string(v, path, 64, &s, e);
	if (rc)
		return rc;
	if (unspecified && strcmp(s, unspecified) == 0) {
		*out = -1;
		return 0;
	}
	for (int i = 0; names[i]; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			*name = names[i];
			return 0;
		}
	}
	char list[256] = "";
	size_t o = 0;
	for (int i = 0; names[i] && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", names[i]);
	return err_set(e, ERR_INVALID_ARGUMENT, "%s must be one of %s, not \"%.40s\"", path, list,
	               s);
}

int spec_parse(const json_t *v, const char *path, const struct config *cfg, struct spec *out,
               char **canonical, struct err *e)
{
	static const char *const fields[] = {"metrics",
	                                     "parameters",
	                                     "algorithm",
	                                     "observationNoise",
	                                     "measurementSelectionType",
	                                     "medianAutomatedStoppingSpec",
	                                     "studyStoppingConfig",
	                                     "staleTrialTimeout",
	                                     "seed",
	                                     "decayCurveStoppingSpec",
	                                     "convexStopConfig",
	                                     NULL};
	static const char *const algos[] = {"GAUSSIAN_PROCESS_EI", "RANDOM_SEARCH",
	                                    "QUASI_RANDOM_SEARCH", "GRID_SEARCH", NULL};
	static const enum designer_algorithm algo_ids[] = {DESIGNER_GP_EI, DESIGNER_RANDOM,
	                                                   DESIGNER_QUASI_RANDOM, DESIGNER_GRID};
	static const char *const noises[] = {"LOW", "HIGH", NULL};
	static const char *const selections[] = {"LAST_MEASUREMENT", "BEST_MEASUREMENT", NULL};
	char fp[PATH_LEN];
	int rc;
	memset(out, 0, sizeof(*out));
	out->algorithm = DESIGNER_GP_EI;
	out->algorithm_name = "ALGORITHM_UNSPECIFIED";
	struct ctx c = {.s = out, .e = e};
	if (cfg) {
		c.max_params = cfg->max_parameters;
		c.max_cats = cfg->max_categories > 0 ? (size_t)cfg->max_categories : 0;
		c.max_str = cfg->max_string_len;
		c.max_metrics = cfg->max_metrics > 0 ? (size_t)cfg->max_metrics : 0;
	}
	json_t *canon = json_object();
	if (!canon)
		return oom(e);
	if ((rc = ju_object(v, path, e)) || (rc = ju_only_fields(v, path, fields, e)))
		goto out;
	const char *unsupported[] = {"decayCurveStoppingSpec", "convexStopConfig"};
	for (int i = 0; i < 2; i++) {
		if (json_object_get(v, unsupported[i])) {
			rc = err_set(e, ERR_INVALID_ARGUMENT,
			             "%s.%s is not supported by this server (see docs/api.md)",
			             path, unsupported[i]);
			goto out;
		}
	}
	const json_t *x = json_object_get(v, "metrics");
	ju_path(fp, sizeof(fp), "%s.metrics", path);
	if (!x) {
		rc = err_set(e, ERR_INVALID_ARGUMENT, "%s is required", fp);
		goto out;
	}
	if ((rc = parse_metrics(&c, x, fp, canon)))
		goto out;
	x = json_object_get(v, "parameters");
	ju_path(fp, sizeof(fp), "%s.parameters", path);
	if (!x) {
		rc = err_set(e, ERR_INVALID_ARGUMENT, "%s is required", fp);
		goto out;
	}
	if ((rc = ju_array(x, fp, 0, e)))
		goto out;
	if (json_array_size(x) == 0) {
		rc = err_set(e, ERR_INVALID_ARGUMENT, "%s needs at least one parameter", fp);
		goto out;
	}
	json_t *cps = json_array();
	json_object_set_new(canon, "parameters", cps);
	for (size_t i = 0; i < json_array_size(x); i++) {
		char pp[PATH_LEN];
		json_t *cp = NULL;
		ju_path(pp, sizeof(pp), "%s[%zu]", fp, i);
		rc = parse_param(&c, json_array_get(x, i), pp, -1, &cp);
		if (cp)
			json_array_append_new(cps, cp);
		if (rc)
			goto out;
	}
	int k;
	const char *name = NULL;
	if ((x = json_object_get(v, "algorithm"))) {
		ju_path(fp, sizeof(fp), "%s.algorithm", path);
		if ((rc = parse_enum(x, fp, algos, "ALGORITHM_UNSPECIFIED", &k, &name, e)))
			goto out;
		if (k >= 0) {
			out->algorithm = algo_ids[k];
			out->algorithm_name = name;
			json_object_set_new(canon, "algorithm", json_string(name));
		}
	}
	if ((x = json_object_get(v, "observationNoise"))) {
		ju_path(fp, sizeof(fp), "%s.observationNoise", path);
		if ((rc = parse_enum(x, fp, noises, "OBSERVATION_NOISE_UNSPECIFIED", &k, &name, e)))
			goto out;
		if (k >= 0) {
			out->noise_high = k == 1;
			json_object_set_new(canon, "observationNoise", json_string(name));
		}
	}
	if ((x = json_object_get(v, "measurementSelectionType"))) {
		ju_path(fp, sizeof(fp), "%s.measurementSelectionType", path);
		if ((rc = parse_enum(x, fp, selections, "MEASUREMENT_SELECTION_TYPE_UNSPECIFIED",
		                     &k, &name, e)))
			goto out;
		if (k >= 0) {
			out->best_measurement = k == 1;
			json_object_set_new(canon, "measurementSelectionType", json_string(name));
		}
	}
	if ((x = json_object_get(v, "medianAutomatedStoppingSpec"))) {
		static const char *const mf[] = {"useElapsedDuration", NULL};
		ju_path(fp, sizeof(fp), "%s.medianAutomatedStoppingSpec", path);
		if ((rc = ju_object(x, fp, e)) || (rc = ju_only_fields(x, fp, mf, e)))
			goto out;
		json_t *cm = json_object();
		json_object_set_new(canon, "medianAutomatedStoppingSpec", cm);
		const json_t *u = json_object_get(x, "useElapsedDuration");
		if (u) {
			ju_path(fp, sizeof(fp), "%s.medianAutomatedStoppingSpec.useElapsedDuration",
			        path);
			if ((rc = ju_bool(u, fp, &out->median_use_elapsed, e)))
				goto out;
		}
		json_object_set_new(cm, "useElapsedDuration",
		                    json_boolean(out->median_use_elapsed));
		out->has_median_stopping = 1;
	}
	if ((x = json_object_get(v, "studyStoppingConfig"))) {
		json_t *cs = json_object();
		json_object_set_new(canon, "studyStoppingConfig", cs);
		ju_path(fp, sizeof(fp), "%s.studyStoppingConfig", path);
		if ((rc = parse_stopping(&c, x, fp, cs)))
			goto out;
	}
	if ((x = json_object_get(v, "staleTrialTimeout"))) {
		char buf[48];
		ju_path(fp, sizeof(fp), "%s.staleTrialTimeout", path);
		if ((rc = ju_duration(x, fp, &out->stale_timeout_ns, e)))
			goto out;
		ju_format_duration(out->stale_timeout_ns, buf, sizeof(buf));
		json_object_set_new(canon, "staleTrialTimeout", json_string(buf));
	}
	if ((x = json_object_get(v, "seed"))) {
		int64_t seed;
		char buf[32];
		ju_path(fp, sizeof(fp), "%s.seed", path);
		if ((rc = ju_int64(x, fp, &seed, e)))
			goto out;
		out->seed = (uint64_t)seed;
		out->has_seed = 1;
		snprintf(buf, sizeof(buf), "%lld", (long long)seed);
		json_object_set_new(canon, "seed", json_string(buf));
	}
	if (canonical) {
		*canonical = ju_canonical(canon);
		if (!*canonical)
			rc = oom(e);
	}
out:
	json_decref(canon);
	if (rc)
		spec_free(out);
	return rc;
}

int spec_parse_text(const char *json_text, struct spec *out, struct err *e)
{
	json_error_t je;
	json_t *v = json_loads(json_text, 0, &je);
	if (!v)
		return err_set(e, ERR_INTERNAL, "stored study spec is not JSON: %s", je.text);
	int rc = spec_parse(v, "studySpec", NULL, out, NULL, e);
	json_decref(v);
	if (rc)
		e->code = ERR_INTERNAL;
	return rc ? -(int)ERR_INTERNAL : 0;
}

void spec_free(struct spec *s)
{
	if (!s)
		return;
	space_free(&s->space);
	for (size_t i = 0; i < s->n_metrics; i++)
		free(s->metrics[i].id);
	free(s->metrics);
	free(s->dmetrics);
	memset(s, 0, sizeof(*s));
}

int spec_metric_index(const struct spec *s, const char *id)
{
	for (size_t i = 0; i < s->n_metrics; i++) {
		if (strcmp(s->metrics[i].id, id) == 0)
			return (int)i;
	}
	return -1;
}
