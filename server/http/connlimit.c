/* connlimit: the connections in a list ordered by the time their current
 * wait began (a connection that starts waiting again moves to the tail), so
 * the reaper finds the oldest waiting ones at the head. */
#include "connlimit.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"

struct connlimit_conn {
	struct connlimit_conn *prev, *next;
	int fd;
	int busy;
	int shed; /* shut down already: no longer counted as taking a slot */
	long long since_ms;
};

struct connlimit {
	struct connlimit_opts o;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* connlimit_free: wake the reaper */
	struct connlimit_conn *head, *tail;
	long open, shed_now, shed_deadline, shed_pressure;
	int stop;
	pthread_t reaper;
};

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void unlink_conn(struct connlimit *cl, struct connlimit_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		cl->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		cl->tail = c->prev;
	c->prev = c->next = NULL;
}

static void append(struct connlimit *cl, struct connlimit_conn *c)
{
	c->prev = cl->tail;
	c->next = NULL;
	if (cl->tail)
		cl->tail->next = c;
	else
		cl->head = c;
	cl->tail = c;
}

static void shed(struct connlimit *cl, struct connlimit_conn *c, long *counter)
{
	c->shed = 1;
	cl->shed_now++;
	(*counter)++;
	shutdown(c->fd, SHUT_RDWR);
}

/* One round: the deadline first, then the headroom. Called locked. */
static void reap(struct connlimit *cl)
{
	long long now = now_ms();
	long deadline = 0, pressure = 0;
	long room = (long)cl->o.max_connections - cl->o.headroom;
	for (struct connlimit_conn *c = cl->head; c; c = c->next) {
		if (c->busy || c->shed)
			continue;
		if (now - c->since_ms < cl->o.timeout_ms)
			break; /* the rest waited less */
		shed(cl, c, &cl->shed_deadline);
		deadline++;
	}
	for (struct connlimit_conn *c = cl->head; c && cl->open - cl->shed_now > room;
	     c = c->next) {
		if (c->busy || c->shed)
			continue;
		if (now - c->since_ms < cl->o.grace_ms)
			break;
		shed(cl, c, &cl->shed_pressure);
		pressure++;
	}
	if (deadline || pressure)
		log_info("event=connections_shed deadline=%ld pressure=%ld open=%ld", deadline,
		         pressure, cl->open);
}

static void *reaper_main(void *arg)
{
	struct connlimit *cl = arg;
	pthread_mutex_lock(&cl->mu);
	while (!cl->stop) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += (long)cl->o.tick_ms * 1000000L;
		t.tv_sec += t.tv_nsec / 1000000000L;
		t.tv_nsec %= 1000000000L;
		int rc = pthread_cond_timedwait(&cl->cv, &cl->mu, &t);
		if (cl->stop)
			break;
		if (rc != ETIMEDOUT)
			continue;
		reap(cl);
		if (cl->o.tick) {
			pthread_mutex_unlock(&cl->mu);
			cl->o.tick(cl->o.tick_arg);
			pthread_mutex_lock(&cl->mu);
		}
	}
	pthread_mutex_unlock(&cl->mu);
	return NULL;
}

struct connlimit *connlimit_new(const struct connlimit_opts *o)
{
	struct connlimit *cl = calloc(1, sizeof(*cl));
	pthread_condattr_t ca;
	if (!cl)
		return NULL;
	cl->o = *o;
	if (cl->o.tick_ms <= 0)
		cl->o.tick_ms = 200;
	pthread_mutex_init(&cl->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cl->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&cl->reaper, NULL, reaper_main, cl) != 0) {
		pthread_cond_destroy(&cl->cv);
		pthread_mutex_destroy(&cl->mu);
		free(cl);
		return NULL;
	}
	return cl;
}

void connlimit_free(struct connlimit *cl)
{
	if (!cl)
		return;
	pthread_mutex_lock(&cl->mu);
	cl->stop = 1;
	pthread_cond_broadcast(&cl->cv);
	pthread_mutex_unlock(&cl->mu);
	pthread_join(cl->reaper, NULL);
	while (cl->head) {
		struct connlimit_conn *c = cl->head;
		unlink_conn(cl, c);
		free(c);
	}
	pthread_cond_destroy(&cl->cv);
	pthread_mutex_destroy(&cl->mu);
	free(cl);
}

struct connlimit_conn *connlimit_open(struct connlimit *cl, int fd)
{
	struct connlimit_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->since_ms = now_ms();
	pthread_mutex_lock(&cl->mu);
	append(cl, c);
	cl->open++;
	pthread_mutex_unlock(&cl->mu);
	return c;
}

void connlimit_close(struct connlimit *cl, struct connlimit_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&cl->mu);
	unlink_conn(cl, c);
	cl->open--;
	if (c->shed)
		cl->shed_now--;
	pthread_mutex_unlock(&cl->mu);
	free(c);
}

void connlimit_busy(struct connlimit *cl, struct connlimit_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&cl->mu);
	c->busy = 1;
	pthread_mutex_unlock(&cl->mu);
}

void connlimit_wait(struct connlimit *cl, struct connlimit_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&cl->mu);
	c->busy = 0;
	c->since_ms = now_ms();
	unlink_conn(cl, c);
	append(cl, c);
	pthread_mutex_unlock(&cl->mu);
}

void connlimit_stats(struct connlimit *cl, struct connlimit_stats *out)
{
	pthread_mutex_lock(&cl->mu);
	out->open = cl->open;
	out->shed_deadline = cl->shed_deadline;
	out->shed_pressure = cl->shed_pressure;
	pthread_mutex_unlock(&cl->mu);
}
