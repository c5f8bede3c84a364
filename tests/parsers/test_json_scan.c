/*
 * test_json_scan.c: the bounded JSON scanner: paths and array indexes, escapes to UTF-8, the grammar's
 * errors, the caps, and every prefix of a real event read without reading past it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/json_scan.h"

struct seen {
	char lines[64][512];
	int n, stop_at;
	bool truncated;
	size_t last_len;
};

static int record(void *ctx, const struct json_scan_value *v)
{
	struct seen *s = ctx;
	if (s->n < 64) {
		if (v->in_array)
			snprintf(s->lines[s->n], sizeof s->lines[0], "%s[%zu]=%s%s", v->path, v->index,
			         v->text, v->truncated ? "..." : "");
		else
			snprintf(s->lines[s->n], sizeof s->lines[0], "%s=%s%s", v->path, v->text,
			         v->truncated ? "..." : "");
	}
	s->n++;
	s->truncated |= v->truncated;
	s->last_len = v->len;
	return s->stop_at && s->n >= s->stop_at;
}

static enum json_scan_result scan(const char *text, struct seen *s)
{
	memset(s->lines, 0, sizeof s->lines);
	s->n = 0;
	return json_scan((const uint8_t *)text, strlen(text), record, s);
}

Test(json_scan, hands_every_scalar_over_with_its_dotted_path_and_array_index)
{
	struct seen s = {0};
	cr_assert_eq(
	    scan(" {\"a\": {\"b\": \"x\", \"c\": [1, -2.5e3, true]}, \"d\": null, \"e\": [{\"f\": false}]} ",
	         &s),
	    JSON_SCAN_OK);
	cr_assert_eq(s.n, 6);
	cr_assert_str_eq(s.lines[0], "a.b=x");
	cr_assert_str_eq(s.lines[1], "a.c[0]=1");
	cr_assert_str_eq(s.lines[2], "a.c[1]=-2.5e3");
	cr_assert_str_eq(s.lines[3], "a.c[2]=true");
	cr_assert_str_eq(s.lines[4], "d=null");
	cr_assert_str_eq(s.lines[5], "e.f=false");
}

Test(json_scan, unescapes_strings_to_utf8_and_joins_surrogate_pairs)
{
	struct seen s = {0};
	cr_assert_eq(scan("{\"k\":\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\\ud800x\"}", &s), JSON_SCAN_OK);
	cr_assert_str_eq(s.lines[0], "k=a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx");
}

Test(json_scan, refuses_what_the_grammar_does_not_allow)
{
	static const char *const bad[] = {
	    "",
	    "{",
	    "{\"a\"}",
	    "{\"a\":}",
	    "[1,]",
	    "[1 2]",
	    "01",
	    "-",
	    "1.",
	    "1e",
	    "\"a",
	    "\"\\x\"",
	    "\"\\u12g4\"",
	    "tru",
	    "nul",
	    "{} {}",
	    "\"a\x01\"",
	    "\"\xff\"",
	    "{\"a\":1,}",
	    "{,}",
	    "]",
	    "{\"a\" 1}",
	    "[\"\xc3\"]",
	    "{\"a\":\"b\"x}",
	};
	struct seen s = {0};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(scan(bad[i], &s), JSON_SCAN_MALFORMED, "%s", bad[i]);
}

Test(json_scan, cuts_a_long_string_at_the_cap_and_says_so)
{
	size_t n = JSON_SCAN_VALUE_MAX * 2;
	char *text = malloc(n + 16);
	strcpy(text, "[\"");
	memset(text + 2, 'a', n);
	strcpy(text + 2 + n, "\"]");
	struct seen s = {0};
	cr_assert_eq(scan(text, &s), JSON_SCAN_OK);
	cr_assert_eq(s.n, 1);
	cr_assert(s.truncated);
	cr_assert_eq(s.last_len, JSON_SCAN_VALUE_MAX - 1);
	free(text);
}

Test(json_scan, ends_on_nesting_past_the_cap)
{
	char text[JSON_SCAN_DEPTH_MAX * 2 + 8];
	size_t d = JSON_SCAN_DEPTH_MAX + 1;
	memset(text, '[', d);
	memset(text + d, ']', d);
	text[2 * d] = '\0';
	struct seen s = {0};
	cr_assert_eq(scan(text, &s), JSON_SCAN_TOO_DEEP);
	text[0] = ' ';
	text[2 * d - 1] = ' ';
	cr_assert_eq(scan(text, &s), JSON_SCAN_OK);
}

Test(json_scan, stops_when_the_callback_says_so)
{
	struct seen s = {.stop_at = 2};
	cr_assert_eq(scan("[1,2,3,4]", &s), JSON_SCAN_STOPPED);
	cr_assert_eq(s.n, 2);
}

/* Every prefix of a real event: each is refused (nothing is complete before the last byte), none is
 * read past (ASan), and the whole reads back every field once. */
Test(json_scan, every_prefix_of_an_event_is_refused_without_reading_past_it)
{
	const char *ev = "{\"@timestamp\":\"2026-11-28T16:29:30.729543Z\",\"observer\":{\"name\":\"mx-a\"},"
	                 "\"tlsobs\":{\"smtp\":{\"rcpt_to_domains\":[\"example.net\",\"b.example\"],"
	                 "\"starttls\":{\"result\":\"upgraded\"}},\"alerts\":[]},\"n\":12.5}";
	size_t len = strlen(ev);
	struct seen s = {0};
	for (size_t n = 0; n < len; n++) {
		char *copy = malloc(n ? n : 1); /* exactly n bytes: ASan catches a read past them */
		memcpy(copy, ev, n);
		s.n = 0;
		enum json_scan_result r = json_scan((const uint8_t *)copy, n, record, &s);
		cr_assert_eq(r, n == 0 ? JSON_SCAN_MALFORMED : r, "prefix %zu", n);
		cr_assert_neq(r, JSON_SCAN_OK, "prefix %zu of %zu taken whole", n, len);
		free(copy);
	}
	cr_assert_eq(scan(ev, &s), JSON_SCAN_OK);
	cr_assert_eq(s.n, 6);
	cr_assert_str_eq(s.lines[2], "tlsobs.smtp.rcpt_to_domains[0]=example.net");
	cr_assert_str_eq(s.lines[5], "n=12.5");
}
