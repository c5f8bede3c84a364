/*
 * packet_decode.h: link, network and transport headers of one captured packet.
 *
 * Decodes what libpcap hands us (link type + captured bytes) down to TCP:
 * Ethernet (with stacks of 802.1Q / 802.1ad / QinQ tags), Linux cooked SLL
 * and SLL2, raw IP, BSD loopback (DLT_NULL, DLT_LOOP); MPLS label stacks;
 * IPv4 with options, IPv6 with extension headers; TCP with options. Tunnels
 * (GRE, ERSPAN I/II/III, VXLAN, Geneve; parsers/packet_encap.c) are opened
 * and their inner packet decoded the same way: the addresses and ports
 * reported are the inner ones, the outer ones go to `encap`. A fragment of a
 * TCP (or GRE) datagram, at any level, comes out as its facts (struct
 * ip_fragment) for the sensor's reassembly (sensor/flow/defrag.h), whose finished
 * datagram comes back through packet_decode_ip(). Nothing is copied:
 * addresses are values, the payload is a slice of the caller's buffer. Never
 * reads past caplen.
 */
#ifndef TLSOBS_PACKET_DECODE_H
#define TLSOBS_PACKET_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Why a packet did not come out as a TCP segment. Keep decode_result_str() in step. */
enum decode_result {
	DECODE_OK = 0, /* a TCP segment, fields filled */
	/* not for us, counted but not anomalies */
	DECODE_NOT_IP,  /* ARP, LLDP, ...; GRE keepalives, Geneve carrying neither IP nor Ethernet */
	DECODE_NOT_TCP, /* UDP (but VXLAN and Geneve), ICMP, ... */
	/* anomalies: malformed or unsupported input */
	DECODE_UNSUPPORTED_LINKTYPE,
	DECODE_ETH_TRUNCATED,
	DECODE_VLAN_TRUNCATED,
	DECODE_VLAN_TOO_DEEP, /* more than DECODE_MAX_VLAN tags */
	DECODE_SLL_TRUNCATED,
	DECODE_SLL2_TRUNCATED,
	DECODE_LOOPBACK_TRUNCATED,
	DECODE_IPV4_TRUNCATED,
	DECODE_IPV4_BAD_VERSION,
	DECODE_IPV4_BAD_HEADER_LENGTH, /* IHL < 5, or IHL*4 beyond the total length */
	DECODE_IPV4_BAD_TOTAL_LENGTH,  /* total length below the 20-byte minimum */
	DECODE_IPV4_FRAGMENT,          /* not an anomaly: a fragment of a TCP datagram, facts in .frag */
	DECODE_IPV6_TRUNCATED,
	DECODE_IPV6_BAD_VERSION,
	DECODE_IPV6_EXT_TRUNCATED,
	DECODE_IPV6_TOO_MANY_EXT, /* more than DECODE_MAX_IPV6_EXT extension headers */
	DECODE_IPV6_FRAGMENT,     /* idem */
	DECODE_TCP_TRUNCATED,
	DECODE_TCP_BAD_OFFSET, /* data offset < 5 or beyond the segment */
	DECODE_TCP_BAD_PORT,   /* source or destination port 0 */
	DECODE_MPLS_TRUNCATED,
	DECODE_MPLS_TOO_DEEP,        /* more than DECODE_MAX_MPLS labels */
	DECODE_MPLS_UNKNOWN_PAYLOAD, /* after the bottom of the stack: neither IPv4, IPv6 nor a pseudowire */
	DECODE_UDP_TRUNCATED,
	DECODE_UDP_BAD_LENGTH, /* length below 8 or beyond the IP payload */
	DECODE_GRE_TRUNCATED,
	DECODE_GRE_BAD_FLAGS,           /* routing, strict source route or recursion bits (RFC 2784 2.3) */
	DECODE_GRE_UNSUPPORTED_VERSION, /* version 1 (PPTP) and the reserved versions */
	DECODE_ERSPAN_TRUNCATED,
	DECODE_ERSPAN_BAD_VERSION,   /* an ERSPAN version field that does not match the GRE protocol type */
	DECODE_ERSPAN_UNKNOWN_FRAME, /* type III frame type other than Ethernet or IP */
	DECODE_VXLAN_TRUNCATED,
	DECODE_VXLAN_BAD_FLAGS, /* the I flag (a valid VNI) is clear */
	DECODE_GENEVE_TRUNCATED,
	DECODE_GENEVE_BAD_VERSION,
	DECODE_TUNNEL_TOO_DEEP, /* more than DECODE_MAX_TUNNELS encapsulations inside each other */
	DECODE_RESULT_COUNT
};

