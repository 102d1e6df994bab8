/* store_backup.c: copying a live database with SQLite's online backup API
 * (sibyld --backup). Works beside a running sibyld: WAL readers do not block
 * its writes, and the copy is one consistent snapshot. */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Pages copied per sqlite3_backup_step, and how long to wait for a lock. */
#define BACKUP_CHUNK    1024
#define BUSY_TIMEOUT_MS 2000
#define BUSY_TOTAL_MS   30000

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int is_busy(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

static int fsync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int sqlite_backup_file(const char *db_path, const char *dest, struct err *e)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b = NULL;
	char tmp[4096], dir[4096];
	int rc = -ERR_INTERNAL, in_read = 0;

	if (!db_path || !dest || !*db_path || !*dest)
		return err_set(e, ERR_INVALID_ARGUMENT, "backup: no source or destination");
	int n = snprintf(tmp, sizeof(tmp), "%s.partial", dest);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return err_set(e, ERR_INVALID_ARGUMENT, "backup: destination path too long");
	if (access(db_path, F_OK) != 0)
		return err_set(e, ERR_NOT_FOUND, "backup: %s: %s", db_path, strerror(errno));
	unlink(tmp);

	if (sqlite3_open_v2(db_path, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		rc = err_set(e, ERR_UNAVAILABLE, "backup: cannot open %s: %s", db_path,
		             src ? sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(src, BUSY_TIMEOUT_MS);
	/* Hold one read transaction across all the steps: the copy is then the
	 * snapshot at this moment and is never restarted by concurrent writes
	 * (in WAL mode they do not wait for us either). */
	if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_master;", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		rc = err_set(e, ERR_UNAVAILABLE, "backup: cannot read %s: %s", db_path,
		             sqlite3_errmsg(src));
		goto out;
	}
	in_read = 1;
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = err_set(e, ERR_UNAVAILABLE, "backup: cannot create %s: %s", tmp,
		             dst ? sqlite3_errmsg(dst) : "out of memory");
		goto out;
	}
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		rc = err_set(e, ERR_INTERNAL, "backup: %s", sqlite3_errmsg(dst));
		goto out;
	}
	int step, waited = 0;
	do {
		step = sqlite3_backup_step(b, BACKUP_CHUNK);
		if (is_busy(step)) {
			if (waited > BUSY_TOTAL_MS)
				break;
			sleep_ms(10);
			waited += 10;
		}
	} while (step == SQLITE_OK || is_busy(step));
	int fin = sqlite3_backup_finish(b);
	b = NULL;
	if (step != SQLITE_DONE || fin != SQLITE_OK) {
		rc = err_set(e, ERR_INTERNAL, "backup: copying %s: %s", db_path,
		             sqlite3_errstr(step != SQLITE_DONE ? step : fin));
		goto out;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		rc = err_set(e, ERR_INTERNAL, "backup: closing %s", tmp);
		dst = NULL;
		goto out;
	}
	dst = NULL;
	/* Durable and atomic: the destination is either the old file or a
	 * complete copy, never a half-written one. */
	if (fsync_path(tmp, 0) != 0 || rename(tmp, dest) != 0) {
		rc = err_set(e, ERR_UNAVAILABLE, "backup: cannot write %s: %s", dest,
		             strerror(errno));
		goto out;
	}
	const char *slash = strrchr(dest, '/');
	if (slash) {
		size_t len = slash == dest ? 1 : (size_t)(slash - dest);
		if (len < sizeof(dir)) {
			memcpy(dir, dest, len);
			dir[len] = '\0';
			fsync_path(dir, 1);
		}
	} else {
		fsync_path(".", 1);
	}
	rc = 0;
out:
	if (b)
		sqlite3_backup_finish(b);
	if (dst)
		sqlite3_close(dst);
	if (in_read)
		sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	if (src)
		sqlite3_close(src);
	if (rc != 0)
		unlink(tmp);
	return rc;
}
