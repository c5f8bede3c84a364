/*
 * test_tls_inspect.c: what a finished handshake says about the server.
 *
 * Two kinds of input. Real handshakes (tests/fixtures/tls/fixture-starttls-
 * tls12-0.tls and -tls13-0.tls, chunks of a direction byte and up to 127 bytes,
 * from the starttls-tls12/-tls13 captures) go through the TLS parser; their
 * JA3/JA3S and leaf fingerprints are the values tshark gives (test_tls.c). The
 * other certificates of tests/fixtures/certs (expired, self-signed, wrong name)
 * are put into a hand-built observation, as the parser would have copied them.
 * Validation is against the fixture CA at fixed packet times, never "now".
 */
#include "sensor/app/tls_inspect.h"
#include "sensor/app/cert_cache.h"
#include "sensor/app/issuer_cache.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#define SEC 1000000ull
/* 2030-01-01: every fixture certificate but expired.crt is valid (2026-11-28 .. 2036-11-25) */
#define T_2030 (1893456000ull * SEC)
/* 2037-01-01: after them all */
#define T_2037 (2114380800ull * SEC)
/* 2020-06-01: before the CA and every leaf but expired.crt were valid */
#define T_2020_06 (1590969600ull * SEC)

#define LEAF_SHA256 "F3CC4AB02CB4149C124951F33BDDCDB29FC952685800BD893D424584987B8552"

static struct tls_inspector *inspector(void)
{
	char err[256] = "";
	struct tls_inspector *ti = tls_inspector_new(test_source_path("tests/fixtures/certs/ca.crt"),
	                                             CERT_CACHE_DEFAULT_ENTRIES, err, sizeof err);
	cr_assert_not_null(ti, "inspector: %s", err);
	return ti;
}

/* Feeds a .tls transcript to a new parser, each chunk as an exact-size heap copy. */
static struct tls_parser *handshake(const char *name)
{
	char rel[256];
	snprintf(rel, sizeof rel, "tests/fixtures/tls/%s", name);
	size_t len = 0;
	uint8_t *raw = test_read_file(test_source_path(rel), &len);
	cr_assert_not_null(raw, "%s unreadable (TLSOBS_SOURCE_DIR set?)", rel);
	struct tls_parser *p = tls_parser_new();
	cr_assert_not_null(p);
	for (size_t off = 0; off < len;) {
		enum tls_dir dir = raw[off] & 0x80 ? TLS_FROM_SERVER : TLS_FROM_CLIENT;
		size_t n = raw[off] & 0x7f;
		off++;
		cr_assert(n > 0 && n <= len - off, "%s: bad chunk at %zu", name, off);
		uint8_t *piece = malloc(n);
		cr_assert_not_null(piece);
		memcpy(piece, raw + off, n);
		tls_parser_feed(p, dir, piece, n);
		free(piece);
		off += n;
	}
	free(raw);
	return p;
}

/* A fixture certificate (PEM) as the DER bytes a Certificate message carries; malloc'd. */
static uint8_t *cert_der(const char *name, size_t *len)
{
	char rel[256];
	snprintf(rel, sizeof rel, "tests/fixtures/certs/%s", name);
	FILE *f = fopen(test_source_path(rel), "r");
	cr_assert_not_null(f, "%s unreadable", rel);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert_not_null(x, "%s: not PEM", rel);
	int n = i2d_X509(x, NULL);
	cr_assert_gt(n, 0);
	uint8_t *der = malloc((size_t)n), *p = der;
	cr_assert_not_null(der);
	cr_assert_eq(i2d_X509(x, &p), n);
	X509_free(x);
	*len = (size_t)n;
	return der;
}

/* A TLS 1.2 handshake that showed one certificate in clear, with the client's SNI. */
struct hand_built {
	struct tls_observation t;
	uint8_t *der;
};

