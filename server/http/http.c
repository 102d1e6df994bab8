/* The HTTP front. libmicrohttpd's thread pool does the socket I/O only;
 * each complete request is suspended and handed to a pool of cfg->threads
 * workers that run the handler and resume the connection with the answer
 * (the pools are in http_pool.c).
 * The reason: in MHD's pool one I/O thread may hold several connections,
 * so a handler that blocks (a suggest fitting a GP) would stall requests
 * that merely share its thread. With the workers, cfg->threads requests
 * are handled at once whatever connections they came on.
 *
 * trials:suggest calls have a pool of their own (cfg->suggest_threads):
 * a suggest may wait seconds for its study's model (coalesced behind the
 * current leader), and if such calls held the general workers every cheap
 * call (get, complete) would queue behind them. Which pool serves a request
 * is the router's decision (h.pool), never a second reading of the path.
 *
 * A third, small pool (CTL_THREADS) serves /healthz and /metrics and the
 * admission of requests that carry a body: the key and the route are
 * checked (h.admit) as soon as the headers are in, and a refusal is sent
 * before a byte of the body is read. Nothing slow runs there, so health
 * checks are never queued behind large answers.
 *
 * Against abuse (docs/admin.md "Limits and abuse"): connlimit closes
 * connections that take longer than request_timeout_s to send a request
 * and sheds the slowest senders when slots run short; bodies in flight are
 * capped by max_body_memory; each pool's workers are shared fairly between
 * callers (one caller, told apart by its Authorization header, never holds
 * more than all but one worker of a pool); and http_key_admit caps each
 * API key's requests and unsent answer bytes. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "connlimit.h"
#include "error.h"
#include "http_internal.h"
#include "keyload.h"
#include "log.h"
#include "metrics.h"
#include "static.h"

#define MAX_PEM_BYTES  (1024 * 1024)
#define IDLE_TIMEOUT_S 60
#define FINAL_GRACE_S  1
#define MAX_IO_THREADS 4
/* A body over the limit sent without Content-Length is read and dropped
 * so that the client gets its 413 (MHD cannot answer mid-body); past
 * DISCARD_FACTOR times the limit plus DISCARD_SLACK bytes we stop reading
 * and close the connection. */
#define DISCARD_FACTOR 4
#define DISCARD_SLACK  (1024 * 1024)
/* Under connection pressure, a connection that has not sent its request
 * within this long is shed first. */
#define SHED_GRACE_MS 1000

static double since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* The error envelope of API.md; malloc'd (MHD frees it with free()). */
static char *envelope(int http_status, enum err_code code, const char *msg)
{
	json_t *o = json_pack("{s:{s:i,s:s,s:s}}", "error", "code", http_status, "message", msg,
	                      "status", err_status_name(code));
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

void http_set_error(struct http_resp *r, int http_status, enum err_code code, const char *msg,
                    const char *route)
{
	if (!r->body_static)
		free(r->body);
	r->body_static = 0;
	r->body_len = 0;
	r->status = http_status;
	r->body = envelope(http_status, code, msg);
	r->content_type = NULL;
	r->route = route;
	r->retry_after = 0;
}

/* The answer's bytes count against its key until it is sent. */
static void hold_answer(struct job *j, size_t len)
{
	struct http_server *s = j->srv;
	j->resp_len = len;
	if (!j->key && len < TRIM_BYTES)
		return;
	pthread_mutex_lock(&s->mu);
	if (j->key) {
		j->key->held += len;
		j->held = len;
	}
	if (len >= TRIM_BYTES) {
		s->big_answers++;
		s->quiet_ticks = 0;
	}
	pthread_mutex_unlock(&s->mu);
}

/* The optional headers of static files and conditional answers. */
static void add_static_headers(struct MHD_Response *mr, const struct http_resp *r)
{
	if (r->etag[0])
		MHD_add_response_header(mr, MHD_HTTP_HEADER_ETAG, r->etag);
	if (r->content_encoding)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_ENCODING, r->content_encoding);
	if (r->cache_control)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache_control);
	if (r->vary)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_VARY, r->vary);
	if (r->csp) {
		MHD_add_response_header(mr, "Content-Security-Policy", r->csp);
		MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
		MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
	}
}

