/* backend: the one database several daemons of a cluster test share.
 *
 *   sqlite      the first daemon makes a fresh file in its temp dir; the
 *               others are given that file (docs/storage.md)
 *   postgresql  run under `tests/common/pgcluster.sh run` (SIBYL_TEST_PG
 *               names the throwaway cluster's socket directory): the first
 *               daemon gets a fresh database on it (the harness makes
 *               one), the others that database's URI; PGCLUSTER names the
 *               cluster script, for backend_restart()
 */
#ifndef SIBYL_TEST_BACKEND_H
#define SIBYL_TEST_BACKEND_H

struct daemon;

/* 0 when the backend named name ("sqlite" or "postgresql") can be used
 * here, else -1 after printing why. */
int backend_check(const char *name);

/* The db_path of a daemon's struct daemon_opts: NULL for the first one
 * (first NULL: a fresh database), first's database for the others. */
const char *backend_db(const struct daemon *first);

/* Stops the PostgreSQL cluster (fast shutdown: open connections are cut),
 * leaves it down for down_ms, starts it again. 0, or -1 after printing
 * why. */
int backend_restart(int down_ms);

#endif
