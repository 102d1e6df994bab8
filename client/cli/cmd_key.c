/* sibyl key: an owner's API keys (admin, or that owner's WRITER). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int key_create(struct cli *cli, int argc, char **argv);
static int key_list(struct cli *cli, int argc, char **argv);
static int key_delete(struct cli *cli, int argc, char **argv);

static const struct cli_action actions[] = {
    {"create", key_create, "create OWNER [--role WRITER|READER] [--display-name NAME]",
     "Creates an API key for OWNER (default role WRITER) and prints its secret,\n"
     "which the server shows this once. With --json: {name, role, key}."},
    {"list", key_list, "list OWNER", "Lists OWNER's API keys (never their secrets)."},
    {"delete", key_delete, "delete OWNER KEY_ID", "Deletes the key owners/OWNER/apiKeys/KEY_ID."},
    {NULL, NULL, NULL, NULL},
};

static int key_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
	                                     {"display-name", required_argument, NULL, 'd'},
	                                     {NULL, 0, NULL, 0}};
	const char *role = "WRITER", *display = NULL;
	int ch;
	while ((ch = cli_getopt(cli, argc, argv, "h", opts)) != -1) {
		if (ch == 'h')
			return cli_action_help("key", &actions[0]);
		if (ch == 'r') {
			cli_upcase(optarg);
			role = optarg;
		} else if (ch == 'd')
			display = optarg;
		else
			return EXIT_USAGE;
	}
	if (argc - optind != 1)
		return cli_usage("usage: sibyl key %s", actions[0].usage);
	if (cli_connect(cli))
		return EXIT_USAGE;
	struct sibyl_api_key *k;
	if (sibyl_api_key_create(cli->client, argv[optind], role, display, &k))
		return cli_fail(cli, "key create");
	if (cli->json)
		cli_print_body(cli);
	else
		printf("%s %s\nkey: %s\n", k->name, k->role ? k->role : "", k->key ? k->key : "");
	sibyl_api_key_free(k);
	return EXIT_OK;
}

static int key_list(struct cli *cli, int argc, char **argv)
{
	int rc = cli_args(cli, argc, argv, "key", &actions[1], 1);
	if (rc >= 0)
		return rc;
	struct cli_list out;
	cli_list_open(&out, cli, NULL, "apiKeys");
	rc = EXIT_OK;
	do {
		struct sibyl_api_key_list *l;
		if (sibyl_api_key_list(cli->client, argv[optind], 0, out.token, &l)) {
			rc = cli_fail(cli, "key list");
			break;
		}
		cli_list_page(&out, l->next_page_token);
		for (size_t i = 0; i < l->n; i++) {
			const struct sibyl_api_key *k = l->keys[i];
			if (cli_list_rows(&out))
				printf("%-40s %-7s %s\n", k->name, k->role ? k->role : "",
				       k->display_name ? k->display_name : "");
		}
		sibyl_api_key_list_free(l);
	} while (out.token);
	return cli_list_close(&out, rc);
}

static int key_delete(struct cli *cli, int argc, char **argv)
{
	int rc = cli_args(cli, argc, argv, "key", &actions[2], 2);
	if (rc >= 0)
		return rc;
	char name[512];
	const char *id = argv[optind + 1];
	if (strncmp(id, "owners/", 7) == 0)
		snprintf(name, sizeof name, "%s", id);
	else
		snprintf(name, sizeof name, "owners/%s/apiKeys/%s", argv[optind], id);
	if (sibyl_api_key_delete(cli->client, name))
		return cli_fail(cli, "key delete");
	if (cli->json)
		cli_print_json("{}");
	return EXIT_OK;
}

int cmd_key(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "key", actions, argc, argv);
}
