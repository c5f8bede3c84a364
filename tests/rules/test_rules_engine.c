/*
 * test_rules_engine.c: STARTTLS results and alerts from hand-built observations.
 *
 * Each scenario starts from a clean upgraded session between a client
 * (203.0.113.7) and a mail server (198.51.100.25:25) and changes only what
 * the scenario is about, as the SMTP and TLS parsers would have reported it.
 * Times are in seconds from the capture start. Every raised alert is checked
 * for a non-empty reason, its rule's severity and at least one evidence line.
 */
#include "rules/rules_engine.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(sec) ((uint64_t)(sec)*1000000ull)

struct scenario {
	struct session s;
	struct smtp_observation m;
	struct tls_observation t;
};

enum { MAX_SCENARIOS = 8 };

/* Per-test state: Criterion runs each test in its own process. */
static struct rules_engine *engine;
static struct scenario *made[MAX_SCENARIOS];
static unsigned made_count;

static void setup(void)
{
	struct rules_settings set = {0}; /* defaults: 15 min window, 30 days TTL */
	engine = rules_engine_new(&set);
	cr_assert_not_null(engine);
}

static void teardown(void)
{
	rules_engine_free(engine);
	for (unsigned i = 0; i < made_count; i++)
		free(made[i]);
	made_count = 0;
}

TestSuite(rules_engine, .init = setup, .fini = teardown);

static struct ip_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct ip_addr ip = {.family = 4, .bytes = {a, b, c, d}};
	return ip;
}

#define CLIENT v4(203, 0, 113, 7)
#define OTHER_CLIENT v4(203, 0, 113, 99)
#define SERVER v4(198, 51, 100, 25)
#define OTHER_SERVER v4(198, 51, 100, 26)

/* The EHLO reply: keywords after a greeting line, as the parser keeps them. */
static void set_ehlo_reply(struct smtp_observation *m, const char *const *kw, unsigned n)
{
	struct smtp_capabilities *c = &m->caps;
	memset(c, 0, sizeof *c);
	c->seen = true;
	size_t off = (size_t)snprintf(c->raw, sizeof c->raw, "250%cmx.example.net Hello client.example",
	                              n ? '-' : ' ');
	for (unsigned i = 0; i < n; i++) {
		snprintf(c->lines[c->count++], SMTP_CAPABILITY_MAX, "%s", kw[i]);
		off += (size_t)snprintf(c->raw + off, sizeof c->raw - off, "\n250%c%s",
		                        i + 1 == n ? ' ' : '-', kw[i]);
		if (strcmp(kw[i], "STARTTLS") == 0)
			c->starttls = true;
		if (strcmp(kw[i], "PIPELINING") == 0)
			c->pipelining = true;
	}
}

#define EHLO_REPLY(m, ...)                                                                                   \
	do {                                                                                                 \
		const char *const kw_[] = {__VA_ARGS__};                                                     \
		set_ehlo_reply((m), kw_, sizeof kw_ / sizeof kw_[0]);                                        \
	} while (0)

/* A clean session: EHLO, STARTTLS offered and used, 220, TLS 1.3 established. */
static struct scenario *clean(const char *id, unsigned start_s)
{
	cr_assert_lt(made_count, MAX_SCENARIOS);
	struct scenario *sc = calloc(1, sizeof *sc);
	made[made_count++] = sc;
	struct session *s = &sc->s;
	snprintf(s->id, sizeof s->id, "%s", id);
	s->client.ip = CLIENT;
	s->client.port = 40000;
	s->server.ip = SERVER;
	s->server.port = 25;
	s->start_us = S(start_s);
	s->end_us = S(start_s + 2);
	s->close_reason = SESSION_CLOSE_FIN;
	s->protocol = SESSION_PROTOCOL_SMTP;
	s->smtp = &sc->m;
	s->tls = &sc->t;

	struct smtp_observation *m = &sc->m;
	m->banner_code = 220;
	snprintf(m->banner, sizeof m->banner, "220 mx.example.net ESMTP");
	snprintf(m->helo_verb, sizeof m->helo_verb, "EHLO");
	snprintf(m->helo, sizeof m->helo, "client.example");
	m->ehlo_reply_code = 250;
	EHLO_REPLY(m, "PIPELINING", "SIZE 10240000", "STARTTLS", "8BITMIME");
	m->starttls_attempted = true;
	snprintf(m->starttls_command, sizeof m->starttls_command, "STARTTLS");
	m->starttls_reply_code = 220;
	snprintf(m->starttls_reply, sizeof m->starttls_reply, "220 2.0.0 Ready to start TLS");
	m->tls_started = true;
	m->last_reply_code = 220;

	struct tls_observation *t = &sc->t;
	t->outcome = TLS_OUTCOME_ESTABLISHED;
	t->client_hello_seen = t->server_hello_seen = true;
	t->client_version = 0x0303;
	t->version = 0x0304;
	t->cipher = 0x1301;
	t->records[0] = 3;
	t->records[1] = 4;
	return sc;
}

/* The same session, but the client never sends STARTTLS and goes on in clear. */
static struct scenario *no_starttls(const char *id, unsigned start_s)
{
	struct scenario *sc = clean(id, start_s);
	struct smtp_observation *m = &sc->m;
	m->starttls_attempted = m->tls_started = false;
	m->starttls_command[0] = m->starttls_reply[0] = '\0';
	m->starttls_reply_code = 0;
	m->last_reply_code = 250;
	sc->s.tls = NULL;
	return sc;
}

