/* api_routes: the route table holds exactly the calls the API had before
 * it (each with its permission, audit, label, query parameters and pool,
 * written out below as they were), every row is reachable through
 * route_parse from its pattern, labels are unique, and what the table
 * does not list (a method a path does not take) is checked and audited as
 * before, then refused. */
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "api_query.h"
#include "api_routes.h"
#include "http.h"
#include "test.h"

#define LIST (API_Q_PAGE_SIZE | API_Q_PAGE_TOKEN)
enum { NO, YES, HEARTBEAT };

static const struct want {
	enum route_kind kind;
	enum route_verb verb;
	const char *method, *label;
	enum auth_action perm;
	int audited; /* NO, YES, HEARTBEAT: with clientId only */
	unsigned query;
} want[] = {
    {ROUTE_STUDIES, VERB_NONE, "GET", "studies.list", AUTH_READ, NO, LIST},
    {ROUTE_STUDIES, VERB_NONE, "POST", "studies.create", AUTH_WRITE, YES, 0},
    {ROUTE_STUDIES_LOOKUP, VERB_NONE, "POST", "studies.lookup", AUTH_READ, YES, 0},
    {ROUTE_STUDY, VERB_NONE, "GET", "studies.get", AUTH_READ, NO, 0},
    {ROUTE_STUDY, VERB_NONE, "PATCH", "studies.patch", AUTH_WRITE, YES, API_Q_UPDATE_MASK},
    {ROUTE_STUDY, VERB_NONE, "DELETE", "studies.delete", AUTH_WRITE, YES, 0},
    {ROUTE_STUDY_IMPORTANCE, VERB_NONE, "GET", "studies.importance", AUTH_READ, NO,
     API_Q_METRIC_ID},
    {ROUTE_TRIALS, VERB_NONE, "GET", "trials.list", AUTH_READ, NO, LIST | API_Q_FILTER | API_Q_ALT},
    {ROUTE_TRIALS, VERB_NONE, "POST", "trials.create", AUTH_WRITE, YES, 0},
    {ROUTE_TRIALS_SUGGEST, VERB_NONE, "POST", "trials.suggest", AUTH_WRITE, YES, 0},
    {ROUTE_TRIALS_OPTIMAL, VERB_NONE, "POST", "trials.listOptimalTrials", AUTH_READ, YES, 0},
    {ROUTE_TRIAL, VERB_NONE, "GET", "trials.get", AUTH_READ, HEARTBEAT, API_Q_CLIENT_ID},
    {ROUTE_TRIAL, VERB_NONE, "PATCH", "trials.patch", AUTH_WRITE, YES, API_Q_UPDATE_MASK},
    {ROUTE_TRIAL, VERB_NONE, "DELETE", "trials.delete", AUTH_WRITE, YES, 0},
    {ROUTE_TRIAL_VERB, VERB_ADD_MEASUREMENT, "POST", "trials.addTrialMeasurement", AUTH_WRITE, YES,
     0},
    {ROUTE_TRIAL_VERB, VERB_COMPLETE, "POST", "trials.complete", AUTH_WRITE, YES, 0},
    {ROUTE_TRIAL_VERB, VERB_CHECK_EARLY_STOPPING, "POST", "trials.checkTrialEarlyStoppingState",
     AUTH_WRITE, YES, 0},
    {ROUTE_TRIAL_VERB, VERB_STOP, "POST", "trials.stop", AUTH_WRITE, YES, 0},
    {ROUTE_OPERATION, VERB_NONE, "GET", "operations.get", AUTH_READ, NO, 0},
    {ROUTE_OWNERS, VERB_NONE, "GET", "owners.list", AUTH_ADMIN_ONLY, YES, LIST},
    {ROUTE_OWNERS, VERB_NONE, "POST", "owners.create", AUTH_ADMIN_ONLY, YES, 0},
    {ROUTE_OWNER, VERB_NONE, "GET", "owners.get", AUTH_READ, YES, 0},
    {ROUTE_OWNER, VERB_NONE, "PATCH", "owners.patch", AUTH_ADMIN_ONLY, YES, API_Q_UPDATE_MASK},
    {ROUTE_OWNER, VERB_NONE, "DELETE", "owners.delete", AUTH_ADMIN_ONLY, YES, API_Q_FORCE},
    {ROUTE_API_KEYS, VERB_NONE, "GET", "apiKeys.list", AUTH_MANAGE_KEYS, YES, LIST},
    {ROUTE_API_KEYS, VERB_NONE, "POST", "apiKeys.create", AUTH_MANAGE_KEYS, YES, 0},
    {ROUTE_API_KEY, VERB_NONE, "GET", "apiKeys.get", AUTH_MANAGE_KEYS, YES, 0},
    {ROUTE_API_KEY, VERB_NONE, "DELETE", "apiKeys.delete", AUTH_MANAGE_KEYS, YES, 0},
    {ROUTE_AUDIT_LOG, VERB_NONE, "GET", "auditLog.list", AUTH_ADMIN_ONLY, YES, LIST | API_Q_FILTER},
};
#define N_WANT (sizeof(want) / sizeof(want[0]))

