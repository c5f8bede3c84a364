/*
 * test_packet_encap.c: MPLS label stacks and tunnels (parsers/packet_encap.c)
 * as packet_decode() opens them: GRE, ERSPAN I/II/III, VXLAN, Geneve. Each
 * is built by hand around the default TCP segment of packet_builder.h, whose
 * inner addresses check_segment() expects, inside an outer IP header with
 * addresses of its own (192.0.2.1 -> 192.0.2.2, 2001:db8:ffff::1 -> ::2) so
 * a test sees which ones the decoder reports. Every malformed header is a
 * named anomaly, and every prefix of each packet is one too, or a clean
 * snap-length cut, decoded from a heap copy of exactly that length for ASan.
 */
#include "packet_builder.h"
#include "parsers/packet_decode.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

enum {
	ETH_MPLS = 0x8847,
	ETH_MPLS_MC = 0x8848,
	ETH_TEB = 0x6558,
	ETH_ERSPAN2 = 0x88be,
	ETH_ERSPAN3 = 0x22eb,
	P_GRE = 47,
	GRE_C = 0x8000,
	GRE_K = 0x2000,
	GRE_S = 0x1000,
	ETH_LEN = 14,
	IP4_LEN = 20,
	IP6_LEN = 40,
};

/* ---- builders of the outer headers ---- */

static const uint8_t outer4_src[4] = {192, 0, 2, 1}, outer4_dst[4] = {192, 0, 2, 2};
static const uint8_t outer6_src[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 1};
static const uint8_t outer6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 2};

/* An outer IPv4 header (no checksum: the decoder checks none) over `upper_len` bytes. */
static void put_outer_ipv4(struct pkt *p, unsigned proto, size_t upper_len, unsigned frag)
{
	put8(p, 0x45);
	put8(p, 0);
	put16(p, IP4_LEN + upper_len);
	put16(p, 7);
	put16(p, frag);
	put8(p, 64);
	put8(p, proto);
	put16(p, 0);
	put_bytes(p, outer4_src, 4);
	put_bytes(p, outer4_dst, 4);
}

static void put_outer_ipv6(struct pkt *p, unsigned next, size_t payload_len)
{
	put32(p, 0x60000000);
	put16(p, payload_len);
	put8(p, next);
	put8(p, 64);
	put_bytes(p, outer6_src, 16);
	put_bytes(p, outer6_dst, 16);
}

/* The inner packet of most tests: an Ethernet frame (or just its IP packet) with the default segment. */
static size_t inner_ip_len(int ipver)
{
	return (ipver == 4 ? IP4_LEN : IP6_LEN) + seg_len(&default_seg);
}

static void put_inner_ip(struct pkt *p, int ipver)
{
	if (ipver == 4)
		put_ipv4(p, P_TCP, 0, IP4_DF, seg_len(&default_seg));
	else
		put_ipv6(p, P_TCP, seg_len(&default_seg));
	put_tcp(p, &default_seg);
}

static size_t inner_frame_len(int ipver)
{
	return ETH_LEN + inner_ip_len(ipver);
}

static void put_inner_frame(struct pkt *p, int ipver)
{
	put_eth(p, ipver == 4 ? ETH_IPV4 : ETH_IPV6);
	put_inner_ip(p, ipver);
}

static void put_mpls(struct pkt *p, uint32_t label, bool bottom)
{
	put32(p, label << 12 | (bottom ? 0x100 : 0) | 64);
}

/* A GRE header with the optional fields its flags ask for. */
static size_t gre_len(unsigned flags)
{
	return 4 + (flags & GRE_C ? 4 : 0) + (flags & GRE_K ? 4 : 0) + (flags & GRE_S ? 4 : 0);
}

static void put_gre(struct pkt *p, unsigned flags, unsigned type, uint32_t key)
{
	put16(p, flags);
	put16(p, type);
	if (flags & GRE_C)
		put32(p, 0xbeef0000); /* checksum (not verified), reserved */
	if (flags & GRE_K)
		put32(p, key);
	if (flags & GRE_S)
		put32(p, 99);
}

