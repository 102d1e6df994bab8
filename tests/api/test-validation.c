/* Validation over real HTTP: a table of bad study specs and request bodies;
 * each is refused with a 4xx that names the field, and the database is the
 * same before and after. */
#include "apitest.h"

#define M "\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}]"
#define P                                                                                          \
	"\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":" \
	"1}}]"

struct bad {
	const char *spec; /* the studySpec */
	const char *says; /* the message must contain this */
};

static const struct bad bad_specs[] = {
    {"{" P "}", "studySpec.metrics is required"},
    {"{" M "}", "studySpec.parameters is required"},
    {"{\"metrics\":[]," P "}", "studySpec.metrics needs at least one metric"},
    {"{" M ",\"parameters\":[]}", "studySpec.parameters needs at least one parameter"},
    {"[1]", "studySpec must be an object"},
    {"{" M "," P ",\"colour\":1}", "unknown field studySpec.colour"},
    {"{\"metrics\":[{\"metricId\":\"acc\"}]," P "}", "studySpec.metrics[0].goal is required"},
    {"{\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"BIGGER\"}]," P "}",
     "studySpec.metrics[0].goal must be MAXIMIZE or MINIMIZE"},
    {"{\"metrics\":[{\"goal\":\"MAXIMIZE\"}]," P "}", "studySpec.metrics[0].metricId is required"},
    {"{\"metrics\":[{\"metricId\":\"\",\"goal\":\"MAXIMIZE\"}]," P "}",
     "studySpec.metrics[0].metricId must not be empty"},
    {"{\"metrics\":[{\"metricId\":\"a\",\"goal\":\"MAXIMIZE\"},{\"metricId\":\"a\",\"goal\":"
     "\"MINIMIZE\"}]," P "}",
     "studySpec.metrics[1].metricId \"a\" repeats metrics[0]"},
    {"{\"metrics\":[{\"metricId\":\"a\",\"goal\":\"MAXIMIZE\",\"safetyConfig\":{"
     "\"safetyThreshold\":1}}]," P "}",
     "needs at least one objective"},
    {"{\"metrics\":[{\"metricId\":\"a\",\"goal\":\"MAXIMIZE\"},{\"metricId\":\"s\",\"goal\":"
     "\"MAXIMIZE\",\"safetyConfig\":{}}]," P "}",
     "studySpec.metrics[1].safetyConfig.safetyThreshold is required"},
    {"{\"metrics\":[{\"metricId\":\"a\",\"goal\":\"MAXIMIZE\"},{\"metricId\":\"s\",\"goal\":"
     "\"MAXIMIZE\",\"safetyConfig\":{\"safetyThreshold\":1,\"desiredMinSafeTrialsFraction\":"
     "2}}]," P "}",
     "desiredMinSafeTrialsFraction must be in [0, 1]"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\"}]}",
     "studySpec.parameters[0] needs one of doubleValueSpec"},
    {"{" M ",\"parameters\":[{\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}]}",
     "studySpec.parameters[0].parameterId is required"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
     "\"maxValue\":1},\"integerValueSpec\":{\"minValue\":0,\"maxValue\":1}}]}",
     "has both doubleValueSpec and integerValueSpec"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"a\",\"doubleValueSpec\":{\"minValue\":0,"
     "\"maxValue\":1}},{\"parameterId\":\"b\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":"
     "1}},{\"parameterId\":\"c\",\"doubleValueSpec\":{\"minValue\":3,\"maxValue\":1}}]}",
     "studySpec.parameters[2].doubleValueSpec.minValue must be < maxValue"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":1,"
     "\"maxValue\":1}}]}",
     "studySpec.parameters[0].doubleValueSpec.minValue must be < maxValue"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"maxValue\":1}}]}",
     "studySpec.parameters[0].doubleValueSpec.minValue is required"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":\"a\","
     "\"maxValue\":1}}]}",
     "studySpec.parameters[0].doubleValueSpec.minValue must be a number"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":\"NaN\","
     "\"maxValue\":1}}]}",
     "minValue must be a finite number"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
     "\"maxValue\":\"Infinity\"}}]}",
     "maxValue must be a finite number"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
     "\"maxValue\":1,\"defaultValue\":2}}]}",
     "studySpec.parameters[0].doubleValueSpec.defaultValue 2 is outside"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
     "\"maxValue\":1,\"step\":2}}]}",
     "unknown field studySpec.parameters[0].doubleValueSpec.step"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
     "\"maxValue\":1},\"scaleType\":\"UNIT_LOG_SCALE\"}]}",
     "studySpec.parameters[0].scaleType UNIT_LOG_SCALE needs every value > 0"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
     "\"maxValue\":1},\"scaleType\":\"UNIT_REVERSE_LOG_SCALE\"}]}",
     "UNIT_REVERSE_LOG_SCALE needs every value > 0"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"integerValueSpec\":{\"minValue\":0,"
     "\"maxValue\":10},\"scaleType\":\"UNIT_LOG_SCALE\"}]}",
     "UNIT_LOG_SCALE needs every value >= 1"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":1,"
     "\"maxValue\":2},\"scaleType\":\"CUBIC\"}]}",
     "studySpec.parameters[0].scaleType must be UNIT_LINEAR_SCALE"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"integerValueSpec\":{\"minValue\":5,"
     "\"maxValue\":1}}]}",
     "studySpec.parameters[0].integerValueSpec.minValue must be <= maxValue"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"integerValueSpec\":{\"minValue\":0.5,"
     "\"maxValue\":1}}]}",
     "studySpec.parameters[0].integerValueSpec.minValue must be an integer"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"integerValueSpec\":{\"minValue\":\"1x\","
     "\"maxValue\":3}}]}",
     "integerValueSpec.minValue must be an int64"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"discreteValueSpec\":{\"values\":[]}}]}",
     "studySpec.parameters[0].discreteValueSpec.values must not be empty"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"discreteValueSpec\":{\"values\":[1,3,2]}}]}",
     "studySpec.parameters[0].discreteValueSpec.values[2] must be greater"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"discreteValueSpec\":{\"values\":[1,2],"
     "\"defaultValue\":5}}]}",
     "discreteValueSpec.defaultValue 5 is not one of the values"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"categoricalValueSpec\":{\"values\":[\"a\","
     "\"a\"]}}]}",
     "studySpec.parameters[0].categoricalValueSpec.values[1] \"a\" repeats values[0]"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"categoricalValueSpec\":{\"values\":[\"a\","
     "1]}}]}",
     "studySpec.parameters[0].categoricalValueSpec.values[1] must be a string"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"categoricalValueSpec\":{\"values\":[\"a\"],"
     "\"defaultValue\":\"b\"}}]}",
     "categoricalValueSpec.defaultValue \"b\" is not one of the values"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"categoricalValueSpec\":{\"values\":[\"a\"]},"
     "\"scaleType\":\"UNIT_LOG_SCALE\"}]}",
     "UNIT_LOG_SCALE is not allowed for a categorical parameter"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
     "\"maxValue\":1}},{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":"
     "1}}]}",
     "studySpec.parameters[1].parameterId \"x\" is used by another parameter"},
    /* conditional children */
    {"{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
     "\"maxValue\":1},\"conditionalParameterSpecs\":[{\"parentDiscreteValues\":{\"values\":[1]},"
     "\"parameterSpec\":{\"parameterId\":\"c\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":"
     "1}}}]}]}",
     "a double parameter cannot have conditional children"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"o\",\"categoricalValueSpec\":{\"values\":[\"a\","
     "\"b\"]},\"conditionalParameterSpecs\":[{\"parentIntValues\":{\"values\":[1]},"
     "\"parameterSpec\":{\"parameterId\":\"c\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":"
     "1}}}]}]}",
     "it must be parentCategoricalValues"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"o\",\"categoricalValueSpec\":{\"values\":[\"a\","
     "\"b\"]},\"conditionalParameterSpecs\":[{\"parentCategoricalValues\":{\"values\":[\"z\"]},"
     "\"parameterSpec\":{\"parameterId\":\"c\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":"
     "1}}}]}]}",
     "studySpec.parameters[0].conditionalParameterSpecs[0].parentCategoricalValues.values[0] "
     "\"z\" is not one of the parent's values"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"n\",\"integerValueSpec\":{\"minValue\":1,"
     "\"maxValue\":3},\"conditionalParameterSpecs\":[{\"parentIntValues\":{\"values\":[7]},"
     "\"parameterSpec\":{\"parameterId\":\"c\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":"
     "1}}}]}]}",
     "parentIntValues.values[0] 7 is outside the parent's range"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"n\",\"integerValueSpec\":{\"minValue\":1,"
     "\"maxValue\":3},\"conditionalParameterSpecs\":[{\"parentIntValues\":{\"values\":[1]}}]}]}",
     "studySpec.parameters[0].conditionalParameterSpecs[0].parameterSpec is required"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"n\",\"integerValueSpec\":{\"minValue\":1,"
     "\"maxValue\":3},\"conditionalParameterSpecs\":[{\"parentIntValues\":{\"values\":[1]},"
     "\"parameterSpec\":{\"parameterId\":\"n\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":"
     "1}}}]}]}",
     "parameterSpec.parameterId \"n\" is used by another parameter"},
    {"{" M ",\"parameters\":[{\"parameterId\":\"n\",\"integerValueSpec\":{\"minValue\":1,"
     "\"maxValue\":3},\"conditionalParameterSpecs\":[{\"parentIntValues\":{\"values\":[1]},"
     "\"parameterSpec\":{\"parameterId\":\"c\",\"doubleValueSpec\":{\"minValue\":2,\"maxValue\":"
     "1}}}]}]}",
     "studySpec.parameters[0].conditionalParameterSpecs[0].parameterSpec.doubleValueSpec."
     "minValue must be < maxValue"},
    /* options */
    {"{" M "," P ",\"algorithm\":\"MAGIC\"}", "studySpec.algorithm must be one of"},
    {"{" M "," P ",\"observationNoise\":\"LOUD\"}", "studySpec.observationNoise must be one of"},
    {"{" M "," P ",\"measurementSelectionType\":\"FIRST\"}",
     "studySpec.measurementSelectionType must be one of"},
    {"{" M "," P ",\"staleTrialTimeout\":\"10\"}",
     "studySpec.staleTrialTimeout must be a non-negative duration"},
    {"{" M "," P ",\"staleTrialTimeout\":\"-5s\"}",
     "studySpec.staleTrialTimeout must be a non-negative duration"},
    {"{" M "," P ",\"staleTrialTimeout\":30}", "studySpec.staleTrialTimeout must be a duration"},
    {"{" M "," P ",\"seed\":\"abc\"}", "studySpec.seed must be an int64"},
    {"{" M "," P ",\"seed\":1.5}", "studySpec.seed must be an integer"},
    {"{" M "," P ",\"studyStoppingConfig\":{\"maxNumTrials\":0}}",
     "studySpec.studyStoppingConfig.maxNumTrials must be in [1, 2147483647]"},
    {"{" M "," P ",\"studyStoppingConfig\":{\"maxNumTrials\":5,\"minNumTrials\":9}}",
     "studySpec.studyStoppingConfig.minNumTrials must be <= maxNumTrials"},
    {"{" M "," P ",\"studyStoppingConfig\":{\"maxDurationNoProgress\":\"0s\"}}",
     "studySpec.studyStoppingConfig.maxDurationNoProgress must be > 0s"},
    {"{" M "," P ",\"studyStoppingConfig\":{\"maximumRuntimeConstraint\":{\"endTime\":"
     "\"yesterday\"}}}",
     "studySpec.studyStoppingConfig.maximumRuntimeConstraint.endTime must be an RFC 3339"},
    {"{" M "," P ",\"studyStoppingConfig\":{\"maxTrials\":5}}",
     "unknown field studySpec.studyStoppingConfig.maxTrials"},
    {"{" M "," P ",\"medianAutomatedStoppingSpec\":{\"useElapsedDuration\":\"yes\"}}",
     "studySpec.medianAutomatedStoppingSpec.useElapsedDuration must be true or false"},
    {"{" M "," P ",\"decayCurveStoppingSpec\":{}}",
     "studySpec.decayCurveStoppingSpec is not supported"},
};

