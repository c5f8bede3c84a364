/*
 * packet_encap.c: what may sit between a link header and the IP/TCP we
 * report: MPLS label stacks and tunnels (GRE, ERSPAN, VXLAN, Geneve).
 *
 * References:
 *   MPLS label stack                 RFC 3032 2.1; explicit null labels 0 (IPv4), 2 (IPv6) RFC 3032 2.1
 *   Pseudowire control word          RFC 4385 3 (first nibble 0), Ethernet pseudowire RFC 4448
 *   GRE                              RFC 2784 2 (bits 1-5 must be zero), RFC 2890 2 (key, sequence number)
 *   Transparent Ethernet Bridging    0x6558, RFC 1701 3.3 (protocol types)
 *   ERSPAN types I, II, III          draft-foschiano-erspan-03 4.1, 4.2, 4.3
 *   UDP                              RFC 768
 *   VXLAN                            RFC 7348 5
 *   Geneve                           RFC 8926 3.4, 3.5
 *
 * A tunnel counts against DECODE_MAX_TUNNELS, then its payload goes back
 * through packet_decode.c (Ethernet, an EtherType, or IP by its version). The
 * outermost tunnel is recorded in pkt->encap with the addresses of the IP
 * header around it: packet_decode.c has just put them into pkt->src/dst, and
 * the inner IP header overwrites them there, so flows and events see the inner
 * addresses. Every MPLS label counts against DECODE_MAX_MPLS, which bounds the
 * pseudowire recursion (Ethernet inside MPLS inside Ethernet...).
 *
 * MPLS label stack entry (RFC 3032), repeated until S is set:
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +---------------------------------------+-----+-+---------------+
 *   |                 Label                 | TC  |S|      TTL      |
 *   +---------------------------------------+-----+-+---------------+
 *   then the payload, told by its first nibble as Suricata does: 4 IPv4,
 *   6 IPv6, 0 a pseudowire control word (4 bytes) and an Ethernet frame.
 *
 * GRE (RFC 2784, RFC 2890):
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-------------------------------+
 *   |C|R|K|S|s|Rcr|  Reserved0  | Ver|        Protocol Type          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-------------------------------+
 *   |      Checksum (if C)          |       Reserved1 (if C)        |
 *   +-------------------------------+-------------------------------+
 *   |                          Key (if K)                           |
 *   +---------------------------------------------------------------+
 *   |                   Sequence Number (if S)                      |
 *   +---------------------------------------------------------------+
 *   Protocol type: an EtherType (IPv4, IPv6, MPLS), 0x6558 Ethernet,
 *   0x88be ERSPAN I (no S bit: the Ethernet frame follows) or II, 0x22eb ERSPAN III.
 *
 * ERSPAN type II (version 1) and type III (version 2):
 *   +-------+-----------------------+-----+---+-+-------------------+
 *   |  Ver  |         VLAN          | COS |En |T|    Session ID     |  II and III (III: BSO for En)
 *   +-------+-----------------------+-----+---+-+-------------------+
 *   |      Reserved         |                 Index                 |  II
 *   +-----------------------+---------------------------------------+
 *   |                           Timestamp                           |  III
 *   +-------------------------------+-+---------+-----------+-+---+-+
 *   |              SGT              |P|   FT    |   Hw ID   |D|Gra|O|  III; FT 0 Ethernet, 2 IP
 *   +-------------------------------+-+---------+-----------+-+---+-+
 *   |       platform specific sub-header, 8 bytes (if O)            |  III
 *   +---------------------------------------------------------------+
 *
 * UDP (RFC 768), then VXLAN (RFC 7348) or Geneve (RFC 8926) by destination port:
 *   +-------------------------------+-------------------------------+
 *   |          Source Port          |       Destination Port        |
 *   +-------------------------------+-------------------------------+
 *   |            Length             |           Checksum            |
 *   +-+-+-+-+-+-+-+-+---------------+-------------------------------+
 *   |R|R|R|R|I|R|R|R|                  Reserved                     |  VXLAN
 *   +-+-+-+-+-+-+-+-+-----------------------------------------------+
 *   |              VXLAN Network Identifier (VNI)   |   Reserved    |  then an Ethernet frame
 *   +-----------------------------------------------+---------------+
 *   |Ver|  Opt Len  |O|C|   Rsvd.   |        Protocol Type          |  Geneve
 *   +---+-----------+-+-+-----------+-------------------------------+
 *   |       Virtual Network Identifier (VNI)        |   Reserved    |
 *   +-----------------------------------------------+---------------+
 *   |          Options (Opt Len * 4 bytes), then the payload        |
 *   +---------------------------------------------------------------+
 */
