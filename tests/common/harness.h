/* harness: start the real sibyld on a free port with a fresh SQLite file,
 * talk to it over real HTTP (libcurl), stop it with SIGTERM.
 *
 *   struct daemon *d = daemon_start(NULL);            // fresh db in a temp dir
 *   struct reply r;
 *   http_call(d, "POST", "/v1/owners/a/studies", "{...}", NULL, &r);
 *   ASSERT_EQ_INT(r.status, 200);
 *   json_t *name = json_object_get(r.json, "name");
 *   reply_free(&r);
 *   ASSERT_EQ_INT(daemon_stop(d), 0);   // exit status 0, no sanitizer report
 *
 * The sibyld binary is found from the SIBYLD environment variable, which
 * tests/meson.build sets for every test. The admin key is HARNESS_ADMIN_KEY
 * (passed as SIBYL_ADMIN_KEY). */
#ifndef SIBYL_HARNESS_H
#define SIBYL_HARNESS_H

#include <jansson.h>
#include <stddef.h>

#define HARNESS_ADMIN_KEY "test-admin-key-0123456789abcdef"

struct daemon_opts {
	const char *db_path;     /* NULL: <tmpdir>/sibyl.db, fresh */
	const char *const *args; /* extra argv entries, NULL-terminated; may be NULL */
	const char *const *env;  /* extra "NAME=value" entries, NULL-terminated; may be NULL */
	int no_admin_env;        /* 1: do not set SIBYL_ADMIN_KEY */
};

struct daemon {
	int pid;
	int port;
	char url[64];  /* "http://127.0.0.1:PORT" */
	char dir[256]; /* temp dir holding the db and logs */
	char db_path[512];
	char stderr_path[512];
	char ready_line[256];
	/* harness bookkeeping (additions) */
	int keep_dir;  /* 1: daemon_stop leaves the temp dir (also SIBYL_TEST_KEEP=1) */
	int stdout_fd; /* read end of the daemon's stdout, -1 when none */
	int runs;      /* daemons started on this struct; stderr-<run>.log each */
};

/* Starts sibyld and waits (up to 20 s) for its ready line. Returns NULL on
 * failure after printing why to stderr. Free with daemon_stop() or
 * daemon_kill(). */
struct daemon *daemon_start(const struct daemon_opts *opts);

/* SIGTERM, wait; returns the exit status (0 is good) or -1 when it died of a
 * signal, did not exit within 20 s, or its stderr (of any run on d) shows
 * "AddressSanitizer", "LeakSanitizer" or "runtime error:". Removes the temp
 * dir unless keep_dir, SIBYL_TEST_KEEP is set or it failed. Frees d. Also
 * the way to free d after daemon_kill() (then it only cleans up). */
int daemon_stop(struct daemon *d);

/* SIGKILL, wait; keeps the database (for crash tests). d stays valid:
 * daemon_restart() starts again on the same database, daemon_stop() frees
 * it. Returns 0, or -1 when d is not running. */
int daemon_kill(struct daemon *d);

/* Starts a new daemon on d's database after daemon_kill (opts->db_path is
 * ignored); returns 0 and updates d->pid/port/url, or -1. */
int daemon_restart(struct daemon *d, const struct daemon_opts *opts);

/* PostgreSQL runs (tests/common/pgcluster.sh run sets SIBYL_TEST_PG to the
 * cluster's socket directory): daemon_start without a db_path then makes a
 * fresh database on that cluster for the daemon. harness_pg_fresh makes
 * one and writes its URL; harness_pg_exec runs sql on url and copies the
 * first column of the first row (if any) into out (may be NULL). 0, or -1
 * after printing why. */
int harness_pg_fresh(char *url, size_t len);
int harness_pg_exec(const char *url, const char *sql, char *out, size_t outlen);

struct reply {
	long status;  /* HTTP status, 0 when the request failed */
	char *body;   /* malloc'd, NUL-terminated */
	json_t *json; /* parsed body, NULL when not JSON */
	char retry_after[32];
};

/* Sends METHOD url+path with body (may be NULL) and Authorization: Bearer
 * key (key NULL: HARNESS_ADMIN_KEY; "" : no header). Returns 0 when a reply
 * came back (any status), -1 on a transport error. */
int http_call(const struct daemon *d, const char *method, const char *path, const char *body,
              const char *key, struct reply *r /* OUT */);

/* http_call with a printf-style body; convenience for tests. */
int http_callf(const struct daemon *d, const char *method, const char *path, const char *key,
               struct reply *r, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

void reply_free(struct reply *r);

/* Creates the owner `owner` with the admin key (owners are made before their
 * studies). Returns the HTTP status (200 when it was created), 0 on a
 * transport error. */
long daemon_create_owner(const struct daemon *d, const char *owner);

/* The error envelope's status name ("NOT_FOUND"), or "" when absent. */
const char *reply_status_name(const struct reply *r);
/* The error envelope's message, or "". */
const char *reply_message(const struct reply *r);

/* Reads the database file through the SQLite C API (read-only, works while
 * the daemon runs) and returns a malloc'd dump of every table's rows in a
 * canonical order ("table NAME (N rows)" then one sorted line per row), so
 * that a test can compare the database before and after a rejected
 * request. NULL on error (printed). Free with free(). */
char *db_dump(const char *db_path);

/* db_dump without the audit log (the tables audit_log and audit_counts,
 * and its AUTOINCREMENT counter): every write is recorded there, refused
 * ones too, so "a refused request changed nothing" compares this.
 * malloc'd; NULL on failure. */
char *db_dump_data(const char *db_path);

#endif
