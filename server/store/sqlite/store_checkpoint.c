/* store_checkpoint.c: WAL checkpoints on a thread of their own.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the log
 * past 1000 pages, on the committing connection: that commit then copies
 * the log into the database and fsyncs both files while every other
 * writer waits for the one writer (tens of milliseconds on the test VM,
 * every 150 commits or so: the write p99). Here the writer's commits only
 * signal (sqlite3_wal_hook, which also turns SQLite's own automatic
 * checkpoint off) and a thread with its own connection runs a PASSIVE
 * checkpoint, which blocks neither the writer nor the readers. It syncs
 * as SQLite's checkpoint does, so a power loss cannot corrupt the
 * database. If the log still outgrows its target (st->ckpt_force pages:
 * the thread cannot keep up under writes that never pause) or the thread
 * could not start, the committing writer checkpoints itself, as SQLite
 * would have. When the writes stop for CKPT_IDLE_MS the thread truncates
 * the log to nothing, and sqlite_open does so before serving
 * (store_ckpt_truncate). docs/storage.md has the figures. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"

#define CKPT_PAGES   1000 /* SQLite's default automatic checkpoint */
#define CKPT_WAIT_MS 50   /* the writer's wait for readers of the old log */
#define CKPT_IDLE_MS 1000 /* no commit for this long: truncate the log */
#define CKPT_CATCHUP 4    /* PASSIVE rounds in a row while the log is long */

/* One checkpoint at a time: the thread's or the writer's (ckpt_mu). */
static void ckpt_enter(struct store *st)
{
	pthread_mutex_lock(&st->ckpt_mu);
	while (st->ckpt_active)
		pthread_cond_wait(&st->ckpt_done, &st->ckpt_mu);
	st->ckpt_active = 1;
	pthread_mutex_unlock(&st->ckpt_mu);
}

/* ckpt_enter, or 0 at once when a checkpoint runs. */
static int ckpt_try_enter(struct store *st)
{
	pthread_mutex_lock(&st->ckpt_mu);
	int free_now = !st->ckpt_active;
	if (free_now)
		st->ckpt_active = 1;
	pthread_mutex_unlock(&st->ckpt_mu);
	return free_now;
}

/* Ends a checkpoint; restarted: the writer's RESTART succeeded. */
static void ckpt_leave(struct store *st, int restarted)
{
	pthread_mutex_lock(&st->ckpt_mu);
	st->ckpt_active = 0;
	st->ckpt_restarts += restarted;
	pthread_cond_broadcast(&st->ckpt_done);
	pthread_mutex_unlock(&st->ckpt_mu);
}

/* Called by SQLite after each commit of the writer, under the writer;
 * pages is the length of the log. Each time the log has grown by
 * CKPT_PAGES the thread is woken (not at every commit past the mark: each
 * checkpoint costs two fsyncs however little it copies).
 * The log only starts again from its beginning when a writer finds all of
 * it copied, and under steady load the thread never catches up with a
 * writer that keeps appending (a 100,000-trial import grew the log to
 * 2.8 GiB). So past CKPT_FORCE_PAGES the writer runs a RESTART checkpoint
 * itself: it copies what the thread has not yet (about CKPT_PAGES at most),
 * waits for readers of the old log, and the next transaction starts the
 * log again. That pause (a few to a few tens of milliseconds) comes once
 * per CKPT_FORCE_PAGES of log, rarely enough not to show in the write p99
 * (docs/storage.md). */
