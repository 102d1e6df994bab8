/* codec: the API's JSON (proto3 mapping) to the public structs and back. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

char *codec_strdup(const char *s, int *ok)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*ok = 0;
	return d;
}

static char *str_member(json_t *j, const char *key, int *ok)
{
	return codec_strdup(json_string_value(json_object_get(j, key)), ok);
}

static char *dump(json_t *j, int *ok)
{
	if (!j)
		return NULL;
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		*ok = 0;
	return s;
}

/* int64 as a JSON string or number (proto3 JSON). */
static int int64_value(json_t *v, long long *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	const char *s = json_string_value(v);
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = x;
	return 0;
}

/* A number that may come as a JSON number or, for NaN/Infinity, a string. */
static int number_value(json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	const char *s = json_string_value(v);
	if (!s)
		return -1;
	if (strcmp(s, "NaN") == 0)
		*out = NAN;
	else if (strcmp(s, "Infinity") == 0)
		*out = INFINITY;
	else if (strcmp(s, "-Infinity") == 0)
		*out = -INFINITY;
	else
		return -1;
	return 0;
}

/* Durations as "12.5s". */
static int duration_value(json_t *v, double *out)
{
	const char *s = json_string_value(v);
	if (!s)
		return number_value(v, out);
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (errno || end == s || strcmp(end, "s") != 0)
		return -1;
	*out = x;
	return 0;
}

static void measurement_clear(struct sibyl_measurement *m)
{
	for (size_t i = 0; i < m->n_metrics; i++)
		free(m->metrics[i].metric_id);
	free(m->metrics);
	m->metrics = NULL;
	m->n_metrics = 0;
}

/* 0, -SIBYL_ENOMEM or -SIBYL_EPROTOCOL (message in why). */
static int measurement(json_t *j, struct sibyl_measurement *m, const char **why)
{
	memset(m, 0, sizeof *m);
	m->elapsed_seconds = -1;
	m->step_count = -1;
	if (!json_is_object(j)) {
		*why = "measurement is not an object";
		return -SIBYL_EPROTOCOL;
	}
	json_t *v;
	if ((v = json_object_get(j, "elapsedDuration")) &&
	    duration_value(v, &m->elapsed_seconds) != 0) {
		*why = "bad elapsedDuration";
		return -SIBYL_EPROTOCOL;
	}
	if ((v = json_object_get(j, "stepCount")) && int64_value(v, &m->step_count) != 0) {
		*why = "bad stepCount";
		return -SIBYL_EPROTOCOL;
	}
	json_t *arr = json_object_get(j, "metrics");
	if (!arr)
		return 0;
	if (!json_is_array(arr)) {
		*why = "metrics is not an array";
		return -SIBYL_EPROTOCOL;
	}
	size_t n = json_array_size(arr);
	if (n && !(m->metrics = calloc(n, sizeof *m->metrics)))
		return -SIBYL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i);
		const char *id = json_string_value(json_object_get(e, "metricId"));
		double val = 0;
		json_t *vv = json_object_get(e, "value");
		if (!id || (vv && number_value(vv, &val) != 0)) {
			*why = "bad metric in measurement";
			return -SIBYL_EPROTOCOL;
		}
		if (!(m->metrics[i].metric_id = strdup(id)))
			return -SIBYL_ENOMEM;
		m->metrics[i].value = val;
		m->n_metrics = i + 1;
	}
	return 0;
}

static int fail_decode(struct sibyl_client *c, int rc, const char *what, const char *why)
{
	if (rc == -SIBYL_ENOMEM)
		return client_fail(c, SIBYL_ENOMEM, "out of memory decoding a %s", what);
	return client_fail(c, SIBYL_EPROTOCOL, "bad %s from the server: %s", what, why);
}

static const char *const trial_states[] = {"STATE_UNSPECIFIED", "REQUESTED", "ACTIVE",
                                           "STOPPING",          "SUCCEEDED", "INFEASIBLE"};

const char *sibyl_trial_state_name(enum sibyl_trial_state s)
{
	if ((unsigned)s < sizeof trial_states / sizeof trial_states[0])
		return trial_states[s];
	return "STATE_UNSPECIFIED";
}

static const char *const study_states[] = {"STATE_UNSPECIFIED", "ACTIVE", "INACTIVE", "COMPLETED"};

const char *sibyl_study_state_name(enum sibyl_study_state s)
{
	if ((unsigned)s < sizeof study_states / sizeof study_states[0])
		return study_states[s];
	return "STATE_UNSPECIFIED";
}

