/* libsibyl against sibyld over TLS with a self-signed certificate (made
 * with the openssl CLI): SIBYL_CA_FILE makes the client trust it; without
 * it the call fails at once with the certificate's error instead of
 * waiting out the retry window (the answer would be the same every time). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sibyl/sibyl.h>

#include "harness.h"
#include "test.h"

static int waits;

static int count_waits(const struct sibyl_wait *w, void *ud)
{
	(void)w;
	(void)ud;
	waits++;
	return 0;
}

static void test_untrusted(const char *url)
{
	unsetenv("SIBYL_CA_FILE");
	struct sibyl_client *c = sibyl_client_new(url, HARNESS_ADMIN_KEY);
	ASSERT_TRUE(c != NULL);
	if (!c)
		return;
	sibyl_client_set_retry_window(c, 30);
	sibyl_client_set_wait_hook(c, count_waits, NULL);
	struct sibyl_owner *o = NULL;
	waits = 0;
	ASSERT_TRUE(sibyl_owner_get(c, "nobody", &o) < 0);
	ASSERT_EQ_INT(sibyl_errcode(c), SIBYL_ECONNECT);
	ASSERT_TRUE(strstr(sibyl_errmsg(c), "certificate") != NULL ||
	            strstr(sibyl_errmsg(c), "SSL") != NULL);
	ASSERT_EQ_INT(waits, 0); /* refused at once, no waiting */
	sibyl_client_free(c);
}

static void test_trusted(const char *url, const char *cert)
{
	setenv("SIBYL_CA_FILE", cert, 1);
	struct sibyl_client *c = sibyl_client_new(url, HARNESS_ADMIN_KEY);
	unsetenv("SIBYL_CA_FILE");
	ASSERT_TRUE(c != NULL);
	if (!c)
		return;
	struct sibyl_owner *o = NULL;
	ASSERT_EQ_INT(sibyl_owner_create(c, "tls", NULL, &o), 0);
	sibyl_owner_free(o);
	o = NULL;
	ASSERT_EQ_INT(sibyl_owner_get(c, "tls", &o), 0);
	sibyl_owner_free(o);
	sibyl_client_free(c);
}

int main(void)
{
	char dir[] = "/tmp/sibyl-test-ctls-XXXXXX", cmd[1536], cert[256], key[256], url[128];
	if (system("openssl version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "openssl CLI not found: skipping\n");
		return 77;
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
	         "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	         "-keyout '%s' -out '%s' -days 2 -subj /CN=localhost "
	         "-addext subjectAltName=IP:127.0.0.1,DNS:localhost >/dev/null 2>&1",
	         key, cert);
	ASSERT_EQ_INT(system(cmd), 0);
	const char *args[] = {"--tls-cert", cert, "--tls-key", key, NULL};
	struct daemon_opts opts = {.args = args};
	struct daemon *d = daemon_start(&opts);
	ASSERT_TRUE(d != NULL);
	if (d) {
		snprintf(url, sizeof(url), "https://127.0.0.1:%d", d->port);
		test_untrusted(url);
		test_trusted(url, cert);
		ASSERT_EQ_INT(daemon_stop(d), 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_done("test-tls");
}
