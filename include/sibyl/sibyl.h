/* libsibyl: the C client of the sibyl hyperparameter tuning service.
 *
 * This header is the specification of the library. It follows the REST
 * contract of sibyld (docs/API.md, docs/server-api.md): one function per API
 * method, typed structs for what comes back.
 *
 * Conventions, true of every function below unless it says otherwise:
 * - Functions that talk to the server return 0 on success or a negative
 *   `enum sibyl_code` (-SIBYL_NOT_FOUND, -SIBYL_ECONNECT...). On failure the
 *   handle keeps the error: sibyl_errcode(), sibyl_errname(),
 *   sibyl_errstatus() and sibyl_errmsg() describe it until the next call on
 *   that handle (like sqlite3_errmsg). A success clears it.
 * - OUT pointers (marked OUT) are set to NULL on failure and to a newly
 *   allocated object on success; the caller frees it with the matching
 *   sibyl_*_free() function. Every free function is NULL-safe.
 * - Resource names are full names as the server spells them
 *   ("owners/a/studies/s", "owners/a/studies/s/trials/3"); `owner` arguments
 *   are bare owner ids ("a").
 * - Strings passed in are copied when needed; the library keeps no pointer to
 *   them after the call returns.
 * - The library never prints, never exits, and returns -SIBYL_ENOMEM when
 *   memory runs out.
 * - Threads: a handle must be used by one thread at a time; separate handles
 *   may be used from separate threads at once. sibyl_client_new() performs
 *   libcurl's global initialization once, in a thread-safe way.
 *
 * Retries: a worker rides out a restart or an upgrade of the server. A call
 * that gets no answer (refused, reset, timed out) or a 502, 503 or 504 is
 * tried again, with exponential backoff and jitter (about 250 ms doubling to
 * 10 s), until it succeeds or its retry window runs out (5 minutes from the
 * first failure by default; SIBYL_RETRY_WINDOW in seconds, or
 * sibyl_client_set_retry_window()). Only calls that are safe to repeat by
 * the API's rules are retried once they may have reached the server: every
 * GET and DELETE, study create (create-or-load) and lookup, suggest (which
 * returns the caller's own ACTIVE trials first), addTrialMeasurement (the
 * server adds nothing when the measurement equals the trial's last one),
 * complete (same body: same answer), stop, checkTrialEarlyStoppingState and
 * listOptimalTrials. A request that never left (connection refused, host
 * not found), and a 429 with a Retry-After header (a rate limit: the server
 * did nothing), are retried for every call; trial create, owner create and
 * API key create are otherwise never repeated. Retry-After is honoured.
 * With several servers (sibyl_client_new()), a failure that may be retried
 * moves the call to the next server at once, and the backoff starts when
 * every one has failed.
 * While it waits the library says so through the handle's wait hook
 * (sibyl_client_set_wait_hook()), never by printing.
 */
#ifndef SIBYL_SIBYL_H
#define SIBYL_SIBYL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIBYL_VERSION "0.1.0"

/* Error codes. The server's are google.rpc.Code numbers, so that a code seen
 * here is the one the server's error envelope names; client-side failures
 * come after 100. Functions return them negated. */
enum sibyl_code {
	SIBYL_OK = 0,
	SIBYL_CANCELLED = 1,
	SIBYL_UNKNOWN = 2, /* a non-2xx answer without a known status name */
	SIBYL_INVALID_ARGUMENT = 3,
	SIBYL_DEADLINE_EXCEEDED = 4,
	SIBYL_NOT_FOUND = 5,
	SIBYL_ALREADY_EXISTS = 6,
	SIBYL_PERMISSION_DENIED = 7,
	SIBYL_RESOURCE_EXHAUSTED = 8,
	SIBYL_FAILED_PRECONDITION = 9,
	SIBYL_ABORTED = 10,
	SIBYL_OUT_OF_RANGE = 11,
	SIBYL_UNIMPLEMENTED = 12,
	SIBYL_INTERNAL = 13,
	SIBYL_UNAVAILABLE = 14,
	SIBYL_DATA_LOSS = 15,
	SIBYL_UNAUTHENTICATED = 16,
	SIBYL_ECONNECT = 100,  /* no answer: refused, unreachable, timed out, reset */
	SIBYL_ENOMEM = 101,    /* out of memory in the client */
	SIBYL_EPROTOCOL = 102, /* the answer was not what API.md promises */
	SIBYL_EUSAGE = 103,    /* a bad argument to a library function; nothing was sent */
};

