/*
 * test_tls_rules.c: what a session's TLS handshake means, alone and against
 * what the same server showed before (tls_interception_suspected).
 *
 * Every session starts as a clean, established TLS 1.2 handshake with a
 * ECDHE-RSA AES-GCM suite and a certificate that validated, between a client
 * (203.0.113.7) and a mail server (198.51.100.25:25), and changes only what the
 * case is about. Times are in seconds of packet time.
 */
#include "rules/tls_rules.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(sec) ((uint64_t)(sec)*1000000ull)

enum {
	CIPHER_ECDHE_RSA_AES128_GCM = 0xC02F,
	CIPHER_ECDHE_RSA_AES128_CBC = 0xC013,
	CIPHER_RSA_AES128_CBC = 0x002F,
	CIPHER_RSA_NULL_SHA = 0x0002,
	CIPHER_RSA_EXPORT_RC4_40_MD5 = 0x0003,
	CIPHER_RSA_RC4_128_SHA = 0x0005,
	CIPHER_RSA_3DES_EDE_CBC_SHA = 0x000A,
	CIPHER_DH_ANON_AES128_CBC_SHA = 0x0034,
	CIPHER_TLS13_AES128_GCM = 0x1301,
	EXT_ENCRYPT_THEN_MAC = 22,
	EXT_RENEGOTIATION_INFO = 0xff01,
};

#define GOOD_SHA "1111111111111111111111111111111111111111111111111111111111111111"
#define NEW_GOOD_SHA "2222222222222222222222222222222222222222222222222222222222222222"
#define BAD_SHA "BADBADBADBADBADBADBADBADBADBADBADBADBADBADBADBADBADBADBADBADBADB"
#define GOOD_ISSUER "CN=Good CA,O=Good Trust"
#define BAD_ISSUER "CN=Corporate Inspection CA,O=Middlebox Inc"
#define SUBJECT "CN=mx.example.net"
#define JA3_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define JA3_B "abababababababababababababababab"
#define JA3S_1 "11111111111111111111111111111111"
#define JA3S_2 "22222222222222222222222222222222"

struct scenario {
	struct session s;
	struct tls_observation t;
};

enum { MAX_SCENARIOS = 16 };

static struct tls_rules *rules;
static struct scenario *made[MAX_SCENARIOS];
static unsigned made_count;

static void setup(void)
{
	rules = tls_rules_new(64, S(3600));
	cr_assert_not_null(rules);
}

static void teardown(void)
{
	tls_rules_free(rules);
	for (unsigned i = 0; i < made_count; i++)
		free(made[i]);
	made_count = 0;
}

TestSuite(tls_rules, .init = setup, .fini = teardown);

static struct ip_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct ip_addr ip = {.family = 4, .bytes = {a, b, c, d}};
	return ip;
}

static void set_certificate(struct session *s, const char *sha256, const char *issuer,
                            enum x509_status status)
{
	struct session_certificate *c = &s->certificate;
	c->parsed = true;
	snprintf(c->leaf.sha256, sizeof c->leaf.sha256, "%s", sha256);
	snprintf(c->leaf.subject, sizeof c->leaf.subject, "%s", SUBJECT);
	snprintf(c->leaf.issuer, sizeof c->leaf.issuer, "%s", issuer);
	snprintf(c->chain_sha256[0], sizeof c->chain_sha256[0], "%s", sha256);
	c->chain_count = 1;
	c->validated = true;
	c->status = status;
	snprintf(c->name, sizeof c->name, "mx.example.net");
	c->name_source = SESSION_NAME_SNI;
}

