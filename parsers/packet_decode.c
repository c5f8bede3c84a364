/*
 * packet_decode.c: one captured packet, from the link header down to TCP.
 *
 * References:
 *   Ethernet II, 802.3 type/length  IEEE 802.3-2018 3.2.6 (>= 0x0600 is an EtherType)
 *   VLAN tags                       IEEE 802.1Q-2018 9.6 (C-tag 0x8100, S-tag 0x88a8);
 *                                   0x9100 is the pre-standard QinQ outer tag
 *   Linux cooked v1 / v2            https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html
 *                                   https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html
 *   BSD loopback                    https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html
 *                                   https://www.tcpdump.org/linktypes/LINKTYPE_LOOP.html
 *   Raw IP                          https://www.tcpdump.org/linktypes/LINKTYPE_RAW.html
 *   IPv4                            RFC 791 3.1
 *   IPv6, extension headers         RFC 8200 3, 4; RFC 7045 (which ones to walk)
 *   Authentication Header           RFC 4302 2.2 (length in 4-octet units minus 2)
 *   Jumbograms                      RFC 2675 (payload length 0)
 *   Atomic fragments                RFC 6946 4
 *   TCP                             RFC 9293 3.1
 *   MPLS, GRE, ERSPAN, VXLAN, Geneve  packet_encap.c
 *
 * Link headers (bytes):
 *
 *   Ethernet II                      802.1Q / 802.1ad tag, repeated
 *   +------------+------------+------+   +------+-----+----+------+
 *   | dst MAC 6  | src MAC 6  | type |   | TPID | PCP |DEI | VID  |  TPID is the type field
 *   +------------+------------+------+   +------+-----+----+------+  before it: 0x8100,
 *                                        |  inner type 2          |  0x88a8, 0x9100; up to
 *                                        +------------------------+  DECODE_MAX_VLAN in a row
 *
 *   SLL (16)                               SLL2 (20)
 *   +------+--------+---------+---------+  +----------+----------+----------+
 *   | pkt  | ARPHRD | addrlen | addr 8  |  | protocol | reserved | ifindex 4|
 *   | type |  type  |         |         |  +----------+----+-----+----------+
 *   +------+--------+---------+---------+  | ARPHRD   |type|alen| addr 8   |
 *   | protocol (at 14)                  |  +----------+----+----+----------+
 *   +-----------------------------------+
 *
 *   DLT_NULL / DLT_LOOP: a 4-byte address family (host / network order), then IP.
 *   Raw IP: the IP header itself; its version nibble says which.
 *
 * IPv4 (RFC 791):
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-------+-------+---------------+-------------------------------+
 *   |Version|  IHL  |Type of Service|          Total Length         |
 *   +-------+-------+---------------+-----+-------------------------+
 *   |         Identification        |Flags|      Fragment Offset    |
 *   +---------------+---------------+-----+-------------------------+
 *   |  Time to Live |    Protocol   |         Header Checksum       |
 *   +---------------+---------------+-------------------------------+
 *   |                       Source Address                          |
 *   +---------------------------------------------------------------+
 *   |                    Destination Address                        |
 *   +---------------------------------------------------------------+
 *   |                    Options (IHL - 5 words)                    |
 *   +---------------------------------------------------------------+
 *
 * IPv6 (RFC 8200) and an extension header:
 *   +-------+---------------+---------------------------------------+
 *   |Version| Traffic Class |              Flow Label               |
 *   +-------+---------------+-------+---------------+---------------+
 *   |         Payload Length        |  Next Header  |   Hop Limit   |
 *   +-------------------------------+---------------+---------------+
 *   |                  Source Address (16 bytes)                    |
 *   +---------------------------------------------------------------+
 *   |               Destination Address (16 bytes)                  |
 *   +---------------+---------------+-------------------------------+
 *   |  Next Header  |  Hdr Ext Len  |  options... (Hdr Ext Len + 1) * 8 bytes in all;
 *   +---------------+---------------+  AH: (Payload Len + 2) * 4; Fragment: 8, below
 *   |  Next Header  |   Reserved    |    Fragment Offset      |Res|M|
 *   +---------------+---------------+-------------------------+---+-+
 *   |                         Identification                        |
 *   +---------------------------------------------------------------+
 *
 * TCP (RFC 9293):
 *   +-------------------------------+-------------------------------+
 *   |          Source Port          |       Destination Port        |
 *   +-------------------------------+-------------------------------+
 *   |                        Sequence Number                        |
 *   +---------------------------------------------------------------+
 *   |                    Acknowledgment Number                      |
 *   +-------+-------+---------------+-------------------------------+
 *   |  Data |       |C|E|U|A|P|R|S|F|                               |
 *   | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 *   +-------+-------+---------------+-------------------------------+
 *   |           Checksum            |         Urgent Pointer        |
 *   +-------------------------------+-------------------------------+
 *   |                    Options (Data Offset - 5 words)            |
 *   +---------------------------------------------------------------+
 *
 * Lengths: a capture may be cut short by the snap length, or padded past
 * the IP length (Ethernet minimum frame). Everything up to and including the
 * TCP header must be captured; past that we trim to the IP length and report
 * what was captured (payload_len) next to what the header claims
 * (payload_wire_len), so reassembly sees a gap rather than a lost segment.
 */
