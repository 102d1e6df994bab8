/* test-copydb: sibyld --copy-db FROM TO, SQLite -> PostgreSQL -> SQLite
 * (run as pg-copydb, in a cluster of pgcluster.sh). A study with trials in
 * every state, a deleted trial (a gap in the ids), measurements, metadata,
 * operations, an owner with quotas and keys, and the audit log: the round
 * trip gives the same rows, the API of a daemon on each copy answers the
 * same, the counts are printed, and a copy into a database that holds data
 * is refused without changing it. */
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apitest.h"

extern char **environ;

/* Runs sibyld with args until it exits; its status, stdout+stderr in out. */
static int run_sibyld(const char *const *args, char *out, size_t outlen)
{
	char log[] = "/tmp/sibyl-copydb-XXXXXX";
	int fd = mkstemp(log);
	if (fd < 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	char *argv[16];
	int n = 0;
	argv[n++] = getenv("SIBYLD");
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	pid_t pid;
	int status = -1;
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) == 0)
		waitpid(pid, &status, 0);
	posix_spawn_file_actions_destroy(&fa);
	ssize_t got = pread(fd, out, outlen - 1, 0);
	out[got > 0 ? got : 0] = '\0';
	close(fd);
	unlink(log);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The rows of one query on a SQLite file, one line each. malloc'd. */
static char *sqlite_rows(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	size_t cap = 1 << 16, len = 0;
	char *out = calloc(1, cap);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite_rows %s: %s\n", sql, sqlite3_errmsg(db));
		sqlite3_close(db);
		return out;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(s); i++) {
			const char *v = (const char *)sqlite3_column_text(s, i);
			size_t need = len + (v ? strlen(v) : 4) + 8;
			if (need > cap) {
				while (need > cap)
					cap *= 2;
				out = realloc(out, cap);
			}
			len += (size_t)snprintf(out + len, cap - len, "%s|", v ? v : "NULL");
		}
		out[len++] = '\n';
		out[len] = '\0';
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return out;
}

/* What the copies must keep, table by table (the trial history's counters
 * and the schema's own bookkeeping are rebuilt, not copied). */
static const char *const queries[] = {
    "SELECT id, display_name, create_time, max_studies, max_trials_per_study, max_active_trials, "
    "requests_per_second, max_api_keys FROM owners ORDER BY id",
    "SELECT id, owner, study_id, spec_json, state, inactive_reason, create_time, "
    "last_progress_time, next_trial_id, next_operation_id, metadata_json FROM studies ORDER BY id",
    "SELECT study_rowid, id, state, params_json, final_json, client_id, infeasible_reason, "
    "info_json, complete_json, start_time, end_time, lease_expiry, n_measurements, metadata_json "
    "FROM trials ORDER BY 1, 2",
    "SELECT * FROM measurements ORDER BY 1, 2, 3",
    "SELECT * FROM operations ORDER BY 1, 2",
    "SELECT keyid, owner, role, display_name, hex(salt), hex(hash), create_time, revoke_time "
    "FROM api_keys ORDER BY keyid",
    "SELECT id, time, keyid, owner, method, path, status, error, count, last_time FROM audit_log "
    "ORDER BY id",
    "SELECT name, hex(value) FROM secrets ORDER BY name",
    "SELECT * FROM study_names ORDER BY 1, 2",
};

/* Fills a SQLite database through the API. */
static void populate(struct daemon *d)
{
	create_owner(d, "t");
	CALL_OK(d, "PATCH", "/v1/owners/t", "{\"quota\":{\"maxStudies\":5,\"maxApiKeys\":4}}");
	struct key k;
	make_key(d, "t", "WRITER", &k);
	make_key(d, "t", "READER", &k);
	char path[160];
	snprintf(path, sizeof(path), "/v1/owners/t/apiKeys/%s", k.id);
	CALL_OK(d, "DELETE", path, NULL);
	create_study(d, "gone", SPEC_RANDOM);
	json_decref(suggest(d, "gone", 2, "w", 200));
	CALL_OK(d, "DELETE", "/v1/owners/t/studies/gone", NULL);
	create_study(d, "s", SPEC_RANDOM);
	json_decref(suggest(d, "s", 6, "w", 200));
	for (int i = 1; i <= 3; i++) {
		char id[8];
		snprintf(id, sizeof(id), "%d", i);
		json_decref(complete(d, "s", id, "acc", 0.25 * i, 200));
	}
	CALL_OK(d, "POST", "/v1/owners/t/studies/s/trials/4:addTrialMeasurement",
	        "{\"measurement\":{\"stepCount\":\"1\",\"metrics\":[{\"metricId\":\"acc\","
	        "\"value\":0.5}]}}");
	CALL_OK(d, "POST", "/v1/owners/t/studies/s/trials/5:stop", NULL);
	CALL_OK(d, "DELETE", "/v1/owners/t/studies/s/trials/6", NULL);
	CALL_OK(d, "PATCH", "/v1/owners/t/studies/s?updateMask=metadata",
	        "{\"metadata\":{\"team\":\"x\"}}");
}

