/*
 * digest.c: MD5 (RFC 1321), SHA-1, SHA-256 and SHA-512 (FIPS 180-4) via EVP_Digest.
 *
 * The OpenSSL adapter for plain hashes, so the TLS code that computes JA3 and
 * fingerprints does not include OpenSSL headers.
 */
#include "parsers/digest.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

/* Hashes data with md and writes the hex of the digest (md_size bytes) into out[2 * md_size + 1]. */
static void digest_hex(const EVP_MD *md, size_t md_size, const void *data, size_t len, char *out, bool upper)
{
	static const char lower_digits[] = "0123456789abcdef", upper_digits[] = "0123456789ABCDEF";
	const char *digits = upper ? upper_digits : lower_digits;
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hash_len = 0;
	static const unsigned char nothing[1];

	out[0] = '\0';
	if (md == NULL || EVP_Digest(data ? data : nothing, len, hash, &hash_len, md, NULL) != 1 ||
	    hash_len != md_size) {
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
	digest_hex(EVP_md5(), 16, data, len, out, false);
}

void digest_sha1_hex(const void *data, size_t len, char out[41], bool upper)
{
	digest_hex(EVP_sha1(), 20, data, len, out, upper);
}

void digest_sha256_hex(const void *data, size_t len, char out[65], bool upper)
{
	digest_hex(EVP_sha256(), 32, data, len, out, upper);
}

void digest_sha512_hex(const void *data, size_t len, char out[129], bool upper)
{
	digest_hex(EVP_sha512(), 64, data, len, out, upper);
}

int digest_sha1_raw(const void *data, size_t len, uint8_t out[20])
{
	static const unsigned char nothing[1];
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hash_len = 0;

	memset(out, 0, 20);
	if (EVP_Digest(data ? data : nothing, len, hash, &hash_len, EVP_sha1(), NULL) != 1 ||
	    hash_len != 20) {
		ERR_clear_error();
		return -1;
	}
	memcpy(out, hash, 20);
	return 0;
}
