/*
 * test_mail_session.c: the protocol decided by content, and the STARTTLS hand-off.
 *
 * The TLS bytes are a real implicit-TLS handshake (tests/fixtures/tls/
 * fixture-smtps-465-0.tls, extracted from smtps-465.pcap by extract_tls.py: chunks
 * of a direction byte and up to 127 bytes); the SMTP lines are as Postfix and
 * swaks send them. Each case is fed whole, byte by byte and at random cuts, and
 * must come to the same observation.
 */
#include "sensor/app/mail_session.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct smtp_options options = {0};

static const char greeting[] = "220 mx1.example.net ESMTP Postfix\r\n";
static const char ehlo[] = "EHLO client.example.org\r\n";
static const char ehlo_reply[] = "250-mx1.example.net\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 CHUNKING\r\n";
static const char starttls[] = "STARTTLS\r\n";
static const char ready[] = "220 2.0.0 Ready to start TLS\r\n";

/* One step of a conversation: a direction and its bytes. */
struct step {
	enum flow_dir dir;
	const uint8_t *p;
	size_t n;
};

struct script {
	struct step steps[64];
	size_t count;
	uint8_t *owned; /* the TLS file, freed with the script */
};

static void add(struct script *s, enum flow_dir dir, const void *p, size_t n)
{
	cr_assert_lt(s->count, sizeof s->steps / sizeof s->steps[0]);
	s->steps[s->count++] = (struct step){dir, p, n};
}

static void add_text(struct script *s, enum flow_dir dir, const char *text)
{
	add(s, dir, text, strlen(text));
}

/* The handshake of smtps-465 (client hello, server flight, client finish), direction by direction. */
static void add_tls(struct script *s)
{
	size_t len = 0;
	s->owned = test_read_file(test_source_path("tests/fixtures/tls/fixture-smtps-465-0.tls"), &len);
	cr_assert_not_null(s->owned);
	for (size_t off = 0; off < len;) {
		size_t n = s->owned[off] & 0x7f;
		enum flow_dir dir = s->owned[off] & 0x80 ? FLOW_TO_CLIENT : FLOW_TO_SERVER;
		off++;
		cr_assert(n > 0 && n <= len - off);
		add(s, dir, s->owned + off, n);
		off += n;
	}
}

enum feed { WHOLE, BYTES, RANDOM };

/* Feeds the script in pieces; returns the session (the caller ends it and frees it). */
static struct mail_session *play(const struct script *s, bool tls_port, enum feed how, uint64_t seed)
{
	struct mail_session *m = mail_session_new(tls_port, &options);
	cr_assert_not_null(m);
	for (size_t i = 0; i < s->count; i++) {
		const struct step *st = &s->steps[i];
		for (size_t off = 0; off < st->n;) {
			size_t n = st->n - off;
			if (how == BYTES)
				n = 1;
			else if (how == RANDOM)
				n = 1 + test_rand(&seed) % n;
			/* a heap copy of exactly this piece: ASan flags any read past it */
			uint8_t *piece = malloc(n);
			cr_assert_not_null(piece);
			memcpy(piece, st->p + off, n);
			mail_session_data(m, st->dir, piece, n);
			free(piece);
			off += n;
		}
	}
	return m;
}

static struct session *filled(struct mail_session *m)
{
	struct session *s = calloc(1, sizeof *s);
	cr_assert_not_null(s);
	mail_session_fill(m, s);
	return s;
}

/* What the cases compare across feeds. */
struct summary {
	bool implicit_tls, cleartext, smtp, tls, hello, server_hello, starttls_offered;
	char banner[SMTP_TEXT_MAX];
	uint8_t first[16];
	size_t first_len;
};

static struct summary summarise(const struct session *s)
{
	struct summary r;
	memset(&r, 0, sizeof r); /* padding too: summaries are compared with memcmp */
	r.implicit_tls = s->implicit_tls;
	r.cleartext = s->cleartext_on_tls_port;
	r.smtp = s->smtp != NULL;
	r.tls = s->tls != NULL;
	if (s->tls) {
		r.hello = s->tls->client_hello_seen;
		r.server_hello = s->tls->server_hello_seen;
	}
	if (s->smtp) {
		r.starttls_offered = s->smtp->caps.starttls;
		snprintf(r.banner, sizeof r.banner, "%s", s->smtp->banner);
	}
	r.first_len = s->client_first_len < sizeof r.first ? s->client_first_len : sizeof r.first;
	memcpy(r.first, s->client_first_bytes, r.first_len);
	return r;
}

