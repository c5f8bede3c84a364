/*
 * test_flow_hash.c: the workers' dispatch hash is the same both ways, for IPv4
 * and IPv6, for every fragment of a datagram (which carry no ports after the
 * first) as for the whole segment, and spreads host pairs over the workers.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sensor/workers/flow_hash.h"
#include "capture_packets.h"
#include "ip_text.h"
#include "packet_builder.h"
#include "test_support.h"

Test(flow_hash, is_the_same_both_ways_for_ipv4_and_ipv6)
{
	const char *pairs[][2] = {{"192.0.2.1", "198.51.100.25"},
	                          {"203.0.113.10", "10.0.0.1"},
	                          {"2001:db8::1", "2001:db8:ffff::25"},
	                          {"::1", "2001:db8::2"}};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		struct ip_addr a = addr(pairs[i][0]), b = addr(pairs[i][1]);
		cr_assert_eq(flow_hash_pair(&a, &b), flow_hash_pair(&b, &a), "%s %s", pairs[i][0],
		             pairs[i][1]);
		for (unsigned n = 1; n <= 16; n++)
			cr_assert_eq(flow_hash_worker(flow_hash_pair(&a, &b), n),
			             flow_hash_worker(flow_hash_pair(&b, &a), n));
	}
	struct ip_addr a = addr("192.0.2.1"), b = addr("192.0.2.2"), c = addr("192.0.2.3");
	cr_assert_neq(flow_hash_pair(&a, &b), flow_hash_pair(&a, &c), "another host pair, another hash");
}

Test(flow_hash, mixes_each_address_before_they_meet)
{
	/* fmix32(0xc0000201), worked in Python. */
	cr_assert_eq(flow_hash_mix(0xc0000201u), 0xd7423d9eu);
	struct ip_addr a = addr("192.0.2.1"), b = addr("198.51.100.25");
	cr_assert_eq(flow_hash_pair(&a, &b), flow_hash_mix(0xc0000201u) ^ flow_hash_mix(0xc6336419u));
	struct ip_addr v6 = addr("2001:db8::1"); /* its words XORed: 0x20010db8 ^ 0 ^ 0 ^ 1 */
	cr_assert_eq(flow_hash_pair(&v6, &b), flow_hash_mix(0x20010db9u) ^ flow_hash_mix(0xc6336419u));
}

Test(flow_hash, spreads_hosts_that_differ_only_in_their_middle_octets)
{
	/* The bench capture's copies: 10.a.b.10 talks to 172.16+a.b.25; the plain fold % 2 puts all on one.
	 */
	unsigned count[2] = {0};
	for (unsigned k = 0; k < 1000; k++) {
		char c[32], s[32];
		snprintf(c, sizeof c, "10.%u.%u.10", k >> 8, k & 255);
		snprintf(s, sizeof s, "172.%u.%u.25", 16 + (k >> 8), k & 255);
		struct ip_addr a = addr(c), b = addr(s);
		count[flow_hash_worker(flow_hash_pair(&a, &b), 2)]++;
	}
	cr_assert(count[0] > 400 && count[1] > 400, "mixed: %u and %u", count[0], count[1]);
}

/* The hash of a packet as the dispatcher sees it (decoded: TCP or a fragment). */
static uint32_t hash_of(const struct pkt *p, enum decode_result want)
{
	struct decoded_packet d = check_decode_at(__LINE__, LT_RAW, p, want);
	return flow_hash_packet(&d);
}

Test(flow_hash, every_fragment_of_a_datagram_goes_with_its_flow)
{
	struct pkt whole = {0}, first = {0}, second = {0};
	build_tcp(&whole, LT_RAW, 4, &default_seg);
	/* The same segment cut in two: the first fragment has the TCP header, the second only data. */
	put_ipv4(&first, P_TCP, 0, IP4_MF, 24);
	put_tcp(&first, &(struct seg){.sport = 48946, .dport = 25, .flags = 0x18, .payload_len = 4});
	put_ipv4(&second, P_TCP, 0, 3, 16);
	put_fill(&second, 'x', 16);
	uint32_t h = hash_of(&whole, DECODE_OK);
	cr_assert_eq(hash_of(&first, DECODE_IPV4_FRAGMENT), h);
	cr_assert_eq(hash_of(&second, DECODE_IPV4_FRAGMENT), h);
	struct pkt v6 = {0}, v6frag = {0};
	build_tcp(&v6, LT_RAW, 6, &default_seg);
	put_ipv6(&v6frag, P_FRAGMENT, 8 + 16);
	put_ipv6_frag(&v6frag, P_TCP, 3 << 3);
	put_fill(&v6frag, 'y', 16);
	cr_assert_eq(hash_of(&v6frag, DECODE_IPV6_FRAGMENT), hash_of(&v6, DECODE_OK));
}

