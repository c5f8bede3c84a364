/*
 * test_tcp_stream.c: the per-direction TCP reassembler against the contract in
 * sensor/flow/tcp_stream.h: in-order delivery, midstream pickup, out-of-order
 * segments, retransmissions and overlaps, sequence wrap, gaps and FIN.
 * Limits are in test_tcp_stream_limits.c, the random property tests in
 * test_tcp_stream_random.c; the recording harness all three drive is
 * tests/support/tcp_stream_harness.h.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sensor/flow/tcp_stream.h"
#include "tcp_stream_harness.h"
#include "test_support.h"

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
