/*
 * test_packet_decode.c: packet decoding at the link layer, and properties of
 * whole packets: every prefix of built and captured packets, the lab
 * captures, result names and address formatting. IP and TCP headers are in
 * test_packet_decode_ip.c.
 *
 * Packets are built by hand with the put_* helpers of
 * tests/support/packet_builder.h, layer by layer, so each test states exactly
 * which bytes it feeds. The every-prefix tests decode copies of exactly the
 * prefix length on the heap, so ASan (TLSOBS_SANITIZE=ON) catches a read past
 * caplen. The capture tests read the lab pcaps in /work/shared/corpus when it
 * is there and skip otherwise.
 */
#include "packet_builder.h"
#include "parsers/packet_decode.h"
#include "test_support.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct link_case {
	int linktype;
	int ipver;
};

static const struct link_case link_cases[] = {
    {LT_EN10MB, 4},      {LT_EN10MB, 6},      {LT_SLL, 4},      {LT_SLL, 6},      {LT_SLL2, 4}, {LT_SLL2, 6},
    {LT_NULL, 4},        {LT_NULL, 6},        {LT_LOOP, 4},     {LT_LOOP, 6},     {LT_RAW, 4},  {LT_RAW, 6},
    {LT_RAW_OPENBSD, 4}, {LT_RAW_OPENBSD, 6}, {LT_RAW_FILE, 4}, {LT_RAW_FILE, 6}, {LT_IPV4, 4}, {LT_IPV6, 6},
};
#define N_LINK_CASES (sizeof link_cases / sizeof link_cases[0])

/* ---- link layers ---- */

Test(packet_decode, decodes_tcp_over_every_supported_link_type)
{
	for (size_t i = 0; i < N_LINK_CASES; i++) {
		struct pkt p;
		build_tcp(&p, link_cases[i].linktype, link_cases[i].ipver, &default_seg);
		struct decoded_packet d = check_decode(link_cases[i].linktype, &p, DECODE_OK);
		check_segment(&d, &p, link_cases[i].ipver, &default_seg);
		cr_assert_eq(d.encap.vlan_count, 0);
	}
}

Test(packet_decode, rejects_an_unknown_link_type)
{
	struct pkt p;
	build_tcp(&p, LT_EN10MB, 4, &default_seg);
	check_decode(105 /* 802.11 */, &p, DECODE_UNSUPPORTED_LINKTYPE);
	check_decode(-1, &p, DECODE_UNSUPPORTED_LINKTYPE);
	check_decode(100000, &p, DECODE_UNSUPPORTED_LINKTYPE);
}

Test(packet_decode, reports_truncated_ethernet_header)
{
	struct pkt p;
	build_tcp(&p, LT_EN10MB, 4, &default_seg);
	p.len = 13;
	check_decode(LT_EN10MB, &p, DECODE_ETH_TRUNCATED);
}

Test(packet_decode, counts_arp_and_lldp_as_not_ip)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_ARP);
	put_fill(&p, 0, 28);
	check_decode(LT_EN10MB, &p, DECODE_NOT_IP);
	p.len = 0;
	put_eth(&p, 0x88cc);
	put_fill(&p, 0, 46);
	check_decode(LT_EN10MB, &p, DECODE_NOT_IP);
}

Test(packet_decode, counts_an_802_3_length_field_as_not_ip)
{
	struct pkt p = {.len = 0};
	put_eth(&p, 0x0026); /* 38 bytes of LLC (spanning tree) */
	put_fill(&p, 0x42, 38);
	check_decode(LT_EN10MB, &p, DECODE_NOT_IP);
	/* The largest length; 0x0600 and up are EtherTypes. */
	p.len = 0;
	put_eth(&p, 0x05ff);
	put_fill(&p, 0x45, 60);
	check_decode(LT_EN10MB, &p, DECODE_NOT_IP);
}

Test(packet_decode, decodes_an_802_1q_tag_and_keeps_only_the_vlan_id)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_8021Q);
	put_vlan(&p, 0xa000 | 100, ETH_IPV4); /* priority 5 */
	put_ipv4(&p, P_TCP, 0, IP4_DF, seg_len(&default_seg));
	put_tcp(&p, &default_seg);
	struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
	cr_assert_eq(d.encap.vlan_count, 1);
	cr_assert_eq(d.encap.vlan[0], 100);
	check_segment(&d, &p, 4, &default_seg);
}

