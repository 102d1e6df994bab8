/* store: all SQL lives here. One SQLite file in WAL mode, foreign keys on,
 * prepared statements only. One writer connection (SQLite has one writer
 * anyway) behind a mutex; readers on their own connections, so reads never
 * wait for a write in progress. Every change that a call acknowledges is
 * committed before the answer goes out.
 *
 * Calls take a checked-out connection:
 *
 *   struct store_conn *c = store_read(st, &e);        // any thread
 *   store_study_get(c, "team", "study1", &study, &e);
 *   store_release(c);
 *
 *   struct store_conn *w = store_write_begin(st, &e);  // BEGIN IMMEDIATE
 *   ... reads and writes on w see one consistent snapshot ...
 *   rc = store_write_commit(w, &e);  // or store_write_rollback(w); both release w
 *
 * A read connection holds one snapshot from store_read to store_release:
 * release it before a long computation (it keeps the WAL from being
 * checkpointed). Readers never wait for the writer.
 *
 * Group commit (docs/storage.md): a write transaction is a savepoint in a
 * batch shared with the writers queued behind it, and store_write_commit
 * returns once the batch is durably committed (synchronous=FULL), with the
 * batch's result. So the writer lock must be the innermost lock: inside a
 * write transaction, never take a lock that some thread may hold while it
 * calls store_write_begin or store_write_commit, and never wait for such a
 * thread. Do no slow work (model fits) inside a write transaction either:
 * the writers before you in the batch wait for it.
 *
 * The schema is migrations/NNNN_name.sql, embedded at build time, applied in
 * order by store_open() inside a transaction and recorded; a database whose
 * schema is newer than the binary is refused.
 *
 * Strings in the structs below are owned by the struct and freed by its
 * *_clear() function. JSON columns hold canonical JSON text produced by the
 * api module (the store does not interpret them).
 * Times are milliseconds since the Unix epoch (int64); 0 means "not set".
 * Every function returns 0 or a negative enum err_code with e set. */
#ifndef SIBYL_STORE_H
#define SIBYL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct store;
struct store_conn;

/* Opens (creating if needed) and migrates the database. url is a libpq
 * connection URI (postgresql://... or postgres://...: the PostgreSQL
 * backend, docs/storage.md) or else a SQLite file path. NULL with e set on
 * failure. */
struct store *store_open(const char *url, struct err *e /* OUT */);
/* Settings of store_open_with; NULL or 0 fields take the defaults. */
#define STORE_POOL_DEFAULT 8
struct store_options {
	int pool; /* PostgreSQL: connections at most (STORE_POOL_DEFAULT); SQLite: unused */
};
struct store *store_open_with(const char *url, const struct store_options *o,
                              struct err *e /* OUT */);
/* 1 when url selects the PostgreSQL backend. */
int store_is_pg_url(const char *url);
void store_close(struct store *st); /* NULL-safe; all connections released first */

/* Copies a live database to dest with the SQLite online backup API
 * (FAILED_PRECONDITION for a PostgreSQL URL: use pg_dump). */
int store_backup_file(const char *db_path, const char *dest, struct err *e);

/* Copies every row of the database at from into the empty database at to
 * (either a SQLite path or a PostgreSQL URI; both are created or migrated
 * first): one read snapshot of the source (a daemon may keep serving it)
 * into one transaction of the destination, then the rows of each table
 * counted again on both sides. report (may be NULL) gets one line per
 * table, "table N". FAILED_PRECONDITION when to holds data already. */
int store_copy(const char *from, const char *to, char *report, size_t len, struct err *e);

struct store_conn *store_read(struct store *st, struct err *e);
void store_release(struct store_conn *c); /* for read connections; NULL-safe */
struct store_conn *store_write_begin(struct store *st, struct err *e);
int store_write_commit(struct store_conn *w, struct err *e); /* releases w */
void store_write_rollback(struct store_conn *w);             /* releases w; NULL-safe */