static void test_bad_specs(struct daemon *d)
{
	char body[4096];
	for (size_t i = 0; i < sizeof(bad_specs) / sizeof(bad_specs[0]); i++) {
		snprintf(body, sizeof(body), "{\"displayName\":\"v%zu\",\"studySpec\":%s}", i,
		         bad_specs[i].spec);
		REJECT(d, "POST", "/v1/owners/t/studies", body, 400, "INVALID_ARGUMENT",
		       bad_specs[i].says);
	}
	REJECT(d, "POST", "/v1/owners/t/studies", "{\"studySpec\":" SPEC_RANDOM "}", 400,
	       "INVALID_ARGUMENT", "displayName is required");
	REJECT(d, "POST", "/v1/owners/t/studies",
	       "{\"displayName\":\"has space\",\"studySpec\":" SPEC_RANDOM "}", 400,
	       "INVALID_ARGUMENT", "displayName \"has space\" must match");
	REJECT(d, "POST", "/v1/owners/t/studies", "{\"displayName\":\"ok\"}", 400,
	       "INVALID_ARGUMENT", "studySpec is required");
}

/* A spec with every feature validates, and the stored spec is canonical. */
static void test_good_spec(struct daemon *d)
{
	json_t *s = CALL(
	    d, "POST", "/v1/owners/t/studies",
	    "{\"displayName\":\"full\",\"studySpec\":{\"metrics\":[{\"metricId\":\"acc\",\"goal\":"
	    "\"MAXIMIZE\"},{\"metricId\":\"mem\",\"goal\":\"MINIMIZE\",\"safetyConfig\":{"
	    "\"safetyThreshold\":8,\"desiredMinSafeTrialsFraction\":0.5}}],\"parameters\":[{"
	    "\"parameterId\":\"lr\",\"doubleValueSpec\":{\"minValue\":1e-5,\"maxValue\":1,"
	    "\"defaultValue\":0.01},\"scaleType\":\"UNIT_LOG_SCALE\"},{\"parameterId\":\"n\","
	    "\"integerValueSpec\":{\"minValue\":\"1\",\"maxValue\":64},\"scaleType\":"
	    "\"UNIT_REVERSE_LOG_SCALE\"},{\"parameterId\":\"bs\",\"discreteValueSpec\":{\"values\":"
	    "["
	    "16,32,64]},\"conditionalParameterSpecs\":[{\"parentDiscreteValues\":{\"values\":[64]},"
	    "\"parameterSpec\":{\"parameterId\":\"acc_steps\",\"integerValueSpec\":{\"minValue\":1,"
	    "\"maxValue\":4}}}]},{\"parameterId\":\"opt\",\"categoricalValueSpec\":{\"values\":["
	    "\"sgd\",\"adam\"],\"defaultValue\":\"adam\"},\"conditionalParameterSpecs\":[{"
	    "\"parentCategoricalValues\":{\"values\":[\"sgd\"]},\"parameterSpec\":{\"parameterId\":"
	    "\"momentum\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":0.99}}}]}],"
	    "\"algorithm\":"
	    "\"RANDOM_SEARCH\",\"observationNoise\":\"HIGH\",\"measurementSelectionType\":"
	    "\"BEST_MEASUREMENT\",\"medianAutomatedStoppingSpec\":{\"useElapsedDuration\":false},"
	    "\"studyStoppingConfig\":{\"maxNumTrials\":50,\"maxNumTrialsNoProgress\":10,"
	    "\"maxDurationNoProgress\":\"3600s\",\"minNumTrials\":5,\"maximumRuntimeConstraint\":{"
	    "\"maxDuration\":\"86400s\"}},\"staleTrialTimeout\":\"90.5s\",\"seed\":42}}",
	    200);
	json_t *sp = json_object_get(s, "studySpec");
	ASSERT_EQ_STR(jstr(sp, "seed"), "42");
	ASSERT_EQ_STR(jstr(sp, "staleTrialTimeout"), "90.500s");
	json_t *n = json_array_get(json_object_get(sp, "parameters"), 1);
	ASSERT_EQ_STR(jstr(json_object_get(n, "integerValueSpec"), "maxValue"), "64");
	json_decref(s);
	/* its trials carry the conditional children only when active */
	json_t *op = suggest(d, "full", 20, "w", 200);
	json_t *trials = op_trials(op);
	ASSERT_EQ_INT(json_array_size(trials), 20);
	for (size_t i = 0; i < json_array_size(trials); i++) {
		json_t *ps = json_object_get(json_array_get(trials, i), "parameters");
		const char *opt = NULL;
		double bs = 0;
		int has_mom = 0, has_acc = 0;
		for (size_t k = 0; k < json_array_size(ps); k++) {
			json_t *p = json_array_get(ps, k);
			const char *id = jstr(p, "parameterId");
			json_t *v = json_object_get(p, "value");
			if (!strcmp(id, "opt"))
				opt = json_string_value(v);
			if (!strcmp(id, "bs"))
				bs = json_number_value(v);
			if (!strcmp(id, "lr"))
				ASSERT_TRUE(json_number_value(v) >= 1e-5 &&
				            json_number_value(v) <= 1);
			if (!strcmp(id, "n"))
				ASSERT_TRUE(json_is_integer(v) && json_integer_value(v) >= 1 &&
				            json_integer_value(v) <= 64);
			has_mom |= !strcmp(id, "momentum");
			has_acc |= !strcmp(id, "acc_steps");
		}
		ASSERT_TRUE(opt != NULL);
		ASSERT_EQ_INT(has_mom, opt && !strcmp(opt, "sgd"));
		ASSERT_EQ_INT(has_acc, bs == 64);
	}
	json_decref(op);
}

