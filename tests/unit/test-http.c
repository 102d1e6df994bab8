/* http: an in-process http_start() with this file's own handler table,
 * driven over real HTTP with libcurl. */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "metrics.h"
#include "test.h"

/* ---- the test handler ---- */

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int calls;
	int barrier_in;   /* requests inside /barrier */
	int barrier_need; /* how many must be inside at once */
	int slow_entered, slow_release;
	int unhealthy;
	int gate_in, gate_release; /* /gate: inside; how many may leave */
	char order[16];            /* first letter of each caller, in handling order */
} T = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 0, 0, 0, 0, ""};

static void deadline_in(struct timespec *ts, int seconds)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += seconds;
}

static void handle(void *ctx, const struct http_req *req, struct http_resp *resp)
{
	struct timespec dl;
	(void)ctx;
	pthread_mutex_lock(&T.mu);
	T.calls++;
	pthread_mutex_unlock(&T.mu);

	if (strcmp(req->path, "/barrier") == 0) {
		/* Answers 200 only if barrier_need requests are in here at the
		 * same time; the deadline only guards against a hang. */
		int ok = 1;
		deadline_in(&dl, 30);
		pthread_mutex_lock(&T.mu);
		T.barrier_in++;
		pthread_cond_broadcast(&T.cv);
		while (T.barrier_in < T.barrier_need && ok)
			ok = pthread_cond_timedwait(&T.cv, &T.mu, &dl) != ETIMEDOUT;
		pthread_mutex_unlock(&T.mu);
		resp->status = ok ? 200 : 500;
		resp->body = strdup("{}");
		resp->route = "test.barrier";
		return;
	}
	if (strcmp(req->path, "/slow") == 0) {
		deadline_in(&dl, 60);
		pthread_mutex_lock(&T.mu);
		T.slow_entered = 1;
		pthread_cond_broadcast(&T.cv);
		while (!T.slow_release && pthread_cond_timedwait(&T.cv, &T.mu, &dl) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&T.mu);
		resp->status = 200;
		resp->body = strdup("{\"slow\":\"done\"}");
		resp->route = "test.slow";
		return;
	}
	if (strcmp(req->path, "/gate") == 0 || strcmp(req->path, "/fast") == 0) {
		/* Notes who came in (Bearer a / Bearer b); /gate then waits
		 * until one gate_release lets it go. */
		int gate = req->path[1] == 'g';
		deadline_in(&dl, 60);
		pthread_mutex_lock(&T.mu);
		size_t n = strlen(T.order);
		if (n + 1 < sizeof(T.order))
			T.order[n] = req->authorization ? req->authorization[7] : '-';
		if (gate) {
			T.gate_in++;
			pthread_cond_broadcast(&T.cv);
			while (!T.gate_release &&
			       pthread_cond_timedwait(&T.cv, &T.mu, &dl) != ETIMEDOUT)
				;
			if (T.gate_release)
				T.gate_release--;
		}
		pthread_mutex_unlock(&T.mu);
		resp->status = 200;
		resp->body = strdup("{}");
		resp->route = "test.gate";
		return;
	}
	if (strcmp(req->path, "/retry") == 0) {
		resp->status = 429;
		resp->body = strdup("{\"error\":{\"code\":429,\"message\":\"slow down\","
		                    "\"status\":\"RESOURCE_EXHAUSTED\"}}");
		resp->retry_after = 7;
		resp->route = "test.retry";
		return;
	}
	if (strcmp(req->path, "/badstatus") == 0) {
		resp->route = "test.bad"; /* status left 0: a handler bug */
		return;
	}
	json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s?,s:s,s:s%}", "method", req->method, "path",
	                      req->path, "query", req->query, "body_len", (json_int_t)req->body_len,
	                      "auth", req->authorization, "client", req->client_addr, "body",
	                      req->body, req->body_len);
	resp->status = 200;
	resp->body = json_dumps(o, JSON_COMPACT);
	resp->route = "test.echo";
	json_decref(o);
}