static enum MHD_Result send_resp(struct job *j, struct http_resp *r)
{
	struct MHD_Response *mr;
	char *body = r->body;
	size_t len = body ? (r->body_len ? r->body_len : strlen(body)) : 0;
	int owned = body && !r->body_static;
	enum MHD_Result ret;

	r->body = NULL;
	mr = MHD_create_response_from_buffer(
	    len, body ? body : (char *)"", owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!mr) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        r->content_type ? r->content_type : "application/json");
	add_static_headers(mr, r);
	if (r->retry_after > 0) {
		char v[24];
		snprintf(v, sizeof(v), "%d", r->retry_after);
		MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
	/* Once quiesced, ask keep-alive clients to reconnect (elsewhere). */
	if (__atomic_load_n(&j->srv->draining, __ATOMIC_RELAXED))
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(j->conn, (unsigned)r->status, mr);
	MHD_destroy_response(mr);
	hold_answer(j, len);
	/* Counted here, not when MHD reports the request complete: that can
	 * come after the client has its answer, and a client reading
	 * /metrics right after must see its own request. */
	metrics_observe_request(r->route, r->status, since(&j->t0));
	j->responded = 1;
	j->status = r->status;
	j->route = r->route;
	j->state = J_SENT;
	return ret;
}

static enum MHD_Result send_error(struct job *j, int http_status, enum err_code code,
                                  const char *msg, const char *route)
{
	struct http_resp r = {0};
	http_set_error(&r, http_status, code, msg, route);
	return send_resp(j, &r);
}

/* MHD_OPTION_URI_LOG_CALLBACK: called with the request target exactly as
 * received, before MHD splits or decodes it, so this is where the raw path
 * and query come from. Its result becomes the request's context. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct http_server *s = cls;
	struct job *j = calloc(1, sizeof(*j));
	char *q;

	if (!j)
		return NULL;
	j->uri = strdup(uri ? uri : "");
	if (!j->uri) {
		free(j);
		return NULL;
	}
	j->srv = s;
	j->conn = c;
	j->path = j->uri;
	q = strchr(j->uri, '?');
	if (q) {
		*q = '\0';
		j->query = q + 1;
	} else {
		j->query = "";
	}
	clock_gettime(CLOCK_MONOTONIC, &j->t0);
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	j->cc = ci ? ci->socket_context : NULL;
	pthread_mutex_lock(&s->mu);
	s->inflight++;
	pthread_mutex_unlock(&s->mu);
	return j;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct job *j = *req_cls;
	(void)c;
	if (!j)
		return;
	*req_cls = NULL;
	double dt = since(&j->t0);
	if (j->responded) {
		log_debug("event=request method=%s path=\"%s\" status=%d route=%s seconds=%.6f",
		          j->method ? j->method : "-", j->path, j->status,
		          j->route ? j->route : "unknown", dt);
	} else {
		log_debug("event=request_aborted path=\"%s\" reason=%d", j->path, (int)toe);
	}
	/* The answer is out: the connection's next request has its own
	 * deadline from now. */
	connlimit_wait(s->conns, j->cc);
	free(j->uri);
	free(j->method);
	free(j->authorization);
	free(j->accept);
	free(j->accept_encoding);
	free(j->if_none_match);
	free(j->body);
	if (!j->resp.body_static)
		free(j->resp.body);
	pthread_mutex_lock(&s->mu);
	s->body_mem -= j->body_cap;
	if (j->key) {
		j->key->inflight--;
		j->key->held -= j->held;
		keyload_put(s->keys, j->key);
	}
	if (j->responded && j->resp_len >= TRIM_BYTES) {
		s->big_answers--;
		s->trim_wanted = 1;
	}
	free(j);
	if (--s->inflight == 0)
		pthread_cond_broadcast(&s->idle_cv);
	pthread_mutex_unlock(&s->mu);
}

static size_t unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *s = cls;
	char msg[256];
	size_t n;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	for (char *p = msg; *p; p++) {
		if (*p == '"')
			*p = '\'';
	}
	/* Only start-up errors are kept, for http_start's message; the first
	 * one is the cause, the later ones its consequences. */
	if (__atomic_load_n(&s->starting, __ATOMIC_RELAXED) && !s->mhd_error[0])
		memcpy(s->mhd_error, msg, n + 1);
	log_warn("event=mhd msg=\"%s\"", msg);
}