static void put_udp(struct pkt *p, unsigned dport, size_t payload_len)
{
	put16(p, 51000);
	put16(p, dport);
	put16(p, 8 + payload_len);
	put16(p, 0);
}

static void put_vxlan(struct pkt *p, unsigned flags, uint32_t vni)
{
	put32(p, (uint32_t)flags << 24);
	put32(p, vni << 8);
}

/* A Geneve header with `opt_words` words of options. */
static void put_geneve(struct pkt *p, unsigned version, unsigned opt_words, unsigned type, uint32_t vni)
{
	put8(p, version << 6 | opt_words);
	put8(p, 0);
	put16(p, type);
	put32(p, vni << 8);
	for (unsigned i = 0; i < opt_words; i++)
		put32(p, i == 0 ? 0x01040101u : 0x2a);
}

static void put_erspan2(struct pkt *p, unsigned version, unsigned session)
{
	put16(p, version << 12 | 10); /* VLAN 10 */
	put16(p, session);
	put32(p, 0);
}

static void put_erspan3(struct pkt *p, unsigned version, unsigned session, unsigned frame_type,
                        bool subheader)
{
	put16(p, version << 12);
	put16(p, session);
	put32(p, 123456); /* timestamp */
	put16(p, 0);      /* SGT */
	put16(p, frame_type << 10 | 5 << 4 | (subheader ? 1 : 0));
	if (subheader) {
		put32(p, 3u << 26);
		put32(p, 0);
	}
}

/* ---- checks ---- */

static void check_outer4(const struct decode_encap *e, enum decode_tunnel_type type)
{
	cr_assert_eq(e->tunnels, 1);
	cr_assert_str_eq(decode_tunnel_type_str((enum decode_tunnel_type)e->tunnel_type),
	                 decode_tunnel_type_str(type));
	check_addr(&e->tunnel_src, "192.0.2.1");
	check_addr(&e->tunnel_dst, "192.0.2.2");
}

static volatile unsigned payload_sink;

/*
 * Every prefix of p: short of the headers (p->len minus the payload), an
 * anomaly; from there on, the segment with as much payload as was captured.
 */
static void check_every_prefix(int linktype, const struct pkt *p, const struct decode_options *opt)
{
	size_t headers = p->len - default_seg.payload_len;
	for (size_t n = 0; n < p->len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		cr_assert_not_null(copy);
		memcpy(copy, p->b, n);
		struct decoded_packet d;
		enum decode_result r = packet_decode(linktype, copy, (uint32_t)n, opt, &d);
		if (n < headers) {
			cr_assert(decode_result_is_anomaly(r), "%zu of %zu bytes: %s", n, p->len,
			          decode_result_str(r));
		} else {
			cr_assert_eq(r, DECODE_OK, "%zu of %zu bytes: %s", n, p->len, decode_result_str(r));
			cr_assert_eq(d.payload, copy + headers);
			cr_assert_eq(d.payload_len, n - headers);
			cr_assert_eq(d.payload_wire_len, default_seg.payload_len);
			unsigned sum = 0;
			for (uint32_t i = 0; i < d.payload_len; i++)
				sum += d.payload[i];
			payload_sink = sum;
		}
		free(copy);
	}
}

/* ---- MPLS ---- */

static void build_mpls(struct pkt *p, unsigned ethertype, int ipver)
{
	p->len = 0;
	put_eth(p, ethertype);
	put_mpls(p, 1000, false);
	put_mpls(p, 2000, true);
	put_inner_ip(p, ipver);
}

