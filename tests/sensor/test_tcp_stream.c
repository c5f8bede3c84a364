/*
 * test_tcp_stream.c: the per-direction TCP reassembler against the contract in
 * sensor/tcp_stream.h.
 *
 * A recording sink keeps three views of what came out: the delivered bytes
 * concatenated, an event log ("d5 g10 d10": 5 bytes of data, a gap of 10, ...)
 * and an image of the stream by position (data written where it belongs, gaps
 * skipped), so a test can say exactly which bytes were delivered where. The sink
 * also fails the test if it is called again after answering STREAM_DONE.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sensor/tcp_stream.h"
#include "test_support.h"

enum { REC_CAP = 1 << 16, LOG_CAP = 1024, MAX_PIECES = 16384 };

/* TCP_STREAM_MAX_OOO_SEGMENTS in tcp_stream.c: the buffer holds no more segments than this. */
enum { OOO_SEGMENT_CAP = 4096 };

struct recorder {
	uint8_t bytes[REC_CAP]; /* data events, concatenated */
	size_t len;
	uint8_t image[REC_CAP];   /* the stream by position */
	uint8_t present[REC_CAP]; /* 1 where the image holds a delivered byte */
	uint64_t pos;             /* stream position after the last event */
	char log[LOG_CAP];
	size_t log_len;
	const uint8_t *last_data;
	size_t data_events, gap_events;
	size_t done_at;   /* answer STREAM_DONE once this many bytes were delivered (0: never) */
	bool done_on_gap; /* answer STREAM_DONE to a gap */
	bool said_done;
};

static void log_event(struct recorder *r, char kind, uint64_t n)
{
	int w = snprintf(r->log + r->log_len, LOG_CAP - r->log_len, "%s%c%llu", r->log_len ? " " : "", kind,
			 (unsigned long long)n);
	cr_assert(w > 0 && (size_t)w < LOG_CAP - r->log_len, "event log overflow");
	r->log_len += (size_t)w;
}

static enum stream_verdict rec_data(void *ctx, const uint8_t *p, size_t n)
{
	struct recorder *r = ctx;
	cr_assert(!r->said_done, "data event after the sink answered STREAM_DONE");
	cr_assert(n > 0, "a data event carries bytes");
	cr_assert_leq(r->len + n, (size_t)REC_CAP, "more bytes delivered than any test sends");
	memcpy(r->bytes + r->len, p, n);
	if (r->pos + n <= REC_CAP) {
		memcpy(r->image + r->pos, p, n);
		for (size_t i = 0; i < n; i++) {
			cr_assert(!r->present[r->pos + i], "stream position %llu delivered twice",
				  (unsigned long long)(r->pos + i));
			r->present[r->pos + i] = 1;
		}
	}
	r->len += n;
	r->pos += n;
	r->last_data = p;
	r->data_events++;
	if (r->log_len < LOG_CAP - 64)
		log_event(r, 'd', n);
	if (r->done_at && r->len >= r->done_at) {
		r->said_done = true;
		return STREAM_DONE;
	}
	return STREAM_CONTINUE;
}

static enum stream_verdict rec_gap(void *ctx, uint64_t n)
{
	struct recorder *r = ctx;
	cr_assert(!r->said_done, "gap event after the sink answered STREAM_DONE");
	cr_assert(n > 0, "a gap event covers bytes");
	r->pos += n;
	r->gap_events++;
	if (r->log_len < LOG_CAP - 64)
		log_event(r, 'g', n);
	if (r->done_on_gap) {
		r->said_done = true;
		return STREAM_DONE;
	}
	return STREAM_CONTINUE;
}

struct harness {
	struct memcap memcap;
	struct tcp_stream s;
	struct stream_sink sink;
	struct recorder *rec;
};

/*
 * One recorder per test process (Criterion runs each test in its own), static so
 * that a failed assertion, which ends the test at once, leaks nothing.
 */
static struct recorder the_recorder;
static bool recorder_in_use;

static void harness_init(struct harness *h, uint64_t depth, uint32_t max_ooo, uint64_t memcap)
{
	cr_assert(!recorder_in_use, "one harness at a time");
	recorder_in_use = true;
	memset(h, 0, sizeof *h);
	h->memcap.cap = memcap;
	h->rec = &the_recorder;
	memset(h->rec, 0, sizeof *h->rec);
	h->sink = (struct stream_sink){.data = rec_data, .gap = rec_gap, .ctx = h->rec};
	struct tcp_stream_limits limits = {.depth = depth, .max_ooo_bytes = max_ooo};
	tcp_stream_init(&h->s, &limits, &h->memcap);
}

static void harness_default(struct harness *h)
{
	harness_init(h, 0, 1 << 20, 1 << 26);
}

/* Releases the stream; whatever it buffered must be given back. */
static void harness_fini(struct harness *h)
{
	tcp_stream_release(&h->s);
	cr_assert_eq(h->memcap.used, 0, "memcap.used is %llu after release",
		     (unsigned long long)h->memcap.used);
	cr_assert_eq(h->s.ooo_bytes, 0);
	cr_assert_eq(h->s.ooo_segments, 0);
	cr_assert_null(h->s.ooo);
	recorder_in_use = false;
}

static void seg_flags(struct harness *h, uint32_t seq, bool syn, bool fin, const void *p, uint32_t len,
		      uint32_t wire_len)
{
	tcp_stream_segment(&h->s, seq, syn, fin, p, len, wire_len, &h->sink);
	cr_assert_leq(h->memcap.used, h->memcap.cap, "memcap exceeded");
	cr_assert_leq(h->s.ooo_bytes, h->s.limits.max_ooo_bytes, "out-of-order buffer over its cap");
}

static void seg(struct harness *h, uint32_t seq, const void *p, uint32_t len)
{
	seg_flags(h, seq, false, false, p, len, len);
}

static void seg_str(struct harness *h, uint32_t seq, const char *text)
{
	seg(h, seq, text, (uint32_t)strlen(text));
}

static void seg_fin_str(struct harness *h, uint32_t seq, const char *text)
{
	seg_flags(h, seq, false, true, text, (uint32_t)strlen(text), (uint32_t)strlen(text));
}

static void syn(struct harness *h, uint32_t isn)
{
	seg_flags(h, isn, true, false, NULL, 0, 0);
}

static void fin_only(struct harness *h, uint32_t seq)
{
	seg_flags(h, seq, false, true, NULL, 0, 0);
}

static void ack(struct harness *h, uint32_t a)
{
	tcp_stream_ack(&h->s, a, &h->sink);
}

static void flush(struct harness *h)
{
	tcp_stream_flush(&h->s, &h->sink);
}

static void expect_log(const struct harness *h, const char *expected)
{
	cr_assert_str_eq(h->rec->log, expected, "events were \"%s\", expected \"%s\"", h->rec->log, expected);
}

static void expect_bytes(const struct harness *h, const void *expected, size_t n)
{
	cr_assert_eq(h->rec->len, n, "delivered %zu bytes, expected %zu", h->rec->len, n);
	cr_assert(memcmp(h->rec->bytes, expected, n) == 0, "delivered bytes differ from the expected ones");
	cr_assert_eq(h->s.delivered, n);
}

static void expect_str(const struct harness *h, const char *expected)
{
	expect_bytes(h, expected, strlen(expected));
}

