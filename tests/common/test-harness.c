/* The harness against the real sibyld: start on a free port, /healthz and
 * /metrics, authentication with the admin key, kill and restart on the
 * same database, a start that fails with a clear message, the generated
 * admin key, SIGINT, --help and --version. */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test.h"

static int run(const char *args, char *out, size_t cap);

static void expect_in(const char *text, const char *want)
{
	if (!text || !strstr(text, want))
		TEST_FAIL("\"%s\" not found in:\n%s", want, text ? text : "(null)");
	test_checks++;
}

static void test_basic(void)
{
	struct daemon *d = daemon_start(NULL);
	struct reply r;
	char *dump;

	ASSERT_TRUE(d != NULL);
	if (!d)
		return;
	ASSERT_TRUE(d->port > 0);
	ASSERT_TRUE(strncmp(d->ready_line, "sibyld: listening on 127.0.0.1:", 31) == 0);

	ASSERT_EQ_INT(http_call(d, "GET", "/healthz", NULL, "", &r), 0);
	ASSERT_EQ_INT(r.status, 200);
	ASSERT_EQ_STR(json_string_value(json_object_get(r.json, "status")), "ok");
	reply_free(&r);

	ASSERT_EQ_INT(http_call(d, "GET", "/metrics", NULL, "", &r), 0);
	ASSERT_EQ_INT(r.status, 200);
	expect_in(r.body, "sibyl_http_requests_total{route=\"healthz\",code=\"200\"} 1\n");
	expect_in(r.body, "sibyl_suggest_duration_seconds_count");
	reply_free(&r);

	/* /v1 needs the key: a wrong one is UNAUTHENTICATED, the admin's works */
	ASSERT_EQ_INT(http_call(d, "GET", "/v1/owners", NULL, "wrong-key", &r), 0);
	ASSERT_EQ_INT(r.status, 401);
	ASSERT_EQ_STR(reply_status_name(&r), "UNAUTHENTICATED");
	reply_free(&r);
	ASSERT_EQ_INT(http_call(d, "GET", "/v1/owners", NULL, NULL, &r), 0);
	ASSERT_TRUE(r.status != 401 && r.status != 0);
	reply_free(&r);

	dump = db_dump(d->db_path);
	ASSERT_TRUE(dump != NULL);
	expect_in(dump, "table ");
	free(dump);

	/* killed and restarted on the same database */
	int old_port = d->port;
	ASSERT_EQ_INT(daemon_kill(d), 0);
	ASSERT_EQ_INT(d->pid, 0);
	ASSERT_EQ_INT(daemon_restart(d, NULL), 0);
	ASSERT_TRUE(d->pid > 0 && d->port > 0);
	(void)old_port;
	ASSERT_EQ_INT(http_call(d, "GET", "/healthz", NULL, "", &r), 0);
	ASSERT_EQ_INT(r.status, 200);
	reply_free(&r);
	ASSERT_EQ_INT(daemon_stop(d), 0);
}

static void test_bad_start(void)
{
	const char *const args[] = {"--threads", "0", NULL};
	struct daemon_opts o = {.args = args};
	fprintf(stderr, "(a failed start follows, on purpose)\n");
	ASSERT_TRUE(daemon_start(&o) == NULL);
}

