/* auth: API keys and the permission check of API.md "Owners and keys".
 *
 * A key is "sk_<keyid>_<secret>": keyid is 16 lowercase hex digits, public,
 * the {key_id} of owners/{owner}/apiKeys/{key_id} and the lookup key in the
 * store; secret is 64 lowercase hex digits (256 random bits from libsodium).
 * The store keeps a 16-byte random salt and BLAKE2b-256(key, key=salt), never
 * the key itself. A 256-bit random secret cannot be guessed, so a slow
 * password hash would add latency to every request and no security (see
 * docs/admin.md for the measurement); the salt still makes every stored hash
 * unique and useless against another database.
 *
 * Everything here is pure computation on caller-owned buffers (no store, no
 * HTTP), so that it can be tested alone; api.c looks the key record up and
 * calls auth_verify(). Thread-safe after auth_init(). */
#ifndef SIBYL_AUTH_H
#define SIBYL_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define AUTH_KEYID_HEX  16 /* hex digits of the key id */
#define AUTH_SECRET_HEX 64 /* hex digits of the secret */
#define AUTH_SALT_BYTES 16
#define AUTH_HASH_BYTES 32
#define AUTH_KEY_PREFIX "sk_"
/* strlen("sk_") + 16 + strlen("_") + 64 */
#define AUTH_KEY_LEN   (3 + AUTH_KEYID_HEX + 1 + AUTH_SECRET_HEX)
#define AUTH_OWNER_MAX 128 /* the {owner} pattern allows 128 characters */
/* The longest Authorization value looked at; longer is UNAUTHENTICATED. */
#define AUTH_HEADER_MAX 1024

enum auth_role {
	AUTH_ROLE_NONE = 0,
	AUTH_ROLE_READER = 1,
	AUTH_ROLE_WRITER = 2,
	AUTH_ROLE_ADMIN = 3, /* the admin key given to sibyld; no owner */
};

/* "READER", "WRITER", "ADMIN"; "ROLE_UNSPECIFIED" for anything else. */
const char *auth_role_name(enum auth_role role);
/* "READER" or "WRITER" (exact, as API.md spells them) into *role. Returns 0,
 * or -ERR_INVALID_ARGUMENT with a message naming field. ADMIN is not a role
 * a key can be given. */
int auth_role_parse(const char *s, const char *field, enum auth_role *role /* OUT */,
                    struct err *e /* OUT */);

/* Initializes libsodium. Returns 0, or -ERR_INTERNAL. Safe to call more than
 * once and from several threads; every other call here calls it too. */
int auth_init(struct err *e /* OUT */);

/* A freshly generated key: what the store keeps and the one-time secret. */
struct auth_new_key {
	char key[AUTH_KEY_LEN + 1];     /* show once, then forget (see auth_new_key_wipe) */
	char keyid[AUTH_KEYID_HEX + 1]; /* public */
	unsigned char salt[AUTH_SALT_BYTES];
	unsigned char hash[AUTH_HASH_BYTES];
};

/* Makes a new random key with its salt and hash. Returns 0 or -ERR_INTERNAL. */
int auth_key_generate(struct auth_new_key *out /* OUT */, struct err *e /* OUT */);
/* Overwrites the secret in memory (sodium_memzero). NULL-safe. */
void auth_new_key_wipe(struct auth_new_key *k);

/* BLAKE2b-256 of the len bytes of key, keyed by salt. Returns 0 or
 * -ERR_INTERNAL. */
int auth_key_hash(const unsigned char salt[AUTH_SALT_BYTES], const char *key, size_t len,
                  unsigned char out[AUTH_HASH_BYTES] /* OUT */, struct err *e /* OUT */);

/* Splits a token of len bytes in the sk_<keyid>_<secret> form: copies the
 * key id into keyid. Returns 0, or -ERR_UNAUTHENTICATED ("malformed API key")
 * when the token is not of that form (wrong length, prefix, separator or a
 * character that is not lowercase hex). */
int auth_key_parse(const char *token, size_t len, char keyid[AUTH_KEYID_HEX + 1] /* OUT */,
                   struct err *e /* OUT */);

/* Reads "Bearer <token>" (scheme case-insensitive, one or more spaces or
 * tabs, trailing whitespace ignored). On success *token points into
 * authorization and *len is its length. -ERR_UNAUTHENTICATED with a message
 * saying what to send when authorization is NULL or empty, the scheme is not
 * Bearer, the token is empty, too long (AUTH_HEADER_MAX) or holds a space or
 * control character. */
int auth_header_parse(const char *authorization, const char **token /* OUT */,
                      size_t *len /* OUT */, struct err *e /* OUT */);

/* 1 when the len bytes of token equal the NUL-terminated admin_key, else 0.
 * Both are hashed first and the digests compared with sodium_memcmp, so the
 * time taken says nothing about the admin key's content or length. An empty
 * admin_key matches nothing. */
int auth_admin_match(const char *admin_key, const char *token, size_t len);

/* What the store holds for one key (api.c fills it from a lookup by keyid). */
struct auth_key_record {
	char keyid[AUTH_KEYID_HEX + 1];
	char owner[AUTH_OWNER_MAX + 1];
	enum auth_role role; /* READER or WRITER */
	unsigned char salt[AUTH_SALT_BYTES];
	unsigned char hash[AUTH_HASH_BYTES];
	int64_t revoke_time; /* 0 while valid */
};

/* Who is calling. */
struct auth_principal {
	enum auth_role role;
	char owner[AUTH_OWNER_MAX + 1]; /* "" for the admin */
	char keyid[AUTH_KEYID_HEX + 1]; /* "admin" for the admin */
};

/* Fills p for the admin. */
void auth_principal_admin(struct auth_principal *p /* OUT */);

/* Checks a presented token against the record found for its key id (rec
 * NULL when there is none: the same hashing work is still done, so that the
 * time taken does not tell whether a key id exists). The digest comparison
 * uses sodium_memcmp. Returns 0 and fills p, or -ERR_UNAUTHENTICATED: "API
 * key not recognized" for an unknown key id or a wrong secret, "API key
 * owners/O/apiKeys/K has been revoked" only when the secret was right. */
int auth_verify(const struct auth_key_record *rec, const char *token, size_t len,
                struct auth_principal *p /* OUT */, struct err *e /* OUT */);

/* What a request wants to do to a resource of one owner. */
enum auth_action {
	AUTH_READ,        /* get/list studies, trials, operations */
	AUTH_WRITE,       /* change studies and trials */
	AUTH_MANAGE_KEYS, /* create/list/delete keys of the owner */
	AUTH_ADMIN_ONLY,  /* owners, quotas, the audit log */
};

/* The permission check. owner is the {owner} of the resource, or NULL for a
 * resource of no owner (/v1/owners, /v1/auditLog); what names the resource
 * for a NOT_FOUND message ("study owners/b/studies/s"; NULL: "owner
 * owners/<owner>").
 *  - the admin may do anything;
 *  - a key of another owner gets NOT_FOUND "<what> not found", so that
 *    names do not leak;
 *  - READER: AUTH_READ only; WRITER: also AUTH_WRITE and AUTH_MANAGE_KEYS;
 *    otherwise PERMISSION_DENIED naming the role and what it lacks;
 *  - AUTH_ADMIN_ONLY: PERMISSION_DENIED for every key.
 * Returns 0 when allowed. */
int auth_check(const struct auth_principal *p, const char *owner, enum auth_action action,
               const char *what, struct err *e /* OUT */);

#endif
