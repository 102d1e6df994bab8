/* sibyl trial: suggest, list, show, measure, complete, stop, delete, optimal,
 * add, set-metadata. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int trial_suggest(struct cli *cli, int argc, char **argv);
static int trial_list(struct cli *cli, int argc, char **argv);
static int trial_show(struct cli *cli, int argc, char **argv);
static int trial_measure(struct cli *cli, int argc, char **argv);
static int trial_complete(struct cli *cli, int argc, char **argv);
static int trial_stop(struct cli *cli, int argc, char **argv);
static int trial_delete(struct cli *cli, int argc, char **argv);
static int trial_optimal(struct cli *cli, int argc, char **argv);
static int trial_add(struct cli *cli, int argc, char **argv);
static int trial_set_metadata(struct cli *cli, int argc, char **argv);

/* TRIAL below is "OWNER/STUDY ID", OWNER/STUDY/ID or a full trial name
 * (cli_trial_forms). */
static const struct cli_action actions[] = {
    {"suggest", trial_suggest, "suggest OWNER/STUDY --client-id ID [--count N]",
     "Asks for N (default 1) trials for worker ID. A worker that asks again gets\n"
     "its own ACTIVE trials back first."},
    {"list", trial_list, "list OWNER/STUDY [--state STATE] [--csv]",
     "Lists the study's trials, or only those in STATE (REQUESTED, ACTIVE, STOPPING,\n"
     "SUCCEEDED, INFEASIBLE): a column per parameter and per final metric.\n"
     "--csv prints CSV instead: id, state, each parameter, each metric, startTime,\n"
     "endTime, clientId."},
    {"show", trial_show, "show TRIAL", "Shows a trial with its parameters and measurements."},
    {"measure", trial_measure, "measure TRIAL METRIC=VALUE... [--step N] [--elapsed SECONDS]",
     "Reports an intermediate measurement."},
    {"complete", trial_complete, "complete TRIAL [METRIC=VALUE...] [--infeasible REASON]",
     "Completes the trial with these final metrics; with none, the server takes\n"
     "them from the reported measurements. --infeasible marks it INFEASIBLE."},
    {"stop", trial_stop, "stop TRIAL", "Asks the trial's worker to stop (state STOPPING)."},
    {"delete", trial_delete, "delete TRIAL", "Deletes a trial."},
    {"optimal", trial_optimal, "optimal OWNER/STUDY",
     "Lists the optimal trials: the best one, or the Pareto front."},
    {"add", trial_add, "add OWNER/STUDY PARAM=VALUE... [--result METRIC=VALUE]...",
     "Adds a trial by hand: REQUESTED (the next worker to ask gets it), or with\n"
     "--result SUCCEEDED, to import a result known from elsewhere."},
    {"set-metadata", trial_set_metadata, "set-metadata TRIAL KEY=VALUE... [--delete KEY]...",
     "Sets these metadata keys of the trial (the other keys stay) and deletes the\n"
     "keys named by --delete; prints the trial's metadata as it is then."},
    {NULL, NULL, NULL, NULL},
};

static void print_params(const struct sibyl_trial *t)
{
	for (size_t i = 0; i < t->n_parameters; i++) {
		const struct sibyl_parameter *p = &t->parameters[i];
		char num[32];
		cli_fmt_number(num, sizeof num, p->number);
		printf("%s%s=%s", i ? " " : "", p->parameter_id,
		       p->type == SIBYL_VALUE_STRING ? p->string : num);
	}
}

static void print_metrics(const struct sibyl_measurement *m)
{
	for (size_t i = 0; m && i < m->n_metrics; i++) {
		char num[32];
		cli_fmt_number(num, sizeof num, m->metrics[i].value);
		printf("%s%s=%s", i ? " " : "", m->metrics[i].metric_id, num);
	}
}

/* One trial: its JSON as the server sent it, or a one-row table. */
static void print_row(struct cli *cli, const struct sibyl_trial *t)
{
	if (cli->json)
		cli_print_body(cli);
	else
		ttab_print_one(t);
}