static void hand_built(struct hand_built *h, const char *cert, const char *sni)
{
	memset(h, 0, sizeof *h);
	struct tls_observation *t = &h->t;
	t->outcome = TLS_OUTCOME_ESTABLISHED;
	t->client_hello_seen = t->server_hello_seen = true;
	t->client_version = t->version = 0x0303;
	t->cipher = 0xc02f;
	snprintf(t->ch.sni, sizeof t->ch.sni, "%s", sni);
	if (cert) {
		h->der = cert_der(cert, &t->cert_len[0]);
		t->cert_der[0] = h->der;
		t->cert_count = 1;
		t->certificate_visible = true;
	}
}

static struct session *session_at(const struct tls_observation *t, uint64_t start_us)
{
	struct session *s = calloc(1, sizeof *s);
	cr_assert_not_null(s);
	s->tls = t;
	s->start_us = start_us;
	s->end_us = start_us + 2 * SEC;
	return s;
}

/* The status a hand-built handshake with this certificate and SNI gets at this time. */
static enum x509_status status_of(const char *cert, const char *sni, uint64_t at)
{
	struct tls_inspector *ti = inspector();
	struct hand_built h;
	hand_built(&h, cert, sni);
	struct session *s = session_at(&h.t, at);
	tls_inspect_session(ti, s);
	cr_assert(s->certificate.validated);
	cr_assert(s->certificate.parsed);
	cr_assert_eq(s->certificate.chain_count, 1);
	enum x509_status st = s->certificate.status;
	free(s);
	free(h.der);
	tls_inspector_free(ti);
	return st;
}

Test(tls_inspect, a_tls12_chain_from_the_trusted_ca_is_ok_inside_its_validity_with_its_fingerprints)
{
	struct tls_inspector *ti = inspector();
	struct tls_parser *p = handshake("fixture-starttls-tls12-0.tls");
	struct session *s = session_at(tls_parser_observation(p), T_2030);
	tls_inspect_session(ti, s);

	const struct session_certificate *c = &s->certificate;
	cr_expect(c->validated);
	cr_expect_eq(c->status, X509_STATUS_OK, "status %s", x509_status_str(c->status));
	cr_expect(c->parsed);
	cr_expect_str_eq(c->leaf.subject_cn, "mx1.example.net");
	cr_expect_str_eq(c->name, "mx1.example.net");
	cr_expect_eq(c->name_source, SESSION_NAME_SNI);
	cr_expect_eq(c->chain_count, 2);
	cr_expect_str_eq(c->chain_sha256[0], LEAF_SHA256);
	cr_expect_str_neq(c->chain_sha256[1], LEAF_SHA256);
	cr_expect_str_eq(s->fingerprints.ja3, "871a754af286dfb70c1b53c6887c62e0");
	cr_expect_str_eq(s->fingerprints.ja3s, "ec74a5c51106f0419184d0dd08fb05bc");
	cr_expect_eq(strncmp(s->fingerprints.ja3s_string, "771,49200,", 10), 0, "%s",
	             s->fingerprints.ja3s_string);
	cr_expect_eq(strlen(s->fingerprints.ja4), TLS_JA4_LEN);
	free(s);
	tls_parser_free(p);
	tls_inspector_free(ti);
}

Test(tls_inspect, the_same_chain_seen_after_the_leaf_ran_out_is_expired)
{
	struct tls_inspector *ti = inspector();
	struct tls_parser *p = handshake("fixture-starttls-tls12-0.tls");
	struct session *s = session_at(tls_parser_observation(p), T_2037);
	tls_inspect_session(ti, s);
	cr_expect(s->certificate.validated);
	cr_expect_eq(s->certificate.status, X509_STATUS_EXPIRED, "status %s",
	             x509_status_str(s->certificate.status));
	free(s);
	tls_parser_free(p);
	tls_inspector_free(ti);
}

Test(tls_inspect, the_validity_is_judged_at_the_packet_time_of_the_session)
{
	cr_expect_eq(status_of("expired.crt", "mx1.example.net", T_2030), X509_STATUS_EXPIRED);
	cr_expect_eq(status_of("mx1.example.net.crt", "mx1.example.net", T_2030), X509_STATUS_OK);
	cr_expect_eq(status_of("mx1.example.net.crt", "mx1.example.net", T_2037), X509_STATUS_EXPIRED);
	cr_expect_eq(status_of("mx1.example.net.crt", "mx1.example.net", T_2020_06),
	             X509_STATUS_NOT_YET_VALID);
}

