/* http_pool: the worker pools of the http module (http.c): their queues,
 * the fair share of each pool between callers, the per-key limits, and
 * what a worker runs (a request, /healthz, /metrics, or the admission of a
 * request from its headers). */
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "connlimit.h"
#include "http_internal.h"
#include "keyload.h"
#include "log.h"
#include "metrics.h"
#include "static.h"

static size_t connection_metrics(struct http_server *s, char *buf, size_t cap);

static void serve_metrics(struct http_server *s, struct http_resp *r)
{
	char *buf = malloc(METRICS_CAP);
	size_t n;
	if (!buf) {
		http_set_error(r, 500, ERR_INTERNAL, "out of memory", "metrics");
		return;
	}
	n = metrics_render(buf, METRICS_CAP);
	n += connection_metrics(s, buf + n, METRICS_CAP - n);
	if (s->h.metrics && n + 1 < METRICS_CAP) {
		size_t m = s->h.metrics(s->h.ctx, buf + n, METRICS_CAP - n);
		if (m < METRICS_CAP - n)
			n += m;
	}
	buf[n] = '\0';
	r->status = 200;
	r->body = buf;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
	r->route = "metrics";
}

static struct http_req request_of(struct job *j)
{
	struct http_req q = {
	    .method = j->method,
	    .path = j->path,
	    .query = j->query,
	    .body = j->body ? j->body : "",
	    .body_len = j->body_len,
	    .authorization = j->authorization,
	    .client_addr = j->client_addr,
	    .accept = j->accept,
	    .accept_encoding = j->accept_encoding,
	    .if_none_match = j->if_none_match,
	    .job = j,
	};
	return q;
}

static void run(struct http_server *s, struct job *j, int closing)
{
	struct http_resp *r = &j->resp;
	int get = strcmp(j->method, "GET") == 0;

	memset(r, 0, sizeof(*r));
	if (closing) {
		http_set_error(r, 503, ERR_UNAVAILABLE, "the server is shutting down",
		               "http.unavailable");
	} else if (get && strcmp(j->path, "/healthz") == 0) {
		char why[256] = "not ready";
		if (!s->h.healthy || s->h.healthy(s->h.ctx, why, sizeof(why)) == 0) {
			r->status = 200;
			r->body = strdup("{\"status\":\"ok\"}");
			r->route = "healthz";
		} else {
			http_set_error(r, 503, ERR_UNAVAILABLE, why, "healthz");
			r->retry_after = 5;
		}
	} else if (get && strcmp(j->path, "/metrics") == 0) {
		serve_metrics(s, r);
	} else if (static_is_path(j->path)) {
		struct http_req q = request_of(j);
		static_serve(&q, r);
	} else {
		struct http_req q = request_of(j);
		s->h.handle(s->h.ctx, &q, r);
		if (r->status < 100 || r->status > 599) {
			log_error("event=bad_handler_status status=%d path=\"%s\"", r->status,
			          j->path);
			http_set_error(r, 500, ERR_INTERNAL, "internal error", r->route);
		}
	}
	j->state = J_DONE;
}

/* The admission of a request with a body, from its headers alone. */
static void admit(struct http_server *s, struct job *j, int closing)
{
	struct http_resp *r = &j->resp;
	memset(r, 0, sizeof(*r));
	j->state = J_DONE;
	if (closing) {
		http_set_error(r, 503, ERR_UNAVAILABLE, "the server is shutting down",
		               "http.unavailable");
		return;
	}
	struct http_req q = request_of(j);
	q.body = "";
	q.body_len = 0;
	q.headers_only = 1;
	s->h.admit(s->h.ctx, &q, r);
	if (r->status == 0) {
		free(r->body);
		memset(r, 0, sizeof(*r));
		j->state = J_ADMITTED;
	} else if (r->status < 100 || r->status > 599) {
		http_set_error(r, 500, ERR_INTERNAL, "internal error", r->route);
	}
}

static void unlink_job(struct queue *q, struct job *prev, struct job *j)
{
	if (prev)
		prev->next = j->next;
	else
		q->head = j->next;
	if (q->tail == j)
		q->tail = prev;
	j->next = NULL;
}

