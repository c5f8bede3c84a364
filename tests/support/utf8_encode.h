/*
 * utf8_encode.h: the RFC 3629 section 3 encoding of a code point, the reference the UTF-8 decoder
 * (parsers/utf8.h) must invert. Shared by its unit test and its fuzz harness; header-only so that the fuzz
 * build, which links no test support library, can use it too.
 */
#ifndef TLSOBS_TEST_UTF8_ENCODE_H
#define TLSOBS_TEST_UTF8_ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* Writes cp (at most U+10FFFF) into out and returns its length, 1 to 4. */
static inline size_t utf8_encode_reference(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xC0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xE0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (uint8_t)(0xF0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

#endif
