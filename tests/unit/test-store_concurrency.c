/* test-store_concurrency: the store under concurrent use, on a real SQLite
 * file: writers from several threads with group commit (counts add up, no
 * SQLITE_BUSY, rollbacks undo only their own work, an acknowledged commit is
 * visible at once), readers during an open write, another process holding
 * the lock, the reader pool limit, online backup of a live database, and
 * kill -9 in the middle of commits; the writers both with synchronous=FULL
 * and NORMAL. */
#include "store_test.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

/* ---- concurrency ---- */

#define N_WRITERS     8
#define TX_PER_WRITER 40

struct worker {
	struct store *st;
	int64_t study;
	int errors;
	int64_t max_seen;
};

static void *writer_main(void *arg)
{
	struct worker *wk = arg;
	for (int i = 0; i < TX_PER_WRITER; i++) {
		struct err e = {0};
		struct store_conn *w = store_write_begin(wk->st, &e);
		if (!w) {
			wk->errors++;
			continue;
		}
		struct store_trial t = {
		    .study_rowid = wk->study, .state = TRIAL_ACTIVE, .params_json = "[]"};
		if (store_trial_insert(w, &t, &e) != 0 ||
		    store_measurement_add(w, wk->study, t.id, "{}", -1, &e) != 0) {
			wk->errors++;
			store_write_rollback(w);
			continue;
		}
		if (store_write_commit(w, &e) != 0)
			wk->errors++;
	}
	return NULL;
}

/* Commits and rollbacks interleaved in the same batches: a rollback undoes
 * only its own caller's work, and a commit that returned is visible to a
 * fresh reader at once (acknowledged means committed). */
static void *mixed_main(void *arg)
{
	struct worker *wk = arg;
	for (int i = 0; i < TX_PER_WRITER; i++) {
		struct err e = {0};
		struct store_conn *w = store_write_begin(wk->st, &e);
		if (!w) {
			wk->errors++;
			continue;
		}
		struct store_trial t = {
		    .study_rowid = wk->study, .state = TRIAL_REQUESTED, .params_json = "[]"};
		if (store_trial_insert(w, &t, &e) != 0) {
			wk->errors++;
			store_write_rollback(w);
			continue;
		}
		if (i % 3 == 2) {
			store_write_rollback(w);
			continue;
		}
		if (store_write_commit(w, &e) != 0) {
			wk->errors++;
			continue;
		}
		wk->max_seen++;
		struct store_conn *r = store_read(wk->st, &e);
		struct store_trial g = {0};
		if (!r || store_trial_get(r, wk->study, t.id, &g, &e) != 0)
			wk->errors++;
		store_trial_clear(&g);
		store_release(r);
	}
	return NULL;
}

static void *reader_main(void *arg)
{
	struct worker *wk = arg;
	for (int i = 0; i < TX_PER_WRITER * 2; i++) {
		struct err e = {0};
		struct store_conn *r = store_read(wk->st, &e);
		int64_t c = 0;
		if (!r || store_trial_count(r, wk->study, 0, &c, &e) != 0)
			wk->errors++;
		if (c < wk->max_seen) /* snapshots only move forward */
			wk->errors++;
		wk->max_seen = c;
		store_release(r);
	}
	return NULL;
}

struct held {
	struct store *st;
	int64_t study;
	int64_t count;
	int rc;
};

static void *read_while_held(void *arg)
{
	struct held *h = arg;
	struct err e = {0};
	struct store_conn *r = store_read(h->st, &e);
	h->rc = r ? store_trial_count(r, h->study, 0, &h->count, &e) : -1;
	store_release(r);
	return NULL;
}