/* The status name of a code ("NOT_FOUND", "ECONNECT"); static storage. */
const char *sibyl_code_name(int code);

/* ------------------------------------------------------------------ */
/* The client handle                                                  */
/* ------------------------------------------------------------------ */

struct sibyl_client;

/* Makes a client for the server at url ("http://127.0.0.1:8080", with or
 * without a trailing slash) authenticating with key (NULL or "": no
 * Authorization header). No connection is made yet.
 *
 * Several servers (daemons sharing one database, docs/storage.md): url may
 * list up to 16 http:// or https:// URLs separated by commas
 * ("http://h1:8080,http://h2:8080"; blanks around an entry are ignored).
 * A call goes first to the server that answered the handle's last call
 * (the first one at the start). When it gets no answer (refused, reset,
 * timed out) or a 502, 503 or 504, and a retry is safe (see Retries at the
 * top of this file), it moves at once to the next server; once every server
 * has failed it waits the backoff, within the retry window, and goes round
 * again. Other answers (4xx, 500) are the call's answer: they never move it
 * on. Each server is tried at least once whatever the window.
 *
 * Returns NULL when out of memory or when url is NULL, empty or malformed
 * (an empty entry, a scheme other than http/https, no host, a bad port,
 * a query or fragment): sibyl_url_check() says why. Free with
 * sibyl_client_free(). */
struct sibyl_client *sibyl_client_new(const char *url, const char *key);

/* Checks url as sibyl_client_new() does: 0, or -SIBYL_EUSAGE with a
 * sentence naming the bad entry into why (len bytes; why may be NULL), e.g.
 * 'server list "http://a:1,,http://b:2": entry 2 is empty'. */
int sibyl_url_check(const char *url, char *why, size_t len);

/* Frees the handle and its connection. NULL-safe. */
void sibyl_client_free(struct sibyl_client *c);

/* Timeouts in milliseconds for each attempt: connect_ms to connect (default
 * 5000), total_ms for the whole request (default 60000; 0: no limit).
 * Returns 0, or -SIBYL_EUSAGE for negative values. */
int sibyl_client_set_timeout(struct sibyl_client *c, long connect_ms, long total_ms);

/* Retry policy (see the top of this file): at most max_attempts attempts in
 * all (0, the default: no limit but the retry window; 1: never retry),
 * waiting about base_delay_ms (default 250) before the second attempt and
 * doubling each time up to max_delay_ms (default 10000); each wait is
 * between half and all of that, at random. A Retry-After header is honoured
 * (up to the end of the window). Returns 0, or -SIBYL_EUSAGE for values out
 * of range. */
int sibyl_client_set_retries(struct sibyl_client *c, int max_attempts, long base_delay_ms,
                             long max_delay_ms);

/* How long a failing call keeps retrying, in seconds from its first
 * failure (0 to 604800; 0: never retry). The default is 300, or the
 * environment variable SIBYL_RETRY_WINDOW (seconds, e.g. "30" or "0.5") when
 * it holds a valid value at sibyl_client_new(). Returns 0, or -SIBYL_EUSAGE
 * for a value out of range. */
int sibyl_client_set_retry_window(struct sibyl_client *c, double seconds);

/* What a waiting call tells its hook. */
enum sibyl_wait_event {
	SIBYL_WAIT_START = 1, /* the first failure: the call waits and retries */
	SIBYL_WAIT_STILL,     /* still failing, about every 30 s of waiting */
	SIBYL_WAIT_POLL,      /* at least every 200 ms while waiting: nothing to say */
	SIBYL_WAIT_BACK,      /* the server answered again after a START */
	SIBYL_WAIT_GIVE_UP,   /* the window (or max_attempts) ran out after a START */
	SIBYL_WAIT_SWITCH,    /* a server failed; the call moves on to next_url at once */
};

