/* One tenant against the others (issue 11, "abuse with a valid key"), over
 * real HTTP: a READER key cannot renew or settle a lease (a heartbeat is
 * a WRITER's, and audited); the rate limit is the owner's, whatever key it
 * uses; the number of keys has a quota; a flood of refusals leaves a
 * bounded number of audit entries, filed under the caller and not the
 * owner it aimed at; the read-only custom methods serve READER keys;
 * unknown query parameters are refused on every route; page tokens are
 * sealed and bound to their list. */
#include <time.h>
#include <unistd.h>

#include "apitest.h"

static const char *err_message(const json_t *j)
{
	const char *s = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	return s ? s : "";
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The audit entries of one owner, newest first (at most 1000). */
static json_t *audit_of(struct daemon *d, const char *owner)
{
	char path[256];
	snprintf(path, sizeof(path), "/v1/auditLog?pageSize=1000&filter=owner%%3D%s", owner);
	json_t *j = CALL(d, "GET", path, NULL, 200);
	json_t *a = json_incref(json_object_get(j, "auditEntries"));
	json_decref(j);
	return a ? a : json_array();
}

/* An entry's count (1 when it stands for one request). */
static long entry_count(const json_t *a)
{
	const char *c = jstr(a, "count");
	return *c ? strtol(c, NULL, 10) : 1;
}

#define STUDY_HB "/v1/owners/hb/studies/lease"

/* A READER's GET with clientId is refused and changes nothing, before and
 * after the lease lapsed; the WRITER's heartbeat works and is audited. */
static void test_heartbeat_needs_writer(struct daemon *d)
{
	struct key w, r;
	create_owner(d, "hb");
	make_key(d, "hb", "WRITER", &w);
	make_key(d, "hb", "READER", &r);
	json_decref(CALL_AS(d, w.key, "POST", "/v1/owners/hb/studies",
	                    "{\"displayName\":\"lease\",\"studySpec\":{\"algorithm\":"
	                    "\"RANDOM_SEARCH\",\"staleTrialTimeout\":\"1s\",\"metrics\":[{"
	                    "\"metricId\":\"m\",\"goal\":\"MAXIMIZE\"}],\"parameters\":[{"
	                    "\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
	                    "\"maxValue\":1}}]}}",
	                    200));
	json_decref(CALL_AS(d, w.key, "POST", STUDY_HB "/trials:suggest",
	                    "{\"suggestionCount\":1,\"clientId\":\"w1\"}", 200));
	/* within the lease: refused, the lease is not renewed (db unchanged) */
	REFUSE_AS(d, r.key, "GET", STUDY_HB "/trials/1?clientId=w1", NULL, 403, "PERMISSION_DENIED",
	          "heartbeat");
	json_t *j = CALL_AS(d, r.key, "GET", STUDY_HB "/trials/1", NULL, 200);
	ASSERT_EQ_STR(jstr(j, "state"), "ACTIVE");
	json_decref(j);
	usleep(1300 * 1000); /* the lease lapses */
	/* a READER cannot settle it either: no give-up, no new trial */
	REFUSE_AS(d, r.key, "GET", STUDY_HB "/trials/1?clientId=w1", NULL, 403, "PERMISSION_DENIED",
	          "a READER key reads the trial without clientId");
	j = CALL(d, "GET", STUDY_HB "/trials", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(j, "trials")), 1);
	ASSERT_EQ_STR(jstr(json_array_get(json_object_get(j, "trials"), 0), "state"), "ACTIVE");
	json_decref(j);
	/* the WRITER's heartbeat settles it */
	j = CALL_AS(d, w.key, "GET", STUDY_HB "/trials/1?clientId=w1", NULL, 200);
	ASSERT_EQ_STR(jstr(j, "state"), "INFEASIBLE");
	json_decref(j);
	/* the log: the WRITER's heartbeat; the READER's two refusals as one
	 * entry counting two */
	json_t *log = audit_of(d, "hb");
	size_t i;
	json_t *a;
	int beat = 0, refused = 0;
	json_array_foreach(log, i, a)
	{
		if (strcmp(jstr(a, "path"), STUDY_HB "/trials/1?clientId=w1") != 0)
			continue;
		long st = (long)json_integer_value(json_object_get(a, "status"));
		beat += st == 200 && strcmp(jstr(a, "keyId"), w.id) == 0;
		if (st == 403 && strcmp(jstr(a, "keyId"), r.id) == 0) {
			refused++;
			ASSERT_EQ_INT(entry_count(a), 2);
			ASSERT_EQ_STR(jstr(a, "error"), "PERMISSION_DENIED");
		}
	}
	ASSERT_EQ_INT(beat, 1);
	ASSERT_EQ_INT(refused, 1);
	json_decref(log);
}

