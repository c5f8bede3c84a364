/*
 * test_x509.c: certificate fields and chain validation.
 *
 * The fixtures in tests/fixtures/x509 come from make-certs.sh (a root, an
 * intermediate and leaves with fixed validity dates); the expected values are
 * copied from the `openssl x509` output it keeps in openssl.txt, so a test
 * fails when x509_parse disagrees with the openssl tool. Certificates with
 * hostile names (control characters, over-long UTF-8, many SANs) are made at
 * run time with OpenSSL. The lab certificates of the shared corpus are checked
 * when that directory exists. Validation times are fixed, never "now".
 */
#include "parsers/x509.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

enum {
	T_2024_06_02 = 1717286400,
	T_2025_01_01 = 1735689600,
	T_2030_01_01 = 1893456000,
	T_2035_01_01 = 2051222400,
	T_2036_01_01 = 2082758400,
};
static const int64_t t_2039_12_31 = 2208902400, t_2040_01_01 = 2208988800, t_2020_01_01 = 1577836800,
                     t_2021_01_01 = 1609459200;

struct blob {
	uint8_t *data;
	size_t len;
};

static struct blob fixture(const char *name)
{
	char rel[256];
	snprintf(rel, sizeof rel, "tests/fixtures/x509/%s", name);
	struct blob b = {0};
	b.data = test_read_file(test_source_path(rel), &b.len);
	cr_assert_not_null(b.data, "fixture %s unreadable (TLSOBS_SOURCE_DIR set?)", rel);
	return b;
}

static const char *fixture_path(const char *name)
{
	static char path[4096];
	char rel[256];
	snprintf(rel, sizeof rel, "tests/fixtures/x509/%s", name);
	snprintf(path, sizeof path, "%s", test_source_path(rel));
	return path;
}

static struct x509_info parse_ok(struct blob b)
{
	struct x509_info info;
	cr_assert_eq(x509_parse(b.data, b.len, &info), 0);
	return info;
}

/* Every string of an x509_info is terminated within its array and holds no control character. */
static void assert_safe_text(const char *s, size_t cap)
{
	const char *end = memchr(s, '\0', cap);
	cr_assert_not_null(end, "string not terminated within %zu bytes", cap);
	for (const char *p = s; p < end; p++)
		cr_assert((unsigned char)*p >= 0x20 && *p != 0x7f, "control byte 0x%02x in \"%s\"", *p, s);
}

static void assert_info_safe(const struct x509_info *i)
{
#define SAFE(f) assert_safe_text((f), sizeof(f))
	SAFE(i->sha256);
	SAFE(i->sha1);
	SAFE(i->spki_sha256);
	SAFE(i->subject);
	SAFE(i->issuer);
	SAFE(i->subject_cn);
	SAFE(i->subject_org);
	SAFE(i->issuer_cn);
	SAFE(i->issuer_org);
	for (int k = 0; k < X509_MAX_SANS; k++)
		SAFE(i->san_dns[k]);
	SAFE(i->serial);
	SAFE(i->signature_algorithm);
	SAFE(i->public_key_algorithm);
	SAFE(i->public_key_curve);
#undef SAFE
	cr_assert_leq(i->san_count, X509_MAX_SANS);
}

/* A P-256 certificate (signed by its own key) made now, with the given CN bytes and DNS SANs; DER, malloc'd.
 */
