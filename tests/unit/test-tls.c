/* http over TLS: a self-signed certificate made with the openssl CLI,
 * http_start serving HTTPS with it, libcurl trusting exactly that cert. */
#include "http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "curlbuf.h"
#include "test.h"

static void handle(void *ctx, const struct http_req *req, struct http_resp *resp)
{
	(void)ctx;
	(void)req;
	resp->status = 200;
	resp->body = strdup("{\"secure\":true}");
	resp->route = "test.tls";
}

static const struct http_handlers handlers = {handle, NULL, NULL, NULL, NULL, NULL};

/* Returns the curl result; fills *status and body. */
static int get(const char *url, const char *cainfo, long *status, struct curlbuf *body)
{
	CURL *c = curl_easy_init();
	int rc;
	curlbuf_clear(body);
	*status = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curlbuf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (cainfo)
		curl_easy_setopt(c, CURLOPT_CAINFO, cainfo);
	rc = (int)curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	return rc;
}

static void base_config(struct config *cfg)
{
	config_defaults(cfg);
	cfg->listen_port = 0;
	cfg->threads = 2;
}

int main(void)
{
	char dir[] = "/tmp/sibyl-test-tls-XXXXXX", cmd[2048], cert[512], key[512], url[128],
	     err[512];
	struct config cfg;
	struct http_server *srv;
	struct curlbuf body = {0};
	long status;
	int port = 0;

	if (system("openssl version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "openssl CLI not found: skipping\n");
		return 77;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
	         "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	         "-keyout '%s' -out '%s' -days 2 -subj /CN=localhost "
	         "-addext subjectAltName=IP:127.0.0.1,DNS:localhost >/dev/null 2>&1",
	         key, cert);
	if (system(cmd) != 0) {
		fprintf(stderr, "openssl could not make a certificate\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);

	base_config(&cfg);
	snprintf(cfg.tls_cert, sizeof(cfg.tls_cert), "%s", cert);
	snprintf(cfg.tls_key, sizeof(cfg.tls_key), "%s", key);
	srv = http_start(&cfg, &handlers, &port, err, sizeof(err));
	if (!srv)
		fprintf(stderr, "http_start: %s\n", err);
	ASSERT_TRUE(srv != NULL);
	if (srv) {
		snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/x", port);
		ASSERT_EQ_INT(get(url, cert, &status, &body), CURLE_OK);
		ASSERT_EQ_INT(status, 200);
		ASSERT_EQ_STR(body.data, "{\"secure\":true}");

		snprintf(url, sizeof(url), "https://127.0.0.1:%d/healthz", port);
		ASSERT_EQ_INT(get(url, cert, &status, &body), CURLE_OK);
		ASSERT_EQ_INT(status, 200);

		/* without the cert as CA, the client refuses the server */
		ASSERT_TRUE(get(url, "/nonexistent-ca.pem", &status, &body) != CURLE_OK);
		/* plain HTTP to the TLS port gets no HTTP answer */
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
		get(url, NULL, &status, &body);
		ASSERT_TRUE(status != 200);
		http_stop(srv);
		curlbuf_free(&body);
	}

	/* clear errors, naming the file */
	base_config(&cfg);
	snprintf(cfg.tls_cert, sizeof(cfg.tls_cert), "%s/missing.pem", dir);
	snprintf(cfg.tls_key, sizeof(cfg.tls_key), "%s", key);
	ASSERT_TRUE(http_start(&cfg, &handlers, &port, err, sizeof(err)) == NULL);
	if (!strstr(err, "missing.pem"))
		TEST_FAIL("error \"%s\" does not name the file", err);
	test_checks++;

	snprintf(cfg.tls_cert, sizeof(cfg.tls_cert), "%s/not-pem", dir);
	snprintf(cmd, sizeof(cmd), "echo hello > '%s/not-pem'", dir);
	ASSERT_EQ_INT(system(cmd), 0);
	ASSERT_TRUE(http_start(&cfg, &handlers, &port, err, sizeof(err)) == NULL);
	if (!strstr(err, "not-pem is not a PEM file"))
		TEST_FAIL("error \"%s\"", err);
	test_checks++;

	/* a certificate with the wrong key: MHD refuses to start */
	snprintf(cfg.tls_cert, sizeof(cfg.tls_cert), "%s", cert);
	snprintf(cfg.tls_key, sizeof(cfg.tls_key), "%s/key2.pem", dir);
	snprintf(cmd, sizeof(cmd),
	         "openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 "
	         "-out '%s/key2.pem' >/dev/null 2>&1",
	         dir);
	ASSERT_EQ_INT(system(cmd), 0);
	srv = http_start(&cfg, &handlers, &port, err, sizeof(err));
	ASSERT_TRUE(srv == NULL);
	if (!strstr(err, "do not match"))
		TEST_FAIL("error \"%s\"", err);
	test_checks++;
	http_stop(srv);

	curl_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_done("tls");
}
