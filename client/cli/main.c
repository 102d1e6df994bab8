/* sibyl: the command line of the sibyl service, on libsibyl only. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cli_cmd commands[] = {
    {"study", cmd_study,
     "create, list, show and delete studies; their metadata; parameter importance"},
    {"trial", cmd_trial,
     "suggest, add, list, show, measure, complete, stop, delete trials; optimal ones"},
    {"run", cmd_run, "run a training command as a worker: suggest, run, report, repeat"},
    {"owner", cmd_owner, "create, list, show and delete owners (admin key)"},
    {"key", cmd_key, "create, list and delete an owner's API keys"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: sibyl [--url URL] [--key KEY] [--json] [--retry-window SECONDS] COMMAND "
	           "[ARGS...]\n\n"
	           "The server and key come from --url/--key or SIBYL_URL/SIBYL_KEY.\n"
	           "Several servers, comma-separated, are tried in turn when one is down.\n"
	           "A call that finds the server down or restarting is retried for\n"
	           "--retry-window seconds (or SIBYL_RETRY_WINDOW; default 300).\n"
	           "Commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-7s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n`sibyl COMMAND --help` tells more. Exit codes: 0 ok, 1 usage, 2 connection,\n"
	           "3 not found, 4 invalid argument, 5 authentication, 6 precondition,\n"
	           "7 other server error, 8 `run`: no trial succeeded, 130 interrupted.\n");
}

/* --retry-window and SIBYL_RETRY_WINDOW: seconds, 0 to a week. */
static int parse_window(const char *text, double *out)
{
	double v;
	if (cli_parse_double(text, &v) != 0 || !(v >= 0 && v <= 604800))
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli = {.url = getenv("SIBYL_URL"), .key = getenv("SIBYL_KEY")};
	static const struct option opts[] = {{"url", required_argument, NULL, 'u'},
	                                     {"key", required_argument, NULL, 'k'},
	                                     {"json", no_argument, NULL, 'J'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {"retry-window", required_argument, NULL, 'R'},
	                                     {NULL, 0, NULL, 0}};
	cli.retry_window = -1; /* the library's default */
	int ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			cli.url = optarg;
			break;
		case 'k':
			cli.key = optarg;
			break;
		case 'J':
			cli.json = 1;
			break;
		case 'R':
			if (parse_window(optarg, &cli.retry_window) != 0)
				return cli_usage("bad --retry-window \"%s\": seconds, 0 to 604800",
				                 optarg);
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("sibyl %s\n", SIBYL_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return cli_usage("unknown option %s", argv[optind - 1]);
		}
	}
	const char *env_window = getenv("SIBYL_RETRY_WINDOW");
	if (cli.retry_window < 0 && env_window && *env_window &&
	    parse_window(env_window, &cli.retry_window) != 0)
		return cli_usage("bad SIBYL_RETRY_WINDOW \"%s\": seconds, 0 to 604800", env_window);
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[optind];
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(commands[i].name, name) == 0) {
			int rc = commands[i].fn(&cli, argc - optind, argv + optind);
			sibyl_client_free(cli.client);
			return rc;
		}
	}
	usage(stderr);
	return cli_usage("unknown command \"%s\"", name);
}
