/*
 * tls_fingerprint.h: client and server fingerprints computed from a
 * tls_observation (nothing is re-read from the wire).
 *
 * JA3 (Salesforce): "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats",
 * decimal values joined by '-', GREASE (RFC 8701) left out, then its MD5.
 * JA3S: "SSLVersion,Cipher,Extensions" of the ServerHello, then its MD5.
 * JA4 (FoxIO, technical_details/JA4.md; BSD-3-Clause like JA4 itself):
 * t<version><d|i><ciphers><extensions><alpn>_<sha256/12 of sorted ciphers>_<sha256/12 of
 * sorted extensions without SNI and ALPN, '_', signature algorithms in order>;
 * JA4_r is the same with the lists instead of their hashes.
 * JA4S (technical_details/JA4S.md) is under the FoxIO License 1.1: built only
 * with -DTLSOBS_JA4_FOXIO=ON. t<version><extension count><alpn>_<cipher hex>_<sha256/12
 * of the extensions in order>. It is taken of the ServerHello that was accepted: after
 * a HelloRetryRequest the FoxIO tool fingerprints the HRR, we the real ServerHello.
 * JA4X (same licence) is in x509.h.
 *
 * Each function returns false (and writes "") when the hello it needs was not
 * seen, or was an SSLv2-format hello (no fingerprint is defined for those).
 * Every fingerprint is over the whole hello, whatever the number of suites,
 * extensions or groups (tls_observation.fp keeps them all; only the lists
 * written into events are capped). The JA3/JA3S strings handed out are cut at
 * TLS_JA3_STRING_MAX - 1 characters, one past the event writer's 4 KiB string
 * cap, so a cut one is counted in tlsobs.truncated.strings; the hashes are
 * always of the whole string.
 */
#ifndef TLSOBS_TLS_FINGERPRINT_H
#define TLSOBS_TLS_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>

#include "parsers/tls.h"

enum {
	TLS_JA3_STRING_MAX = 4098, /* 4097 characters and a NUL: longer strings are cut (see above) */
	TLS_JA3_HASH_LEN = 32,     /* MD5, lowercase hex */
	TLS_JA4_LEN = 36,          /* t13d1516h2_8daaf6152771_e5627efa2ab1 */
	TLS_JA4_R_MAX = 2048,
};

bool tls_ja3_string(const struct tls_observation *o, char out[TLS_JA3_STRING_MAX]);
bool tls_ja3(const struct tls_observation *o, char out[TLS_JA3_HASH_LEN + 1]);
bool tls_ja3s_string(const struct tls_observation *o, char out[TLS_JA3_STRING_MAX]);
bool tls_ja3s(const struct tls_observation *o, char out[TLS_JA3_HASH_LEN + 1]);
/* tls_ja3_string() and tls_ja3() (tls_ja3s_string() and tls_ja3s()) from one build of the string. */
bool tls_ja3_both(const struct tls_observation *o, char string[TLS_JA3_STRING_MAX],
                  char hash[TLS_JA3_HASH_LEN + 1]);
bool tls_ja3s_both(const struct tls_observation *o, char string[TLS_JA3_STRING_MAX],
                   char hash[TLS_JA3_HASH_LEN + 1]);
bool tls_ja4(const struct tls_observation *o, char out[TLS_JA4_LEN + 1]);
bool tls_ja4_r(const struct tls_observation *o, char out[TLS_JA4_R_MAX]);

#ifdef TLSOBS_JA4_FOXIO
enum { TLS_JA4S_LEN = 25 }; /* t120400_c030_4e8089b08790 */
bool tls_ja4s(const struct tls_observation *o, char out[TLS_JA4S_LEN + 1]);
#endif

#endif
