/*
 * gen_stress.c: synthetic SMTP captures for bench/linear.sh (processing time must grow
 * linearly with the input, whatever its shape).
 *
 *   cc -O2 -Wall bench/gen_stress.c -lpcap -o gen_stress
 *   gen_stress [-g G] rcpt N OUT.pcap   one session: EHLO, MAIL FROM, then N pipelined
 *                                       "RCPT TO:<userK@example.org>" lines, 250 to each
 *   gen_stress rcpt-domains N OUT.pcap  the same with a distinct domain per recipient
 *   gen_stress tiny N OUT.pcap          one session whose client sends an ordinary
 *                                       transaction (EHLO ... DATA body ... QUIT) of N bytes
 *                                       in N 1-byte segments, each acked by the server
 *   gen_stress [-g G] tiny-ooo N OUT.pcap  the same, but in each group of G segments (-g,
 *                                       default 1000) the first comes last: G-1 segments wait
 *                                       in the reassembly queue behind a hole, acked once filled
 *   gen_stress [-g H] holes N OUT.pcap  an ordinary transaction whose message body starts
 *                                       with H (-g, default 4000) 1-byte segments each behind
 *                                       a 1-byte hole (bytes 1, 3, 5, ...), then N 1-byte
 *                                       retransmissions of them (cycling), then the holes
 *                                       filled; the rest in full-size segments
 *   gen_stress [-g H] holes-inorder N OUT.pcap  the same packets in sequence order (each
 *                                       retransmission right after the byte it repeats)
 *   gen_stress normal BYTES OUT.pcap    ordinary sessions (a 20 kB message each, full-size
 *                                       segments, an ACK every two) until the capture holds
 *                                       BYTES bytes of packets: the baseline
 *
 * All on port 25, Ethernet/IPv4, clients in 10.0.0.0/8, servers in 192.0.2.0/24, one
 * packet every 10 us of packet time. Prints "packets=N bytes=N payload=N sessions=N"
 * (bytes: packet bytes as captured; payload: TCP payload bytes).
 *
 * Pipelining (RFC 2920): the client sends a group of G commands (-g, default 100; at
 * most 64 kB) before the server answers; the server's replies for the group follow in
 * full-size segments. tlsobs tracks up to 128 unanswered commands (SMTP_PIPELINE_MAX):
 * a larger group is also a valid test, of the overflow path.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcapgen.h"

enum { WINDOW = 65536, BODY_BYTES = 20000 };

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p) {
			perror("gen_stress");
			exit(1);
		}
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

struct session {
	struct pcapgen_end client, server;
};

static void session_init(struct session *s, uint32_t n)
{
	static const uint8_t cmac[6] = {0x02, 0, 0, 0, 0, 0x0c}, smac[6] = {0x02, 0, 0, 0, 0, 0x25};
	memset(s, 0, sizeof *s);
	memcpy(s->client.mac, cmac, 6);
	memcpy(s->server.mac, smac, 6);
	s->client.ip = 0x0a000000u | (n & 0xffffffu); /* 10.x.y.z */
	s->client.port = (uint16_t)(1024 + n % 60000);
	s->client.seq = 0x10000000u + n * 7919u;
	s->server.ip = 0xc0000200u | (1 + n % 200); /* 192.0.2.1-200 */
	s->server.port = 25;
	s->server.seq = 0x70000000u + n * 104729u;
}

/* The server's text in full-size segments, acked by the client. */
static void server_says(struct pcapgen *g, struct session *s, const char *text, size_t len)
{
	pcapgen_stream(g, &s->server, &s->client, (const uint8_t *)text, len, PCAPGEN_MSS, 0);
	pcapgen_send(g, &s->client, &s->server, PCAPGEN_ACK, NULL, 0);
}

static void server_str(struct pcapgen *g, struct session *s, const char *text)
{
	server_says(g, s, text, strlen(text));
}

