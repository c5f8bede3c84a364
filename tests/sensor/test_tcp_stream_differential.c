/*
 * test_tcp_stream_differential.c: the tree-based reassembler (sensor/flow/tcp_stream.c
 * on sensor/flow/seq_tree.c) against a reference model, step by step, over random
 * feeds: after every segment, ACK, flush or stop, both must have said the same
 * to their sinks (data bytes, gaps, STREAM_DONE) and agree on every counter, the
 * buffered bytes and segments, and the memcap in use.
 *
 * The model is the reassembler as it was before the tree (a sorted list walked
 * from its head, O(n) per out-of-order segment; tcp_stream.c at 4d8e1dc), renamed
 * ref_*: the tree must change the cost, never the behaviour (which bytes win on
 * overlap, what counts as a retransmission or a conflict, which holes the caps
 * give up, what the memcap refuses). It charges the memcap the same per-segment
 * overhead as the tree's segments (measured below), so memcap refusals line up.
 * Seeds are fixed, so a failure repeats.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/flow/tcp_stream.h"
#include "tcp_stream_harness.h"
#include "test_support.h"

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

/* ---- the model: tcp_stream.c before the tree, renamed ---- */

static uint64_t ref_overhead; /* memcap bytes per buffered segment besides its payload: the tree's */

struct ref_stream {
	struct tcp_stream_limits limits;
	struct memcap *memcap;
	bool synced;
	bool fin_seen;
	bool done;
	bool depth_reached;
	uint32_t next_seq;
	uint32_t fin_seq;
	struct ref_segment *ooo;      /* buffered segments, sorted, non-overlapping */
	struct ref_segment *ooo_tail; /* the last of them */
	uint32_t ooo_bytes;
	uint32_t ooo_segments;
	uint64_t delivered;
	uint64_t gaps, gap_bytes;
	uint64_t retransmitted_bytes;
	uint64_t overlap_conflicts;
	uint64_t out_of_window;
	uint64_t ooo_cap_hits;
	uint64_t memcap_drops;
};

/* More buffered segments than this is a flood of tiny fragments, not a hole. */
enum { REF_MAX_OOO_SEGMENTS = 4096 };

struct ref_segment {
	struct ref_segment *next;
	uint32_t seq;
	uint32_t len;
	uint8_t data[];
};

static void ref_init(struct ref_stream *s, const struct tcp_stream_limits *limits, struct memcap *memcap)
{
	memset(s, 0, sizeof *s);
	s->limits = *limits;
	s->memcap = memcap;
}

static void segment_free(struct ref_stream *s, struct ref_segment *seg)
{
	if (seg == s->ooo_tail) /* segments leave from the head: the tail goes last */
		s->ooo_tail = NULL;
	s->ooo_bytes -= seg->len;
	s->ooo_segments--;
	memcap_release(s->memcap, ref_overhead + seg->len);
	free(seg);
}

static void ref_release(struct ref_stream *s)
{
	while (s->ooo) {
		struct ref_segment *next = s->ooo->next;
		segment_free(s, s->ooo);
		s->ooo = next;
	}
}

static void stream_finish(struct ref_stream *s)
{
	s->done = true;
	ref_release(s);
}

/* Hands n in-order bytes to the sink, honouring the depth limit. next_seq is advanced by the caller. */
static void deliver(struct ref_stream *s, const uint8_t *p, uint32_t n, const struct stream_sink *sink)
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

