/* sibyl-load: a load generator for sibyld (libcurl, one thread and one
 * keep-alive connection per simulated client).
 *
 * Request modes, N connections for a duration:
 *   get       GET a trial (trials completed during set-up)
 *   measure   POST :addTrialMeasurement on the connection's ACTIVE trial
 *             (a new trial every --per-trial measurements, set-up untimed)
 *   complete  POST :complete, each on a distinct ACTIVE trial suggested
 *             during set-up (--pool trials per connection)
 * prints requests/s, p50/p99/max latency and errors.
 *
 * Workers mode: W threads each loop suggest -> complete on one study until
 * its studyStoppingConfig.maxNumTrials budget is spent; prints wall time,
 * errors, duplicates (two trials with the same parameters), suggest and
 * complete p50/p99, and the trial counts read back from the server.
 *
 *   sibyl-load --url http://127.0.0.1:8080 --key KEY --mode get -c 64 -d 10
 *   sibyl-load --url ... --key ... --mode workers --workers 256 --budget 1000
 *
 * Several daemons on one database: --url takes a comma-separated list;
 * connection (or worker) i talks to URL i mod n, set-up and read-back to
 * the first (no fail-over: a benchmark measures, it does not ride out).
 *
 * Everything it allocates is freed by the function that allocated it or at
 * exit of main; it is a benchmark tool, not a library. */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "curlbuf.h"

enum mode { MODE_GET, MODE_MEASURE, MODE_COMPLETE, MODE_WORKERS };

struct opts {
	const char *url;
	const char *key;
	const char *owner;
	const char *algorithm;
	enum mode mode;
	int conns;
	double duration;
	int per_trial;
	int pool;
	int workers;
	int budget;
	int dims;
};

static struct opts O = {
    .owner = "bench",
    .algorithm = NULL,
    .mode = MODE_GET,
    .conns = 64,
    .duration = 10.0,
    .per_trial = 100,
    .pool = 200,
    .workers = 256,
    .budget = 1000,
    .dims = 6,
};

static char study_path[512]; /* "/v1/owners/O/studies/S" */

#define MAX_URLS 16
static char *urls[MAX_URLS]; /* --url split at commas */
static int n_urls;

/* ------------------------------------------------------------ HTTP */

struct conn {
	const char *base; /* one of urls */
	CURL *h;
	struct curl_slist *hdrs;
	struct curlbuf body;
	CURLcode last; /* the last transfer's result, for reports */
};

static int conn_init(struct conn *c, int index)
{
	char auth[512];
	memset(c, 0, sizeof(*c));
	c->base = urls[index % n_urls];
	c->h = curl_easy_init();
	if (!c->h)
		return -1;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", O.key);
	c->hdrs = curl_slist_append(NULL, auth);
	c->hdrs = curl_slist_append(c->hdrs, "Content-Type: application/json");
	c->hdrs = curl_slist_append(c->hdrs, "Expect:");
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, curlbuf_write);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &c->body);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 600L);
	curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
	return 0;
}

static void conn_free(struct conn *c)
{
	curl_slist_free_all(c->hdrs);
	curl_easy_cleanup(c->h);
	curlbuf_free(&c->body);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One request; path is appended to the connection's URL. Returns the HTTP status (0 on a
 * transport error); the body is in c->body. *secs gets the time taken. */
static long call(struct conn *c, const char *method, const char *path, const char *body,
                 double *secs)
{
	char url[2048];
	long status = 0;
	snprintf(url, sizeof(url), "%s%s", c->base, path);
	curlbuf_clear(&c->body);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST,
		                 strcmp(method, "POST") == 0 ? NULL : method);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body ? body : "{}");
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body ? body : "{}"));
	}
	double t0 = now();
	CURLcode rc = curl_easy_perform(c->h);
	c->last = rc;
	if (secs)
		*secs = now() - t0;
	if (rc != CURLE_OK)
		return 0;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

