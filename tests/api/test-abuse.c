/* Abuse of the HTTP front (issue 11, items 1, 2, 4 and 11), each against
 * the real daemon on loopback with small limits, bounded in count and
 * time: slow senders are cut off and shed so that /healthz still answers;
 * bodies are refused before they are read and held in bounded memory; one
 * key's requests and unsent answers are capped while other keys and the
 * health check are served; and an escaped colon does not move a suggest
 * out of its pool. The full numbers are bench/abuse.py's. */
#include <signal.h>

#include "apitest.h"
#include "rawhttp.h"

#define SLOW_HEAD "GET /healthz HTTP/1.1\r\nHost: x\r\n" /* never finished */

/* The value of one series of /metrics (its full name with labels); -1 when
 * absent. */
static double metric(struct daemon *d, const char *series)
{
	struct reply r;
	double v = -1;
	if (http_call(d, "GET", "/metrics", NULL, "", &r) == 0 && r.body) {
		size_t n = strlen(series);
		for (const char *p = r.body; p && *p;
		     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
			if (strncmp(p, series, n) == 0 && p[n] == ' ')
				v = strtod(p + n + 1, NULL);
		}
	}
	reply_free(&r);
	return v;
}

static long status_of(struct daemon *d, const char *method, const char *path, const char *key,
                      const char *body, struct reply *out)
{
	struct reply r;
	long st = http_call(d, method, path, body, key, &r) == 0 ? r.status : 0;
	if (out)
		*out = r;
	else
		reply_free(&r);
	return st;
}

/* Every 500 ms one more header line on each connection, for ms: never
 * idle, never done. */
static void trickle(const int *fds, int n, int ms)
{
	double end = raw_now_ms() + ms;
	while (raw_now_ms() < end) {
		for (int i = 0; i < n; i++) {
			if (fds[i] >= 0)
				(void)raw_sends(fds[i], "X-Slow: 1\r\n");
		}
		usleep(500 * 1000);
	}
}

static void test_connections(void)
{
	static const char *const args[] = {"--request-timeout-s",
	                                   "5",
	                                   "--max-connections",
	                                   "64",
	                                   "--connection-headroom",
	                                   "16",
	                                   "--max-connections-per-address",
	                                   "40",
	                                   NULL};
	struct daemon_opts o = {.args = args};
	struct daemon *d = daemon_start(&o);
	int fds[70], n = 0, closed = 0;
	if (!d)
		return;
	/* 70 slow senders from two addresses: more than the 64 slots. */
	for (int i = 0; i < 70; i++) {
		int fd = raw_connect_from(i % 2 ? "127.0.0.2" : "127.0.0.3", d->port, 0);
		if (fd >= 0)
			(void)raw_sends(fd, SLOW_HEAD);
		fds[n++] = fd;
	}
	trickle(fds, n, 1500);
	/* Past the 1 s grace the slowest were shed down to the headroom (a
	 * probe may come before the reaper's round on a loaded machine: a few
	 * tries, all well before the 5 s deadline). */
	for (int i = 0; i < 5; i++) {
		long st = 0;
		for (int t = 0; t < 5 && st != 200; t++) {
			st = status_of(d, "GET", "/healthz", "", NULL, NULL);
			if (st != 200)
				usleep(200 * 1000);
		}
		ASSERT_EQ_INT(st, 200);
	}
	ASSERT_TRUE(metric(d, "sibyl_http_connections_shed_total{reason=\"headroom\"}") >= 1);
	/* The rest miss the 5 s deadline although never idle. */
	trickle(fds, n, 4500);
	for (int i = 0; i < n; i++) {
		if (fds[i] < 0 || raw_closed(fds[i], 2000))
			closed++;
		if (fds[i] >= 0)
			close(fds[i]);
	}
	ASSERT_EQ_INT(closed, n);
	ASSERT_TRUE(metric(d, "sibyl_http_connections_shed_total{reason=\"deadline\"}") >= 1);
	/* One address gets 40 connections; the 5 more are closed at once. */
	closed = 0;
	for (int i = 0; i < 45; i++)
		fds[i] = raw_connect_from("127.0.0.4", d->port, 0);
	usleep(300 * 1000); /* well within the deadline and the grace */
	for (int i = 0; i < 45; i++) {
		if (fds[i] < 0 || raw_closed(fds[i], 0))
			closed++;
	}
	ASSERT_EQ_INT(closed, 5);
	ASSERT_EQ_INT(status_of(d, "GET", "/healthz", "", NULL, NULL), 200);
	for (int i = 0; i < 45; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
	}
	ASSERT_EQ_INT(daemon_stop(d), 0);
}

