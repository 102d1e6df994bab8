/* GP-EI through the real sibyld over HTTP:
 *  1. 8 concurrent workers (threads, each its own libcurl handle and
 *     clientId) run one GP-EI study to a budget of 48 trials: no error,
 *     exactly 48 distinct trials, the model-based ones say which incumbent
 *     they used, and the best value is close to the optimum (random search
 *     gets within 0.005 with 48 points about once in twelve runs).
 *  2. Recommendation under noise: with observationNoise HIGH,
 *     listOptimalTrials answers "selection": "POSTERIOR_MEAN" and the trial
 *     with the best posterior mean, not the luckiest observation; the same
 *     noise-free history without HIGH answers "selection": "OBSERVED" and
 *     the best observation. */
#include <stdint.h>

#include "workload.h"

static void test_eight_workers(struct daemon *d)
{
	enum { W = 8, BUDGET = 48 };
	char spec[2048], path[256];
	struct run *r = calloc(1, sizeof(*r));
	pthread_t th[W];
	struct worker_arg wa[W];
	create_study(d, "gp8",
	             spec_budget(spec, sizeof(spec), "GAUSSIAN_PROCESS_EI", 3, BUDGET, NULL));
	r->study = "gp8";
	r->workers = W;
	pthread_mutex_init(&r->mu, NULL);
	run_workers(r, th, wa);
	join_workers(r, th);
	check_run(d, r, BUDGET);
	pthread_mutex_destroy(&r->mu);
	free(r);

	snprintf(path, sizeof(path), "/v1/owners/t/studies/gp8/trials?pageSize=1000");
	json_t *list = CALL(d, "GET", path, NULL, 200);
	json_t *trials = json_object_get(list, "trials"), *t;
	size_t i, model = 0, says = 0;
	double best = -INFINITY;
	json_array_foreach(trials, i, t)
	{
		json_t *info = json_object_get(t, "suggestionInfo");
		json_t *m = json_array_get(
		    json_object_get(json_object_get(t, "finalMeasurement"), "metrics"), 0);
		double v = json_number_value(json_object_get(m, "value"));
		best = v > best ? v : best;
		if (!info || strcmp(jstr(info, "source"), "gp-ei") != 0)
			continue;
		model++;
		says += strcmp(jstr(info, "incumbent"), "OBSERVED") == 0;
	}
	/* the initial design is 6 points; some more Sobol points go to workers
	 * that ask before 6 are complete */
	ASSERT_TRUE(model >= BUDGET - 6 - W);
	ASSERT_EQ_INT(says, model);
	ASSERT_TRUE(best > -0.005);
	json_decref(list);
}

/* A small deterministic generator for the test's data. */
static uint64_t g_state = 88172645463325252ULL;
static double unif(void)
{
	g_state ^= g_state << 13;
	g_state ^= g_state >> 7;
	g_state ^= g_state << 17;
	return (double)(g_state >> 11) / 9007199254740992.0;
}
/* About N(0, 1): the sum of 12 uniforms, less 6 (no libm here). */
static double gauss(void)
{
	double s = -6.0;
	for (int k = 0; k < 12; k++)
		s += unif();
	return s;
}

/* Imports trial (x, y) -> value into study. */
static void import(struct daemon *d, const char *study, double x, double y, double value)
{
	char path[256], body[512];
	snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials", study);
	snprintf(body, sizeof(body),
	         "{\"state\":\"SUCCEEDED\",\"parameters\":[{\"parameterId\":\"x\",\"value\":%.17g},"
	         "{\"parameterId\":\"y\",\"value\":%.17g}],\"finalMeasurement\":{\"metrics\":[{"
	         "\"metricId\":\"loss\",\"value\":%.17g}]}}",
	         x, y, value);
	json_decref(CALL(d, "POST", path, body, 200));
}

static json_t *optimal(struct daemon *d, const char *study)
{
	char path[256];
	snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials:listOptimalTrials", study);
	return CALL(d, "POST", path, "{}", 200);
}

static void test_noisy_recommendation(struct daemon *d)
{
	static const char *spec =
	    "{\"algorithm\":\"GAUSSIAN_PROCESS_EI\",%s\"metrics\":[{\"metricId\":\"loss\",\"goal\":"
	    "\"MINIMIZE\"}],\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{"
	    "\"minValue\":0,\"maxValue\":1}},{\"parameterId\":\"y\",\"doubleValueSpec\":{"
	    "\"minValue\":0,\"maxValue\":1}}]}";
	char buf[1024];
	snprintf(buf, sizeof(buf), spec, "\"observationNoise\":\"HIGH\",");
	create_study(d, "noisy", buf);
	snprintf(buf, sizeof(buf), spec, "");
	create_study(d, "clean", buf);
	/* 24 random trials, 10 near the optimum (0.4, 0.5), 6 near (0.75,
	 * 0.75), noise sd 0.1; the 18th, near (0.75, 0.75), observed 4.5 sd
	 * too low (as tests/unit/test-gpei.c) */
	double truth[40];
	for (int t = 0; t < 40; t++) {
		double v[2] = {unif(), unif()};
		double cx = t >= 30 ? 0.4 : 0.75, cy = t >= 30 ? 0.5 : 0.75;
		if (t >= 30 || (t >= 12 && t < 18)) {
			v[0] = cx + 0.1 * (unif() - 0.5);
			v[1] = cy + 0.1 * (unif() - 0.5);
		}
		truth[t] = (v[0] - 0.4) * (v[0] - 0.4) + (v[1] - 0.5) * (v[1] - 0.5);
		double f = truth[t] + 0.1 * gauss();
		if (t == 17)
			f = truth[t] - 0.45;
		import(d, "noisy", v[0], v[1], f);
		import(d, "clean", v[0], v[1], truth[t]);
	}
	json_t *o = optimal(d, "noisy");
	ASSERT_EQ_STR(jstr(o, "selection"), "POSTERIOR_MEAN");
	json_t *arr = json_object_get(o, "optimalTrials");
	ASSERT_EQ_INT(json_array_size(arr), 1);
	long id = strtol(jstr(json_array_get(arr, 0), "id"), NULL, 10);
	ASSERT_TRUE(id >= 1 && id <= 40 && id != 18);
	ASSERT_TRUE(id >= 1 && id <= 40 && truth[id - 1] < truth[17]);
	json_decref(o);
	/* asked again: the same answer (the model's cache changes nothing) */
	o = optimal(d, "noisy");
	ASSERT_EQ_INT(
	    strtol(jstr(json_array_get(json_object_get(o, "optimalTrials"), 0), "id"), NULL, 10),
	    id);
	json_decref(o);

	o = optimal(d, "clean");
	ASSERT_EQ_STR(jstr(o, "selection"), "OBSERVED");
	size_t best = 0;
	for (size_t t = 1; t < 40; t++)
		if (truth[t] < truth[best])
			best = t;
	ASSERT_EQ_INT(
	    strtol(jstr(json_array_get(json_object_get(o, "optimalTrials"), 0), "id"), NULL, 10),
	    (long)best + 1);
	json_decref(o);
}

int main(void)
{
	struct daemon *d = daemon_start(NULL);
	if (!d)
		return 1;
	set_url(d->url);
	ensure_owner(d);
	PART(test_eight_workers(d));
	PART(test_noisy_recommendation(d));
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("test-gp");
}
