/* route: every path form, the refusals (escapes, '..', empty segments, bad
 * ids, unknown verbs) and allowed methods. The query string is api_query's
 * (test-api_query.c). */
#include "route.h"

#include "test.h"

static struct route parse_ok(const char *path, int line)
{
	struct route r;
	struct err e;
	test_checks++;
	if (route_parse(path, &r, &e) != 0)
		TEST_FAIL("line %d: %s: %s", line, path, e.msg);
	return r;
}
#define PARSE_OK(p) parse_ok((p), __LINE__)

static void parse_bad(const char *path, enum err_code want, const char *says, int line)
{
	struct route r;
	struct err e = {0};
	int rc = route_parse(path, &r, &e);
	test_checks++;
	if (rc != -(int)want)
		TEST_FAIL("line %d: %s: rc %d, want %d (%s)", line, path, rc, -(int)want, e.msg);
	else if (!strstr(e.msg, says))
		TEST_FAIL("line %d: %s: \"%s\" does not say \"%s\"", line, path, e.msg, says);
}
#define PARSE_BAD(p, w, s) parse_bad((p), (w), (s), __LINE__)

static void test_forms(void)
{
	struct route r = PARSE_OK("/v1/owners/a/studies");
	ASSERT_EQ_INT(r.kind, ROUTE_STUDIES);
	ASSERT_EQ_STR(r.owner, "a");
	r = PARSE_OK("/v1/owners/a/studies:lookup");
	ASSERT_EQ_INT(r.kind, ROUTE_STUDIES_LOOKUP);
	r = PARSE_OK("/v1/owners/a/studies/s.1_x-y");
	ASSERT_EQ_INT(r.kind, ROUTE_STUDY);
	ASSERT_EQ_STR(r.study, "s.1_x-y");
	r = PARSE_OK("/v1/owners/a/studies/s/trials");
	ASSERT_EQ_INT(r.kind, ROUTE_TRIALS);
	r = PARSE_OK("/v1/owners/a/studies/s/trials:suggest");
	ASSERT_EQ_INT(r.kind, ROUTE_TRIALS_SUGGEST);
	r = PARSE_OK("/v1/owners/a/studies/s/trials%3AlistOptimalTrials");
	ASSERT_EQ_INT(r.kind, ROUTE_TRIALS_OPTIMAL);
	r = PARSE_OK("/v1/owners/a/studies/s/trials/123");
	ASSERT_EQ_INT(r.kind, ROUTE_TRIAL);
	ASSERT_EQ_INT(r.trial, 123);
	r = PARSE_OK("/v1/owners/a/studies/s/trials/7:complete");
	ASSERT_EQ_INT(r.kind, ROUTE_TRIAL_VERB);
	ASSERT_EQ_INT(r.verb, VERB_COMPLETE);
	ASSERT_EQ_INT(r.trial, 7);
	r = PARSE_OK("/v1/owners/a/studies/s/trials/7:addTrialMeasurement");
	ASSERT_EQ_INT(r.verb, VERB_ADD_MEASUREMENT);
	r = PARSE_OK("/v1/owners/a/studies/s/trials/7:checkTrialEarlyStoppingState");
	ASSERT_EQ_INT(r.verb, VERB_CHECK_EARLY_STOPPING);
	r = PARSE_OK("/v1/owners/a/studies/s/trials/7:stop");
	ASSERT_EQ_INT(r.verb, VERB_STOP);
	r = PARSE_OK("/v1/owners/a/studies/s/operations/9");
	ASSERT_EQ_INT(r.kind, ROUTE_OPERATION);
	ASSERT_EQ_INT(r.op, 9);
	r = PARSE_OK("/v1/owners");
	ASSERT_EQ_INT(r.kind, ROUTE_OWNERS);
	r = PARSE_OK("/v1/owners/a");
	ASSERT_EQ_INT(r.kind, ROUTE_OWNER);
	ASSERT_EQ_STR(r.owner, "a");
	r = PARSE_OK("/v1/owners/a/apiKeys");
	ASSERT_EQ_INT(r.kind, ROUTE_API_KEYS);
	ASSERT_EQ_STR(r.owner, "a");
	r = PARSE_OK("/v1/owners/a/apiKeys/0123456789abcdef");
	ASSERT_EQ_INT(r.kind, ROUTE_API_KEY);
	ASSERT_EQ_STR(r.key, "0123456789abcdef");
	r = PARSE_OK("/v1/auditLog");
	ASSERT_EQ_INT(r.kind, ROUTE_AUDIT_LOG);
	ASSERT_TRUE(route_allows(ROUTE_OWNER, "PATCH"));
	ASSERT_TRUE(!route_allows(ROUTE_OWNERS, "DELETE"));
	ASSERT_TRUE(!route_allows(ROUTE_AUDIT_LOG, "POST"));
	ASSERT_EQ_STR(route_label(&r, "GET"), "auditLog.list");
	PARSE_BAD("/v1/owners/a/apiKeys/k/x", ERR_NOT_FOUND, "no such path");
	PARSE_BAD("/v1/owners/a/apiKeys/..", ERR_INVALID_ARGUMENT, "'..'");
	PARSE_BAD("/v1/owners/a/apiKeys/a%2Fb", ERR_INVALID_ARGUMENT, "percent-escapes");
	PARSE_BAD("/v1/owners/a/apiKeys:x", ERR_NOT_FOUND, "no custom method");
	PARSE_BAD("/v1/owners/a/widgets", ERR_NOT_FOUND, "no such path");
	PARSE_BAD("/v1/auditLog/1", ERR_NOT_FOUND, "no such path");
}