static int state_index(const char *s, const char *const *names, size_t n)
{
	if (!s)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return 0;
}

void sibyl_trial_free(struct sibyl_trial *t)
{
	if (!t)
		return;
	free(t->name);
	for (size_t i = 0; i < t->n_parameters; i++) {
		free(t->parameters[i].parameter_id);
		free(t->parameters[i].string);
	}
	free(t->parameters);
	if (t->final_measurement) {
		measurement_clear(t->final_measurement);
		free(t->final_measurement);
	}
	for (size_t i = 0; i < t->n_measurements; i++)
		measurement_clear(&t->measurements[i]);
	free(t->measurements);
	free(t->start_time);
	free(t->end_time);
	free(t->client_id);
	free(t->infeasible_reason);
	free(t->json);
	codec_metadata_free(t->n_metadata, t->metadata);
	free(t);
}

const struct sibyl_parameter *sibyl_trial_param(const struct sibyl_trial *t, const char *id)
{
	if (!t || !id)
		return NULL;
	for (size_t i = 0; i < t->n_parameters; i++)
		if (strcmp(t->parameters[i].parameter_id, id) == 0)
			return &t->parameters[i];
	return NULL;
}

int codec_trial(struct sibyl_client *c, json_t *j, struct sibyl_trial **out)
{
	int ok = 1, rc = 0;
	const char *why = "";
	*out = NULL;
	if (!json_is_object(j))
		return fail_decode(c, -SIBYL_EPROTOCOL, "trial", "not an object");
	struct sibyl_trial *t = calloc(1, sizeof *t);
	if (!t)
		return fail_decode(c, -SIBYL_ENOMEM, "trial", "");
	t->name = str_member(j, "name", &ok);
	t->start_time = str_member(j, "startTime", &ok);
	t->end_time = str_member(j, "endTime", &ok);
	t->client_id = str_member(j, "clientId", &ok);
	t->infeasible_reason = str_member(j, "infeasibleReason", &ok);
	t->json = dump(j, &ok);
	t->state = state_index(json_string_value(json_object_get(j, "state")), trial_states,
	                       sizeof trial_states / sizeof trial_states[0]);
	if (!ok) {
		rc = -SIBYL_ENOMEM;
		goto out;
	}
	if (!t->name) {
		rc = -SIBYL_EPROTOCOL;
		why = "no name";
		goto out;
	}
	json_t *v = json_object_get(j, "id");
	if (v && int64_value(v, &t->id) != 0) {
		rc = -SIBYL_EPROTOCOL;
		why = "bad id";
		goto out;
	}
	json_t *params = json_object_get(j, "parameters");
	size_t n = json_array_size(params);
	if (n && !(t->parameters = calloc(n, sizeof *t->parameters))) {
		rc = -SIBYL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(params, i);
		struct sibyl_parameter *tp = &t->parameters[i];
		const char *id = json_string_value(json_object_get(p, "parameterId"));
		json_t *val = json_object_get(p, "value");
		if (!id || !val) {
			rc = -SIBYL_EPROTOCOL;
			why = "parameter without parameterId or value";
			goto out;
		}
		t->n_parameters = i + 1;
		if (!(tp->parameter_id = strdup(id))) {
			rc = -SIBYL_ENOMEM;
			goto out;
		}
		if (json_is_string(val)) {
			tp->type = SIBYL_VALUE_STRING;
			if (!(tp->string = strdup(json_string_value(val)))) {
				rc = -SIBYL_ENOMEM;
				goto out;
			}
		} else if (json_is_number(val)) {
			tp->type = SIBYL_VALUE_NUMBER;
			tp->number = json_number_value(val);
		} else {
			rc = -SIBYL_EPROTOCOL;
			why = "parameter value neither number nor string";
			goto out;
		}
	}
	json_t *fm = json_object_get(j, "finalMeasurement");
	if (fm) {
		if (!(t->final_measurement = calloc(1, sizeof *t->final_measurement))) {
			rc = -SIBYL_ENOMEM;
			goto out;
		}
		if ((rc = measurement(fm, t->final_measurement, &why)) != 0)
			goto out;
	}
	json_t *ms = json_object_get(j, "measurements");
	n = json_array_size(ms);
	if (n && !(t->measurements = calloc(n, sizeof *t->measurements))) {
		rc = -SIBYL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		t->n_measurements = i + 1;
		if ((rc = measurement(json_array_get(ms, i), &t->measurements[i], &why)) != 0)
			goto out;
	}
	if ((rc = codec_metadata(j, &t->n_metadata, &t->metadata)) != 0)
		why = "metadata is not an object of strings";
out:
	if (rc) {
		sibyl_trial_free(t);
		return fail_decode(c, rc, "trial", why);
	}
	*out = t;
	return 0;
}

