/* config: defaults, precedence (defaults < file < SIBYL_* < flags), ranges,
 * malformed values, --help and --version. */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"

static const char *const envs[] = {
    "SIBYL_LISTEN",
    "SIBYL_DB",
    "SIBYL_ADMIN_KEY_FILE",
    "SIBYL_THREADS",
    "SIBYL_SHUTDOWN_TIMEOUT_MS",
    "SIBYL_TLS_CERT",
    "SIBYL_TLS_KEY",
    "SIBYL_LOG_LEVEL",
    "SIBYL_MAX_BODY_BYTES",
    "SIBYL_MAX_JSON_DEPTH",
    "SIBYL_MAX_PARAMETERS",
    "SIBYL_MAX_CATEGORIES",
    "SIBYL_MAX_METRICS",
    "SIBYL_MAX_STRING_LEN",
    "SIBYL_MAX_MEASUREMENTS",
    "SIBYL_MAX_SUGGESTION_COUNT",
    "SIBYL_CONFIG",
    "SIBYL_ADMIN_KEY",
    "SIBYL_SYNC",
    "SIBYL_SUGGEST_THREADS",
    "SIBYL_AUTH_FAILURES_PER_SECOND",
    "SIBYL_MAX_METADATA_KEYS",
    "SIBYL_MAX_METADATA_KEY_BYTES",
    "SIBYL_MAX_METADATA_VALUE_BYTES",
    "SIBYL_MAX_METADATA_BYTES",
};
#define NENVS (sizeof(envs) / sizeof(envs[0]))

static char dir[] = "/tmp/sibyl-test-config-XXXXXX";
static char err[1024];

static void clear_env(void)
{
	for (size_t i = 0; i < NENVS; i++)
		unsetenv(envs[i]);
}

/* Runs config_load on the arguments up to the first NULL. */
static int load(struct config *cfg, char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	err[0] = '\0';
	return config_load(cfg, argc, argv, err, sizeof(err));
}
#define LOAD(cfg, ...) load((cfg), (char *[]){"sibyld", __VA_ARGS__, NULL})

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The error must name the setting (and where it came from). */
static void expect_error(int rc, const char *want1, const char *want2)
{
	ASSERT_EQ_INT(rc, -1);
	if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
		TEST_FAIL("error \"%s\" does not mention \"%s\"%s%s", err, want1,
		          want2 ? " and " : "", want2 ? want2 : "");
	test_checks++;
}

static void test_defaults(void)
{
	struct config c;
	clear_env();
	ASSERT_EQ_INT(LOAD(&c, NULL), 0);
	ASSERT_EQ_STR(c.listen_host, "127.0.0.1");
	ASSERT_EQ_INT(c.listen_port, 8080);
	ASSERT_EQ_STR(c.db_path, "./sibyl.db");
	ASSERT_EQ_STR(c.admin_key_file, "");
	ASSERT_EQ_STR(c.admin_key, "");
	ASSERT_EQ_INT(c.threads, 4);
	ASSERT_EQ_INT(c.shutdown_timeout_ms, 10000);
	ASSERT_EQ_STR(c.tls_cert, "");
	ASSERT_EQ_STR(c.log_level, "info");
	ASSERT_EQ_INT(c.max_body_bytes, 1048576);
	ASSERT_EQ_INT(c.max_json_depth, 32);
	ASSERT_EQ_INT(c.max_parameters, 100);
	ASSERT_EQ_INT(c.max_categories, 1000);
	ASSERT_EQ_INT(c.max_metrics, 20);
	ASSERT_EQ_INT(c.max_string_len, 256);
	ASSERT_EQ_INT(c.max_measurements, 10000);
	ASSERT_EQ_INT(c.max_suggestion_count, 100);
	ASSERT_EQ_STR(c.backup_path, "");
	ASSERT_EQ_STR(c.sync, "normal");
	ASSERT_EQ_INT(c.suggest_threads, 64);
	ASSERT_EQ_INT(c.auth_failures_per_second, 10);
	ASSERT_EQ_INT(c.max_metadata_keys, 64);
	ASSERT_EQ_INT(c.max_metadata_key_bytes, 256);
	ASSERT_EQ_INT(c.max_metadata_value_bytes, 4096);
	ASSERT_EQ_INT(c.max_metadata_bytes, 65536);

	struct config d;
	config_defaults(&d);
	ASSERT_TRUE(memcmp(&c, &d, sizeof(c)) == 0);
}