static void test_concurrency(struct store *st, const char *path)
{
	struct err e = {0};
	int64_t sr = make_study(st, "team", "busy");
	pthread_t th[N_WRITERS + 2];
	struct worker wk[N_WRITERS + 2];
	for (int i = 0; i < N_WRITERS + 2; i++) {
		wk[i] = (struct worker){.st = st, .study = sr};
		pthread_create(&th[i], NULL, i < N_WRITERS ? writer_main : reader_main, &wk[i]);
	}
	int errors = 0;
	for (int i = 0; i < N_WRITERS + 2; i++) {
		pthread_join(th[i], NULL);
		errors += wk[i].errors;
	}
	ASSERT_EQ_INT(errors, 0);
	struct store_conn *r = store_read(st, &e);
	int64_t c = 0;
	ASSERT_EQ_INT(store_trial_count(r, sr, 0, &c, &e), 0);
	ASSERT_EQ_INT(c, N_WRITERS * TX_PER_WRITER);
	store_release(r);
	char q[160];
	snprintf(q, sizeof(q), "SELECT max(id) FROM trials WHERE study_rowid=%lld", (long long)sr);
	ASSERT_EQ_INT(raw_int(path, q), N_WRITERS * TX_PER_WRITER);
	snprintf(q, sizeof(q), "SELECT count(*) FROM measurements WHERE study_rowid=%lld",
	         (long long)sr);
	ASSERT_EQ_INT(raw_int(path, q), N_WRITERS * TX_PER_WRITER);

	/* group commit with rollbacks in the mix */
	int64_t mixed = make_study(st, "team", "mixed");
	struct worker mw[N_WRITERS];
	int64_t committed = 0;
	for (int i = 0; i < N_WRITERS; i++) {
		mw[i] = (struct worker){.st = st, .study = mixed};
		pthread_create(&th[i], NULL, mixed_main, &mw[i]);
	}
	errors = 0;
	for (int i = 0; i < N_WRITERS; i++) {
		pthread_join(th[i], NULL);
		errors += mw[i].errors;
		committed += mw[i].max_seen;
	}
	ASSERT_EQ_INT(errors, 0);
	ASSERT_EQ_INT(committed, N_WRITERS * (TX_PER_WRITER - TX_PER_WRITER / 3));
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_trial_count(r, mixed, 0, &c, &e), 0);
	ASSERT_EQ_INT(c, committed);
	store_release(r);
	/* rolled-back inserts gave their ids back: the committed ones are 1..n */
	snprintf(q, sizeof(q), "SELECT max(id) FROM trials WHERE study_rowid=%lld",
	         (long long)mixed);
	ASSERT_EQ_INT(raw_int(path, q), committed);

	/* A reader in another thread proceeds while a write transaction is
	 * open, and sees the last committed state, not the pending one. */
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	struct store_trial t = {.study_rowid = sr, .state = TRIAL_REQUESTED, .params_json = "[]"};
	ASSERT_EQ_INT(store_trial_insert(w, &t, &e), 0);
	struct held h = {.st = st, .study = sr, .rc = -1};
	pthread_t rt;
	pthread_create(&rt, NULL, read_while_held, &h);
	pthread_join(rt, NULL); /* would hang here if readers waited for the writer */
	ASSERT_EQ_INT(h.rc, 0);
	ASSERT_EQ_INT(h.count, N_WRITERS * TX_PER_WRITER);
	/* and in this thread too, with several readers out at once */
	struct store_conn *r1 = store_read(st, &e), *r2 = store_read(st, &e);
	ASSERT_TRUE(r1 && r2 && r1 != r2);
	ASSERT_EQ_INT(store_trial_count(r1, sr, 0, &c, &e), 0);
	ASSERT_EQ_INT(c, N_WRITERS * TX_PER_WRITER);
	store_release(r1);
	store_release(r2);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_trial_count(r, sr, 0, &c, &e), 0);
	ASSERT_EQ_INT(c, N_WRITERS * TX_PER_WRITER + 1);
	store_release(r);

	/* Another process-like connection holding the write lock briefly: the
	 * store waits and retries instead of failing with "database is locked". */
	sqlite3 *raw;
	sqlite3_open(path, &raw);
	ASSERT_EQ_INT(sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	struct held h2 = {.st = st, .study = sr, .rc = -1};
	(void)h2;
	pthread_t lt;
	struct worker one = {.st = st, .study = sr};
	pthread_create(&lt, NULL, writer_main, &one);
	usleep(300 * 1000);
	sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(raw);
	pthread_join(lt, NULL);
	ASSERT_EQ_INT(one.errors, 0);
	r = store_read(st, &e);
	ASSERT_EQ_INT(store_trial_count(r, sr, 0, &c, &e), 0);
	ASSERT_EQ_INT(c, N_WRITERS * TX_PER_WRITER + 1 + TX_PER_WRITER);
	store_release(r);
	ASSERT_EQ_INT(store_ping(st), 0);
}

