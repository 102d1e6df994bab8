/* test-store_vfs: the WAL write-gathering VFS (server/store/sqlite/store_vfs.c) under
 * the store. What it must keep: a commit is in the file before the store
 * returns from it (another connection, on SQLite's own VFS, sees it at
 * once); transactions of any size, including ones bigger than the
 * default VFS's single write (128 KiB), than the gathering buffer (8 MiB)
 * and than the writer's page cache (16 MiB: SQLite then writes pages
 * early and rewrites them and their checksums in place); and a process
 * killed right after its commits leaves a log that SQLite recovers whole
 * (every frame and checksum reached the file). Also: the checkpoint
 * thread of store_checkpoint.c runs once the log is long, and the log
 * starts again past its limit under writes that never pause; it is
 * truncated when the writes stop, and by store_open before serving; and
 * a write that fails for want of space answers UNAVAILABLE without
 * SQLite's text, makes store_health not ready, and both recover when the
 * space comes back (issue 11 item 7). */
#include "store_test.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "store_internal.h"

/* A parameters text of about n bytes, different for each seed. */
static char *big_params(size_t n, int seed)
{
	char *p = malloc(n + 64);
	if (!p)
		abort();
	int k = snprintf(p, n + 64, "[{\"parameterId\":\"x\",\"value\":\"%d:", seed);
	for (size_t i = (size_t)k; i < n; i++)
		p[i] = (char)('a' + (i * 7 + (size_t)seed) % 26);
	memcpy(p + n, "\"}]", 4);
	return p;
}

/* One transaction of count trials of about size bytes each; their ids
 * in ids. 0 on success. */
static int write_batch(struct store *st, int64_t study, int count, size_t size, int seed,
                       int64_t *ids)
{
	struct err e;
	struct store_conn *w = store_write_begin(st, &e);
	if (!w)
		return -1;
	for (int i = 0; i < count; i++) {
		char *params = big_params(size, seed + i);
		struct store_trial t = {
		    .study_rowid = study, .state = TRIAL_REQUESTED, .params_json = params};
		int rc = store_trial_insert(w, &t, &e);
		free(params);
		if (rc) {
			store_write_rollback(w);
			return -1;
		}
		ids[i] = t.id;
	}
	return store_write_commit(w, &e);
}

/* The sum of the lengths of the study's parameter texts, read with
 * SQLite's default VFS on a connection of its own. */
static int64_t raw_bytes(const char *path, int64_t study)
{
	char q[160];
	snprintf(
	    q, sizeof(q),
	    "SELECT coalesce(sum(length(params_json)), 0) FROM trials WHERE study_rowid = %lld",
	    (long long)study);
	return raw_int(path, q);
}

static void test_registered(void)
{
	const char *name = store_vfs();
	ASSERT_TRUE(name != NULL);
	ASSERT_EQ_STR(name ? name : "", STORE_VFS_NAME);
	ASSERT_TRUE(sqlite3_vfs_find(STORE_VFS_NAME) != NULL);
	/* the default stays SQLite's own */
	ASSERT_TRUE(sqlite3_vfs_find(NULL) != sqlite3_vfs_find(STORE_VFS_NAME));
}

/* Each commit is visible to another connection as soon as it returns. */
static void test_small_commits(struct store *st, const char *path)
{
	int64_t study = make_study(st, "team", "small");
	int64_t id, expect = 0;
	int seen = 0;
	for (int i = 0; i < 200; i++) {
		if (write_batch(st, study, 1, 50 + (size_t)i, i, &id) != 0)
			break;
		expect += 50 + i + 3;
		seen += raw_bytes(path, study) == expect;
	}
	ASSERT_EQ_INT(seen, 200);
}

/* Transactions around and far beyond each size the VFS cares about. */
static void test_sizes(struct store *st, const char *path)
{
	static const struct {
		int count;
		size_t size;
	} cases[] = {
	    {1, 131072 - 200}, /* one page run just under 128 KiB */
	    {2, 65536},        /* 128 KiB and more in one commit */
	    {40, 32768},       /* about 1.3 MiB */
	    {40, 262144},      /* 10 MiB: past the gathering buffer */
	    {100, 262144},     /* 25 MiB: past the writer's page cache */
	};
	int64_t study = make_study(st, "team", "sizes");
	int64_t expect = 0;
	static int64_t ids[128];
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		int rc = write_batch(st, study, cases[c].count, cases[c].size, (int)c * 1000, ids);
		ASSERT_EQ_INT(rc, 0);
		expect += (int64_t)cases[c].count * (int64_t)(cases[c].size + 3);
		ASSERT_EQ_INT(raw_bytes(path, study), expect);
	}
	/* the text itself, not only its length, came back */
	struct err e;
	struct store_conn *r = store_read(st, &e);
	struct store_trial t = {0};
	ASSERT_EQ_INT(store_trial_get(r, study, ids[7], &t, &e), 0);
	char *again = big_params(262144, 4000 + 7);
	ASSERT_TRUE(t.params_json && strcmp(t.params_json, again) == 0);
	free(again);
	store_trial_clear(&t);
	store_release(r);
}

