/* The real sibyld: GET .../studies/{s}:importance (which parameters
 * matter, who may ask, the refusals), the CSV answer of the trial list
 * (round trip against the JSON list), and the ETag/304 answers of GETs. */
#include <curl/curl.h>
#include <math.h>
#include <stdint.h>

#include "apitest.h"
#include "curlbuf.h"

#define S "/v1/owners/t/studies/imp"

/* x matters most, opt next; lr and n do not matter at all. The category
 * names hold a comma and a quote, for the CSV. */
#define SPEC_IMP                                                                            \
	"{\"algorithm\":\"RANDOM_SEARCH\",\"metrics\":[{\"metricId\":\"acc\",\"goal\":"     \
	"\"MAXIMIZE\"},{\"metricId\":\"cost\",\"goal\":\"MINIMIZE\"}],\"parameters\":["     \
	"{\"parameterId\":\"x\",\"doubleValueSpec\":{\"minValue\":0,\"maxValue\":1}},"      \
	"{\"parameterId\":\"lr\",\"doubleValueSpec\":{\"minValue\":1e-5,\"maxValue\":0.1}," \
	"\"scaleType\":\"UNIT_LOG_SCALE\"},"                                                \
	"{\"parameterId\":\"opt\",\"categoricalValueSpec\":{\"values\":[\"adam\","          \
	"\"sgd, momentum\",\"say \\\"hi\\\"\"]}},"                                          \
	"{\"parameterId\":\"n\",\"integerValueSpec\":{\"minValue\":1,\"maxValue\":8}}]}"

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static double uniform(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (double)(rs >> 11) / 9007199254740992.0;
}

static void import_trials(struct daemon *d, int n)
{
	static const char *const cats[] = {"adam", "sgd, momentum", "say \\\"hi\\\""};
	for (int i = 0; i < n; i++) {
		double x = uniform(), lr = exp(log(1e-5) + uniform() * log(1e4));
		int c = (int)(uniform() * 3), k = 1 + (int)(uniform() * 8);
		double acc = 1 - 4 * (x - 0.6) * (x - 0.6) - (c == 1 ? 0.3 : 0);
		struct reply r;
		http_callf(d, "POST", S "/trials", NULL, &r,
		           "{\"state\":\"SUCCEEDED\",\"parameters\":[{\"parameterId\":\"x\","
		           "\"value\":%.17g},{\"parameterId\":\"lr\",\"value\":%.17g},"
		           "{\"parameterId\":\"opt\",\"value\":\"%s\"},{\"parameterId\":\"n\","
		           "\"value\":%d}],\"finalMeasurement\":{\"metrics\":[{\"metricId\":"
		           "\"acc\",\"value\":%.17g},{\"metricId\":\"cost\",\"value\":%.17g}]}}",
		           x, lr, cats[c], k, acc, lr * 1000);
		if (r.status != 200)
			TEST_FAIL("import %d: %ld %s", i, r.status, r.body);
		reply_free(&r);
	}
}

static const char *rank(json_t *j, size_t i)
{
	return jstr(json_array_get(json_object_get(j, "importances"), i), "parameterId");
}

static void check_importance(struct daemon *d, const char *reader)
{
	json_t *j = CALL(d, "GET", S ":importance", NULL, 200);
	json_t *a = json_object_get(j, "importances");
	ASSERT_EQ_INT(json_array_size(a), 4);
	ASSERT_EQ_STR(jstr(j, "method"), "PED_ANOVA");
	ASSERT_EQ_STR(jstr(j, "metricId"), "acc");
	ASSERT_EQ_STR(jstr(j, "trialCount"), "300");
	ASSERT_EQ_STR(rank(j, 0), "x");
	ASSERT_EQ_STR(rank(j, 1), "opt");
	double sum = 0, prev = 2;
	for (size_t i = 0; i < 4; i++) {
		double v = json_real_value(json_object_get(json_array_get(a, i), "importance"));
		ASSERT_TRUE(v >= 0 && v <= prev);
		sum += v;
		prev = v;
	}
	ASSERT_EQ_DBL(sum, 1.0, 1e-9);
	json_decref(j);
	/* cost depends on lr only: lr first. A READER may ask. */
	struct reply r;
	ASSERT_EQ_INT(http_call(d, "GET", S ":importance?metricId=cost", NULL, reader, &r), 0);
	ASSERT_EQ_INT(r.status, 200);
	ASSERT_EQ_STR(rank(r.json, 0), "lr");
	ASSERT_EQ_STR(jstr(r.json, "metricId"), "cost");
	reply_free(&r);
}

