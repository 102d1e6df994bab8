/* util: errors, exit codes, option parsing and output helpers of the CLI. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_exit_code(int code)
{
	if (code < 0)
		code = -code;
	switch (code) {
	case SIBYL_OK:
		return EXIT_OK;
	case SIBYL_ECONNECT:
		return EXIT_CONNECT;
	case SIBYL_NOT_FOUND:
		return EXIT_NOT_FOUND;
	case SIBYL_INVALID_ARGUMENT:
	case SIBYL_OUT_OF_RANGE:
	case SIBYL_EUSAGE:
		return EXIT_INVALID;
	case SIBYL_UNAUTHENTICATED:
	case SIBYL_PERMISSION_DENIED:
		return EXIT_AUTH;
	case SIBYL_FAILED_PRECONDITION:
	case SIBYL_ALREADY_EXISTS:
	case SIBYL_ABORTED:
		return EXIT_PRECONDITION;
	default:
		return EXIT_SERVER;
	}
}

int cli_fail(struct cli *cli, const char *what)
{
	const struct sibyl_client *c = cli->client;
	int status = sibyl_errstatus(c);
	if (sibyl_errcode(c) == SIBYL_UNAUTHENTICATED && (!cli->key || !*cli->key)) {
		/* The server speaks of its Authorization header; the user of the
		 * CLI gives a key another way. */
		fprintf(stderr,
		        "sibyl: %s: %s (HTTP %d): no API key was given: set SIBYL_KEY or pass "
		        "--key KEY\n",
		        what, sibyl_errname(c), status);
		return EXIT_AUTH;
	}
	if (status)
		fprintf(stderr, "sibyl: %s: %s (HTTP %d): %s\n", what, sibyl_errname(c), status,
		        sibyl_errmsg(c));
	else
		fprintf(stderr, "sibyl: %s: %s: %s\n", what, sibyl_errname(c), sibyl_errmsg(c));
	return cli_exit_code(sibyl_errcode(c));
}