static void test_precedence(void)
{
	struct config c;
	char file[512], arg[600];
	snprintf(file, sizeof(file), "%s/sibyl.conf", dir);
	write_file(file, "# comment\n\n  threads = 3\nmax_metrics=7\n"
	                 "db = \"/data/from-file.db\"\nmax-string-len = 100\n");
	snprintf(arg, sizeof(arg), "--config=%s", file);
	clear_env();

	/* file over defaults */
	ASSERT_EQ_INT(LOAD(&c, arg), 0);
	ASSERT_EQ_INT(c.threads, 3);
	ASSERT_EQ_INT(c.max_metrics, 7);
	ASSERT_EQ_INT(c.max_string_len, 100);
	ASSERT_EQ_STR(c.db_path, "/data/from-file.db");
	ASSERT_EQ_STR(c.config_file, file);

	/* environment over file */
	setenv("SIBYL_THREADS", "5", 1);
	ASSERT_EQ_INT(LOAD(&c, arg), 0);
	ASSERT_EQ_INT(c.threads, 5);
	ASSERT_EQ_INT(c.max_metrics, 7);

	/* flags over environment, in both spellings */
	ASSERT_EQ_INT(LOAD(&c, arg, "--threads", "6", "--db=/x.db"), 0);
	ASSERT_EQ_INT(c.threads, 6);
	ASSERT_EQ_STR(c.db_path, "/x.db");
	ASSERT_EQ_INT(c.max_metrics, 7);

	/* flag order does not matter for the file: it is read first */
	ASSERT_EQ_INT(LOAD(&c, "--threads", "8", "--config", file), 0);
	ASSERT_EQ_INT(c.threads, 8);

	/* SIBYL_CONFIG names the file too; an empty variable counts as unset */
	setenv("SIBYL_CONFIG", file, 1);
	setenv("SIBYL_THREADS", "", 1);
	ASSERT_EQ_INT(LOAD(&c, NULL), 0);
	ASSERT_EQ_INT(c.threads, 3);
	clear_env();

	setenv("SIBYL_ADMIN_KEY", "k-from-env", 1);
	setenv("SIBYL_LISTEN", "0.0.0.0:9000", 1);
	setenv("SIBYL_LOG_LEVEL", "debug", 1);
	ASSERT_EQ_INT(LOAD(&c, "--backup", "/tmp/b.db", "--admin-key-file", "/k"), 0);
	ASSERT_EQ_STR(c.admin_key, "k-from-env");
	ASSERT_EQ_STR(c.listen_host, "0.0.0.0");
	ASSERT_EQ_INT(c.listen_port, 9000);
	ASSERT_EQ_STR(c.log_level, "debug");
	ASSERT_EQ_STR(c.backup_path, "/tmp/b.db");
	ASSERT_EQ_STR(c.admin_key_file, "/k");
	clear_env();
}

static void test_listen(void)
{
	struct config c;
	clear_env();
	ASSERT_EQ_INT(LOAD(&c, "--listen", "[::1]:0"), 0);
	ASSERT_EQ_STR(c.listen_host, "::1");
	ASSERT_EQ_INT(c.listen_port, 0);
	ASSERT_EQ_INT(LOAD(&c, "--listen", "127.0.0.1:65535"), 0);
	ASSERT_EQ_INT(c.listen_port, 65535);
	expect_error(LOAD(&c, "--listen", "localhost"), "--listen", "HOST:PORT");
	expect_error(LOAD(&c, "--listen", "127.0.0.1:65536"), "--listen", "[0, 65535]");
	expect_error(LOAD(&c, "--listen", "127.0.0.1:http"), "--listen", "port");
	expect_error(LOAD(&c, "--listen", "::1:80"), "--listen", "IPv6");
	expect_error(LOAD(&c, "--listen", "[::1]80"), "--listen", "IPv6");
	expect_error(LOAD(&c, "--listen", ":80"), "--listen", "host");
}

