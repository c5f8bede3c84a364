/*
 * tcp_stream.c: per-direction TCP reassembly (RFC 9293 sequence space).
 * See tcp_stream.h for the policy; the comments here explain the mechanics.
 */
#include "sensor/flow/tcp_stream.h"

#include <stdlib.h>
#include <string.h>

/* Serial-number comparisons (RFC 1982 style) so that wrap at 2^32 is invisible. */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

/* More buffered segments than this is a flood of tiny fragments, not a hole. */
enum { TCP_STREAM_MAX_OOO_SEGMENTS = 4096 };

struct tcp_segment {
	struct tcp_segment *next;
	uint32_t seq;
	uint32_t len;
	uint8_t data[];
};

void tcp_stream_init(struct tcp_stream *s, const struct tcp_stream_limits *limits, struct memcap *memcap)
{
	memset(s, 0, sizeof *s);
	s->limits = *limits;
	s->memcap = memcap;
}

static void segment_free(struct tcp_stream *s, struct tcp_segment *seg)
{
	if (seg == s->ooo_tail) /* segments leave from the head: the tail goes last */
		s->ooo_tail = NULL;
	s->ooo_bytes -= seg->len;
	s->ooo_segments--;
	memcap_release(s->memcap, sizeof *seg + seg->len);
	free(seg);
}

void tcp_stream_release(struct tcp_stream *s)
{
	while (s->ooo) {
		struct tcp_segment *next = s->ooo->next;
		segment_free(s, s->ooo);
		s->ooo = next;
	}
}

uint64_t tcp_stream_memory(const struct tcp_stream *s)
{
	return (uint64_t)s->ooo_segments * sizeof(struct tcp_segment) + s->ooo_bytes;
}

static void stream_finish(struct tcp_stream *s)
{
	s->done = true;
	tcp_stream_release(s);
}

/* Hands n in-order bytes to the sink, honouring the depth limit. next_seq is advanced by the caller. */
static void deliver(struct tcp_stream *s, const uint8_t *p, uint32_t n, const struct stream_sink *sink)
{
	if (s->done || n == 0)
		return;
	uint64_t room = s->limits.depth ? s->limits.depth - s->delivered : UINT64_MAX;
	uint32_t give = n <= room ? n : (uint32_t)room;
	s->delivered += give;
	enum stream_verdict v = give ? sink->data(sink->ctx, p, give) : STREAM_CONTINUE;
	if (give < n || (s->limits.depth && s->delivered == s->limits.depth)) {
		s->depth_reached = true;
		v = STREAM_DONE;
	}
	if (v == STREAM_DONE)
		stream_finish(s);
}

static void declare_gap(struct tcp_stream *s, uint32_t n, const struct stream_sink *sink)
{
	if (s->done || n == 0)
		return;
	s->gaps++;
	s->gap_bytes += n;
	s->next_seq += n;
	if (sink->gap(sink->ctx, n) == STREAM_DONE)
		stream_finish(s);
}

/* Delivers (what is new in) the first buffered segment, which starts at or before next_seq. */
static void drain_first(struct tcp_stream *s, const struct stream_sink *sink)
{
	struct tcp_segment *seg = s->ooo;
	s->ooo = seg->next;
	uint32_t end = seg->seq + seg->len;
	if (SEQ_GT(end, s->next_seq)) {
		uint32_t skip = s->next_seq - seg->seq;
		s->next_seq = end;
		deliver(s, seg->data + skip, seg->len - skip, sink);
	}
	segment_free(s, seg);
}

/* Delivers buffered segments that have become contiguous with next_seq. */
static void drain(struct tcp_stream *s, const struct stream_sink *sink)
{
	while (s->ooo && !s->done && SEQ_LEQ(s->ooo->seq, s->next_seq))
		drain_first(s, sink);
}

/* Gives up on the hole before the first buffered segment. */
static void skip_first_hole(struct tcp_stream *s, const struct stream_sink *sink)
{
	if (s->ooo && SEQ_GT(s->ooo->seq, s->next_seq))
		declare_gap(s, s->ooo->seq - s->next_seq, sink);
	drain(s, sink);
}

static struct tcp_segment *segment_new(struct tcp_stream *s, uint32_t seq, const uint8_t *p, uint32_t len)
{
	if (!memcap_reserve(s->memcap, sizeof(struct tcp_segment) + len)) {
		s->memcap_drops++;
		return NULL;
	}
	struct tcp_segment *seg = malloc(sizeof *seg + len);
	if (!seg) {
		memcap_release(s->memcap, sizeof(struct tcp_segment) + len);
		s->memcap_drops++;
		return NULL;
	}
	seg->next = NULL;
	seg->seq = seq;
	seg->len = len;
	memcpy(seg->data, p, len);
	s->ooo_bytes += len;
	s->ooo_segments++;
	return seg;
}

