/* sibyl study: create (from a spec file or flags), list, show, delete,
 * set-metadata. */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int study_create(struct cli *cli, int argc, char **argv);
static int study_list(struct cli *cli, int argc, char **argv);
static int study_show(struct cli *cli, int argc, char **argv);
static int study_delete(struct cli *cli, int argc, char **argv);
static int study_set_metadata(struct cli *cli, int argc, char **argv);
static int study_importance(struct cli *cli, int argc, char **argv);

static const struct cli_action actions[] = {
    {"create", study_create,
     "create OWNER/STUDY [--spec FILE|-] [--param SPEC]... [--metric ID:GOAL]...\n"
     "       [--algorithm ALG] [--max-trials N] [--seed N] [--median-stopping]\n"
     "       [--noise LOW|HIGH] [--measurement-selection LAST|BEST] [--stale-timeout SECONDS]\n"
     "       [--metadata KEY=VALUE]...",
     "Creates the study, or loads it when one of that name has the same spec\n"
     "(so every worker may run this at start-up); a different spec exits 6.\n"
     "--spec FILE reads a StudySpec JSON object (or {\"studySpec\": ...}); the flags\n"
     "add to it. --param SPEC is one of\n"
     "  ID:double:MIN:MAX[:SCALE]     ID:int:MIN:MAX[:SCALE]\n"
     "  ID:categorical:A,B,C          ID:discrete:V1,V2,...[:SCALE]\n"
     "SCALE: linear (the default), log or reverselog. A conditional parameter, active\n"
     "only for some values of a categorical, int or discrete parent given before it:\n"
     "  --param kernel:categorical:linear,rbf --param gamma:double:1e-4:1:log@kernel=rbf\n"
     "--metric ID:minimize or ID:maximize. --algorithm: gp (default), random,\n"
     "quasirandom, grid, or the API's name (GAUSSIAN_PROCESS_EI...).\n"
     "--metadata KEY=VALUE attaches metadata to a new study (an existing one keeps its\n"
     "own; change it with set-metadata)."},
    {"list", study_list, "list OWNER", "Lists OWNER's studies."},
    {"show", study_show, "show OWNER/STUDY",
     "Shows a study: state, metrics, parameters, its trials by state and the best\n"
     "one. With --json: the study as the server sent it."},
    {"delete", study_delete, "delete OWNER/STUDY", "Deletes a study and all its trials."},
    {"set-metadata", study_set_metadata, "set-metadata OWNER/STUDY KEY=VALUE... [--delete KEY]...",
     "Sets these metadata keys of the study (the other keys stay) and deletes the\n"
     "keys named by --delete; prints the study's metadata as it is then."},
    {"importance", study_importance, "importance OWNER/STUDY [--metric ID]",
     "Shows how much each parameter explains the objective (the study's first one,\n"
     "or --metric ID), computed by the server from the completed trials, the most\n"
     "important first; the importances sum to 1."},
    {NULL, NULL, NULL, NULL},
};

static json_t *metric_spec(const char *arg)
{
	const char *colon = strrchr(arg, ':');
	if (!colon || colon == arg) {
		cli_usage("bad --metric \"%s\": want ID:minimize or ID:maximize", arg);
		return NULL;
	}
	char goal[16];
	snprintf(goal, sizeof goal, "%s", colon + 1);
	cli_upcase(goal);
	if (strcmp(goal, "MINIMIZE") != 0 && strcmp(goal, "MAXIMIZE") != 0 &&
	    strcmp(goal, "MIN") != 0 && strcmp(goal, "MAX") != 0) {
		cli_usage("bad --metric \"%s\": the goal is minimize or maximize", arg);
		return NULL;
	}
	return json_pack("{s:s%,s:s}", "metricId", arg, (size_t)(colon - arg), "goal",
	                 strncmp(goal, "MIN", 3) == 0 ? "MINIMIZE" : "MAXIMIZE");
}

