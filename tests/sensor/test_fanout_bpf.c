/*
 * test_fanout_bpf.c: the live fanout program (sensor/capture/fanout_bpf.h) run in user space by libpcap's
 * bpf_filter(), against a reference C implementation of the workers' pair hash over the pair the decoder
 * reports, and against the file reader's (sensor/workers/flow_hash.c): one hash for files and live.
 *
 * The kernel runs the program with the data at the Ethernet header (outgoing packets) or at the network
 * header with skb->protocol telling what it is (incoming ones). bpf_filter() has no Linux metadata loads, so
 * the test runs the same generated body behind the two user-space entries of fanout_bpf_build(): from the
 * frame (FANOUT_BPF_AT_FRAME), and from after the EtherType with the outer 802.1Q/802.1ad tag taken out as
 * the kernel's skb_vlan_untag() does (FANOUT_BPF_AT_NETWORK). The kernel entry itself runs in
 * tests/integration/live_fanout.sh.
 */
#include "sensor/capture/fanout_bpf.h"

#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flow_hash_vectors.h"
#include "sensor/workers/flow_hash.h"
#include "ip_text.h"
#include "packet_builder.h"
#include "flow_hash_reference.h"

static struct fanout_bpf_insn prog[FANOUT_BPF_MAX_INSNS];

static uint32_t run(enum fanout_bpf_entry entry, uint16_t ethertype, const uint8_t *data, size_t len)
{
	size_t n = fanout_bpf_build(NULL, entry, ethertype, prog, FANOUT_BPF_MAX_INSNS);
	cr_assert_gt(n, 0, "the program builds");
	return bpf_filter((const struct bpf_insn *)prog, data, (u_int)len, (u_int)len);
}

static uint32_t run_frame(const uint8_t *data, size_t len)
{
	return run(FANOUT_BPF_AT_FRAME, 0, data, len);
}

/* As the kernel's incoming path sees the frame: an outer 802.1Q or 802.1ad tag in the metadata, the
 * data from the network header, skb->protocol the EtherType after them. */
static uint32_t run_network(const uint8_t *data, size_t len)
{
	cr_assert_geq(len, 14);
	uint16_t type = (uint16_t)(data[12] << 8 | data[13]);
	size_t at = 14;
	if ((type == 0x8100 || type == 0x88a8) && len >= 18) {
		type = (uint16_t)(data[16] << 8 | data[17]);
		at = 18;
	}
	return run(FANOUT_BPF_AT_NETWORK, type, data + at, len - at);
}

/* Both entries agree with the reference over the pair the decoder reports; returns the hash. */
static uint32_t check_packet(const uint8_t *data, size_t len, const char *what)
{
	struct decoded_packet d;
	enum decode_result r = packet_decode(LT_EN10MB, data, (uint32_t)len, NULL, &d);
	cr_assert(r == DECODE_OK || r == DECODE_IPV4_FRAGMENT || r == DECODE_IPV6_FRAGMENT,
	          "%s: decoded as %s", what, decode_result_str(r));
	uint32_t want = flow_hash_reference(&d.src, &d.dst);
	cr_assert_eq(flow_hash_packet(&d), want, "%s: the file reader's hash (sensor/workers/flow_hash.c)",
	             what);
	uint32_t frame = run_frame(data, len), network = run_network(data, len);
	cr_assert_eq(frame, want, "%s: from the frame %#x, the pair's hash %#x", what, frame, want);
	cr_assert_eq(network, want, "%s: from the network header %#x, the pair's hash %#x", what, network,
	             want);
	return want;
}

/* Writes the addresses of the IP header at `ip` of p. */
static void set_pair(struct pkt *p, size_t ip, const struct ip_addr *src, const struct ip_addr *dst)
{
	size_t len = src->family == 6 ? 16 : 4, at = ip + (src->family == 6 ? 8 : 12);
	memcpy(p->b + at, src->bytes, len);
	memcpy(p->b + at + len, dst->bytes, len);
}

