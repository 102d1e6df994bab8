/* cli: what the `sibyl` tool's files share. Uses only <sibyl/sibyl.h>. */
#ifndef SIBYL_CLI_H
#define SIBYL_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include <sibyl/sibyl.h>

/* Exit codes: what failed (docs/client.md lists them). */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_USAGE = 1,        /* bad command line, unreadable file, command not runnable */
	EXIT_CONNECT = 2,      /* no answer from the server */
	EXIT_NOT_FOUND = 3,    /* NOT_FOUND */
	EXIT_INVALID = 4,      /* INVALID_ARGUMENT, OUT_OF_RANGE */
	EXIT_AUTH = 5,         /* UNAUTHENTICATED, PERMISSION_DENIED */
	EXIT_PRECONDITION = 6, /* FAILED_PRECONDITION, ALREADY_EXISTS, ABORTED */
	EXIT_SERVER = 7,       /* any other error from the server or the client library */
	EXIT_FAILURES = 8,     /* `sibyl run`: no trial succeeded, or --max-failures in a row */
	EXIT_INTERRUPTED = 130 /* `sibyl run` stopped by SIGINT or SIGTERM */
};

struct cli {
	const char *url;
	const char *key;
	int json; /* --json: machine-readable output */
	struct sibyl_client *client;
	double retry_window; /* --retry-window or SIBYL_RETRY_WINDOW seconds; < 0: default */
};

/* A subcommand group: argv[0] is the group's name ("study"). */
struct cli_cmd {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *help; /* one line for `sibyl --help` */
};

int cmd_owner(struct cli *cli, int argc, char **argv);
int cmd_key(struct cli *cli, int argc, char **argv);
int cmd_study(struct cli *cli, int argc, char **argv);
int cmd_trial(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);

/* Prints "sibyl: <what>: <status>: <message>" to stderr and returns the exit
 * code for the client's last error. */
int cli_fail(struct cli *cli, const char *what);

/* The exit code for an enum sibyl_code (positive or negated). */
int cli_exit_code(int code);

/* Prints a usage error to stderr and returns EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A new client for cli's server and key, with its retry window and a wait
 * hook that says on stderr when a call waits for the server; NULL when out
 * of memory. */
struct sibyl_client *cli_client_new(const struct cli *cli);

/* Makes cli->client when not made yet; returns 0, or EXIT_USAGE after
 * printing why (no URL). */
int cli_connect(struct cli *cli);

/* getopt_long over argv with the options every subcommand takes appended to
 * longopts: --json, --url and --key are applied to cli and skipped; --help
 * returns 'h'; the rest as getopt_long returns them. */
int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
               const struct option *longopts);

/* Finds the action argv[optind] in a table and runs it; prints the group's
 * help for --help, no action or an unknown one. */
struct cli_action {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *usage; /* "create OWNER [--display-name NAME]" */
	const char *help;
};
int cli_dispatch(struct cli *cli, const char *group, const struct cli_action *actions, int argc,
                 char **argv);

/* Prints an action's usage and help (for --help) and returns EXIT_OK. */
int cli_action_help(const char *group, const struct cli_action *a);

/* For actions that take only the common options: parses them, checks that
 * npos arguments follow (any number when npos < 0) and connects. Returns -1
 * to go on (the arguments from argv[optind]), else the exit code to return. */
int cli_args(struct cli *cli, int argc, char **argv, const char *group, const struct cli_action *a,
             int npos);

/* A list command's output, all pages joined. With --json the items are kept
 * as the server wrote them (the array at `member` of each page's body, see
 * rawjson_get) and printed as one JSON array by cli_list_close() only when
 * every page came, so that a failure prints nothing on stdout; else each
 * table row is printed as it comes, under what header() prints (may be
 * NULL) with the first page. */
struct cli_list {
	struct cli *cli;
	void (*header)(void);
	const char *member; /* "trials", "response.trials"... */
	int pages;
	char *token; /* the next page's token, NULL after the last page */
	FILE *json;  /* open_memstream over buf */
	char *buf;
	size_t len;
	size_t items;
};
void cli_list_open(struct cli_list *l, struct cli *cli, void (*header)(void), const char *member);
/* Call once a page has come (it is the client's last answer), before its
 * items, with its next page token (copied into l->token). With --json it
 * takes the page's items. */
void cli_list_page(struct cli_list *l, const char *next_page_token);
/* 1 when the caller prints table rows (no --json), else 0. */
int cli_list_rows(const struct cli_list *l);
/* Prints the JSON array when rc is EXIT_OK, frees what l holds; returns rc. */
int cli_list_close(struct cli_list *l, int rc);

/* Raw JSON text (rawjson.c). rawjson_get: the value at path (dotted member
 * names, "" for the whole text) within text, pointing into it, or NULL.
 * rawjson_len: the length of the value starting there. rawjson_each: calls
 * fn for each item of the array at path, as written; 0 (also when absent)
 * or -1 when it is not an array. */