#include "parsers/packet_decode.h"

#include "parsers/packet_decode_internal.h"
#include "parsers/reader.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/*
 * libpcap link types, by number so this file needs no libpcap. The values
 * are what pcap_datalink() returns on Linux and what pcap files carry.
 */
enum {
	DLT_NULL = 0,         /* BSD loopback, family in host order */
	DLT_EN10MB = 1,       /* Ethernet */
	DLT_RAW = 12,         /* raw IP on most systems (OpenBSD uses 12 for DLT_LOOP: not supported) */
	DLT_RAW_OPENBSD = 14, /* raw IP on OpenBSD */
	LINKTYPE_RAW = 101,   /* raw IP as written in pcap files */
	DLT_LOOP = 108,       /* OpenBSD loopback, family in network order */
	DLT_LINUX_SLL = 113,  /* Linux cooked v1 */
	DLT_IPV4 = 228,       /* raw IPv4 only */
	DLT_IPV6 = 229,       /* raw IPv6 only */
	DLT_LINUX_SLL2 = 276  /* Linux cooked v2 */
};

enum {
	IP_PROTO_HOPOPTS = 0,
	IP_PROTO_TCP = 6,
	IP_PROTO_UDP = 17,
	IP_PROTO_ROUTING = 43,
	IP_PROTO_FRAGMENT = 44,
	IP_PROTO_GRE = 47,
	IP_PROTO_ESP = 50,
	IP_PROTO_AH = 51,
	IP_PROTO_NONE = 59,
	IP_PROTO_DSTOPTS = 60,
};

enum {
	IPV4_HEADER_MIN = 20,
	IPV4_MF = 0x2000,
	IPV4_OFFSET_MASK = 0x1fff,
	IPV6_FRAG_OFFSET_MASK = 0xfff8,
	IPV6_FRAG_MORE = 0x0001,
	TCP_HEADER_MIN = 20,
};

