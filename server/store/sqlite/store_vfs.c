/* store_vfs.c: a thin SQLite VFS over the default one that gathers the
 * WAL writes of a commit into one write system call.
 *
 * SQLite appends each page of a commit to the WAL as two writes, a 24-byte
 * frame header and the page, so a commit of seven pages costs fourteen
 * pwrite calls; on a VM, where each costs microseconds of hypervisor
 * work, that was most of the time the one writer is held. Here appended
 * frames are kept in a buffer until the commit frame (the one whose header
 * carries the database size) is complete, and then written at once, before
 * SQLite publishes the commit in the shared WAL index: a reader, or a
 * process started after a kill -9, finds exactly the bytes SQLite wrote,
 * in the same order. Everything that is not an append at the end of what
 * this connection wrote (the WAL header of a restarted log, pages and
 * checksums rewritten in place) flushes the buffer and goes straight
 * through, as does every other operation on the file (read, sync, size,
 * truncate, close, file control). Files other than the WAL are the
 * default VFS's own. docs/storage.md has the reasoning and the figures. */
#include "store_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MAX (8 << 20) /* flush a very large transaction in pieces */
/* The default VFS writes at most 128 KiB - 1 bytes a call (it masks the
 * length), so a flush goes out in pieces of this size. */
#define WRITE_MAX (64 * 1024)

struct wal_file {
	sqlite3_file base;
	sqlite3_file *real; /* the default VFS's file, just after this struct */
	unsigned char *buf; /* appended, not yet written: bytes [off, off + len) */
	size_t len, cap;
	sqlite3_int64 off;
	sqlite3_int64 end;  /* end of this connection's appends; below it: rewrites */
	int commit_pending; /* the last header buffered was a commit frame's */
};

static sqlite3_vfs *real_vfs(sqlite3_vfs *v)
{
	return v->pAppData;
}

static int flush(struct wal_file *w)
{
	int rc = SQLITE_OK;
	for (size_t done = 0; done < w->len && rc == SQLITE_OK;) {
		size_t n = w->len - done < WRITE_MAX ? w->len - done : WRITE_MAX;
		rc = w->real->pMethods->xWrite(w->real, w->buf + done, (int)n,
		                               w->off + (sqlite3_int64)done);
		done += n;
	}
	/* A failed write (a full disk) leaves the file short: what SQLite
	 * writes there again is an append, to gather as before. */
	if (rc != SQLITE_OK && w->len > 0 && w->end > w->off)
		w->end = w->off;
	w->len = 0;
	w->commit_pending = 0;
	return rc;
}

static int buffer(struct wal_file *w, const void *data, int amt, sqlite3_int64 off)
{
	if (w->len == 0)
		w->off = off;
	if (w->len + (size_t)amt > w->cap) {
		size_t cap = w->cap ? w->cap : 64 * 1024;
		while (cap < w->len + (size_t)amt)
			cap *= 2;
		unsigned char *grown = realloc(w->buf, cap);
		if (!grown)
			return SQLITE_NOMEM;
		w->buf = grown;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, data, (size_t)amt);
	w->len += (size_t)amt;
	return SQLITE_OK;
}

static int wal_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off)
{
	struct wal_file *w = (struct wal_file *)f;
	int append =
	    off > 0 && off >= w->end && (w->len == 0 || off == w->off + (sqlite3_int64)w->len);
	if (!append || w->len + (size_t)amt > BUF_MAX) {
		int rc = flush(w);
		if (rc == SQLITE_OK)
			rc = w->real->pMethods->xWrite(w->real, data, amt, off);
		if (off == 0 || off + amt > w->end)
			w->end = off + amt; /* a new log starts after its header */
		return rc;
	}
	int rc = buffer(w, data, amt, off);
	if (rc != SQLITE_OK) {
		flush(w);
		return SQLITE_IOERR_WRITE;
	}
	w->end = off + amt;
	if (amt == 24) {
		/* A frame header: bytes 4-7 are the database size after the
		 * commit on a commit frame, 0 on the others. */
		const unsigned char *h = data;
		w->commit_pending = (h[4] | h[5] | h[6] | h[7]) != 0;
		return SQLITE_OK;
	}
	if (w->commit_pending)
		return flush(w) == SQLITE_OK ? SQLITE_OK : SQLITE_IOERR_WRITE;
	return SQLITE_OK;
}

/* Every other method flushes first, then is the real file's. */
#define FLUSHED(w, err)                    \
	do {                               \
		if (flush(w) != SQLITE_OK) \
			return (err);      \
	} while (0)

static int wal_close(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	int frc = flush(w);
	int rc = w->real->pMethods->xClose(w->real);
	free(w->buf);
	w->buf = NULL;
	return frc != SQLITE_OK ? SQLITE_IOERR_WRITE : rc;
}

static int wal_read(sqlite3_file *f, void *data, int amt, sqlite3_int64 off)
{
	struct wal_file *w = (struct wal_file *)f;
	FLUSHED(w, SQLITE_IOERR_READ);
	return w->real->pMethods->xRead(w->real, data, amt, off);
}

static int wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct wal_file *w = (struct wal_file *)f;
	FLUSHED(w, SQLITE_IOERR_TRUNCATE);
	if (w->end > size)
		w->end = size;
	return w->real->pMethods->xTruncate(w->real, size);
}

static int wal_sync(sqlite3_file *f, int flags)
{
	struct wal_file *w = (struct wal_file *)f;
	FLUSHED(w, SQLITE_IOERR_FSYNC);
	return w->real->pMethods->xSync(w->real, flags);
}

