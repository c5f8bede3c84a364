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
#include "parsers/digest.h"
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
     "t12d4605h2_0004,0005,000a,0016,002f,0033,0035,0039,003c,003d,0041,0045,0067,006b,0081,0084,0088,009c,"
     "009d,"
     "009e,009f,00ba,00be,00c0,00c4,00ff,c007,c008,c009,c00a,c011,c012,c013,c014,c023,c024,c027,c028,c02b,"
     "c02c,"
     "c02f,c030,cca8,cca9,ccaa,ff85_000a,000b,000d_0601,0603,efef,0501,0503,0401,0403,eeee,eded,0301,0303,"
     "0201,"
     "0203"},
    {"ja4-tls12-0.tls", "t13d1715h2_5b57614c22b0_3d5424432f57",
     "t13d1715h2_002f,0035,009c,009d,1301,1302,1303,c009,c00a,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,"
     "000a,"
     "000b,000d,0015,0017,001c,0022,0023,002b,002d,0033,ff01_0403,0503,0603,0804,0805,0806,0401,0501,0601,"
     "0203,"
     "0201"},
    {"ja4-tls-sni-0.tls", "t13d1516h2_8daaf6152771_e5627efa2ab1",
     "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,"
     "000d,"
     "0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"},
    {"ja4-tls-sni-6.tls", "t13d151400_8daaf6152771_de4a06bb82e3",
     "t13d151400_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,"
     "000d,"
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
	/* The fingerprint input: the whole lists (here the same as the kept ones). */
	static uint16_t fp_ciphers[4], fp_exts[8], fp_groups[3], fp_points[1], fp_sigs[2], fp_versions[3];
	memcpy(fp_ciphers, ciphers, sizeof ciphers);
	memcpy(fp_exts, exts, sizeof exts);
	memcpy(fp_groups, groups, sizeof groups);
	memcpy(fp_sigs, sigs, sizeof sigs);
	memcpy(fp_versions, versions, sizeof versions);
	o->fp.ciphers = (struct tls_value_list){fp_ciphers, 4, 4};
	o->fp.extensions = (struct tls_value_list){fp_exts, 8, 8};
	o->fp.groups = (struct tls_value_list){fp_groups, 3, 3};
	o->fp.point_formats = (struct tls_value_list){fp_points, 1, 1};
	o->fp.signature_algorithms = (struct tls_value_list){fp_sigs, 2, 2};
	o->fp.supported_versions = (struct tls_value_list){fp_versions, 3, 3};
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
	static uint16_t many[150];
	for (unsigned i = 0; i < 150; i++)
		many[i] = (uint16_t)(0x0100 + i);
	o->fp.ciphers = (struct tls_value_list){many, 150, 150};
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
	static uint16_t fp_exts[] = {0x0033, 0x002b};
	o->fp.server_extensions = (struct tls_value_list){fp_exts, 2, 2};
	char s[TLS_JA3_STRING_MAX], hash[TLS_JA3_HASH_LEN + 1];
	cr_assert(tls_ja3s_string(o, s));
	cr_assert_str_eq(s, "771,4865,51-43");
	cr_assert(tls_ja3s(o, hash));
	free(o);
}

/*
 * A ClientHello over every cap of tls.h (200 suites, 76 extensions, 61 groups),
 * written by tests/parsers/make_big_hello.py. The expected JA3 is tshark's:
 *   tshark -r HELLO.pcap -T fields -e tls.handshake.ja3_full -e tls.handshake.ja3
 * (TShark 4.0.17, on the same bytes in a pcap the script writes); the JA4 is the
 * script's own computation by the FoxIO definition (tshark 4.0 has no JA4).
 */
static const char big_hello_ja3_full[] =
    "771,1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16-17-18-19-20-21-22-23-24-25-26-27-28-29-30-31-32-33-34-35-"
    "36-37-38-39-40-41-42-43-44-45-46-47-48-49-50-51-52-53-54-55-56-57-58-59-60-61-62-63-64-65-66-67-68-6"
    "9-70-71-72-73-74-75-76-77-78-79-80-81-82-83-84-85-86-87-88-89-90-91-92-93-94-95-96-97-98-99-100-101-"
    "102-103-104-105-106-107-108-109-110-111-112-113-114-115-116-117-118-119-120-121-122-123-124-125-126-"
    "127-128-129-130-131-132-133-134-135-136-137-138-139-140-141-142-143-144-145-146-147-148-149-150-151-"
    "152-153-154-155-156-157-158-159-160-161-162-163-164-165-166-167-168-169-170-171-172-173-174-175-176-"
    "177-178-179-180-181-182-183-184-185-186-187-188-189-190-191-192-193-194-195-196-197-198-199-200,0-10"
    "-11-13-43-16-4096-4097-4098-4099-4100-4101-4102-4103-4104-4105-4106-4107-4108-4109-4110-4111-4112-41"
    "13-4114-4115-4116-4117-4118-4119-4120-4121-4122-4123-4124-4125-4126-4127-4128-4129-4130-4131-4132-41"
    "33-4134-4135-4136-4137-4138-4139-4140-4141-4142-4143-4144-4145-4146-4147-4148-4149-4150-4151-4152-41"
    "53-4154-4155-4156-4157-4158-4159-4160-4161-4162-4163-4164,1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16-17-"
    "18-19-20-21-22-23-24-25-26-27-28-29-30-31-32-33-34-35-36-37-38-39-40-41-42-43-44-45-46-47-48-49-50-5"
    "1-52-53-54-55-56-57-58-59-60,0-1-2";

