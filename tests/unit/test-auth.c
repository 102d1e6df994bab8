/* auth: key generation, hashing, verification, header parsing and the
 * permission check of API.md "Owners and keys". */
#include <pthread.h>
#include <stdlib.h>

#include "auth.h"
#include "test.h"

static void make_record(const struct auth_new_key *k, const char *owner, enum auth_role role,
                        struct auth_key_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	memcpy(rec->keyid, k->keyid, sizeof(rec->keyid));
	snprintf(rec->owner, sizeof(rec->owner), "%s", owner);
	rec->role = role;
	memcpy(rec->salt, k->salt, sizeof(rec->salt));
	memcpy(rec->hash, k->hash, sizeof(rec->hash));
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]) || s[i] == '\0')
			return 0;
	return 1;
}

static void test_roles(void)
{
	struct err e;
	enum auth_role r = AUTH_ROLE_NONE;
	ASSERT_EQ_INT(auth_role_parse("READER", "role", &r, &e), 0);
	ASSERT_EQ_INT(r, AUTH_ROLE_READER);
	ASSERT_EQ_INT(auth_role_parse("WRITER", "role", &r, &e), 0);
	ASSERT_EQ_INT(r, AUTH_ROLE_WRITER);
	ASSERT_EQ_INT(auth_role_parse("ADMIN", "role", &r, &e), -ERR_INVALID_ARGUMENT);
	ASSERT_EQ_STR(e.msg, "role must be READER or WRITER");
	ASSERT_EQ_INT(auth_role_parse("reader", "key.role", &r, &e), -ERR_INVALID_ARGUMENT);
	ASSERT_EQ_STR(e.msg, "key.role must be READER or WRITER");
	ASSERT_EQ_INT(auth_role_parse(NULL, "role", &r, &e), -ERR_INVALID_ARGUMENT);
	ASSERT_EQ_STR(auth_role_name(AUTH_ROLE_READER), "READER");
	ASSERT_EQ_STR(auth_role_name(AUTH_ROLE_WRITER), "WRITER");
	ASSERT_EQ_STR(auth_role_name(AUTH_ROLE_ADMIN), "ADMIN");
	ASSERT_EQ_STR(auth_role_name((enum auth_role)42), "ROLE_UNSPECIFIED");
}

static void test_generate(void)
{
	struct err e;
	struct auth_new_key a, b;
	ASSERT_EQ_INT(auth_key_generate(&a, &e), 0);
	ASSERT_EQ_INT(auth_key_generate(&b, &e), 0);
	ASSERT_EQ_INT(strlen(a.key), AUTH_KEY_LEN);
	ASSERT_TRUE(strncmp(a.key, "sk_", 3) == 0);
	ASSERT_TRUE(memcmp(a.key + 3, a.keyid, AUTH_KEYID_HEX) == 0);
	ASSERT_EQ_INT(a.key[3 + AUTH_KEYID_HEX], '_');
	ASSERT_EQ_INT(strlen(a.keyid), AUTH_KEYID_HEX);
	ASSERT_TRUE(is_hex(a.keyid, AUTH_KEYID_HEX));
	ASSERT_TRUE(is_hex(a.key + 4 + AUTH_KEYID_HEX, AUTH_SECRET_HEX));
	/* Fresh randomness each time: id, secret and salt all differ. */
	ASSERT_TRUE(strcmp(a.keyid, b.keyid) != 0);
	ASSERT_TRUE(strcmp(a.key + 4 + AUTH_KEYID_HEX, b.key + 4 + AUTH_KEYID_HEX) != 0);
	ASSERT_TRUE(memcmp(a.salt, b.salt, AUTH_SALT_BYTES) != 0);

	/* The stored hash is BLAKE2b of the whole key keyed by the salt. */
	unsigned char h[AUTH_HASH_BYTES];
	ASSERT_EQ_INT(auth_key_hash(a.salt, a.key, strlen(a.key), h, &e), 0);
	ASSERT_TRUE(memcmp(h, a.hash, sizeof(h)) == 0);
	/* The same key under another salt hashes differently. */
	ASSERT_EQ_INT(auth_key_hash(b.salt, a.key, strlen(a.key), h, &e), 0);
	ASSERT_TRUE(memcmp(h, a.hash, sizeof(h)) != 0);
	/* The hash is not the key or a prefix of it. */
	ASSERT_TRUE(memcmp(a.hash, a.key, sizeof(a.hash)) != 0);

	char id[AUTH_KEYID_HEX + 1];
	ASSERT_EQ_INT(auth_key_parse(a.key, strlen(a.key), id, &e), 0);
	ASSERT_EQ_STR(id, a.keyid);

	auth_new_key_wipe(&a);
	ASSERT_EQ_INT(a.key[0], 0);
	ASSERT_EQ_INT(a.key[AUTH_KEY_LEN - 1], 0);
	auth_new_key_wipe(NULL);
}