static const char *const decode_result_names[] = {
    [DECODE_OK] = "ok",
    [DECODE_NOT_IP] = "not_ip",
    [DECODE_NOT_TCP] = "not_tcp",
    [DECODE_UNSUPPORTED_LINKTYPE] = "unsupported_linktype",
    [DECODE_ETH_TRUNCATED] = "eth_truncated",
    [DECODE_VLAN_TRUNCATED] = "vlan_truncated",
    [DECODE_VLAN_TOO_DEEP] = "vlan_too_deep",
    [DECODE_SLL_TRUNCATED] = "sll_truncated",
    [DECODE_SLL2_TRUNCATED] = "sll2_truncated",
    [DECODE_LOOPBACK_TRUNCATED] = "loopback_truncated",
    [DECODE_IPV4_TRUNCATED] = "ipv4_truncated",
    [DECODE_IPV4_BAD_VERSION] = "ipv4_bad_version",
    [DECODE_IPV4_BAD_HEADER_LENGTH] = "ipv4_bad_header_length",
    [DECODE_IPV4_BAD_TOTAL_LENGTH] = "ipv4_bad_total_length",
    [DECODE_IPV4_FRAGMENT] = "ipv4_fragment",
    [DECODE_IPV6_TRUNCATED] = "ipv6_truncated",
    [DECODE_IPV6_BAD_VERSION] = "ipv6_bad_version",
    [DECODE_IPV6_EXT_TRUNCATED] = "ipv6_ext_truncated",
    [DECODE_IPV6_TOO_MANY_EXT] = "ipv6_too_many_ext",
    [DECODE_IPV6_FRAGMENT] = "ipv6_fragment",
    [DECODE_TCP_TRUNCATED] = "tcp_truncated",
    [DECODE_TCP_BAD_OFFSET] = "tcp_bad_offset",
    [DECODE_TCP_BAD_PORT] = "tcp_bad_port",
    [DECODE_MPLS_TRUNCATED] = "mpls_truncated",
    [DECODE_MPLS_TOO_DEEP] = "mpls_too_deep",
    [DECODE_MPLS_UNKNOWN_PAYLOAD] = "mpls_unknown_payload",
    [DECODE_UDP_TRUNCATED] = "udp_truncated",
    [DECODE_UDP_BAD_LENGTH] = "udp_bad_length",
    [DECODE_GRE_TRUNCATED] = "gre_truncated",
    [DECODE_GRE_BAD_FLAGS] = "gre_bad_flags",
    [DECODE_GRE_UNSUPPORTED_VERSION] = "gre_unsupported_version",
    [DECODE_ERSPAN_TRUNCATED] = "erspan_truncated",
    [DECODE_ERSPAN_BAD_VERSION] = "erspan_bad_version",
    [DECODE_ERSPAN_UNKNOWN_FRAME] = "erspan_unknown_frame",
    [DECODE_VXLAN_TRUNCATED] = "vxlan_truncated",
    [DECODE_VXLAN_BAD_FLAGS] = "vxlan_bad_flags",
    [DECODE_GENEVE_TRUNCATED] = "geneve_truncated",
    [DECODE_GENEVE_BAD_VERSION] = "geneve_bad_version",
    [DECODE_TUNNEL_TOO_DEEP] = "tunnel_too_deep",
};

_Static_assert(sizeof decode_result_names / sizeof decode_result_names[0] == DECODE_RESULT_COUNT,
               "decode_result_names must name every enum decode_result");

const char *decode_result_str(enum decode_result r)
{
	if ((unsigned)r >= DECODE_RESULT_COUNT || decode_result_names[r] == NULL)
		return "unknown";
	return decode_result_names[r];
}

bool decode_result_is_anomaly(enum decode_result r)
{
	return (unsigned)r >= DECODE_UNSUPPORTED_LINKTYPE && (unsigned)r < DECODE_RESULT_COUNT &&
	       r != DECODE_IPV4_FRAGMENT && r != DECODE_IPV6_FRAGMENT;
}

static const char *const tunnel_type_names[] = {
    [DECODE_TUNNEL_NONE] = "none",
    [DECODE_TUNNEL_GRE] = "gre",
    [DECODE_TUNNEL_ERSPAN_I] = "erspan_i",
    [DECODE_TUNNEL_ERSPAN_II] = "erspan_ii",
    [DECODE_TUNNEL_ERSPAN_III] = "erspan_iii",
    [DECODE_TUNNEL_VXLAN] = "vxlan",
    [DECODE_TUNNEL_GENEVE] = "geneve",
};

_Static_assert(sizeof tunnel_type_names / sizeof tunnel_type_names[0] == DECODE_TUNNEL_TYPE_COUNT,
               "tunnel_type_names must name every enum decode_tunnel_type");

const char *decode_tunnel_type_str(enum decode_tunnel_type t)
{
	if ((unsigned)t >= DECODE_TUNNEL_TYPE_COUNT)
		return "unknown";
	return tunnel_type_names[t];
}