static void print_trial(struct cli *cli, const struct sibyl_trial *t)
{
	if (cli->json) {
		cli_print_body(cli);
		return;
	}
	printf("name:        %s\nstate:       %s\n", t->name, sibyl_trial_state_name(t->state));
	if (t->client_id)
		printf("client:      %s\n", t->client_id);
	fputs("parameters:  ", stdout);
	print_params(t);
	fputc('\n', stdout);
	for (size_t i = 0; i < t->n_measurements; i++) {
		const struct sibyl_measurement *m = &t->measurements[i];
		fputs("measurement:", stdout);
		if (m->step_count >= 0)
			printf(" step=%lld", m->step_count);
		if (m->elapsed_seconds >= 0)
			printf(" elapsed=%.3gs", m->elapsed_seconds);
		fputc(' ', stdout);
		print_metrics(m);
		fputc('\n', stdout);
	}
	if (t->final_measurement) {
		fputs("final:       ", stdout);
		print_metrics(t->final_measurement);
		fputc('\n', stdout);
	}
	if (t->infeasible_reason)
		printf("reason:      %s\n", t->infeasible_reason);
	if (t->start_time)
		printf("started:     %s\n", t->start_time);
	if (t->end_time)
		printf("ended:       %s\n", t->end_time);
	cli_print_metadata("metadata:    ", t->metadata, t->n_metadata);
}

/* One page of trials: its token into out; its items kept with --json (by
 * out), else into k for the table. */
static int take_page(struct cli_list *out, struct ttab *k, struct sibyl_trial_list *l)
{
	cli_list_page(out, l->next_page_token);
	if (!cli_list_rows(out)) {
		sibyl_trial_list_free(l);
		return EXIT_OK;
	}
	return ttab_keep(k, l) ? cli_usage("out of memory") : EXIT_OK;
}

/* Prints the table when rc is EXIT_OK and rows are wanted; frees k and
 * out; returns the exit code. */
static int finish_list(struct cli_list *out, struct ttab *k, int rc)
{
	if (rc == EXIT_OK && cli_list_rows(out))
		rc = ttab_print(k);
	ttab_free(k);
	return cli_list_close(out, rc);
}

/* The trial named by argv[optind] (and argv[optind+1] unless it is a full
 * name); advances optind. NULL after a usage message. */
static char *take_trial(int argc, char **argv)
{
	if (optind >= argc) {
		cli_usage("no trial given\n%s", cli_trial_forms);
		return NULL;
	}
	const char *ref = argv[optind++];
	if (cli_trial_whole(ref))
		return cli_trial_name(ref, NULL);
	if (optind >= argc) {
		cli_usage("no trial id after %s\n%s", ref, cli_trial_forms);
		return NULL;
	}
	return cli_trial_name(ref, argv[optind++]);
}

/* METRIC=VALUE arguments into m (metric ids point into argv). */
static int parse_metrics(int argc, char **argv, struct sibyl_measurement *m)
{
	m->n_metrics = 0;
	m->metrics = calloc((size_t)(argc > 0 ? argc : 1), sizeof *m->metrics);
	if (!m->metrics)
		return cli_usage("out of memory");
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		double v;
		if (!eq || eq == argv[i] || cli_parse_double(eq + 1, &v))
			return cli_usage("bad metric \"%s\": want METRIC=NUMBER", argv[i]);
		*eq = '\0';
		m->metrics[m->n_metrics].metric_id = argv[i];
		m->metrics[m->n_metrics++].value = v;
	}
	return 0;
}

