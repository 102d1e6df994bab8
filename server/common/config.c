#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#ifndef SIBYL_VERSION
#define SIBYL_VERSION "unknown"
#endif

enum type { T_STR, T_INT, T_SIZE, T_LISTEN };

struct setting {
	const char *name; /* config file key; the flag is --name with '-' for '_' */
	const char *env;
	enum type type;
	size_t offset; /* into struct config */
	size_t size;   /* of the char array, for T_STR */
	long long min, max;
	const char *def; /* parsed like any other value */
	const char *help;
};

#define STR(field)    T_STR, offsetof(struct config, field), sizeof(((struct config *)0)->field)
#define NUM(t, field) t, offsetof(struct config, field), 0

static const struct setting settings[] = {
    {"listen", "SIBYL_LISTEN", T_LISTEN, 0, 0, 0, 65535, "127.0.0.1:8080",
     "address and port to serve on: HOST:PORT or [IPv6]:PORT; port 0 picks a free one"},
    {"db", "SIBYL_DB", STR(db_path), 0, 0, "./sibyl.db",
     "SQLite database file, or a PostgreSQL connection URI (postgresql://...)"},
    {"db_pool", "SIBYL_DB_POOL", NUM(T_INT, db_pool), 1, 1000, "8",
     "PostgreSQL: connections this daemon opens at most (unused with SQLite)"},
    {"admin_key_file", "SIBYL_ADMIN_KEY_FILE", STR(admin_key_file), 0, 0, "",
     "file holding the admin key (else SIBYL_ADMIN_KEY, else generated as <db>.admin-key)"},
    {"threads", "SIBYL_THREADS", NUM(T_INT, threads), 1, 256, "4",
     "requests handled at the same time"},
    {"suggest_threads", "SIBYL_SUGGEST_THREADS", NUM(T_INT, suggest_threads), 1, 1024, "64",
     "trials:suggest calls handled at the same time, apart from the other requests"},
    {"shutdown_timeout_ms", "SIBYL_SHUTDOWN_TIMEOUT_MS", NUM(T_INT, shutdown_timeout_ms), 0, 600000,
     "10000", "on SIGTERM, how long to wait for requests in flight"},
    {"tls_cert", "SIBYL_TLS_CERT", STR(tls_cert), 0, 0, "",
     "PEM certificate (chain); with tls_key, serve HTTPS"},
    {"tls_key", "SIBYL_TLS_KEY", STR(tls_key), 0, 0, "", "PEM private key for tls_cert"},
    {"log_level", "SIBYL_LOG_LEVEL", STR(log_level), 0, 0, "info", "error, warn, info or debug"},
    {"sync", "SIBYL_SYNC", STR(sync), 0, 0, "normal",
     "normal: a commit survives a crash of sibyld, a power loss may lose the last ones; "
     "full: fsync at every commit (group commit), survives a power loss too"},
    {"wal_target_mb", "SIBYL_WAL_TARGET_MB", NUM(T_INT, wal_target_mb), 1, 65536, "16",
     "size of the write-ahead log (MiB) past which it is started again and truncated"},
    {"max_body_bytes", "SIBYL_MAX_BODY_BYTES", NUM(T_SIZE, max_body_bytes), 1024,
     1024LL * 1024 * 1024, "1048576", "largest request body; larger ones get 413"},
    {"max_json_depth", "SIBYL_MAX_JSON_DEPTH", NUM(T_INT, max_json_depth), 4, 1000, "32",
     "deepest nesting of a JSON body"},
    {"max_parameters", "SIBYL_MAX_PARAMETERS", NUM(T_INT, max_parameters), 1, 10000, "100",
     "parameters per study, conditional children included"},
    {"max_categories", "SIBYL_MAX_CATEGORIES", NUM(T_INT, max_categories), 2, 1000000, "1000",
     "categorical or discrete values per parameter"},
    {"max_metrics", "SIBYL_MAX_METRICS", NUM(T_INT, max_metrics), 1, 1000, "20",
     "metrics per study"},
    {"max_string_len", "SIBYL_MAX_STRING_LEN", NUM(T_INT, max_string_len), 16, 65536, "256",
     "longest id, display name or category value"},
    {"max_measurements", "SIBYL_MAX_MEASUREMENTS", NUM(T_INT, max_measurements), 1, 100000000,
     "10000", "measurements per trial"},
    {"max_suggestion_count", "SIBYL_MAX_SUGGESTION_COUNT", NUM(T_INT, max_suggestion_count), 1,
     10000, "100", "suggestionCount per trials:suggest call"},
    {"auth_failures_per_second", "SIBYL_AUTH_FAILURES_PER_SECOND",
     NUM(T_INT, auth_failures_per_second), 0, 1000000, "10",
     "requests without a valid key answered 401 per client address and second (5 s of burst); "
     "more get 429; 0: no limit"},
    {"max_metadata_keys", "SIBYL_MAX_METADATA_KEYS", NUM(T_INT, max_metadata_keys), 1, 100000, "64",
     "keys in the metadata of one study or trial"},
    {"max_metadata_key_bytes", "SIBYL_MAX_METADATA_KEY_BYTES", NUM(T_INT, max_metadata_key_bytes),
     1, 65536, "256", "longest metadata key, in bytes"},
    {"max_metadata_value_bytes", "SIBYL_MAX_METADATA_VALUE_BYTES",
     NUM(T_INT, max_metadata_value_bytes), 1, 1048576, "4096", "longest metadata value, in bytes"},
    {"max_metadata_bytes", "SIBYL_MAX_METADATA_BYTES", NUM(T_INT, max_metadata_bytes), 1, 16777216,
     "65536", "the keys and values of one study's or trial's metadata together, in bytes"},
    {"max_connections", "SIBYL_MAX_CONNECTIONS", NUM(T_INT, max_connections), 16, 1000000, "1000",
     "open client connections in all; more are closed at once"},
    {"max_connections_per_address", "SIBYL_MAX_CONNECTIONS_PER_ADDRESS",
     NUM(T_INT, max_connections_per_address), 1, 1000000, "512",
     "open connections from one client address; more are closed at once"},
    {"connection_headroom", "SIBYL_CONNECTION_HEADROOM", NUM(T_INT, connection_headroom), 0,
     1000000, "100",
     "when fewer connections than this are free, the oldest ones still sending their "
     "request after 1 s (or idle between requests) are closed"},
    {"request_timeout_s", "SIBYL_REQUEST_TIMEOUT_S", NUM(T_INT, request_timeout_s), 1, 3600, "30",
     "a connection must deliver each whole request (headers and body) within this many seconds "
     "of opening or of its previous answer, else it is closed"},
    {"max_body_memory", "SIBYL_MAX_BODY_MEMORY", NUM(T_SIZE, max_body_memory), 1024,
     1024LL * 1024 * 1024 * 1024, "67108864",
     "bytes of request bodies held at once; a request past it gets 503 before its body is read"},
    {"max_requests_per_key", "SIBYL_MAX_REQUESTS_PER_KEY", NUM(T_INT, max_requests_per_key), 1,
     1000000, "512",
     "requests of one API key in flight (from its headers to the end of its answer); more get "
     "429"},
    {"max_answer_bytes_per_key", "SIBYL_MAX_ANSWER_BYTES_PER_KEY",
     NUM(T_SIZE, max_answer_bytes_per_key), 65536, 1024LL * 1024 * 1024 * 1024, "67108864",
     "bytes of one API key's answers still being sent; while past it the key's requests get 429"},
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const struct setting *find(const char *name, size_t len)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const char *s = settings[i].name;
		size_t j;
		if (strlen(s) != len)
			continue;
		for (j = 0; j < len; j++) {
			char c = name[j] == '-' ? '_' : name[j];
			if (c != s[j])
				break;
		}
		if (j == len)
			return &settings[i];
	}
	return NULL;
}

