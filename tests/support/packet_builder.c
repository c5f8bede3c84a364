/*
 * packet_builder.c: hand-built link, IP and TCP headers for the
 * packet_decode tests; see the header.
 */
#include "packet_builder.h"

#include <criterion/criterion.h>
#include <string.h>

void put8(struct pkt *p, unsigned v)
{
	cr_assert_lt(p->len, sizeof p->b, "test packet buffer full");
	p->b[p->len++] = (uint8_t)v;
}

void put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v);
}

void put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

void put_le32(struct pkt *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		put8(p, (v >> (8 * i)) & 0xff);
}

void put_fill(struct pkt *p, unsigned v, size_t n)
{
	while (n-- > 0)
		put8(p, v);
}

void put_bytes(struct pkt *p, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(p, b[i]);
}

const struct seg default_seg = {
    .sport = 48946,
    .dport = 25,
    .seq = 0x9eff2c1d,
    .ack = 0x48a6b78d,
    .flags = TCP_PSH | TCP_ACK,
    .window = 0xfe01,
    .opt_len = 12,
    .payload_len = 16,
};

size_t seg_len(const struct seg *s)
{
	return 20 + s->opt_len + s->payload_len;
}

void put_tcp(struct pkt *p, const struct seg *s)
{
	put16(p, s->sport);
	put16(p, s->dport);
	put32(p, s->seq);
	put32(p, s->ack);
	put8(p, (s->data_offset ? s->data_offset : 5 + s->opt_len / 4) << 4);
	put8(p, s->flags);
	put16(p, s->window);
	put32(p, 0); /* checksum, urgent pointer */
	put_fill(p, 1, s->opt_len);
	for (unsigned i = 0; i < s->payload_len; i++)
		put8(p, 'A' + i % 26);
}

static const uint8_t v4_src[4] = {203, 0, 113, 10};
static const uint8_t v4_dst[4] = {198, 51, 100, 25};
static const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0xc1, [15] = 0x10};
static const uint8_t v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x5e, [15] = 0x25};

/* An IPv4 header with `opt_len` bytes of NOP options over `upper_len` bytes. */
void put_ipv4(struct pkt *p, unsigned proto, unsigned opt_len, unsigned frag, size_t upper_len)
{
	put8(p, 0x40 | (5 + opt_len / 4));
	put8(p, 0);
	put16(p, 20 + opt_len + upper_len);
	put16(p, 0x1234); /* identification */
	put16(p, frag);
	put8(p, 64);
	put8(p, proto);
	put16(p, 0);
	put_bytes(p, v4_src, 4);
	put_bytes(p, v4_dst, 4);
	put_fill(p, 1, opt_len);
}

void put_ipv6(struct pkt *p, unsigned next, size_t payload_len)
{
	put32(p, 0x60012345);
	put16(p, payload_len);
	put8(p, next);
	put8(p, 64);
	put_bytes(p, v6_src, 16);
	put_bytes(p, v6_dst, 16);
}

/* An extension header of `len` bytes in all (AH: a multiple of 4, others of 8). */
void put_ipv6_ext(struct pkt *p, unsigned type, unsigned next, size_t len)
{
	put8(p, next);
	put8(p, type == P_AH ? len / 4 - 2 : len / 8 - 1);
	put_fill(p, 0, len - 2);
}

void put_ipv6_frag(struct pkt *p, unsigned next, unsigned offset_more)
{
	put8(p, next);
	put8(p, 0);
	put16(p, offset_more);
	put32(p, 0xcafe0001);
}

void put_eth(struct pkt *p, unsigned type)
{
	static const uint8_t macs[12] = {2, 0, 0x5e, 0x10, 2, 0x19, 2, 0, 0x5e, 0x10, 2, 1};
	put_bytes(p, macs, sizeof macs);
	put16(p, type);
}

void put_vlan(struct pkt *p, unsigned tci, unsigned type)
{
	put16(p, tci);
	put16(p, type);
}

void put_sll(struct pkt *p, unsigned protocol)
{
	put16(p, 0); /* to us */
	put16(p, 1); /* ARPHRD_ETHER */
	put16(p, 6);
	put_fill(p, 0x02, 6);
	put_fill(p, 0, 2);
	put16(p, protocol);
}

void put_sll2(struct pkt *p, unsigned protocol)
{
	put16(p, protocol);
	put16(p, 0);
	put32(p, 3); /* ifindex */
	put16(p, 1); /* ARPHRD_ETHER */
	put8(p, 0);
	put8(p, 6);
	put_fill(p, 0x02, 6);
	put_fill(p, 0, 2);
}

/* The link header for an IPv4 (ipver 4) or IPv6 (6) packet. */
void put_link(struct pkt *p, int linktype, int ipver)
{
	unsigned type = ipver == 4 ? ETH_IPV4 : ETH_IPV6;
	switch (linktype) {
	case LT_EN10MB:
		put_eth(p, type);
		break;
	case LT_SLL:
		put_sll(p, type);
		break;
	case LT_SLL2:
		put_sll2(p, type);
		break;
	case LT_NULL: /* written on a little-endian FreeBSD box */
		put_le32(p, ipver == 4 ? 2 : 28);
		break;
	case LT_LOOP:
		put32(p, ipver == 4 ? 2 : 24);
		break;
	default: /* raw IP */
		break;
	}
}

void build_tcp(struct pkt *p, int linktype, int ipver, const struct seg *s)
{
	p->len = 0;
	put_link(p, linktype, ipver);
	if (ipver == 4)
		put_ipv4(p, P_TCP, 0, IP4_DF, seg_len(s));
	else
		put_ipv6(p, P_TCP, seg_len(s));
	put_tcp(p, s);
}

/* ---- checks ---- */

struct decoded_packet check_decode_at(int line, int linktype, const struct pkt *p, enum decode_result want)
{
	struct decoded_packet d;
	memset(&d, 0, sizeof d);
	enum decode_result got = packet_decode(linktype, p->b, (uint32_t)p->len, NULL, &d);
	cr_assert_eq(got, want, "line %d: decoded as %s, expected %s", line, decode_result_str(got),
	             decode_result_str(want));
	return d;
}

void check_addr(const struct ip_addr *a, const char *want)
{
	char buf[64];
	cr_assert_str_eq(ip_addr_format(a, buf, sizeof buf), want);
}

/* The fields of a packet built by build_tcp(), the payload ending the packet. */
void check_segment(const struct decoded_packet *d, const struct pkt *p, int ipver, const struct seg *s)
{
	check_addr(&d->src, ipver == 4 ? "203.0.113.10" : "2001:db8:c1::10");
	check_addr(&d->dst, ipver == 4 ? "198.51.100.25" : "2001:db8:5e::25");
	cr_assert_eq(d->sport, s->sport);
	cr_assert_eq(d->dport, s->dport);
	cr_assert_eq(d->seq, s->seq);
	cr_assert_eq(d->ack, s->ack);
	cr_assert_eq(d->tcp_flags, s->flags);
	cr_assert_eq(d->window, s->window);
	cr_assert_eq(d->payload_len, s->payload_len);
	cr_assert_eq(d->payload_wire_len, s->payload_len);
	cr_assert_eq(d->payload, p->b + p->len - s->payload_len, "payload slice starts at the wrong byte");
}
