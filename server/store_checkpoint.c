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
 * database. If the log still outgrows CKPT_FORCE_PAGES (the thread cannot
 * keep up) or the thread could not start, the committing writer
 * checkpoints itself, as SQLite would have. docs/storage.md has the
 * figures. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

#define CKPT_PAGES       1000  /* SQLite's default automatic checkpoint */
#define CKPT_FORCE_PAGES 65536 /* 256 MiB of log at 4 KiB pages */
#define CKPT_WAIT_MS     50    /* the writer's wait for readers of the old log */

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
	if (pages < st->ckpt_mark)
		st->ckpt_mark = 0; /* the log started again */
	if (pages < st->ckpt_force_mark)
		st->ckpt_force_mark = 0;
	int force = st->ckpt_force > 0 ? st->ckpt_force : CKPT_FORCE_PAGES;
	if (st->ckpt_running && pages >= force && pages - st->ckpt_force_mark >= CKPT_PAGES) {
		/* One try per CKPT_PAGES: not while the thread copies (its
		 * checkpoint would add to the pause), and readers of the old log
		 * are waited for CKPT_WAIT_MS at most, not the usual 2 s. */
		st->ckpt_force_mark = pages;
		if (!ckpt_try_enter(st))
			return SQLITE_OK;
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

static void *checkpointer(void *arg)
{
	struct store *st = arg;
	pthread_mutex_lock(&st->ckpt_mu);
	for (;;) {
		while (!st->ckpt_wanted && !st->ckpt_stop)
			pthread_cond_wait(&st->ckpt_cv, &st->ckpt_mu);
		if (st->ckpt_stop)
			break;
		st->ckpt_wanted = 0;
		pthread_mutex_unlock(&st->ckpt_mu);
		int log_pages = 0, done = 0;
		ckpt_enter(st);
		int rc = sqlite3_wal_checkpoint_v2(st->ckpt_db, "main", SQLITE_CHECKPOINT_PASSIVE,
		                                   &log_pages, &done);
		ckpt_leave(st, 0);
		if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
			log_error("event=checkpoint_failed msg=\"%s\"",
			          sqlite3_errmsg(st->ckpt_db));
		pthread_mutex_lock(&st->ckpt_mu);
		st->ckpt_runs++;
		st->ckpt_pages += done > 0 ? done : 0;
	}
	pthread_mutex_unlock(&st->ckpt_mu);
	return NULL;
}

void store_ckpt_start(struct store *st)
{
	pthread_mutex_init(&st->ckpt_mu, NULL);
	pthread_cond_init(&st->ckpt_cv, NULL);
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