static int trial_suggest(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"client-id", required_argument, NULL, 'c'},
	                                     {"count", required_argument, NULL, 'n'},
	                                     {NULL, 0, NULL, 0}};
	const char *client_id = NULL;
	long long count = 1;
	int ch;
	while ((ch = cli_getopt(cli, argc, argv, "h", opts)) != -1) {
		if (ch == 'h')
			return cli_action_help("trial", &actions[0]);
		if (ch == 'c')
			client_id = optarg;
		else if (ch == 'n') {
			if (cli_parse_ll(optarg, &count) || count < 1 || count > 1000)
				return cli_usage("bad --count \"%s\"", optarg);
		} else
			return EXIT_USAGE;
	}
	if (argc - optind != 1 || !client_id)
		return cli_usage("usage: sibyl trial %s", actions[0].usage);
	if (cli_connect(cli))
		return EXIT_USAGE;
	char *study = cli_study_name(argv[optind]);
	if (!study)
		return EXIT_USAGE;
	struct sibyl_trial_list *l;
	struct cli_list out;
	struct ttab k = {0};
	int rc;
	cli_list_open(&out, cli, NULL, "response.trials");
	if (sibyl_trial_suggest(cli->client, study, (int)count, client_id, &l))
		rc = cli_fail(cli, "trial suggest");
	else
		rc = take_page(&out, &k, l);
	sibyl_free(study);
	return finish_list(&out, &k, rc);
}

static int trial_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"state", required_argument, NULL, 's'},
	                                     {"csv", no_argument, NULL, 'C'},
	                                     {NULL, 0, NULL, 0}};
	char filter[64] = "";
	int ch, csv = 0;
	while ((ch = cli_getopt(cli, argc, argv, "h", opts)) != -1) {
		if (ch == 'h')
			return cli_action_help("trial", &actions[1]);
		if (ch == 's') {
			cli_upcase(optarg);
			snprintf(filter, sizeof filter, "state=%s", optarg);
		} else if (ch == 'C')
			csv = 1;
		else
			return EXIT_USAGE;
	}
	if (csv && cli->json)
		return cli_usage("--csv and --json: choose one");
	if (argc - optind != 1)
		return cli_usage("usage: sibyl trial %s", actions[1].usage);
	if (cli_connect(cli))
		return EXIT_USAGE;
	char *study = cli_study_name(argv[optind]);
	if (!study)
		return EXIT_USAGE;
	if (csv) {
		int rc = ttab_csv(cli, study, filter[0] ? filter : NULL);
		sibyl_free(study);
		return rc;
	}
	struct cli_list out;
	struct ttab k = {0};
	int rc = EXIT_OK;
	cli_list_open(&out, cli, NULL, "trials");
	do {
		struct sibyl_trial_list *l;
		if (sibyl_trial_list(cli->client, study, filter[0] ? filter : NULL, 0, out.token,
		                     &l)) {
			rc = cli_fail(cli, "trial list");
			break;
		}
		rc = take_page(&out, &k, l);
	} while (rc == EXIT_OK && out.token);
	sibyl_free(study);
	return finish_list(&out, &k, rc);
}

static int trial_show(struct cli *cli, int argc, char **argv)
{
	int rc = cli_args(cli, argc, argv, "trial", &actions[2], -1);
	if (rc >= 0)
		return rc;
	char *name = take_trial(argc, argv);
	if (!name)
		return EXIT_USAGE;
	if (optind != argc) {
		free(name);
		return cli_usage("usage: sibyl trial %s", actions[2].usage);
	}
	struct sibyl_trial *t;
	if (sibyl_trial_get(cli->client, name, &t)) {
		rc = cli_fail(cli, "trial show");
	} else {
		print_trial(cli, t);
		sibyl_trial_free(t);
		rc = EXIT_OK;
	}
	free(name);
	return rc;
}

