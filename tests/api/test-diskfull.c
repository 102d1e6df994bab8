/* A full disk (issue 11 item 7), simulated portably: a file-size limit
 * (RLIMIT_FSIZE, set on the running daemon with prlimit) makes every write
 * to the database's files past 4 KiB fail as a full disk does (a short
 * write: SQLITE_FULL; or EFBIG: an I/O error). Writes must answer 503
 * UNAVAILABLE with Retry-After and a message of sibyld's own (never
 * SQLite's text, never 500), /healthz must say not ready, nothing may
 * change, and when the limit is lifted the daemon must recover by itself:
 * /healthz ready again without a client write, the same call succeeding.
 * Also: a restart truncates the WAL a killed daemon left, before serving;
 * and a database file that cannot be written is served read-only with
 * /healthz not ready (before: ready, and every write a 500). */
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apitest.h"

#define COMPLETE_BODY "{\"finalMeasurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":0.5}]}}"

static int set_fsize(int pid, rlim_t soft)
{
	struct rlimit rl;
	if (prlimit(pid, RLIMIT_FSIZE, NULL, &rl) != 0)
		return -1;
	rl.rlim_cur = soft;
	return prlimit(pid, RLIMIT_FSIZE, &rl, NULL);
}

/* The status of /healthz; a 503 must say why it is not ready, with
 * Retry-After, and no SQLite text. */
static long healthz(struct daemon *d)
{
	struct reply r;
	long st = http_call(d, "GET", "/healthz", NULL, "", &r) == 0 ? r.status : 0;
	if (st == 503) {
		json_t *err = json_object_get(r.json, "error");
		const char *msg = json_string_value(json_object_get(err, "message"));
		ASSERT_TRUE(msg && strstr(msg, "not ready: ") == msg);
		ASSERT_EQ_STR(r.retry_after, "5");
	}
	reply_free(&r);
	return st;
}

/* No SQLite text: its messages for these faults, and its words. */
static void no_sqlite_text(const char *msg)
{
	static const char *const words[] = {"database or disk is full",
	                                    "disk I/O error",
	                                    "attempt to write a readonly database",
	                                    "sqlite",
	                                    "SQL",
	                                    NULL};
	for (int i = 0; words[i]; i++) {
		test_checks++;
		if (strstr(msg, words[i]))
			TEST_FAIL("SQLite's text \"%s\" in the answer: %s", words[i], msg);
	}
}

static void test_full_disk(struct daemon *d)
{
	create_study(d, "full", SPEC_RANDOM);
	json_decref(suggest(d, "full", 3, "w", 200));
	ASSERT_EQ_INT((int)healthz(d), 200);
	char *before = db_dump_data(d->db_path);

	ASSERT_EQ_INT(set_fsize(d->pid, 4096), 0);
	/* a complete, a measurement, a new study: each refused the same way */
	const char *paths[] = {"/v1/owners/t/studies/full/trials/1:complete",
	                       "/v1/owners/t/studies/full/trials/2:addTrialMeasurement",
	                       "/v1/owners/t/studies"};
	const char *bodies[] = {
	    COMPLETE_BODY, "{\"measurement\":{\"metrics\":[{\"metricId\":\"acc\",\"value\":1}]}}",
	    "{\"displayName\":\"other\",\"studySpec\":" SPEC_RANDOM "}"};
	for (int i = 0; i < 3; i++) {
		struct reply r;
		ASSERT_EQ_INT(http_call(d, "POST", paths[i], bodies[i], NULL, &r), 0);
		ASSERT_EQ_INT((int)r.status, 503);
		ASSERT_EQ_STR(reply_status_name(&r), "UNAVAILABLE");
		ASSERT_TRUE(strtol(r.retry_after, NULL, 10) > 0);
		const char *m = reply_message(&r);
		ASSERT_TRUE(strstr(m, "disk is full") || strstr(m, "I/O error"));
		EXPECT_IN(m, "nothing was saved");
		no_sqlite_text(m);
		reply_free(&r);
	}
	/* not ready while writes fail, however often it is asked */
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ_INT((int)healthz(d), 503);
		usleep(400 * 1000);
	}
	/* reads still work, and nothing changed */
	json_t *t = CALL(d, "GET", "/v1/owners/t/studies/full/trials/1", NULL, 200);
	ASSERT_EQ_STR(jstr(t, "state"), "ACTIVE");
	json_decref(t);
	char *during = db_dump_data(d->db_path);
	ASSERT_TRUE(before && during && strcmp(before, during) == 0);

	/* space comes back: ready again by itself, then the same call works */
	ASSERT_EQ_INT(set_fsize(d->pid, RLIM_INFINITY), 0);
	long st = 0;
	for (int i = 0; i < 50 && st != 200; i++) {
		st = healthz(d);
		if (st != 200)
			usleep(100 * 1000);
	}
	ASSERT_EQ_INT((int)st, 200);
	t = CALL(d, "POST", "/v1/owners/t/studies/full/trials/1:complete", COMPLETE_BODY, 200);
	ASSERT_EQ_STR(jstr(t, "state"), "SUCCEEDED");
	json_decref(t);
	free(before);
	free(during);
}

