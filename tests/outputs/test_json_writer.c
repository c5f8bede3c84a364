/* test_json_writer.c: JSON documents built by the writer, byte for byte, and always valid. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "outputs/json_writer.h"
#include "parsers/civil_time.h"
#include "parsers/packet_decode.h"
#include "test_support.h"

/* ---- helpers ---- */

/* The JSON text of one string value written with this cap (0: none); a static buffer. */
static const char *string_json(const char *s, size_t len, size_t max_string, uint64_t *truncated)
{
	static char out[4096];
	struct json_writer w;
	json_writer_init(&w, max_string);
	json_string(&w, s, len);
	cr_assert_not(json_writer_failed(&w));
	cr_assert_lt(w.len, sizeof out);
	memcpy(out, w.buf, w.len);
	out[w.len] = '\0';
	cr_assert_eq(strlen(w.buf), w.len, "the buffer stays NUL-terminated");
	if (truncated)
		*truncated = w.strings_truncated;
	json_writer_release(&w);
	return out;
}

#define cr_assert_string_json(literal, expected)                                                             \
	cr_assert_str_eq(string_json((literal), sizeof(literal) - 1, 0, NULL), (expected))

/* Length of a valid UTF-8 sequence at s (RFC 3629), or 0: an independent check of the writer's output. */
static size_t utf8_valid(const uint8_t *s, size_t left)
{
	if (s[0] < 0x80)
		return 1;
	size_t n = s[0] >= 0xC2 && s[0] <= 0xDF   ? 2
	           : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
	           : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
	                                          : 0;
	if (n == 0 || left < n)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) || (s[0] == 0xF0 && s[1] < 0x90) ||
	    (s[0] == 0xF4 && s[1] > 0x8F))
		return 0; /* overlong, surrogate, above U+10FFFF */
	return n;
}