Test(fanout_bpf, every_shared_vector_gives_its_hash_in_both_directions)
{
	for (size_t i = 0; i < FLOW_HASH_VECTORS; i++) {
		const struct flow_hash_vector *v = &flow_hash_vectors[i];
		struct ip_addr a = addr(v->src), b = addr(v->dst);
		cr_assert_eq(flow_hash_reference(&a, &b), v->x, "vector %zu: the reference", i);
		cr_assert_eq(flow_hash_pair(&a, &b), v->x, "vector %zu: the file reader's flow_hash_pair", i);
		struct pkt p = {0};
		build_tcp(&p, LT_EN10MB, a.family, &default_seg);
		set_pair(&p, 14, &a, &b);
		cr_assert_eq(check_packet(p.b, p.len, v->src), v->x, "vector %zu forwards", i);
		set_pair(&p, 14, &b, &a);
		cr_assert_eq(check_packet(p.b, p.len, v->dst), v->x, "vector %zu backwards", i);
	}
}

Test(fanout_bpf, ipv4_options_and_ipv6_extension_headers_are_walked)
{
	struct pkt p = {0};
	put_eth(&p, ETH_IPV4);
	put_ipv4(&p, P_TCP, 12, IP4_DF, seg_len(&default_seg));
	put_tcp(&p, &default_seg);
	check_packet(p.b, p.len, "IPv4 with 12 bytes of options");

	struct pkt q = {0};
	size_t ext = 8 + 16 + 12 + 8;
	put_eth(&q, ETH_IPV6);
	put_ipv6(&q, P_HOPOPTS, ext + seg_len(&default_seg));
	put_ipv6_ext(&q, P_HOPOPTS, P_DSTOPTS, 8);
	put_ipv6_ext(&q, P_DSTOPTS, P_AH, 16);
	put_ipv6_ext(&q, P_AH, P_FRAGMENT, 12);
	put_ipv6_frag(&q, P_TCP, 0); /* atomic: a whole packet */
	put_tcp(&q, &default_seg);
	check_packet(q.b, q.len, "IPv6 with four extension headers");
}

/* A GRE packet inside IPv4 with the given fragment field: only the first fragment shows the tunnel. */
static void build_fragment_of_gre(struct pkt *p, unsigned frag)
{
	put_eth(p, ETH_IPV4);
	put_ipv4(p, 47, 0, frag, 4 + 20 + seg_len(&default_seg));
	put16(p, 0);
	put16(p, ETH_IPV4);
	put_ipv4(p, P_TCP, 0, IP4_DF, seg_len(&default_seg));
	put_tcp(p, &default_seg);
	struct ip_addr in_src = addr("192.0.2.50"), in_dst = addr("192.0.2.60");
	set_pair(p, 14 + 20 + 4, &in_src, &in_dst);
}

Test(fanout_bpf, every_fragment_goes_with_its_datagram_by_the_pair_that_carries_it)
{
	struct ip_addr out_src = addr("203.0.113.10"), out_dst = addr("198.51.100.25");
	uint32_t outer = flow_hash_reference(&out_src, &out_dst);
	static const unsigned frags[] = {IP4_MF, IP4_MF | 185, 185};
	for (size_t i = 0; i < 3; i++) {
		struct pkt p = {0};
		build_fragment_of_gre(&p, frags[i]);
		cr_assert_eq(check_packet(p.b, p.len, "an IPv4 fragment of a GRE datagram"), outer,
		             "fragment %zu", i);
	}
	struct pkt whole = {0};
	build_fragment_of_gre(&whole, IP4_DF);
	struct ip_addr in_src = addr("192.0.2.50"), in_dst = addr("192.0.2.60");
	cr_assert_eq(check_packet(whole.b, whole.len, "the whole GRE datagram"),
	             flow_hash_reference(&in_src, &in_dst), "unfragmented, the inner pair");

	struct pkt q = {0};
	put_eth(&q, ETH_IPV6);
	put_ipv6(&q, P_FRAGMENT, 8 + seg_len(&default_seg));
	put_ipv6_frag(&q, P_TCP, 0x0001); /* M: the first of several */
	put_tcp(&q, &default_seg);
	check_packet(q.b, q.len, "an IPv6 fragment");
}

