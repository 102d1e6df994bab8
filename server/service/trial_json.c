#include "trial_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"

const char *const tj_trial_state_names[] = {"",          "REQUESTED",  "ACTIVE", "STOPPING",
                                            "SUCCEEDED", "INFEASIBLE", NULL};

const char *tj_trial_state(int state)
{
	return state >= 1 && state <= 5 ? tj_trial_state_names[state] : "STATE_UNSPECIFIED";
}

const char *tj_study_state(int state)
{
	switch (state) {
	case STUDY_ACTIVE:
		return "ACTIVE";
	case STUDY_INACTIVE:
		return "INACTIVE";
	case STUDY_COMPLETED:
		return "COMPLETED";
	default:
		return "STATE_UNSPECIFIED";
	}
}

json_t *tj_load(const char *text)
{
	if (!text)
		return NULL;
	return json_loads(text, JSON_DECODE_ANY, NULL);
}

static int value_of(const struct space_param *p, const json_t *x, const char *path, double *out,
                    struct err *e)
{
	if (p->type == SPACE_CATEGORICAL) {
		if (!json_is_string(x))
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "%s must be a string: %s is categorical", path, p->id);
		const char *s = json_string_value(x);
		for (size_t i = 0; i < p->n_categories; i++) {
			if (strcmp(p->categories[i], s) == 0) {
				*out = (double)i;
				return 0;
			}
		}
		return err_set(e, ERR_INVALID_ARGUMENT, "%s \"%.60s\" is not a value of %s", path,
		               s, p->id);
	}
	int rc = ju_double(x, path, out, e);
	if (rc)
		return rc;
	if (p->type == SPACE_INTEGER && *out != floor(*out))
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "%s must be an integer: %s is an integer "
		               "parameter",
		               path, p->id);
	return 0;
}

int tj_params_parse(const struct spec *sp, const json_t *params, const char *path, double *v,
                    struct err *e)
{
	static const char *const fields[] = {"parameterId", "value", NULL};
	const struct space *s = &sp->space;
	char fp[256];
	int rc;
	if ((rc = ju_array(params, path, 0, e)))
		return rc;
	for (size_t i = 0; i < s->n; i++)
		v[i] = NAN;
	for (size_t i = 0; i < json_array_size(params); i++) {
		const json_t *p = json_array_get(params, i);
		char pp[200];
		ju_path(pp, sizeof(pp), "%s[%zu]", path, i);
		if ((rc = ju_object(p, pp, e)) || (rc = ju_only_fields(p, pp, fields, e)))
			return rc;
		const char *id;
		ju_path(fp, sizeof(fp), "%s.parameterId", pp);
		if (!json_object_get(p, "parameterId"))
			return err_set(e, ERR_INVALID_ARGUMENT, "%s is required", fp);
		if ((rc = ju_string(json_object_get(p, "parameterId"), fp, 0, &id, e)))
			return rc;
		int k = space_find(s, id);
		if (k < 0)
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "%s \"%.60s\" is not a parameter of the "
			               "study",
			               fp, id);
		if (!isnan(v[k]))
			return err_set(e, ERR_INVALID_ARGUMENT, "%s \"%.60s\" is given twice", fp,
			               id);
		ju_path(fp, sizeof(fp), "%s.value", pp);
		if (!json_object_get(p, "value"))
			return err_set(e, ERR_INVALID_ARGUMENT, "%s is required", fp);
		if ((rc = value_of(&s->params[k], json_object_get(p, "value"), fp, &v[k], e)))
			return rc;
	}
	char why[256];
	if (!space_valid(s, v, why, sizeof(why)))
		return err_set(e, ERR_INVALID_ARGUMENT, "%s: %s", path, why);
	return 0;
}