static int healthy(void *ctx, char *why, size_t cap)
{
	snprintf(why, cap, "not ready: told so by the test");
	(void)ctx;
	return __atomic_load_n(&T.unhealthy, __ATOMIC_SEQ_CST) ? -1 : 0;
}

static size_t gauges(void *ctx, char *buf, size_t cap)
{
	(void)ctx;
	int n = snprintf(buf, cap, "# TYPE test_gauge gauge\ntest_gauge 42\n");
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static const struct http_handlers handlers = {handle, healthy, gauges, NULL, NULL, NULL};

static int calls(void)
{
	pthread_mutex_lock(&T.mu);
	int n = T.calls;
	pthread_mutex_unlock(&T.mu);
	return n;
}

/* ---- a small libcurl client ---- */

struct reply {
	long status;
	char body[65536];
	size_t len;
	char retry_after[32];
	char content_type[128];
	int curl_rc;
};

struct upload {
	size_t left;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t k = sz * n;
	if (k > sizeof(r->body) - 1 - r->len)
		k = sizeof(r->body) - 1 - r->len;
	memcpy(r->body + r->len, p, k);
	r->len += k;
	r->body[r->len] = '\0';
	return sz * n;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(line, name, nl) != 0)
		return;
	line += nl;
	len -= nl;
	while (len && (*line == ' ')) {
		line++;
		len--;
	}
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= cap)
		len = cap - 1;
	memcpy(out, line, len);
	out[len] = '\0';
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct reply *r = ud;
	header_value(p, sz * n, "Retry-After:", r->retry_after, sizeof(r->retry_after));
	header_value(p, sz * n, "Content-Type:", r->content_type, sizeof(r->content_type));
	return sz * n;
}

static size_t on_read(char *p, size_t sz, size_t n, void *ud)
{
	struct upload *u = ud;
	size_t k = sz * n < u->left ? sz * n : u->left;
	memset(p, 'c', k);
	u->left -= k;
	return k;
}

static const char *scheme = "http";
static const char *cainfo;

/* chunked > 0: send that many bytes with Transfer-Encoding: chunked. */
static void call(int port, const char *method, const char *target, const char *body,
                 size_t body_len, size_t chunked, const char *auth, struct reply *r)
{
	char url[1024], h[256];
	struct curl_slist *hs = NULL;
	struct upload up = {chunked};
	CURL *c = curl_easy_init();

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", scheme, port, target);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (cainfo)
		curl_easy_setopt(c, CURLOPT_CAINFO, cainfo);
	if (strstr(target, "noexpect"))
		hs = curl_slist_append(hs, "Expect:");
	if (auth) {
		snprintf(h, sizeof(h), "Authorization: %s", auth);
		hs = curl_slist_append(hs, h);
	}
	if (chunked) {
		hs = curl_slist_append(hs, "Transfer-Encoding: chunked");
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
	} else if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
	r->curl_rc = (int)curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hs);
}

static json_t *parse(const struct reply *r)
{
	json_t *j = json_loads(r->body, JSON_ALLOW_NUL, NULL);
	if (!j)
		TEST_FAIL("not JSON: \"%s\"", r->body);
	return j;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "(missing)";
}

/* The API.md error envelope with this code and status name. */
static void expect_envelope(const struct reply *r, int code, const char *status,
                            const char *in_message)
{
	json_t *j = parse(r), *e = json_object_get(j, "error");
	ASSERT_TRUE(json_is_object(e));
	ASSERT_EQ_INT(json_integer_value(json_object_get(e, "code")), code);
	ASSERT_EQ_STR(jstr(e, "status"), status);
	if (in_message && !strstr(jstr(e, "message"), in_message))
		TEST_FAIL("message \"%s\" lacks \"%s\"", jstr(e, "message"), in_message);
	test_checks++;
	json_decref(j);
}

