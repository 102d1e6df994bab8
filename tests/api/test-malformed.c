/* A table of malformed requests, sent to a daemon started with small input
 * limits: each gets a 4xx whose message names the problem, changes nothing
 * (but the audit log), and the daemon goes on serving. */
#include "apitest.h"
#include "rawhttp.h"

#define M         "\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}]"
#define DP(id)    "{\"parameterId\":\"" id "\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}"
#define SPEC      "{" M ",\"parameters\":[" DP("x") "]}"
#define STUDIES   "/v1/owners/t/studies"
#define S1        "/v1/owners/t/studies/s1"
#define T1        S1 "/trials/1"
#define CREATE(s) "{\"displayName\":\"n\",\"studySpec\":" s "}"
#define MEAS(v)   "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":" v "}]}}"
#define L33       "abcdefghijabcdefghijabcdefghijabc" /* one past max_string_len 32 */

struct bad {
	const char *method;
	const char *path;
	const char *body;
	long status;
	const char *name;
	const char *says;
};

#define IA "INVALID_ARGUMENT"

static const struct bad table[] = {
    /* not JSON */
    {"POST", STUDIES, "{", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{\"displayName\":", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{\"displayName\":\"s\"} trailing", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{'displayName':'s'}", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{displayName:1}", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{\"a\":1,}", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{\"a\":1 /* c */}", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{\"a\":\"unterminated}", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{\"a\":\"tab\there\"}", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "[1,2]", 400, IA, "object"},
    {"POST", STUDIES, "42", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "null", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "\"s\"", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{\"displayName\":\"a\",\"displayName\":\"b\"}", 400, IA, "displayName"},
    {"POST", STUDIES, "{\"displayName\":\"a\\u0000b\"}", 400, IA, "not valid JSON"},
    /* malformed UTF-8 */
    {"POST", STUDIES, "{\"displayName\":\"\xff\"}", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{\"displayName\":\"\xc0\xaf\"}", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{\"displayName\":\"\x80\"}", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{\"displayName\":\"\xe2\x82\"}", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{\"displayName\":\"\xed\xa0\x80\"}", 400, IA, "not valid JSON"},
    {"POST", STUDIES, "{\"displayName\":\"\\ud800\"}", 400, IA, "not valid JSON"},
    {"POST", "/v1/owners/t/apiKeys", "{\"role\":\"READER\",\"displayName\":\"\xfe\xfe\"}", 400, IA,
     "not valid JSON"},
    /* NaN, Infinity, overflow */
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":"
            "NaN,\"maxValue\":1}}]}"),
     400, IA, "not valid JSON"},
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
            "\"maxValue\":Infinity}}]}"),
     400, IA, "not valid JSON"},
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":"
            "-1e999,\"maxValue\":1}}]}"),
     400, IA, "not valid JSON"},
    {"POST", T1 ":addTrialMeasurement", MEAS("NaN"), 400, IA, "not valid JSON"},
    {"POST", T1 ":addTrialMeasurement", MEAS("\"NaN\""), 400, IA, "value"},
    {"POST", T1 ":addTrialMeasurement", MEAS("\"Infinity\""), 400, IA, "value"},
    {"POST", T1 ":addTrialMeasurement", MEAS("1e400"), 400, IA, "not valid JSON"},
    {"POST", T1 ":complete",
     "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":\"-Infinity\"}]}}", 400,
     IA, "value"},
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[{\"parameterId\":\"x\",\"integerValueSpec\":{\"minValue\":"
            "1,\"maxValue\":99999999999999999999}}]}"),
     400, IA, "not valid JSON"},
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[{\"parameterId\":\"x\",\"integerValueSpec\":{\"minValue\":"
            "-9223372036854775808,\"maxValue\":9223372036854775807}}]}"),
     400, IA, "integerValueSpec.minValue"},
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[{\"parameterId\":\"x\",\"integerValueSpec\":{\"minValue\":"
            "\"-9223372036854775809\",\"maxValue\":1}}]}"),
     400, IA, "integerValueSpec.minValue"},
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":"
            "-1.7e308,\"maxValue\":1.7e308}}]}"),
     400, IA, "doubleValueSpec spans [-1.7e+308, 1.7e+308], too wide"},
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[{\"parameterId\":\"x\",\"discreteValueSpec\":{\"values\":"
            "[-1e308,0,1e308]}}]}"),
     400, IA, "discreteValueSpec spans"},
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":"
            "1e308,\"maxValue\":1.5e308},\"scaleType\":\"UNIT_REVERSE_LOG_SCALE\"}]}"),
     400, IA, "too wide to search"},
    {"POST", STUDIES, CREATE("{" M ",\"parameters\":[" DP("x") "],\"seed\":\"1e99\"}"), 400, IA,
     "seed"},
    {"POST", T1 ":addTrialMeasurement",
     "{\"measurement\":{\"stepCount\":\"99999999999999999999\",\"metrics\":[]}}", 400, IA,
     "stepCount"},
    {"POST", T1 ":addTrialMeasurement",
     "{\"measurement\":{\"elapsedDuration\":\"315576000000s\",\"metrics\":[]}}", 400, IA,
     "elapsedDuration"},
    {"POST", T1 ":addTrialMeasurement",
     "{\"measurement\":{\"elapsedDuration\":\"99999999999999999999s\",\"metrics\":[]}}", 400, IA,
     "elapsedDuration"},
    {"POST", S1 "/trials:suggest", "{\"suggestionCount\":1e30,\"clientId\":\"w\"}", 400, IA,
     "suggestionCount"},
    {"POST", S1 "/trials:suggest", "{\"suggestionCount\":-1,\"clientId\":\"w\"}", 400, IA,
     "suggestionCount"},
    {"PATCH", "/v1/owners/t", "{\"quota\":{\"maxStudies\":-1}}", 400, IA, "quota.maxStudies"},
    {"PATCH", "/v1/owners/t", "{\"quota\":{\"maxStudies\":\"99999999999999999999\"}}", 400, IA,
     "quota.maxStudies"},
    {"PATCH", "/v1/owners/t", "{\"quota\":{\"maxActiveTrials\":1e13}}", 400, IA,
     "quota.maxActiveTrials"},
    {"PATCH", "/v1/owners/t", "{\"quota\":{\"requestsPerSecond\":1e300}}", 400, IA,
     "quota.requestsPerSecond"},
    {"PATCH", "/v1/owners/t", "{\"quota\":{\"requestsPerSecond\":-0.5}}", 400, IA,
     "quota.requestsPerSecond"},
    /* wrong types */
    {"POST", STUDIES, "{\"displayName\":7,\"studySpec\":" SPEC "}", 400, IA, "displayName"},
    {"POST", STUDIES, "{\"displayName\":\"n\",\"studySpec\":\"spec\"}", 400, IA, "studySpec"},
    {"POST", STUDIES,
     CREATE("{\"metrics\":{},"
            "\"parameters\":[" DP("x") "]}"),
     400, IA, "studySpec.metrics"},
    {"POST", STUDIES, CREATE("{" M ",\"parameters\":\"x\"}"), 400, IA, "studySpec.parameters"},
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":"
            "true,\"maxValue\":1}}]}"),
     400, IA, "minValue"},
    {"POST", STUDIES, CREATE("{" M ",\"parameters\":[" DP("x") "],\"algorithm\":7}"), 400, IA,
     "algorithm"},
    {"POST", S1 "/trials:suggest", "{\"suggestionCount\":\"two\",\"clientId\":\"w\"}", 400, IA,
     "suggestionCount"},
    {"POST", S1 "/trials:suggest", "{\"suggestionCount\":1,\"clientId\":5}", 400, IA, "clientId"},
    {"POST", T1 ":addTrialMeasurement", "{\"measurement\":[]}", 400, IA, "measurement"},
    {"POST", T1 ":addTrialMeasurement", MEAS("\"high\""), 400, IA, "value"},
    {"POST", T1 ":addTrialMeasurement", MEAS("[1]"), 400, IA, "value"},
    {"POST", T1 ":complete", "{\"trialInfeasible\":\"yes\"}", 400, IA, "trialInfeasible"},
    {"POST", S1 "/trials", "{\"parameters\":{\"x\":0.5}}", 400, IA, "parameters"},
    {"POST", S1 "/trials", "{\"parameters\":[{\"parameterId\":\"x\",\"value\":\"0.5\"}]}", 400, IA,
     "parameters[0]"},
    {"POST", "/v1/owners", "{\"ownerId\":[\"u\"]}", 400, IA, "ownerId"},
    {"POST", "/v1/owners/t/apiKeys", "{\"role\":2}", 400, IA, "role"},
    {"PATCH", "/v1/owners/t", "{\"quota\":\"unlimited\"}", 400, IA, "quota"},
    {"PATCH", "/v1/owners/t", "{\"quota\":{\"maxStudies\":true}}", 400, IA, "quota.maxStudies"},
    {"PATCH", "/v1/owners/t", "{\"displayName\":false}", 400, IA, "displayName"},
    /* path tricks */
    {"GET", "/v1/owners/t/studies/..", NULL, 400, IA, "'..' segments"},
    {"GET", "/v1/owners/t/../t/studies", NULL, 400, IA, "'..' segments"},
    {"GET", "/v1/owners/t/./studies", NULL, 400, IA, "'.' and '..'"},
    {"GET", "/v1/owners/t%2F..%2Fu/studies", NULL, 400, IA, "percent-escapes"},
    {"GET", "/v1/owners/t/studies/s1%2Ftrials", NULL, 400, IA, "percent-escapes"},
    {"GET", "/v1/owners/%2e%2e/studies", NULL, 400, IA, "percent-escapes"},
    {"GET", "/v1/owners/t/studies/s1%00", NULL, 400, IA, "percent-escapes"},
    {"GET", "/v1/owners//studies", NULL, 400, IA, "empty segment"},
    {"GET", "/v1/owners/t/studies/", NULL, 400, IA, "empty segment"},
    {"GET", "/v1//owners/t/studies", NULL, 400, IA, "empty segment"},
    {"GET", "/v1/owners/t/studies/s1/trials/0", NULL, 400, IA, "trial id"},
    {"GET", "/v1/owners/t/studies/s1/trials/-1", NULL, 400, IA, "trial id"},
    {"GET", "/v1/owners/t/studies/s1/trials/99999999999999999999", NULL, 400, IA, "trial id"},
    {"GET", "/v1/owners/t/studies/s1/trials/1x", NULL, 400, IA, "trial id"},
    {"GET", "/v1/owners/t/studies/s1/operations/abc", NULL, 400, IA, "operation id"},
    {"GET", "/v1/owners/t/studies:lookup/x", NULL, 400, IA, "custom method"},
    {"POST", "/v1/owners/t/studies/s1:bogus", "{}", 404, "NOT_FOUND", "bogus"},
    {"GET", "/v1/owners/t$/studies", NULL, 400, IA, "owner id"},
    {"GET", "/v1/owners/-t/studies", NULL, 400, IA, "owner id"},
    {"GET", "/v1/owners/t/studies/" L33 L33 L33 L33, NULL, 400, IA, "study id"},
    {"GET", "/v1/owners/t/widgets", NULL, 404, "NOT_FOUND", "no such path"},
    {"GET", "/v2/owners/t/studies", NULL, 404, "NOT_FOUND", "no such path"},
    {"GET", "/v1/owners/t/apiKeys/0123456789abcdef/extra", NULL, 404, "NOT_FOUND", "no such path"},
    /* SQL in names: not an id, refused as such (stored literally where allowed) */
    {"POST", STUDIES, "{\"displayName\":\"s'; DROP TABLE studies;--\",\"studySpec\":" SPEC "}", 400,
     IA, "displayName"},
    {"GET", "/v1/owners/t'%20OR%20'1'='1/studies", NULL, 400, IA, "percent-escapes"},
    {"POST", "/v1/owners", "{\"ownerId\":\"x\\\" OR 1=1 --\"}", 400, IA, "ownerId"},
    /* over-long strings (max_string_len 32) */
    {"POST", STUDIES,
     CREATE("{\"metrics\":[{\"metricId\":\"" L33
            "\",\"goal\":\"MAXIMIZE\"}],\"parameters\":[" DP("x") "]}"),
     400, IA, "metricId"},
    {"POST", STUDIES, CREATE("{" M ",\"parameters\":[" DP(L33) "]}"), 400, IA, "parameterId"},
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[{\"parameterId\":\"c\",\"categoricalValueSpec\":{\"values\":"
            "[\"a\",\"" L33 "\"]}}]}"),
     400, IA, "values[1]"},
    {"POST", S1 "/trials:suggest", "{\"suggestionCount\":1,\"clientId\":\"" L33 "\"}", 400, IA,
     "clientId"},
    {"POST", "/v1/owners/t/apiKeys", "{\"role\":\"READER\",\"displayName\":\"" L33 "\"}", 400, IA,
     "displayName"},
    {"PATCH", "/v1/owners/t", "{\"displayName\":\"" L33 "\"}", 400, IA, "displayName"},
    /* too many (limits 4 parameters, 4 categories, 2 metrics, 3 per suggest, 2 measurements) */
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[" DP("a") "," DP("b") "," DP("c") "," DP("d") "," DP("e") "]}"),
     400, IA, "parameters"},
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[{\"parameterId\":\"c\",\"categoricalValueSpec\":{\"values\":"
            "[\"a\",\"b\",\"c\",\"d\",\"e\"]}}]}"),
     400, IA, "categoricalValueSpec.values"},
    {"POST", STUDIES,
     CREATE("{" M ",\"parameters\":[{\"parameterId\":\"d\",\"discreteValueSpec\":{\"values\":"
            "[1,2,3,4,5]}}]}"),
     400, IA, "discreteValueSpec.values"},
    {"POST", STUDIES,
     CREATE(
         "{\"metrics\":[{\"metricId\":\"a\",\"goal\":\"MAXIMIZE\"},{\"metricId\":\"b\","
         "\"goal\":\"MAXIMIZE\"},{\"metricId\":\"c\",\"goal\":\"MAXIMIZE\"}],\"parameters\":[" DP(
             "x") "]}"),
     400, IA, "metrics"},
    {"POST", S1 "/trials:suggest", "{\"suggestionCount\":4,\"clientId\":\"w\"}", 400, IA,
     "suggestionCount"},
    {"POST", T1 ":addTrialMeasurement", MEAS("0.5"), 400, "FAILED_PRECONDITION",
     "already has 2 measurements, the limit per trial"},
    {"POST", T1 ":addTrialMeasurement",
     "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1},{\"metricId\":\"acc\","
     "\"value\":2}]}}",
     400, IA, "acc"},
    /* deep nesting (limit 8) */
    {"POST", STUDIES, "{\"a\":[[[[[[[[[[1]]]]]]]]]]}", 400, IA, "nests deeper"},
    {"POST", STUDIES, "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}}",
     400, IA, "nests deeper"},
    {"POST", T1 ":addTrialMeasurement", "{\"measurement\":{\"metrics\":[[[[[[[[[[{}]]]]]]]]]]}}",
     400, IA, "nests deeper"},
    /* unknown fields */
    {"POST", STUDIES, "{\"displayName\":\"n\",\"studySpec\":" SPEC ",\"owner\":\"u\"}", 400, IA,
     "unknown field"},
    {"POST", S1 "/trials:suggest", "{\"suggestionCount\":1,\"clientId\":\"w\",\"x\":1}", 400, IA,
     "unknown field"},
    {"POST", T1 ":addTrialMeasurement", "{\"measurement\":{\"metrics\":[],\"secret\":1}}", 400, IA,
     "unknown field"},
    {"POST", "/v1/owners", "{\"ownerId\":\"u\",\"admin\":true}", 400, IA, "unknown field"},
    {"POST", "/v1/owners/t/apiKeys", "{\"role\":\"READER\",\"key\":\"sk_mine\"}", 400, IA,
     "unknown field"},
    {"PATCH", "/v1/owners/t", "{\"quota\":{\"maxWidgets\":1}}", 400, IA, "unknown field"},
    {"POST", T1 ":stop", "{\"now\":true}", 400, IA, "unknown field"},
    /* owners and keys */
    {"POST", "/v1/owners", "{}", 400, IA, "ownerId is required"},
    {"POST", "/v1/owners", "{\"ownerId\":\"a/b\"}", 400, IA, "ownerId"},
    {"POST", "/v1/owners", "{\"ownerId\":\"..\"}", 400, IA, "ownerId"},
    {"POST", "/v1/owners", "{\"ownerId\":\"\"}", 400, IA, "ownerId"},
    {"POST", "/v1/owners", "{\"ownerId\":\"t\"}", 409, "ALREADY_EXISTS", "owners/t"},
    {"POST", "/v1/owners/t/apiKeys", "{}", 400, IA, "role is required"},
    {"POST", "/v1/owners/t/apiKeys", "{\"role\":\"ADMIN\"}", 400, IA, "READER or WRITER"},
    {"POST", "/v1/owners/t/apiKeys", "{\"role\":\"writer\"}", 400, IA, "READER or WRITER"},
    {"POST", "/v1/owners/nobody/apiKeys", "{\"role\":\"READER\"}", 404, "NOT_FOUND",
     "owners/nobody"},
    {"DELETE", "/v1/owners/t/apiKeys/ffffffffffffffff", NULL, 404, "NOT_FOUND", "apiKeys"},
    {"PATCH", "/v1/owners/t", "{\"name\":\"owners/u\"}", 400, IA, "name"},
    {"PATCH", "/v1/owners/nobody", "{\"displayName\":\"x\"}", 404, "NOT_FOUND", "owners/nobody"},
    {"POST", "/v1/owners/nobody/studies", CREATE(SPEC), 404, "NOT_FOUND", "owners/nobody"},
    {"DELETE", "/v1/owners/t", NULL, 400, "FAILED_PRECONDITION", "still has"},
    /* query strings */
    {"GET", STUDIES "?pageSize=abc", NULL, 400, IA, "pageSize"},
    {"GET", STUDIES "?pageSize=-5", NULL, 400, IA, "pageSize"},
    {"GET", STUDIES "?pageToken=not-a-token", NULL, 400, IA, "pageToken"},
    {"GET", STUDIES "?color=red", NULL, 400, IA, "unknown query parameter"},
    {"GET", STUDIES "?pageSize=%ZZ", NULL, 400, IA, "percent-escape"},
    {"GET", S1 "/trials?filter=state%3DSLEEPING", NULL, 400, IA, "SLEEPING"},
    {"GET", S1 "/trials?filter=owner%3Dt", NULL, 400, IA, "filter"},
    {"GET", "/v1/auditLog?filter=key%3Dx", NULL, 400, IA, "filter"},
    {"GET", "/v1/auditLog?pageToken=%00", NULL, 400, IA, "percent-escape"},
    {"GET", "/v1/owners?pageToken=b3duZXI6Li4", NULL, 400, IA, "pageToken"},
    {"PATCH", "/v1/owners/t?updateMask=quota.maxWidgets", "{}", 400, IA, "updateMask"},
    {"DELETE", "/v1/owners/t?force=maybe", NULL, 400, IA, "force"},
    /* methods */
    {"PUT", STUDIES, "{}", 405, "UNIMPLEMENTED", "not allowed"},
    {"PATCH", STUDIES, "{}", 405, "UNIMPLEMENTED", "not allowed"},
    {"PATCH", S1, "{}", 400, IA, "metadata is required"},
    {"PATCH", S1, "{\"metadata\":{\"a\":{\"b\":1}}}", 400, IA, "must be a string"},
    {"PATCH", S1 "?updateMask=metadata&updateMask=metadata", "{\"metadata\":{}}", 400, IA,
     "updateMask is given twice"},
    {"PATCH", S1 "?updateMask=metadata&pageSize=1", "{\"metadata\":{}}", 400, IA,
     "unknown query parameter pageSize"},
    {"DELETE", "/v1/owners", NULL, 405, "UNIMPLEMENTED", "not allowed"},
    {"POST", S1 "/operations/1", "{}", 405, "UNIMPLEMENTED", "not allowed"},
    {"DELETE", "/v1/auditLog", NULL, 405, "UNIMPLEMENTED", "not allowed"},
};
#define N_BAD (sizeof(table) / sizeof(table[0]))

