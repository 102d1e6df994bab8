/* Multi-team over real HTTP: every endpoint against every kind of wrong
 * key, the key lifecycle, owners and quotas (PATCH), the audit log, SQL in
 * values stored literally, and quotas and the rate limit under concurrent
 * requests. Every refused call is checked to change nothing but the audit
 * log (db_dump_data before and after). */
#include <pthread.h>
#include <unistd.h>

#include "apitest.h"

static const char *err_message(const json_t *j)
{
	const char *s = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	return s ? s : "";
}

/* Every endpoint of API.md, on owner a's resources. */
struct endpoint {
	const char *method;
	const char *path; /* KEYID is replaced by a key id of a */
	const char *body;
	int admin_only; /* owners, quotas, the audit log */
	int keys;       /* key management: WRITER of the owner or admin */
	int reads;      /* a READER may call it (reads, and the read-only POSTs) */
};

#define S1 "/v1/owners/a/studies/s1"
static const struct endpoint endpoints[] = {
    {"POST", "/v1/owners", "{\"ownerId\":\"c\"}", 1, 0, 0},
    {"GET", "/v1/owners", NULL, 1, 0, 0},
    {"GET", "/v1/owners/a", NULL, 0, 0, 1}, /* an owner's keys read its quotas */
    {"PATCH", "/v1/owners/a", "{\"quota\":{\"maxStudies\":1}}", 1, 0, 0},
    {"DELETE", "/v1/owners/a?force=true", NULL, 1, 0, 0},
    {"GET", "/v1/auditLog", NULL, 1, 0, 0},
    {"POST", "/v1/owners/a/apiKeys", "{\"role\":\"WRITER\"}", 0, 1, 0},
    {"GET", "/v1/owners/a/apiKeys", NULL, 0, 1, 0},
    {"GET", "/v1/owners/a/apiKeys/KEYID", NULL, 0, 1, 0},
    {"DELETE", "/v1/owners/a/apiKeys/KEYID", NULL, 0, 1, 0},
    {"POST", "/v1/owners/a/studies", "{\"displayName\":\"s2\",\"studySpec\":" SPEC_RANDOM "}", 0, 0,
     0},
    {"GET", "/v1/owners/a/studies", NULL, 0, 0, 1},
    {"POST", "/v1/owners/a/studies:lookup", "{\"displayName\":\"s1\"}", 0, 0, 1},
    {"GET", S1, NULL, 0, 0, 1},
    {"DELETE", S1, NULL, 0, 0, 0},
    {"POST", S1 "/trials:suggest", "{\"suggestionCount\":1,\"clientId\":\"w\"}", 0, 0, 0},
    {"POST", S1 "/trials", "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.5}]}", 0, 0, 0},
    {"GET", S1 "/trials", NULL, 0, 0, 1},
    {"GET", S1 "/trials/1", NULL, 0, 0, 1},
    {"GET", S1 "/trials/1?clientId=w", NULL, 0, 0, 0}, /* a heartbeat is a write */
    {"DELETE", S1 "/trials/1", NULL, 0, 0, 0},
    {"POST", S1 "/trials/1:addTrialMeasurement",
     "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.5}]}}", 0, 0, 0},
    {"POST", S1 "/trials/1:complete",
     "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.5}]}}", 0, 0, 0},
    {"POST", S1 "/trials/1:checkTrialEarlyStoppingState", "{}", 0, 0, 0},
    {"POST", S1 "/trials/1:stop", "{}", 0, 0, 0},
    {"POST", S1 "/trials:listOptimalTrials", "{}", 0, 0, 1},
    {"GET", S1 "/operations/1", NULL, 0, 0, 1},
};
#define N_ENDPOINTS (sizeof(endpoints) / sizeof(endpoints[0]))

static void endpoint_path(const struct endpoint *ep, const char *keyid, char *buf, size_t cap)
{
	const char *k = strstr(ep->path, "KEYID");
	if (!k)
		snprintf(buf, cap, "%s", ep->path);
	else
		snprintf(buf, cap, "%.*s%s%s", (int)(k - ep->path), ep->path, keyid, k + 5);
}

static struct key wa, ra, wb, revoked;

