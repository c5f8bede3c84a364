/*
 * test_worker.c: one worker's packet path on recorded captures: a session that
 * is decided and closed gives its parsers' memory back to the memcap at once,
 * keeps what its event needs, and late packets (retransmitted data and FINs,
 * trailing ACKs, data of a bypassed handshake) neither crash nor make parsers
 * again nor change the session. A real session the flow table evicts before
 * its end is reported incomplete, never with an alert its whole capture would
 * not raise.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_engine.h"
#include "sensor/config/config.h"
#include "sensor/config/settings.h"
#include "sensor/worker.h"
#include "capture_packets.h"
#include "test_support.h"

/* What a session's event is made of, as the parsers left it (certificates compared by their bytes). */
struct seen {
	struct smtp_observation smtp;
	bool has_smtp, has_tls;
	enum tls_outcome outcome;
	uint16_t version, cipher;
	unsigned cert_count;
	size_t cert_bytes;
	uint64_t cert_sum;
	bool clear_text_gap, parser_memcap_stopped;
};

struct sessions {
	struct seen s[64];
	size_t n;
};

static void on_session(void *ctx, struct session *sess, bool mail, const char *ingress)
{
	(void)mail;
	(void)ingress;
	struct sessions *ss = ctx;
	cr_assert_lt(ss->n, sizeof ss->s / sizeof ss->s[0]);
	struct seen *v = &ss->s[ss->n++];
	memset(v, 0, sizeof *v);
	if ((v->has_smtp = sess->smtp != NULL))
		v->smtp = *sess->smtp;
	if ((v->has_tls = sess->tls != NULL)) {
		v->outcome = sess->tls->outcome;
		v->version = sess->tls->version;
		v->cipher = sess->tls->cipher;
		v->cert_count = sess->tls->cert_count;
		for (unsigned i = 0; i < sess->tls->cert_count; i++) {
			v->cert_bytes += sess->tls->cert_len[i];
			for (size_t b = 0; b < sess->tls->cert_len[i]; b++)
				v->cert_sum = v->cert_sum * 31 + sess->tls->cert_der[i][b];
		}
	}
	v->clear_text_gap = sess->clear_text_gap;
	v->parser_memcap_stopped = sess->parser_memcap_stopped;
}

struct run {
	struct sensor_settings settings;
	struct mail_ports ports;
	struct worker *w;
	struct sessions sessions;
};

static void run_start(struct run *r)
{
	memset(r, 0, sizeof *r);
	/* Flows stay until the end of the capture, so that late packets meet them (not new flows). */
	r->w = test_worker_new(&r->settings, &r->ports, on_session, &r->sessions);
}

static void run_end(struct run *r)
{
	worker_finish(r->w, FLOW_CLOSE_END_OF_CAPTURE);
	worker_free(r->w);
	settings_free(&r->settings);
}

static uint64_t used(struct run *r)
{
	return worker_memcap(r->w)->used;
}

static uint64_t released(struct run *r)
{
	return worker_record_stats(r->w)->parsers_released;
}

/*
 * Feeds the capture; every packet that releases a session must lower the memcap
 * charge. Returns how many bytes the largest single release gave back.
 */
static uint64_t feed_watching(struct run *r, const struct packets *ps)
{
	uint64_t largest = 0;
	for (size_t i = 0; i < ps->n; i++) {
		uint64_t before = used(r), rel = released(r);
		worker_packet(r->w, &ps->p[i]);
		if (released(r) == rel)
			continue;
		cr_assert_lt(used(r), before, "packet %zu released a session but the charge did not fall", i);
		if (before - used(r) > largest)
			largest = before - used(r);
	}
	return largest;
}

/* Every packet again but SYNs (a new SYN opens the next connection), a millisecond after the last. */
static void feed_late(struct run *r, const struct packets *ps)
{
	uint64_t t = ps->p[ps->n - 1].ts_us;
	for (size_t i = 0; i < ps->n; i++) {
		struct capture_packet cp = ps->p[i];
		cp.ts_us = t + 1000 + i;
		struct decoded_packet d;
		if (packet_decode(cp.linktype, cp.data, cp.caplen, &r->settings.decode, &d) == DECODE_OK &&
		    (d.tcp_flags & TCP_SYN))
			continue;
		worker_packet(r->w, &cp);
	}
}

