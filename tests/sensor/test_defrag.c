/*
 * test_defrag.c: IPv4 and IPv6 fragment reassembly (sensor/flow/defrag.h).
 *
 * A whole TCP datagram is built with tests/support/packet_builder.h, cut into
 * fragments, each fragment decoded by packet_decode() as the sensor does and
 * handed to defrag_add(); the datagram that comes out must be the original
 * byte for byte and decode again through packet_decode_ip().
 */
#include "packet_builder.h"
#include "parsers/packet_decode.h"
#include "sensor/flow/defrag.h"

#include <criterion/criterion.h>
#include <string.h>

#define SEC 1000000u

static const struct defrag_settings default_settings = {32u << 20, 30 * SEC, 256};

struct harness {
	struct defrag *d;
	struct pkt whole; /* the datagram, bare IP */
	unsigned hdr_len; /* its header: what each fragment repeats */
	int family;
	struct defrag_datagram out;
	enum defrag_result last;
};

static void setup_with(struct harness *h, const struct defrag_settings *s, int family, unsigned payload_len)
{
	memset(h, 0, sizeof *h);
	h->d = defrag_new(s);
	cr_assert_not_null(h->d);
	h->family = family;
	struct seg sg = default_seg;
	sg.payload_len = payload_len;
	if (family == 4) {
		put_ipv4(&h->whole, P_TCP, 0, 0, seg_len(&sg));
		h->hdr_len = 20;
	} else {
		/* Hop-by-hop and destination options stay in the unfragmentable part (RFC 8200 4.5). */
		put_ipv6(&h->whole, P_HOPOPTS, 16 + seg_len(&sg));
		put_ipv6_ext(&h->whole, P_HOPOPTS, P_DSTOPTS, 8);
		put_ipv6_ext(&h->whole, P_DSTOPTS, P_TCP, 8);
		h->hdr_len = 56;
	}
	put_tcp(&h->whole, &sg);
}

/* A fragment of the datagram's data [off, off + len), its bytes taken from `data` (NULL: the datagram's). */
static struct decoded_packet make_fragment(struct harness *h, struct pkt *f, unsigned off, unsigned len,
                                           bool more, const uint8_t *data)
{
	f->len = 0;
	if (h->family == 4) {
		put_ipv4(f, P_TCP, 0, (off / 8) | (more ? IP4_MF : 0), len);
	} else {
		put_ipv6(f, P_HOPOPTS, 16 + 8 + len);
		put_ipv6_ext(f, P_HOPOPTS, P_DSTOPTS, 8);
		put_ipv6_ext(f, P_DSTOPTS, P_FRAGMENT, 8);
		put_ipv6_frag(f, P_TCP, off | (more ? 1 : 0));
	}
	put_bytes(f, data ? data : h->whole.b + h->hdr_len + off, len);
	return check_decode(LT_RAW_FILE, f, h->family == 4 ? DECODE_IPV4_FRAGMENT : DECODE_IPV6_FRAGMENT);
}

static enum defrag_result add_bytes(struct harness *h, unsigned off, unsigned len, bool more, uint64_t t,
                                    const uint8_t *data)
{
	struct pkt f;
	struct decoded_packet p = make_fragment(h, &f, off, len, more, data);
	h->last = defrag_add(h->d, &p, (uint32_t)f.len, t, &h->out);
	return h->last;
}

static enum defrag_result add(struct harness *h, unsigned off, unsigned len, bool more, uint64_t t)
{
	return add_bytes(h, off, len, more, t, NULL);
}

static unsigned data_len(const struct harness *h)
{
	return (unsigned)h->whole.len - h->hdr_len;
}

/* The datagram handed out is the original, and decodes to its TCP segment. */
static void check_whole(struct harness *h)
{
	cr_assert_eq(h->last, DEFRAG_COMPLETE);
	cr_assert_eq(h->out.family, h->family);
	cr_assert_eq(h->out.len, h->whole.len, "length %u, expected %zu", h->out.len, h->whole.len);
	cr_assert_arr_eq(h->out.bytes, h->whole.b, h->whole.len);
	struct decoded_packet d = h->out.link;
	cr_assert_eq(packet_decode_ip(h->out.family, h->out.bytes, h->out.len, NULL, &d), DECODE_OK);
	cr_assert_eq(d.sport, default_seg.sport);
	cr_assert_eq(d.dport, default_seg.dport);
	cr_assert_eq(d.payload_len, data_len(h) - 32);
	cr_assert_eq(defrag_stats(h->d)->active, 0);
	cr_assert_eq(defrag_stats(h->d)->memory_used, 0);
}

