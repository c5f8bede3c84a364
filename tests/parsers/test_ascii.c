/*
 * test_ascii.c: the case-insensitive search over length-bounded text: found anywhere and in any case,
 * never past the length given, and the empty needle.
 */
#include "parsers/ascii.h"

#include <criterion/criterion.h>

Test(ascii, finds_the_needle_at_the_start_the_middle_and_the_end_in_any_case)
{
	const char *t = "Subject: STARTTLS test";
	cr_expect(ascii_contains_nocase(t, 22, "subject"));
	cr_expect(ascii_contains_nocase(t, 22, "StartTLS"));
	cr_expect(ascii_contains_nocase(t, 22, "TEST"));
	cr_expect_not(ascii_contains_nocase(t, 22, "tests"));
	cr_expect_not(ascii_contains_nocase(t, 22, "smtp"));
}

Test(ascii, reads_nothing_past_the_length)
{
	const char t[] = {'<', '/', 's', 'c', 'r', 'i', 'p', 't'}; /* no NUL */
	cr_expect(ascii_contains_nocase(t, sizeof t, "</SCRIPT"));
	cr_expect_not(ascii_contains_nocase(t, sizeof t - 1, "</script"));
	cr_expect_not(ascii_contains_nocase(t, 0, "<"));
}

Test(ascii, an_empty_needle_is_in_any_text)
{
	cr_expect(ascii_contains_nocase("", 0, ""));
	cr_expect(ascii_contains_nocase("abc", 3, ""));
}