static void test_bad_bodies(struct daemon *d)
{
	create_study(d, "b", SPEC_RANDOM);
	json_decref(suggest(d, "b", 1, "w", 200));
	const char *tp = "/v1/owners/t/studies/b/trials/1";
	char path[256];
	/* suggest */
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials:suggest", "{\"suggestionCount\":1}", 400,
	       "INVALID_ARGUMENT", "clientId is required");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials:suggest",
	       "{\"suggestionCount\":0,\"clientId\":\"w\"}", 400, "INVALID_ARGUMENT",
	       "suggestionCount must be in [1, 100]");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials:suggest",
	       "{\"suggestionCount\":\"x\",\"clientId\":\"w\"}", 400, "INVALID_ARGUMENT",
	       "suggestionCount must be an int64");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials:suggest",
	       "{\"clientId\":\"w\",\"count\":2}", 400, "INVALID_ARGUMENT", "unknown field count");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials:suggest", "{\"clientId\":5}", 400,
	       "INVALID_ARGUMENT", "clientId must be a string");
	REJECT(d, "POST", "/v1/owners/t/studies/nope/trials:suggest", "{\"clientId\":\"w\"}", 404,
	       "NOT_FOUND", "owners/t/studies/nope");
	/* measurements */
	snprintf(path, sizeof(path), "%s:addTrialMeasurement", tp);
	REJECT(d, "POST", path, "{}", 400, "INVALID_ARGUMENT", "measurement is required");
	REJECT(d, "POST", path,
	       "{\"measurement\":{\"metrics\":[{\"metricId\":\"loss\",\"value\":1}]}}", 400,
	       "INVALID_ARGUMENT",
	       "measurement.metrics[0].metricId \"loss\" is not a metric of the study (acc)");
	REJECT(d, "POST", path,
	       "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":\"NaN\"}]}}", 400,
	       "INVALID_ARGUMENT", "measurement.metrics[0].value must be a finite number");
	REJECT(d, "POST", path,
	       "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1},{\"metricId\":"
	       "\"acc\",\"value\":2}]}}",
	       400, "INVALID_ARGUMENT", "measurement.metrics[1].metricId \"acc\" is given twice");
	REJECT(d, "POST", path, "{\"measurement\":{\"metrics\":[]}}", 400, "INVALID_ARGUMENT",
	       "measurement.metrics needs at least one metric");
	REJECT(
	    d, "POST", path,
	    "{\"measurement\":{\"stepCount\":-1,\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}",
	    400, "INVALID_ARGUMENT", "measurement.stepCount must be >= 0");
	REJECT(d, "POST", path,
	       "{\"measurement\":{\"elapsedDuration\":\"5m\",\"metrics\":[{\"metricId\":\"acc\","
	       "\"value\":1}]}}",
	       400, "INVALID_ARGUMENT",
	       "measurement.elapsedDuration must be a non-negative duration");
	REJECT(
	    d, "POST", path,
	    "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1,\"unit\":\"%\"}]}}",
	    400, "INVALID_ARGUMENT", "unknown field measurement.metrics[0].unit");
	/* complete */
	snprintf(path, sizeof(path), "%s:complete", tp);
	REJECT(d, "POST", path, "{}", 400, "INVALID_ARGUMENT",
	       "complete needs finalMeasurement, earlier measurements");
	REJECT(d, "POST", path,
	       "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"x\",\"value\":1}]}}", 400,
	       "INVALID_ARGUMENT", "finalMeasurement.metrics[0].metricId \"x\" is not a metric");
	REJECT(d, "POST", path, "{\"infeasibleReason\":\"oom\"}", 400, "INVALID_ARGUMENT",
	       "infeasibleReason is only allowed with trialInfeasible: true");
	REJECT(d, "POST", path, "{\"trialInfeasible\":1}", 400, "INVALID_ARGUMENT",
	       "trialInfeasible must be true or false");
	/* stop / early stopping take no fields */
	snprintf(path, sizeof(path), "%s:stop", tp);
	REJECT(d, "POST", path, "{\"now\":true}", 400, "INVALID_ARGUMENT", "unknown field now");
	/* trial create */
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials", "{}", 400, "INVALID_ARGUMENT",
	       "parameters is required");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials",
	       "{\"parameters\":[{\"parameterId\":\"x\",\"value\":2}]}", 400, "INVALID_ARGUMENT",
	       "parameters");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials",
	       "{\"parameters\":[{\"parameterId\":\"y\",\"value\":0.5}]}", 400, "INVALID_ARGUMENT",
	       "parameters[0].parameterId \"y\" is not a parameter of the study");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials", "{\"parameters\":[]}", 400,
	       "INVALID_ARGUMENT", "parameters");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials",
	       "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.5},{\"parameterId\":\"x\","
	       "\"value\":0.5}]}",
	       400, "INVALID_ARGUMENT", "is given twice");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials",
	       "{\"parameters\":[{\"parameterId\":\"x\",\"value\":\"a\"}]}", 400,
	       "INVALID_ARGUMENT", "parameters[0].value must be a number");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials",
	       "{\"state\":\"ACTIVE\",\"parameters\":[{\"parameterId\":\"x\",\"value\":0.5}]}", 400,
	       "INVALID_ARGUMENT", "state must be REQUESTED");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials",
	       "{\"state\":\"SUCCEEDED\",\"parameters\":[{\"parameterId\":\"x\",\"value\":0.5}]}",
	       400, "INVALID_ARGUMENT", "a SUCCEEDED trial needs finalMeasurement");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials",
	       "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.5}],\"finalMeasurement\":{"
	       "\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}",
	       400, "INVALID_ARGUMENT", "finalMeasurement is only allowed with state SUCCEEDED");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials",
	       "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.5}],\"id\":\"9\"}", 400,
	       "INVALID_ARGUMENT", "unknown field id");
	REJECT(d, "POST", "/v1/owners/t/studies/b/trials:listOptimalTrials", "{\"all\":true}", 400,
	       "INVALID_ARGUMENT", "unknown field all");
	REJECT(d, "GET", "/v1/owners/t/studies/b/trials?filter=state%3DDONE", NULL, 400,
	       "INVALID_ARGUMENT", "unknown state \"DONE\"");
	REJECT(d, "GET", "/v1/owners/t/studies/b/trials?filter=id%3D3", NULL, 400,
	       "INVALID_ARGUMENT", "filter \"id=3\" is not understood");
}

