/* test_report_table.c: the report table (sensor/report/report_table.h): widths from content, lists wrapped
 * under their column. */
#include "sensor/report/report_table.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

static char *print(struct report_table *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	report_table_print(t, f);
	fclose(f);
	return text;
}

Test(report_table, a_long_list_wraps_at_its_separators_under_its_own_column)
{
	static const struct report_table_col cols[] = {
	    {"NAME", false, 0}, {"N", true, 0}, {"LIST", false, 12}, {"END", false, 0}};
	struct report_table *t = report_table_new(cols, 4);
	cr_assert_not_null(t);
	cr_assert_eq(report_table_add(t, (const char *[]){"a.example", "7", "x 1, yy 22, zzz 333", "e"}), 0);
	cr_assert_eq(report_table_add(t, (const char *[]){"b", "12", NULL, ""}), 0);
	char *text = print(t);
	cr_assert_str_eq(text,
	                 "NAME        N  LIST          END\n"
	                 "--------------------------------\n"
	                 "a.example   7  x 1, yy 22    e\n"
	                 "               zzz 333\n"
	                 "b          12  -             -\n",
	                 "%s", text);
	free(text);
	report_table_free(t);
}

Test(report_table, an_item_longer_than_the_wrap_width_is_cut_into_pieces)
{
	static const struct report_table_col cols[] = {{"L", false, 4}};
	struct report_table *t = report_table_new(cols, 1);
	cr_assert_eq(report_table_add(t, (const char *[]){"abcdefghij"}), 0);
	char *text = print(t);
	cr_assert_str_eq(text, "L\n----\nabcd\nefgh\nij\n");
	free(text);
	report_table_free(t);
}
