/* client: the handle, one HTTP request with retries, and the last error. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <time.h>

#include "internal.h"

/* Answers larger than this are refused: a client must bound what it reads. */
#define MAX_BODY (64u * 1024 * 1024)
#define MSG_LEN  1024

struct sibyl_client {
	struct servers srv; /* tried in turn from current (servers.c) */
	size_t current;     /* the server that answered last: tried first */
	char *auth;         /* "Authorization: Bearer KEY", or NULL */
	char *ca_file;      /* SIBYL_CA_FILE: CA certificates to trust, or NULL */
	CURL *curl;
	long connect_ms, total_ms;
	struct retry_policy retry;
	/* last error */
	int code;
	int status;
	int attempts;
	char msg[MSG_LEN];
	/* the body of the last 2xx answer as sent (sibyl_last_body) */
	char *body;
	int raw; /* sibyl_get_text: keep the body, do not parse it */
};

static const struct {
	int code;
	const char *name;
} code_names[] = {
    {SIBYL_OK, "OK"},
    {SIBYL_CANCELLED, "CANCELLED"},
    {SIBYL_UNKNOWN, "UNKNOWN"},
    {SIBYL_INVALID_ARGUMENT, "INVALID_ARGUMENT"},
    {SIBYL_DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"},
    {SIBYL_NOT_FOUND, "NOT_FOUND"},
    {SIBYL_ALREADY_EXISTS, "ALREADY_EXISTS"},
    {SIBYL_PERMISSION_DENIED, "PERMISSION_DENIED"},
    {SIBYL_RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED"},
    {SIBYL_FAILED_PRECONDITION, "FAILED_PRECONDITION"},
    {SIBYL_ABORTED, "ABORTED"},
    {SIBYL_OUT_OF_RANGE, "OUT_OF_RANGE"},
    {SIBYL_UNIMPLEMENTED, "UNIMPLEMENTED"},
    {SIBYL_INTERNAL, "INTERNAL"},
    {SIBYL_UNAVAILABLE, "UNAVAILABLE"},
    {SIBYL_DATA_LOSS, "DATA_LOSS"},
    {SIBYL_UNAUTHENTICATED, "UNAUTHENTICATED"},
    {SIBYL_ECONNECT, "ECONNECT"},
    {SIBYL_ENOMEM, "ENOMEM"},
    {SIBYL_EPROTOCOL, "EPROTOCOL"},
    {SIBYL_EUSAGE, "EUSAGE"},
};

const char *sibyl_code_name(int code)
{
	if (code < 0)
		code = -code;
	for (size_t i = 0; i < sizeof code_names / sizeof code_names[0]; i++)
		if (code_names[i].code == code)
			return code_names[i].name;
	return "UNKNOWN";
}

int client_code_from_name(const char *name)
{
	for (size_t i = 1; i < sizeof code_names / sizeof code_names[0]; i++)
		if (code_names[i].code < 100 && strcmp(code_names[i].name, name) == 0)
			return code_names[i].code;
	return 0;
}

static int code_from_http(long status)
{
	switch (status) {
	case 400:
		return SIBYL_INVALID_ARGUMENT;
	case 401:
		return SIBYL_UNAUTHENTICATED;
	case 403:
		return SIBYL_PERMISSION_DENIED;
	case 404:
		return SIBYL_NOT_FOUND;
	case 409:
		return SIBYL_ABORTED;
	case 429:
		return SIBYL_RESOURCE_EXHAUSTED;
	case 501:
		return SIBYL_UNIMPLEMENTED;
	case 503:
		return SIBYL_UNAVAILABLE;
	case 504:
		return SIBYL_DEADLINE_EXCEEDED;
	default:
		return status >= 500 ? SIBYL_INTERNAL : SIBYL_UNKNOWN;
	}
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sibyl_client *sibyl_client_new(const char *url, const char *key)
{
	struct servers srv;
	char why[512];
	if (servers_parse(url, &srv, why, sizeof why) != 0)
		return NULL;
	pthread_once(&global_once, global_init);
	struct sibyl_client *c = global_rc == CURLE_OK ? calloc(1, sizeof *c) : NULL;
	if (!c) {
		servers_free(&srv);
		return NULL;
	}
	c->srv = srv;
	if (key && *key) {
		size_t len = strlen(key) + sizeof "Authorization: Bearer ";
		c->auth = malloc(len);
		if (c->auth)
			snprintf(c->auth, len, "Authorization: Bearer %s", key);
	}
	c->curl = curl_easy_init();
	if (!c->curl || (key && *key && !c->auth)) {
		sibyl_client_free(c);
		return NULL;
	}
	c->connect_ms = 5000;
	c->total_ms = 60000;
	/* A private CA (a self-signed sibyld, docs/configuration.md) */
	const char *ca = getenv("SIBYL_CA_FILE");
	if (ca && *ca && !(c->ca_file = strdup(ca))) {
		sibyl_client_free(c);
		return NULL;
	}
	retry_policy_init(&c->retry, (unsigned)time(NULL) ^ (unsigned)(uintptr_t)c);
	return c;
}

/* Replaces the kept body with body (owned; NULL: none), wiping the old one:
 * it may hold a key's secret. */
static void keep_body(struct sibyl_client *c, char *body)
{
	if (c->body) {
		memset(c->body, 0, strlen(c->body));
		free(c->body);
	}
	c->body = body;
}

void sibyl_client_free(struct sibyl_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	servers_free(&c->srv);
	free(c->auth);
	free(c->ca_file);
	keep_body(c, NULL);
	free(c);
}

int sibyl_client_set_timeout(struct sibyl_client *c, long connect_ms, long total_ms)
{
	if (connect_ms < 0 || total_ms < 0)
		return client_fail(c, SIBYL_EUSAGE, "timeouts must be >= 0");
	c->connect_ms = connect_ms;
	c->total_ms = total_ms;
	client_ok(c);
	return 0;
}

int sibyl_client_set_retries(struct sibyl_client *c, int max_attempts, long base_delay_ms,
                             long max_delay_ms)
{
	if (max_attempts < 0 || max_attempts > 100000 || base_delay_ms < 0 ||
	    max_delay_ms < base_delay_ms)
		return client_fail(c, SIBYL_EUSAGE,
		                   "retries: need 0 <= max_attempts <= 100000 and "
		                   "0 <= base_delay_ms <= max_delay_ms");
	c->retry.max_attempts = max_attempts;
	c->retry.base_delay_ms = base_delay_ms;
	c->retry.max_delay_ms = max_delay_ms;
	client_ok(c);
	return 0;
}

int sibyl_client_set_retry_window(struct sibyl_client *c, double seconds)
{
	if (!(seconds >= 0 && seconds <= RETRY_MAX_WINDOW_S))
		return client_fail(c, SIBYL_EUSAGE, "retry window must be 0 to 604800 seconds");
	c->retry.window_s = seconds;
	client_ok(c);
	return 0;
}

void sibyl_client_set_wait_hook(struct sibyl_client *c, sibyl_wait_fn fn, void *ud)
{
	if (!c)
		return;
	c->retry.hook = fn;
	c->retry.hook_ud = fn ? ud : NULL;
}

int sibyl_errcode(const struct sibyl_client *c)
{
	return c ? c->code : SIBYL_EUSAGE;
}

const char *sibyl_errname(const struct sibyl_client *c)
{
	return sibyl_code_name(sibyl_errcode(c));
}

int sibyl_errstatus(const struct sibyl_client *c)
{
	return c ? c->status : 0;
}

const char *sibyl_errmsg(const struct sibyl_client *c)
{
	return c ? c->msg : "no client handle";
}

int sibyl_errattempts(const struct sibyl_client *c)
{
	return c ? c->attempts : 0;
}

void sibyl_free(void *p)
{
	free(p);
}

void client_ok(struct sibyl_client *c)
{
	c->code = SIBYL_OK;
	c->status = 0;
	c->msg[0] = '\0';
}

int client_fail(struct sibyl_client *c, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof c->msg, fmt, ap);
	va_end(ap);
	c->code = code;
	c->status = 0;
	if (code == SIBYL_EUSAGE) /* by definition nothing was sent */
		c->attempts = 0;
	return -code;
}

int client_check_name(struct sibyl_client *c, const char *what, const char *name)
{
	if (!name || !*name)
		return client_fail(c, SIBYL_EUSAGE, "%s is empty", what);
	for (const char *p = name; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' ||
		      ch == '/' || ch == ':'))
			return client_fail(c, SIBYL_EUSAGE,
			                   "%s \"%s\" has a character that is not allowed", what,
			                   name);
	}
	if (name[0] == '/' || strstr(name, ".."))
		return client_fail(c, SIBYL_EUSAGE, "%s \"%s\" is malformed", what, name);
	return 0;
}