Test(flow_hash, spreads_host_pairs_over_the_workers)
{
	unsigned count[4] = {0};
	for (unsigned i = 0; i < 4000; i++) {
		char text[32];
		snprintf(text, sizeof text, "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
		struct ip_addr a = addr(text), b = addr("198.51.100.25");
		count[flow_hash_worker(flow_hash_pair(&a, &b), 4)]++;
	}
	for (unsigned w = 0; w < 4; w++)
		cr_assert(count[w] > 800 && count[w] < 1200, "worker %u got %u of 4000 host pairs", w,
		          count[w]);
	cr_assert_eq(flow_hash_worker(~0u, 1), 0);
	cr_assert_lt(flow_hash_worker(~0u, 3), 3);
}

/* One frame through both paths: the shortcut, when it takes the frame, gives the full decode's hash. */
static bool check_frame(const struct capture_packet *cp, const struct decode_options *opt, const char *what,
                        size_t n)
{
	struct decoded_packet d;
	enum decode_result r = packet_decode(cp->linktype, cp->data, cp->caplen, opt, &d);
	uint32_t fast;
	bool took = flow_hash_plain_frame(cp->linktype, cp->data, cp->caplen, &fast);
	if (took) {
		cr_assert(r == DECODE_OK || r == DECODE_IPV4_FRAGMENT, "%s packet %zu: %s", what, n,
		          decode_result_str(r));
		cr_assert_eq(fast, flow_hash_packet(&d), "%s packet %zu", what, n);
		cr_assert(d.src.family == 4 && d.encap.vlan_count == 0, "%s packet %zu: more than one layer",
		          what, n);
	}
	return took;
}

/* The reader's shortcut agrees with the full decode on every frame it takes, and leaves VLAN and IPv6 frames.
 */
Test(flow_hash, the_plain_frame_shortcut_agrees_with_the_full_decode)
{
	const char *fixtures[] = {"tests/fixtures/starttls-tls12.pcap", "tests/fixtures/smtps-465.pcap",
	                          "tests/fixtures/cleartext-on-465.pcap",
	                          "tests/fixtures/ipv6-starttls.pcap"};
	struct decode_options opt;
	decode_options_default(&opt);
	static struct packets ps;
	unsigned taken = 0, left = 0;
	for (size_t f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
		read_capture(fixtures[f], &ps);
		for (size_t i = 0; i < ps.n; i++) {
			const struct capture_packet *cp = &ps.p[i];
			if (check_frame(cp, &opt, fixtures[f], i + 1))
				taken++;
			else
				left++;
			if (cp->linktype != 1 || cp->caplen < 14 || cp->caplen > 2000)
				continue;
			/* the same frame with an 802.1Q tag after the MAC addresses: the full decode's
			 * business */
			uint8_t tagged[2004];
			memcpy(tagged, cp->data, 12);
			memcpy(tagged + 12, (const uint8_t[]){0x81, 0x00, 0x00, 0x64}, 4);
			memcpy(tagged + 16, cp->data + 12, cp->caplen - 12);
			struct capture_packet vlan = *cp;
			vlan.data = tagged;
			vlan.caplen = cp->caplen + 4;
			vlan.len = cp->len + 4;
			cr_assert_not(check_frame(&vlan, &opt, fixtures[f], i + 1),
			              "a VLAN frame went the short way");
		}
		free_packets(&ps);
	}
	cr_assert_gt(taken, 50, "the plain IPv4 frames go the short way");
	cr_assert_gt(left, 20, "the IPv6 frames are left to the full decode");
}