/* Session number n, from second `at` to at + 1, with the server 198.51.100.<server_octet>. */
static struct session *session_at(unsigned n, uint8_t server_octet, uint64_t at)
{
	cr_assert_lt(made_count, MAX_SCENARIOS);
	struct scenario *sc = calloc(1, sizeof *sc);
	cr_assert_not_null(sc);
	made[made_count++] = sc;
	struct session *s = &sc->s;
	struct tls_observation *t = &sc->t;
	snprintf(s->id, sizeof s->id, "S%018u", n);
	s->client.ip = v4(203, 0, 113, 7);
	s->client.port = 40000 + (uint16_t)n;
	s->server.ip = v4(198, 51, 100, server_octet);
	s->server.port = 25;
	s->start_us = S(at);
	s->end_us = S(at + 1);
	t->outcome = TLS_OUTCOME_ESTABLISHED;
	t->client_hello_seen = true;
	/* A modern client: offers TLS 1.3 and 1.2. */
	t->ch.version = 0x0303;
	t->ch.supported_versions[t->ch.supported_version_count++] = 0x0304;
	t->ch.supported_versions[t->ch.supported_version_count++] = 0x0303;
	t->server_hello_seen = true;
	t->version = 0x0303;
	t->cipher = CIPHER_ECDHE_RSA_AES128_GCM;
	t->sh.extensions[t->sh.extension_count++] = EXT_RENEGOTIATION_INFO;
	t->certificate_visible = true;
	s->tls = t;
	set_certificate(s, GOOD_SHA, GOOD_ISSUER, X509_STATUS_OK);
	snprintf(s->fingerprints.ja3, sizeof s->fingerprints.ja3, "%s", JA3_A);
	snprintf(s->fingerprints.ja3s, sizeof s->fingerprints.ja3s, "%s", JA3S_1);
	return s;
}

static struct session *session(unsigned n, uint64_t at)
{
	return session_at(n, 25, at);
}

/* The writable observation behind s->tls (every session here is made by session_at). */
static struct tls_observation *tls(struct session *s)
{
	return &((struct scenario *)s)->t;
}

static const struct alert *find(const struct session *s, enum rule_code code)
{
	for (unsigned i = 0; i < s->alerts.count; i++)
		if (s->alerts.items[i].rule->code == code)
			return &s->alerts.items[i];
	return NULL;
}

static unsigned count(const struct session *s, enum rule_code code)
{
	unsigned n = 0;
	for (unsigned i = 0; i < s->alerts.count; i++)
		n += s->alerts.items[i].rule->code == code;
	return n;
}

static bool has_evidence(const struct alert *a, const char *line)
{
	for (unsigned i = 0; i < a->evidence_count; i++)
		if (strcmp(a->evidence[i], line) == 0)
			return true;
	return false;
}

static bool evidence_contains(const struct alert *a, const char *part)
{
	for (unsigned i = 0; i < a->evidence_count; i++)
		if (strstr(a->evidence[i], part))
			return true;
	return false;
}

static const struct alert *evaluate_expecting(struct session *s, enum rule_code code)
{
	tls_rules_evaluate(rules, s);
	const struct alert *a = find(s, code);
	cr_assert_not_null(a, "expected %s, got %u alert(s)", rule_info(code)->name, s->alerts.count);
	cr_assert_eq(count(s, code), 1, "one %s per session", rule_info(code)->name);
	cr_assert_neq(a->reason[0], '\0');
	cr_assert_gt(a->evidence_count, 0);
	return a;
}

static void evaluate_expecting_none(struct session *s)
{
	tls_rules_evaluate(rules, s);
	cr_assert_eq(s->alerts.count, 0, "expected no alert, got %s: %s",
	             s->alerts.count ? s->alerts.items[0].rule->name : "",
	             s->alerts.count ? s->alerts.items[0].reason : "");
}

/* ---- a clean handshake ---- */

Test(tls_rules, a_clean_tls12_handshake_raises_nothing)
{
	evaluate_expecting_none(session(1, 0));
}

Test(tls_rules, a_session_without_a_server_hello_is_not_judged)
{
	struct session *s = session(1, 0);
	tls(s)->server_hello_seen = false;
	tls(s)->version = 0x0300;
	tls(s)->cipher = CIPHER_RSA_RC4_128_SHA;
	s->certificate.status = X509_STATUS_EXPIRED;
	evaluate_expecting_none(s);
	s->tls = NULL;
	evaluate_expecting_none(s);
}

