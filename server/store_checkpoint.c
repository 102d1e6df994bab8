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
#define CKPT_FORCE_PAGES 20000 /* about 80 MiB of log at 4 KiB pages */

/* Called by SQLite after each commit of the writer, under the writer;
 * pages is the length of the log. The log only starts again from its
 * beginning when a writer finds it all copied and no reader in it, which
 * under steady load is rare: so the thread is woken each time the log grew
 * by CKPT_PAGES since its last checkpoint, not at every commit past the
 * mark (each checkpoint costs two fsyncs however little it copies). */
static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *st = arg;
	if (pages < st->ckpt_mark)
		st->ckpt_mark = 0; /* the log started again */
	if (pages - st->ckpt_mark < CKPT_PAGES)
		return SQLITE_OK;
	if (!st->ckpt_running || pages - st->ckpt_mark >= CKPT_FORCE_PAGES) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		st->ckpt_mark = pages;
		return SQLITE_OK;
	}
	st->ckpt_mark = pages;
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
		int rc = sqlite3_wal_checkpoint_v2(st->ckpt_db, "main", SQLITE_CHECKPOINT_PASSIVE,
		                                   &log_pages, &done);
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
	st->ckpt_init = 0;
}

void store_ckpt_stats(struct store *st, int64_t *runs, int64_t *pages)
{
	*runs = *pages = 0;
	if (!st->ckpt_init)
		return;
	pthread_mutex_lock(&st->ckpt_mu);
	*runs = st->ckpt_runs;
	*pages = st->ckpt_pages;
	pthread_mutex_unlock(&st->ckpt_mu);
}