char *client_escape(struct sibyl_client *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	if (!e)
		return NULL;
	char *copy = strdup(e);
	curl_free(e);
	return copy;
}

struct buf {
	char *data;
	size_t len, cap;
	int too_big;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;
	if (b->len + n + 1 > MAX_BODY) {
		b->too_big = 1;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d)
			return 0; /* curl reports a write error; we see data == NULL-ish below */
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	long *retry_after = ud;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";
	if (n > sizeof name - 1 && strncasecmp(ptr, name, sizeof name - 1) == 0) {
		char tmp[32];
		size_t len = n - (sizeof name - 1);
		if (len >= sizeof tmp)
			len = sizeof tmp - 1;
		memcpy(tmp, ptr + sizeof name - 1, len);
		tmp[len] = '\0';
		char *end;
		errno = 0;
		long v = strtol(tmp, &end, 10);
		if (errno == 0 && end != tmp && v >= 0)
			*retry_after = v;
	}
	return n;
}

void client_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Curl failures where the request cannot have reached the server: no
 * connection was made. */
static int never_sent(CURL *h, CURLcode rc)
{
	curl_off_t connected = 0;
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    rc == CURLE_COULDNT_RESOLVE_PROXY)
		return 1;
	return rc == CURLE_OPERATION_TIMEDOUT &&
	       curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected) == CURLE_OK &&
	       connected == 0;
}