static void test_auth_matrix(struct daemon *d)
{
	char path[256], wrong[160];
	create_owner(d, "a");
	create_owner(d, "b");
	make_key(d, "a", "WRITER", &wa);
	make_key(d, "a", "READER", &ra);
	make_key(d, "b", "WRITER", &wb);
	make_key(d, "a", "WRITER", &revoked);
	/* s1 with trial 1 (ACTIVE) and operation 1, made by a's WRITER. */
	json_decref(CALL_AS(d, wa.key, "POST", "/v1/owners/a/studies",
	                    "{\"displayName\":\"s1\",\"studySpec\":" SPEC_RANDOM "}", 200));
	json_decref(CALL_AS(d, wa.key, "POST", S1 "/trials:suggest",
	                    "{\"suggestionCount\":1,\"clientId\":\"w\"}", 200));
	snprintf(path, sizeof(path), "/v1/owners/a/apiKeys/%s", revoked.id);
	json_decref(CALL_AS(d, revoked.key, "GET", S1, NULL, 200)); /* works until revoked */
	CALL_OK(d, "DELETE", path, NULL);
	/* Well-formed, a's WRITER id, another secret. */
	snprintf(wrong, sizeof(wrong), "%.20s%s", wa.key,
	         "0000000000000000000000000000000000000000000000000000000000000000");

	for (size_t i = 0; i < N_ENDPOINTS; i++) {
		const struct endpoint *ep = &endpoints[i];
		endpoint_path(ep, ra.id, path, sizeof(path));
		REFUSE_AS(d, "", ep->method, path, ep->body, 401, "UNAUTHENTICATED",
		          "missing Authorization header");
		REFUSE_AS(d, "not-a-key", ep->method, path, ep->body, 401, "UNAUTHENTICATED",
		          "API key not recognized");
		REFUSE_AS(d, wrong, ep->method, path, ep->body, 401, "UNAUTHENTICATED",
		          "API key not recognized");
		REFUSE_AS(d, "sk_0123456789abcdef_0123456789abcdef0123456789abcdef0123456789abcdef",
		          ep->method, path, ep->body, 401, "UNAUTHENTICATED",
		          "API key not recognized");
		REFUSE_AS(d, revoked.key, ep->method, path, ep->body, 401, "UNAUTHENTICATED",
		          "has been revoked");
		/* READER: no writes, no key management, no admin calls. */
		if (ep->admin_only)
			REFUSE_AS(d, ra.key, ep->method, path, ep->body, 403, "PERMISSION_DENIED",
			          "only the admin key");
		else if (!ep->reads)
			REFUSE_AS(d, ra.key, ep->method, path, ep->body, 403, "PERMISSION_DENIED",
			          "is a READER key");
		else
			json_decref(CALL_AS(d, ra.key, ep->method, path, ep->body, 200));
		/* Another owner's WRITER: a's resources do not exist for it. */
		if (strstr(path, "/owners/a"))
			REFUSE_AS(d, wb.key, ep->method, path, ep->body, 404, "NOT_FOUND",
			          "not found");
		else
			REFUSE_AS(d, wb.key, ep->method, path, ep->body, 403, "PERMISSION_DENIED",
			          "only the admin key");
		/* a's own WRITER may not make admin calls either. */
		if (ep->admin_only)
			REFUSE_AS(d, wa.key, ep->method, path, ep->body, 403, "PERMISSION_DENIED",
			          "only the admin key");
	}
	/* Another owner's names look exactly like names that do not exist. */
	json_t *j1 = CALL_AS(d, wb.key, "GET", S1, NULL, 404);
	EXPECT_IN(err_message(j1), "study owners/a/studies/s1 not found");
	json_decref(j1);
	j1 = CALL_AS(d, wb.key, "GET", "/v1/owners/zzz/studies", NULL, 404);
	EXPECT_IN(err_message(j1), "owner owners/zzz not found");
	json_decref(j1);

	/* What a READER may do: read its owner's studies and trials. */
	json_decref(CALL_AS(d, ra.key, "GET", S1, NULL, 200));
	json_decref(CALL_AS(d, ra.key, "GET", S1 "/trials", NULL, 200));
	json_decref(CALL_AS(d, ra.key, "GET", S1 "/trials/1", NULL, 200));
	json_decref(CALL_AS(d, ra.key, "GET", "/v1/owners/a/studies", NULL, 200));
	json_decref(CALL_AS(d, ra.key, "GET", S1 "/operations/1", NULL, 200));
}

static void test_key_lifecycle(struct daemon *d)
{
	struct key r2, w2;
	/* a's WRITER manages a's keys: makes a READER, lists, revokes it. */
	json_t *j = CALL_AS(d, wa.key, "POST", "/v1/owners/a/apiKeys",
	                    "{\"role\":\"READER\",\"displayName\":\"dashboard\"}", 200);
	snprintf(r2.key, sizeof(r2.key), "%s", jstr(j, "key"));
	snprintf(r2.id, sizeof(r2.id), "%s", strrchr(jstr(j, "name"), '/') + 1);
	json_decref(j);
	json_decref(CALL_AS(d, r2.key, "GET", S1, NULL, 200));

	/* The list has names, roles, states and never a secret or a hash. */
	j = CALL_AS(d, wa.key, "GET", "/v1/owners/a/apiKeys", NULL, 200);
	json_t *keys = json_object_get(j, "apiKeys");
	ASSERT_EQ_INT(json_array_size(keys), 4); /* wa, ra, revoked, r2 */
	size_t i;
	json_t *k;
	int revoked_seen = 0, secret_seen = 0;
	json_array_foreach(keys, i, k)
	{
		revoked_seen += strcmp(jstr(k, "state"), "REVOKED") == 0;
		secret_seen +=
		    json_object_get(k, "key") != NULL || json_object_get(k, "hash") != NULL;
	}
	ASSERT_EQ_INT(revoked_seen, 1);
	ASSERT_EQ_INT(secret_seen, 0);
	char *text = json_dumps(j, 0);
	ASSERT_TRUE(text && !strstr(text, wa.key + 20)); /* no part of a secret */
	free(text);
	json_decref(j);
	/* Pages of one key each, every key once. */
	j = CALL_AS(d, wa.key, "GET", "/v1/owners/a/apiKeys?pageSize=2", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(j, "apiKeys")), 2);
	char tok[128], path[256];
	snprintf(tok, sizeof(tok), "%s", jstr(j, "nextPageToken"));
	ASSERT_TRUE(tok[0] != '\0');
	json_decref(j);
	snprintf(path, sizeof(path), "/v1/owners/a/apiKeys?pageSize=2&pageToken=%s", tok);
	j = CALL_AS(d, wa.key, "GET", path, NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(j, "apiKeys")), 2);
	json_decref(j);

	snprintf(path, sizeof(path), "/v1/owners/a/apiKeys/%s", r2.id);
	j = CALL_AS(d, wa.key, "GET", path, NULL, 200);
	ASSERT_EQ_STR(jstr(j, "role"), "READER");
	ASSERT_EQ_STR(jstr(j, "displayName"), "dashboard");
	ASSERT_TRUE(json_object_get(j, "key") == NULL);
	json_decref(j);
	json_decref(CALL_AS(d, wa.key, "DELETE", path, NULL, 200));
	/* Revoked: refused at the very next request; revoking again is fine. */
	REFUSE_AS(d, r2.key, "GET", S1, NULL, 401, "UNAUTHENTICATED", "has been revoked");
	json_decref(CALL_AS(d, wa.key, "DELETE", path, NULL, 200));
	j = CALL_AS(d, wa.key, "GET", path, NULL, 200);
	ASSERT_EQ_STR(jstr(j, "state"), "REVOKED");
	ASSERT_TRUE(strlen(jstr(j, "revokeTime")) == 24);
	json_decref(j);
	/* b's WRITER cannot see or revoke a's keys; a's cannot make b's. */
	REFUSE_AS(d, wb.key, "DELETE", path, NULL, 404, "NOT_FOUND", "owners/a");
	REFUSE_AS(d, wa.key, "POST", "/v1/owners/b/apiKeys", "{\"role\":\"WRITER\"}", 404,
	          "NOT_FOUND", "owners/b");
	/* A key id of a, asked for under b: not found. */
	snprintf(path, sizeof(path), "/v1/owners/b/apiKeys/%s", wa.id);
	REFUSE_AS(d, NULL, "GET", path, NULL, 404, "NOT_FOUND", "not found");
	REFUSE_AS(d, NULL, "DELETE", path, NULL, 404, "NOT_FOUND", "not found");
	/* A new WRITER key works at once. */
	make_key(d, "a", "WRITER", &w2);
	json_decref(CALL_AS(d, w2.key, "POST", "/v1/owners/a/studies:lookup",
	                    "{\"displayName\":\"s1\"}", 200));
}

