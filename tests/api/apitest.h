/* apitest: helpers shared by the API tests (tests/api/test-*.c), on top of
 * the harness (real sibyld, real HTTP) and the unit assertions. */
#ifndef SIBYL_APITEST_H
#define SIBYL_APITEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test.h"

#define SPEC_RANDOM                                                                     \
	"{\"algorithm\":\"RANDOM_SEARCH\",\"metrics\":[{\"metricId\":\"acc\",\"goal\":" \
	"\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":\"x\",\"doubleValueSpec\":"    \
	"{\"minValue\":0,\"maxValue\":1}}]}"

static inline void expect_in(const char *text, const char *want, int line)
{
	test_checks++;
	if (!text || !strstr(text, want))
		TEST_FAIL("line %d: \"%s\" not found in: %s", line, want, text ? text : "(null)");
}
#define EXPECT_IN(text, want) expect_in((text), (want), __LINE__)

/* Sends a request and checks the status; returns the parsed JSON body (a
 * new reference, or NULL) so the caller can look further. */
static inline json_t *call_expect(struct daemon *d, const char *method, const char *path,
                                  const char *body, long want, int line)
{
	struct reply r;
	test_checks++;
	if (http_call(d, method, path, body, NULL, &r) != 0) {
		TEST_FAIL("line %d: %s %s: transport error", line, method, path);
		return NULL;
	}
	if (r.status != want)
		TEST_FAIL("line %d: %s %s %s: status %ld, want %ld: %s", line, method, path,
		          body ? body : "", r.status, want, r.body);
	json_t *j = r.json ? json_incref(r.json) : NULL;
	reply_free(&r);
	return j;
}
#define CALL(d, m, p, b, want) call_expect((d), (m), (p), (b), (want), __LINE__)
#define CALL_OK(d, m, p, b)    json_decref(call_expect((d), (m), (p), (b), 200, __LINE__))

/* Owners are made by the admin before any study (the tests' owner is "t"). */
static inline void create_owner(struct daemon *d, const char *owner)
{
	struct reply r;
	char body[256];
	snprintf(body, sizeof(body), "{\"ownerId\":\"%s\"}", owner);
	test_checks++;
	if (http_call(d, "POST", "/v1/owners", body, NULL, &r) != 0 || r.status != 200)
		TEST_FAIL("creating owner %s: status %ld: %s", owner, r.status,
		          r.body ? r.body : "");
	reply_free(&r);
}

/* A request made with key (as http_call: NULL is the admin key) that must be
 * refused with status/name, a message containing `says`, and (unless
 * may_change) no change in the database but the audit log's entry. */
static inline void reject_as(struct daemon *d, const char *key, const char *method,
                             const char *path, const char *body, long status, const char *name,
                             const char *says, int may_change, int line)
{
	struct reply r;
	char *before = db_dump_data(d->db_path);
	test_checks++;
	if (http_call(d, method, path, body, key, &r) != 0) {
		TEST_FAIL("line %d: transport error", line);
		free(before);
		return;
	}
	char *after = db_dump_data(d->db_path);
	if (r.status != status || strcmp(reply_status_name(&r), name) != 0)
		TEST_FAIL("line %d: %s %s %s: got %ld %s, want %ld %s: %s", line, method, path,
		          body ? body : "", r.status, reply_status_name(&r), status, name, r.body);
	if (says && !strstr(reply_message(&r), says))
		TEST_FAIL("line %d: message \"%s\" does not say \"%s\"", line, reply_message(&r),
		          says);
	if (!may_change && (!before || !after || strcmp(before, after) != 0))
		TEST_FAIL("line %d: the database changed after a refused %s %s", line, method,
		          path);
	free(before);
	free(after);
	reply_free(&r);
}
#define REJECT(d, m, p, b, st, name, says) \
	reject_as((d), NULL, (m), (p), (b), (st), (name), (says), 0, __LINE__)
/* Refused, but the refusal itself records something (a study that stops). */
#define REFUSE(d, m, p, b, st, name, says) \
	reject_as((d), NULL, (m), (p), (b), (st), (name), (says), 1, __LINE__)
/* REJECT with another key. */
#define REFUSE_AS(d, k, m, p, b, st, name, says) \
	reject_as((d), (k), (m), (p), (b), (st), (name), (says), 0, __LINE__)

static inline const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* The trials of a suggest Operation. */
static inline json_t *op_trials(json_t *op)
{
	return json_object_get(json_object_get(op, "response"), "trials");
}

static inline json_t *suggest(struct daemon *d, const char *study, int count, const char *client,
                              long want)
{
	char path[256], body[256];
	snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials:suggest", study);
	snprintf(body, sizeof(body), "{\"suggestionCount\":%d,\"clientId\":\"%s\"}", count, client);
	return call_expect(d, "POST", path, body, want, __LINE__);
}

static inline void create_study(struct daemon *d, const char *name, const char *spec)
{
	char body[8192];
	snprintf(body, sizeof(body), "{\"displayName\":\"%s\",\"studySpec\":%s}", name, spec);
	json_decref(call_expect(d, "POST", "/v1/owners/t/studies", body, 200, __LINE__));
}

/* :complete with one metric value. */
static inline json_t *complete(struct daemon *d, const char *study, const char *trial_id,
                               const char *metric, double v, long want)
{
	char path[256], body[256];
	snprintf(path, sizeof(path), "/v1/owners/t/studies/%s/trials/%s:complete", study, trial_id);
	snprintf(body, sizeof(body),
	         "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"%s\",\"value\":%.17g}]}}",
	         metric, v);
	return call_expect(d, "POST", path, body, want, __LINE__);
}

/* ---- owners' API keys (test-teams.c, test-tenants.c) ---- */

/* A key made by make_key: the secret and its id. */
struct key {
	char key[128];
	char id[32];
};

static inline json_t *call_as(struct daemon *d, const char *key, const char *method,
                              const char *path, const char *body, long want, int line)
{
	struct reply r;
	test_checks++;
	if (http_call(d, method, path, body, key, &r) != 0) {
		TEST_FAIL("line %d: transport error", line);
		return NULL;
	}
	if (r.status != want)
		TEST_FAIL("line %d: %s %s %s: status %ld, want %ld: %s", line, method, path,
		          body ? body : "", r.status, want, r.body);
	json_t *j = r.json ? json_incref(r.json) : NULL;
	reply_free(&r);
	return j;
}
#define CALL_AS(d, k, m, p, b, want) call_as((d), (k), (m), (p), (b), (want), __LINE__)

static inline void make_key(struct daemon *d, const char *owner, const char *role, struct key *k)
{
	char path[256], body[128];
	snprintf(path, sizeof(path), "/v1/owners/%s/apiKeys", owner);
	snprintf(body, sizeof(body), "{\"role\":\"%s\",\"displayName\":\"test %s\"}", role, role);
	json_t *j = CALL(d, "POST", path, body, 200);
	snprintf(k->key, sizeof(k->key), "%s", jstr(j, "key"));
	const char *name = jstr(j, "name");
	const char *slash = strrchr(name, '/');
	snprintf(k->id, sizeof(k->id), "%s", slash ? slash + 1 : "");
	ASSERT_EQ_STR(jstr(j, "role"), role);
	ASSERT_EQ_STR(jstr(j, "state"), "ACTIVE");
	ASSERT_TRUE(strncmp(k->key, "sk_", 3) == 0);
	ASSERT_EQ_INT(strlen(k->id), 16);
	json_decref(j);
}

/* A Retry-After value as a number; 0 when absent or not a number. */
static inline long atoi_safe(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return end == s || *end ? 0 : v;
}

#endif
