/*
 * fanout_bpf.c: generates the fanout program of fanout_bpf.h, a classic BPF program the kernel runs on
 * every packet of a live interface to choose the worker's socket (PACKET_FANOUT_CBPF).
 *
 * Classic BPF only jumps forward, so the decoder's loops are unrolled: a level per encapsulation (the
 * outer packet, then one per tunnel up to DECODE_MAX_TUNNELS), each with its VLAN tags, MPLS labels and
 * IPv6 extension headers unrolled to the decoder's caps. Conditional jumps reach 255 instructions at most:
 * a jump to a label further away is a short test over an unconditional `ja`, whose offset is 32 bits.
 *
 * Registers and scratch memory: A is the value at hand (an EtherType, a protocol); X the offset of the
 * header being read; M[HASH] the XOR of the innermost address pair found so far (0 until an IP header);
 * M[ACC] the XOR being accumulated; M[BASE] the current IP header's offset; M[TYPE] the next protocol or
 * EtherType; M[FLAGS] a header's flags. Every slot is written first (the kernel's checker wants that).
 *
 * Offsets stay non-negative: libpcap's bpf_filter() and the kernel both refuse a load before the data.
 * A load past the end of the packet ends the program with 0 (socket 0): only truncated packets do that.
 *
 * References: IEEE 802.1Q 9.6 (tags), RFC 3032 2.1 (MPLS), RFC 4385 (control word), RFC 791 3.1, RFC 8200
 * 4 (extension headers; AH RFC 4302 2.2 counts in 4-octet units), RFC 2784 / 2890 (GRE),
 * draft-foschiano-erspan-03 4, RFC 7348 5 (VXLAN), RFC 8926 3.4 (Geneve); Linux
 * Documentation/networking/filter.rst (SKF_AD_PKTTYPE, SKF_AD_PROTOCOL) and net/packet/af_packet.c
 * (fanout_demux_bpf: the return value modulo the group's size).
 */
#include "sensor/capture/fanout_bpf.h"

#include <linux/filter.h>
#include <linux/if_packet.h>
#include <stdbool.h>
#include <stdlib.h>

_Static_assert(sizeof(struct fanout_bpf_insn) == sizeof(struct sock_filter), "sock_filter layout");

enum { M_HASH = 0, M_ACC = 1, M_BASE = 2, M_TYPE = 3, M_FLAGS = 4, M_USED = 5 };

enum {
	ET_IPV4 = 0x0800,
	ET_ERSPAN_III = 0x22eb,
	ET_TEB = 0x6558,
	ET_VLAN = 0x8100,
	ET_IPV6 = 0x86dd,
	ET_MPLS = 0x8847,
	ET_MPLS_MC = 0x8848,
	ET_QINQ = 0x88a8,
	ET_ERSPAN_II = 0x88be,
	ET_QINQ_OLD = 0x9100,
	PROTO_HOPOPTS = 0,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	PROTO_ROUTING = 43,
	PROTO_FRAGMENT = 44,
	PROTO_GRE = 47,
	PROTO_AH = 51,
	PROTO_DSTOPTS = 60,
	LEVELS = DECODE_MAX_TUNNELS + 1,
	MAX_LABELS = 1024,
	MAX_FIXUPS = 2 * FANOUT_BPF_MAX_INSNS,
	NEXT = -1, /* a short jump's "fall through" */
};

struct fixup {
	uint32_t at;
	uint16_t label;
	uint8_t field; /* 0: k of a ja; 1: jt; 2: jf */
};

/* The assembler: instructions, labels and the jumps waiting for them. */
struct as {
	struct fanout_bpf_insn insn[FANOUT_BPF_MAX_INSNS];
	size_t n;
	bool failed; /* too long, too many labels, or a short jump too far */
	uint32_t label_at[MAX_LABELS];
	bool bound[MAX_LABELS];
	unsigned nlabels;
	struct fixup fix[MAX_FIXUPS];
	unsigned nfix;
};

/* The entry points of one encapsulation level. */
struct level {
	int eth;   /* X at an Ethernet header */
	int etype; /* A an EtherType, X at what follows it */
	int ip;    /* X at an IP header of either version */
	int ip4, ip6, mpls, gre, udp;
};

