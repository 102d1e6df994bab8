/* harness: the real sibyld in a child process, real HTTP with libcurl and
 * a canonical dump of the database through the SQLite C API. */
#include "harness.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "curlbuf.h"

extern char **environ;

#define START_TIMEOUT_MS 20000
#define STOP_TIMEOUT_MS  20000
#define MAX_ARGS         64
#define MAX_ENV          512

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void print_file(const char *path, const char *title)
{
	char buf[4096];
	size_t n, total = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	fprintf(stderr, "---- %s (%s) ----\n", title, path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && total < 256 * 1024) {
		fwrite(buf, 1, n, stderr);
		total += n;
	}
	fprintf(stderr, "---- end of %s ----\n", title);
	fclose(f);
}

/* "NAME=value" -> does it set name (len bytes)? */
static int env_is(const char *entry, const char *name, size_t len)
{
	return strncmp(entry, name, len) == 0 && entry[len] == '=';
}

static int overridden(const char *entry, const struct daemon_opts *o)
{
	static const char *const ours[] = {"SIBYL_ADMIN_KEY", "SIBYL_CONFIG", "SIBYL_LISTEN",
	                                   "SIBYL_DB", "SIBYL_ADMIN_KEY_FILE"};
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		if (env_is(entry, ours[i], strlen(ours[i])))
			return 1;
	}
	for (size_t i = 0; o && o->env && o->env[i]; i++) {
		const char *eq = strchr(o->env[i], '=');
		if (eq && env_is(entry, o->env[i], (size_t)(eq - o->env[i])))
			return 1;
	}
	return 0;
}

/* Reads the ready line; returns 0 and fills d->ready_line, or -1. */
static int read_ready(struct daemon *d, int fd)
{
	size_t n = 0;
	double deadline = now_ms() + START_TIMEOUT_MS;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int left = (int)(deadline - now_ms());
		if (left <= 0) {
			fprintf(stderr, "harness: no ready line from sibyld within %d ms\n",
			        START_TIMEOUT_MS);
			return -1;
		}
		int rc = poll(&p, 1, left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		ssize_t r = read(fd, d->ready_line + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "harness: sibyld closed stdout before its ready line\n");
			return -1;
		}
		if (d->ready_line[n] == '\n') {
			d->ready_line[n] = '\0';
			return 0;
		}
		if (++n >= sizeof(d->ready_line) - 1) {
			fprintf(stderr, "harness: ready line too long\n");
			return -1;
		}
	}
}

/* "sibyld: listening on HOST:PORT" -> d->port, d->url. */
static int parse_ready(struct daemon *d)
{
	static const char prefix[] = "sibyld: listening on ";
	const char *hp = d->ready_line + sizeof(prefix) - 1, *colon;
	char *end;
	long port;

	if (strncmp(d->ready_line, prefix, sizeof(prefix) - 1) != 0)
		goto bad;
	colon = strrchr(hp, ':');
	if (!colon)
		goto bad;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || port <= 0 || port > 65535)
		goto bad;
	d->port = (int)port;
	if (strncmp(hp, "0.0.0.0:", 8) == 0)
		snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%d", d->port);
	else if (strncmp(hp, "[::]:", 5) == 0)
		snprintf(d->url, sizeof(d->url), "http://[::1]:%d", d->port);
	else
		snprintf(d->url, sizeof(d->url), "http://%.*s:%d", (int)(colon - hp), hp, d->port);
	return 0;
bad:
	fprintf(stderr, "harness: unexpected ready line \"%s\"\n", d->ready_line);
	return -1;
}

static int wait_exit(struct daemon *d, int timeout_ms)
{
	double deadline = now_ms() + timeout_ms;
	int status;
	for (;;) {
		pid_t r = waitpid(d->pid, &status, WNOHANG);
		if (r == d->pid)
			break;
		if (r < 0 && errno != EINTR) {
			perror("harness: waitpid");
			return -1;
		}
		if (now_ms() > deadline) {
			fprintf(stderr, "harness: sibyld (pid %d) did not exit within %d ms\n",
			        d->pid, timeout_ms);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			d->pid = 0;
			return -1;
		}
		usleep(10000);
	}
	d->pid = 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "harness: sibyld died of signal %d\n", WTERMSIG(status));
	return -1;
}