static const enum route_kind kinds[] = {
    ROUTE_STUDIES,        ROUTE_STUDIES_LOOKUP, ROUTE_STUDY,           ROUTE_TRIALS,
    ROUTE_TRIALS_SUGGEST, ROUTE_TRIALS_OPTIMAL, ROUTE_TRIAL,           ROUTE_TRIAL_VERB,
    ROUTE_OPERATION,      ROUTE_OWNERS,         ROUTE_OWNER,           ROUTE_API_KEYS,
    ROUTE_API_KEY,        ROUTE_AUDIT_LOG,      ROUTE_STUDY_IMPORTANCE};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

/* A route of kind k with owner o and study s (as route_parse fills it). */
static struct route route_of(enum route_kind k, enum route_verb v)
{
	struct route r = {.kind = k, .verb = v, .trial = 1, .op = 1};
	if (k != ROUTE_OWNERS && k != ROUTE_AUDIT_LOG)
		memcpy(r.owner, "o", 2);
	if (k == ROUTE_STUDY || k == ROUTE_TRIALS || k == ROUTE_TRIALS_SUGGEST ||
	    k == ROUTE_TRIALS_OPTIMAL || k == ROUTE_TRIAL || k == ROUTE_TRIAL_VERB ||
	    k == ROUTE_OPERATION || k == ROUTE_STUDY_IMPORTANCE)
		memcpy(r.study, "s", 2);
	return r;
}

/* Every call the API had is one row, with the same facts, and no other. */
static void test_rows_as_before(void)
{
	ASSERT_EQ_INT((int)api_routes_count, (int)N_WANT);
	for (size_t i = 0; i < N_WANT; i++) {
		const struct want *w = &want[i];
		const struct api_route *x = api_route_find(w->kind, w->verb, w->method);
		ASSERT_TRUE(x != NULL);
		if (!x) {
			fprintf(stderr, "  missing: %s\n", w->label);
			continue;
		}
		ASSERT_EQ_STR(x->label, w->label);
		ASSERT_EQ_INT(x->perm, w->perm);
		ASSERT_EQ_INT(!!(x->flags & API_ROUTE_AUDITED), w->audited == YES);
		ASSERT_EQ_INT(!!(x->flags & API_ROUTE_HEARTBEAT), w->audited == HEARTBEAT);
		ASSERT_EQ_INT(x->query, w->query);
		ASSERT_EQ_INT(api_query_takes(w->kind, w->method), w->query);
		ASSERT_EQ_INT(x->pool, w->kind == ROUTE_TRIALS_SUGGEST ? HTTP_POOL_SUGGEST
		                                                       : HTTP_POOL_GENERAL);
		ASSERT_TRUE(x->handler != NULL);
		ASSERT_TRUE(route_allows(w->kind, w->method));
		struct route r = route_of(w->kind, w->verb);
		ASSERT_EQ_STR(route_label(&r, w->method), w->label);
	}
}

/* pattern with its {placeholders} filled in: a path route_parse reads. */
static void fill(const char *pattern, char *buf, size_t cap)
{
	size_t o = 0;
	for (const char *p = pattern; *p && o + 2 < cap; p++) {
		if (*p != '{') {
			buf[o++] = *p;
			continue;
		}
		int num = strncmp(p, "{trial}", 7) == 0 || strncmp(p, "{operation}", 11) == 0;
		buf[o++] = num ? '7' : 'x';
		while (*p && *p != '}')
			p++;
	}
	buf[o] = '\0';
}

