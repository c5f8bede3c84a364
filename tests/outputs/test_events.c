/*
 * test_events.c: the four event types as written for hand-built sessions.
 *
 * Every document must be one valid JSON object (test_json_valid: strict
 * grammar, UTF-8, no duplicate keys) and carry the exact key/value fragments
 * the schema promises. The writer is compact, so fragments are matched as
 * written: "key":value with no spaces.
 *
 * The session: client 203.0.113.7:40001 to mail server 198.51.100.25:25, from
 * 2026-01-01T00:00:00Z for 2.5 s, upgraded with STARTTLS to TLS 1.2, whose
 * certificate expired.
 */
#include "outputs/alert_event.h"
#include "outputs/event_common.h"
#include "outputs/certificate_event.h"
#include "outputs/output.h"
#include "outputs/event_related.h"
#include "outputs/policy_event.h"
#include "outputs/session_event.h"
#include "outputs/stats_event.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define T0 (1767225600ull * 1000000ull) /* 2026-01-01T00:00:00Z */
#define SID "S3F9K2M7Q0000000001"
#define LEAF_SHA "AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12"
#define CA_SHA "CD34CD34CD34CD34CD34CD34CD34CD34CD34CD34CD34CD34CD34CD34CD34CD34"

static const struct event_context ctx = {
    "sensor-1.example",        "0.9.0", "span-a", "https://wiki.example/runbooks/", NULL,
    EVENT_CLIENT_CIPHERS_NAMES};

struct fixture {
	struct session s;
	struct tls_observation t;
	struct smtp_observation m;
};

static struct fixture *fx;
static struct json_writer w;
static char text[1 << 17]; /* the last document, NUL-terminated */

static void setup(void)
{
	fx = calloc(1, sizeof *fx);
	cr_assert_not_null(fx);
	json_writer_init(&w, 4096);
}

static void teardown(void)
{
	json_writer_release(&w);
	free(fx);
}

TestSuite(events, .init = setup, .fini = teardown);

static struct ip_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct ip_addr ip = {.family = 4, .bytes = {a, b, c, d}};
	return ip;
}

static struct session *upgraded_session(void)
{
	struct session *s = &fx->s;
	struct tls_observation *t = &fx->t;
	struct smtp_observation *m = &fx->m;
	snprintf(s->id, sizeof s->id, "%s", SID);
	s->client =
	    (struct session_endpoint){.ip = v4(203, 0, 113, 7), .port = 40001, .bytes = 1000, .packets = 10};
	s->server =
	    (struct session_endpoint){.ip = v4(198, 51, 100, 25), .port = 25, .bytes = 5000, .packets = 12};
	s->start_us = T0;
	s->end_us = T0 + 2500000;
	s->close_reason = SESSION_CLOSE_FIN;
	s->role_source = SESSION_ROLE_SYN;
	s->protocol = SESSION_PROTOCOL_SMTP;
	s->starttls_result = STARTTLS_UPGRADED;
	m->caps.seen = true;
	m->caps.starttls = true;
	snprintf(m->caps.lines[m->caps.count++], SMTP_CAPABILITY_MAX, "STARTTLS");
	snprintf(m->banner, sizeof m->banner, "220 mx.example.net ESMTP");
	m->starttls_attempted = true;
	m->starttls_reply_code = 220;
	snprintf(m->starttls_reply, sizeof m->starttls_reply, "220 2.0.0 Ready to start TLS");
	s->smtp = m;
	t->outcome = TLS_OUTCOME_ESTABLISHED;
	t->client_hello_seen = t->server_hello_seen = true;
	t->version = 0x0303;
	t->cipher = 0xC02F;
	t->certificate_visible = true;
	t->ch.ciphers[t->ch.cipher_count++] = 0xC02F;
	t->ch.ciphers_total = 1;
	snprintf(t->ch.sni, sizeof t->ch.sni, "mx.example.net");
	s->tls = t;
	struct session_certificate *c = &s->certificate;
	c->parsed = true;
	snprintf(c->leaf.sha256, sizeof c->leaf.sha256, "%s", LEAF_SHA);
	snprintf(c->leaf.subject, sizeof c->leaf.subject, "CN=mx.example.net");
	snprintf(c->leaf.issuer, sizeof c->leaf.issuer, "CN=Example CA,O=Example");
	snprintf(c->leaf.subject_cn, sizeof c->leaf.subject_cn, "mx.example.net");
	snprintf(c->leaf.issuer_cn, sizeof c->leaf.issuer_cn, "Example CA");
	snprintf(c->leaf.san_dns[c->leaf.san_count++], X509_FIELD_MAX, "mx.example.net");
	c->leaf.version_number = 3;
	c->leaf.not_before = 1735689600; /* 2025-01-01 */
	c->leaf.not_after = 1764547200;  /* 2025-12-01: expired at T0 */
	snprintf(c->chain_sha256[0], sizeof c->chain_sha256[0], "%s", LEAF_SHA);
	snprintf(c->chain_sha256[1], sizeof c->chain_sha256[1], "%s", CA_SHA);
	c->chain_count = 2;
	c->validated = true;
	c->status = X509_STATUS_EXPIRED;
	snprintf(c->name, sizeof c->name, "mx.example.net");
	c->name_source = SESSION_NAME_SNI;
	snprintf(fx->s.fingerprints.ja3, sizeof fx->s.fingerprints.ja3, "0123456789abcdef0123456789abcdef");
	return s;
}