/* TLS failures that a retry cannot cure: the server's certificate is not
 * trusted (SIBYL_CA_FILE names a private CA), or ours is unusable. */
static int tls_refused(CURLcode rc)
{
	return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
	       rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CIPHER ||
	       rc == CURLE_UNSUPPORTED_PROTOCOL;
}

/* Sets the handle's error from a non-2xx answer. */
static int http_error(struct sibyl_client *c, long status, const struct buf *b)
{
	int code = 0;
	const char *msg = NULL;
	json_t *root = b->data ? json_loadb(b->data, b->len, 0, NULL) : NULL;
	json_t *err = json_object_get(root, "error");
	const char *name = json_string_value(json_object_get(err, "status"));
	if (name)
		code = client_code_from_name(name);
	msg = json_string_value(json_object_get(err, "message"));
	if (!code)
		code = code_from_http(status);
	if (msg)
		snprintf(c->msg, sizeof c->msg, "%s", msg);
	else
		snprintf(c->msg, sizeof c->msg, "HTTP %ld%s%.200s", status, b->data ? ": " : "",
		         b->data ? b->data : "");
	json_decref(root);
	c->code = code;
	c->status = (int)status;
	return -code;
}

/* One attempt. Returns 0 with *status set when an answer came, else the curl
 * code (with *status 0). */
static CURLcode attempt(struct sibyl_client *c, const char *method, const char *url,
                        const char *body, struct buf *b, long *status, long *retry_after)
{
	CURL *h = c->curl;
	curl_easy_reset(h);
	struct curl_slist *hdrs = NULL, *tmp;
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (!hdrs)
		return rc;
	if (body) {
		if (!(tmp = curl_slist_append(hdrs, "Content-Type: application/json")))
			goto out;
		hdrs = tmp;
	}
	if (c->auth) {
		if (!(tmp = curl_slist_append(hdrs, c->auth)))
			goto out;
		hdrs = tmp;
	}
	/* libcurl would otherwise send "Expect: 100-continue" and wait on big bodies. */
	if (!(tmp = curl_slist_append(hdrs, "Expect:")))
		goto out;
	hdrs = tmp;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
	}
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->total_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, retry_after);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "libsibyl/" SIBYL_VERSION);
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
out:
	curl_slist_free_all(hdrs);
	return rc;
}