Test(packet_encap, decodes_ip_under_an_mpls_label_stack_by_its_version_nibble)
{
	for (int ipver = 4; ipver <= 6; ipver += 2) {
		struct pkt p;
		build_mpls(&p, ipver == 4 ? ETH_MPLS : ETH_MPLS_MC, ipver);
		struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
		check_segment(&d, &p, ipver, &default_seg);
		cr_assert_eq(d.encap.mpls_count, 2);
		cr_assert_eq(d.encap.mpls[0], 1000);
		cr_assert_eq(d.encap.mpls[1], 2000);
		cr_assert_eq(d.encap.tunnels, 0);
		check_every_prefix(LT_EN10MB, &p, NULL);
	}
}

Test(packet_encap, decodes_an_ethernet_pseudowire_after_its_control_word)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_8021Q);
	put_vlan(&p, 5, ETH_MPLS);
	put_mpls(&p, 3000, true);
	put32(&p, 0x00000007); /* control word: first nibble 0, a sequence number */
	put_eth(&p, ETH_8021Q);
	put_vlan(&p, 6, ETH_IPV6);
	put_inner_ip(&p, 6);
	struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
	check_segment(&d, &p, 6, &default_seg);
	cr_assert_eq(d.encap.mpls_count, 1);
	cr_assert_eq(d.encap.vlan_count, 2);
	cr_assert_eq(d.encap.vlan[0], 5);
	cr_assert_eq(d.encap.vlan[1], 6);
	check_every_prefix(LT_EN10MB, &p, NULL);
}

Test(packet_encap, reports_a_label_stack_past_the_cap_as_too_deep)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_MPLS);
	for (unsigned i = 0; i < DECODE_MAX_MPLS; i++)
		put_mpls(&p, 16 + i, false);
	put_mpls(&p, 99, true);
	put_inner_ip(&p, 4);
	check_decode(LT_EN10MB, &p, DECODE_MPLS_TOO_DEEP);
}

Test(packet_encap, reports_what_follows_the_stack_when_it_is_not_ip_nor_a_pseudowire)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_MPLS);
	put_mpls(&p, 1000, true);
	put8(&p, 0x51);
	put_fill(&p, 0, 40);
	check_decode(LT_EN10MB, &p, DECODE_MPLS_UNKNOWN_PAYLOAD);
	p.len = ETH_LEN + 4; /* nothing after the bottom of the stack */
	check_decode(LT_EN10MB, &p, DECODE_MPLS_TRUNCATED);
	p.len = ETH_LEN + 4 + 2; /* a pseudowire control word cut short */
	p.b[ETH_LEN + 4] = 0;
	check_decode(LT_EN10MB, &p, DECODE_MPLS_TRUNCATED);
}

/* ---- GRE ---- */

static void build_gre(struct pkt *p, unsigned flags, int ipver)
{
	p->len = 0;
	put_eth(p, ETH_IPV4);
	put_outer_ipv4(p, P_GRE, gre_len(flags) + inner_ip_len(ipver), IP4_DF);
	put_gre(p, flags, ipver == 4 ? ETH_IPV4 : ETH_IPV6, 0xabcd);
	put_inner_ip(p, ipver);
}

Test(packet_encap, decodes_ip_in_gre_with_every_combination_of_optional_fields)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned flags = (i & 1 ? GRE_C : 0) | (i & 2 ? GRE_K : 0) | (i & 4 ? GRE_S : 0);
		for (int ipver = 4; ipver <= 6; ipver += 2) {
			struct pkt p;
			build_gre(&p, flags, ipver);
			struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
			check_segment(&d, &p, ipver, &default_seg);
			check_outer4(&d.encap, DECODE_TUNNEL_GRE);
			cr_assert_eq(d.encap.tunnel_has_id, (flags & GRE_K) != 0, "flags %#x", flags);
			cr_assert_eq(d.encap.tunnel_id, flags & GRE_K ? 0xabcd : 0);
			check_every_prefix(LT_EN10MB, &p, NULL);
		}
	}
}

