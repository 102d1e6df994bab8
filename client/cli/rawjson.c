/* rawjson: find values in JSON text without parsing it into numbers, so
 * that --json prints exactly what the server sent (1e-05 stays 1e-05).
 * The text has already been checked by libsibyl: it is well-formed. */
#include <string.h>

#include "cli.h"

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* p at '"': the character after the closing quote, or NULL. */
static const char *skip_string(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* p at a value: the character after it, or NULL. */
static const char *skip_value(const char *p)
{
	if (*p == '"')
		return skip_string(p);
	if (*p != '{' && *p != '[') {
		while (*p && !strchr(",]} \t\r\n", *p))
			p++;
		return p;
	}
	int depth = 0;
	while (*p) {
		if (*p == '"') {
			if (!(p = skip_string(p)))
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/* p at '{': the value of member key (len bytes, compared as written), or
 * NULL when absent. */
static const char *member(const char *p, const char *key, size_t len)
{
	p = skip_ws(p + 1);
	while (*p == '"') {
		const char *end = skip_string(p);
		if (!end)
			return NULL;
		int match = (size_t)(end - p - 2) == len && strncmp(p + 1, key, len) == 0;
		p = skip_ws(end);
		if (*p != ':')
			return NULL;
		p = skip_ws(p + 1);
		if (match)
			return p;
		if (!(p = skip_value(p)))
			return NULL;
		p = skip_ws(p);
		if (*p == ',')
			p = skip_ws(p + 1);
	}
	return NULL;
}

const char *rawjson_get(const char *text, const char *path)
{
	const char *p = skip_ws(text ? text : "");
	while (path && *path) {
		if (*p != '{')
			return NULL;
		size_t len = strcspn(path, ".");
		if (!(p = member(p, path, len)))
			return NULL;
		path += len;
		if (*path == '.')
			path++;
	}
	return p;
}

size_t rawjson_len(const char *value)
{
	const char *end = value ? skip_value(value) : NULL;
	return end ? (size_t)(end - value) : 0;
}

int rawjson_each(const char *text, const char *path,
                 void (*fn)(const char *item, size_t len, void *ud), void *ud)
{
	const char *p = rawjson_get(text, path);
	if (!p)
		return 0;
	if (*p != '[')
		return -1;
	p = skip_ws(p + 1);
	while (*p && *p != ']') {
		const char *end = skip_value(p);
		if (!end || end == p)
			return -1;
		fn(p, (size_t)(end - p), ud);
		p = skip_ws(end);
		if (*p == ',')
			p = skip_ws(p + 1);
	}
	return *p == ']' ? 0 : -1;
}
