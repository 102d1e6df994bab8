#include "auth.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

const char *auth_role_name(enum auth_role role)
{
	switch (role) {
	case AUTH_ROLE_READER:
		return "READER";
	case AUTH_ROLE_WRITER:
		return "WRITER";
	case AUTH_ROLE_ADMIN:
		return "ADMIN";
	default:
		return "ROLE_UNSPECIFIED";
	}
}

int auth_role_parse(const char *s, const char *field, enum auth_role *role, struct err *e)
{
	if (s && strcmp(s, "READER") == 0) {
		*role = AUTH_ROLE_READER;
		return 0;
	}
	if (s && strcmp(s, "WRITER") == 0) {
		*role = AUTH_ROLE_WRITER;
		return 0;
	}
	return err_set(e, ERR_INVALID_ARGUMENT, "%s must be READER or WRITER", field);
}

int auth_init(struct err *e)
{
	/* sodium_init() is thread-safe and returns 1 once already done. */
	if (sodium_init() < 0)
		return err_set(e, ERR_INTERNAL, "libsodium failed to initialize");
	return 0;
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int auth_key_hash(const unsigned char salt[AUTH_SALT_BYTES], const char *key, size_t len,
                  unsigned char out[AUTH_HASH_BYTES], struct err *e)
{
	int rc = auth_init(e);
	if (rc)
		return rc;
	if (crypto_generichash(out, AUTH_HASH_BYTES, (const unsigned char *)key, len, salt,
	                       AUTH_SALT_BYTES) != 0)
		return err_set(e, ERR_INTERNAL, "hashing the API key failed");
	return 0;
}

int auth_key_generate(struct auth_new_key *out, struct err *e)
{
	unsigned char id[AUTH_KEYID_HEX / 2];
	unsigned char secret[AUTH_SECRET_HEX / 2];
	char secret_hex[AUTH_SECRET_HEX + 1];
	int rc = auth_init(e);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	randombytes_buf(id, sizeof(id));
	randombytes_buf(secret, sizeof(secret));
	randombytes_buf(out->salt, sizeof(out->salt));
	sodium_bin2hex(out->keyid, sizeof(out->keyid), id, sizeof(id));
	sodium_bin2hex(secret_hex, sizeof(secret_hex), secret, sizeof(secret));

	size_t p = 0;
	memcpy(out->key + p, AUTH_KEY_PREFIX, 3);
	p += 3;
	memcpy(out->key + p, out->keyid, AUTH_KEYID_HEX);
	p += AUTH_KEYID_HEX;
	out->key[p++] = '_';
	memcpy(out->key + p, secret_hex, AUTH_SECRET_HEX);
	p += AUTH_SECRET_HEX;
	out->key[p] = '\0';
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(secret_hex, sizeof(secret_hex));

	rc = auth_key_hash(out->salt, out->key, AUTH_KEY_LEN, out->hash, e);
	if (rc)
		auth_new_key_wipe(out);
	return rc;
}

void auth_new_key_wipe(struct auth_new_key *k)
{
	if (k)
		sodium_memzero(k->key, sizeof(k->key));
}

int auth_key_parse(const char *token, size_t len, char keyid[AUTH_KEYID_HEX + 1], struct err *e)
{
	if (len != AUTH_KEY_LEN || memcmp(token, AUTH_KEY_PREFIX, 3) != 0 ||
	    token[3 + AUTH_KEYID_HEX] != '_')
		return err_set(e, ERR_UNAUTHENTICATED,
		               "malformed API key: expected sk_<16 hex digits>_<64 hex digits>");
	for (size_t i = 3; i < len; i++) {
		if (i == 3 + AUTH_KEYID_HEX)
			continue;
		if (!is_lower_hex(token[i]))
			return err_set(
			    e, ERR_UNAUTHENTICATED,
			    "malformed API key: character %zu is not a lowercase hex digit", i + 1);
	}
	memcpy(keyid, token + 3, AUTH_KEYID_HEX);
	keyid[AUTH_KEYID_HEX] = '\0';
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

int auth_header_parse(const char *authorization, const char **token, size_t *len, struct err *e)
{
	static const char hint[] = "send 'Authorization: Bearer <key>'";
	if (!authorization || !*authorization)
		return err_set(e, ERR_UNAUTHENTICATED, "missing Authorization header: %s", hint);
	size_t n = strnlen(authorization, AUTH_HEADER_MAX + 1);
	if (n > AUTH_HEADER_MAX)
		return err_set(e, ERR_UNAUTHENTICATED, "Authorization header longer than %d bytes",
		               AUTH_HEADER_MAX);
	const char *s = authorization;
	while (is_space(*s))
		s++;
	if (strncasecmp(s, "Bearer", 6) != 0 || !is_space(s[6]))
		return err_set(e, ERR_UNAUTHENTICATED, "Authorization scheme must be Bearer: %s",
		               hint);
	s += 6;
	while (is_space(*s))
		s++;
	size_t t = strlen(s);
	while (t > 0 && is_space(s[t - 1]))
		t--;
	if (t == 0)
		return err_set(e, ERR_UNAUTHENTICATED, "empty bearer token: %s", hint);
	for (size_t i = 0; i < t; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f)
			return err_set(e, ERR_UNAUTHENTICATED,
			               "bearer token holds a space or control character");
	}
	*token = s;
	*len = t;
	return 0;
}

/* A per-process random key for hashing both sides before the comparison,
 * so that timing tells nothing about the admin key, not even its length. */
static unsigned char cmp_key[crypto_generichash_KEYBYTES];
static pthread_once_t cmp_key_once = PTHREAD_ONCE_INIT;

static void cmp_key_init(void)
{
	randombytes_buf(cmp_key, sizeof(cmp_key));
}

static void digest(const char *s, size_t len, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)s, len, cmp_key, sizeof(cmp_key));
}