static void test_typed_parameters(struct daemon *d)
{
	create_study(
	    d, "typed",
	    "{\"algorithm\":\"RANDOM_SEARCH\",\"metrics\":[{\"metricId\":\"m\",\"goal\":"
	    "\"MINIMIZE\"}],\"parameters\":[{\"parameterId\":\"n\",\"integerValueSpec\":{"
	    "\"minValue\":1,\"maxValue\":5}},{\"parameterId\":\"d\",\"discreteValueSpec\":{"
	    "\"values\":[0.1,0.5]}},{\"parameterId\":\"c\",\"categoricalValueSpec\":{"
	    "\"values\":[\"a\",\"b\"]}}]}");
	const char *tp = "/v1/owners/t/studies/typed/trials";
	REJECT(d, "POST", tp,
	       "{\"parameters\":[{\"parameterId\":\"n\",\"value\":1.5},{\"parameterId\":\"d\","
	       "\"value\":0.1},{\"parameterId\":\"c\",\"value\":\"a\"}]}",
	       400, "INVALID_ARGUMENT", "parameters[0].value must be an integer");
	REJECT(d, "POST", tp,
	       "{\"parameters\":[{\"parameterId\":\"n\",\"value\":9},{\"parameterId\":\"d\","
	       "\"value\":0.1},{\"parameterId\":\"c\",\"value\":\"a\"}]}",
	       400, "INVALID_ARGUMENT", "parameters");
	REJECT(d, "POST", tp,
	       "{\"parameters\":[{\"parameterId\":\"n\",\"value\":1},{\"parameterId\":\"d\","
	       "\"value\":0.3},{\"parameterId\":\"c\",\"value\":\"a\"}]}",
	       400, "INVALID_ARGUMENT", "parameters");
	REJECT(d, "POST", tp,
	       "{\"parameters\":[{\"parameterId\":\"n\",\"value\":1},{\"parameterId\":\"d\","
	       "\"value\":0.1},{\"parameterId\":\"c\",\"value\":\"z\"}]}",
	       400, "INVALID_ARGUMENT", "parameters[2].value \"z\" is not a value of c");
	REJECT(d, "POST", tp,
	       "{\"parameters\":[{\"parameterId\":\"n\",\"value\":1},{\"parameterId\":\"d\","
	       "\"value\":0.1}]}",
	       400, "INVALID_ARGUMENT", "parameters");
	json_t *t =
	    CALL(d, "POST", tp,
	         "{\"parameters\":[{\"parameterId\":\"c\",\"value\":\"b\"},{\"parameterId\":"
	         "\"n\",\"value\":3},{\"parameterId\":\"d\",\"value\":0.5}]}",
	         200);
	/* stored in spec order, typed */
	json_t *ps = json_object_get(t, "parameters");
	ASSERT_EQ_STR(jstr(json_array_get(ps, 0), "parameterId"), "n");
	ASSERT_TRUE(json_is_integer(json_object_get(json_array_get(ps, 0), "value")));
	ASSERT_EQ_STR(jstr(json_array_get(ps, 2), "value"), "b");
	ASSERT_EQ_STR(jstr(t, "state"), "REQUESTED");
	json_decref(t);
}

int main(void)
{
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("api-validation");
	create_owner(d, "t");
	test_bad_specs(d);
	test_good_spec(d);
	test_bad_bodies(d);
	test_typed_parameters(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("api-validation");
}