static int label_new(struct as *a)
{
	if (a->nlabels == MAX_LABELS) {
		a->failed = true;
		return 0;
	}
	return (int)a->nlabels++;
}

static void bind(struct as *a, int label)
{
	a->label_at[label] = (uint32_t)a->n;
	a->bound[label] = true;
}

static void emit(struct as *a, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (a->n == FANOUT_BPF_MAX_INSNS) {
		a->failed = true;
		return;
	}
	a->insn[a->n++] = (struct fanout_bpf_insn){code, jt, jf, k};
}

static void stmt(struct as *a, uint16_t code, uint32_t k)
{
	emit(a, code, 0, 0, k);
}

static void fixup(struct as *a, int label, uint8_t field)
{
	if (label == NEXT)
		return;
	if (a->nfix == MAX_FIXUPS || a->n == 0) {
		a->failed = true;
		return;
	}
	a->fix[a->nfix++] = (struct fixup){(uint32_t)(a->n - 1), (uint16_t)label, field};
}

static void jump(struct as *a, int label)
{
	stmt(a, BPF_JMP | BPF_JA, 0);
	fixup(a, label, 0);
}

/* A test with near targets (NEXT: fall through): both within 255 instructions. */
static void jnear(struct as *a, uint16_t op, uint32_t k, int jt, int jf)
{
	emit(a, BPF_JMP | op | BPF_K, 0, 0, k);
	fixup(a, jt, 1);
	fixup(a, jf, 2);
}

/* If the test holds, to label at any distance. */
static void jfar(struct as *a, uint16_t op, uint32_t k, int label)
{
	emit(a, BPF_JMP | op | BPF_K, 0, 1, k);
	jump(a, label);
}

static void ld_ind(struct as *a, uint16_t size, uint32_t off)
{
	stmt(a, BPF_LD | size | BPF_IND, off);
}

/* X += k (A is lost). */
static void x_add(struct as *a, uint32_t k)
{
	stmt(a, BPF_MISC | BPF_TXA, 0);
	stmt(a, BPF_ALU | BPF_ADD | BPF_K, k);
	stmt(a, BPF_MISC | BPF_TAX, 0);
}

/* X += k, keeping A (through M[TYPE]). */
static void x_add_keep_a(struct as *a, uint32_t k)
{
	stmt(a, BPF_ST, M_TYPE);
	x_add(a, k);
	stmt(a, BPF_LD | BPF_MEM, M_TYPE);
}

/* M[ACC] ^= the word at X + off; X is M[BASE] again after. */
static void acc_xor_word(struct as *a, uint32_t off)
{
	ld_ind(a, BPF_W, off);
	stmt(a, BPF_LDX | BPF_MEM, M_ACC);
	stmt(a, BPF_ALU | BPF_XOR | BPF_X, 0);
	stmt(a, BPF_ST, M_ACC);
	stmt(a, BPF_LDX | BPF_MEM, M_BASE);
}

/* M[HASH] = XOR of the `words` words at X + off (the source and destination addresses). X is kept. */
static void hash_pair(struct as *a, uint32_t off, unsigned words)
{
	stmt(a, BPF_STX, M_BASE);
	ld_ind(a, BPF_W, off);
	stmt(a, BPF_ST, M_ACC);
	for (unsigned i = 1; i < words; i++)
		acc_xor_word(a, off + 4 * i);
	stmt(a, BPF_LD | BPF_MEM, M_ACC);
	stmt(a, BPF_ST, M_HASH);
}

/* A holds an IP protocol, X is at the header it names: TCP ends the walk, GRE and UDP may be tunnels. */
static void dispatch_transport(struct as *a, const struct level *l, int ret)
{
	jfar(a, BPF_JEQ, PROTO_GRE, l->gre);
	jfar(a, BPF_JEQ, PROTO_UDP, l->udp);
	jump(a, ret);
}