Test(tls_inspect, a_self_signed_leaf_is_self_signed)
{
	cr_expect_eq(status_of("self-signed.crt", "mx1.example.net", T_2030), X509_STATUS_SELF_SIGNED);
}

Test(tls_inspect, a_trusted_leaf_for_another_name_than_the_sni_is_a_host_mismatch)
{
	cr_expect_eq(status_of("wrong-name.crt", "mx1.example.net", T_2030), X509_STATUS_HOST_MISMATCH);
	cr_expect_eq(status_of("wrong-name.crt", "wrong.example.com", T_2030), X509_STATUS_OK);
	cr_expect_eq(status_of("mx1.example.net.crt", "mx2.example.net", T_2030), X509_STATUS_HOST_MISMATCH);
}

Test(tls_inspect, without_sni_the_name_comes_from_the_banner_then_the_ehlo_greeting)
{
	struct tls_inspector *ti = inspector();
	struct hand_built h;
	hand_built(&h, "wrong-name.crt", "");
	struct smtp_observation *m = calloc(1, sizeof *m);
	cr_assert_not_null(m);
	snprintf(m->banner, sizeof m->banner, "220 wrong.example.com ESMTP Postfix");
	snprintf(m->caps.raw, sizeof m->caps.raw, "250-mx1.example.net\n250 STARTTLS");

	struct session *s = session_at(&h.t, T_2030);
	s->smtp = m;
	tls_inspect_session(ti, s);
	cr_expect_str_eq(s->certificate.name, "wrong.example.com");
	cr_expect_eq(s->certificate.name_source, SESSION_NAME_BANNER);
	cr_expect_eq(s->certificate.status, X509_STATUS_OK);
	free(s);

	m->banner[0] = '\0';
	s = session_at(&h.t, T_2030);
	s->smtp = m;
	tls_inspect_session(ti, s);
	cr_expect_str_eq(s->certificate.name, "mx1.example.net");
	cr_expect_eq(s->certificate.name_source, SESSION_NAME_EHLO_GREETING);
	cr_expect_eq(s->certificate.status, X509_STATUS_HOST_MISMATCH);
	free(s);

	free(m);
	free(h.der);
	tls_inspector_free(ti);
}

Test(tls_inspect, with_no_name_known_the_name_check_is_skipped)
{
	struct tls_inspector *ti = inspector();
	struct hand_built h;
	hand_built(&h, "wrong-name.crt", "");
	struct session *s = session_at(&h.t, T_2030);
	tls_inspect_session(ti, s);
	cr_expect_str_eq(s->certificate.name, "");
	cr_expect_eq(s->certificate.name_source, SESSION_NAME_NONE);
	cr_expect_eq(s->certificate.status, X509_STATUS_OK);
	free(s);
	free(h.der);
	tls_inspector_free(ti);
}

Test(tls_inspect, tls13_shows_no_certificate_and_says_so)
{
	struct tls_inspector *ti = inspector();
	struct tls_parser *p = handshake("fixture-starttls-tls13-0.tls");
	cr_assert_eq(tls_parser_observation(p)->version, 0x0304);
	struct session *s = session_at(tls_parser_observation(p), T_2030);
	tls_inspect_session(ti, s);
	cr_expect(s->certificate.validated);
	cr_expect_eq(s->certificate.status, X509_STATUS_NOT_VISIBLE);
	cr_expect_not(s->certificate.parsed);
	cr_expect_eq(s->certificate.chain_count, 0);
	cr_expect_eq(s->certificate.name_source, SESSION_NAME_SNI);
	cr_expect_str_eq(s->fingerprints.ja3, "f146948b4a599d4d7ddf071b74696983");
	cr_expect_str_eq(s->fingerprints.ja3s, "15af977ce25de452b96affa2addb1036");
	free(s);
	tls_parser_free(p);
	tls_inspector_free(ti);
}