static void send_mail_in_clear(struct smtp_observation *m)
{
	m->transactions = 1;
	m->recipients = 1;
	snprintf(m->mail_from_domain, sizeof m->mail_from_domain, "client.example");
	m->data_in_clear = true;
	m->data_bytes_in_clear = 1234;
}

static struct session *run(struct scenario *sc)
{
	rules_engine_evaluate(engine, &sc->s);
	return &sc->s;
}

static const struct alert *find(const struct session *s, enum rule_code code)
{
	for (unsigned i = 0; i < s->alerts.count; i++)
		if (s->alerts.items[i].rule->code == code)
			return &s->alerts.items[i];
	return NULL;
}

/* The rules raised, by name in rule order, comma separated; each alert checked for form on the way. */
static const char *raised(const struct session *s)
{
	static char out[1024];
	out[0] = '\0';
	for (unsigned i = 0; i < s->alerts.count; i++) {
		const struct alert *a = &s->alerts.items[i];
		cr_assert_not_null(a->rule);
		cr_assert_str_not_empty(a->reason, "%s has a reason", a->rule->name);
		cr_assert_eq(a->severity, a->rule->severity);
		cr_assert_gt(a->evidence_count, 0, "%s has evidence", a->rule->name);
	}
	for (int c = 0; c < RULE_COUNT; c++) {
		unsigned n = 0;
		for (unsigned i = 0; i < s->alerts.count; i++)
			n += s->alerts.items[i].rule->code == (enum rule_code)c;
		cr_assert_leq(n, 1, "one alert per rule");
		if (n)
			snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", out[0] ? "," : "",
			         rule_info((enum rule_code)c)->name);
	}
	return out;
}

static bool has_line(const struct alert *a, const char *line)
{
	for (unsigned i = 0; i < a->evidence_count; i++)
		if (strcmp(a->evidence[i], line) == 0)
			return true;
	return false;
}

#define assert_result(s, r)                                                                                  \
	cr_assert_str_eq(starttls_result_str((s)->starttls_result), starttls_result_str(r))
#define assert_raised(s, names) cr_assert_str_eq(raised(s), names)
#define assert_reason_has(a, text) cr_assert_not_null(strstr((a)->reason, text), "reason: %s", (a)->reason)

/* ---- clean sessions ---- */

Test(rules_engine, a_clean_upgraded_session_is_upgraded_and_raises_nothing)
{
	struct session *s = run(clean("S1", 100));
	assert_result(s, STARTTLS_UPGRADED);
	assert_raised(s, "");
}

Test(rules_engine, a_server_without_starttls_is_not_offered_and_raises_nothing)
{
	struct scenario *sc = no_starttls("S1", 100);
	EHLO_REPLY(&sc->m, "PIPELINING", "8BITMIME");
	send_mail_in_clear(&sc->m);
	struct session *s = run(sc);
	assert_result(s, STARTTLS_NOT_OFFERED);
	assert_raised(s, "");
}

Test(rules_engine, implicit_tls_is_its_own_result_and_raises_nothing)
{
	struct scenario *sc = clean("S1", 100);
	sc->s.implicit_tls = true;
	sc->s.protocol = SESSION_PROTOCOL_TLS;
	sc->s.smtp = NULL;
	sc->s.server.port = 465;
	struct session *s = run(sc);
	assert_result(s, STARTTLS_IMPLICIT_TLS);
	assert_raised(s, "");
}

Test(rules_engine, a_handshake_still_in_progress_at_the_end_counts_as_upgraded)
{
	struct scenario *sc = clean("S1", 100);
	sc->t.outcome = TLS_OUTCOME_IN_PROGRESS;
	struct session *s = run(sc);
	assert_result(s, STARTTLS_UPGRADED);
	assert_raised(s, "");
}

/* ---- starttls_capability_garbled: a masked capability ---- */

Test(rules_engine, a_masked_starttls_capability_is_garbled)
{
	struct scenario *sc = no_starttls("S1", 100);
	EHLO_REPLY(&sc->m, "PIPELINING", "SIZE 10240000", "XXXXXXXA", "8BITMIME");
	snprintf(sc->m.caps.masked_keyword, SMTP_CAPABILITY_MAX, "XXXXXXXA");
	send_mail_in_clear(&sc->m);
	struct session *s = run(sc);
	assert_result(s, STARTTLS_GARBLED);
	assert_raised(s, "starttls_capability_garbled");
	const struct alert *a = find(s, RULE_STARTTLS_CAPABILITY_GARBLED);
	cr_assert_eq(a->severity, 8);
	cr_assert(has_line(a, "250-XXXXXXXA"));
	cr_assert(has_line(a, "250-mx.example.net Hello client.example"));
	assert_reason_has(a, "198.51.100.25:25 advertised 'XXXXXXXA' where STARTTLS belongs");
}

static enum starttls_result result_for_keyword(const char *kw)
{
	struct scenario *sc = no_starttls("S1", 100);
	EHLO_REPLY(&sc->m, "PIPELINING", kw);
	snprintf(sc->m.caps.masked_keyword, SMTP_CAPABILITY_MAX, "%s", kw);
	struct rules_engine *e = rules_engine_new(NULL);
	rules_engine_evaluate(e, &sc->s);
	rules_engine_free(e);
	bool h1 = alert_list_has(&sc->s.alerts, RULE_STARTTLS_CAPABILITY_GARBLED);
	enum starttls_result r = sc->s.starttls_result;
	cr_assert_eq(h1, r == STARTTLS_GARBLED, "%s", kw);
	free(made[--made_count]);
	return r;
}