/* POST headers announcing a body of len bytes, then part bytes of it. */
static int start_post(int port, const char *path, const char *key, size_t len, size_t part)
{
	char head[512];
	int fd = raw_connect(port);
	struct timeval tv = {2, 0};
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	snprintf(head, sizeof(head),
	         "POST %s HTTP/1.1\r\nHost: x\r\n%s%s%sContent-Length: %zu\r\n\r\n", path,
	         key ? "Authorization: Bearer " : "", key ? key : "", key ? "\r\n" : "", len);
	(void)raw_sends(fd, head);
	if (part) {
		char *b = malloc(part);
		if (b) {
			memset(b, ' ', part);
			(void)raw_send(fd, b, part);
			free(b);
		}
	}
	return fd;
}

static void test_bodies(void)
{
	static const char *const args[] = {"--max-body-memory", "2200000",
	                                   "--auth-failures-per-second", "0", NULL};
	struct daemon_opts o = {.args = args};
	struct daemon *d = daemon_start(&o);
	char buf[8192];
	const char *body;
	int early = 0;
	if (!d)
		return;
	create_owner(d, "t");
	long rss0 = raw_rss_kb(d->pid);
	/* 100 callers without a key, each 512 kB into a 1 MB body. */
	for (int i = 0; i < 100; i++) {
		int fd = start_post(d->port, "/v1/owners/t/studies", NULL, 1000000, 512 * 1024);
		int st = fd >= 0 ? raw_answer(fd, buf, sizeof(buf), 5000, &body) : 0;
		if (st == 401 && strstr(body, "UNAUTHENTICATED") && strstr(body, "\"message\""))
			early++;
		if (fd >= 0)
			close(fd);
	}
	long rss1 = raw_rss_kb(d->pid);
	fprintf(stderr, "100 unauthenticated 1 MB bodies: 401 for %d, RSS %ld -> %ld kB\n", early,
	        rss0, rss1);
	ASSERT_EQ_INT(early, 100);
	ASSERT_TRUE(rss0 > 0 && rss1 - rss0 < 16 * 1024);

	/* With a key: two 1 MB bodies in flight fill max_body_memory, the
	 * third is refused before its body is read. */
	const char *k = HARNESS_ADMIN_KEY;
	int a = start_post(d->port, "/v1/owners/t/studies", k, 1000000, 10);
	int b = start_post(d->port, "/v1/owners/t/studies", k, 1000000, 10);
	ASSERT_EQ_INT(raw_answer(a, buf, sizeof(buf), 300, &body), 0);
	ASSERT_EQ_INT(raw_answer(b, buf, sizeof(buf), 300, &body), 0);
	int c = start_post(d->port, "/v1/owners/t/studies", k, 1000000, 10);
	ASSERT_EQ_INT(raw_answer(c, buf, sizeof(buf), 5000, &body), 503);
	EXPECT_IN(buf, "Retry-After: 1");
	EXPECT_IN(body, "max_body_memory");
	EXPECT_IN(body, "UNAVAILABLE");
	close(c);
	/* The first body finished: answered (not valid: a 400), its memory
	 * given back, and a new body gets in. */
	char *rest = malloc(1000000);
	ASSERT_TRUE(rest != NULL);
	if (rest) {
		memset(rest, ' ', 1000000);
		rest[0] = '{';
		rest[1] = '}';
		ASSERT_EQ_INT(raw_send(a, rest, 1000000 - 10), 0);
		free(rest);
	}
	ASSERT_EQ_INT(raw_answer(a, buf, sizeof(buf), 10000, &body), 400);
	close(a);
	int ok = 0;
	for (int tries = 0; tries < 30 && !ok; tries++) {
		c = start_post(d->port, "/v1/owners/t/studies", k, 1000000, 10);
		ok = raw_answer(c, buf, sizeof(buf), 100, &body) == 0;
		close(c);
	}
	ASSERT_TRUE(ok);
	close(b);
	ASSERT_EQ_INT(status_of(d, "GET", "/healthz", "", NULL, NULL), 200);
	ASSERT_EQ_INT(daemon_stop(d), 0);
}

