/* metrics: process-wide counters for GET /metrics, safe to update from any
 * thread. Rendered in the Prometheus text exposition format 0.0.4.
 *
 * Series:
 *   sibyl_http_requests_total{route,code}       counter
 *   sibyl_http_request_duration_seconds         histogram
 *   sibyl_suggest_duration_seconds              histogram
 * The api module appends its own gauges (studies, trials by state) through
 * the http_handlers.metrics callback. */
#ifndef SIBYL_METRICS_H
#define SIBYL_METRICS_H

#include <stddef.h>

/* Counts one answered request. route is a label such as "trials.suggest"
 * (NULL: "unknown"); it is copied. seconds is the time from the request
 * line until the answer is ready to send. */
void metrics_observe_request(const char *route, int code, double seconds);

/* The time one suggest call took inside the service. */
void metrics_observe_suggest(double seconds);

/* Writes every series into buf (NUL-terminated) and returns the bytes
 * written, always < cap. When cap is too small the output stops at the end
 * of the last whole line that fits. */
size_t metrics_render(char *buf, size_t cap);

/* Zeroes everything; for tests. */
void metrics_reset(void);

#endif
