/* store_perf: measures the store on a real file (not part of the build; the
 * figures in docs/storage.md come from it). Build and run from the root:
 *
 *   ninja -C build-store server/libsibyld.a migrations/libmigrations.a
 *   cc -O2 -Iserver tools/store_perf.c build-store/server/libsibyld.a \
 *      build-store/migrations/libmigrations.a -lsqlite3 -ljansson -lpthread -lm \
 *      -o /tmp/store_perf && /tmp/store_perf /tmp/perf.db 100000
 *
 * Prints: commit rate of one-trial transactions with synchronous FULL and
 * NORMAL, bulk insert rate, open time of the N-trial database (clean and
 * after a crash left a WAL), and read latencies. */
#include "store_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what, const struct err *e)
{
	fprintf(stderr, "store_perf: %s: %s\n", what, e->msg);
	exit(1);
}

static void rm_db(const char *p)
{
	char b[1024];
	const char *suf[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(b, sizeof(b), "%s%s", p, suf[i]);
		remove(b);
	}
}

static const char *params = "[{\"parameterId\":\"lr\",\"value\":0.0012345},"
                            "{\"parameterId\":\"layers\",\"value\":4},"
                            "{\"parameterId\":\"opt\",\"value\":\"adam\"}]";
static const char *final = "{\"stepCount\":\"100\",\"metrics\":[{\"metricId\":\"acc\","
                           "\"value\":0.91234}]}";

/* n one-trial transactions; returns commits per second. */
static double commit_rate(struct store *st, int64_t study, int n, const char *sync)
{
	struct err e;
	char pragma[64];
	snprintf(pragma, sizeof(pragma), "PRAGMA synchronous=%s", sync);
	sqlite3_exec(st->writer->db, pragma, NULL, NULL, NULL);
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		struct store_conn *w = store_write_begin(st, &e);
		if (!w)
			die("begin", &e);
		struct store_trial t = {.study_rowid = study,
		                        .state = TRIAL_SUCCEEDED,
		                        .params_json = (char *)params,
		                        .final_json = (char *) final};
		if (store_trial_insert(w, &t, &e) || store_write_commit(w, &e))
			die("insert", &e);
	}
	double dt = now_s() - t0;
	sqlite3_exec(st->writer->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	return n / dt;
}

struct committer {
	struct store *st;
	int64_t study;
	int n;
};

static void *commit_loop(void *arg)
{
	struct committer *c = arg;
	struct err e;
	for (int i = 0; i < c->n; i++) {
		struct store_conn *w = store_write_begin(c->st, &e);
		if (!w)
			die("begin", &e);
		struct store_trial t = {.study_rowid = c->study,
		                        .state = TRIAL_SUCCEEDED,
		                        .params_json = (char *)params,
		                        .final_json = (char *) final};
		if (store_trial_insert(w, &t, &e) || store_write_commit(w, &e))
			die("insert", &e);
	}
	return NULL;
}