static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *st = arg;
	__atomic_store_n(&st->ckpt_log, pages, __ATOMIC_RELAXED);
	__atomic_add_fetch(&st->ckpt_commits, 1, __ATOMIC_RELAXED);
	if (pages < st->ckpt_mark)
		st->ckpt_mark = 0; /* the log started again */
	if (pages < st->ckpt_force_mark)
		st->ckpt_force_mark = 0;
	int force = st->ckpt_force > 0 ? st->ckpt_force : STORE_WAL_TARGET_DEFAULT / 4096;
	int step = force / 4 < CKPT_PAGES ? force / 4 : CKPT_PAGES;
	if (st->ckpt_running && pages >= force && pages - st->ckpt_force_mark >= step) {
		/* Not while the thread copies (its checkpoint would add to the
		 * pause: then at the next commit) unless the log is twice its
		 * target; readers of the old log are waited for CKPT_WAIT_MS at
		 * most, not the usual 2 s, and after such a failure the next try
		 * is a step later. */
		if (pages >= 2 * force)
			ckpt_enter(st);
		else if (!ckpt_try_enter(st))
			return SQLITE_OK;
		st->ckpt_force_mark = pages;
		sqlite3_busy_timeout(db, CKPT_WAIT_MS);
		int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
		sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
		ckpt_leave(st, rc == SQLITE_OK);
		return SQLITE_OK;
	}
	if (pages - st->ckpt_mark < CKPT_PAGES)
		return SQLITE_OK;
	st->ckpt_mark = pages;
	if (!st->ckpt_running) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		return SQLITE_OK;
	}
	pthread_mutex_lock(&st->ckpt_mu);
	st->ckpt_wanted = 1;
	pthread_cond_signal(&st->ckpt_cv);
	pthread_mutex_unlock(&st->ckpt_mu);
	return SQLITE_OK;
}

/* One checkpoint of the thread's, counted; 0 or SQLite's error. */
static int thread_checkpoint(struct store *st, int mode, int *log_pages, int *done)
{
	*log_pages = *done = 0;
	ckpt_enter(st);
	int rc = sqlite3_wal_checkpoint_v2(st->ckpt_db, "main", mode, log_pages, done);
	ckpt_leave(st, 0);
	if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) {
		store_note_fault(st, rc);
		log_error("event=checkpoint_failed code=%d msg=\"%s\"", rc,
		          sqlite3_errmsg(st->ckpt_db));
	}
	pthread_mutex_lock(&st->ckpt_mu);
	st->ckpt_runs++;
	st->ckpt_pages += *done > 0 ? *done : 0;
	pthread_mutex_unlock(&st->ckpt_mu);
	return rc;
}

/* Woken by the writer: PASSIVE checkpoints, again at once while the log is
 * between half its target and its target and a round left some of it, so
 * that what is left for the writer's RESTART (on_commit) stays small; past
 * the target the thread stands back for that RESTART. */
static void catch_up(struct store *st)
{
	int force = st->ckpt_force > 0 ? st->ckpt_force : STORE_WAL_TARGET_DEFAULT / 4096;
	for (int round = 0; round < CKPT_CATCHUP; round++) {
		int log_pages, done;
		if (thread_checkpoint(st, SQLITE_CHECKPOINT_PASSIVE, &log_pages, &done) !=
		        SQLITE_OK ||
		    done >= log_pages || log_pages < force / 2 || log_pages >= force)
			return;
	}
}

/* No commit for CKPT_IDLE_MS and a log left: copy it and truncate the
 * file to nothing (waiting CKPT_WAIT_MS at most for readers). */
static void truncate_idle(struct store *st)
{
	int log_pages, done;
	sqlite3_busy_timeout(st->ckpt_db, CKPT_WAIT_MS);
	int rc = thread_checkpoint(st, SQLITE_CHECKPOINT_TRUNCATE, &log_pages, &done);
	sqlite3_busy_timeout(st->ckpt_db, 1000);
	if (rc == SQLITE_OK) {
		__atomic_store_n(&st->ckpt_log, 0, __ATOMIC_RELAXED);
		pthread_mutex_lock(&st->ckpt_mu);
		st->ckpt_truncates++;
		pthread_mutex_unlock(&st->ckpt_mu);
	}
}

static void wait_until(struct store *st, int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_cond_timedwait(&st->ckpt_cv, &st->ckpt_mu, &ts);
}

static void *checkpointer(void *arg)
{
	struct store *st = arg;
	int64_t seen = -1; /* commits at the last idle check */
	pthread_mutex_lock(&st->ckpt_mu);
	for (;;) {
		if (!st->ckpt_wanted && !st->ckpt_stop)
			wait_until(st, CKPT_IDLE_MS);
		if (st->ckpt_stop)
			break;
		int wanted = st->ckpt_wanted;
		st->ckpt_wanted = 0;
		pthread_mutex_unlock(&st->ckpt_mu);
		int64_t commits = __atomic_load_n(&st->ckpt_commits, __ATOMIC_RELAXED);
		if (wanted)
			catch_up(st);
		else if (commits == seen && __atomic_load_n(&st->ckpt_log, __ATOMIC_RELAXED) > 0)
			truncate_idle(st);
		seen = commits;
		pthread_mutex_lock(&st->ckpt_mu);
	}
	pthread_mutex_unlock(&st->ckpt_mu);
	return NULL;
}