static void test_parse_malformed(void)
{
	struct err e;
	char id[AUTH_KEYID_HEX + 1];
	struct auth_new_key k;
	ASSERT_EQ_INT(auth_key_generate(&k, &e), 0);
	char buf[AUTH_KEY_LEN + 8];
	const char *bad[] = {
	    "", "sk_", "sk_0123456789abcdef", "sk_0123456789abcdef_", "not-a-key-at-all",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ_INT(auth_key_parse(bad[i], strlen(bad[i]), id, &e), -ERR_UNAUTHENTICATED);
		ASSERT_TRUE(strstr(e.msg, "malformed API key") != NULL);
	}
	/* One change at a time to a good key. */
	size_t n = strlen(k.key);
	memcpy(buf, k.key, n + 1);
	buf[0] = 'S';
	ASSERT_EQ_INT(auth_key_parse(buf, n, id, &e), -ERR_UNAUTHENTICATED);
	memcpy(buf, k.key, n + 1);
	buf[3 + AUTH_KEYID_HEX] = '-';
	ASSERT_EQ_INT(auth_key_parse(buf, n, id, &e), -ERR_UNAUTHENTICATED);
	memcpy(buf, k.key, n + 1);
	buf[5] = 'G';
	ASSERT_EQ_INT(auth_key_parse(buf, n, id, &e), -ERR_UNAUTHENTICATED);
	ASSERT_EQ_STR(e.msg, "malformed API key: character 6 is not a lowercase hex digit");
	memcpy(buf, k.key, n + 1);
	buf[n - 1] = 'A'; /* uppercase hex is not what we hand out */
	ASSERT_EQ_INT(auth_key_parse(buf, n, id, &e), -ERR_UNAUTHENTICATED);
	memcpy(buf, k.key, n + 1);
	buf[40] = '\0'; /* a NUL inside the counted bytes */
	ASSERT_EQ_INT(auth_key_parse(buf, n, id, &e), -ERR_UNAUTHENTICATED);
	memcpy(buf, k.key, n);
	buf[n] = 'a';
	buf[n + 1] = '\0';
	ASSERT_EQ_INT(auth_key_parse(buf, n + 1, id, &e), -ERR_UNAUTHENTICATED);
	ASSERT_EQ_INT(auth_key_parse(k.key, n - 1, id, &e), -ERR_UNAUTHENTICATED);
}

static void test_header(void)
{
	struct err e;
	const char *tok = NULL;
	size_t len = 0;
	ASSERT_EQ_INT(auth_header_parse("Bearer abc", &tok, &len, &e), 0);
	ASSERT_EQ_INT(len, 3);
	ASSERT_TRUE(strncmp(tok, "abc", 3) == 0);
	ASSERT_EQ_INT(auth_header_parse("  bearer \t xyz12 \t", &tok, &len, &e), 0);
	ASSERT_EQ_INT(len, 5);
	ASSERT_TRUE(strncmp(tok, "xyz12", 5) == 0);
	ASSERT_EQ_INT(auth_header_parse("BEARER k", &tok, &len, &e), 0);
	ASSERT_EQ_INT(len, 1);

	ASSERT_EQ_INT(auth_header_parse(NULL, &tok, &len, &e), -ERR_UNAUTHENTICATED);
	ASSERT_EQ_STR(e.msg, "missing Authorization header: send 'Authorization: Bearer <key>'");
	ASSERT_EQ_INT(auth_header_parse("", &tok, &len, &e), -ERR_UNAUTHENTICATED);
	ASSERT_TRUE(strstr(e.msg, "missing Authorization header") != NULL);
	ASSERT_EQ_INT(auth_header_parse("Basic dXNlcjpwYXNz", &tok, &len, &e),
	              -ERR_UNAUTHENTICATED);
	ASSERT_TRUE(strstr(e.msg, "scheme must be Bearer") != NULL);
	ASSERT_EQ_INT(auth_header_parse("Bearerabc", &tok, &len, &e), -ERR_UNAUTHENTICATED);
	ASSERT_TRUE(strstr(e.msg, "scheme must be Bearer") != NULL);
	ASSERT_EQ_INT(auth_header_parse("Bearer", &tok, &len, &e), -ERR_UNAUTHENTICATED);
	ASSERT_EQ_INT(auth_header_parse("Bearer    ", &tok, &len, &e), -ERR_UNAUTHENTICATED);
	ASSERT_TRUE(strstr(e.msg, "empty bearer token") != NULL);
	ASSERT_EQ_INT(auth_header_parse("Bearer a b", &tok, &len, &e), -ERR_UNAUTHENTICATED);
	ASSERT_TRUE(strstr(e.msg, "space or control character") != NULL);
	ASSERT_EQ_INT(auth_header_parse("Bearer a\x01", &tok, &len, &e), -ERR_UNAUTHENTICATED);
	ASSERT_EQ_INT(auth_header_parse("Bearer a\x7f", &tok, &len, &e), -ERR_UNAUTHENTICATED);

	char *huge = malloc(AUTH_HEADER_MAX + 2);
	memcpy(huge, "Bearer ", 7);
	memset(huge + 7, 'k', AUTH_HEADER_MAX + 1 - 7);
	huge[AUTH_HEADER_MAX + 1] = '\0';
	ASSERT_EQ_INT(auth_header_parse(huge, &tok, &len, &e), -ERR_UNAUTHENTICATED);
	ASSERT_TRUE(strstr(e.msg, "longer than") != NULL);
	huge[AUTH_HEADER_MAX] = '\0'; /* exactly the limit is accepted */
	ASSERT_EQ_INT(auth_header_parse(huge, &tok, &len, &e), 0);
	ASSERT_EQ_INT(len, AUTH_HEADER_MAX - 7);
	free(huge);
}