Test(tls_inspect, a_tls13_draft_version_shows_no_certificate_either)
{
	struct tls_inspector *ti = inspector();
	const uint16_t drafts[] = {0x7f12, 0x7f17, 0x7f1c};
	for (size_t i = 0; i < sizeof drafts / sizeof drafts[0]; i++) {
		struct hand_built h;
		hand_built(&h, NULL, "mx1.example.net");
		h.t.version = drafts[i];
		struct session *s = session_at(&h.t, T_2030);
		tls_inspect_session(ti, s);
		cr_expect(s->certificate.validated, "version 0x%04x", drafts[i]);
		cr_expect_eq(s->certificate.status, X509_STATUS_NOT_VISIBLE, "version 0x%04x", drafts[i]);
		free(s);
	}
	tls_inspector_free(ti);
}

Test(tls_inspect, a_resumed_tls12_session_shows_no_certificate_and_says_so)
{
	struct tls_inspector *ti = inspector();
	struct hand_built h;
	hand_built(&h, NULL, "mx1.example.net");
	h.t.resumed = true;
	struct session *s = session_at(&h.t, T_2030);
	tls_inspect_session(ti, s);
	cr_expect(s->certificate.validated);
	cr_expect_eq(s->certificate.status, X509_STATUS_NOT_VISIBLE);
	free(s);
	tls_inspector_free(ti);
}

Test(tls_inspect, a_full_tls12_handshake_without_a_certificate_is_not_judged)
{
	struct tls_inspector *ti = inspector();
	struct hand_built h;
	hand_built(&h, NULL, "mx1.example.net");
	struct session *s = session_at(&h.t, T_2030);
	tls_inspect_session(ti, s);
	cr_expect_not(s->certificate.validated);
	cr_expect_not(s->certificate.parsed);
	cr_expect_eq(s->certificate.chain_count, 0);
	cr_expect_str_eq(s->certificate.name, "mx1.example.net");
	free(s);
	tls_inspector_free(ti);
}

Test(tls_inspect, a_client_hello_alone_gives_the_client_fingerprints_and_nothing_of_the_server)
{
	struct tls_inspector *ti = inspector();
	struct tls_parser *p = handshake("fixture-starttls-tls12-0.tls");
	struct tls_observation t = *tls_parser_observation(p);
	t.server_hello_seen = false;
	struct session *s = session_at(&t, T_2030);
	tls_inspect_session(ti, s);
	cr_expect_str_eq(s->fingerprints.ja3, "871a754af286dfb70c1b53c6887c62e0");
	cr_expect_str_eq(s->fingerprints.ja3s, "");
	cr_expect_not(s->certificate.validated);
	cr_expect_str_eq(s->certificate.name, "");
	free(s);
	tls_parser_free(p);
	tls_inspector_free(ti);
}

Test(tls_inspect, a_session_without_tls_is_left_untouched)
{
	struct tls_inspector *ti = inspector();
	struct session *s = session_at(NULL, T_2030);
	struct session before = *s;
	tls_inspect_session(ti, s);
	cr_expect_eq(memcmp(&before, s, sizeof before), 0);
	free(s);
	tls_inspector_free(ti);
}

Test(tls_inspect, a_ca_bundle_that_cannot_be_read_is_refused_with_a_reason)
{
	char err[256] = "";
	cr_expect_null(tls_inspector_new("/nonexistent/ca.crt", 0, err, sizeof err));
	cr_expect_neq(err[0], '\0');
	tls_inspector_free(NULL);
}

