/*
 * test_packet_decode_ip.c: packet decoding of IPv4 (options, lengths,
 * fragments), IPv6 (extension headers, fragments, payload length) and TCP
 * headers. Packets are built by hand with tests/support/packet_builder.h.
 */
#include "packet_builder.h"
#include "parsers/packet_decode.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- IPv4 ---- */

Test(packet_decode, skips_ipv4_options)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_IPV4);
	put_ipv4(&p, P_TCP, 40, IP4_DF, seg_len(&default_seg)); /* the largest: IHL 15 */
	put_tcp(&p, &default_seg);
	struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
	check_segment(&d, &p, 4, &default_seg);
}

Test(packet_decode, reports_truncated_ipv4_header)
{
	struct pkt p;
	build_tcp(&p, LT_EN10MB, 4, &default_seg);
	p.len = 14 + 19;
	check_decode(LT_EN10MB, &p, DECODE_IPV4_TRUNCATED);
}

Test(packet_decode, reports_truncated_ipv4_options)
{
	struct pkt p = {.len = 0};
	put_ipv4(&p, P_TCP, 8, 0, seg_len(&default_seg));
	p.len = 24;
	check_decode(LT_RAW, &p, DECODE_IPV4_TRUNCATED);
}

Test(packet_decode, reports_an_ipv6_header_behind_the_ipv4_ethertype)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_IPV4);
	put_ipv6(&p, P_TCP, seg_len(&default_seg));
	put_tcp(&p, &default_seg);
	check_decode(LT_EN10MB, &p, DECODE_IPV4_BAD_VERSION);
}

Test(packet_decode, reports_ipv4_header_length_below_five_words)
{
	struct pkt p;
	build_tcp(&p, LT_RAW, 4, &default_seg);
	p.b[0] = 0x44;
	check_decode(LT_RAW, &p, DECODE_IPV4_BAD_HEADER_LENGTH);
}

Test(packet_decode, reports_ipv4_header_length_beyond_the_total_length)
{
	struct pkt p = {.len = 0};
	put_ipv4(&p, P_TCP, 0, 0, 0);
	p.b[0] = 0x46; /* 24-byte header in a 20-byte packet */
	put_fill(&p, 0, 40);
	check_decode(LT_RAW, &p, DECODE_IPV4_BAD_HEADER_LENGTH);
}

Test(packet_decode, reports_ipv4_total_length_below_the_header)
{
	struct pkt p;
	build_tcp(&p, LT_RAW, 4, &default_seg);
	p.b[2] = 0;
	p.b[3] = 19;
	check_decode(LT_RAW, &p, DECODE_IPV4_BAD_TOTAL_LENGTH);
	p.b[3] = 0; /* what Linux BIG TCP writes for a >64k GSO packet */
	check_decode(LT_RAW, &p, DECODE_IPV4_BAD_TOTAL_LENGTH);
}

Test(packet_decode, counts_udp_over_ipv4_as_not_tcp)
{
	struct pkt p = {.len = 0};
	put_ipv4(&p, P_UDP, 0, 0, 8);
	put_fill(&p, 0, 8);
	check_decode(LT_RAW, &p, DECODE_NOT_TCP);
}

Test(packet_decode, trims_ethernet_padding_to_the_ipv4_length)
{
	struct seg syn = default_seg;
	syn.flags = TCP_SYN;
	syn.opt_len = 0;
	syn.payload_len = 0;
	struct pkt p;
	build_tcp(&p, LT_EN10MB, 4, &syn); /* 54 bytes, padded to the 60-byte minimum */
	put_fill(&p, 0xee, 6);
	struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
	cr_assert_eq(d.payload_len, 0);
	cr_assert_eq(d.payload_wire_len, 0);

	struct seg two = syn;
	two.payload_len = 2;
	build_tcp(&p, LT_EN10MB, 4, &two);
	put_fill(&p, 0xee, 4);
	d = check_decode(LT_EN10MB, &p, DECODE_OK);
	cr_assert_eq(d.payload_len, 2);
	cr_assert_eq(d.payload_wire_len, 2);
	cr_assert_eq(memcmp(d.payload, "AB", 2), 0);
}