/*
 * `len` bytes in 1-byte segments, out of order: in each group of `group`, bytes 1..group-1
 * first, then byte 0, then one ACK from the receiver (an earlier ACK would skip the hole).
 */
static void stream_ooo(struct pcapgen *g, struct pcapgen_end *from, struct pcapgen_end *to,
                       const uint8_t *data, size_t len, size_t group)
{
	for (size_t at = 0; at < len; at += group) {
		size_t n = len - at < group ? len - at : group;
		for (size_t k = 1; k <= n; k++) {
			size_t i = k % n; /* 1, 2, ..., n-1, then 0 */
			size_t sz = pcapgen_build(g->buf, from, to, PCAPGEN_ACK, from->seq + (uint32_t)i,
			                          to->seq, data + at + i, 1);
			pcapgen_dump(g->out, g->now_us, g->buf, sz);
			g->now_us += g->step_us;
			g->packets++;
			g->bytes += sz;
			g->payload_bytes++;
		}
		from->seq += (uint32_t)n;
		pcapgen_send(g, to, from, PCAPGEN_ACK, NULL, 0);
	}
}

static size_t ooo_group; /* tiny-ooo: 1-byte segments in reversed groups of this many; 0 = in order */

static void send_byte(struct pcapgen *g, struct pcapgen_end *from, struct pcapgen_end *to,
                      const uint8_t *data, size_t off)
{
	size_t sz =
	    pcapgen_build(g->buf, from, to, PCAPGEN_ACK, from->seq + (uint32_t)off, to->seq, data + off, 1);
	pcapgen_dump(g->out, g->now_us, g->buf, sz);
	g->now_us += g->step_us;
	g->packets++;
	g->bytes += sz;
	g->payload_bytes++;
}

/*
 * The first 2 * `holes` bytes of `data` (holes mode): bytes 1, 3, 5, ... first, each behind a
 * 1-byte hole, then `retrans` retransmissions of them (cycling through them), then bytes 0, 2,
 * 4, ... (each fills a hole), then one ACK. In order: the same packets sorted by sequence
 * number, each retransmission right after the byte it repeats.
 */
static void stream_holes(struct pcapgen *g, struct pcapgen_end *from, struct pcapgen_end *to,
                         const uint8_t *data, size_t holes, uint64_t retrans, int in_order)
{
	if (in_order) {
		for (size_t off = 0; off < 2 * holes; off++) {
			send_byte(g, from, to, data, off);
			if (off % 2 == 0)
				continue;
			size_t k = off / 2; /* retransmission r repeats byte 2 * (r % holes) + 1 */
			for (uint64_t r = k; r < retrans; r += holes)
				send_byte(g, from, to, data, off);
		}
	} else {
		for (size_t k = 0; k < holes; k++)
			send_byte(g, from, to, data, 2 * k + 1);
		for (uint64_t r = 0; r < retrans; r++)
			send_byte(g, from, to, data, 2 * (r % holes) + 1);
		for (size_t k = 0; k < holes; k++)
			send_byte(g, from, to, data, 2 * k);
	}
	from->seq += (uint32_t)(2 * holes);
	pcapgen_send(g, to, from, PCAPGEN_ACK, NULL, 0);
}

/* The client's text in `seg`-byte segments; the server acks each (tiny) or every two. */
static void client_says(struct pcapgen *g, struct session *s, const char *text, size_t len, size_t seg)
{
	if (seg == 1 && ooo_group) {
		stream_ooo(g, &s->client, &s->server, (const uint8_t *)text, len, ooo_group);
		return;
	}
	pcapgen_stream(g, &s->client, &s->server, (const uint8_t *)text, len, seg, seg == 1 ? 1 : 2);
}

static void opening(struct pcapgen *g, struct session *s, size_t seg)
{
	pcapgen_handshake(g, &s->client, &s->server);
	server_str(g, s, "220 mx.example.org ESMTP\r\n");
	client_says(g, s, "EHLO client.example.com\r\n", 25, seg);
	server_str(g, s,
	           "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 104857600\r\n250-8BITMIME\r\n"
	           "250 ENHANCEDSTATUSCODES\r\n");
}

