/* The measurement and trial-parameter parsers, against a fixed study with
 * every parameter type, a conditional child and two metrics. The input is a
 * request body; its "measurement" (or the whole body) goes through
 * tj_measurement_parse and its "parameters" through tj_params_parse.
 * Invariants:
 *  - rejections are 4xx with a message;
 *  - an accepted measurement's canonical form is accepted again unchanged,
 *    and its metric values are finite or absent;
 *  - accepted parameters are a valid point of the space, and printing them
 *    (tj_params_json) and parsing the result gives the same point. */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "json_util.h"
#include "space.h"
#include "spec.h"
#include "trial_json.h"

static const char spec_text[] =
    "{\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"},"
    "{\"metricId\":\"loss\",\"goal\":\"MINIMIZE\"}],"
    "\"parameters\":["
    "{\"parameterId\":\"lr\",\"doubleValueSpec\":{\"minValue\":0.0001,\"maxValue\":1},"
    "\"scaleType\":\"UNIT_LOG_SCALE\"},"
    "{\"parameterId\":\"layers\",\"integerValueSpec\":{\"minValue\":1,\"maxValue\":8}},"
    "{\"parameterId\":\"batch\",\"discreteValueSpec\":{\"values\":[16,32,64,128]}},"
    "{\"parameterId\":\"opt\",\"categoricalValueSpec\":{\"values\":[\"adam\",\"sgd\"]},"
    "\"conditionalParameterSpecs\":[{\"parameterSpec\":{\"parameterId\":\"momentum\","
    "\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":0.99}},"
    "\"parentCategoricalValues\":{\"values\":[\"sgd\"]}}]}]}";

static struct spec sp;
static int ready;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err e;
	(void)argc;
	(void)argv;
	json_t *v = json_loads(spec_text, 0, NULL);
	FUZZ_CHECK(v != NULL, "fixture spec is not JSON");
	int rc = spec_parse(v, "studySpec", NULL, &sp, NULL, &e);
	FUZZ_CHECK(rc == 0, "fixture spec rejected: %s", e.msg);
	json_decref(v);
	FUZZ_CHECK(sp.space.n == 5 && sp.n_metrics == 2, "fixture: %zu parameters, %zu metrics",
	           sp.space.n, sp.n_metrics);
	ready = 1;
	return 0;
}

static void check_measurement(const json_t *m)
{
	struct err e = {0};
	json_t *canon = NULL;
	int rc = tj_measurement_parse(m, "measurement", &sp, &canon, &e);
	if (rc != 0) {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
		return;
	}
	FUZZ_CHECK(canon != NULL, "no canonical measurement");
	double vals[8];
	tj_measurement_metrics(canon, &sp, vals);
	for (size_t i = 0; i < sp.n_metrics; i++)
		FUZZ_CHECK(isnan(vals[i]) || isfinite(vals[i]), "metric %zu = %g", i, vals[i]);
	json_t *canon2 = NULL;
	rc = tj_measurement_parse(canon, "measurement", &sp, &canon2, &e);
	FUZZ_CHECK(rc == 0, "canonical measurement rejected: %s", e.msg);
	char *a = ju_canonical(canon), *b = ju_canonical(canon2);
	FUZZ_CHECK(a && b && strcmp(a, b) == 0, "measurement canonical not a fixed point:\n%s\n%s",
	           a ? a : "(null)", b ? b : "(null)");
	free(a);
	free(b);
	json_decref(canon2);
	json_decref(canon);
}

static void check_params(const json_t *p)
{
	struct err e = {0};
	double v[8], v2[8];
	char why[256];
	int rc = tj_params_parse(&sp, p, "parameters", v, &e);
	if (rc != 0) {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
		return;
	}
	FUZZ_CHECK(space_valid(&sp.space, v, why, sizeof(why)), "accepted invalid point: %s", why);
	json_t *j = tj_params_json(&sp.space, v);
	FUZZ_CHECK(j != NULL, "tj_params_json failed");
	rc = tj_params_parse(&sp, j, "parameters", v2, &e);
	FUZZ_CHECK(rc == 0, "printed parameters rejected: %s", e.msg);
	FUZZ_CHECK(space_equal(&sp.space, v, v2), "parameters changed in a round trip");
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = {0};
	if (!ready)
		LLVMFuzzerInitialize(NULL, NULL);
	json_t *root = ju_parse_body((const char *)data, size, 32, &e);
	if (!root)
		return 0;
	const json_t *m = json_object_get(root, "measurement");
	if (!m)
		m = json_object_get(root, "finalMeasurement");
	check_measurement(m ? m : root);
	const json_t *p = json_object_get(root, "parameters");
	if (p)
		check_params(p);
	json_decref(root);
	return 0;
}
