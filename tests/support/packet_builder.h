/*
 * packet_builder.h: packets built by hand, layer by layer, for the
 * parsers/packet_decode.h tests (parsers layer), and the checks that go with
 * them. Every put_* appends to a struct pkt, so a test states exactly which
 * bytes it feeds.
 */
#ifndef TLSOBS_PACKET_BUILDER_H
#define TLSOBS_PACKET_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/packet_decode.h"

/* Link types by number, as the decoder takes them (see packet_decode.c). */
enum {
	LT_NULL = 0,
	LT_EN10MB = 1,
	LT_RAW = 12,
	LT_RAW_OPENBSD = 14,
	LT_RAW_FILE = 101,
	LT_LOOP = 108,
	LT_SLL = 113,
	LT_IPV4 = 228,
	LT_IPV6 = 229,
	LT_SLL2 = 276,
};

enum {
	ETH_IPV4 = 0x0800,
	ETH_IPV6 = 0x86dd,
	ETH_ARP = 0x0806,
	ETH_8021Q = 0x8100,
	ETH_8021AD = 0x88a8,
	ETH_QINQ_OLD = 0x9100,
};

enum {
	P_HOPOPTS = 0,
	P_TCP = 6,
	P_UDP = 17,
	P_ROUTING = 43,
	P_FRAGMENT = 44,
	P_ESP = 50,
	P_AH = 51,
	P_NONE = 59,
	P_DSTOPTS = 60
};

enum { IP4_DF = 0x4000, IP4_MF = 0x2000 };

struct pkt {
	uint8_t b[4096];
	size_t len;
};

/* A TCP segment: header, `opt_len` bytes of NOP options, `payload_len` bytes of letters. */
struct seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	unsigned opt_len; /* a multiple of 4 */
	unsigned payload_len;
	unsigned data_offset; /* 0: derived from opt_len */
};

/* 48946 -> 25, PSH|ACK, 12 bytes of options and 16 of payload. */
extern const struct seg default_seg;

/* Big-endian unless named otherwise; put_fill appends n copies of v. */
void put8(struct pkt *p, unsigned v);
void put16(struct pkt *p, unsigned v);
void put32(struct pkt *p, uint32_t v);
void put_le32(struct pkt *p, uint32_t v);
void put_fill(struct pkt *p, unsigned v, size_t n);
void put_bytes(struct pkt *p, const uint8_t *b, size_t n);

size_t seg_len(const struct seg *s);
void put_tcp(struct pkt *p, const struct seg *s);
/* An IPv4 header with `opt_len` bytes of NOP options over `upper_len` bytes, 203.0.113.10 -> 198.51.100.25.
 */
void put_ipv4(struct pkt *p, unsigned proto, unsigned opt_len, unsigned frag, size_t upper_len);
/* An IPv6 header, 2001:db8:c1::10 -> 2001:db8:5e::25. */
void put_ipv6(struct pkt *p, unsigned next, size_t payload_len);
/* An extension header of `len` bytes in all (AH: a multiple of 4, others of 8). */
void put_ipv6_ext(struct pkt *p, unsigned type, unsigned next, size_t len);
void put_ipv6_frag(struct pkt *p, unsigned next, unsigned offset_more);
void put_eth(struct pkt *p, unsigned type);
void put_vlan(struct pkt *p, unsigned tci, unsigned type);
void put_sll(struct pkt *p, unsigned protocol);
void put_sll2(struct pkt *p, unsigned protocol);
/* The link header for an IPv4 (ipver 4) or IPv6 (6) packet. */
void put_link(struct pkt *p, int linktype, int ipver);
/* A whole packet: link, IP header and the segment `s`. */
void build_tcp(struct pkt *p, int linktype, int ipver, const struct seg *s);

/* Decodes p, asserting the result (failures name the test line); returns what was decoded. */
struct decoded_packet check_decode_at(int line, int linktype, const struct pkt *p, enum decode_result want);
#define check_decode(linktype, p, want) check_decode_at(__LINE__, (linktype), (p), (want))
void check_addr(const struct ip_addr *a, const char *want);
/* The fields of a packet built by build_tcp(), the payload ending the packet. */
void check_segment(const struct decoded_packet *d, const struct pkt *p, int ipver, const struct seg *s);

#endif