/* Plays the script whole, byte by byte and at 20 random cuttings; all must agree. */
static struct summary play_all_ways(const struct script *sc, bool tls_port)
{
	struct mail_session *m = play(sc, tls_port, WHOLE, 0);
	mail_session_end(m, false);
	struct session *s = filled(m);
	struct summary want = summarise(s);
	free(s);
	mail_session_free(m);
	for (int round = 0; round < 21; round++) {
		m = play(sc, tls_port, round == 0 ? BYTES : RANDOM,
		         0x9e3779b97f4a7c15ull * (uint64_t)(round + 1));
		mail_session_end(m, false);
		s = filled(m);
		struct summary got = summarise(s);
		cr_assert_eq(memcmp(&got, &want, sizeof got), 0, "round %d differs from the whole feed",
		             round);
		free(s);
		mail_session_free(m);
	}
	return want;
}

static void script_free(struct script *s)
{
	free(s->owned);
}

Test(mail_session, a_greeting_first_is_smtp_on_an_smtp_port)
{
	struct script sc = {0};
	add_text(&sc, FLOW_TO_CLIENT, greeting);
	add_text(&sc, FLOW_TO_SERVER, ehlo);
	add_text(&sc, FLOW_TO_CLIENT, ehlo_reply);
	struct summary r = play_all_ways(&sc, false);
	cr_assert(r.smtp);
	cr_assert_not(r.tls);
	cr_assert_not(r.implicit_tls);
	cr_assert_not(r.cleartext);
	cr_assert_str_eq(r.banner, "220 mx1.example.net ESMTP Postfix");
	cr_assert(r.starttls_offered);
}

Test(mail_session, a_client_hello_first_is_implicit_tls_on_an_smtp_port)
{
	struct script sc = {0};
	add_tls(&sc);
	struct summary r = play_all_ways(&sc, false);
	cr_assert(r.implicit_tls);
	cr_assert(r.tls);
	cr_assert_not(r.smtp);
	cr_assert(r.hello);
	cr_assert(r.server_hello);
	cr_assert_not(r.cleartext);
	script_free(&sc);
}

Test(mail_session, a_client_hello_on_a_tls_port_is_implicit_tls_as_before)
{
	struct script sc = {0};
	add_tls(&sc);
	struct summary r = play_all_ways(&sc, true);
	cr_assert(r.implicit_tls);
	cr_assert(r.server_hello);
	cr_assert_not(r.cleartext);
	script_free(&sc);
}

Test(mail_session, a_greeting_in_clear_on_a_tls_port_is_flagged_and_parsed_as_smtp)
{
	struct script sc = {0};
	add_text(&sc, FLOW_TO_CLIENT, greeting);
	add_text(&sc, FLOW_TO_SERVER, ehlo);
	add_text(&sc, FLOW_TO_CLIENT, ehlo_reply);
	struct summary r = play_all_ways(&sc, true);
	cr_assert(r.cleartext);
	cr_assert_not(r.implicit_tls);
	cr_assert(r.smtp);
	cr_assert_not(r.tls);
	cr_assert_str_eq(r.banner, "220 mx1.example.net ESMTP Postfix");
	cr_assert(r.starttls_offered, "the conversation after the greeting is parsed as SMTP");
	cr_assert_eq(memcmp(r.first, "EHLO client.exam", 16), 0);
}

Test(mail_session,
     a_client_hello_before_a_clear_greeting_on_a_tls_port_is_cleartext_with_the_hello_as_evidence)
{
	/* openssl s_client does not wait for a greeting: its hello can reach the server first. */
	struct script sc = {0};
	add_tls(&sc);
	size_t hello_len = sc.steps[0].n;
	sc.count = 1; /* the client's first chunk only */
	add_text(&sc, FLOW_TO_CLIENT, greeting);
	add_text(&sc, FLOW_TO_CLIENT, "500 5.5.2 Error: bad syntax\r\n");
	struct summary r = play_all_ways(&sc, true);
	cr_assert(r.cleartext);
	cr_assert_not(r.implicit_tls);
	cr_assert_not(r.tls, "no handshake took place");
	cr_assert_str_eq(r.banner, "220 mx1.example.net ESMTP Postfix");
	cr_assert_geq(r.first_len, 6);
	cr_assert_eq(r.first[0], 0x16);
	cr_assert_eq(r.first[5], 0x01, "a ClientHello");
	cr_assert_gt(hello_len, 0);
	script_free(&sc);
}