Test(packet_decode, reports_a_snaplen_cut_payload_as_shorter_than_on_the_wire)
{
	struct seg big = default_seg;
	big.payload_len = 1400;
	for (int ipver = 4; ipver <= 6; ipver += 2) {
		struct pkt p;
		build_tcp(&p, LT_EN10MB, ipver, &big);
		size_t headers = p.len - big.payload_len;
		p.len = 96; /* a typical small snap length */
		struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
		cr_assert_eq(d.payload, p.b + headers);
		cr_assert_eq(d.payload_len, 96 - headers);
		cr_assert_eq(d.payload_wire_len, 1400);
		cr_assert_lt(d.payload_len, d.payload_wire_len);
	}
}

/* ---- fragments ---- */

static enum decode_result decode_ipv4_frag(unsigned proto, unsigned frag)
{
	struct pkt p = {.len = 0};
	put_ipv4(&p, proto, 0, frag, seg_len(&default_seg));
	put_tcp(&p, &default_seg);
	struct decoded_packet d;
	return packet_decode(LT_RAW, p.b, (uint32_t)p.len, NULL, &d);
}

Test(packet_decode, reports_every_kind_of_ipv4_fragment)
{
	cr_assert_eq(decode_ipv4_frag(P_TCP, IP4_MF), DECODE_IPV4_FRAGMENT, "first fragment");
	cr_assert_eq(decode_ipv4_frag(P_TCP, IP4_MF | 185), DECODE_IPV4_FRAGMENT, "middle fragment");
	cr_assert_eq(decode_ipv4_frag(P_TCP, 370), DECODE_IPV4_FRAGMENT, "last fragment");
	cr_assert_eq(decode_ipv4_frag(P_TCP, 1), DECODE_IPV4_FRAGMENT, "smallest offset");
	cr_assert_eq(decode_ipv4_frag(P_TCP, IP4_DF | 0x1fff), DECODE_IPV4_FRAGMENT, "largest offset");
}

Test(packet_decode, decodes_ipv4_with_only_dont_fragment_set)
{
	cr_assert_eq(decode_ipv4_frag(P_TCP, IP4_DF), DECODE_OK);
	cr_assert_eq(decode_ipv4_frag(P_TCP, 0), DECODE_OK);
}

Test(packet_decode, counts_fragmented_udp_as_not_tcp)
{
	cr_assert_eq(decode_ipv4_frag(P_UDP, IP4_MF), DECODE_NOT_TCP);
	cr_assert_eq(decode_ipv4_frag(P_UDP, 185), DECODE_NOT_TCP);
}

static enum decode_result decode_ipv6_frag(unsigned before, unsigned frag_next, unsigned offset_more,
                                           struct decoded_packet *d)
{
	struct pkt p = {.len = 0};
	size_t upper = 8 + seg_len(&default_seg) + (before == P_DSTOPTS ? 8 : 0);
	put_ipv6(&p, before == P_DSTOPTS ? P_DSTOPTS : P_FRAGMENT, upper);
	if (before == P_DSTOPTS)
		put_ipv6_ext(&p, P_DSTOPTS, P_FRAGMENT, 8);
	put_ipv6_frag(&p, frag_next, offset_more);
	put_tcp(&p, &default_seg);
	return packet_decode(LT_RAW, p.b, (uint32_t)p.len, NULL, d);
}

Test(packet_decode, reports_every_kind_of_ipv6_fragment)
{
	struct decoded_packet d;
	cr_assert_eq(decode_ipv6_frag(0, P_TCP, 0x0001, &d), DECODE_IPV6_FRAGMENT, "first fragment");
	cr_assert_eq(decode_ipv6_frag(0, P_TCP, (185 << 3) | 1, &d), DECODE_IPV6_FRAGMENT, "middle fragment");
	cr_assert_eq(decode_ipv6_frag(0, P_TCP, 370 << 3, &d), DECODE_IPV6_FRAGMENT, "last fragment");
	cr_assert_eq(decode_ipv6_frag(P_DSTOPTS, P_TCP, 1, &d), DECODE_IPV6_FRAGMENT, "after options");
	cr_assert_eq(decode_ipv6_frag(0, P_DSTOPTS, 1, &d), DECODE_IPV6_FRAGMENT, "options inside");
}

Test(packet_decode, gives_the_facts_of_an_ipv4_fragment)
{
	struct pkt p = {.len = 0};
	put_ipv4(&p, P_TCP, 8, IP4_MF | 185, 48);
	put_fill(&p, 'a', 48);
	struct decoded_packet d = check_decode(LT_RAW, &p, DECODE_IPV4_FRAGMENT);
	check_addr(&d.src, "203.0.113.10");
	cr_assert_eq(d.frag.id, 0x1234);
	cr_assert_eq(d.frag.proto, P_TCP);
	cr_assert(d.frag.more);
	cr_assert_eq(d.frag.offset, 185 * 8);
	cr_assert_eq(d.frag.hdr, p.b);
	cr_assert_eq(d.frag.hdr_len, 28, "the header with its options");
	cr_assert_eq(d.frag.data, p.b + 28);
	cr_assert_eq(d.frag.data_len, 48);
	cr_assert_eq(d.frag.data_wire_len, 48);
}