static void flag_name(const struct setting *s, char *out, size_t cap)
{
	size_t i;
	for (i = 0; s->name[i] && i + 1 < cap; i++)
		out[i] = s->name[i] == '_' ? '-' : s->name[i];
	out[i] = '\0';
}

static int parse_ll(const char *v, long long *out)
{
	char *end;
	errno = 0;
	if (!*v || isspace((unsigned char)*v))
		return -1;
	long long x = strtoll(v, &end, 10);
	if (errno || *end)
		return -1;
	*out = x;
	return 0;
}

static int parse_listen(const char *v, struct config *cfg, char *why, size_t whylen)
{
	const char *colon, *host = v;
	size_t hostlen;
	long long port;

	if (v[0] == '[') {
		const char *close = strchr(v, ']');
		if (!close || close[1] != ':') {
			snprintf(why, whylen, "want [IPv6]:PORT");
			return -1;
		}
		host = v + 1;
		hostlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(v, ':');
		if (!colon || strchr(v, ':') != colon) {
			snprintf(why, whylen, "want HOST:PORT (IPv6 as [ADDR]:PORT)");
			return -1;
		}
		hostlen = (size_t)(colon - v);
	}
	if (hostlen == 0 || hostlen >= sizeof(cfg->listen_host)) {
		snprintf(why, whylen, "missing or too long host");
		return -1;
	}
	if (parse_ll(colon + 1, &port) != 0 || port < 0 || port > 65535) {
		snprintf(why, whylen, "port must be a number in [0, 65535]");
		return -1;
	}
	memcpy(cfg->listen_host, host, hostlen);
	cfg->listen_host[hostlen] = '\0';
	cfg->listen_port = (int)port;
	return 0;
}

