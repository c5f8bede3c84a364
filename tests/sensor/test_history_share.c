/*
 * test_history_share.c: the shared history's documents (sensor/state/history_share.h) between two rules
 * engines standing for two sensors, A and B, with the transport cut out: what A publishes is handed to B
 * by hand. Sessions are hand-built as the parsers would report them, between a client (203.0.113.7) and
 * a mail server (198.51.100.25:25); times in seconds from the capture start.
 */
#include "sensor/state/history_share.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(sec) ((uint64_t)(sec)*1000000ull)
#define LATER S(1000000) /* a local clock far past every test's times: no skew */

enum { MAX_DOCS = 16, DOC_MAX = 1024 };

struct scenario {
	struct session s;
	struct smtp_observation m;
	struct tls_observation t;
};

/* What a sensor published: its documents and their keys, in order. */
struct published {
	char key[MAX_DOCS][HISTORY_SHARE_KEY_MAX];
	char doc[MAX_DOCS][DOC_MAX];
	size_t len[MAX_DOCS];
	unsigned count;
	bool refuse; /* the transport drops what it is given */
};

struct sensor_under_test {
	struct rules_engine *engine;
	struct history_share *share;
	struct published out;
};

static struct sensor_under_test a, b;

static int publish(void *ctx, const char *key, size_t key_len, const char *doc, size_t len)
{
	struct published *p = ctx;
	cr_assert_lt(p->count, MAX_DOCS);
	cr_assert_lt(len, DOC_MAX);
	cr_assert_lt(key_len, HISTORY_SHARE_KEY_MAX);
	memcpy(p->key[p->count], key, key_len);
	p->key[p->count][key_len] = '\0';
	memcpy(p->doc[p->count], doc, len);
	p->doc[p->count][len] = '\0';
	p->len[p->count++] = len;
	return p->refuse ? -1 : 0;
}

static void open_sensor(struct sensor_under_test *t, const char *name)
{
	struct rules_settings set = {0}; /* defaults: 15 min window, 30 days TTL */
	memset(t, 0, sizeof *t);
	t->engine = rules_engine_new(&set);
	cr_assert_not_null(t->engine);
	t->share = history_share_new(t->engine, name, S(300), publish, &t->out);
	cr_assert_not_null(t->share);
}

static void close_sensor(struct sensor_under_test *t)
{
	history_share_free(t->share);
	rules_engine_free(t->engine);
}

static void setup(void)
{
	open_sensor(&a, "span-a");
	open_sensor(&b, "span-b");
}

static void teardown(void)
{
	close_sensor(&a);
	close_sensor(&b);
}

TestSuite(history_share, .init = setup, .fini = teardown);

static struct ip_addr v4(uint8_t w, uint8_t x, uint8_t y, uint8_t z)
{
	struct ip_addr ip = {.family = 4, .bytes = {w, x, y, z}};
	return ip;
}

#define CLIENT v4(203, 0, 113, 7)
#define SERVER v4(198, 51, 100, 25)

static void ehlo_reply(struct smtp_observation *m, bool starttls)
{
	m->caps.seen = true;
	m->caps.starttls = starttls;
	m->caps.count = 0;
	snprintf(m->caps.raw, sizeof m->caps.raw, "250-mx.example.net\n250%s",
	         starttls ? "-PIPELINING\n250 STARTTLS" : " PIPELINING");
	snprintf(m->caps.lines[m->caps.count++], SMTP_CAPABILITY_MAX, "PIPELINING");
	if (starttls)
		snprintf(m->caps.lines[m->caps.count++], SMTP_CAPABILITY_MAX, "STARTTLS");
}

