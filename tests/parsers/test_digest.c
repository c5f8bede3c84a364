/*
 * test_digest.c: the hash adapter against published test vectors
 * (RFC 1321 A.5 for MD5, FIPS 180-2 appendices / NIST examples for SHA-1 and SHA-256).
 */
#include "parsers/digest.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(digest, md5_of_the_rfc_1321_vectors_is_lowercase_hex)
{
	char out[33];
	digest_md5_hex("", 0, out);
	cr_expect_str_eq(out, "d41d8cd98f00b204e9800998ecf8427e");
	digest_md5_hex("abc", 3, out);
	cr_expect_str_eq(out, "900150983cd24fb0d6963f7d28e17f72");
	digest_md5_hex("message digest", 14, out);
	cr_expect_str_eq(out, "f96b697d7cb7938d525a2f31aaf161d0");
}

Test(digest, sha1_of_abc_in_either_case)
{
	char out[41];
	digest_sha1_hex("abc", 3, out, false);
	cr_expect_str_eq(out, "a9993e364706816aba3e25717850c26c9cd0d89d");
	digest_sha1_hex("abc", 3, out, true);
	cr_expect_str_eq(out, "A9993E364706816ABA3E25717850C26C9CD0D89D");
}

Test(digest, sha256_of_the_fips_vectors_in_either_case)
{
	char out[65];
	digest_sha256_hex("abc", 3, out, false);
	cr_expect_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest_sha256_hex("abc", 3, out, true);
	cr_expect_str_eq(out, "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
	static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	digest_sha256_hex(two_blocks, sizeof two_blocks - 1, out, false);
	cr_expect_str_eq(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	char *million_a = malloc(1000000);
	memset(million_a, 'a', 1000000);
	digest_sha256_hex(million_a, 1000000, out, false);
	cr_expect_str_eq(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million_a);
}

Test(digest, no_data_hashes_as_the_empty_string)
{
	char md5[33], sha1[41], sha256[65];
	digest_md5_hex(NULL, 0, md5);
	digest_sha1_hex(NULL, 0, sha1, false);
	digest_sha256_hex(NULL, 0, sha256, false);
	cr_expect_str_eq(md5, "d41d8cd98f00b204e9800998ecf8427e");
	cr_expect_str_eq(sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	cr_expect_str_eq(sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
