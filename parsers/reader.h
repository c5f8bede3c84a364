/*
 * reader.h: the only way wire bytes are read.
 *
 * A cursor over a borrowed buffer with a sticky error flag. Every read checks
 * against the bytes *left* (never forms p + n past the end); a failed read
 * returns 0 / NULL, sets the flag and consumes nothing more, so a parser may
 * read a whole block and check reader_failed() once. reader_sub() hands out a
 * child cursor over the next n bytes for length-prefixed fields.
 * All multi-byte integers are big-endian (network order).
 */
#ifndef TLSOBS_READER_H
#define TLSOBS_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reader {
	const uint8_t *p; /* next unread byte (borrowed) */
	size_t left;      /* bytes remaining after p */
	bool failed;      /* sticky: a read ran past the end */
};

static inline struct reader reader_make(const void *data, size_t len)
{
	struct reader r = {(const uint8_t *)data, len, false};
	return r;
}

static inline bool reader_failed(const struct reader *r)
{
	return r->failed;
}

static inline size_t reader_left(const struct reader *r)
{
	return r->failed ? 0 : r->left;
}

/* Consumes n bytes and returns where they start, or NULL (and fails) if fewer are left. */
static inline const uint8_t *reader_bytes(struct reader *r, size_t n)
{
	if (r->failed || n > r->left) {
		r->failed = true;
		return NULL;
	}
	const uint8_t *at = r->p;
	r->p += n;
	r->left -= n;
	return at;
}

static inline bool reader_skip(struct reader *r, size_t n)
{
	return reader_bytes(r, n) != NULL;
}

static inline uint8_t reader_u8(struct reader *r)
{
	const uint8_t *b = reader_bytes(r, 1);
	return b ? b[0] : 0;
}

static inline uint16_t reader_u16(struct reader *r)
{
	const uint8_t *b = reader_bytes(r, 2);
	return b ? (uint16_t)(b[0] << 8 | b[1]) : 0;
}

static inline uint32_t reader_u24(struct reader *r)
{
	const uint8_t *b = reader_bytes(r, 3);
	return b ? (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2] : 0;
}

static inline uint32_t reader_u32(struct reader *r)
{
	const uint8_t *b = reader_bytes(r, 4);
	return b ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3] : 0;
}

/* A child reader over the next n bytes; the parent moves past them. On failure both are failed. */
static inline struct reader reader_sub(struct reader *r, size_t n)
{
	const uint8_t *b = reader_bytes(r, n);
	struct reader child = {b, b ? n : 0, b == NULL};
	return child;
}

/* Looks at the next byte without consuming it; -1 when none is left. */
static inline int reader_peek(const struct reader *r)
{
	return (r->failed || r->left == 0) ? -1 : r->p[0];
}

#endif
