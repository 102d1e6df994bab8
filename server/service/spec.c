#include "spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json_util.h"
#include "spec_internal.h"

static int parse_metrics(struct spec_ctx *c, const json_t *v, const char *path, json_t *canon)
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
		return spec_oom(c->e);
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
		if (!(sm->id = spec_strdup(id)))
			return spec_oom(c->e);
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

static int parse_stopping(struct spec_ctx *c, const json_t *v, const char *path, json_t *canon)
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
	struct spec_ctx c = {.s = out, .e = e};
	if (cfg) {
		c.max_params = cfg->max_parameters;
		c.max_cats = cfg->max_categories > 0 ? (size_t)cfg->max_categories : 0;
		c.max_str = cfg->max_string_len;
		c.max_metrics = cfg->max_metrics > 0 ? (size_t)cfg->max_metrics : 0;
	}
	json_t *canon = json_object();
	if (!canon)
		return spec_oom(e);
	if ((rc = ju_object(v, path, e)) || (rc = ju_only_fields(v, path, fields, e)))
		goto out;
	const char *unsupported[] = {"decayCurveStoppingSpec", "convexStopConfig"};
	for (int i = 0; i < 2; i++) {
		if (json_object_get(v, unsupported[i])) {
			rc = err_set(e, ERR_INVALID_ARGUMENT,
			             "%s.%s is not supported by this server "
			             "(see docs/server-api.md)",
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
		rc = spec_parse_param(&c, json_array_get(x, i), pp, -1, &cp);
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
			rc = spec_oom(e);
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
	if (s->origin) {
		spec_unshare(s->origin);
		memset(s, 0, sizeof(*s));
		return;
	}
	space_free(&s->space);
	for (size_t i = 0; i < s->n_metrics; i++)
		free(s->metrics[i].id);
	free(s->metrics);
	free(s->dmetrics);
	memset(s, 0, sizeof(*s));
}

struct spec *spec_share(struct spec *s)
{
	struct spec *sh = malloc(sizeof(*sh));
	if (!sh)
		return NULL;
	*sh = *s;
	sh->origin = NULL;
	sh->refs = 1;
	memset(s, 0, sizeof(*s));
	return sh;
}

void spec_borrow(struct spec *shared, struct spec *out)
{
	__atomic_add_fetch(&shared->refs, 1, __ATOMIC_RELAXED);
	*out = *shared;
	out->origin = shared;
	out->refs = 0;
}

void spec_unshare(struct spec *shared)
{
	if (shared && __atomic_sub_fetch(&shared->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		spec_free(shared);
		free(shared);
	}
}

int spec_metric_index(const struct spec *s, const char *id)
{
	for (size_t i = 0; i < s->n_metrics; i++) {
		if (strcmp(s->metrics[i].id, id) == 0)
			return (int)i;
	}
	return -1;
}
