/*
 * synflood.c: a SYN-flood capture with real SMTP sessions mixed in.
 *
 *   cc -O2 -Wall bench/synflood.c -lpcap -o synflood
 *   synflood -o flood.pcap [-b real.pcap] [-n SYNS | -r PER_SECOND] [-d SECONDS] [-t SECONDS] [-s SERVERS]
 *            [-a|-e] [-P ADDR[/LEN]] [-S SEED] FIXTURE.pcap...
 *
 * Timeline (packet time):
 *
 *   T0                          T0+d                               T0+d+t
 *   |<-- n SYNs, evenly spread -->|<-- tail: no flood ------------------>|
 *      real sessions (1st half)      real sessions (2nd half)
 *
 * The SYNs come from random (spoofed) IPv4 sources and ports, to port 25 of
 * SERVERS servers 198.51.100.25, .26, ...: the first is the fixtures' server,
 * so the flood hits the gateway the real sessions talk to. Nothing answers
 * them (half-open), unless -a: each server then answers every SYN with a
 * SYN-ACK, as a listening server would. -e goes one step further (a connection
 * flood rather than a SYN flood): the client completes the handshake, the
 * server sends its 220 banner, the client acknowledges it and is never heard
 * of again (the connection stays open and idle). Sources never fall in the
 * fixtures' networks (203.0.113.0/24, 198.51.100.0/24), so no flood packet
 * can join a real session.
 *
 * -r gives the flood as a rate (connections per second over the -d seconds)
 * instead of a count. -P draws every source from one network (ADDR/LEN, LEN
 * 8 to 32; /32: a single address), as a flood from one host or one /24 that
 * a per-source budget must contain; source ports then count up (each
 * server's 4-tuples stay distinct for 64,512 connections per server) rather
 * than being random.
 *
 * Each FIXTURE (Ethernet, one or more sessions) is shifted as a whole to its
 * slot: the first half of them evenly inside the flood, the rest evenly in the
 * tail, so the sensor has packets after the half-open flows have timed out
 * (and can leave emergency mode). T0 is the latest fixture start, rounded up
 * to a second, plus one: fixtures only move forward, by minutes, so their
 * certificates are judged at nearly the time they were recorded.
 *
 * -b writes the same real packets, at the same times, without the flood: the
 * reference to compare the sensor's events with. A summary goes to stdout as
 * key=value pairs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcapgen.h"

struct real_packet {
	uint64_t ts_us;
	uint32_t order; /* position among all real packets read, to keep the sort stable */
	uint32_t len;
	uint8_t *data;
};

struct fixture {
	const char *path;
	size_t first, count; /* its packets in the real array */
	uint64_t start_us;   /* first packet, as recorded */
	uint64_t slot_us;    /* where it starts in the output */
};

struct reals {
	struct real_packet *p;
	size_t n, cap;
};

static void usage(void)
{
	fprintf(stderr, "usage: synflood -o FLOOD.pcap [-b REAL_ONLY.pcap] [-n SYNS | -r PER_SECOND]\n"
	                "                [-d FLOOD_SECONDS] [-t TAIL_SECONDS] [-s SERVERS] [-a|-e]\n"
	                "                [-P ADDR[/LEN]] [-S SEED] FIXTURE.pcap...\n");
	exit(2);
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "synflood: %s: want an integer from %" PRIu64 " to %" PRIu64 ", got '%s'\n",
		        opt, min, max, s);
		exit(2);
	}
	return v;
}