/* threads writers, each committing n one-trial transactions. */
static double concurrent_rate(struct store *st, int64_t study, int threads, int n)
{
	pthread_t th[256];
	struct committer c = {st, study, n};
	double t0 = now_s();
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, commit_loop, &c);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	return threads * n / (now_s() - t0);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/tmp/store_perf.db";
	int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 100000;
	struct err e;
	rm_db(path);
	struct store *st = store_open(path, &e);
	if (!st)
		die("open", &e);
	struct store_conn *w = store_write_begin(st, &e);
	struct store_study s = {0};
	if (store_owner_ensure(w, "team", 1, &e) ||
	    store_study_insert(w, "team", "big", "{}", 1, &s, &e) || store_write_commit(w, &e))
		die("study", &e);
	int64_t sr = s.rowid;
	store_study_clear(&s);

	printf("commit rate, one trial per transaction, synchronous=FULL:   %8.0f/s\n",
	       commit_rate(st, sr, 2000, "FULL"));
	printf("commit rate, one trial per transaction, synchronous=NORMAL: %8.0f/s\n",
	       commit_rate(st, sr, 2000, "NORMAL"));

	int counts_[] = {4, 16, 64};
	for (int k = 0; k < 3; k++)
		printf("commit rate, %2d threads, synchronous=FULL, group commit:    %8.0f/s\n",
		       counts_[k], concurrent_rate(st, sr, counts_[k], 2000 / counts_[k]));

	/* the big study: n trials, most SUCCEEDED with a measurement, some
	 * ACTIVE with a client and a lease */
	double t0 = now_s();
	int done = 4000 + 2000 / 4 * 4 + 2000 / 16 * 16 + 2000 / 64 * 64, first = done;
	while (done < n) {
		w = store_write_begin(st, &e);
		for (int i = 0; i < 1000 && done < n; i++, done++) {
			char client[32];
			int active = done % 100 == 0;
			snprintf(client, sizeof(client), "w%d", done % 256);
			struct store_trial t = {.study_rowid = sr,
			                        .state = active ? TRIAL_ACTIVE : TRIAL_SUCCEEDED,
			                        .params_json = (char *)params,
			                        .final_json = active ? NULL : (char *) final,
			                        .client_id = active ? client : NULL,
			                        .lease_expiry = active ? 1000 + done : 0};
			if (store_trial_insert(w, &t, &e) ||
			    store_measurement_add(w, sr, t.id, final, -1, &e))
				die("bulk", &e);
		}
		if (store_write_commit(w, &e))
			die("commit", &e);
	}
	double dt = now_s() - t0;
	printf("bulk insert (1000 trials + measurements per tx):          %8.0f trials/s\n",
	       (n - first) / dt);
	store_close(st);

	t0 = now_s();
	st = store_open(path, &e);
	if (!st)
		die("reopen", &e);
	printf("open of a %d-trial database (clean close):            %8.1f ms\n", n,
	       (now_s() - t0) * 1e3);

	/* reads */
	struct store_conn *r = store_read(st, &e);
	struct store_trial t = {0}, *a;
	size_t cnt;
	int64_t c, counts[6];
	int reps = 200;
	t0 = now_s();
	for (int i = 0; i < reps; i++) {
		store_trial_get(r, sr, 1 + (i * 7919) % n, &t, &e);
		store_trial_clear(&t);
	}
	printf("get trial:                                               %8.1f us\n",
	       (now_s() - t0) * 1e6 / reps);
	struct {
		const char *name;
		unsigned mask;
		int64_t after;
	} lists[] = {
	    {"list page of 100, no filter, from the end", 0, n - 1000},
	    {"list page of 100, state=SUCCEEDED, middle", 1u << TRIAL_SUCCEEDED, n / 2},
	    {"list page of 100, state=ACTIVE, from start", 1u << TRIAL_ACTIVE, 0},
	    {"list page of 100, ACTIVE|STOPPING, from start",
	     (1u << TRIAL_ACTIVE) | (1u << TRIAL_STOPPING), 0},
	};
	for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
		t0 = now_s();
		for (int i = 0; i < 20; i++) {
			store_trial_list(r, sr, lists[k].mask, lists[k].after, 100, &a, &cnt, &e);
			store_trials_free(a, cnt);
		}
		printf("%-56s %8.2f ms\n", lists[k].name, (now_s() - t0) * 1e3 / 20);
	}
	t0 = now_s();
	store_trial_list(r, sr, (1u << TRIAL_SUCCEEDED) | (1u << TRIAL_INFEASIBLE), 0, 0, &a, &cnt,
	                 &e);
	store_trials_free(a, cnt);
	printf("list all completed (%zu trials)                        %8.1f ms\n", cnt,
	       (now_s() - t0) * 1e3);
	t0 = now_s();
	for (int i = 0; i < 20; i++)
		store_trial_count(r, sr, 1u << TRIAL_ACTIVE, &c, &e);
	printf("count ACTIVE (%lld):                                     %8.2f ms\n", (long long)c,
	       (now_s() - t0) * 1e3 / 20);
	t0 = now_s();
	for (int i = 0; i < 20; i++)
		store_trial_list_by_client(r, sr, "w100", &a, &cnt, &e), store_trials_free(a, cnt);
	printf("trials of one client:                                    %8.2f ms\n",
	       (now_s() - t0) * 1e3 / 20);
	t0 = now_s();
	store_count_trials_by_state(r, counts, &e);
	printf("count trials by state (/metrics):                        %8.1f ms\n",
	       (now_s() - t0) * 1e3);
	store_release(r);
	w = store_write_begin(st, &e);
	t0 = now_s();
	store_trial_expire_leases(w, sr, 1000 + n / 2, &c, &e);
	printf("expire leases (%lld of them):                            %8.2f ms\n", (long long)c,
	       (now_s() - t0) * 1e3);
	store_write_rollback(w);
	store_close(st);

	/* a crash: a child writes and dies without closing, leaving a WAL */
	pid_t pid = fork();
	if (pid == 0) {
		struct store *cs = store_open(path, &e);
		for (int i = 0; cs && i < 900; i++) {
			struct store_conn *cw = store_write_begin(cs, &e);
			struct store_trial ct = {.study_rowid = sr,
			                         .state = TRIAL_REQUESTED,
			                         .params_json = (char *)params};
			store_trial_insert(cw, &ct, &e);
			store_write_commit(cw, &e);
		}
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	t0 = now_s();
	st = store_open(path, &e);
	if (!st)
		die("open after crash", &e);
	printf("open after a crash (WAL left behind):                    %8.1f ms\n",
	       (now_s() - t0) * 1e3);
	r = store_read(st, &e);
	store_trial_count(r, sr, 0, &c, &e);
	store_release(r);
	printf("trials after the crash: %lld (want %d)\n", (long long)c, n + 900);
	store_close(st);
	return 0;
}
