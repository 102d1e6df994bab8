/* cli: what the `sibyl` tool's files share. Uses only <sibyl/sibyl.h>. */
#ifndef SIBYL_CLI_H
#define SIBYL_CLI_H

#include <getopt.h>
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
 * and printed as one JSON array by cli_list_close() only when every page
 * came, so that a failure prints nothing on stdout; else each table row is
 * printed as it comes, under what header() prints (may be NULL) with the
 * first page. */
struct cli_list {
	struct cli *cli;
	void (*header)(void);
	int pages;
	char *token; /* the next page's token, NULL after the last page */
	FILE *json;  /* open_memstream over buf */
	char *buf;
	size_t len;
};
void cli_list_open(struct cli_list *l, struct cli *cli, void (*header)(void));
/* Call once a page has come, before its items, with its next page token
 * (copied into l->token). */
void cli_list_page(struct cli_list *l, const char *next_page_token);
/* Adds an item's JSON with --json and returns 0; else returns 1: the caller
 * prints the table row. */
int cli_list_item(struct cli_list *l, const char *json);
/* Prints the JSON array when rc is EXIT_OK, frees what l holds; returns rc. */
int cli_list_close(struct cli_list *l, int rc);

/* strtoll/strtod with full checks; 0 or -1. */
int cli_parse_ll(const char *s, long long *out);
int cli_parse_double(const char *s, double *out);

/* Prints JSON text (one value) followed by a newline. */
void cli_print_json(const char *json);

/* Formats a number for tables: %.6g. */
void cli_fmt_number(char *buf, size_t len, double v);

/* "OWNER/STUDY" (or the full name) to "owners/OWNER/studies/STUDY"; prints a
 * usage error and returns NULL when malformed. Free with sibyl_free(). */
char *cli_study_name(const char *ref);

/* The trial's full name from STUDY-REF and ID, or from a full trial name
 * alone (id NULL). Free with free(). NULL after a usage message. */
char *cli_trial_name(const char *ref, const char *id);

#endif