/* Appends every packet of one Ethernet capture; returns -1 on error. */
static int read_fixture(struct reals *r, struct fixture *fx)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(fx->path, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
	if (!p) {
		fprintf(stderr, "synflood: %s\n", errbuf);
		return -1;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		fprintf(stderr, "synflood: %s: not Ethernet (link type %d)\n", fx->path, pcap_datalink(p));
		pcap_close(p);
		return -1;
	}
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	fx->first = r->n;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 1024;
			r->p = realloc(r->p, r->cap * sizeof *r->p);
			if (!r->p) {
				perror("synflood");
				exit(1);
			}
		}
		struct real_packet *rp = &r->p[r->n];
		rp->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		rp->order = (uint32_t)r->n;
		rp->len = h->caplen;
		rp->data = malloc(h->caplen ? h->caplen : 1);
		if (!rp->data) {
			perror("synflood");
			exit(1);
		}
		memcpy(rp->data, data, h->caplen);
		r->n++;
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "synflood: %s: %s\n", fx->path, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	fx->count = r->n - fx->first;
	if (fx->count == 0) {
		fprintf(stderr, "synflood: %s: no packets\n", fx->path);
		return -1;
	}
	fx->start_us = r->p[fx->first].ts_us;
	for (size_t i = fx->first; i < r->n; i++)
		if (r->p[i].ts_us < fx->start_us)
			fx->start_us = r->p[i].ts_us;
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const struct real_packet *x = a, *y = b;
	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* A random unicast source outside 0/8, 10/8, 127/8, 224/3 and the fixtures' networks. */
static uint32_t spoofed_source(uint64_t *rng)
{
	for (;;) {
		uint32_t ip = (uint32_t)(pcapgen_rand(rng) >> 32);
		uint8_t a = ip >> 24;
		if (a == 0 || a == 10 || a == 127 || a >= 224)
			continue;
		if ((ip & 0xffffff00u) == 0xcb007100u ||
		    (ip & 0xffffff00u) == 0xc6336400u) /* 203.0.113/24, 198.51.100/24 */
			continue;
		return ip;
	}
}

/* -P: the network every source is drawn from (unset: random spoofed sources). */
struct source_pool {
	uint32_t base;
	unsigned host_bits; /* 32 - LEN */
	int set;
};

static struct source_pool parse_pool(const char *s)
{
	unsigned a, b, c, d, len = 32;
	char tail;
	int n = sscanf(s, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &len, &tail);
	if ((n != 4 && n != 5) || a > 255 || b > 255 || c > 255 || d > 255 || len < 8 || len > 32) {
		fprintf(stderr, "synflood: -P: want ADDR or ADDR/LEN (LEN 8 to 32), got '%s'\n", s);
		exit(2);
	}
	uint32_t ip = (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
	struct source_pool p = {ip, 32 - len, 1};
	if (p.host_bits)
		p.base &= ~((1u << p.host_bits) - 1);
	if ((p.base & 0xffffff00u) == 0xcb007100u || (p.base & 0xffffff00u) == 0xc6336400u) {
		fprintf(stderr, "synflood: -P %s: inside the fixtures' networks\n", s);
		exit(2);
	}
	return p;
}

struct flood {
	uint64_t syns, start_us, span_us, next;
	unsigned servers;
	int answer; /* 1 (-a): servers send SYN-ACKs; 2 (-e): handshake completed, then a banner */
	uint64_t rng;
	uint64_t packets;
	struct source_pool pool;
};

static uint64_t flood_next_time(const struct flood *f)
{
	return f->start_us + f->next * f->span_us / f->syns;
}

/* Writes the next SYN (and its SYN-ACK with -a). */
static void flood_emit(struct flood *f, pcap_dumper_t *out, uint8_t *buf)
{
	static const uint8_t attacker_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x53, 0x01};
	static const uint8_t server_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x53, 0x25};
	uint64_t ts = flood_next_time(f);
	struct pcapgen_end src = {{0}, spoofed_source(&f->rng), 0, 0, 0};
	struct pcapgen_end dst = {
	    {0}, 0xc6336419u + (uint32_t)(f->next % f->servers), 25, 0, 0}; /* 198.51.100.25+ */
	uint64_t r = pcapgen_rand(&f->rng);
	memcpy(src.mac, attacker_mac, 6);
	memcpy(dst.mac, server_mac, 6);
	src.port = (uint16_t)(1024 + r % 64512);
	if (f->pool.set) {
		uint32_t host = f->pool.host_bits ? (uint32_t)(r >> 40) & ((1u << f->pool.host_bits) - 1) : 0;
		src.ip = f->pool.base | host;
		src.port = (uint16_t)(1024 + (f->next / f->servers) % 64512);
	}
	src.seq = (uint32_t)(r >> 16);
	src.ip_id = (uint16_t)(r >> 48);
	dst.seq = (uint32_t)pcapgen_rand(&f->rng);
	size_t n = pcapgen_build(buf, &src, &dst, PCAPGEN_SYN, src.seq, 0, NULL, 0);
	pcapgen_dump(out, ts, buf, n);
	f->packets++;
	if (f->answer) {
		n = pcapgen_build(buf, &dst, &src, PCAPGEN_SYN | PCAPGEN_ACK, dst.seq, src.seq + 1, NULL, 0);
		pcapgen_dump(out, ts, buf, n);
		f->packets++;
	}
	if (f->answer == 2) {
		static const char banner[] = "220 mx.example.net ESMTP\r\n";
		n = pcapgen_build(buf, &src, &dst, PCAPGEN_ACK, src.seq + 1, dst.seq + 1, NULL, 0);
		pcapgen_dump(out, ts, buf, n);
		n = pcapgen_build(buf, &dst, &src, PCAPGEN_ACK | PCAPGEN_PSH, dst.seq + 1, src.seq + 1,
		                  (const uint8_t *)banner, sizeof banner - 1);
		pcapgen_dump(out, ts, buf, n);
		n = pcapgen_build(buf, &src, &dst, PCAPGEN_ACK, src.seq + 1,
		                  dst.seq + 1 + (uint32_t)(sizeof banner - 1), NULL, 0);
		pcapgen_dump(out, ts, buf, n);
		f->packets += 3;
	}
	f->next++;
}

