/*
 * digest.c: MD5 (RFC 1321), SHA-1, SHA-256 and SHA-512 (FIPS 180-4) via EVP_Digest.
 *
 * The OpenSSL adapter for plain hashes, so the TLS code that computes JA3 and
 * fingerprints does not include OpenSSL headers.
 *
 * Owns the four digest implementations, fetched once (EVP_MD_fetch) on first
 * use under pthread_once and read-only after that, so any thread may hash. The
 * legacy EVP_sha256() & co. would make OpenSSL 3 fetch the implementation again
 * on every EVP_Digest: a property query under its store lock per call (7% of the
 * sensor's time on bench/throughput.sh's capture, issue 15). They are released
 * at OpenSSL's own cleanup (OPENSSL_atexit).
 */
#include "parsers/digest.h"
#include "parsers/digest_evp.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

static pthread_once_t digest_once = PTHREAD_ONCE_INIT;
static EVP_MD *digest_md5, *digest_sha1, *digest_sha256, *digest_sha512; /* written once, under digest_once */

static void digest_release(void)
{
	EVP_MD_free(digest_md5);
	EVP_MD_free(digest_sha1);
	EVP_MD_free(digest_sha256);
	EVP_MD_free(digest_sha512);
	digest_md5 = digest_sha1 = digest_sha256 = digest_sha512 = NULL;
}

/* A hash the provider lacks (MD5 under FIPS) stays NULL: its callers write the empty string. */
static void digest_fetch(void)
{
	digest_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	digest_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	digest_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	digest_sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
	ERR_clear_error();
	if (OPENSSL_atexit(digest_release) != 1)
		ERR_clear_error(); /* kept until exit then: still reachable, never a leak */
}

const EVP_MD *digest_evp_md5(void)
{
	pthread_once(&digest_once, digest_fetch);
	return digest_md5;
}

const EVP_MD *digest_evp_sha1(void)
{
	pthread_once(&digest_once, digest_fetch);
	return digest_sha1;
}

const EVP_MD *digest_evp_sha256(void)
{
	pthread_once(&digest_once, digest_fetch);
	return digest_sha256;
}

const EVP_MD *digest_evp_sha512(void)
{
	pthread_once(&digest_once, digest_fetch);
	return digest_sha512;
}

/*
 * The last short inputs hashed by this thread and their digests: the same
 * fingerprint strings (JA3, JA4's lists: a few client and server stacks) and a
 * flow's Community ID input (its session event, then its alerts) come back again
 * and again, and EVP_Digest costs a context, its provider state and the hash.
 * Direct-mapped; an input is found only by comparing it whole. Per thread, so
 * no lock and nothing on the heap.
 */
enum { MEMO_SLOTS = 16, MEMO_INPUT_MAX = 512, MEMO_LARGE_SLOTS = 4, MEMO_LARGE_MAX = 2048 };
struct digest_memo_slot {
	const EVP_MD *md; /* NULL: empty */
	uint16_t len;
	uint8_t hash_len;
	uint8_t hash[EVP_MAX_MD_SIZE];
};
/* Short inputs, and a few up to 2 KiB: the DER certificates of the chains a session shows (their SHA-256s
 * key the certificate cache), which the fingerprints' strings would push out of one table. */
static _Thread_local struct digest_memo_slot memo_small[MEMO_SLOTS], memo_large[MEMO_LARGE_SLOTS];
static _Thread_local uint8_t memo_small_data[MEMO_SLOTS][MEMO_INPUT_MAX];
static _Thread_local uint8_t memo_large_data[MEMO_LARGE_SLOTS][MEMO_LARGE_MAX];

/* The slot for this input (its bytes in *data), or NULL when it is too long to keep. */
static struct digest_memo_slot *memo_slot(const EVP_MD *md, const uint8_t *d, size_t len, uint8_t **data)
{
	if (len > MEMO_LARGE_MAX)
		return NULL;
	uint64_t h = (uint64_t)len * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)md;
	for (size_t i = 0; i < len; i += len / 8 + 1) /* up to 8 bytes spread over the input */
		h = (h ^ d[i]) * 0x100000001b3ull;
	h >>= 29;
	if (len <= MEMO_INPUT_MAX) {
		*data = memo_small_data[h % MEMO_SLOTS];
		return &memo_small[h % MEMO_SLOTS];
	}
	*data = memo_large_data[h % MEMO_LARGE_SLOTS];
	return &memo_large[h % MEMO_LARGE_SLOTS];
}

/* EVP_Digest through the memo; false when OpenSSL failed. hash holds EVP_MAX_MD_SIZE. */
static bool digest_memo_run(const EVP_MD *md, const void *data, size_t len, unsigned char *hash,
                            unsigned int *hash_len)
{
	static const unsigned char nothing[1];
	const uint8_t *d = data ? data : nothing;
	uint8_t *kept = NULL;
	struct digest_memo_slot *m = memo_slot(md, d, len, &kept);
	if (m && m->md == md && m->len == len && memcmp(kept, d, len) == 0) {
		memcpy(hash, m->hash, m->hash_len);
		*hash_len = m->hash_len;
		return true;
	}
	if (EVP_Digest(d, len, hash, hash_len, md, NULL) != 1)
		return false;
	if (m && *hash_len <= sizeof m->hash) {
		m->md = md;
		m->len = (uint16_t)len;
		m->hash_len = (uint8_t)*hash_len;
		memcpy(m->hash, hash, *hash_len);
		memcpy(kept, d, len);
	}
	return true;
}

/* Hashes data with md and writes the hex of the digest (md_size bytes) into out[2 * md_size + 1]. */
static void digest_hex(const EVP_MD *md, size_t md_size, const void *data, size_t len, char *out, bool upper)
{
	static const char lower_digits[] = "0123456789abcdef", upper_digits[] = "0123456789ABCDEF";
	const char *digits = upper ? upper_digits : lower_digits;
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hash_len = 0;

	out[0] = '\0';
	if (md == NULL || !digest_memo_run(md, data, len, hash, &hash_len) || hash_len != md_size) {
		ERR_clear_error();
		return;
	}
	for (size_t i = 0; i < md_size; i++) {
		out[2 * i] = digits[hash[i] >> 4];
		out[2 * i + 1] = digits[hash[i] & 0x0f];
	}
	out[2 * md_size] = '\0';
}

void digest_md5_hex(const void *data, size_t len, char out[33])
{
	digest_hex(digest_evp_md5(), 16, data, len, out, false);
}

void digest_sha1_hex(const void *data, size_t len, char out[41], bool upper)
{
	digest_hex(digest_evp_sha1(), 20, data, len, out, upper);
}

void digest_sha256_hex(const void *data, size_t len, char out[65], bool upper)
{
	digest_hex(digest_evp_sha256(), 32, data, len, out, upper);
}

void digest_sha512_hex(const void *data, size_t len, char out[129], bool upper)
{
	digest_hex(digest_evp_sha512(), 64, data, len, out, upper);
}

int digest_sha1_raw(const void *data, size_t len, uint8_t out[20])
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hash_len = 0;

	memset(out, 0, 20);
	const EVP_MD *md = digest_evp_sha1();
	if (md == NULL || !digest_memo_run(md, data, len, hash, &hash_len) || hash_len != 20) {
		ERR_clear_error();
		return -1;
	}
	memcpy(out, hash, 20);
	return 0;
}
