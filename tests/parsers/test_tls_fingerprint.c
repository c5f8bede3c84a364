/*
 * test_tls_fingerprint.c: JA3, JA3S and JA4 computed from observations.
 *
 * JA4 expectations are the reference tool's output committed next to the
 * public captures (/work/shared/corpus/public/ja4/NAME.json, "JA4.1" and
 * "JA4_r.1" of the stream); the hellos are the same streams extracted by
 * tests/parsers/extract_tls.py into tests/fixtures/tls. JA3 and JA3S against
 * tshark are in test_tls.c; here are the rules around them (GREASE, empty
 * lists, ALPN edge cases) on observations filled in by hand.
 *
 * JA4S and JA4X (FoxIO License 1.1) are tested only in builds with
 * -DTLSOBS_JA4_FOXIO=ON, against the same reference outputs ("JA4S", "JA4X.N").
 */
#include "parsers/tls.h"
#include "parsers/tls_fingerprint.h"
#include "parsers/x509.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Feeds a chunk file (see test_tls.c) whole, in order. */
static struct tls_parser *run_file(const char *name)
{
	char rel[256];
	snprintf(rel, sizeof rel, "tests/fixtures/tls/%s", name);
	size_t len = 0;
	uint8_t *raw = test_read_file(test_source_path(rel), &len);
	cr_assert_not_null(raw, "cannot read %s", rel);
	struct tls_parser *p = tls_parser_new();
	cr_assert_not_null(p);
	for (size_t off = 0; off < len;) {
		size_t n = raw[off] & 0x7f;
		enum tls_dir dir = raw[off] & 0x80 ? TLS_FROM_SERVER : TLS_FROM_CLIENT;
		off++;
		cr_assert(n > 0 && n <= len - off);
		tls_parser_feed(p, dir, raw + off, n);
		off += n;
	}
	free(raw);
	return p;
}

struct ja4_row {
	const char *file, *ja4, *ja4_r;
};

static const struct ja4_row ja4_rows[] = {
    {"ja4-tls-alpn-h2-0.tls", "t12d4605h2_85626a9a5f7f_aaf95bb78ec9",
     "t12d4605h2_0004,0005,000a,0016,002f,0033,0035,0039,003c,003d,0041,0045,0067,006b,0081,0084,0088,009c,009d,"
     "009e,009f,00ba,00be,00c0,00c4,00ff,c007,c008,c009,c00a,c011,c012,c013,c014,c023,c024,c027,c028,c02b,c02c,"
     "c02f,c030,cca8,cca9,ccaa,ff85_000a,000b,000d_0601,0603,efef,0501,0503,0401,0403,eeee,eded,0301,0303,0201,"
     "0203"},
    {"ja4-tls12-0.tls", "t13d1715h2_5b57614c22b0_3d5424432f57",
     "t13d1715h2_002f,0035,009c,009d,1301,1302,1303,c009,c00a,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,"
     "000b,000d,0015,0017,001c,0022,0023,002b,002d,0033,ff01_0403,0503,0603,0804,0805,0806,0401,0501,0601,0203,"
     "0201"},
    {"ja4-tls-sni-0.tls", "t13d1516h2_8daaf6152771_e5627efa2ab1",
     "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,"
     "0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"},
    {"ja4-tls-sni-6.tls", "t13d151400_8daaf6152771_de4a06bb82e3",
     "t13d151400_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,"
     "0012,0015,0017,001b,0023,002b,002d,0033,ff01_0403,0804,0401,0503,0805,0501,0806,0601"},
    {"ja4-tls-sni-41.tls", "t13d1516h2_8daaf6152771_e5627efa2ab1", NULL},
    {"ja4-tls-handshake-0.tls", "t13d1516h2_8daaf6152771_e5627efa2ab1", NULL},
    {"ja4-tls-handshake-1.tls", "t13d1516h2_8daaf6152771_e5627efa2ab1", NULL},
    {"ja4-tls-handshake-2.tls", "t13d1516h2_8daaf6152771_e5627efa2ab1", NULL},
    {"ja4-tls-handshake-3.tls", "t13d1516h2_8daaf6152771_e5627efa2ab1", NULL},
};