static void test_owners(struct daemon *d)
{
	/* Studies only under an existing owner. */
	REFUSE_AS(d, NULL, "POST", "/v1/owners/nobody/studies",
	          "{\"displayName\":\"s\",\"studySpec\":" SPEC_RANDOM "}", 404, "NOT_FOUND",
	          "owner owners/nobody not found: the admin creates it with POST /v1/owners");
	REFUSE_AS(d, NULL, "POST", "/v1/owners", "{\"ownerId\":\"a\"}", 409, "ALREADY_EXISTS",
	          "owners/a");
	json_t *j =
	    CALL(d, "POST", "/v1/owners",
	         "{\"ownerId\":\"q\",\"displayName\":\"Quota team\",\"quota\":{\"maxStudies\":"
	         "\"3\",\"requestsPerSecond\":2.5}}",
	         200);
	ASSERT_EQ_STR(jstr(j, "name"), "owners/q");
	ASSERT_EQ_STR(jstr(j, "displayName"), "Quota team");
	json_t *q = json_object_get(j, "quota");
	ASSERT_EQ_STR(jstr(q, "maxStudies"), "3");
	ASSERT_EQ_STR(jstr(q, "maxTrialsPerStudy"), "0");
	ASSERT_EQ_DBL(json_real_value(json_object_get(q, "requestsPerSecond")), 2.5, 0);
	json_decref(j);
	/* PATCH with updateMask: only the named fields, absent ones reset. */
	j = CALL(d, "PATCH", "/v1/owners/q?updateMask=quota.maxActiveTrials,displayName",
	         "{\"quota\":{\"maxActiveTrials\":7,\"maxStudies\":99}}", 200);
	q = json_object_get(j, "quota");
	ASSERT_EQ_STR(jstr(q, "maxActiveTrials"), "7");
	ASSERT_EQ_STR(jstr(q, "maxStudies"), "3");
	ASSERT_EQ_STR(jstr(j, "displayName"), "");
	json_decref(j);
	/* Without updateMask: the fields the body has. */
	j = CALL(d, "PATCH", "/v1/owners/q", "{\"quota\":{\"maxTrialsPerStudy\":\"40\"}}", 200);
	q = json_object_get(j, "quota");
	ASSERT_EQ_STR(jstr(q, "maxTrialsPerStudy"), "40");
	ASSERT_EQ_STR(jstr(q, "maxActiveTrials"), "7");
	json_decref(j);
	/* updateMask=quota replaces the whole quota. */
	j = CALL(d, "PATCH", "/v1/owners/q?updateMask=quota", "{\"quota\":{\"maxStudies\":5}}",
	         200);
	q = json_object_get(j, "quota");
	ASSERT_EQ_STR(jstr(q, "maxStudies"), "5");
	ASSERT_EQ_STR(jstr(q, "maxTrialsPerStudy"), "0");
	ASSERT_EQ_DBL(json_real_value(json_object_get(q, "requestsPerSecond")), 0, 0);
	json_decref(j);
	j = CALL(d, "GET", "/v1/owners/q", NULL, 200);
	ASSERT_EQ_STR(jstr(json_object_get(j, "quota"), "maxStudies"), "5");
	json_decref(j);

	/* Lists page through every owner once. */
	int seen = 0, q_seen = 0;
	char path[256] = "/v1/owners?pageSize=1";
	for (int guard = 0; guard < 20; guard++) {
		j = CALL(d, "GET", path, NULL, 200);
		json_t *arr = json_object_get(j, "owners");
		seen += (int)json_array_size(arr);
		if (json_array_size(arr) == 1)
			q_seen += strcmp(jstr(json_array_get(arr, 0), "name"), "owners/q") == 0;
		const char *tok = jstr(j, "nextPageToken");
		if (!*tok) {
			json_decref(j);
			break;
		}
		snprintf(path, sizeof(path), "/v1/owners?pageSize=1&pageToken=%s", tok);
		json_decref(j);
	}
	ASSERT_EQ_INT(seen, 3); /* a, b, q */
	ASSERT_EQ_INT(q_seen, 1);

	/* Delete: refused while it has studies, unless forced; then its keys
	 * fail and its studies are gone. */
	struct key qk;
	make_key(d, "q", "WRITER", &qk);
	json_decref(CALL_AS(d, qk.key, "POST", "/v1/owners/q/studies",
	                    "{\"displayName\":\"qs\",\"studySpec\":" SPEC_RANDOM "}", 200));
	REFUSE_AS(d, NULL, "DELETE", "/v1/owners/q", NULL, 400, "FAILED_PRECONDITION",
	          "still has 1 studies");
	CALL_OK(d, "DELETE", "/v1/owners/q?force=true", NULL);
	REFUSE_AS(d, qk.key, "GET", "/v1/owners/q/studies/qs", NULL, 401, "UNAUTHENTICATED",
	          "API key not recognized");
	REFUSE_AS(d, NULL, "GET", "/v1/owners/q", NULL, 404, "NOT_FOUND", "owners/q");
	REFUSE_AS(d, NULL, "GET", "/v1/owners/q/studies/qs", NULL, 404, "NOT_FOUND", "not found");
	REFUSE_AS(d, NULL, "DELETE", "/v1/owners/q", NULL, 404, "NOT_FOUND", "owners/q");
	/* A new owner of the same name starts empty. */
	create_owner(d, "q");
	j = CALL(d, "GET", "/v1/owners/q/studies", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(j, "studies")), 0);
	json_decref(j);
	CALL_OK(d, "DELETE", "/v1/owners/q", NULL);
}