Test(packet_encap, decodes_ethernet_in_gre_over_ipv6)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_IPV6);
	put_outer_ipv6(&p, P_GRE, gre_len(GRE_K) + 4 + inner_frame_len(4));
	put_gre(&p, GRE_K, ETH_TEB, 8);
	put_eth(&p, ETH_8021Q);
	put_vlan(&p, 300, ETH_IPV4);
	put_inner_ip(&p, 4);
	struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
	/* The inner IPv4 addresses keep their other twelve bytes zero under an IPv6 tunnel. */
	check_segment(&d, &p, 4, &default_seg);
	struct ip_addr want = {.family = 4, .bytes = {203, 0, 113, 10}};
	cr_assert_eq(ip_addr_compare(&d.src, &want), 0);
	cr_assert_eq(d.encap.tunnel_type, DECODE_TUNNEL_GRE);
	check_addr(&d.encap.tunnel_src, "2001:db8:ffff::1");
	check_addr(&d.encap.tunnel_dst, "2001:db8:ffff::2");
	cr_assert_eq(d.encap.tunnel_id, 8);
	cr_assert_eq(d.encap.vlan_count, 1);
	cr_assert_eq(d.encap.vlan[0], 300);
	check_every_prefix(LT_EN10MB, &p, NULL);
}

Test(packet_encap, reports_gre_versions_and_flags_it_cannot_read)
{
	struct pkt p;
	build_gre(&p, 0, 4);
	p.b[ETH_LEN + IP4_LEN + 1] = 0x01; /* version 1: PPTP */
	check_decode(LT_EN10MB, &p, DECODE_GRE_UNSUPPORTED_VERSION);
	build_gre(&p, 0, 4);
	p.b[ETH_LEN + IP4_LEN] = 0x40; /* routing present (RFC 1701) */
	check_decode(LT_EN10MB, &p, DECODE_GRE_BAD_FLAGS);
	build_gre(&p, 0, 4);
	p.b[ETH_LEN + IP4_LEN] = 0x08; /* strict source route */
	check_decode(LT_EN10MB, &p, DECODE_GRE_BAD_FLAGS);
}

Test(packet_encap, counts_gre_keepalives_and_other_payloads_as_not_ip)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_IPV4);
	put_outer_ipv4(&p, P_GRE, 4, IP4_DF);
	put_gre(&p, 0, 0, 0);
	check_decode(LT_EN10MB, &p, DECODE_NOT_IP);
	p.len = 0;
	put_eth(&p, ETH_IPV4);
	put_outer_ipv4(&p, P_GRE, 4 + 8, IP4_DF);
	put_gre(&p, 0, 0x880b, 0); /* PPP */
	put_fill(&p, 0xff, 8);
	check_decode(LT_EN10MB, &p, DECODE_NOT_IP);
}

Test(packet_encap, reports_a_fragment_of_a_gre_packet_as_a_fragment)
{
	struct pkt p;
	build_gre(&p, 0, 4);
	p.b[ETH_LEN + 6] = 0x20; /* MF */
	check_decode(LT_EN10MB, &p, DECODE_IPV4_FRAGMENT);
}

/* ---- ERSPAN ---- */

static void build_erspan(struct pkt *p, unsigned type, size_t header_len, int ipver)
{
	p->len = 0;
	put_eth(p, ETH_IPV4);
	put_outer_ipv4(p, P_GRE, gre_len(GRE_S) + header_len + inner_frame_len(ipver), IP4_DF);
	put_gre(p, GRE_S, type, 0);
}

Test(packet_encap, decodes_erspan_type_ii_with_its_session_id)
{
	struct pkt p;
	build_erspan(&p, ETH_ERSPAN2, 8, 4);
	put_erspan2(&p, 1, 0x3ff);
	put_inner_frame(&p, 4);
	struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
	check_segment(&d, &p, 4, &default_seg);
	check_outer4(&d.encap, DECODE_TUNNEL_ERSPAN_II);
	cr_assert(d.encap.tunnel_has_id);
	cr_assert_eq(d.encap.tunnel_id, 0x3ff);
	check_every_prefix(LT_EN10MB, &p, NULL);
	p.b[ETH_LEN + IP4_LEN + 8] = 0x20; /* version 2 under type II's protocol type */
	check_decode(LT_EN10MB, &p, DECODE_ERSPAN_BAD_VERSION);
}