/* ---- tls_version_obsolete ---- */

static void expect_obsolete(uint16_t version, const char *words)
{
	struct session *s = session(1, 0);
	tls(s)->version = version;
	const struct alert *a = evaluate_expecting(s, RULE_TLS_VERSION_OBSOLETE);
	cr_assert_eq(a->severity, rule_info(RULE_TLS_VERSION_OBSOLETE)->severity);
	cr_assert(strstr(a->reason, words), "reason \"%s\" should name %s", a->reason, words);
	cr_assert(strstr(a->reason, "198.51.100.25:25"), "reason \"%s\" should name the server", a->reason);
	char line[64];
	snprintf(line, sizeof line, "ServerHello version 0x%04X", version);
	cr_assert(has_evidence(a, line), "evidence should hold \"%s\"", line);
}

Test(tls_rules, sslv3_is_obsolete)
{
	expect_obsolete(0x0300, "SSL 3.0");
}

Test(tls_rules, tls10_is_obsolete)
{
	expect_obsolete(0x0301, "TLS 1.0");
}

Test(tls_rules, tls11_is_obsolete)
{
	expect_obsolete(0x0302, "TLS 1.1");
}

Test(tls_rules, tls12_and_tls13_are_not_obsolete)
{
	struct session *s12 = session(1, 0);
	tls_rules_evaluate(rules, s12);
	cr_assert_null(find(s12, RULE_TLS_VERSION_OBSOLETE));
	struct session *s13 = session_at(2, 26, 0);
	tls(s13)->version = 0x0304;
	tls(s13)->cipher = CIPHER_TLS13_AES128_GCM;
	tls_rules_evaluate(rules, s13);
	cr_assert_null(find(s13, RULE_TLS_VERSION_OBSOLETE));
}

/* ---- tls_cipher_weak ---- */

static void expect_weak(uint16_t cipher, const char *name)
{
	struct session *s = session(1, 0);
	tls(s)->cipher = cipher;
	const struct alert *a = evaluate_expecting(s, RULE_TLS_CIPHER_WEAK);
	cr_assert_eq(a->severity, 6, "%s: severity %d", name, a->severity);
	cr_assert(strstr(a->reason, name), "reason \"%s\" should name %s", a->reason, name);
	cr_assert(strstr(a->reason, "weak cipher suite"), "reason \"%s\"", a->reason);
	char code[16];
	snprintf(code, sizeof code, "0x%04X", cipher);
	cr_assert(evidence_contains(a, code), "evidence should carry the code %s", code);
}

Test(tls_rules, rc4_is_a_weak_cipher_at_full_severity)
{
	expect_weak(CIPHER_RSA_RC4_128_SHA, "RC4");
}

Test(tls_rules, triple_des_is_a_weak_cipher_at_full_severity)
{
	expect_weak(CIPHER_RSA_3DES_EDE_CBC_SHA, "3DES");
}

Test(tls_rules, null_encryption_is_a_weak_cipher_at_full_severity)
{
	expect_weak(CIPHER_RSA_NULL_SHA, "NULL");
}

Test(tls_rules, export_suites_are_weak_ciphers_at_full_severity)
{
	expect_weak(CIPHER_RSA_EXPORT_RC4_40_MD5, "EXPORT");
}

Test(tls_rules, anonymous_key_exchange_is_weak_at_full_severity_even_when_also_cbc)
{
	expect_weak(CIPHER_DH_ANON_AES128_CBC_SHA, "anon");
}