static struct blob make_cert(const char *cn, size_t cn_len, const char *const *sans, size_t n_sans)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	cr_assert(key && x);
	cr_assert(X509_set_version(x, X509_VERSION_3));
	cr_assert(ASN1_INTEGER_set(X509_get_serialNumber(x), 7));
	cr_assert(ASN1_TIME_set(X509_getm_notBefore(x), T_2025_01_01));
	cr_assert(ASN1_TIME_set(X509_getm_notAfter(x), T_2035_01_01));
	X509_NAME *name = X509_get_subject_name(x);
	/* V_ASN1_UTF8STRING, not MBSTRING_UTF8: the bytes go in as they are, no length limit. */
	cr_assert(X509_NAME_add_entry_by_NID(name, NID_commonName, V_ASN1_UTF8STRING,
	                                     (const unsigned char *)cn, (int)cn_len, -1, 0));
	/* The issuer is another name: OpenSSL copies names through their canonical form, which a
	 * name in broken UTF-8 has not. */
	X509_NAME *issuer = X509_get_issuer_name(x);
	cr_assert(X509_NAME_add_entry_by_NID(issuer, NID_commonName, V_ASN1_UTF8STRING,
	                                     (const unsigned char *)"runtime issuer", -1, -1, 0));
	cr_assert(X509_set_pubkey(x, key));
	if (n_sans > 0) {
		GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
		for (size_t i = 0; i < n_sans; i++) {
			ASN1_IA5STRING *s = ASN1_IA5STRING_new();
			cr_assert(ASN1_STRING_set(s, sans[i], (int)strlen(sans[i])));
			GENERAL_NAME *gn = GENERAL_NAME_new();
			GENERAL_NAME_set0_value(gn, GEN_DNS, s);
			cr_assert(sk_GENERAL_NAME_push(gens, gn) > 0);
		}
		cr_assert_eq(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT), 1);
		GENERAL_NAMES_free(gens);
	}
	cr_assert(X509_sign(x, key, EVP_sha256()) > 0);
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	cr_assert_gt(len, 0);
	struct blob b = {malloc((size_t)len), (size_t)len};
	memcpy(b.data, der, (size_t)len);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
	return b;
}

/* ---- x509_parse ---- */

Test(x509_parse, an_rsa_leaf_gives_every_field_as_openssl_prints_it)
{
	struct blob b = fixture("leaf-rsa.der");
	struct x509_info i = parse_ok(b);
	cr_expect_str_eq(i.sha256, "FB40E220E85E5704A822B984810BDEAD6A3AE8769460D9DE8D2A034B2BC58AB7");
	cr_expect_str_eq(i.sha1, "ABD874C7132CE07D316105948CA2E6A3345906EF");
	cr_expect_str_eq(i.spki_sha256, "982687DE3A4442C20FEA9A91811C883F8CEDF4CDE5FB45C42B9BCE0637E103CF");
	cr_expect_str_eq(i.subject, "CN=mx1.example.net,O=Example Net");
	cr_expect_str_eq(i.issuer, "CN=tlsobs Test Intermediate CA,O=tlsobs tests");
	cr_expect_str_eq(i.subject_cn, "mx1.example.net");
	cr_expect_str_eq(i.subject_org, "Example Net");
	cr_expect_str_eq(i.issuer_cn, "tlsobs Test Intermediate CA");
	cr_expect_str_eq(i.issuer_org, "tlsobs tests");
	cr_expect_eq(i.san_count, 2);
	cr_expect_str_eq(i.san_dns[0], "mx1.example.net");
	cr_expect_str_eq(i.san_dns[1], "*.mail.example.net");
	cr_expect_not(i.san_truncated);
	cr_expect_str_eq(i.serial, "0A1B2C3D4E5F");
	cr_expect_str_eq(i.signature_algorithm, "sha256WithRSAEncryption");
	cr_expect_str_eq(i.public_key_algorithm, "RSA");
	cr_expect_eq(i.public_key_size, 2048);
	cr_expect_str_eq(i.public_key_curve, "");
	cr_expect_eq(i.version_number, 3);
	cr_expect_eq(i.not_before, T_2025_01_01);
	cr_expect_eq(i.not_after, T_2035_01_01);
	cr_expect_not(i.self_issued);
	assert_info_safe(&i);
	free(b.data);
}

