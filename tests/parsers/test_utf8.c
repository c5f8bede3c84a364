/*
 * test_utf8.c: the UTF-8 decoder against RFC 3629 section 4 (every code point
 * round-trips, every ill-formed class is refused, the counts of well-formed
 * 2- and 3-byte sequences are exact) and the trimming of a cut sequence.
 */
#include "parsers/utf8.h"

#include <criterion/criterion.h>
#include <string.h>

#include "tests/support/utf8_encode.h"

static size_t decode(const char *bytes, size_t len)
{
	uint32_t cp;
	return utf8_decode((const uint8_t *)bytes, len, &cp);
}

Test(utf8, every_scalar_value_round_trips_with_its_length)
{
	for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		uint8_t b[4];
		size_t n = utf8_encode_reference(cp, b);
		uint32_t got = 0xFFFFFFFF;
		cr_assert_eq(utf8_decode(b, n, &got), n, "U+%04X", (unsigned)cp);
		cr_assert_eq(got, cp, "U+%04X", (unsigned)cp);
	}
}

Test(utf8, surrogates_are_refused)
{
	for (uint32_t cp = 0xD800; cp <= 0xDFFF; cp++) {
		uint8_t b[4];
		size_t n = utf8_encode_reference(cp, b);
		cr_assert_eq(utf8_decode(b, n, NULL), 0, "U+%04X", (unsigned)cp);
	}
	cr_expect_eq(decode("\xED\x9F\xBF", 3), 3); /* U+D7FF, just below */
	cr_expect_eq(decode("\xEE\x80\x80", 3), 3); /* U+E000, just above */
}

Test(utf8, overlong_forms_are_refused)
{
	cr_expect_eq(decode("\xC0\xAF", 2), 0);             /* '/' in two bytes */
	cr_expect_eq(decode("\xC1\xBF", 2), 0);             /* U+007F in two bytes */
	cr_expect_eq(decode("\xE0\x80\xAF", 3), 0);         /* '/' in three */
	cr_expect_eq(decode("\xE0\x9F\xBF", 3), 0);         /* U+07FF in three */
	cr_expect_eq(decode("\xF0\x80\x80\xAF", 4), 0);     /* '/' in four */
	cr_expect_eq(decode("\xF0\x8F\xBF\xBF", 4), 0);     /* U+FFFF in four */
	cr_expect_eq(decode("\xF8\x88\x80\x80\x80", 5), 0); /* five-byte forms are gone (RFC 3629 3) */
}

Test(utf8, nothing_beyond_u_10ffff)
{
	cr_expect_eq(decode("\xF4\x8F\xBF\xBF", 4), 4);
	cr_expect_eq(decode("\xF4\x90\x80\x80", 4), 0);
	for (unsigned lead = 0xF5; lead <= 0xFF; lead++) {
		uint8_t b[4] = {(uint8_t)lead, 0x80, 0x80, 0x80};
		cr_assert_eq(utf8_decode(b, 4, NULL), 0, "lead %02X", lead);
	}
}

Test(utf8, a_stray_continuation_a_cut_sequence_and_a_broken_one_are_refused)
{
	cr_expect_eq(decode("\x80", 1), 0);
	cr_expect_eq(decode("\xBF", 1), 0);
	cr_expect_eq(decode("\xE2\x82\xAC", 2), 0); /* the euro sign, its last byte beyond left */
	cr_expect_eq(decode("\xE2\x82\xAC", 3), 3);
	cr_expect_eq(decode("\xE2\x28\xA1", 3), 0); /* second byte not a continuation */
	cr_expect_eq(decode("\xF0\x9F\x98\x41", 4), 0);
}

Test(utf8, ascii_is_one_byte_including_nul_and_controls)
{
	uint32_t cp = 1;
	cr_expect_eq(utf8_decode((const uint8_t *)"\0", 1, &cp), 1);
	cr_expect_eq(cp, 0);
	cr_expect_eq(decode("\x7F", 1), 1);
	cr_expect_eq(decode("A\x80", 2), 1); /* only the first character is judged */
}

/* RFC 3629 4's grammar admits exactly 0x800 - 0x80 two-byte and 0x10000 - 0x800 - 0x800 three-byte forms. */
Test(utf8, the_well_formed_two_and_three_byte_sequences_are_counted_exactly)
{
	unsigned two = 0;
	for (unsigned a = 0x80; a <= 0xFF; a++)
		for (unsigned b = 0; b <= 0xFF; b++) {
			uint8_t s[2] = {(uint8_t)a, (uint8_t)b};
			two += utf8_decode(s, 2, NULL) == 2;
		}
	cr_expect_eq(two, 0x800 - 0x80);
	unsigned three = 0;
	for (unsigned a = 0xE0; a <= 0xEF; a++)
		for (unsigned b = 0; b <= 0xFF; b++)
			for (unsigned c = 0; c <= 0xFF; c++) {
				uint8_t s[3] = {(uint8_t)a, (uint8_t)b, (uint8_t)c};
				three += utf8_decode(s, 3, NULL) == 3;
			}
	cr_expect_eq(three, 0x10000 - 0x800 - 0x800);
}

Test(utf8, a_cut_in_the_middle_of_a_character_drops_its_start)
{
	const char *s = "ab\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"; /* "abé€😀" */
	cr_expect_eq(utf8_trim_partial(s, 2), 2);
	cr_expect_eq(utf8_trim_partial(s, 3), 2); /* é cut after its lead */
	cr_expect_eq(utf8_trim_partial(s, 4), 4);
	cr_expect_eq(utf8_trim_partial(s, 5), 4);
	cr_expect_eq(utf8_trim_partial(s, 6), 4);
	cr_expect_eq(utf8_trim_partial(s, 7), 7);
	cr_expect_eq(utf8_trim_partial(s, 8), 7);
	cr_expect_eq(utf8_trim_partial(s, 10), 7);
	cr_expect_eq(utf8_trim_partial(s, 11), 11);
	cr_expect_eq(utf8_trim_partial(s, 0), 0);
}

Test(utf8, trimming_leaves_bytes_that_are_no_cut_sequence_alone)
{
	cr_expect_eq(utf8_trim_partial("\x80\x80\x80\x80\x80", 5), 5); /* continuations only */
	cr_expect_eq(utf8_trim_partial("\xC3\xA9\x80", 3), 3);         /* a stray byte after a whole é */
	cr_expect_eq(utf8_trim_partial("a\xFF", 2),
	             1); /* judged by its bits alone: a lead waiting for three */
	cr_expect_eq(utf8_trim_partial("\x80", 1), 1);
}