Test(tls_rules, a_cbc_suite_without_encrypt_then_mac_is_weak_at_lower_severity)
{
	struct session *s = session(1, 0);
	tls(s)->cipher = CIPHER_ECDHE_RSA_AES128_CBC;
	const struct alert *a = evaluate_expecting(s, RULE_TLS_CIPHER_WEAK);
	cr_assert_eq(a->severity, 3);
	cr_assert(strstr(a->reason, "without encrypt-then-MAC"), "reason \"%s\"", a->reason);
	cr_assert(strstr(a->reason, "CBC"), "reason \"%s\"", a->reason);
}

Test(tls_rules, a_cbc_suite_with_encrypt_then_mac_chosen_by_the_server_is_not_weak)
{
	struct session *s = session(1, 0);
	tls(s)->cipher = CIPHER_RSA_AES128_CBC;
	tls(s)->sh.extensions[tls(s)->sh.extension_count++] = EXT_ENCRYPT_THEN_MAC;
	evaluate_expecting_none(s);
}

Test(tls_rules, encrypt_then_mac_offered_only_by_the_client_does_not_count)
{
	struct session *s = session(1, 0);
	tls(s)->cipher = CIPHER_RSA_AES128_CBC;
	tls(s)->ch.encrypt_then_mac = true;
	tls(s)->ch.extensions[tls(s)->ch.extension_count++] = EXT_ENCRYPT_THEN_MAC;
	const struct alert *a = evaluate_expecting(s, RULE_TLS_CIPHER_WEAK);
	cr_assert_eq(a->severity, 3);
}

Test(tls_rules, gcm_and_tls13_suites_are_not_weak)
{
	evaluate_expecting_none(session(1, 0)); /* ECDHE-RSA-AES128-GCM */
	struct session *s13 = session_at(2, 26, 0);
	tls(s13)->version = 0x0304;
	tls(s13)->cipher = CIPHER_TLS13_AES128_GCM;
	s13->certificate.status = X509_STATUS_NOT_VISIBLE;
	evaluate_expecting_none(s13);
}

/* ---- tls_certificate_invalid ---- */

static void expect_invalid(enum x509_status status, const char *word)
{
	struct session *s = session(1, 0);
	set_certificate(s, BAD_SHA, BAD_ISSUER, status);
	const struct alert *a = evaluate_expecting(s, RULE_TLS_CERTIFICATE_INVALID);
	cr_assert(strstr(a->reason, word), "reason \"%s\" should say %s", a->reason, word);
	cr_assert(has_evidence(a, "subject: " SUBJECT));
	cr_assert(has_evidence(a, "issuer: " BAD_ISSUER));
	cr_assert(has_evidence(a, "sha256: " BAD_SHA));
	cr_assert(has_evidence(a, "expected name: mx.example.net (from sni)"));
}

Test(tls_rules, an_expired_certificate_is_invalid)
{
	expect_invalid(X509_STATUS_EXPIRED, "expired");
}

Test(tls_rules, a_self_signed_certificate_is_invalid)
{
	expect_invalid(X509_STATUS_SELF_SIGNED, "self_signed");
}

Test(tls_rules, an_untrusted_certificate_is_invalid)
{
	expect_invalid(X509_STATUS_UNTRUSTED, "untrusted");
}

Test(tls_rules, a_certificate_for_another_host_is_invalid)
{
	expect_invalid(X509_STATUS_HOST_MISMATCH, "host_mismatch");
}

Test(tls_rules, a_certificate_not_yet_valid_is_invalid)
{
	expect_invalid(X509_STATUS_NOT_YET_VALID, "not_yet_valid");
}

Test(tls_rules, an_unparsed_certificate_without_a_name_has_only_its_hash_as_evidence)
{
	struct session *s = session(1, 0);
	set_certificate(s, BAD_SHA, BAD_ISSUER, X509_STATUS_UNTRUSTED);
	s->certificate.parsed = false;
	s->certificate.name[0] = '\0';
	s->certificate.name_source = SESSION_NAME_NONE;
	const struct alert *a = evaluate_expecting(s, RULE_TLS_CERTIFICATE_INVALID);
	cr_assert_eq(a->evidence_count, 1);
	cr_assert_str_eq(a->evidence[0], "sha256: " BAD_SHA);
}

