/* trial_table: trials as an aligned table (`sibyl trial list`) and as CSV
 * (`sibyl trial list --csv`). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run.h"

int ttab_keep(struct ttab *k, struct sibyl_trial_list *l)
{
	struct sibyl_trial_list **p = realloc(k->pages, (k->n + 1) * sizeof *p);
	if (!p) {
		sibyl_trial_list_free(l);
		return -1;
	}
	k->pages = p;
	p[k->n++] = l;
	return 0;
}

void ttab_free(struct ttab *k)
{
	for (size_t i = 0; i < k->n; i++)
		sibyl_trial_list_free(k->pages[i]);
	free(k->pages);
	k->pages = NULL;
	k->n = 0;
}

/* A number as a table shows it. */
static void num(char *buf, size_t len, double v)
{
	cli_fmt_number(buf, len, v);
}

/* The columns: ID STATE CLIENT, each parameter, each final metric, REASON. */
static int columns(struct table *tab, const struct ttab *k)
{
	int ok = table_col(tab, "ID") >= 0 && table_col(tab, "STATE") >= 0 &&
	         table_col(tab, "CLIENT") >= 0;
	int reason = 0;
	for (size_t i = 0; ok && i < k->n; i++)
		for (size_t j = 0; ok && j < k->pages[i]->n; j++) {
			const struct sibyl_trial *t = k->pages[i]->trials[j];
			for (size_t p = 0; ok && p < t->n_parameters; p++)
				ok = table_col(tab, t->parameters[p].parameter_id) >= 0;
			reason |= t->state == SIBYL_TRIAL_INFEASIBLE && t->infeasible_reason;
		}
	for (size_t i = 0; ok && i < k->n; i++)
		for (size_t j = 0; ok && j < k->pages[i]->n; j++) {
			const struct sibyl_measurement *m =
			    k->pages[i]->trials[j]->final_measurement;
			for (size_t x = 0; ok && m && x < m->n_metrics; x++)
				ok = table_col(tab, m->metrics[x].metric_id) >= 0;
		}
	if (ok && reason)
		ok = table_col(tab, "REASON") >= 0;
	return ok ? 0 : -1;
}

static int row(struct table *tab, const struct sibyl_trial *t)
{
	char v[64];
	if (table_row(tab) != 0)
		return -1;
	int rc = table_set(tab, 0, "%lld", t->id);
	rc |= table_set(tab, 1, "%s", sibyl_trial_state_name(t->state));
	if (t->client_id && *t->client_id)
		rc |= table_set(tab, 2, "%s", t->client_id);
	for (size_t p = 0; p < t->n_parameters; p++) {
		const struct sibyl_parameter *par = &t->parameters[p];
		num(v, sizeof v, par->number);
		rc |= table_set(tab, table_col(tab, par->parameter_id), "%s",
		                par->type == SIBYL_VALUE_STRING ? par->string : v);
	}
	const struct sibyl_measurement *m = t->final_measurement;
	for (size_t x = 0; m && x < m->n_metrics; x++) {
		num(v, sizeof v, m->metrics[x].value);
		rc |= table_set(tab, table_col(tab, m->metrics[x].metric_id), "%s", v);
	}
	if (t->state == SIBYL_TRIAL_INFEASIBLE && t->infeasible_reason)
		rc |= table_set(tab, table_col(tab, "REASON"), "%s", t->infeasible_reason);
	return rc ? -1 : 0;
}

int ttab_print(const struct ttab *k)
{
	struct table tab;
	table_init(&tab);
	int rc = columns(&tab, k);
	for (size_t i = 0; rc == 0 && i < k->n; i++)
		for (size_t j = 0; rc == 0 && j < k->pages[i]->n; j++)
			rc = row(&tab, k->pages[i]->trials[j]);
	if (rc == 0)
		table_print(&tab, stdout);
	table_free(&tab);
	return rc ? cli_usage("out of memory") : EXIT_OK;
}

int ttab_print_one(const struct sibyl_trial *t)
{
	struct sibyl_trial_list l = {.n = 1, .trials = (struct sibyl_trial **)&t};
	struct sibyl_trial_list *pages[] = {&l};
	struct ttab k = {.pages = pages, .n = 1};
	return ttab_print(&k);
}

/* ---- CSV ---- */

static void add_col(const char *id, void *ud)
{
	table_col(ud, id);
}

