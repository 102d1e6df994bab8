/* proc: run the built `sibyl` tool from a test and capture what it says.
 * Header-only, for the tests of tests/client. */
#ifndef SIBYL_TEST_PROC_H
#define SIBYL_TEST_PROC_H

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct proc_out {
	int status;   /* exit code; 128+N when killed by signal N */
	char *out;    /* stdout, malloc'd */
	char *err;    /* stderr, malloc'd */
	json_t *json; /* stdout parsed as JSON, or NULL */
};

static char *proc_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return strdup("");
	size_t cap = 4096, len = 0;
	char *b = malloc(cap);
	size_t n;
	while (b && (n = fread(b + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			char *g = realloc(b, cap * 2);
			if (!g)
				break;
			b = g;
			cap *= 2;
		}
	}
	fclose(f);
	if (b)
		b[len] = '\0';
	return b;
}

/* Starts argv with extra "NAME=value" env entries (NULL-terminated, may be
 * NULL), stdout and stderr into files under dir; returns the pid or -1. */
static pid_t proc_start(const char *dir, char *const *argv, const char *const *env)
{
	char out[512], err[512];
	snprintf(out, sizeof out, "%s/proc.out", dir);
	snprintf(err, sizeof err, "%s/proc.err", dir);
	size_t n = 0, m = 0;
	while (environ[n])
		n++;
	while (env && env[m])
		m++;
	char **e = calloc(n + m + 1, sizeof *e);
	for (size_t i = 0; i < m; i++)
		e[i] = (char *)env[i];
	for (size_t i = 0; i < n; i++)
		e[m + i] = environ[i];
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, e);
	posix_spawn_file_actions_destroy(&fa);
	free(e);
	return rc == 0 ? pid : -1;
}

static void proc_finish(const char *dir, pid_t pid, struct proc_out *o)
{
	char path[512];
	int st = 0;
	memset(o, 0, sizeof *o);
	if (pid < 0) {
		o->status = -1;
	} else {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	snprintf(path, sizeof path, "%s/proc.out", dir);
	o->out = proc_slurp(path);
	snprintf(path, sizeof path, "%s/proc.err", dir);
	o->err = proc_slurp(path);
	o->json = o->out ? json_loads(o->out, JSON_DECODE_ANY, NULL) : NULL;
}

/* Runs argv to its end. */
static void proc_run(const char *dir, char *const *argv, const char *const *env, struct proc_out *o)
{
	proc_finish(dir, proc_start(dir, argv, env), o);
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "--- %s %s: %d\n%s%s", argv[0], argv[1] ? argv[1] : "", o->status,
		        o->out, o->err);
}

/* Runs the tool at cli with first (when not NULL) and the words of ap up
 * to a NULL as its arguments. */
static inline void proc_runv(const char *dir, const char *const *env, struct proc_out *o,
                             const char *cli, const char *first, va_list ap)
{
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)cli;
	if (first)
		argv[n++] = (char *)first;
	for (char *a; n < 63 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	argv[n] = NULL;
	proc_run(dir, argv, env, o);
}

/* Whether the tool's stderr shows a sanitizer report. */
static inline int proc_sanitized(const struct proc_out *o)
{
	return strstr(o->err, "runtime error:") || strstr(o->err, "Sanitizer");
}

/* Removes a test's scratch directory and all in it. */
static inline void proc_rmdir(const char *dir)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static void proc_free(struct proc_out *o)
{
	free(o->out);
	free(o->err);
	json_decref(o->json);
	memset(o, 0, sizeof *o);
}

#endif
