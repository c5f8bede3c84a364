/*
 * test_tlsa.c: TLSA records from zone files, lookup by MX host, and DANE matching.
 *
 * Matching runs against tests/fixtures/dane (make.sh there): a root, an
 * intermediate and a leaf made with the openssl CLI, and tlsa.zone, whose data
 * the CLI computed (sha256sum / sha512sum of the DER and of the SPKI DER), one
 * owner per case. So a match here means our selectors and digests agree with
 * openssl's. The SPKI helper of x509.c and SHA-512 of digest.c are tested here
 * too, being there for DANE.
 */
#include "parsers/digest.h"
#include "parsers/tlsa.h"
#include "parsers/x509.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct tlsa_set *parse_ok(const char *text)
{
	struct tlsa_error err;
	struct tlsa_set *s = tlsa_parse(text, strlen(text), "zone", &err);
	cr_assert_not_null(s, "unexpected error: %s", err.message);
	return s;
}

/* Parsing must fail at `line` with a message that starts "zone:<line>: " and contains `what`. */
static void parse_fails(const char *text, unsigned line, const char *what)
{
	struct tlsa_error err;
	struct tlsa_set *s = tlsa_parse(text, strlen(text), "zone", &err);
	cr_assert_null(s, "parsed, expected \"%s\" at line %u", what, line);
	cr_expect_eq(err.line, line, "error at line %u, expected %u: %s", err.line, line, err.message);
	char prefix[32];
	snprintf(prefix, sizeof prefix, "zone:%u: ", line);
	cr_expect(strncmp(err.message, prefix, strlen(prefix)) == 0, "message \"%s\"", err.message);
	cr_expect(strstr(err.message, what) != NULL, "message \"%s\" lacks \"%s\"", err.message, what);
}

static void expect_data_hex(const struct tlsa_record *r, const char *hex)
{
	char got[2 * TLSA_DATA_MAX + 1];
	for (size_t i = 0; i < r->data_len; i++)
		snprintf(got + 2 * i, 3, "%02X", r->data[i]);
	got[2 * r->data_len] = '\0';
	cr_expect_str_eq(got, hex);
}

static const char digest_hex[] = "0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6";

Test(tlsa_parse, reads_the_rfc_6698_example_record)
{
	struct tlsa_set *s = parse_ok("_25._tcp.mx1.example.net. 3600 IN TLSA 3 1 1 "
	                              "0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6\n");
	cr_assert_eq(tlsa_set_count(s), 1);
	const struct tlsa_record *r = tlsa_set_record(s, 0);
	cr_expect_str_eq(r->owner, "_25._tcp.mx1.example.net.");
	cr_expect_eq(r->usage, 3);
	cr_expect_eq(r->selector, 1);
	cr_expect_eq(r->matching, 1);
	cr_expect_eq(r->data_len, 32);
	expect_data_hex(r, digest_hex);
	cr_expect_null(tlsa_set_record(s, 1));
	cr_expect_eq(tlsa_set_stats(s)->records, 1);
	tlsa_set_free(s);
}

Test(tlsa_parse, takes_ttl_and_class_in_either_order_or_not_at_all)
{
	struct tlsa_set *s = parse_ok("a.example. 3600 IN TLSA 3 1 1 AA\n"
	                              "b.example. IN 3600 TLSA 3 1 1 BB\n"
	                              "c.example. IN TLSA 3 1 1 CC\n"
	                              "d.example. 1h30m TLSA 3 1 1 DD\n"
	                              "e.example. TLSA 3 1 1 EE\n"
	                              "f.example. in 60 tlsa 3 1 1 ff\n"
	                              "g.example. CLASS1 TLSA 3 1 1 01\n");
	cr_assert_eq(tlsa_set_count(s), 7);
	static const uint8_t first[] = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01};
	for (size_t i = 0; i < 7; i++) {
		cr_expect_eq(tlsa_set_record(s, i)->owner[0], (char)('a' + i));
		cr_expect_eq(tlsa_set_record(s, i)->data[0], first[i]);
	}
	tlsa_set_free(s);
}

