/*
 * test_tcp_tracker.c: what TCP segments do to a flow (sensor/flow/tcp_tracker.h):
 * delivery of each direction to the consumer, roles, state, close reason and
 * whether the flow was answered.
 *
 * Packets are decoded_packet values built by hand and fed the way the sensor
 * does: find, else create and attach, then mail_roles_settle (the banner
 * corrects guessed roles) and tcp_tracker_segment. A recording
 * consumer keeps, per flow, the bytes of each direction and an event log
 * (">8" 8 bytes client to server, "<14" 14 bytes server to client, ">g4" a
 * 4-byte gap), and fails the test if it is called after answering STREAM_DONE.
 * The table's end hook does what the sensor's does: flush, then close.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/app/mail_roles.h"
#include "sensor/flow/tcp_tracker.h"
#include "ip_text.h"

#define SEC 1000000ull
#define T0 (1700000000ull * SEC)

enum { REC_BYTES = 4096, LOG_CAP = 512, MAX_RECORDS = 4, HEADERS = 54 };

struct harness;

struct record {
	struct harness *h;
	struct flow *flow; /* NULL once ended */
	uint8_t bytes[2][REC_BYTES];
	size_t len[2];
	uint64_t gap_bytes[2];
	char log[LOG_CAP];
	size_t log_len;
	struct flow_endpoint client_at_first_data, server_at_first_data;
	bool said_done;
	/* at the end */
	unsigned ends, closes;
	enum flow_close_reason table_reason, close_reason;
	bool answered;
};

struct harness {
	struct flow_table *table;
	struct flow_consumer consumer;
	struct record records[MAX_RECORDS];
	size_t nrecords;
	uint64_t now_us;
	uint16_t service_port; /* the port the sensor would call a mail port */
	size_t done_after;     /* answer STREAM_DONE once a flow delivered this many bytes (0: never) */
};

/* Appends ">n" / "<n" (data) or ">gn" / "<gn" (gap) to the record's log. */
static void log_event(struct record *r, enum flow_dir dir, bool gap, unsigned long long n)
{
	int w = snprintf(r->log + r->log_len, LOG_CAP - r->log_len, "%s%c%s%llu", r->log_len ? " " : "",
	                 dir == FLOW_TO_SERVER ? '>' : '<', gap ? "g" : "", n);
	cr_assert(w > 0 && (size_t)w < LOG_CAP - r->log_len, "event log overflow");
	r->log_len += (size_t)w;
}

static void *rec_open(void *ctx, struct flow *f)
{
	struct harness *h = ctx;
	cr_assert_lt(h->nrecords, (size_t)MAX_RECORDS, "more flows than the test expects");
	struct record *r = &h->records[h->nrecords++];
	r->h = h;
	r->flow = f;
	return r;
}

static enum stream_verdict rec_data(void *state, struct flow *f, enum flow_dir dir, const uint8_t *p,
                                    size_t n)
{
	struct record *r = state;
	cr_assert_eq(r->flow, f, "data for another flow");
	cr_assert_not(r->said_done, "data delivered after the consumer answered STREAM_DONE");
	cr_assert_gt(n, 0);
	cr_assert_leq(r->len[dir] + n, (size_t)REC_BYTES);
	if (r->len[0] + r->len[1] == 0) {
		r->client_at_first_data = f->client;
		r->server_at_first_data = f->server;
	}
	memcpy(r->bytes[dir] + r->len[dir], p, n);
	r->len[dir] += n;
	log_event(r, dir, false, n);
	if (r->h->done_after && r->len[0] + r->len[1] >= r->h->done_after) {
		r->said_done = true;
		return STREAM_DONE;
	}
	return STREAM_CONTINUE;
}

static enum stream_verdict rec_gap(void *state, struct flow *f, enum flow_dir dir, uint64_t n)
{
	struct record *r = state;
	cr_assert_eq(r->flow, f, "gap for another flow");
	cr_assert_not(r->said_done, "gap delivered after the consumer answered STREAM_DONE");
	r->gap_bytes[dir] += n;
	log_event(r, dir, true, n);
	return STREAM_CONTINUE;
}