/* A an EtherType, X at what follows: VLAN tags, then IPv4, IPv6 or MPLS (packet_decode_at_ethertype). */
static void gen_ethertype(struct as *a, const struct level *l, int ret)
{
	bind(a, l->etype);
	/* A turn that finds no tag falls through the ones after it, which test the same A again. */
	for (unsigned i = 0; i < DECODE_MAX_VLAN; i++) {
		int tag = label_new(a), untagged = label_new(a);
		jnear(a, BPF_JEQ, ET_VLAN, tag, NEXT);
		jnear(a, BPF_JEQ, ET_QINQ, tag, NEXT);
		jnear(a, BPF_JEQ, ET_QINQ_OLD, NEXT, untagged);
		bind(a, tag); /* TCI, then the next EtherType */
		ld_ind(a, BPF_H, 2);
		x_add_keep_a(a, 4);
		bind(a, untagged);
	}
	jfar(a, BPF_JEQ, ET_IPV4, l->ip4);
	jfar(a, BPF_JEQ, ET_IPV6, l->ip6);
	jfar(a, BPF_JEQ, ET_MPLS, l->mpls);
	jfar(a, BPF_JEQ, ET_MPLS_MC, l->mpls);
	jump(a, ret);
}

/* X at an Ethernet header: its EtherType, X past it. */
static void gen_ethernet(struct as *a, const struct level *l)
{
	bind(a, l->eth);
	ld_ind(a, BPF_H, 12);
	x_add_keep_a(a, 14);
	/* falls into gen_ethertype, emitted next */
}

/*
 * X at the first label (RFC 3032 2.1): labels up to the bottom of the stack, then the first nibble says
 * what follows, as in packet_encap_mpls(): IPv4, IPv6, or a control word and an Ethernet pseudowire, which
 * goes on at the next level.
 */
static void gen_mpls(struct as *a, const struct level *l, const struct level *inner, int ret)
{
	bind(a, l->mpls);
	int bottom = label_new(a);
	for (unsigned i = 0; i < DECODE_MAX_MPLS; i++) {
		ld_ind(a, BPF_W, 0);
		x_add_keep_a(a, 4);
		jfar(a, BPF_JSET, 0x100, bottom);
	}
	jump(a, ret);
	bind(a, bottom);
	ld_ind(a, BPF_B, 0);
	stmt(a, BPF_ALU | BPF_RSH | BPF_K, 4);
	jfar(a, BPF_JEQ, 4, l->ip4);
	jfar(a, BPF_JEQ, 6, l->ip6);
	int pseudowire = label_new(a);
	jfar(a, BPF_JEQ, 0, pseudowire);
	jump(a, ret);
	bind(a, pseudowire);
	x_add(a, 4);
	jump(a, inner->eth);
}

/* X at an IP header whose version nibble chooses (packet_decode_at_ip: anything but 6 is IPv4). */
static void gen_ip_version(struct as *a, const struct level *l)
{
	bind(a, l->ip);
	ld_ind(a, BPF_B, 0);
	stmt(a, BPF_ALU | BPF_RSH | BPF_K, 4);
	jfar(a, BPF_JEQ, 6, l->ip6);
	jump(a, l->ip4);
}

/* RFC 791 3.1: the pair; a fragment (MF or an offset) stops here; else past the IHL to the protocol. */
static void gen_ipv4(struct as *a, const struct level *l, int ret)
{
	bind(a, l->ip4);
	hash_pair(a, 12, 2);
	ld_ind(a, BPF_H, 6);
	jfar(a, BPF_JSET, 0x3fff, ret);
	ld_ind(a, BPF_B, 9);
	stmt(a, BPF_ST, M_TYPE);
	ld_ind(a, BPF_B, 0);
	stmt(a, BPF_ALU | BPF_AND | BPF_K, 0x0f);
	stmt(a, BPF_ALU | BPF_LSH | BPF_K, 2);
	stmt(a, BPF_ALU | BPF_ADD | BPF_X, 0);
	stmt(a, BPF_MISC | BPF_TAX, 0);
	stmt(a, BPF_LD | BPF_MEM, M_TYPE);
	dispatch_transport(a, l, ret);
}

