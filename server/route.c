#include "route.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"

#define MAX_PATH 1024
#define MAX_SEGS 8

static int parse_pos_int(const char *s, int64_t *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 18 || s[0] == '0')
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int check_id(const char *what, const char *s, char *dst, struct err *e)
{
	if (!ju_is_id(s))
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "%s id \"%.140s\" must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}", what,
		               s);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

int route_parse(const char *path, struct route *r, struct err *e)
{
	char buf[MAX_PATH + 1];
	char *seg[MAX_SEGS];
	size_t n = 0, len = strlen(path);
	memset(r, 0, sizeof(*r));
	if (len > MAX_PATH)
		return err_set(e, ERR_INVALID_ARGUMENT, "request path is longer than %d bytes",
		               MAX_PATH);
	/* Decode only %3A: some clients escape the ':' of custom methods; every
	 * other escape would be a character no id may contain. */
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (path[i] == '%') {
			if (i + 2 < len + 0 && path[i + 1] == '3' &&
			    (path[i + 2] == 'A' || path[i + 2] == 'a')) {
				buf[o++] = ':';
				i += 2;
				continue;
			}
			return err_set(
			    e, ERR_INVALID_ARGUMENT,
			    "percent-escapes (other than %%3A for ':') are not accepted in "
			    "resource paths");
		}
		buf[o++] = path[i];
	}
	buf[o] = '\0';
	if (strncmp(buf, "/v1/", 4) != 0)
		return err_set(e, ERR_NOT_FOUND, "no such path: %.200s", path);
	char *p = buf + 4;
	for (;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (*p == '\0')
			return err_set(e, ERR_INVALID_ARGUMENT, "empty segment in path %.200s",
			               path);
		if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "'.' and '..' segments are not accepted in path %.200s",
			               path);
		if (n == MAX_SEGS)
			return err_set(e, ERR_NOT_FOUND, "no such path: %.200s", path);
		seg[n++] = p;
		if (!slash)
			break;
		p = slash + 1;
	}
	/* A custom method is ":verb" on the last segment only. */
	char *verb = strchr(seg[n - 1], ':');
	if (verb)
		*verb++ = '\0';
	for (size_t i = 0; i + 1 < n; i++) {
		if (strchr(seg[i], ':'))
			return err_set(
			    e, ERR_INVALID_ARGUMENT,
			    "':' may only introduce a custom method at the end of the path");
	}
	if (n == 1 && strcmp(seg[0], "auditLog") == 0) {
		if (verb)
			goto bad_verb;
		r->kind = ROUTE_AUDIT_LOG;
		return 0;
	}
	if (strcmp(seg[0], "owners") != 0)
		return err_set(e, ERR_NOT_FOUND, "no such path: %.200s", path);
	if (n == 1) {
		if (verb)
			goto bad_verb;
		r->kind = ROUTE_OWNERS;
		return 0;
	}
	int rc = check_id("owner", seg[1], r->owner, e);
	if (rc)
		return rc;
	if (n == 2) {
		if (verb)
			goto bad_verb;
		r->kind = ROUTE_OWNER;
		return 0;
	}
	if (strcmp(seg[2], "apiKeys") == 0 && n <= 4) {
		if (verb)
			goto bad_verb;
		if (n == 3) {
			r->kind = ROUTE_API_KEYS;
			return 0;
		}
		if ((rc = check_id("API key", seg[3], r->key, e)))
			return rc;
		r->kind = ROUTE_API_KEY;
		return 0;
	}
	if (strcmp(seg[2], "studies") != 0)
		return err_set(e, ERR_NOT_FOUND, "no such path: %.200s", path);
	if (n == 3) {
		if (!verb) {
			r->kind = ROUTE_STUDIES;
			return 0;
		}
		if (strcmp(verb, "lookup") == 0) {
			r->kind = ROUTE_STUDIES_LOOKUP;
			return 0;
		}
		goto bad_verb;
	}
	if ((rc = check_id("study", seg[3], r->study, e)))
		return rc;
	if (n == 4) {
		if (verb && strcmp(verb, "importance") == 0) {
			r->kind = ROUTE_STUDY_IMPORTANCE;
			return 0;
		}
		if (verb)
			goto bad_verb;
		r->kind = ROUTE_STUDY;
		return 0;
	}
	if (strcmp(seg[4], "trials") == 0) {
		if (n == 5) {
			if (!verb)
				r->kind = ROUTE_TRIALS;
			else if (strcmp(verb, "suggest") == 0)
				r->kind = ROUTE_TRIALS_SUGGEST;
			else if (strcmp(verb, "listOptimalTrials") == 0)
				r->kind = ROUTE_TRIALS_OPTIMAL;
			else
				goto bad_verb;
			return 0;
		}
		if (n != 6)
			return err_set(e, ERR_NOT_FOUND, "no such path: %.200s", path);
		if (parse_pos_int(seg[5], &r->trial))
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "trial id \"%.40s\" must be a positive integer", seg[5]);
		if (!verb) {
			r->kind = ROUTE_TRIAL;
			return 0;
		}
		r->kind = ROUTE_TRIAL_VERB;
		if (strcmp(verb, "addTrialMeasurement") == 0)
			r->verb = VERB_ADD_MEASUREMENT;
		else if (strcmp(verb, "complete") == 0)
			r->verb = VERB_COMPLETE;
		else if (strcmp(verb, "checkTrialEarlyStoppingState") == 0)
			r->verb = VERB_CHECK_EARLY_STOPPING;
		else if (strcmp(verb, "stop") == 0)
			r->verb = VERB_STOP;
		else
			goto bad_verb;
		return 0;
	}
	if (strcmp(seg[4], "operations") == 0 && n == 6 && !verb) {
		if (parse_pos_int(seg[5], &r->op))
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "operation id \"%.40s\" must be a positive integer", seg[5]);
		r->kind = ROUTE_OPERATION;
		return 0;
	}
	return err_set(e, ERR_NOT_FOUND, "no such path: %.200s", path);