Test(tls_rules, a_valid_an_invisible_or_an_unvalidated_certificate_is_not_invalid)
{
	evaluate_expecting_none(session(1, 0)); /* ok */
	struct session *hidden = session_at(2, 26, 0);
	hidden->certificate.status = X509_STATUS_NOT_VISIBLE;
	evaluate_expecting_none(hidden);
	struct session *unchecked = session_at(3, 27, 0);
	unchecked->certificate.validated = false;
	unchecked->certificate.status = X509_STATUS_EXPIRED; /* never looked at while not validated */
	evaluate_expecting_none(unchecked);
}

/* ---- tls_interception_suspected ---- */

Test(tls_rules, the_first_session_with_a_server_is_never_interception)
{
	struct session *s = session(1, 0);
	set_certificate(s, BAD_SHA, BAD_ISSUER, X509_STATUS_UNTRUSTED);
	tls(s)->version = 0x0301;
	tls_rules_evaluate(rules, s);
	cr_assert_not_null(find(s, RULE_TLS_CERTIFICATE_INVALID));
	cr_assert_null(find(s, RULE_TLS_INTERCEPTION_SUSPECTED));
}

Test(tls_rules, a_certificate_and_issuer_replaced_by_ones_that_do_not_validate_is_interception)
{
	struct session *before = session(1, 0);
	evaluate_expecting_none(before);
	struct session *now = session(2, 60);
	set_certificate(now, BAD_SHA, BAD_ISSUER, X509_STATUS_UNTRUSTED);
	const struct alert *a = evaluate_expecting(now, RULE_TLS_INTERCEPTION_SUSPECTED);
	cr_assert_str_eq(a->related_session_id, before->id);
	cr_assert(strstr(a->reason, "the certificate and its issuer changed"), "reason \"%s\"", a->reason);
	cr_assert(strstr(a->reason, "198.51.100.25:25"), "reason \"%s\"", a->reason);
	cr_assert(has_evidence(a, "was " GOOD_SHA ", issued by " GOOD_ISSUER));
	char earlier[64];
	snprintf(earlier, sizeof earlier, "earlier session %s", before->id);
	cr_assert(has_evidence(a, earlier));
	cr_assert(has_evidence(a, "sha256: " BAD_SHA));
	cr_assert(has_evidence(a, "issuer: " BAD_ISSUER));
	cr_assert_not_null(find(now, RULE_TLS_CERTIFICATE_INVALID), "the certificate rule fires too");
}

Test(tls_rules, a_certificate_replaced_under_the_same_issuer_says_the_issuer_did_not_change)
{
	evaluate_expecting_none(session(1, 0));
	struct session *now = session(2, 60);
	set_certificate(now, BAD_SHA, GOOD_ISSUER, X509_STATUS_HOST_MISMATCH);
	const struct alert *a = evaluate_expecting(now, RULE_TLS_INTERCEPTION_SUSPECTED);
	cr_assert(strstr(a->reason, "the certificate changed to one that does not validate"), "reason \"%s\"",
	          a->reason);
	cr_assert_null(strstr(a->reason, "issuer"), "reason \"%s\"", a->reason);
}

Test(tls_rules, a_new_certificate_that_validates_is_a_rotation_not_interception)
{
	evaluate_expecting_none(session(1, 0));
	struct session *rotated = session(2, 60);
	set_certificate(rotated, NEW_GOOD_SHA, "CN=Other Good CA", X509_STATUS_OK);
	evaluate_expecting_none(rotated);
}

Test(tls_rules, the_same_certificate_again_is_not_interception_even_when_it_no_longer_validates)
{
	evaluate_expecting_none(session(1, 0));
	struct session *again = session(2, 60);
	set_certificate(again, GOOD_SHA, GOOD_ISSUER, X509_STATUS_EXPIRED); /* it expired meanwhile */
	tls_rules_evaluate(rules, again);
	cr_assert_not_null(find(again, RULE_TLS_CERTIFICATE_INVALID));
	cr_assert_null(find(again, RULE_TLS_INTERCEPTION_SUSPECTED));
}

