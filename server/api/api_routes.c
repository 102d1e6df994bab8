/* api_routes: the table of every /v1 route and method (api_routes.h).
 * Read it as the list of the API; the order is the order of docs/API.md. */
#include "api_routes.h"

#include <string.h>

#include "api_internal.h"
#include "api_query.h"
#include "http.h"

#define STUDIES  "/v1/owners/{owner}/studies"
#define STUDY    STUDIES "/{study}"
#define TRIALS   STUDY "/trials"
#define TRIAL    TRIALS "/{trial}"
#define OWNER    "/v1/owners/{owner}"
#define API_KEYS OWNER "/apiKeys"

#define LIST    (API_Q_PAGE_SIZE | API_Q_PAGE_TOKEN)
#define AUDITED API_ROUTE_AUDITED
#define GENERAL HTTP_POOL_GENERAL

/* method, pattern, kind, verb, label,
 *     handler, permission, flags, query parameters, pool */
const struct api_route api_routes[] = {
    /* studies (api_studies.c, api_importance.c) */
    {"GET", STUDIES, ROUTE_STUDIES, VERB_NONE, "studies.list", //
     api_studies_list, AUTH_READ, 0, LIST, GENERAL},
    {"POST", STUDIES, ROUTE_STUDIES, VERB_NONE, "studies.create", //
     api_studies_create, AUTH_WRITE, AUDITED, 0, GENERAL},
    /* a custom method that only reads, POST as in Vizier */
    {"POST", STUDIES ":lookup", ROUTE_STUDIES_LOOKUP, VERB_NONE, "studies.lookup", //
     api_studies_lookup, AUTH_READ, AUDITED, 0, GENERAL},
    {"GET", STUDY, ROUTE_STUDY, VERB_NONE, "studies.get", //
     api_studies_get, AUTH_READ, 0, 0, GENERAL},
    {"PATCH", STUDY, ROUTE_STUDY, VERB_NONE, "studies.patch", //
     api_studies_patch, AUTH_WRITE, AUDITED, API_Q_UPDATE_MASK, GENERAL},
    {"DELETE", STUDY, ROUTE_STUDY, VERB_NONE, "studies.delete", //
     api_studies_delete, AUTH_WRITE, AUDITED, 0, GENERAL},
    {"GET", STUDY ":importance", ROUTE_STUDY_IMPORTANCE, VERB_NONE, "studies.importance", //
     api_studies_importance, AUTH_READ, 0, API_Q_METRIC_ID, GENERAL},

    /* trials (api_trials.c) */
    {"GET", TRIALS, ROUTE_TRIALS, VERB_NONE, "trials.list", //
     api_trials_list, AUTH_READ, 0, LIST | API_Q_FILTER | API_Q_ALT, GENERAL},
    {"POST", TRIALS, ROUTE_TRIALS, VERB_NONE, "trials.create", //
     api_trials_create, AUTH_WRITE, AUDITED, 0, GENERAL},
    {"POST", TRIALS ":suggest", ROUTE_TRIALS_SUGGEST, VERB_NONE, "trials.suggest", //
     api_trials_suggest, AUTH_WRITE, AUDITED, 0, HTTP_POOL_SUGGEST},
    {"POST", TRIALS ":listOptimalTrials", ROUTE_TRIALS_OPTIMAL, VERB_NONE,
     "trials.listOptimalTrials", //
     api_trials_optimal, AUTH_READ, AUDITED, 0, GENERAL},
    {"GET", TRIAL, ROUTE_TRIAL, VERB_NONE, "trials.get", //
     api_trials_get, AUTH_READ, API_ROUTE_HEARTBEAT, API_Q_CLIENT_ID, GENERAL},
    {"PATCH", TRIAL, ROUTE_TRIAL, VERB_NONE, "trials.patch", //
     api_trials_patch, AUTH_WRITE, AUDITED, API_Q_UPDATE_MASK, GENERAL},
    {"DELETE", TRIAL, ROUTE_TRIAL, VERB_NONE, "trials.delete", //
     api_trials_delete, AUTH_WRITE, AUDITED, 0, GENERAL},
    {"POST", TRIAL ":addTrialMeasurement", ROUTE_TRIAL_VERB, VERB_ADD_MEASUREMENT,
     "trials.addTrialMeasurement", //
     api_trials_add_measurement, AUTH_WRITE, AUDITED, 0, GENERAL},
    {"POST", TRIAL ":complete", ROUTE_TRIAL_VERB, VERB_COMPLETE, "trials.complete", //
     api_trials_complete, AUTH_WRITE, AUDITED, 0, GENERAL},
    {"POST", TRIAL ":checkTrialEarlyStoppingState", ROUTE_TRIAL_VERB, VERB_CHECK_EARLY_STOPPING,
     "trials.checkTrialEarlyStoppingState", //
     api_trials_check_early_stopping, AUTH_WRITE, AUDITED, 0, GENERAL},
    {"POST", TRIAL ":stop", ROUTE_TRIAL_VERB, VERB_STOP, "trials.stop", //
     api_trials_stop, AUTH_WRITE, AUDITED, 0, GENERAL},

    /* operations (api_operations.c) */
    {"GET", STUDY "/operations/{operation}", ROUTE_OPERATION, VERB_NONE, "operations.get", //
     api_operations_get, AUTH_READ, 0, 0, GENERAL},

    /* owners, their API keys, the audit log (api_owners.c) */
    {"GET", "/v1/owners", ROUTE_OWNERS, VERB_NONE, "owners.list", //
     api_owners_list, AUTH_ADMIN_ONLY, AUDITED, LIST, GENERAL},
    {"POST", "/v1/owners", ROUTE_OWNERS, VERB_NONE, "owners.create", //
     api_owners_create, AUTH_ADMIN_ONLY, AUDITED, 0, GENERAL},
    /* an owner's own keys may read it (its quotas); changing it is the admin's */
    {"GET", OWNER, ROUTE_OWNER, VERB_NONE, "owners.get", //
     api_owners_get, AUTH_READ, AUDITED, 0, GENERAL},
    {"PATCH", OWNER, ROUTE_OWNER, VERB_NONE, "owners.patch", //
     api_owners_patch, AUTH_ADMIN_ONLY, AUDITED, API_Q_UPDATE_MASK, GENERAL},
    {"DELETE", OWNER, ROUTE_OWNER, VERB_NONE, "owners.delete", //
     api_owners_delete, AUTH_ADMIN_ONLY, AUDITED, API_Q_FORCE, GENERAL},
    {"GET", API_KEYS, ROUTE_API_KEYS, VERB_NONE, "apiKeys.list", //
     api_keys_list, AUTH_MANAGE_KEYS, AUDITED, LIST, GENERAL},
    {"POST", API_KEYS, ROUTE_API_KEYS, VERB_NONE, "apiKeys.create", //
     api_keys_create, AUTH_MANAGE_KEYS, AUDITED, 0, GENERAL},
    {"GET", API_KEYS "/{key}", ROUTE_API_KEY, VERB_NONE, "apiKeys.get", //
     api_keys_get, AUTH_MANAGE_KEYS, AUDITED, 0, GENERAL},
    {"DELETE", API_KEYS "/{key}", ROUTE_API_KEY, VERB_NONE, "apiKeys.delete", //
     api_keys_delete, AUTH_MANAGE_KEYS, AUDITED, 0, GENERAL},
    {"GET", "/v1/auditLog", ROUTE_AUDIT_LOG, VERB_NONE, "auditLog.list", //
     api_audit_list, AUTH_ADMIN_ONLY, AUDITED, LIST | API_Q_FILTER, GENERAL},
};

