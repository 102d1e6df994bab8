/* backend: the database of a cluster test (backend.h). PostgreSQL is
 * driven through the PostgreSQL tests' cluster script (SIBYL_PGCLUSTER):
 * start DIR prints the URI of a fresh database, restart DIR and stop DIR
 * do what they say. */
#include "backend.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

struct backend {
	int pg;
	char dir[256]; /* PostgreSQL: the cluster's temporary directory */
	char uri[512];
};

/* Runs `sh SCRIPT VERB DIR`; its first line of output into out (cap
 * bytes, may be NULL). Returns its exit status, -1 when it did not exit. */
static int script(const char *verb, const char *dir, char *out, size_t cap)
{
	const char *path = getenv("SIBYL_PGCLUSTER");
	int fds[2], status;
	if (!path || pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/bin/sh", "sh", path, verb, dir, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	FILE *f = fdopen(fds[0], "r");
	char line[512] = "";
	if (f && !fgets(line, sizeof(line), f))
		line[0] = '\0';
	while (f && fgetc(f) != EOF)
		; /* the rest, so that the script never blocks on a full pipe */
	if (f)
		fclose(f);
	else
		close(fds[0]);
	line[strcspn(line, "\n")] = '\0';
	if (out)
		snprintf(out, cap, "%s", line);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static struct backend *open_pg(struct backend *b)
{
	if (!getenv("SIBYL_PGCLUSTER")) {
		fprintf(stderr, "backend: SIBYL_PGCLUSTER (the cluster script) is not set\n");
		return NULL;
	}
	snprintf(b->dir, sizeof(b->dir), "/tmp/sibyl-cluster-pg-XXXXXX");
	if (!mkdtemp(b->dir)) {
		perror("backend: mkdtemp");
		return NULL;
	}
	int rc = script("start", b->dir, b->uri, sizeof(b->uri));
	if (rc != 0 || strncmp(b->uri, "postgresql://", 13) != 0) {
		fprintf(stderr, "backend: %s start %s: status %d, printed \"%s\"\n",
		        getenv("SIBYL_PGCLUSTER"), b->dir, rc, b->uri);
		script("stop", b->dir, NULL, 0);
		b->dir[0] = '\0';
		return NULL;
	}
	b->pg = 1;
	fprintf(stderr, "backend: PostgreSQL database %s\n", b->uri);
	return b;
}

struct backend *backend_open(const char *name)
{
	struct backend *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	if (strcmp(name, "sqlite") == 0)
		return b;
	if (strcmp(name, "postgresql") == 0 && open_pg(b))
		return b;
	if (strcmp(name, "postgresql") != 0)
		fprintf(stderr, "backend: unknown backend \"%s\" (sqlite or postgresql)\n", name);
	free(b);
	return NULL;
}

const char *backend_db(struct backend *b, const struct daemon *first)
{
	if (b->pg)
		return b->uri;
	return first ? first->db_path : NULL;
}

int backend_can_restart(const struct backend *b)
{
	return b->pg;
}

int backend_restart(struct backend *b)
{
	int rc = b->pg ? script("restart", b->dir, NULL, 0) : -1;
	if (rc != 0)
		fprintf(stderr, "backend: restart of %s: status %d\n", b->dir, rc);
	return rc == 0 ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void backend_close(struct backend *b)
{
	if (b && b->dir[0]) {
		if (script("stop", b->dir, NULL, 0) != 0 || getenv("SIBYL_TEST_KEEP"))
			fprintf(stderr, "backend: kept %s\n", b->dir);
		else
			nftw(b->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	free(b);
}
