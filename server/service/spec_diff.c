#include "spec_diff.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "json_util.h"

#define VAL_LEN 80 /* bytes of a value shown */

struct diff {
	char *why;
	size_t cap;
};

static int diff_value(struct diff *d, const json_t *a, const json_t *b, const char *path,
                      const char *key);

/* A value as a person reads it: strings bare, the rest as JSON, cut. */
static void show(const json_t *v, char *buf, size_t cap)
{
	if (!v) {
		snprintf(buf, cap, "not set");
		return;
	}
	if (json_is_string(v)) {
		snprintf(buf, cap, "%.*s", VAL_LEN, json_string_value(v));
		return;
	}
	char *t = ju_dump(v, JSON_ENCODE_ANY);
	size_t n = t ? strlen(t) : 0;
	if (json_is_real(v) && n > 2 && strcmp(t + n - 2, ".0") == 0)
		t[n - 2] = '\0'; /* 1, as it was written, not 1.0 */
	snprintf(buf, cap, "%.*s%s", VAL_LEN, t ? t : "?", t && strlen(t) > VAL_LEN ? "..." : "");
	free(t);
}

static int differ(struct diff *d, const char *path, const json_t *a, const json_t *b)
{
	char va[VAL_LEN + 8], vb[VAL_LEN + 8];
	show(a, va, sizeof(va));
	show(b, vb, sizeof(vb));
	snprintf(d->why, d->cap, "%s %s (existing) vs %s (requested)", path, va, vb);
	return 1;
}

/* path + key: "parameter \"x\" scaleType", "studyStoppingConfig.maxNumTrials".
 * A conditional child's "parameterSpec" adds nothing: the child is named
 * already. */
static void join(char *out, size_t cap, const char *path, const char *key)
{
	size_t n = strlen(path);
	if (strcmp(key, "parameterSpec") == 0)
		snprintf(out, cap, "%s", path);
	else if (n == 0)
		snprintf(out, cap, "%s", key);
	else
		snprintf(out, cap, "%s%s%s", path, path[n - 1] == '"' ? " " : ".", key);
}

static const json_t *find_by(const json_t *arr, const char *key, const char *id)
{
	size_t i;
	const json_t *x;
	json_array_foreach(arr, i, x)
	{
		const json_t *k = json_object_get(x, key);
		if (strcmp(key, "parameterSpec") == 0)
			k = json_object_get(k, "parameterId");
		if (json_is_string(k) && strcmp(json_string_value(k), id) == 0)
			return x;
	}
	return NULL;
}

static const char *id_of(const json_t *x, const char *key)
{
	const json_t *k = json_object_get(x, key);
	if (strcmp(key, "parameterSpec") == 0)
		k = json_object_get(k, "parameterId");
	return json_is_string(k) ? json_string_value(k) : "";
}

/* Arrays of named members (parameters, children, metrics) matched by name:
 * what (e.g. "parameter") and the member that names them (key). */
static int diff_named(struct diff *d, const json_t *a, const json_t *b, const char *what,
                      const char *key)
{
	size_t i;
	const json_t *x;
	char label[200];
	json_array_foreach(a, i, x)
	{
		const char *id = id_of(x, key);
		const json_t *y = find_by(b, key, id);
		snprintf(label, sizeof(label), "%s \"%.60s\"", what, id);
		if (!y) {
			snprintf(d->why, d->cap,
			         "%s is in the existing spec, not in the requested one", label);
			return 1;
		}
		if (diff_value(d, x, y, label, ""))
			return 1;
	}
	json_array_foreach(b, i, x)
	{
		if (!find_by(a, key, id_of(x, key))) {
			snprintf(d->why, d->cap,
			         "%s \"%.60s\" is in the requested spec, not in the "
			         "existing one",
			         what, id_of(x, key));
			return 1;
		}
	}
	return 0;
}

static int has_value(const json_t *arr, const json_t *v)
{
	size_t i;
	const json_t *x;
	json_array_foreach(arr, i, x) if (json_equal(x, v)) return 1;
	return 0;
}

/* Values whose order means nothing (categorical values, parent values). */
static int diff_set(struct diff *d, const json_t *a, const json_t *b, const char *path)
{
	size_t i;
	const json_t *x;
	char v[VAL_LEN + 8];
	json_array_foreach(a, i, x)
	{
		if (!has_value(b, x)) {
			show(x, v, sizeof(v));
			snprintf(d->why, d->cap,
			         "%s: %s is in the existing spec, not in the requested "
			         "one",
			         path, v);
			return 1;
		}
	}
	json_array_foreach(b, i, x)
	{
		if (!has_value(a, x)) {
			show(x, v, sizeof(v));
			snprintf(d->why, d->cap,
			         "%s: %s is in the requested spec, not in the existing "
			         "one",
			         path, v);
			return 1;
		}
	}
	return 0;
}

