/*
 * tcp_stream.c: per-direction TCP reassembly (RFC 9293 sequence space).
 * See tcp_stream.h for the policy; the comments here explain the mechanics.
 */
#include "sensor/flow/tcp_stream.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Serial-number comparisons (RFC 1982 style) so that wrap at 2^32 is invisible. */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

/* More buffered segments than this is a flood of tiny fragments, not a hole. */
enum { TCP_STREAM_MAX_OOO_SEGMENTS = 4096 };
_Static_assert(TCP_STREAM_MAX_OOO_SEGMENTS <= UINT16_MAX, "ooo_segments is 16-bit");

/*
 * A buffered segment: a node of the stream's seq_tree (keyed by its first
 * sequence number), so finding where a segment goes is O(log n) however many
 * are buffered, and walking on from there is O(1) per segment.
 */
struct tcp_segment {
	struct seq_tree_node node; /* first, so a node is its segment */
	uint32_t len;
	uint8_t data[];
};
_Static_assert(offsetof(struct tcp_segment, node) == 0, "a tree node is its segment");

static struct tcp_segment *segment_of(struct seq_tree_node *n)
{
	return (struct tcp_segment *)n;
}

static uint32_t segment_end(const struct tcp_segment *seg)
{
	return seg->node.seq + seg->len;
}

/* The buffered segment with the lowest sequence number, or NULL. */
static struct tcp_segment *first_segment(const struct tcp_stream *s)
{
	return segment_of(seq_tree_first(&s->ooo));
}

/* The first buffered segment that ends after `seq`; `it` then walks on from it. */
static struct tcp_segment *first_ending_after(struct tcp_stream *s, struct seq_tree_iter *it, uint32_t seq)
{
	struct tcp_segment *at = segment_of(seq_tree_seek(it, &s->ooo, seq));
	if (!at || SEQ_LEQ(segment_end(at), seq)) /* segments do not overlap: only the last before seq may */
		at = segment_of(seq_tree_next(it));
	return at;
}

/* Counts of rare events are 32-bit to keep idle flows small: they stop at the top rather than wrap. */
static void add_saturating(uint32_t *c, uint64_t n)
{
	*c = n >= UINT32_MAX - *c ? UINT32_MAX : *c + (uint32_t)n;
}

static void count_event(uint32_t *c)
{
	add_saturating(c, 1);
}