#include "parsers/packet_decode_internal.h"

enum {
	MPLS_BOTTOM_OF_STACK = 0x100,
	MPLS_LABEL_SHIFT = 12,
	MPLS_CONTROL_WORD_LEN = 4,
	GRE_CHECKSUM = 0x8000,
	GRE_KEY = 0x2000,
	GRE_SEQUENCE = 0x1000,
	GRE_MUST_BE_ZERO = 0x4c00, /* routing, strict source route, first recursion bit: RFC 2784 2.3 */
	GRE_VERSION = 0x0007,
	ERSPAN_II_VERSION = 1,
	ERSPAN_III_VERSION = 2,
	ERSPAN_SESSION_MASK = 0x03ff,
	ERSPAN_III_OPTIONAL = 0x0001,
	ERSPAN_III_SUBHEADER_LEN = 8,
	ERSPAN_FRAME_ETHERNET = 0,
	ERSPAN_FRAME_IP = 2,
	UDP_HEADER_LEN = 8,
	VXLAN_FLAG_VNI = 0x08,
};

/* Counts a tunnel about to be entered; the outermost is recorded with the addresses of its IP header. */
static enum decode_result tunnel_enter(struct decode_state *st, enum decode_tunnel_type type, bool has_id,
                                       uint32_t id)
{
	struct decoded_packet *pkt = st->pkt;
	struct decode_encap *e = &pkt->encap;
	if (e->tunnels == DECODE_MAX_TUNNELS)
		return DECODE_TUNNEL_TOO_DEEP;
	if (e->tunnels++ == 0) {
		e->tunnel_type = (uint8_t)type;
		e->tunnel_has_id = has_id;
		e->tunnel_id = has_id ? id : 0;
		e->tunnel_src = pkt->src;
		e->tunnel_dst = pkt->dst;
	}
	return DECODE_OK;
}

enum decode_result packet_encap_mpls(struct reader *r, struct decode_state *st)
{
	struct decode_encap *e = &st->pkt->encap;
	uint32_t entry;
	/* Each turn consumes a label or exits; there are at most DECODE_MAX_MPLS in the packet. */
	do {
		if (e->mpls_count == DECODE_MAX_MPLS)
			return DECODE_MPLS_TOO_DEEP;
		entry = reader_u32(r);
		if (reader_failed(r))
			return DECODE_MPLS_TRUNCATED;
		e->mpls[e->mpls_count++] = entry >> MPLS_LABEL_SHIFT;
	} while (!(entry & MPLS_BOTTOM_OF_STACK));

	/* MPLS does not say what it carries: the first nibble does (explicit null labels agree with it). */
	int first = reader_peek(r);
	if (first < 0)
		return DECODE_MPLS_TRUNCATED;
	switch (first >> 4) {
	case 4:
	case 6:
		return packet_decode_at_ip(r, st);
	case 0: /* RFC 4385 control word, then the Ethernet frame of an RFC 4448 pseudowire */
		if (!reader_skip(r, MPLS_CONTROL_WORD_LEN))
			return DECODE_MPLS_TRUNCATED;
		return packet_decode_at_ethernet(r, st);
	default:
		return DECODE_MPLS_UNKNOWN_PAYLOAD;
	}
}