/* Critical sections inside a write transaction (held until it commits or
 * rolls back). A caller that reads, decides and writes something other
 * writers could change at the same time takes the section first:
 * store_lock_study for one study's trials, budgets and suggest (never
 * blocks another study), store_lock_owner for what spans an owner's
 * studies (its quotas: studies, ACTIVE trials, API keys). Lock the owner
 * before a study of it when both are needed. The SQLite backend has one
 * writer, so both hold already and cost nothing; a backend with
 * concurrent writers must make them exclude each other across processes.
 *
 * The rule the service keeps (docs/architecture.md): every write
 * transaction that reads, decides and writes a study's trials, budgets,
 * metadata or state takes store_lock_study(w, rowid) before it reads what
 * it decides on (suggest, complete, addTrialMeasurement, stop, early
 * stopping, a worker's heartbeat, trial create and delete, lease expiry,
 * metadata, study delete); one that checks an owner's quota or changes
 * the owner takes store_lock_owner first (study create, suggest, key
 * create and revoke, owner update and delete). With concurrent writers
 * these sections are all that serializes those calls per study. */
int store_lock_study(struct store_conn *w, int64_t study_rowid, struct err *e);
int store_lock_owner(struct store_conn *w, const char *owner, struct err *e);
/* A study's planning section across processes, held outside any
 * transaction: from before a suggest reads the study to plan until its
 * hand-out committed, so that daemons sharing a database plan a study one
 * at a time, each from a view that holds the previous one's hand-out
 * (without it, two daemons planning from one view keep invalidating each
 * other's plans). *out is what store_plan_unlock releases (NULL-safe);
 * NULL where the backend needs no section (SQLite: one file's writers
 * check the plan's view in their write transaction, and their plans are
 * short of each other's). Never blocks another study. */
struct store_section;
/* 1 when the backend has planning sections (a caller then plans from a
 * snapshot taken inside the section, not before it). */
int store_plan_sections(const struct store *st);
int store_plan_lock(struct store *st, int64_t study_rowid, struct store_section **out,
                    struct err *e);
void store_plan_unlock(struct store_section *s);

/* 0 when a trivial query answers. */
int store_ping(struct store *st);
/* Readiness: 0 when the store answers and can be written. After a write
 * failed for want of space or of a writable file (SQLITE_FULL, an I/O
 * error, a read-only file), UNAVAILABLE with a message saying which until
 * a commit succeeds again; while so, a call writes one row (table health)
 * at most once a second to find out. */
int store_health(struct store *st, struct err *e);
/* The WAL's target size in bytes (at least 1 MiB; store_open sets 16 MiB):
 * past it the writer starts the log again, and the file is truncated back
 * to it (docs/storage.md). */
int store_set_wal_target(struct store *st, int64_t bytes, struct err *e);

/* Durability of a commit (docs/storage.md). FULL, the mode store_open
 * starts in: the WAL is fsync'ed at every commit (shared by the writers of
 * a burst: group commit), so an acknowledged change survives a power loss.
 * NORMAL: a commit is written to the OS but fsync'ed only at checkpoints;
 * it survives a crash of the process (kill -9) but a power loss or kernel
 * crash may lose the last commits (the file stays consistent). Each write
 * transaction then commits on its own, without waiting for a batch. */
enum store_sync { STORE_SYNC_FULL = 0, STORE_SYNC_NORMAL = 1 };
int store_set_sync(struct store *st, enum store_sync mode, struct err *e);

/* ---- studies ---- */
enum store_study_state { STUDY_ACTIVE = 1, STUDY_INACTIVE = 2, STUDY_COMPLETED = 3 };

struct store_study {
	int64_t rowid; /* internal key, used by the trial calls */
	char *owner;
	char *study_id;  /* the {study} of the name; equals displayName */
	char *spec_json; /* canonical StudySpec */
	int state;       /* enum store_study_state */
	char *inactive_reason;
	int64_t create_time;
	int64_t last_progress_time; /* for maxDurationNoProgress */
	char *metadata_json;        /* canonical {key: value} object, NULL when empty */
};
void store_study_clear(struct store_study *s);            /* NULL-safe */
void store_studies_free(struct store_study *a, size_t n); /* clears each, frees array */

