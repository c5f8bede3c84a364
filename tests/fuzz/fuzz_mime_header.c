/*
 * fuzz_mime_header.c: libFuzzer harness for the top-level Content-Type scan (parsers/mime_header.h).
 *
 * Input: message content. It is scanned whole and again cut at places the input's own bytes choose,
 * each piece fed from an exact-size heap copy (ASan flags a read past it); the two scans must agree
 * on the result, the bytes scanned and the value kept. The scan must stay within its caps, and the
 * Content-Type parser is also run on the raw input as a value.
 */
#include "parsers/mime_header.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void feed_copy(struct mime_header_scan *s, const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return;
	if (n)
		memcpy(copy, p, n);
	mime_header_scan_feed(s, copy, n);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_header_scan *whole = malloc(sizeof *whole), *cut = malloc(sizeof *cut);
	if (!whole || !cut) {
		free(whole);
		free(cut);
		return 0;
	}
	mime_header_scan_reset(whole);
	feed_copy(whole, data, size);
	mime_header_scan_reset(cut);
	for (size_t off = 0; off < size;) {
		size_t n = 1 + data[off] % 13;
		if (n > size - off)
			n = size - off;
		feed_copy(cut, data + off, n);
		off += n;
	}
	enum mime_protection a = mime_header_scan_result(whole), b = mime_header_scan_result(cut);
	if (a != b || whole->scanned != cut->scanned || whole->value_len != cut->value_len ||
	    memcmp(whole->value, cut->value, whole->value_len) != 0)
		abort();
	if (whole->scanned > MIME_HEADER_SCAN_MAX || whole->value_len >= MIME_CONTENT_TYPE_MAX ||
	    whole->name_len > MIME_FIELD_NAME_MAX || (unsigned)a > MIME_PGP_SIGNED)
		abort();
	if ((unsigned)mime_content_type_protection((const char *)data, size) > MIME_PGP_SIGNED)
		abort();
	free(whole);
	free(cut);
	return 0;
}
