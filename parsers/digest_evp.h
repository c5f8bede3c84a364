/*
 * digest_evp.h: the digest implementations parsers/digest.c fetched once, for the other OpenSSL adapter
 * (parsers/x509.c) that hashes with an EVP_MD_CTX of its own.
 *
 * Borrowed, never freed by the caller, valid until OpenSSL's cleanup at exit; NULL when the provider lacks
 * the hash. Safe from any thread (fetched under pthread_once).
 */
#ifndef TLSOBS_DIGEST_EVP_H
#define TLSOBS_DIGEST_EVP_H

#include <openssl/evp.h>

const EVP_MD *digest_evp_md5(void);
const EVP_MD *digest_evp_sha1(void);
const EVP_MD *digest_evp_sha256(void);
const EVP_MD *digest_evp_sha512(void);

#endif