static void closing(struct pcapgen *g, struct session *s, size_t seg)
{
	client_says(g, s, "QUIT\r\n", 6, seg);
	server_str(g, s, "221 2.0.0 Bye\r\n");
	pcapgen_close_tcp(g, &s->client, &s->server);
}

/* A message body of about `bytes` bytes: header lines, then 76-character text lines, then the final dot. */
static void make_body(struct buf *b, size_t bytes)
{
	buf_str(b, "From: <sender@example.com>\r\nTo: <user@example.org>\r\nSubject: linear\r\n\r\n");
	static const char line[] =
	    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tem\r\n";
	while (b->len + sizeof line - 1 + 5 <= bytes)
		buf_add(b, line, sizeof line - 1);
	buf_str(b, ".\r\n");
}

static void gen_rcpt(struct pcapgen *g, uint64_t n, int distinct_domains, uint64_t group)
{
	struct session s;
	session_init(&s, 1);
	opening(g, &s, PCAPGEN_MSS);
	struct buf cmds = {0}, replies = {0};
	buf_str(&cmds, "MAIL FROM:<sender@example.com>\r\n");
	buf_str(&replies, "250 2.1.0 Ok\r\n");
	char line[96];
	for (uint64_t i = 0; i < n; i++) {
		int len = distinct_domains
		              ? snprintf(line, sizeof line, "RCPT TO:<user@d%" PRIu64 ".example.org>\r\n", i)
		              : snprintf(line, sizeof line, "RCPT TO:<user%" PRIu64 "@example.org>\r\n", i);
		buf_add(&cmds, line, (size_t)len);
		buf_str(&replies, "250 2.1.5 Ok\r\n");
		if (cmds.len >= WINDOW || (i + 1) % group == 0 || i + 1 == n) {
			client_says(g, &s, (const char *)cmds.p, cmds.len, PCAPGEN_MSS);
			server_says(g, &s, (const char *)replies.p, replies.len);
			cmds.len = replies.len = 0;
		}
	}
	client_says(g, &s, "DATA\r\n", 6, PCAPGEN_MSS);
	server_str(g, &s, "354 End data with <CR><LF>.<CR><LF>\r\n");
	struct buf body = {0};
	make_body(&body, 2000);
	client_says(g, &s, (const char *)body.p, body.len, PCAPGEN_MSS);
	server_str(g, &s, "250 2.0.0 Ok: queued as 4ABCDEF\r\n");
	closing(g, &s, PCAPGEN_MSS);
	free(cmds.p);
	free(replies.p);
	free(body.p);
}

/* One ordinary transaction whose client bytes total about `client_bytes`, in `seg`-byte segments. */
static void transaction(struct pcapgen *g, struct session *s, size_t client_bytes, size_t seg)
{
	static const char mail[] = "MAIL FROM:<sender@example.com>\r\n";
	static const char rcpts[] = "RCPT TO:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n";
	size_t fixed = 25 + (sizeof mail - 1) + (sizeof rcpts - 1) + 6 + 6;
	opening(g, s, seg);
	client_says(g, s, mail, sizeof mail - 1, seg);
	server_str(g, s, "250 2.1.0 Ok\r\n");
	client_says(g, s, rcpts, sizeof rcpts - 1, seg);
	server_str(g, s, "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n");
	client_says(g, s, "DATA\r\n", 6, seg);
	server_str(g, s, "354 End data with <CR><LF>.<CR><LF>\r\n");
	struct buf body = {0};
	make_body(&body, client_bytes > fixed + 200 ? client_bytes - fixed : 200);
	client_says(g, s, (const char *)body.p, body.len, seg);
	server_str(g, s, "250 2.0.0 Ok: queued as 4ABCDEF\r\n");
	closing(g, s, seg);
	free(body.p);
}