static int spawn(struct daemon *d, const struct daemon_opts *o)
{
	const char *bin = getenv("SIBYLD");
	char *argv[MAX_ARGS], *envp[MAX_ENV], listen[] = "127.0.0.1:0";
	char admin_env[sizeof("SIBYL_ADMIN_KEY=") + sizeof(HARNESS_ADMIN_KEY)];
	int na = 0, ne = 0, p[2], errfd;
	pid_t pid;

	if (!bin || !*bin) {
		fprintf(stderr, "harness: SIBYLD is not set (tests/meson.build sets it)\n");
		return -1;
	}
	argv[na++] = (char *)bin;
	argv[na++] = (char *)"--listen";
	argv[na++] = listen;
	argv[na++] = (char *)"--db";
	argv[na++] = d->db_path;
	for (size_t i = 0; o && o->args && o->args[i] && na < MAX_ARGS - 1; i++)
		argv[na++] = (char *)o->args[i];
	argv[na] = NULL;

	/* The environment is built here, before fork: the child of a
	 * threaded process may only call async-signal-safe functions. */
	for (char **e = environ; *e && ne < MAX_ENV - 40; e++) {
		if (!overridden(*e, o))
			envp[ne++] = *e;
	}
	if (!o || !o->no_admin_env) {
		snprintf(admin_env, sizeof(admin_env), "SIBYL_ADMIN_KEY=%s", HARNESS_ADMIN_KEY);
		envp[ne++] = admin_env;
	}
	for (size_t i = 0; o && o->env && o->env[i] && ne < MAX_ENV - 1; i++)
		envp[ne++] = (char *)o->env[i];
	envp[ne] = NULL;

	d->runs++;
	snprintf(d->stderr_path, sizeof(d->stderr_path), "%s/stderr-%d.log", d->dir, d->runs);
	errfd = open(d->stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (errfd < 0 || pipe2(p, O_CLOEXEC) != 0) {
		perror("harness: stderr file or pipe");
		if (errfd >= 0)
			close(errfd);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("harness: fork");
		close(p[0]);
		close(p[1]);
		close(errfd);
		return -1;
	}
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(errfd, STDERR_FILENO);
		execve(bin, argv, envp);
		_exit(127);
	}
	close(p[1]);
	close(errfd);
	d->pid = (int)pid;
	d->stdout_fd = p[0];
	d->ready_line[0] = '\0';
	if (read_ready(d, p[0]) != 0 || parse_ready(d) != 0) {
		kill(d->pid, SIGKILL);
		wait_exit(d, STOP_TIMEOUT_MS);
		print_file(d->stderr_path, "sibyld stderr");
		close(d->stdout_fd);
		d->stdout_fd = -1;
		return -1;
	}
	return 0;
}

