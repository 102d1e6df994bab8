/* api_query: one table of the parameters each call takes; unknown,
 * repeated and bad parameters refused naming them; the trial list's state
 * filter; page tokens that show nothing and open only for their own list
 * and key. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api_query.h"
#include "test.h"
#include "trial_json.h"

static int refused(enum route_kind k, const char *method, const char *query, const char *says)
{
	struct api_query q;
	struct err e = {0};
	int rc = api_query_parse(k, method, query, &q, &e);
	if (rc != -ERR_INVALID_ARGUMENT || !strstr(e.msg, says)) {
		TEST_FAIL("%s ?%s: rc %d \"%s\", want INVALID_ARGUMENT saying \"%s\"", method,
		          query, rc, e.msg, says);
		return 0;
	}
	return 1;
}

static void test_parse(void)
{
	struct api_query q;
	struct err e = {0};
	ASSERT_EQ_INT(api_query_parse(ROUTE_TRIALS, "GET",
	                              "pageSize=5000&filter=state%3DACTIVE+OR+state%3DSTOPPING&&",
	                              &q, &e),
	              0);
	ASSERT_EQ_INT(q.page_size, 1000);
	ASSERT_EQ_STR(q.filter, "state=ACTIVE OR state=STOPPING");
	ASSERT_EQ_INT(q.present, API_Q_PAGE_SIZE | API_Q_FILTER);
	ASSERT_EQ_INT(api_query_parse(ROUTE_STUDIES, "GET", "", &q, &e), 0);
	ASSERT_EQ_INT(q.page_size, 100);
	ASSERT_EQ_INT(api_query_parse(ROUTE_TRIAL, "GET", "clientId=w%2F1", &q, &e), 0);
	ASSERT_EQ_STR(q.client_id, "w/1");
	ASSERT_EQ_INT(api_query_parse(ROUTE_OWNER, "DELETE", "force=true", &q, &e), 0);
	ASSERT_EQ_INT(q.force, 1);
	ASSERT_EQ_INT(api_query_parse(ROUTE_OWNER, "PATCH", "updateMask=quota", &q, &e), 0);
	ASSERT_EQ_STR(q.update_mask, "quota");

	refused(ROUTE_STUDY, "GET", "view=FULL",
	        "unknown query parameter view: GET on this path "
	        "takes no query parameters");
	refused(ROUTE_TRIALS, "GET", "clientId=w", "takes pageSize, pageToken, filter");
	refused(ROUTE_TRIAL, "DELETE", "clientId=w", "unknown query parameter clientId");
	refused(ROUTE_TRIALS_SUGGEST, "POST", "pageSize=1", "takes no query parameters");
	refused(ROUTE_OWNER, "GET", "force=true", "unknown query parameter force");
	refused(ROUTE_STUDIES, "GET", "pageSize=1&pageSize=1", "pageSize is given twice");
	refused(ROUTE_STUDIES, "GET", "pageSize=-1", "pageSize must be a non-negative integer");
	refused(ROUTE_STUDIES, "GET", "pageSize=9999999999999999999999", "pageSize");
	refused(ROUTE_STUDIES, "GET", "pageSize=%zz", "malformed percent-escape");
	refused(ROUTE_STUDIES, "GET", "pageSize=%00", "malformed percent-escape");
	refused(ROUTE_TRIAL, "GET", "clientId=", "clientId must not be empty");
	refused(ROUTE_OWNER, "DELETE", "force=maybe", "force must be true or false");
	char longq[2100];
	memset(longq, 'a', sizeof(longq) - 1);
	longq[sizeof(longq) - 1] = '\0';
	refused(ROUTE_STUDIES, "GET", longq, "longer than 2047 bytes");
	char longtok[300] = "pageToken=";
	memset(longtok + 10, 'A', 280);
	longtok[290] = '\0';
	refused(ROUTE_STUDIES, "GET", longtok, "pageToken is longer than 255 bytes");
}

static void test_states(void)
{
	unsigned mask;
	int64_t min_id;
	struct err e = {0};
	ASSERT_EQ_INT(api_query_states("state=ACTIVE OR state = SUCCEEDED", tj_trial_state_names,
	                               &mask, &min_id, &e),
	              0);
	ASSERT_EQ_INT(mask, (1u << 2) | (1u << 4));
	ASSERT_EQ_INT(api_query_states("state=active", tj_trial_state_names, &mask, &min_id, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(e.msg, "unknown state \"active\"") != NULL);
	ASSERT_EQ_INT(api_query_states("color=red", tj_trial_state_names, &mask, &min_id, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(e.msg, "the form is state=SUCCEEDED") != NULL);
	ASSERT_EQ_INT(api_query_states("state=ACTIVE AND state=STOPPING", tj_trial_state_names,
	                               &mask, &min_id, &e),
	              -ERR_INVALID_ARGUMENT);
	/* id>N, alone or after states (the dashboard's "what is new") */
	ASSERT_EQ_INT(api_query_states("id>40", tj_trial_state_names, &mask, &min_id, &e), 0);
	ASSERT_EQ_INT(mask, 0);
	ASSERT_EQ_INT((int)min_id, 40);
	ASSERT_EQ_INT(
	    api_query_states("state=ACTIVE AND id > 7", tj_trial_state_names, &mask, &min_id, &e),
	    0);
	ASSERT_EQ_INT(mask, 1u << 2);
	ASSERT_EQ_INT((int)min_id, 7);
	ASSERT_EQ_INT(api_query_states("id>-1", tj_trial_state_names, &mask, &min_id, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_EQ_INT(api_query_states("id>4x", tj_trial_state_names, &mask, &min_id, &e),
	              -ERR_INVALID_ARGUMENT);
}

static void test_alt_metric(void)
{
	struct api_query q;
	struct err e = {0};
	ASSERT_EQ_INT(api_query_parse(ROUTE_TRIALS, "GET", "alt=csv&filter=id%3E3", &q, &e), 0);
	ASSERT_EQ_INT(q.alt_csv, 1);
	ASSERT_EQ_INT(api_query_parse(ROUTE_TRIALS, "GET", "alt=xml", &q, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(e.msg, "alt must be csv or json") != NULL);
	ASSERT_EQ_INT(api_query_parse(ROUTE_STUDY_IMPORTANCE, "GET", "metricId=acc", &q, &e), 0);
	ASSERT_EQ_STR(q.metric_id, "acc");
	ASSERT_EQ_INT(api_query_parse(ROUTE_STUDY_IMPORTANCE, "GET", "pageSize=3", &q, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(e.msg, "unknown query parameter pageSize") != NULL);
	ASSERT_EQ_INT(api_query_parse(ROUTE_STUDY, "GET", "alt=csv", &q, &e),
	              -ERR_INVALID_ARGUMENT);
}

/* What route_query_parse's tests covered before api_query replaced it:
 * pageSize's bounds, a filter of states joined by OR read through the
 * query, filter only where the call takes it, bad escapes. */
static void test_page_size_and_filter(void)
{
	struct api_query q;
	struct err e = {0};
	static const struct {
		const char *query;
		int want;
	} sizes[] = {{"pageSize=0", 100},     {"pageSize=1", 1},       {"pageSize=999", 999},
	             {"pageSize=1000", 1000}, {"pageSize=1001", 1000}, {"pageSize=+7", 7}};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ASSERT_EQ_INT(api_query_parse(ROUTE_TRIALS, "GET", sizes[i].query, &q, &e), 0);
		ASSERT_EQ_INT(q.page_size, sizes[i].want);
	}
	refused(ROUTE_TRIALS, "GET", "pageSize=", "pageSize must be a non-negative integer");
	refused(ROUTE_TRIALS, "GET", "pageSize=12x", "pageSize must be a non-negative integer");
	refused(ROUTE_TRIALS, "GET", "pageSize=ten", "pageSize must be a non-negative integer");

	unsigned mask = 0;
	int64_t min_id = 0;
	ASSERT_EQ_INT(api_query_parse(ROUTE_TRIALS, "GET",
	                              "filter=state%3DACTIVE+OR+state%3DSTOPPING&pageSize=2", &q,
	                              &e),
	              0);
	ASSERT_EQ_INT(api_query_states(q.filter, tj_trial_state_names, &mask, &min_id, &e), 0);
	ASSERT_EQ_INT(mask, (1u << TRIAL_ACTIVE) | (1u << TRIAL_STOPPING));
	ASSERT_EQ_INT(q.page_size, 2);
	ASSERT_EQ_INT(api_query_parse(ROUTE_TRIALS, "GET", "filter=state%3Dactive", &q, &e), 0);
	ASSERT_EQ_INT(api_query_states(q.filter, tj_trial_state_names, &mask, &min_id, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(e.msg, "unknown state \"active\"") != NULL);
	ASSERT_EQ_INT(api_query_states("state=ACTIVE OR", tj_trial_state_names, &mask, &min_id, &e),
	              -ERR_INVALID_ARGUMENT);
	refused(ROUTE_STUDIES, "GET", "filter=state=ACTIVE", "unknown query parameter filter");
	refused(ROUTE_TRIALS, "POST", "filter=state=ACTIVE", "takes no query parameters");

	refused(ROUTE_TRIALS, "GET", "filter=state%3", "malformed percent-escape");
	refused(ROUTE_TRIALS, "GET", "filter=%", "malformed percent-escape");
	refused(ROUTE_TRIALS, "GET", "page%zzSize=1", "malformed percent-escape");
	refused(ROUTE_TRIALS, "GET", "pageSize=1%g0", "malformed percent-escape");
}

/* A token goes through the query as sent; only opening it judges it. */
static void test_token_in_query(void)
{
	unsigned char key[API_TOKEN_KEY_BYTES];
	char tok[API_TOKEN_CHARS], query[API_TOKEN_CHARS + 32];
	struct api_query q;
	struct err e = {0};
	int64_t after = -1;
	memset(key, 3, sizeof(key));
	api_token_int(key, "studies|t", 77, tok, sizeof(tok));
	snprintf(query, sizeof(query), "pageToken=%s&pageSize=2", tok);
	ASSERT_EQ_INT(api_query_parse(ROUTE_STUDIES, "GET", query, &q, &e), 0);
	ASSERT_EQ_STR(q.page_token, tok);
	ASSERT_EQ_INT(api_token_int_open(key, "studies|t", q.page_token, &after, &e), 0);
	ASSERT_EQ_INT(after, 77);
	/* base64 of "123", and the old unsealed form "sibyl:12345" */
	ASSERT_EQ_INT(api_query_parse(ROUTE_STUDIES, "GET", "pageToken=MTIz", &q, &e), 0);
	ASSERT_EQ_INT(api_token_int_open(key, "studies|t", q.page_token, &after, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(e.msg, "pageToken is not a token this server issued") != NULL);
	ASSERT_EQ_INT(api_token_int_open(key, "studies|t", "c2lieWw6MTIzNDU", &after, &e),
	              -ERR_INVALID_ARGUMENT);
	refused(ROUTE_STUDIES, "GET", "pageToken=a&pageToken=b", "pageToken is given twice");
}

static void test_tokens(void)
{
	unsigned char key[API_TOKEN_KEY_BYTES], other[API_TOKEN_KEY_BYTES];
	char tok[API_TOKEN_CHARS], tok2[API_TOKEN_CHARS];
	struct err e = {0};
	int64_t after = -1;
	memset(key, 1, sizeof(key));
	memset(other, 2, sizeof(other));
	api_token_int(key, "trials|t|s|7", 12345, tok, sizeof(tok));
	api_token_int(key, "trials|t|s|7", 12345, tok2, sizeof(tok2));
	ASSERT_TRUE(strcmp(tok, tok2) != 0); /* a fresh nonce each time */
	ASSERT_EQ_INT(api_token_int_open(key, "trials|t|s|7", tok, &after, &e), 0);
	ASSERT_EQ_INT(after, 12345);
	/* the position is nowhere in the token's bytes */
	unsigned char raw[API_TOKEN_CHARS];
	size_t n = 0;
	ASSERT_EQ_INT(sodium_base642bin(raw, sizeof(raw), tok, strlen(tok), NULL, &n, NULL,
	                                sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	              0);
	unsigned char plain[8] = {0x39, 0x30, 0, 0, 0, 0, 0, 0}; /* 12345 little-endian */
	ASSERT_TRUE(memmem(raw, n, plain, 4) == NULL);
	/* another list, another key, altered, truncated, garbage */
	ASSERT_EQ_INT(api_token_int_open(key, "trials|t|s|8", tok, &after, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(e.msg, "not a token this server issued for this list") != NULL);
	ASSERT_EQ_INT(api_token_int_open(other, "trials|t|s|7", tok, &after, &e),
	              -ERR_INVALID_ARGUMENT);
	tok2[0] = '\0';
	snprintf(tok2, sizeof(tok2), "%s", tok);
	tok2[20] = tok2[20] == 'A' ? 'B' : 'A';
	ASSERT_EQ_INT(api_token_int_open(key, "trials|t|s|7", tok2, &after, &e),
	              -ERR_INVALID_ARGUMENT);
	tok2[0] = '\0';
	snprintf(tok2, sizeof(tok2), "%.30s", tok);
	ASSERT_EQ_INT(api_token_int_open(key, "trials|t|s|7", tok2, &after, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_EQ_INT(api_token_int_open(key, "trials|t|s|7", "c2lieWw6MTIzNDU", &after, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_EQ_INT(api_token_int_open(key, "trials|t|s|7", "!!", &after, &e),
	              -ERR_INVALID_ARGUMENT);
	ASSERT_EQ_INT(api_token_int_open(key, "x", "", &after, &e), 0);
	ASSERT_EQ_INT(after, 0);
	/* a string payload: the longest owner id */
	char id[129], back[API_TOKEN_MAX + 1];
	memset(id, 'o', 128);
	id[128] = '\0';
	ASSERT_EQ_INT(api_token_seal(key, "owners", id, 128, tok, sizeof(tok)), 0);
	ASSERT_TRUE(strlen(tok) < 256); /* fits the query's pageToken */
	ASSERT_EQ_INT(api_token_open(key, "owners", tok, back, sizeof(back) - 1, &n, &e), 0);
	back[n] = '\0';
	ASSERT_EQ_STR(back, id);
	ASSERT_EQ_INT(api_token_seal(key, "owners", id, API_TOKEN_MAX + 1, tok, sizeof(tok)), -1);
}

int main(void)
{
	test_parse();
	test_states();
	test_alt_metric();
	test_page_size_and_filter();
	test_token_in_query();
	test_tokens();
	return test_done("test-api_query");
}