static long callf(struct conn *c, const char *method, const char *path, double *secs,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static long callf(struct conn *c, const char *method, const char *path, double *secs,
                  const char *fmt, ...)
{
	char body[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	return call(c, method, path, body, secs);
}

/* The error envelope's status name (and message when with_message), for
 * reports. */
static const char *error_text(const struct conn *c, int with_message, char *out, size_t cap)
{
	json_t *j = c->body.data ? json_loads(c->body.data, 0, NULL) : NULL;
	json_t *e = json_object_get(j, "error");
	const char *s = json_string_value(json_object_get(e, "status"));
	const char *m = json_string_value(json_object_get(e, "message"));
	snprintf(out, cap, "%s%s%s", s ? s : "?", with_message && m ? ": " : "",
	         with_message && m ? m : "");
	json_decref(j);
	return out;
}

static const char *status_name(const struct conn *c, char *out, size_t cap)
{
	return error_text(c, 0, out, cap);
}

/* ------------------------------------------------------------ samples */

struct samples {
	double *v;
	size_t n, cap;
};

static void sample_add(struct samples *s, double x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		double *nv = realloc(s->v, cap * sizeof(*nv));
		if (!nv)
			return;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = x;
}

static void sample_merge(struct samples *dst, const struct samples *src)
{
	for (size_t i = 0; i < src->n; i++)
		sample_add(dst, src->v[i]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(struct samples *s, double q)
{
	if (s->n == 0)
		return 0.0;
	qsort(s->v, s->n, sizeof(double), cmp_double);
	size_t i = (size_t)(q / 100.0 * (double)(s->n - 1) + 0.5);
	return s->v[i < s->n ? i : s->n - 1];
}

/* ------------------------------------------------------------ set-up */

/* Creates the owner (ignored when it exists or the key is not admin) and a
 * study; fills study_path. Returns 0 or -1 after printing why. */
static int setup_study(struct conn *c, const char *algorithm, int budget)
{
	char params[2048], stop[128] = "", name[128];
	size_t off = 0;
	long st;
	callf(c, "POST", "/v1/owners", NULL, "{\"ownerId\":\"%s\"}", O.owner);
	for (int i = 0; i < O.dims; i++)
		off += (size_t)snprintf(params + off, sizeof(params) - off,
		                        "%s{\"parameterId\":\"x%d\",\"doubleValueSpec\":"
		                        "{\"minValue\":0,\"maxValue\":1}}",
		                        i ? "," : "", i + 1);
	if (budget > 0)
		snprintf(stop, sizeof(stop), ",\"studyStoppingConfig\":{\"maxNumTrials\":%d}",
		         budget);
	snprintf(name, sizeof(name), "load-%ld-%ld", (long)getpid(), (long)time(NULL));
	char path[256];
	snprintf(path, sizeof(path), "/v1/owners/%s/studies", O.owner);
	st = callf(
	    c, "POST", path, NULL,
	    "{\"displayName\":\"%s\",\"studySpec\":{\"metrics\":[{\"metricId\":\"value\","
	    "\"goal\":\"MINIMIZE\"}],\"parameters\":[%s],\"algorithm\":\"%s\",\"seed\":\"1\"%s}}",
	    name, params, algorithm, stop);
	if (st != 200) {
		fprintf(stderr, "sibyl-load: create study: HTTP %ld %s\n", st,
		        c->body.data ? c->body.data : "");
		return -1;
	}
	snprintf(study_path, sizeof(study_path), "/v1/owners/%s/studies/%s", O.owner, name);
	return 0;
}

/* Suggests count trials for client_id; writes up to cap trial ids into ids.
 * Returns how many, or -1. */
static int suggest_ids(struct conn *c, const char *client_id, int count, long *ids, int cap,
                       double *secs)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/trials:suggest", study_path);
	long st = callf(c, "POST", path, secs, "{\"suggestionCount\":%d,\"clientId\":\"%s\"}",
	                count, client_id);
	if (st != 200)
		return -(int)(st ? st : 1);
	json_t *j = json_loads(c->body.data ? c->body.data : "", 0, NULL);
	json_t *trials = json_object_get(json_object_get(j, "response"), "trials");
	int n = 0;
	for (size_t i = 0; i < json_array_size(trials) && n < cap; i++) {
		const char *id =
		    json_string_value(json_object_get(json_array_get(trials, i), "id"));
		if (id)
			ids[n++] = strtol(id, NULL, 10);
	}
	json_decref(j);
	return n;
}

static long complete_trial(struct conn *c, long id, double value, double *secs)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/trials/%ld:complete", study_path, id);
	return callf(
	    c, "POST", path, secs,
	    "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"value\",\"value\":%.17g}]}}",
	    value);
}

/* ------------------------------------------------------------ request modes */

struct worker {
	pthread_t tid;
	int index;
	struct conn c;
	struct samples lat;  /* request seconds (suggest seconds in workers mode) */
	struct samples lat2; /* complete seconds in workers mode */
	long ok, errors;
	long *ids; /* get: shared trial ids; complete: this worker's pool */
	int nids;
	char **params; /* workers mode: "params\ttrial id" per suggested trial */
	size_t nparams, capparams;
	char first_error[512];
	double end;
};

static pthread_barrier_t start_line;
static double t_start;

static void note_error(struct worker *w, long st)
{
	w->errors++;
	if (!w->first_error[0]) {
		char text[400];
		if (st == 0)
			snprintf(w->first_error, sizeof(w->first_error), "transport: %s",
			         curl_easy_strerror(w->c.last));
		else
			snprintf(w->first_error, sizeof(w->first_error), "HTTP %ld %s", st,
			         error_text(&w->c, 1, text, sizeof(text)));
	}
}

static int prepare_worker(struct worker *w, long *shared, int nshared)
{
	char client[64];
	if (O.mode == MODE_GET) {
		w->ids = shared;
		w->nids = nshared;
		return 0;
	}
	if (O.mode == MODE_MEASURE) {
		w->ids = calloc(1, sizeof(long));
		snprintf(client, sizeof(client), "m%d-0", w->index);
		w->nids = suggest_ids(&w->c, client, 1, w->ids, 1, NULL) == 1 ? 1 : 0;
		return w->nids == 1 ? 0 : -1;
	}
	/* complete: distinct client ids per batch, or suggest would hand the
	 * same ACTIVE trials back. */
	w->ids = calloc((size_t)O.pool, sizeof(long));
	for (int b = 0; w->nids < O.pool; b++) {
		int want = O.pool - w->nids > 100 ? 100 : O.pool - w->nids;
		snprintf(client, sizeof(client), "c%d-%d", w->index, b);
		int got = suggest_ids(&w->c, client, want, w->ids + w->nids, want, NULL);
		if (got <= 0)
			return -1;
		w->nids += got;
	}
	return 0;
}

static void *request_loop(void *arg)
{
	struct worker *w = arg;
	char path[600];
	unsigned seed = (unsigned)w->index * 2654435761u;
	int step = 0, rot = 0, next = 0;
	pthread_barrier_wait(&start_line);
	double stop_at = t_start + O.duration;
	while (now() < stop_at) {
		double secs = 0;
		long st;
		if (O.mode == MODE_GET) {
			long id = w->ids[rand_r(&seed) % (unsigned)w->nids];
			snprintf(path, sizeof(path), "%s/trials/%ld", study_path, id);
			st = call(&w->c, "GET", path, NULL, &secs);
		} else if (O.mode == MODE_MEASURE) {
			if (step == O.per_trial) { /* untimed: a fresh trial */
				char client[64];
				complete_trial(&w->c, w->ids[0], 1.0, NULL);
				snprintf(client, sizeof(client), "m%d-%d", w->index, ++rot);
				if (suggest_ids(&w->c, client, 1, w->ids, 1, NULL) != 1) {
					note_error(w, 0);
					break;
				}
				step = 0;
			}
			step++;
			snprintf(path, sizeof(path), "%s/trials/%ld:addTrialMeasurement",
			         study_path, w->ids[0]);
			st = callf(
			    &w->c, "POST", path, &secs,
			    "{\"measurement\":{\"stepCount\":\"%d\",\"metrics\":[{\"metricId\":"
			    "\"value\",\"value\":%.6f}]}}",
			    step, 1.0 / step);
		} else {
			if (next == w->nids)
				break; /* pool used up before the duration */
			st = complete_trial(&w->c, w->ids[next++], 0.5, &secs);
		}
		if (st == 200) {
			w->ok++;
			sample_add(&w->lat, secs);
		} else {
			note_error(w, st);
		}
	}
	w->end = now();
	return NULL;
}

/* ------------------------------------------------------------ workers mode */

static double objective(json_t *params, char *key, size_t cap)
{
	double y = 0.0;
	size_t off = 0;
	key[0] = '\0';
	for (size_t i = 0; i < json_array_size(params); i++) {
		json_t *p = json_array_get(params, i);
		double x = json_number_value(json_object_get(p, "value"));
		const char *id = json_string_value(json_object_get(p, "parameterId"));
		y += (x - 0.3) * (x - 0.3);
		if (off < cap)
			off +=
			    (size_t)snprintf(key + off, cap - off, "%s=%.17g;", id ? id : "?", x);
	}
	return y;
}

static void *worker_loop(void *arg)
{
	struct worker *w = arg;
	char client[64], path[600], key[1024];
	int consecutive = 0;
	snprintf(client, sizeof(client), "w%d", w->index);
	snprintf(path, sizeof(path), "%s/trials:suggest", study_path);
	pthread_barrier_wait(&start_line);
	while (consecutive < 20) {
		double secs = 0;
		long st = callf(&w->c, "POST", path, &secs,
		                "{\"suggestionCount\":1,\"clientId\":\"%s\"}", client);
		if (st == 400) {
			char name[64];
			if (strcmp(status_name(&w->c, name, sizeof(name)), "FAILED_PRECONDITION") ==
			    0)
				break; /* the budget is spent: the normal end */
		}
		if (st != 200) {
			note_error(w, st);
			consecutive++;
			continue;
		}
		sample_add(&w->lat, secs);
		json_t *j = json_loads(w->c.body.data ? w->c.body.data : "", 0, NULL);
		json_t *resp = json_object_get(j, "response");
		json_t *trial = json_array_get(json_object_get(resp, "trials"), 0);
		const char *id = json_string_value(json_object_get(trial, "id"));
		if (!trial || !id) {
			const char *state = json_string_value(json_object_get(resp, "studyState"));
			json_decref(j);
			if (state && strcmp(state, "COMPLETED") == 0)
				break;
			note_error(w, st);
			consecutive++;
			continue;
		}
		double y = objective(json_object_get(trial, "parameters"), key, sizeof(key));
		long tid = strtol(id, NULL, 10);
		json_decref(j);
		if (w->nparams == w->capparams) {
			size_t cap = w->capparams ? w->capparams * 2 : 64;
			char **np = realloc(w->params, cap * sizeof(*np));
			if (!np)
				break;
			w->params = np;
			w->capparams = cap;
		}
		size_t klen = strlen(key) + 32;
		char *entry = malloc(klen);
		if (!entry)
			break;
		snprintf(entry, klen, "%s\t%ld", key, tid);
		w->params[w->nparams++] = entry;
		st = complete_trial(&w->c, tid, y, &secs);
		if (st != 200) {
			note_error(w, st);
			consecutive++;
			continue;
		}
		sample_add(&w->lat2, secs);
		w->ok++;
		consecutive = 0;
	}
	w->end = now();
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Counts pairs of different trials with equal parameters. */
static long count_duplicates(char **entries, size_t n)
{
	long dups = 0;
	qsort(entries, n, sizeof(char *), cmp_str);
	for (size_t i = 1; i < n; i++) {
		const char *a = entries[i - 1], *b = entries[i];
		const char *ta = strchr(a, '\t'), *tb = strchr(b, '\t');
		if (ta && tb && ta - a == tb - b && memcmp(a, b, (size_t)(ta - a)) == 0 &&
		    strcmp(ta, tb) != 0)
			dups++;
	}
	return dups;
}

/* Reads back every trial of the study and counts them by state. */
static void count_states(struct conn *c, long *total, long *succeeded, long *active)
{
	char path[1200], token[512] = "";
	*total = *succeeded = *active = 0;
	for (;;) {
		snprintf(path, sizeof(path), "%s/trials?pageSize=1000%s%s", study_path,
		         token[0] ? "&pageToken=" : "", token);
		if (call(c, "GET", path, NULL, NULL) != 200) {
			*total = -1;
			return;
		}
		json_t *j = json_loads(c->body.data ? c->body.data : "", 0, NULL);
		json_t *trials = json_object_get(j, "trials");
		for (size_t i = 0; i < json_array_size(trials); i++) {
			const char *s =
			    json_string_value(json_object_get(json_array_get(trials, i), "state"));
			(*total)++;
			if (s && strcmp(s, "SUCCEEDED") == 0)
				(*succeeded)++;
			if (s && strcmp(s, "ACTIVE") == 0)
				(*active)++;
		}
		const char *next = json_string_value(json_object_get(j, "nextPageToken"));
		/* Tokens are opaque; escape them for the query string. */
		char *esc = next && next[0] ? curl_easy_escape(c->h, next, 0) : NULL;
		snprintf(token, sizeof(token), "%s", esc ? esc : "");
		curl_free(esc);
		json_decref(j);
		if (!token[0])
			return;
	}
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fprintf(f, "usage: sibyl-load --url URL[,URL...] --key KEY [--owner bench]\n"
	           "         --mode get|measure|complete [-c CONNECTIONS=64] [-d SECONDS=10]\n"
	           "         [--per-trial 100 (measure)] [--pool 200 (complete, per connection)]\n"
	           "       sibyl-load --url URL --key KEY --mode workers [--workers 256]\n"
	           "         [--budget 1000] [--algorithm GAUSSIAN_PROCESS_EI] [--dims 6]\n");
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* Splits --url at commas into urls (blanks around an entry dropped). */
static int split_urls(const char *list)
{
	const char *p = list;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '/'))
			len--;
		if (!len || n_urls == MAX_URLS) {
			fprintf(stderr, "sibyl-load: --url: %s\n",
			        len ? "more than 16 URLs" : "an empty entry");
			return -1;
		}
		urls[n_urls++] = strndup(p, len);
		p += len;
		while (*p && *p != ',')
			p++;
		if (*p == ',' && !*++p) {
			fprintf(stderr, "sibyl-load: --url: an empty entry\n");
			return -1;
		}
	}
	return n_urls ? 0 : -1;
}

static int parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (!v) {
			fprintf(stderr, "sibyl-load: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (strcmp(a, "--url") == 0) {
			O.url = v;
		} else if (strcmp(a, "--key") == 0) {
			O.key = v;
		} else if (strcmp(a, "--owner") == 0) {
			O.owner = v;
		} else if (strcmp(a, "--algorithm") == 0) {
			O.algorithm = v;
		} else if (strcmp(a, "--mode") == 0) {
			if (strcmp(v, "get") == 0)
				O.mode = MODE_GET;
			else if (strcmp(v, "measure") == 0)
				O.mode = MODE_MEASURE;
			else if (strcmp(v, "complete") == 0)
				O.mode = MODE_COMPLETE;
			else if (strcmp(v, "workers") == 0)
				O.mode = MODE_WORKERS;
			else
				bad = 1;
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "--connections") == 0) {
			bad = parse_int(v, 1, 4096, &O.conns);
		} else if (strcmp(a, "-d") == 0 || strcmp(a, "--duration") == 0) {
			char *end;
			O.duration = strtod(v, &end);
			bad = end == v || *end || O.duration <= 0;
		} else if (strcmp(a, "--per-trial") == 0) {
			bad = parse_int(v, 1, 10000, &O.per_trial);
		} else if (strcmp(a, "--pool") == 0) {
			bad = parse_int(v, 1, 1000000, &O.pool);
		} else if (strcmp(a, "--workers") == 0) {
			bad = parse_int(v, 1, 4096, &O.workers);
		} else if (strcmp(a, "--budget") == 0) {
			bad = parse_int(v, 1, 10000000, &O.budget);
		} else if (strcmp(a, "--dims") == 0) {
			bad = parse_int(v, 1, 100, &O.dims);
		} else {
			fprintf(stderr, "sibyl-load: unknown option %s\n", a);
			usage(stderr);
			return -1;
		}
		if (bad) {
			fprintf(stderr, "sibyl-load: bad value for %s: %s\n", a, v);
			return -1;
		}
	}
	if (!O.url || !O.key) {
		usage(stderr);
		return -1;
	}
	return split_urls(O.url);
}