static void test_admin(void)
{
	const char *admin = "test-admin-key-0123456789abcdef";
	ASSERT_EQ_INT(auth_admin_match(admin, admin, strlen(admin)), 1);
	ASSERT_EQ_INT(auth_admin_match(admin, admin, strlen(admin) - 1), 0); /* a prefix */
	ASSERT_EQ_INT(auth_admin_match(admin, "test-admin-key-0123456789abcdeX", strlen(admin)), 0);
	ASSERT_EQ_INT(
	    auth_admin_match(admin, "test-admin-key-0123456789abcdef0", strlen(admin) + 1), 0);
	/* A NUL in the presented bytes does not end the comparison. */
	char withnul[64];
	memcpy(withnul, admin, strlen(admin) + 1);
	ASSERT_EQ_INT(auth_admin_match(admin, withnul, strlen(admin) + 1), 0);
	/* An unset admin key matches nothing, not even an empty token. */
	ASSERT_EQ_INT(auth_admin_match("", "", 0), 0);
	ASSERT_EQ_INT(auth_admin_match(NULL, "", 0), 0);
	ASSERT_EQ_INT(auth_admin_match(NULL, "x", 1), 0);
}

static void test_verify(void)
{
	struct err e;
	struct auth_new_key k;
	struct auth_key_record rec;
	struct auth_principal p;
	ASSERT_EQ_INT(auth_key_generate(&k, &e), 0);
	make_record(&k, "team-a", AUTH_ROLE_WRITER, &rec);
	size_t n = strlen(k.key);

	ASSERT_EQ_INT(auth_verify(&rec, k.key, n, &p, &e), 0);
	ASSERT_EQ_INT(p.role, AUTH_ROLE_WRITER);
	ASSERT_EQ_STR(p.owner, "team-a");
	ASSERT_EQ_STR(p.keyid, k.keyid);

	/* Each single-character change of the secret fails. */
	char buf[AUTH_KEY_LEN + 1];
	int all_rejected = 1;
	for (size_t i = 4 + AUTH_KEYID_HEX; i < n; i++) {
		memcpy(buf, k.key, n + 1);
		buf[i] = buf[i] == '0' ? '1' : '0';
		if (auth_verify(&rec, buf, n, &p, &e) != -ERR_UNAUTHENTICATED)
			all_rejected = 0;
	}
	ASSERT_TRUE(all_rejected);
	ASSERT_EQ_STR(e.msg, "API key not recognized");

	/* An unknown key id. */
	ASSERT_EQ_INT(auth_verify(NULL, k.key, n, &p, &e), -ERR_UNAUTHENTICATED);
	ASSERT_EQ_STR(e.msg, "API key not recognized");

	/* The right key under a record with another salt. */
	struct auth_key_record other = rec;
	other.salt[0] ^= 1;
	ASSERT_EQ_INT(auth_verify(&other, k.key, n, &p, &e), -ERR_UNAUTHENTICATED);

	/* Revoked: said so only to someone holding the secret. */
	rec.revoke_time = 1700000000000;
	ASSERT_EQ_INT(auth_verify(&rec, k.key, n, &p, &e), -ERR_UNAUTHENTICATED);
	char want[128];
	snprintf(want, sizeof(want), "API key owners/team-a/apiKeys/%s has been revoked", k.keyid);
	ASSERT_EQ_STR(e.msg, want);
	memcpy(buf, k.key, n + 1);
	buf[n - 1] = buf[n - 1] == '0' ? '1' : '0';
	ASSERT_EQ_INT(auth_verify(&rec, buf, n, &p, &e), -ERR_UNAUTHENTICATED);
	ASSERT_EQ_STR(e.msg, "API key not recognized");
	rec.revoke_time = 0;

	/* A corrupt role in the store is not turned into a permission. */
	rec.role = AUTH_ROLE_ADMIN;
	ASSERT_EQ_INT(auth_verify(&rec, k.key, n, &p, &e), -ERR_INTERNAL);
	rec.role = AUTH_ROLE_READER;
	ASSERT_EQ_INT(auth_verify(&rec, k.key, n, &p, &e), 0);
	ASSERT_EQ_INT(p.role, AUTH_ROLE_READER);
}