static off_t wal_size(struct daemon *d)
{
	char wal[600];
	struct stat sb;
	snprintf(wal, sizeof(wal), "%s-wal", d->db_path);
	return stat(wal, &sb) == 0 ? sb.st_size : 0;
}

/* The writes of a killed daemon stay in the WAL; the next start copies
 * them into the database and truncates the log before it serves. */
static void test_restart_truncates(struct daemon *d)
{
	create_study(d, "big", SPEC_RANDOM);
	for (int i = 0; i < 20; i++) {
		char who[16];
		snprintf(who, sizeof(who), "w%d", i);
		json_decref(suggest(d, "big", 5, who, 200));
	}
	ASSERT_TRUE(wal_size(d) > 0);
	ASSERT_EQ_INT(daemon_kill(d), 0);
	ASSERT_TRUE(wal_size(d) > 0);
	ASSERT_EQ_INT(daemon_restart(d, NULL), 0);
	ASSERT_EQ_INT((int)wal_size(d), 0);
	json_t *l = CALL(d, "GET", "/v1/owners/t/studies/big/trials?pageSize=1000", NULL, 200);
	ASSERT_EQ_INT((int)json_array_size(json_object_get(l, "trials")), 100);
	json_decref(l);
}

/* Makes path unwritable even for root (the immutable attribute; as
 * another user a plain chmod does), or undoes it. 0, or -1 when neither
 * works here. */
static int set_unwritable(const char *path, int on)
{
	int fd = open(path, O_RDONLY);
	int flags = 0, rc = -1;
	if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
		rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	if (fd >= 0)
		close(fd);
	if (rc != 0 && geteuid() != 0)
		rc = chmod(path, on ? 0444 : 0644);
	return rc;
}

static void test_read_only(void)
{
	struct daemon *a = daemon_start(NULL);
	ASSERT_TRUE(a != NULL);
	if (!a)
		return;
	create_owner(a, "t");
	create_study(a, "ro", SPEC_RANDOM);
	char path[600], dir[300];
	snprintf(path, sizeof(path), "%s", a->db_path);
	snprintf(dir, sizeof(dir), "%s", a->dir);
	a->keep_dir = 1;
	ASSERT_EQ_INT(daemon_stop(a), 0);
	if (set_unwritable(path, 1) != 0) {
		fprintf(stderr, "test_read_only: cannot make a file unwritable here; skipped\n");
	} else {
		struct daemon_opts o = {.db_path = path};
		struct daemon *d = daemon_start(&o);
		ASSERT_TRUE(d != NULL);
		if (d) {
			ASSERT_EQ_INT((int)healthz(d), 503);
			json_t *s = CALL(d, "GET", "/v1/owners/t/studies/ro", NULL, 200);
			json_decref(s);
			struct reply r;
			ASSERT_EQ_INT(http_call(d, "POST", "/v1/owners/t/studies/ro/trials:suggest",
			                        "{\"suggestionCount\":1,\"clientId\":\"w\"}", NULL,
			                        &r),
			              0);
			ASSERT_EQ_INT((int)r.status, 503);
			EXPECT_IN(reply_message(&r), "cannot be written");
			no_sqlite_text(reply_message(&r));
			reply_free(&r);
			ASSERT_EQ_INT((int)healthz(d), 503);
			ASSERT_EQ_INT(daemon_stop(d), 0);
		}
		set_unwritable(path, 0);
	}
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ_INT(system(cmd), 0);
}

int main(void)
{
	struct daemon *d = daemon_start(NULL);
	ASSERT_TRUE(d != NULL);
	if (!d)
		return test_done("api-diskfull");
	create_owner(d, "t");
	test_full_disk(d);
	test_restart_truncates(d);
	ASSERT_EQ_INT(daemon_stop(d), 0);
	test_read_only();
	return test_done("api-diskfull");
}
