/* test_zero_pack.c: zero-run packing gives back every byte, and packs mostly-zero structs small. */
#include "sensor/app/zero_pack.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static void round_trip(const uint8_t *src, size_t size, size_t *packed_len)
{
	size_t len = 0;
	uint8_t *p = zero_pack(src, size, &len);
	cr_assert_not_null(p);
	uint8_t *back = malloc(size ? size : 1);
	cr_assert_not_null(back);
	memset(back, 0xa5, size);
	cr_assert(zero_unpack(p, len, back, size), "size %zu", size);
	cr_assert_eq(zero_packed_size(p, len), size, "the size read from the packed bytes");
	if (len > 0)
		cr_assert_eq(zero_packed_size(p, len - 1), 0, "size %zu: a cut pair is refused", size);
	cr_assert_eq(memcmp(back, src, size), 0, "size %zu: bytes differ", size);
	if (packed_len)
		*packed_len = len;
	free(back);
	free(p);
}

Test(zero_pack, every_shape_comes_back_byte_for_byte)
{
	enum { N = 200000 }; /* over two 16-bit runs */
	uint8_t *b = calloc(N, 1);
	cr_assert_not_null(b);
	round_trip(b, 0, NULL);
	round_trip(b, 1, NULL);
	round_trip(b, N, NULL); /* all zeros */
	memset(b, 0x5a, N);
	round_trip(b, N, NULL); /* no zero at all */
	uint64_t seed = 0x1234;
	for (int round = 0; round < 200; round++) {
		size_t size = 1 + test_rand(&seed) % 5000;
		for (size_t i = 0; i < size; i++) /* zero runs of every length, short literals */
			b[i] = test_rand(&seed) % (1 + round % 7) ? 0 : (uint8_t)(1 + test_rand(&seed) % 255);
		round_trip(b, size, NULL);
	}
	free(b);
}

Test(zero_pack, a_mostly_empty_struct_packs_small)
{
	uint8_t b[12000] = {0};
	memcpy(b + 100, "220 mx1.example.net ESMTP", 25);
	memcpy(b + 6000, "STARTTLS", 8);
	b[11999] = 1;
	size_t len = 0;
	round_trip(b, sizeof b, &len);
	cr_assert_lt(len, 64, "packed to %zu bytes", len);
}

Test(zero_pack, packed_bytes_that_do_not_fit_are_refused)
{
	uint8_t b[64], out[64];
	for (size_t i = 0; i < sizeof b; i++)
		b[i] = i % 3 ? 0 : (uint8_t)i;
	size_t len = 0;
	uint8_t *p = zero_pack(b, sizeof b, &len);
	cr_assert_not_null(p);
	for (size_t cut = 0; cut < len; cut++) /* a cut anywhere, even between runs, is short of 64 bytes */
		cr_assert_not(zero_unpack(p, cut, out, sizeof out), "cut at %zu of %zu", cut, len);
	cr_assert_not(zero_unpack(p, len, out, sizeof out - 1), "a smaller destination");
	uint8_t big[128];
	cr_assert_not(zero_unpack(p, len, big, sizeof big), "a larger destination");
	free(p);
}