static struct alert *add_alert(struct session *s, enum rule_code code, const char *reason)
{
	struct alert *a = alert_list_add(&s->alerts, code);
	cr_assert_not_null(a);
	alert_set_reason(a, "%s", reason);
	return a;
}

/* The writer's document as a C string, after checking it is one valid JSON object. */
static const char *written(void)
{
	cr_assert_not(json_writer_failed(&w));
	cr_assert_lt(w.len, sizeof text);
	memcpy(text, w.buf, w.len);
	text[w.len] = '\0';
	char err[128];
	cr_assert(test_json_valid(text, w.len, err, sizeof err), "invalid JSON (%s): %s", err, text);
	cr_assert_eq(text[0], '{', "an object: %s", text);
	return text;
}

#define cr_assert_has(doc, fragment)                                                                         \
	cr_assert(strstr((doc), (fragment)) != NULL, "missing %s in %s", (fragment), (doc))
#define cr_assert_lacks(doc, fragment)                                                                       \
	cr_assert(strstr((doc), (fragment)) == NULL, "unexpected %s in %s", (fragment), (doc))

/* Elements of the array after `key` (quoted, with its colon); elements hold no ',' or ']'. */
static unsigned array_length(const char *doc, const char *key)
{
	const char *p = strstr(doc, key);
	cr_assert_not_null(p, "no %s in %s", key, doc);
	p += strlen(key);
	cr_assert_eq(*p, '[');
	if (p[1] == ']')
		return 0;
	unsigned n = 1;
	for (p++; *p != ']'; p++) {
		cr_assert_neq(*p, '\0');
		n += *p == ',';
	}
	return n;
}

/* ---- the checker itself: a validity assertion is only worth what the checker rejects ---- */

static bool valid(const char *json)
{
	return test_json_valid(json, strlen(json), NULL, 0);
}

Test(events, the_json_checker_accepts_valid_documents_and_rejects_broken_ones)
{
	cr_assert(valid("{\"a\":[1,-2.5e3,true,false,null,\"x\\u00e9\\n\",{}],\"b\":{\"c\":\"\xc3\xa9\"}}"));
	cr_assert(valid(" [ ] "));
	cr_assert_not(valid("{\"a\":1,}"), "trailing comma");
	cr_assert_not(valid("{\"a\":1,\"a\":2}"), "duplicate key");
	cr_assert_not(valid("{\"a\":1"), "unclosed object");
	cr_assert_not(valid("{\"a\":1}}"), "text after the document");
	cr_assert_not(valid("{\"a\":\"x\ny\"}"), "raw control character");
	cr_assert_not(valid("{\"a\":\"\xff\"}"), "invalid UTF-8");
	cr_assert_not(valid("{\"a\":\"\\x41\"}"), "bad escape");
	cr_assert_not(valid("{\"a\":01}"), "leading zero");
	cr_assert_not(valid("{a:1}"), "unquoted key");
	cr_assert_not(valid(""), "empty");
}

/* ---- tlsobs.session ---- */

Test(events, a_session_event_is_valid_json_with_the_common_fields)
{
	struct session *s = upgraded_session();
	session_event_write(&w, s, &ctx, T0 + 5000000);
	const char *doc = written();
	cr_assert_has(doc, "\"@timestamp\":\"2026-01-01T00:00:00.000000Z\"");
	cr_assert_has(
	    doc, "\"observer\":{\"hostname\":\"sensor-1.example\",\"name\":\"span-a\",\"type\":\"sensor\","
	         "\"vendor\":\"tlsobs\",\"product\":\"tlsobs\",\"version\":\"0.9.0\"}");
	cr_assert_has(
	    doc, "\"event\":{\"kind\":\"event\",\"category\":[\"network\"],\"type\":[\"connection\",\"end\"],"
	         "\"dataset\":\"tlsobs.session\",\"id\":\"" SID
	         "-s\",\"created\":\"2026-01-01T00:00:05.000000Z\"");
	cr_assert_has(doc, "\"end\":\"2026-01-01T00:00:02.500000Z\",\"duration\":2500000000}");
	cr_assert_has(doc,
	              "\"source\":{\"ip\":\"203.0.113.7\",\"port\":40001,\"bytes\":1000,\"packets\":10}");
	cr_assert_has(doc,
	              "\"destination\":{\"ip\":\"198.51.100.25\",\"port\":25,\"bytes\":5000,\"packets\":12}");
	cr_assert_has(doc, "\"tlsobs\":{\"schema_version\":\"" TLSOBS_SCHEMA_VERSION
	                   "\",\"session_id\":\"" SID "\"");
	cr_assert_has(doc, "\"community_id\":\"1:");
	cr_assert_str_eq(w.doc.id, SID "-s");
	cr_assert_eq(w.doc.time_us, T0);
}

