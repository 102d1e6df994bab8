/* http_framing: what a request's headers say about its body's framing
 * (Content-Length given twice with different values, Transfer-Encoding
 * other than chunked, or both), checked before the body is read. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"

/* What the headers say about the body's framing. */
struct framing {
	int n_cl, cl_conflict, n_te;
	char cl[32], te[64];
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	struct framing *f = cls;
	(void)kind;
	if (!key || !value)
		return MHD_YES;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (f->n_cl++ > 0 && strcmp(f->cl, value) != 0)
			f->cl_conflict = 1;
		snprintf(f->cl, sizeof(f->cl), "%s", value);
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->n_te++;
		snprintf(f->te, sizeof(f->te), "%s", value);
	}
	return MHD_YES;
}

/* 0, or the HTTP status of a request whose body cannot be framed safely
 * (two lengths, or an encoding we cannot read), with msg and *code set. */
int http_check_framing(struct MHD_Connection *c, int *chunked, char *msg, size_t cap,
                       enum err_code *code)
{
	struct framing f = {0};
	MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
	if (f.cl_conflict) {
		*code = ERR_INVALID_ARGUMENT;
		snprintf(msg, cap, "conflicting Content-Length headers");
		return 400;
	}
	if (f.n_te > 1 || (f.n_te == 1 && strcasecmp(f.te, "chunked") != 0)) {
		for (char *p = f.te; *p; p++) {
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == '"')
				*p = '?';
		}
		*code = ERR_UNIMPLEMENTED;
		snprintf(msg, cap, "Transfer-Encoding \"%s\"%s is not supported (only chunked)",
		         f.te, f.n_te > 1 ? " (given more than once)" : "");
		return 501;
	}
	if (f.n_te && f.n_cl) {
		*code = ERR_INVALID_ARGUMENT;
		snprintf(msg, cap, "both Content-Length and Transfer-Encoding given");
		return 400;
	}
	*chunked = f.n_te == 1;
	return 0;
}