static void remove_dir(const char *dir)
{
	DIR *dd = opendir(dir);
	struct dirent *e;
	char path[1024];
	if (!dd)
		return;
	while ((e = readdir(dd))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(dd);
	rmdir(dir);
}

static void curl_cleanup(void)
{
	curl_global_cleanup();
}

static void curl_setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	atexit(curl_cleanup);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* ---- PostgreSQL (SIBYL_TEST_PG) ---- */

int harness_pg_exec(const char *url, const char *sql, char *out, size_t outlen)
{
	PGconn *c = PQconnectdb(url);
	int rc = -1;
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "harness: %s: %s", url, PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		rc = 0;
		if (out && outlen)
			snprintf(out, outlen, "%s",
			         st == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0)
			                                                   : "");
	} else {
		fprintf(stderr, "harness: %s: %s", sql, PQresultErrorMessage(r));
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

int harness_pg_fresh(char *url, size_t len)
{
	static int counter;
	const char *dir = getenv("SIBYL_TEST_PG");
	if (!dir || !*dir) {
		fprintf(stderr,
		        "harness: SIBYL_TEST_PG is not set (tests/common/pgcluster.sh run)\n");
		return -1;
	}
	char admin[600], sql[128], name[64];
	int n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	snprintf(name, sizeof(name), "sibyl_%d_%d", (int)getpid(), n);
	snprintf(admin, sizeof(admin), "postgresql:///postgres?host=%s&user=sibyl", dir);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	if (harness_pg_exec(admin, sql, NULL, 0) != 0)
		return -1;
	if ((size_t)snprintf(url, len, "postgresql:///%s?host=%s&user=sibyl", name, dir) >= len) {
		fprintf(stderr, "harness: SIBYL_TEST_PG path too long\n");
		return -1;
	}
	return 0;
}

struct daemon *daemon_start(const struct daemon_opts *opts)
{
	struct daemon *d = calloc(1, sizeof(*d));
	char tmpl[] = "/tmp/sibyl-test-XXXXXX";

	pthread_once(&curl_once, curl_setup);
	if (!d || !mkdtemp(tmpl)) {
		perror("harness: mkdtemp");
		free(d);
		return NULL;
	}
	d->stdout_fd = -1;
	snprintf(d->dir, sizeof(d->dir), "%s", tmpl);
	if (opts && opts->db_path)
		snprintf(d->db_path, sizeof(d->db_path), "%s", opts->db_path);
	else if (getenv("SIBYL_TEST_PG") && harness_pg_fresh(d->db_path, sizeof(d->db_path)) != 0) {
		remove_dir(d->dir);
		free(d);
		return NULL;
	} else if (!getenv("SIBYL_TEST_PG"))
		snprintf(d->db_path, sizeof(d->db_path), "%s/sibyl.db", d->dir);
	if (spawn(d, opts) != 0) {
		/* its stderr is printed already */
		fprintf(stderr, "harness: sibyld did not start\n");
		if (!getenv("SIBYL_TEST_KEEP"))
			remove_dir(d->dir);
		free(d);
		return NULL;
	}
	return d;
}

/* 1 when a sanitizer reported into one of this daemon's stderr files. */
static int sanitizer_report(const struct daemon *d)
{
	static const char *const marks[] = {"AddressSanitizer", "LeakSanitizer", "runtime error:"};
	char path[600], buf[8192 + 64];
	int found = 0;
	for (int run = 1; run <= d->runs && !found; run++) {
		FILE *f;
		size_t keep = 0, n;
		snprintf(path, sizeof(path), "%s/stderr-%d.log", d->dir, run);
		f = fopen(path, "r");
		if (!f)
			continue;
		/* Chunks overlap by 64 bytes so that a mark split across two
		 * reads is still found. */
		while (!found && (n = fread(buf + keep, 1, sizeof(buf) - 1 - keep, f)) > 0) {
			n += keep;
			buf[n] = '\0';
			for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
				if (memmem(buf, n, marks[i], strlen(marks[i])))
					found = 1;
			}
			keep = n > 64 ? 64 : n;
			memmove(buf, buf + n - keep, keep);
		}
		fclose(f);
		if (found)
			print_file(path, "sibyld stderr with a sanitizer report");
	}
	return found;
}

int daemon_stop(struct daemon *d)
{
	int rc = 0;
	if (!d)
		return -1;
	if (d->pid > 0) {
		if (kill(d->pid, SIGTERM) != 0)
			perror("harness: kill");
		rc = wait_exit(d, STOP_TIMEOUT_MS);
		if (rc != 0)
			fprintf(stderr, "harness: sibyld exited with %d\n", rc);
	}
	if (sanitizer_report(d))
		rc = -1;
	if (rc != 0)
		print_file(d->stderr_path, "sibyld stderr");
	if (d->stdout_fd >= 0)
		close(d->stdout_fd);
	if (rc == 0 && !d->keep_dir && !getenv("SIBYL_TEST_KEEP"))
		remove_dir(d->dir);
	else
		fprintf(stderr, "harness: kept %s\n", d->dir);
	free(d);
	return rc;
}

int daemon_kill(struct daemon *d)
{
	int status;
	if (!d || d->pid <= 0)
		return -1;
	kill(d->pid, SIGKILL);
	while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
		;
	d->pid = 0;
	if (d->stdout_fd >= 0)
		close(d->stdout_fd);
	d->stdout_fd = -1;
	return 0;
}

int daemon_restart(struct daemon *d, const struct daemon_opts *opts)
{
	if (!d || d->pid > 0) {
		fprintf(stderr, "harness: daemon_restart on a running daemon\n");
		return -1;
	}
	return spawn(d, opts);
}

