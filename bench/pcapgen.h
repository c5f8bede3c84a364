/*
 * pcapgen.h: builds Ethernet/IPv4/TCP packets and writes them with pcap_dump,
 * for the capture generators in bench/ (synflood.c, gen_stress.c). Header only,
 * so that each generator still builds with one command:
 *
 *   cc -O2 bench/synflood.c -lpcap -o synflood
 *
 * Addresses are host-order uint32_t; checksums (IPv4 header, TCP with its
 * pseudo-header) are computed, so the packets also survive tcpreplay into a
 * real interface.
 */
#ifndef TLSOBS_BENCH_PCAPGEN_H
#define TLSOBS_BENCH_PCAPGEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

enum {
	PCAPGEN_FIN = 0x01,
	PCAPGEN_SYN = 0x02,
	PCAPGEN_RST = 0x04,
	PCAPGEN_PSH = 0x08,
	PCAPGEN_ACK = 0x10,
	PCAPGEN_HDR = 14 + 20 + 20, /* Ethernet + IPv4 + TCP without options */
	PCAPGEN_MSS = 1448,
	PCAPGEN_MAX_PACKET = PCAPGEN_HDR + 4 + 65535,
};

/* One side of a TCP connection as it sends. */
struct pcapgen_end {
	uint8_t mac[6];
	uint32_t ip;
	uint16_t port;
	uint32_t seq;   /* next sequence number this side sends */
	uint16_t ip_id; /* next IPv4 identification */
};

static inline void pcapgen_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void pcapgen_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RFC 1071 one's-complement sum, not yet folded or inverted. */
static inline uint32_t pcapgen_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n >= 2; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static inline uint16_t pcapgen_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Writes one packet from `from` to `to` into buf (PCAPGEN_MAX_PACKET bytes) and
 * returns its length. The TCP header carries an MSS option when SYN is set.
 * Does not advance sequence numbers: see pcapgen_send().
 */
static inline size_t pcapgen_build(uint8_t *buf, struct pcapgen_end *from, const struct pcapgen_end *to,
                                   uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t *payload,
                                   size_t len)
{
	size_t tcp_len = 20 + ((flags & PCAPGEN_SYN) ? 4 : 0);
	uint8_t *eth = buf, *ip = buf + 14, *tcp = ip + 20;
	memcpy(eth, to->mac, 6);
	memcpy(eth + 6, from->mac, 6);
	pcapgen_put16(eth + 12, 0x0800);
	ip[0] = 0x45;
	ip[1] = 0;
	pcapgen_put16(ip + 2, (uint16_t)(20 + tcp_len + len));
	pcapgen_put16(ip + 4, from->ip_id++);
	pcapgen_put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 6;
	pcapgen_put16(ip + 10, 0);
	pcapgen_put32(ip + 12, from->ip);
	pcapgen_put32(ip + 16, to->ip);
	pcapgen_put16(ip + 10, pcapgen_fold(pcapgen_sum(0, ip, 20)));
	pcapgen_put16(tcp, from->port);
	pcapgen_put16(tcp + 2, to->port);
	pcapgen_put32(tcp + 4, seq);
	pcapgen_put32(tcp + 8, (flags & PCAPGEN_ACK) ? ack : 0);
	tcp[12] = (uint8_t)(tcp_len / 4 << 4);
	tcp[13] = flags;
	pcapgen_put16(tcp + 14, 64240);
	pcapgen_put32(tcp + 16, 0); /* checksum, urgent pointer */
	if (flags & PCAPGEN_SYN) {
		tcp[20] = 2; /* MSS */
		tcp[21] = 4;
		pcapgen_put16(tcp + 22, PCAPGEN_MSS);
	}
	if (len)
		memcpy(tcp + tcp_len, payload, len);
	uint8_t pseudo[12];
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	pcapgen_put16(pseudo + 10, (uint16_t)(tcp_len + len));
	uint32_t sum = pcapgen_sum(pcapgen_sum(0, pseudo, sizeof pseudo), tcp, tcp_len + len);
	pcapgen_put16(tcp + 16, pcapgen_fold(sum));
	return 14 + 20 + tcp_len + len;
}

