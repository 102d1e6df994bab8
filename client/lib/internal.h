/* internal: what the files of libsibyl share. Not installed.
 *
 * client.c owns the handle, HTTP and the last error; retry.c decides when
 * and how long a failed call is tried again; codec.c turns JSON
 * into the public structs and back; studies.c, trials.c and admin.c are
 * one function per API method. */
#ifndef SIBYL_CLIENT_INTERNAL_H
#define SIBYL_CLIENT_INTERNAL_H

#include <jansson.h>

#include "sibyl/sibyl.h"

/* Whether a request may be repeated once it may have reached the server. */
enum client_retry { CLIENT_ONCE = 0, CLIENT_IDEMPOTENT = 1 };

/* The servers a handle fails over between (servers.c). */
#define SERVERS_MAX 16
struct servers {
	char *url[SERVERS_MAX]; /* trimmed, without trailing slashes */
	size_t n;
	char *all; /* "http://h1:8080, http://h2:8080", for messages */
};

/* Parses a comma-separated list of http:// or https:// URLs into *s (free
 * with servers_free()). 0, or -1 with why (a sentence naming the bad entry)
 * and nothing to free. */
int servers_parse(const char *text, struct servers *s, char *why, size_t len);
void servers_free(struct servers *s);

/* The retry settings of a handle. */
struct retry_policy {
	int max_attempts; /* 0: no limit but the window */
	long base_delay_ms, max_delay_ms;
	double window_s;
	sibyl_wait_fn hook;
	void *hook_ud;
	unsigned seed; /* backoff jitter */
};

/* One call's retries. */
struct retry_run {
	struct retry_policy *p;
	const char *url;           /* the server of the current attempt */
	const char *all;           /* every server, for messages */
	size_t servers;            /* how many */
	const char *const *server; /* [servers] */
	const char *method, *path;
	double first_fail; /* retry_now() of the first failure, 0 before one */
	double last_said;  /* when START or STILL was last told */
	int said;          /* START was told */
	int cancelled;     /* the hook stopped the wait */
	int attempts;
	int answered;      /* the last failure was an HTTP answer */
	int maybe_applied; /* an earlier attempt may have reached the server */
	long delay_ms;
	char reason[256]; /* the last failure, for the hook */
	/* each server's last failure ("unreachable (...)", "answered 503 ..."),
	 * "" when none yet */
	char why[SERVERS_MAX][256];
};

#define RETRY_MAX_WINDOW_S (7.0 * 24 * 3600)

/* Defaults (window from SIBYL_RETRY_WINDOW when valid). */
void retry_policy_init(struct retry_policy *p, unsigned seed);
/* Seconds "30", "0.5" within 0..604800 into *seconds; 0 or -1. */
int retry_parse_window(const char *text, double *seconds);
double retry_now(void);
void retry_begin(struct retry_run *r, struct retry_policy *p, const struct servers *s,
                 const char *method, const char *path);
/* After a failed attempt on server i that moves on (r->reason and
 * r->answered set): keeps it for the messages; the window starts at the
 * call's first failure. */
void retry_note(struct retry_run *r, size_t i);
/* Moving from server i to server next without waiting: tells SWITCH (in the
 * first round only: once a call waits, its messages cover every server).
 * Returns -1 when the hook cancelled, else 0. */
int retry_switch(struct retry_run *r, size_t i, size_t next);
/* The servers' last failures joined ("http://a unreachable (...); http://b
 * answered 503 ..."), into buf. */
void retry_round_text(const struct retry_run *r, char *buf, size_t len);
/* After a failed attempt that may be retried (r->attempts, r->reason and
 * r->answered set): tells the hook, sleeps the backoff (or retry_after_s
 * when >= 0, whichever is longer, within the window) and returns 0 to try
 * again, or -1 when the window or the attempts ran out or the hook
 * cancelled. */
int retry_wait(struct retry_run *r, long retry_after_s);
/* A failure that will not be retried: tells GIVE_UP when START was told. */
int retry_give_up(struct retry_run *r);
/* An answer came: tells BACK when START was told. */
void retry_end(struct retry_run *r);

/* Sends METHOD url/v1/path with body (borrowed; NULL: no body). On a 2xx
 * answer sets *out (may be NULL when not wanted) to the parsed body (a new
 * reference: json_decref() it) and returns 0; else sets the handle's error
 * and returns its negated code. path must already be escaped. */
int client_call(struct sibyl_client *c, const char *method, const char *path, json_t *body,
                enum client_retry retry, json_t **out /* OUT */);

/* Sets the handle's error (HTTP status 0) and returns -code. */
int client_fail(struct sibyl_client *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The enum sibyl_code of a google.rpc status name ("NOT_FOUND"), 0 when
 * unknown. */
int client_code_from_name(const char *name);

/* Sleeps ms milliseconds, through signals. */
void client_sleep_ms(long ms);

/* Clears the handle's error. */
void client_ok(struct sibyl_client *c);

/* Checks that a name or id holds only characters that need no escaping in a
 * URL path ([A-Za-z0-9._:/-]) and is not empty; else sets EUSAGE naming
 * what (e.g. "study name") and returns -SIBYL_EUSAGE. */
int client_check_name(struct sibyl_client *c, const char *what, const char *name);

/* A malloc'd, percent-escaped copy of s for a query string, or NULL (OOM). */
char *client_escape(struct sibyl_client *c, const char *s);

/* "PREFIX?pageSize=N&pageToken=T&filter=F" (only the parts given) as a new
 * string, or NULL with the handle's error set. */
char *studies_list_path(struct sibyl_client *c, const char *prefix, int page_size,
                        const char *page_token, const char *filter);

/* Decoders: 0 and a new object in *out, or a negated code with the handle's
 * error set (EPROTOCOL for JSON that is not what API.md promises). */
int codec_trial(struct sibyl_client *c, json_t *j, struct sibyl_trial **out);
int codec_trial_array(struct sibyl_client *c, json_t *arr, struct sibyl_trial_list *l);
int codec_study(struct sibyl_client *c, json_t *j, struct sibyl_study **out);
int codec_operation(struct sibyl_client *c, json_t *j, struct sibyl_operation **out);
int codec_owner(struct sibyl_client *c, json_t *j, struct sibyl_owner **out);
int codec_api_key(struct sibyl_client *c, json_t *j, struct sibyl_api_key **out);

/* A copy of j's "nextPageToken" (or NULL) into *tok; -ENOMEM on OOM. */
int codec_page_token(struct sibyl_client *c, json_t *j, char **tok);

/* Encoders: a new JSON value, or NULL with the handle's error set. */
json_t *codec_measurement_json(struct sibyl_client *c, const struct sibyl_measurement *m);
json_t *codec_parameters_json(struct sibyl_client *c, const struct sibyl_parameter *p, size_t n);

/* metadata.c: j's "metadata" object into *n entries sorted by key (*out
 * NULL when none); -SIBYL_EPROTOCOL when it is not an object of strings,
 * -SIBYL_ENOMEM. Nothing is left to free on failure. */
int codec_metadata(json_t *j, size_t *n, struct sibyl_metadata_entry **out);
void codec_metadata_free(size_t n, struct sibyl_metadata_entry *m);
/* {key: value} of n pairs (a NULL value becomes null when nulls, else
 * EUSAGE). A new object, or NULL with the handle's error set. */
json_t *codec_metadata_json(struct sibyl_client *c, const char *const *keys,
                            const char *const *values, size_t n, int nulls);

/* strdup that returns NULL for NULL. *ok is cleared on OOM. */
char *codec_strdup(const char *s, int *ok);

#endif