static int wal_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct wal_file *w = (struct wal_file *)f;
	FLUSHED(w, SQLITE_IOERR_FSTAT);
	return w->real->pMethods->xFileSize(w->real, size);
}

static int wal_lock(sqlite3_file *f, int level)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xLock(w->real, level);
}

static int wal_unlock(sqlite3_file *f, int level)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xUnlock(w->real, level);
}

static int wal_check_reserved(sqlite3_file *f, int *out)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xCheckReservedLock(w->real, out);
}

static int wal_file_control(sqlite3_file *f, int op, void *arg)
{
	struct wal_file *w = (struct wal_file *)f;
	FLUSHED(w, SQLITE_IOERR);
	return w->real->pMethods->xFileControl(w->real, op, arg);
}

static int wal_sector_size(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xSectorSize(w->real);
}

static int wal_device_characteristics(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xDeviceCharacteristics(w->real);
}

/* The shared-memory and memory-map methods belong to the database file,
 * not the log; a log that is asked for them has none. */
static int wal_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	(void)f, (void)pg, (void)pgsz, (void)extend;
	*pp = NULL;
	return SQLITE_IOERR_SHMMAP;
}

static int wal_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	(void)f, (void)offset, (void)n, (void)flags;
	return SQLITE_IOERR_SHMLOCK;
}

static void wal_shm_barrier(sqlite3_file *f)
{
	(void)f;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static int wal_shm_unmap(sqlite3_file *f, int del)
{
	(void)f, (void)del;
	return SQLITE_OK;
}

static int wal_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
	(void)f, (void)off, (void)amt;
	*pp = NULL; /* "no mapping": SQLite reads instead */
	return SQLITE_OK;
}

static int wal_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	(void)f, (void)off, (void)p;
	return SQLITE_OK;
}

static const sqlite3_io_methods wal_methods = {
    .iVersion = 3,
    .xClose = wal_close,
    .xRead = wal_read,
    .xWrite = wal_write,
    .xTruncate = wal_truncate,
    .xSync = wal_sync,
    .xFileSize = wal_file_size,
    .xLock = wal_lock,
    .xUnlock = wal_unlock,
    .xCheckReservedLock = wal_check_reserved,
    .xFileControl = wal_file_control,
    .xSectorSize = wal_sector_size,
    .xDeviceCharacteristics = wal_device_characteristics,
    .xShmMap = wal_shm_map,
    .xShmLock = wal_shm_lock,
    .xShmBarrier = wal_shm_barrier,
    .xShmUnmap = wal_shm_unmap,
    .xFetch = wal_fetch,
    .xUnfetch = wal_unfetch,
};

static int vfs_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
	sqlite3_vfs *r = real_vfs(v);
	if (!(flags & SQLITE_OPEN_WAL))
		return r->xOpen(r, name, f, flags, out);
	struct wal_file *w = (struct wal_file *)f;
	memset(w, 0, sizeof(*w));
	w->real = (sqlite3_file *)(w + 1);
	int rc = r->xOpen(r, name, w->real, flags, out);
	w->base.pMethods = rc == SQLITE_OK ? &wal_methods : NULL;
	return rc;
}

/* The rest is the default VFS's, called with its own handle. */
static int vfs_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	return real_vfs(v)->xDelete(real_vfs(v), name, sync_dir);
}

static int vfs_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	return real_vfs(v)->xAccess(real_vfs(v), name, flags, out);
}

static int vfs_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
	return real_vfs(v)->xFullPathname(real_vfs(v), name, n, out);
}

static int vfs_randomness(sqlite3_vfs *v, int n, char *out)
{
	return real_vfs(v)->xRandomness(real_vfs(v), n, out);
}

static int vfs_sleep(sqlite3_vfs *v, int us)
{
	return real_vfs(v)->xSleep(real_vfs(v), us);
}

static int vfs_current_time(sqlite3_vfs *v, double *out)
{
	return real_vfs(v)->xCurrentTime(real_vfs(v), out);
}

static int vfs_last_error(sqlite3_vfs *v, int n, char *out)
{
	return real_vfs(v)->xGetLastError(real_vfs(v), n, out);
}

static int vfs_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	return real_vfs(v)->xCurrentTimeInt64(real_vfs(v), out);
}

static sqlite3_vfs shim;
static int shim_rc = SQLITE_ERROR;
static pthread_once_t shim_once = PTHREAD_ONCE_INIT;

static void shim_register(void)
{
	sqlite3_vfs *r = sqlite3_vfs_find(NULL);
	if (!r || r->iVersion < 2)
		return;
	shim = (sqlite3_vfs){
	    .iVersion = 2,
	    .szOsFile = (int)sizeof(struct wal_file) + r->szOsFile,
	    .mxPathname = r->mxPathname,
	    .zName = STORE_VFS_NAME,
	    .pAppData = r,
	    .xOpen = vfs_open,
	    .xDelete = vfs_delete,
	    .xAccess = vfs_access,
	    .xFullPathname = vfs_full_pathname,
	    .xDlOpen = r->xDlOpen,
	    .xDlError = r->xDlError,
	    .xDlSym = r->xDlSym,
	    .xDlClose = r->xDlClose,
	    .xRandomness = vfs_randomness,
	    .xSleep = vfs_sleep,
	    .xCurrentTime = vfs_current_time,
	    .xGetLastError = vfs_last_error,
	    .xCurrentTimeInt64 = vfs_current_time64,
	};
	shim_rc = sqlite3_vfs_register(&shim, 0);
}

const char *store_vfs(void)
{
	pthread_once(&shim_once, shim_register);
	return shim_rc == SQLITE_OK ? STORE_VFS_NAME : NULL;
}
