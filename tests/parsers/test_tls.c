/*
 * test_tls.c: the TLS handshake parser, driven by real handshakes and by
 * handshakes built here byte by byte.
 *
 * The files tests/fixtures/tls/NAME.tls hold the TLS bytes of both directions of one TCP
 * stream, in capture order, written by tests/parsers/extract_tls.py from the
 * fixture captures and the public corpus: chunks of a header byte (high bit:
 * from the server; low 7 bits: length) and that many bytes. Consecutive
 * chunks of one direction are joined back into one step, so "whole" feeds
 * each direction's bytes as the capture delivered them between turns.
 *
 * Expected values come from tshark 4.0 on the same packets:
 *   tshark -r CAPTURE -Y 'tcp.stream==N && tls.handshake' -T fields -E separator='|' \
 *     -e tls.handshake.type -e tls.handshake.version -e tls.handshake.extensions_server_name \
 *     -e tls.handshake.ja3_full -e tls.handshake.ja3 -e tls.handshake.ja3s_full -e tls.handshake.ja3s \
 *     -e tls.handshake.ciphersuite -e tls.handshake.certificate
 * (`extract_tls.py --expect` prints exactly that), the certificate column
 * hashed with sha256sum.
 */
#include "parsers/digest.h"
#include "parsers/tls.h"
#include "parsers/tls_ciphers.h"
#include "parsers/tls_fingerprint.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- transcripts: the chunk files, and feeding them ---- */

struct step {
	enum tls_dir dir;
	const uint8_t *bytes;
	size_t len;
};

struct transcript {
	uint8_t *data; /* the joined bytes, steps point into it */
	struct step steps[512];
	size_t n;
	size_t total;
};

enum cut { CUT_WHOLE, CUT_BYTES, CUT_RANDOM };

static struct transcript *load(const char *name)
{
	char rel[256];
	snprintf(rel, sizeof rel, "tests/fixtures/tls/%s", name);
	size_t len = 0;
	uint8_t *raw = test_read_file(test_source_path(rel), &len);
	cr_assert_not_null(raw, "cannot read %s", rel);
	struct transcript *t = calloc(1, sizeof *t);
	cr_assert_not_null(t);
	t->data = malloc(len ? len : 1);
	cr_assert_not_null(t->data);
	size_t off = 0;
	while (off < len) {
		enum tls_dir dir = raw[off] & 0x80 ? TLS_FROM_SERVER : TLS_FROM_CLIENT;
		size_t n = raw[off] & 0x7f;
		off++;
		cr_assert(n > 0 && n <= len - off, "%s: bad chunk at %zu", name, off);
		if (t->n == 0 || t->steps[t->n - 1].dir != dir) {
			cr_assert_lt(t->n, sizeof t->steps / sizeof t->steps[0]);
			t->steps[t->n++] = (struct step){dir, t->data + t->total, 0};
		}
		memcpy(t->data + t->total, raw + off, n);
		t->steps[t->n - 1].len += n;
		t->total += n;
		off += n;
	}
	free(raw);
	return t;
}

static void unload(struct transcript *t)
{
	free(t->data);
	free(t);
}

/* Feeds an exact-size heap copy, so ASan sees any read past what was given. */
static void feed_piece(struct tls_parser *p, enum tls_dir dir, const uint8_t *b, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	cr_assert_not_null(copy);
	memcpy(copy, b, n);
	tls_parser_feed(p, dir, copy, n);
	free(copy);
}

/* Feeds the first `limit` bytes of a transcript, cut as asked. */
static struct tls_parser *run_prefix(const struct transcript *t, enum cut cut, uint64_t seed, size_t limit)
{
	struct tls_parser *p = tls_parser_new();
	cr_assert_not_null(p);
	uint64_t rng = seed;
	for (size_t i = 0; i < t->n && limit > 0; i++) {
		size_t len = t->steps[i].len < limit ? t->steps[i].len : limit;
		for (size_t off = 0; off < len;) {
			size_t n = len - off;
			if (cut == CUT_BYTES)
				n = 1;
			else if (cut == CUT_RANDOM)
				n = 1 + (size_t)(test_rand(&rng) % (n < 700 ? n : 700));
			feed_piece(p, t->steps[i].dir, t->steps[i].bytes + off, n);
			off += n;
		}
		limit -= len;
	}
	return p;
}

static struct tls_parser *run(const struct transcript *t)
{
	return run_prefix(t, CUT_WHOLE, 0, SIZE_MAX);
}

static struct tls_parser *run_file(const char *name)
{
	struct transcript *t = load(name);
	struct tls_parser *p = run(t);
	unload(t);
	return p;
}

/* ---- a canonical text of an observation, to compare two of them ---- */

struct dump {
	char buf[65536];
	size_t len;
};