Test(rules_engine, recognises_filler_repeats_and_near_spellings_as_masks)
{
	const char *masks[] = {"XXXXXXXX", "xxxxxxxx", "********", "XXXXXXXA", "xxxxxxxZ",
	                       "ZZZZZZZZ", "STARTTLZ", "STXRTXLX", "s7ar7tl5"};
	for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++)
		cr_assert_eq(result_for_keyword(masks[i]), STARTTLS_GARBLED, "%s is a mask", masks[i]);
}

Test(rules_engine, does_not_take_other_eight_letter_keywords_for_masks)
{
	const char *others[] = {"8BITMIME", "CHUNKING", "SMTPUTF8",  "XXXXXXAA",
	                        "SXXRTXLX", "XXXXXXX",  "XXXXXXXXX", "XXXXXXX1"};
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		cr_assert_eq(result_for_keyword(others[i]), STARTTLS_NOT_OFFERED, "%s is no mask", others[i]);
}

/* ---- starttls_capability_removed: a capability removed ---- */

static struct scenario *stripped(const char *id, unsigned start_s)
{
	struct scenario *sc = no_starttls(id, start_s);
	EHLO_REPLY(&sc->m, "PIPELINING", "SIZE 10240000", "8BITMIME");
	sc->s.client.ip = OTHER_CLIENT;
	return sc;
}

Test(rules_engine, a_server_that_drops_starttls_after_offering_it_raises_removed)
{
	run(clean("S1", 100));
	struct session *s = run(stripped("S2", 400));
	assert_result(s, STARTTLS_NOT_OFFERED);
	assert_raised(s, "starttls_capability_removed");
	const struct alert *a = find(s, RULE_STARTTLS_CAPABILITY_REMOVED);
	cr_assert_eq(a->severity, 7);
	assert_reason_has(a, "198.51.100.25:25 advertised STARTTLS in session S1 4m58s before this one");
	cr_assert(has_line(a, "250-PIPELINING"));
	cr_assert(has_line(a, "250 8BITMIME"));
}

Test(rules_engine, another_server_without_starttls_raises_nothing)
{
	run(clean("S1", 100));
	struct scenario *sc = stripped("S2", 400);
	sc->s.server.ip = OTHER_SERVER;
	assert_raised(run(sc), "");
}

Test(rules_engine, a_starttls_offer_older_than_the_ttl_is_forgotten)
{
	rules_engine_free(engine);
	struct rules_settings set = {.history_ttl_us = S(86400)};
	engine = rules_engine_new(&set);
	run(clean("S1", 100));
	struct session *s = run(stripped("S2", 100 + 2 * 86400));
	assert_raised(s, "");
	cr_assert_eq(rules_engine_stats(engine)->history_expired, 2, "the server and the pair entry expired");
}

Test(rules_engine, a_masked_capability_after_history_is_garbled_not_removed)
{
	run(clean("S1", 100));
	struct scenario *sc = stripped("S2", 400);
	EHLO_REPLY(&sc->m, "PIPELINING", "XXXXXXXA");
	snprintf(sc->m.caps.masked_keyword, SMTP_CAPABILITY_MAX, "XXXXXXXA");
	assert_raised(run(sc), "starttls_capability_garbled");
}

/* ---- starttls_refused and starttls_command_garbled: refused and garbled commands ---- */

Test(rules_engine, starttls_answered_454_is_refused)
{
	struct scenario *sc = clean("S1", 100);
	sc->m.starttls_reply_code = 454;
	snprintf(sc->m.starttls_reply, SMTP_TEXT_MAX, "454 4.7.0 TLS not available due to local problem");
	sc->m.tls_started = false;
	sc->s.tls = NULL;
	struct session *s = run(sc);
	assert_result(s, STARTTLS_REFUSED);
	assert_raised(s, "starttls_refused");
	const struct alert *a = find(s, RULE_STARTTLS_REFUSED);
	cr_assert_eq(a->severity, 6);
	cr_assert(has_line(a, "STARTTLS"));
	cr_assert(has_line(a, "454 4.7.0 TLS not available due to local problem"));
	assert_reason_has(a, "198.51.100.25:25 refused STARTTLS with 454");
}

Test(rules_engine, a_masked_starttls_command_answered_502_is_garbled_and_refused)
{
	/* The server's side of a middlebox that rewrites the verb: the server offered STARTTLS and got
	 * XXXXXXXX. */
	struct scenario *sc = no_starttls("S1", 100);
	sc->m.starttls_command_masked = true;
	snprintf(sc->m.masked_command, SMTP_CAPABILITY_MAX, "XXXXXXXX");
	sc->m.masked_command_reply = 502;
	send_mail_in_clear(&sc->m);
	struct session *s = run(sc);
	assert_result(s, STARTTLS_REFUSED);
	assert_raised(s, "starttls_command_garbled");
	const struct alert *a = find(s, RULE_STARTTLS_COMMAND_GARBLED);
	cr_assert_eq(a->severity, 8);
	cr_assert(has_line(a, "XXXXXXXX"));
	assert_reason_has(a, "masked as 'XXXXXXXX' (answered 502)");
}

Test(rules_engine, starttls_answered_502_is_both_refused_and_garbled)
{
	/* The client's side of the same middlebox: its STARTTLS came back "not recognized". */
	struct scenario *sc = clean("S1", 100);
	sc->m.starttls_reply_code = 502;
	snprintf(sc->m.starttls_reply, SMTP_TEXT_MAX, "502 5.5.2 Error: command not recognized");
	sc->s.tls = NULL;
	struct session *s = run(sc);
	assert_result(s, STARTTLS_REFUSED);
	assert_raised(s, "starttls_command_garbled,starttls_refused");
	cr_assert(
	    has_line(find(s, RULE_STARTTLS_COMMAND_GARBLED), "502 5.5.2 Error: command not recognized"));
}

