/* static: the embedded dashboard files, how a request picks one and its
 * encoding, and the If-None-Match rules. */
#include <string.h>

#include "static.h"
#include "test.h"

static struct http_resp serve(const char *method, const char *path, const char *ae, const char *inm)
{
	struct http_req q = {
	    .method = method, .path = path, .accept_encoding = ae, .if_none_match = inm};
	struct http_resp r;
	memset(&r, 0, sizeof(r));
	static_serve(&q, &r);
	return r;
}

static void test_table(void)
{
	ASSERT_TRUE(static_n_assets >= 10);
	for (size_t i = 1; i < static_n_assets; i++)
		ASSERT_TRUE(strcmp(static_assets[i - 1].path, static_assets[i].path) < 0);
	for (size_t i = 0; i < static_n_assets; i++) {
		const struct static_asset *a = &static_assets[i];
		ASSERT_TRUE(strncmp(a->path, "/ui/", 4) == 0 && a->len > 0 && a->type);
		/* compressed only when smaller, with an ETag of its own */
		ASSERT_TRUE(!a->gz || a->gz_len < a->len);
		ASSERT_TRUE(strcmp(a->etag, a->etag_gz) != 0);
	}
}

static void test_serve(void)
{
	struct http_resp r = serve("GET", "/ui", NULL, NULL);
	ASSERT_EQ_INT(r.status, 200);
	ASSERT_EQ_STR(r.content_type, "text/html; charset=utf-8");
	ASSERT_TRUE(r.body_static && r.body_len > 0 && !r.content_encoding);
	ASSERT_TRUE(strstr(r.csp, "default-src 'self'") != NULL);
	ASSERT_EQ_STR(r.cache_control, "no-cache");
	char etag[48];
	memcpy(etag, r.etag, sizeof(etag));
	r = serve("HEAD", "/ui/index.html", "identity", etag);
	ASSERT_EQ_INT(r.status, 304);
	ASSERT_TRUE(r.body == NULL);
	r = serve("GET", "/ui/vendor/echarts.esm.min.js", "deflate, gzip", NULL);
	ASSERT_EQ_STR(r.content_encoding, "gzip");
	ASSERT_EQ_STR(r.vary, "Accept-Encoding");
	ASSERT_TRUE(strstr(r.etag, "-gz") != NULL);
	r = serve("GET", "/ui/vendor/echarts.esm.min.js", "gzip;q=0, br", NULL);
	ASSERT_TRUE(r.content_encoding == NULL);
	r = serve("GET", "/ui/../ui/index.html", NULL, NULL);
	ASSERT_EQ_INT(r.status, 404);
	r = serve("GET", "/ui/js", NULL, NULL);
	ASSERT_EQ_INT(r.status, 404);
	r = serve("DELETE", "/ui/", NULL, NULL);
	ASSERT_EQ_INT(r.status, 405);
	ASSERT_TRUE(static_is_path("/ui") && static_is_path("/ui/x") && !static_is_path("/uix") &&
	            !static_is_path("/v1/ui"));
}

static void test_etag(void)
{
	char e[48], f[48];
	static_etag("abc", 3, e);
	static_etag("abd", 3, f);
	ASSERT_TRUE(e[0] == '"' && strlen(e) == 34 && strcmp(e, f) != 0);
	char list[128];
	snprintf(list, sizeof(list), "\"x\", W/%s", e);
	ASSERT_TRUE(static_etag_matches(list, e));
	ASSERT_TRUE(static_etag_matches("*", e));
	ASSERT_TRUE(!static_etag_matches(f, e));
	ASSERT_TRUE(!static_etag_matches(NULL, e));
	ASSERT_TRUE(!static_etag_matches("", e));
	/* a prefix is not a match */
	char cut[48];
	snprintf(cut, sizeof(cut), "%.20s", e);
	ASSERT_TRUE(!static_etag_matches(cut, e));
}

int main(void)
{
	test_table();
	test_serve();
	test_etag();
	return test_done("test-static");
}