/* The digests are compared over all their bytes (sodium_memcmp), not as
 * strings: a stored hash that equals the computed one up to a zero byte and
 * differs after it must be rejected. Search for a salt whose digest starts
 * with a zero byte, which a strcmp-style comparison would stop at. */
static void test_compare_is_binary(void)
{
	struct err e;
	struct auth_new_key k;
	struct auth_key_record rec;
	struct auth_principal p;
	ASSERT_EQ_INT(auth_key_generate(&k, &e), 0);
	make_record(&k, "o", AUTH_ROLE_WRITER, &rec);
	int found = 0;
	for (unsigned i = 0; i < 100000 && !found; i++) {
		memcpy(rec.salt, &i, sizeof(i));
		ASSERT_EQ_INT(auth_key_hash(rec.salt, k.key, strlen(k.key), rec.hash, &e), 0);
		found = rec.hash[0] == 0;
	}
	ASSERT_TRUE(found);
	ASSERT_EQ_INT(auth_verify(&rec, k.key, strlen(k.key), &p, &e), 0);
	rec.hash[AUTH_HASH_BYTES - 1] ^= 0x80;
	ASSERT_EQ_INT(auth_verify(&rec, k.key, strlen(k.key), &p, &e), -ERR_UNAUTHENTICATED);
	rec.hash[AUTH_HASH_BYTES - 1] ^= 0x80;
	rec.hash[1] ^= 1;
	ASSERT_EQ_INT(auth_verify(&rec, k.key, strlen(k.key), &p, &e), -ERR_UNAUTHENTICATED);
}

static void principal(struct auth_principal *p, enum auth_role role, const char *owner)
{
	memset(p, 0, sizeof(*p));
	p->role = role;
	snprintf(p->owner, sizeof(p->owner), "%s", owner);
	snprintf(p->keyid, sizeof(p->keyid), "0123456789abcdef");
}

