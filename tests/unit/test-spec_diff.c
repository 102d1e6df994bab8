/* spec_diff: two StudySpecs (canonical, as spec_parse stores them) are the
 * same study whatever the order of parameters, children, metrics and
 * categorical values; any real difference is named, with both values. */
#include "spec_diff.h"

#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "test.h"

/* The canonical text of a spec written in single quotes for readability. */
static char *canon(const char *quoted)
{
	char *text = strdup(quoted), *out = NULL;
	for (char *p = text; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_t *v = json_loads(text, 0, NULL);
	struct spec sp;
	struct err e;
	if (!v || spec_parse(v, "studySpec", NULL, &sp, &out, &e) != 0)
		TEST_FAIL("bad test spec: %s", text);
	else
		spec_free(&sp);
	json_decref(v);
	free(text);
	return out;
}

#define M1 "'metrics':[{'metricId':'acc','goal':'MAXIMIZE'}]"
#define M1S                                                                                     \
	"'metrics':[{'metricId':'acc','goal':'MAXIMIZE'},{'metricId':'mem','goal':'MINIMIZE','" \
	"safetyConfig':{'safetyThreshold':8}}]"
#define P_LR                                                                                       \
	"{'parameterId':'lr','doubleValueSpec':{'minValue':0.001,'maxValue':1},'scaleType':'UNIT_" \
	"LOG_SCALE'}"
#define P_N "{'parameterId':'n','integerValueSpec':{'minValue':1,'maxValue':8}}"
#define P_D "{'parameterId':'d','discreteValueSpec':{'values':[1,2,4]}}"
#define P_OPT                                                                                      \
	"{'parameterId':'opt','categoricalValueSpec':{'values':['adam','sgd','rms']},'"            \
	"conditionalParameterSpecs':[{'parentCategoricalValues':{'values':['sgd','rms']},'"        \
	"parameterSpec':{'parameterId':'mom','doubleValueSpec':{'minValue':0,'maxValue':0.9}}},{'" \
	"parentCategoricalValues':{'values':['adam']},'parameterSpec':{'parameterId':'beta','"     \
	"doubleValueSpec':{'minValue':0.8,'maxValue':0.999}}}]}"
#define P_OPT2                                                                                     \
	"{'parameterId':'opt','categoricalValueSpec':{'values':['rms','sgd','adam']},'"            \
	"conditionalParameterSpecs':[{'parentCategoricalValues':{'values':['adam']},'"             \
	"parameterSpec':{'parameterId':'beta','doubleValueSpec':{'minValue':0.8,'maxValue':0.999}" \
	"}},{'parentCategoricalValues':{'values':['rms','sgd']},'parameterSpec':{'parameterId':'"  \
	"mom','doubleValueSpec':{'minValue':0,'maxValue':0.9}}}]}"

#define BASE "{" M1S ",'parameters':[" P_LR "," P_N "," P_D "," P_OPT "],'seed':'7'}"

/* spec_diff(BASE, other): 0 when want is NULL, else 1 with want in the
 * message. */
static void expect(const char *other, const char *want, int line)
{
	char *a = canon(BASE), *b = canon(other), why[512];
	test_checks++;
	if (!a || !b) {
		free(a);
		free(b);
		return;
	}
	int rc = spec_diff(a, b, why, sizeof(why));
	if (!want && rc != 0)
		TEST_FAIL("line %d: differ (%s), want the same", line, why);
	if (want && (rc != 1 || !strstr(why, want)))
		TEST_FAIL("line %d: rc %d \"%s\", want \"%s\"", line, rc, why, want);
	free(a);
	free(b);
}
#define SAME(other)       expect((other), NULL, __LINE__)
#define DIFF(other, want) expect((other), (want), __LINE__)

static void test_same(void)
{
	SAME(BASE);
	/* every list in another order */
	SAME("{'seed':'7','parameters':[" P_OPT2 "," P_D "," P_N "," P_LR
	     "],'metrics':[{'metricId':"
	     "'mem','goal':'MINIMIZE','safetyConfig':{'safetyThreshold':8}},{'metricId':'acc',"
	     "'goal':'MAXIMIZE'}]}");
	/* defaults written out, numbers written otherwise */
	SAME("{" M1S ",'parameters':[{'parameterId':'lr','doubleValueSpec':{'minValue':1e-3,"
	     "'maxValue':1.0},'scaleType':'UNIT_LOG_SCALE'}," P_N "," P_D "," P_OPT
	     "],'seed':7,'algorithm':'ALGORITHM_UNSPECIFIED'}");
	/* the default scale named (the old CLI sent it) or left out */
	SAME("{" M1S ",'parameters':[" P_LR ",{'parameterId':'n','integerValueSpec':{'minValue':1,"
	     "'maxValue':8},'scaleType':'UNIT_LINEAR_SCALE'}," P_D "," P_OPT "],'seed':'7'}");
}

static void test_scale(void)
{
	DIFF(
	    "{" M1S ",'parameters':[" P_LR ",{'parameterId':'n','integerValueSpec':{'minValue':1,"
	    "'maxValue':8},'scaleType':'UNIT_LOG_SCALE'}," P_D "," P_OPT "],'seed':'7'}",
	    "parameter \"n\" scaleType UNIT_LINEAR_SCALE (existing) vs UNIT_LOG_SCALE (requested)");
}

static void test_differences(void)
{
	DIFF("{" M1S ",'parameters':[" P_LR ",{'parameterId':'n','integerValueSpec':{'minValue':1,"
	     "'maxValue':9}}," P_D "," P_OPT "],'seed':'7'}",
	     "parameter \"n\" integerValueSpec.maxValue 8 (existing) vs 9 (requested)");
	DIFF("{" M1S ",'parameters':[" P_LR "," P_N ",{'parameterId':'d','discreteValueSpec':{"
	     "'values':[1,2,8]}}," P_OPT "],'seed':'7'}",
	     "parameter \"d\" discreteValueSpec.values [1.0,2.0,4.0] (existing) vs [1.0,2.0,8.0] "
	     "(requested)");
	DIFF("{" M1S ",'parameters':[" P_LR "," P_N "," P_OPT "],'seed':'7'}",
	     "parameter \"d\" is in the existing spec, not in the requested one");
	DIFF("{" M1S ",'parameters':[" P_LR "," P_N "," P_D "," P_OPT ",{'parameterId':'z',"
	     "'integerValueSpec':{'minValue':1,'maxValue':2}}],'seed':'7'}",
	     "parameter \"z\" is in the requested spec, not in the existing one");
	DIFF("{" M1 ",'parameters':[" P_LR "," P_N "," P_D "," P_OPT "],'seed':'7'}",
	     "metric \"mem\" is in the existing spec, not in the requested one");
	DIFF("{" M1S ",'parameters':[" P_LR "," P_N "," P_D "," P_OPT "],'seed':'8'}",
	     "seed 7 (existing) vs 8 (requested)");
	DIFF("{" M1S ",'parameters':[" P_LR "," P_N "," P_D "," P_OPT
	     "],'seed':'7','studyStoppingConfig':{'maxNumTrials':5}}",
	     "studyStoppingConfig not set (existing) vs {\"maxNumTrials\":");
	/* a child's parent values, a child's own spec */
	DIFF("{" M1S ",'parameters':[" P_LR "," P_N "," P_D
	     ",{'parameterId':'opt','categoricalValueSpec':{'values':['adam','sgd','rms']},"
	     "'conditionalParameterSpecs':[{'parentCategoricalValues':{'values':['sgd']},"
	     "'parameterSpec':{'parameterId':'mom','doubleValueSpec':{'minValue':0,'maxValue':0.9}}"
	     "},{'parentCategoricalValues':{'values':['adam']},'parameterSpec':{'parameterId':"
	     "'beta','doubleValueSpec':{'minValue':0.8,'maxValue':0.999}}}]}],'seed':'7'}",
	     "parameter \"mom\" parentCategoricalValues.values: rms is in the existing spec");
	DIFF("{" M1S ",'parameters':[" P_LR "," P_N "," P_D
	     ",{'parameterId':'opt','categoricalValueSpec':{'values':['adam','sgd','rms']},"
	     "'conditionalParameterSpecs':[{'parentCategoricalValues':{'values':['sgd','rms']},"
	     "'parameterSpec':{'parameterId':'mom','doubleValueSpec':{'minValue':0,'maxValue':0.5}}"
	     "},{'parentCategoricalValues':{'values':['adam']},'parameterSpec':{'parameterId':"
	     "'beta','doubleValueSpec':{'minValue':0.8,'maxValue':0.999}}}]}],'seed':'7'}",
	     "parameter \"mom\" doubleValueSpec.maxValue 0.9 (existing) vs 0.5 (requested)");
}

static void test_objective_order(void)
{
	char *a = canon("{'metrics':[{'metricId':'a','goal':'MAXIMIZE'},{'metricId':'b','goal':"
	                "'MINIMIZE'}],'parameters':[" P_N "]}");
	char *b = canon("{'metrics':[{'metricId':'b','goal':'MINIMIZE'},{'metricId':'a','goal':"
	                "'MAXIMIZE'}],'parameters':[" P_N "]}");
	char why[300];
	ASSERT_EQ_INT(spec_diff(a, b, why, sizeof(why)), 1);
	ASSERT_TRUE(strstr(why, "the objectives are in another order: a, b (existing) vs b, a "
	                        "(requested)") != NULL);
	/* a short buffer: cut, terminated */
	char tiny[16];
	ASSERT_EQ_INT(spec_diff(a, b, tiny, sizeof(tiny)), 1);
	ASSERT_EQ_INT(strlen(tiny), sizeof(tiny) - 1);
	/* text that does not parse differs from everything */
	ASSERT_EQ_INT(spec_diff(a, "{not json", why, sizeof(why)), 1);
	ASSERT_EQ_STR(why, "the specs differ");
	free(a);
	free(b);
}

int main(void)
{
	test_same();
	test_differences();
	test_scale();
	test_objective_order();
	return test_done("unit-spec_diff");
}