Test(x509_parse, an_ecdsa_leaf_gives_its_curve_and_key_size)
{
	struct blob b = fixture("leaf-ec.der");
	struct x509_info i = parse_ok(b);
	cr_expect_str_eq(i.sha256, "9100FBF30AC0BE35120B88E645E8B9A8860274696009F3DDDFEA300ECEAF4782");
	cr_expect_str_eq(i.sha1, "C54FAB15C160DBAC106B5B803BD80414FEB929C1");
	cr_expect_str_eq(i.spki_sha256, "4622EA06CDF47B33DC0CB6FE0208926DB6ACAF394E9D04570A54761566D189AC");
	cr_expect_str_eq(i.subject, "CN=mx2.example.net,O=Example Net");
	cr_expect_str_eq(i.serial, "2002");
	cr_expect_str_eq(i.public_key_algorithm, "EC");
	cr_expect_eq(i.public_key_size, 256);
	cr_expect_str_eq(i.public_key_curve, "prime256v1");
	cr_expect_str_eq(i.signature_algorithm,
	                 "sha256WithRSAEncryption"); /* signed by the RSA intermediate */
	cr_expect_eq(i.san_count, 1);
	cr_expect_str_eq(i.san_dns[0], "mx2.example.net");
	free(b.data);
}

Test(x509_parse, a_self_signed_certificate_is_self_issued_and_names_its_ecdsa_signature)
{
	struct blob b = fixture("selfsigned.der");
	struct x509_info i = parse_ok(b);
	cr_expect_str_eq(i.sha256, "F335FA5D82D8A4DE916494578F6E62950BDC622C7CD72807EA8649F65F242F81");
	cr_expect_str_eq(i.subject, "CN=mx1.example.net");
	cr_expect_str_eq(i.issuer, "CN=mx1.example.net");
	cr_expect_str_eq(i.subject_org, "");
	cr_expect_str_eq(i.serial, "3001");
	cr_expect_str_eq(i.signature_algorithm, "ecdsa-with-SHA256");
	cr_expect(i.self_issued);
	free(b.data);
}

Test(x509_parse, the_validity_times_of_the_expired_and_not_yet_valid_leaves_are_read)
{
	struct blob e = fixture("expired.der"), n = fixture("notyet.der");
	struct x509_info ie = parse_ok(e), in = parse_ok(n);
	cr_expect_eq(ie.not_before, t_2020_01_01);
	cr_expect_eq(ie.not_after, t_2021_01_01);
	cr_expect_eq(in.not_before, t_2039_12_31);
	cr_expect_eq(in.not_after, t_2040_01_01);
	cr_expect_str_eq(ie.sha1, "358EE01ED44F5CDD61B6D59430099DBB90B924B7");
	free(e.data);
	free(n.data);
}

Test(x509_parse, a_root_ca_gives_its_own_name_as_issuer)
{
	struct blob b = fixture("root.der");
	struct x509_info i = parse_ok(b);
	cr_expect_str_eq(i.sha256, "25D05DD14A6475BD8C99C0060D718977B1E14AF0F0EB42719A3B1D1A5E33D894");
	cr_expect_str_eq(i.spki_sha256, "D7A32EEFD0B24686F83B7A9B6EDFA76E069431A2E2B74E7356E2AB2B5E19114F");
	cr_expect_str_eq(i.subject, "CN=tlsobs Test Root CA,O=tlsobs tests");
	cr_expect_str_eq(i.serial, "01");
	cr_expect_eq(i.san_count, 0);
	cr_expect(i.self_issued);
	free(b.data);
}

Test(x509_parse, every_proper_prefix_of_a_certificate_is_rejected)
{
	static const char *const names[] = {"leaf-rsa.der", "leaf-ec.der", "selfsigned.der"};
	for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
		struct blob b = fixture(names[f]);
		for (size_t len = 0; len < b.len; len++) {
			/* A heap copy of exactly len bytes, so ASan sees any read past it. */
			uint8_t *copy = malloc(len ? len : 1);
			memcpy(copy, b.data, len);
			struct x509_info i;
			cr_assert_eq(x509_parse(copy, len, &i), -1, "%s cut to %zu bytes was accepted",
			             names[f], len);
			free(copy);
		}
		free(b.data);
	}
}

Test(x509_parse, bytes_after_the_certificate_make_it_not_one)
{
	struct blob b = fixture("leaf-ec.der");
	uint8_t *longer = malloc(b.len + 1);
	memcpy(longer, b.data, b.len);
	longer[b.len] = 0;
	struct x509_info i;
	cr_expect_eq(x509_parse(longer, b.len + 1, &i), -1);
	free(longer);
	free(b.data);
}