/* ---- starttls_not_used ---- */

Test(rules_engine, mail_in_clear_past_an_offered_starttls_is_not_used)
{
	struct scenario *sc = no_starttls("S1", 100);
	send_mail_in_clear(&sc->m);
	struct session *s = run(sc);
	assert_result(s, STARTTLS_NOT_ATTEMPTED);
	assert_raised(s, "starttls_not_used");
	const struct alert *a = find(s, RULE_STARTTLS_NOT_USED);
	cr_assert_eq(a->severity, 5);
	cr_assert(has_line(a, "250-STARTTLS"));
	assert_reason_has(a, "1234 bytes");
}

Test(rules_engine, an_unused_starttls_without_mail_raises_nothing)
{
	struct session *s = run(no_starttls("S1", 100));
	assert_result(s, STARTTLS_NOT_ATTEMPTED);
	assert_raised(s, "");
}

/* ---- no_tls_after_starttls, starttls_command_injection, starttls_response_injection: after the 220 ---- */

Test(rules_engine, clear_text_after_220_is_no_tls_after_starttls)
{
	struct scenario *sc = clean("S1", 100);
	static const char bytes[] = "MAIL FROM:<a@example.org>\r\n";
	memset(&sc->t, 0, sizeof sc->t);
	sc->t.outcome = TLS_OUTCOME_NOT_TLS;
	memcpy(sc->t.not_tls_bytes, bytes, sizeof bytes - 1);
	sc->t.not_tls_len = sizeof bytes - 1;
	sc->t.not_tls_from = TLS_FROM_CLIENT;
	struct session *s = run(sc);
	assert_result(s, STARTTLS_NO_TLS_AFTER_220);
	assert_raised(s, "no_tls_after_starttls");
	const struct alert *a = find(s, RULE_NO_TLS_AFTER_STARTTLS);
	cr_assert_eq(a->severity, 8);
	cr_assert(has_line(a, "MAIL FROM:<a@example.org>\\r\\n"));
	cr_assert(has_line(a, "220 2.0.0 Ready to start TLS"));
	assert_reason_has(a, "the client then sent bytes that are not TLS");
}

Test(rules_engine, renders_binary_not_tls_bytes_printable)
{
	struct scenario *sc = clean("S1", 100);
	static const uint8_t bytes[] = {'E', 'H', 'L', 'O', 0x00, 0xff, '\\', '\n'};
	memset(&sc->t, 0, sizeof sc->t);
	sc->t.outcome = TLS_OUTCOME_NOT_TLS;
	memcpy(sc->t.not_tls_bytes, bytes, sizeof bytes);
	sc->t.not_tls_len = sizeof bytes;
	sc->t.not_tls_from = TLS_FROM_SERVER;
	struct session *s = run(sc);
	cr_assert(has_line(find(s, RULE_NO_TLS_AFTER_STARTTLS), "EHLO\\x00\\xff\\x5c\\n"));
}

Test(rules_engine, commands_injected_after_starttls_raise_command_injection)
{
	struct scenario *sc = clean("S1", 100);
	sc->m.command_injection = true;
	snprintf(sc->m.injected_command, SMTP_EVIDENCE_MAX,
	         "MAIL FROM:<attacker@evil.example>\r\nRCPT TO:<victim@example.net>\r\n");
	struct session *s = run(sc);
	assert_result(s, STARTTLS_UPGRADED);
	assert_raised(s, "starttls_command_injection");
	const struct alert *a = find(s, RULE_STARTTLS_COMMAND_INJECTION);
	cr_assert_eq(a->severity, 8);
	cr_assert(has_line(a, "MAIL FROM:<attacker@evil.example>"));
	cr_assert(has_line(a, "RCPT TO:<victim@example.net>"));
}

Test(rules_engine, server_bytes_after_the_220_raise_response_injection)
{
	struct scenario *sc = clean("S1", 100);
	sc->s.response_injection = true;
	snprintf(sc->s.injected_response, SMTP_EVIDENCE_MAX, "250-mx.evil.example\r\n250 AUTH PLAIN\r\n");
	struct session *s = run(sc);
	assert_result(s, STARTTLS_UPGRADED);
	assert_raised(s, "starttls_response_injection");
	const struct alert *a = find(s, RULE_STARTTLS_RESPONSE_INJECTION);
	cr_assert_eq(a->severity, 8);
	cr_assert(has_line(a, "250 AUTH PLAIN"));
}

/* ---- tls_handshake_failed ---- */

static struct scenario *failed_by_alert(const char *id, unsigned start_s)
{
	struct scenario *sc = clean(id, start_s);
	sc->t.outcome = TLS_OUTCOME_ALERT;
	sc->t.server_hello_seen = false;
	sc->t.version = 0;
	sc->t.alert_seen = true;
	sc->t.alert_level = 2;
	sc->t.alert_description = 40;
	sc->t.alert_from = TLS_FROM_SERVER;
	return sc;
}

static struct scenario *failed_by_reset(const char *id, unsigned start_s)
{
	struct scenario *sc = clean(id, start_s);
	sc->t.outcome = TLS_OUTCOME_CLOSED;
	sc->t.server_hello_seen = false;
	sc->t.records[0] = 1;
	sc->t.records[1] = 0;
	sc->s.close_reason = SESSION_CLOSE_RST;
	return sc;
}