/* 20 fresh keys of one owner under 1 request a second: the owner's bucket
 * holds one request, so the others are refused, whichever key sends. */
static void test_rate_limit_per_owner(struct daemon *d)
{
	struct key k[20];
	create_owner(d, "many");
	for (int i = 0; i < 20; i++)
		make_key(d, "many", "READER", &k[i]);
	CALL_OK(d, "PATCH", "/v1/owners/many?updateMask=quota.requestsPerSecond",
	        "{\"quota\":{\"requestsPerSecond\":1}}");
	int ok = 0, limited = 0;
	double t0 = now_s();
	for (int i = 0; i < 20; i++) {
		struct reply r;
		ASSERT_EQ_INT(http_call(d, "GET", "/v1/owners/many/studies", NULL, k[i].key, &r),
		              0);
		ok += r.status == 200;
		if (r.status == 429) {
			limited++;
			EXPECT_IN(reply_message(&r), "for all its keys together");
			ASSERT_TRUE(atoi_safe(r.retry_after) >= 1);
		}
		reply_free(&r);
	}
	double took = now_s() - t0;
	/* one from the full bucket, one more per second it took at most */
	ASSERT_TRUE(ok >= 1 && ok <= 2 + (int)took);
	ASSERT_EQ_INT(ok + limited, 20);
	fprintf(stderr, "20 keys of one owner at 1/s: %d served, %d refused in %.2f s\n", ok,
	        limited, took);
	/* An owner deleted and made again starts with a full bucket. */
	CALL_OK(d, "PATCH", "/v1/owners/many", "{\"quota\":{\"requestsPerSecond\":0.001}}");
	json_decref(CALL_AS(d, k[0].key, "GET", "/v1/owners/many/studies", NULL, 429));
	CALL_OK(d, "DELETE", "/v1/owners/many", NULL);
	CALL_OK(d, "POST", "/v1/owners",
	        "{\"ownerId\":\"many\",\"quota\":{\"requestsPerSecond\":0.001}}");
	make_key(d, "many", "READER", &k[0]);
	json_decref(CALL_AS(d, k[0].key, "GET", "/v1/owners/many/studies", NULL, 200));
	json_decref(CALL_AS(d, k[0].key, "GET", "/v1/owners/many/studies", NULL, 429));
}

/* maxApiKeys: a default, settable by the admin, binding everyone; revoked
 * keys do not count. */