Test(tls_rules, after_a_rotation_the_new_certificate_is_what_the_server_normally_shows)
{
	evaluate_expecting_none(session(1, 0));
	struct session *rotated = session(2, 60);
	set_certificate(rotated, NEW_GOOD_SHA, GOOD_ISSUER, X509_STATUS_OK);
	evaluate_expecting_none(rotated);
	struct session *now = session(3, 120);
	set_certificate(now, BAD_SHA, BAD_ISSUER, X509_STATUS_SELF_SIGNED);
	const struct alert *a = evaluate_expecting(now, RULE_TLS_INTERCEPTION_SUSPECTED);
	cr_assert(has_evidence(a, "was " NEW_GOOD_SHA ", issued by " GOOD_ISSUER));
	cr_assert_str_eq(a->related_session_id, rotated->id);
}

Test(tls_rules, the_alert_names_the_session_that_showed_the_valid_certificate_not_a_later_one)
{
	struct session *valid = session(1, 0);
	evaluate_expecting_none(valid);
	/* A later TLS 1.3 session shows no certificate: it teaches nothing about the certificate. */
	struct session *hidden = session(2, 60);
	tls(hidden)->version = 0x0304;
	tls(hidden)->cipher = CIPHER_TLS13_AES128_GCM;
	tls(hidden)->certificate_visible = false;
	memset(&hidden->certificate, 0, sizeof hidden->certificate);
	hidden->certificate.validated = true;
	hidden->certificate.status = X509_STATUS_NOT_VISIBLE;
	hidden->fingerprints.ja3[0] = '\0';
	evaluate_expecting_none(hidden);
	struct session *now = session(3, 120); /* TLS 1.2: the certificate is in clear */
	set_certificate(now, BAD_SHA, BAD_ISSUER, X509_STATUS_UNTRUSTED);
	const struct alert *a = evaluate_expecting(now, RULE_TLS_INTERCEPTION_SUSPECTED);
	cr_assert_str_eq(a->related_session_id, valid->id, "the certificate was compared with %s's",
	                 valid->id);
}

Test(tls_rules, a_second_intercepted_session_still_points_at_the_last_valid_certificate)
{
	struct session *valid = session(1, 0);
	evaluate_expecting_none(valid);
	struct session *first = session(2, 60);
	set_certificate(first, BAD_SHA, BAD_ISSUER, X509_STATUS_UNTRUSTED);
	evaluate_expecting(first, RULE_TLS_INTERCEPTION_SUSPECTED);
	struct session *second = session(3, 120);
	set_certificate(second, BAD_SHA, BAD_ISSUER, X509_STATUS_UNTRUSTED);
	const struct alert *a = evaluate_expecting(second, RULE_TLS_INTERCEPTION_SUSPECTED);
	cr_assert(has_evidence(a, "was " GOOD_SHA ", issued by " GOOD_ISSUER));
	cr_assert_str_eq(a->related_session_id, valid->id,
	                 "the session that showed " GOOD_SHA " is %s, not %s", valid->id,
	                 a->related_session_id);
}

Test(tls_rules, a_version_below_what_the_server_negotiated_before_is_interception)
{
	struct session *before = session(1, 0);
	tls(before)->version = 0x0304;
	tls(before)->cipher = CIPHER_TLS13_AES128_GCM;
	before->certificate.status = X509_STATUS_NOT_VISIBLE;
	evaluate_expecting_none(before);
	struct session *now = session(2, 60);
	const struct alert *a = evaluate_expecting(now, RULE_TLS_INTERCEPTION_SUSPECTED);
	cr_assert(strstr(a->reason, "version fell below"), "reason \"%s\"", a->reason);
	cr_assert(has_evidence(a, "TLS 1.2 now, TLS 1.3 before"));
	cr_assert_str_eq(a->related_session_id, before->id);
}