Test(packet_encap, decodes_erspan_type_i_as_a_bare_frame_after_gre)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_IPV4);
	put_outer_ipv4(&p, P_GRE, 4 + inner_frame_len(6), IP4_DF);
	put_gre(&p, 0, ETH_ERSPAN2, 0);
	put_inner_frame(&p, 6);
	struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
	check_segment(&d, &p, 6, &default_seg);
	check_outer4(&d.encap, DECODE_TUNNEL_ERSPAN_I);
	cr_assert_not(d.encap.tunnel_has_id);
	check_every_prefix(LT_EN10MB, &p, NULL);
}

Test(packet_encap, decodes_erspan_type_iii_with_and_without_its_subheader)
{
	for (int sub = 0; sub <= 1; sub++) {
		struct pkt p;
		build_erspan(&p, ETH_ERSPAN3, sub ? 20 : 12, 6);
		put_erspan3(&p, 2, 77, 0, sub);
		put_inner_frame(&p, 6);
		struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
		check_segment(&d, &p, 6, &default_seg);
		check_outer4(&d.encap, DECODE_TUNNEL_ERSPAN_III);
		cr_assert_eq(d.encap.tunnel_id, 77);
		check_every_prefix(LT_EN10MB, &p, NULL);
	}
}

Test(packet_encap, decodes_an_erspan_type_iii_ip_frame)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_IPV4);
	put_outer_ipv4(&p, P_GRE, gre_len(GRE_S) + 12 + inner_ip_len(4), IP4_DF);
	put_gre(&p, GRE_S, ETH_ERSPAN3, 0);
	put_erspan3(&p, 2, 1, 2, false);
	put_inner_ip(&p, 4);
	struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
	check_segment(&d, &p, 4, &default_seg);
	check_every_prefix(LT_EN10MB, &p, NULL);
}

Test(packet_encap, reports_erspan_type_iii_with_a_wrong_version_or_frame_type)
{
	struct pkt p;
	build_erspan(&p, ETH_ERSPAN3, 12, 4);
	put_erspan3(&p, 1, 77, 0, false);
	put_inner_frame(&p, 4);
	check_decode(LT_EN10MB, &p, DECODE_ERSPAN_BAD_VERSION);
	build_erspan(&p, ETH_ERSPAN3, 12, 4);
	put_erspan3(&p, 2, 77, 1, false); /* frame type 1: not Ethernet nor IP */
	put_inner_frame(&p, 4);
	check_decode(LT_EN10MB, &p, DECODE_ERSPAN_UNKNOWN_FRAME);
}

/* ---- VXLAN and Geneve ---- */

static void build_vxlan(struct pkt *p, unsigned port, unsigned flags, int ipver)
{
	p->len = 0;
	put_eth(p, ETH_IPV4);
	put_outer_ipv4(p, P_UDP, 8 + 8 + inner_frame_len(ipver), 0);
	put_udp(p, port, 8 + inner_frame_len(ipver));
	put_vxlan(p, flags, 0xabcdef);
	put_inner_frame(p, ipver);
}

Test(packet_encap, decodes_vxlan_on_its_default_port)
{
	for (int ipver = 4; ipver <= 6; ipver += 2) {
		struct pkt p;
		build_vxlan(&p, DECODE_VXLAN_PORT, 0x08, ipver);
		struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
		check_segment(&d, &p, ipver, &default_seg);
		check_outer4(&d.encap, DECODE_TUNNEL_VXLAN);
		cr_assert_eq(d.encap.tunnel_id, 0xabcdef);
		check_every_prefix(LT_EN10MB, &p, NULL);
	}
}

