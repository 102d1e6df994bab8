/* backend: the database of a cluster test (backend.h). */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

int backend_check(const char *name)
{
	if (strcmp(name, "sqlite") == 0)
		return 0;
	if (strcmp(name, "postgresql") != 0) {
		fprintf(stderr, "backend: unknown backend \"%s\" (sqlite or postgresql)\n", name);
		return -1;
	}
	if (!getenv("SIBYL_TEST_PG") || !getenv("PGCLUSTER")) {
		fprintf(stderr, "backend: postgresql needs SIBYL_TEST_PG and PGCLUSTER "
		                "(run under tests/common/pgcluster.sh run)\n");
		return -1;
	}
	return 0;
}

const char *backend_db(const struct daemon *first)
{
	return first ? first->db_path : NULL;
}

/* `PGCLUSTER VERB $SIBYL_TEST_PG`: its exit status, -1 when it did not
 * exit. */
static int cluster(const char *verb)
{
	const char *script = getenv("PGCLUSTER"), *dir = getenv("SIBYL_TEST_PG");
	int status;
	if (!script || !dir)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		execl(script, script, verb, dir, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int backend_restart(int down_ms)
{
	struct timespec ts = {down_ms / 1000, (long)(down_ms % 1000) * 1000000L};
	int rc = cluster("stop");
	if (rc != 0) {
		fprintf(stderr, "backend: pgcluster.sh stop: status %d\n", rc);
		return -1;
	}
	nanosleep(&ts, NULL);
	rc = cluster("restart");
	if (rc != 0)
		fprintf(stderr, "backend: pgcluster.sh restart: status %d\n", rc);
	return rc == 0 ? 0 : -1;
}
