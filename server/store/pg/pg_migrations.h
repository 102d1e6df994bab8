/* pg_migrations: the PostgreSQL schema scripts migrations/pg/NNNN_name.sql,
 * embedded at build time by tools/embed.c (--prefix pg). Sorted by version,
 * versions strictly increasing. Static data: nothing to free. */
#ifndef SIBYL_PG_MIGRATIONS_H
#define SIBYL_PG_MIGRATIONS_H

#include <stddef.h>

struct pg_migration {
	int version;      /* NNNN of the file name */
	const char *name; /* the part after NNNN_, without .sql */
	const char *sql;  /* the whole script, NUL-terminated */
};

extern const struct pg_migration pg_migrations[];
extern const size_t pg_n_migrations;

#endif