/* ---- owners ---- */
struct store_owner {
	char *id;
	char *display_name; /* "" when none */
	int64_t create_time;
};
void store_owner_clear(struct store_owner *o);           /* NULL-safe */
void store_owners_free(struct store_owner *a, size_t n); /* clears each, frees array */

/* Creates the owner row if missing. The API never does (the admin creates
 * owners, POST /v1/owners); for tests and tools that fill a store directly. */
int store_owner_ensure(struct store_conn *w, const char *owner, int64_t now, struct err *e);
/* ALREADY_EXISTS if present. display_name may be NULL. */
int store_owner_insert(struct store_conn *w, const char *owner, const char *display_name,
                       int64_t now, struct err *e);
/* NOT_FOUND (message names owners/O) when absent. */
int store_owner_get(struct store_conn *c, const char *owner, struct store_owner *out,
                    struct err *e);
/* Owners ordered by id, id > after ("" or NULL: from the start), at most
 * limit (<= 0: all); free with store_owners_free. */
int store_owner_list(struct store_conn *c, const char *after, int limit, struct store_owner **out,
                     size_t *n, struct err *e);
/* NOT_FOUND when absent; FAILED_PRECONDITION while it still has studies. */
int store_owner_delete(struct store_conn *w, const char *owner, struct err *e);

/* ---- multi-team: quotas, API keys, the audit log (store_teams.c) ---- */
/* An owner's quotas; 0 means no limit. The store keeps them and writes
 * whatever it is asked to: the service enforces them, in the write
 * transaction and under the sections above (its typed refusal, error.h
 * ERR_REFUSAL_QUOTA), so that a backend needs no triggers for them
 * (migrations/0008_quotas_in_service.sql dropped SQLite's). */
struct store_quota {
	int64_t max_studies;          /* studies of the owner */
	int64_t max_trials_per_study; /* trials of one study, any state */
	int64_t max_active_trials;    /* ACTIVE trials over all the owner's studies */
	double requests_per_second;   /* all the owner's keys together (the api's rate limit) */
	int64_t max_api_keys;         /* ACTIVE keys of the owner (0005_abuse_limits.sql) */
};
/* NOT_FOUND when the owner is absent. */
int store_owner_quota_get(struct store_conn *c, const char *owner, struct store_quota *out,
                          struct err *e);
/* ACTIVE trials over all the owner's studies (what maxActiveTrials limits). */
int store_owner_active_count(struct store_conn *c, const char *owner, int64_t *n, struct err *e);
/* Sets the display name (NULL: unchanged) and the quotas (NULL:
 * unchanged). NOT_FOUND when the owner is absent. */
int store_owner_update(struct store_conn *w, const char *owner, const char *display_name,
                       const struct store_quota *q, struct err *e);
/* Deletes the owner with its studies (and all under them) and keys.
 * NOT_FOUND when absent. */
int store_owner_delete_all(struct store_conn *w, const char *owner, struct err *e);

struct store_key {
	char keyid[17]; /* 16 hex digits */
	char *owner;
	int role; /* enum auth_role: 1 READER, 2 WRITER */
	char *display_name;
	unsigned char salt[16];
	unsigned char hash[32];
	int64_t create_time;
	int64_t revoke_time; /* 0 while valid */
	int64_t seq;         /* insertion order, for page tokens */
};
void store_key_clear(struct store_key *k);           /* NULL-safe */
void store_keys_free(struct store_key *a, size_t n); /* clears each, frees array */
/* Inserts k (its owner must exist: the caller checks). ABORTED when the key
 * id is taken. */
int store_key_insert(struct store_conn *w, const struct store_key *k, struct err *e);
/* The key of this id and its owner's requests_per_second (owner_rps may be
 * NULL). NOT_FOUND when absent. */