Test(packet_decode, decodes_qinq_tags_outermost_first)
{
	static const unsigned outer_types[] = {ETH_8021AD, ETH_QINQ_OLD, ETH_8021Q};
	for (size_t i = 0; i < 3; i++) {
		struct pkt p = {.len = 0};
		put_eth(&p, outer_types[i]);
		put_vlan(&p, 200, ETH_8021Q);
		put_vlan(&p, 4095, ETH_IPV6);
		put_ipv6(&p, P_TCP, seg_len(&default_seg));
		put_tcp(&p, &default_seg);
		struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
		cr_assert_eq(d.encap.vlan_count, 2);
		cr_assert_eq(d.encap.vlan[0], 200);
		cr_assert_eq(d.encap.vlan[1], 4095);
		check_segment(&d, &p, 6, &default_seg);
	}
}

Test(packet_decode, decodes_a_stack_of_four_tags_of_every_kind)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_8021AD);
	put_vlan(&p, 1, ETH_QINQ_OLD);
	put_vlan(&p, 2, ETH_8021Q);
	put_vlan(&p, 3, ETH_8021Q);
	put_vlan(&p, 4, ETH_IPV4);
	put_ipv4(&p, P_TCP, 0, 0, seg_len(&default_seg));
	put_tcp(&p, &default_seg);
	struct decoded_packet d = check_decode(LT_EN10MB, &p, DECODE_OK);
	cr_assert_eq(d.encap.vlan_count, 4);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(d.encap.vlan[i], i + 1);
	check_segment(&d, &p, 4, &default_seg);
}

Test(packet_decode, reports_a_fifth_vlan_tag_as_too_deep)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_8021AD);
	for (unsigned i = 1; i <= 4; i++)
		put_vlan(&p, i, ETH_8021Q);
	put_vlan(&p, 5, ETH_IPV4);
	put_ipv4(&p, P_TCP, 0, 0, seg_len(&default_seg));
	put_tcp(&p, &default_seg);
	check_decode(LT_EN10MB, &p, DECODE_VLAN_TOO_DEEP);
}

Test(packet_decode, reports_a_truncated_vlan_tag)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_8021Q);
	put16(&p, 100);
	put8(&p, 0x08); /* half the inner type */
	check_decode(LT_EN10MB, &p, DECODE_VLAN_TRUNCATED);
}

Test(packet_decode, counts_arp_inside_a_vlan_as_not_ip)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_8021Q);
	put_vlan(&p, 7, ETH_ARP);
	put_fill(&p, 0, 28);
	check_decode(LT_EN10MB, &p, DECODE_NOT_IP);
}

Test(packet_decode, decodes_vlan_tags_kept_in_cooked_captures)
{
	struct pkt p = {.len = 0};
	put_sll(&p, ETH_8021Q);
	put_vlan(&p, 42, ETH_IPV4);
	put_ipv4(&p, P_TCP, 0, 0, seg_len(&default_seg));
	put_tcp(&p, &default_seg);
	struct decoded_packet d = check_decode(LT_SLL, &p, DECODE_OK);
	cr_assert_eq(d.encap.vlan_count, 1);
	cr_assert_eq(d.encap.vlan[0], 42);

	p.len = 0;
	put_sll2(&p, ETH_8021Q);
	put_vlan(&p, 43, ETH_IPV6);
	put_ipv6(&p, P_TCP, seg_len(&default_seg));
	put_tcp(&p, &default_seg);
	d = check_decode(LT_SLL2, &p, DECODE_OK);
	cr_assert_eq(d.encap.vlan[0], 43);
	check_segment(&d, &p, 6, &default_seg);
}

Test(packet_decode, reports_truncated_cooked_headers)
{
	struct pkt p;
	build_tcp(&p, LT_SLL, 4, &default_seg);
	p.len = 15;
	check_decode(LT_SLL, &p, DECODE_SLL_TRUNCATED);
	build_tcp(&p, LT_SLL2, 4, &default_seg);
	p.len = 19;
	check_decode(LT_SLL2, &p, DECODE_SLL2_TRUNCATED);
}

Test(packet_decode, counts_non_ethertype_cooked_protocols_as_not_ip)
{
	struct pkt p = {.len = 0};
	put_sll(&p, 0x0004); /* LINUX_SLL_P_802_2 */
	put_fill(&p, 0x42, 40);
	check_decode(LT_SLL, &p, DECODE_NOT_IP);
	p.len = 0;
	put_sll2(&p, ETH_ARP);
	put_fill(&p, 0, 28);
	check_decode(LT_SLL2, &p, DECODE_NOT_IP);
}