static const struct decode_options decode_defaults = {.vxlan_ports = {DECODE_VXLAN_PORT},
                                                      .n_vxlan_ports = 1,
                                                      .geneve_ports = {DECODE_GENEVE_PORT},
                                                      .n_geneve_ports = 1};

void decode_options_default(struct decode_options *o)
{
	*o = decode_defaults;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/*
 * The TCP header and the captured part of the payload. seg holds the
 * segment's captured bytes (already trimmed to the IP length), wire_len the
 * segment length the IP header claims.
 */
static enum decode_result decode_tcp(struct reader *seg, size_t wire_len, struct decoded_packet *pkt)
{
	pkt->sport = reader_u16(seg);
	pkt->dport = reader_u16(seg);
	pkt->seq = reader_u32(seg);
	pkt->ack = reader_u32(seg);
	uint16_t offset_flags = reader_u16(seg);
	pkt->window = reader_u16(seg);
	reader_skip(seg, 4); /* checksum, urgent pointer */
	if (reader_failed(seg))
		return DECODE_TCP_TRUNCATED;

	size_t header_len = (size_t)(offset_flags >> 12) * 4;
	if (header_len < TCP_HEADER_MIN || header_len > wire_len)
		return DECODE_TCP_BAD_OFFSET;
	/* Options must be captured whole; only the payload may be cut by the snap length. */
	if (!reader_skip(seg, header_len - TCP_HEADER_MIN))
		return DECODE_TCP_TRUNCATED;
	if (pkt->sport == 0 || pkt->dport == 0)
		return DECODE_TCP_BAD_PORT;

	/* Keep all eight flag bits: ECE and CWR matter to whoever reads ECN. */
	pkt->tcp_flags = (uint8_t)(offset_flags & 0xff);
	size_t captured = reader_left(seg);
	pkt->payload = reader_bytes(seg, captured);
	pkt->payload_len = (uint32_t)captured;
	pkt->payload_wire_len = (uint32_t)(wire_len - header_len);
	return DECODE_OK;
}

/* What an IP header carries: TCP, or a tunnel (GRE; VXLAN and Geneve over UDP). seg as for decode_tcp(). */
static enum decode_result decode_transport(struct reader *seg, size_t wire_len, uint8_t proto,
                                           struct decode_state *st)
{
	switch (proto) {
	case IP_PROTO_TCP:
		return decode_tcp(seg, wire_len, st->pkt);
	case IP_PROTO_GRE:
		return packet_encap_gre(seg, st);
	case IP_PROTO_UDP:
		return packet_encap_udp(seg, wire_len, st);
	default:
		return DECODE_NOT_TCP;
	}
}

/* The IP protocols decode_transport() looks into. */
static bool is_decoded_proto(uint8_t proto)
{
	return proto == IP_PROTO_TCP || proto == IP_PROTO_GRE || proto == IP_PROTO_UDP;
}

static void read_addr(struct reader *r, struct ip_addr *a, uint8_t family, size_t len)
{
	const uint8_t *b = reader_bytes(r, len);
	/* IPv4 keeps the other twelve bytes zero (ip_addr_compare relies on it), also over an outer IPv6
	 * header. */
	*a = (struct ip_addr){.family = family};
	if (b != NULL)
		memcpy(a->bytes, b, len);
}

static enum decode_result decode_ipv4(struct reader *r, struct decode_state *st)
{
	struct decoded_packet *pkt = st->pkt;
	pkt->ip = r->p;
	pkt->ip_len = (uint32_t)r->left;
	uint8_t version_ihl = reader_u8(r);
	reader_skip(r, 1); /* type of service */
	size_t total_len = reader_u16(r);
	uint16_t id = reader_u16(r);
	uint16_t frag = reader_u16(r);
	reader_skip(r, 1); /* time to live */
	uint8_t proto = reader_u8(r);
	reader_skip(r, 2); /* header checksum */
	read_addr(r, &pkt->src, 4, 4);
	read_addr(r, &pkt->dst, 4, 4);
	if (reader_failed(r))
		return DECODE_IPV4_TRUNCATED;

	size_t header_len = (size_t)(version_ihl & 0x0f) * 4;
	if (version_ihl >> 4 != 4)
		return DECODE_IPV4_BAD_VERSION;
	/*
	 * The two length results overlap when the header runs past the total:
	 * a total below the fixed header is the length field's fault, anything
	 * else (IHL < 5, options past the total) is the IHL's.
	 */
	if (header_len < IPV4_HEADER_MIN)
		return DECODE_IPV4_BAD_HEADER_LENGTH;
	if (total_len < IPV4_HEADER_MIN)
		return DECODE_IPV4_BAD_TOTAL_LENGTH;
	if (header_len > total_len)
		return DECODE_IPV4_BAD_HEADER_LENGTH;
	/*
	 * Protocol before fragmentation: fragmented UDP (DNS, say) is not our
	 * business; only the first fragment of a VXLAN or Geneve datagram would
	 * show its port.
	 */
	if (!is_decoded_proto(proto))
		return DECODE_NOT_TCP;
	if (!reader_skip(r, header_len - IPV4_HEADER_MIN))
		return DECODE_IPV4_TRUNCATED;

	/* Trim Ethernet padding; a snap length shorter than the packet is not an error. */
	size_t wire_len = total_len - header_len;
	struct reader seg = reader_sub(r, min_size(reader_left(r), wire_len));
	/*
	 * RFC 791 3.2: MF set or a nonzero offset is a fragment; reassembly is the
	 * sensor's (sensor/flow/defrag.c). Fragmented UDP stays not_tcp: VTEPs must not
	 * fragment VXLAN (RFC 7348 4.3), and reassembling DNS is no business of ours.
	 */
	if (frag & (IPV4_MF | IPV4_OFFSET_MASK)) {
		if (proto == IP_PROTO_UDP)
			return DECODE_NOT_TCP;
		pkt->frag = (struct ip_fragment){
		    .id = id,
		    .proto = proto,
		    .more = (frag & IPV4_MF) != 0,
		    .offset = (uint32_t)(frag & IPV4_OFFSET_MASK) * 8,
		    .hdr = pkt->ip,
		    .hdr_len = (uint32_t)header_len,
		    .data_len = (uint32_t)reader_left(&seg),
		    .data_wire_len = (uint32_t)wire_len,
		};
		pkt->frag.data = reader_bytes(&seg, pkt->frag.data_len);
		return DECODE_IPV4_FRAGMENT;
	}
	return decode_transport(&seg, wire_len, proto, st);
}

/*
 * The extension headers we walk through. RFC 7045 2.1 also lists Mobility,
 * HIP and Shim6; they do not sit in front of mail traffic and end the walk
 * as not_tcp.
 */
static bool ipv6_is_walked_ext(uint8_t next)
{
	return next == IP_PROTO_HOPOPTS || next == IP_PROTO_ROUTING || next == IP_PROTO_DSTOPTS ||
	       next == IP_PROTO_AH || next == IP_PROTO_FRAGMENT;
}

/*
 * One extension header (RFC 8200 4): advances *next to the header after it
 * and *wire_len past it. Returns DECODE_OK to go on walking.
 */
static enum decode_result skip_ipv6_ext(struct reader *body, uint8_t *next, size_t *wire_len)
{
	const uint8_t type = *next;
	const struct reader at = *body;
	*next = reader_u8(body);
	uint8_t len = reader_u8(body);
	uint16_t frag_offset_more = reader_u16(body); /* fragment header only */
	if (reader_failed(body))
		return DECODE_IPV6_EXT_TRUNCATED;

	size_t ext_len = ((size_t)len + 1) * 8;
	if (type == IP_PROTO_AH)
		ext_len = ((size_t)len + 2) * 4;
	/*
	 * An atomic fragment (offset 0, M 0) is a whole packet (RFC 6946 4): walk
	 * on. The next header of any fragment names the first header of the
	 * fragmentable part (RFC 8200 4.5), so fragmented UDP or ICMPv6 is just
	 * not TCP, as for IPv4.
	 */
	if (type == IP_PROTO_FRAGMENT) {
		ext_len = 8;
		if (frag_offset_more & (IPV6_FRAG_OFFSET_MASK | IPV6_FRAG_MORE)) {
			*body = at; /* decode_ipv6_fragment reads the header again */
			return *next == IP_PROTO_TCP || *next == IP_PROTO_GRE || ipv6_is_walked_ext(*next)
			           ? DECODE_IPV6_FRAGMENT
			           : DECODE_NOT_TCP;
		}
	}
	*body = at;
	if (!reader_skip(body, ext_len))
		return DECODE_IPV6_EXT_TRUNCATED;
	/* body never holds more than *wire_len bytes, so this cannot wrap. */
	*wire_len -= ext_len;
	return DECODE_OK;
}

/*
 * The Fragment header at body's cursor (RFC 8200 4.5) and the fragment's
 * data after it. `next_header` is the byte that named the Fragment header:
 * reassembly writes the fragmentable part's first header there.
 */
static enum decode_result decode_ipv6_fragment(struct reader *body, size_t wire_len,
                                               const uint8_t *next_header, struct decoded_packet *pkt)
{
	const uint8_t *frag_hdr = body->p;
	uint8_t next = reader_u8(body);
	reader_skip(body, 1); /* reserved */
	uint16_t offset_more = reader_u16(body);
	uint32_t id = reader_u32(body);
	if (reader_failed(body) || wire_len < 8)
		return DECODE_IPV6_EXT_TRUNCATED;
	pkt->frag = (struct ip_fragment){
	    .id = id,
	    .proto = next,
	    .more = (offset_more & IPV6_FRAG_MORE) != 0,
	    .offset = offset_more & IPV6_FRAG_OFFSET_MASK, /* 8-octet units in the top 13 bits: bytes */
	    .hdr = pkt->ip,
	    .hdr_len = (uint32_t)(frag_hdr - pkt->ip),
	    .next_header_at = (uint32_t)(next_header - pkt->ip),
	    .data_len = (uint32_t)reader_left(body),
	    .data_wire_len = (uint32_t)(wire_len - 8),
	};
	pkt->frag.data = reader_bytes(body, pkt->frag.data_len);
	return DECODE_IPV6_FRAGMENT;
}

static enum decode_result decode_ipv6(struct reader *r, struct decode_state *st)
{
	struct decoded_packet *pkt = st->pkt;
	pkt->ip = r->p;
	pkt->ip_len = (uint32_t)r->left;
	uint32_t version_class_flow = reader_u32(r);
	size_t payload_len = reader_u16(r);
	uint8_t next = reader_u8(r);
	reader_skip(r, 1); /* hop limit */
	read_addr(r, &pkt->src, 6, 16);
	read_addr(r, &pkt->dst, 6, 16);
	if (reader_failed(r))
		return DECODE_IPV6_TRUNCATED;
	if (version_class_flow >> 28 != 6)
		return DECODE_IPV6_BAD_VERSION;

	/*
	 * Payload length 0 is a jumbogram (RFC 2675) or, on Linux, a GRO/BIG TCP
	 * super-packet captured before segmentation: either way the capture is
	 * all we know, so take its length as the wire length.
	 */
	size_t wire_len = payload_len ? payload_len : reader_left(r);
	struct reader body = reader_sub(r, min_size(reader_left(r), wire_len));
	/* Each turn consumes a header of at least 8 bytes, and there are at most DECODE_MAX_IPV6_EXT. */
	const uint8_t *next_header = pkt->ip + 6; /* the byte naming the header being walked */
	for (unsigned ext = 0; ipv6_is_walked_ext(next); ext++) {
		if (ext == DECODE_MAX_IPV6_EXT)
			return DECODE_IPV6_TOO_MANY_EXT;
		const uint8_t *ext_start = body.p;
		enum decode_result res = skip_ipv6_ext(&body, &next, &wire_len);
		if (res == DECODE_IPV6_FRAGMENT)
			return decode_ipv6_fragment(&body, wire_len, next_header, pkt);
		if (res != DECODE_OK)
			return res;
		next_header = ext_start;
	}
	/* ESP (its payload is encrypted), no next header, ICMPv6, ... */
	return decode_transport(&body, wire_len, next, st);
}

/*
 * What follows a header that names an EtherType: VLAN tags (a stack of up to
 * DECODE_MAX_VLAN in the whole packet), then IPv4, IPv6 or MPLS.
 */
enum decode_result packet_decode_at_ethertype(struct reader *r, uint16_t type, struct decode_state *st)
{
	struct decode_encap *e = &st->pkt->encap;
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
		if (e->vlan_count == DECODE_MAX_VLAN)
			return DECODE_VLAN_TOO_DEEP;
		uint16_t tci = reader_u16(r);
		type = reader_u16(r);
		if (reader_failed(r))
			return DECODE_VLAN_TRUNCATED;
		e->vlan[e->vlan_count++] = tci & 0x0fff;
	}
	if (type < ETHERTYPE_MIN) /* an 802.3 frame: LLC/SNAP, STP, ... */
		return DECODE_NOT_IP;
	switch (type) {
	case ETHERTYPE_IPV4:
		return decode_ipv4(r, st);
	case ETHERTYPE_IPV6:
		return decode_ipv6(r, st);
	case ETHERTYPE_MPLS_UNICAST:
	case ETHERTYPE_MPLS_MULTICAST:
		return packet_encap_mpls(r, st);
	default: /* ARP, LLDP, ... */
		return DECODE_NOT_IP;
	}
}