Test(tlsa_parse, joins_hex_split_by_blanks_and_parentheses_across_lines)
{
	struct tlsa_set *s = parse_ok(
	    "x.example. IN TLSA 3 1 1 0C72AC70B745AC19 998811B131D662C9\t"
	    "AC69DBDBE7CB23E5 B514B56664C5D3D6\n"
	    "y.example. IN TLSA ( 3 1 1\n"
	    "   0C72AC70B745AC19998811B131D662C9 ; first half\n"
	    "\n"
	    "   AC69DBDBE7CB23E5B514B56664C5D3D6 )  ; second half\n"
	    "z.example. IN TLSA 3 1 1 0C7 2AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6\n");
	cr_assert_eq(tlsa_set_count(s), 3);
	for (size_t i = 0; i < 3; i++)
		expect_data_hex(tlsa_set_record(s, i), digest_hex);
	tlsa_set_free(s);
}

Test(tlsa_parse, skips_comments_blank_lines_and_crlf)
{
	struct tlsa_set *s = parse_ok("; a zone\r\n"
	                              "\r\n"
	                              "   \t \r\n"
	                              "x.example. IN TLSA 3 1 1 AB ; trailing ( comment\r\n"
	                              "; the end");
	cr_assert_eq(tlsa_set_count(s), 1);
	cr_expect_eq(tlsa_set_record(s, 0)->data_len, 1);
	cr_expect_eq(tlsa_set_stats(s)->malformed_other, 0);
	tlsa_set_free(s);
}

Test(tlsa_parse, completes_relative_owners_with_origin_and_at)
{
	struct tlsa_set *s = parse_ok("$ORIGIN example.net.\n"
	                              "_25._tcp.mx1 IN TLSA 3 1 1 01\n"
	                              "@ IN TLSA 3 1 1 02\n"
	                              "_25._tcp.mx2.example.org. IN TLSA 3 1 1 03\n"
	                              "$ORIGIN sub ; relative to the origin before\n"
	                              "_25._tcp.mx3 IN TLSA 3 1 1 04\n"
	                              "$ORIGIN .\n"
	                              "tld IN TLSA 3 1 1 05\n");
	cr_assert_eq(tlsa_set_count(s), 5);
	cr_expect_str_eq(tlsa_set_record(s, 0)->owner, "_25._tcp.mx1.example.net.");
	cr_expect_str_eq(tlsa_set_record(s, 1)->owner, "example.net.");
	cr_expect_str_eq(tlsa_set_record(s, 2)->owner, "_25._tcp.mx2.example.org.");
	cr_expect_str_eq(tlsa_set_record(s, 3)->owner, "_25._tcp.mx3.sub.example.net.");
	cr_expect_str_eq(tlsa_set_record(s, 4)->owner, "tld.");
	tlsa_set_free(s);
}

Test(tlsa_parse, keeps_relative_owners_as_written_without_origin)
{
	struct tlsa_set *s = parse_ok("_25._tcp.mx1.example.net IN TLSA 3 1 1 01\n");
	cr_expect_str_eq(tlsa_set_record(s, 0)->owner, "_25._tcp.mx1.example.net");
	tlsa_set_free(s);
}

Test(tlsa_parse, repeats_the_previous_owner_for_a_blank_one)
{
	struct tlsa_set *s = parse_ok("$ORIGIN example.net.\n"
	                              "mx1 IN A 192.0.2.1\n"
	                              "    IN TLSA 3 1 1 01\n"
	                              "\tTLSA 2 0 1 02\n");
	cr_assert_eq(tlsa_set_count(s), 2);
	cr_expect_str_eq(tlsa_set_record(s, 0)->owner, "mx1.example.net.");
	cr_expect_str_eq(tlsa_set_record(s, 1)->owner, "mx1.example.net.");
	cr_expect_eq(tlsa_set_record(s, 1)->usage, 2);
	tlsa_set_free(s);
}