Test(events, a_session_event_carries_tls_certificate_validation_and_alert_names)
{
	struct session *s = upgraded_session();
	add_alert(s, RULE_TLS_CERTIFICATE_INVALID, "the certificate did not validate: expired");
	add_alert(s, RULE_TLS_CIPHER_WEAK, "weak");
	session_event_write(&w, s, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc,
	              "\"tls\":{\"established\":true,\"resumed\":false,\"version\":\"1.2\","
	              "\"version_protocol\":\"tls\",\"cipher\":\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"");
	cr_assert_has(doc, "\"hash\":{\"sha256\":\"" LEAF_SHA "\"");
	cr_assert_has(doc, "\"subject\":\"CN=mx.example.net\",\"issuer\":\"CN=Example CA,O=Example\"");
	cr_assert_has(doc, "\"chain_sha256\":[\"" LEAF_SHA "\",\"" CA_SHA "\"]");
	cr_assert_has(
	    doc,
	    "\"validation\":{\"status\":\"expired\",\"name\":\"mx.example.net\",\"name_source\":\"sni\"}");
	cr_assert_has(doc, "\"starttls\":{\"offered\":true,\"attempted\":true,\"reply_code\":220,");
	cr_assert_has(doc, "\"result\":\"upgraded\"");
	cr_assert_has(doc, "\"alerts\":[\"tls_certificate_invalid\",\"tls_cipher_weak\"]");
	cr_assert_lacks(doc, "\"truncated\"");
}

Test(events, the_session_s_fixed_value_fields_are_written_under_their_event_names)
{
	struct session *s = upgraded_session();
	s->close_reason = SESSION_CLOSE_RST;
	s->role_source = SESSION_ROLE_PORT;
	s->direction = SESSION_DIRECTION_OUTBOUND;
	s->partner_attributed = true;
	s->partner_match = SESSION_MATCH_RCPT_DOMAIN;
	s->partner_mode = POLICY_MODE_ENFORCED;
	s->dane_status = SESSION_DANE_MISMATCH;
	session_event_write(&w, s, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc, "\"protocol\":\"smtp\"");
	cr_assert_has(doc, "\"direction\":\"outbound\"");
	cr_assert_has(doc, "\"close_reason\":\"rst\",\"role_source\":\"port\"");
	cr_assert_has(doc, "\"partner\":{\"mode\":\"enforced\",\"match\":\"rcpt_domain\"}");
	cr_assert_has(doc, "\"dane\":{\"status\":\"mismatch\"}");
}

Test(events, a_session_of_no_known_protocol_direction_partner_or_dane_leaves_them_out)
{
	struct session *s = upgraded_session();
	s->protocol = SESSION_PROTOCOL_NONE;
	session_event_write(&w, s, &ctx, T0);
	const char *doc = written();
	cr_assert_lacks(doc, "\"protocol\":\"");
	cr_assert_lacks(doc, "\"direction\"");
	cr_assert_lacks(doc, "\"partner\"");
	cr_assert_lacks(doc, "\"dane\"");
}

Test(events, a_flow_that_is_not_mail_carries_ndpi_s_protocol_name_in_lowercase)
{
	struct session *s = upgraded_session();
	s->protocol = SESSION_PROTOCOL_OTHER;
	s->other_protocol = "HTTP";
	s->smtp = NULL;
	session_event_write(&w, s, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc, "\"network\":{\"transport\":\"tcp\",\"type\":\"ipv4\",\"protocol\":\"http\"");
	cr_assert_lacks(doc, "\"smtp\":");
}

Test(events, an_unvalidated_certificate_has_no_validation_object)
{
	struct session *s = upgraded_session();
	s->certificate.validated = false;
	session_event_write(&w, s, &ctx, T0);
	cr_assert_lacks(written(), "\"validation\"");
}

Test(events, a_session_without_tls_has_no_tls_objects)
{
	struct session *s = upgraded_session();
	s->tls = NULL;
	s->starttls_result = STARTTLS_NOT_OFFERED;
	session_event_write(&w, s, &ctx, T0);
	const char *doc = written();
	cr_assert_lacks(doc, "\"tls\":");
	cr_assert_has(doc, "\"result\":\"not_offered\"");
	cr_assert_has(doc, "\"alerts\":[]");
}

Test(events, a_client_hello_of_150_ciphers_is_cut_at_100_and_the_cut_is_recorded_as_50)
{
	struct session *s = upgraded_session();
	struct tls_observation *t = &fx->t;
	/* The parser kept TLS_MAX_CIPHERS (128) of 150; the writer keeps 100 of those. */
	t->ch.cipher_count = TLS_MAX_CIPHERS;
	t->ch.ciphers_total = 150;
	for (unsigned i = 0; i < TLS_MAX_CIPHERS; i++)
		t->ch.ciphers[i] = (uint16_t)(0xC000 + i);
	session_event_write(&w, s, &ctx, T0);
	const char *doc = written();
	cr_assert_eq(array_length(doc, "\"supported_ciphers\":"), JSON_MAX_ARRAY);
	cr_assert_has(doc, "\"truncated\":{\"strings\":0,\"arrays\":{\"tls.client.supported_ciphers\":50}}");
	/* tlsobs.truncated is the last field of tlsobs, which closes the document. */
	cr_assert_has(doc, "\"tls.client.supported_ciphers\":50}}}}");
	cr_assert_eq(doc[strlen(doc) - 1], '}');
}

/* A ClientHello of a TLS 1.3 suite, a TLS 1.2 one and GREASE (unregistered), written in each
 * events.client_ciphers mode. */
static const char *ciphers_written(enum event_client_ciphers mode)
{
	struct session *s = upgraded_session();
	struct tls_observation *t = &fx->t;
	static const uint16_t offered[] = {0x1301, 0xC02F, 0xFAFA};
	t->ch.cipher_count = 3;
	t->ch.ciphers_total = 3;
	memcpy(t->ch.ciphers, offered, sizeof offered);
	struct event_context c = ctx;
	c.client_ciphers = mode;
	json_writer_reset(&w);
	session_event_write(&w, s, &c, T0);
	return written();
}

Test(events, client_ciphers_names_writes_iana_names_and_hex_for_unregistered_suites)
{
	const char *doc = ciphers_written(EVENT_CLIENT_CIPHERS_NAMES);
	cr_assert_has(doc, "\"supported_ciphers\":[\"TLS_AES_128_GCM_SHA256\","
	                   "\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\",\"0xFAFA\"]");
	cr_assert_has(doc, "\"cipher\":\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"");
}

Test(events, client_ciphers_codes_writes_every_suite_as_hex)
{
	const char *doc = ciphers_written(EVENT_CLIENT_CIPHERS_CODES);
	cr_assert_has(doc, "\"supported_ciphers\":[\"0x1301\",\"0xC02F\",\"0xFAFA\"]");
	/* Only the offered list changes: the chosen suite keeps its name. */
	cr_assert_has(doc, "\"cipher\":\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"");
}

Test(events, client_ciphers_none_leaves_the_field_out_and_keeps_the_rest_of_tls_client)
{
	const char *doc = ciphers_written(EVENT_CLIENT_CIPHERS_NONE);
	cr_assert_lacks(doc, "supported_ciphers");
	cr_assert_has(doc, "\"client\":{\"server_name\":\"mx.example.net\"");
	cr_assert_has(doc, "\"cipher\":\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"");
}

Test(events, client_ciphers_none_records_no_cut_of_a_list_it_does_not_write)
{
	struct session *s = upgraded_session();
	struct tls_observation *t = &fx->t;
	t->ch.cipher_count = TLS_MAX_CIPHERS;
	t->ch.ciphers_total = 150;
	for (unsigned i = 0; i < TLS_MAX_CIPHERS; i++)
		t->ch.ciphers[i] = (uint16_t)(0xC000 + i);
	struct event_context c = ctx;
	c.client_ciphers = EVENT_CLIENT_CIPHERS_NONE;
	session_event_write(&w, s, &c, T0);
	const char *doc = written();
	cr_assert_lacks(doc, "supported_ciphers");
	c.client_ciphers = EVENT_CLIENT_CIPHERS_CODES;
	json_writer_reset(&w);
	session_event_write(&w, s, &c, T0);
	doc = written();
	cr_assert_eq(array_length(doc, "\"supported_ciphers\":"), JSON_MAX_ARRAY);
	cr_assert_has(doc, "\"tls.client.supported_ciphers\":50}");
}

Test(events, hostile_strings_stay_valid_json_and_a_cut_string_is_counted)
{
	json_writer_release(&w);
	json_writer_init(&w, 64);
	struct session *s = upgraded_session();
	/* Quotes, backslashes, control bytes, invalid UTF-8 and a split multi-byte character. */
	snprintf(fx->m.banner, sizeof fx->m.banner, "220 \"mx\"\\ \x01\x1b[31m \xff\xfe \xc3");
	snprintf(s->certificate.leaf.subject, sizeof s->certificate.leaf.subject,
	         "CN=%0200d\xe2\x82\xac\xe2\x82\xac", 7); /* over 64 bytes */
	session_event_write(&w, s, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc, "\"truncated\":{\"strings\":1,\"arrays\":{}}");
	cr_assert_has(doc, "\\\"mx\\\"\\\\ \\u0001\\u001b[31m \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd");
}

/* ---- tlsobs.alert ---- */

Test(events, an_alert_event_is_valid_json_identified_by_its_place_in_the_session)
{
	struct session *s = upgraded_session();
	add_alert(s, RULE_TLS_CERTIFICATE_INVALID, "first");
	struct alert *a =
	    add_alert(s, RULE_TLS_INTERCEPTION_SUSPECTED,
	              "198.51.100.25:25: the certificate changed to one that does not validate");
	alert_add_evidence(a, "was X, issued by Y", 18);
	alert_add_evidence(a, "line \"two\"\r\n", 12);
	snprintf(a->related_session_id, sizeof a->related_session_id, "S3F9K2M7Q0000000000");
	alert_event_write(&w, s, a, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc, "\"@timestamp\":\"2026-01-01T00:00:02.500000Z\"");
	cr_assert_has(doc, "\"event\":{\"kind\":\"alert\",\"category\":[\"network\",\"intrusion_detection\"],"
	                   "\"type\":[\"info\"],\"dataset\":\"tlsobs.alert\",\"id\":\"" SID "-a2\"");
	cr_assert_has(
	    doc, "\"severity\":8,\"reason\":\"198.51.100.25:25: the certificate changed to one that does "
	         "not validate\"");
	cr_assert_has(doc, "\"rule\":{\"name\":\"tls_interception_suspected\",\"id\":\"tlsobs-1011\"");
	cr_assert_has(doc, "\"evidence\":[\"was X, issued by Y\",\"line \\\"two\\\"\\u000d\\u000a\"]");
	cr_assert_has(doc, "\"related_session_id\":\"S3F9K2M7Q0000000000\"");
	cr_assert_has(doc, "\"schema_version\":\"" TLSOBS_SCHEMA_VERSION "\",\"session_id\":\"" SID "\"");
	cr_assert_lacks(doc, "evidence_truncated");
	cr_assert_str_eq(w.doc.id, SID "-a2");
	cr_assert_eq(w.doc.time_us, s->end_us);
}

Test(events, every_event_carries_ecs_version_and_the_named_observer)
{
	struct session *s = upgraded_session();
	session_event_write(&w, s, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc, "\"ecs\":{\"version\":\"" TLSOBS_ECS_VERSION "\"}");
	cr_assert_has(
	    doc, "\"observer\":{\"hostname\":\"sensor-1.example\",\"name\":\"span-a\",\"type\":\"sensor\","
	         "\"vendor\":\"tlsobs\",\"product\":\"tlsobs\"");
	struct event_context unnamed = {"sensor-1.example",        "0.9.0", NULL, NULL, NULL,
	                                EVENT_CLIENT_CIPHERS_NAMES};
	session_event_write(&w, s, &unnamed, T0);
	cr_assert_has(written(), "\"name\":\"sensor-1.example\"");
}

Test(events, related_lists_both_addresses_each_host_once_and_the_chain_hashes)
{
	struct session *s = upgraded_session();
	snprintf(fx->m.helo, sizeof fx->m.helo, "Client.Example.ORG");
	snprintf(fx->m.mail_from_domain, sizeof fx->m.mail_from_domain, "example.org");
	snprintf(fx->m.rcpt_domains[0], SMTP_NAME_MAX, "example.net");
	snprintf(fx->m.rcpt_domains[1], SMTP_NAME_MAX, "example.org");
	fx->m.rcpt_domain_count = 2;
	snprintf(fx->m.caps.raw, sizeof fx->m.caps.raw, "250-mx.example.net\n250 STARTTLS");
	snprintf(s->certificate.leaf.san_dns[s->certificate.leaf.san_count++], X509_FIELD_MAX,
	         "*.mail.example.net");
	session_event_write(&w, s, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc,
	              "\"related\":{\"ip\":[\"203.0.113.7\",\"198.51.100.25\"],"
	              "\"hosts\":[\"mx.example.net\",\"client.example.org\",\"example.org\",\"example.net\","
	              "\"mail.example.net\"],\"hash\":[\"" LEAF_SHA "\",\"" CA_SHA "\"]}");
}

Test(events, an_alert_names_its_ruleset_and_its_runbook)
{
	struct session *s = upgraded_session();
	struct alert *a = add_alert(s, RULE_POLICY_TLS_REQUIRED, "clear text to an enforced partner");
	alert_event_write(&w, s, a, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc, "\"category\":\"mail_tls_downgrade\",\"ruleset\":\"partner_policy\","
	                   "\"reference\":\"https://wiki.example/runbooks/policy_tls_required.md\"}");
	cr_assert_has(doc, "\"related\":{\"ip\":[");
	struct event_context no_runbooks = {"sensor-1.example",        "0.9.0", NULL, "", NULL,
	                                    EVENT_CLIENT_CIPHERS_NAMES};
	alert_event_write(&w, s, a, &no_runbooks, T0);
	cr_assert_lacks(written(), "\"reference\"");
}

Test(events, an_alert_event_flags_cut_evidence_and_omits_an_empty_related_session)
{
	struct session *s = upgraded_session();
	struct alert *a = add_alert(s, RULE_TLS_CIPHER_WEAK, "weak");
	for (unsigned i = 0; i < ALERT_MAX_EVIDENCE + 2; i++)
		alert_add_evidence(a, "line", 4);
	alert_event_write(&w, s, a, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc, "\"id\":\"" SID "-a1\"");
	cr_assert_eq(array_length(doc, "\"evidence\":"), ALERT_MAX_EVIDENCE);
	cr_assert_has(doc, "\"evidence_truncated\":true");
	cr_assert_lacks(doc, "related_session_id");
}

/* ---- tlsobs.certificate ---- */

Test(events, a_certificate_event_lists_its_servers_and_validation)
{
	struct session *s = upgraded_session();
	struct cert_sighting c = {.first_seen_us = T0 + 1000000, .last_seen_us = T0 + 1000000, .sessions = 2};
	c.servers[c.server_count++] = (struct session_endpoint){.ip = v4(198, 51, 100, 25), .port = 25};
	c.servers[c.server_count++] = (struct session_endpoint){.ip = v4(198, 51, 100, 26), .port = 465};
	snprintf(s->certificate.leaf.spki_sha256, sizeof s->certificate.leaf.spki_sha256, "%s", CA_SHA);
	certificate_event_write(&w, s, &c, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc, "\"@timestamp\":\"2026-01-01T00:00:01.000000Z\"");
	cr_assert_has(doc, "\"event\":{\"kind\":\"event\",\"category\":[\"network\"],\"type\":[\"info\"],"
	                   "\"dataset\":\"tlsobs.certificate\",\"id\":\"" SID "-c\"");
	cr_assert_has(doc, "\"tls\":{\"server\":{\"hash\":{\"sha256\":\"" LEAF_SHA "\"");
	cr_assert_has(
	    doc,
	    "\"tlsobs\":{\"schema_version\":\"" TLSOBS_SCHEMA_VERSION "\",\"session_id\":\"" SID
	    "\",\"certificate\":{\"first_seen\":\"2026-01-01T00:00:01.000000Z\","
	    "\"servers\":[{\"ip\":\"198.51.100.25\",\"port\":25},{\"ip\":\"198.51.100.26\",\"port\":465}],"
	    "\"spki_sha256\":\"" CA_SHA "\",\"chain_sha256\":[\"" LEAF_SHA "\",\"" CA_SHA "\"],"
	    "\"validation\":{\"status\":\"expired\",\"name\":\"mx.example.net\",\"name_source\":\"sni\"}}");
	cr_assert_str_eq(w.doc.id, SID "-c");
	cr_assert_eq(w.doc.time_us, c.first_seen_us);
}

Test(events, a_certificate_event_for_an_unparsed_leaf_still_has_its_chain)
{
	struct session *s = upgraded_session();
	s->certificate.parsed = false;
	s->certificate.status = X509_STATUS_UNTRUSTED;
	struct cert_sighting c = {.first_seen_us = T0, .last_seen_us = T0, .sessions = 1};
	c.servers[c.server_count++] = (struct session_endpoint){.ip = v4(198, 51, 100, 25), .port = 25};
	certificate_event_write(&w, s, &c, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc, "\"tls\":{\"server\":{}}");
	cr_assert_lacks(doc, "spki_sha256");
	cr_assert_has(doc, "\"chain_sha256\":[\"" LEAF_SHA "\",\"" CA_SHA "\"]");
	cr_assert_has(doc, "\"validation\":{\"status\":\"untrusted\"");
}

/* ---- tlsobs.stats ---- */

static struct sensor_counters *counters(void)
{
	static struct sensor_counters c;
	memset(&c, 0, sizeof c);
	c.time_us = T0 + 60000000;
	snprintf(c.run_id, sizeof c.run_id, "S3F9K2M7Q0000000000");
	c.seq = 7;
	c.packets = 1234;
	c.bytes = 567890;
	c.flows_created = 12;
	c.alerts[RULE_TLS_CIPHER_WEAK] = 3;
	c.alerts[RULE_TLS_INTERCEPTION_SUSPECTED] = 1;
	c.anomalies[c.anomaly_count++] = (struct stats_named_count){"truncated_ip", 4};
	c.certificates_known = 9;
	c.history_servers_bytes = 1000;
	c.history_pairs_bytes = 200;
	c.history_tls_servers_bytes = 30;
	c.history_certificates_bytes = 4;
	c.history_bytes = 1234;
	c.history_memcap = 67108864;
	c.history_memcap_evicted = 5;
	return &c;
}

Test(events, a_stats_event_is_a_metric_with_its_counters)
{
	struct sensor_counters *c = counters();
	stats_event_write(&w, c, NULL, 0, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc, "\"@timestamp\":\"2026-01-01T00:01:00.000000Z\"");
	cr_assert_has(doc, "\"event\":{\"kind\":\"metric\",\"category\":[\"network\"],\"type\":[\"info\"],"
	                   "\"dataset\":\"tlsobs.stats\",\"id\":\"S3F9K2M7Q0000000000-m7\"");
	cr_assert_has(doc, "\"tlsobs\":{\"schema_version\":\"" TLSOBS_SCHEMA_VERSION
	                   "\",\"stats\":{\"final\":false,"
	                   "\"packets\":1234,\"bytes\":567890,");
	cr_assert_has(doc, "\"decode_anomalies\":{\"truncated_ip\":4}");
	cr_assert_has(doc, "\"created\":12,");
	cr_assert_has(doc, "\"alerts\":{\"tls_cipher_weak\":3,\"tls_interception_suspected\":1}");
	cr_assert_has(doc, "\"certificates_known\":9");
	cr_assert_has(doc,
	              "\"servers_bytes\":1000,\"pairs_bytes\":200,\"tls_servers_bytes\":30,"
	              "\"certificates_bytes\":4,\"bytes\":1234,\"memcap\":67108864,\"memcap_evicted\":5}");
	cr_assert_has(doc, "\"outputs\":[]");
	cr_assert_lacks(doc, "\"capture\"");
	cr_assert_str_eq(w.doc.id, "S3F9K2M7Q0000000000-m7");
}

Test(events, a_final_live_stats_event_has_capture_counters_and_each_output)
{
	struct sensor_counters *c = counters();
	c->final = true;
	c->live = true;
	c->capture_received = 100;
	c->capture_dropped = 2;
	c->capture_if_dropped = 1;
	char err[256] = "";
	struct output *o = output_open("json:/dev/null", NULL, err, sizeof err);
	cr_assert_not_null(o, "%s", err);
	struct output *const outputs[] = {o};
	stats_event_write(&w, c, outputs, 1, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc, "\"final\":true");
	cr_assert_has(doc, "\"capture\":{\"received\":100,\"kernel_dropped\":2,\"interface_dropped\":1}");
	cr_assert_has(doc, "\"outputs\":[{\"spec\":\"json:/dev/null\",\"written\":0,\"failed\":0}]");
	cr_assert_eq(output_close(o, NULL), 0);
}

Test(events, the_writer_is_reset_between_events)
{
	struct session *s = upgraded_session();
	fx->t.ch.cipher_count = TLS_MAX_CIPHERS;
	fx->t.ch.ciphers_total = 150;
	session_event_write(&w, s, &ctx, T0);
	(void)written();
	stats_event_write(&w, counters(), NULL, 0, &ctx, T0);
	const char *doc = written();
	cr_assert_lacks(doc, "\"truncated\"");
	cr_assert_lacks(doc, "tlsobs.session");
	cr_assert_str_eq(w.doc.id, "S3F9K2M7Q0000000000-m7");
}

/* ---- the policy audit trail (tlsobs.policy) ---- */

static struct partner_policy audit_partner(const char *domain, enum policy_mode mode)
{
	struct partner_policy p;
	memset(&p, 0, sizeof p);
	snprintf(p.domain, sizeof p.domain, "%s", domain);
	p.mode = mode;
	return p;
}

Test(events, a_reload_audit_lists_each_partner_change_with_old_and_new_and_the_file)
{
	struct partner_policy before[] = {audit_partner("bank.example", POLICY_MODE_OPPORTUNISTIC),
	                                  audit_partner("gone.example", POLICY_MODE_NONE)};
	struct partner_policy after[] = {audit_partner("bank.example", POLICY_MODE_ENFORCED)};
	after[0].min_tls_version = 0x0304;
	after[0].require_valid_certificate = true;
	after[0].relaxed_until_us = T0;
	cr_assert_eq(ip_network_parse("2001:db8::/32", &after[0].networks[0]), IP_NETWORK_OK);
	after[0].n_networks = 1;
	struct policy old = {.partners = before, .n_partners = 2},
	              next = {.partners = after, .n_partners = 1};
	old.default_mode = POLICY_MODE_OPPORTUNISTIC;
	next.default_mode = POLICY_MODE_ENFORCED;
	struct policy_source src = {"/etc/tlsobs/tlsobs.yaml",
	                            true,
	                            T0,
	                            0,
	                            998,
	                            "root",
	                            "tlsobs",
	                            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"};
	policy_event_write_audit(&w, POLICY_AUDIT_RELOADED, &old, &next, &src, NULL, "SQ0XWE45K0000000000", 2,
	                         &ctx, T0 + 1000000);
	const char *doc = written();
	cr_assert_has(doc,
	              "\"event\":{\"kind\":\"event\",\"category\":[\"configuration\"],\"type\":[\"change\"],"
	              "\"dataset\":\"tlsobs.policy\",\"id\":\"SQ0XWE45K0000000000-p2\"");
	cr_assert_has(doc, "\"action\":\"policy_reloaded\",\"outcome\":\"success\"}");
	cr_assert_has(doc, "\"file\":{\"path\":\"/etc/tlsobs/tlsobs.yaml\",\"hash\":{\"sha256\":\"9f86d081");
	cr_assert_has(doc, "\"mtime\":\"2026-01-01T00:00:00.000000Z\",\"owner\":\"root\",\"uid\":\"0\","
	                   "\"group\":\"tlsobs\",\"gid\":\"998\"}");
	cr_assert_has(
	    doc, "\"default_mode\":\"enforced\",\"previous_default_mode\":\"opportunistic\",\"partners\":1,"
	         "\"partners_added\":0,\"partners_removed\":1,\"partners_changed\":1");
	cr_assert_has(
	    doc,
	    "{\"domain\":\"bank.example\",\"change\":\"changed\",\"old\":{\"mode\":\"opportunistic\","
	    "\"require_valid_certificate\":false,\"pin_spki_sha256\":[],\"mx\":[],\"networks\":[]},"
	    "\"new\":{\"mode\":\"enforced\",\"min_tls_version\":\"1.3\",\"require_valid_certificate\":true,"
	    "\"pin_spki_sha256\":[],\"relaxed_until\":\"2026-01-01T00:00:00.000000Z\",\"mx\":[],"
	    "\"networks\":[\"2001:db8::/32\"]}}");
	cr_assert_has(doc, "{\"domain\":\"gone.example\",\"change\":\"removed\",\"old\":{\"mode\":\"none\"");
	cr_assert_has(
	    doc, "\"reason\":\"policy reloaded from /etc/tlsobs/tlsobs.yaml: 0 partners added, 1 removed, 1 "
	         "changed\"");
	cr_assert_eq(w.doc.time_us, T0 + 1000000);
}

Test(events, a_failed_reload_is_an_audit_event_with_the_reason_and_no_changes)
{
	struct partner_policy running[] = {audit_partner("bank.example", POLICY_MODE_ENFORCED)};
	struct policy p = {.partners = running, .n_partners = 1};
	struct policy_source src = {.path = "/etc/tlsobs/tlsobs.yaml", .sha256 = ""};
	policy_event_write_audit(&w, POLICY_AUDIT_RELOAD_FAILED, &p, &p, &src,
	                         "/etc/tlsobs/tlsobs.yaml:7: policy.partners[1].mode: expected enforced",
	                         "SQ0XWE45K0000000000", 3, &ctx, T0);
	const char *doc = written();
	cr_assert_has(doc, "\"action\":\"reload_failed\",\"outcome\":\"failure\"}");
	cr_assert_has(doc, "\"file\":{\"path\":\"/etc/tlsobs/tlsobs.yaml\"}");
	cr_assert_lacks(doc, "\"changes\"");
	cr_assert_has(doc,
	              "\"reason\":\"reloading /etc/tlsobs/tlsobs.yaml failed, the running policy is kept: "
	              "/etc/tlsobs/tlsobs.yaml:7: policy.partners[1].mode: expected enforced\"");
}

Test(events, a_policy_of_many_partners_lists_100_changes_and_counts_the_rest)
{
	static struct partner_policy many[150];
	for (int i = 0; i < 150; i++) {
		char d[32];
		snprintf(d, sizeof d, "p%d.example", i);
		many[i] = audit_partner(d, POLICY_MODE_OPPORTUNISTIC);
	}
	struct policy p = {.partners = many, .n_partners = 150};
	policy_event_write_audit(&w, POLICY_AUDIT_LOADED, NULL, &p, NULL, NULL, "SQ0XWE45K0000000000", 1,
	                         &ctx, T0);
	const char *doc = written();
	unsigned listed = 0;
	for (const char *at = doc; (at = strstr(at, "\"change\":\"added\"")) != NULL; at++)
		listed++;
	cr_assert_eq(listed, 100);
	cr_assert_has(doc, "\"partners_added\":150");
	cr_assert_has(doc, "\"tlsobs.policy.changes\":50");
	cr_assert_lacks(doc, "\"file\"");
}

Test(events, related_hosts_hold_every_distinct_name_even_at_the_parsers_caps)
{
	struct session *s = upgraded_session();
	fx->m.rcpt_domain_count = SMTP_MAX_RCPT_DOMAINS;
	for (unsigned i = 0; i < SMTP_MAX_RCPT_DOMAINS; i++)
		snprintf(fx->m.rcpt_domains[i], SMTP_NAME_MAX, "r%u.example", i);
	s->certificate.leaf.san_count = X509_MAX_SANS;
	for (unsigned i = 0; i < X509_MAX_SANS; i++)
		snprintf(s->certificate.leaf.san_dns[i], X509_FIELD_MAX, "san%u.example", i);
	/* mx.example.net (SNI, banner), the recipients, the SANs: the cap is above what the parsers keep */
	unsigned distinct = 1 + SMTP_MAX_RCPT_DOMAINS + X509_MAX_SANS;
	cr_assert_leq(distinct, EVENT_RELATED_MAX_HOSTS);
	session_event_write(&w, s, &ctx, T0);
	const char *doc = written();
	cr_assert_eq(array_length(doc, "\"hosts\":"), distinct);
	cr_assert_has(doc, "\"r15.example\",\"san0.example\"");
	cr_assert_lacks(doc, "related.hosts");
}

Test(events, event_ids_are_the_base_a_dash_the_kind_and_the_sequence_cut_as_snprintf_would)
{
	char id[EVENT_ID_LEN], want[EVENT_ID_LEN];
	event_id_make(id, "S4R38AR170000000001", 's', 99);
	cr_expect_str_eq(id, "S4R38AR170000000001-s");
	event_id_make(id, "S4R38AR170000000001", 'c', 7);
	cr_expect_str_eq(id, "S4R38AR170000000001-c");
	event_id_make(id, "S4R38AR170000000001", 'a', 0);
	cr_expect_str_eq(id, "S4R38AR170000000001-a0");
	event_id_make(id, "R1", 'm', UINT64_MAX);
	cr_expect_str_eq(id, "R1-m18446744073709551615");
	/* A base as long as the buffer or longer: cut where snprintf cuts. */
	char base[EVENT_ID_LEN + 8];
	for (size_t n = EVENT_ID_LEN - 24; n < sizeof base; n++) {
		memset(base, 'B', n);
		base[n] = '\0';
		event_id_make(id, base, 'a', 123456789);
		char full[sizeof base + 16];
		snprintf(full, sizeof full, "%s-a123456789", base);
		memcpy(want, full, EVENT_ID_LEN - 1); /* what snprintf keeps of it */
		want[EVENT_ID_LEN - 1] = '\0';
		cr_expect_str_eq(id, want, "base of %zu", n);
	}
}
