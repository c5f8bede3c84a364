/*
 * test_classify.c: the nDPI adapter on real captures (tests/fixtures, made by scripts/make-fixtures.sh):
 * SMTP on the standard and on other ports is mail, HTTP, TLS and DNS are not; the suppressed risks never
 * show; and no packet, truncated or random, upsets it.
 *
 * Each capture is read with libpcap, decoded with our decoder (which finds where the IP header starts),
 * and each packet's IP part is handed over as a heap copy of exactly its length, so ASan
 * (TLSOBS_SANITIZE=ON) catches a read past it in the adapter. The client of a flow is the sender of
 * its first packet (every fixture starts with the SYN).
 */
#include "packet_builder.h"
#include "parsers/packet_decode.h"
#include "sensor/app/classify.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_FLOWS = 8, ETH_HEADER = 14, VLAN_TAG = 4 };

struct seen_flow {
	struct ip_addr client, server;
	uint16_t client_port, server_port;
	unsigned packets;
	struct classify_flow *cf;
};

struct capture_run {
	struct classifier *c;
	struct seen_flow flows[MAX_FLOWS];
	size_t n;
	bool wait;          /* every flow waits for its client (classify_flow_wait_for_client) */
	size_t peak_memory; /* the most classify_flow_memory() one flow took */
};

/* Swaps port `from` for `to` in the TCP header, both directions (IPv4 only); checksums are left stale. */
struct port_rewrite {
	uint16_t from, to;
};

static struct seen_flow *flow_of(struct capture_run *run, const struct decoded_packet *d, bool *to_server)
{
	for (size_t i = 0; i < run->n; i++) {
		struct seen_flow *f = &run->flows[i];
		bool fwd = !ip_addr_compare(&f->client, &d->src) && f->client_port == d->sport &&
		           !ip_addr_compare(&f->server, &d->dst) && f->server_port == d->dport;
		bool rev = !ip_addr_compare(&f->client, &d->dst) && f->client_port == d->dport &&
		           !ip_addr_compare(&f->server, &d->src) && f->server_port == d->sport;
		if (fwd || rev) {
			*to_server = fwd;
			return f;
		}
	}
	cr_assert_lt(run->n, MAX_FLOWS, "more flows than the test expects");
	struct seen_flow *f = &run->flows[run->n++];
	*f = (struct seen_flow){d->src, d->dst, d->sport, d->dport, 0, classify_flow_new(run->c)};
	cr_assert_not_null(f->cf);
	if (run->wait)
		classify_flow_wait_for_client(f->cf);
	*to_server = true;
	return f;
}

static void rewrite_port(uint8_t *ip, size_t len, const struct port_rewrite *rw)
{
	cr_assert(len >= 20 && ip[0] >> 4 == 4, "port rewriting is for IPv4 only");
	size_t tcp = (size_t)(ip[0] & 0x0f) * 4;
	cr_assert_geq(len, tcp + 4);
	for (size_t at = tcp; at <= tcp + 2; at += 2)
		if ((ip[at] << 8 | ip[at + 1]) == rw->from) {
			ip[at] = (uint8_t)(rw->to >> 8);
			ip[at + 1] = (uint8_t)rw->to;
		}
}

/* Classifies every flow of a fixture capture, finishing each at the end of the file. */
/* When set, only the first feed_limit packets are fed, and the flows are left unfinished. */
static size_t feed_limit;

