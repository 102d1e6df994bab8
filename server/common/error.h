/* error: the error codes of API.md (google.rpc.Code), their HTTP status and
 * status name, from one table so that no handler picks numbers by hand.
 *
 * Internal calls return 0 on success or a negative error (-ERR_NOT_FOUND)
 * and write the human message into a caller's struct err, so error paths do
 * not allocate. */
#ifndef SIBYL_ERROR_H
#define SIBYL_ERROR_H

#include <stddef.h>
#include <stdint.h>

#define SIBYL_ERRORS(X)                                           \
	X(ERR_OK, 0, 200, "OK")                                   \
	X(ERR_INVALID_ARGUMENT, 3, 400, "INVALID_ARGUMENT")       \
	X(ERR_FAILED_PRECONDITION, 9, 400, "FAILED_PRECONDITION") \
	X(ERR_OUT_OF_RANGE, 11, 400, "OUT_OF_RANGE")              \
	X(ERR_UNAUTHENTICATED, 16, 401, "UNAUTHENTICATED")        \
	X(ERR_PERMISSION_DENIED, 7, 403, "PERMISSION_DENIED")     \
	X(ERR_NOT_FOUND, 5, 404, "NOT_FOUND")                     \
	X(ERR_ALREADY_EXISTS, 6, 409, "ALREADY_EXISTS")           \
	X(ERR_ABORTED, 10, 409, "ABORTED")                        \
	X(ERR_RESOURCE_EXHAUSTED, 8, 429, "RESOURCE_EXHAUSTED")   \
	X(ERR_INTERNAL, 13, 500, "INTERNAL")                      \
	X(ERR_UNIMPLEMENTED, 12, 501, "UNIMPLEMENTED")            \
	X(ERR_UNAVAILABLE, 14, 503, "UNAVAILABLE")

enum err_code {
#define X(name, rpc, http, text) name,
	SIBYL_ERRORS(X)
#undef X
	    ERR_COUNT
};

#define ERR_MSG_LEN 512

/* What kind of refusal an error is, for the layers above that add to it
 * (the api names an owner's quota and its value after the message): read
 * from these fields, never parsed back from the message. */
enum err_refusal {
	ERR_REFUSAL_NONE = 0,
	ERR_REFUSAL_QUOTA,    /* an owner's quota (name: "maxStudies", ...; limit: its value) */
	ERR_REFUSAL_LIMIT,    /* a server limit (name: what it limits; limit: its value) */
	ERR_REFUSAL_CONFLICT, /* a concurrent change: the same call may succeed on retry */
};

struct err {
	enum err_code code;
	char msg[ERR_MSG_LEN];
	enum err_refusal refusal; /* ERR_REFUSAL_NONE for other errors */
	const char *name;         /* static text; NULL unless a refusal names one */
	int64_t limit;
};

/* Sets e (may be NULL; no refusal) and returns -code, so that
 * `return err_set(e, ...)` reads naturally. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* err_set of a typed refusal: kind, the name of what refused (a static
 * string) and its limit. */
int err_refuse(struct err *e, enum err_code code, enum err_refusal kind, const char *name,
               int64_t limit, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

int err_http_status(enum err_code code);
const char *err_status_name(enum err_code code);
int err_rpc_code(enum err_code code);

#endif
