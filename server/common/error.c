#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
	int rpc;
	int http;
	const char *name;
} table[ERR_COUNT] = {
#define X(name, rpc, http, text) [name] = {rpc, http, text},
    SIBYL_ERRORS(X)
#undef X
};

int err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		e->code = code;
		e->refusal = ERR_REFUSAL_NONE;
		e->name = NULL;
		e->limit = 0;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -(int)code;
}

int err_refuse(struct err *e, enum err_code code, enum err_refusal kind, const char *name,
               int64_t limit, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		e->code = code;
		e->refusal = kind;
		e->name = name;
		e->limit = limit;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -(int)code;
}

int err_http_status(enum err_code code)
{
	return (unsigned)code < ERR_COUNT ? table[code].http : 500;
}

const char *err_status_name(enum err_code code)
{
	return (unsigned)code < ERR_COUNT ? table[code].name : "INTERNAL";
}

int err_rpc_code(enum err_code code)
{
	return (unsigned)code < ERR_COUNT ? table[code].rpc : 13;
}