void tcp_stream_init(struct tcp_stream *s, const struct tcp_stream_limits *limits, struct memcap *memcap)
{
	memset(s, 0, sizeof *s);
	s->limits = limits;
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
	struct tcp_segment *seg;
	while ((seg = first_segment(s)) != NULL) {
		seq_tree_remove(&s->ooo, &seg->node);
		segment_free(s, seg);
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
	uint64_t room = s->limits->depth ? s->limits->depth - s->delivered : UINT64_MAX;
	uint32_t give = n <= room ? n : (uint32_t)room;
	s->delivered += give;
	enum stream_verdict v = give ? sink->data(sink->ctx, p, give) : STREAM_CONTINUE;
	if (give < n || (s->limits->depth && s->delivered == s->limits->depth)) {
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
	count_event(&s->gaps);
	s->gap_bytes += n;
	s->next_seq += n;
	if (sink->gap(sink->ctx, n) == STREAM_DONE)
		stream_finish(s);
}

/* Delivers (what is new in) the first buffered segment `seg`, which starts at or before next_seq. */
static void drain_first(struct tcp_stream *s, struct tcp_segment *seg, const struct stream_sink *sink)
{
	seq_tree_remove(&s->ooo, &seg->node);
	uint32_t end = segment_end(seg);
	if (SEQ_GT(end, s->next_seq)) {
		uint32_t skip = s->next_seq - seg->node.seq;
		s->next_seq = end;
		deliver(s, seg->data + skip, seg->len - skip, sink);
	}
	segment_free(s, seg);
}

/* Delivers buffered segments that have become contiguous with next_seq. */
static void drain(struct tcp_stream *s, const struct stream_sink *sink)
{
	struct tcp_segment *first;
	while (!s->done && (first = first_segment(s)) != NULL && SEQ_LEQ(first->node.seq, s->next_seq))
		drain_first(s, first, sink);
}

/* Gives up on the hole before the first buffered segment. */
static void skip_first_hole(struct tcp_stream *s, const struct stream_sink *sink)
{
	struct tcp_segment *first = first_segment(s);
	if (first && SEQ_GT(first->node.seq, s->next_seq))
		declare_gap(s, first->node.seq - s->next_seq, sink);
	drain(s, sink);
}

static struct tcp_segment *segment_new(struct tcp_stream *s, uint32_t seq, const uint8_t *p, uint32_t len)
{
	if (!memcap_reserve(s->memcap, sizeof(struct tcp_segment) + len)) {
		count_event(&s->memcap_drops);
		return NULL;
	}
	struct tcp_segment *seg = malloc(sizeof *seg + len);
	if (!seg) {
		memcap_release(s->memcap, sizeof(struct tcp_segment) + len);
		count_event(&s->memcap_drops);
		return NULL;
	}
	seg->node.seq = seq;
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
	uint32_t from = SEQ_GT(old->node.seq, seq) ? old->node.seq : seq;
	uint32_t old_end = segment_end(old), end = seq + len;
	uint32_t to = SEQ_LT(old_end, end) ? old_end : end;
	if (SEQ_LEQ(to, from))
		return;
	if (memcmp(old->data + (from - old->node.seq), p + (from - seq), to - from) != 0)
		add_saturating(&s->overlap_conflicts, to - from);
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
		struct tcp_segment *first = first_segment(s);
		if (first && SEQ_LEQ(first->node.seq, s->next_seq)) {
			compare_overlap(s, first, seq, p, len);
			drain_first(s, first, sink);
			continue;
		}
		uint32_t from = s->next_seq;
		uint32_t to = (first && SEQ_LT(first->node.seq, end)) ? first->node.seq : end;
		s->next_seq = to;
		deliver(s, p + (from - seq), to - from, sink);
	}
	drain(s, sink);
}

/* Whether [seq, ...) starts at or after the end of everything buffered: a plain append. */
static bool after_tail(const struct tcp_stream *s, uint32_t seq)
{
	return s->ooo_tail && SEQ_GEQ(seq, segment_end(s->ooo_tail));
}

/* How many bytes of [seq, seq+len) no buffered segment holds yet: what buffering it would add. */
static uint32_t bytes_not_buffered(struct tcp_stream *s, uint32_t seq, uint32_t len)
{
	if (after_tail(s, seq))
		return len;
	struct seq_tree_iter it;
	uint32_t cursor = seq, end = seq + len, n = 0;
	for (const struct tcp_segment *at = first_ending_after(s, &it, seq); at && SEQ_LT(cursor, end);
	     at = segment_of(seq_tree_next(&it))) {
		if (SEQ_LEQ(end, at->node.seq))
			break;
		if (SEQ_LT(cursor, at->node.seq))
			n += at->node.seq - cursor;
		cursor = segment_end(at);
	}
	if (SEQ_LT(cursor, end))
		n += end - cursor;
	return n;
}

/*
 * Links new segments (chained in order through node.left until then) into the
 * tree; those past the tail are appended, which keeps the list form (seq_tree.h).
 */
static void link_pieces(struct tcp_stream *s, struct seq_tree_node *pieces)
{
	while (pieces) {
		struct seq_tree_node *n = pieces;
		pieces = n->left;
		if (!s->ooo_tail || SEQ_GT(n->seq, s->ooo_tail->node.seq)) {
			seq_tree_append(&s->ooo, n, s->ooo_tail ? &s->ooo_tail->node : NULL);
			s->ooo_tail = segment_of(n);
		} else {
			seq_tree_insert(&s->ooo, n);
		}
	}
}

/*
 * Buffers [seq, seq+len), keeping what is already buffered where they overlap
 * ("first wins"): only the pieces that fall in holes between segments are added.
 * The walk visits only the segments it overlaps; the pieces are linked into the
 * tree after it, since linking would move the nodes the walk stands on.
 */
static void buffer_insert(struct tcp_stream *s, uint32_t seq, const uint8_t *p, uint32_t len)
{
	if (after_tail(s, seq)) {
		struct tcp_segment *seg = segment_new(s, seq, p, len);
		if (seg) {
			seq_tree_append(&s->ooo, &seg->node, s->ooo_tail ? &s->ooo_tail->node : NULL);
			s->ooo_tail = seg;
		}
		return;
	}
	struct seq_tree_iter it;
	struct tcp_segment *at = first_ending_after(s, &it, seq);
	struct seq_tree_node *pieces = NULL, **piece_link = &pieces;
	uint32_t cursor = seq, end = seq + len;
	while (SEQ_LT(cursor, end)) {
		/* The piece before `at` (or to the end when nothing follows) is new. */
		uint32_t piece_end = (at && SEQ_LT(at->node.seq, end)) ? at->node.seq : end;
		if (SEQ_LT(cursor, piece_end)) {
			struct tcp_segment *seg =
			    segment_new(s, cursor, p + (cursor - seq), piece_end - cursor);
			if (!seg)
				break;
			seg->node.left = NULL;
			*piece_link = &seg->node;
			piece_link = &seg->node.left;
			cursor = piece_end;
		}
		if (!at || SEQ_LEQ(end, at->node.seq))
			break;
		compare_overlap(s, at, seq, p, len);
		cursor = segment_end(at);
		at = segment_of(seq_tree_next(&it));
	}
	link_pieces(s, pieces);
}

static void buffer_out_of_order(struct tcp_stream *s, uint32_t seq, const uint8_t *p, uint32_t len,
                                const struct stream_sink *sink)
{
	if ((uint32_t)(seq - s->next_seq) > TCP_STREAM_MAX_WINDOW) {
		count_event(&s->out_of_window);
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
	struct tcp_segment *first;
	while (!s->done && add > 0 && SEQ_GT(seq, s->next_seq) &&
	       ((uint64_t)s->ooo_bytes + add > s->limits->max_ooo_bytes ||
	        s->ooo_segments >= TCP_STREAM_MAX_OOO_SEGMENTS) &&
	       (first = first_segment(s)) != NULL) {
		count_event(&s->ooo_cap_hits);
		if (SEQ_LT(seq, first->node.seq)) {
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
	if (len > s->limits->max_ooo_bytes) {
		count_event(&s->ooo_cap_hits);
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
	if (!s->synced || s->done || !s->ooo.root)
		return;
	if (s->fin_seen && SEQ_GT(ack, s->fin_seq))
		ack = s->fin_seq;
	struct tcp_segment *first;
	while (!s->done && SEQ_GT(ack, s->next_seq) && (first = first_segment(s)) != NULL &&
	       SEQ_GT(first->node.seq, s->next_seq) && SEQ_LEQ(first->node.seq, ack))
		skip_first_hole(s, sink);
}

void tcp_stream_flush(struct tcp_stream *s, const struct stream_sink *sink)
{
	while (s->ooo.root && !s->done)
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