static void test_check(void)
{
	struct err e;
	struct auth_principal admin, w, r, none;
	auth_principal_admin(&admin);
	ASSERT_EQ_STR(admin.keyid, "admin");
	ASSERT_EQ_STR(admin.owner, "");
	principal(&w, AUTH_ROLE_WRITER, "a");
	principal(&r, AUTH_ROLE_READER, "a");
	principal(&none, AUTH_ROLE_NONE, "a");

	/* The admin may do everything, to any owner or none. */
	for (int act = AUTH_READ; act <= AUTH_ADMIN_ONLY; act++) {
		ASSERT_EQ_INT(auth_check(&admin, "a", (enum auth_action)act, NULL, &e), 0);
		ASSERT_EQ_INT(auth_check(&admin, NULL, (enum auth_action)act, NULL, &e), 0);
	}

	/* Own owner. */
	ASSERT_EQ_INT(auth_check(&w, "a", AUTH_READ, NULL, &e), 0);
	ASSERT_EQ_INT(auth_check(&w, "a", AUTH_WRITE, NULL, &e), 0);
	ASSERT_EQ_INT(auth_check(&w, "a", AUTH_MANAGE_KEYS, NULL, &e), 0);
	ASSERT_EQ_INT(auth_check(&w, "a", AUTH_ADMIN_ONLY, NULL, &e), -ERR_PERMISSION_DENIED);
	ASSERT_EQ_STR(e.msg, "only the admin key may do this");
	ASSERT_EQ_INT(auth_check(&r, "a", AUTH_READ, NULL, &e), 0);
	ASSERT_EQ_INT(auth_check(&r, "a", AUTH_WRITE, NULL, &e), -ERR_PERMISSION_DENIED);
	ASSERT_TRUE(strstr(e.msg, "is a READER key") != NULL);
	ASSERT_TRUE(strstr(e.msg, "needs a WRITER key") != NULL);
	ASSERT_EQ_INT(auth_check(&r, "a", AUTH_MANAGE_KEYS, NULL, &e), -ERR_PERMISSION_DENIED);
	ASSERT_EQ_INT(auth_check(&r, "a", AUTH_ADMIN_ONLY, NULL, &e), -ERR_PERMISSION_DENIED);

	/* Resources of no owner (/v1/owners, /v1/auditLog). */
	ASSERT_EQ_INT(auth_check(&w, NULL, AUTH_ADMIN_ONLY, NULL, &e), -ERR_PERMISSION_DENIED);
	ASSERT_EQ_INT(auth_check(&r, NULL, AUTH_ADMIN_ONLY, NULL, &e), -ERR_PERMISSION_DENIED);

	/* Another owner: NOT_FOUND whatever the action and role, so that a key
	 * cannot tell which owners exist. */
	for (int act = AUTH_READ; act <= AUTH_ADMIN_ONLY; act++) {
		ASSERT_EQ_INT(
		    auth_check(&w, "b", (enum auth_action)act, "study owners/b/studies/s", &e),
		    -ERR_NOT_FOUND);
		ASSERT_EQ_STR(e.msg, "study owners/b/studies/s not found");
		ASSERT_EQ_INT(auth_check(&r, "b", (enum auth_action)act, NULL, &e), -ERR_NOT_FOUND);
		ASSERT_EQ_STR(e.msg, "owner owners/b not found");
	}
	/* Owner names compare exactly: no prefix or case folding. */
	ASSERT_EQ_INT(auth_check(&w, "A", AUTH_READ, NULL, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(auth_check(&w, "ab", AUTH_READ, NULL, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_INT(auth_check(&w, "", AUTH_READ, NULL, &e), -ERR_NOT_FOUND);

	/* No principal at all. */
	ASSERT_EQ_INT(auth_check(&none, "a", AUTH_READ, NULL, &e), -ERR_UNAUTHENTICATED);
}

#define THREADS    4
#define PER_THREAD 200

struct gen_result {
	char ids[PER_THREAD][AUTH_KEYID_HEX + 1];
	int failures;
};

/* Each thread makes keys and verifies them while the others do the same. */
static void *gen_thread(void *arg)
{
	struct gen_result *res = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		struct err e;
		struct auth_new_key k;
		struct auth_key_record rec;
		struct auth_principal p;
		if (auth_key_generate(&k, &e) != 0) {
			res->failures++;
			continue;
		}
		make_record(&k, "t", AUTH_ROLE_READER, &rec);
		if (auth_verify(&rec, k.key, strlen(k.key), &p, &e) != 0)
			res->failures++;
		if (auth_admin_match("adm", k.key, strlen(k.key)) != 0 ||
		    auth_admin_match("adm", "adm", 3) != 1)
			res->failures++;
		memcpy(res->ids[i], k.keyid, sizeof(res->ids[i]));
	}
	return NULL;
}

static int cmp_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_threads(void)
{
	static struct gen_result res[THREADS];
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, gen_thread, &res[i]);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	static char all[THREADS * PER_THREAD][AUTH_KEYID_HEX + 1];
	int failures = 0;
	for (int i = 0; i < THREADS; i++) {
		failures += res[i].failures;
		memcpy(all[i * PER_THREAD], res[i].ids, sizeof(res[i].ids));
	}
	ASSERT_EQ_INT(failures, 0);
	qsort(all, THREADS * PER_THREAD, sizeof(all[0]), cmp_ids);
	int dups = 0;
	for (int i = 1; i < THREADS * PER_THREAD; i++)
		dups += strcmp(all[i - 1], all[i]) == 0;
	ASSERT_EQ_INT(dups, 0);
}

int main(void)
{
	struct err e;
	ASSERT_EQ_INT(auth_init(&e), 0);
	ASSERT_EQ_INT(auth_init(&e), 0); /* twice is fine */
	test_roles();
	test_generate();
	test_parse_malformed();
	test_header();
	test_admin();
	test_verify();
	test_compare_is_binary();
	test_check();
	test_threads();
	return test_done("test-auth");
}