int tj_params_load(const struct spec *sp, const char *params_json, double *v, struct err *e)
{
	json_t *p = tj_load(params_json);
	if (!p)
		return err_set(e, ERR_INTERNAL, "stored trial parameters are not JSON");
	int rc = tj_params_parse(sp, p, "parameters", v, e);
	json_decref(p);
	if (rc)
		return err_set(e, ERR_INTERNAL, "stored trial parameters do not fit the study: %s",
		               e->msg);
	return 0;
}

json_t *tj_params_json(const struct space *s, const double *v)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++) {
		if (isnan(v[i]))
			continue;
		const struct space_param *p = &s->params[i];
		json_t *val;
		if (p->type == SPACE_CATEGORICAL) {
			size_t k = (size_t)v[i];
			val = json_string(k < p->n_categories ? p->categories[k] : "");
		} else if (p->type == SPACE_INTEGER) {
			val = json_integer((json_int_t)v[i]);
		} else {
			val = json_real(v[i]);
		}
		json_t *o = json_object();
		json_object_set_new(o, "parameterId", json_string(p->id));
		json_object_set_new(o, "value", val);
		json_array_append_new(a, o);
	}
	return a;
}

int tj_measurement_parse(const json_t *m, const char *path, const struct spec *sp, json_t **canon,
                         struct err *e)
{
	static const char *const fields[] = {"elapsedDuration", "stepCount", "metrics", NULL};
	static const char *const mfields[] = {"metricId", "value", NULL};
	char fp[256];
	int rc;
	*canon = NULL;
	if ((rc = ju_object(m, path, e)) || (rc = ju_only_fields(m, path, fields, e)))
		return rc;
	json_t *c = json_object();
	const json_t *x;
	if ((x = json_object_get(m, "elapsedDuration"))) {
		int64_t ns;
		char buf[48];
		ju_path(fp, sizeof(fp), "%s.elapsedDuration", path);
		if ((rc = ju_duration(x, fp, &ns, e)))
			goto fail;
		ju_format_duration(ns, buf, sizeof(buf));
		json_object_set_new(c, "elapsedDuration", json_string(buf));
	}
	if ((x = json_object_get(m, "stepCount"))) {
		int64_t step;
		char buf[32];
		ju_path(fp, sizeof(fp), "%s.stepCount", path);
		if ((rc = ju_int64(x, fp, &step, e)))
			goto fail;
		if (step < 0) {
			rc = err_set(e, ERR_INVALID_ARGUMENT, "%s must be >= 0", fp);
			goto fail;
		}
		snprintf(buf, sizeof(buf), "%" PRId64, step);
		json_object_set_new(c, "stepCount", json_string(buf));
	}
	x = json_object_get(m, "metrics");
	ju_path(fp, sizeof(fp), "%s.metrics", path);
	if (!x) {
		rc = err_set(e, ERR_INVALID_ARGUMENT, "%s is required", fp);
		goto fail;
	}
	if ((rc = ju_array(x, fp, 0, e)))
		goto fail;
	if (json_array_size(x) == 0) {
		rc = err_set(e, ERR_INVALID_ARGUMENT, "%s needs at least one metric", fp);
		goto fail;
	}
	json_t *cms = json_array();
	json_object_set_new(c, "metrics", cms);
	unsigned char seen[256] = {0};
	for (size_t i = 0; i < json_array_size(x); i++) {
		const json_t *mv = json_array_get(x, i);
		char mp[200];
		ju_path(mp, sizeof(mp), "%s.metrics[%zu]", path, i);
		if ((rc = ju_object(mv, mp, e)) || (rc = ju_only_fields(mv, mp, mfields, e)))
			goto fail;
		const char *id;
		double val;
		ju_path(fp, sizeof(fp), "%s.metricId", mp);
		if (!json_object_get(mv, "metricId")) {
			rc = err_set(e, ERR_INVALID_ARGUMENT, "%s is required", fp);
			goto fail;
		}
		if ((rc = ju_string(json_object_get(mv, "metricId"), fp, 0, &id, e)))
			goto fail;
		int k = spec_metric_index(sp, id);
		if (k < 0) {
			char list[200] = "";
			size_t o = 0;
			for (size_t j = 0; j < sp->n_metrics && o < sizeof(list); j++)
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
				                      j ? ", " : "", sp->metrics[j].id);
			rc =
			    err_set(e, ERR_INVALID_ARGUMENT,
			            "%s \"%.60s\" is not a metric of the study (%s)", fp, id, list);
			goto fail;
		}
		if (k < 256 && seen[k]++) {
			rc =
			    err_set(e, ERR_INVALID_ARGUMENT, "%s \"%.60s\" is given twice", fp, id);
			goto fail;
		}
		ju_path(fp, sizeof(fp), "%s.value", mp);
		if (!json_object_get(mv, "value")) {
			rc = err_set(e, ERR_INVALID_ARGUMENT, "%s is required", fp);
			goto fail;
		}
		if ((rc = ju_double(json_object_get(mv, "value"), fp, &val, e)))
			goto fail;
		json_t *cm = json_object();
		json_object_set_new(cm, "metricId", json_string(id));
		json_object_set_new(cm, "value", json_real(val));
		json_array_append_new(cms, cm);
	}
	*canon = c;
	return 0;
