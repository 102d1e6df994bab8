/* table: rows of text cells under named columns, printed aligned (each
 * column as wide as its widest cell) or as CSV (RFC 4180). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void table_init(struct table *t)
{
	memset(t, 0, sizeof *t);
}

void table_free(struct table *t)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	for (size_t c = 0; c < t->ncols; c++)
		free(t->heads[c]);
	free(t->rows);
	free(t->heads);
	memset(t, 0, sizeof *t);
}

/* Widens every row to ncols + 1 cells. */
static int grow_cols(struct table *t)
{
	char **h = realloc(t->heads, (t->ncols + 1) * sizeof *h);
	if (!h)
		return -1;
	t->heads = h;
	h[t->ncols] = NULL;
	for (size_t r = 0; r < t->nrows; r++) {
		char **row = realloc(t->rows[r], (t->ncols + 1) * sizeof *row);
		if (!row)
			return -1;
		row[t->ncols] = NULL;
		t->rows[r] = row;
	}
	t->ncols++;
	return 0;
}

int table_col(struct table *t, const char *name)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (strcmp(t->heads[c], name) == 0)
			return (int)c;
	if (grow_cols(t) != 0 || !(t->heads[t->ncols - 1] = strdup(name)))
		return -1;
	return (int)t->ncols - 1;
}

int table_row(struct table *t)
{
	char ***rows = realloc(t->rows, (t->nrows + 1) * sizeof *rows);
	if (!rows)
		return -1;
	t->rows = rows;
	if (!(rows[t->nrows] = calloc(t->ncols + 1, sizeof **rows)))
		return -1;
	t->nrows++;
	return 0;
}

int table_set(struct table *t, int col, const char *fmt, ...)
{
	if (col < 0 || (size_t)col >= t->ncols || t->nrows == 0)
		return -1;
	char **cell = &t->rows[t->nrows - 1][col];
	va_list ap;
	va_start(ap, fmt);
	free(*cell);
	int n = vasprintf(cell, fmt, ap);
	va_end(ap);
	if (n < 0)
		*cell = NULL;
	return n < 0 ? -1 : 0;
}

void table_print(const struct table *t, FILE *f)
{
	size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof *w);
	if (!w)
		return;
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = strlen(t->heads[c]);
		for (size_t r = 0; r < t->nrows; r++)
			if (t->rows[r][c] && strlen(t->rows[r][c]) > w[c])
				w[c] = strlen(t->rows[r][c]);
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = r == 0 ? t->heads[c] : t->rows[r - 1][c];
			if (!s)
				s = "-";
			if (c + 1 == t->ncols)
				fputs(s, f);
			else
				fprintf(f, "%-*s  ", (int)w[c], s);
		}
		fputc('\n', f);
	}
	free(w);
}

static void csv_cell(const char *s, FILE *f)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void table_print_csv(const struct table *t, FILE *f)
{
	for (size_t r = 0; r <= t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			if (c)
				fputc(',', f);
			csv_cell(r == 0 ? t->heads[c] : t->rows[r - 1][c], f);
		}
		fputs("\r\n", f);
	}
}