/* The stream image: `msg` wherever anything was delivered, delivered exactly where `want` marks. */
static void expect_image(const struct harness *h, const uint8_t *msg, const uint8_t *want, uint32_t total)
{
	for (uint32_t i = 0; i < total; i++) {
		cr_assert_eq(h->rec->present[i], want[i], "offset %u: delivered %d, expected %d", i,
			     h->rec->present[i], want[i]);
		if (want[i])
			cr_assert_eq(h->rec->image[i], msg[i], "offset %u holds the wrong byte", i);
	}
}

static void fill_random(uint8_t *p, size_t n, uint64_t *rng)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)test_rand(rng);
}

/* An initial sequence number; a third of them so close to 2^32 that the stream wraps. */
static uint32_t pick_isn(uint64_t *rng)
{
	uint64_t r = test_rand(rng);
	return r % 3 == 0 ? 0xFFFFFFFFu - (uint32_t)(test_rand(rng) % 4096) : (uint32_t)(r >> 32);
}

struct piece {
	uint32_t off, len;
};

/* A number from 1 to n. */
static uint32_t rand_upto(uint64_t *rng, uint32_t n)
{
	return 1 + (uint32_t)(test_rand(rng) % n);
}

/* Cuts [0, total) into consecutive pieces of 1..max_len bytes; returns how many. */
static size_t cut_at_random(struct piece *out, size_t cap, uint32_t total, uint32_t max_len, uint64_t *rng)
{
	size_t n = 0;
	for (uint32_t off = 0; off < total;) {
		uint32_t len = 1 + (uint32_t)(test_rand(rng) % max_len);
		if (len > total - off)
			len = total - off;
		cr_assert_lt(n, cap);
		out[n++] = (struct piece){off, len};
		off += len;
	}
	return n;
}

static void shuffle(struct piece *p, size_t n, uint64_t *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(test_rand(rng) % i);
		struct piece t = p[i - 1];
		p[i - 1] = p[j];
		p[j] = t;
	}
}

/* Feeds msg[piece] after a SYN at isn, with the FIN on the piece that ends the message when `fin`. */
static void feed_piece(struct harness *h, uint32_t isn, const uint8_t *msg, uint32_t total, struct piece pc,
		       bool fin)
{
	seg_flags(h, isn + 1 + pc.off, false, fin && pc.off + pc.len == total, msg + pc.off, pc.len, pc.len);
}

/* ---- in order ---- */

Test(in_order, segments_are_delivered_once_each_in_the_order_sent)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 1000);
	seg_str(&h, 1001, "hello");
	seg_str(&h, 1006, " tls ");
	seg_str(&h, 1011, "world");
	expect_log(&h, "d5 d5 d5");
	expect_str(&h, "hello tls world");
	cr_assert_eq(h.s.gaps, 0);
	cr_assert_eq(h.s.retransmitted_bytes, 0);
	cr_assert_eq(h.memcap.peak, 0, "in-order data needs no buffering");
	harness_fini(&h);
}

Test(in_order, payload_is_handed_to_the_sink_without_copying)
{
	uint8_t payload[300];
	uint64_t rng = 7;
	fill_random(payload, sizeof payload, &rng);
	struct harness h;
	harness_default(&h);
	syn(&h, 1000);
	seg(&h, 1001, payload, sizeof payload);
	cr_assert_eq(h.rec->data_events, 1);
	cr_assert_eq(h.rec->last_data, payload, "the sink sees the captured bytes themselves");
	expect_bytes(&h, payload, sizeof payload);
	harness_fini(&h);
}

Test(in_order, syn_consumes_one_sequence_number)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 1000);
	cr_assert(h.s.synced);
	seg_str(&h, 1001, "hello");
	expect_log(&h, "d5");
	expect_str(&h, "hello");
	harness_fini(&h);
}

Test(in_order, the_byte_at_the_syn_sequence_number_is_not_payload)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 1000);
	seg_str(&h, 1000, "Xhello");
	expect_str(&h, "hello");
	cr_assert_eq(h.s.retransmitted_bytes, 1);
	harness_fini(&h);
}

Test(in_order, syn_with_payload_delivers_it_after_the_syn_sequence_number)
{
	struct harness h;
	harness_default(&h);
	seg_flags(&h, 1000, true, false, "abc", 3, 3);
	seg_str(&h, 1004, "def");
	expect_log(&h, "d3 d3");
	expect_str(&h, "abcdef");
	harness_fini(&h);
}

Test(in_order, retransmitted_syn_with_payload_is_not_delivered_again)
{
	struct harness h;
	harness_default(&h);
	seg_flags(&h, 1000, true, false, "abc", 3, 3);
	seg_flags(&h, 1000, true, false, "abc", 3, 3);
	seg_str(&h, 1004, "def");
	expect_str(&h, "abcdef");
	cr_assert_eq(h.s.retransmitted_bytes, 3);
	harness_fini(&h);
}

/* ---- midstream pickup ---- */

Test(midstream, first_data_segment_syncs_the_stream)
{
	struct harness h;
	harness_default(&h);
	seg_str(&h, 5000, "hello");
	cr_assert(h.s.synced);
	seg_str(&h, 5005, "world");
	expect_log(&h, "d5 d5");
	expect_str(&h, "helloworld");
	harness_fini(&h);
}

Test(midstream, pure_ack_does_not_sync_the_stream)
{
	struct harness h;
	harness_default(&h);
	seg_flags(&h, 7000, false, false, NULL, 0, 0);
	ack(&h, 123456);
	cr_assert(!h.s.synced);
	/* Had the pure ACK synced at 7000, this would sit behind a 2000-byte hole. */
	seg_str(&h, 9000, "hello");
	expect_log(&h, "d5");
	harness_fini(&h);
}

Test(midstream, bytes_before_the_pickup_point_are_never_delivered)
{
	struct harness h;
	harness_default(&h);
	seg_str(&h, 5000, "hello");
	seg_str(&h, 4990, "0123456789");
	seg_str(&h, 4995, "01234hello!");
	expect_str(&h, "hello!");
	cr_assert_eq(h.s.retransmitted_bytes, 20);
	harness_fini(&h);
}

Test(midstream, segment_cut_to_no_payload_syncs_and_leaves_a_hole)
{
	struct harness h;
	harness_default(&h);
	seg_flags(&h, 5000, false, false, NULL, 0, 10);
	cr_assert(h.s.synced);
	seg_str(&h, 5010, "hello");
	expect_log(&h, "");
	ack(&h, 5015);
	expect_log(&h, "g10 d5");
	harness_fini(&h);
}

Test(midstream, fin_alone_syncs_and_finishes_the_stream)
{
	struct harness h;
	harness_default(&h);
	fin_only(&h, 5000);
	cr_assert(h.s.synced);
	cr_assert(tcp_stream_finished(&h.s));
	flush(&h);
	expect_log(&h, "");
	harness_fini(&h);
}

/* ---- out of order ---- */

Test(out_of_order, segments_in_reverse_order_are_delivered_in_sequence)
{
	uint8_t msg[100];
	uint64_t rng = 11;
	fill_random(msg, sizeof msg, &rng);
	struct harness h;
	harness_default(&h);
	syn(&h, 1000);
	for (int i = 9; i >= 1; i--) {
		seg(&h, 1001 + 10 * (uint32_t)i, msg + 10 * i, 10);
		expect_log(&h, "");
	}
	cr_assert_eq(h.s.ooo_segments, 9);
	cr_assert_eq(h.s.ooo_bytes, 90);
	cr_assert_gt(h.memcap.used, 90);
	seg(&h, 1001, msg, 10);
	expect_log(&h, "d10 d10 d10 d10 d10 d10 d10 d10 d10 d10");
	expect_bytes(&h, msg, sizeof msg);
	cr_assert_eq(h.s.ooo_segments, 0);
	cr_assert_eq(h.memcap.used, 0, "delivered segments give their memory back");
	cr_assert_eq(h.s.gaps, 0);
	harness_fini(&h);
}

