/* kill -9 during a worker run, repeated, restarting sibyld on the same
 * database each time: every complete that got a 200 is there with its
 * value, PRAGMA integrity_check is ok after every kill, and the run reaches
 * its budget (workers retry what failed on the connection: a retried
 * complete is harmless, a retried suggest with the same clientId gives the
 * same trial back). */
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "workload.h"

/* ------------------------------------------------------------------- crash */

static void integrity_ok(const char *db_path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	test_checks++;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		TEST_FAIL("integrity_check on %s: %s", db_path, db ? sqlite3_errmsg(db) : "open");
	} else {
		const char *res = (const char *)sqlite3_column_text(st, 0);
		if (!res || strcmp(res, "ok") != 0)
			TEST_FAIL("integrity_check: %s", res ? res : "(null)");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static size_t acks_now(struct run *r)
{
	pthread_mutex_lock(&r->mu);
	size_t n = r->n_acks;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static void test_crash(struct daemon *d)
{
	enum { WORKERS = 16, BUDGET = 300, KILLS = 5 };
	char spec[2048];
	struct run *r = calloc(1, sizeof(*r));
	pthread_t th[WORKERS];
	struct worker_arg wa[WORKERS];
	create_study(d, "crash", spec_budget(spec, sizeof(spec), "RANDOM_SEARCH", 3, BUDGET, NULL));
	r->study = "crash";
	r->workers = WORKERS;
	r->crash = 1;
	r->measure = 2;
	pthread_mutex_init(&r->mu, NULL);
	run_workers(r, th, wa);
	/* kill at 10%, 25%, 40%, 55% and 70% of the budget: by progress, not
	 * by the clock, so that every kill lands while the workers are busy */
	int kills = 0;
	for (int k = 0; k < KILLS; k++) {
		size_t at = (size_t)BUDGET * (size_t)(10 + 15 * k) / 100;
		for (int waited = 0; acks_now(r) < at && waited < 60000; waited += 2)
			sleep_ms(2);
		size_t seen = acks_now(r);
		if (daemon_kill(d) != 0) {
			TEST_FAIL("kill %d failed", k);
			break;
		}
		kills++;
		integrity_ok(d->db_path);
		if (daemon_restart(d, NULL) != 0) {
			TEST_FAIL("restart %d failed", k);
			break;
		}
		set_url(d->url);
		ensure_owner(d);
		fprintf(stderr, "kill %d at %zu acknowledged completes, restarted on %s\n", k, seen,
		        d->url);
	}
	ASSERT_EQ_INT(kills, KILLS);
	join_workers(r, th);
	check_run(d, r, BUDGET);
	fprintf(stderr, "crash run: %ld calls\n", atomic_load(&r->calls));
	pthread_mutex_destroy(&r->mu);
	free(r);
}
/* ------------------------------------------------------------------ backup */

/* Runs `sibyld --db DB --backup DEST`; returns its exit status (-1: it did
 * not exit normally). Its output goes to DEST.log. */
static int run_backup(const char *db, const char *dest)
{
	const char *bin = getenv("SIBYLD");
	char log[700];
	int status;
	snprintf(log, sizeof(log), "%s.log", dest);
	if (!bin)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, bin, "--db", db, "--backup", dest, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* One integer from a query on a database file, or -1. */
static long long query_int(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		fprintf(stderr, "query %s on %s: %s\n", sql, db_path,
		        db ? sqlite3_errmsg(db) : "open");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* sibyld --backup beside a running daemon under load: the copy is a
 * consistent database holding at least every complete acknowledged before
 * it started, and no more trials than the budget. */
static void test_backup(struct daemon *d)
{
	enum { WORKERS = 8, BUDGET = 200 };
	char spec[2048], dest[600], sql[256];
	struct run *r = calloc(1, sizeof(*r));
	pthread_t th[WORKERS];
	struct worker_arg wa[WORKERS];
	create_study(d, "backup",
	             spec_budget(spec, sizeof(spec), "RANDOM_SEARCH", 3, BUDGET, NULL));
	r->study = "backup";
	r->workers = WORKERS;
	pthread_mutex_init(&r->mu, NULL);
	run_workers(r, th, wa);
	for (int waited = 0; acks_now(r) < BUDGET / 3 && waited < 60000; waited += 2)
		sleep_ms(2);
	pthread_mutex_lock(&r->mu);
	size_t n_before = r->n_acks;
	struct ack *before = malloc((n_before + 1) * sizeof(*before));
	memcpy(before, r->acks, n_before * sizeof(*before));
	pthread_mutex_unlock(&r->mu);
	snprintf(dest, sizeof(dest), "%s/backup.db", d->dir);
	ASSERT_EQ_INT(run_backup(d->db_path, dest), 0);
	size_t after_backup = acks_now(r);
	join_workers(r, th);
	check_run(d, r, BUDGET);

	integrity_ok(dest);
	long long rowid = query_int(dest, "SELECT id FROM studies WHERE study_id = 'backup'");
	ASSERT_TRUE(rowid > 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM trials WHERE study_rowid = %lld", rowid);
	long long n = query_int(dest, sql);
	ASSERT_TRUE(n >= (long long)n_before && n <= BUDGET);
	size_t missing = 0;
	for (size_t i = 0; i < n_before; i++) {
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM trials WHERE study_rowid = %lld AND id = %lld AND "
		         "state = 4",
		         rowid, (long long)before[i].trial);
		missing += query_int(dest, sql) != 1;
	}
	ASSERT_EQ_INT(missing, 0);
	fprintf(stderr,
	        "backup: %zu completes acknowledged before it, %lld trials in it, %zu "
	        "acknowledged when it ended\n",
	        n_before, n, after_backup);
	free(before);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

int main(void)
{
	struct daemon *d = daemon_start(NULL);
	if (!d)
		return 1;
	set_url(d->url);
	ensure_owner(d);
	PART(test_crash(d));
	PART(test_backup(d));
	check_logs(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("test-crash");
}