static void report_requests(struct worker *ws, int n, double wall)
{
	struct samples all = {0};
	long ok = 0, errors = 0;
	const char *first = "";
	for (int i = 0; i < n; i++) {
		sample_merge(&all, &ws[i].lat);
		ok += ws[i].ok;
		errors += ws[i].errors;
		if (!first[0] && ws[i].first_error[0])
			first = ws[i].first_error;
	}
	static const char *names[] = {"get trial", "addTrialMeasurement", "complete"};
	printf("mode %s, %d connections, %.1f s: %ld ok, %ld errors%s%s\n", names[O.mode], n, wall,
	       ok, errors, errors ? ", first: " : "", first);
	printf("requests/s %.0f  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", (double)ok / wall,
	       pct(&all, 50) * 1e3, pct(&all, 99) * 1e3, pct(&all, 100) * 1e3);
	free(all.v);
}

static void report_workers(struct worker *ws, int n, double wall, struct conn *c)
{
	struct samples sug = {0}, com = {0};
	long ok = 0, errors = 0, total, succeeded, active;
	size_t nentries = 0;
	const char *first = "";
	for (int i = 0; i < n; i++) {
		sample_merge(&sug, &ws[i].lat);
		sample_merge(&com, &ws[i].lat2);
		ok += ws[i].ok;
		errors += ws[i].errors;
		nentries += ws[i].nparams;
		if (!first[0] && ws[i].first_error[0])
			first = ws[i].first_error;
	}
	char **entries = calloc(nentries ? nentries : 1, sizeof(char *));
	size_t k = 0;
	for (int i = 0; i < n; i++)
		for (size_t j = 0; j < ws[i].nparams; j++)
			entries[k++] = ws[i].params[j];
	long dups = entries ? count_duplicates(entries, k) : -1;
	count_states(c, &total, &succeeded, &active);
	printf("workers %d, budget %d, algorithm %s, %d-d: wall %.1f s (%.1f trials/s)\n", n,
	       O.budget, O.algorithm, O.dims, wall, (double)ok / wall);
	printf("completed by workers %ld, errors %ld%s%s, duplicates %ld\n", ok, errors,
	       errors ? ", first: " : "", first, dups);
	if (total < 0)
		printf("server: could not list the study's trials (is sibyld still running?)\n");
	else
		printf("server: %ld trials, %ld SUCCEEDED, %ld ACTIVE\n", total, succeeded, active);
	printf(
	    "suggest p50 %.1f ms  p99 %.1f ms  max %.1f ms;  complete p50 %.2f ms  p99 %.2f ms\n",
	    pct(&sug, 50) * 1e3, pct(&sug, 99) * 1e3, pct(&sug, 100) * 1e3, pct(&com, 50) * 1e3,
	    pct(&com, 99) * 1e3);
	free(entries);
	free(sug.v);
	free(com.v);
}