static int hex(uint8_t c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/*
 * Checks that json[0..len) is exactly one RFC 8259 string in valid UTF-8 and
 * decodes it into out (at most cap bytes). Returns the decoded length, or
 * fails the test. Only \u00XX escapes are expected from the writer.
 */
static size_t json_string_decode(const char *json, size_t len, uint8_t *out, size_t cap)
{
	const uint8_t *p = (const uint8_t *)json;
	size_t i = 0, n = 0;
	cr_assert(len >= 2 && p[0] == '"' && p[len - 1] == '"', "not a JSON string: %s", json);
	for (i = 1; i < len - 1;) {
		cr_assert_lt(n, cap);
		uint8_t c = p[i];
		cr_assert_geq(c, 0x20, "raw control byte 0x%02x at %zu", c, i);
		cr_assert_neq(c, '"', "unescaped quote at %zu", i);
		if (c == '\\') {
			cr_assert_lt(i + 1, len - 1, "a lone backslash ends the string");
			uint8_t e = p[i + 1];
			const char *simple = strchr("\"\\/bfnrt", e);
			if (e != 'u') {
				cr_assert(e && simple, "bad escape \\%c", e);
				static const char decoded[] = "\"\\/\b\f\n\r\t";
				out[n++] = (uint8_t)decoded[simple - "\"\\/bfnrt"];
				i += 2;
				continue;
			}
			cr_assert_leq(i + 6, len - 1, "short \\u escape");
			int v = 0;
			for (int k = 2; k < 6; k++) {
				int h = hex(p[i + k]);
				cr_assert_geq(h, 0, "bad hex digit in \\u escape");
				v = v * 16 + h;
			}
			cr_assert_lt(v, 0x80, "the writer escapes only ASCII, got \\u%04x", v);
			out[n++] = (uint8_t)v;
			i += 6;
			continue;
		}
		size_t k = utf8_valid(p + i, len - 1 - i);
		cr_assert_gt(k, 0, "invalid UTF-8 at byte %zu of %s", i, json);
		cr_assert_leq(n + k, cap);
		memcpy(out + n, p + i, k);
		n += k;
		i += k;
	}
	return n;
}

/* A whole document from the writer's buffer, as a C string (a static buffer). */
static const char *doc(const struct json_writer *w)
{
	cr_assert_not(json_writer_failed(w));
	return w->len ? w->buf : "";
}

/* ---- escaping ---- */

Test(json_writer, plain_ascii_is_written_as_is)
{
	cr_assert_string_json("EHLO client.example.org", "\"EHLO client.example.org\"");
	cr_assert_string_json("", "\"\"");
	cr_assert_string_json("/ and ' and ~", "\"/ and ' and ~\"");
}

Test(json_writer, quotes_and_backslashes_are_escaped)
{
	cr_assert_string_json("a\"b\\c", "\"a\\\"b\\\\c\"");
	cr_assert_string_json("\"\"", "\"\\\"\\\"\"");
	cr_assert_string_json("\\", "\"\\\\\"");
}

Test(json_writer, control_characters_and_del_become_u00xx)
{
	cr_assert_string_json("\x00\x01\t\n\r\x1f\x7f",
	                      "\"\\u0000\\u0001\\u0009\\u000a\\u000d\\u001f\\u007f\"");
	cr_assert_string_json("250 OK\r\n", "\"250 OK\\u000d\\u000a\"");
	cr_assert_string_json(" ", "\" \"");
}

Test(json_writer, a_nul_byte_does_not_end_the_string)
{
	cr_assert_string_json("a\0b", "\"a\\u0000b\"");
}

Test(json_writer, valid_multibyte_characters_are_kept)
{
	cr_assert_string_json("caf\xc3\xa9", "\"caf\xc3\xa9\"");   /* U+00E9 */
	cr_assert_string_json("\xc2\x80", "\"\xc2\x80\"");         /* U+0080, smallest 2-byte */
	cr_assert_string_json("\xdf\xbf", "\"\xdf\xbf\"");         /* U+07FF */
	cr_assert_string_json("\xe0\xa0\x80", "\"\xe0\xa0\x80\""); /* U+0800, smallest 3-byte */
	cr_assert_string_json("\xe2\x82\xac", "\"\xe2\x82\xac\""); /* U+20AC euro */
	cr_assert_string_json("\xed\x9f\xbf\xee\x80\x80",
	                      "\"\xed\x9f\xbf\xee\x80\x80\"");             /* around the surrogates */
	cr_assert_string_json("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");         /* U+FFFD itself */
	cr_assert_string_json("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\""); /* U+10000, smallest 4-byte */
	cr_assert_string_json("\xf0\x9d\x84\x9e", "\"\xf0\x9d\x84\x9e\""); /* U+1D11E */
	cr_assert_string_json("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF, the last */
}

#define FFFD "\xef\xbf\xbd"

Test(json_writer, stray_and_impossible_bytes_become_one_replacement_each)
{
	cr_assert_string_json("a\x80z", "\"a" FFFD "z\"");
	cr_assert_string_json("\xbf", "\"" FFFD "\"");
	cr_assert_string_json("\xfe\xff", "\"" FFFD FFFD "\"");
	cr_assert_string_json("\xf5\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
}

Test(json_writer, overlong_encodings_are_replaced)
{
	cr_assert_string_json("\xc0\xaf", "\"" FFFD FFFD "\""); /* '/' in two bytes */
	cr_assert_string_json("\xc1\xbf", "\"" FFFD FFFD "\"");
	cr_assert_string_json("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");          /* '/' in three */
	cr_assert_string_json("\xe0\x9f\xbf", "\"" FFFD FFFD FFFD "\"");          /* U+07FF in three */
	cr_assert_string_json("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\""); /* '/' in four */
	cr_assert_string_json("\xf0\x8f\xbf\xbf", "\"" FFFD FFFD FFFD FFFD "\""); /* U+FFFF in four */
}

Test(json_writer, utf16_surrogates_are_replaced)
{
	cr_assert_string_json("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\""); /* U+D800 */
	cr_assert_string_json("\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\""); /* U+DFFF */
	cr_assert_string_json("\xed\xa0\xbd\xed\xb8\x80",
	                      "\"" FFFD FFFD FFFD FFFD FFFD FFFD "\""); /* CESU pair */
}

Test(json_writer, code_points_above_10ffff_are_replaced)
{
	cr_assert_string_json("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""); /* U+110000 */
	cr_assert_string_json("\xf7\xbf\xbf\xbf", "\"" FFFD FFFD FFFD FFFD "\"");
}

Test(json_writer, truncated_sequences_are_replaced_and_what_follows_is_kept)
{
	cr_assert_string_json("ab\xe2\x82", "\"ab" FFFD FFFD "\""); /* cut at the end */
	cr_assert_string_json("\xe2\x82z", "\"" FFFD FFFD "z\"");   /* cut by an ASCII byte */
	cr_assert_string_json("\xf0\x9d\x84", "\"" FFFD FFFD FFFD "\"");
	cr_assert_string_json("\xc3", "\"" FFFD "\"");
	cr_assert_string_json("\xc3\xc3\xa9", "\"" FFFD "\xc3\xa9\""); /* a new lead byte restarts */
	cr_assert_string_json("\xe2\"", "\"" FFFD "\\\"\"");           /* and a quote is still escaped */
}

/* ---- the max_string cap ---- */

Test(json_writer, a_string_over_max_string_is_cut_and_counted)
{
	uint64_t truncated;
	cr_assert_str_eq(string_json("abcdefgh", 8, 5, &truncated), "\"abcde\"");
	cr_assert_eq(truncated, 1);
	cr_assert_str_eq(string_json("abcde", 5, 5, &truncated), "\"abcde\"");
	cr_assert_eq(truncated, 0, "exactly max_string bytes is not cut");
	cr_assert_str_eq(string_json("abcdefgh", 8, 0, &truncated), "\"abcdefgh\"");
	cr_assert_eq(truncated, 0, "0 means no cap");
}

Test(json_writer, the_cut_never_splits_a_character)
{
	uint64_t truncated;
	/* "ab€d": the euro sign is bytes 2..4. */
	static const char s[] = "ab\xe2\x82\xac"
	                        "d";
	cr_assert_str_eq(string_json(s, 6, 5, &truncated), "\"ab\xe2\x82\xac\"");
	cr_assert_eq(truncated, 1);
	cr_assert_str_eq(string_json(s, 6, 4, &truncated), "\"ab\"");
	cr_assert_eq(truncated, 1);
	cr_assert_str_eq(string_json(s, 6, 3, &truncated), "\"ab\"");
	cr_assert_str_eq(string_json(s, 6, 2, &truncated), "\"ab\"");
	cr_assert_str_eq(string_json(s, 6, 1, &truncated), "\"a\"");
	/* Two 4-byte characters, cut anywhere inside the second. */
	static const char clefs[] = "\xf0\x9d\x84\x9e\xf0\x9d\x84\x9e";
	for (size_t max = 4; max < 8; max++)
		cr_assert_str_eq(string_json(clefs, 8, max, NULL), "\"\xf0\x9d\x84\x9e\"", "max_string %zu",
		                 max);
	cr_assert_str_eq(string_json(clefs, 8, 3, NULL), "\"\"");
}

Test(json_writer, the_cap_counts_input_bytes_not_escaped_output)
{
	uint64_t truncated;
	cr_assert_str_eq(string_json("\"\"\"\"", 4, 3, &truncated), "\"\\\"\\\"\\\"\"");
	cr_assert_eq(truncated, 1);
	cr_assert_str_eq(string_json("\r\n\r\n", 4, 2, &truncated), "\"\\u000d\\u000a\"");
	cr_assert_eq(truncated, 1);
}

Test(json_writer, invalid_bytes_before_the_cut_are_still_replaced)
{
	uint64_t truncated;
	cr_assert_str_eq(string_json("a\xff\xfe"
	                             "bcd",
	                             6, 3, &truncated),
	                 "\"a" FFFD FFFD "\"");
	cr_assert_eq(truncated, 1);
	/* A sequence cut by the end of the input, not by the cap, is replaced byte by byte. */
	cr_assert_str_eq(string_json("ab\xe2\x82", 4, 3, &truncated), "\"ab" FFFD "\"");
}

Test(json_writer, truncations_add_up_over_the_strings_of_a_writer)
{
	struct json_writer w;
	json_writer_init(&w, 3);
	json_array_begin(&w);
	json_cstring(&w, "abcd");
	json_cstring(&w, "abc");
	json_cstring(&w, "\xe2\x82\xac\xe2\x82\xac");
	json_array_end(&w);
	cr_assert_str_eq(doc(&w), "[\"abc\",\"abc\",\"\xe2\x82\xac\"]");
	cr_assert_eq(w.strings_truncated, 2);
	json_writer_release(&w);
}

/* ---- every output is a valid JSON string ---- */

/* Random bytes, biased towards the interesting ones: ASCII, quotes, controls, lead and continuation bytes. */
static void random_bytes(uint64_t *state, uint8_t *out, size_t n)
{
	static const uint8_t pick[] = {'a',  '"',  '\\', '\n', 0x00, 0x7f, 0x80, 0xbf, 0xc0, 0xc2,
	                               0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x90};
	for (size_t i = 0; i < n; i++) {
		uint64_t r = test_rand(state);
		out[i] = (r & 1) ? pick[(r >> 8) % sizeof pick] : (uint8_t)(r >> 16);
	}
}

Test(json_writer, any_bytes_give_a_valid_json_string_in_valid_utf8_within_the_cap)
{
	uint64_t state = 0x9e3779b97f4a7c15ull;
	uint8_t in[300], decoded[2048];
	for (int round = 0; round < 5000; round++) {
		size_t len = test_rand(&state) % sizeof in;
		size_t max = test_rand(&state) % 4 == 0 ? 0 : test_rand(&state) % 320;
		random_bytes(&state, in, len);
		uint64_t truncated;
		const char *json = string_json((const char *)in, len, max, &truncated);
		size_t n = json_string_decode(json, strlen(json), decoded, sizeof decoded);
		cr_assert_eq(truncated, max && len > max ? 1u : 0u, "round %d", round);
		/* Each input byte gives at most 3 output bytes (U+FFFD), and only bytes within the cap are
		 * read. */
		size_t read = max && len > max ? max : len;
		cr_assert_leq(n, 3 * read, "round %d", round);
	}
}

/* Valid UTF-8 text of random code points (no surrogates), up to cap bytes; returns its length. */
static size_t random_text(uint64_t *state, uint8_t *out, size_t cap)
{
	size_t n = 0;
	size_t chars = test_rand(state) % 60;
	for (size_t i = 0; i < chars && n + 4 <= cap; i++) {
		uint32_t cp;
		switch (test_rand(state) % 4) {
		case 0:
			cp = (uint32_t)(test_rand(state) % 0x80);
			break;
		case 1:
			cp = 0x80 + (uint32_t)(test_rand(state) % (0x800 - 0x80));
			break;
		case 2:
			cp = 0x800 + (uint32_t)(test_rand(state) % (0x10000 - 0x800));
			break;
		default:
			cp = 0x10000 + (uint32_t)(test_rand(state) % (0x110000 - 0x10000));
			break;
		}
		if (cp >= 0xD800 && cp <= 0xDFFF)
			cp = 0xFFFD;
		if (cp < 0x80) {
			out[n++] = (uint8_t)cp;
		} else if (cp < 0x800) {
			out[n++] = (uint8_t)(0xC0 | cp >> 6);
			out[n++] = (uint8_t)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			out[n++] = (uint8_t)(0xE0 | cp >> 12);
			out[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
			out[n++] = (uint8_t)(0x80 | (cp & 0x3F));
		} else {
			out[n++] = (uint8_t)(0xF0 | cp >> 18);
			out[n++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
			out[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
			out[n++] = (uint8_t)(0x80 | (cp & 0x3F));
		}
	}
	return n;
}

Test(json_writer, valid_text_reads_back_unchanged_or_as_a_whole_character_prefix)
{
	uint64_t state = 42;
	uint8_t in[256], decoded[2048];
	for (int round = 0; round < 5000; round++) {
		size_t len = random_text(&state, in, sizeof in);
		size_t max = test_rand(&state) % 2 ? 0 : test_rand(&state) % 256;
		const char *json = string_json((const char *)in, len, max, NULL);
		size_t n = json_string_decode(json, strlen(json), decoded, sizeof decoded);
		if (max == 0 || len <= max) {
			cr_assert_eq(n, len, "round %d", round);
		} else {
			cr_assert_leq(n, max, "round %d", round);
			cr_assert_gt(n + 4, max, "round %d: cut %zu bytes short of %zu", round, max - n, max);
			cr_assert(n == len || (in[n] & 0xC0) != 0x80, "round %d: cut inside a character",
			          round);
		}
		cr_assert_eq(memcmp(decoded, in, n), 0, "round %d", round);
	}
}

/* ---- structure ---- */

Test(json_writer, commas_go_between_members_and_items_never_after_a_key)
{
	struct json_writer w;
	json_writer_init(&w, 0);
	json_object_begin(&w);
	json_field_uint(&w, "a", 1);
	json_key(&w, "b");
	json_array_begin(&w);
	json_uint(&w, 1);
	json_cstring(&w, "x");
	json_bool(&w, true);
	json_bool(&w, false);
	json_null(&w);
	json_array_end(&w);
	json_key(&w, "c");
	json_object_begin(&w);
	json_key(&w, "d");
	json_object_begin(&w);
	json_object_end(&w);
	json_object_end(&w);
	json_key(&w, "e");
	json_array_begin(&w);
	json_array_end(&w);
	json_field_cstring(&w, "f", "g");
	json_field_bool(&w, "h", false);
	json_object_end(&w);
	cr_assert_str_eq(
	    doc(&w),
	    "{\"a\":1,\"b\":[1,\"x\",true,false,null],\"c\":{\"d\":{}},\"e\":[],\"f\":\"g\",\"h\":false}");
	cr_assert_eq(w.depth, 0);
	json_writer_release(&w);
}

Test(json_writer, arrays_of_containers_are_separated)
{
	struct json_writer w;
	json_writer_init(&w, 0);
	json_array_begin(&w);
	json_object_begin(&w);
	json_field_uint(&w, "a", 1);
	json_object_end(&w);
	json_object_begin(&w);
	json_object_end(&w);
	json_array_begin(&w);
	json_array_begin(&w);
	json_array_end(&w);
	json_array_begin(&w);
	json_null(&w);
	json_array_end(&w);
	json_array_end(&w);
	json_array_end(&w);
	cr_assert_str_eq(doc(&w), "[{\"a\":1},{},[[],[null]]]");
	json_writer_release(&w);
}

Test(json_writer, reset_starts_a_new_document_in_the_same_memory)
{
	struct json_writer w;
	json_writer_init(&w, 0);
	json_object_begin(&w);
	json_field_uint(&w, "first", 1);
	json_key(&w, "open");
	json_array_begin(&w);
	json_uint(&w, 2);
	char *before = w.buf;
	json_writer_reset(&w);
	cr_assert_eq(w.len, 0);
	json_object_begin(&w);
	json_field_uint(&w, "second", 2);
	json_object_end(&w);
	cr_assert_str_eq(doc(&w), "{\"second\":2}", "no comma or depth left over from the first document");
	cr_assert_eq(w.buf, before);
	json_writer_release(&w);
	cr_assert_null(w.buf);
	cr_assert_eq(w.len, 0);
}

Test(json_writer, nesting_deeper_than_the_limit_fails_the_writer)
{
	struct json_writer w;
	json_writer_init(&w, 0);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		json_array_begin(&w);
	cr_assert_not(json_writer_failed(&w));
	json_array_begin(&w);
	cr_assert(json_writer_failed(&w));
	json_writer_reset(&w);
	cr_assert_not(json_writer_failed(&w), "reset clears the failure");
	json_null(&w);
	cr_assert_str_eq(doc(&w), "null");
	json_writer_release(&w);
}

Test(json_writer, a_large_document_grows_the_buffer)
{
	enum { N = 200000 };
	char *big = malloc(N);
	cr_assert_not_null(big);
	memset(big, 'x', N);
	big[N / 2] = '"';
	struct json_writer w;
	json_writer_init(&w, 0);
	json_array_begin(&w);
	json_string(&w, big, N);
	json_string(&w, big, 10);
	json_array_end(&w);
	cr_assert_not(json_writer_failed(&w));
	cr_assert_eq(w.len, 2 + (N + 3) + 1 + 12);
	cr_assert_eq(strlen(w.buf), w.len);
	cr_assert_eq(memcmp(w.buf + w.len - 15, "\",\"xxxxxxxxxx\"]", 15), 0);
	cr_assert_eq(memcmp(w.buf + 2 + N / 2, "\\\"", 2), 0);
	json_writer_release(&w);
	free(big);
}

/* ---- numbers, addresses, times ---- */

Test(json_writer, numbers_cover_the_whole_64_bit_range)
{
	struct json_writer w;
	json_writer_init(&w, 0);
	json_array_begin(&w);
	json_uint(&w, 0);
	json_uint(&w, UINT64_MAX);
	json_int(&w, 0);
	json_int(&w, -1);
	json_int(&w, INT64_MIN);
	json_int(&w, INT64_MAX);
	json_array_end(&w);
	cr_assert_str_eq(doc(&w), "[0,18446744073709551615,0,-1,-9223372036854775808,9223372036854775807]");
	json_writer_release(&w);
}

Test(json_writer, addresses_are_written_in_their_usual_text_form)
{
	struct ip_addr v4 = {.family = 4, .bytes = {192, 0, 2, 1}};
	struct ip_addr v6 = {.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x25}};
	struct json_writer w;
	json_writer_init(&w, 0);
	json_array_begin(&w);
	json_ip(&w, &v4);
	json_ip(&w, &v6);
	json_array_end(&w);
	cr_assert_str_eq(doc(&w), "[\"192.0.2.1\",\"2001:db8::25\"]");
	json_writer_release(&w);
}

Test(json_writer, every_ipv4_address_is_written_as_inet_ntop_writes_it)
{
	/* Each octet value in each position (and its neighbours), against the C library. */
	for (unsigned v = 0; v < 256; v++) {
		for (unsigned pos = 0; pos < 4; pos++) {
			struct ip_addr a = {.family = 4, .bytes = {1, 22, 133, 4}};
			a.bytes[pos] = (uint8_t)v;
			char text[INET_ADDRSTRLEN], want[32];
			cr_assert_not_null(inet_ntop(AF_INET, a.bytes, text, sizeof text));
			snprintf(want, sizeof want, "\"%s\"", text);
			struct json_writer w;
			json_writer_init(&w, 0);
			json_ip(&w, &a);
			cr_assert_str_eq(doc(&w), want);
			json_writer_release(&w);
		}
	}
}

static const char *time_json(uint64_t us)
{
	static char out[64];
	struct json_writer w;
	json_writer_init(&w, 0);
	json_time_us(&w, us);
	snprintf(out, sizeof out, "%s", doc(&w));
	json_writer_release(&w);
	return out;
}

Test(json_writer, times_are_rfc3339_utc_with_six_fraction_digits)
{
	cr_assert_str_eq(time_json(0), "\"1970-01-01T00:00:00.000000Z\"");
	cr_assert_str_eq(time_json(7), "\"1970-01-01T00:00:00.000007Z\"");
	cr_assert_str_eq(time_json(1795879442123456ull), "\"2026-11-28T15:24:02.123456Z\"");
	cr_assert_str_eq(time_json(1709251199999999ull), "\"2024-02-29T23:59:59.999999Z\"");
	cr_assert_str_eq(time_json(1709251200000000ull), "\"2024-03-01T00:00:00.000000Z\"");
	cr_assert_str_eq(time_json(253402300799000000ull), "\"9999-12-31T23:59:59.000000Z\"");
}

Test(json_writer, a_time_in_a_key_value_pair_is_separated_like_any_value)
{
	struct json_writer w;
	json_writer_init(&w, 0);
	json_object_begin(&w);
	json_key(&w, "start");
	json_time_us(&w, 0);
	json_key(&w, "end");
	json_time_us(&w, 1000000);
	json_object_end(&w);
	cr_assert_str_eq(
	    doc(&w), "{\"start\":\"1970-01-01T00:00:00.000000Z\",\"end\":\"1970-01-01T00:00:01.000000Z\"}");
	json_writer_release(&w);
}

Test(json_writer, the_largest_time_is_still_a_json_string)
{
	const char *t = time_json(UINT64_MAX);
	size_t n = strlen(t);
	cr_assert_geq(n, 12);
	cr_assert_eq(t[0], '"');
	cr_assert_str_eq(t + n - 9, ".551615Z\"");
}

/* ---- fast paths: plain runs, numbers and codes without printf, the time cache ---- */

/*
 * The writer's string as it was before plain runs were copied whole: one byte
 * or one character at a time, judged by the test's own UTF-8 check. The fast
 * path must give the same bytes for any input and cap.
 */
static size_t reference_string(const uint8_t *s, size_t len, size_t max_string, char *out, size_t cap)
{
	size_t limit = max_string && len > max_string ? max_string : len, n = 0;
	out[n++] = '"';
	for (size_t i = 0; i < limit;) {
		cr_assert_lt(n + 8, cap);
		uint8_t c = s[i];
		size_t k = utf8_valid(s + i, len - i);
		if (k > 1 && i + k > limit)
			break;
		if (k == 0) {
			memcpy(out + n, "\xEF\xBF\xBD", 3), n += 3, i++;
		} else if (k > 1) {
			memcpy(out + n, s + i, k), n += k, i += k;
		} else if (c == '"' || c == '\\') {
			out[n++] = '\\', out[n++] = (char)c, i++;
		} else if (c < 0x20 || c == 0x7F) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c), i++;
		} else {
			out[n++] = (char)c, i++;
		}
	}
	out[n++] = '"';
	return n;
}

static void assert_as_reference(const uint8_t *s, size_t len, size_t max_string)
{
	static char want[8 * 4096 + 8];
	size_t n = reference_string(s, len, max_string, want, sizeof want);
	struct json_writer w;
	json_writer_init(&w, max_string);
	json_string(&w, (const char *)s, len);
	cr_assert_not(json_writer_failed(&w));
	cr_assert_eq(w.len, n, "length %zu, reference %zu (input %zu bytes, cap %zu)", w.len, n, len,
	             max_string);
	cr_assert_eq(memcmp(w.buf, want, n), 0, "differs from the reference (input %zu bytes, cap %zu)", len,
	             max_string);
	json_writer_release(&w);
}

Test(json_writer, an_escape_at_either_end_of_a_plain_run_is_written_in_its_place)
{
	cr_assert_string_json("\"abc", "\"\\\"abc\"");
	cr_assert_string_json("abc\"", "\"abc\\\"\"");
	cr_assert_string_json("ab\\\\cd", "\"ab\\\\\\\\cd\"");
	cr_assert_string_json("x\ny\tz\x7f", "\"x\\u000ay\\u0009z\\u007f\"");
	cr_assert_string_json("\x1f~\x7f", "\"\\u001f~\\u007f\"");
	/* Every byte that needs a look, at every place in a 64-byte run. */
	static const uint8_t special[] = {'"', '\\', 0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xE2, 0xF0, 0xFF};
	uint8_t s[64];
	for (size_t b = 0; b < sizeof special; b++)
		for (size_t at = 0; at < sizeof s; at++) {
			memset(s, 'a', sizeof s);
			s[at] = special[b];
			assert_as_reference(s, sizeof s, 0);
			assert_as_reference(s, sizeof s, at + 1); /* the cut right after it */
			assert_as_reference(s, sizeof s, at ? at : 1);
		}
}

Test(json_writer, every_byte_value_at_every_place_of_a_run_is_judged_as_alone)
{
	/* The plain run is judged 8 bytes at a time: each of the 256 values, in each lane of those words. */
	uint8_t s[40];
	for (unsigned v = 0; v < 256; v++)
		for (size_t at = 0; at < sizeof s; at++) {
			memset(s, 'a', sizeof s);
			s[at] = (uint8_t)v;
			assert_as_reference(s, sizeof s, 0);
			memset(s, '~', sizeof s); /* the plain byte next to DEL and to the top half */
			s[at] = (uint8_t)v;
			assert_as_reference(s, sizeof s, 0);
			memset(s, ' ', sizeof s); /* and the one next to the control characters */
			s[at] = (uint8_t)v;
			assert_as_reference(s, sizeof s, 0);
		}
}

Test(json_writer, invalid_utf8_inside_a_long_ascii_run_is_replaced_and_the_run_goes_on)
{
	char s[2000];
	memset(s, 'q', sizeof s);
	s[999] = (char)0xC3;  /* a lead byte followed by ASCII: broken */
	s[1500] = (char)0xBF; /* a stray continuation byte */
	struct json_writer w;
	json_writer_init(&w, 0);
	json_string(&w, s, sizeof s);
	cr_assert_eq(w.len, 2 + 1998 + 6);
	cr_assert_eq(memcmp(w.buf + 1 + 999, "\xEF\xBF\xBDq", 4), 0);
	cr_assert_eq(memcmp(w.buf + 1 + 999 + 3 + 500, "\xEF\xBF\xBDq", 4), 0);
	cr_assert_eq(w.buf[w.len - 1], '"');
	json_writer_release(&w);
	assert_as_reference((const uint8_t *)s, sizeof s, 0);
	assert_as_reference((const uint8_t *)s, sizeof s, 1000);
	/* A valid character cut by the cap inside a run: left out whole. */
	memcpy(s + 998, "\xE2\x82\xAC", 3);
	assert_as_reference((const uint8_t *)s, sizeof s, 999);
	assert_as_reference((const uint8_t *)s, sizeof s, 1000);
	assert_as_reference((const uint8_t *)s, sizeof s, 1001);
}

Test(json_writer, random_mixes_of_runs_escapes_and_characters_match_the_byte_by_byte_writer)
{
	static const char *const pieces[] = {"plain text ",
	                                     "\"",
	                                     "\\",
	                                     "\r\n",
	                                     "\x7f",
	                                     "\xC3\xA9",
	                                     "\xE2\x82\xAC",
	                                     "\xF0\x9F\x93\xA7",
	                                     "\xC3",
	                                     "\xED\xA0\x80",
	                                     "\xF4\x90\x80\x80",
	                                     "\x80",
	                                     "\x00"};
	uint32_t seed = 15;
	uint8_t s[4096];
	for (int round = 0; round < 500; round++) {
		size_t len = 0;
		while (len < sizeof s - 8) {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 23 == 0)
				break;
			size_t k = (seed >> 8) % (sizeof pieces / sizeof pieces[0]);
			size_t n = k == sizeof pieces / sizeof pieces[0] - 1 ? 1 : strlen(pieces[k]);
			memcpy(s + len, pieces[k], n);
			len += n;
		}
		assert_as_reference(s, len, 0);
		assert_as_reference(s, len, len / 2 + 1);
	}
}

Test(json_writer, integers_and_codes_are_formatted_without_printf)
{
	char text[JSON_UINT_TEXT_MAX];
	cr_assert_eq(json_format_uint(text, 0), 1);
	cr_assert_str_eq(text, "0");
	cr_assert_eq(json_format_uint(text, 9), 1);
	cr_assert_eq(json_format_uint(text, 10), 2);
	cr_assert_str_eq(text, "10");
	cr_assert_eq(json_format_uint(text, UINT64_MAX), 20);
	cr_assert_str_eq(text, "18446744073709551615");
	char hex[JSON_HEX16_TEXT_MAX];
	cr_assert_eq(json_format_hex16(hex, 0), 6);
	cr_assert_str_eq(hex, "0x0000");
	json_format_hex16(hex, 0x1301);
	cr_assert_str_eq(hex, "0x1301");
	json_format_hex16(hex, 0xC02F);
	cr_assert_str_eq(hex, "0xC02F");
	json_format_hex16(hex, 0x0A0B);
	cr_assert_str_eq(hex, "0x0A0B");
	json_format_hex16(hex, 0xFFFF);
	cr_assert_str_eq(hex, "0xFFFF");
	/* Against printf over a spread of values. */
	for (uint64_t v = 1; v; v = v * 3 + 1) {
		char want[32];
		snprintf(want, sizeof want, "%llu", (unsigned long long)v);
		cr_assert_eq(json_format_uint(text, v), strlen(want));
		cr_assert_str_eq(text, want);
		if (v > UINT64_MAX / 4)
			break;
	}
	for (uint32_t v = 0; v <= 0xFFFF; v += 0x0101) {
		char want[8];
		snprintf(want, sizeof want, "0x%04X", v);
		json_format_hex16(hex, (uint16_t)v);
		cr_assert_str_eq(hex, want);
	}
}

Test(json_writer, negative_integers_and_their_extremes)
{
	struct json_writer w;
	json_writer_init(&w, 0);
	json_array_begin(&w);
	json_int(&w, -9);
	json_int(&w, -10);
	json_int(&w, INT64_MIN + 1);
	json_int(&w, 10);
	json_uint(&w, 1);
	json_array_end(&w);
	cr_assert_str_eq(doc(&w), "[-9,-10,-9223372036854775807,10,1]");
	json_writer_release(&w);
}

/* The text civil_time writes for us, quoted: what the cache must give back. */
static void assert_time_as_civil(struct json_writer *w, uint64_t us)
{
	char want[CIVIL_TIME_TEXT_MAX + 2];
	char text[CIVIL_TIME_TEXT_MAX];
	cr_assert_gt(civil_time_rfc3339_us(text, sizeof text, us), 0);
	snprintf(want, sizeof want, "\"%s\"", text);
	json_writer_reset(w);
	json_time_us(w, us);
	cr_assert_str_eq(doc(w), want, "at %llu us", (unsigned long long)us);
}

Test(json_writer, the_time_cache_follows_second_boundaries_and_time_going_back)
{
	struct json_writer w;
	json_writer_init(&w, 0);
	const uint64_t t = 1795879442000000ull; /* 2026-11-28T15:24:02Z */
	assert_time_as_civil(&w, t);
	assert_time_as_civil(&w, t + 999999); /* same second: a hit */
	cr_assert_eq(w.time_cache.misses, 1);
	cr_assert_eq(w.time_cache.hits, 1);
	assert_time_as_civil(&w, t + 1000000); /* the next second */
	assert_time_as_civil(&w, t - 1);       /* back to the second before */
	assert_time_as_civil(&w, t + 500000);  /* and back to the first: still cached */
	cr_assert_eq(w.time_cache.misses, 3);
	cr_assert_eq(w.time_cache.hits, 2);
	/* More distinct seconds than the cache holds, forwards, backwards and across a day and a leap day. */
	const uint64_t day = 86400000000ull;
	const uint64_t leap = 1709251199999999ull; /* 2024-02-29T23:59:59.999999Z */
	for (int round = 0; round < 3; round++)
		for (int i = -6; i <= 6; i++) {
			assert_time_as_civil(&w, t + (uint64_t)((int64_t)i * 1000003));
			assert_time_as_civil(&w, t - (uint64_t)i * day);
			assert_time_as_civil(&w, leap + (uint64_t)((int64_t)i * 1));
			assert_time_as_civil(&w, (uint64_t)(6 - i) * 1000000 + 1);
		}
	/* Kept across documents, and the same after a reset. */
	assert_time_as_civil(&w, leap - 5);
	uint64_t hits = w.time_cache.hits;
	assert_time_as_civil(&w, leap);
	cr_assert_eq(w.time_cache.hits, hits + 1);
	json_writer_release(&w);
}