static const char *algorithm_name(const char *s)
{
	static const char *const alias[][2] = {
	    {"gp", "GAUSSIAN_PROCESS_EI"},    {"gpei", "GAUSSIAN_PROCESS_EI"},
	    {"random", "RANDOM_SEARCH"},      {"quasirandom", "QUASI_RANDOM_SEARCH"},
	    {"sobol", "QUASI_RANDOM_SEARCH"}, {"grid", "GRID_SEARCH"},
	};
	for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
		if (strcmp(s, alias[i][0]) == 0)
			return alias[i][1];
	return s; /* the API's own name; the server validates it */
}

static json_t *array_member(json_t *spec, const char *key)
{
	json_t *a = json_object_get(spec, key);
	if (!a) {
		a = json_array();
		json_object_set_new(spec, key, a);
	}
	return json_is_array(a) ? a : NULL;
}

static json_t *load_spec(const char *path)
{
	json_error_t je;
	json_t *root =
	    strcmp(path, "-") == 0 ? json_loadf(stdin, 0, &je) : json_load_file(path, 0, &je);
	if (!root) {
		cli_usage("%s:%d: %s", path, je.line, je.text);
		return NULL;
	}
	json_t *spec = json_object_get(root, "studySpec");
	if (spec) {
		json_incref(spec);
		json_decref(root);
		root = spec;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		cli_usage("%s: the spec is not a JSON object", path);
		return NULL;
	}
	return root;
}

static int study_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"spec", required_argument, NULL, 's'},
	    {"param", required_argument, NULL, 'p'},
	    {"metric", required_argument, NULL, 'm'},
	    {"algorithm", required_argument, NULL, 'a'},
	    {"max-trials", required_argument, NULL, 'n'},
	    {"seed", required_argument, NULL, 'S'},
	    {"median-stopping", no_argument, NULL, 'M'},
	    {"noise", required_argument, NULL, 'N'},
	    {"measurement-selection", required_argument, NULL, 'L'},
	    {"stale-timeout", required_argument, NULL, 'T'},
	    {"metadata", required_argument, NULL, 'D'},
	    {NULL, 0, NULL, 0}};
	struct cli_md md = {0};
	json_t *spec = json_object();
	int rc = EXIT_USAGE, ch;
	long long ll;
	double d;
	char buf[64];
	const char *spec_path = NULL;
	/* The file comes first so that flags add to it whatever their order. */
	for (int i = 1; i < argc - 1; i++)
		if (strcmp(argv[i], "--spec") == 0)
			spec_path = argv[i + 1];
	if (spec_path) {
		json_decref(spec);
		if (!(spec = load_spec(spec_path)))
			return EXIT_USAGE;
	}
	while ((ch = cli_getopt(cli, argc, argv, "h", opts)) != -1) {
		json_t *v = NULL, *arr;
		switch (ch) {
		case 'h':
			rc = cli_action_help("study", &actions[0]);
			goto out;
		case 's': /* read above */
			continue;
		case 'p':
			if (!(arr = array_member(spec, "parameters")) ||
			    pspec_add(arr, optarg) != 0)
				goto out;
			continue;
		case 'm':
			v = metric_spec(optarg);
			arr = array_member(spec, "metrics");
			if (!v || !arr) {
				json_decref(v);
				goto out;
			}
			json_array_append_new(arr, v);
			continue;
		case 'a':
			json_object_set_new(spec, "algorithm", json_string(algorithm_name(optarg)));
			continue;
		case 'n':
			if (cli_parse_ll(optarg, &ll) || ll < 1) {
				cli_usage("bad --max-trials \"%s\"", optarg);
				goto out;
			}
			json_object_set_new(spec, "studyStoppingConfig",
			                    json_pack("{s:I}", "maxNumTrials", (json_int_t)ll));
			continue;
		case 'S':
			if (cli_parse_ll(optarg, &ll)) {
				cli_usage("bad --seed \"%s\"", optarg);
				goto out;
			}
			snprintf(buf, sizeof buf, "%lld", ll);
			json_object_set_new(spec, "seed", json_string(buf));
			continue;
		case 'M':
			json_object_set_new(spec, "medianAutomatedStoppingSpec", json_object());
			continue;
		case 'N':
		case 'L':
			snprintf(buf, sizeof buf, "%s", optarg);
			cli_upcase(buf);
			if (ch == 'L') {
				char full[80];
				snprintf(full, sizeof full, "%s_MEASUREMENT", buf);
				json_object_set_new(spec, "measurementSelectionType",
				                    json_string(full));
			} else {
				json_object_set_new(spec, "observationNoise", json_string(buf));
			}
			continue;
		case 'T':
			if (cli_parse_double(optarg, &d) || d < 0) {
				cli_usage("bad --stale-timeout \"%s\": want seconds", optarg);
				goto out;
			}
			snprintf(buf, sizeof buf, "%gs", d);
			json_object_set_new(spec, "staleTrialTimeout", json_string(buf));
			continue;
		case 'D':
			if (cli_md_add(&md, optarg))
				goto out;
			continue;
		default:
			goto out;
		}
	}
	if (argc - optind != 1) {
		cli_usage("usage: sibyl study create OWNER/STUDY [options]; see --help");
		goto out;
	}
	char *name = cli_study_name(argv[optind]);
	if (!name)
		goto out;
	/* owners/O/studies/S: split back into the owner and the display name. */
	char *owner = name + 7;
	char *slash = strchr(owner, '/');
	*slash = '\0';
	const char *display = slash + 1 + strlen("studies/");
	char *text = json_dumps(spec, JSON_COMPACT);
	if (!text || (rc = cli_connect(cli)) != 0) {
		free(text);
		sibyl_free(name);
		rc = EXIT_USAGE;
		goto out;
	}
	struct sibyl_study *s;
	if (sibyl_study_create_with_metadata(cli->client, owner, display, text,
	                                     (const char *const *)md.keys, md.values, md.n, &s)) {
		rc = cli_fail(cli, "study create");
	} else {
		if (cli->json)
			cli_print_body(cli);
		else
			printf("%s %s\n", s->name, sibyl_study_state_name(s->state));
		sibyl_study_free(s);
		rc = EXIT_OK;
	}
	free(text);
	sibyl_free(name);
