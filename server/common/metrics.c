#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Routes are a small fixed set of static labels, so a flat table with a
 * linear search is enough; the cap only guards against a handler that
 * invents labels per request. */
#define MAX_SERIES 256
#define ROUTE_LEN  64

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct histogram {
	unsigned long long counts[NBUCKETS]; /* per bucket, not cumulative */
	unsigned long long total;
	double sum;
};

struct series {
	char route[ROUTE_LEN];
	int code;
	unsigned long long count;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series series[MAX_SERIES];
static size_t nseries;
static unsigned long long dropped; /* requests past MAX_SERIES labels */
static struct histogram req_hist, suggest_hist;

static void observe(struct histogram *h, double s)
{
	if (!(s >= 0))
		s = 0;
	for (size_t i = 0; i < NBUCKETS; i++) {
		if (s <= buckets[i]) {
			h->counts[i]++;
			break;
		}
	}
	h->total++;
	h->sum += s;
}

void metrics_observe_request(const char *route, int code, double seconds)
{
	if (!route)
		route = "unknown";
	pthread_mutex_lock(&lock);
	size_t i;
	for (i = 0; i < nseries; i++) {
		if (series[i].code == code && strcmp(series[i].route, route) == 0)
			break;
	}
	if (i == nseries && nseries < MAX_SERIES) {
		snprintf(series[i].route, sizeof(series[i].route), "%s", route);
		/* A label value must not break the exposition format. */
		for (char *c = series[i].route; *c; c++) {
			if (*c == '"' || *c == '\\' || *c == '\n')
				*c = '_';
		}
		series[i].code = code;
		series[i].count = 0;
		nseries++;
	}
	if (i < nseries)
		series[i].count++;
	else
		dropped++;
	observe(&req_hist, seconds);
	pthread_mutex_unlock(&lock);
}

void metrics_observe_suggest(double seconds)
{
	pthread_mutex_lock(&lock);
	observe(&suggest_hist, seconds);
	pthread_mutex_unlock(&lock);
}

void metrics_reset(void)
{
	pthread_mutex_lock(&lock);
	memset(series, 0, sizeof(series));
	nseries = 0;
	dropped = 0;
	memset(&req_hist, 0, sizeof(req_hist));
	memset(&suggest_hist, 0, sizeof(suggest_hist));
	pthread_mutex_unlock(&lock);
}

struct out {
	char *buf;
	size_t cap, len;
	int full;
};

/* Appends one line, or nothing once a line has not fitted. */
__attribute__((format(printf, 2, 3))) static void line(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = 1;
		o->buf[o->len] = '\0';
		return;
	}
	o->len += (size_t)n;
}

static void render_hist(struct out *o, const char *name, const char *help,
                        const struct histogram *h)
{
	unsigned long long cum = 0;
	line(o, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (size_t i = 0; i < NBUCKETS; i++) {
		cum += h->counts[i];
		line(o, "%s_bucket{le=\"%g\"} %llu\n", name, buckets[i], cum);
	}
	line(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, h->total);
	line(o, "%s_sum %.9g\n%s_count %llu\n", name, h->sum, name, h->total);
}

size_t metrics_render(char *buf, size_t cap)
{
	struct out o = {buf, cap, 0, 0};
	if (!buf || cap == 0)
		return 0;
	buf[0] = '\0';
	pthread_mutex_lock(&lock);
	line(&o, "# HELP sibyl_http_requests_total HTTP requests answered, by route and status "
	         "code.\n# TYPE sibyl_http_requests_total counter\n");
	for (size_t i = 0; i < nseries; i++)
		line(&o, "sibyl_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
		     series[i].route, series[i].code, series[i].count);
	if (dropped)
		line(&o, "sibyl_http_requests_total{route=\"other\",code=\"0\"} %llu\n", dropped);
	render_hist(&o, "sibyl_http_request_duration_seconds",
	            "Time from the request line until the answer is ready to send.", &req_hist);
	render_hist(&o, "sibyl_suggest_duration_seconds",
	            "Time one trials:suggest call took in the service.", &suggest_hist);
	pthread_mutex_unlock(&lock);
	return o.len;
}