enum decode_result packet_decode_at_ethernet(struct reader *r, struct decode_state *st)
{
	reader_skip(r, 12); /* destination and source MAC */
	uint16_t type = reader_u16(r);
	if (reader_failed(r))
		return DECODE_ETH_TRUNCATED;
	return packet_decode_at_ethertype(r, type, st);
}

static enum decode_result decode_sll(struct reader *r, struct decode_state *st)
{
	reader_skip(r, 14); /* packet type, ARPHRD type, address length, address */
	uint16_t protocol = reader_u16(r);
	if (reader_failed(r))
		return DECODE_SLL_TRUNCATED;
	return packet_decode_at_ethertype(r, protocol, st);
}

static enum decode_result decode_sll2(struct reader *r, struct decode_state *st)
{
	uint16_t protocol = reader_u16(r);
	reader_skip(r, 18); /* reserved, ifindex, ARPHRD type, packet type, address length, address */
	if (reader_failed(r))
		return DECODE_SLL2_TRUNCATED;
	return packet_decode_at_ethertype(r, protocol, st);
}

/* The IP version nibble chooses: for link types that carry bare IP, and for tunnels that say no more. */
enum decode_result packet_decode_at_ip(struct reader *r, struct decode_state *st)
{
	int first = reader_peek(r);
	if (first < 0)
		return DECODE_IPV4_TRUNCATED;
	if (first >> 4 == 6)
		return decode_ipv6(r, st);
	/* Anything but 4 or 6 ends up as ipv4_bad_version: raw IP has no other family. */
	return decode_ipv4(r, st);
}