bad_verb:
	r->kind = ROUTE_NONE;
	return err_set(e, ERR_NOT_FOUND, "no custom method :%.60s on %.200s", verb, path);
}

/* Decodes %XX and '+' in place; -1 on a malformed escape. */
static int url_decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p == '+') {
			*o++ = ' ';
		} else if (*p == '%') {
			if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
				return -1;
			char hex[3] = {p[1], p[2], 0};
			char c = (char)strtol(hex, NULL, 16);
			if (c == '\0')
				return -1;
			*o++ = c;
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return 0;
}

void route_page_token(int64_t after, char *buf, size_t cap)
{
	char raw[32];
	int n = snprintf(raw, sizeof(raw), "sibyl:%" PRId64, after);
	sodium_bin2base64(buf, cap, (const unsigned char *)raw, (size_t)n,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int route_page_token_decode(const char *tok, int64_t *after)
{
	unsigned char raw[48];
	size_t n = 0;
	if (sodium_base642bin(raw, sizeof(raw) - 1, tok, strlen(tok), NULL, &n, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	raw[n] = '\0';
	if (n < 7 || memcmp(raw, "sibyl:", 6) != 0)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll((const char *)raw + 6, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	*after = v;
	return 0;
}

/* id>N: *after = N. -1 when p is not such a term. */
static int parse_id_term(char *p, int64_t *after)
{
	while (*p == ' ')
		p++;
	if (strncmp(p, "id", 2) != 0)
		return -1;
	p += 2;
	while (*p == ' ')
		p++;
	if (*p++ != '>')
		return -1;
	while (*p == ' ')
		p++;
	char *end;
	errno = 0;
	long long v = strtoll(p, &end, 10);
	if (errno || end == p || v < 0)
		return -1;
	while (*end == ' ')
		end++;
	if (*end)
		return -1;
	*after = v;
	return 0;
}

static int bad_filter(const char *f, struct err *e)
{
	return err_set(e, ERR_INVALID_ARGUMENT,
	               "filter \"%.100s\" is not understood; the form is state=SUCCEEDED (or "
	               "several joined by OR), id>N, or both joined by AND",
	               f);
}

static int parse_states(char *p, const char *f, const char *const *names, unsigned *mask,
                        struct err *e)
{
	/* state=X [OR state=Y ...], spaces allowed around '=' and OR. */
	for (;;) {
		while (*p == ' ')
			p++;
		if (strncmp(p, "state", 5) != 0)
			goto bad;
		p += 5;
		while (*p == ' ')
			p++;
		if (*p++ != '=')
			goto bad;
		while (*p == ' ')
			p++;
		char *w = p;
		while (*p && *p != ' ')
			p++;
		char save = *p;
		*p = '\0';
		int found = 0;
		for (int i = 1; names[i]; i++) {
			if (strcmp(w, names[i]) == 0) {
				*mask |= 1u << i;
				found = 1;
			}
		}
		if (!found)
			return err_set(
			    e, ERR_INVALID_ARGUMENT,
			    "filter: unknown state \"%.40s\" (REQUESTED, ACTIVE, STOPPING, "
			    "SUCCEEDED or INFEASIBLE)",
			    w);
		*p = save;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return 0;
		if (strncmp(p, "OR ", 3) != 0)
			goto bad;
		p += 3;
	}
bad:
	return bad_filter(f, e);
}

/* [state=X [OR state=Y ...]] [AND] [id>N]: the states, and the trials
 * after id N (the dashboard asks for what is new with it). */
static int parse_filter(const char *f, const char *const *names, unsigned *mask, int64_t *after,
                        struct err *e)
{
	char buf[512];
	size_t n = strlen(f);
	if (n >= sizeof(buf))
		return err_set(e, ERR_INVALID_ARGUMENT, "filter is too long");
	memcpy(buf, f, n + 1);
	*mask = 0;
	*after = 0;
	char *and = strstr(buf, " AND ");
	if (and) {
		*and = '\0';
		if (parse_id_term(and+5, after) != 0)
			return bad_filter(f, e);
		return parse_states(buf, f, names, mask, e);
	}
	if (parse_id_term(buf, after) == 0)
		return 0;
	return parse_states(buf, f, names, mask, e);
}

int route_query_parse(const char *query, unsigned allow, const char *const *state_names,
                      struct route_query *q, struct err *e)
{
	char buf[2048];
	memset(q, 0, sizeof(*q));
	q->page_size = 100;
	size_t n = query ? strlen(query) : 0;
	if (n == 0)
		return 0;
	if (n >= sizeof(buf))
		return err_set(e, ERR_INVALID_ARGUMENT, "query string is longer than %zu bytes",
		               sizeof(buf) - 1);
	memcpy(buf, query, n + 1);
	char *save = NULL;
	/* strtok_r is fine: the buffer is ours and the banned one is strtok. */
	for (char *kv = strtok_r(buf, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		char *val = eq ? eq + 1 : kv + strlen(kv);
		if (eq)
			*eq = '\0';
		if (url_decode(kv) || url_decode(val))
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "malformed percent-escape in query");
		if (strcmp(kv, "pageSize") == 0) {
			char *end;
			errno = 0;
			long v = strtol(val, &end, 10);
			if (!*val || *end || errno || v < 0)
				return err_set(e, ERR_INVALID_ARGUMENT,
				               "pageSize must be a non-negative integer");
			if (v > 1000)
				v = 1000; /* AIP-158: values above the maximum are coerced */
			q->page_size = v == 0 ? 100 : (int)v;
		} else if (strcmp(kv, "pageToken") == 0) {
			if (*val && route_page_token_decode(val, &q->page_after))
				return err_set(e, ERR_INVALID_ARGUMENT,
				               "pageToken is not a token this server issued");
		} else if (strcmp(kv, "clientId") == 0 && (allow & ROUTE_Q_CLIENT)) {
			size_t len = strlen(val);
			if (len == 0 || len >= sizeof(q->client_id))
				return err_set(e, ERR_INVALID_ARGUMENT,
				               "clientId must be 1 to %zu bytes",
				               sizeof(q->client_id) - 1);
			memcpy(q->client_id, val, len + 1);
		} else if (strcmp(kv, "filter") == 0 && (allow & ROUTE_Q_FILTER)) {
			int rc = parse_filter(val, state_names, &q->state_mask, &q->min_id, e);
			if (rc)
				return rc;
			q->has_filter = 1;
		} else if (strcmp(kv, "alt") == 0 && (allow & ROUTE_Q_ALT)) {
			if (strcmp(val, "csv") != 0 && strcmp(val, "json") != 0)
				return err_set(e, ERR_INVALID_ARGUMENT,
				               "alt must be csv or json, not \"%.40s\"", val);
			q->alt_csv = strcmp(val, "csv") == 0;
		} else if (strcmp(kv, "metricId") == 0 && (allow & ROUTE_Q_METRIC)) {
			size_t len = strlen(val);
			if (len == 0 || len >= sizeof(q->metric_id))
				return err_set(e, ERR_INVALID_ARGUMENT,
				               "metricId must be 1 to %zu bytes",
				               sizeof(q->metric_id) - 1);
			memcpy(q->metric_id, val, len + 1);
		} else {
			return err_set(e, ERR_INVALID_ARGUMENT, "unknown query parameter %.60s",
			               kv);
		}
	}
	return 0;
}
