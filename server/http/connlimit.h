/* connlimit: every open client connection with the time its current request
 * began, and a reaper thread that closes the ones that take too long to
 * send it. libmicrohttpd's own timeout only measures idleness, so a client
 * sending one header line every few seconds (slowloris) would hold its slot
 * for ever; here each request must be complete within a deadline, and when
 * the server runs short of slots the slowest senders are shed first so that
 * new clients still get in.
 *
 * A connection is "waiting" from its opening, or from the end of its last
 * answer, until its next request has been received whole ("busy": the
 * request is being handled or answered). Only waiting connections are
 * closed, by shutting their socket down: libmicrohttpd then sees the end of
 * the stream and cleans up as for any client that went away. */
#ifndef SIBYL_CONNLIMIT_H
#define SIBYL_CONNLIMIT_H

struct connlimit;
struct connlimit_conn;

struct connlimit_opts {
	int max_connections;     /* the cap libmicrohttpd enforces */
	int headroom;            /* shed waiting connections while fewer slots are free */
	int timeout_ms;          /* a waiting connection older than this is closed */
	int grace_ms;            /* under pressure, a waiting one older than this is */
	int tick_ms;             /* how often the reaper looks */
	void (*tick)(void *arg); /* called by the reaper each round (may be NULL) */
	void *tick_arg;
};

/* Starts the reaper. NULL when out of memory or no thread. */
struct connlimit *connlimit_new(const struct connlimit_opts *o);
/* Stops the reaper and frees everything; connections still registered are
 * forgotten (not closed). NULL-safe. */
void connlimit_free(struct connlimit *cl);

/* A connection on socket fd opened / closed. connlimit_close must come
 * before the socket is closed (libmicrohttpd's CLOSED notification does).
 * open returns NULL when out of memory: that connection is not watched. */
struct connlimit_conn *connlimit_open(struct connlimit *cl, int fd);
void connlimit_close(struct connlimit *cl, struct connlimit_conn *c);

/* Its request was received whole / its answer was sent. NULL-safe. */
void connlimit_busy(struct connlimit *cl, struct connlimit_conn *c);
void connlimit_wait(struct connlimit *cl, struct connlimit_conn *c);

struct connlimit_stats {
	long open;          /* connections now */
	long shed_deadline; /* closed for missing the deadline, since start */
	long shed_pressure; /* closed to keep headroom, since start */
};
void connlimit_stats(struct connlimit *cl, struct connlimit_stats *out /* OUT */);

#endif
