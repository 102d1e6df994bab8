/* store_migrations: the schema scripts migrations/NNNN_name.sql, embedded at
 * build time by tools/embed.c into a generated C file (no Python needed to
 * build). Sorted by version, versions strictly increasing. Static data:
 * nothing to free. */
#ifndef SIBYL_STORE_MIGRATIONS_H
#define SIBYL_STORE_MIGRATIONS_H

#include <stddef.h>

struct store_migration {
	int version;      /* NNNN of the file name */
	const char *name; /* the part after NNNN_, without .sql */
	const char *sql;  /* the whole script, NUL-terminated */
};

extern const struct store_migration store_migrations[];
extern const size_t store_n_migrations;

#endif