Test(packet_decode, gives_the_facts_of_an_ipv6_fragment_after_options)
{
	struct decoded_packet d;
	cr_assert_eq(decode_ipv6_frag(P_DSTOPTS, P_TCP, (185 << 3) | 1, &d), DECODE_IPV6_FRAGMENT);
	check_addr(&d.src, "2001:db8:c1::10");
	cr_assert_eq(d.frag.id, 0xcafe0001);
	cr_assert_eq(d.frag.proto, P_TCP);
	cr_assert(d.frag.more);
	cr_assert_eq(d.frag.offset, 185 * 8);
	cr_assert_eq(d.frag.hdr_len, 48, "IPv6 header and destination options: the unfragmentable part");
	cr_assert_eq(d.frag.next_header_at, 40,
	             "the destination options' Next Header names the Fragment header");
	cr_assert_eq(d.frag.data_len, seg_len(&default_seg));
	cr_assert_eq(d.frag.data_wire_len, seg_len(&default_seg));
}

Test(packet_decode, names_the_ipv6_header_as_the_one_before_a_first_fragment_header)
{
	struct decoded_packet d;
	cr_assert_eq(decode_ipv6_frag(0, P_TCP, 1, &d), DECODE_IPV6_FRAGMENT);
	cr_assert_eq(d.frag.hdr_len, 40);
	cr_assert_eq(d.frag.next_header_at, 6);
}

Test(packet_decode, decodes_a_bare_ip_datagram_keeping_the_link_facts)
{
	struct pkt p;
	build_tcp(&p, LT_RAW, 6, &default_seg);
	struct decoded_packet d = {.encap = {.vlan = {100, 200}, .vlan_count = 2}};
	cr_assert_eq(packet_decode_ip(6, p.b, (uint32_t)p.len, NULL, &d), DECODE_OK);
	check_segment(&d, &p, 6, &default_seg);
	cr_assert_eq(d.encap.vlan_count, 2);
	cr_assert_eq(d.encap.vlan[1], 200);
	struct decoded_packet untouched = {.encap = {.vlan_count = 1}};
	cr_assert_eq(packet_decode_ip(4, p.b, 10, NULL, &untouched), DECODE_IPV4_TRUNCATED);
	cr_assert_eq(untouched.encap.vlan_count, 1);
	cr_assert_eq(untouched.sport, 0);
}

Test(packet_decode, counts_fragmented_udp_over_ipv6_as_not_tcp)
{
	struct decoded_packet d;
	cr_assert_eq(decode_ipv6_frag(0, P_UDP, 1, &d), DECODE_NOT_TCP);
	cr_assert_eq(decode_ipv6_frag(0, 58 /* ICMPv6 */, 185 << 3, &d), DECODE_NOT_TCP);
}

Test(packet_decode, decodes_an_ipv6_atomic_fragment_as_a_whole_packet)
{
	struct decoded_packet d;
	/* RFC 6946: offset 0 and M 0 is no fragment at all; reserved bits do not change that. */
	cr_assert_eq(decode_ipv6_frag(0, P_TCP, 0x0006, &d), DECODE_OK);
	cr_assert_eq(d.payload_len, default_seg.payload_len);
	cr_assert_eq(d.payload_wire_len, default_seg.payload_len);
	cr_assert_eq(d.dport, 25);
}

Test(packet_decode, reports_a_truncated_ipv6_fragment_header)
{
	struct pkt p = {.len = 0};
	put_ipv6(&p, P_FRAGMENT, 8 + 20);
	put8(&p, P_TCP);
	put8(&p, 0);
	put8(&p, 0);
	check_decode(LT_RAW, &p, DECODE_IPV6_EXT_TRUNCATED);
}

/* ---- IPv6 ---- */

Test(packet_decode, walks_a_chain_of_ipv6_extension_headers)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_IPV6);
	put_ipv6(&p, P_HOPOPTS, 8 + 24 + 16 + 24 + seg_len(&default_seg));
	put_ipv6_ext(&p, P_HOPOPTS, P_ROUTING, 8);
	put_ipv6_ext(&p, P_ROUTING, P_DSTOPTS, 24);
	put_ipv6_ext(&p, P_DSTOPTS, P_AH, 16);
	put_ipv6_ext(&p, P_AH, P_TCP, 24);
	put_tcp(&p, &default_seg);
	struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
	check_segment(&d, &p, 6, &default_seg);
}