static void check_refusals(struct daemon *d)
{
	create_study(d, "empty", SPEC_RANDOM);
	REJECT(d, "GET", "/v1/owners/t/studies/empty:importance", NULL, 400, "FAILED_PRECONDITION",
	       "importance needs at least 2 SUCCEEDED trials");
	REJECT(d, "GET", S ":importance?metricId=loss", NULL, 400, "INVALID_ARGUMENT",
	       "metricId \"loss\" is not a metric of this study");
	REJECT(d, "GET", S ":importance?pageSize=3", NULL, 400, "INVALID_ARGUMENT",
	       "unknown query parameter pageSize");
	REJECT(d, "POST", S ":importance", "{}", 405, "UNIMPLEMENTED", "allowed: GET");
	REJECT(d, "GET", "/v1/owners/t/studies/nope:importance", NULL, 404, "NOT_FOUND", "nope");
	/* Another owner's key sees no such study. */
	daemon_create_owner(d, "u");
	json_t *k = CALL(d, "POST", "/v1/owners/u/apiKeys", "{\"role\":\"WRITER\"}", 200);
	REFUSE_AS(d, jstr(k, "key"), "GET", S ":importance", NULL, 404, "NOT_FOUND", "");
	REFUSE_AS(d, jstr(k, "key"), "GET", S "/trials?alt=csv", NULL, 404, "NOT_FOUND", "");
	json_decref(k);
}

/* ---- CSV ---- */

/* Splits CSV text into rows of cells (RFC 4180). Returns rows as a JSON
 * array of arrays of strings. */
static json_t *parse_csv(const char *s)
{
	json_t *rows = json_array(), *row = json_array();
	char cellbuf[4096];
	size_t n = 0;
	int quoted = 0, was_quoted = 0;
	for (const char *p = s; *p; p++) {
		if (quoted) {
			if (*p == '"' && p[1] == '"')
				cellbuf[n++] = '"', p++;
			else if (*p == '"')
				quoted = 0;
			else
				cellbuf[n++] = *p;
			continue;
		}
		if (*p == '"' && n == 0) {
			quoted = was_quoted = 1;
		} else if (*p == ',' || (*p == '\r' && p[1] == '\n')) {
			cellbuf[n] = '\0';
			json_array_append_new(row, json_string(cellbuf));
			n = 0;
			was_quoted = 0;
			if (*p == '\r') {
				p++;
				json_array_append_new(rows, row);
				row = json_array();
			}
		} else {
			if (*p == '\n' || *p == '"')
				TEST_FAIL("bare %s outside quotes in the CSV",
				          *p == '"' ? "quote" : "LF");
			cellbuf[n++] = *p;
		}
		(void)was_quoted;
	}
	if (n > 0 || json_array_size(row) > 0)
		TEST_FAIL("the CSV does not end with CRLF");
	json_decref(row);
	return rows;
}

struct got {
	long status;
	struct curlbuf buf;
	char ctype[128], etag[64], encoding[32], csp[512];
};

static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
	size_t k = strlen(name);
	if (n <= k || strncasecmp(line, name, k) != 0)
		return;
	size_t m = n - k;
	while (m > 0 && (line[k + m - 1] == '\r' || line[k + m - 1] == '\n'))
		m--;
	snprintf(out, cap, "%.*s", (int)m, line + k);
}

