/* html_escape.c: wire strings into HTML text and into JSON inside a <script> element (see html_escape.h). */
#include "sensor/report/html_escape.h"

#include <stdint.h>
#include <string.h>

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629 section 4: no
 * overlong forms, no surrogates, nothing past U+10FFFF), 0 when there is none.
 * The code point goes to *cp.
 */
static size_t utf8_sequence(const unsigned char *s, size_t left, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2, v = c & 0x1Fu, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3, v = c & 0x0Fu, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4, v = c & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0u) != 0x80u)
			return 0;
		v = (v << 6) | (s[i] & 0x3Fu);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

void html_escape_text(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_sequence(p + i, len - i, &cp);
		if (n == 0) {
			fputs(REPLACEMENT, out);
			i++;
			continue;
		}
		switch (cp) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7F)
				fputs(REPLACEMENT, out);
			else
				fwrite(p + i, 1, n, out);
		}
		i += n;
	}
}

void html_escape_cstr(FILE *out, const char *s)
{
	html_escape_text(out, s ? s : "", s ? strlen(s) : 0);
}

void html_escape_json(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	fputc('"', out);
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_sequence(p + i, len - i, &cp);
		if (n == 0) {
			fputs("\\ufffd", out);
			i++;
			continue;
		}
		switch (cp) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '<':
			fputs("\\u003c", out);
			break;
		case '>':
			fputs("\\u003e", out);
			break;
		case '&':
			fputs("\\u0026", out);
			break;
		case 0x2028:
			fputs("\\u2028", out);
			break;
		case 0x2029:
			fputs("\\u2029", out);
			break;
		default:
			if (cp < 0x20 || cp == 0x7F)
				fprintf(out, "\\u%04x", (unsigned)cp);
			else
				fwrite(p + i, 1, n, out);
		}
		i += n;
	}
	fputc('"', out);
}

void html_escape_json_cstr(FILE *out, const char *s)
{
	html_escape_json(out, s ? s : "", s ? strlen(s) : 0);
}