static int trial_measure(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"step", required_argument, NULL, 's'},
	                                     {"elapsed", required_argument, NULL, 'e'},
	                                     {NULL, 0, NULL, 0}};
	struct sibyl_measurement m = {.elapsed_seconds = -1, .step_count = -1};
	int ch, rc;
	while ((ch = cli_getopt(cli, argc, argv, "h", opts)) != -1) {
		if (ch == 'h')
			return cli_action_help("trial", &actions[3]);
		if (ch == 's') {
			if (cli_parse_ll(optarg, &m.step_count) || m.step_count < 0)
				return cli_usage("bad --step \"%s\"", optarg);
		} else if (ch == 'e') {
			if (cli_parse_double(optarg, &m.elapsed_seconds) || m.elapsed_seconds < 0)
				return cli_usage("bad --elapsed \"%s\"", optarg);
		} else
			return EXIT_USAGE;
	}
	if (cli_connect(cli))
		return EXIT_USAGE;
	char *name = take_trial(argc, argv);
	if (!name)
		return EXIT_USAGE;
	if (optind == argc) {
		free(name);
		return cli_usage("usage: sibyl trial %s", actions[3].usage);
	}
	struct sibyl_trial *t = NULL;
	if ((rc = parse_metrics(argc - optind, argv + optind, &m)) != 0)
		goto out;
	if (sibyl_trial_add_measurement(cli->client, name, &m, &t)) {
		rc = cli_fail(cli, "trial measure");
		goto out;
	}
	if (cli->json)
		cli_print_body(cli);
	else
		printf("%s %s (%zu measurements)\n", t->name, sibyl_trial_state_name(t->state),
		       t->n_measurements);
	rc = EXIT_OK;
out:
	sibyl_trial_free(t);
	free(m.metrics);
	free(name);
	return rc;
}

static int trial_complete(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"infeasible", required_argument, NULL, 'i'},
	                                     {NULL, 0, NULL, 0}};
	struct sibyl_measurement m = {.elapsed_seconds = -1, .step_count = -1};
	const char *reason = NULL;
	int ch, rc;
	while ((ch = cli_getopt(cli, argc, argv, "h", opts)) != -1) {
		if (ch == 'h')
			return cli_action_help("trial", &actions[4]);
		if (ch == 'i')
			reason = optarg;
		else
			return EXIT_USAGE;
	}
	if (cli_connect(cli))
		return EXIT_USAGE;
	char *name = take_trial(argc, argv);
	if (!name)
		return EXIT_USAGE;
	struct sibyl_trial *t = NULL;
	int nmetrics = argc - optind;
	if ((rc = parse_metrics(nmetrics, argv + optind, &m)) != 0)
		goto out;
	if (sibyl_trial_complete(cli->client, name, nmetrics ? &m : NULL, reason != NULL, reason,
	                         &t)) {
		rc = cli_fail(cli, "trial complete");
		goto out;
	}
	print_row(cli, t);
	rc = EXIT_OK;
out:
	sibyl_trial_free(t);
	free(m.metrics);
	free(name);
	return rc;
}

static int trial_simple(struct cli *cli, int argc, char **argv, const struct cli_action *a,
                        int stop)
{
	int rc = cli_args(cli, argc, argv, "trial", a, -1);
	if (rc >= 0)
		return rc;
	char *name = take_trial(argc, argv);
	if (!name)
		return EXIT_USAGE;
	if (optind != argc) {
		free(name);
		return cli_usage("usage: sibyl trial %s", a->usage);
	}
	struct sibyl_trial *t = NULL;
	if (stop ? sibyl_trial_stop(cli->client, name, &t)
	         : sibyl_trial_delete(cli->client, name)) {
		rc = cli_fail(cli, stop ? "trial stop" : "trial delete");
	} else {
		if (t)
			print_trial(cli, t);
		else if (cli->json)
			cli_print_json("{}");
		rc = EXIT_OK;
	}
	sibyl_trial_free(t);
	free(name);
	return rc;
}

static int trial_stop(struct cli *cli, int argc, char **argv)
{
	return trial_simple(cli, argc, argv, &actions[5], 1);
}

static int trial_delete(struct cli *cli, int argc, char **argv)
{
	return trial_simple(cli, argc, argv, &actions[6], 0);
}