Test(mail_session, a_client_hello_then_a_clear_greeting_on_an_smtp_port_is_smtp_without_the_flag)
{
	struct script sc = {0};
	add_tls(&sc);
	sc.count = 1;
	add_text(&sc, FLOW_TO_CLIENT, greeting);
	struct summary r = play_all_ways(&sc, false);
	cr_assert_not(r.cleartext, "only an implicit-TLS port promises TLS");
	cr_assert_not(r.implicit_tls);
	cr_assert(r.smtp);
	script_free(&sc);
}

Test(mail_session, server_bytes_first_that_are_no_greeting_keep_tls_on_a_tls_port)
{
	static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
	struct script sc = {0};
	add(&sc, FLOW_TO_CLIENT, alert, sizeof alert);
	struct summary r = play_all_ways(&sc, true);
	cr_assert(r.implicit_tls);
	cr_assert(r.tls);
	cr_assert_not(r.cleartext);
}

Test(mail_session, client_text_first_on_a_tls_port_still_waits_for_the_servers_first_bytes)
{
	/* Not TLS from the client: the TLS parser decides at once, but the greeting must still be seen. */
	struct mail_session *m = mail_session_new(true, &options);
	cr_assert_not_null(m);
	enum stream_verdict v = mail_session_data(m, FLOW_TO_SERVER, (const uint8_t *)ehlo, strlen(ehlo));
	cr_assert_eq(v, STREAM_CONTINUE);
	mail_session_data(m, FLOW_TO_CLIENT, (const uint8_t *)greeting, strlen(greeting));
	mail_session_end(m, false);
	struct session *s = filled(m);
	cr_assert(s->cleartext_on_tls_port);
	cr_assert_not_null(s->smtp);
	free(s);
	mail_session_free(m);
}

Test(mail_session, no_byte_at_all_takes_the_ports_protocol)
{
	struct mail_session *m = mail_session_new(true, &options);
	cr_assert_not_null(m);
	mail_session_end(m, false);
	struct session *s = filled(m);
	cr_assert(s->implicit_tls);
	cr_assert_not_null(s->tls);
	cr_assert_eq(s->tls->outcome, TLS_OUTCOME_CLOSED);
	free(s);
	mail_session_free(m);
	m = mail_session_new(false, &options);
	cr_assert_not_null(m);
	mail_session_stop(m);
	s = filled(m);
	cr_assert_not(s->implicit_tls);
	cr_assert_not_null(s->smtp);
	cr_assert_null(s->tls);
	free(s);
	mail_session_free(m);
}

Test(mail_session, a_gap_before_the_bytes_decide_takes_the_ports_protocol)
{
	struct mail_session *m = mail_session_new(false, &options);
	cr_assert_not_null(m);
	mail_session_data(m, FLOW_TO_CLIENT, (const uint8_t *)"22", 2);
	mail_session_gap(m, FLOW_TO_CLIENT, 100);
	struct session *s = filled(m);
	cr_assert_not_null(s->smtp);
	cr_assert(s->clear_text_gap);
	free(s);
	mail_session_free(m);
}

/* Up to the server's 220 to STARTTLS, and nothing after it. */
static struct mail_session *up_to_ready(void)
{
	struct script sc = {0};
	add_text(&sc, FLOW_TO_CLIENT, greeting);
	add_text(&sc, FLOW_TO_SERVER, ehlo);
	add_text(&sc, FLOW_TO_CLIENT, ehlo_reply);
	add_text(&sc, FLOW_TO_SERVER, starttls);
	add_text(&sc, FLOW_TO_CLIENT, ready);
	return play(&sc, false, WHOLE, 0);
}

Test(mail_session, the_capture_ending_right_after_the_220_leaves_the_handshake_undecided)
{
	struct mail_session *m = up_to_ready();
	mail_session_stop(m);
	struct session *s = filled(m);
	cr_assert_not_null(s->smtp);
	cr_assert(s->smtp->starttls_attempted);
	cr_assert_eq(s->smtp->starttls_reply_code, 220);
	cr_assert_not_null(s->tls);
	cr_assert_eq(s->tls->outcome, TLS_OUTCOME_NONE, "no TLS byte, nothing decided");
	free(s);
	mail_session_free(m);
}

Test(mail_session, a_fin_or_rst_right_after_the_220_closes_the_handshake)
{
	for (int rst = 0; rst < 2; rst++) {
		struct mail_session *m = up_to_ready();
		mail_session_end(m, rst);
		struct session *s = filled(m);
		cr_assert_not_null(s->tls);
		cr_assert_eq(s->tls->outcome, TLS_OUTCOME_CLOSED);
		free(s);
		mail_session_free(m);
	}
}