static enum decode_result decode_loopback(struct reader *r, bool host_order, struct decode_state *st)
{
	uint32_t family = reader_u32(r);
	if (reader_failed(r))
		return DECODE_LOOPBACK_TRUNCATED;
	/*
	 * DLT_NULL holds the capturing machine's byte order, which a file read
	 * elsewhere does not tell us. Families are small, so a value with only
	 * high bits set was written little-endian (libpcap does the same).
	 */
	if (host_order && (family & 0xffff0000u) != 0)
		family = (family >> 24) | (family >> 8 & 0xff00) | (family << 8 & 0xff0000) | family << 24;
	switch (family) {
	case 2: /* AF_INET everywhere */
		return decode_ipv4(r, st);
	case 10: /* AF_INET6: Linux */
	case 24: /* NetBSD, OpenBSD, BSD/OS */
	case 28: /* FreeBSD, DragonFly */
	case 30: /* Darwin */
		return decode_ipv6(r, st);
	default:
		return DECODE_NOT_IP;
	}
}

static enum decode_result decode_link(int linktype, struct reader *r, struct decode_state *st)
{
	switch (linktype) {
	case DLT_EN10MB:
		return packet_decode_at_ethernet(r, st);
	case DLT_LINUX_SLL:
		return decode_sll(r, st);
	case DLT_LINUX_SLL2:
		return decode_sll2(r, st);
	case DLT_NULL:
		return decode_loopback(r, true, st);
	case DLT_LOOP:
		return decode_loopback(r, false, st);
	case DLT_RAW:
	case DLT_RAW_OPENBSD:
	case LINKTYPE_RAW:
		return packet_decode_at_ip(r, st);
	case DLT_IPV4:
		return decode_ipv4(r, st);
	case DLT_IPV6:
		return decode_ipv6(r, st);
	default:
		return DECODE_UNSUPPORTED_LINKTYPE;
	}
}