/* ---- HTTP ---- */

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = sz * n;
	static const char name[] = "retry-after:";
	if (len > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
		const char *v = p + sizeof(name) - 1;
		size_t vl = len - (sizeof(name) - 1);
		while (vl && *v == ' ') {
			v++;
			vl--;
		}
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
			vl--;
		if (vl >= sizeof(r->retry_after))
			vl = sizeof(r->retry_after) - 1;
		memcpy(r->retry_after, v, vl);
		r->retry_after[vl] = '\0';
	}
	return len;
}

int http_call(const struct daemon *d, const char *method, const char *path, const char *body,
              const char *key, struct reply *r)
{
	char url[2048], auth[512];
	struct curl_slist *hs = NULL;
	struct curlbuf s = {0};
	CURL *c;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	pthread_once(&curl_once, curl_setup);
	c = curl_easy_init();
	if (!c)
		return -1;
	snprintf(url, sizeof(url), "%s%s", d->url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curlbuf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	/* No "Expect: 100-continue" round trip on larger bodies. */
	hs = curl_slist_append(hs, "Expect:");
	if (!key)
		key = HARNESS_ADMIN_KEY;
	if (*key) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
		hs = curl_slist_append(hs, auth);
	}
	if (body) {
		hs = curl_slist_append(hs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hs);
	if (rc != CURLE_OK || s.oom) {
		fprintf(stderr, "harness: %s %s: %s\n", method, url,
		        s.oom ? "out of memory" : curl_easy_strerror(rc));
		curlbuf_free(&s);
		r->status = 0;
		r->body = strdup("");
		return -1;
	}
	r->body = s.data ? s.data : strdup("");
	r->json = json_loads(r->body, JSON_DECODE_ANY, NULL);
	return 0;
}

int http_callf(const struct daemon *d, const char *method, const char *path, const char *key,
               struct reply *r, const char *fmt, ...)
{
	va_list ap;
	int n, rc;
	char *body;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(body = malloc((size_t)n + 1))) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(body, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = http_call(d, method, path, body, key, r);
	free(body);
	return rc;
}

long daemon_create_owner(const struct daemon *d, const char *owner)
{
	struct reply r;
	if (http_callf(d, "POST", "/v1/owners", NULL, &r, "{\"ownerId\":\"%s\"}", owner) != 0)
		return 0;
	long status = r.status;
	reply_free(&r);
	return status;
}

void reply_free(struct reply *r)
{
	if (!r)
		return;
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

static const char *error_field(const struct reply *r, const char *key)
{
	json_t *e = r && r->json ? json_object_get(r->json, "error") : NULL;
	const char *s = json_string_value(json_object_get(e, key));
	return s ? s : "";
}

const char *reply_status_name(const struct reply *r)
{
	return error_field(r, "status");
}

const char *reply_message(const struct reply *r)
{
	return error_field(r, "message");
}

/* ---- db_dump ---- */

struct strbuf {
	char *s;
	size_t len, cap;
};

static void sb_add(struct strbuf *b, const char *p, size_t n)
{
	if (n == 0 && b->s)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s)
			abort(); /* a test helper: nothing sensible to do */
		b->s = s;
		b->cap = cap;
	}
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static void sb_printf(struct strbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One row as "v1|v2|...": typed, so that 1, 1.0, '1' and NULL differ. */
static char *row_text(sqlite3_stmt *st)
{
	struct strbuf b = {0};
	int n = sqlite3_column_count(st);
	for (int i = 0; i < n; i++) {
		if (i)
			sb_add(&b, "|", 1);
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_NULL:
			sb_add(&b, "NULL", 4);
			break;
		case SQLITE_INTEGER:
			sb_printf(&b, "%lld", (long long)sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT:
			sb_printf(&b, "%.17g", sqlite3_column_double(st, i));
			break;
		case SQLITE_TEXT:
			sb_add(&b, "'", 1);
			sb_add(&b, (const char *)sqlite3_column_text(st, i),
			       (size_t)sqlite3_column_bytes(st, i));
			sb_add(&b, "'", 1);
			break;
		default: {
			const unsigned char *p = sqlite3_column_blob(st, i);
			int len = sqlite3_column_bytes(st, i);
			sb_add(&b, "x'", 2);
			for (int k = 0; k < len; k++)
				sb_printf(&b, "%02x", p[k]);
			sb_add(&b, "'", 1);
		}
		}
	}
	if (!b.s)
		sb_add(&b, "", 0);
	return b.s;
}

/* One table of a PostgreSQL database as db_dump writes it. */
static int pg_dump_table(PGconn *c, const char *name, struct strbuf *out)
{
	char *ident = PQescapeIdentifier(c, name, strlen(name));
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT * FROM %s", ident ? ident : "\"\"");
	PQfreemem(ident);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "harness: db_dump %s: %s", name, PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	size_t n = (size_t)PQntuples(r);
	char **rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct strbuf b = {0};
		sb_add(&b, "", 0);
		for (int k = 0; k < PQnfields(r); k++) {
			if (k)
				sb_add(&b, "|", 1);
			if (PQgetisnull(r, (int)i, k))
				sb_add(&b, "NULL", 4);
			else
				sb_printf(&b, "'%s'", PQgetvalue(r, (int)i, k));
		}
		rows[i] = b.s;
	}
	PQclear(r);
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_str);
	sb_printf(out, "table %s (%zu rows)\n", name, n);
	for (size_t i = 0; i < n; i++) {
		sb_add(out, rows[i], strlen(rows[i]));
		sb_add(out, "\n", 1);
		free(rows[i]);
	}
	free(rows);
	return 0;
}