struct sibyl_wait {
	enum sibyl_wait_event event;
	const char *url;    /* the server (see servers below) */
	const char *method; /* "POST" */
	const char *path;   /* "owners/a/studies/s/trials/3:complete" */
	const char *reason; /* "Connection refused", "503 UNAVAILABLE: ..." */
	int answered;       /* 1: the server answered (reason has the status) */
	double waited;      /* seconds since the call's first failure */
	double remaining;   /* seconds of the window left */
	int attempts;       /* attempts made so far */
	/* Several servers (see sibyl_client_new): for START, STILL and GIVE_UP
	 * servers is their number (> 1), url lists them ("http://h1:8080,
	 * http://h2:8080") and reason gives each one's last failure
	 * ("http://h1:8080 unreachable (Connection refused); http://h2:8080
	 * answered 503 UNAVAILABLE: ..."). Otherwise servers is 1 and url is
	 * the one server: for BACK the one that answered, for SWITCH the one
	 * that failed, next_url the one tried next (NULL for other events). */
	const char *next_url;
	int servers;
};

/* Called by a waiting call (on the calling thread; every pointer in *w is
 * valid only during the call). Return 0 to go on waiting, non-zero to stop
 * now: the call then fails with its last error. A hook that prints should
 * print for every event but SIBYL_WAIT_POLL, which exists so that a program
 * can cancel a wait (on Ctrl-C, say). */
typedef int (*sibyl_wait_fn)(const struct sibyl_wait *w, void *ud);

/* Sets (fn NULL: removes) the hook of c; ud is passed to it. */
void sibyl_client_set_wait_hook(struct sibyl_client *c, sibyl_wait_fn fn, void *ud);

/* The line a program shows for w, into buf (no newline, no prefix):
 * "server http://h:8080 unreachable (Connection refused); retrying for up to
 * 4m50s", "server ... still ... after 30s; retrying for up to 4m20s more",
 * "server ... is back after 12s", "server ... still ... after 5m00s; giving
 * up"; with several servers "server http://h1:8080 unreachable (Connection
 * refused); trying http://h2:8080" (SWITCH) and "no server available
 * (http://h1:8080 unreachable (...); http://h2:8080 answered 503 ...);
 * retrying for up to 4m50s", "still no server available after 30s (...);
 * retrying for up to 4m20s more", "... giving up". Returns 1, or 0 (buf
 * untouched) for SIBYL_WAIT_POLL. */
int sibyl_wait_describe(const struct sibyl_wait *w, char *buf, size_t len);

/* The last error on c (all are valid until the next call on c):
 * sibyl_errcode: the positive enum sibyl_code, SIBYL_OK after a success;
 * sibyl_errname: its status name ("NOT_FOUND"), "OK" after a success;
 * sibyl_errstatus: the HTTP status of the answer, 0 when there was none;
 * sibyl_errmsg: the server's message, or the client's for a client-side
 *   error ("GET http://127.0.0.1:1/v1/owners: Connection refused (5 attempts over
 *   2.4s)");
 *   "" after a success.
 * sibyl_errattempts: how many attempts the last call made (1 when it was
 *   not retried). */
int sibyl_errcode(const struct sibyl_client *c);
const char *sibyl_errname(const struct sibyl_client *c);
int sibyl_errstatus(const struct sibyl_client *c);
const char *sibyl_errmsg(const struct sibyl_client *c);
int sibyl_errattempts(const struct sibyl_client *c);

/* ------------------------------------------------------------------ */
/* Data                                                               */
/* ------------------------------------------------------------------ */

struct sibyl_metric {
	char *metric_id;
	double value;
};

/* A measurement. In arguments, elapsed_seconds < 0 and step_count < 0 mean
 * "absent"; the same in results. */
struct sibyl_measurement {
	double elapsed_seconds;
	long long step_count;
	size_t n_metrics;
	struct sibyl_metric *metrics;
};

enum sibyl_value_type { SIBYL_VALUE_NUMBER = 0, SIBYL_VALUE_STRING = 1 };