/* Text that looks like SQL is data: stored and returned as sent. */
/* A team reads its own quotas with its own keys, not another team's. */
static void test_own_quotas(struct daemon *d)
{
	CALL_OK(d, "PATCH", "/v1/owners/a?updateMask=quota.maxStudies",
	        "{\"quota\":{\"maxStudies\":40}}");
	json_t *j = CALL_AS(d, ra.key, "GET", "/v1/owners/a", NULL, 200);
	json_t *q = json_object_get(j, "quota");
	ASSERT_TRUE(q != NULL);
	ASSERT_EQ_STR(jstr(q, "maxStudies"), "40"); /* int64 as a string, as in Google APIs */
	json_decref(j);
	json_decref(CALL_AS(d, wb.key, "GET", "/v1/owners/a", NULL, 404));
	REFUSE_AS(d, wa.key, "PATCH", "/v1/owners/a", "{\"quota\":{\"maxStudies\":1000}}", 403,
	          "PERMISSION_DENIED", "admin");
}

static void test_sql_is_data(struct daemon *d)
{
	static const char evil[] = "x'); DROP TABLE studies; --";
	char body[512];
	snprintf(body, sizeof(body), "{\"role\":\"READER\",\"displayName\":\"%s\"}", evil);
	json_t *j = CALL(d, "POST", "/v1/owners/a/apiKeys", body, 200);
	ASSERT_EQ_STR(jstr(j, "displayName"), evil);
	json_decref(j);
	snprintf(body, sizeof(body),
	         "{\"displayName\":\"sq\",\"studySpec\":{\"algorithm\":\"RANDOM_SEARCH\","
	         "\"metrics\":[{\"metricId\":\"%s\",\"goal\":\"MAXIMIZE\"}],\"parameters\":"
	         "[{\"parameterId\":\"c\",\"categoricalValueSpec\":{\"values\":[\"%s\",\"b\"]}}]}}",
	         evil, evil);
	j = CALL_AS(d, wa.key, "POST", "/v1/owners/a/studies", body, 200);
	char *text = json_dumps(j, 0);
	ASSERT_TRUE(text && strstr(text, "x'); DROP TABLE studies; --") != NULL);
	free(text);
	json_decref(j);
	snprintf(body, sizeof(body), "{\"suggestionCount\":1,\"clientId\":\"%s\"}", evil);
	j = CALL_AS(d, wa.key, "POST", "/v1/owners/a/studies/sq/trials:suggest", body, 200);
	ASSERT_EQ_STR(jstr(json_array_get(op_trials(j), 0), "clientId"), evil);
	json_decref(j);
	/* and the tables are all still there */
	j = CALL(d, "GET", "/v1/owners/a/studies", NULL, 200);
	ASSERT_TRUE(json_array_size(json_object_get(j, "studies")) >= 2);
	json_decref(j);
}