Test(packet_decode, measures_ah_in_four_byte_units)
{
	/* 12 bytes: (1 + 2) * 4. Read as 8-byte units it would swallow the TCP ports. */
	struct pkt p = {.len = 0};
	put_ipv6(&p, P_AH, 12 + seg_len(&default_seg));
	put_ipv6_ext(&p, P_AH, P_TCP, 12);
	put_tcp(&p, &default_seg);
	struct decoded_packet d = check_decode(LT_RAW, &p, DECODE_OK);
	check_segment(&d, &p, 6, &default_seg);
}

static void build_ext_chain(struct pkt *p, unsigned count)
{
	p->len = 0;
	put_ipv6(p, P_DSTOPTS, 8 * count + seg_len(&default_seg));
	for (unsigned i = 0; i < count; i++)
		put_ipv6_ext(p, P_DSTOPTS, i + 1 < count ? P_DSTOPTS : P_TCP, 8);
	put_tcp(p, &default_seg);
}

Test(packet_decode, walks_up_to_the_extension_header_limit)
{
	struct pkt p;
	build_ext_chain(&p, DECODE_MAX_IPV6_EXT);
	struct decoded_packet d = check_decode(LT_RAW, &p, DECODE_OK);
	check_segment(&d, &p, 6, &default_seg);
}

Test(packet_decode, reports_one_extension_header_too_many)
{
	struct pkt p;
	build_ext_chain(&p, DECODE_MAX_IPV6_EXT + 1);
	check_decode(LT_RAW, &p, DECODE_IPV6_TOO_MANY_EXT);
}

Test(packet_decode, reports_an_extension_header_cut_by_the_capture)
{
	struct pkt p = {.len = 0};
	put_ipv6(&p, P_HOPOPTS, 16 + seg_len(&default_seg));
	put_ipv6_ext(&p, P_HOPOPTS, P_TCP, 16);
	p.len = 40 + 12;
	check_decode(LT_RAW, &p, DECODE_IPV6_EXT_TRUNCATED);
}

Test(packet_decode, reports_an_extension_header_longer_than_the_payload_length)
{
	struct pkt p = {.len = 0};
	put_ipv6(&p, P_ROUTING, 16); /* the header claims 24 */
	put_ipv6_ext(&p, P_ROUTING, P_TCP, 24);
	put_tcp(&p, &default_seg);
	check_decode(LT_RAW, &p, DECODE_IPV6_EXT_TRUNCATED);
}

Test(packet_decode, counts_esp_and_no_next_header_as_not_tcp)
{
	static const unsigned next[] = {P_ESP, P_NONE, P_UDP, 58 /* ICMPv6 */, 135 /* Mobility */};
	for (size_t i = 0; i < 5; i++) {
		struct pkt p = {.len = 0};
		put_ipv6(&p, P_DSTOPTS, 8 + 32);
		put_ipv6_ext(&p, P_DSTOPTS, next[i], 8);
		put_fill(&p, 0, 32);
		check_decode(LT_RAW, &p, DECODE_NOT_TCP);
	}
}

Test(packet_decode, reports_truncated_ipv6_header)
{
	struct pkt p;
	build_tcp(&p, LT_SLL, 6, &default_seg);
	p.len = 16 + 39;
	check_decode(LT_SLL, &p, DECODE_IPV6_TRUNCATED);
}

Test(packet_decode, reports_an_ipv4_header_behind_the_ipv6_ethertype)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_IPV6);
	put_ipv4(&p, P_TCP, 0, 0, seg_len(&default_seg));
	put_tcp(&p, &default_seg);
	check_decode(LT_EN10MB, &p, DECODE_IPV6_BAD_VERSION);
}

Test(packet_decode, trims_bytes_past_the_ipv6_payload_length)
{
	struct pkt p;
	build_tcp(&p, LT_EN10MB, 6, &default_seg);
	size_t end = p.len;
	put_fill(&p, 0xee, 10);
	struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
	cr_assert_eq(d.payload + d.payload_len, p.b + end);
	cr_assert_eq(d.payload_wire_len, default_seg.payload_len);
}

