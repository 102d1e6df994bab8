#include "api_query.h"
#include "api_routes.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUERY_MAX 2047

static const char *const param_names[] = {"pageSize",   "pageToken", "filter", "clientId",
                                          "updateMask", "force",     "alt",    "metricId"};
#define N_PARAMS (sizeof(param_names) / sizeof(param_names[0]))

unsigned api_query_takes(enum route_kind k, const char *method)
{
	unsigned takes = 0;
	for (size_t i = 0; i < api_routes_count; i++) {
		if (api_routes[i].kind == k && strcmp(api_routes[i].method, method) == 0)
			takes |= api_routes[i].query;
	}
	return takes;
}

/* Decodes %XX and '+' of s in place; -1 on a malformed escape or a NUL. */
static int url_decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p == '+') {
			*o++ = ' ';
			continue;
		}
		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		unsigned char c = 0;
		size_t n = 0;
		if (!p[1] || !p[2] || sodium_hex2bin(&c, 1, p + 1, 2, NULL, &n, NULL) != 0 ||
		    n != 1 || c == 0)
			return -1;
		*o++ = (char)c;
		p += 2;
	}
	*o = '\0';
	return 0;
}

static int unknown(const char *name, const char *method, unsigned takes, struct err *e)
{
	char list[128] = "";
	size_t o = 0;
	for (size_t i = 0; i < N_PARAMS; i++) {
		if (!(takes & (1u << i)))
			continue;
		int n = snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "", param_names[i]);
		if (n > 0 && (size_t)n < sizeof(list) - o)
			o += (size_t)n;
	}
	if (!takes)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "unknown query parameter %.60s: %.16s on this path takes no "
		               "query parameters",
		               name, method);
	return err_set(e, ERR_INVALID_ARGUMENT,
	               "unknown query parameter %.60s: %.16s on this path takes %s", name, method,
	               list);
}

static int copy_value(const char *name, const char *val, char *dst, size_t cap, struct err *e)
{
	size_t n = strlen(val);
	if (n >= cap)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "query parameter %s is longer than %zu bytes", name, cap - 1);
	memcpy(dst, val, n + 1);
	return 0;
}

static int set_value(unsigned bit, const char *val, struct api_query *q, struct err *e)
{
	switch (bit) {
	case API_Q_PAGE_SIZE: {
		char *end;
		errno = 0;
		long v = strtol(val, &end, 10);
		if (!*val || *end || errno || v < 0)
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "pageSize must be a non-negative integer, not \"%.40s\"",
			               val);
		q->page_size = v == 0 ? 100 : v > 1000 ? 1000 : (int)v;
		return 0;
	}
	case API_Q_PAGE_TOKEN:
		return copy_value("pageToken", val, q->page_token, sizeof(q->page_token), e);
	case API_Q_FILTER:
		return copy_value("filter", val, q->filter, sizeof(q->filter), e);
	case API_Q_CLIENT_ID:
		if (!*val)
			return err_set(e, ERR_INVALID_ARGUMENT, "clientId must not be empty");
		return copy_value("clientId", val, q->client_id, sizeof(q->client_id), e);
	case API_Q_UPDATE_MASK:
		return copy_value("updateMask", val, q->update_mask, sizeof(q->update_mask), e);
	case API_Q_FORCE:
		if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
			q->force = 1;
		else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0 || !*val)
			q->force = 0;
		else
			return err_set(e, ERR_INVALID_ARGUMENT, "force must be true or false");
		return 0;
	case API_Q_ALT:
		if (strcmp(val, "csv") != 0 && strcmp(val, "json") != 0)
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "alt must be csv or json, not \"%.40s\"", val);
		q->alt_csv = strcmp(val, "csv") == 0;
		return 0;
	case API_Q_METRIC_ID:
		if (!*val)
			return err_set(e, ERR_INVALID_ARGUMENT, "metricId must not be empty");
		return copy_value("metricId", val, q->metric_id, sizeof(q->metric_id), e);
	default:
		return err_set(e, ERR_INTERNAL, "query: no such parameter bit %u", bit);
	}
}

/* One name=value pair (both decoded in place). */
static int one(char *name, char *val, unsigned takes, const char *method, struct api_query *q,
               struct err *e)
{
	if (url_decode(name) || url_decode(val))
		return err_set(e, ERR_INVALID_ARGUMENT, "malformed percent-escape in query");
	unsigned bit = 0;
	for (size_t i = 0; i < N_PARAMS; i++) {
		if (strcmp(name, param_names[i]) == 0)
			bit = 1u << i;
	}
	if (!(bit & takes))
		return unknown(name, method, takes, e);
	if (q->present & bit)
		return err_set(e, ERR_INVALID_ARGUMENT, "query parameter %s is given twice", name);
	q->present |= bit;
	return set_value(bit, val, q, e);
}

