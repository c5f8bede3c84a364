/*
 * test_mta_sts.c: the MTA-STS policy file (RFC 8461 3.2): the RFC's example,
 * line endings, whitespace, unknown and repeated keys, every error with its
 * line, the limits, and mx matching (4.1).
 */
#include "parsers/mta_sts.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "bücher.example" in UTF-8: the U-label of xn--bcher-kva.example (the escape cannot run into "c"). */
#define BUECHER                                                                                              \
	"b\xc3\xbc"                                                                                          \
	"cher.example"

/* RFC 8461 3.2, the example policy. */
#define RFC_EXAMPLE                                                                                          \
	"version: STSv1\r\n"                                                                                 \
	"mode: enforce\r\n"                                                                                  \
	"mx: mail.example.com\r\n"                                                                           \
	"mx: *.example.net\r\n"                                                                              \
	"mx: backupmx.example.com\r\n"                                                                       \
	"max_age: 604800\r\n"

static struct mta_sts_policy policy; /* 16 KiB: static rather than on each test's stack */

static int parse(const char *text, struct mta_sts_error *err)
{
	return mta_sts_parse(text, strlen(text), &policy, err);
}

static void expect_ok(const char *text)
{
	struct mta_sts_error err;
	int rc = parse(text, &err);
	cr_assert_eq(rc, 0, "%s", err.message);
	cr_expect_eq(err.problem, MTA_STS_OK);
}

static void expect_error(const char *text, enum mta_sts_problem problem, unsigned line, const char *message)
{
	struct mta_sts_error err;
	cr_assert_eq(parse(text, &err), -1, "accepted: %s", text);
	cr_expect_eq(err.problem, problem, "%s: got %s", message, mta_sts_problem_str(err.problem));
	cr_expect_eq(err.line, line, "%s: line %u", message, err.line);
	cr_expect_str_eq(err.message, message);
	cr_expect_eq(policy.mx_count, 0, "policy left half-filled");
}

static void expect_rfc_example(void)
{
	cr_expect_eq(policy.mode, MTA_STS_MODE_ENFORCE);
	cr_expect_eq(policy.max_age, 604800);
	cr_assert_eq(policy.mx_count, 3);
	cr_expect_str_eq(policy.mx[0], "mail.example.com");
	cr_expect_str_eq(policy.mx[1], "*.example.net");
	cr_expect_str_eq(policy.mx[2], "backupmx.example.com");
	cr_expect_eq(policy.unknown_keys, 0);
	cr_expect_eq(policy.duplicate_keys, 0);
	cr_expect_eq(policy.blank_lines, 0);
}

Test(mta_sts, the_rfc_example_policy_parses)
{
	expect_ok(RFC_EXAMPLE);
	expect_rfc_example();
	cr_expect_eq(policy.lines, 6);
}

Test(mta_sts, lf_crlf_mixed_and_a_missing_last_ending_parse_alike)
{
	static const char *const texts[] = {
	    "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
	    "mx: backupmx.example.com\nmax_age: 604800\n",
	    "version: STSv1\r\nmode: enforce\nmx: mail.example.com\r\nmx: *.example.net\n"
	    "mx: backupmx.example.com\r\nmax_age: 604800",
	    "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
	    "mx: backupmx.example.com\nmax_age: 604800",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		expect_ok(texts[i]);
		expect_rfc_example();
		cr_expect_eq(policy.lines, 6);
	}
}

Test(mta_sts, whitespace_after_the_colon_and_after_the_value_is_allowed)
{
	expect_ok("version:STSv1\nmode:\t enforce \t\nmx:   mail.example.com\t\r\nmax_age: 86400   \r\n");
	cr_expect_eq(policy.mode, MTA_STS_MODE_ENFORCE);
	cr_expect_str_eq(policy.mx[0], "mail.example.com");
	cr_expect_eq(policy.max_age, 86400);
}

Test(mta_sts, whitespace_before_the_name_or_the_colon_is_an_error)
{
	expect_error("version: STSv1\n mode: enforce\n", MTA_STS_BAD_LINE, 2,
	             "line 2: expected a field name");
	expect_error("version: STSv1\nmode : enforce\n", MTA_STS_BAD_LINE, 2,
	             "line 2: expected ':' after \"mode\"");
}