Test(mail_session, the_capture_ending_inside_the_handshake_leaves_it_in_progress)
{
	struct script sc = {0};
	add_tls(&sc);
	sc.count = 1; /* the client's first chunk */
	struct mail_session *m = play(&sc, true, WHOLE, 0);
	mail_session_stop(m);
	struct session *s = filled(m);
	cr_assert_not_null(s->tls);
	cr_assert_eq(s->tls->outcome, TLS_OUTCOME_IN_PROGRESS);
	free(s);
	mail_session_free(m);
	script_free(&sc);
}

Test(mail_session, every_prefix_of_either_opening_is_handled)
{
	struct script tls = {0};
	add_tls(&tls);
	const uint8_t *hello = tls.steps[0].p;
	size_t hello_len = tls.steps[0].n;
	for (int port = 0; port < 2; port++) {
		for (size_t cut = 0; cut <= hello_len; cut++) {
			struct mail_session *m = mail_session_new(port, &options);
			cr_assert_not_null(m);
			uint8_t *copy = malloc(cut ? cut : 1);
			cr_assert_not_null(copy);
			memcpy(copy, hello, cut);
			mail_session_data(m, FLOW_TO_SERVER, copy, cut);
			free(copy);
			mail_session_stop(m);
			struct session *s = filled(m);
			cr_assert(s->smtp || s->tls);
			free(s);
			mail_session_free(m);
		}
		for (size_t cut = 0; cut <= strlen(greeting); cut++) {
			struct mail_session *m = mail_session_new(port, &options);
			cr_assert_not_null(m);
			uint8_t *copy = malloc(cut ? cut : 1);
			cr_assert_not_null(copy);
			memcpy(copy, greeting, cut);
			mail_session_data(m, FLOW_TO_CLIENT, copy, cut);
			free(copy);
			mail_session_end(m, true);
			struct session *s = filled(m);
			cr_assert(s->smtp || s->tls);
			if (cut >= 4)
				cr_assert_eq(s->cleartext_on_tls_port, port == 1);
			free(s);
			mail_session_free(m);
		}
	}
	script_free(&tls);
}

Test(mail_session, a_gap_in_the_clients_direction_still_lets_the_servers_greeting_decide)
{
	struct script sc = {0};
	add_tls(&sc);
	struct mail_session *m = mail_session_new(true, &options);
	cr_assert_not_null(m);
	mail_session_data(m, FLOW_TO_SERVER, sc.steps[0].p, sc.steps[0].n);
	mail_session_gap(m, FLOW_TO_SERVER, 500);
	mail_session_data(m, FLOW_TO_CLIENT, (const uint8_t *)greeting, strlen(greeting));
	mail_session_end(m, false);
	struct session *s = filled(m);
	cr_assert(s->cleartext_on_tls_port);
	cr_assert_not_null(s->smtp);
	free(s);
	mail_session_free(m);
	script_free(&sc);
}

Test(mail_session,
     a_server_response_injected_before_the_client_hello_is_kept_up_to_its_size_and_the_cut_counted)
{
	struct mail_session *m = up_to_ready();
	char injected[400];
	memset(injected, 'i', sizeof injected);
	mail_session_data(m, FLOW_TO_CLIENT, (const uint8_t *)injected, 200);
	mail_session_data(m, FLOW_TO_CLIENT, (const uint8_t *)injected, 200); /* past the evidence size */
	mail_session_data(m, FLOW_TO_CLIENT, (const uint8_t *)injected, 10);  /* cut again: counted once */
	struct session *s = filled(m);
	cr_assert(s->response_injection);
	cr_assert_eq(strlen(s->injected_response), SMTP_EVIDENCE_MAX - 1);
	cr_assert_eq(s->smtp->anomalies[SMTP_ANOMALY_TEXT_TRUNCATED], 1);
	free(s);
	mail_session_free(m);

	m = up_to_ready(); /* a response that fits: nothing cut */
	mail_session_data(m, FLOW_TO_CLIENT, (const uint8_t *)injected, SMTP_EVIDENCE_MAX - 1);
	s = filled(m);
	cr_assert_eq(strlen(s->injected_response), SMTP_EVIDENCE_MAX - 1);
	cr_assert_eq(s->smtp->anomalies[SMTP_ANOMALY_TEXT_TRUNCATED], 0);
	free(s);
	mail_session_free(m);
}