void sibyl_trial_list_free(struct sibyl_trial_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		sibyl_trial_free(l->trials[i]);
	free(l->trials);
	free(l->next_page_token);
	free(l->study_state);
	free(l->operation_name);
	free(l);
}

int codec_trial_array(struct sibyl_client *c, json_t *arr, struct sibyl_trial_list *l)
{
	if (arr && !json_is_array(arr))
		return client_fail(c, SIBYL_EPROTOCOL, "bad trial list from the server");
	size_t n = json_array_size(arr);
	if (n && !(l->trials = calloc(n, sizeof *l->trials)))
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int rc = codec_trial(c, json_array_get(arr, i), &l->trials[i]);
		if (rc)
			return rc;
		l->n = i + 1;
	}
	return 0;
}

int codec_page_token(struct sibyl_client *c, json_t *j, char **tok)
{
	const char *s = json_string_value(json_object_get(j, "nextPageToken"));
	*tok = NULL;
	if (!s || !*s)
		return 0;
	if (!(*tok = strdup(s)))
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	return 0;
}

void sibyl_study_free(struct sibyl_study *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->display_name);
	free(s->create_time);
	free(s->inactive_reason);
	free(s->spec_json);
	for (size_t i = 0; i < s->n_metrics; i++)
		free(s->metrics[i].metric_id);
	free(s->metrics);
	for (size_t i = 0; i < s->n_parameters; i++)
		free(s->parameter_ids[i]);
	free(s->parameter_ids);
	free(s->algorithm);
	free(s->json);
	codec_metadata_free(s->n_metadata, s->metadata);
	free(s);
}

int codec_study(struct sibyl_client *c, json_t *j, struct sibyl_study **out)
{
	int ok = 1, rc = 0;
	const char *why = "";
	*out = NULL;
	if (!json_is_object(j))
		return fail_decode(c, -SIBYL_EPROTOCOL, "study", "not an object");
	struct sibyl_study *s = calloc(1, sizeof *s);
	if (!s)
		return fail_decode(c, -SIBYL_ENOMEM, "study", "");
	json_t *spec = json_object_get(j, "studySpec");
	s->name = str_member(j, "name", &ok);
	s->display_name = str_member(j, "displayName", &ok);
	s->create_time = str_member(j, "createTime", &ok);
	s->inactive_reason = str_member(j, "inactiveReason", &ok);
	s->algorithm = str_member(spec, "algorithm", &ok);
	s->spec_json = dump(spec, &ok);
	s->json = dump(j, &ok);
	s->state = state_index(json_string_value(json_object_get(j, "state")), study_states,
	                       sizeof study_states / sizeof study_states[0]);
	if (!ok) {
		rc = -SIBYL_ENOMEM;
		goto out;
	}
	if (!s->name) {
		rc = -SIBYL_EPROTOCOL;
		why = "no name";
		goto out;
	}
	json_t *metrics = json_object_get(spec, "metrics");
	size_t n = json_array_size(metrics);
	if (n && !(s->metrics = calloc(n, sizeof *s->metrics))) {
		rc = -SIBYL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_array_get(metrics, i);
		const char *id = json_string_value(json_object_get(m, "metricId"));
		const char *goal = json_string_value(json_object_get(m, "goal"));
		if (!id) {
			rc = -SIBYL_EPROTOCOL;
			why = "metric without metricId";
			goto out;
		}
		s->n_metrics = i + 1;
		if (!(s->metrics[i].metric_id = strdup(id))) {
			rc = -SIBYL_ENOMEM;
			goto out;
		}
		s->metrics[i].goal = !goal                           ? SIBYL_GOAL_UNSPECIFIED
		                     : strcmp(goal, "MAXIMIZE") == 0 ? SIBYL_GOAL_MAXIMIZE
		                     : strcmp(goal, "MINIMIZE") == 0 ? SIBYL_GOAL_MINIMIZE
		                                                     : SIBYL_GOAL_UNSPECIFIED;
		json_t *safety = json_object_get(m, "safetyConfig");
		if (safety) {
			s->metrics[i].is_constraint = 1;
			number_value(json_object_get(safety, "safetyThreshold"),
			             &s->metrics[i].safety_threshold);
		}
	}
	json_t *params = json_object_get(spec, "parameters");
	n = json_array_size(params);
	if (n && !(s->parameter_ids = calloc(n, sizeof *s->parameter_ids))) {
		rc = -SIBYL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *id =
		    json_string_value(json_object_get(json_array_get(params, i), "parameterId"));
		if (!id) {
			rc = -SIBYL_EPROTOCOL;
			why = "parameter without parameterId";
			goto out;
		}
		s->n_parameters = i + 1;
		if (!(s->parameter_ids[i] = strdup(id))) {
			rc = -SIBYL_ENOMEM;
			goto out;
		}
	}
	if ((rc = codec_metadata(j, &s->n_metadata, &s->metadata)) != 0)
		why = "metadata is not an object of strings";
out:
	if (rc) {
		sibyl_study_free(s);
		return fail_decode(c, rc, "study", why);
	}
	*out = s;
	return 0;
}