Test(rules_engine, a_fatal_alert_in_the_handshake_raises_handshake_failed)
{
	struct session *s = run(failed_by_alert("S1", 100));
	assert_result(s, STARTTLS_UPGRADED);
	assert_raised(s, "tls_handshake_failed");
	const struct alert *a = find(s, RULE_TLS_HANDSHAKE_FAILED);
	cr_assert_eq(a->severity, 6);
	assert_reason_has(a, "handshake_failure (40) from the server");
	cr_assert(has_line(a, "TLS alert from the server: level 2, description handshake_failure (40)"));
}

Test(rules_engine, a_reset_in_the_handshake_raises_handshake_failed)
{
	struct session *s = run(failed_by_reset("S1", 100));
	assert_raised(s, "tls_handshake_failed");
	const struct alert *a = find(s, RULE_TLS_HANDSHAKE_FAILED);
	assert_reason_has(a, "connection reset");
	cr_assert(has_line(a, "connection reset (rst) after 1 client and 0 server TLS records"));
}

/* ---- cleartext_fallback ---- */

static struct scenario *clear_retry(const char *id, unsigned start_s)
{
	struct scenario *sc = no_starttls(id, start_s);
	send_mail_in_clear(&sc->m);
	return sc;
}

Test(rules_engine, mail_in_clear_soon_after_a_failed_handshake_is_a_cleartext_fallback)
{
	run(failed_by_reset("S1", 100)); /* ends at 102 */
	struct session *s = run(clear_retry("S2", 132));
	assert_raised(s, "starttls_not_used,cleartext_fallback");
	const struct alert *a = find(s, RULE_CLEARTEXT_FALLBACK);
	cr_assert_eq(a->severity, 8);
	cr_assert_str_eq(a->related_session_id, "S1");
	assert_reason_has(a, "30s after session S1 failed with tls_handshake_failed");
}

Test(rules_engine, mail_in_clear_soon_after_a_refusal_is_a_cleartext_fallback)
{
	struct scenario *first = clean("S1", 100);
	first->m.starttls_reply_code = 454;
	snprintf(first->m.starttls_reply, SMTP_TEXT_MAX, "454 4.7.0 TLS not available");
	first->s.tls = NULL;
	run(first);
	struct scenario *sc = stripped("S2", 400);
	sc->s.client.ip = CLIENT;
	send_mail_in_clear(&sc->m);
	struct session *s = run(sc);
	assert_raised(s, "starttls_capability_removed,cleartext_fallback");
	assert_reason_has(find(s, RULE_CLEARTEXT_FALLBACK), "failed with starttls_refused");
}

Test(rules_engine, mail_in_clear_after_the_window_is_no_fallback)
{
	run(failed_by_reset("S1", 100));
	struct session *s = run(clear_retry("S2", 102 + 15 * 60 + 1));
	assert_raised(s, "starttls_not_used");
}

Test(rules_engine, mail_in_clear_from_another_client_is_no_fallback)
{
	run(failed_by_alert("S1", 100));
	struct scenario *sc = clear_retry("S2", 110);
	sc->s.client.ip = OTHER_CLIENT;
	assert_raised(run(sc), "starttls_not_used");
}

Test(rules_engine, a_retry_that_upgrades_is_no_fallback)
{
	run(failed_by_alert("S1", 100));
	assert_raised(run(clean("S2", 110)), "");
}

/* ---- ehlo_downgrade ---- */

static struct scenario *helo_only(const char *id, unsigned start_s)
{
	struct scenario *sc = no_starttls(id, start_s);
	memset(&sc->m.caps, 0, sizeof sc->m.caps);
	snprintf(sc->m.helo_verb, sizeof sc->m.helo_verb, "HELO");
	sc->m.ehlo_reply_code = 0;
	send_mail_in_clear(&sc->m);
	return sc;
}

Test(rules_engine, helo_where_the_client_used_ehlo_before_is_an_ehlo_downgrade)
{
	run(clean("S1", 100));
	struct session *s = run(helo_only("S2", 3700));
	assert_result(s, STARTTLS_NOT_OFFERED);
	assert_raised(s, "ehlo_downgrade");
	const struct alert *a = find(s, RULE_EHLO_DOWNGRADE);
	cr_assert_eq(a->severity, 5);
	assert_reason_has(a, "after using EHLO in session S1 59m58s before");
	cr_assert(has_line(a, "HELO client.example"));
}

Test(rules_engine, helo_from_a_client_never_seen_with_ehlo_raises_nothing)
{
	run(clean("S1", 100));
	struct scenario *sc = helo_only("S2", 200);
	sc->s.client.ip = OTHER_CLIENT;
	struct session *s = run(sc);
	assert_result(s, STARTTLS_NOT_OFFERED);
	assert_raised(s, "");
}

Test(rules_engine, helo_after_a_refused_ehlo_is_an_ehlo_downgrade)
{
	struct scenario *sc = helo_only("S1", 100);
	sc->m.ehlo_refused = true;
	sc->m.ehlo_reply_code = 502;
	struct session *s = run(sc);
	assert_result(s, STARTTLS_NOT_OFFERED);
	assert_raised(s, "ehlo_downgrade");
	const struct alert *a = find(s, RULE_EHLO_DOWNGRADE);
	assert_reason_has(a, "refused the client's EHLO with 502");
	cr_assert(has_line(a, "EHLO answered 502"));
	cr_assert(has_line(a, "HELO client.example"));
}