static void test_refusals(void)
{
	PARSE_BAD("/v1/owners/a/studies/s%2F1", ERR_INVALID_ARGUMENT, "percent-escapes");
	PARSE_BAD("/v1/owners/a/studies/%", ERR_INVALID_ARGUMENT, "percent-escapes");
	PARSE_BAD("/v1/owners/a/studies/..", ERR_INVALID_ARGUMENT, "'..'");
	PARSE_BAD("/v1/owners/a/./studies", ERR_INVALID_ARGUMENT, "'..'");
	PARSE_BAD("/v1/owners//studies", ERR_INVALID_ARGUMENT, "empty segment");
	PARSE_BAD("/v1/owners/a/studies/", ERR_INVALID_ARGUMENT, "empty segment");
	PARSE_BAD("/v1/owners/_a/studies", ERR_INVALID_ARGUMENT, "owner id");
	PARSE_BAD("/v1/owners/a/studies/s:x/trials", ERR_INVALID_ARGUMENT, "':' may only");
	PARSE_BAD("/v1/owners/a/studies/s/trials/0", ERR_INVALID_ARGUMENT, "positive integer");
	PARSE_BAD("/v1/owners/a/studies/s/trials/01", ERR_INVALID_ARGUMENT, "positive integer");
	PARSE_BAD("/v1/owners/a/studies/s/trials/1234567890123456789", ERR_INVALID_ARGUMENT,
	          "positive integer");
	PARSE_BAD("/v1/owners/a/studies/s/trials/1:fly", ERR_NOT_FOUND, ":fly");
	PARSE_BAD("/v1/owners/a/studies/s/trials/1/x", ERR_NOT_FOUND, "no such path");
	PARSE_BAD("/v1/owners/a/studies/s/operations/1:get", ERR_NOT_FOUND, "no such path");
	PARSE_BAD("/v2/owners/a/studies", ERR_NOT_FOUND, "no such path");
	PARSE_BAD("/v1/teams/a", ERR_NOT_FOUND, "no such path");
	char longp[1100];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	memcpy(longp, "/v1/", 4);
	PARSE_BAD(longp, ERR_INVALID_ARGUMENT, "longer than");
}

static void test_methods(void)
{
	ASSERT_TRUE(route_allows(ROUTE_STUDIES, "GET"));
	ASSERT_TRUE(route_allows(ROUTE_STUDIES, "POST"));
	ASSERT_TRUE(!route_allows(ROUTE_STUDIES, "DELETE"));
	ASSERT_TRUE(!route_allows(ROUTE_STUDIES, "GE"));
	ASSERT_TRUE(!route_allows(ROUTE_STUDIES, "ET"));
	ASSERT_TRUE(route_allows(ROUTE_TRIAL, "DELETE"));
	ASSERT_TRUE(!route_allows(ROUTE_TRIAL_VERB, "GET"));
	/* metadata PATCH on a study and a trial, labelled apart in /metrics */
	ASSERT_TRUE(route_allows(ROUTE_STUDY, "PATCH"));
	ASSERT_TRUE(route_allows(ROUTE_TRIAL, "PATCH"));
	ASSERT_TRUE(!route_allows(ROUTE_STUDIES, "PATCH"));
	struct route rs = {.kind = ROUTE_STUDY}, rt = {.kind = ROUTE_TRIAL};
	ASSERT_EQ_STR(route_label(&rs, "PATCH"), "studies.patch");
	ASSERT_EQ_STR(route_label(&rs, "GET"), "studies.get");
	ASSERT_EQ_STR(route_label(&rt, "PATCH"), "trials.patch");
	ASSERT_EQ_STR(route_label(&rt, "DELETE"), "trials.delete");
	ASSERT_TRUE(!route_allows(ROUTE_OPERATION, ""));
}

static void test_importance_route(void)
{
	struct route r;
	struct err e;
	ASSERT_EQ_INT(route_parse("/v1/owners/o/studies/s:importance", &r, &e), 0);
	ASSERT_EQ_INT(r.kind, ROUTE_STUDY_IMPORTANCE);
	ASSERT_TRUE(route_allows(ROUTE_STUDY_IMPORTANCE, "GET"));
	ASSERT_TRUE(!route_allows(ROUTE_STUDY_IMPORTANCE, "POST"));
}

int main(void)
{
	test_forms();
	test_refusals();
	test_methods();
	test_importance_route();
	return test_done("unit-route");
}