Test(x509_parse, garbage_is_rejected)
{
	static const uint8_t seq_huge[] = {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x00};
	static const uint8_t seq_empty[] = {0x30, 0x00};
	static const uint8_t pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
	static const uint8_t zero[64];
	struct x509_info i;
	cr_expect_eq(x509_parse(NULL, 0, &i), -1);
	cr_expect_eq(x509_parse(zero, 0, &i), -1);
	cr_expect_eq(x509_parse(zero, sizeof zero, &i), -1);
	cr_expect_eq(x509_parse(seq_huge, sizeof seq_huge, &i), -1);
	cr_expect_eq(x509_parse(seq_empty, sizeof seq_empty, &i), -1);
	cr_expect_eq(x509_parse(pem, sizeof pem - 1, &i), -1);
	uint64_t seed = 42;
	uint8_t noise[512];
	for (int round = 0; round < 200; round++) {
		for (size_t k = 0; k < sizeof noise; k++)
			noise[k] = (uint8_t)test_rand(&seed);
		cr_expect_eq(x509_parse(noise, 1 + test_rand(&seed) % sizeof noise, &i), -1);
	}
}

Test(x509_parse, flipped_bytes_never_crash_and_leave_every_string_safe)
{
	struct blob b = fixture("leaf-rsa.der");
	uint8_t *copy = malloc(b.len);
	uint64_t seed = 7;
	for (int round = 0; round < 2000; round++) {
		memcpy(copy, b.data, b.len);
		for (int flips = 1 + (int)(test_rand(&seed) % 4); flips > 0; flips--)
			copy[test_rand(&seed) % b.len] ^= (uint8_t)(1u << (test_rand(&seed) % 8));
		struct x509_info i;
		if (x509_parse(copy, b.len, &i) == 0)
			assert_info_safe(&i);
	}
	free(copy);
	free(b.data);
}

Test(x509_parse, control_characters_in_names_come_out_as_printable_text)
{
	static const char cn[] = "evil\x1b[31m\nname\x7f\xc2\x85";
	const char *sans[] = {"a\x01"
	                      "b.example.net",
	                      "ok.example.net"};
	struct blob b = make_cert(cn, sizeof cn - 1, sans, 2);
	struct x509_info i = parse_ok(b);
	assert_info_safe(&i);
	cr_expect_str_eq(i.subject_cn, "evil?[31m?name??"); /* ESC, LF, DEL, NEL (U+0085) */
	cr_expect_str_eq(i.subject, "CN=evil\\1B[31m\\0Aname\\7F?");
	cr_expect_str_eq(i.san_dns[0], "a?b.example.net");
	cr_expect_str_eq(i.san_dns[1], "ok.example.net");
	free(b.data);
}

Test(x509_parse, non_ascii_names_stay_utf8_and_invalid_bytes_become_question_marks)
{
	static const char good[] = "M\xc3\xbcller \xe2\x82\xac"; /* "Müller €" */
	/* An IA5String is not checked by OpenSSL: stray byte, truncated sequence, surrogate. */
	const char *sans[] = {"a\xff\xc3Xb\xed\xa0\x80.example.net"};
	struct blob b = make_cert(good, sizeof good - 1, sans, 1);
	struct x509_info i = parse_ok(b);
	cr_expect_str_eq(i.subject_cn, good);
	cr_expect_str_eq(i.subject, "CN=M\xc3\xbcller \xe2\x82\xac");
	cr_expect_str_eq(i.san_dns[0], "a??Xb???.example.net");
	assert_info_safe(&i);

	/* A UTF8String name that is not UTF-8 is no certificate OpenSSL reads (its d2i canonicalises
	 * names), so it never reaches the text fields. */
	uint8_t *at = memmem(b.data, b.len, "\xc3\xbc", 2);
	cr_assert_not_null(at);
	at[0] = 0xff;
	cr_expect_eq(x509_parse(b.data, b.len, &i), -1);
	free(b.data);
}

