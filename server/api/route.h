/* route: the raw URL path of a /v1 request -> which resource and
 * method. Pure string work, no allocation, so it can be fuzzed alone.
 *
 *   /v1/owners/{owner}/studies                       ROUTE_STUDIES
 *   /v1/owners/{owner}/studies:lookup                ROUTE_STUDIES_LOOKUP
 *   /v1/owners/{owner}/studies/{study}               ROUTE_STUDY
 *   .../studies/{study}/trials                       ROUTE_TRIALS
 *   .../studies/{study}/trials:suggest               ROUTE_TRIALS_SUGGEST
 *   .../studies/{study}/trials:listOptimalTrials     ROUTE_TRIALS_OPTIMAL
 *   .../studies/{study}/trials/{trial}               ROUTE_TRIAL
 *   .../studies/{study}/trials/{trial}:{verb}        ROUTE_TRIAL_VERB
 *   .../studies/{study}/operations/{operation}       ROUTE_OPERATION
 *   /v1/owners                                       ROUTE_OWNERS
 *   /v1/owners/{owner}                               ROUTE_OWNER
 *   /v1/owners/{owner}/apiKeys                       ROUTE_API_KEYS
 *   /v1/owners/{owner}/apiKeys/{key}                 ROUTE_API_KEY
 *   /v1/auditLog                                     ROUTE_AUDIT_LOG
 *   /v1/owners/{owner}/studies/{study}:importance    ROUTE_STUDY_IMPORTANCE
 */
#ifndef SIBYL_ROUTE_H
#define SIBYL_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum route_kind {
	ROUTE_NONE,
	ROUTE_STUDIES,
	ROUTE_STUDIES_LOOKUP,
	ROUTE_STUDY,
	ROUTE_TRIALS,
	ROUTE_TRIALS_SUGGEST,
	ROUTE_TRIALS_OPTIMAL,
	ROUTE_TRIAL,
	ROUTE_TRIAL_VERB,
	ROUTE_OPERATION,
	ROUTE_OWNERS,
	ROUTE_OWNER,
	ROUTE_API_KEYS,
	ROUTE_API_KEY,
	ROUTE_AUDIT_LOG,
	ROUTE_STUDY_IMPORTANCE
};

enum route_verb {
	VERB_NONE,
	VERB_ADD_MEASUREMENT,
	VERB_COMPLETE,
	VERB_CHECK_EARLY_STOPPING,
	VERB_STOP
};

struct route {
	enum route_kind kind;
	enum route_verb verb;
	char owner[129];
	char study[129];
	int64_t trial; /* ROUTE_TRIAL, ROUTE_TRIAL_VERB */
	int64_t op;    /* ROUTE_OPERATION */
	char key[129]; /* ROUTE_API_KEY: the key id */
};

/* Parses path (raw, not percent-decoded; "%3A" is taken as ':' and any
 * other escape is refused). Returns 0, or INVALID_ARGUMENT (malformed
 * segment, bad id, escape, "..", empty segment) or NOT_FOUND (no such
 * path), with a message naming the problem. */
int route_parse(const char *path, struct route *r /* OUT */, struct err *e);

/* Readers of the route table (defined in api_routes.c, which holds every
 * route and method as one row). The methods a route kind accepts, e.g.
 * "GET, POST"; and whether method is one of them. */
const char *route_methods(enum route_kind k);
int route_allows(enum route_kind k, const char *method);

/* A static label for /metrics: "studies.create", "trials.suggest", ...;
 * "methodNotAllowed" for a method the path does not take. */
const char *route_label(const struct route *r, const char *method);

#endif
