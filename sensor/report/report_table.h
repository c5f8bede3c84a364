/*
 * report_table.h: a text table for people, laid out from its content: each column as wide as its
 * widest cell, except list columns, which are capped at a width and wrap their items (", "
 * separated) onto continuation lines under the column. Rows are kept until printed, up to
 * REPORT_TABLE_MAX_ROWS (later rows are counted and said in one closing line).
 *
 * Ownership: the table copies every string it is given.
 */
#ifndef TLSOBS_REPORT_TABLE_H
#define TLSOBS_REPORT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { REPORT_TABLE_MAX_COLS = 16, REPORT_TABLE_MAX_ROWS = 100000 };

struct report_table_col {
	const char *header;
	bool right;     /* numbers: aligned right */
	size_t wrap_at; /* 0: never wrapped; else a list column at most this wide */
};

struct report_table;

/* NULL on allocation failure or more than REPORT_TABLE_MAX_COLS columns. */
struct report_table *report_table_new(const struct report_table_col *cols, size_t ncols);
void report_table_free(struct report_table *t);
/* One row of ncols cells (NULL: "-"). -1 when out of memory; past the row cap the row is counted only. */
int report_table_add(struct report_table *t, const char *const *cells);
/* The header, a rule, the rows; then "(N more rows: use --format csv)" when rows were left out. */
void report_table_print(const struct report_table *t, FILE *out);

#endif