Test(x509_parse, long_names_are_cut_at_a_whole_character_or_escape)
{
	/* 300 x "é": 600 bytes of UTF-8, in the CN and after "CN=" in the subject. */
	char cn[600];
	for (size_t k = 0; k < sizeof cn; k += 2) {
		cn[k] = (char)0xc3;
		cn[k + 1] = (char)0xa9;
	}
	struct blob b = make_cert(cn, sizeof cn, NULL, 0);
	struct x509_info i = parse_ok(b);
	assert_info_safe(&i);
	cr_expect_eq(strlen(i.subject_cn), 254); /* 127 whole characters in 255 bytes */
	cr_expect_eq(memcmp(i.subject_cn, cn, 254), 0);
	size_t len = strlen(i.subject);
	cr_expect_leq(len, X509_NAME_MAX - 1);
	cr_expect_eq(len, 3 + 508); /* "CN=" and 254 whole characters in 511 bytes */
	cr_expect_eq(memcmp(i.subject, "CN=", 3), 0);
	cr_expect_eq(memcmp(i.subject + 3, cn, 508), 0);
	free(b.data);
}

Test(x509_parse, more_dns_names_than_fit_are_kept_in_order_and_flagged)
{
	char names[X509_MAX_SANS + 8][32];
	const char *sans[X509_MAX_SANS + 8];
	for (int k = 0; k < X509_MAX_SANS + 8; k++) {
		snprintf(names[k], sizeof names[k], "mx%d.example.net", k);
		sans[k] = names[k];
	}
	struct blob b = make_cert("many", 4, sans, X509_MAX_SANS + 8);
	struct x509_info i = parse_ok(b);
	cr_expect_eq(i.san_count, X509_MAX_SANS);
	cr_expect(i.san_truncated);
	cr_expect_str_eq(i.san_dns[0], "mx0.example.net");
	cr_expect_str_eq(i.san_dns[X509_MAX_SANS - 1], "mx31.example.net");
	free(b.data);
}

/* ---- x509_validate ---- */

/* Validates fixtures (leaf first) against a CA bundle among the fixtures. */
static enum x509_status validate_fixtures(const char *ca, const char *const *names, unsigned n,
                                          const char *host, int64_t at)
{
	char err[256] = "";
	struct x509_validator *v = x509_validator_new(fixture_path(ca), err, sizeof err);
	cr_assert_not_null(v, "%s", err);
	struct blob blobs[X509_MAX_CHAIN];
	const uint8_t *chain[X509_MAX_CHAIN];
	size_t lens[X509_MAX_CHAIN];
	for (unsigned k = 0; k < n; k++) {
		blobs[k] = fixture(names[k]);
		chain[k] = blobs[k].data;
		lens[k] = blobs[k].len;
	}
	enum x509_status s = x509_validate(v, chain, lens, n, host, at);
	for (unsigned k = 0; k < n; k++)
		free(blobs[k].data);
	x509_validator_free(v);
	return s;
}

#define CHAIN(...)                                                                                           \
	((const char *const[]){__VA_ARGS__}), (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *))

Test(x509_validate, a_leaf_with_its_intermediate_is_ok_against_the_root)
{
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("leaf-rsa.der", "intermediate.der"),
	                               "mx1.example.net", T_2030_01_01),
	             X509_STATUS_OK);
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("leaf-ec.der", "intermediate.der"),
	                               "mx2.example.net", T_2030_01_01),
	             X509_STATUS_OK);
}

Test(x509_validate, a_chain_that_includes_the_root_is_ok_too)
{
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("leaf-rsa.der", "intermediate.der", "root.der"),
	                               "mx1.example.net", T_2030_01_01),
	             X509_STATUS_OK);
}

