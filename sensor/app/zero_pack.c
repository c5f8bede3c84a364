/*
 * zero_pack.c: zero-run packing of fixed-size structs (see zero_pack.h).
 *
 * Format: a sequence of pairs (literal run, zero run), each run a 16-bit
 * little-endian length, the literal run followed by its bytes. Zero runs
 * shorter than ZERO_RUN_MIN are kept as literals (a pair costs four bytes).
 * Owns nothing beyond the returned buffer.
 */
#include "sensor/app/zero_pack.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { ZERO_RUN_MIN = 8, RUN_MAX = 0xffff };

/*
 * Zero bytes from i on, at most RUN_MAX: 64 at a time through the long runs of
 * an empty array (SSE2 where there is SSE2, 32 through words elsewhere), then
 * 8, and the first nonzero byte of a word found from its low bits.
 */
static size_t zero_run(const uint8_t *p, size_t i, size_t size)
{
	size_t end = size - i < RUN_MAX ? size : i + RUN_MAX, j = i;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (end - j >= 8) { /* most runs inside a struct are short: the first word settles them */
		uint64_t w;
		memcpy(&w, p + j, sizeof w);
		if (w != 0)
			return (size_t)__builtin_ctzll(w) / 8;
	}
#endif
#ifdef __SSE2__
	for (const __m128i zero = _mm_setzero_si128(); end - j >= 64; j += 64) {
		const __m128i *v = (const __m128i *)(const void *)(p + j);
		__m128i any = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
		                           _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3)));
		if (_mm_movemask_epi8(_mm_cmpeq_epi8(any, zero)) != 0xffff)
			break;
	}
#endif
	for (uint64_t w[4]; end - j >= sizeof w; j += sizeof w) {
		memcpy(w, p + j, sizeof w);
		if ((w[0] | w[1] | w[2] | w[3]) != 0)
			break;
	}
	for (uint64_t w; end - j >= sizeof w; j += sizeof w) {
		memcpy(&w, p + j, sizeof w);
		if (w != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return j + (size_t)__builtin_ctzll(w) / 8 - i; /* the lowest set byte comes first */
#else
			break;
#endif
		}
	}
	while (j < end && p[j] == 0)
		j++;
	return j - i;
}

/*
 * Where the literal run from i ends: at the first zero run of ZERO_RUN_MIN bytes or more, or the
 * one that ends the struct, or RUN_MAX bytes on. One pass (memchr over the nonzero bytes): every
 * byte of the struct used to be measured three times over (issue 15: 21% of a run's samples).
 */
static size_t literal_end(const uint8_t *p, size_t i, size_t size)
{
	size_t cap = size - i < RUN_MAX ? size : i + RUN_MAX, j = i;
	while (j < cap) {
		const uint8_t *z = NULL;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (cap - j >=
		    8) { /* literals inside a struct are short: look in the next word before memchr */
			uint64_t w, ones = 0x0101010101010101ull;
			memcpy(&w, p + j, sizeof w);
			uint64_t zero =
			    (w - ones) & ~w & (ones << 7); /* its lowest flag is the first zero byte */
			z = zero ? p + j + __builtin_ctzll(zero) / 8 : memchr(p + j + 8, 0, cap - j - 8);
		} else
#endif
			z = memchr(p + j, 0, cap - j);
		if (z == NULL)
			return cap;
		j = (size_t)(z - p);
		size_t r = zero_run(p, j, size);
		if (r >= ZERO_RUN_MIN || j + r == size)
			return j;
		j += r; /* a short run inside the literal */
	}
	return cap;
}

static uint8_t *put_len(uint8_t *o, size_t n)
{
	o[0] = (uint8_t)(n & 0xff);
	o[1] = (uint8_t)(n >> 8);
	return o + 2;
}

/* Writes the packed form to out (NULL: only measures); returns its length. */
static size_t pack_into(const uint8_t *p, size_t size, uint8_t *out)
{
	size_t i = 0, len = 0;
	while (i < size) {
		size_t lit = literal_end(p, i, size);
		size_t nlit = lit - i;
		size_t nzero = nlit < RUN_MAX ? zero_run(p, lit, size) : 0;
		if (out) {
			uint8_t *o = put_len(out + len, nlit);
			memcpy(o, p + i, nlit);
			put_len(o + nlit, nzero);
		}
		len += 4 + nlit;
		i = lit + nzero;
	}
	return len;
}

uint8_t *zero_pack(const void *src, size_t size, size_t *len)
{
	/* One pass into the most it can take (a pair per ZERO_RUN_MIN bytes at worst, and per RUN_MAX), then
	 * shrunk: measuring first cost a second pass over every byte. */
	size_t most = size + 4 * (size / ZERO_RUN_MIN + size / RUN_MAX + 2);
	uint8_t *out = malloc(most);
	if (!out)
		return NULL;
	*len = pack_into(src, size, out);
	uint8_t *fit = realloc(out, *len ? *len : 1);
	return fit ? fit : out;
}

static size_t get_len(const uint8_t *p)
{
	return (size_t)p[0] | (size_t)p[1] << 8;
}

bool zero_unpack(const uint8_t *packed, size_t len, void *dst, size_t size)
{
	uint8_t *d = dst;
	size_t i = 0, at = 0;
	while (i < len) {
		if (len - i < 2)
			return false;
		size_t nlit = get_len(packed + i);
		i += 2;
		if (len - i < nlit + 2 || size - at < nlit)
			return false;
		memcpy(d + at, packed + i, nlit);
		at += nlit;
		i += nlit;
		size_t nzero = get_len(packed + i);
		i += 2;
		if (size - at < nzero)
			return false;
		memset(d + at, 0, nzero);
		at += nzero;
	}
	return at == size;
}

size_t zero_packed_size(const uint8_t *packed, size_t len)
{
	size_t i = 0, size = 0;
	while (i < len) {
		if (len - i < 4 || len - i - 4 < get_len(packed + i))
			return 0;
		size_t nlit = get_len(packed + i);
		size += nlit + get_len(packed + i + 2 + nlit);
		i += 4 + nlit;
	}
	return size;
}
