/*
 * fanout_bpf.h: the classic BPF program that spreads a live interface's packets over the workers' packet
 * sockets (PACKET_FANOUT_CBPF, issue 17).
 *
 * It returns the contract flow hash of the packet's innermost IP header, the one the decoder
 * (parsers/packet_decode.h) reports: x = XOR of the 32-bit big-endian words of the source and destination
 * address (one each for IPv4, four each for IPv6), x ^= x >> 16, x ^= x >> 8. The kernel takes it modulo
 * the number of sockets in the group. XOR makes it symmetric (both directions of a connection meet), and the
 * address pair alone keeps every IP fragment with its datagram's first fragment. It walks what the decoder
 * walks: up to DECODE_MAX_VLAN tags per level, MPLS (DECODE_MAX_MPLS labels; IP or an Ethernet pseudowire
 * under them), IPv4 with options, IPv6 with up to DECODE_MAX_IPV6_EXT extension headers, and the tunnels
 * of parsers/packet_encap.c (GRE with IP, MPLS or Ethernet inside, ERSPAN I/II/III, VXLAN and Geneve on
 * the configured UDP ports), DECODE_MAX_TUNNELS deep. A fragment is not looked into: its own pair. A shape
 * it does not know (ARP, a UDP port that is no tunnel, an Ethernet frame inside a tunnel carrying no IP)
 * keeps the innermost pair found so far; a packet with no IP header at all hashes to 0.
 */
#ifndef TLSOBS_FANOUT_BPF_H
#define TLSOBS_FANOUT_BPF_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/packet_decode.h"

/* One classic BPF instruction, laid out as Linux's struct sock_filter and libpcap's struct bpf_insn. */
struct fanout_bpf_insn {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};

/* Where the packet data starts when the program runs. */
enum fanout_bpf_entry {
	/* In the kernel's fanout demux: an incoming packet starts at its network header, what it is told by
	 * skb->protocol (the outer VLAN tag is already in the metadata); an outgoing one at the Ethernet
	 * header. The program reads the packet type and protocol from skb metadata (SKF_AD_*). */
	FANOUT_BPF_KERNEL,
	/* The data starts at an Ethernet header (the kernel's outgoing path; tests in user space). */
	FANOUT_BPF_AT_FRAME,
	/* The data starts after an EtherType given as `ethertype` (the kernel's incoming path; tests). */
	FANOUT_BPF_AT_NETWORK,
};

/* Linux's BPF_MAXINSNS: the longest classic program a socket takes. */
enum { FANOUT_BPF_MAX_INSNS = 4096 };

/*
 * Writes the program into out (room for max instructions) and returns its length; 0 when it would be
 * longer than max or FANOUT_BPF_MAX_INSNS (many tunnel ports). opt (borrowed): the VXLAN and Geneve ports;
 * NULL: the defaults. ethertype is read for FANOUT_BPF_AT_NETWORK only.
 */
size_t fanout_bpf_build(const struct decode_options *opt, enum fanout_bpf_entry entry, uint16_t ethertype,
                        struct fanout_bpf_insn *out, size_t max);

#endif