fail:
	json_decref(c);
	return rc;
}

void tj_measurement_metrics(const json_t *m, const struct spec *sp, double *out)
{
	for (size_t i = 0; i < sp->n_metrics; i++)
		out[i] = NAN;
	const json_t *ms = m ? json_object_get(m, "metrics") : NULL;
	for (size_t i = 0; i < json_array_size(ms); i++) {
		const json_t *mv = json_array_get(ms, i);
		const char *id = json_string_value(json_object_get(mv, "metricId"));
		int k = id ? spec_metric_index(sp, id) : -1;
		if (k >= 0 && json_is_number(json_object_get(mv, "value")))
			out[k] = json_number_value(json_object_get(mv, "value"));
	}
}

static void set_time(json_t *o, const char *key, int64_t ms)
{
	char buf[48];
	if (ms <= 0)
		return;
	ju_format_time(ms, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

json_t *tj_measurements(const char *joined)
{
	if (!joined || !*joined)
		return json_array();
	size_t n = strlen(joined);
	char *text = malloc(n + 3);
	if (!text)
		return NULL;
	text[0] = '[';
	memcpy(text + 1, joined, n);
	memcpy(text + 1 + n, "]", 2);
	json_t *a = tj_load(text);
	free(text);
	return json_is_array(a) ? a : (json_decref(a), NULL);
}

static int has_text(const char *s)
{
	return s && *s;
}

/* The Trial's members that are strings (name, id, state, times, clientId,
 * infeasibleReason): what both renderings encode. New reference. */
static json_t *trial_strings(const char *owner, const char *study, const struct store_trial *t)
{
	char buf[600];
	json_t *o = json_object();
	snprintf(buf, sizeof(buf), "owners/%s/studies/%s/trials/%" PRId64, owner, study, t->id);
	json_object_set_new(o, "name", json_string(buf));
	snprintf(buf, sizeof(buf), "%" PRId64, t->id);
	json_object_set_new(o, "id", json_string(buf));
	json_object_set_new(o, "state", json_string(tj_trial_state(t->state)));
	set_time(o, "startTime", t->start_time);
	set_time(o, "endTime", t->end_time);
	if (has_text(t->client_id))
		json_object_set_new(o, "clientId", json_string(t->client_id));
	if (has_text(t->infeasible_reason))
		json_object_set_new(o, "infeasibleReason", json_string(t->infeasible_reason));
	return o;
}

json_t *tj_trial(const char *owner, const char *study, const struct store_trial *t,
                 const json_t *measurements)
{
	json_t *o = trial_strings(owner, study, t);
	json_t *p = tj_load(t->params_json);
	json_object_set_new(o, "parameters", p ? p : json_array());
	json_t *f = tj_load(t->final_json);
	if (f)
		json_object_set_new(o, "finalMeasurement", f);
	if (json_array_size(measurements) > 0)
		json_object_set(o, "measurements", (json_t *)measurements);
	json_t *info = tj_load(t->info_json);
	if (info)
		json_object_set_new(o, "suggestionInfo", info);
	json_t *md = tj_load(t->metadata_json);
	if (md)
		json_object_set_new(o, "metadata", md);
	return o;
}

/* Appends key and raw JSON text to the object text in buf (which ends with
 * its closing brace at *n - 1). buf has room (see tj_trial_text). */
static void add_raw(char *buf, size_t *n, const char *key, const char *raw)
{
	size_t k = strlen(key), r = strlen(raw);
	size_t at = *n - 1; /* over the closing brace */
	buf[at++] = ',';
	buf[at++] = '"';
	memcpy(buf + at, key, k);
	at += k;
	buf[at++] = '"';
	buf[at++] = ':';
	memcpy(buf + at, raw, r);
	at += r;
	buf[at++] = '}';
	buf[at] = '\0';
	*n = at;
}

char *tj_trial_text(const char *owner, const char *study, const struct store_trial *t,
                    const char *measurements)
{
	/* The members with numbers in them (parameters, measurements,
	 * suggestionInfo) are stored as canonical JSON text: copied in as they
	 * are, since parsing and printing their numbers again was most of the
	 * cost of an answer. Only the strings go through the encoder. */
	json_t *o = trial_strings(owner, study, t);
	char *head = ju_dump(o, 0);
	json_decref(o);
	if (!head)
		return NULL;
	const char *params = has_text(t->params_json) ? t->params_json : "[]";
	size_t len = strlen(head) + strlen(params) + 32;
	if (has_text(t->final_json))
		len += strlen(t->final_json) + 32;
	if (has_text(t->info_json))
		len += strlen(t->info_json) + 32;
	if (has_text(t->metadata_json))
		len += strlen(t->metadata_json) + 32;
	if (has_text(measurements))
		len += strlen(measurements) + 32;
	char *out = malloc(len);
	if (!out) {
		free(head);
		return NULL;
	}
	size_t n = strlen(head);
	memcpy(out, head, n + 1);
	free(head);
	add_raw(out, &n, "parameters", params);
	if (has_text(t->final_json))
		add_raw(out, &n, "finalMeasurement", t->final_json);
	if (has_text(t->info_json))
		add_raw(out, &n, "suggestionInfo", t->info_json);
	if (has_text(t->metadata_json))
		add_raw(out, &n, "metadata", t->metadata_json);
	if (has_text(measurements)) {
		add_raw(out, &n, "measurements", "[");
		n--; /* reopen: the list goes before the brace */
		size_t ml = strlen(measurements);
		memcpy(out + n, measurements, ml);
		memcpy(out + n + ml, "]}", 3);
	}
	return out;
}

json_t *tj_study(const struct store_study *s)
{
	char buf[600];
	json_t *o = json_object();
	snprintf(buf, sizeof(buf), "owners/%s/studies/%s", s->owner, s->study_id);
	json_object_set_new(o, "name", json_string(buf));
	json_object_set_new(o, "displayName", json_string(s->study_id));
	json_t *spec = tj_load(s->spec_json);
	json_object_set_new(o, "studySpec", spec ? spec : json_object());
	json_object_set_new(o, "state", json_string(tj_study_state(s->state)));
	set_time(o, "createTime", s->create_time);
	if (s->inactive_reason && *s->inactive_reason)
		json_object_set_new(o, "inactiveReason", json_string(s->inactive_reason));
	json_t *md = tj_load(s->metadata_json);
	if (md)
		json_object_set_new(o, "metadata", md);
	return o;
}