const size_t api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);

const struct api_route *api_route_find(enum route_kind kind, enum route_verb verb,
                                       const char *method)
{
	for (size_t i = 0; i < api_routes_count; i++) {
		const struct api_route *x = &api_routes[i];
		if (x->kind == kind && x->verb == verb && strcmp(x->method, method) == 0)
			return x;
	}
	return NULL;
}

enum auth_action api_route_other_perm(enum route_kind kind, const char *method)
{
	enum auth_action get = AUTH_READ;
	if (strcmp(method, "GET") == 0)
		return AUTH_READ;
	for (size_t i = 0; i < api_routes_count; i++) {
		const struct api_route *x = &api_routes[i];
		if (x->kind != kind)
			continue;
		if (strcmp(x->method, "GET") != 0)
			return x->perm;
		get = x->perm;
	}
	return get > AUTH_WRITE ? get : AUTH_WRITE;
}

/* ---- route.h: the methods of a path and its labels, read from the table ---- */

static const char *const method_order[] = {"GET", "POST", "PATCH", "DELETE"};
#define N_METHODS (sizeof(method_order) / sizeof(method_order[0]))

/* Every list of methods, by the bits of method_order. */
static const char *const method_lists[1u << N_METHODS] = {
    "",
    "GET",
    "POST",
    "GET, POST",
    "PATCH",
    "GET, PATCH",
    "POST, PATCH",
    "GET, POST, PATCH",
    "DELETE",
    "GET, DELETE",
    "POST, DELETE",
    "GET, POST, DELETE",
    "PATCH, DELETE",
    "GET, PATCH, DELETE",
    "POST, PATCH, DELETE",
    "GET, POST, PATCH, DELETE",
};

const char *route_methods(enum route_kind k)
{
	unsigned bits = 0;
	for (size_t i = 0; i < api_routes_count; i++) {
		for (size_t m = 0; m < N_METHODS && api_routes[i].kind == k; m++) {
			if (strcmp(api_routes[i].method, method_order[m]) == 0)
				bits |= 1u << m;
		}
	}
	return method_lists[bits];
}

int route_allows(enum route_kind k, const char *method)
{
	for (size_t i = 0; i < api_routes_count; i++) {
		if (api_routes[i].kind == k && strcmp(api_routes[i].method, method) == 0)
			return 1;
	}
	return 0;
}

const char *route_label(const struct route *r, const char *method)
{
	const struct api_route *x = api_route_find(r->kind, r->verb, method);
	if (x)
		return x->label;
	return r->kind == ROUTE_NONE ? "unknown" : API_ROUTE_NOT_ALLOWED;
}