Test(packet_encap, decodes_vxlan_only_on_the_configured_ports)
{
	struct decode_options opt = {.vxlan_ports = {8472, 4790}, .n_vxlan_ports = 2};
	struct pkt p;
	build_vxlan(&p, 4790, 0x08, 4);
	check_decode(LT_EN10MB, &p, DECODE_NOT_TCP);
	struct decoded_packet d;
	cr_assert_eq(packet_decode(LT_EN10MB, p.b, (uint32_t)p.len, &opt, &d), DECODE_OK);
	check_segment(&d, &p, 4, &default_seg);
	check_every_prefix(LT_EN10MB, &p, &opt);
	build_vxlan(&p, DECODE_VXLAN_PORT, 0x08, 4);
	cr_assert_eq(packet_decode(LT_EN10MB, p.b, (uint32_t)p.len, &opt, &d), DECODE_NOT_TCP);
	struct decode_options none = {0};
	cr_assert_eq(packet_decode(LT_EN10MB, p.b, (uint32_t)p.len, &none, &d), DECODE_NOT_TCP);
}

Test(packet_encap, reports_vxlan_without_its_vni_flag_and_udp_with_a_bad_length)
{
	struct pkt p;
	build_vxlan(&p, DECODE_VXLAN_PORT, 0x00, 4);
	check_decode(LT_EN10MB, &p, DECODE_VXLAN_BAD_FLAGS);
	build_vxlan(&p, DECODE_VXLAN_PORT, 0x08, 4);
	p.b[ETH_LEN + IP4_LEN + 4] = 0; /* UDP length 7 */
	p.b[ETH_LEN + IP4_LEN + 5] = 7;
	check_decode(LT_EN10MB, &p, DECODE_UDP_BAD_LENGTH);
	p.b[ETH_LEN + IP4_LEN + 4] = 0xff; /* beyond the IP payload */
	check_decode(LT_EN10MB, &p, DECODE_UDP_BAD_LENGTH);
}

Test(packet_encap, counts_other_udp_and_its_fragments_as_not_tcp)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_IPV4);
	put_outer_ipv4(&p, P_UDP, 8 + 20, 0);
	put_udp(&p, 53, 20);
	put_fill(&p, 0, 20);
	check_decode(LT_EN10MB, &p, DECODE_NOT_TCP);
	build_vxlan(&p, DECODE_VXLAN_PORT, 0x08, 4);
	p.b[ETH_LEN + 6] = 0x20; /* MF: only a first fragment would show its port */
	check_decode(LT_EN10MB, &p, DECODE_NOT_TCP);
}

static void build_geneve(struct pkt *p, unsigned version, unsigned opt_words, int ipver, bool ethernet)
{
	size_t inner = ethernet ? inner_frame_len(ipver) : inner_ip_len(ipver);
	size_t geneve = 8 + opt_words * 4 + inner;
	p->len = 0;
	put_eth(p, ETH_IPV6);
	put_outer_ipv6(p, P_UDP, 8 + geneve);
	put_udp(p, DECODE_GENEVE_PORT, geneve);
	put_geneve(p, version, opt_words, ethernet ? ETH_TEB : ipver == 4 ? ETH_IPV4 : ETH_IPV6, 1234);
	if (ethernet)
		put_inner_frame(p, ipver);
	else
		put_inner_ip(p, ipver);
}

Test(packet_encap, decodes_geneve_with_options_carrying_ethernet_or_ip)
{
	for (int ethernet = 0; ethernet <= 1; ethernet++) {
		struct pkt p;
		build_geneve(&p, 0, 2, 4, ethernet);
		struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
		check_segment(&d, &p, 4, &default_seg);
		cr_assert_eq(d.encap.tunnel_type, DECODE_TUNNEL_GENEVE);
		cr_assert_eq(d.encap.tunnel_id, 1234);
		check_addr(&d.encap.tunnel_src, "2001:db8:ffff::1");
		check_every_prefix(LT_EN10MB, &p, NULL);
	}
}