/* What to do after an attempt: done, try the next server (then wait when
 * every one was tried), wait and try this one again (a rate limit), fail. */
enum outcome { DONE, MOVE, RETRY, FAIL };

/* A transport failure: the handle's error, and whether a retry is safe. */
static enum outcome transport_failure(struct sibyl_client *c, CURLcode rc, const struct buf *b,
                                      const char *method, const char *url, const char *path,
                                      enum client_retry retry, struct retry_run *run)
{
	if (b->too_big) {
		client_fail(c, SIBYL_EPROTOCOL, "%s %s: answer larger than %u bytes", method, path,
		            MAX_BODY);
		return FAIL;
	}
	if (rc == CURLE_OUT_OF_MEMORY || rc == CURLE_WRITE_ERROR) {
		client_fail(c, SIBYL_ENOMEM, "out of memory reading the answer");
		return FAIL;
	}
	long oserr = 0;
	curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &oserr);
	const char *why =
	    rc == CURLE_COULDNT_CONNECT && oserr ? strerror((int)oserr) : curl_easy_strerror(rc);
	client_fail(c, SIBYL_ECONNECT, "%s %s: %s", method, url, why);
	snprintf(run->reason, sizeof run->reason, "%s", why);
	run->answered = 0;
	if (tls_refused(rc))
		return FAIL; /* the same answer every time: no point in waiting */
	if (never_sent(c->curl, rc))
		return MOVE;
	run->maybe_applied = 1;
	return retry == CLIENT_IDEMPOTENT ? MOVE : FAIL;
}

/* A non-2xx answer: the handle's error, and whether a retry is safe. */
static enum outcome error_answer(struct sibyl_client *c, long status, const struct buf *b,
                                 const char *method, long retry_after, enum client_retry retry,
                                 struct retry_run *run)
{
	int code = http_error(c, status, b);
	if (code == -SIBYL_NOT_FOUND && run->maybe_applied && strcmp(method, "DELETE") == 0) {
		/* The earlier attempt deleted it; the answer was lost. */
		client_ok(c);
		return DONE;
	}
	snprintf(run->reason, sizeof run->reason, "%ld %s: %.200s", status, sibyl_errname(c),
	         c->msg);
	run->answered = 1;
	/* A rate limit with Retry-After: the server did nothing yet. */
	if (status == 429 && retry_after >= 0)
		return RETRY;
	if ((status == 502 || status == 503 || status == 504) && retry == CLIENT_IDEMPOTENT)
		return MOVE;
	return FAIL;
}

/* A 2xx answer: kept as sent (sibyl_last_body), and parsed into *out
 * unless the handle wants the text only (sibyl_get_text). */
static int success(struct sibyl_client *c, struct buf *b, const char *method, const char *path,
                   json_t **out)
{
	json_t *root = NULL;
	keep_body(c, b->data ? b->data : strdup(""));
	b->data = NULL;
	if (!c->body)
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	if (c->raw) {
		client_ok(c);
		return 0;
	}
	if (b->len > 0) {
		json_error_t je;
		root = json_loadb(c->body, b->len, 0, &je);
		if (!root)
			return client_fail(c, SIBYL_EPROTOCOL, "%s %s: answer is not JSON: %s",
			                   method, path, je.text);
	} else if (!(root = json_object())) {
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	}
	client_ok(c);
	if (out)
		*out = root;
	else
		json_decref(root);
	return 0;
}

/* " (N attempts over Ts)" after a failure that was retried; with several
 * servers, what each one last did instead of the last one's error. */
static void note_attempts(struct sibyl_client *c, const struct retry_run *run)
{
	if (c->code != SIBYL_ECONNECT || (c->attempts <= 1 && !run->cancelled))
		return; /* never into the server's message */
	if (c->srv.n > 1) {
		char round[SERVERS_MAX * 300];
		retry_round_text(run, round, sizeof round);
		snprintf(c->msg, sizeof c->msg, "%s %s: no server available: %.900s", run->method,
		         run->path, round);
	}
	size_t len = strlen(c->msg);
	double t = run->first_fail > 0 ? retry_now() - run->first_fail : 0;
	snprintf(c->msg + len, sizeof c->msg - len, " (%d attempts over %.1fs%s)", c->attempts, t,
	         run->cancelled ? ", cancelled" : "");
}