struct pool_wait {
	struct store *st;
	volatile int got;
};

static void *pool_reader(void *arg)
{
	struct pool_wait *pw = arg;
	struct err e;
	struct store_conn *r = store_read(pw->st, &e);
	pw->got = r != NULL;
	store_release(r);
	return NULL;
}

/* The reader pool: it grows to its limit (64), then a caller waits for a
 * reader to come back; the thread holding the writer never waits. */
static void test_pool(struct store *st)
{
	struct err e = {0};
	enum { N = 64 };
	struct store_conn *rs[N];
	int ok = 0;
	for (int i = 0; i < N; i++)
		ok += (rs[i] = store_read(st, &e)) != NULL;
	ASSERT_EQ_INT(ok, N);

	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	struct store_conn *extra = store_read(st, &e); /* would hang if it waited */
	ASSERT_TRUE(extra != NULL);
	int64_t n = -1;
	ASSERT_EQ_INT(store_count_studies(extra, &n, &e), 0);
	ASSERT_TRUE(n > 0);
	store_release(extra);
	store_write_rollback(w);
	/* the extra one stays in the pool: take it, so that all are out again */
	extra = store_read(st, &e);
	ASSERT_TRUE(extra != NULL);

	struct pool_wait pw = {.st = st};
	pthread_t th;
	pthread_create(&th, NULL, pool_reader, &pw);
	usleep(100 * 1000);
	ASSERT_EQ_INT(pw.got, 0); /* still waiting: every reader is out */
	store_release(rs[0]);
	pthread_join(th, NULL);
	ASSERT_EQ_INT(pw.got, 1);
	for (int i = 1; i < N; i++)
		store_release(rs[i]);
	store_release(extra);
}

