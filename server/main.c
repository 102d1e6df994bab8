/* sibyld: load the settings, open the store, serve until SIGTERM or SIGINT,
 * then drain the requests in flight and close the store. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <gsl/gsl_errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "adminkey.h"
#include "api.h"
#include "config.h"
#include "error.h"
#include "http.h"
#include "log.h"
#include "store.h"

#ifdef SIBYL_HAVE_OPENBLAS
void openblas_set_num_threads(int n); /* from OpenBLAS's cblas.h */
#endif

static struct config cfg; /* large; read-only once loaded */
static volatile sig_atomic_t stop_signal;
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	if (!stop_signal)
		stop_signal = sig;
	ssize_t w = write(sig_pipe[1], "x", 1);
	(void)w;
	errno = saved;
}

static const char *source_name(enum adminkey_source s)
{
	switch (s) {
	case ADMINKEY_FROM_FILE:
		return "admin_key_file";
	case ADMINKEY_FROM_ENV:
		return "SIBYL_ADMIN_KEY";
	case ADMINKEY_FROM_DB_FILE:
		return "db_key_file";
	case ADMINKEY_GENERATED:
		return "generated";
	}
	return "unknown";
}

/* The database for the log: a connection URI's password (user:PASSWORD@)
 * replaced by ***. */
static const char *db_for_log(const char *db, char *buf, size_t len)
{
	const char *scheme = strstr(db, "://");
	const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
	const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
	const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
	if (!at || (slash && slash < at) || !colon || colon > at)
		return db;
	snprintf(buf, len, "%.*s***%s", (int)(colon + 1 - db), db, at);
	return buf;
}

int main(int argc, char **argv)
{
	char err[1024], keypath[4200];
	struct err e = {0};
	enum adminkey_source src;
	struct api *api;
	struct http_server *srv;
	int rc, port = 0, sig = 0;

	rc = config_load(&cfg, argc, argv, err, sizeof(err));
	if (rc == 1)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "sibyld: %s\n", err);
		return 2;
	}
	log_set_level(cfg.log_level);
	/* GSL's default handler aborts the process on any error, including a
	 * Cholesky that meets a matrix that is not positive definite; the
	 * designer checks every GSL status and recovers instead. */
	gsl_set_error_handler_off();
#ifdef SIBYL_HAVE_OPENBLAS
	/* The matrices of one suggestion are small (at most a few thousand
	 * rows): OpenBLAS's own threads cost about three times more than they
	 * save there, and the HTTP pool already runs suggestions in parallel. */
	openblas_set_num_threads(1);
#endif
	if (sodium_init() < 0) {
		log_error("event=start_failed msg=\"libsodium failed to initialize\"");
		return 1;
	}

	if (cfg.copy_from[0]) {
		char report[1024], from[sizeof(cfg.copy_from) + 8], to[sizeof(cfg.copy_to) + 8];
		if (store_copy(cfg.copy_from, cfg.copy_to, report, sizeof(report), &e) != 0) {
			fprintf(stderr, "sibyld: copy of %s to %s failed: %s\n",
			        db_for_log(cfg.copy_from, from, sizeof(from)),
			        db_for_log(cfg.copy_to, to, sizeof(to)), e.msg);
			return 1;
		}
		printf("sibyld: copied %s to %s; rows (counted on both sides):\n%s",
		       db_for_log(cfg.copy_from, from, sizeof(from)),
		       db_for_log(cfg.copy_to, to, sizeof(to)), report);
		return 0;
	}

	if (cfg.backup_path[0]) {
		if (store_backup_file(cfg.db_path, cfg.backup_path, &e) != 0) {
			fprintf(stderr, "sibyld: backup of %s to %s failed: %s\n", cfg.db_path,
			        cfg.backup_path, e.msg);
			return 1;
		}
		printf("sibyld: backup of %s written to %s\n", cfg.db_path, cfg.backup_path);
		return 0;
	}

	if (adminkey_resolve(&cfg, &src, keypath, sizeof(keypath), err, sizeof(err)) != 0) {
		fprintf(stderr, "sibyld: %s\n", err);
		return 2;
	}
	if (src == ADMINKEY_GENERATED)
		log_warn("event=admin_key_generated path=\"%s\" msg=\"a new admin key was "
		         "written to this file (mode 0600)\"",
		         keypath);
	else
		log_info("event=admin_key source=%s path=\"%s\"", source_name(src), keypath);

	/* A handler plus a self-pipe rather than sigwait(): libraries start
	 * threads before main() (OpenBLAS does), and such a thread, with
	 * SIGTERM unblocked, would take the default action and kill us. The
	 * handler works whichever thread the kernel picks. */
	if (pipe2(sig_pipe, O_CLOEXEC) != 0 ||
	    fcntl(sig_pipe[1], F_SETFL, fcntl(sig_pipe[1], F_GETFL) | O_NONBLOCK) != 0) {
		fprintf(stderr, "sibyld: pipe: %s\n", strerror(errno));
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A file-size limit (ulimit -f) reached by the database must fail
	 * that write (EFBIG: answered 503 like a full disk), not kill us. */
	signal(SIGXFSZ, SIG_IGN);

	api = api_new(&cfg, &e);
	if (!api) {
		fprintf(stderr, "sibyld: %s\n", e.msg);
		return 1;
	}
	struct http_handlers h = {
	    .handle = api_handle,
	    .healthy = api_healthy,
	    .metrics = api_metrics,
	    .ctx = api,
	    .admit = api_admit,
	    .pool = api_pool,
	};
	srv = http_start(&cfg, &h, &port, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "sibyld: %s\n", err);
		api_free(api);
		return 1;
	}
	int v6 = strchr(cfg.listen_host, ':') != NULL;
	printf("sibyld: listening on %s%s%s:%d\n", v6 ? "[" : "", cfg.listen_host, v6 ? "]" : "",
	       port);
	fflush(stdout);
	char dblog[sizeof(cfg.db_path) + 8];
	log_info("event=listening host=%s port=%d tls=%s threads=%d db=\"%s\"", cfg.listen_host,
	         port, cfg.tls_cert[0] ? "on" : "off", cfg.threads,
	         db_for_log(cfg.db_path, dblog, sizeof(dblog)));

	for (;;) {
		char c;
		ssize_t r = read(sig_pipe[0], &c, 1);
		if (r == 1 || (r < 0 && errno != EINTR))
			break;
	}
	/* Later signals only write to the pipe again: the drain is already
	 * bounded by shutdown_timeout_ms. */
	sig = stop_signal;
	log_info("event=stopping signal=%s timeout_ms=%d", sig == SIGINT ? "SIGINT" : "SIGTERM",
	         cfg.shutdown_timeout_ms);
	http_stop(srv);
	api_free(api);
	log_info("event=stopped");
	return 0;
}
