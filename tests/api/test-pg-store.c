/* test-pg-store: the store contract (store.h) of the PostgreSQL backend,
 * called directly, with two stores on one database standing for two
 * daemons (run as pg-store by pgcluster.sh):
 * - trial ids are never handed out again, whichever store deletes;
 * - the trial change counter moves with every insert, delete and change of
 *   state, parameters, final measurement, client, completion or end time
 *   made by either store, and not with a lease, a measurement or metadata;
 *   store_trial_changed lists exactly the trials changed;
 * - a read keeps one snapshot until released;
 * - store_lock_study, store_lock_owner and store_plan_lock exclude each
 *   other across the two stores for one study or owner, and never block
 *   another. */
#include <pthread.h>
#include <unistd.h>

#include "apitest.h"
#include "store.h"

static struct store *open_store(const char *url)
{
	struct err e = {0};
	struct store *st = store_open(url, &e);
	if (!st)
		fprintf(stderr, "store_open: %s\n", e.msg);
	return st;
}

static int64_t new_trial(struct store *st, int64_t study)
{
	struct err e = {0};
	struct store_trial t = {.study_rowid = study,
	                        .state = TRIAL_ACTIVE,
	                        .params_json = "[{\"parameterId\":\"x\",\"value\":1}]",
	                        .client_id = "c"};
	struct store_conn *w = store_write_begin(st, &e);
	ASSERT_TRUE(w != NULL);
	if (!w)
		return -1;
	ASSERT_EQ_INT(store_trial_insert(w, &t, &e), 0);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	return t.id;
}

static void counter(struct store *st, int64_t study, int64_t *seq, int64_t *deletes)
{
	struct err e = {0};
	struct store_conn *c = store_read(st, &e);
	ASSERT_TRUE(c != NULL);
	if (c)
		ASSERT_EQ_INT(store_trial_seq(c, study, seq, deletes, &e), 0);
	store_release(c);
}

/* Runs one change of trial id on st and commits. */
enum change { LEASE, MEASURE, METADATA, STATE, FINAL, CLIENT, DELETE };

static void change(struct store *st, int64_t study, int64_t id, enum change what)
{
	struct err e = {0};
	struct store_conn *w = store_write_begin(st, &e);
	struct store_trial t = {0};
	ASSERT_TRUE(w != NULL);
	if (!w)
		return;
	ASSERT_EQ_INT(store_trial_get(w, study, id, &t, &e), 0);
	switch (what) {
	case LEASE:
		ASSERT_EQ_INT(store_trial_set_lease(w, study, id, 99999, &e), 0);
		break;
	case MEASURE:
		ASSERT_EQ_INT(store_measurement_add(w, study, id, "{\"stepCount\":\"1\"}", -1, &e),
		              0);
		break;
	case METADATA:
		ASSERT_EQ_INT(store_trial_set_metadata(w, study, id, "{\"k\":\"v\"}", &e), 0);
		break;
	case STATE:
		t.state = TRIAL_STOPPING;
		ASSERT_EQ_INT(store_trial_update(w, &t, &e), 0);
		break;
	case FINAL:
		t.state = TRIAL_SUCCEEDED;
		free(t.final_json);
		t.final_json = strdup("{\"metrics\":[]}");
		t.end_time = 5;
		ASSERT_EQ_INT(store_trial_finish(w, &t, &e), 0);
		break;
	case CLIENT:
		free(t.client_id);
		t.client_id = strdup("other");
		ASSERT_EQ_INT(store_trial_update(w, &t, &e), 0);
		break;
	case DELETE:
		ASSERT_EQ_INT(store_trial_delete(w, study, id, &e), 0);
		break;
	}
	store_trial_clear(&t);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);
}

static int collect_id(void *ctx, const struct store_hist_row *r)
{
	int64_t *ids = ctx;
	ids[++ids[0]] = r->id;
	return 0;
}