void store_ckpt_start(struct store *st)
{
	pthread_mutex_init(&st->ckpt_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->ckpt_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&st->ckpt_done, NULL);
	st->ckpt_init = 1;
	sqlite3_wal_hook(st->writer->db, on_commit, st);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	/* A first statement reads the schema, and with it that the database is
	 * in WAL mode: before that a checkpoint would do nothing. */
	if (sqlite3_open_v2(st->path, &st->ckpt_db, flags, store_vfs()) != SQLITE_OK ||
	    sqlite3_exec(st->ckpt_db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
	        SQLITE_OK) {
		log_error("event=checkpoint_thread msg=\"%s: %s; the writer checkpoints\"",
		          st->path, st->ckpt_db ? sqlite3_errmsg(st->ckpt_db) : "out of memory");
		sqlite3_close(st->ckpt_db);
		st->ckpt_db = NULL;
		return;
	}
	sqlite3_busy_timeout(st->ckpt_db, 1000);
	/* Set before the thread starts; on_commit reads it under the writer. */
	st->ckpt_running = 1;
	if (pthread_create(&st->ckpt_thread, NULL, checkpointer, st) != 0) {
		st->ckpt_running = 0;
		sqlite3_close(st->ckpt_db);
		st->ckpt_db = NULL;
	}
}

void store_ckpt_stop(struct store *st)
{
	if (!st->ckpt_init)
		return;
	pthread_mutex_lock(&st->wlock);
	if (st->writer)
		sqlite3_wal_hook(st->writer->db, NULL, NULL);
	pthread_mutex_unlock(&st->wlock);
	if (st->ckpt_running) {
		pthread_mutex_lock(&st->ckpt_mu);
		st->ckpt_stop = 1;
		pthread_cond_signal(&st->ckpt_cv);
		pthread_mutex_unlock(&st->ckpt_mu);
		pthread_join(st->ckpt_thread, NULL);
		st->ckpt_running = 0;
	}
	sqlite3_close(st->ckpt_db);
	st->ckpt_db = NULL;
	pthread_mutex_destroy(&st->ckpt_mu);
	pthread_cond_destroy(&st->ckpt_cv);
	pthread_cond_destroy(&st->ckpt_done);
	st->ckpt_init = 0;
}

void store_ckpt_stats(struct store *st, int64_t *runs, int64_t *pages, int64_t *restarts)
{
	*runs = *pages = *restarts = 0;
	if (!st->ckpt_init)
		return;
	pthread_mutex_lock(&st->ckpt_mu);
	*runs = st->ckpt_runs;
	*pages = st->ckpt_pages;
	*restarts = st->ckpt_restarts;
	pthread_mutex_unlock(&st->ckpt_mu);
}

int store_ckpt_truncate(struct store *st, int wait_ms)
{
	char wal[4200];
	struct stat sb;
	snprintf(wal, sizeof(wal), "%s-wal", st->path);
	long long before = stat(wal, &sb) == 0 ? (long long)sb.st_size : 0;
	sqlite3 *db = st->writer->db;
	int log_pages = 0, done = 0;
	sqlite3_busy_timeout(db, wait_ms);
	int rc =
	    sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, &log_pages, &done);
	sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
	if (rc == SQLITE_OK) {
		if (before > 0)
			log_info("event=wal_truncated bytes_before=%lld pages_copied=%d", before,
			         done);
		return 0;
	}
	store_note_fault(st, rc);
	log_warn("event=wal_truncate_failed code=%d bytes=%lld msg=\"%s; sibyld serves on, "
	         "the log is copied and truncated when it can be\"",
	         rc, before, sqlite3_errmsg(db));
	__atomic_store_n(&st->ckpt_log, log_pages > 0 ? log_pages : 1, __ATOMIC_RELAXED);
	return -1;
}