/* One raw request on a fresh connection; its status (0: no answer within
 * 5 s) and, for an error, a full envelope with code, message and status. */
static int raw_request(struct daemon *d, const char *req, const char *want_status)
{
	static char buf[16384];
	const char *body;
	int fd = raw_connect(d->port);
	if (fd < 0) {
		TEST_FAIL("cannot connect");
		return -1;
	}
	(void)raw_sends(fd, req);
	int st = raw_answer(fd, buf, sizeof(buf), 5000, &body);
	close(fd);
	if (want_status) {
		json_t *j = json_loads(body, 0, NULL);
		json_t *e = json_object_get(j, "error");
		const char *msg = json_string_value(json_object_get(e, "message"));
		ASSERT_TRUE(msg && *msg);
		ASSERT_EQ_INT(json_integer_value(json_object_get(e, "code")), st);
		ASSERT_EQ_STR(json_string_value(json_object_get(e, "status")), want_status);
		json_decref(j);
	}
	return st;
}

#define AUTH "Authorization: Bearer " HARNESS_ADMIN_KEY "\r\n"

/* What curl will not send: raw bytes in the path, conflicting lengths,
 * encodings sibyld cannot read. Each is answered at once, in full. */
static void test_raw(struct daemon *d)
{
	/* A byte >= 0x80 in the path: the message quotes it as '?'. */
	ASSERT_EQ_INT(
	    raw_request(d, "GET /v1/owners/t\x80x/studies HTTP/1.1\r\nHost: x\r\n" AUTH "\r\n", IA),
	    400);
	ASSERT_EQ_INT(
	    raw_request(d, "GET /v1/owners/t/studies/\xff\xfe HTTP/1.1\r\nHost: x\r\n" AUTH "\r\n",
	                IA),
	    400);
	/* Two different Content-Lengths: refused, never guessed. */
	ASSERT_EQ_INT(raw_request(d,
	                          "POST " STUDIES " HTTP/1.1\r\nHost: x\r\n" AUTH
	                          "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}",
	                          IA),
	              400);
	/* Encodings other than chunked: 501, not a hang. */
	ASSERT_EQ_INT(raw_request(d,
	                          "POST " STUDIES " HTTP/1.1\r\nHost: x\r\n" AUTH
	                          "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
	                          "UNIMPLEMENTED"),
	              501);
	ASSERT_EQ_INT(raw_request(d,
	                          "POST " STUDIES " HTTP/1.1\r\nHost: x\r\n" AUTH
	                          "Transfer-Encoding: gzip\r\n\r\n",
	                          "UNIMPLEMENTED"),
	              501);
	ASSERT_EQ_INT(raw_request(d,
	                          "POST " STUDIES " HTTP/1.1\r\nHost: x\r\n" AUTH
	                          "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n"
	                          "2\r\n{}\r\n0\r\n\r\n",
	                          IA),
	              400);
	/* chunked alone is read as before (here: a create missing its spec). */
	ASSERT_EQ_INT(raw_request(d,
	                          "POST " STUDIES " HTTP/1.1\r\nHost: x\r\n" AUTH
	                          "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
	                          IA),
	              400);
	/* The same Content-Length twice is one length. */
	ASSERT_EQ_INT(raw_request(d,
	                          "GET " S1 " HTTP/1.1\r\nHost: x\r\n" AUTH
	                          "Content-Length: 0\r\nContent-Length: 0\r\n\r\n",
	                          NULL),
	              200);
}