/* EHLO, STARTTLS offered and used, TLS 1.3 established. Freed by the caller (free). */
static struct scenario *clean(const char *id, unsigned start_s)
{
	struct scenario *sc = calloc(1, sizeof *sc);
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
	ehlo_reply(m, true);
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

/* The handshake reset after the ClientHello: tls_handshake_failed. */
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

/* No STARTTLS from the client, mail in clear; stripped: neither offered by the server. */
static struct scenario *clear_retry(const char *id, unsigned start_s, bool stripped)
{
	struct scenario *sc = clean(id, start_s);
	struct smtp_observation *m = &sc->m;
	m->starttls_attempted = m->tls_started = false;
	m->starttls_command[0] = m->starttls_reply[0] = '\0';
	m->starttls_reply_code = 0;
	m->last_reply_code = 250;
	sc->s.tls = NULL;
	m->transactions = 1;
	m->recipients = 1;
	snprintf(m->mail_from_domain, sizeof m->mail_from_domain, "client.example");
	m->data_in_clear = true;
	m->data_bytes_in_clear = 1234;
	if (stripped)
		ehlo_reply(m, false);
	return sc;
}

/* Evaluates on sensor t and publishes what the session taught; the session stays the caller's. */
static struct session *run(struct sensor_under_test *t, struct scenario *sc)
{
	rules_engine_evaluate(t->engine, &sc->s);
	history_share_session(t->share, &sc->s);
	return &sc->s;
}

/* Everything `from` published, handed to `to`. */
static void deliver(struct sensor_under_test *from, struct sensor_under_test *to)
{
	for (unsigned i = 0; i < from->out.count; i++)
		history_share_receive(to->share, (const uint8_t *)from->out.doc[i], from->out.len[i], LATER);
}

static const struct alert *find(const struct session *s, enum rule_code code)
{
	for (unsigned i = 0; i < s->alerts.count; i++)
		if (s->alerts.items[i].rule->code == code)
			return &s->alerts.items[i];
	return NULL;
}

static uint64_t alerts_counted(const struct rules_engine *e)
{
	uint64_t n = 0;
	for (int r = 0; r < RULE_COUNT; r++)
		n += rules_engine_stats(e)->alerts[r];
	return n;
}

/* ---- across sensors ---- */

Test(history_share, a_failure_on_one_sensor_and_the_clear_retry_on_another_is_a_cleartext_fallback)
{
	struct scenario *fail = failed_by_reset("S1AAAAAAAAAAAAAAAAA", 100),
	                *retry = clear_retry("S2", 132, false);
	run(&a, fail);
	cr_assert_eq(a.out.count, 2,
	             "A publishes the server's STARTTLS offer and the pair's EHLO and failure");
	deliver(&a, &b);
	cr_assert_eq(history_share_stats(b.share)->merged, 2);
	cr_assert_eq(alerts_counted(b.engine), 0, "a merge raises nothing by itself");
	struct session *s = run(&b, retry);
	const struct alert *fb = find(s, RULE_CLEARTEXT_FALLBACK);
	cr_assert_not_null(fb, "B raises cleartext_fallback");
	cr_assert_str_eq(fb->related_session_id, "S1AAAAAAAAAAAAAAAAA", "naming A's failed session");
	free(fail);
	free(retry);
}

Test(history_share, the_same_halves_without_sharing_raise_nothing_across_sensors)
{
	struct scenario *fail = failed_by_reset("S1", 100), *retry = clear_retry("S2", 132, false);
	run(&a, fail);
	struct session *s = run(&b, retry);
	cr_assert_null(find(s, RULE_CLEARTEXT_FALLBACK));
	free(fail);
	free(retry);
}

Test(history_share, starttls_offered_on_one_sensor_and_stripped_on_another_is_capability_removed)
{
	struct scenario *offered = clean("S1", 100), *stripped = clear_retry("S2", 400, true);
	run(&a, offered);
	deliver(&a, &b);
	struct session *s = run(&b, stripped);
	const struct alert *rm = find(s, RULE_STARTTLS_CAPABILITY_REMOVED);
	cr_assert_not_null(rm);
	cr_assert_str_eq(rm->related_session_id, "S1");
	free(offered);
	free(stripped);
}

Test(history_share, a_version_downgrade_on_another_sensor_is_tls_interception_suspected)
{
	struct scenario *before = clean("S1", 100), *after = clean("S2", 400);
	snprintf(before->s.fingerprints.ja3, sizeof before->s.fingerprints.ja3, "%032d", 1);
	snprintf(before->s.fingerprints.ja3s, sizeof before->s.fingerprints.ja3s, "%032d", 2);
	run(&a, before);
	cr_assert_eq(a.out.count, 2, "the server's record (STARTTLS and TLS facts) and the pair's");
	cr_assert_not_null(strstr(a.out.doc[0], "\"tls_version\":772"), "%s", a.out.doc[0]);
	cr_assert_not_null(strstr(a.out.doc[0], "\"ja3s\":[\"00000000000000000000000000000002\"]"), "%s",
	                   a.out.doc[0]);
	deliver(&a, &b);
	after->t.version = 0x0303; /* the client offered TLS 1.3 and got 1.2 */
	after->t.ch.supported_versions[0] = 0x0304;
	after->t.ch.supported_versions[1] = 0x0303;
	after->t.ch.supported_version_count = 2;
	struct session *s = run(&b, after);
	const struct alert *x = find(s, RULE_TLS_INTERCEPTION_SUSPECTED);
	cr_assert_not_null(x, "B raises tls_interception_suspected");
	cr_assert_str_eq(x->related_session_id, "S1");
	struct tls_server_share t;
	struct ip_addr server = SERVER;
	cr_assert(rules_engine_tls_share(b.engine, &server, S(500), &t));
	cr_assert_eq(t.n_answers, 1, "the JA3 answer travelled too");
	cr_assert_str_eq(t.answers[0].session_id, "S1");
	free(before);
	free(after);
}

/* ---- merging ---- */

Test(history_share, merging_is_idempotent_and_the_later_fact_wins_whatever_the_order)
{
	struct scenario *first = clean("S1", 100), *second = clean("S2", 200);
	run(&a, first);
	run(&a, second);
	cr_assert_eq(a.out.count, 4);
	/* newest first, then the older documents, then everything again */
	for (unsigned i = 2; i < 4; i++)
		history_share_receive(b.share, (const uint8_t *)a.out.doc[i], a.out.len[i], LATER);
	history_share_receive(b.share, (const uint8_t *)a.out.doc[0], a.out.len[0], LATER);
	deliver(&a, &b);
	struct starttls_server_share f;
	struct ip_addr server = SERVER;
	cr_assert(rules_engine_server_share(b.engine, &server, S(300), &f));
	cr_assert_str_eq(f.starttls_session_id, "S2");
	cr_assert_eq(f.starttls_us, S(202));
	const struct history_share_stats *st = history_share_stats(b.share);
	cr_assert_eq(st->received, 7);
	cr_assert_eq(st->merged, 2,
	             "the newest server record, then the newest pair record: nothing else changed");
	free(first);
	free(second);
}

Test(history_share, own_echoes_are_ignored_after_the_start_up_read_but_merged_during_it)
{
	struct scenario *fail = failed_by_reset("S1", 100);
	run(&a, fail);
	struct sensor_under_test restarted;
	open_sensor(&restarted, "span-a");
	deliver(&a, &restarted);
	cr_assert_eq(history_share_stats(restarted.share)->ignored_own, 2);
	cr_assert_eq(history_share_stats(restarted.share)->merged, 0);
	history_share_set_catching_up(restarted.share, true);
	deliver(&a, &restarted);
	cr_assert_eq(history_share_stats(restarted.share)->merged, 2,
	             "a restarted sensor gets its memory back");
	close_sensor(&restarted);
	free(fail);
}

Test(history_share, an_update_dated_beyond_the_clock_skew_is_dropped_and_counted)
{
	struct scenario *offered = clean("S1", 1000);
	run(&a, offered);
	/* the sensor's clock is at 100 s: the offer at 1,002 s is 902 s ahead, past the 300 s bound */
	history_share_receive(b.share, (const uint8_t *)a.out.doc[0], a.out.len[0], S(100));
	cr_assert_eq(history_share_stats(b.share)->skew_exceeded, 1);
	struct starttls_server_share f;
	struct ip_addr server = SERVER;
	cr_assert_not(rules_engine_server_share(b.engine, &server, S(1100), &f));
	/* within the bound */
	history_share_receive(b.share, (const uint8_t *)a.out.doc[0], a.out.len[0], S(800));
	cr_assert_eq(history_share_stats(b.share)->merged, 1);
	free(offered);
}

Test(history_share, a_session_that_taught_nothing_publishes_nothing)
{
	struct scenario *sc = clear_retry("S1", 100, true); /* no offer, no failure */
	snprintf(sc->m.helo_verb, sizeof sc->m.helo_verb, "HELO");
	run(&a, sc);
	cr_assert_eq(a.out.count, 0);
	free(sc);
}

Test(history_share, a_refused_publish_is_counted)
{
	a.out.refuse = true;
	struct scenario *sc = clean("S1", 100);
	run(&a, sc);
	cr_assert_eq(history_share_stats(a.share)->published, 2);
	cr_assert_eq(history_share_stats(a.share)->publish_errors, 2);
	free(sc);
}

/* ---- the wire format ---- */

Test(history_share, documents_round_trip_with_their_keys)
{
	struct history_share_update u = {.kind = HISTORY_SHARE_PAIR, .time_us = 1234567, .port = 587};
	snprintf(u.observer, sizeof u.observer, "mx \"west\"\n");
	u.server = (struct ip_addr){.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x25}};
	u.client = CLIENT;
	u.pair_facts = (struct starttls_pair_share){.ehlo_used = true,
	                                            .ehlo_us = 1234000,
	                                            .failed = true,
	                                            .failed_end_us = 1234567,
	                                            .failed_rule = RULE_STARTTLS_REFUSED};
	snprintf(u.pair_facts.ehlo_session_id, SESSION_ID_LEN, "SEHLO");
	snprintf(u.pair_facts.failed_session_id, SESSION_ID_LEN, "SFAIL");
	struct json_writer w;
	json_writer_init(&w, 256);
	char key[HISTORY_SHARE_KEY_MAX];
	history_share_encode(&w, &u, key);
	cr_assert_str_eq(key, "[2001:db8::25]:587 203.0.113.7");
	struct history_share_update back;
	const char *why = NULL;
	cr_assert_eq(history_share_decode((const uint8_t *)w.buf, w.len, &back, &why), 0, "%s", why);
	cr_assert_str_eq(back.observer, u.observer);
	cr_assert_eq(back.kind, HISTORY_SHARE_PAIR);
	cr_assert_eq(back.time_us, u.time_us);
	cr_assert_eq(back.port, 587);
	cr_assert_eq(ip_addr_compare(&back.server, &u.server), 0);
	cr_assert_eq(ip_addr_compare(&back.client, &u.client), 0);
	cr_assert_eq(back.pair_facts.ehlo_us, 1234000);
	cr_assert_str_eq(back.pair_facts.failed_session_id, "SFAIL");
	cr_assert_eq(back.pair_facts.failed_rule, RULE_STARTTLS_REFUSED);
	json_writer_release(&w);
}