/* ---- release when decided and closed ---- */

/* A STARTTLS conversation and its whole handshake (decided: both directions in TLS). */
static struct mail_session *starttls_handshake(struct script *sc)
{
	add_text(sc, FLOW_TO_CLIENT, greeting);
	add_text(sc, FLOW_TO_SERVER, ehlo);
	add_text(sc, FLOW_TO_CLIENT, ehlo_reply);
	add_text(sc, FLOW_TO_SERVER, starttls);
	add_text(sc, FLOW_TO_CLIENT, ready);
	add_tls(sc);
	return play(sc, false, WHOLE, 0);
}

/* The observations a session lends, byte for byte (pointers included: they must still point to the same
 * certificate copies and fingerprint lists). */
static void assert_same_observations(const struct session *a, const struct session *b)
{
	cr_assert_eq(a->smtp != NULL, b->smtp != NULL);
	cr_assert_eq(a->tls != NULL, b->tls != NULL);
	if (a->smtp)
		cr_assert_eq(memcmp(a->smtp, b->smtp, sizeof *a->smtp), 0, "SMTP observation differs");
	if (a->tls)
		cr_assert_eq(memcmp(a->tls, b->tls, sizeof *a->tls), 0, "TLS observation differs");
	cr_assert_eq(a->clear_text_gap, b->clear_text_gap);
	cr_assert_eq(a->implicit_tls, b->implicit_tls);
	cr_assert_eq(a->client_first_len, b->client_first_len);
}

Test(mail_session, a_decided_handshake_is_settled_and_its_release_keeps_every_observation)
{
	struct script sc = {0};
	struct mail_session *m = starttls_handshake(&sc);
	cr_assert(mail_session_settled(m), "handshake decided, both directions in TLS");
	struct session *before = filled(m);
	cr_assert_not_null(before->tls);
	cr_assert_eq(before->tls->outcome, TLS_OUTCOME_ESTABLISHED);
	struct session copy = *before; /* the pointers go with the parsers: compare their bytes now */
	struct smtp_observation smtp = *before->smtp;
	struct tls_observation tls = *before->tls;
	copy.smtp = &smtp;
	copy.tls = &tls;
	size_t held = mail_session_memory(m);
	cr_assert(mail_session_release(m, false));
	size_t after = mail_session_memory(m);
	cr_assert_lt(after + sizeof(struct smtp_observation), held,
	             "the parsers are given back: %zu bytes before, %zu after", held, after);
	struct session *got = filled(m);
	assert_same_observations(&copy, got);
	free(before);
	free(got);
	mail_session_free(m);
	script_free(&sc);
}

Test(mail_session, late_bytes_gaps_cuts_and_ends_after_the_release_change_nothing)
{
	struct script sc = {0};
	struct mail_session *m = starttls_handshake(&sc);
	cr_assert(mail_session_release(m, false));
	struct session *want = filled(m);
	struct session copy = *want;
	struct smtp_observation smtp = *want->smtp;
	struct tls_observation tls = *want->tls;
	copy.smtp = &smtp;
	copy.tls = &tls;
	size_t held = mail_session_memory(m);
	for (int d = 0; d < 2; d++) {
		cr_assert_eq(
		    mail_session_data(m, (enum flow_dir)d, (const uint8_t *)greeting, strlen(greeting)),
		    STREAM_CONTINUE);
		mail_session_gap(m, (enum flow_dir)d, 100);
	}
	mail_session_cut(m);
	mail_session_end(m, true);
	mail_session_stop(m);
	cr_assert(mail_session_release(m, true), "a second release is a no-op");
	cr_assert_eq(mail_session_memory(m), held, "no parser made again");
	struct session *got = filled(m);
	assert_same_observations(&copy, got);
	free(want);
	free(got);
	mail_session_free(m);
	script_free(&sc);
}