static size_t on_head(char *p, size_t sz, size_t nm, void *ud)
{
	struct got *g = ud;
	size_t n = sz * nm;
	header_value(p, n, "Content-Type: ", g->ctype, sizeof(g->ctype));
	header_value(p, n, "ETag: ", g->etag, sizeof(g->etag));
	header_value(p, n, "Content-Encoding: ", g->encoding, sizeof(g->encoding));
	header_value(p, n, "Content-Security-Policy: ", g->csp, sizeof(g->csp));
	return n;
}

/* A request with extra request headers (NULL-terminated), no decoding;
 * with the admin key unless keyless. */
static void request_with(struct daemon *d, const char *method, const char *path,
                         const char *const *headers, int keyless, struct got *g)
{
	char url[512], auth[128];
	memset(g, 0, sizeof(*g));
	snprintf(url, sizeof(url), "%s%s", d->url, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", HARNESS_ADMIN_KEY);
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, keyless ? "X-None: 1" : auth);
	for (size_t i = 0; headers && headers[i]; i++)
		h = curl_slist_append(h, headers[i]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curlbuf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &g->buf);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_head);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, g);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (curl_easy_perform(c) != CURLE_OK)
		TEST_FAIL("%s %s: transport error", method, path);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &g->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static void get_with(struct daemon *d, const char *path, const char *const *headers, struct got *g)
{
	request_with(d, "GET", path, headers, 0, g);
}

/* Every trial of the JSON list, following nextPageToken. */
static json_t *all_trials(struct daemon *d, const char *filter)
{
	json_t *all = json_array();
	char path[512], tok[128] = "";
	do {
		snprintf(path, sizeof(path), S "/trials?pageSize=70%s%s%s%s",
		         filter ? "&filter=" : "", filter ? filter : "",
		         tok[0] ? "&pageToken=" : "", tok);
		json_t *j = CALL(d, "GET", path, NULL, 200);
		json_array_extend(all, json_object_get(j, "trials"));
		snprintf(tok, sizeof(tok), "%s", jstr(j, "nextPageToken"));
		json_decref(j);
	} while (tok[0]);
	return all;
}

static const char *param_text(json_t *t, const char *id, char *buf, size_t cap)
{
	json_t *p = json_object_get(t, "parameters");
	for (size_t i = 0; i < json_array_size(p); i++) {
		json_t *e = json_array_get(p, i);
		if (strcmp(jstr(e, "parameterId"), id) != 0)
			continue;
		json_t *v = json_object_get(e, "value");
		if (json_is_string(v))
			return json_string_value(v);
		snprintf(buf, cap, "%.17g", json_number_value(v));
		return buf;
	}
	return "";
}

static double metric_of(json_t *t, const char *id)
{
	json_t *m = json_object_get(json_object_get(t, "finalMeasurement"), "metrics");
	for (size_t i = 0; i < json_array_size(m); i++)
		if (strcmp(jstr(json_array_get(m, i), "metricId"), id) == 0)
			return json_number_value(json_object_get(json_array_get(m, i), "value"));
	return NAN;
}