/* One IPv6 extension header (RFC 8200 4) at X, its type in M[TYPE]; a non-atomic fragment stops. */
static void gen_ipv6_ext(struct as *a, int ret)
{
	int opts = label_new(a), ah = label_new(a), frag = label_new(a), walked = label_new(a);
	int done = label_new(a);
	stmt(a, BPF_LD | BPF_MEM, M_TYPE);
	jnear(a, BPF_JEQ, PROTO_HOPOPTS, opts, NEXT);
	jnear(a, BPF_JEQ, PROTO_ROUTING, opts, NEXT);
	jnear(a, BPF_JEQ, PROTO_DSTOPTS, opts, NEXT);
	jnear(a, BPF_JEQ, PROTO_AH, ah, NEXT);
	jnear(a, BPF_JEQ, PROTO_FRAGMENT, frag, done);
	bind(a, opts); /* (Hdr Ext Len + 1) * 8 */
	ld_ind(a, BPF_B, 1);
	stmt(a, BPF_ALU | BPF_ADD | BPF_K, 1);
	stmt(a, BPF_ALU | BPF_LSH | BPF_K, 3);
	jump(a, walked);
	bind(a, ah); /* (Payload Len + 2) * 4, RFC 4302 2.2 */
	ld_ind(a, BPF_B, 1);
	stmt(a, BPF_ALU | BPF_ADD | BPF_K, 2);
	stmt(a, BPF_ALU | BPF_LSH | BPF_K, 2);
	jump(a, walked);
	bind(a, frag); /* offset or M set: a fragment (RFC 8200 4.5); else atomic (RFC 6946 4), 8 bytes */
	ld_ind(a, BPF_H, 2);
	jfar(a, BPF_JSET, 0xfff9, ret);
	stmt(a, BPF_LD | BPF_IMM, 8);
	bind(a, walked); /* A the header's length: the next type, then X past it */
	stmt(a, BPF_ALU | BPF_ADD | BPF_X, 0);
	stmt(a, BPF_ST, M_FLAGS);
	ld_ind(a, BPF_B, 0);
	stmt(a, BPF_ST, M_TYPE);
	stmt(a, BPF_LDX | BPF_MEM, M_FLAGS);
	bind(a, done);
}

/* RFC 8200 3: the pair, the extension headers, then the transport. */
static void gen_ipv6(struct as *a, const struct level *l, int ret)
{
	bind(a, l->ip6);
	hash_pair(a, 8, 8);
	ld_ind(a, BPF_B, 6);
	x_add_keep_a(a, 40);
	stmt(a, BPF_ST, M_TYPE);
	for (unsigned i = 0; i < DECODE_MAX_IPV6_EXT; i++)
		gen_ipv6_ext(a, ret);
	stmt(a, BPF_LD | BPF_MEM, M_TYPE);
	dispatch_transport(a, l, ret);
}

/* X += 4 when the flag bit is set in M[FLAGS] (a GRE or ERSPAN optional field). */
static void skip_if_flag(struct as *a, uint32_t bit, uint32_t len)
{
	int clear = label_new(a);
	stmt(a, BPF_LD | BPF_MEM, M_FLAGS);
	jnear(a, BPF_JSET, bit, NEXT, clear);
	x_add(a, len);
	bind(a, clear);
}

/*
 * X at a GRE header (RFC 2784 2, RFC 2890 2): past its optional fields, then what its protocol type names
 * (decode_gre_payload): ERSPAN II (8 bytes, with the S bit) or I (none), ERSPAN III (12, 20 with the
 * platform sub-header; frame type IP or Ethernet), Ethernet (0x6558), or an EtherType, all at the next level.
 */