Test(mail_session, a_plain_session_closed_by_its_peers_is_released_as_it_would_have_ended)
{
	struct script sc = {0};
	add_text(&sc, FLOW_TO_CLIENT, greeting);
	add_text(&sc, FLOW_TO_SERVER, ehlo);
	add_text(&sc, FLOW_TO_CLIENT, ehlo_reply);
	add_text(&sc, FLOW_TO_SERVER, "QUIT\r\n");
	add_text(&sc, FLOW_TO_CLIENT, "221 2.0.0 Bye\r\n");
	struct mail_session *ended = play(&sc, false, WHOLE, 0);
	struct mail_session *m = play(&sc, false, WHOLE, 0);
	cr_assert_not(mail_session_settled(m), "no handshake: only the close can tell");
	mail_session_end(ended, false);
	struct session *want = filled(ended);
	cr_assert(mail_session_release(m, false));
	struct session *got = filled(m);
	cr_assert_null(got->tls);
	assert_same_observations(want, got);
	cr_assert_str_eq(got->smtp->banner, "220 mx1.example.net ESMTP Postfix");
	free(want);
	free(got);
	mail_session_free(ended);
	mail_session_free(m);
	script_free(&sc);
}

/* ---- memory: evidence buffers on demand ---- */

/* What a fresh SMTP parser fed the same bytes reports (the parser is not this file's). */
static size_t parser_memory_after(const char *server_text)
{
	struct smtp_parser *p = smtp_parser_new(&options);
	cr_assert_not_null(p);
	size_t used = 0;
	smtp_parser_feed(p, SMTP_FROM_SERVER, (const uint8_t *)server_text, strlen(server_text), &used);
	size_t n = smtp_parser_memory(p);
	smtp_parser_free(p);
	return n;
}

Test(mail_session, an_idle_banner_session_holds_no_evidence_buffer)
{
	struct mail_session *m = mail_session_new(false, &options);
	cr_assert_not_null(m);
	size_t fresh = mail_session_memory(m);
	cr_assert_leq(fresh, 128, "a session before any byte: %zu bytes", fresh);
	mail_session_data(m, FLOW_TO_CLIENT, (const uint8_t *)greeting, strlen(greeting));
	cr_assert_eq(mail_session_memory(m), fresh + parser_memory_after(greeting),
	             "after the banner: the session and its SMTP parser, nothing else");
	mail_session_data(m, FLOW_TO_SERVER, (const uint8_t *)ehlo, strlen(ehlo));
	struct session *s = filled(m);
	cr_assert_eq(s->client_first_len, 0, "an SMTP port keeps no cleartext_on_tls_port evidence");
	cr_assert_not(s->response_injection);
	cr_assert_str_eq(s->injected_response, "");
	free(s);
	mail_session_free(m);
}

/* On an implicit-TLS port the client's first bytes are kept while they may become evidence: given back
 * when a ClientHello decides TLS, kept when the server greets in clear. */
Test(mail_session, the_client_evidence_is_given_back_once_tls_is_decided)
{
	struct script sc = {0};
	add_tls(&sc);
	/* The same bytes on an SMTP port (a ClientHello first is implicit TLS there too) never keep any. */
	struct mail_session *m = mail_session_new(true, &options), *plain = mail_session_new(false, &options);
	cr_assert(m && plain);
	size_t fresh = mail_session_memory(m);
	mail_session_data(m, FLOW_TO_SERVER, sc.steps[0].p, 3); /* not enough to decide */
	cr_assert_eq(mail_session_memory(m), fresh + SMTP_EVIDENCE_MAX, "undecided: kept");
	mail_session_data(m, FLOW_TO_SERVER, sc.steps[0].p + 3, sc.steps[0].n - 3);
	mail_session_data(m, FLOW_TO_CLIENT, sc.steps[1].p, sc.steps[1].n); /* the server's flight */
	mail_session_data(plain, FLOW_TO_SERVER, sc.steps[0].p, sc.steps[0].n);
	mail_session_data(plain, FLOW_TO_CLIENT, sc.steps[1].p, sc.steps[1].n);
	struct session *s = filled(m);
	cr_assert(s->implicit_tls);
	cr_assert_not(s->cleartext_on_tls_port);
	cr_assert_eq(s->client_first_len, 0, "given back");
	cr_assert_eq(mail_session_memory(m), mail_session_memory(plain),
	             "the session and its TLS parser only");
	free(s);
	mail_session_free(m);
	mail_session_free(plain);
	script_free(&sc);
}

Test(mail_session, an_injected_response_buffer_comes_with_the_injection)
{
	struct mail_session *m = up_to_ready();
	size_t before = mail_session_memory(m);
	mail_session_data(m, FLOW_TO_CLIENT, (const uint8_t *)"x", 1);
	cr_assert_eq(mail_session_memory(m), before + SMTP_EVIDENCE_MAX - 1);
	struct session *s = filled(m);
	cr_assert(s->response_injection);
	cr_assert_str_eq(s->injected_response, "x");
	free(s);
	mail_session_free(m);
}