Test(packet_encap, reports_a_geneve_version_it_does_not_know_and_skips_other_payloads)
{
	struct pkt p;
	build_geneve(&p, 1, 0, 6, true);
	check_decode(LT_EN10MB, &p, DECODE_GENEVE_BAD_VERSION);
	build_geneve(&p, 0, 0, 6, true);
	p.b[ETH_LEN + IP6_LEN + 8] = 63; /* options claimed past the end */
	check_decode(LT_EN10MB, &p, DECODE_GENEVE_TRUNCATED);
	build_geneve(&p, 0, 0, 6, true);
	p.b[ETH_LEN + IP6_LEN + 8 + 2] = 0x88; /* protocol type 0x8847... not one Geneve carries for us */
	check_decode(LT_EN10MB, &p, DECODE_NOT_IP);
}

/* ---- nesting ---- */

/* VXLAN around VXLAN `depth` times around the default segment. */
static void build_nested_vxlan(struct pkt *p, unsigned depth)
{
	p->len = 0;
	size_t inner = inner_frame_len(4);
	for (unsigned i = 0; i < depth; i++)
		inner = ETH_LEN + IP4_LEN + 8 + 8 + inner;
	for (unsigned i = 0; i < depth; i++) {
		put_eth(p, ETH_IPV4);
		inner -= ETH_LEN + IP4_LEN + 8 + 8;
		put_outer_ipv4(p, P_UDP, 8 + 8 + inner + 0, 0);
		put_udp(p, DECODE_VXLAN_PORT, 8 + inner);
		put_vxlan(p, 0x08, i + 1);
	}
	put_inner_frame(p, 4);
}

Test(packet_encap, follows_tunnels_inside_tunnels_up_to_the_cap_and_records_the_outermost)
{
	struct pkt p;
	build_nested_vxlan(&p, DECODE_MAX_TUNNELS);
	struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
	check_segment(&d, &p, 4, &default_seg);
	cr_assert_eq(d.encap.tunnels, DECODE_MAX_TUNNELS);
	cr_assert_eq(d.encap.tunnel_id, 1);
	check_every_prefix(LT_EN10MB, &p, NULL);
	build_nested_vxlan(&p, DECODE_MAX_TUNNELS + 1);
	check_decode(LT_EN10MB, &p, DECODE_TUNNEL_TOO_DEEP);
}

Test(packet_encap, names_every_tunnel_type)
{
	cr_assert_str_eq(decode_tunnel_type_str(DECODE_TUNNEL_NONE), "none");
	cr_assert_str_eq(decode_tunnel_type_str(DECODE_TUNNEL_GRE), "gre");
	cr_assert_str_eq(decode_tunnel_type_str(DECODE_TUNNEL_ERSPAN_I), "erspan_i");
	cr_assert_str_eq(decode_tunnel_type_str(DECODE_TUNNEL_ERSPAN_II), "erspan_ii");
	cr_assert_str_eq(decode_tunnel_type_str(DECODE_TUNNEL_ERSPAN_III), "erspan_iii");
	cr_assert_str_eq(decode_tunnel_type_str(DECODE_TUNNEL_VXLAN), "vxlan");
	cr_assert_str_eq(decode_tunnel_type_str(DECODE_TUNNEL_GENEVE), "geneve");
	cr_assert_str_eq(decode_tunnel_type_str(DECODE_TUNNEL_TYPE_COUNT), "unknown");
}

Test(packet_encap, defaults_to_the_iana_ports)
{
	struct decode_options o;
	decode_options_default(&o);
	cr_assert_eq(o.n_vxlan_ports, 1);
	cr_assert_eq(o.vxlan_ports[0], 4789);
	cr_assert_eq(o.n_geneve_ports, 1);
	cr_assert_eq(o.geneve_ports[0], 6081);
}