static void test_config(struct config *cfg, int threads)
{
	config_defaults(cfg);
	snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
	cfg->listen_port = 0;
	cfg->threads = threads;
	cfg->max_body_bytes = 1024;
	cfg->shutdown_timeout_ms = 30000;
}

/* ---- tests ---- */

static void test_echo_raw_path(int port)
{
	struct reply r;
	json_t *j;
	call(
	    port, "GET",
	    "/v1/owners/a%2Fb/studies/x%20y:lookup?filter=state%3DSUCCEEDED&q=a+b&e=&pageToken=%2B",
	    NULL, 0, 0, "Bearer k1", &r);
	ASSERT_EQ_INT(r.status, 200);
	ASSERT_TRUE(strncmp(r.content_type, "application/json", 16) == 0);
	j = parse(&r);
	ASSERT_EQ_STR(jstr(j, "method"), "GET");
	ASSERT_EQ_STR(jstr(j, "path"), "/v1/owners/a%2Fb/studies/x%20y:lookup");
	ASSERT_EQ_STR(jstr(j, "query"), "filter=state%3DSUCCEEDED&q=a+b&e=&pageToken=%2B");
	ASSERT_EQ_STR(jstr(j, "auth"), "Bearer k1");
	ASSERT_EQ_STR(jstr(j, "client"), "127.0.0.1");
	json_decref(j);

	call(port, "DELETE", "/plain", NULL, 0, 0, NULL, &r);
	ASSERT_EQ_INT(r.status, 200);
	j = parse(&r);
	ASSERT_EQ_STR(jstr(j, "method"), "DELETE");
	ASSERT_EQ_STR(jstr(j, "query"), "");
	ASSERT_TRUE(json_is_null(json_object_get(j, "auth")) || !json_object_get(j, "auth"));
	json_decref(j);

	/* an empty query after '?' and a body with a NUL byte in it */
	call(port, "POST", "/p?", "a\0b", 3, 0, NULL, &r);
	ASSERT_EQ_INT(r.status, 200);
	j = parse(&r);
	ASSERT_EQ_STR(jstr(j, "query"), "");
	ASSERT_EQ_INT(json_integer_value(json_object_get(j, "body_len")), 3);
	ASSERT_EQ_INT(json_string_length(json_object_get(j, "body")), 3);
	json_decref(j);
}

static void test_body_limit(int port)
{
	static char big[5000];
	struct reply r;
	json_t *j;
	int before;

	memset(big, 'b', sizeof(big));
	call(port, "POST", "/body", big, 1024, 0, NULL, &r);
	ASSERT_EQ_INT(r.status, 200);
	j = parse(&r);
	ASSERT_EQ_INT(json_integer_value(json_object_get(j, "body_len")), 1024);
	json_decref(j);

	before = calls();
	call(port, "POST", "/body", big, 1025, 0, NULL, &r);
	ASSERT_EQ_INT(r.status, 413);
	expect_envelope(&r, 413, "INVALID_ARGUMENT", "max_body_bytes (1024 bytes)");
	ASSERT_EQ_INT(calls(), before); /* the handler never saw it */

	/* a client that does not wait for 100 Continue sends the body anyway */
	call(port, "POST", "/body-noexpect", big, sizeof(big), 0, NULL, &r);
	ASSERT_EQ_INT(r.status, 413);
	expect_envelope(&r, 413, "INVALID_ARGUMENT", "max_body_bytes");
	ASSERT_EQ_INT(calls(), before);

	/* without Content-Length the limit holds too */
	call(port, "POST", "/body", NULL, 0, 5000, NULL, &r);
	ASSERT_EQ_INT(r.status, 413);
	expect_envelope(&r, 413, "INVALID_ARGUMENT", "max_body_bytes");
	ASSERT_EQ_INT(calls(), before);

	call(port, "POST", "/body", NULL, 0, 1000, NULL, &r);
	ASSERT_EQ_INT(r.status, 200);
	j = parse(&r);
	ASSERT_EQ_INT(json_integer_value(json_object_get(j, "body_len")), 1000);
	json_decref(j);
	ASSERT_EQ_INT(calls(), before + 1);
}

