/* The request-body parser and the proto3 JSON scalars every handler uses:
 * ju_parse_body, then every ju_* checker on every member of the object.
 * Invariants:
 *  - ju_parse_body accepts only objects no deeper than the limit, and a
 *    rejection is a 4xx with a message;
 *  - ju_depth agrees with the limit check and never exceeds limit + 1;
 *  - canonical text parses back to a document with the same canonical text;
 *  - durations and timestamps survive format -> parse unchanged;
 *  - an accepted id matches the id pattern, an accepted string is not
 *    longer than its limit. */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "json_util.h"

#define DEPTH 8

static void check_member(const char *key, const json_t *v)
{
	struct err e;
	char path[64];
	snprintf(path, sizeof(path), "body.%.40s", key);
	double d;
	int64_t i64, ns, ms;
	int b;
	const char *s;

	int rc = ju_double(v, path, &d, &e);
	if (rc == 0)
		FUZZ_CHECK(isfinite(d), "ju_double accepted %g", d);
	else
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
	rc = ju_int64(v, path, &i64, &e);
	if (rc != 0)
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
	rc = ju_bool(v, path, &b, &e);
	if (rc == 0)
		FUZZ_CHECK(b == 0 || b == 1, "bool %d", b);
	rc = ju_string(v, path, 16, &s, &e);
	if (rc == 0)
		FUZZ_CHECK(strlen(s) >= 1 && strlen(s) <= 16, "string of %zu bytes", strlen(s));
	else
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
	rc = ju_id(v, path, &s, &e);
	if (rc == 0)
		FUZZ_CHECK(ju_is_id(s), "ju_id accepted \"%s\"", s);
	else
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
	rc = ju_array(v, path, 4, &e);
	if (rc == 0)
		FUZZ_CHECK(json_is_array(v) && json_array_size(v) <= 4, "array");
	rc = ju_object(v, path, &e);
	if (rc == 0) {
		static const char *const allowed[] = {"a", "b", NULL};
		rc = ju_only_fields(v, path, allowed, &e);
		if (rc != 0)
			FUZZ_CHECK_CLIENT_ERROR(rc, &e);
	}

	rc = ju_duration(v, path, &ns, &e);
	if (rc == 0) {
		char buf[64];
		FUZZ_CHECK(ns >= 0, "negative duration %lld", (long long)ns);
		ju_format_duration(ns, buf, sizeof(buf));
		json_t *j = json_string(buf);
		int64_t back = -1;
		rc = ju_duration(j, path, &back, &e);
		FUZZ_CHECK(rc == 0 && back == ns, "duration %lld -> \"%s\" -> %lld (%s)",
		           (long long)ns, buf, (long long)back, rc ? e.msg : "");
		json_decref(j);
	} else {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
	}

	rc = ju_time(v, path, &ms, &e);
	if (rc == 0) {
		char buf[64];
		ju_format_time(ms, buf, sizeof(buf));
		json_t *j = json_string(buf);
		int64_t back = -1;
		rc = ju_time(j, path, &back, &e);
		FUZZ_CHECK(rc == 0 && back == ms, "time %lld -> \"%s\" -> %lld (%s)", (long long)ms,
		           buf, (long long)back, rc ? e.msg : "");
		json_decref(j);
	} else {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = {0};
	int depth = ju_depth((const char *)data, size, DEPTH);
	FUZZ_CHECK(depth >= 0 && depth <= DEPTH + 1, "depth %d", depth);
	json_t *root = ju_parse_body((const char *)data, size, DEPTH, &e);
	if (!root) {
		FUZZ_CHECK_CLIENT_ERROR(-(int)e.code, &e);
		return 0;
	}
	FUZZ_CHECK(json_is_object(root), "top level is not an object");
	FUZZ_CHECK(depth <= DEPTH, "accepted a body of depth %d > %d", depth, DEPTH);

	char *canon = ju_canonical(root);
	FUZZ_CHECK(canon != NULL, "no canonical text");
	json_t *again = ju_parse_body(canon, strlen(canon), DEPTH, &e);
	FUZZ_CHECK(again != NULL, "canonical text rejected: %s: %s", e.msg, canon);
	char *canon2 = ju_canonical(again);
	FUZZ_CHECK(canon2 && strcmp(canon, canon2) == 0, "canonical not a fixed point:\n%s\n%s",
	           canon, canon2 ? canon2 : "(null)");
	free(canon2);
	json_decref(again);
	free(canon);

	const char *key;
	json_t *v;
	json_object_foreach(root, key, v)
	{
		check_member(key, v);
		if (json_is_array(v)) {
			size_t i;
			json_t *x;
			json_array_foreach(v, i, x)
			{
				if (i >= 8)
					break;
				check_member(key, x);
			}
		}
	}
	json_decref(root);
	return 0;
}