Test(tlsa_parse, counts_and_skips_other_records_even_with_tricky_text)
{
	struct tlsa_set *s = parse_ok("$TTL 86400\n"
	                              "example.net. IN SOA ns1.example.net. host.example.net. (\n"
	                              "        2024010101 ; serial\n"
	                              "        7200 3600 1209600 3600 )\n"
	                              "example.net. IN TXT \"v=spf1 -all; (not a paren\" \"\\\"quoted\\\"\"\n"
	                              "example.net. IN MX 10 mx1.example.net.\n"
	                              "x.example. CH TLSA 3 1 1 01\n"
	                              "x.example. IN TLSA 3 1 1 02\n");
	cr_assert_eq(tlsa_set_count(s), 1);
	cr_expect_eq(tlsa_set_record(s, 0)->data[0], 0x02);
	const struct tlsa_stats *st = tlsa_set_stats(s);
	cr_expect_eq(st->other_records, 4); /* SOA, TXT, MX, and TLSA in class CH */
	cr_expect_eq(st->malformed_other, 0);
	tlsa_set_free(s);
}

Test(tlsa_parse, is_lenient_with_broken_lines_that_are_not_tlsa)
{
	struct tlsa_set *s = parse_ok("$TTL forever\n"
	                              "$INCLUDE other.zone\n"
	                              "$GENERATE 1-4 host$ A 192.0.2.$\n"
	                              "lonely-owner\n"
	                              "bad..name IN A 192.0.2.1\n"
	                              "x.example. IN TXT \"unterminated\n"
	                              "x.example. IN A 192.0.2.1 )\n"
	                              "x.example. IN TLSA 3 1 1 01\n");
	cr_assert_eq(tlsa_set_count(s), 1);
	const struct tlsa_stats *st = tlsa_set_stats(s);
	cr_expect_eq(st->unsupported_directives, 2);
	cr_expect_eq(st->malformed_other, 4); /* $TTL, the lonely owner, the open quote, the ')' */
	cr_expect_eq(st->other_records, 3);
	tlsa_set_free(s);
}

Test(tlsa_parse, reads_the_rfc_3597_generic_form)
{
	struct tlsa_set *s = parse_ok("x.example. IN TYPE52 \\# 5 030101 ABCD\n"
	                              "y.example. IN TLSA \\# 4 02000142\n");
	cr_assert_eq(tlsa_set_count(s), 2);
	const struct tlsa_record *r = tlsa_set_record(s, 0);
	cr_expect(r->usage == 3 && r->selector == 1 && r->matching == 1 && r->data_len == 2);
	expect_data_hex(r, "ABCD");
	expect_data_hex(tlsa_set_record(s, 1), "42");
	tlsa_set_free(s);
	parse_fails("x.example. IN TYPE52 \\# 6 030101 ABCD\n", 1, "length 6, but 5 bytes follow");
	parse_fails("x.example. IN TYPE52 \\# 3 030101\n", 1, "shorter than 4 bytes");
	parse_fails("x.example. IN TYPE52 \\# x 030101\n", 1, "needs a length");
}

Test(tlsa_parse, accepts_an_empty_text)
{
	struct tlsa_set *s = tlsa_parse(NULL, 0, NULL, NULL);
	cr_assert_not_null(s);
	cr_expect_eq(tlsa_set_count(s), 0);
	tlsa_set_free(s);
	tlsa_set_free(NULL);
}