Test(tls_fingerprint, ja3_and_ja4_cover_the_whole_hello_whatever_its_caps_keep)
{
	struct tls_parser *p = run_file("synthetic-big-hello-0.tls");
	const struct tls_observation *o = tls_parser_observation(p);
	cr_assert(o->client_hello_seen);
	/* the event arrays are capped and say so ... */
	cr_assert_eq(o->ch.cipher_count, TLS_MAX_CIPHERS);
	cr_assert_eq(o->ch.ciphers_total, 201);
	cr_assert_eq(o->ch.extension_count, TLS_MAX_EXTENSIONS);
	cr_assert_eq(o->ch.extensions_total, 76);
	cr_assert_eq(o->ch.group_count, TLS_MAX_VALUES);
	cr_assert(o->ch.truncated);
	/* ... the fingerprints are not */
	char s[TLS_JA3_STRING_MAX], hash[TLS_JA3_HASH_LEN + 1], ja4[TLS_JA4_LEN + 1];
	cr_assert(tls_ja3_string(o, s));
	cr_assert_str_eq(s, big_hello_ja3_full);
	cr_assert(tls_ja3(o, hash));
	cr_assert_str_eq(hash, "cc0f2071f16a39993e62344815a9a10f");
	cr_assert(tls_ja4(o, ja4));
	cr_assert_str_eq(ja4, "t13d9975sp_822c8a9314eb_ebbf3d4f1172");
	tls_parser_free(p);
}

Test(tls_fingerprint, a_ja3_string_longer_than_its_cap_is_cut_but_hashed_whole)
{
	struct tls_observation *o = calloc(1, sizeof *o);
	cr_assert_not_null(o);
	o->client_hello_seen = true;
	o->ch.version = 0x0303;
	enum { N = 1000 }; /* "49152-" ... : 6 characters each, well over 4097 */
	static uint16_t many[N];
	for (unsigned i = 0; i < N; i++)
		many[i] = (uint16_t)(0xc000 + i);
	o->fp.ciphers = (struct tls_value_list){many, N, N};
	char s[TLS_JA3_STRING_MAX], hash[TLS_JA3_HASH_LEN + 1], want[TLS_JA3_HASH_LEN + 1];
	cr_assert(tls_ja3_string(o, s));
	cr_assert_eq(strlen(s), TLS_JA3_STRING_MAX - 1);
	cr_assert(tls_ja3(o, hash));
	/* the whole string, built here independently */
	char *full = malloc(N * 6 + 16);
	cr_assert_not_null(full);
	size_t len = (size_t)snprintf(full, 16, "771,");
	for (unsigned i = 0; i < N; i++)
		len += (size_t)snprintf(full + len, 8, "%s%u", i ? "-" : "", 0xc000 + i);
	len += (size_t)snprintf(full + len, 8, ",,,");
	cr_assert_eq(strncmp(full, s, TLS_JA3_STRING_MAX - 1), 0);
	digest_md5_hex(full, len, want);
	cr_assert_str_eq(hash, want);
	free(full);
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
	static uint16_t fp_exts[4];
	memcpy(fp_exts, exts, sizeof exts);
	o->fp.server_extensions = (struct tls_value_list){fp_exts, 4, 4};
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

/* Both at once, as the inspector asks: the same string and hash as asked one by one. */
static void expect_both_alike(const struct tls_observation *o)
{
	static char s1[TLS_JA3_STRING_MAX], s2[TLS_JA3_STRING_MAX];
	char h1[TLS_JA3_HASH_LEN + 1], h2[TLS_JA3_HASH_LEN + 1];
	cr_expect_eq(tls_ja3_both(o, s1, h1), tls_ja3_string(o, s2));
	tls_ja3(o, h2);
	cr_expect_str_eq(s1, s2);
	cr_expect_str_eq(h1, h2);
	cr_expect_eq(tls_ja3s_both(o, s1, h1), tls_ja3s_string(o, s2));
	tls_ja3s(o, h2);
	cr_expect_str_eq(s1, s2);
	cr_expect_str_eq(h1, h2);
}

Test(tls_fingerprint, ja3_both_gives_what_the_string_and_the_hash_give_alone)
{
	const char *names[] = {"fixture-starttls-tls12-0.tls", "fixture-starttls-tls13-0.tls"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct tls_parser *p = run_file(names[i]);
		expect_both_alike(tls_parser_observation(p));
		tls_parser_free(p);
	}
	struct tls_observation *o = browser_hello();
	expect_both_alike(o);
	free(o);
	/* A string over its cap: cut, its hash of the whole, both as alone. */
	o = calloc(1, sizeof *o);
	cr_assert_not_null(o);
	o->client_hello_seen = true;
	o->ch.version = 0x0303;
	static uint16_t many[1000];
	for (unsigned i = 0; i < 1000; i++)
		many[i] = (uint16_t)(0xc000 + i);
	o->fp.ciphers = (struct tls_value_list){many, 1000, 1000};
	expect_both_alike(o);
	free(o);
}