Test(fanout_bpf, vlan_stacks_of_every_tag_type_are_skipped)
{
	static const unsigned tpids[][4] = {{ETH_8021Q, 0, 0, 0},
	                                    {ETH_8021AD, ETH_8021Q, 0, 0},
	                                    {ETH_QINQ_OLD, ETH_8021Q, ETH_8021Q, ETH_8021Q}};
	for (size_t t = 0; t < 3; t++) {
		struct pkt p = {0};
		put_eth(&p, tpids[t][0]);
		size_t n = 0;
		while (n < 4 && tpids[t][n])
			n++;
		for (size_t i = 0; i < n; i++)
			put_vlan(&p, 100 + (unsigned)i, i + 1 < n ? tpids[t][i + 1] : ETH_IPV6);
		put_ipv6(&p, P_TCP, seg_len(&default_seg));
		put_tcp(&p, &default_seg);
		check_packet(p.b, p.len, "a VLAN stack");
	}
}

Test(fanout_bpf, what_is_not_ip_hashes_to_zero_and_other_udp_to_its_pair)
{
	struct pkt arp = {0};
	put_eth(&arp, ETH_ARP);
	put_fill(&arp, 0, 28);
	cr_assert_eq(run_frame(arp.b, arp.len), 0);
	cr_assert_eq(run_network(arp.b, arp.len), 0);

	struct pkt dns = {0};
	put_eth(&dns, ETH_IPV4);
	put_ipv4(&dns, P_UDP, 0, 0, 8);
	put16(&dns, 5353), put16(&dns, 53), put16(&dns, 8), put16(&dns, 0);
	struct ip_addr s = addr("203.0.113.10"), d = addr("198.51.100.25");
	cr_assert_eq(run_frame(dns.b, dns.len), flow_hash_reference(&s, &d));
}

Test(fanout_bpf, the_kernel_program_fits_with_every_tunnel_port_configured)
{
	struct decode_options o;
	decode_options_default(&o);
	size_t n = fanout_bpf_build(&o, FANOUT_BPF_KERNEL, 0, prog, FANOUT_BPF_MAX_INSNS);
	cr_assert_gt(n, 0);
	cr_assert_eq(prog[n - 1].code, BPF_RET | BPF_A, "it ends in a return");
	o.n_vxlan_ports = o.n_geneve_ports = DECODE_MAX_TUNNEL_PORTS;
	for (unsigned i = 0; i < DECODE_MAX_TUNNEL_PORTS; i++) {
		o.vxlan_ports[i] = (uint16_t)(10000 + i);
		o.geneve_ports[i] = (uint16_t)(20000 + i);
	}
	size_t most = fanout_bpf_build(&o, FANOUT_BPF_KERNEL, 0, prog, FANOUT_BPF_MAX_INSNS);
	cr_assert_gt(most, n, "%zu instructions with every port, %zu with the defaults", most, n);
	cr_assert_eq(fanout_bpf_build(&o, FANOUT_BPF_KERNEL, 0, prog, 10), 0, "too small a buffer: 0");
}

/* The hash each TCP connection of a capture got, by its sorted endpoints; both directions must agree. */
struct flow_seen {
	struct ip_addr a, b;
	uint16_t pa, pb;
	uint32_t hash;
	bool forward, backward;
};