Test(history_share, tls_facts_round_trip)
{
	struct history_share_update u = {
	    .kind = HISTORY_SHARE_SERVER, .time_us = 9, .port = 25, .server = SERVER};
	snprintf(u.observer, sizeof u.observer, "a");
	struct tls_server_share *t = &u.tls_facts;
	*t = (struct tls_server_share){.best_version = 0x0304,
	                               .version_us = 7,
	                               .valid_certificate_seen = true,
	                               .certificate_us = 8,
	                               .n_answers = 2};
	snprintf(t->version_session_id, SESSION_ID_LEN, "SV");
	snprintf(t->certificate_session_id, SESSION_ID_LEN, "SC");
	snprintf(t->certificate_sha256, sizeof t->certificate_sha256, "%064d", 3);
	snprintf(t->issuer, sizeof t->issuer, "CN=%0500d", 4); /* the longest an issuer may be */
	for (unsigned i = 0; i < 2; i++) {
		snprintf(t->answers[i].ja3, sizeof t->answers[i].ja3, "%032u", i);
		snprintf(t->answers[i].ja3s, sizeof t->answers[i].ja3s, "%032u", i + 10);
		snprintf(t->answers[i].session_id, SESSION_ID_LEN, "SA%u", i);
		t->answers[i].us = 100 + i;
	}
	struct json_writer w;
	json_writer_init(&w, X509_NAME_MAX);
	char key[HISTORY_SHARE_KEY_MAX];
	history_share_encode(&w, &u, key);
	struct history_share_update back;
	const char *why = NULL;
	cr_assert_eq(history_share_decode((const uint8_t *)w.buf, w.len, &back, &why), 0, "%s", why);
	cr_assert_eq(memcmp(&back.tls_facts, t, sizeof *t), 0);
	json_writer_release(&w);
}

