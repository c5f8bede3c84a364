/*
 * packet_decode_internal.h: what packet_decode.c (link, IP, TCP) and
 * packet_encap.c (MPLS and tunnels) share, and nothing else may use.
 *
 * A tunnel's payload goes back through the same decoders, so the two files
 * call into each other. Recursion is bounded: every tunnel counts against
 * DECODE_MAX_TUNNELS and every MPLS label against DECODE_MAX_MPLS before its
 * payload is decoded.
 */
#ifndef TLSOBS_PACKET_DECODE_INTERNAL_H
#define TLSOBS_PACKET_DECODE_INTERNAL_H

#include "parsers/packet_decode.h"
#include "parsers/reader.h"

/* One decode in progress: the packet being filled and the options (both borrowed). */
struct decode_state {
	struct decoded_packet *pkt;
	const struct decode_options *opt;
};

/* EtherTypes (IEEE 802.3 3.2.6; IANA) the decoders dispatch on. */
enum {
	ETHERTYPE_MIN = 0x0600, /* below: an 802.3 length field */
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_ERSPAN_III = 0x22eb,
	ETHERTYPE_TEB = 0x6558, /* transparent Ethernet bridging (RFC 1701) */
	ETHERTYPE_VLAN = 0x8100,
	ETHERTYPE_IPV6 = 0x86dd,
	ETHERTYPE_MPLS_UNICAST = 0x8847,
	ETHERTYPE_MPLS_MULTICAST = 0x8848,
	ETHERTYPE_QINQ = 0x88a8,
	ETHERTYPE_ERSPAN_II = 0x88be,
	ETHERTYPE_QINQ_OLD = 0x9100,
};

/* Decoding that starts at an Ethernet header, at an EtherType's payload (VLAN tags, MPLS, IP), or at an IP
 * header (IPv4 or IPv6 by its version nibble). */
enum decode_result packet_decode_at_ethernet(struct reader *r, struct decode_state *st);
enum decode_result packet_decode_at_ethertype(struct reader *r, uint16_t type, struct decode_state *st);
enum decode_result packet_decode_at_ip(struct reader *r, struct decode_state *st);

/* packet_encap.c: an MPLS label stack (after its EtherType); a GRE packet, a UDP datagram (IP payload,
 * wire_len bytes on the wire), each with what it carries. A UDP datagram not to a tunnel port is
 * DECODE_NOT_TCP. */
enum decode_result packet_encap_mpls(struct reader *r, struct decode_state *st);
enum decode_result packet_encap_gre(struct reader *r, struct decode_state *st);
enum decode_result packet_encap_udp(struct reader *r, size_t wire_len, struct decode_state *st);

#endif