Test(tlsa_parse, reports_syntax_errors_with_file_and_line)
{
	parse_fails("; one\nx.example. IN TLSA 4x 1 1 01\n", 2, "usage \"4x\" is not a number from 0 to 255");
	parse_fails("x.example. IN TLSA 3 256 1 01\n", 1, "selector \"256\"");
	parse_fails("x.example. IN TLSA 3 1 -1 01\n", 1, "matching type \"-1\"");
	parse_fails("x.example. IN TLSA 3 1 1 0G\n", 1, "\"0G\" is not hexadecimal");
	parse_fails("x.example. IN TLSA 3 1 1 ABC\n", 1, "odd number of hex digits");
	parse_fails("x.example. IN TLSA 3 1 1\n", 1, "needs usage, selector, matching type and data");
	parse_fails("x.example. IN TLSA 3 1 1 \"AB\"\n", 1, "not hexadecimal");
	parse_fails("\n\nx.example. IN TLSA ( 3 1 1\n AB\n", 3, "'(' not closed");
	parse_fails("x.example. IN TLSA 3 1 1 AB )\n", 1, "')' without '('");
	parse_fails("  IN TLSA 3 1 1 AB\n", 1, "no owner name");
	parse_fails("@ IN TLSA 3 1 1 AB\n", 1, "\"@\" with no $ORIGIN");
	parse_fails("x..example. IN TLSA 3 1 1 AB\n", 1, "empty label");
	parse_fails("x.example. 99999999999 IN TLSA 3 1 1 AB\n", 1, "TTL");
	parse_fails("x.example. IN TLSA 3 1 1 (\n AB\n CD ZZ )\n", 3, "\"ZZ\" is not hexadecimal");
	parse_fails("$ORIGIN a b\n", 1, "$ORIGIN takes one name");
	parse_fails("$ORIGIN relative\n", 1, "$ORIGIN is relative");
}