Test(out_of_order, random_permutations_of_random_pieces_reassemble_exactly)
{
	static struct piece pieces[MAX_PIECES];
	static uint8_t msg[4000];
	for (unsigned long long seed = 1; seed <= 300; seed++) {
		uint64_t rng = seed;
		uint32_t total = rand_upto(&rng, sizeof msg);
		uint32_t max_len = rand_upto(&rng, 300);
		uint32_t isn = pick_isn(&rng);
		fill_random(msg, total, &rng);
		size_t n = cut_at_random(pieces, MAX_PIECES, total, max_len, &rng);
		shuffle(pieces, n, &rng);
		struct harness h;
		harness_default(&h);
		syn(&h, isn);
		for (size_t i = 0; i < n; i++)
			feed_piece(&h, isn, msg, total, pieces[i], false);
		cr_assert_eq(h.rec->len, total, "seed %llu: %zu of %u bytes", seed, h.rec->len,
			     total);
		cr_assert(memcmp(h.rec->bytes, msg, total) == 0, "seed %llu: bytes differ", seed);
		cr_assert_eq(h.s.gaps, 0);
		cr_assert_eq(h.s.retransmitted_bytes, 0);
		cr_assert_eq(h.s.overlap_conflicts, 0);
		cr_assert_eq(h.s.ooo_segments, 0);
		cr_assert_eq(h.memcap.used, 0);
		cr_assert_eq(h.s.next_seq, isn + 1 + total);
		harness_fini(&h);
	}
}

/* ---- retransmissions and overlaps ---- */

Test(overlap, exact_retransmission_is_delivered_once)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 100);
	seg_str(&h, 101, "hello");
	seg_str(&h, 101, "hello");
	expect_log(&h, "d5");
	cr_assert_eq(h.s.retransmitted_bytes, 5);
	cr_assert_eq(h.s.overlap_conflicts, 0);
	harness_fini(&h);
}

Test(overlap, partial_retransmission_delivers_only_the_new_tail)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 100);
	seg_str(&h, 101, "hello");
	seg_str(&h, 103, "llo world");
	expect_log(&h, "d5 d6");
	expect_str(&h, "hello world");
	cr_assert_eq(h.s.retransmitted_bytes, 3);
	harness_fini(&h);
}

Test(overlap, conflicting_retransmission_never_replaces_delivered_bytes)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 100);
	seg_str(&h, 101, "hello");
	seg_str(&h, 101, "HELLO, world");
	expect_str(&h, "hello, world");
	/* Every old byte is accounted for once, as a retransmission or as a conflict. */
	cr_assert_eq(h.s.retransmitted_bytes + h.s.overlap_conflicts, 5);
	harness_fini(&h);
}

Test(overlap, first_buffered_segment_wins_over_a_later_conflicting_one)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 11, "AAAAAAAAAA");
	seg_str(&h, 16, "BBBBBBBBBB");
	cr_assert_eq(h.s.overlap_conflicts, 5);
	seg_str(&h, 1, "0123456789");
	expect_str(&h, "0123456789AAAAAAAAAABBBBB");
	cr_assert_eq(h.s.overlap_conflicts, 5);
	cr_assert_eq(h.s.retransmitted_bytes, 0);
	cr_assert_eq(h.memcap.used, 0);
	harness_fini(&h);
}

Test(overlap, first_buffered_segment_wins_even_when_the_later_one_starts_before_it)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 16, "BBBBBBBBBB");
	seg_str(&h, 11, "AAAAAAAAAA");
	cr_assert_eq(h.s.overlap_conflicts, 5);
	seg_str(&h, 1, "0123456789");
	expect_str(&h, "0123456789AAAAABBBBBBBBBB");
	harness_fini(&h);
}

Test(overlap, identical_overlap_counts_as_retransmission_not_conflict)
{
	const char *msg = "0123456789abcdefghijklmnopqrstuvwxyz";
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg(&h, 11, msg + 10, 10);
	seg(&h, 16, msg + 15, 10);
	cr_assert_eq(h.s.overlap_conflicts, 0);
	cr_assert_eq(h.s.retransmitted_bytes, 5);
	seg(&h, 1, msg, 10);
	expect_bytes(&h, msg, 25);
	harness_fini(&h);
}

Test(overlap, segment_spanning_several_buffered_ones_fills_only_the_holes_between)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 11, "aaaaa");
	seg_str(&h, 21, "bbbbb");
	seg_str(&h, 31, "ccccc");
	seg_str(&h, 13, "XXXXXXXXXXXXXXXXXXXXX"); /* [13, 34) */
	cr_assert_eq(h.s.overlap_conflicts, 3 + 5 + 3);
	cr_assert_eq(h.s.ooo_bytes, 25);
	expect_log(&h, "");
	seg_str(&h, 1, "0123456789");
	expect_str(&h, "0123456789aaaaaXXXXXbbbbbXXXXXccccc");
	cr_assert_eq(h.memcap.used, 0);
	harness_fini(&h);
}

Test(overlap, segment_covering_every_buffered_one_keeps_theirs_and_fills_around_them)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 11, "aaaaa");
	seg_str(&h, 21, "bbbbb");
	seg_str(&h, 31, "ccccc");
	seg_str(&h, 6, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"); /* [6, 41) */
	cr_assert_eq(h.s.overlap_conflicts, 15);
	seg_str(&h, 1, "01234");
	expect_str(&h, "01234XXXXXaaaaaXXXXXbbbbbXXXXXcccccXXXXX");
	harness_fini(&h);
}

Test(overlap, in_order_segment_does_not_overwrite_bytes_buffered_before_it)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 11, "AAAAA");
	seg_str(&h, 1, "0123456789XXXXX");
	expect_str(&h, "0123456789AAAAA");
	cr_assert_eq(h.s.overlap_conflicts, 5);
	cr_assert_eq(h.memcap.used, 0);
	harness_fini(&h);
}

Test(overlap, in_order_segment_over_buffered_ones_with_holes_keeps_theirs_and_fills_the_rest)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 11, "aaaaa");
	seg_str(&h, 21, "bbbbb");
	seg_str(&h, 1, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"); /* [1, 31) */
	expect_str(&h, "XXXXXXXXXXaaaaaXXXXXbbbbbXXXXX");
	cr_assert_eq(h.s.overlap_conflicts, 10);
	cr_assert_eq(h.s.ooo_segments, 0);
	cr_assert_eq(h.memcap.used, 0);
	seg_str(&h, 31, "tail");
	expect_str(&h, "XXXXXXXXXXaaaaaXXXXXbbbbbXXXXXtail");
	harness_fini(&h);
}

Test(overlap, in_order_segment_matching_buffered_bytes_counts_them_as_retransmitted)
{
	const char *msg = "0123456789abcdefghijklmnopqrstuvwxyz";
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg(&h, 11, msg + 10, 5);
	seg(&h, 21, msg + 20, 5);
	seg(&h, 1, msg, 30);
	expect_bytes(&h, msg, 30);
	cr_assert_eq(h.s.overlap_conflicts, 0);
	cr_assert_eq(h.s.retransmitted_bytes, 10);
	harness_fini(&h);
}

