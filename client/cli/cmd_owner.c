/* sibyl owner: owners (teams), for the admin key. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int owner_create(struct cli *cli, int argc, char **argv);
static int owner_list(struct cli *cli, int argc, char **argv);
static int owner_show(struct cli *cli, int argc, char **argv);
static int owner_delete(struct cli *cli, int argc, char **argv);

static const struct cli_action actions[] = {
    {"create", owner_create, "create OWNER [--display-name NAME]",
     "Creates the owner OWNER (a team). Needs the admin key."},
    {"list", owner_list, "list", "Lists all owners. Needs the admin key."},
    {"show", owner_show, "show OWNER", "Shows one owner."},
    {"delete", owner_delete, "delete OWNER", "Deletes the owner. Needs the admin key."},
    {NULL, NULL, NULL, NULL},
};

static void print_owner(struct cli *cli, const struct sibyl_owner *o)
{
	if (cli->json) {
		cli_print_body(cli);
		return;
	}
	printf("%-24s %s\n", o->owner_id ? o->owner_id : o->name,
	       o->display_name ? o->display_name : "");
}

static int owner_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"display-name", required_argument, NULL, 'd'},
	                                     {NULL, 0, NULL, 0}};
	const char *display = NULL;
	int ch;
	while ((ch = cli_getopt(cli, argc, argv, "h", opts)) != -1) {
		if (ch == 'h')
			return cli_action_help("owner", &actions[0]);
		if (ch == 'd')
			display = optarg;
		else
			return EXIT_USAGE;
	}
	if (argc - optind != 1)
		return cli_usage("usage: sibyl owner %s", actions[0].usage);
	if (cli_connect(cli))
		return EXIT_USAGE;
	struct sibyl_owner *o;
	if (sibyl_owner_create(cli->client, argv[optind], display, &o))
		return cli_fail(cli, "owner create");
	print_owner(cli, o);
	sibyl_owner_free(o);
	return EXIT_OK;
}

static int owner_list(struct cli *cli, int argc, char **argv)
{
	int rc = cli_args(cli, argc, argv, "owner", &actions[1], 0);
	if (rc >= 0)
		return rc;
	struct cli_list out;
	cli_list_open(&out, cli, NULL, "owners");
	rc = EXIT_OK;
	do {
		struct sibyl_owner_list *l;
		if (sibyl_owner_list(cli->client, 0, out.token, &l)) {
			rc = cli_fail(cli, "owner list");
			break;
		}
		cli_list_page(&out, l->next_page_token);
		for (size_t i = 0; i < l->n; i++)
			if (cli_list_rows(&out))
				print_owner(cli, l->owners[i]);
		sibyl_owner_list_free(l);
	} while (out.token);
	return cli_list_close(&out, rc);
}

static int owner_show(struct cli *cli, int argc, char **argv)
{
	int rc = cli_args(cli, argc, argv, "owner", &actions[2], 1);
	if (rc >= 0)
		return rc;
	struct sibyl_owner *o;
	if (sibyl_owner_get(cli->client, argv[optind], &o))
		return cli_fail(cli, "owner show");
	print_owner(cli, o);
	sibyl_owner_free(o);
	return EXIT_OK;
}

static int owner_delete(struct cli *cli, int argc, char **argv)
{
	int rc = cli_args(cli, argc, argv, "owner", &actions[3], 1);
	if (rc >= 0)
		return rc;
	if (sibyl_owner_delete(cli->client, argv[optind]))
		return cli_fail(cli, "owner delete");
	if (cli->json)
		cli_print_json("{}");
	return EXIT_OK;
}

int cmd_owner(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "owner", actions, argc, argv);
}
