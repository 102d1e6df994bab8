#include "route.h"

#include <ctype.h>
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
