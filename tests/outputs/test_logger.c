/* test_logger.c: one line per message, with an RFC 3339 UTC time, a level and a component. */
#include <criterion/criterion.h>
#include <string.h>

#include "outputs/logger.h"

Test(logger, a_line_reads_time_level_component_message)
{
	char line[256];
	int n = logger_format(line, sizeof line, 1796570659LL, LOGGER_WARNING, "kafka", "broker down");
	cr_assert_str_eq(line, "2026-12-06T15:24:19Z warning kafka: broker down\n");
	cr_assert_eq(n, (int)strlen(line));
}

Test(logger, an_overlong_message_is_cut_but_stays_one_line)
{
	char line[64], msg[200];
	memset(msg, 'a', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	int n = logger_format(line, sizeof line, 0, LOGGER_ERROR, "output", msg);
	cr_assert_eq(n, 63);
	cr_assert_eq(line[62], '\n');
	cr_assert_null(memchr(line, '\n', 62));
}

Test(logger, levels_parse_by_name_and_filter_what_is_above)
{
	enum logger_level l;
	cr_assert_eq(logger_level_parse("info", &l), 0);
	cr_assert_eq(l, LOGGER_INFO);
	cr_assert_eq(logger_level_parse("verbose", &l), -1);
	logger_configure(LOGGER_STDERR, LOGGER_WARNING);
	cr_assert(logger_enabled(LOGGER_ERROR));
	cr_assert(logger_enabled(LOGGER_WARNING));
	cr_assert_not(logger_enabled(LOGGER_NOTICE));
	cr_assert_str_eq(logger_level_str(LOGGER_DEBUG), "debug");
}
