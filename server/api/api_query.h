/* api_query: the query parameters of every /v1 call, and the page tokens.
 *
 * Which parameters a call takes is a column of the route table
 * (api_routes.c: route kind and method); any
 * other parameter, a parameter given twice or a bad value is
 * INVALID_ARGUMENT naming it, the same on every route.
 *
 * Page tokens are sealed (XChaCha20-Poly1305, libsodium) with the store's
 * secret and bound to what was listed (the caller's context string, e.g.
 * the owner, the study and its row id): they show nothing of the position
 * they hold, and a token altered, made up, or issued for another list is
 * INVALID_ARGUMENT. Pure computation: no store, no HTTP. */
#ifndef SIBYL_API_QUERY_H
#define SIBYL_API_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "route.h"

/* The parameters, as bits of api_query.present. */
enum {
	API_Q_PAGE_SIZE = 1u << 0,
	API_Q_PAGE_TOKEN = 1u << 1,
	API_Q_FILTER = 1u << 2,
	API_Q_CLIENT_ID = 1u << 3,
	API_Q_UPDATE_MASK = 1u << 4,
	API_Q_FORCE = 1u << 5,
	API_Q_ALT = 1u << 6,       /* alt=csv|json: the trial list as CSV */
	API_Q_METRIC_ID = 1u << 7, /* :importance of one metric */
};

struct api_query {
	unsigned present;      /* API_Q_* given */
	int page_size;         /* 1..1000, default 100 (AIP-158: larger is 1000, 0 the default) */
	char page_token[256];  /* as sent, "" when absent */
	char filter[512];      /* as sent (percent-decoded) */
	char client_id[1025];  /* GET of a trial by its worker: a heartbeat */
	char update_mask[512]; /* PATCH of an owner */
	int force;             /* DELETE of an owner */
	int alt_csv;           /* alt=csv */
	char metric_id[256];   /* metricId= */
};

/* The parameters method on a route of kind k takes (API_Q_* bits, the
 * route table's). */
unsigned api_query_takes(enum route_kind k, const char *method);

/* Parses the raw query string (percent-escapes and '+' decoded) of method
 * on kind k into q. INVALID_ARGUMENT naming the parameter when it is not
 * one the call takes (the message lists those), is given twice, or has a
 * bad value; the whole query string is at most 2047 bytes. */
int api_query_parse(enum route_kind k, const char *method, const char *query,
                    struct api_query *q /* OUT */, struct err *e);

/* filter of a trial list: "state=X" joined by " OR ", and/or "id>N" (the
 * trials after id N: "state=ACTIVE AND id>40", or "id>40" alone); names
 * are the trial states by value (NULL-terminated from index 1). *mask gets
 * bit 1 << value of each state named (0: any), *min_id N (0: none).
 * INVALID_ARGUMENT with the form when not understood. */
int api_query_states(const char *filter, const char *const *names, unsigned *mask /* OUT */,
                     int64_t *min_id /* OUT */, struct err *e);

#define API_TOKEN_KEY_BYTES 32
#define API_TOKEN_MAX       136 /* payload bytes at most (an owner id: 128) */
/* base64url of nonce, payload and tag: what a token buffer needs */
#define API_TOKEN_CHARS (((24 + API_TOKEN_MAX + 16) * 4 + 2) / 3 + 1)

/* Seals len bytes of payload for the list named by context into buf
 * (cap >= API_TOKEN_CHARS). Returns 0, or -1 when len is too large. */
int api_token_seal(const unsigned char key[API_TOKEN_KEY_BYTES], const char *context,
                   const void *payload, size_t len, char *buf, size_t cap);
/* Opens a token of api_token_seal for the same context into payload (cap
 * bytes); *len gets its length. INVALID_ARGUMENT "pageToken is not a token
 * this server issued for this list" otherwise. */
int api_token_open(const unsigned char key[API_TOKEN_KEY_BYTES], const char *context,
                   const char *tok, void *payload, size_t cap, size_t *len /* OUT */,
                   struct err *e);

/* The same for a position that is a row id (>= 0): "" opens as 0. */
void api_token_int(const unsigned char key[API_TOKEN_KEY_BYTES], const char *context, int64_t after,
                   char *buf, size_t cap);
int api_token_int_open(const unsigned char key[API_TOKEN_KEY_BYTES], const char *context,
                       const char *tok, int64_t *after /* OUT */, struct err *e);

#endif