/* A key of owner t (apitest.h's make_key), its secret into out. */
static void key_of_t(struct daemon *d, const char *role, char *out, size_t cap)
{
	struct key k;
	make_key(d, "t", role, &k);
	snprintf(out, cap, "%s", k.key);
}

/* A study of 100 parameters with n SUCCEEDED trials: a page of 1000 is
 * about 5 MB, more than loopback's socket buffers hold. */
static void big_study(struct daemon *d, int n)
{
	size_t cap = 16384, o;
	char *b = malloc(cap);
	if (!b)
		return;
	o = (size_t)snprintf(
	    b, cap,
	    "{\"displayName\":\"big\",\"studySpec\":{\"algorithm\":\"RANDOM_SEARCH\","
	    "\"metrics\":[{\"metricId\":\"acc\",\"goal\":\"MAXIMIZE\"}],"
	    "\"parameters\":[");
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(b + o, cap - o,
		                      "%s{\"parameterId\":\"parameter_%d\",\"doubleValueSpec\":{"
		                      "\"minValue\":0,\"maxValue\":1}}",
		                      i ? "," : "", i);
	snprintf(b + o, cap - o, "]}}");
	CALL_OK(d, "POST", "/v1/owners/t/studies", b);
	o = (size_t)snprintf(b, cap, "{\"state\":\"SUCCEEDED\",\"parameters\":[");
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(b + o, cap - o,
		                      "%s{\"parameterId\":\"parameter_%d\",\"value\":%.15f}",
		                      i ? "," : "", i, 0.00123456789 * i);
	snprintf(b + o, cap - o,
	         "],\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.5}]}}");
	for (int i = 0; i < n; i++)
		CALL_OK(d, "POST", "/v1/owners/t/studies/big/trials", b);
	free(b);
}