/* ---- auth_in_clear, requiretls_in_clear ---- */

Test(rules_engine, auth_plain_in_clear_raises_auth_in_clear_with_the_mechanism_only)
{
	struct scenario *sc = no_starttls("S1", 100);
	EHLO_REPLY(&sc->m, "PIPELINING", "AUTH PLAIN LOGIN");
	sc->m.auth_in_clear = true;
	/* Even if an observation ever carried more than the mechanism, none of it may reach the alert. */
	snprintf(sc->m.auth_mechanism, sizeof sc->m.auth_mechanism, "PLAIN dGVzdAB0ZXN0");
	struct session *s = run(sc);
	assert_raised(s, "auth_in_clear");
	const struct alert *a = find(s, RULE_AUTH_IN_CLEAR);
	cr_assert_eq(a->severity, 7);
	cr_assert_eq(a->evidence_count, 1);
	cr_assert_str_eq(a->evidence[0], "AUTH PLAIN");
	cr_assert_null(strstr(a->reason, "dGVzdAB0ZXN0"));
	assert_reason_has(a, "AUTH PLAIN");
}

Test(rules_engine, auth_external_in_clear_raises_nothing)
{
	struct scenario *sc = no_starttls("S1", 100);
	EHLO_REPLY(&sc->m, "PIPELINING", "AUTH EXTERNAL");
	sc->m.auth_in_clear = true;
	snprintf(sc->m.auth_mechanism, sizeof sc->m.auth_mechanism, "EXTERNAL");
	assert_raised(run(sc), "");
}

Test(rules_engine, requiretls_in_clear_raises_requiretls_in_clear_with_the_mail_from_line)
{
	struct scenario *sc = no_starttls("S1", 100);
	EHLO_REPLY(&sc->m, "PIPELINING", "REQUIRETLS");
	sc->m.requiretls_in_clear = true;
	snprintf(sc->m.mail_from_line, SMTP_TEXT_MAX, "MAIL FROM:<client.example> REQUIRETLS");
	struct session *s = run(sc);
	assert_raised(s, "requiretls_in_clear");
	const struct alert *a = find(s, RULE_REQUIRETLS_IN_CLEAR);
	cr_assert_eq(a->severity, 7);
	cr_assert(has_line(a, "MAIL FROM:<client.example> REQUIRETLS"));
}

/* ---- cleartext_on_tls_port ---- */

/* A server on 465 that greeted in clear; the client's first bytes are given. */
static struct scenario *clear_on_465(const char *id, const void *first, size_t n)
{
	struct scenario *sc = no_starttls(id, 100);
	sc->s.server.port = 465;
	sc->s.cleartext_on_tls_port = true;
	memcpy(sc->s.client_first_bytes, first, n);
	sc->s.client_first_len = n;
	return sc;
}

Test(rules_engine, a_clear_greeting_on_a_tls_port_answered_with_a_hello_raises_cleartext_on_tls_port)
{
	static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x01, 0x3c, 0x01, 0x00,
	                                0x01, 0x38, 0x03, 0x03, 0xb0, 0xa9};
	struct scenario *sc = clear_on_465("S1", hello, sizeof hello);
	sc->m.caps.seen = false; /* the client never sent EHLO */
	sc->m.helo_verb[0] = '\0';
	struct session *s = run(sc);
	assert_result(s, STARTTLS_CLEARTEXT_ON_TLS_PORT);
	assert_raised(s, "cleartext_on_tls_port");
	const struct alert *a = find(s, RULE_CLEARTEXT_ON_TLS_PORT);
	cr_assert_eq(a->severity, rule_info(RULE_NO_TLS_AFTER_STARTTLS)->severity);
	cr_assert(has_line(a, "220 mx.example.net ESMTP"));
	cr_assert(has_line(a, "\\x16\\x03\\x01\\x01<\\x01\\x00\\x018\\x03\\x03"),
	          "headers only, not the random");
	assert_reason_has(a, "ClientHello");
	assert_reason_has(a, ":465");
}

Test(rules_engine, a_client_that_goes_on_in_clear_on_a_tls_port_is_judged_by_the_starttls_rules_too)
{
	static const char text[] = "EHLO client.example\r\nMAIL FROM:<alice@client.example>\r\n";
	struct scenario *sc = clear_on_465("S1", text, sizeof text - 1);
	send_mail_in_clear(&sc->m);
	struct session *s = run(sc);
	assert_result(s, STARTTLS_CLEARTEXT_ON_TLS_PORT);
	assert_raised(s, "starttls_not_used,cleartext_on_tls_port");
	const struct alert *a = find(s, RULE_CLEARTEXT_ON_TLS_PORT);
	cr_assert(has_line(a, "EHLO client.example"));
	assert_reason_has(a, "went on in clear text");
}

Test(rules_engine, a_first_clear_command_other_than_a_greeting_is_shown_by_its_verb_only)
{
	static const char text[] = "AUTH PLAIN dGVzdAB0ZXN0AHNlY3JldA==\r\n";
	struct scenario *sc = clear_on_465("S1", text, sizeof text - 1);
	struct session *s = run(sc);
	const struct alert *a = find(s, RULE_CLEARTEXT_ON_TLS_PORT);
	cr_assert_not_null(a);
	cr_assert(has_line(a, "AUTH"));
	for (unsigned i = 0; i < a->evidence_count; i++)
		cr_assert_null(strstr(a->evidence[i], "dGVzd"), "no credential in evidence");
}