/* ---- sequence wrap ---- */

Test(wrap, message_crossing_two_to_the_32_is_delivered_in_order)
{
	uint8_t msg[64];
	uint64_t rng = 3;
	fill_random(msg, sizeof msg, &rng);
	struct harness h;
	harness_default(&h);
	uint32_t isn = 0xFFFFFFF0u;
	syn(&h, isn);
	for (uint32_t off = 0; off < sizeof msg; off += 8)
		seg(&h, isn + 1 + off, msg + off, 8);
	expect_bytes(&h, msg, sizeof msg);
	cr_assert_eq(h.s.next_seq, 0x31u, "next_seq wrapped past zero");
	cr_assert_eq(h.s.ooo_segments, 0);
	harness_fini(&h);
}

Test(wrap, message_crossing_two_to_the_32_is_reassembled_out_of_order)
{
	static struct piece pieces[256];
	uint8_t msg[200];
	for (unsigned long long seed = 1; seed <= 200; seed++) {
		uint64_t rng = seed * 7919;
		fill_random(msg, sizeof msg, &rng);
		/* ISN from 2^32 - 200 to 2^32 - 1: the wrap falls somewhere inside the message. */
		uint32_t isn = 0xFFFFFFFFu - (uint32_t)(seed - 1);
		size_t n = cut_at_random(pieces, 256, sizeof msg, 1 + (uint32_t)(seed % 40), &rng);
		if (seed % 2)
			shuffle(pieces, n, &rng);
		else
			for (size_t i = 0; i < n / 2; i++) {
				struct piece t = pieces[i];
				pieces[i] = pieces[n - 1 - i];
				pieces[n - 1 - i] = t;
			}
		struct harness h;
		harness_default(&h);
		syn(&h, isn);
		for (size_t i = 0; i < n; i++)
			feed_piece(&h, isn, msg, sizeof msg, pieces[i], true);
		expect_bytes(&h, msg, sizeof msg);
		cr_assert(tcp_stream_finished(&h.s));
		cr_assert_eq(h.s.gaps, 0);
		cr_assert_eq(h.memcap.used, 0);
		harness_fini(&h);
	}
}

Test(wrap, hole_across_two_to_the_32_is_given_up_on_ack)
{
	uint8_t msg[32];
	uint64_t rng = 5;
	fill_random(msg, sizeof msg, &rng);
	struct harness h;
	harness_default(&h);
	uint32_t isn = 0xFFFFFFF0u; /* offset 15 is sequence number 0 */
	syn(&h, isn);
	seg(&h, isn + 1, msg, 8);
	seg(&h, isn + 1 + 24, msg + 24, 8);
	expect_log(&h, "d8");
	ack(&h, isn + 1 + 32);
	expect_log(&h, "d8 g16 d8");
	cr_assert_eq(h.s.gap_bytes, 16);
	/* Across the wrap, the lost bytes arriving late are old, not 4 GB ahead. */
	seg(&h, isn + 1 + 8, msg + 8, 16);
	expect_log(&h, "d8 g16 d8");
	cr_assert_eq(h.s.retransmitted_bytes, 16);
	cr_assert_eq(h.s.out_of_window, 0);
	harness_fini(&h);
}

/* ---- gaps ---- */

Test(gaps, ack_past_a_visible_hole_gives_it_up_and_delivers_what_follows)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "abcdefghij");
	expect_log(&h, "d10");
	ack(&h, 31);
	expect_log(&h, "d10 g10 d10");
	cr_assert_eq(h.s.gaps, 1);
	cr_assert_eq(h.s.gap_bytes, 10);
	cr_assert_eq(h.rec->pos, 30);
	cr_assert(memcmp(h.rec->image + 20, "abcdefghij", 10) == 0, "data after the gap sits at its offset");
	cr_assert_eq(h.memcap.used, 0);
	/* The lost segment showing up after all is old news. */
	seg_str(&h, 11, "KLMNOPQRST");
	expect_log(&h, "d10 g10 d10");
	harness_fini(&h);
}

Test(gaps, ack_with_nothing_buffered_beyond_declares_no_gap)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	/* A span port may show the ACK before the segment it acknowledges. */
	ack(&h, 21);
	expect_log(&h, "d10");
	seg_str(&h, 11, "abcdefghij");
	expect_log(&h, "d10 d10");
	cr_assert_eq(h.s.gaps, 0);
	harness_fini(&h);
}

Test(gaps, ack_inside_a_hole_waits_for_the_missing_bytes)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "ABCDEFGHIJ");
	ack(&h, 15);
	ack(&h, 20);
	expect_log(&h, "d10");
	seg_str(&h, 11, "abcdefghij");
	expect_log(&h, "d10 d10 d10");
	expect_str(&h, "0123456789abcdefghijABCDEFGHIJ");
	cr_assert_eq(h.s.gaps, 0);
	harness_fini(&h);
}

Test(gaps, ack_reaching_the_start_of_buffered_data_gives_up_the_hole)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "ABCDEFGHIJ");
	ack(&h, 21);
	expect_log(&h, "d10 g10 d10");
	harness_fini(&h);
}

Test(gaps, ack_gives_up_only_the_holes_it_passes)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "ABCDEFGHIJ");
	seg_str(&h, 41, "abcdefghij");
	ack(&h, 35);
	expect_log(&h, "d10 g10 d10");
	cr_assert_eq(h.s.ooo_segments, 1);
	seg_str(&h, 31, "KLMNOPQRST");
	expect_log(&h, "d10 g10 d10 d10 d10");
	cr_assert_eq(h.s.gaps, 1);
	harness_fini(&h);
}

Test(gaps, ack_past_every_hole_gives_them_all_up)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "ABCDEFGHIJ");
	seg_str(&h, 41, "abcdefghij");
	ack(&h, 51);
	expect_log(&h, "d10 g10 d10 g10 d10");
	cr_assert_eq(h.s.gap_bytes, 20);
	cr_assert_eq(h.memcap.used, 0);
	harness_fini(&h);
}

Test(gaps, ack_of_the_fin_gives_up_holes_before_it)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_fin_str(&h, 21, "ABCDEFGHIJ");
	ack(&h, 32); /* acknowledges the FIN too */
	expect_log(&h, "d10 g10 d10");
	cr_assert(tcp_stream_finished(&h.s));
	harness_fini(&h);
}

Test(gaps, ack_of_the_fin_does_not_give_up_holes_before_data_claimed_after_it)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	fin_only(&h, 21);
	seg_str(&h, 22, "zz"); /* beyond the FIN: not part of the stream */
	ack(&h, 22);
	expect_log(&h, "d10");
	cr_assert_eq(h.s.gaps, 0);
	harness_fini(&h);
}

Test(gaps, flush_reports_holes_and_the_missing_bytes_before_the_fin)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "ABCDEFGHIJ");
	fin_only(&h, 41);
	expect_log(&h, "d10");
	cr_assert(!tcp_stream_finished(&h.s));
	flush(&h);
	expect_log(&h, "d10 g10 d10 g10");
	cr_assert(tcp_stream_finished(&h.s));
	cr_assert_eq(h.s.gaps, 2);
	cr_assert_eq(h.s.gap_bytes, 20);
	cr_assert_eq(h.rec->pos, 40);
	cr_assert_eq(h.memcap.used, 0);
	flush(&h);
	expect_log(&h, "d10 g10 d10 g10");
	harness_fini(&h);
}

