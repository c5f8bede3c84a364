/*
 * stream_hold.c: a flow's first bytes held while nDPI decides, then replayed in arrival order
 * (stream_hold.h). Owns the held bytes, grown on demand, capped at STREAM_HOLD_CAP.
 */
#include "sensor/flow/stream_hold.h"

#include <stdlib.h>
#include <string.h>

enum { CHUNK_HEADER = 3 };

_Static_assert(STREAM_HOLD_CAP <= UINT16_MAX && STREAM_HOLD_STEP <= STREAM_HOLD_CAP, "lengths fit");

/* Room for `need` bytes, doubling; false when out of memory. */
static bool grow(struct stream_hold *h, size_t need)
{
	if (need <= h->cap)
		return true;
	size_t cap = h->cap ? h->cap : STREAM_HOLD_STEP;
	while (cap < need)
		cap *= 2;
	if (cap > STREAM_HOLD_CAP)
		cap = STREAM_HOLD_CAP;
	uint8_t *b = realloc(h->buf, cap);
	if (!b)
		return false;
	h->buf = b;
	h->cap = (uint16_t)cap;
	return true;
}

bool stream_hold_add(struct stream_hold *h, enum flow_dir dir, const uint8_t *p, size_t n)
{
	if (h->overflow || n == 0)
		return !h->overflow;
	/* Checked against what is left, so len + n never overflows. */
	if (n > STREAM_HOLD_CAP - CHUNK_HEADER || h->len > STREAM_HOLD_CAP - CHUNK_HEADER - n) {
		h->overflow = true;
		return false;
	}
	if (!grow(h, h->len + CHUNK_HEADER + n)) {
		h->overflow = true;
		return false;
	}
	h->buf[h->len] = (uint8_t)dir;
	h->buf[h->len + 1] = (uint8_t)(n >> 8);
	h->buf[h->len + 2] = (uint8_t)n;
	memcpy(h->buf + h->len + CHUNK_HEADER, p, n);
	h->len = (uint16_t)(h->len + CHUNK_HEADER + n);
	return true;
}

void stream_hold_replay(struct stream_hold *h,
                        void (*fn)(void *ctx, enum flow_dir dir, const uint8_t *p, size_t n), void *ctx)
{
	size_t at = 0;
	while (h->len - at >= CHUNK_HEADER) {
		enum flow_dir dir = h->buf[at] ? FLOW_TO_CLIENT : FLOW_TO_SERVER;
		size_t n = (size_t)h->buf[at + 1] << 8 | h->buf[at + 2];
		if (n > h->len - at - CHUNK_HEADER)
			break; /* cannot happen: chunks are written whole */
		fn(ctx, dir, h->buf + at + CHUNK_HEADER, n);
		at += CHUNK_HEADER + n;
	}
	h->len = 0;
}

size_t stream_hold_memory(const struct stream_hold *h)
{
	return h->cap;
}

void stream_hold_release(struct stream_hold *h)
{
	free(h->buf);
	*h = (struct stream_hold){0};
}