Test(mta_sts, field_names_are_case_sensitive)
{
	expect_error("Version: STSv1\nmode: none\nmax_age: 0\n", MTA_STS_MISSING_VERSION, 3,
	             "line 3: no version field");
	expect_error("version: stsv1\n", MTA_STS_BAD_VERSION, 1, "line 1: version \"stsv1\" is not STSv1");
	expect_error("version: STSv1\nmode: Enforce\n", MTA_STS_BAD_MODE, 2,
	             "line 2: mode \"Enforce\" is not enforce, testing or none");
}

Test(mta_sts, unknown_keys_are_ignored_and_counted)
{
	expect_ok("version: STSv1\nfuture_key: anything at all\nmode: testing\nx.y-z: 1\n"
	          "mx: mail.example.com\nmax_age: 86400\nUTF8: caf\xc3\xa9\n");
	cr_expect_eq(policy.unknown_keys, 3);
	cr_expect_eq(policy.mode, MTA_STS_MODE_TESTING);
}

Test(mta_sts, for_a_repeated_field_the_first_wins_and_mx_accumulates)
{
	expect_ok("version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmax_age: 10\n"
	          "max_age: bogus\nmx: b.example\nversion: STSv2\n");
	cr_expect_eq(policy.mode, MTA_STS_MODE_TESTING);
	cr_expect_eq(policy.max_age, 10);
	cr_expect_eq(policy.mx_count, 2);
	cr_expect_eq(policy.duplicate_keys, 3);
}

Test(mta_sts, blank_lines_are_tolerated_and_counted)
{
	expect_ok("\nversion: STSv1\n\r\n \t\nmode: none\nmax_age: 0\n\n");
	cr_expect_eq(policy.blank_lines, 4);
	cr_expect_eq(policy.lines, 7);
}

Test(mta_sts, mode_none_needs_no_mx_but_testing_and_enforce_do)
{
	expect_ok("version: STSv1\nmode: none\nmax_age: 86400\n");
	cr_expect_eq(policy.mode, MTA_STS_MODE_NONE);
	cr_expect_eq(policy.mx_count, 0);
	expect_error("version: STSv1\nmode: testing\nmax_age: 86400\n", MTA_STS_MISSING_MX, 3,
	             "line 3: mode testing without an mx field");
	expect_error("version: STSv1\nmode: enforce\nmax_age: 86400", MTA_STS_MISSING_MX, 3,
	             "line 3: mode enforce without an mx field");
}

