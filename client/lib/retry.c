/* retry: how long and how often a call is tried again, and what the caller
 * is told while it waits (sibyl_wait events through the handle's hook). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define DEFAULT_WINDOW_S 300.0
#define DEFAULT_BASE_MS  250
#define DEFAULT_MAX_MS   10000
#define SAY_EVERY_S      30.0 /* a SIBYL_WAIT_STILL this often while waiting */
#define POLL_SLICE_MS    200  /* a SIBYL_WAIT_POLL at least this often */

double retry_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int retry_parse_window(const char *text, double *seconds)
{
	char *end;
	if (!text || !*text)
		return -1;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(v) || v < 0 || v > RETRY_MAX_WINDOW_S)
		return -1;
	*seconds = v;
	return 0;
}

void retry_policy_init(struct retry_policy *p, unsigned seed)
{
	*p = (struct retry_policy){.max_attempts = 0,
	                           .base_delay_ms = DEFAULT_BASE_MS,
	                           .max_delay_ms = DEFAULT_MAX_MS,
	                           .window_s = DEFAULT_WINDOW_S,
	                           .seed = seed};
	double w;
	if (retry_parse_window(getenv("SIBYL_RETRY_WINDOW"), &w) == 0)
		p->window_s = w;
}

void retry_begin(struct retry_run *r, struct retry_policy *p, const struct servers *s,
                 const char *method, const char *path)
{
	*r = (struct retry_run){.p = p,
	                        .url = s->url[0],
	                        .all = s->all,
	                        .servers = s->n,
	                        .server = (const char *const *)s->url,
	                        .method = method,
	                        .path = path,
	                        .delay_ms = p->base_delay_ms};
}

void retry_note(struct retry_run *r, size_t i)
{
	if (i >= r->servers)
		return;
	if (r->first_fail == 0 && r->servers > 1) /* the window counts from the first failure */
		r->first_fail = retry_now();
	if (r->answered)
		snprintf(r->why[i], sizeof r->why[i], "answered %.240s", r->reason);
	else
		snprintf(r->why[i], sizeof r->why[i], "unreachable (%.200s)", r->reason);
}