static void test_ids_and_counter(struct store *a, struct store *b, int64_t study)
{
	int64_t t1 = new_trial(a, study), t2 = new_trial(b, study), t3 = new_trial(a, study);
	ASSERT_EQ_INT(t1, 1);
	ASSERT_EQ_INT(t2, 2);
	ASSERT_EQ_INT(t3, 3);
	change(b, study, t3, DELETE);
	ASSERT_EQ_INT(new_trial(a, study), 4); /* 3 is never handed out again */

	int64_t seq, del, s2, d2;
	counter(b, study, &seq, &del);
	ASSERT_EQ_INT(del, 1);
	/* Not the history: no move. */
	change(a, study, t1, LEASE);
	change(b, study, t1, MEASURE);
	change(a, study, t1, METADATA);
	counter(b, study, &s2, &d2);
	ASSERT_EQ_INT(s2, seq);
	/* The history: one move each, whoever writes. */
	change(a, study, t1, STATE);
	counter(b, study, &s2, &d2);
	ASSERT_EQ_INT(s2, seq + 1);
	change(b, study, t2, CLIENT);
	counter(a, study, &s2, &d2);
	ASSERT_EQ_INT(s2, seq + 2);
	change(a, study, t2, FINAL);
	counter(b, study, &s2, &d2);
	ASSERT_EQ_INT(s2, seq + 3);
	/* Exactly trials 1 and 2 changed since seq. */
	struct err e = {0};
	int64_t ids[16] = {0};
	struct store_conn *c = store_read(b, &e);
	ASSERT_EQ_INT(store_trial_changed(c, study, seq, collect_id, ids, &e), 0);
	store_release(c);
	ASSERT_EQ_INT(ids[0], 2);
	ASSERT_TRUE((ids[1] == 1 && ids[2] == 2) || (ids[1] == 2 && ids[2] == 1));
	change(b, study, 4, DELETE);
	counter(a, study, &s2, &d2);
	ASSERT_EQ_INT(s2, seq + 4);
	ASSERT_EQ_INT(d2, 2);
}

static void test_snapshot(struct store *a, struct store *b, int64_t study)
{
	struct err e = {0};
	int64_t before, during, after;
	struct store_conn *r = store_read(b, &e);
	ASSERT_EQ_INT(store_trial_count(r, study, 0, &before, &e), 0);
	new_trial(a, study);
	ASSERT_EQ_INT(store_trial_count(r, study, 0, &during, &e), 0);
	store_release(r);
	r = store_read(b, &e);
	ASSERT_EQ_INT(store_trial_count(r, study, 0, &after, &e), 0);
	store_release(r);
	ASSERT_EQ_INT(during, before);
	ASSERT_EQ_INT(after, before + 1);
}

/* ---- the sections ---- */

enum section { STUDY, OWNER, PLAN };

struct holder {
	struct store *st;
	enum section kind;
	int64_t study;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int holding, let_go, released;
};

static int take(struct store *st, enum section kind, int64_t study, struct store_conn **w,
                struct store_section **sec)
{
	struct err e = {0};
	if (kind == PLAN)
		return store_plan_lock(st, study, sec, &e);
	*w = store_write_begin(st, &e);
	if (!*w)
		return -1;
	return kind == STUDY ? store_lock_study(*w, study, &e)
	                     : store_lock_owner(*w, study == 1 ? "o" : "p", &e);
}

static void give_back(struct store_conn *w, struct store_section *sec)
{
	struct err e = {0};
	if (w)
		ASSERT_EQ_INT(store_write_commit(w, &e), 0);
	store_plan_unlock(sec);
}

