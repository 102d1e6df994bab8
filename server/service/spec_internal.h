/* spec_internal: what spec.c (metrics, options, the entry points) and
 * spec_params.c (ParameterSpec and conditional children) share. */
#ifndef SIBYL_SPEC_INTERNAL_H
#define SIBYL_SPEC_INTERNAL_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

#define PATH_LEN 384
/* Integers travel through doubles in value space: keep them exact. */
#define MAX_EXACT_INT 9007199254740992.0

struct spec_ctx {
	struct spec *s;
	struct err *e;
	int max_params;
	size_t max_cats;
	int max_str;
	size_t max_metrics;
};

static inline char *spec_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static inline int spec_oom(struct err *e)
{
	return err_set(e, ERR_INTERNAL, "out of memory");
}

/* One ParameterSpec at path (and its conditional children, appended after
 * it); parent is the parent's index or -1. *canon_out gets its canonical
 * JSON (a new reference, also on failure when partly built). */
int spec_parse_param(struct spec_ctx *c, const json_t *v, const char *path, int parent,
                     json_t **canon_out);

#endif
