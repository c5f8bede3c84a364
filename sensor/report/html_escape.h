/*
 * html_escape.h: strings from the state database (partner names, certificate
 * subjects: bytes from the wire) written into an HTML page, either as text or
 * as a JSON string inside a <script type="application/json"> block.
 *
 * Both writers take any bytes: invalid UTF-8 becomes U+FFFD, and so do C0
 * control characters other than tab and line feed (HTML text) or are written
 * \u00XX (JSON). Nothing a string holds can end the element it is written in.
 */
#ifndef TLSOBS_HTML_ESCAPE_H
#define TLSOBS_HTML_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Text or an attribute value (double- or single-quoted): & < > " ' as character references. */
void html_escape_text(FILE *out, const char *s, size_t len);
void html_escape_cstr(FILE *out, const char *s);

/*
 * A JSON string with its quotes (RFC 8259 section 7), safe inside a <script>
 * element (HTML Living Standard 4.12.1.3): < > & written \u003c \u003e \u0026
 * so neither "</script" nor "<!--" can appear, and U+2028/U+2029 as \u2028
 * \u2029 so the text stays valid JavaScript too.
 */
void html_escape_json(FILE *out, const char *s, size_t len);
void html_escape_json_cstr(FILE *out, const char *s);

#endif