/* The CSV of the server's rule, from the trials' JSON: id, state, each
 * parameter of the spec, each metric of the study (final value), startTime,
 * endTime, clientId. */
static int csv_build(struct table *tab, const struct sibyl_study *s, const struct ttab *k)
{
	char v[64];
	int rc = table_col(tab, "id") < 0 || table_col(tab, "state") < 0;
	cli_each_param(s->spec_json, add_col, tab);
	for (size_t i = 0; i < s->n_metrics; i++)
		rc |= table_col(tab, s->metrics[i].metric_id) < 0;
	rc |= table_col(tab, "startTime") < 0 || table_col(tab, "endTime") < 0 ||
	      table_col(tab, "clientId") < 0;
	for (size_t i = 0; !rc && i < k->n; i++)
		for (size_t j = 0; !rc && j < k->pages[i]->n; j++) {
			const struct sibyl_trial *t = k->pages[i]->trials[j];
			if (table_row(tab) != 0)
				return -1;
			rc |= table_set(tab, 0, "%lld", t->id);
			rc |= table_set(tab, 1, "%s", sibyl_trial_state_name(t->state));
			for (size_t p = 0; p < t->n_parameters; p++) {
				run_format_value(&t->parameters[p], v, sizeof v);
				rc |= table_set(tab, table_col(tab, t->parameters[p].parameter_id),
				                "%s",
				                t->parameters[p].type == SIBYL_VALUE_STRING
				                    ? t->parameters[p].string
				                    : v);
			}
			const struct sibyl_measurement *m = t->final_measurement;
			for (size_t x = 0; m && x < m->n_metrics; x++) {
				struct sibyl_parameter asnum = {.number = m->metrics[x].value};
				run_format_value(&asnum, v, sizeof v);
				rc |= table_set(tab, table_col(tab, m->metrics[x].metric_id), "%s",
				                v);
			}
			const char *tail[] = {t->start_time, t->end_time, t->client_id};
			for (int c = 0; c < 3; c++)
				if (tail[c])
					rc |=
					    table_set(tab, (int)tab->ncols - 3 + c, "%s", tail[c]);
		}
	return rc ? -1 : 0;
}

/* Every page of the study's trials into k. */
static int list_all(struct cli *cli, const char *study, const char *filter, struct ttab *k)
{
	char *token = NULL;
	do {
		struct sibyl_trial_list *l;
		if (sibyl_trial_list(cli->client, study, filter, 0, token, &l)) {
			free(token);
			return cli_fail(cli, "trial list");
		}
		free(token);
		token = l->next_page_token ? strdup(l->next_page_token) : NULL;
		if (ttab_keep(k, l) != 0) {
			free(token);
			return cli_usage("out of memory");
		}
	} while (token);
	return EXIT_OK;
}

/* The fallback for a server without the CSV answer. */
static int csv_from_json(struct cli *cli, const char *study, const char *filter)
{
	struct sibyl_study *s = NULL;
	struct ttab k = {0};
	struct table tab;
	table_init(&tab);
	int rc = sibyl_study_get(cli->client, study, &s) ? cli_fail(cli, "trial list")
	                                                 : list_all(cli, study, filter, &k);
	if (rc == EXIT_OK && csv_build(&tab, s, &k) != 0)
		rc = cli_usage("out of memory");
	if (rc == EXIT_OK)
		table_print_csv(&tab, stdout);
	table_free(&tab);
	ttab_free(&k);
	sibyl_study_free(s);
	return rc;
}

int ttab_csv(struct cli *cli, const char *study, const char *filter)
{
	char path[1024], flt[256] = "";
	if (filter) {
		char esc[200];
		cli_escape(filter, esc, sizeof esc);
		snprintf(flt, sizeof flt, "&filter=%s", esc);
	}
	snprintf(path, sizeof path, "%s/trials?alt=csv%s", study, flt);
	char *text = NULL;
	if (sibyl_get_text(cli->client, path, &text) == 0) {
		fputs(text, stdout);
		sibyl_free(text);
		return EXIT_OK;
	}
	if (sibyl_errcode(cli->client) != SIBYL_INVALID_ARGUMENT)
		return cli_fail(cli, "trial list");
	/* A server that does not know alt=csv (400): build it from the JSON. */
	return csv_from_json(cli, study, filter);
}