enum decode_result packet_decode(int linktype, const uint8_t *data, uint32_t caplen,
                                 const struct decode_options *opt, struct decoded_packet *out)
{
	/* Decode into a local so *out is untouched unless the whole packet decodes. */
	struct decoded_packet pkt = {0};
	struct decode_state st = {&pkt, opt ? opt : &decode_defaults};
	struct reader r = reader_make(data, caplen);
	enum decode_result res = decode_link(linktype, &r, &st);
	if (res == DECODE_OK || res == DECODE_IPV4_FRAGMENT || res == DECODE_IPV6_FRAGMENT)
		*out = pkt;
	return res;
}

enum decode_result packet_decode_ip(int family, const uint8_t *data, uint32_t len,
                                    const struct decode_options *opt, struct decoded_packet *out)
{
	/* Link-layer and tunnel facts stay; the IP and TCP fields are this buffer's. */
	struct decoded_packet pkt = *out;
	memset(&pkt.src, 0, sizeof pkt.src);
	memset(&pkt.dst, 0, sizeof pkt.dst);
	pkt.sport = pkt.dport = 0;
	pkt.seq = pkt.ack = 0;
	pkt.tcp_flags = 0;
	pkt.window = 0;
	pkt.payload = pkt.ip = NULL;
	pkt.payload_len = pkt.payload_wire_len = pkt.ip_len = 0;
	memset(&pkt.frag, 0, sizeof pkt.frag);
	struct decode_state st = {&pkt, opt ? opt : &decode_defaults};
	struct reader r = reader_make(data, len);
	enum decode_result res = family == 6 ? decode_ipv6(&r, &st) : decode_ipv4(&r, &st);
	if (res == DECODE_OK)
		*out = pkt;
	return res;
}

