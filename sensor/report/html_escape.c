/* html_escape.c: wire strings into HTML text and into JSON inside a <script> element (see html_escape.h). */
#include "sensor/report/html_escape.h"

#include <stdint.h>
#include <string.h>

#include "parsers/utf8.h"

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

void html_escape_text(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);
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
		size_t n = utf8_decode(p + i, len - i, &cp);
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
