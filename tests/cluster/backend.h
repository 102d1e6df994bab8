/* backend: the one database several daemons of a cluster test share.
 *
 *   sqlite      the first daemon makes a fresh file in its temp dir; the
 *               others are given that file (docs/storage.md)
 *   postgresql  a throwaway PostgreSQL cluster on a Unix socket in a
 *               temporary directory (the PostgreSQL tests' cluster script, found
 *               from the environment variable SIBYL_PGCLUSTER), one fresh
 *               database in it; every daemon is given its URI
 *
 * Everything it starts it stops in backend_close(). */
#ifndef SIBYL_TEST_BACKEND_H
#define SIBYL_TEST_BACKEND_H

struct daemon;
struct backend;

/* NULL after printing why (an unknown name, no cluster script, a cluster
 * that does not start). */
struct backend *backend_open(const char *name);

/* The --db of a daemon: for SQLite NULL for the first one (first NULL) and
 * first's file for the others; for PostgreSQL the database's URI. The
 * string lives as long as b (or first). */
const char *backend_db(struct backend *b, const struct daemon *first);

/* 1 when the backend is a server that backend_restart() can restart. */
int backend_can_restart(const struct backend *b);

/* Restarts the PostgreSQL cluster (pg_ctl restart, fast shutdown: open
 * connections are cut). 0, or -1 after printing why. */
int backend_restart(struct backend *b);

/* Stops what backend_open() started and frees b. NULL-safe. */
void backend_close(struct backend *b);

#endif
