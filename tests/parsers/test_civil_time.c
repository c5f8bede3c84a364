/*
 * test_civil_time.c: the RFC 3339 writer at the edges of the calendar (the
 * epoch, leap days of 4-, 100- and 400-year rules, before 1970, year 0000 and
 * 9999 and past it) and against gmtime_r() + strftime(), what the events,
 * rules, logs and reports used before, over a spread of instants.
 */
#include "parsers/civil_time.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *at(int64_t secs)
{
	static char text[CIVIL_TIME_TEXT_MAX];
	cr_assert_neq(civil_time_rfc3339(text, sizeof text, secs), 0, "%" PRId64, secs);
	return text;
}

static const char *at_us(uint64_t us)
{
	static char text[CIVIL_TIME_TEXT_MAX];
	cr_assert_neq(civil_time_rfc3339_us(text, sizeof text, us), 0, "%" PRIu64, us);
	return text;
}

Test(civil_time, the_epoch_and_the_second_before_it)
{
	cr_expect_str_eq(at(0), "1970-01-01T00:00:00Z");
	cr_expect_str_eq(at(-1), "1969-12-31T23:59:59Z");
	cr_expect_str_eq(at(86399), "1970-01-01T23:59:59Z");
	cr_expect_str_eq(at_us(0), "1970-01-01T00:00:00.000000Z");
}

Test(civil_time, leap_days_follow_the_gregorian_rules)
{
	cr_expect_str_eq(at(951782400), "2000-02-29T00:00:00Z");  /* divisible by 400: leap */
	cr_expect_str_eq(at(1709164800), "2024-02-29T00:00:00Z"); /* by 4: leap */
	cr_expect_str_eq(at(1709251200), "2024-03-01T00:00:00Z");
	cr_expect_str_eq(at(4107542400), "2100-03-01T00:00:00Z"); /* by 100 only: no 29 February */
	cr_expect_str_eq(at(4107542399), "2100-02-28T23:59:59Z");
	cr_expect_str_eq(at(-2203891200), "1900-03-01T00:00:00Z");
	cr_expect_str_eq(at(1735689599), "2024-12-31T23:59:59Z"); /* day 366 */
}

Test(civil_time, four_digit_years_from_0000_to_9999_then_as_many_as_needed)
{
	cr_expect_str_eq(at(-62167219200), "0000-01-01T00:00:00Z");
	cr_expect_str_eq(at(-34817996940), "0866-08-29T22:11:00Z");
	cr_expect_str_eq(at(253402300799), "9999-12-31T23:59:59Z");
	cr_expect_str_eq(at_us(253402300799999999u), "9999-12-31T23:59:59.999999Z");
	cr_expect_str_eq(at(253402300800), "10000-01-01T00:00:00Z");
	cr_expect_str_eq(at_us(UINT64_MAX), "586524-01-19T08:01:49.551615Z");
}

Test(civil_time, before_the_year_0000_and_millions_of_years_away_nothing_is_written)
{
	char text[CIVIL_TIME_TEXT_MAX] = "x";
	cr_expect_eq(civil_time_rfc3339(text, sizeof text, -62167219201), 0);
	cr_expect_str_eq(text, "");
	cr_expect_eq(civil_time_rfc3339(text, sizeof text, INT64_MAX), 0);
	cr_expect_eq(civil_time_rfc3339(text, sizeof text, INT64_MIN), 0);
}

Test(civil_time, microseconds_keep_six_digits)
{
	cr_expect_str_eq(at_us(1700000000000001u), "2023-11-14T22:13:20.000001Z");
	cr_expect_str_eq(at_us(1700000000123456u), "2023-11-14T22:13:20.123456Z");
	cr_expect_str_eq(at_us(1700000000999999u), "2023-11-14T22:13:20.999999Z");
}

Test(civil_time, a_buffer_too_small_gets_an_empty_text)
{
	char text[20] = "x"; /* one short of "YYYY-MM-DDTHH:MM:SSZ" and its NUL */
	cr_expect_eq(civil_time_rfc3339(text, sizeof text, 0), 0);
	cr_expect_str_eq(text, "");
	char exact[21];
	cr_expect_eq(civil_time_rfc3339(exact, sizeof exact, 0), 20);
	cr_expect_eq(civil_time_rfc3339_us(exact, sizeof exact, 0), 0);
}

/*
 * Every caller's text before: gmtime_r() and strftime(), with the microseconds
 * appended, for years 1000..9999 (glibc's %Y wrote earlier years with fewer
 * than the four digits RFC 3339 asks for; they are padded now) and far beyond.
 */
Test(civil_time, agrees_with_gmtime_over_a_spread_of_instants)
{
	uint64_t x = 0x9E3779B97F4A7C15u;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;                                /* xorshift64 */
		int64_t secs = i % 4 == 3 ? (int64_t)(x % (UINT64_C(1) << 44))          /* to year 559k */
		                          : (int64_t)(x % 284012524800u) - 30610224000; /* 1000..9999 */
		time_t t = (time_t)secs;
		struct tm tm;
		char want[64], got[CIVIL_TIME_TEXT_MAX];
		cr_assert_not_null(gmtime_r(&t, &tm));
		strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
		civil_time_rfc3339(got, sizeof got, secs);
		cr_assert_str_eq(got, want, "%" PRId64, secs);
		if (secs >= 0) {
			uint64_t us = (uint64_t)secs * 1000000u + x % 1000000u;
			size_t n = strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
			snprintf(want + n, sizeof want - n, ".%06uZ", (unsigned)(us % 1000000u));
			civil_time_rfc3339_us(got, sizeof got, us);
			cr_assert_str_eq(got, want, "%" PRIu64, us);
		}
	}
}