static void dump_real(pcap_dumper_t *out, const struct real_packet *rp)
{
	pcapgen_dump(out, rp->ts_us, rp->data, rp->len);
}

static pcap_dumper_t *open_out(pcap_t *dead, const char *path)
{
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	if (!d) {
		fprintf(stderr, "synflood: %s: %s\n", path, pcap_geterr(dead));
		exit(1);
	}
	return d;
}

static void close_out(pcap_dumper_t *d, const char *path)
{
	if (pcap_dump_flush(d) != 0 || ferror(pcap_dump_file(d))) {
		fprintf(stderr, "synflood: %s: write error\n", path);
		exit(1);
	}
	pcap_dump_close(d);
}

/* Shifts each fixture to its slot: the first half inside the flood, the rest in the tail. */
static void place_fixtures(struct fixture *fx, size_t nfx, struct reals *r, uint64_t t0, uint64_t flood_us,
                           uint64_t tail_us)
{
	size_t during = (nfx + 1) / 2, after = nfx - during;
	for (size_t i = 0; i < nfx; i++) {
		if (i < during)
			fx[i].slot_us = t0 + flood_us * (i + 1) / (during + 1);
		else
			fx[i].slot_us = t0 + flood_us + tail_us * (i - during + 1) / (after + 1);
		for (size_t k = fx[i].first; k < fx[i].first + fx[i].count; k++)
			r->p[k].ts_us = r->p[k].ts_us - fx[i].start_us + fx[i].slot_us;
	}
	qsort(r->p, r->n, sizeof *r->p, by_time);
}