/* A trial's parameter: a number (double, integer and discrete parameters)
 * or a string (categorical ones). */
struct sibyl_parameter {
	char *parameter_id;
	enum sibyl_value_type type;
	double number; /* when type is SIBYL_VALUE_NUMBER */
	char *string;  /* when type is SIBYL_VALUE_STRING, else NULL */
};

enum sibyl_trial_state {
	SIBYL_TRIAL_STATE_UNSPECIFIED = 0,
	SIBYL_TRIAL_REQUESTED,
	SIBYL_TRIAL_ACTIVE,
	SIBYL_TRIAL_STOPPING,
	SIBYL_TRIAL_SUCCEEDED,
	SIBYL_TRIAL_INFEASIBLE,
};

/* The state's name as the API spells it ("ACTIVE"); static storage. */
const char *sibyl_trial_state_name(enum sibyl_trial_state s);

/* One entry of the metadata of a study or trial (free-form key/values a
 * user attaches: the git commit, the machine, a checkpoint path). */
struct sibyl_metadata_entry {
	char *key;
	char *value;
};

/* A trial. String members are NULL when the server did not send them. */
struct sibyl_trial {
	char *name; /* "owners/a/studies/s/trials/3" */
	long long id;
	enum sibyl_trial_state state;
	size_t n_parameters;
	struct sibyl_parameter *parameters;
	struct sibyl_measurement *final_measurement; /* NULL when none */
	size_t n_measurements;
	struct sibyl_measurement *measurements;
	char *start_time;
	char *end_time;
	char *client_id;
	char *infeasible_reason;
	char *json; /* the trial exactly as the server sent it, compact JSON */
	size_t n_metadata;
	struct sibyl_metadata_entry *metadata; /* sorted by key; NULL when none */
};

/* The parameter of that id in t, or NULL. The pointer is into t. */
const struct sibyl_parameter *sibyl_trial_param(const struct sibyl_trial *t, const char *id);

void sibyl_trial_free(struct sibyl_trial *t);

struct sibyl_trial_list {
	size_t n;
	struct sibyl_trial **trials;
	char *next_page_token; /* NULL on the last page */
	char *study_state;     /* suggest only: "ACTIVE", "COMPLETED"...; else NULL */
	char *operation_name;  /* suggest only: the operation, for sibyl_operation_get() */
};
void sibyl_trial_list_free(struct sibyl_trial_list *l);

enum sibyl_goal { SIBYL_GOAL_UNSPECIFIED = 0, SIBYL_GOAL_MAXIMIZE, SIBYL_GOAL_MINIMIZE };

struct sibyl_metric_spec {
	char *metric_id;
	enum sibyl_goal goal;
	int is_constraint; /* 1 when it has a safetyConfig */
	double safety_threshold;
};

enum sibyl_study_state {
	SIBYL_STUDY_STATE_UNSPECIFIED = 0,
	SIBYL_STUDY_ACTIVE,
	SIBYL_STUDY_INACTIVE,
	SIBYL_STUDY_COMPLETED,
};
const char *sibyl_study_state_name(enum sibyl_study_state s);

/* A study. The spec is kept as JSON (spec_json) since it is rich; the parts
 * a worker needs (metrics and their goals, parameter ids, algorithm) are
 * decoded. String members are NULL when absent. */
struct sibyl_study {
	char *name; /* "owners/a/studies/s" */
	char *display_name;
	enum sibyl_study_state state;
	char *create_time;
	char *inactive_reason;
	char *spec_json; /* the studySpec object, compact JSON */
	size_t n_metrics;
	struct sibyl_metric_spec *metrics;
	size_t n_parameters;
	char **parameter_ids; /* top-level parameters' ids */
	char *algorithm;      /* NULL when the spec does not name one */
	char *json;           /* the study as the server sent it */
	size_t n_metadata;
	struct sibyl_metadata_entry *metadata; /* sorted by key; NULL when none */
};
void sibyl_study_free(struct sibyl_study *s);

struct sibyl_study_list {
	size_t n;
	struct sibyl_study **studies;
	char *next_page_token; /* NULL on the last page */
};
void sibyl_study_list_free(struct sibyl_study_list *l);