/* The table's end hook, as the sensor's: last bytes out, then the verdicts. */
static void on_end(void *ctx, struct flow *f, enum flow_close_reason reason)
{
	struct record *r = f->consumer_state;
	cr_assert_not_null(r);
	r->ends++;
	tcp_tracker_flush(f);
	r->table_reason = reason;
	r->answered = tcp_tracker_answered(f);
	r->closes++;
	r->close_reason = tcp_tracker_close_reason(f, reason);
	r->flow = NULL;
}

static struct harness *harness_new(void)
{
	struct harness *h = calloc(1, sizeof *h);
	cr_assert_not_null(h);
	h->consumer = (struct flow_consumer){rec_open, rec_data, rec_gap, h};
	h->service_port = 25;
	h->now_us = T0;
	struct flow_table_settings s = {
	    .memcap = 1 << 22,
	    .hash_size = 64,
	    .timeout_us = {[FLOW_STATE_NEW] = 30 * SEC,
	                   [FLOW_STATE_ESTABLISHED] = 600 * SEC,
	                   [FLOW_STATE_CLOSED] = 10 * SEC},
	    .emergency_timeout_us = {[FLOW_STATE_NEW] = 5 * SEC,
	                             [FLOW_STATE_ESTABLISHED] = 60 * SEC,
	                             [FLOW_STATE_CLOSED] = 1 * SEC},
	    .recovery_percent = 50,
	    .stream = {.depth = 0, .max_ooo_bytes = 1 << 16},
	};
	h->table = flow_table_new(&s, on_end, h);
	cr_assert_not_null(h->table);
	return h;
}

static void harness_free(struct harness *h)
{
	flow_table_free(h->table, FLOW_CLOSE_SHUTDOWN);
	for (size_t i = 0; i < h->nrecords; i++)
		cr_assert_eq(h->records[i].ends, 1, "flow %zu ended %u times", i, h->records[i].ends);
	free(h);
}

/* Ends every flow now (through the end hook) so the records can be checked. */
static void end_all(struct harness *h)
{
	flow_table_end_all(h->table, FLOW_CLOSE_END_OF_CAPTURE);
}

struct peer {
	const char *ip;
	uint16_t port;
};

static const struct peer CLIENT = {"192.0.2.10", 40000}, SERVER = {"198.51.100.25", 25};

static struct decoded_packet seg(struct peer from, struct peer to, uint8_t flags, uint32_t seq, uint32_t ack,
                                 const char *data)
{
	struct decoded_packet p;
	memset(&p, 0, sizeof p);
	p.src = addr(from.ip);
	p.dst = addr(to.ip);
	p.sport = from.port;
	p.dport = to.port;
	p.tcp_flags = flags;
	p.seq = seq;
	p.ack = ack;
	p.payload = (const uint8_t *)data;
	p.payload_len = p.payload_wire_len = data ? (uint32_t)strlen(data) : 0;
	return p;
}

/* One packet through the tracker, the way sensor_packet() does it. */
static struct flow *feed(struct harness *h, struct decoded_packet p)
{
	h->now_us += 1000;
	enum flow_dir dir;
	struct flow *f = flow_table_find(h->table, &p, flow_table_hash(h->table, &p), &dir);
	if (!f) {
		bool dst_service = p.dport == h->service_port, src_service = p.sport == h->service_port;
		f = flow_table_create(h->table, &p, flow_table_hash(h->table, &p), dst_service, src_service,
		                      h->now_us, &dir);
		cr_assert_not_null(f, "the table refused the flow");
		tcp_tracker_attach(f, &h->consumer);
	}
	mail_roles_settle(f, &dir, &p); /* the SMTP banner settles guessed roles, as the worker does */
	tcp_tracker_segment(h->table, f, dir, &p, HEADERS + p.payload_wire_len, h->now_us);
	flow_table_end_queued(h->table);
	return f;
}

static struct record *only_record(struct harness *h)
{
	cr_assert_eq(h->nrecords, 1, "%zu flows, expected one", h->nrecords);
	return &h->records[0];
}

static void expect_dir(const struct record *r, enum flow_dir dir, const char *expected)
{
	size_t n = strlen(expected);
	cr_assert_eq(r->len[dir], n, "%s: %zu bytes delivered, expected %zu",
	             dir == FLOW_TO_SERVER ? "to server" : "to client", r->len[dir], n);
	cr_assert(memcmp(r->bytes[dir], expected, n) == 0, "%s: delivered \"%.*s\", expected \"%s\"",
	          dir == FLOW_TO_SERVER ? "to server" : "to client", (int)r->len[dir],
	          (const char *)r->bytes[dir], expected);
}

