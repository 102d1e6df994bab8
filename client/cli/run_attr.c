/* run_attr: the `sibyl: attr KEY=VALUE` lines of a training command, which
 * attach metadata to its trial. */
#include <stdio.h>
#include <string.h>

#include "run.h"

int run_parse_attr(const char *line, char *key, size_t keylen, const char **value, size_t *valuelen,
                   char *err, size_t errlen)
{
	while (*line == ' ' || *line == '\t')
		line++;
	if (strncmp(line, "sibyl:", 6) != 0)
		return 0;
	const char *p = line + 6;
	while (*p == ' ' || *p == '\t')
		p++;
	/* "attr" then a blank: `sibyl: attr=0.5` stays a metric line */
	if (strncmp(p, "attr", 4) != 0 || (p[4] != ' ' && p[4] != '\t'))
		return 0;
	p += 4;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *eq = strchr(p, '=');
	size_t n = eq ? (size_t)(eq - p) : 0;
	if (!eq || n == 0 || memchr(p, ' ', n) || memchr(p, '\t', n)) {
		snprintf(err, errlen, "\"%.60s\" is not KEY=VALUE", p);
		return -1;
	}
	if (n >= keylen) {
		snprintf(err, errlen, "the key \"%.40s...\" is longer than %zu bytes", p,
		         keylen - 1);
		return -1;
	}
	memcpy(key, p, n);
	key[n] = '\0';
	*value = eq + 1;
	size_t v = strlen(*value);
	while (v > 0 && strchr(" \t\r\n", (*value)[v - 1]))
		v--;
	*valuelen = v;
	return 1;
}