out:
	json_decref(spec);
	cli_md_free(&md);
	return rc;
}

static const char *goal_name(enum sibyl_goal g)
{
	return g == SIBYL_GOAL_MAXIMIZE ? "MAXIMIZE" : g == SIBYL_GOAL_MINIMIZE ? "MINIMIZE" : "?";
}

/* One study as a row of tab (STUDY STATE ALGORITHM CREATED). */
static int study_row(struct table *tab, const struct sibyl_study *s)
{
	if (table_row(tab) != 0)
		return -1;
	return table_set(tab, 0, "%s", s->name) ||
	               table_set(tab, 1, "%s", sibyl_study_state_name(s->state)) ||
	               table_set(tab, 2, "%s",
	                         s->algorithm ? s->algorithm : "GAUSSIAN_PROCESS_EI") ||
	               table_set(tab, 3, "%s", s->create_time ? s->create_time : "")
	           ? -1
	           : 0;
}

static int study_list(struct cli *cli, int argc, char **argv)
{
	int rc = cli_args(cli, argc, argv, "study", &actions[1], 1);
	if (rc >= 0)
		return rc;
	struct cli_list out;
	struct table tab;
	table_init(&tab);
	cli_list_open(&out, cli, NULL, "studies");
	rc = table_col(&tab, "STUDY") < 0 || table_col(&tab, "STATE") < 0 ||
	             table_col(&tab, "ALGORITHM") < 0 || table_col(&tab, "CREATED") < 0
	         ? cli_usage("out of memory")
	         : EXIT_OK;
	while (rc == EXIT_OK) {
		struct sibyl_study_list *l;
		if (sibyl_study_list(cli->client, argv[optind], 0, out.token, &l)) {
			rc = cli_fail(cli, "study list");
			break;
		}
		cli_list_page(&out, l->next_page_token);
		for (size_t i = 0; rc == EXIT_OK && cli_list_rows(&out) && i < l->n; i++)
			if (study_row(&tab, l->studies[i]) != 0)
				rc = cli_usage("out of memory");
		sibyl_study_list_free(l);
		if (!out.token)
			break;
	}
	if (rc == EXIT_OK && cli_list_rows(&out))
		table_print(&tab, stdout);
	table_free(&tab);
	return cli_list_close(&out, rc);
}