static void teardown(struct harness *h)
{
	defrag_free(h->d);
}

Test(defrag, reassembles_ipv4_fragments_in_order)
{
	struct harness h;
	setup_with(&h, &default_settings, 4, 100); /* 132 bytes of data */
	cr_assert_eq(add(&h, 0, 48, true, SEC), DEFRAG_HELD);
	cr_assert_eq(add(&h, 48, 48, true, SEC), DEFRAG_HELD);
	add(&h, 96, 36, false, SEC);
	check_whole(&h);
	cr_assert_eq(defrag_stats(h.d)->reassembled, 1);
	cr_assert_eq(defrag_stats(h.d)->fragments, 3);
	cr_assert_eq(h.out.wire_bytes, 3 * 20 + 132, "every fragment's frame counts on the wire");
	teardown(&h);
}

Test(defrag, reassembles_ipv4_fragments_out_of_order)
{
	struct harness h;
	setup_with(&h, &default_settings, 4, 100);
	cr_assert_eq(add(&h, 96, 36, false, SEC), DEFRAG_HELD);
	cr_assert_eq(add(&h, 0, 48, true, SEC), DEFRAG_HELD);
	add(&h, 48, 48, true, SEC);
	check_whole(&h);
	teardown(&h);
}

Test(defrag, reassembles_ipv6_fragments_after_other_extension_headers)
{
	struct harness h;
	setup_with(&h, &default_settings, 6, 100);
	cr_assert_eq(add(&h, 48, 48, true, SEC), DEFRAG_HELD);
	cr_assert_eq(add(&h, 96, 36, false, SEC), DEFRAG_HELD);
	add(&h, 0, 48, true, SEC);
	check_whole(&h);
	teardown(&h);
}

Test(defrag, ignores_duplicate_fragments)
{
	struct harness h;
	setup_with(&h, &default_settings, 4, 100);
	add(&h, 0, 48, true, SEC);
	add(&h, 0, 48, true, SEC);
	add(&h, 48, 48, true, SEC);
	add(&h, 48, 48, true, SEC);
	add(&h, 96, 36, false, SEC);
	check_whole(&h);
	cr_assert_eq(defrag_stats(h.d)->overlaps, 0);
	teardown(&h);
}

Test(defrag, accepts_overlaps_with_the_same_bytes)
{
	struct harness h;
	setup_with(&h, &default_settings, 6, 100);
	add(&h, 0, 64, true, SEC);
	add(&h, 32, 64, true, SEC); /* overlaps both neighbours */
	add(&h, 88, 44, false, SEC);
	check_whole(&h);
	cr_assert_eq(defrag_stats(h.d)->overlaps, 0);
	teardown(&h);
}

Test(defrag, keeps_the_first_bytes_of_a_conflicting_overlap_and_counts_it)
{
	struct harness h;
	setup_with(&h, &default_settings, 4, 100);
	add(&h, 0, 48, true, SEC);
	uint8_t forged[64];
	memset(forged, 'X', sizeof forged);
	/* Covers the end of the first fragment and a hole: only the hole's bytes are taken. */
	add_bytes(&h, 40, 16, true, SEC, forged);
	cr_assert_eq(defrag_stats(h.d)->overlaps, 1);
	add(&h, 48, 48, true, SEC); /* the true bytes conflict with the forged hole bytes 48..55 */
	add(&h, 96, 36, false, SEC);
	cr_assert_eq(h.last, DEFRAG_COMPLETE);
	cr_assert_eq(defrag_stats(h.d)->overlaps, 2);
	cr_assert_arr_eq(h.out.bytes, h.whole.b, 20 + 48, "first fragment kept");
	cr_assert_arr_eq(h.out.bytes + 20 + 48, forged, 8, "hole filled by the first to come");
	cr_assert_arr_eq(h.out.bytes + 20 + 56, h.whole.b + 20 + 56, h.whole.len - 76);
	teardown(&h);
}

