/* servers: the list of server URLs a handle fails over between, parsed
 * from "http://h1:8080,http://h2:8080" and checked before anything is sent. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Checks one entry (trimmed, trailing slashes removed); 0, or -1 with why. */
static int check_one(const char *u, char *why, size_t len)
{
	size_t skip = 0;
	if (strncasecmp(u, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(u, "https://", 8) == 0)
		skip = 8;
	if (!skip) {
		snprintf(why, len, "server URL \"%s\" must start with http:// or https://", u);
		return -1;
	}
	const char *host = u + skip;
	if (!*host || *host == '/' || *host == ':') {
		snprintf(why, len, "server URL \"%s\" has no host", u);
		return -1;
	}
	if (strpbrk(u, " \t\r\n?#,")) {
		snprintf(why, len, "server URL \"%s\" has a character that is not allowed", u);
		return -1;
	}
	CURLU *h = curl_url();
	if (!h) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	CURLUcode rc = curl_url_set(h, CURLUPART_URL, u, 0);
	curl_url_cleanup(h);
	if (rc != CURLUE_OK) {
		snprintf(why, len, "server URL \"%s\" is malformed (%s)", u,
		         rc == CURLUE_BAD_PORT_NUMBER ? "bad port" : "cannot be parsed");
		return -1;
	}
	return 0;
}

/* The n-th entry of text (between commas), trimmed, into a new string. */
static char *entry(const char *start, const char *end)
{
	while (start < end && is_space(*start))
		start++;
	while (end > start && (is_space(end[-1]) || end[-1] == '/'))
		end--;
	return strndup(start, (size_t)(end - start));
}

void servers_free(struct servers *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->url[i]);
	free(s->all);
	*s = (struct servers){0};
}

/* Adds u (owned) to s, and to s->all for messages; -1 on OOM. */
static int add(struct servers *s, char *u)
{
	size_t have = s->all ? strlen(s->all) : 0;
	char *all = realloc(s->all, have + strlen(u) + 3);
	if (!all) {
		free(u);
		return -1;
	}
	snprintf(all + have, strlen(u) + 3, "%s%s", have ? ", " : "", u);
	s->all = all;
	s->url[s->n++] = u;
	return 0;
}

int servers_parse(const char *text, struct servers *s, char *why, size_t len)
{
	*s = (struct servers){0};
	if (!text || !*text) {
		snprintf(why, len, "no server URL");
		return -1;
	}
	const char *p = text;
	for (size_t k = 1;; k++) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		char *u = entry(p, end);
		if (!u) {
			snprintf(why, len, "out of memory");
			goto fail;
		}
		if (!*u || s->n == SERVERS_MAX) {
			if (!*u)
				snprintf(why, len, "server list \"%s\": entry %zu is empty", text,
				         k);
			else
				snprintf(why, len, "server list \"%s\": more than %d servers", text,
				         SERVERS_MAX);
			free(u);
			goto fail;
		}
		if (check_one(u, why, len) != 0) {
			free(u);
			goto fail;
		}
		if (add(s, u) != 0) {
			snprintf(why, len, "out of memory");
			goto fail;
		}
		if (!comma)
			return 0;
		p = comma + 1;
	}
fail:
	servers_free(s);
	return -1;
}

int sibyl_url_check(const char *urls, char *why, size_t len)
{
	char tmp[512];
	struct servers s;
	if (!why || len == 0) {
		why = tmp;
		len = sizeof tmp;
	}
	if (servers_parse(urls, &s, why, len) != 0)
		return -SIBYL_EUSAGE;
	servers_free(&s);
	why[0] = '\0';
	return 0;
}