int auth_admin_match(const char *admin_key, const char *token, size_t len)
{
	unsigned char a[32], b[32];
	if (auth_init(NULL))
		return 0;
	pthread_once(&cmp_key_once, cmp_key_init);
	size_t alen = admin_key ? strlen(admin_key) : 0;
	digest(admin_key ? admin_key : "", alen, a);
	digest(token, len, b);
	int same = sodium_memcmp(a, b, sizeof(a)) == 0;
	return same && alen > 0;
}

void auth_principal_admin(struct auth_principal *p)
{
	memset(p, 0, sizeof(*p));
	p->role = AUTH_ROLE_ADMIN;
	memcpy(p->keyid, "admin", 6);
}

int auth_verify(const struct auth_key_record *rec, const char *token, size_t len,
                struct auth_principal *p, struct err *e)
{
	static const unsigned char dummy_salt[AUTH_SALT_BYTES];
	unsigned char got[AUTH_HASH_BYTES];
	unsigned char want[AUTH_HASH_BYTES];
	int rc = auth_key_hash(rec ? rec->salt : dummy_salt, token, len, got, e);
	if (rc)
		return rc;
	if (rec)
		memcpy(want, rec->hash, sizeof(want));
	else
		randombytes_buf(want, sizeof(want));
	int ok = sodium_memcmp(got, want, sizeof(got)) == 0;
	if (!rec || !ok)
		return err_set(e, ERR_UNAUTHENTICATED, "API key not recognized");
	if (rec->revoke_time != 0)
		return err_set(e, ERR_UNAUTHENTICATED,
		               "API key owners/%s/apiKeys/%s has been revoked", rec->owner,
		               rec->keyid);
	if (rec->role != AUTH_ROLE_READER && rec->role != AUTH_ROLE_WRITER)
		return err_set(e, ERR_INTERNAL, "API key owners/%s/apiKeys/%s has no valid role",
		               rec->owner, rec->keyid);
	memset(p, 0, sizeof(*p));
	p->role = rec->role;
	memcpy(p->owner, rec->owner, sizeof(p->owner));
	p->owner[AUTH_OWNER_MAX] = '\0';
	memcpy(p->keyid, rec->keyid, sizeof(p->keyid));
	p->keyid[AUTH_KEYID_HEX] = '\0';
	return 0;
}

int auth_check(const struct auth_principal *p, const char *owner, enum auth_action action,
               const char *what, struct err *e)
{
	if (p->role == AUTH_ROLE_ADMIN)
		return 0;
	if (p->role != AUTH_ROLE_READER && p->role != AUTH_ROLE_WRITER)
		return err_set(e, ERR_UNAUTHENTICATED, "no valid API key");
	if (owner && strcmp(owner, p->owner) != 0) {
		if (what)
			return err_set(e, ERR_NOT_FOUND, "%s not found", what);
		return err_set(e, ERR_NOT_FOUND, "owner owners/%s not found", owner);
	}
	switch (action) {
	case AUTH_READ:
		return 0;
	case AUTH_WRITE:
	case AUTH_MANAGE_KEYS:
		if (p->role == AUTH_ROLE_WRITER)
			return 0;
		return err_set(e, ERR_PERMISSION_DENIED,
		               "API key owners/%s/apiKeys/%s is a READER key: it may only read; "
		               "this call needs a WRITER key",
		               p->owner, p->keyid);
	case AUTH_ADMIN_ONLY:
	default:
		return err_set(e, ERR_PERMISSION_DENIED, "only the admin key may do this");
	}
}
