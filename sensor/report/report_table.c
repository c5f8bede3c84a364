/* report_table.c: column widths from the content, list cells wrapped under their column (report_table.h). */
#include "sensor/report/report_table.h"

#include <stdlib.h>
#include <string.h>

struct report_table {
	struct report_table_col cols[REPORT_TABLE_MAX_COLS];
	size_t ncols;
	char **cells; /* rows * ncols, owned */
	size_t rows, cap;
	uint64_t left_out;
};

struct report_table *report_table_new(const struct report_table_col *cols, size_t ncols)
{
	if (ncols == 0 || ncols > REPORT_TABLE_MAX_COLS)
		return NULL;
	struct report_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	memcpy(t->cols, cols, ncols * sizeof *cols);
	t->ncols = ncols;
	return t;
}

void report_table_free(struct report_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

int report_table_add(struct report_table *t, const char *const *cells)
{
	if (t->rows >= REPORT_TABLE_MAX_ROWS) {
		t->left_out++;
		return 0;
	}
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **grown = realloc(t->cells, cap * t->ncols * sizeof *grown);
		if (!grown)
			return -1;
		t->cells = grown;
		t->cap = cap;
	}
	char **row = t->cells + t->rows * t->ncols;
	for (size_t c = 0; c < t->ncols; c++) {
		row[c] = strdup(cells[c] && cells[c][0] ? cells[c] : "-");
		if (!row[c]) {
			for (size_t k = 0; k < c; k++)
				free(row[k]);
			return -1;
		}
	}
	t->rows++;
	return 0;
}

/*
 * The next line of a list cell from *p: as many ", "-separated items as fit in width (at least
 * one, cut at width if alone). Returns its length; *p moves past it and its separator.
 */
static size_t next_piece(const char **p, size_t width)
{
	const char *s = *p;
	size_t n = strlen(s);
	if (width == 0 || n <= width) {
		*p = s + n;
		return n;
	}
	size_t take = 0;
	for (const char *sep = strstr(s, ", "); sep && (size_t)(sep - s) <= width;
	     sep = strstr(sep + 2, ", "))
		take = (size_t)(sep - s);
	if (take == 0) {
		*p = s + width;
		return width;
	}
	*p = s + take + 2;
	return take;
}

static size_t col_width(const struct report_table *t, size_t c)
{
	size_t w = strlen(t->cols[c].header);
	for (size_t r = 0; r < t->rows; r++) {
		size_t n = strlen(t->cells[r * t->ncols + c]);
		if (t->cols[c].wrap_at && n > t->cols[c].wrap_at)
			n = t->cols[c].wrap_at;
		if (n > w)
			w = n;
	}
	return w;
}

/* Padding is held back until content follows it, so no line ends in spaces. */
static void cell(FILE *out, const char *s, size_t n, size_t width, bool right, bool last, size_t *pending)
{
	size_t pad = width > n ? width - n : 0;
	if (right)
		*pending += pad;
	if (n) {
		fprintf(out, "%*s", (int)*pending, "");
		fwrite(s, 1, n, out);
		*pending = 0;
	}
	if (!last)
		*pending += (right ? 0 : pad) + 2;
}

static void print_row(const struct report_table *t, const char *const *row, const size_t *w, FILE *out)
{
	const char *rest[REPORT_TABLE_MAX_COLS];
	for (size_t c = 0; c < t->ncols; c++)
		rest[c] = row[c];
	bool more = true;
	for (bool first = true; more; first = false) {
		more = false;
		size_t pending = 0;
		for (size_t c = 0; c < t->ncols; c++) {
			const char *p = rest[c];
			size_t n = *p ? next_piece(&p, t->cols[c].wrap_at ? w[c] : 0) : 0;
			cell(out, rest[c], n, w[c], t->cols[c].right && first, c + 1 == t->ncols, &pending);
			rest[c] = p;
			more |= *p != '\0';
		}
		fputc('\n', out);
	}
}

void report_table_print(const struct report_table *t, FILE *out)
{
	size_t w[REPORT_TABLE_MAX_COLS] = {0}, total = 0;
	const char *head[REPORT_TABLE_MAX_COLS] = {0};
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = col_width(t, c);
		head[c] = t->cols[c].header;
		total += w[c] + (c + 1 < t->ncols ? 2 : 0);
	}
	print_row(t, head, w, out);
	for (size_t i = 0; i < total; i++)
		fputc('-', out);
	fputc('\n', out);
	for (size_t r = 0; r < t->rows; r++)
		print_row(t, (const char *const *)t->cells + r * t->ncols, w, out);
	if (t->left_out)
		fprintf(out, "(%llu more rows: use --format csv)\n", (unsigned long long)t->left_out);
}