/* DLT_NULL: the family in the byte order of whatever machine captured. */
static void check_null_family(uint32_t family, bool little_endian, int ipver)
{
	struct pkt p = {.len = 0};
	if (little_endian)
		put_le32(&p, family);
	else
		put32(&p, family);
	if (ipver == 4)
		put_ipv4(&p, P_TCP, 0, 0, seg_len(&default_seg));
	else
		put_ipv6(&p, P_TCP, seg_len(&default_seg));
	put_tcp(&p, &default_seg);
	struct decoded_packet d = check_decode(LT_NULL, &p, DECODE_OK);
	check_segment(&d, &p, ipver, &default_seg);
}

Test(packet_decode, accepts_dlt_null_families_in_either_byte_order)
{
	static const uint32_t inet6[] = {10, 24, 28, 30};
	for (int le = 0; le < 2; le++) {
		check_null_family(2, le, 4);
		for (size_t i = 0; i < 4; i++)
			check_null_family(inet6[i], le, 6);
	}
}

Test(packet_decode, counts_other_loopback_families_as_not_ip)
{
	struct pkt p = {.len = 0};
	put_le32(&p, 17); /* AF_ROUTE on BSD */
	put_fill(&p, 0x45, 40);
	check_decode(LT_NULL, &p, DECODE_NOT_IP);
	check_decode(LT_LOOP, &p, DECODE_NOT_IP);
}

Test(packet_decode, reads_dlt_loop_families_in_network_order)
{
	struct pkt p;
	build_tcp(&p, LT_LOOP, 6, &default_seg);
	struct decoded_packet d = check_decode(LT_LOOP, &p, DECODE_OK);
	check_segment(&d, &p, 6, &default_seg);
	/* Network order only: a little-endian AF_INET is some other family. */
	p.len = 0;
	put_le32(&p, 2);
	put_ipv4(&p, P_TCP, 0, 0, seg_len(&default_seg));
	put_tcp(&p, &default_seg);
	check_decode(LT_LOOP, &p, DECODE_NOT_IP);
}

Test(packet_decode, reports_truncated_loopback_headers)
{
	struct pkt p = {.len = 0};
	put8(&p, 2);
	put8(&p, 0);
	put8(&p, 0);
	check_decode(LT_NULL, &p, DECODE_LOOPBACK_TRUNCATED);
	check_decode(LT_LOOP, &p, DECODE_LOOPBACK_TRUNCATED);
}

Test(packet_decode, lets_the_version_nibble_choose_for_raw_ip)
{
	struct pkt p;
	build_tcp(&p, LT_RAW, 6, &default_seg);
	check_decode(LT_RAW, &p, DECODE_OK);
	/* The single-family link types do not look at the nibble to choose. */
	check_decode(LT_IPV4, &p, DECODE_IPV4_BAD_VERSION);
	build_tcp(&p, LT_RAW, 4, &default_seg);
	check_decode(LT_RAW, &p, DECODE_OK);
	check_decode(LT_IPV6, &p, DECODE_IPV6_BAD_VERSION);
}

Test(packet_decode, reports_raw_ip_with_another_version_as_bad_version)
{
	struct pkt p;
	build_tcp(&p, LT_RAW, 4, &default_seg);
	p.b[0] = 0x55;
	check_decode(LT_RAW, &p, DECODE_IPV4_BAD_VERSION);
	p.len = 0;
	check_decode(LT_RAW, &p, DECODE_IPV4_TRUNCATED);
}

/* ---- every prefix ---- */

/*
 * Decodes data[0..len) from a heap copy of exactly len bytes, so ASan sees
 * any read past the end. A prefix short of the headers must be an anomaly;
 * a longer one is a snap-length cut: OK, the payload what is left of it.
 */
static volatile unsigned payload_sink;

