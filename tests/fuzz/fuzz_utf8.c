/*
 * fuzz_utf8.c: libFuzzer harness for the UTF-8 decoder (parsers/utf8.h).
 * Every byte string is walked character by character. A broken promise aborts:
 * a length over 4 or past the bytes left, an accepted character that is not
 * the shortest encoding of a scalar value (re-encoding its code point must give
 * back the same bytes), or a trim that grows the text, cuts more than one
 * character, or leaves a well-formed text not well-formed.
 *
 * Seeds: every length class, overlongs, surrogates, past U+10FFFF, cut sequences.
 */
#include "parsers/utf8.h"

#include <stdlib.h>
#include <string.h>

#include "tests/support/utf8_encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when every character of s[0..len) is well-formed. */
static int well_formed(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = utf8_decode(s + i, len - i, NULL);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly `size` bytes, so ASan sees any read past the end. */
	uint8_t *s = malloc(size ? size : 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	for (size_t i = 0; i < size;) {
		uint32_t cp = 0;
		size_t n = utf8_decode(s + i, size - i, &cp);
		if (n > 4 || n > size - i)
			abort();
		if (n > 0) {
			uint8_t again[4];
			if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
			    utf8_encode_reference(cp, again) != n || memcmp(again, s + i, n) != 0)
				abort();
		}
		i += n ? n : 1;
	}
	int whole = well_formed(s, size);
	for (size_t cut = 0; cut <= size; cut++) {
		size_t t = utf8_trim_partial((const char *)s, cut);
		if (t > cut || cut - t > 3)
			abort();
		if (whole && !well_formed(s, t))
			abort();
	}
	free(s);
	return 0;
}
