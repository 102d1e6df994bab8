/* Studies over real HTTP: create-or-load, get, list with pagination,
 * lookup, delete, authentication, routing errors, and a restart on the same
 * database that keeps everything. */
#include "apitest.h"

static void test_create_or_load(struct daemon *d)
{
	json_t *s = CALL(d, "POST", "/v1/owners/t/studies",
	                 "{\"displayName\":\"s1\",\"studySpec\":" SPEC_RANDOM "}", 200);
	ASSERT_EQ_STR(jstr(s, "name"), "owners/t/studies/s1");
	ASSERT_EQ_STR(jstr(s, "displayName"), "s1");
	ASSERT_EQ_STR(jstr(s, "state"), "ACTIVE");
	ASSERT_TRUE(strlen(jstr(s, "createTime")) == 24);
	ASSERT_EQ_STR(jstr(json_object_get(s, "studySpec"), "algorithm"), "RANDOM_SEARCH");
	char *first = json_dumps(s, JSON_SORT_KEYS);
	json_decref(s);

	/* the same spec, written differently (1 vs 1.0, key order): the same
	 * study comes back, nothing new is stored */
	char *before = db_dump_data(d->db_path);
	s = CALL(d, "POST", "/v1/owners/t/studies",
	         "{\"studySpec\":{\"parameters\":[{\"doubleValueSpec\":{\"maxValue\":1.0,"
	         "\"minValue\":0.0},\"parameterId\":\"x\"}],\"metrics\":[{\"goal\":\"MAXIMIZE\","
	         "\"metricId\":\"acc\"}],\"algorithm\":\"RANDOM_SEARCH\"},\"displayName\":\"s1\"}",
	         200);
	char *again = json_dumps(s, JSON_SORT_KEYS);
	char *after = db_dump_data(d->db_path);
	ASSERT_EQ_STR(again, first);
	ASSERT_EQ_STR(after, before);
	free(again);
	free(before);
	free(after);
	free(first);
	json_decref(s);

	/* a different spec under the same name: ALREADY_EXISTS, nothing changes */
	REJECT(d, "POST", "/v1/owners/t/studies",
	       "{\"displayName\":\"s1\",\"studySpec\":{\"algorithm\":\"GRID_SEARCH\",\"metrics\":"
	       "[{\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}],\"parameters\":[{\"parameterId\":"
	       "\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}}]}}",
	       409, "ALREADY_EXISTS", "different studySpec");

	/* the same name under another owner is another study */
	s = CALL(d, "POST", "/v1/owners/other/studies",
	         "{\"displayName\":\"s1\",\"studySpec\":" SPEC_RANDOM "}", 200);
	ASSERT_EQ_STR(jstr(s, "name"), "owners/other/studies/s1");
	json_decref(s);
}

static void test_get_lookup_delete(struct daemon *d)
{
	json_t *s = CALL(d, "GET", "/v1/owners/t/studies/s1", NULL, 200);
	ASSERT_EQ_STR(jstr(s, "name"), "owners/t/studies/s1");
	json_decref(s);
	s = CALL(d, "POST", "/v1/owners/t/studies:lookup", "{\"displayName\":\"s1\"}", 200);
	ASSERT_EQ_STR(jstr(s, "name"), "owners/t/studies/s1");
	json_decref(s);
	REJECT(d, "POST", "/v1/owners/t/studies:lookup", "{\"displayName\":\"nope\"}", 404,
	       "NOT_FOUND", "owners/t/studies/nope");
	REJECT(d, "POST", "/v1/owners/t/studies:lookup", "{}", 400, "INVALID_ARGUMENT",
	       "displayName is required");
	REJECT(d, "GET", "/v1/owners/t/studies/nope", NULL, 404, "NOT_FOUND",
	       "owners/t/studies/nope");
	REJECT(d, "GET", "/v1/owners/nobody/studies/s1", NULL, 404, "NOT_FOUND", "not found");

	create_study(d, "gone", SPEC_RANDOM);
	json_decref(suggest(d, "gone", 2, "w", 200));
	s = CALL(d, "DELETE", "/v1/owners/t/studies/gone", NULL, 200);
	ASSERT_TRUE(json_is_object(s) && json_object_size(s) == 0);
	json_decref(s);
	REJECT(d, "GET", "/v1/owners/t/studies/gone", NULL, 404, "NOT_FOUND", "gone");
	REJECT(d, "GET", "/v1/owners/t/studies/gone/trials/1", NULL, 404, "NOT_FOUND", "gone");
	REJECT(d, "DELETE", "/v1/owners/t/studies/gone", NULL, 404, "NOT_FOUND", "gone");
	/* the name can be used again; its trial ids carry on after the old
	 * study's, so that a stale worker's trial 1 names nothing (test-faults) */
	create_study(d, "gone", SPEC_RANDOM);
	json_t *op = suggest(d, "gone", 1, "w", 200);
	ASSERT_EQ_STR(jstr(json_array_get(op_trials(op), 0), "id"), "3");
	json_decref(op);
}

