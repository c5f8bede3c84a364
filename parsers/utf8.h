/*
 * utf8.h: UTF-8 as RFC 3629 section 4 defines it well-formed: no overlong
 * forms, no UTF-16 surrogates (U+D800..U+DFFF), nothing past U+10FFFF. The one
 * decoder for wire text: the JSON writer, the certificate text copies, the
 * SMTP evidence texts and the HTML report all judge bytes by it.
 */
#ifndef TLSOBS_UTF8_H
#define TLSOBS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length (1..4) of the well-formed character at s[0..left), or 0 when s[0]
 * starts none (a stray continuation byte, an invalid lead, a sequence cut by
 * the end or broken by a non-continuation byte). left >= 1. Its code point goes
 * to *cp when cp is not NULL and the length is not 0.
 */
size_t utf8_decode(const uint8_t *s, size_t left, uint32_t *cp);

/*
 * After text was cut at len: len without a trailing multi-byte sequence the cut
 * left incomplete (judged by its lead byte; the bytes before it are kept as
 * they are, valid or not).
 */
size_t utf8_trim_partial(const char *s, size_t len);

#endif