/* Who the request is for the fair share of the workers: its Authorization
 * header (one key, one caller), else its address. */
static void fair_key(struct job *j)
{
	if (j->authorization) {
		uint64_t h = 1469598103934665603ULL;
		for (const char *p = j->authorization; *p; p++) {
			h ^= (unsigned char)*p;
			h *= 1099511628211ULL;
		}
		snprintf(j->fair, sizeof(j->fair), "a:%016llx", (unsigned long long)h);
	} else {
		snprintf(j->fair, sizeof(j->fair), "ip:%s", j->client_addr);
	}
}

static int first_call(struct job *j, struct MHD_Connection *c, const char *method, char *msg,
                      size_t cap, enum err_code *code)
{
	const char *v;
	const union MHD_ConnectionInfo *ci;

	j->method = strdup(method ? method : "");
	if (!j->method)
		return 0;
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (v)
		j->authorization = strdup(v);
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	j->accept = v ? strdup(v) : NULL;
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	j->accept_encoding = v ? strdup(v) : NULL;
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	j->if_none_match = v ? strdup(v) : NULL;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET,
			          &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			          j->client_addr, sizeof(j->client_addr));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
			          &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			          j->client_addr, sizeof(j->client_addr));
	}
	fair_key(j);
	int st = http_check_framing(c, &j->chunked, msg, cap, code);
	if (st)
		return st;
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (v) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(v, &end, 10);
		if (errno || end == v || n > j->srv->max_body)
			j->too_large = 1;
		else
			j->content_length = n;
	}
	j->has_body = j->chunked || j->content_length > 0;
	return 0;
}

/* Grows the body buffer to cap bytes, counted in max_body_memory.
 * Returns -1 (nothing changed) past the cap or out of memory. */