static void gen_gre(struct as *a, const struct level *l, const struct level *inner, int ret)
{
	int erspan2 = label_new(a), erspan3 = label_new(a);
	bind(a, l->gre);
	ld_ind(a, BPF_H, 0);
	stmt(a, BPF_ST, M_FLAGS);
	ld_ind(a, BPF_H, 2);
	x_add_keep_a(a, 4);
	stmt(a, BPF_ST, M_TYPE);
	skip_if_flag(a, 0x8000, 4); /* checksum and reserved */
	skip_if_flag(a, 0x2000, 4); /* key */
	skip_if_flag(a, 0x1000, 4); /* sequence number */
	stmt(a, BPF_LD | BPF_MEM, M_TYPE);
	jfar(a, BPF_JEQ, ET_ERSPAN_II, erspan2);
	jfar(a, BPF_JEQ, ET_ERSPAN_III, erspan3);
	jfar(a, BPF_JEQ, ET_TEB, inner->eth);
	jfar(a, BPF_JEQ, ET_IPV4, inner->etype);
	jfar(a, BPF_JEQ, ET_IPV6, inner->etype);
	jfar(a, BPF_JEQ, ET_MPLS, inner->etype);
	jfar(a, BPF_JEQ, ET_MPLS_MC, inner->etype);
	jump(a, ret);
	bind(a, erspan2);
	skip_if_flag(a, 0x1000, 8); /* type II has a sequence number; type I is the bare frame */
	jump(a, inner->eth);
	bind(a, erspan3);
	ld_ind(a, BPF_H, 10); /* ... P, FT, Hw ID, D, Gra, O */
	x_add_keep_a(a, 12);
	stmt(a, BPF_ST, M_FLAGS);
	skip_if_flag(a, 0x0001, 8);
	stmt(a, BPF_LD | BPF_MEM, M_FLAGS);
	stmt(a, BPF_ALU | BPF_RSH | BPF_K, 10);
	stmt(a, BPF_ALU | BPF_AND | BPF_K, 0x1f);
	jfar(a, BPF_JEQ, 2, inner->ip);
	jump(a, inner->eth);
}

/* X at a UDP header: VXLAN (8 bytes, then Ethernet) or Geneve (8 + options, then what it names) by the
 * destination port, as packet_encap_udp() chooses. */
static void gen_udp(struct as *a, const struct level *l, const struct level *inner,
                    const struct decode_options *opt, int ret)
{
	int vxlan = label_new(a), geneve = label_new(a);
	bind(a, l->udp);
	ld_ind(a, BPF_H, 2);
	for (size_t i = 0; i < opt->n_vxlan_ports && i < DECODE_MAX_TUNNEL_PORTS; i++)
		jfar(a, BPF_JEQ, opt->vxlan_ports[i], vxlan);
	for (size_t i = 0; i < opt->n_geneve_ports && i < DECODE_MAX_TUNNEL_PORTS; i++)
		jfar(a, BPF_JEQ, opt->geneve_ports[i], geneve);
	jump(a, ret);
	bind(a, vxlan);
	x_add(a, 16);
	jump(a, inner->eth);
	bind(a, geneve);
	ld_ind(a, BPF_H, 10); /* protocol type */
	stmt(a, BPF_ST, M_TYPE);
	ld_ind(a, BPF_B, 8); /* Ver, Opt Len in 4-byte words */
	stmt(a, BPF_ALU | BPF_AND | BPF_K, 0x3f);
	stmt(a, BPF_ALU | BPF_LSH | BPF_K, 2);
	stmt(a, BPF_ALU | BPF_ADD | BPF_X, 0);
	stmt(a, BPF_ALU | BPF_ADD | BPF_K, 16);
	stmt(a, BPF_MISC | BPF_TAX, 0);
	stmt(a, BPF_LD | BPF_MEM, M_TYPE);
	jfar(a, BPF_JEQ, ET_TEB, inner->eth);
	jfar(a, BPF_JEQ, ET_IPV4, inner->etype);
	jfar(a, BPF_JEQ, ET_IPV6, inner->etype);
	jump(a, ret);
}

/* Where the data starts (fanout_bpf.h): the kernel's incoming packets at the network header, outgoing ones
 * (PACKET_OUTGOING) at the Ethernet header. */