Test(tlsa_parse, blames_a_broken_other_record_before_a_blank_tlsa_owner)
{
	/* The owner of the A record is bad, so a blank owner after it has nothing valid to repeat. */
	parse_fails("bad..name IN A 192.0.2.1\n  IN TLSA 3 1 1 AB\n", 2, "no owner name");
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	cr_assert_not_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

Test(tlsa_parse, takes_512_bytes_of_data_but_not_513)
{
	char *hex = repeat('A', 2 * TLSA_DATA_MAX + 2);
	char text[2 * TLSA_DATA_MAX + 64];
	snprintf(text, sizeof text, "x.example. IN TLSA 3 0 0 %.*s\n", 2 * TLSA_DATA_MAX, hex);
	struct tlsa_set *s = parse_ok(text);
	cr_expect_eq(tlsa_set_record(s, 0)->data_len, TLSA_DATA_MAX);
	tlsa_set_free(s);
	snprintf(text, sizeof text, "x.example. IN TLSA 3 0 0 %s\n", hex);
	parse_fails(text, 1, "longer than 512 bytes");
	free(hex);
}

Test(tlsa_parse, takes_a_line_of_4096_bytes_but_not_4097)
{
	char *text = malloc(TLSA_LINE_MAX + 16);
	cr_assert_not_null(text);
	static const char head[] = "x.example. IN TLSA 3 1 1 AB ;";
	memcpy(text, head, sizeof head - 1);
	memset(text + sizeof head - 1, 'c', TLSA_LINE_MAX - (sizeof head - 1));
	memcpy(text + TLSA_LINE_MAX, "\r\n", 3);
	struct tlsa_set *s = parse_ok(text);
	cr_expect_eq(tlsa_set_count(s), 1);
	tlsa_set_free(s);
	memcpy(text + TLSA_LINE_MAX, "c\n", 3);
	parse_fails(text, 1, "line longer than 4096 bytes");
	free(text);
}

Test(tlsa_parse, refuses_a_text_over_4_mib)
{
	size_t len = TLSA_FILE_MAX + 1;
	char *text = repeat('\n', len);
	struct tlsa_error err;
	cr_expect_null(tlsa_parse(text, len, "big.zone", &err));
	cr_expect_eq(err.line, 0);
	cr_expect_str_eq(err.message, "big.zone: larger than 4194304 bytes");
	struct tlsa_set *s = tlsa_parse(text, len - 1, "big.zone", &err);
	cr_expect_not_null(s);
	tlsa_set_free(s);
	free(text);
}

Test(tlsa_parse, keeps_4096_records_and_refuses_the_next)
{
	static const char line[] = "_25._tcp.mx.example. IN TLSA 3 1 1 0102030405060708\n";
	size_t n = TLSA_MAX_RECORDS + 1, l = sizeof line - 1;
	char *text = malloc(n * l + 1);
	cr_assert_not_null(text);
	for (size_t i = 0; i < n; i++)
		memcpy(text + i * l, line, l);
	text[n * l] = '\0';
	struct tlsa_error err;
	struct tlsa_set *s = tlsa_parse(text, (n - 1) * l, "zone", &err);
	cr_assert_not_null(s, "%s", err.message);
	cr_expect_eq(tlsa_set_count(s), TLSA_MAX_RECORDS);
	cr_expect_eq(tlsa_lookup(s, 25, "mx.example", NULL, 0), TLSA_MAX_RECORDS);
	tlsa_set_free(s);
	parse_fails(text, TLSA_MAX_RECORDS + 1, "more than 4096 TLSA records");
	free(text);
}

Test(tlsa_parse, refuses_owner_names_over_255_characters_or_labels_over_63)
{
	char text[1024];
	char *label = repeat('a', 63);
	snprintf(text, sizeof text, "%s.%s.%s.%s.x IN TLSA 3 1 1 AB\n", label, label, label, label); /* 257 */
	parse_fails(text, 1, "longer than 255");
	snprintf(text, sizeof text, "%s.%s.%s.%.*s. IN TLSA 3 1 1 AB\n", label, label, label, 61,
	         label); /* 254 */
	struct tlsa_set *s = parse_ok(text);
	cr_expect_eq(strlen(tlsa_set_record(s, 0)->owner), 254);
	tlsa_set_free(s);
	snprintf(text, sizeof text, "%sa.example. IN TLSA 3 1 1 AB\n", label);
	parse_fails(text, 1, "label longer than 63");
	free(label);
}

Test(tlsa_parse, refuses_a_tlsa_record_with_too_many_fields)
{
	size_t n = 3000, cap = 64 + 2 * n, len = 0;
	char *text = malloc(cap);
	cr_assert_not_null(text);
	len += (size_t)snprintf(text, cap, "x.example. IN TLSA 3 1 1 (\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s", i % 64 == 63 ? "A\n" : "A ");
	snprintf(text + len, cap - len, ")\n");
	parse_fails(text, 1, "more than 2048 fields");
	free(text);
}

/* Lookup. */

Test(tlsa_lookup, finds_the_records_of_port_and_host_without_case_or_dot)
{
	struct tlsa_set *s = parse_ok("_25._tcp.MX1.Example.NET. IN TLSA 3 1 1 01\n"
	                              "_25._tcp.mx2.example.net. IN TLSA 3 1 1 02\n"
	                              "_465._tcp.mx1.example.net. IN TLSA 3 1 1 03\n"
	                              "_25._udp.mx1.example.net. IN TLSA 3 1 1 04\n"
	                              "_25._tcp.mx1.example.net IN TLSA 2 1 1 05\n");
	const struct tlsa_record *out[4];
	cr_assert_eq(tlsa_lookup(s, 25, "mx1.example.net", out, 4), 2);
	cr_expect_eq(out[0]->data[0], 0x01);
	cr_expect_eq(out[1]->data[0], 0x05);
	cr_expect_eq(tlsa_lookup(s, 25, "MX1.EXAMPLE.NET.", out, 4), 2);
	cr_assert_eq(tlsa_lookup(s, 465, "mx1.example.net", out, 4), 1);
	cr_expect_eq(out[0]->data[0], 0x03);
	cr_expect_eq(tlsa_lookup(s, 587, "mx1.example.net", out, 4), 0);
	cr_expect_eq(tlsa_lookup(s, 25, "example.net", out, 4), 0);
	cr_expect_eq(tlsa_lookup(s, 25, "x.mx1.example.net", out, 4), 0);
	cr_expect_eq(tlsa_lookup(s, 25, NULL, out, 4), 0);
	cr_expect_eq(tlsa_lookup(NULL, 25, "mx1.example.net", out, 4), 0);
	tlsa_set_free(s);
}

Test(tlsa_lookup, returns_the_full_count_but_fills_only_cap)
{
	struct tlsa_set *s = parse_ok("_25._tcp.mx. TLSA 3 1 1 01\n_25._tcp.mx. TLSA 3 1 1 02\n"
	                              "_25._tcp.mx. TLSA 3 1 1 03\n");
	const struct tlsa_record *out[2] = {NULL, NULL};
	cr_expect_eq(tlsa_lookup(s, 25, "mx", out, 1), 3);
	cr_expect_eq(out[0]->data[0], 0x01);
	cr_expect_null(out[1]);
	tlsa_set_free(s);
}

/* Matching against the fixtures. */

struct fixtures {
	struct tlsa_set *zone;
	uint8_t *root, *intermediate, *leaf, *other;
	size_t root_len, intermediate_len, leaf_len, other_len;
};

static struct fixtures fx;

static uint8_t *fixture(const char *name, size_t *len)
{
	char rel[256];
	snprintf(rel, sizeof rel, "tests/fixtures/dane/%s", name);
	uint8_t *data = test_read_file(test_source_path(rel), len);
	cr_assert_not_null(data, "fixture %s unreadable (TLSOBS_SOURCE_DIR set?)", rel);
	return data;
}

static void fixtures_load(void)
{
	size_t len;
	char *zone = (char *)fixture("tlsa.zone", &len);
	struct tlsa_error err;
	fx.zone = tlsa_parse(zone, len, "tlsa.zone", &err);
	free(zone);
	cr_assert_not_null(fx.zone, "%s", err.message);
	fx.root = fixture("root.der", &fx.root_len);
	fx.intermediate = fixture("intermediate.der", &fx.intermediate_len);
	fx.leaf = fixture("leaf.der", &fx.leaf_len);
	fx.other = fixture("other.der", &fx.other_len);
}

static void fixtures_free(void)
{
	tlsa_set_free(fx.zone);
	free(fx.root);
	free(fx.intermediate);
	free(fx.leaf);
	free(fx.other);
	memset(&fx, 0, sizeof fx);
}

enum chain_kind { LEAF_ONLY, LEAF_AND_INTERMEDIATE, WHOLE_CHAIN };

/* tlsa_match of the zone's records for _25._tcp.<case>.example.net against a chain of the fixtures. */
static enum tlsa_match_result match_case(const char *name, enum chain_kind kind, const char **why)
{
	char host[128];
	snprintf(host, sizeof host, "%s.example.net", name);
	const struct tlsa_record *recs[8];
	size_t n = tlsa_lookup(fx.zone, 25, host, recs, 8);
	cr_assert(n > 0 && n <= 8, "%zu records for %s", n, host);
	const uint8_t *chain[] = {fx.leaf, fx.intermediate, fx.root};
	size_t lens[] = {fx.leaf_len, fx.intermediate_len, fx.root_len};
	unsigned chain_len = kind == LEAF_ONLY ? 1 : kind == LEAF_AND_INTERMEDIATE ? 2 : 3;
	return tlsa_match(recs, n, chain, lens, chain_len, why);
}

static void expect_case(const char *name, enum chain_kind kind, enum tlsa_match_result want)
{
	const char *why = NULL;
	enum tlsa_match_result got = match_case(name, kind, &why);
	cr_expect_eq(got, want, "%s: %s, expected %s (%s)", name, tlsa_match_result_str(got),
	             tlsa_match_result_str(want), why);
	cr_expect_not_null(why);
}

TestSuite(tlsa_match, .init = fixtures_load, .fini = fixtures_free);

Test(tlsa_match, reads_the_generated_zone_whole)
{
	cr_expect_eq(tlsa_set_count(fx.zone), 18);
	cr_expect_eq(tlsa_set_stats(fx.zone)->other_records, 4);
	cr_expect_eq(tlsa_set_stats(fx.zone)->malformed_other, 0);
}

Test(tlsa_match, dane_ee_matches_the_leaf_by_every_selector_and_matching_type)
{
	static const char *const cases[] = {"ee-311", "ee-301", "ee-312", "ee-302", "ee-300"};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		expect_case(cases[i], LEAF_AND_INTERMEDIATE, TLSA_MATCH);
		expect_case(cases[i], LEAF_ONLY, TLSA_MATCH);
	}
	const char *why = NULL;
	match_case("ee-311", LEAF_ONLY, &why);
	cr_expect_str_eq(why, "a DANE-EE(3) record matches the leaf certificate");
}