static void assert_same_sessions(const struct sessions *a, const struct sessions *b)
{
	cr_assert_eq(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		cr_assert_eq(memcmp(&a->s[i], &b->s[i], sizeof a->s[i]), 0, "session %zu differs", i);
}

Test(worker, a_decided_closed_session_gives_its_parsers_memory_back)
{
	struct packets *ps = malloc(sizeof *ps);
	cr_assert_not_null(ps);
	read_capture("tests/fixtures/demo.pcap", ps);
	struct run *rp = malloc(sizeof *rp); /* its sessions are too large for the stack */
	cr_assert_not_null(rp);
	run_start(rp);
	uint64_t largest = feed_watching(rp, ps);
	cr_assert_geq(released(rp), 3, "the STARTTLS and implicit-TLS sessions of demo.pcap");
	/* The parsers of a decided TLS session (the TLS parser's record assembly and observation) are several
	 * KiB; their packed observations a few hundred bytes. (The SMTP parser itself is small since
	 * issue 16.) */
	cr_assert_gt(largest, 4096, "largest release: %llu bytes", (unsigned long long)largest);
	run_end(rp);
	cr_assert_eq(rp->sessions.n, 4);
	for (size_t i = 0; i < rp->sessions.n; i++)
		cr_assert(rp->sessions.s[i].has_smtp || rp->sessions.s[i].has_tls,
		          "session %zu kept its observations", i);
	free(rp);
	free_packets(ps);
	free(ps);
}

Test(worker, late_packets_after_the_release_are_harmless)
{
	static const char *const fixtures[] = {"tests/fixtures/demo.pcap", "tests/fixtures/smtps-465.pcap",
	                                       "tests/fixtures/starttls-tls12.pcap",
	                                       "tests/fixtures/starttls-refused-454.pcap"};
	struct packets *ps = malloc(sizeof *ps);
	cr_assert_not_null(ps);
	for (size_t f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
		read_capture(fixtures[f], ps);
		struct run *plain = malloc(sizeof *plain), *late = malloc(sizeof *late);
		cr_assert(plain && late);
		run_start(plain);
		for (size_t i = 0; i < ps->n; i++)
			worker_packet(plain->w, &ps->p[i]);
		run_end(plain);
		run_start(late);
		for (size_t i = 0; i < ps->n; i++)
			worker_packet(late->w, &ps->p[i]);
		uint64_t charge = used(late), rel = released(late);
		cr_assert_gt(rel, 0, "%s: a session was released", fixtures[f]);
		feed_late(late, ps);
		cr_assert_leq(used(late), charge, "%s: late packets made no parser again", fixtures[f]);
		cr_assert_eq(released(late), rel);
		run_end(late);
		assert_same_sessions(&plain->sessions, &late->sessions);
		free(plain);
		free(late);
		free_packets(ps);
	}
	free(ps);
}

/* ---- eviction: a real session evicted midway is incomplete, never a false alert ---- */

struct judged {
	struct rules_engine *rules;
	size_t n;
	enum session_close_reason close[8];
	enum starttls_result result[8];
	bool alert[8][RULE_COUNT];
};

/* What the process does with a session (the rules), reduced to what the test compares. */
static void judge(void *ctx, struct session *sess, bool mail, const char *ingress)
{
	(void)mail;
	(void)ingress;
	struct judged *j = ctx;
	cr_assert_lt(j->n, 8);
	rules_engine_evaluate(j->rules, sess);
	j->close[j->n] = sess->close_reason;
	j->result[j->n] = sess->starttls_result;
	for (unsigned i = 0; i < sess->alerts.count; i++)
		j->alert[j->n][sess->alerts.items[i].rule->code] = true;
	j->n++;
}

/* The first `upto` packets of ps through a fresh worker, then every flow ended as `reason`. */
static void judge_prefix(const struct packets *ps, size_t upto, enum flow_close_reason reason,
                         struct judged *j)
{
	struct run *r = malloc(sizeof *r);
	cr_assert_not_null(r);
	run_start(r); /* for its settings and ports; its worker is replaced */
	worker_free(r->w);
	memset(j, 0, sizeof *j);
	j->rules = rules_engine_new(&r->settings.rules);
	cr_assert_not_null(j->rules);
	char err[256];
	r->w = worker_new(&r->settings, &r->ports, NULL, 1, judge, j, err, sizeof err);
	cr_assert_not_null(r->w, "%s", err);
	for (size_t i = 0; i < upto; i++)
		worker_packet(r->w, &ps->p[i]);
	worker_finish(r->w, reason);
	worker_free(r->w);
	settings_free(&r->settings);
	rules_engine_free(j->rules);
	free(r);
}

Test(worker, a_masked_starttls_session_evicted_at_any_packet_is_incomplete_or_judged_on_what_it_showed)
{
	struct packets *ps = malloc(sizeof *ps);
	cr_assert_not_null(ps);
	read_capture("tests/fixtures/mitm-mask.client-side.pcap", ps);
	struct judged whole, cut;
	judge_prefix(ps, ps->n, FLOW_CLOSE_END_OF_CAPTURE, &whole);
	cr_assert_eq(whole.n, 1);
	bool any_alert = false;
	for (int a = 0; a < RULE_COUNT; a++)
		any_alert |= whole.alert[0][a];
	cr_assert(any_alert, "the whole capture raises the downgrade alert");
	size_t incomplete = 0;
	for (size_t upto = 1; upto < ps->n; upto++) {
		judge_prefix(ps, upto, FLOW_CLOSE_EVICTED, &cut);
		if (cut.n == 0)
			continue; /* not answered yet: no session to tell */
		cr_assert_eq(cut.n, 1);
		if (cut.close[0] != SESSION_CLOSE_EVICTED)
			continue; /* FIN or RST seen first: the peers ended it */
		incomplete += cut.result[0] == STARTTLS_INCOMPLETE;
		for (int a = 0; a < RULE_COUNT; a++)
			cr_assert(!cut.alert[0][a] || whole.alert[0][a],
			          "evicted after packet %zu: an alert (%d) the whole session does not raise",
			          upto, a);
	}
	cr_assert_gt(incomplete, 0, "no cut left the session incomplete");
	free_packets(ps);
	free(ps);
}