int cli_usage(const char *fmt, ...)
{
	va_list ap;
	fputs("sibyl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* Says on stderr that a call waits for the server (every event but POLL). */
static int say_wait(const struct sibyl_wait *w, void *ud)
{
	char msg[1024];
	(void)ud;
	if (sibyl_wait_describe(w, msg, sizeof msg))
		fprintf(stderr, "sibyl: %s\n", msg);
	return 0;
}

struct sibyl_client *cli_client_new(const struct cli *cli)
{
	struct sibyl_client *c = sibyl_client_new(cli->url, cli->key);
	if (c && cli->retry_window >= 0 && sibyl_client_set_retry_window(c, cli->retry_window)) {
		sibyl_client_free(c);
		return NULL;
	}
	if (c)
		sibyl_client_set_wait_hook(c, say_wait, NULL);
	return c;
}

int cli_connect(struct cli *cli)
{
	if (cli->client)
		return 0;
	if (!cli->url || !*cli->url)
		return cli_usage("no server: set SIBYL_URL or pass --url");
	char why[512];
	if (sibyl_url_check(cli->url, why, sizeof why) != 0)
		return cli_usage("%s (from --url or SIBYL_URL)", why);
	cli->client = cli_client_new(cli);
	if (!cli->client)
		return cli_usage("cannot make a client for %s", cli->url);
	return 0;
}

int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
	static struct option all[64];
	static const struct option *made_from;
	static int made;
	if (!made || made_from != longopts) {
		made = 1;
		size_t n = 0;
		for (; longopts && longopts[n].name && n < 60; n++)
			all[n] = longopts[n];
		all[n++] = (struct option){"json", no_argument, NULL, 'J'};
		all[n++] = (struct option){"help", no_argument, NULL, 'h'};
		all[n++] = (struct option){"url", required_argument, NULL, 'U'};
		all[n++] = (struct option){"key", required_argument, NULL, 'K'};
		all[n] = (struct option){NULL, 0, NULL, 0};
		made_from = longopts;
	}
	for (;;) {
		int ch = getopt_long(argc, argv, shortopts, all, NULL);
		if (ch == 'J')
			cli->json = 1;
		else if (ch == 'U')
			cli->url = optarg;
		else if (ch == 'K')
			cli->key = optarg;
		else
			return ch;
	}
}

int cli_action_help(const char *group, const struct cli_action *a)
{
	printf("usage: sibyl %s %s\n\n%s\n", group, a->usage, a->help);
	if (strstr(a->usage, "TRIAL"))
		printf("%s\n", cli_trial_forms);
	return EXIT_OK;
}

int cli_args(struct cli *cli, int argc, char **argv, const char *group, const struct cli_action *a,
             int npos)
{
	int ch = cli_getopt(cli, argc, argv, "h", NULL);
	if (ch != -1) /* cli_getopt applies the common options itself */
		return ch == 'h' ? cli_action_help(group, a) : EXIT_USAGE;
	if (npos >= 0 && argc - optind != npos)
		return cli_usage("usage: sibyl %s %s", group, a->usage);
	return cli_connect(cli) ? EXIT_USAGE : -1;
}

void cli_list_open(struct cli_list *l, struct cli *cli, void (*header)(void), const char *member)
{
	*l = (struct cli_list){.cli = cli, .header = header, .member = member};
	if (cli->json)
		l->json = open_memstream(&l->buf, &l->len);
}

static void list_add(const char *item, size_t len, void *ud)
{
	struct cli_list *l = ud;
	if (l->items++)
		fputc(',', l->json);
	fwrite(item, 1, len, l->json);
}

void cli_list_page(struct cli_list *l, const char *next_page_token)
{
	free(l->token);
	l->token = next_page_token ? strdup(next_page_token) : NULL;
	if (l->pages++ == 0 && !l->cli->json && l->header)
		l->header();
	if (l->cli->json && l->json)
		rawjson_each(sibyl_last_body(l->cli->client), l->member, list_add, l);
}

int cli_list_rows(const struct cli_list *l)
{
	return !l->cli->json;
}

int cli_list_close(struct cli_list *l, int rc)
{
	if (l->json && fclose(l->json) != 0 && rc == EXIT_OK)
		rc = cli_usage("out of memory");
	if (l->cli->json && rc == EXIT_OK) {
		if (!l->json)
			rc = cli_usage("out of memory");
		else
			printf("[%s]\n", l->buf);
	}
	free(l->buf);
	free(l->token);
	return rc;
}

static void group_help(FILE *f, const char *group, const struct cli_action *actions)
{
	fprintf(f, "usage: sibyl %s ACTION [ARGS...] [--json]\n\nActions:\n", group);
	for (const struct cli_action *a = actions; a->name; a++)
		fprintf(f, "  sibyl %s %s\n", group, a->usage);
	for (const struct cli_action *a = actions; a->name; a++)
		if (strstr(a->usage, "TRIAL")) {
			fprintf(f, "\n%s\n", cli_trial_forms);
			break;
		}
	fprintf(f, "\n`sibyl %s ACTION --help` tells more.\n", group);
}

int cli_dispatch(struct cli *cli, const char *group, const struct cli_action *actions, int argc,
                 char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		group_help(argc < 2 ? stderr : stdout, group, actions);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (const struct cli_action *a = actions; a->name; a++) {
		if (strcmp(a->name, argv[1]) == 0) {
			optind = 0; /* glibc: start a fresh scan */
			opterr = 1;
			return a->fn(cli, argc - 1, argv + 1);
		}
	}
	group_help(stderr, group, actions);
	return cli_usage("unknown action \"%s %s\"", group, argv[1]);
}

void cli_upcase(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

int cli_parse_ll(const char *s, long long *out)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int cli_parse_double(const char *s, double *out)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

void cli_print_json(const char *json)
{
	fputs(json ? json : "null", stdout);
	fputc('\n', stdout);
}

void cli_print_body(struct cli *cli)
{
	const char *body = sibyl_last_body(cli->client);
	size_t n = strlen(body);
	while (n > 0 && (body[n - 1] == '\n' || body[n - 1] == '\r'))
		n--;
	fwrite(body, 1, n, stdout);
	fputc('\n', stdout);
}

void cli_fmt_number(char *buf, size_t len, double v)
{
	snprintf(buf, len, "%.6g", v);
}

char *cli_study_name(const char *ref)
{
	char *name = sibyl_name_study(ref);
	if (!name)
		cli_usage("bad study \"%s\": want OWNER/STUDY", ref ? ref : "");
	return name;
}

const char cli_trial_forms[] =
    "TRIAL is OWNER/STUDY ID (demo/mnist 7), OWNER/STUDY/ID (demo/mnist/7) or\n"
    "the trial's full name (owners/demo/studies/mnist/trials/7).";

int cli_trial_whole(const char *ref)
{
	if (!ref)
		return 0;
	if (strncmp(ref, "owners/", 7) == 0)
		return strstr(ref, "/trials/") != NULL;
	const char *slash = strchr(ref, '/');
	return slash && strchr(slash + 1, '/') != NULL;
}

/* "OWNER/STUDY/ID": the study part and the id, split at the last '/'. */
static char *short_trial_name(const char *ref)
{
	const char *last = strrchr(ref, '/');
	char *study = strndup(ref, (size_t)(last - ref));
	if (!study) {
		cli_usage("out of memory");
		return NULL;
	}
	char *name = cli_trial_name(study, last + 1);
	free(study);
	return name;
}

char *cli_trial_name(const char *ref, const char *id)
{
	if (!id) {
		if (ref && strncmp(ref, "owners/", 7) == 0 && strstr(ref, "/trials/"))
			return strdup(ref);
		if (cli_trial_whole(ref))
			return short_trial_name(ref);
		cli_usage("bad trial \"%s\"\n%s", ref ? ref : "", cli_trial_forms);
		return NULL;
	}
	long long n;
	if (cli_parse_ll(id, &n) != 0 || n < 1) {
		cli_usage("bad trial id \"%s\": want a positive integer", id);
		return NULL;
	}
	char *study = cli_study_name(ref);
	if (!study)
		return NULL;
	size_t len = strlen(study) + 40;
	char *name = malloc(len);
	if (name)
		snprintf(name, len, "%s/trials/%lld", study, n);
	sibyl_free(study);
	return name;
}

static void each_param(json_t *params, void (*fn)(const char *id, void *ud), void *ud)
{
	for (size_t i = 0; i < json_array_size(params); i++) {
		json_t *p = json_array_get(params, i);
		const char *id = json_string_value(json_object_get(p, "parameterId"));
		if (id)
			fn(id, ud);
		json_t *kids = json_object_get(p, "conditionalParameterSpecs");
		for (size_t k = 0; k < json_array_size(kids); k++) {
			json_t *spec = json_object_get(json_array_get(kids, k), "parameterSpec");
			json_t *one = spec ? json_pack("[O]", spec) : NULL;
			each_param(one, fn, ud);
			json_decref(one);
		}
	}
}

void cli_each_param(const char *spec_json, void (*fn)(const char *id, void *ud), void *ud)
{
	json_t *spec = spec_json ? json_loads(spec_json, 0, NULL) : NULL;
	each_param(json_object_get(spec, "parameters"), fn, ud);
	json_decref(spec);
}

void cli_escape(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (; *s && n + 4 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch)) {
			buf[n++] = (char)ch;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[ch >> 4];
			buf[n++] = hex[ch & 15];
		}
	}
	buf[n] = '\0';
}