/* Applies one value; on failure writes "<where>: <name>: <why>" into err. */
static int apply(const struct setting *s, const char *v, struct config *cfg, const char *where,
                 char *err, size_t errlen)
{
	char why[256] = "";
	char *base = (char *)cfg;
	long long x;

	switch (s->type) {
	case T_LISTEN:
		if (parse_listen(v, cfg, why, sizeof(why)) == 0)
			return 0;
		break;
	case T_STR:
		if (strlen(v) >= s->size) {
			snprintf(why, sizeof(why), "longer than %zu bytes", s->size - 1);
			break;
		}
		if (strcmp(s->name, "log_level") == 0) {
			enum log_level l;
			if (log_parse_level(v, &l) != 0) {
				snprintf(why, sizeof(why), "must be error, warn, info or debug");
				break;
			}
		}
		if (strcmp(s->name, "sync") == 0 && strcmp(v, "normal") != 0 &&
		    strcmp(v, "full") != 0) {
			snprintf(why, sizeof(why), "must be normal or full");
			break;
		}
		memcpy(base + s->offset, v, strlen(v) + 1);
		return 0;
	case T_INT:
	case T_SIZE:
		if (parse_ll(v, &x) != 0) {
			snprintf(why, sizeof(why), "not an integer");
			break;
		}
		if (x < s->min || x > s->max) {
			snprintf(why, sizeof(why), "out of range [%lld, %lld]", s->min, s->max);
			break;
		}
		if (s->type == T_SIZE)
			*(size_t *)(void *)(base + s->offset) = (size_t)x;
		else
			*(int *)(void *)(base + s->offset) = (int)x;
		return 0;
	}
	snprintf(err, errlen, "%s: %s = \"%.200s\": %s", where, s->name, v, why);
	return -1;
}

void config_defaults(struct config *cfg)
{
	char err[512];
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NSETTINGS; i++) {
		/* The defaults are in range by construction (test-config). */
		(void)apply(&settings[i], settings[i].def, cfg, "default", err, sizeof(err));
	}
}

