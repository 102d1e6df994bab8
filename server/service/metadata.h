/* metadata: the free-form metadata of a study or a trial (Optuna's user
 * attributes, OSS Vizier's metadata), a JSON object of string keys to
 * string values, checked against the max_metadata_* settings and stored
 * as canonical text (keys sorted), NULL when empty.
 *
 * Set whole at creation; changed by PATCH ?updateMask=metadata, which
 * merges (RFC 7396 JSON Merge Patch on a flat object): a key with a string
 * sets it, a key with null deletes it, keys not named stay. The limits
 * apply to the object as it would be after the change. */
#ifndef SIBYL_METADATA_H
#define SIBYL_METADATA_H

#include <jansson.h>

#include "error.h"

struct config;

/* The metadata of a create body (v: the "metadata" member, may be NULL:
 * none) -> *text, malloc'd canonical text or NULL when empty. Errors are
 * INVALID_ARGUMENT naming the key and the limit. */
int md_create(const json_t *v, const struct config *cfg, char **text /* OUT */, struct err *e);

/* Applies the patch v (the PATCH body's "metadata") to the stored text
 * (NULL: empty) -> *text, malloc'd canonical text or NULL when the result
 * is empty. Nothing is written here. */
int md_merge(const char *stored, const json_t *v, const struct config *cfg, char **text /* OUT */,
             struct err *e);

/* The PATCH of a study or trial: mask is the updateMask query parameter,
 * decoded (api_query), NULL when absent (the body then says what changes);
 * it may only be "metadata", and the body must be {"metadata": {...}};
 * INVALID_ARGUMENT otherwise, saying what is accepted. *patch is borrowed
 * from body. */
int md_patch_request(const char *mask, const json_t *body, const json_t **patch /* OUT */,
                     struct err *e);

#endif
