/* spec: the space a StudySpec builds (types, scales, conditional children
 * flattened after their parent with parent values in value space), the
 * metrics and options, canonical equality, and field paths in errors. */
#include "spec.h"

#include <stdlib.h>

#include "test.h"

static int parse(const char *text, struct spec *sp, char **canon, struct err *e)
{
	json_t *v = json_loads(text, 0, NULL);
	if (!v) {
		TEST_FAIL("bad test JSON: %s", text);
		return -1;
	}
	int rc = spec_parse(v, "studySpec", NULL, sp, canon, e);
	json_decref(v);
	return rc;
}

static void test_space(void)
{
	struct spec sp;
	struct err e;
	char *canon = NULL;
	int rc = parse(
	    "{\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"},{\"metricId\":\"mem\","
	    "\"goal\":\"MINIMIZE\",\"safetyConfig\":{\"safetyThreshold\":8}}],\"parameters\":[{"
	    "\"parameterId\":\"lr\",\"doubleValueSpec\":{\"minValue\":1e-4,\"maxValue\":1},"
	    "\"scaleType\":\"UNIT_LOG_SCALE\"},{\"parameterId\":\"opt\",\"categoricalValueSpec\":{"
	    "\"values\":[\"sgd\",\"adam\"]},\"conditionalParameterSpecs\":[{"
	    "\"parentCategoricalValues\":{\"values\":[\"adam\"]},\"parameterSpec\":{"
	    "\"parameterId\":"
	    "\"beta\",\"discreteValueSpec\":{\"values\":[0.9,0.99]},\"conditionalParameterSpecs\":["
	    "{"
	    "\"parentDiscreteValues\":{\"values\":[0.99]},\"parameterSpec\":{\"parameterId\":"
	    "\"eps\","
	    "\"integerValueSpec\":{\"minValue\":\"1\",\"maxValue\":9}}}]}}]},{\"parameterId\":"
	    "\"n\","
	    "\"integerValueSpec\":{\"minValue\":1,\"maxValue\":4}}],\"algorithm\":\"GRID_SEARCH\","
	    "\"staleTrialTimeout\":\"1.5s\",\"seed\":\"-3\",\"studyStoppingConfig\":{"
	    "\"maxNumTrials\":\"10\"}}",
	    &sp, &canon, &e);
	ASSERT_EQ_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "%s\n", e.msg);
		return;
	}
	ASSERT_EQ_INT(sp.space.n, 5);
	ASSERT_EQ_STR(sp.space.params[0].id, "lr");
	ASSERT_EQ_INT(sp.space.params[0].scale, SPACE_LOG);
	ASSERT_EQ_STR(sp.space.params[1].id, "opt");
	ASSERT_EQ_INT(sp.space.params[1].n_categories, 2);
	ASSERT_EQ_STR(sp.space.params[2].id, "beta");
	ASSERT_EQ_INT(sp.space.params[2].parent, 1);
	ASSERT_EQ_INT(sp.space.params[2].n_parent_values, 1);
	ASSERT_EQ_DBL(sp.space.params[2].parent_values[0], 1, 0); /* index of "adam" */
	ASSERT_EQ_STR(sp.space.params[3].id, "eps");
	ASSERT_EQ_INT(sp.space.params[3].parent, 2);
	ASSERT_EQ_DBL(sp.space.params[3].parent_values[0], 0.99, 0);
	ASSERT_EQ_INT(sp.space.params[3].type, SPACE_INTEGER);
	ASSERT_EQ_STR(sp.space.params[4].id, "n");
	ASSERT_EQ_INT(sp.space.params[4].parent, -1);
	ASSERT_EQ_INT(sp.n_metrics, 2);
	ASSERT_EQ_INT(sp.n_objectives, 1);
	ASSERT_TRUE(sp.dmetrics[1].safety && sp.dmetrics[1].goal == DESIGNER_MINIMIZE);
	ASSERT_EQ_INT(sp.algorithm, DESIGNER_GRID);
	ASSERT_EQ_INT(sp.stale_timeout_ns, 1500000000LL);
	ASSERT_TRUE(sp.has_seed && sp.seed == (uint64_t)-3);
	ASSERT_EQ_INT(sp.max_num_trials, 10);
	ASSERT_TRUE(strstr(canon, "\"minValue\":\"1\"") != NULL);
	ASSERT_TRUE(strstr(canon, "\"seed\":\"-3\"") != NULL);
	/* the canonical text parses back to the same canonical text */
	struct spec sp2;
	char *canon2 = NULL;
	ASSERT_EQ_INT(parse(canon, &sp2, &canon2, &e), 0);
	ASSERT_EQ_STR(canon2, canon);
	spec_free(&sp2);
	free(canon2);
	spec_free(&sp);
	free(canon);
}

static void test_equal_specs(void)
{
	struct spec a, b;
	struct err e;
	char *ca = NULL, *cb = NULL;
	ASSERT_EQ_INT(parse("{\"metrics\":[{\"metricId\":\"m\",\"goal\":\"MAXIMIZE\"}],"
	                    "\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{"
	                    "\"minValue\":0,\"maxValue\":1}}]}",
	                    &a, &ca, &e),
	              0);
	ASSERT_EQ_INT(
	    parse("{\"algorithm\":\"ALGORITHM_UNSPECIFIED\",\"parameters\":[{"
	          "\"doubleValueSpec\":{\"maxValue\":1.0,\"minValue\":0.0},\"parameterId\":"
	          "\"x\",\"scaleType\":\"SCALE_TYPE_UNSPECIFIED\"}],\"metrics\":[{\"goal\":"
	          "\"MAXIMIZE\",\"metricId\":\"m\"}]}",
	          &b, &cb, &e),
	    0);
	ASSERT_EQ_STR(cb, ca);
	ASSERT_EQ_INT(a.algorithm, DESIGNER_GP_EI);
	spec_free(&a);
	spec_free(&b);
	free(ca);
	free(cb);
}

static void test_errors(void)
{
	struct spec sp;
	struct err e;
	ASSERT_TRUE(
	    parse("{\"metrics\":[{\"metricId\":\"m\",\"goal\":\"MAXIMIZE\"}],"
	          "\"parameters\":[{\"parameterId\":\"n\",\"integerValueSpec\":{\"minValue\":"
	          "1,\"maxValue\":3},\"conditionalParameterSpecs\":[{\"parentIntValues\":{"
	          "\"values\":[2]},\"parameterSpec\":{\"parameterId\":\"c\","
	          "\"categoricalValueSpec\":{\"values\":[]}}}]}]}",
	          &sp, NULL, &e) < 0);
	ASSERT_EQ_STR(e.msg, "studySpec.parameters[0].conditionalParameterSpecs[0].parameterSpec."
	                     "categoricalValueSpec.values must not be empty");
	ASSERT_EQ_INT(e.code, ERR_INVALID_ARGUMENT);
	/* a failed parse leaves nothing to free, and spec_free is safe anyway */
	spec_free(&sp);
	spec_free(NULL);
}

int main(void)
{
	test_space();
	test_equal_specs();
	test_errors();
	return test_done("unit-spec");
}