void retry_round_text(const struct retry_run *r, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < r->servers && used + 1 < len; i++) {
		if (!r->why[i][0])
			continue;
		int n = snprintf(buf + used, len - used, "%s%s %s", used ? "; " : "", r->server[i],
		                 r->why[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* Tells the hook ev about url (NULL: every server, with each one's last
 * failure) and next (SWITCH). */
static int tell_about(struct retry_run *r, enum sibyl_wait_event ev, double t, const char *url,
                      const char *next)
{
	char round[SERVERS_MAX * 300];
	if (!r->p->hook)
		return 0;
	double waited = r->first_fail > 0 ? t - r->first_fail : 0;
	double left = r->p->window_s - waited;
	const char *reason = r->reason;
	if (!url && r->servers > 1 && ev != SIBYL_WAIT_POLL) {
		retry_round_text(r, round, sizeof round);
		reason = round;
	}
	struct sibyl_wait w = {.event = ev,
	                       .url = url              ? url
	                              : r->servers > 1 ? r->all
	                                               : r->url,
	                       .method = r->method,
	                       .path = r->path,
	                       .reason = reason,
	                       .answered = r->answered,
	                       .waited = waited,
	                       .remaining = left > 0 ? left : 0,
	                       .attempts = r->attempts,
	                       .next_url = next,
	                       .servers = url ? 1 : (int)r->servers};
	return r->p->hook(&w, r->p->hook_ud);
}

static int tell(struct retry_run *r, enum sibyl_wait_event ev, double t)
{
	return tell_about(r, ev, t, NULL, NULL);
}

int retry_switch(struct retry_run *r, size_t i, size_t next)
{
	if (r->said || i >= r->servers || next >= r->servers)
		return 0;
	return tell_about(r, SIBYL_WAIT_SWITCH, retry_now(), r->server[i], r->server[next]) ? -1
	                                                                                    : 0;
}

/* Sleeps ms, asking the hook every slice whether to go on; -1 when it
 * cancelled the wait. */
static int sleep_polling(struct retry_run *r, long ms)
{
	while (ms > 0) {
		long slice = ms < POLL_SLICE_MS ? ms : POLL_SLICE_MS;
		client_sleep_ms(slice);
		ms -= slice;
		if (tell(r, SIBYL_WAIT_POLL, retry_now()))
			return -1;
	}
	return 0;
}

int retry_wait(struct retry_run *r, long retry_after_s)
{
	double t = retry_now();
	const struct retry_policy *p = r->p;
	if (r->first_fail == 0)
		r->first_fail = t;
	double left = p->window_s - (t - r->first_fail);
	if ((p->max_attempts && r->attempts >= p->max_attempts) || left <= 0)
		return retry_give_up(r);
	long delay = r->delay_ms < p->max_delay_ms ? r->delay_ms : p->max_delay_ms;
	/* Half fixed, half random: workers that lost the server together do
	 * not all come back in the same millisecond. */
	long ms = delay / 2 + (long)(rand_r(&r->p->seed) % (unsigned)(delay / 2 + 1));
	if (retry_after_s >= 0 && retry_after_s * 1000 > ms)
		ms = retry_after_s * 1000;
	if (ms > left * 1000)
		ms = (long)(left * 1000) + 1;
	r->delay_ms = delay * 2;
	enum sibyl_wait_event ev = SIBYL_WAIT_POLL;
	if (!r->said)
		ev = SIBYL_WAIT_START;
	else if (t - r->last_said >= SAY_EVERY_S)
		ev = SIBYL_WAIT_STILL;
	if (ev != SIBYL_WAIT_POLL) {
		r->said = 1;
		r->last_said = t;
	}
	if (tell(r, ev, t) || sleep_polling(r, ms) != 0) {
		r->cancelled = 1;
		return -1;
	}
	return 0;
}

int retry_give_up(struct retry_run *r)
{
	if (r->said)
		tell(r, SIBYL_WAIT_GIVE_UP, retry_now());
	return -1;
}

void retry_end(struct retry_run *r)
{
	if (r->said && !r->cancelled)
		tell_about(r, SIBYL_WAIT_BACK, retry_now(), r->url, NULL);
}

/* "4m50s", "12s", "0.3s", "1h02m" */
static void fmt_duration(char *buf, size_t len, double s)
{
	long n = (long)(s + 0.5);
	if (s < 1)
		snprintf(buf, len, "%.1fs", s);
	else if (n < 60)
		snprintf(buf, len, "%lds", n);
	else if (n < 3600)
		snprintf(buf, len, "%ldm%02lds", n / 60, n % 60);
	else
		snprintf(buf, len, "%ldh%02ldm", n / 3600, n / 60 % 60);
}

/* The lines of a call that waits for every one of several servers. */
static void describe_all(const struct sibyl_wait *w, char *buf, size_t len, const char *waited,
                         const char *left)
{
	const char *why = w->reason ? w->reason : "?";
	switch (w->event) {
	case SIBYL_WAIT_START:
		snprintf(buf, len, "no server available (%s); retrying for up to %s", why, left);
		break;
	case SIBYL_WAIT_STILL:
		snprintf(buf, len,
		         "still no server available after %s (%s); retrying for up to %s more",
		         waited, why, left);
		break;
	default:
		snprintf(buf, len, "still no server available after %s (%s); giving up", waited,
		         why);
		break;
	}
}

int sibyl_wait_describe(const struct sibyl_wait *w, char *buf, size_t len)
{
	char waited[32], left[32], what[256];
	if (!w || !buf || len == 0 || w->event == SIBYL_WAIT_POLL)
		return 0;
	fmt_duration(waited, sizeof waited, w->waited);
	fmt_duration(left, sizeof left, w->remaining);
	if (w->answered)
		snprintf(what, sizeof what, "answered %s", w->reason ? w->reason : "?");
	else
		snprintf(what, sizeof what, "unreachable (%s)", w->reason ? w->reason : "?");
	if (w->servers > 1 && w->event != SIBYL_WAIT_BACK && w->event != SIBYL_WAIT_SWITCH) {
		describe_all(w, buf, len, waited, left);
		return 1;
	}
	switch (w->event) {
	case SIBYL_WAIT_START:
		snprintf(buf, len, "server %s %s; retrying for up to %s", w->url, what, left);
		break;
	case SIBYL_WAIT_STILL:
		snprintf(buf, len, "server %s still %s after %s; retrying for up to %s more",
		         w->url, what, waited, left);
		break;
	case SIBYL_WAIT_BACK:
		snprintf(buf, len, "server %s is back after %s", w->url, waited);
		break;
	case SIBYL_WAIT_SWITCH:
		snprintf(buf, len, "server %s %s; trying %s", w->url, what,
		         w->next_url ? w->next_url : "the next one");
		break;
	default:
		snprintf(buf, len, "server %s still %s after %s; giving up", w->url, what, waited);
		break;
	}
	return 1;
}