static void test_audit(struct daemon *d)
{
	/* Reading the log is an admin call; the log is newest first. */
	json_t *j = CALL(d, "GET", "/v1/auditLog?pageSize=1000", NULL, 200);
	json_t *entries = json_object_get(j, "auditEntries");
	ASSERT_TRUE(json_array_size(entries) > 100);
	size_t i;
	json_t *a;
	int revoked_401 = 0, reader_403 = 0, other_404 = 0, admin_owner = 0, reads = 0;
	const char *prev = NULL;
	int ordered = 1;
	json_array_foreach(entries, i, a)
	{
		const char *t = jstr(a, "time");
		if (prev && strcmp(prev, t) < 0)
			ordered = 0;
		prev = t;
		long status = (long)json_integer_value(json_object_get(a, "status"));
		const char *m = jstr(a, "method"), *kid = jstr(a, "keyId");
		if (status == 401 && strcmp(kid, revoked.id) == 0 && strcmp(m, "POST") == 0)
			revoked_401++;
		if (status == 403 && strcmp(kid, ra.id) == 0)
			reader_403++;
		/* a refusal is filed under the caller's owner, not the path's */
		if (status == 404 && strcmp(kid, wb.id) == 0 && strcmp(jstr(a, "owner"), "b") == 0)
			other_404++;
		if (strcmp(kid, wb.id) == 0 && strcmp(jstr(a, "owner"), "a") == 0)
			TEST_FAIL("b's refused call filed under a: %s", jstr(a, "path"));
		if (strcmp(kid, "admin") == 0 && strcmp(m, "POST") == 0 &&
		    strcmp(jstr(a, "path"), "/v1/owners") == 0 && status == 200)
			admin_owner++;
		/* ordinary reads of studies and trials are not audited */
		if (strcmp(m, "GET") == 0 && strstr(jstr(a, "path"), "/studies") &&
		    !strstr(jstr(a, "path"), "?clientId="))
			reads++;
		if (status != 200 && strlen(jstr(a, "error")) == 0)
			TEST_FAIL("audit entry with status %ld and no error name", status);
	}
	ASSERT_TRUE(ordered);
	ASSERT_TRUE(revoked_401 >= 10); /* each refused POST with the revoked key */
	ASSERT_TRUE(reader_403 >= 10);
	ASSERT_TRUE(other_404 >= 10);
	ASSERT_TRUE(admin_owner >= 3);
	ASSERT_EQ_INT(reads, 0);
	json_decref(j);
	/* filter=owner=b: only b's entries; pages do not repeat entries. */
	j = CALL(d, "GET", "/v1/auditLog?filter=owner%3Db&pageSize=2", NULL, 200);
	entries = json_object_get(j, "auditEntries");
	ASSERT_EQ_INT(json_array_size(entries), 2);
	json_array_foreach(entries, i, a) ASSERT_EQ_STR(jstr(a, "owner"), "b");
	char path[256], first_time[64];
	snprintf(first_time, sizeof(first_time), "%s", jstr(json_array_get(entries, 1), "time"));
	snprintf(path, sizeof(path), "/v1/auditLog?filter=owner%%3Db&pageSize=2&pageToken=%s",
	         jstr(j, "nextPageToken"));
	json_decref(j);
	j = CALL(d, "GET", path, NULL, 200);
	entries = json_object_get(j, "auditEntries");
	ASSERT_TRUE(json_array_size(entries) >= 1);
	ASSERT_TRUE(strcmp(jstr(json_array_get(entries, 0), "time"), first_time) <= 0);
	json_decref(j);
}

/* The entries (status, error name) the log holds for one method and path. */
static int audit_entries_for(struct daemon *d, const char *method, const char *path, long *status,
                             char *error, size_t cap)
{
	json_t *j = CALL(d, "GET", "/v1/auditLog?pageSize=1000", NULL, 200);
	size_t i;
	json_t *a;
	int n = 0;
	json_array_foreach(json_object_get(j, "auditEntries"), i, a)
	{
		if (strcmp(jstr(a, "method"), method) != 0 || strcmp(jstr(a, "path"), path) != 0)
			continue;
		n++;
		*status = (long)json_integer_value(json_object_get(a, "status"));
		snprintf(error, cap, "%s", jstr(a, "error"));
	}
	json_decref(j);
	return n;
}

/* A write and its audit entry share one transaction: one entry per call,
 * and a call that committed a change and then failed (a late complete
 * after the lease lapsed: the give-up is committed, the call refused) has
 * one entry with the refusal, not a success. */
static void test_audit_with_the_write(struct daemon *d)
{
	long status = 0;
	char error[64] = "";
	json_t *j = CALL_AS(d, wa.key, "POST", "/v1/owners/a/studies",
	                    "{\"displayName\":\"aud\",\"studySpec\":{\"algorithm\":"
	                    "\"RANDOM_SEARCH\",\"staleTrialTimeout\":\"0.2s\",\"metrics\":[{"
	                    "\"metricId\":\"m\",\"goal\":\"MAXIMIZE\"}],\"parameters\":[{"
	                    "\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,"
	                    "\"maxValue\":1}}]}}",
	                    200);
	json_decref(j);
	ASSERT_EQ_INT(audit_entries_for(d, "POST", "/v1/owners/a/studies", &status, error,
	                                sizeof(error)) >= 1,
	              1);
	j = CALL_AS(d, wa.key, "POST", "/v1/owners/a/studies/aud/trials:suggest",
	            "{\"suggestionCount\":1,\"clientId\":\"w\"}", 200);
	json_decref(j);
	ASSERT_EQ_INT(audit_entries_for(d, "POST", "/v1/owners/a/studies/aud/trials:suggest",
	                                &status, error, sizeof(error)),
	              1);
	ASSERT_EQ_INT(status, 200);
	ASSERT_EQ_STR(error, "");
	usleep(400 * 1000); /* past the lease */
	const char *done =
	    "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"m\",\"value\":1}]}}";
	j = CALL_AS(d, wa.key, "POST", "/v1/owners/a/studies/aud/trials/1:complete", done, 400);
	json_decref(j);
	ASSERT_EQ_INT(audit_entries_for(d, "POST", "/v1/owners/a/studies/aud/trials/1:complete",
	                                &status, error, sizeof(error)),
	              1);
	ASSERT_EQ_INT(status, 400);
	ASSERT_EQ_STR(error, "FAILED_PRECONDITION");
	/* the give-up itself was kept: trial 1 is INFEASIBLE, trial 2 waits */
	j = CALL_AS(d, wa.key, "GET", "/v1/owners/a/studies/aud/trials/1", NULL, 200);
	ASSERT_EQ_STR(jstr(j, "state"), "INFEASIBLE");
	json_decref(j);
	j = CALL_AS(d, wa.key, "GET", "/v1/owners/a/studies/aud/trials/2", NULL, 200);
	ASSERT_EQ_STR(jstr(j, "state"), "REQUESTED");
	json_decref(j);
}