/* GET path on both daemons: the same answer. */
static void same_answer(struct daemon *a, struct daemon *b, const char *path)
{
	json_t *x = CALL(a, "GET", path, NULL, 200), *y = CALL(b, "GET", path, NULL, 200);
	char *sx = json_dumps(x, JSON_SORT_KEYS), *sy = json_dumps(y, JSON_SORT_KEYS);
	test_checks++;
	if (!sx || !sy || strcmp(sx, sy) != 0)
		TEST_FAIL("GET %s differs:\n%s\n%s", path, sx ? sx : "", sy ? sy : "");
	free(sx);
	free(sy);
	json_decref(x);
	json_decref(y);
}

static void compare_api(const char *db_a, const char *db_b)
{
	struct daemon_opts oa = {.db_path = db_a}, ob = {.db_path = db_b};
	struct daemon *a = daemon_start(&oa), *b = daemon_start(&ob);
	ASSERT_TRUE(a && b);
	if (a && b) {
		same_answer(a, b, "/v1/owners/t/studies");
		same_answer(a, b, "/v1/owners/t/studies/s/trials");
		same_answer(a, b, "/v1/owners/t/studies/s/trials/4");
		same_answer(a, b, "/v1/owners/t/apiKeys");
		same_answer(a, b, "/v1/owners/t");
		/* The copy goes on: the next trial id follows the source's. */
		json_t *op = suggest(b, "s", 1, "z", 200);
		ASSERT_TRUE(strcmp(jstr(json_array_get(op_trials(op), 0), "id"), "7") == 0);
		json_decref(op);
	}
	if (a)
		ASSERT_EQ_INT(daemon_stop(a), 0);
	if (b)
		ASSERT_EQ_INT(daemon_stop(b), 0);
}

int main(void)
{
	if (!getenv("SIBYL_TEST_PG")) {
		fprintf(stderr,
		        "pg-copydb: run by tests/common/pgcluster.sh run (meson: pg-copydb)\n");
		return 77;
	}
	char dir[] = "/tmp/sibyl-copydb-XXXXXX", src[128], back[128], pg[512], out[8192];
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(src, sizeof(src), "%s/src.db", dir);
	snprintf(back, sizeof(back), "%s/back.db", dir);
	ASSERT_EQ_INT(harness_pg_fresh(pg, sizeof(pg)), 0);

	struct daemon_opts o = {.db_path = src};
	struct daemon *d = daemon_start(&o);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("pg-copydb");
	populate(d);

	/* SQLite -> PostgreSQL while the source daemon still serves. */
	const char *to_pg[] = {"--copy-db", src, pg, NULL};
	ASSERT_EQ_INT(run_sibyld(to_pg, out, sizeof(out)), 0);
	EXPECT_IN(out, "trials 5\n");
	EXPECT_IN(out, "measurements 1\n");
	EXPECT_IN(out, "api_keys 2\n");
	ASSERT_EQ_INT(daemon_stop(d), 0);

	/* Into a database that holds data: refused, nothing changed. */
	char before[64] = "", after[64] = "";
	harness_pg_exec(pg, "SELECT count(*) FROM trials", before, sizeof(before));
	ASSERT_TRUE(run_sibyld(to_pg, out, sizeof(out)) != 0);
	EXPECT_IN(out, "the destination already holds 1 owners; copy into an empty database");
	harness_pg_exec(pg, "SELECT count(*) FROM trials", after, sizeof(after));
	ASSERT_TRUE(strcmp(before, "5") == 0 && strcmp(after, "5") == 0);

	/* PostgreSQL -> SQLite: the same rows as the original. */
	const char *to_back[] = {"--copy-db", pg, back, NULL};
	ASSERT_EQ_INT(run_sibyld(to_back, out, sizeof(out)), 0);
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		char *a = sqlite_rows(src, queries[i]), *b = sqlite_rows(back, queries[i]);
		test_checks++;
		if (strcmp(a, b) != 0 || strlen(a) == 0)
			TEST_FAIL("%s:\nsource:\n%s\nround trip:\n%s", queries[i], a, b);
		free(a);
		free(b);
	}
	/* And the API says the same on the original and on each copy. */
	compare_api(src, pg);
	compare_api(src, back);

	/* --backup is SQLite's: refused on PostgreSQL, pointing at pg_dump. */
	char bk[160];
	snprintf(bk, sizeof(bk), "%s/backup.db", dir);
	const char *backup[] = {"--db", pg, "--backup", bk, NULL};
	ASSERT_TRUE(run_sibyld(backup, out, sizeof(out)) != 0);
	EXPECT_IN(out, "back up a PostgreSQL database with pg_dump");
	ASSERT_TRUE(access(bk, F_OK) != 0);

	/* A source file that does not exist (a mistyped path) is refused: no
	 * empty copy, and neither the source nor the destination is created. */
	char missing[160], dest[160];
	snprintf(missing, sizeof(missing), "%s/misspelt.db", dir);
	snprintf(dest, sizeof(dest), "%s/dest.db", dir);
	const char *from_missing[] = {"--copy-db", missing, dest, NULL};
	ASSERT_TRUE(run_sibyld(from_missing, out, sizeof(out)) == 1);
	EXPECT_IN(out, "misspelt.db does not exist");
	ASSERT_TRUE(access(missing, F_OK) != 0);
	ASSERT_TRUE(access(dest, F_OK) != 0);

	const char *bad[] = {"--copy-db", src, NULL};
	ASSERT_TRUE(run_sibyld(bad, out, sizeof(out)) != 0);
	EXPECT_IN(out, "--copy-db: want FROM and TO");
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ_INT(system(cmd), 0);
	return test_done("pg-copydb");
}