static void classify_capture_waiting(const char *name, struct capture_run *run, const struct port_rewrite *rw,
                                     bool all_protocols, bool wait)
{
	char path[4096], err[PCAP_ERRBUF_SIZE];
	snprintf(path, sizeof path, "%s", test_source_path("tests/fixtures/"));
	strncat(path, name, sizeof path - strlen(path) - 1);
	pcap_t *p = pcap_open_offline(path, err);
	cr_assert_not_null(p, "%s: %s (TLSOBS_SOURCE_DIR set?)", name, err);
	cr_assert_eq(pcap_datalink(p), LT_EN10MB, "%s: fixtures are Ethernet captures", name);
	memset(run, 0, sizeof *run);
	run->wait = wait;
	run->c = all_protocols ? classifier_new_all() : classifier_new();
	cr_assert_not_null(run->c);
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t fed = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		struct decoded_packet d;
		if (packet_decode(LT_EN10MB, data, h->caplen, NULL, &d) != DECODE_OK)
			continue;
		size_t at = ETH_HEADER + (size_t)d.encap.vlan_count * VLAN_TAG;
		size_t len = h->caplen - at;
		uint8_t *ip = malloc(len);
		cr_assert_not_null(ip);
		memcpy(ip, data + at, len);
		if (rw) {
			rewrite_port(ip, len, rw);
			d.sport = d.sport == rw->from ? rw->to : d.sport;
			d.dport = d.dport == rw->from ? rw->to : d.dport;
		}
		if (feed_limit && fed++ >= feed_limit) {
			free(ip);
			break;
		}
		bool to_server;
		struct seen_flow *f = flow_of(run, &d, &to_server);
		f->packets++;
		uint64_t t = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		classify_packet(run->c, f->cf, ip, len, t, to_server);
		if (classify_flow_memory(f->cf) > run->peak_memory)
			run->peak_memory = classify_flow_memory(f->cf);
		free(ip);
	}
	pcap_close(p);
	if (!feed_limit)
		for (size_t i = 0; i < run->n; i++)
			classify_finish(run->c, run->flows[i].cf);
}

static void classify_capture_in(const char *name, struct capture_run *run, const struct port_rewrite *rw,
                                bool all_protocols)
{
	classify_capture_waiting(name, run, rw, all_protocols, false);
}

static void classify_capture(const char *name, struct capture_run *run, const struct port_rewrite *rw)
{
	classify_capture_in(name, run, rw, false);
}

static void release(struct capture_run *run)
{
	for (size_t i = 0; i < run->n; i++)
		classify_flow_free(run->flows[i].cf);
	classifier_free(run->c);
}