Test(tls_fingerprint, ja4_of_each_capture_matches_the_reference_tool)
{
	for (size_t i = 0; i < sizeof ja4_rows / sizeof ja4_rows[0]; i++) {
		struct tls_parser *p = run_file(ja4_rows[i].file);
		char ja4[TLS_JA4_LEN + 1], raw[TLS_JA4_R_MAX];
		cr_expect(tls_ja4(tls_parser_observation(p), ja4));
		cr_expect_str_eq(ja4, ja4_rows[i].ja4, "%s", ja4_rows[i].file);
		if (ja4_rows[i].ja4_r) {
			tls_ja4_r(tls_parser_observation(p), raw);
			cr_expect_str_eq(raw, ja4_rows[i].ja4_r, "%s", ja4_rows[i].file);
		}
		tls_parser_free(p);
	}
}

/* A ClientHello as a browser sends it: GREASE first in every list. */
static struct tls_observation *browser_hello(void)
{
	struct tls_observation *o = calloc(1, sizeof *o);
	cr_assert_not_null(o);
	o->client_hello_seen = true;
	struct tls_client_hello *ch = &o->ch;
	ch->version = 0x0303;
	static const uint16_t ciphers[] = {0x0a0a, 0x1301, 0x1302, 0xc02b};
	memcpy(ch->ciphers, ciphers, sizeof ciphers);
	ch->cipher_count = ch->ciphers_total = 4;
	static const uint16_t exts[] = {0x2a2a, 0x0000, 0x0010, 0x000a, 0x000b, 0x000d, 0x002b, 0x3a3a};
	memcpy(ch->extensions, exts, sizeof exts);
	ch->extension_count = ch->extensions_total = 8;
	static const uint16_t groups[] = {0x4a4a, 0x001d, 0x0017};
	memcpy(ch->groups, groups, sizeof groups);
	ch->group_count = 3;
	ch->point_formats[0] = 0;
	ch->point_format_count = 1;
	static const uint16_t sigs[] = {0x0403, 0x0804};
	memcpy(ch->signature_algorithms, sigs, sizeof sigs);
	ch->signature_algorithm_count = 2;
	static const uint16_t versions[] = {0x5a5a, 0x0304, 0x0303};
	memcpy(ch->supported_versions, versions, sizeof versions);
	ch->supported_version_count = 3;
	ch->sni_present = true;
	strcpy(ch->sni, "example.org");
	strcpy(ch->alpn[0], "h2");
	ch->alpn_len[0] = 2;
	ch->alpn_first_last[0] = 'h';
	ch->alpn_first_last[1] = '2';
	ch->alpn_count = ch->alpn_total = 1;
	ch->has_grease = true;
	return o;
}

Test(tls_fingerprint, ja3_leaves_grease_out_of_every_list)
{
	struct tls_observation *o = browser_hello();
	char s[TLS_JA3_STRING_MAX], hash[TLS_JA3_HASH_LEN + 1];
	cr_assert(tls_ja3_string(o, s));
	cr_assert_str_eq(s, "771,4865-4866-49195,0-16-10-11-13-43,29-23,0");
	cr_assert(tls_ja3(o, hash));
	cr_assert_eq(strlen(hash), 32);
	free(o);
}

Test(tls_fingerprint, ja4_counts_sni_and_alpn_but_hashes_without_them)
{
	struct tls_observation *o = browser_hello();
	char raw[TLS_JA4_R_MAX], ja4[TLS_JA4_LEN + 1];
	cr_assert(tls_ja4_r(o, raw));
	cr_assert_str_eq(raw, "t13d0306h2_1301,1302,c02b_000a,000b,000d,002b_0403,0804");
	cr_assert(tls_ja4(o, ja4));
	cr_assert_eq(strlen(ja4), TLS_JA4_LEN);
	cr_assert_eq(strncmp(ja4, "t13d0306h2_", 11), 0);
	free(o);
}

