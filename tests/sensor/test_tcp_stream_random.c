/*
 * test_tcp_stream_random.c: property tests of the TCP reassembler over random
 * messages cut at random places: random permutations, the split-feed test
 * (whole, byte by byte, shuffled and duplicated cuts), every prefix, random
 * loss and random conflicting overlaps (harness in
 * tests/support/tcp_stream_harness.h). Seeds are fixed, so a failure repeats.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sensor/flow/tcp_stream.h"
#include "tcp_stream_harness.h"
#include "test_support.h"

/* ---- out of order ---- */

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
		cr_assert_eq(h.rec->len, total, "seed %llu: %zu of %u bytes", seed, h.rec->len, total);
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