static void expect_log(const struct record *r, const char *expected)
{
	cr_assert_str_eq(r->log, expected, "events were \"%s\", expected \"%s\"", r->log, expected);
}

/* Sequence numbers of the SMTP exchange used below. */
enum { CISN = 1000, SISN = 5000 };
static const char BANNER[] = "220 mx.example ESMTP\r\n"; /* 22 */
static const char EHLO[] = "EHLO client\r\n";            /* 13 */
static const char OK[] = "250 ok\r\n";                   /* 8 */

/* SYN, SYN-ACK, ACK, banner, EHLO, 250: a whole exchange from the start. */
static struct flow *handshake_and_greeting(struct harness *h)
{
	struct flow *f = feed(h, seg(CLIENT, SERVER, TCP_SYN, CISN, 0, NULL));
	cr_assert_eq(f->state, FLOW_STATE_NEW);
	feed(h, seg(SERVER, CLIENT, TCP_SYN | TCP_ACK, SISN, CISN + 1, NULL));
	cr_assert_eq(f->state, FLOW_STATE_NEW, "a SYN-ACK alone leaves the flow half-open");
	feed(h, seg(CLIENT, SERVER, TCP_ACK, CISN + 1, SISN + 1, NULL));
	cr_assert_eq(f->state, FLOW_STATE_ESTABLISHED, "the client's ACK completes the handshake");
	feed(h, seg(SERVER, CLIENT, TCP_ACK | TCP_PSH, SISN + 1, CISN + 1, BANNER));
	feed(h, seg(CLIENT, SERVER, TCP_ACK | TCP_PSH, CISN + 1, SISN + 23, EHLO));
	feed(h, seg(SERVER, CLIENT, TCP_ACK | TCP_PSH, SISN + 23, CISN + 14, OK));
	return f;
}

/* ---- delivery ---- */

Test(delivery, a_full_exchange_reaches_the_consumer_in_order_in_the_right_direction)
{
	struct harness *h = harness_new();
	struct flow *f = handshake_and_greeting(h);
	struct record *r = only_record(h);
	expect_dir(r, FLOW_TO_CLIENT, "220 mx.example ESMTP\r\n250 ok\r\n");
	expect_dir(r, FLOW_TO_SERVER, EHLO);
	expect_log(r, "<22 >13 <8");
	cr_assert_eq(f->role_source, FLOW_ROLE_SYN);
	cr_assert_eq(f->client.port, CLIENT.port);
	cr_assert_eq(f->server.port, SERVER.port);
	cr_assert_eq(f->state, FLOW_STATE_ESTABLISHED);
	cr_assert(f->payload_seen);
	const struct flow_side *c = &f->side[FLOW_TO_SERVER], *s = &f->side[FLOW_TO_CLIENT];
	cr_assert_eq(c->packets, 3);
	cr_assert_eq(s->packets, 3);
	cr_assert_eq(c->bytes, 3 * HEADERS + 13);
	cr_assert_eq(s->bytes, 3 * HEADERS + 22 + 8);
	cr_assert(c->syn && s->syn);
	cr_assert_not(c->fin || s->fin || c->rst || s->rst);
	harness_free(h);
}

Test(delivery, segments_arriving_out_of_order_are_delivered_in_sequence)
{
	struct harness *h = harness_new();
	feed(h, seg(CLIENT, SERVER, TCP_SYN, CISN, 0, NULL));
	feed(h, seg(SERVER, CLIENT, TCP_SYN | TCP_ACK, SISN, CISN + 1, NULL));
	feed(h, seg(SERVER, CLIENT, TCP_ACK, SISN + 5, CISN + 1, "world"));
	struct record *r = only_record(h);
	cr_assert_eq(r->len[FLOW_TO_CLIENT], 0, "delivered across a hole");
	feed(h, seg(SERVER, CLIENT, TCP_ACK, SISN + 1, CISN + 1, "hell"));
	expect_dir(r, FLOW_TO_CLIENT, "hellworld");
	expect_log(r, "<4 <5");
	harness_free(h);
}

