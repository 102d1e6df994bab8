/* sibyl owner: owners (teams), for the admin key. */
#include <jansson.h>
#include <stdio.h>
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

/* The member key of o as text: a string as it is, a number as written. */
static void member_text(json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		cli_fmt_number(buf, len, json_real_value(v));
	else
		snprintf(buf, len, "-");
}

/* name, display name, creation time and quota, one per line (0: no limit). */
static void print_owner(struct cli *cli, const struct sibyl_owner *o)
{
	if (cli->json) {
		cli_print_body(cli);
		return;
	}
	static const char *const quotas[] = {"maxStudies", "maxTrialsPerStudy", "maxActiveTrials",
	                                     "requestsPerSecond", "maxApiKeys"};
	json_t *j = o->json ? json_loads(o->json, 0, NULL) : NULL, *q = json_object_get(j, "quota");
	char v[64];
	printf("name:       %s\n", o->name);
	if (o->display_name && *o->display_name)
		printf("display:    %s\n", o->display_name);
	member_text(j, "createTime", v, sizeof v);
	printf("created:    %s\n", v);
	if (q) {
		printf("quota:     ");
		for (size_t i = 0; i < sizeof quotas / sizeof quotas[0]; i++) {
			member_text(q, quotas[i], v, sizeof v);
			printf(" %s=%s", quotas[i], v);
		}
		printf(" (0: no limit)\n");
	}
	json_decref(j);
}

/* One owner as a row of tab (OWNER DISPLAY NAME CREATED). */
static int owner_row(struct table *tab, const struct sibyl_owner *o)
{
	json_t *j = o->json ? json_loads(o->json, 0, NULL) : NULL;
	char created[64];
	member_text(j, "createTime", created, sizeof created);
	json_decref(j);
	return table_row(tab) || table_set(tab, 0, "%s", o->owner_id ? o->owner_id : o->name) ||
	               table_set(tab, 1, "%s", o->display_name ? o->display_name : "") ||
	               table_set(tab, 2, "%s", created)
	           ? -1
	           : 0;
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
	struct table tab;
	table_init(&tab);
	cli_list_open(&out, cli, NULL, "owners");
	rc = table_col(&tab, "OWNER") < 0 || table_col(&tab, "DISPLAY NAME") < 0 ||
	             table_col(&tab, "CREATED") < 0
	         ? cli_usage("out of memory")
	         : EXIT_OK;
	while (rc == EXIT_OK) {
		struct sibyl_owner_list *l;
		if (sibyl_owner_list(cli->client, 0, out.token, &l)) {
			rc = cli_fail(cli, "owner list");
			break;
		}
		cli_list_page(&out, l->next_page_token);
		for (size_t i = 0; rc == EXIT_OK && cli_list_rows(&out) && i < l->n; i++)
			if (owner_row(&tab, l->owners[i]) != 0)
				rc = cli_usage("out of memory");
		sibyl_owner_list_free(l);
		if (!out.token)
			break;
	}
	if (rc == EXIT_OK && cli_list_rows(&out))
		table_print(&tab, stdout);
	table_free(&tab);
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