int main(int argc, char **argv)
{
	const char *out_path = NULL, *real_path = NULL;
	uint64_t syns = 1000000, rate = 0, flood_s = 10, tail_s = 30, seed = 1;
	unsigned servers = 4;
	int answer = 0, c;
	struct source_pool pool = {0, 0, 0};
	while ((c = getopt(argc, argv, "o:b:n:r:d:t:s:aeP:S:h")) != -1) {
		switch (c) {
		case 'o':
			out_path = optarg;
			break;
		case 'b':
			real_path = optarg;
			break;
		case 'n':
			syns = parse_u64("-n", optarg, 1, 100000000);
			break;
		case 'r':
			rate = parse_u64("-r", optarg, 1, 10000000);
			break;
		case 'P':
			pool = parse_pool(optarg);
			break;
		case 'd':
			flood_s = parse_u64("-d", optarg, 1, 3600);
			break;
		case 't':
			tail_s = parse_u64("-t", optarg, 0, 36000);
			break;
		case 's':
			servers = (unsigned)parse_u64("-s", optarg, 1, 200);
			break;
		case 'a':
			answer = 1;
			break;
		case 'e':
			answer = 2;
			break;
		case 'S':
			seed = parse_u64("-S", optarg, 1, UINT64_MAX);
			break;
		default:
			usage();
		}
	}
	if (!out_path || optind >= argc)
		usage();
	if (rate) {
		syns = rate * flood_s;
		if (syns > 100000000)
			usage();
	}

	size_t nfx = (size_t)(argc - optind);
	struct fixture *fx = calloc(nfx, sizeof *fx);
	struct reals r = {0};
	if (!fx) {
		perror("synflood");
		return 1;
	}
	uint64_t latest_start = 0;
	for (size_t i = 0; i < nfx; i++) {
		fx[i].path = argv[optind + (int)i];
		if (read_fixture(&r, &fx[i]) != 0)
			return 1;
		if (fx[i].start_us > latest_start)
			latest_start = fx[i].start_us;
	}
	uint64_t t0 = (latest_start / 1000000u + 2) * 1000000u;
	uint64_t flood_us = flood_s * 1000000u, tail_us = tail_s * 1000000u;
	place_fixtures(fx, nfx, &r, t0, flood_us, tail_us);

	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *out = open_out(dead, out_path);
	pcap_dumper_t *real_out = real_path ? open_out(dead, real_path) : NULL;
	static uint8_t buf[PCAPGEN_MAX_PACKET];
	struct flood f = {syns, t0, flood_us, 0, servers, answer, seed * 0x9E3779B97F4A7C15ull, 0, pool};
	size_t k = 0;
	while (k < r.n || f.next < f.syns) {
		if (k < r.n && (f.next == f.syns || r.p[k].ts_us <= flood_next_time(&f))) {
			dump_real(out, &r.p[k]);
			if (real_out)
				dump_real(real_out, &r.p[k]);
			k++;
		} else {
			flood_emit(&f, out, buf);
		}
	}
	close_out(out, out_path);
	if (real_out)
		close_out(real_out, real_path);
	pcap_close(dead);

	uint64_t last_us = r.n ? r.p[r.n - 1].ts_us : 0;
	if (last_us < t0 + flood_us)
		last_us = t0 + flood_us;
	printf("syns=%" PRIu64 " per_second=%" PRIu64 " flood_packets=%" PRIu64
	       " real_packets=%zu fixtures=%zu during_flood=%zu servers=%u"
	       " flood_start=%" PRIu64 ".%06u flood_seconds=%" PRIu64 " capture_seconds=%.3f\n",
	       f.syns, f.syns / flood_s, f.packets, r.n, nfx, (nfx + 1) / 2, servers, t0 / 1000000u,
	       (unsigned)(t0 % 1000000u), flood_s, (double)(last_us - t0) / 1e6);
	for (size_t i = 0; i < nfx; i++)
		fprintf(stderr, "synflood: %s: %zu packets at T0%+.3f s\n", fx[i].path, fx[i].count,
		        ((double)fx[i].slot_us - (double)t0) / 1e6);
	for (size_t i = 0; i < r.n; i++)
		free(r.p[i].data);
	free(r.p);
	free(fx);
	return 0;
}