static void test_key_quota(struct daemon *d)
{
	struct key w, k2, k3;
	create_owner(d, "kq");
	json_t *j = CALL(d, "GET", "/v1/owners/kq", NULL, 200);
	ASSERT_EQ_STR(jstr(json_object_get(j, "quota"), "maxApiKeys"), "100");
	json_decref(j);
	CALL_OK(d, "PATCH", "/v1/owners/kq?updateMask=quota.maxApiKeys",
	        "{\"quota\":{\"maxApiKeys\":3}}");
	make_key(d, "kq", "WRITER", &w);
	json_t *k =
	    CALL_AS(d, w.key, "POST", "/v1/owners/kq/apiKeys", "{\"role\":\"READER\"}", 200);
	snprintf(k2.id, sizeof(k2.id), "%s", strrchr(jstr(k, "name"), '/') + 1);
	json_decref(k);
	make_key(d, "kq", "READER", &k3);
	/* the fourth: refused, naming the limit, nothing made */
	REFUSE_AS(d, w.key, "POST", "/v1/owners/kq/apiKeys", "{\"role\":\"READER\"}", 429,
	          "RESOURCE_EXHAUSTED", "(owner kq: maxApiKeys 3)");
	REFUSE_AS(d, NULL, "POST", "/v1/owners/kq/apiKeys", "{\"role\":\"WRITER\"}", 429,
	          "RESOURCE_EXHAUSTED", "quota maxApiKeys reached");
	j = CALL(d, "GET", "/v1/owners/kq/apiKeys", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(j, "apiKeys")), 3);
	json_decref(j);
	/* a revoked key frees its place */
	char path[128];
	snprintf(path, sizeof(path), "/v1/owners/kq/apiKeys/%s", k2.id);
	CALL_OK(d, "DELETE", path, NULL);
	json_decref(
	    CALL_AS(d, w.key, "POST", "/v1/owners/kq/apiKeys", "{\"role\":\"READER\"}", 200));
	REJECT(d, "PATCH", "/v1/owners/kq", "{\"quota\":{\"maxApiKeys\":-1}}", 400,
	       "INVALID_ARGUMENT", "quota.maxApiKeys must be between 0");
	/* set at creation; 0 is no limit */
	j = CALL(d, "POST", "/v1/owners", "{\"ownerId\":\"kq2\",\"quota\":{\"maxApiKeys\":0}}",
	         200);
	ASSERT_EQ_STR(jstr(json_object_get(j, "quota"), "maxApiKeys"), "0");
	json_decref(j);
}

/* 2,000 refused requests of one READER: a bounded number of entries under
 * its own owner, with the count; the owner it aimed at keeps its log. */
static void test_refusal_flood(struct daemon *d)
{
	struct key fr, qw;
	create_owner(d, "flood");
	create_owner(d, "quiet");
	make_key(d, "flood", "READER", &fr);
	make_key(d, "quiet", "WRITER", &qw);
	for (int i = 0; i < 5; i++) {
		char body[256];
		snprintf(body, sizeof(body),
		         "{\"displayName\":\"q%d\",\"studySpec\":" SPEC_RANDOM "}", i);
		json_decref(CALL_AS(d, qw.key, "POST", "/v1/owners/quiet/studies", body, 200));
	}
	json_t *quiet_before = audit_of(d, "quiet");
	ASSERT_EQ_INT(json_array_size(quiet_before), 5 + 2); /* + owner and key made */
	double t0 = now_s();
	int refused = 0;
	for (int i = 1; i <= 2000; i++) {
		char path[128];
		struct reply r;
		/* half on its own owner's trials (403), half on quiet's (404) */
		if (i % 2)
			snprintf(path, sizeof(path),
			         "/v1/owners/flood/studies/s/trials/%d:complete", i);
		else
			snprintf(path, sizeof(path), "/v1/owners/quiet/studies");
		if (http_call(d, "POST", path, "{}", fr.key, &r) == 0)
			refused += r.status == 403 || r.status == 404;
		reply_free(&r);
	}
	double took = now_s() - t0;
	ASSERT_EQ_INT(refused, 2000);
	json_t *log = audit_of(d, "flood");
	size_t i;
	json_t *a;
	long entries = 0, counted = 0, aimed_at_quiet = 0;
	json_array_foreach(log, i, a)
	{
		if (strcmp(jstr(a, "keyId"), fr.id) != 0)
			continue;
		entries++;
		counted += entry_count(a);
		aimed_at_quiet += strcmp(jstr(a, "path"), "/v1/owners/quiet/studies") == 0;
	}
	/* two routes, one entry each a minute */
	ASSERT_TRUE(entries >= 2 && entries <= 2 * (2 + (long)(took / 60)));
	ASSERT_EQ_INT(counted, 2000);
	ASSERT_TRUE(aimed_at_quiet >= 1); /* filed under the caller */
	json_t *quiet_after = audit_of(d, "quiet");
	ASSERT_TRUE(json_equal(quiet_before, quiet_after));
	fprintf(stderr, "2,000 refusals in %.2f s: %ld audit entries\n", took, entries);
	json_decref(quiet_before);
	json_decref(quiet_after);
	json_decref(log);
}