static void check_prefixes(int linktype, const uint8_t *data, size_t len, size_t headers, size_t payload_len)
{
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		cr_assert_not_null(copy);
		memcpy(copy, data, n);
		struct decoded_packet d;
		enum decode_result r = packet_decode(linktype, copy, (uint32_t)n, NULL, &d);
		if (n < headers) {
			cr_assert(decode_result_is_anomaly(r), "link %d, %zu of %zu bytes: %s", linktype, n,
			          len, decode_result_str(r));
		} else {
			cr_assert_eq(r, DECODE_OK, "link %d, %zu of %zu bytes: %s", linktype, n, len,
			             decode_result_str(r));
			cr_assert_eq(d.payload, copy + headers);
			cr_assert_eq(d.payload_len, n - headers);
			cr_assert_eq(d.payload_wire_len, payload_len);
			/* Touch the slice: ASan checks it lies inside the copy. */
			unsigned sum = 0;
			for (uint32_t i = 0; i < d.payload_len; i++)
				sum += d.payload[i];
			payload_sink = sum;
		}
		free(copy);
	}
}

/* Prefixes of a packet that is not ours: the same verdict, or an anomaly where it was cut. */
static void check_other_prefixes(int linktype, const uint8_t *data, size_t len, enum decode_result whole)
{
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		cr_assert_not_null(copy);
		memcpy(copy, data, n);
		struct decoded_packet d;
		enum decode_result r = packet_decode(linktype, copy, (uint32_t)n, NULL, &d);
		cr_assert(r == whole || decode_result_is_anomaly(r), "link %d, %zu of %zu bytes: %s",
		          linktype, n, len, decode_result_str(r));
		free(copy);
	}
}

static void check_built_prefixes(int linktype, const struct pkt *p, const struct seg *s)
{
	check_prefixes(linktype, p->b, p->len, p->len - s->payload_len, s->payload_len);
}

Test(packet_decode, handles_every_prefix_of_packets_of_each_link_type)
{
	struct seg syn = default_seg;
	syn.flags = TCP_SYN;
	syn.opt_len = 20;
	syn.payload_len = 0;
	struct seg data = default_seg;
	data.payload_len = 100;
	for (size_t i = 0; i < N_LINK_CASES; i++) {
		struct pkt p;
		build_tcp(&p, link_cases[i].linktype, link_cases[i].ipver, &syn);
		check_built_prefixes(link_cases[i].linktype, &p, &syn);
		build_tcp(&p, link_cases[i].linktype, link_cases[i].ipver, &data);
		check_built_prefixes(link_cases[i].linktype, &p, &data);
	}
}

Test(packet_decode, handles_every_prefix_of_tagged_and_optioned_packets)
{
	struct pkt p = {.len = 0};
	put_eth(&p, ETH_8021AD);
	put_vlan(&p, 10, ETH_8021Q);
	put_vlan(&p, 20, ETH_IPV4);
	put_ipv4(&p, P_TCP, 12, IP4_DF, seg_len(&default_seg));
	put_tcp(&p, &default_seg);
	check_built_prefixes(LT_EN10MB, &p, &default_seg);

	p.len = 0;
	put_sll2(&p, ETH_8021Q);
	put_vlan(&p, 30, ETH_IPV6);
	put_ipv6(&p, P_HOPOPTS, 8 + 16 + 12 + 8 + seg_len(&default_seg));
	put_ipv6_ext(&p, P_HOPOPTS, P_DSTOPTS, 8);
	put_ipv6_ext(&p, P_DSTOPTS, P_AH, 16);
	put_ipv6_ext(&p, P_AH, P_FRAGMENT, 12);
	put_ipv6_frag(&p, P_TCP, 0); /* atomic */
	put_tcp(&p, &default_seg);
	check_built_prefixes(LT_SLL2, &p, &default_seg);
}

/* ---- real captures ---- */

/* Just enough of the pcap format: 24-byte file header, 16-byte record headers. */
struct pcap_file {
	uint8_t *buf;
	size_t len, off;
	bool big_endian;
	uint32_t linktype;
};

static uint32_t pcap_u32(const struct pcap_file *f, size_t at)
{
	const uint8_t *b = f->buf + at;
	if (f->big_endian)
		return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

static void pcap_open(struct pcap_file *f, const char *path)
{
	f->buf = test_read_file(path, &f->len);
	cr_assert_not_null(f->buf, "cannot read %s", path);
	cr_assert_geq(f->len, 24, "%s: no pcap header", path);
	f->big_endian = false;
	uint32_t magic = pcap_u32(f, 0);
	if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
		f->big_endian = true;
		magic = pcap_u32(f, 0);
	}
	cr_assert(magic == 0xa1b2c3d4 || magic == 0xa1b23c4d, "%s: not a pcap file", path);
	f->linktype = pcap_u32(f, 20) & 0xffff; /* the upper bits carry FCS information */
	f->off = 24;
}