/* ---- quotas and the rate limit under concurrent requests ---- */

#define THREADS 8

struct racer {
	struct daemon *d;
	const char *key;
	const char *method;
	char path[256];
	char body[512];
	int ok, exhausted, other;
	char retry_after[32];
	char message[256];
	pthread_barrier_t *go;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct reply rep;
	pthread_barrier_wait(r->go);
	if (http_call(r->d, r->method, r->path, r->body[0] ? r->body : NULL, r->key, &rep) != 0) {
		r->other++;
		return NULL;
	}
	if (rep.status == 200) {
		r->ok++;
	} else if (rep.status == 429 &&
	           strcmp(reply_status_name(&rep), "RESOURCE_EXHAUSTED") == 0) {
		r->exhausted++;
		snprintf(r->message, sizeof(r->message), "%s", reply_message(&rep));
		snprintf(r->retry_after, sizeof(r->retry_after), "%s", rep.retry_after);
	} else {
		r->other++;
		snprintf(r->message, sizeof(r->message), "%ld %s", rep.status, rep.body);
	}
	reply_free(&rep);
	return NULL;
}

/* Sends THREADS requests at once (path and body may hold %d, the thread's
 * number); returns how many succeeded and checks the others were 429
 * naming `says`. */
static int race_all(struct daemon *d, const char *key, const char *method, const char *path_fmt,
                    const char *body_fmt, const char *says, int want_retry_after)
{
	pthread_t th[THREADS];
	struct racer r[THREADS];
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].d = d;
		r[i].key = key;
		r[i].method = method;
		r[i].go = &go;
		snprintf(r[i].path, sizeof(r[i].path), path_fmt, i);
		if (body_fmt)
			snprintf(r[i].body, sizeof(r[i].body), body_fmt, i);
		pthread_create(&th[i], NULL, race, &r[i]);
	}
	int ok = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		ok += r[i].ok;
		if (r[i].other)
			TEST_FAIL("thread %d: unexpected answer %s", i, r[i].message);
		if (r[i].exhausted) {
			EXPECT_IN(r[i].message, says);
			if (want_retry_after && atoi_safe(r[i].retry_after) < 1)
				TEST_FAIL("thread %d: Retry-After \"%s\"", i, r[i].retry_after);
			if (!want_retry_after && r[i].retry_after[0])
				TEST_FAIL("thread %d: Retry-After on a quota refusal", i);
		}
	}
	pthread_barrier_destroy(&go);
	return ok;
}

static int count_of(struct daemon *d, const char *path, const char *field)
{
	json_t *j = CALL(d, "GET", path, NULL, 200);
	int n = (int)json_array_size(json_object_get(j, field));
	json_decref(j);
	return n;
}