Test(gaps, flush_without_fin_reports_only_holes_between_buffered_data)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "ABCDEFGHIJ");
	flush(&h);
	expect_log(&h, "d10 g10 d10");
	cr_assert(!tcp_stream_finished(&h.s));
	harness_fini(&h);
}

Test(gaps, snaplen_cut_segment_leaves_a_gap_of_its_missing_tail)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_flags(&h, 1, false, false, "012345", 6, 10);
	seg_str(&h, 11, "abcdefghij");
	expect_log(&h, "d6");
	ack(&h, 21);
	expect_log(&h, "d6 g4 d10");
	cr_assert(memcmp(h.rec->image + 10, "abcdefghij", 10) == 0);
	harness_fini(&h);
}

Test(gaps, snaplen_cut_last_segment_is_reported_at_flush)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_flags(&h, 1, false, true, "012345", 6, 10);
	expect_log(&h, "d6");
	cr_assert(!tcp_stream_finished(&h.s));
	flush(&h);
	expect_log(&h, "d6 g4");
	cr_assert(tcp_stream_finished(&h.s));
	harness_fini(&h);
}

Test(gaps, snaplen_cut_out_of_order_segment_leaves_a_hole_after_it)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_flags(&h, 21, false, false, "ABC", 3, 10);
	seg_str(&h, 31, "abcdefghij");
	ack(&h, 41);
	expect_log(&h, "d10 g10 d3 g7 d10");
	harness_fini(&h);
}

/* ---- out-of-order cap ---- */

Test(ooo_cap, overflow_gives_up_the_oldest_hole_and_delivers_the_data_after_it)
{
	struct harness h;
	harness_init(&h, 0, 16, 1 << 20);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "ABCDEFGHIJ");
	seg_str(&h, 41, "abcdefghij");
	expect_log(&h, "d10 g10 d10");
	cr_assert_eq(h.s.ooo_cap_hits, 1);
	cr_assert_eq(h.s.ooo_bytes, 10, "the newest segment is buffered behind the next hole");
	seg_str(&h, 31, "KLMNOPQRST");
	expect_log(&h, "d10 g10 d10 d10 d10");
	cr_assert(memcmp(h.rec->image + 20, "ABCDEFGHIJKLMNOPQRSTabcdefghij", 30) == 0);
	cr_assert_eq(h.s.gaps, 1);
	harness_fini(&h);
}

Test(ooo_cap, segment_filling_the_oldest_hole_survives_an_overflow)
{
	struct harness h;
	harness_init(&h, 0, 15, 1 << 20);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 31, "abcdefghij");
	/* Lies in the oldest hole: giving up that hole must not throw these bytes away. */
	seg_str(&h, 21, "ABCDEFGHIJ");
	expect_log(&h, "d10 g10 d10 d10");
	cr_assert(memcmp(h.rec->image + 20, "ABCDEFGHIJabcdefghij", 20) == 0);
	cr_assert_eq(h.s.ooo_cap_hits, 1);
	cr_assert_eq(h.s.gap_bytes, 10);
	cr_assert_eq(h.memcap.used, 0);
	harness_fini(&h);
}

Test(ooo_cap, retransmitting_buffered_data_does_not_overflow_the_cap)
{
	struct harness h;
	harness_init(&h, 0, 16, 1 << 20);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "ABCDEFGHIJ");
	seg_str(&h, 21, "ABCDEFGHIJ");
	seg_str(&h, 25, "EFGHIJ");
	cr_assert_eq(h.s.ooo_cap_hits, 0, "a retransmission adds nothing to the buffer");
	cr_assert_eq(h.s.retransmitted_bytes, 16);
	seg_str(&h, 11, "abcdefghij");
	expect_log(&h, "d10 d10 d10");
	cr_assert_eq(h.s.gaps, 0);
	harness_fini(&h);
}

Test(ooo_cap, segment_larger_than_the_cap_is_delivered_after_giving_up_the_hole_before_it)
{
	struct harness h;
	harness_init(&h, 0, 8, 1 << 20);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "abcdefghijklmnopqrst");
	expect_log(&h, "d10 g10 d20");
	cr_assert_eq(h.s.ooo_cap_hits, 1);
	cr_assert_eq(h.memcap.peak, 0, "nothing was buffered");
	seg_str(&h, 41, "more");
	expect_log(&h, "d10 g10 d20 d4");
	harness_fini(&h);
}

Test(ooo_cap, segment_larger_than_the_cap_first_releases_what_is_buffered)
{
	struct harness h;
	harness_init(&h, 0, 8, 1 << 20);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "ABCDE");
	seg_str(&h, 31, "abcdefghijklmnopqrst");
	expect_log(&h, "d10 g10 d5 g5 d20");
	cr_assert_eq(h.s.ooo_cap_hits, 2);
	cr_assert_eq(h.memcap.used, 0);
	harness_fini(&h);
}

Test(ooo_cap, zero_cap_buffers_nothing_and_skips_every_hole)
{
	struct harness h;
	harness_init(&h, 0, 0, 1 << 20);
	syn(&h, 0);
	seg_str(&h, 11, "abc");
	seg_str(&h, 1, "0123456789");
	expect_log(&h, "g10 d3");
	cr_assert_eq(h.memcap.peak, 0);
	harness_fini(&h);
}

Test(ooo_cap, buffer_stays_within_its_cap_and_every_byte_is_accounted_for)
{
	static struct piece pieces[MAX_PIECES];
	static uint8_t msg[3000];
	for (unsigned long long seed = 1; seed <= 200; seed++) {
		uint64_t rng = seed * 104729;
		uint32_t total = rand_upto(&rng, sizeof msg);
		uint32_t cap = (uint32_t)(test_rand(&rng) % 600);
		uint32_t isn = pick_isn(&rng);
		fill_random(msg, total, &rng);
		size_t n = cut_at_random(pieces, MAX_PIECES, total, rand_upto(&rng, 100), &rng);
		shuffle(pieces, n, &rng);
		struct harness h;
		harness_init(&h, 0, cap, 1 << 20);
		syn(&h, isn);
		for (size_t i = 0; i < n; i++)
			feed_piece(&h, isn, msg, total, pieces[i], true); /* seg_flags checks the cap */
		flush(&h);
		cr_assert(tcp_stream_finished(&h.s), "seed %llu", seed);
		cr_assert_eq(h.rec->pos, total);
		cr_assert_eq(h.s.delivered + h.s.gap_bytes, total);
		for (uint32_t i = 0; i < total; i++)
			if (h.rec->present[i])
				cr_assert_eq(h.rec->image[i], msg[i], "seed %llu offset %u", seed,
					     i);
		if (h.s.ooo_cap_hits == 0)
			cr_assert_eq(h.s.gaps, 0, "no loss, so only the cap may cause gaps");
		cr_assert_eq(h.memcap.used, 0);
		harness_fini(&h);
	}
}

