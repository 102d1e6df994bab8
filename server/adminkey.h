/* adminkey: where sibyld's admin key comes from, and how to compare keys.
 *
 * In order: the file named by --admin-key-file (it must exist; one trailing
 * newline is dropped), else SIBYL_ADMIN_KEY (already in cfg->admin_key
 * after config_load), else the file <db>.admin-key next to the database,
 * which the first start creates with a random key and mode 0600. */
#ifndef SIBYL_ADMINKEY_H
#define SIBYL_ADMINKEY_H

#include <stddef.h>

struct config;

enum adminkey_source {
	ADMINKEY_FROM_FILE,    /* --admin-key-file */
	ADMINKEY_FROM_ENV,     /* SIBYL_ADMIN_KEY */
	ADMINKEY_FROM_DB_FILE, /* read back from <db>.admin-key */
	ADMINKEY_GENERATED,    /* just created <db>.admin-key */
};

/* Fills cfg->admin_key. On success returns 0, sets *source, and writes the
 * file it used or created (or "" for the environment) into path. Returns
 * -1 with a message in err when a file is missing, unreadable, empty or
 * cannot be created. Needs sodium_init() done (main does it). */
int adminkey_resolve(struct config *cfg, enum adminkey_source *source /* OUT */,
                     char *path /* OUT */, size_t pathlen, char *err, size_t errlen);

/* 1 when a and b are equal, else 0, in time that depends only on their
 * lengths, not on where they differ. NULL is never equal. */
int adminkey_equal(const char *a, const char *b);

#endif