Test(delivery, the_consumer_is_opened_once_per_flow_and_closed_once_at_its_end)
{
	struct harness *h = harness_new();
	handshake_and_greeting(h);
	struct record *r = only_record(h);
	cr_assert_eq(r->closes, 0, "closed while the flow is alive");
	end_all(h);
	cr_assert_eq(r->closes, 1);
	cr_assert_eq(r->table_reason, FLOW_CLOSE_END_OF_CAPTURE);
	cr_assert_eq(r->close_reason, FLOW_CLOSE_END_OF_CAPTURE, "no FIN or RST was seen");
	harness_free(h);
}

/* ---- roles ---- */

/* Two unprivileged ports: the mail server listens on 50000, the client uses 40000. */
static const struct peer HIGH_SERVER = {"198.51.100.25", 50000}, LOW_CLIENT = {"192.0.2.10", 40000};

Test(roles, a_midstream_banner_from_the_guessed_client_swaps_the_roles)
{
	struct harness *h = harness_new();
	struct flow *f = feed(h, seg(HIGH_SERVER, LOW_CLIENT, TCP_ACK | TCP_PSH, SISN, CISN, BANNER));
	cr_assert_eq(f->role_source, FLOW_ROLE_GUESS);
	cr_assert_eq(f->client.port, LOW_CLIENT.port, "the banner's sender must become the server");
	cr_assert_eq(f->server.port, HIGH_SERVER.port);
	struct ip_addr server_ip = addr(HIGH_SERVER.ip);
	cr_assert_eq(ip_addr_compare(&f->server.ip, &server_ip), 0, "the address moved with the port");
	struct record *r = only_record(h);
	expect_dir(r, FLOW_TO_CLIENT, BANNER);
	cr_assert_eq(r->server_at_first_data.port, HIGH_SERVER.port,
	             "the consumer saw the roles before the swap");
	cr_assert_eq(f->side[FLOW_TO_CLIENT].packets, 1);
	cr_assert_eq(f->side[FLOW_TO_SERVER].packets, 0);

	/* The flow is found from both sides with the swapped directions. */
	feed(h, seg(LOW_CLIENT, HIGH_SERVER, TCP_ACK | TCP_PSH, CISN, SISN + 22, EHLO));
	feed(h, seg(HIGH_SERVER, LOW_CLIENT, TCP_ACK | TCP_PSH, SISN + 22, CISN + 13, OK));
	expect_dir(r, FLOW_TO_SERVER, EHLO);
	expect_dir(r, FLOW_TO_CLIENT, "220 mx.example ESMTP\r\n250 ok\r\n");
	expect_log(r, "<22 >13 <8");
	cr_assert_eq(f->side[FLOW_TO_SERVER].packets, 1);
	cr_assert_eq(f->side[FLOW_TO_CLIENT].packets, 2);
	cr_assert_eq(f->side[FLOW_TO_CLIENT].bytes, 2 * HEADERS + 22 + 8);
	harness_free(h);
}

Test(roles, counters_seen_before_the_swap_stay_with_their_endpoint)
{
	struct harness *h = harness_new();
	/* A pure ACK from the real client first: the lower port (40000) is guessed to be the server. */
	struct flow *f = feed(h, seg(LOW_CLIENT, HIGH_SERVER, TCP_ACK, CISN, SISN, NULL));
	cr_assert_eq(f->server.port, LOW_CLIENT.port);
	cr_assert_eq(f->side[FLOW_TO_CLIENT].packets, 1);
	feed(h, seg(HIGH_SERVER, LOW_CLIENT, TCP_ACK | TCP_PSH, SISN, CISN, BANNER));
	cr_assert_eq(f->client.port, LOW_CLIENT.port);
	cr_assert_eq(f->server.port, HIGH_SERVER.port);
	cr_assert_eq(f->side[FLOW_TO_SERVER].packets, 1, "the ACK belongs to the client");
	cr_assert_eq(f->side[FLOW_TO_SERVER].bytes, HEADERS);
	cr_assert_eq(f->side[FLOW_TO_CLIENT].packets, 1, "the banner belongs to the server");
	cr_assert_eq(f->side[FLOW_TO_CLIENT].bytes, HEADERS + 22);
	expect_dir(only_record(h), FLOW_TO_CLIENT, BANNER);
	harness_free(h);
}