int api_query_parse(enum route_kind k, const char *method, const char *query, struct api_query *q,
                    struct err *e)
{
	char buf[QUERY_MAX + 1];
	memset(q, 0, sizeof(*q));
	q->page_size = 100;
	size_t len = query ? strlen(query) : 0;
	if (len > QUERY_MAX)
		return err_set(e, ERR_INVALID_ARGUMENT, "query string is longer than %d bytes",
		               QUERY_MAX);
	memcpy(buf, query ? query : "", len + 1);
	unsigned takes = api_query_takes(k, method);
	char *save = NULL;
	/* strtok_r skips empty pairs ("a&&b"); the buffer is ours. */
	for (char *kv = strtok_r(buf, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		char *val = eq ? eq + 1 : kv + strlen(kv);
		if (eq)
			*eq = '\0';
		int rc = one(kv, val, takes, method, q, e);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the trial list's filter ---- */

static int state_bit(const char *w, const char *const *names, unsigned *mask, struct err *e)
{
	for (int i = 1; names[i]; i++) {
		if (strcmp(w, names[i]) == 0) {
			*mask |= 1u << i;
			return 0;
		}
	}
	return err_set(e, ERR_INVALID_ARGUMENT,
	               "filter: unknown state \"%.40s\" (REQUESTED, ACTIVE, STOPPING, SUCCEEDED "
	               "or INFEASIBLE)",
	               w);
}

/* "id>N" (blanks allowed around the parts): 0 with *after = N. */
static int id_term(const char *p, int64_t *after)
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

/* "state=X [OR state=Y ...]" in buf (changed in place). */
static int states(char *buf, const char *const *names, unsigned *mask, struct err *e)
{
	char *p = buf;
	for (;;) {
		while (*p == ' ')
			p++;
		if (strncmp(p, "state", 5) != 0)
			return 1;
		p += 5;
		while (*p == ' ')
			p++;
		if (*p++ != '=')
			return 1;
		while (*p == ' ')
			p++;
		char *w = p;
		while (*p && *p != ' ')
			p++;
		char save = *p;
		*p = '\0';
		int rc = state_bit(w, names, mask, e);
		if (rc)
			return rc;
		*p = save;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return 0;
		if (strncmp(p, "OR ", 3) != 0)
			return 1;
		p += 3;
	}
}

int api_query_states(const char *filter, const char *const *names, unsigned *mask, int64_t *min_id,
                     struct err *e)
{
	char buf[sizeof(((struct api_query *)0)->filter)];
	size_t n = strlen(filter);
	*mask = 0;
	*min_id = 0;
	if (n >= sizeof(buf))
		return err_set(e, ERR_INVALID_ARGUMENT, "filter is too long");
	memcpy(buf, filter, n + 1);
	int rc;
	char *and = strstr(buf, " AND ");
	if (and) {
		*and = '\0';
		rc = id_term(and+5, min_id) == 0 ? states(buf, names, mask, e) : 1;
	} else {
		rc = id_term(buf, min_id) == 0 ? 0 : states(buf, names, mask, e);
	}
	if (rc <= 0)
		return rc;
	return err_set(e, ERR_INVALID_ARGUMENT,
	               "filter \"%.100s\" is not understood; the form is state=SUCCEEDED (or "
	               "several joined by OR), id>N, or both joined by AND",
	               filter);
}

/* ---- page tokens ---- */

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG   crypto_aead_xchacha20poly1305_ietf_ABYTES

int api_token_seal(const unsigned char key[API_TOKEN_KEY_BYTES], const char *context,
                   const void *payload, size_t len, char *buf, size_t cap)
{
	unsigned char raw[NONCE + API_TOKEN_MAX + TAG];
	unsigned long long clen = 0;
	if (len > API_TOKEN_MAX || cap < API_TOKEN_CHARS || sodium_init() < 0)
		return -1;
	randombytes_buf(raw, NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(raw + NONCE, &clen, payload, len,
	                                           (const unsigned char *)context, strlen(context),
	                                           NULL, raw, key);
	sodium_bin2base64(buf, cap, raw, NONCE + (size_t)clen,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return 0;
}

int api_token_open(const unsigned char key[API_TOKEN_KEY_BYTES], const char *context,
                   const char *tok, void *payload, size_t cap, size_t *len, struct err *e)
{
	unsigned char raw[NONCE + API_TOKEN_MAX + TAG];
	unsigned char plain[API_TOKEN_MAX];
	size_t n = 0;
	unsigned long long plen = 0;
	*len = 0;
	if (sodium_init() < 0 ||
	    sodium_base642bin(raw, sizeof(raw), tok, strlen(tok), NULL, &n, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n < NONCE + TAG ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL, raw + NONCE, n - NONCE,
	                                               (const unsigned char *)context,
	                                               strlen(context), raw, key) != 0 ||
	    plen > cap)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "pageToken is not a token this server issued for this list");
	memcpy(payload, plain, (size_t)plen);
	*len = (size_t)plen;
	return 0;
}

void api_token_int(const unsigned char key[API_TOKEN_KEY_BYTES], const char *context, int64_t after,
                   char *buf, size_t cap)
{
	unsigned char b[8];
	uint64_t v = (uint64_t)after;
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	if (api_token_seal(key, context, b, sizeof(b), buf, cap) != 0 && cap > 0)
		buf[0] = '\0';
}

int api_token_int_open(const unsigned char key[API_TOKEN_KEY_BYTES], const char *context,
                       const char *tok, int64_t *after, struct err *e)
{
	unsigned char b[8];
	size_t n;
	*after = 0;
	if (!*tok)
		return 0;
	int rc = api_token_open(key, context, tok, b, sizeof(b), &n, e);
	if (rc)
		return rc;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	if (n != sizeof(b) || v > INT64_MAX)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "pageToken is not a token this server issued for this list");
	*after = (int64_t)v;
	return 0;
}