/* Polls until key's GET is answered 200 (its slots given back). */
static int served_again(struct daemon *d, const char *key)
{
	for (int i = 0; i < 50; i++) {
		if (status_of(d, "GET", "/v1/owners/t/studies/s", key, NULL, NULL) == 200)
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}

static void test_key_in_flight(struct daemon *d, const char *wa, const char *wb)
{
	int held[3];
	char buf[4096];
	const char *body;
	struct reply r;
	/* Key A: three requests admitted, their bodies unfinished. */
	for (int i = 0; i < 3; i++) {
		held[i] = start_post(d->port, "/v1/owners/t/studies/s/trials", wa, 100, 10);
		ASSERT_EQ_INT(raw_answer(held[i], buf, sizeof(buf), 300, &body), 0);
	}
	/* A fourth is refused; key B and the health check are served. */
	ASSERT_EQ_INT(status_of(d, "GET", "/v1/owners/t/studies/s", wa, NULL, &r), 429);
	ASSERT_EQ_STR(reply_status_name(&r), "RESOURCE_EXHAUSTED");
	ASSERT_EQ_STR(r.retry_after, "1");
	EXPECT_IN(reply_message(&r), "max_requests_per_key");
	reply_free(&r);
	ASSERT_EQ_INT(status_of(d, "GET", "/v1/owners/t/studies/s", wb, NULL, NULL), 200);
	ASSERT_EQ_INT(status_of(d, "GET", "/healthz", "", NULL, NULL), 200);
	for (int i = 0; i < 3; i++)
		close(held[i]);
	ASSERT_TRUE(served_again(d, wa));
}

static void test_key_big_answers(struct daemon *d, const char *ra, const char *wb)
{
	enum { N = 6 };
	int fds[N], ok = 0, refused = 0;
	static char buf[8 << 20];
	const char *body;
	struct reply r;
	for (int i = 0; i < N; i++) {
		fds[i] = raw_connect_from(NULL, d->port, 4096);
		char req[512];
		snprintf(req, sizeof(req),
		         "GET /v1/owners/t/studies/big/trials?pageSize=1000 HTTP/1.1\r\nHost: x\r\n"
		         "Authorization: Bearer %s\r\n\r\n",
		         ra);
		ASSERT_EQ_INT(raw_sends(fds[i], req), 0);
	}
	/* Until key R's first answer is out, its next request is refused:
	 * its answers are in flight. Meanwhile key B completes a trial and
	 * the health check answers. */
	int busy = 0;
	for (int i = 0; i < 100 && !busy; i++) {
		busy = status_of(d, "GET", "/v1/owners/t/studies/s", ra, NULL, &r) == 429;
		if (busy)
			ASSERT_EQ_STR(r.retry_after, "1");
		reply_free(&r);
		if (!busy)
			usleep(20 * 1000);
	}
	ASSERT_TRUE(busy);
	json_t *op = suggest(d, "s", 1, "w-b", 200);
	(void)op;
	json_decref(op);
	struct reply c;
	ASSERT_EQ_INT(status_of(d, "POST", "/v1/owners/t/studies/s/trials/1:complete", wb,
	                        "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\","
	                        "\"value\":0.5}]}}",
	                        &c),
	              200);
	reply_free(&c);
	ASSERT_EQ_INT(status_of(d, "GET", "/healthz", "", NULL, NULL), 200);
	/* Still in flight after all that: R is still refused. */
	ASSERT_EQ_INT(status_of(d, "GET", "/v1/owners/t/studies/s", ra, NULL, NULL), 429);
	for (int i = 0; i < N; i++) {
		int st = raw_answer(fds[i], buf, sizeof(buf), 30000, &body);
		if (st == 200 && strstr(body, "\"trials\""))
			ok++;
		else if (st == 429 && strstr(buf, "Retry-After: 1"))
			refused++;
		else
			TEST_FAIL("big list %d: status %d", i, st);
		close(fds[i]);
	}
	fprintf(stderr, "%d big lists of one key: %d answered, %d refused\n", N, ok, refused);
	ASSERT_TRUE(ok >= 1 && ok <= 3);
	ASSERT_EQ_INT(ok + refused, N);
	ASSERT_TRUE(served_again(d, ra));
}

/* The suggest pool is chosen by the router: an escaped colon is the same
 * route and goes to the same pool. */
static void test_suggest_pool(struct daemon *d)
{
	const char *g = "sibyl_http_pool_jobs_total{pool=\"general\"}";
	const char *sg = "sibyl_http_pool_jobs_total{pool=\"suggest\"}";
	const char *paths[] = {"/v1/owners/t/studies/s/trials%3Asuggest",
	                       "/v1/owners/t/studies/s/trials%3asuggest",
	                       "/v1/owners/t/studies/s/trials:suggest"};
	for (int i = 0; i < 3; i++) {
		double g0 = metric(d, g), s0 = metric(d, sg);
		struct reply r;
		ASSERT_EQ_INT(status_of(d, "POST", paths[i], NULL,
		                        "{\"suggestionCount\":1,\"clientId\":\"w-pool\"}", &r),
		              200);
		reply_free(&r);
		ASSERT_EQ_INT(metric(d, sg) - s0, 1);
		ASSERT_EQ_INT(metric(d, g) - g0, 0);
	}
}

static void test_keys(void)
{
	static const char *const args[] = {
	    "--threads", "2", "--max-requests-per-key", "3", "--max-answer-bytes-per-key",
	    "1048576",   NULL};
	struct daemon_opts o = {.args = args};
	struct daemon *d = daemon_start(&o);
	char wa[128], wb[128], ra[128];
	if (!d)
		return;
	create_owner(d, "t");
	key_of_t(d, "WRITER", wa, sizeof(wa));
	key_of_t(d, "WRITER", wb, sizeof(wb));
	key_of_t(d, "READER", ra, sizeof(ra));
	create_study(d, "s", SPEC_RANDOM);
	big_study(d, 1000);
	test_key_in_flight(d, wa, wb);
	test_key_big_answers(d, ra, wb);
	test_suggest_pool(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_connections();
	test_bodies();
	test_keys();
	return test_done("test-abuse");
}