Test(packet_decode, takes_the_captured_length_for_a_jumbo_payload)
{
	struct pkt p;
	build_tcp(&p, LT_RAW, 6, &default_seg);
	p.b[4] = 0;
	p.b[5] = 0;
	struct decoded_packet d = check_decode(LT_RAW, &p, DECODE_OK);
	check_segment(&d, &p, 6, &default_seg);
}

/* ---- TCP ---- */

Test(packet_decode, reports_a_tcp_data_offset_below_five_words)
{
	struct seg s = default_seg;
	s.data_offset = 4;
	struct pkt p;
	build_tcp(&p, LT_EN10MB, 4, &s);
	check_decode(LT_EN10MB, &p, DECODE_TCP_BAD_OFFSET);
}

Test(packet_decode, reports_a_tcp_data_offset_beyond_the_segment)
{
	struct seg s = default_seg;
	s.opt_len = 0;
	s.payload_len = 20;
	s.data_offset = 15; /* 60 bytes of header in a 40-byte segment */
	for (int ipver = 4; ipver <= 6; ipver += 2) {
		struct pkt p;
		build_tcp(&p, LT_EN10MB, ipver, &s);
		check_decode(LT_EN10MB, &p, DECODE_TCP_BAD_OFFSET);
	}
}

Test(packet_decode, reports_tcp_options_cut_by_the_capture)
{
	struct seg s = default_seg;
	s.opt_len = 20;
	struct pkt p;
	build_tcp(&p, LT_EN10MB, 4, &s);
	p.len = 14 + 20 + 20 + 19;
	check_decode(LT_EN10MB, &p, DECODE_TCP_TRUNCATED);
}

Test(packet_decode, reports_truncated_tcp_header)
{
	struct pkt p;
	build_tcp(&p, LT_SLL2, 6, &default_seg);
	p.len = 20 + 40 + 19;
	check_decode(LT_SLL2, &p, DECODE_TCP_TRUNCATED);
}

Test(packet_decode, reports_an_ip_length_too_short_for_the_tcp_header)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_IPV4);
	put_ipv4(&p, P_TCP, 0, 0, 12); /* the rest looks like Ethernet padding */
	put_tcp(&p, &default_seg);
	check_decode(LT_EN10MB, &p, DECODE_TCP_TRUNCATED);
}

Test(packet_decode, reports_tcp_port_zero)
{
	struct seg s = default_seg;
	s.sport = 0;
	struct pkt p;
	build_tcp(&p, LT_EN10MB, 4, &s);
	check_decode(LT_EN10MB, &p, DECODE_TCP_BAD_PORT);
	s = default_seg;
	s.dport = 0;
	build_tcp(&p, LT_EN10MB, 6, &s);
	check_decode(LT_EN10MB, &p, DECODE_TCP_BAD_PORT);
}

Test(packet_decode, keeps_all_eight_tcp_flag_bits)
{
	struct seg s = default_seg;
	s.flags = 0xc0 | TCP_SYN; /* CWR, ECE: an ECN-setup SYN */
	s.payload_len = 0;
	struct pkt p;
	build_tcp(&p, LT_RAW, 4, &s);
	struct decoded_packet d = check_decode(LT_RAW, &p, DECODE_OK);
	cr_assert_eq(d.tcp_flags, 0xc2);
	cr_assert_eq(d.payload_len, 0);
}

Test(packet_decode, leaves_the_output_alone_when_decoding_fails)
{
	struct pkt p;
	build_tcp(&p, LT_EN10MB, 4, &default_seg);
	p.len = 50;
	struct decoded_packet d, before;
	memset(&d, 0xa5, sizeof d);
	before = d;
	cr_assert_eq(packet_decode(LT_EN10MB, p.b, (uint32_t)p.len, NULL, &d), DECODE_TCP_TRUNCATED);
	cr_assert_eq(memcmp(&d, &before, sizeof d), 0);
}

Test(packet_decode, fails_cleanly_on_an_empty_buffer)
{
	struct decoded_packet d;
	cr_assert_eq(packet_decode(LT_EN10MB, NULL, 0, NULL, &d), DECODE_ETH_TRUNCATED);
	cr_assert_eq(packet_decode(LT_RAW, NULL, 0, NULL, &d), DECODE_IPV4_TRUNCATED);
	cr_assert_eq(packet_decode(LT_IPV6, NULL, 0, NULL, &d), DECODE_IPV6_TRUNCATED);
	cr_assert_eq(packet_decode(LT_NULL, NULL, 0, NULL, &d), DECODE_LOOPBACK_TRUNCATED);
}