Test(tls_fingerprint, ja4_writes_an_alpn_that_is_not_alphanumeric_as_hex_and_a_missing_one_as_00)
{
	struct tls_observation *o = browser_hello();
	char ja4[TLS_JA4_LEN + 1];
	o->ch.alpn_first_last[0] = 0xab;
	o->ch.alpn_first_last[1] = 0xcd;
	tls_ja4(o, ja4);
	cr_assert_eq(strncmp(ja4 + 8, "ad", 2), 0, "%s", ja4);
	o->ch.alpn_total = o->ch.alpn_count = 0;
	tls_ja4(o, ja4);
	cr_assert_eq(strncmp(ja4 + 8, "00", 2), 0, "%s", ja4);
	free(o);
}

Test(tls_fingerprint, ja4_of_empty_lists_is_twelve_zeros_and_the_legacy_version_without_supported_versions)
{
	struct tls_observation *o = calloc(1, sizeof *o);
	cr_assert_not_null(o);
	o->client_hello_seen = true;
	o->ch.version = 0x0301;
	char ja4[TLS_JA4_LEN + 1];
	cr_assert(tls_ja4(o, ja4));
	cr_assert_str_eq(ja4, "t10i000000_000000000000_000000000000");
	free(o);
}

Test(tls_fingerprint, counts_above_99_are_written_as_99)
{
	struct tls_observation *o = browser_hello();
	o->ch.ciphers_total = 150; /* 146 past the cap, counted */
	char ja4[TLS_JA4_LEN + 1];
	tls_ja4(o, ja4);
	cr_assert_eq(strncmp(ja4, "t13d9906", 8), 0, "%s", ja4);
	free(o);
}

Test(tls_fingerprint, nothing_is_computed_without_the_hello_it_needs)
{
	struct tls_observation *o = calloc(1, sizeof *o);
	cr_assert_not_null(o);
	char s[TLS_JA3_STRING_MAX], hash[TLS_JA3_HASH_LEN + 1], ja4[TLS_JA4_LEN + 1];
	cr_assert_not(tls_ja3(o, hash));
	cr_assert_str_eq(hash, "");
	cr_assert_not(tls_ja3s_string(o, s));
	cr_assert_not(tls_ja4(o, ja4));
	cr_assert_str_eq(ja4, "");
	free(o);
}

Test(tls_fingerprint, ja3s_lists_the_server_hello_extensions_in_order)
{
	struct tls_observation *o = calloc(1, sizeof *o);
	cr_assert_not_null(o);
	o->server_hello_seen = true;
	o->sh.version = 0x0303;
	o->cipher = 0x1301;
	o->sh.extensions[0] = 0x0033;
	o->sh.extensions[1] = 0x002b;
	o->sh.extension_count = 2;
	char s[TLS_JA3_STRING_MAX], hash[TLS_JA3_HASH_LEN + 1];
	cr_assert(tls_ja3s_string(o, s));
	cr_assert_str_eq(s, "771,4865,51-43");
	cr_assert(tls_ja3s(o, hash));
	free(o);
}

Test(tls_fingerprint, an_sslv2_server_hello_has_no_ja3s)
{
	struct tls_parser *p = run_file("zeek-ssl-v2-0.tls");
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert(o->server_hello_seen);
	char s[TLS_JA3_STRING_MAX], hash[TLS_JA3_HASH_LEN + 1];
	cr_assert_not(tls_ja3s_string(o, s));
	cr_assert_not(tls_ja3s(o, hash));
	cr_assert_str_eq(hash, "");
	tls_parser_free(p);
}

#ifdef TLSOBS_JA4_FOXIO
struct ja4s_row {
	const char *file, *ja4s;
};