/* The next record as a heap copy of exactly its captured length; NULL at the end. */
static uint8_t *pcap_next(struct pcap_file *f, uint32_t *caplen)
{
	if (f->len - f->off < 16)
		return NULL;
	*caplen = pcap_u32(f, f->off + 8);
	f->off += 16;
	cr_assert_leq(*caplen, f->len - f->off, "pcap record runs past the end of the file");
	uint8_t *copy = malloc(*caplen ? *caplen : 1);
	cr_assert_not_null(copy);
	memcpy(copy, f->buf + f->off, *caplen);
	f->off += *caplen;
	return copy;
}

static const char *corpus_file(const char *name)
{
	static char path[4096];
	struct stat st;
	snprintf(path, sizeof path, "%s", test_source_path("../shared/corpus"));
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		cr_skip_test("no lab corpus at %s", path);
	snprintf(path, sizeof path, "%s", test_source_path("../shared/corpus/lab/"));
	size_t used = strlen(path);
	snprintf(path + used, sizeof path - used, "%s", name);
	return path;
}

/*
 * Every TCP packet of a lab capture decodes, between the expected endpoints;
 * the rest (ARP, neighbour discovery) is counted as not ours, never as an anomaly.
 */
static void check_capture(const char *name, const char *client, uint16_t client_port, const char *server,
                          unsigned tcp_packets)
{
	struct pcap_file f;
	pcap_open(&f, corpus_file(name));
	unsigned ok = 0, index = 0;
	uint32_t caplen;
	uint8_t *data;
	for (; (data = pcap_next(&f, &caplen)) != NULL; index++, free(data)) {
		struct decoded_packet d;
		enum decode_result r = packet_decode((int)f.linktype, data, caplen, NULL, &d);
		cr_assert(r == DECODE_OK || r == DECODE_NOT_IP || r == DECODE_NOT_TCP, "%s packet %u: %s",
		          name, index, decode_result_str(r));
		if (r != DECODE_OK)
			continue;
		ok++;
		char src[64], dst[64];
		ip_addr_format(&d.src, src, sizeof src);
		ip_addr_format(&d.dst, dst, sizeof dst);
		bool to_server =
		    d.dport == 25 && d.sport == client_port && !strcmp(src, client) && !strcmp(dst, server);
		bool to_client =
		    d.sport == 25 && d.dport == client_port && !strcmp(src, server) && !strcmp(dst, client);
		cr_assert(to_server || to_client, "%s packet %u: %s:%u > %s:%u", name, index, src, d.sport,
		          dst, d.dport);
		cr_assert_leq(d.payload_len, d.payload_wire_len);
	}
	cr_assert_eq(ok, tcp_packets, "%s: %u TCP packets decoded", name, ok);
	free(f.buf);
}

Test(packet_decode, decodes_every_packet_of_the_ipv6_starttls_capture)
{
	check_capture("ipv6-starttls.pcap", "2001:db8:c1::10", 43238, "2001:db8:5e::25", 26);
}

Test(packet_decode, decodes_every_packet_of_the_tls12_starttls_capture)
{
	check_capture("starttls-tls12-ok.pcap", "203.0.113.10", 48946, "198.51.100.25", 26);
}

Test(packet_decode, handles_every_prefix_of_real_captured_packets)
{
	static const char *const names[] = {"ipv6-starttls.pcap", "starttls-tls12-ok.pcap"};
	for (size_t i = 0; i < 2; i++) {
		struct pcap_file f;
		pcap_open(&f, corpus_file(names[i]));
		uint32_t caplen;
		uint8_t *data;
		while ((data = pcap_next(&f, &caplen)) != NULL) {
			struct decoded_packet d;
			enum decode_result whole = packet_decode((int)f.linktype, data, caplen, NULL, &d);
			size_t headers = whole == DECODE_OK ? (size_t)(d.payload - data) : 0;
			/* Padding past the IP length would make the tail decode the same. */
			if (whole == DECODE_OK && headers + d.payload_len == caplen)
				check_prefixes((int)f.linktype, data, caplen, headers, d.payload_wire_len);
			else if (whole != DECODE_OK)
				check_other_prefixes((int)f.linktype, data, caplen, whole);
			free(data);
		}
		free(f.buf);
	}
}

/* ---- names and addresses ---- */