/* A long-running operation (suggest, checkTrialEarlyStoppingState). */
struct sibyl_operation {
	char *name;
	int done;
	/* When done with an error: its code (positive) and message, else 0/NULL. */
	int error_code;
	char *error_message;
	/* Suggest operations: the trials of the response, else NULL. */
	struct sibyl_trial_list *trials;
	/* Early-stopping operations: 1 stop, 0 go on; -1 when not such an operation. */
	int should_stop;
	char *json; /* the operation as the server sent it */
};
void sibyl_operation_free(struct sibyl_operation *op);

struct sibyl_owner {
	char *name; /* "owners/a" */
	char *owner_id;
	char *display_name;
	char *json;
};
void sibyl_owner_free(struct sibyl_owner *o);

struct sibyl_owner_list {
	size_t n;
	struct sibyl_owner **owners;
	char *next_page_token;
};
void sibyl_owner_list_free(struct sibyl_owner_list *l);

struct sibyl_api_key {
	char *name; /* "owners/a/apiKeys/k1" */
	char *role; /* "WRITER" or "READER" */
	char *display_name;
	char *key; /* the secret: only in the answer of sibyl_api_key_create(), else NULL */
	char *json;
};
void sibyl_api_key_free(struct sibyl_api_key *k);

struct sibyl_api_key_list {
	size_t n;
	struct sibyl_api_key **keys;
	char *next_page_token;
};
void sibyl_api_key_list_free(struct sibyl_api_key_list *l);

/* Frees a string the library returned (sibyl_name_*). NULL-safe. */
void sibyl_free(void *p);

/* ------------------------------------------------------------------ */
/* Studies                                                            */
/* ------------------------------------------------------------------ */

/* Create-or-load: makes study `display_name` of owner with spec_json (a
 * JSON StudySpec object as text), or returns the existing one when its spec
 * is the same; a different spec is -SIBYL_ALREADY_EXISTS. A spec_json that
 * is not a JSON object is -SIBYL_EUSAGE (nothing sent). */
int sibyl_study_create(struct sibyl_client *c, const char *owner, const char *display_name,
                       const char *spec_json, struct sibyl_study **out /* OUT */);

/* GET the study named `name`. */
int sibyl_study_get(struct sibyl_client *c, const char *name, struct sibyl_study **out /* OUT */);

/* One page of owner's studies. page_size 0: the server's default; page_token
 * NULL or "": the first page. Follow out->next_page_token for the rest. */
int sibyl_study_list(struct sibyl_client *c, const char *owner, int page_size,
                     const char *page_token, struct sibyl_study_list **out /* OUT */);

/* DELETE the study and its trials. A retried DELETE whose first attempt may
 * have succeeded treats NOT_FOUND as success. */
int sibyl_study_delete(struct sibyl_client *c, const char *name);

/* The study of owner whose displayName is display_name. */
int sibyl_study_lookup(struct sibyl_client *c, const char *owner, const char *display_name,
                       struct sibyl_study **out /* OUT */);

/* ------------------------------------------------------------------ */
/* Trials                                                             */
/* ------------------------------------------------------------------ */

/* Suggest count (>= 1) trials for client_id (non-empty) in study `study`
 * (full name). Waits for the operation when the server answers before it is
 * done. out->study_state tells whether the study is still ACTIVE; a
 * COMPLETED study answers -SIBYL_FAILED_PRECONDITION. */
int sibyl_trial_suggest(struct sibyl_client *c, const char *study, int count, const char *client_id,
                        struct sibyl_trial_list **out /* OUT */);

/* Adds a trial by hand: parameters (n of them) and, to import a known result,
 * final (NULL: the trial is REQUESTED; else SUCCEEDED with that final
 * measurement). */
int sibyl_trial_create(struct sibyl_client *c, const char *study,
                       const struct sibyl_parameter *params, size_t n,
                       const struct sibyl_measurement *final, struct sibyl_trial **out /* OUT */);

/* GET the trial named `name` ("owners/a/studies/s/trials/3"), with its
 * measurements. Free *out with sibyl_trial_free(). */
