/*
 * test_idle_flow.c: what a connection that got its 220 banner and went idle
 * costs the worker's memcap (issue 16, "Small idle flows"), and that the
 * application state (flow record, mail session, nDPI's state, held bytes) is
 * given back as the session moves on: nDPI's state once it decided, the
 * parsers when the session is decided and closed.
 *
 * The flood is made of smtp-plain.pcap's first packets (handshake, banner,
 * the client's ACK) with the client's port changed per connection.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/smtp.h"
#include "sensor/config/config.h"
#include "sensor/config/settings.h"
#include "sensor/flow/flow.h"
#include "sensor/worker.h"
#include "capture_packets.h"
#include "test_support.h"

/*
 * The bound this test holds the application state of an idle banner flow to:
 * the flow record, the mail session and nDPI's waiting state with the held
 * banner and ACK, everything per flow but the flow itself and the SMTP
 * parser (charged and measured apart).
 */
enum { IDLE_APP_STATE_MAX = 512, FLOOD_CONNS = 300, ETH_HEADER = 14 };

struct run {
	struct sensor_settings settings;
	struct mail_ports ports;
	struct worker *w;
	size_t sessions;
	uint64_t baseline; /* the memcap's use before the first packet (the flow table's buckets) */
};

static void on_session(void *ctx, struct session *sess, bool mail, const char *ingress)
{
	(void)sess;
	(void)mail;
	(void)ingress;
	((struct run *)ctx)->sessions++;
}

static void run_start(struct run *r)
{
	memset(r, 0, sizeof *r);
	/* Flows stay until the end: idle is what is measured. */
	r->w = test_worker_new(&r->settings, &r->ports, on_session, r);
	r->baseline = worker_memcap(r->w)->used;
}

static void run_end(struct run *r)
{
	worker_finish(r->w, FLOW_CLOSE_END_OF_CAPTURE);
	worker_free(r->w);
	settings_free(&r->settings);
}

static uint64_t charged(struct run *r)
{
	return worker_memcap(r->w)->used - r->baseline;
}

/* Where the TCP header of an Ethernet/IPv4 frame starts. */
static size_t tcp_at(const struct capture_packet *cp)
{
	cr_assert_eq(cp->linktype, 1, "an Ethernet capture");
	cr_assert_geq(cp->caplen, ETH_HEADER + 20 + 20);
	cr_assert_eq(cp->data[ETH_HEADER] >> 4, 4, "IPv4");
	return ETH_HEADER + (size_t)(cp->data[ETH_HEADER] & 0x0f) * 4;
}

static uint16_t port_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The packet with the client's port `from` changed to `to` (either TCP port), into buf. */
static struct capture_packet with_client_port(const struct capture_packet *cp, uint16_t from, uint16_t to,
                                              uint8_t *buf)
{
	memcpy(buf, cp->data, cp->caplen);
	size_t t = tcp_at(cp);
	for (size_t at = t; at <= t + 2; at += 2)
		if (port_at(buf + at) == from) {
			buf[at] = (uint8_t)(to >> 8);
			buf[at + 1] = (uint8_t)to;
		}
	struct capture_packet out = *cp;
	out.data = buf;
	return out;
}

/* The TCP payload of an Ethernet/IPv4 frame. */
static const uint8_t *payload_of(const struct capture_packet *cp, size_t *n)
{
	size_t t = tcp_at(cp);
	size_t ip_len = (size_t)(cp->data[ETH_HEADER + 2] << 8 | cp->data[ETH_HEADER + 3]);
	size_t at = t + (size_t)(cp->data[t + 12] >> 4) * 4;
	cr_assert_leq(ETH_HEADER + ip_len, cp->caplen);
	cr_assert_leq(at, ETH_HEADER + ip_len);
	*n = ETH_HEADER + ip_len - at;
	return cp->data + at;
}

/* How many of the capture's first packets come before the client's first payload byte. */
static size_t before_client_speaks(const struct packets *ps, uint16_t client_port)
{
	for (size_t i = 0; i < ps->n; i++) {
		size_t n;
		payload_of(&ps->p[i], &n);
		if (port_at(ps->p[i].data + tcp_at(&ps->p[i])) == client_port && n > 0)
			return i;
	}
	return ps->n;
}

/* What an SMTP parser fed the same server bytes (the banner) reports: charged per flow, but not this
 * part's (parsers/smtp.c). */