/* "JA4S" of the same stream in /work/shared/corpus/public/ja4/NAME.json. */
static const struct ja4s_row ja4s_rows[] = {
    {"ja4-tls-alpn-h2-0.tls", "t1204h2_cca9_1428ce7b4018"},
    {"ja4-tls-handshake-0.tls", "t130200_1301_234ea6891581"},
    {"ja4-tls-handshake-1.tls", "t130200_1301_234ea6891581"},
    {"ja4-tls-handshake-2.tls", "t130200_1301_234ea6891581"},
    {"ja4-tls-handshake-3.tls", "t130200_1301_234ea6891581"},
};

Test(tls_fingerprint, ja4s_of_each_capture_matches_the_reference_tool)
{
	for (size_t i = 0; i < sizeof ja4s_rows / sizeof ja4s_rows[0]; i++) {
		struct tls_parser *p = run_file(ja4s_rows[i].file);
		char ja4s[TLS_JA4S_LEN + 1];
		cr_expect(tls_ja4s(tls_parser_observation(p), ja4s), "%s", ja4s_rows[i].file);
		cr_expect_str_eq(ja4s, ja4s_rows[i].ja4s, "%s", ja4s_rows[i].file);
		tls_parser_free(p);
	}
}

Test(tls_fingerprint, ja4x_of_each_certificate_matches_the_reference_tool)
{
	/* tls-alpn-h2.pcap.json, stream 0: "JA4X.1" (the leaf) and "JA4X.2". */
	static const char *const want[] = {"7d5dbb3783b4_ba7ce0880c07_7bf9a7bf7029",
					   "7d5dbb3783b4_7d5dbb3783b4_41a019652939"};
	struct tls_parser *p = run_file("ja4-tls-alpn-h2-0.tls");
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert_eq(o->cert_count, 2);
	for (unsigned i = 0; i < 2; i++) {
		char ja4x[X509_JA4X_LEN + 1];
		cr_expect(x509_ja4x(o->cert_der[i], o->cert_len[i], ja4x));
		cr_expect_str_eq(ja4x, want[i], "certificate %u", i);
	}
	tls_parser_free(p);
}

Test(tls_fingerprint, ja4s_hashes_the_extensions_in_wire_order_as_the_spec_example)
{
	/* JA4S.md: TLS 1.2, c030, extensions 0005,0017,ff01,0000, no ALPN. */
	struct tls_observation *o = calloc(1, sizeof *o);
	cr_assert_not_null(o);
	o->server_hello_seen = true;
	o->sh.version = 0x0303;
	o->cipher = 0xc030;
	static const uint16_t exts[] = {0x0005, 0x0017, 0xff01, 0x0000};
	memcpy(o->sh.extensions, exts, sizeof exts);
	o->sh.extension_count = o->sh.extensions_total = 4;
	char ja4s[TLS_JA4S_LEN + 1];
	cr_assert(tls_ja4s(o, ja4s));
	cr_assert_str_eq(ja4s, "t120400_c030_4e8089b08790");
	o->sh.supported_version = 0x0304;
	strcpy(o->sh.alpn, "http/1.1");
	tls_ja4s(o, ja4s);
	cr_assert_eq(strncmp(ja4s, "t1304h1_c030_", 13), 0, "%s", ja4s);
	free(o);
}

Test(tls_fingerprint, ja4s_and_ja4x_need_a_server_hello_and_a_certificate)
{
	struct tls_observation *o = calloc(1, sizeof *o);
	cr_assert_not_null(o);
	char ja4s[TLS_JA4S_LEN + 1], ja4x[X509_JA4X_LEN + 1];
	cr_assert_not(tls_ja4s(o, ja4s));
	cr_assert_str_eq(ja4s, "");
	free(o);
	struct tls_parser *p = run_file("zeek-ssl-v2-0.tls");
	cr_assert_not(tls_ja4s(tls_parser_observation(p), ja4s), "no JA4S for an SSLv2 SERVER-HELLO");
	tls_parser_free(p);
	static const uint8_t not_der[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	cr_assert_not(x509_ja4x(not_der, sizeof not_der, ja4x));
	cr_assert_str_eq(ja4x, "");
}
#endif