/*
 * Caps: VLAN tags and MPLS labels of the whole packet (all encapsulation
 * layers together, as Suricata counts them), tunnels inside each other, IPv6
 * extension headers per IP header, UDP ports per tunnel kind.
 */
enum {
	DECODE_MAX_VLAN = 4,
	DECODE_MAX_MPLS = 8,
	DECODE_MAX_TUNNELS = 3,
	DECODE_MAX_IPV6_EXT = 8,
	DECODE_MAX_TUNNEL_PORTS = 16,
};

/* The IANA ports (RFC 7348 5, RFC 8926 3.3), the defaults of capture.vxlan_ports and capture.geneve_ports. */
enum { DECODE_VXLAN_PORT = 4789, DECODE_GENEVE_PORT = 6081 };

/* What the decoder needs from the configuration. */
struct decode_options {
	uint16_t vxlan_ports[DECODE_MAX_TUNNEL_PORTS]; /* UDP destination ports taken as VXLAN */
	size_t n_vxlan_ports;
	uint16_t geneve_ports[DECODE_MAX_TUNNEL_PORTS]; /* UDP destination ports taken as Geneve */
	size_t n_geneve_ports;
};

/* The defaults: VXLAN on 4789, Geneve on 6081. */
void decode_options_default(struct decode_options *o);

/* Stable snake_case name for counters and events, e.g. "ipv4_truncated". */
const char *decode_result_str(enum decode_result r);
/* True for the malformed/unsupported reasons, false for OK, NOT_IP, NOT_TCP and the fragments. */
bool decode_result_is_anomaly(enum decode_result r);

/* An IPv4 or IPv6 address. IPv4 lives in bytes[0..3], the rest zero. */
struct ip_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t bytes[16];
};

/* The kind of tunnel a packet came through; keep decode_tunnel_type_str() in step. */
enum decode_tunnel_type {
	DECODE_TUNNEL_NONE = 0,
	DECODE_TUNNEL_GRE,        /* GRE carrying IP or Ethernet (RFC 2784, 2890; 0x6558 RFC 1701) */
	DECODE_TUNNEL_ERSPAN_I,   /* GRE 0x88be without a sequence number: no ERSPAN header */
	DECODE_TUNNEL_ERSPAN_II,  /* GRE 0x88be, ERSPAN version 1 */
	DECODE_TUNNEL_ERSPAN_III, /* GRE 0x22eb, ERSPAN version 2 */
	DECODE_TUNNEL_VXLAN,
	DECODE_TUNNEL_GENEVE,
	DECODE_TUNNEL_TYPE_COUNT
};

/* "gre", "erspan_ii", "vxlan", ...; "none" for DECODE_TUNNEL_NONE. */
const char *decode_tunnel_type_str(enum decode_tunnel_type t);

/* How a packet was wrapped around its IP/TCP: what its flow remembers for the events. */
struct decode_encap {
	uint16_t vlan[DECODE_MAX_VLAN]; /* VLAN ids of every layer, outermost first */
	uint8_t vlan_count;
	uint8_t mpls_count;
	uint32_t mpls[DECODE_MAX_MPLS]; /* MPLS labels (20 bits), outermost first */
	uint8_t tunnels;                /* tunnels crossed, 0: none */
	/* The outermost tunnel: its kind, its own (outer) addresses, and its id
	 * where it has one: VNI (VXLAN, Geneve), session id (ERSPAN II/III), key (GRE, when present). */
	uint8_t tunnel_type; /* enum decode_tunnel_type */
	bool tunnel_has_id;
	uint32_t tunnel_id;
	struct ip_addr tunnel_src, tunnel_dst;
};