const char *rawjson_get(const char *text, const char *path);
size_t rawjson_len(const char *value);
int rawjson_each(const char *text, const char *path,
                 void (*fn)(const char *item, size_t len, void *ud), void *ud);

/* `--param SPEC` (param_spec.c) added to params, the spec's "parameters"
 * array: a new ParameterSpec, or with "@PARENT=V1,V2" a conditional child
 * hung under PARENT (found among params and their children). 0, or -1
 * after a message that names the wrong part and lists the forms. */
int pspec_add(json_t *params, const char *arg);
extern const char pspec_forms[];

/* A text table (table.c): named columns, rows of cells (NULL prints as "-"
 * aligned, empty in CSV). Functions returning int give 0 (or the column's
 * index) or -1 when memory runs out. */
struct table {
	size_t ncols, nrows;
	char **heads;
	char ***rows; /* nrows x ncols */
};
void table_init(struct table *t);
void table_free(struct table *t);
/* The column of that name, added at the right when new. */
int table_col(struct table *t, const char *name);
/* Starts a row: table_set() fills the last one. */
int table_row(struct table *t);
int table_set(struct table *t, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Aligned: every column as wide as its widest cell, two spaces between. */
void table_print(const struct table *t, FILE *f);
/* CSV, RFC 4180: a header line, then the rows; CRLF line ends. */
void table_print_csv(const struct table *t, FILE *f);

/* Trials as a table (trial_table.c). ttab_keep takes a page (freed on
 * failure too); ttab_print prints the kept trials aligned: ID, STATE,
 * CLIENT, a column per parameter, one per final metric, and REASON when a
 * trial is infeasible. Both return an exit code. */
struct ttab {
	struct sibyl_trial_list **pages;
	size_t n;
};
int ttab_keep(struct ttab *k, struct sibyl_trial_list *l);
void ttab_free(struct ttab *k);
int ttab_print(const struct ttab *k);
int ttab_print_one(const struct sibyl_trial *t);
/* `trial list --csv`: the server's CSV (GET .../trials?alt=csv) unchanged;
 * from a server that refuses alt=csv (400), the same columns built from the
 * JSON list: id, state, each parameter of the spec, each metric, startTime,
 * endTime, clientId. Returns the exit code. */
int ttab_csv(struct cli *cli, const char *study, const char *filter);

/* Calls fn with the id of each parameter of a StudySpec (JSON text),
 * conditional children after their parent. */
void cli_each_param(const char *spec_json, void (*fn)(const char *id, void *ud), void *ud);

/* s percent-escaped for a query string into buf (truncated to fit). */
void cli_escape(const char *s, char *buf, size_t len);

/* Upper-cases s in place (an enum value typed in lower case: --state). */
void cli_upcase(char *s);

/* strtoll/strtod with full checks; 0 or -1. */
int cli_parse_ll(const char *s, long long *out);
int cli_parse_double(const char *s, double *out);

/* Prints JSON text (one value) followed by a newline. */
void cli_print_json(const char *json);

/* Prints the body of the client's last answer exactly as the server sent
 * it, followed by a newline (--json of a command that shows one object). */
void cli_print_body(struct cli *cli);

/* Formats a number for tables: %.6g. */
void cli_fmt_number(char *buf, size_t len, double v);

/* "OWNER/STUDY" (or the full name) to "owners/OWNER/studies/STUDY"; prints a
 * usage error and returns NULL when malformed. Free with sibyl_free(). */
char *cli_study_name(const char *ref);

/* The trial's full name from STUDY-REF and ID, or from a full trial name
 * or OWNER/STUDY/ID alone (id NULL). Free with free(). NULL after a usage
 * message. */
char *cli_trial_name(const char *ref, const char *id);
/* 1 when ref alone names a trial (a full trial name or OWNER/STUDY/ID). */
int cli_trial_whole(const char *ref);
/* The forms of TRIAL, for help and usage messages. */
extern const char cli_trial_forms[];

/* Metadata on the command line (cmd_metadata.c). Keys are copies, values
 * point into argv (NULL: delete the key). */
struct cli_md {
	size_t n;
	char **keys;
	const char **values;
};
/* "KEY=VALUE" (VALUE may be empty); EXIT_USAGE after a message when
 * malformed. */
int cli_md_add(struct cli_md *m, const char *arg);
/* KEY to delete. */
int cli_md_delete(struct cli_md *m, const char *key);
void cli_md_free(struct cli_md *m);
/* One "LABELkey=value" line per entry. */
void cli_print_metadata(const char *label, const struct sibyl_metadata_entry *m, size_t n);
/* `sibyl study|trial set-metadata NAME KEY=VALUE... [--delete KEY]...`;
 * actions: the group's table, with its "set-metadata" row. */
int cli_set_metadata(struct cli *cli, int argc, char **argv, const char *group,
                     const struct cli_action *actions);

#endif