Test(ooo_cap, the_number_of_buffered_segments_is_capped_too)
{
	static uint8_t one[1] = {'x'};
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	uint32_t sent = OOO_SEGMENT_CAP + 1000, most = 0;
	for (uint32_t i = 1; i <= sent; i++) {
		seg(&h, 1 + 2 * i, one, 1); /* each behind a one-byte hole */
		if (h.s.ooo_segments > most)
			most = h.s.ooo_segments;
	}
	cr_assert_leq(most, OOO_SEGMENT_CAP);
	cr_assert_eq(h.s.ooo_cap_hits, sent - most);
	cr_assert_eq(h.s.delivered, h.s.ooo_cap_hits, "each hole given up delivers the byte behind it");
	cr_assert_eq(h.s.delivered + h.s.ooo_segments, sent);
	harness_fini(&h);
}

/* ---- depth ---- */

Test(depth, delivery_stops_exactly_at_the_depth)
{
	struct harness h;
	harness_init(&h, 12, 1 << 20, 1 << 20);
	syn(&h, 0);
	seg_str(&h, 1, "hello");
	seg_str(&h, 6, "world");
	cr_assert(!h.s.depth_reached);
	seg_str(&h, 11, "again");
	expect_log(&h, "d5 d5 d2");
	expect_str(&h, "helloworldag");
	cr_assert(h.s.depth_reached);
	cr_assert(h.s.done);
	cr_assert(tcp_stream_finished(&h.s));
	seg_str(&h, 16, "later");
	seg_str(&h, 31, "far ahead");
	ack(&h, 100);
	flush(&h);
	expect_log(&h, "d5 d5 d2");
	cr_assert_eq(h.s.ooo_segments, 0, "nothing is buffered past the depth");
	cr_assert_eq(h.memcap.peak, 0);
	harness_fini(&h);
}

Test(depth, reaching_the_depth_at_a_segment_boundary_ends_the_stream)
{
	struct harness h;
	harness_init(&h, 10, 1 << 20, 1 << 20);
	syn(&h, 0);
	seg_str(&h, 1, "hello");
	seg_str(&h, 6, "world");
	cr_assert(h.s.depth_reached);
	cr_assert(h.s.done);
	seg_str(&h, 11, "again");
	expect_log(&h, "d5 d5");
	harness_fini(&h);
}

Test(depth, reaching_the_depth_while_draining_frees_the_rest)
{
	struct harness h;
	harness_init(&h, 25, 1 << 20, 1 << 20);
	syn(&h, 0);
	seg_str(&h, 11, "ABCDEFGHIJ");
	seg_str(&h, 21, "KLMNOPQRST");
	seg_str(&h, 41, "abcdefghij");
	cr_assert_gt(h.memcap.used, 0);
	seg_str(&h, 1, "0123456789");
	expect_log(&h, "d10 d10 d5");
	cr_assert(h.s.depth_reached);
	cr_assert_eq(h.s.ooo_segments, 0);
	cr_assert_eq(h.s.ooo_bytes, 0);
	cr_assert_eq(h.memcap.used, 0);
	harness_fini(&h);
}

Test(depth, gaps_do_not_count_towards_the_depth)
{
	struct harness h;
	harness_init(&h, 15, 1 << 20, 1 << 20);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "ABCDEFGHIJ");
	ack(&h, 31);
	expect_log(&h, "d10 g10 d5");
	cr_assert_eq(h.s.delivered, 15);
	cr_assert(h.s.depth_reached);
	harness_fini(&h);
}

Test(depth, zero_depth_means_no_limit)
{
	static uint8_t msg[60000];
	uint64_t rng = 9;
	fill_random(msg, sizeof msg, &rng);
	struct harness h;
	harness_init(&h, 0, 1 << 20, 1 << 20);
	syn(&h, 0);
	for (uint32_t off = 0; off < sizeof msg; off += 1500)
		seg(&h, 1 + off, msg + off, 1500);
	expect_bytes(&h, msg, sizeof msg);
	cr_assert(!h.s.depth_reached);
	cr_assert(!h.s.done);
	harness_fini(&h);
}

/* ---- the sink says it is done ---- */

Test(sink_done, data_answered_done_stops_delivery_and_frees_buffers)
{
	struct harness h;
	harness_default(&h);
	h.rec->done_at = 10;
	syn(&h, 0);
	seg_str(&h, 11, "ABCDEFGHIJ");
	seg_str(&h, 31, "abcdefghij");
	cr_assert_gt(h.memcap.used, 0);
	seg_str(&h, 1, "0123456789"); /* the recorder fails the test on any event after this */
	expect_log(&h, "d10");
	cr_assert(h.s.done);
	cr_assert(!h.s.depth_reached);
	cr_assert_eq(h.s.ooo_segments, 0);
	cr_assert_eq(h.memcap.used, 0);
	seg_str(&h, 21, "KLMNOPQRST");
	seg_str(&h, 51, "later");
	ack(&h, 100);
	flush(&h);
	expect_log(&h, "d10");
	cr_assert_eq(h.memcap.used, 0);
	cr_assert(tcp_stream_finished(&h.s));
	harness_fini(&h);
}

Test(sink_done, done_in_the_middle_of_a_drain_frees_the_rest)
{
	struct harness h;
	harness_default(&h);
	h.rec->done_at = 20;
	syn(&h, 0);
	seg_str(&h, 11, "ABCDEFGHIJ");
	seg_str(&h, 21, "KLMNOPQRST");
	seg_str(&h, 41, "abcdefghij");
	seg_str(&h, 1, "0123456789");
	expect_log(&h, "d10 d10");
	cr_assert(h.s.done);
	cr_assert_eq(h.s.ooo_segments, 0);
	cr_assert_eq(h.memcap.used, 0);
	harness_fini(&h);
}

Test(sink_done, gap_answered_done_stops_everything)
{
	struct harness h;
	harness_default(&h);
	h.rec->done_on_gap = true;
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "ABCDEFGHIJ");
	seg_str(&h, 41, "abcdefghij");
	ack(&h, 100);
	expect_log(&h, "d10 g10");
	cr_assert(h.s.done);
	cr_assert_eq(h.memcap.used, 0);
	flush(&h);
	expect_log(&h, "d10 g10");
	harness_fini(&h);
}

/* ---- memcap ---- */

Test(memcap, tiny_memcap_refuses_buffering_without_losing_in_order_data)
{
	struct harness h;
	harness_init(&h, 0, 1 << 20, 1);
	syn(&h, 0);
	seg_str(&h, 1, "0123456789");
	seg_str(&h, 21, "ABCDEFGHIJ");
	cr_assert_eq(h.s.memcap_drops, 1);
	cr_assert_eq(h.memcap.refused, 1);
	cr_assert_eq(h.memcap.used, 0);
	cr_assert_eq(h.s.ooo_segments, 0);
	seg_str(&h, 11, "abcdefghij");
	expect_log(&h, "d10 d10");
	seg_fin_str(&h, 31, "KLMNOPQRST"); /* behind the hole the dropped segment left */
	cr_assert_eq(h.s.memcap_drops, 2);
	flush(&h);
	expect_log(&h, "d10 d10 g20");
	cr_assert(tcp_stream_finished(&h.s));
	harness_fini(&h);
}

