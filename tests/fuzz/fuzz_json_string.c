/*
 * fuzz_json_string.c: libFuzzer harness for the JSON writer's fast paths
 * (outputs/json_writer.h). The first byte picks the writer's max_string (0: no
 * cap), the rest is a string from the wire. json_string copies plain-ASCII runs
 * in one step: its output must be byte for byte that of the one-byte-at-a-time
 * writer kept here as the reference (escapes, U+FFFD for each invalid byte, no
 * character cut in two), and always one JSON string in valid UTF-8. The first
 * eight bytes of the string, as a number, must also format as printf and
 * civil_time format them (json_uint, json_int, json_format_hex16, json_time_us
 * twice, the second from the cache). A broken promise aborts.
 *
 * Seeds: plain text, escapes at run edges, invalid and cut UTF-8, caps inside a character.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outputs/json_writer.h"
#include "parsers/civil_time.h"
#include "parsers/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The writer as it was: each byte judged on its own. Returns the length written to out (room: 6 per byte +
 * 2). */
static size_t reference(const uint8_t *s, size_t len, size_t max_string, char *out)
{
	size_t limit = max_string && len > max_string ? max_string : len, n = 0;
	out[n++] = '"';
	for (size_t i = 0; i < limit;) {
		uint8_t c = s[i];
		size_t k = utf8_decode(s + i, len - i, NULL);
		if (k > 1 && i + k > limit)
			break;
		if (k == 0) {
			memcpy(out + n, "\xEF\xBF\xBD", 3);
			n += 3, i++;
		} else if (k > 1) {
			memcpy(out + n, s + i, k);
			n += k, i += k;
		} else if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
			i++;
		} else if (c < 0x20 || c == 0x7F) {
			n += (size_t)snprintf(out + n, 7, "\\u%04x", c);
			i++;
		} else {
			out[n++] = (char)c;
			i++;
		}
	}
	out[n++] = '"';
	return n;
}

/* One JSON string (RFC 8259 7) in well-formed UTF-8: quotes only at the ends or escaped, no raw control byte.
 */
static void check_json_string(const uint8_t *p, size_t len)
{
	if (len < 2 || p[0] != '"' || p[len - 1] != '"')
		abort();
	for (size_t i = 1; i < len - 1;) {
		if (p[i] == '\\') {
			if (i + 1 >= len - 1)
				abort();
			i += p[i + 1] == 'u' ? 6 : 2;
			continue;
		}
		if (p[i] < 0x20 || p[i] == '"' || p[i] == 0x7F)
			abort();
		size_t k = utf8_decode(p + i, len - 1 - i, NULL);
		if (k == 0)
			abort();
		i += k;
	}
}

static void check_numbers(const uint8_t *s, size_t len)
{
	uint64_t v = 0;
	memcpy(&v, s, len < 8 ? len : 8);
	char want[64], text[JSON_UINT_TEXT_MAX], hex[JSON_HEX16_TEXT_MAX];
	snprintf(want, sizeof want, "%" PRIu64, v);
	if (json_format_uint(text, v) != strlen(want) || strcmp(text, want) != 0)
		abort();
	snprintf(want, sizeof want, "0x%04X", (unsigned)(uint16_t)v);
	if (json_format_hex16(hex, (uint16_t)v) != 6 || strcmp(hex, want) != 0)
		abort();
	struct json_writer w;
	json_writer_init(&w, 0);
	json_int(&w, (int64_t)v);
	snprintf(want, sizeof want, "%" PRId64, (int64_t)v);
	if (json_writer_failed(&w) || w.len != strlen(want) || memcmp(w.buf, want, w.len) != 0)
		abort();
	char civil[CIVIL_TIME_TEXT_MAX];
	size_t n = civil_time_rfc3339_us(civil, sizeof civil, v);
	snprintf(want, sizeof want, "\"%s\"", civil);
	for (int round = 0; round < 2; round++) { /* a miss, then a hit */
		json_writer_reset(&w);
		json_time_us(&w, v);
		if (n == 0 ? strcmp(w.buf, "null") != 0 : strcmp(w.buf, want) != 0)
			abort();
	}
	json_writer_release(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t max_string = data[0];
	/* A copy of exactly the string's bytes, so ASan sees any read past its end. */
	size_t len = size - 1;
	uint8_t *s = malloc(len ? len : 1);
	char *want = malloc(6 * len + 2);
	if (!s || !want) {
		free(s);
		free(want);
		return 0;
	}
	memcpy(s, data + 1, len);
	size_t n = reference(s, len, max_string, want);
	struct json_writer w;
	json_writer_init(&w, max_string);
	json_string(&w, (const char *)s, len);
	if (json_writer_failed(&w) || w.len != n || memcmp(w.buf, want, n) != 0 || w.buf[w.len] != '\0')
		abort();
	check_json_string((const uint8_t *)w.buf, w.len);
	if (w.strings_truncated != (max_string && len > max_string))
		abort();
	json_writer_release(&w);
	check_numbers(s, len);
	free(s);
	free(want);
	return 0;
}