Test(tls_inspect, every_certificate_of_the_chain_is_fingerprinted_leaf_first)
{
	struct tls_inspector *ti = inspector();
	struct hand_built h;
	hand_built(&h, "ecdsa.crt", "mx1.example.net");
	uint8_t *ca = cert_der("ca.crt", &h.t.cert_len[1]);
	h.t.cert_der[1] = ca;
	h.t.cert_count = 2;
	struct session *s = session_at(&h.t, T_2030);
	tls_inspect_session(ti, s);
	cr_expect_eq(s->certificate.status, X509_STATUS_OK);
	cr_expect_eq(s->certificate.chain_count, 2);
	cr_expect_str_eq(s->certificate.chain_sha256[0],
	                 "2EEAF9C26F4C6C80423AB7D889880B69AE57624E678EB789118424B8AF290BDC");
	cr_expect_str_eq(s->certificate.chain_sha256[1],
	                 "79926E7B0FE500113B48273DBB96F6D9CD8F259AC8D60979C7AD11410B675FBF");
	cr_expect_str_eq(s->certificate.leaf.sha256, s->certificate.chain_sha256[0]);
	cr_expect_str_eq(s->certificate.leaf.public_key_algorithm, "EC");
	free(s);
	free(ca);
	free(h.der);
	tls_inspector_free(ti);
}

/* The status one session showing this hand-built handshake gets at `at`, from an inspector kept across calls.
 */
static enum x509_status status_with(struct tls_inspector *ti, const struct hand_built *h, uint64_t at)
{
	struct session *s = session_at(&h->t, at);
	tls_inspect_session(ti, s);
	cr_assert(s->certificate.validated);
	cr_assert(s->certificate.parsed);
	cr_expect_str_eq(s->certificate.leaf.subject_cn, "mx1.example.net");
	enum x509_status st = s->certificate.status;
	free(s);
	return st;
}

static struct cert_cache_stats cache_stats(struct tls_inspector *ti)
{
	struct cert_cache_stats cs;
	tls_inspector_cache_stats(ti, &cs);
	return cs;
}

Test(tls_inspect, a_chain_cached_as_ok_is_expired_later_and_not_yet_valid_earlier)
{
	struct tls_inspector *ti = inspector();
	struct hand_built h;
	hand_built(&h, "mx1.example.net.crt", "mx1.example.net");
	cr_expect_eq(status_with(ti, &h, T_2030), X509_STATUS_OK);
	cr_expect_eq(status_with(ti, &h, T_2030 + 3600 * SEC), X509_STATUS_OK); /* a hit */
	struct cert_cache_stats cs = cache_stats(ti);
	cr_expect_eq(cs.misses, 1);
	cr_expect_eq(cs.hits, 1);
	cr_expect_eq(cs.entries, 1);
	/* Hits both, but outside the window the ok does not hold: validated again at the packet time. */
	cr_expect_eq(status_with(ti, &h, T_2037), X509_STATUS_EXPIRED);
	cr_expect_eq(status_with(ti, &h, T_2020_06), X509_STATUS_NOT_YET_VALID);
	cr_expect_eq(status_with(ti, &h, T_2030), X509_STATUS_OK);
	cr_expect_eq(cache_stats(ti).hits, 4);
	free(h.der);
	tls_inspector_free(ti);
}

Test(tls_inspect, a_chain_first_seen_expired_is_ok_for_a_later_session_inside_its_validity)
{
	struct tls_inspector *ti = inspector();
	struct hand_built h;
	hand_built(&h, "mx1.example.net.crt", "mx1.example.net");
	cr_expect_eq(status_with(ti, &h, T_2037), X509_STATUS_EXPIRED);
	cr_expect_eq(status_with(ti, &h, T_2037), X509_STATUS_EXPIRED);
	cr_expect_eq(status_with(ti, &h, T_2030), X509_STATUS_OK);
	cr_expect_eq(status_with(ti, &h, T_2037), X509_STATUS_EXPIRED);
	cr_expect_eq(status_with(ti, &h, T_2030), X509_STATUS_OK);
	free(h.der);
	tls_inspector_free(ti);
}