static size_t parser_after_banner(const struct sensor_settings *s, const struct packets *ps, size_t idle,
                                  uint16_t client_port)
{
	struct smtp_parser *p = smtp_parser_new(&s->smtp);
	cr_assert_not_null(p);
	size_t fed = 0;
	for (size_t i = 0; i < idle; i++) {
		size_t n, used = 0;
		const uint8_t *b = payload_of(&ps->p[i], &n);
		if (n > 0 && port_at(ps->p[i].data + tcp_at(&ps->p[i])) != client_port) {
			smtp_parser_feed(p, SMTP_FROM_SERVER, b, n, &used);
			fed += n;
		}
	}
	cr_assert_gt(fed, 4, "the banner");
	size_t n = smtp_parser_memory(p);
	smtp_parser_free(p);
	return n;
}

Test(idle_flow, a_banner_flood_costs_each_flow_little_application_state)
{
	struct packets *ps = malloc(sizeof *ps);
	struct run *r = malloc(sizeof *r);
	cr_assert(ps && r);
	read_capture("tests/fixtures/smtp-plain.pcap", ps);
	uint16_t client = port_at(ps->p[0].data + tcp_at(&ps->p[0]));
	size_t idle = before_client_speaks(ps, client);
	cr_assert_geq(idle, 4, "SYN, SYN-ACK, ACK, banner (and the client's ACK)");
	cr_assert_lt(idle, ps->n);
	run_start(r);
	static uint8_t buf[2048];
	for (unsigned k = 0; k < FLOOD_CONNS; k++)
		for (size_t i = 0; i < idle; i++) {
			cr_assert_leq(ps->p[i].caplen, sizeof buf);
			struct capture_packet cp =
			    with_client_port(&ps->p[i], client, (uint16_t)(20000 + k), buf);
			worker_packet(r->w, &cp);
		}
	const struct flow_table_stats *fs = flow_table_stats(worker_flows(r->w));
	cr_assert_eq(fs->active, FLOOD_CONNS, "every connection held");
	uint64_t per_flow = charged(r) / FLOOD_CONNS;
	size_t parser = parser_after_banner(&r->settings, ps, idle, client);
	uint64_t app = per_flow - sizeof(struct flow) - parser;
	cr_log_info(
	    "idle banner flow: %llu bytes charged = flow %zu + SMTP parser %zu + application state %llu",
	    (unsigned long long)per_flow, sizeof(struct flow), parser, (unsigned long long)app);
	cr_assert_geq(per_flow, sizeof(struct flow) + parser);
	cr_assert_leq(app, IDLE_APP_STATE_MAX, "application state of an idle banner flow: %llu bytes",
	              (unsigned long long)app);
	cr_assert_eq(worker_record_stats(r->w)->parser_memcap_stops, 0);
	run_end(r);
	cr_assert_eq(r->sessions, FLOOD_CONNS, "each connection is still reported");
	free(r);
	free_packets(ps);
	free(ps);
}

/*
 * Whole sessions: nDPI's state comes with the client's first payload and is
 * gone once nDPI is done; once the session is decided and closed, what is left
 * of it is the flow, its record and mail session, and the packed observations
 * (with the certificates a TLS session keeps for its event).
 */
static void check_given_back(const char *fixture, uint64_t kept_max)
{
	struct packets *ps = malloc(sizeof *ps);
	struct run *r = malloc(sizeof *r);
	cr_assert(ps && r);
	read_capture(fixture, ps);
	run_start(r);
	uint64_t peak = 0;
	for (size_t i = 0; i < ps->n; i++) {
		worker_packet(r->w, &ps->p[i]);
		if (charged(r) > peak)
			peak = charged(r);
	}
	cr_assert_gt(worker_record_stats(r->w)->parsers_released, 0, "%s: released", fixture);
	uint64_t left = charged(r) - sizeof(struct flow);
	cr_log_info("%s: peak %llu bytes, %llu left beside the flow once released", fixture,
	            (unsigned long long)peak, (unsigned long long)left);
	cr_assert_leq(left, kept_max, "%s: %llu bytes left (peak %llu)", fixture, (unsigned long long)left,
	              (unsigned long long)peak);
	/* nDPI's flow struct alone is 688 bytes (nDPI 4.2): at the peak it was there, now it is not. */
	cr_assert_lt(left + 688, peak, "%s: the parsers and nDPI's state went back", fixture);
	run_end(r);
	free(r);
	free_packets(ps);
	free(ps);
}

Test(idle_flow, state_is_given_back_after_ehlo_handshake_and_close)
{
	check_given_back("tests/fixtures/smtp-plain.pcap", 1024);
	check_given_back("tests/fixtures/starttls-tls12.pcap", 4096);
	check_given_back("tests/fixtures/smtps-465.pcap", 4096);
}