Test(x509_validate, a_wildcard_covers_one_left_most_label_only)
{
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("leaf-rsa.der", "intermediate.der"),
	                               "smtp.mail.example.net", T_2030_01_01),
	             X509_STATUS_OK);
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("leaf-rsa.der", "intermediate.der"),
	                               "a.b.mail.example.net", T_2030_01_01),
	             X509_STATUS_HOST_MISMATCH);
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("leaf-rsa.der", "intermediate.der"),
	                               "mail.example.net", T_2030_01_01),
	             X509_STATUS_HOST_MISMATCH);
}

Test(x509_validate, host_names_match_regardless_of_case_and_a_final_dot)
{
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("leaf-rsa.der", "intermediate.der"),
	                               "MX1.Example.NET.", T_2030_01_01),
	             X509_STATUS_OK);
}

Test(x509_validate, a_certificate_for_another_name_is_a_host_mismatch)
{
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("wronghost.der", "intermediate.der"),
	                               "mx1.example.net", T_2030_01_01),
	             X509_STATUS_HOST_MISMATCH);
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("wronghost.der", "intermediate.der"),
	                               "webmail.example.com", T_2030_01_01),
	             X509_STATUS_OK);
}

Test(x509_validate, no_host_name_skips_the_name_check)
{
	cr_expect_eq(
	    validate_fixtures("root.pem", CHAIN("wronghost.der", "intermediate.der"), NULL, T_2030_01_01),
	    X509_STATUS_OK);
	cr_expect_eq(
	    validate_fixtures("root.pem", CHAIN("wronghost.der", "intermediate.der"), "", T_2030_01_01),
	    X509_STATUS_OK);
}

Test(x509_validate, an_expired_leaf_is_expired_even_for_the_wrong_name)
{
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("expired.der", "intermediate.der"),
	                               "mx1.example.net", T_2030_01_01),
	             X509_STATUS_EXPIRED);
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("expired.der", "intermediate.der"),
	                               "other.example.org", T_2030_01_01),
	             X509_STATUS_EXPIRED);
}

Test(x509_validate, a_leaf_before_its_not_before_is_not_yet_valid)
{
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("notyet.der", "intermediate.der"), "mx1.example.net",
	                               T_2030_01_01),
	             X509_STATUS_NOT_YET_VALID);
	/* The good leaf on a day its CAs were valid and it was not yet. */
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("leaf-rsa.der", "intermediate.der"),
	                               "mx1.example.net", T_2024_06_02),
	             X509_STATUS_NOT_YET_VALID);
}

Test(x509_validate, the_same_chain_is_judged_at_the_time_given)
{
	const char *const chain[] = {"leaf-rsa.der", "intermediate.der"};
	cr_expect_eq(validate_fixtures("root.pem", chain, 2, "mx1.example.net", T_2025_01_01 - 1),
	             X509_STATUS_NOT_YET_VALID);
	cr_expect_eq(validate_fixtures("root.pem", chain, 2, "mx1.example.net", T_2025_01_01),
	             X509_STATUS_OK);
	cr_expect_eq(validate_fixtures("root.pem", chain, 2, "mx1.example.net", T_2030_01_01),
	             X509_STATUS_OK);
	cr_expect_eq(validate_fixtures("root.pem", chain, 2, "mx1.example.net", T_2035_01_01 - 1),
	             X509_STATUS_OK);
	cr_expect_eq(validate_fixtures("root.pem", chain, 2, "mx1.example.net", T_2036_01_01),
	             X509_STATUS_EXPIRED);
}

Test(x509_validate, a_self_signed_leaf_is_self_signed)
{
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("selfsigned.der"), "mx1.example.net", T_2030_01_01),
	             X509_STATUS_SELF_SIGNED);
}

Test(x509_validate, an_untrusted_root_sent_in_the_chain_is_self_signed)
{
	cr_expect_eq(validate_fixtures("other-root.pem",
	                               CHAIN("leaf-rsa.der", "intermediate.der", "root.der"),
	                               "mx1.example.net", T_2030_01_01),
	             X509_STATUS_SELF_SIGNED);
}

Test(x509_validate, a_missing_intermediate_is_untrusted)
{
	cr_expect_eq(validate_fixtures("root.pem", CHAIN("leaf-rsa.der"), "mx1.example.net", T_2030_01_01),
	             X509_STATUS_UNTRUSTED);
}