Test(tlsa_match, dane_ta_matches_the_intermediate_by_key_or_certificate)
{
	expect_case("ta-211", LEAF_AND_INTERMEDIATE, TLSA_MATCH);
	expect_case("ta-201", LEAF_AND_INTERMEDIATE, TLSA_MATCH);
	expect_case("ta-211", WHOLE_CHAIN, TLSA_MATCH);
	const char *why = NULL;
	match_case("ta-201", LEAF_AND_INTERMEDIATE, &why);
	cr_expect_str_eq(why, "a DANE-TA(2) record matches a certificate sent above the leaf");
}

Test(tlsa_match, dane_ta_matches_a_root_only_when_the_server_sends_it)
{
	expect_case("ta-root-201", WHOLE_CHAIN, TLSA_MATCH);
	expect_case("ta-root-201", LEAF_AND_INTERMEDIATE, TLSA_NO_MATCH);
}

Test(tlsa_match, dane_ta_never_matches_with_only_the_leaf_sent)
{
	const char *why = NULL;
	cr_expect_eq(match_case("ta-211", LEAF_ONLY, &why), TLSA_NO_MATCH);
	cr_expect_str_eq(why, "only DANE-TA(2) records, and the server sent no certificate above its leaf");
	expect_case("ta-201", LEAF_ONLY, TLSA_NO_MATCH);
}