void sibyl_study_list_free(struct sibyl_study_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		sibyl_study_free(l->studies[i]);
	free(l->studies);
	free(l->next_page_token);
	free(l);
}

void sibyl_operation_free(struct sibyl_operation *op)
{
	if (!op)
		return;
	free(op->name);
	free(op->error_message);
	sibyl_trial_list_free(op->trials);
	free(op->json);
	free(op);
}

int codec_operation(struct sibyl_client *c, json_t *j, struct sibyl_operation **out)
{
	int ok = 1, rc;
	*out = NULL;
	if (!json_is_object(j))
		return client_fail(c, SIBYL_EPROTOCOL,
		                   "bad operation from the server: not an object");
	struct sibyl_operation *op = calloc(1, sizeof *op);
	if (!op)
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	op->should_stop = -1;
	op->name = str_member(j, "name", &ok);
	op->done = json_is_true(json_object_get(j, "done"));
	op->json = dump(j, &ok);
	json_t *err = json_object_get(j, "error");
	if (err) {
		/* The status name decides; "code" is the RPC code, which is ours too. */
		json_t *code = json_object_get(err, "code");
		const char *status = json_string_value(json_object_get(err, "status"));
		op->error_code = status ? client_code_from_name(status) : 0;
		if (!op->error_code && json_is_integer(code) && json_integer_value(code) > 0 &&
		    json_integer_value(code) < 100)
			op->error_code = (int)json_integer_value(code);
		if (!op->error_code)
			op->error_code = SIBYL_UNKNOWN;
		op->error_message = str_member(err, "message", &ok);
	}
	if (!ok) {
		sibyl_operation_free(op);
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	}
	json_t *resp = json_object_get(j, "response");
	json_t *stop = json_object_get(resp, "shouldStop");
	if (stop)
		op->should_stop = json_is_true(stop);
	json_t *trials = json_object_get(resp, "trials");
	if (trials || json_object_get(resp, "studyState")) {
		if (!(op->trials = calloc(1, sizeof *op->trials))) {
			sibyl_operation_free(op);
			return client_fail(c, SIBYL_ENOMEM, "out of memory");
		}
		op->trials->study_state = str_member(resp, "studyState", &ok);
		if (!ok) {
			sibyl_operation_free(op);
			return client_fail(c, SIBYL_ENOMEM, "out of memory");
		}
		if ((rc = codec_trial_array(c, trials, op->trials)) != 0) {
			sibyl_operation_free(op);
			return rc;
		}
	}
	*out = op;
	return 0;
}

void sibyl_owner_free(struct sibyl_owner *o)
{
	if (!o)
		return;
	free(o->name);
	free(o->owner_id);
	free(o->display_name);
	free(o->json);
	free(o);
}

void sibyl_owner_list_free(struct sibyl_owner_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		sibyl_owner_free(l->owners[i]);
	free(l->owners);
	free(l->next_page_token);
	free(l);
}

