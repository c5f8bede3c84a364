/*
 * fuzz_html_escape.c: libFuzzer harness for the HTML report's escaping
 * (sensor/report/html_escape.h). Partner names and certificate subjects are bytes a
 * peer chose; whatever they are, the HTML text must hold no < > & " ' but as
 * character references, and the JSON string no < > & nor a raw U+2028/U+2029,
 * no control character, and exactly two unescaped quotes (its own). A broken
 * promise aborts, so the fuzzer reports it.
 *
 * Seeds: markup that would end a <script> element, invalid and cut UTF-8.
 */
#include "sensor/report/html_escape.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *escape(void (*fn)(FILE *, const char *, size_t), const uint8_t *data, size_t size, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	fn(f, (const char *)data, size);
	fclose(f);
	return buf;
}

static void check_json(const char *s, size_t len)
{
	size_t quotes = 0;
	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		abort();
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '<' || c == '>' || c == '&' || c < 0x20 || c == 0x7F)
			abort();
		if (c == 0xE2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9))
			abort();
		if (c == '\\')
			i++; /* the escaped character */
		else if (c == '"')
			quotes++;
	}
	if (quotes != 2)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;
	char *text = escape(html_escape_text, data, size, &len);
	if (text) {
		if (memchr(text, '<', len) || memchr(text, '>', len) || memchr(text, '"', len) ||
		    memchr(text, '\'', len))
			abort();
		for (const char *p = text; (p = memchr(p, '&', len - (size_t)(p - text))); p++)
			if (strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) && strncmp(p, "&gt;", 4) &&
			    strncmp(p, "&quot;", 6) && strncmp(p, "&#39;", 5))
				abort();
		free(text);
	}
	char *json = escape(html_escape_json, data, size, &len);
	if (json) {
		check_json(json, len);
		free(json);
	}
	return 0;
}