Test(defrag, reassembles_tiny_fragments)
{
	struct harness h;
	setup_with(&h, &default_settings, 4, 100);
	/* Eight bytes each: the TCP header itself is cut in three (RFC 1858's tiny fragment attack). */
	for (unsigned off = 0; off + 8 < data_len(&h); off += 8)
		cr_assert_eq(add(&h, off, 8, true, SEC), DEFRAG_HELD);
	unsigned last = data_len(&h) / 8 * 8;
	if (last == data_len(&h))
		last -= 8;
	add(&h, last, data_len(&h) - last, false, SEC);
	check_whole(&h);
	teardown(&h);
}

Test(defrag, gives_up_a_datagram_at_the_timeout_in_packet_time)
{
	struct harness h;
	setup_with(&h, &default_settings, 4, 100);
	add(&h, 0, 48, true, 10 * SEC);
	add(&h, 48, 48, true, 39 * SEC);
	cr_assert_eq(defrag_stats(h.d)->timeouts, 0);
	defrag_expire(h.d, 40 * SEC); /* 30 s after the first fragment */
	cr_assert_eq(defrag_stats(h.d)->timeouts, 1);
	cr_assert_eq(defrag_stats(h.d)->active, 0);
	cr_assert_eq(defrag_stats(h.d)->memory_used, 0);
	/* The last fragment alone starts a new datagram that never completes. */
	cr_assert_eq(add(&h, 96, 36, false, 41 * SEC), DEFRAG_HELD);
	teardown(&h);
}

Test(defrag, gives_up_a_datagram_with_too_many_fragments)
{
	struct harness h;
	struct defrag_settings s = default_settings;
	s.max_fragments = 4;
	setup_with(&h, &s, 4, 100);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(add(&h, 0, 48, true, SEC), DEFRAG_HELD);
	cr_assert_eq(add(&h, 0, 48, true, SEC), DEFRAG_DROPPED);
	cr_assert_eq(defrag_stats(h.d)->gave_up_too_many_fragments, 1);
	cr_assert_eq(defrag_stats(h.d)->active, 0);
	teardown(&h);
}

Test(defrag, gives_up_a_datagram_larger_than_ip_can_describe)
{
	struct harness h;
	setup_with(&h, &default_settings, 4, 100);
	uint8_t junk[64] = {0};
	/* 65528 + 16 bytes of data behind a 20-byte header: past the 65535 of Total Length (ping of death).
	 */
	cr_assert_eq(add_bytes(&h, 65528, 16, false, SEC, junk), DEFRAG_DROPPED);
	cr_assert_eq(defrag_stats(h.d)->gave_up_too_large, 1);
	cr_assert_eq(defrag_stats(h.d)->active, 0);
	teardown(&h);
}

Test(defrag, drops_a_non_last_fragment_whose_length_is_not_a_multiple_of_eight)
{
	struct harness h;
	setup_with(&h, &default_settings, 6, 100);
	cr_assert_eq(add(&h, 0, 44, true, SEC), DEFRAG_DROPPED);
	cr_assert_eq(defrag_stats(h.d)->invalid, 1);
	cr_assert_eq(defrag_stats(h.d)->active, 0);
	teardown(&h);
}

Test(defrag, drops_a_fragment_past_the_end_the_last_fragment_gave)
{
	struct harness h;
	setup_with(&h, &default_settings, 4, 100);
	add(&h, 96, 36, false, SEC);
	cr_assert_eq(add(&h, 128, 16, true, SEC), DEFRAG_DROPPED);
	cr_assert_eq(defrag_stats(h.d)->invalid, 1);
	add(&h, 0, 96, true, SEC);
	check_whole(&h);
	teardown(&h);
}