Test(tlsa_match, mismatches_are_no_match)
{
	expect_case("ee-other", LEAF_AND_INTERMEDIATE, TLSA_NO_MATCH);
	expect_case("ee-bad-301", LEAF_AND_INTERMEDIATE, TLSA_NO_MATCH);
	const char *why = NULL;
	match_case("ee-other", WHOLE_CHAIN, &why);
	cr_expect_str_eq(why, "no usable TLSA record matches the chain");
}

Test(tlsa_match, usages_apply_to_their_own_end_of_the_chain)
{
	expect_case("ta-on-leaf", WHOLE_CHAIN, TLSA_NO_MATCH);         /* DANE-TA never looks at the leaf */
	expect_case("ee-on-intermediate", WHOLE_CHAIN, TLSA_NO_MATCH); /* DANE-EE never looks above it */
}

Test(tlsa_match, pkix_usages_are_not_usable_for_smtp)
{
	expect_case("pkix-ee", WHOLE_CHAIN, TLSA_NOT_USABLE);
	expect_case("pkix-ta", WHOLE_CHAIN, TLSA_NOT_USABLE);
	/* A usable record beside them decides: here it does not match. */
	expect_case("pkix-and-bad-ee", WHOLE_CHAIN, TLSA_NO_MATCH);
}

Test(tlsa_match, a_typical_set_matches_through_either_record)
{
	expect_case("mx1", LEAF_AND_INTERMEDIATE, TLSA_MATCH);
	const struct tlsa_record *recs[2];
	cr_assert_eq(tlsa_lookup(fx.zone, 25, "mx1.example.net", recs, 2), 2);
	const uint8_t *chain[] = {fx.other, fx.intermediate};
	size_t lens[] = {fx.other_len, fx.intermediate_len};
	const char *why = NULL;
	/* Another leaf under the same intermediate: the DANE-TA record still matches. */
	cr_expect_eq(tlsa_match(recs, 2, chain, lens, 2, &why), TLSA_MATCH);
	cr_expect_eq(tlsa_match(recs, 2, chain, lens, 1, &why), TLSA_NO_MATCH);
}

