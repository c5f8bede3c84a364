/*
 * test_domain_pattern.c: RFC 1123 2.1 host names and the RFC 8461 4.1
 * left-most-label wildcard, as tables.
 */
#include "parsers/domain_pattern.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* "bücher.example" in UTF-8: the U-label of xn--bcher-kva.example (the escape cannot run into "c"). */
#define BUECHER                                                                                              \
	"b\xc3\xbc"                                                                                          \
	"cher.example"

static char *repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

Test(domain_pattern, ldh_names_are_valid)
{
	static const char *const good[] = {
	    "example.com",  "mx1.example.com",       "EXAMPLE.COM",   "a",
	    "localhost",    "a-b.c-d.example",       "123.example",   "3com.net",
	    "example.com.", "xn--bcher-kva.example", "a.b.c.d.e.f.g",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		cr_expect(domain_name_valid(good[i]), "%s", good[i]);
}

Test(domain_pattern, names_outside_ldh_are_invalid)
{
	static const char *const bad[] = {
	    "",
	    ".",
	    "..",
	    "example..com",
	    ".example.com",
	    "example.com..",
	    "-a.example",
	    "a-.example",
	    "a_b.example",
	    "*.example.com",
	    "a.*.example",
	    "exa mple.com",
	    BUECHER,
	    "example.com/",
	    "a@b.c",
	    "a.b-",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect(!domain_name_valid(bad[i]), "\"%s\"", bad[i]);
	cr_expect(!domain_name_valid(NULL));
}

Test(domain_pattern, a_label_may_be_63_bytes_but_not_64)
{
	char label[80], name[100];
	repeat(label, 'a', 63);
	snprintf(name, sizeof name, "%s.example", label);
	cr_expect(domain_name_valid(name));
	repeat(label, 'a', 64);
	snprintf(name, sizeof name, "%s.example", label);
	cr_expect(!domain_name_valid(name));
}

/* Four labels of 63 bytes and three dots make 255; trim to land on 253 and 254. */
static void long_name(char *out, size_t total)
{
	char label[64];
	repeat(label, 'x', 63);
	snprintf(out, 300, "%s.%s.%s.%s", label, label, label, label);
	out[total] = '\0';
}

Test(domain_pattern, a_name_may_be_253_bytes_and_a_trailing_dot_is_not_counted)
{
	char name[300];
	long_name(name, 253);
	cr_expect(domain_name_valid(name));
	strcat(name, ".");
	cr_expect(domain_name_valid(name), "254 bytes with the root dot");
	long_name(name, 254);
	cr_expect(!domain_name_valid(name));
	long_name(name, 255);
	cr_expect(!domain_name_valid(name));
}

struct match_case {
	const char *pattern, *name;
	bool match;
};

Test(domain_pattern, the_wildcard_matches_exactly_one_left_most_label)
{
	static const struct match_case cases[] = {
	    {"*.example.com", "mx.example.com", true},
	    {"*.example.com", "a.b.example.com", false},
	    {"*.example.com", "example.com", false},
	    {"*.example.com", ".example.com", false},
	    {"*.example.com", "mx.example.org", false},
	    {"*.example.com", "mxexample.com", false},
	    {"*.example.com", "MX.EXAMPLE.COM", true},
	    {"*.EXAMPLE.com", "mx.example.COM", true},
	    {"*.example.com", "mx.example.com.", true},
	    {"*.example.com.", "mx.example.com", true},
	    {"*.example.com", "mx.example.com..", false},
	    {"*.example.com", "*.example.com", false},
	    {"*.com", "example.com", true},
	    {"*", "example", false},
	    {"*.", "example", false},
	    {"*example.com", "mx.example.com", false},
	    {"**.example.com", "mx.example.com", false},
	    {"mx.*.com", "mx.example.com", false},
	    {"*.*.example.com", "a.b.example.com", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		cr_expect(domain_pattern_match(cases[i].pattern, cases[i].name) == cases[i].match, "%s vs %s",
		          cases[i].pattern, cases[i].name);
}

Test(domain_pattern, a_plain_pattern_matches_the_same_name_in_any_case)
{
	static const struct match_case cases[] = {
	    {"mail.example.com", "mail.example.com", true},
	    {"mail.example.com", "MAIL.Example.COM", true},
	    {"mail.example.com.", "mail.example.com", true},
	    {"mail.example.com", "mail.example.com.", true},
	    {"mail.example.com", "mail.example.co", false},
	    {"mail.example.com", "mx.mail.example.com", false},
	    {"mail.example.com", "example.com", false},
	    {"xn--bcher-kva.example", "XN--BCHER-KVA.example", true},
	    {"*.xn--bcher-kva.example", "mx.xn--bcher-kva.example", true},
	    {"xn--bcher-kva.example", BUECHER, false},
	    {BUECHER, BUECHER, false},
	    {"bad_name.example", "bad_name.example", false},
	    {"", "", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		cr_expect(domain_pattern_match(cases[i].pattern, cases[i].name) == cases[i].match, "%s vs %s",
		          cases[i].pattern, cases[i].name);
}

Test(domain_pattern, null_never_matches)
{
	cr_expect(!domain_pattern_match(NULL, "example.com"));
	cr_expect(!domain_pattern_match("example.com", NULL));
	cr_expect(!domain_pattern_match(NULL, NULL));
}

Test(domain_pattern, a_wildcard_over_a_253_byte_base_needs_a_longer_name_which_is_invalid)
{
	char base[300], pattern[310], name[310];
	long_name(base, 251);
	snprintf(pattern, sizeof pattern, "*.%s", base);
	snprintf(name, sizeof name, "a.%s", base);
	cr_expect(domain_pattern_match(pattern, name), "253-byte name");
	snprintf(name, sizeof name, "ab.%s", base);
	cr_expect(!domain_pattern_match(pattern, name), "254-byte name");
}