static int grow_body(struct job *j, size_t cap)
{
	struct http_server *s = j->srv;
	size_t more = cap > j->body_cap ? cap - j->body_cap : 0;
	int ok;
	if (!more)
		return 0;
	pthread_mutex_lock(&s->mu);
	ok = s->body_mem + more <= s->max_body_mem;
	if (ok)
		s->body_mem += more;
	pthread_mutex_unlock(&s->mu);
	if (!ok)
		return -1;
	char *b = realloc(j->body, cap);
	if (!b) {
		pthread_mutex_lock(&s->mu);
		s->body_mem -= more;
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	j->body = b;
	j->body_cap = cap;
	return 0;
}

static void drop_body(struct job *j)
{
	struct http_server *s = j->srv;
	free(j->body);
	j->body = NULL;
	pthread_mutex_lock(&s->mu);
	s->body_mem -= j->body_cap;
	pthread_mutex_unlock(&s->mu);
	j->body_cap = 0;
	j->body_len = 0;
}

/* Returns 0, or -1 when the client keeps sending far past the limit. */
static int take_body(struct job *j, const char *data, size_t n)
{
	size_t max = j->srv->max_body;
	if (!j->too_large && n > max - j->body_len)
		j->too_large = 1;
	if (!j->too_large && !j->over_memory && j->body_len + n + 1 > j->body_cap) {
		size_t cap = j->body_cap ? j->body_cap : 4096;
		while (cap < j->body_len + n + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		if (grow_body(j, cap) != 0)
			j->over_memory = 1;
	}
	if (j->too_large || j->over_memory) {
		if (j->body)
			drop_body(j);
		j->discarded += n;
		return j->discarded > DISCARD_FACTOR * max + DISCARD_SLACK ? -1 : 0;
	}
	memcpy(j->body + j->body_len, data, n);
	j->body_len += n;
	j->body[j->body_len] = '\0';
	return 0;
}

/* Suspends the connection and queues j on queue qi in state st (J_ADMIT:
 * only its headers are in; J_QUEUED: the whole request). */
static enum MHD_Result dispatch(struct http_server *s, struct job *j, struct MHD_Connection *c,
                                int qi, enum job_state st)
{
	struct queue *q = &s->q[qi];
	if (st == J_QUEUED)
		connlimit_busy(s->conns, j->cc);
	pthread_mutex_lock(&s->mu);
	if (s->closing) {
		pthread_mutex_unlock(&s->mu);
		return send_error(j, 503, ERR_UNAVAILABLE, "the server is shutting down",
		                  "http.unavailable");
	}
	/* Suspend before a worker can see the job, so its resume always
	 * comes after this suspend. */
	MHD_suspend_connection(c);
	j->state = st;
	j->q = qi;
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&s->mu);
	return MHD_YES;
}

static enum MHD_Result send_busy(struct job *j, const char *msg, const char *route)
{
	struct http_resp r = {0};
	http_set_error(&r, 503, ERR_UNAVAILABLE, msg, route);
	r.retry_after = 1;
	return send_resp(j, &r);
}

static enum MHD_Result over_memory(struct job *j)
{
	char msg[160];
	snprintf(msg, sizeof(msg),
	         "request bodies in flight exceed max_body_memory (%zu bytes); retry later",
	         j->srv->max_body_mem);
	return send_busy(j, msg, "http.body_memory");
}

static enum MHD_Result on_headers(struct http_server *s, struct job *j, struct MHD_Connection *c,
                                  const char *method)
{
	char msg[160];
	enum err_code code = ERR_INVALID_ARGUMENT;
	int st = first_call(j, c, method, msg, sizeof(msg), &code);
	if (!j->method)
		return MHD_NO;
	if (st)
		return send_error(j, st, code, msg, "http.bad_request");
	if (j->too_large)
		return MHD_YES; /* on_request answers 413 */
	/* Key and route are checked before a byte of the body is read. */
	if (j->has_body && s->h.admit && !http_service_path(j))
		return dispatch(s, j, c, Q_CTL, J_ADMIT);
	j->state = J_BODY;
	if (j->content_length && grow_body(j, j->content_length + 1) != 0)
		return over_memory(j);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
	struct http_server *s = cls;
	struct job *j = *req_cls;
	char msg[128];
	(void)url;
	(void)version;

	if (!j)
		return MHD_NO; /* out of memory in on_uri */
	switch (j->state) {
	case J_NEW:
		if (on_headers(s, j, c, method) != MHD_YES)
			return MHD_NO;
		if (j->state != J_NEW || !j->too_large)
			return MHD_YES;
		break; /* answer 413 now, before the client sends the body */
	case J_ADMITTED:
		j->state = J_BODY;
		if (j->content_length && grow_body(j, j->content_length + 1) != 0)
			return over_memory(j);
		if (!*upload_data_size)
			return MHD_YES;
		/* FALLTHROUGH */
	case J_BODY:
		if (*upload_data_size) {
			int rc = take_body(j, upload_data, *upload_data_size);
			*upload_data_size = 0;
			return rc == 0 ? MHD_YES : MHD_NO;
		}
		if (j->over_memory && !j->too_large)
			return over_memory(j);
		if (!j->too_large)
			return dispatch(s, j, c, http_queue_for(s, j), J_QUEUED);
		break;
	case J_DONE:
		return send_resp(j, &j->resp);
	case J_ADMIT:
	case J_QUEUED:
		return MHD_NO; /* resumed without an answer: cannot happen */
	case J_SENT:
		/* 413 already queued; MHD may still hand over the body. */
		if (*upload_data_size) {
			j->discarded += *upload_data_size;
			*upload_data_size = 0;
			if (j->discarded > DISCARD_FACTOR * s->max_body + DISCARD_SLACK)
				return MHD_NO;
		}
		return MHD_YES;
	}
	/* A body over the limit: 413 (the HTTP code that says so, which proxies
	 * and clients understand) with status INVALID_ARGUMENT, because the
	 * request is wrong whatever the server's state and a retry cannot
	 * succeed (RESOURCE_EXHAUSTED would invite one). */
	snprintf(msg, sizeof(msg), "request body is larger than max_body_bytes (%zu bytes)",
	         s->max_body);
	return send_error(j, 413, ERR_INVALID_ARGUMENT, msg, "http.body_too_large");
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = ci ? connlimit_open(s->conns, ci->connect_fd) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		connlimit_close(s->conns, *socket_context);
		*socket_context = NULL;
	}
}

static char *read_pem(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(MAX_PEM_BYTES + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, MAX_PEM_BYTES + 1, f);
	fclose(f);
	if (n == 0 || n > MAX_PEM_BYTES || !strstr(buf, "-----BEGIN")) {
		buf[n > MAX_PEM_BYTES ? MAX_PEM_BYTES : n] = '\0';
		if (n == 0 || n > MAX_PEM_BYTES || !strstr(buf, "-----BEGIN")) {
			snprintf(err, errlen, "%s is not a PEM file", path);
			free(buf);
			return NULL;
		}
	}
	buf[n] = '\0';
	return buf;
}