static void declare_gap(struct ref_stream *s, uint32_t n, const struct stream_sink *sink)
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
static void drain_first(struct ref_stream *s, const struct stream_sink *sink)
{
	struct ref_segment *seg = s->ooo;
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
static void drain(struct ref_stream *s, const struct stream_sink *sink)
{
	while (s->ooo && !s->done && SEQ_LEQ(s->ooo->seq, s->next_seq))
		drain_first(s, sink);
}

/* Gives up on the hole before the first buffered segment. */
static void skip_first_hole(struct ref_stream *s, const struct stream_sink *sink)
{
	if (s->ooo && SEQ_GT(s->ooo->seq, s->next_seq))
		declare_gap(s, s->ooo->seq - s->next_seq, sink);
	drain(s, sink);
}

static struct ref_segment *segment_new(struct ref_stream *s, uint32_t seq, const uint8_t *p, uint32_t len)
{
	if (!memcap_reserve(s->memcap, ref_overhead + len)) {
		s->memcap_drops++;
		return NULL;
	}
	struct ref_segment *seg = malloc(sizeof *seg + len);
	if (!seg) {
		memcap_release(s->memcap, ref_overhead + len);
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
static void compare_overlap(struct ref_stream *s, const struct ref_segment *old, uint32_t seq,
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
static void deliver_new(struct ref_stream *s, const uint8_t *p, uint32_t len, const struct stream_sink *sink)
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

/* How many bytes of [seq, seq+len) no buffered segment holds yet: what buffering it would add. */
/* Whether [seq, ...) starts at or after the end of everything buffered: a plain append. */
static bool after_tail(const struct ref_stream *s, uint32_t seq)
{
	return s->ooo_tail && SEQ_GEQ(seq, s->ooo_tail->seq + s->ooo_tail->len);
}

static uint32_t bytes_not_buffered(const struct ref_stream *s, uint32_t seq, uint32_t len)
{
	if (after_tail(s, seq))
		return len;
	uint32_t cursor = seq, end = seq + len, n = 0;
	for (const struct ref_segment *at = s->ooo; at && SEQ_LT(cursor, end); at = at->next) {
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
static void buffer_insert(struct ref_stream *s, uint32_t seq, const uint8_t *p, uint32_t len)
{
	if (after_tail(s, seq)) {
		struct ref_segment *seg = segment_new(s, seq, p, len);
		if (seg) {
			s->ooo_tail->next = seg;
			s->ooo_tail = seg;
		}
		return;
	}
	struct ref_segment **link = &s->ooo;
	uint32_t cursor = seq, end = seq + len;
	while (SEQ_LT(cursor, end)) {
		struct ref_segment *at = *link;
		if (at && SEQ_LEQ(at->seq + at->len, cursor)) { /* entirely before the cursor */
			link = &at->next;
			continue;
		}
		/* The piece before `at` (or to the end when nothing follows) is new. */
		uint32_t piece_end = (at && SEQ_LT(at->seq, end)) ? at->seq : end;
		if (SEQ_LT(cursor, piece_end)) {
			struct ref_segment *seg =
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

static void buffer_out_of_order(struct ref_stream *s, uint32_t seq, const uint8_t *p, uint32_t len,
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
	        s->ooo_segments >= REF_MAX_OOO_SEGMENTS)) {
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

static void ref_segment(struct ref_stream *s, uint32_t seq, bool syn, bool fin, const uint8_t *payload,
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

static void ref_ack(struct ref_stream *s, uint32_t ack, const struct stream_sink *sink)
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

static void ref_flush(struct ref_stream *s, const struct stream_sink *sink)
{
	while (s->ooo && !s->done)
		skip_first_hole(s, sink);
	/* Bytes before the FIN that never showed up. */
	if (!s->done && s->fin_seen && SEQ_GT(s->fin_seq, s->next_seq) &&
	    (uint32_t)(s->fin_seq - s->next_seq) <= TCP_STREAM_MAX_WINDOW)
		declare_gap(s, s->fin_seq - s->next_seq, sink);
}

static void ref_stop(struct ref_stream *s)
{
	stream_finish(s);
}

static bool ref_finished(const struct ref_stream *s)
{
	return s->done || (s->fin_seen && s->next_seq == s->fin_seq);
}

/* ---- a sink that fingerprints what it is told ---- */

struct trace {
	uint64_t hash; /* FNV-1a over every event: its kind, its size, its bytes */
	uint64_t data_events, gap_events, bytes;
	uint64_t done_at; /* answer STREAM_DONE once this many bytes came (0: never) */
	bool done_on_gap;
	bool said_done;
};

static void mix(struct trace *t, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		t->hash = (t->hash ^ p[i]) * 0x100000001b3ull;
}

static void mix_event(struct trace *t, uint8_t kind, uint64_t n)
{
	uint8_t ev[9] = {kind};
	memcpy(ev + 1, &n, sizeof n);
	mix(t, ev, sizeof ev);
}

static enum stream_verdict trace_data(void *ctx, const uint8_t *p, size_t n)
{
	struct trace *t = ctx;
	cr_assert(!t->said_done, "data after STREAM_DONE");
	mix_event(t, 'd', n);
	mix(t, p, n);
	t->data_events++;
	t->bytes += n;
	if (t->done_at && t->bytes >= t->done_at) {
		t->said_done = true;
		return STREAM_DONE;
	}
	return STREAM_CONTINUE;
}

static enum stream_verdict trace_gap(void *ctx, uint64_t n)
{
	struct trace *t = ctx;
	cr_assert(!t->said_done, "gap after STREAM_DONE");
	mix_event(t, 'g', n);
	t->gap_events++;
	if (t->done_on_gap) {
		t->said_done = true;
		return STREAM_DONE;
	}
	return STREAM_CONTINUE;
}

/* ---- the two side by side ---- */

struct pair {
	struct memcap mc_tree, mc_ref;
	struct tcp_stream tree;
	struct ref_stream ref;
	struct trace t_tree, t_ref;
	struct stream_sink k_tree, k_ref;
};

static void pair_init(struct pair *p, const struct tcp_stream_limits *limits, uint64_t memcap,
                      uint64_t done_at, bool done_on_gap)
{
	memset(p, 0, sizeof *p);
	p->mc_tree.cap = p->mc_ref.cap = memcap;
	p->t_tree.hash = p->t_ref.hash = 0xcbf29ce484222325ull;
	p->t_tree.done_at = p->t_ref.done_at = done_at;
	p->t_tree.done_on_gap = p->t_ref.done_on_gap = done_on_gap;
	p->k_tree = (struct stream_sink){.data = trace_data, .gap = trace_gap, .ctx = &p->t_tree};
	p->k_ref = (struct stream_sink){.data = trace_data, .gap = trace_gap, .ctx = &p->t_ref};
	tcp_stream_init(&p->tree, limits, &p->mc_tree);
	ref_init(&p->ref, limits, &p->mc_ref);
}

#define SAME(field, what)                                                                                    \
	cr_assert_eq(p->tree.field, p->ref.field, "seed %llu step %zu (%s): " #field " %llu, model %llu",    \
	             seed, step, what, (unsigned long long)p->tree.field, (unsigned long long)p->ref.field)

static void pair_compare(const struct pair *p, unsigned long long seed, size_t step, const char *what)
{
	SAME(synced, what);
	SAME(fin_seen, what);
	SAME(done, what);
	SAME(depth_reached, what);
	SAME(next_seq, what);
	SAME(fin_seq, what);
	SAME(ooo_bytes, what);
	SAME(ooo_segments, what);
	SAME(delivered, what);
	SAME(gaps, what);
	SAME(gap_bytes, what);
	SAME(retransmitted_bytes, what);
	SAME(overlap_conflicts, what);
	SAME(out_of_window, what);
	SAME(ooo_cap_hits, what);
	SAME(memcap_drops, what);
	cr_assert_eq(tcp_stream_finished(&p->tree), ref_finished(&p->ref), "seed %llu step %zu: finished",
	             seed, step);
	cr_assert_eq(p->mc_tree.used, p->mc_ref.used, "seed %llu step %zu (%s): memcap used", seed, step,
	             what);
	cr_assert_eq(p->mc_tree.refused, p->mc_ref.refused, "seed %llu step %zu: memcap refused", seed, step);
	cr_assert_eq(p->t_tree.hash, p->t_ref.hash,
	             "seed %llu step %zu (%s): the sinks were told different things", seed, step, what);
	cr_assert_eq(p->t_tree.data_events, p->t_ref.data_events);
	cr_assert_eq(p->t_tree.gap_events, p->t_ref.gap_events);
	cr_assert_eq(p->tree.ooo_tail == NULL, p->ref.ooo_tail == NULL, "seed %llu step %zu: tail", seed,
	             step);
	cr_assert_eq(p->tree.ooo.root == NULL, p->ref.ooo == NULL, "seed %llu step %zu: emptiness", seed,
	             step);
}

static void pair_segment(struct pair *p, uint32_t seq, bool syn, bool fin, const uint8_t *payload,
                         uint32_t len, uint32_t wire_len)
{
	tcp_stream_segment(&p->tree, seq, syn, fin, payload, len, wire_len, &p->k_tree);
	ref_segment(&p->ref, seq, syn, fin, payload, len, wire_len, &p->k_ref);
}

/* What one buffered segment costs the memcap besides its payload. */
static uint64_t segment_overhead(void)
{
	struct pair p;
	struct tcp_stream_limits limits = {.depth = 0, .max_ooo_bytes = 1 << 20};
	ref_overhead = 0;
	pair_init(&p, &limits, 1 << 20, 0, false);
	tcp_stream_segment(&p.tree, 100, true, false, NULL, 0, 0, &p.k_tree);
	tcp_stream_segment(&p.tree, 111, false, false, (const uint8_t *)"x", 1, 1, &p.k_tree);
	cr_assert_eq(p.tree.ooo_segments, 1);
	uint64_t overhead = p.mc_tree.used - 1;
	tcp_stream_release(&p.tree);
	cr_assert_eq(p.mc_tree.used, 0);
	cr_assert_geq(overhead, 16, "a segment's record is charged to the memcap");
	return overhead;
}

/* ---- random feeds ---- */

enum { MSG_MAX = 24000 };
static uint8_t variant[3][MSG_MAX];

struct feed {
	uint64_t rng;
	uint32_t isn, total;
	uint32_t max_len; /* segment sizes 1..max_len */
	uint32_t ahead;   /* out-of-order segments land up to this far past next_seq */
	bool crowded;     /* no ACK past next_seq, no flush, no stop: the buffer fills up */
};

/* Where the model's next_seq stands in the message (0 before anything). */
static uint32_t position(const struct pair *p, const struct feed *f)
{
	uint32_t pos = p->ref.synced ? p->ref.next_seq - (f->isn + 1) : 0;
	return pos > f->total ? f->total : pos;
}

static void feed_segment(struct pair *p, struct feed *f, uint32_t off, uint32_t len)
{
	uint64_t r = test_rand(&f->rng);
	if (off >= f->total)
		off = f->total - 1;
	if (len > f->total - off)
		len = f->total - off;
	const uint8_t *src = variant[r % 10 == 0 ? 1 + (r >> 8) % 2 : 0];
	bool fin = off + len == f->total ? (r >> 12) % 2 == 0 : (r >> 12) % 400 == 0;
	uint32_t wire = (r >> 20) % 25 == 0 ? len + (uint32_t)((r >> 24) % 100) + 1 : len;
	uint32_t seq = f->isn + 1 + off;
	if ((r >> 32) % 60 == 0) /* far out of window */
		seq += (1u << 30) + (uint32_t)((r >> 40) % 100000);
	bool syn = (r >> 48) % 500 == 0;
	if (syn)
		seq = f->isn;
	pair_segment(p, seq, syn, fin, src + off, len, wire);
}

static void random_step(struct pair *p, struct feed *f, unsigned long long seed, size_t step)
{
	uint64_t r = test_rand(&f->rng);
	uint32_t pos = position(p, f), kind = (uint32_t)(r % 1000);
	const char *what = "segment";
	if (f->crowded && kind >= 990) /* no flush, no stop: the buffer fills up */
		kind = 800;
	if (kind < 120) { /* at or before next_seq: retransmissions, overlaps, in order */
		uint32_t back = (uint32_t)((r >> 8) % 64);
		feed_segment(p, f, pos > back ? pos - back : 0, rand_upto(&f->rng, f->max_len));
	} else if (kind < 700) { /* ahead: out of order, over or between what is buffered */
		feed_segment(p, f, pos + (uint32_t)((r >> 8) % f->ahead), rand_upto(&f->rng, f->max_len));
	} else if (kind < 740) { /* a burst of 1-byte segments, each behind a 1-byte hole: the segment cap */
		uint32_t at = pos + (uint32_t)((r >> 8) % f->ahead), n = rand_upto(&f->rng, 400);
		for (uint32_t k = 0; k < n && at + 2 * k < f->total; k++) {
			feed_segment(p, f, at + 2 * k, 1);
			pair_compare(p, seed, step, "burst");
		}
	} else if (kind < 900) {
		what = "ack";
		uint32_t a = f->isn + 1 + pos + (uint32_t)((r >> 8) % 400) - (f->crowded ? 400 : 100);
		tcp_stream_ack(&p->tree, a, &p->k_tree);
		ref_ack(&p->ref, a, &p->k_ref);
	} else if (kind < 990) { /* a bare ACK or FIN */
		what = "empty";
		bool fin = (r >> 8) % 4 == 0;
		uint32_t seq = f->isn + 1 + pos + (uint32_t)((r >> 16) % 50);
		pair_segment(p, seq, false, fin, NULL, 0, 0);
	} else if (kind < 999 || (r >> 8) % 5 != 0) {
		what = "flush";
		tcp_stream_flush(&p->tree, &p->k_tree);
		ref_flush(&p->ref, &p->k_ref);
	} else {
		what = "stop";
		tcp_stream_stop(&p->tree);
		ref_stop(&p->ref);
	}
	pair_compare(p, seed, step, what);
}

/*
 * One random feed of `steps` steps. `crowded`: a long message in 1- to 3-byte
 * segments landing anywhere in it, no limit but the segment count: thousands
 * buffered at once, up to TCP_STREAM_MAX_OOO_SEGMENTS.
 */
static void run_seed(unsigned long long seed, size_t steps, bool crowded)
{
	struct feed f = {.rng = seed * 0x2545F4914F6CDD1Dull + 1, .crowded = crowded};
	f.total = crowded ? MSG_MAX : 200 + rand_upto(&f.rng, MSG_MAX - 200);
	f.isn = pick_isn(&f.rng);
	for (int v = 0; v < 3; v++)
		fill_random(variant[v], f.total, &f.rng);
	uint64_t r = crowded ? 0 : test_rand(&f.rng);
	f.max_len = crowded || r % 4 == 1 ? rand_upto(&f.rng, 3) : rand_upto(&f.rng, 600);
	f.ahead = crowded ? f.total : rand_upto(&f.rng, r % 3 == 1 ? 200 : 8000);
	struct tcp_stream_limits limits = {
	    .depth = (r >> 8) % 6 == 1 ? rand_upto(&f.rng, f.total) : 0,
	    .max_ooo_bytes = (r >> 16) % 4 == 1 ? rand_upto(&f.rng, 3000) : 1u << 20,
	};
	uint64_t memcap = (r >> 24) % 4 == 1 ? rand_upto(&f.rng, 20000) : 1ull << 26;
	uint64_t done_at = (r >> 32) % 8 == 1 ? rand_upto(&f.rng, f.total) : 0;
	bool done_on_gap = (r >> 40) % 16 == 1;
	struct pair p;
	pair_init(&p, &limits, memcap, done_at, done_on_gap);
	if ((r >> 48) % 6 != 1) { /* else picked up midstream */
		pair_segment(&p, f.isn, true, false, NULL, 0, 0);
		pair_compare(&p, seed, 0, "syn");
	}
	for (size_t step = 1; step <= steps; step++)
		random_step(&p, &f, seed, step);
	tcp_stream_flush(&p.tree, &p.k_tree);
	ref_flush(&p.ref, &p.k_ref);
	pair_compare(&p, seed, steps + 1, "final flush");
	tcp_stream_release(&p.tree);
	ref_release(&p.ref);
	cr_assert_eq(p.mc_tree.used, 0, "seed %llu: memcap given back", seed);
	cr_assert_eq(p.mc_ref.used, 0);
	cr_assert_leq(p.mc_tree.peak, memcap);
}

Test(differential, random_feeds_match_the_list_model_step_by_step)
{
	ref_overhead = segment_overhead();
	for (unsigned long long seed = 1; seed <= 400; seed++)
		run_seed(seed, 300 + seed % 7 * 100, false);
}

Test(differential, long_feeds_with_thousands_of_buffered_segments_match_the_list_model)
{
	ref_overhead = segment_overhead();
	for (unsigned long long seed = 1000; seed < 1006; seed++)
		run_seed(seed, 8000, true);
}