static void note_flow(struct flow_seen *flows, size_t *n, size_t max, const struct decoded_packet *d,
                      uint32_t hash, const char *what)
{
	int c = ip_addr_compare(&d->src, &d->dst);
	bool fwd = c < 0 || (c == 0 && d->sport <= d->dport);
	struct flow_seen key = {fwd ? d->src : d->dst,
	                        fwd ? d->dst : d->src,
	                        fwd ? d->sport : d->dport,
	                        fwd ? d->dport : d->sport,
	                        hash,
	                        false,
	                        false};
	for (size_t i = 0; i < *n; i++) {
		struct flow_seen *f = &flows[i];
		if (ip_addr_compare(&f->a, &key.a) || ip_addr_compare(&f->b, &key.b) || f->pa != key.pa ||
		    f->pb != key.pb)
			continue;
		cr_assert_eq(f->hash, hash, "%s: a connection split: %#x and %#x", what, f->hash, hash);
		*(fwd ? &f->forward : &f->backward) = true;
		return;
	}
	cr_assert_lt(*n, max);
	key.forward = fwd;
	key.backward = !fwd;
	flows[(*n)++] = key;
}

/* Every packet of a capture through both entries; returns how many connections showed both directions. */
static size_t check_capture(const char *path)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, perr);
	cr_assert_not_null(p, "%s: %s", path, perr);
	cr_assert_eq(pcap_datalink(p), DLT_EN10MB);
	struct flow_seen flows[256];
	size_t nflows = 0, packets = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	while (pcap_next_ex(p, &h, &data) == 1) {
		struct decoded_packet d;
		enum decode_result r = packet_decode(LT_EN10MB, data, h->caplen, NULL, &d);
		if (r != DECODE_OK && r != DECODE_IPV4_FRAGMENT && r != DECODE_IPV6_FRAGMENT)
			continue;
		uint32_t hash = check_packet(data, h->caplen, path);
		packets++;
		if (r == DECODE_OK)
			note_flow(flows, &nflows, sizeof flows / sizeof flows[0], &d, hash, path);
	}
	pcap_close(p);
	cr_assert_gt(packets, 0, "%s: no packet decoded", path);
	size_t both = 0;
	for (size_t i = 0; i < nflows; i++)
		both += flows[i].forward && flows[i].backward;
	return both;
}

/* scripts/wrap-capture.py MODE IN OUT; false when python3 is missing. */
static bool wrap(const char *src_dir, const char *mode, const char *in, const char *out)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "python3 '%s/scripts/wrap-capture.py' %s '%s' '%s'", src_dir, mode, in,
	         out);
	int rc = system(cmd);
	return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

Test(fanout_bpf, every_packet_of_the_vlan_mpls_and_tunnel_fixtures_goes_by_its_inner_pair_both_ways)
{
	const char *src = getenv("TLSOBS_SOURCE_DIR");
	cr_assert_not_null(src, "ctest sets TLSOBS_SOURCE_DIR");
	if (system("python3 -c '' 2>/dev/null") != 0)
		cr_skip_test("python3 missing: scripts/wrap-capture.py cannot wrap the fixtures");
	char dir[] = "/tmp/test_fanout_bpf.XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	static const char *const inputs[] = {"demo", "ipv6-starttls", "mitm-remove.client-side"};
	static const char *const modes[] = {"qinq",    "vlan3",   "vlan4",   "mpls",  "mpls-pw", "gre",
	                                    "gre-teb", "erspan2", "erspan3", "vxlan", "vxlan6",  "geneve"};
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		char in[2048], out[2048];
		snprintf(in, sizeof in, "%s/tests/fixtures/%s.pcap", src, inputs[i]);
		cr_assert_gt(check_capture(in), 0, "%s: a connection seen both ways", in);
		for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
			snprintf(out, sizeof out, "%s/%s-%s.pcap", dir, inputs[i], modes[m]);
			cr_assert(wrap(src, modes[m], in, out), "wrap-capture.py %s %s", modes[m], in);
			cr_assert_gt(check_capture(out), 0, "%s: a connection seen both ways", out);
			unlink(out);
		}
	}
	rmdir(dir);
}
