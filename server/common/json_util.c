#include "json_util.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ju_depth(const char *s, size_t len, int max_depth)
{
	int depth = 0, max = 0, in_str = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max) {
				max = depth;
				if (max > max_depth)
					return max_depth + 1;
			}
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return max;
}

json_t *ju_parse_body(const char *body, size_t len, int max_depth, struct err *e)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i == len)
		return json_object();
	if (max_depth > 0 && ju_depth(body, len, max_depth) > max_depth) {
		err_set(e, ERR_INVALID_ARGUMENT,
		        "request body nests deeper than the limit of %d levels", max_depth);
		return NULL;
	}
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		err_set(e, ERR_INVALID_ARGUMENT,
		        "request body is not valid JSON: %s at line %d column %d", je.text, je.line,
		        je.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		err_set(e, ERR_INVALID_ARGUMENT, "request body must be a JSON object");
		return NULL;
	}
	return root;
}

int ju_only_fields(const json_t *obj, const char *path, const char *const *allowed, struct err *e)
{
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)obj, key, val)
	{
		int ok = 0;
		for (size_t i = 0; allowed[i]; i++) {
			if (strcmp(key, allowed[i]) == 0) {
				ok = 1;
				break;
			}
		}
		if (!ok) {
			return err_set(e, ERR_INVALID_ARGUMENT, "unknown field %s%s%.128s",
			               path && *path ? path : "", path && *path ? "." : "", key);
		}
	}
	return 0;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

int ju_object(const json_t *v, const char *path, struct err *e)
{
	if (!json_is_object(v))
		return err_set(e, ERR_INVALID_ARGUMENT, "%s must be an object, not %s", path,
		               type_name(v));
	return 0;
}

int ju_array(const json_t *v, const char *path, size_t max_len, struct err *e)
{
	if (!json_is_array(v))
		return err_set(e, ERR_INVALID_ARGUMENT, "%s must be an array, not %s", path,
		               type_name(v));
	if (max_len > 0 && json_array_size(v) > max_len)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "%s has %zu entries, more than the limit of %zu", path,
		               json_array_size(v), max_len);
	return 0;
}

int ju_double(const json_t *v, const char *path, double *out, struct err *e)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 ||
		    strcmp(s, "-Infinity") == 0)
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "%s must be a finite number, not %s", path, s);
	}
	if (!json_is_number(v))
		return err_set(e, ERR_INVALID_ARGUMENT, "%s must be a number, not %s", path,
		               type_name(v));
	double d = json_number_value(v);
	if (!isfinite(d))
		return err_set(e, ERR_INVALID_ARGUMENT, "%s must be a finite number", path);
	*out = d;
	return 0;
}

int ju_int64(const json_t *v, const char *path, int64_t *out, struct err *e)
{
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (isfinite(d) && d == floor(d) && fabs(d) <= 9007199254740992.0) {
			*out = (int64_t)d;
			return 0;
		}
		return err_set(e, ERR_INVALID_ARGUMENT, "%s must be an integer", path);
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		errno = 0;
		long long x = strtoll(s, &end, 10);
		if (*s && !isspace((unsigned char)*s) && *end == '\0' && errno == 0) {
			*out = (int64_t)x;
			return 0;
		}
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "%s must be an int64 (a number or a decimal string), not \"%.40s\"",
		               path, s);
	}
	return err_set(e, ERR_INVALID_ARGUMENT, "%s must be an integer, not %s", path,
	               type_name(v));
}

int ju_bool(const json_t *v, const char *path, int *out, struct err *e)
{
	if (!json_is_boolean(v))
		return err_set(e, ERR_INVALID_ARGUMENT, "%s must be true or false, not %s", path,
		               type_name(v));
	*out = json_is_true(v);
	return 0;
}

int ju_string(const json_t *v, const char *path, int max_len, const char **out, struct err *e)
{
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID_ARGUMENT, "%s must be a string, not %s", path,
		               type_name(v));
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n == 0)
		return err_set(e, ERR_INVALID_ARGUMENT, "%s must not be empty", path);
	if (max_len > 0 && n > (size_t)max_len)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "%s is %zu bytes long, more than the limit of %d", path, n, max_len);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return err_set(e, ERR_INVALID_ARGUMENT,
			               "%s must not contain control characters", path);
	}
	*out = s;
	return 0;
}