/* Each row's pattern routes to the row: every row is reachable. */
static void test_reachable(void)
{
	for (size_t i = 0; i < api_routes_count; i++) {
		const struct api_route *x = &api_routes[i];
		char path[512];
		struct route r;
		struct err e = {0};
		fill(x->pattern, path, sizeof(path));
		ASSERT_EQ_INT(route_parse(path, &r, &e), 0);
		ASSERT_EQ_INT(r.kind, x->kind);
		ASSERT_EQ_INT(r.verb, x->verb);
		ASSERT_TRUE(api_route_find(r.kind, r.verb, x->method) == x);
	}
}

static void test_unique(void)
{
	for (size_t i = 0; i < api_routes_count; i++) {
		for (size_t j = i + 1; j < api_routes_count; j++) {
			const struct api_route *a = &api_routes[i], *b = &api_routes[j];
			ASSERT_TRUE(strcmp(a->label, b->label) != 0);
			ASSERT_TRUE(a->kind != b->kind || a->verb != b->verb ||
			            strcmp(a->method, b->method) != 0);
		}
		ASSERT_TRUE(strcmp(api_routes[i].label, API_ROUTE_NOT_ALLOWED) != 0);
	}
}

/* The Allow lists of the 405 answers, as route_methods said them. */
static void test_methods(void)
{
	static const struct {
		enum route_kind k;
		const char *m;
	} lists[] = {
	    {ROUTE_STUDIES, "GET, POST"},
	    {ROUTE_STUDIES_LOOKUP, "POST"},
	    {ROUTE_STUDY, "GET, PATCH, DELETE"},
	    {ROUTE_TRIALS, "GET, POST"},
	    {ROUTE_TRIALS_SUGGEST, "POST"},
	    {ROUTE_TRIALS_OPTIMAL, "POST"},
	    {ROUTE_TRIAL, "GET, PATCH, DELETE"},
	    {ROUTE_TRIAL_VERB, "POST"},
	    {ROUTE_OPERATION, "GET"},
	    {ROUTE_OWNERS, "GET, POST"},
	    {ROUTE_OWNER, "GET, PATCH, DELETE"},
	    {ROUTE_API_KEYS, "GET, POST"},
	    {ROUTE_API_KEY, "GET, DELETE"},
	    {ROUTE_AUDIT_LOG, "GET"},
	    {ROUTE_STUDY_IMPORTANCE, "GET"},
	    {ROUTE_NONE, ""},
	};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		ASSERT_EQ_STR(route_methods(lists[i].k), lists[i].m);
	ASSERT_TRUE(!route_allows(ROUTE_STUDIES, "GE"));
	ASSERT_TRUE(!route_allows(ROUTE_STUDIES, ""));
	ASSERT_TRUE(!route_allows(ROUTE_NONE, "GET"));
}

/* What a method a path does not take was checked as before its 405. */
static enum auth_action old_other_perm(enum route_kind k, const char *method)
{
	int get = strcmp(method, "GET") == 0;
	switch (k) {
	case ROUTE_STUDIES_LOOKUP:
	case ROUTE_TRIALS_OPTIMAL:
		return AUTH_READ;
	case ROUTE_OWNERS:
	case ROUTE_AUDIT_LOG:
		return AUTH_ADMIN_ONLY;
	case ROUTE_OWNER:
		return get ? AUTH_READ : AUTH_ADMIN_ONLY;
	case ROUTE_API_KEYS:
	case ROUTE_API_KEY:
		return AUTH_MANAGE_KEYS;
	default:
		return get ? AUTH_READ : AUTH_WRITE;
	}
}

static void test_not_taken(void)
{
	static const char *const methods[] = {"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD"};
	int seen = 0;
	for (size_t i = 0; i < N_KINDS; i++) {
		enum route_kind k = kinds[i];
		enum route_verb v = k == ROUTE_TRIAL_VERB ? VERB_COMPLETE : VERB_NONE;
		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
			const char *meth = methods[m];
			if (api_route_find(k, v, meth))
				continue;
			seen++;
			ASSERT_TRUE(!route_allows(k, meth));
			ASSERT_EQ_INT(api_route_other_perm(k, meth), old_other_perm(k, meth));
			ASSERT_EQ_INT(api_query_takes(k, meth), 0);
			struct route r = route_of(k, v);
			ASSERT_EQ_STR(route_label(&r, meth), API_ROUTE_NOT_ALLOWED);
			/* audited: every write; a GET or HEAD as the path's GET is */
			int get = strcmp(meth, "GET") == 0 || strcmp(meth, "HEAD") == 0;
			int old = !get || k == ROUTE_OWNERS || k == ROUTE_OWNER ||
			          k == ROUTE_API_KEYS || k == ROUTE_API_KEY || k == ROUTE_AUDIT_LOG;
			ASSERT_EQ_INT(api_audited(&r, meth, NULL), old);
		}
	}
	ASSERT_EQ_INT(seen, (int)(N_KINDS * 6 - N_WANT + 3)); /* 4 verbs share one kind */
	ASSERT_EQ_INT(api_audited(NULL, "GET", NULL), 0);
	ASSERT_EQ_INT(api_audited(NULL, "POST", NULL), 1);
}