int store_key_get(struct store_conn *c, const char *keyid, struct store_key *out,
                  double *owner_rps /* OUT */, struct err *e);
/* Keys of an owner in creation order, seq > after, at most limit (<= 0:
 * all); free with store_keys_free. */
int store_key_list(struct store_conn *c, const char *owner, int64_t after, int limit,
                   struct store_key **out, size_t *n, struct err *e);
/* Sets revoke_time (kept when already revoked). NOT_FOUND unless the owner
 * has this key. */
int store_key_revoke(struct store_conn *w, const char *owner, const char *keyid, int64_t now,
                     struct err *e);

struct store_audit {
	int64_t id;
	int64_t time;
	char *keyid; /* "admin", a key id, or "" */
	char *owner; /* the {owner} of the path or "" */
	char *method;
	char *path;
	int status;        /* HTTP status of the answer */
	char *error;       /* google.rpc status name, "" on success */
	int64_t count;     /* identical refusals this entry stands for (>= 1) */
	int64_t last_time; /* the last of them (0 when count is 1) */
};
void store_audit_clear(struct store_audit *a);           /* NULL-safe */
void store_audits_free(struct store_audit *a, size_t n); /* clears each, frees array */
/* Appends an entry (a->id and a->count are not read: count starts at 1).
 * The log keeps each owner's newest STORE_AUDIT_KEEP entries (the owner
 * "" of requests without a valid key counts as one more), so that a flood
 * from one owner only pushes out its own history. */
#define STORE_AUDIT_KEEP 100000
int store_audit_insert(struct store_conn *w, const struct store_audit *a, struct err *e);
/* Drops the oldest entries of owner until it has at most keep. */
int store_audit_prune(struct store_conn *w, const char *owner, int64_t keep, struct err *e);
/* Adds n identical refusals to entry id, the last at time last (ms), in a
 * transaction of its own; an entry already pruned is no error. */
int store_audit_add_count(struct store *st, int64_t id, int64_t n, int64_t last, struct err *e);
/* The entry of the request a write transaction serves, written inside
 * that transaction: store_write_audit(w, a, written) makes w's
 * store_write_commit insert a (copied; its strings are borrowed until the
 * commit) before it commits, and, once the commit succeeded, set *written
 * to the entry's row id. A rollback drops it. The caller sets it on the
 * transaction that makes the request's change. */
void store_write_audit(struct store_conn *w, const struct store_audit *a, int64_t *written);
/* Records a in its own transaction: updates row id (the entry a commit
 * wrote with store_write_audit, when the answer turned out different) or, id 0 or gone,
 * inserts it. *written (may be NULL) gets the row id. */
int store_audit_record(struct store *st, int64_t id, const struct store_audit *a,
                       int64_t *written /* OUT */, struct err *e);
/* Entries newest first, id < before (0: from the newest), of one owner (NULL:
 * all), at most limit; free with store_audits_free. */
int store_audit_list(struct store_conn *c, const char *owner, int64_t before, int limit,
                     struct store_audit **out, size_t *n, struct err *e);

/* The server secret called name (len bytes) into out: the stored one, or,
 * when there is none yet, fresh (len random bytes from the caller), stored
 * first. Every sibyld on the file thus ends up with the same secret. */
int store_secret(struct store *st, const char *name, const unsigned char *fresh, size_t len,
                 unsigned char *out /* OUT */, struct err *e);

/* Inserts; ALREADY_EXISTS if (owner, study_id) exists, NOT_FOUND if the
 * owner row does not. out may be NULL. */
int store_study_insert(struct store_conn *w, const char *owner, const char *study_id,
                       const char *spec_json, int64_t now, struct store_study *out, struct err *e);
/* NOT_FOUND (message names owners/O/studies/S) when absent. */
int store_study_get(struct store_conn *c, const char *owner, const char *study_id,
                    struct store_study *out, struct err *e);
/* NOT_FOUND when no study has this rowid. */
int store_study_get_by_rowid(struct store_conn *c, int64_t rowid, struct store_study *out,
                             struct err *e);
