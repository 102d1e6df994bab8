/* config: sibyld's settings from one table {name, type, min, max, default};
 * precedence defaults < config file < SIBYL_* environment < flags.
 * `sibyld --help` lists them all. Owned by main; read-only after start-up. */
#ifndef SIBYL_CONFIG_H
#define SIBYL_CONFIG_H

#include <stddef.h>

struct config {
	char listen_host[256];     /* --listen HOST:PORT, default 127.0.0.1:8080 */
	int listen_port;           /* 0 binds a free port */
	char db_path[4096];        /* --db, default ./sibyl.db */
	char admin_key_file[4096]; /* --admin-key-file; "" when not given */
	char admin_key[256];       /* resolved admin key (file, SIBYL_ADMIN_KEY, or
	                              generated next to the database) */
	int threads;               /* --threads: HTTP worker threads */
	int suggest_threads;       /* --suggest-threads: workers for trials:suggest only */
	int shutdown_timeout_ms;   /* bounded drain on SIGTERM */
	char tls_cert[4096];       /* --tls-cert, "" for plain HTTP */
	char tls_key[4096];        /* --tls-key */
	char log_level[16];        /* error, warn, info, debug */
	char sync[8];              /* --sync: "normal" (default) or "full"; see
	                              docs/storage.md */
	int db_pool;               /* --db-pool: PostgreSQL connections of this daemon, default 8 */
	int wal_target_mb;         /* --wal-target-mb: the WAL's size bound, default 16 */
	/* hard limits on input */
	size_t max_body_bytes;    /* default 1 MiB */
	int max_json_depth;       /* default 32 */
	int max_parameters;       /* parameters per study (children included), default 100 */
	int max_categories;       /* categorical or discrete values per parameter, default 1000 */
	int max_metrics;          /* metrics per study, default 20 */
	int max_string_len;       /* ids, display names, category values, default 256 */
	int max_measurements;     /* measurements per trial, default 10000 */
	int max_suggestion_count; /* suggestionCount per call, default 100 */
	int auth_failures_per_second; /* per client address; 0: no limit */
	/* metadata of a study or trial (docs/server-api.md) */
	int max_metadata_keys;        /* keys per object, default 64 */
	int max_metadata_key_bytes;   /* default 256 */
	int max_metadata_value_bytes; /* default 4096 */
	int max_metadata_bytes;       /* keys and values together, default 65536 */
	/* limits against abuse (docs/admin.md "Limits and abuse") */
	int max_connections;             /* open connections in all */
	int max_connections_per_address; /* open connections from one client address */
	int connection_headroom;         /* slots kept free by shedding slow senders */
	int request_timeout_s;           /* whole request (headers and body) deadline */
	size_t max_body_memory;          /* bytes of request bodies held at once */
	int max_requests_per_key;        /* requests of one API key in flight */
	size_t max_answer_bytes_per_key; /* answer bytes of one key not yet sent */
	/* not settings: what this run was asked to do */
	char config_file[4096]; /* --config FILE or SIBYL_CONFIG, "" when none */
	char backup_path[4096]; /* --backup PATH: copy the database there and exit */
	char copy_from[4096];   /* --copy-db FROM TO: copy a whole database and exit */
	char copy_to[4096];
};

/* Fills cfg from defaults, the environment and argv. Returns 0, 1 when
 * --help or --version was printed (exit 0), or -1 with a message in err. */
int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Fills cfg with the defaults only (what config_load starts from). */
void config_defaults(struct config *cfg /* OUT */);

/* Writes the --help text (every setting with its flag, environment
 * variable, default and range) into buf; returns its length, like
 * snprintf (may be >= cap, then the text is cut). */
size_t config_help(char *buf, size_t cap);

#endif
