/*
 * test_html_escape.c: wire strings into HTML text and into JSON inside a
 * <script> element (sensor/report/html_escape.h): nothing can end the element, invalid
 * UTF-8 and control characters are replaced, valid UTF-8 passes through.
 */
#include "sensor/report/html_escape.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

typedef void (*escape_fn)(FILE *, const char *, size_t);

/* The escaped form of len bytes at s (caller frees). */
static char *escaped(escape_fn fn, const char *s, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	cr_assert_not_null(f);
	fn(f, s, len);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

#define HOSTILE "</script><img src=x onerror=alert(1)>"

Test(html_escape, text_turns_markup_and_quotes_into_character_references)
{
	char *t = escaped(html_escape_text, HOSTILE " & 'q' \"q\"", strlen(HOSTILE " & 'q' \"q\""));
	cr_expect_str_eq(t,
	                 "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &#39;q&#39; &quot;q&quot;");
	free(t);
}

Test(html_escape, json_never_holds_a_less_than_greater_than_or_ampersand)
{
	const char *in = HOSTILE "<!-- & -->";
	char *t = escaped(html_escape_json, in, strlen(in));
	cr_expect_str_eq(t, "\"\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e"
	                    "\\u003c!-- \\u0026 --\\u003e\"");
	cr_expect_null(strpbrk(t, "<>&"));
	free(t);
}

Test(html_escape, json_escapes_quotes_backslashes_controls_and_the_two_line_separators)
{
	const char in[] = "a\"b\\c\n\t\x01\x7f \xE2\x80\xA8 \xE2\x80\xA9";
	char *t = escaped(html_escape_json, in, sizeof in - 1);
	cr_expect_str_eq(t, "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f \\u2028 \\u2029\"");
	free(t);
}

Test(html_escape, valid_utf8_passes_through_both_writers)
{
	const char in[] = "b\xC3\xA4nk \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x94\x92"; /* bänk 日本 🔒 */
	char *t = escaped(html_escape_text, in, sizeof in - 1);
	cr_expect_str_eq(t, in);
	free(t);
	t = escaped(html_escape_json, in, sizeof in - 1);
	cr_expect_eq(strlen(t), sizeof in - 1 + 2);
	cr_expect_eq(memcmp(t + 1, in, sizeof in - 1), 0);
	free(t);
}

Test(html_escape, invalid_utf8_becomes_the_replacement_character)
{
	/* a lone continuation byte, an overlong '/', a surrogate, past U+10FFFF, a cut sequence */
	const char in[] = "\x80|\xC0\xAF|\xED\xA0\x80|\xF4\x90\x80\x80|\xE2\x82";
	char *t = escaped(html_escape_json, in, sizeof in - 1);
	cr_expect_str_eq(t, "\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\\ufffd|"
	                    "\\ufffd\\ufffd\"");
	free(t);
	t = escaped(html_escape_text, "\xC0<\x01", 3);
	cr_expect_str_eq(t, "\xEF\xBF\xBD&lt;\xEF\xBF\xBD");
	free(t);
}

Test(html_escape, a_nul_inside_the_length_is_written_not_a_terminator)
{
	char *t = escaped(html_escape_json, "a\0<", 3);
	cr_expect_str_eq(t, "\"a\\u0000\\u003c\"");
	free(t);
}

Test(html_escape, every_prefix_of_a_multibyte_string_is_handled)
{
	const char in[] = "\xF0\x9F\x94\x92<\xE2\x80\xA8";
	for (size_t n = 0; n <= sizeof in - 1; n++) {
		char *buf = malloc(n ? n : 1); /* exactly n bytes: ASan sees any read past them */
		memcpy(buf, in, n);
		char *t = escaped(html_escape_json, buf, n);
		cr_expect_null(strpbrk(t, "<>&"), "prefix %zu: %s", n, t);
		free(t);
		t = escaped(html_escape_text, buf, n);
		cr_expect_null(strchr(t, '<'), "prefix %zu: %s", n, t);
		free(t);
		free(buf);
	}
}
