/*
 * stream_hold.h: the first reassembled bytes of a flow on no mail port, held
 * while nDPI decides what it carries, then replayed to the mail parsers in the
 * order they arrived (both directions interleaved: the SMTP parser pairs
 * replies with commands by that order). Capped: past STREAM_HOLD_CAP bytes
 * nothing more is held and the hold says it overflowed. The buffer grows on
 * demand, doubling from STREAM_HOLD_STEP, so a few held bytes cost a few
 * hundred, not the cap.
 */
#ifndef TLSOBS_STREAM_HOLD_H
#define TLSOBS_STREAM_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/flow/flow.h"

enum {
	STREAM_HOLD_CAP = 16384, /* SMTP is decided by the EHLO reply: a few hundred bytes in practice */
	STREAM_HOLD_STEP = 256,  /* the first allocation */
};

struct stream_hold {
	uint8_t *buf; /* chunks: direction (1 byte), length (2 bytes), bytes; NULL until the first */
	uint16_t len; /* bytes used */
	uint16_t cap; /* bytes allocated (0, then STREAM_HOLD_STEP doubling up to STREAM_HOLD_CAP) */
	bool overflow;
};

/* false when the bytes do not fit (overflow is then set, and nothing more is held). */
bool stream_hold_add(struct stream_hold *h, enum flow_dir dir, const uint8_t *p, size_t n);
/* Calls fn for each chunk, in arrival order, then empties the hold. */
void stream_hold_replay(struct stream_hold *h,
                        void (*fn)(void *ctx, enum flow_dir dir, const uint8_t *p, size_t n), void *ctx);
/* Heap bytes held (for the memcap). */
size_t stream_hold_memory(const struct stream_hold *h);
void stream_hold_release(struct stream_hold *h);

#endif
