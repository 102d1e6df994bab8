/* kill -9 during a worker run, repeated, restarting sibyld on the same
 * database each time: every complete that got a 200 is there with its
 * value, PRAGMA integrity_check is ok after every kill, and the run reaches
 * its budget (workers retry what failed on the connection: a retried
 * complete is harmless, a retried suggest with the same clientId gives the
 * same trial back). */
#include <sqlite3.h>

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

int main(void)
{
	struct daemon *d = daemon_start(NULL);
	if (!d)
		return 1;
	set_url(d->url);
	PART(test_crash(d));
	check_logs(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	return test_done("test-crash");
}