Test(roles, a_guess_confirmed_by_the_banner_is_kept)
{
	struct harness *h = harness_new();
	/* 2525 talks first with the banner: the lower port was the server all along. */
	const struct peer srv = {"198.51.100.25", 2525}, cli = {"192.0.2.10", 40000};
	struct flow *f = feed(h, seg(srv, cli, TCP_ACK | TCP_PSH, SISN, CISN, BANNER));
	cr_assert_eq(f->server.port, 2525);
	cr_assert_eq(f->client.port, 40000);
	expect_dir(only_record(h), FLOW_TO_CLIENT, BANNER);
	harness_free(h);
}

Test(roles, a_reply_from_the_client_does_not_swap_roles_taken_from_the_syn)
{
	struct harness *h = harness_new();
	struct flow *f = feed(h, seg(LOW_CLIENT, HIGH_SERVER, TCP_SYN, CISN, 0, NULL));
	feed(h, seg(HIGH_SERVER, LOW_CLIENT, TCP_SYN | TCP_ACK, SISN, CISN + 1, NULL));
	feed(h, seg(LOW_CLIENT, HIGH_SERVER, TCP_ACK | TCP_PSH, CISN + 1, SISN + 1, BANNER));
	cr_assert_eq(f->role_source, FLOW_ROLE_SYN);
	cr_assert_eq(f->client.port, LOW_CLIENT.port);
	cr_assert_eq(f->server.port, HIGH_SERVER.port);
	struct record *r = only_record(h);
	expect_dir(r, FLOW_TO_SERVER, BANNER);
	expect_dir(r, FLOW_TO_CLIENT, "");
	harness_free(h);
}

Test(roles, a_reply_towards_the_service_port_does_not_swap_roles_taken_from_the_port)
{
	struct harness *h = harness_new();
	struct flow *f = feed(h, seg(CLIENT, SERVER, TCP_ACK | TCP_PSH, CISN, SISN, "250 ok\r\n"));
	cr_assert_eq(f->role_source, FLOW_ROLE_PORT);
	cr_assert_eq(f->client.port, CLIENT.port);
	cr_assert_eq(f->server.port, SERVER.port);
	expect_dir(only_record(h), FLOW_TO_SERVER, "250 ok\r\n");
	harness_free(h);
}

Test(roles, a_reply_after_other_payload_no_longer_swaps_guessed_roles)
{
	struct harness *h = harness_new();
	/* The guessed client (higher port) speaks first, and not as a server: roles are now fixed. */
	struct flow *f = feed(h, seg(HIGH_SERVER, LOW_CLIENT, TCP_ACK | TCP_PSH, SISN, CISN, "hello\r\n"));
	cr_assert_eq(f->client.port, HIGH_SERVER.port);
	feed(h, seg(HIGH_SERVER, LOW_CLIENT, TCP_ACK | TCP_PSH, SISN + 7, CISN, BANNER));
	cr_assert_eq(f->client.port, HIGH_SERVER.port);
	cr_assert_eq(f->server.port, LOW_CLIENT.port);
	expect_dir(only_record(h), FLOW_TO_SERVER, "hello\r\n220 mx.example ESMTP\r\n");
	harness_free(h);
}

/* ---- closing ---- */

Test(closing, fin_from_both_sides_closes_the_flow_and_the_reason_is_fin)
{
	struct harness *h = harness_new();
	struct flow *f = handshake_and_greeting(h);
	feed(h, seg(CLIENT, SERVER, TCP_ACK | TCP_FIN, CISN + 14, SISN + 31, "QUIT\r\n"));
	cr_assert_eq(f->state, FLOW_STATE_ESTABLISHED, "one FIN is a half-close");
	cr_assert_eq(tcp_tracker_close_reason(f, FLOW_CLOSE_TIMEOUT), FLOW_CLOSE_TIMEOUT);
	feed(h, seg(SERVER, CLIENT, TCP_ACK | TCP_FIN, SISN + 31, CISN + 21, "221 bye\r\n"));
	cr_assert_eq(f->state, FLOW_STATE_CLOSED);
	cr_assert_eq(tcp_tracker_close_reason(f, FLOW_CLOSE_TIMEOUT), FLOW_CLOSE_FIN);
	struct record *r = only_record(h);
	expect_dir(r, FLOW_TO_SERVER, "EHLO client\r\nQUIT\r\n");
	expect_dir(r, FLOW_TO_CLIENT, "220 mx.example ESMTP\r\n250 ok\r\n221 bye\r\n");

	/* The last ACK still finds the flow, which then goes after the closed timeout. */
	cr_assert_eq(feed(h, seg(CLIENT, SERVER, TCP_ACK, CISN + 21, SISN + 41, NULL)), f);
	cr_assert_eq(flow_table_stats(h->table)->created, 1);
	flow_table_expire(h->table, h->now_us + 5 * SEC);
	cr_assert_eq(r->ends, 0, "a closed flow went before the closed timeout");
	flow_table_expire(h->table, h->now_us + 11 * SEC);
	cr_assert_eq(r->ends, 1);
	cr_assert_eq(r->table_reason, FLOW_CLOSE_TIMEOUT);
	cr_assert_eq(r->close_reason, FLOW_CLOSE_FIN);
	harness_free(h);
}