int main(int argc, char **argv)
{
	if (parse_args(argc, argv) != 0)
		return 2;
	if (!O.algorithm)
		O.algorithm = O.mode == MODE_WORKERS ? "GAUSSIAN_PROCESS_EI" : "RANDOM_SEARCH";
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	struct conn setup;
	if (conn_init(&setup, 0) != 0 ||
	    setup_study(&setup, O.algorithm, O.mode == MODE_WORKERS ? O.budget : 0) != 0)
		return 1;

	int n = O.mode == MODE_WORKERS ? O.workers : O.conns;
	long shared[100];
	int nshared = 0;
	if (O.mode == MODE_GET) {
		nshared = suggest_ids(&setup, "setup", 100, shared, 100, NULL);
		if (nshared <= 0) {
			fprintf(stderr, "sibyl-load: set-up suggest failed: %s\n",
			        setup.body.data ? setup.body.data : "");
			return 1;
		}
		for (int i = 0; i < nshared; i++)
			complete_trial(&setup, shared[i], (double)i, NULL);
	}

	struct worker *ws = calloc((size_t)n, sizeof(*ws));
	if (!ws)
		return 1;
	for (int i = 0; i < n; i++) {
		ws[i].index = i;
		if (conn_init(&ws[i].c, i) != 0 ||
		    (O.mode != MODE_WORKERS && prepare_worker(&ws[i], shared, nshared) != 0)) {
			fprintf(stderr, "sibyl-load: set-up of connection %d failed: %s\n", i,
			        ws[i].c.body.data ? ws[i].c.body.data : "");
			return 1;
		}
	}
	pthread_barrier_init(&start_line, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++)
		if (pthread_create(&ws[i].tid, NULL,
		                   O.mode == MODE_WORKERS ? worker_loop : request_loop,
		                   &ws[i]) != 0) {
			fprintf(stderr, "sibyl-load: cannot start thread %d\n", i);
			return 1;
		}
	t_start = now();
	pthread_barrier_wait(&start_line);
	double last = t_start;
	for (int i = 0; i < n; i++) {
		pthread_join(ws[i].tid, NULL);
		if (ws[i].end > last)
			last = ws[i].end;
	}
	double wall = last - t_start;
	printf("study %s on %d daemon%s\n", study_path, n_urls, n_urls > 1 ? "s" : "");
	if (O.mode == MODE_WORKERS)
		report_workers(ws, n, wall, &setup);
	else
		report_requests(ws, n, wall);

	for (int i = 0; i < n; i++) {
		conn_free(&ws[i].c);
		free(ws[i].lat.v);
		free(ws[i].lat2.v);
		if (O.mode != MODE_GET)
			free(ws[i].ids);
		for (size_t j = 0; j < ws[i].nparams; j++)
			free(ws[i].params[j]);
		free(ws[i].params);
	}
	free(ws);
	conn_free(&setup);
	pthread_barrier_destroy(&start_line);
	curl_global_cleanup();
	for (int i = 0; i < n_urls; i++)
		free(urls[i]);
	return 0;
}