static void print_param(const char *id, void *ud)
{
	(void)ud;
	printf("parameter:  %s\n", id);
}

/* "trials:" (how many in each state) and "best:" (the optimal trial's
 * final metrics, or the size of the Pareto front) of study s. */
static int show_trials(struct cli *cli, const struct sibyl_study *s)
{
	long long count[SIBYL_TRIAL_INFEASIBLE + 1] = {0}, total = 0;
	char *token = NULL;
	do {
		struct sibyl_trial_list *l;
		if (sibyl_trial_list(cli->client, s->name, NULL, 0, token, &l)) {
			free(token);
			return cli_fail(cli, "study show");
		}
		free(token);
		token = l->next_page_token ? strdup(l->next_page_token) : NULL;
		for (size_t i = 0; i < l->n; i++, total++)
			count[l->trials[i]->state <= SIBYL_TRIAL_INFEASIBLE ? l->trials[i]->state
			                                                    : 0]++;
		sibyl_trial_list_free(l);
	} while (token);
	printf("trials:     %lld", total);
	for (int st = SIBYL_TRIAL_REQUESTED; st <= SIBYL_TRIAL_INFEASIBLE; st++)
		if (count[st])
			printf(", %lld %s", count[st], sibyl_trial_state_name(st));
	fputc('\n', stdout);
	struct sibyl_trial_list *best;
	if (sibyl_trial_list_optimal(cli->client, s->name, &best))
		return cli_fail(cli, "study show");
	if (best->n == 1) {
		const struct sibyl_measurement *m = best->trials[0]->final_measurement;
		printf("best:       trial %lld", best->trials[0]->id);
		for (size_t i = 0; m && i < m->n_metrics; i++) {
			char v[32];
			cli_fmt_number(v, sizeof v, m->metrics[i].value);
			printf(" %s=%s", m->metrics[i].metric_id, v);
		}
		fputc('\n', stdout);
	} else if (best->n > 1) {
		printf("best:       %zu trials on the Pareto front (sibyl trial optimal %s)\n",
		       best->n, s->name);
	} else {
		printf("best:       none yet (no trial succeeded)\n");
	}
	sibyl_trial_list_free(best);
	return EXIT_OK;
}

static int study_show(struct cli *cli, int argc, char **argv)
{
	int rc = cli_args(cli, argc, argv, "study", &actions[2], 1);
	if (rc >= 0)
		return rc;
	char *name = cli_study_name(argv[optind]);
	if (!name)
		return EXIT_USAGE;
	struct sibyl_study *s;
	if (sibyl_study_get(cli->client, name, &s)) {
		sibyl_free(name);
		return cli_fail(cli, "study show");
	}
	sibyl_free(name);
	rc = EXIT_OK;
	if (cli->json) {
		cli_print_body(cli);
	} else {
		printf("name:       %s\nstate:      %s\ncreated:    %s\nalgorithm:  %s\n", s->name,
		       sibyl_study_state_name(s->state), s->create_time ? s->create_time : "",
		       s->algorithm ? s->algorithm : "GAUSSIAN_PROCESS_EI");
		if (s->inactive_reason)
			printf("reason:     %s\n", s->inactive_reason);
		for (size_t i = 0; i < s->n_metrics; i++)
			printf("metric:     %s %s%s\n", s->metrics[i].metric_id,
			       goal_name(s->metrics[i].goal),
			       s->metrics[i].is_constraint ? " (constraint)" : "");
		cli_each_param(s->spec_json, print_param, NULL);
		/* as the server wrote it (1e-05, not 1.0000000000000001e-5) */
		const char *spec = rawjson_get(sibyl_last_body(cli->client), "studySpec");
		printf("spec:       %.*s\n", spec ? (int)rawjson_len(spec) : 2, spec ? spec : "{}");
		cli_print_metadata("metadata:   ", s->metadata, s->n_metadata);
		rc = show_trials(cli, s);
	}
	sibyl_study_free(s);
	return rc;
}