int sibyl_trial_get(struct sibyl_client *c, const char *name, struct sibyl_trial **out /* OUT */);

/* The heartbeat of a worker that trains for a long time without reporting:
 * GET the trial as its worker client_id (non-empty; the clientId the trial
 * was suggested to). When the study has a staleTrialTimeout and client_id is
 * the trial's worker, this renews the trial's lease, so an ACTIVE or
 * STOPPING trial is not given up while its worker is alive. When the lease
 * had already lapsed, the server settles that first and *out is the trial
 * as it is then: INFEASIBLE ("given up: ...") or SUCCEEDED (a STOPPING
 * trial completed from its measurements); its worker should stop training
 * and not report. With another client_id it is a plain read. Call it well
 * inside the lease (e.g. every staleTrialTimeout/3). An empty client_id is
 * -SIBYL_EUSAGE (nothing sent); one the server refuses (over 1024 bytes) is
 * -SIBYL_INVALID_ARGUMENT. Free *out with sibyl_trial_free(). */
int sibyl_trial_get_as(struct sibyl_client *c, const char *name, const char *client_id,
                       struct sibyl_trial **out /* OUT */);

/* One page of the study's trials. filter: NULL for all, or e.g.
 * "state=SUCCEEDED". page_size and page_token as in sibyl_study_list(). */
int sibyl_trial_list(struct sibyl_client *c, const char *study, const char *filter, int page_size,
                     const char *page_token, struct sibyl_trial_list **out /* OUT */);

/* DELETE the trial. A retried DELETE whose first attempt may have succeeded
 * treats NOT_FOUND as success. */
int sibyl_trial_delete(struct sibyl_client *c, const char *name);

/* Reports one intermediate measurement m (at least one metric). out may be
 * NULL when the updated trial is not wanted. Retried like complete: the
 * server adds nothing when m equals the trial's last measurement, so a
 * repeat after a lost answer records it once. */
int sibyl_trial_add_measurement(struct sibyl_client *c, const char *name,
                                const struct sibyl_measurement *m,
                                struct sibyl_trial **out /* OUT, may be NULL */);

/* Completes the trial: with final (may be NULL: the server picks from the
 * reported measurements), or as infeasible (infeasible != 0) with reason
 * (may be NULL). out may be NULL. */
int sibyl_trial_complete(struct sibyl_client *c, const char *name,
                         const struct sibyl_measurement *final, int infeasible, const char *reason,
                         struct sibyl_trial **out /* OUT, may be NULL */);

/* Asks the trial's worker to stop (state STOPPING). out may be NULL. */
int sibyl_trial_stop(struct sibyl_client *c, const char *name,
                     struct sibyl_trial **out /* OUT, may be NULL */);

/* checkTrialEarlyStoppingState: sets *should_stop to 1 when the service
 * advises stopping the trial, else 0. A server without early stopping
 * answers -SIBYL_UNIMPLEMENTED. */
int sibyl_trial_should_stop(struct sibyl_client *c, const char *name, int *should_stop /* OUT */);

/* The optimal trials of the study (the best one, or the Pareto front). */
int sibyl_trial_list_optimal(struct sibyl_client *c, const char *study,
                             struct sibyl_trial_list **out /* OUT */);

/* ------------------------------------------------------------------ */
/* Operations                                                         */
/* ------------------------------------------------------------------ */

/* GET an operation by name (see sibyl_trial_list.operation_name). Free *out
 * with sibyl_operation_free(). */
int sibyl_operation_get(struct sibyl_client *c, const char *name,
                        struct sibyl_operation **out /* OUT */);

/* ------------------------------------------------------------------ */
/* Owners and API keys (admin; a key's owner WRITER for its keys)      */
/* ------------------------------------------------------------------ */

/* Creates owner owner_id (admin key); display_name may be NULL. An existing
 * one is -SIBYL_ALREADY_EXISTS. Not retried once sent. Free *out with
 * sibyl_owner_free(). */
int sibyl_owner_create(struct sibyl_client *c, const char *owner_id, const char *display_name,
                       struct sibyl_owner **out /* OUT */);