static inline void pcapgen_dump(pcap_dumper_t *d, uint64_t ts_us, const uint8_t *buf, size_t len)
{
	struct pcap_pkthdr h;
	h.ts.tv_sec = (time_t)(ts_us / 1000000u);
	h.ts.tv_usec = (suseconds_t)(ts_us % 1000000u);
	h.caplen = h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)d, &h, buf);
}

/* A writer for one capture with a packet clock that advances by `step_us` per packet. */
struct pcapgen {
	pcap_t *dead;
	pcap_dumper_t *out;
	uint64_t now_us, step_us;
	uint64_t packets, bytes, payload_bytes;
	uint8_t buf[PCAPGEN_MAX_PACKET];
};

static inline int pcapgen_open(struct pcapgen *g, const char *path, uint64_t start_us, uint64_t step_us)
{
	memset(g, 0, sizeof *g);
	g->dead = pcap_open_dead(DLT_EN10MB, 65535);
	if (!g->dead)
		return -1;
	g->out = pcap_dump_open(g->dead, path);
	if (!g->out) {
		fprintf(stderr, "pcapgen: %s: %s\n", path, pcap_geterr(g->dead));
		pcap_close(g->dead);
		return -1;
	}
	g->now_us = start_us;
	g->step_us = step_us;
	return 0;
}

/* 0, or -1 when the file could not be completed (disk full...). */
static inline int pcapgen_close(struct pcapgen *g)
{
	int rc = 0;
	if (pcap_dump_flush(g->out) != 0)
		rc = -1;
	pcap_dump_close(g->out);
	pcap_close(g->dead);
	return rc;
}

/* One segment from `from` to `to` at the packet clock; SYN/FIN and payload advance from->seq. */
static inline void pcapgen_send(struct pcapgen *g, struct pcapgen_end *from, const struct pcapgen_end *to,
                                uint8_t flags, const uint8_t *payload, size_t len)
{
	size_t n = pcapgen_build(g->buf, from, to, flags, from->seq, to->seq, payload, len);
	pcapgen_dump(g->out, g->now_us, g->buf, n);
	g->now_us += g->step_us;
	g->packets++;
	g->bytes += n;
	g->payload_bytes += len;
	from->seq += (uint32_t)len + ((flags & (PCAPGEN_SYN | PCAPGEN_FIN)) ? 1 : 0);
}

/* Sends `len` bytes in segments of at most `mss`, the receiver acking every `ack_every` segments (0: never).
 */
static inline void pcapgen_stream(struct pcapgen *g, struct pcapgen_end *from, struct pcapgen_end *to,
                                  const uint8_t *data, size_t len, size_t mss, unsigned ack_every)
{
	unsigned since_ack = 0;
	while (len > 0) {
		size_t n = len < mss ? len : mss;
		pcapgen_send(g, from, to, PCAPGEN_ACK | (n == len ? PCAPGEN_PSH : 0), data, n);
		data += n;
		len -= n;
		if (ack_every && ++since_ack == ack_every) {
			pcapgen_send(g, to, from, PCAPGEN_ACK, NULL, 0);
			since_ack = 0;
		}
	}
	if (ack_every && since_ack)
		pcapgen_send(g, to, from, PCAPGEN_ACK, NULL, 0);
}

/* Three-way handshake, client first. */
static inline void pcapgen_handshake(struct pcapgen *g, struct pcapgen_end *client,
                                     struct pcapgen_end *server)
{
	pcapgen_send(g, client, server, PCAPGEN_SYN, NULL, 0);
	pcapgen_send(g, server, client, PCAPGEN_SYN | PCAPGEN_ACK, NULL, 0);
	pcapgen_send(g, client, server, PCAPGEN_ACK, NULL, 0);
}

/* FIN from each side, each acked. */
static inline void pcapgen_close_tcp(struct pcapgen *g, struct pcapgen_end *client,
                                     struct pcapgen_end *server)
{
	pcapgen_send(g, client, server, PCAPGEN_FIN | PCAPGEN_ACK, NULL, 0);
	pcapgen_send(g, server, client, PCAPGEN_FIN | PCAPGEN_ACK, NULL, 0);
	pcapgen_send(g, client, server, PCAPGEN_ACK, NULL, 0);
}

/* xorshift64*: fast, seedable, good enough for addresses and ports. */
static inline uint64_t pcapgen_rand(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

#endif