Test(closing, rst_closes_the_flow_and_its_payload_is_not_delivered)
{
	struct harness *h = harness_new();
	struct flow *f = handshake_and_greeting(h);
	feed(h, seg(SERVER, CLIENT, TCP_RST | TCP_ACK, SISN + 31, CISN + 14, "421 go away\r\n"));
	cr_assert_eq(f->state, FLOW_STATE_CLOSED);
	cr_assert(f->side[FLOW_TO_CLIENT].rst);
	cr_assert_eq(tcp_tracker_close_reason(f, FLOW_CLOSE_TIMEOUT), FLOW_CLOSE_RST);
	struct record *r = only_record(h);
	expect_dir(r, FLOW_TO_CLIENT, "220 mx.example ESMTP\r\n250 ok\r\n");
	end_all(h);
	expect_dir(r, FLOW_TO_CLIENT, "220 mx.example ESMTP\r\n250 ok\r\n"); /* not even at the flush */
	expect_log(r, "<22 >13 <8");
	cr_assert_eq(r->close_reason, FLOW_CLOSE_RST);
	harness_free(h);
}

Test(closing, without_fin_or_rst_the_tables_reason_stands)
{
	struct harness *h = harness_new();
	struct flow *f = handshake_and_greeting(h);
	cr_assert_eq(tcp_tracker_close_reason(f, FLOW_CLOSE_EVICTED), FLOW_CLOSE_EVICTED);
	cr_assert_eq(tcp_tracker_close_reason(f, FLOW_CLOSE_TIMEOUT), FLOW_CLOSE_TIMEOUT);
	harness_free(h);
}

/* ---- the consumer says done ---- */

Test(done, stream_done_stops_delivery_in_both_directions_and_frees_the_buffers)
{
	struct harness *h = harness_new();
	struct memcap *m = flow_table_memcap(h->table);
	struct flow *f = feed(h, seg(CLIENT, SERVER, TCP_SYN, CISN, 0, NULL));
	feed(h, seg(SERVER, CLIENT, TCP_SYN | TCP_ACK, SISN, CISN + 1, NULL));
	feed(h, seg(CLIENT, SERVER, TCP_ACK, CISN + 1, SISN + 1, NULL));
	uint64_t flow_only = m->used;
	/* The client has sent something out of order: it sits in the buffer. */
	feed(h, seg(CLIENT, SERVER, TCP_ACK, CISN + 101, SISN + 1, "later"));
	cr_assert_gt(m->used, flow_only, "the out-of-order segment was not buffered");

	h->done_after = 1; /* the first byte is enough */
	feed(h, seg(SERVER, CLIENT, TCP_ACK | TCP_PSH, SISN + 1, CISN + 1, BANNER));
	struct record *r = only_record(h);
	cr_assert(r->said_done);
	cr_assert(f->consumer_done);
	cr_assert_eq(m->used, flow_only, "buffers still charged after STREAM_DONE");

	/* Nothing more is delivered, either way, not even what filled the hole. */
	feed(h, seg(CLIENT, SERVER, TCP_ACK | TCP_PSH, CISN + 1, SISN + 23, EHLO));
	feed(h, seg(SERVER, CLIENT, TCP_ACK | TCP_PSH, SISN + 23, CISN + 14, OK));
	feed(h, seg(CLIENT, SERVER, TCP_ACK | TCP_PSH, CISN + 14, SISN + 31, "MAIL FROM:<a@b>\r\n"));
	cr_assert_eq(m->used, flow_only);
	cr_assert_eq(f->side[FLOW_TO_SERVER].packets, 5, "packets after STREAM_DONE are still counted");
	end_all(h);
	expect_log(r, "<22");
	expect_dir(r, FLOW_TO_SERVER, "");
	cr_assert_eq(r->closes, 1);
	harness_free(h);
}