static void test_list_pages(struct daemon *d)
{
	char name[32];
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		create_study(d, name, SPEC_RANDOM);
	}
	/* owner "t" now has s1, gone, p0..p4 = 7 studies; walk them 3 at a time */
	char path[256] = "/v1/owners/t/studies?pageSize=3";
	int seen = 0, pages = 0;
	for (;;) {
		json_t *l = CALL(d, "GET", path, NULL, 200);
		json_t *arr = json_object_get(l, "studies");
		ASSERT_TRUE(json_array_size(arr) <= 3);
		seen += (int)json_array_size(arr);
		pages++;
		const char *tok = jstr(l, "nextPageToken");
		if (!*tok || pages > 5) {
			json_decref(l);
			break;
		}
		snprintf(path, sizeof(path), "/v1/owners/t/studies?pageSize=3&pageToken=%s", tok);
		json_decref(l);
	}
	ASSERT_EQ_INT(seen, 7);
	ASSERT_EQ_INT(pages, 3);
	json_t *l = CALL(d, "GET", "/v1/owners/t/studies", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(l, "studies")), 7);
	ASSERT_TRUE(json_object_get(l, "nextPageToken") == NULL);
	json_decref(l);
	l = CALL(d, "GET", "/v1/owners/t/studies?pageSize=5000", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(l, "studies")), 7);
	json_decref(l);
	REJECT(d, "GET", "/v1/owners/t/studies?pageToken=garbage", NULL, 400, "INVALID_ARGUMENT",
	       "pageToken");
	REJECT(d, "GET", "/v1/owners/t/studies?pageSize=-1", NULL, 400, "INVALID_ARGUMENT",
	       "pageSize");
	REJECT(d, "GET", "/v1/owners/t/studies?pageSize=abc", NULL, 400, "INVALID_ARGUMENT",
	       "pageSize");
	REJECT(d, "GET", "/v1/owners/t/studies?color=red", NULL, 400, "INVALID_ARGUMENT",
	       "unknown query parameter color");
	REJECT(d, "GET", "/v1/owners/t/studies?filter=state%3DACTIVE", NULL, 400,
	       "INVALID_ARGUMENT", "filter");
	/* an owner with nothing has an empty list */
	l = CALL(d, "GET", "/v1/owners/empty/studies", NULL, 200);
	ASSERT_EQ_INT(json_array_size(json_object_get(l, "studies")), 0);
	json_decref(l);
}

static void test_auth(struct daemon *d)
{
	struct reply r;
	const char *paths[][3] = {
	    {"GET", "/v1/owners/t/studies", NULL},
	    {"POST", "/v1/owners/t/studies",
	     "{\"displayName\":\"evil\",\"studySpec\":" SPEC_RANDOM "}"},
	    {"DELETE", "/v1/owners/t/studies/s1", NULL},
	    {"POST", "/v1/owners/t/studies/s1/trials:suggest", "{\"clientId\":\"w\"}"},
	    {"GET", "/v1/owners/t/studies/nope/trials/1", NULL},
	};
	const char *keys[] = {"", "wrong-key", HARNESS_ADMIN_KEY "x", "test-admin-key"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			char *before = db_dump_data(d->db_path);
			ASSERT_EQ_INT(
			    http_call(d, paths[i][0], paths[i][1], paths[i][2], keys[k], &r), 0);
			char *after = db_dump_data(d->db_path);
			ASSERT_EQ_INT(r.status, 401);
			ASSERT_EQ_STR(reply_status_name(&r), "UNAUTHENTICATED");
			ASSERT_EQ_INT(json_integer_value(json_object_get(
			                  json_object_get(r.json, "error"), "code")),
			              401);
			ASSERT_TRUE(before && after && strcmp(before, after) == 0);
			free(before);
			free(after);
			reply_free(&r);
		}
	}
	/* the key in another scheme is not accepted either */
	ASSERT_EQ_INT(http_call(d, "GET", "/v1/owners/t/studies", NULL, "", &r), 0);
	ASSERT_EQ_INT(r.status, 401);
	EXPECT_IN(reply_message(&r), "Bearer");
	reply_free(&r);
}