Test(mta_sts, every_error_names_its_line)
{
	expect_error("", MTA_STS_MISSING_VERSION, 1, "line 1: no version field");
	expect_error("mode: enforce\nmx: a.example\nmax_age: 1\n", MTA_STS_MISSING_VERSION, 3,
	             "line 3: no version field");
	expect_error("version: STSv1\nmx: a.example\nmax_age: 1\n", MTA_STS_MISSING_MODE, 3,
	             "line 3: no mode field");
	expect_error("version: STSv1\nmode: enforce\nmx: a.example\n", MTA_STS_MISSING_MAX_AGE, 3,
	             "line 3: no max_age field");
	expect_error("version: STSv2\n", MTA_STS_BAD_VERSION, 1, "line 1: version \"STSv2\" is not STSv1");
	expect_error("version: STSv1\r\nmode: strict\r\n", MTA_STS_BAD_MODE, 2,
	             "line 2: mode \"strict\" is not enforce, testing or none");
	expect_error("version: STSv1\nmode:\n", MTA_STS_BAD_MODE, 2,
	             "line 2: mode \"\" is not enforce, testing or none");
	expect_error("version: STSv1\nmode: none\nmax_age: 1 day\n", MTA_STS_BAD_MAX_AGE, 3,
	             "line 3: max_age \"1 day\" is not 1 to 10 digits");
	expect_error("version: STSv1\nmode: none\nmax_age: 31557601\n", MTA_STS_BAD_MAX_AGE, 3,
	             "line 3: max_age 31557601 is over 31557600");
	expect_error("version: STSv1\nmode: none\nmax_age: 9999999999\n", MTA_STS_BAD_MAX_AGE, 3,
	             "line 3: max_age 9999999999 is over 31557600");
	expect_error("version: STSv1\nmode: none\nmax_age: 00000000001\n", MTA_STS_BAD_MAX_AGE, 3,
	             "line 3: max_age \"00000000001\" is not 1 to 10 digits");
	expect_error("version: STSv1\nmode: none\nmax_age: -1\n", MTA_STS_BAD_MAX_AGE, 3,
	             "line 3: max_age \"-1\" is not 1 to 10 digits");
	expect_error("version: STSv1\nmode: none\nmax_age:\n", MTA_STS_BAD_MAX_AGE, 3,
	             "line 3: max_age \"\" is not 1 to 10 digits");
	expect_error("version: STSv1\nmx: mail_1.example\n", MTA_STS_BAD_MX, 2,
	             "line 2: mx \"mail_1.example\" is not a host name or *.host name");
	expect_error("version: STSv1\nmx: a.*.example\n", MTA_STS_BAD_MX, 2,
	             "line 2: mx \"a.*.example\" is not a host name or *.host name");
	expect_error("version: STSv1\nmx: \n", MTA_STS_BAD_MX, 2, "line 2: mx has no value");
	expect_error("version: STSv1\nmx: " BUECHER "\n", MTA_STS_BAD_MX, 2,
	             "line 2: mx \"b??cher.example\" is not a host name or *.host name");
	expect_error("version: STSv1\nnonsense\n", MTA_STS_BAD_LINE, 2,
	             "line 2: expected ':' after \"nonsense\"");
	expect_error("version: STSv1\n: value\n", MTA_STS_BAD_LINE, 2, "line 2: expected a field name");
	expect_error("version: STSv1\n_x: value\n", MTA_STS_BAD_LINE, 2, "line 2: expected a field name");
	expect_error("version: STSv1\nfuture:\n", MTA_STS_BAD_VALUE, 2,
	             "line 2: field \"future\" has no value");
	expect_error("version: STSv1\nfuture: a\tb\n", MTA_STS_BAD_VALUE, 2,
	             "line 2: control byte 0x09 in the value of \"future\"");
	expect_error("version: STSv1\nmode: enforce\rmx: a.example\n", MTA_STS_BAD_MODE, 2,
	             "line 2: mode \"enforce?mx: a.example\" is not enforce, testing or none");
	expect_error("version: STSv1\nabcdefghijabcdefghijabcdefghijabc: x\n", MTA_STS_BAD_KEY, 2,
	             "line 2: field name \"abcdefghijabcdefghijabcdefghijab...\" longer than 32 bytes");
}

Test(mta_sts, a_32_byte_extension_name_is_allowed)
{
	expect_ok("version: STSv1\nabcdefghijabcdefghijabcdefghijab: x\nmode: none\nmax_age: 0\n");
	cr_expect_eq(policy.unknown_keys, 1);
}

Test(mta_sts, a_nul_byte_is_bad_input_not_the_end)
{
	static const char text[] = "version: STSv1\nmode: enforce\nmx: a.example\0.evil\nmax_age: 1\n";
	struct mta_sts_error err;
	cr_assert_eq(mta_sts_parse(text, sizeof text - 1, &policy, &err), -1);
	cr_expect_eq(err.problem, MTA_STS_BAD_MX);
	cr_expect_eq(err.line, 3);
	cr_expect_str_eq(err.message, "line 3: mx \"a.example?.evil\" holds a NUL byte");
	static const char text2[] = "version: STSv1\0\nmode: none\nmax_age: 1\n";
	cr_assert_eq(mta_sts_parse(text2, sizeof text2 - 1, &policy, &err), -1);
	cr_expect_eq(err.problem, MTA_STS_BAD_VERSION);
}