/* Studies of an owner ordered by rowid, rowid > after, at most limit.
 * *out is a malloc'd array of *n studies: free each with store_study_clear
 * and the array with free(). */
int store_study_list(struct store_conn *c, const char *owner, int64_t after, int limit,
                     struct store_study **out, size_t *n, struct err *e);
/* Deletes the study and everything under it. NOT_FOUND when absent. */
int store_study_delete(struct store_conn *w, const char *owner, const char *study_id,
                       struct err *e);
int store_study_set_state(struct store_conn *w, int64_t rowid, int state, const char *reason,
                          struct err *e);
int store_study_set_progress(struct store_conn *w, int64_t rowid, int64_t when, struct err *e);
/* Replaces the study's metadata (canonical JSON object text; NULL: none).
 * NOT_FOUND when absent. */
int store_study_set_metadata(struct store_conn *w, int64_t rowid, const char *metadata_json,
                             struct err *e);
/* The id the study's next trial will get: it changes exactly when a trial
 * is inserted, by whichever process (suggest re-plans when it moved
 * between its read snapshot and its write transaction). */
int store_study_next_trial(struct store_conn *c, int64_t rowid, int64_t *next, struct err *e);

/* ---- trials ---- */
enum store_trial_state {
	TRIAL_REQUESTED = 1,
	TRIAL_ACTIVE = 2,
	TRIAL_STOPPING = 3,
	TRIAL_SUCCEEDED = 4,
	TRIAL_INFEASIBLE = 5
};

struct store_trial {
	int64_t study_rowid;
	int64_t id;        /* 1, 2, 3, ... per study; never reused */
	int state;         /* enum store_trial_state */
	char *params_json; /* [{"parameterId":..,"value":..}] */
	char *final_json;  /* final Measurement or NULL */
	char *client_id;   /* NULL when none */
	char *infeasible_reason;
	char *info_json;     /* suggestionInfo or NULL */
	char *complete_json; /* canonical body of the accepted :complete, for
	                        idempotent retries; NULL until completed */
	int64_t start_time;
	int64_t end_time;
	int64_t lease_expiry; /* ACTIVE trials: when the lease lapses; 0 = never */
	int64_t n_measurements;
	char *metadata_json; /* canonical {key: value} object, NULL when empty */
};
void store_trial_clear(struct store_trial *t);           /* NULL-safe */
void store_trials_free(struct store_trial *a, size_t n); /* clears each, frees array */

/* Inserts with the next id of the study (t->id is set on return); t's
 * study_rowid, state, params_json and optional fields (metadata_json
 * too) are written. */
int store_trial_insert(struct store_conn *w, struct store_trial *t /* IN/OUT */, struct err *e);
/* NOT_FOUND when absent. */
int store_trial_get(struct store_conn *c, int64_t study_rowid, int64_t id, struct store_trial *out,
                    struct err *e);
/* Writes every mutable field of t (state, final_json, client_id,
 * infeasible_reason, info_json, complete_json, times, lease). */
int store_trial_update(struct store_conn *w, const struct store_trial *t, struct err *e);
/* Writes only what finishing a trial changes (state, final_json,
 * infeasible_reason, complete_json, end_time, lease_expiry), or only the
 * lease: an UPDATE rewrites the indexes of every column it names, so the
 * hot calls name no more than they change. NOT_FOUND when absent. */
int store_trial_finish(struct store_conn *w, const struct store_trial *t, struct err *e);
int store_trial_set_lease(struct store_conn *w, int64_t study_rowid, int64_t id,
                          int64_t lease_expiry, struct err *e);
int store_trial_delete(struct store_conn *w, int64_t study_rowid, int64_t id, struct err *e);
/* Replaces the trial's metadata (canonical JSON object text; NULL: none).
 * Nothing else of the row changes (no history bump). NOT_FOUND when
 * absent. */
int store_trial_set_metadata(struct store_conn *w, int64_t study_rowid, int64_t id,
                             const char *metadata_json, struct err *e);