int main(void)
{
	static const char *const args[] = {"--max-parameters",
	                                   "4",
	                                   "--max-categories",
	                                   "4",
	                                   "--max-metrics",
	                                   "2",
	                                   "--max-string-len",
	                                   "32",
	                                   "--max-measurements",
	                                   "2",
	                                   "--max-suggestion-count",
	                                   "3",
	                                   "--max-json-depth",
	                                   "8",
	                                   NULL};
	struct daemon_opts o = {.args = args};
	struct daemon *d = daemon_start(&o);
	if (!d)
		return 1;
	create_owner(d, "t");
	create_study(d, "s1", SPEC);
	json_decref(suggest(d, "s1", 1, "w", 200));
	CALL_OK(d, "POST", T1 ":addTrialMeasurement", MEAS("0.1"));
	CALL_OK(d, "POST", T1 ":addTrialMeasurement", MEAS("0.2"));
	ASSERT_TRUE(N_BAD >= 100);
	for (size_t i = 0; i < N_BAD; i++) {
		const struct bad *b = &table[i];
		REJECT(d, b->method, b->path, b->body, b->status, b->name, b->says);
		/* still serving */
		CALL_OK(d, "GET", S1, NULL);
	}
	fprintf(stderr, "%zu malformed requests refused\n", N_BAD);
	char *before = db_dump_data(d->db_path);
	test_raw(d);
	char *after = db_dump_data(d->db_path);
	ASSERT_TRUE(before && after && strcmp(before, after) == 0);
	free(before);
	free(after);
	CALL_OK(d, "GET", S1, NULL);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("test-malformed");
}