/* Counts the overlapping bytes of [seq, seq+len) that differ from what segment `old` holds. */
static void compare_overlap(struct tcp_stream *s, const struct tcp_segment *old, uint32_t seq,
                            const uint8_t *p, uint32_t len)
{
	uint32_t from = SEQ_GT(old->seq, seq) ? old->seq : seq;
	uint32_t old_end = old->seq + old->len, end = seq + len;
	uint32_t to = SEQ_LT(old_end, end) ? old_end : end;
	if (SEQ_LEQ(to, from))
		return;
	if (memcmp(old->data + (from - old->seq), p + (from - seq), to - from) != 0)
		s->overlap_conflicts += to - from;
	else
		s->retransmitted_bytes += to - from;
}

/*
 * Delivers the new segment [next_seq, next_seq+len). Buffered segments that
 * overlap it arrived first, so their bytes win there (zero-copy elsewhere).
 */
static void deliver_new(struct tcp_stream *s, const uint8_t *p, uint32_t len, const struct stream_sink *sink)
{
	uint32_t seq = s->next_seq, end = seq + len;
	while (!s->done && SEQ_LT(s->next_seq, end)) {
		if (s->ooo && SEQ_LEQ(s->ooo->seq, s->next_seq)) {
			compare_overlap(s, s->ooo, seq, p, len);
			drain_first(s, sink);
			continue;
		}
		uint32_t from = s->next_seq;
		uint32_t to = (s->ooo && SEQ_LT(s->ooo->seq, end)) ? s->ooo->seq : end;
		s->next_seq = to;
		deliver(s, p + (from - seq), to - from, sink);
	}
	drain(s, sink);
}

/* Whether [seq, ...) starts at or after the end of everything buffered: a plain append. */
static bool after_tail(const struct tcp_stream *s, uint32_t seq)
{
	return s->ooo_tail && SEQ_GEQ(seq, s->ooo_tail->seq + s->ooo_tail->len);
}

/* How many bytes of [seq, seq+len) no buffered segment holds yet: what buffering it would add. */
static uint32_t bytes_not_buffered(const struct tcp_stream *s, uint32_t seq, uint32_t len)
{
	if (after_tail(s, seq))
		return len;
	uint32_t cursor = seq, end = seq + len, n = 0;
	for (const struct tcp_segment *at = s->ooo; at && SEQ_LT(cursor, end); at = at->next) {
		uint32_t at_end = at->seq + at->len;
		if (SEQ_LEQ(at_end, cursor))
			continue;
		if (SEQ_LEQ(end, at->seq))
			break;
		if (SEQ_LT(cursor, at->seq))
			n += at->seq - cursor;
		cursor = at_end;
	}
	if (SEQ_LT(cursor, end))
		n += end - cursor;
	return n;
}

/*
 * Buffers [seq, seq+len), keeping what is already buffered where they overlap
 * ("first wins"): only the pieces that fall in holes between segments are added.
 */
static void buffer_insert(struct tcp_stream *s, uint32_t seq, const uint8_t *p, uint32_t len)
{
	if (after_tail(s, seq)) {
		struct tcp_segment *seg = segment_new(s, seq, p, len);
		if (seg) {
			s->ooo_tail->next = seg;
			s->ooo_tail = seg;
		}
		return;
	}
	struct tcp_segment **link = &s->ooo;
	uint32_t cursor = seq, end = seq + len;
	while (SEQ_LT(cursor, end)) {
		struct tcp_segment *at = *link;
		if (at && SEQ_LEQ(at->seq + at->len, cursor)) { /* entirely before the cursor */
			link = &at->next;
			continue;
		}
		/* The piece before `at` (or to the end when nothing follows) is new. */
		uint32_t piece_end = (at && SEQ_LT(at->seq, end)) ? at->seq : end;
		if (SEQ_LT(cursor, piece_end)) {
			struct tcp_segment *seg =
			    segment_new(s, cursor, p + (cursor - seq), piece_end - cursor);
			if (!seg)
				return;
			seg->next = at;
			*link = seg;
			link = &seg->next;
			if (!at)
				s->ooo_tail = seg;
			cursor = piece_end;
		}
		if (!at || SEQ_LEQ(end, at->seq))
			break;
		compare_overlap(s, at, seq, p, len);
		cursor = at->seq + at->len;
		link = &at->next;
	}
}