static void gen_prologue(struct as *a, enum fanout_bpf_entry entry, uint16_t ethertype, const struct level *l)
{
	stmt(a, BPF_LD | BPF_IMM, 0);
	for (unsigned m = 0; m < M_USED; m++)
		stmt(a, BPF_ST, m);
	stmt(a, BPF_LDX | BPF_IMM, 0);
	if (entry == FANOUT_BPF_AT_FRAME) {
		jump(a, l->eth);
		return;
	}
	if (entry == FANOUT_BPF_AT_NETWORK) {
		stmt(a, BPF_LD | BPF_IMM, ethertype);
		jump(a, l->etype);
		return;
	}
	stmt(a, BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE));
	jfar(a, BPF_JEQ, PACKET_OUTGOING, l->eth);
	stmt(a, BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL));
	jump(a, l->etype);
}

/* The folding of the contract hash: x ^= x >> 16; x ^= x >> 8; returned for the kernel's modulo. */
static void gen_return(struct as *a, int ret)
{
	bind(a, ret);
	stmt(a, BPF_LD | BPF_MEM, M_HASH);
	stmt(a, BPF_MISC | BPF_TAX, 0);
	stmt(a, BPF_ALU | BPF_RSH | BPF_K, 16);
	stmt(a, BPF_ALU | BPF_XOR | BPF_X, 0);
	stmt(a, BPF_MISC | BPF_TAX, 0);
	stmt(a, BPF_ALU | BPF_RSH | BPF_K, 8);
	stmt(a, BPF_ALU | BPF_XOR | BPF_X, 0);
	stmt(a, BPF_RET | BPF_A, 0);
}

/* Fills in every jump; false when one goes backwards, nowhere, or too far for a conditional. */
static bool resolve(struct as *a)
{
	for (unsigned i = 0; i < a->nfix; i++) {
		const struct fixup *f = &a->fix[i];
		if (!a->bound[f->label] || a->label_at[f->label] <= f->at)
			return false;
		uint32_t d = a->label_at[f->label] - f->at - 1;
		if (f->field == 0)
			a->insn[f->at].k = d;
		else if (d > 255)
			return false;
		else if (f->field == 1)
			a->insn[f->at].jt = (uint8_t)d;
		else
			a->insn[f->at].jf = (uint8_t)d;
	}
	return true;
}

static void level_labels(struct as *a, struct level *l)
{
	*l = (struct level){label_new(a), label_new(a), label_new(a), label_new(a),
	                    label_new(a), label_new(a), label_new(a), label_new(a)};
}

static void gen_level(struct as *a, const struct level *l, const struct level *inner,
                      const struct decode_options *opt, int ret)
{
	gen_ethernet(a, l);
	gen_ethertype(a, l, ret);
	gen_mpls(a, l, inner, ret);
	gen_ip_version(a, l);
	gen_ipv4(a, l, ret);
	gen_ipv6(a, l, ret);
	gen_gre(a, l, inner, ret);
	gen_udp(a, l, inner, opt, ret);
}

size_t fanout_bpf_build(const struct decode_options *opt, enum fanout_bpf_entry entry, uint16_t ethertype,
                        struct fanout_bpf_insn *out, size_t max)
{
	struct decode_options defaults;
	if (!opt) {
		decode_options_default(&defaults);
		opt = &defaults;
	}
	struct as *a = calloc(1, sizeof *a);
	if (!a)
		return 0;
	struct level levels[LEVELS + 1];
	for (unsigned i = 0; i <= LEVELS; i++)
		level_labels(a, &levels[i]);
	int ret = label_new(a);
	gen_prologue(a, entry, ethertype, &levels[0]);
	for (unsigned i = 0; i < LEVELS; i++)
		gen_level(a, &levels[i], &levels[i + 1], opt, ret);
	/* Past the last level: a tunnel too deep keeps the pair found so far, as the decoder stops there. */
	const struct level *beyond = &levels[LEVELS];
	int entries[] = {beyond->eth, beyond->etype, beyond->ip,  beyond->ip4,
	                 beyond->ip6, beyond->mpls,  beyond->gre, beyond->udp};
	for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
		bind(a, entries[i]);
	gen_return(a, ret);
	size_t n = 0;
	if (!a->failed && resolve(a) && a->n <= max) {
		n = a->n;
		for (size_t i = 0; i < n; i++)
			out[i] = a->insn[i];
	}
	free(a);
	return n;
}