/* Each CSV row against the JSON trial of the same position. */
static void compare_rows(json_t *rows, json_t *trials)
{
	static const char *const head[] = {"id",  "state", "x",         "lr",      "opt",     "n",
	                                   "acc", "cost",  "startTime", "endTime", "clientId"};
	json_t *h = json_array_get(rows, 0);
	ASSERT_EQ_INT(json_array_size(h), 11);
	for (size_t i = 0; i < 11; i++)
		ASSERT_EQ_STR(json_string_value(json_array_get(h, i)), head[i]);
	ASSERT_EQ_INT(json_array_size(rows), json_array_size(trials) + 1);
	int bad = 0;
	for (size_t r = 0; r < json_array_size(trials); r++) {
		json_t *row = json_array_get(rows, r + 1), *t = json_array_get(trials, r);
		char buf[64];
#define CELL(i) json_string_value(json_array_get(row, (i)))
		bad |= json_array_size(row) != 11;
		bad |=
		    strcmp(CELL(0), jstr(t, "id")) != 0 || strcmp(CELL(1), jstr(t, "state")) != 0;
		static const char *const params[] = {"x", "lr", "opt", "n"};
		for (size_t k = 0; k < 4; k++) {
			const char *want = param_text(t, params[k], buf, sizeof(buf));
			if (k == 2 || !*want)
				bad |= strcmp(CELL(2 + k), want) != 0;
			else
				bad |= strtod(CELL(2 + k), NULL) != strtod(want, NULL);
		}
		for (size_t k = 0; k < 2; k++) {
			double want = metric_of(t, k ? "cost" : "acc");
			bad |=
			    isnan(want) ? *CELL(6 + k) != '\0' : strtod(CELL(6 + k), NULL) != want;
		}
		bad |= strcmp(CELL(8), jstr(t, "startTime")) != 0;
		bad |= strcmp(CELL(9), jstr(t, "endTime")) != 0;
		bad |= strcmp(CELL(10), jstr(t, "clientId")) != 0;
		if (bad) {
			TEST_FAIL("CSV row %zu differs from trial %s", r + 1, jstr(t, "id"));
			break;
		}
#undef CELL
	}
	test_checks++;
}

static void check_csv(struct daemon *d)
{
	/* Two ACTIVE trials of a worker whose id needs quoting. */
	json_decref(suggest(d, "imp", 2, "w,\\\"1\\\"", 200));
	struct reply r;
	ASSERT_EQ_INT(http_call(d, "GET", S "/trials?alt=csv", NULL, NULL, &r), 0);
	ASSERT_EQ_INT(r.status, 200);
	json_t *rows = parse_csv(r.body), *trials = all_trials(d, NULL);
	ASSERT_EQ_INT(json_array_size(trials), 302);
	compare_rows(rows, trials);
	EXPECT_IN(r.body, "\"sgd, momentum\"");
	EXPECT_IN(r.body, "\"say \"\"hi\"\"\"");
	EXPECT_IN(r.body, ",\"w,\"\"1\"\"\"\r\n");
	reply_free(&r);
	json_decref(rows);
	json_decref(trials);
	/* Accept: text/csv says the same, with the filter. */
	struct got g;
	const char *const accept[] = {"Accept: text/csv", NULL};
	get_with(d, S "/trials?filter=state%3DACTIVE", accept, &g);
	ASSERT_EQ_INT(g.status, 200);
	ASSERT_EQ_STR(g.ctype, "text/csv; charset=utf-8");
	rows = parse_csv(g.buf.data);
	trials = all_trials(d, "state%3DACTIVE");
	ASSERT_EQ_INT(json_array_size(trials), 2);
	compare_rows(rows, trials);
	json_decref(rows);
	json_decref(trials);
	curlbuf_free(&g.buf);
	/* What is new since trial 298: the dashboard's refresh. */
	get_with(d, S "/trials?alt=csv&filter=id%3E298", NULL, &g);
	rows = parse_csv(g.buf.data);
	trials = all_trials(d, "id%3E298");
	ASSERT_EQ_INT(json_array_size(trials), 4);
	compare_rows(rows, trials);
	ASSERT_EQ_STR(jstr(json_array_get(trials, 0), "id"), "299");
	json_decref(rows);
	json_decref(trials);
	curlbuf_free(&g.buf);
	/* Paging and unknown forms are refused, saying why. */
	REJECT(d, "GET", S "/trials?alt=csv&pageSize=10", NULL, 400, "INVALID_ARGUMENT",
	       "the CSV answer holds every trial");
	REJECT(d, "GET", S "/trials?alt=xml", NULL, 400, "INVALID_ARGUMENT",
	       "alt must be csv or json");
	/* An empty study: the header only. */
	ASSERT_EQ_INT(
	    http_call(d, "GET", "/v1/owners/t/studies/empty/trials?alt=csv", NULL, NULL, &r), 0);
	ASSERT_EQ_STR(r.body, "id,state,x,acc,startTime,endTime,clientId\r\n");
	reply_free(&r);
	/* Ids that repeat a column name get a prefix. */
	create_study(d, "clash",
	             "{\"metrics\":[{\"metricId\":\"state\",\"goal\":\"MAXIMIZE\"}],"
	             "\"parameters\":[{\"parameterId\":\"state\",\"doubleValueSpec\":"
	             "{\"minValue\":0,\"maxValue\":1}}]}");
	ASSERT_EQ_INT(
	    http_call(d, "GET", "/v1/owners/t/studies/clash/trials?alt=csv", NULL, NULL, &r), 0);
	ASSERT_EQ_STR(r.body, "id,state,param.state,metric.state,startTime,endTime,clientId\r\n");
	reply_free(&r);
}