/* Dotted quad as inet_ntop writes it (glibc's goes through sprintf); out has room for 16 bytes. */
static void ipv4_text(const uint8_t b[4], char *out)
{
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		unsigned v = b[i];
		if (i)
			out[n++] = '.';
		if (v >= 100)
			out[n++] = (char)('0' + v / 100);
		if (v >= 10)
			out[n++] = (char)('0' + v / 10 % 10);
		out[n++] = (char)('0' + v % 10);
	}
	out[n] = '\0';
}

const char *ip_addr_format(const struct ip_addr *a, char *buf, unsigned len)
{
	if (a->family == 4 && len >= 16) {
		ipv4_text(a->bytes, buf);
		return buf;
	}
	int af = a->family == 4 ? AF_INET : a->family == 6 ? AF_INET6 : AF_UNSPEC;
	if (af != AF_UNSPEC && inet_ntop(af, a->bytes, buf, len) != NULL)
		return buf;
	/* Unknown family or a short buffer: still something a log line can print. */
	if (len == 0)
		return "?";
	snprintf(buf, len, "?");
	return buf;
}

int ip_addr_compare(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	/* IPv4 keeps the other twelve bytes zero, so comparing all sixteen is exact. */
	int c = memcmp(a->bytes, b->bytes, sizeof a->bytes);
	return (c > 0) - (c < 0);
}
