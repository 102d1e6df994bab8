/* adminkey: file, environment, generated next to the database and read
 * back; clear errors; constant-time comparison. */
#include "adminkey.h"

#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "test.h"

static char dir[] = "/tmp/sibyl-test-adminkey-XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void base(struct config *cfg, const char *db)
{
	config_defaults(cfg);
	snprintf(cfg->db_path, sizeof(cfg->db_path), "%s/%s", dir, db);
}

static void expect_err(const char *err, const char *want)
{
	if (!strstr(err, want))
		TEST_FAIL("error \"%s\" lacks \"%s\"", err, want);
	test_checks++;
}

static void test_generated(void)
{
	struct config cfg;
	enum adminkey_source src;
	char path[4200], want_path[4200], err[512], first[256];
	struct stat st;

	base(&cfg, "gen.db");
	snprintf(want_path, sizeof(want_path), "%s/gen.db.admin-key", dir);
	ASSERT_EQ_INT(adminkey_resolve(&cfg, &src, path, sizeof(path), err, sizeof(err)), 0);
	ASSERT_EQ_INT(src, ADMINKEY_GENERATED);
	ASSERT_EQ_STR(path, want_path);
	ASSERT_EQ_INT(strlen(cfg.admin_key), 64);
	ASSERT_EQ_INT(strspn(cfg.admin_key, "0123456789abcdef"), 64);
	ASSERT_EQ_INT(stat(path, &st), 0);
	ASSERT_EQ_INT(st.st_mode & 0777, 0600);
	memcpy(first, cfg.admin_key, sizeof(first));

	/* the next start reads the same key back */
	base(&cfg, "gen.db");
	ASSERT_EQ_INT(adminkey_resolve(&cfg, &src, path, sizeof(path), err, sizeof(err)), 0);
	ASSERT_EQ_INT(src, ADMINKEY_FROM_DB_FILE);
	ASSERT_EQ_STR(cfg.admin_key, first);

	/* another database gets another key */
	base(&cfg, "other.db");
	ASSERT_EQ_INT(adminkey_resolve(&cfg, &src, path, sizeof(path), err, sizeof(err)), 0);
	ASSERT_TRUE(strcmp(cfg.admin_key, first) != 0);

	/* an emptied key file is an error, not a silent new key */
	write_file(want_path, "\n");
	base(&cfg, "gen.db");
	ASSERT_EQ_INT(adminkey_resolve(&cfg, &src, path, sizeof(path), err, sizeof(err)), -1);
	expect_err(err, "is empty");

	/* a directory we cannot write to: a clear error */
	base(&cfg, "no-such-dir/x.db");
	ASSERT_EQ_INT(adminkey_resolve(&cfg, &src, path, sizeof(path), err, sizeof(err)), -1);
	expect_err(err, "cannot create admin key file");
	expect_err(err, "no-such-dir/x.db.admin-key");
}

static void test_env_and_file(void)
{
	struct config cfg;
	enum adminkey_source src;
	char path[4200], file[512], err[512];

	/* SIBYL_ADMIN_KEY (put in cfg by config_load) wins over generating */
	base(&cfg, "env.db");
	snprintf(cfg.admin_key, sizeof(cfg.admin_key), "from-env");
	ASSERT_EQ_INT(adminkey_resolve(&cfg, &src, path, sizeof(path), err, sizeof(err)), 0);
	ASSERT_EQ_INT(src, ADMINKEY_FROM_ENV);
	ASSERT_EQ_STR(cfg.admin_key, "from-env");
	snprintf(file, sizeof(file), "%s/env.db.admin-key", dir);
	ASSERT_TRUE(access(file, F_OK) != 0); /* nothing written */

	/* --admin-key-file wins over the environment; newline dropped */
	snprintf(file, sizeof(file), "%s/key.txt", dir);
	write_file(file, "s3cret-key\r\n");
	snprintf(cfg.admin_key_file, sizeof(cfg.admin_key_file), "%s", file);
	ASSERT_EQ_INT(adminkey_resolve(&cfg, &src, path, sizeof(path), err, sizeof(err)), 0);
	ASSERT_EQ_INT(src, ADMINKEY_FROM_FILE);
	ASSERT_EQ_STR(cfg.admin_key, "s3cret-key");
	ASSERT_EQ_STR(path, file);

	snprintf(cfg.admin_key_file, sizeof(cfg.admin_key_file), "%s/missing.txt", dir);
	ASSERT_EQ_INT(adminkey_resolve(&cfg, &src, path, sizeof(path), err, sizeof(err)), -1);
	expect_err(err, "missing.txt does not exist");
	ASSERT_EQ_STR(cfg.admin_key, "s3cret-key"); /* unchanged on error */

	write_file(file, "");
	snprintf(cfg.admin_key_file, sizeof(cfg.admin_key_file), "%s", file);
	ASSERT_EQ_INT(adminkey_resolve(&cfg, &src, path, sizeof(path), err, sizeof(err)), -1);
	expect_err(err, "is empty");

	write_file(file, "two\nlines\n");
	ASSERT_EQ_INT(adminkey_resolve(&cfg, &src, path, sizeof(path), err, sizeof(err)), -1);
	expect_err(err, "one line");

	char longkey[400];
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	write_file(file, longkey);
	ASSERT_EQ_INT(adminkey_resolve(&cfg, &src, path, sizeof(path), err, sizeof(err)), -1);
	expect_err(err, "longer than");
}

static void test_equal(void)
{
	ASSERT_EQ_INT(adminkey_equal("abc", "abc"), 1);
	ASSERT_EQ_INT(adminkey_equal("abc", "abd"), 0);
	ASSERT_EQ_INT(adminkey_equal("abc", "ab"), 0);
	ASSERT_EQ_INT(adminkey_equal("ab", "abc"), 0);
	ASSERT_EQ_INT(adminkey_equal("", ""), 1);
	ASSERT_EQ_INT(adminkey_equal("", "a"), 0);
	ASSERT_EQ_INT(adminkey_equal(NULL, "a"), 0);
	ASSERT_EQ_INT(adminkey_equal("a", NULL), 0);
}

int main(void)
{
	char cmd[300];
	if (sodium_init() < 0 || !mkdtemp(dir))
		return 1;
	test_generated();
	test_env_and_file();
	test_equal();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_done("adminkey");
}
