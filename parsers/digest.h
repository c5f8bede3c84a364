/*
 * digest.h: the hashes TLS fingerprints need, as hex strings, through OpenSSL.
 *
 * MD5 for JA3 (lowercase by its definition), SHA-1 and SHA-256 for certificate
 * and key fingerprints (uppercase, as `openssl x509 -fingerprint` prints them,
 * or lowercase), SHA-512 for DANE matching type 2 (RFC 6698 2.1.3). `data` may be NULL when `len` is 0.
 * Should the hash be unavailable (a FIPS-only OpenSSL has no MD5), `out` is the empty string.
 */
#ifndef TLSOBS_DIGEST_H
#define TLSOBS_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void digest_md5_hex(const void *data, size_t len, char out[33]);
void digest_sha1_hex(const void *data, size_t len, char out[41], bool upper);
void digest_sha256_hex(const void *data, size_t len, char out[65], bool upper);
void digest_sha512_hex(const void *data, size_t len, char out[129], bool upper);
/* The 20 raw bytes of the SHA-1 (Community ID hashes them); 0, or -1 when SHA-1 is unavailable (out zeroed).
 */
int digest_sha1_raw(const void *data, size_t len, uint8_t out[20]);

#endif