Test(defrag, gives_up_a_datagram_whose_fragment_was_cut_by_the_snap_length)
{
	struct harness h;
	setup_with(&h, &default_settings, 4, 100);
	struct pkt f;
	make_fragment(&h, &f, 0, 48, true, NULL);
	f.len -= 10;
	struct decoded_packet p = check_decode(LT_RAW_FILE, &f, DECODE_IPV4_FRAGMENT);
	cr_assert_eq(defrag_add(h.d, &p, 100, SEC, &h.out), DEFRAG_DROPPED);
	cr_assert_eq(defrag_stats(h.d)->gave_up_snaplen, 1);
	teardown(&h);
}

Test(defrag, carries_the_link_facts_of_the_first_fragment)
{
	struct harness h;
	setup_with(&h, &default_settings, 4, 100);
	struct pkt f, e;
	for (unsigned i = 0; i < 3; i++) {
		unsigned off = i * 48, len = i == 2 ? 36 : 48;
		make_fragment(&h, &f, off, len, i < 2, NULL);
		e.len = 0;
		put_eth(&e, ETH_8021Q);
		put_vlan(&e, 42, ETH_IPV4);
		put_bytes(&e, f.b, f.len);
		struct decoded_packet p = check_decode(LT_EN10MB, &e, DECODE_IPV4_FRAGMENT);
		h.last = defrag_add(h.d, &p, 100, SEC, &h.out);
	}
	check_whole(&h);
	cr_assert_eq(h.out.link.encap.vlan_count, 1);
	cr_assert_eq(h.out.link.encap.vlan[0], 42);
	struct decoded_packet d = h.out.link;
	cr_assert_eq(packet_decode_ip(4, h.out.bytes, h.out.len, NULL, &d), DECODE_OK);
	cr_assert_eq(d.encap.vlan[0], 42, "packet_decode_ip keeps the link facts");
	teardown(&h);
}

Test(defrag, never_mixes_fragments_of_two_vlans)
{
	struct harness h;
	setup_with(&h, &default_settings, 4, 100);
	struct pkt f, e;
	for (unsigned i = 0; i < 3; i++) {
		unsigned off = i * 48, len = i == 2 ? 36 : 48;
		make_fragment(&h, &f, off, len, i < 2, NULL);
		e.len = 0;
		put_eth(&e, ETH_8021Q);
		put_vlan(&e, i == 1 ? 7 : 42, ETH_IPV4); /* the middle one on another VLAN */
		put_bytes(&e, f.b, f.len);
		struct decoded_packet p = check_decode(LT_EN10MB, &e, DECODE_IPV4_FRAGMENT);
		cr_assert_eq(defrag_add(h.d, &p, 100, SEC, &h.out), DEFRAG_HELD);
	}
	cr_assert_eq(defrag_stats(h.d)->active, 2);
	teardown(&h);
}

Test(defrag, stays_within_its_memcap_under_a_fragment_flood)
{
	struct harness h;
	struct defrag_settings s = default_settings;
	s.memcap = 256u << 10;
	setup_with(&h, &s, 4, 1000);
	struct pkt f;
	uint64_t peak = 0;
	/* First fragments of 20,000 datagrams that never complete, each id its own. */
	for (uint32_t id = 0; id < 20000; id++) {
		struct decoded_packet p = make_fragment(&h, &f, 0, 1000, true, NULL);
		p.frag.id = id;
		defrag_add(h.d, &p, 1000, SEC + id, &h.out);
		const struct defrag_stats *st = defrag_stats(h.d);
		cr_assert_leq(st->memory_used, s.memcap);
		if (st->memory_used > peak)
			peak = st->memory_used;
	}
	const struct defrag_stats *st = defrag_stats(h.d);
	cr_assert_gt(st->gave_up_memcap, 0);
	cr_assert_leq(st->memory_peak, s.memcap);
	cr_assert_geq(st->memory_peak, peak);
	cr_assert_gt(peak, s.memcap / 2, "the cap is used, not just respected");
	/* A genuine datagram still gets through: room is made by giving up the oldest. */
	add(&h, 0, 512, true, 2 * SEC);
	add(&h, 512, data_len(&h) - 512, false, 2 * SEC);
	cr_assert_eq(h.last, DEFRAG_COMPLETE);
	teardown(&h);
}