/* One attempt on server `at`: its outcome, the handle's error set. */
static enum outcome attempt_on(struct sibyl_client *c, size_t at, const char *method,
                               const char *path, const char *text, enum client_retry retry,
                               struct retry_run *run, json_t **out, long *retry_after)
{
	struct buf b = {0};
	long status = 0;
	enum outcome o;
	size_t ulen = strlen(c->srv.url[at]) + strlen(path) + sizeof "/v1/";
	char *url = malloc(ulen);
	if (!url) {
		client_fail(c, SIBYL_ENOMEM, "out of memory");
		return FAIL;
	}
	snprintf(url, ulen, "%s/v1/%s", c->srv.url[at], path);
	run->url = c->srv.url[at];
	run->attempts = ++c->attempts;
	*retry_after = -1;
	CURLcode rc = attempt(c, method, url, text, &b, &status, retry_after);
	if (rc != CURLE_OK)
		o = transport_failure(c, rc, &b, method, url, path, retry, run);
	else if (status >= 200 && status < 300)
		o = success(c, &b, method, path, out) == 0 ? DONE : FAIL;
	else
		o = error_answer(c, status, &b, method, *retry_after, retry, run);
	if (rc == CURLE_OK && status > 0) {
		run->answered = 1;
		if (o != MOVE)
			c->current = at; /* it answered: later calls go there first */
	}
	free(b.data);
	free(url);
	return o;
}

int client_call(struct sibyl_client *c, const char *method, const char *path, json_t *body,
                enum client_retry retry, json_t **out)
{
	char *text = NULL;
	struct retry_run run;
	if (out)
		*out = NULL;
	c->attempts = 0;
	if (body && !(text = json_dumps(body, JSON_COMPACT)))
		return client_fail(c, SIBYL_ENOMEM, "out of memory encoding the request");
	retry_begin(&run, &c->retry, &c->srv, method, path);
	size_t at = c->current, tried = 0; /* servers tried this round */
	enum outcome o;
	for (;;) {
		long retry_after;
		o = attempt_on(c, at, method, path, text, retry, &run, out, &retry_after);
		if (o == MOVE) {
			size_t next = (at + 1) % c->srv.n;
			retry_note(&run, at);
			int more = ++tried < c->srv.n &&
			           !(run.p->max_attempts && c->attempts >= run.p->max_attempts);
			at = next;
			if (more && retry_switch(&run, (at + c->srv.n - 1) % c->srv.n, next) == 0)
				continue;
			if (more) { /* the hook cancelled */
				run.cancelled = 1;
				o = FAIL;
				break;
			}
			tried = 0; /* every server failed: wait, then go round again */
		}
		if ((o == MOVE || o == RETRY) && retry_wait(&run, retry_after) == 0)
			continue;
		break;
	}
	if (o == DONE || (o == FAIL && run.answered))
		retry_end(&run); /* it answered, if not as hoped */
	else if (o == FAIL)
		retry_give_up(&run); /* (a wait that ran out has told it) */
	note_attempts(c, &run);
	free(text);
	return o == DONE ? 0 : -c->code;
}

const char *sibyl_last_body(const struct sibyl_client *c)
{
	return c && c->body ? c->body : "";
}

int sibyl_get_text(struct sibyl_client *c, const char *path, char **out)
{
	*out = NULL;
	if (!path || !*path || path[0] == '/' || strpbrk(path, " \t\r\n"))
		return client_fail(c, SIBYL_EUSAGE, "bad path \"%s\"", path ? path : "");
	c->raw = 1;
	int rc = client_call(c, "GET", path, NULL, CLIENT_IDEMPOTENT, NULL);
	c->raw = 0;
	if (rc == 0 && !(*out = strdup(c->body)))
		rc = client_fail(c, SIBYL_ENOMEM, "out of memory");
	return rc;
}
