/* The URL router and the query parser. The input is "path?query" (the
 * first '?' splits them; NUL bytes end the path early, as they would never
 * reach us from libmicrohttpd). The query is parsed for the route kind of
 * the path when it is one (else a kind chosen by the first byte) and the
 * method named after a final '#' ("...?force=true#DELETE"; else one
 * chosen by the length). Invariants:
 *  - a rejected path or query is a 4xx with a message;
 *  - an accepted route has a kind, a label and its methods; its owner and
 *    study names match the id pattern; trial and operation ids are >= 1;
 *  - an accepted query (api_query_parse) has only parameters the call
 *    takes, 1 <= pageSize <= 1000 (100 when absent), its strings within
 *    their buffers, clientId not empty, force 0 or 1; written back
 *    percent-encoded it parses to the same; given twice it is refused;
 *  - a filter is refused with a message or names only trial states;
 *  - a pageToken opens only if this key sealed it for this list, and a
 *    token sealed for a position opens as that position, for that list
 *    only. */
#include <string.h>

#include "api_query.h"
#include "fuzz.h"
#include "json_util.h"
#include "route.h"
#include "trial_json.h"

/* The key page tokens are sealed with here; corpus/route/token-* were
 * sealed with it (for the list "fuzz"), so that the fuzzer starts from
 * tokens that open. */
static const unsigned char token_key[API_TOKEN_KEY_BYTES] = {
    0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
    0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a};

static enum route_kind check_route(const char *path)
{
	struct route r;
	struct err e = {0};
	int rc = route_parse(path, &r, &e);
	if (rc != 0) {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
		return ROUTE_NONE;
	}
	FUZZ_CHECK(r.kind != ROUTE_NONE, "accepted with no kind");
	FUZZ_CHECK(route_methods(r.kind) != NULL, "no methods");
	static const char *const all[] = {"GET", "POST", "DELETE", "PATCH", "PUT", "HEAD"};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *label = route_label(&r, all[i]);
		FUZZ_CHECK(label != NULL && label[0] != '\0', "no label");
		(void)route_allows(r.kind, all[i]);
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
	return r.kind;
}

static const char *const methods[] = {"GET", "POST", "PATCH", "DELETE", "PUT"};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

/* Appends name=value, every byte but [A-Za-z0-9] percent-encoded; 0 when
 * it does not fit. */
static int put_param(char *buf, size_t cap, size_t *o, const char *name, const char *val)
{
	static const char hex[] = "0123456789ABCDEF";
	int n = snprintf(buf + *o, cap - *o, "%s%s=", *o ? "&" : "", name);
	if (n < 0 || (size_t)n >= cap - *o)
		return 0;
	*o += (size_t)n;
	for (const unsigned char *p = (const unsigned char *)val; *p; p++) {
		if (*o + 4 > cap)
			return 0;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9')) {
			buf[(*o)++] = (char)*p;
			continue;
		}
		buf[(*o)++] = '%';
		buf[(*o)++] = hex[*p >> 4];
		buf[(*o)++] = hex[*p & 15];
	}
	buf[*o] = '\0';
	return 1;
}

/* q written back as a query string; 0 when it would be too long. */
static int write_query(const struct api_query *q, char *buf, size_t cap)
{
	char size[16];
	size_t o = 0;
	int ok = 1;
	buf[0] = '\0';
	snprintf(size, sizeof(size), "%d", q->page_size);
	if (q->present & API_Q_PAGE_SIZE)
		ok = ok && put_param(buf, cap, &o, "pageSize", size);
	if (q->present & API_Q_PAGE_TOKEN)
		ok = ok && put_param(buf, cap, &o, "pageToken", q->page_token);
	if (q->present & API_Q_FILTER)
		ok = ok && put_param(buf, cap, &o, "filter", q->filter);
	if (q->present & API_Q_CLIENT_ID)
		ok = ok && put_param(buf, cap, &o, "clientId", q->client_id);
	if (q->present & API_Q_UPDATE_MASK)
		ok = ok && put_param(buf, cap, &o, "updateMask", q->update_mask);
	if (q->present & API_Q_FORCE)
		ok = ok && put_param(buf, cap, &o, "force", q->force ? "true" : "false");
	return ok && o <= 2047;
}

#define FITS(field) FUZZ_CHECK(strlen(q->field) < sizeof(q->field), #field " overflows")

static void check_fields(const struct api_query *q, enum route_kind k, const char *method)
{
	unsigned takes = api_query_takes(k, method);
	FUZZ_CHECK((q->present & ~takes) == 0, "%s on kind %d: present %#x, takes %#x", method,
	           (int)k, q->present, takes);
	FUZZ_CHECK(q->page_size >= 1 && q->page_size <= 1000, "pageSize %d", q->page_size);
	FUZZ_CHECK((q->present & API_Q_PAGE_SIZE) || q->page_size == 100, "default pageSize %d",
	           q->page_size);
	FUZZ_CHECK(q->force == 0 || q->force == 1, "force %d", q->force);
	FUZZ_CHECK((q->present & API_Q_FORCE) || !q->force, "force without the parameter");
	FUZZ_CHECK(!(q->present & API_Q_CLIENT_ID) || q->client_id[0], "empty clientId accepted");
	FITS(page_token);
	FITS(filter);
	FITS(client_id);
	FITS(update_mask);
	FUZZ_CHECK((q->present & API_Q_PAGE_TOKEN) || !q->page_token[0], "token without parameter");
	FUZZ_CHECK((q->present & API_Q_FILTER) || !q->filter[0], "filter without parameter");
	FUZZ_CHECK((q->present & API_Q_CLIENT_ID) || !q->client_id[0], "clientId w/o parameter");
	FUZZ_CHECK((q->present & API_Q_UPDATE_MASK) || !q->update_mask[0], "mask w/o parameter");
}