Test(x509_validate, a_chain_to_an_unknown_root_is_untrusted)
{
	cr_expect_eq(validate_fixtures("other-root.pem", CHAIN("leaf-rsa.der", "intermediate.der"),
	                               "mx1.example.net", T_2030_01_01),
	             X509_STATUS_UNTRUSTED);
}

Test(x509_validate, an_intermediate_alone_is_no_trust_anchor)
{
	/* Partial chains are not allowed: trusting the intermediate is not enough. */
	cr_expect_eq(
	    validate_fixtures("intermediate.pem", CHAIN("leaf-rsa.der"), "mx1.example.net", T_2030_01_01),
	    X509_STATUS_UNTRUSTED);
}

Test(x509_validate, an_undecodable_certificate_makes_the_chain_untrusted)
{
	char err[256];
	struct x509_validator *v = x509_validator_new(fixture_path("root.pem"), err, sizeof err);
	cr_assert_not_null(v, "%s", err);
	struct blob leaf = fixture("leaf-rsa.der"), inter = fixture("intermediate.der");
	static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	const uint8_t *bad_leaf[] = {junk, inter.data};
	const size_t bad_leaf_lens[] = {sizeof junk, inter.len};
	cr_expect_eq(x509_validate(v, bad_leaf, bad_leaf_lens, 2, "mx1.example.net", T_2030_01_01),
	             X509_STATUS_UNTRUSTED);
	const uint8_t *bad_inter[] = {leaf.data, junk};
	const size_t bad_inter_lens[] = {leaf.len, sizeof junk};
	cr_expect_eq(x509_validate(v, bad_inter, bad_inter_lens, 2, "mx1.example.net", T_2030_01_01),
	             X509_STATUS_UNTRUSTED);
	free(leaf.data);
	free(inter.data);
	x509_validator_free(v);
}

Test(x509_validate, no_certificate_at_all_is_not_visible)
{
	char err[256];
	struct x509_validator *v = x509_validator_new(fixture_path("root.pem"), err, sizeof err);
	cr_assert_not_null(v, "%s", err);
	cr_expect_eq(x509_validate(v, NULL, NULL, 0, "mx1.example.net", T_2030_01_01),
	             X509_STATUS_NOT_VISIBLE);
	x509_validator_free(v);
}

Test(x509_validate, the_system_store_loads_and_does_not_trust_our_test_root)
{
	char err[256] = "";
	struct x509_validator *v = x509_validator_new(NULL, err, sizeof err);
	cr_assert_not_null(v, "%s", err);
	struct blob leaf = fixture("leaf-rsa.der"), inter = fixture("intermediate.der");
	const uint8_t *chain[] = {leaf.data, inter.data};
	const size_t lens[] = {leaf.len, inter.len};
	cr_expect_eq(x509_validate(v, chain, lens, 2, "mx1.example.net", T_2030_01_01),
	             X509_STATUS_UNTRUSTED);
	free(leaf.data);
	free(inter.data);
	x509_validator_free(v);
}

Test(x509_validate, a_ca_file_that_cannot_be_loaded_gives_null_and_a_message)
{
	char err[256] = "";
	cr_expect_null(x509_validator_new("/nonexistent/ca.pem", err, sizeof err));
	cr_expect_neq(err[0], '\0');
	cr_expect_not_null(strstr(err, "/nonexistent/ca.pem"), "%s", err);
	err[0] = '\0';
	/* A file with no certificate in it is no bundle either. */
	cr_expect_null(x509_validator_new(fixture_path("make-certs.sh"), err, sizeof err));
	cr_expect_neq(err[0], '\0');
	x509_validator_free(NULL);
}