/* Trials ordered by id, id > after, at most limit (limit <= 0: all);
 * state_mask: bit (1 << state) for each wanted state, 0 for all. */
int store_trial_list(struct store_conn *c, int64_t study_rowid, unsigned state_mask, int64_t after,
                     int limit, struct store_trial **out, size_t *n, struct err *e);
/* ACTIVE/STOPPING trials of this client. */
int store_trial_list_by_client(struct store_conn *c, int64_t study_rowid, const char *client_id,
                               struct store_trial **out, size_t *n, struct err *e);
/* Number of trials in the states of state_mask (0: all). */
int store_trial_count(struct store_conn *c, int64_t study_rowid, unsigned state_mask,
                      int64_t *count /* OUT */, struct err *e);
/* ACTIVE trials whose lease_expiry is in (0, now] go back to REQUESTED with
 * no client; *n_expired says how many. */
int store_trial_expire_leases(struct store_conn *w, int64_t study_rowid, int64_t now,
                              int64_t *n_expired /* OUT, may be NULL */, struct err *e);

/* ---- the trial history, for in-memory caches (0003_trial_seq.sql) ---- */
/* The study's change counter: every insert, delete, and update of a
 * trial's state, parameters, final measurement, client or completion
 * bumps *seq; *deletes counts deletes. Both 0 for a study none of that
 * happened to. Keeping it is the backend's duty, part of this contract:
 * the service never bumps it, whichever call writes (SQLite keeps it with
 * the triggers of 0003_trial_seq.sql). */
int store_trial_seq(struct store_conn *c, int64_t study_rowid, int64_t *seq /* OUT */,
                    int64_t *deletes /* OUT */, struct err *e);
/* One trial as a history cache needs it; strings are borrowed for the
 * duration of the callback only. */
struct store_hist_row {
	int64_t id;
	int state;
	int given_up; /* INFEASIBLE without a complete body (service.h) */
	int64_t end_time;
	const char *params_json;
	const char *final_json; /* NULL when none */
	const char *client_id;  /* NULL when none */
};
/* Calls fn for each trial of the study changed after counter value
 * `after` (after < 0: every trial, in id order). A non-zero return of fn
 * stops the walk and is returned. */
int store_trial_changed(struct store_conn *c, int64_t study_rowid, int64_t after,
                        int (*fn)(void *ctx, const struct store_hist_row *r), void *ctx,
                        struct err *e);

/* ---- measurements ---- */
/* Appends a measurement and counts it on the trial row; lease_expiry >= 0
 * also sets the trial's lease in the same statement (< 0: unchanged). */
int store_measurement_add(struct store_conn *w, int64_t study_rowid, int64_t trial_id,
                          const char *measurement_json, int64_t lease_expiry, struct err *e);
/* The trial's measurements in insertion order as one text, joined with
 * commas (the inside of a JSON array): *out malloc'd (NULL when there are
 * none), *len its length, *last the offset of the last one. */
int store_measurement_joined(struct store_conn *c, int64_t study_rowid, int64_t trial_id,
                             char **out, size_t *len, size_t *last, struct err *e);

/* ---- operations ---- */
/* Stores a done Operation's JSON; *op_id is its id (1, 2, ... per study).
 * A study keeps its newest STORE_OPERATIONS_KEPT operations: every 100th
 * insert deletes the older ones. */
#define STORE_OPERATIONS_KEPT 10000
int store_operation_insert(struct store_conn *w, int64_t study_rowid, const char *json,
                           int64_t *op_id /* OUT */, struct err *e);
/* *json is malloc'd. NOT_FOUND when absent. */
int store_operation_get(struct store_conn *c, int64_t study_rowid, int64_t op_id, char **json,
                        struct err *e);

/* ---- gauges for /metrics ---- */
int store_count_studies(struct store_conn *c, int64_t *n, struct err *e);
/* counts[state] for state 1..5 (index 0 unused). */
int store_count_trials_by_state(struct store_conn *c, int64_t counts[6], struct err *e);

#endif