enum tcp_flag {
	TCP_FIN = 0x01,
	TCP_SYN = 0x02,
	TCP_RST = 0x04,
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
	TCP_URG = 0x20,
	TCP_ECE = 0x40,
	TCP_CWR = 0x80,
};

/*
 * One fragment of a TCP datagram (RFC 791 3.2, RFC 8200 4.5), all slices of
 * the captured packet. `hdr` is what every fragment repeats and reassembly
 * puts back in front: the IPv4 header with its options, or the IPv6 header
 * with the extension headers before the Fragment header (the unfragmentable
 * part), whose byte at `next_header_at` names the Fragment header.
 */
struct ip_fragment {
	uint32_t id;     /* Identification: 16 bits in IPv4, 32 in IPv6 */
	uint8_t proto;   /* IPv4 Protocol; IPv6 the Fragment header's Next Header */
	bool more;       /* MF / M flag */
	uint32_t offset; /* in bytes (the header's 8-octet units times 8) */
	const uint8_t *hdr;
	uint32_t hdr_len;
	uint32_t next_header_at; /* IPv6 only: offset in hdr of the Next Header byte to rewrite */
	const uint8_t *data;     /* the fragment's data as captured */
	uint32_t data_len;
	uint32_t data_wire_len; /* as the header claims; larger when the snap length cut it */
};

struct decoded_packet {
	struct ip_addr src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t tcp_flags; /* enum tcp_flag bits */
	uint16_t window;
	struct decode_encap encap;
	/* The TCP payload actually captured (a slice of the input buffer, after
	 * trimming Ethernet padding to the IP length). */
	const uint8_t *payload;
	uint32_t payload_len;
	/* Payload length the IP header claims. Larger than payload_len when the
	 * snap length cut the packet: the missing bytes become a reassembly gap. */
	uint32_t payload_wire_len;
	/* The IP header on (a slice of the input, as captured: for classification). */
	const uint8_t *ip;
	uint32_t ip_len;
	struct ip_fragment frag; /* DECODE_IPV4_FRAGMENT / DECODE_IPV6_FRAGMENT only (with src, dst, vlan) */
};

/*
 * Decodes one packet of the given libpcap link type (DLT_* value as returned
 * by pcap_datalink()). opt (borrowed) says which UDP ports carry tunnels; NULL:
 * the defaults. Fills *out only on DECODE_OK and the two fragment results.
 */
enum decode_result packet_decode(int linktype, const uint8_t *data, uint32_t caplen,
                                 const struct decode_options *opt, struct decoded_packet *out);

/*
 * Decodes a bare IPv4 (family 4) or IPv6 (6) packet down to TCP: a reassembled
 * datagram. Overwrites the IP and TCP fields of *out and keeps its link-layer
 * facts (VLAN ids, tunnels), which the caller copied from the datagram's first fragment.
 * *out is untouched unless the result is DECODE_OK.
 */
enum decode_result packet_decode_ip(int family, const uint8_t *data, uint32_t len,
                                    const struct decode_options *opt, struct decoded_packet *out);

/* Writes the printable form of an address ("192.0.2.1", "2001:db8::1") into buf (>= 46 bytes);
 * "?" for an unknown family or a buffer too small. */
const char *ip_addr_format(const struct ip_addr *a, char *buf, unsigned len);
/* Orders addresses: family first, then bytes. */
int ip_addr_compare(const struct ip_addr *a, const struct ip_addr *b);
/* ip_addr_compare(a, b) == 0, inline: the flow table asks it for every packet. */
static inline bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

#endif