static void test_generated_key(void)
{
	struct daemon_opts o = {.no_admin_env = 1};
	struct daemon *d = daemon_start(&o);
	char path[600], key[256] = "";
	struct stat st;
	struct reply r;
	FILE *f;

	ASSERT_TRUE(d != NULL);
	if (!d)
		return;
	snprintf(path, sizeof(path), "%s.admin-key", d->db_path);
	ASSERT_EQ_INT(stat(path, &st), 0);
	ASSERT_EQ_INT(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	if (f) {
		if (!fgets(key, sizeof(key), f))
			key[0] = '\0';
		fclose(f);
	}
	key[strcspn(key, "\n")] = '\0';
	ASSERT_EQ_INT(strlen(key), 64);

	ASSERT_EQ_INT(http_call(d, "GET", "/v1/owners", NULL, key, &r), 0);
	ASSERT_TRUE(r.status != 401 && r.status != 0);
	reply_free(&r);
	ASSERT_EQ_INT(http_call(d, "GET", "/v1/owners", NULL, HARNESS_ADMIN_KEY, &r), 0);
	ASSERT_EQ_INT(r.status, 401);
	reply_free(&r);

	/* --backup copies the live database; the copy reads the same */
	char cmd_args[1400], out[4096], backup[700];
	snprintf(backup, sizeof(backup), "%s/backup.db", d->dir);
	snprintf(cmd_args, sizeof(cmd_args), "--db '%s' --backup '%s'", d->db_path, backup);
	ASSERT_EQ_INT(run(cmd_args, out, sizeof(out)), 0);
	expect_in(out, "written to");
	char *a = db_dump(d->db_path), *b = db_dump(backup);
	ASSERT_TRUE(a && b && strcmp(a, b) == 0);
	free(a);
	free(b);

	/* SIGINT stops it as cleanly as SIGTERM */
	ASSERT_EQ_INT(kill(d->pid, SIGINT), 0);
	ASSERT_EQ_INT(daemon_stop(d), 0);
}

static void test_env_limit(void)
{
	/* a setting from the environment reaches the HTTP layer */
	const char *const env[] = {"SIBYL_MAX_BODY_BYTES=2048", NULL};
	struct daemon_opts o = {.env = env};
	struct daemon *d = daemon_start(&o);
	static char body[3000];
	struct reply r;

	ASSERT_TRUE(d != NULL);
	if (!d)
		return;
	memset(body, ' ', sizeof(body) - 1);
	ASSERT_EQ_INT(http_call(d, "POST", "/v1/owners", body, NULL, &r), 0);
	ASSERT_EQ_INT(r.status, 413);
	ASSERT_EQ_STR(reply_status_name(&r), "INVALID_ARGUMENT");
	expect_in(reply_message(&r), "max_body_bytes (2048 bytes)");
	reply_free(&r);
	ASSERT_EQ_INT(http_call(d, "GET", "/metrics", NULL, "", &r), 0);
	expect_in(r.body,
	          "sibyl_http_requests_total{route=\"http.body_too_large\",code=\"413\"} 1\n");
	reply_free(&r);
	ASSERT_EQ_INT(daemon_stop(d), 0);
}

/* A client whose upload stalls until released: its request is in flight
 * when SIGTERM comes, and must still get its answer. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started, released, sent;
	long status;
	const struct daemon *d;
} slow = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL};

static size_t slow_read(char *buf, size_t sz, size_t n, void *ud)
{
	(void)ud;
	(void)sz;
	(void)n;
	pthread_mutex_lock(&slow.mu);
	slow.started = 1;
	pthread_cond_broadcast(&slow.cv);
	while (!slow.released)
		pthread_cond_wait(&slow.cv, &slow.mu);
	int sent = slow.sent;
	slow.sent = 1;
	pthread_mutex_unlock(&slow.mu);
	if (sent)
		return 0;
	memcpy(buf, "{}", 2);
	return 2;
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

static void *slow_client(void *arg)
{
	char url[128], auth[128];
	struct curl_slist *hs = NULL;
	CURL *c = curl_easy_init();
	(void)arg;
	snprintf(url, sizeof(url), "%s/v1/owners", slow.d->url);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", HARNESS_ADMIN_KEY);
	/* The 100 Continue comes once sibyld has read the headers, so the
	 * first read callback means the request is in flight. */
	hs = curl_slist_append(hs, "Expect: 100-continue");
	hs = curl_slist_append(hs, "Transfer-Encoding: chunked");
	hs = curl_slist_append(hs, "Content-Type: application/json");
	hs = curl_slist_append(hs, auth);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, slow_read);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 120000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 180L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &slow.status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hs);
	return NULL;
}

static int refused(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc, e;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	e = errno;
	close(fd);
	return rc != 0 && e == ECONNREFUSED;
}

static void test_drain(void)
{
	struct daemon *d = daemon_start(NULL);
	pthread_t th;
	int tries = 0;

	ASSERT_TRUE(d != NULL);
	if (!d)
		return;
	slow.d = d;
	pthread_create(&th, NULL, slow_client, NULL);
	pthread_mutex_lock(&slow.mu);
	while (!slow.started)
		pthread_cond_wait(&slow.cv, &slow.mu);
	pthread_mutex_unlock(&slow.mu);

	ASSERT_EQ_INT(kill(d->pid, SIGTERM), 0);
	/* it stops accepting at once ... */
	while (!refused(d->port) && tries++ < 4000)
		usleep(5000);
	ASSERT_TRUE(refused(d->port));
	/* ... but answers the request in flight */
	pthread_mutex_lock(&slow.mu);
	slow.released = 1;
	pthread_cond_broadcast(&slow.cv);
	pthread_mutex_unlock(&slow.mu);
	pthread_join(th, NULL);
	/* answered by the API (whatever it says about "{}"), not cut off (0)
	 * and not refused by the drain (503) */
	if (slow.status < 200 || slow.status == 503)
		TEST_FAIL("the request in flight got %ld", slow.status);
	test_checks++;
	ASSERT_EQ_INT(daemon_stop(d), 0);
}

static int run(const char *args, char *out, size_t cap)
{
	char cmd[1024];
	size_t n;
	FILE *p;
	snprintf(cmd, sizeof(cmd), "'%s' %s 2>&1", getenv("SIBYLD"), args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void)
{
	static char out[16384];
	ASSERT_EQ_INT(run("--help", out, sizeof(out)), 0);
	expect_in(out, "--max-body-bytes");
	expect_in(out, "SIBYL_SHUTDOWN_TIMEOUT_MS");
	ASSERT_EQ_INT(run("--version", out, sizeof(out)), 0);
	expect_in(out, "sibyld ");
	ASSERT_EQ_INT(run("--threads 0", out, sizeof(out)), 2);
	expect_in(out, "sibyld: --threads: threads = \"0\": out of range [1, 256]");
	ASSERT_EQ_INT(run("--admin-key-file /nonexistent/key --db /tmp/x.db", out, sizeof(out)), 2);
	expect_in(out, "admin key file /nonexistent/key does not exist");
}

int main(void)
{
	if (!getenv("SIBYLD")) {
		fprintf(stderr, "SIBYLD not set: skipping\n");
		return 77;
	}
	test_basic();
	test_bad_start();
	test_generated_key();
	test_env_limit();
	test_drain();
	test_cli();
	return test_done("harness");
}