int ju_is_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128 || !isalnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int ju_id(const json_t *v, const char *path, const char **out, struct err *e)
{
	const char *s;
	int rc = ju_string(v, path, 0, &s, e);
	if (rc)
		return rc;
	if (!ju_is_id(s))
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "%s \"%.140s\" must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}", path,
		               s);
	*out = s;
	return 0;
}

int ju_duration(const json_t *v, const char *path, int64_t *nanos, struct err *e)
{
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "%s must be a duration string such as \"12.5s\", not %s", path,
		               type_name(v));
	const char *s = json_string_value(v);
	const char *p = s;
	int64_t secs = 0, frac = 0;
	int ndig = 0, nfrac = 0;
	while (isdigit((unsigned char)*p)) {
		if (ndig >= 12) /* keeps secs * 1e9 inside int64 below */
			goto bad;
		secs = secs * 10 + (*p - '0');
		p++;
		ndig++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			if (nfrac >= 9)
				goto bad;
			frac = frac * 10 + (*p - '0');
			p++;
			nfrac++;
		}
	}
	if (ndig == 0 && nfrac == 0)
		goto bad;
	if (p[0] != 's' || p[1] != '\0')
		goto bad;
	if (secs > 9223372035LL) /* int64 nanoseconds: about 292 years */
		goto bad;
	for (int i = nfrac; i < 9; i++)
		frac *= 10;
	*nanos = secs * 1000000000LL + frac;
	return 0;
bad:
	return err_set(e, ERR_INVALID_ARGUMENT,
	               "%s must be a non-negative duration such as \"12.5s\", not \"%.40s\"", path,
	               s);
}

void ju_format_duration(int64_t nanos, char *buf, size_t cap)
{
	int64_t secs = nanos / 1000000000LL, frac = nanos % 1000000000LL;
	if (frac == 0)
		snprintf(buf, cap, "%" PRId64 "s", secs);
	else if (frac % 1000000 == 0)
		snprintf(buf, cap, "%" PRId64 ".%03" PRId64 "s", secs, frac / 1000000);
	else if (frac % 1000 == 0)
		snprintf(buf, cap, "%" PRId64 ".%06" PRId64 "s", secs, frac / 1000);
	else
		snprintf(buf, cap, "%" PRId64 ".%09" PRId64 "s", secs, frac);
}

void ju_format_time(int64_t ms, char *buf, size_t cap)
{
	/* Floor division, so that a time before 1970 (which ju_time accepts)
	 * still has milliseconds in 0..999 (fuzz-body found ".-877Z"). */
	int64_t sec = ms / 1000, milli = ms % 1000;
	if (milli < 0) {
		milli += 1000;
		sec--;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)milli);
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int ju_time(const json_t *v, const char *path, int64_t *ms, struct err *e)
{
	if (!json_is_string(v))
		goto bad;
	const char *p = json_string_value(v);
	struct tm tm = {0};
	int y, mo, d, h, mi, s, frac_ms = 0;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't'))
		goto bad;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &s))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		goto bad;
	if (*p == '.') {
		p++;
		int n = 0;
		while (isdigit((unsigned char)*p)) {
			if (n < 3)
				frac_ms = frac_ms * 10 + (*p - '0');
			n++;
			p++;
		}
		if (n == 0 || n > 9)
			goto bad;
		for (; n < 3; n++)
			frac_ms *= 10;
	}
	int offset_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
			goto bad;
		offset_min = sign * (oh * 60 + om);
	} else {
		goto bad;
	}
	if (*p)
		goto bad;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	time_t t = timegm(&tm);
	int64_t when = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + frac_ms;
	/* The range of a proto3 Timestamp: a leap second or an offset can
	 * carry a time past 9999-12-31 (or before 0001), which no four-digit
	 * year can write back (fuzz-body found 9999-12-31T23:59:60.999Z). */
	if (when < -62135596800000LL || when > 253402300799999LL)
		return err_set(e, ERR_INVALID_ARGUMENT,
		               "%s must be between 0001-01-01T00:00:00Z and "
		               "9999-12-31T23:59:59.999Z",
		               path);
	*ms = when;
	return 0;