static void buffer_out_of_order(struct tcp_stream *s, uint32_t seq, const uint8_t *p, uint32_t len,
                                const struct stream_sink *sink)
{
	if ((uint32_t)(seq - s->next_seq) > TCP_STREAM_MAX_WINDOW) {
		s->out_of_window++;
		return;
	}
	/*
	 * Make room by giving up the oldest holes; each turn delivers or frees at
	 * least one segment. When this segment comes before everything buffered,
	 * the oldest hole ends at it: only that hole goes, and this segment is
	 * delivered rather than lost. Only the bytes it would add count (resending
	 * buffered data needs no room); they do not change while the holes given
	 * up end before it.
	 */
	uint32_t add = bytes_not_buffered(s, seq, len);
	while (s->ooo && !s->done && add > 0 && SEQ_GT(seq, s->next_seq) &&
	       ((uint64_t)s->ooo_bytes + add > s->limits.max_ooo_bytes ||
	        s->ooo_segments >= TCP_STREAM_MAX_OOO_SEGMENTS)) {
		s->ooo_cap_hits++;
		if (SEQ_LT(seq, s->ooo->seq)) {
			declare_gap(s, seq - s->next_seq, sink);
			break;
		}
		skip_first_hole(s, sink);
	}
	if (s->done)
		return;
	if (SEQ_LEQ(seq, s->next_seq)) { /* the holes given up reached this segment */
		uint32_t skip = s->next_seq - seq;
		if (skip >= len)
			return;
		deliver_new(s, p + skip, len - skip, sink);
		return;
	}
	if (len > s->limits.max_ooo_bytes) {
		s->ooo_cap_hits++;
		declare_gap(s, seq - s->next_seq, sink);
		deliver_new(s, p, len, sink);
		return;
	}
	buffer_insert(s, seq, p, len);
}

void tcp_stream_segment(struct tcp_stream *s, uint32_t seq, bool syn, bool fin, const uint8_t *payload,
                        uint32_t len, uint32_t wire_len, const struct stream_sink *sink)
{
	if (s->done)
		return;
	uint32_t data_seq = syn ? seq + 1 : seq;
	if (!s->synced) {
		/* Midstream pickup: a segment with data (or a FIN) tells where the stream stands. */
		if (!syn && wire_len == 0 && !fin)
			return;
		s->next_seq = data_seq;
		s->synced = true;
	}
	if (fin && !s->fin_seen) {
		s->fin_seen = true;
		s->fin_seq = data_seq + wire_len;
	}
	if (len == 0)
		return;
	uint32_t end = data_seq + len;
	if (SEQ_LEQ(end, s->next_seq)) {
		s->retransmitted_bytes += len;
		return;
	}
	if (SEQ_LT(data_seq, s->next_seq)) { /* partly old: keep only the new tail */
		uint32_t old = s->next_seq - data_seq;
		s->retransmitted_bytes += old;
		payload += old;
		len -= old;
		data_seq = s->next_seq;
	}
	if (data_seq == s->next_seq) {
		deliver_new(s, payload, len, sink);
	} else {
		buffer_out_of_order(s, data_seq, payload, len, sink);
	}
}

void tcp_stream_ack(struct tcp_stream *s, uint32_t ack, const struct stream_sink *sink)
{
	/*
	 * Only a hole we can already see (data buffered beyond it) is given up on an
	 * ACK: span ports reorder the two directions, so an ACK may be captured
	 * before the very segment it acknowledges.
	 */
	if (!s->synced || s->done || !s->ooo)
		return;
	if (s->fin_seen && SEQ_GT(ack, s->fin_seq))
		ack = s->fin_seq;
	while (s->ooo && !s->done && SEQ_GT(ack, s->next_seq) && SEQ_GT(s->ooo->seq, s->next_seq) &&
	       SEQ_LEQ(s->ooo->seq, ack))
		skip_first_hole(s, sink);
}

void tcp_stream_flush(struct tcp_stream *s, const struct stream_sink *sink)
{
	while (s->ooo && !s->done)
		skip_first_hole(s, sink);
	/* Bytes before the FIN that never showed up. */
	if (!s->done && s->fin_seen && SEQ_GT(s->fin_seq, s->next_seq) &&
	    (uint32_t)(s->fin_seq - s->next_seq) <= TCP_STREAM_MAX_WINDOW)
		declare_gap(s, s->fin_seq - s->next_seq, sink);
}

void tcp_stream_stop(struct tcp_stream *s)
{
	stream_finish(s);
}

bool tcp_stream_finished(const struct tcp_stream *s)
{
	return s->done || (s->fin_seen && s->next_seq == s->fin_seq);
}
