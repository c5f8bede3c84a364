/*
 * test_digest.c: the hash adapter against published test vectors
 * (RFC 1321 A.5 for MD5, FIPS 180-2 appendices / NIST examples for SHA-1 and SHA-256).
 */
#include "parsers/digest.h"
#include "parsers/digest_evp.h"

#include <pthread.h>

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

/* The implementations are fetched once, by whichever thread hashes first: every thread gets the same answers.
 */
struct digest_worker {
	pthread_t thread;
	int wrong;
};

static void *digest_worker_run(void *arg)
{
	struct digest_worker *w = arg;
	for (int i = 0; i < 200; i++) {
		char md5[33], sha1[41], sha256[65];
		uint8_t raw[20];
		digest_md5_hex("abc", 3, md5);
		digest_sha1_hex("abc", 3, sha1, false);
		digest_sha256_hex("abc", 3, sha256, false);
		w->wrong += strcmp(md5, "900150983cd24fb0d6963f7d28e17f72") != 0;
		w->wrong += strcmp(sha1, "a9993e364706816aba3e25717850c26c9cd0d89d") != 0;
		w->wrong +=
		    strcmp(sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") != 0;
		w->wrong += digest_sha1_raw("abc", 3, raw) != 0 || raw[0] != 0xa9 || raw[19] != 0x9d;
	}
	return NULL;
}

Test(digest, threads_hashing_at_once_all_get_the_published_values)
{
	struct digest_worker workers[4] = {{0}};
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&workers[i].thread, NULL, digest_worker_run, &workers[i]), 0);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(pthread_join(workers[i].thread, NULL), 0);
		cr_expect_eq(workers[i].wrong, 0, "thread %d got %d wrong digests", i, workers[i].wrong);
	}
}

Test(digest, the_fetched_implementations_are_the_same_on_every_call)
{
	cr_assert_not_null(digest_evp_sha256());
	cr_expect_eq(digest_evp_sha256(), digest_evp_sha256());
	cr_expect_eq(digest_evp_sha1(), digest_evp_sha1());
	cr_expect_eq(digest_evp_sha512(), digest_evp_sha512());
	cr_expect_eq(EVP_MD_get_size(digest_evp_sha256()), 32);
	cr_expect_eq(EVP_MD_get_size(digest_evp_sha1()), 20);
	cr_expect_eq(EVP_MD_get_size(digest_evp_sha512()), 64);
}

/* The per-thread memo of short inputs (digest.c) gives what hashing afresh gives, whatever came before. */
Test(digest, repeated_and_nearly_equal_inputs_give_the_same_digests_in_any_order)
{
	enum { N = 300 };
	static char first[N][65], again[N][65], md5[N][33], md5_again[N][33];
	static uint8_t sha1[N][20], sha1_again[N][20];
	static uint8_t in[2700];
	for (size_t i = 0; i < N; i++) {
		size_t len = (i * 37) % 2600; /* short, certificate-sized and past what the memo keeps */
		for (size_t k = 0; k < len; k++)
			in[k] = (uint8_t)(k * 31 + i);
		digest_sha256_hex(in, len, first[i], false);
		digest_md5_hex(in, len, md5[i]);
		cr_assert_eq(digest_sha1_raw(in, len, sha1[i]), 0);
	}
	for (size_t i = N; i-- > 0;) {
		size_t len = (i * 37) % 2600;
		for (size_t k = 0; k < len; k++)
			in[k] = (uint8_t)(k * 31 + i);
		digest_sha256_hex(in, len, again[i], false);
		digest_md5_hex(in, len, md5_again[i]);
		cr_assert_eq(digest_sha1_raw(in, len, sha1_again[i]), 0);
		cr_assert_str_eq(again[i], first[i], "input %zu", i);
		cr_assert_str_eq(md5_again[i], md5[i], "input %zu", i);
		cr_assert_eq(memcmp(sha1_again[i], sha1[i], 20), 0, "input %zu", i);
	}
	/* Two inputs of one length that differ in one byte in the middle, one after the other. */
	char a[101], b[101], ha[65], hb[65], ha2[65];
	memset(a, 'x', 100), memset(b, 'x', 100);
	b[50] = 'y';
	digest_sha256_hex(a, 100, ha, false);
	digest_sha256_hex(b, 100, hb, false);
	digest_sha256_hex(a, 100, ha2, false);
	cr_assert_str_neq(ha, hb);
	cr_assert_str_eq(ha, ha2);
	digest_sha256_hex("abc", 3, ha, false);
	digest_sha256_hex("abc", 3, ha2, false);
	cr_assert_str_eq(ha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	cr_assert_str_eq(ha2, ha);
}