static void test_bad_values(void)
{
	struct config c;
	char file[512], arg[600];
	clear_env();
	expect_error(LOAD(&c, "--threads", "0"), "--threads", "out of range [1, 256]");
	expect_error(LOAD(&c, "--threads", "257"), "threads", "out of range");
	expect_error(LOAD(&c, "--threads", "4x"), "--threads", "not an integer");
	expect_error(LOAD(&c, "--threads", ""), "--threads", "not an integer");
	expect_error(LOAD(&c, "--threads", " 4"), "--threads", "not an integer");
	expect_error(LOAD(&c, "--max-body-bytes", "99999999999999999999"), "max_body_bytes",
	             "not an integer");
	expect_error(LOAD(&c, "--max-body-bytes", "-1"), "max_body_bytes", "out of range");
	expect_error(LOAD(&c, "--log-level", "loud"), "log_level", "error, warn, info or debug");
	expect_error(LOAD(&c, "--sync", "fast"), "--sync", "must be normal or full");
	expect_error(LOAD(&c, "--sync", "FULL"), "sync", "must be normal or full");
	expect_error(LOAD(&c, "--suggest-threads", "0"), "suggest_threads",
	             "out of range [1, 1024]");
	expect_error(LOAD(&c, "--auth-failures-per-second", "-1"), "auth_failures_per_second",
	             "out of range [0, 1000000]");
	ASSERT_EQ_INT(LOAD(&c, "--auth-failures-per-second", "0"), 0);
	ASSERT_EQ_INT(c.auth_failures_per_second, 0);
	ASSERT_EQ_INT(LOAD(&c, "--sync", "full", "--suggest-threads", "8"), 0);
	ASSERT_EQ_STR(c.sync, "full");
	ASSERT_EQ_INT(c.suggest_threads, 8);
	setenv("SIBYL_SYNC", "normal", 1);
	ASSERT_EQ_INT(LOAD(&c, NULL), 0);
	ASSERT_EQ_STR(c.sync, "normal");
	setenv("SIBYL_SYNC", "off", 1);
	expect_error(LOAD(&c, NULL), "SIBYL_SYNC", "must be normal or full");
	clear_env();
	expect_error(LOAD(&c, "--nope", "1"), "unknown option --nope", NULL);
	expect_error(LOAD(&c, "--max_metrics", "1"), "unknown option --max_metrics", NULL);
	expect_error(LOAD(&c, "--db"), "--db", "missing value");
	expect_error(LOAD(&c, "extra"), "unexpected argument", "extra");
	expect_error(LOAD(&c, "--tls-cert", "/c.pem"), "tls_cert and tls_key", NULL);
	expect_error(LOAD(&c, "--db", ""), "db", "empty");

	setenv("SIBYL_MAX_BODY_BYTES", "12", 1);
	expect_error(LOAD(&c, NULL), "SIBYL_MAX_BODY_BYTES", "max_body_bytes");
	expect_error(LOAD(&c, NULL), "[1024, 1073741824]", NULL);
	/* a flag does not hide a bad environment value */
	expect_error(LOAD(&c, "--max-body-bytes", "2048"), "SIBYL_MAX_BODY_BYTES", NULL);
	clear_env();

	snprintf(file, sizeof(file), "%s/bad.conf", dir);
	snprintf(arg, sizeof(arg), "--config=%s", file);
	write_file(file, "threads = 2\nmax_metrics = many\n");
	expect_error(LOAD(&c, arg), "bad.conf:2", "max_metrics");
	write_file(file, "colour = blue\n");
	expect_error(LOAD(&c, arg), "bad.conf:1", "unknown setting \"colour\"");
	write_file(file, "threads 2\n");
	expect_error(LOAD(&c, arg), "bad.conf:1", "name = value");
	expect_error(LOAD(&c, "--config", "/nonexistent/sibyl.conf"), "/nonexistent/sibyl.conf",
	             NULL);
	expect_error(LOAD(&c, "--config"), "--config", "missing");
}