static void test_quotas(struct daemon *d)
{
	struct key k;
	create_owner(d, "qt");
	make_key(d, "qt", "WRITER", &k);
	CALL_OK(d, "PATCH", "/v1/owners/qt",
	        "{\"quota\":{\"maxStudies\":3,\"maxTrialsPerStudy\":5,\"maxActiveTrials\":4}}");
	/* 8 different studies at once, 3 allowed. */
	int ok = race_all(d, k.key, "POST", "/v1/owners/qt/studies",
	                  "{\"displayName\":\"r%d\",\"studySpec\":" SPEC_RANDOM "}",
	                  "quota maxStudies", 0);
	ASSERT_EQ_INT(ok, 3);
	ASSERT_EQ_INT(count_of(d, "/v1/owners/qt/studies", "studies"), 3);
	/* The admin is bound by the owner's quota too. */
	REFUSE_AS(d, NULL, "POST", "/v1/owners/qt/studies",
	          "{\"displayName\":\"more\",\"studySpec\":" SPEC_RANDOM "}", 429,
	          "RESOURCE_EXHAUSTED", "quota maxStudies");
	/* and the refusal says the number */
	REFUSE_AS(d, NULL, "POST", "/v1/owners/qt/studies",
	          "{\"displayName\":\"more\",\"studySpec\":" SPEC_RANDOM "}", 429,
	          "RESOURCE_EXHAUSTED", "(owner qt: maxStudies 3)");
	/* Trials of one study: 8 creates at once, 5 allowed. */
	json_t *l = CALL(d, "GET", "/v1/owners/qt/studies", NULL, 200);
	char study[64], path[256];
	snprintf(study, sizeof(study), "%s",
	         jstr(json_array_get(json_object_get(l, "studies"), 0), "displayName"));
	json_decref(l);
	snprintf(path, sizeof(path), "/v1/owners/qt/studies/%s/trials", study);
	ok = race_all(d, k.key, "POST", path,
	              "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.%d}]}",
	              "quota maxTrialsPerStudy", 0);
	ASSERT_EQ_INT(ok, 5);
	ASSERT_EQ_INT(count_of(d, path, "trials"), 5);
	REFUSE_AS(d, k.key, "POST", path,
	          "{\"parameters\":[{\"parameterId\":\"x\",\"value\":0.5}]}", 429,
	          "RESOURCE_EXHAUSTED", "(owner qt: maxTrialsPerStudy 5)");
	/* ACTIVE trials over the owner's studies: 8 workers suggest at once on
	 * a second study, 4 get a trial. */
	l = CALL(d, "GET", "/v1/owners/qt/studies", NULL, 200);
	char study2[64];
	snprintf(study2, sizeof(study2), "%s",
	         jstr(json_array_get(json_object_get(l, "studies"), 1), "displayName"));
	json_decref(l);
	snprintf(path, sizeof(path), "/v1/owners/qt/studies/%s/trials:suggest", study2);
	ok = race_all(d, k.key, "POST", path, "{\"suggestionCount\":1,\"clientId\":\"w%d\"}",
	              "quota maxActiveTrials", 0);
	ASSERT_EQ_INT(ok, 4);
	snprintf(path, sizeof(path), "/v1/owners/qt/studies/%s/trials?filter=state%%3DACTIVE",
	         study2);
	ASSERT_EQ_INT(count_of(d, path, "trials"), 4);
	/* A worker that holds an ACTIVE trial gets it back at the limit. */
	l = CALL(d, "GET", path, NULL, 200);
	char tid[32], client[32], body[128];
	json_t *held = json_array_get(json_object_get(l, "trials"), 0);
	snprintf(tid, sizeof(tid), "%s", jstr(held, "id"));
	snprintf(client, sizeof(client), "%s", jstr(held, "clientId"));
	json_decref(l);
	snprintf(path, sizeof(path), "/v1/owners/qt/studies/%s/trials:suggest", study2);
	snprintf(body, sizeof(body), "{\"suggestionCount\":1,\"clientId\":\"%s\"}", client);
	json_t *op = CALL_AS(d, k.key, "POST", path, body, 200);
	ASSERT_EQ_STR(jstr(json_array_get(op_trials(op), 0), "id"), tid);
	json_decref(op);
	/* Completing one frees a place. */
	snprintf(path, sizeof(path), "/v1/owners/qt/studies/%s/trials/%s:complete", study2, tid);
	json_decref(CALL_AS(
	    d, k.key, "POST", path,
	    "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}", 200));
	snprintf(path, sizeof(path), "/v1/owners/qt/studies/%s/trials:suggest", study2);
	ok = race_all(d, k.key, "POST", path, "{\"suggestionCount\":1,\"clientId\":\"v%d\"}",
	              "quota maxActiveTrials", 0);
	ASSERT_EQ_INT(ok, 1);
	/* Asking for more than fits gets what fits: complete one more, then a
	 * call for 3 gets 1; with no room left, a call is refused. */
	snprintf(path, sizeof(path), "/v1/owners/qt/studies/%s/trials?filter=state%%3DACTIVE",
	         study2);
	l = CALL(d, "GET", path, NULL, 200);
	snprintf(tid, sizeof(tid), "%s",
	         jstr(json_array_get(json_object_get(l, "trials"), 0), "id"));
	json_decref(l);
	snprintf(path, sizeof(path), "/v1/owners/qt/studies/%s/trials/%s:complete", study2, tid);
	json_decref(CALL_AS(
	    d, k.key, "POST", path,
	    "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}", 200));
	/* on the third study, which has room for trials, not for ACTIVE ones */
	l = CALL(d, "GET", "/v1/owners/qt/studies", NULL, 200);
	char study3[64] = "";
	size_t si;
	json_t *sv;
	json_array_foreach(json_object_get(l, "studies"), si, sv)
	{
		const char *name = jstr(sv, "displayName");
		if (strcmp(name, study) != 0 && strcmp(name, study2) != 0)
			snprintf(study3, sizeof(study3), "%s", name);
	}
	json_decref(l);
	snprintf(path, sizeof(path), "/v1/owners/qt/studies/%s/trials:suggest", study3);
	op = CALL_AS(d, k.key, "POST", path, "{\"suggestionCount\":3,\"clientId\":\"three\"}", 200);
	ASSERT_EQ_INT(json_array_size(op_trials(op)), 1);
	json_decref(op);
	REFUSE_AS(d, k.key, "POST", path, "{\"suggestionCount\":2,\"clientId\":\"two\"}", 429,
	          "RESOURCE_EXHAUSTED", "(owner qt: maxActiveTrials 4)");
	/* The same for maxTrialsPerStudy: an owner allowed 3 trials a study
	 * asks for 5 and gets 3, then nothing more. */
	create_owner(d, "qp");
	CALL_OK(d, "PATCH", "/v1/owners/qp", "{\"quota\":{\"maxTrialsPerStudy\":3}}");
	CALL_OK(d, "POST", "/v1/owners/qp/studies",
	        "{\"displayName\":\"p\",\"studySpec\":" SPEC_RANDOM "}");
	op = CALL(d, "POST", "/v1/owners/qp/studies/p/trials:suggest",
	          "{\"suggestionCount\":5,\"clientId\":\"five\"}", 200);
	ASSERT_EQ_INT(json_array_size(op_trials(op)), 3);
	json_decref(op);
	REFUSE(d, "POST", "/v1/owners/qp/studies/p/trials:suggest",
	       "{\"suggestionCount\":1,\"clientId\":\"one\"}", 429, "RESOURCE_EXHAUSTED",
	       "(owner qp: maxTrialsPerStudy 3)");
	/* Raising the quota lets more in at once. */
	CALL_OK(d, "PATCH",
	        "/v1/owners/qt?updateMask=quota.maxActiveTrials,quota.maxTrialsPerStudy",
	        "{\"quota\":{}}");
	json_decref(
	    CALL_AS(d, k.key, "POST", path, "{\"suggestionCount\":2,\"clientId\":\"late\"}", 200));
}