static void put(struct dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct dump *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(d->buf + d->len, sizeof d->buf - d->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		d->len += (size_t)n < sizeof d->buf - d->len ? (size_t)n : sizeof d->buf - d->len - 1;
}

static void put_u16s(struct dump *d, const char *what, const uint16_t *v, unsigned n)
{
	put(d, "%s:", what);
	for (unsigned i = 0; i < n; i++)
		put(d, " %04x", v[i]);
	put(d, "\n");
}

static void put_bytes(struct dump *d, const char *what, const uint8_t *v, size_t n)
{
	put(d, "%s:", what);
	for (size_t i = 0; i < n; i++)
		put(d, "%02x", v[i]);
	put(d, "\n");
}

static void describe_client_hello(struct dump *d, const struct tls_client_hello *ch)
{
	put(d, "ch version %04x ciphers %u/%u ext %u/%u sni %d '%s' alpn %u/%u grease %d trunc %d\n",
	    ch->version, ch->cipher_count, ch->ciphers_total, ch->extension_count, ch->extensions_total,
	    ch->sni_present, ch->sni, ch->alpn_count, ch->alpn_total, ch->has_grease, ch->truncated);
	put_bytes(d, "session", ch->session_id, ch->session_id_len);
	put_u16s(d, "ciphers", ch->ciphers, ch->cipher_count);
	put_bytes(d, "compression", ch->compression, ch->compression_count);
	put_u16s(d, "extensions", ch->extensions, ch->extension_count);
	for (unsigned i = 0; i < ch->alpn_count; i++)
		put(d, "alpn '%s' %u\n", ch->alpn[i], ch->alpn_len[i]);
	put_u16s(d, "versions", ch->supported_versions, ch->supported_version_count);
	put_u16s(d, "groups", ch->groups, ch->group_count);
	put_bytes(d, "point formats", ch->point_formats, ch->point_format_count);
	put_u16s(d, "sigalgs", ch->signature_algorithms, ch->signature_algorithm_count);
	put_u16s(d, "key shares", ch->key_share_groups, ch->key_share_count);
	put(d, "ticket %d psk %d ems %d etm %d reneg %d sslv2 specs %u\n", ch->session_ticket,
	    ch->pre_shared_key, ch->extended_master_secret, ch->encrypt_then_mac, ch->renegotiation_info,
	    ch->sslv2_spec_count);
	for (unsigned i = 0; i < ch->sslv2_spec_count; i++)
		put(d, " %06x", (unsigned)ch->sslv2_specs[i]);
	put(d, "\n");
}

static void describe(struct dump *d, const struct tls_observation *o)
{
	d->len = 0;
	d->buf[0] = '\0';
	put(d, "outcome %s ch %d sh %d sslv2 %d client %04x version %04x cipher %04x hrr %d ccs %d%d\n",
	    tls_outcome_str(o->outcome), o->client_hello_seen, o->server_hello_seen, o->sslv2_client_hello,
	    o->client_version, o->version, o->cipher, o->hello_retry_request, o->change_cipher_spec[0],
	    o->change_cipher_spec[1]);
	put(d, "alert %d %u %u from %d records %llu %llu anomalies %llu\n", o->alert_seen, o->alert_level,
	    o->alert_description, o->alert_from, (unsigned long long)o->records[0],
	    (unsigned long long)o->records[1], (unsigned long long)o->anomalies);
	for (int a = 0; a < TLS_ANOMALY_COUNT; a++)
		put(d, " %s=%llu", tls_anomaly_str(a), (unsigned long long)o->anomaly[a]);
	put(d, "\n");
	put_bytes(d, "not tls", o->not_tls_bytes, o->not_tls_len);
	describe_client_hello(d, &o->ch);
	const struct tls_server_hello *sh = &o->sh;
	put(d, "sh version %04x comp %u ext %u/%u sv %04x ks %04x psk %d alpn '%s'\n", sh->version,
	    sh->compression, sh->extension_count, sh->extensions_total, sh->supported_version,
	    sh->key_share_group, sh->pre_shared_key, sh->alpn);
	put_bytes(d, "sh session", sh->session_id, sh->session_id_len);
	put_u16s(d, "sh extensions", sh->extensions, sh->extension_count);
	put(d, "resumed %d curve %04x dh %u certvis %d certs %u dropped %u\n", o->resumed, o->curve,
	    o->dh_prime_bits, o->certificate_visible, o->cert_count, o->certificates_dropped);
	for (unsigned i = 0; i < o->cert_count; i++) {
		char hash[65];
		digest_sha256_hex(o->cert_der[i], o->cert_len[i], hash, false);
		put(d, "cert %zu %s\n", o->cert_len[i], hash);
	}
}

/* Every text field ends with a NUL inside its array; every count is within its cap. */
static void assert_well_formed(const struct tls_observation *o)
{
	const struct tls_client_hello *ch = &o->ch;
	cr_assert_not_null(memchr(ch->sni, '\0', sizeof ch->sni));
	for (int i = 0; i < TLS_MAX_ALPN; i++)
		cr_assert_not_null(memchr(ch->alpn[i], '\0', sizeof ch->alpn[i]));
	cr_assert_not_null(memchr(o->sh.alpn, '\0', sizeof o->sh.alpn));
	cr_assert_leq(ch->cipher_count, TLS_MAX_CIPHERS);
	cr_assert_leq(ch->extension_count, TLS_MAX_EXTENSIONS);
	cr_assert_leq(ch->alpn_count, TLS_MAX_ALPN);
	cr_assert_leq(ch->session_id_len, TLS_SESSION_ID_MAX);
	cr_assert_leq(o->cert_count, TLS_MAX_CERTS);
	for (unsigned i = 0; i < o->cert_count; i++)
		cr_assert(o->cert_len[i] > 0 && o->cert_len[i] <= TLS_MAX_CERT_LEN);
}

static const char *const fixtures[] = {
    "fixture-starttls-tls12-0.tls",
    "fixture-starttls-tls13-0.tls",
    "fixture-smtps-465-0.tls",
    "arkime-openssl-ssl3-0.tls",
    "arkime-openssl-tls1-0.tls",
    "arkime-openssl-tls1_1-0.tls",
    "arkime-openssl-tls1_2-0.tls",
    "arkime-tls13-0.tls",
    "zeek-ecdsa-cert-0.tls",
    "zeek-hrr-0.tls",
    "zeek-ssl-v2-0.tls",
    "zeek-tls-expired-cert-0.tls",
    "zeek-tls-expired-cert-1.tls",
    "zeek-tls1.2-0.tls",
    "zeek-tls13_psk_succesfull-0.tls",
    "zeek-tls1_1-0.tls",
    "zeek-smtp-starttls-0.tls",
    "nDPI-long_tls_certificate-0.tls",
    "nDPI-smtp-starttls-0.tls",
    "nDPI-smtp-starttls-1.tls",
    "nDPI-smtps-0.tls",
    "nDPI-tls_alert-0.tls",
    "nDPI-tls_alert-1.tls",
    "ja4-tls-alpn-h2-0.tls",
    "ja4-tls12-0.tls",
    "ja4-tls-sni-0.tls",
    "ja4-tls-sni-6.tls",
    "ja4-tls-sni-41.tls",
    "ja4-tls-handshake-0.tls",
    "ja4-tls-handshake-1.tls",
    "ja4-tls-handshake-2.tls",
    "ja4-tls-handshake-3.tls",
};
#define N_FIXTURES (sizeof fixtures / sizeof fixtures[0])

/* ---- what tshark decodes of the same bytes ---- */

struct tshark_row {
	const char *file;
	uint16_t client_version;
	const char *sni;
	const char *ja3_full, *ja3, *ja3s_full, *ja3s;
	unsigned certs;          /* tls.handshake.certificate entries of the server's Certificate */
	const char *cert_sha256; /* of the first */
};

static const struct tshark_row tshark_rows[] = {
    {"fixture-starttls-tls12-0.tls", 0x0303, "mx1.example.net",
     "771,49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-103-49162-49172-57-"
     "49161-49171-51-157-156-61-60-53-47-255,0-11-10-35-22-23-13,29-23-30-25-24,0-1-2",
     "871a754af286dfb70c1b53c6887c62e0", "771,49200,65281-11-35-23", "ec74a5c51106f0419184d0dd08fb05bc", 2,
     "f3cc4ab02cb4149c124951f33bddcdb29fc952685800bd893d424584987b8552"},
    {"fixture-starttls-tls13-0.tls", 0x0303, "mx1.example.net",
     "771,4866-4867-4865-255,0-11-10-35-22-23-13-43-45-51,29-23-30-25-24-256-257-258-259-260,0-1-2",
     "f146948b4a599d4d7ddf071b74696983", "771,4866,43-51", "15af977ce25de452b96affa2addb1036", 0, ""},
    {"fixture-smtps-465-0.tls", 0x0303, "mx1.example.net",
     "771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-103-"
     "49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,0-11-10-35-22-23-13-43-45-51-21,29-23-30-25-24-"
     "256-257-258-259-260,0-1-2",
     "d39e1be3241d516b1f714bd47c2bc968", "771,4866,43-51", "15af977ce25de452b96affa2addb1036", 0, ""},
    {"arkime-openssl-ssl3-0.tls", 0x0300, "",
     "768,49172-49162-57-56-136-135-49167-49157-53-132-49170-49160-22-19-49165-49155-10-49171-49161-51-50-"
     "154-153-69-68-49166-49156-47-150-65-7-49169-49159-49164-49154-5-4-21-18-9-20-17-8-6-3-255,,,",
     "f917ae2520ef9784557b0a3c02489c2c", "768,49169,65281", "59e3f99fd4b68388f5ba9349e0ca71a4", 3,
     "821256697c48a076a3c98f057453a6504ebfb7cfa6b2c6bb46fe85ec760043f1"},
    {"arkime-openssl-tls1-0.tls", 0x0301, "",
     "769,49172-49162-57-56-136-135-49167-49157-53-132-49170-49160-22-19-49165-49155-10-49171-49161-51-50-"
     "154-153-69-68-49166-49156-47-150-65-7-49169-49159-49164-49154-5-4-21-18-9-20-17-8-6-3-255,11-10-35-15,"
     "24-23,0-1-2",
     "503053a0c5b2bd9b9334bf7f3d3b8852", "769,49169,65281-11-35", "bed95e1b525d2f41db3a6d68fac5b566", 3,
     "821256697c48a076a3c98f057453a6504ebfb7cfa6b2c6bb46fe85ec760043f1"},
    {"arkime-openssl-tls1_1-0.tls", 0x0302, "",
     "770,49172-49162-57-56-136-135-49167-49157-53-132-49170-49160-22-19-49165-49155-10-49171-49161-51-50-"
     "154-153-69-68-49166-49156-47-150-65-7-49169-49159-49164-49154-5-4-21-18-9-20-17-8-6-3-255,11-10-35-15,"
     "24-23,0-1-2",
     "a314eb64cee6cb832aaaa372c8295bab", "770,49171,65281-11-35", "130fac2dc19b142500acb0abc63b6379", 3,
     "821256697c48a076a3c98f057453a6504ebfb7cfa6b2c6bb46fe85ec760043f1"},
    {"arkime-openssl-tls1_2-0.tls", 0x0303, "",
     "771,49200-49196-49192-49188-49172-49162-163-159-107-106-57-56-136-135-49202-49198-49194-49190-49167-"
     "49157-157-61-53-132-49170-49160-22-19-49165-49155-10-49199-49195-49191-49187-49171-49161-162-158-103-"
     "64-51-50-154-153-69-68-49201-49197-49193-49189-49166-49156-156-60-47-150-65-7-49169-49159-49164-49154-"
     "5-4-21-18-9-20-17-8-6-3-255,11-10-35-13-15,24-23,0-1-2",
     "c1a36e1a870786cc75edddc0009eaf3a", "771,49199,65281-11-35", "ccc514751b175866924439bdbb5bba34", 3,
     "821256697c48a076a3c98f057453a6504ebfb7cfa6b2c6bb46fe85ec760043f1"},
    {"arkime-tls13-0.tls", 0x0303, "blog.cloudflare.com",
     "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-52244-52243-49171-49172-156-157-47-53-10,65281-"
     "0-23-35-13-5-18-16-30032-11-40-45-43-10-21,29-23-24,0",
     "4826a90ec2daf4f7b4b64cc1c8bd343b", "32530,4865,40", "b8a8031b301aef7618403061e9f33065", 0, ""},
    {"zeek-ecdsa-cert-0.tls", 0x0303, "",
     "771,49200-49196-49192-49188-49172-49162-163-159-107-106-57-56-136-135-49202-49198-49194-49190-49167-"
     "49157-157-61-53-132-49199-49195-49191-49187-49171-49161-162-158-103-64-51-50-154-153-69-68-49201-49197-"
     "49193-49189-49166-49156-156-60-47-150-65-7-49169-49159-49164-49154-5-4-49170-49160-22-19-49165-49155-"
     "10-21-18-9-20-17-8-6-3-255,11-10-35-13-15,14-13-25-11-12-24-9-10-22-23-8-6-7-20-21-4-5-18-19-1-2-3-15-"
     "16-17,0-1-2",
     "99faefb55d94da8c713fd5c89f8dc5a1", "771,49195,65281-11-35-15", "6ce5b396167553eefc3fc5cbc4a16a02", 2,
     "11db6d4f6e4df14cec874b9d4a306c64c282dacbd479788ee0510b2c99382dc4"},
    /* tshark 4.0 reports the HelloRetryRequest's JA3S (43-51); this is the ServerHello that followed it */
    {"zeek-hrr-0.tls", 0x0303, "", "771,4866-4867-4865-255,11-10-35-22-23-13-43-45-51,21-23-24,0-1-2",
     "0f14b679807628ec7f9c02cada3ee941", "771,4866,51-43", "907bf3ecef1c987c889946b737b43de8", 0, ""},
    {"zeek-tls-expired-cert-0.tls", 0x0303, "",
     "771,49200-49196-49192-49188-49172-49162-49186-49185-163-159-107-106-57-56-136-135-49202-49198-49194-"
     "49190-49167-49157-157-61-53-132-49170-49160-49180-49179-22-19-49165-49155-10-49199-49195-49191-49187-"
     "49171-49161-49183-49182-162-158-103-64-51-50-154-153-69-68-49201-49197-49193-49189-49166-49156-156-60-"
     "47-150-65-7-49169-49159-49164-49154-5-4-21-18-9-20-17-8-6-3-255,11-10-35-13-15,14-13-25-11-12-24-9-10-"
     "22-23-8-6-7-20-21-4-5-18-19-1-2-3-15-16-17,0-1-2",
     "bd9c99b3a0f752c3ab8b052a79e9de3e", "769,57,65281-35", "ae7ebaa87c327353949114a3b85f13cc", 2,
     "7920ebd7acfb8c3c569b83db76e7e61b8a0a5bcdf55bdee5519f838f73732173"},
    {"zeek-tls-expired-cert-1.tls", 0x0303, "",
     "771,49200-49196-49192-49188-49172-49162-49186-49185-163-159-107-106-57-56-136-135-49202-49198-49194-"
     "49190-49167-49157-157-61-53-132-49170-49160-49180-49179-22-19-49165-49155-10-49199-49195-49191-49187-"
     "49171-49161-49183-49182-162-158-103-64-51-50-154-153-69-68-49201-49197-49193-49189-49166-49156-156-60-"
     "47-150-65-7-49169-49159-49164-49154-5-4-21-18-9-20-17-8-6-3-255,11-10-35-13-15,14-13-25-11-12-24-9-10-"
     "22-23-8-6-7-20-21-4-5-18-19-1-2-3-15-16-17,0-1-2",
     "bd9c99b3a0f752c3ab8b052a79e9de3e", "769,53,", "ab1e32eeaf70ee94c0af00f08d126891", 3,
     "5ae785be7cd11ea631e165d516cf455ccd62ab4fd908d9d2f664d4d11fa24c4c"},
    {"zeek-tls1.2-0.tls", 0x0303, "",
     "771,49200-49196-49192-49188-49172-49162-49186-49185-163-159-107-106-57-56-136-135-49202-49198-49194-"
     "49190-49167-49157-157-61-53-132-49170-49160-49180-49179-22-19-49165-49155-10-49199-49195-49191-49187-"
     "49171-49161-49183-49182-162-158-103-64-51-50-154-153-69-68-49201-49197-49193-49189-49166-49156-156-60-"
     "47-150-65-7-49169-49159-49164-49154-5-4-21-18-9-20-17-8-6-3-255,11-10-35-13-15,14-13-25-11-12-24-9-10-"
     "22-23-8-6-7-20-21-4-5-18-19-1-2-3-15-16-17,0-1-2",
     "bd9c99b3a0f752c3ab8b052a79e9de3e", "771,4,65281", "c253ec3ad88e42f8da4032682892f9a0", 3,
     "95cb443934beda97627688546191ab1d3989a835592cebdd2434f9ad41324ce1"},
    {"zeek-tls13_psk_succesfull-0.tls", 0x0303, "",
     "771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-103-"
     "49162-49172-57-49161-49171-51-173-171-52398-52397-52396-157-169-52395-172-170-156-168-61-60-49208-"
     "49206-183-179-149-145-53-175-141-49207-49205-182-178-148-144-47-174-140-255,11-10-35-22-23-13-43-45-51-"
     "41,29-23-30-25-24,0-1-2",
     "b564664050e32957639f6833f37e86df", "771,4867,43-51-41", "b4f2541b0a0b815edb08e1c3ffe8aad8", 0, ""},
    {"zeek-tls1_1-0.tls", 0x0302, "",
     "770,49172-49162-57-56-55-54-136-135-134-133-49167-49157-53-132-49171-49161-51-50-49-48-154-153-152-151-"
     "69-68-67-66-49166-49156-47-150-65-7-49169-49159-49164-49154-5-4-49170-49160-22-19-16-13-49165-49155-10-"
     "255,11-10-35-15,23-25-28-27-24-26-22-14-13-11-12-9-10,0-1-2",
     "5eb6e1fe80f696450a62a48bb3d6a965", "770,49171,65281-35-11", "b5237e0430ad71aac52aa90b6627cb5f", 3,
     "22a920a5ec03c819b569ed0fa8b7df258e3e7ea11fdd15b83b6fa45f3e863036"},
    {"zeek-smtp-starttls-0.tls", 0x0303, "",
     "771,49200-49196-49192-49188-49172-49162-49186-49185-163-159-107-106-57-56-136-135-49202-49198-49194-"
     "49190-49167-49157-157-61-53-132-49170-49160-49180-49179-22-19-49165-49155-10-49199-49195-49191-49187-"
     "49171-49161-49183-49182-162-158-103-64-51-50-154-153-69-68-49201-49197-49193-49189-49166-49156-156-60-"
     "47-150-65-7-49169-49159-49164-49154-5-4-21-18-9-20-17-8-6-3-255,11-10-35-13-15-21,14-13-25-11-12-24-9-"
     "10-22-23-8-6-7-20-21-4-5-18-19-1-2-3-15-16-17,0-1-2",
     "13020a4ccb11b2d3c9c0e6c285c3c415", "771,49199,65281-11-35", "ccc514751b175866924439bdbb5bba34", 3,
     "4f0a1ac1c6e873c8805fe2fc56c7aac77025f1dcbbbf907e768f1ec88c3485db"},
    {"nDPI-long_tls_certificate-0.tls", 0x0303, "beacon-api.aliyuncs.com",
     "771,52244-52243-52245-49200-49196-49192-49188-49172-49162-163-159-107-106-57-56-65413-196-195-136-135-"
     "129-49202-49198-49194-49190-49167-49157-157-61-53-192-132-49199-49195-49191-49187-49171-49161-162-158-"
     "103-64-51-50-190-189-69-68-49201-49197-49193-49189-49166-49156-156-60-47-186-65-49170-49160-22-19-"
     "49165-49155-10-255,0-11-10-13-13172-16-21,14-13-25-28-11-12-27-24-9-10-26-22-23-8-6-7-20-21-4-5-18-19-"
     "1-2-3-15-16-17,0-1-2",
     "2a26b1a62e40d25d4de3babc9d532f30", "771,49195,65281-0-11-16", "eee3d2bf5f17d17548ac36ba1872951f", 2,
     "cb9665a2c7421b8efd985861d7f23ffd9badb261ba07877eaccce4dd28a78842"},
    {"nDPI-smtp-starttls-0.tls", 0x0301, "",
     "769,57-56-136-135-53-132-22-19-10-51-50-154-153-69-68-47-150-65-5-4-21-18-9-20-17-8-6-3-255,35,,",
     "fab507fe132c544e8a0eb7c394affeae", "769,5,65281-35", "6b96cf9c27b0223177b0e9f135fe4899", 3,
     "4f0a1ac1c6e873c8805fe2fc56c7aac77025f1dcbbbf907e768f1ec88c3485db"},
    {"nDPI-smtp-starttls-1.tls", 0x0303, "dovecot.weberlab.de",
     "771,49195-49199-52393-52392-49196-49200-49162-49161-49171-49172-51-57-47-53-10,0-23-65281-10-11-35-5-"
     "65283-13,29-23-24-25,0",
     "7b38238e17474b8f6d113523bb5a8dd9", "771,49199,65281-11-35", "ccc514751b175866924439bdbb5bba34", 1,
     "f1fe9ce4b1564275b5ff0de318cf4c570ce2da99df5a8412564ac29c6cf21381"},
    {"nDPI-smtps-0.tls", 0x0303, "",
     "771,49200-49196-49192-49188-49172-49162-165-163-161-159-107-106-105-104-57-56-55-54-136-135-134-133-"
     "49202-49198-49194-49190-49167-49157-157-61-53-132-49199-49195-49191-49187-49171-49161-164-162-160-158-"
     "103-64-63-62-51-50-49-48-154-153-152-151-69-68-67-66-49201-49197-49193-49189-49166-49156-156-60-47-150-"
     "65-7-49169-49159-49164-49154-5-4-49170-49160-22-19-16-13-49165-49155-10-255,11-10-35-13-15-21,23-25-28-"
     "27-24-26-22-14-13-11-12-9-10,0-1-2",
     "f17ca639ecdcaa65b4521c49e3515ef9", "", "", 0, ""},
    {"nDPI-tls_alert-0.tls", 0x0301, "www.google-analytics.com",
     "769,47-51-53-57-49161-49162-49171-49172-22016,65281-0-23-5-13172-18-16-11-10,29-23-24-25,0",
     "d78489b860c8bf7838a6ff0b4d131541", "", "", 0, ""},
    {"nDPI-tls_alert-1.tls", 0, "", "", "", "", "", 0, ""},
    {"ja4-tls-alpn-h2-0.tls", 0x0303, "www.cloudflare.com",
     "771,49200-49196-49192-49188-49172-49162-159-107-57-52393-52392-52394-65413-196-136-129-157-61-53-192-"
     "132-49199-49195-49191-49187-49171-49161-158-103-51-190-69-156-60-47-186-65-49169-49159-5-4-49170-49160-"
     "22-10-255,0-11-10-13-16,29-23-24,0",
     "3faa4ad39f690c4ef1c3160caa375465", "771,52393,0-65281-11-16", "7f76f3e952a1bc7d407366fafe1db7ed", 2,
     "84694645cbd183bf9be472ce702bd189246e1fcd1544ffead466d956a71690bf"},
    {"ja4-tls12-0.tls", 0x0303, "contile.services.mozilla.com",
     "771,4865-4867-4866-49195-49199-52393-52392-49196-49200-49162-49161-49171-49172-156-157-47-53,0-23-"
     "65281-10-11-35-16-5-34-51-43-13-45-28-21,29-23-24-25-256-257,0",
     "579ccef312d18482fc42e2b822ca2430", "", "", 0, ""},
    {"ja4-tls-sni-0.tls", 0x0303, "clientservices.googleapis.com",
     "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,65281-51-45-5-17513-"
     "13-16-35-27-43-0-18-10-23-11-21,29-23-24,0",
     "1c258ebef8eee2dfa3df6d8d07285af9", "", "", 0, ""},
    {"ja4-tls-sni-41.tls", 0x0303, "js.monitor.azure.com",
     "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,18-13-27-43-0-17513-"
     "35-65281-51-10-23-45-11-16-5-21,29-23-24,0",
     "a344a44961275e65e50908ff6f17371d", "", "", 0, ""},
    {"ja4-tls-sni-6.tls", 0x0303, "mtalk.google.com",
     "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,51-43-27-0-18-45-13-"
     "10-5-35-23-65281-11-21,29-23-24,0",
     "bfc66ad4d55e0c1a1847863d4d5c301a", "", "", 0, ""},
    {"ja4-tls-handshake-0.tls", 0x0303, "clientservices.googleapis.com",
     "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,65281-51-45-5-17513-"
     "13-16-35-27-43-0-18-10-23-11-21,29-23-24,0",
     "1c258ebef8eee2dfa3df6d8d07285af9", "771,4865,51-43", "eb1d94daa7e0344597e756a1fb6e7054", 0, ""},
    {"ja4-tls-handshake-1.tls", 0x0303, "www.google.com",
     "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,27-23-65281-16-13-43-"
     "5-35-51-0-18-11-10-17513-45-21,29-23-24,0",
     "ad2a7e01e9f29003049caf16aff3bb3f", "771,4865,51-43", "eb1d94daa7e0344597e756a1fb6e7054", 0, ""},
    {"ja4-tls-handshake-2.tls", 0x0303, "accounts.google.com",
     "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,27-0-51-16-17513-23-"
     "45-13-5-35-18-43-65281-11-10-21,29-23-24,0",
     "c000e2caf3a25423f9de6c8a4b12a975", "771,4865,51-43", "eb1d94daa7e0344597e756a1fb6e7054", 0, ""},
    {"ja4-tls-handshake-3.tls", 0x0303, "www.googleapis.com",
     "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,5-0-65281-16-17513-27-"
     "45-43-35-13-18-11-51-10-23-21,29-23-24,0",
     "1bccb2b91a10b95869211da3ffb9f9b9", "771,4865,51-43", "eb1d94daa7e0344597e756a1fb6e7054", 0, ""},
};

/* TLS_DUMP=1 ./test_tls --filter 'tls/dump*' prints what the parser saw of every fixture. */
Test(tls, dump_every_fixture_when_asked)
{
	if (!getenv("TLS_DUMP"))
		return;
	static struct dump d;
	for (size_t i = 0; i < N_FIXTURES; i++) {
		struct tls_parser *p = run_file(fixtures[i]);
		describe(&d, tls_parser_observation(p));
		char ja3[TLS_JA3_STRING_MAX], ja4[TLS_JA4_LEN + 1];
		tls_ja3_string(tls_parser_observation(p), ja3);
		tls_ja4(tls_parser_observation(p), ja4);
		printf("== %s\n%sja3 %s\nja4 %s\n", fixtures[i], d.buf, ja3, ja4);
		tls_parser_free(p);
	}
}

Test(tls, each_capture_gives_the_hello_fields_ja3_and_certificates_tshark_decodes)
{
	for (size_t i = 0; i < sizeof tshark_rows / sizeof tshark_rows[0]; i++) {
		const struct tshark_row *row = &tshark_rows[i];
		struct tls_parser *p = run_file(row->file);
		const struct tls_observation *o = tls_parser_observation(p);
		char s[TLS_JA3_STRING_MAX], hash[TLS_JA3_HASH_LEN + 1];
		if (row->client_version) {
			cr_expect(o->client_hello_seen, "%s", row->file);
			cr_expect_eq(o->client_version, row->client_version, "%s", row->file);
			cr_expect_str_eq(o->ch.sni, row->sni, "%s", row->file);
			cr_expect_eq(o->ch.sni_present, row->sni[0] != '\0', "%s", row->file);
			tls_ja3_string(o, s);
			cr_expect_str_eq(s, row->ja3_full, "%s", row->file);
			tls_ja3(o, hash);
			cr_expect_str_eq(hash, row->ja3, "%s", row->file);
		}
		if (row->ja3s_full[0]) {
			cr_expect(o->server_hello_seen, "%s", row->file);
			tls_ja3s_string(o, s);
			cr_expect_str_eq(s, row->ja3s_full, "%s", row->file);
			tls_ja3s(o, hash);
			cr_expect_str_eq(hash, row->ja3s, "%s", row->file);
		}
		cr_expect_eq(o->cert_count, row->certs, "%s: %u certificates", row->file, o->cert_count);
		cr_expect_eq(o->certificate_visible, row->certs > 0, "%s", row->file);
		if (row->certs && o->cert_count) {
			char sha[65];
			digest_sha256_hex(o->cert_der[0], o->cert_len[0], sha, false);
			cr_expect_str_eq(sha, row->cert_sha256, "%s", row->file);
		}
		tls_parser_free(p);
	}
}

Test(tls, a_handshake_gives_the_same_observation_whole_byte_by_byte_and_cut_at_random)
{
	static struct dump whole, other;
	for (size_t i = 0; i < N_FIXTURES; i++) {
		struct transcript *t = load(fixtures[i]);
		struct tls_parser *p = run(t);
		describe(&whole, tls_parser_observation(p));
		assert_well_formed(tls_parser_observation(p));
		tls_parser_free(p);
		for (uint64_t seed = 0; seed < 6; seed++) {
			p = run_prefix(t, seed == 0 ? CUT_BYTES : CUT_RANDOM, seed, SIZE_MAX);
			describe(&other, tls_parser_observation(p));
			cr_assert_str_eq(other.buf, whole.buf, "%s, seed %llu", fixtures[i],
			                 (unsigned long long)seed);
			tls_parser_free(p);
		}
		unload(t);
	}
}

Test(tls, every_prefix_of_every_handshake_is_handled_without_reading_past_it)
{
	for (size_t i = 0; i < N_FIXTURES; i++) {
		struct transcript *t = load(fixtures[i]);
		size_t stride = t->total > 3000 ? 5 : 1;
		for (size_t limit = 0; limit <= t->total; limit += stride) {
			struct tls_parser *p =
			    run_prefix(t, limit % 2 ? CUT_RANDOM : CUT_WHOLE, limit, limit);
			assert_well_formed(tls_parser_observation(p));
			tls_parser_end(p, false);
			tls_parser_free(p);
		}
		unload(t);
	}
}

/* ---- what the real handshakes show ---- */

Test(tls, a_tls12_starttls_handshake_shows_its_hellos_key_exchange_and_chain)
{
	struct tls_parser *p = run_file("fixture-starttls-tls12-0.tls");
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert_eq(o->outcome, TLS_OUTCOME_ESTABLISHED);
	cr_assert_eq(o->version, 0x0303);
	cr_assert_eq(o->cipher, 0xc030);
	cr_assert_eq(o->curve, 0x001d, "ServerKeyExchange names x25519");
	cr_assert_eq(o->dh_prime_bits, 0);
	cr_assert(o->certificate_visible);
	cr_assert_eq(o->cert_count, 2);
	cr_assert_eq(o->certificates_dropped, 0);
	cr_assert_eq(o->cert_der[0][0], 0x30, "DER starts with a SEQUENCE");
	cr_assert_not(o->resumed);
	cr_assert(o->ch.session_ticket && o->ch.extended_master_secret && o->ch.encrypt_then_mac);
	cr_assert_not(o->ch.renegotiation_info, "the client sent the SCSV, not the extension");
	cr_assert_eq(o->ch.compression_count, 1);
	cr_assert_eq(o->ch.signature_algorithm_count, 20);
	cr_assert_str_eq(o->sh.alpn, "");
	cr_assert_eq(o->anomalies, 0);
	tls_parser_free(p);
}

Test(tls, a_tls13_handshake_takes_its_group_from_the_key_share_and_sees_no_certificate)
{
	struct tls_parser *p = run_file("fixture-starttls-tls13-0.tls");
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert_eq(o->outcome, TLS_OUTCOME_ESTABLISHED);
	cr_assert_eq(o->version, 0x0304);
	cr_assert_eq(o->sh.supported_version, 0x0304);
	cr_assert_eq(o->curve, 0x001d);
	cr_assert_eq(o->sh.key_share_group, 0x001d);
	cr_assert_not(o->certificate_visible, "TLS 1.3 encrypts the Certificate: never guess");
	cr_assert_eq(o->cert_count, 0);
	cr_assert_not(o->resumed, "the echoed legacy session id of TLS 1.3 is no resumption");
	cr_assert_eq(o->ch.session_id_len, 32);
	cr_assert_eq(o->sh.session_id_len, 32);
	cr_assert_geq(o->ch.supported_version_count, 1);
	cr_assert_eq(o->ch.supported_versions[0], 0x0304);
	cr_assert_geq(o->ch.key_share_count, 1);
	tls_parser_free(p);
}

Test(tls, a_hello_retry_request_keeps_the_first_client_hello_and_the_final_group)
{
	struct tls_parser *p = run_file("zeek-hrr-0.tls");
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert(o->hello_retry_request);
	cr_assert(o->server_hello_seen);
	cr_assert_eq(o->outcome, TLS_OUTCOME_ESTABLISHED);
	cr_assert_eq(o->version, 0x0304);
	cr_assert_eq(o->curve, 0x0017, "the retry asked for secp256r1");
	cr_assert_eq(o->ch.key_share_count, 1);
	cr_assert_eq(o->ch.key_share_groups[0], 0x0015, "the first hello offered secp224r1 only");
	tls_parser_free(p);
}

Test(tls, a_tls13_psk_accepted_by_the_server_is_a_resumption)
{
	struct tls_parser *p = run_file("zeek-tls13_psk_succesfull-0.tls");
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert(o->ch.pre_shared_key);
	cr_assert(o->sh.pre_shared_key);
	cr_assert(o->resumed);
	cr_assert_eq(o->version, 0x0304);
	tls_parser_free(p);
}

Test(tls, an_sslv2_hello_gives_its_cipher_specs_and_the_server_certificate)
{
	struct tls_parser *p = run_file("zeek-ssl-v2-0.tls");
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert(o->sslv2_client_hello);
	cr_assert_eq(o->client_version, 0x0002);
	cr_assert_eq(o->ch.sslv2_spec_count, 7);
	cr_assert_eq(o->ch.sslv2_specs[0], 0x0700c0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5");
	cr_assert_eq(o->ch.cipher_count, 0, "no TLS suite among them");
	cr_assert(o->server_hello_seen);
	cr_assert_eq(o->version, 0x0002);
	cr_assert_eq(o->outcome, TLS_OUTCOME_ESTABLISHED);
	cr_assert_eq(o->cert_count, 1);
	cr_assert_eq(o->cert_len[0], 903);
	char ja3[TLS_JA3_HASH_LEN + 1];
	cr_assert_not(tls_ja3(o, ja3), "no JA3 for SSLv2 hellos");
	tls_parser_free(p);
}

Test(tls, a_fatal_alert_from_the_server_fails_the_handshake_and_is_named)
{
	struct tls_parser *p = run_file("nDPI-tls_alert-0.tls");
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert_eq(o->outcome, TLS_OUTCOME_ALERT);
	cr_assert_eq(o->alert_from, TLS_FROM_SERVER);
	cr_assert_eq(o->alert_level, 2);
	cr_assert_str_eq(tls_alert_name(o->alert_description), "protocol_version");
	cr_assert_str_eq(o->ch.sni, "www.google-analytics.com");
	cr_assert_eq(o->ch.alpn_total, 7);
	cr_assert_eq(o->ch.alpn_count, TLS_MAX_ALPN);
	cr_assert_str_eq(o->ch.alpn[0], "h2");
	cr_assert_str_eq(o->ch.alpn[1], "h2-16");
	tls_parser_free(p);
}

Test(tls, a_dhe_key_exchange_gives_the_prime_size_and_ecdhe_the_curve)
{
	struct tls_parser *p = run_file("zeek-tls-expired-cert-0.tls");
	cr_assert_eq(tls_parser_observation(p)->cipher, 0x0039);
	cr_assert_eq(tls_parser_observation(p)->dh_prime_bits, 1024);
	cr_assert_eq(tls_parser_observation(p)->curve, 0);
	tls_parser_free(p);
	p = run_file("zeek-ecdsa-cert-0.tls");
	cr_assert_eq(tls_parser_observation(p)->curve, 0x0018, "secp384r1");
	cr_assert_eq(tls_parser_observation(p)->dh_prime_bits, 0);
	tls_parser_free(p);
}

Test(tls, a_long_certificate_chain_over_several_records_is_copied_whole)
{
	struct tls_parser *p = run_file("nDPI-long_tls_certificate-0.tls");
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert_eq(o->cert_count, 2);
	cr_assert_gt(o->cert_len[0], 3000);
	cr_assert_str_eq(o->sh.alpn, "h2");
	tls_parser_free(p);
}

/* ---- handshakes built here ---- */

struct build {
	uint8_t b[300000];
	size_t len;
};

static void put8(struct build *b, unsigned v)
{
	cr_assert_lt(b->len, sizeof b->b);
	b->b[b->len++] = (uint8_t)v;
}

static void put16(struct build *b, unsigned v)
{
	put8(b, v >> 8);
	put8(b, v);
}

static void put24(struct build *b, size_t v)
{
	put8(b, (unsigned)(v >> 16));
	put16(b, (unsigned)v);
}

static void put_raw(struct build *b, const void *data, size_t n)
{
	if (n == 0)
		return;
	cr_assert_leq(n, sizeof b->b - b->len);
	memcpy(b->b + b->len, data, n);
	b->len += n;
}

/* A ClientHello offering c02f, with the given session id and server name. */
static void client_hello(struct build *b, const uint8_t *sid, size_t sid_len, const char *sni, size_t sni_len)
{
	struct build body = {.len = 0};
	put16(&body, 0x0303);
	for (int i = 0; i < 32; i++)
		put8(&body, i);
	put8(&body, (unsigned)sid_len);
	put_raw(&body, sid, sid_len);
	put16(&body, 4);
	put16(&body, 0x1a1a); /* GREASE */
	put16(&body, 0xc02f);
	put8(&body, 1);
	put8(&body, 0);
	put16(&body, 4 + 5 + sni_len + 4 + 6);
	put16(&body, 0x0000); /* server_name */
	put16(&body, 5 + sni_len);
	put16(&body, 3 + sni_len);
	put8(&body, 0);
	put16(&body, (unsigned)sni_len);
	put_raw(&body, sni, sni_len);
	put16(&body, 0x000a); /* supported_groups: GREASE, x25519 */
	put16(&body, 6);
	put16(&body, 4);
	put16(&body, 0x2a2a);
	put16(&body, 0x001d);
	put8(b, 1);
	put24(b, body.len);
	put_raw(b, body.b, body.len);
}

/* A TLS 1.2 ServerHello choosing c02f, echoing `sid`. */
static void server_hello(struct build *b, const uint8_t *sid, size_t sid_len)
{
	put8(b, 2);
	put24(b, 2 + 32 + 1 + sid_len + 3);
	put16(b, 0x0303);
	for (int i = 0; i < 32; i++)
		put8(b, 100 + i);
	put8(b, (unsigned)sid_len);
	put_raw(b, sid, sid_len);
	put16(b, 0xc02f);
	put8(b, 0);
}

/* A Certificate message of certificates of the given sizes; certificate i is filled with byte i. */
static void certificate(struct build *b, const size_t *sizes, size_t n)
{
	size_t list = 0;
	for (size_t i = 0; i < n; i++)
		list += 3 + sizes[i];
	put8(b, 11);
	put24(b, 3 + list);
	put24(b, list);
	for (size_t i = 0; i < n; i++) {
		put24(b, sizes[i]);
		for (size_t k = 0; k < sizes[i]; k++)
			put8(b, (unsigned)(i + 1));
	}
}

/* Wraps handshake bytes into records of at most `max` bytes each. */
static void records(struct build *out, const struct build *hs, size_t max)
{
	for (size_t off = 0; off < hs->len; off += max) {
		size_t n = hs->len - off < max ? hs->len - off : max;
		put8(out, 22);
		put16(out, 0x0303);
		put16(out, (unsigned)n);
		put_raw(out, hs->b + off, n);
	}
}

/* Feeds the client's and then the server's records, whole or one byte at a time. */
static struct tls_parser *feed_built(const struct build *client, const struct build *server, bool bytes)
{
	struct tls_parser *p = tls_parser_new();
	cr_assert_not_null(p);
	const struct build *side[2] = {client, server};
	for (int d = 0; d < 2; d++) {
		size_t step = bytes ? 1 : side[d]->len;
		for (size_t off = 0; off < side[d]->len; off += step) {
			size_t n = side[d]->len - off < step ? side[d]->len - off : step;
			feed_piece(p, (enum tls_dir)d, side[d]->b + off, n);
		}
	}
	return p;
}

static struct build *build_new(void)
{
	struct build *b = calloc(1, sizeof *b);
	cr_assert_not_null(b);
	return b;
}

static void built_chain(struct build *client, struct build *server, const size_t *sizes, size_t n,
                        size_t record)
{
	struct build *hs = build_new();
	client_hello(hs, NULL, 0, "mx.example.org", 14);
	records(client, hs, 16384);
	hs->len = 0;
	server_hello(hs, NULL, 0);
	certificate(hs, sizes, n);
	put8(hs, 14); /* ServerHelloDone */
	put24(hs, 0);
	records(server, hs, record);
	free(hs);
}

Test(tls, a_certificate_chain_split_over_many_records_and_cut_anywhere_is_copied_whole)
{
	static const size_t sizes[] = {300, 5000, 20000};
	struct build *client = build_new(), *server = build_new();
	built_chain(client, server, sizes, 3, 1000);
	for (int bytes = 0; bytes < 2; bytes++) {
		struct tls_parser *p = feed_built(client, server, bytes);
		const struct tls_observation *o = tls_parser_observation(p);
		cr_assert(o->certificate_visible);
		cr_assert_eq(o->cert_count, 3);
		for (unsigned i = 0; i < 3; i++) {
			cr_assert_eq(o->cert_len[i], sizes[i]);
			for (size_t k = 0; k < sizes[i]; k++)
				cr_assert_eq(o->cert_der[i][k], i + 1);
		}
		cr_assert_eq(o->anomalies, 0);
		tls_parser_free(p);
	}
	free(client);
	free(server);
}

Test(tls, more_than_ten_certificates_or_one_over_64_kib_are_counted_as_dropped)
{
	static const size_t sizes[] = {100, 100, 70000, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100};
	struct build *client = build_new(), *server = build_new();
	built_chain(client, server, sizes, sizeof sizes / sizeof sizes[0], 16384);
	struct tls_parser *p = feed_built(client, server, false);
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert_eq(o->cert_count, TLS_MAX_CERTS);
	cr_assert_eq(o->certificates_dropped, 3, "the 70000-byte one and the last two");
	cr_assert_eq(o->cert_der[2][0], 4, "the third kept is the fourth sent");
	cr_assert_eq(o->anomalies, 0, "a long chain is no anomaly: the message is streamed, not buffered");
	tls_parser_free(p);
	free(client);
	free(server);
}

Test(tls, a_certificate_longer_than_its_message_is_a_named_anomaly)
{
	struct build *client = build_new(), *server = build_new(), *hs = build_new();
	client_hello(hs, NULL, 0, "mx.example.org", 14);
	records(client, hs, 16384);
	hs->len = 0;
	server_hello(hs, NULL, 0);
	put8(hs, 11);
	put24(hs, 3 + 3 + 10);
	put24(hs, 3 + 50);
	put24(hs, 50); /* says 50, the message holds 10 */
	for (int i = 0; i < 10; i++)
		put8(hs, 0x30);
	put8(hs, 14);
	put24(hs, 0);
	records(server, hs, 16384);
	struct tls_parser *p = feed_built(client, server, false);
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert(o->certificate_visible);
	cr_assert_eq(o->cert_count, 0);
	cr_assert_eq(o->anomaly[TLS_ANOMALY_BAD_CERTIFICATE], 1);
	tls_parser_free(p);
	free(client);
	free(server);
	free(hs);
}

Test(tls, a_server_echoing_the_client_session_id_in_tls12_resumes_it)
{
	static const uint8_t sid[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
	                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
	struct build *client = build_new(), *server = build_new(), *hs = build_new();
	client_hello(hs, sid, sizeof sid, "mx.example.org", 14);
	records(client, hs, 16384);
	hs->len = 0;
	server_hello(hs, sid, sizeof sid);
	records(server, hs, 16384);
	struct tls_parser *p = feed_built(client, server, true);
	cr_assert(tls_parser_observation(p)->resumed);
	tls_parser_free(p);
	/* a fresh session id from the server is a full handshake */
	server->len = hs->len = 0;
	uint8_t other[32] = {9};
	server_hello(hs, other, sizeof other);
	records(server, hs, 16384);
	p = feed_built(client, server, false);
	cr_assert_not(tls_parser_observation(p)->resumed);
	tls_parser_free(p);
	free(client);
	free(server);
	free(hs);
}

Test(tls, an_unprintable_server_name_is_counted_and_not_kept)
{
	struct build *client = build_new(), *hs = build_new(), *none = build_new();
	client_hello(hs, NULL, 0, "ex\001mple.org", 11);
	records(client, hs, 16384);
	struct tls_parser *p = feed_built(client, none, false);
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert(o->ch.sni_present);
	cr_assert_str_eq(o->ch.sni, "");
	cr_assert_eq(o->anomaly[TLS_ANOMALY_BAD_SNI], 1);
	cr_assert(o->ch.has_grease);
	cr_assert_eq(o->ch.cipher_count, 2, "GREASE is kept as sent");
	tls_parser_free(p);
	free(client);
	free(hs);
	free(none);
}

Test(tls, an_alert_record_in_clear_longer_than_an_alert_is_read_then_counted_once)
{
	struct build *client = build_new(), *hs = build_new(), *server = build_new();
	client_hello(hs, NULL, 0, "mx.example.org", 14);
	records(client, hs, 16384);
	for (int bytes = 0; bytes < 2; bytes++) {
		server->len = 0;
		put8(server, 21); /* alert */
		put16(server, 0x0303);
		put16(server, 100);
		put8(server, 2);  /* fatal */
		put8(server, 40); /* handshake_failure */
		for (int i = 0; i < 98; i++)
			put8(server, 0);
		struct tls_parser *p = feed_built(client, server, bytes);
		const struct tls_observation *o = tls_parser_observation(p);
		cr_assert_eq(o->outcome, TLS_OUTCOME_ALERT);
		cr_assert_eq(o->alert_description, 40);
		cr_assert_eq(o->anomaly[TLS_ANOMALY_RECORD_TOO_LONG], 1);
		cr_assert_eq(o->anomalies, 1);
		cr_assert_str_eq(tls_anomaly_str(TLS_ANOMALY_RECORD_TOO_LONG), "record_too_long");
		tls_parser_free(p);
	}
	free(client);
	free(hs);
	free(server);
}

Test(tls, a_client_hello_cut_short_inside_its_record_is_a_named_anomaly)
{
	struct build *client = build_new(), *hs = build_new(), *none = build_new();
	client_hello(hs, NULL, 0, "mx.example.org", 14);
	hs->b[3] -= 10; /* the message claims 10 bytes fewer: extensions overrun it */
	hs->len -= 10;
	records(client, hs, 16384);
	struct tls_parser *p = feed_built(client, none, false);
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert(o->client_hello_seen);
	cr_assert_eq(o->anomaly[TLS_ANOMALY_BAD_CLIENT_HELLO], 1);
	cr_assert_eq(o->ch.cipher_count, 2, "what parsed before the cut is kept");
	cr_assert_str_eq(tls_anomaly_str(TLS_ANOMALY_BAD_CLIENT_HELLO), "bad_client_hello");
	cr_assert_null(tls_anomaly_str(TLS_ANOMALY_COUNT));
	tls_parser_free(p);
	free(client);
	free(hs);
	free(none);
}