bad:
	return err_set(e, ERR_INVALID_ARGUMENT,
	               "%s must be an RFC 3339 timestamp such as \"2026-11-27T10:00:00Z\"", path);
}

void ju_path(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

/* The "%g" text of d at the lowest precision that reads back as d. Any
 * decimal of up to DBL_DIG (15) significant digits survives a trip through
 * a normal double, so when one reads back as d, "%.15g" (trailing zeros
 * dropped) is that text, as short as at its own precision: 15, else 16,
 * else 17 (which always reads back). One or two conversions instead of a
 * bisection of five: this runs for every real of every answer and
 * canonical body. A subnormal has fewer digits of its own (5e-324):
 * bisected, as a precision that reads back does so at every higher one. */
static void shortest_g(double d, char *t, size_t cap)
{
	int lo = DBL_DIG, hi = 17;
	if (fpclassify(d) == FP_SUBNORMAL)
		for (lo = 1; lo < hi;) {
			int mid = (lo + hi) / 2;
			snprintf(t, cap, "%.*g", mid, d);
			if (strtod(t, NULL) == d)
				hi = mid;
			else
				lo = mid + 1;
		}
	for (int p = lo; p < 17; p++) {
		snprintf(t, cap, "%.*g", p, d);
		if (strtod(t, NULL) == d)
			return;
	}
	snprintf(t, cap, "%.17g", d);
}

/* jansson prints reals with 17 digits (0.95 -> 0.94999999999999996); a
 * person reading an answer wants the shortest text that reads back as the
 * same double, and a round number as written (100.0, not "%.1g"'s 1e+02).
 * Rewrites each real token of compact output in place of a copy. */
static char *shorten_reals(char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return in;
	int in_str = 0;
	for (const char *p = in; *p;) {
		char c = *p;
		if (in_str) {
			*o++ = *p++;
			if (c == '\\' && *p)
				*o++ = *p++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
			*o++ = *p++;
			continue;
		}
		if (c != '-' && !isdigit((unsigned char)c)) {
			*o++ = *p++;
			continue;
		}
		size_t len = strspn(p, "0123456789+-.eE");
		char tok[64], best[64];
		int is_real = memchr(p, '.', len) || memchr(p, 'e', len) || memchr(p, 'E', len);
		if (len >= sizeof(tok) || !is_real) {
			memcpy(o, p, len);
			o += len;
			p += len;
			continue;
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		double d = strtod(tok, NULL);
		memcpy(best, tok, len + 1);
		if (isfinite(d)) {
			char t[40];
			shortest_g(d, t, sizeof(t));
			if (strstr(t, "e+") && fabs(d) < 1e16) /* 100, not 1e+02 */
				snprintf(t, sizeof(t), "%.0f", d);
			size_t tl = strlen(t);
			memcpy(best, t, tl + 1);
			if (!strpbrk(t, ".eEni"))
				memcpy(best + tl, ".0", 3);
		}
		size_t bl = strlen(best);
		if (bl <= len) { /* never longer than jansson's own text */
			memcpy(o, best, bl);
			o += bl;
		} else {
			memcpy(o, p, len);
			o += len;
		}
		p += len;
	}
	*o = '\0';
	free(in);
	return out;
}

char *ju_dump(const json_t *v, size_t flags)
{
	char *s = json_dumps(v, flags | JSON_COMPACT | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY);
	return s ? shorten_reals(s) : NULL;
}

char *ju_canonical(const json_t *v)
{
	return ju_dump(v, JSON_SORT_KEYS);
}

int ju_same_canonical(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return 1;
	if (!strstr(a, "e+") && !strstr(b, "e+"))
		return 0; /* the texts differ in more than how a round real reads */
	json_t *x = json_loads(a, JSON_DECODE_ANY, NULL);
	json_t *y = json_loads(b, JSON_DECODE_ANY, NULL);
	int same = x && y && json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return same;
}

int64_t ju_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