Test(packet_decode, names_every_result_in_distinct_snake_case)
{
	for (int i = 0; i < DECODE_RESULT_COUNT; i++) {
		const char *name = decode_result_str((enum decode_result)i);
		cr_assert_not_null(name);
		cr_assert_str_neq(name, "unknown", "result %d has no name", i);
		cr_assert_eq(strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_"), strlen(name), "%s", name);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(name, decode_result_str((enum decode_result)j));
	}
	cr_assert_str_eq(decode_result_str(DECODE_IPV4_TRUNCATED), "ipv4_truncated");
	cr_assert_str_eq(decode_result_str(DECODE_VLAN_TOO_DEEP), "vlan_too_deep");
	cr_assert_str_eq(decode_result_str(DECODE_NOT_TCP), "not_tcp");
	cr_assert_str_eq(decode_result_str(DECODE_RESULT_COUNT), "unknown");
}

Test(packet_decode, calls_only_malformed_input_an_anomaly)
{
	cr_assert_not(decode_result_is_anomaly(DECODE_OK));
	cr_assert_not(decode_result_is_anomaly(DECODE_NOT_IP));
	cr_assert_not(decode_result_is_anomaly(DECODE_NOT_TCP));
	/* Fragments go to reassembly (sensor/flow/defrag.h): not malformed. */
	cr_assert_not(decode_result_is_anomaly(DECODE_IPV4_FRAGMENT));
	cr_assert_not(decode_result_is_anomaly(DECODE_IPV6_FRAGMENT));
	for (int i = DECODE_UNSUPPORTED_LINKTYPE; i < DECODE_RESULT_COUNT; i++)
		if (i != DECODE_IPV4_FRAGMENT && i != DECODE_IPV6_FRAGMENT)
			cr_assert(decode_result_is_anomaly((enum decode_result)i), "%s",
			          decode_result_str(i));
	cr_assert_not(decode_result_is_anomaly(DECODE_RESULT_COUNT));
}

Test(packet_decode, formats_addresses_of_both_families)
{
	struct ip_addr a = {.family = 4, .bytes = {192, 0, 2, 1}};
	check_addr(&a, "192.0.2.1");
	struct ip_addr b = {.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
	check_addr(&b, "2001:db8::1");
	char buf[46];
	struct ip_addr longest = {.family = 6,
	                          .bytes = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                    0xff, 255, 255, 255, 255}};
	cr_assert_str_eq(ip_addr_format(&longest, buf, sizeof buf),
	                 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

Test(packet_decode, formats_ipv4_as_inet_ntop_does_for_every_byte_value)
{
	for (unsigned v = 0; v < 256; v++) {
		struct ip_addr a = {
		    .family = 4,
		    .bytes = {(uint8_t)v, (uint8_t)(255 - v), (uint8_t)(v / 3), (uint8_t)(v * 7)}};
		char want[INET_ADDRSTRLEN], got[46];
		cr_assert_not_null(inet_ntop(AF_INET, a.bytes, want, sizeof want));
		cr_assert_str_eq(ip_addr_format(&a, got, sizeof got), want);
		cr_assert_str_eq(ip_addr_format(&a, got, 16), want, "the longest dotted quad fits 16 bytes");
	}
}

Test(packet_decode, formats_an_unknown_family_or_short_buffer_as_a_question_mark)
{
	struct ip_addr none = {.family = 0};
	char buf[46];
	cr_assert_str_eq(ip_addr_format(&none, buf, sizeof buf), "?");
	struct ip_addr a = {.family = 4, .bytes = {192, 0, 2, 1}};
	cr_assert_str_eq(ip_addr_format(&a, buf, 4), "?");
	cr_assert_str_eq(ip_addr_format(&a, buf, 0), "?");
}

Test(packet_decode, orders_addresses_by_family_then_bytes)
{
	struct ip_addr v4a = {.family = 4, .bytes = {10, 0, 0, 1}};
	struct ip_addr v4b = {.family = 4, .bytes = {10, 0, 0, 2}};
	struct ip_addr v6 = {.family = 6, .bytes = {0}};
	cr_assert_lt(ip_addr_compare(&v4a, &v4b), 0);
	cr_assert_gt(ip_addr_compare(&v4b, &v4a), 0);
	cr_assert_eq(ip_addr_compare(&v4a, &v4a), 0);
	cr_assert_lt(ip_addr_compare(&v4b, &v6), 0, "any IPv4 sorts before any IPv6");
	cr_assert_gt(ip_addr_compare(&v6, &v4a), 0);
}
