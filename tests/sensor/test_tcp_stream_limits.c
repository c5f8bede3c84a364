/*
 * test_tcp_stream_limits.c: the TCP reassembler at its limits: the out-of-order
 * cap, the depth, a sink that says it is done, the memcap and the window
 * (harness in tests/support/tcp_stream_harness.h).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sensor/flow/tcp_stream.h"
#include "tcp_stream_harness.h"
#include "test_support.h"

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
				cr_assert_eq(h.rec->image[i], msg[i], "seed %llu offset %u", seed, i);
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
	struct tcp_stream_limits limits = *h.s.limits;
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