size_t config_help(char *buf, size_t cap)
{
	size_t n = 0;
	int k;
#define OUT(...)                                                                             \
	do {                                                                                 \
		k = snprintf(buf + (n < cap ? n : cap), n < cap ? cap - n : 0, __VA_ARGS__); \
		if (k > 0)                                                                   \
			n += (size_t)k;                                                      \
	} while (0)
	OUT("Usage: sibyld [OPTIONS]\n"
	    "The sibyl hyperparameter tuning service.\n\n"
	    "Each setting comes from, in increasing precedence: its default, the config\n"
	    "file (name = value lines), its SIBYL_* environment variable, its flag.\n\n");
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		char flag[64];
		flag_name(s, flag, sizeof(flag));
		OUT("  --%-22s %s\n", flag, s->help);
		OUT("  %-24s env %s, default \"%s\"", "", s->env, s->def);
		if (s->type == T_INT || s->type == T_SIZE)
			OUT(", range [%lld, %lld]", s->min, s->max);
		OUT("\n");
	}
	OUT("\nOther options:\n"
	    "  --config FILE            read settings from FILE (env SIBYL_CONFIG)\n"
	    "  --backup PATH            copy the database to PATH and exit\n"
	    "  --copy-db FROM TO        copy the whole database FROM (SQLite path or PostgreSQL\n"
	    "                           URI) into the empty database TO and exit\n"
	    "  --help                   print this and exit\n"
	    "  --version                print the version and exit\n"
	    "Environment only:\n"
	    "  SIBYL_ADMIN_KEY          the admin key, when --admin-key-file is not given\n");