static bool has_risk(const struct classify_flow *cf, const char *name)
{
	const char *names[CLASSIFY_MAX_RISKS];
	size_t n = classify_flow_risks(cf, names, CLASSIFY_MAX_RISKS);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/* nDPI 4.2's names for the risks classify.h suppresses. */
static const char *const suppressed[] = {
    "Known Protocol on Non Standard Port",
    "TLS (probably) Not Carrying HTTPS",
    "Missing SNI TLS Extension",
};

static void check_mail_flow(const char *name, const struct seen_flow *f, enum classify_verdict want,
                            const char *protocol)
{
	cr_assert_eq(classify_flow_verdict(f->cf), want, "%s, port %u: %s, want %s", name, f->server_port,
	             classify_verdict_str(classify_flow_verdict(f->cf)), classify_verdict_str(want));
	cr_assert_str_eq(classify_flow_protocol(f->cf), protocol, "%s", name);
	cr_assert(classify_flow_done(f->cf));
	cr_assert_leq(classify_flow_packets(f->cf), CLASSIFY_MAX_PACKETS);
	for (size_t i = 0; i < sizeof suppressed / sizeof suppressed[0]; i++)
		cr_assert(!has_risk(f->cf, suppressed[i]), "%s: suppressed risk '%s' reported", name,
		          suppressed[i]);
}

/* One flow in the capture, on server port `port`, with this verdict and protocol name. */
static void check_single_flow(const char *name, uint16_t port, enum classify_verdict want,
                              const char *protocol)
{
	struct capture_run run;
	classify_capture(name, &run, NULL);
	cr_assert_eq(run.n, 1, "%s: %zu flows", name, run.n);
	cr_assert_eq(run.flows[0].server_port, port, "%s", name);
	check_mail_flow(name, &run.flows[0], want, protocol);
	release(&run);
}

/* ---- mail ---- */

Test(classify, finds_smtp_with_starttls_on_port_2525)
{
	check_single_flow("nonstd-port-2525-starttls.pcap", 2525, CLASSIFY_MAIL_SMTP, "SMTP");
}

Test(classify, finds_plain_smtp_on_port_10025)
{
	check_single_flow("nonstd-port-10025-plain.pcap", 10025, CLASSIFY_MAIL_SMTP, "SMTP");
}

Test(classify, finds_smtp_on_the_standard_ports_with_and_without_starttls)
{
	check_single_flow("smtp-plain.pcap", 25, CLASSIFY_MAIL_SMTP, "SMTP");
	check_single_flow("starttls-tls12.pcap", 25, CLASSIFY_MAIL_SMTP, "SMTP");
	check_single_flow("starttls-tls13.pcap", 25, CLASSIFY_MAIL_SMTP, "SMTP");
	check_single_flow("ipv6-starttls.pcap", 25, CLASSIFY_MAIL_SMTP, "SMTP");
	check_single_flow("submission-auth-587.pcap", 587, CLASSIFY_MAIL_SMTP, "SMTP");
}

Test(classify, finds_smtps_in_implicit_tls_on_port_465)
{
	check_single_flow("smtps-465.pcap", 465, CLASSIFY_MAIL_SMTPS, "SMTPS");
}

/* nDPI 4.2 names SMTPS from the port: the same handshake elsewhere is just TLS. */
Test(classify, sees_implicit_tls_on_another_port_as_tls)
{
	struct capture_run run;
	struct port_rewrite rw = {465, 4465};
	classify_capture("smtps-465.pcap", &run, &rw);
	cr_assert_eq(run.n, 1);
	cr_assert_eq(run.flows[0].server_port, 4465);
	check_mail_flow("smtps-465.pcap on 4465", &run.flows[0], CLASSIFY_OTHER, "TLS");
	release(&run);
}

/* nDPI needs the banner, the EHLO and the EHLO reply: the 8th packet after a 3-way handshake. */
Test(classify, decides_smtp_at_the_ehlo_reply)
{
	struct capture_run run;
	classify_capture("nonstd-port-2525-starttls.pcap", &run, NULL);
	cr_assert_eq(classify_flow_decided_at(run.flows[0].cf), 8);
	release(&run);
	classify_capture("smtp-plain.pcap", &run, NULL);
	cr_assert_eq(classify_flow_decided_at(run.flows[0].cf), 8);
	release(&run);
}

/* The first three packets (the handshake) say nothing; without a port guess, that is OTHER. */
Test(classify, decides_other_for_a_flow_ending_before_any_payload)
{
	struct classifier *c = classifier_new();
	struct classify_flow *f = classify_flow_new(c);
	struct pkt p;
	struct seg s = default_seg;
	s.payload_len = 0;
	s.flags = TCP_SYN;
	build_tcp(&p, LT_RAW, 4, &s);
	cr_assert_eq(classify_packet(c, f, p.b, p.len, 1000, true), CLASSIFY_PENDING);
	cr_assert_eq(classify_finish(c, f), CLASSIFY_OTHER);
	cr_assert_str_eq(classify_flow_protocol(f), "Unknown");
	cr_assert_eq(classifier_stats(c)->giveups, 1);
	cr_assert_eq(classifier_stats(c)->flows[CLASSIFY_OTHER], 1);
	/* decisions are final */
	cr_assert_eq(classify_finish(c, f), CLASSIFY_OTHER);
	cr_assert_eq(classifier_stats(c)->giveups, 1);
	classify_flow_free(f);
	classifier_free(c);
}

/* ---- not mail ---- */

Test(classify, with_every_dissector_names_http_and_dns)
{
	struct capture_run run;
	classify_capture_in("non-mail.pcap", &run, NULL, true); /* capture.all_flows */
	cr_assert_eq(run.n, 3);
	static const char *const want[] = {"HTTP", "TLS", "DNS"};
	for (size_t i = 0; i < run.n; i++)
		check_mail_flow("non-mail.pcap", &run.flows[i], CLASSIFY_OTHER, want[i]);
	cr_assert_eq(classifier_stats(run.c)->giveups, 0);
	release(&run);
}

Test(classify, finds_no_mail_in_http_tls_and_dns)
{
	struct capture_run run;
	classify_capture("non-mail.pcap", &run, NULL);
	cr_assert_eq(run.n, 3);
	static const struct {
		uint16_t port;
		const char *protocol;
	} want[] = {{8080, "Unknown"}, {8443, "TLS"}, {53, "Unknown"}}; /* only SMTP, SMTPS, TLS dissected */
	unsigned packets = 0;
	for (size_t i = 0; i < run.n; i++) {
		const struct seen_flow *f = &run.flows[i];
		cr_assert_eq(f->server_port, want[i].port);
		check_mail_flow("non-mail.pcap", f, CLASSIFY_OTHER, want[i].protocol);
		cr_assert(!classify_verdict_is_mail(classify_flow_verdict(f->cf)));
		packets += classify_flow_packets(f->cf);
	}
	const struct classify_stats *st = classifier_stats(run.c);
	cr_assert_eq(st->flows[CLASSIFY_OTHER], 3);
	cr_assert_eq(st->flows[CLASSIFY_MAIL_SMTP] + st->flows[CLASSIFY_MAIL_SMTPS], 0);
	cr_assert_eq(st->packets, packets);
	cr_assert_eq(st->giveups, 2, "HTTP and DNS are not recognised: given up at the flow's end");
	cr_assert_eq(st->skipped, 0);
	release(&run);
}

/* ---- risks ---- */

Test(classify, never_reports_the_suppressed_risks_on_mail_flows)
{
	static const char *const names[] = {
	    "nonstd-port-2525-starttls.pcap",
	    "nonstd-port-10025-plain.pcap",
	    "starttls-tls12.pcap",
	    "starttls-tls13.pcap",
	    "submission-auth-587.pcap",
	    "auth-cleartext.pcap",
	    "smtps-465.pcap",
	    "tls13-hrr.pcap",
	    "client-ignores-starttls.pcap",
	    "ipv6-starttls.pcap",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct capture_run run;
		classify_capture(names[i], &run, NULL);
		for (size_t j = 0; j < run.n; j++) {
			cr_assert(classify_verdict_is_mail(classify_flow_verdict(run.flows[j].cf)), "%s",
			          names[i]);
			check_mail_flow(names[i], &run.flows[j], classify_flow_verdict(run.flows[j].cf),
			                classify_flow_protocol(run.flows[j].cf));
		}
		release(&run);
	}
}

Test(classify, reports_no_risk_on_normal_starttls_flows)
{
	static const char *const names[] = {"starttls-tls12.pcap", "nonstd-port-2525-starttls.pcap",
	                                    "submission-auth-587.pcap"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct capture_run run;
		classify_capture(names[i], &run, NULL);
		const char *risks[CLASSIFY_MAX_RISKS];
		size_t n = classify_flow_risks(run.flows[0].cf, risks, CLASSIFY_MAX_RISKS);
		cr_assert_eq(n, 0, "%s: %zu risks, the first '%s'", names[i], n, n ? risks[0] : "");
		release(&run);
	}
}

Test(classify, keeps_the_risks_that_say_something)
{
	struct capture_run run;
	classify_capture("auth-cleartext.pcap", &run, NULL);
	cr_assert(has_risk(run.flows[0].cf, "Clear-Text Credentials"));
	release(&run);
	classify_capture("self-signed-cert.pcap", &run, NULL);
	cr_assert(has_risk(run.flows[0].cf, "Self-signed Certificate"));
	release(&run);
	classify_capture("tls10-rsa.pcap", &run, NULL);
	cr_assert(has_risk(run.flows[0].cf, "Obsolete TLS Version (1.1 or older)"));
	release(&run);
}

Test(classify, writes_no_more_risk_names_than_asked)
{
	struct capture_run run;
	classify_capture("tls-alert-bad-cert.pcap", &run, NULL);
	const char *risks[CLASSIFY_MAX_RISKS];
	size_t all = classify_flow_risks(run.flows[0].cf, risks, CLASSIFY_MAX_RISKS);
	cr_assert_geq(all, 2);
	cr_assert_eq(classify_flow_risks(run.flows[0].cf, risks, 1), 1);
	cr_assert_eq(classify_flow_risks(run.flows[0].cf, risks, 0), 0);
	release(&run);
}

/* ---- caps and hostile input ---- */

/* Segments of the same flow, sequence numbers advancing, payload from `fill`. */
static void build_data_segment(struct pkt *p, bool to_server, uint32_t *seq, unsigned len, uint64_t *rng)
{
	struct seg s = default_seg;
	s.dport = 4444;
	s.payload_len = len;
	s.seq = *seq;
	if (!to_server) {
		s.sport = 4444;
		s.dport = default_seg.sport;
	}
	build_tcp(p, LT_RAW, 4, &s);
	for (size_t i = p->len - len; i < p->len; i++)
		p->b[i] = (uint8_t)test_rand(rng);
	*seq += len;
}

Test(classify, gives_up_after_the_packet_cap)
{
	struct classifier *c = classifier_new();
	struct classify_flow *f = classify_flow_new(c);
	uint64_t rng = 42;
	uint32_t seq = 1000;
	struct pkt p;
	for (unsigned i = 0; i < CLASSIFY_MAX_PACKETS - 1; i++) {
		build_data_segment(&p, i % 2 == 0, &seq, 200, &rng);
		cr_assert_eq(classify_packet(c, f, p.b, p.len, 1000 * i, i % 2 == 0), CLASSIFY_PENDING,
		             "random bytes recognised as %s", classify_flow_protocol(f));
	}
	build_data_segment(&p, true, &seq, 200, &rng);
	cr_assert_eq(classify_packet(c, f, p.b, p.len, 1000000, true), CLASSIFY_OTHER);
	cr_assert_str_eq(classify_flow_protocol(f), "Unknown");
	cr_assert(classify_flow_done(f));
	cr_assert_eq(classify_flow_packets(f), CLASSIFY_MAX_PACKETS);
	cr_assert_eq(classifier_stats(c)->giveups, 1);
	/* done: later packets are not inspected */
	cr_assert_eq(classify_packet(c, f, p.b, p.len, 1000001, true), CLASSIFY_OTHER);
	cr_assert_eq(classifier_stats(c)->packets, CLASSIFY_MAX_PACKETS);
	classify_flow_free(f);
	classifier_free(c);
}

Test(classify, skips_what_is_not_one_whole_tcp_segment)
{
	struct classifier *c = classifier_new();
	struct classify_flow *f = classify_flow_new(c);
	struct pkt p;
	/* IPv6 with a hop-by-hop header before TCP */
	p.len = 0;
	put_ipv6(&p, P_HOPOPTS, 8 + seg_len(&default_seg));
	put_ipv6_ext(&p, P_HOPOPTS, P_TCP, 8);
	put_tcp(&p, &default_seg);
	classify_packet(c, f, p.b, p.len, 1, true);
	/* an IPv4 fragment, UDP, a length beyond the bytes given, a TCP data offset beyond the segment */
	p.len = 0;
	put_ipv4(&p, P_TCP, 0, IP4_MF, seg_len(&default_seg));
	put_tcp(&p, &default_seg);
	classify_packet(c, f, p.b, p.len, 2, true);
	p.len = 0;
	put_ipv4(&p, P_UDP, 0, IP4_DF, 8);
	put_fill(&p, 0, 8);
	classify_packet(c, f, p.b, p.len, 3, true);
	build_tcp(&p, LT_RAW, 4, &default_seg);
	classify_packet(c, f, p.b, p.len - 1, 4, true);
	struct seg bad = default_seg;
	bad.data_offset = 15;
	bad.payload_len = 0;
	bad.opt_len = 0;
	build_tcp(&p, LT_RAW, 4, &bad);
	classify_packet(c, f, p.b, p.len, 5, true);
	cr_assert_eq(classifier_stats(c)->skipped, 5);
	cr_assert_eq(classifier_stats(c)->packets, 0);
	cr_assert_eq(classify_flow_packets(f), 0);
	classify_flow_free(f);
	classifier_free(c);
}

/* Random bytes, and random bytes behind a valid IPv4/TCP header (so nDPI parses them), of every length. */
Test(classify, survives_random_packets)
{
	struct classifier *c = classifier_new();
	uint64_t rng = 7;
	for (unsigned round = 0; round < 400; round++) {
		struct classify_flow *f = classify_flow_new(c);
		for (unsigned i = 0; i < CLASSIFY_MAX_PACKETS + 2; i++) {
			size_t len = test_rand(&rng) % 1600;
			uint8_t *b = malloc(len ? len : 1);
			for (size_t k = 0; k < len; k++)
				b[k] = (uint8_t)test_rand(&rng);
			if (round % 2 && len >= 40) {
				struct pkt p;
				p.len = 0;
				put_ipv4(&p, P_TCP, 0, IP4_DF, len - 20);
				struct seg s = default_seg;
				s.opt_len = 0;
				s.payload_len = 0;
				put_tcp(&p, &s);
				memcpy(b, p.b, 40);
			}
			classify_packet(c, f, b, len, i, test_rand(&rng) & 1);
			free(b);
		}
		classify_finish(c, f);
		classify_flow_free(f);
	}
	const struct classify_stats *st = classifier_stats(c);
	cr_assert_gt(st->packets, 0);
	cr_assert_gt(st->skipped, 0);
	classifier_free(c);
}

/* The client of the fixture sessions, 203.0.113.10, as the IPv4 source address (bytes 12..15). */
static bool sent_by_client(const uint8_t *ip, size_t len)
{
	static const uint8_t client[4] = {203, 0, 113, 10};
	return len >= 16 && !memcmp(ip + 12, client, 4);
}

/* Feeds a heap copy of the first `cut` bytes of p, its IP length rewritten to the cut when `fix`. */
static void feed_prefix(struct classifier *c, struct classify_flow *f, const struct pkt *p, size_t cut,
                        bool fix)
{
	uint8_t *b = malloc(cut ? cut : 1);
	cr_assert_not_null(b);
	memcpy(b, p->b, cut);
	if (fix && cut >= 4) {
		b[2] = (uint8_t)(cut >> 8);
		b[3] = (uint8_t)cut;
	}
	classify_packet(c, f, b, cut, 1, sent_by_client(p->b, p->len));
	free(b);
}

/*
 * Every prefix of every packet of a real STARTTLS session (IPv4), fed after the whole packets before it
 * (so the extra dissection sees it too) or after the handshake only (so every detector tries it): as
 * cut (mostly skipped: the IP length says more), and with the IP length rewritten to the cut, so that
 * nDPI parses a truncated TCP header or payload.
 */
Test(classify, survives_every_prefix_of_real_packets)
{
	enum { MAX_PACKETS = 64, HANDSHAKE = 3 };
	char path[4096], err[PCAP_ERRBUF_SIZE];
	snprintf(path, sizeof path, "%s", test_source_path("tests/fixtures/starttls-tls12.pcap"));
	pcap_t *p = pcap_open_offline(path, err);
	cr_assert_not_null(p, "%s", err);
	static struct pkt history[MAX_PACKETS];
	size_t n = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	while (n < MAX_PACKETS && pcap_next_ex(p, &h, &data) == 1) {
		cr_assert_leq(h->caplen - ETH_HEADER, sizeof history[n].b);
		history[n].len = h->caplen - ETH_HEADER;
		memcpy(history[n].b, data + ETH_HEADER, history[n].len);
		n++;
	}
	pcap_close(p);
	cr_assert_gt(n, HANDSHAKE);
	struct classifier *c = classifier_new();
	for (size_t i = 0; i < n; i++)
		for (size_t cut = 0; cut <= history[i].len; cut++)
			for (int mode = 0; mode < 4; mode++) {
				struct classify_flow *f = classify_flow_new(c);
				size_t before = mode & 2 ? (i < HANDSHAKE ? i : HANDSHAKE) : i;
				for (size_t k = 0; k < before; k++)
					classify_packet(c, f, history[k].b, history[k].len, 1,
					                sent_by_client(history[k].b, history[k].len));
				feed_prefix(c, f, &history[i], cut, mode & 1);
				classify_finish(c, f);
				classify_flow_free(f);
			}
	cr_assert_gt(classifier_stats(c)->skipped, 0);
	classifier_free(c);
}

/* ---- lifetimes and names ---- */

Test(classify, frees_null_and_undecided_flows)
{
	classifier_free(NULL);
	classify_flow_free(NULL);
	struct classifier *c = classifier_new();
	struct classify_flow *f = classify_flow_new(c);
	cr_assert_eq(classify_flow_verdict(f), CLASSIFY_PENDING);
	cr_assert_str_eq(classify_flow_protocol(f), "");
	cr_assert(!classify_flow_done(f));
	classify_flow_free(f);
	cr_assert_eq(classifier_stats(c)->flows[CLASSIFY_PENDING], 1);
	classifier_free(c);
}

Test(classify, names_every_verdict)
{
	cr_assert_str_eq(classify_verdict_str(CLASSIFY_PENDING), "pending");
	cr_assert_str_eq(classify_verdict_str(CLASSIFY_MAIL_SMTP), "smtp");
	cr_assert_str_eq(classify_verdict_str(CLASSIFY_MAIL_SMTPS), "smtps");
	cr_assert_str_eq(classify_verdict_str(CLASSIFY_OTHER), "other");
	cr_assert(classify_verdict_is_mail(CLASSIFY_MAIL_SMTP));
	cr_assert(classify_verdict_is_mail(CLASSIFY_MAIL_SMTPS));
	cr_assert(!classify_verdict_is_mail(CLASSIFY_OTHER));
	cr_assert(!classify_verdict_is_mail(CLASSIFY_PENDING));
}

/* ---- waiting for the client, and memory ---- */

/* Every flow of every mail capture, classified with and without waiting for the client: the same verdict,
 * name, risks, packet count and decision packet. */
Test(classify, waiting_for_the_client_changes_no_result)
{
	static const char *const captures[] = {
	    "smtp-plain.pcap",
	    "starttls-tls12.pcap",
	    "starttls-tls13.pcap",
	    "ipv6-starttls.pcap",
	    "submission-auth-587.pcap",
	    "smtps-465.pcap",
	    "auth-cleartext.pcap",
	    "nonstd-port-2525-starttls.pcap",
	    "starttls-cut-after-220.pcap",
	    "self-signed-cert.pcap",
	    "expired-cert.pcap",
	    "cleartext-on-465.pcap",
	    "ehlo-refused-helo.client-side.pcap",
	    "non-mail.pcap",
	    "tls-alert-bad-cert.pcap",
	};
	for (size_t i = 0; i < sizeof captures / sizeof captures[0]; i++)
		for (int all = 0; all < 2; all++) {
			struct capture_run plain, waiting;
			classify_capture_waiting(captures[i], &plain, NULL, all, false);
			classify_capture_waiting(captures[i], &waiting, NULL, all, true);
			cr_assert_eq(plain.n, waiting.n);
			for (size_t k = 0; k < plain.n; k++) {
				struct classify_flow *a = plain.flows[k].cf, *b = waiting.flows[k].cf;
				cr_assert_eq(classify_flow_verdict(a), classify_flow_verdict(b), "%s",
				             captures[i]);
				char name[CLASSIFY_PROTOCOL_MAX];
				snprintf(name, sizeof name, "%s", classify_flow_protocol(a));
				cr_assert_str_eq(name, classify_flow_protocol(b), "%s flow %zu", captures[i],
				                 k);
				struct classify_result ra = classify_flow_result(a),
				                       rb = classify_flow_result(b);
				cr_assert_eq(ra.risks, rb.risks, "%s flow %zu", captures[i], k);
				cr_assert_eq(classify_flow_packets(a), classify_flow_packets(b), "%s",
				             captures[i]);
				cr_assert_eq(classify_flow_decided_at(a), classify_flow_decided_at(b), "%s",
				             captures[i]);
				cr_assert_eq(classify_flow_memory(b), classify_flow_memory(a),
				             "done: both hold only the small state");
			}
			const struct classify_stats *sa = classifier_stats(plain.c),
			                            *sb = classifier_stats(waiting.c);
			cr_assert_eq(sa->packets, sb->packets, "%s: the same packets reached nDPI",
			             captures[i]);
			cr_assert_eq(memcmp(sa->flows, sb->flows, sizeof sa->flows), 0);
			cr_assert_eq(sa->giveups, sb->giveups);
			release(&plain);
			release(&waiting);
		}
}

/*
 * smtp-plain.pcap: SYN, SYN-ACK, ACK, the banner, the client's ACK, then its
 * EHLO. Up to the EHLO a waiting flow holds the packets (a few hundred bytes),
 * no nDPI state; the EHLO starts nDPI with all of them; once done, only the
 * small state is left.
 */
Test(classify, a_flow_waiting_for_its_client_holds_packets_not_ndpi_state)
{
	struct capture_run run;
	feed_limit = 5;
	classify_capture_waiting("smtp-plain.pcap", &run, NULL, false, true);
	feed_limit = 0;
	size_t idle = classify_flow_memory(run.flows[0].cf);
	/* The handshake too here (the sensor starts a flow's classification at its first payload). */
	cr_assert_leq(idle, 64 + 384, "idle after the banner: %zu bytes", idle);
	cr_assert_eq(classify_flow_packets(run.flows[0].cf), 0, "nothing reached nDPI yet");
	cr_assert_eq(classifier_stats(run.c)->packets, 0);
	cr_assert_eq(classify_finish(run.c, run.flows[0].cf), CLASSIFY_OTHER,
	             "the banner alone says nothing");
	cr_assert_eq(classify_flow_packets(run.flows[0].cf), 5, "the finish handed the held packets over");
	release(&run);

	classify_capture_waiting("smtp-plain.pcap", &run, NULL, false, true);
	cr_assert_eq(classify_flow_verdict(run.flows[0].cf), CLASSIFY_MAIL_SMTP);
	cr_assert_gt(run.peak_memory, 688, "nDPI's state while it worked: %zu bytes", run.peak_memory);
	cr_assert_lt(classify_flow_memory(run.flows[0].cf), 64, "done: nDPI's state given back");
	release(&run);
}

/* A flow of nothing but server packets is held only up to CLASSIFY_WAIT_MAX: then nDPI starts. */
Test(classify, a_wait_is_bounded)
{
	struct classifier *c = classifier_new();
	struct classify_flow *f = classify_flow_new(c);
	classify_flow_wait_for_client(f);
	struct pkt p;
	struct seg s = default_seg;
	s.payload_len = 100;
	size_t most = 0;
	for (int i = 0; i < 10; i++) {
		build_tcp(&p, LT_RAW, 4, &s);
		classify_packet(c, f, p.b, p.len, 1000 + (uint64_t)i, false);
		if (classify_flow_memory(f) > most && classify_flow_packets(f) == 0)
			most = classify_flow_memory(f);
	}
	cr_assert_leq(most, 64 + CLASSIFY_WAIT_MAX, "held at most the cap: %zu", most);
	cr_assert_gt(classify_flow_packets(f), 0, "past the cap nDPI has the packets");
	classify_finish(c, f);
	classify_flow_free(f);
	classifier_free(c);
}