Test(tls_inspect, the_cached_answer_is_per_expected_name)
{
	struct tls_inspector *ti = inspector();
	struct hand_built ok, other;
	hand_built(&ok, "mx1.example.net.crt", "mx1.example.net");
	hand_built(&other, "mx1.example.net.crt", "mx2.example.net");
	cr_expect_eq(status_with(ti, &ok, T_2030), X509_STATUS_OK);
	cr_expect_eq(status_with(ti, &other, T_2030), X509_STATUS_HOST_MISMATCH);
	cr_expect_eq(status_with(ti, &ok, T_2030), X509_STATUS_OK);
	cr_expect_eq(status_with(ti, &other, T_2030), X509_STATUS_HOST_MISMATCH);
	struct cert_cache_stats cs = cache_stats(ti);
	cr_expect_eq(cs.entries, 2);
	cr_expect_eq(cs.hits, 2);
	free(ok.der);
	free(other.der);
	tls_inspector_free(ti);
}

Test(tls_inspect, a_cached_session_reports_what_an_uncached_one_does)
{
	struct tls_inspector *cached = inspector();
	char err[256] = "";
	struct tls_inspector *plain =
	    tls_inspector_new(test_source_path("tests/fixtures/certs/ca.crt"), 0, err, sizeof err);
	cr_assert_not_null(plain, "%s", err);
	struct tls_parser *p = handshake("fixture-starttls-tls12-0.tls");
	struct session *first = session_at(tls_parser_observation(p), T_2030);
	tls_inspect_session(cached, first);
	for (int i = 0; i < 2; i++) {
		struct session *a = session_at(tls_parser_observation(p), T_2030 + SEC);
		struct session *b = session_at(tls_parser_observation(p), T_2030 + SEC);
		tls_inspect_session(cached, a);
		tls_inspect_session(plain, b);
		cr_expect_eq(memcmp(&a->certificate, &b->certificate, sizeof a->certificate), 0);
		cr_expect_eq(a->certificate.chain_count, 2);
		free(a);
		free(b);
	}
	cr_expect_eq(cache_stats(cached).hits, 2);
	cr_expect_eq(cache_stats(plain).entries, 0);
	free(first);
	tls_parser_free(p);
	tls_inspector_free(plain);
	tls_inspector_free(cached);
}

Test(tls_inspect, clearing_the_cache_validates_again)
{
	struct tls_inspector *ti = inspector();
	struct hand_built h;
	hand_built(&h, "mx1.example.net.crt", "mx1.example.net");
	cr_expect_eq(status_with(ti, &h, T_2030), X509_STATUS_OK);
	tls_inspector_clear_cache(ti);
	cr_expect_eq(cache_stats(ti).entries, 0);
	cr_expect_eq(status_with(ti, &h, T_2030), X509_STATUS_OK);
	struct cert_cache_stats cs = cache_stats(ti);
	cr_expect_eq(cs.misses, 2);
	cr_expect_eq(cs.hits, 0);
	free(h.der);
	tls_inspector_free(ti);
}

/* x509_chain_validate's span: the whole validity inside it, from the last notAfter once expired. */
Test(tls_inspect, the_span_a_status_holds_for_is_the_validity_or_what_follows_it)
{
	char err[256] = "";
	struct x509_validator *v =
	    x509_validator_new(test_source_path("tests/fixtures/certs/ca.crt"), err, sizeof err);
	cr_assert_not_null(v, "%s", err);
	size_t len = 0;
	uint8_t *der = cert_der("mx1.example.net.crt", &len);
	const uint8_t *chain[1] = {der};
	struct x509_chain *c = x509_chain_new(chain, &len, 1);
	cr_assert_not_null(c);
	struct x509_info leaf;
	cr_assert_eq(x509_chain_parse_leaf(c, &leaf), 0);

	struct x509_window w;
	cr_expect_eq(x509_chain_validate(v, c, "mx1.example.net", T_2030 / SEC, &w), X509_STATUS_OK);
	cr_expect(w.known);
	cr_expect_geq(w.from, leaf.not_before);
	cr_expect_leq(w.until, leaf.not_after);
	cr_expect(x509_window_contains(&w, T_2030 / SEC));
	cr_expect_not(x509_window_contains(&w, T_2037 / SEC));
	cr_expect_not(x509_window_contains(&w, T_2020_06 / SEC));
	cr_expect_not(x509_window_contains(&w, leaf.not_after)); /* expired from that second on */

	cr_expect_eq(x509_chain_validate(v, c, "mx1.example.net", T_2037 / SEC, &w), X509_STATUS_EXPIRED);
	cr_expect(w.known);
	cr_expect_geq(w.from, leaf.not_after);
	cr_expect(x509_window_contains(&w, T_2037 / SEC));
	cr_expect_not(x509_window_contains(&w, T_2030 / SEC));

	cr_expect_eq(x509_chain_validate(v, c, "mx1.example.net", T_2020_06 / SEC, &w),
	             X509_STATUS_NOT_YET_VALID);
	cr_expect(x509_window_contains(&w, T_2020_06 / SEC));
	cr_expect_not(x509_window_contains(&w, T_2030 / SEC));
	cr_expect_leq(w.until, leaf.not_before);

	x509_chain_free(c);
	free(der);
	x509_validator_free(v);
}

