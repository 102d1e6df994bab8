/* service_owners: the rules and transactions of owners, their quotas,
 * their API keys and the audit log (API.md, multi-team). The handlers of
 * api_owners.c decode JSON into these structs, call one function, and
 * encode what it returns; page tokens and the wire names stay there.
 *
 * Every call returns 0 or a negative enum err_code with e set. Results
 * are owned by the caller, who clears them with the matching function. */
#ifndef SIBYL_SERVICE_OWNERS_H
#define SIBYL_SERVICE_OWNERS_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "error.h"

struct service;
struct svc_audit;

/* Quota values above these are refused rather than stored: nobody needs
 * them, and they keep sums and comparisons far from overflow. */
#define SVC_QUOTA_COUNT_MAX 1000000000000LL /* 1e12 */
#define SVC_QUOTA_RPS_MAX   1000000.0

/* An owner's quotas; 0 means no limit. */
struct svc_quota {
	int64_t max_studies;          /* studies of the owner */
	int64_t max_trials_per_study; /* trials of one study, any state */
	int64_t max_active_trials;    /* ACTIVE trials over all the owner's studies */
	double requests_per_second;   /* all the owner's keys together */
	int64_t max_api_keys;         /* ACTIVE keys of the owner */
};

/* One bit per quota field, in the order of svc_quota_names. */
enum {
	SVC_Q_MAX_STUDIES = 1 << 0,
	SVC_Q_MAX_TRIALS = 1 << 1,
	SVC_Q_MAX_ACTIVE = 1 << 2,
	SVC_Q_RPS = 1 << 3,
	SVC_Q_MAX_KEYS = 1 << 4,
	SVC_Q_ALL = 31,
	SVC_N_QUOTA = 5,
};
/* The API.md names of the fields, bit i is svc_quota_names[i]. */
extern const char *const svc_quota_names[SVC_N_QUOTA];

struct svc_owner {
	char *id;
	char *display_name; /* "" when none */
	int64_t create_time;
	struct svc_quota quota;
};
void svc_owner_clear(struct svc_owner *o);           /* NULL-safe */
void svc_owners_free(struct svc_owner *a, size_t n); /* clears each, frees array */

/* A change of an owner: the quota fields named in mask are set from quota
 * (the others keep their value: for a new owner the defaults); set names
 * the fields the request gave, each checked against the limits above
 * (INVALID_ARGUMENT naming quota.<field>) even when mask leaves it out. */
struct svc_owner_change {
	const char *display_name; /* NULL: unchanged; "" clears */
	struct svc_quota quota;
	unsigned set, mask;
};

/* ALREADY_EXISTS when id is taken. *out is the owner as stored. */
int service_owner_create(struct service *sv, const char *id, const struct svc_owner_change *ch,
                         struct svc_owner *out, struct svc_audit *audit, struct err *e);
/* NOT_FOUND when absent. */
int service_owner_get(struct service *sv, const char *id, struct svc_owner *out, struct err *e);
/* Owners by id, id > after ("": from the start), at most limit. */
int service_owner_list(struct service *sv, const char *after, int limit, struct svc_owner **out,
                       size_t *n, struct err *e);
/* NOT_FOUND when absent. *out is the owner as stored. */
int service_owner_update(struct service *sv, const char *id, const struct svc_owner_change *ch,
                         struct svc_owner *out, struct svc_audit *audit, struct err *e);
/* Without force FAILED_PRECONDITION while the owner still has studies;
 * with force its studies (and all under them) and keys go too, and the
 * service forgets what it kept of those studies. NOT_FOUND when absent. */
int service_owner_delete(struct service *sv, const char *id, int force, struct svc_audit *audit,
                         struct err *e);

struct svc_key {
	char keyid[17]; /* 16 hex digits */
	char *owner;
	enum auth_role role;
	char *display_name; /* "" when none */
	int64_t create_time;
	int64_t revoke_time; /* 0 while ACTIVE */
	int64_t seq;         /* creation order, for page tokens */
};
void svc_key_clear(struct svc_key *k);           /* NULL-safe */
void svc_keys_free(struct svc_key *a, size_t n); /* clears each, frees array */

/* A new key of owner (NOT_FOUND when the owner is absent; RESOURCE_EXHAUSTED
 * at maxApiKeys). *out is the stored key; secret (AUTH_KEY_LEN + 1 bytes)
 * gets the key itself, which is stored nowhere: the caller wipes it
 * (svc_secret_wipe) once it is shown. */
int service_key_create(struct service *sv, const char *owner, enum auth_role role,
                       const char *display_name, struct svc_key *out, char secret[AUTH_KEY_LEN + 1],
                       struct svc_audit *audit, struct err *e);
void svc_secret_wipe(char secret[AUTH_KEY_LEN + 1]);
/* The owner's keys with seq > after, at most limit (NOT_FOUND when the
 * owner is absent). */
int service_key_list(struct service *sv, const char *owner, int64_t after, int limit,
                     struct svc_key **out, size_t *n, struct err *e);
/* NOT_FOUND unless owner has this key. */
int service_key_get(struct service *sv, const char *owner, const char *keyid, struct svc_key *out,
                    struct err *e);
/* Revokes it (a revoked key stays revoked at its first time). NOT_FOUND
 * unless owner has this key. */
int service_key_revoke(struct service *sv, const char *owner, const char *keyid,
                       struct svc_audit *audit, struct err *e);

struct svc_audit {
	int64_t id;
	int64_t time;
	char *keyid; /* "admin", a key id, or "" */
	char *owner; /* the {owner} of the path or "" */
	char *method;
	char *path;
	int status;        /* HTTP status of the answer, as recorded */
	char *error;       /* google.rpc status name, "" on success */
	int64_t count;     /* identical refusals this entry stands for (>= 1) */
	int64_t last_time; /* the last of them (0 when count is 1) */
};
void svc_audits_free(struct svc_audit *a, size_t n); /* clears each, frees array */
/* Entries newest first, id < before (0: from the newest), of one owner
 * (NULL: all), at most limit. */
int service_audit_list(struct service *sv, const char *owner, int64_t before, int limit,
                       struct svc_audit **out, size_t *n, struct err *e);

#endif