Test(memcap, memcap_that_fits_some_segments_buffers_them_and_drops_the_rest)
{
	uint8_t msg[500];
	uint64_t rng = 13;
	fill_random(msg, sizeof msg, &rng);
	struct harness h;
	harness_init(&h, 0, 1 << 20, 300);
	syn(&h, 0);
	for (uint32_t k = 0; k < 25; k++) /* [10, 20), [30, 40), ... each behind a hole */
		seg(&h, 1 + 20 * k + 10, msg + 20 * k + 10, 10);
	cr_assert_gt(h.s.memcap_drops, 0);
	cr_assert_gt(h.s.ooo_segments, 0);
	cr_assert_eq(h.s.memcap_drops + h.s.ooo_segments, 25);
	cr_assert_leq(h.memcap.peak, 300);
	uint32_t kept = h.s.ooo_segments;
	for (uint32_t k = 0; k < 25; k++) /* fill the holes: the kept segments flow behind them */
		seg(&h, 1 + 20 * k, msg + 20 * k, 10);
	/* In order up to the hole the first dropped segment left. */
	cr_assert_eq(h.rec->len, 20 * kept + 10);
	cr_assert(memcmp(h.rec->bytes, msg, h.rec->len) == 0);
	cr_assert_leq(h.memcap.peak, 300);
	fin_only(&h, 501);
	flush(&h);
	cr_assert_eq(h.memcap.used, 0);
	cr_assert_eq(h.rec->pos, 500);
	cr_assert_eq(h.s.delivered + h.s.gap_bytes, 500);
	harness_fini(&h);
}

Test(memcap, shared_memcap_returns_to_zero_after_both_streams_are_released)
{
	struct memcap shared = {.cap = 1 << 20};
	struct harness h; /* only for its recorder */
	harness_default(&h);
	struct recorder *rec = h.rec;
	struct stream_sink sink = {.data = rec_data, .gap = rec_gap, .ctx = rec};
	struct tcp_stream_limits limits = {.depth = 0, .max_ooo_bytes = 1 << 20};
	struct tcp_stream a, b;
	tcp_stream_init(&a, &limits, &shared);
	tcp_stream_init(&b, &limits, &shared);
	tcp_stream_segment(&a, 0, true, false, NULL, 0, 0, &sink);
	tcp_stream_segment(&b, 500, true, false, NULL, 0, 0, &sink);
	tcp_stream_segment(&a, 21, false, false, (const uint8_t *)"ABCDEFGHIJ", 10, 10, &sink);
	tcp_stream_segment(&a, 41, false, false, (const uint8_t *)"abcdefghij", 10, 10, &sink);
	uint64_t after_a = shared.used;
	tcp_stream_segment(&b, 521, false, false, (const uint8_t *)"ABCDEFGHIJ", 10, 10, &sink);
	cr_assert_gt(after_a, 20);
	cr_assert_gt(shared.used, after_a);
	tcp_stream_release(&a);
	cr_assert_eq(shared.used, shared.peak - after_a, "releasing one stream gives back its share only");
	tcp_stream_release(&b);
	cr_assert_eq(shared.used, 0);
	cr_assert_eq(rec->len, 0);
	harness_fini(&h);
}

Test(memcap, released_stream_can_be_initialised_and_used_again)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 21, "ABCDEFGHIJ");
	tcp_stream_release(&h.s);
	cr_assert_eq(h.memcap.used, 0);
	struct tcp_stream_limits limits = h.s.limits;
	tcp_stream_init(&h.s, &limits, &h.memcap);
	syn(&h, 100);
	seg_str(&h, 111, "world");
	seg_str(&h, 101, "hello12345");
	expect_str(&h, "hello12345world");
	harness_fini(&h);
}

/* ---- window ---- */

Test(window, segment_more_than_the_window_ahead_is_dropped_and_counted)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1 + TCP_STREAM_MAX_WINDOW + 1, "bogus");
	cr_assert_eq(h.s.out_of_window, 1);
	cr_assert_eq(h.s.ooo_segments, 0);
	cr_assert_eq(h.memcap.peak, 0);
	ack(&h, 1 + TCP_STREAM_MAX_WINDOW + 10);
	flush(&h);
	expect_log(&h, "");
	seg_str(&h, 1, "hello");
	expect_log(&h, "d5");
	harness_fini(&h);
}

Test(window, segment_at_the_edge_of_the_window_is_buffered)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1 + TCP_STREAM_MAX_WINDOW, "edge");
	cr_assert_eq(h.s.out_of_window, 0);
	cr_assert_eq(h.s.ooo_bytes, 4);
	harness_fini(&h);
}

/* ---- FIN ---- */

Test(fin, stream_is_finished_once_every_byte_up_to_the_fin_is_delivered)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	cr_assert(!tcp_stream_finished(&h.s));
	seg_str(&h, 1, "hello");
	cr_assert(!tcp_stream_finished(&h.s));
	seg_fin_str(&h, 6, "world");
	cr_assert(tcp_stream_finished(&h.s));
	expect_str(&h, "helloworld");
	harness_fini(&h);
}

Test(fin, fin_before_the_data_it_follows_finishes_when_the_data_arrives)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1, "hello");
	seg_fin_str(&h, 11, "world");
	cr_assert(!tcp_stream_finished(&h.s));
	seg_str(&h, 6, "12345");
	cr_assert(tcp_stream_finished(&h.s));
	expect_log(&h, "d5 d5 d5");
	expect_str(&h, "hello12345world");
	harness_fini(&h);
}

Test(fin, fin_alone_after_the_data_finishes_the_stream)
{
	struct harness h;
	harness_default(&h);
	syn(&h, 0);
	seg_str(&h, 1, "hello");
	fin_only(&h, 6);
	cr_assert(tcp_stream_finished(&h.s));
	flush(&h);
	expect_log(&h, "d5");
	harness_fini(&h);
}

/* ---- split feed ---- */

static void check_clean_run(struct harness *h, const uint8_t *msg, uint32_t total, unsigned long long seed,
			    const char *how)
{
	cr_assert_eq(h->rec->len, total, "seed %llu, %s: %zu of %u bytes", seed, how, h->rec->len, total);
	cr_assert(memcmp(h->rec->bytes, msg, total) == 0, "seed %llu, %s: bytes differ", seed, how);
	cr_assert_eq(h->s.gaps, 0, "seed %llu, %s", seed, how);
	cr_assert_eq(h->s.overlap_conflicts, 0);
	cr_assert(tcp_stream_finished(&h->s), "seed %llu, %s", seed, how);
	cr_assert_eq(h->memcap.used, 0);
}

