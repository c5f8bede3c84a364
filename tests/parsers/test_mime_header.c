/*
 * test_mime_header.c: the top-level Content-Type scan (parsers/mime_header.h): what each
 * S/MIME and OpenPGP content type counts as, folded and odd headers, the scan cap, and the same
 * result whether the header comes whole, byte by byte, at random cuts or cut short anywhere.
 */
#include "parsers/mime_header.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static enum mime_protection ct(const char *value)
{
	return mime_content_type_protection(value, strlen(value));
}

Test(mime_content_type, smime_types_by_their_smime_type_parameter)
{
	cr_assert_eq(ct("application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m"),
	             MIME_SMIME_ENCRYPTED);
	cr_assert_eq(ct("application/pkcs7-mime; smime-type=authEnveloped-data"), MIME_SMIME_ENCRYPTED);
	cr_assert_eq(ct("Application/X-PKCS7-MIME"), MIME_SMIME_ENCRYPTED,
	             "no smime-type: enveloped (RFC 8551 3.2.2)");
	cr_assert_eq(ct("application/pkcs7-mime; smime-type=\"signed-data\""), MIME_SMIME_SIGNED);
	cr_assert_eq(ct("application/pkcs7-mime; smime-type=certs-only"), MIME_UNPROTECTED);
	cr_assert_eq(ct("application/pkcs7-mime;smime-type=compressed-data"), MIME_UNPROTECTED);
}

Test(mime_content_type, multipart_signed_and_encrypted_by_their_protocol)
{
	cr_assert_eq(
	    ct("multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=b"),
	    MIME_SMIME_SIGNED);
	cr_assert_eq(ct("multipart/signed; micalg=sha1; protocol=\"application/x-pkcs7-signature\""),
	             MIME_SMIME_SIGNED);
	cr_assert_eq(ct("multipart/signed; boundary=\"x;y\"; protocol=\"application/pgp-signature\""),
	             MIME_PGP_SIGNED);
	cr_assert_eq(ct("multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=z"),
	             MIME_PGP_ENCRYPTED);
	cr_assert_eq(ct("MULTIPART/ENCRYPTED; PROTOCOL=application/pgp-encrypted"), MIME_PGP_ENCRYPTED);
	cr_assert_eq(ct("multipart/encrypted; protocol=\"application/pkcs7-mime\""), MIME_UNPROTECTED);
	cr_assert_eq(ct("multipart/signed"), MIME_UNPROTECTED, "no protocol: nothing known is signed");
}

Test(mime_content_type, everything_else_is_unprotected)
{
	cr_assert_eq(ct("text/plain; charset=utf-8"), MIME_UNPROTECTED);
	cr_assert_eq(ct("multipart/mixed; boundary=\"protocol=application/pgp-signature\""),
	             MIME_UNPROTECTED);
	cr_assert_eq(ct(""), MIME_UNPROTECTED);
	cr_assert_eq(ct("application"), MIME_UNPROTECTED);
	cr_assert_eq(ct("multipart/signed; protocol=\"application/pgp-signature"), MIME_PGP_SIGNED,
	             "unclosed quote");
}

static const char *const header_pgp =
    "Received: from client.example.org (client.example.org [203.0.113.7])\r\n"
    "\tby mx1.example.net (Postfix) with ESMTP id 4ABC\r\n"
    "From: Alice <alice@example.org>\r\n"
    "Subject: Content-Type: text/plain is not a header here\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/signed; micalg=pgp-sha256;\r\n"
    " protocol=\"application/pgp-signature\";\r\n"
    "\tboundary=\"sig\"\r\n"
    "Content-type: text/plain\r\n"
    "\r\n"
    "--sig\r\nContent-Type: application/pkcs7-mime\r\n\r\nbody-sentinel\r\n";

static enum mime_protection scan(const char *text, size_t len)
{
	struct mime_header_scan s;
	mime_header_scan_reset(&s);
	mime_header_scan_feed(&s, (const uint8_t *)text, len);
	return mime_header_scan_result(&s);
}

Test(mime_header, the_first_content_type_with_its_folded_lines_counts_and_the_body_is_never_read)
{
	struct mime_header_scan s;
	mime_header_scan_reset(&s);
	mime_header_scan_feed(&s, (const uint8_t *)header_pgp, strlen(header_pgp));
	cr_assert_eq(mime_header_scan_result(&s), MIME_PGP_SIGNED);
	cr_assert_eq(s.state, MIME_DONE);
	cr_assert_null(memmem(s.value, sizeof s.value, "body-sentinel", 13));
	cr_assert_lt(s.scanned, strlen(header_pgp) - 40, "stops at the empty line");
}