/* The objectives (metrics without safetyConfig) in order, joined. */
static void objectives(const json_t *metrics, char *buf, size_t cap, int *n)
{
	size_t i, o = 0;
	const json_t *x;
	*n = 0;
	buf[0] = '\0';
	json_array_foreach(metrics, i, x)
	{
		if (json_object_get(x, "safetyConfig") || o >= cap)
			continue;
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", (*n)++ ? ", " : "",
		                      id_of(x, "metricId"));
	}
}

static int diff_metrics(struct diff *d, const json_t *a, const json_t *b)
{
	if (diff_named(d, a, b, "metric", "metricId"))
		return 1;
	char oa[300], ob[300];
	int na, nb;
	objectives(a, oa, sizeof(oa), &na);
	objectives(b, ob, sizeof(ob), &nb);
	if (na >= 2 && strcmp(oa, ob) != 0) {
		snprintf(d->why, d->cap,
		         "the objectives are in another order: %s (existing) vs %s (requested); "
		         "with several objectives their order matters (the first one chooses the "
		         "BEST_MEASUREMENT measurement)",
		         oa, ob);
		return 1;
	}
	return 0;
}

static int is_set_of_values(const char *path)
{
	static const char *const owners[] = {"categoricalValueSpec", "parentCategoricalValues",
	                                     "parentDiscreteValues", "parentIntValues", NULL};
	for (size_t i = 0; owners[i]; i++) {
		size_t n = strlen(owners[i]), m = strlen(path);
		if (m >= n && strcmp(path + m - n, owners[i]) == 0)
			return 1;
	}
	return 0;
}

/* o's member k, where an absent scaleType means what the API says it
 * means: UNIT_LINEAR_SCALE (so a spec that names the default equals one
 * that leaves it out). */
static const json_t *member(const json_t *o, const char *k, json_t *linear)
{
	const json_t *v = json_object_get(o, k);
	return v || strcmp(k, "scaleType") != 0 ? v : linear;
}

static int diff_object(struct diff *d, const json_t *a, const json_t *b, const char *path)
{
	const char *k;
	const json_t *x;
	char sub[400];
	json_t *linear = json_string("UNIT_LINEAR_SCALE");
	int rc = 0;
	json_object_foreach((json_t *)a, k, x)
	{
		join(sub, sizeof(sub), path, k);
		if ((rc = diff_value(d, x, member(b, k, linear), sub, k)))
			goto out;
	}
	json_object_foreach((json_t *)b, k, x)
	{
		join(sub, sizeof(sub), path, k);
		if (!json_object_get(a, k) && (rc = diff_value(d, member(a, k, linear), x, sub, k)))
			goto out;
	}
out:
	json_decref(linear);
	return rc;
}

/* a and b at path; key is the member they are the value of ("" at the
 * top and for a named member). */
static int diff_value(struct diff *d, const json_t *a, const json_t *b, const char *path,
                      const char *key)
{
	if (!a || !b)
		return differ(d, path, a, b);
	if (json_is_object(a) && json_is_object(b))
		return diff_object(d, a, b, path);
	if (json_is_array(a) && json_is_array(b)) {
		if (strcmp(path, "parameters") == 0)
			return diff_named(d, a, b, "parameter", "parameterId");
		if (strcmp(key, "conditionalParameterSpecs") == 0)
			return diff_named(d, a, b, "parameter", "parameterSpec");
		if (strcmp(path, "metrics") == 0)
			return diff_metrics(d, a, b);
		if (strcmp(key, "values") == 0) {
			char owner[400];
			snprintf(owner, sizeof(owner), "%.*s",
			         (int)(strlen(path) - strlen(".values")), path);
			if (is_set_of_values(owner))
				return diff_set(d, a, b, path);
		}
	}
	return json_equal(a, b) ? 0 : differ(d, path, a, b);
}

int spec_diff(const char *existing, const char *requested, char *why, size_t cap)
{
	struct diff d = {why, cap};
	if (cap)
		why[0] = '\0';
	if (strcmp(existing, requested) == 0)
		return 0;
	json_t *a = json_loads(existing, 0, NULL), *b = json_loads(requested, 0, NULL);
	int rc = a && b ? diff_value(&d, a, b, "", "") : 1;
	if (rc && cap && !why[0])
		snprintf(why, cap, "the specs differ");
	json_decref(a);
	json_decref(b);
	return rc;
}