Test(tlsa_match, unknown_parameters_and_short_digests_are_not_usable)
{
	struct tlsa_set *s =
	    parse_ok("a. TLSA 3 2 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6\n"
	             "a. TLSA 3 1 3 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6\n"
	             "a. TLSA 4 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6\n"
	             "a. TLSA 3 1 1 0C72AC70\n"
	             "a. TLSA 3 1 2 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6\n");
	const struct tlsa_record *recs[5];
	cr_assert_eq(tlsa_lookup(s, 0, "a", recs, 0), 0);
	for (size_t i = 0; i < 5; i++)
		recs[i] = tlsa_set_record(s, i);
	const uint8_t *chain[] = {fx.leaf};
	size_t lens[] = {fx.leaf_len};
	cr_expect_eq(tlsa_match(recs, 5, chain, lens, 1, NULL), TLSA_NOT_USABLE);
	const char *why = NULL;
	cr_expect_eq(tlsa_match(recs, 0, chain, lens, 1, &why), TLSA_NOT_USABLE);
	cr_expect_str_eq(why, "no TLSA records");
	tlsa_set_free(s);
}

Test(tlsa_match, an_empty_chain_matches_nothing)
{
	const struct tlsa_record *recs[1];
	cr_assert_eq(tlsa_lookup(fx.zone, 25, "ee-311.example.net", recs, 1), 1);
	const char *why = NULL;
	cr_expect_eq(tlsa_match(recs, 1, NULL, NULL, 0, &why), TLSA_NO_MATCH);
	cr_expect_str_eq(why, "the server sent no certificate");
}

Test(tlsa_match, a_leaf_that_is_no_certificate_matches_by_its_bytes_only)
{
	static const uint8_t junk[] = "not a certificate";
	char hex[65];
	digest_sha256_hex(junk, sizeof junk, hex, true);
	char text[160];
	snprintf(text, sizeof text, "j. TLSA 3 0 1 %s\nj. TLSA 3 1 1 %s\n", hex, hex);
	struct tlsa_set *s = parse_ok(text);
	const struct tlsa_record *full = tlsa_set_record(s, 0), *spki = tlsa_set_record(s, 1);
	const uint8_t *chain[] = {junk};
	size_t lens[] = {sizeof junk};
	cr_expect_eq(tlsa_match(&full, 1, chain, lens, 1, NULL), TLSA_MATCH);
	cr_expect_eq(tlsa_match(&spki, 1, chain, lens, 1, NULL), TLSA_NO_MATCH);
	tlsa_set_free(s);
}

Test(tlsa_match, result_names)
{
	cr_expect_str_eq(tlsa_match_result_str(TLSA_MATCH), "match");
	cr_expect_str_eq(tlsa_match_result_str(TLSA_NO_MATCH), "no_match");
	cr_expect_str_eq(tlsa_match_result_str(TLSA_NOT_USABLE), "not_usable");
}

/* The helpers DANE added to x509.c and digest.c. */

Test(tlsa_match, x509_spki_der_gives_the_bytes_openssl_pkey_gives)
{
	size_t want_len;
	uint8_t *want = fixture("leaf-spki.der", &want_len);
	size_t need = 0, got_len = 0;
	cr_expect_eq(x509_spki_der(fx.leaf, fx.leaf_len, NULL, 0, &need), -1);
	cr_expect_eq(need, want_len);
	uint8_t got[1024];
	cr_expect_eq(x509_spki_der(fx.leaf, fx.leaf_len, got, need - 1, &got_len), -1);
	cr_expect_eq(got_len, want_len);
	cr_assert_eq(x509_spki_der(fx.leaf, fx.leaf_len, got, sizeof got, &got_len), 0);
	cr_assert_eq(got_len, want_len);
	cr_expect(memcmp(got, want, want_len) == 0);
	cr_expect_eq(x509_spki_der(want, want_len, got, sizeof got, &got_len), -1);
	cr_expect_eq(got_len, 0);
	cr_expect_eq(x509_spki_der(fx.leaf, fx.leaf_len - 1, got, sizeof got, &got_len), -1);
	free(want);
}

Test(digest, sha512_of_the_fips_vectors_in_either_case)
{
	char out[129];
	digest_sha512_hex("abc", 3, out, false);
	cr_expect_str_eq(out, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	                      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	digest_sha512_hex("", 0, out, true);
	cr_expect_str_eq(out, "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE"
	                      "47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E");
}
