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
     "  ID:double:MIN:MAX[:log|:reverselog]   ID:int:MIN:MAX[:log]\n"
     "  ID:categorical:A,B,C                  ID:discrete:V1,V2,...[:log]\n"
     "--metric ID:minimize or ID:maximize. --algorithm: gp (default), random,\n"
     "quasirandom, grid, or the API's name (GAUSSIAN_PROCESS_EI...).\n"
     "--metadata KEY=VALUE attaches metadata to a new study (an existing one keeps its\n"
     "own; change it with set-metadata)."},
    {"list", study_list, "list OWNER", "Lists OWNER's studies."},
    {"show", study_show, "show OWNER/STUDY", "Shows a study: state, metrics, parameters."},
    {"delete", study_delete, "delete OWNER/STUDY", "Deletes a study and all its trials."},
    {"set-metadata", study_set_metadata, "set-metadata OWNER/STUDY KEY=VALUE... [--delete KEY]...",
     "Sets these metadata keys of the study (the other keys stay) and deletes the\n"
     "keys named by --delete; prints the study's metadata as it is then."},
    {NULL, NULL, NULL, NULL},
};

static void upcase(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

/* Splits "a,b,c" into a JSON array of strings or numbers. */
static json_t *value_list(const char *s, int numbers)
{
	json_t *arr = json_array();
	char *copy = strdup(s);
	if (!arr || !copy)
		goto bad;
	for (char *tok = copy, *next; tok; tok = next) {
		json_t *v;
		if ((next = strchr(tok, ',')))
			*next++ = '\0';
		if (numbers) {
			double d;
			if (cli_parse_double(tok, &d) != 0) {
				cli_usage("bad number \"%s\" in a discrete list", tok);
				goto bad;
			}
			v = json_real(d);
		} else {
			v = json_string(tok);
		}
		if (!v || json_array_append_new(arr, v) != 0)
			goto bad;
	}
	free(copy);
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		cli_usage("empty value list \"%s\"", s);
		return NULL;
	}
	return arr;
bad:
	free(copy);
	json_decref(arr);
	return NULL;
}

static const char *scale_name(const char *s)
{
	if (!s || strcmp(s, "linear") == 0)
		return "UNIT_LINEAR_SCALE";
	if (strcmp(s, "log") == 0)
		return "UNIT_LOG_SCALE";
	if (strcmp(s, "reverselog") == 0)
		return "UNIT_REVERSE_LOG_SCALE";
	return NULL;
}

/* --param ID:TYPE:...; returns a new ParameterSpec or NULL after a message. */
static json_t *param_spec(const char *arg)
{
	char *copy = strdup(arg);
	char *f[6] = {0};
	int n = 0;
	json_t *p = NULL;
	if (!copy)
		return NULL;
	/* Split on ':' into at most 6 fields, keeping empty ones visible. */
	for (char *s = copy; n < 6;) {
		f[n++] = s;
		char *colon = strchr(s, ':');
		if (!colon)
			break;
		*colon = '\0';
		s = colon + 1;
	}
	if (n < 3 || !*f[0])
		goto usage;
	if (strcmp(f[1], "double") == 0 || strcmp(f[1], "int") == 0 ||
	    strcmp(f[1], "integer") == 0) {
		double lo, hi;
		if (n < 4 || n > 5 || cli_parse_double(f[2], &lo) || cli_parse_double(f[3], &hi))
			goto usage;
		const char *scale = scale_name(n == 5 ? f[4] : NULL);
		if (!scale)
			goto usage;
		int is_double = strcmp(f[1], "double") == 0;
		json_t *range = is_double ? json_pack("{s:f,s:f}", "minValue", lo, "maxValue", hi)
		                          : json_pack("{s:I,s:I}", "minValue", (json_int_t)lo,
		                                      "maxValue", (json_int_t)hi);
		p = json_pack("{s:s,s:o,s:s}", "parameterId", f[0],
		              is_double ? "doubleValueSpec" : "integerValueSpec", range,
		              "scaleType", scale);
	} else if (strcmp(f[1], "categorical") == 0) {
		if (n != 3)
			goto usage;
		json_t *vals = value_list(f[2], 0);
		if (!vals)
			goto out;
		p = json_pack("{s:s,s:{s:o}}", "parameterId", f[0], "categoricalValueSpec",
		              "values", vals);
	} else if (strcmp(f[1], "discrete") == 0) {
		if (n < 3 || n > 4)
			goto usage;
		const char *scale = scale_name(n == 4 ? f[3] : NULL);
		json_t *vals = scale ? value_list(f[2], 1) : NULL;
		if (!scale)
			goto usage;
		if (!vals)
			goto out;
		p = json_pack("{s:s,s:{s:o},s:s}", "parameterId", f[0], "discreteValueSpec",
		              "values", vals, "scaleType", scale);
	} else {
		goto usage;
	}
	goto out;
usage:
	cli_usage("bad --param \"%s\": want ID:double:MIN:MAX[:log], ID:int:MIN:MAX[:log], "
	          "ID:categorical:A,B or ID:discrete:V1,V2",
	          arg);
out:
	free(copy);
	return p;
}

static json_t *metric_spec(const char *arg)
{
	const char *colon = strrchr(arg, ':');
	if (!colon || colon == arg) {
		cli_usage("bad --metric \"%s\": want ID:minimize or ID:maximize", arg);
		return NULL;
	}
	char goal[16];
	snprintf(goal, sizeof goal, "%s", colon + 1);
	upcase(goal);
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
		case 'm':
			v = ch == 'p' ? param_spec(optarg) : metric_spec(optarg);
			arr = array_member(spec, ch == 'p' ? "parameters" : "metrics");
			if (!v || !arr)
				goto out;
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
			upcase(buf);
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
			cli_print_json(s->json);
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

static void study_header(void)
{
	printf("%-40s %-10s %-22s %s\n", "STUDY", "STATE", "ALGORITHM", "CREATED");
}

static int study_list(struct cli *cli, int argc, char **argv)
{
	int rc = cli_args(cli, argc, argv, "study", &actions[1], 1);
	if (rc >= 0)
		return rc;
	struct cli_list out;
	cli_list_open(&out, cli, study_header);
	rc = EXIT_OK;
	do {
		struct sibyl_study_list *l;
		if (sibyl_study_list(cli->client, argv[optind], 0, out.token, &l)) {
			rc = cli_fail(cli, "study list");
			break;
		}
		cli_list_page(&out, l->next_page_token);
		for (size_t i = 0; i < l->n; i++) {
			const struct sibyl_study *s = l->studies[i];
			if (cli_list_item(&out, s->json))
				printf("%-40s %-10s %-22s %s\n", s->name,
				       sibyl_study_state_name(s->state),
				       s->algorithm ? s->algorithm : "GAUSSIAN_PROCESS_EI",
				       s->create_time ? s->create_time : "");
		}
		sibyl_study_list_free(l);
	} while (out.token);
	return cli_list_close(&out, rc);
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
	if (cli->json) {
		cli_print_json(s->json);
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
		for (size_t i = 0; i < s->n_parameters; i++)
			printf("parameter:  %s\n", s->parameter_ids[i]);
		printf("spec:       %s\n", s->spec_json ? s->spec_json : "{}");
		cli_print_metadata("metadata:   ", s->metadata, s->n_metadata);
	}
	sibyl_study_free(s);
	return EXIT_OK;
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