Test(tls_rules, an_older_client_that_only_offers_less_than_before_is_not_interception)
{
	struct session *before = session(1, 0);
	tls(before)->version = 0x0304;
	tls(before)->cipher = CIPHER_TLS13_AES128_GCM;
	before->certificate.status = X509_STATUS_NOT_VISIBLE;
	evaluate_expecting_none(before);
	struct session *old_client = session(2, 60);
	tls(old_client)->ch.supported_version_count = 0; /* a TLS 1.2-only client: no supported_versions */
	evaluate_expecting_none(old_client);
}

Test(tls_rules, the_same_or_a_higher_version_than_before_is_not_interception)
{
	evaluate_expecting_none(session(1, 0));
	evaluate_expecting_none(session(2, 60));
	struct session *up = session(3, 120);
	tls(up)->version = 0x0304;
	tls(up)->cipher = CIPHER_TLS13_AES128_GCM;
	up->certificate.status = X509_STATUS_NOT_VISIBLE;
	evaluate_expecting_none(up);
}

Test(tls_rules, the_same_client_software_getting_another_server_answer_is_interception)
{
	struct session *before = session(1, 0);
	evaluate_expecting_none(before);
	struct session *now = session(2, 60);
	snprintf(now->fingerprints.ja3s, sizeof now->fingerprints.ja3s, "%s", JA3S_2);
	const struct alert *a = evaluate_expecting(now, RULE_TLS_INTERCEPTION_SUSPECTED);
	cr_assert(strstr(a->reason, "another server answer"), "reason \"%s\"", a->reason);
	cr_assert(has_evidence(a, "JA3 " JA3_A " got JA3S " JA3S_1 " before, " JA3S_2 " now"));
	cr_assert_str_eq(a->related_session_id, before->id);
}

Test(tls_rules, the_alert_names_the_last_session_where_that_client_software_got_the_old_answer)
{
	evaluate_expecting_none(session(1, 0));
	struct session *last_same = session(2, 60);
	evaluate_expecting_none(last_same);
	struct session *other =
	    session(3, 120); /* other client software, and the latest certificate and version */
	snprintf(other->fingerprints.ja3, sizeof other->fingerprints.ja3, "%s", JA3_B);
	snprintf(other->fingerprints.ja3s, sizeof other->fingerprints.ja3s, "%s", JA3S_2);
	evaluate_expecting_none(other);
	struct session *now = session(4, 180);
	snprintf(now->fingerprints.ja3s, sizeof now->fingerprints.ja3s, "%s", JA3S_2);
	const struct alert *a = evaluate_expecting(now, RULE_TLS_INTERCEPTION_SUSPECTED);
	cr_assert_str_eq(a->related_session_id, last_same->id);
}

Test(tls_rules, other_client_software_may_get_another_server_answer)
{
	evaluate_expecting_none(session(1, 0));
	struct session *other = session(2, 60);
	snprintf(other->fingerprints.ja3, sizeof other->fingerprints.ja3, "%s", JA3_B);
	snprintf(other->fingerprints.ja3s, sizeof other->fingerprints.ja3s, "%s", JA3S_2);
	evaluate_expecting_none(other);
}

Test(tls_rules, a_resumed_session_answering_with_another_ja3s_is_not_interception)
{
	evaluate_expecting_none(session(1, 0));
	struct session *resumed = session(2, 60);
	tls(resumed)->resumed = true;
	resumed->certificate.status = X509_STATUS_NOT_VISIBLE;
	snprintf(resumed->fingerprints.ja3s, sizeof resumed->fingerprints.ja3s, "%s", JA3S_2);
	evaluate_expecting_none(resumed);
	/* Nor is its answer remembered: the full handshake's answer still holds. */
	struct session *full = session(3, 120);
	evaluate_expecting_none(full);
}