Test(mta_sts, max_age_takes_0_to_31557600_with_up_to_10_digits)
{
	static const struct {
		const char *value;
		uint64_t age;
	} cases[] = {{"0", 0}, {"31557600", 31557600}, {"0000000001", 1}, {"604800", 604800}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[128];
		snprintf(text, sizeof text, "version: STSv1\nmode: none\nmax_age: %s\n", cases[i].value);
		expect_ok(text);
		cr_expect_eq(policy.max_age, cases[i].age, "%s", cases[i].value);
	}
}

/* Appends to a growing malloc'd text; the tests below build big policies. */
static void append(char **buf, size_t *len, const char *s)
{
	size_t n = strlen(s);
	*buf = realloc(*buf, *len + n + 1);
	cr_assert_not_null(*buf);
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

Test(mta_sts, sixty_four_mx_patterns_fit_and_the_sixty_fifth_is_an_error)
{
	char *text = NULL, line[64];
	size_t len = 0;
	append(&text, &len, "version: STSv1\nmode: enforce\nmax_age: 1\n");
	for (int i = 0; i < MTA_STS_MAX_MX; i++) {
		snprintf(line, sizeof line, "mx: mx%d.example.com\n", i);
		append(&text, &len, line);
	}
	expect_ok(text);
	cr_expect_eq(policy.mx_count, 64);
	cr_expect_str_eq(policy.mx[63], "mx63.example.com");
	append(&text, &len, "mx: one-too-many.example.com\n");
	expect_error(text, MTA_STS_TOO_MANY_MX, 68, "line 68: more than 64 mx patterns");
	free(text);
}

Test(mta_sts, an_mx_pattern_may_be_253_bytes_but_not_254)
{
	char label[64], pattern[300], text[400];
	memset(label, 'a', 63);
	label[63] = '\0';
	/* "*." and three 63-byte labels with dots make 193; then one label to reach the total. */
	for (size_t total = 253; total <= 254; total++) {
		size_t last = total - 2 - 3 * 64;
		char tail[64];
		memset(tail, 'b', last);
		tail[last] = '\0';
		snprintf(pattern, sizeof pattern, "*.%s.%s.%s.%s", label, label, label, tail);
		cr_assert_eq(strlen(pattern), total);
		snprintf(text, sizeof text, "version: STSv1\nmode: enforce\nmax_age: 1\nmx: %s\n", pattern);
		if (total == 253) {
			expect_ok(text);
			cr_expect_str_eq(policy.mx[0], pattern);
		} else {
			expect_error(text, MTA_STS_BAD_MX, 4, "line 4: mx pattern longer than 253 bytes");
		}
	}
}

Test(mta_sts, a_line_may_be_1024_bytes_but_not_1025)
{
	char text[2048];
	int n = snprintf(text, sizeof text, "version: STSv1\nmode: none\nmax_age: 1\nnote: ");
	memset(text + n, 'x', 1024 - 6);
	snprintf(text + n + 1024 - 6, sizeof text - (size_t)n - 1018, "\r\n");
	expect_ok(text);
	cr_expect_eq(policy.unknown_keys, 1);
	memset(text + n, 'x', 1024 - 5);
	snprintf(text + n + 1024 - 5, sizeof text - (size_t)n - 1019, "\r\n");
	expect_error(text, MTA_STS_LINE_TOO_LONG, 4, "line 4: line longer than 1024 bytes");
}

Test(mta_sts, a_file_may_be_65536_bytes_but_not_65537)
{
	static const char head[] = "version: STSv1\nmode: none\nmax_age: 1\n";
	size_t len = MTA_STS_MAX_FILE + 1;
	char *text = malloc(len);
	cr_assert_not_null(text);
	memcpy(text, head, sizeof head - 1);
	memset(text + sizeof head - 1, '\n', len - (sizeof head - 1));
	struct mta_sts_error err;
	cr_expect_eq(mta_sts_parse(text, MTA_STS_MAX_FILE, &policy, &err), 0, "%s", err.message);
	cr_expect_eq(policy.blank_lines, MTA_STS_MAX_FILE - (sizeof head - 1));
	cr_expect_eq(mta_sts_parse(text, len, &policy, &err), -1);
	cr_expect_eq(err.problem, MTA_STS_FILE_TOO_LARGE);
	/* Byte 65537 comes after 3 + (65536 - 37) LFs, so it is on the line after them. */
	unsigned expect_line = (unsigned)(MTA_STS_MAX_FILE - (sizeof head - 1)) + 3 + 1;
	cr_expect_eq(err.line, expect_line);
	char message[160];
	snprintf(message, sizeof message, "line %u: policy file larger than 65536 bytes", expect_line);
	cr_expect_str_eq(err.message, message);
	free(text);
}

Test(mta_sts, every_prefix_of_the_example_is_handled)
{
	static const char text[] = RFC_EXAMPLE;
	size_t len = sizeof text - 1;
	for (size_t n = 0; n <= len; n++) {
		/* An exact-size copy, so ASan sees any read past the prefix. */
		char *copy = malloc(n ? n : 1);
		memcpy(copy, text, n);
		struct mta_sts_error err;
		int rc = mta_sts_parse(copy, n, &policy, &err);
		/*
		 * Complete from "max_age: 6" on (len - 7), except when the text ends in
		 * the CR of the last CRLF: a CR alone is no line ending, so it is a byte
		 * of the value.
		 */
		bool complete = n >= len - 7 && n != len - 1;
		cr_expect_eq(rc, complete ? 0 : -1, "prefix %zu: %s", n, err.message);
		if (rc == -1)
			cr_expect(strncmp(err.message, "line ", 5) == 0);
		free(copy);
	}
}

Test(mta_sts, the_error_may_be_omitted)
{
	cr_expect_eq(mta_sts_parse("version: STSv2", 14, &policy, NULL), -1);
	cr_expect_eq(mta_sts_parse(NULL, 0, &policy, NULL), -1);
}

struct host_case {
	const char *host;
	bool match;
};

Test(mta_sts, mx_matching_follows_rfc_8461_section_4_1)
{
	expect_ok("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
	          "mx: xn--bcher-kva.example\nmx: *.xn--mnchen-3ya.example\nmx: trailing.example.org.\n"
	          "max_age: 86400\n");
	static const struct host_case cases[] = {
	    {"mail.example.com", true},
	    {"MAIL.EXAMPLE.COM", true},
	    {"mail.example.com.", true},
	    {"mx.mail.example.com", false},
	    {"example.com", false},
	    {"mx1.example.net", true},
	    {"MX1.Example.Net.", true},
	    {"a.b.example.net", false},
	    {"example.net", false},
	    {".example.net", false},
	    {"xn--bcher-kva.example", true},
	    {"XN--BCHER-KVA.EXAMPLE.", true},
	    {BUECHER, false},
	    {"mx.xn--mnchen-3ya.example", true},
	    {"mx.m\xc3\xbcnchen.example", false},
	    {"trailing.example.org", true},
	    {"trailing.example.org.", true},
	    {"", false},
	    {"mail.example.com..", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		cr_expect(mta_sts_mx_matches(&policy, cases[i].host) == cases[i].match, "%s", cases[i].host);
	cr_expect(!mta_sts_mx_matches(&policy, NULL));
	cr_expect(!mta_sts_mx_matches(NULL, "mail.example.com"));
}

Test(mta_sts, names_of_modes_and_problems)
{
	cr_expect_str_eq(mta_sts_mode_str(MTA_STS_MODE_ENFORCE), "enforce");
	cr_expect_str_eq(mta_sts_mode_str(MTA_STS_MODE_TESTING), "testing");
	cr_expect_str_eq(mta_sts_mode_str(MTA_STS_MODE_NONE), "none");
	for (int p = MTA_STS_OK; p <= MTA_STS_MISSING_MX; p++)
		cr_expect_not_null(mta_sts_problem_str((enum mta_sts_problem)p), "problem %d", p);
	cr_expect_str_eq(mta_sts_problem_str(MTA_STS_LINE_TOO_LONG), "line_too_long");
	cr_expect_null(mta_sts_problem_str((enum mta_sts_problem)(MTA_STS_MISSING_MX + 1)));
}