static int trial_optimal(struct cli *cli, int argc, char **argv)
{
	int rc = cli_args(cli, argc, argv, "trial", &actions[7], 1);
	if (rc >= 0)
		return rc;
	char *study = cli_study_name(argv[optind]);
	if (!study)
		return EXIT_USAGE;
	struct sibyl_trial_list *l;
	struct cli_list out;
	struct ttab k = {0};
	cli_list_open(&out, cli, NULL, "optimalTrials");
	if (sibyl_trial_list_optimal(cli->client, study, &l))
		rc = cli_fail(cli, "trial optimal");
	else
		rc = take_page(&out, &k, l);
	sibyl_free(study);
	return finish_list(&out, &k, rc);
}

/* Whether the study's parameter `id` is categorical (its values are strings). */
static int is_categorical(const struct sibyl_study *s, const char *id)
{
	json_t *spec = json_loads(s->spec_json ? s->spec_json : "{}", 0, NULL);
	json_t *params = json_object_get(spec, "parameters");
	int cat = 0;
	for (size_t i = 0; i < json_array_size(params); i++) {
		json_t *p = json_array_get(params, i);
		const char *pid = json_string_value(json_object_get(p, "parameterId"));
		if (pid && strcmp(pid, id) == 0)
			cat = json_object_get(p, "categoricalValueSpec") != NULL;
	}
	json_decref(spec);
	return cat;
}

static int trial_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"result", required_argument, NULL, 'r'},
	                                     {NULL, 0, NULL, 0}};
	char **results = calloc((size_t)argc + 1, sizeof *results);
	struct sibyl_parameter *params = calloc((size_t)argc + 1, sizeof *params);
	struct sibyl_measurement final = {.elapsed_seconds = -1, .step_count = -1};
	struct sibyl_study *study = NULL;
	struct sibyl_trial *t = NULL;
	char *name = NULL;
	int nres = 0, nparams = 0, ch, rc = EXIT_USAGE;
	if (!results || !params) {
		rc = cli_usage("out of memory");
		goto out;
	}
	while ((ch = cli_getopt(cli, argc, argv, "h", opts)) != -1) {
		if (ch == 'h') {
			rc = cli_action_help("trial", &actions[8]);
			goto out;
		}
		if (ch != 'r')
			goto out;
		results[nres++] = optarg;
	}
	if (argc - optind < 2) {
		cli_usage("usage: sibyl trial %s", actions[8].usage);
		goto out;
	}
	if (cli_connect(cli) || !(name = cli_study_name(argv[optind])))
		goto out;
	if (sibyl_study_get(cli->client, name, &study)) {
		rc = cli_fail(cli, "trial add");
		goto out;
	}
	for (int i = optind + 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		struct sibyl_parameter *p = &params[nparams++];
		if (!eq || eq == argv[i]) {
			cli_usage("bad parameter \"%s\": want PARAM=VALUE", argv[i]);
			goto out;
		}
		*eq = '\0';
		p->parameter_id = argv[i];
		if (is_categorical(study, argv[i])) {
			p->type = SIBYL_VALUE_STRING;
			p->string = eq + 1;
		} else if (cli_parse_double(eq + 1, &p->number) != 0) {
			cli_usage("bad value \"%s\" for %s: want a number", eq + 1, argv[i]);
			goto out;
		}
	}
	if (nres && (rc = parse_metrics(nres, results, &final)) != 0)
		goto out;
	if (sibyl_trial_create(cli->client, name, params, (size_t)nparams, nres ? &final : NULL,
	                       &t)) {
		rc = cli_fail(cli, "trial add");
		goto out;
	}
	print_row(cli, t);
	rc = EXIT_OK;
out:
	sibyl_trial_free(t);
	sibyl_study_free(study);
	sibyl_free(name);
	free(final.metrics);
	free(params);
	free(results);
	return rc;
}

static int trial_set_metadata(struct cli *cli, int argc, char **argv)
{
	return cli_set_metadata(cli, argc, argv, "trial", actions);
}

int cmd_trial(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "trial", actions, argc, argv);
}