static void check_filter(const char *filter)
{
	unsigned mask = 0;
	int64_t min_id = -1;
	struct err e = {0};
	int rc = api_query_states(filter, tj_trial_state_names, &mask, &min_id, &e);
	if (rc != 0) {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
		return;
	}
	/* states only, id>N only, or both */
	FUZZ_CHECK((mask & ~0x3eu) == 0 && min_id >= 0 && (mask != 0 || strstr(filter, "id")),
	           "filter \"%s\": mask %#x, min_id %lld", filter, mask, (long long)min_id);
}

/* An accepted token opens as a position >= 0 for "fuzz" only; a position
 * sealed here opens as itself, for its list only. */
static void check_token(const char *tok, int64_t pos)
{
	struct err e = {0};
	int64_t after = -1;
	int rc = api_token_int_open(token_key, "fuzz", tok, &after, &e);
	if (rc != 0)
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
	else
		FUZZ_CHECK(after >= 0, "token opens as %lld", (long long)after);
	if (rc == 0 && tok[0]) {
		rc = api_token_int_open(token_key, "fuzz2", tok, &after, &e);
		FUZZ_CHECK(rc == -ERR_INVALID_ARGUMENT, "token opens for another list");
	}
	char sealed[API_TOKEN_CHARS];
	api_token_int(token_key, "fuzz", pos, sealed, sizeof(sealed));
	FUZZ_CHECK(strlen(sealed) < sizeof(((struct api_query *)0)->page_token), "token too long");
	rc = api_token_int_open(token_key, "fuzz", sealed, &after, &e);
	FUZZ_CHECK(rc == 0 && after == pos, "position %lld opens as %lld", (long long)pos,
	           (long long)after);
	FUZZ_CHECK(api_token_int_open(token_key, "fuzz2", sealed, &after, &e) != 0,
	           "a token opens for another list");
}

static void check_again(const struct api_query *q, enum route_kind k, const char *method,
                        const char *query)
{
	static char buf[2048 * 3 + 64];
	struct api_query q2;
	struct err e = {0};
	if (write_query(q, buf, sizeof(buf))) {
		int rc = api_query_parse(k, method, buf, &q2, &e);
		FUZZ_CHECK(rc == 0, "written back as \"%s\": refused: %s", buf, e.msg);
		FUZZ_CHECK(memcmp(q, &q2, sizeof(q2)) == 0, "\"%s\" reads back otherwise", buf);
	}
	if (q->present == 0 || strlen(query) > 1023)
		return;
	snprintf(buf, sizeof(buf), "%s&%s", query, query);
	int rc = api_query_parse(k, method, buf, &q2, &e);
	FUZZ_CHECK(rc == -ERR_INVALID_ARGUMENT, "\"%s\" given twice: rc %d", query, rc);
	FUZZ_CHECK(strstr(e.msg, "given twice") != NULL, "given twice: \"%s\"", e.msg);
}

static void check_query(enum route_kind k, const char *method, const char *query)
{
	struct api_query q;
	struct err e = {0};
	int rc = api_query_parse(k, method, query, &q, &e);
	if (rc != 0) {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
		FUZZ_CHECK(rc == -ERR_INVALID_ARGUMENT, "query refused with %s",
		           err_status_name(e.code));
		return;
	}
	FUZZ_CHECK(strlen(query) <= 2047, "a %zu-byte query accepted", strlen(query));
	check_fields(&q, k, method);
	if (q.present & API_Q_FILTER)
		check_filter(q.filter);
	check_token(q.page_token, (int64_t)q.page_size * 1000003 + (int64_t)strlen(q.filter));
	check_again(&q, k, method, query);
}

/* The method: after the last '#' (cut off) when it names one, else one
 * chosen by the input's length. */
static const char *method_of(char *buf, size_t size)
{
	char *hash = strrchr(buf, '#');
	if (hash) {
		for (size_t i = 0; i < N_METHODS; i++) {
			if (strcmp(hash + 1, methods[i]) == 0) {
				*hash = '\0';
				return methods[i];
			}
		}
	}
	return methods[size % N_METHODS];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	FUZZ_CHECK(buf != NULL, "out of memory");
	memcpy(buf, data, size);
	buf[size] = '\0';
	const char *method = method_of(buf, size);
	char *q = strchr(buf, '?');
	if (q)
		*q++ = '\0';
	enum route_kind k = check_route(buf);
	if (k == ROUTE_NONE)
		k = (enum route_kind)(size ? data[0] % (ROUTE_AUDIT_LOG + 1) : 0);
	check_query(k, method, q ? q : "");
	/* Also the whole input as a query, so that the query parser sees
	 * inputs without a path in front. */
	check_query(ROUTE_TRIALS, "GET", buf);
	free(buf);
	return 0;
}