Test(mime_header, no_content_type_or_a_bare_lf_header_reads_right)
{
	cr_assert_eq(scan("Subject: hi\r\n\r\nContent-Type: application/pkcs7-mime\r\n", 52),
	             MIME_UNPROTECTED);
	const char *lf =
	    "Subject: hi\nContent-Type: application/pkcs7-mime; smime-type=signed-data\n\nbody\n";
	cr_assert_eq(scan(lf, strlen(lf)), MIME_SMIME_SIGNED);
	const char *last =
	    "Content-Type: application/pkcs7-mime"; /* header cut short: what was read counts */
	cr_assert_eq(scan(last, strlen(last)), MIME_SMIME_ENCRYPTED);
}

Test(mime_header, the_scan_stops_at_its_cap_and_a_long_value_is_cut)
{
	size_t n = MIME_HEADER_SCAN_MAX + 4096;
	char *big = malloc(n + 64);
	cr_assert_not_null(big);
	for (size_t i = 0; i < n; i += 64)
		memcpy(big + i, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 64);
	memcpy(big + n, "Content-Type: application/pkcs7-mime\r\n\r\n", 40);
	struct mime_header_scan s;
	mime_header_scan_reset(&s);
	mime_header_scan_feed(&s, (const uint8_t *)big, n + 40);
	cr_assert(s.capped);
	cr_assert_eq(s.scanned, MIME_HEADER_SCAN_MAX);
	cr_assert_eq(mime_header_scan_result(&s), MIME_UNPROTECTED, "past the cap: not looked at");
	memcpy(big, "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; x=", 73);
	memset(big + 73, 'y', 4000);
	memcpy(big + 4073, "\r\n\r\n", 4);
	mime_header_scan_reset(&s);
	mime_header_scan_feed(&s, (const uint8_t *)big, 4077);
	cr_assert(s.cut);
	cr_assert_eq(mime_header_scan_result(&s), MIME_PGP_SIGNED, "the protocol came before the cut");
	free(big);
}

static void feed_cut(struct mime_header_scan *s, const char *text, size_t len, int mode, uint64_t *seed)
{
	mime_header_scan_reset(s);
	for (size_t off = 0; off < len;) {
		size_t n = mode == 0 ? len - off : mode == 1 ? 1 : 1 + test_rand(seed) % 17;
		if (n > len - off)
			n = len - off;
		uint8_t *copy = malloc(n); /* exact size: ASan sees a read past it */
		memcpy(copy, text + off, n);
		mime_header_scan_feed(s, copy, n);
		free(copy);
		off += n;
	}
}

Test(mime_header, split_feed_gives_the_same_scan_whole_byte_by_byte_and_at_random_cuts)
{
	const char *texts[] = {header_pgp,
	                       "Content-Type: application/pkcs7-mime;\r\n smime-type=signed-data\r\n\r\n",
	                       "A: b\r\n\r\n", "\r\nContent-Type: application/pkcs7-mime\r\n"};
	uint64_t seed = 42;
	for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
		struct mime_header_scan whole, other;
		feed_cut(&whole, texts[t], strlen(texts[t]), 0, &seed);
		for (int mode = 1; mode <= 2; mode++)
			for (int round = 0; round < 20; round++) {
				feed_cut(&other, texts[t], strlen(texts[t]), mode, &seed);
				cr_assert_eq(mime_header_scan_result(&other), mime_header_scan_result(&whole),
				             "text %zu", t);
				cr_assert_eq(other.scanned, whole.scanned, "text %zu mode %d", t, mode);
				cr_assert_eq(other.value_len, whole.value_len);
				cr_assert_eq(memcmp(other.value, whole.value, whole.value_len), 0);
			}
	}
}

Test(mime_header, every_prefix_is_scanned_without_reading_past_it)
{
	size_t len = strlen(header_pgp);
	for (size_t n = 0; n <= len; n++) {
		struct mime_header_scan s;
		uint64_t seed = n;
		feed_cut(&s, header_pgp, n, 2, &seed);
		enum mime_protection r = mime_header_scan_result(&s);
		cr_assert(r == MIME_UNPROTECTED || r == MIME_PGP_SIGNED, "prefix %zu", n);
		cr_assert_leq(s.value_len, sizeof s.value - 1);
	}
}