/* One session showing `leaf` with the fixture CA as its second certificate, at `at`. */
static enum x509_status status_under_ca(struct tls_inspector *ti, const char *leaf, const char *sni,
                                        uint64_t at)
{
	struct hand_built h;
	hand_built(&h, leaf, sni);
	uint8_t *ca = cert_der("ca.crt", &h.t.cert_len[1]);
	h.t.cert_der[1] = ca;
	h.t.cert_count = 2;
	struct session *s = session_at(&h.t, at);
	tls_inspect_session(ti, s);
	cr_assert(s->certificate.validated);
	enum x509_status st = s->certificate.status;
	free(s);
	free(ca);
	free(h.der);
	return st;
}

Test(tls_inspect, a_known_intermediate_is_decoded_once_and_judged_as_a_new_one_would_be)
{
	struct tls_inspector *ti = inspector();
	struct issuer_cache_stats st;
	cr_expect_eq(status_under_ca(ti, "ecdsa.crt", "mx1.example.net", T_2030), X509_STATUS_OK);
	tls_inspector_issuer_stats(ti, &st);
	cr_expect_eq(st.misses, 1);
	cr_expect_eq(st.entries, 1);
	cr_expect_gt(st.bytes, 4096);
	/* New leaves under the same CA: the CA comes decoded from the cache, each verdict as without it. */
	const struct {
		const char *leaf, *sni;
		uint64_t at;
		enum x509_status want;
	} cases[] = {
	    {"mx1.example.net.crt", "mx1.example.net", T_2030, X509_STATUS_OK},
	    {"wrong-name.crt", "mx1.example.net", T_2030, X509_STATUS_HOST_MISMATCH},
	    {"expired.crt", "mx1.example.net", T_2030, X509_STATUS_EXPIRED},
	    {"mx1.example.net.crt", "mx1.example.net", T_2037, X509_STATUS_EXPIRED},
	    {"mx1.example.net.crt", "mx1.example.net", T_2020_06, X509_STATUS_NOT_YET_VALID},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cr_expect_eq(status_under_ca(ti, cases[i].leaf, cases[i].sni, cases[i].at), cases[i].want,
		             "%s", cases[i].leaf);
		struct tls_inspector *fresh = inspector();
		cr_expect_eq(status_under_ca(fresh, cases[i].leaf, cases[i].sni, cases[i].at), cases[i].want);
		tls_inspector_free(fresh);
	}
	tls_inspector_issuer_stats(ti, &st);
	cr_expect_geq(st.hits, 3, "hits %" PRIu64, st.hits);
	cr_expect_eq(st.entries, 1);
	/* A policy reload empties the chain cache, not the decoded intermediates: the bytes decode the same.
	 */
	tls_inspector_clear_cache(ti);
	tls_inspector_issuer_stats(ti, &st);
	cr_expect_eq(st.entries, 1);
	tls_inspector_free(ti);
}