/* An answer of 1 KB or more goes gzip-compressed to a client that asks
 * for it, with an ETag of its own; curl decoding it gets the same bytes. */
static void check_gzip(struct daemon *d)
{
	struct got plain, gz, dec;
	get_with(d, S "/trials?alt=csv", NULL, &plain);
	const char *const ae[] = {"Accept-Encoding: gzip", NULL};
	get_with(d, S "/trials?alt=csv", ae, &gz);
	ASSERT_EQ_STR(gz.encoding, "gzip");
	ASSERT_TRUE(plain.encoding[0] == '\0');
	ASSERT_TRUE(gz.buf.len > 20 && gz.buf.len < plain.buf.len / 2 &&
	            (unsigned char)gz.buf.data[0] == 0x1f && (unsigned char)gz.buf.data[1] == 0x8b);
	ASSERT_TRUE(strstr(gz.etag, "-gz\"") != NULL && strcmp(gz.etag, plain.etag) != 0);
	char inm[128];
	snprintf(inm, sizeof(inm), "If-None-Match: %s", gz.etag);
	const char *const again[] = {"Accept-Encoding: gzip", inm, NULL};
	get_with(d, S "/trials?alt=csv", again, &dec);
	ASSERT_EQ_INT(dec.status, 304);
	curlbuf_free(&dec.buf);
	memset(&dec, 0, sizeof(dec));
	CURL *c = curl_easy_init();
	char url[512];
	snprintf(url, sizeof(url), "%s%s", d->url, S "/trials?alt=csv");
	struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " HARNESS_ADMIN_KEY);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curlbuf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &dec.buf);
	ASSERT_EQ_INT(curl_easy_perform(c), CURLE_OK);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	ASSERT_TRUE(dec.buf.data && strcmp(dec.buf.data, plain.buf.data) == 0);
	/* A short answer stays as it is. */
	struct got small;
	get_with(d, S, ae, &small);
	ASSERT_TRUE(small.status == 200 && small.encoding[0] == '\0');
	curlbuf_free(&small.buf);
	curlbuf_free(&plain.buf);
	curlbuf_free(&gz.buf);
	curlbuf_free(&dec.buf);
}

/* A GET answer has an ETag; asking again with it gives 304 and no body,
 * until something changes. */