static void destroy(struct http_server *s)
{
	connlimit_free(s->conns);
	free(s->workers);
	free(s->wargs);
	free(s->cert_pem);
	free(s->key_pem);
	for (int i = 0; i < NQ; i++) {
		pthread_cond_destroy(&s->q[i].cv);
		keyload_free(s->q[i].fair);
	}
	keyload_free(s->keys);
	pthread_cond_destroy(&s->idle_cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* Fewer connections than MHD may open file descriptors. */
static int connection_cap(const struct config *cfg)
{
	struct rlimit rl;
	int cap = cfg->max_connections;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)cap + 64 > rl.rlim_cur) {
		if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > rl.rlim_cur) {
			rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? (rlim_t)cap + 64 : rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
			(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
		if ((rlim_t)cap + 64 > rl.rlim_cur) {
			cap = rl.rlim_cur > 128 ? (int)(rl.rlim_cur - 64) : 64;
			log_warn("event=max_connections_lowered max_connections=%d open_files=%ld",
			         cap, (long)rl.rlim_cur);
		}
	}
	return cap;
}

struct http_server *http_start(const struct config *cfg, const struct http_handlers *h, int *port,
                               char *err, size_t errlen)
{
	struct http_server *s;
	struct addrinfo hints = {0}, *ai = NULL;
	struct sockaddr_storage addr;
	char portstr[16];
	unsigned int flags;
	int rc, io_threads, max_conns, tls = cfg->tls_cert[0] != '\0';
	pthread_condattr_t ca;

	if (!h || !h->handle) {
		snprintf(err, errlen, "http_start: no request handler");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->h = *h;
	s->max_body = cfg->max_body_bytes;
	s->max_body_mem = cfg->max_body_memory;
	s->max_key_requests = cfg->max_requests_per_key;
	s->max_key_answer = cfg->max_answer_bytes_per_key;
	s->shutdown_ms = cfg->shutdown_timeout_ms;
	pthread_mutex_init(&s->mu, NULL);
	for (int i = 0; i < NQ; i++) {
		pthread_cond_init(&s->q[i].cv, NULL);
		s->q[i].fair = keyload_new();
	}
	s->keys = keyload_new();
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->idle_cv, &ca);
	pthread_condattr_destroy(&ca);

	if (tls) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen,
			         "TLS was asked for (tls_cert) but this "
			         "libmicrohttpd was built without TLS support");
			goto fail;
		}
		if (!cfg->tls_key[0]) {
			snprintf(err, errlen, "tls_cert given without tls_key");
			goto fail;
		}
		s->cert_pem = read_pem(cfg->tls_cert, err, errlen);
		if (!s->cert_pem)
			goto fail;
		s->key_pem = read_pem(cfg->tls_key, err, errlen);
		if (!s->key_pem)
			goto fail;
	}

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", cfg->listen_port);
	rc = getaddrinfo(cfg->listen_host, portstr, &hints, &ai);
	if (rc != 0 || !ai || ai->ai_addrlen > sizeof(addr)) {
		snprintf(err, errlen, "listen: cannot resolve host %s: %s", cfg->listen_host,
		         rc ? gai_strerror(rc) : "no address");
		if (ai)
			freeaddrinfo(ai);
		goto fail;
	}
	memset(&addr, 0, sizeof(addr));
	memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);

	/* glibc gives threads up to 8 malloc arenas per core, and each keeps
	 * its peak: with ~70 workers that doubled the daemon's peak RSS on a
	 * 100,000-trial study (162 -> 94 MiB measured, docs/benchmarks.md).
	 * Two arenas are plenty for the cores this runs on. */
	mallopt(M_ARENA_MAX, 2);
	max_conns = connection_cap(cfg);
	struct connlimit_opts co = {
	    .max_connections = max_conns,
	    .headroom = cfg->connection_headroom < max_conns ? cfg->connection_headroom : 0,
	    .timeout_ms = cfg->request_timeout_s * 1000,
	    .grace_ms = SHED_GRACE_MS,
	    .tick_ms = 200,
	    .tick = http_pool_tick,
	    .tick_arg = s,
	};
	int tables = s->keys != NULL;
	for (int i = 0; i < NQ; i++)
		tables = tables && s->q[i].fair;
	s->conns = tables ? connlimit_new(&co) : NULL;
	if (!s->conns || http_pool_start(s, cfg) != 0) {
		snprintf(err, errlen, "cannot start worker threads");
		http_pool_stop(s);
		goto fail;
	}

	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME |
	        MHD_USE_ERROR_LOG;
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		flags |= MHD_USE_EPOLL;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls)
		flags |= MHD_USE_TLS;
	io_threads = cfg->threads < MAX_IO_THREADS ? cfg->threads : MAX_IO_THREADS;
	if (io_threads < 1)
		io_threads = 1;

	/* The logger goes first so that MHD reports everything through it. */
	struct MHD_OptionItem opts[16];
	int no = 0;