/* Holds the section until told to let go (at most 10 s). */
static void *hold(void *arg)
{
	struct holder *h = arg;
	struct store_conn *w = NULL;
	struct store_section *sec = NULL;
	ASSERT_EQ_INT(take(h->st, h->kind, h->study, &w, &sec), 0); /* study: the key */
	pthread_mutex_lock(&h->mu);
	h->holding = 1;
	pthread_cond_broadcast(&h->cv);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	while (!h->let_go && pthread_cond_timedwait(&h->cv, &h->mu, &until) == 0)
		;
	pthread_mutex_unlock(&h->mu);
	give_back(w, sec);
	pthread_mutex_lock(&h->mu);
	h->released = 1;
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

struct taker {
	struct store *st;
	enum section kind;
	int64_t key;
	volatile int got;
};

/* Takes the section (waiting as long as it must), notes it, gives it back. */
static void *taker(void *arg)
{
	struct taker *t = arg;
	struct store_conn *w = NULL;
	struct store_section *sec = NULL;
	ASSERT_EQ_INT(take(t->st, t->kind, t->key, &w, &sec), 0);
	__atomic_store_n(&t->got, 1, __ATOMIC_SEQ_CST);
	give_back(w, sec);
	return NULL;
}

/* a holds the section of key 1; b takes key 2 while a still holds (never
 * blocked by another), and waits for key 1 until a lets go. */
static void test_section(struct store *a, struct store *b, enum section kind, int64_t s1,
                         int64_t s2)
{
	int64_t k1 = kind == OWNER ? 1 : s1, k2 = kind == OWNER ? 2 : s2;
	struct holder h = {.st = a, .kind = kind, .study = k1};
	pthread_mutex_init(&h.mu, NULL);
	pthread_cond_init(&h.cv, NULL);
	pthread_t th, tt;
	pthread_create(&th, NULL, hold, &h);
	pthread_mutex_lock(&h.mu);
	while (!h.holding)
		pthread_cond_wait(&h.cv, &h.mu);
	pthread_mutex_unlock(&h.mu);

	struct store_conn *w = NULL;
	struct store_section *sec = NULL;
	ASSERT_EQ_INT(take(b, kind, k2, &w, &sec), 0);
	pthread_mutex_lock(&h.mu);
	ASSERT_EQ_INT(h.released, 0); /* the other key did not wait for a */
	pthread_mutex_unlock(&h.mu);
	give_back(w, sec);

	struct taker t = {b, kind, k1, 0};
	pthread_create(&tt, NULL, taker, &t);
	usleep(300000);
	ASSERT_EQ_INT(__atomic_load_n(&t.got, __ATOMIC_SEQ_CST), 0); /* waits for a */
	pthread_mutex_lock(&h.mu);
	h.let_go = 1;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.mu);
	pthread_join(th, NULL);
	pthread_join(tt, NULL);
	ASSERT_EQ_INT(t.got, 1);
	pthread_mutex_destroy(&h.mu);
	pthread_cond_destroy(&h.cv);
}

int main(void)
{
	char url[512];
	if (!getenv("SIBYL_TEST_PG") || harness_pg_fresh(url, sizeof(url)) != 0) {
		fprintf(stderr,
		        "pg-store: run by tests/common/pgcluster.sh run (meson: pg-store)\n");
		return 77;
	}
	struct store *a = open_store(url), *b = open_store(url);
	ASSERT_TRUE(a && b);
	if (!a || !b)
		return test_done("pg-store");
	struct err e = {0};
	struct store_study s1 = {0}, s2 = {0};
	struct store_conn *w = store_write_begin(a, &e);
	ASSERT_EQ_INT(store_owner_ensure(w, "o", 1, &e), 0);
	ASSERT_EQ_INT(store_study_insert(w, "o", "one", "{}", 1, &s1, &e), 0);
	ASSERT_EQ_INT(store_study_insert(w, "o", "two", "{}", 1, &s2, &e), 0);
	ASSERT_EQ_INT(store_write_commit(w, &e), 0);

	test_ids_and_counter(a, b, s1.rowid);
	test_snapshot(a, b, s1.rowid);
	test_section(a, b, STUDY, s1.rowid, s2.rowid);
	test_section(a, b, OWNER, 1, 2);
	test_section(a, b, PLAN, s1.rowid, s2.rowid);

	store_study_clear(&s1);
	store_study_clear(&s2);
	store_close(a);
	store_close(b);
	return test_done("pg-store");
}