/* The custom methods that only read serve a READER key. */
static void test_read_only_posts(struct daemon *d)
{
	struct key r;
	make_key(d, "hb", "READER", &r);
	json_t *j = CALL_AS(d, r.key, "POST", "/v1/owners/hb/studies:lookup",
	                    "{\"displayName\":\"lease\"}", 200);
	ASSERT_EQ_STR(jstr(j, "name"), "owners/hb/studies/lease");
	json_decref(j);
	j = CALL_AS(d, r.key, "POST", STUDY_HB "/trials:listOptimalTrials", "{}", 200);
	ASSERT_TRUE(json_is_array(json_object_get(j, "optimalTrials")));
	json_decref(j);
	/* and the others that change things stay a WRITER's */
	REFUSE_AS(d, r.key, "POST", STUDY_HB "/trials/1:checkTrialEarlyStoppingState", "{}", 403,
	          "PERMISSION_DENIED", "is a READER key");
}

/* Every route refuses a parameter it does not take, naming it. */
static void test_unknown_query(struct daemon *d)
{
	static const struct {
		const char *method, *path, *takes;
	} cases[] = {
	    {"GET", STUDY_HB "?view=FULL", "takes no query parameters"},
	    {"DELETE", STUDY_HB "?etag=1", "takes no query parameters"},
	    {"GET", STUDY_HB "/trials/1?view=FULL", "takes clientId"},
	    {"GET", STUDY_HB "/trials?clientId=w1", "takes pageSize, pageToken, filter"},
	    {"GET", STUDY_HB "/operations/1?x=1", "takes no query parameters"},
	    {"POST", STUDY_HB "/trials:suggest?suggestionCount=2", "takes no query parameters"},
	    {"GET", "/v1/owners/hb?readMask=quota", "takes no query parameters"},
	    {"DELETE", "/v1/owners/hb?updateMask=quota", "takes force"},
	    {"GET", "/v1/owners/hb/apiKeys?filter=x", "takes pageSize, pageToken"},
	    {"GET", "/v1/auditLog?orderBy=time", "takes pageSize, pageToken, filter"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *body = strcmp(cases[i].method, "POST") == 0
		                       ? "{\"suggestionCount\":1,\"clientId\":\"q\"}"
		                       : NULL;
		REJECT(d, cases[i].method, cases[i].path, body, 400, "INVALID_ARGUMENT",
		       "unknown query parameter");
		REJECT(d, cases[i].method, cases[i].path, body, 400, "INVALID_ARGUMENT",
		       cases[i].takes);
	}
	REJECT(d, "GET", STUDY_HB "/trials?pageSize=1&pageSize=2", NULL, 400, "INVALID_ARGUMENT",
	       "pageSize is given twice");
	REJECT(d, "GET", STUDY_HB "/trials/1?clientId=", NULL, 400, "INVALID_ARGUMENT",
	       "clientId must not be empty");
}

static void token_of(struct daemon *d, const char *path, char *tok, size_t cap)
{
	json_t *j = CALL(d, "GET", path, NULL, 200);
	snprintf(tok, cap, "%s", jstr(j, "nextPageToken"));
	ASSERT_TRUE(tok[0] != '\0');
	json_decref(j);
}

#define PT "/v1/owners/pt/studies"

/* A token works on its own list only, shows nothing, and survives a
 * restart; altered or old-style tokens are refused. */
static void test_page_tokens(struct daemon *d)
{
	char t1[512], t1b[512], ts[512], path[768];
	create_owner(d, "pt");
	create_owner(d, "pu");
	const char *studies[] = {"p1", "p2"};
	for (int s = 0; s < 2; s++) {
		snprintf(path, sizeof(path),
		         "{\"displayName\":\"%s\",\"studySpec\":" SPEC_RANDOM "}", studies[s]);
		CALL_OK(d, "POST", PT, path);
		CALL_OK(d, "POST", "/v1/owners/pu/studies", path);
		snprintf(path, sizeof(path), PT "/%s/trials", studies[s]);
		for (int i = 0; i < 3; i++)
			CALL_OK(d, "POST", path,
			        "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.5}]}");
	}
	token_of(d, PT "/p1/trials?pageSize=1", t1, sizeof(t1));
	token_of(d, PT "/p1/trials?pageSize=1", t1b, sizeof(t1b));
	ASSERT_TRUE(strcmp(t1, t1b) != 0); /* sealed with a fresh nonce each time */
	snprintf(path, sizeof(path), PT "/p1/trials?pageSize=1&pageToken=%s", t1);
	json_t *j = CALL(d, "GET", path, NULL, 200);
	ASSERT_EQ_STR(jstr(json_array_get(json_object_get(j, "trials"), 0), "id"), "2");
	json_decref(j);
	/* another study's, another owner's or another kind of list */
	snprintf(path, sizeof(path), PT "/p2/trials?pageSize=1&pageToken=%s", t1);
	REJECT(d, "GET", path, NULL, 400, "INVALID_ARGUMENT", "not a token this server issued");
	token_of(d, PT "?pageSize=1", ts, sizeof(ts));
	snprintf(path, sizeof(path), "/v1/owners/pu/studies?pageSize=1&pageToken=%s", ts);
	REJECT(d, "GET", path, NULL, 400, "INVALID_ARGUMENT", "not a token this server issued");
	snprintf(path, sizeof(path), PT "/p1/trials?pageToken=%s", ts);
	REJECT(d, "GET", path, NULL, 400, "INVALID_ARGUMENT", "not a token this server issued");
	/* altered; the old readable form ("sibyl:1" in base64url) */
	snprintf(t1b, sizeof(t1b), "%s", t1);
	t1b[10] = t1b[10] == 'A' ? 'B' : 'A';
	snprintf(path, sizeof(path), PT "/p1/trials?pageToken=%s", t1b);
	REJECT(d, "GET", path, NULL, 400, "INVALID_ARGUMENT", "not a token this server issued");
	REJECT(d, "GET", PT "/p1/trials?pageToken=c2lieWw6MQ", NULL, 400, "INVALID_ARGUMENT",
	       "not a token this server issued");
	/* the secret is the database's: a restarted daemon reads the token */
	ASSERT_EQ_INT(daemon_kill(d), 0);
	ASSERT_EQ_INT(daemon_restart(d, NULL), 0);
	snprintf(path, sizeof(path), PT "/p1/trials?pageSize=1&pageToken=%s", t1);
	j = CALL(d, "GET", path, NULL, 200);
	ASSERT_EQ_STR(jstr(json_array_get(json_object_get(j, "trials"), 0), "id"), "2");
	json_decref(j);
	/* a study made again under the same name is another list */
	CALL_OK(d, "DELETE", PT "/p1", NULL);
	CALL_OK(d, "POST", PT, "{\"displayName\":\"p1\",\"studySpec\":" SPEC_RANDOM "}");
	REJECT(d, "GET", path, NULL, 400, "INVALID_ARGUMENT", "not a token this server issued");
	j = CALL(d, "GET", "/v1/auditLog?pageSize=1", NULL, 200);
	snprintf(path, sizeof(path), "/v1/auditLog?filter=owner%%3Dpt&pageToken=%s",
	         jstr(j, "nextPageToken"));
	json_decref(j);
	j = CALL(d, "GET", path, NULL, 400);
	EXPECT_IN(err_message(j), "not a token this server issued for this list");
	json_decref(j);
}

int main(void)
{
	const char *const env[] = {"SIBYL_AUTH_FAILURES_PER_SECOND=0", NULL};
	struct daemon_opts o = {.env = env};
	struct daemon *d = daemon_start(&o);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("api-tenants");
	test_heartbeat_needs_writer(d);
	test_rate_limit_per_owner(d);
	test_key_quota(d);
	test_refusal_flood(d);
	test_read_only_posts(d);
	test_unknown_query(d);
	test_page_tokens(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("api-tenants");
}