/* One ordinary transaction whose message body begins as stream_holes() sends it. */
static void holes_transaction(struct pcapgen *g, struct session *s, size_t holes, uint64_t retrans,
                              int in_order)
{
	opening(g, s, PCAPGEN_MSS);
	client_says(g, s, "MAIL FROM:<sender@example.com>\r\nRCPT TO:<alice@example.org>\r\n", 61,
	            PCAPGEN_MSS);
	server_str(g, s, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
	client_says(g, s, "DATA\r\n", 6, PCAPGEN_MSS);
	server_str(g, s, "354 End data with <CR><LF>.<CR><LF>\r\n");
	struct buf body = {0};
	make_body(&body, 2 * holes + 2000);
	stream_holes(g, &s->client, &s->server, body.p, holes, retrans, in_order);
	client_says(g, s, (const char *)body.p + 2 * holes, body.len - 2 * holes, PCAPGEN_MSS);
	server_str(g, s, "250 2.0.0 Ok: queued as 4ABCDEF\r\n");
	closing(g, s, PCAPGEN_MSS);
	free(body.p);
}

static uint64_t parse_count(const char *what, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno || end == s || *end || n < 1 || n > 1000000000ull) {
		fprintf(stderr, "gen_stress: %s must be an integer from 1 to 10^9, got '%s'\n", what, s);
		exit(2);
	}
	return n;
}

int main(int argc, char **argv)
{
	uint64_t group = 0;
	int c;
	while ((c = getopt(argc, argv, "g:")) != -1) {
		if (c != 'g')
			goto usage;
		group = parse_count("-g", optarg);
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 4) {
	usage:
		fprintf(stderr, "usage: gen_stress [-g GROUP] "
		                "rcpt|rcpt-domains|tiny|tiny-ooo|holes|holes-inorder N OUT.pcap\n"
		                "       gen_stress normal BYTES OUT.pcap\n");
		return 2;
	}
	uint64_t n = parse_count("N", argv[2]);
	struct pcapgen *g = malloc(sizeof *g);
	if (!g || pcapgen_open(g, argv[3], 1800000000ull * 1000000u, 10) != 0)
		return 1;
	uint64_t sessions = 1;
	if (strcmp(argv[1], "rcpt") == 0) {
		gen_rcpt(g, n, 0, group ? group : 100);
	} else if (strcmp(argv[1], "rcpt-domains") == 0) {
		gen_rcpt(g, n, 1, group ? group : 100);
	} else if (strcmp(argv[1], "tiny") == 0) {
		struct session s;
		session_init(&s, 1);
		transaction(g, &s, n, 1);
	} else if (strcmp(argv[1], "tiny-ooo") == 0) {
		struct session s;
		session_init(&s, 1);
		ooo_group = group ? group : 1000;
		transaction(g, &s, n, 1);
	} else if (strcmp(argv[1], "holes") == 0 || strcmp(argv[1], "holes-inorder") == 0) {
		struct session s;
		session_init(&s, 1);
		holes_transaction(g, &s, group ? group : 4000, n, strcmp(argv[1], "holes-inorder") == 0);
	} else if (strcmp(argv[1], "normal") == 0) {
		for (sessions = 0; g->bytes < n; sessions++) {
			struct session s;
			session_init(&s, (uint32_t)sessions + 1);
			transaction(g, &s, BODY_BYTES, PCAPGEN_MSS);
		}
	} else {
		fprintf(stderr, "gen_stress: unknown mode '%s'\n", argv[1]);
		return 2;
	}
	if (pcapgen_close(g) != 0) {
		fprintf(stderr, "gen_stress: %s: write error\n", argv[3]);
		return 1;
	}
	printf("packets=%" PRIu64 " bytes=%" PRIu64 " payload=%" PRIu64 " sessions=%" PRIu64 "\n", g->packets,
	       g->bytes, g->payload_bytes, sessions);
	free(g);
	return 0;
}
