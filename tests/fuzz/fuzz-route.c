/* The URL router and the list query parser. The input is "path?query"
 * (the first '?' splits them; NUL bytes end the path early, as they would
 * never reach us from libmicrohttpd). Invariants:
 *  - a rejected path or query is a 4xx with a message;
 *  - an accepted route has a kind, a label and its methods; its owner and
 *    study names match the id pattern; trial and operation ids are >= 1;
 *  - an accepted query has 1 <= pageSize <= 1000, and a page token made by
 *    route_page_token reads back as the same position. */
#include <string.h>

#include "fuzz.h"
#include "json_util.h"
#include "route.h"
#include "trial_json.h"

static void check_route(const char *path)
{
	struct route r;
	struct err e = {0};
	int rc = route_parse(path, &r, &e);
	if (rc != 0) {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
		return;
	}
	FUZZ_CHECK(r.kind != ROUTE_NONE, "accepted with no kind");
	FUZZ_CHECK(route_methods(r.kind) != NULL, "no methods");
	static const char *const methods[] = {"GET", "POST", "DELETE", "PATCH", "PUT", "HEAD"};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		const char *label = route_label(&r, methods[i]);
		FUZZ_CHECK(label != NULL && label[0] != '\0', "no label");
		(void)route_allows(r.kind, methods[i]);
	}
	if (r.kind != ROUTE_OWNERS && r.kind != ROUTE_AUDIT_LOG)
		FUZZ_CHECK(ju_is_id(r.owner), "owner \"%s\" is not an id", r.owner);
	if (r.kind == ROUTE_API_KEY)
		FUZZ_CHECK(ju_is_id(r.key), "key \"%s\" is not an id", r.key);
	switch (r.kind) {
	case ROUTE_STUDY:
	case ROUTE_TRIALS:
	case ROUTE_TRIALS_SUGGEST:
	case ROUTE_TRIALS_OPTIMAL:
	case ROUTE_TRIAL:
	case ROUTE_TRIAL_VERB:
	case ROUTE_OPERATION:
		FUZZ_CHECK(ju_is_id(r.study), "study \"%s\" is not an id", r.study);
		break;
	default:
		break;
	}
	if (r.kind == ROUTE_TRIAL || r.kind == ROUTE_TRIAL_VERB)
		FUZZ_CHECK(r.trial >= 1, "trial %lld", (long long)r.trial);
	if (r.kind == ROUTE_TRIAL_VERB)
		FUZZ_CHECK(r.verb != VERB_NONE, "verb route without a verb");
	if (r.kind == ROUTE_OPERATION)
		FUZZ_CHECK(r.op >= 1, "operation %lld", (long long)r.op);
}

static void check_query(const char *query)
{
	struct route_query q;
	struct err e = {0};
	int rc = route_query_parse(query, 1, tj_trial_state_names, &q, &e);
	if (rc != 0) {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
		return;
	}
	FUZZ_CHECK(q.page_size >= 1 && q.page_size <= 1000, "pageSize %d", q.page_size);
	FUZZ_CHECK(q.page_after >= 0, "page_after %lld", (long long)q.page_after);
	if (q.page_after > 0) {
		char tok[64], again[96];
		struct route_query q2;
		route_page_token(q.page_after, tok, sizeof(tok));
		snprintf(again, sizeof(again), "pageToken=%s", tok);
		rc = route_query_parse(again, 0, tj_trial_state_names, &q2, &e);
		FUZZ_CHECK(rc == 0 && q2.page_after == q.page_after,
		           "token %s for %lld reads back as %lld (%s)", tok,
		           (long long)q.page_after, (long long)q2.page_after, rc ? e.msg : "");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	FUZZ_CHECK(buf != NULL, "out of memory");
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *q = memchr(buf, '?', size);
	if (q)
		*q++ = '\0';
	check_route(buf);
	check_query(q ? q : "");
	/* Also the whole input as a query, so that the query parser sees
	 * inputs without a path in front. */
	check_query(buf);
	free(buf);
	return 0;
}