static void check_etag(struct daemon *d)
{
	struct got a, b;
	get_with(d, S "/trials?filter=state%3DACTIVE", NULL, &a);
	ASSERT_EQ_INT(a.status, 200);
	ASSERT_TRUE(a.etag[0] == '"');
	char inm[128];
	snprintf(inm, sizeof(inm), "If-None-Match: %s", a.etag);
	const char *const h[] = {inm, NULL};
	get_with(d, S "/trials?filter=state%3DACTIVE", h, &b);
	ASSERT_EQ_INT(b.status, 304);
	ASSERT_EQ_INT(b.buf.len, 0);
	ASSERT_EQ_STR(b.etag, a.etag);
	curlbuf_free(&b.buf);
	CALL_OK(d, "POST", S "/trials/301:complete",
	        "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.5},"
	        "{\"metricId\":\"cost\",\"value\":1}]}}");
	get_with(d, S "/trials?filter=state%3DACTIVE", h, &b);
	ASSERT_EQ_INT(b.status, 200);
	ASSERT_TRUE(strcmp(b.etag, a.etag) != 0);
	EXPECT_IN(b.buf.data, "\"302\"");
	curlbuf_free(&a.buf);
	curlbuf_free(&b.buf);
}

/* The dashboard's files: no key needed, gzip when asked, an ETag that
 * gives 304, the Content-Security-Policy; 404 and 405 for what is not. */
static void check_static(struct daemon *d)
{
	struct got a, b;
	request_with(d, "GET", "/ui/", NULL, 1, &a);
	ASSERT_EQ_INT(a.status, 200);
	ASSERT_EQ_STR(a.ctype, "text/html; charset=utf-8");
	EXPECT_IN(a.buf.data, "<script type=\"module\" src=\"/ui/js/app.js\">");
	ASSERT_TRUE(a.etag[0] == '"' && a.encoding[0] == '\0');
	EXPECT_IN(a.csp, "default-src 'self'");
	char inm[128];
	snprintf(inm, sizeof(inm), "If-None-Match: %s", a.etag);
	const char *const h1[] = {inm, NULL};
	request_with(d, "GET", "/ui/index.html", h1, 1, &b);
	ASSERT_EQ_INT(b.status, 304);
	ASSERT_EQ_INT(b.buf.len, 0);
	curlbuf_free(&b.buf);
	const char *const gz[] = {"Accept-Encoding: gzip, br", NULL};
	request_with(d, "GET", "/ui/vendor/echarts.esm.min.js", gz, 1, &b);
	ASSERT_EQ_INT(b.status, 200);
	ASSERT_EQ_STR(b.encoding, "gzip");
	ASSERT_EQ_STR(b.ctype, "text/javascript; charset=utf-8");
	ASSERT_TRUE(b.buf.len > 100000 && (unsigned char)b.buf.data[0] == 0x1f &&
	            (unsigned char)b.buf.data[1] == 0x8b);
	curlbuf_free(&b.buf);
	const char *const nogz[] = {"Accept-Encoding: gzip;q=0", NULL};
	request_with(d, "GET", "/ui/vendor/echarts.esm.min.js", nogz, 1, &b);
	ASSERT_TRUE(b.status == 200 && b.encoding[0] == '\0' && b.buf.len > 500000);
	curlbuf_free(&b.buf);
	request_with(d, "GET", "/ui/nope.js", NULL, 1, &b);
	ASSERT_EQ_INT(b.status, 404);
	curlbuf_free(&b.buf);
	request_with(d, "POST", "/ui/", NULL, 1, &b);
	ASSERT_EQ_INT(b.status, 405);
	curlbuf_free(&b.buf);
	curlbuf_free(&a.buf);
}

int main(void)
{
	struct daemon *d = daemon_start(NULL);
	if (!d)
		return 1;
	create_owner(d, "t");
	create_study(d, "imp", SPEC_IMP);
	json_t *k = CALL(d, "POST", "/v1/owners/t/apiKeys", "{\"role\":\"READER\"}", 200);
	REJECT(d, "GET", S ":importance", NULL, 400, "FAILED_PRECONDITION", "the study has 0");
	import_trials(d, 300);
	check_importance(d, jstr(k, "key"));
	check_refusals(d);
	check_csv(d);
	check_etag(d);
	check_gzip(d);
	check_static(d);
	json_decref(k);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("test-api-importance");
}