#define OPT(o, v, p) opts[no++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)}
	OPT(MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, s);
	OPT(MHD_OPTION_SOCK_ADDR, 0, &addr);
	if (io_threads > 1)
		OPT(MHD_OPTION_THREAD_POOL_SIZE, io_threads, NULL);
	OPT(MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s);
	OPT(MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape_none, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S, NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s);
	OPT(MHD_OPTION_CONNECTION_LIMIT, max_conns, NULL);
	OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_address, NULL);
	if (tls) {
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert_pem);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, s->key_pem);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	/* The port argument is only used in MHD's messages: SOCK_ADDR wins. */
	__atomic_store_n(&s->starting, 1, __ATOMIC_RELAXED);
	s->d = MHD_start_daemon(flags, (uint16_t)cfg->listen_port, NULL, NULL, on_request, s,
	                        MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	__atomic_store_n(&s->starting, 0, __ATOMIC_RELAXED);
	if (!s->d) {
		int e = errno;
		snprintf(err, errlen, "cannot serve on %s port %d: %s", cfg->listen_host,
		         cfg->listen_port, s->mhd_error[0] ? s->mhd_error : strerror(e));
		http_pool_stop(s);
		goto fail;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	if (port)
		*port = di ? (int)di->port : cfg->listen_port;
	return s;
fail:
	destroy(s);
	return NULL;
}

long http_in_flight(struct http_server *s)
{
	long n;
	pthread_mutex_lock(&s->mu);
	n = s->inflight;
	pthread_mutex_unlock(&s->mu);
	return n;
}

int http_closing(struct http_server *s)
{
	int c;
	pthread_mutex_lock(&s->mu);
	c = s->closing;
	pthread_mutex_unlock(&s->mu);
	return c;
}

void http_stop(struct http_server *s)
{
	struct timespec deadline;
	MHD_socket fd;
	long left;

	if (!s)
		return;
	fd = MHD_quiesce_daemon(s->d);
	/* MHD only stops polling the socket; shut it down too so that new
	 * clients are refused at once instead of waiting in the backlog. The
	 * fd itself stays open until MHD_stop_daemon, as MHD asks. */
	if (fd != MHD_INVALID_SOCKET)
		shutdown(fd, SHUT_RDWR);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += s->shutdown_ms / 1000;
	deadline.tv_nsec += (long)(s->shutdown_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	__atomic_store_n(&s->draining, 1, __ATOMIC_RELAXED);
	while (s->inflight > 0) {
		if (pthread_cond_timedwait(&s->idle_cv, &s->mu, &deadline) == ETIMEDOUT)
			break;
	}
	left = s->inflight;
	pthread_mutex_unlock(&s->mu);
	if (left > 0)
		log_warn("event=shutdown_timeout in_flight=%ld timeout_ms=%d", left,
		         s->shutdown_ms);
	/* Workers answer what is still queued with 503 and resume every
	 * suspended connection (MHD_stop_daemon requires that); a handler
	 * already running cannot be interrupted, so this waits for it. */
	http_pool_stop(s);
	/* Answers written after the timeout (503s, the last slow handler's)
	 * still need a moment to reach their clients. */
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += FINAL_GRACE_S;
	pthread_mutex_lock(&s->mu);
	while (s->inflight > 0) {
		if (pthread_cond_timedwait(&s->idle_cv, &s->mu, &deadline) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&s->mu);
	MHD_stop_daemon(s->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	destroy(s);
}