static void test_service_endpoints(int port)
{
	struct reply r;
	json_t *j;
	int before = calls();

	call(port, "GET", "/healthz", NULL, 0, 0, NULL, &r);
	ASSERT_EQ_INT(r.status, 200);
	j = parse(&r);
	ASSERT_EQ_STR(jstr(j, "status"), "ok");
	json_decref(j);

	__atomic_store_n(&T.unhealthy, 1, __ATOMIC_SEQ_CST);
	call(port, "GET", "/healthz", NULL, 0, 0, NULL, &r);
	__atomic_store_n(&T.unhealthy, 0, __ATOMIC_SEQ_CST);
	ASSERT_EQ_INT(r.status, 503);
	expect_envelope(&r, 503, "UNAVAILABLE", "not ready: told so by the test");
	ASSERT_EQ_INT(calls(), before); /* served without the handler */

	call(port, "GET", "/retry", NULL, 0, 0, NULL, &r);
	ASSERT_EQ_INT(r.status, 429);
	ASSERT_EQ_STR(r.retry_after, "7");
	call(port, "GET", "/plain", NULL, 0, 0, NULL, &r);
	ASSERT_EQ_STR(r.retry_after, ""); /* only when asked for */

	call(port, "GET", "/badstatus", NULL, 0, 0, NULL, &r);
	ASSERT_EQ_INT(r.status, 500);
	expect_envelope(&r, 500, "INTERNAL", NULL);

	call(port, "GET", "/metrics", NULL, 0, 0, NULL, &r);
	ASSERT_EQ_INT(r.status, 200);
	ASSERT_TRUE(strncmp(r.content_type, "text/plain; version=0.0.4", 25) == 0);
	static const char *const want[] = {
	    "# TYPE sibyl_http_requests_total counter\n",
	    "sibyl_http_requests_total{route=\"test.echo\",code=\"200\"} ",
	    "sibyl_http_requests_total{route=\"http.body_too_large\",code=\"413\"} 3\n",
	    "sibyl_http_requests_total{route=\"healthz\",code=\"503\"} 1\n",
	    "sibyl_http_requests_total{route=\"test.retry\",code=\"429\"} 1\n",
	    "# TYPE sibyl_http_request_duration_seconds histogram\n",
	    "sibyl_http_request_duration_seconds_bucket{le=\"+Inf\"} ",
	    "sibyl_suggest_duration_seconds_count 0\n",
	    "\ntest_gauge 42\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(r.body, want[i]))
			TEST_FAIL("/metrics lacks \"%s\":\n%s", want[i], r.body);
		test_checks++;
	}
}

struct client {
	pthread_t th;
	int port;
	const char *path;
	struct reply r;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	call(c->port, "GET", c->path, NULL, 0, 0, NULL, &c->r);
	return NULL;
}

/* Three requests must be inside the handler at once: the barrier
 * answers 500 if they were served one after the other. */
static void test_parallel(int port)
{
	struct client cl[3];
	T.barrier_need = 3;
	T.barrier_in = 0;
	for (int i = 0; i < 3; i++) {
		cl[i].port = port;
		cl[i].path = "/barrier";
		pthread_create(&cl[i].th, NULL, client_main, &cl[i]);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(cl[i].th, NULL);
		ASSERT_EQ_INT(cl[i].r.status, 200);
	}
	ASSERT_EQ_INT(T.barrier_in, 3);
}

struct caller {
	pthread_t th;
	int port;
	const char *path, *auth;
	long status;
	int done;
};