Test(x509_validate, every_status_has_a_name)
{
	cr_expect_str_eq(x509_status_str(X509_STATUS_OK), "ok");
	cr_expect_str_eq(x509_status_str(X509_STATUS_EXPIRED), "expired");
	cr_expect_str_eq(x509_status_str(X509_STATUS_NOT_YET_VALID), "not_yet_valid");
	cr_expect_str_eq(x509_status_str(X509_STATUS_SELF_SIGNED), "self_signed");
	cr_expect_str_eq(x509_status_str(X509_STATUS_UNTRUSTED), "untrusted");
	cr_expect_str_eq(x509_status_str(X509_STATUS_HOST_MISMATCH), "host_mismatch");
	cr_expect_str_eq(x509_status_str(X509_STATUS_NOT_VISIBLE), "not_visible");
}

/* ---- the lab certificates of the shared corpus ---- */

static char lab_dir[4096];

static bool lab_present(void)
{
	const char *top = getenv("TLSOBS_SOURCE_DIR");
	snprintf(lab_dir, sizeof lab_dir, "%s/../shared/corpus/lab/certs", top ? top : ".");
	struct stat st;
	return stat(lab_dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A lab certificate (PEM) as DER. */
static struct blob lab_cert(const char *name)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", lab_dir, name);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s unreadable", path);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert_not_null(x, "%s is no PEM certificate", path);
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	cr_assert_gt(len, 0);
	struct blob b = {malloc((size_t)len), (size_t)len};
	memcpy(b.data, der, (size_t)len);
	OPENSSL_free(der);
	X509_free(x);
	return b;
}

static enum x509_status lab_validate(const char *leaf_name, const char *host, int64_t at)
{
	char ca[4200], err[256] = "";
	snprintf(ca, sizeof ca, "%s/root.crt", lab_dir);
	struct x509_validator *v = x509_validator_new(ca, err, sizeof err);
	cr_assert_not_null(v, "%s", err);
	struct blob leaf = lab_cert(leaf_name), issuing = lab_cert("issuing.crt");
	const uint8_t *chain[] = {leaf.data, issuing.data};
	const size_t lens[] = {leaf.len, issuing.len};
	enum x509_status s = x509_validate(v, chain, lens, 2, host, at);
	free(leaf.data);
	free(issuing.data);
	x509_validator_free(v);
	return s;
}

/* The middle of valid.crt's validity: the lab may re-issue its certificates, so no fixed date. */
static int64_t lab_time(void)
{
	struct blob b = lab_cert("valid.crt");
	struct x509_info i = parse_ok(b);
	free(b.data);
	cr_assert_lt(i.not_before, i.not_after);
	return i.not_before + (i.not_after - i.not_before) / 2;
}

Test(x509_lab, the_lab_server_certificate_is_ok_for_mx1_inside_its_validity)
{
	if (!lab_present())
		cr_skip_test("no lab corpus at %s", lab_dir);
	struct blob b = lab_cert("valid.crt");
	struct x509_info i = parse_ok(b);
	cr_expect_str_eq(i.subject_cn, "mx1.example.net");
	cr_expect_str_eq(i.issuer_cn, "Example Net Lab Issuing CA");
	assert_info_safe(&i);
	free(b.data);
	cr_expect_eq(lab_validate("valid.crt", "mx1.example.net", lab_time()), X509_STATUS_OK);
}

Test(x509_lab, the_lab_expired_certificate_is_expired)
{
	if (!lab_present())
		cr_skip_test("no lab corpus at %s", lab_dir);
	cr_expect_eq(lab_validate("expired.crt", "mx1.example.net", lab_time()), X509_STATUS_EXPIRED);
}

Test(x509_lab, the_lab_self_signed_certificate_is_self_signed)
{
	if (!lab_present())
		cr_skip_test("no lab corpus at %s", lab_dir);
	cr_expect_eq(lab_validate("selfsigned.crt", "mx1.example.net", lab_time()), X509_STATUS_SELF_SIGNED);
}

Test(x509_lab, the_lab_wrong_host_certificate_is_a_host_mismatch_for_mx1)
{
	if (!lab_present())
		cr_skip_test("no lab corpus at %s", lab_dir);
	cr_expect_eq(lab_validate("wronghost.crt", "mx1.example.net", lab_time()), X509_STATUS_HOST_MISMATCH);
}