Test(rules_engine, a_capture_that_ends_right_after_the_220_is_incomplete_without_an_alert)
{
	struct scenario *sc = clean("S1", 100);
	sc->t = (struct tls_observation){.outcome = TLS_OUTCOME_NONE};
	sc->s.close_reason = SESSION_CLOSE_END_OF_CAPTURE;
	struct session *s = run(sc);
	assert_result(s, STARTTLS_INCOMPLETE);
	assert_raised(s, "");
}

/* ---- incomplete sessions ---- */

Test(rules_engine, a_capture_gap_in_clear_text_makes_the_session_incomplete_and_silent)
{
	struct scenario *sc = no_starttls("S1", 100);
	EHLO_REPLY(&sc->m, "PIPELINING", "XXXXXXXA");
	snprintf(sc->m.caps.masked_keyword, SMTP_CAPABILITY_MAX, "XXXXXXXA");
	send_mail_in_clear(&sc->m);
	sc->s.clear_text_gap = true;
	struct session *s = run(sc);
	assert_result(s, STARTTLS_INCOMPLETE);
	assert_raised(s, "");
}

Test(rules_engine, a_session_without_smtp_is_incomplete)
{
	struct scenario *sc = clean("S1", 100);
	sc->s.smtp = NULL;
	sc->s.tls = NULL;
	struct session *s = run(sc);
	assert_result(s, STARTTLS_INCOMPLETE);
	assert_raised(s, "");
}

Test(rules_engine, a_flow_that_ends_before_the_ehlo_reply_is_incomplete)
{
	struct scenario *sc = no_starttls("S1", 100);
	memset(&sc->m.caps, 0, sizeof sc->m.caps);
	sc->m.last_reply_code = 220; /* only the banner */
	struct session *s = run(sc);
	assert_result(s, STARTTLS_INCOMPLETE);
	assert_raised(s, "");
}

Test(rules_engine, a_starttls_without_reply_is_incomplete)
{
	struct scenario *sc = clean("S1", 100);
	sc->m.starttls_reply_code = 0;
	sc->m.starttls_reply[0] = '\0';
	sc->s.tls = NULL;
	assert_result(run(sc), STARTTLS_INCOMPLETE);
}

Test(rules_engine, a_220_followed_by_nothing_is_incomplete)
{
	struct scenario *sc = clean("S1", 100);
	sc->s.tls = NULL;
	assert_result(run(sc), STARTTLS_INCOMPLETE);
	struct scenario *none = clean("S2", 200);
	memset(&none->t, 0, sizeof none->t);
	assert_result(run(none), STARTTLS_INCOMPLETE);
}

Test(rules_engine, a_gap_right_after_the_220_is_incomplete)
{
	struct scenario *sc = clean("S1", 100);
	memset(&sc->t, 0, sizeof sc->t);
	sc->t.outcome = TLS_OUTCOME_GAP;
	assert_result(run(sc), STARTTLS_INCOMPLETE);
}

Test(rules_engine, an_incomplete_session_still_reports_auth_in_clear)
{
	struct scenario *sc = no_starttls("S1", 100);
	sc->m.auth_in_clear = true;
	snprintf(sc->m.auth_mechanism, sizeof sc->m.auth_mechanism, "LOGIN");
	sc->s.clear_text_gap = true;
	struct session *s = run(sc);
	assert_result(s, STARTTLS_INCOMPLETE);
	assert_raised(s, "auth_in_clear");
	cr_assert_str_eq(find(s, RULE_AUTH_IN_CLEAR)->evidence[0], "AUTH LOGIN");
}

Test(rules_engine, an_incomplete_retry_after_a_failure_is_no_fallback)
{
	run(failed_by_reset("S1", 100));
	struct scenario *sc = clear_retry("S2", 110);
	sc->s.clear_text_gap = true;
	assert_raised(run(sc), "");
}

/* ---- names, counters ---- */

Test(rules_engine, names_an_ipv6_server_with_brackets)
{
	struct scenario *sc = clean("S1", 100);
	sc->s.server.ip = (struct ip_addr){.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x25}};
	sc->m.starttls_reply_code = 454;
	sc->s.tls = NULL;
	assert_reason_has(find(run(sc), RULE_STARTTLS_REFUSED), "[2001:db8::25]:25 refused STARTTLS");
}

Test(rules_engine, counts_sessions_alerts_per_rule_and_history_entries)
{
	run(clean("S1", 100));
	run(failed_by_reset("S2", 110));
	run(clear_retry("S3", 120));
	const struct rules_stats *st = rules_engine_stats(engine);
	cr_assert_eq(st->sessions, 3);
	cr_assert_eq(st->alerts[RULE_TLS_HANDSHAKE_FAILED], 1);
	cr_assert_eq(st->alerts[RULE_STARTTLS_NOT_USED], 1);
	cr_assert_eq(st->alerts[RULE_CLEARTEXT_FALLBACK], 1);
	cr_assert_eq(st->alerts[RULE_STARTTLS_REFUSED], 0);
	cr_assert_eq(st->history_servers, 1);
	cr_assert_eq(st->history_pairs, 1);
}

Test(rules_engine, evicts_the_oldest_pair_when_history_is_full)
{
	rules_engine_free(engine);
	struct rules_settings set = {.history_max_pairs = 1};
	engine = rules_engine_new(&set);
	run(failed_by_reset("S1", 100));
	struct scenario *other = clean("S2", 105);
	other->s.client.ip = OTHER_CLIENT;
	run(other); /* its EHLO takes the only pair slot */
	assert_raised(run(clear_retry("S3", 110)), "starttls_not_used");
	/* S2 pushed out S1's pair, then S3's own EHLO pushed out S2's. */
	cr_assert_eq(rules_engine_stats(engine)->history_evicted, 2);
	cr_assert_eq(rules_engine_stats(engine)->history_pairs, 1);
}