Test(done, packets_after_stream_done_still_update_the_counters_and_state)
{
	struct harness *h = harness_new();
	h->done_after = 1;
	struct flow *f = handshake_and_greeting(h);
	expect_log(only_record(h), "<22");
	cr_assert_eq(f->side[FLOW_TO_SERVER].packets, 3);
	cr_assert_eq(f->side[FLOW_TO_CLIENT].packets, 3);
	feed(h, seg(CLIENT, SERVER, TCP_ACK | TCP_FIN, CISN + 14, SISN + 31, NULL));
	feed(h, seg(SERVER, CLIENT, TCP_ACK | TCP_FIN, SISN + 31, CISN + 15, NULL));
	cr_assert_eq(f->state, FLOW_STATE_CLOSED);
	cr_assert_eq(tcp_tracker_close_reason(f, FLOW_CLOSE_TIMEOUT), FLOW_CLOSE_FIN);
	cr_assert_eq(f->side[FLOW_TO_SERVER].packets, 4);
	harness_free(h);
}

/* ---- answered ---- */

static bool answered_after(struct harness *h)
{
	end_all(h);
	return only_record(h)->answered;
}

Test(answered, a_lone_syn_is_not_answered)
{
	struct harness *h = harness_new();
	struct flow *f = feed(h, seg(CLIENT, SERVER, TCP_SYN, CISN, 0, NULL));
	cr_assert_not(tcp_tracker_answered(f));
	cr_assert_not(answered_after(h));
	harness_free(h);
}

Test(answered, a_retransmitted_syn_is_still_not_answered)
{
	struct harness *h = harness_new();
	feed(h, seg(CLIENT, SERVER, TCP_SYN, CISN, 0, NULL));
	feed(h, seg(CLIENT, SERVER, TCP_SYN, CISN, 0, NULL));
	feed(h, seg(CLIENT, SERVER, TCP_SYN, CISN, 0, NULL));
	cr_assert_not(answered_after(h));
	harness_free(h);
}

Test(answered, a_completed_handshake_is_answered)
{
	struct harness *h = harness_new();
	feed(h, seg(CLIENT, SERVER, TCP_SYN, CISN, 0, NULL));
	feed(h, seg(SERVER, CLIENT, TCP_SYN | TCP_ACK, SISN, CISN + 1, NULL));
	struct flow *f = feed(h, seg(CLIENT, SERVER, TCP_ACK, CISN + 1, SISN + 1, NULL));
	cr_assert(tcp_tracker_answered(f));
	cr_assert_not(f->payload_seen);
	cr_assert(answered_after(h));
	harness_free(h);
}

Test(answered, a_syn_refused_by_the_server_with_rst_is_answered)
{
	struct harness *h = harness_new();
	struct flow *f = feed(h, seg(CLIENT, SERVER, TCP_SYN, CISN, 0, NULL));
	feed(h, seg(SERVER, CLIENT, TCP_RST | TCP_ACK, 0, CISN + 1, NULL));
	cr_assert(tcp_tracker_answered(f));
	cr_assert_eq(f->state, FLOW_STATE_CLOSED);
	end_all(h);
	struct record *r = only_record(h);
	cr_assert(r->answered);
	cr_assert_eq(r->close_reason, FLOW_CLOSE_RST);
	harness_free(h);
}

Test(answered, a_flow_picked_up_midstream_with_data_is_answered)
{
	struct harness *h = harness_new();
	struct flow *f = feed(h, seg(CLIENT, SERVER, TCP_ACK | TCP_PSH, CISN, SISN, EHLO));
	cr_assert(tcp_tracker_answered(f));
	cr_assert_eq(f->state, FLOW_STATE_ESTABLISHED);
	cr_assert(answered_after(h));
	harness_free(h);
}