Test(split_feed, whole_bytewise_and_shuffled_duplicated_cuts_deliver_identical_bytes)
{
	static struct piece pieces[MAX_PIECES];
	static uint8_t msg[4000], whole[4000], covered[4000];
	for (unsigned long long seed = 1; seed <= 100; seed++) {
		uint64_t rng = seed * 31337;
		uint32_t total = rand_upto(&rng, sizeof msg);
		uint32_t isn = pick_isn(&rng);
		fill_random(msg, total, &rng);

		struct harness h;
		harness_default(&h);
		syn(&h, isn);
		feed_piece(&h, isn, msg, total, (struct piece){0, total}, true);
		check_clean_run(&h, msg, total, seed, "whole");
		cr_assert_eq(h.rec->last_data, msg, "one in-order segment goes through uncopied");
		memcpy(whole, h.rec->bytes, total);
		harness_fini(&h);

		harness_default(&h);
		syn(&h, isn);
		for (uint32_t i = 0; i < total; i++)
			feed_piece(&h, isn, msg, total, (struct piece){i, 1}, true);
		check_clean_run(&h, msg, total, seed, "byte by byte");
		cr_assert(memcmp(h.rec->bytes, whole, total) == 0);
		harness_fini(&h);

		/* Two independent cuttings (overlapping duplicates), some pieces sent again, all shuffled. */
		size_t n = cut_at_random(pieces, MAX_PIECES, total, rand_upto(&rng, 200), &rng);
		n += cut_at_random(pieces + n, MAX_PIECES - n, total, rand_upto(&rng, 200), &rng);
		for (size_t i = 0, m = n; i < m / 4; i++)
			pieces[n++] = pieces[test_rand(&rng) % m];
		shuffle(pieces, n, &rng);
		harness_default(&h);
		syn(&h, isn);
		memset(covered, 0, total);
		uint32_t first_missing = 0;
		for (size_t i = 0; i < n; i++) {
			feed_piece(&h, isn, msg, total, pieces[i], true);
			memset(covered + pieces[i].off, 1, pieces[i].len);
			while (first_missing < total && covered[first_missing])
				first_missing++;
			/* The receiver may acknowledge all it got, up to the first byte still in flight. */
			if (test_rand(&rng) % 3 == 0)
				ack(&h, isn + 1 + first_missing);
		}
		check_clean_run(&h, msg, total, seed, "shuffled cuts");
		cr_assert(memcmp(h.rec->bytes, whole, total) == 0);
		cr_assert_gt(h.s.retransmitted_bytes, 0);
		flush(&h);
		cr_assert_eq(h.rec->len, total, "flush after the FIN adds nothing");
		cr_assert_eq(h.rec->gap_events, 0);
		harness_fini(&h);
	}
}

Test(split_feed, every_prefix_of_a_shuffled_feed_accounts_for_every_byte_at_flush)
{
	static struct piece pieces[512];
	static uint8_t msg[400], want[400];
	for (unsigned long long seed = 1; seed <= 20; seed++) {
		uint64_t rng = seed * 65537;
		uint32_t total = rand_upto(&rng, sizeof msg);
		uint32_t isn = pick_isn(&rng);
		fill_random(msg, total, &rng);
		size_t n = cut_at_random(pieces, 512, total, rand_upto(&rng, 30), &rng);
		shuffle(pieces, n, &rng);
		for (size_t k = 0; k <= n; k++) {
			struct harness h;
			harness_default(&h);
			syn(&h, isn);
			memset(want, 0, total);
			for (size_t i = 0; i < k; i++) {
				feed_piece(&h, isn, msg, total, pieces[i], false);
				memset(want + pieces[i].off, 1, pieces[i].len);
			}
			fin_only(&h, isn + 1 + total);
			flush(&h);
			cr_assert_eq(h.rec->pos, total, "seed %llu prefix %zu: stream ends at %llu, not %u",
				     seed, k, (unsigned long long)h.rec->pos, total);
			expect_image(&h, msg, want, total);
			cr_assert_eq(h.s.delivered + h.s.gap_bytes, total);
			cr_assert(tcp_stream_finished(&h.s));
			cr_assert_eq(h.memcap.used, 0);
			harness_fini(&h);
		}
	}
}

Test(split_feed, random_loss_with_acks_reports_exactly_the_missing_runs)
{
	static struct piece pieces[MAX_PIECES], order[MAX_PIECES];
	static uint8_t msg[3000], want[3000], settled[3000];
	for (unsigned long long seed = 1; seed <= 200; seed++) {
		uint64_t rng = seed * 2654435761u;
		uint32_t total = rand_upto(&rng, sizeof msg);
		uint32_t isn = pick_isn(&rng);
		fill_random(msg, total, &rng);
		size_t n = cut_at_random(pieces, MAX_PIECES, total, rand_upto(&rng, 150), &rng);
		/* Lose about one piece in five; a lost piece's bytes are settled from the start. */
		memset(want, 0, total);
		memset(settled, 0, total);
		size_t kept = 0;
		for (size_t i = 0; i < n; i++) {
			if (test_rand(&rng) % 5 == 0) {
				memset(settled + pieces[i].off, 1, pieces[i].len);
			} else {
				memset(want + pieces[i].off, 1, pieces[i].len);
				order[kept++] = pieces[i];
			}
		}
		uint64_t lost_bytes = 0, lost_runs = 0;
		for (uint32_t i = 0; i < total; i++) {
			lost_bytes += !want[i];
			lost_runs += !want[i] && (i == 0 || want[i - 1]);
		}
		shuffle(order, kept, &rng);
		struct harness h;
		harness_default(&h);
		syn(&h, isn);
		uint32_t first_unsettled = 0;
		for (size_t i = 0; i < kept; i++) {
			feed_piece(&h, isn, msg, total, order[i], false);
			if (test_rand(&rng) % 4 == 0) /* a duplicate of something already sent */
				feed_piece(&h, isn, msg, total, order[test_rand(&rng) % (i + 1)], false);
			memset(settled + order[i].off, 1, order[i].len);
			while (first_unsettled < total && settled[first_unsettled])
				first_unsettled++;
			/* Acknowledge no further than the first captured byte not yet seen. */
			if (test_rand(&rng) % 3 == 0)
				ack(&h, isn + 1 + first_unsettled);
		}
		fin_only(&h, isn + 1 + total);
		flush(&h);
		cr_assert_eq(h.rec->pos, total, "seed %llu", seed);
		expect_image(&h, msg, want, total);
		cr_assert_eq(h.s.gap_bytes, lost_bytes, "seed %llu", seed);
		cr_assert_eq(h.s.gaps, lost_runs, "seed %llu: %llu gaps for %llu lost runs", seed,
			     (unsigned long long)h.s.gaps, (unsigned long long)lost_runs);
		cr_assert_eq(h.s.overlap_conflicts, 0);
		cr_assert(tcp_stream_finished(&h.s));
		cr_assert_eq(h.memcap.used, 0);
		harness_fini(&h);
	}
}

Test(split_feed, first_arrival_wins_for_every_byte_under_random_conflicting_overlaps)
{
	static uint8_t variant[3][2000], want[2000], expect[2000];
	for (unsigned long long seed = 1; seed <= 300; seed++) {
		uint64_t rng = seed * 0x9E3779B97F4A7C15ull;
		uint32_t total = rand_upto(&rng, sizeof want);
		uint32_t isn = pick_isn(&rng);
		for (int v = 0; v < 3; v++)
			fill_random(variant[v], total, &rng);
		memset(want, 0, total);
		struct harness h;
		harness_default(&h);
		syn(&h, isn);
		size_t n = 1 + (size_t)(test_rand(&rng) % 60);
		for (size_t i = 0; i < n; i++) {
			uint32_t off = (uint32_t)(test_rand(&rng) % total);
			uint32_t len = 1 + (uint32_t)(test_rand(&rng) % (total - off));
			const uint8_t *src = variant[test_rand(&rng) % 3];
			/* The model: a byte keeps the value of the first segment that carried it. */
			for (uint32_t j = off; j < off + len; j++)
				if (!want[j]) {
					want[j] = 1;
					expect[j] = src[j];
				}
			seg(&h, isn + 1 + off, src + off, len);
		}
		fin_only(&h, isn + 1 + total);
		flush(&h);
		cr_assert_eq(h.rec->pos, total, "seed %llu", seed);
		expect_image(&h, expect, want, total);
		cr_assert(tcp_stream_finished(&h.s));
		cr_assert_eq(h.memcap.used, 0);
		harness_fini(&h);
	}
}