static struct auth_principal key(enum auth_role role, const char *owner)
{
	struct auth_principal p = {.role = role};
	snprintf(p.owner, sizeof(p.owner), "%s", owner);
	snprintf(p.keyid, sizeof(p.keyid), "0123456789abcdef");
	return p;
}

/* api_authorize reads the table: the answers a key gets. */
static void test_authorize(void)
{
	struct auth_principal reader = key(AUTH_ROLE_READER, "o");
	struct auth_principal writer = key(AUTH_ROLE_WRITER, "o");
	struct auth_principal other = key(AUTH_ROLE_WRITER, "p");
	struct err e = {0};
	struct api_query q = {0}, hb = {0};
	snprintf(hb.client_id, sizeof(hb.client_id), "w1");
	struct route trial = route_of(ROUTE_TRIAL, VERB_NONE);
	ASSERT_EQ_INT(api_authorize(&reader, &trial, "GET", &q, &e), 0);
	ASSERT_EQ_INT(api_audited(&trial, "GET", &q), 0);
	/* a heartbeat is a write */
	ASSERT_EQ_INT(api_authorize(&reader, &trial, "GET", &hb, &e), -ERR_PERMISSION_DENIED);
	ASSERT_TRUE(strstr(e.msg, "heartbeat") != NULL);
	ASSERT_EQ_INT(api_authorize(&writer, &trial, "GET", &hb, &e), 0);
	ASSERT_EQ_INT(api_audited(&trial, "GET", &hb), 1);
	ASSERT_EQ_INT(api_authorize(&reader, &trial, "DELETE", NULL, &e), -ERR_PERMISSION_DENIED);
	/* another owner's key is told the study was not found */
	ASSERT_EQ_INT(api_authorize(&other, &trial, "GET", &q, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_STR(e.msg, "study owners/o/studies/s not found");
	struct route studies = route_of(ROUTE_STUDIES, VERB_NONE);
	ASSERT_EQ_INT(api_authorize(&other, &studies, "GET", &q, &e), -ERR_NOT_FOUND);
	ASSERT_EQ_STR(e.msg, "owner owners/o not found");
	/* read-only custom methods are POSTs a READER may make */
	struct route lookup = route_of(ROUTE_STUDIES_LOOKUP, VERB_NONE);
	ASSERT_EQ_INT(api_authorize(&reader, &lookup, "POST", NULL, &e), 0);
	/* admin-only paths belong to no owner: denied, not "not found" */
	struct route owners = route_of(ROUTE_OWNERS, VERB_NONE);
	ASSERT_EQ_INT(api_authorize(&writer, &owners, "GET", &q, &e), -ERR_PERMISSION_DENIED);
	ASSERT_EQ_STR(e.msg, "only the admin key may do this");
	struct route owner = route_of(ROUTE_OWNER, VERB_NONE);
	ASSERT_EQ_INT(api_authorize(&reader, &owner, "GET", &q, &e), 0);
	ASSERT_EQ_INT(api_authorize(&writer, &owner, "PATCH", NULL, &e), -ERR_PERMISSION_DENIED);
	struct route keys = route_of(ROUTE_API_KEYS, VERB_NONE);
	ASSERT_EQ_INT(api_authorize(&reader, &keys, "GET", &q, &e), -ERR_PERMISSION_DENIED);
	ASSERT_EQ_INT(api_authorize(&writer, &keys, "GET", &q, &e), 0);
	/* a GET of :suggest (405 next) is a read, as it was */
	struct route suggest = route_of(ROUTE_TRIALS_SUGGEST, VERB_NONE);
	ASSERT_EQ_INT(api_authorize(&reader, &suggest, "GET", NULL, &e), 0);
	ASSERT_EQ_INT(api_authorize(&reader, &suggest, "POST", NULL, &e), -ERR_PERMISSION_DENIED);
}

int main(void)
{
	test_rows_as_before();
	test_reachable();
	test_unique();
	test_methods();
	test_not_taken();
	test_authorize();
	return test_done("unit-api_routes");
}