/* The oldest job of q whose caller runs fewer than q->fair_cap jobs (any
 * job once closing); NULL when none. Called locked. A caller thus never
 * holds every worker of a pool: the last one is always free for another
 * caller's job, which is taken as soon as it comes. */
static struct job *take(struct http_server *s, struct queue *q)
{
	struct job *prev = NULL, *j;
	struct keyload_entry *e = NULL;
	for (j = q->head; j; prev = j, j = j->next) {
		if (!q->fair_cap || s->closing)
			break;
		e = keyload_get(q->fair, j->fair, 0);
		if (!e || e->running < q->fair_cap)
			break;
	}
	if (!j)
		return NULL;
	unlink_job(q, prev, j);
	e = q->fair_cap ? keyload_get(q->fair, j->fair, 1) : NULL;
	if (e)
		e->running++;
	j->fair_ent = e;
	return j;
}

static void work(struct http_server *s, struct queue *q)
{
	for (;;) {
		struct job *j;
		int closing;
		pthread_mutex_lock(&s->mu);
		while (!(j = take(s, q)) && !s->closing)
			pthread_cond_wait(&q->cv, &s->mu);
		if (!j) {
			pthread_mutex_unlock(&s->mu);
			return;
		}
		closing = s->closing;
		q->served++;
		pthread_mutex_unlock(&s->mu);

		if (j->state == J_ADMIT)
			admit(s, j, closing);
		else
			run(s, j, closing);
		if (j->fair_ent) {
			pthread_mutex_lock(&s->mu);
			j->fair_ent->running--;
			keyload_put(q->fair, j->fair_ent);
			j->fair_ent = NULL;
			/* A job of this caller may have been passed over. */
			if (q->head)
				pthread_cond_signal(&q->cv);
			pthread_mutex_unlock(&s->mu);
		}
		MHD_resume_connection(j->conn);
	}
}

static void *worker(void *arg)
{
	struct worker_arg *w = arg;
	work(w->s, &w->s->q[w->q]);
	return NULL;
}

int http_key_admit(const struct http_req *req, const char *key, int *retry_after, struct err *e)
{
	struct job *j = req->job;
	struct keyload_entry *k;
	int over = 0;
	if (!j || j->key)
		return 0;
	struct http_server *s = j->srv;
	pthread_mutex_lock(&s->mu);
	k = keyload_get(s->keys, key, 1);
	if (k && k->inflight >= s->max_key_requests)
		over = 1;
	else if (k && k->held >= s->max_key_answer)
		over = 2;
	else if (k) {
		k->inflight++;
		j->key = k;
	}
	if (over)
		keyload_put(s->keys, k);
	pthread_mutex_unlock(&s->mu);
	if (!over)
		return 0;
	*retry_after = 1;
	if (over == 1)
		return err_set(e, ERR_RESOURCE_EXHAUSTED,
		               "API key %.64s has %ld requests in flight, the limit "
		               "(max_requests_per_key); retry after 1 s",
		               key, s->max_key_requests);
	return err_set(e, ERR_RESOURCE_EXHAUSTED,
	               "answers to API key %.64s not yet read by its clients exceed "
	               "max_answer_bytes_per_key (%zu bytes); retry after 1 s",
	               key, s->max_key_answer);
}

/* The reaper's round: after a burst of large answers is over, give the
 * memory back to the system (glibc keeps freed heap otherwise). */
void http_pool_tick(void *arg)
{
	struct http_server *s = arg;
	int trim;
	pthread_mutex_lock(&s->mu);
	if (s->quiet_ticks < TRIM_QUIET_TICKS)
		s->quiet_ticks++;
	trim = s->trim_wanted && s->big_answers == 0 && s->quiet_ticks >= TRIM_QUIET_TICKS;
	if (trim)
		s->trim_wanted = 0;
	pthread_mutex_unlock(&s->mu);
	if (trim)
		malloc_trim(0);
}