static void test_routing(struct daemon *d)
{
	REJECT(d, "GET", "/v1/owners/t/studies/s1/nothing", NULL, 404, "NOT_FOUND", "no such path");
	REJECT(d, "GET", "/v1/owners/t/studies/s%2F1", NULL, 400, "INVALID_ARGUMENT",
	       "percent-escapes");
	REJECT(d, "GET", "/v1/owners/t/studies/s1/trials/..", NULL, 400, "INVALID_ARGUMENT", "..");
	REJECT(d, "GET", "/v1/owners/t//studies", NULL, 400, "INVALID_ARGUMENT", "empty segment");
	REJECT(d, "GET", "/v1/owners/t/studies/", NULL, 400, "INVALID_ARGUMENT", "empty segment");
	REJECT(d, "GET", "/v1/owners/-bad/studies", NULL, 400, "INVALID_ARGUMENT", "owner id");
	REJECT(d, "GET", "/v1/owners/t/studies/b@d", NULL, 400, "INVALID_ARGUMENT", "study id");
	REJECT(d, "GET", "/v1/owners/t/studies/s1/trials/0", NULL, 400, "INVALID_ARGUMENT",
	       "positive integer");
	REJECT(d, "GET", "/v1/owners/t/studies/s1/trials/x1", NULL, 400, "INVALID_ARGUMENT",
	       "positive integer");
	REJECT(d, "POST", "/v1/owners/t/studies/s1/trials/1:explode", "{}", 404, "NOT_FOUND",
	       ":explode");
	REJECT(d, "POST", "/v1/owners/t/studies:explode", "{}", 404, "NOT_FOUND", ":explode");
	REJECT(d, "PUT", "/v1/owners/t/studies/s1", "{}", 405, "UNIMPLEMENTED",
	       "GET, PATCH, DELETE");
	REJECT(d, "GET", "/v1/owners/t/studies/s1/trials:suggest", NULL, 405, "UNIMPLEMENTED",
	       "POST");
	REJECT(d, "DELETE", "/v1/owners/t/studies", NULL, 405, "UNIMPLEMENTED", "GET, POST");
	REJECT(d, "GET", "/v1/elsewhere", NULL, 404, "NOT_FOUND", "no such path");
	/* a client that escapes the ':' of a custom method is understood */
	json_t *s =
	    CALL(d, "POST", "/v1/owners/t/studies%3Alookup", "{\"displayName\":\"s1\"}", 200);
	ASSERT_EQ_STR(jstr(s, "name"), "owners/t/studies/s1");
	json_decref(s);
	/* bodies: not JSON, not an object, unknown fields */
	REJECT(d, "POST", "/v1/owners/t/studies", "{not json", 400, "INVALID_ARGUMENT",
	       "not valid JSON");
	REJECT(d, "POST", "/v1/owners/t/studies", "[1,2]", 400, "INVALID_ARGUMENT",
	       "must be a JSON object");
	REJECT(d, "POST", "/v1/owners/t/studies",
	       "{\"displayName\":\"a\",\"displayName\":\"b\",\"studySpec\":" SPEC_RANDOM "}", 400,
	       "INVALID_ARGUMENT", "duplicate");
	REJECT(d, "POST", "/v1/owners/t/studies",
	       "{\"displayName\":\"z\",\"colour\":1,\"studySpec\":" SPEC_RANDOM "}", 400,
	       "INVALID_ARGUMENT", "unknown field colour");
}

static void test_restart(struct daemon *d)
{
	create_study(d, "keep", SPEC_RANDOM);
	json_t *op = suggest(d, "keep", 3, "w", 200);
	json_decref(complete(d, "keep", "1", "acc", 0.25, 200));
	json_decref(op);
	const char *paths[] = {
	    "/v1/owners/t/studies", "/v1/owners/t/studies/keep", "/v1/owners/t/studies/keep/trials",
	    "/v1/owners/t/studies/keep/operations/1", "/v1/owners/other/studies"};
	char *before[5];
	for (int i = 0; i < 5; i++) {
		json_t *j = CALL(d, "GET", paths[i], NULL, 200);
		before[i] = json_dumps(j, JSON_SORT_KEYS);
		json_decref(j);
	}
	ASSERT_EQ_INT(daemon_kill(d), 0);
	ASSERT_EQ_INT(daemon_restart(d, NULL), 0);
	for (int i = 0; i < 5; i++) {
		json_t *j = CALL(d, "GET", paths[i], NULL, 200);
		char *after = json_dumps(j, JSON_SORT_KEYS);
		ASSERT_EQ_STR(after, before[i]);
		free(after);
		free(before[i]);
		json_decref(j);
	}
	/* and it carries on: the next trial is 4 */
	op = suggest(d, "keep", 1, "w2", 200);
	ASSERT_EQ_STR(jstr(json_array_get(op_trials(op), 0), "id"), "4");
	json_decref(op);
}

int main(void)
{
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("api-studies");
	create_owner(d, "t");
	create_owner(d, "other");
	test_create_or_load(d);
	test_get_lookup_delete(d);
	test_list_pages(d);
	test_auth(d);
	test_routing(d);
	test_restart(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("api-studies");
}