/* db_dump of a PostgreSQL database: its tables in the schema public. */
static char *pg_dump(const char *url)
{
	struct strbuf out = {0};
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "harness: db_dump %s: %s", url, PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PGresult *t = PQexec(c, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
	                        "ORDER BY tablename");
	int ok = PQresultStatus(t) == PGRES_TUPLES_OK;
	sb_add(&out, "", 0);
	for (int i = 0; ok && i < PQntuples(t); i++)
		ok = pg_dump_table(c, PQgetvalue(t, i, 0), &out) == 0;
	PQclear(t);
	PQfinish(c);
	if (!ok) {
		free(out.s);
		return NULL;
	}
	return out.s;
}

char *db_dump(const char *db_path)
{
	if (strncmp(db_path, "postgresql://", 13) == 0 || strncmp(db_path, "postgres://", 11) == 0)
		return pg_dump(db_path);
	sqlite3 *db = NULL;
	sqlite3_stmt *tables = NULL;
	struct strbuf out = {0};

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "harness: db_dump %s: %s\n", db_path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_prepare_v2(db,
	                       "SELECT name FROM sqlite_master WHERE type = 'table' "
	                       "ORDER BY name",
	                       -1, &tables, NULL) != SQLITE_OK)
		goto fail;
	sb_add(&out, "", 0);
	for (;;) {
		int rc = sqlite3_step(tables);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW)
			goto fail;
		const char *name = (const char *)sqlite3_column_text(tables, 0);
		char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", name);
		sqlite3_stmt *st = NULL;
		char **rows = NULL;
		size_t n = 0, cap = 0;
		int ok = sql && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK;
		sqlite3_free(sql);
		if (!ok) {
			sqlite3_finalize(st);
			goto fail;
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				char **r2 = realloc(rows, cap * sizeof(*rows));
				if (!r2)
					abort();
				rows = r2;
			}
			rows[n++] = row_text(st);
		}
		sqlite3_finalize(st);
		if (n > 1)
			qsort(rows, n, sizeof(*rows), cmp_str);
		sb_printf(&out, "table %s (%zu rows)\n", name, n);
		for (size_t i = 0; i < n; i++) {
			sb_add(&out, rows[i], strlen(rows[i]));
			sb_add(&out, "\n", 1);
			free(rows[i]);
		}
		free(rows);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(tables);
	sqlite3_close(db);
	return out.s;
fail:
	fprintf(stderr, "harness: db_dump %s: %s\n", db_path, sqlite3_errmsg(db));
	sqlite3_finalize(tables);
	sqlite3_close(db);
	free(out.s);
	return NULL;
}

char *db_dump_data(const char *db_path)
{
	char *s = db_dump(db_path);
	if (!s)
		return NULL;
	char *o = s, *p = s;
	int in_audit = 0;
	while (*p) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (strncmp(p, "table ", 6) == 0)
			in_audit = strncmp(p, "table audit_", 12) == 0; /* the log, its counts */
		int skip = in_audit || strncmp(p, "'audit_log'|", 12) == 0;
		if (!skip) {
			memmove(o, p, n);
			o += n;
		}
		p += n;
	}
	*o = '\0';
	return s;
}