static int study_delete(struct cli *cli, int argc, char **argv)
{
	int rc = cli_args(cli, argc, argv, "study", &actions[3], 1);
	if (rc >= 0)
		return rc;
	char *name = cli_study_name(argv[optind]);
	if (!name)
		return EXIT_USAGE;
	rc = sibyl_study_delete(cli->client, name) ? cli_fail(cli, "study delete") : EXIT_OK;
	if (rc == EXIT_OK && cli->json)
		cli_print_json("{}");
	sibyl_free(name);
	return rc;
}

static int study_set_metadata(struct cli *cli, int argc, char **argv)
{
	return cli_set_metadata(cli, argc, argv, "study", actions);
}

int cmd_study(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "study", actions, argc, argv);
}

/* The importances of the answer text as a table with a bar each. */
static int print_importance(const char *text)
{
	json_t *root = json_loads(text, 0, NULL);
	json_t *list = json_object_get(root, "importances");
	struct table tab;
	int rc = json_is_array(list) ? 0 : -1;
	table_init(&tab);
	int cp = table_col(&tab, "PARAMETER"), ci = table_col(&tab, "IMPORTANCE"),
	    cb = table_col(&tab, "");
	for (size_t i = 0; rc == 0 && i < json_array_size(list); i++) {
		json_t *one = json_array_get(list, i);
		const char *id = json_string_value(json_object_get(one, "parameterId"));
		double v = json_number_value(json_object_get(one, "importance"));
		int bar = v > 0 && v <= 1 ? (int)(v * 40 + 0.5) : 0;
		rc = table_row(&tab) || table_set(&tab, cp, "%s", id ? id : "?") ||
		     table_set(&tab, ci, "%.3f", v) ||
		     table_set(&tab, cb, "%.*s", bar, "########################################");
	}
	if (rc == 0) {
		table_print(&tab, stdout);
		const char *method = json_string_value(json_object_get(root, "method"));
		/* an int64: a decimal string in proto3 JSON, or a number */
		json_t *n = json_object_get(root, "trialCount");
		long long count = json_is_string(n) ? strtoll(json_string_value(n), NULL, 10)
		                                    : (long long)json_number_value(n);
		printf("method: %s, from %lld trials\n", method ? method : "?", count);
	}
	table_free(&tab);
	json_decref(root);
	return rc ? cli_usage("study importance: an answer without importances: %.200s", text)
	          : EXIT_OK;
}

static int study_importance(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"metric", required_argument, NULL, 'm'},
	                                     {NULL, 0, NULL, 0}};
	const char *metric = NULL;
	int ch;
	while ((ch = cli_getopt(cli, argc, argv, "h", opts)) != -1) {
		if (ch == 'h')
			return cli_action_help("study", &actions[5]);
		if (ch != 'm')
			return EXIT_USAGE;
		metric = optarg;
	}
	if (argc - optind != 1)
		return cli_usage("usage: sibyl study %s", actions[5].usage);
	if (cli_connect(cli))
		return EXIT_USAGE;
	char *name = cli_study_name(argv[optind]);
	if (!name)
		return EXIT_USAGE;
	char path[1024], esc[300] = "";
	if (metric)
		cli_escape(metric, esc, sizeof esc);
	snprintf(path, sizeof path, "%s:importance%s%s", name, metric ? "?metricId=" : "", esc);
	sibyl_free(name);
	char *text = NULL;
	int rc;
	if (sibyl_get_text(cli->client, path, &text) != 0) {
		if (strstr(sibyl_errmsg(cli->client), "no custom method"))
			fprintf(stderr, "sibyl: study importance: this server has no importance "
			                "method (an older sibyld)\n");
		rc = cli_fail(cli, "study importance");
	} else if (cli->json) {
		cli_print_body(cli);
		rc = EXIT_OK;
	} else {
		rc = print_importance(text);
	}
	sibyl_free(text);
	return rc;
}