/* Captures what config_load prints on stdout. */
static int load_capture(char **argv, int argc, char *out, size_t cap)
{
	struct config c;
	char path[512];
	int fd, saved, rc;
	ssize_t n;
	snprintf(path, sizeof(path), "%s/stdout", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	rc = config_load(&c, argc, argv, err, sizeof(err));
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return rc;
}

static void test_help(void)
{
	static char out[16384];
	static const char *const flags[] = {
	    "--listen",
	    "--db",
	    "--admin-key-file",
	    "--threads",
	    "--shutdown-timeout-ms",
	    "--tls-cert",
	    "--tls-key",
	    "--log-level",
	    "--max-body-bytes",
	    "--max-json-depth",
	    "--max-parameters",
	    "--max-categories",
	    "--max-metrics",
	    "--max-string-len",
	    "--max-measurements",
	    "--max-suggestion-count",
	    "--max-metadata-keys",
	    "--max-metadata-key-bytes",
	    "--max-metadata-value-bytes",
	    "--max-metadata-bytes",
	    "--config",
	    "--backup",
	    "--help",
	    "--version",
	};
	char *help[] = {"sibyld", "--threads", "0", "--help", NULL};
	char *version[] = {"sibyld", "--version", NULL};

	clear_env();
	/* --help wins even over a bad value before it */
	ASSERT_EQ_INT(load_capture(help, 4, out, sizeof(out)), 1);
	for (size_t i = 0; i < NENVS; i++) {
		if (!strstr(out, envs[i]))
			TEST_FAIL("--help does not mention %s", envs[i]);
		test_checks++;
	}
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!strstr(out, flags[i]))
			TEST_FAIL("--help does not mention %s", flags[i]);
		test_checks++;
	}
	ASSERT_TRUE(strstr(out, "range [1, 256]") != NULL);
	ASSERT_TRUE(strstr(out, "default \"127.0.0.1:8080\"") != NULL);
	ASSERT_TRUE(strstr(out, "default \"1048576\", range [1024, 1073741824]") != NULL);

	/* config_help reports the full length even when cut */
	char small[16];
	size_t full = config_help(NULL, 0);
	ASSERT_TRUE(full > 1000);
	ASSERT_EQ_INT(config_help(small, sizeof(small)), full);
	ASSERT_EQ_INT(strlen(small), sizeof(small) - 1);
	ASSERT_EQ_INT(strlen(out), full);

	ASSERT_EQ_INT(load_capture(version, 2, out, sizeof(out)), 1);
	ASSERT_TRUE(strncmp(out, "sibyld ", 7) == 0);
}

/* The metadata limits: a config file line, the environment over it, a
 * flag over both, and a value out of range named. */
static void test_metadata_limits(void)
{
	struct config c;
	char file[512], arg[600];
	snprintf(file, sizeof(file), "%s/md.conf", dir);
	write_file(file, "max_metadata_keys = 10\nmax-metadata-bytes = 1000\n");
	snprintf(arg, sizeof(arg), "--config=%s", file);
	clear_env();
	ASSERT_EQ_INT(LOAD(&c, arg), 0);
	ASSERT_EQ_INT(c.max_metadata_keys, 10);
	ASSERT_EQ_INT(c.max_metadata_bytes, 1000);
	setenv("SIBYL_MAX_METADATA_KEYS", "20", 1);
	ASSERT_EQ_INT(LOAD(&c, arg), 0);
	ASSERT_EQ_INT(c.max_metadata_keys, 20);
	ASSERT_EQ_INT(LOAD(&c, arg, "--max-metadata-keys", "30", "--max-metadata-value-bytes=9"),
	              0);
	ASSERT_EQ_INT(c.max_metadata_keys, 30);
	ASSERT_EQ_INT(c.max_metadata_value_bytes, 9);
	expect_error(LOAD(&c, "--max-metadata-key-bytes", "0"), "--max-metadata-key-bytes",
	             "out of range [1, 65536]");
	clear_env();
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_defaults();
	test_precedence();
	test_listen();
	test_bad_values();
	test_help();
	test_metadata_limits();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_done("config");
}