int codec_owner(struct sibyl_client *c, json_t *j, struct sibyl_owner **out)
{
	int ok = 1;
	*out = NULL;
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "name")))
		return client_fail(c, SIBYL_EPROTOCOL, "bad owner from the server");
	struct sibyl_owner *o = calloc(1, sizeof *o);
	if (!o)
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	o->name = str_member(j, "name", &ok);
	o->owner_id = str_member(j, "ownerId", &ok);
	if (!o->owner_id && ok && o->name && strncmp(o->name, "owners/", 7) == 0)
		o->owner_id = codec_strdup(o->name + 7, &ok);
	o->display_name = str_member(j, "displayName", &ok);
	o->json = dump(j, &ok);
	if (!ok) {
		sibyl_owner_free(o);
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	}
	*out = o;
	return 0;
}

void sibyl_api_key_free(struct sibyl_api_key *k)
{
	if (!k)
		return;
	free(k->name);
	free(k->role);
	free(k->display_name);
	if (k->key) /* a secret: do not leave it in freed memory */
		memset(k->key, 0, strlen(k->key));
	free(k->key);
	free(k->json);
	free(k);
}

void sibyl_api_key_list_free(struct sibyl_api_key_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		sibyl_api_key_free(l->keys[i]);
	free(l->keys);
	free(l->next_page_token);
	free(l);
}

int codec_api_key(struct sibyl_client *c, json_t *j, struct sibyl_api_key **out)
{
	int ok = 1;
	*out = NULL;
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "name")))
		return client_fail(c, SIBYL_EPROTOCOL, "bad API key from the server");
	struct sibyl_api_key *k = calloc(1, sizeof *k);
	if (!k)
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	k->name = str_member(j, "name", &ok);
	k->role = str_member(j, "role", &ok);
	k->display_name = str_member(j, "displayName", &ok);
	k->key = str_member(j, "key", &ok);
	k->json = dump(j, &ok);
	if (!ok) {
		sibyl_api_key_free(k);
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	}
	*out = k;
	return 0;
}

json_t *codec_measurement_json(struct sibyl_client *c, const struct sibyl_measurement *m)
{
	json_t *o = json_object();
	json_t *arr = json_array();
	int bad = !o || !arr;
	if (!bad && m->elapsed_seconds >= 0) {
		char d[64];
		snprintf(d, sizeof d, "%.6fs", m->elapsed_seconds);
		bad |= json_object_set_new(o, "elapsedDuration", json_string(d)) != 0;
	}
	if (!bad && m->step_count >= 0)
		bad |= json_object_set_new(o, "stepCount", json_integer(m->step_count)) != 0;
	for (size_t i = 0; !bad && i < m->n_metrics; i++) {
		if (!m->metrics[i].metric_id || !isfinite(m->metrics[i].value)) {
			json_decref(o);
			json_decref(arr);
			client_fail(c, SIBYL_EUSAGE, "metric %zu: need an id and a finite value",
			            i);
			return NULL;
		}
		json_t *e = json_pack("{s:s,s:f}", "metricId", m->metrics[i].metric_id, "value",
		                      m->metrics[i].value);
		bad |= !e || json_array_append_new(arr, e) != 0;
	}
	if (!bad) {
		bad |= json_object_set_new(o, "metrics", arr) != 0;
		arr = NULL;
	}
	if (bad) {
		json_decref(o);
		json_decref(arr);
		client_fail(c, SIBYL_ENOMEM, "out of memory");
		return NULL;
	}
	return o;
}

json_t *codec_parameters_json(struct sibyl_client *c, const struct sibyl_parameter *p, size_t n)
{
	json_t *arr = json_array();
	if (!arr)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		if (!p[i].parameter_id || (p[i].type == SIBYL_VALUE_STRING && !p[i].string) ||
		    (p[i].type == SIBYL_VALUE_NUMBER && !isfinite(p[i].number))) {
			json_decref(arr);
			client_fail(c, SIBYL_EUSAGE, "parameter %zu: need an id and a value", i);
			return NULL;
		}
		json_t *v;
		/* Integer and discrete values go as JSON integers when they are whole. */
		if (p[i].type == SIBYL_VALUE_STRING)
			v = json_string(p[i].string);
		else if (p[i].number == floor(p[i].number) && fabs(p[i].number) < 9e15)
			v = json_integer((json_int_t)p[i].number);
		else
			v = json_real(p[i].number);
		json_t *e =
		    v ? json_pack("{s:s,s:o}", "parameterId", p[i].parameter_id, "value", v) : NULL;
		if (!e || json_array_append_new(arr, e) != 0)
			goto oom;
	}
	return arr;
oom:
	json_decref(arr);
	client_fail(c, SIBYL_ENOMEM, "out of memory");
	return NULL;
}