/* A child commits a small and a page-cache-sized transaction, reports
 * them, and is killed; SQLite's recovery must find both whole. */
static void test_recovery(void)
{
	char path[320];
	snprintf(path, sizeof(path), "%s", db_path("crash.db"));
	struct err e;
	struct store *st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	if (!st)
		return;
	int64_t study = make_study(st, "team", "crash");
	store_close(st);
	int fds[2];
	ASSERT_EQ_INT(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		struct store *cs = store_open(path, &e);
		static int64_t ids[128];
		char done = 1;
		if (!cs || write_batch(cs, study, 3, 1000, 1, ids) != 0 ||
		    write_batch(cs, study, 80, 262144, 100, ids) != 0 ||
		    write_batch(cs, study, 3, 1000, 500, ids) != 0)
			done = 0;
		if (write(fds[1], &done, 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(fds[1]);
	char done = 0;
	ASSERT_EQ_INT(read(fds[0], &done, 1), 1);
	ASSERT_EQ_INT(done, 1);
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	close(fds[0]);
	ASSERT_TRUE(WIFSIGNALED(status));
	/* the WAL is still there (no clean close); default VFS recovers it */
	char wal[340];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	ASSERT_EQ_INT(access(wal, F_OK), 0);
	char q[160];
	snprintf(q, sizeof(q), "SELECT count(*) FROM trials WHERE study_rowid = %lld",
	         (long long)study);
	ASSERT_EQ_INT(raw_int(path, q), 86);
	ASSERT_EQ_INT(raw_bytes(path, study), 6 * 1003 + 80 * (262144 + 3));
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM pragma_integrity_check "
	                            "WHERE integrity_check != 'ok'"),
	              0);
	/* the next store_open copies that log and truncates it before use */
	struct stat sb;
	ASSERT_EQ_INT(stat(wal, &sb), 0);
	ASSERT_TRUE(sb.st_size > 1024 * 1024);
	struct store *again = store_open(path, &e);
	ASSERT_TRUE(again != NULL);
	ASSERT_EQ_INT(stat(wal, &sb), 0);
	ASSERT_EQ_INT((int)sb.st_size, 0);
	store_close(again);
	ASSERT_EQ_INT(raw_bytes(path, study), 6 * 1003 + 80 * (262144 + 3));
}

static off_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* When the writes stop, the checkpoint thread truncates the log. */
static void test_idle_truncate(void)
{
	char path[320], wal[340];
	snprintf(path, sizeof(path), "%s", db_path("idle.db"));
	snprintf(wal, sizeof(wal), "%s-wal", path);
	struct err e;
	struct store *st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	if (!st)
		return;
	ASSERT_EQ_INT(store_set_sync(st, STORE_SYNC_NORMAL, &e), 0);
	int64_t study = make_study(st, "team", "idle");
	static int64_t ids[8];
	ASSERT_EQ_INT(write_batch(st, study, 4, 65536, 1, ids), 0);
	ASSERT_TRUE(file_size(wal) > 256 * 1024);
	off_t size = -1;
	for (int i = 0; i < 60 && size != 0; i++) { /* about 1 s after the last commit */
		usleep(100 * 1000);
		size = file_size(wal);
	}
	ASSERT_EQ_INT((int)size, 0);
	ASSERT_EQ_INT(raw_bytes(path, study), 4 * (65536 + 3));
	/* and it still takes writes */
	ASSERT_EQ_INT(write_batch(st, study, 1, 1000, 9, ids), 0);
	store_close(st);
}

/* In a child (the file-size limit is per process): past RLIMIT_FSIZE every
 * write of the store fails as on a full disk. Exit 0 when every check
 * held, else the number of the first that failed. */
static int fault_child(const char *path, int64_t study)
{
	signal(SIGXFSZ, SIG_IGN);
	struct err e;
	struct store *st = store_open(path, &e);
	if (!st)
		return 10;
	if (store_health(st, &e) != 0)
		return 11;
	struct rlimit rl;
	getrlimit(RLIMIT_FSIZE, &rl);
	rlim_t was = rl.rlim_cur;
	rl.rlim_cur = 4096;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 12;
	static int64_t ids[4];
	struct store_conn *w = store_write_begin(st, &e);
	struct store_trial t = {
	    .study_rowid = study, .state = TRIAL_REQUESTED, .params_json = "[]"};
	int rc = w ? store_trial_insert(w, &t, &e) : -1;
	if (rc == 0)
		rc = store_write_commit(w, &e);
	else
		store_write_rollback(w);
	if (rc != -ERR_UNAVAILABLE || e.code != ERR_UNAVAILABLE)
		return 13;
	if (!strstr(e.msg, "nothing was saved") || strstr(e.msg, "disk I/O error") ||
	    strstr(e.msg, "database or disk is full"))
		return 14;
	if (store_health(st, &e) != -ERR_UNAVAILABLE || !strstr(e.msg, "nothing was saved"))
		return 15;
	sleep(1);
	if (store_health(st, &e) == 0) /* the probe write fails too */
		return 16;
	rl.rlim_cur = was;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 17;
	sleep(1);
	if (store_health(st, &e) != 0) /* the probe wrote: ready again */
		return 18;
	if (write_batch(st, study, 2, 1000, 5, ids) != 0)
		return 19;
	store_close(st);
	return 0;
}

static void test_disk_full(void)
{
	char path[320];
	snprintf(path, sizeof(path), "%s", db_path("full.db"));
	struct err e;
	struct store *st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	if (!st)
		return;
	int64_t study = make_study(st, "team", "full");
	store_close(st);
	pid_t pid = fork();
	if (pid == 0)
		_exit(fault_child(path, study));
	int status = -1;
	waitpid(pid, &status, 0);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ_INT(WEXITSTATUS(status), 0);
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM trials"), 2);
}

/* Past 1000 pages of log the checkpoint thread copies the log into the
 * database (store_checkpoint.c), without the writer. */
static void test_checkpoint_thread(struct store *st, const char *path)
{
	int64_t runs = 0, pages = 0, restarts = 0;
	for (int i = 0; i < 500 && runs == 0; i++) {
		store_ckpt_stats(st, &runs, &pages, &restarts);
		if (runs == 0)
			usleep(10 * 1000);
	}
	ASSERT_TRUE(runs >= 1);
	ASSERT_TRUE(pages >= 1000);
	/* and the checkpointed database reads back whole, on SQLite's VFS */
	ASSERT_EQ_INT(raw_int(path, "SELECT count(*) FROM pragma_integrity_check "
	                            "WHERE integrity_check != 'ok'"),
	              0);
}

/* Under writes that never pause, the log still starts again past its
 * limit (set low here): it does not grow with everything ever written. */
static void test_log_bounded(void)
{
	char path[320];
	snprintf(path, sizeof(path), "%s", db_path("bounded.db"));
	struct err e;
	struct store *st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	if (!st)
		return;
	ASSERT_EQ_INT(store_set_sync(st, STORE_SYNC_NORMAL, &e), 0);
	st->ckpt_force = 3000; /* pages; the daemon's is 65536 */
	int64_t study = make_study(st, "team", "bounded");
	static int64_t ids[4];
	int failed = 0;
	for (int i = 0; i < 120; i++) /* 120 x 4 x 64 KiB: about 7,700 pages */
		failed += write_batch(st, study, 4, 65536, i * 10, ids) != 0;
	ASSERT_EQ_INT(failed, 0);
	int64_t runs, pages, restarts;
	store_ckpt_stats(st, &runs, &pages, &restarts);
	ASSERT_TRUE(restarts >= 1);
	char wal[340];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	struct stat sb;
	ASSERT_EQ_INT(stat(wal, &sb), 0);
	/* the limit plus what one more round of commits added, far below the
	 * 30 MiB written (without the restart: 30 MiB) */
	ASSERT_TRUE(sb.st_size < (off_t)20 * 1024 * 1024);
	ASSERT_EQ_INT(raw_bytes(path, study), 480 * (65536 + 3));
	store_close(st);
}

int main(void)
{
	if (store_test_setup("test-store-vfs") != 0)
		return 1;
	test_registered();
	char path[320];
	snprintf(path, sizeof(path), "%s", db_path("main.db"));
	struct err e = {0};
	struct store *st = store_open(path, &e);
	ASSERT_TRUE(st != NULL);
	if (st) {
		ASSERT_EQ_INT(store_set_sync(st, STORE_SYNC_NORMAL, &e), 0);
		test_small_commits(st, path);
		test_sizes(st, path);
		test_checkpoint_thread(st, path);
		store_close(st);
	}
	test_recovery();
	test_log_bounded();
	test_idle_truncate();
	test_disk_full();
	store_test_cleanup();
	return test_done("test-store_vfs");
}