/* GET owners/{owner}. Free *out with sibyl_owner_free(). */
int sibyl_owner_get(struct sibyl_client *c, const char *owner, struct sibyl_owner **out /* OUT */);
/* One page of owners (admin key); paging as in sibyl_study_list(). Free *out
 * with sibyl_owner_list_free(). */
int sibyl_owner_list(struct sibyl_client *c, int page_size, const char *page_token,
                     struct sibyl_owner_list **out /* OUT */);
/* DELETE owners/{owner} (admin key). */
int sibyl_owner_delete(struct sibyl_client *c, const char *owner);

/* Creates an API key for owner. role: "WRITER" or "READER"; display_name
 * may be NULL. out->key holds the secret, shown this once. Never retried
 * once sent (a repeat would make a second key). Free *out with
 * sibyl_api_key_free(), which wipes the secret. */
int sibyl_api_key_create(struct sibyl_client *c, const char *owner, const char *role,
                         const char *display_name, struct sibyl_api_key **out /* OUT */);
/* One page of owner's keys, without their secrets (key is NULL). Free *out
 * with sibyl_api_key_list_free(). */
int sibyl_api_key_list(struct sibyl_client *c, const char *owner, int page_size,
                       const char *page_token, struct sibyl_api_key_list **out /* OUT */);
/* name: "owners/a/apiKeys/k1". */
int sibyl_api_key_delete(struct sibyl_client *c, const char *name);

/* ------------------------------------------------------------------ */
/* Metadata of studies and trials                                     */
/* ------------------------------------------------------------------ */

/* The value of key in the study's or trial's metadata, or NULL. The
 * pointer is into s or t. */
const char *sibyl_study_metadata(const struct sibyl_study *s, const char *key);
const char *sibyl_trial_metadata(const struct sibyl_trial *t, const char *key);

/* sibyl_study_create with metadata: n keys and their values (strings;
 * n 0: none). The metadata takes no part in create-or-load: an existing
 * study comes back with its own. A NULL key or value is -SIBYL_EUSAGE. */
int sibyl_study_create_with_metadata(struct sibyl_client *c, const char *owner,
                                     const char *display_name, const char *spec_json,
                                     const char *const *keys, const char *const *values, size_t n,
                                     struct sibyl_study **out /* OUT */);

/* Changes the metadata of the study or trial `name` (PATCH
 * ?updateMask=metadata): each of the n keys is set to its value, or
 * deleted when its value is NULL; the other keys stay. The server bounds
 * the keys and their sizes (INVALID_ARGUMENT naming the limit); a READER
 * key is -SIBYL_PERMISSION_DENIED. Safe to repeat, so retried like a GET.
 * out may be NULL. */
int sibyl_study_set_metadata(struct sibyl_client *c, const char *name, const char *const *keys,
                             const char *const *values, size_t n,
                             struct sibyl_study **out /* OUT, may be NULL */);
int sibyl_trial_set_metadata(struct sibyl_client *c, const char *name, const char *const *keys,
                             const char *const *values, size_t n,
                             struct sibyl_trial **out /* OUT, may be NULL */);

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

/* The body of the last successful (2xx) answer on c exactly as the server
 * sent it (its numbers as the server wrote them), or "" when there was
 * none. For a call that made several requests (suggest waiting for its
 * operation), the last one's. Valid until the next call on c. */
const char *sibyl_last_body(const struct sibyl_client *c);

/* GET /v1/path (path as the server spells it, already escaped, with its
 * query if any: "owners/a/studies/s:importance?metricId=loss") and the
 * answer's body as the server sent it, whatever its type (JSON, CSV), in
 * *out (free with sibyl_free()). For methods the library has no function
 * for yet. Retried like any GET; a non-2xx answer is an error as for every
 * call. */
int sibyl_get_text(struct sibyl_client *c, const char *path, char **out /* OUT */);

/* "owners/OWNER/studies/STUDY" from "OWNER/STUDY" (or the full name, copied
 * unchanged). Returns a new string (free with sibyl_free()), or NULL when
 * ref is malformed or memory runs out. */
char *sibyl_name_study(const char *ref);

#ifdef __cplusplus
}
#endif

#endif