static void *caller_main(void *arg)
{
	struct caller *c = arg;
	struct reply r;
	call(c->port, "GET", c->path, NULL, 0, 0, c->auth, &r);
	c->status = r.status;
	__atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void start_caller(struct caller *c, int port, const char *path, const char *auth)
{
	c->port = port;
	c->path = path;
	c->auth = auth;
	c->done = 0;
	pthread_create(&c->th, NULL, caller_main, c);
}

/* Two workers: caller a's first /gate holds one, its second waits (a
 * never holds every worker), so caller b's request is served at once on
 * the other, while both of a's are still held. */
static void test_fair_share(void)
{
	struct config cfg;
	char err[256];
	int port = 0, b_done = 0;
	struct caller c[3];
	test_config(&cfg, 2);
	struct http_server *srv = http_start(&cfg, &handlers, &port, err, sizeof(err));
	ASSERT_TRUE(srv != NULL);
	if (!srv)
		return;
	T.order[0] = '\0';
	T.gate_in = T.gate_release = 0;
	start_caller(&c[0], port, "/gate", "Bearer a");
	pthread_mutex_lock(&T.mu);
	while (T.gate_in < 1)
		pthread_cond_wait(&T.cv, &T.mu);
	pthread_mutex_unlock(&T.mu);
	start_caller(&c[1], port, "/gate", "Bearer a");
	while (http_queued(srv) < 1)
		usleep(1000);
	start_caller(&c[2], port, "/fast", "Bearer b");
	/* b is answered while a's two are held (bounded wait: 20 s). */
	for (int i = 0; i < 2000 && !b_done; i++) {
		b_done = __atomic_load_n(&c[2].done, __ATOMIC_SEQ_CST);
		if (!b_done)
			usleep(10000);
	}
	ASSERT_TRUE(b_done);
	pthread_mutex_lock(&T.mu);
	ASSERT_EQ_STR(T.order, "ab");
	ASSERT_EQ_INT(T.gate_in, 1);
	T.gate_release = 2;
	pthread_cond_broadcast(&T.cv);
	pthread_mutex_unlock(&T.mu);
	for (int i = 0; i < 3; i++) {
		pthread_join(c[i].th, NULL);
		ASSERT_EQ_INT(c[i].status, 200);
	}
	ASSERT_EQ_STR(T.order, "aba");
	http_stop(srv);
}

struct stopper {
	pthread_t th;
	struct http_server *srv;
	volatile int done;
};

static void *stopper_main(void *arg)
{
	struct stopper *s = arg;
	http_stop(s->srv);
	__atomic_store_n(&s->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static int refused(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	close(fd);
	return rc != 0 && e == ECONNREFUSED;
}

static void wait_slow_entered(void)
{
	pthread_mutex_lock(&T.mu);
	while (!T.slow_entered)
		pthread_cond_wait(&T.cv, &T.mu);
	pthread_mutex_unlock(&T.mu);
}

static void release_slow(void)
{
	pthread_mutex_lock(&T.mu);
	T.slow_release = 1;
	pthread_cond_broadcast(&T.cv);
	pthread_mutex_unlock(&T.mu);
}

/* http_stop stops accepting at once, then waits for the request in
 * flight, which gets its full answer. */
static void test_graceful_stop(void)
{
	struct config cfg;
	struct client slow = {.path = "/slow"};
	struct stopper st = {0};
	char err[256];
	int port = 0, tries = 0;

	test_config(&cfg, 2);
	st.srv = http_start(&cfg, &handlers, &port, err, sizeof(err));
	ASSERT_TRUE(st.srv != NULL);
	if (!st.srv)
		return;
	T.slow_entered = T.slow_release = 0;
	slow.port = port;
	pthread_create(&slow.th, NULL, client_main, &slow);
	wait_slow_entered();
	pthread_create(&st.th, NULL, stopper_main, &st);
	while (!refused(port) && tries++ < 2000)
		usleep(5000);
	ASSERT_TRUE(refused(port));
	ASSERT_EQ_INT(__atomic_load_n(&st.done, __ATOMIC_SEQ_CST), 0);
	release_slow();
	pthread_join(slow.th, NULL);
	pthread_join(st.th, NULL);
	ASSERT_EQ_INT(slow.r.status, 200);
	ASSERT_EQ_STR(slow.r.body, "{\"slow\":\"done\"}");
	ASSERT_EQ_INT(st.done, 1);
}

/* With a drain timeout that has passed, a request still queued behind a
 * busy worker gets 503 UNAVAILABLE instead of running. */
static void test_stop_timeout(void)
{
	struct config cfg;
	struct client slow = {.path = "/slow"}, queued = {.path = "/queued"};
	struct stopper st = {0};
	char err[256];
	int port = 0, before;

	test_config(&cfg, 1);
	cfg.shutdown_timeout_ms = 0;
	st.srv = http_start(&cfg, &handlers, &port, err, sizeof(err));
	ASSERT_TRUE(st.srv != NULL);
	if (!st.srv)
		return;
	T.slow_entered = T.slow_release = 0;
	slow.port = queued.port = port;
	pthread_create(&slow.th, NULL, client_main, &slow);
	wait_slow_entered();
	before = calls();
	pthread_create(&queued.th, NULL, client_main, &queued);
	while (http_in_flight(st.srv) < 2)
		usleep(1000);
	pthread_create(&st.th, NULL, stopper_main, &st);
	while (!http_closing(st.srv))
		usleep(1000);
	release_slow();
	pthread_join(slow.th, NULL);
	pthread_join(queued.th, NULL);
	pthread_join(st.th, NULL);
	ASSERT_EQ_INT(slow.r.status, 200);
	ASSERT_EQ_INT(queued.r.status, 503);
	expect_envelope(&queued.r, 503, "UNAVAILABLE", "shutting down");
	ASSERT_EQ_INT(calls(), before);
}

static void test_start_errors(int busy_port)
{
	struct config cfg;
	char err[256] = "";
	int port = -1;

	test_config(&cfg, 1);
	cfg.listen_port = busy_port;
	ASSERT_TRUE(http_start(&cfg, &handlers, &port, err, sizeof(err)) == NULL);
	if (!strstr(err, "cannot serve on 127.0.0.1 port") || !strstr(err, "in use"))
		TEST_FAIL("error \"%s\"", err);
	test_checks++;

	test_config(&cfg, 1);
	snprintf(cfg.listen_host, sizeof(cfg.listen_host), "no-such-host.invalid");
	ASSERT_TRUE(http_start(&cfg, &handlers, &port, err, sizeof(err)) == NULL);
	if (!strstr(err, "cannot resolve host no-such-host.invalid"))
		TEST_FAIL("error \"%s\"", err);
	test_checks++;
}

static void test_ipv6(void)
{
	struct config cfg;
	char err[256];
	int port = 0;
	struct http_server *s;

	test_config(&cfg, 1);
	snprintf(cfg.listen_host, sizeof(cfg.listen_host), "::1");
	s = http_start(&cfg, &handlers, &port, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "skipping IPv6: %s\n", err);
		return;
	}
	char url[128];
	long status = 0;
	CURL *c = curl_easy_init();
	snprintf(url, sizeof(url), "http://[::1]:%d/healthz", port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	struct reply r = {0};
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	ASSERT_EQ_INT(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	ASSERT_EQ_INT(status, 200);
	ASSERT_TRUE(port > 0);
	http_stop(s);
}

int main(void)
{
	struct config cfg;
	struct http_server *srv;
	char err[256];
	int port = 0;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	metrics_reset();
	test_config(&cfg, 4);
	srv = http_start(&cfg, &handlers, &port, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "http_start: %s\n", err);
		return 1;
	}
	ASSERT_TRUE(port > 0);
	test_echo_raw_path(port);
	test_body_limit(port);
	test_service_endpoints(port);
	test_parallel(port);
	test_start_errors(port);
	http_stop(srv);
	http_stop(NULL);

	test_fair_share();
	test_graceful_stop();
	test_stop_timeout();
	test_ipv6();
	curl_global_cleanup();
	return test_done("http");
}