static void test_rate_limit(struct daemon *d)
{
	struct key k1, k2;
	create_owner(d, "rl");
	make_key(d, "rl", "READER", &k1);
	make_key(d, "rl", "READER", &k2);
	/* A tiny rate: the bucket holds one request and refills in 1000 s, so
	 * the count does not depend on how fast the machine is. */
	CALL_OK(d, "PATCH", "/v1/owners/rl", "{\"quota\":{\"requestsPerSecond\":0.001}}");
	int ok = race_all(d, k1.key, "GET", "/v1/owners/rl/studies?pageSize=%d", NULL,
	                  "rate limit of owner rl exceeded", 1);
	ASSERT_EQ_INT(ok, 1);
	/* The next one is refused with Retry-After, and changes nothing. */
	struct reply r;
	ASSERT_EQ_INT(http_call(d, "GET", "/v1/owners/rl/studies", NULL, k1.key, &r), 0);
	ASSERT_EQ_INT(r.status, 429);
	ASSERT_TRUE(atoi_safe(r.retry_after) >= 900 && atoi_safe(r.retry_after) <= 1000);
	EXPECT_IN(reply_message(&r), "requestsPerSecond");
	reply_free(&r);
	/* The bucket is the owner's: another key of it finds it empty too
	 * (every call refused); the admin has none. */
	ok = race_all(d, k2.key, "GET", "/v1/owners/rl/studies?pageSize=%d", NULL,
	              "for all its keys together", 1);
	ASSERT_EQ_INT(ok, 0);
	ok = race_all(d, NULL, "GET", "/v1/owners/rl/studies?pageSize=%d", NULL, "-", 0);
	ASSERT_EQ_INT(ok, THREADS);
	/* Lifting the quota applies at the next request. */
	CALL_OK(d, "PATCH", "/v1/owners/rl", "{\"quota\":{\"requestsPerSecond\":0}}");
	ok = race_all(d, k1.key, "GET", "/v1/owners/rl/studies?pageSize=%d", NULL, "-", 0);
	ASSERT_EQ_INT(ok, THREADS);
}

/* A flood of bad keys from one address: 401 up to the allowance, then 429
 * with Retry-After and no audit entries; a valid key is never held back. */
static void test_auth_failures(void)
{
	const char *const env[] = {"SIBYL_AUTH_FAILURES_PER_SECOND=2", NULL};
	struct daemon_opts o = {.env = env};
	struct daemon *d = daemon_start(&o);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return;
	create_owner(d, "fl");
	int n401 = 0, n429 = 0, retry = 0;
	for (int i = 0; i < 40; i++) {
		struct reply r;
		if (http_call(d, "POST", "/v1/owners/fl/studies:lookup", "{\"displayName\":\"x\"}",
		              "sk_0123456789abcdef_wrongwrongwrongwrong", &r) != 0)
			continue;
		n401 += r.status == 401;
		if (r.status == 429) {
			n429++;
			retry += atoi_safe(r.retry_after) >= 1;
			EXPECT_IN(reply_message(&r), "auth_failures_per_second");
		}
		reply_free(&r);
	}
	/* a burst of 10 (5 s at 2 a second), plus what refilled meanwhile */
	ASSERT_TRUE(n401 >= 10 && n401 <= 30);
	ASSERT_TRUE(n429 >= 10);
	ASSERT_EQ_INT(retry, n429);
	ASSERT_EQ_INT(n401 + n429, 40);
	/* the admin key from the same address is served */
	json_t *j = CALL(d, "GET", "/v1/auditLog?pageSize=1000", NULL, 200);
	int audited = 0;
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(j, "auditEntries"), i, a)
	{
		audited += strcmp(jstr(a, "path"), "/v1/owners/fl/studies:lookup") == 0;
	}
	json_decref(j);
	ASSERT_EQ_INT(audited, n401); /* the 429s left no entry */
	ASSERT_EQ_INT(daemon_stop(d), 0);
}

int main(void)
{
	test_auth_failures();
	const char *const no_limit[] = {"SIBYL_AUTH_FAILURES_PER_SECOND=0", NULL};
	struct daemon_opts o = {.env = no_limit}; /* the matrix sends hundreds of bad keys */
	struct daemon *d = daemon_start(&o);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("api-teams");
	test_auth_matrix(d);
	test_key_lifecycle(d);
	test_owners(d);
	test_own_quotas(d);
	test_sql_is_data(d);
	test_audit(d);
	test_audit_with_the_write(d);
	test_quotas(d);
	test_rate_limit(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("api-teams");
}