static void test_backup(struct store *st, const char *path)
{
	struct err e = {0};
	char dest[320];
	snprintf(dest, sizeof(dest), "%s/backup.db", dir);

	/* a backup taken while a write transaction is open copies the last
	 * committed state */
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	char *want = dump(path);
	ASSERT_EQ_INT(store_owner_ensure(w, "pending", 1, &e), 0);
	ASSERT_EQ_INT(store_backup_file(path, dest, &e), 0);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	char *got = dump(dest);
	ASSERT_EQ_STR(got, want);
	ASSERT_TRUE(strlen(got) > 1000);
	free(got);
	free(want);
	sqlite3 *db;
	sqlite3_open_v2(dest, &db, SQLITE_OPEN_READONLY, NULL);
	sqlite3_stmt *s;
	sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL);
	ASSERT_EQ_INT(sqlite3_step(s), SQLITE_ROW);
	ASSERT_EQ_STR((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	sqlite3_close(db);

	/* a backup opens with the store and has the same data */
	struct store *b = store_open(dest, &e);
	ASSERT_TRUE(b != NULL);
	if (b) {
		struct store_conn *r = store_read(b, &e);
		struct store_study stu = {0};
		ASSERT_EQ_INT(store_study_get(r, "team", "busy", &stu, &e), 0);
		store_study_clear(&stu);
		store_release(r);
		store_close(b);
	}
	/* the second backup replaces the first, now with the committed owner */
	ASSERT_EQ_INT(store_backup_file(path, dest, &e), 0);
	ASSERT_EQ_INT(raw_int(dest, "SELECT count(*) FROM owners WHERE id='pending'"), 1);

	/* errors: missing source, unwritable destination; nothing left behind */
	ASSERT_EQ_INT(store_backup_file(db_path("absent.db"), dest, &e), -ERR_NOT_FOUND);
	ASSERT_TRUE(strstr(e.msg, "absent.db") != NULL);
	char bad[400];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/b.db", dir);
	ASSERT_TRUE(store_backup_file(path, bad, &e) < 0);
	ASSERT_TRUE(strstr(e.msg, "no/such/dir") != NULL);
	ASSERT_EQ_INT(raw_int(dest, "SELECT count(*) FROM owners WHERE id='pending'"), 1);
}

/* kill -9 in the middle of a stream of commits: every commit the child
 * reported as acknowledged is in the file afterwards, and the file is
 * sound. The child writes from 4 threads so that batches are in flight. */
struct crash_writer {
	struct store *st;
	int64_t study;
	int fd;
	pthread_mutex_t *mu;
};

static void *crash_loop(void *arg)
{
	struct crash_writer *cw = arg;
	for (;;) {
		struct err e;
		struct store_conn *w = store_write_begin(cw->st, &e);
		if (!w)
			continue;
		struct store_trial t = {
		    .study_rowid = cw->study, .state = TRIAL_REQUESTED, .params_json = "[]"};
		if (store_trial_insert(w, &t, &e) != 0) {
			store_write_rollback(w);
			continue;
		}
		if (store_write_commit(w, &e) == 0) {
			pthread_mutex_lock(cw->mu);
			ssize_t n = write(cw->fd, &t.id, sizeof(t.id));
			pthread_mutex_unlock(cw->mu);
			if (n != (ssize_t)sizeof(t.id))
				_exit(3);
		}
	}
	return NULL;
}

static void test_kill9(void)
{
	char path[320];
	snprintf(path, sizeof(path), "%s", db_path("crash.db"));
	struct err e = {0};
	struct store *st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	if (!st)
		return;
	int64_t sr = make_study(st, "team", "crash");
	store_close(st);

	for (int round = 0; round < 3; round++) {
		int fds[2];
		if (pipe(fds) != 0) {
			TEST_FAIL("pipe");
			return;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(fds[0]);
			struct store *cs = store_open(path, &e);
			if (!cs)
				_exit(2);
			pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
			struct crash_writer cw = {cs, sr, fds[1], &mu};
			pthread_t th[4];
			for (int i = 0; i < 4; i++)
				pthread_create(&th[i], NULL, crash_loop, &cw);
			for (;;)
				pause();
		}
		close(fds[1]);
		/* let it acknowledge some commits, then kill it mid-stream */
		static int64_t ids[1 << 16];
		int64_t acked = 0;
		while (acked < 50 * (round + 1) &&
		       read(fds[0], &ids[acked], sizeof(ids[0])) == sizeof(ids[0]))
			acked++;
		kill(pid, SIGKILL);
		while (acked < (1 << 16) &&
		       read(fds[0], &ids[acked], sizeof(ids[0])) == sizeof(ids[0]))
			acked++;
		close(fds[0]);
		int status;
		waitpid(pid, &status, 0);
		ASSERT_TRUE(WIFSIGNALED(status));
		ASSERT_TRUE(acked >= 50 * (round + 1));

		st = store_open(path, &e);
		ASSERT_TRUE(st != NULL);
		if (!st)
			return;
		struct store_conn *r = store_read(st, &e);
		int64_t count = 0;
		ASSERT_EQ_INT(store_trial_count(r, sr, 0, &count, &e), 0);
		ASSERT_TRUE(count >= acked);
		int64_t missing = 0;
		for (int64_t i = 0; i < acked; i++) {
			struct store_trial t = {0};
			if (store_trial_get(r, sr, ids[i], &t, &e) != 0)
				missing++;
			store_trial_clear(&t);
		}
		ASSERT_EQ_INT(missing, 0);
		store_release(r);
		store_close(st);
		ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM pragma_integrity_check "
		                            "WHERE integrity_check != 'ok'"),
		              0);
	}
}

int main(void)
{
	if (store_test_setup("test-store-concurrency") != 0)
		return 1;
	test_kill9();

	char path[320];
	snprintf(path, sizeof(path), "%s", db_path("main.db"));
	struct err e = {0};
	struct store *st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	if (!st) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		return test_done("test-store_concurrency");
	}
	test_concurrency(st, path);
	test_pool(st);
	test_backup(st, path);
	store_close(st);
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM pragma_integrity_check "
	                            "WHERE integrity_check != 'ok'"),
	              0);
	/* The same with synchronous=NORMAL (sibyld's default), where batches
	 * share the commit's log writes instead of an fsync. */
	snprintf(path, sizeof(path), "%s", db_path("normal.db"));
	st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	if (st) {
		ASSERT_EQ_INT(store_set_sync(st, STORE_SYNC_NORMAL, &e), 0);
		test_concurrency(st, path);
		store_close(st);
		ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM pragma_integrity_check "
		                            "WHERE integrity_check != 'ok'"),
		              0);
	}
	store_test_cleanup();
	return test_done("test-store_concurrency");
}