static enum decode_result decode_erspan_ii(struct reader *r, struct decode_state *st)
{
	uint16_t version_vlan = reader_u16(r);
	uint16_t session = reader_u16(r) & ERSPAN_SESSION_MASK;
	reader_skip(r, 4); /* reserved, index */
	if (reader_failed(r))
		return DECODE_ERSPAN_TRUNCATED;
	if (version_vlan >> 12 != ERSPAN_II_VERSION)
		return DECODE_ERSPAN_BAD_VERSION;
	enum decode_result res = tunnel_enter(st, DECODE_TUNNEL_ERSPAN_II, true, session);
	return res == DECODE_OK ? packet_decode_at_ethernet(r, st) : res;
}

static enum decode_result decode_erspan_iii(struct reader *r, struct decode_state *st)
{
	uint16_t version_vlan = reader_u16(r);
	uint16_t session = reader_u16(r) & ERSPAN_SESSION_MASK;
	reader_skip(r, 6); /* timestamp, security group tag */
	uint16_t flags = reader_u16(r);
	if (reader_failed(r))
		return DECODE_ERSPAN_TRUNCATED;
	if (version_vlan >> 12 != ERSPAN_III_VERSION)
		return DECODE_ERSPAN_BAD_VERSION;
	if ((flags & ERSPAN_III_OPTIONAL) && !reader_skip(r, ERSPAN_III_SUBHEADER_LEN))
		return DECODE_ERSPAN_TRUNCATED;
	unsigned frame_type = flags >> 10 & 0x1f;
	if (frame_type != ERSPAN_FRAME_ETHERNET && frame_type != ERSPAN_FRAME_IP)
		return DECODE_ERSPAN_UNKNOWN_FRAME;
	enum decode_result res = tunnel_enter(st, DECODE_TUNNEL_ERSPAN_III, true, session);
	if (res != DECODE_OK)
		return res;
	return frame_type == ERSPAN_FRAME_IP ? packet_decode_at_ip(r, st) : packet_decode_at_ethernet(r, st);
}

/* The payload of a GRE header: an ERSPAN header, an Ethernet frame, or what an EtherType names. */
static enum decode_result decode_gre_payload(struct reader *r, uint16_t type, uint16_t flags, uint32_t key,
                                             struct decode_state *st)
{
	enum decode_result res;
	switch (type) {
	case ETHERTYPE_ERSPAN_II:
		/* Type I is the mirrored frame right after a GRE header without a sequence number. */
		if (flags & GRE_SEQUENCE)
			return decode_erspan_ii(r, st);
		res = tunnel_enter(st, DECODE_TUNNEL_ERSPAN_I, false, 0);
		return res == DECODE_OK ? packet_decode_at_ethernet(r, st) : res;
	case ETHERTYPE_ERSPAN_III:
		return decode_erspan_iii(r, st);
	case ETHERTYPE_TEB:
		res = tunnel_enter(st, DECODE_TUNNEL_GRE, flags & GRE_KEY, key);
		return res == DECODE_OK ? packet_decode_at_ethernet(r, st) : res;
	case ETHERTYPE_IPV4:
	case ETHERTYPE_IPV6:
	case ETHERTYPE_MPLS_UNICAST:
	case ETHERTYPE_MPLS_MULTICAST:
		res = tunnel_enter(st, DECODE_TUNNEL_GRE, flags & GRE_KEY, key);
		return res == DECODE_OK ? packet_decode_at_ethertype(r, type, st) : res;
	default: /* keepalives (type 0), PPP, WCCP, ...: not traffic we follow */
		return DECODE_NOT_IP;
	}
}

