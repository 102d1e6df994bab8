/* cmd_metadata: metadata on the command line: KEY=VALUE arguments
 * (`study create --metadata`, `set-metadata`), and printing it in `show`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_md_free(struct cli_md *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->values);
	*m = (struct cli_md){0};
}

/* Appends key (copied) and value (borrowed; NULL: delete). */
static int md_push(struct cli_md *m, const char *key, size_t klen, const char *value)
{
	char **k = realloc(m->keys, (m->n + 1) * sizeof *k);
	if (k)
		m->keys = k;
	const char **v = k ? realloc(m->values, (m->n + 1) * sizeof *v) : NULL;
	if (v)
		m->values = v;
	char *copy = v ? malloc(klen + 1) : NULL;
	if (!copy)
		return cli_usage("out of memory");
	memcpy(copy, key, klen);
	copy[klen] = '\0';
	m->keys[m->n] = copy;
	m->values[m->n++] = value;
	return 0;
}

int cli_md_add(struct cli_md *m, const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return cli_usage("bad metadata \"%s\": want KEY=VALUE (VALUE may be empty)", arg);
	return md_push(m, arg, (size_t)(eq - arg), eq + 1);
}

int cli_md_delete(struct cli_md *m, const char *key)
{
	if (!*key || strchr(key, '='))
		return cli_usage("bad --delete \"%s\": want a metadata KEY", key);
	return md_push(m, key, strlen(key), NULL);
}

void cli_print_metadata(const char *label, const struct sibyl_metadata_entry *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%s%s=%s\n", label, m[i].key, m[i].value);
}

/* The study or trial named by argv[optind...]: OWNER/STUDY, and for a
 * trial OWNER/STUDY ID or a full trial name. */
static char *take_name(int trial, int argc, char **argv)
{
	if (optind >= argc) {
		if (trial)
			cli_usage("no trial given\n%s", cli_trial_forms);
		else
			cli_usage("no study given");
		return NULL;
	}
	const char *ref = argv[optind++];
	if (!trial) {
		char *s = cli_study_name(ref);
		char *copy = s ? strdup(s) : NULL;
		sibyl_free(s);
		return copy;
	}
	if (cli_trial_whole(ref))
		return cli_trial_name(ref, NULL);
	if (optind >= argc) {
		cli_usage("no trial id after %s\n%s", ref, cli_trial_forms);
		return NULL;
	}
	return cli_trial_name(ref, argv[optind++]);
}

static int send_metadata(struct cli *cli, int trial, const char *name, const struct cli_md *m)
{
	const char *const *keys = (const char *const *)m->keys;
	if (trial) {
		struct sibyl_trial *t;
		if (sibyl_trial_set_metadata(cli->client, name, keys, m->values, m->n, &t))
			return cli_fail(cli, "trial set-metadata");
		if (cli->json)
			cli_print_json(t->json);
		else
			cli_print_metadata("", t->metadata, t->n_metadata);
		sibyl_trial_free(t);
		return EXIT_OK;
	}
	struct sibyl_study *s;
	if (sibyl_study_set_metadata(cli->client, name, keys, m->values, m->n, &s))
		return cli_fail(cli, "study set-metadata");
	if (cli->json)
		cli_print_json(s->json);
	else
		cli_print_metadata("", s->metadata, s->n_metadata);
	sibyl_study_free(s);
	return EXIT_OK;
}

int cli_set_metadata(struct cli *cli, int argc, char **argv, const char *group,
                     const struct cli_action *actions)
{
	const struct cli_action *a = actions;
	while (a->name && strcmp(a->name, "set-metadata") != 0)
		a++;
	static const struct option opts[] = {{"delete", required_argument, NULL, 'd'},
	                                     {NULL, 0, NULL, 0}};
	int trial = strcmp(group, "trial") == 0, ch, rc = EXIT_USAGE;
	struct cli_md m = {0};
	char *name = NULL;
	while ((ch = cli_getopt(cli, argc, argv, "h", opts)) != -1) {
		if (ch == 'h') {
			rc = cli_action_help(group, a);
			goto out;
		}
		if (ch != 'd' || cli_md_delete(&m, optarg))
			goto out;
	}
	if (!(name = take_name(trial, argc, argv)))
		goto out;
	for (; optind < argc; optind++)
		if (cli_md_add(&m, argv[optind]))
			goto out;
	if (m.n == 0) {
		rc = cli_usage("usage: sibyl %s %s", group, a->usage);
		goto out;
	}
	if (cli_connect(cli) == 0)
		rc = send_metadata(cli, trial, name, &m);
out:
	free(name);
	cli_md_free(&m);
	return rc;
}
