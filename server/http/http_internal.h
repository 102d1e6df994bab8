/* http_internal: what http.c (libmicrohttpd, the request state machine)
 * and http_pool.c (the worker pools) share. */
#ifndef SIBYL_HTTP_INTERNAL_H
#define SIBYL_HTTP_INTERNAL_H

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <time.h>

#include "http.h"
#include "keyload.h"

struct config;
struct connlimit;
struct connlimit_conn;

#define METRICS_CAP (1024 * 1024)
#define CTL_THREADS 2
/* Freed answers at least this large ask the reaper to return memory to the
 * system (malloc_trim) once no large answer is left. */
#define TRIM_BYTES (1024 * 1024)
/* ... and none was made for this many reaper rounds (200 ms each): a trim
 * holds the allocator's locks, so never in the middle of a burst. */
#define TRIM_QUIET_TICKS 5

enum job_state { J_NEW, J_ADMIT, J_ADMITTED, J_BODY, J_QUEUED, J_DONE, J_SENT };
enum { Q_GENERAL = HTTP_POOL_GENERAL, Q_SUGGEST = HTTP_POOL_SUGGEST, Q_CTL, NQ };

struct queue {
	struct job *head, *tail;
	pthread_cond_t cv;
	int fair_cap;         /* most jobs one caller may run at once; 0: no cap */
	struct keyload *fair; /* running jobs by caller */
	long served;          /* jobs taken, for /metrics */
};

struct job {
	struct http_server *srv;
	struct MHD_Connection *conn;
	struct job *next; /* in the work queue */
	enum job_state state;
	char *uri;  /* the request target as received; path and query point in */
	char *path; /* NUL-terminated at the '?' */
	const char *query;
	char *method;
	char *authorization;
	char *accept, *accept_encoding, *if_none_match;
	char client_addr[INET6_ADDRSTRLEN];
	char *body;
	size_t body_len, body_cap, discarded; /* body_cap counts in max_body_memory */
	int too_large;
	int has_body;                      /* Content-Length > 0, or chunked */
	unsigned long long content_length; /* when has_body without chunked */
	int chunked;
	int over_memory;                /* a chunked body past max_body_memory */
	int q;                          /* Q_*: the queue it went to */
	char fair[KEYLOAD_KEY_MAX + 1]; /* who it is for the fair share */
	struct keyload_entry *fair_ent; /* while a worker runs it */
	struct keyload_entry *key;      /* once http_key_admit let it in */
	size_t held;                    /* answer bytes counted against key */
	size_t resp_len;                /* bytes of the answer sent */
	struct connlimit_conn *cc;
	struct http_resp resp; /* filled by the worker */
	struct timespec t0;
	int responded, status;
	const char *route;
};

struct http_server {
	struct MHD_Daemon *d;
	struct http_handlers h;
	size_t max_body;
	int shutdown_ms;
	char *cert_pem, *key_pem;
	pthread_mutex_t mu;
	pthread_cond_t idle_cv;        /* http_stop: inflight reached 0 */
	struct queue q[NQ];            /* Q_*; a worker waits on its queue's cv */
	struct keyload *keys;          /* by API key: requests in flight, answer bytes */
	struct connlimit *conns;       /* deadlines and headroom */
	size_t body_mem, max_body_mem; /* bytes of bodies held, and the cap */
	long max_key_requests;
	size_t max_key_answer;
	size_t big_answers; /* answers of TRIM_BYTES or more not yet freed */
	int trim_wanted;    /* one such was freed since the last trim */
	int quiet_ticks;    /* reaper rounds since the last large answer */
	long inflight;      /* requests between their request line and completion */
	int draining;       /* quiesced: answers carry Connection: close */
	int closing;        /* drain over: no new jobs, queued ones get 503 */
	pthread_t *workers;
	int nworkers;
	struct worker_arg {
		struct http_server *s;
		int q;
	} * wargs;
	int starting;        /* inside MHD_start_daemon */
	char mhd_error[256]; /* MHD's first message then, for http_start's error */
};

/* The error envelope of API.md into r (http.c). */
void http_set_error(struct http_resp *r, int http_status, enum err_code code, const char *msg,
                    const char *route);

/* http_pool.c. Start: the workers of every pool (0, or -1: some did not
 * start; http_pool_stop joins those that did). Stop: closing set, queued
 * jobs answered 503, workers joined. */
int http_pool_start(struct http_server *s, const struct config *cfg);
void http_pool_stop(struct http_server *s);
/* GET /healthz or /metrics. */
int http_service_path(const struct job *j);
/* The queue (Q_*) for a whole request: the router's choice (h.pool). */
int http_queue_for(struct http_server *s, const struct job *j);
/* connlimit's tick: malloc_trim after a burst of large answers. */
void http_pool_tick(void *arg);

/* http_framing.c: 0 with *chunked set, or the HTTP status of a request
 * whose body cannot be framed safely (two different Content-Lengths, a
 * Transfer-Encoding other than chunked, or both kinds), with msg and *code
 * set. */
int http_check_framing(struct MHD_Connection *c, int *chunked, char *msg, size_t cap,
                       enum err_code *code);

#endif