/* ---- persistence: what one engine exported, another restores ---- */

enum { SAVED_MAX = 64, SAVED_RECORD_MAX = 4096 };

struct saved_record {
	enum rules_table table;
	uint8_t key[64];
	size_t key_len;
	uint64_t seen_us;
	uint8_t record[SAVED_RECORD_MAX];
	size_t record_len;
};

static struct saved_record saved[SAVED_MAX];
static size_t saved_count;

static int save(void *ctx, enum rules_table t, const uint8_t *key, size_t key_len, uint64_t seen_us,
                const void *record, size_t record_len)
{
	cr_assert_lt(saved_count, SAVED_MAX);
	cr_assert_leq(key_len, sizeof saved[0].key);
	cr_assert_leq(record_len, SAVED_RECORD_MAX);
	struct saved_record *r = &saved[saved_count++];
	*r = (struct saved_record){
	    .table = t, .key_len = key_len, .seen_us = seen_us, .record_len = record_len};
	memcpy(r->key, key, key_len);
	memcpy(r->record, record, record_len);
	return 0;
}

/* The engine "restarts": a new one gets back what the old one exported, oldest first. */
static void restart_engine(void)
{
	struct rules_export_cursor from = {0}, to;
	saved_count = 0;
	cr_assert_eq(rules_engine_export(engine, &from, &to, save, NULL), 0);
	rules_engine_free(engine);
	struct rules_settings set = {0};
	engine = rules_engine_new(&set);
	cr_assert_not_null(engine);
	for (size_t i = saved_count; i-- > 0;) /* exported newest first */
		cr_assert(rules_engine_restore(engine, saved[i].table, saved[i].key, saved[i].key_len,
		                               saved[i].seen_us, saved[i].record, saved[i].record_len));
}

Test(rules_engine, a_restart_keeps_the_history_of_starttls_offers)
{
	run(clean("S1", 100));
	restart_engine();
	cr_assert_gt(saved_count, 0);
	struct session *s = run(stripped("S2", 400));
	assert_raised(s, "starttls_capability_removed");
	assert_reason_has(find(s, RULE_STARTTLS_CAPABILITY_REMOVED), "in session S1 4m58s before this one");
}

Test(rules_engine, a_restart_keeps_a_failure_for_the_cleartext_fallback)
{
	struct scenario *first = clean("S1", 100);
	first->m.starttls_reply_code = 454;
	snprintf(first->m.starttls_reply, SMTP_TEXT_MAX, "454 4.7.0 TLS not available");
	first->s.tls = NULL;
	run(first);
	restart_engine();
	struct scenario *sc = no_starttls("S2", 400);
	send_mail_in_clear(&sc->m);
	struct session *s = run(sc);
	cr_assert_not_null(find(s, RULE_CLEARTEXT_FALLBACK));
	cr_assert_str_eq(find(s, RULE_CLEARTEXT_FALLBACK)->related_session_id, "S1");
}

Test(rules_engine, without_a_restore_a_new_engine_knows_nothing)
{
	run(clean("S1", 100));
	rules_engine_free(engine);
	struct rules_settings set = {0};
	engine = rules_engine_new(&set);
	assert_raised(run(stripped("S2", 400)), "");
}

Test(rules_engine, an_export_hands_over_only_what_changed_since_the_last_one)
{
	struct rules_export_cursor from = {0}, to;
	run(clean("S1", 100));
	saved_count = 0;
	cr_assert_eq(rules_engine_export(engine, &from, &to, save, NULL), 0);
	size_t first = saved_count;
	cr_assert_gt(first, 0);
	saved_count = 0;
	struct rules_export_cursor again;
	cr_assert_eq(rules_engine_export(engine, &to, &again, save, NULL), 0);
	cr_assert_eq(saved_count, 0, "nothing changed, nothing to save");
	struct scenario *other = clean("S2", 200);
	other->s.server.ip = OTHER_SERVER;
	run(other);
	cr_assert_eq(rules_engine_export(engine, &again, &to, save, NULL), 0);
	cr_assert_gt(saved_count, 0);
	for (size_t i = 0; i < saved_count; i++)
		cr_assert_eq(saved[i].seen_us, S(202), "only the new session's records");
}

Test(rules_engine, a_record_of_another_layout_is_not_restored)
{
	uint8_t key[17] = {4, 198, 51, 100, 25};
	uint8_t record[3] = {1, 2, 3};
	for (int t = 0; t < RULES_TABLE_COUNT; t++) {
		cr_assert_not(rules_engine_restore(engine, (enum rules_table)t, key, sizeof key, S(1), record,
		                                   sizeof record));
		cr_assert_str_neq(rules_table_name((enum rules_table)t), "unknown");
	}
	cr_assert_not(
	    rules_engine_restore(engine, RULES_TABLE_COUNT, key, sizeof key, S(1), record, sizeof record));
}

static int fail_save(void *ctx, enum rules_table t, const uint8_t *key, size_t key_len, uint64_t seen_us,
                     const void *record, size_t record_len)
{
	return -1;
}

Test(rules_engine, an_export_stops_when_the_store_fails)
{
	run(clean("S1", 100));
	struct rules_export_cursor from = {0}, to = {0};
	cr_assert_eq(rules_engine_export(engine, &from, &to, fail_save, NULL), -1);
}