enum decode_result packet_encap_gre(struct reader *r, struct decode_state *st)
{
	uint16_t flags = reader_u16(r);
	uint16_t type = reader_u16(r);
	if (reader_failed(r))
		return DECODE_GRE_TRUNCATED;
	if (flags & GRE_VERSION) /* 1 is PPTP's enhanced GRE (RFC 2637), carrying PPP */
		return DECODE_GRE_UNSUPPORTED_VERSION;
	if (flags & GRE_MUST_BE_ZERO)
		return DECODE_GRE_BAD_FLAGS;
	/* The checksum is not verified: the sensor checks no checksum, a span port's copy is what it is. */
	if (flags & GRE_CHECKSUM)
		reader_skip(r, 4);
	uint32_t key = (flags & GRE_KEY) ? reader_u32(r) : 0;
	if (flags & GRE_SEQUENCE)
		reader_skip(r, 4);
	if (reader_failed(r))
		return DECODE_GRE_TRUNCATED;
	return decode_gre_payload(r, type, flags, key, st);
}

static enum decode_result decode_vxlan(struct reader *r, struct decode_state *st)
{
	uint8_t flags = reader_u8(r);
	reader_skip(r, 3); /* reserved */
	uint32_t vni = reader_u32(r) >> 8;
	if (reader_failed(r))
		return DECODE_VXLAN_TRUNCATED;
	/* RFC 7348 5: the I flag must be set for a valid VNI; the other bits are ignored on receipt. */
	if (!(flags & VXLAN_FLAG_VNI))
		return DECODE_VXLAN_BAD_FLAGS;
	enum decode_result res = tunnel_enter(st, DECODE_TUNNEL_VXLAN, true, vni);
	return res == DECODE_OK ? packet_decode_at_ethernet(r, st) : res;
}

static enum decode_result decode_geneve(struct reader *r, struct decode_state *st)
{
	uint8_t version_optlen = reader_u8(r);
	reader_skip(r, 1); /* O (control message), C (critical options), reserved */
	uint16_t type = reader_u16(r);
	uint32_t vni = reader_u32(r) >> 8;
	if (reader_failed(r))
		return DECODE_GENEVE_TRUNCATED;
	if (version_optlen >> 6 != 0)
		return DECODE_GENEVE_BAD_VERSION;
	/* Options are skipped whole: none changes how the payload reads (RFC 8926 3.5). */
	if (!reader_skip(r, (size_t)(version_optlen & 0x3f) * 4))
		return DECODE_GENEVE_TRUNCATED;
	if (type != ETHERTYPE_TEB && type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6)
		return DECODE_NOT_IP;
	enum decode_result res = tunnel_enter(st, DECODE_TUNNEL_GENEVE, true, vni);
	if (res != DECODE_OK)
		return res;
	return type == ETHERTYPE_TEB ? packet_decode_at_ethernet(r, st)
	                             : packet_decode_at_ethertype(r, type, st);
}

static bool port_listed(const uint16_t *ports, size_t n, uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}

enum decode_result packet_encap_udp(struct reader *r, size_t wire_len, struct decode_state *st)
{
	reader_skip(r, 2); /* source port: a hash of the inner flow in both tunnels */
	uint16_t dport = reader_u16(r);
	if (reader_failed(r))
		return DECODE_UDP_TRUNCATED;
	const struct decode_options *o = st->opt;
	bool vxlan = port_listed(o->vxlan_ports, o->n_vxlan_ports, dport);
	if (!vxlan && !port_listed(o->geneve_ports, o->n_geneve_ports, dport))
		return DECODE_NOT_TCP;
	size_t len = reader_u16(r);
	reader_skip(r, 2); /* checksum */
	if (reader_failed(r))
		return DECODE_UDP_TRUNCATED;
	if (len < UDP_HEADER_LEN || len > wire_len)
		return DECODE_UDP_BAD_LENGTH;
	size_t payload_len = len - UDP_HEADER_LEN;
	struct reader body = reader_sub(r, reader_left(r) < payload_len ? reader_left(r) : payload_len);
	return vxlan ? decode_vxlan(&body, st) : decode_geneve(&body, st);
}