static const char *decode_error(const char *doc)
{
	struct history_share_update u;
	const char *why = NULL;
	int rc = history_share_decode((const uint8_t *)doc, strlen(doc), &u, &why);
	return rc == 0 ? NULL : why;
}

#define GOOD                                                                                                 \
	"{\"v\":1,\"kind\":\"server\",\"observer\":\"x\",\"time_us\":5,\"server_ip\":\"192.0.2.1\","         \
	"\"server_port\":25"

Test(history_share, bad_documents_are_errors_with_a_reason_never_a_crash)
{
	cr_assert_null(decode_error(GOOD "}"));
	cr_assert_null(decode_error(GOOD ",\"later\":{\"nested\":[1,2]}}"), "unknown members are skipped");
	cr_assert_str_eq(decode_error("not json"), "malformed");
	cr_assert_str_eq(decode_error(""), "malformed");
	cr_assert_str_eq(decode_error("{}"), "version");
	cr_assert_str_eq(decode_error("{\"v\":2}"), "version");
	cr_assert_str_eq(decode_error(GOOD ",\"v\":1}"), "repeated");
	cr_assert_str_eq(decode_error("{\"v\":\"1\"}"), "type");
	cr_assert_str_eq(decode_error("{\"v\":1.5}"), "number");
	cr_assert_str_eq(decode_error("{\"v\":-1}"), "number");
	cr_assert_str_eq(decode_error("{\"v\":99999999999999999999999}"), "number");
	cr_assert_str_eq(decode_error("{\"v\":1,\"kind\":\"client\"}"), "kind");
	cr_assert_str_eq(decode_error(GOOD ",\"server_port\":70000}"), "repeated");
	cr_assert_str_eq(decode_error("{\"v\":1,\"kind\":\"server\",\"observer\":\"x\",\"time_us\":5,"
	                              "\"server_ip\":\"192.0.2.1\",\"server_port\":70000}"),
	                 "server_port");
	cr_assert_str_eq(decode_error("{\"v\":1,\"kind\":\"server\",\"observer\":\"x\",\"time_us\":5,"
	                              "\"server_ip\":\"192.0.2.300\",\"server_port\":25}"),
	                 "server_ip");
	cr_assert_str_eq(decode_error(GOOD ",\"starttls_us\":5}"), "starttls_session");
	cr_assert_str_eq(
	    decode_error(GOOD ",\"starttls_us\":5,\"starttls_session\":\"S0123456789012345678901\"}"),
	    "starttls_session");
	char big[800];
	snprintf(big, sizeof big, "{\"v\":1,\"observer\":\"%0600d\"}", 0); /* past the scanner's cap */
	cr_assert_str_eq(decode_error(big), "too_long");
	snprintf(
	    big, sizeof big,
	    "{\"v\":1,\"kind\":\"server\",\"observer\":\"%0300d\",\"time_us\":5,\"server_ip\":\"192.0.2.1\","
	    "\"server_port\":25}",
	    0); /* past sensor.name's */
	cr_assert_str_eq(decode_error(big), "too_long");
	cr_assert_str_eq(
	    decode_error("{\"v\":1,\"kind\":\"pair\",\"observer\":\"x\",\"time_us\":5,"
	                 "\"server_ip\":\"192.0.2.1\",\"server_port\":25,\"client_ip\":\"192.0.2.2\","
	                 "\"failed_end_us\":5,\"failed_session\":\"S1\",\"failed_rule\":\"auth_in_clear\"}"),
	    "failed_rule");
	cr_assert_str_eq(
	    decode_error(GOOD
	                 ",\"ja3\":[\"a\"],\"ja3s\":[\"b\",\"c\"],\"ja3_us\":[1],\"ja3_session\":[\"S\"]}"),
	    "answers");
	cr_assert_str_eq(decode_error(GOOD ",\"ja3\":[1]}"), "answers");
	cr_assert_str_eq(
	    decode_error(GOOD ",\"ja3\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]}"),
	    "answers");
	cr_assert_str_eq(decode_error(GOOD ",\"tls_version\":772}"), "tls_version");
	cr_assert_str_eq(decode_error(GOOD ",\"cert_sha256\":\"ab\",\"cert_us\":1}"), "cert");
}

Test(history_share, every_prefix_of_a_document_is_an_error_and_counted)
{
	struct scenario *sc = failed_by_reset("S1", 100);
	run(&a, sc);
	const char *doc = a.out.doc[1];
	for (size_t n = 0; n < a.out.len[1]; n++) {
		uint8_t *cut = malloc(n ? n : 1); /* exactly n bytes: ASan sees a read past the end */
		memcpy(cut, doc, n);
		cr_assert_eq(history_share_receive(b.share, cut, n, LATER), HISTORY_SHARE_ERROR, "prefix %zu",
		             n);
		free(cut);
	}
	cr_assert_eq(history_share_stats(b.share)->errors, a.out.len[1]);
	cr_assert_eq(history_share_receive(b.share, (const uint8_t *)doc, a.out.len[1], LATER),
	             HISTORY_SHARE_MERGED);
	free(sc);
}