Test(tls_rules, the_answer_to_a_resumed_handshake_is_not_learned_for_its_client_software)
{
	struct session *resumed = session(1, 0);
	tls(resumed)->resumed = true;
	resumed->certificate.status = X509_STATUS_NOT_VISIBLE;
	snprintf(resumed->fingerprints.ja3s, sizeof resumed->fingerprints.ja3s, "%s", JA3S_2);
	evaluate_expecting_none(resumed);
	/* The first full handshake of that client software answers differently, as full handshakes do. */
	evaluate_expecting_none(session(2, 60));
}

Test(tls_rules, a_failed_handshake_is_not_remembered_as_what_the_server_normally_does)
{
	struct session *failed = session(1, 0);
	tls(failed)->outcome = TLS_OUTCOME_ALERT;
	tls(failed)->version = 0x0304;
	tls(failed)->cipher = CIPHER_TLS13_AES128_GCM;
	snprintf(failed->fingerprints.ja3s, sizeof failed->fingerprints.ja3s, "%s", JA3S_2);
	evaluate_expecting_none(failed);
	/* Neither its version nor its answer are held against the next session. */
	struct session *next = session(2, 60);
	evaluate_expecting_none(next);
}

Test(tls_rules, a_failed_handshake_with_a_replaced_certificate_is_still_judged_against_history)
{
	evaluate_expecting_none(session(1, 0));
	struct session *failed = session(2, 60);
	tls(failed)->outcome = TLS_OUTCOME_ALERT; /* the client refused the middlebox's certificate */
	set_certificate(failed, BAD_SHA, BAD_ISSUER, X509_STATUS_UNTRUSTED);
	evaluate_expecting(failed, RULE_TLS_INTERCEPTION_SUSPECTED);
}

Test(tls_rules, history_is_per_server_address)
{
	struct session *a = session_at(1, 25, 0);
	tls(a)->version = 0x0304;
	tls(a)->cipher = CIPHER_TLS13_AES128_GCM;
	a->certificate.status = X509_STATUS_NOT_VISIBLE;
	evaluate_expecting_none(a);
	evaluate_expecting_none(session_at(2, 26, 60)); /* TLS 1.2 at another server */
}

/* History of three servers: the 1st, then 2nd and 3rd; the 4th pushes out the least recently seen. */
static void teach_tls13(unsigned n, uint8_t server_octet, uint64_t at)
{
	struct session *s = session_at(n, server_octet, at);
	tls(s)->version = 0x0304;
	tls(s)->cipher = CIPHER_TLS13_AES128_GCM;
	s->certificate.status = X509_STATUS_NOT_VISIBLE;
	evaluate_expecting_none(s);
}

Test(tls_rules, history_is_bounded_and_forgets_the_least_recently_seen_server_first)
{
	tls_rules_free(rules);
	rules = tls_rules_new(3, 0);
	cr_assert_not_null(rules);
	teach_tls13(1, 1, 0);
	teach_tls13(2, 2, 10);
	teach_tls13(3, 3, 20);
	teach_tls13(4, 4, 30); /* server 1 is forgotten */
	/* Server 2 is still remembered: the bound, not the rule, makes the difference. */
	evaluate_expecting(session_at(5, 2, 40), RULE_TLS_INTERCEPTION_SUSPECTED);
	evaluate_expecting_none(session_at(6, 1, 50));
}

Test(tls_rules, history_expires_after_the_ttl_in_packet_time)
{
	tls_rules_free(rules);
	rules = tls_rules_new(64, S(100));
	cr_assert_not_null(rules);
	teach_tls13(1, 1, 0); /* ends at 1 s */
	teach_tls13(2, 2, 0);
	/* 101 s after the first server's session ended: still within the TTL. */
	evaluate_expecting(session_at(3, 1, 100), RULE_TLS_INTERCEPTION_SUSPECTED);
	/* More than 100 s after the second server's session ended: forgotten. */
	evaluate_expecting_none(session_at(4, 2, 101));
}