static size_t connection_metrics(struct http_server *s, char *buf, size_t cap)
{
	struct connlimit_stats st;
	long served[NQ];
	connlimit_stats(s->conns, &st);
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < NQ; i++)
		served[i] = s->q[i].served;
	pthread_mutex_unlock(&s->mu);
	int n = snprintf(buf, cap,
	                 "# HELP sibyl_http_connections Open client connections.\n"
	                 "# TYPE sibyl_http_connections gauge\n"
	                 "sibyl_http_connections %ld\n"
	                 "# HELP sibyl_http_connections_shed_total Connections closed by sibyld: "
	                 "request_timeout_s missed, or to keep connection_headroom free.\n"
	                 "# TYPE sibyl_http_connections_shed_total counter\n"
	                 "sibyl_http_connections_shed_total{reason=\"deadline\"} %ld\n"
	                 "sibyl_http_connections_shed_total{reason=\"headroom\"} %ld\n"
	                 "# HELP sibyl_http_pool_jobs_total Jobs taken by each worker pool "
	                 "(control: /healthz, /metrics and the admission of requests with a "
	                 "body).\n"
	                 "# TYPE sibyl_http_pool_jobs_total counter\n"
	                 "sibyl_http_pool_jobs_total{pool=\"general\"} %ld\n"
	                 "sibyl_http_pool_jobs_total{pool=\"suggest\"} %ld\n"
	                 "sibyl_http_pool_jobs_total{pool=\"control\"} %ld\n",
	                 st.open, st.shed_deadline, st.shed_pressure, served[Q_GENERAL],
	                 served[Q_SUGGEST], served[Q_CTL]);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

void http_pool_stop(struct http_server *s)
{
	pthread_mutex_lock(&s->mu);
	s->closing = 1;
	for (int i = 0; i < NQ; i++)
		pthread_cond_broadcast(&s->q[i].cv);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	s->nworkers = 0;
}

/* The worker threads: cfg->threads general, cfg->suggest_threads for
 * trials:suggest, CTL_THREADS for health, metrics and admissions. */
int http_pool_start(struct http_server *s, const struct config *cfg)
{
	int n[NQ];
	n[Q_GENERAL] = cfg->threads > 0 ? cfg->threads : 1;
	n[Q_SUGGEST] = cfg->suggest_threads > 0 ? cfg->suggest_threads : 1;
	n[Q_CTL] = CTL_THREADS;
	int n_all = n[Q_GENERAL] + n[Q_SUGGEST] + n[Q_CTL];
	s->workers = calloc((size_t)n_all, sizeof(pthread_t));
	s->wargs = calloc((size_t)n_all, sizeof(*s->wargs));
	if (!s->workers || !s->wargs)
		return -1;
	for (int qi = 0; qi < NQ; qi++) {
		/* One caller never holds every worker of a pool. */
		s->q[qi].fair_cap = qi == Q_CTL ? 0 : (n[qi] > 1 ? n[qi] - 1 : 1);
		for (int i = 0; i < n[qi]; i++) {
			struct worker_arg *w = &s->wargs[s->nworkers];
			w->s = s;
			w->q = qi;
			if (pthread_create(&s->workers[s->nworkers], NULL, worker, w) != 0)
				return -1;
			s->nworkers++;
		}
	}
	return 0;
}

int http_service_path(const struct job *j)
{
	return strcmp(j->method, "GET") == 0 &&
	       (strcmp(j->path, "/healthz") == 0 || strcmp(j->path, "/metrics") == 0);
}

/* The router's choice (h.pool), not a second reading of the path. */
int http_queue_for(struct http_server *s, const struct job *j)
{
	if (http_service_path(j))
		return Q_CTL;
	if (s->h.pool && s->h.pool(s->h.ctx, j->method, j->path) == HTTP_POOL_SUGGEST)
		return Q_SUGGEST;
	return Q_GENERAL;
}

long http_queued(struct http_server *s)
{
	long n = 0;
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < NQ; i++) {
		for (struct job *j = s->q[i].head; j; j = j->next)
			n++;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}