#undef OUT
	return n;
}

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(const char *path, struct config *cfg, char *err, size_t errlen)
{
	char buf[8192], where[4200];
	FILE *f = fopen(path, "r");
	int lineno = 0, rc = 0;

	if (!f) {
		snprintf(err, errlen, "config file %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), f)) {
		char *line, *eq, *name, *value;
		const struct setting *s;
		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (!strchr(buf, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s: line too long", where);
			rc = -1;
			break;
		}
		line = trim(buf);
		if (!*line || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			snprintf(err, errlen, "%s: want name = value", where);
			rc = -1;
			break;
		}
		*eq = '\0';
		name = trim(line);
		value = trim(eq + 1);
		size_t vlen = strlen(value);
		if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
			value[vlen - 1] = '\0';
			value++;
		}
		s = find(name, strlen(name));
		if (!s) {
			snprintf(err, errlen, "%s: unknown setting \"%.100s\" (see --help)", where,
			         name);
			rc = -1;
			break;
		}
		if (apply(s, value, cfg, where, err, errlen) != 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "config file %s: read error", path);
		rc = -1;
	}
	fclose(f);
	return rc;
}

/* Splits argv[*i] into a flag name and its value ("--x=v" or "--x v").
 * Returns 0, or -1 when the value is missing. */
static int flag_value(int argc, char **argv, int *i, const char **name, size_t *namelen,
                      const char **value)
{
	const char *a = argv[*i] + 2, *eq = strchr(a, '=');
	*name = a;
	if (eq) {
		*namelen = (size_t)(eq - a);
		*value = eq + 1;
		return 0;
	}
	*namelen = strlen(a);
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 0;
}

static int is_flag(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	const char *cfile = NULL;
	char where[128];

	config_defaults(cfg);

	/* --help and --version win over everything, even a bad flag. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			char buf[8192];
			size_t n = config_help(buf, sizeof(buf));
			fwrite(buf, 1, n < sizeof(buf) ? n : sizeof(buf) - 1, stdout);
			fflush(stdout);
			return 1;
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("sibyld %s\n", SIBYL_VERSION);
			fflush(stdout);
			return 1;
		}
		if (strcmp(argv[i], "--") == 0)
			break;
	}

	/* The file comes first, so find it before applying anything. */
	cfile = getenv("SIBYL_CONFIG");
	if (cfile && !*cfile)
		cfile = NULL;
	for (int i = 1; i < argc; i++) {
		if (is_flag(argv[i], "--config")) {
			const char *n, *v;
			size_t nl;
			if (flag_value(argc, argv, &i, &n, &nl, &v) != 0) {
				snprintf(err, errlen, "--config: missing FILE");
				return -1;
			}
			cfile = v;
		}
	}
	if (cfile) {
		if (strlen(cfile) >= sizeof(cfg->config_file)) {
			snprintf(err, errlen, "--config: path too long");
			return -1;
		}
		memcpy(cfg->config_file, cfile, strlen(cfile) + 1);
		if (load_file(cfile, cfg, err, errlen) != 0)
			return -1;
	}

	for (size_t i = 0; i < NSETTINGS; i++) {
		const char *v = getenv(settings[i].env);
		/* Empty means unset, as compose files write VAR= for "not given". */
		if (!v || !*v)
			continue;
		if (apply(&settings[i], v, cfg, settings[i].env, err, errlen) != 0)
			return -1;
	}
	const char *key = getenv("SIBYL_ADMIN_KEY");
	if (key && *key) {
		if (strlen(key) >= sizeof(cfg->admin_key)) {
			snprintf(err, errlen, "SIBYL_ADMIN_KEY: longer than %zu bytes",
			         sizeof(cfg->admin_key) - 1);
			return -1;
		}
		memcpy(cfg->admin_key, key, strlen(key) + 1);
	}

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *n, *v;
		size_t nl;
		const struct setting *s;
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			snprintf(err, errlen, "unexpected argument \"%.100s\" (see --help)", a);
			return -1;
		}
		if (strcmp(a, "--copy-db") == 0) {
			if (i + 2 >= argc || !*argv[i + 1] || !*argv[i + 2] ||
			    strlen(argv[i + 1]) >= sizeof(cfg->copy_from) ||
			    strlen(argv[i + 2]) >= sizeof(cfg->copy_to)) {
				snprintf(err, errlen,
				         "--copy-db: want FROM and TO (paths or URIs)");
				return -1;
			}
			memcpy(cfg->copy_from, argv[i + 1], strlen(argv[i + 1]) + 1);
			memcpy(cfg->copy_to, argv[i + 2], strlen(argv[i + 2]) + 1);
			i += 2;
			continue;
		}
		if (flag_value(argc, argv, &i, &n, &nl, &v) != 0) {
			snprintf(err, errlen, "%s: missing value", a);
			return -1;
		}
		if (nl == 6 && strncmp(n, "config", 6) == 0)
			continue;
		if (nl == 6 && strncmp(n, "backup", 6) == 0) {
			if (!*v || strlen(v) >= sizeof(cfg->backup_path)) {
				snprintf(err, errlen, "--backup: want a path");
				return -1;
			}
			memcpy(cfg->backup_path, v, strlen(v) + 1);
			continue;
		}
		s = NULL;
		/* Flags are spelled with '-'; find() also takes '_'. */
		if (!memchr(n, '_', nl))
			s = find(n, nl);
		if (!s) {
			snprintf(err, errlen, "unknown option --%.*s (see --help)",
			         (int)(nl > 100 ? 100 : nl), n);
			return -1;
		}
		snprintf(where, sizeof(where), "--%.*s", (int)(nl > 100 ? 100 : nl), n);
		if (apply(s, v, cfg, where, err, errlen) != 0)
			return -1;
	}

	if (!cfg->tls_cert[0] != !cfg->tls_key[0]) {
		snprintf(err, errlen, "tls_cert and tls_key must be given together");
		return -1;
	}
	if (!cfg->db_path[0]) {
		snprintf(err, errlen, "db: must not be empty");
		return -1;
	}
	return 0;
}