Test(delivery, a_hole_the_peer_acknowledges_is_given_up_at_once_as_a_gap)
{
	struct harness *h = harness_new();
	feed(h, seg(CLIENT, SERVER, TCP_SYN, CISN, 0, NULL));
	feed(h, seg(SERVER, CLIENT, TCP_SYN | TCP_ACK, SISN, CISN + 1, NULL));
	feed(h, seg(CLIENT, SERVER, TCP_ACK, CISN + 1, SISN + 1, "AAAA"));
	feed(h, seg(CLIENT, SERVER, TCP_ACK, CISN + 9, SISN + 1, "CCCC"));
	struct record *r = only_record(h);
	expect_log(r, ">4");
	/* The server got what we missed: its ACK covers the hole, so waiting for it is pointless. */
	feed(h, seg(SERVER, CLIENT, TCP_ACK, SISN + 1, CISN + 13, NULL));
	expect_log(r, ">4 >g4 >4");
	expect_dir(r, FLOW_TO_SERVER, "AAAACCCC");
	harness_free(h);
}

/* ---- flush ---- */

Test(flush, buffered_data_beyond_holes_is_delivered_with_the_gaps_between)
{
	struct harness *h = harness_new();
	struct flow *f = feed(h, seg(CLIENT, SERVER, TCP_SYN, CISN, 0, NULL));
	feed(h, seg(SERVER, CLIENT, TCP_SYN | TCP_ACK, SISN, CISN + 1, NULL));
	/* Client: AAAA, hole of 4, CCCC, hole of 4, EEEE. Server: 220, hole of 3, tail. */
	feed(h, seg(CLIENT, SERVER, TCP_ACK, CISN + 1, SISN + 1, "AAAA"));
	feed(h, seg(CLIENT, SERVER, TCP_ACK, CISN + 9, SISN + 1, "CCCC"));
	feed(h, seg(CLIENT, SERVER, TCP_ACK, CISN + 17, SISN + 1, "EEEE"));
	feed(h, seg(SERVER, CLIENT, TCP_ACK, SISN + 1, CISN + 5, "220 "));
	feed(h, seg(SERVER, CLIENT, TCP_ACK, SISN + 8, CISN + 5, "tail"));
	struct record *r = only_record(h);
	expect_log(r, ">4 <4");

	tcp_tracker_flush(f);
	expect_dir(r, FLOW_TO_SERVER, "AAAACCCCEEEE");
	expect_dir(r, FLOW_TO_CLIENT, "220 tail");
	expect_log(r, ">4 <4 >g4 >4 >g4 >4 <g3 <4");
	cr_assert_eq(r->gap_bytes[FLOW_TO_SERVER], 8);
	cr_assert_eq(r->gap_bytes[FLOW_TO_CLIENT], 3);
	cr_assert_eq(flow_table_memcap(h->table)->used, 64 * sizeof(struct flow *) + sizeof(struct flow),
	             "flushed segments still charged");
	harness_free(h);
}

Test(flush, flushing_after_stream_done_delivers_nothing)
{
	struct harness *h = harness_new();
	h->done_after = 4;
	struct flow *f = feed(h, seg(CLIENT, SERVER, TCP_SYN, CISN, 0, NULL));
	feed(h, seg(SERVER, CLIENT, TCP_SYN | TCP_ACK, SISN, CISN + 1, NULL));
	feed(h, seg(SERVER, CLIENT, TCP_ACK, SISN + 9, CISN + 1, "later"));
	feed(h, seg(CLIENT, SERVER, TCP_ACK, CISN + 1, SISN + 1, "AAAA"));
	tcp_tracker_flush(f);
	expect_log(only_record(h), ">4");
	harness_free(h);
}

Test(flush, stream_done_during_the_flush_of_one_direction_spares_the_other)
{
	struct harness *h = harness_new();
	h->done_after = 12; /* reached inside the flush, by the client's second piece */
	struct flow *f = feed(h, seg(CLIENT, SERVER, TCP_SYN, CISN, 0, NULL));
	feed(h, seg(SERVER, CLIENT, TCP_SYN | TCP_ACK, SISN, CISN + 1, NULL));
	feed(h, seg(CLIENT, SERVER, TCP_ACK, CISN + 1, SISN + 1, "AAAA"));
	feed(h, seg(CLIENT, SERVER, TCP_ACK, CISN + 9, SISN + 1, "CCCC"));
	feed(h, seg(SERVER, CLIENT, TCP_ACK, SISN + 1, CISN + 5, "220 "));
	feed(h, seg(SERVER, CLIENT, TCP_ACK, SISN + 8, CISN + 5, "tail"));
	tcp_tracker_flush(f);
	struct record *r = only_record(h);
	expect_log(r, ">4 <4 >g4 >4");
	cr_assert(f->consumer_done);
	harness_free(h);
}
